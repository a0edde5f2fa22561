/* store_journal.c - the mailto references a process registers, durable
 * across a crash of the process before their synced commit.  A list's
 * first mailing writes one reference a recipient; a synced commit for
 * each (group-committed) made it 0.2-0.4 as fast as a repeat mailing.
 *
 * store_ref_put appends the reference to a journal file in the store's
 * directory with one pwrite(2) and returns: the bytes are the kernel's, a
 * crash of the process loses nothing.  A flusher thread commits what was
 * appended in groups (synced, sharing store_record's group commit) and
 * starts the file over.  Two files, used in turn: writers append to one
 * while the other's references are committed.  The process holds
 * flock(LOCK_EX) on its files while open (taken before the file gets its
 * journal- name, so no other process can take it first); a writable
 * store_open replays and removes those no live process holds (a crashed
 * one's).  While commits fail, nothing more is journaled: a reference is
 * committed at once, and its caller sees the store's error.
 *
 * What a power loss costs: the references appended and not yet
 * committed (at most FLUSH_NS and a commit's time).  Their messages went out;
 * a mailto reply that carries only the reference reaches a human, as one
 * with an unknown reference does; the https link and the token in the
 * mailto subject still work, and the next mailing registers the same
 * reference again (ref_make is a function of address, list and scope).
 * The store itself is never at risk: LMDB's commits stay synced. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "store_int.h"

#define JOURNAL_PREFIX "journal-"
#define HIDDEN_PREFIX ".journal-"	/* being created: not to replay */
#define REPLAY_CHUNK 4096		/* references a replay commits at once */
#define REC_HEAD 4		/* 'R' | reflen | toklen (2, big-endian) */
#define REC_CHECK 8		/* SHA-256 of the rest, its first bytes */
#define REC_MAX (REC_HEAD + STORE_REF_MAX + TOKEN_BIN_MAX + REC_CHECK)
#define REPLAY_MAX (64u << 20)	/* a journal larger is not ours */
/* A group is committed at most this often (unless someone waits on it):
 * no wake-up of the flusher a reference, and fewer, larger commits.  A
 * reference's key is a hash, so a commit rewrites most leaf pages of the
 * tree it touches; the first mailing's figure against a repeat one (16
 * connections) was 0.74-0.81 at 0.1 s, 0.78-0.84 at 0.25 s, 0.80-0.90 at
 * 0.5 s. */
#define FLUSH_NS 500000000

struct store_journal {
	pthread_mutex_t mu;
	pthread_cond_t more;		/* appended, or stopping */
	pthread_cond_t flushed;		/* a group committed */
	int fd[2];			/* -1 until the first reference */
	char *path[2];
	struct store_ref *recs[2];	/* what each file holds */
	size_t n[2], cap[2];
	off_t off[2];			/* where the next record goes */
	int cur;			/* the file writers append to */
	uint64_t appended, committed;	/* references, for store_ref_wait */
	size_t replayed;		/* references store_open took over */
	size_t left;			/* journals it could not commit */
	char why[STORE_ERR_MAX];	/* the last one's reason */
	unsigned failed;		/* commits that failed */
	int stuck;			/* the last commit failed */
	int idle;			/* the flusher waits for a reference */
	int waiters;			/* store_ref_wait callers */
	int started, done;
	int stop;			/* closing, or store_ref_flush: no
					 * more journaling */
	pthread_t tid;
};

/* The check of a record's first len bytes. */
static int rec_check(const uint8_t *b, size_t len, uint8_t out[REC_CHECK])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen;

	if (EVP_Digest(b, len, md, &mdlen, EVP_sha256(), NULL) != 1)
		return -1;
	memcpy(out, md, REC_CHECK);
	return 0;
}

/* Encode r into b: its length, or 0 when the digest fails. */
static size_t rec_encode(const struct store_ref *r, uint8_t b[REC_MAX])
{
	size_t n = REC_HEAD + r->reflen + r->toklen;

	b[0] = 'R';
	b[1] = (uint8_t)r->reflen;
	b[2] = (uint8_t)(r->toklen >> 8);
	b[3] = (uint8_t)r->toklen;
	memcpy(b + REC_HEAD, r->ref, r->reflen);
	memcpy(b + REC_HEAD + r->reflen, r->tok, r->toklen);
	return rec_check(b, n, b + n) == 0 ? n + REC_CHECK : 0;
}

/* Decode the record at b (avail bytes) into r: its length, or 0 at the
 * end of what a crash left whole (a torn or absent record). */
