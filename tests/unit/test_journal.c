/* test_journal.c - mailto references are acknowledged once in the
 * process's journal (store_journal.c): a process killed before their
 * commit loses none (the next writable open replays them), a torn tail
 * is left alone, a live process's journal is never taken from it, a
 * clean close leaves no file behind, and a store that cannot commit
 * them stops the journal instead of acknowledging without end. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lmdb.h>

#include "store.h"
#include "unit.h"

#define REFS 50

static char dir[64];

static void setup(void)
{
	strcpy(dir, "/tmp/unsub-journal-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static struct store *open_store(void)
{
	struct store_opts o = { 0, 0, 0, "here" };
	struct store *st;

	ck_assert_msg(store_open(dir, &o, &st) == STORE_OK, "open: %s",
	    store_strerror(-2));
	return st;
}

/* Reference i and its token. */
static void ref_i(int i, uint8_t ref[16], uint8_t tok[80])
{
	memset(ref, 0, 16);
	memset(tok, 0, 80);
	snprintf((char *)ref, 16, "ref-%d", i);
	snprintf((char *)tok, 80, "token of reference %d", i);
}

/* How many of references 0..n-1 the store has, each with its token. */
static int stored(struct store *st, int n)
{
	uint8_t ref[16], tok[80], back[128];
	size_t len;
	int found = 0;

	for (int i = 0; i < n; i++) {
		ref_i(i, ref, tok);
		found += store_ref_get(st, ref, sizeof(ref), back, sizeof(back),
		    &len) == STORE_OK && len == sizeof(tok) &&
		    memcmp(back, tok, len) == 0;
	}
	return found;
}

/* Files in dir whose name starts with "journal-". */
static int journals(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		n += strncmp(e->d_name, "journal-", 8) == 0;
	closedir(d);
	return n;
}

/* Hold LMDB's write lock on dir (another environment handle, as a
 * second process would): no commit can happen until it is released. */
static MDB_env *hold_writer(MDB_txn **txn)
{
	MDB_env *env;

	ck_assert_int_eq(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 16);
	ck_assert_int_eq(mdb_env_open(env, dir, MDB_NOTLS, 0660), 0);
	ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, txn), 0);
	return env;
}

/* In a child: open the store (say so on up), wait for the parent to
 * hold the writer (down), put REFS references (acknowledged), say so,
 * then wait to be killed: their commit is blocked by the parent. */
static pid_t child_puts(int up, int down)
{
	pid_t pid = fork();
	char c;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		uint8_t ref[16], tok[80];
		struct store *st = open_store();
		if (write(up, "o", 1) != 1 || read(down, &c, 1) != 1)
			_exit(1);
		for (int i = 0; i < REFS; i++) {
			ref_i(i, ref, tok);
			if (store_ref_put(st, ref, sizeof(ref), tok,
			    sizeof(tok)) != STORE_OK)
				_exit(1);
		}
		if (write(up, "k", 1) != 1)
			_exit(1);
		pause();
		_exit(1);
	}
	return pid;
}

/* Start a child that acknowledges REFS references it cannot commit. */
static pid_t acked_uncommitted(MDB_env **env, MDB_txn **txn)
{
	int up[2], down[2];
	char c;
	pid_t pid;

	ck_assert_int_eq(pipe(up), 0);
	ck_assert_int_eq(pipe(down), 0);
	pid = child_puts(up[1], down[0]);
	ck_assert_int_eq(read(up[0], &c, 1), 1);
	*env = hold_writer(txn);
	ck_assert_int_eq(write(down[1], "g", 1), 1);
	ck_assert_int_eq(read(up[0], &c, 1), 1);
	ck_assert_int_eq(c, 'k');
	for (int i = 0; i < 2; i++) {
		close(up[i]);
		close(down[i]);
	}
	return pid;
}

/* A child acknowledged REFS references and was killed before their
 * commit. */
static void killed_uncommitted(void)
{
	MDB_env *env;
	MDB_txn *txn;
	pid_t pid = acked_uncommitted(&env, &txn);

	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	mdb_txn_abort(txn);
	mdb_env_close(env);
}

/* The next open commits every one of them and removes the journals. */
static void open_replays_all(void)
{
	struct store *st = open_store();

	ck_assert_int_eq(stored(st, REFS), REFS);
	ck_assert_int_eq(journals(), 0);
	store_close(st);
}

START_TEST(killed_before_commit_loses_nothing)
{
	killed_uncommitted();
	ck_assert_int_eq(journals(), 2);
	open_replays_all();
}
END_TEST

START_TEST(torn_tail_is_left_alone)
{
	DIR *d;
	struct dirent *e;
	char path[512];

	killed_uncommitted();
	/* what a power loss can leave: garbage after the whole records */
	ck_assert_ptr_nonnull(d = opendir(dir));
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, "journal-", 8) == 0) {
			int fd;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			fd = open(path, O_WRONLY | O_APPEND);
			ck_assert_int_ge(fd, 0);
			ck_assert_int_eq(write(fd, "R\x10\x00\x05garbage", 11),
			    11);
			close(fd);
		}
	closedir(d);
	open_replays_all();
}
END_TEST

