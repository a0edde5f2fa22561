/* test_store.c - the LMDB store: state and history, concurrent processes
 * and threads, map growth and its limit, clear errors. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lmdb.h>

#include "store.h"
#include "store_int.h"	/* the environment: flags, last txn */
#include "unit.h"

static char dir[64];
static struct store *st;

static void open_store(size_t map, size_t max)
{
	struct store_opts o = { map, max, 0, NULL };

	ck_assert_msg(store_open(dir, &o, &st) == STORE_OK, "open: %s",
	    store_strerror(-2));
}

static void setup(void)
{
	strcpy(dir, "/tmp/unsub-store-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	st = NULL;
}

static void teardown(void)
{
	char cmd[128];

	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Record one change; returns the store's code, *changed via out. */
static int rec(enum store_action a, const char *addr, const char *scope,
    int *changed)
{
	struct store_event ev;
	int dummy;

	memset(&ev, 0, sizeof(ev));
	snprintf(ev.address, sizeof(ev.address), "%s", addr);
	snprintf(ev.scope, sizeof(ev.scope), "%s", scope);
	ev.action = a;
	ev.source = STORE_SRC_MANUAL;
	strcpy(ev.detail, "t");
	return store_record(st, &ev, changed ? changed : &dummy);
}

static int suppressed(const char *addr, const char *list)
{
	int s = -1;

	ck_assert_int_eq(store_check(st, addr, list, &s, NULL, 0), STORE_OK);
	return s;
}

static const struct {
	const char *addr, *list;
	int want;
} checks[] = {
	{ "a@example.com", "news", 1 },		/* list scope */
	{ "a@example.com", "offers", 0 },	/* other list */
	{ "b@example.com", "anything", 1 },	/* all scope */
	{ "b@example.com", NULL, 1 },
	{ "a@example.com", NULL, 0 },
	{ "c@example.com", "news", 0 },
	{ "d@example.com", "news", 1 },		/* "!a" sorts before "*" */
	{ "d@example.com", "new", 0 },		/* a prefix of a scope */
	{ "d@example.com", "newsx", 0 },	/* a scope is a prefix */
	{ "a@example.co", "news", 0 },		/* an address prefix */
	{ "a@example.com.au", "news", 0 },	/* an address extended */
};

/* Suppressed for a list and then for all: "*" is the scope reported. */
START_TEST(check_reports_all_first)
{
	static const char *const steps[][2] = {	/* scope added, reported */
		{ "news", "news" },
		{ "*", "*" },
	};
	char scope[STORE_SCOPE_MAX + 1];
	int s = 0;

	open_store(0, 0);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		ck_assert_int_eq(rec(STORE_UNSUBSCRIBE, "e@example.com",
		    steps[i][0], NULL), STORE_OK);
		ck_assert_int_eq(store_check(st, "e@example.com", "news", &s,
		    scope, sizeof(scope)), STORE_OK);
		ck_assert_msg(s == 1 && strcmp(scope, steps[i][1]) == 0,
		    "after %s: got %d %s, want %s", steps[i][0], s, scope,
		    steps[i][1]);
	}
}
END_TEST

START_TEST(check_table)
{
	open_store(0, 0);
	ck_assert_int_eq(rec(STORE_UNSUBSCRIBE, "a@example.com", "news", NULL),
	    STORE_OK);
	ck_assert_int_eq(rec(STORE_UNSUBSCRIBE, "b@example.com", "*", NULL),
	    STORE_OK);
	for (size_t i = 0; i < 3; i++)
		ck_assert_int_eq(rec(STORE_UNSUBSCRIBE, "d@example.com",
		    (const char *[]){ "!a", "news", "zz" }[i], NULL), STORE_OK);
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		ck_assert_msg(suppressed(checks[i].addr, checks[i].list) ==
		    checks[i].want, "%s for %s: got %d, want %d",
		    checks[i].addr, checks[i].list ? checks[i].list : "-",
		    !checks[i].want, checks[i].want);
}
END_TEST

struct hist {
	struct store_event ev[16];
	int n;
};

static int hist_cb(const struct store_event *ev, void *arg)
{
	struct hist *h = arg;

	if (h->n < 16)
		h->ev[h->n++] = *ev;
	return 0;
}

START_TEST(unsubscribe_resubscribe_unsubscribe)
{
	struct hist h = { .n = 0 };
	int changed;
	static const enum store_action want[] = { STORE_UNSUBSCRIBE,
		STORE_RESUBSCRIBE, STORE_UNSUBSCRIBE };

	open_store(0, 0);
	ck_assert_int_eq(rec(STORE_UNSUBSCRIBE, "r@example.com", "news",
	    &changed), STORE_OK);
	ck_assert_int_eq(changed, 1);
	rec(STORE_UNSUBSCRIBE, "other@example.com", "news", NULL);
	ck_assert_int_eq(rec(STORE_UNSUBSCRIBE, "r@example.com", "news",
	    &changed), STORE_OK);
	ck_assert_int_eq(changed, 0);	/* repeat: state holds, no event */
	ck_assert_int_eq(rec(STORE_RESUBSCRIBE, "r@example.com", "news",
	    &changed), STORE_OK);
	ck_assert_int_eq(changed, 1);
	ck_assert_int_eq(suppressed("r@example.com", "news"), 0);
	ck_assert_int_eq(rec(STORE_RESUBSCRIBE, "r@example.com", "news",
	    NULL), STORE_ENOTFOUND);	/* nothing to do, nothing written */
	ck_assert_int_eq(rec(STORE_UNSUBSCRIBE, "r@example.com", "news",
	    NULL), STORE_OK);
	ck_assert_int_eq(suppressed("r@example.com", "news"), 1);
	ck_assert_int_eq(store_history(st, "r@example.com", hist_cb, &h),
	    STORE_OK);
	ck_assert_msg(h.n == 3, "got %d events, want 3", h.n);
	for (int i = 0; i < 3; i++) {
		ck_assert_msg(h.ev[i].action == want[i], "event %d: got %s, "
		    "want %s", i, store_action_name(h.ev[i].action),
		    store_action_name(want[i]));
		ck_assert_str_eq(h.ev[i].address, "r@example.com");
		if (i > 0)
			ck_assert_uint_gt(h.ev[i].seq, h.ev[i - 1].seq);
	}
	ck_assert_str_eq(h.ev[0].detail, "t");
}
END_TEST

START_TEST(bad_fields_and_refs)
{
	uint8_t ref[15] = { 1, 2, 3 }, tok[64], back[64];
	char longaddr[400];
	size_t len;

	open_store(0, 0);
	ck_assert_int_eq(rec(STORE_UNSUBSCRIBE, "", "news", NULL), STORE_EINVAL);
	ck_assert_int_eq(rec(STORE_UNSUBSCRIBE, "a@b.c", "", NULL), STORE_EINVAL);
	/* a scope may not look like the history mark beside it */
	ck_assert_int_eq(rec(STORE_UNSUBSCRIBE, "a@b.c", "\xffnews", NULL),
	    STORE_EINVAL);
	memset(longaddr, 'a', sizeof(longaddr) - 1);
	longaddr[sizeof(longaddr) - 1] = '\0';
	ck_assert_int_eq(store_check(st, longaddr, "x", &(int){ 0 }, NULL, 0),
	    STORE_EINVAL);
	ck_assert_int_eq(store_ref_get(st, ref, sizeof(ref), back,
	    sizeof(back), &len), STORE_ENOTFOUND);
	memset(tok, 7, sizeof(tok));
	ck_assert_int_eq(store_ref_put(st, ref, sizeof(ref), tok,
	    sizeof(tok)), STORE_OK);
	/* journaled, then committed */
	ck_assert_int_eq(store_ref_wait(st, ref, sizeof(ref)),
	    STORE_OK);
	ck_assert_int_eq(store_ref_get(st, ref, sizeof(ref), back,
	    sizeof(back), &len), STORE_OK);
	ck_assert_uint_eq(len, sizeof(tok));
	ck_assert_mem_eq(back, tok, sizeof(tok));
}
END_TEST

START_TEST(missing_and_unusable_directories)
{
	struct store_opts o = { 0, 0, 0, NULL };
	char path[128];
	FILE *fp;

	ck_assert_int_eq(store_open("/nonexistent/unsub", &o, &st), STORE_EOPEN);
	ck_assert_msg(strstr(store_strerror(STORE_EOPEN), "/nonexistent/unsub")
	    != NULL, "got \"%s\"", store_strerror(STORE_EOPEN));
	snprintf(path, sizeof(path), "%s/file", dir);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fclose(fp);
	ck_assert_int_eq(store_open(path, &o, &st), STORE_EOPEN);
	ck_assert_msg(strstr(store_strerror(STORE_EOPEN), "not a directory") !=
	    NULL, "got \"%s\"", store_strerror(STORE_EOPEN));
	/* read-only verbs on a directory with no store yet */
	o.read_only = 1;
	ck_assert_int_eq(store_open(dir, &o, &st), STORE_EOPEN);
	/* a read-only directory (unless we are root, who may write anyway) */
	if (geteuid() != 0) {
		o.read_only = 0;
		chmod(dir, 0555);
		ck_assert_int_eq(store_open(dir, &o, &st), STORE_EOPEN);
		chmod(dir, 0755);
	}
	ck_assert_ptr_null(st);
}
END_TEST

#define PROCS 2
#define PER_PROC 300

START_TEST(two_processes_lose_nothing)
{
	pid_t pid[PROCS];
	int status, n = 0;
	struct hist h;
	char addr[64];

	for (int p = 0; p < PROCS; p++) {
		if ((pid[p] = fork()) == 0) {
			open_store(0, 0);
			for (int i = 0; i < PER_PROC; i++) {
				snprintf(addr, sizeof(addr), "p%d-%d@example.com",
				    p, i);
				if (rec(STORE_UNSUBSCRIBE, addr, "news", NULL) !=
				    STORE_OK)
					_exit(1);
				/* and one shared address both write, a list
				 * each time (a repeat would write nothing) */
				if (rec(STORE_UNSUBSCRIBE, "both@example.com",
				    addr, NULL) != STORE_OK)
					_exit(1);
			}
			store_close(st);
			_exit(0);
		}
		ck_assert_int_gt(pid[p], 0);
	}
	for (int p = 0; p < PROCS; p++) {
		ck_assert_int_eq(waitpid(pid[p], &status, 0), pid[p]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "writer %d failed", p);
	}
	open_store(0, 0);
	for (int p = 0; p < PROCS; p++)
		for (int i = 0; i < PER_PROC; i++) {
			snprintf(addr, sizeof(addr), "p%d-%d@example.com", p, i);
			n += suppressed(addr, "news");
		}
	ck_assert_msg(n == PROCS * PER_PROC, "got %d suppressed, want %d", n,
	    PROCS * PER_PROC);
	/* 600 events for the shared address: capped at 16 by hist_cb, but in
	 * strictly increasing global order */
	memset(&h, 0, sizeof(h));
	ck_assert_int_eq(store_history(st, "both@example.com", hist_cb, &h),
	    STORE_OK);
	for (int i = 1; i < h.n; i++)
		ck_assert_uint_gt(h.ev[i].seq, h.ev[i - 1].seq);
}
END_TEST

#define THREADS 8
#define PER_THREAD 200

static void *thread_writer(void *arg)
{
	long t = (long)arg;
	char addr[64];
	int changed;

	for (int i = 0; i < PER_THREAD; i++) {
		snprintf(addr, sizeof(addr), "t%ld-%d@example.com", t, i);
		if (rec(STORE_UNSUBSCRIBE, addr, "*", &changed) != STORE_OK ||
		    changed != 1)
			return (void *)1;
		/* a repeat, answered by a read amid other threads' writes */
		if (rec(STORE_UNSUBSCRIBE, addr, "*", &changed) != STORE_OK ||
		    changed != 0)
			return (void *)1;
	}
	return NULL;
}

START_TEST(threads_share_commits_and_lose_nothing)
{
	pthread_t tid[THREADS];
	void *ret;
	char addr[64];
	int n = 0;

	open_store(0, 0);
	for (long t = 0; t < THREADS; t++)
		pthread_create(&tid[t], NULL, thread_writer, (void *)t);
	for (int t = 0; t < THREADS; t++) {
		pthread_join(tid[t], &ret);
		ck_assert_ptr_null(ret);
	}
	for (int t = 0; t < THREADS; t++)
		for (int i = 0; i < PER_THREAD; i++) {
			snprintf(addr, sizeof(addr), "t%d-%d@example.com", t, i);
			n += suppressed(addr, "news");
		}
	ck_assert_int_eq(n, THREADS * PER_THREAD);
}
END_TEST

/* A writer until the store, at its map limit, refuses: the failure of a
 * thread whose change another thread committed must say why too. */
static void *thread_until_full(void *arg)
{
	char addr[64];
	int rc = STORE_OK;

	for (int i = 0; i < 100000 && rc == STORE_OK; i++) {
		snprintf(addr, sizeof(addr), "f%ld-%d@example.com", (long)arg,
		    i);
		rc = rec(STORE_UNSUBSCRIBE, addr, "*", NULL);
	}
	if (rc != STORE_EFULL || strstr(store_strerror(rc), "map full") == NULL)
		return strdup(store_strerror(rc));	/* its TLS ends */
	return NULL;
}

START_TEST(grouped_failures_say_why)
{
	pthread_t tid[16];
	void *ret;

	open_store(65536, 65536);	/* may not grow */
	for (long t = 0; t < 16; t++)
		pthread_create(&tid[t], NULL, thread_until_full, (void *)t);
	for (int t = 0; t < 16; t++) {
		pthread_join(tid[t], &ret);
		ck_assert_msg(ret == NULL, "got \"%s\", want the map full "
		    "reason", ret ? (const char *)ret : "");
		free(ret);
	}
}
END_TEST

static int count_cb(const struct store_entry *e, void *arg)
{
	(void)e;
	(*(int *)arg)++;
	return 0;
}

START_TEST(map_grows_then_stops_at_its_limit)
{
	char addr[64];
	int n = 0, rc = STORE_OK, i;

	open_store(65536, 0);	/* grows without limit */
	for (i = 0; i < 3000; i++) {
		snprintf(addr, sizeof(addr), "grow%d@example.com", i);
		ck_assert_int_eq(rec(STORE_UNSUBSCRIBE, addr, "news", NULL),
		    STORE_OK);
	}
	ck_assert_int_eq(store_list(st, "news", 0, count_cb, &n), STORE_OK);
	ck_assert_int_eq(n, 3000);
	store_close(st);
	open_store(65536, 1 << 20);	/* 1 MiB limit */
	for (i = 0; i < 100000 && rc == STORE_OK; i++) {
		snprintf(addr, sizeof(addr), "limit%d@example.com", i);
		rc = rec(STORE_UNSUBSCRIBE, addr, "news", NULL);
	}
	ck_assert_msg(rc == STORE_EFULL, "got %d after %d records, want "
	    "STORE_EFULL", rc, i);
	ck_assert_msg(strstr(store_strerror(rc), "map full") != NULL, "got "
	    "\"%s\"", store_strerror(rc));
	n = 0;	/* what was there is intact */
	ck_assert_int_eq(store_list(st, "news", 0, count_cb, &n), STORE_OK);
	ck_assert_int_eq(n, 3000 + i - 1);
}
END_TEST

/* Reads kept between uses (reset, then renewed) follow a map another
 * process grew, and this process's own growth. */
START_TEST(reads_follow_map_growth)
{
	uint8_t ref[15] = { 9 }, tok[40] = { 7 }, back[64];
	char addr[64];
	size_t len;
	pid_t pid;
	int status;

	open_store(65536, 0);
	ck_assert_int_eq(suppressed("first@example.com", "news"), 0);
	ck_assert_int_eq(store_ref_get(st, ref, sizeof(ref), back,
	    sizeof(back), &len), STORE_ENOTFOUND);
	if ((pid = fork()) == 0) {
		st = NULL;	/* LMDB: never use an environment across fork */
		open_store(65536, 0);
		for (int i = 0; i < 2000; i++) {
			snprintf(addr, sizeof(addr), "other%d@example.com", i);
			if (rec(STORE_UNSUBSCRIBE, addr, "news", NULL) !=
			    STORE_OK)
				_exit(1);
		}
		if (store_ref_put(st, ref, sizeof(ref), tok, sizeof(tok)) !=
		    STORE_OK)
			_exit(1);
		store_close(st);	/* commits the journal */
		_exit(0);
	}
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "writer failed");
	ck_assert_int_eq(suppressed("other1999@example.com", "news"), 1);
	ck_assert_int_eq(store_ref_get(st, ref, sizeof(ref), back,
	    sizeof(back), &len), STORE_OK);
	ck_assert_int_eq(len, sizeof(tok));
	for (int i = 0; i < 2000; i++) {
		snprintf(addr, sizeof(addr), "own%d@example.com", i);
		ck_assert_int_eq(rec(STORE_UNSUBSCRIBE, addr, "news", NULL),
		    STORE_OK);
		ck_assert_int_eq(suppressed(addr, "news"), 1);
	}
}
END_TEST

