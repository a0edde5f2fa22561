/* ctl.h - unsubctl's private interface: the state every verb gets, the
 * helpers they share and the verbs themselves, by family. */
#ifndef UNSUB_CTL_H
#define UNSUB_CTL_H

#include <jansson.h>

#include "config.h"
#include "keyring.h"
#include "store.h"
#include "store_json.h"

/* Exit codes (SPEC): 0 success, 1 not found / invalid token / nothing to
 * do, 2 usage, 3 config, key or store error. */
#define EX_OK 0
#define EX_NOTFOUND 1
#define EX_USAGE 2
#define EX_CONFIG 3

struct ctl {
	struct config cfg;
	const char *list, *profile, *campaign, *reason, *by, *since, *format;
	const char *after;	/* events --after */
	const char *title, *description;	/* lists set */
	int json, all, follow;	/* --json, --all, events --follow */
	unsigned count;		/* rows printed by a walk */
	int out_failed;		/* a walk's row could not be printed */
	int argc;
	char **argv;		/* operands after the verb */
	struct keyring *kr;
	struct store *st;
};

/* main.c: a one-line message on stderr, returning `code`; the keyring and
 * the store named by the config; operand 0 as a normalised address. */
int ctl_fail(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int ctl_need_keys(struct ctl *x);
int ctl_need_store(struct ctl *x, int read_only);
int ctl_need_address(struct ctl *x, char *out);

/* json.c: print v (its reference is taken; NULL: out of memory)
 * compactly, as element *nth of an array being printed, or as a line
 * when nth is NULL: EX_OK, or EX_CONFIG with a message. */
int ctl_json_put(json_t *v, unsigned *nth);

/* query.c: print current suppressions of `scope` (NULL: all) since a time
 * in the format x->json / x->format choose (list and export). */
int ctl_walk(struct ctl *x, const char *scope, uint64_t since);

/* keys.c */
int cmd_genkey(struct ctl *x);
int cmd_keys(struct ctl *x);
int cmd_token(struct ctl *x);
int cmd_decode(struct ctl *x);
/* query.c */
int cmd_status(struct ctl *x);
int cmd_add(struct ctl *x);
int cmd_resubscribe(struct ctl *x);
int cmd_history(struct ctl *x);
int cmd_list(struct ctl *x);
int cmd_stats(struct ctl *x);
/* sync.c */
int cmd_sync(struct ctl *x);
int cmd_events(struct ctl *x);
/* lists.c */
int cmd_lists(struct ctl *x);
/* bulk.c */
int cmd_import(struct ctl *x);
int cmd_export(struct ctl *x);

#endif
