/* store_rec.c - what the store's records mean (formats in store_int.h):
 * encoding and decoding them, applying one change with its history event
 * inside a write transaction, and the queries (check, status, list,
 * history, reference lookup). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store_int.h"



void store_put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

uint64_t store_get_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Does the key part after "address\0" (len bytes) name a history record,
 * not a scope? */
static int is_hist(const char *after, size_t len)
{
	return len > 0 && (uint8_t)after[0] == HIST_MARK;
}

size_t store_supp_key(uint8_t *buf, const char *address, const char *scope)
{
	size_t a = strlen(address), s = strlen(scope);

	if (a == 0 || a > ADDRESS_MAX || s == 0 || s > STORE_SCOPE_MAX)
		return 0;
	memcpy(buf, address, a + 1);
	memcpy(buf + a + 1, scope, s);
	return a + 1 + s;
}

void store_supp_value(uint8_t v[SUPP_VALUE_LEN], uint64_t since,
    enum store_source source)
{
	v[0] = SUPP_VERSION;
	store_put_u64(v + 1, since);
	v[9] = (uint8_t)source;
}

/* Decode a "supp" value into e; STORE_ECORRUPT if it does not decode. */
static int decode_supp(const MDB_val *v, struct store_entry *e)
{
	const uint8_t *p = v->mv_data;

	if (v->mv_size != SUPP_VALUE_LEN || p[0] != SUPP_VERSION)
		return STORE_ECORRUPT;
	e->time = store_get_u64(p + 1);
	e->source = (enum store_source)p[9];
	return STORE_OK;
}

int store_check(struct store *st, const char *address, const char *list,
    int *suppressed, char *scope_out, size_t scope_outsz)
{
	uint8_t kbuf[STORE_KEY_MAX];
	size_t plen = strlen(address) + 1, llen = list ? strlen(list) : 0;
	const char *found = NULL;
	struct store_reader *rd;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, r;

	*suppressed = 0;
	if (plen == 1 || plen > ADDRESS_MAX + 1 || llen > STORE_SCOPE_MAX)
		return STORE_EINVAL;
	memcpy(kbuf, address, plen);
	if ((rc = store_reader_get(st, 0, &rd)) != STORE_OK)
		return rc;
	cur = rd->cur;
	/* One descent to "address\0", then its few scopes in key order:
	 * half the tree walks of two lookups when, as for most addresses,
	 * there is nothing. */
	k.mv_size = plen;
	k.mv_data = kbuf;
	for (r = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); r == 0;
	    r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const char *scope;
		size_t slen;
		if (k.mv_size < plen || memcmp(k.mv_data, kbuf, plen) != 0)
			break;
		scope = (const char *)k.mv_data + plen;
		slen = k.mv_size - plen;
		if ((uint8_t)scope[0] >= EXCEPT_MARK)
			break;	/* exceptions and history follow the scopes */
		if (slen == 1 && scope[0] == '*') {
			/* all lists, unless this one is an exception (then
			 * the list itself is not suppressed either) */
			int ex = llen ? store_except_has(st, rd->txn,
			    address, plen - 1, list, llen) : 0;
			if (ex < 0 || ex > 1)
				rc = store_lmdb_fail("mdb_get", ex);
			else if (ex == 0)
				found = STORE_SCOPE_ALL;
			break;
		}
		if (slen == llen && llen > 0 && memcmp(scope, list, llen) == 0)
			found = list;	/* go on: "*" is the one to report */
	}
	if (r != 0 && r != MDB_NOTFOUND)
		rc = store_lmdb_fail("mdb_cursor_get", r);
	store_reader_put(st, rd);
	if (rc == STORE_OK && found != NULL) {
		*suppressed = 1;
		if (scope_out != NULL)
			snprintf(scope_out, scope_outsz, "%s", found);
	}
	return rc;
}

