/* test_ref.c - the mailto reference's text: "local+REF@domain" written
 * and read back, case folding, mailto URLs, and what is refused. */
#include <stdio.h>
#include <string.h>

#include "address.h"
#include "ref.h"
#include "unit.h"

#define MAILBOX "unsubscribe@unsub.example.com"

/* Reference bytes from a seed: every byte differs, so a shifted or
 * truncated decode shows. */
static void ref_from(uint8_t ref[REF_LEN], unsigned seed)
{
	for (unsigned i = 0; i < REF_LEN; i++)
		ref[i] = (uint8_t)(seed * 37 + i * 11);
}

static const struct {
	const char *mailbox;
	unsigned seed;
	int fold;		/* 1: upper-case the text, 2: wrap in <> */
} trips[] = {
	{ MAILBOX, 0, 0 },
	{ MAILBOX, 1, 1 },
	{ MAILBOX, 2, 2 },
	{ "u@x.example", 3, 0 },
	{ "a.b-c@sub.x.example", 255, 1 },
};

START_TEST(address_round_trip)
{
	uint8_t ref[REF_LEN], back[REF_LEN];
	char text[ADDRESS_MAX + REF_TEXT + 4], rcpt[sizeof(text) + 2];
	int n, got;

	ref_from(ref, trips[_i].seed);
	n = ref_address(trips[_i].mailbox, ref, text, sizeof(text));
	ck_assert_msg(n == (int)(strlen(trips[_i].mailbox) + 1 + REF_TEXT),
	    "%s: got length %d, want %zu", trips[_i].mailbox, n,
	    strlen(trips[_i].mailbox) + 1 + REF_TEXT);
	for (char *p = text; trips[_i].fold == 1 && *p != '\0'; p++)
		*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
	snprintf(rcpt, sizeof(rcpt), trips[_i].fold == 2 ? "<%s>" : "%s",
	    text);
	memset(back, 0, sizeof(back));
	got = ref_rcpt(rcpt, trips[_i].mailbox, back);
	ck_assert_msg(got == 2, "%s: got %d, want 2", rcpt, got);
	ck_assert_msg(memcmp(back, ref, REF_LEN) == 0,
	    "%s: the reference read back differs", rcpt);
}
END_TEST

static const struct {
	const char *rcpt;
	int want;
} rcpts[] = {
	{ "<unsubscribe@unsub.example.com>", 1 },
	{ "unsubscribe@UNSUB.example.com", 1 },
	{ "<Unsubscribe+AAAAAAAAAAAAAAAAAAAAAAAA@unsub.example.com>", 2 },
	{ "<unsubscribe+abcdefghijklmnopqrstuvwx@unsub.example.com>", 2 },
	{ "<unsubscribe+abcdefghijklmnopqrstuvw@unsub.example.com>", 0 },
	{ "<unsubscribe+abcdefghijklmnopqrstuvw1@unsub.example.com>", 0 },
	{ "<unsubscribe@other.example.com>", 0 },
	{ "<unsubscriber@unsub.example.com>", 0 },
	{ "<x@unsub.example.com>", 0 },
	{ "<>", 0 },
	{ "", 0 },
	/* not base32 (0, 1, 8, 9 and punctuation), or the wrong separator */
	{ "unsubscribe+abcdefghijklmnopqrstuvw0@unsub.example.com", 0 },
	{ "unsubscribe+abcdefghijklmnopqrstuv.x@unsub.example.com", 0 },
	{ "unsubscribe-abcdefghijklmnopqrstuvwx@unsub.example.com", 0 },
	{ "unsubscribe+abcdefghijklmnopqrstuvwxy@unsub.example.com", 0 },
	{ "unsubscribe+abcdefghijklmnopqrstuvwx@unsub.example.co", 0 },
	{ "unsubscribe+abcdefghijklmnopqrstuvwx", 0 },
};

START_TEST(recipient_forms)
{
	uint8_t ref[REF_LEN];
	int got = ref_rcpt(rcpts[_i].rcpt, MAILBOX, ref);

	ck_assert_msg(got == rcpts[_i].want, "%s: got %d, want %d",
	    rcpts[_i].rcpt, got, rcpts[_i].want);
}
END_TEST

