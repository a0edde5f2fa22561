/* daemon.c - the daemons' start-up: options, -n checks, detaching with
 * the child's verdict, privilege drop, pidfile, the unix socket's owner and
 * removal. */
#include <arpa/inet.h>
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
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "daemon.h"
#include "log.h"

/* A "NAME[:GROUP]" looked up. */
struct ident {
	char name[64];
	uid_t uid;
	gid_t gid;		/* GROUP's, else the user's own group */
};

/* Look up "NAME[:GROUP]" (opendkim's UserID form); -1 with err. */
static int ident_lookup(const char *spec, struct ident *id, char *err,
    size_t errsz)
{
	const char *colon = strchr(spec, ':');
	size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
	struct passwd *pw;
	struct group *gr;

	if (n == 0 || n >= sizeof(id->name) || (colon && colon[1] == '\0')) {
		snprintf(err, errsz, "user \"%s\": want NAME or NAME:GROUP",
		    spec);
		return -1;
	}
	memcpy(id->name, spec, n);
	id->name[n] = '\0';
	errno = 0;
	if ((pw = getpwnam(id->name)) == NULL) {
		snprintf(err, errsz, "user %s: %s", id->name, errno ?
		    strerror(errno) : "no such user (adduser --system --group "
		    "unsub creates one)");
		return -1;
	}
	id->uid = pw->pw_uid;
	id->gid = pw->pw_gid;
	errno = 0;
	if (colon != NULL && (gr = getgrnam(colon + 1)) == NULL) {
		snprintf(err, errsz, "group %s: %s", colon + 1, errno ?
		    strerror(errno) : "no such group");
		return -1;
	}
	if (colon != NULL)
		id->gid = gr->gr_gid;
	return 0;
}

int daemon_drop_privileges(const char *user, char *err, size_t errsz)
{
	struct ident id;

	if (ident_lookup(user, &id, err, errsz) < 0)
		return -1;
	/* Started as that user already (systemd's User=): nothing to drop,
	 * and initgroups would fail; the group is the one it was given
	 * (Group=), which a unix socket then gets. */
	if (getuid() == id.uid && geteuid() == id.uid)
		return 0;
	if (setgid(id.gid) < 0 || initgroups(id.name, id.gid) < 0 ||
	    setuid(id.uid) < 0) {
		snprintf(err, errsz, "cannot become %s: %s", user,
		    strerror(errno));
		return -1;
	}
	if (id.uid != 0 && (setuid(0) == 0 || geteuid() == 0)) {
		snprintf(err, errsz, "privileges of %s could be regained", user);
		return -1;
	}
	return 0;
}

/* Drop to `user` (if set), then refuse to be root. */
static int become(const struct daemon_args *a, const char *user, char *err,
    size_t errsz)
{
	if (user != NULL && daemon_drop_privileges(user, err, errsz) < 0)
		return -1;
	if (geteuid() == 0) {
		snprintf(err, errsz, "refusing to run as root: set User in %s "
		    "or use -u", a->config);
		return -1;
	}
	return 0;
}

const char *daemon_unix_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	return NULL;
}

