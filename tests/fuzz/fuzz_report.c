/* fuzz_report.c - libFuzzer target: the bounce and complaint report
 * reader, fed the input as a message (headers, blank line, body), with
 * the key that sealed the seed corpus's tokens (tests/fixtures/reports),
 * so mutations reach the paths after a token opens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feed.h"
#include "report.h"

static struct keyring *kr;

/* The fixtures' key from a 0600 copy; a fresh key if it is missing. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char tmp[] = "/tmp/unsub-fuzz-XXXXXX", cmd[128], err[256];
	uint32_t id;
	int fd = mkstemp(tmp);

	(void)argc; (void)argv;
	if (fd < 0)
		abort();
	close(fd);
	snprintf(cmd, sizeof(cmd), "cp tests/fixtures/reports/keys %s", tmp);
	if (system(cmd) != 0) {
		unlink(tmp);
		if (keyring_generate(tmp, 1, &id, err, sizeof(err)) != 0)
			abort();
	}
	if (keyring_load(tmp, &kr, err, sizeof(err)) != 0)
		abort();
	unlink(tmp);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mailparse *mp = mailparse_new(65536);
	char detail[STORE_DETAIL_MAX + 1];
	struct report r;

	if (mp == NULL)
		abort();
	fuzz_feed(mp, data, size);
	if (report_parse(mp, kr, "unsubscribe@unsub.example.com", &r) ==
	    REPORT_OK) {
		report_detail(&r, detail);
		if (strlen(detail) > STORE_DETAIL_MAX ||
		    (r.kind != REPORT_IGNORE && !r.found))
			abort();	/* only a token may name anyone */
	}
	mailparse_free(mp);
	return 0;
}
