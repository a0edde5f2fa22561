/* test_report.c - DSNs and ARF reports: the real fixtures of
 * tests/fixtures/reports (LF and CRLF) and hostile variants made from
 * them; only a token of ours in the returned original names anyone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keyring.h"
#include "report.h"
#include "unit.h"

#define DIR "tests/fixtures/reports/"
#define BIG (1 << 20)

static struct keyring *kr, *foreign;

/* Load a keyring from a copy made 0600 (git keeps no modes), or a new
 * key when path is NULL. */
static struct keyring *load_keys(const char *path)
{
	char tmp[] = "/tmp/unsub-report-XXXXXX", cmd[256], err[256];
	struct keyring *k = NULL;
	uint32_t id;
	int fd = mkstemp(tmp);

	ck_assert_int_ge(fd, 0);
	close(fd);
	if (path != NULL) {
		snprintf(cmd, sizeof(cmd), "cp %s %s", path, tmp);
		ck_assert_int_eq(system(cmd), 0);
	} else {
		unlink(tmp);
		ck_assert_int_eq(keyring_generate(tmp, 1, &id, err,
		    sizeof(err)), 0);
	}
	ck_assert_int_eq(keyring_load(tmp, &k, err, sizeof(err)), 0);
	unlink(tmp);
	return k;
}

static void setup(void)
{
	kr = load_keys(DIR "keys");
	foreign = load_keys(NULL);
}

static void teardown(void)
{
	keyring_free(kr);
	keyring_free(foreign);
}

/* A fixture, with LF line ends or CRLF. */
static char *fixture(const char *name, int crlf)
{
	char path[256];
	char *buf = calloc(1, BIG), *out = calloc(1, 2 * BIG);
	size_t n, o = 0;
	FILE *fp;

	snprintf(path, sizeof(path), DIR "%s", name);
	ck_assert_msg((fp = fopen(path, "r")) != NULL, "cannot open %s", path);
	n = fread(buf, 1, BIG - 1, fp);
	fclose(fp);
	for (size_t i = 0; i < n; i++) {
		if (crlf && buf[i] == '\n')
			out[o++] = '\r';
		out[o++] = buf[i];
	}
	free(buf);
	return out;
}

/* Replace the first `from` in msg (BIG * 2 bytes) with `to`. */
static void edit(char *msg, const char *from, const char *to)
{
	char *p = strstr(msg, from);

	ck_assert_msg(p != NULL, "fixture lacks \"%s\"", from);
	memmove(p + strlen(to), p + strlen(from), strlen(p + strlen(from)) + 1);
	memcpy(p, to, strlen(to));
}

/* Parse msg with keyring k; returns report_parse's status. */
static int parse(const char *msg, const struct keyring *k, struct report *r)
{
	struct mailparse *mp = mailparse_new(4 << 20);
	int rc;

	ck_assert_ptr_nonnull(mp);
	unit_feed(mp, msg);
	rc = report_parse(mp, k, "unsubscribe@unsub.example.com", r);
	mailparse_free(mp);
	return rc;
}

static const struct {
	const char *file;
	int rc;
	enum report_type type;
	const char *address;	/* the token's, "" none */
	enum report_kind kind;
	const char *status;
} cases[] = {
	{ "dsn-postfix-5.1.1.eml", REPORT_OK, REPORT_DSN, "gone@example.com",
	  REPORT_HARD, "5.1.1" },
	{ "dsn-postfix-5.2.2.eml", REPORT_OK, REPORT_DSN, "full@example.com",
	  REPORT_SOFT, "5.2.2" },
	{ "dsn-postfix-4.2.2-expired.eml", REPORT_OK, REPORT_DSN,
	  "busy@example.com", REPORT_SOFT, "4.2.2" },
	{ "dsn-postfix-5.7.1.eml", REPORT_OK, REPORT_DSN, "spam@example.com",
	  REPORT_IGNORE, "5.7.1" },
	{ "dsn-postfix-delayed.eml", REPORT_OK, REPORT_DSN, "slow@example.com",
	  REPORT_IGNORE, "4.2.0" },
	{ "arf-abuse.eml", REPORT_OK, REPORT_ARF, "reader@example.com",
	  REPORT_COMPLAINT, "" },
	{ "arf-not-spam.eml", REPORT_OK, REPORT_ARF, "reader@example.com",
	  REPORT_IGNORE, "" },
	{ "arf-headers-redacted.eml", REPORT_OK, REPORT_ARF,
	  "reader@example.com", REPORT_COMPLAINT, "" },
	{ "arf-rfc5965-b1.eml", REPORT_OK, REPORT_ARF, "", REPORT_IGNORE, "" },
	{ "original-bulk.eml", REPORT_ENOTREPORT, REPORT_NONE, "",
	  REPORT_IGNORE, "" },
};

