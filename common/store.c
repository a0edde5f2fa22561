/* store.c - the suppression store on LMDB, in one environment shared by
 * several processes: "supp" holds each address's current suppressions
 * ("address\0scope") and, after them, its append-only history
 * ("address\0\xff" + sequence), so that a change dirties one leaf page,
 * not two; "refs" the mailto references, "meta" the global sequence.
 * "meta" also counts each address's recent soft bounces ("soft:address"
 * -> version, then the times, 8 bytes each).
 * "hist" holds the history written before it moved into "supp" (read,
 * never written).  Every write is committed and synced before it
 * returns; concurrent writers in one process share commits. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "store.h"

#define DEFAULT_MAP (64UL << 20)
#define SUPP_VERSION 1
#define HIST_VERSION 1
#define SOFT_VERSION 1
#define SOFT_PREFIX "soft:"	/* "meta" key of an address's soft bounces */
#define HIST_MARK 0xff	/* after "address\0": a history record; no scope
			 * starts with it (event_ok) */
#define KEY_MAX (ADDRESS_MAX + 1 + STORE_SCOPE_MAX + 8)
#define ERR_MAX 512
#define READERS_KEPT 64	/* idle read transactions kept, each a reader slot */

/* One change waiting for a group commit: an event, or (ref set) a mailto
 * reference to store. */
struct pending {
	struct store_event *ev;
	struct store_event orig;	/* restored before a retry */
	int *changed;
	int rc;
	int done;
	struct pending *next;
	char err[ERR_MAX];	/* the committing thread's error text */
	const uint8_t *ref;	/* TOKEN_REF_LEN bytes -> tok */
	const uint8_t *tok;
	size_t toklen;
	unsigned soft_limit;	/* set: a soft bounce (store_soft_bounce) */
	uint64_t soft_window;
	unsigned *soft_count;
};

/* A read-only transaction, with a cursor on "supp", kept reset between
 * reads: renewing it keeps its reader slot, where mdb_txn_begin would
 * take LMDB's reader-table lock, scan for a free slot and allocate. A
 * reset transaction pins no pages. */
struct reader {
	MDB_txn *txn;
	MDB_cursor *cur;
	struct reader *next;
};

struct store {
	MDB_env *env;
	MDB_dbi supp, hist, refs, meta;
	size_t map_max;
	pthread_rwlock_t resize;	/* txns shared, map growth exclusive */
	pthread_mutex_t lock;		/* group commit queue */
	pthread_cond_t cond;		/* a commit is done */
	pthread_cond_t arrived;		/* a change is queued */
	struct pending *queue;
	int committing;
	int queued, last_batch;
	int64_t last_ns;		/* the last commit's time */
	pthread_mutex_t rlock;		/* idle readers */
	struct reader *idle;
	int n_idle;
};

static __thread char errbuf[ERR_MAX];

/* Remember an LMDB failure for store_strerror. */
static int lmdb_fail(const char *what, int rc)
{
	snprintf(errbuf, sizeof(errbuf), "LMDB %s: %s", what,
	    mdb_strerror(rc));
	if (rc == MDB_MAP_FULL)
		return STORE_EFULL;
	if (rc == MDB_CORRUPTED || rc == MDB_INVALID ||
	    rc == MDB_VERSION_MISMATCH)
		return STORE_ECORRUPT;
	return STORE_EIO;
}

