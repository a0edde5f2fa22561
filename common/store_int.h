/* store_int.h - what the pieces of the store share, private to them:
 * store_lmdb.c (the environment, transactions, the reader cache, map
 * growth), store_files.c (the files: owner, whole, still the ones open),
 * store_commit.c (group commit), store_rec.c (record encoding, applying
 * changes, queries), store_merge.c, store_except.c, store_lists.c,
 * store_feed.c (the fleet's events) and store_names.c (name tables).
 * Everything public is in store.h.
 *
 * The LMDB environment holds these named databases:
 *   "supp"  "address\0scope" -> version(1)=1 | since(8) | source(1);
 *           the key is there iff the address is suppressed for scope.
 *           After an address's scopes, its exceptions to "*" (lists it
 *           gets although suppressed for all; only beside "*"):
 *           "address\0\xfe" + list -> the same value, since the
 *           resubscribe that made it; then its history (HIST_MARK below):
 *           "address\0\xff" + seq(8) ->
 *             version(1)=1 | time(8, seconds) | action(1) | source(1) |
 *               scope "\0" | detail                     (before the fleet)
 *             version(1)=2 | time(8, microseconds) | action(1) |
 *               source(1) | lifts(8) | uid(16) | host "\0" | scope "\0" |
 *               detail
 *           "supp" is what the merge rule makes of "merge" (store_merge.c)
 *   "hist"  the history as written before it moved into "supp" (read,
 *           never written): "address\0" + seq(8), version 1 value
 *   "refs"  mailto reference (ref.c) -> the sealed token it stands for
 *   "meta"  "seq" -> the last global sequence number(8); the fleet's
 *           "shipped" (the last seq unsub-sync has examined for shipping),
 *           "cursor" (its PostgreSQL snapshot cursor, an xid8), "boot"
 *           (1 once bootstrapped), "contact" (Unix seconds of the last
 *           exchange with PostgreSQL); "soft:address" -> version(1)=1 |
 *           time(8)... of the address's soft bounces within the window
 *           (store_soft_bounce; this host's own, never shipped)
 *   "merge" "address\0scope" -> u(8) | r(8) | l(8) | rsource(1): the
 *           merge rule's maxima (merge.h) and the source of the
 *           resubscribe at r; absent for a scope suppressed or excepted
 *           before the fleet, whose u (r and l) is then its since
 *   "events" seq(8) -> kind(1) | ...: every event in the order this store
 *           took it, the feed (store_events) and the outbox (this host's
 *           events past "shipped"): no copy of the history, and nothing
 *           more when unsub-sync is not running.
 *             STORE_KIND_CHANGE: address (its history record is
 *               "address\0\xff" + seq in "supp")
 *             STORE_KIND_REF: uid(16) | time(8, microseconds) | host
 *               "\0" | reference (its token is in "refs")
 *             STORE_KIND_LIST: uid(16) | time(8, microseconds) | host
 *               "\0" | name "\0" | body (below): a registry change
 *   "uids"  uid(16) -> seq(8): each event once, whatever replays it
 *   "lists" the registry: name -> version(1)=2 | time(8, microseconds) |
 *           uid(16) | body, the change that won (store_lists.c); body:
 *           removed(1) | title "\0" | description, a remove leaving a
 *           tombstone (removed 1, no title).  Before the fleet (read):
 *           version(1)=1 | title "\0" | description
 * Integers are big-endian.
 *
 * Every change is written with its history record, its "events" entry
 * and its uid in one transaction (store_apply, store_ref_apply,
 * store_lists_apply): the outbox is durable with the change or not at
 * all.
 */
#ifndef UNSUB_STORE_INT_H
#define UNSUB_STORE_INT_H

#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <lmdb.h>

#include "store.h"

