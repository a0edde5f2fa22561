/* mailparse.c - find unsubscribe token candidates in a reply: the Subject
 * (RFC 2047) and the MIME body (quoted-printable, base64, multipart, HTML),
 * undoing line wrapping and reply quoting.  Bounded: at most max_body bytes
 * of body, MAILPARSE_HDR_MAX of Subject, MAILPARSE_WORK_MAX bytes of
 * candidates and MAILPARSE_TIME_MAX seconds per message, DEPTH_MAX levels
 * of multipart.  Not by a count of candidates: forged token-like lines
 * would use it up before the real token (each line yields its joins). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "codec.h"
#include "mailparse.h"
#include "token.h"

#define MAILPARSE_HDR_MAX 8192
#define CAND_MIN 40
#define SEEN_MAX 64	/* recent candidates not tried again */
#define JOIN_LINES 16	/* lines one wrapped token may span */
#define DEPTH_MAX 8

struct mailparse {
	size_t max_body;
	struct buf body;
	char subject[MAILPARSE_HDR_MAX];
	char ctype[1024];	/* top-level Content-Type */
	char cte[64];		/* top-level Content-Transfer-Encoding */
};

/* The candidates recently yielded, the work left, and where they go. */
struct emit {
	mailparse_fn fn;
	mailparse_part_fn part_fn;	/* set: leaf parts go here instead */
	void *arg;
	char *seen[SEEN_MAX];	/* a ring: seen[n_seen % SEEN_MAX] next */
	size_t seen_len[SEEN_MAX];
	size_t n_seen;
	size_t work;		/* candidate bytes yielded */
	struct timespec deadline;
	int stop;
};

static int tok_char(int c)
{
	return isalnum(c) || c == '-' || c == '_';
}

struct mailparse *mailparse_new(size_t max_body)
{
	struct mailparse *mp = calloc(1, sizeof(*mp));

	if (mp == NULL)
		return NULL;
	mp->max_body = max_body;
	return mp;
}

void mailparse_free(struct mailparse *mp)
{
	if (mp == NULL)
		return;
	buf_free(&mp->body);
	free(mp);
}

/* Copy a header value unfolded (CR and LF dropped), truncated to fit. */
static void copy_unfolded(char *dst, size_t dstsz, const char *v)
{
	size_t o = 0;

	while (*v == ' ' || *v == '\t')
		v++;
	for (; *v != '\0' && o + 1 < dstsz; v++)
		if (*v != '\r' && *v != '\n')
			dst[o++] = *v;
	dst[o] = '\0';
}

int mailparse_header(struct mailparse *mp, const char *name,
    const char *value)
{
	if (strcasecmp(name, "Subject") == 0 && mp->subject[0] == '\0')
		copy_unfolded(mp->subject, sizeof(mp->subject), value);
	else if (strcasecmp(name, "Content-Type") == 0)
		copy_unfolded(mp->ctype, sizeof(mp->ctype), value);
	else if (strcasecmp(name, "Content-Transfer-Encoding") == 0)
		copy_unfolded(mp->cte, sizeof(mp->cte), value);
	return MAILPARSE_OK;
}

int mailparse_body(struct mailparse *mp, const uint8_t *data, size_t len)
{
	if (len > mp->max_body - mp->body.len)
		len = mp->max_body - mp->body.len;
	if (len == 0)
		return MAILPARSE_OK;
	return buf_add(&mp->body, data, len) == 0 ? MAILPARSE_OK :
	    MAILPARSE_ENOMEM;
}

/* 1 when the work budget (bytes or time) is spent. */
static int spent(const struct emit *e)
{
	struct timespec now;

	if (e->work >= MAILPARSE_WORK_MAX)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > e->deadline.tv_sec || (now.tv_sec ==
	    e->deadline.tv_sec && now.tv_nsec >= e->deadline.tv_nsec);
}

/* Yield one candidate unless among the recent ones; sets e->stop when fn
 * says so. */
static void emit(struct emit *e, const char *s, size_t len)
{
	size_t n = e->n_seen < SEEN_MAX ? e->n_seen : SEEN_MAX;
	size_t slot = e->n_seen % SEEN_MAX;
	int rc;

	if (e->stop || len < CAND_MIN || len >= TOKEN_TEXT_MAX || spent(e))
		return;
	for (size_t i = 0; i < n; i++)
		if (e->seen_len[i] == len && memcmp(e->seen[i], s, len) == 0)
			return;
	free(e->seen[slot]);
	if ((e->seen[slot] = strndup(s, len)) == NULL)
		return;
	e->seen_len[slot] = len;
	e->n_seen++;
	e->work += len;
	if ((rc = e->fn(s, len, e->arg)) != 0)
		e->stop = rc;
}