const char *store_strerror(int err)
{
	switch (err) {
	case STORE_OK: return "success";
	case STORE_ENOTFOUND: return "not found";
	case STORE_EINVAL: return "invalid address, scope or detail";
	}
	return errbuf[0] ? errbuf : "store error";
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Does the key part after "address\0" (len bytes) name a history record,
 * not a scope? */
static int is_hist(const char *after, size_t len)
{
	return len > 0 && (uint8_t)after[0] == HIST_MARK;
}

/* Key "address\0scope" into buf; returns its length or 0 if too long. */
static size_t supp_key(uint8_t *buf, const char *address, const char *scope)
{
	size_t a = strlen(address), s = strlen(scope);

	if (a == 0 || a > ADDRESS_MAX || s == 0 || s > STORE_SCOPE_MAX)
		return 0;
	memcpy(buf, address, a + 1);
	memcpy(buf + a + 1, scope, s);
	return a + 1 + s;
}

/* Begin a transaction, following another process's map growth (which
 * may go on while we follow it: a few tries). */
static int txn_begin(struct store *st, unsigned flags, MDB_txn **txn)
{
	int rc;

	pthread_rwlock_rdlock(&st->resize);
	for (int tries = 0; (rc = mdb_txn_begin(st->env, NULL, flags,
	    txn)) == MDB_MAP_RESIZED && tries < 8; tries++) {
		pthread_rwlock_unlock(&st->resize);
		pthread_rwlock_wrlock(&st->resize);
		rc = mdb_env_set_mapsize(st->env, 0);
		pthread_rwlock_unlock(&st->resize);
		if (rc != 0)
			return lmdb_fail("mdb_env_set_mapsize", rc);
		pthread_rwlock_rdlock(&st->resize);
	}
	if (rc != 0) {
		pthread_rwlock_unlock(&st->resize);
		return lmdb_fail("mdb_txn_begin", rc);
	}
	return STORE_OK;
}

/* End a transaction (commit or abort) and release the resize lock. */
static int txn_end(struct store *st, MDB_txn *txn, int commit)
{
	int rc = 0;

	if (commit)
		rc = mdb_txn_commit(txn);
	else
		mdb_txn_abort(txn);
	pthread_rwlock_unlock(&st->resize);
	return rc == 0 ? STORE_OK : lmdb_fail("mdb_txn_commit", rc);
}

/* Close a reader for good. */
static void reader_free(struct reader *r)
{
	mdb_cursor_close(r->cur);
	mdb_txn_abort(r->txn);
	free(r);
}

/* A read transaction on the current snapshot, from the idle list if one
 * is there; reader_put gives it back. */
static int reader_get(struct store *st, struct reader **out)
{
	struct reader *r;
	int rc;

	pthread_mutex_lock(&st->rlock);
	if ((r = st->idle) != NULL) {
		st->idle = r->next;
		st->n_idle--;
	}
	pthread_mutex_unlock(&st->rlock);
	if (r != NULL) {
		pthread_rwlock_rdlock(&st->resize);
		if (mdb_txn_renew(r->txn) == 0 &&
		    mdb_cursor_renew(r->txn, r->cur) == 0) {
			*out = r;
			return STORE_OK;
		}
		/* The map grew in another process (MDB_MAP_RESIZED): a
		 * fresh transaction follows it. */
		reader_free(r);
		pthread_rwlock_unlock(&st->resize);
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(errbuf, sizeof(errbuf), "out of memory");
		return STORE_EIO;
	}
	if ((rc = txn_begin(st, MDB_RDONLY, &r->txn)) != STORE_OK) {
		free(r);
		return rc;
	}
	if ((rc = mdb_cursor_open(r->txn, st->supp, &r->cur)) != 0) {
		txn_end(st, r->txn, 0);
		free(r);
		return lmdb_fail("mdb_cursor_open", rc);
	}
	*out = r;
	return STORE_OK;
}

/* Give a read transaction back: reset and kept, up to READERS_KEPT, so
 * that a burst of readers does not hold reader slots other processes
 * sharing the store may need. */
static void reader_put(struct store *st, struct reader *r)
{
	mdb_txn_reset(r->txn);
	pthread_rwlock_unlock(&st->resize);
	pthread_mutex_lock(&st->rlock);
	if (st->n_idle < READERS_KEPT) {
		r->next = st->idle;
		st->idle = r;
		st->n_idle++;
		r = NULL;
	}
	pthread_mutex_unlock(&st->rlock);
	if (r != NULL)
		reader_free(r);
}

/* Double the map, up to map_max; STORE_EFULL when it may not grow. */
static int grow(struct store *st)
{
	MDB_envinfo info;
	size_t next;
	int rc;

	pthread_rwlock_wrlock(&st->resize);
	mdb_env_info(st->env, &info);
	next = info.me_mapsize * 2;
	if (st->map_max != 0 && next > st->map_max)
		next = st->map_max;
	rc = next > info.me_mapsize ? mdb_env_set_mapsize(st->env, next) : -1;
	pthread_rwlock_unlock(&st->resize);
	if (rc != 0) {
		snprintf(errbuf, sizeof(errbuf), "LMDB map full at %zu bytes "
		    "(DatabaseMapMax)", info.me_mapsize);
		return STORE_EFULL;
	}
	return STORE_OK;
}

/* Open the named databases inside one transaction. */
static int open_dbs(struct store *st, int read_only)
{
	MDB_txn *txn;
	unsigned flags = read_only ? 0 : MDB_CREATE;
	int rc;

	if ((rc = txn_begin(st, read_only ? MDB_RDONLY : 0, &txn)) !=
	    STORE_OK)
		return rc;
	if ((rc = mdb_dbi_open(txn, "supp", flags, &st->supp)) != 0 ||
	    (rc = mdb_dbi_open(txn, "hist", flags, &st->hist)) != 0 ||
	    (rc = mdb_dbi_open(txn, "refs", flags, &st->refs)) != 0 ||
	    (rc = mdb_dbi_open(txn, "meta", flags, &st->meta)) != 0) {
		txn_end(st, txn, 0);
		if (rc == MDB_NOTFOUND) {
			snprintf(errbuf, sizeof(errbuf), "store not "
			    "initialised yet (no write has happened)");
			return STORE_EOPEN;
		}
		return lmdb_fail("mdb_dbi_open", rc);
	}
	return txn_end(st, txn, 1);
}

/* Give data.mdb and lock.mdb the owner and group of their directory. */
static void own_like_dir(const char *dir, const struct stat *dsb)
{
	static const char *const files[] = { "data.mdb", "lock.mdb" };
	char path[4096];
	struct stat sb;

	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (stat(path, &sb) == 0 && (sb.st_uid != dsb->st_uid ||
		    sb.st_gid != dsb->st_gid) &&
		    chown(path, dsb->st_uid, dsb->st_gid) < 0)
			continue;	/* the daemon's open will say why */
	}
}

