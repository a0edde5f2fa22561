/* fleet.c - PostgreSQL as the fleet's store of record, its schema public
 * in unsub-sync(8).  Shipping: a batch of this host's events in one
 * transaction, INSERT .. ON CONFLICT (uid) DO NOTHING and the merged
 * state upserted by the same rule as merge.c, then NOTIFY; "shipped"
 * moves only after the commit, so a crash ships again and the uid drops
 * the copy.  Following: never by sequence (sequences commit out of
 * order); in a REPEATABLE READ transaction, every row whose xid8 is at or
 * past the cursor, then the snapshot's xmin is the next cursor, stored
 * with the last applied rows in one LMDB transaction.  Rows read twice
 * (the window between xmin and the snapshot) are dropped by uid. */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "fleet.h"

/* Rows applied in one LMDB transaction: a bootstrap's inserts land all
 * over the store's trees, and more of them a transaction share the pages
 * each copies (50000 rows: 10 times fewer pages written than 5000). */
#define FETCH_ROWS 50000
#define SHIP_COLS 14

static const char *const schema_sql =
    "SET LOCAL client_min_messages = warning;"
    "SELECT pg_advisory_xact_lock(727272);"
    "CREATE TABLE IF NOT EXISTS unsub_schema (version int NOT NULL);"
    "CREATE TABLE IF NOT EXISTS unsub_event ("
    " uid bytea PRIMARY KEY CHECK (length(uid) = 16),"
    " xid xid8 NOT NULL DEFAULT pg_current_xact_id(),"
    " host text NOT NULL,"
    " time bigint NOT NULL,"
    " kind text NOT NULL,"
    " action text, address text, scope text, source text, detail text,"
    " lifts bigint NOT NULL DEFAULT 0,"
    " ref bytea, token bytea);"
    "ALTER TABLE unsub_event ADD COLUMN IF NOT EXISTS title text,"
    " ADD COLUMN IF NOT EXISTS description text;"
    "CREATE INDEX IF NOT EXISTS unsub_event_xid ON unsub_event (xid);"
    "CREATE INDEX IF NOT EXISTS unsub_event_address ON unsub_event (address);"
    "CREATE TABLE IF NOT EXISTS unsub_state ("
    " address text NOT NULL, scope text NOT NULL,"
    " u bigint NOT NULL DEFAULT 0, r bigint NOT NULL DEFAULT 0,"
    " l bigint NOT NULL DEFAULT 0,"
    " suppressed boolean GENERATED ALWAYS AS"
    "  (u > l AND u + 600000000 >= r) STORED,"
    " PRIMARY KEY (address, scope));"
    "CREATE TABLE IF NOT EXISTS unsub_list ("
    " name text PRIMARY KEY, time bigint NOT NULL,"
    " uid bytea NOT NULL CHECK (length(uid) = 16),"
    " removed boolean NOT NULL, title text, description text);"
    "INSERT INTO unsub_schema SELECT 2"
    " WHERE NOT EXISTS (SELECT 1 FROM unsub_schema);"
    "UPDATE unsub_schema SET version = 2 WHERE version < 2;";

/* The INSERT of n rows and the state they change (unsub_state, and
 * unsub_list by the registry's rule: the latest by (time, uid) wins):
 * one statement. */
static const char *const ship_head =
    "WITH ins AS (INSERT INTO unsub_event (uid, host, time, kind, action,"
    " address, scope, source, detail, lifts, ref, token, title,"
    " description) VALUES ";
static const char *const ship_tail =
    " ON CONFLICT (uid) DO NOTHING"
    " RETURNING uid, kind, action, address, scope, time, lifts, title,"
    " description),"
    " state AS (INSERT INTO unsub_state AS s (address, scope, u, r, l)"
    " SELECT address, scope,"
    "  max(CASE WHEN action = 'unsubscribe' THEN time ELSE 0 END),"
    "  max(CASE WHEN action = 'resubscribe' THEN time ELSE 0 END),"
    "  max(lifts)"
    " FROM ins WHERE kind = 'change' GROUP BY address, scope"
    " ORDER BY address, scope"
    " ON CONFLICT (address, scope) DO UPDATE SET"
    "  u = GREATEST(s.u, EXCLUDED.u), r = GREATEST(s.r, EXCLUDED.r),"
    "  l = GREATEST(s.l, EXCLUDED.l))"
    " INSERT INTO unsub_list AS g (name, time, uid, removed, title,"
    " description)"
    " SELECT DISTINCT ON (scope) scope, time, uid, action = 'remove',"
    "  title, description"
    " FROM ins WHERE kind = 'list' ORDER BY scope, time DESC, uid DESC"
    " ON CONFLICT (name) DO UPDATE SET time = EXCLUDED.time,"
    "  uid = EXCLUDED.uid, removed = EXCLUDED.removed,"
    "  title = EXCLUDED.title, description = EXCLUDED.description"
    " WHERE (EXCLUDED.time, EXCLUDED.uid) > (g.time, g.uid)";