static size_t rec_decode(const uint8_t *b, size_t avail, struct store_ref *r)
{
	uint8_t check[REC_CHECK];
	size_t n;

	if (avail < REC_HEAD || b[0] != 'R')
		return 0;
	r->reflen = b[1];
	r->toklen = (size_t)b[2] << 8 | b[3];
	n = REC_HEAD + r->reflen + r->toklen;
	if (r->reflen == 0 || r->reflen > STORE_REF_MAX ||
	    r->toklen > TOKEN_BIN_MAX || avail < n + REC_CHECK ||
	    rec_check(b, n, check) < 0 || memcmp(check, b + n, REC_CHECK) != 0)
		return 0;
	memcpy(r->ref, b + REC_HEAD, r->reflen);
	memcpy(r->tok, b + REC_HEAD + r->reflen, r->toklen);
	return n + REC_CHECK;
}

int store_journal_init(struct store *st)
{
	struct store_journal *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return STORE_EIO;
	pthread_mutex_init(&j->mu, NULL);
	store_cond_monotonic(&j->more);	/* the flusher's timed waits */
	pthread_cond_init(&j->flushed, NULL);
	j->fd[0] = j->fd[1] = -1;
	st->journal = j;
	return STORE_OK;
}

/* Commit the references of file k, retrying once a second until they
 * are in or the store closes (then the file stays, to be replayed).
 * Called and returning with j->mu held. */
static int flush_file(struct store *st, struct store_journal *j, int k)
{
	int rc;

	for (;;) {
		pthread_mutex_unlock(&j->mu);
		rc = store_commit_refs(st, j->recs[k], j->n[k]);
		pthread_mutex_lock(&j->mu);
		j->stuck = rc != STORE_OK;
		if (rc == STORE_OK || j->stop) {
			break;
		} else {
			struct timespec ts;
			j->failed++;	/* waiters stop waiting */
			pthread_cond_broadcast(&j->flushed);
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec++;
			pthread_cond_timedwait(&j->more, &j->mu, &ts);
		}
	}
	if (rc == STORE_OK) {
		/* Written over from the start, never truncated: no change of
		 * size, no metadata for the filesystem to journal a
		 * reference.  What lies past the new records was committed:
		 * replayed after a crash, it changes nothing (a reference
		 * stored is kept as it is, refs are never removed). */
		j->off[k] = 0;
		j->n[k] = 0;
	}
	return rc;
}

/* Wait until FLUSH_NS after last, unless stopping or waited on. */
static void gather(struct store_journal *j, const struct timespec *last)
{
	struct timespec due = *last;

	due.tv_nsec += FLUSH_NS;
	if (due.tv_nsec >= 1000000000) {
		due.tv_sec++;
		due.tv_nsec -= 1000000000;
	}
	while (!j->stop && j->waiters == 0 &&
	    pthread_cond_timedwait(&j->more, &j->mu, &due) == 0)
		;
}

