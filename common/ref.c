/* ref.c - the mailto reference, in one place: its hash (over token_mac),
 * its text in the mailbox's local part ("local+REF@domain", REF_TEXT
 * base32 characters, any case on the way back), its registration in the
 * store's "refs" database (journaled: store_journal.c) and its lookup.
 * The store maps REF to the first token sealed for (address, list,
 * scope); a lookup keeps that token only when it opens and hashes back
 * to REF. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "codec.h"
#include "mailparse.h"
#include "ref.h"
#include "store.h"
#include "token.h"

int ref_make(const struct keyring *kr, uint32_t key_id,
    const struct token_claims *c, uint8_t ref[REF_LEN])
{
	uint8_t msg[ADDRESS_MAX + TOKEN_FIELD_MAX + 4];
	size_t alen = strlen(c->address), llen = strlen(c->list), off;

	if (alen > ADDRESS_MAX || llen > TOKEN_FIELD_MAX)
		return TOKEN_EFIELD;
	/* "address\0list\0" and '*' (every list) or '=' (this one) */
	memcpy(msg, c->address, alen + 1);
	off = alen + 1;
	memcpy(msg + off, c->list, llen + 1);
	off += llen + 1;
	msg[off++] = c->scope_all ? '*' : '=';
	return token_mac(kr, key_id, msg, off, ref, REF_LEN);
}

int ref_register(struct store *st, const struct keyring *kr,
    const struct token_claims *c, const uint8_t *tok, size_t len,
    uint8_t ref[REF_LEN], int *detail)
{
	uint8_t old[TOKEN_BIN_MAX];
	size_t oldlen;
	int rc;

	*detail = 0;
	if ((rc = ref_make(kr, c->key_id, c, ref)) != TOKEN_OK) {
		*detail = rc;
		return REF_ETOKEN;
	}
	rc = store_ref_get(st, ref, REF_LEN, old, sizeof(old), &oldlen);
	if (rc == STORE_ENOTFOUND)
		rc = store_ref_put(st, ref, REF_LEN, tok, len);
	if (rc != STORE_OK) {
		*detail = rc;
		return REF_ESTORE;
	}
	return REF_OK;
}

int ref_lookup(const struct keyring *kr, struct store *st,
    const uint8_t ref[REF_LEN], struct token_claims *c, int *detail)
{
	uint8_t bin[TOKEN_BIN_MAX], back[REF_LEN];
	size_t len;
	int rc;

	*detail = 0;
	rc = store_ref_get(st, ref, REF_LEN, bin, sizeof(bin), &len);
	/* this process may have minted it moments ago: its journal is
	 * committed within a commit's time (a failed commit: a tempfail) */
	if (rc == STORE_ENOTFOUND &&
	    (rc = store_ref_wait(st, ref, REF_LEN)) == STORE_OK)
		rc = store_ref_get(st, ref, REF_LEN, bin, sizeof(bin), &len);
	if (rc == STORE_ENOTFOUND)
		return REF_ENOTFOUND;
	if (rc != STORE_OK) {
		*detail = rc;
		return REF_ESTORE;
	}
	if (token_open(kr, bin, len, c) != TOKEN_OK ||
	    ref_make(kr, c->key_id, c, back) != TOKEN_OK ||
	    memcmp(back, ref, sizeof(back)) != 0)
		return REF_ENOTFOUND;
	return REF_OK;
}

int ref_address(const char *mailbox, const uint8_t ref[REF_LEN], char *out,
    size_t outsz)
{
	const char *at = strchr(mailbox, '@');
	char text[REF_TEXT + 1];
	int n;

	if (at == NULL ||
	    codec_b32_encode(ref, REF_LEN, text, sizeof(text)) < 0)
		return REF_ESPACE;
	n = snprintf(out, outsz, "%.*s+%s%s", (int)(at - mailbox), mailbox,
	    text, at);
	return n < 0 || (size_t)n >= outsz ? REF_ESPACE : n;
}

int ref_rcpt(const char *rcpt, const char *mailbox, uint8_t ref[REF_LEN])
{
	const char *at, *mat = strrchr(mailbox, '@');
	size_t len = strlen(rcpt), ml, ll;

	if (len >= 2 && rcpt[0] == '<' && rcpt[len - 1] == '>')
		rcpt++, len -= 2;
	if (mat == NULL || len == 0 ||
	    (at = memrchr(rcpt, '@', len)) == NULL)
		return 0;
	if ((size_t)(rcpt + len - at) != strlen(mat) ||
	    strncasecmp(at, mat, strlen(mat)) != 0)
		return 0;
	ml = (size_t)(mat - mailbox);
	ll = (size_t)(at - rcpt);
	if (ll < ml || strncasecmp(rcpt, mailbox, ml) != 0)
		return 0;
	if (ll == ml)
		return 1;
	if (ll == ml + 1 + REF_TEXT && rcpt[ml] == '+' &&
	    codec_b32_decode(rcpt + ml + 1, REF_TEXT, ref, REF_LEN) ==
	    REF_LEN)
		return 2;
	return 0;
}

int ref_mailto(const char *in, const char *mailbox, uint8_t ref[REF_LEN])
{
	char addr[ADDRESS_MAX + 1];
	const char *p = strcasestr(in, "mailto:");
	size_t n;

	p = p != NULL ? p + 7 : in + strspn(in, "<");
	n = strcspn(p, "?>, \t\n");
	if (mailbox[0] == '\0' || n == 0 || n > ADDRESS_MAX ||
	    mailparse_pct_decode(p, n, addr) == 0)
		return 0;
	return ref_rcpt(addr, mailbox, ref) == 2;
}

int ref_mailbox_fits(const char *mailbox)
{
	const char *at = strchr(mailbox, '@');

	return at != NULL && (size_t)(at - mailbox) + 1 + REF_TEXT <= 64;
}
