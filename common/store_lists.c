/* store_lists.c - the registry of lists the preference centre shows: a
 * name (as tokens carry it), a title and an optional description, in the
 * "lists" database (formats in store_int.h).  Each change is an event of
 * the fleet, written with its "events" entry in one transaction: set and
 * remove here through the group commit, other hosts' through
 * store_mirror.  An entry keeps the time and uid of the change that made
 * it, a remove leaves a tombstone, and a change older by (time, uid) than
 * the entry changes nothing: the last writer wins in any order. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "store_int.h"

#define LISTS_HEAD 25	/* version(1) | time(8) | uid(16) */

/* A title or description: no control characters, at most max bytes. */
static int text_ok(const char *s, size_t max)
{
	size_t len = strlen(s);

	if (len > max)
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* A list the registry can hold: a name, a title and a description. */
static int def_ok(const struct store_listdef *d)
{
	return token_id_ok(d->name, 1) && d->title[0] != '\0' &&
	    text_ok(d->title, STORE_TITLE_MAX) &&
	    text_ok(d->description, STORE_DESC_MAX);
}

int store_lists_set(struct store *st, const struct store_listdef *d)
{
	if (!def_ok(d))
		return STORE_EINVAL;
	return store_commit_list(st, d, 0);
}

int store_lists_remove(struct store *st, const char *name)
{
	struct store_listdef d;

	if (!token_id_ok(name, 1))
		return STORE_EINVAL;
	memset(&d, 0, sizeof(d));
	snprintf(d.name, sizeof(d.name), "%s", name);
	return store_commit_list(st, &d, 1);
}

/* removed(1) | title "\0" | description, from it, into p: its length. */
static size_t body_put(uint8_t *p, const struct store_item *it)
{
	size_t tl = strlen(it->list.title), dl = strlen(it->list.description);

	p[0] = it->removed != 0;
	memcpy(p + 1, it->list.title, tl + 1);
	memcpy(p + 2 + tl, it->list.description, dl);
	return 2 + tl + dl;
}

/* The same, n bytes at p, into it; -1 when it does not decode. */
static int body_get(const uint8_t *p, size_t n, struct store_item *it)
{
	const uint8_t *nul;
	size_t tl, dl;

	if (n < 2 || p[0] > 1 ||
	    (nul = memchr(p + 1, '\0', n - 1)) == NULL ||
	    (tl = (size_t)(nul - p - 1)) > STORE_TITLE_MAX ||
	    (dl = n - tl - 2) > STORE_DESC_MAX)
		return -1;
	it->removed = p[0];
	memcpy(it->list.title, p + 1, tl + 1);
	memcpy(it->list.description, nul + 1, dl);
	it->list.description[dl] = '\0';
	return 0;
}

/* Decode one registry entry into it (name, time, uid, removed, title,
 * description); -1 when it does not decode. */
static int entry_decode(const MDB_val *k, const MDB_val *v,
    struct store_item *it)
{
	const uint8_t *p = v->mv_data;
	int v1 = v->mv_size > 0 && p[0] == LISTS_VERSION;

	if (k->mv_size == 0 || k->mv_size > STORE_SCOPE_MAX || (!v1 &&
	    (v->mv_size < LISTS_HEAD || p[0] != LISTS_VERSION2)))
		return -1;
	memset(it, 0, offsetof(struct store_item, tok));
	it->kind = STORE_KIND_LIST;
	memcpy(it->list.name, k->mv_data, k->mv_size);
	it->list.name[k->mv_size] = '\0';
	if (v1) {
		/* From before the fleet, live and older than any change:
		 * the version byte where the body has its flag. */
		if (body_get(p, v->mv_size, it) < 0)
			return -1;
		it->removed = 0;
		return 0;
	}
	it->ev.time_us = store_get_u64(p + 1);
	memcpy(it->ev.uid, p + 9, STORE_UID_LEN);
	return body_get(p + LISTS_HEAD, v->mv_size - LISTS_HEAD, it);
}

/* The entry of name into cur: 0, MDB_NOTFOUND, MDB_CORRUPTED or an LMDB
 * code. */
static int entry_get(struct store *st, MDB_txn *txn, const char *name,
    struct store_item *cur)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	int rc = mdb_get(txn, st->lists, &k, &v);

	if (rc != 0)
		return rc;
	return entry_decode(&k, &v, cur) == 0 ? 0 : MDB_CORRUPTED;
}

