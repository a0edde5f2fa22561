/* api_feed.c - GET /api/v1/events?after=ID&limit=N&wait=S: the store's
 * feed by cursor, as unsubctl events --json prints it, and its long-poll
 * (the waiting is events.c's). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "store_json.h"

#define EVENTS_LIMIT 100		/* events in an answer by default */
#define EVENTS_LIMIT_MAX 1000
#define EVENTS_WAIT_MAX 60		/* seconds a GET may wait */

/* A whole-number query argument from 0 to max, def when absent or empty:
 * E_OK, E_WRONG_TYPE (not a number) or E_INVALID (out of range), with
 * msg. */
static enum api_code query_uint(struct MHD_Connection *c, const char *name,
    uint64_t def, uint64_t max, uint64_t *v, char *msg, size_t msgsz)
{
	const char *s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
	    name), *d;
	char *end;

	*v = def;
	if (s == NULL || s[0] == '\0')
		return E_OK;
	d = s + (s[0] == '-');
	if (d[0] < '0' || d[0] > '9' || strspn(d, "0123456789") !=
	    strlen(d)) {
		snprintf(msg, msgsz, "%s: want a whole number", name);
		return E_WRONG_TYPE;
	}
	errno = 0;
	*v = strtoull(d, &end, 10);
	if (s[0] == '-' || errno == ERANGE || *v > max) {
		snprintf(msg, msgsz, "%s: want 0 to %llu", name,
		    (unsigned long long)max);
		return E_INVALID;
	}
	return E_OK;
}

/* The answer GET /api/v1/events builds. */
struct feed {
	json_t *events;
	uint64_t next;
	int oom;
};

static int feed_cb(const struct store_item *it, void *arg)
{
	struct feed *f = arg;

	f->next = it->ev.seq;
	return f->oom = json_array_append_new(f->events,
	    store_json_item(it)) != 0;
}

/* The events query: after, limit 1 to EVENTS_LIMIT_MAX, wait 0 to
 * EVENTS_WAIT_MAX; E_OK or the code with msg. */
static enum api_code events_args(struct MHD_Connection *c, uint64_t *after,
    uint64_t *limit, uint64_t *wait, char *msg, size_t msgsz)
{
	static const char *const names[] = { "after", "limit", "wait", NULL };
	enum api_code e;

	if (!api_only_args(c, names)) {
		snprintf(msg, msgsz, "the parameters are after, limit and "
		    "wait");
		return E_UNKNOWN_FIELD;
	}
	if ((e = query_uint(c, "after", 0, UINT64_MAX - 1, after, msg,
	    msgsz)) != E_OK ||
	    (e = query_uint(c, "limit", EVENTS_LIMIT, EVENTS_LIMIT_MAX, limit,
	    msg, msgsz)) != E_OK ||
	    (e = query_uint(c, "wait", 0, EVENTS_WAIT_MAX, wait, msg,
	    msgsz)) != E_OK)
		return e;
	if (*limit == 0) {
		snprintf(msg, msgsz, "limit: want 1 to %d", EVENTS_LIMIT_MAX);
		return E_INVALID;
	}
	return E_OK;
}

/* GET /api/v1/events?after=ID&limit=N&wait=S: the events past the cursor
 * as unsubctl events --json, and the next cursor; with none and wait,
 * suspended (events.c) until one comes or wait seconds passed. */
enum MHD_Result api_events(struct call *x)
{
	struct feed f = { NULL, 0, 0 };
	uint64_t limit, wait;
	char msg[128];
	enum api_code e = events_args(x->c, &f.next, &limit, &wait, msg,
	    sizeof(msg));
	int rc;

	if (e != E_OK)
		return api_fail(x->c, e, "%s", msg);
	if (!x->r->waited) {
		x->r->waited = 1;
		x->r->w.deadline = events_now_ms() + (int64_t)wait * 1000;
	}
	x->r->w.after = f.next;
	if ((f.events = json_array()) == NULL)
		return api_fail(x->c, E_INTERNAL, "out of memory");
	if ((rc = store_events(x->h->st, f.next, limit, feed_cb, &f)) !=
	    STORE_OK || f.oom) {
		json_decref(f.events);
		return api_fail(x->c, f.oom ? E_INTERNAL : E_STORE, "%s", f.oom ?
		    "out of memory" : store_strerror(rc));
	}
	if (json_array_size(f.events) == 0 &&
	    events_now_ms() < x->r->w.deadline &&
	    events_wait(x->h->events, &x->r->w, x->c)) {
		json_decref(f.events);
		return MHD_YES;
	}
	return api_ok(x->c, json_pack("{s:o,s:I}", "events", f.events, "next",
	    (json_int_t)f.next));
}

