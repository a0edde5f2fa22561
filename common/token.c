/* token.c - seal and open unsubscribe tokens with AES-256-GCM.
 *
 * Sealed layout (all integers big-endian):
 *   version(1)=1 | key id(4) | nonce(12) | ciphertext | tag(16)
 * The version and key id are authenticated as additional data.  Plaintext:
 *   issued(5, Unix seconds) | flags(1, bit 0: all lists) |
 *   four fields, each length(1) + bytes: address, list, profile, campaign
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "codec.h"
#include "token.h"

#define TOKEN_VERSION 1
#define HDR_LEN 5
#define NONCE_LEN 12
#define TAG_LEN 16
#define PT_FIXED 6
#define PT_MAX (PT_FIXED + 4 + ADDRESS_MAX + 3 * TOKEN_FIELD_MAX)

static pthread_once_t token_once = PTHREAD_ONCE_INIT;
static pthread_key_t token_ctx_key;
static EVP_CIPHER *token_cipher;
static __thread char token_errbuf[512];

/* Free a thread's cached cipher context when the thread exits. */
static void ctx_free(void *ctx)
{
	EVP_CIPHER_CTX_free(ctx);
}

/* Fetch the cipher once per process. */
static void token_init(void)
{
	token_cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	pthread_key_create(&token_ctx_key, ctx_free);
}

/* Record `what` and drain the OpenSSL error queue into the error text. */
static int crypto_fail(const char *what)
{
	size_t off = (size_t)snprintf(token_errbuf, sizeof(token_errbuf),
	    "%s failed", what);
	unsigned long e;

	while ((e = ERR_get_error()) != 0) {
		if (off + 3 < sizeof(token_errbuf)) {
			token_errbuf[off++] = ':';
			token_errbuf[off++] = ' ';
			ERR_error_string_n(e, token_errbuf + off,
			    sizeof(token_errbuf) - off);
			off += strlen(token_errbuf + off);
		}
	}
	return TOKEN_ECRYPTO;
}

/* This thread's reusable cipher context, or NULL. */
static EVP_CIPHER_CTX *thread_ctx(void)
{
	EVP_CIPHER_CTX *ctx;

	pthread_once(&token_once, token_init);
	if (token_cipher == NULL)
		return NULL;
	if ((ctx = pthread_getspecific(token_ctx_key)) == NULL &&
	    (ctx = EVP_CIPHER_CTX_new()) != NULL)
		pthread_setspecific(token_ctx_key, ctx);
	return ctx;
}

/* Append a length-prefixed field; -1 if it is too long. */
static int put_field(uint8_t *pt, size_t *off, const char *s, size_t max)
{
	size_t len = strlen(s);

	if (len > max)
		return -1;
	pt[(*off)++] = (uint8_t)len;
	memcpy(pt + *off, s, len);
	*off += len;
	return 0;
}

/* Read a length-prefixed field into dst (size max + 1); -1 if malformed. */
static int get_field(const uint8_t *pt, size_t ptlen, size_t *off, char *dst,
    size_t max)
{
	size_t len;

	if (*off >= ptlen)
		return -1;
	len = pt[(*off)++];
	if (len > max || len > ptlen - *off || memchr(pt + *off, 0, len))
		return -1;
	memcpy(dst, pt + *off, len);
	dst[len] = '\0';
	*off += len;
	return 0;
}

/* Serialise the claims; returns the plaintext length or TOKEN_EFIELD. */
static int encode_claims(const struct token_claims *c, uint8_t *pt)
{
	size_t off = 0;

	if (c->address[0] == '\0' || c->list[0] == '\0')
		return TOKEN_EFIELD;
	for (int i = 4; i >= 0; i--)
		pt[off++] = (uint8_t)(c->issued >> (8 * i));
	pt[off++] = c->scope_all ? 1 : 0;
	if (put_field(pt, &off, c->address, ADDRESS_MAX) < 0 ||
	    put_field(pt, &off, c->list, TOKEN_FIELD_MAX) < 0 ||
	    put_field(pt, &off, c->profile, TOKEN_FIELD_MAX) < 0 ||
	    put_field(pt, &off, c->campaign, TOKEN_FIELD_MAX) < 0)
		return TOKEN_EFIELD;
	return (int)off;
}

