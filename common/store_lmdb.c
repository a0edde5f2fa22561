/* store_lmdb.c - the store's LMDB environment, kept apart from what the
 * records mean (as Postfix keeps slmdb.c apart from dict_lmdb.c): opening
 * it, transactions that follow another process's map growth, a cache of
 * read transactions, growing a full map, and the error text.
 * The files themselves, and what an operator may do to them, are
 * store_files.c's. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store_int.h"

#define READERS_KEPT 64	/* idle read transactions kept, each a reader slot */

__thread char store_errbuf[STORE_ERR_MAX];

/* Remember an LMDB failure for store_strerror. */
int store_lmdb_fail(const char *what, int rc)
{
	snprintf(store_errbuf, sizeof(store_errbuf), "LMDB %s: %s", what,
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
	return store_errbuf[0] ? store_errbuf : "store error";
}

static int env_open(struct store *st);

#define WHOLE_EVERY_NS 1000000	/* reads look at data.mdb's size at
					 * most this often */

/* Is it time to look at data.mdb's size again?  Every write looks (it
 * commits only into a whole file); reads, the suppression check among
 * them, at most every WHOLE_EVERY_NS: two fstat calls were two thirds of
 * a check's time.  A file cut shorter in between can still fault a read,
 * as it can in the middle of any transaction. */
static int whole_due(struct store *st, int writing, int64_t *now)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	*now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	return writing || *now - atomic_load_explicit(&st->whole_ns,
	    memory_order_relaxed) >= WHOLE_EVERY_NS;
}

/* Take the resize lock shared, with the environment open and whole (see
 * whole_due): a reopen that failed (store_reopen) is tried again here. */
static int env_hold(struct store *st, int writing)
{
	int64_t now;
	int rc = STORE_OK;

	pthread_rwlock_rdlock(&st->resize);
	while (st->env == NULL) {
		pthread_rwlock_unlock(&st->resize);
		pthread_rwlock_wrlock(&st->resize);
		if (st->env == NULL)
			rc = env_open(st);
		pthread_rwlock_unlock(&st->resize);
		if (rc != STORE_OK)
			return rc;
		pthread_rwlock_rdlock(&st->resize);
	}
	if (!whole_due(st, writing, &now))
		return STORE_OK;
	if ((rc = store_env_whole(st)) != STORE_OK)
		pthread_rwlock_unlock(&st->resize);
	else
		atomic_store_explicit(&st->whole_ns, now,
		    memory_order_relaxed);
	return rc;
}

/* Begin a transaction, following another process's map growth (which
 * may go on while we follow it: a few tries). */
static int txn_begin(struct store *st, unsigned flags, int writing,
    MDB_txn **txn)
{
	int rc;

	if ((rc = env_hold(st, writing)) != STORE_OK)
		return rc;
	for (int tries = 0; (rc = mdb_txn_begin(st->env, NULL, flags,
	    txn)) == MDB_MAP_RESIZED && tries < 8; tries++) {
		pthread_rwlock_unlock(&st->resize);
		pthread_rwlock_wrlock(&st->resize);
		rc = mdb_env_set_mapsize(st->env, 0);
		pthread_rwlock_unlock(&st->resize);
		if (rc != 0)
			return store_lmdb_fail("mdb_env_set_mapsize", rc);
		pthread_rwlock_rdlock(&st->resize);
	}
	if (rc != 0) {
		pthread_rwlock_unlock(&st->resize);
		return store_lmdb_fail("mdb_txn_begin", rc);
	}
	return STORE_OK;
}

int store_txn_begin(struct store *st, unsigned flags, MDB_txn **txn)
{
	return txn_begin(st, flags, !(flags & MDB_RDONLY), txn);
}

/* End a read transaction (or abandon a write) and release the resize
 * lock; writes commit through store_txn_commit. */
void store_txn_end(struct store *st, MDB_txn *txn)
{
	mdb_txn_abort(txn);
	pthread_rwlock_unlock(&st->resize);
}

/* Close a reader for good. */
static void reader_free(struct store_reader *r)
{
	mdb_cursor_close(r->cur);
	mdb_txn_abort(r->txn);
	free(r);
}

/* A read transaction on the current snapshot, from the idle list if one
 * is there; reader_put gives it back. */
int store_reader_get(struct store *st, int writing,
    struct store_reader **out)
{
	struct store_reader *r;
	int rc;

