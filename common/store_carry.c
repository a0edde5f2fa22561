/* store_carry.c - what a store from before the fleet holds, made this
 * host's events once, so that unsub-sync ships it to the others: each
 * suppression without merge state (written before "merge" existed)
 * becomes an unsubscribe at its since, with its source; each registry
 * entry of the first format a registry change older than any other
 * (time 1 us: a later change anywhere wins).  Applied as another host's
 * events are (store_mirror): here they change nothing but the history
 * and the feed, elsewhere they suppress as they did here.  Meta "carried"
 * says it was done, in the transaction of the last batch.  Exceptions to
 * "*" came with the fleet (no version had one without merge state): none
 * to carry. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

#define CARRY_BATCH 10000
#define CARRY_DETAIL "carried over from before the fleet"

/* What a batch gathers, and where the next one starts. */
struct carry {
	struct store_item *items;
	size_t n;
	uint8_t next[STORE_KEY_MAX];	/* the key after the last gathered */
	size_t nextlen;			/* 0: the walk is over */
};

/* The suppression at (k, v) into c's next item when it predates the
 * fleet: a scope key (not a history record or an exception) with no
 * merge state.  An LMDB code. */
static int carry_one(struct store *st, MDB_txn *txn, const MDB_val *k,
    const MDB_val *v, struct carry *c)
{
	const uint8_t *p = k->mv_data, *nul = memchr(p, '\0', k->mv_size), *sv;
	struct store_event *ev = &c->items[c->n].ev;
	size_t alen, slen;
	MDB_val m;
	int rc;

	if (nul == NULL || (alen = (size_t)(nul - p)) == 0 ||
	    alen > ADDRESS_MAX || (slen = k->mv_size - alen - 1) == 0 ||
	    slen > STORE_SCOPE_MAX || nul[1] == HIST_MARK ||
	    nul[1] == EXCEPT_MARK || v->mv_size != SUPP_VALUE_LEN ||
	    (sv = v->mv_data)[0] != SUPP_VERSION)
		return 0;	/* not a suppression */
	if ((rc = mdb_get(txn, st->merge, (MDB_val *)k, &m)) != MDB_NOTFOUND)
		return rc;	/* 0: made since the fleet, shipped already */
	memset(&c->items[c->n], 0, offsetof(struct store_item, tok));
	c->items[c->n].kind = STORE_KIND_CHANGE;
	memcpy(ev->address, p, alen);
	memcpy(ev->scope, nul + 1, slen);
	ev->action = STORE_UNSUBSCRIBE;
	/* what event_ok and the merge rule want of any event: a time, a
	 * source of this version (an unknown one was "manual" then too) */
	ev->time = store_get_u64(sv + 1);
	ev->time += ev->time == 0;
	ev->time_us = ev->time * 1000000;
	ev->source = sv[9] >= 1 && sv[9] <= STORE_SRC_LAST ?
	    (enum store_source)sv[9] : STORE_SRC_MANUAL;
	snprintf(ev->detail, sizeof(ev->detail), "%s", CARRY_DETAIL);
	store_uid_mint(ev->uid);
	snprintf(ev->host, sizeof(ev->host), "%s", st->host);
	c->n++;
	return 0;
}

/* Gather the next batch of suppressions from before the fleet, from
 * c->next on. */
static int gather(struct store *st, struct carry *c)
{
	MDB_txn *txn;
	MDB_cursor *cur = NULL;
	MDB_val k = { c->nextlen, c->next }, v;
	MDB_cursor_op op = c->nextlen ? MDB_SET_RANGE : MDB_FIRST;
	int rc = store_txn_begin(st, MDB_RDONLY, &txn), r;

	if (rc != STORE_OK)
		return rc;
	c->n = 0;
	c->nextlen = 0;
	if ((r = mdb_cursor_open(txn, st->supp, &cur)) == 0)
		while ((r = mdb_cursor_get(cur, &k, &v, op)) == 0) {
			op = MDB_NEXT;
			if (c->n == CARRY_BATCH) {
				if (k.mv_size > sizeof(c->next)) {
					r = MDB_CORRUPTED;	/* no such key */
					break;
				}
				memcpy(c->next, k.mv_data, k.mv_size);
				c->nextlen = k.mv_size;
				break;
			}
			if ((r = carry_one(st, txn, &k, &v, c)) != 0)
				break;
		}
	if (r != 0 && r != MDB_NOTFOUND)
		rc = store_lmdb_fail("carry over", r);
	mdb_cursor_close(cur);
	store_txn_end(st, txn);
	return rc;
}

int store_carry_over(struct store *st, size_t *supp, size_t *lists)
{
	struct store_meta done = { "carried", 1 };
	struct carry c = { .n = 0 };
	uint64_t v;
	size_t applied;
	int rc = store_meta_get(st, "carried", &v);

	*supp = *lists = 0;
	if (rc != STORE_ENOTFOUND)
		return rc;	/* STORE_OK: done before */
	if ((c.items = malloc(CARRY_BATCH * sizeof(*c.items))) == NULL) {
		snprintf(store_errbuf, sizeof(store_errbuf), "out of memory");
		return STORE_EIO;
	}
	do {
		if ((rc = gather(st, &c)) != STORE_OK ||
		    (rc = store_mirror(st, c.items, c.n, NULL, 0, &applied)) !=
		    STORE_OK)
			break;
		*supp += applied;
	} while (c.nextlen > 0);
	/* the registry's first-format entries, and the mark, last */
	if (rc == STORE_OK && (rc = store_lists_old(st, c.items, CARRY_BATCH,
	    &c.n)) == STORE_OK)
		rc = store_mirror(st, c.items, c.n, &done, 1, lists);
	free(c.items);
	return rc;
}
