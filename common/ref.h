/* ref.h - the mailto reference: "LOCAL+REF@DOMAIN", REF a keyed hash of
 * (address, list, scope) that the store maps to the first sealed token
 * minted for them.  It survives clients that drop a mailto's subject and
 * body; see unsub-milter(8), "Token placement". */
#ifndef UNSUB_REF_H
#define UNSUB_REF_H

#include <stddef.h>
#include <stdint.h>

struct keyring;
struct store;
struct token_claims;

#define REF_LEN 15	/* bytes */
#define REF_TEXT 24	/* base32 characters */

enum {
	REF_OK = 0,
	REF_ENOTFOUND = -1,	/* no such reference, or one that does not
				 * verify */
	REF_ETOKEN = -2,	/* hashing failed: token_strerror(*detail) */
	REF_ESTORE = -3,	/* store_strerror(*detail) */
	REF_ESPACE = -4,	/* does not fit (or no mailbox to write) */
};

/* The reference of `c` under key `key_id`: TOKEN_OK or a TOKEN_E* code. */
int ref_make(const struct keyring *kr, uint32_t key_id,
    const struct token_claims *c, uint8_t ref[REF_LEN]);

/*
 * Make the reference of `c` (sealed as the `len` bytes of `tok`) and map it
 * to `tok` in the store, durably, unless it is there already: a reference
 * keeps naming the first token minted for its recipient, list and scope.
 * REF_OK with ref filled, REF_ETOKEN or REF_ESTORE.
 */
int ref_register(struct store *st, const struct keyring *kr,
    const struct token_claims *c, const uint8_t *tok, size_t len,
    uint8_t ref[REF_LEN], int *detail);

/* The token `ref` stands for: looked up in the store, opened with `kr`,
 * and kept only if it hashes back to `ref`.  REF_OK with *c filled,
 * REF_ENOTFOUND or REF_ESTORE. */
int ref_lookup(const struct keyring *kr, struct store *st,
    const uint8_t ref[REF_LEN], struct token_claims *c, int *detail);

/* Write "local+REF@domain" for `mailbox` "local@domain" (REF in lower
 * case); returns its length, or REF_ESPACE if it does not fit in outsz or
 * mailbox has no '@'. */
int ref_address(const char *mailbox, const uint8_t ref[REF_LEN], char *out,
    size_t outsz);

/*
 * Does envelope recipient `rcpt` (with or without <>) address the mailbox
 * `mailbox` ("local@domain")?  Returns 1 for the bare mailbox, 2 when it
 * also carries a reference "local+REF@domain" (REF in base32, any case),
 * written to `ref`; 0 when it is another address.  Domain and local part
 * compare case-insensitively.
 */
int ref_rcpt(const char *rcpt, const char *mailbox, uint8_t ref[REF_LEN]);

/* The reference in a mailto URL, address or List-Unsubscribe value
 * ("<mailto:unsub+REF%40...?subject=...>", percent-escapes decoded) to
 * `mailbox`; 1 with ref filled, else 0. */
int ref_mailto(const char *in, const char *mailbox, uint8_t ref[REF_LEN]);

/* Does `mailbox` leave room in its local part (64 octets, RFC 5321) for
 * "+REF"? */
int ref_mailbox_fits(const char *mailbox);

#endif
