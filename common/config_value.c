/* config_value.c - the syntax of each configuration value type: booleans,
 * networks, sizes and durations, sockets, header names, mailboxes, URLs. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "config_int.h"
#include "header.h"
#include "ref.h"
#include "token.h"

/* Characters a mailbox may hold and still be written into a mailto URI as
 * it is (RFC 6068: unreserved and some-delims; no '?', '#', '%', '&', '/'
 * or what a header would quote). */
#define MAILTO_SAFE "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
	"0123456789-._~!$'*+=@"

/* Parse "yes/no/true/false/on/off/1/0". */
int config_parse_bool(const char *v, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *out = 1, 0;
		if (strcasecmp(v, no[i]) == 0)
			return *out = 0, 0;
	}
	return -1;
}

/* Parse one "addr[/prefix]" into n. */
static int parse_net(const char *s, struct config_net *n)
{
	char buf[64];
	char *slash, *end;
	unsigned long prefix;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, buf, n->addr) == 1)
		n->family = AF_INET, n->prefix = 32;
	else if (inet_pton(AF_INET6, buf, n->addr) == 1)
		n->family = AF_INET6, n->prefix = 128;
	else
		return -1;
	if (slash != NULL) {
		errno = 0;
		prefix = strtoul(slash, &end, 10);
		if (*slash == '\0' || *end != '\0' || errno || prefix > n->prefix)
			return -1;
		n->prefix = (unsigned)prefix;
	}
	return 0;
}

