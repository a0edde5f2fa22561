/* store_lmdb.c - the store's LMDB environment, kept apart from what the
 * records mean (as Postfix keeps slmdb.c apart from dict_lmdb.c): opening
 * it, transactions that follow another process's map growth, a cache of
 * read transactions, growing a full map, and the error text. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store_int.h"

#define DEFAULT_MAP (64UL << 20)
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

/* Begin a transaction, following another process's map growth (which
 * may go on while we follow it: a few tries). */
int store_txn_begin(struct store *st, unsigned flags, MDB_txn **txn)
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
			return store_lmdb_fail("mdb_env_set_mapsize", rc);
		pthread_rwlock_rdlock(&st->resize);
	}
	if (rc != 0) {
		pthread_rwlock_unlock(&st->resize);
		return store_lmdb_fail("mdb_txn_begin", rc);
	}
	return STORE_OK;
}

/* End a transaction (commit or abort) and release the resize lock. */
int store_txn_end(struct store *st, MDB_txn *txn, int commit)
{
	int rc = 0;

	if (commit)
		rc = mdb_txn_commit(txn);
	else
		mdb_txn_abort(txn);
	pthread_rwlock_unlock(&st->resize);
	return rc == 0 ? STORE_OK : store_lmdb_fail("mdb_txn_commit", rc);
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
int store_reader_get(struct store *st, struct store_reader **out)
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
		snprintf(store_errbuf, sizeof(store_errbuf), "out of memory");
		return STORE_EIO;
	}
	if ((rc = store_txn_begin(st, MDB_RDONLY, &r->txn)) != STORE_OK) {
		free(r);
		return rc;
	}
	if ((rc = mdb_cursor_open(r->txn, st->supp, &r->cur)) != 0) {
		store_txn_end(st, r->txn, 0);
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

/* Open the named databases inside one transaction. */
static int open_dbs(struct store *st, int read_only)
{
	MDB_txn *txn;
	unsigned flags = read_only ? 0 : MDB_CREATE;
	int rc;

	if ((rc = store_txn_begin(st, read_only ? MDB_RDONLY : 0, &txn)) !=
	    STORE_OK)
		return rc;
	if ((rc = mdb_dbi_open(txn, "supp", flags, &st->supp)) != 0 ||
	    (rc = mdb_dbi_open(txn, "hist", flags, &st->hist)) != 0 ||
	    (rc = mdb_dbi_open(txn, "refs", flags, &st->refs)) != 0 ||
	    (rc = mdb_dbi_open(txn, "meta", flags, &st->meta)) != 0 ||
	    (rc = mdb_dbi_open(txn, "merge", flags, &st->merge)) != 0 ||
	    (rc = mdb_dbi_open(txn, "events", flags, &st->events)) != 0 ||
	    (rc = mdb_dbi_open(txn, "uids", flags, &st->uids)) != 0) {
		store_txn_end(st, txn, 0);
		if (rc == MDB_NOTFOUND) {
			snprintf(store_errbuf, sizeof(store_errbuf), "store not "
			    "initialised yet (no write has happened)");
			return STORE_EOPEN;
		}
		return store_lmdb_fail("mdb_dbi_open", rc);
	}
	return store_txn_end(st, txn, 1);
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

/* The map-growth lock, the group-commit queue's and the reader cache's. */
static void init_locks(struct store *st)
{
	pthread_rwlockattr_t ra;
	pthread_condattr_t ca;

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
	if ((rc = mdb_env_create(&st->env)) != 0) {
		rc = store_lmdb_fail("mdb_env_create", rc);
		goto fail;
	}
	mdb_env_set_maxdbs(st->env, STORE_DBS);
	mdb_env_set_maxreaders(st->env, 1024);
	mdb_env_set_mapsize(st->env, opts->map_size ? opts->map_size :
	    DEFAULT_MAP);
	rc = mdb_env_open(st->env, dir, MDB_NOTLS | (opts->read_only ?
	    MDB_RDONLY : 0), 0660);
	if (rc != 0) {
		snprintf(store_errbuf, sizeof(store_errbuf), "database directory %s: %s",
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
	for (struct store_reader *r = st->idle, *next; r != NULL; r = next) {
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

