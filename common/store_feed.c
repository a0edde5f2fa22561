/* store_feed.c - the store's side of the fleet (formats in store_int.h):
 * each event's identity (uid, host, microsecond time), the "events" index
 * that is both the ordered feed and the outbox, mailto references as
 * events (registry changes are store_lists.c's), the fleet's counters in
 * "meta", and applying other hosts' events exactly once (store_mirror). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "store_int.h"

uint64_t store_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void store_uid_mint(uint8_t uid[STORE_UID_LEN])
{
	size_t got = 8;
	ssize_t n;

	/* The time first (as in UUIDv7): a host's uids, and a bootstrap's,
	 * come in nearly ascending order and "uids" grows at its end. */
	store_put_u64(uid, store_now_us());
	/* getrandom(2) of 8 bytes does not return short once the pool is
	 * initialised; a signal before that is retried. */
	while (got < STORE_UID_LEN)
		if ((n = getrandom(uid + got, STORE_UID_LEN - got, 0)) > 0)
			got += (size_t)n;
		else if (n < 0 && errno != EINTR)
			break;
	if (got < STORE_UID_LEN) {
		/* No kernel randomness (seccomp): the time and this address
		 * are still unique enough within one host. */
		uintptr_t a = (uintptr_t)uid ^ (uintptr_t)&got;
		memcpy(uid + 8, &a, sizeof(a) < 8 ? sizeof(a) : 8);
	}
}

const char *store_host(const struct store *st)
{
	return st->host;
}

int store_uid_seen(struct store *st, MDB_txn *txn,
    const uint8_t uid[STORE_UID_LEN])
{
	MDB_val k = { STORE_UID_LEN, (void *)uid }, v;

	return mdb_get(txn, st->uids, &k, &v);
}

int store_index(struct store *st, MDB_txn *txn, enum store_kind kind,
    const struct store_event *ev, const uint8_t *ref, size_t reflen)
{
	/* an address, or an identity and a reference or registry change */
	uint8_t kb[8], vb[1 + ADDRESS_MAX + 26 + STORE_HOST_MAX +
	    LISTS_EVENT_MAX];
	MDB_val k = { sizeof(kb), kb }, v = { 0, vb };
	size_t h = strlen(ev->host);
	int rc;

	store_put_u64(kb, ev->seq);
	vb[0] = (uint8_t)kind;
	if (kind == STORE_KIND_CHANGE) {
		v.mv_size = 1 + strlen(ev->address);
		memcpy(vb + 1, ev->address, v.mv_size - 1);
	} else {
		memcpy(vb + 1, ev->uid, STORE_UID_LEN);
		store_put_u64(vb + 17, ev->time_us);
		memcpy(vb + 25, ev->host, h + 1);
		memcpy(vb + 26 + h, ref, reflen);
		v.mv_size = 26 + h + reflen;
	}
	if ((rc = mdb_put(txn, st->events, &k, &v, MDB_APPEND)) != 0)
		return rc;
	k.mv_size = STORE_UID_LEN;
	k.mv_data = (void *)ev->uid;
	v.mv_size = sizeof(kb);
	v.mv_data = kb;
	return mdb_put(txn, st->uids, &k, &v, 0);
}

int store_ref_apply(struct store *st, MDB_txn *txn, struct store_item *it)
{
	MDB_val k = { it->reflen, it->ref }, v = { it->toklen, it->tok };
	int local = it->ev.host[0] == '\0', rc;

	if (local) {
		store_uid_mint(it->ev.uid);
		it->ev.time_us = store_now_us();
		snprintf(it->ev.host, sizeof(it->ev.host), "%s", st->host);
	}
	it->ev.time = it->ev.time_us / 1000000;
	rc = mdb_put(txn, st->refs, &k, &v, MDB_NOOVERWRITE);
	/* Two writers here raced to register it: the first one's event is
	 * the reference's.  From another host it is an event all the same. */
	if (rc == MDB_KEYEXIST && local)
		return 0;
	if (rc != 0 && rc != MDB_KEYEXIST)
		return rc;
	if ((rc = store_next_seq(st, txn, &it->ev.seq)) != 0)
		return rc;
	return store_index(st, txn, STORE_KIND_REF, &it->ev, it->ref,
	    it->reflen);
}

/* A CHANGE entry: its history record, from "supp". */
static int item_change(struct store *st, MDB_txn *txn, const MDB_val *v,
    struct store_item *it)
{
	uint8_t hk[ADDRESS_MAX + 2 + 8];
	size_t alen = v->mv_size - 1;
	MDB_val k = { alen + 10, hk }, hv;
	int rc;

