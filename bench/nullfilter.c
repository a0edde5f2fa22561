/* nullfilter.c - the do-nothing libmilter filter the benchmarks compare
 * against: it accepts every message at end of message and asks for nothing
 * else (libmilter then tells the MTA to skip every other step).
 * usage: nullfilter SOCKET */
#include <stdio.h>
#include <stdlib.h>

#include <libmilter/mfapi.h>

static sfsistat null_eom(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_ACCEPT;
}

int main(int argc, char **argv)
{
	struct smfiDesc desc = {
		.xxfi_name = "nullfilter",
		.xxfi_version = SMFI_VERSION,
		.xxfi_eom = null_eom,
	};

	if (argc != 2) {
		fprintf(stderr, "usage: nullfilter SOCKET\n");
		return 2;
	}
	if (smfi_register(desc) != MI_SUCCESS || smfi_setconn(argv[1]) !=
	    MI_SUCCESS || smfi_opensocket(1) != MI_SUCCESS)
		return 1;
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
