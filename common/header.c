/* header.c - format List-Unsubscribe (RFC 2369) for one recipient. */
#include <stdio.h>
#include <string.h>

#include "header.h"

/* Octets of a line's text before the value: "List-Unsubscribe: ". */
#define NAME_LEN (sizeof(HEADER_LU ": ") - 1)

/* Length of the line a fold leaves us on: what follows its last newline,
 * or (no newline) the whole fold plus `before`. */
static size_t lead_after(const char *fold, size_t before)
{
	const char *nl = strrchr(fold, '\n');

	return nl != NULL ? strlen(nl + 1) : before + strlen(fold);
}

int header_list_unsubscribe(char *out, size_t outsz, const char *fold,
    const char *url_base, const char *url_token, const char *mailbox,
    const char *ref_text, const char *mail_token)
{
	const char *at = mailbox[0] != '\0' ? strchr(mailbox, '@') : NULL;
	size_t lead, base, tok = strlen(mail_token);
	int n = 0, m, level;

	if (url_base[0] == '\0' && at == NULL)
		return -1;
	if (url_base[0] != '\0')
		n = snprintf(out, outsz, "<%s%s>", url_base, url_token);
	if (n < 0 || (size_t)n >= outsz ||
	    NAME_LEN + (size_t)n + 1 > HEADER_LINE_MAX)
		return -1;
	if (at == NULL)
		return n;
	/* The reference rides in the local part, which every client keeps;
	 * the full token also goes in subject and body for those that keep
	 * them, as far as the line limit allows (a long address and ids
	 * leave out the body, then the subject's copy: the reference still
	 * names the recipient).  See unsub-milter(8), "Token placement". */
	lead = n > 0 ? lead_after(fold, NAME_LEN + (size_t)n + 1) : NAME_LEN;
	base = sizeof("<mailto:+?subject=unsubscribe>") - 1 + strlen(mailbox) +
	    strlen(ref_text);
	if (lead + base + 3 + tok + 6 + tok <= HEADER_LINE_MAX)
		level = 2;
	else if (lead + base + 3 + tok <= HEADER_LINE_MAX)
		level = 1;
	else if (lead + base <= HEADER_LINE_MAX)
		level = 0;
	else
		return -1;
	m = snprintf(out + n, outsz - (size_t)n,
	    "%s<mailto:%.*s+%s%s?subject=unsubscribe%s%s%s%s>",
	    n > 0 ? "," : "", (int)(at - mailbox), mailbox, ref_text, at,
	    level >= 1 ? "%20" : "", level >= 1 ? mail_token : "",
	    level == 2 ? "&body=" : "", level == 2 ? mail_token : "");
	if (m < 0 || (size_t)m >= outsz - (size_t)n)
		return -1;
	if (n > 0) {
		size_t flen = strlen(fold);
		if ((size_t)(n + m) + flen >= outsz)
			return -1;
		memmove(out + n + 1 + flen, out + n + 1, (size_t)m);
		memcpy(out + n + 1, fold, flen);
		m += (int)flen;
	}
	return n + m;
}