/* Writer and reader threads while two other processes keep growing the
 * map: nothing fails, nothing is lost (one retry of MDB_MAP_RESIZED was
 * not always enough). */
static volatile int growth_done;

static void *growth_reader(void *arg)
{
	int s;

	(void)arg;
	while (!growth_done)
		if (store_check(st, "t0-1@example.com", "news", &s, NULL, 0) !=
		    STORE_OK)
			return (void *)1;
	return NULL;
}

START_TEST(growth_under_load_loses_nothing)
{
	pthread_t wt[4], rt[2];
	pid_t pid[2];
	void *ret;
	char addr[96];
	int status, n = 0;

	open_store(65536, 0);
	ck_assert_int_eq(suppressed("x@example.com", "news"), 0);
	for (int p = 0; p < 2; p++)
		if ((pid[p] = fork()) == 0) {
			st = NULL;	/* not the parent's environment */
			open_store(65536, 0);
			for (int i = 0; i < 400; i++) {
				snprintf(addr, sizeof(addr), "grower%d-%d-padding-"
				    "padding-padding@example.com", p, i);
				if (rec(STORE_UNSUBSCRIBE, addr, "*", NULL) !=
				    STORE_OK)
					_exit(1);
			}
			_exit(0);
		}
	growth_done = 0;
	for (long t = 0; t < 2; t++)
		pthread_create(&rt[t], NULL, growth_reader, NULL);
	for (long t = 0; t < 4; t++)
		pthread_create(&wt[t], NULL, thread_writer, (void *)t);
	for (int t = 0; t < 4; t++) {
		pthread_join(wt[t], &ret);
		ck_assert_msg(ret == NULL, "a writer failed: %s",
		    store_strerror(-3));
	}
	for (int p = 0; p < 2; p++) {
		ck_assert_int_eq(waitpid(pid[p], &status, 0), pid[p]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "growing process %d failed", p);
	}
	growth_done = 1;
	for (int t = 0; t < 2; t++) {
		pthread_join(rt[t], &ret);
		ck_assert_msg(ret == NULL, "a reader failed");
	}
	for (int p = 0; p < 2; p++)
		for (int i = 0; i < 400; i++) {
			snprintf(addr, sizeof(addr), "grower%d-%d-padding-"
			    "padding-padding@example.com", p, i);
			n += suppressed(addr, "news");
		}
	for (int t = 0; t < 4; t++)
		for (int i = 0; i < PER_THREAD; i++) {
			snprintf(addr, sizeof(addr), "t%d-%d@example.com", t, i);
			n += suppressed(addr, "news");
		}
	ck_assert_int_eq(n, 800 + 4 * PER_THREAD);
}
END_TEST