/* Does a's change come after b's: by time, then by uid? */
static int newer(const struct store_item *a, const struct store_item *b)
{
	return a->ev.time_us != b->ev.time_us ? a->ev.time_us > b->ev.time_us :
	    memcmp(a->ev.uid, b->ev.uid, STORE_UID_LEN) > 0;
}

/* Write it as the entry of its name (when put) and as an event: its seq,
 * its "events" entry and its uid.  LMDB code. */
static int entry_write(struct store *st, MDB_txn *txn, struct store_item *it,
    int put)
{
	uint8_t b[LISTS_HEAD + LISTS_EVENT_MAX];	/* entry or event */
	size_t nl = strlen(it->list.name) + 1;
	MDB_val k = { nl - 1, it->list.name }, v = { 0, b };
	int rc;

	if (put) {
		b[0] = LISTS_VERSION2;
		store_put_u64(b + 1, it->ev.time_us);
		memcpy(b + 9, it->ev.uid, STORE_UID_LEN);
		v.mv_size = LISTS_HEAD + body_put(b + LISTS_HEAD, it);
		if ((rc = mdb_put(txn, st->lists, &k, &v, 0)) != 0)
			return rc;
	}
	if ((rc = store_next_seq(st, txn, &it->ev.seq)) != 0)
		return rc;
	memcpy(b, it->list.name, nl);	/* name "\0" | body */
	return store_index(st, txn, STORE_KIND_LIST, &it->ev, b,
	    nl + body_put(b + nl, it));
}

