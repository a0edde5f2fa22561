/* main.c - unsub-httpd: options, keys, templates, TLS, listening socket,
 * privileges, then libmicrohttpd until SIGTERM or SIGINT; SIGHUP and
 * SIGUSR1 reload the keyring. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bearer.h"
#include "daemon.h"
#include "httpd.h"
#include "log.h"

/* Read a PEM file (a regular file: a FIFO would hang -n and start-up)
 * for libmicrohttpd; NULL with err on failure. */
static char *read_pem(const char *path, char *err, size_t errsz)
{
	int fd = keyring_open_regular(path, err, errsz);
	char *buf = NULL;
	size_t len = 0;
	ssize_t n = 1;

	if (fd < 0)
		return NULL;
	if ((buf = calloc(1, 65536)) != NULL)
		while (len < 65535 &&
		    (n = read(fd, buf + len, 65535 - len)) > 0)
			len += (size_t)n;
	if (buf == NULL || n < 0 || len == 0) {
		snprintf(err, errsz, "%s: %s", path, n < 0 ? strerror(errno) :
		    "empty or unreadable");
		free(buf);
		buf = NULL;
	}
	close(fd);
	return buf;
}

/* The path part of UnsubscribeURL ("https://host/u/" -> "/u/"). */
static const char *url_prefix(const char *url)
{
	const char *p = strstr(url, "://");

	p = p ? strchr(p + 3, '/') : NULL;
	return p ? p : "/";
}

/* Load config, keyring and templates; check TLS files.  0 or -1. */
static int load(const char *path, struct httpd *h, char **cert, char **key,
    char *err, size_t errsz)
{
	struct sockaddr_storage ss;

	config_defaults(&h->cfg);
	if (config_load(path, &h->cfg, err, errsz) != 0 ||
	    keyring_load(h->cfg.key_file, &h->kr, err, errsz) != 0 ||
	    page_load(h->cfg.http_templates, err, errsz) != 0)
		return -1;
	if (h->cfg.api_token_file[0] != '\0' && bearer_load(
	    h->cfg.api_token_file, &h->api, err, errsz) != BEARER_OK)
		return -1;
	if (h->cfg.url[0] == '\0') {
		snprintf(err, errsz, "%s: UnsubscribeURL is not set", path);
		return -1;
	}
	if (daemon_parse_listen(h->cfg.http_listen, &ss) < 0) {
		snprintf(err, errsz, "%s: HTTPListen \"%s\": want address:port "
		    "or [address]:port", path, h->cfg.http_listen);
		return -1;
	}
	if ((h->cfg.http_cert[0] != '\0') != (h->cfg.http_key[0] != '\0')) {
		snprintf(err, errsz, "%s: HTTPCertificate and HTTPKey go "
		    "together", path);
		return -1;
	}
	if (h->cfg.http_cert[0] != '\0' &&
	    ((*cert = read_pem(h->cfg.http_cert, err, errsz)) == NULL ||
	    (*key = read_pem(h->cfg.http_key, err, errsz)) == NULL ||
	    daemon_tls_pair(*cert, *key, h->cfg.http_cert, h->cfg.http_key,
	    err, errsz) < 0))
		return -1;
	h->prefix = url_prefix(h->cfg.url);
	return 0;
}

/* libmicrohttpd's own messages, through our log.  They quote request
 * paths ("Failed to send the response headers for the request for
 * `/u/TOKEN'" when a client resets): a token after the prefix (cls) is
 * cut to 8 characters, as in our own lines. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	const char *prefix = cls;
	char buf[1024], *p = buf, *t;
	size_t n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	while ((p = strstr(p, prefix)) != NULL) {
		t = p + strlen(prefix);
		n = strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789-_");
		if (n > 11) {
			memcpy(t + 8, "...", 3);
			memmove(t + 11, t + n, strlen(t + n) + 1);
		}
		p = t;
	}
	buf[strcspn(buf, "\n")] = '\0';
	log_warn("libmicrohttpd: %s", buf);
}

/* Start libmicrohttpd on fd with our limits; NULL on failure. */
static struct MHD_Daemon *start(struct httpd *h, int fd, const char *cert,
    const char *key)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;

	if (cert != NULL)
		flags |= MHD_USE_TLS;
	return MHD_start_daemon(flags, 0, NULL, NULL, routes_handler(), h,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, (void *)h->prefix,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)h->cfg.http_threads,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)h->cfg.http_max_conn,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)h->cfg.http_timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)h->cfg.http_max_per_ip,
	    MHD_OPTION_NOTIFY_COMPLETED, routes_completed, NULL,
	    cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert,
	    MHD_OPTION_HTTPS_MEM_KEY, key,
	    MHD_OPTION_END);
}

