/* test_token.c - keyring and token: round trips, forgery, rotation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec.h"
#include "keyring.h"
#include "ref.h"
#include "token.h"
#include "unit.h"

static char dir[64];
static char path[128];

/* Remove the test's temp dir, if it made one. */
static void teardown(void)
{
	char cmd[128];

	if (dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		ck_assert_int_eq(system(cmd), 0);
		dir[0] = '\0';
	}
}

/* A fresh keyring file with one key in a temp dir. */
static struct keyring *fresh_keyring(const char *name)
{
	struct keyring *kr = NULL;
	char err[256];
	uint32_t id;

	strcpy(dir, "/tmp/unsub-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_int_eq(keyring_generate(path, 1700000000, &id, err,
	    sizeof(err)), KEYRING_OK);
	ck_assert_msg(keyring_load(path, &kr, err, sizeof(err)) == KEYRING_OK,
	    "load: %s", err);
	return kr;
}

static void claims(struct token_claims *c, const char *addr, const char *list,
    const char *profile, const char *campaign, int all)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->address, addr);
	strcpy(c->list, list);
	strcpy(c->profile, profile);
	strcpy(c->campaign, campaign);
	c->scope_all = all;
	c->issued = 1790000000;
}

static const struct {
	const char *addr, *list, *profile, *campaign;
	int all;
} rt[] = {
	{ "a@example.com", "news", "", "", 0 },
	{ "reader.with.a.long.name@mail.example.org", "weekly-digest",
	  "p-12345", "spring-2026", 1 },
	{ "x@y.z", "l", "", "c", 0 },
	{ "0123456789012345678901234567890123456789012345678901234567890123"
	  "@example.com", "0123456789012345678901234567890123456789012345678"
	  "901234567890123", "0123456789012345678901234567890123456789012345"
	  "678901234567890123", "012345678901234567890123456789012345678901"
	  "2345678901234567890123", 1 },
};

START_TEST(round_trip)
{
	struct keyring *kr = fresh_keyring("keys");
	struct token_claims in, out;
	char url[TOKEN_TEXT_MAX], mail[TOKEN_TEXT_MAX];

	claims(&in, rt[_i].addr, rt[_i].list, rt[_i].profile,
	    rt[_i].campaign, rt[_i].all);
	ck_assert_int_eq(token_seal_url(kr, &in, url, sizeof(url)), TOKEN_OK);
	ck_assert_int_eq(token_seal_mail(kr, &in, mail, sizeof(mail)),
	    TOKEN_OK);
	for (int enc = 0; enc < 2; enc++) {
		const char *t = enc ? mail : url;
		int rc = token_open_text(kr, t, strlen(t), &out);
		ck_assert_msg(rc == TOKEN_OK, "row %d enc %d: got %s, want valid",
		    _i, enc, token_strerror(rc));
		ck_assert_str_eq(out.address, in.address);
		ck_assert_str_eq(out.list, in.list);
		ck_assert_str_eq(out.profile, in.profile);
		ck_assert_str_eq(out.campaign, in.campaign);
		ck_assert_int_eq(out.scope_all, in.scope_all);
		ck_assert_uint_eq(out.issued, in.issued);
		ck_assert_uint_eq(out.key_id, keyring_newest(kr)->id);
	}
	keyring_free(kr);
}
END_TEST