int store_open(const char *dir, const struct store_opts *opts,
    struct store **out)
{
	struct store *st = NULL;
	pthread_rwlockattr_t ra;
	pthread_condattr_t ca;
	struct stat sb;
	int rc;

	*out = NULL;
	errbuf[0] = '\0';
	if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		snprintf(errbuf, sizeof(errbuf), "database directory %s: %s",
		    dir, errno && !S_ISDIR(sb.st_mode) ? strerror(errno) :
		    "not a directory");
		if (stat(dir, &sb) == 0 && !S_ISDIR(sb.st_mode))
			snprintf(errbuf, sizeof(errbuf), "database directory "
			    "%s: not a directory", dir);
		return STORE_EOPEN;
	}
	if (access(dir, opts->read_only ? R_OK | X_OK : R_OK | W_OK | X_OK) <
	    0) {
		snprintf(errbuf, sizeof(errbuf), "database directory %s: %s",
		    dir, strerror(errno));
		return STORE_EOPEN;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return STORE_EIO;
	/* Writers first: glibc's default lets a steady stream of readers
	 * starve the map growth (no thread takes the read lock twice). */
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra,
	    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&st->resize, &ra);
	pthread_rwlockattr_destroy(&ra);
	pthread_mutex_init(&st->lock, NULL);
	pthread_cond_init(&st->cond, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&st->arrived, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&st->rlock, NULL);
	st->map_max = opts->map_max;
	if ((rc = mdb_env_create(&st->env)) != 0) {
		rc = lmdb_fail("mdb_env_create", rc);
		goto fail;
	}
	mdb_env_set_maxdbs(st->env, 4);
	mdb_env_set_maxreaders(st->env, 1024);
	mdb_env_set_mapsize(st->env, opts->map_size ? opts->map_size :
	    DEFAULT_MAP);
	rc = mdb_env_open(st->env, dir, MDB_NOTLS | (opts->read_only ?
	    MDB_RDONLY : 0), 0660);
	if (rc != 0) {
		snprintf(errbuf, sizeof(errbuf), "database directory %s: %s",
		    dir, rc == ENOENT ? "no store there yet" :
		    mdb_strerror(rc));
		rc = STORE_EOPEN;
		goto fail;
	}
	/* Root (unsubctl) must not leave files the daemons cannot open: as
	 * postmap does, give them the owner of the directory. */
	if (geteuid() == 0 && !opts->read_only)
		own_like_dir(dir, &sb);
	/* Free reader slots left by processes that died holding them (a
	 * killed milter), so their pages can be reused. */
	mdb_reader_check(st->env, &(int){ 0 });
	if ((rc = open_dbs(st, opts->read_only)) != STORE_OK)
		goto fail;
	*out = st;
	return STORE_OK;
fail:
	store_close(st);
	return rc;
}

void store_close(struct store *st)
{
	if (st == NULL)
		return;
	for (struct reader *r = st->idle, *next; r != NULL; r = next) {
		next = r->next;
		reader_free(r);
	}
	if (st->env != NULL)
		mdb_env_close(st->env);
	pthread_rwlock_destroy(&st->resize);
	pthread_mutex_destroy(&st->lock);
	pthread_cond_destroy(&st->cond);
	pthread_cond_destroy(&st->arrived);
	pthread_mutex_destroy(&st->rlock);
	free(st);
}