#define STORE_DBS 8		/* named databases (mdb_env_set_maxdbs) */
#define SUPP_VERSION 1
#define HIST_VERSION 1	/* before the fleet: read only */
#define HIST_VERSION2 2
#define SOFT_VERSION 1
#define SOFT_PREFIX "soft:"	/* "meta" key of an address's soft bounces */
#define HIST_MARK 0xff	/* after "address\0": a history record; no scope
			 * starts with it (event_ok) */
#define EXCEPT_MARK 0xfe	/* after "address\0": an exception to "*" */
#define LISTS_VERSION 1	/* before the fleet: read only */
#define LISTS_VERSION2 2
/* A registry change's "events" payload at most: name "\0" | body. */
#define LISTS_EVENT_MAX (STORE_SCOPE_MAX + 3 + STORE_TITLE_MAX + \
	STORE_DESC_MAX)
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
struct store_journal;		/* store_journal.c */

/* A mailto reference and the token it stands for. */
struct store_ref {
	uint8_t ref[STORE_REF_MAX];
	size_t reflen;
	uint8_t tok[TOKEN_BIN_MAX];
	size_t toklen;
};

/* Which file a path named when the environment was opened. */
struct store_file_id {
	dev_t dev;
	ino_t ino;
};

struct store {
	MDB_env *env;
	MDB_dbi supp, hist, refs, meta, merge, events, uids, lists;
	int has_lists;			/* a read-only open of a store
					 * from before the registry: none */
	char host[STORE_HOST_MAX + 1];	/* stamped on this host's events */
	size_t map_max;
	char *dir;			/* for a reopen */
	struct store_opts opts;
	struct store_file_id data_id, lock_id;	/* the files LMDB has open */
	size_t psize;			/* LMDB's page size */
	_Atomic int64_t whole_ns;	/* when reads last found data.mdb
					 * whole (env_hold) */
	pthread_rwlock_t resize;	/* txns shared, map growth exclusive */
	pthread_mutex_t lock;		/* group commit queue */
	pthread_cond_t cond;		/* a commit is done */
	pthread_cond_t arrived;		/* a change is queued */
	struct store_pending *queue, **tail;	/* tail: the last next */
	int committing;
	int queued, last_batch;
	int64_t last_ns;		/* the last commit's time */
	pthread_mutex_t rlock;		/* idle readers */
	struct store_reader *idle;
	int n_idle;
	struct store_journal *journal;	/* writable opens: references */
};

/* A condition variable whose timed waits run on CLOCK_MONOTONIC: a
 * clock stepped back stalls nothing. */
void store_cond_monotonic(pthread_cond_t *c);
/* This thread's error text for store_strerror. */
extern __thread char store_errbuf[STORE_ERR_MAX];

/* Remember an LMDB failure for store_strerror; returns the STORE_E*
 * code for it. */
int store_lmdb_fail(const char *what, int rc);
/* Begin a transaction (holding the resize lock shared until
 * store_txn_end), following another process's map growth. */
int store_txn_begin(struct store *st, unsigned flags, MDB_txn **txn);
/* End a read transaction (or abandon a write) and release the resize
 * lock; writes commit through store_txn_commit. */
void store_txn_end(struct store *st, MDB_txn *txn);
/* Commit a write transaction only into the store the path names now
 * (data.mdb and lock.mdb the files opened, and no other writer past this
 * transaction's snapshot): otherwise abort it and set *stale.  Returns 0
 * or an LMDB code.  The resize lock stays held. */
int store_txn_commit(struct store *st, MDB_txn *txn, int *stale);
/* Do data.mdb and lock.mdb at the path still name the files opened? */
int store_files_same(const struct store *st);
/* store_files.c: the identity of the file at dir/name (zeros: none). */
struct store_file_id store_file_id(const char *dir, const char *name);
/* store_files.c: is data.mdb as long as its newest meta page says?
 * STORE_OK, or STORE_ECORRUPT / STORE_EIO with the text set. */
int store_env_whole(struct store *st);
/* store_files.c: a new environment in st->env with our limits, opened on
 * st->dir (by root: as the directory's owner); an LMDB code, st->env NULL
 * on failure. */
