/* token.c - seal and open unsubscribe tokens with AES-256-GCM.
 *
 * Sealed layout (all integers big-endian):
 *   version(1)=1 | key id(4) | nonce(12) | ciphertext | tag(16)
 * The version and key id are authenticated as additional data.  Plaintext:
 *   issued(5, Unix seconds) | flags(1, bit 0: all lists) |
 *   four fields, each length(1) + bytes: address, list, profile, campaign
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
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

#define NONCE_BATCH 32

/* Per-thread state: a cipher context for each direction that keeps the key
 * schedule of the last key used, and a batch of random nonces (one
 * RAND_bytes call per NONCE_BATCH seals). */
struct token_tls {
	EVP_CIPHER_CTX *enc, *dec;
	EVP_MAC_CTX *mac;
	uint8_t enc_key[KEYRING_KEYLEN], dec_key[KEYRING_KEYLEN];
	uint8_t mac_key[KEYRING_KEYLEN];
	int enc_keyed, dec_keyed, mac_keyed;
	uint8_t nonces[NONCE_BATCH * NONCE_LEN];
	size_t nonces_left;
};

static pthread_once_t token_once = PTHREAD_ONCE_INIT;
static pthread_key_t token_tls_key;
static EVP_CIPHER *token_cipher;
static EVP_MAC *token_hmac;
static __thread char token_errbuf[512];
/* This thread's state; token_tls_key holds it too, for tls_free at exit. */
static __thread struct token_tls *token_tls_cur;

/* Free a thread's state when the thread exits. */
static void tls_free(void *p)
{
	struct token_tls *t = p;

	EVP_CIPHER_CTX_free(t->enc);
	EVP_CIPHER_CTX_free(t->dec);
	EVP_MAC_CTX_free(t->mac);
	OPENSSL_cleanse(t, sizeof(*t));
	free(t);
}

