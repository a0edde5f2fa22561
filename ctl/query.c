/* query.c - unsubctl's store verbs: status, add, resubscribe, history,
 * list, stats, and the walk over current suppressions that export shares. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "ctl.h"
#include "timefmt.h"
#include "token.h"

/* Collects status entries for printing (an address may be suppressed
 * for any number of lists). */
struct status_acc {
	struct store_entry *e;
	size_t n, cap;
	int oom;
};

/* Keep one of the address's suppressions. */
static int status_cb(const struct store_entry *e, void *arg)
{
	struct status_acc *a = arg;

	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;
		void *p = realloc(a->e, cap * sizeof(*a->e));
		if (p == NULL)
			return a->oom = 1;
		a->e = p;
		a->cap = cap;
	}
	a->e[a->n++] = *e;
	return 0;
}

/* One current suppression as {"scope","since","source"}, after "address"
 * when address is not NULL (list, export). */
static json_t *entry_json(const struct store_entry *e, const char *address)
{
	char when[TIMEFMT_LEN];
	json_t *a = address ? ctl_json_str(address) : NULL;

	if (address != NULL && a == NULL)
		return NULL;
	timefmt_rfc3339(e->time, when);
	return json_pack("{s:o*,s:o,s:s,s:s}", "address", a,
	    "scope", ctl_json_str(e->scope), "since", when,
	    "source", store_source_name(e->source));
}

/* Print the status of addr as one JSON object: its suppressions, and
 * under "except" the lists it gets although suppressed for all. */
static int status_json(const char *addr, const struct status_acc *a,
    size_t n_supp)
{
	json_t *scopes = json_array(), *except = json_array();
	json_t *entries = json_array();
	int bad = 0;

	for (size_t i = 0; i < a->n; i++)
		bad |= a->e[i].except ? json_array_append_new(except,
		    ctl_json_str(a->e[i].scope)) :
		    json_array_append_new(scopes,
		    ctl_json_str(a->e[i].scope)) |
		    json_array_append_new(entries, entry_json(&a->e[i], NULL));
	if (bad) {
		json_decref(scopes);
		json_decref(except);
		json_decref(entries);
		return ctl_json_put(NULL, NULL);	/* out of memory */
	}
	return ctl_json_put(json_pack("{s:o,s:b,s:o,s:o,s:o}", "address",
	    ctl_json_str(addr), "suppressed", n_supp > 0, "scopes", scopes,
	    "except", except, "entries", entries), NULL);
}

/* status: suppression state; exit 0 if suppressed, 1 if not. */
int cmd_status(struct ctl *x)
{
	char addr[ADDRESS_MAX + 1], when[TIMEFMT_LEN];
	struct status_acc a = { NULL, 0, 0, 0 };
	size_t n_supp = 0;
	int rc;

	if ((rc = ctl_need_address(x, addr)) != EX_OK ||
	    (rc = ctl_need_store(x, 1)) != EX_OK)
		return rc;
	rc = store_status(x->st, addr, status_cb, &a);
	if ((rc != STORE_OK && rc != STORE_ENOTFOUND) || a.oom) {
		rc = ctl_fail(EX_CONFIG, "store: %s", a.oom ? "out of memory" :
		    store_strerror(rc));
		goto done;
	}
	for (size_t i = 0; i < a.n; i++)
		n_supp += !a.e[i].except;
	rc = n_supp ? EX_OK : EX_NOTFOUND;
	if (x->json) {
		if (status_json(addr, &a, n_supp) != EX_OK)
			rc = EX_CONFIG;
		goto done;
	}
	if (n_supp == 0)
		printf("%s: not suppressed\n", addr);
	for (size_t i = 0; i < a.n; i++) {
		timefmt_rfc3339(a.e[i].time, when);
		printf("%s: %s %s%s since %s (%s)\n", addr, a.e[i].except ?
		    "gets" : "suppressed for",
		    strcmp(a.e[i].scope, STORE_SCOPE_ALL) ? a.e[i].scope :
		    "all lists", a.e[i].except ? ", an exception to all lists,"
		    : "", when, store_source_name(a.e[i].source));
	}
done:
	free(a.e);
	return rc;
}

