/* main.c - unsub-milter: options, keys, socket, privileges, smfi_main. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "milter.h"

static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;
static struct snap *snap_current;
static struct store *the_store;
static const char *config_path;
/* Take a reference to the current configuration. */
struct snap *snap_get(void)
{
	struct snap *s;

	pthread_mutex_lock(&snap_lock);
	s = snap_current;
	s->refs++;
	pthread_mutex_unlock(&snap_lock);
	return s;
}

/* Drop a reference; the last one frees the snapshot. */
void snap_put(struct snap *s)
{
	int last;

	pthread_mutex_lock(&snap_lock);
	last = --s->refs == 0;
	pthread_mutex_unlock(&snap_lock);
	if (last) {
		keyring_free(s->kr);
		free(s);
	}
}

struct store *milter_store(void)
{
	return the_store;
}

/* Read config and keyring into a new snapshot; NULL with err on failure. */
static struct snap *snap_load(const char *path, char *err, size_t errsz)
{
	struct snap *s = calloc(1, sizeof(*s));
	struct sockaddr_storage ss;

	if (s == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	s->refs = 1;
	config_defaults(&s->cfg);
	if (config_load(path, &s->cfg, err, errsz) != 0 ||
	    keyring_load(s->cfg.key_file, &s->kr, err, errsz) != 0) {
		free(s);
		return NULL;
	}
	if (s->cfg.metrics_listen[0] != '\0' &&
	    daemon_parse_listen(s->cfg.metrics_listen, &ss) < 0) {
		snprintf(err, errsz, "%s: MetricsListen \"%s\": want "
		    "address:port or [address]:port", path,
		    s->cfg.metrics_listen);
		snap_put(s);
		return NULL;
	}
	if (s->cfg.url[0] == '\0' && s->cfg.mailbox[0] == '\0') {
		snprintf(err, errsz, "%s: set UnsubscribeURL or "
		    "UnsubscribeMailbox (or both): List-Unsubscribe needs one",
		    path);
		snap_put(s);
		return NULL;
	}
	return s;
}

/* Swap in a fresh snapshot; connections keep theirs until they close. */
static void reload(void)
{
	char err[1024];
	struct snap *s = snap_load(config_path, err, sizeof(err)), *old;

	if (s == NULL) {
		log_err("reload failed, keeping the running configuration: %s",
		    err);
		return;
	}
	if (strcmp(s->cfg.database, snap_current->cfg.database) != 0 ||
	    strcmp(s->cfg.socket, snap_current->cfg.socket) != 0)
		log_warn("reload: Socket and Database changes need a restart");
	log_set_level((enum log_level)s->cfg.log_level);
	pthread_mutex_lock(&snap_lock);
	old = snap_current;
	snap_current = s;
	pthread_mutex_unlock(&snap_lock);
	snap_put(old);
	log_info("reloaded %s (%zu keys)", config_path, keyring_count(s->kr));
}

/* libmilter's accept loop.  It ends by itself only on a listener
 * failure, or when libmilter's own signal thread took a stop signal (one
 * that came while the main thread was reloading): the daemon ends with
 * it. */
static void *milter_thread(void *arg)
{
	(void)arg;
	if (smfi_main() != MI_SUCCESS)
		log_fatal("libmilter's listener failed (its reason is in the "
		    "mail log)");
	log_info("stopping: libmilter stopped");
	exit(0);
}

/* Refuse a unix socket another live process is listening on. */
static void check_socket_free(const char *spec)
{
	struct sockaddr_un sun;
	const char *path = daemon_unix_path(spec);
	int fd;

	if (path == NULL || strlen(path) >= sizeof(sun.sun_path))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		log_fatal("socket %s is in use by another process", path);
	close(fd);
}

/* Listen on Socket, or exit saying why; a unix socket gets the user's
 * owner and group, and SocketMode. */
static void listen_socket(const struct config *cfg, const char *user)
{
	const char *path = daemon_unix_path(cfg->socket);
	char err[1024];

	check_socket_free(cfg->socket);
	errno = 0;
	if (smfi_register(milter_desc) != MI_SUCCESS ||
	    smfi_setconn((char *)cfg->socket) != MI_SUCCESS ||
	    smfi_opensocket(1) != MI_SUCCESS) {
		if (path != NULL && daemon_socket_dir(path, err,
		    sizeof(err)) < 0)
			log_fatal("cannot listen on %s: %s", cfg->socket, err);
		log_fatal("cannot listen on %s: %s", cfg->socket, errno ?
		    strerror(errno) : "libmilter's reason is in the mail log");
	}
	if (path != NULL && daemon_socket_claim(path, user,
	    (unsigned)cfg->socket_mode, err, sizeof(err)) < 0)
		log_fatal("%s", err);
}

static void usage(void)
{
	fprintf(stderr, "usage: unsub-milter [-f] [-n] [-c FILE] [-u NAME[:GROUP]]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct daemon_args a;
	char err[1024];
	sigset_t set;
	pthread_t tid;
	int sig, metrics_fd = -1;

	if (daemon_args(argc, argv, CONFIG_FILE_DEFAULT, &a) < 0)
		usage();
	config_path = a.config;
	if ((snap_current = snap_load(config_path, err, sizeof(err))) == NULL ||
	    (a.check && daemon_check(&a, &snap_current->cfg,
	    snap_current->cfg.socket, err, sizeof(err)) < 0)) {
		fprintf(stderr, "unsub-milter: %s\n", err);
		return 1;
	}
	if (a.check) {
		printf("configuration OK\n");
		snap_put(snap_current);
		return 0;
	}
	if (daemon_begin("unsub-milter", &snap_current->cfg, &a, err,
	    sizeof(err)) < 0)
		log_fatal("%s", err);
	listen_socket(&snap_current->cfg, a.user);
	/* Only once the socket is ours: a second copy that cannot listen
	 * must not replace the running one's pidfile. */
	if (snap_current->cfg.pid_file[0] != '\0' &&
	    daemon_pidfile_write(snap_current->cfg.pid_file, err,
	    sizeof(err)) < 0)
		log_fatal("%s", err);
	if (snap_current->cfg.metrics_listen[0] != '\0' &&
	    (metrics_fd = daemon_listen_tcp(snap_current->cfg.metrics_listen))
	    < 0)
		log_fatal("cannot listen on MetricsListen %s: %s",
		    snap_current->cfg.metrics_listen, strerror(errno));
	if (daemon_nodelay_listeners() < 0)
		log_warn("TCP_NODELAY on the milter socket: %s",
		    strerror(errno));
	if (daemon_settle(&a, &snap_current->cfg, &the_store, err,
	    sizeof(err)) < 0)
		log_fatal("%s", err);
	/* Every thread blocks these and the main thread takes them with
	 * sigwait: Linux gives a signal sent to the process to its main
	 * thread when that one waits for it, before libmilter's signal
	 * thread, whose stop would wait out its 5 s accept timeout. */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (metrics_fd >= 0 && metrics_start(metrics_fd) < 0)
		log_fatal("cannot serve /metrics on %s",
		    snap_current->cfg.metrics_listen);
	if (pthread_create(&tid, NULL, milter_thread, NULL) != 0)
		log_fatal("cannot start the milter thread");
	log_info("started on %s (%zu keys, store %s)",
	    snap_current->cfg.socket, keyring_count(snap_current->kr),
	    snap_current->cfg.database);
	daemon_ready();
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig != SIGUSR1)
			break;
		reload();
	}
	/* Stop now: every unsubscribe was committed and synced before its
	 * reply, so a session cut short was never acknowledged and the MTA
	 * tries again.  The store stays open (session threads may be in a
	 * transaction: a reference they register now is committed at once);
	 * exit releases it, removes the pidfile and the socket if it is
	 * still ours. */
	log_info("stopping on signal %d", sig);
	store_ref_flush(the_store);	/* the references, journal removed */
	return 0;
}
