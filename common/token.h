/* token.h - sealed unsubscribe tokens (AES-256-GCM, versioned, key id). */
#ifndef UNSUB_TOKEN_H
#define UNSUB_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "address.h"
#include "keyring.h"

#define TOKEN_FIELD_MAX 64	/* list, profile and campaign ids */
#define TOKEN_BIN_MAX 512	/* sealed bytes, with room to spare */
#define TOKEN_TEXT_MAX 1024	/* either text encoding, NUL included */

struct token_claims {
	char address[ADDRESS_MAX + 1];	/* normalised recipient */
	char list[TOKEN_FIELD_MAX + 1];
	char profile[TOKEN_FIELD_MAX + 1];	/* "" when absent */
	char campaign[TOKEN_FIELD_MAX + 1];	/* "" when absent */
	int scope_all;			/* 1: every list; 0: this list */
	uint64_t issued;		/* Unix seconds */
	uint32_t key_id;		/* set by token_open and token_seal */
};

enum {
	TOKEN_OK = 0,
	TOKEN_EFORMAT = -1,	/* bad encoding, version or length */
	TOKEN_EKEY = -2,	/* key id not in the keyring */
	TOKEN_EAUTH = -3,	/* authentication failed: forged or altered */
	TOKEN_EFIELD = -4,	/* a claim is empty or too long */
	TOKEN_ESPACE = -5,	/* output buffer too small */
	TOKEN_ECRYPTO = -6,	/* OpenSSL failed; see the error text */
};

/* A list, profile or campaign id a token may carry: 1..TOKEN_FIELD_MAX
 * visible ASCII characters (0 allowed when not required), not "*", and
 * no comma: "news,weekly" is two lists to an operator, and commas
 * separate lists wherever lists are given (config, CSV). */
int token_id_ok(const char *s, int required);

/* Seal `c` with the newest key; returns bytes written or a TOKEN_E* code. */
int token_seal(const struct keyring *kr, struct token_claims *c,
    uint8_t *out, size_t outsz);
/* Verify and decrypt `len` bytes into `c`. */
int token_open(const struct keyring *kr, const uint8_t *in, size_t len,
    struct token_claims *c);

/* Seal and encode: base64url for the URL path, base32 for mail. */
int token_seal_url(const struct keyring *kr, struct token_claims *c,
    char *out, size_t outsz);
int token_seal_mail(const struct keyring *kr, struct token_claims *c,
    char *out, size_t outsz);
/* Decode text in either encoding and open it. */
int token_open_text(const struct keyring *kr, const char *text, size_t len,
    struct token_claims *c);

/*
 * HMAC-SHA256 of the `len` bytes of `msg` under a subkey of key `key_id`
 * (never the AES key itself), truncated to `outlen` bytes (at most 32).
 * The mailto reference (ref.h) is built on it.
 */
int token_mac(const struct keyring *kr, uint32_t key_id,
    const uint8_t *msg, size_t len, uint8_t *out, size_t outlen);

/* Last error text (OpenSSL queue drained into it), thread-local. */
const char *token_strerror(int err);

#endif
