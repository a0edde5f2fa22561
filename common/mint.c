/* mint.c - one recipient's sealed token, mailto reference and header. */
#include <string.h>

#include "codec.h"
#include "header.h"
#include "mint.h"

/* Store the reference -> token mapping unless it is already there. */
static int register_ref(struct store *st, const uint8_t ref[TOKEN_REF_LEN],
    const uint8_t *bin, size_t len)
{
	uint8_t old[TOKEN_BIN_MAX];
	size_t oldlen;
	int rc = store_ref_get(st, ref, old, sizeof(old), &oldlen);

	if (rc == STORE_ENOTFOUND)
		rc = store_ref_put(st, ref, bin, len);
	return rc;
}

int mint_headers(const struct config *cfg, const struct keyring *kr,
    struct store *st, struct token_claims *c, const char *fold, char *lu,
    size_t lusz, int *detail)
{
	uint8_t bin[TOKEN_BIN_MAX], ref[TOKEN_REF_LEN];
	char url_tok[TOKEN_TEXT_MAX], mail_tok[TOKEN_TEXT_MAX];
	char ref_text[TOKEN_REF_TEXT + 1] = "";
	int n, rc;

	*detail = 0;
	if ((n = token_seal(kr, c, bin, sizeof(bin))) < 0) {
		*detail = n;
		return MINT_ETOKEN;
	}
	if (codec_b64u_encode(bin, (size_t)n, url_tok, sizeof(url_tok)) < 0 ||
	    codec_b32_encode(bin, (size_t)n, mail_tok, sizeof(mail_tok)) < 0)
		return MINT_EHEADER;
	if (cfg->mailbox[0] != '\0') {
		if ((rc = token_ref(kr, c->key_id, c, ref)) != TOKEN_OK) {
			*detail = rc;
			return MINT_ETOKEN;
		}
		if ((rc = register_ref(st, ref, bin, (size_t)n)) != STORE_OK) {
			*detail = rc;
			return MINT_ESTORE;
		}
		codec_b32_encode(ref, sizeof(ref), ref_text, sizeof(ref_text));
	}
	if (header_list_unsubscribe(lu, lusz, fold, cfg->url, url_tok,
	    cfg->mailbox, ref_text, mail_tok) < 0)
		return MINT_EHEADER;
	return MINT_OK;
}

int mint_ref_lookup(const struct keyring *kr, struct store *st,
    const uint8_t ref[TOKEN_REF_LEN], struct token_claims *c, int *detail)
{
	uint8_t bin[TOKEN_BIN_MAX], back[TOKEN_REF_LEN];
	size_t len;
	int rc;

	*detail = 0;
	rc = store_ref_get(st, ref, bin, sizeof(bin), &len);
	if (rc == STORE_ENOTFOUND)
		return MINT_ENOTFOUND;
	if (rc != STORE_OK) {
		*detail = rc;
		return MINT_ESTORE;
	}
	if (token_open(kr, bin, len, c) != TOKEN_OK ||
	    token_ref(kr, c->key_id, c, back) != TOKEN_OK ||
	    memcmp(back, ref, sizeof(back)) != 0)
		return MINT_ENOTFOUND;
	return MINT_OK;
}
