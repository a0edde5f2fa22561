/* daemon.h - start-up chores shared by unsub-milter and unsub-httpd. */
#ifndef UNSUB_DAEMON_H
#define UNSUB_DAEMON_H

#include <stddef.h>

#include "config.h"
#include "store.h"

/* The options both daemons take: -c FILE -f -n -u USER. */
struct daemon_args {
	const char *config;
	const char *user;	/* -u, else the config's User, else NULL */
	int foreground;
	int check;
};

/* Parse the options; -1 on a usage error. */
int daemon_args(int argc, char **argv, const char *default_config,
    struct daemon_args *a);
/* Start logging as `ident`, take User from the config unless -u was
 * given, and detach unless in the foreground.  -1 with err on failure. */
int daemon_begin(const char *ident, const struct config *cfg,
    struct daemon_args *a, char *err, size_t errsz);
/* After the listening socket is open: drop to the user (refusing to stay
 * root), then open the store as that user.  -1 with err on failure. */
int daemon_settle(const struct daemon_args *a, const struct config *cfg,
    struct store **st, char *err, size_t errsz);

/* setgid, initgroups, setuid to `user`; -1 with `err` on any failure. */
int daemon_drop_privileges(const char *user, char *err, size_t errsz);
/* Write our pid to `path` (replaced atomically); it is removed at exit. */
int daemon_pidfile_write(const char *path, char *err, size_t errsz);

/* TCP_NODELAY on this process's listening TCP sockets (libmilter's, which
 * it does not expose); -1 (errno set) if one could not take it. */
int daemon_nodelay_listeners(void);

#endif
