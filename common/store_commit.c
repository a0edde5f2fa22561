/* store_commit.c - group commit: concurrent writers in one process queue
 * their changes, and the first of them while no commit runs writes
 * everything queued in one synced transaction (LMDB allows one writer at
 * a time, and the fsync is most of a commit's cost). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_int.h"

/* One change waiting for a group commit: an event (soft set: a soft
 * bounce to count), (ref set) a mailto reference to store, or (list set)
 * a registry change. */
struct store_pending {
	struct store_event *ev;
	struct store_event orig;	/* restored before a retry */
	int *changed;
	int rc;
	int done;
	int answered;			/* a repeat, answered by a read */
	struct store_pending *next;
	char err[STORE_ERR_MAX];	/* the committing thread's error text */
	const uint8_t *ref;	/* reflen bytes -> tok */
	size_t reflen;
	const uint8_t *tok;
	size_t toklen;
	const struct store_soft *soft;	/* set: a soft bounce to count */
	const struct store_listdef *list;
	int remove;		/* the list leaves the registry */
};

/* Set every result of a batch but the repeats already answered. */
static void batch_fail(struct store_pending *batch, int rc)
{
	for (struct store_pending *p = batch; p != NULL; p = p->next)
		if (!p->answered)
			p->rc = rc;
}

/* Write one queued change inside txn: its result goes to p->rc, an LMDB
 * failure (the whole transaction's) to *lrc.  The change's "events"
 * entry, the outbox (store_int.h), is written with it. */
static void apply_pending(struct store *st, MDB_txn *txn,
    struct store_pending *p, int *lrc)
{
	int r;

	if (p->ref != NULL) {
		struct store_item it = { .kind = STORE_KIND_REF,
			.reflen = p->reflen, .toklen = p->toklen };
		memcpy(it.ref, p->ref, p->reflen);
		memcpy(it.tok, p->tok, p->toklen);
		*lrc = store_ref_apply(st, txn, &it);
		p->rc = STORE_OK;
		return;
	}
	if (p->list != NULL) {
		p->rc = store_lists_apply(st, txn, p->list, p->remove, lrc);
		return;
	}
	*p->ev = p->orig;
	r = p->soft != NULL ? store_soft_apply(st, txn, p->ev, p->soft,
	    p->changed, lrc) : store_apply(st, txn, p->ev, p->changed, lrc);
	if (r != STORE_EIO)
		p->rc = r;
}

/* Answer the repeats of a batch (unsubscribes already in force) from a
 * read: they write nothing, not even history, and cost no synced
 * commit, however often a link is followed.  What a read shows was
 * committed, and so is durable.  Not when the files at the path have
 * changed: then the write path finds out and says so.  A soft bounce is
 * counted even so (store_soft_bounce).  Returns how many changes are left
 * to write. */
static int answer_repeats(struct store *st, struct store_pending *batch)
{
	struct store_reader *rd;
	int left = 0, same;

	if (store_reader_get(st, 1, &rd) != STORE_OK)
		return 1;	/* the write transaction will say why */
	same = store_files_same(st);
	for (struct store_pending *p = batch; p != NULL; p = p->next) {
		if (same && p->ev != NULL && p->soft == NULL &&
		    store_is_repeat(st, rd->txn, p->ev)) {
			p->answered = 1;
			p->rc = STORE_OK;
			*p->changed = 0;
		} else
			left++;
	}
	store_reader_put(st, rd);
	return left;
}

/* Apply a batch in one synced transaction, growing the map when full.
 * Each pending entry gets its own result. */
static void commit_batch(struct store *st, struct store_pending *batch)
{
	if (answer_repeats(st, batch) == 0)
		return;
	for (;;) {
		MDB_txn *txn;
		int rc = store_txn_begin(st, 0, &txn), lrc = 0, stale = 0;

		if (rc != STORE_OK) {
			batch_fail(batch, rc);
			return;
		}
		for (struct store_pending *p = batch; p != NULL && lrc == 0;
		    p = p->next)
			if (!p->answered)
				apply_pending(st, txn, p, &lrc);
		if (lrc == 0)
			lrc = store_txn_commit(st, txn, &stale);
		else
			mdb_txn_abort(txn);
		pthread_rwlock_unlock(&st->resize);
		if (stale) {
			batch_fail(batch, store_reopen(st));
			return;
		}
		if (lrc == 0)
			return;
		if (lrc == MDB_MAP_FULL && store_grow(st) == STORE_OK)
			continue;
		batch_fail(batch, lrc == MDB_MAP_FULL ? STORE_EFULL :
		    store_lmdb_fail("write", lrc));
		return;
	}
}

/* The monotonic clock in nanoseconds. */
static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A new leader holding fewer changes than the last batch waits, up to
 * half the last commit's time, for the writers that commit released:
 * they are coming back.  Without it, batches alternate between the one
 * or two writers back first and everyone else (16 writers: 8.3 changes
 * a batch).  A lone writer never waits; after a burst, one wait. */
