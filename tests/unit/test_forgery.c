/* test_forgery.c - a million and more forged tokens: random bytes, bit
 * flips, truncations, extensions, splices of two valid tokens and other
 * key ids, in binary and in both text encodings.  None may open. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "codec.h"
#include "keyring.h"
#include "token.h"
#include "unit.h"

#define VALID 64
#define ROUNDS 20000	/* x 60 forgeries each: 1.2 million */

static struct keyring *kr;
static uint8_t valid[VALID][TOKEN_BIN_MAX];
static int vlen[VALID];
static unsigned long tried, accepted;

/* Try one forgery in binary and, sometimes, as text. */
static void try(const uint8_t *b, size_t len, int as_text)
{
	struct token_claims c;
	char text[TOKEN_TEXT_MAX];

	tried++;
	if (token_open(kr, b, len, &c) == TOKEN_OK)
		accepted++;
	if (as_text && len < TOKEN_BIN_MAX &&
	    codec_b32_encode(b, len, text, sizeof(text)) >= 0) {
		tried++;
		if (token_open_text(kr, text, strlen(text), &c) == TOKEN_OK)
			accepted++;
	}
}

static void setup(void)
{
	char dir[] = "/tmp/unsub-forge-XXXXXX", path[64], err[256];
	struct token_claims c;
	uint32_t id;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/keys", dir);
	ck_assert_int_eq(keyring_generate(path, 1, &id, err, sizeof(err)), 0);
	ck_assert_int_eq(keyring_generate(path, 2, &id, err, sizeof(err)), 0);
	ck_assert_int_eq(keyring_load(path, &kr, err, sizeof(err)), 0);
	unlink(path);
	rmdir(dir);
	for (int i = 0; i < VALID; i++) {
		memset(&c, 0, sizeof(c));
		snprintf(c.address, sizeof(c.address), "r%d@example.com", i);
		strcpy(c.list, i % 2 ? "news" : "offers");
		c.issued = 1790000000u + (unsigned)i;
		vlen[i] = token_seal(kr, &c, valid[i], sizeof(valid[i]));
		ck_assert_int_gt(vlen[i], 0);
	}
}

START_TEST(no_forgery_opens)
{
	uint8_t b[TOKEN_BIN_MAX], r[64];

	for (int round = 0; round < ROUNDS; round++) {
		const uint8_t *v = valid[round % VALID];
		const uint8_t *w = valid[(round * 7 + 3) % VALID];
		int n = vlen[round % VALID], m = vlen[(round * 7 + 3) % VALID];
		ck_assert_int_eq(RAND_bytes(r, sizeof(r)), 1);
		/* 16 random single and double bit flips */
		for (int k = 0; k < 16; k++) {
			memcpy(b, v, (size_t)n);
			b[r[k] % n] ^= (uint8_t)(1u << (r[k + 16] % 8));
			if (k % 2)
				b[r[k + 32] % n] ^= (uint8_t)(1u << (r[k + 48] % 8));
			if (memcmp(b, v, (size_t)n) != 0)
				try(b, (size_t)n, k == 0);
		}
		/* 8 truncations and 8 extensions */
		for (int k = 0; k < 8; k++) {
			try(v, (size_t)(r[k] % n), 0);
			memcpy(b, v, (size_t)n);
			memcpy(b + n, r, (size_t)(1 + k));
			try(b, (size_t)(n + 1 + k), 0);
		}
		/* 8 splices: the head of one valid token, the tail of another */
		for (int k = 0; k < 8; k++) {
			int cut = 5 + r[k] % (n - 5);
			memcpy(b, v, (size_t)cut);
			if (m > cut) {
				memcpy(b + cut, w + cut, (size_t)(m - cut));
				if (memcmp(b, w, (size_t)m) != 0)
					try(b, (size_t)m, k == 0);
			}
		}
		/* 8 with another (random or the other real) key id */
		for (int k = 0; k < 8; k++) {
			memcpy(b, v, (size_t)n);
			if (k == 0) {
				uint32_t other = keyring_at(kr, 0)->id ==
				    ((uint32_t)v[1] << 24 | (uint32_t)v[2] << 16 |
				    (uint32_t)v[3] << 8 | v[4]) ?
				    keyring_at(kr, 1)->id : keyring_at(kr, 0)->id;
				b[1] = (uint8_t)(other >> 24);
				b[2] = (uint8_t)(other >> 16);
				b[3] = (uint8_t)(other >> 8);
				b[4] = (uint8_t)other;
			} else
				memcpy(b + 1, r + 4 * k, 4);
			try(b, (size_t)n, 0);
		}
		/* 12 of random bytes with a valid version byte */
		for (int k = 0; k < 12; k++) {
			size_t len = 40 + (size_t)r[k] % 120;
			ck_assert_int_eq(RAND_bytes(b, (int)len), 1);
			b[0] = 1;
			try(b, len, k == 0);
		}
	}
	printf("forgery: %lu forged tokens tried, %lu accepted\n", tried,
	    accepted);
	ck_assert_uint_ge(tried, 1000000);
	ck_assert_msg(accepted == 0, "got %lu forgeries accepted, want 0",
	    accepted);
}
END_TEST

static Suite *forgery_suite(void)
{
	Suite *s = suite_create("forgery");
	TCase *tc = tcase_create("forgery");

	tcase_set_timeout(tc, 300);
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, no_forgery_opens);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(forgery_suite)
