/* api.c - unsub-httpd's integration API under /api/v1/ (APITokenFile):
 * bearer authentication, bounded JSON bodies parsed with jansson, one
 * routing table, and errors as {"error":CODE,"message":TEXT} with a
 * stable code set (unsub-httpd(8), doc/openapi.json).  Changes go
 * through the committer like the one-click POSTs: answered once synced. */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "bearer.h"
#include "header.h"
#include "api_int.h"
#include "log.h"
#include "mint.h"
#include "ref.h"
#include "store_json.h"

#define API_PREFIX "/api/"
#define API_BODY_MAX 65536	/* request body octets; 413 beyond */
#define API_TEXT_MAX 2048	/* a string field; the longest is a mailto */
#define API_REASON_MAX 200	/* reason and by, kept in the event detail */

static const struct {
	const char *name;
	unsigned status;
} codes[E_CODES] = {
	{ "ok", MHD_HTTP_OK },
	{ "unauthorized", MHD_HTTP_UNAUTHORIZED },
	{ "not_found", MHD_HTTP_NOT_FOUND },
	{ "method_not_allowed", MHD_HTTP_METHOD_NOT_ALLOWED },
	{ "too_large", MHD_HTTP_CONTENT_TOO_LARGE },
	{ "unsupported_media_type", MHD_HTTP_UNSUPPORTED_MEDIA_TYPE },
	{ "malformed_json", MHD_HTTP_BAD_REQUEST },
	{ "unknown_field", MHD_HTTP_BAD_REQUEST },
	{ "wrong_type", MHD_HTTP_BAD_REQUEST },
	{ "missing_field", MHD_HTTP_BAD_REQUEST },
	{ "invalid_value", MHD_HTTP_UNPROCESSABLE_CONTENT },
	{ "invalid_token", MHD_HTTP_UNPROCESSABLE_CONTENT },
	{ "not_suppressed", MHD_HTTP_CONFLICT },
	{ "store_error", MHD_HTTP_SERVICE_UNAVAILABLE },
	{ "internal", MHD_HTTP_INTERNAL_SERVER_ERROR },
};
static atomic_ulong answered[E_CODES];

/* Queue `body` (taken) as the answer; `allow` for a 405. */
static enum MHD_Result answer(struct MHD_Connection *c, enum api_code code,
    unsigned status, char *body, const char *allow)
{
	struct MHD_Response *resp;
	enum MHD_Result rc;

	atomic_fetch_add(&answered[code], 1);
	if (body == NULL)
		return MHD_NO;
	resp = MHD_create_response_from_buffer(strlen(body), body,
	    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (code == E_UNAUTHORIZED)
		MHD_add_response_header(resp, "WWW-Authenticate",
		    "Bearer realm=\"unsub-httpd\"");
	if (code == E_STORE)
		MHD_add_response_header(resp, "Retry-After", "60");
	if (allow != NULL)
		MHD_add_response_header(resp, "Allow", allow);
	rc = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

enum MHD_Result api_ok(struct MHD_Connection *c, json_t *v)
{
	char *body = v ? json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER) :
	    NULL;

	json_decref(v);
	return answer(c, E_OK, MHD_HTTP_OK, body, NULL);
}

enum MHD_Result api_error(struct MHD_Connection *c,
    enum api_code code, const char *allow, const char *fmt, ...)
{
	char msg[512];
	json_t *v;
	char *body;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	v = json_pack("{s:s,s:o}", "error", codes[code].name, "message",
	    store_json_str(msg));
	body = v ? json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(v);
	return answer(c, code, codes[code].status, body, allow);
}

/* A string field an endpoint takes. */
struct field {
	const char *name;
	int required;
	char *dst;
	size_t size;		/* of dst: longer values are invalid */
};

/* Copy the body's fields into their buffers: every member must be one of
 * `f` (unknown ones are refused: a misspelt "list" must not widen an
 * unsubscribe to every list) and a string that fits.  E_OK or the code,
 * with the reason in msg. */
static enum api_code take_fields(const json_t *in, const struct field *f,
    size_t n, char *msg, size_t msgsz)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach((json_t *)in, key, v) {
		for (i = 0; i < n && strcmp(key, f[i].name) != 0; i++)
			;
		if (i == n) {
			snprintf(msg, msgsz, "unknown field \"%.64s\"", key);
			return E_UNKNOWN_FIELD;
		}
		if (!json_is_string(v)) {
			snprintf(msg, msgsz, "\"%s\" must be a string", key);
			return E_WRONG_TYPE;
		}
		/* no NUL inside: json_loadb refuses \u0000 */
		if (json_string_length(v) >= f[i].size) {
			snprintf(msg, msgsz, "\"%s\" is longer than %zu "
			    "octets", key, f[i].size - 1);
			return E_INVALID;
		}
		strcpy(f[i].dst, json_string_value(v));
	}
	for (i = 0; i < n; i++)
		if (f[i].required && f[i].dst[0] == '\0') {
			snprintf(msg, msgsz, "\"%s\" is required", f[i].name);
			return E_MISSING;
		}
	return E_OK;
}