/* Read the keyring and the API's secrets again (new keys from unsubctl
 * genkey, a rotated secret); the running ones stay when a file cannot be
 * read. */
static void reload_keys(struct httpd *h)
{
	struct keyring *kr = NULL, *old;
	struct bearer *api = NULL, *old_api;
	char err[1024];

	if (keyring_load(h->cfg.key_file, &kr, err, sizeof(err)) != 0 ||
	    (h->cfg.api_token_file[0] != '\0' && bearer_load(
	    h->cfg.api_token_file, &api, err, sizeof(err)) != BEARER_OK)) {
		log_err("reload failed, keeping the running keys: %s", err);
		keyring_free(kr);
		return;
	}
	pthread_rwlock_wrlock(&h->kr_lock);
	old = h->kr;
	h->kr = kr;
	old_api = h->api;
	h->api = api;
	pthread_rwlock_unlock(&h->kr_lock);
	keyring_free(old);
	bearer_free(old_api);
	log_info("reloaded %s (%zu keys)%s%s", h->cfg.key_file,
	    keyring_count(kr), api ? " and " : "",
	    api ? h->cfg.api_token_file : "");
}

/* Take no new connections; record what is queued (no connection may stay
 * suspended when the daemon stops; later POSTs record their own) and give
 * the POSTs up to 2 s to be answered. */
static void stop(struct httpd *h, struct MHD_Daemon *d)
{
	MHD_socket lfd = MHD_quiesce_daemon(d);

	routes_stopping();
	events_stop(h->events);
	committer_stop(h->cm);
	for (int i = 0; i < 200 && routes_posts_open() > 0; i++)
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	MHD_stop_daemon(d);
	if (lfd != MHD_INVALID_SOCKET)
		close(lfd);
	committer_free(h->cm);
	events_free(h->events);
	store_close(h->st);
}

static void usage(void)
{
	fprintf(stderr, "usage: unsub-httpd [-f] [-n] [-c FILE] [-u NAME[:GROUP]]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct daemon_args a;
	struct httpd h;
	struct MHD_Daemon *d;
	char *cert = NULL, *key = NULL, err[1024];
	int rc, sig, fd;
	sigset_t set;

	if (daemon_args(argc, argv, CONFIG_FILE_DEFAULT, &a) < 0)
		usage();
	memset(&h, 0, sizeof(h));
	pthread_rwlock_init(&h.kr_lock, NULL);
	rc = load(a.config, &h, &cert, &key, err, sizeof(err));
	if (rc == 0 && cert != NULL &&
	    MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		snprintf(err, sizeof(err), "this libmicrohttpd has no TLS");
		rc = -1;
	}
	if (rc == 0 && a.check)
		rc = daemon_check(&a, &h.cfg, NULL, err, sizeof(err));
	if (rc < 0 || a.check) {
		if (rc < 0)
			fprintf(stderr, "unsub-httpd: %s\n", err);
		else
			printf("configuration OK\n");
		keyring_free(h.kr);
		bearer_free(h.api);
		free(cert);
		free(key);
		return rc < 0 ? 1 : 0;
	}
	if (daemon_begin("unsub-httpd", &h.cfg, &a, err, sizeof(err)) < 0)
		log_fatal("%s", err);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if ((fd = daemon_listen_tcp(h.cfg.http_listen)) < 0)
		log_fatal("cannot listen on %s: %s", h.cfg.http_listen,
		    strerror(errno));
	if (h.cfg.pid_file[0] != '\0' &&
	    daemon_pidfile_write(h.cfg.pid_file, err, sizeof(err)) < 0)
		log_fatal("%s", err);
	if (daemon_settle(&a, &h.cfg, &h.st, err, sizeof(err)) < 0)
		log_fatal("%s", err);
	if ((h.events = events_start(h.st)) == NULL ||
	    (h.cm = committer_start(h.st, routes_recorded, h.events)) == NULL)
		log_fatal("cannot start the writer thread");
	if ((d = start(&h, fd, cert, key)) == NULL)
		log_fatal("cannot start the HTTP server on %s",
		    h.cfg.http_listen);
	log_info("listening on %s%s, one-click URLs under %s", h.cfg.http_listen,
	    cert ? " (HTTPS)" : "", h.prefix);
	daemon_ready();
	sigdelset(&set, SIGPIPE);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig != SIGHUP && sig != SIGUSR1)
			break;
		reload_keys(&h);
	}
	log_info("stopping on signal %d", sig);
	stop(&h, d);
	keyring_free(h.kr);
	bearer_free(h.api);
	free(cert);
	free(key);
	return 0;
}
