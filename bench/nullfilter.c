/* nullfilter.c - do-nothing libmilter filters the benchmarks compare
 * against.  "floor": accepts at end of message and asks for nothing else
 * (libmilter tells the MTA to skip every other step): the cheapest filter
 * there is.  "same": asks for the same protocol steps, no-reply options
 * and actions as unsub-milter but does nothing in them: what our own work
 * costs on top of the protocol.
 * usage: nullfilter SOCKET floor|same */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libmilter/mfapi.h>

static sfsistat null_eom(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_ACCEPT;
}

static sfsistat null_noreply(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_NOREPLY;
}

static sfsistat null_connect(SMFICTX *ctx, char *h, struct sockaddr *sa)
{
	(void)h; (void)sa;
	return null_noreply(ctx);
}

static sfsistat null_env(SMFICTX *ctx, char **argv)
{
	(void)argv;
	return null_noreply(ctx);
}

static sfsistat null_header(SMFICTX *ctx, char *n, char *v)
{
	(void)n; (void)v;
	return null_noreply(ctx);
}

static sfsistat null_body(SMFICTX *ctx, unsigned char *b, size_t len)
{
	(void)b; (void)len;
	return null_noreply(ctx);
}

/* The same negotiation as milter/callbacks.c. */
static sfsistat null_negotiate(SMFICTX *ctx, unsigned long f0,
    unsigned long f1, unsigned long f2, unsigned long f3,
    unsigned long *pf0, unsigned long *pf1, unsigned long *pf2,
    unsigned long *pf3)
{
	(void)ctx; (void)f0; (void)f2; (void)f3;
	*pf0 = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_DELRCPT;
	*pf1 = f1 & (SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NODATA |
	    SMFIP_NOEOH | SMFIP_SKIP | SMFIP_NR_CONN | SMFIP_NR_MAIL |
	    SMFIP_NR_RCPT | SMFIP_NR_HDR | SMFIP_NR_BODY);
	*pf2 = *pf3 = 0;
	return SMFIS_CONTINUE;
}

int main(int argc, char **argv)
{
	struct smfiDesc desc = {
		.xxfi_name = "nullfilter",
		.xxfi_version = SMFI_VERSION,
		.xxfi_eom = null_eom,
	};

	if (argc != 3 || (strcmp(argv[2], "floor") && strcmp(argv[2], "same"))) {
		fprintf(stderr, "usage: nullfilter SOCKET floor|same\n");
		return 2;
	}
	if (strcmp(argv[2], "same") == 0) {
		desc.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_DELRCPT;
		desc.xxfi_connect = null_connect;
		desc.xxfi_envfrom = null_env;
		desc.xxfi_envrcpt = null_env;
		desc.xxfi_header = null_header;
		desc.xxfi_body = null_body;
		desc.xxfi_negotiate = null_negotiate;
	}
	umask(0);	/* a unix socket the MTA's user can connect to */
	if (smfi_register(desc) != MI_SUCCESS || smfi_setconn(argv[1]) !=
	    MI_SUCCESS || smfi_opensocket(1) != MI_SUCCESS)
		return 1;
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
