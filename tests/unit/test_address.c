/* test_address.c - address normalisation and validation, codecs, header. */
#include <string.h>

#include "address.h"
#include "codec.h"
#include "header.h"
#include "unit.h"

static const struct {
	const char *in;
	int cs;
	int want;
	const char *norm;
} addrs[] = {
	{ "Reader@Example.COM", 0, ADDRESS_OK, "reader@example.com" },
	{ "Reader@Example.COM", 1, ADDRESS_OK, "Reader@example.com" },
	{ "<a.b+tag@sub.example.org>", 0, ADDRESS_OK, "a.b+tag@sub.example.org" },
	{ "  spaced@example.com ", 0, ADDRESS_OK, "spaced@example.com" },
	{ "user@[192.0.2.1]", 0, ADDRESS_OK, "user@[192.0.2.1]" },
	{ "user@[IPv6:2001:DB8::1]", 0, ADDRESS_OK, "user@[ipv6:2001:db8::1]" },
	{ "user@[1.2.3.4,x]", 0, ADDRESS_EDOMAIN, NULL },
	{ "user@[a \"b]", 0, ADDRESS_EDOMAIN, NULL },
	{ "user@[]", 0, ADDRESS_EDOMAIN, NULL },
	{ "", 0, ADDRESS_EEMPTY, NULL },
	{ "<>", 0, ADDRESS_EEMPTY, NULL },
	{ "no-at-sign", 0, ADDRESS_ENOAT, NULL },
	{ "@example.com", 0, ADDRESS_ELOCAL, NULL },
	{ ".a@example.com", 0, ADDRESS_ELOCAL, NULL },
	{ "a..b@example.com", 0, ADDRESS_ELOCAL, NULL },
	{ "a b@example.com", 0, ADDRESS_ELOCAL, NULL },
	{ "a@", 0, ADDRESS_EDOMAIN, NULL },
	{ "a@-example.com", 0, ADDRESS_EDOMAIN, NULL },
	{ "a@example..com", 0, ADDRESS_EDOMAIN, NULL },
	{ "a@exa_mple.com", 0, ADDRESS_EDOMAIN, NULL },
	{ "a@example.com-", 0, ADDRESS_EDOMAIN, NULL },
	{ "0123456789012345678901234567890123456789012345678901234567890123"
	  "4@example.com", 0, ADDRESS_ELOCAL, NULL },
};

START_TEST(normalise)
{
	char out[ADDRESS_MAX + 1];
	int rc = address_normalise(addrs[_i].in, addrs[_i].cs, out,
	    sizeof(out));

	ck_assert_msg(rc == addrs[_i].want, "\"%s\": got %s, want %s",
	    addrs[_i].in, address_strerror(rc),
	    address_strerror(addrs[_i].want));
	if (addrs[_i].norm != NULL)
		ck_assert_msg(strcmp(out, addrs[_i].norm) == 0,
		    "\"%s\": got \"%s\", want \"%s\"", addrs[_i].in, out,
		    addrs[_i].norm);
}
END_TEST

START_TEST(too_long)
{
	char in[300], out[ADDRESS_MAX + 1];

	memset(in, 'a', sizeof(in));
	strcpy(in + 250, "@x.io");
	ck_assert_int_eq(address_normalise(in, 0, out, sizeof(out)),
	    ADDRESS_ELONG);
}
END_TEST

/* RFC 4648 test vectors (base32 lowercase, no padding; base64url). */
static const struct {
	const char *bin, *b32, *b64u;
} vec[] = {
	{ "", "", "" },
	{ "f", "my", "Zg" },
	{ "fo", "mzxq", "Zm8" },
	{ "foo", "mzxw6", "Zm9v" },
	{ "foob", "mzxw6yq", "Zm9vYg" },
	{ "fooba", "mzxw6ytb", "Zm9vYmE" },
	{ "foobar", "mzxw6ytboi", "Zm9vYmFy" },
	{ "\xfb\xff", "7p7q", "-_8" },
};

START_TEST(codec_vectors)
{
	char out[64];
	uint8_t back[64];
	size_t n = strlen(vec[_i].bin);
	int m;

	ck_assert_int_eq(codec_b32_encode((const uint8_t *)vec[_i].bin, n, out,
	    sizeof(out)), (int)strlen(vec[_i].b32));
	ck_assert_str_eq(out, vec[_i].b32);
	ck_assert_int_eq(codec_b64u_encode((const uint8_t *)vec[_i].bin, n,
	    out, sizeof(out)), (int)strlen(vec[_i].b64u));
	ck_assert_str_eq(out, vec[_i].b64u);
	m = codec_b32_decode(vec[_i].b32, strlen(vec[_i].b32), back,
	    sizeof(back));
	ck_assert_int_eq(m, (int)n);
	ck_assert_mem_eq(back, vec[_i].bin, n);
	m = codec_b64u_decode(vec[_i].b64u, strlen(vec[_i].b64u), back,
	    sizeof(back));
	ck_assert_int_eq(m, (int)n);
	ck_assert_mem_eq(back, vec[_i].bin, n);
}
END_TEST

static const char *const bad_b32[] = { "m", "mzx", "mzxw6y", "my==",
	"m1", "mz", "mzxw7" };

START_TEST(codec_rejects)
{
	uint8_t back[64];

	ck_assert_msg(codec_b32_decode(bad_b32[_i], strlen(bad_b32[_i]), back,
	    sizeof(back)) < 0, "\"%s\": got decoded, want rejected",
	    bad_b32[_i]);
	ck_assert_int_eq(codec_b64u_decode("Zm9v+", 5, back, sizeof(back)), -1);
	ck_assert_int_eq(codec_b64u_decode("Zm9vYmFy", 8, back, 3), -1);
	ck_assert_int_eq(codec_b32_decode("MZXW6", 5, back, sizeof(back)), 3);
}
END_TEST

