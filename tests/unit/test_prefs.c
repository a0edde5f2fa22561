/* test_prefs.c - the store's side of the preference centre: exceptions
 * to "suppressed for all lists" (what a resubscribe to one list makes,
 * what ends them, what store_check then answers) and the list registry,
 * with its entries from before the fleet. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "store.h"
#include "unit.h"

static char dir[64];
static struct store *st;

static void setup(void)
{
	struct store_opts o = { 0, 0, 0, NULL };

	strcpy(dir, "/tmp/unsub-prefs-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(store_open(dir, &o, &st), STORE_OK);
}

static void teardown(void)
{
	char cmd[128];

	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

#define ADDR "p@example.com"

/* One change and what the store must answer. */
struct step {
	char act;		/* 'U' unsubscribe, 'R' resubscribe, 0 end */
	const char *scope;
	int rc, changed;
};

static const struct {
	const char *name;
	struct step steps[5];
	const char *gets;	/* of news, weekly, daily: delivered */
	const char *excepts;	/* store_status's exceptions, in order */
} rows[] = {
	{ "all, then keep news", { { 'U', "*", 0, 1 }, { 'R', "news", 0, 1 } },
	  "news", "news" },
	{ "keeping twice", { { 'U', "*", 0, 1 }, { 'R', "news", 0, 1 },
	  { 'R', "news", STORE_ENOTFOUND, 0 } }, "news", "news" },
	{ "two kept", { { 'U', "*", 0, 1 }, { 'R', "weekly", 0, 1 },
	  { 'R', "news", 0, 1 } }, "news weekly", "news weekly" },
	{ "all again ends them", { { 'U', "*", 0, 1 }, { 'R', "news", 0, 1 },
	  { 'U', "*", 0, 1 } }, "", "" },
	{ "all again, none kept: a repeat", { { 'U', "*", 0, 1 },
	  { 'U', "*", 0, 0 } }, "", "" },
	{ "leaving the kept list", { { 'U', "*", 0, 1 },
	  { 'R', "news", 0, 1 }, { 'U', "news", 0, 1 } }, "", "" },
	{ "resubscribe all ends them", { { 'U', "*", 0, 1 },
	  { 'R', "news", 0, 1 }, { 'R', "*", 0, 1 } },
	  "news weekly daily", "" },
	{ "list, then all, then keep it", { { 'U', "news", 0, 1 },
	  { 'U', "*", 0, 1 }, { 'R', "news", 0, 1 } }, "news", "news" },
	{ "no exception without all", { { 'U', "news", 0, 1 },
	  { 'R', "news", 0, 1 } }, "news weekly daily", "" },
	{ "never suppressed", { { 'R', "news", STORE_ENOTFOUND, 0 } },
	  "news weekly daily", "" },
};

/* Collect store_status's exceptions, space-separated; count the rest. */
struct seen {
	char excepts[256];
	int scopes;
};

static int seen_cb(const struct store_entry *e, void *arg)
{
	struct seen *s = arg;
	size_t len = strlen(s->excepts);

	if (!e->except)
		s->scopes++;
	else
		snprintf(s->excepts + len, sizeof(s->excepts) - len, "%s%s",
		    len ? " " : "", e->scope);
	return 0;
}