/* Decode a "supp" value into e; STORE_ECORRUPT if it does not decode. */
static int decode_supp(const MDB_val *v, struct store_entry *e)
{
	const uint8_t *p = v->mv_data;

	if (v->mv_size != 10 || p[0] != SUPP_VERSION)
		return STORE_ECORRUPT;
	e->time = get_u64(p + 1);
	e->source = (enum store_source)p[9];
	return STORE_OK;
}

int store_check(struct store *st, const char *address, const char *list,
    int *suppressed, char *scope_out, size_t scope_outsz)
{
	uint8_t kbuf[KEY_MAX];
	size_t plen = strlen(address) + 1, llen = list ? strlen(list) : 0;
	const char *found = NULL;
	struct reader *rd;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, r;

	*suppressed = 0;
	if (plen == 1 || plen > ADDRESS_MAX + 1 || llen > STORE_SCOPE_MAX)
		return STORE_EINVAL;
	memcpy(kbuf, address, plen);
	if ((rc = reader_get(st, &rd)) != STORE_OK)
		return rc;
	cur = rd->cur;
	/* One descent to "address\0", then its few scopes in key order:
	 * half the tree walks of two lookups when, as for most addresses,
	 * there is nothing. */
	k.mv_size = plen;
	k.mv_data = kbuf;
	for (r = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); r == 0;
	    r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const char *scope;
		size_t slen;
		if (k.mv_size < plen || memcmp(k.mv_data, kbuf, plen) != 0)
			break;
		scope = (const char *)k.mv_data + plen;
		slen = k.mv_size - plen;
		if (is_hist(scope, slen))
			break;	/* the history follows the scopes */
		if (slen == 1 && scope[0] == '*') {
			found = STORE_SCOPE_ALL;
			break;
		}
		if (slen == llen && llen > 0 && memcmp(scope, list, llen) == 0)
			found = list;	/* go on: "*" is the one to report */
	}
	if (r != 0 && r != MDB_NOTFOUND)
		rc = lmdb_fail("mdb_cursor_get", r);
	reader_put(st, rd);
	if (rc == STORE_OK && found != NULL) {
		*suppressed = 1;
		if (scope_out != NULL)
			snprintf(scope_out, scope_outsz, "%s", found);
	}
	return rc;
}

/* Take the next global sequence number inside a write transaction. */
static int next_seq(struct store *st, MDB_txn *txn, uint64_t *seq)
{
	MDB_val k = { 3, "seq" }, v;
	uint8_t buf[8];
	int rc = mdb_get(txn, st->meta, &k, &v);

	if (rc == 0 && v.mv_size == 8)
		*seq = get_u64(v.mv_data) + 1;
	else if (rc == MDB_NOTFOUND)
		*seq = 1;
	else
		return rc == 0 ? MDB_CORRUPTED : rc;
	put_u64(buf, *seq);
	v.mv_size = 8;
	v.mv_data = buf;
	return mdb_put(txn, st->meta, &k, &v, 0);
}

/* Append ev to the history (its seq already set), next to the address's
 * suppressions. */
static int put_history(struct store *st, MDB_txn *txn,
    const struct store_event *ev)
{
	uint8_t kbuf[ADDRESS_MAX + 2 + 8];
	uint8_t vbuf[11 + STORE_SCOPE_MAX + 1 + STORE_DETAIL_MAX + 1];
	size_t a = strlen(ev->address), s = strlen(ev->scope);
	size_t d = strlen(ev->detail);
	MDB_val k, v;

	memcpy(kbuf, ev->address, a + 1);
	kbuf[a + 1] = HIST_MARK;
	put_u64(kbuf + a + 2, ev->seq);
	k.mv_size = a + 10;
	k.mv_data = kbuf;
	vbuf[0] = HIST_VERSION;
	put_u64(vbuf + 1, ev->time);
	vbuf[9] = (uint8_t)ev->action;
	vbuf[10] = (uint8_t)ev->source;
	memcpy(vbuf + 11, ev->scope, s + 1);
	memcpy(vbuf + 12 + s, ev->detail, d);
	v.mv_size = 12 + s + d;
	v.mv_data = vbuf;
	return mdb_put(txn, st->supp, &k, &v, 0);
}