/* Record one change for the add and resubscribe verbs. */
static int change(struct ctl *x, enum store_action act, const char *what)
{
	struct store_event ev;
	const char *scope = x->list ? x->list : "all lists";
	int rc, changed = 0;

	memset(&ev, 0, sizeof(ev));
	if ((rc = ctl_need_address(x, ev.address)) != EX_OK)
		return rc;
	if (x->list && !token_id_ok(x->list, 1))
		return ctl_fail(EX_USAGE, "--list: a list id is 1 to %d visible "
		    "ASCII characters, no comma, not \"*\" (leave --list out "
		    "for all lists)", TOKEN_FIELD_MAX);
	snprintf(ev.scope, sizeof(ev.scope), "%s",
	    x->list ? x->list : STORE_SCOPE_ALL);
	store_detail_add(ev.detail, "by", x->by);
	store_detail_add(ev.detail, "reason", x->reason);
	ev.action = act;
	ev.source = STORE_SRC_MANUAL;
	if ((rc = ctl_need_store(x, 0)) != EX_OK)
		return rc;
	rc = store_record(x->st, &ev, &changed);
	if (rc == STORE_ENOTFOUND)
		return ctl_fail(EX_NOTFOUND, "%s is not suppressed for %s",
		    ev.address, scope);
	if (rc != STORE_OK)
		return ctl_fail(EX_CONFIG, "store: %s", store_strerror(rc));
	if (!changed)
		return ctl_fail(EX_NOTFOUND, "%s was already suppressed for %s "
		    "(noted in history)", ev.address, scope);
	printf("%s: %s %s\n", ev.address, what, scope);
	return EX_OK;
}

/* add: a manual suppression. */
int cmd_add(struct ctl *x)
{
	return change(x, STORE_UNSUBSCRIBE, "suppressed for");
}

/* resubscribe: lift a suppression, naming who did. */
int cmd_resubscribe(struct ctl *x)
{
	if (x->by == NULL || x->by[0] == '\0')
		return ctl_fail(EX_USAGE, "resubscribe requires --by NAME "
		    "(who lifts the suppression)");
	return change(x, STORE_RESUBSCRIBE, "resubscribed to");
}

/* Before a walk that prints rows: count them from 0; open a --json
 * array. */
static void rows_begin(struct ctl *x)
{
	x->count = 0;
	x->out_failed = 0;
	if (x->json)
		printf("[");
}

/* After it: close the array; the exit code for the walk's store code rc
 * (out_failed: ctl_json_put has said why). */
static int rows_end(struct ctl *x, int rc)
{
	if (x->json)
		printf("]\n");
	if (rc != STORE_OK && rc != STORE_ENOTFOUND)
		return ctl_fail(EX_CONFIG, "store: %s", store_strerror(rc));
	return x->out_failed ? EX_CONFIG : EX_OK;
}

/* Print one history event as text or a JSON array element. */
static int history_cb(const struct store_event *ev, void *arg)
{
	struct ctl *x = arg;
	char when[TIMEFMT_LEN];

	timefmt_rfc3339(ev->time, when);
	if (!x->json) {
		printf("%s  %-11s  %-12s  %-12s%s%s\n", when,
		    store_action_name(ev->action), ev->scope,
		    store_source_name(ev->source), ev->detail[0] ? "  " : "",
		    ev->detail);
		x->count++;
		return 0;
	}
	x->out_failed = ctl_json_put(json_pack("{s:s,s:s,s:o,s:s,s:o,s:I,s:o}",
	    "time", when, "action", store_action_name(ev->action),
	    "scope", ctl_json_str(ev->scope),
	    "source", store_source_name(ev->source),
	    "detail", ctl_json_str(ev->detail),
	    "seq", (json_int_t)ev->seq, "host", ctl_json_str(ev->host)),
	    &x->count) != EX_OK;
	return x->out_failed;
}