START_TEST(exceptions_table)
{
	static const char *const lists[] = { "news", "weekly", "daily" };
	char addr[64], gets[64];
	struct seen seen;
	int rc, changed, supp;

	snprintf(addr, sizeof(addr), "row%d@example.com", _i);
	for (const struct step *s = rows[_i].steps; s->act; s++) {
		struct store_event ev = { .action = s->act == 'U' ?
			STORE_UNSUBSCRIBE : STORE_RESUBSCRIBE,
			.source = STORE_SRC_PREFS };
		snprintf(ev.address, sizeof(ev.address), "%s", addr);
		snprintf(ev.scope, sizeof(ev.scope), "%s", s->scope);
		changed = -1;
		rc = store_record(st, &ev, &changed);
		ck_assert_msg(rc == s->rc && (rc != 0 || changed == s->changed),
		    "%s: %c %s: got rc %d changed %d, want %d %d",
		    rows[_i].name, s->act, s->scope, rc, changed, s->rc,
		    s->changed);
	}
	gets[0] = '\0';
	for (size_t l = 0; l < 3; l++) {
		ck_assert_int_eq(store_check(st, addr, lists[l], &supp, NULL, 0),
		    STORE_OK);
		if (!supp)
			snprintf(gets + strlen(gets), sizeof(gets) - strlen(gets),
			    "%s%s", gets[0] ? " " : "", lists[l]);
	}
	ck_assert_msg(strcmp(gets, rows[_i].gets) == 0,
	    "%s: gets \"%s\", want \"%s\"", rows[_i].name, gets, rows[_i].gets);
	memset(&seen, 0, sizeof(seen));
	ck_assert_int_eq(store_status(st, addr, seen_cb, &seen), STORE_OK);
	ck_assert_msg(strcmp(seen.excepts, rows[_i].excepts) == 0,
	    "%s: excepts \"%s\", want \"%s\"", rows[_i].name, seen.excepts,
	    rows[_i].excepts);
}
END_TEST

/* store_list (list, export, stats) shows suppressions, never exceptions;
 * history has every step. */
static int list_cb(const struct store_entry *e, void *arg)
{
	ck_assert_msg(!e->except && strcmp(e->scope, "*") == 0,
	    "store_list gave %s except=%d, want only *", e->scope, e->except);
	++*(int *)arg;
	return 0;
}

static int count_hist(const struct store_event *ev, void *arg)
{
	(void)ev;
	++*(int *)arg;
	return 0;
}

