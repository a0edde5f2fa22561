/* policy.c - per-message decisions: the outbound and inbound roles (the
 * report role is policy_report.c). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mint.h"
#include "policy.h"
#include "policy_int.h"
#include "report.h"

void policy_msg_reset(struct policy_msg *m)
{
	for (size_t i = 0; i < m->n_rcpt; i++)
		free(m->rcpt[i].raw);
	free(m->rcpt);
	mailparse_free(m->mp);
	memset(m, 0, sizeof(*m));
}

int policy_rcpt(const struct config *cfg, struct policy_msg *m,
    const char *raw)
{
	struct policy_recipient *r;
	uint8_t ref[REF_LEN];

	if (m->n_rcpt == POLICY_RCPT_MAX) {
		m->n_over++;
		return 0;
	}
	if (m->n_rcpt == m->cap_rcpt) {
		size_t cap = m->cap_rcpt ? m->cap_rcpt * 2 : 4;
		void *p = realloc(m->rcpt, cap * sizeof(*m->rcpt));
		if (p == NULL)
			return -1;
		m->rcpt = p;
		m->cap_rcpt = cap;
	}
	r = &m->rcpt[m->n_rcpt];
	memset(r, 0, sizeof(*r));
	if ((r->raw = strdup(raw)) == NULL)
		return -1;
	m->n_rcpt++;
	if (address_normalise(raw, cfg->case_sensitive_local, r->norm,
	    sizeof(r->norm)) != ADDRESS_OK)
		r->norm[0] = '\0';
	r->mailbox = ref_rcpt(raw, cfg->mailbox, ref);
	if (r->mailbox == 2 && !m->has_ref) {
		memcpy(m->ref, ref, sizeof(ref));
		m->has_ref = 1;
	}
	if (r->mailbox == 0 && (report_mailbox(cfg->bounce_mailbox, raw) ||
	    report_mailbox(cfg->complaint_mailbox, raw)))
		r->mailbox = m->report = 3;
	if (r->mailbox && m->mp == NULL &&
	    (m->mp = mailparse_new(cfg->max_body)) == NULL)
		return -1;
	return 0;
}

/* Copy a header value with surrounding white space trimmed. */
static void copy_trimmed(char *dst, size_t dstsz, const char *v)
{
	size_t len;

	while (isspace((unsigned char)*v))
		v++;
	len = strlen(v);
	while (len > 0 && isspace((unsigned char)v[len - 1]))
		len--;
	if (len >= dstsz)
		len = dstsz - 1;	/* one past the limit: seen as too long */
	memcpy(dst, v, len);
	dst[len] = '\0';
}

void policy_header(const struct config *cfg, struct policy_msg *m,
    const char *name, const char *value)
{
	if (m->mp != NULL)
		mailparse_header(m->mp, name, value);
	if (strcasecmp(name, cfg->list_header) == 0) {
		if (m->n_list++ == 0)
			copy_trimmed(m->list, sizeof(m->list), value);
	} else if (cfg->profile_header[0] &&
	    strcasecmp(name, cfg->profile_header) == 0) {
		if (m->n_profile++ == 0)
			copy_trimmed(m->profile, sizeof(m->profile), value);
	} else if (cfg->campaign_header[0] &&
	    strcasecmp(name, cfg->campaign_header) == 0) {
		if (m->n_campaign++ == 0)
			copy_trimmed(m->campaign, sizeof(m->campaign), value);
	} else if (strcasecmp(name, HEADER_LU) == 0)
		m->n_lu++;
	else if (strcasecmp(name, HEADER_LUP) == 0)
		m->n_lup++;
	else if (strcasecmp(name, HEADER_FB) == 0)
		m->n_fbid++;
}

int policy_wants_body(const struct policy_msg *m)
{
	return m->mp != NULL;
}

int policy_body(struct policy_msg *m, const uint8_t *chunk, size_t len)
{
	if (!policy_wants_body(m))
		return 0;
	return mailparse_body(m->mp, chunk, len) == MAILPARSE_OK ? 1 : -1;
}

/* Set a reply for REJECT or TEMPFAIL. */
void policy_reply(struct policy_edits *e, enum policy_verdict v,
    const char *rcode, const char *xcode, const char *text)
{
	e->verdict = v;
	snprintf(e->rcode, sizeof(e->rcode), "%s", rcode);
	snprintf(e->xcode, sizeof(e->xcode), "%s", xcode);
	snprintf(e->reply, sizeof(e->reply), "%s", text);
}

