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
enum page_lang { LANG_EN, LANG_SV, LANG_DE, LANGS };

/* Values a template may show; NULL ones render as "". */
struct page_vars {
	const char *address;	/* masked */
	const char *list;
	const char *action;	/* form target */
	const char *date;	/* "already unsubscribed on", or NULL */
	const char *all;	/* set when the scope is every list */
	const char *one;	/* set when the scope is this list */
	const char *message;
};

/* Load every template from `dir`; -1 with err naming the missing file. */
int page_load(const char *dir, char *err, size_t errsz);
/* Choose a language from an Accept-Language header (may be NULL). */
enum page_lang page_lang(const char *accept);
/* Render a page; returns malloc'd HTML (caller frees) or NULL. */
char *page_render(enum page_kind kind, enum page_lang lang,
    const struct page_vars *v, size_t *len);
/* Mask an address for display: "r•••r@example.com". */
void page_mask(const char *address, char *out, size_t outsz);

/* What the request handler needs. */
struct httpd {
	struct config cfg;
	struct keyring *kr;	/* replaced on SIGHUP/SIGUSR1 under kr_lock */
	struct bearer *api;	/* APITokenFile's secrets, likewise; NULL:
				 * no API */
	pthread_rwlock_t kr_lock;
	struct store *st;
	struct committer *cm;	/* records the POSTs' unsubscribes */
	const char *prefix;	/* path part of UnsubscribeURL, e.g. "/u/" */
};

/* An unsubscribe waiting for its commit, its connection suspended. */
struct post {
	struct store_event ev;
	struct MHD_Connection *conn;
	char ip[64];		/* the client's address, for the log */
	int open;		/* counted in routes_posts_open() */
	int done;		/* recorded or failed: rc, changed, err set */
	int rc;			/* STORE_OK or the store's error */
	int changed;		/* 0: a repeat */
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
/* Queue p's change (p->ev set) from connection c for the committer: 1
 * when c is suspended until it is recorded, 0 when recorded already
 * (shutting down).  Counted in routes_posts_open() until answered. */
int routes_submit(struct httpd *h, struct MHD_Connection *c, struct post *p);
/* Log an unsubscribe's outcome and count it. */
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
