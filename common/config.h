/* config.h - the "Key value" configuration, driven by one option table. */
#ifndef UNSUB_CONFIG_H
#define UNSUB_CONFIG_H

#include <stddef.h>
#include <netinet/in.h>

/* Where every program looks without -c (the Makefile installs the example
 * beside it). */
#define CONFIG_FILE_DEFAULT "/etc/unsub-milter/unsub-milter.conf"
#define CONFIG_PATH_MAX 1024
#define CONFIG_NET_MAX 64
#define CONFIG_STR_MAX 256

/* One InternalHosts entry: an address and prefix length, v4 or v6. */
struct config_net {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char addr[16];
	unsigned prefix;
};

enum config_multi { CONFIG_MULTI_SKIP, CONFIG_MULTI_FIRST };
enum config_suppressed { CONFIG_SUPP_REJECT, CONFIG_SUPP_DISCARD,
	CONFIG_SUPP_TAG };
enum config_storefail { CONFIG_STOREFAIL_TEMPFAIL, CONFIG_STOREFAIL_ACCEPT };

struct config {
	char socket[CONFIG_PATH_MAX];
	size_t socket_mode;
	char key_file[CONFIG_PATH_MAX];
	char database[CONFIG_PATH_MAX];
	char pid_file[CONFIG_PATH_MAX];
	char user[CONFIG_STR_MAX];
	char mailbox[CONFIG_STR_MAX];		/* UnsubscribeMailbox */
	char url[CONFIG_STR_MAX];		/* UnsubscribeURL */
	struct config_net internal[CONFIG_NET_MAX];
	size_t n_internal;
	char list_header[CONFIG_STR_MAX];
	char profile_header[CONFIG_STR_MAX];
	char campaign_header[CONFIG_STR_MAX];
	int scope_all;				/* DefaultScope all */
	enum config_multi multi_recipient;
	int replace_existing;
	enum config_suppressed suppressed_action;
	char suppressed_reply[CONFIG_STR_MAX];
	enum config_storefail store_failure;
	int keep_consumed;			/* KeepUnsubscribes */
	char bounce_mailbox[CONFIG_STR_MAX];	/* BounceMailbox */
	char complaint_mailbox[CONFIG_STR_MAX];	/* ComplaintMailbox */
	size_t soft_limit;			/* SoftBounceLimit */
	size_t soft_window;			/* SoftBounceWindow, seconds */
	int complaint_scope_all;		/* ComplaintScope all */
	int keep_reports;			/* KeepReports */
	char feedback_id[CONFIG_STR_MAX];	/* FeedbackID template */
	int pass_untokened;			/* PassUnrecognised */
	size_t max_body;			/* MaxBodyBytes */
	size_t map_size;			/* DatabaseMapSize */
	size_t map_max;				/* DatabaseMapMax */
	int case_sensitive_local;		/* LocalPartCaseSensitive */
	int log_level;				/* enum log_level */
	char http_listen[CONFIG_STR_MAX];
	char http_cert[CONFIG_PATH_MAX];
	char http_key[CONFIG_PATH_MAX];
	char http_templates[CONFIG_PATH_MAX];
	size_t http_max_conn;
	size_t http_max_per_ip;
	size_t http_timeout;
	size_t http_threads;
	size_t http_max_body;
	char api_token_file[CONFIG_PATH_MAX];	/* APITokenFile */
	char metrics_listen[CONFIG_STR_MAX];	/* MetricsListen */
	char sync_database[CONFIG_PATH_MAX];	/* SyncDatabase */
	char sync_host[64];			/* SyncHostName */
	size_t sync_max_stale;			/* SyncMaxStaleness, seconds */
	char sync_metrics[CONFIG_STR_MAX];	/* SyncMetricsListen */
	char webhook_url[CONFIG_STR_MAX];	/* WebhookURL */
	char webhook_secret[CONFIG_PATH_MAX];	/* WebhookSecretFile */
	size_t webhook_timeout;			/* WebhookTimeout, seconds */
	int webhook_sender;			/* WebhookSender */
};

/* Fill `c` with every default. */
void config_defaults(struct config *c);
/* Read `path` over the defaults; on error `err` holds "file:line: reason". */
int config_load(const char *path, struct config *c, char *err, size_t errsz);
/* Parse one "Key value" line's parts (used by config_load and tests). */
int config_set(struct config *c, const char *key, const char *value,
    char *err, size_t errsz);
/* Is sockaddr `sa` in InternalHosts? */
int config_internal(const struct config *c, const struct sockaddr *sa);
/* Print every key and its documentation (unsubctl and man page checks). */
void config_dump_keys(void (*fn)(const char *key, const char *doc, void *),
    void *arg);

#endif
