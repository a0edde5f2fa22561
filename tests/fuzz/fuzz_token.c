/* fuzz_token.c - libFuzzer target: token text decode and open.  A random
 * input must never be accepted, and nothing may crash. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "keyring.h"
#include "token.h"

static struct keyring *kr;

/* One keyring for the whole run, in a temp dir. */
static void init(void)
{
	char dir[] = "/tmp/unsub-fuzz-XXXXXX", path[64], err[256];
	uint32_t id;

	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/keys", dir);
	if (keyring_generate(path, 1, &id, err, sizeof(err)) != 0 ||
	    keyring_load(path, &kr, err, sizeof(err)) != 0)
		abort();
	unlink(path);
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct token_claims c;

	if (kr == NULL)
		init();
	if (token_open_text(kr, (const char *)data, size, &c) == TOKEN_OK)
		abort();	/* a forgery was accepted */
	if (token_open(kr, data, size, &c) == TOKEN_OK)
		abort();
	return 0;
}