/* Take the next global sequence number inside a write transaction. */
int store_next_seq(struct store *st, MDB_txn *txn, uint64_t *seq)
{
	MDB_val k = { 3, "seq" }, v;
	uint8_t buf[8];
	int rc = mdb_get(txn, st->meta, &k, &v);

	if (rc == 0 && v.mv_size == 8)
		*seq = store_get_u64(v.mv_data) + 1;
	else if (rc == MDB_NOTFOUND)
		*seq = 1;
	else
		return rc == 0 ? MDB_CORRUPTED : rc;
	store_put_u64(buf, *seq);
	v.mv_size = 8;
	v.mv_data = buf;
	return mdb_put(txn, st->meta, &k, &v, 0);
}

/* Append ev to the history (its seq already set), next to the address's
 * suppressions. */
static int put_history(struct store *st, MDB_txn *txn,
    const struct store_event *ev)
{
	uint8_t kbuf[ADDRESS_MAX + 2 + 8];
	uint8_t vbuf[35 + STORE_HOST_MAX + 1 + STORE_SCOPE_MAX + 1 +
	    STORE_DETAIL_MAX];
	size_t a = strlen(ev->address), h = strlen(ev->host);
	size_t s = strlen(ev->scope), d = strlen(ev->detail);
	MDB_val k, v;

	memcpy(kbuf, ev->address, a + 1);
	kbuf[a + 1] = HIST_MARK;
	store_put_u64(kbuf + a + 2, ev->seq);
	k.mv_size = a + 10;
	k.mv_data = kbuf;
	vbuf[0] = HIST_VERSION2;
	store_put_u64(vbuf + 1, ev->time_us);
	vbuf[9] = (uint8_t)ev->action;
	vbuf[10] = (uint8_t)ev->source;
	store_put_u64(vbuf + 11, ev->lifts);
	memcpy(vbuf + 19, ev->uid, STORE_UID_LEN);
	memcpy(vbuf + 35, ev->host, h + 1);
	memcpy(vbuf + 36 + h, ev->scope, s + 1);
	memcpy(vbuf + 37 + h + s, ev->detail, d);
	v.mv_size = 37 + h + s + d;
	v.mv_data = vbuf;
	return mdb_put(txn, st->supp, &k, &v, 0);
}

/* Validate an event's fields before touching the store. */
static int event_ok(const struct store_event *ev)
{
	return ev->address[0] != '\0' && ev->scope[0] != '\0' &&
	    (uint8_t)ev->scope[0] < EXCEPT_MARK &&
	    strlen(ev->address) <= ADDRESS_MAX &&
	    strlen(ev->scope) <= STORE_SCOPE_MAX &&
	    strlen(ev->detail) <= STORE_DETAIL_MAX &&
	    (ev->action == STORE_UNSUBSCRIBE ||
	    ev->action == STORE_RESUBSCRIBE) &&
	    ev->source >= STORE_SRC_MAILTO && ev->source <= STORE_SRC_LAST;
}

/* Its sequence number, history record and "events" entry for ev. */
static int record_event(struct store *st, MDB_txn *txn,
    struct store_event *ev)
{
	int rc;

	if ((rc = store_next_seq(st, txn, &ev->seq)) != 0 ||
	    (rc = put_history(st, txn, ev)) != 0)
		return rc;
	return store_index(st, txn, STORE_KIND_CHANGE, ev, NULL, 0);
}

/* The body of store_apply (local) and store_apply_remote: a local
 * repeat writes nothing; anything else is merged (store_merge.c) and
 * recorded.  LMDB codes are returned as they are. */
static int apply_one(struct store *st, MDB_txn *txn, struct store_event *ev,
    int local, int *changed)
{
	int rc;

	*changed = 0;
	if (!event_ok(ev) || (!local && ev->time_us == 0))
		return STORE_EINVAL;
	if (local && store_is_repeat(st, txn, ev))
		return STORE_OK;	/* nothing to write */
	if ((rc = store_merge_event(st, txn, ev, local, changed)) != 0)
		return rc;
	return record_event(st, txn, ev);
}

/* A repeat: an unsubscribe already in force, with no exception it would
 * end (store_except.c); answered from a read, nothing written. */
