/* callbacks.c - thin libmilter callbacks: each moves its arguments into the
 * connection context and calls one policy function. */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "milter.h"
#include "policy.h"

struct conn {
	unsigned long steps;	/* negotiated protocol flags */
	int failed;		/* a step could not be recorded: tempfail at
				 * end of message (no-reply steps cannot) */
	struct snap *snap;
	int internal;		/* client in InternalHosts */
	struct policy_msg msg;
};

#define CONN(ctx) ((struct conn *)smfi_getpriv(ctx))

/* The context of a connection past connect, or NULL. */
static struct conn *live(SMFICTX *ctx)
{
	struct conn *c = CONN(ctx);

	return c != NULL && c->snap != NULL ? c : NULL;
}

/* Ask only for the steps and replies we use (round trips cost). */
static sfsistat cb_negotiate(SMFICTX *ctx, unsigned long f0,
    unsigned long f1, unsigned long f2, unsigned long f3,
    unsigned long *pf0, unsigned long *pf1, unsigned long *pf2,
    unsigned long *pf3)
{
	unsigned long want = SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NODATA |
	    SMFIP_NOEOH | SMFIP_SKIP | SMFIP_NR_CONN | SMFIP_NR_MAIL |
	    SMFIP_NR_RCPT | SMFIP_NR_HDR | SMFIP_NR_BODY;
	unsigned long acts = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_DELRCPT;

	struct conn *c;

	(void)f2; (void)f3;
	if ((f0 & acts) != acts)
		return SMFIS_REJECT;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return SMFIS_TEMPFAIL;
	*pf0 = acts;
	*pf1 = c->steps = f1 & want;
	*pf2 = *pf3 = 0;
	smfi_setpriv(ctx, c);
	return SMFIS_CONTINUE;
}

/* NOREPLY where the MTA agreed to skip the reply for this step. */
static sfsistat no_reply(SMFICTX *ctx, unsigned long flag)
{
	struct conn *c = CONN(ctx);

	return c != NULL && (c->steps & flag) ? SMFIS_NOREPLY :
	    SMFIS_CONTINUE;
}

static sfsistat cb_connect(SMFICTX *ctx, char *host, struct sockaddr *sa)
{
	struct conn *c = CONN(ctx);

	(void)host;
	if (c == NULL && (c = calloc(1, sizeof(*c))) == NULL) {
		log_err("connect: out of memory");
		return no_reply(ctx, SMFIP_NR_CONN);	/* eom tempfails */
	}
	c->snap = snap_get();
	c->internal = config_internal(&c->snap->cfg, sa);
	smfi_setpriv(ctx, c);
	return no_reply(ctx, SMFIP_NR_CONN);
}

static sfsistat cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = live(ctx);

	(void)argv;
	if (c == NULL)
		return no_reply(ctx, SMFIP_NR_MAIL);	/* eom tempfails */
	policy_msg_reset(&c->msg);
	c->msg.trusted = c->internal ||
	    smfi_getsymval(ctx, "{auth_authen}") != NULL;
	return no_reply(ctx, SMFIP_NR_MAIL);
}

static sfsistat cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct conn *c = live(ctx);

	if (c != NULL && policy_rcpt(&c->snap->cfg, &c->msg, argv[0]) < 0)
		c->failed = 1;
	return no_reply(ctx, SMFIP_NR_RCPT);
}

static sfsistat cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn *c = live(ctx);

	if (c != NULL)
		policy_header(&c->snap->cfg, &c->msg, name, value);
	return no_reply(ctx, SMFIP_NR_HDR);
}

/* Body chunks cost no round trip (NR_BODY): a 4 KiB message is cheaper
 * streamed than answered with SKIP.  Only the inbound role reads them. */
static sfsistat cb_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct conn *c = live(ctx);
	int rc = c != NULL ? policy_body(&c->msg, chunk, len) : 0;

	if (rc < 0)
		c->failed = 1;
	if (c == NULL || c->steps & SMFIP_NR_BODY)
		return no_reply(ctx, SMFIP_NR_BODY);
	return rc != 0 ? SMFIS_CONTINUE : SMFIS_SKIP;
}