/* History written before it moved next to the suppressions, in "hist",
 * is still read, before what came after; scopes and lists skip the
 * history records now beside them. */
START_TEST(history_reads_the_older_database_first)
{
	static const uint8_t key[] = "old@example.com\0\0\0\0\0\0\0\0\1";
	static const uint8_t val[] = "\1\0\0\0\0\x6a\xb1\x3b\x80\1\5news\0by=import";
	uint8_t one[8] = { 0, 0, 0, 0, 0, 0, 0, 1 };
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi hist, meta;
	MDB_val k = { sizeof(key) - 1, (void *)key }, v = { sizeof(val) - 1,
		(void *)val }, sk = { 3, "seq" }, sv = { 8, one };
	struct hist h = { .n = 0 };
	int n = 0;

	open_store(0, 0);
	store_close(st);
	st = NULL;
	ck_assert_int_eq(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 4);
	ck_assert_int_eq(mdb_env_open(env, dir, 0, 0600), 0);
	ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	ck_assert_int_eq(mdb_dbi_open(txn, "hist", 0, &hist), 0);
	ck_assert_int_eq(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	ck_assert_int_eq(mdb_put(txn, hist, &k, &v, 0), 0);
	ck_assert_int_eq(mdb_put(txn, meta, &sk, &sv, 0), 0);
	ck_assert_int_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	open_store(0, 0);
	ck_assert_int_eq(rec(STORE_UNSUBSCRIBE, "old@example.com", "news",
	    NULL), STORE_OK);
	ck_assert_int_eq(store_history(st, "old@example.com", hist_cb, &h),
	    STORE_OK);
	ck_assert_msg(h.n == 2, "got %d events, want 2", h.n);
	ck_assert_uint_eq(h.ev[0].seq, 1);
	ck_assert_int_eq(h.ev[0].source, STORE_SRC_IMPORT);
	ck_assert_str_eq(h.ev[0].detail, "by=import");
	ck_assert_uint_eq(h.ev[0].time, 1790000000);
	ck_assert_uint_eq(h.ev[1].seq, 2);
	ck_assert_int_eq(h.ev[1].source, STORE_SRC_MANUAL);
	ck_assert_int_eq(store_status(st, "old@example.com", count_cb, &n),
	    STORE_OK);
	ck_assert_msg(n == 1, "got %d suppressions, want 1", n);
	n = 0;
	ck_assert_int_eq(store_list(st, NULL, 0, count_cb, &n), STORE_OK);
	ck_assert_msg(n == 1, "got %d listed, want 1", n);
}
END_TEST

/* The last committed write transaction's id and data.mdb's size. */
static void env_now(size_t *txnid, off_t *size)
{
	MDB_envinfo info;
	struct stat sb;
	char path[128];

	mdb_env_info(st->env, &info);
	*txnid = info.me_last_txnid;
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	ck_assert_int_eq(stat(path, &sb), 0);
	*size = sb.st_size;
}

#define REPEATS 10000

/* Issue 14.11: repeats of an unsubscribe in force (one-click, landing
 * page, mailto) write nothing: no history, no write transaction (so no
 * synced commit), data.mdb does not grow; through store_record and
 * store_record_batch (unsub-httpd's committer) alike. */
START_TEST(repeats_write_nothing)
{
	static struct store_event ev[100];
	int res[100], ch[100], changed = -1;
	struct hist h = { .n = 0 };
	size_t txn0, txn1;
	off_t size0, size1;

	open_store(0, 0);
	ck_assert_int_eq(rec(STORE_UNSUBSCRIBE, "r@example.com", "news",
	    &changed), STORE_OK);
	ck_assert_int_eq(changed, 1);
	env_now(&txn0, &size0);
	for (int i = 0; i < REPEATS / 2; i++) {
		ck_assert_int_eq(rec(STORE_UNSUBSCRIBE, "r@example.com",
		    "news", &changed), STORE_OK);
		ck_assert_int_eq(changed, 0);
	}
	for (int i = 0; i < 100; i++) {
		memset(&ev[i], 0, sizeof(ev[i]));
		strcpy(ev[i].address, "r@example.com");
		strcpy(ev[i].scope, "news");
		ev[i].action = STORE_UNSUBSCRIBE;
		ev[i].source = STORE_SRC_ONECLICK;
	}
	for (int i = 0; i < REPEATS / 2 / 100; i++) {
		ck_assert_int_eq(store_record_batch(st, ev, 100, res, ch),
		    STORE_OK);
		ck_assert_int_eq(res[99], STORE_OK);
		ck_assert_int_eq(ch[0], 0);
	}
	env_now(&txn1, &size1);
	ck_assert_msg(txn1 == txn0, "%zu write transactions for %d repeats, "
	    "want 0", txn1 - txn0, REPEATS);
	ck_assert_msg(size1 - size0 < 4096, "data.mdb grew by %jd bytes, "
	    "want < 4096", (intmax_t)(size1 - size0));
	ck_assert_int_eq(store_history(st, "r@example.com", hist_cb, &h),
	    STORE_OK);
	ck_assert_msg(h.n == 1, "got %d history events, want 1", h.n);
	/* a scope not yet in force is written, beside "*" too */
	ck_assert_int_eq(rec(STORE_UNSUBSCRIBE, "r@example.com", "*",
	    &changed), STORE_OK);
	ck_assert_int_eq(changed, 1);
}
END_TEST

/* Issue 14.12: nothing is acknowledged before it is on disk: the
 * environment syncs data and meta pages (tests/store/t-store.sh counts
 * the syncs themselves). */
START_TEST(env_syncs_every_commit)
{
	unsigned flags;

	open_store(0, 0);
	ck_assert_int_eq(mdb_env_get_flags(st->env, &flags), 0);
	ck_assert_msg((flags & (MDB_NOSYNC | MDB_NOMETASYNC | MDB_MAPASYNC))
	    == 0, "environment flags %#x skip a sync", flags);
}
END_TEST

/* Truncate (or, with byte, overwrite the first page of) data.mdb. */
static void damage(off_t size, int byte)
{
	char path[128];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (byte < 0) {
		ck_assert_int_eq(truncate(path, size), 0);
		return;
	}
	ck_assert_ptr_nonnull(fp = fopen(path, "r+"));
	for (int i = 0; i < 4096; i++)
		fputc(byte, fp);
	ck_assert_int_eq(fclose(fp), 0);
}

/* Fill a store with 3000 suppressions; returns data.mdb's size. */
static off_t fill_store(void)
{
	size_t txn;
	off_t size;
	char addr[64];

	open_store(0, 0);
	for (int i = 0; i < 3000; i += 100) {
		struct store_event ev[100];
		int res[100], ch[100];
		memset(ev, 0, sizeof(ev));
		for (int j = 0; j < 100; j++) {
			snprintf(addr, sizeof(addr), "f%d@example.com", i + j);
			strcpy(ev[j].address, addr);
			strcpy(ev[j].scope, "news");
			ev[j].action = STORE_UNSUBSCRIBE;
			ev[j].source = STORE_SRC_IMPORT;
		}
		ck_assert_int_eq(store_record_batch(st, ev, 100, res, ch),
		    STORE_OK);
	}
	env_now(&txn, &size);
	store_close(st);
	st = NULL;
	return size;
}

/* Issue 14.7: a truncated or corrupt data.mdb is refused at open, and a
 * truncation under an open store fails its next transaction, with a
 * message, never SIGBUS (which would end this test process). */
START_TEST(damaged_data_refused)
{
	/* 0 bytes is LMDB's new file (as a creation cut short leaves it):
	 * a new store, not yet there for the read-only verbs */
	const struct {
		off_t size;	/* < 0: half the file */
		int byte;	/* >= 0: the first page overwritten */
		int want, want_ro;
	} cases[] = {
		{ -1, -1, STORE_ECORRUPT, STORE_ECORRUPT },
		{ 0, -1, STORE_OK, STORE_EOPEN },
		{ 4096, -1, STORE_ECORRUPT, STORE_ECORRUPT },
		{ 6000, -1, STORE_ECORRUPT, STORE_ECORRUPT },
		{ 0, 0xff, STORE_ECORRUPT, STORE_ECORRUPT },
		{ 0, 0, STORE_ECORRUPT, STORE_ECORRUPT },
	};
	struct store_opts o = { 0, 0, 0, NULL };
	char cmd[160];
	int s;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		off_t size = fill_store();
		damage(cases[i].size < 0 ? size / 2 : cases[i].size,
		    cases[i].byte);
		for (o.read_only = 1; o.read_only >= 0; o.read_only--) {
			int want = o.read_only ? cases[i].want_ro :
			    cases[i].want;
			int rc = store_open(dir, &o, &st);
			ck_assert_msg(rc == want, "case %zu%s: got %d (%s), "
			    "want %d", i, o.read_only ? " read-only" : "", rc,
			    store_strerror(rc), want);
			if (rc == STORE_OK) {
				ck_assert_int_eq(suppressed("f1@example.com",
				    NULL), 0);
				store_close(st);
				st = NULL;
			} else
				ck_assert_msg(strstr(store_strerror(rc),
				    dir) != NULL, "case %zu: got \"%s\"", i,
				    store_strerror(rc));
		}
		snprintf(cmd, sizeof(cmd), "rm -f %s/*.mdb", dir);
		ck_assert_int_eq(system(cmd), 0);
	}
	/* truncated under an open store: the next write says so, and reads
	 * (which look at most every few milliseconds) soon after */
	fill_store();
	open_store(0, 0);
	ck_assert_int_eq(store_check(st, "f1@example.com", "news", &s, NULL,
	    0), STORE_OK);
	damage(8192, -1);
	ck_assert_int_eq(rec(STORE_UNSUBSCRIBE, "x@example.com", "news",
	    NULL), STORE_ECORRUPT);
	nanosleep(&(struct timespec){ 0, 50000000 }, NULL);
	ck_assert_int_eq(store_check(st, "f2999@example.com", "news", &s,
	    NULL, 0), STORE_ECORRUPT);
}
END_TEST

