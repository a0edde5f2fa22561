/* store_lists.c - the registry of lists the preference centre shows: a
 * name (as tokens carry it), a title and an optional description, in the
 * "lists" database (format in store_int.h).  Changes go through the group
 * commit like every other write (store_commit_list), so a fleet can ship
 * them as events. */
#include <stdio.h>
#include <string.h>

#include "store_int.h"

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

int store_lists_set(struct store *st, const struct store_listdef *d)
{
	if (!token_id_ok(d->name, 1) || d->title[0] == '\0' ||
	    !text_ok(d->title, STORE_TITLE_MAX) ||
	    !text_ok(d->description, STORE_DESC_MAX))
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

int store_lists_apply(struct store *st, MDB_txn *txn,
    const struct store_listdef *d, int remove, int *lrc)
{
	uint8_t vbuf[1 + STORE_TITLE_MAX + 1 + STORE_DESC_MAX];
	size_t tl = strlen(d->title), dl = strlen(d->description);
	MDB_val k = { strlen(d->name), (void *)d->name }, v;
	MDB_stat ms;
	int rc;

	if (remove) {
		rc = mdb_del(txn, st->lists, &k, NULL);
		if (rc == MDB_NOTFOUND)
			return STORE_ENOTFOUND;
		goto done;
	}
	if ((rc = mdb_get(txn, st->lists, &k, &v)) == MDB_NOTFOUND &&
	    (rc = mdb_stat(txn, st->lists, &ms)) == 0 &&
	    ms.ms_entries >= STORE_LISTS_MAX) {
		snprintf(store_errbuf, sizeof(store_errbuf), "the registry "
		    "holds %d lists, its most", STORE_LISTS_MAX);
		return STORE_EFULL;
	}
	if (rc != 0)
		goto done;
	vbuf[0] = LISTS_VERSION;
	memcpy(vbuf + 1, d->title, tl + 1);
	memcpy(vbuf + 2 + tl, d->description, dl);
	v.mv_size = 2 + tl + dl;
	v.mv_data = vbuf;
	rc = mdb_put(txn, st->lists, &k, &v, 0);
done:
	if (rc == 0)
		return STORE_OK;
	*lrc = rc;
	return STORE_EIO;
}

/* Decode one registry record into d; -1 when it does not decode. */
static int decode_list(const MDB_val *k, const MDB_val *v,
    struct store_listdef *d)
{
	const char *p = v->mv_data, *nul;
	size_t dl;

	if (k->mv_size == 0 || k->mv_size > STORE_SCOPE_MAX ||
	    v->mv_size < 2 || p[0] != LISTS_VERSION ||
	    (nul = memchr(p + 1, '\0', v->mv_size - 1)) == NULL ||
	    (size_t)(nul - p - 1) > STORE_TITLE_MAX ||
	    (dl = v->mv_size - (size_t)(nul + 1 - p)) > STORE_DESC_MAX)
		return -1;
	memcpy(d->name, k->mv_data, k->mv_size);
	d->name[k->mv_size] = '\0';
	memcpy(d->title, p + 1, (size_t)(nul - p));
	memcpy(d->description, nul + 1, dl);
	d->description[dl] = '\0';
	return 0;
}

int store_lists_get(struct store *st, struct store_listdef *out, size_t max,
    size_t *n)
{
	struct store_reader *rd;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	MDB_cursor_op op = MDB_FIRST;
	int rc, r = MDB_NOTFOUND;

	*n = 0;
	if (!st->has_lists)
		return STORE_OK;
	if ((rc = store_reader_get(st, 0, &rd)) != STORE_OK)
		return rc;
	if ((r = mdb_cursor_open(rd->txn, st->lists, &cur)) != 0)
		goto done;
	for (; *n < max && (r = mdb_cursor_get(cur, &k, &v, op)) == 0;
	    op = MDB_NEXT)
		if (decode_list(&k, &v, &out[*n]) == 0)
			++*n;
	mdb_cursor_close(cur);
done:
	if (r != 0 && r != MDB_NOTFOUND)
		rc = store_lmdb_fail("lists", r);
	store_reader_put(st, rd);
	return rc;
}