/* Queue the deletion of every occurrence of a header. */
static void del_header(struct policy_edits *e, const char *name, int count)
{
	if (count > 0 && e->n_del_hdr < 5) {
		e->del_hdr[e->n_del_hdr] = name;
		e->del_count[e->n_del_hdr++] = count;
	}
}

#define OUT_TEMPFAIL(cfg) ((cfg)->store_failure == CONFIG_STOREFAIL_TEMPFAIL)

/* Store failure: tempfail, or pass when `tempfail` is 0 (StoreFailure
 * accept, outbound only: an unsubscribe that cannot be recorded always
 * tempfails, so the sender's retry records it). */
void policy_store_failed(struct policy_edits *e, const char *what,
    int rc, int tempfail)
{
	snprintf(e->log, sizeof(e->log), "%s: store error: %s; %s", what,
	    store_strerror(rc), tempfail ? "tempfail" : "accepted "
	    "(StoreFailure accept)");
	e->warn = 1;
	e->store_error = 1;
	if (tempfail)
		policy_reply(e, POLICY_TEMPFAIL, "451", "4.3.0",
		    "unsubscribe store unavailable, try again later");
}

/* Remove the marker headers; 0 if the ids they carry can go in a token,
 * else -1 (reported in e). */
static int marker_ids(const struct config *cfg, const struct policy_msg *m,
    struct policy_edits *e)
{
	del_header(e, cfg->list_header, m->n_list);
	del_header(e, cfg->profile_header, m->n_profile);
	del_header(e, cfg->campaign_header, m->n_campaign);
	if (token_id_ok(m->list, 1) && token_id_ok(m->profile, 0) &&
	    token_id_ok(m->campaign, 0))
		return 0;
	snprintf(e->log, sizeof(e->log), "outbound: %s, profile or campaign "
	    "id empty, \"*\", over %d characters, not visible ASCII or with a "
	    "comma; no headers added", cfg->list_header, TOKEN_FIELD_MAX);
	e->warn = 1;
	return -1;
}

/* Remove suppressed recipients; returns how many remain, the first of
 * them in *kept, or -1 on a store error (already reported in e). */
static long drop_suppressed(const struct config *cfg, struct store *st,
    struct policy_msg *m, struct policy_edits *e, size_t *kept)
{
	long remain = 0;

	if ((e->del_rcpt = calloc(m->n_rcpt, sizeof(size_t))) == NULL) {
		policy_store_failed(e, "outbound", STORE_EIO,
		    OUT_TEMPFAIL(cfg));
		return -1;
	}
	for (size_t i = 0; i < m->n_rcpt; i++) {
		char scope[STORE_SCOPE_MAX + 1];
		int supp = 0, rc = STORE_OK;
		if (m->rcpt[i].norm[0] != '\0')
			rc = store_check(st, m->rcpt[i].norm, m->list, &supp,
			    scope, sizeof(scope));
		if (rc != STORE_OK) {
			policy_store_failed(e, "outbound", rc,
			    OUT_TEMPFAIL(cfg));
			return -1;
		}
		if (supp)
			e->del_rcpt[e->n_del_rcpt++] = i;
		else if (remain++ == 0)
			*kept = i;
	}
	e->n_suppressed = e->n_del_rcpt;
	return remain;
}

/* Every recipient unsubscribed: reject or discard the message. */
static void all_suppressed(const struct config *cfg,
    const struct policy_msg *m, struct policy_edits *e)
{
	int reject = cfg->suppressed_action == CONFIG_SUPP_REJECT;

	snprintf(e->log, sizeof(e->log), "outbound list=%s: every recipient "
	    "unsubscribed (%s): %s", m->list, m->n_rcpt == 1 ?
	    m->rcpt[0].norm : "all", reject ? "rejected" : "discarded");
	e->n_del_rcpt = 0;
	if (reject)
		policy_reply(e, POLICY_REJECT, "550", "5.7.1",
		    cfg->suppressed_reply);
	else
		e->verdict = POLICY_DISCARD;
}

/* SuppressedAction tag: keep every recipient and say in the header how
 * many are suppressed; it names the address only to its sole recipient,
 * never one recipient's address to the others.  The log names them all. */
static void tag_suppressed(const struct policy_msg *m,
    struct policy_edits *e)
{
	size_t off;

