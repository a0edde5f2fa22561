/* timefmt.h - RFC 3339 times for history, listings and pages. */
#ifndef UNSUB_TIMEFMT_H
#define UNSUB_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#define TIMEFMT_LEN 21	/* "2026-11-24T22:17:18Z" and NUL */

/* Format Unix seconds as RFC 3339 UTC ("...Z"). */
void timefmt_rfc3339(uint64_t t, char out[TIMEFMT_LEN]);
/* Parse RFC 3339 UTC, "YYYY-MM-DD" or Unix seconds; -1 if none fits. */
int timefmt_parse(const char *s, uint64_t *out);

#endif
