/* synccount.c - an LD_PRELOAD shim for tests/store/t-store.sh: counts
 * the calls that make LMDB's writes durable (fdatasync, fsync, msync on
 * the data, and pwrite to a descriptor opened O_DSYNC or O_SYNC: the
 * meta page) and appends "syncs=N dsync_writes=M" to $SYNCCOUNT_FILE at
 * exit.  Built for the tests only, never installed. */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static _Atomic unsigned long syncs, dsync_writes;

/* The next definition of name (libc's). */
static void *next(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);

	if (f == NULL)
		abort();
	return f;
}

int fdatasync(int fd)
{
	static int (*real)(int);

	if (real == NULL)
		real = (int (*)(int))next("fdatasync");
	syncs++;
	return real(fd);
}

int fsync(int fd)
{
	static int (*real)(int);

	if (real == NULL)
		real = (int (*)(int))next("fsync");
	syncs++;
	return real(fd);
}

int msync(void *addr, size_t len, int flags)
{
	static int (*real)(void *, size_t, int);

	if (real == NULL)
		real = (int (*)(void *, size_t, int))next("msync");
	if (flags & MS_SYNC)
		syncs++;
	return real(addr, len, flags);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	static ssize_t (*real)(int, const void *, size_t, off_t);
	int fl = fcntl(fd, F_GETFL);

	if (real == NULL)
		real = (ssize_t (*)(int, const void *, size_t, off_t))
		    next("pwrite");
	if (fl >= 0 && (fl & (O_DSYNC | O_SYNC)))
		dsync_writes++;
	return real(fd, buf, n, off);
}

/* Append this process's counts. */
__attribute__((destructor)) static void report(void)
{
	const char *path = getenv("SYNCCOUNT_FILE");
	FILE *fp;

	if (path != NULL && (fp = fopen(path, "a")) != NULL) {
		fprintf(fp, "syncs=%lu dsync_writes=%lu\n", syncs,
		    dsync_writes);
		fclose(fp);
	}
}
