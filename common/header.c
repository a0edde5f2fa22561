/* header.c - format List-Unsubscribe (RFC 2369) for one recipient. */
#include <stdio.h>
#include <string.h>

#include "header.h"

int header_list_unsubscribe(char *out, size_t outsz, const char *fold,
    const char *url_base, const char *url_token, const char *mailbox,
    const char *ref_text, const char *mail_token)
{
	const char *at = mailbox[0] != '\0' ? strchr(mailbox, '@') : NULL;
	int n = 0, m;

	if (url_base[0] == '\0' && at == NULL)
		return -1;
	if (url_base[0] != '\0')
		n = snprintf(out, outsz, "<%s%s>", url_base, url_token);
	if (n < 0 || (size_t)n >= outsz)
		return -1;
	if (at == NULL)
		return n;
	/* The reference rides in the local part, which every client keeps;
	 * the full token also goes in subject and body for those that keep
	 * them.  See unsub-milter(8), "Token placement". */
	m = snprintf(out + n, outsz - (size_t)n,
	    "%s<mailto:%.*s+%s%s?subject=unsubscribe%%20%s&body=%s>",
	    n > 0 ? "," : "", (int)(at - mailbox), mailbox, ref_text, at,
	    mail_token, mail_token);
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