#define TAKE(call, f, msg) take_fields((call)->in, (f), \
	sizeof(f) / sizeof((f)[0]), (msg), sizeof(msg))

/* Normalise an address field; E_OK or E_INVALID with msg. */
static enum api_code address(const struct httpd *h, const char *in,
    char *out, char *msg, size_t msgsz)
{
	int rc = address_normalise(in, h->cfg.case_sensitive_local, out,
	    ADDRESS_MAX + 1);

	if (rc == ADDRESS_OK)
		return E_OK;
	snprintf(msg, msgsz, "address: %s", address_strerror(rc));
	return E_INVALID;
}

/* A list id, or "" (every list) when optional. */
static enum api_code list_id(const char *list, int required, char *msg,
    size_t msgsz)
{
	if (token_id_ok(list, required))
		return E_OK;
	snprintf(msg, msgsz, "list, profile and campaign ids are 1 to %d "
	    "visible ASCII characters, no comma, not \"*\"", TOKEN_FIELD_MAX);
	return E_INVALID;
}

/* POST /api/v1/decrypt {"token"}: a token, an https URL ending in one, or
 * a mailto URL whose reference the store resolves. */
static enum MHD_Result api_decrypt(struct call *x)
{
	char token[API_TEXT_MAX] = "", msg[256];
	struct field f[] = { { "token", 1, token, sizeof(token) } };
	struct token_claims c;
	uint8_t ref[REF_LEN];
	enum api_code e;
	int rc, detail = 0, by_ref = 0;

	if ((e = TAKE(x, f, msg)) != E_OK)
		return api_fail(x->c, e, "%s", msg);
	pthread_rwlock_rdlock(&x->h->kr_lock);
	if ((rc = token_open_url(x->h->kr, token, &c)) != TOKEN_OK) {
		rc = ref_mailto(token, x->h->cfg.mailbox, ref) ?
		    ref_lookup(x->h->kr, x->h->st, ref, &c, &detail) :
		    REF_ENOTFOUND;
		by_ref = 1;
	}
	pthread_rwlock_unlock(&x->h->kr_lock);
	if (rc == REF_ESTORE)
		return api_fail(x->c, E_STORE, "store: %s", store_strerror(detail));
	if (rc != REF_OK)
		return api_fail(x->c, E_INVALID_TOKEN, "not a valid token, "
		    "unsubscribe URL or mailto reference for these keys");
	return api_ok(x->c, store_json_claims(&c, by_ref));
}

/* The URI in a List-Unsubscribe value that begins with `scheme`, as a
 * JSON string, or null. */
static json_t *uri(const char *lu, const char *scheme)
{
	char pat[16];
	const char *s, *e;

	snprintf(pat, sizeof(pat), "<%s", scheme);
	if ((s = strstr(lu, pat)) == NULL || (e = strchr(s, '>')) == NULL)
		return json_null();
	return json_stringn(s + 1, (size_t)(e - s - 1));
}

/* POST /api/v1/token {"address","list","profile","campaign"}: mint as
 * the milter would; the mailto reference is durable before the answer. */