/* Start a search: candidates to fn (or leaf parts to part_fn) within the
 * work budget from now. */
static void emit_init(struct emit *e, mailparse_fn fn,
    mailparse_part_fn part_fn, void *arg)
{
	memset(e, 0, sizeof(*e));
	e->fn = fn;
	e->part_fn = part_fn;
	e->arg = arg;
	clock_gettime(CLOCK_MONOTONIC, &e->deadline);
	e->deadline.tv_sec += MAILPARSE_TIME_MAX;
}

/* Forget the candidates seen; returns what fn last said. */
static int emit_done(struct emit *e)
{
	for (size_t i = 0; i < SEEN_MAX; i++)
		free(e->seen[i]);
	return e->stop;
}

/* Skip a reply quote prefix (">", "> >", ...) at the start of a line. */
static size_t quote_prefix(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && (s[i] == '>' || s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/* From a run that ends the line at `eol`, join the runs that start the
 * following lines, yielding the join at each line break. */
static void join_lines(struct emit *e, struct buf *joined, const char *t,
    size_t len, const char *run, size_t runlen, size_t eol)
{
	size_t n = eol;

	joined->len = 0;
	buf_add(joined, run, runlen);
	for (int lines = 0; lines < JOIN_LINES && n < len &&
	    joined->len < TOKEN_TEXT_MAX; lines++) {
		size_t s = n + 1, ne = s, te, r;
		while (ne < len && t[ne] != '\n')
			ne++;
		te = ne;
		while (te > s && isspace((unsigned char)t[te - 1]))
			te--;
		s += quote_prefix(t + s, te - s);
		for (r = s; r < te && tok_char((unsigned char)t[r]); r++)
			;
		if (r == s)
			break;
		buf_add(joined, t + s, r - s);
		if (joined->p != NULL)
			emit(e, joined->p, joined->len);
		if (r < te)
			break;
		n = ne;
	}
}

/* Yield every run of token characters in text, and runs joined across
 * line breaks where a run ends a line and the next line starts with one:
 * the join at each break (a wrapped token may be followed by a line that
 * starts with letters, "Sent from my iPhone"), over at most JOIN_LINES
 * lines, so hostile text of short lines costs linear time. */
static void scan_text(struct emit *e, const char *t, size_t len)
{
	struct buf joined = BUF_INIT;
	size_t i = 0;

	while (i < len && !e->stop && !spent(e)) {
		size_t eol = i, end, j;
		while (eol < len && t[eol] != '\n')
			eol++;
		end = eol;
		while (end > i && isspace((unsigned char)t[end - 1]))
			end--;
		for (j = i + quote_prefix(t + i, end - i); j < end; ) {
			size_t k = j;
			while (k < end && tok_char((unsigned char)t[k]))
				k++;
			emit(e, t + j, k - j);
			if (k == end && k > j)
				join_lines(e, &joined, t, len, t + j, k - j, eol);
			j = k + 1;
		}
		i = eol + 1;
	}
	buf_free(&joined);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

size_t mailparse_pct_decode(const char *in, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (in[i] != '%') {
			out[o++] = in[i];
			continue;
		}
		if (i + 2 >= n)
			return 0;
		hi = hexval((unsigned char)in[i + 1]);
		lo = hexval((unsigned char)in[i + 2]);
		if (hi < 0 || lo < 0 || hi + lo == 0)
			return 0;
		out[o++] = (char)(hi * 16 + lo);
		i += 2;
	}
	out[o] = '\0';
	return o;
}

/* Quoted-printable: soft breaks removed, =XX decoded.  With `q`, RFC 2047
 * Q encoding (underscore is a space). */
static void qp_decode(struct buf *out, const char *s, size_t len, int q)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '=' && i + 1 < len && s[i + 1] == '\n') {
			i++;
		} else if (c == '=' && i + 2 < len && s[i + 1] == '\r' &&
		    s[i + 2] == '\n') {
			i += 2;
		} else if (c == '=' && i + 2 < len && hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0) {
			c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			buf_add(out, &c, 1);
			i += 2;
		} else {
			if (q && c == '_')
				c = ' ';
			buf_add(out, &c, 1);
		}
	}
}