	pthread_mutex_lock(&st->rlock);
	if ((r = st->idle) != NULL) {
		st->idle = r->next;
		st->n_idle--;
	}
	pthread_mutex_unlock(&st->rlock);
	if (r != NULL) {
		if ((rc = env_hold(st, writing)) != STORE_OK) {
			reader_free(r);
			return rc;
		}
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
		snprintf(store_errbuf, sizeof(store_errbuf), "out of memory");
		return STORE_EIO;
	}
	if ((rc = txn_begin(st, MDB_RDONLY, writing, &r->txn)) != STORE_OK) {
		free(r);
		return rc;
	}
	if ((rc = mdb_cursor_open(r->txn, st->supp, &r->cur)) != 0) {
		store_txn_end(st, r->txn);
		free(r);
		return store_lmdb_fail("mdb_cursor_open", rc);
	}
	*out = r;
	return STORE_OK;
}

/* Give a read transaction back: reset and kept, up to READERS_KEPT, so
 * that a burst of readers does not hold reader slots other processes
 * sharing the store may need. */
void store_reader_put(struct store *st, struct store_reader *r)
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
int store_grow(struct store *st)
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
		snprintf(store_errbuf, sizeof(store_errbuf), "LMDB map full at %zu bytes "
		    "(DatabaseMapMax)", info.me_mapsize);
		return STORE_EFULL;
	}
	return STORE_OK;
}

/* Open the named databases inside one transaction (no resize lock: at
 * open, or under it held exclusive). */
static int open_dbs(struct store *st)
{
	MDB_txn *txn;
	unsigned flags = st->opts.read_only ? 0 : MDB_CREATE;
	int rc;

	/* another process may grow the map while we follow it: a few tries,
	 * as store_txn_begin */
	for (int tries = 0; (rc = mdb_txn_begin(st->env, NULL,
	    st->opts.read_only ? MDB_RDONLY : 0, &txn)) == MDB_MAP_RESIZED &&
	    tries < 8; tries++)
		if ((rc = mdb_env_set_mapsize(st->env, 0)) != 0)
			break;
	if (rc != 0)
		return store_lmdb_fail("mdb_txn_begin", rc);
	if ((rc = mdb_dbi_open(txn, "supp", flags, &st->supp)) != 0 ||
	    (rc = mdb_dbi_open(txn, "hist", flags, &st->hist)) != 0 ||
	    (rc = mdb_dbi_open(txn, "refs", flags, &st->refs)) != 0 ||
	    (rc = mdb_dbi_open(txn, "meta", flags, &st->meta)) != 0 ||
	    (rc = mdb_dbi_open(txn, "merge", flags, &st->merge)) != 0 ||
	    (rc = mdb_dbi_open(txn, "events", flags, &st->events)) != 0 ||
	    (rc = mdb_dbi_open(txn, "uids", flags, &st->uids)) != 0 ||
	    ((rc = mdb_dbi_open(txn, "lists", flags, &st->lists)) != 0 &&
	    !(st->opts.read_only && rc == MDB_NOTFOUND))) {
		mdb_txn_abort(txn);
		if (rc == MDB_NOTFOUND) {
			snprintf(store_errbuf, sizeof(store_errbuf), "store not "
			    "initialised yet (no write has happened)");
			return STORE_EOPEN;
		}
		return store_lmdb_fail("mdb_dbi_open", rc);
	}
	st->has_lists = rc == 0;	/* older stores: created by a writer */
	if ((rc = mdb_txn_commit(txn)) != 0)
		return store_lmdb_fail("mdb_txn_commit", rc);
	return STORE_OK;
}

void store_cond_monotonic(pthread_cond_t *c)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(c, &ca);
	pthread_condattr_destroy(&ca);
}

/* The map-growth lock, the group-commit queue's and the reader cache's. */
static void init_locks(struct store *st)
{
	pthread_rwlockattr_t ra;

	/* Writers first: glibc's default lets a steady stream of readers
	 * starve the map growth (no thread takes the read lock twice). */
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra,
	    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&st->resize, &ra);
	pthread_rwlockattr_destroy(&ra);
	pthread_mutex_init(&st->lock, NULL);
	st->tail = &st->queue;
	pthread_cond_init(&st->cond, NULL);
	store_cond_monotonic(&st->arrived);
	pthread_mutex_init(&st->rlock, NULL);
}

/* Open the environment at st->dir (at open, or under the resize lock
 * held exclusive), whole, its files' identity noted; on failure st->env
 * is NULL. */