static enum MHD_Result api_token(struct call *x)
{
	char in[API_TEXT_MAX] = "", msg[256], lu[HEADER_VALUE_MAX];
	struct token_claims c;
	struct field f[] = { { "address", 1, in, sizeof(in) },
		{ "list", 1, c.list, sizeof(c.list) },
		{ "profile", 0, c.profile, sizeof(c.profile) },
		{ "campaign", 0, c.campaign, sizeof(c.campaign) } };
	enum api_code e;
	int rc, detail;

	memset(&c, 0, sizeof(c));
	if ((e = TAKE(x, f, msg)) != E_OK ||
	    (e = address(x->h, in, c.address, msg, sizeof(msg))) != E_OK ||
	    (e = list_id(c.list, 1, msg, sizeof(msg))) != E_OK ||
	    (e = list_id(c.profile, 0, msg, sizeof(msg))) != E_OK ||
	    (e = list_id(c.campaign, 0, msg, sizeof(msg))) != E_OK)
		return api_fail(x->c, e, "%s", msg);
	c.scope_all = x->h->cfg.scope_all;
	c.issued = (uint64_t)time(NULL);
	pthread_rwlock_rdlock(&x->h->kr_lock);
	rc = mint_headers(&x->h->cfg, x->h->kr, x->h->st, &c, " ", lu,
	    sizeof(lu), &detail);
	pthread_rwlock_unlock(&x->h->kr_lock);
	if (rc == MINT_ESTORE)
		return api_fail(x->c, E_STORE, "store: %s", store_strerror(detail));
	if (rc == MINT_EHEADER)
		return api_fail(x->c, E_INVALID, "the header would pass the line "
		    "limit: shorter ids, UnsubscribeURL or UnsubscribeMailbox");
	if (rc != MINT_OK)
		return api_fail(x->c, E_INTERNAL, "sealing: %s",
		    token_strerror(detail));
	return api_ok(x->c, json_pack("{s:o,s:o,s:s,s:o}", "url", uri(lu, "http"),
	    "mailto", uri(lu, "mailto:"), "list_unsubscribe", lu,
	    "list_unsubscribe_post", x->h->cfg.url[0] ?
	    json_string(HEADER_LUP_VALUE) : json_null()));
}

/* What other_arg looks for: query arguments not in `names`. */
struct args {
	const char *const *names;
	int others;
};

static enum MHD_Result other_arg(void *cls, enum MHD_ValueKind kind,
    const char *key, const char *value)
{
	struct args *a = cls;
	const char *const *n = a->names;

	(void)kind; (void)value;
	while (*n != NULL && strcmp(key, *n) != 0)
		n++;
	a->others += *n == NULL;
	return MHD_YES;
}

int api_only_args(struct MHD_Connection *c, const char *const *names)
{
	struct args a = { names, 0 };

	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, other_arg, &a);
	return a.others == 0;
}

/* The ?address= of a GET, normalised; E_OK or the code with msg. */
static enum api_code query_address(struct call *x, char *out, char *msg,
    size_t msgsz)
{
	static const char *const names[] = { "address", NULL };
	const char *a = MHD_lookup_connection_value(x->c,
	    MHD_GET_ARGUMENT_KIND, "address");

	if (!api_only_args(x->c, names)) {
		snprintf(msg, msgsz, "the only parameter is address");
		return E_UNKNOWN_FIELD;
	}
	if (a == NULL || a[0] == '\0') {
		snprintf(msg, msgsz, "address is required");
		return E_MISSING;
	}
	return address(x->h, a, out, msg, msgsz);
}

/* A GET of one address's answer from the store, as fn builds it. */
static enum MHD_Result by_address(struct call *x,
    int (*fn)(struct store *, const char *, json_t **))
{
	char addr[ADDRESS_MAX + 1], msg[256];
	enum api_code e = query_address(x, addr, msg, sizeof(msg));
	json_t *v;
	int rc;

	if (e != E_OK)
		return api_fail(x->c, e, "%s", msg);
	if ((rc = fn(x->h->st, addr, &v)) != STORE_OK)
		return api_fail(x->c, E_STORE, "store: %s", store_strerror(rc));
	return api_ok(x->c, v);
}