/* Replace the file at dir/name by a copy of itself (a new inode), or
 * remove it (copy 0). */
static void replace_file(const char *name, int copy)
{
	char cmd[512];

	if (copy)
		snprintf(cmd, sizeof(cmd), "cp %s/%s %s/%s.new && mv %s/%s.new "
		    "%s/%s", dir, name, dir, name, dir, name, dir, name);
	else
		snprintf(cmd, sizeof(cmd), "rm %s/%s", dir, name);
	ck_assert_int_eq(system(cmd), 0);
}

/* Issue 14.1: a write into files no longer at the path is refused (the
 * caller tempfails), the store reopened, and the next write lands in
 * the files the path names now. */
START_TEST(replaced_files_refuse_then_reopen)
{
	static const struct {
		const char *name;
		int copy;
	} cases[] = {
		{ "lock.mdb", 0 }, { "lock.mdb", 1 }, { "data.mdb", 1 },
		{ "data.mdb", 0 },
	};
	struct store *other;
	struct store_opts o = { 0, 0, 0, NULL };
	char addr[64];
	int s;

	open_store(0, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(addr, sizeof(addr), "a%zu@example.com", i);
		replace_file(cases[i].name, cases[i].copy);
		ck_assert_msg(rec(STORE_UNSUBSCRIBE, addr, "news", NULL) ==
		    STORE_EIO, "case %zu: a write into a removed or replaced "
		    "%s was acknowledged", i, cases[i].name);
		ck_assert_msg(strstr(store_strerror(STORE_EIO), "replaced") !=
		    NULL, "got \"%s\"", store_strerror(STORE_EIO));
		ck_assert_int_eq(rec(STORE_UNSUBSCRIBE, addr, "news", NULL),
		    STORE_OK);
		/* a process opening the path now sees it */
		ck_assert_int_eq(store_open(dir, &o, &other), STORE_OK);
		ck_assert_int_eq(store_check(other, addr, "news", &s, NULL, 0),
		    STORE_OK);
		ck_assert_msg(s == 1, "case %zu: the write is not in the "
		    "store at the path", i);
		store_close(other);
	}
	/* a repeat is not answered from a replaced data.mdb either */
	replace_file("data.mdb", 0);
	ck_assert_int_eq(rec(STORE_UNSUBSCRIBE, "a3@example.com", "news",
	    NULL), STORE_EIO);
}
END_TEST