static void gather(struct store *st)
{
	int64_t end;
	struct timespec ts;

	if (st->queued >= st->last_batch)
		return;	/* no clock read for a lone writer */
	end = mono_ns() + (st->last_ns / 2 < 1000000 ? st->last_ns / 2 :
	    1000000);
	ts.tv_sec = (time_t)(end / 1000000000);
	ts.tv_nsec = (long)(end % 1000000000);
	while (st->queued < st->last_batch &&
	    pthread_cond_timedwait(&st->arrived, &st->lock, &ts) == 0)
		;
}

/* Queue one change (or a chain of them, committed in the same batch)
 * and return once it is durable: the first waiter while no commit runs
 * leads, committing everything queued so far at once. */
static int group_commit(struct store *st, struct store_pending *me)
{
	struct store_pending **tail;

	pthread_mutex_lock(&st->lock);
	*st->tail = me;
	for (tail = &me->next; *tail != NULL; tail = &(*tail)->next)
		st->queued++;
	st->queued++;
	st->tail = tail;	/* a journal's chain is not walked again */
	pthread_cond_signal(&st->arrived);
	while (!me->done && st->committing)
		pthread_cond_wait(&st->cond, &st->lock);
	if (!me->done) {
		/* Leader: take everything queued so far, commit it once. */
		struct store_pending *batch;
		int64_t t0;
		st->committing = 1;
		gather(st);
		batch = st->queue;
		st->last_batch = st->queued;
		st->queue = NULL;
		st->tail = &st->queue;
		st->queued = 0;
		pthread_mutex_unlock(&st->lock);
		t0 = mono_ns();
		commit_batch(st, batch);
		pthread_mutex_lock(&st->lock);
		st->last_ns = mono_ns() - t0;
		for (struct store_pending *p = batch; p; p = p->next) {
			snprintf(p->err, sizeof(p->err), "%s", store_errbuf);
			p->done = 1;
		}
		st->committing = 0;
		pthread_cond_broadcast(&st->cond);
	}
	pthread_mutex_unlock(&st->lock);
	/* store_strerror reads this thread's text: give it the leader's */
	if (me->rc != STORE_OK)
		snprintf(store_errbuf, sizeof(store_errbuf), "%s", me->err);
	return me->rc;
}

int store_record(struct store *st, struct store_event *ev, int *changed)
{
	struct store_pending me = { .ev = ev, .orig = *ev, .changed = changed };

	return group_commit(st, &me);
}

int store_soft_bounce(struct store *st, struct store_event *ev,
    unsigned limit, uint64_t window, unsigned *count, int *changed)
{
	struct store_soft soft = { limit, window, count };
	struct store_pending me = { .ev = ev, .orig = *ev, .changed = changed,
		.soft = &soft };

	*count = 0;
	if (limit == 0 || limit > STORE_SOFT_MAX)
		return STORE_EINVAL;
	return group_commit(st, &me);
}

/* n changes to commit together, chained, zeroed; NULL when out of
 * memory (said for store_strerror). */
static struct store_pending *chain_new(size_t n)
{
	struct store_pending *p = calloc(n ? n : 1, sizeof(*p));

	if (p == NULL) {
		snprintf(store_errbuf, sizeof(store_errbuf), "out of memory");
		return NULL;
	}
	for (size_t i = 0; i + 1 < n; i++)
		p[i].next = &p[i + 1];
	return p;
}

int store_record_batch(struct store *st, struct store_event *ev, size_t n,
    int *results, int *changed)
{
	struct store_pending *p = chain_new(n);
	int rc = STORE_OK;

	if (p == NULL)
		return STORE_EIO;
	for (size_t i = 0; i < n; i++) {
		p[i].ev = &ev[i];
		p[i].orig = ev[i];
		p[i].changed = &changed[i];
	}
	if (n > 0)
		commit_batch(st, p);
	for (size_t i = 0; i < n; i++) {
		results[i] = p[i].rc;
		if (p[i].rc != STORE_OK && p[i].rc != STORE_ENOTFOUND &&
		    p[i].rc != STORE_EINVAL)
			rc = p[i].rc;
	}
	free(p);
	return rc;
}

int store_record_single(struct store *st, struct store_event *ev,
    int *changed)
{
	struct store_pending me = { .ev = ev, .orig = *ev, .changed = changed };

	commit_batch(st, &me);
	return me.rc;
}

int store_commit_refs(struct store *st, const struct store_ref *refs,
    size_t n)
{
	struct store_pending *p = chain_new(n);
	int rc = STORE_OK;

	if (p == NULL)
		return STORE_EIO;
	for (size_t i = 0; i < n; i++) {
		p[i].ref = refs[i].ref;
		p[i].reflen = refs[i].reflen;
		p[i].tok = refs[i].tok;
		p[i].toklen = refs[i].toklen;
	}
	if (n > 0)
		rc = group_commit(st, p);
	for (size_t i = 1; i < n && rc == STORE_OK; i++)
		rc = p[i].rc;
	free(p);
	return rc;
}

int store_commit_list(struct store *st, const struct store_listdef *d,
    int remove)
{
	struct store_pending me = { .list = d, .remove = remove };

	return group_commit(st, &me);
}
