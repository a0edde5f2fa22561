/* fuzz_mailparse.c - libFuzzer target: the reply token extractor, fed the
 * input as a message (headers, blank line, body). */
#include <stdlib.h>

#include "feed.h"
#include "mailparse.h"

static int count(const char *cand, size_t len, void *arg)
{
	(void)cand;
	if (len == 0)
		abort();
	return ++*(int *)arg > 1000;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mailparse *mp = mailparse_new(65536);
	int n = 0;

	if (mp == NULL)
		abort();
	fuzz_feed(mp, data, size);
	mailparse_candidates(mp, count, &n);
	mailparse_free(mp);
	return 0;
}
