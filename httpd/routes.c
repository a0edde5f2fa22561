/* routes.c - unsub-httpd requests: the RFC 8058 one-click POST, the
 * landing page, which is the preference centre (GET and HEAD never
 * write; its form POSTs scope=all, list or choose), /healthz and
 * /metrics. */
#include <arpa/inet.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "httpd.h"
#include "log.h"
#include "timefmt.h"
#include "token.h"

enum outcome { O_UNSUBSCRIBED, O_CHOSEN, O_PAGE, O_BAD_TOKEN,
	O_BAD_REQUEST, O_TOO_LARGE, O_STORE_ERROR, O_NOT_FOUND, O_METHOD,
	O_HEALTH, O_METRICS, O_OUTCOMES };

static const char *const outcome_names[O_OUTCOMES] = { "unsubscribed",
	"preferences_saved", "page", "bad_token", "bad_request", "too_large",
	"store_error", "not_found", "method_not_allowed", "health",
	"metrics" };
static atomic_ulong outcomes[O_OUTCOMES];
static atomic_ulong by_source[STORE_SRC_LAST + 1];
static atomic_int posts_open;
static atomic_int stopping;	/* answers close their connections */

/* What a scope=choose POST keeps until it is answered: the lists as the
 * page showed them and the changes. */
struct choice {
	struct prefs prefs;
	struct post_change ch[PREFS_MAX];
};

/* One request's state across the handler's calls.  Form values may arrive
 * in pieces (libmicrohttpd passes what each read brought): each is
 * gathered whole and judged when the request is complete.  A field other
 * than keep given twice, or more keep values than a page can show, is a
 * bad request: no guessing which one was meant. */
struct req {
	struct MHD_PostProcessor *pp;
	int answered;		/* replied with the headers (413) */
	size_t body;
	int too_large;
	int bad_form;		/* the post processor gave up, or a field
				 * repeated, or too many keep values */
	unsigned seen;		/* fields seen, by bit (field()) */
	char one_click[16];	/* List-Unsubscribe: "One-Click" */
	char from[8];		/* "page": the landing page's form */
	char scope[8];		/* "all", "list" or "choose" */
	char reason[STORE_DETAIL_MAX / 2];
	char keep[PREFS_MAX][PREFS_NAME_LEN];	/* scope=choose's lists */
	size_t n_keep;
	char list[TOKEN_FIELD_MAX + 1];	/* the token's, for the page */
	struct choice *choice;	/* scope=choose, once read */
	struct post post;	/* the changes, once submitted */
};

/* Put a piece of a field's value at `off`; too long a value is cut (each
 * buffer is longer than the fixed value it is compared with, so a cut
 * value never matches one). */
static void gather(char *buf, size_t bufsz, uint64_t off, const char *data,
    size_t size)
{
	size_t n;

	if (off >= bufsz - 1)
		return;
	n = size < bufsz - 1 - off ? size : bufsz - 1 - off;
	memcpy(buf + off, data, n);
	buf[off + n] = '\0';
}

/* Collect the form fields we know; ignore the rest.  A value's first
 * piece has off 0 (and, but for an empty value, some bytes). */
static enum MHD_Result field(void *cls, enum MHD_ValueKind kind,
    const char *key, const char *filename, const char *type,
    const char *encoding, const char *data, uint64_t off, size_t size)
{
	static const char *const names[] = { "List-Unsubscribe", "from",
		"scope", "reason" };
	struct req *r = cls;
	char *const bufs[] = { r->one_click, r->from, r->scope, r->reason };
	const size_t sizes[] = { sizeof(r->one_click), sizeof(r->from),
		sizeof(r->scope), sizeof(r->reason) };
	int first = off == 0 && size > 0;

	(void)kind; (void)filename; (void)type; (void)encoding;
	if (strcmp(key, "keep") == 0) {
		if (size == 0)
			return MHD_YES;	/* an empty piece: no list */
		if (first && r->n_keep == PREFS_MAX)
			r->bad_form = 1;
		else if (first)
			r->n_keep++;
		if (!r->bad_form && r->n_keep > 0)
			gather(r->keep[r->n_keep - 1], PREFS_NAME_LEN, off,
			    data, size);
		return MHD_YES;
	}
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(key, names[i]) != 0)
			continue;
		if (first && (r->seen & 1u << i))
			r->bad_form = 1;	/* repeated */
		r->seen |= 1u << i;
		gather(bufs[i], sizes[i], off, data, size);
	}
	return MHD_YES;
}

