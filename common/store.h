/* store.h - the LMDB suppression store: current state plus append-only
 * history, shared by several processes, durable, group-committed.  The
 * one public interface of the store_*.c files (their shared internals,
 * and which file does what: store_int.h). */
#ifndef UNSUB_STORE_H
#define UNSUB_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "address.h"
#include "token.h"

#define STORE_SCOPE_ALL "*"
#define STORE_SCOPE_MAX TOKEN_FIELD_MAX
#define STORE_DETAIL_MAX 255
#define STORE_HOST_MAX 63	/* SyncHostName */
#define STORE_UID_LEN 16
#define STORE_REF_MAX 32

struct store;

enum store_action { STORE_UNSUBSCRIBE = 1, STORE_RESUBSCRIBE = 2 };

enum store_source {
	STORE_SRC_MAILTO = 1,
	STORE_SRC_ONECLICK,
	STORE_SRC_LANDING,
	STORE_SRC_MANUAL,
	STORE_SRC_IMPORT,
	STORE_SRC_BOUNCE,
	STORE_SRC_SOFTBOUNCE,
	STORE_SRC_COMPLAINT,
	STORE_SRC_PREFS,	/* the preference centre's scope=choose */
	STORE_SRC_API,		/* unsub-httpd's /api/v1/ */
};
#define STORE_SRC_LAST STORE_SRC_API	/* the highest source */

#define STORE_SOFT_MAX 100	/* largest soft-bounce limit */

enum {
	STORE_OK = 0,
	STORE_ENOTFOUND = -1,	/* nothing to do / no such entry */
	STORE_EOPEN = -2,	/* directory missing, unreadable or read-only */
	STORE_EIO = -3,		/* LMDB error; see store_strerror */
	STORE_EFULL = -4,	/* map full and could not grow */
	STORE_EINVAL = -5,	/* bad argument (empty or long field) */
	STORE_ECORRUPT = -6,	/* a record that does not decode */
};

/* One change, and one history event (seq and times set by the store). */
struct store_event {
	uint64_t seq;		/* this store's order, across processes */
	uint64_t time;		/* Unix seconds */
	uint64_t time_us;	/* the same in microseconds (merge order) */
	uint64_t lifts;		/* resubscribe: the latest unsubscribe of its
				 * scope it had seen (microseconds) */
	uint8_t uid[STORE_UID_LEN];	/* minted where it happened */
	char host[STORE_HOST_MAX + 1];	/* where: SyncHostName; "" if
					 * recorded before the fleet */
	enum store_action action;
	enum store_source source;
	char address[ADDRESS_MAX + 1];	/* normalised */
	char scope[STORE_SCOPE_MAX + 1];	/* list name or "*" */
	char detail[STORE_DETAIL_MAX + 1];	/* "k=v k=v", may be "" */
};

/* What an entry of the events feed is. */
enum store_kind {
	STORE_KIND_CHANGE = 1,	/* an unsubscribe or resubscribe */
	STORE_KIND_REF = 2,	/* a mailto reference registered */
	STORE_KIND_LIST = 3,	/* the list registry (store_int.h) */
};

/* The registry of lists the preference centre shows (store_lists.c):
 * name (token_id_ok), title, optional description.  set and remove are
 * durable, share group commits with store_record and are events of the
 * fleet (STORE_KIND_LIST): the latest by (time, uid) wins on every host,
 * a remove included (unsub-sync(8), "MERGE RULE"). */
#define STORE_TITLE_MAX 100
#define STORE_DESC_MAX 300
#define STORE_LISTS_MAX 64	/* registered lists at most */

struct store_listdef {
	char name[STORE_SCOPE_MAX + 1];
	char title[STORE_TITLE_MAX + 1];
	char description[STORE_DESC_MAX + 1];
};

/* One entry of the events feed: a change (ev), a reference (ev's seq,
 * time, uid and host; ref and its token), or a registry change (the same
 * of ev; list, removed).  Everything before tok is cleared by a decode. */
