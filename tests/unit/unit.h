/* unit.h - shared scaffolding for the Check unit tests: one suite per file. */
#ifndef UNSUB_UNIT_H
#define UNSUB_UNIT_H

#include <check.h>
#include <stdlib.h>

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

#endif