/* Validate an event's fields before touching the store. */
static int event_ok(const struct store_event *ev)
{
	return ev->address[0] != '\0' && ev->scope[0] != '\0' &&
	    !is_hist(ev->scope, strlen(ev->scope)) &&
	    strlen(ev->address) <= ADDRESS_MAX &&
	    strlen(ev->scope) <= STORE_SCOPE_MAX &&
	    strlen(ev->detail) <= STORE_DETAIL_MAX &&
	    (ev->action == STORE_UNSUBSCRIBE ||
	    ev->action == STORE_RESUBSCRIBE) &&
	    ev->source >= STORE_SRC_MAILTO && ev->source <= STORE_SRC_LAST;
}

static int apply_one(struct store *st, MDB_txn *txn, struct store_event *ev,
    int *changed);

/* Apply one event inside txn.  Returns STORE_OK, STORE_ENOTFOUND or
 * STORE_EINVAL (this event only), or STORE_EIO with the LMDB code in
 * *lrc (the whole transaction fails). */
static int apply(struct store *st, MDB_txn *txn, struct store_event *ev,
    int *changed, int *lrc)
{
	int rc = apply_one(st, txn, ev, changed);

	if (rc == STORE_OK || rc == STORE_ENOTFOUND || rc == STORE_EINVAL)
		return rc;
	*lrc = rc;
	return STORE_EIO;
}

/* The body of apply: LMDB codes are returned as they are. */
static int apply_one(struct store *st, MDB_txn *txn, struct store_event *ev,
    int *changed)
{
	uint8_t kbuf[KEY_MAX], vbuf[10];
	MDB_val k, v;
	int rc;

	*changed = 0;
	if (!event_ok(ev))
		return STORE_EINVAL;
	k.mv_size = supp_key(kbuf, ev->address, ev->scope);
	k.mv_data = kbuf;
	if (ev->time == 0)
		ev->time = (uint64_t)time(NULL);
	rc = mdb_get(txn, st->supp, &k, &v);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if (ev->action == STORE_RESUBSCRIBE) {
		if (rc == MDB_NOTFOUND)
			return STORE_ENOTFOUND;
		if ((rc = mdb_del(txn, st->supp, &k, NULL)) != 0)
			return rc;
		*changed = 1;
	} else if (rc == MDB_NOTFOUND) {
		vbuf[0] = SUPP_VERSION;
		put_u64(vbuf + 1, ev->time);
		vbuf[9] = (uint8_t)ev->source;
		v.mv_size = sizeof(vbuf);
		v.mv_data = vbuf;
		if ((rc = mdb_put(txn, st->supp, &k, &v, 0)) != 0)
			return rc;
		*changed = 1;
	} else {
		char d[STORE_DETAIL_MAX + 1];
		snprintf(d, sizeof(d), "repeat%s%s", ev->detail[0] ? " " : "",
		    ev->detail);
		memcpy(ev->detail, d, sizeof(d));
	}
	if ((rc = next_seq(st, txn, &ev->seq)) != 0)
		return rc;
	return put_history(st, txn, ev);
}

/* A soft bounce inside txn: the address's times still within the
 * window, plus this one; at the limit the event is applied and the times
 * dropped.  Returns as apply does. */
static int soft_bounce(struct store *st, MDB_txn *txn, struct pending *p,
    int *lrc)
{
	uint8_t kbuf[sizeof(SOFT_PREFIX) + ADDRESS_MAX];
	uint8_t vbuf[1 + 8 * STORE_SOFT_MAX];
	size_t a = strlen(p->ev->address), n = 0, plen = strlen(SOFT_PREFIX);
	MDB_val k = { plen + a, kbuf }, v;
	int rc;

	*p->changed = 0;
	if (a == 0 || a > ADDRESS_MAX)
		return STORE_EINVAL;
	if (p->ev->time == 0)
		p->ev->time = (uint64_t)time(NULL);
	memcpy(kbuf, SOFT_PREFIX, plen);
	memcpy(kbuf + plen, p->ev->address, a);
	rc = mdb_get(txn, st->meta, &k, &v);
	if (rc == 0 && v.mv_size % 8 == 1 &&
	    ((const uint8_t *)v.mv_data)[0] == SOFT_VERSION) {
		for (size_t i = 1; i + 8 <= v.mv_size && n < STORE_SOFT_MAX - 1;
		    i += 8) {
			uint64_t t = get_u64((const uint8_t *)v.mv_data + i);
			if (t + p->soft_window > p->ev->time)
				put_u64(vbuf + 1 + 8 * n++, t);
		}
	} else if (rc != 0 && rc != MDB_NOTFOUND) {
		*lrc = rc;
		return STORE_EIO;
	}
	*p->soft_count = (unsigned)n + 1;
	if (n + 1 >= p->soft_limit) {
		rc = mdb_del(txn, st->meta, &k, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND) {
			*lrc = rc;
			return STORE_EIO;
		}
		return apply(st, txn, p->ev, p->changed, lrc);
	}
	vbuf[0] = SOFT_VERSION;
	put_u64(vbuf + 1 + 8 * n++, p->ev->time);
	v.mv_size = 1 + 8 * n;
	v.mv_data = vbuf;
	if ((rc = mdb_put(txn, st->meta, &k, &v, 0)) != 0) {
		*lrc = rc;
		return STORE_EIO;
	}
	return STORE_OK;
}