static void *flusher(void *arg)
{
	struct store *st = arg;
	struct store_journal *j = st->journal;
	struct timespec last = { 0, 0 };

	pthread_mutex_lock(&j->mu);
	for (;;) {
		int k;
		uint64_t end;
		while (!j->stop && j->n[j->cur] == 0) {
			j->idle = 1;
			pthread_cond_wait(&j->more, &j->mu);
			j->idle = 0;
		}
		if (j->n[j->cur] == 0)
			break;	/* stopping, everything committed */
		gather(j, &last);
		clock_gettime(CLOCK_MONOTONIC, &last);
		k = j->cur;
		/* writers go on in the other file, emptied last round */
		j->cur = !k;
		end = j->appended;
		if (flush_file(st, j, k) != STORE_OK)
			break;	/* stopping: the file is replayed later */
		j->committed = end;
		pthread_cond_broadcast(&j->flushed);
	}
	j->done = 1;
	pthread_cond_broadcast(&j->flushed);
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

/* Undo what journal_start did: the files are removed. */
static int journal_unstart(struct store_journal *j)
{
	for (int k = 0; k < 2; k++)
		if (j->fd[k] >= 0 && j->path[k] != NULL) {
			unlink(j->path[k]);
			close(j->fd[k]);
			j->fd[k] = -1;
		}
	return -1;
}

/* Create journal file k, locked, under a name replay passes over, then
 * give it its name: no other process can lock it first.  0 or -1. */
static int journal_file(struct store *st, struct store_journal *j, int k,
    const char *name)
{
	char hidden[4096];
	struct stat dsb;

	if (asprintf(&j->path[k], "%s/" JOURNAL_PREFIX "%s%d-%ld", st->dir,
	    name, k, (long)getpid()) < 0) {
		j->path[k] = NULL;
		return -1;
	}
	snprintf(hidden, sizeof(hidden), "%s/" HIDDEN_PREFIX "%s%d-%ld",
	    st->dir, name, k, (long)getpid());
	if ((j->fd[k] = open(hidden, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0660)) < 0)
		return -1;
	/* root's (unsubctl) belong to the store's owner, as data.mdb does:
	 * whoever runs next may replay them */
	if (flock(j->fd[k], LOCK_EX | LOCK_NB) < 0 || (geteuid() == 0 &&
	    stat(st->dir, &dsb) == 0 &&
	    fchown(j->fd[k], dsb.st_uid, dsb.st_gid) < 0) ||
	    rename(hidden, j->path[k]) < 0) {
		unlink(hidden);
		close(j->fd[k]);
		j->fd[k] = -1;
		return -1;
	}
	return 0;
}

/* Create this process's two files (held with flock) and the flusher. */
static int journal_start(struct store *st, struct store_journal *j)
{
	uint8_t uid[STORE_UID_LEN];
	char name[64];

	store_uid_mint(uid);	/* its random half names the files */
	snprintf(name, sizeof(name), "%02x%02x%02x%02x%02x-", uid[8], uid[9],
	    uid[10], uid[11], uid[12]);
	for (int k = 0; k < 2; k++)
		if (journal_file(st, j, k, name) < 0)
			return journal_unstart(j);
	if (pthread_create(&j->tid, NULL, flusher, st) != 0)
		return journal_unstart(j);
	pthread_setname_np(j->tid, "unsub-journal");	/* top -H, perf */
	j->started = 1;
	return 0;
}

/* Put r in the journal: STORE_OK, STORE_EIO (store_strerror says why),
 * or 1 when this process cannot journal or its commits fail (the caller
 * commits the reference itself). */
static int journal_put(struct store *st, const struct store_ref *r)
{
	struct store_journal *j = st->journal;
	uint8_t b[REC_MAX];
	size_t n = rec_encode(r, b);
	struct store_ref *a;
	int k, rc = STORE_EIO;

	if (j == NULL || n == 0)
		return 1;
	pthread_mutex_lock(&j->mu);
	if (j->stuck || j->stop || (!j->started && (j->path[0] != NULL ||
	    journal_start(st, j) < 0))) {
		rc = 1;		/* commits fail, or no journal: at once */
		goto out;
	}
	k = j->cur;
	if (j->n[k] == j->cap[k]) {
		size_t cap = j->cap[k] ? 2 * j->cap[k] : 64;
		if ((a = realloc(j->recs[k], cap * sizeof(*a))) == NULL)
			goto out;
		j->recs[k] = a;
		j->cap[k] = cap;
	}
	if (pwrite(j->fd[k], b, n, j->off[k]) != (ssize_t)n) {
		snprintf(store_errbuf, sizeof(store_errbuf),
		    "reference journal %s: %s", j->path[k], strerror(errno));
		goto out;
	}
	j->off[k] += (off_t)n;
	j->recs[k][j->n[k]++] = *r;
	j->appended++;
	if (j->idle)
		pthread_cond_signal(&j->more);
	rc = STORE_OK;
out:
	pthread_mutex_unlock(&j->mu);
	return rc;
}

int store_ref_put(struct store *st, const uint8_t *key, size_t keylen,
    const uint8_t *val, size_t len)
{
	struct store_ref r;
	int rc;

	if (keylen == 0 || keylen > STORE_REF_MAX || len > TOKEN_BIN_MAX) {
		snprintf(store_errbuf, sizeof(store_errbuf), "reference too long");
		return STORE_EINVAL;
	}
	memcpy(r.ref, key, keylen);
	r.reflen = keylen;
	memcpy(r.tok, val, len);
	r.toklen = len;
	if ((rc = journal_put(st, &r)) != 1)
		return rc;
	return store_commit_refs(st, &r, 1);	/* no journal: at once */
}

/* Is key among the references this process journaled and has not
 * committed?  With j->mu held. */
static int pending(const struct store_journal *j, const uint8_t *key,
    size_t keylen)
{
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < j->n[k]; i++)
			if (j->recs[k][i].reflen == keylen &&
			    memcmp(j->recs[k][i].ref, key, keylen) == 0)
				return 1;
	return 0;
}

int store_ref_wait(struct store *st, const uint8_t *key, size_t keylen)
{
	struct store_journal *j = st->journal;
	uint64_t want;
	unsigned failed;
	int rc = STORE_OK;

	if (j == NULL)
		return STORE_OK;
	pthread_mutex_lock(&j->mu);
	/* only for one of ours: an unknown reference forces no commit */
	if (j->started && pending(j, key, keylen)) {
		want = j->appended;
		failed = j->failed;
		j->waiters++;
		pthread_cond_signal(&j->more);	/* now, not in 0.5 s */
		while (!j->done && j->committed < want && j->failed == failed)
			pthread_cond_wait(&j->flushed, &j->mu);
		j->waiters--;
		rc = j->committed >= want ? STORE_OK : STORE_EIO;
	}
	pthread_mutex_unlock(&j->mu);
	if (rc != STORE_OK)
		snprintf(store_errbuf, sizeof(store_errbuf), "mailto "
		    "references of this process are not committed yet (the "
		    "store fails)");
	return rc;
}

