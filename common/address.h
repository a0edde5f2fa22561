/* address.h - mail address validation and normalisation for store keys. */
#ifndef UNSUB_ADDRESS_H
#define UNSUB_ADDRESS_H

#include <stddef.h>

#define ADDRESS_MAX 254  /* RFC 5321 path limit less the angle brackets */

enum {
	ADDRESS_OK = 0,
	ADDRESS_EEMPTY = -1,
	ADDRESS_ENOAT = -2,
	ADDRESS_ELOCAL = -3,
	ADDRESS_EDOMAIN = -4,
	ADDRESS_ELONG = -5,
};

/*
 * Validate `in` (optionally in <angle brackets>) and write its normalised
 * form to `out` (size >= ADDRESS_MAX + 1): domain lowercased, local part
 * lowercased unless `case_sensitive_local`.  Returns ADDRESS_OK or a
 * negative ADDRESS_E* code.
 */
int address_normalise(const char *in, int case_sensitive_local, char *out,
    size_t outsz);
const char *address_strerror(int err);

#endif