START_TEST(list_by_scope_and_since)
{
	int n = 0;

	open_store(0, 0);
	rec(STORE_UNSUBSCRIBE, "a@example.com", "news", NULL);
	rec(STORE_UNSUBSCRIBE, "b@example.com", "offers", NULL);
	rec(STORE_UNSUBSCRIBE, "c@example.com", "*", NULL);
	ck_assert_int_eq(store_list(st, NULL, 0, count_cb, &n), STORE_OK);
	ck_assert_int_eq(n, 3);
	n = 0;
	ck_assert_int_eq(store_list(st, "offers", 0, count_cb, &n), STORE_OK);
	ck_assert_int_eq(n, 1);
	n = 0;
	ck_assert_int_eq(store_list(st, NULL, 32503680000ULL, count_cb, &n),
	    STORE_OK);
	ck_assert_int_eq(n, 0);
}
END_TEST

/* Soft bounces of one address, limit 3 within 100 s: each step's time,
 * wanted count and whether it suppresses. */
static const struct {
	uint64_t time;
	unsigned count;
	int suppressed;
} softs[] = {
	{ 1000, 1, 0 },
	{ 1050, 2, 0 },
	{ 1120, 2, 0 },		/* 1000 has left the window */
	{ 1130, 3, 1 },		/* 1050, 1120 and 1130: the limit */
	{ 1140, 1, 1 },		/* the count starts anew */
	{ 1400, 1, 1 },		/* 1140 has left the window */
};