	if (m->n_rcpt == 1)
		snprintf(e->tag, sizeof(e->tag), "%s", m->rcpt[0].norm);
	else
		snprintf(e->tag, sizeof(e->tag), "%zu of %zu recipients",
		    e->n_del_rcpt, m->n_rcpt);
	off = (size_t)snprintf(e->log, sizeof(e->log), "outbound list=%s: "
	    "suppressed recipients tagged, not removed:", m->list);
	for (size_t i = 0; i < e->n_del_rcpt && off < sizeof(e->log); i++)
		off += (size_t)snprintf(e->log + off, sizeof(e->log) - off,
		    "%s %s", i ? "," : "", m->rcpt[e->del_rcpt[i]].norm);
	e->n_del_rcpt = 0;
}

/* 1 when the suppressed recipients, or the `remain` others, decide the
 * message (tagged, rejected, discarded, or not personalisable); 0 when
 * one recipient is left to get the headers. */
static int recipients_decide(const struct config *cfg,
    const struct policy_msg *m, struct policy_edits *e, long remain)
{
	if (e->n_del_rcpt > 0 && cfg->suppressed_action == CONFIG_SUPP_TAG) {
		tag_suppressed(m, e);
		return 1;
	}
	if (remain == 0) {
		all_suppressed(cfg, m, e);
		return 1;
	}
	if (remain > 1 && cfg->multi_recipient == CONFIG_MULTI_SKIP) {
		snprintf(e->log, sizeof(e->log), "outbound list=%s: %ld "
		    "recipients, %zu suppressed; no List-Unsubscribe added: a "
		    "token names one recipient, so send one message per "
		    "recipient (or set MultipleRecipients first)", m->list,
		    remain, e->n_del_rcpt);
		e->warn = 1;
		return 1;
	}
	return 0;	/* one left, or MultipleRecipients first */
}

/* The token's claims for recipient r; -1 (reported in e) when r is not a
 * valid address. */
static int claims_for(const struct config *cfg, const struct policy_msg *m,
    const struct policy_recipient *r, struct token_claims *c,
    struct policy_edits *e)
{
	if (r->norm[0] == '\0') {
		snprintf(e->log, sizeof(e->log), "outbound list=%s: recipient "
		    "%s is not a valid address; no headers", m->list, r->raw);
		e->warn = 1;
		return -1;
	}
	memset(c, 0, sizeof(*c));
	strcpy(c->address, r->norm);
	strcpy(c->list, m->list);
	strcpy(c->profile, m->profile);
	strcpy(c->campaign, m->campaign);
	c->scope_all = cfg->scope_all;
	c->issued = (uint64_t)time(NULL);
	return 0;
}

/* Report a mint_headers failure: the store's, a header over the line
 * limit (permanent: a retry cannot help), or no token. */
static void mint_failed(const struct config *cfg, const struct policy_msg *m,
    const char *addr, int rc, int detail, struct policy_edits *e)
{
	e->lu[0] = '\0';
	if (rc == MINT_ESTORE) {
		policy_store_failed(e, "outbound", detail, OUT_TEMPFAIL(cfg));
	} else if (rc == MINT_EHEADER) {
		snprintf(e->log, sizeof(e->log), "outbound list=%s rcpt=%s: "
		    "List-Unsubscribe would pass the %d-octet line limit "
		    "(shorten UnsubscribeURL or the ids); no headers added",
		    m->list, addr, HEADER_LINE_MAX);
		e->warn = 1;
	} else {
		snprintf(e->log, sizeof(e->log), "outbound list=%s: cannot "
		    "mint token: %s", m->list, token_strerror(detail));
		policy_reply(e, POLICY_TEMPFAIL, "451", "4.3.0",
		    "unsubscribe token could not be made, try again later");
	}
}

/* Mint recipient r's headers, replacing the application's. */
static void add_headers(const struct config *cfg, const struct keyring *kr,
    struct store *st, const struct policy_msg *m,
    const struct policy_recipient *r, struct policy_edits *e)
{
	struct token_claims c;
	int detail, rc;

	if (claims_for(cfg, m, r, &c, e) < 0)
		return;
	rc = mint_headers(cfg, kr, st, &c, "\n\t", e->lu, sizeof(e->lu),
	    &detail);
	if (rc != MINT_OK) {
		mint_failed(cfg, m, c.address, rc, detail, e);
		return;
	}
	del_header(e, HEADER_LU, m->n_lu);
	del_header(e, HEADER_LUP, m->n_lup);
	e->add_lup = cfg->url[0] != '\0';
	/* the application's own Feedback-ID is kept; the template was
	 * checked to fit the longest ids */
	if (cfg->feedback_id[0] != '\0' && m->n_fbid == 0)
		header_feedback_id(e->fbid, sizeof(e->fbid), cfg->feedback_id,
		    m->list, m->campaign, m->profile);
	snprintf(e->log, sizeof(e->log), "outbound list=%s rcpt=%s%s: "
	    "List-Unsubscribe added%s", m->list, c.address,
	    e->n_del_rcpt ? " (suppressed recipients removed)" : "",
	    m->n_lu ? ", application's replaced" : "");
}