/* Fetch the cipher once per process. */
static void token_init(void)
{
	token_cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	token_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	pthread_key_create(&token_tls_key, tls_free);
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

/* This thread's state, created on first use; NULL if out of memory. */
static struct token_tls *thread_state(void)
{
	struct token_tls *t;

	pthread_once(&token_once, token_init);
	if (token_cipher == NULL || token_hmac == NULL)
		return NULL;
	if (token_tls_cur != NULL)
		return token_tls_cur;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if ((t->enc = EVP_CIPHER_CTX_new()) == NULL ||
	    (t->dec = EVP_CIPHER_CTX_new()) == NULL ||
	    (t->mac = EVP_MAC_CTX_new(token_hmac)) == NULL ||
	    pthread_setspecific(token_tls_key, t) != 0) {
		tls_free(t);
		return NULL;
	}
	token_tls_cur = t;
	return t;
}

/* Take a fresh random nonce from the thread's batch. */
static int next_nonce(struct token_tls *t, uint8_t *out)
{
	if (t->nonces_left == 0) {
		if (RAND_bytes(t->nonces, sizeof(t->nonces)) != 1)
			return -1;
		t->nonces_left = NONCE_BATCH;
	}
	t->nonces_left--;
	memcpy(out, t->nonces + t->nonces_left * NONCE_LEN, NONCE_LEN);
	OPENSSL_cleanse(t->nonces + t->nonces_left * NONCE_LEN, NONCE_LEN);
	return 0;
}

/* Does the context already hold this key?  Compared by secret, not id:
 * a reloaded keyring may reuse an id for another secret. */
static int same_key(int keyed, const uint8_t *cur, const struct keyring_key *k)
{
	return keyed && CRYPTO_memcmp(cur, k->secret, KEYRING_KEYLEN) == 0;
}

/* Set key (only when it changed) and nonce on a cipher context. */
static int keyed_init(EVP_CIPHER_CTX *ctx, int enc, int *keyed,
    uint8_t *cur, const struct keyring_key *k, const uint8_t *iv)
{
	const uint8_t *key = same_key(*keyed, cur, k) ? NULL : k->secret;
	int ok = enc ? EVP_EncryptInit_ex2(ctx, key ? token_cipher : NULL,
	    key, iv, NULL) : EVP_DecryptInit_ex2(ctx, key ? token_cipher :
	    NULL, key, iv, NULL);

	*keyed = ok == 1;
	memcpy(cur, k->secret, KEYRING_KEYLEN);
	return ok == 1 ? 0 : -1;
}

/* Key the HMAC context with the MAC subkey of k (when it changed), else
 * just restart it.  The subkey's label names its one use, the mailto
 * reference (ref.c): changing it would orphan every stored reference. */
static int mac_init(struct token_tls *t, const struct keyring_key *k)
{
	static const char label[] = "unsub-milter mailto reference";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	uint8_t sub[EVP_MAX_MD_SIZE];
	unsigned sublen = 0;
	int ok;

	if (same_key(t->mac_keyed, t->mac_key, k))
		return EVP_MAC_init(t->mac, NULL, 0, NULL) == 1 ? 0 : -1;
	/* A subkey of its own, so the AES key never doubles as a MAC key. */
	if (HMAC(EVP_sha256(), k->secret, KEYRING_KEYLEN,
	    (const uint8_t *)label, sizeof(label), sub, &sublen) == NULL)
		return -1;
	ok = EVP_MAC_init(t->mac, sub, sublen, params);
	OPENSSL_cleanse(sub, sizeof(sub));
	t->mac_keyed = ok == 1;
	memcpy(t->mac_key, k->secret, KEYRING_KEYLEN);
	return ok == 1 ? 0 : -1;
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
	struct token_tls *t = thread_state();
	EVP_CIPHER_CTX *ctx;
	uint8_t pt[PT_MAX];
	int ptlen, n, fin;

	if (t == NULL || k == NULL)
		return crypto_fail("cipher context");
	ctx = t->enc;
	if ((ptlen = encode_claims(c, pt)) < 0)
		return ptlen;
	if ((size_t)ptlen + HDR_LEN + NONCE_LEN + TAG_LEN > outsz)
		return TOKEN_ESPACE;
	c->key_id = k->id;
	out[0] = TOKEN_VERSION;
	for (int i = 0; i < 4; i++)
		out[1 + i] = (uint8_t)(k->id >> (24 - 8 * i));
	if (next_nonce(t, out + HDR_LEN) < 0)
		return crypto_fail("RAND_bytes");
	if (keyed_init(ctx, 1, &t->enc_keyed, t->enc_key, k,
	    out + HDR_LEN) < 0 ||
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
	struct token_tls *t = thread_state();
	EVP_CIPHER_CTX *ctx;
	uint8_t pt[PT_MAX];
	size_t ctlen;
	uint32_t id;
	int n, fin;

	if (t == NULL)
		return crypto_fail("cipher context");
	ctx = t->dec;
	if (len < HDR_LEN + NONCE_LEN + PT_FIXED + TAG_LEN ||
	    len > HDR_LEN + NONCE_LEN + PT_MAX + TAG_LEN ||
	    in[0] != TOKEN_VERSION)
		return TOKEN_EFORMAT;
	id = (uint32_t)in[1] << 24 | (uint32_t)in[2] << 16 |
	    (uint32_t)in[3] << 8 | in[4];
	if ((k = keyring_find(kr, id)) == NULL)
		return TOKEN_EKEY;
	ctlen = len - HDR_LEN - NONCE_LEN - TAG_LEN;
	if (keyed_init(ctx, 0, &t->dec_keyed, t->dec_key, k,
	    in + HDR_LEN) < 0 ||
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

int token_mac(const struct keyring *kr, uint32_t key_id,
    const uint8_t *msg, size_t len, uint8_t *out, size_t outlen)
{
	const struct keyring_key *k = keyring_find(kr, key_id);
	struct token_tls *t = thread_state();
	uint8_t mac[EVP_MAX_MD_SIZE];
	size_t maclen = 0;

	if (k == NULL)
		return TOKEN_EKEY;
	if (t == NULL)
		return crypto_fail("HMAC context");
	if (mac_init(t, k) < 0 || EVP_MAC_update(t->mac, msg, len) != 1 ||
	    EVP_MAC_final(t->mac, mac, &maclen, sizeof(mac)) != 1 ||
	    maclen < outlen)
		return crypto_fail("HMAC-SHA256");
	memcpy(out, mac, outlen);
	return TOKEN_OK;
}

/* "*" names every list in the store (STORE_SCOPE_ALL), so it is no
 * list's id. */
int token_id_ok(const char *s, int required)
{
	size_t len = strlen(s);

	if (len == 0)
		return !required;
	if (len > TOKEN_FIELD_MAX || strcmp(s, "*") == 0)
		return 0;
	for (; *s; s++)
		if (!isgraph((unsigned char)*s) || *s == ',')
			return 0;
	return 1;
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