/* The last libpq error as err, one line; -1. */
static int pq_fail(PGconn *c, const char *what, char *err, size_t errsz)
{
	const char *m = PQerrorMessage(c);
	size_t n = strcspn(m, "\n");

	snprintf(err, errsz, "PostgreSQL %s: %.*s", what, (int)n, m);
	return -1;
}

/* Run sql without parameters, wanting status `want`. */
static int exec_ok(PGconn *c, const char *sql, ExecStatusType want,
    char *err, size_t errsz)
{
	PGresult *r = PQexec(c, sql);
	int ok = PQresultStatus(r) == want;

	PQclear(r);
	return ok ? 0 : pq_fail(c, sql, err, errsz);
}

int fleet_conninfo_ok(const char *conninfo, char *err, size_t errsz)
{
	PQconninfoOption *o;
	char *msg = NULL;

	if (conninfo[0] == '\0') {
		snprintf(err, errsz, "SyncDatabase is not set");
		return -1;
	}
	if ((o = PQconninfoParse(conninfo, &msg)) == NULL) {
		snprintf(err, errsz, "SyncDatabase: %.*s",
		    msg ? (int)strcspn(msg, "\n") : 13,
		    msg ? msg : "out of memory");
		PQfreemem(msg);
		return -1;
	}
	PQconninfoFree(o);
	return 0;
}

int fleet_connect(const char *conninfo, PGconn **out, char *err,
    size_t errsz)
{
	/* conninfo expanded last: its own connect_timeout wins */
	static const char *const keys[] = { "connect_timeout",
		"application_name", "dbname", NULL };
	const char *vals[] = { "5", "unsub-sync", conninfo, NULL };

	*out = PQconnectdbParams(keys, vals, 1);
	if (*out != NULL && PQstatus(*out) == CONNECTION_OK)
		return 0;
	if (*out == NULL) {
		snprintf(err, errsz, "PostgreSQL: out of memory");
		return -1;
	}
	pq_fail(*out, "connect", err, errsz);
	PQfinish(*out);
	*out = NULL;
	return -1;
}

int fleet_listen(PGconn *c, char *err, size_t errsz)
{
	return exec_ok(c, "LISTEN unsub_event", PGRES_COMMAND_OK, err, errsz);
}

int fleet_notified(PGconn *c, char *err, size_t errsz)
{
	PGnotify *n;
	int any = 0;

	if (PQconsumeInput(c) == 0)
		return pq_fail(c, "connection", err, errsz);
	while ((n = PQnotifies(c)) != NULL) {
		any = 1;
		PQfreemem(n);
	}
	return any;
}

int fleet_schema(PGconn *c, char *err, size_t errsz)
{
	if (exec_ok(c, "BEGIN", PGRES_COMMAND_OK, err, errsz) < 0)
		return -1;
	if (exec_ok(c, schema_sql, PGRES_COMMAND_OK, err, errsz) < 0) {
		PQclear(PQexec(c, "ROLLBACK"));
		return -1;
	}
	return exec_ok(c, "COMMIT", PGRES_COMMAND_OK, err, errsz);
}

/* What ship_cb gathers: this host's events past "shipped". */
struct ship {
	const char *host;
	struct store_item *items;
	size_t n;
	uint64_t last;		/* the last seq examined */
};

static int ship_cb(const struct store_item *it, void *arg)
{
	struct ship *s = arg;

	s->last = it->ev.seq;
	if (strcmp(it->ev.host, s->host) == 0)
		s->items[s->n++] = *it;
	return s->n == FLEET_BATCH;
}

/* unsub_event's kind of each store_kind. */
static const char *const kinds[] = {
	[STORE_KIND_CHANGE] = "change",
	[STORE_KIND_REF] = "ref",
	[STORE_KIND_LIST] = "list",
};

/* The parameters of one row: text, but uid, ref and token binary. */
struct row_params {
	char time[24], lifts[24];
};

