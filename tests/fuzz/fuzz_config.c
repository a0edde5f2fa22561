/* fuzz_config.c - libFuzzer target: the config file parser. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/unsub-fuzz-conf-XXXXXX", err[512];
	struct config c;
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	config_defaults(&c);
	(void)config_load(path, &c, err, sizeof(err));
	unlink(path);
	return 0;
}
