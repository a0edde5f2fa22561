/* query.c - unsubctl's store verbs: status, add, resubscribe, history,
 * list, stats, and the walk over current suppressions that export shares. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "ctl.h"
#include "timefmt.h"
#include "token.h"

/* What the text form of status needs across status_line's calls. */
struct status_text {
	const char *addr;
	size_t n_supp;		/* suppressions, not exceptions */
};

/* Print one suppression, or exception to all lists, as a text line. */
static int status_line(const struct store_entry *e, void *arg)
{
	struct status_text *t = arg;
	char when[TIMEFMT_LEN];

	timefmt_rfc3339(e->time, when);
	printf("%s: %s %s%s since %s (%s)\n", t->addr, e->except ? "gets" :
	    "suppressed for", strcmp(e->scope, STORE_SCOPE_ALL) ? e->scope :
	    "all lists", e->except ? ", an exception to all lists," : "",
	    when, store_source_name(e->source));
	t->n_supp += !e->except;
	return 0;
}

/* status: suppression state; exit 0 if suppressed, 1 if not.  The JSON
 * is store_json_status's, as the API's; exceptions only exist beside a
 * suppression for all, so "not suppressed" is all the text there is. */
int cmd_status(struct ctl *x)
{
	char addr[ADDRESS_MAX + 1];
	struct status_text t = { addr, 0 };
	json_t *status;
	int rc;

	if ((rc = ctl_need_address(x, addr)) != EX_OK ||
	    (rc = ctl_need_store(x, 1)) != EX_OK)
		return rc;
	if (x->json) {
		if ((rc = store_json_status(x->st, addr, &status)) != STORE_OK)
			return ctl_fail(EX_CONFIG, "store: %s",
			    store_strerror(rc));
		rc = json_is_true(json_object_get(status, "suppressed")) ?
		    EX_OK : EX_NOTFOUND;
		return ctl_json_put(status, NULL) != EX_OK ? EX_CONFIG : rc;
	}
	rc = store_status(x->st, addr, status_line, &t);
	if (rc != STORE_OK && rc != STORE_ENOTFOUND)
		return ctl_fail(EX_CONFIG, "store: %s", store_strerror(rc));
	if (t.n_supp == 0)
		printf("%s: not suppressed\n", addr);
	return t.n_supp ? EX_OK : EX_NOTFOUND;
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

/* Print one history event as a text line. */
static int history_cb(const struct store_event *ev, void *arg)
{
	struct ctl *x = arg;
	char when[TIMEFMT_LEN];

	timefmt_rfc3339(ev->time, when);
	printf("%s  %-11s  %-12s  %-12s%s%s\n", when,
	    store_action_name(ev->action), ev->scope,
	    store_source_name(ev->source), ev->detail[0] ? "  " : "",
	    ev->detail);
	x->count++;
	return 0;
}

/* history --json: the address's events as one array. */
static int history_json(struct ctl *x, const char *addr)
{
	json_t *events;
	int rc = store_json_history(x->st, addr, &events);

	if (rc != STORE_OK)
		return ctl_fail(EX_CONFIG, "store: %s", store_strerror(rc));
	rc = json_array_size(events) > 0 ? EX_OK : EX_NOTFOUND;
	return ctl_json_put(events, NULL) != EX_OK ? EX_CONFIG : rc;
}

/* history: the address's events, oldest first. */
int cmd_history(struct ctl *x)
{
	char addr[ADDRESS_MAX + 1];
	int rc;

	if ((rc = ctl_need_address(x, addr)) != EX_OK ||
	    (rc = ctl_need_store(x, 1)) != EX_OK)
		return rc;
	if (x->json)
		return history_json(x, addr);
	rows_begin(x);
	if ((rc = rows_end(x, store_history(x->st, addr, history_cb, x))) !=
	    EX_OK)
		return rc;
	if (x->count == 0)
		return ctl_fail(EX_NOTFOUND, "%s: no history", addr);
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
		x->out_failed = ctl_json_put(store_json_entry(e, e->address),
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
