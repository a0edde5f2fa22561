/* test_fleet.c - the fleet's merge rule and the store's side of it: any
 * order, duplicates and replays of an event set give the same state
 * (table-driven, every permutation), each event once in history and in
 * the feed, references as events, and the local rules (a resubscribe
 * lifts what it saw; an unsubscribe is in force whatever the clocks),
 * and the list registry's last writer wins by (time, uid). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "merge.h"
#include "store.h"
#include "unit.h"

#define S 1000000ULL	/* a second in microseconds */
#define T0 (1700000000ULL * S)

/* One event of a set: unsubscribe (u=1) or resubscribe at t, lifting l. */
struct mev {
	int u;
	uint64_t t, l;
};

static const struct {
	const char *why;
	struct mev ev[5];
	size_t n;
	int want;
} sets[] = {
	{ "one unsubscribe", { { 1, T0, 0 } }, 1, 1 },
	{ "resubscribe that saw it", { { 1, T0, 0 }, { 0, T0 + S, T0 } }, 2,
	  0 },
	{ "same-microsecond resubscribe that saw it",
	  { { 1, T0, 0 }, { 0, T0, T0 } }, 2, 0 },
	{ "concurrent resubscribe within the guard loses",
	  { { 1, T0, 0 }, { 0, T0 + 60 * S, 0 } }, 2, 1 },
	{ "concurrent resubscribe past the guard wins",
	  { { 1, T0, 0 }, { 0, T0 + MERGE_GUARD_US + 1, 0 } }, 2, 0 },
	{ "tie at the guard: unsubscribe wins",
	  { { 1, T0, 0 }, { 0, T0 + MERGE_GUARD_US, 0 } }, 2, 1 },
	{ "unsubscribe again after a lift",
	  { { 1, T0, 0 }, { 0, T0 + S, T0 }, { 1, T0 + 2 * S, 0 } }, 3, 1 },
	{ "a skewed host's resubscribe in the past saw nothing",
	  { { 1, T0, 0 }, { 0, T0 - 3600 * S, 0 } }, 2, 1 },
	{ "two unsubscribes, one lifted",
	  { { 1, T0, 0 }, { 1, T0 + 5 * S, 0 }, { 0, T0 + 6 * S, T0 } }, 3,
	  1 },
	{ "both lifted", { { 1, T0, 0 }, { 1, T0 + 5 * S, 0 },
	  { 0, T0 + 6 * S, T0 + 5 * S }, { 0, T0 + 7 * S, T0 } }, 4, 0 },
	{ "resubscribe alone", { { 0, T0, 0 } }, 1, 0 },
};

/* Fold events ev[order[0..n)] into a state. */
static struct merge_state fold(const struct mev *ev, const size_t *order,
    size_t n)
{
	struct merge_state s = { 0, 0, 0 };

	for (size_t i = 0; i < n; i++)
		merge_add(&s, ev[order[i]].u, ev[order[i]].t, ev[order[i]].l);
	return s;
}

/* The next permutation of p (n items) in lexicographic order; 0 after
 * the last. */
static int next_perm(size_t *p, size_t n)
{
	size_t i = n - 1, j = n - 1, t;

	while (i > 0 && p[i - 1] >= p[i])
		i--;
	if (i == 0)
		return 0;
	while (p[j] <= p[i - 1])
		j--;
	t = p[i - 1], p[i - 1] = p[j], p[j] = t;
	for (j = n - 1; i < j; i++, j--)
		t = p[i], p[i] = p[j], p[j] = t;
	return 1;
}

START_TEST(merge_any_order)
{
	size_t order[10], n = sets[_i].n;
	struct merge_state first, s;

	for (size_t k = 0; k < n; k++)
		order[k] = k;
	first = fold(sets[_i].ev, order, n);
	ck_assert_msg(merge_suppressed(&first) == sets[_i].want,
	    "%s: got %d, want %d", sets[_i].why, !sets[_i].want,
	    sets[_i].want);
	while (next_perm(order, n)) {
		s = fold(sets[_i].ev, order, n);
		ck_assert_msg(memcmp(&s, &first, sizeof(s)) == 0,
		    "%s: another order, another state", sets[_i].why);
	}
	/* every event twice, replayed after the lot */
	for (size_t k = 0; k < n; k++)
		order[n + k] = order[k];
	s = fold(sets[_i].ev, order, 2 * n);
	ck_assert_msg(memcmp(&s, &first, sizeof(s)) == 0,
	    "%s: duplicates changed the state", sets[_i].why);
}
END_TEST