/* Parse a comma- or space-separated network list into c->internal. */
int config_parse_nets(struct config *c, const char *v, char *err, size_t errsz)
{
	char buf[4096];
	char *tok, *save = NULL;

	if (strlen(v) >= sizeof(buf)) {
		snprintf(err, errsz, "list too long");
		return -1;
	}
	strcpy(buf, v);
	c->n_internal = 0;
	for (tok = strtok_r(buf, ", \t", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t", &save)) {
		if (c->n_internal == CONFIG_NET_MAX) {
			snprintf(err, errsz, "more than %d networks",
			    CONFIG_NET_MAX);
			return -1;
		}
		if (parse_net(tok, &c->internal[c->n_internal]) < 0) {
			snprintf(err, errsz, "bad network \"%s\" (want "
			    "address or address/prefix)", tok);
			return -1;
		}
		c->n_internal++;
	}
	return 0;
}

/* Unit suffixes of sizes (bytes) and durations (seconds). */
struct unit {
	char c;
	unsigned long mul;
};
static const struct unit size_units[] = { { 'k', 1UL << 10 },
	{ 'm', 1UL << 20 }, { 'g', 1UL << 30 }, { 0, 0 } };
static const struct unit time_units[] = { { 's', 1 }, { 'm', 60 },
	{ 'h', 3600 }, { 'd', 86400 }, { 'w', 604800 }, { 0, 0 } };

/* Parse a size (k/m/g suffix) or duration (s/m/h/d/w suffix) within
 * [o->min, o->max]. */
int config_parse_size(const struct opt *o, const char *v, unsigned long *out,
    char *err, size_t errsz)
{
	const struct unit *u = o->type == T_DURATION ? time_units : size_units;
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	for (; end != v && u->c != 0; u++)
		if (tolower((unsigned char)*end) == u->c) {
			n = n > ULONG_MAX / u->mul ? ULONG_MAX : n * u->mul;
			end++;
			break;
		}
	if (end == v || *end != '\0' || errno || v[0] == '-' ||
	    n < o->min || n > o->max) {
		snprintf(err, errsz, "%s must be a number from %lu to %lu",
		    o->name, o->min, o->max);
		return -1;
	}
	*out = n;
	return 0;
}

/* A libmilter socket: unix:/path, local:/path, inet:port[@host] or
 * inet6:port[@host]. */
static int socket_ok(const char *v)
{
	const char *p;

	if (strncmp(v, "unix:", 5) == 0)
		return v[5] == '/';
	if (strncmp(v, "local:", 6) == 0)
		return v[6] == '/';
	if (strncmp(v, "inet:", 5) == 0)
		p = v + 5;
	else if (strncmp(v, "inet6:", 6) == 0)
		p = v + 6;
	else
		return 0;
	if (!isdigit((unsigned char)*p))
		return 0;
	while (isdigit((unsigned char)*p))
		p++;
	return *p == '\0' || (*p == '@' && p[1] != '\0');
}

/* A header field name (RFC 5322 ftext: visible ASCII but ':'). */
static int header_name_ok(const char *v)
{
	for (; *v; v++)
		if (*v < 33 || *v > 126 || *v == ':')
			return 0;
	return 1;
}

/* A comma- or space-separated list of addresses. */
static int mailboxes_ok(const struct opt *o, const char *v, char *err,
    size_t errsz)
{
	char one[ADDRESS_MAX + 1], norm[ADDRESS_MAX + 1];
	int rc;

	while (*(v += strspn(v, ", \t")) != '\0') {
		size_t n = strcspn(v, ", \t");
		snprintf(one, sizeof(one), "%.*s", (int)n, v);
		if (n >= sizeof(one) || strpbrk(one, "<>\"") != NULL ||
		    (rc = address_normalise(one, 0, norm, sizeof(norm))) !=
		    ADDRESS_OK) {
			snprintf(err, errsz, "%s: \"%s\": %s", o->name, one,
			    n >= sizeof(one) || strpbrk(one, "<>\"") ?
			    "not a plain address" : address_strerror(rc));
			return -1;
		}
		v += n;
	}
	return 0;
}

/* A FeedbackID template: known escapes, and room for the longest ids. */
static int template_ok(const struct opt *o, const char *v, char *err,
    size_t errsz)
{
	char id[TOKEN_FIELD_MAX + 1], out[HEADER_FEEDBACK_MAX];

	memset(id, 'x', TOKEN_FIELD_MAX);
	id[TOKEN_FIELD_MAX] = '\0';
	if (header_feedback_id(out, sizeof(out), v, id, id, id) < 0) {
		snprintf(err, errsz, "%s: only %%l, %%c, %%p and %%%% may "
		    "follow %%, and the value must fit %d octets with 64-"
		    "character ids", o->name, HEADER_FEEDBACK_MAX - 1);
		return -1;
	}
	return 0;
}

/* Type-specific checks of string values. */
int config_check_str(const struct opt *o, const char *v, char *err,
    size_t errsz)
{
	char norm[ADDRESS_MAX + 1];
	int rc;

	if ((o->type == T_PATH || o->type == T_SOCKET) && v[0] == '\0') {
		snprintf(err, errsz, "%s needs a value", o->name);
		return -1;
	}
	if (o->type == T_SOCKET && !socket_ok(v)) {
		snprintf(err, errsz, "%s \"%s\": want unix:/path, inet:port@host "
		    "or inet6:port@host", o->name, v);
		return -1;
	}
	if (o->type == T_HEADER && !header_name_ok(v)) {
		snprintf(err, errsz, "%s \"%s\" is not a header field name",
		    o->name, v);
		return -1;
	}

	if (o->type == T_MAILBOX && v[0] != '\0' &&
	    (rc = address_normalise(v, 0, norm, sizeof(norm))) != ADDRESS_OK) {
		snprintf(err, errsz, "%s: %s", o->name, address_strerror(rc));
		return -1;
	}
	if (o->type == T_MAILBOX && v[strspn(v, MAILTO_SAFE)] != '\0') {
		snprintf(err, errsz, "%s: '%c' would have to be escaped in a "
		    "mailto URI; use letters, digits and . - _ + only", o->name,
		    v[strspn(v, MAILTO_SAFE)]);
		return -1;
	}
	if (o->type == T_MAILBOX && v[0] != '\0' &&
	    !ref_mailbox_fits(v)) {
		snprintf(err, errsz, "%s: local part too long to carry a "
		    "%d-character reference within 64 octets", o->name,
		    REF_TEXT);
		return -1;
	}
	if (o->type == T_MAILBOXES && mailboxes_ok(o, v, err, errsz) < 0)
		return -1;
	if (o->type == T_TEMPLATE && v[0] != '\0' && template_ok(o, v, err,
	    errsz) < 0)
		return -1;
	if (o->type == T_URL && v[0] != '\0' &&
	    strncasecmp(v, "https://", 8) != 0 &&
	    strncasecmp(v, "http://", 7) != 0) {
		snprintf(err, errsz, "%s must start with https:// or http://",
		    o->name);
		return -1;
	}
	/* unsub-httpd finds the token in the path; a query
	 * would carry it where it never looks, and every link would 404 */
	if (o->type == T_URL && v[0] != '\0' &&
	    (strchr(v, '?') != NULL || strchr(strstr(v, "//") + 2, '/') ==
	    NULL)) {
		snprintf(err, errsz, "%s must end in a path the token completes: "
		    "no ?query, and a / after the host", o->name);
		return -1;
	}
	if (strpbrk(v, "<>\" \t") != NULL && o->type != T_STR &&
	    o->type != T_PATH && o->type != T_MAILBOXES) {
		snprintf(err, errsz, "%s must not contain spaces, quotes or "
		    "angle brackets", o->name);
		return -1;
	}
	return 0;
}