/* With SyncDatabase set, list mail waits (451) until this host's mirror
 * has bootstrapped and while its last exchange with PostgreSQL is older
 * than SyncMaxStaleness: it may lack unsubscribes made on other hosts. */
static int mirror_stale(const struct config *cfg, struct store *st,
    const struct policy_msg *m, struct policy_edits *e)
{
	uint64_t boot = 0, contact = 0, now = (uint64_t)time(NULL);

	if (cfg->sync_database[0] == '\0')
		return 0;
	if (store_meta_get(st, "boot", &boot) == STORE_OK && boot &&
	    (cfg->sync_max_stale == 0 ||
	    (store_meta_get(st, "contact", &contact) == STORE_OK &&
	    contact + cfg->sync_max_stale >= now)))
		return 0;
	snprintf(e->log, sizeof(e->log), "outbound list=%s: %s; tempfail",
	    m->list, boot ? "suppression list stale: no exchange with "
	    "PostgreSQL within SyncMaxStaleness (is unsub-sync running?)" :
	    "suppression list not bootstrapped from PostgreSQL yet "
	    "(unsub-sync)");
	e->warn = 1;
	policy_reply(e, POLICY_TEMPFAIL, "451", "4.3.0", boot ?
	    "suppression list out of date, try again later" :
	    "suppression list not loaded yet, try again later");
	return 1;
}

/* The outbound role: suppression, then headers for one recipient. */
static void outbound(const struct config *cfg, const struct keyring *kr,
    struct store *st, struct policy_msg *m, struct policy_edits *e)
{
	size_t kept = 0;
	long remain;

	if (m->n_over > 0) {
		snprintf(e->log, sizeof(e->log), "outbound list=%s: %zu "
		    "recipients, over %d: rejected, as not every one can be "
		    "checked for unsubscribes; send one message per recipient",
		    m->list, m->n_rcpt + m->n_over, POLICY_RCPT_MAX);
		e->warn = 1;
		policy_reply(e, POLICY_REJECT, "554", "5.5.3", "too many "
		    "recipients for list mail; send one message per recipient");
		return;
	}
	if (marker_ids(cfg, m, e) < 0 || mirror_stale(cfg, st, m, e))
		return;
	if ((remain = drop_suppressed(cfg, st, m, e, &kept)) < 0 ||
	    recipients_decide(cfg, m, e, remain))
		return;
	if (m->n_lu + m->n_lup > 0 && !cfg->replace_existing) {
		snprintf(e->log, sizeof(e->log), "outbound list=%s: message "
		    "has its own List-Unsubscribe; kept (ReplaceExisting no)",
		    m->list);
		return;
	}
	add_headers(cfg, kr, st, m, &m->rcpt[kept], e);
}

/* Candidate callback: open the first token that verifies (and, after a
 * reference, names the same recipient, list and scope). */
struct find {
	const struct keyring *kr;
	const struct token_claims *like;	/* the reference's, or NULL */
	struct token_claims c;
	int worst;		/* most telling failure seen */
};

static int try_candidate(const char *cand, size_t len, void *arg)
{
	struct find *f = arg;
	int rc = token_open_text(f->kr, cand, len, &f->c);

	if (rc == TOKEN_OK)
		return f->like == NULL || (strcmp(f->c.address,
		    f->like->address) == 0 && strcmp(f->c.list,
		    f->like->list) == 0 && f->c.scope_all == f->like->scope_all);
	if (rc == TOKEN_EAUTH || (rc == TOKEN_EKEY && f->worst != TOKEN_EAUTH))
		f->worst = rc;
	return 0;
}

/* Look up the local-part reference; 1 if it names a valid token. */
static int find_by_ref(const struct keyring *kr, struct store *st,
    const struct policy_msg *m, struct find *f, int *store_rc)
{
	int detail;

	*store_rc = STORE_OK;
	if (!m->has_ref)
		return 0;
	switch (ref_lookup(kr, st, m->ref, &f->c, &detail)) {
	case REF_OK:
		return 1;
	case REF_ESTORE:
		*store_rc = detail;
		break;
	}
	return 0;
}

/* Drop a consumed message for our mailboxes (other recipients still get
 * it), unless it is kept for audit. */