/* Apply the decided edits through libmilter; returns the verdict. */
static sfsistat apply(SMFICTX *ctx, struct conn *c, struct policy_edits *e)
{
	for (size_t i = 0; i < e->n_del_hdr; i++)
		for (int n = e->del_count[i]; n >= 1; n--)
			if (smfi_chgheader(ctx, (char *)e->del_hdr[i], n,
			    NULL) != MI_SUCCESS)
				return SMFIS_TEMPFAIL;
	for (size_t i = 0; i < e->n_del_rcpt; i++)
		if (smfi_delrcpt(ctx, c->msg.rcpt[e->del_rcpt[i]].raw) !=
		    MI_SUCCESS)
			return SMFIS_TEMPFAIL;
	if ((e->lu[0] && smfi_addheader(ctx, HEADER_LU, e->lu) != MI_SUCCESS) ||
	    (e->add_lup && smfi_addheader(ctx, HEADER_LUP, HEADER_LUP_VALUE) !=
	    MI_SUCCESS) ||
	    (e->tag[0] && smfi_addheader(ctx, "X-Unsub-Suppressed", e->tag) !=
	    MI_SUCCESS) ||
	    (e->fbid[0] && smfi_addheader(ctx, HEADER_FB, e->fbid) !=
	    MI_SUCCESS))
		return SMFIS_TEMPFAIL;
	switch (e->verdict) {
	case POLICY_REJECT:
	case POLICY_TEMPFAIL:
		smfi_setreply(ctx, e->rcode, e->xcode, e->reply);
		return e->verdict == POLICY_REJECT ? SMFIS_REJECT :
		    SMFIS_TEMPFAIL;
	case POLICY_DISCARD:
		return SMFIS_DISCARD;
	case POLICY_ACCEPT:
		break;
	}
	return SMFIS_ACCEPT;
}

static sfsistat cb_eom(SMFICTX *ctx)
{
	struct conn *c = live(ctx);
	struct policy_edits e;
	const char *qid;
	sfsistat rc;

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	qid = smfi_getsymval(ctx, "i");
	if (c->failed) {
		log_err("%s: out of memory; tempfail",
		    qid ? qid : "NOQUEUE");
		c->failed = 0;
		policy_msg_reset(&c->msg);
		return SMFIS_TEMPFAIL;
	}
	policy_decide(&c->snap->cfg, c->snap->kr, milter_store(), &c->msg, &e);
	rc = apply(ctx, c, &e);
	if (rc == SMFIS_TEMPFAIL && e.verdict != POLICY_TEMPFAIL)
		log_err("%s: MTA refused a message edit; tempfail",
		    qid ? qid : "NOQUEUE");
	if (e.log[0] != '\0') {
		if (e.verdict == POLICY_TEMPFAIL || e.warn)
			log_warn("%s: %s", qid ? qid : "NOQUEUE", e.log);
		else
			log_info("%s: %s", qid ? qid : "NOQUEUE", e.log);
	}
	policy_edits_free(&e);
	policy_msg_reset(&c->msg);
	return rc;
}

static sfsistat cb_abort(SMFICTX *ctx)
{
	struct conn *c = live(ctx);

	if (c != NULL) {
		c->failed = 0;
		policy_msg_reset(&c->msg);
	}
	return SMFIS_CONTINUE;
}

/* May be the only callback for a connection, with no private data. */
static sfsistat cb_close(SMFICTX *ctx)
{
	struct conn *c = CONN(ctx);

	if (c != NULL) {
		policy_msg_reset(&c->msg);
		if (c->snap != NULL)
			snap_put(c->snap);
		free(c);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

struct smfiDesc milter_desc = {
	.xxfi_name = "unsub-milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_DELRCPT,
	.xxfi_connect = cb_connect,
	.xxfi_envfrom = cb_envfrom,
	.xxfi_envrcpt = cb_envrcpt,
	.xxfi_header = cb_header,
	.xxfi_body = cb_body,
	.xxfi_eom = cb_eom,
	.xxfi_abort = cb_abort,
	.xxfi_close = cb_close,
	.xxfi_negotiate = cb_negotiate,
};
