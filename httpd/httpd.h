/* httpd.h - shared pieces of unsub-httpd: pages and request handling. */
#ifndef UNSUB_HTTPD_H
#define UNSUB_HTTPD_H

#include <pthread.h>
#include <stddef.h>

#include <microhttpd.h>

#include "config.h"
#include "keyring.h"
#include "store.h"

enum page_kind { PAGE_LANDING, PAGE_DONE, PAGE_ERROR, PAGE_KINDS };
#define PAGE_LANGS_MAX 32	/* languages in HTTPTemplates */
#define PAGE_LANG_LEN 15	/* "landing.LANG.html": LANG at most */

/* One list on a page ({{#items}}): NULL values render as "". */
struct page_item {
	const char *name, *title, *description;
	const char *checked;	/* set: the recipient gets it */
	const char *marked;	/* set: the token's list */
	const char *gone, *back;	/* done page: left, came back */
};

/* Values a template may show; NULL ones render as "". */
struct page_vars {
	const char *address;	/* masked */
	const char *list;
	const char *action;	/* form target */
	const char *date;	/* "already unsubscribed on", or NULL */
	const char *time;	/* and at, hh:mm UTC */
	const char *all;	/* set when the scope is every list */
	const char *one;	/* set when the scope is this list */
	const char *choose;	/* set for scope=choose's done page */
	const char *nothing;	/* and there when it changed nothing */
	const char *message;
	const struct page_item *items;
	size_t n_items;
};

/* Load the templates of every language in `dir` (each needs all three
 * kinds; "en" is the default when there, else the first by name); -1
 * with err naming what is missing. */
int page_load(const char *dir, char *err, size_t errsz);
/* Choose a language from an Accept-Language header (may be NULL). */
int page_lang(const char *accept);
/* Render a page; returns malloc'd HTML (caller frees) or NULL. */
char *page_render(enum page_kind kind, int lang, const struct page_vars *v,
    size_t *len);
/* Mask an address for display: "r•••r@example.com". */
void page_mask(const char *address, char *out, size_t outsz);

/* prefs.c: the lists a preference page shows, the token's among them,
 * and the recipient's state for each. */
#define PREFS_MAX (STORE_LISTS_MAX + 1)	/* the registry and the token's */
#define PREFS_NAME_LEN (STORE_SCOPE_MAX + 2)	/* a longer keep= is cut
						 * and matches no list */
struct prefs {
	struct store_listdef def[PREFS_MAX];
	size_t n;
	int token;		/* the token's list, or -1 (an all-lists token) */
	int all;		/* suppressed for "*" */
	uint64_t all_time;
	int supp[PREFS_MAX], except[PREFS_MAX];
	uint64_t time[PREFS_MAX];
};

/* Read the registry and the address's state; the token's list (may be
 * "") is added first when not registered.  STORE_OK or the store's
 * error. */
int prefs_load(struct store *st, const char *address, const char *list,
    struct prefs *p);
/* Does the recipient get list i? */
int prefs_gets(const struct prefs *p, size_t i);
/* When the recipient left the token's list (scope_all: all lists), or 0
 * when they get it. */
uint64_t prefs_since(const struct prefs *p, int scope_all);
/* The changes that make the lists the recipient gets exactly the kept
 * ones (names not shown are ignored): copies of proto with action and
 * scope set, into out (room for PREFS_MAX); returns how many. */
struct post_change;
size_t prefs_choose(const struct prefs *p, char keep[][PREFS_NAME_LEN],
    size_t n_keep, const struct store_event *proto, struct post_change *out);
/* The landing page's lists, into items (room for PREFS_MAX). */
size_t prefs_items(const struct prefs *p, struct page_item *items);
/* The done page's: the n changes that changed something. */
size_t prefs_changed_items(const struct prefs *p,
    const struct post_change *ch, size_t n, struct page_item *items);

/* What the request handler needs. */
struct httpd {
	struct config cfg;
	struct keyring *kr;	/* replaced on SIGHUP/SIGUSR1 under kr_lock */
	struct bearer *api;	/* APITokenFile's secrets, likewise; NULL:
				 * no API */
	pthread_rwlock_t kr_lock;
	struct store *st;
	struct committer *cm;	/* records the POSTs' unsubscribes */
	struct events *events;	/* GET /api/v1/events' waiters */
	const char *prefix;	/* path part of UnsubscribeURL, e.g. "/u/" */
};

