/* store_except.c - exceptions to "suppressed for all lists": a list an
 * address gets although it is suppressed for "*", made by resubscribing
 * to that list (an admin's resubscribe --list, the preference centre's
 * kept lists).  Records "address\0\xfe" + list in "supp" (store_int.h),
 * which exist only beside "*"; store_merge.c decides, by the merge rule,
 * when one begins and ends. */
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

int store_except_set(struct store *st, MDB_txn *txn, const char *address,
    size_t alen, const char *list, const uint8_t v[SUPP_VALUE_LEN],
    int *changed)
{
	uint8_t kbuf[ADDRESS_MAX + 2 + STORE_SCOPE_MAX];
	MDB_val k = { 0, kbuf }, old, nv = { SUPP_VALUE_LEN, (void *)v };
	int rc;

	k.mv_size = except_key(kbuf, address, alen, list, strlen(list));
	if ((rc = mdb_get(txn, st->supp, &k, &old)) != 0 && rc != MDB_NOTFOUND)
		return rc;
	if (v == NULL) {
		if (rc == 0 && (rc = mdb_del(txn, st->supp, &k, NULL)) == 0)
			*changed = 1;
		return rc == MDB_NOTFOUND ? 0 : rc;
	}
	if (rc == 0 && old.mv_size == SUPP_VALUE_LEN &&
	    memcmp(old.mv_data, v, SUPP_VALUE_LEN) == 0)
		return 0;
	*changed |= rc == MDB_NOTFOUND;
	return mdb_put(txn, st->supp, &k, &nv, 0);
}
