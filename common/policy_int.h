/* policy_int.h - what policy.c (outbound and inbound roles) shares with
 * policy_report.c (the report role), private to them.  Everything public
 * is in policy.h. */
#ifndef POLICY_INT_H
#define POLICY_INT_H

#include <time.h>

#include "policy.h"

/* Set a reply for REJECT or TEMPFAIL. */
void policy_reply(struct policy_edits *e, enum policy_verdict v,
    const char *rcode, const char *xcode, const char *text);
/* Say a store call failed; tempfail unless `tempfail` is 0. */
void policy_store_failed(struct policy_edits *e, const char *what, int rc,
    int tempfail);
/* Drop a consumed message for our mailboxes unless `keep`. */
void policy_consume(int keep, struct policy_msg *m, struct policy_edits *e);
/* For the metrics: an unsubscribe recorded, its commit begun at *t0. */
void policy_recorded(struct policy_edits *e, enum store_source source,
    const struct timespec *t0);
/* The report role (a message to a Bounce- or ComplaintMailbox). */
void policy_report(const struct config *cfg, const struct keyring *kr,
    struct store *st, struct policy_msg *m, struct policy_edits *e);

#endif