void policy_consume(int keep, struct policy_msg *m, struct policy_edits *e)
{
	if (keep)
		return;
	if ((e->del_rcpt = calloc(m->n_rcpt, sizeof(size_t))) != NULL)
		for (size_t i = 0; i < m->n_rcpt; i++)
			if (m->rcpt[i].mailbox)
				e->del_rcpt[e->n_del_rcpt++] = i;
	if (e->del_rcpt == NULL || e->n_del_rcpt == m->n_rcpt) {
		e->n_del_rcpt = 0;
		e->verdict = POLICY_DISCARD;
	}
}

/* For the metrics: an unsubscribe from `source` recorded, its synced
 * commit begun at *t0. */
void policy_recorded(struct policy_edits *e, enum store_source source,
    const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	e->recorded = source;
	e->commit_ns = (uint64_t)(t1.tv_sec - t0->tv_sec) * 1000000000u +
	    (uint64_t)t1.tv_nsec - (uint64_t)t0->tv_nsec;
}

/* The inbound role: find, verify and record the unsubscribe. */
static void inbound(const struct config *cfg, const struct keyring *kr,
    struct store *st, struct policy_msg *m, struct policy_edits *e)
{
	struct find f = { .kr = kr, .worst = 0 };
	struct store_event ev;
	struct timespec t0;
	int rc, changed = 0, found;

	found = find_by_ref(kr, st, m, &f, &rc);
	if (rc != STORE_OK) {
		policy_store_failed(e, "inbound", rc, 1);
		return;
	}
	if (found) {
		/* The reference names the recipient, but its stored token is
		 * the first one minted for them: campaign and profile come
		 * from the reply's own copy of this mailing's token, or not
		 * at all. */
		struct token_claims by_ref = f.c;
		f.like = &by_ref;
		if (mailparse_candidates(m->mp, try_candidate, &f) <= 0) {
			f.c = by_ref;
			f.c.campaign[0] = f.c.profile[0] = '\0';
		}
	} else
		found = mailparse_candidates(m->mp, try_candidate, &f) > 0;
	if (!found) {
		snprintf(e->log, sizeof(e->log), "inbound: no valid token%s; "
		    "%s", f.worst == TOKEN_EAUTH ? " (forged or altered token "
		    "seen, nothing recorded)" : f.worst == TOKEN_EKEY ?
		    " (token from an unknown key, nothing recorded)" : "",
		    cfg->pass_untokened ? "passed on for a human" : "rejected");
		e->warn = e->token_refused = f.worst != 0; /* a forgery or a
							     * lost key */
		if (!cfg->pass_untokened)
			policy_reply(e, POLICY_REJECT, "550", "5.7.1",
			    "no valid unsubscribe token found in this message");
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.action = STORE_UNSUBSCRIBE;
	ev.source = STORE_SRC_MAILTO;
	strcpy(ev.address, f.c.address);
	strcpy(ev.scope, f.c.scope_all ? STORE_SCOPE_ALL : f.c.list);
	store_detail_add(ev.detail, "campaign", f.c.campaign);
	store_detail_add(ev.detail, "profile", f.c.profile);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((rc = store_record(st, &ev, &changed)) != STORE_OK) {
		policy_store_failed(e, "inbound", rc, 1);
		return;
	}
	policy_recorded(e, ev.source, &t0);
	snprintf(e->log, sizeof(e->log), "inbound: unsubscribe recorded "
	    "address=%s scope=%s source=mailto%s; message %s", ev.address,
	    ev.scope, changed ? "" : " (repeat)",
	    cfg->keep_consumed ? "kept for audit" : "discarded");
	policy_consume(cfg->keep_consumed, m, e);
}

void policy_decide(const struct config *cfg, const struct keyring *kr,
    struct store *st, struct policy_msg *m, struct policy_edits *e)
{
	memset(e, 0, sizeof(*e));
	e->verdict = POLICY_ACCEPT;
	if (m->mp != NULL && m->report) {
		e->role = POLICY_ROLE_REPORT;
		policy_report(cfg, kr, st, m, e);
	} else if (m->mp != NULL) {
		e->role = POLICY_ROLE_INBOUND;
		inbound(cfg, kr, st, m, e);
	} else if (m->trusted && m->n_list > 0) {
		e->role = POLICY_ROLE_OUTBOUND;
		outbound(cfg, kr, st, m, e);
	}
}

void policy_edits_free(struct policy_edits *e)
{
	free(e->del_rcpt);
	e->del_rcpt = NULL;
	e->n_del_rcpt = 0;
}
