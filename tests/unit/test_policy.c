/* test_policy.c - the per-message decisions, with a real keyring and store:
 * what the milter would do, seen without an MTA. */
#include <stdio.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "mint.h"
#include "policy.h"
#include "unit.h"

static char dir[64];
static struct config cfg;
static struct keyring *kr;
static struct store *st;

static void setup(void)
{
	char path[128], err[256];
	uint32_t id;
	struct store_opts o = { 0, 0, 0, NULL };

	strcpy(dir, "/tmp/unsub-policy-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/keys", dir);
	ck_assert_int_eq(keyring_generate(path, 1, &id, err, sizeof(err)), 0);
	ck_assert_int_eq(keyring_load(path, &kr, err, sizeof(err)), 0);
	ck_assert_int_eq(store_open(dir, &o, &st), STORE_OK);
	config_defaults(&cfg);
	ck_assert_int_eq(config_set(&cfg, "UnsubscribeMailbox",
	    "unsubscribe@unsub.example.com", err, sizeof(err)), 0);
	ck_assert_int_eq(config_set(&cfg, "UnsubscribeURL",
	    "https://unsub.example.com/u/", err, sizeof(err)), 0);
}

static void teardown(void)
{
	char cmd[128];

	store_close(st);
	keyring_free(kr);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Suppress `addr` for `scope` as a manual entry. */
static void suppress(const char *addr, const char *scope)
{
	struct store_event ev;
	int changed;

	memset(&ev, 0, sizeof(ev));
	strcpy(ev.address, addr);
	strcpy(ev.scope, scope);
	ev.action = STORE_UNSUBSCRIBE;
	ev.source = STORE_SRC_MANUAL;
	ck_assert_int_eq(store_record(st, &ev, &changed), STORE_OK);
}

static const struct {
	const char *name;
	int trusted;
	const char *rcpts[3];
	const char *list;	/* X-Unsub-List value or NULL */
	int existing_lu;
	enum policy_verdict verdict;
	int adds_lu;
	size_t del_rcpt;
	const char *log;	/* substring of the log line, or "" */
} out_rows[] = {
	{ "bulk, one rcpt", 1, { "<a@example.com>" }, "news", 0,
	  POLICY_ACCEPT, 1, 0, "List-Unsubscribe added" },
	{ "untrusted", 0, { "<a@example.com>" }, "news", 0, POLICY_ACCEPT, 0,
	  0, "" },
	{ "not bulk", 1, { "<a@example.com>" }, NULL, 0, POLICY_ACCEPT, 0, 0,
	  "" },
	{ "two rcpts", 1, { "<a@example.com>", "<b@example.com>" }, "news", 0,
	  POLICY_ACCEPT, 0, 0, "one message per recipient" },
	{ "replace existing", 1, { "<a@example.com>" }, "news", 1,
	  POLICY_ACCEPT, 1, 0, "application's replaced" },
	{ "suppressed for list", 1, { "<gone@example.com>" }, "news", 0,
	  POLICY_REJECT, 0, 0, "every recipient unsubscribed" },
	{ "suppressed for all", 1, { "<ALL@example.com>" }, "offers", 0,
	  POLICY_REJECT, 0, 0, "rejected" },
	{ "other list fine", 1, { "<gone@example.com>" }, "offers", 0,
	  POLICY_ACCEPT, 1, 0, "added" },
	{ "one of two suppressed", 1, { "<gone@example.com>",
	  "<b@example.com>" }, "news", 0, POLICY_ACCEPT, 1, 1,
	  "suppressed recipients removed" },
	{ "bad list id", 1, { "<a@example.com>" }, "two words", 0,
	  POLICY_ACCEPT, 0, 0, "no headers added" },
	{ "list id that names every list", 1, { "<a@example.com>" }, "*", 0,
	  POLICY_ACCEPT, 0, 0, "no headers added" },
	{ "two lists in one id", 1, { "<a@example.com>" }, "news,weekly", 0,
	  POLICY_ACCEPT, 0, 0, "with a comma; no headers added" },
};

START_TEST(outbound_rules)
{
	struct policy_msg m;
	struct policy_edits e;

	suppress("gone@example.com", "news");
	suppress("all@example.com", STORE_SCOPE_ALL);
	memset(&m, 0, sizeof(m));
	m.trusted = out_rows[_i].trusted;
	for (int r = 0; r < 3 && out_rows[_i].rcpts[r]; r++)
		ck_assert_int_eq(policy_rcpt(&cfg, &m, out_rows[_i].rcpts[r]), 0);
	policy_header(&cfg, &m, "Subject", "hello");
	if (out_rows[_i].list)
		policy_header(&cfg, &m, "X-Unsub-List", out_rows[_i].list);
	if (out_rows[_i].existing_lu)
		policy_header(&cfg, &m, "list-unsubscribe", "<mailto:x@y.z>");
	ck_assert_int_eq(policy_wants_body(&m), 0);
	policy_decide(&cfg, kr, st, &m, &e);
	ck_assert_msg(e.verdict == out_rows[_i].verdict, "%s: got verdict %d, "
	    "want %d (%s)", out_rows[_i].name, e.verdict,
	    out_rows[_i].verdict, e.log);
	ck_assert_msg((e.lu[0] != '\0') == out_rows[_i].adds_lu,
	    "%s: got List-Unsubscribe \"%s\", want %s", out_rows[_i].name,
	    e.lu, out_rows[_i].adds_lu ? "one" : "none");
	ck_assert_int_eq(e.add_lup, out_rows[_i].adds_lu);
	ck_assert_msg(e.n_del_rcpt == out_rows[_i].del_rcpt, "%s: got %zu "
	    "recipients removed, want %zu", out_rows[_i].name, e.n_del_rcpt,
	    out_rows[_i].del_rcpt);
	ck_assert_msg(strstr(e.log, out_rows[_i].log) != NULL,
	    "%s: got log \"%s\", want \"%s\"", out_rows[_i].name, e.log,
	    out_rows[_i].log);
	/* bulk mail that leaves without headers is the operator's to fix */
	ck_assert_msg(e.warn == (strstr(out_rows[_i].log, "no headers") !=
	    NULL || strstr(out_rows[_i].log, "one message per") != NULL),
	    "%s: got warn %d", out_rows[_i].name, e.warn);
	if (out_rows[_i].list && out_rows[_i].trusted) {
		ck_assert_str_eq(e.del_hdr[0], "X-Unsub-List");
		ck_assert_int_eq(e.del_count[0], 1);
	}
	if (out_rows[_i].verdict == POLICY_REJECT) {
		ck_assert_str_eq(e.rcode, "550");
		ck_assert_str_eq(e.xcode, "5.7.1");
		ck_assert_msg(strstr(e.reply, "unsubscribed") != NULL,
		    "got reply \"%s\"", e.reply);
	}
	policy_edits_free(&e);
	policy_msg_reset(&m);
}
END_TEST

/* Without UnsubscribeURL the only URI is a mailto: no List-Unsubscribe-Post
 * (RFC 8058 wants an https URI to POST to). */
START_TEST(mailto_only_has_no_post)
{
	struct policy_msg m;
	struct policy_edits e;
	char err[256];

	ck_assert_int_eq(config_set(&cfg, "UnsubscribeURL", "", err,
	    sizeof(err)), 0);
	memset(&m, 0, sizeof(m));
	m.trusted = 1;
	ck_assert_int_eq(policy_rcpt(&cfg, &m, "<a@example.com>"), 0);
	policy_header(&cfg, &m, "X-Unsub-List", "news");
	policy_decide(&cfg, kr, st, &m, &e);
	ck_assert_msg(strstr(e.lu, "<mailto:") != NULL &&
	    strstr(e.lu, "https://") == NULL, "got List-Unsubscribe \"%s\", "
	    "want a mailto alone", e.lu);
	ck_assert_msg(e.add_lup == 0, "got List-Unsubscribe-Post beside "
	    "\"%s\", want none", e.lu);
	policy_edits_free(&e);
	policy_msg_reset(&m);
}
END_TEST

/* More recipients than POLICY_RCPT_MAX: plain mail passes untouched, list
 * mail (whose recipients past the cap cannot be checked) is refused for
 * good, never tempfailed into a queue it cannot leave. */
static const struct {
	const char *name;
	int trusted;
	const char *list;
	enum policy_verdict verdict;
} over_rows[] = {
	{ "plain mail", 1, NULL, POLICY_ACCEPT },
	{ "untrusted list mail", 0, "news", POLICY_ACCEPT },
	{ "list mail", 1, "news", POLICY_REJECT },
};

START_TEST(recipients_over_cap)
{
	struct policy_msg m;
	struct policy_edits e;
	char rcpt[64];

	memset(&m, 0, sizeof(m));
	m.trusted = over_rows[_i].trusted;
	for (int i = 0; i <= POLICY_RCPT_MAX + 1; i++) {
		snprintf(rcpt, sizeof(rcpt), "<r%d@example.com>", i);
		ck_assert_msg(policy_rcpt(&cfg, &m, rcpt) == 0, "%s: recipient "
		    "%d refused", over_rows[_i].name, i);
	}
	if (over_rows[_i].list)
		policy_header(&cfg, &m, "X-Unsub-List", over_rows[_i].list);
	policy_decide(&cfg, kr, st, &m, &e);
	ck_assert_msg(e.verdict == over_rows[_i].verdict, "%s: got verdict "
	    "%d, want %d (%s)", over_rows[_i].name, e.verdict,
	    over_rows[_i].verdict, e.log);
	if (e.verdict == POLICY_ACCEPT)
		ck_assert_msg(e.n_del_hdr == 0 && e.n_del_rcpt == 0 &&
		    e.lu[0] == '\0' && e.tag[0] == '\0', "%s: got edits, want "
		    "none", over_rows[_i].name);
	else {
		ck_assert_str_eq(e.xcode, "5.5.3");
		ck_assert_msg(strstr(e.log, "1002 recipients") != NULL,
		    "got log \"%s\"", e.log);
	}
	policy_edits_free(&e);
	policy_msg_reset(&m);
}
END_TEST

/* SuppressedAction tag: the header never shows one recipient another's
 * address; a sole recipient may see their own. */
static const struct {
	const char *name;
	const char *rcpts[3];
	const char *tag;
} tag_rows[] = {
	{ "sole recipient", { "<gone@example.com>" }, "gone@example.com" },
	{ "one of two", { "<gone@example.com>", "<b@example.com>" },
	  "1 of 2 recipients" },
	{ "two of three", { "<b@example.com>", "<gone@example.com>",
	  "<all@example.com>" }, "2 of 3 recipients" },
};

START_TEST(tag_names_no_other_recipient)
{
	struct policy_msg m;
	struct policy_edits e;

	suppress("gone@example.com", "news");
	suppress("all@example.com", STORE_SCOPE_ALL);
	cfg.suppressed_action = CONFIG_SUPP_TAG;
	memset(&m, 0, sizeof(m));
	m.trusted = 1;
	for (int r = 0; r < 3 && tag_rows[_i].rcpts[r]; r++)
		ck_assert_int_eq(policy_rcpt(&cfg, &m, tag_rows[_i].rcpts[r]), 0);
	policy_header(&cfg, &m, "X-Unsub-List", "news");
	policy_decide(&cfg, kr, st, &m, &e);
	ck_assert_msg(strcmp(e.tag, tag_rows[_i].tag) == 0, "%s: got tag "
	    "\"%s\", want \"%s\"", tag_rows[_i].name, e.tag, tag_rows[_i].tag);
	ck_assert_msg(e.verdict == POLICY_ACCEPT && e.n_del_rcpt == 0,
	    "%s: got verdict %d, %zu removed, want accept, none removed",
	    tag_rows[_i].name, e.verdict, e.n_del_rcpt);
	ck_assert_msg(strstr(e.log, "gone@example.com") != NULL, "%s: got log "
	    "\"%s\", want the address for the operator", tag_rows[_i].name,
	    e.log);
	policy_edits_free(&e);
	policy_msg_reset(&m);
}
END_TEST

/* Mint a token for addr in a campaign; return the mailto recipient and
 * the body token. */
static void mint_in(const char *addr, const char *campaign, char *rcpt,
    size_t rcptsz, char *mtok, size_t mtoksz)
{
	struct token_claims c;
	char lu[HEADER_VALUE_MAX];
	const char *p, *q;
	int detail;

	memset(&c, 0, sizeof(c));
	strcpy(c.address, addr);
	strcpy(c.list, "news");
	strcpy(c.campaign, campaign);
	ck_assert_int_eq(mint_headers(&cfg, kr, st, &c, " ", lu, sizeof(lu),
	    &detail), MINT_OK);
	p = strstr(lu, "mailto:") + 7;
	q = strchr(p, '?');
	snprintf(rcpt, rcptsz, "<%.*s>", (int)(q - p), p);
	p = strstr(lu, "&body=") + 6;
	snprintf(mtok, mtoksz, "%.*s", (int)strcspn(p, ">"), p);
}

static void mint(const char *addr, char *rcpt, size_t rcptsz, char *mtok,
    size_t mtoksz)
{
	mint_in(addr, "c1", rcpt, rcptsz, mtok, mtoksz);
}

static void inbound_msg(struct policy_msg *m, const char *rcpt,
    const char *subject, const char *body)
{
	memset(m, 0, sizeof(*m));
	ck_assert_int_eq(policy_rcpt(&cfg, m, rcpt), 0);
	ck_assert_int_eq(policy_wants_body(m), 1);
	policy_header(&cfg, m, "Subject", subject);
	policy_body(m, (const uint8_t *)body, strlen(body));
}

START_TEST(inbound_by_reference_subject_and_forgery)
{
	char rcpt[300], mtok[TOKEN_TEXT_MAX], subj[TOKEN_TEXT_MAX + 20];
	struct policy_msg m;
	struct policy_edits e;
	int supp;

	/* local part only, upper-cased by some server */
	mint("r1@example.com", rcpt, sizeof(rcpt), mtok, sizeof(mtok));
	for (char *p = rcpt; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	inbound_msg(&m, rcpt, "unsubscribe", "generated by Gmail\r\n");
	policy_decide(&cfg, kr, st, &m, &e);
	ck_assert_msg(e.verdict == POLICY_DISCARD, "got %d: %s", e.verdict,
	    e.log);
	ck_assert_int_eq(store_check(st, "r1@example.com", "news", &supp, NULL,
	    0), STORE_OK);
	ck_assert_int_eq(supp, 1);
	policy_edits_free(&e);
	policy_msg_reset(&m);

	/* bare mailbox, token in the subject */
	mint("r2@example.com", rcpt, sizeof(rcpt), mtok, sizeof(mtok));
	snprintf(subj, sizeof(subj), "Re: unsubscribe %s", mtok);
	inbound_msg(&m, "<unsubscribe@unsub.example.com>", subj, "x\r\n");
	policy_decide(&cfg, kr, st, &m, &e);
	ck_assert_msg(e.verdict == POLICY_DISCARD, "got %d: %s", e.verdict,
	    e.log);
	policy_edits_free(&e);
	policy_msg_reset(&m);

	/* altered token: nothing recorded, passed on, logged */
	mint("r3@example.com", rcpt, sizeof(rcpt), mtok, sizeof(mtok));
	mtok[40] = mtok[40] == 'a' ? 'b' : 'a';
	snprintf(subj, sizeof(subj), "unsubscribe %s", mtok);
	inbound_msg(&m, "<unsubscribe@unsub.example.com>", subj, "x\r\n");
	policy_decide(&cfg, kr, st, &m, &e);
	ck_assert_int_eq(e.verdict, POLICY_ACCEPT);
	ck_assert_msg(strstr(e.log, "forged or altered") != NULL, "got \"%s\"",
	    e.log);
	ck_assert_int_eq(e.warn, 1);
	ck_assert_int_eq(store_check(st, "r3@example.com", "news", &supp, NULL,
	    0), STORE_OK);
	ck_assert_int_eq(supp, 0);
	policy_edits_free(&e);
	policy_msg_reset(&m);
}
END_TEST

/* An unsubscribe the store cannot take tempfails, even with StoreFailure
 * accept (which only lets outbound mail pass). */
START_TEST(inbound_store_failure_always_tempfails)
{
	char rcpt[300], mtok[TOKEN_TEXT_MAX], subj[TOKEN_TEXT_MAX + 20];
	char err[256];
	struct store_opts ro = { 0, 0, 1, NULL };
	struct store *rost;
	struct policy_msg m;
	struct policy_edits e;

	mint("r4@example.com", rcpt, sizeof(rcpt), mtok, sizeof(mtok));
	ck_assert_int_eq(config_set(&cfg, "StoreFailure", "accept", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(store_open(dir, &ro, &rost), STORE_OK);
	snprintf(subj, sizeof(subj), "unsubscribe %s", mtok);
	inbound_msg(&m, "<unsubscribe@unsub.example.com>", subj, "x\r\n");
	policy_decide(&cfg, kr, rost, &m, &e);
	ck_assert_msg(e.verdict == POLICY_TEMPFAIL && strcmp(e.rcode, "451") ==
	    0, "got verdict %d %s: %s, want 451 tempfail", e.verdict, e.rcode,
	    e.log);
	policy_edits_free(&e);
	policy_msg_reset(&m);
	store_close(rost);
}
END_TEST

/* The detail of an address's last history event. */
static int last_detail(const struct store_event *ev, void *arg)
{
	strcpy(arg, ev->detail);
	return 0;
}

/* The reference maps to the first token minted for a recipient: a later
 * mailing's reply records that mailing's campaign when the reply carries
 * its token, and no campaign (never the first one's) when it does not. */
START_TEST(inbound_campaign_is_this_mailings)
{
	char rcpt[300], rcpt2[300], mtok[TOKEN_TEXT_MAX];
	char subj[TOKEN_TEXT_MAX + 20], detail[STORE_DETAIL_MAX + 1];
	const struct {
		const char *subject_fmt, *want;
	} rows[] = {
		{ "unsubscribe", "" },
		{ "Re: unsubscribe %s", "campaign=c2" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct policy_msg m;
		struct policy_edits e;
		char addr[64];
		snprintf(addr, sizeof(addr), "camp%zu@example.com", i);
		mint_in(addr, "c1", rcpt, sizeof(rcpt), mtok, sizeof(mtok));
		mint_in(addr, "c2", rcpt2, sizeof(rcpt2), mtok, sizeof(mtok));
		ck_assert_str_eq(rcpt, rcpt2);	/* one reference */
		snprintf(subj, sizeof(subj), rows[i].subject_fmt, mtok);
		inbound_msg(&m, rcpt2, subj, "generated by Gmail\r\n");
		policy_decide(&cfg, kr, st, &m, &e);
		ck_assert_msg(e.verdict == POLICY_DISCARD, "row %zu: got %d: %s",
		    i, e.verdict, e.log);
		policy_edits_free(&e);
		policy_msg_reset(&m);
		detail[0] = '\0';
		ck_assert_int_eq(store_history(st, addr, last_detail, detail),
		    STORE_OK);
		ck_assert_msg(strcmp(detail, rows[i].want) == 0, "row %zu: "
		    "detail \"%s\", want \"%s\"", i, detail, rows[i].want);
	}
}
END_TEST

/* A complaint, with the config it meets: what the message becomes and the
 * scope the token's recipient is suppressed for. */
static const struct {
	const char *scope_cfg, *keep;
	const char *rcpts[2];
	enum policy_verdict verdict;
	size_t del_rcpt;
	const char *scope;	/* wanted: "*" or "news" */
} complaint_rows[] = {
	{ "all", "no", { "<fbl@sender.example>" }, POLICY_DISCARD, 0, "*" },
	{ "list", "no", { "<FBL@sender.example>" }, POLICY_DISCARD, 0, "news" },
	{ "all", "yes", { "<fbl@sender.example>" }, POLICY_ACCEPT, 0, "*" },
	{ "all", "no", { "<fbl@sender.example>", "<human@sender.example>" },
	  POLICY_ACCEPT, 1, "*" },	/* only our mailbox is dropped */
};

START_TEST(complaint_scope_and_keep)
{
	struct token_claims c;
	struct policy_msg m;
	struct policy_edits e;
	char tok[TOKEN_TEXT_MAX], body[2048], err[256], scope[8];
	int supp;

	ck_assert_int_eq(config_set(&cfg, "ComplaintMailbox",
	    "fbl@sender.example", err, sizeof(err)), 0);
	ck_assert_int_eq(config_set(&cfg, "ComplaintScope",
	    complaint_rows[_i].scope_cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(config_set(&cfg, "KeepReports",
	    complaint_rows[_i].keep, err, sizeof(err)), 0);
	memset(&c, 0, sizeof(c));
	strcpy(c.address, "fan@example.com");
	strcpy(c.list, "news");
	ck_assert_int_eq(token_seal_url(kr, &c, tok, sizeof(tok)), TOKEN_OK);
	snprintf(body, sizeof(body), "--b\r\nContent-Type: "
	    "message/feedback-report\r\n\r\nFeedback-Type: abuse\r\n"
	    "User-Agent: T/1\r\nVersion: 1\r\n\r\n--b\r\nContent-Type: "
	    "text/rfc822-headers\r\n\r\nTo: redacted@example.com\r\n"
	    "List-Unsubscribe: <https://unsub.example.com/u/%s>\r\n\r\n"
	    "--b--\r\n", tok);
	memset(&m, 0, sizeof(m));
	for (int r = 0; r < 2 && complaint_rows[_i].rcpts[r]; r++)
		ck_assert_int_eq(policy_rcpt(&cfg, &m,
		    complaint_rows[_i].rcpts[r]), 0);
	ck_assert_int_eq(policy_wants_body(&m), 1);
	policy_header(&cfg, &m, "Content-Type", "multipart/report; "
	    "report-type=feedback-report; boundary=\"b\"");
	ck_assert_int_eq(mailparse_body(m.mp, (const uint8_t *)body,
	    strlen(body)), MAILPARSE_OK);
	policy_decide(&cfg, kr, st, &m, &e);
	ck_assert_msg(e.verdict == complaint_rows[_i].verdict, "row %d: "
	    "verdict got %d, want %d (%s)", _i, e.verdict,
	    complaint_rows[_i].verdict, e.log);
	ck_assert_uint_eq(e.n_del_rcpt, complaint_rows[_i].del_rcpt);
	ck_assert_int_eq(store_check(st, "fan@example.com", "news", &supp,
	    scope, sizeof(scope)), STORE_OK);
	ck_assert_msg(supp && strcmp(scope, complaint_rows[_i].scope) == 0,
	    "row %d: suppressed %d for \"%s\", want \"%s\" (%s)", _i, supp,
	    scope, complaint_rows[_i].scope, e.log);
	policy_edits_free(&e);
	policy_msg_reset(&m);
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("policy");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, outbound_rules, 0,
	    sizeof(out_rows) / sizeof(out_rows[0]));
	tcase_add_test(tc, mailto_only_has_no_post);
	tcase_add_loop_test(tc, recipients_over_cap, 0,
	    sizeof(over_rows) / sizeof(over_rows[0]));
	tcase_add_loop_test(tc, tag_names_no_other_recipient, 0,
	    sizeof(tag_rows) / sizeof(tag_rows[0]));
	tcase_add_test(tc, inbound_by_reference_subject_and_forgery);
	tcase_add_test(tc, inbound_store_failure_always_tempfails);
	tcase_add_test(tc, inbound_campaign_is_this_mailings);
	tcase_add_loop_test(tc, complaint_scope_and_keep, 0,
	    sizeof(complaint_rows) / sizeof(complaint_rows[0]));
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(policy_suite)
