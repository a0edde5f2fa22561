/* bearer.c - the API's bearer secrets: loaded from a private file, kept
 * only as SHA-256 digests, checked in constant time. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "bearer.h"
#include "keyring.h"

struct bearer {
	size_t n;
	unsigned char digest[BEARER_MAX][SHA256_DIGEST_LENGTH];
};

/* A secret is visible ASCII: no space, no control character. */
static int secret_ok(const char *s, size_t len)
{
	if (len < BEARER_MIN || len > BEARER_LINE_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

/* Read the secrets of an open private file into b. */
static int read_secrets(FILE *fp, const char *path, struct bearer *b,
    char *err, size_t errsz)
{
	char *line = NULL;
	size_t cap = 0, len;
	ssize_t got;
	unsigned lineno = 0;
	int rc = BEARER_OK;

	while ((got = getline(&line, &cap, fp)) >= 0) {
		lineno++;
		len = (size_t)got;
		while (len > 0 && strchr(" \t\r\n", line[len - 1]) != NULL)
			len--;
		if (len == 0 || line[0] == '#')
			continue;
		if (!secret_ok(line, len)) {
			snprintf(err, errsz, "%s:%u: a secret is %d to %d visible "
			    "ASCII characters, no space", path, lineno,
			    BEARER_MIN, BEARER_LINE_MAX);
			rc = BEARER_EFORMAT;
			break;
		}
		if (b->n == BEARER_MAX) {
			snprintf(err, errsz, "%s:%u: more than %d secrets",
			    path, lineno, BEARER_MAX);
			rc = BEARER_EFULL;
			break;
		}
		SHA256((const unsigned char *)line, len, b->digest[b->n++]);
	}
	if (rc == BEARER_OK && ferror(fp)) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		rc = BEARER_EIO;
	}
	if (rc == BEARER_OK && b->n == 0) {
		snprintf(err, errsz, "%s: no secret in it", path);
		rc = BEARER_EFORMAT;
	}
	OPENSSL_cleanse(line, cap);
	free(line);
	return rc;
}

int bearer_load(const char *path, struct bearer **out, char *err,
    size_t errsz)
{
	FILE *fp = NULL;
	struct bearer *b = NULL;
	int rc;

	*out = NULL;
	switch (keyring_open_private(path, &fp, err, errsz)) {
	case KEYRING_OK:
		break;
	case KEYRING_EPERM:
		return BEARER_EPERM;
	default:
		return BEARER_EIO;
	}
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		snprintf(err, errsz, "%s: out of memory", path);
		rc = BEARER_EIO;
		goto done;
	}
	if ((rc = read_secrets(fp, path, b, err, errsz)) == BEARER_OK) {
		*out = b;
		b = NULL;
	}
done:
	bearer_free(b);
	fclose(fp);
	return rc;
}

void bearer_free(struct bearer *b)
{
	if (b == NULL)
		return;
	OPENSSL_cleanse(b, sizeof(*b));
	free(b);
}

size_t bearer_count(const struct bearer *b)
{
	return b->n;
}

int bearer_check(const struct bearer *b, const char *cand, size_t len)
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	int match = 0;

	SHA256((const unsigned char *)cand, len, d);
	for (size_t i = 0; i < b->n; i++)
		match |= CRYPTO_memcmp(d, b->digest[i], sizeof(d)) == 0;
	return match;
}
