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
	pthread_rwlock_t kr_lock;
	struct store *st;
	struct committer *cm;	/* records the POSTs' unsubscribes */
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
	struct post_change one;	/* one-click, or the page's all or list */
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
 * once its commit is done or failed; NULL when it cannot be started. */
struct committer *committer_start(struct store *st,
    void (*recorded)(const struct post *));
/* Suspend p->conn and queue p, returning 1; the connection is resumed
 * once p->done.  Once stopped, records p at once and returns 0 (p->done
 * set): answer now.  Call from the access handler. */
int committer_submit(struct committer *cm, struct post *p);
/* Record what is queued, resume those connections, end the thread;
 * committer_submit records on the caller's thread from now on. */
void committer_stop(struct committer *cm);
/* Stop, then free. */
void committer_free(struct committer *cm);

MHD_AccessHandlerCallback routes_handler(void);
/* Log a POST's changes and count them. */
void routes_recorded(const struct post *p);
/* From now on every answer closes its connection (shutting down). */
void routes_stopping(void);
/* POSTs being recorded or answered: their requests have not ended. */
int routes_posts_open(void);
void routes_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe);

#endif