static int env_open(struct store *st)
{
	const char *dir = st->dir;
	struct stat sb;
	MDB_stat ms;
	int rc, fd;

	if ((rc = store_env_create_open(st)) != 0) {
		snprintf(store_errbuf, sizeof(store_errbuf), "database directory %s: %s",
		    dir, rc == ENOENT ? "no store there yet" :
		    mdb_strerror(rc));
		rc = rc == MDB_INVALID ? STORE_ECORRUPT : STORE_EOPEN;
		goto fail;
	}
	/* Root (unsubctl) must not leave files the daemons cannot open: as
	 * postmap does, give those an older version made root's to the
	 * owner of the directory. */
	if (geteuid() == 0 && stat(dir, &sb) == 0)
		store_own_like_dir(dir, &sb);
	/* The files LMDB has open: data.mdb by its descriptor, lock.mdb by
	 * its path just after the open (LMDB does not give its descriptor). */
	mdb_env_get_fd(st->env, &fd);
	if (fstat(fd, &sb) < 0) {
		rc = store_lmdb_fail("fstat data.mdb", errno);
		goto fail;
	}
	st->data_id.dev = sb.st_dev;
	st->data_id.ino = sb.st_ino;
	st->lock_id = store_file_id(dir, "lock.mdb");
	mdb_env_stat(st->env, &ms);
	st->psize = ms.ms_psize;
	if ((rc = store_env_whole(st)) != STORE_OK)
		goto fail;
	/* Free reader slots left by processes that died holding them (a
	 * killed milter), so their pages can be reused. */
	mdb_reader_check(st->env, &(int){ 0 });
	if ((rc = open_dbs(st)) != STORE_OK)
		goto fail;
	return STORE_OK;
fail:
	mdb_env_close(st->env);
	st->env = NULL;
	return rc;
}

/* Free the idle read transactions (the environment is about to close). */
static void readers_free(struct store *st)
{
	pthread_mutex_lock(&st->rlock);
	for (struct store_reader *r = st->idle, *next; r != NULL; r = next) {
		next = r->next;
		reader_free(r);
	}
	st->idle = NULL;
	st->n_idle = 0;
	pthread_mutex_unlock(&st->rlock);
}

int store_reopen(struct store *st)
{
	char why[STORE_ERR_MAX] = "";
	int rc = STORE_OK;

	pthread_rwlock_wrlock(&st->resize);
	/* Another thread may have reopened it, or only a stale snapshot
	 * (files unchanged) brought us here. */
	if (st->env == NULL || !store_files_same(st)) {
		readers_free(st);
		if (st->env != NULL)
			mdb_env_close(st->env);
		if ((rc = env_open(st)) != STORE_OK)
			snprintf(why, sizeof(why), ": %.300s", store_errbuf);
	}
	pthread_rwlock_unlock(&st->resize);
	snprintf(store_errbuf, sizeof(store_errbuf), "%.100s/data.mdb or lock.mdb "
	    "was replaced or removed, or another writer shares no lock with "
	    "this one: nothing written; store %s%s", st->dir,
	    rc == STORE_OK ? "reopened, try again" : "not reopened", why);
	return STORE_EIO;
}

int store_open(const char *dir, const struct store_opts *opts,
    struct store **out)
{
	struct store *st = NULL;
	struct stat sb;
	int rc;

	*out = NULL;
	store_errbuf[0] = '\0';
	if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		snprintf(store_errbuf, sizeof(store_errbuf), "database directory %s: %s",
		    dir, errno && !S_ISDIR(sb.st_mode) ? strerror(errno) :
		    "not a directory");
		if (stat(dir, &sb) == 0 && !S_ISDIR(sb.st_mode))
			snprintf(store_errbuf, sizeof(store_errbuf), "database directory "
			    "%s: not a directory", dir);
		return STORE_EOPEN;
	}
	if (access(dir, opts->read_only ? R_OK | X_OK : R_OK | W_OK | X_OK) <
	    0) {
		snprintf(store_errbuf, sizeof(store_errbuf), "database directory %s: %s",
		    dir, strerror(errno));
		return STORE_EOPEN;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return STORE_EIO;
	init_locks(st);
	st->map_max = opts->map_max;
	if (opts->host != NULL && opts->host[0] != '\0')
		snprintf(st->host, sizeof(st->host), "%s", opts->host);
	else if (gethostname(st->host, sizeof(st->host)) < 0)
		st->host[0] = '\0';
	st->host[sizeof(st->host) - 1] = '\0';
	st->opts = *opts;
	st->opts.host = st->host;	/* the caller's may not outlive it */
	if ((st->dir = strdup(dir)) == NULL) {
		rc = STORE_EIO;
		goto fail;
	}
	if ((rc = env_open(st)) != STORE_OK)
		goto fail;
	/* references a crashed process acknowledged and never committed */
	if (!opts->read_only) {
		if ((rc = store_journal_init(st)) != STORE_OK)
			goto fail;
		store_journal_replay(st);
	}
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
	store_journal_close(st);	/* its last commit needs the env */
	readers_free(st);
	if (st->env != NULL)
		mdb_env_close(st->env);
	pthread_rwlock_destroy(&st->resize);
	pthread_mutex_destroy(&st->lock);
	pthread_cond_destroy(&st->cond);
	pthread_cond_destroy(&st->arrived);
	pthread_mutex_destroy(&st->rlock);
	free(st->dir);
	free(st);
}