static const struct {
	const char *url, *mailto, *want;
} hdr[] = {
	{ "https://u.example/u/", "unsubscribe+REF@u.example",
	  "<https://u.example/u/TOK>,\n\t<mailto:unsubscribe+REF@u.example"
	  "?subject=unsubscribe%20mtok&body=mtok>" },
	{ "https://u.example/u/", "", "<https://u.example/u/TOK>" },
	{ "", "unsubscribe+REF@u.example",
	  "<mailto:unsubscribe+REF@u.example?subject=unsubscribe%20mtok"
	  "&body=mtok>" },
	{ "", "", NULL },
};

START_TEST(header_format)
{
	char out[HEADER_VALUE_MAX];
	int n = header_list_unsubscribe(out, sizeof(out), "\n\t", hdr[_i].url,
	    "TOK", hdr[_i].mailto, "mtok");

	if (hdr[_i].want == NULL) {
		ck_assert_int_eq(n, -1);
		return;
	}
	ck_assert_msg(n == (int)strlen(hdr[_i].want) &&
	    strcmp(out, hdr[_i].want) == 0, "got \"%s\", want \"%s\"", out,
	    hdr[_i].want);
	ck_assert_int_eq(header_list_unsubscribe(out, strlen(hdr[_i].want),
	    "\n\t", hdr[_i].url,
	    "TOK", hdr[_i].mailto, "mtok"), -1);
}
END_TEST

/* Long addresses and ids: every line stays within 998 octets, the mailto
 * giving up its body, then its subject's token. */
static const struct {
	size_t tok;		/* mail token length */
	const char *want;	/* what the mailto keeps */
} longs[] = {
	{ 300, "&body=" },
	{ 700, "?subject=unsubscribe%20" },
	{ 1000, "?subject=unsubscribe>" },
};

START_TEST(header_line_limit)
{
	char out[HEADER_VALUE_MAX * 2], tok[1024], url[1000];
	const char *line, *nl;
	int n;

	memset(tok, 'a', longs[_i].tok);
	tok[longs[_i].tok] = '\0';
	memset(url, 'U', 600);
	url[600] = '\0';
	n = header_list_unsubscribe(out, sizeof(out), "\n\t",
	    "https://u.example/u/", url, "unsubscribe+REF@u.example", tok);
	ck_assert_msg(n > 0, "%zu-character token: got %d, want a header",
	    longs[_i].tok, n);
	ck_assert_msg(strstr(out, longs[_i].want) != NULL, "%zu-character "
	    "token: got \"%.60s...\", want %s", longs[_i].tok,
	    strstr(out, "mailto:"), longs[_i].want);
	for (line = out; line != NULL; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		size_t len = (nl ? (size_t)(nl - line) : strlen(line)) +
		    (line == out ? strlen(HEADER_LU ": ") : 0);
		ck_assert_msg(len <= HEADER_LINE_MAX, "line of %zu octets",
		    len);
	}
	/* a URL alone over the limit: no header at all */
	memset(url, 'U', 990);
	url[990] = '\0';
	ck_assert_int_eq(header_list_unsubscribe(out, sizeof(out), "\n\t",
	    "https://u.example/u/", url, "", ""), -1);
}
END_TEST

/* FeedbackID templates with list "news", campaign "c7", no profile. */
static const struct {
	const char *tmpl, *want;	/* want NULL: refused */
	size_t outsz;
} fbid[] = {
	{ "%c:%l:news:S1", "c7:news:news:S1", 64 },
	{ "%l-%p-%%", "news--%", 64 },
	{ "plain", "plain", 64 },
	{ "%l:%x", NULL, 64 },		/* unknown escape */
	{ "%", NULL, 64 },		/* escape cut off */
	{ "%c:%l", NULL, 7 },		/* "c7:news" needs 8 octets */
	{ "%c:%l", "c7:news", 8 },
};

START_TEST(feedback_id)
{
	char out[64];
	int n = header_feedback_id(out, fbid[_i].outsz, fbid[_i].tmpl, "news",
	    "c7", "");

	if (fbid[_i].want == NULL)
		ck_assert_msg(n == -1, "%s: got \"%s\", want refused",
		    fbid[_i].tmpl, out);
	else
		ck_assert_msg(n == (int)strlen(fbid[_i].want) &&
		    strcmp(out, fbid[_i].want) == 0, "%s: got %d \"%s\", want "
		    "\"%s\"", fbid[_i].tmpl, n, n < 0 ? "" : out, fbid[_i].want);
}
END_TEST

static Suite *address_suite(void)
{
	Suite *s = suite_create("address");
	TCase *tc = tcase_create("address");

	tcase_add_loop_test(tc, normalise, 0, sizeof(addrs) / sizeof(addrs[0]));
	tcase_add_test(tc, too_long);
	tcase_add_loop_test(tc, codec_vectors, 0, sizeof(vec) / sizeof(vec[0]));
	tcase_add_loop_test(tc, codec_rejects, 0,
	    sizeof(bad_b32) / sizeof(bad_b32[0]));
	tcase_add_loop_test(tc, header_format, 0, sizeof(hdr) / sizeof(hdr[0]));
	tcase_add_loop_test(tc, feedback_id, 0, sizeof(fbid) / sizeof(fbid[0]));
	tcase_add_loop_test(tc, header_line_limit, 0,
	    sizeof(longs) / sizeof(longs[0]));
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(address_suite)
