/* fuzz_mailparse.c - libFuzzer target: the reply token extractor, fed the
 * input as a message (headers, blank line, body). */
#include <stdlib.h>
#include <string.h>

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
	char *copy = malloc(size + 1), *line, *save = NULL;
	const uint8_t *body;
	int n = 0;

	if (mp == NULL || copy == NULL)
		abort();
	memcpy(copy, data, size);
	copy[size] = '\0';
	body = memmem(data, size, "\n\n", 2);
	if (body != NULL)
		copy[body - data] = '\0';
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');
		if (colon != NULL) {
			*colon = '\0';
			mailparse_header(mp, line, colon + 1);
		}
	}
	if (body != NULL)
		mailparse_body(mp, body + 2, size - (size_t)(body + 2 - data));
	mailparse_candidates(mp, count, &n);
	mailparse_free(mp);
	free(copy);
	return 0;
}
