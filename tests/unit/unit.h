/* unit.h - shared scaffolding for the Check unit tests: one suite per file. */
#ifndef UNSUB_UNIT_H
#define UNSUB_UNIT_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailparse.h"

/* Each test file defines its suite and ends with UNIT_MAIN(name_suite). */
#define UNIT_MAIN(suite_fn)						\
	int main(void)							\
	{								\
		SRunner *sr = srunner_create(suite_fn());		\
		int failed;						\
		srunner_run_all(sr, CK_NORMAL);				\
		failed = srunner_ntests_failed(sr);			\
		srunner_free(sr);					\
		return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;	\
	}

/* Feed a whole message (LF or CRLF) to a mail parser as the milter
 * does: each header with its folding, then the body. */
static inline void unit_feed(struct mailparse *mp, const char *msg)
{
	const char *p = msg;
	char name[256], value[16384];

	while (*p != '\0' && *p != '\n' && !(p[0] == '\r' && p[1] == '\n')) {
		const char *colon = strchr(p, ':'), *eol;
		size_t vl = 0;
		ck_assert_ptr_nonnull(colon);
		snprintf(name, sizeof(name), "%.*s", (int)(colon - p), p);
		p = colon + 1;
		for (;;) {	/* value with its continuation lines */
			eol = strchr(p, '\n');
			ck_assert_ptr_nonnull(eol);
			vl += (size_t)snprintf(value + vl, sizeof(value) - vl,
			    "%.*s\n", (int)(eol - p), p);
			p = eol + 1;
			if (*p != ' ' && *p != '\t')
				break;
		}
		value[vl - 1] = '\0';
		mailparse_header(mp, name, value);
	}
	p += *p == '\r' ? 2 : 1;
	mailparse_body(mp, (const uint8_t *)p, strlen(p));
}

#endif