static void row_bind(const struct store_item *it, struct row_params *rp,
    const char **v, int *len, int *fmt)
{
	const struct store_event *ev = &it->ev;
	int change = it->kind == STORE_KIND_CHANGE, ref = it->kind ==
	    STORE_KIND_REF, list = it->kind == STORE_KIND_LIST;

	snprintf(rp->time, sizeof(rp->time), "%" PRIu64, ev->time_us);
	snprintf(rp->lifts, sizeof(rp->lifts), "%" PRIu64, ev->lifts);
	memset(fmt, 0, SHIP_COLS * sizeof(*fmt));
	memset(len, 0, SHIP_COLS * sizeof(*len));
	v[0] = (const char *)ev->uid, len[0] = STORE_UID_LEN, fmt[0] = 1;
	v[1] = ev->host;
	v[2] = rp->time;
	v[3] = kinds[it->kind];
	v[4] = change ? store_action_name(ev->action) :
	    list ? (it->removed ? "remove" : "set") : NULL;
	v[5] = change ? ev->address : NULL;
	v[6] = change ? ev->scope : list ? it->list.name : NULL;
	v[7] = change ? store_source_name(ev->source) : NULL;
	v[8] = change ? ev->detail : NULL;
	v[9] = rp->lifts;
	v[10] = ref ? (const char *)it->ref : NULL;
	len[10] = (int)it->reflen, fmt[10] = 1;
	v[11] = ref ? (const char *)it->tok : NULL;
	len[11] = (int)it->toklen, fmt[11] = 1;
	v[12] = list && !it->removed ? it->list.title : NULL;
	v[13] = list && !it->removed ? it->list.description : NULL;
}

/* INSERT the gathered rows and their state in one transaction with
 * NOTIFY. */