struct store_item {
	enum store_kind kind;
	struct store_event ev;
	size_t reflen, toklen;
	uint8_t ref[STORE_REF_MAX];
	int removed;		/* STORE_KIND_LIST: a remove */
	union {
		uint8_t tok[TOKEN_BIN_MAX];
		struct store_listdef list;	/* STORE_KIND_LIST */
	};
};

/* One current suppression. */
struct store_entry {
	char address[ADDRESS_MAX + 1];
	char scope[STORE_SCOPE_MAX + 1];
	uint64_t time;		/* when it began */
	enum store_source source;
	int except;		/* store_status only: an exception to "*",
				 * the address gets this list */
};

struct store_opts {
	size_t map_size;	/* initial map size; 0: default (64 MiB) */
	size_t map_max;		/* growth limit; 0: no limit */
	int read_only;		/* unsubctl read verbs */
	const char *host;	/* SyncHostName; NULL or "": gethostname */
};

/* Open (creating if missing the files, never the directory). */
int store_open(const char *dir, const struct store_opts *opts,
    struct store **out);
void store_close(struct store *st);

/*
 * Is `address` suppressed for `list` or for every list?  Suppressed for
 * every list except `list` (a resubscribe to it after "*") is not
 * suppressed.  *scope_out (may be NULL) receives "*" or the list.
 * Read-only, no lock held after return.
 */
int store_check(struct store *st, const char *address, const char *list,
    int *suppressed, char *scope_out, size_t scope_outsz);

/*
 * Apply a change and append its history event, durably (synced) before
 * returning.  Concurrent callers in one process share one commit (group
 * commit).  Unsubscribing an already-suppressed scope writes nothing (it
 * is answered from a read: no history, no commit) and sets *changed = 0;
 * resubscribing a scope not suppressed returns STORE_ENOTFOUND and records
 * nothing.  Resubscribing a list while suppressed for "*" makes an
 * exception: suppressed for all lists except that one; unsubscribing from
 * "*" again (not a repeat then), or resubscribing to "*", ends every
 * exception.  STORE_EIO when data.mdb or lock.mdb at the path are no
 * longer the files open (nothing written, the store reopened: try again);
 * STORE_ECORRUPT for a truncated data.mdb.  `ev->seq` and `ev->time` (when
 * 0) are filled in.
 */
int store_record(struct store *st, struct store_event *ev, int *changed);
/* Apply n changes in one synced transaction (bulk import); results[i] and
 * changed[i] as store_record gives them.  Returns STORE_OK, or the error
 * that failed the whole transaction (then nothing was written). */
int store_record_batch(struct store *st, struct store_event *ev, size_t n,
    int *results, int *changed);
/*
 * Count one soft bounce of ev->address at ev->time (0: now).  When it is
 * the limit-th within `window` seconds, ev (an unsubscribe) is recorded
 * as store_record does, in the same synced transaction, and the count
 * starts anew; else only the count is written.  *count gets the soft
 * bounces within the window, this one included; *changed is 0 unless a
 * suppression began.  Group-committed with store_record.
 */
int store_soft_bounce(struct store *st, struct store_event *ev,
    unsigned limit, uint64_t window, unsigned *count, int *changed);
/* Same as store_record, one synced commit per call, no batching
 * (benchmarks compare). */
int store_record_single(struct store *st, struct store_event *ev,
    int *changed);

typedef int (*store_entry_fn)(const struct store_entry *e, void *arg);
typedef int (*store_event_fn)(const struct store_event *ev, void *arg);

/* Current suppressions of one address, then its exceptions to "*"
 * (e->except set; fn returns non-zero to stop). */
int store_status(struct store *st, const char *address, store_entry_fn fn,
    void *arg);
/* Every current suppression, optionally of one scope and since a time. */
int store_list(struct store *st, const char *scope, uint64_t since,
    store_entry_fn fn, void *arg);
