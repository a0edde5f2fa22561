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
static char made_socket[CONFIG_PATH_MAX];

/* At exit, fatal or not, remove the socket we made. */
static void remove_socket(void)
{
	if (made_socket[0] != '\0')
		unlink(made_socket);
}

/* The path of a unix: or local: socket spec, or NULL. */
static const char *unix_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	return NULL;
}

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

/* Waits for SIGUSR1 and reloads (libmilter owns HUP, TERM and INT). */
static void *reload_thread(void *arg)
{
	sigset_t *set = arg;
	int sig;

	for (;;)
		if (sigwait(set, &sig) == 0 && sig == SIGUSR1)
			reload();
	return NULL;
}

/* Refuse a unix socket another live process is listening on. */
static void check_socket_free(const char *spec)
{
	struct sockaddr_un sun;
	const char *path = unix_path(spec);
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

/* Let the MTA's user connect to a unix socket. */
static void socket_mode(const struct config *cfg)
{
	const char *path = unix_path(cfg->socket);

	if (path != NULL)
		snprintf(made_socket, sizeof(made_socket), "%s", path);
	if (path != NULL && chmod(path, (mode_t)cfg->socket_mode) < 0)
		log_fatal("chmod %s: %s", path, strerror(errno));
}

static void usage(void)
{
	fprintf(stderr, "usage: unsub-milter [-f] [-n] [-c FILE] [-u USER]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct daemon_args a;
	char err[1024];
	sigset_t set;
	pthread_t tid;
	int rc;

	if (daemon_args(argc, argv, CONFIG_FILE_DEFAULT, &a) < 0)
		usage();
	config_path = a.config;
	if ((snap_current = snap_load(config_path, err, sizeof(err))) == NULL) {
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
	check_socket_free(snap_current->cfg.socket);
	atexit(remove_socket);
	if (smfi_register(milter_desc) != MI_SUCCESS ||
	    smfi_setconn(snap_current->cfg.socket) != MI_SUCCESS ||
	    smfi_opensocket(1) != MI_SUCCESS)
		log_fatal("cannot listen on %s", snap_current->cfg.socket);
	socket_mode(&snap_current->cfg);
	/* Only once the socket is ours: a second copy that cannot listen
	 * must not replace the running one's pidfile. */
	if (snap_current->cfg.pid_file[0] != '\0' &&
	    daemon_pidfile_write(snap_current->cfg.pid_file, err,
	    sizeof(err)) < 0)
		log_fatal("%s", err);
	if (daemon_nodelay_listeners() < 0)
		log_warn("TCP_NODELAY on the milter socket: %s",
		    strerror(errno));
	if (daemon_settle(&a, &snap_current->cfg, &the_store, err,
	    sizeof(err)) < 0)
		log_fatal("%s", err);
	/* Every thread blocks these: libmilter's signal thread takes HUP,
	 * TERM and INT with sigwait, ours takes USR1. */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (pthread_create(&tid, NULL, reload_thread, &set) != 0)
		log_fatal("cannot start the reload thread");
	log_info("started on %s (%zu keys, store %s)",
	    snap_current->cfg.socket, keyring_count(snap_current->kr),
	    snap_current->cfg.database);
	rc = smfi_main();
	/* The store stays open: libmilter does not join its session
	 * threads, and one may still be in a transaction.  Every commit was
	 * synced before its reply; exit releases the rest, and the next
	 * store_open frees the reader slots we held. */
	log_info("stopping");
	return rc == MI_SUCCESS ? 0 : 1;
}