int store_is_repeat(struct store *st, MDB_txn *txn,
    const struct store_event *ev)
{
	uint8_t kbuf[STORE_KEY_MAX];
	MDB_val k, v;
	size_t alen = strlen(ev->address);
	int all;

	if (ev->action != STORE_UNSUBSCRIBE || !event_ok(ev))
		return 0;
	k.mv_size = store_supp_key(kbuf, ev->address, ev->scope);
	k.mv_data = kbuf;
	if (mdb_get(txn, st->supp, &k, &v) != 0)
		return 0;
	all = strcmp(ev->scope, STORE_SCOPE_ALL) == 0;
	return store_except_has(st, txn, ev->address, alen, all ? "" : ev->scope,
	    all ? 0 : strlen(ev->scope)) == 0;
}

/* The body of store_soft_apply: the address's times still within the
 * window, plus this one; at the limit the event is applied and the times
 * dropped.  LMDB codes are returned as they are. */
static int soft_one(struct store *st, MDB_txn *txn, struct store_event *ev,
    const struct store_soft *soft, int *changed)
{
	uint8_t kbuf[sizeof(SOFT_PREFIX) + ADDRESS_MAX];
	uint8_t vbuf[1 + 8 * STORE_SOFT_MAX];
	size_t a = strlen(ev->address), n = 0, plen = strlen(SOFT_PREFIX);
	MDB_val k = { plen + a, kbuf }, v;
	int rc;

	*changed = 0;
	if (a == 0 || a > ADDRESS_MAX)
		return STORE_EINVAL;
	if (ev->time == 0)
		ev->time = (uint64_t)time(NULL);
	memcpy(kbuf, SOFT_PREFIX, plen);
	memcpy(kbuf + plen, ev->address, a);
	rc = mdb_get(txn, st->meta, &k, &v);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if (rc == 0 && v.mv_size % 8 == 1 &&
	    ((const uint8_t *)v.mv_data)[0] == SOFT_VERSION)
		for (size_t i = 1; i + 8 <= v.mv_size && n < STORE_SOFT_MAX - 1;
		    i += 8) {
			uint64_t t = store_get_u64((const uint8_t *)v.mv_data + i);
			if (t + soft->window > ev->time)
				store_put_u64(vbuf + 1 + 8 * n++, t);
		}
	*soft->count = (unsigned)n + 1;
	if (n + 1 >= soft->limit) {
		rc = mdb_del(txn, st->meta, &k, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return rc;
		return apply_one(st, txn, ev, 1, changed);
	}
	vbuf[0] = SOFT_VERSION;
	store_put_u64(vbuf + 1 + 8 * n++, ev->time);
	v.mv_size = 1 + 8 * n;
	v.mv_data = vbuf;
	return mdb_put(txn, st->meta, &k, &v, 0);
}

/* An apply result as store_apply returns it: an LMDB code goes to *lrc
 * and fails the transaction. */
static int applied(int rc, int *lrc)
{
	if (rc == STORE_OK || rc == STORE_ENOTFOUND || rc == STORE_EINVAL)
		return rc;
	*lrc = rc;
	return STORE_EIO;
}

int store_apply(struct store *st, MDB_txn *txn, struct store_event *ev,
    int *changed, int *lrc)
{
	return applied(apply_one(st, txn, ev, 1, changed), lrc);
}

int store_apply_remote(struct store *st, MDB_txn *txn,
    struct store_event *ev, int *lrc)
{
	int changed;

	return applied(apply_one(st, txn, ev, 0, &changed), lrc);
}

int store_soft_apply(struct store *st, MDB_txn *txn, struct store_event *ev,
    const struct store_soft *soft, int *changed, int *lrc)
{
	return applied(soft_one(st, txn, ev, soft, changed), lrc);
}

/* Visit each record of `dbi` whose key starts with prefix (all when plen
 * is 0) in one read transaction; `each` returns 0 to go on, 1 to stop, or
 * a STORE_E* code. */
static int walk(struct store *st, MDB_dbi dbi, const void *prefix,
    size_t plen, int (*each)(const MDB_val *k, const MDB_val *v, void *arg),
    void *arg)
{
	MDB_txn *txn;
	MDB_cursor *cur = NULL;
	MDB_val k = { plen, (void *)prefix }, v;
	MDB_cursor_op op = plen ? MDB_SET_RANGE : MDB_FIRST;
	int rc, r;

	if ((rc = store_txn_begin(st, MDB_RDONLY, &txn)) != STORE_OK)
		return rc;
	if ((r = mdb_cursor_open(txn, dbi, &cur)) != 0) {
		store_txn_end(st, txn);
		return store_lmdb_fail("mdb_cursor_open", r);
	}
	while ((r = mdb_cursor_get(cur, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		if (plen && (k.mv_size < plen || memcmp(k.mv_data, prefix, plen)))
			break;
		if ((rc = each(&k, &v, arg)) != 0)
			break;
	}
	if (rc == 1)
		rc = STORE_OK;
	if (r != 0 && r != MDB_NOTFOUND)
		rc = store_lmdb_fail("mdb_cursor_get", r);
	mdb_cursor_close(cur);
	store_txn_end(st, txn);
	return rc;
}

/* What walk_supp and walk_hist hand to each record. */
struct visit {
	const char *scope;
	uint64_t since;
	int excepts;		/* pass exceptions to "*" on (store_status) */
	size_t alen;
	size_t plen;		/* history key prefix: alen + 1, or + 2 */
	store_entry_fn entry_fn;
	store_event_fn event_fn;
	void *arg;
};

/* One "supp" record: decode, filter, pass on. */
static int each_supp(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct visit *vi = arg;
	struct store_entry e;
	const char *key = k->mv_data;
	const char *nul = memchr(key, '\0', k->mv_size);
	size_t alen = nul ? (size_t)(nul - key) : 0, slen;

	if (nul != NULL && is_hist(nul + 1, k->mv_size - alen - 1))
		return 0;	/* a history record */
	e.except = nul != NULL && k->mv_size - alen - 1 > 0 &&
	    (uint8_t)nul[1] == EXCEPT_MARK;
	if (e.except && !vi->excepts)
		return 0;
	if (e.except)
		nul++;	/* the list follows the mark */
	if (nul == NULL || alen > ADDRESS_MAX ||
	    (slen = k->mv_size - alen - 1 - (size_t)e.except) >
	    STORE_SCOPE_MAX ||
	    decode_supp(v, &e) != STORE_OK) {
		snprintf(store_errbuf, sizeof(store_errbuf), "undecodable suppression "
		    "record");
		return STORE_ECORRUPT;
	}
	memcpy(e.address, key, alen + 1);
	memcpy(e.scope, nul + 1, slen);
	e.scope[slen] = '\0';
	if ((vi->scope && strcmp(vi->scope, e.scope) != 0) || e.time < vi->since)
		return 0;
	return vi->entry_fn(&e, vi->arg) != 0;
}

int store_status(struct store *st, const char *address, store_entry_fn fn,
    void *arg)
{
	struct visit vi = { .excepts = 1, .entry_fn = fn, .arg = arg };
	size_t a = strlen(address);

	if (a == 0 || a > ADDRESS_MAX)
		return STORE_EINVAL;
	return walk(st, st->supp, address, a + 1, each_supp, &vi);
}

int store_list(struct store *st, const char *scope, uint64_t since,
    store_entry_fn fn, void *arg)
{
	struct visit vi = { .scope = scope, .since = since, .entry_fn = fn,
		.arg = arg };

	return walk(st, st->supp, NULL, 0, each_supp, &vi);
}

/* The version 2 fields after version(1) | time(8) | action(1) |
 * source(1): lifts(8) | uid(16) | host "\0"; the offset of the scope. */
static size_t decode_v2(const uint8_t *p, size_t len, struct store_event *ev)
{
	const uint8_t *nul;

	if (len < 36 || (nul = memchr(p + 35, '\0', len - 35)) == NULL ||
	    nul - (p + 35) > STORE_HOST_MAX)
		return 0;
	ev->lifts = store_get_u64(p + 11);
	memcpy(ev->uid, p + 19, STORE_UID_LEN);
	memcpy(ev->host, p + 35, (size_t)(nul - p) - 35 + 1);
	return (size_t)(nul - p) + 1;
}

int store_hist_decode(const MDB_val *k, const MDB_val *v, size_t alen,
    size_t plen, struct store_event *ev)
{
	const uint8_t *p = v->mv_data;
	const uint8_t *nul;
	size_t slen, off = 11;

	if (k->mv_size != plen + 8 || v->mv_size < 12 ||
	    (p[0] != HIST_VERSION && p[0] != HIST_VERSION2))
		return STORE_ECORRUPT;
	memset(ev, 0, sizeof(*ev));
	if (p[0] == HIST_VERSION2 &&
	    (off = decode_v2(p, v->mv_size, ev)) == 0)
		return STORE_ECORRUPT;
	nul = memchr(p + off, '\0', v->mv_size - off);
	if (nul == NULL || (slen = (size_t)(nul - (p + off))) >
	    STORE_SCOPE_MAX || v->mv_size - off - 1 - slen > STORE_DETAIL_MAX)
		return STORE_ECORRUPT;
	memcpy(ev->address, k->mv_data, alen + 1);
	ev->seq = store_get_u64((const uint8_t *)k->mv_data + plen);
	ev->time_us = store_get_u64(p + 1);
	if (p[0] == HIST_VERSION)
		ev->time_us *= 1000000;
	ev->time = ev->time_us / 1000000;
	ev->action = (enum store_action)p[9];
	ev->source = (enum store_source)p[10];
	memcpy(ev->scope, p + off, slen + 1);
	memcpy(ev->detail, nul + 1, v->mv_size - off - 1 - slen);
	ev->detail[v->mv_size - off - 1 - slen] = '\0';
	return STORE_OK;
}

/* One "hist" record: decode, pass on. */
static int each_hist(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct visit *vi = arg;
	struct store_event ev;

	if (store_hist_decode(k, v, vi->alen, vi->plen, &ev) != STORE_OK) {
		snprintf(store_errbuf, sizeof(store_errbuf), "undecodable history record");
		return STORE_ECORRUPT;
	}
	return vi->event_fn(&ev, vi->arg) != 0;
}

int store_history(struct store *st, const char *address, store_event_fn fn,
    void *arg)
{
	struct visit vi = { .alen = strlen(address), .event_fn = fn,
		.arg = arg };
	uint8_t prefix[ADDRESS_MAX + 2];
	int rc;

	if (vi.alen == 0 || vi.alen > ADDRESS_MAX)
		return STORE_EINVAL;
	/* Older events first, from "hist"; every later sequence number is
	 * in "supp". */
	vi.plen = vi.alen + 1;
	if ((rc = walk(st, st->hist, address, vi.plen, each_hist, &vi)) !=
	    STORE_OK)
		return rc;
	memcpy(prefix, address, vi.alen + 1);
	prefix[vi.alen + 1] = HIST_MARK;
	vi.plen = vi.alen + 2;
	return walk(st, st->supp, prefix, vi.plen, each_hist, &vi);
}


int store_ref_get(struct store *st, const uint8_t *key, size_t keylen,
    uint8_t *val, size_t valsz, size_t *len)
{
	struct store_reader *rd;
	MDB_val k = { keylen, (void *)key }, v;
	int rc = store_reader_get(st, 0, &rd), r;

	if (rc != STORE_OK)
		return rc;
	r = mdb_get(rd->txn, st->refs, &k, &v);
	if (r == 0 && v.mv_size <= valsz) {
		memcpy(val, v.mv_data, v.mv_size);
		*len = v.mv_size;
	} else if (r == 0) {
		rc = STORE_ECORRUPT;
	} else {
		rc = r == MDB_NOTFOUND ? STORE_ENOTFOUND :
		    store_lmdb_fail("mdb_get", r);
	}
	store_reader_put(st, rd);
	return rc;
}