int daemon_socket_dir(const char *path, char *err, size_t errsz)
{
	char dir[CONFIG_PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		slash[slash == dir] = '\0';
	if (access(dir, W_OK | X_OK) == 0)
		return 0;
	snprintf(err, errsz, "socket directory %s: %s (create it writable by "
	    "the daemon's user, e.g. install -d -o unsub -g postfix -m 0750 %s)",
	    dir, strerror(errno), dir);
	return -1;
}

/* The store already on disk fits under DatabaseMapMax: LMDB maps at
 * least the file's size, so a smaller limit would never hold. */
static int map_fits(const struct config *cfg, char *err, size_t errsz)
{
	char path[CONFIG_PATH_MAX + 16];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/data.mdb", cfg->database);
	if (cfg->map_max == 0 || stat(path, &sb) < 0 ||
	    (size_t)sb.st_size <= cfg->map_max)
		return 0;
	snprintf(err, errsz, "DatabaseMapMax %zu is below the size of %s "
	    "(%lld bytes): raise it", cfg->map_max, path,
	    (long long)sb.st_size);
	return -1;
}

/* daemon_check's child: become the user, then look at every path. */
static int check_as(const struct daemon_args *a, const char *user,
    const struct config *cfg, const char *path, char *err, size_t errsz)
{
	struct store_opts ro = { .read_only = 1 };
	struct store *st;
	struct passwd *pw;
	const char *who;
	int rc;

	if (become(a, user, err, errsz) < 0 ||
	    (path != NULL && daemon_socket_dir(path, err, errsz) < 0))
		return -1;
	pw = getpwuid(geteuid());
	who = pw ? pw->pw_name : "the daemon's user";
	if (access(cfg->database, W_OK | X_OK) < 0) {
		snprintf(err, errsz, "store directory %s: %s as %s (install -d "
		    "-o %s -m 0750 %s)", cfg->database, strerror(errno), who,
		    who, cfg->database);
		return -1;
	}
	if (map_fits(cfg, err, errsz) < 0)
		return -1;
	if (access(cfg->key_file, R_OK) < 0) {
		snprintf(err, errsz, "key file %s: %s as %s (unsubctl genkey "
		    "creates it; chown %s %s; chmod 0600 %s)", cfg->key_file,
		    strerror(errno), who, who, cfg->key_file, cfg->key_file);
		return -1;
	}
	/* a truncated or corrupt data.mdb, as the open at start sees it (no
	 * store yet is a new one) */
	if ((rc = store_open(cfg->database, &ro, &st)) == STORE_ECORRUPT) {
		snprintf(err, errsz, "store: %s", store_strerror(rc));
		return -1;
	}
	store_close(st);
	return 0;
}

int daemon_check(const struct daemon_args *a, const struct config *cfg,
    const char *socket, char *err, size_t errsz)
{
	const char *user = a->user ? a->user :
	    cfg->user[0] != '\0' ? cfg->user : NULL;
	const char *path = socket ? daemon_unix_path(socket) : NULL;
	ssize_t n = 0;
	int fd[2], status = 1;
	pid_t pid;

	/* A child takes the user's identity, so that access() answers for
	 * it; its verdict comes back through the pipe. */
	if (pipe(fd) < 0 || (pid = fork()) < 0) {
		snprintf(err, errsz, "cannot check: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		close(fd[0]);
		if (check_as(a, user, cfg, path, err, errsz) == 0)
			_exit(0);
		_exit(write(fd[1], err, strlen(err)) < 0 ? 2 : 1);
	}
	close(fd[1]);
	while ((n = read(fd[0], err, errsz - 1)) < 0 && errno == EINTR)
		;
	close(fd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (n > 0)
		err[n] = '\0';
	else
		snprintf(err, errsz, "the check as %s failed", user ? user :
		    "this user");
	return -1;
}

/* The unix socket we made, removed at exit while it is still ours. */
static char sock_path[CONFIG_PATH_MAX];
static dev_t sock_dev;
static ino_t sock_ino;

/* At exit, fatal or not: the socket goes unless another copy replaced it
 * (compared by device and inode, as recorded when it was made). */
static void socket_remove(void)
{
	struct stat st;

	if (lstat(sock_path, &st) == 0 && st.st_dev == sock_dev &&
	    st.st_ino == sock_ino)
		unlink(sock_path);
}

int daemon_socket_claim(const char *path, const char *user, unsigned mode,
    char *err, size_t errsz)
{
	struct ident id;
	struct stat st;
	int rc = lstat(path, &st);

	if (rc == 0 && !S_ISSOCK(st.st_mode)) {
		rc = -1;
		errno = ENOTSOCK;
	}
	if (rc < 0) {
		snprintf(err, errsz, "socket %s: %s", path, strerror(errno));
		return -1;
	}
	if (sock_path[0] == '\0')
		atexit(socket_remove);
	snprintf(sock_path, sizeof(sock_path), "%s", path);
	sock_dev = st.st_dev;
	sock_ino = st.st_ino;
	if (user != NULL && ident_lookup(user, &id, err, errsz) < 0)
		return -1;
	if (user != NULL && lchown(path, id.uid, id.gid) < 0) {
		snprintf(err, errsz, "chown %s to %s: %s", path, user,
		    strerror(errno));
		return -1;
	}
	if (chmod(path, (mode_t)mode) < 0) {
		snprintf(err, errsz, "chmod %s: %s", path, strerror(errno));
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

/* The write end of the pipe to a detached child's waiting parent. */
static int ready_fd = -1;
static const char *ready_ident;

int daemon_begin(const char *ident, const struct config *cfg,
    struct daemon_args *a, char *err, size_t errsz)
{
	int fd[2], status;
	ssize_t n;
	char c;
	pid_t pid;

	/* stderr too until ready: a detached child's reason for failing
	 * reaches the operator who started it. */
	log_open(ident, 1);
	log_set_level((enum log_level)cfg->log_level);
	if (a->user == NULL && cfg->user[0] != '\0')
		a->user = cfg->user;
	if (a->foreground)
		return 0;
	if (pipe2(fd, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		snprintf(err, errsz, "cannot detach: %s", strerror(errno));
		return -1;
	}
	if (pid > 0) {
		close(fd[1]);
		while ((n = read(fd[0], &c, 1)) < 0 && errno == EINTR)
			;
		if (n == 1)
			_exit(0);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		_exit(WIFEXITED(status) && WEXITSTATUS(status) != 0 ?
		    WEXITSTATUS(status) : 1);
	}
	close(fd[0]);
	ready_fd = fd[1];
	ready_ident = ident;
	if (setsid() < 0 || chdir("/") < 0) {
		snprintf(err, errsz, "cannot detach: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void daemon_ready(void)
{
	int null;

	if (ready_fd < 0)
		return;
	if ((null = open("/dev/null", O_RDWR)) >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
	log_open(ready_ident, 0);
	if (write(ready_fd, "R", 1) != 1)
		log_warn("telling the parent we are ready: %s",
		    strerror(errno));
	close(ready_fd);
	ready_fd = -1;
}

int daemon_settle(const struct daemon_args *a, const struct config *cfg,
    struct store **st, char *err, size_t errsz)
{
	struct store_opts so = { cfg->map_size, cfg->map_max, 0,
		cfg->sync_host };
	const char *why;
	size_t n, left;
	int rc;

	if (become(a, a->user, err, errsz) < 0)
		return -1;
	if ((rc = store_open(cfg->database, &so, st)) != STORE_OK) {
		snprintf(err, errsz, "store: %s", store_strerror(rc));
		return -1;
	}
	if ((n = store_replayed(*st, &left, &why)) > 0)
		log_warn("store: %zu mailto references from the journal of a "
		    "process that stopped without committing them", n);
	if (left > 0)
		log_warn("store: %zu journals of stopped processes not "
		    "committed, kept for the next start (%s)", left, why);
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

void daemon_deadline(clockid_t clock, int64_t ms, struct timespec *ts)
{
	clock_gettime(clock, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

int daemon_parse_listen(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	char host[128];
	const char *colon = strrchr(s, ':');
	char *end;
	unsigned long port;

	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		return -1;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || port > 65535)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		host[strlen(host) - 1] = '\0';
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		return inet_pton(AF_INET6, host + 1, &sin6->sin6_addr) == 1 ?
		    0 : -1;
	}
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1;
}

int daemon_listen_tcp(const char *spec)
{
	struct sockaddr_storage ss;
	int fd, one = 1;

	if (daemon_parse_listen(spec, &ss) < 0 ||
	    (fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, ss.ss_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) < 0 ||
	    listen(fd, 512) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* OpenSSL's first queued error, for a message; the queue is emptied. */
static const char *tls_reason(void)
{
	static __thread char buf[256];
	unsigned long e = ERR_get_error();

	if (e == 0)
		return "no PEM data";
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

int daemon_tls_pair(const char *cert_pem, const char *key_pem,
    const char *cert_path, const char *key_path, char *err, size_t errsz)
{
	BIO *cb = BIO_new_mem_buf(cert_pem, -1);
	BIO *kb = BIO_new_mem_buf(key_pem, -1);
	X509 *x = NULL;
	EVP_PKEY *k = NULL;
	int rc = -1;

	if (cb == NULL || kb == NULL)
		snprintf(err, errsz, "TLS check: %s", tls_reason());
	else if ((x = PEM_read_bio_X509(cb, NULL, NULL, NULL)) == NULL)
		snprintf(err, errsz, "HTTPCertificate %s: not a PEM "
		    "certificate: %s", cert_path, tls_reason());
	else if ((k = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL)) == NULL)
		snprintf(err, errsz, "HTTPKey %s: not a PEM private key (or "
		    "one with a passphrase): %s", key_path, tls_reason());
	else if (X509_check_private_key(x, k) != 1)
		snprintf(err, errsz, "HTTPKey %s is not the key of "
		    "HTTPCertificate %s: %s", key_path, cert_path, tls_reason());
	else
		rc = 0;
	ERR_clear_error();
	EVP_PKEY_free(k);
	X509_free(x);
	BIO_free(kb);
	BIO_free(cb);
	return rc;
}
