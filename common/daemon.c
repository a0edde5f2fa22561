/* daemon.c - privilege drop and pidfile for the daemons. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

int daemon_drop_privileges(const char *user, char *err, size_t errsz)
{
	struct passwd *pw;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errsz, "user %s: %s", user,
		    errno ? strerror(errno) : "no such user");
		return -1;
	}
	/* Started as that user already (systemd's User=): nothing to drop,
	 * and initgroups would fail. */
	if (getuid() == pw->pw_uid && geteuid() == pw->pw_uid &&
	    getgid() == pw->pw_gid && getegid() == pw->pw_gid)
		return 0;
	if (setgid(pw->pw_gid) < 0 || initgroups(user, pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		snprintf(err, errsz, "cannot become %s: %s", user,
		    strerror(errno));
		return -1;
	}
	if (pw->pw_uid != 0 && (setuid(0) == 0 || geteuid() == 0)) {
		snprintf(err, errsz, "privileges of %s could be regained", user);
		return -1;
	}
	return 0;
}

static char pidfile[1024];
static pid_t pidfile_pid;

/* At exit, fatal or not, remove the pidfile we wrote, unless another
 * process has written its own since. */
static void pidfile_remove(void)
{
	char buf[32];
	FILE *fp;

	if (getpid() != pidfile_pid || (fp = fopen(pidfile, "re")) == NULL)
		return;
	if (fgets(buf, sizeof(buf), fp) != NULL &&
	    strtol(buf, NULL, 10) == (long)pidfile_pid)
		unlink(pidfile);
	fclose(fp);
}

int daemon_pidfile_write(const char *path, char *err, size_t errsz)
{
	char tmp[1100], line[32];
	int fd, len, ok;

	/* A fresh file (never one someone planted: O_EXCL, O_NOFOLLOW),
	 * renamed over the old one. */
	snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long)getpid());
	len = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0644)) < 0) {
		snprintf(err, errsz, "pidfile %s: %s", path, strerror(errno));
		return -1;
	}
	ok = write(fd, line, (size_t)len) == len;
	if (close(fd) != 0 || !ok || rename(tmp, path) != 0) {
		snprintf(err, errsz, "pidfile %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (pidfile[0] == '\0')
		atexit(pidfile_remove);
	snprintf(pidfile, sizeof(pidfile), "%s", path);
	pidfile_pid = getpid();
	return 0;
}

int daemon_args(int argc, char **argv, const char *default_config,
    struct daemon_args *a)
{
	int ch;

	a->config = default_config;
	a->user = NULL;
	a->foreground = a->check = 0;
	while ((ch = getopt(argc, argv, "c:fnu:")) != -1) {
		switch (ch) {
		case 'c': a->config = optarg; break;
		case 'f': a->foreground = 1; break;
		case 'n': a->check = 1; break;
		case 'u': a->user = optarg; break;
		default: return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

int daemon_begin(const char *ident, const struct config *cfg,
    struct daemon_args *a, char *err, size_t errsz)
{
	log_open(ident, a->foreground);
	log_set_level((enum log_level)cfg->log_level);
	if (a->user == NULL && cfg->user[0] != '\0')
		a->user = cfg->user;
	if (!a->foreground && daemon(0, 0) < 0) {
		snprintf(err, errsz, "daemon: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int daemon_settle(const struct daemon_args *a, const struct config *cfg,
    struct store **st, char *err, size_t errsz)
{
	struct store_opts so = { cfg->map_size, cfg->map_max, 0 };
	int rc;

	if (a->user != NULL &&
	    daemon_drop_privileges(a->user, err, errsz) < 0)
		return -1;
	if (geteuid() == 0) {
		snprintf(err, errsz, "refusing to run as root: set User in %s "
		    "or use -u", a->config);
		return -1;
	}
	if ((rc = store_open(cfg->database, &so, st)) != STORE_OK) {
		snprintf(err, errsz, "store: %s", store_strerror(rc));
		return -1;
	}
	return 0;
}

/*
 * libmilter does not expose its listening socket.  Find our listening TCP
 * sockets and set TCP_NODELAY on them (Linux copies it to accepted
 * sockets): libmilter writes the end-of-message reply and each message
 * edit in separate writes, and without it each write after the first
 * waits for the MTA's delayed ACK (~40 ms).
 */
int daemon_nodelay_listeners(void)
{
	int one = 1, rc = 0;

	for (int fd = 3; fd < 64; fd++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int listening = 0;
		socklen_t llen = sizeof(listening);
		if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ||
		    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) ||
		    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening,
		    &llen) < 0 || !listening)
			continue;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one)) < 0)
			rc = -1;
	}
	return rc;
}