START_TEST(fixtures)
{
	for (int crlf = 0; crlf < 2; crlf++) {
		char *msg = fixture(cases[_i].file, crlf);
		struct report r;
		int rc = parse(msg, kr, &r);

		ck_assert_msg(rc == cases[_i].rc, "%s crlf=%d: rc got %d, "
		    "want %d", cases[_i].file, crlf, rc, cases[_i].rc);
		ck_assert_msg(r.type == cases[_i].type, "%s: type got %d, want "
		    "%d", cases[_i].file, r.type, cases[_i].type);
		ck_assert_msg(strcmp(r.found ? r.claims.address : "",
		    cases[_i].address) == 0, "%s crlf=%d: named got \"%s\", "
		    "want \"%s\"", cases[_i].file, crlf, r.found ?
		    r.claims.address : "", cases[_i].address);
		ck_assert_msg(r.kind == cases[_i].kind, "%s: kind got %s, "
		    "want %s", cases[_i].file, report_kind_name(r.kind),
		    report_kind_name(cases[_i].kind));
		ck_assert_msg(strcmp(r.block ? r.block->status : "",
		    cases[_i].status) == 0, "%s: status got \"%s\", want "
		    "\"%s\"", cases[_i].file, r.block ? r.block->status : "",
		    cases[_i].status);
		ck_assert_msg(!r.found || r.has_ref, "%s: the mailto's "
		    "reference was not seen", cases[_i].file);
		free(msg);
	}
}
END_TEST

/* The history detail of a recorded report. */
static const struct {
	const char *file, *detail;
} details[] = {
	{ "dsn-postfix-5.1.1.eml", "status=5.1.1 mta=mta.test.example "
	  "list=news campaign=c42 diagnostic=550 5.1.1 <gone@example.com>: "
	  "Recipient address rejected: <gone@example.com>: Recipient address "
	  "rejected: User unknown in vi..." },
	{ "arf-abuse.eml", "feedback=abuse reporter=mail.example.com "
	  "list=news campaign=c42" },
};

START_TEST(detail)
{
	char *msg = fixture(details[_i].file, 1), d[STORE_DETAIL_MAX + 1];
	struct report r;

	ck_assert_int_eq(parse(msg, kr, &r), REPORT_OK);
	report_detail(&r, d);
	ck_assert_msg(strcmp(d, details[_i].detail) == 0, "%s: detail got "
	    "\"%s\", want \"%s\"", details[_i].file, d, details[_i].detail);
	free(msg);
}
END_TEST

/* Hostile variants of the 5.1.1 DSN: an edit, the token's address (""
 * none), the wanted verdict. */
static const struct {
	const char *what, *from, *to, *address;
	enum report_kind kind;
} hostile[] = {
	/* a forged report naming an address: no List-Unsubscribe */
	{ "no token", "List-Unsubscribe: <https://unsub.example.com/u/",
	  "X-Nothing: <https://example.net/x/", "", REPORT_IGNORE },
	/* the https token altered; the mailto's tokens still name gone */
	{ "one token altered", "/u/Aao", "/u/Aap", "gone@example.com",
	  REPORT_HARD },
	/* a second block, for another address, delivered: ours counts */
	{ "blocks, ours failed", "Final-Recipient: rfc822; gone",
	  "Final-Recipient: rfc822; other@example.com\nAction: delivered\n"
	  "Status: 2.0.0\n\nFinal-Recipient: rfc822; gone",
	  "gone@example.com", REPORT_HARD },
	/* ours delivered, a forged block fails someone else */
	{ "blocks, ours delivered", "Action: failed",
	  "Action: delivered\nStatus: 2.0.0\n\nFinal-Recipient: rfc822; "
	  "x@example.com\nAction: failed", "gone@example.com", REPORT_IGNORE },
	/* blocks that name nobody we know and disagree: nothing */
	{ "blocks disagree", "Original-Recipient: rfc822;gone@example.com\n",
	  "", "gone@example.com", REPORT_IGNORE },
	/* a huge header in the original before List-Unsubscribe */
	{ "huge header", "X-Mailer: ", NULL, "gone@example.com", REPORT_HARD },
	/* the original as message/global (RFC 6533), or quoted inline */
	{ "message/global", "Content-Type: message/rfc822",
	  "Content-Type: message/global", "gone@example.com", REPORT_HARD },
	{ "inline original", "Content-Type: message/rfc822",
	  "Content-Type: text/plain", "gone@example.com", REPORT_HARD },
	/* a Status that is no status */
	{ "bad status", "Status: 5.1.1", "Status: 5.1.1x", "gone@example.com",
	  REPORT_IGNORE },
};

