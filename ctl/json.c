/* json.c - unsubctl's JSON output through jansson: compact, keys in the
 * order they were set, UTF-8 as is (SPEC and tests/ctl/golden.out fix
 * these bytes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#define JSON_OUT (JSON_COMPACT | JSON_PRESERVE_ORDER)

/* JSON is UTF-8 and jansson refuses anything else: in a value that is not
 * (a list name or reason given in Latin-1, say) each byte over 0x7f
 * becomes U+FFFD. */
#define REPLACEMENT "\xef\xbf\xbd"

json_t *ctl_json_str(const char *s)
{
	json_t *v = json_string(s);
	size_t len = strlen(s), n = 0;
	char *r;

	if (v != NULL || (r = malloc(len * 3 + 1)) == NULL)
		return v;
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x80) {
			r[n++] = *s;
		} else {
			memcpy(r + n, REPLACEMENT, 3);
			n += 3;
		}
	}
	r[n] = '\0';
	v = json_string(r);
	free(r);
	return v;
}

int ctl_json_put(json_t *v, unsigned *nth)
{
	int rc = EX_CONFIG;

	if (v == NULL)
		goto done;
	if (nth != NULL && (*nth)++ > 0)
		putchar(',');
	if (json_dumpf(v, stdout, JSON_OUT) != 0)
		goto done;
	if (nth == NULL)
		putchar('\n');
	rc = EX_OK;
done:
	json_decref(v);
	if (rc != EX_OK)
		ctl_fail(rc, "JSON output: out of memory or write error");
	return rc;
}