/* Parse plaintext into the claims; TOKEN_EFORMAT if it does not decode. */
static int decode_claims(const uint8_t *pt, size_t len, struct token_claims *c)
{
	size_t off = PT_FIXED;

	if (len < PT_FIXED || pt[5] > 1)
		return TOKEN_EFORMAT;
	c->issued = 0;
	for (int i = 0; i < 5; i++)
		c->issued = (c->issued << 8) | pt[i];
	c->scope_all = pt[5];
	if (get_field(pt, len, &off, c->address, ADDRESS_MAX) < 0 ||
	    get_field(pt, len, &off, c->list, TOKEN_FIELD_MAX) < 0 ||
	    get_field(pt, len, &off, c->profile, TOKEN_FIELD_MAX) < 0 ||
	    get_field(pt, len, &off, c->campaign, TOKEN_FIELD_MAX) < 0 ||
	    off != len || c->address[0] == '\0' || c->list[0] == '\0')
		return TOKEN_EFORMAT;
	return TOKEN_OK;
}

int token_seal(const struct keyring *kr, struct token_claims *c,
    uint8_t *out, size_t outsz)
{
	const struct keyring_key *k = keyring_newest(kr);
	EVP_CIPHER_CTX *ctx = thread_ctx();
	uint8_t pt[PT_MAX];
	int ptlen, n, fin;

	if (ctx == NULL || k == NULL)
		return crypto_fail("cipher context");
	if ((ptlen = encode_claims(c, pt)) < 0)
		return ptlen;
	if ((size_t)ptlen + HDR_LEN + NONCE_LEN + TAG_LEN > outsz)
		return TOKEN_ESPACE;
	c->key_id = k->id;
	out[0] = TOKEN_VERSION;
	for (int i = 0; i < 4; i++)
		out[1 + i] = (uint8_t)(k->id >> (24 - 8 * i));
	if (RAND_bytes(out + HDR_LEN, NONCE_LEN) != 1)
		return crypto_fail("RAND_bytes");
	if (EVP_EncryptInit_ex2(ctx, token_cipher, k->secret, out + HDR_LEN,
	    NULL) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &n, out, HDR_LEN) != 1 ||
	    EVP_EncryptUpdate(ctx, out + HDR_LEN + NONCE_LEN, &n, pt,
	    ptlen) != 1 ||
	    EVP_EncryptFinal_ex(ctx, out + HDR_LEN + NONCE_LEN + n, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LEN,
	    out + HDR_LEN + NONCE_LEN + ptlen) != 1)
		return crypto_fail("AES-256-GCM seal");
	return HDR_LEN + NONCE_LEN + ptlen + TAG_LEN;
}

int token_open(const struct keyring *kr, const uint8_t *in, size_t len,
    struct token_claims *c)
{
	const struct keyring_key *k;
	EVP_CIPHER_CTX *ctx = thread_ctx();
	uint8_t pt[PT_MAX];
	size_t ctlen;
	uint32_t id;
	int n, fin;

	if (ctx == NULL)
		return crypto_fail("cipher context");
	if (len < HDR_LEN + NONCE_LEN + PT_FIXED + TAG_LEN ||
	    len > HDR_LEN + NONCE_LEN + PT_MAX + TAG_LEN ||
	    in[0] != TOKEN_VERSION)
		return TOKEN_EFORMAT;
	id = (uint32_t)in[1] << 24 | (uint32_t)in[2] << 16 |
	    (uint32_t)in[3] << 8 | in[4];
	if ((k = keyring_find(kr, id)) == NULL)
		return TOKEN_EKEY;
	ctlen = len - HDR_LEN - NONCE_LEN - TAG_LEN;
	if (EVP_DecryptInit_ex2(ctx, token_cipher, k->secret, in + HDR_LEN,
	    NULL) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &n, in, HDR_LEN) != 1 ||
	    EVP_DecryptUpdate(ctx, pt, &n, in + HDR_LEN + NONCE_LEN,
	    (int)ctlen) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN,
	    (void *)(in + len - TAG_LEN)) != 1)
		return crypto_fail("AES-256-GCM open");
	if (EVP_DecryptFinal_ex(ctx, pt + n, &fin) != 1) {
		ERR_clear_error();
		return TOKEN_EAUTH;
	}
	if (decode_claims(pt, ctlen, c) != TOKEN_OK)
		return TOKEN_EFORMAT;
	c->key_id = id;
	return TOKEN_OK;
}

