/* store_int.h - what the pieces of the store share, private to them:
 * store_lmdb.c (the environment, transactions, the reader cache, map
 * growth), store_commit.c (group commit), store_rec.c (record encoding,
 * applying changes, queries) and store_names.c (name tables, detail).
 * Everything public is in store.h.
 *
 * The LMDB environment holds these named databases:
 *   "supp"  "address\0scope" -> version(1)=1 | since(8) | source(1);
 *           the key is there iff the address is suppressed for scope.
 *           After an address's scopes, its history (HIST_MARK below):
 *           "address\0\xff" + seq(8) ->
 *             version(1)=1 | time(8, seconds) | action(1) | source(1) |
 *               scope "\0" | detail                     (before the fleet)
 *             version(1)=2 | time(8, microseconds) | action(1) |
 *               source(1) | lifts(8) | uid(16) | host "\0" | scope "\0" |
 *               detail
 *   "hist"  the history as written before it moved into "supp" (read,
 *           never written): "address\0" + seq(8), version 1 value
 *   "refs"  mailto reference (ref.c) -> the sealed token it stands for
 *   "meta"  "seq" -> the last global sequence number(8); the fleet's
 *           "shipped" (the last seq unsub-sync has examined for shipping),
 *           "cursor" (its PostgreSQL snapshot cursor, an xid8), "boot"
 *           (1 once bootstrapped), "contact" (Unix seconds of the last
 *           exchange with PostgreSQL)
 *   "merge" "address\0scope" -> u(8) | r(8) | l(8): the merge rule's
 *           maxima (merge.h); absent for a scope suppressed before the
 *           fleet, whose u is then its since
 *   "events" seq(8) -> kind(1) | ...: every event in the order this store
 *           took it, the feed (store_events) and the outbox (this host's
 *           events past "shipped"): no copy of the history, and nothing
 *           more when unsub-sync is not running.
 *             STORE_KIND_CHANGE: address (its history record is
 *               "address\0\xff" + seq in "supp")
 *             STORE_KIND_REF: uid(16) | time(8, microseconds) | host
 *               "\0" | reference (its token is in "refs")
 *   "uids"  uid(16) -> seq(8): each event once, whatever replays it
 * Integers are big-endian.
 *
 * Every change is written with its history record, its "events" entry
 * and its uid in one transaction (store_apply, store_ref_apply): the
 * outbox is durable with the change or not at all.  A new kind of event
 * (the list registry: STORE_KIND_LIST) gets an "events" entry the same
 * way, in the transaction that changes the registry, with a format of its
 * own after the kind byte, and store_events and store_mirror learn it.
 */
#ifndef UNSUB_STORE_INT_H
#define UNSUB_STORE_INT_H

#include <pthread.h>
#include <stdint.h>

#include <lmdb.h>

#include "store.h"

#define STORE_DBS 7		/* named databases (mdb_env_set_maxdbs) */
#define SUPP_VERSION 1
#define HIST_VERSION 1	/* before the fleet: read only */
#define HIST_VERSION2 2
#define HIST_MARK 0xff	/* after "address\0": a history record; no scope
			 * starts with it (event_ok) */
#define STORE_ERR_MAX 512

/* A read-only transaction, with a cursor on "supp", kept reset between
 * reads: renewing it keeps its reader slot, where mdb_txn_begin would
 * take LMDB's reader-table lock, scan for a free slot and allocate. A
 * reset transaction pins no pages. */
struct store_reader {
	MDB_txn *txn;
	MDB_cursor *cur;
	struct store_reader *next;
};

struct store_pending;		/* one change queued for a group commit */

struct store {
	MDB_env *env;
	MDB_dbi supp, hist, refs, meta, merge, events, uids;
	char host[STORE_HOST_MAX + 1];	/* stamped on this host's events */
	size_t map_max;
	pthread_rwlock_t resize;	/* txns shared, map growth exclusive */
	pthread_mutex_t lock;		/* group commit queue */
	pthread_cond_t cond;		/* a commit is done */
	pthread_cond_t arrived;		/* a change is queued */
	struct store_pending *queue;
	int committing;
	int queued, last_batch;
	int64_t last_ns;		/* the last commit's time */
	pthread_mutex_t rlock;		/* idle readers */
	struct store_reader *idle;
	int n_idle;
};

/* This thread's error text for store_strerror. */
extern __thread char store_errbuf[STORE_ERR_MAX];

/* Remember an LMDB failure for store_strerror; returns the STORE_E*
 * code for it. */
int store_lmdb_fail(const char *what, int rc);
/* Begin a transaction (holding the resize lock shared until
 * store_txn_end), following another process's map growth. */
int store_txn_begin(struct store *st, unsigned flags, MDB_txn **txn);
/* End a transaction (commit or abort) and release the resize lock. */
int store_txn_end(struct store *st, MDB_txn *txn, int commit);
/* A read transaction on the current snapshot, from the cache when one is
 * there; store_reader_put gives it back. */
int store_reader_get(struct store *st, struct store_reader **out);
void store_reader_put(struct store *st, struct store_reader *r);
/* Double the map, up to map_max; STORE_EFULL when it may not grow. */
int store_grow(struct store *st);

/* Big-endian integers in records. */
void store_put_u64(uint8_t *p, uint64_t v);
uint64_t store_get_u64(const uint8_t *p);
/* Now, in microseconds since the epoch. */
uint64_t store_now_us(void);
/* A fresh uid for an event happening here. */
void store_uid_mint(uint8_t uid[STORE_UID_LEN]);
/* Decode a history record (key "address\0[mark]seq" with a prefix of plen
 * bytes, the address alen bytes) into ev. */
int store_hist_decode(const MDB_val *k, const MDB_val *v, size_t alen,
    size_t plen, struct store_event *ev);
/* Take the next global sequence number; LMDB code. */
int store_next_seq(struct store *st, MDB_txn *txn, uint64_t *seq);
/* Index a change or reference under seq in "events" and its uid in
 * "uids"; LMDB code. */
int store_index(struct store *st, MDB_txn *txn, enum store_kind kind,
    const struct store_event *ev, const uint8_t *ref, size_t reflen);
/* Is this uid's event in the store already?  LMDB code, 0 or
 * MDB_NOTFOUND. */
int store_uid_seen(struct store *st, MDB_txn *txn,
    const uint8_t uid[STORE_UID_LEN]);
/* Store a reference with its event (it->ev's uid, host, time; minted
 * here when it->ev.host is empty); LMDB code. */
int store_ref_apply(struct store *st, MDB_txn *txn, struct store_item *it);

/* Apply one event inside txn.  Returns STORE_OK, STORE_ENOTFOUND or
 * STORE_EINVAL (this event only), or STORE_EIO with the LMDB code in
 * *lrc (the whole transaction fails). */
int store_apply(struct store *st, MDB_txn *txn, struct store_event *ev,
    int *changed, int *lrc);
/* The same for an event from another host (uid, host and times as they
 * came; the caller has checked its uid is new). */
int store_apply_remote(struct store *st, MDB_txn *txn,
    struct store_event *ev, int *lrc);

#endif