/* A local unsubscribe is in force whatever the others' clocks said. */
START_TEST(merge_local_unsub_in_force)
{
	static const struct merge_state seen[] = {
		{ 0, 0, 0 },
		{ T0, T0 + S, T0 },			/* lifted just now */
		{ T0 + 7200 * S, T0 + 7201 * S, T0 + 7200 * S },	/* a clock
							 * two hours ahead */
		{ 0, T0 + 3600 * S, 0 },		/* a resubscribe ahead */
	};

	for (size_t i = 0; i < sizeof(seen) / sizeof(seen[0]); i++) {
		struct merge_state s = seen[i];
		merge_add(&s, 1, merge_local_unsub(&s, T0), 0);
		ck_assert_msg(merge_suppressed(&s), "case %zu: not in force",
		    i);
	}
}
END_TEST

static char dir[3][64];
static struct store *st[3];

static void setup(void)
{
	for (int i = 0; i < 3; i++) {
		struct store_opts o = { 0, 0, 0, (const char *[]){ "h0", "h1",
			"h2" }[i] };
		strcpy(dir[i], "/tmp/unsub-fleet-XXXXXX");
		ck_assert_ptr_nonnull(mkdtemp(dir[i]));
		ck_assert_int_eq(store_open(dir[i], &o, &st[i]), STORE_OK);
	}
}

static void teardown(void)
{
	char cmd[256];

	for (int i = 0; i < 3; i++) {
		store_close(st[i]);
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir[i]);
		ck_assert_int_eq(system(cmd), 0);
	}
}

/* Record on store i; returns the store's code. */
static int rec(int i, enum store_action a, const char *addr,
    const char *scope)
{
	struct store_event ev;
	int changed;

	memset(&ev, 0, sizeof(ev));
	snprintf(ev.address, sizeof(ev.address), "%.64s", addr);
	snprintf(ev.scope, sizeof(ev.scope), "%.64s", scope);
	ev.action = a;
	ev.source = STORE_SRC_MANUAL;
	return store_record(st[i], &ev, &changed);
}

/* The feed of store i gathered. */
struct feed {
	struct store_item it[16];
	size_t n;
};

static int feed_cb(const struct store_item *it, void *arg)
{
	struct feed *f = arg;

	ck_assert_uint_lt(f->n, 16);
	f->it[f->n++] = *it;
	return 0;
}

static void feed_of(int i, uint64_t after, struct feed *f)
{
	f->n = 0;
	ck_assert_int_eq(store_events(st[i], after, 0, feed_cb, f), STORE_OK);
}

static int is_suppressed(int i, const char *addr, const char *list)
{
	int s = -1;

	ck_assert_int_eq(store_check(st[i], addr, list, &s, NULL, 0),
	    STORE_OK);
	return s;
}

static int count_cb(const struct store_event *ev, void *arg)
{
	(void)ev;
	++*(int *)arg;
	return 0;
}

/* Events made on h0 and h1 reach h2 in either order, replayed: the same
 * state, each event once in history and in the feed. */
