/* bulk.c - unsubctl's bulk verbs: import (CSV, or the JSON lines export
 * writes) and export. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "ctl.h"

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

/* Fill ev with the import of addr to scope ("" or NULL: all lists); 0 if
 * usable. */
static int import_event(const struct ctl *x, const char *addr,
    const char *scope, struct store_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	if (address_normalise(addr, x->cfg.case_sensitive_local, ev->address,
	    sizeof(ev->address)) != ADDRESS_OK)
		return -1;
	if (scope == NULL || *scope == '\0')
		scope = STORE_SCOPE_ALL;
	if (strlen(scope) > STORE_SCOPE_MAX)
		return -1;
	strcpy(ev->scope, scope);
	ev->action = STORE_UNSUBSCRIBE;
	ev->source = STORE_SRC_IMPORT;
	return 0;
}

/* A CSV line "address[,scope[,...]]" (cut in place) into ev. */
static int import_csv(const struct ctl *x, char *line,
    struct store_event *ev)
{
	char *scope = NULL, *comma;

	if ((comma = strchr(line, ',')) != NULL) {
		*comma = '\0';
		scope = comma + 1;
		scope[strcspn(scope, ",")] = '\0';
	}
	return import_event(x, line, scope, ev);
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
 * "address" and "scope", others ignored) into ev. */
static int import_jsonl(const struct ctl *x, const char *line,
    struct store_event *ev)
{
	json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
	const char *addr = json_member(o, "address");
	const char *scope = json_member(o, "scope");
	int rc = addr && scope ? import_event(x, addr, scope, ev) : -1;

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

/* Read fp into the store, a batch at a time; EX_OK or EX_CONFIG. */
static int import_file(struct ctl *x, struct import *im, FILE *fp)
{
	char line[1024];
	unsigned lineno = 0;
	int rc;

	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#' ||
		    (lineno == 1 && strncmp(line, "address", 7) == 0 &&
		    (line[7] == '\0' || line[7] == ',')))
			continue;
		if (im->n == 0)
			im->first_line = lineno;
		if ((line[0] == '{' ? import_jsonl(x, line, &im->ev[im->n]) :
		    import_csv(x, line, &im->ev[im->n])) < 0) {
			fprintf(stderr, "unsubctl: %s:%u: invalid line "
			    "skipped\n", x->argv[0], lineno);
			im->bad++;
			continue;
		}
		if (++im->n == IMPORT_BATCH &&
		    (rc = import_flush(x, im, lineno)) != EX_OK)
			return rc;
	}
	return import_flush(x, im, lineno);
}

/* import: add suppressions from CSV (address[,scope]) or JSON lines;
 * never removes.  Lines are committed a thousand at a time. */
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
	rc = im->bad ? EX_NOTFOUND : EX_OK;
done:
	if (fp != NULL && fp != stdin)
		fclose(fp);
	free(im);
	return rc;
}