/* Stop the flusher once it has committed what it can; remove the files
 * it emptied (the others are replayed later). */
static void journal_stop(struct store_journal *j)
{
	pthread_mutex_lock(&j->mu);
	j->stop = 1;
	pthread_cond_signal(&j->more);
	pthread_mutex_unlock(&j->mu);
	if (j->started)
		pthread_join(j->tid, NULL);
	j->started = 0;
	for (int k = 0; k < 2; k++)
		if (j->fd[k] >= 0) {
			if (j->n[k] == 0)
				unlink(j->path[k]);
			close(j->fd[k]);
			j->fd[k] = -1;
		}
}

void store_ref_flush(struct store *st)
{
	if (st != NULL && st->journal != NULL)
		journal_stop(st->journal);
}

void store_journal_close(struct store *st)
{
	struct store_journal *j = st->journal;

	if (j == NULL)
		return;
	journal_stop(j);
	for (int k = 0; k < 2; k++) {
		free(j->path[k]);
		free(j->recs[k]);
	}
	pthread_mutex_destroy(&j->mu);
	pthread_cond_destroy(&j->more);
	pthread_cond_destroy(&j->flushed);
	free(j);
	st->journal = NULL;
}

/* Commit the whole records fd holds, REPLAY_CHUNK at a time: *n of
 * them.  A STORE_* code; STORE_EIO with the reason when the file cannot
 * be read whole. */
static int replay_file(struct store *st, int fd, size_t *n)
{
	struct store_ref *refs = malloc(REPLAY_CHUNK * sizeof(*refs));
	struct stat sb;
	uint8_t *b = NULL;
	size_t off = 0, len = 0, at = 0, used = 1, k = 0;
	ssize_t got = 1;
	int rc = STORE_OK;

	*n = 0;
	if (refs == NULL || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) ||
	    (size_t)sb.st_size > REPLAY_MAX ||
	    (b = malloc((size_t)sb.st_size + 1)) == NULL)
		got = -1;
	else
		len = (size_t)sb.st_size;
	while (got > 0 && off < len && (got = pread(fd, b + off, len - off,
	    (off_t)off)) > 0)
		off += (size_t)got;
	if (got < 0 || off < len) {
		snprintf(store_errbuf, sizeof(store_errbuf), "%s",
		    refs == NULL || b == NULL ? "larger than 64 MiB, or out of "
		    "memory" : "cannot be read whole");
		rc = STORE_EIO;
	}
	while (rc == STORE_OK && used > 0) {
		used = at < off ? rec_decode(b + at, off - at, &refs[k]) : 0;
		at += used;
		k += used > 0;
		if ((k == REPLAY_CHUNK || (used == 0 && k > 0)) &&
		    (rc = store_commit_refs(st, refs, k)) == STORE_OK) {
			*n += k;
			k = 0;
		}
	}
	free(b);
	free(refs);
	return rc;
}

/* Replay and remove one journal no live process holds; one that is being
 * created and was left (its creator died first) holds nothing: removed. */
static void replay_one(struct store *st, const char *path, int hidden)
{
	struct store_journal *j = st->journal;
	struct stat a, b;
	size_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK),
	    rc;

	if (fd < 0)
		return;		/* gone, or another user's: theirs */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 || fstat(fd, &a) < 0 ||
	    lstat(path, &b) < 0 || a.st_ino != b.st_ino ||
	    a.st_dev != b.st_dev) {
		close(fd);
		return;		/* a live writer's, or replayed */
	}
	if (hidden || (rc = replay_file(st, fd, &n)) == STORE_OK) {
		unlink(path);
		j->replayed += hidden ? 0 : n;
	} else {
		j->left++;	/* kept, to be tried at the next open */
		snprintf(j->why, sizeof(j->why), "%.200s: %.300s", path,
		    store_strerror(rc));
	}
	close(fd);
}

size_t store_replayed(const struct store *st, size_t *left,
    const char **why)
{
	const struct store_journal *j = st->journal;

	*left = j != NULL ? j->left : 0;
	*why = j != NULL ? j->why : "";
	return j != NULL ? j->replayed : 0;
}

void store_journal_replay(struct store *st)
{
	DIR *d = opendir(st->dir);
	struct dirent *e;
	char path[4096];

	if (d == NULL)
		return;		/* store_open said why, if it matters */
	while ((e = readdir(d)) != NULL) {
		int hidden = strncmp(e->d_name, HIDDEN_PREFIX,
		    sizeof(HIDDEN_PREFIX) - 1) == 0;
		if (!hidden && strncmp(e->d_name, JOURNAL_PREFIX,
		    sizeof(JOURNAL_PREFIX) - 1) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", st->dir, e->d_name);
		replay_one(st, path, hidden);
	}
	closedir(d);
}
