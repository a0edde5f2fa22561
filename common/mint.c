/* mint.c - one recipient's sealed token and List-Unsubscribe header. */
#include "codec.h"
#include "header.h"
#include "mint.h"
#include "ref.h"

int mint_headers(const struct config *cfg, const struct keyring *kr,
    struct store *st, struct token_claims *c, const char *fold, char *lu,
    size_t lusz, int *detail)
{
	uint8_t bin[TOKEN_BIN_MAX], ref[REF_LEN];
	char url_tok[TOKEN_TEXT_MAX], mail_tok[TOKEN_TEXT_MAX];
	char mailto[ADDRESS_MAX + REF_TEXT + 2] = "";
	int n;

	*detail = 0;
	if ((n = token_seal(kr, c, bin, sizeof(bin))) < 0) {
		*detail = n;
		return MINT_ETOKEN;
	}
	if (codec_b64u_encode(bin, (size_t)n, url_tok, sizeof(url_tok)) < 0 ||
	    codec_b32_encode(bin, (size_t)n, mail_tok, sizeof(mail_tok)) < 0)
		return MINT_EHEADER;
	if (cfg->mailbox[0] != '\0') {
		switch (ref_register(st, kr, c, bin, (size_t)n, ref, detail)) {
		case REF_OK:
			break;
		case REF_ESTORE:
			return MINT_ESTORE;
		default:
			return MINT_ETOKEN;
		}
		if (ref_address(cfg->mailbox, ref, mailto, sizeof(mailto)) < 0)
			return MINT_EHEADER;
	}
	if (header_list_unsubscribe(lu, lusz, fold, cfg->url, url_tok,
	    mailto, mail_tok) < 0)
		return MINT_EHEADER;
	return MINT_OK;
}
