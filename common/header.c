/* header.c - format List-Unsubscribe (RFC 2369) for one recipient, and
 * Feedback-ID.  Built with memcpy, not snprintf: it runs for every bulk
 * message. */
#include <string.h>

#include "header.h"

/* Octets of a line's text before the value: "List-Unsubscribe: ". */
#define NAME_LEN (sizeof(HEADER_LU ": ") - 1)

/* An output buffer that remembers running out of room. */
struct out {
	char *p, *end;		/* end: one past the last byte for text */
	int full;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->full || n > (size_t)(o->end - o->p)) {
		o->full = 1;
		return;
	}
	memcpy(o->p, s, n);
	o->p += n;
}

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* Length of the line a fold leaves us on: what follows its last newline,
 * or (no newline) the whole fold plus `before`. */
static size_t lead_after(const char *fold, size_t before)
{
	const char *nl = strrchr(fold, '\n');

	return nl != NULL ? strlen(nl + 1) : before + strlen(fold);
}

int header_list_unsubscribe(char *out, size_t outsz, const char *fold,
    const char *url_base, const char *url_token, const char *mailto,
    const char *mail_token)
{
	int has_mailto = strchr(mailto, '@') != NULL;
	struct out o = { out, out + (outsz ? outsz - 1 : 0), outsz == 0 };
	size_t url_len = 0, lead, base, tok = strlen(mail_token);
	int level;

	if (url_base[0] == '\0' && !has_mailto)
		return -1;
	if (url_base[0] != '\0') {
		put(&o, "<", 1);
		put_str(&o, url_base);
		put_str(&o, url_token);
		put(&o, ">", 1);
		url_len = (size_t)(o.p - out);
		if (NAME_LEN + url_len + 1 > HEADER_LINE_MAX)
			return -1;
	}
	if (has_mailto) {
		/* The reference rides in the local part (ref.c), which
		 * every client keeps; the full token also goes in subject
		 * and body for those that keep them, as far as the line
		 * limit allows (a long address and ids leave out the body,
		 * then the subject's copy: the reference still names the
		 * recipient).  See unsub-milter(8), "Token placement". */
		lead = url_len ? lead_after(fold, NAME_LEN + url_len + 1) :
		    NAME_LEN;
		base = sizeof("<mailto:?subject=unsubscribe>") - 1 +
		    strlen(mailto);
		if (lead + base + 3 + tok + 6 + tok <= HEADER_LINE_MAX)
			level = 2;
		else if (lead + base + 3 + tok <= HEADER_LINE_MAX)
			level = 1;
		else if (lead + base <= HEADER_LINE_MAX)
			level = 0;
		else
			return -1;
		if (url_len) {
			put(&o, ",", 1);
			put_str(&o, fold);
		}
		put_str(&o, "<mailto:");
		put_str(&o, mailto);
		put_str(&o, "?subject=unsubscribe");
		if (level >= 1) {
			put_str(&o, "%20");
			put(&o, mail_token, tok);
		}
		if (level == 2) {
			put_str(&o, "&body=");
			put(&o, mail_token, tok);
		}
		put(&o, ">", 1);
	}
	if (o.full)
		return -1;
	*o.p = '\0';
	return (int)(o.p - out);
}

int header_feedback_id(char *out, size_t outsz, const char *tmpl,
    const char *list, const char *campaign, const char *profile)
{
	size_t o = 0;

	for (const char *p = tmpl; *p != '\0'; p++) {
		const char *s = p;
		size_t n = 1;
		if (*p == '%') {
			switch (*++p) {
			case 'l': s = list; break;
			case 'c': s = campaign; break;
			case 'p': s = profile; break;
			case '%': s = p; break;
			default: return -1;
			}
			n = *p == '%' ? 1 : strlen(s);
		}
		if (o + n >= outsz)
			return -1;
		memcpy(out + o, s, n);
		o += n;
	}
	if (outsz == 0)
		return -1;
	out[o] = '\0';
	return (int)o;
}