START_TEST(a_live_journal_is_not_taken)
{
	MDB_env *env;
	MDB_txn *txn;
	pid_t pid = acked_uncommitted(&env, &txn), other;
	int status;

	/* another process opens the store (once the writer is free): the
	 * live child's files stay its own */
	if ((other = fork()) == 0) {
		struct store_opts o = { 0, 0, 0, "there" };
		struct store *st;
		int rc = store_open(dir, &o, &st);
		_exit(rc != STORE_OK ? 2 : journals() == 2 ? 0 : 1);
	}
	mdb_txn_abort(txn);
	mdb_env_close(env);
	ck_assert_int_eq(waitpid(other, &status, 0), other);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the other opener took the live journal (%d)", status);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}
END_TEST

START_TEST(close_commits_and_removes)
{
	uint8_t ref[16], tok[80];
	struct store *st = open_store();

	for (int i = 0; i < REFS; i++) {
		ref_i(i, ref, tok);
		ck_assert_int_eq(store_ref_put(st, ref, sizeof(ref), tok,
		    sizeof(tok)), STORE_OK);
	}
	ck_assert_int_eq(journals(), 2);
	store_close(st);
	ck_assert_int_eq(journals(), 0);
	st = open_store();
	ck_assert_int_eq(stored(st, REFS), REFS);
	store_close(st);
}
END_TEST

START_TEST(wait_sees_own_puts)
{
	uint8_t ref[16], tok[80];
	struct store *st = open_store();

	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < REFS; i++) {
			ref_i(round * REFS + i, ref, tok);
			ck_assert_int_eq(store_ref_put(st, ref, sizeof(ref),
			    tok, sizeof(tok)), STORE_OK);
		}
		ck_assert_int_eq(store_ref_wait(st, ref, sizeof(ref)),
		    STORE_OK);
		ck_assert_int_eq(stored(st, (round + 1) * REFS),
		    (round + 1) * REFS);
	}
	store_close(st);
}
END_TEST

/* Reference i of a_full_store_stops_journaling, 500 bytes of token. */
static void big_i(int i, uint8_t ref[16])
{
	memset(ref, 0, 16);
	snprintf((char *)ref, 16, "big-%d", i);
}

/* A store that cannot take them (its map at its limit): a wait says so
 * instead of hanging, puts are refused from then on (their callers
 * tempfail), an open that cannot commit the journal opens all the same
 * and keeps it, and an open with room commits every reference that was
 * acknowledged. */
START_TEST(a_full_store_stops_journaling)
{
	struct store_opts small = { 65536, 65536, 0, "here" };
	uint8_t ref[16], tok[500], back[600];
	struct store *st;
	size_t len, left;
	const char *why;
	int i, acked = 0, refused = 0;

	ck_assert_int_eq(store_open(dir, &small, &st), STORE_OK);
	memset(tok, 'x', sizeof(tok));
	for (i = 0; i < 2000 && !refused; i++) {
		big_i(i, ref);
		if (store_ref_put(st, ref, sizeof(ref), tok, sizeof(tok)) !=
		    STORE_OK)
			refused = 1;
		else if (++acked % 50 == 0)
			(void)store_ref_wait(st, ref, sizeof(ref));
	}
	ck_assert_msg(refused, "2000 references of 500 bytes acknowledged "
	    "into a 64 KiB store");
	store_close(st);
	ck_assert_int_ge(journals(), 1);	/* what was not committed */
	ck_assert_int_eq(store_open(dir, &small, &st), STORE_OK);
	ck_assert_uint_eq(store_replayed(st, &left, &why), 0);
	ck_assert_uint_ge(left, 1);
	store_close(st);
	ck_assert_int_ge(journals(), 1);
	st = open_store();
	ck_assert_uint_gt(store_replayed(st, &left, &why), 0);
	ck_assert_uint_eq(left, 0);
	ck_assert_int_eq(journals(), 0);
	for (i = 0; i < acked; i++) {
		big_i(i, ref);
		ck_assert_msg(store_ref_get(st, ref, sizeof(ref), back,
		    sizeof(back), &len) == STORE_OK, "acknowledged %d: %s", i,
		    store_strerror(-1));
	}
	store_close(st);
}
END_TEST

static Suite *journal_suite(void)
{
	Suite *s = suite_create("journal");
	TCase *tc = tcase_create("journal");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, killed_before_commit_loses_nothing);
	tcase_add_test(tc, torn_tail_is_left_alone);
	tcase_add_test(tc, a_live_journal_is_not_taken);
	tcase_add_test(tc, close_commits_and_removes);
	tcase_add_test(tc, wait_sees_own_puts);
	tcase_add_test(tc, a_full_store_stops_journaling);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(journal_suite)
