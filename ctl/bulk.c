/* bulk.c - unsubctl's bulk verbs: import (CSV, or the JSON lines export
 * writes) and export. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "ctl.h"
#include "token.h"

#define IMPORT_BATCH 1000

/* Import state: a batch of events and the running counts. */
struct import {
	struct store_event ev[IMPORT_BATCH];
	int rc[IMPORT_BATCH], changed[IMPORT_BATCH];
	size_t n;
	unsigned first_line, added, had, bad;
};

/* export: every current suppression as CSV (with a header) or JSON lines. */
int cmd_export(struct ctl *x)
{
	if (x->argc != 0)
		return ctl_fail(EX_USAGE, "export takes no operands");
	if (x->format == NULL)
		x->format = "csv";
	if (strcmp(x->format, "csv") != 0 && strcmp(x->format, "jsonl") != 0)
		return ctl_fail(EX_USAGE, "--format must be csv or jsonl");
	if (strcmp(x->format, "csv") == 0)
		printf("address,scope,since,source\n");
	x->json = 0;
	return ctl_walk(x, NULL, 0);
}

/* Fill ev with the import of addr to scope ("", "*" or NULL: all lists;
 * spaces around either are dropped); 0, or -1 with *why set. */
static int import_event(const struct ctl *x, const char *addr,
    const char *scope, struct store_event *ev, const char **why)
{
	size_t len;
	int rc;

	memset(ev, 0, sizeof(*ev));
	rc = address_normalise(addr, x->cfg.case_sensitive_local, ev->address,
	    sizeof(ev->address));
	if (rc != ADDRESS_OK) {
		*why = address_strerror(rc);
		return -1;
	}
	if (scope == NULL)
		scope = "";
	scope += strspn(scope, " \t");
	for (len = strlen(scope); len > 0 && strchr(" \t", scope[len - 1]);)
		len--;
	if (len <= STORE_SCOPE_MAX)
		memcpy(ev->scope, len ? scope : STORE_SCOPE_ALL, len ? len : 1);
	if (len > STORE_SCOPE_MAX || (strcmp(ev->scope, STORE_SCOPE_ALL) != 0 &&
	    !token_id_ok(ev->scope, 1))) {
		*why = "list id not 1 to 64 visible ASCII characters without a "
		    "comma (\"*\" or none: all lists)";
		return -1;
	}
	ev->action = STORE_UNSUBSCRIBE;
	ev->source = STORE_SRC_IMPORT;
	return 0;
}

/* Split a CSV line in place into its fields (RFC 4180: a field in double
 * quotes may hold commas, and "" in it is a quote; spaces before and
 * after the quotes are dropped), keeping the first `max` in f; *n counts
 * them all.  NULL, or why the line is not CSV. */
static const char *csv_split(char *line, char **f, size_t max, size_t *n)
{
	char *r = line, *w, c;

	for (*n = 0;; r++) {
		r += strspn(r, " \t");
		w = r;
		if (*n < max)
			f[*n] = w;
		(*n)++;
		if (*r == '"') {
			for (r++; *r != '"' || *++r == '"'; r++) {
				if (*r == '\0')
					return "a quoted field is not closed";
				*w++ = *r;
			}
			r += strspn(r, " \t");
		} else {
			r += strcspn(r, ",\"");
			w = r;
		}
		if (*r != ',' && *r != '\0')
			return "a quote inside a field that is not quoted";
		c = *r;
		*w = '\0';
		if (c == '\0')
			return NULL;
	}
}

/* A CSV line "address[,scope[,...]]" (cut in place) into ev; the columns
 * after the scope (export's since and source) are not read. */
static int import_csv(const struct ctl *x, char *line,
    struct store_event *ev, const char **why)
{
	char *f[2] = { NULL, NULL };
	size_t n;

	if ((*why = csv_split(line, f, 2, &n)) != NULL)
		return -1;
	return import_event(x, f[0], f[1], ev, why);
}

/* The string member `key` of a JSON object; NULL if it is absent, not a
 * string or holds a NUL. */
static const char *json_member(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	const char *s = json_string_value(v);

	return s != NULL && strlen(s) == json_string_length(v) ? s : NULL;
}

