/* store_int.h - what the pieces of the store share, private to them:
 * store_lmdb.c (the environment, transactions, the reader cache, map
 * growth), store_commit.c (group commit), store_rec.c (record encoding,
 * applying changes, queries) and store_names.c (name tables, detail).
 * Everything public is in store.h.
 *
 * The LMDB environment holds five named databases:
 *   "supp"  "address\0scope" -> version(1)=1 | since(8) | source(1);
 *           after an address's scopes, its exceptions to "*" (lists it
 *           gets although suppressed for all; only beside "*"):
 *           "address\0\xfe" + list -> the same value, since the
 *           resubscribe;
 *           then its history (HIST_MARK below):
 *           "address\0\xff" + seq(8) -> version(1)=1 | time(8) |
 *           action(1) | source(1) | scope "\0" | detail
 *   "hist"  the history as written before it moved into "supp" (read,
 *           never written): "address\0" + seq(8), same value
 *   "refs"  mailto reference (ref.c) -> the sealed token it stands for
 *   "meta"  "seq" -> the last global sequence number(8);
 *           "soft:address" -> version(1)=1 | time(8)... of the address's
 *           soft bounces within the window (store_soft_bounce)
 *   "lists" the registry: name -> version(1)=1 | title "\0" | description
 * Integers are big-endian.
 *
 * Room for the fleet: an outbox of this host's events and the cursor of
 * the mirror that applies other hosts' events are two more databases,
 * opened beside these in open_dbs (store_lmdb.c, and STORE_DBS grows),
 * and written by apply_pending (store_commit.c) in the same transaction
 * as the change itself: durable together or not at all.
 */
#ifndef UNSUB_STORE_INT_H
#define UNSUB_STORE_INT_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include <lmdb.h>

#include "store.h"

#define STORE_DBS 5		/* named databases (mdb_env_set_maxdbs) */
#define SUPP_VERSION 1
#define HIST_VERSION 1
#define SOFT_VERSION 1
#define SOFT_PREFIX "soft:"	/* "meta" key of an address's soft bounces */
#define HIST_MARK 0xff	/* after "address\0": a history record; no scope
			 * starts with it (event_ok) */
#define EXCEPT_MARK 0xfe	/* after "address\0": an exception to "*" */
#define LISTS_VERSION 1
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

/* Which file a path named when the environment was opened. */
struct store_file_id {
	dev_t dev;
	ino_t ino;
};

struct store {
	MDB_env *env;
	MDB_dbi supp, hist, refs, meta, lists;
	int has_lists;			/* a read-only open of a store
					 * from before the registry: none */
	size_t map_max;
	char *dir;			/* for a reopen */
	struct store_opts opts;
	struct store_file_id data_id, lock_id;	/* the files LMDB has open */
	size_t psize;			/* LMDB's page size */
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
/* Commit a write transaction only into the store the path names now
 * (data.mdb and lock.mdb the files opened, and no other writer past this
 * transaction's snapshot): otherwise abort it and set *stale.  Returns 0
 * or an LMDB code.  The resize lock stays held. */
int store_txn_commit(struct store *st, MDB_txn *txn, int *stale);
/* Do data.mdb and lock.mdb at the path still name the files opened? */
int store_files_same(const struct store *st);
/* After a stale commit: close and open the environment again at its
 * path.  Returns STORE_EIO, with the text saying what happened. */
int store_reopen(struct store *st);
/* A read transaction on the current snapshot, from the cache when one is
 * there; store_reader_put gives it back. */
int store_reader_get(struct store *st, struct store_reader **out);
void store_reader_put(struct store *st, struct store_reader *r);
/* Double the map, up to map_max; STORE_EFULL when it may not grow. */
int store_grow(struct store *st);

/* Apply one event inside txn.  Returns STORE_OK, STORE_ENOTFOUND or
 * STORE_EINVAL (this event only), or STORE_EIO with the LMDB code in
 * *lrc (the whole transaction fails). */
int store_apply(struct store *st, MDB_txn *txn, struct store_event *ev,
    int *changed, int *lrc);
/* Is ev an unsubscribe of an address and scope already suppressed, as
 * txn (a read) sees them?  Then it has nothing to write. */
int store_is_repeat(struct store *st, MDB_txn *txn,
    const struct store_event *ev);

/* A soft bounce to count (store_soft_bounce): the limit-th within
 * window seconds is applied as an unsubscribe; *count gets the number. */
struct store_soft {
	unsigned limit;
	uint64_t window;
	unsigned *count;
};

/* Count a soft bounce of ev->address inside txn, applying ev at the
 * limit.  Returns as store_apply does. */
int store_soft_apply(struct store *st, MDB_txn *txn, struct store_event *ev,
    const struct store_soft *soft, int *changed, int *lrc);

/* store_rec.c: the "supp" value for a suppression ev begins. */
#define SUPP_VALUE_LEN 10
void store_supp_value(uint8_t v[SUPP_VALUE_LEN], const struct store_event *ev);

/* store_except.c: make or end the exceptions an event (already checked
 * by event_ok) calls for, inside txn; *changed is set when one was.  0 or
 * an LMDB code. */
int store_except_apply(struct store *st, MDB_txn *txn,
    const struct store_event *ev, int *changed);
/* Has address (alen bytes) an exception for list (llen bytes; 0: for any
 * list)?  1, 0, or an LMDB code (negative). */
int store_except_has(struct store *st, MDB_txn *txn, const char *address,
    size_t alen, const char *list, size_t llen);

/* store_lists.c: add (remove: delete) d inside txn: STORE_OK,
 * STORE_ENOTFOUND, STORE_EINVAL or STORE_EFULL for this change, or
 * STORE_EIO with the LMDB code in *lrc. */
int store_lists_apply(struct store *st, MDB_txn *txn,
    const struct store_listdef *d, int remove, int *lrc);
/* store_commit.c: queue a registry change for the next group commit. */
int store_commit_list(struct store *st, const struct store_listdef *d,
    int remove);

#endif
