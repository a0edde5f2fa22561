/* report.c - delivery status notifications (RFC 3464) and abuse feedback
 * reports (RFC 5965, ARF).  mailparse walks the MIME structure; the
 * machine-readable part is read field by field; the returned original is
 * searched for our token with mailparse's candidate finder.  An address
 * in a report never names anyone: anyone can write a report, and feedback
 * loops redact the recipient anyway. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ref.h"
#include "report.h"

#define FIELD_MAX 4096	/* an unfolded field; longer ones are cut */

typedef void (*field_fn)(const char *name, const char *value, void *arg);

/* One report being read. */
struct walk {
	struct report *r;
	const struct keyring *kr;
	const char *mailbox;
	struct mailparse *sub;		/* the returned original */
	struct report_rcpt *cur;	/* the DSN block being read */
	struct report_rcpt spill;	/* where blocks past the kept go */
	int err;
};

/* Append n bytes to a field, cut at FIELD_MAX. */
static void field_add(char *f, size_t *n, const char *s, size_t len)
{
	if (len > FIELD_MAX - 1 - *n)
		len = FIELD_MAX - 1 - *n;
	memcpy(f + *n, s, len);
	*n += len;
	f[*n] = '\0';
}

/* Split "Name: value" and give it to fn; lines that are no field (inline
 * text) are skipped. */
static void field_emit(char *f, field_fn fn, void *arg)
{
	char *colon = strchr(f, ':'), *sp = strpbrk(f, " \t"), *v;

	if (colon == NULL || colon == f || (sp != NULL && sp < colon))
		return;
	*colon = '\0';
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	fn(f, v, arg);
}

/* Call fn for each "Name: value" field of t, its continuation lines
 * joined with one space; fn(NULL, NULL) at each blank line, after which
 * the walk stops when `one` is set.  Returns the offset past the last
 * line read. */
static size_t fields(const char *t, size_t len, int one, field_fn fn,
    void *arg)
{
	char f[FIELD_MAX];
	size_t i = 0, n = 0;

	while (i < len) {
		size_t eol = i, end, s = i;
		while (eol < len && t[eol] != '\n')
			eol++;
		end = eol > i && t[eol - 1] == '\r' ? eol - 1 : eol;
		i = eol + 1;
		if (end > s && (t[s] == ' ' || t[s] == '\t')) {
			while (s < end && (t[s] == ' ' || t[s] == '\t'))
				s++;
			if (n > 0)
				field_add(f, &n, " ", 1);
			field_add(f, &n, t + s, end - s);
			continue;
		}
		if (n > 0)
			field_emit(f, fn, arg);
		n = 0;
		f[0] = '\0';
		if (end == s) {
			fn(NULL, NULL, arg);
			if (one)
				return i < len ? i : len;
			continue;
		}
		field_add(f, &n, t + s, end - s);
	}
	if (n > 0)
		field_emit(f, fn, arg);
	return len;
}

/* Copy text for a log or history line: white space runs become one
 * space, control and non-ASCII bytes \xHH, the end "..." when cut. */
static void copy_text(char *dst, size_t dstsz, const char *s)
{
	size_t o = 0;

	while (isspace((unsigned char)*s))
		s++;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[5];
		size_t n;
		if (isspace(c) && (s[1] == '\0' || isspace((unsigned char)s[1])))
			continue;
		if (isspace(c))
			c = ' ';
		if (c < 0x20 || c >= 0x7f)
			n = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", c);
		else
			esc[0] = (char)c, n = 1;
		if (o + n + 4 > dstsz) {
			snprintf(dst + o, dstsz - o, "...");
			return;
		}
		memcpy(dst + o, esc, n);
		o += n;
	}
	dst[o] = '\0';
}

/* The first word of a value, lowercased; "" if it does not fit. */
static void copy_word(char *dst, size_t dstsz, const char *v)
{
	size_t n = strcspn(v, " \t;(");

	if (n >= dstsz)
		n = 0;
	for (size_t i = 0; i < n; i++)
		dst[i] = (char)tolower((unsigned char)v[i]);
	dst[n] = '\0';
}

/* The value after a "type;" prefix ("dns; mx.example", "rfc822; a@b"). */
static const char *untyped(const char *v)
{
	const char *semi = strchr(v, ';');

	if (semi == NULL)
		return v;
	for (semi++; *semi == ' ' || *semi == '\t'; semi++)
		;
	return semi;
}

