/* unsubctl.c - admin CLI: keys, tokens and the suppression store.
 * Exit codes (SPEC): 0 success, 1 not found / invalid token / nothing to
 * do, 2 usage, 3 config, key or store error. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "address.h"
#include "config.h"
#include "header.h"
#include "keyring.h"
#include "mailparse.h"
#include "mint.h"
#include "policy.h"
#include "store.h"
#include "timefmt.h"
#include "token.h"

#define EX_OK 0
#define EX_NOTFOUND 1
#define EX_USAGE 2
#define EX_CONFIG 3
#define DEFAULT_CONFIG "/etc/unsub-milter/unsub-milter.conf"

struct ctl {
	struct config cfg;
	const char *list, *profile, *campaign, *reason, *by, *since, *format;
	int json, all;
	int count;		/* rows printed by a walk */
	int argc;
	char **argv;		/* operands after the verb */
	struct keyring *kr;
	struct store *st;
};

/* Print a one-line message to stderr and return `code`. */
static int fail(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("unsubctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

/* Print s as a JSON string literal. */
static void json_str(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* Load the keyring named by the config. */
static int need_keys(struct ctl *x)
{
	char err[512];

	if (keyring_load(x->cfg.key_file, &x->kr, err, sizeof(err)) != 0)
		return fail(EX_CONFIG, "%s", err);
	return EX_OK;
}

/* Open the store named by the config. */
static int need_store(struct ctl *x, int read_only)
{
	struct store_opts o = { x->cfg.map_size, x->cfg.map_max, read_only };
	int rc = store_open(x->cfg.database, &o, &x->st);

	if (rc != STORE_OK)
		return fail(EX_CONFIG, "store: %s", store_strerror(rc));
	return EX_OK;
}

/* Normalise operand 0 as an address into out. */
static int need_address(struct ctl *x, char *out)
{
	int rc;

	if (x->argc != 1)
		return fail(EX_USAGE, "expected one ADDRESS");
	rc = address_normalise(x->argv[0], x->cfg.case_sensitive_local, out,
	    ADDRESS_MAX + 1);
	if (rc != ADDRESS_OK)
		return fail(EX_USAGE, "%s: %s", x->argv[0],
		    address_strerror(rc));
	return EX_OK;
}

/* genkey: add a fresh key to the keyring, creating it 0600. */
static int cmd_genkey(struct ctl *x)
{
	char err[512];
	uint32_t id;

	if (keyring_generate(x->cfg.key_file, time(NULL), &id, err,
	    sizeof(err)) != KEYRING_OK)
		return fail(EX_CONFIG, "%s", err);
	printf("added key %08lx to %s\n", (unsigned long)id, x->cfg.key_file);
	return EX_OK;
}

/* keys: list key ids and ages, newest last, never the secrets. */
static int cmd_keys(struct ctl *x)
{
	int rc;
	time_t now = time(NULL);

	if ((rc = need_keys(x)) != EX_OK)
		return rc;
	for (size_t i = 0; i < keyring_count(x->kr); i++) {
		const struct keyring_key *k = keyring_at(x->kr, i);
		char when[TIMEFMT_LEN];
		timefmt_rfc3339((uint64_t)k->created, when);
		printf("%08lx  %s  %lld days%s\n", (unsigned long)k->id, when,
		    (long long)(now - k->created) / 86400,
		    i + 1 == keyring_count(x->kr) ? "  (seals)" : "");
	}
	return EX_OK;
}

/* Fill claims from the options and a normalised address. */
static int claims_from_opts(struct ctl *x, const char *addr,
    struct token_claims *c)
{
	memset(c, 0, sizeof(*c));
	if (x->list == NULL)
		return fail(EX_USAGE, "--list is required");
	if (strcmp(x->list, STORE_SCOPE_ALL) == 0)
		return fail(EX_USAGE, "--list * is not a list; use --all for a "
		    "token that unsubscribes from every list");
	/* the ids the milter would accept from the message's headers */
	if (!policy_id_ok(x->list, 1) ||
	    (x->profile && !policy_id_ok(x->profile, 0)) ||
	    (x->campaign && !policy_id_ok(x->campaign, 0)))
		return fail(EX_USAGE, "list, profile and campaign ids are 1 to "
		    "%d visible ASCII characters", TOKEN_FIELD_MAX);
	strcpy(c->address, addr);
	strcpy(c->list, x->list);
	strcpy(c->profile, x->profile ? x->profile : "");
	strcpy(c->campaign, x->campaign ? x->campaign : "");
	c->scope_all = x->all || x->cfg.scope_all;
	c->issued = (uint64_t)time(NULL);
	return EX_OK;
}

/* token: print the headers the milter would add for this recipient. */
static int cmd_token(struct ctl *x)
{
	char addr[ADDRESS_MAX + 1], lu[HEADER_VALUE_MAX];
	struct token_claims c;
	int rc, detail;

	if ((rc = need_address(x, addr)) != EX_OK ||
	    (rc = claims_from_opts(x, addr, &c)) != EX_OK ||
	    (rc = need_keys(x)) != EX_OK || (rc = need_store(x, 0)) != EX_OK)
		return rc;
	switch (mint_headers(&x->cfg, x->kr, x->st, &c, "\n\t", lu,
	    sizeof(lu), &detail)) {
	case MINT_OK:
		break;
	case MINT_ETOKEN:
		return fail(EX_CONFIG, "sealing: %s", token_strerror(detail));
	case MINT_ESTORE:
		return fail(EX_CONFIG, "store: %s", store_strerror(detail));
	default:
		return fail(EX_CONFIG, "header too long; set UnsubscribeURL "
		    "or UnsubscribeMailbox, or shorten them");
	}
	printf("%s: %s\n", HEADER_LU, lu);
	if (x->cfg.url[0] != '\0')
		printf("%s: %s\n", HEADER_LUP, HEADER_LUP_VALUE);
	return EX_OK;
}

/* The reference in a mailto URL, address or List-Unsubscribe value
 * ("<mailto:unsub+REF@example.com?subject=...>") to our mailbox; 1 with
 * ref filled. */
static int mailto_ref(const struct ctl *x, const char *in,
    uint8_t ref[TOKEN_REF_LEN])
{
	char addr[ADDRESS_MAX + 1];
	const char *p = strcasestr(in, "mailto:");
	size_t n;

	p = p != NULL ? p + 7 : in + strspn(in, "<");
	n = strcspn(p, "?>, \t\n");
	if (x->cfg.mailbox[0] == '\0' || n == 0 || n > ADDRESS_MAX ||
	    mailparse_pct_decode(p, n, addr) == 0)
		return 0;
	return mailparse_rcpt(addr, x->cfg.mailbox, ref) == 2;
}

/* decode: verify a token (text, URL, or a mailto reference looked up in
 * the store) and show its contents. */
static int cmd_decode(struct ctl *x)
{
	struct token_claims c;
	char when[TIMEFMT_LEN];
	uint8_t ref[TOKEN_REF_LEN];
	const char *t, *slash;
	size_t len;
	int rc, by_ref = 0, detail;

	if (x->argc != 1)
		return fail(EX_USAGE, "expected one TOKEN");
	if ((rc = need_keys(x)) != EX_OK)
		return rc;
	t = x->argv[0];
	if ((slash = strrchr(t, '/')) != NULL)
		t = slash + 1;
	len = strcspn(t, "?>&# \t\n");
	if ((rc = token_open_text(x->kr, t, len, &c)) != TOKEN_OK) {
		if (!mailto_ref(x, x->argv[0], ref))
			return fail(EX_NOTFOUND, "invalid token: %s",
			    token_strerror(rc));
		if ((rc = need_store(x, 1)) != EX_OK)
			return rc;
		switch (mint_ref_lookup(x->kr, x->st, ref, &c, &detail)) {
		case MINT_OK:
			by_ref = 1;
			break;
		case MINT_ESTORE:
			return fail(EX_CONFIG, "store: %s",
			    store_strerror(detail));
		default:
			return fail(EX_NOTFOUND, "unknown mailto reference "
			    "(not minted with these keys into this store)");
		}
	}
	timefmt_rfc3339(c.issued, when);
	if (x->json) {
		printf("{\"address\":"); json_str(c.address);
		printf(",\"list\":"); json_str(c.list);
		printf(",\"scope\":"); json_str(c.scope_all ? "*" : c.list);
		printf(",\"profile\":"); json_str(c.profile);
		printf(",\"campaign\":"); json_str(c.campaign);
		printf(",\"issued\":\"%s\",\"key\":\"%08lx\",\"reference\":%s}\n",
		    when, (unsigned long)c.key_id, by_ref ? "true" : "false");
		return EX_OK;
	}
	printf("address:  %s\nlist:     %s\nscope:    %s\n", c.address, c.list,
	    c.scope_all ? "all lists" : "this list");
	printf("profile:  %s\ncampaign: %s\n", c.profile[0] ? c.profile : "-",
	    c.campaign[0] ? c.campaign : "-");
	printf("issued:   %s\nkey:      %08lx\n", when, (unsigned long)c.key_id);
	if (by_ref)
		printf("found by: mailto reference (the token first minted for "
		    "this recipient and list)\n");
	return EX_OK;
}

/* Collects status entries for printing (an address may be suppressed
 * for any number of lists). */
struct status_acc {
	struct store_entry *e;
	size_t n, cap;
	int oom;
};

static int status_cb(const struct store_entry *e, void *arg)
{
	struct status_acc *a = arg;

	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;
		void *p = realloc(a->e, cap * sizeof(*a->e));
		if (p == NULL)
			return a->oom = 1;
		a->e = p;
		a->cap = cap;
	}
	a->e[a->n++] = *e;
	return 0;
}

/* status: suppression state; exit 0 if suppressed, 1 if not. */
static int cmd_status(struct ctl *x)
{
	char addr[ADDRESS_MAX + 1], when[TIMEFMT_LEN];
	struct status_acc a = { NULL, 0, 0, 0 };
	int rc;

	if ((rc = need_address(x, addr)) != EX_OK ||
	    (rc = need_store(x, 1)) != EX_OK)
		return rc;
	if (((rc = store_status(x->st, addr, status_cb, &a)) != STORE_OK &&
	    rc != STORE_ENOTFOUND) || a.oom) {
		free(a.e);
		return fail(EX_CONFIG, "store: %s", a.oom ? "out of memory" :
		    store_strerror(rc));
	}
	if (x->json) {
		printf("{\"address\":"); json_str(addr);
		printf(",\"suppressed\":%s,\"scopes\":[", a.n ? "true" : "false");
		for (size_t i = 0; i < a.n; i++) {
			printf(i ? "," : ""); json_str(a.e[i].scope);
		}
		printf("],\"entries\":[");
		for (size_t i = 0; i < a.n; i++) {
			timefmt_rfc3339(a.e[i].time, when);
			printf("%s{\"scope\":", i ? "," : "");
			json_str(a.e[i].scope);
			printf(",\"since\":\"%s\",\"source\":\"%s\"}", when,
			    store_source_name(a.e[i].source));
		}
		printf("]}\n");
	} else if (a.n == 0)
		printf("%s: not suppressed\n", addr);
	for (size_t i = 0; !x->json && i < a.n; i++) {
		timefmt_rfc3339(a.e[i].time, when);
		printf("%s: suppressed for %s since %s (%s)\n", addr,
		    strcmp(a.e[i].scope, STORE_SCOPE_ALL) ? a.e[i].scope :
		    "all lists", when, store_source_name(a.e[i].source));
	}
	free(a.e);
	return a.n ? EX_OK : EX_NOTFOUND;
}

/* Record one change for the add and resubscribe verbs. */
static int change(struct ctl *x, enum store_action act, const char *what)
{
	struct store_event ev;
	int rc, changed = 0;

	memset(&ev, 0, sizeof(ev));
	if ((rc = need_address(x, ev.address)) != EX_OK)
		return rc;
	if (x->list && (strlen(x->list) > STORE_SCOPE_MAX || !x->list[0]))
		return fail(EX_USAGE, "--list must be 1 to %d characters",
		    STORE_SCOPE_MAX);
	snprintf(ev.scope, sizeof(ev.scope), "%s",
	    x->list ? x->list : STORE_SCOPE_ALL);
	store_detail_add(ev.detail, "by", x->by);
	store_detail_add(ev.detail, "reason", x->reason);
	ev.action = act;
	ev.source = STORE_SRC_MANUAL;
	if ((rc = need_store(x, 0)) != EX_OK)
		return rc;
	rc = store_record(x->st, &ev, &changed);
	if (rc == STORE_ENOTFOUND)
		return fail(EX_NOTFOUND, "%s is not suppressed for %s",
		    ev.address, x->list ? x->list : "all lists");
	if (rc != STORE_OK)
		return fail(EX_CONFIG, "store: %s", store_strerror(rc));
	if (!changed)
		return fail(EX_NOTFOUND, "%s was already suppressed for %s "
		    "(noted in history)", ev.address,
		    x->list ? x->list : "all lists");
	printf("%s: %s %s\n", ev.address, what,
	    x->list ? x->list : "all lists");
	return EX_OK;
}

static int cmd_add(struct ctl *x)
{
	return change(x, STORE_UNSUBSCRIBE, "suppressed for");
}

static int cmd_resubscribe(struct ctl *x)
{
	if (x->by == NULL || x->by[0] == '\0')
		return fail(EX_USAGE, "resubscribe requires --by NAME "
		    "(who lifts the suppression)");
	return change(x, STORE_RESUBSCRIBE, "resubscribed to");
}

/* Print one history event as text or a JSON array element. */
static int history_cb(const struct store_event *ev, void *arg)
{
	struct ctl *x = arg;
	char when[TIMEFMT_LEN];

	timefmt_rfc3339(ev->time, when);
	if (!x->json) {
		printf("%s  %-11s  %-12s  %-12s%s%s\n", when,
		    store_action_name(ev->action), ev->scope,
		    store_source_name(ev->source), ev->detail[0] ? "  " : "",
		    ev->detail);
		x->count++;
		return 0;
	}
	printf("%s{\"time\":\"%s\",\"action\":\"%s\",\"scope\":",
	    x->count++ ? "," : "", when, store_action_name(ev->action));
	json_str(ev->scope);
	printf(",\"source\":\"%s\",\"detail\":", store_source_name(ev->source));
	json_str(ev->detail);
	printf(",\"seq\":%llu}", (unsigned long long)ev->seq);
	return 0;
}

/* history: the address's events, oldest first. */
static int cmd_history(struct ctl *x)
{
	char addr[ADDRESS_MAX + 1];
	int rc;

	if ((rc = need_address(x, addr)) != EX_OK ||
	    (rc = need_store(x, 1)) != EX_OK)
		return rc;
	x->count = 0;
	if (x->json)
		printf("[");
	rc = store_history(x->st, addr, history_cb, x);
	if (x->json)
		printf("]\n");
	if (rc != STORE_OK && rc != STORE_ENOTFOUND)
		return fail(EX_CONFIG, "store: %s", store_strerror(rc));
	if (x->count == 0)	/* --json has printed [] */
		return x->json ? EX_NOTFOUND : fail(EX_NOTFOUND,
		    "%s: no history", addr);
	return EX_OK;
}

/* One entry of list/export in the chosen format. */
static int entry_cb(const struct store_entry *e, void *arg)
{
	struct ctl *x = arg;
	char when[TIMEFMT_LEN];
	const char *src = store_source_name(e->source);

	timefmt_rfc3339(e->time, when);
	if (x->json || (x->format && strcmp(x->format, "jsonl") == 0)) {
		printf("%s{\"address\":", x->json && x->count++ ? "," : "");
		json_str(e->address);
		printf(",\"scope\":");
		json_str(e->scope);
		printf(",\"since\":\"%s\",\"source\":\"%s\"}%s", when, src,
		    x->json ? "" : "\n");
	} else if (x->format)
		printf("%s,%s,%s,%s\n", e->address, e->scope, when, src);
	else
		printf("%s  %s  %s  %s\n", e->address, e->scope, when, src);
	return 0;
}

/* list and export share the walk over current suppressions. */
static int walk(struct ctl *x, const char *scope, uint64_t since)
{
	int rc;

	if ((rc = need_store(x, 1)) != EX_OK)
		return rc;
	x->count = 0;
	if (x->json)
		printf("[");
	rc = store_list(x->st, scope, since, entry_cb, x);
	if (x->json)
		printf("]\n");
	if (rc != STORE_OK && rc != STORE_ENOTFOUND)
		return fail(EX_CONFIG, "store: %s", store_strerror(rc));
	return EX_OK;
}

static int cmd_list(struct ctl *x)
{
	uint64_t since = 0;

	if (x->argc != 0)
		return fail(EX_USAGE, "list takes no operands");
	if (x->since && timefmt_parse(x->since, &since) < 0)
		return fail(EX_USAGE, "--since: want RFC 3339, YYYY-MM-DD or "
		    "Unix seconds");
	return walk(x, x->list, since);
}

static int cmd_export(struct ctl *x)
{
	if (x->argc != 0)
		return fail(EX_USAGE, "export takes no operands");
	if (x->format == NULL)
		x->format = "csv";
	if (strcmp(x->format, "csv") != 0 && strcmp(x->format, "jsonl") != 0)
		return fail(EX_USAGE, "--format must be csv or jsonl");
	if (strcmp(x->format, "csv") == 0)
		printf("address,scope,since,source\n");
	x->json = 0;
	return walk(x, NULL, 0);
}

/* Copy the string value of "key" in a one-line JSON object to out; -1
 * if it is absent, too long or escaped (our own addresses and list ids
 * never need escapes). */
static int json_value(const char *line, const char *key, char *out,
    size_t outsz)
{
	char pat[32];
	const char *v;
	size_t n;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	if ((v = strstr(line, pat)) == NULL)
		return -1;
	v += strlen(pat);
	n = strcspn(v, "\"\\");
	if (v[n] != '"' || n >= outsz)
		return -1;
	memcpy(out, v, n);
	out[n] = '\0';
	return 0;
}

/* Rewrite a line of `export --format jsonl` as "address,scope". */
static int jsonl_to_csv(char *line, size_t size)
{
	char addr[ADDRESS_MAX + 1], scope[STORE_SCOPE_MAX + 1];

	if (json_value(line, "address", addr, sizeof(addr)) < 0 ||
	    json_value(line, "scope", scope, sizeof(scope)) < 0 ||
	    strchr(addr, ',') != NULL || strchr(scope, ',') != NULL)
		return -1;
	snprintf(line, size, "%s,%s", addr, scope);
	return 0;
}

/* Parse one import line "address[,scope[,...]]" into ev; 0 if usable. */
static int import_line(struct ctl *x, char *line, struct store_event *ev)
{
	char *addr = line, *scope = NULL, *comma;

	memset(ev, 0, sizeof(*ev));
	if ((comma = strchr(line, ',')) != NULL) {
		*comma = '\0';
		scope = comma + 1;
		scope[strcspn(scope, ",")] = '\0';
	}
	if (address_normalise(addr, x->cfg.case_sensitive_local, ev->address,
	    sizeof(ev->address)) != ADDRESS_OK)
		return -1;
	if (scope == NULL || *scope == '\0')
		scope = STORE_SCOPE_ALL;
	if (strlen(scope) > STORE_SCOPE_MAX)
		return -1;
	strcpy(ev->scope, scope);
	ev->action = STORE_UNSUBSCRIBE;
	ev->source = STORE_SRC_IMPORT;
	return 0;
}

#define IMPORT_BATCH 1000

/* Import state: a batch of events and the running counts. */
struct import {
	struct store_event ev[IMPORT_BATCH];
	int rc[IMPORT_BATCH], changed[IMPORT_BATCH];
	size_t n;
	unsigned first_line, added, had, bad;
};

/* Commit the batch in one synced transaction. */
static int import_flush(struct ctl *x, struct import *im, unsigned lineno)
{
	int rc = store_record_batch(x->st, im->ev, im->n, im->rc, im->changed);

	if (rc != STORE_OK)
		return fail(EX_CONFIG, "%s: lines %u-%u not imported: store: %s",
		    x->argv[0], im->first_line, lineno, store_strerror(rc));
	for (size_t i = 0; i < im->n; i++)
		im->changed[i] ? im->added++ : im->had++;
	im->n = 0;
	return EX_OK;
}

/* import: add suppressions from CSV (address[,scope]); never removes.
 * Lines are committed a thousand at a time. */
static int cmd_import(struct ctl *x)
{
	struct import *im = NULL;
	FILE *fp = NULL;
	char line[1024];
	unsigned lineno = 0;
	int rc;

	if (x->argc != 1)
		return fail(EX_USAGE, "expected one FILE (- for stdin)");
	if ((rc = need_store(x, 0)) != EX_OK)
		return rc;
	if ((im = calloc(1, sizeof(*im))) == NULL)
		return fail(EX_CONFIG, "out of memory");
	fp = strcmp(x->argv[0], "-") == 0 ? stdin : fopen(x->argv[0], "re");
	if (fp == NULL) {
		rc = fail(EX_CONFIG, "%s: %s", x->argv[0], strerror(errno));
		goto done;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#' ||
		    (lineno == 1 && strncmp(line, "address", 7) == 0 &&
		    (line[7] == '\0' || line[7] == ',')))
			continue;
		if (im->n == 0)
			im->first_line = lineno;
		if ((line[0] == '{' && jsonl_to_csv(line, sizeof(line)) < 0) ||
		    import_line(x, line, &im->ev[im->n]) < 0) {
			fprintf(stderr, "unsubctl: %s:%u: invalid line "
			    "skipped\n", x->argv[0], lineno);
			im->bad++;
			continue;
		}
		if (++im->n == IMPORT_BATCH &&
		    (rc = import_flush(x, im, lineno)) != EX_OK)
			goto done;
	}
	if ((rc = import_flush(x, im, lineno)) != EX_OK)
		goto done;
	printf("imported %u, already suppressed %u, invalid %u\n", im->added,
	    im->had, im->bad);
	rc = im->bad ? EX_NOTFOUND : EX_OK;
done:
	if (fp != NULL && fp != stdin)
		fclose(fp);
	free(im);
	return rc;
}

/* Counters for stats. */
struct stats_acc {
	unsigned long total, all, by_src[STORE_SRC_LAST + 1];
};

static int stats_cb(const struct store_entry *e, void *arg)
{
	struct stats_acc *s = arg;

	s->total++;
	if (strcmp(e->scope, STORE_SCOPE_ALL) == 0)
		s->all++;
	if (e->source >= STORE_SRC_MAILTO && e->source <= STORE_SRC_LAST)
		s->by_src[e->source]++;
	return 0;
}

/* stats: counts by scope and source. */
static int cmd_stats(struct ctl *x)
{
	struct stats_acc s;
	int rc;

	memset(&s, 0, sizeof(s));
	if ((rc = need_store(x, 1)) != EX_OK)
		return rc;
	rc = store_list(x->st, NULL, 0, stats_cb, &s);
	if (rc != STORE_OK && rc != STORE_ENOTFOUND)
		return fail(EX_CONFIG, "store: %s", store_strerror(rc));
	printf("suppressions: %lu\nscope all lists: %lu\nscope one list: "
	    "%lu\n", s.total, s.all, s.total - s.all);
	for (int i = STORE_SRC_MAILTO; i <= STORE_SRC_LAST; i++)
		printf("source %s: %lu\n", store_source_name(i), s.by_src[i]);
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
};

/* Print usage to stderr and return EX_USAGE. */
static int usage(void)
{
	fprintf(stderr, "usage: unsubctl [-c FILE] VERB [ARGS]\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(stderr, "       unsubctl %s\n", verbs[i].usage);
	return EX_USAGE;
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
		{ "json", no_argument, NULL, 'j' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl x;
	const char *cfgpath = DEFAULT_CONFIG;
	const struct verb *v = NULL;
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
		case 'j': x.json = 1; break;
		case 'a': x.all = 1; break;
		default: return usage();
		}
	}
	if (optind >= argc)
		return usage();
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(argv[optind], verbs[i].name) == 0)
			v = &verbs[i];
	if (v == NULL) {
		fail(EX_USAGE, "unknown verb \"%s\"", argv[optind]);
		return usage();
	}
	x.argc = argc - optind - 1;
	x.argv = argv + optind + 1;
	config_defaults(&x.cfg);
	if (config_load(cfgpath, &x.cfg, err, sizeof(err)) != 0)
		return fail(EX_CONFIG, "%s", err);
	rc = v->fn(&x);
	if (x.st != NULL)
		store_close(x.st);
	keyring_free(x.kr);
	return rc;
}
