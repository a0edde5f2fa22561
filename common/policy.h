/* policy.h - what the milter does with one message: the outbound rules
 * (headers, suppression) and the inbound roles (consume unsubscribes;
 * record bounces and complaints).
 * Knows nothing of libmilter: it fills a list of edits the caller applies. */
#ifndef UNSUB_POLICY_H
#define UNSUB_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "header.h"
#include "keyring.h"
#include "mailparse.h"
#include "ref.h"
#include "store.h"
#include "token.h"

#define POLICY_RCPT_MAX 1000	/* recipients kept; Postfix's SMTP default */

struct policy_recipient {
	char *raw;			/* as given in RCPT TO, with <> */
	char norm[ADDRESS_MAX + 1];	/* "" if not a valid address */
	int mailbox;			/* 1: the mailbox, 2: with reference,
					 * 3: a Bounce- or ComplaintMailbox */
};

/* One message as the callbacks saw it. */
struct policy_msg {
	int trusted;			/* SMTP AUTH or InternalHosts */
	struct policy_recipient *rcpt;
	size_t n_rcpt, cap_rcpt;
	size_t n_over;			/* past POLICY_RCPT_MAX: counted only */
	uint8_t ref[REF_LEN];		/* from a mailbox+REF recipient */
	int has_ref;
	char list[TOKEN_FIELD_MAX + 2];	/* one extra: too long is seen */
	char profile[TOKEN_FIELD_MAX + 2];
	char campaign[TOKEN_FIELD_MAX + 2];
	int n_list, n_profile, n_campaign, n_lu, n_lup, n_fbid;	/* seen */
	int report;			/* to a Bounce- or ComplaintMailbox */
	struct mailparse *mp;		/* inbound only */
};

enum policy_verdict { POLICY_ACCEPT, POLICY_REJECT, POLICY_TEMPFAIL,
	POLICY_DISCARD };

/* What the MTA should do; applied by the milter front end. */
struct policy_edits {
	enum policy_verdict verdict;
	char rcode[4], xcode[8], reply[256];	/* for REJECT/TEMPFAIL */
	const char *del_hdr[5];			/* delete every occurrence */
	int del_count[5];
	size_t n_del_hdr;
	size_t *del_rcpt;			/* indexes into msg->rcpt */
	size_t n_del_rcpt;
	char lu[HEADER_VALUE_MAX];		/* add List-Unsubscribe if set */
	int add_lup;				/* add List-Unsubscribe-Post */
	char fbid[HEADER_FEEDBACK_MAX];		/* add Feedback-ID if set */
	char tag[ADDRESS_MAX + 64];		/* X-Unsub-Suppressed value */
	char log[512];				/* one line saying what and why */
	int warn;		/* log at warning: the operator should act */
};

/* Reset a message for reuse (frees recipients and the parser). */
void policy_msg_reset(struct policy_msg *m);
/* Add an envelope recipient; returns 0 or -1 (out of memory).  Past
 * POLICY_RCPT_MAX recipients are only counted: mail that is not list mail
 * passes untouched at any count, list mail is refused in policy_decide. */
int policy_rcpt(const struct config *cfg, struct policy_msg *m,
    const char *raw);
/* Note one header (marker, profile, campaign, existing List-*, parser). */
void policy_header(const struct config *cfg, struct policy_msg *m,
    const char *name, const char *value);
/* Does this message need its body (the inbound role)? */
int policy_wants_body(const struct policy_msg *m);
/* Feed body bytes to the inbound role: 1 when more are wanted, 0 when the
 * body is not needed (skip it), -1 out of memory (tempfail at the end). */
int policy_body(struct policy_msg *m, const uint8_t *chunk, size_t len);

/* Decide at end of message. `edits` is filled in; its del_rcpt array must
 * be freed with policy_edits_free. */
void policy_decide(const struct config *cfg, const struct keyring *kr,
    struct store *st, struct policy_msg *m, struct policy_edits *e);
void policy_edits_free(struct policy_edits *e);

#endif