/* A line of `export --format jsonl` (an object with string members
 * "address" and "scope"; others are not read, but an "action" other than
 * unsubscribe is refused: import never lifts a suppression) into ev. */
static int import_jsonl(const struct ctl *x, const char *line,
    struct store_event *ev, const char **why)
{
	json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
	const char *addr = json_member(o, "address");
	const char *scope = json_member(o, "scope");
	const char *action = json_member(o, "action");
	int rc = -1;

	if (addr == NULL || scope == NULL)
		*why = "not a JSON object with string \"address\" and \"scope\"";
	else if (json_object_get(o, "action") != NULL && (action == NULL ||
	    strcmp(action, "unsubscribe") != 0))
		*why = "\"action\" is not \"unsubscribe\" (import only adds "
		    "suppressions)";
	else
		rc = import_event(x, addr, scope, ev, why);
	json_decref(o);
	return rc;
}

/* Commit the batch in one synced transaction. */
static int import_flush(struct ctl *x, struct import *im, unsigned lineno)
{
	int rc = store_record_batch(x->st, im->ev, im->n, im->rc, im->changed);

	if (rc != STORE_OK)
		return ctl_fail(EX_CONFIG, "%s: lines %u-%u not imported: "
		    "store: %s", x->argv[0], im->first_line, lineno,
		    store_strerror(rc));
	for (size_t i = 0; i < im->n; i++)
		im->changed[i] ? im->added++ : im->had++;
	im->n = 0;
	return EX_OK;
}

/* Read fp into the store, a batch at a time, saying on stderr which
 * lines were skipped and why; EX_OK or EX_CONFIG. */
static int import_file(struct ctl *x, struct import *im, FILE *fp)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned lineno = 0;
	const char *why;
	int rc = EX_OK;

	while ((len = getline(&line, &cap, fp)) != -1) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (line[0] == '\0' || line[0] == '#' ||
		    (lineno == 1 && strncmp(line, "address", 7) == 0 &&
		    (line[7] == '\0' || line[7] == ',')))
			continue;
		if (im->n == 0)
			im->first_line = lineno;
		if (strlen(line) != (size_t)len)
			why = "a NUL byte";
		else if ((line[0] == '{' ? import_jsonl(x, line,
		    &im->ev[im->n], &why) : import_csv(x, line,
		    &im->ev[im->n], &why)) == 0)
			why = NULL;
		if (why != NULL) {
			fprintf(stderr, "unsubctl: %s:%u: skipped: %s\n",
			    x->argv[0], lineno, why);
			im->bad++;
			continue;
		}
		if (++im->n == IMPORT_BATCH &&
		    (rc = import_flush(x, im, lineno)) != EX_OK)
			goto done;
	}
	rc = import_flush(x, im, lineno);
done:
	free(line);
	return rc;
}

/* import: add suppressions from CSV (address[,scope[,...]]) or JSON
 * lines; never removes.  Lines are committed a thousand at a time. */
int cmd_import(struct ctl *x)
{
	struct import *im = NULL;
	FILE *fp = NULL;
	int rc;

	if (x->argc != 1)
		return ctl_fail(EX_USAGE, "expected one FILE (- for stdin)");
	if ((rc = ctl_need_store(x, 0)) != EX_OK)
		return rc;
	if ((im = calloc(1, sizeof(*im))) == NULL)
		return ctl_fail(EX_CONFIG, "out of memory");
	fp = strcmp(x->argv[0], "-") == 0 ? stdin : fopen(x->argv[0], "re");
	if (fp == NULL) {
		rc = ctl_fail(EX_CONFIG, "%s: %s", x->argv[0], strerror(errno));
		goto done;
	}
	if ((rc = import_file(x, im, fp)) != EX_OK)
		goto done;
	printf("imported %u, already suppressed %u, invalid %u\n", im->added,
	    im->had, im->bad);
	if (im->bad)
		ctl_fail(EX_NOTFOUND, "%s: skipped %u invalid line%s (each "
		    "named above)", x->argv[0], im->bad, im->bad == 1 ? "" : "s");
	rc = im->bad ? EX_NOTFOUND : EX_OK;
done:
	if (fp != NULL && fp != stdin)
		fclose(fp);
	free(im);
	return rc;
}
