/* metrics.c - unsub-milter's counters and its Prometheus /metrics
 * listener (MetricsListen).  Each message costs a few relaxed atomic
 * additions on counters no other code writes; the listener is one
 * libmicrohttpd thread that only reads them.  Without MetricsListen
 * nothing is counted. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "milter.h"

#define ADD(counter, n) atomic_fetch_add_explicit(&(counter), (n), \
	memory_order_relaxed)
#define GET(counter) atomic_load_explicit(&(counter), memory_order_relaxed)
#define METRICS_MAX 8192

enum outcome { OUT_ACCEPTED, OUT_REJECTED, OUT_TEMPFAILED, OUT_DISCARDED,
	OUTCOMES };

static const char *const role_names[POLICY_ROLES] = { "none", "outbound",
	"inbound", "report" };
static const char *const outcome_names[OUTCOMES] = { "accepted",
	"rejected", "tempfailed", "discarded" };
/* Upper bounds of the commit latency buckets, in seconds and in ns. */
static const char *const bucket_names[] = { "0.0005", "0.001", "0.0025",
	"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5" };
static const uint64_t bucket_ns[] = { 500000, 1000000, 2500000, 5000000,
	10000000, 25000000, 50000000, 100000000, 250000000, 500000000,
	1000000000, 2500000000u };
#define BUCKETS (sizeof(bucket_ns) / sizeof(bucket_ns[0]))

static atomic_ulong messages[POLICY_ROLES][OUTCOMES];
static atomic_ulong headers_added, rcpts_suppressed, tokens_refused;
static atomic_ulong store_errors, by_source[STORE_SRC_LAST + 1];
static atomic_ulong commit_le[BUCKETS], commit_count, commit_sum_ns;
static int enabled;	/* set once, before the first message */

void metrics_message(const struct policy_edits *e, sfsistat rc)
{
	enum outcome o = rc == SMFIS_REJECT ? OUT_REJECTED :
	    rc == SMFIS_TEMPFAIL ? OUT_TEMPFAILED :
	    rc == SMFIS_DISCARD ? OUT_DISCARDED : OUT_ACCEPTED;

	if (!enabled)
		return;
	ADD(messages[e ? e->role : POLICY_ROLE_NONE][o], 1);
	if (e == NULL)
		return;
	if (e->lu[0] != '\0' && o == OUT_ACCEPTED)
		ADD(headers_added, 1);
	if (e->n_suppressed > 0)
		ADD(rcpts_suppressed, e->n_suppressed);
	if (e->token_refused)
		ADD(tokens_refused, 1);
	if (e->store_error)
		ADD(store_errors, 1);
	if (e->recorded == 0)
		return;
	ADD(by_source[e->recorded], 1);
	ADD(commit_count, 1);
	ADD(commit_sum_ns, e->commit_ns);
	for (size_t i = 0; i < BUCKETS; i++)
		if (e->commit_ns <= bucket_ns[i])
			ADD(commit_le[i], 1);
}

/* Append to buf as snprintf would; `off` never passes size - 1. */
__attribute__((format(printf, 4, 5)))
static void put(char *buf, size_t size, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *off, size - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off = *off + (size_t)n < size ? *off + (size_t)n : size - 1;
}

/* A counter without labels, with its HELP and TYPE lines. */
static void counter(char *buf, size_t *off, const char *name,
    const char *help, unsigned long v)
{
	put(buf, METRICS_MAX, off, "# HELP %s %s\n# TYPE %s counter\n%s %lu\n",
	    name, help, name, name, v);
}

/* The whole /metrics text; its length. */
static size_t render(char *buf)
{
	size_t off = 0;

	put(buf, METRICS_MAX, &off, "# HELP unsub_milter_messages_total "
	    "Messages by role and outcome.\n"
	    "# TYPE unsub_milter_messages_total counter\n");
	for (int r = 0; r < POLICY_ROLES; r++)
		for (int o = 0; o < OUTCOMES; o++)
			put(buf, METRICS_MAX, &off, "unsub_milter_messages_total"
			    "{role=\"%s\",outcome=\"%s\"} %lu\n", role_names[r],
			    outcome_names[o], GET(messages[r][o]));
	counter(buf, &off, "unsub_milter_headers_added_total",
	    "List-Unsubscribe headers added.", GET(headers_added));
	counter(buf, &off, "unsub_milter_recipients_suppressed_total",
	    "Recipients of list mail found unsubscribed.",
	    GET(rcpts_suppressed));
	counter(buf, &off, "unsub_milter_tokens_refused_total", "Forged, "
	    "altered or unknown-key tokens seen in unsubscribe mail.",
	    GET(tokens_refused));
	counter(buf, &off, "unsub_milter_store_errors_total",
	    "Messages a store error tempfailed or let through.",
	    GET(store_errors));
	put(buf, METRICS_MAX, &off, "# HELP unsub_milter_unsubscribes_total "
	    "Unsubscribes recorded, by source.\n"
	    "# TYPE unsub_milter_unsubscribes_total counter\n");
	for (int s = STORE_SRC_MAILTO; s <= STORE_SRC_LAST; s++)
		put(buf, METRICS_MAX, &off, "unsub_milter_unsubscribes_total"
		    "{source=\"%s\"} %lu\n", store_source_name(s),
		    GET(by_source[s]));
	put(buf, METRICS_MAX, &off, "# HELP unsub_milter_store_commit_seconds "
	    "Time to record an unsubscribe durably (synced commit).\n"
	    "# TYPE unsub_milter_store_commit_seconds histogram\n");
	for (size_t i = 0; i < BUCKETS; i++)
		put(buf, METRICS_MAX, &off, "unsub_milter_store_commit_seconds_"
		    "bucket{le=\"%s\"} %lu\n", bucket_names[i],
		    GET(commit_le[i]));
	put(buf, METRICS_MAX, &off, "unsub_milter_store_commit_seconds_bucket"
	    "{le=\"+Inf\"} %lu\nunsub_milter_store_commit_seconds_sum %.9f\n"
	    "unsub_milter_store_commit_seconds_count %lu\n", GET(commit_count),
	    (double)GET(commit_sum_ns) / 1e9, GET(commit_count));
	return off;
}

/* GET /metrics; anything else 404 or 405. */
static enum MHD_Result handler(void *cls, struct MHD_Connection *c,
    const char *url, const char *method, const char *version,
    const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	unsigned status = strcmp(url, "/metrics") != 0 ? MHD_HTTP_NOT_FOUND :
	    get ? MHD_HTTP_OK : MHD_HTTP_METHOD_NOT_ALLOWED;
	char *buf = NULL;
	size_t len = 0;
	struct MHD_Response *resp;
	enum MHD_Result rc;

	(void)cls; (void)version; (void)upload_data; (void)con_cls;
	if (*upload_data_size > 0) {	/* a body: read and ignored */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (status == MHD_HTTP_OK) {
		if ((buf = malloc(METRICS_MAX)) == NULL)
			return MHD_NO;
		len = render(buf);
	}
	resp = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(buf);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type",
	    "text/plain; version=0.0.4; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, "Allow", "GET, HEAD");
	rc = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

int metrics_start(int fd)
{
	enabled = 1;
	return MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL,
	    NULL, handler, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_LIMIT, 16u,
	    MHD_OPTION_CONNECTION_TIMEOUT, 10u,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384,
	    MHD_OPTION_END) != NULL ? 0 : -1;
}