START_TEST(exceptions_stay_out_of_lists_and_into_history)
{
	struct store_event ev = { .action = STORE_UNSUBSCRIBE,
		.source = STORE_SRC_MANUAL, .address = ADDR, .scope = "*" };
	int changed, n = 0, h = 0;

	ck_assert_int_eq(store_record(st, &ev, &changed), STORE_OK);
	ev.action = STORE_RESUBSCRIBE;
	ev.time = 0;
	strcpy(ev.scope, "news");
	ck_assert_int_eq(store_record(st, &ev, &changed), STORE_OK);
	ck_assert_int_eq(store_list(st, NULL, 0, list_cb, &n), STORE_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(store_history(st, ADDR, count_hist, &h), STORE_OK);
	ck_assert_int_eq(h, 2);
}
END_TEST

/* A registry change and what store_lists_get then holds. */
static const struct {
	const char *name, *title, *desc;
	int remove, rc;
	const char *want;	/* "name=title;" for each, in order */
} regs[] = {
	{ "weekly", "The weekly", "", 0, STORE_OK, "weekly=The weekly;" },
	{ "news", "News", "Now and then", 0, STORE_OK,
	  "news=News;weekly=The weekly;" },
	{ "news", "Company news", "", 0, STORE_OK,
	  "news=Company news;weekly=The weekly;" },
	{ "bad name", "T", "", 0, STORE_EINVAL,
	  "news=Company news;weekly=The weekly;" },
	{ "*", "All", "", 0, STORE_EINVAL,
	  "news=Company news;weekly=The weekly;" },
	{ "x", "", "", 0, STORE_EINVAL, "news=Company news;weekly=The weekly;" },
	{ "x", "tab\there", "", 0, STORE_EINVAL,
	  "news=Company news;weekly=The weekly;" },
	{ "weekly", NULL, NULL, 1, STORE_OK, "news=Company news;" },
	{ "weekly", NULL, NULL, 1, STORE_ENOTFOUND, "news=Company news;" },
};

START_TEST(registry_table)
{
	struct store_listdef d, got[STORE_LISTS_MAX];
	char have[512] = "";
	size_t n;
	int rc;

	for (int i = 0; i <= _i; i++) {
		memset(&d, 0, sizeof(d));
		snprintf(d.name, sizeof(d.name), "%s", regs[i].name);
		if (regs[i].remove) {
			rc = store_lists_remove(st, d.name);
		} else {
			snprintf(d.title, sizeof(d.title), "%s", regs[i].title);
			snprintf(d.description, sizeof(d.description), "%s",
			    regs[i].desc);
			rc = store_lists_set(st, &d);
		}
		if (i == _i)
			ck_assert_msg(rc == regs[i].rc, "step %d: got %d, want %d",
			    i, rc, regs[i].rc);
	}
	ck_assert_int_eq(store_lists_get(st, got, STORE_LISTS_MAX, &n),
	    STORE_OK);
	for (size_t i = 0; i < n; i++)
		snprintf(have + strlen(have), sizeof(have) - strlen(have),
		    "%.20s=%.20s;", got[i].name, got[i].title);
	ck_assert_msg(strcmp(have, regs[_i].want) == 0, "step %d: got %s, "
	    "want %s", _i, have, regs[_i].want);
}
END_TEST

START_TEST(registry_is_bounded)
{
	struct store_listdef d = { .title = "T" }, got[2];
	size_t n;

	for (int i = 0; i < STORE_LISTS_MAX; i++) {
		snprintf(d.name, sizeof(d.name), "l%03d", i);
		ck_assert_int_eq(store_lists_set(st, &d), STORE_OK);
	}
	strcpy(d.name, "onemore");
	ck_assert_int_eq(store_lists_set(st, &d), STORE_EFULL);
	ck_assert_ptr_nonnull(strstr(store_strerror(STORE_EFULL), "64 lists"));
	strcpy(d.name, "l000");	/* replacing is no new list */
	strcpy(d.title, "New title");
	ck_assert_int_eq(store_lists_set(st, &d), STORE_OK);
	ck_assert_int_eq(store_lists_get(st, got, 2, &n), STORE_OK);
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(got[0].title, "New title");
	/* a removed list's tombstone takes no room */
	ck_assert_int_eq(store_lists_remove(st, "l001"), STORE_OK);
	strcpy(d.name, "onemore");
	ck_assert_int_eq(store_lists_set(st, &d), STORE_OK);
	ck_assert_int_eq(store_lists_get(st, got, 2, &n), STORE_OK);
	ck_assert_str_eq(got[1].name, "l002");
}
END_TEST

/* A registry entry written before the fleet (version 1: title "\0"
 * description, no time) is live, and any change is newer than it. */
START_TEST(registry_before_the_fleet)
{
	static const char rec[] = "\001Old title\0Old description";
	struct store_listdef d = { .name = "old", .title = "New" }, got[2];
	MDB_val k = { 3, "old" }, v = { sizeof(rec) - 1, (void *)rec };
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi lists;
	size_t n;

	store_close(st);
	ck_assert_int_eq(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 8);
	ck_assert_int_eq(mdb_env_open(env, dir, 0, 0600), 0);
	ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	ck_assert_int_eq(mdb_dbi_open(txn, "lists", 0, &lists), 0);
	ck_assert_int_eq(mdb_put(txn, lists, &k, &v, 0), 0);
	ck_assert_int_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	ck_assert_int_eq(store_open(dir, &(struct store_opts){ 0, 0, 0, NULL },
	    &st), STORE_OK);
	ck_assert_int_eq(store_lists_get(st, got, 2, &n), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(got[0].title, "Old title");
	ck_assert_str_eq(got[0].description, "Old description");
	ck_assert_int_eq(store_lists_set(st, &d), STORE_OK);
	ck_assert_int_eq(store_lists_get(st, got, 2, &n), STORE_OK);
	ck_assert_str_eq(got[0].title, "New");
	ck_assert_int_eq(store_lists_remove(st, "old"), STORE_OK);
	ck_assert_int_eq(store_lists_get(st, got, 2, &n), STORE_OK);
	ck_assert_uint_eq(n, 0);
}
END_TEST

static Suite *prefs_suite(void)
{
	Suite *s = suite_create("prefs");
	TCase *tc = tcase_create("prefs");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, exceptions_table, 0,
	    sizeof(rows) / sizeof(rows[0]));
	tcase_add_test(tc, exceptions_stay_out_of_lists_and_into_history);
	tcase_add_loop_test(tc, registry_table, 0,
	    sizeof(regs) / sizeof(regs[0]));
	tcase_add_test(tc, registry_is_bounded);
	tcase_add_test(tc, registry_before_the_fleet);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(prefs_suite)