START_TEST(mirror_once_any_order)
{
	static const uint8_t ref[15] = "fifteen-bytes!!", tok[4] = "tok!";
	struct feed f0, f1, f2;
	struct store_meta m = { "cursor", 42 };
	uint64_t v = 0;
	size_t applied;
	int n = 0;

	ck_assert_int_eq(rec(0, STORE_UNSUBSCRIBE, "a@example.com", "news"),
	    STORE_OK);
	ck_assert_int_eq(store_ref_put(st[0], ref, sizeof(ref), tok,
	    sizeof(tok)), STORE_OK);
	/* journaled, then committed */
	ck_assert_int_eq(store_ref_wait(st[0], ref, sizeof(ref)),
	    STORE_OK);
	feed_of(0, 0, &f0);
	ck_assert_uint_eq(f0.n, 2);
	ck_assert_int_eq(f0.it[1].kind, STORE_KIND_REF);
	ck_assert_str_eq(f0.it[0].ev.host, "h0");
	/* h1 has it, then lifts it: its resubscribe saw the unsubscribe */
	ck_assert_int_eq(store_mirror(st[1], f0.it, 1, NULL, 0, &applied),
	    STORE_OK);
	ck_assert_uint_eq(applied, 1);
	ck_assert_int_eq(rec(1, STORE_RESUBSCRIBE, "a@example.com", "news"),
	    STORE_OK);
	feed_of(1, 1, &f1);
	ck_assert_uint_eq(f1.n, 1);
	ck_assert_uint_eq(f1.it[0].ev.lifts, f0.it[0].ev.time_us);
	/* h2: the resubscribe first, then everything twice */
	ck_assert_int_eq(store_mirror(st[2], f1.it, 1, NULL, 0, &applied),
	    STORE_OK);
	ck_assert_int_eq(store_mirror(st[2], f0.it, 2, &m, 1, &applied),
	    STORE_OK);
	ck_assert_uint_eq(applied, 2);
	ck_assert_int_eq(store_mirror(st[2], f0.it, 2, NULL, 0, &applied),
	    STORE_OK);
	ck_assert_int_eq(store_mirror(st[2], f1.it, 1, NULL, 0, &applied),
	    STORE_OK);
	ck_assert_uint_eq(applied, 0);
	ck_assert_int_eq(is_suppressed(1, "a@example.com", "news"), 0);
	ck_assert_int_eq(is_suppressed(2, "a@example.com", "news"), 0);
	feed_of(2, 0, &f2);
	ck_assert_uint_eq(f2.n, 3);
	ck_assert_int_eq(store_history(st[2], "a@example.com", count_cb, &n),
	    STORE_OK);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(store_meta_get(st[2], "cursor", &v), STORE_OK);
	ck_assert_uint_eq(v, 42);
	ck_assert_int_eq(store_meta_get(st[2], "boot", &v), STORE_ENOTFOUND);
}
END_TEST

/* A reference minted on h0 resolves on h1 once mirrored. */
START_TEST(mirror_reference)
{
	static const uint8_t ref[15] = "0123456789abcde", tok[5] = "token";
	uint8_t got[64];
	size_t len, applied;
	struct feed f;

	ck_assert_int_eq(store_ref_put(st[0], ref, sizeof(ref), tok,
	    sizeof(tok)), STORE_OK);
	ck_assert_int_eq(store_ref_wait(st[0], ref, sizeof(ref)),
	    STORE_OK);
	ck_assert_int_eq(store_ref_get(st[1], ref, sizeof(ref), got,
	    sizeof(got), &len), STORE_ENOTFOUND);
	feed_of(0, 0, &f);
	ck_assert_int_eq(store_mirror(st[1], f.it, f.n, NULL, 0, &applied),
	    STORE_OK);
	ck_assert_int_eq(store_ref_get(st[1], ref, sizeof(ref), got,
	    sizeof(got), &len), STORE_OK);
	ck_assert_uint_eq(len, sizeof(tok));
	ck_assert_int_eq(memcmp(got, tok, len), 0);
}
END_TEST

/* A concurrent remote resubscribe within the guard does not lift a
 * local unsubscribe; one that saw it does. */
START_TEST(mirror_guard)
{
	struct feed f;
	size_t applied;

	ck_assert_int_eq(rec(0, STORE_UNSUBSCRIBE, "g@example.com", "*"),
	    STORE_OK);
	feed_of(0, 0, &f);
	f.it[0].ev.action = STORE_RESUBSCRIBE;	/* a blind resubscribe */
	f.it[0].ev.uid[0] ^= 1;
	f.it[0].ev.time_us += 30 * S;
	f.it[0].ev.lifts = 0;
	snprintf(f.it[0].ev.host, sizeof(f.it[0].ev.host), "h1");
	ck_assert_int_eq(store_mirror(st[0], f.it, 1, NULL, 0, &applied),
	    STORE_OK);
	ck_assert_int_eq(is_suppressed(0, "g@example.com", "x"), 1);
	f.it[0].ev.uid[0] ^= 2;
	f.it[0].ev.lifts = f.it[0].ev.time_us - 30 * S;	/* it saw it */
	ck_assert_int_eq(store_mirror(st[0], f.it, 1, NULL, 0, &applied),
	    STORE_OK);
	ck_assert_int_eq(is_suppressed(0, "g@example.com", "x"), 0);
}
END_TEST

/* Exceptions to "*" (issue 17) made on h0 reach h2 in every order of
 * their events with the same result as on h0: an exception holds, a
 * later unsubscribe from all ends it, unsubscribing from the list ends
 * it and resubscribing makes it again. */
static const struct {
	const char *scope[4];	/* resubscribe when it starts with '+' */
	int weekly, news;	/* suppressed for them at the end */
} except_cases[] = {
	{ { "*", "+weekly" }, 0, 1 },
	{ { "*", "+weekly", "*" }, 1, 1 },
	{ { "*", "+weekly", "weekly" }, 1, 1 },
	{ { "*", "+weekly", "weekly", "+weekly" }, 0, 1 },
	{ { "*", "+weekly", "+*" }, 0, 0 },
};

