/* webhook.c - unsub-sync's webhooks.  A thread of its own reads the
 * store's feed past the cursor "webhook" (meta), a batch at a time in one
 * short read transaction, then POSTs each event alone, in order, as the
 * JSON object unsubctl events --json prints, on one keep-alive libcurl
 * handle, with
 *   X-Unsub-Event-Id: the event's id (a cursor; a receiver drops copies)
 *   X-Unsub-Timestamp: Unix seconds at sending
 *   X-Unsub-Signature: sha256=HEX(HMAC-SHA256(secret, timestamp "." body))
 * The cursor moves, in one synced commit per batch, past the events
 * answered 2xx only; any other answer, a timeout or no connection is
 * retried from that event with a capped exponential backoff.  A crash
 * between a 2xx and that commit sends those events again: at least once.
 * The milter never waits for any of this. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "daemon.h"
#include "keyring.h"
#include "log.h"
#include "store_json.h"
#include "webhook.h"

#define BATCH 256		/* events read from the feed at a time */
#define IDLE_MS 10		/* how often an idle feed is looked at */
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 300000
#define SECRET_MAX 1024

struct webhook {
	char url[CONFIG_STR_MAX];
	char secret[SECRET_MAX];
	size_t secretlen;
	long timeout;			/* WebhookTimeout, seconds */
	struct sync_stats *stats;
	CURL *curl;
	EVP_MAC *hmac;
	EVP_MAC_CTX *mac;
	pthread_t thread;
	pthread_mutex_t lock;		/* with wake: webhook_stop's signal */
	pthread_cond_t wake;
	_Atomic int stop;
	int started;			/* the thread runs */
	/* the batch being delivered */
	char *body[BATCH];
	uint64_t id[BATCH];
	size_t n;
	int oom;
};

/* The first line of the secret file, private to its owner. */
static int read_secret(const char *path, struct webhook *w, char *err,
    size_t errsz)
{
	FILE *fp = NULL;
	int rc = -1;

	if (keyring_open_private(path, &fp, err, errsz) != KEYRING_OK)
		return -1;
	if (fgets(w->secret, sizeof(w->secret), fp) == NULL ||
	    (w->secretlen = strcspn(w->secret, "\r\n")) == 0) {
		snprintf(err, errsz, "WebhookSecretFile %s: its first line, "
		    "the secret, is empty", path);
		goto done;
	}
	rc = 0;
done:
	fclose(fp);
	return rc;
}

int webhook_open(const struct config *cfg, struct webhook **out, char *err,
    size_t errsz)
{
	OSSL_PARAM params[2] = { OSSL_PARAM_construct_utf8_string(
	    OSSL_MAC_PARAM_DIGEST, "SHA256", 0), OSSL_PARAM_construct_end() };
	struct webhook *w = calloc(1, sizeof(*w));
	int rc = -1;

	*out = NULL;
	if (w == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	w->lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	w->wake = (pthread_cond_t)PTHREAD_COND_INITIALIZER;
	if (strncmp(cfg->webhook_url, "http://", 7) != 0 &&
	    strncmp(cfg->webhook_url, "https://", 8) != 0) {
		snprintf(err, errsz, "WebhookURL \"%s\": want an http:// or "
		    "https:// URL", cfg->webhook_url);
		goto done;
	}
	if (cfg->webhook_secret[0] == '\0') {
		snprintf(err, errsz, "WebhookURL needs WebhookSecretFile");
		goto done;
	}
	if (read_secret(cfg->webhook_secret, w, err, errsz) < 0)
		goto done;
	snprintf(w->url, sizeof(w->url), "%s", cfg->webhook_url);
	w->timeout = (long)cfg->webhook_timeout;
	if ((w->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (w->mac = EVP_MAC_CTX_new(w->hmac)) == NULL ||
	    EVP_MAC_init(w->mac, (const unsigned char *)w->secret,
	    w->secretlen, params) != 1) {
		snprintf(err, errsz, "OpenSSL: no HMAC-SHA256");
		goto done;
	}
	*out = w;
	rc = 0;
done:
	if (rc < 0)
		webhook_stop(w);
	return rc;
}

/* Answers are not read: only their status counts. */
static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p; (void)arg;
	return size * n;
}

/* Abandon a transfer when stopping. */
static int progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c,
    curl_off_t d)
{
	struct webhook *w = arg;

	(void)a; (void)b; (void)c; (void)d;
	return atomic_load(&w->stop);
}

