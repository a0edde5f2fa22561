/* micro.c - per-operation costs on one core: token seal+encode, decode+open,
 * mailto reference, suppression check at N addresses, durable unsubscribes
 * (one synced commit per record vs group commit), bounce reports against
 * mailto replies of the same size.  Prints one line each. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec.h"
#include "keyring.h"
#include "mailparse.h"
#include "ref.h"
#include "report.h"
#include "store.h"
#include "token.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "micro: %s\n", what);
	exit(1);
}

/* An unsubscribe from list "news" of the address printf'd from fmt. */
static void unsub_event(struct store_event *ev, enum store_source source,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void unsub_event(struct store_event *ev, enum store_source source,
    const char *fmt, ...)
{
	va_list ap;

	memset(ev, 0, sizeof(*ev));
	va_start(ap, fmt);
	vsnprintf(ev->address, sizeof(ev->address), fmt, ap);
	va_end(ap);
	strcpy(ev->scope, "news");
	ev->action = STORE_UNSUBSCRIBE;
	ev->source = source;
}

/* Seal+encode and decode+open of a token for a 40-character address. */
static void bench_token(struct keyring *kr)
{
	struct token_claims c, out;
	char text[TOKEN_TEXT_MAX];
	uint8_t ref[REF_LEN];
	const int n = 200000;
	double t0, seal, open, refns;

	memset(&c, 0, sizeof(c));
	strcpy(c.address, "reader.name.forty.chars@mail.example.org");
	strcpy(c.list, "news");
	c.issued = 1790000000;
	t0 = now();
	for (int i = 0; i < n; i++)
		if (token_seal_url(kr, &c, text, sizeof(text)) != TOKEN_OK)
			die("seal");
	seal = (now() - t0) / n * 1e9;
	t0 = now();
	for (int i = 0; i < n; i++)
		if (token_open_text(kr, text, strlen(text), &out) != TOKEN_OK)
			die("open");
	open = (now() - t0) / n * 1e9;
	t0 = now();
	for (int i = 0; i < n; i++)
		if (ref_make(kr, c.key_id, &c, ref) != TOKEN_OK)
			die("ref");
	refns = (now() - t0) / n * 1e9;
	{
		uint8_t bin[TOKEN_BIN_MAX];
		int len = token_seal(kr, &c, bin, sizeof(bin));
		printf("token size for a %zu-char address: %d bytes sealed, "
		    "%zu chars base64url, %zu chars base32, reference %d "
		    "chars\n", strlen(c.address), len,
		    codec_b64u_enclen((size_t)len),
		    codec_b32_enclen((size_t)len), REF_TEXT);
	}
	printf("token seal+encode (url): %.0f ns/op, %.0f /s\n", seal,
	    1e9 / seal);
	printf("token decode+open: %.0f ns/op, %.0f /s\n", open, 1e9 / open);
	printf("mailto reference (HMAC-SHA256): %.0f ns/op\n", refns);
}

struct writer {
	struct store *st;
	int threads, id, n, single;
};

/* One writer thread: n unsubscribes of distinct addresses. */
static void *writer(void *arg)
{
	struct writer *w = arg;
	struct store_event ev;
	int changed;

	for (int i = 0; i < w->n; i++) {
		unsub_event(&ev, STORE_SRC_ONECLICK, "w%d-%d-%d-%d@example.com",
		    w->single, w->threads, w->id, i);
		if ((w->single ? store_record_single(w->st, &ev, &changed) :
		    store_record(w->st, &ev, &changed)) != STORE_OK)
			die(store_strerror(-3));
	}
	return NULL;
}

/* Durable unsubscribes/s with `threads` writers, grouped or not. */
static double durable_rate(struct store *st, int threads, int per, int single)
{
	pthread_t tid[64];
	struct writer w[64];
	double t0 = now();

	for (int i = 0; i < threads; i++) {
		w[i] = (struct writer){ st, threads, i, per, single };
		pthread_create(&tid[i], NULL, writer, &w[i]);
	}
	for (int i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	return threads * per / (now() - t0);
}

/* One synced commit of n new unsubscribes of addresses spread over the
 * key space, as real ones are; returns its time in s. */
static double commit_of(struct store *st, int n)
{
	static struct store_event ev[64];
	static int rc[64], changed[64];
	static unsigned long x = 88172645463325252UL;
	double t0;

	for (int i = 0; i < n; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;	/* xorshift */
		unsub_event(&ev[i], STORE_SRC_ONECLICK, "%016lx@example.com",
		    x);
	}
	t0 = now();
	if (store_record_batch(st, ev, (size_t)n, rc, changed) != STORE_OK)
		die(store_strerror(-3));
	return now() - t0;
}

/* What one synced commit of 1, 16 and 64 records costs, in turn: N
 * writers sharing commits can at best be N * cost(1) / cost(N) times
 * faster than one commit each. */
static void bench_commit_cost(struct store *st)
{
	const int sizes[] = { 1, 16, 64 }, rounds = 20;
	double t[3] = { 0, 0, 0 };

	for (int r = 0; r < rounds; r++)
		for (int i = 0; i < 3; i++)
			t[i] += commit_of(st, sizes[i]) / rounds;
	printf("one synced commit of 1, 16, 64 records: %.0f, %.0f, %.0f us "
	    "(ceiling for group commit: x%.1f with 16 writers, x%.1f with "
	    "64)\n", t[0] * 1e6, t[1] * 1e6, t[2] * 1e6, 16 * t[0] / t[1],
	    64 * t[0] / t[2]);
}

static void bench_durable(const char *dir)
{
	struct store_opts o = { 0, 0, 0, NULL };
	struct store *st;
	double single, group;

	if (store_open(dir, &o, &st) != STORE_OK)
		die(store_strerror(-3));
	for (int threads = 16; threads <= 64; threads *= 4) {
		single = durable_rate(st, threads, 640 / threads, 1);
		group = durable_rate(st, threads, 12800 / threads, 0);
		printf("durable unsubscribes, %d writers: one synced commit per "
		    "record %.0f /s, group commit %.0f /s, ratio %.1f\n",
		    threads, single, group, group / single);
	}
	bench_commit_cost(st);
	store_close(st);
}

/* One inbound message as the milter holds it: its Content-Type and
 * Subject, and its body. */
struct inbound {
	char ctype[256], subject[256];
	char *body;
	size_t len;
};

/* Many threads' share of inbound work: parse, open the token, record. */
struct inbound_job {
	struct store *st;
	const struct keyring *kr;
	const struct inbound *msg;
	int report, id, n;
};

static int first_token(const char *cand, size_t len, void *arg)
{
	struct token_claims c;

	return token_open_text(arg, cand, len, &c) == TOKEN_OK;
}

/* Parse one message and open its token: a report (a hard bounce) or a
 * mailto reply. */
static void inbound_parse(const struct keyring *kr, const struct inbound *m,
    int report)
{
	struct mailparse *mp = mailparse_new(1 << 20);
	struct report r;

	if (mp == NULL)
		die("mailparse_new");
	mailparse_header(mp, "Content-Type", m->ctype);
	mailparse_header(mp, "Subject", m->subject);
	mailparse_body(mp, (const uint8_t *)m->body, m->len);
	if (report ? report_parse(mp, kr, "unsubscribe@unsub.example.com", &r)
	    != REPORT_OK || r.kind != REPORT_HARD :
	    mailparse_candidates(mp, first_token, (void *)kr) <= 0)
		die(report ? "report not read" : "reply not read");
	mailparse_free(mp);
}

static void *inbound_worker(void *arg)
{
	struct inbound_job *j = arg;
	struct store_event ev;
	int changed;

	for (int i = 0; i < j->n; i++) {
		inbound_parse(j->kr, j->msg, j->report);
		unsub_event(&ev, j->report ? STORE_SRC_BOUNCE : STORE_SRC_MAILTO,
		    "%c%d-%d@example.com", j->report ? 'b' : 'm', j->id, i);
		if (store_record(j->st, &ev, &changed) != STORE_OK)
			die(store_strerror(-3));
	}
	return NULL;
}

/* Messages/s parsed, opened and recorded durably by 16 threads. */
static double inbound_rate(struct store *st, const struct keyring *kr,
    const struct inbound *m, int report)
{
	pthread_t tid[16];
	struct inbound_job j[16];
	double t0 = now();

	for (int i = 0; i < 16; i++) {
		j[i] = (struct inbound_job){ st, kr, m, report, i, 400 };
		pthread_create(&tid[i], NULL, inbound_worker, &j[i]);
	}
	for (int i = 0; i < 16; i++)
		pthread_join(tid[i], NULL);
	return 16 * 400 / (now() - t0);
}

/* Parse+open time of one message on one core, in us. */
static double inbound_us(const struct keyring *kr, const struct inbound *m,
    int report)
{
	const int n = 5000;
	double t0 = now();

	for (int i = 0; i < n; i++)
		inbound_parse(kr, m, report);
	return (now() - t0) / n * 1e6;
}

/* Postfix's 5.1.1 DSN of tests/fixtures/reports (make bench runs at the
 * top), and a mailto reply as Apple Mail writes it of the same size: the
 * mailto's subject kept, the body padded with quoted text. */
static void load_inbound(struct inbound *dsn, struct inbound *reply)
{
	FILE *fp = fopen("tests/fixtures/reports/dsn-postfix-5.1.1.eml", "r");
	static char text[65536];
	size_t n;
	char *body, *bnd, *tok;

	if (fp == NULL)
		die("no tests/fixtures/reports (run from the top directory)");
	n = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	text[n] = '\0';
	if ((body = strstr(text, "\n\n")) == NULL ||
	    (bnd = strstr(text, "boundary=")) == NULL ||
	    (tok = strstr(text, "&body=")) == NULL)
		die("fixture shape");
	*body = '\0';
	snprintf(dsn->ctype, sizeof(dsn->ctype), "multipart/report; "
	    "report-type=delivery-status; %.*s", (int)strcspn(bnd, "\n"), bnd);
	dsn->body = body + 2;
	dsn->len = strlen(dsn->body);
	strcpy(reply->ctype, "text/plain; charset=utf-8");
	snprintf(reply->subject, sizeof(reply->subject), "unsubscribe %.*s",
	    (int)strcspn(tok + 6, ">"), tok + 6);
	if ((reply->body = malloc(dsn->len + 1)) == NULL)
		die("malloc");
	for (size_t i = 0; i < dsn->len; i++)
		reply->body[i] = i % 64 == 63 ? '\n' : i % 64 == 0 ? '>' : 'q';
	reply->body[dsn->len] = '\0';
	reply->len = dsn->len;
}

/* Bounce reports against mailto replies of the same size: parse and open
 * on one core, then parsed, opened and recorded durably by 16 threads
 * sharing group commits; ratios are reports' rate over replies'.  The
 * tokens are the fixtures' (their key). */
static void bench_reports(const char *dir)
{
	struct store_opts o = { 0, 0, 0, NULL };
	struct keyring *kr = NULL;
	struct inbound dsn, reply;
	struct store *st;
	char cmd[256], err[256], sub[80];
	double rus, mus, rrate, mrate;

	snprintf(cmd, sizeof(cmd), "cp tests/fixtures/reports/keys %s/rkeys "
	    "&& chmod 600 %s/rkeys", dir, dir);
	if (system(cmd) != 0)
		die("cannot copy tests/fixtures/reports/keys");
	snprintf(sub, sizeof(sub), "%s/rkeys", dir);
	if (keyring_load(sub, &kr, err, sizeof(err)) != 0)
		die(err);
	load_inbound(&dsn, &reply);
	snprintf(sub, sizeof(sub), "%s/reports", dir);
	if (mkdir(sub, 0700) < 0 || store_open(sub, &o, &st) != STORE_OK)
		die("report store");
	rus = inbound_us(kr, &dsn, 1);
	mus = inbound_us(kr, &reply, 0);
	rrate = inbound_rate(st, kr, &dsn, 1);
	mrate = inbound_rate(st, kr, &reply, 0);
	printf("bounce report (Postfix DSN, %zu-byte body) parse+open: %.1f us, "
	    "%.0f /s; mailto reply of the same size: %.1f us (ratio %.2f)\n",
	    dsn.len, rus, 1e6 / rus, mus, mus / rus);
	printf("bounce reports recorded durably, 16 connections: %.0f /s; "
	    "mailto replies of the same size: %.0f /s (ratio %.2f)\n", rrate,
	    mrate, rrate / mrate);
	store_close(st);
	keyring_free(kr);
	free(reply.body);
}

/* Bulk-load addresses [from, to) as suppressed for "news", in batches. */
static void load(struct store *st, long from, long to)
{
	enum { BATCH = 20000 };
	static struct store_event ev[BATCH];
	static int rc[BATCH], changed[BATCH];

	for (long i = from; i < to; ) {
		size_t n = 0;
		for (; n < BATCH && i < to; n++, i++) {
			unsub_event(&ev[n], STORE_SRC_IMPORT,
			    "reader%09ld@example.com", i);
			ev[n].time = 1790000000;
		}
		if (store_record_batch(st, ev, n, rc, changed) != STORE_OK)
			die("bulk load");
	}
}

/* Average store_check() cost over the probes, on one core. */
static double check_ns(struct store *st, char (*probe)[32], int n)
{
	int supp, hits = 0;
	double t0 = now();

	for (int i = 0; i < n; i++) {
		if (store_check(st, probe[i], "news", &supp, NULL, 0) != STORE_OK)
			die("check");
		hits += supp;
	}
	if (hits == 0 || hits == n)
		die("check: present and absent addresses expected");
	return (now() - t0) / n * 1e9;
}

/* Probe addresses spread across the store, half present, half absent. */
static void make_probes(char (*probe)[32], int n, long stored)
{
	unsigned long x = 88172645463325252UL;

	for (int i = 0; i < n; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;	/* xorshift */
		snprintf(probe[i], sizeof(probe[i]), "reader%09ld@example.com",
		    (long)(x % (unsigned long)(stored * 2)));
	}
}

static void bench_check(const char *dir)
{
	enum { PROBES = 400000 };
	static char probe[PROBES][32];
	struct store_opts o = { 1UL << 30, 0, 0, NULL };
	struct store *st;
	char path[128];
	struct stat sb;
	long sizes[] = { 1000000, 10000000 }, done = 0;

	if (store_open(dir, &o, &st) != STORE_OK)
		die(store_strerror(-3));
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		double t0 = now(), first, steady;
		load(st, done, sizes[i]);
		done = sizes[i];
		t0 = now() - t0;
		make_probes(probe, PROBES, done);
		/* The first pass maps pages this process has not touched
		 * since the load; a running milter has them mapped. */
		first = check_ns(st, probe, PROBES);
		steady = check_ns(st, probe, PROBES);
		snprintf(path, sizeof(path), "%s/data.mdb", dir);
		stat(path, &sb);
		printf("suppression check at %ldM addresses: %.0f ns/op "
		    "(first touch after the load %.0f; bulk load %.0f s); "
		    "store %.0f bytes per address (state and history)\n",
		    done / 1000000, steady, first, t0,
		    (double)sb.st_size / (double)done);
	}
	store_close(st);
}

/* micro urls KEYFILE FIRST N: N one-click paths ("/u/TOKEN"), each for an
 * address of its own (postFIRST@ on), for the POST load (bench/run.sh): a
 * POST of a token already in force is a repeat and writes nothing. */
static int print_urls(const char *keyfile, long first, long n)
{
	struct keyring *kr = NULL;
	struct token_claims c;
	char text[TOKEN_TEXT_MAX], err[256];

	if (keyring_load(keyfile, &kr, err, sizeof(err)) != 0)
		die(err);
	memset(&c, 0, sizeof(c));
	strcpy(c.list, "news");
	c.issued = (uint64_t)time(NULL);
	for (long i = first; i < first + n; i++) {
		snprintf(c.address, sizeof(c.address), "post%ld@example.com", i);
		if (token_seal_url(kr, &c, text, sizeof(text)) != TOKEN_OK)
			die("seal");
		printf("/u/%s\n", text);
	}
	keyring_free(kr);
	return 0;
}

int main(int argc, char **argv)
{
	struct keyring *kr = NULL;
	char dir[] = "/var/tmp/unsub-bench-XXXXXX", path[64], err[256];
	uint32_t id;

	if (argc == 5 && strcmp(argv[1], "urls") == 0)
		return print_urls(argv[2], strtol(argv[3], NULL, 10),
		    strtol(argv[4], NULL, 10));
	if (mkdtemp(dir) == NULL)
		die("mkdtemp");
	snprintf(path, sizeof(path), "%s/keys", dir);
	if (keyring_generate(path, 1, &id, err, sizeof(err)) != 0 ||
	    keyring_load(path, &kr, err, sizeof(err)) != 0)
		die(err);
	bench_token(kr);
	keyring_free(kr);
	unlink(path);
	bench_durable(dir);
	bench_reports(dir);
	if (argc < 2 || strcmp(argv[1], "quick") != 0) {
		char sub[80];
		snprintf(sub, sizeof(sub), "%s/big", dir);
		if (mkdir(sub, 0700) < 0)
			die("mkdir");
		bench_check(sub);
	}
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	if (system(path) != 0)
		die("cleanup");
	return 0;
}
