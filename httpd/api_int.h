/* api_int.h - what the files of unsub-httpd's /api/v1/ share: the error
 * codes, a request's state, what an endpoint gets, and the answers. */
#ifndef UNSUB_API_INT_H
#define UNSUB_API_INT_H

#include <jansson.h>

#include "httpd.h"

/* Error codes: the API's contract, each counted for /metrics. */
enum api_code { E_OK, E_UNAUTHORIZED, E_NOT_FOUND, E_METHOD, E_TOO_LARGE,
	E_MEDIA_TYPE, E_MALFORMED, E_UNKNOWN_FIELD, E_WRONG_TYPE, E_MISSING,
	E_INVALID, E_INVALID_TOKEN, E_NOT_SUPPRESSED, E_STORE, E_INTERNAL,
	E_CODES };

/* One API request's state across the handler's calls. */
struct api_req {
	int answered;		/* replied before the body (401, 413) */
	int too_large;
	size_t len;
	char *body;		/* API_BODY_MAX octets, once one arrives */
	int waited;		/* events: w.deadline is set */
	struct events_waiter w;
};

/* What an endpoint gets. */
struct call {
	struct httpd *h;
	struct MHD_Connection *c;
	json_t *in;		/* the body's object (POST), else NULL */
	struct post *p;		/* for the committer */
	struct api_req *r;
};

/* Answer v (its reference taken) with 200. */
enum MHD_Result api_ok(struct MHD_Connection *c, json_t *v);
/* Answer {"error":code,"message":...} with the code's status; `allow`
 * for a 405. */
enum MHD_Result api_error(struct MHD_Connection *c, enum api_code code,
    const char *allow, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define api_fail(c, code, ...) api_error((c), (code), NULL, __VA_ARGS__)
/* Does the query carry only arguments among names (NULL-terminated)? */
int api_only_args(struct MHD_Connection *c, const char *const *names);

/* api_feed.c: GET /api/v1/events. */
enum MHD_Result api_events(struct call *x);

#endif
