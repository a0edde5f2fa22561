/* policy_report.c - the report role: DSNs and ARF complaints to a
 * BounceMailbox or ComplaintMailbox, recorded as bounce, soft-bounce or
 * complaint unsubscribes of the recipient our token names. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "policy_int.h"
#include "report.h"

/* Where a recorded report's history event goes. */
static void report_event(const struct config *cfg, const struct report *r,
    struct store_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->action = STORE_UNSUBSCRIBE;
	ev->source = r->kind == REPORT_HARD ? STORE_SRC_BOUNCE :
	    r->kind == REPORT_SOFT ? STORE_SRC_SOFTBOUNCE : STORE_SRC_COMPLAINT;
	strcpy(ev->address, r->claims.address);
	strcpy(ev->scope, r->kind == REPORT_COMPLAINT &&
	    !cfg->complaint_scope_all ? r->claims.list : STORE_SCOPE_ALL);
	report_detail(r, ev->detail);
}

/* A report whose original holds only our mailto reference: the token
 * it stands for.  -1 on a store error (reported in e). */
static int report_by_ref(const struct keyring *kr, struct store *st,
    struct report *r, struct policy_edits *e)
{
	int detail;

	switch (ref_lookup(kr, st, r->ref, &r->claims, &detail)) {
	case REF_OK:
		r->found = 1;
		report_classify(r, r->claims.address);
		break;
	case REF_ESTORE:
		policy_store_failed(e, "report", detail, 1);
		return -1;
	}
	return 0;
}

/* Say why a report is passed on untouched; 0 when it is to be recorded. */
static int passed_on(const struct report *r, int rc, struct policy_edits *e)
{
	if (rc == REPORT_OK && r->found && r->kind != REPORT_IGNORE)
		return 0;
	if (rc == REPORT_OK && r->found)
		snprintf(e->log, sizeof(e->log), "report: %s %s for %s: "
		    "nothing to record; passed on", r->block ? r->block->action :
		    r->type == REPORT_ARF ? r->feedback : "unmatched",
		    r->block ? r->block->status : r->type == REPORT_ARF ?
		    "feedback" : "recipients", r->claims.address);
	else {
		snprintf(e->log, sizeof(e->log), "report: %s%s; passed on",
		    rc != REPORT_OK ? "not a DSN or ARF report" :
		    "no valid token of ours in the returned message",
		    r->worst == TOKEN_EAUTH ? " (forged or altered token seen)" :
		    r->worst == TOKEN_EKEY ? " (token from an unknown key seen)" :
		    "");
		e->warn = e->token_refused = r->worst != 0;
	}
	return 1;
}

/* The report role: a DSN or ARF report about a recipient our token in
 * the returned original names is recorded before the 250 and consumed. */
void policy_report(const struct config *cfg, const struct keyring *kr,
    struct store *st, struct policy_msg *m, struct policy_edits *e)
{
	struct report r;
	struct store_event ev;
	struct timespec t0;
	unsigned count = 0;
	int rc = report_parse(m->mp, kr, cfg->mailbox, &r), changed = 0;

	if (rc == REPORT_ENOMEM) {
		snprintf(e->log, sizeof(e->log), "report: out of memory");
		policy_reply(e, POLICY_TEMPFAIL, "451", "4.3.0",
		    "out of memory, try again later");
		return;
	}
	if ((rc == REPORT_OK && !r.found && r.has_ref &&
	    report_by_ref(kr, st, &r, e) < 0) || passed_on(&r, rc, e))
		return;
	report_event(cfg, &r, &ev);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = r.kind == REPORT_SOFT ? store_soft_bounce(st, &ev,
	    (unsigned)cfg->soft_limit, cfg->soft_window, &count, &changed) :
	    store_record(st, &ev, &changed);
	if (rc != STORE_OK) {
		policy_store_failed(e, "report", rc, 1);
		return;
	}
	if (r.kind != REPORT_SOFT || ev.seq != 0)
		policy_recorded(e, ev.source, &t0);
	if (r.kind == REPORT_SOFT && ev.seq == 0)
		snprintf(e->log, sizeof(e->log), "report: soft-bounce "
		    "address=%s counted (%u of %zu within SoftBounceWindow); "
		    "message %s", ev.address, count, cfg->soft_limit,
		    cfg->keep_reports ? "kept for audit" : "discarded");
	else
		snprintf(e->log, sizeof(e->log), "report: %s recorded "
		    "address=%s scope=%s source=%s%s; message %s",
		    report_kind_name(r.kind), ev.address, ev.scope,
		    store_source_name(ev.source), changed ? "" : " (repeat)",
		    cfg->keep_reports ? "kept for audit" : "discarded");
	policy_consume(cfg->keep_reports, m, e);
}
