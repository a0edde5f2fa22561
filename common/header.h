/* header.h - format the List-Unsubscribe header value. */
#ifndef UNSUB_HEADER_H
#define UNSUB_HEADER_H

#include <stddef.h>

#define HEADER_LU "List-Unsubscribe"
#define HEADER_LUP "List-Unsubscribe-Post"
#define HEADER_LUP_VALUE "List-Unsubscribe=One-Click"
#define HEADER_VALUE_MAX 2048
#define HEADER_LINE_MAX 998	/* RFC 5322 2.1.1, CRLF excluded */
#define HEADER_FB "Feedback-ID"
#define HEADER_FEEDBACK_MAX 512	/* a Feedback-ID value, NUL included */

/*
 * Write the List-Unsubscribe value: <URL_BASE URL_TOKEN> first (when
 * url_base is set), then <mailto:MAILTO?subject=...&body=...> (when mailto,
 * the mailbox with its reference from ref_address, is set), folded after
 * the comma with `fold` (e.g. "\n\t").
 * No line passes HEADER_LINE_MAX: the mailto drops its body, then its
 * subject's token, to fit.  Returns the length, or -1 if it does not fit
 * or neither URI is set.
 */
int header_list_unsubscribe(char *out, size_t outsz, const char *fold,
    const char *url_base, const char *url_token, const char *mailto,
    const char *mail_token);

/*
 * Expand a FeedbackID template: %l the list, %c the campaign, %p the
 * profile, %% a "%".  Returns the length, or -1 for another escape or a
 * value that does not fit outsz.
 */
int header_feedback_id(char *out, size_t outsz, const char *tmpl,
    const char *list, const char *campaign, const char *profile);

#endif