/* The handle every POST reuses (one connection, kept alive). */
static int curl_setup(struct webhook *w)
{
	CURL *c = w->curl = curl_easy_init();

	return c == NULL ||
	    curl_easy_setopt(c, CURLOPT_URL, w->url) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT, w->timeout) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, w->timeout) !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_USERAGENT, "unsub-sync") !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress) !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_XFERINFODATA, w) != CURLE_OK ? -1 : 0;
}

/* sha256=HEX of HMAC-SHA256(secret, ts "." body) into sig. */
static int sign(struct webhook *w, const char *ts, const char *body,
    char *sig, size_t sigsz)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t len = 0;
	int n;

	if (EVP_MAC_init(w->mac, NULL, 0, NULL) != 1 ||
	    EVP_MAC_update(w->mac, (const unsigned char *)ts,
	    strlen(ts)) != 1 ||
	    EVP_MAC_update(w->mac, (const unsigned char *)".", 1) != 1 ||
	    EVP_MAC_update(w->mac, (const unsigned char *)body,
	    strlen(body)) != 1 ||
	    EVP_MAC_final(w->mac, mac, &len, sizeof(mac)) != 1)
		return -1;
	n = snprintf(sig, sigsz, "X-Unsub-Signature: sha256=");
	for (size_t i = 0; i < len && (size_t)n + 3 <= sigsz; i++)
		n += snprintf(sig + n, sigsz - (size_t)n, "%02x", mac[i]);
	return 0;
}

/* POST one event: 0 when answered 2xx, else -1 with err. */
static int post(struct webhook *w, uint64_t id, const char *body,
    char *err, size_t errsz)
{
	char idh[64], tsh[64], sig[128], ts[24];
	struct curl_slist *h = NULL, *t;
	const char *fixed[] = { "Content-Type: application/json",
		"Expect:", idh, tsh, sig };
	long status = 0;
	CURLcode cc;
	int rc = -1;

	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	snprintf(idh, sizeof(idh), "X-Unsub-Event-Id: %llu",
	    (unsigned long long)id);
	snprintf(tsh, sizeof(tsh), "X-Unsub-Timestamp: %s", ts);
	if (sign(w, ts, body, sig, sizeof(sig)) < 0) {
		snprintf(err, errsz, "OpenSSL: HMAC failed");
		return -1;
	}
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if ((t = curl_slist_append(h, fixed[i])) == NULL) {
			snprintf(err, errsz, "out of memory");
			goto done;
		}
		h = t;
	}
	curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(w->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(w->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	if ((cc = curl_easy_perform(w->curl)) != CURLE_OK) {
		snprintf(err, errsz, "event %llu: %s", (unsigned long long)id,
		    curl_easy_strerror(cc));
		goto done;
	}
	curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		snprintf(err, errsz, "event %llu: answered %ld",
		    (unsigned long long)id, status);
		goto done;
	}
	rc = 0;
done:
	curl_slist_free_all(h);
	return rc;
}

/* Gather the batch's bodies (the read transaction ends before any POST). */
static int gather_cb(const struct store_item *it, void *arg)
{
	struct webhook *w = arg;
	json_t *v = store_json_item(it);
	char *s = v ? json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER) :
	    NULL;

	json_decref(v);
	if (s == NULL)
		return w->oom = 1;
	w->body[w->n] = s;
	w->id[w->n++] = it->ev.seq;
	return 0;
}

/* Deliver one batch past the cursor and store how far it got; *sent:
 * events delivered.  -1 with err at the first that was not. */
