/* fleet.c - the fleet's figures, measured from the stores themselves.
 *   fleet prop N RATE HOST DIR...   records N unsubscribes of addresses
 *       no run used before (propRATE-I@bench.example) in the first store
 *       (stamped as HOST, whose unsub-sync ships them) at RATE a second
 *       and times each from its acknowledgement until every other store
 *       enforces it;
 *   fleet check DIR SECONDS PREFIX N   times suppression checks of
 *       PREFIX0..N-1@bench.example for SECONDS (while unsub-sync applies
 *       to that store).
 * Prints one line of percentiles. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"

#define STORES_MAX 8

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "fleet: %s: %s\n", what, store_strerror(rc));
	exit(1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile of n sorted values. */
static double pct(const double *v, size_t n, double q)
{
	size_t i = (size_t)(q * (double)(n - 1) + 0.5);

	return v[i < n ? i : n - 1];
}

static struct store *open_store(const char *dir, const char *host)
{
	struct store_opts o = { 0, 0, 0, host };
	struct store *st;
	int rc = store_open(dir, &o, &st);

	if (rc != STORE_OK)
		die(dir, rc);
	return st;
}

/* What the writer and the watcher share. */
static struct store *st[STORES_MAX];
static size_t nst, total;
static char prefix[32];		/* of this run's addresses */
static double *acked, *seen;
static _Atomic size_t issued;

/* Watch the events in order: the time each is enforced on every other
 * store (a later one already there is counted when its turn comes: the
 * figures can only be high). */
static void *watch(void *arg)
{
	char addr[96];

	(void)arg;
	for (size_t j = 0; j < total; j++) {
		size_t k = 1;
		snprintf(addr, sizeof(addr), "%s%zu@bench.example", prefix, j);
		while (atomic_load(&issued) <= j)
			nanosleep(&(struct timespec){ 0, 50000 }, NULL);
		while (k < nst) {
			int s = 0;
			if (store_check(st[k], addr, "news", &s, NULL, 0) ==
			    STORE_OK && s)
				k++;
			else
				nanosleep(&(struct timespec){ 0, 100000 }, NULL);
		}
		seen[j] = now();
	}
	return NULL;
}

static int prop(size_t n, double rate, const char *host, char **dirs,
    size_t ndirs)
{
	pthread_t tid;
	struct store_event ev;
	double t0, *lat;
	int changed, rc;

	total = n;
	snprintf(prefix, sizeof(prefix), "prop%.0f-", rate);
	nst = ndirs < STORES_MAX ? ndirs : STORES_MAX;
	for (size_t i = 0; i < nst; i++)
		st[i] = open_store(dirs[i], i == 0 ? host : NULL);
	acked = calloc(n, sizeof(double));
	seen = calloc(n, sizeof(double));
	lat = calloc(n, sizeof(double));
	if (acked == NULL || seen == NULL || lat == NULL)
		die("out of memory", STORE_EIO);
	pthread_create(&tid, NULL, watch, NULL);
	t0 = now();
	for (size_t i = 0; i < n; i++) {
		double due = t0 + (double)i / rate;
		while (now() < due)
			nanosleep(&(struct timespec){ 0, 50000 }, NULL);
		memset(&ev, 0, sizeof(ev));
		snprintf(ev.address, sizeof(ev.address), "%s%zu@bench.example",
		    prefix, i);
		strcpy(ev.scope, "news");
		ev.action = STORE_UNSUBSCRIBE;
		ev.source = STORE_SRC_MANUAL;
		if ((rc = store_record(st[0], &ev, &changed)) != STORE_OK)
			die("record", rc);
		acked[i] = now();
		atomic_store(&issued, i + 1);
	}
	pthread_join(tid, NULL);
	for (size_t i = 0; i < n; i++)
		lat[i] = (seen[i] - acked[i]) * 1e3;
	qsort(lat, n, sizeof(double), cmp_double);
	printf("fleet propagation, %zu hosts: %zu unsubscribes at %.0f/s "
	    "(achieved %.0f/s), acknowledged -> enforced on every other host:"
	    " p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", nst, n, rate,
	    (double)n / (acked[n - 1] - t0), pct(lat, n, 0.5),
	    pct(lat, n, 0.99), lat[n - 1]);
	for (size_t i = 0; i < nst; i++)
		store_close(st[i]);
	free(acked);
	free(seen);
	free(lat);
	return 0;
}

static int check(const char *dir, double secs, const char *pre,
    size_t mod)
{
	struct store *s = open_store(dir, NULL);
	size_t cap = 20000000, n = 0, hits = 0;
	double *lat = malloc(cap * sizeof(double)), end = now() + secs;
	char addr[320];

	if (lat == NULL)
		die("out of memory", STORE_EIO);
	while (n < cap && (n & 1023 || now() < end)) {
		int sup = 0, rc;
		struct timespec a, b;
		snprintf(addr, sizeof(addr), "%s%zu@bench.example", pre,
		    (n * 7919) % mod);
		clock_gettime(CLOCK_MONOTONIC, &a);
		rc = store_check(s, addr, "news", &sup, NULL, 0);
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (rc != STORE_OK)
			die("check", rc);
		hits += sup;
		lat[n++] = (double)(b.tv_sec - a.tv_sec) * 1e6 +
		    (double)(b.tv_nsec - a.tv_nsec) / 1e3;
	}
	qsort(lat, n, sizeof(double), cmp_double);
	printf("suppression check while the mirror applies: %zu checks "
	    "(%zu suppressed), p50 %.2f us, p99 %.2f us, p99.9 %.2f us\n", n,
	    hits, pct(lat, n, 0.5), pct(lat, n, 0.99), pct(lat, n, 0.999));
	store_close(s);
	free(lat);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 7 && strcmp(argv[1], "prop") == 0)
		return prop(strtoul(argv[2], NULL, 10), atof(argv[3]), argv[4],
		    argv + 5, (size_t)argc - 5);
	if (argc == 6 && strcmp(argv[1], "check") == 0 &&
	    strtoul(argv[5], NULL, 10) > 0)
		return check(argv[2], atof(argv[3]), argv[4],
		    strtoul(argv[5], NULL, 10));
	fprintf(stderr, "usage: fleet prop N RATE HOST DIR DIR...\n"
	    "       fleet check DIR SECONDS PREFIX N\n");
	return 2;
}