/* Set every result of a batch. */
static void batch_fail(struct pending *batch, int rc)
{
	for (struct pending *p = batch; p != NULL; p = p->next)
		p->rc = rc;
}

/* Apply a batch in one synced transaction, growing the map when full.
 * Each pending entry gets its own result. */
static void commit_batch(struct store *st, struct pending *batch)
{
	for (;;) {
		MDB_txn *txn;
		int rc = txn_begin(st, 0, &txn), lrc = 0;

		if (rc != STORE_OK) {
			batch_fail(batch, rc);
			return;
		}
		for (struct pending *p = batch; p != NULL && lrc == 0;
		    p = p->next) {
			if (p->ref != NULL) {
				MDB_val k = { TOKEN_REF_LEN, (void *)p->ref };
				MDB_val v = { p->toklen, (void *)p->tok };
				lrc = mdb_put(txn, st->refs, &k, &v, 0);
				p->rc = STORE_OK;
				continue;
			}
			*p->ev = p->orig;
			int r = p->soft_limit ? soft_bounce(st, txn, p, &lrc) :
			    apply(st, txn, p->ev, p->changed, &lrc);
			if (r != STORE_EIO)
				p->rc = r;
		}
		if (lrc == 0)
			lrc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
		pthread_rwlock_unlock(&st->resize);
		if (lrc == 0)
			return;
		if (lrc == MDB_MAP_FULL && grow(st) == STORE_OK)
			continue;
		batch_fail(batch, lrc == MDB_MAP_FULL ? STORE_EFULL :
		    lmdb_fail("write", lrc));
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

/* Queue one change and return once it is durable: the first waiter while
 * no commit runs leads, committing everything queued so far at once. */
static int group_commit(struct store *st, struct pending *me)
{
	struct pending **tail;

	pthread_mutex_lock(&st->lock);
	for (tail = &st->queue; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = me;
	st->queued++;
	pthread_cond_signal(&st->arrived);
	while (!me->done && st->committing)
		pthread_cond_wait(&st->cond, &st->lock);
	if (!me->done) {
		/* Leader: take everything queued so far, commit it once. */
		struct pending *batch;
		int64_t t0;
		st->committing = 1;
		gather(st);
		batch = st->queue;
		st->last_batch = st->queued;
		st->queue = NULL;
		st->queued = 0;
		pthread_mutex_unlock(&st->lock);
		t0 = mono_ns();
		commit_batch(st, batch);
		pthread_mutex_lock(&st->lock);
		st->last_ns = mono_ns() - t0;
		for (struct pending *p = batch; p; p = p->next) {
			snprintf(p->err, sizeof(p->err), "%s", errbuf);
			p->done = 1;
		}
		st->committing = 0;
		pthread_cond_broadcast(&st->cond);
	}
	pthread_mutex_unlock(&st->lock);
	/* store_strerror reads this thread's text: give it the leader's */
	if (me->rc != STORE_OK)
		snprintf(errbuf, sizeof(errbuf), "%s", me->err);
	return me->rc;
}

int store_record(struct store *st, struct store_event *ev, int *changed)
{
	struct pending me = { .ev = ev, .orig = *ev, .changed = changed };

	return group_commit(st, &me);
}

int store_soft_bounce(struct store *st, struct store_event *ev,
    unsigned limit, uint64_t window, unsigned *count, int *changed)
{
	struct pending me = { .ev = ev, .orig = *ev, .changed = changed,
		.soft_limit = limit, .soft_window = window, .soft_count = count };

	*count = 0;
	if (limit == 0 || limit > STORE_SOFT_MAX)
		return STORE_EINVAL;
	return group_commit(st, &me);
}

int store_record_batch(struct store *st, struct store_event *ev, size_t n,
    int *results, int *changed)
{
	struct pending *p = calloc(n ? n : 1, sizeof(*p));
	int rc = STORE_OK;

	if (p == NULL) {
		snprintf(errbuf, sizeof(errbuf), "out of memory");
		return STORE_EIO;
	}
	for (size_t i = 0; i < n; i++) {
		p[i].ev = &ev[i];
		p[i].orig = ev[i];
		p[i].changed = &changed[i];
		p[i].next = i + 1 < n ? &p[i + 1] : NULL;
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
	struct pending me = { .ev = ev, .orig = *ev, .changed = changed };

	commit_batch(st, &me);
	return me.rc;
}

/* Visit each record of `dbi` whose key starts with prefix (all when plen
 * is 0) in one read transaction; `each` returns 0 to go on, 1 to stop, or
 * a STORE_E* code. */
static int walk(struct store *st, MDB_dbi dbi, const void *prefix,
    size_t plen, int (*each)(const MDB_val *k, const MDB_val *v, void *arg),
    void *arg)
{
	MDB_txn *txn;
	MDB_cursor *cur = NULL;
	MDB_val k = { plen, (void *)prefix }, v;
	MDB_cursor_op op = plen ? MDB_SET_RANGE : MDB_FIRST;
	int rc, r;

	if ((rc = txn_begin(st, MDB_RDONLY, &txn)) != STORE_OK)
		return rc;
	if ((r = mdb_cursor_open(txn, dbi, &cur)) != 0) {
		txn_end(st, txn, 0);
		return lmdb_fail("mdb_cursor_open", r);
	}
	while ((r = mdb_cursor_get(cur, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		if (plen && (k.mv_size < plen || memcmp(k.mv_data, prefix, plen)))
			break;
		if ((rc = each(&k, &v, arg)) != 0)
			break;
	}
	if (rc == 1)
		rc = STORE_OK;
	if (r != 0 && r != MDB_NOTFOUND)
		rc = lmdb_fail("mdb_cursor_get", r);
	mdb_cursor_close(cur);
	txn_end(st, txn, 0);
	return rc;
}

/* What walk_supp and walk_hist hand to each record. */
struct visit {
	const char *scope;
	uint64_t since;
	size_t alen;
	size_t plen;		/* history key prefix: alen + 1, or + 2 */
	store_entry_fn entry_fn;
	store_event_fn event_fn;
	void *arg;
};

/* One "supp" record: decode, filter, pass on. */
static int each_supp(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct visit *vi = arg;
	struct store_entry e;
	const char *key = k->mv_data;
	const char *nul = memchr(key, '\0', k->mv_size);
	size_t alen = nul ? (size_t)(nul - key) : 0, slen;

	if (nul != NULL && is_hist(nul + 1, k->mv_size - alen - 1))
		return 0;	/* a history record */
	if (nul == NULL || alen > ADDRESS_MAX ||
	    (slen = k->mv_size - alen - 1) > STORE_SCOPE_MAX ||
	    decode_supp(v, &e) != STORE_OK) {
		snprintf(errbuf, sizeof(errbuf), "undecodable suppression "
		    "record");
		return STORE_ECORRUPT;
	}
	memcpy(e.address, key, alen + 1);
	memcpy(e.scope, nul + 1, slen);
	e.scope[slen] = '\0';
	if ((vi->scope && strcmp(vi->scope, e.scope) != 0) || e.time < vi->since)
		return 0;
	return vi->entry_fn(&e, vi->arg) != 0;
}

int store_status(struct store *st, const char *address, store_entry_fn fn,
    void *arg)
{
	struct visit vi = { .entry_fn = fn, .arg = arg };
	size_t a = strlen(address);

	if (a == 0 || a > ADDRESS_MAX)
		return STORE_EINVAL;
	return walk(st, st->supp, address, a + 1, each_supp, &vi);
}

int store_list(struct store *st, const char *scope, uint64_t since,
    store_entry_fn fn, void *arg)
{
	struct visit vi = { .scope = scope, .since = since, .entry_fn = fn,
		.arg = arg };

	return walk(st, st->supp, NULL, 0, each_supp, &vi);
}

/* Decode one history record, its key "address\0[mark]seq" with a prefix
 * of plen bytes, into ev. */
static int decode_hist(const MDB_val *k, const MDB_val *v, size_t alen,
    size_t plen, struct store_event *ev)
{
	const uint8_t *p = v->mv_data;
	const uint8_t *nul;
	size_t slen;

	if (k->mv_size != plen + 8 || v->mv_size < 12 || p[0] != HIST_VERSION)
		return STORE_ECORRUPT;
	nul = memchr(p + 11, '\0', v->mv_size - 11);
	if (nul == NULL || (slen = (size_t)(nul - (p + 11))) > STORE_SCOPE_MAX ||
	    v->mv_size - 12 - slen > STORE_DETAIL_MAX)
		return STORE_ECORRUPT;
	memcpy(ev->address, k->mv_data, alen + 1);
	ev->seq = get_u64((const uint8_t *)k->mv_data + plen);
	ev->time = get_u64(p + 1);
	ev->action = (enum store_action)p[9];
	ev->source = (enum store_source)p[10];
	memcpy(ev->scope, p + 11, slen + 1);
	memcpy(ev->detail, nul + 1, v->mv_size - 12 - slen);
	ev->detail[v->mv_size - 12 - slen] = '\0';
	return STORE_OK;
}

/* One "hist" record: decode, pass on. */
static int each_hist(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct visit *vi = arg;
	struct store_event ev;

	if (decode_hist(k, v, vi->alen, vi->plen, &ev) != STORE_OK) {
		snprintf(errbuf, sizeof(errbuf), "undecodable history record");
		return STORE_ECORRUPT;
	}
	return vi->event_fn(&ev, vi->arg) != 0;
}

int store_history(struct store *st, const char *address, store_event_fn fn,
    void *arg)
{
	struct visit vi = { .alen = strlen(address), .event_fn = fn,
		.arg = arg };
	uint8_t prefix[ADDRESS_MAX + 2];
	int rc;

	if (vi.alen == 0 || vi.alen > ADDRESS_MAX)
		return STORE_EINVAL;
	/* Older events first, from "hist"; every later sequence number is
	 * in "supp". */
	vi.plen = vi.alen + 1;
	if ((rc = walk(st, st->hist, address, vi.plen, each_hist, &vi)) !=
	    STORE_OK)
		return rc;
	memcpy(prefix, address, vi.alen + 1);
	prefix[vi.alen + 1] = HIST_MARK;
	vi.plen = vi.alen + 2;
	return walk(st, st->supp, prefix, vi.plen, each_hist, &vi);
}

int store_ref_put(struct store *st, const uint8_t ref[TOKEN_REF_LEN],
    const uint8_t *tok, size_t len)
{
	struct pending me = { .ref = ref, .tok = tok, .toklen = len };

	return group_commit(st, &me);
}

int store_ref_get(struct store *st, const uint8_t ref[TOKEN_REF_LEN],
    uint8_t *tok, size_t toksz, size_t *len)
{
	struct reader *rd;
	MDB_val k = { TOKEN_REF_LEN, (void *)ref }, v;
	int rc = reader_get(st, &rd), r;

	if (rc != STORE_OK)
		return rc;
	r = mdb_get(rd->txn, st->refs, &k, &v);
	if (r == 0 && v.mv_size <= toksz) {
		memcpy(tok, v.mv_data, v.mv_size);
		*len = v.mv_size;
	} else if (r == 0) {
		rc = STORE_ECORRUPT;
	} else {
		rc = r == MDB_NOTFOUND ? STORE_ENOTFOUND :
		    lmdb_fail("mdb_get", r);
	}
	reader_put(st, rd);
	return rc;
}

void store_detail_add(char detail[STORE_DETAIL_MAX + 1], const char *key,
    const char *value)
{
	size_t len = strlen(detail);

	if (value == NULL || value[0] == '\0' || len >= STORE_DETAIL_MAX)
		return;
	snprintf(detail + len, STORE_DETAIL_MAX + 1 - len, "%s%s=%s",
	    len ? " " : "", key, value);
	/* Values come from the network (a landing page's reason): no
	 * control character may reach a terminal or split a history line. */
	for (char *p = detail + len; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
}

const char *store_source_name(enum store_source s)
{
	static const char *const names[] = { "?", "mailto", "one-click",
		"landing-page", "manual", "import", "bounce", "soft-bounce",
		"complaint" };

	return s >= STORE_SRC_MAILTO && s <= STORE_SRC_LAST ? names[s] : "?";
}

int store_source_parse(const char *name, enum store_source *out)
{
	for (int s = STORE_SRC_MAILTO; s <= STORE_SRC_LAST; s++)
		if (strcmp(name, store_source_name(s)) == 0) {
			*out = s;
			return 0;
		}
	return -1;
}

const char *store_action_name(enum store_action a)
{
	return a == STORE_UNSUBSCRIBE ? "unsubscribe" :
	    a == STORE_RESUBSCRIBE ? "resubscribe" : "?";
}
