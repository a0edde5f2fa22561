/* keyring.c - load and extend the token keyring file (mode 0600). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "keyring.h"

struct keyring {
	size_t n;
	struct keyring_key keys[KEYRING_MAX];	/* oldest first */
};

/* Parse "ID CREATED HEXSECRET" into k; 0 on success. */
static int parse_line(const char *line, struct keyring_key *k)
{
	unsigned long id;
	long long created;
	char hex[2 * KEYRING_KEYLEN + 2];
	int used = 0;

	if (sscanf(line, "%8lx %lld %65s %n", &id, &created, hex, &used) != 3 ||
	    line[used] != '\0' || strlen(hex) != 2 * KEYRING_KEYLEN ||
	    created < 0)
		return -1;
	for (size_t i = 0; i < KEYRING_KEYLEN; i++) {
		unsigned v;
		/* %2x alone would take "-f", "+f" or " f" */
		if (!isxdigit((unsigned char)hex[2 * i]) ||
		    !isxdigit((unsigned char)hex[2 * i + 1]) ||
		    sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		k->secret[i] = (uint8_t)v;
	}
	k->id = (uint32_t)id;
	k->created = (time_t)created;
	return 0;
}

/* Is the open secret file `fp` (at `path`) private to its owner? */
static int file_private(FILE *fp, const char *path, char *err,
    size_t errsz)
{
	struct stat sb;

	if (fstat(fileno(fp), &sb) < 0) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return KEYRING_EIO;
	}
	if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errsz, "%s: mode %04o is open to group or others; "
		    "chmod 0600 it", path, (unsigned)(sb.st_mode & 07777));
		return KEYRING_EPERM;
	}
	return KEYRING_OK;
}

/* Read every key from an open file. */
static int read_keys(FILE *fp, const char *path, struct keyring *kr,
    char *err, size_t errsz)
{
	char line[256];
	unsigned lineno = 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (kr->n == KEYRING_MAX) {
			snprintf(err, errsz, "%s: more than %d keys", path,
			    KEYRING_MAX);
			return KEYRING_EFULL;
		}
		if (parse_line(line, &kr->keys[kr->n]) < 0) {
			snprintf(err, errsz, "%s:%u: malformed key line", path,
			    lineno);
			OPENSSL_cleanse(line, sizeof(line));
			return KEYRING_EFORMAT;
		}
		kr->n++;
	}
	OPENSSL_cleanse(line, sizeof(line));
	if (ferror(fp)) {
		snprintf(err, errsz, "%s: read error", path);
		return KEYRING_EIO;
	}
	return KEYRING_OK;
}

int keyring_open_regular(const char *path, char *err, size_t errsz)
{
	struct stat sb;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) < 0)
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
	else if (!S_ISREG(sb.st_mode))
		snprintf(err, errsz, "%s: not a regular file", path);
	else
		return fd;
	close(fd);
	return -1;
}

int keyring_open_private(const char *path, FILE **out, char *err,
    size_t errsz)
{
	int fd, rc;

	*out = NULL;
	if ((fd = keyring_open_regular(path, err, errsz)) < 0)
		return KEYRING_EIO;
	if ((*out = fdopen(fd, "r")) == NULL) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		close(fd);
		return KEYRING_EIO;
	}
	if ((rc = file_private(*out, path, err, errsz)) != KEYRING_OK) {
		fclose(*out);
		*out = NULL;
	}
	return rc;
}

int keyring_load(const char *path, struct keyring **out, char *err,
    size_t errsz)
{
	struct keyring *kr = NULL;
	FILE *fp = NULL;
	int rc;

	*out = NULL;
	if ((kr = calloc(1, sizeof(*kr))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return KEYRING_EIO;
	}
	if ((rc = keyring_open_private(path, &fp, err, errsz)) != KEYRING_OK ||
	    (rc = read_keys(fp, path, kr, err, errsz)) != KEYRING_OK)
		goto done;
	if (kr->n == 0) {
		snprintf(err, errsz, "%s: no keys; run unsubctl genkey", path);
		rc = KEYRING_EEMPTY;
		goto done;
	}
	*out = kr;
	kr = NULL;
done:
	if (fp != NULL)
		fclose(fp);
	keyring_free(kr);
	return rc;
}

int keyring_generate(const char *path, time_t now, uint32_t *id_out,
    char *err, size_t errsz)
{
	struct keyring *kr = NULL;
	struct keyring_key k;
	FILE *fp = NULL;
	int fd, nl, rc;
	uint8_t idb[4];

	if ((kr = calloc(1, sizeof(*kr))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return KEYRING_EIO;
	}
	fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0 || (fp = fdopen(fd, "a+")) == NULL) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		rc = KEYRING_EIO;
		goto done;
	}
	if ((rc = read_keys(fp, path, kr, err, errsz)) != KEYRING_OK)
		goto done;
	if (kr->n == KEYRING_MAX) {
		snprintf(err, errsz, "%s: keyring full (%d keys)", path,
		    KEYRING_MAX);
		rc = KEYRING_EFULL;
		goto done;
	}
	do {
		if (RAND_bytes(idb, sizeof(idb)) != 1 ||
		    RAND_bytes(k.secret, sizeof(k.secret)) != 1) {
			snprintf(err, errsz, "random source failed");
			rc = KEYRING_ECRYPTO;
			goto done;
		}
		k.id = (uint32_t)idb[0] << 24 | (uint32_t)idb[1] << 16 |
		    (uint32_t)idb[2] << 8 | idb[3];
	} while (keyring_find(kr, k.id) != NULL);
	/* A file edited by hand may lack its last newline: the new key must
	 * not join that line.  A stream read and then written needs a seek
	 * in between (C11 7.21.5.3). */
	nl = fseek(fp, -1, SEEK_END) != 0 || fgetc(fp) == '\n';
	if (fseek(fp, 0, SEEK_END) != 0) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		rc = KEYRING_EIO;
		goto done;
	}
	if (!nl)
		fputc('\n', fp);
	fprintf(fp, "%08lx %lld ", (unsigned long)k.id, (long long)now);
	for (size_t i = 0; i < KEYRING_KEYLEN; i++)
		fprintf(fp, "%02x", k.secret[i]);
	fputc('\n', fp);
	if (fflush(fp) != 0 || fsync(fileno(fp)) != 0) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		rc = KEYRING_EIO;
		goto done;
	}
	*id_out = k.id;
	rc = KEYRING_OK;
done:
	OPENSSL_cleanse(&k, sizeof(k));
	if (fp != NULL)
		fclose(fp);
	keyring_free(kr);
	return rc;
}

void keyring_free(struct keyring *kr)
{
	if (kr == NULL)
		return;
	OPENSSL_cleanse(kr, sizeof(*kr));
	free(kr);
}

const struct keyring_key *keyring_newest(const struct keyring *kr)
{
	return kr->n > 0 ? &kr->keys[kr->n - 1] : NULL;
}

const struct keyring_key *keyring_find(const struct keyring *kr, uint32_t id)
{
	for (size_t i = 0; i < kr->n; i++)
		if (kr->keys[i].id == id)
			return &kr->keys[i];
	return NULL;
}

size_t keyring_count(const struct keyring *kr)
{
	return kr->n;
}

const struct keyring_key *keyring_at(const struct keyring *kr, size_t i)
{
	return i < kr->n ? &kr->keys[i] : NULL;
}