START_TEST(mirror_exceptions_any_order)
{
	struct feed f;
	size_t n = 0, order[4], applied, perm = 0;

	for (; n < 4 && except_cases[_i].scope[n] != NULL; n++) {
		const char *sc = except_cases[_i].scope[n];
		ck_assert_int_eq(rec(0, sc[0] == '+' ? STORE_RESUBSCRIBE :
		    STORE_UNSUBSCRIBE, "x@example.com", sc + (sc[0] == '+')),
		    STORE_OK);
		order[n] = n;
	}
	ck_assert_int_eq(is_suppressed(0, "x@example.com", "weekly"),
	    except_cases[_i].weekly);
	ck_assert_int_eq(is_suppressed(0, "x@example.com", "news"),
	    except_cases[_i].news);
	feed_of(0, 0, &f);
	ck_assert_uint_eq(f.n, n);
	do {
		char addr[32];
		snprintf(addr, sizeof(addr), "p%zu@example.com", perm);
		for (size_t i = 0; i < n; i++) {
			struct store_item it = f.it[order[i]];
			snprintf(it.ev.address, sizeof(it.ev.address), "%s",
			    addr);
			it.ev.uid[15] ^= (uint8_t)(perm + 1);
			ck_assert_int_eq(store_mirror(st[2], &it, 1, NULL, 0,
			    &applied), STORE_OK);
			ck_assert_uint_eq(applied, 1);
		}
		ck_assert_msg(is_suppressed(2, addr, "weekly") ==
		    except_cases[_i].weekly && is_suppressed(2, addr, "news") ==
		    except_cases[_i].news, "case %d, permutation %zu: got "
		    "weekly %d news %d, want %d %d", _i, perm,
		    is_suppressed(2, addr, "weekly"),
		    is_suppressed(2, addr, "news"), except_cases[_i].weekly,
		    except_cases[_i].news);
		perm++;
	} while (next_perm(order, n));
}
END_TEST

/* Registry changes (title NULL: a remove) made at t with uids ranked
 * rank: on every store, in every order and replayed, the latest by
 * (time, uid) wins, a remove included. */
struct lev {
	const char *name, *title;
	uint64_t t;
	uint8_t rank;
};

static const struct {
	const char *why;
	struct lev ev[4];
	const char *want;	/* "name=title;" for each live list */
} reg_cases[] = {
	{ "set, then removed", { { "news", "A", T0, 1 },
	  { "news", NULL, T0 + S, 2 } }, "" },
	{ "a remove older than the set", { { "news", "A", T0 + S, 1 },
	  { "news", NULL, T0, 2 } }, "news=A;" },
	{ "the later title", { { "news", "A", T0, 1 },
	  { "news", "B", T0 + S, 2 } }, "news=B;" },
	{ "same time: the larger uid", { { "news", "A", T0, 2 },
	  { "news", "B", T0, 1 } }, "news=A;" },
	{ "removed, then set again", { { "news", "A", T0, 1 },
	  { "news", NULL, T0 + S, 2 }, { "news", "C", T0 + 2 * S, 3 } },
	  "news=C;" },
	{ "a late set older than the remove stays removed",
	  { { "news", "A", T0, 1 }, { "news", NULL, T0 + 2 * S, 2 },
	  { "news", "B", T0 + S, 3 } }, "" },
	{ "two lists", { { "news", "A", T0, 1 }, { "weekly", "W", T0, 2 },
	  { "weekly", NULL, T0 + S, 3 }, { "news", "N", T0 + S, 4 } },
	  "news=N;" },
};

/* The live lists of store i named with suffix sfx, as "name=title;"
 * without it. */
static void registry_of(int i, const char *sfx, char *out, size_t sz)
{
	struct store_listdef got[128];
	size_t n, sl = strlen(sfx);

	ck_assert_int_eq(store_lists_get(st[i], got, 128, &n), STORE_OK);
	ck_assert_uint_lt(n, 128);
	out[0] = '\0';
	for (size_t k = 0; k < n; k++) {
		size_t nl = strlen(got[k].name);
		if (nl > sl && strcmp(got[k].name + nl - sl, sfx) == 0)
			snprintf(out + strlen(out), sz - strlen(out),
			    "%.*s=%.20s;", (int)(nl - sl), got[k].name,
			    got[k].title);
	}
}

