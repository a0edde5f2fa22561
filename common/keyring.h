/* keyring.h - the token keys: several keys, the newest seals, all open. */
#ifndef UNSUB_KEYRING_H
#define UNSUB_KEYRING_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define KEYRING_KEYLEN 32	/* AES-256 */
#define KEYRING_MAX 64

struct keyring;

struct keyring_key {
	uint32_t id;
	time_t created;
	uint8_t secret[KEYRING_KEYLEN];
};

enum {
	KEYRING_OK = 0,
	KEYRING_EIO = -1,	/* open/read/write failed; errno-based detail */
	KEYRING_EPERM = -2,	/* readable or writable by group or others */
	KEYRING_EFORMAT = -3,	/* malformed line */
	KEYRING_EEMPTY = -4,	/* no keys */
	KEYRING_EFULL = -5,
	KEYRING_ECRYPTO = -6,	/* random source failed */
};

/*
 * Load the keyring at `path`.  The file holds one key per line:
 * "ID CREATED HEXSECRET" (ID 8 hex digits, CREATED Unix seconds, 64 hex
 * digits).  A file that group or others may read is refused.  On error
 * `err` holds a one-line reason.
 */
int keyring_load(const char *path, struct keyring **out, char *err,
    size_t errsz);
/* Open a file read at start-up (a key, a certificate) only if it is a
 * regular file: O_NONBLOCK, so that a FIFO or a device named by mistake
 * does not hang the open, and fstat before the first read.  Returns the
 * descriptor, or -1 with err. */
int keyring_open_regular(const char *path, char *err, size_t errsz);
/* Open a secret file for reading into *out: a regular file (a FIFO or a
 * device named by mistake never hangs the open) private to its owner.
 * KEYRING_OK, KEYRING_EPERM when group or others may read or write it,
 * KEYRING_EIO; `err` says why.  Every secret file is opened so. */
int keyring_open_private(const char *path, FILE **out, char *err,
    size_t errsz);
/* Append a fresh random key, creating the file with mode 0600. */
int keyring_generate(const char *path, time_t now, uint32_t *id_out,
    char *err, size_t errsz);
void keyring_free(struct keyring *kr);

const struct keyring_key *keyring_newest(const struct keyring *kr);
const struct keyring_key *keyring_find(const struct keyring *kr, uint32_t id);
size_t keyring_count(const struct keyring *kr);
const struct keyring_key *keyring_at(const struct keyring *kr, size_t i);

#endif
