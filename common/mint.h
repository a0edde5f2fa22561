/* mint.h - mint one recipient's token and List-Unsubscribe header value. */
#ifndef UNSUB_MINT_H
#define UNSUB_MINT_H

#include <stddef.h>

#include "config.h"
#include "keyring.h"
#include "store.h"
#include "token.h"

enum {
	MINT_OK = 0,
	MINT_ETOKEN = -1,	/* sealing failed: token_strerror has why */
	MINT_ESTORE = -2,	/* the mailto reference could not be stored */
	MINT_EHEADER = -3,	/* header does not fit */
	MINT_ENOTFOUND = -4,	/* no such reference, or one that does not
				 * verify */
};

/*
 * Seal `c` once, register its mailto reference in the store (if not there
 * yet) and write the List-Unsubscribe value to `lu`, folded with `fold`.
 * *detail gets the token or store error code for the caller's message.
 */
int mint_headers(const struct config *cfg, const struct keyring *kr,
    struct store *st, struct token_claims *c, const char *fold, char *lu,
    size_t lusz, int *detail);

/*
 * The token a mailto local-part reference stands for: looked up in the
 * store, opened with `kr`, and kept only if it hashes back to `ref`.
 * MINT_OK with *c filled, MINT_ENOTFOUND, or MINT_ESTORE with the store
 * error in *detail.
 */
int mint_ref_lookup(const struct keyring *kr, struct store *st,
    const uint8_t ref[TOKEN_REF_LEN], struct token_claims *c, int *detail);

#endif