/* A 24-character reference and the bytes it stands for (all zero). */
#define ZREF "aaaaaaaaaaaaaaaaaaaaaaaa"

static const struct {
	const char *in, *mailbox;
	int want;
} mailtos[] = {
	{ "mailto:unsubscribe+" ZREF "@unsub.example.com", MAILBOX, 1 },
	{ "<mailto:unsubscribe+" ZREF "@unsub.example.com?subject=x>",
	  MAILBOX, 1 },
	{ "<https://u.example/u/T>, <MAILTO:Unsubscribe%2B" ZREF
	  "@Unsub.Example.Com>", MAILBOX, 1 },
	{ "unsubscribe+" ZREF "@unsub.example.com", MAILBOX, 1 },
	{ "<unsubscribe+" ZREF "@unsub.example.com>", MAILBOX, 1 },
	{ "mailto:unsubscribe@unsub.example.com", MAILBOX, 0 },
	{ "mailto:unsubscribe+" ZREF "@other.example", MAILBOX, 0 },
	{ "mailto:unsubscribe+" ZREF "@unsub.example.com", "", 0 },
	{ "mailto:unsubscribe%2" ZREF "@unsub.example.com", MAILBOX, 0 },
	{ "mailto:", MAILBOX, 0 },
	{ "", MAILBOX, 0 },
};

START_TEST(mailto_forms)
{
	uint8_t ref[REF_LEN], zero[REF_LEN] = { 0 };
	int got;

	memset(ref, 0xa5, sizeof(ref));
	got = ref_mailto(mailtos[_i].in, mailtos[_i].mailbox, ref);
	ck_assert_msg(got == mailtos[_i].want, "%s: got %d, want %d",
	    mailtos[_i].in, got, mailtos[_i].want);
	if (got == 1)
		ck_assert_msg(memcmp(ref, zero, REF_LEN) == 0,
		    "%s: reference read wrong", mailtos[_i].in);
}
END_TEST

static const struct {
	size_t local;		/* local part length */
	int want;
} fits[] = {
	{ 1, 1 },
	{ 64 - 1 - REF_TEXT, 1 },
	{ 64 - REF_TEXT, 0 },
	{ 64, 0 },
};

START_TEST(mailbox_room)
{
	char mailbox[128];

	memset(mailbox, 'u', fits[_i].local);
	strcpy(mailbox + fits[_i].local, "@x.example");
	ck_assert_msg(ref_mailbox_fits(mailbox) == fits[_i].want,
	    "local part of %zu: got %d, want %d", fits[_i].local,
	    ref_mailbox_fits(mailbox), fits[_i].want);
}
END_TEST

START_TEST(bad_inputs_refused)
{
	uint8_t ref[REF_LEN] = { 0 };
	char out[64];
	size_t need = strlen(MAILBOX) + 1 + REF_TEXT + 1;

	ck_assert_int_eq(ref_mailbox_fits("no-at-sign"), 0);
	ck_assert_int_eq(ref_address("no-at-sign", ref, out, sizeof(out)),
	    REF_ESPACE);
	ck_assert_int_eq(ref_address(MAILBOX, ref, out, need - 1),
	    REF_ESPACE);
	ck_assert_int_eq(ref_address(MAILBOX, ref, out, need),
	    (int)need - 1);
	ck_assert_str_eq(out, "unsubscribe+" ZREF "@unsub.example.com");
	ck_assert_int_eq(ref_rcpt("unsubscribe+" ZREF "@unsub.example.com",
	    "no-at-sign", ref), 0);
}
END_TEST

static Suite *ref_suite(void)
{
	Suite *s = suite_create("ref");
	TCase *tc = tcase_create("ref");

	tcase_add_loop_test(tc, address_round_trip, 0,
	    sizeof(trips) / sizeof(trips[0]));
	tcase_add_loop_test(tc, recipient_forms, 0,
	    sizeof(rcpts) / sizeof(rcpts[0]));
	tcase_add_loop_test(tc, mailto_forms, 0,
	    sizeof(mailtos) / sizeof(mailtos[0]));
	tcase_add_loop_test(tc, mailbox_room, 0,
	    sizeof(fits) / sizeof(fits[0]));
	tcase_add_test(tc, bad_inputs_refused);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(ref_suite)
