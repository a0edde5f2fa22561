/* sync.c - unsubctl's fleet verbs: sync init (the PostgreSQL schema),
 * sync status, and events (the store's feed, in order). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec.h"
#include "ctl.h"
#include "fleet.h"
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

/* One entry of the feed: a line of text or JSON.  A reference and a
 * registry change have no address nor source; a registry change's scope
 * is the list's name. */
static int event_cb(const struct store_item *it, void *arg)
{
	struct ctl *x = arg;
	const struct store_event *ev = &it->ev;
	char when[TIMEFMT_LEN], detail[STORE_DETAIL_MAX + 1];
	char ref[2 * STORE_REF_MAX + 1];
	int change = it->kind == STORE_KIND_CHANGE;
	int list = it->kind == STORE_KIND_LIST;
	const char *action = change ? store_action_name(ev->action) :
	    !list ? "reference" : it->removed ? "list-remove" : "list-set";
	const char *scope = change ? ev->scope : list ? it->list.name : NULL;

	timefmt_rfc3339(ev->time, when);
	snprintf(detail, sizeof(detail), "%s", ev->detail);
	if (list)
		store_detail_add(detail, "title", it->list.title);
	else if (!change && codec_b32_encode(it->ref, it->reflen, ref,
	    sizeof(ref)) >= 0)
		snprintf(detail, sizeof(detail), "ref=%s", ref);
	x->count++;
	if (!x->json) {
		printf("%" PRIu64 "  %s  %-11s  %s  %s  %s  %s%s%s\n", ev->seq,
		    when, action, change ? ev->address : "-",
		    scope ? scope : "-",
		    change ? store_source_name(ev->source) : "-",
		    ev->host[0] ? ev->host : "-", detail[0] ? "  " : "",
		    detail);
		return 0;
	}
	x->out_failed = ctl_json_put(json_pack("{s:I,s:s,s:s,s:o,s:o,s:o,"
	    "s:o,s:o}", "id", (json_int_t)ev->seq, "time", when, "action",
	    action, "address", change ? store_json_str(ev->address) :
	    json_null(), "scope", scope ? store_json_str(scope) : json_null(),
	    "source", change ? json_string(store_source_name(ev->source)) :
	    json_null(), "detail", store_json_str(detail),
	    "host", store_json_str(ev->host)), NULL) != EX_OK;
	return x->out_failed;
}

/* events [--after CURSOR] [--json]: every change past the cursor. */
int cmd_events(struct ctl *x)
{
	uint64_t after = 0;
	char *end;
	int rc;

	if (x->after != NULL) {
		after = strtoull(x->after, &end, 10);
		if (x->after[0] == '\0' || x->after[0] == '-' || *end != '\0')
			return ctl_fail(EX_USAGE, "--after: want an event id");
	}
	if ((rc = ctl_need_store(x, 1)) != EX_OK)
		return rc;
	rc = store_events(x->st, after, 0, event_cb, x);
	if (rc != STORE_OK)
		return ctl_fail(EX_CONFIG, "store: %s", store_strerror(rc));
	return x->out_failed ? EX_CONFIG : EX_OK;
}