/* Base64: white space and stray characters ignored, padding optional. */
static void b64_decode(struct buf *out, const char *s, size_t len)
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned long acc = 0;
	int bits = 0;

	for (size_t i = 0; i < len && s[i] != '='; i++) {
		const char *p = s[i] ? strchr(abc, s[i]) : NULL;
		if (p == NULL)
			continue;
		acc = (acc << 6) | (unsigned long)(p - abc);
		bits += 6;
		if (bits >= 8) {
			char c = (char)(acc >> (bits - 8));
			bits -= 8;
			buf_add(out, &c, 1);
		}
	}
}

/* HTML to text: tags become spaces except <wbr>, entities are decoded. */
static void html_text(struct buf *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '<') {
			size_t e = i;
			while (e < len && s[e] != '>')
				e++;
			if (!(e - i == 4 && strncasecmp(s + i, "<wbr", 4) == 0) &&
			    !(e - i == 5 && strncasecmp(s + i, "<wbr/", 5) == 0))
				buf_add(out, " ", 1);
			i = e;
		} else if (s[i] == '&') {
			size_t e = i + 1;
			long v = -1;
			while (e < len && e - i < 10 && s[e] != ';')
				e++;
			if (e < len && s[e] == ';' && i + 2 < e && s[i + 1] == '#')
				v = s[i + 2] == 'x' || s[i + 2] == 'X' ?
				    strtol(s + i + 3, NULL, 16) :
				    strtol(s + i + 2, NULL, 10);
			else if (e < len && e - i == 4 &&
			    strncmp(s + i, "&amp", 4) == 0)
				v = '&';
			if (v > 0 && v < 128 && e < len && s[e] == ';') {
				char c = (char)v;
				buf_add(out, &c, 1);
				i = e;
			} else {
				buf_add(out, " ", 1);
				if (e < len && s[e] == ';')
					i = e;
			}
		} else {
			buf_add(out, s + i, 1);
		}
	}
}

/* Find parameter `name` in a header value (case-insensitive, quoted or
 * not) and copy it to out; 0 if found. */
static int param(const char *v, const char *name, char *out, size_t outsz)
{
	size_t nl = strlen(name);

	for (const char *p = v; (p = strchr(p, ';')) != NULL; ) {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, name, nl) != 0 || p[nl] != '=')
			continue;
		p += nl + 1;
		size_t o = 0;
		char end = *p == '"' ? '"' : ';';
		if (*p == '"')
			p++;
		while (*p && *p != end && o + 1 < outsz &&
		    (end == '"' || !isspace((unsigned char)*p)))
			out[o++] = *p++;
		out[o] = '\0';
		return o > 0 ? 0 : -1;
	}
	return -1;
}

static void part(struct emit *e, const char *ctype, const char *cte,
    const char *data, size_t len, int depth);

/* Keep a part header line if it is Content-Type or -Transfer-Encoding. */
static void header_line(const char *line, char *ct, size_t ctsz, char *cte,
    size_t ctesz)
{
	if (strncasecmp(line, "Content-Type:", 13) == 0)
		copy_unfolded(ct, ctsz, line + 13);
	else if (strncasecmp(line, "Content-Transfer-Encoding:", 26) == 0)
		copy_unfolded(cte, ctesz, line + 26);
}

/* Split a multipart body on its boundary and scan each part. */
static void multipart(struct emit *e, const char *ctype, const char *data,
    size_t len, int depth)
{
	char bnd[128], delim[132];
	size_t dl, i = 0, start = 0;
	int in_part = 0;

	if (param(ctype, "boundary", bnd, sizeof(bnd)) < 0) {
		part(e, "text/plain", "", data, len, depth);
		return;
	}
	dl = (size_t)snprintf(delim, sizeof(delim), "--%s", bnd);
	while (i <= len && !e->stop) {
		size_t eol = i;
		while (eol < len && data[eol] != '\n')
			eol++;
		if (eol - i >= dl && memcmp(data + i, delim, dl) == 0) {
			if (in_part)
				part(e, NULL, NULL, data + start,
				    i > start ? i - start : 0, depth);
			if (eol - i >= dl + 2 && data[i + dl] == '-' &&
			    data[i + dl + 1] == '-')
				return;
			in_part = 1;
			start = eol + 1;
		}
		i = eol + 1;
	}
	if (in_part && start < len)
		part(e, NULL, NULL, data + start, len - start, depth);
}