/* GET /api/v1/status?address=A: as unsubctl status --json. */
static enum MHD_Result api_status(struct call *x)
{
	return by_address(x, store_json_status);
}

/* GET /api/v1/history?address=A: as unsubctl history --json. */
static enum MHD_Result api_history(struct call *x)
{
	return by_address(x, store_json_history);
}

/* Hand a change to the committer: answered by recorded() once synced. */
static enum MHD_Result change(struct call *x, enum store_action act)
{
	char in[API_TEXT_MAX] = "", list[STORE_SCOPE_MAX + 1] = "";
	char reason[API_REASON_MAX] = "", by[API_REASON_MAX] = "", msg[256];
	/* "reason" last: a resubscribe takes the first three only */
	struct field f[] = { { "address", 1, in, sizeof(in) },
		{ "list", 0, list, sizeof(list) },
		{ "by", act == STORE_RESUBSCRIBE, by, sizeof(by) },
		{ "reason", 0, reason, sizeof(reason) } };
	struct store_event *ev = &x->p->one.ev;
	enum api_code e;

	memset(ev, 0, sizeof(*ev));
	if ((e = take_fields(x->in, f, act == STORE_UNSUBSCRIBE ? 4 : 3, msg,
	    sizeof(msg))) != E_OK ||
	    (e = address(x->h, in, ev->address, msg, sizeof(msg))) != E_OK ||
	    (e = list_id(list, 0, msg, sizeof(msg))) != E_OK)
		return api_fail(x->c, e, "%s", msg);
	ev->action = act;
	ev->source = STORE_SRC_API;
	strcpy(ev->scope, list[0] ? list : STORE_SCOPE_ALL);
	store_detail_add(ev->detail, "by", by);
	store_detail_add(ev->detail, "reason", reason);
	if (routes_submit(x->h, x->c, x->p))
		return MHD_YES;
	return api_recorded(x->c, x->p);	/* recorded already */
}

/* POST /api/v1/unsubscribe {"address","list","reason","by"}. */
static enum MHD_Result api_unsubscribe(struct call *x)
{
	return change(x, STORE_UNSUBSCRIBE);
}

/* POST /api/v1/resubscribe {"address","list","by"}: "by" required. */
static enum MHD_Result api_resubscribe(struct call *x)
{
	return change(x, STORE_RESUBSCRIBE);
}

enum MHD_Result api_recorded(struct MHD_Connection *c, const struct post *p)
{
	if (p->rc != STORE_OK)
		return api_fail(c, E_STORE, "store: %s", p->err);
	if (p->one.rc == STORE_ENOTFOUND)
		return api_fail(c, E_NOT_SUPPRESSED, "%s is not suppressed for %s; "
		    "nothing recorded", p->one.ev.address, p->one.ev.scope);
	return api_ok(c, json_pack("{s:b,s:b}", "recorded", 1, "changed",
	    p->one.changed));
}

/* The endpoints. */
static const struct route {
	const char *path;
	const char *method;
	enum MHD_Result (*fn)(struct call *);
} routes[] = {
	{ "/api/v1/decrypt", "POST", api_decrypt },
	{ "/api/v1/token", "POST", api_token },
	{ "/api/v1/status", "GET", api_status },
	{ "/api/v1/history", "GET", api_history },
	{ "/api/v1/unsubscribe", "POST", api_unsubscribe },
	{ "/api/v1/resubscribe", "POST", api_resubscribe },
	{ "/api/v1/events", "GET", api_events },
};

/* Does the Authorization header carry one of the secrets? */
static int authorised(struct httpd *h, struct MHD_Connection *c)
{
	const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	int yes;

	if (a == NULL || strncasecmp(a, "Bearer ", 7) != 0)
		return 0;
	a += 7 + strspn(a + 7, " ");
	pthread_rwlock_rdlock(&h->kr_lock);
	yes = bearer_check(h->api, a, strlen(a));
	pthread_rwlock_unlock(&h->kr_lock);
	return yes;
}

