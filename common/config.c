/* config.c - the "Key value" configuration file, driven by one table. */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_int.h"
#include "header.h"
#include "log.h"
#include "store.h"

static const char *const multi_names[] = { "skip", "first", NULL };
static const char *const supp_names[] = { "reject", "discard", "tag", NULL };
static const char *const fail_names[] = { "tempfail", "accept", NULL };
static const char *const scope_names[] = { "list", "all", NULL };

#define F(field) offsetof(struct config, field)
#define S(field) F(field), sizeof(((struct config *)0)->field)

static const struct opt opts[] = {
	{ "Socket", T_SOCKET, S(socket), "unix:/run/unsub-milter/milter.sock",
	  0, 0, NULL, "milter socket, libmilter syntax "
	  "(unix:/path, inet:port@host, inet6:port@host)" },
	{ "SocketMode", T_MODE, F(socket_mode), 0, "0660", 0, 0777, NULL,
	  "octal permissions of a unix: socket, group-owned by User's GROUP "
	  "(the MTA must be able to connect)" },
	{ "KeyFile", T_PATH, S(key_file), "/etc/unsub-milter/keys", 0, 0, NULL,
	  "token keyring, mode 0600 or stricter" },
	{ "Database", T_PATH, S(database), "/var/lib/unsub-milter", 0, 0, NULL,
	  "LMDB environment directory (must exist)" },
	{ "DatabaseMapSize", T_SIZE, F(map_size), 0, "67108864", 65536,
	  1UL << 40, NULL, "initial LMDB map size in bytes; grows when full" },
	{ "DatabaseMapMax", T_SIZE, F(map_max), 0, "0", 0, 1UL << 40, NULL,
	  "largest the map may grow to in bytes (0: no limit); when reached, "
	  "writes fail and mail is tempfailed" },
	{ "PidFile", T_STR, S(pid_file), "", 0, 0, NULL,
	  "write the daemon's pid here (empty: none)" },
	{ "User", T_STR, S(user), "", 0, 0, NULL,
	  "NAME[:GROUP]: run as this user and group after start-up (like -u); "
	  "a unix socket is owned by them" },
	{ "LogLevel", T_LEVEL, F(log_level), 0, "info", 0, 0, NULL,
	  "err, warning, info or debug" },
	{ "UnsubscribeMailbox", T_MAILBOX, S(mailbox), "", 0, 0, NULL,
	  "mailto target; unsubscribe replies to it are consumed" },
	{ "UnsubscribeURL", T_URL, S(url), "", 0, 0, NULL,
	  "one-click URL base; the token is appended" },
	{ "InternalHosts", T_NETS, F(internal), 0, "127.0.0.1, ::1", 0, 0,
	  NULL, "clients trusted for the outbound role besides SMTP AUTH" },
	{ "ListHeader", T_HEADER, S(list_header), "X-Unsub-List", 0, 0, NULL,
	  "header marking bulk mail and naming its list; removed" },
	{ "ProfileHeader", T_HEADER, S(profile_header), "X-Unsub-Profile", 0, 0,
	  NULL, "header carried into the token as profile id; removed" },
	{ "CampaignHeader", T_HEADER, S(campaign_header), "X-Unsub-Campaign", 0,
	  0, NULL, "header carried into the token as campaign id; removed" },
	{ "DefaultScope", T_ENUM, F(scope_all), 0, "list", 0, 0, scope_names,
	  "what a token unsubscribes from: list or all" },
	{ "MultipleRecipients", T_ENUM, F(multi_recipient), 0, "skip", 0, 0,
	  multi_names, "bulk mail with several recipients: skip (no headers, "
	  "warn) or first (token for the first recipient)" },
	{ "ReplaceExisting", T_BOOL, F(replace_existing), 0, "yes", 0, 0,
	  NULL, "replace the application's List-Unsubscribe headers" },
	{ "SuppressedAction", T_ENUM, F(suppressed_action), 0, "reject", 0,
	  0, supp_names, "message left with no recipient: reject, discard or "
	  "tag" },
	{ "SuppressedReply", T_STR, S(suppressed_reply),
	  "recipient has unsubscribed from this list", 0, 0, NULL,
	  "text of the 5.7.1 reply when SuppressedAction is reject" },
	{ "StoreFailure", T_ENUM, F(store_failure), 0, "tempfail", 0, 0,
	  fail_names, "store cannot be read for outbound mail: tempfail or "
	  "accept (an unsubscribe that cannot be recorded always tempfails)" },
	{ "KeepUnsubscribes", T_BOOL, F(keep_consumed), 0, "no", 0, 0, NULL,
	  "deliver consumed unsubscribe mail (for audit) instead of "
	  "discarding it" },
	{ "PassUnrecognised", T_BOOL, F(pass_untokened), 0, "yes", 0, 0, NULL,
	  "mail to the mailbox without a valid token is delivered for a human "
	  "(no: rejected with 5.7.1)" },
	{ "BounceMailbox", T_MAILBOXES, S(bounce_mailbox), "", 0, 0, NULL,
	  "addresses where DSNs arrive (the envelope sender of list mail); "
	  "bounces of our tokened mail are recorded" },
	{ "ComplaintMailbox", T_MAILBOXES, S(complaint_mailbox), "", 0, 0,
	  NULL, "addresses where feedback loops send ARF reports; "
	  "complaints about our tokened mail are recorded" },
	{ "SoftBounceLimit", T_SIZE, F(soft_limit), 0, "3", 1, STORE_SOFT_MAX,
	  NULL, "soft bounces within SoftBounceWindow that suppress an "
	  "address" },
	{ "SoftBounceWindow", T_DURATION, F(soft_window), 0, "30d", 60,
	  3650UL * 86400, NULL, "how long a soft bounce counts (s, m, h, d "
	  "or w; default seconds)" },
	{ "ComplaintScope", T_ENUM, F(complaint_scope_all), 0, "all", 0, 0,
	  scope_names, "what a complaint unsubscribes from: all or list (the "
	  "token's)" },
	{ "KeepReports", T_BOOL, F(keep_reports), 0, "no", 0, 0, NULL,
	  "deliver recorded bounces and complaints (for audit) instead of "
	  "discarding them" },
	{ "FeedbackID", T_TEMPLATE, S(feedback_id), "", 0, 0, NULL,
	  "template of a Feedback-ID header added to list mail (%l list, %c "
	  "campaign, %p profile, %% a %); empty: none" },
	{ "MaxBodyBytes", T_SIZE, F(max_body), 0, "262144", 1024, 16777216,
	  NULL, "body bytes read when looking for a token" },
	{ "LocalPartCaseSensitive", T_BOOL, F(case_sensitive_local), 0, "no",
	  0, 0, NULL, "compare address local parts case-sensitively" },
	{ "HTTPListen", T_STR, S(http_listen), "127.0.0.1:8080", 0, 0, NULL,
	  "unsub-httpd address:port ([::1]:port for IPv6)" },
	{ "HTTPCertificate", T_STR, S(http_cert), "", 0, 0, NULL,
	  "PEM certificate; with HTTPKey, unsub-httpd serves HTTPS" },
	{ "HTTPKey", T_STR, S(http_key), "", 0, 0, NULL,
	  "PEM private key for HTTPCertificate" },
	{ "HTTPTemplates", T_STR, S(http_templates),
	  "/etc/unsub-milter/templates", 0, 0, NULL,
	  "directory of landing page templates" },
	{ "HTTPMaxConnections", T_SIZE, F(http_max_conn), 0, "256", 1, 65536,
	  NULL, "concurrent HTTP connections" },
	{ "HTTPMaxPerClient", T_SIZE, F(http_max_per_ip), 0, "64", 1, 65536,
	  NULL, "concurrent HTTP connections from one client address (raise "
	  "it behind a proxy, where every request comes from one address)" },
	{ "HTTPTimeout", T_SIZE, F(http_timeout), 0, "10", 1, 3600, NULL,
	  "seconds an idle HTTP connection is kept" },
	{ "HTTPThreads", T_SIZE, F(http_threads), 0, "4", 1, 256, NULL,
	  "HTTP worker threads (one more thread commits the "
	  "unsubscribes)" },
	{ "APITokenFile", T_STR, S(api_token_file), "", 0, 0, NULL,
	  "bearer secrets of unsub-httpd's /api/v1/, one a line (several: "
	  "rotation), mode 0600 or stricter; empty: no API" },
	{ "MetricsListen", T_STR, S(metrics_listen), "", 0, 0, NULL,
	  "unsub-milter's Prometheus /metrics address:port (empty: none)" },
	{ "SyncDatabase", T_STR, S(sync_database), "", 0, 0, NULL,
	  "PostgreSQL connection string (libpq; several hosts and "
	  "target_session_attrs=read-write for a standby's promotion): the "
	  "fleet's store of record, unsub-sync(8); empty: this host alone" },
	{ "SyncHostName", T_STR, S(sync_host), "", 0, 0, NULL,
	  "this host's name in the fleet, unique per host (empty: the host "
	  "name)" },
	{ "SyncMaxStaleness", T_DURATION, F(sync_max_stale), 0, "12h", 0,
	  365UL * 86400, NULL, "with SyncDatabase, list mail is tempfailed "
	  "(451 4.3.0) until bootstrapped and while the last exchange with "
	  "PostgreSQL is older than this (s, m, h or d; 0: never stale)" },
	{ "SyncMetricsListen", T_STR, S(sync_metrics), "", 0, 0, NULL,
	  "address:port where unsub-sync serves Prometheus /metrics (empty: "
	  "none)" },
	{ "WebhookURL", T_STR, S(webhook_url), "", 0, 0, NULL,
	  "http:// or https:// URL unsub-sync POSTs every event to, signed, "
	  "in order, at least once (unsub-sync(8)); empty: no webhooks" },
	{ "WebhookSecretFile", T_STR, S(webhook_secret), "", 0, 0, NULL,
	  "the webhooks' HMAC-SHA256 secret: the file's first line, mode "
	  "0600 or stricter" },
	{ "WebhookTimeout", T_DURATION, F(webhook_timeout), 0, "10s", 1, 300,
	  NULL, "a webhook POST not answered in this time is retried (s or "
	  "m)" },
	{ "WebhookSender", T_BOOL, F(webhook_sender), 0, "yes", 0, 0, NULL,
	  "this host's unsub-sync sends the webhooks; in a fleet every host "
	  "has every event: leave it on for one host, off on the others" },
	{ "HTTPMaxBody", T_SIZE, F(http_max_body), 0, "8192", 256, 1048576,
	  NULL, "largest accepted request body in bytes" },
};


