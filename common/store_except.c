/* store_except.c - exceptions to "suppressed for all lists": a list an
 * address gets although it is suppressed for "*", made by resubscribing
 * to that list (an admin's resubscribe --list, the preference centre's
 * kept lists).  Records "address\0\xfe" + list in "supp" (store_int.h);
 * they exist only beside "*", and unsubscribing from "*" again or
 * resubscribing to it ends them all. */
#include <string.h>

#include "store_int.h"

/* Key "address\0" + mark + list (list may be empty: the prefix of all
 * the address's exceptions) into buf; returns its length. */
static size_t except_key(uint8_t *buf, const char *address, size_t alen,
    const char *list, size_t llen)
{
	memcpy(buf, address, alen);
	buf[alen] = '\0';
	buf[alen + 1] = EXCEPT_MARK;
	memcpy(buf + alen + 2, list, llen);
	return alen + 2 + llen;
}

int store_except_has(struct store *st, MDB_txn *txn, const char *address,
    size_t alen, const char *list, size_t llen)
{
	uint8_t kbuf[ADDRESS_MAX + 2 + STORE_SCOPE_MAX];
	MDB_cursor *cur;
	MDB_val k = { 0, kbuf }, v;
	size_t klen;
	int rc;

	if (alen > ADDRESS_MAX || llen > STORE_SCOPE_MAX)
		return 0;
	k.mv_size = klen = except_key(kbuf, address, alen, list, llen);
	if (llen > 0)
		rc = mdb_get(txn, st->supp, &k, &v);
	else if ((rc = mdb_cursor_open(txn, st->supp, &cur)) == 0) {
		/* any exception: the first key past the prefix has it */
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (rc == 0 && (k.mv_size <= klen ||
		    memcmp(k.mv_data, kbuf, klen) != 0))
			rc = MDB_NOTFOUND;
		mdb_cursor_close(cur);
	}
	return rc == 0 ? 1 : rc == MDB_NOTFOUND ? 0 : rc;
}

/* Delete every exception of the address; *changed when there was one. */
static int end_all(struct store *st, MDB_txn *txn, const char *address,
    int *changed)
{
	uint8_t kbuf[ADDRESS_MAX + 2];
	size_t plen = except_key(kbuf, address, strlen(address), "", 0);
	MDB_cursor *cur;
	MDB_val k = { plen, kbuf }, v;
	int rc;

	if ((rc = mdb_cursor_open(txn, st->supp, &cur)) != 0)
		return rc;
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)) == 0 &&
	    k.mv_size > plen && memcmp(k.mv_data, kbuf, plen) == 0) {
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		*changed = 1;
		k.mv_size = plen;
		k.mv_data = kbuf;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
}

/* Resubscribing to a list while suppressed for "*": the exception. */
static int make(struct store *st, MDB_txn *txn,
    const struct store_event *ev, int *changed)
{
	uint8_t kbuf[ADDRESS_MAX + 2 + STORE_SCOPE_MAX], vbuf[SUPP_VALUE_LEN];
	size_t alen = strlen(ev->address);
	MDB_val k = { alen + 2, kbuf }, v = { sizeof(vbuf), vbuf };
	int rc;

	memcpy(kbuf, ev->address, alen + 1);
	kbuf[alen + 1] = '*';	/* "address\0*": suppressed for all? */
	if ((rc = mdb_get(txn, st->supp, &k, &v)) != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	if ((rc = store_except_has(st, txn, ev->address, alen, ev->scope,
	    strlen(ev->scope))) != 0)
		return rc == 1 ? 0 : rc;
	k.mv_size = except_key(kbuf, ev->address, alen, ev->scope,
	    strlen(ev->scope));
	store_supp_value(vbuf, ev);
	v.mv_size = sizeof(vbuf);
	v.mv_data = vbuf;
	if ((rc = mdb_put(txn, st->supp, &k, &v, 0)) == 0)
		*changed = 1;
	return rc;
}

int store_except_apply(struct store *st, MDB_txn *txn,
    const struct store_event *ev, int *changed)
{
	size_t alen = strlen(ev->address), llen = strlen(ev->scope);
	uint8_t kbuf[ADDRESS_MAX + 2 + STORE_SCOPE_MAX];
	MDB_val k;
	int rc;

	if (strcmp(ev->scope, STORE_SCOPE_ALL) == 0)
		return end_all(st, txn, ev->address, changed);
	if (ev->action == STORE_RESUBSCRIBE)
		return make(st, txn, ev, changed);
	/* unsubscribing from a list ends its exception */
	k.mv_size = except_key(kbuf, ev->address, alen, ev->scope, llen);
	k.mv_data = kbuf;
	if ((rc = mdb_del(txn, st->supp, &k, NULL)) == 0)
		*changed = 1;
	return rc == MDB_NOTFOUND ? 0 : rc;
}