/* Queue a response with our security headers; counts the outcome. */
static enum MHD_Result reply(struct MHD_Connection *c, unsigned status,
    enum outcome o, const char *type, char *body, size_t len)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body,
	    MHD_RESPMEM_MUST_FREE);
	enum MHD_Result rc;

	atomic_fetch_add(&outcomes[o], 1);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Content-Security-Policy",
	    "default-src 'none'; style-src 'unsafe-inline'; "
	    "form-action 'self'; frame-ancestors 'none'");
	if (o == O_STORE_ERROR)
		MHD_add_response_header(resp, "Retry-After", "60");
	if (atomic_load(&stopping))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION,
		    "close");
	rc = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* Reply with a rendered page in the client's language. */
static enum MHD_Result page(struct MHD_Connection *c, unsigned status,
    enum outcome o, enum page_kind kind, const struct page_vars *v)
{
	const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "Accept-Language");
	size_t len = 0;
	char *html = page_render(kind, page_lang(accept), v, &len);

	if (html == NULL)
		return MHD_NO;
	return reply(c, status, o, "text/html; charset=utf-8", html, len);
}

/* An error page with a short message. */
static enum MHD_Result error_page(struct MHD_Connection *c, unsigned status,
    enum outcome o, const char *message, const char *action)
{
	struct page_vars v = { .message = message, .action = action };

	return page(c, status, o, PAGE_ERROR, &v);
}

/* The client's address as text, for the log. */
static void client_ip(struct MHD_Connection *c, char *out, size_t outsz)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(out, outsz, "?");
	if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)
		    sa)->sin_addr, out, (socklen_t)outsz);
	else if (sa != NULL && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)
		    sa)->sin6_addr, out, (socklen_t)outsz);
}

/* GET or HEAD: the landing page, every list with whether the recipient
 * gets it; never writes. */
static enum MHD_Result landing(struct httpd *h, struct MHD_Connection *c,
    const char *url, const struct token_claims *tc)
{
	char masked[ADDRESS_MAX + 16], when[TIMEFMT_LEN];
	struct prefs p;
	struct page_item items[PREFS_MAX];
	struct page_vars v = { .address = masked, .list = tc->list,
		.action = url, .all = tc->scope_all ? "" : NULL,
		.one = tc->scope_all ? NULL : "", .items = items };
	uint64_t since;

	if (prefs_load(h->st, tc->address, tc->list, &p) != STORE_OK)
		return error_page(c, MHD_HTTP_SERVICE_UNAVAILABLE,
		    O_STORE_ERROR, "try again later", NULL);
	page_mask(tc->address, masked, sizeof(masked));
	v.n_items = prefs_items(&p, items);
	if (p.token >= 0)
		v.list = p.def[p.token].title;
	if ((since = prefs_since(&p, tc->scope_all)) != 0) {
		timefmt_rfc3339(since, when);	/* YYYY-MM-DDThh:mm:ssZ */
		when[10] = '\0';
		when[16] = '\0';
		v.date = when;
		v.time = when + 11;
	}
	return page(c, MHD_HTTP_OK, O_PAGE, PAGE_LANDING, &v);
}

void routes_recorded(const struct post *p)
{
	if (p->rc != STORE_OK) {
		log_warn("%s address=%s client=%s: store error: %s; 503",
		    store_action_name(p->ch[0].ev.action), p->ch[0].ev.address,
		    p->ip, p->err);
		return;
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct post_change *c = &p->ch[i];
		if (c->rc != STORE_OK)
			continue;	/* a resubscribe with nothing to lift */
		if (c->ev.action == STORE_UNSUBSCRIBE)
			atomic_fetch_add(&by_source[c->ev.source], 1);
		log_info("%s recorded address=%s scope=%s source=%s "
		    "client=%s%s", store_action_name(c->ev.action),
		    c->ev.address, c->ev.scope, store_source_name(c->ev.source),
		    p->ip, c->changed ? "" : " (repeat)");
	}
}

/* The done page of a scope=choose POST: what changed. */
static enum MHD_Result chosen(struct MHD_Connection *c, const struct req *r)
{
	struct page_item items[PREFS_MAX];
	struct page_vars v = { .choose = "", .items = items };

	v.n_items = prefs_changed_items(&r->choice->prefs, r->post.ch,
	    r->post.n, items);
	if (v.n_items == 0)
		v.nothing = "";
	return page(c, MHD_HTTP_OK, O_CHOSEN, PAGE_DONE, &v);
}

/* Answer a POST once its changes are recorded, or failed: 200 or 503. */
static enum MHD_Result recorded(struct MHD_Connection *c, const struct req *r)
{
	const struct post *p = &r->post;
	struct page_vars v = { .list = r->list };

	if (p->rc != STORE_OK)
		return error_page(c, MHD_HTTP_SERVICE_UNAVAILABLE,
		    O_STORE_ERROR, "try again later", NULL);
	if (r->choice != NULL)
		return chosen(c, r);
	if (strcmp(p->one.ev.scope, STORE_SCOPE_ALL) == 0)
		v.all = "";
	else
		v.one = "";
	return page(c, MHD_HTTP_OK, O_UNSUBSCRIBED, PAGE_DONE, &v);
}