#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

/* The option named key (case-insensitive), or NULL. */
static const struct opt *opt_find(const char *key)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if (strcasecmp(key, opts[i].name) == 0)
			return &opts[i];
	return NULL;
}

int config_set(struct config *c, const char *key, const char *value,
    char *err, size_t errsz)
{
	const struct opt *o = opt_find(key);
	char *p, *end;
	unsigned long n;
	enum log_level lvl;

	if (o == NULL) {
		snprintf(err, errsz, "unknown key \"%s\"", key);
		return -1;
	}
	p = (char *)c + o->off;
	switch (o->type) {
	case T_STR: case T_MAILBOX: case T_URL: case T_PATH: case T_SOCKET:
	case T_HEADER: case T_MAILBOXES: case T_TEMPLATE:
		if (strlen(value) >= o->size) {
			snprintf(err, errsz, "%s value longer than %zu "
			    "characters", o->name, o->size - 1);
			return -1;
		}
		if (config_check_str(o, value, err, errsz) < 0)
			return -1;
		strcpy(p, value);
		return 0;
	case T_BOOL:
		if (config_parse_bool(value, (int *)p) == 0)
			return 0;
		snprintf(err, errsz, "%s must be yes or no", o->name);
		return -1;
	case T_SIZE: case T_DURATION:
		if (config_parse_size(o, value, &n, err, errsz) < 0)
			return -1;
		*(size_t *)p = n;
		return 0;
	case T_ENUM:
		for (int i = 0; o->choices[i] != NULL; i++)
			if (strcasecmp(value, o->choices[i]) == 0)
				return *(int *)p = i, 0;
		snprintf(err, errsz, "%s: \"%s\" is not one of the allowed "
		    "values", o->name, value);
		return -1;
	case T_NETS:
		return config_parse_nets(c, value, err, errsz);
	case T_MODE:
		errno = 0;
		n = strtoul(value, &end, 8);
		if (*value == '\0' || *end != '\0' || errno || n > o->max) {
			snprintf(err, errsz, "%s must be an octal mode like 0660",
			    o->name);
			return -1;
		}
		*(size_t *)p = n;
		return 0;
	case T_LEVEL:
		if (log_level_parse(value, &lvl) == 0)
			return *(int *)p = (int)lvl, 0;
		snprintf(err, errsz, "%s must be err, warning, info or debug",
		    o->name);
		return -1;
	}
	return -1;
}

