/* main.c - unsub-sync: one per host.  Ships this host's events to
 * PostgreSQL as soon as they are committed locally and applies every
 * host's events to the local store (fleet.c), woken by NOTIFY, polling
 * the outbox every few milliseconds and PostgreSQL every second.  When
 * PostgreSQL is unreachable it says so and retries with a capped
 * exponential backoff.  With WebhookURL a thread of its own POSTs the
 * events (webhook.c), also without SyncDatabase.  SIGTERM or SIGINT stop
 * it. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "daemon.h"
#include "fleet.h"
#include "log.h"
#include "sync.h"
#include "webhook.h"

#define OUTBOX_POLL_MS 5	/* how often the outbox is looked at */
#define FOLLOW_MS 1000		/* PostgreSQL polled without a NOTIFY */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 30000

struct sync {
	struct config cfg;
	struct sync_stats stats;
	struct webhook *hook;	/* NULL: no webhooks from this host */
	PGconn *conn;
	int sigfd;
	int stop;
	int follow_due;
	int64_t last_follow;	/* monotonic ms */
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait up to ms for a signal or (connected) the server; sets s->stop on
 * SIGTERM/SIGINT and follow_due on a NOTIFY.  -1 with err when the
 * connection broke. */
static int wait_for(struct sync *s, int ms, char *err, size_t errsz)
{
	struct pollfd p[2] = { { s->sigfd, POLLIN, 0 }, { -1, POLLIN, 0 } };
	struct signalfd_siginfo si;
	int n;

	if (s->conn != NULL)
		p[1].fd = PQsocket(s->conn);
	if (poll(p, 2, ms) <= 0)
		return 0;
	if ((p[0].revents & POLLIN) &&
	    read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		log_info("stopping on signal %u", si.ssi_signo);
		s->stop = 1;
	}
	if (s->conn == NULL || !(p[1].revents & (POLLIN | POLLERR | POLLHUP)))
		return 0;
	if ((n = fleet_notified(s->conn, err, errsz)) < 0)
		return -1;
	s->follow_due |= n;
	return 0;
}

/* Connect, LISTEN, create or upgrade the schema. */
static int connect_db(struct sync *s, char *err, size_t errsz)
{
	if (fleet_connect(s->cfg.sync_database, &s->conn, err, errsz) < 0)
		return -1;
	if (fleet_schema(s->conn, err, errsz) < 0 ||
	    fleet_listen(s->conn, err, errsz) < 0) {
		PQfinish(s->conn);
		s->conn = NULL;
		return -1;
	}
	log_info("connected to PostgreSQL at %s as host %s",
	    PQhost(s->conn), store_host(s->stats.st));
	atomic_store(&s->stats.connected, 1);
	s->follow_due = 1;
	return 0;
}

/* Ship the whole outbox, then follow when due. */
static int step(struct sync *s, char *err, size_t errsz)
{
	size_t n;

	do {
		if (fleet_ship(s->conn, s->stats.st, &n, err, errsz) < 0)
			return -1;
		atomic_fetch_add(&s->stats.shipped, n);
	} while (n == FLEET_BATCH);
	if (!s->follow_due && mono_ms() - s->last_follow < FOLLOW_MS)
		return 0;
	if (fleet_follow(s->conn, s->stats.st, &n, err, errsz) < 0)
		return -1;
	if (n > 0)
		log_debug("applied %zu events", n);
	atomic_fetch_add(&s->stats.applied, n);
	s->follow_due = 0;
	s->last_follow = mono_ms();
	return 0;
}

/* Until stopped: connected, ship and follow; not, retry with backoff.
 * Without SyncDatabase, only wait for the signal. */
static void run(struct sync *s)
{
	char err[1024];
	int backoff = 0;

	while (s->cfg.sync_database[0] == '\0' && !s->stop)
		wait_for(s, -1, err, sizeof(err));
	while (!s->stop) {
		if ((s->conn != NULL || connect_db(s, err, sizeof(err)) == 0) &&
		    step(s, err, sizeof(err)) == 0 &&
		    wait_for(s, s->follow_due ? 0 : OUTBOX_POLL_MS, err,
		    sizeof(err)) == 0) {
			backoff = 0;
			continue;
		}
		backoff = backoff == 0 ? BACKOFF_MIN_MS :
		    backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
		log_warn("%s; retrying in %d ms (events are kept in the local "
		    "outbox)", err, backoff);
		if (s->conn != NULL)
			PQfinish(s->conn);
		s->conn = NULL;
		atomic_store(&s->stats.connected, 0);
		for (int64_t end = mono_ms() + backoff; !s->stop &&
		    mono_ms() < end;)
			wait_for(s, (int)(end - mono_ms()), err, sizeof(err));
	}
}

/* Once a store, before anything is shipped: what it held from before
 * the fleet joins the outbox (store_carry_over). */
static void carry_over(struct sync *s)
{
	size_t supp, lists;
	int rc = store_carry_over(s->stats.st, &supp, &lists);

	if (rc != STORE_OK)
		log_warn("carrying over what the store held before the fleet: "
		    "%s (tried again at the next start)", store_strerror(rc));
	else if (supp > 0 || lists > 0)
		log_info("carried over from before the fleet into the outbox: "
		    "%zu suppressions, %zu lists", supp, lists);
}

/* The config, and what -n says about it; the webhook secret read now,
 * while privileged. */
static int load(const struct daemon_args *a, struct sync *s, char *err,
    size_t errsz)
{
	struct config *cfg = &s->cfg;
	struct sockaddr_storage ss;

	config_defaults(cfg);
	if (config_load(a->config, cfg, err, errsz) != 0)
		return -1;
	if (cfg->sync_database[0] == '\0' && cfg->webhook_url[0] == '\0') {
		snprintf(err, errsz, "%s: neither SyncDatabase nor WebhookURL "
		    "is set: unsub-sync has nothing to do", a->config);
		return -1;
	}
	if (cfg->sync_database[0] != '\0' &&
	    fleet_conninfo_ok(cfg->sync_database, err, errsz) < 0)
		return -1;
	if (cfg->webhook_url[0] != '\0' && cfg->webhook_sender &&
	    webhook_open(cfg, &s->hook, err, errsz) < 0)
		return -1;
	if (cfg->sync_metrics[0] != '\0' &&
	    daemon_parse_listen(cfg->sync_metrics, &ss) < 0) {
		snprintf(err, errsz, "%s: SyncMetricsListen \"%s\": want "
		    "address:port or [address]:port", a->config,
		    cfg->sync_metrics);
		return -1;
	}
	return a->check ? daemon_check(a, cfg, NULL, err, errsz) : 0;
}

/* Signals to a descriptor the loop polls. */
static int signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigdelset(&set, SIGHUP);	/* nothing to reload: ignored */
	return signalfd(-1, &set, SFD_CLOEXEC);
}

