/* bearer.h - the API's bearer secrets (APITokenFile): several may be
 * valid at once, for rotation; compared in constant time. */
#ifndef UNSUB_BEARER_H
#define UNSUB_BEARER_H

#include <stddef.h>

#define BEARER_MIN 16		/* shortest secret accepted, in octets */
#define BEARER_LINE_MAX 1024
#define BEARER_MAX 64		/* secrets in one file */

struct bearer;

enum {
	BEARER_OK = 0,
	BEARER_EIO = -1,	/* cannot open or read */
	BEARER_EPERM = -2,	/* open to group or others */
	BEARER_EFORMAT = -3,	/* a secret too short, too long or with a
				 * space; or none at all */
	BEARER_EFULL = -4,	/* more than BEARER_MAX */
};

/*
 * Load the secrets in `path`: one a line, blank lines and '#' comments
 * ignored, each BEARER_MIN to BEARER_LINE_MAX visible ASCII octets.  A
 * file that group or others may read is refused.  On error `err` holds a
 * one-line reason with file:line.
 */
int bearer_load(const char *path, struct bearer **out, char *err,
    size_t errsz);
void bearer_free(struct bearer *b);
size_t bearer_count(const struct bearer *b);

/* Is the `len` octets of `cand` one of the secrets?  1 or 0.  Compares
 * SHA-256 digests with CRYPTO_memcmp against every secret, so neither
 * the time taken nor an early exit says how much matched, or how long a
 * secret is. */
int bearer_check(const struct bearer *b, const char *cand, size_t len);

#endif
