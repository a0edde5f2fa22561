/* json.c - unsubctl's JSON output through jansson: compact, keys in the
 * order they were set, UTF-8 as is (SPEC and tests/ctl/golden.out fix
 * these bytes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#define JSON_OUT (JSON_COMPACT | JSON_PRESERVE_ORDER)

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
