/* store_files.c - the store's two files as an operator sees them: who
 * owns them, are they whole, are they still the ones open.
 *
 * Two operator mistakes LMDB does not guard against are caught here.  A
 * data.mdb shorter than its newest meta page says it is (truncated, or a
 * corrupt meta page) would kill the process with SIGBUS on the first
 * read past its end: store_env_whole refuses it, at open, before every
 * write and every few milliseconds of reads (store_lmdb.c, env_hold).  A
 * data.mdb or lock.mdb removed or replaced under running processes would
 * let them write into an unlinked file, or (a second lock.mdb) two
 * writers at once: store_txn_commit commits only into the files the path
 * names now, under a lock on data.mdb itself. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_int.h"

/* data.mdb's size, into *size. */
static int data_size(struct store *st, off_t *size)
{
	struct stat sb;
	int fd;

	if (mdb_env_get_fd(st->env, &fd) != 0 || fstat(fd, &sb) < 0) {
		snprintf(store_errbuf, sizeof(store_errbuf), "%.200s/data.mdb: "
		    "%s", st->dir, strerror(errno));
		return STORE_EIO;
	}
	*size = sb.st_size;
	return STORE_OK;
}

/* Is data.mdb as long as its newest meta page says?  The two meta pages
 * first (reading the map's meta past the end of the file is SIGBUS),
 * then the meta page, then the size again: a writer extends the file
 * before it writes the meta page that names the new pages.  Two fstat
 * calls; STORE_ECORRUPT with the sizes when it is short. */
int store_env_whole(struct store *st)
{
	MDB_envinfo info;
	off_t size;
	int rc;

	if ((rc = data_size(st, &size)) != STORE_OK)
		return rc;
	if ((size_t)size < 2 * st->psize) {
		snprintf(store_errbuf, sizeof(store_errbuf), "%.200s/data.mdb is "
		    "%jd bytes, shorter than its two meta pages of %zu: "
		    "truncated, refusing to read it", st->dir, (intmax_t)size,
		    st->psize);
		return STORE_ECORRUPT;
	}
	mdb_env_info(st->env, &info);
	if ((rc = data_size(st, &size)) != STORE_OK)
		return rc;
	if ((size_t)size / st->psize > info.me_last_pgno)
		return STORE_OK;
	snprintf(store_errbuf, sizeof(store_errbuf), "%.200s/data.mdb is %jd "
	    "bytes, its meta page names page %zu of %zu bytes: truncated or "
	    "corrupt, refusing to read it", st->dir, (intmax_t)size,
	    info.me_last_pgno, st->psize);
	return STORE_ECORRUPT;
}

/* The identity of the file at dir/name, or zeros when there is none. */
struct store_file_id store_file_id(const char *dir, const char *name)
{
	struct store_file_id id = { 0, 0 };
	char path[4096];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (stat(path, &sb) == 0) {
		id.dev = sb.st_dev;
		id.ino = sb.st_ino;
	}
	return id;
}

/* Do data.mdb and lock.mdb at the path still name the files opened? */
int store_files_same(const struct store *st)
{
	struct store_file_id d = store_file_id(st->dir, "data.mdb");
	struct store_file_id l = store_file_id(st->dir, "lock.mdb");

	return d.dev == st->data_id.dev && d.ino == st->data_id.ino &&
	    l.dev == st->lock_id.dev && l.ino == st->lock_id.ino;
}

/* Commit only into the store the path names now.  Processes that no
 * longer share one lock.mdb (it was removed and another created) no
 * longer share LMDB's writer lock either: the lock on data.mdb's first
 * byte (an open file description lock, so that no close elsewhere drops
 * it) makes their commits take turns, and a transaction begun before
 * another writer's commit, which it would overwrite, sees that the
 * newest meta page is not its parent. */
int store_txn_commit(struct store *st, MDB_txn *txn, int *stale)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
		.l_len = 1 };
	MDB_envinfo info;
	int fd, rc = 0;

	*stale = 0;
	mdb_env_get_fd(st->env, &fd);
	if (fcntl(fd, F_OFD_SETLKW, &fl) < 0) {
		rc = errno;
		mdb_txn_abort(txn);
		return rc;
	}
	mdb_env_info(st->env, &info);
	if (store_files_same(st) && info.me_last_txnid + 1 == mdb_txn_id(txn))
		rc = mdb_txn_commit(txn);
	else {
		*stale = 1;
		mdb_txn_abort(txn);
	}
	fl.l_type = F_UNLCK;
	fcntl(fd, F_OFD_SETLK, &fl);
	return rc;
}

/* A new environment in st->env with our limits, opened on st->dir;
 * as_uid/as_gid (when as_uid is not -1): this thread's filesystem ids
 * while LMDB creates or opens the files.  An LMDB code; on failure
 * st->env is NULL (a failed open leaves a handle only good to close). */
static int env_try(struct store *st, uid_t as_uid, gid_t as_gid)
{
	int rc, ou = 0, og = 0;

	if ((rc = mdb_env_create(&st->env)) != 0) {
		st->env = NULL;
		return rc;
	}
	mdb_env_set_maxdbs(st->env, STORE_DBS);
	mdb_env_set_maxreaders(st->env, 1024);
	mdb_env_set_mapsize(st->env, st->opts.map_size ? st->opts.map_size :
	    STORE_MAP_DEFAULT);
	if (as_uid != (uid_t)-1) {
		og = setfsgid(as_gid);
		ou = setfsuid(as_uid);
	}
	rc = mdb_env_open(st->env, st->dir, MDB_NOTLS | (st->opts.read_only ?
	    MDB_RDONLY : 0), 0660);
	if (as_uid != (uid_t)-1) {
		setfsuid((uid_t)ou);
		setfsgid((gid_t)og);
	}
	if (rc != 0) {
		mdb_env_close(st->env);
		st->env = NULL;
	}
	return rc;
}

/* Open st->env.  Root (unsubctl) creates data.mdb and lock.mdb as the
 * directory's owner, so a daemon starting at that moment never finds
 * files born root's that it may not open; files an older version left
 * root's are opened as root (and given to the owner after, own_like_dir). */
int store_env_create_open(struct store *st)
{
	struct stat dsb;
	int rc;

	if (geteuid() != 0 || stat(st->dir, &dsb) < 0 || dsb.st_uid == 0)
		return env_try(st, (uid_t)-1, 0);
	if ((rc = env_try(st, dsb.st_uid, dsb.st_gid)) == EACCES)
		rc = env_try(st, (uid_t)-1, 0);
	return rc;
}

/* Give data.mdb and lock.mdb the owner and group of their directory. */
void store_own_like_dir(const char *dir, const struct stat *dsb)
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

