/* main.c - unsubctl: options, the verb table, and what every verb uses
 * (messages, exit codes, the keyring, the store, the address operand). */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "address.h"
#include "ctl.h"

int ctl_fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("unsubctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

/* Load the keyring named by the config. */
int ctl_need_keys(struct ctl *x)
{
	char err[512];

	if (keyring_load(x->cfg.key_file, &x->kr, err, sizeof(err)) != 0)
		return ctl_fail(EX_CONFIG, "%s", err);
	return EX_OK;
}

/* Open the store named by the config. */
int ctl_need_store(struct ctl *x, int read_only)
{
	struct store_opts o = { x->cfg.map_size, x->cfg.map_max, read_only,
		x->cfg.sync_host };
	int rc = store_open(x->cfg.database, &o, &x->st);

	if (rc != STORE_OK)
		return ctl_fail(EX_CONFIG, "store: %s", store_strerror(rc));
	return EX_OK;
}

/* Normalise operand 0 as an address into out. */
int ctl_need_address(struct ctl *x, char *out)
{
	int rc;

	if (x->argc != 1)
		return ctl_fail(EX_USAGE, "expected one ADDRESS");
	rc = address_normalise(x->argv[0], x->cfg.case_sensitive_local, out,
	    ADDRESS_MAX + 1);
	if (rc != ADDRESS_OK)
		return ctl_fail(EX_USAGE, "%s: %s", x->argv[0],
		    address_strerror(rc));
	return EX_OK;
}

static const struct verb {
	const char *name;
	int (*fn)(struct ctl *);
	const char *usage;
} verbs[] = {
	{ "genkey", cmd_genkey, "genkey" },
	{ "keys", cmd_keys, "keys" },
	{ "token", cmd_token, "token ADDRESS --list L [--profile P] "
	  "[--campaign C] [--all]" },
	{ "decode", cmd_decode, "decode TOKEN [--json]" },
	{ "status", cmd_status, "status ADDRESS [--json]" },
	{ "add", cmd_add, "add ADDRESS [--list L] [--reason R]" },
	{ "resubscribe", cmd_resubscribe, "resubscribe ADDRESS [--list L] "
	  "--by NAME [--reason R]" },
	{ "history", cmd_history, "history ADDRESS [--json]" },
	{ "list", cmd_list, "list [--list L] [--since TIME] [--json]" },
	{ "import", cmd_import, "import FILE" },
	{ "export", cmd_export, "export [--format csv|jsonl]" },
	{ "stats", cmd_stats, "stats" },
	{ "events", cmd_events, "events [--after CURSOR] [--follow] [--json]" },
	{ "sync", cmd_sync, "sync init | sync status [--json]" },
	{ "lists", cmd_lists, "lists [--json] | set NAME --title T "
	  "[--description D] | remove NAME" },
};

/* Print usage to stderr and return EX_USAGE. */
static int usage(void)
{
	fprintf(stderr, "usage: unsubctl [-c FILE] VERB [ARGS]\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(stderr, "       unsubctl %s\n", verbs[i].usage);
	return EX_USAGE;
}

/* The verb named `name`, or NULL. */
static const struct verb *verb_find(const char *name)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(name, verbs[i].name) == 0)
			return &verbs[i];
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "list", required_argument, NULL, 'l' },
		{ "profile", required_argument, NULL, 'p' },
		{ "campaign", required_argument, NULL, 'C' },
		{ "reason", required_argument, NULL, 'r' },
		{ "by", required_argument, NULL, 'b' },
		{ "since", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'f' },
		{ "after", required_argument, NULL, 'A' },
		{ "title", required_argument, NULL, 't' },
		{ "description", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "follow", no_argument, NULL, 'F' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl x;
	const char *cfgpath = CONFIG_FILE_DEFAULT;
	const struct verb *v;
	char err[1024];
	int ch, rc;

	memset(&x, 0, sizeof(x));
	while ((ch = getopt_long(argc, argv, "c:h", lopts, NULL)) != -1) {
		switch (ch) {
		case 'c': cfgpath = optarg; break;
		case 'l': x.list = optarg; break;
		case 'p': x.profile = optarg; break;
		case 'C': x.campaign = optarg; break;
		case 'r': x.reason = optarg; break;
		case 'b': x.by = optarg; break;
		case 's': x.since = optarg; break;
		case 'f': x.format = optarg; break;
		case 'A': x.after = optarg; break;
		case 't': x.title = optarg; break;
		case 'd': x.description = optarg; break;
		case 'j': x.json = 1; break;
		case 'F': x.follow = 1; break;
		case 'a': x.all = 1; break;
		default: return usage();
		}
	}
	if (optind >= argc)
		return usage();
	if ((v = verb_find(argv[optind])) == NULL) {
		ctl_fail(EX_USAGE, "unknown verb \"%s\"", argv[optind]);
		return usage();
	}
	x.argc = argc - optind - 1;
	x.argv = argv + optind + 1;
	config_defaults(&x.cfg);
	if (config_load(cfgpath, &x.cfg, err, sizeof(err)) != 0)
		return ctl_fail(EX_CONFIG, "%s", err);
	rc = v->fn(&x);
	if (x.st != NULL)
		store_close(x.st);
	keyring_free(x.kr);
	return rc;
}