	if (alen == 0 || alen > ADDRESS_MAX)
		return MDB_CORRUPTED;
	memcpy(hk, (const uint8_t *)v->mv_data + 1, alen);
	hk[alen] = '\0';
	hk[alen + 1] = HIST_MARK;
	store_put_u64(hk + alen + 2, it->ev.seq);
	if ((rc = mdb_get(txn, st->supp, &k, &hv)) != 0)
		return rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc;
	return store_hist_decode(&k, &hv, alen, alen + 2, &it->ev) ==
	    STORE_OK ? 0 : MDB_CORRUPTED;
}

/* The identity of a REF or LIST entry (uid | time | host "\0") into
 * it: the payload after it, at least one byte, in *p and *n; -1 when it
 * does not decode. */
static int item_head(const MDB_val *v, struct store_item *it,
    const uint8_t **p, size_t *n)
{
	const uint8_t *b = v->mv_data, *nul;

	if (v->mv_size < 26 ||
	    (nul = memchr(b + 25, '\0', v->mv_size - 25)) == NULL ||
	    nul - (b + 25) > STORE_HOST_MAX ||
	    (*n = v->mv_size - (size_t)(nul + 1 - b)) == 0)
		return -1;
	memcpy(it->ev.uid, b + 1, STORE_UID_LEN);
	it->ev.time_us = store_get_u64(b + 17);
	it->ev.time = it->ev.time_us / 1000000;
	memcpy(it->ev.host, b + 25, (size_t)(nul - b) - 25 + 1);
	*p = nul + 1;
	return 0;
}

/* A REF entry: its identity, and the token from "refs". */
static int item_ref(struct store *st, MDB_txn *txn, const MDB_val *v,
    struct store_item *it)
{
	const uint8_t *p;
	MDB_val k, tv;
	int rc;

	if (item_head(v, it, &p, &it->reflen) < 0 ||
	    it->reflen > STORE_REF_MAX)
		return MDB_CORRUPTED;
	memcpy(it->ref, p, it->reflen);
	k.mv_size = it->reflen;
	k.mv_data = it->ref;
	if ((rc = mdb_get(txn, st->refs, &k, &tv)) != 0)
		return rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc;
	if (tv.mv_size > sizeof(it->tok))
		return MDB_CORRUPTED;
	memcpy(it->tok, tv.mv_data, tv.mv_size);
	it->toklen = tv.mv_size;
	return 0;
}

/* Decode one "events" entry into it. */
static int item_decode(struct store *st, MDB_txn *txn, const MDB_val *k,
    const MDB_val *v, struct store_item *it)
{
	const uint8_t *p = v->mv_data;
	size_t n;

	if (k->mv_size != 8 || v->mv_size < 2)
		return MDB_CORRUPTED;
	memset(it, 0, offsetof(struct store_item, tok));
	it->ev.seq = store_get_u64(k->mv_data);
	it->kind = (enum store_kind)p[0];
	if (it->kind == STORE_KIND_CHANGE)
		return item_change(st, txn, v, it);
	if (it->kind == STORE_KIND_REF)
		return item_ref(st, txn, v, it);
	if (it->kind == STORE_KIND_LIST && item_head(v, it, &p, &n) == 0 &&
	    store_lists_event(p, n, it) == 0)
		return 0;
	return MDB_CORRUPTED;
}