/* Live entries in the registry: *n, or an LMDB code. */
static int live_count(struct store *st, MDB_txn *txn, size_t *n)
{
	struct store_item it;
	MDB_cursor *cur;
	MDB_val k, v;
	MDB_cursor_op op = MDB_FIRST;
	int rc;

	*n = 0;
	if ((rc = mdb_cursor_open(txn, st->lists, &cur)) != 0)
		return rc;
	for (; (rc = mdb_cursor_get(cur, &k, &v, op)) == 0; op = MDB_NEXT)
		*n += entry_decode(&k, &v, &it) == 0 && !it.removed;
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_lists_apply(struct store *st, MDB_txn *txn,
    const struct store_listdef *d, int remove, int *lrc)
{
	struct store_item cur, it;
	size_t n = 0;
	int rc = entry_get(st, txn, d->name, &cur), found = rc == 0;
	int live = found && !cur.removed;

	if (rc != 0 && rc != MDB_NOTFOUND)
		goto done;
	if (remove && !live)
		return STORE_ENOTFOUND;
	if (!remove && !live && (rc = live_count(st, txn, &n)) != 0)
		goto done;
	if (n >= STORE_LISTS_MAX) {
		snprintf(store_errbuf, sizeof(store_errbuf), "the registry "
		    "holds %d lists, its most", STORE_LISTS_MAX);
		return STORE_EFULL;
	}
	memset(&it, 0, offsetof(struct store_item, tok));
	it.kind = STORE_KIND_LIST;
	it.removed = remove;
	it.list = *d;
	store_uid_mint(it.ev.uid);
	/* past the entry's change, whatever the clock that made it said */
	it.ev.time_us = store_now_us();
	if (found && it.ev.time_us <= cur.ev.time_us)
		it.ev.time_us = cur.ev.time_us + 1;
	snprintf(it.ev.host, sizeof(it.ev.host), "%s", st->host);
	rc = entry_write(st, txn, &it, 1);
done:
	if (rc == 0)
		return STORE_OK;
	*lrc = rc;
	return STORE_EIO;
}

int store_lists_mirror(struct store *st, MDB_txn *txn, struct store_item *it)
{
	struct store_item cur;
	int rc;

	if (it->removed)
		it->list.title[0] = it->list.description[0] = '\0';
	if (it->ev.host[0] == '\0' || (it->removed ?
	    !token_id_ok(it->list.name, 1) : !def_ok(&it->list)))
		return MDB_NOTFOUND;	/* not one this store can hold */
	rc = entry_get(st, txn, it->list.name, &cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	return entry_write(st, txn, it, rc == MDB_NOTFOUND ||
	    newer(it, &cur));
}

/* Call fn with each registry entry that decodes, in name order, until
 * it returns non-zero (1: stop); a STORE_* code. */
static int each_entry(struct store *st,
    int (*fn)(const MDB_val *v, struct store_item *it, void *arg), void *arg)
{
	struct store_reader *rd;
	struct store_item it;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	MDB_cursor_op op = MDB_FIRST;
	int rc, r = MDB_NOTFOUND;

	if (!st->has_lists)
		return STORE_OK;
	if ((rc = store_reader_get(st, 0, &rd)) != STORE_OK)
		return rc;
	if ((r = mdb_cursor_open(rd->txn, st->lists, &cur)) == 0)
		for (; (r = mdb_cursor_get(cur, &k, &v, op)) == 0;
		    op = MDB_NEXT)
			if (entry_decode(&k, &v, &it) == 0 &&
			    fn(&v, &it, arg) != 0)
				break;
	mdb_cursor_close(cur);
	if (r != 0 && r != MDB_NOTFOUND)
		rc = store_lmdb_fail("lists", r);
	store_reader_put(st, rd);
	return rc;
}

/* What old_cb and live_cb fill. */
struct gathered {
	struct store *st;
	void *out;
	size_t max, *n;
};

/* each_entry: a first-format entry, as this host's change at 1 us. */
static int old_cb(const MDB_val *v, struct store_item *it, void *arg)
{
	struct gathered *g = arg;
	struct store_item *o = (struct store_item *)g->out + *g->n;

	if (((const uint8_t *)v->mv_data)[0] != LISTS_VERSION)
		return 0;
	*o = *it;
	o->ev.time_us = 1;	/* older than any change made since */
	store_uid_mint(o->ev.uid);
	snprintf(o->ev.host, sizeof(o->ev.host), "%s", g->st->host);
	return ++*g->n == g->max;
}

int store_lists_old(struct store *st, struct store_item *out, size_t max,
    size_t *n)
{
	struct gathered g = { st, out, max, n };

	*n = 0;
	return max > 0 ? each_entry(st, old_cb, &g) : STORE_OK;
}

int store_lists_event(const uint8_t *p, size_t n, struct store_item *it)
{
	const uint8_t *nul = memchr(p, '\0', n);

	if (nul == NULL || nul == p || nul - p > STORE_SCOPE_MAX)
		return -1;
	memcpy(it->list.name, p, (size_t)(nul - p) + 1);
	return body_get(nul + 1, n - (size_t)(nul + 1 - p), it);
}

/* each_entry: a live entry's definition. */
static int live_cb(const MDB_val *v, struct store_item *it, void *arg)
{
	struct gathered *g = arg;

	(void)v;
	if (it->removed)
		return 0;
	((struct store_listdef *)g->out)[(*g->n)++] = it->list;
	return *g->n == g->max;
}

int store_lists_get(struct store *st, struct store_listdef *out, size_t max,
    size_t *n)
{
	struct gathered g = { st, out, max, n };

	*n = 0;
	return max > 0 ? each_entry(st, live_cb, &g) : STORE_OK;
}
