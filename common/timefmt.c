/* timefmt.c - RFC 3339 formatting and lenient parsing of times. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timefmt.h"

void timefmt_rfc3339(uint64_t t, char out[TIMEFMT_LEN])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, TIMEFMT_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		strcpy(out, "1970-01-01T00:00:00Z");
}

int timefmt_parse(const char *s, uint64_t *out)
{
	struct tm tm;
	const char *end;
	char *num_end;
	unsigned long long n;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) != NULL &&
	    *end == '\0')
		goto done;
	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%d", &tm)) != NULL && *end == '\0')
		goto done;
	if (s[0] >= '0' && s[0] <= '9') {
		n = strtoull(s, &num_end, 10);
		if (*num_end == '\0') {
			*out = n;
			return 0;
		}
	}
	return -1;
done:
	if ((t = timegm(&tm)) < 0)
		return -1;
	*out = (uint64_t)t;
	return 0;
}