int store_events(struct store *st, uint64_t after, size_t limit,
    store_item_fn fn, void *arg)
{
	struct store_item it;
	uint8_t kb[8];
	MDB_txn *txn;
	MDB_cursor *cur = NULL;
	MDB_val k = { sizeof(kb), kb }, v;
	MDB_cursor_op op = MDB_SET_RANGE;
	size_t n = 0;
	int rc, r;

	if (after == UINT64_MAX)
		return STORE_OK;
	store_put_u64(kb, after + 1);
	if ((rc = store_txn_begin(st, MDB_RDONLY, &txn)) != STORE_OK)
		return rc;
	if ((r = mdb_cursor_open(txn, st->events, &cur)) != 0)
		goto done;
	while ((limit == 0 || n < limit) &&
	    (r = mdb_cursor_get(cur, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		n++;
		if ((r = item_decode(st, txn, &k, &v, &it)) != 0 ||
		    fn(&it, arg) != 0)
			break;
	}
done:
	if (r != 0 && r != MDB_NOTFOUND)
		rc = store_lmdb_fail("events", r);
	mdb_cursor_close(cur);
	store_txn_end(st, txn);
	return rc;
}

int store_events_last(struct store *st, uint64_t *last)
{
	struct store_reader *rd;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rc = store_reader_get(st, 0, &rd), r;

	*last = 0;
	if (rc != STORE_OK)
		return rc;
	if ((r = mdb_cursor_open(rd->txn, st->events, &cur)) == 0 &&
	    (r = mdb_cursor_get(cur, &k, &v, MDB_LAST)) == 0)
		*last = k.mv_size == 8 ? store_get_u64(k.mv_data) : 0;
	if (r != 0 && r != MDB_NOTFOUND)
		rc = store_lmdb_fail("events", r);
	mdb_cursor_close(cur);
	store_reader_put(st, rd);
	return rc;
}

int store_meta_get(struct store *st, const char *name, uint64_t *value)
{
	struct store_reader *rd;
	MDB_val k = { strlen(name), (void *)name }, v;
	int rc = store_reader_get(st, 0, &rd), r;

	if (rc != STORE_OK)
		return rc;
	r = mdb_get(rd->txn, st->meta, &k, &v);
	if (r == 0 && v.mv_size == 8)
		*value = store_get_u64(v.mv_data);
	else if (r == 0 || r == MDB_NOTFOUND)
		rc = r == 0 ? STORE_ECORRUPT : STORE_ENOTFOUND;
	else
		rc = store_lmdb_fail("mdb_get", r);
	store_reader_put(st, rd);
	return rc;
}

/* Apply one item from another host unless its uid is here already. */
static int mirror_one(struct store *st, MDB_txn *txn, struct store_item *it,
    size_t *applied)
{
	int rc = store_uid_seen(st, txn, it->ev.uid), lrc = 0;

	if (rc != MDB_NOTFOUND)
		return rc;	/* 0: seen, once is enough */
	if (it->kind == STORE_KIND_REF) {
		if (it->ev.host[0] == '\0' || it->reflen == 0)
			return 0;	/* not from a host: not ours to take */
		rc = store_ref_apply(st, txn, it);
	} else if (it->kind == STORE_KIND_LIST) {
		if ((rc = store_lists_mirror(st, txn, it)) == MDB_NOTFOUND)
			return 0;	/* not one this store can hold */
	} else if (it->kind == STORE_KIND_CHANGE) {
		if (store_apply_remote(st, txn, &it->ev, &lrc) == STORE_EIO)
			return lrc;
		rc = 0;
	}
	if (rc == 0)
		(*applied)++;
	return rc;
}

/* One try of store_mirror: a STORE_* code, or an LMDB failure in *lrc.
 * It commits only into the files the path names, as store_record does:
 * never a cursor advanced into a data.mdb that replaced the one read. */
static int mirror_txn(struct store *st, struct store_item *items, size_t n,
    const struct store_meta *meta, size_t nmeta, size_t *applied, int *lrc)
{
	MDB_txn *txn;
	uint8_t vb[8];
	int rc = store_txn_begin(st, 0, &txn), stale = 0;

	if (rc != STORE_OK)
		return rc;
	*applied = 0;
	for (size_t i = 0; i < n && *lrc == 0; i++)
		*lrc = mirror_one(st, txn, &items[i], applied);
	for (size_t i = 0; i < nmeta && *lrc == 0; i++) {
		MDB_val k = { strlen(meta[i].name), (void *)meta[i].name };
		MDB_val v = { sizeof(vb), vb };
		store_put_u64(vb, meta[i].value);
		*lrc = mdb_put(txn, st->meta, &k, &v, 0);
	}
	if (*lrc == 0)
		*lrc = store_txn_commit(st, txn, &stale);
	else
		mdb_txn_abort(txn);
	pthread_rwlock_unlock(&st->resize);
	return stale ? store_reopen(st) : STORE_OK;
}

int store_mirror(struct store *st, struct store_item *items, size_t n,
    const struct store_meta *meta, size_t nmeta, size_t *applied)
{
	for (;;) {
		int lrc = 0, rc = mirror_txn(st, items, n, meta, nmeta, applied,
		    &lrc);
		if (rc != STORE_OK || lrc == 0)
			return rc;
		if (lrc == MDB_MAP_FULL && store_grow(st) == STORE_OK)
			continue;
		return lrc == MDB_MAP_FULL ? STORE_EFULL :
		    store_lmdb_fail("mirror", lrc);
	}
}