void config_defaults(struct config *c)
{
	char err[256];

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < N_OPTS; i++)
		(void)config_set(c, opts[i].name, opts[i].def, err, sizeof(err));
}

/* Trim leading and trailing white space in place. */
static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Where key was set: " (line N)", or "" for its default. */
static const char *where(const unsigned *line, const char *key, char *buf,
    size_t bufsz)
{
	unsigned l = line[opt_find(key) - opts];

	if (l == 0)
		return "";
	snprintf(buf, bufsz, " (line %u)", l);
	return buf;
}

/* What no single line shows: settings that contradict each other.  line
 * says where each key was set (0: its default). */
static int check_whole(const struct config *c, const unsigned *line,
    char *err, size_t errsz)
{
	static const char *const names[] = { "ListHeader", "ProfileHeader",
	    "CampaignHeader", HEADER_LU, HEADER_LUP };	/* keys, then ours */
	const char *hdrs[] = { c->list_header, c->profile_header,
	    c->campaign_header, HEADER_LU, HEADER_LUP };
	char w1[32], w2[32];

	if (c->list_header[0] == '\0') {
		snprintf(err, errsz, "ListHeader is empty%s: it marks list mail",
		    where(line, "ListHeader", w1, sizeof(w1)));
		return -1;
	}
	for (size_t i = 0; i < 3; i++)
		for (size_t j = i + 1; j < 5; j++) {
			if (hdrs[i][0] == '\0' || strcasecmp(hdrs[i], hdrs[j]))
				continue;
			snprintf(err, errsz, "%s%s names the same header as "
			    "%s%s", names[i], where(line, names[i], w1,
			    sizeof(w1)), names[j], j < 3 ? where(line,
			    names[j], w2, sizeof(w2)) : "");
			return -1;
		}
	if (c->map_max != 0 && c->map_max < c->map_size) {
		snprintf(err, errsz, "DatabaseMapMax %zu%s is below "
		    "DatabaseMapSize %zu%s", c->map_max, where(line,
		    "DatabaseMapMax", w1, sizeof(w1)), c->map_size,
		    where(line, "DatabaseMapSize", w2, sizeof(w2)));
		return -1;
	}
	return 0;
}