/* One change of a POST and, once recorded, its outcome. */
struct post_change {
	struct store_event ev;
	int rc;			/* STORE_OK, STORE_ENOTFOUND (nothing to
				 * resubscribe) or the store's error */
	int changed;		/* 0: a repeat */
};

/* A POST's changes waiting for their commit, its connection suspended. */
struct post {
	struct post_change one;	/* one-click, the page's all or list, or
				 * an API call's */
	struct post_change *ch;	/* &one, or scope=choose's changes */
	size_t n;		/* 1 to PREFS_MAX */
	struct MHD_Connection *conn;
	char ip[64];		/* the client's address, for the log */
	int open;		/* counted in routes_posts_open() */
	int done;		/* recorded or failed: rc, err, ch[] set */
	int rc;			/* STORE_OK or the first store error */
	char err[256];		/* store_strerror(rc) */
	struct post *next;
};

/* Start the writer thread, which calls `recorded` (to log) for each post
 * once its commit is done or failed, and wakes the events' waiters after
 * each commit; NULL when it cannot be started. */
struct committer *committer_start(struct store *st,
    void (*recorded)(const struct post *), struct events *events);
/* Suspend p->conn and queue p, returning 1; the connection is resumed
 * once p->done.  Once stopped, records p at once and returns 0 (p->done
 * set): answer now.  Call from the access handler. */
int committer_submit(struct committer *cm, struct post *p);
/* Record what is queued, resume those connections, end the thread;
 * committer_submit records on the caller's thread from now on. */
void committer_stop(struct committer *cm);
/* Stop, then free. */
void committer_free(struct committer *cm);

/* events.c: the long-poll of GET /api/v1/events.  A waiter belongs to
 * its request; it is listed from events_wait until its connection is
 * resumed. */
struct events_waiter {
	struct MHD_Connection *conn;
	uint64_t after;		/* answer once an event is past this */
	int64_t deadline;	/* or at this time (events_now_ms) */
	struct events_waiter *next;
};
/* Start the thread that resumes waiters; NULL when it cannot. */
struct events *events_start(struct store *st);
/* Suspend c until an event follows w->after or w->deadline passes, then
 * resume it (the handler is called again): 1.  0 once stopping: answer
 * now.  Call from the access handler. */
int events_wait(struct events *e, struct events_waiter *w,
    struct MHD_Connection *c);
/* Something was committed: look at the feed now. */
void events_wake(struct events *e);
/* Resume every waiter and end the thread; no waiting from now on. */
void events_stop(struct events *e);
/* Stop, then free (NULL: nothing). */
void events_free(struct events *e);
/* The monotonic clock in milliseconds. */
int64_t events_now_ms(void);

MHD_AccessHandlerCallback routes_handler(void);
/* Queue p's changes (p->ch and p->n, or NULL and p->one alone) from
 * connection c for the committer: 1 when c is suspended until they are
 * recorded, 0 when recorded already (shutting down).  Counted in
 * routes_posts_open() until answered. */
int routes_submit(struct httpd *h, struct MHD_Connection *c, struct post *p);
/* Log a POST's changes and count them. */
void routes_recorded(const struct post *p);
/* From now on every answer closes its connection (shutting down). */
void routes_stopping(void);
/* POSTs being recorded or answered: their requests have not ended. */
int routes_posts_open(void);
void routes_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe);

/* api.c: the integration API under /api/ when APITokenFile is set. */
struct api_req;
/* Is url the API's? */
int api_path(const struct httpd *h, const char *url);
/* The access handler for an API request: *state starts NULL and is freed
 * with api_free; p is the request's own, for the committer. */
enum MHD_Result api_handler(struct httpd *h, struct MHD_Connection *c,
    const char *url, const char *method, const char *upload,
    size_t *upload_size, struct api_req **state, struct post *p);
/* Answer a change once the committer has recorded it, or failed. */
enum MHD_Result api_recorded(struct MHD_Connection *c, const struct post *p);
void api_free(struct api_req *r);
/* The API's counters in Prometheus text; returns the length written. */
size_t api_metrics(char *buf, size_t size);

#endif