/* Route a complete, authorised request. */
static enum MHD_Result dispatch(struct httpd *h, struct MHD_Connection *c,
    const char *url, const char *method, struct api_req *r, struct post *p)
{
	struct call x = { h, c, NULL, p, r };
	const struct route *rt = NULL;
	const char *type;
	json_error_t jerr;
	enum MHD_Result rc;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (strcmp(url, routes[i].path) == 0)
			rt = &routes[i];
	if (rt == NULL)
		return api_fail(c, E_NOT_FOUND, "no such endpoint");
	if (strcmp(method, rt->method) != 0)
		return api_error(c, E_METHOD, rt->method, "%s takes %s only",
		    url, rt->method);
	if (r->too_large)
		return api_fail(c, E_TOO_LARGE, "the body is over %d octets",
		    API_BODY_MAX);
	if (strcmp(method, "POST") != 0)
		return rt->fn(&x);
	type = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	if (type == NULL || strncasecmp(type, "application/json", 16) != 0 ||
	    (type[16] != '\0' && type[16] != ';'))
		return api_fail(c, E_MEDIA_TYPE, "send Content-Type: "
		    "application/json");
	x.in = json_loadb(r->body ? r->body : "", r->len, JSON_REJECT_DUPLICATES, &jerr);
	if (x.in == NULL)
		return api_fail(c, E_MALFORMED, "line %d column %d: %s", jerr.line,
		    jerr.column, jerr.text);
	if (!json_is_object(x.in))
		rc = api_fail(c, E_MALFORMED, "the body must be a JSON object");
	else
		rc = rt->fn(&x);
	json_decref(x.in);
	return rc;
}

int api_path(const struct httpd *h, const char *url)
{
	return h->cfg.api_token_file[0] != '\0' &&
	    strncmp(url, API_PREFIX, strlen(API_PREFIX)) == 0;
}

enum MHD_Result api_handler(struct httpd *h, struct MHD_Connection *c,
    const char *url, const char *method, const char *upload,
    size_t *upload_size, struct api_req **state, struct post *p)
{
	struct api_req *r = *state;
	const char *cl;

	if (r == NULL) {
		/* Judged before any body is read: a client without a secret,
		 * or with too much to say, makes us buffer nothing. */
		if ((r = *state = calloc(1, sizeof(*r))) == NULL)
			return MHD_NO;
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		r->answered = 1;
		if (!authorised(h, c))
			return api_fail(c, E_UNAUTHORIZED, "send Authorization: "
			    "Bearer SECRET (a line of APITokenFile)");
		if (cl != NULL && strtoull(cl, NULL, 10) > API_BODY_MAX)
			return api_fail(c, E_TOO_LARGE, "the body is over %d "
			    "octets", API_BODY_MAX);
		r->answered = 0;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (r->body == NULL && !r->answered &&
		    (r->body = malloc(API_BODY_MAX)) == NULL)
			return MHD_NO;
		if (!r->answered && !r->too_large &&
		    *upload_size <= API_BODY_MAX - r->len) {
			memcpy(r->body + r->len, upload, *upload_size);
			r->len += *upload_size;
		} else
			r->too_large = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->answered)
		return MHD_YES;
	if (p->done)	/* resumed by the committer */
		return api_recorded(c, p);
	return dispatch(h, c, url, method, r, p);
}

void api_free(struct api_req *r)
{
	if (r != NULL)
		free(r->body);
	free(r);
}

size_t api_metrics(char *buf, size_t size)
{
	size_t off = 0;

	off += (size_t)snprintf(buf, size,
	    "# HELP unsub_http_api_requests_total API answers by code "
	    "(\"ok\" or the error code).\n"
	    "# TYPE unsub_http_api_requests_total counter\n");
	for (int i = 0; i < E_CODES && off < size; i++)
		off += (size_t)snprintf(buf + off, size - off,
		    "unsub_http_api_requests_total{code=\"%s\"} %lu\n",
		    codes[i].name, atomic_load(&answered[i]));
	return off < size ? off : size - 1;
}
