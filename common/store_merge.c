/* store_merge.c - applying one change by the fleet's merge rule
 * (merge.h).  Each (address, scope) keeps the rule's three maxima and
 * the source of its latest resubscribe in "merge"; "supp" holds what the
 * rule makes of them: the scopes suppressed and the exceptions to "*".
 * The same events in any order, any number of times, leave the same
 * state (a suppression's since is the unsubscribe that began it here).
 *
 * Exceptions: a resubscribe of a list carries in lifts the latest
 * unsubscribe it had seen of that list or of "*".  The address gets list
 * L although suppressed for "*" iff L is not suppressed by the rule and
 * L's l reaches the latest "*" unsubscribe (l_L >= u_*), so a later
 * unsubscribe from all lists ends every exception, in any order. */
#include <stdio.h>
#include <string.h>

#include "merge.h"
#include "store_int.h"

#define MERGE_VALUE_LEN 25	/* u(8) | r(8) | l(8) | rsource(1) */

/* One scope's merge state, and whether "supp" has it suppressed. */
struct scope {
	struct merge_state ms;
	uint8_t rsource;	/* the source of the resubscribe at ms.r */
	int supp;
};

/* Decode a "merge" value into s. */
static int state_decode(const MDB_val *v, struct scope *s)
{
	const uint8_t *p = v->mv_data;

	if (v->mv_size != MERGE_VALUE_LEN)
		return MDB_CORRUPTED;
	s->ms.u = store_get_u64(p);
	s->ms.r = store_get_u64(p + 8);
	s->ms.l = store_get_u64(p + 16);
	s->rsource = p[24];
	return 0;
}

/* The state of key k ("address\0scope") into s. */
static int state_get(struct store *st, MDB_txn *txn, MDB_val *k,
    struct scope *s)
{
	MDB_val v;
	int rc = mdb_get(txn, st->supp, k, &v);

	memset(s, 0, sizeof(*s));
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	s->supp = rc == 0;
	if (rc == 0 && v.mv_size == SUPP_VALUE_LEN)	/* before the fleet */
		s->ms.u = store_get_u64((const uint8_t *)v.mv_data + 1) *
		    1000000;
	if ((rc = mdb_get(txn, st->merge, k, &v)) != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	return state_decode(&v, s);
}

/* Fold ev into s and store s under k. */
static int state_fold(struct store *st, MDB_txn *txn, MDB_val *k,
    struct scope *s, const struct store_event *ev)
{
	uint8_t b[MERGE_VALUE_LEN];
	MDB_val v = { sizeof(b), b };
	int resub = ev->action == STORE_RESUBSCRIBE;

	if (resub && (ev->time_us > s->ms.r || (ev->time_us == s->ms.r &&
	    (uint8_t)ev->source > s->rsource)))
		s->rsource = (uint8_t)ev->source;
	merge_add(&s->ms, !resub, ev->time_us, ev->lifts);
	store_put_u64(b, s->ms.u);
	store_put_u64(b + 8, s->ms.r);
	store_put_u64(b + 16, s->ms.l);
	b[24] = s->rsource;
	return mdb_put(txn, st->merge, k, &v, 0);
}

/* Put or delete k's "supp" key as the rule says (a suppression begun
 * takes ev's time and source); *changed on either. */
static int supp_sync(struct store *st, MDB_txn *txn, MDB_val *k,
    struct scope *s, const struct store_event *ev, int *changed)
{
	uint8_t vb[SUPP_VALUE_LEN];
	MDB_val v = { sizeof(vb), vb };
	int now = merge_suppressed(&s->ms);