int store_env_create_open(struct store *st);
/* store_files.c: give data.mdb and lock.mdb dsb's owner and group. */
void store_own_like_dir(const char *dir, const struct stat *dsb);
#define STORE_MAP_DEFAULT (64UL << 20)	/* initial map size */
/* After a stale commit: close and open the environment again at its
 * path.  Returns STORE_EIO, with the text saying what happened. */
int store_reopen(struct store *st);
/* A read transaction on the current snapshot, from the cache when one is
 * there; store_reader_put gives it back.  writing: for a write about to
 * follow, which looks at data.mdb's size now (env_hold). */
int store_reader_get(struct store *st, int writing,
    struct store_reader **out);
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

/* store_rec.c: the "supp" value of a suppression or exception. */
#define SUPP_VALUE_LEN 10
#define STORE_KEY_MAX (ADDRESS_MAX + 1 + STORE_SCOPE_MAX + 8)
void store_supp_value(uint8_t v[SUPP_VALUE_LEN], uint64_t since,
    enum store_source source);
/* Key "address\0scope" into buf; returns its length or 0 if too long. */
size_t store_supp_key(uint8_t *buf, const char *address, const char *scope);

/* store_merge.c: fold ev (checked by event_ok) into its scope's merge
 * maxima and bring the address's suppressions and exceptions in "supp"
 * in line with the rule; *changed when one of them changed.  A local
 * event is stamped first (time, lifts, uid, host), and a resubscribe
 * to what the address gets is STORE_ENOTFOUND.  0 or an LMDB code. */
int store_merge_event(struct store *st, MDB_txn *txn, struct store_event *ev,
    int local, int *changed);

/* store_except.c: put (v NULL: delete) the exception of address (alen
 * bytes) for list; *changed when there was none (there was one).  0 or an
 * LMDB code. */
int store_except_set(struct store *st, MDB_txn *txn, const char *address,
    size_t alen, const char *list, const uint8_t v[SUPP_VALUE_LEN],
    int *changed);
/* Has address (alen bytes) an exception for list (llen bytes; 0: for any
 * list)?  1, 0, or an LMDB code (negative). */
int store_except_has(struct store *st, MDB_txn *txn, const char *address,
    size_t alen, const char *list, size_t llen);

/* store_lists.c: set (remove: a tombstone) d inside txn, as a change
 * made here: STORE_OK, STORE_ENOTFOUND, STORE_EFULL for this change, or
 * STORE_EIO with the LMDB code in *lrc. */
int store_lists_apply(struct store *st, MDB_txn *txn,
    const struct store_listdef *d, int remove, int *lrc);
/* Take another host's registry change (its uid new here): the entry when
 * it is newer by (time, uid), the event always.  0, MDB_NOTFOUND when it
 * is not one this store can hold, or an LMDB code. */
int store_lists_mirror(struct store *st, MDB_txn *txn, struct store_item *it);
/* The "events" payload of a registry change (n bytes at p) into it;
 * -1 when it does not decode. */
int store_lists_event(const uint8_t *p, size_t n, struct store_item *it);
/* store_commit.c: queue a registry change for the next group commit. */
int store_commit_list(struct store *st, const struct store_listdef *d,
    int remove);

/* store_commit.c: commit n references in one group commit (synced). */
int store_commit_refs(struct store *st, const struct store_ref *refs,
    size_t n);
/* store_journal.c: references acknowledged once written to this
 * process's journal, committed by its flusher (store_ref_put).  init
 * sets st->journal; replay commits and removes what crashed processes
 * left (what it cannot commit is kept, store_replayed says so); close
 * commits what is left and removes the files. */
int store_journal_init(struct store *st);
void store_journal_replay(struct store *st);
void store_journal_close(struct store *st);

/* store_lists.c: the registry's entries of the first format (before the
 * fleet), at most max, as registry changes of this host at time 1 us. */
int store_lists_old(struct store *st, struct store_item *out, size_t max,
    size_t *n);

#endif