/* One MIME part: headers (when ctype is NULL), then its decoded text. */
static void part(struct emit *e, const char *ctype, const char *cte,
    const char *data, size_t len, int depth)
{
	char pct[1024] = "text/plain", pcte[64] = "";
	struct buf text = BUF_INIT, dec = BUF_INIT;
	size_t i = 0;

	if (depth > DEPTH_MAX || e->stop)
		return;
	if (ctype == NULL) {	/* part headers up to the blank line */
		char line[1024] = "";
		while (i < len && data[i] != '\n' && data[i] != '\r') {
			size_t eol = i, o;
			while (eol < len && data[eol] != '\n')
				eol++;
			if (data[i] != ' ' && data[i] != '\t') {
				header_line(line, pct, sizeof(pct), pcte,
				    sizeof(pcte));
				line[0] = '\0';
			}
			o = strlen(line);	/* unfold continuation lines */
			snprintf(line + o, sizeof(line) - o, "%.*s",
			    (int)(eol - i), data + i);
			line[strcspn(line, "\r")] = '\0';
			i = eol + 1;
		}
		header_line(line, pct, sizeof(pct), pcte, sizeof(pcte));
		if (i > len)
			i = len;
		if (i < len && data[i] == '\r')	/* the blank line */
			i++;
		if (i < len && data[i] == '\n')
			i++;
		ctype = pct;
		cte = pcte;
	}
	if (strncasecmp(ctype, "multipart/", 10) == 0) {
		multipart(e, ctype, data + i, len - i, depth + 1);
		return;
	}
	if (e->part_fn == NULL && ctype[0] != '\0' &&
	    strncasecmp(ctype, "text/", 5) != 0)
		return;
	if (strncasecmp(cte, "quoted-printable", 16) == 0)
		qp_decode(&dec, data + i, len - i, 0);
	else if (strncasecmp(cte, "base64", 6) == 0)
		b64_decode(&dec, data + i, len - i);
	else
		buf_add(&dec, data + i, len - i);
	if (e->part_fn != NULL)
		e->stop = e->part_fn(ctype, dec.p ? dec.p : "", dec.len, e->arg);
	else if (dec.p != NULL && strncasecmp(ctype, "text/html", 9) == 0) {
		html_text(&text, dec.p, dec.len);
		if (text.p != NULL)
			scan_text(e, text.p, text.len);
	} else if (dec.p != NULL) {
		scan_text(e, dec.p, dec.len);
	}
	buf_free(&text);
	buf_free(&dec);
}

/* Decode RFC 2047 encoded words; white space between two is dropped. */
static void rfc2047(struct buf *out, const char *s)
{
	const char *p = s, *last_end = NULL;

	while (*p != '\0') {
		const char *q1, *q2, *end;
		if (p[0] == '=' && p[1] == '?' &&
		    (q1 = strchr(p + 2, '?')) != NULL && q1[1] != '\0' &&
		    q1[2] == '?' && (end = strstr(q1 + 3, "?=")) != NULL) {
			q2 = q1 + 3;
			if (last_end != NULL) {
				/* drop the white space between encoded words */
				while (out->len > 0 && isspace((unsigned char)
				    out->p[out->len - 1]))
					out->len--;
			}
			if (q1[1] == 'B' || q1[1] == 'b')
				b64_decode(out, q2, (size_t)(end - q2));
			else
				qp_decode(out, q2, (size_t)(end - q2), 1);
			p = last_end = end + 2;
			continue;
		}
		if (!isspace((unsigned char)*p))
			last_end = NULL;
		buf_add(out, p++, 1);
	}
}

int mailparse_candidates(struct mailparse *mp, mailparse_fn fn, void *arg)
{
	struct emit e;
	struct buf subj = BUF_INIT;

	emit_init(&e, fn, NULL, arg);
	rfc2047(&subj, mp->subject);
	if (subj.p != NULL)
		scan_text(&e, subj.p, subj.len);
	if (!e.stop && mp->body.len > 0)
		part(&e, mp->ctype[0] ? mp->ctype : "text/plain", mp->cte,
		    mp->body.p, mp->body.len, 0);
	buf_free(&subj);
	return emit_done(&e);
}

int mailparse_text(const char *text, size_t len, mailparse_fn fn, void *arg)
{
	struct emit e;

	emit_init(&e, fn, NULL, arg);
	scan_text(&e, text, len);
	return emit_done(&e);
}

int mailparse_parts(struct mailparse *mp, mailparse_part_fn fn, void *arg)
{
	struct emit e;

	emit_init(&e, NULL, fn, arg);
	if (mp->body.len > 0)
		part(&e, mp->ctype[0] ? mp->ctype : "text/plain", mp->cte,
		    mp->body.p, mp->body.len, 0);
	return emit_done(&e);
}