START_TEST(mail_token_survives_case_folding)
{
	struct keyring *kr = fresh_keyring("keys");
	struct token_claims in, out;
	char mail[TOKEN_TEXT_MAX];

	claims(&in, "a@example.com", "news", "", "", 0);
	ck_assert_int_eq(token_seal_mail(kr, &in, mail, sizeof(mail)),
	    TOKEN_OK);
	for (char *p = mail; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	ck_assert_int_eq(token_open_text(kr, mail, strlen(mail), &out),
	    TOKEN_OK);
	ck_assert_str_eq(out.address, "a@example.com");
	keyring_free(kr);
}
END_TEST

START_TEST(every_bit_flip_and_truncation_fails)
{
	struct keyring *kr = fresh_keyring("keys");
	struct token_claims in, out;
	uint8_t bin[TOKEN_BIN_MAX], bad[TOKEN_BIN_MAX];
	int n, accepted = 0;

	claims(&in, "reader@example.com", "news", "p1", "c1", 0);
	n = token_seal(kr, &in, bin, sizeof(bin));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(token_open(kr, bin, (size_t)n, &out), TOKEN_OK);
	for (int bit = 0; bit < n * 8; bit++) {
		memcpy(bad, bin, (size_t)n);
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (token_open(kr, bad, (size_t)n, &out) == TOKEN_OK)
			accepted++;
	}
	for (int len = 0; len < n; len++)
		if (token_open(kr, bin, (size_t)len, &out) == TOKEN_OK)
			accepted++;
	ck_assert_msg(accepted == 0, "got %d altered tokens accepted, want 0",
	    accepted);
	keyring_free(kr);
}
END_TEST

START_TEST(foreign_key_fails_and_rotation_keeps_old_tokens)
{
	struct keyring *kr = fresh_keyring("keys"), *other, *rotated;
	char other_path[160], err[256];
	struct token_claims in, out;
	uint8_t bin[TOKEN_BIN_MAX];
	uint32_t id;
	int n;

	claims(&in, "a@example.com", "news", "", "", 0);
	n = token_seal(kr, &in, bin, sizeof(bin));
	ck_assert_int_gt(n, 0);
	/* A keyring of someone else's. */
	snprintf(other_path, sizeof(other_path), "%s/other", dir);
	ck_assert_int_eq(keyring_generate(other_path, 1, &id, err, sizeof(err)),
	    KEYRING_OK);
	ck_assert_int_eq(keyring_load(other_path, &other, err, sizeof(err)),
	    KEYRING_OK);
	ck_assert_int_eq(token_open(other, bin, (size_t)n, &out), TOKEN_EKEY);
	/* The same id with another secret must fail authentication. */
	bin[1] = (uint8_t)(keyring_newest(other)->id >> 24);
	bin[2] = (uint8_t)(keyring_newest(other)->id >> 16);
	bin[3] = (uint8_t)(keyring_newest(other)->id >> 8);
	bin[4] = (uint8_t)keyring_newest(other)->id;
	ck_assert_int_eq(token_open(other, bin, (size_t)n, &out), TOKEN_EAUTH);
	/* Rotate: the new key seals, the old token still opens. */
	n = token_seal(kr, &in, bin, sizeof(bin));
	ck_assert_int_eq(keyring_generate(path, 2, &id, err, sizeof(err)),
	    KEYRING_OK);
	ck_assert_int_eq(keyring_load(path, &rotated, err, sizeof(err)),
	    KEYRING_OK);
	ck_assert_uint_eq(keyring_count(rotated), 2);
	ck_assert_uint_eq(keyring_newest(rotated)->id, id);
	ck_assert_int_eq(token_open(rotated, bin, (size_t)n, &out), TOKEN_OK);
	ck_assert_int_eq(token_seal(rotated, &in, bin, sizeof(bin)) > 0, 1);
	ck_assert_uint_eq(in.key_id, id);
	keyring_free(kr);
	keyring_free(other);
	keyring_free(rotated);
}
END_TEST

static const struct {
	const char *content;
	mode_t mode;
	int want;
} kf[] = {
	{ "0000000a 1700000000 "
	  "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n",
	  0600, KEYRING_OK },
	{ "0000000a 1700000000 "
	  "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n",
	  0640, KEYRING_EPERM },
	{ "0000000a 1700000000 "
	  "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n",
	  0604, KEYRING_EPERM },
	{ "0000000a 1700000000 0011\n", 0600, KEYRING_EFORMAT },
	{ "zz 1 00112233445566778899aabbccddeeff00112233445566778899aabbccddee"
	  "ff\n", 0600, KEYRING_EFORMAT },
	{ "0000000a 1700000000 "
	  "-f112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n",
	  0600, KEYRING_EFORMAT },
	{ "# only a comment\n", 0600, KEYRING_EEMPTY },
	{ "", 0400, KEYRING_EEMPTY },
};

START_TEST(keyring_files)
{
	struct keyring *kr = NULL;
	char err[256];
	FILE *fp;
	int rc;

	strcpy(dir, "/tmp/unsub-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/k", dir);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(kf[_i].content, fp);
	fclose(fp);
	chmod(path, kf[_i].mode);
	rc = keyring_load(path, &kr, err, sizeof(err));
	ck_assert_msg(rc == kf[_i].want, "row %d: got %d (%s), want %d", _i,
	    rc, rc ? err : "ok", kf[_i].want);
	if (rc == KEYRING_OK)
		ck_assert_uint_eq(keyring_newest(kr)->id, 0xa);
	keyring_free(kr);
}
END_TEST

/* genkey after a hand edit that left no final newline: both keys load. */
START_TEST(genkey_after_a_missing_newline)
{
	struct keyring *kr = NULL;
	char err[256];
	uint32_t id;
	FILE *fp;

	strcpy(dir, "/tmp/unsub-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/k", dir);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(kf[0].content, fp);
	fclose(fp);
	ck_assert_int_eq(truncate(path, (off_t)strlen(kf[0].content) - 1), 0);
	chmod(path, 0600);
	ck_assert_int_eq(keyring_generate(path, 2, &id, err, sizeof(err)),
	    KEYRING_OK);
	ck_assert_msg(keyring_load(path, &kr, err, sizeof(err)) == KEYRING_OK,
	    "got \"%s\", want both keys", err);
	ck_assert_uint_eq(keyring_count(kr), 2);
	keyring_free(kr);
}
END_TEST

START_TEST(missing_keyring_is_a_clear_error)
{
	struct keyring *kr = NULL;
	char err[256];

	ck_assert_int_eq(keyring_load("/nonexistent/keys", &kr, err,
	    sizeof(err)), KEYRING_EIO);
	ck_assert_msg(strstr(err, "No such file") != NULL, "got \"%s\"", err);
}
END_TEST

START_TEST(ref_is_stable_and_binds_fields)
{
	struct keyring *kr = fresh_keyring("keys");
	struct token_claims a, b;
	uint8_t r1[REF_LEN], r2[REF_LEN];
	uint32_t id = keyring_newest(kr)->id;

	claims(&a, "a@example.com", "news", "", "", 0);
	claims(&b, "a@example.com", "news", "p", "c", 0);
	ck_assert_int_eq(ref_make(kr, id, &a, r1), TOKEN_OK);
	ck_assert_int_eq(ref_make(kr, id, &b, r2), TOKEN_OK);
	ck_assert_msg(memcmp(r1, r2, sizeof(r1)) == 0,
	    "profile and campaign must not change the reference");
	strcpy(b.list, "other");
	ck_assert_int_eq(ref_make(kr, id, &b, r2), TOKEN_OK);
	ck_assert_msg(memcmp(r1, r2, sizeof(r1)) != 0, "list must change it");
	b = a;
	b.scope_all = 1;
	ck_assert_int_eq(ref_make(kr, id, &b, r2), TOKEN_OK);
	ck_assert_msg(memcmp(r1, r2, sizeof(r1)) != 0, "scope must change it");
	ck_assert_int_eq(ref_make(kr, id + 1, &a, r2), TOKEN_EKEY);
	keyring_free(kr);
}
END_TEST

START_TEST(bad_claims_are_refused)
{
	struct keyring *kr = fresh_keyring("keys");
	struct token_claims c;
	uint8_t bin[TOKEN_BIN_MAX];

	claims(&c, "", "news", "", "", 0);
	ck_assert_int_eq(token_seal(kr, &c, bin, sizeof(bin)), TOKEN_EFIELD);
	claims(&c, "a@example.com", "", "", "", 0);
	ck_assert_int_eq(token_seal(kr, &c, bin, sizeof(bin)), TOKEN_EFIELD);
	claims(&c, "a@example.com", "news", "", "", 0);
	ck_assert_int_eq(token_seal(kr, &c, bin, 20), TOKEN_ESPACE);
	keyring_free(kr);
}
END_TEST

/* The ids a token may carry: 1..TOKEN_FIELD_MAX visible ASCII, not "*". */
static const struct {
	const char *id;
	int required, want;
} ids[] = {
	{ "news", 1, 1 },
	{ "", 1, 0 },
	{ "", 0, 1 },
	{ "*", 1, 0 },
	{ "*x", 1, 1 },
	{ "news letter", 1, 0 },
	{ "news\t", 0, 0 },
	{ "caf\xc3\xa9", 1, 0 },
	{ "del\x7f", 1, 0 },
	{ "a\"b\\c'd", 1, 1 },
	{ "news,weekly", 1, 0 },
	{ ",", 0, 0 },
	{ "1234567890123456789012345678901234567890123456789012345678901234",
	  1, 1 },
	{ "12345678901234567890123456789012345678901234567890123456789012345",
	  1, 0 },
};

START_TEST(id_rule)
{
	int got = token_id_ok(ids[_i].id, ids[_i].required);

	ck_assert_msg(got == ids[_i].want, "token_id_ok(\"%s\", %d): got %d, "
	    "want %d", ids[_i].id, ids[_i].required, got, ids[_i].want);
}
END_TEST

static Suite *token_suite(void)
{
	Suite *s = suite_create("token");
	TCase *tc = tcase_create("token");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_loop_test(tc, round_trip, 0, sizeof(rt) / sizeof(rt[0]));
	tcase_add_test(tc, mail_token_survives_case_folding);
	tcase_add_test(tc, every_bit_flip_and_truncation_fails);
	tcase_add_test(tc, foreign_key_fails_and_rotation_keeps_old_tokens);
	tcase_add_loop_test(tc, keyring_files, 0, sizeof(kf) / sizeof(kf[0]));
	tcase_add_test(tc, genkey_after_a_missing_newline);
	tcase_add_test(tc, missing_keyring_is_a_clear_error);
	tcase_add_test(tc, ref_is_stable_and_binds_fields);
	tcase_add_test(tc, bad_claims_are_refused);
	tcase_add_loop_test(tc, id_rule, 0, sizeof(ids) / sizeof(ids[0]));
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(token_suite)