static int deliver(struct webhook *w, size_t *sent, char *err, size_t errsz)
{
	struct store *st = w->stats->st;
	struct store_meta m = { "webhook", 0 };
	uint64_t cursor = 0;
	size_t dummy, i = 0;
	int rc = store_meta_get(st, "webhook", &cursor), out = -1;

	*sent = 0;
	w->n = 0;
	w->oom = 0;
	if (rc == STORE_OK || rc == STORE_ENOTFOUND)
		rc = store_events(st, cursor, BATCH, gather_cb, w);
	if (rc != STORE_OK || w->oom) {
		snprintf(err, errsz, "store: %s", w->oom ? "out of memory" :
		    store_strerror(rc));
		goto done;
	}
	for (; i < w->n && !atomic_load(&w->stop); i++) {
		if (post(w, w->id[i], w->body[i], err, errsz) < 0)
			break;
		m.value = w->id[i];
		atomic_fetch_add(&w->stats->webhook_delivered, 1);
	}
	if (i < w->n && !atomic_load(&w->stop))
		atomic_fetch_add(&w->stats->webhook_failed, 1);
	*sent = i;
	if (i > 0 && (rc = store_mirror(st, NULL, 0, &m, 1, &dummy)) !=
	    STORE_OK) {
		snprintf(err, errsz, "store: %s", store_strerror(rc));
		goto done;
	}
	out = i == w->n ? 0 : -1;
done:
	for (size_t k = 0; k < w->n; k++)
		free(w->body[k]);
	w->n = 0;
	return out;
}

/* Sleep ms, or less when stopping. */
static void nap(struct webhook *w, int ms)
{
	struct timespec until;

	daemon_deadline(CLOCK_REALTIME, ms, &until);
	pthread_mutex_lock(&w->lock);
	while (!atomic_load(&w->stop) &&
	    pthread_cond_timedwait(&w->wake, &w->lock, &until) == 0)
		;
	pthread_mutex_unlock(&w->lock);
}

/* The thread: deliver, idle, or back off after a failure. */
static void *run(void *arg)
{
	struct webhook *w = arg;
	char err[512];
	size_t sent;
	int backoff = 0;

	while (!atomic_load(&w->stop)) {
		if (deliver(w, &sent, err, sizeof(err)) == 0) {
			if (backoff != 0)
				log_info("webhook %s: delivering again",
				    w->url);
			backoff = 0;
			if (sent < BATCH)
				nap(w, IDLE_MS);
			continue;
		}
		if (atomic_load(&w->stop))
			break;
		backoff = backoff == 0 ? BACKOFF_MIN_MS :
		    backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
		log_warn("webhook %s: %s; retrying in %d ms", w->url, err,
		    backoff);
		nap(w, backoff);
	}
	return NULL;
}

int webhook_start(struct webhook *w, struct sync_stats *stats)
{
	w->stats = stats;
	if (curl_setup(w) < 0 ||
	    pthread_create(&w->thread, NULL, run, w) != 0)
		return -1;
	w->started = 1;
	atomic_store(&stats->webhook_on, 1);
	return 0;
}

void webhook_stop(struct webhook *w)
{
	if (w == NULL)
		return;
	if (w->started) {
		pthread_mutex_lock(&w->lock);
		atomic_store(&w->stop, 1);
		pthread_cond_signal(&w->wake);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
	}
	curl_easy_cleanup(w->curl);
	EVP_MAC_CTX_free(w->mac);
	EVP_MAC_free(w->hmac);
	OPENSSL_cleanse(w->secret, sizeof(w->secret));
	free(w);
}

/* Counts every event it sees. */
static int count_cb(const struct store_item *it, void *arg)
{
	(void)it;
	(*(uint64_t *)arg)++;
	return 0;
}

int webhook_backlog(struct store *st, uint64_t *n)
{
	uint64_t cursor = 0;
	int rc = store_meta_get(st, "webhook", &cursor);

	*n = 0;
	if (rc != STORE_OK && rc != STORE_ENOTFOUND)
		return rc;
	return store_events(st, cursor, 0, count_cb, n);
}
