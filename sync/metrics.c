/* metrics.c - unsub-sync's Prometheus /metrics (SyncMetricsListen): the
 * outbox's depth, the seconds since the last exchange with PostgreSQL,
 * events shipped and applied, connected, bootstrapped; with webhooks,
 * their backlog and POSTs delivered and failed. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "daemon.h"
#include "fleet.h"
#include "sync.h"
#include "webhook.h"

static struct MHD_Daemon *mhd;

/* A meta counter, 0 when never set or unreadable. */
static uint64_t meta0(struct store *st, const char *name)
{
	uint64_t v = 0;

	return store_meta_get(st, name, &v) == STORE_OK ? v : 0;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn,
    const char *url, const char *method, const char *version,
    const char *data, size_t *len, void **state)
{
	struct sync_stats *s = cls;
	struct MHD_Response *r;
	char body[2048];
	uint64_t depth = 0, backlog = 0, contact = meta0(s->st, "contact");
	uint64_t now = (uint64_t)time(NULL);
	enum MHD_Result rc;
	int n, m = 0, found = strcmp(url, "/metrics") == 0;

	(void)version; (void)data; (void)len; (void)state;
	if (strcmp(method, "GET") != 0)
		found = 0;
	fleet_outbox(s->st, &depth);
	n = snprintf(body, sizeof(body), found ?
	    "# TYPE unsub_sync_outbox_events gauge\n"
	    "unsub_sync_outbox_events %llu\n"
	    "# TYPE unsub_sync_lag_seconds gauge\n"
	    "unsub_sync_lag_seconds %llu\n"
	    "# TYPE unsub_sync_connected gauge\nunsub_sync_connected %d\n"
	    "# TYPE unsub_sync_bootstrapped gauge\n"
	    "unsub_sync_bootstrapped %llu\n"
	    "# TYPE unsub_sync_shipped_total counter\n"
	    "unsub_sync_shipped_total %llu\n"
	    "# TYPE unsub_sync_applied_total counter\n"
	    "unsub_sync_applied_total %llu\n" : "not found\n",
	    (unsigned long long)depth,
	    (unsigned long long)(contact && now > contact ? now - contact : 0),
	    atomic_load(&s->connected),
	    (unsigned long long)meta0(s->st, "boot"),
	    (unsigned long long)atomic_load(&s->shipped),
	    (unsigned long long)atomic_load(&s->applied));
	if (found && atomic_load(&s->webhook_on) &&
	    webhook_backlog(s->st, &backlog) == STORE_OK)
		m = snprintf(body + n, sizeof(body) - (size_t)n,
		    "# TYPE unsub_sync_webhook_backlog gauge\n"
		    "unsub_sync_webhook_backlog %llu\n"
		    "# TYPE unsub_sync_webhook_delivered_total counter\n"
		    "unsub_sync_webhook_delivered_total %llu\n"
		    "# TYPE unsub_sync_webhook_failed_total counter\n"
		    "unsub_sync_webhook_failed_total %llu\n",
		    (unsigned long long)backlog,
		    (unsigned long long)atomic_load(&s->webhook_delivered),
		    (unsigned long long)atomic_load(&s->webhook_failed));
	r = MHD_create_response_from_buffer((size_t)(n + m), body,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type",
	    "text/plain; version=0.0.4");
	rc = MHD_queue_response(conn, found ? MHD_HTTP_OK : MHD_HTTP_NOT_FOUND,
	    r);
	MHD_destroy_response(r);
	return rc;
}

int metrics_start(const char *listen, struct sync_stats *s)
{
	struct sockaddr_storage ss;

	if (daemon_parse_listen(listen, &ss) < 0)
		return -1;
	mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
	    handler, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, 16U, MHD_OPTION_END);
	return mhd != NULL ? 0 : -1;
}

void metrics_stop(void)
{
	if (mhd != NULL)
		MHD_stop_daemon(mhd);
	mhd = NULL;
}