START_TEST(registry_any_order)
{
	size_t n = 0, order[4], applied, perm = 0;
	char have[256], sfx[16];
	struct store_item it[4];

	for (; n < 4 && reg_cases[_i].ev[n].name != NULL; n++)
		order[n] = n;
	do {
		snprintf(sfx, sizeof(sfx), "-%zu", perm);
		for (size_t pass = 0; pass < 2; pass++) {
			for (size_t k = 0; k < n; k++) {
				const struct lev *e = &reg_cases[_i].ev[order[k]];
				memset(&it[k], 0, sizeof(it[k]));
				it[k].kind = STORE_KIND_LIST;
				it[k].removed = e->title == NULL;
				snprintf(it[k].list.name, sizeof(it[k].list.name),
				    "%s%s", e->name, sfx);
				snprintf(it[k].list.title, sizeof(it[k].list.title),
				    "%s", e->title ? e->title : "");
				it[k].ev.time_us = e->t;
				it[k].ev.uid[0] = e->rank;
				it[k].ev.uid[1] = (uint8_t)perm;
				snprintf(it[k].ev.host, sizeof(it[k].ev.host),
				    "h%d", e->rank % 2);
			}
			ck_assert_int_eq(store_mirror(st[2], it, n, NULL, 0,
			    &applied), STORE_OK);
			ck_assert_uint_eq(applied, pass ? 0 : n);
		}
		registry_of(2, sfx, have, sizeof(have));
		ck_assert_msg(strcmp(have, reg_cases[_i].want) == 0, "%s, "
		    "permutation %zu: got %s, want %s", reg_cases[_i].why,
		    perm, have, reg_cases[_i].want);
		perm++;
	} while (next_perm(order, n));
}
END_TEST

/* A registry change on h0 reaches h1 through the feed; a remove there
 * comes back as a tombstone; a local change wins over one from a clock
 * ahead, and a set older than the tombstone does not bring it back. */
START_TEST(registry_across_hosts)
{
	struct store_listdef d = { .name = "news", .title = "T" };
	struct feed f0, f1;
	char have[256];
	size_t applied;

	ck_assert_int_eq(store_lists_set(st[0], &d), STORE_OK);
	feed_of(0, 0, &f0);
	ck_assert_uint_eq(f0.n, 1);
	ck_assert_int_eq(f0.it[0].kind, STORE_KIND_LIST);
	ck_assert_str_eq(f0.it[0].ev.host, "h0");
	ck_assert_int_eq(store_mirror(st[1], f0.it, 1, NULL, 0, &applied),
	    STORE_OK);
	registry_of(1, "", have, sizeof(have));
	ck_assert_str_eq(have, "news=T;");
	ck_assert_int_eq(store_lists_remove(st[1], "news"), STORE_OK);
	feed_of(1, 1, &f1);
	ck_assert_uint_eq(f1.n, 1);
	ck_assert_int_eq(f1.it[0].removed, 1);
	ck_assert_uint_gt(f1.it[0].ev.time_us, f0.it[0].ev.time_us);
	ck_assert_int_eq(store_mirror(st[0], f1.it, 1, NULL, 0, &applied),
	    STORE_OK);
	registry_of(0, "", have, sizeof(have));
	ck_assert_str_eq(have, "");
	ck_assert_int_eq(store_lists_remove(st[0], "news"), STORE_ENOTFOUND);
	/* a set from before the remove, arriving late */
	f0.it[0].ev.uid[15] ^= 1;
	ck_assert_int_eq(store_mirror(st[0], f0.it, 1, NULL, 0, &applied),
	    STORE_OK);
	ck_assert_uint_eq(applied, 1);
	registry_of(0, "", have, sizeof(have));
	ck_assert_str_eq(have, "");
	/* a set from a clock an hour ahead, then a local one */
	f0.it[0].ev.uid[15] ^= 2;
	f0.it[0].ev.time_us = f1.it[0].ev.time_us + 3600 * S;
	ck_assert_int_eq(store_mirror(st[0], f0.it, 1, NULL, 0, &applied),
	    STORE_OK);
	strcpy(d.title, "Local");
	ck_assert_int_eq(store_lists_set(st[0], &d), STORE_OK);
	registry_of(0, "", have, sizeof(have));
	ck_assert_str_eq(have, "news=Local;");
}
END_TEST

/* What store 0 held before the fleet (written as that version did: a
 * "supp" entry with no merge state, a registry entry of the first
 * format) is carried into its outbox once, and suppresses on store 1
 * when mirrored; what was made since is not carried again. */