int main(int argc, char **argv)
{
	struct daemon_args a;
	static struct sync s;
	char err[1024];

	if (daemon_args(argc, argv, CONFIG_FILE_DEFAULT, &a) < 0) {
		fprintf(stderr, "usage: unsub-sync [-f] [-n] [-c FILE] "
		    "[-u NAME[:GROUP]]\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (load(&a, &s, err, sizeof(err)) < 0) {
		fprintf(stderr, "unsub-sync: %s\n", err);
		return 1;
	}
	if (a.check) {
		printf("configuration OK (neither PostgreSQL nor WebhookURL "
		    "contacted)\n");
		return 0;
	}
	if (daemon_begin("unsub-sync", &s.cfg, &a, err, sizeof(err)) < 0)
		log_fatal("%s", err);
	if ((s.sigfd = signals()) < 0)
		log_fatal("signalfd: %s", strerror(errno));
	if (s.cfg.pid_file[0] != '\0' &&
	    daemon_pidfile_write(s.cfg.pid_file, err, sizeof(err)) < 0)
		log_fatal("%s", err);
	if (daemon_settle(&a, &s.cfg, &s.stats.st, err, sizeof(err)) < 0)
		log_fatal("%s", err);
	if (s.cfg.sync_metrics[0] != '\0' &&
	    metrics_start(s.cfg.sync_metrics, &s.stats) < 0)
		log_fatal("cannot serve metrics on %s", s.cfg.sync_metrics);
	if (s.hook != NULL && webhook_start(s.hook, &s.stats) < 0)
		log_fatal("cannot start the webhook thread");
	daemon_ready();
	if (s.cfg.sync_database[0] != '\0')
		carry_over(&s);
	run(&s);
	metrics_stop();
	webhook_stop(s.hook);
	PQfinish(s.conn);
	store_close(s.stats.st);
	return 0;
}
