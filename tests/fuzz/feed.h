/* feed.h - fuzz input as a message: header lines up to the first blank
 * line ("Name: value", others skipped), then the body. */
#ifndef UNSUB_FUZZ_FEED_H
#define UNSUB_FUZZ_FEED_H

#include <stdlib.h>
#include <string.h>

#include "mailparse.h"

static void fuzz_feed(struct mailparse *mp, const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *line, *save = NULL;
	const uint8_t *body;

	if (copy == NULL)
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
	free(copy);
}

#endif
