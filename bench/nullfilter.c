/* nullfilter.c - do-nothing libmilter filters the benchmarks compare
 * against.  "floor": accepts at end of message and asks for nothing else
 * (libmilter tells the MTA to skip every other step): the cheapest filter
 * there is.  "same": asks for the same protocol steps, no-reply options
 * and actions as unsub-milter but does nothing in them: what our own work
 * costs on top of the protocol.  "edits": as "same", and a message
 * carrying X-Unsub-List gets the same three edits ours makes (marker
 * deleted, two headers added, fixed values of the same length): what
 * our own work costs beyond the protocol and the edits the contract
 * requires.
 * usage: nullfilter SOCKET floor|same|edits */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <libmilter/mfapi.h>

#include "daemon.h"

static int marked;	/* private data of a message with the marker */

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
	(void)v;
	if (strcasecmp(n, "X-Unsub-List") == 0)
		smfi_setpriv(ctx, &marked);
	return null_noreply(ctx);
}

/* "edits": the three edits of a bulk message, with fixed values. */
static sfsistat edits_eom(SMFICTX *ctx)
{
	static char lu[440];

	if (smfi_getpriv(ctx) == NULL)
		return SMFIS_ACCEPT;
	smfi_setpriv(ctx, NULL);
	if (lu[0] == '\0') {	/* as long as ours for the bench's addresses */
		memset(lu, 'x', 430);
		lu[0] = '<';
		lu[429] = '>';
	}
	if (smfi_chgheader(ctx, "X-Unsub-List", 1, NULL) != MI_SUCCESS ||
	    smfi_addheader(ctx, "List-Unsubscribe", lu) != MI_SUCCESS ||
	    smfi_addheader(ctx, "List-Unsubscribe-Post",
	    "List-Unsubscribe=One-Click") != MI_SUCCESS)
		return SMFIS_TEMPFAIL;
	return SMFIS_ACCEPT;
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

	if (argc != 3 || (strcmp(argv[2], "floor") && strcmp(argv[2], "same") &&
	    strcmp(argv[2], "edits"))) {
		fprintf(stderr, "usage: nullfilter SOCKET floor|same|edits\n");
		return 2;
	}
	if (strcmp(argv[2], "floor") != 0) {
		desc.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_DELRCPT;
		desc.xxfi_connect = null_connect;
		desc.xxfi_envfrom = null_env;
		desc.xxfi_envrcpt = null_env;
		desc.xxfi_header = null_header;
		desc.xxfi_body = null_body;
		desc.xxfi_negotiate = null_negotiate;
	}
	if (strcmp(argv[2], "edits") == 0)
		desc.xxfi_eom = edits_eom;
	umask(0);	/* a unix socket the MTA's user can connect to */
	if (smfi_register(desc) != MI_SUCCESS || smfi_setconn(argv[1]) !=
	    MI_SUCCESS || smfi_opensocket(1) != MI_SUCCESS)
		return 1;
	/* on inet: as ours, so the comparison is of work, not of Nagle */
	daemon_nodelay_listeners();
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