/* Hand a POST's changes to the committer; the request is answered by
 * recorded() once they are durable. */
static enum MHD_Result submit(struct httpd *h, struct MHD_Connection *c,
    struct req *r)
{
	struct post *p = &r->post;

	client_ip(c, p->ip, sizeof(p->ip));
	p->conn = c;
	p->open = 1;
	atomic_fetch_add(&posts_open, 1);
	if (committer_submit(h->cm, p))
		return MHD_YES;
	return recorded(c, r);	/* recorded already (shutting down) */
}

/* scope=choose: the changes that leave the recipient with exactly the
 * kept lists, among those the page shows (read again now: the token is
 * the capability, the form only says which). */
static enum MHD_Result choose(struct httpd *h, struct MHD_Connection *c,
    const struct token_claims *tc, struct req *r,
    const struct store_event *proto)
{
	struct post *p = &r->post;

	if ((r->choice = malloc(sizeof(*r->choice))) == NULL ||
	    prefs_load(h->st, tc->address, tc->list, &r->choice->prefs) !=
	    STORE_OK)
		return error_page(c, MHD_HTTP_SERVICE_UNAVAILABLE,
		    O_STORE_ERROR, "try again later", NULL);
	p->ch = r->choice->ch;
	p->n = prefs_choose(&r->choice->prefs, r->keep, r->n_keep, proto,
	    p->ch);
	if (p->n == 0)
		return chosen(c, r);	/* nothing to write */
	return submit(h, c, r);
}

/* POST: one-click, or the landing page's form. */
static enum MHD_Result unsubscribe(struct httpd *h, struct MHD_Connection *c,
    const char *url, const struct token_claims *tc, struct req *r)
{
	struct post *p = &r->post;
	struct store_event *ev = &p->one.ev;
	int one_click = !r->bad_form && strcmp(r->one_click, "One-Click") == 0;
	int from_page = !r->bad_form && strcmp(r->from, "page") == 0;

	if (r->too_large)
		return error_page(c, MHD_HTTP_CONTENT_TOO_LARGE, O_TOO_LARGE,
		    "request too large", NULL);
	if (!one_click && !from_page)
		return error_page(c, MHD_HTTP_BAD_REQUEST, O_BAD_REQUEST,
		    "not a one-click unsubscribe request", url);
	memset(ev, 0, sizeof(*ev));
	ev->action = STORE_UNSUBSCRIBE;
	ev->source = one_click ? STORE_SRC_ONECLICK : STORE_SRC_LANDING;
	strcpy(ev->address, tc->address);
	store_detail_add(ev->detail, "campaign", tc->campaign);
	store_detail_add(ev->detail, "profile", tc->profile);
	if (!one_click)
		store_detail_add(ev->detail, "reason", r->reason);
	snprintf(r->list, sizeof(r->list), "%s", tc->list);
	if (!one_click && strcmp(r->scope, "choose") == 0) {
		ev->source = STORE_SRC_PREFS;
		return choose(h, c, tc, r, ev);
	}
	strcpy(ev->scope, tc->scope_all || (!one_click &&
	    strcmp(r->scope, "all") == 0) ? STORE_SCOPE_ALL : tc->list);
	p->ch = &p->one;
	p->n = 1;
	return submit(h, c, r);
}

/* /metrics in Prometheus text format. */
static enum MHD_Result metrics(struct MHD_Connection *c)
{
	char *buf = malloc(4096);
	size_t off = 0;

	if (buf == NULL)
		return MHD_NO;
	off += (size_t)snprintf(buf + off, 4096 - off,
	    "# HELP unsub_http_requests_total HTTP requests by outcome.\n"
	    "# TYPE unsub_http_requests_total counter\n");
	for (int i = 0; i < O_OUTCOMES; i++)
		off += (size_t)snprintf(buf + off, 4096 - off,
		    "unsub_http_requests_total{outcome=\"%s\"} %lu\n",
		    outcome_names[i], atomic_load(&outcomes[i]) +
		    (i == O_METRICS));
	off += (size_t)snprintf(buf + off, 4096 - off,
	    "# HELP unsub_unsubscribes_total Unsubscribes recorded by "
	    "unsub-httpd, by source.\n"
	    "# TYPE unsub_unsubscribes_total counter\n");
	for (int s = STORE_SRC_MAILTO; s <= STORE_SRC_LAST; s++)
		if (s == STORE_SRC_ONECLICK || s == STORE_SRC_LANDING ||
		    s == STORE_SRC_PREFS)
			off += (size_t)snprintf(buf + off, 4096 - off,
			    "unsub_unsubscribes_total{source=\"%s\"} %lu\n",
			    store_source_name(s), atomic_load(&by_source[s]));
	return reply(c, MHD_HTTP_OK, O_METRICS,
	    "text/plain; version=0.0.4; charset=utf-8", buf, off);
}