/* A status code "class.subject.detail" (RFC 3463), class 2, 4 or 5. */
static int status_ok(const char *s)
{
	size_t n;

	if ((s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
		return 0;
	s += 2;
	for (int part = 0; part < 2; part++) {
		n = strspn(s, "0123456789");
		if (n == 0 || n > 3 || s[n] != (part ? '\0' : '.'))
			return 0;
		s += n + 1;
	}
	return 1;
}

/* One field of a message/delivery-status part. */
static void dsn_field(const char *name, const char *v, void *arg)
{
	struct walk *w = arg;
	struct report *r = w->r;
	struct report_rcpt *b;

	if (name == NULL) {
		w->cur = NULL;
		return;
	}
	if (strcasecmp(name, "Reporting-MTA") == 0) {
		copy_text(r->mta, sizeof(r->mta), untyped(v));
		return;
	}
	if (strcasecmp(name, "Final-Recipient") != 0 &&
	    strcasecmp(name, "Original-Recipient") != 0 &&
	    strcasecmp(name, "Action") != 0 &&
	    strcasecmp(name, "Status") != 0 &&
	    strcasecmp(name, "Diagnostic-Code") != 0)
		return;
	if (w->cur == NULL) {	/* a per-recipient block begins */
		r->n_rcpt++;
		w->cur = r->n_rcpt <= REPORT_RCPT_MAX ?
		    &r->rcpt[r->n_rcpt - 1] : &w->spill;
	}
	b = w->cur;
	if (strcasecmp(name, "Action") == 0)
		copy_word(b->action, sizeof(b->action), v);
	else if (strcasecmp(name, "Status") == 0) {
		copy_word(b->status, sizeof(b->status), v);
		if (!status_ok(b->status))
			b->status[0] = '\0';
	} else if (strcasecmp(name, "Diagnostic-Code") == 0)
		copy_text(b->diagnostic, sizeof(b->diagnostic), untyped(v));
	else if ((b->address[0] == '\0' ||	/* Original- wins: RCPT TO */
	    strcasecmp(name, "Original-Recipient") == 0) &&
	    address_normalise(untyped(v), 0, b->address,
	    sizeof(b->address)) != ADDRESS_OK)
		b->address[0] = '\0';
}

/* One field of a message/feedback-report part. */
static void arf_field(const char *name, const char *v, void *arg)
{
	struct report *r = ((struct walk *)arg)->r;

	if (name == NULL)
		return;
	if (strcasecmp(name, "Feedback-Type") == 0)
		copy_word(r->feedback, sizeof(r->feedback), v);
	else if (strcasecmp(name, "Reporting-MTA") == 0)
		copy_text(r->reporter, sizeof(r->reporter), untyped(v));
	else if (strcasecmp(name, "User-Agent") == 0 && r->reporter[0] == '\0')
		copy_text(r->reporter, sizeof(r->reporter), v);
}

/* Candidate callback: the first token of ours that opens names the
 * recipient; remember the most telling failure. */
static int try_token(const char *cand, size_t len, void *arg)
{
	struct report *r = ((struct walk *)arg)->r;
	int rc;

	if (r->found)
		return 1;
	rc = token_open_text(((struct walk *)arg)->kr, cand, len, &r->claims);
	if (rc == TOKEN_OK)
		return r->found = 1;
	if (rc == TOKEN_EAUTH || (rc == TOKEN_EKEY && r->worst != TOKEN_EAUTH))
		r->worst = rc;
	return 0;
}

/* The returned List-Unsubscribe: the mailto's reference on our mailbox,
 * then the tokens of both URIs, percent-decoded (the mailto subject is
 * "unsubscribe%20TOKEN"). */
static void list_unsubscribe(struct walk *w, const char *v)
{
	char dec[FIELD_MAX];
	size_t n = strlen(v);

	if (ref_mailto(v, w->mailbox, w->r->ref))
		w->r->has_ref = 1;
	if (n < sizeof(dec) && (n = mailparse_pct_decode(v, n, dec)) > 0)
		mailparse_text(dec, n, try_token, w);
	else
		mailparse_text(v, strlen(v), try_token, w);
}

/* A header field of the returned original. */
static void original_field(const char *name, const char *v, void *arg)
{
	struct walk *w = arg;

	if (name == NULL)
		return;
	mailparse_header(w->sub, name, v);
	if (strcasecmp(name, "List-Unsubscribe") == 0 && !w->r->found)
		list_unsubscribe(w, v);
}

/* The returned original (or its header): List-Unsubscribe, then Subject
 * and body as mailparse reads a reply. */
static void original(struct walk *w, const char *data, size_t len)
{
	size_t off;

	if (w->r->found)
		return;
	if ((w->sub = mailparse_new(len)) == NULL) {
		w->err = REPORT_ENOMEM;
		return;
	}
	off = fields(data, len, 1, original_field, w);
	if (mailparse_body(w->sub, (const uint8_t *)data + off, len - off) !=
	    MAILPARSE_OK)
		w->err = REPORT_ENOMEM;
	else if (!w->r->found)
		mailparse_candidates(w->sub, try_token, w);
	mailparse_free(w->sub);
	w->sub = NULL;
}

/* Is Content-Type value ct of type t ("message/rfc822")? */
static int is_type(const char *ct, const char *t)
{
	size_t n = strlen(t);

	return strncasecmp(ct, t, n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || isspace((unsigned char)ct[n]));
}

/* Each leaf part of the report. */
static int on_part(const char *ctype, const char *data, size_t len,
    void *arg)
{
	struct walk *w = arg;

	if (is_type(ctype, "message/delivery-status")) {
		w->r->type = REPORT_DSN;
		w->cur = NULL;
		fields(data, len, 0, dsn_field, w);
	} else if (is_type(ctype, "message/feedback-report")) {
		w->r->type = REPORT_ARF;
		fields(data, len, 0, arf_field, w);
	} else if (is_type(ctype, "message/rfc822") ||
	    is_type(ctype, "message/global") ||
	    is_type(ctype, "text/rfc822-headers")) {
		original(w, data, len);
	} else if (strncasecmp(ctype, "text/", 5) == 0 && !w->r->found) {
		mailparse_text(data, len, try_token, w);	/* inline */
	}
	return w->err;
}

int report_parse(struct mailparse *mp, const struct keyring *kr,
    const char *mailbox, struct report *r)
{
	struct walk w = { .r = r, .kr = kr, .mailbox = mailbox };

	memset(r, 0, sizeof(*r));
	mailparse_parts(mp, on_part, &w);
	if (w.err != 0)
		return w.err;
	if (r->type == REPORT_NONE)
		return REPORT_ENOTREPORT;
	if (r->found)
		report_classify(r, r->claims.address);
	return REPORT_OK;
}

/* What one DSN block says about its recipient. */
static enum report_kind block_kind(const struct report_rcpt *b)
{
	const char *s = b->status;
	int subject, detail;

	if (strcmp(b->action, "failed") != 0 || s[0] == '\0')
		return REPORT_IGNORE;
	if (s[0] == '4')
		return REPORT_SOFT;
	if (s[0] != '5')
		return REPORT_IGNORE;
	subject = atoi(s + 2);
	detail = atoi(strchr(s + 2, '.') + 1);
	switch (subject) {
	case 1:
		return REPORT_HARD;
	case 2:
		return detail == 1 ? REPORT_HARD : REPORT_SOFT;
	case 0: case 3: case 4:
		return REPORT_SOFT;
	}
	return REPORT_IGNORE;
}

enum report_kind report_classify(struct report *r, const char *address)
{
	size_t kept = r->n_rcpt < REPORT_RCPT_MAX ? r->n_rcpt :
	    REPORT_RCPT_MAX;

	r->kind = REPORT_IGNORE;
	r->block = NULL;
	if (r->type == REPORT_ARF)
		return r->kind = strcmp(r->feedback, "abuse") == 0 ?
		    REPORT_COMPLAINT : REPORT_IGNORE;
	for (size_t i = 0; i < kept && r->block == NULL; i++)
		if (r->rcpt[i].address[0] != '\0' &&
		    strcasecmp(r->rcpt[i].address, address) == 0)
			r->block = &r->rcpt[i];
	if (r->block == NULL && r->n_rcpt > 0 && r->n_rcpt <= REPORT_RCPT_MAX) {
		for (size_t i = 1; i < kept; i++)
			if (block_kind(&r->rcpt[i]) != block_kind(&r->rcpt[0]))
				return r->kind;
		r->block = &r->rcpt[0];
	}
	if (r->block != NULL)
		r->kind = block_kind(r->block);
	return r->kind;
}

void report_detail(const struct report *r, char detail[STORE_DETAIL_MAX + 1])
{
	detail[0] = '\0';
	if (r->block != NULL) {
		store_detail_add(detail, "status", r->block->status);
		store_detail_add(detail, "mta", r->mta);
	} else {
		store_detail_add(detail, "feedback", r->feedback);
		store_detail_add(detail, "reporter", r->reporter);
	}
	store_detail_add(detail, "list", r->claims.list);
	store_detail_add(detail, "campaign", r->claims.campaign);
	if (r->block != NULL)
		store_detail_add(detail, "diagnostic", r->block->diagnostic);
}

int report_mailbox(const char *list, const char *rcpt)
{
	uint8_t ref[REF_LEN];
	char one[ADDRESS_MAX + 1];

	while (*list != '\0') {
		size_t n = strcspn(list, ", \t");
		if (n > 0 && n < sizeof(one)) {
			memcpy(one, list, n);
			one[n] = '\0';
			if (ref_rcpt(rcpt, one, ref) == 1)
				return 1;
		}
		list += n;
		list += strspn(list, ", \t");
	}
	return 0;
}

const char *report_kind_name(enum report_kind k)
{
	static const char *const names[] = { "nothing", "bounce",
		"soft-bounce", "complaint" };

	return k <= REPORT_COMPLAINT ? names[k] : "?";
}