/* Seal, then encode with `enc`. */
static int seal_text(const struct keyring *kr, struct token_claims *c,
    char *out, size_t outsz,
    int (*enc)(const uint8_t *, size_t, char *, size_t))
{
	uint8_t bin[TOKEN_BIN_MAX];
	int n = token_seal(kr, c, bin, sizeof(bin));

	if (n < 0)
		return n;
	return enc(bin, (size_t)n, out, outsz) < 0 ? TOKEN_ESPACE : TOKEN_OK;
}

int token_seal_url(const struct keyring *kr, struct token_claims *c,
    char *out, size_t outsz)
{
	return seal_text(kr, c, out, outsz, codec_b64u_encode);
}

int token_seal_mail(const struct keyring *kr, struct token_claims *c,
    char *out, size_t outsz)
{
	return seal_text(kr, c, out, outsz, codec_b32_encode);
}

int token_open_text(const struct keyring *kr, const char *text, size_t len,
    struct token_claims *c)
{
	uint8_t bin[TOKEN_BIN_MAX];
	int n, rc = TOKEN_EFORMAT;

	if ((n = codec_b64u_decode(text, len, bin, sizeof(bin))) > 0)
		rc = token_open(kr, bin, (size_t)n, c);
	if (rc != TOKEN_OK &&
	    (n = codec_b32_decode(text, len, bin, sizeof(bin))) > 0) {
		int rc32 = token_open(kr, bin, (size_t)n, c);
		if (rc32 == TOKEN_OK || rc == TOKEN_EFORMAT)
			rc = rc32;
	}
	return rc;
}

int token_ref(const struct keyring *kr, uint32_t key_id,
    const struct token_claims *c, uint8_t ref[TOKEN_REF_LEN])
{
	static const char label[] = "unsub-milter mailto reference";
	const struct keyring_key *k = keyring_find(kr, key_id);
	uint8_t sub[EVP_MAX_MD_SIZE], mac[EVP_MAX_MD_SIZE];
	uint8_t msg[ADDRESS_MAX + TOKEN_FIELD_MAX + 4];
	unsigned sublen = 0, maclen = 0;
	size_t off = 0, alen = strlen(c->address), llen = strlen(c->list);

	if (k == NULL)
		return TOKEN_EKEY;
	if (alen > ADDRESS_MAX || llen > TOKEN_FIELD_MAX)
		return TOKEN_EFIELD;
	memcpy(msg, c->address, alen + 1);
	off = alen + 1;
	memcpy(msg + off, c->list, llen + 1);
	off += llen + 1;
	msg[off++] = c->scope_all ? '*' : '=';
	/* A subkey of its own, so the AES key never doubles as a MAC key. */
	if (HMAC(EVP_sha256(), k->secret, KEYRING_KEYLEN,
	    (const uint8_t *)label, sizeof(label), sub, &sublen) == NULL ||
	    HMAC(EVP_sha256(), sub, sublen, msg, off, mac, &maclen) == NULL)
		return crypto_fail("HMAC-SHA256");
	memcpy(ref, mac, TOKEN_REF_LEN);
	return TOKEN_OK;
}

const char *token_strerror(int err)
{
	switch (err) {
	case TOKEN_OK: return "valid";
	case TOKEN_EFORMAT: return "malformed token (bad encoding, version "
	    "or length)";
	case TOKEN_EKEY: return "token sealed with a key not in the keyring";
	case TOKEN_EAUTH: return "token failed authentication (forged or "
	    "altered)";
	case TOKEN_EFIELD: return "token field empty or too long";
	case TOKEN_ESPACE: return "token buffer too small";
	case TOKEN_ECRYPTO: return token_errbuf;
	}
	return "unknown token error";
}
