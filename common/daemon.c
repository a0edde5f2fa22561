/* daemon.c - privilege drop and pidfile for the daemons. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "daemon.h"

int daemon_drop_privileges(const char *user, char *err, size_t errsz)
{
	struct passwd *pw;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errsz, "user %s: %s", user,
		    errno ? strerror(errno) : "no such user");
		return -1;
	}
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

/* At exit, fatal or not, remove the pidfile we wrote. */
static void pidfile_remove(void)
{
	unlink(pidfile);
}

int daemon_pidfile_write(const char *path, char *err, size_t errsz)
{
	char tmp[1100];
	FILE *fp;

	snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long)getpid());
	if ((fp = fopen(tmp, "we")) == NULL) {
		snprintf(err, errsz, "pidfile %s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(fp, "%ld\n", (long)getpid());
	if (fclose(fp) != 0 || rename(tmp, path) != 0) {
		snprintf(err, errsz, "pidfile %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (pidfile[0] == '\0')
		atexit(pidfile_remove);
	snprintf(pidfile, sizeof(pidfile), "%s", path);
	return 0;
}