/* The address's history, oldest first. */
int store_history(struct store *st, const char *address, store_event_fn fn,
    void *arg);

/* The "refs" database: a mailto reference (ref.h, its one user) -> the
 * sealed token it stands for.  put returns once the reference is in this
 * process's journal (store_journal.c: a crash of the process loses
 * nothing) and is committed in a group within 0.5 s; get returns
 * STORE_ENOTFOUND when the key is absent, STORE_ECORRUPT when the value
 * is longer than valsz; wait, when the key is one this process put and
 * has not committed, returns once it is (STORE_OK) or its commit failed
 * (STORE_EIO), at once otherwise; flush commits what the journal holds
 * and stops journaling (later puts commit at once): for a program that
 * stops without closing the store. */
int store_ref_put(struct store *st, const uint8_t *key, size_t keylen,
    const uint8_t *val, size_t len);
int store_ref_get(struct store *st, const uint8_t *key, size_t keylen,
    uint8_t *val, size_t valsz, size_t *len);
int store_ref_wait(struct store *st, const uint8_t *key, size_t keylen);
void store_ref_flush(struct store *st);
/* What this open took over from the journals of stopped processes: the
 * references committed (those committed already among them: a journal
 * is written over, not emptied), and in *left the journals it could not
 * commit, kept for the next open, *why the last one's reason. */
size_t store_replayed(const struct store *st, size_t *left,
    const char **why);

/* Once (meta "carried"): what this store held before the fleet, made
 * this host's events for unsub-sync to ship: *supp suppressions, *lists
 * registry entries.  STORE_OK at once when done before. */
int store_carry_over(struct store *st, size_t *supp, size_t *lists);

/* The events feed: every entry past seq `after`, in order, at most
 * `limit` (0: all); fn returns non-zero to stop.  An entry's seq is the
 * cursor for the next call. */
typedef int (*store_item_fn)(const struct store_item *it, void *arg);
int store_events(struct store *st, uint64_t after, size_t limit,
    store_item_fn fn, void *arg);
/* The id of the feed's last event (0: none yet): one read, for waiting
 * on the feed. */
int store_events_last(struct store *st, uint64_t *last);
/* A fleet counter in "meta" (store_int.h): "shipped", "cursor", "boot",
 * "contact"; STORE_ENOTFOUND when never set. */
struct store_meta {
	const char *name;
	uint64_t value;
};
int store_meta_get(struct store *st, const char *name, uint64_t *value);
/* Apply other hosts' events (each once: one already here by uid is
 * skipped) and set the meta counters, in one synced transaction.
 * *applied: how many were new. */
int store_mirror(struct store *st, struct store_item *items, size_t n,
    const struct store_meta *meta, size_t nmeta, size_t *applied);
/* The host name this store stamps on its events. */
const char *store_host(const struct store *st);

/* Add or replace a list: STORE_EINVAL for a bad field, STORE_EFULL when
 * STORE_LISTS_MAX lists are registered and this one is new. */
int store_lists_set(struct store *st, const struct store_listdef *d);
/* Remove a list: STORE_ENOTFOUND when it is not registered. */
int store_lists_remove(struct store *st, const char *name);
/* The registered lists in name order, at most max, into out[0..*n)
 * (removed ones are not). */
int store_lists_get(struct store *st, struct store_listdef *out, size_t max,
    size_t *n);

/* Append "key=value" (space-separated) to an event detail when value is
 * set; control characters become spaces; truncates at STORE_DETAIL_MAX. */
void store_detail_add(char detail[STORE_DETAIL_MAX + 1], const char *key,
    const char *value);

const char *store_source_name(enum store_source s);
int store_source_parse(const char *name, enum store_source *out);
const char *store_action_name(enum store_action a);
/* Last error text for this thread, with the LMDB reason. */
const char *store_strerror(int err);

#endif