START_TEST(soft_bounces_count_within_a_window)
{
	struct store_event ev;
	unsigned count;
	int changed;
	size_t n = 0;

	open_store(0, 0);
	for (size_t i = 0; i < sizeof(softs) / sizeof(softs[0]); i++) {
		memset(&ev, 0, sizeof(ev));
		strcpy(ev.address, "soft@example.com");
		strcpy(ev.scope, STORE_SCOPE_ALL);
		ev.action = STORE_UNSUBSCRIBE;
		ev.source = STORE_SRC_SOFTBOUNCE;
		ev.time = softs[i].time;
		ck_assert_int_eq(store_soft_bounce(st, &ev, 3, 100, &count,
		    &changed), STORE_OK);
		ck_assert_msg(count == softs[i].count, "step %zu: count got "
		    "%u, want %u", i, count, softs[i].count);
		ck_assert_msg(suppressed("soft@example.com", "news") ==
		    softs[i].suppressed, "step %zu: suppressed got %d, want %d",
		    i, !softs[i].suppressed, softs[i].suppressed);
		n += changed;
	}
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(store_soft_bounce(st, &ev, 0, 100, &count, &changed),
	    STORE_EINVAL);
	ck_assert_int_eq(store_soft_bounce(st, &ev, STORE_SOFT_MAX + 1, 100,
	    &count, &changed), STORE_EINVAL);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("store");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, check_table);
	tcase_add_test(tc, check_reports_all_first);
	tcase_add_test(tc, unsubscribe_resubscribe_unsubscribe);
	tcase_add_test(tc, bad_fields_and_refs);
	tcase_add_test(tc, missing_and_unusable_directories);
	tcase_add_test(tc, two_processes_lose_nothing);
	tcase_add_test(tc, threads_share_commits_and_lose_nothing);
	tcase_add_test(tc, grouped_failures_say_why);
	tcase_add_test(tc, map_grows_then_stops_at_its_limit);
	tcase_add_test(tc, reads_follow_map_growth);
	tcase_add_test(tc, growth_under_load_loses_nothing);
	tcase_add_test(tc, history_reads_the_older_database_first);
	tcase_add_test(tc, list_by_scope_and_since);
	tcase_add_test(tc, soft_bounces_count_within_a_window);
	tcase_add_test(tc, repeats_write_nothing);
	tcase_add_test(tc, env_syncs_every_commit);
	tcase_add_test(tc, damaged_data_refused);
	tcase_add_test(tc, replaced_files_refuse_then_reopen);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(store_suite)