/* /healthz: 200 when the store can be read. */
static enum MHD_Result health(struct httpd *h, struct MHD_Connection *c)
{
	int supp;
	int rc = store_check(h->st, "healthz@invalid", NULL, &supp, NULL, 0);
	char *body = strdup(rc == STORE_OK ? "ok\n" : "store unavailable\n");

	if (body == NULL)
		return MHD_NO;
	return reply(c, rc == STORE_OK ? MHD_HTTP_OK :
	    MHD_HTTP_SERVICE_UNAVAILABLE, O_HEALTH, "text/plain", body,
	    strlen(body));
}

/* Route a complete request. */
static enum MHD_Result respond(struct httpd *h, struct MHD_Connection *c,
    const char *url, const char *method, struct req *r)
{
	int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	int post = strcmp(method, "POST") == 0;
	size_t plen = strlen(h->prefix);
	const char *tok = url + plen;
	struct token_claims tc;
	char ip[64];
	int rc;

	if (get && strcmp(url, "/healthz") == 0)
		return health(h, c);
	if (get && strcmp(url, "/metrics") == 0)
		return metrics(c);
	if (strncmp(url, h->prefix, plen) != 0 || *tok == '\0' ||
	    strchr(tok, '/') != NULL || strlen(tok) >= TOKEN_TEXT_MAX)
		return error_page(c, MHD_HTTP_NOT_FOUND, O_NOT_FOUND,
		    "no such page", NULL);
	if (!get && !post)
		return error_page(c, MHD_HTTP_METHOD_NOT_ALLOWED, O_METHOD,
		    "method not allowed", NULL);
	pthread_rwlock_rdlock(&h->kr_lock);
	rc = token_open_text(h->kr, tok, strlen(tok), &tc);
	pthread_rwlock_unlock(&h->kr_lock);
	if (rc != TOKEN_OK) {
		client_ip(c, ip, sizeof(ip));
		log_warn("%s token %.8s... from %s refused: %s", method, tok, ip,
		    token_strerror(rc));
		return error_page(c, rc == TOKEN_EFORMAT ? MHD_HTTP_BAD_REQUEST :
		    MHD_HTTP_NOT_FOUND, O_BAD_TOKEN,
		    "this unsubscribe link is not valid", NULL);
	}
	return get ? landing(h, c, url, &tc) : unsubscribe(h, c, url, &tc, r);
}

/* The libmicrohttpd access handler: called once with the headers, then
 * for each body chunk, then once more to reply. */
static enum MHD_Result handler(void *cls, struct MHD_Connection *c,
    const char *url, const char *method, const char *version,
    const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct httpd *h = cls;
	struct req *r = *con_cls;
	const char *cl;

	(void)version;
	if (r == NULL) {
		if ((r = calloc(1, sizeof(*r))) == NULL)
			return MHD_NO;
		*con_cls = r;
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && strtoull(cl, NULL, 10) > h->cfg.http_max_body)
			r->too_large = 1;
		if (strcmp(method, "POST") == 0 && !r->too_large)
			r->pp = MHD_create_post_processor(c, 1024, field, r);
		if (r->too_large) {
			r->answered = 1;
			return error_page(c, MHD_HTTP_CONTENT_TOO_LARGE,
			    O_TOO_LARGE, "request too large", NULL);
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (r->answered) {
			*upload_data_size = 0;
			return MHD_YES;
		}
		r->body += *upload_data_size;
		if (r->body > h->cfg.http_max_body)
			r->too_large = 1;
		else if (r->pp != NULL &&
		    MHD_post_process(r->pp, upload_data, *upload_data_size) !=
		    MHD_YES)
			r->bad_form = 1;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->answered)
		return MHD_YES;
	if (r->post.done)	/* resumed by the committer */
		return recorded(c, r);
	return respond(h, c, url, method, r);
}

MHD_AccessHandlerCallback routes_handler(void)
{
	return handler;
}

void routes_stopping(void)
{
	atomic_store(&stopping, 1);
}

int routes_posts_open(void)
{
	return atomic_load(&posts_open);
}

void routes_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;

	(void)cls; (void)c; (void)toe;
	if (r == NULL)
		return;
	if (r->post.open)	/* answered, or the client went away */
		atomic_fetch_sub(&posts_open, 1);
	if (r->pp != NULL)
		MHD_destroy_post_processor(r->pp);
	free(r->choice);
	free(r);
	*con_cls = NULL;
}
