/* test_bearer.c - APITokenFile: what loads, what is refused (mode, short
 * or spaced secrets, none), and which candidates match. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bearer.h"
#include "unit.h"

#define S1 "0123456789abcdef"			/* BEARER_MIN long */
#define S2 "second-secret-for-rotation-XYZ"

/* Write text to a fresh file with mode; returns its path (static). */
static const char *write_file(const char *text, mode_t mode)
{
	static char path[64];
	FILE *fp;
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_bearer.XXXXXX");
	fd = mkstemp(path);
	ck_assert_msg(fd >= 0, "mkstemp failed");
	fp = fdopen(fd, "w");
	fputs(text, fp);
	fclose(fp);
	chmod(path, mode);
	return path;
}

static const struct {
	const char *text;
	mode_t mode;
	int want;		/* bearer_load's code */
	size_t n;		/* secrets loaded when BEARER_OK */
} files[] = {
	{ S1 "\n", 0600, BEARER_OK, 1 },
	{ "# rotation\n\n" S1 "\r\n  \n" S2 "  \n", 0400, BEARER_OK, 2 },
	{ S2, 0600, BEARER_OK, 1 },				/* no newline */
	{ S1 "\n", 0640, BEARER_EPERM, 0 },
	{ S1 "\n", 0604, BEARER_EPERM, 0 },
	{ "0123456789abcde\n", 0600, BEARER_EFORMAT, 0 },	/* 15 */
	{ "0123456789 abcdef\n", 0600, BEARER_EFORMAT, 0 },	/* space */
	{ "# only a comment\n\n", 0600, BEARER_EFORMAT, 0 },
	{ "", 0600, BEARER_EFORMAT, 0 },
};

START_TEST(load)
{
	const char *path = write_file(files[_i].text, files[_i].mode);
	struct bearer *b = NULL;
	char err[256] = "";
	int rc = bearer_load(path, &b, err, sizeof(err));

	unlink(path);
	ck_assert_msg(rc == files[_i].want, "file %d: got %d (%s), want %d",
	    _i, rc, err, files[_i].want);
	if (rc == BEARER_OK)
		ck_assert_msg(bearer_count(b) == files[_i].n,
		    "file %d: got %zu secrets, want %zu", _i, bearer_count(b),
		    files[_i].n);
	else
		ck_assert_msg(b == NULL && strstr(err, path) != NULL,
		    "file %d: want no set and the path in \"%s\"", _i, err);
	bearer_free(b);
}
END_TEST

static const struct {
	const char *cand;
	int want;
} cands[] = {
	{ S1, 1 },
	{ S2, 1 },
	{ "0123456789abcdeF", 0 },	/* case matters */
	{ S1 "0", 0 },			/* a prefix match is no match */
	{ "0123456789abcde", 0 },
	{ "", 0 },
};

START_TEST(check)
{
	const char *path = write_file(S1 "\n" S2 "\n", 0600);
	struct bearer *b = NULL;
	char err[256];
	int got;

	ck_assert_msg(bearer_load(path, &b, err, sizeof(err)) == BEARER_OK,
	    "load: %s", err);
	unlink(path);
	got = bearer_check(b, cands[_i].cand, strlen(cands[_i].cand));
	ck_assert_msg(got == cands[_i].want, "\"%s\": got %d, want %d",
	    cands[_i].cand, got, cands[_i].want);
	bearer_free(b);
}
END_TEST

START_TEST(missing)
{
	struct bearer *b = NULL;
	char err[256] = "";

	ck_assert_msg(bearer_load("/nonexistent/api-tokens", &b, err,
	    sizeof(err)) == BEARER_EIO && b == NULL,
	    "a missing file: want BEARER_EIO, got \"%s\"", err);
}
END_TEST

/* A FIFO named as the file (no writer): refused at once, as KeyFile is;
 * a plain open would wait for a writer for ever. */
START_TEST(fifo_refused)
{
	char path[] = "/tmp/unsub-bearer-fifo-XXXXXX";
	struct bearer *b = NULL;
	char err[256] = "";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	close(fd);
	unlink(path);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_msg(bearer_load(path, &b, err, sizeof(err)) == BEARER_EIO &&
	    b == NULL && strstr(err, "not a regular file") != NULL,
	    "a FIFO: want BEARER_EIO \"not a regular file\", got \"%s\"",
	    err);
	unlink(path);
}
END_TEST

static Suite *bearer_suite(void)
{
	Suite *s = suite_create("bearer");
	TCase *tc = tcase_create("bearer");

	tcase_add_loop_test(tc, load, 0, sizeof(files) / sizeof(files[0]));
	tcase_add_loop_test(tc, check, 0, sizeof(cands) / sizeof(cands[0]));
	tcase_add_test(tc, missing);
	tcase_add_test(tc, fifo_refused);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(bearer_suite)
