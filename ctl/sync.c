/* sync.c - unsubctl's fleet verbs: sync init (the PostgreSQL schema),
 * sync status, and events (the store's feed, in order). */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "fleet.h"
#include "store_json.h"
#include "timefmt.h"

/* sync init: create or upgrade the schema SyncDatabase names. */
static int sync_init(struct ctl *x)
{
	PGconn *c = NULL;
	char err[1024];
	int rc = EX_OK;

	if (fleet_conninfo_ok(x->cfg.sync_database, err, sizeof(err)) < 0)
		return ctl_fail(EX_CONFIG, "%s", err);
	if (fleet_connect(x->cfg.sync_database, &c, err, sizeof(err)) < 0 ||
	    fleet_schema(c, err, sizeof(err)) < 0)
		rc = ctl_fail(EX_CONFIG, "%s", err);
	else
		printf("schema version %d ready\n", FLEET_SCHEMA_VERSION);
	PQfinish(c);
	return rc;
}

/* Is PostgreSQL reachable now? */
static int reachable(const struct ctl *x)
{
	PGconn *c = NULL;
	char err[1024];
	int ok = x->cfg.sync_database[0] != '\0' &&
	    fleet_connect(x->cfg.sync_database, &c, err, sizeof(err)) == 0;

	PQfinish(c);
	return ok;
}

/* sync status [--json]: enabled, connected, bootstrapped, outbox, last
 * contact and staleness. */
static int sync_status(struct ctl *x)
{
	uint64_t boot = 0, contact = 0, depth = 0;
	uint64_t now = (uint64_t)time(NULL);
	int rc, enabled = x->cfg.sync_database[0] != '\0', up;
	char when[TIMEFMT_LEN] = "never";

	if ((rc = ctl_need_store(x, 1)) != EX_OK)
		return rc;
	if (((rc = store_meta_get(x->st, "boot", &boot)) != STORE_OK &&
	    rc != STORE_ENOTFOUND) ||
	    ((rc = store_meta_get(x->st, "contact", &contact)) != STORE_OK &&
	    rc != STORE_ENOTFOUND) ||
	    (rc = fleet_outbox(x->st, &depth)) != STORE_OK)
		return ctl_fail(EX_CONFIG, "store: %s", store_strerror(rc));
	up = reachable(x);
	if (contact != 0)
		timefmt_rfc3339(contact, when);
	if (x->json)
		return ctl_json_put(json_pack("{s:b,s:b,s:b,s:I,s:o,s:o}",
		    "enabled", enabled, "connected", up, "bootstrapped",
		    boot != 0, "outbox", (json_int_t)depth, "last_contact",
		    contact ? json_string(when) : json_null(),
		    "staleness_seconds", contact ? json_integer((json_int_t)
		    (now > contact ? now - contact : 0)) : json_null()), NULL);
	printf("enabled: %s\nconnected: %s\nbootstrapped: %s\noutbox: %"
	    PRIu64 "\nlast contact: %s\n", enabled ? "yes" : "no",
	    up ? "yes" : "no", boot ? "yes" : "no", depth, when);
	return EX_OK;
}

int cmd_sync(struct ctl *x)
{
	const char *sub = x->argc == 1 ? x->argv[0] : "";

	if (strcmp(sub, "init") == 0)
		return sync_init(x);
	if (strcmp(sub, "status") == 0)
		return sync_status(x);
	return ctl_fail(EX_USAGE, "sync: want init or status");
}

/* The follow loop looks at the feed this often: one read transaction
 * and a B-tree seek each time, about 50 us of CPU (0.05% of a core). */
#define FOLLOW_MS 100

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

/* A walk of the feed: where it got to. */
struct feed {
	struct ctl *x;
	uint64_t last;		/* the id of the last event printed */
};

/* One entry of the feed: a line of text or JSON.  A reference and a
 * registry change have no address nor source; a registry change's scope
 * is the list's name. */
static int event_cb(const struct store_item *it, void *arg)
{
	struct feed *f = arg;
	struct ctl *x = f->x;
	const struct store_event *ev = &it->ev;
	char when[TIMEFMT_LEN], detail[STORE_DETAIL_MAX + 1];
	const char *scope = store_json_scope(it);
	int change = it->kind == STORE_KIND_CHANGE;

	f->last = ev->seq;
	x->count++;
	if (x->json)
		return x->out_failed = ctl_json_put(store_json_item(it),
		    NULL) != EX_OK;
	timefmt_rfc3339(ev->time, when);
	store_json_detail(it, detail, sizeof(detail));
	printf("%" PRIu64 "  %s  %-11s  %s  %s  %s  %s%s%s\n", ev->seq, when,
	    store_json_action(it), change ? ev->address : "-",
	    scope ? scope : "-",
	    change ? store_source_name(ev->source) : "-",
	    ev->host[0] ? ev->host : "-", detail[0] ? "  " : "", detail);
	return 0;
}

/* --follow: SIGINT and SIGTERM end the wait. */
static void follow_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* events [--after CURSOR] [--follow] [--json]: every change past the
 * cursor; following, then every new one as it is committed, until a
 * signal or the reader of a pipe has gone. */
int cmd_events(struct ctl *x)
{
	struct feed f = { x, 0 };
	struct pollfd out = { STDOUT_FILENO, 0, 0 };
	char *end;
	int rc;

	if (x->after != NULL) {
		f.last = strtoull(x->after, &end, 10);
		if (x->after[0] == '\0' || x->after[0] == '-' || *end != '\0')
			return ctl_fail(EX_USAGE, "--after: want an event id");
	}
	if ((rc = ctl_need_store(x, 1)) != EX_OK)
		return rc;
	if (x->follow)
		follow_signals();
	for (;;) {
		rc = store_events(x->st, f.last, 0, event_cb, &f);
		if (rc != STORE_OK)
			return ctl_fail(EX_CONFIG, "store: %s",
			    store_strerror(rc));
		if (x->out_failed)
			return EX_CONFIG;	/* ctl_json_put said why */
		if (fflush(stdout) == EOF)
			return ctl_fail(EX_CONFIG, "output: %s",
			    strerror(errno));
		if (!x->follow || stop)
			return EX_OK;
		/* Sleep, and wake early when the reader of a pipe has gone
		 * (POLLERR on a write end), as tail -f does. */
		if (poll(&out, 1, FOLLOW_MS) > 0 || stop)
			return EX_OK;
	}
}