START_TEST(hostile_variants)
{
	char *msg = fixture("dsn-postfix-5.1.1.eml", 0);
	struct report r;
	int i = _i;

	if (hostile[i].to != NULL) {
		edit(msg, hostile[i].from, hostile[i].to);
		if (strcmp(hostile[i].what, "no token") == 0)
			edit(msg, "<mailto:unsubscribe+", "<mailto:nobody+");
		if (strcmp(hostile[i].what, "blocks disagree") == 0)
			edit(msg, "Final-Recipient: rfc822; gone@example.com",
			    "Final-Recipient: rfc822; a@example.com\nAction: "
			    "delivered\n\nFinal-Recipient: rfc822; b@example.com");
	} else {	/* 300 000 characters of header field */
		char *big = malloc(300020);
		memset(big, 'a', 300010);
		memcpy(big, "X-Mailer: ", 10);
		big[300010] = '\0';
		edit(msg, "X-Mailer: ", big);
		free(big);
	}
	ck_assert_int_eq(parse(msg, kr, &r), REPORT_OK);
	ck_assert_msg(strcmp(r.found ? r.claims.address : "",
	    hostile[i].address) == 0, "%s: named got \"%s\", want \"%s\"",
	    hostile[i].what, r.found ? r.claims.address : "",
	    hostile[i].address);
	ck_assert_msg(r.kind == hostile[i].kind, "%s: kind got %s, want %s",
	    hostile[i].what, report_kind_name(r.kind),
	    report_kind_name(hostile[i].kind));
	free(msg);
}
END_TEST

START_TEST(foreign_key_names_nobody)
{
	char *msg = fixture(_i ? "arf-abuse.eml" : "dsn-postfix-5.1.1.eml", 0);
	struct report r;

	ck_assert_int_eq(parse(msg, foreign, &r), REPORT_OK);
	ck_assert_msg(!r.found, "a token under another key named %s",
	    r.claims.address);
	ck_assert_int_eq(r.worst, TOKEN_EKEY);
	ck_assert_int_eq(r.kind, REPORT_IGNORE);
	free(msg);
}
END_TEST

START_TEST(many_blocks_are_bounded)
{
	char *msg = fixture("dsn-postfix-5.1.1.eml", 0), blocks[8192] = "";
	struct report r;
	size_t o = 0;

	for (int i = 0; i < 40; i++)
		o += (size_t)snprintf(blocks + o, sizeof(blocks) - o,
		    "Final-Recipient: rfc822; r%d@example.com\nAction: failed\n"
		    "Status: 5.1.1\n\n", i);
	/* 40 forged blocks first: ours is past the kept ones */
	edit(msg, "Final-Recipient: rfc822; gone", strcat(blocks,
	    "Final-Recipient: rfc822; gone"));
	ck_assert_int_eq(parse(msg, kr, &r), REPORT_OK);
	ck_assert_uint_eq(r.n_rcpt, 41);
	ck_assert_msg(r.kind == REPORT_IGNORE, "kind got %s, want nothing: "
	    "our block was not kept and the rest is unknown",
	    report_kind_name(r.kind));
	free(msg);
}
END_TEST

START_TEST(diagnostic_escaped_and_cut)
{
	const char *head = "Diagnostic-Code: smtp; 550 \033[31m\001red";
	char *msg = fixture("dsn-postfix-5.1.1.eml", 0), diag[600];
	struct report r;

	memset(diag, 'x', sizeof(diag));
	memcpy(diag, head, strlen(head));
	diag[sizeof(diag) - 1] = '\0';
	edit(msg, "Diagnostic-Code: smtp; 550", diag);
	ck_assert_int_eq(parse(msg, kr, &r), REPORT_OK);
	ck_assert_ptr_nonnull(r.block);
	ck_assert_msg(strncmp(r.block->diagnostic, "550 \\x1b[31m\\x01red",
	    19) == 0, "diagnostic got \"%s\"", r.block->diagnostic);
	ck_assert_msg(strlen(r.block->diagnostic) < REPORT_TEXT_MAX &&
	    strcmp(r.block->diagnostic + strlen(r.block->diagnostic) - 3,
	    "...") == 0, "diagnostic not cut with ...: \"%s\"",
	    r.block->diagnostic);
	free(msg);
}
END_TEST

START_TEST(mailboxes)
{
	static const struct {
		const char *rcpt;
		int want;
	} t[] = {
		{ "<bounces@sender.example>", 1 },
		{ "BOUNCES@Sender.Example", 1 },
		{ "<fbl@sender.example>", 1 },
		{ "<bounces@sender.example.net>", 0 },
		{ "<xbounces@sender.example>", 0 },
		{ "<news@sender.example>", 0 },
		{ "", 0 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_msg(report_mailbox("bounces@sender.example,  "
		    "fbl@sender.example", t[i].rcpt) == t[i].want,
		    "%s: got %d, want %d", t[i].rcpt, !t[i].want, t[i].want);
}
END_TEST

static Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("report");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, fixtures, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_loop_test(tc, detail, 0, sizeof(details) / sizeof(details[0]));
	tcase_add_loop_test(tc, hostile_variants, 0,
	    sizeof(hostile) / sizeof(hostile[0]));
	tcase_add_loop_test(tc, foreign_key_names_nobody, 0, 2);
	tcase_add_test(tc, many_blocks_are_bounded);
	tcase_add_test(tc, diagnostic_escaped_and_cut);
	tcase_add_test(tc, mailboxes);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(report_suite)
