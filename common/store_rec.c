/* store_rec.c - what the store's records mean (formats in store_int.h):
 * encoding and decoding them, applying one change with its history event
 * inside a write transaction, and the queries (check, status, list,
 * history, reference lookup). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "merge.h"
#include "store_int.h"

#define KEY_MAX (ADDRESS_MAX + 1 + STORE_SCOPE_MAX + 8)

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

/* Key "address\0scope" into buf; returns its length or 0 if too long. */
static size_t supp_key(uint8_t *buf, const char *address, const char *scope)
{
	size_t a = strlen(address), s = strlen(scope);

	if (a == 0 || a > ADDRESS_MAX || s == 0 || s > STORE_SCOPE_MAX)
		return 0;
	memcpy(buf, address, a + 1);
	memcpy(buf + a + 1, scope, s);
	return a + 1 + s;
}


/* Decode a "supp" value into e; STORE_ECORRUPT if it does not decode. */
static int decode_supp(const MDB_val *v, struct store_entry *e)
{
	const uint8_t *p = v->mv_data;

	if (v->mv_size != 10 || p[0] != SUPP_VERSION)
		return STORE_ECORRUPT;
	e->time = store_get_u64(p + 1);
	e->source = (enum store_source)p[9];
	return STORE_OK;
}

int store_check(struct store *st, const char *address, const char *list,
    int *suppressed, char *scope_out, size_t scope_outsz)
{
	uint8_t kbuf[KEY_MAX];
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
	if ((rc = store_reader_get(st, &rd)) != STORE_OK)
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
		if (is_hist(scope, slen))
			break;	/* the history follows the scopes */
		if (slen == 1 && scope[0] == '*') {
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
	    !is_hist(ev->scope, strlen(ev->scope)) &&
	    strlen(ev->address) <= ADDRESS_MAX &&
	    strlen(ev->scope) <= STORE_SCOPE_MAX &&
	    strlen(ev->detail) <= STORE_DETAIL_MAX &&
	    (ev->action == STORE_UNSUBSCRIBE ||
	    ev->action == STORE_RESUBSCRIBE) &&
	    ev->source >= STORE_SRC_MAILTO && ev->source <= STORE_SRC_IMPORT;
}

/* The merge maxima of key k (address and scope) into ms, and whether
 * the scope is suppressed (its "supp" key is there) into *was. */
static int merge_get(struct store *st, MDB_txn *txn, MDB_val *k,
    struct merge_state *ms, int *was)
{
	MDB_val v;
	const uint8_t *p;
	int rc = mdb_get(txn, st->supp, k, &v);

	memset(ms, 0, sizeof(*ms));
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	*was = rc == 0;
	if (rc == 0 && v.mv_size == 10)	/* before the fleet: u is since */
		ms->u = store_get_u64((const uint8_t *)v.mv_data + 1) * 1000000;
	if ((rc = mdb_get(txn, st->merge, k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0 || v.mv_size != 24)
		return rc != 0 ? rc : MDB_CORRUPTED;
	p = v.mv_data;
	ms->u = store_get_u64(p);
	ms->r = store_get_u64(p + 8);
	ms->l = store_get_u64(p + 16);
	return 0;
}

/* Fold ev into its scope's maxima and bring the "supp" key in line with
 * the rule: *now is whether the scope is suppressed after it. */
static int merge_apply(struct store *st, MDB_txn *txn, MDB_val *k,
    const struct store_event *ev, struct merge_state *ms, int was, int *now)
{
	uint8_t mb[24], vbuf[10];
	MDB_val v = { sizeof(mb), mb };
	int rc;

	merge_add(ms, ev->action == STORE_UNSUBSCRIBE, ev->time_us, ev->lifts);
	store_put_u64(mb, ms->u);
	store_put_u64(mb + 8, ms->r);
	store_put_u64(mb + 16, ms->l);
	if ((rc = mdb_put(txn, st->merge, k, &v, 0)) != 0)
		return rc;
	*now = merge_suppressed(ms);
	if (*now && !was) {	/* only an unsubscribe gets here */
		vbuf[0] = SUPP_VERSION;
		store_put_u64(vbuf + 1, ev->time);
		vbuf[9] = (uint8_t)ev->source;
		v.mv_size = sizeof(vbuf);
		v.mv_data = vbuf;
		return mdb_put(txn, st->supp, k, &v, 0);
	}
	if (!*now && was)
		return mdb_del(txn, st->supp, k, NULL);
	return 0;
}

/* Stamp an event happening here: its time (an unsubscribe taking one
 * that puts it in force, merge_local_unsub), what a resubscribe lifts,
 * a fresh uid and this host. */
static void stamp_local(const struct store *st, struct store_event *ev,
    const struct merge_state *ms, int was)
{
	if (ev->time_us == 0)
		ev->time_us = ev->time ? ev->time * 1000000 : store_now_us();
	if (ev->action == STORE_UNSUBSCRIBE && !was)
		ev->time_us = merge_local_unsub(ms, ev->time_us);
	ev->time = ev->time_us / 1000000;
	ev->lifts = ev->action == STORE_RESUBSCRIBE ? ms->u : 0;
	store_uid_mint(ev->uid);
	snprintf(ev->host, sizeof(ev->host), "%s", st->host);
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

/* The body of store_apply: LMDB codes are returned as they are. */
static int apply_one(struct store *st, MDB_txn *txn, struct store_event *ev,
    int *changed)
{
	uint8_t kbuf[KEY_MAX];
	struct merge_state ms;
	MDB_val k;
	int rc, was, now;

	*changed = 0;
	if (!event_ok(ev))
		return STORE_EINVAL;
	k.mv_size = supp_key(kbuf, ev->address, ev->scope);
	k.mv_data = kbuf;
	if ((rc = merge_get(st, txn, &k, &ms, &was)) != 0)
		return rc;
	if (ev->action == STORE_RESUBSCRIBE && !was)
		return STORE_ENOTFOUND;
	stamp_local(st, ev, &ms, was);
	if ((rc = merge_apply(st, txn, &k, ev, &ms, was, &now)) != 0)
		return rc;
	*changed = was != now;
	if (was && now) {
		/* "repeat" before the detail, truncated to fit */
		size_t dl = strlen(ev->detail), pre = dl ? 7 : 6;
		if (dl > STORE_DETAIL_MAX - pre)
			dl = STORE_DETAIL_MAX - pre;
		memmove(ev->detail + pre, ev->detail, dl);
		memcpy(ev->detail, "repeat ", pre);
		ev->detail[pre + dl] = '\0';
	}
	return record_event(st, txn, ev);
}

/* An LMDB code or STORE_OK/STORE_ENOTFOUND/STORE_EINVAL as store_apply
 * returns it. */
static int apply_result(int rc, int *lrc)
{
	if (rc == STORE_OK || rc == STORE_ENOTFOUND || rc == STORE_EINVAL)
		return rc;
	*lrc = rc;
	return STORE_EIO;
}

int store_apply(struct store *st, MDB_txn *txn, struct store_event *ev,
    int *changed, int *lrc)
{
	return apply_result(apply_one(st, txn, ev, changed), lrc);
}

int store_apply_remote(struct store *st, MDB_txn *txn,
    struct store_event *ev, int *lrc)
{
	uint8_t kbuf[KEY_MAX];
	struct merge_state ms;
	MDB_val k;
	int rc, was, now;

	if (!event_ok(ev) || ev->time_us == 0)
		return STORE_EINVAL;
	ev->time = ev->time_us / 1000000;
	k.mv_size = supp_key(kbuf, ev->address, ev->scope);
	k.mv_data = kbuf;
	if ((rc = merge_get(st, txn, &k, &ms, &was)) == 0 &&
	    (rc = merge_apply(st, txn, &k, ev, &ms, was, &now)) == 0)
		rc = record_event(st, txn, ev);
	return apply_result(rc, lrc);
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
		store_txn_end(st, txn, 0);
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
	store_txn_end(st, txn, 0);
	return rc;
}

/* What walk_supp and walk_hist hand to each record. */
struct visit {
	const char *scope;
	uint64_t since;
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
	if (nul == NULL || alen > ADDRESS_MAX ||
	    (slen = k->mv_size - alen - 1) > STORE_SCOPE_MAX ||
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
	struct visit vi = { .entry_fn = fn, .arg = arg };
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
	int rc = store_reader_get(st, &rd), r;

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
