/* report.h - read a delivery status notification (RFC 3464) or an abuse
 * feedback report (RFC 5965) and say what it means for the recipient our
 * token in the returned original names. */
#ifndef UNSUB_REPORT_H
#define UNSUB_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "keyring.h"
#include "mailparse.h"
#include "ref.h"
#include "store.h"
#include "token.h"

#define REPORT_TEXT_MAX 128	/* a kept field, escaped and trimmed */
#define REPORT_RCPT_MAX 16	/* DSN per-recipient blocks kept */

enum report_type { REPORT_NONE, REPORT_DSN, REPORT_ARF };
enum report_kind { REPORT_IGNORE, REPORT_HARD, REPORT_SOFT,
	REPORT_COMPLAINT };

enum {
	REPORT_OK = 0,
	REPORT_ENOTREPORT = -1,	/* no delivery-status or feedback-report */
	REPORT_ENOMEM = -2,
};

/* One DSN per-recipient block. */
struct report_rcpt {
	char action[16];
	char status[16];		/* "5.1.1"; "" if absent or malformed */
	char address[ADDRESS_MAX + 1];	/* Final- or Original-Recipient,
					 * normalised; "" if none */
	char diagnostic[REPORT_TEXT_MAX];
};

struct report {
	enum report_type type;
	char mta[REPORT_TEXT_MAX];	/* DSN Reporting-MTA */
	char feedback[32];		/* ARF Feedback-Type */
	char reporter[REPORT_TEXT_MAX];	/* ARF Reporting-MTA, else User-Agent */
	struct report_rcpt rcpt[REPORT_RCPT_MAX];
	size_t n_rcpt;
	/* What names the recipient: a token that opened, or a mailto
	 * reference for the caller to look up. */
	int found;
	struct token_claims claims;
	int worst;			/* TOKEN_EAUTH or TOKEN_EKEY seen */
	int has_ref;
	uint8_t ref[REF_LEN];
	/* Set by report_classify. */
	enum report_kind kind;
	const struct report_rcpt *block;	/* the DSN block it rests on */
};

/*
 * Read the report fed into `mp` (headers and body, as for a reply).  The
 * recipient is named only by a token of `kr` in the returned original
 * (message/rfc822, message/global, text/rfc822-headers, or inline text):
 * in its List-Unsubscribe (the https URI, the mailto's subject and body,
 * or its reference on `mailbox`), Subject or body.  Addresses in the
 * report are kept to pick the DSN block, never to name anyone.  Then, if
 * a token was found, classifies (report_classify).  REPORT_OK, or
 * REPORT_ENOTREPORT for mail with neither a message/delivery-status nor a
 * message/feedback-report part.
 */
int report_parse(struct mailparse *mp, const struct keyring *kr,
    const char *mailbox, struct report *r);

/*
 * What the report means for `address` (the token's): DSN Action failed
 * with 5.1.x or 5.2.1 hard; with 4.x.x, 5.2.x, 5.3.x, 5.4.x or 5.0.0 soft;
 * 5.5.x to 5.7.x (protocol, content, policy: the message, not the
 * address), other actions and no status nothing.  ARF abuse a complaint,
 * other feedback types nothing.  Of several DSN blocks the one naming
 * `address` counts, else all must agree.  Sets r->kind and r->block.
 */
enum report_kind report_classify(struct report *r, const char *address);

/* The history detail: status, diagnostic and reporting MTA, or feedback
 * type and reporter, then the token's list and campaign. */
void report_detail(const struct report *r, char detail[STORE_DETAIL_MAX + 1]);

/* Is envelope recipient `rcpt` one of `list` (comma- or space-separated
 * addresses, as BounceMailbox)? */
int report_mailbox(const char *list, const char *rcpt);

const char *report_kind_name(enum report_kind k);

#endif
