/* test_config.c - the config parser on good and bad files. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "unit.h"

/* Write text to a temp file; returns its path (static buffer). */
static const char *temp_file(const char *text)
{
	static char path[64];
	int fd;

	strcpy(path, "/tmp/unsub-conf-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

/* The bounce and complaint keys: a good row of files[], whose values
 * values_land_in_fields reads back. */
static const char reports_conf[] =
    "BounceMailbox bounces@sender.example, fbl@sender.example\n"
    "ComplaintMailbox fbl@sender.example\nSoftBounceLimit 5\n"
    "SoftBounceWindow 2w\nComplaintScope list\nKeepReports yes\n"
    "FeedbackID %c:%l:%p:100%%\n";

static const struct {
	const char *text;
	const char *err;	/* NULL: must load; else substring of error */
} files[] = {
	{ "# comment only\n\n", NULL },
	{ "Socket inet:8890@127.0.0.1\nKEYFILE /k # trailing\n", NULL },
	{ "UnsubscribeMailbox unsubscribe@unsub.example.com\n"
	  "UnsubscribeURL https://unsub.example.com/u/\n"
	  "InternalHosts 127.0.0.1, ::1 10.0.0.0/8,192.168.0.0/16\n"
	  "ListHeader X-List\nReplaceExisting no\nMaxBodyBytes 64k\n"
	  "SuppressedAction discard\nLogLevel debug\n", NULL },
	{ "Sockett unix:/x\n", ":1: unknown key \"Sockett\"" },
	{ "\n\nReplaceExisting maybe\n", ":3: ReplaceExisting must be yes or no" },
	{ "MaxBodyBytes 12\n", ":1: MaxBodyBytes must be a number from" },
	{ "MaxBodyBytes 1x\n", ":1: MaxBodyBytes must be a number" },
	{ "InternalHosts 10.0.0.0/33\n", ":1: bad network \"10.0.0.0/33\"" },
	{ "InternalHosts example.com\n", ":1: bad network" },
	{ "SuppressedAction bounce\n", ":1: SuppressedAction: \"bounce\"" },
	{ "UnsubscribeMailbox not-an-address\n", ":1: UnsubscribeMailbox: "
	  "address has no @domain" },
	{ "UnsubscribeMailbox "
	  "a-very-long-local-part-for-an-unsubscribe-mailbox@example.com\n",
	  ":1: UnsubscribeMailbox: local part too long" },
	{ "UnsubscribeURL ftp://x/\n", ":1: UnsubscribeURL must start with" },
	{ "UnsubscribeURL https://unsub.example.com/unsub?t=\n",
	  ":1: UnsubscribeURL must end in a path the token completes: no ?" },
	{ "UnsubscribeURL https://unsub.example.com\n",
	  ":1: UnsubscribeURL must end in a path the token completes: no ?" },
	{ "UnsubscribeURL https://unsub.example.com/unsub-\n", NULL },
	{ "LogLevel loud\n", ":1: LogLevel must be" },
	{ "SocketMode 0999\n", ":1: SocketMode must be an octal mode" },
	{ "Socket inet6:8890@::1\n", NULL },
	{ "Socket local:/run/m.sock\n", NULL },
	/* a key given twice: the second line would silently win */
	{ "Socket inet6:8890@::1\nSocket local:/run/m.sock\n",
	  ":2: Socket given twice (first at /tmp/unsub-conf-" },
	{ "InternalHosts 10.0.0.0/8\n\nINTERNALHOSTS 127.0.0.1\n",
	  ":3: InternalHosts given twice (first at /tmp/unsub-conf-" },
	/* a UTF-8 byte order mark is skipped at the start, nowhere else */
	{ "\xEF\xBB\xBFSocket unix:/x\n", NULL },
	{ "Socket unix:/x\n\xEF\xBB\xBFKeyFile /k\n", ":2: unknown key" },
	/* headers: ListHeader set, each header one meaning */
	{ "ListHeader\n", "ListHeader is empty (line 1)" },
	{ "ProfileHeader x-unsub-list\n", "ListHeader names the same header "
	  "as ProfileHeader (line 1)" },
	{ "ListHeader X-A\nCampaignHeader x-a\n", "ListHeader (line 1) names "
	  "the same header as CampaignHeader (line 2)" },
	{ "CampaignHeader List-Unsubscribe-Post\n", "CampaignHeader "
	  "(line 1) names the same header as List-Unsubscribe-Post" },
	{ "ListHeader List-Unsubscribe\n", "names the same header as "
	  "List-Unsubscribe" },
	{ "ProfileHeader\nCampaignHeader\n", NULL },	/* both off */
	/* a map limit below the map it starts with */
	{ "DatabaseMapSize 1m\nDatabaseMapMax 512k\n", "DatabaseMapMax 524288 "
	  "(line 2) is below DatabaseMapSize 1048576 (line 1)" },
	{ "DatabaseMapMax 512k\n", "is below DatabaseMapSize 67108864" },
	{ "DatabaseMapSize 1m\nDatabaseMapMax 1m\n", NULL },
	/* a mailbox a mailto URI would have to escape */
	{ "UnsubscribeMailbox un?sub@example.com\n", ":1: UnsubscribeMailbox: "
	  "'?' would have to be escaped" },
	{ "UnsubscribeMailbox un%sub@example.com\n", ":1: UnsubscribeMailbox: "
	  "'%' would have to be escaped" },
	{ "UnsubscribeMailbox un&sub@example.com\n", ":1: UnsubscribeMailbox: "
	  "'&' would have to be escaped" },
	{ "UnsubscribeMailbox un/sub@example.com\n", ":1: UnsubscribeMailbox: "
	  "'/' would have to be escaped" },
	{ "UnsubscribeMailbox u.n-s_u+b=x@ex-ample.example.com\n", NULL },
	{ "Socket bogus\n", ":1: Socket \"bogus\": want unix:/path" },
	{ "Socket inet:@127.0.0.1\n", ":1: Socket \"inet:@127.0.0.1\"" },
	{ "Socket unix:relative\n", ":1: Socket \"unix:relative\"" },
	{ "KeyFile\n", ":1: KeyFile needs a value" },
	{ "ListHeader bad header:\n", ":1: ListHeader \"bad header:\" is not a "
	  "header field name" },
	{ "CampaignHeader X-Camp:\n", ":1: CampaignHeader \"X-Camp:\"" },
	{ reports_conf, NULL },
	{ "BounceMailbox bounces@sender.example nobody\n",
	  ":1: BounceMailbox: \"nobody\": address has no @domain" },
	{ "ComplaintMailbox <fbl@sender.example>\n",
	  ":1: ComplaintMailbox: \"<fbl@sender.example>\": not a plain" },
	{ "SoftBounceLimit 0\n", ":1: SoftBounceLimit must be a number from 1 "
	  "to 100" },
	{ "SoftBounceWindow 30y\n", ":1: SoftBounceWindow must be a number" },
	{ "SoftBounceWindow 10s\n", ":1: SoftBounceWindow must be a number "
	  "from 60" },
	{ "ComplaintScope some\n", ":1: ComplaintScope: \"some\"" },
	{ "FeedbackID %l:%x\n", ":1: FeedbackID: only %l, %c, %p and %% may "
	  "follow %" },
	{ "FeedbackID %l%l%l%l%l%l%l%l\n", ":1: FeedbackID: only" },
};

START_TEST(files_good_and_bad)
{
	struct config c;
	char err[512] = "";
	const char *path = temp_file(files[_i].text);
	int rc;

	config_defaults(&c);
	rc = config_load(path, &c, err, sizeof(err));
	if (files[_i].err == NULL)
		ck_assert_msg(rc == 0, "row %d: got error \"%s\", want OK", _i,
		    err);
	else {
		ck_assert_msg(rc != 0, "row %d: got OK, want \"%s\"", _i,
		    files[_i].err);
		ck_assert_msg(strstr(err, files[_i].err) != NULL &&
		    strncmp(err, path, strlen(path)) == 0,
		    "row %d: got \"%s\", want \"%s%s\"", _i, err, path,
		    files[_i].err);
	}
	unlink(path);
}
END_TEST

START_TEST(values_land_in_fields)
{
	struct config c;
	char err[512];
	const char *path = temp_file(files[2].text);

	config_defaults(&c);
	ck_assert_int_eq(config_load(path, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.mailbox, "unsubscribe@unsub.example.com");
	ck_assert_str_eq(c.url, "https://unsub.example.com/u/");
	ck_assert_str_eq(c.list_header, "X-List");
	ck_assert_int_eq(c.replace_existing, 0);
	ck_assert_uint_eq(c.max_body, 65536);
	ck_assert_uint_eq(c.n_internal, 4);
	ck_assert_int_eq(c.suppressed_action, CONFIG_SUPP_DISCARD);
	unlink(path);
	path = temp_file(reports_conf);
	ck_assert_int_eq(config_load(path, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.bounce_mailbox, "bounces@sender.example, "
	    "fbl@sender.example");
	ck_assert_uint_eq(c.soft_limit, 5);
	ck_assert_uint_eq(c.soft_window, 14 * 86400);
	ck_assert_int_eq(c.complaint_scope_all, 0);
	ck_assert_int_eq(c.keep_reports, 1);
	ck_assert_str_eq(c.feedback_id, "%c:%l:%p:100%%");
	unlink(path);
}
END_TEST

START_TEST(defaults)
{
	struct config c;

	config_defaults(&c);
	ck_assert_str_eq(c.list_header, "X-Unsub-List");
	ck_assert_int_eq(c.replace_existing, 1);
	ck_assert_int_eq(c.suppressed_action, CONFIG_SUPP_REJECT);
	ck_assert_int_eq(c.store_failure, CONFIG_STOREFAIL_TEMPFAIL);
	ck_assert_int_eq(c.pass_untokened, 1);
	ck_assert_uint_eq(c.max_body, 262144);
	ck_assert_uint_eq(c.socket_mode, 0660);
	ck_assert_uint_eq(c.n_internal, 2);
	ck_assert_str_eq(c.bounce_mailbox, "");
	ck_assert_uint_eq(c.soft_limit, 3);
	ck_assert_uint_eq(c.soft_window, 30 * 86400);
	ck_assert_int_eq(c.complaint_scope_all, 1);
	ck_assert_int_eq(c.keep_reports, 0);
	ck_assert_str_eq(c.feedback_id, "");
}
END_TEST

static const struct {
	const char *nets, *addr;
	int want;
} nets[] = {
	{ "127.0.0.1", "127.0.0.1", 1 },
	{ "127.0.0.1", "127.0.0.2", 0 },
	{ "10.0.0.0/8", "10.200.3.4", 1 },
	{ "10.0.0.0/8", "11.0.0.1", 0 },
	{ "192.168.16.0/20", "192.168.31.255", 1 },
	{ "192.168.16.0/20", "192.168.32.0", 0 },
	{ "::1", "::1", 1 },
	{ "2001:db8::/32", "2001:db8:ffff::1", 1 },
	{ "2001:db8::/32", "2001:db9::1", 0 },
	{ "127.0.0.0/8", "::ffff:127.0.0.9", 1 },
	{ "0.0.0.0/0", "203.0.113.7", 1 },
};

START_TEST(internal_hosts)
{
	struct config c;
	char err[256];
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr *sa;

	config_defaults(&c);
	ck_assert_int_eq(config_set(&c, "internalhosts", nets[_i].nets, err,
	    sizeof(err)), 0);
	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, nets[_i].addr, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		sa = (struct sockaddr *)&sin;
	} else {
		ck_assert_int_eq(inet_pton(AF_INET6, nets[_i].addr,
		    &sin6.sin6_addr), 1);
		sin6.sin6_family = AF_INET6;
		sa = (struct sockaddr *)&sin6;
	}
	ck_assert_msg(config_internal(&c, sa) == nets[_i].want,
	    "%s in %s: got %d, want %d", nets[_i].addr, nets[_i].nets,
	    !nets[_i].want, nets[_i].want);
}
END_TEST

START_TEST(missing_file)
{
	struct config c;
	char err[256];

	config_defaults(&c);
	ck_assert_int_ne(config_load("/nonexistent.conf", &c, err, sizeof(err)),
	    0);
	ck_assert_msg(strstr(err, "/nonexistent.conf: No such file") != NULL,
	    "got \"%s\"", err);
}
END_TEST

/* Every key in the option table is documented in the man page and in the
 * example config (tests run from the repository root). */
static void key_documented(const char *key, const char *doc, void *arg)
{
	static const char *const files[] = { "man/unsub-milter.conf.5",
		"conf/unsub-milter.conf" };
	char want[128], line[1024];

	(void)doc; (void)arg;
	for (size_t i = 0; i < 2; i++) {
		FILE *fp = fopen(files[i], "r");
		int found = 0;
		ck_assert_msg(fp != NULL, "cannot open %s", files[i]);
		snprintf(want, sizeof(want), i == 0 ? ".B %s\n" : "%s ", key);
		while (!found && fgets(line, sizeof(line), fp) != NULL)
			found = strncmp(line + (i == 1 && line[0] == '#'), want,
			    strlen(want)) == 0;
		fclose(fp);
		ck_assert_msg(found, "key %s is not documented in %s", key,
		    files[i]);
	}
}

START_TEST(every_key_documented)
{
	config_dump_keys(key_documented, NULL);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_add_loop_test(tc, files_good_and_bad, 0,
	    sizeof(files) / sizeof(files[0]));
	tcase_add_test(tc, values_land_in_fields);
	tcase_add_test(tc, defaults);
	tcase_add_loop_test(tc, internal_hosts, 0, sizeof(nets) / sizeof(nets[0]));
	tcase_add_test(tc, missing_file);
	tcase_add_test(tc, every_key_documented);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(config_suite)
