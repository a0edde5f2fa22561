/* mailparse.h - find unsubscribe token candidates in a reply as real mail
 * clients send it: Subject and MIME body (the recipient's local part is
 * ref.h's). */
#ifndef UNSUB_MAILPARSE_H
#define UNSUB_MAILPARSE_H

#include <stddef.h>
#include <stdint.h>

struct mailparse;

enum {
	MAILPARSE_OK = 0,
	MAILPARSE_ENOMEM = -1,
	MAILPARSE_ENOTMAILBOX = -2,	/* rcpt is not the unsubscribe mailbox */
};

/* Copy n chars of `in` to `out` (n + 1 bytes) with %XX escapes decoded
 * (RFC 3986, as in a mailto URL: a client may write "+" as %2B); returns
 * the length, or 0 on a malformed or %00 escape. */
size_t mailparse_pct_decode(const char *in, size_t n, char *out);

/* A parser for one message; reads at most max_body body bytes. */
struct mailparse *mailparse_new(size_t max_body);
void mailparse_free(struct mailparse *mp);
/* Feed one header as the MTA passes it (value may hold folding CRLFs). */
int mailparse_header(struct mailparse *mp, const char *name,
    const char *value);
/* Feed raw body bytes (as after DATA, CRLF line ends); beyond max_body the
 * rest is ignored. */
int mailparse_body(struct mailparse *mp, const uint8_t *data, size_t len);

#define MAILPARSE_WORK_MAX (16u << 20)	/* candidate bytes per message */
#define MAILPARSE_TIME_MAX 2		/* seconds per message */

/*
 * Call fn for each candidate token text found, Subject first then body parts
 * in order, none again within 64 candidates; stop when fn returns non-zero and
 * return that value.  Candidates are decoded text (RFC 2047,
 * quoted-printable, base64, HTML) with wrapping and quote prefixes undone,
 * in the token alphabets (base32 and base64url), at least 40 characters
 * long.  The search ends after MAILPARSE_WORK_MAX bytes of candidates or
 * MAILPARSE_TIME_MAX seconds, however many candidates that is.
 */
typedef int (*mailparse_fn)(const char *cand, size_t len, void *arg);
int mailparse_candidates(struct mailparse *mp, mailparse_fn fn, void *arg);
/* The same for one decoded text (a header value, say). */
int mailparse_text(const char *text, size_t len, mailparse_fn fn, void *arg);

/*
 * Call fn for each leaf MIME part of the message, in order, multiparts
 * walked as for candidates (same bounds): its Content-Type and its content
 * with the transfer encoding undone (data need not end in NUL).  Every
 * type is given, message/rfc822 unopened.  Stops when fn returns non-zero
 * and returns that value.
 */
typedef int (*mailparse_part_fn)(const char *ctype, const char *data,
    size_t len, void *arg);
int mailparse_parts(struct mailparse *mp, mailparse_part_fn fn, void *arg);

#endif
