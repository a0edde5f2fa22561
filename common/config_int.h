/* config_int.h - what config.c (the option table, loading) and
 * config_value.c (the syntax of each value type) share; private to them. */
#ifndef UNSUB_CONFIG_INT_H
#define UNSUB_CONFIG_INT_H

#include <stddef.h>

#include "config.h"

enum opt_type { T_STR, T_BOOL, T_SIZE, T_ENUM, T_NETS, T_LEVEL, T_MAILBOX,
	T_URL, T_MODE, T_PATH, T_SOCKET, T_HEADER, T_MAILBOXES, T_DURATION,
	T_TEMPLATE };

struct opt {
	const char *name;
	enum opt_type type;
	size_t off;			/* field in struct config */
	size_t size;			/* T_STR: buffer size */
	const char *def;		/* default, parsed like a file value */
	unsigned long min, max;		/* T_SIZE bounds */
	const char *const *choices;	/* T_ENUM names, index = value */
	const char *doc;
};

/* Parse "yes/no/true/false/on/off/1/0" into *out; 0 or -1. */
int config_parse_bool(const char *v, int *out);
/* Parse InternalHosts-style address/prefix lists into c; 0 or -1 with err. */
int config_parse_nets(struct config *c, const char *v, char *err,
    size_t errsz);
/* A T_SIZE or T_DURATION value with its unit, within o's bounds. */
int config_parse_size(const struct opt *o, const char *v, unsigned long *out,
    char *err, size_t errsz);
/* Check a string-like value against its type's syntax; 0 or -1 with err. */
int config_check_str(const struct opt *o, const char *v, char *err,
    size_t errsz);

#endif