int config_load(const char *path, struct config *c, char *err, size_t errsz)
{
	FILE *fp = NULL;
	char line[4096], msg[512];
	unsigned lineno = 0, set_at[N_OPTS] = { 0 };
	int rc = 0;

	if ((fp = fopen(path, "re")) == NULL) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *key = line, *value;
		const struct opt *o;
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			snprintf(err, errsz, "%s:%u: line too long", path, lineno);
			rc = -1;
			goto done;
		}
		/* A UTF-8 byte order mark (Windows editors write one) says
		 * only how the file is encoded: skipped, not read as part of
		 * the first key. */
		if (lineno == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0)
			key += 3;
		key[strcspn(key, "#")] = '\0';
		key = trim(key);
		if (*key == '\0')
			continue;
		value = key + strcspn(key, " \t");
		if (*value != '\0')
			*value++ = '\0';
		value = trim(value);
		if ((o = opt_find(key)) != NULL && set_at[o - opts] != 0) {
			snprintf(err, errsz, "%s:%u: %s given twice (first at "
			    "%s:%u): keep one line", path, lineno, o->name,
			    path, set_at[o - opts]);
			rc = -1;
			goto done;
		}
		if (config_set(c, key, value, msg, sizeof(msg)) < 0) {
			snprintf(err, errsz, "%s:%u: %s", path, lineno, msg);
			rc = -1;
			goto done;
		}
		set_at[o - opts] = lineno;
	}
	if (ferror(fp)) {
		snprintf(err, errsz, "%s: read error", path);
		rc = -1;
	} else if (check_whole(c, set_at, msg, sizeof(msg)) < 0) {
		snprintf(err, errsz, "%s: %s", path, msg);
		rc = -1;
	}
done:
	fclose(fp);
	return rc;
}

/* Does the address match the network's prefix? */
static int net_match(const struct config_net *n, const unsigned char *a)
{
	unsigned full = n->prefix / 8, rest = n->prefix % 8;

	if (memcmp(n->addr, a, full) != 0)
		return 0;
	return rest == 0 ||
	    ((n->addr[full] ^ a[full]) & (0xff00 >> rest) & 0xff) == 0;
}

int config_internal(const struct config *c, const struct sockaddr *sa)
{
	const unsigned char *a4 = NULL, *a6 = NULL;
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0xff, 0xff };

	if (sa == NULL)
		return 0;
	if (sa->sa_family == AF_INET)
		a4 = (const unsigned char *)
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6) {
		a6 = ((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_addr.s6_addr;
		if (memcmp(a6, mapped, 12) == 0)
			a4 = a6 + 12;
	} else
		return 0;
	for (size_t i = 0; i < c->n_internal; i++) {
		const struct config_net *n = &c->internal[i];
		if ((n->family == AF_INET && a4 && net_match(n, a4)) ||
		    (n->family == AF_INET6 && a6 && net_match(n, a6)))
			return 1;
	}
	return 0;
}

void config_dump_keys(void (*fn)(const char *key, const char *doc, void *),
    void *arg)
{
	for (size_t i = 0; i < N_OPTS; i++)
		fn(opts[i].name, opts[i].doc, arg);
}