/* history: the address's events, oldest first. */
int cmd_history(struct ctl *x)
{
	char addr[ADDRESS_MAX + 1];
	int rc;

	if ((rc = ctl_need_address(x, addr)) != EX_OK ||
	    (rc = ctl_need_store(x, 1)) != EX_OK)
		return rc;
	rows_begin(x);
	if ((rc = rows_end(x, store_history(x->st, addr, history_cb, x))) !=
	    EX_OK)
		return rc;
	if (x->count == 0)	/* --json has printed [] */
		return x->json ? EX_NOTFOUND : ctl_fail(EX_NOTFOUND,
		    "%s: no history", addr);
	return EX_OK;
}

/* Print s and `end` as a CSV field: in double quotes, each quote
 * doubled, when it holds a comma, a quote or a line break (RFC 4180). */
static void csv_put(const char *s, char end)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, stdout);
	} else {
		putchar('"');
		for (; *s != '\0'; s++) {
			if (*s == '"')
				putchar('"');
			putchar(*s);
		}
		putchar('"');
	}
	putchar(end);
}

/* One entry of list/export in the chosen format. */
static int entry_cb(const struct store_entry *e, void *arg)
{
	struct ctl *x = arg;
	char when[TIMEFMT_LEN];
	const char *src = store_source_name(e->source);

	if (x->json || (x->format && strcmp(x->format, "jsonl") == 0)) {
		x->out_failed = ctl_json_put(entry_json(e, e->address),
		    x->json ? &x->count : NULL) != EX_OK;
		return x->out_failed;
	}
	timefmt_rfc3339(e->time, when);
	if (x->format) {
		csv_put(e->address, ',');
		csv_put(e->scope, ',');
		printf("%s,%s\n", when, src);
	} else
		printf("%s  %s  %s  %s\n", e->address, e->scope, when, src);
	return 0;
}

int ctl_walk(struct ctl *x, const char *scope, uint64_t since)
{
	int rc;

	if ((rc = ctl_need_store(x, 1)) != EX_OK)
		return rc;
	rows_begin(x);
	return rows_end(x, store_list(x->st, scope, since, entry_cb, x));
}

/* list: current suppressions, of one list and since a time if asked. */
int cmd_list(struct ctl *x)
{
	uint64_t since = 0;

	if (x->argc != 0)
		return ctl_fail(EX_USAGE, "list takes no operands");
	if (x->since && timefmt_parse(x->since, &since) < 0)
		return ctl_fail(EX_USAGE, "--since: want RFC 3339, YYYY-MM-DD "
		    "or Unix seconds");
	return ctl_walk(x, x->list, since);
}

/* Counters for stats. */
struct stats_acc {
	unsigned long total, all, by_src[STORE_SRC_LAST + 1];
};

/* Count one suppression. */
static int stats_cb(const struct store_entry *e, void *arg)
{
	struct stats_acc *s = arg;

	s->total++;
	if (strcmp(e->scope, STORE_SCOPE_ALL) == 0)
		s->all++;
	if (e->source >= STORE_SRC_MAILTO && e->source <= STORE_SRC_LAST)
		s->by_src[e->source]++;
	return 0;
}

/* stats: counts by scope and source. */
int cmd_stats(struct ctl *x)
{
	struct stats_acc s;
	int rc;

	memset(&s, 0, sizeof(s));
	if ((rc = ctl_need_store(x, 1)) != EX_OK)
		return rc;
	rc = store_list(x->st, NULL, 0, stats_cb, &s);
	if (rc != STORE_OK && rc != STORE_ENOTFOUND)
		return ctl_fail(EX_CONFIG, "store: %s", store_strerror(rc));
	printf("suppressions: %lu\nscope all lists: %lu\nscope one list: "
	    "%lu\n", s.total, s.all, s.total - s.all);
	for (int i = STORE_SRC_MAILTO; i <= STORE_SRC_LAST; i++)
		printf("source %s: %lu\n", store_source_name(i), s.by_src[i]);
	return EX_OK;
}