	if (now == s->supp)
		return 0;
	s->supp = now;
	*changed = 1;
	if (!now)
		return mdb_del(txn, st->supp, k, NULL);
	store_supp_value(vb, ev->time, ev->source);
	return mdb_put(txn, st->supp, k, &v, 0);
}

/* Put or delete the exception of list (state ls) to "*" (state all). */
static int except_sync(struct store *st, MDB_txn *txn, const char *address,
    const char *list, const struct scope *all, const struct scope *ls,
    int *changed)
{
	uint8_t vb[SUPP_VALUE_LEN];
	int gets = all->supp && !ls->supp && ls->ms.l >= all->ms.u;

	store_supp_value(vb, ls->ms.r / 1000000, ls->rsource);
	return store_except_set(st, txn, address, strlen(address), list,
	    gets ? vb : NULL, changed);
}

typedef int (*list_fn)(struct store *st, MDB_txn *txn, const MDB_val *k,
    struct scope *s, void *arg);

/* Call fn with the state of each list (not "*") the address has one of. */
static int each_list(struct store *st, MDB_txn *txn, const char *address,
    list_fn fn, void *arg)
{
	size_t plen = strlen(address) + 1;
	MDB_cursor *cur;
	MDB_val k = { plen, (void *)address }, v;
	int rc;

	if ((rc = mdb_cursor_open(txn, st->merge, &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct scope s;
		if (k.mv_size <= plen || memcmp(k.mv_data, address, plen) != 0)
			break;
		memset(&s, 0, sizeof(s));
		if (k.mv_size == plen + 1 &&
		    ((const char *)k.mv_data)[plen] == '*')
			continue;
		if ((rc = state_decode(&v, &s)) != 0 ||
		    (rc = fn(st, txn, &k, &s, arg)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* each_list: the largest l of the address's lists into *arg. */
static int list_max_l(struct store *st, MDB_txn *txn, const MDB_val *k,
    struct scope *s, void *arg)
{
	uint64_t *l = arg;

	(void)st, (void)txn, (void)k;
	if (s->ms.l > *l)
		*l = s->ms.l;
	return 0;
}

/* What list_sync needs beside each list. */
struct sync_arg {
	const char *address;
	const struct scope *all;
	int *changed;
};

/* each_list: bring the list's exception in line with "*". */
static int list_sync(struct store *st, MDB_txn *txn, const MDB_val *k,
    struct scope *s, void *arg)
{
	const struct sync_arg *a = arg;
	uint8_t kb[STORE_KEY_MAX];
	char list[STORE_SCOPE_MAX + 1];
	size_t plen = strlen(a->address) + 1, llen = k->mv_size - plen;
	MDB_val sk = { k->mv_size, kb }, v;
	int rc;

	if (llen > STORE_SCOPE_MAX)
		return MDB_CORRUPTED;
	memcpy(kb, k->mv_data, k->mv_size);	/* before any write */
	memcpy(list, kb + plen, llen);
	list[llen] = '\0';
	if ((rc = mdb_get(txn, st->supp, &sk, &v)) != 0 && rc != MDB_NOTFOUND)
		return rc;
	s->supp = rc == 0;
	return except_sync(st, txn, a->address, list, a->all, s, a->changed);
}

/* Stamp a local event (state s of its scope, sa of "*"): a resubscribe
 * of what the address gets is STORE_ENOTFOUND; an unsubscribe takes a
 * time that puts it in force (merge_local_unsub, past the lifts of every
 * list for "*"); a resubscribe lifts the latest unsubscribe of its scope
 * and, for a list, of "*". */
static int stamp(struct store *st, MDB_txn *txn, struct store_event *ev,
    const struct scope *s, const struct scope *sa)
{
	int all = strcmp(ev->scope, STORE_SCOPE_ALL) == 0, rc;
	struct merge_state m = s->ms;

	if (ev->action == STORE_RESUBSCRIBE && !s->supp) {
		/* suppressed through "*" only, unless it is an exception */
		rc = all || !sa->supp ? 1 : store_except_has(st, txn,
		    ev->address, strlen(ev->address), ev->scope,
		    strlen(ev->scope));
		if (rc != 0)
			return rc == 1 ? STORE_ENOTFOUND : rc;
	}
	if (ev->time_us == 0)
		ev->time_us = ev->time ? ev->time * 1000000 : store_now_us();
	ev->lifts = 0;
	if (ev->action == STORE_RESUBSCRIBE)
		ev->lifts = all || sa->ms.u < s->ms.u ? s->ms.u : sa->ms.u;
	else if (all && (rc = each_list(st, txn, ev->address, list_max_l,
	    &m.l)) != 0)
		return rc;
	if (ev->action == STORE_UNSUBSCRIBE)
		ev->time_us = merge_local_unsub(&m, ev->time_us);
	ev->time = ev->time_us / 1000000;
	store_uid_mint(ev->uid);
	snprintf(ev->host, sizeof(ev->host), "%s", st->host);
	return 0;
}

int store_merge_event(struct store *st, MDB_txn *txn, struct store_event *ev,
    int local, int *changed)
{
	uint8_t kb[STORE_KEY_MAX], ab[STORE_KEY_MAX];
	MDB_val k = { store_supp_key(kb, ev->address, ev->scope), kb };
	MDB_val ka = { store_supp_key(ab, ev->address, STORE_SCOPE_ALL), ab };
	struct scope s, sa;
	int rc;

	if ((rc = state_get(st, txn, &k, &s)) != 0 ||
	    (rc = state_get(st, txn, &ka, &sa)) != 0)
		return rc;
	if (!local)
		ev->time = ev->time_us / 1000000;
	else if ((rc = stamp(st, txn, ev, &s, &sa)) != 0)
		return rc;
	if ((rc = state_fold(st, txn, &k, &s, ev)) != 0 ||
	    (rc = supp_sync(st, txn, &k, &s, ev, changed)) != 0)
		return rc;
	if (strcmp(ev->scope, STORE_SCOPE_ALL) == 0) {
		struct sync_arg a = { ev->address, &s, changed };
		return each_list(st, txn, ev->address, list_sync, &a);
	}
	return except_sync(st, txn, ev->address, ev->scope, &sa, &s, changed);
}