START_TEST(carried_over_from_before_the_fleet)
{
	static const struct {
		const char *dbi, *key, *val;
		size_t klen, vlen;
	} old[] = {
		{ "supp", "old@example.com\0news", "\1\0\0\0\0\x6a\xb1\x3b\x80\5",
		  20, 10 },
		{ "supp", "all@example.com\0*", "\1\0\0\0\0\x6a\xb1\x3b\x80\2",
		  17, 10 },
		{ "lists", "news", "\1Old news\0About it", 4, 18 },
	};
	struct store_opts o = { 0, 0, 0, "h0" };
	struct feed f;
	char have[256];
	size_t supp, lists, applied;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	int n = 0;

	ck_assert_int_eq(rec(0, STORE_UNSUBSCRIBE, "new@example.com", "news"),
	    STORE_OK);
	store_close(st[0]);
	ck_assert_int_eq(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 16);
	ck_assert_int_eq(mdb_env_open(env, dir[0], 0, 0600), 0);
	ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	for (size_t i = 0; i < sizeof(old) / sizeof(old[0]); i++) {
		MDB_val k = { old[i].klen, (void *)old[i].key };
		MDB_val v = { old[i].vlen, (void *)old[i].val };
		ck_assert_int_eq(mdb_dbi_open(txn, old[i].dbi, 0, &dbi), 0);
		ck_assert_int_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
	}
	ck_assert_int_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	ck_assert_int_eq(store_open(dir[0], &o, &st[0]), STORE_OK);

	ck_assert_int_eq(store_carry_over(st[0], &supp, &lists), STORE_OK);
	ck_assert_uint_eq(supp, 2);
	ck_assert_uint_eq(lists, 1);
	feed_of(0, 1, &f);	/* past new@'s own event */
	ck_assert_uint_eq(f.n, 3);
	for (size_t i = 0; i < f.n; i++)
		ck_assert_str_eq(f.it[i].ev.host, "h0");
	ck_assert_uint_eq(f.it[1].ev.time, 1790000000);
	ck_assert_int_eq(f.it[1].ev.source, STORE_SRC_IMPORT);
	ck_assert_int_eq(store_mirror(st[1], f.it, f.n, NULL, 0, &applied),
	    STORE_OK);
	ck_assert_uint_eq(applied, 3);
	ck_assert_int_eq(is_suppressed(1, "old@example.com", "news"), 1);
	ck_assert_int_eq(is_suppressed(1, "all@example.com", "offers"), 1);
	ck_assert_int_eq(is_suppressed(1, "old@example.com", "offers"), 0);
	registry_of(1, "", have, sizeof(have));
	ck_assert_str_eq(have, "news=Old news;");
	/* here: the same suppressions, one carried event in history */
	ck_assert_int_eq(is_suppressed(0, "old@example.com", "news"), 1);
	ck_assert_int_eq(store_history(st[0], "old@example.com", count_cb, &n),
	    STORE_OK);
	ck_assert_int_eq(n, 1);
	/* once */
	ck_assert_int_eq(store_carry_over(st[0], &supp, &lists), STORE_OK);
	ck_assert_uint_eq(supp + lists, 0);
	feed_of(0, 4, &f);
	ck_assert_uint_eq(f.n, 0);
}
END_TEST

static Suite *fleet_suite(void)
{
	Suite *s = suite_create("fleet");
	TCase *tm = tcase_create("merge"), *ts = tcase_create("store");

	tcase_add_loop_test(tm, merge_any_order, 0,
	    sizeof(sets) / sizeof(sets[0]));
	tcase_add_test(tm, merge_local_unsub_in_force);
	tcase_add_checked_fixture(ts, setup, teardown);
	tcase_add_test(ts, mirror_once_any_order);
	tcase_add_test(ts, mirror_reference);
	tcase_add_test(ts, mirror_guard);
	tcase_add_loop_test(ts, mirror_exceptions_any_order, 0,
	    sizeof(except_cases) / sizeof(except_cases[0]));
	tcase_add_loop_test(ts, registry_any_order, 0,
	    sizeof(reg_cases) / sizeof(reg_cases[0]));
	tcase_add_test(ts, registry_across_hosts);
	tcase_add_test(ts, carried_over_from_before_the_fleet);
	suite_add_tcase(s, tm);
	suite_add_tcase(s, ts);
	return s;
}

UNIT_MAIN(fleet_suite)