static int ship_rows(PGconn *c, const struct ship *s, char *err,
    size_t errsz)
{
	size_t np = s->n * SHIP_COLS;
	const char **v = calloc(np, sizeof(*v));
	int *len = calloc(np, sizeof(*len)), *fmt = calloc(np, sizeof(*fmt));
	struct row_params *rp = calloc(s->n, sizeof(*rp));
	struct buf sql = BUF_INIT;
	PGresult *r = NULL;
	int rc = -1;

	if (v == NULL || len == NULL || fmt == NULL || rp == NULL ||
	    buf_add(&sql, ship_head, strlen(ship_head)) < 0) {
		snprintf(err, errsz, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < s->n; i++) {
		char row[256];
		size_t b = i * SHIP_COLS + 1;
		int n = snprintf(row, sizeof(row), "%s($%zu::bytea,$%zu,$%zu::"
		    "bigint,$%zu,$%zu,$%zu,$%zu,$%zu,$%zu,$%zu::bigint,$%zu::"
		    "bytea,$%zu::bytea,$%zu,$%zu)", i ? "," : "", b, b + 1,
		    b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8, b + 9,
		    b + 10, b + 11, b + 12, b + 13);
		row_bind(&s->items[i], &rp[i], v + b - 1, len + b - 1,
		    fmt + b - 1);
		if (buf_add(&sql, row, (size_t)n) < 0) {
			snprintf(err, errsz, "out of memory");
			goto done;
		}
	}
	if (buf_add(&sql, ship_tail, strlen(ship_tail)) < 0) {
		snprintf(err, errsz, "out of memory");
		goto done;
	}
	if (exec_ok(c, "BEGIN", PGRES_COMMAND_OK, err, errsz) < 0)
		goto done;
	r = PQexecParams(c, sql.p, (int)np, NULL, v, len, fmt, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		pq_fail(c, "insert", err, errsz);
		PQclear(PQexec(c, "ROLLBACK"));
		goto done;
	}
	rc = exec_ok(c, "NOTIFY unsub_event; COMMIT", PGRES_COMMAND_OK, err,
	    errsz);
done:
	PQclear(r);
	buf_free(&sql);
	free(v);
	free(len);
	free(fmt);
	free(rp);
	return rc;
}

/* A meta counter, 0 when never set. */
static int meta(struct store *st, const char *name, uint64_t *v, char *err,
    size_t errsz)
{
	int rc = store_meta_get(st, name, v);

	if (rc == STORE_ENOTFOUND)
		*v = 0;
	else if (rc != STORE_OK) {
		snprintf(err, errsz, "store: %s", store_strerror(rc));
		return -1;
	}
	return 0;
}

int fleet_ship(PGconn *c, struct store *st, size_t *n, char *err,
    size_t errsz)
{
	struct ship s = { .host = store_host(st) };
	struct store_meta m[2] = { { "shipped", 0 }, { "contact", 0 } };
	int rc;
	size_t dummy;

	*n = 0;
	if (meta(st, "shipped", &s.last, err, errsz) < 0)
		return -1;
	m[0].value = s.last;
	if ((s.items = malloc(FLEET_BATCH * sizeof(*s.items))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	rc = store_events(st, s.last, 4 * FLEET_BATCH, ship_cb, &s);
	if (rc != STORE_OK)
		snprintf(err, errsz, "store: %s", store_strerror(rc));
	else if (s.n > 0)
		rc = ship_rows(c, &s, err, errsz);
	free(s.items);
	if (rc != 0 || s.last == m[0].value)
		return rc != 0 ? -1 : 0;
	m[0].value = s.last;
	m[1].value = (uint64_t)time(NULL);
	if ((rc = store_mirror(st, NULL, 0, m, 2, &dummy)) != STORE_OK) {
		snprintf(err, errsz, "store: %s", store_strerror(rc));
		return -1;
	}
	*n = s.n;
	return 0;
}

/* What count_cb counts: this host's events. */
struct count {
	const char *host;
	uint64_t n;
};

static int count_cb(const struct store_item *it, void *arg)
{
	struct count *c = arg;

	c->n += strcmp(it->ev.host, c->host) == 0;
	return 0;
}

int fleet_outbox(struct store *st, uint64_t *depth)
{
	struct count c = { store_host(st), 0 };
	uint64_t after = 0;
	int rc = store_meta_get(st, "shipped", &after);

	*depth = 0;
	if (rc != STORE_OK && rc != STORE_ENOTFOUND)
		return rc;
	rc = store_events(st, after, 0, count_cb, &c);
	*depth = c.n;
	return rc;
}

/* Column col of row i (binary) into dst, at most max bytes: its length,
 * 0 when NULL, -1 when longer. */
static int col_bytes(const PGresult *r, int i, int col, void *dst,
    size_t max)
{
	int n = PQgetlength(r, i, col);

	if (PQgetisnull(r, i, col))
		return 0;
	if (n < 0 || (size_t)n > max)
		return -1;
	memcpy(dst, PQgetvalue(r, i, col), (size_t)n);
	return n;
}

/* A text column as a C string in dst (sz bytes with the NUL). */
static int col_str(const PGresult *r, int i, int col, char *dst, size_t sz)
{
	int n = col_bytes(r, i, col, dst, sz - 1);

	if (n < 0)
		return -1;
	dst[n] = '\0';
	return 0;
}

/* A bigint column (binary: 8 bytes, big-endian). */
static int col_u64(const PGresult *r, int i, int col, uint64_t *v)
{
	const unsigned char *p = (const unsigned char *)PQgetvalue(r, i, col);

	if (PQgetlength(r, i, col) != 8)
		return -1;
	*v = 0;
	for (int k = 0; k < 8; k++)
		*v = *v << 8 | p[k];
	return 0;
}

/* A registry change's columns of row i into it: 0, or -1. */
static int row_list(const PGresult *r, int i, struct store_item *it)
{
	char action[16];

	it->kind = STORE_KIND_LIST;
	if (col_str(r, i, 4, action, sizeof(action)) < 0 ||
	    col_str(r, i, 6, it->list.name, sizeof(it->list.name)) < 0 ||
	    col_str(r, i, 12, it->list.title, sizeof(it->list.title)) < 0 ||
	    col_str(r, i, 13, it->list.description,
	    sizeof(it->list.description)) < 0)
		return -1;
	it->removed = strcmp(action, "remove") == 0;
	return it->removed || strcmp(action, "set") == 0 ? 0 : -1;
}

/* Row i of the follow cursor into it: 0, or -1 to leave it (a kind this
 * version does not know, or a row that does not fit the store). */
static int row_item(const PGresult *r, int i, struct store_item *it)
{
	char kind[16], action[16], source[16];
	struct store_event *ev = &it->ev;
	int n, t;

	memset(it, 0, offsetof(struct store_item, tok));
	if (col_bytes(r, i, 0, ev->uid, STORE_UID_LEN) != STORE_UID_LEN ||
	    col_str(r, i, 1, ev->host, sizeof(ev->host)) < 0 ||
	    col_u64(r, i, 2, &ev->time_us) < 0 ||
	    col_str(r, i, 3, kind, sizeof(kind)) < 0 ||
	    col_u64(r, i, 9, &ev->lifts) < 0)
		return -1;
	if (strcmp(kind, "ref") == 0) {
		it->kind = STORE_KIND_REF;
		n = col_bytes(r, i, 10, it->ref, sizeof(it->ref));
		t = col_bytes(r, i, 11, it->tok, sizeof(it->tok));
		it->reflen = n > 0 ? (size_t)n : 0;
		it->toklen = t > 0 ? (size_t)t : 0;
		return n > 0 && t > 0 ? 0 : -1;
	}
	if (strcmp(kind, "list") == 0)
		return row_list(r, i, it);
	it->kind = STORE_KIND_CHANGE;
	if (strcmp(kind, "change") != 0 ||
	    col_str(r, i, 4, action, sizeof(action)) < 0 ||
	    col_str(r, i, 5, ev->address, sizeof(ev->address)) < 0 ||
	    col_str(r, i, 6, ev->scope, sizeof(ev->scope)) < 0 ||
	    col_str(r, i, 7, source, sizeof(source)) < 0 ||
	    col_str(r, i, 8, ev->detail, sizeof(ev->detail)) < 0 ||
	    store_source_parse(source, &ev->source) < 0)
		return -1;
	ev->action = strcmp(action, "unsubscribe") == 0 ? STORE_UNSUBSCRIBE :
	    strcmp(action, "resubscribe") == 0 ? STORE_RESUBSCRIBE : 0;
	return ev->action != 0 ? 0 : -1;
}

/* Fetch the open cursor to its end, applying each batch; the last one
 * with the meta counters. */
static int follow_fetch(PGconn *c, struct store *st,
    const struct store_meta *m, size_t nm, size_t *n, char *err,
    size_t errsz)
{
	struct store_item *items = NULL;
	PGresult *r = NULL;
	int rc = -1, rows = FETCH_ROWS, cap = 0, src;

	while (rows == FETCH_ROWS) {
		size_t k = 0, applied = 0;
		PQclear(r);
		r = PQexec(c, "FETCH 50000 FROM unsub_follow");	/* FETCH_ROWS */
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			pq_fail(c, "fetch", err, errsz);
			goto done;
		}
		/* as many items as rows, kept for the next batch (a fresh
		 * 50000 a batch faulted in a bootstrap's every page again);
		 * an idle poll allocates nothing */
		rows = PQntuples(r);
		if (rows > cap) {
			free(items);
			if ((items = malloc((size_t)rows * sizeof(*items))) ==
			    NULL) {
				snprintf(err, errsz, "out of memory");
				goto done;
			}
			cap = rows;
		}
		for (int i = 0; i < rows; i++)
			k += row_item(r, i, &items[k]) == 0;
		src = store_mirror(st, items, k, m, rows < FETCH_ROWS ? nm : 0,
		    &applied);
		if (src != STORE_OK) {
			snprintf(err, errsz, "store: %s", store_strerror(src));
			goto done;
		}
		*n += applied;
	}
	rc = 0;
done:
	PQclear(r);
	free(items);
	return rc;
}

int fleet_follow(PGconn *c, struct store *st, size_t *n, char *err,
    size_t errsz)
{
	struct store_meta m[3] = { { "cursor", 0 }, { "contact", 0 },
		{ "boot", 1 } };
	uint64_t cursor;
	char sql[384];
	PGresult *r;
	int rc = -1;

	*n = 0;
	if (meta(st, "cursor", &cursor, err, errsz) < 0 ||
	    exec_ok(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	    PGRES_COMMAND_OK, err, errsz) < 0)
		return -1;
	/* The transaction's one snapshot: its xmin is the next cursor,
	 * every xid below it is decided and read now if committed. */
	r = PQexec(c, "SELECT pg_snapshot_xmin(pg_current_snapshot())");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		pq_fail(c, "snapshot", err, errsz);
		PQclear(r);
		goto done;
	}
	m[0].value = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	m[1].value = (uint64_t)time(NULL);
	PQclear(r);
	snprintf(sql, sizeof(sql), "DECLARE unsub_follow BINARY NO SCROLL "
	    "CURSOR FOR SELECT uid, host, time, kind, action, address, scope, "
	    "source, detail, lifts, ref, token, title, description FROM "
	    "unsub_event WHERE xid >= "
	    "'%" PRIu64 "'::xid8 ORDER BY xid", cursor);
	if (exec_ok(c, sql, PGRES_COMMAND_OK, err, errsz) == 0 &&
	    follow_fetch(c, st, m, 3, n, err, errsz) == 0)
		rc = exec_ok(c, "COMMIT", PGRES_COMMAND_OK, err, errsz);
done:
	if (rc < 0 && PQtransactionStatus(c) != PQTRANS_IDLE)
		PQclear(PQexec(c, "ROLLBACK"));
	return rc;
}
