/* daemon.h - start-up chores shared by unsub-milter and unsub-httpd. */
#ifndef UNSUB_DAEMON_H
#define UNSUB_DAEMON_H

#include <stddef.h>

/* setgid, initgroups, setuid to `user`; -1 with `err` on any failure. */
int daemon_drop_privileges(const char *user, char *err, size_t errsz);
/* Write our pid to `path` (replaced atomically); it is removed at exit. */
int daemon_pidfile_write(const char *path, char *err, size_t errsz);

#endif
