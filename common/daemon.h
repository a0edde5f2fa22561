/* daemon.h - start-up chores shared by unsub-milter and unsub-httpd. */
#ifndef UNSUB_DAEMON_H
#define UNSUB_DAEMON_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/socket.h>

#include "config.h"
#include "store.h"

/* The options both daemons take: -c FILE -f -n -u NAME[:GROUP]. */
struct daemon_args {
	const char *config;
	const char *user;	/* -u, else the config's User, else NULL */
	int foreground;
	int check;
};

/* Parse the options; -1 on a usage error. */
int daemon_args(int argc, char **argv, const char *default_config,
    struct daemon_args *a);
/* -n: what start-up needs, checked as the user the daemon will run as:
 * not root, the unix socket's directory (when `socket` is set) and the
 * store directory writable, a store on disk no larger than DatabaseMapMax,
 * the key file readable.  -1 with err (the
 * path, strerror and the fix) on the first that fails. */
int daemon_check(const struct daemon_args *a, const struct config *cfg,
    const char *socket, char *err, size_t errsz);
/* HTTPCertificate and HTTPKey (their PEM texts, paths for messages) are a
 * certificate and its private key.  -1 with err naming the file and
 * OpenSSL's reason. */
int daemon_tls_pair(const char *cert_pem, const char *key_pem,
    const char *cert_path, const char *key_path, char *err, size_t errsz);
/* Start logging as `ident`, take User from the config unless -u was
 * given, and unless in the foreground fork: the parent exits 0 once the
 * child calls daemon_ready, else with the child's status (its reason on
 * stderr).  -1 with err on failure. */
int daemon_begin(const char *ident, const struct config *cfg,
    struct daemon_args *a, char *err, size_t errsz);
/* Listening and settled: a detached child lets its parent exit 0 and
 * stops writing to stderr. */
void daemon_ready(void);
/* After the listening socket is open: drop to the user (refusing to stay
 * root), then open the store as that user.  -1 with err on failure. */
int daemon_settle(const struct daemon_args *a, const struct config *cfg,
    struct store **st, char *err, size_t errsz);

/* setgid (GROUP, else the user's group), initgroups, setuid to the user
 * of "NAME[:GROUP]"; -1 with `err` on any failure. */
int daemon_drop_privileges(const char *user, char *err, size_t errsz);
/* Write our pid to `path` (replaced atomically); it is removed at exit. */
int daemon_pidfile_write(const char *path, char *err, size_t errsz);

/* The path of a unix: or local: socket spec, or NULL. */
const char *daemon_unix_path(const char *spec);
/* Why a unix socket cannot be made at `path` (its directory missing or
 * not writable by us), as err; 0 if nothing is wrong with it. */
int daemon_socket_dir(const char *path, char *err, size_t errsz);
/* The unix socket at `path` was just made by us: owned by `user`
 * ("NAME[:GROUP]", may be NULL) and its group, mode `mode`, and removed
 * at exit if it is still this socket (not one a newer copy made).  -1
 * with err on failure. */
int daemon_socket_claim(const char *path, const char *user, unsigned mode,
    char *err, size_t errsz);

/* TCP_NODELAY on this process's listening TCP sockets (libmilter's, which
 * it does not expose); -1 (errno set) if one could not take it. */
int daemon_nodelay_listeners(void);

/* The time ms milliseconds from now on clock, as a deadline for
 * pthread_cond_timedwait. */
void daemon_deadline(clockid_t clock, int64_t ms, struct timespec *ts);
/* Parse "host:port" or "[v6]:port" (HTTPListen, MetricsListen,
 * SyncMetricsListen) into ss: 0 or -1. */
int daemon_parse_listen(const char *s, struct sockaddr_storage *ss);
/* Bind and listen on such an address (before privileges are dropped);
 * the socket, or -1 with errno set. */
int daemon_listen_tcp(const char *spec);

#endif
