/* mint.h - mint one recipient's token and List-Unsubscribe header value
 * (the outbound role only; the mailto reference is ref.h's). */
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
};

/*
 * Seal `c` once, have ref_register record its mailto reference in `st`
 * (when UnsubscribeMailbox is set) and write the List-Unsubscribe value to
 * `lu`, folded with `fold`.  *detail gets the token or store error code
 * for the caller's message.
 */
int mint_headers(const struct config *cfg, const struct keyring *kr,
    struct store *st, struct token_claims *c, const char *fold, char *lu,
    size_t lusz, int *detail);

#endif
