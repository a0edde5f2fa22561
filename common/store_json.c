/* store_json.c - the store's answers, and a token's claims, as JSON
 * values (jansson).  unsubctl prints them, unsub-httpd's API sends them:
 * one shape for both (SPEC: "as unsubctl status --json"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "store_json.h"
#include "timefmt.h"

/* JSON is UTF-8: U+FFFD for a byte over 0x7f in a value that is not. */
#define REPLACEMENT "\xef\xbf\xbd"

json_t *store_json_str(const char *s)
{
	json_t *v = json_string(s);
	size_t len = strlen(s), n = 0;
	char *r;

	if (v != NULL || (r = malloc(len * 3 + 1)) == NULL)
		return v;
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x80) {
			r[n++] = *s;
		} else {
			memcpy(r + n, REPLACEMENT, 3);
			n += 3;
		}
	}
	r[n] = '\0';
	v = json_string(r);
	free(r);
	return v;
}

json_t *store_json_entry(const struct store_entry *e, const char *address)
{
	char when[TIMEFMT_LEN];
	json_t *a = address ? store_json_str(address) : NULL;

	if (address != NULL && a == NULL)
		return NULL;
	timefmt_rfc3339(e->time, when);
	return json_pack("{s:o*,s:o,s:s,s:s}", "address", a,
	    "scope", store_json_str(e->scope), "since", when,
	    "source", store_source_name(e->source));
}

json_t *store_json_event(const struct store_event *ev)
{
	char when[TIMEFMT_LEN];

	timefmt_rfc3339(ev->time, when);
	return json_pack("{s:s,s:s,s:o,s:s,s:o,s:I,s:o}", "time", when,
	    "action", store_action_name(ev->action),
	    "scope", store_json_str(ev->scope),
	    "source", store_source_name(ev->source),
	    "detail", store_json_str(ev->detail), "seq", (json_int_t)ev->seq,
	    "host", store_json_str(ev->host));
}

void store_json_detail(const struct store_item *it, char *out, size_t outsz)
{
	char ref[2 * STORE_REF_MAX + 1];

	snprintf(out, outsz, "%s", it->ev.detail);
	if (it->kind == STORE_KIND_LIST) {
		if (outsz > STORE_DETAIL_MAX)
			store_detail_add(out, "title", it->list.title);
	} else if (it->kind != STORE_KIND_CHANGE && codec_b32_encode(it->ref,
	    it->reflen, ref, sizeof(ref)) >= 0)
		snprintf(out, outsz, "ref=%s", ref);
}

const char *store_json_action(const struct store_item *it)
{
	if (it->kind == STORE_KIND_CHANGE)
		return store_action_name(it->ev.action);
	if (it->kind == STORE_KIND_LIST)
		return it->removed ? "list-remove" : "list-set";
	return "reference";
}

const char *store_json_scope(const struct store_item *it)
{
	return it->kind == STORE_KIND_CHANGE ? it->ev.scope :
	    it->kind == STORE_KIND_LIST ? it->list.name : NULL;
}

json_t *store_json_item(const struct store_item *it)
{
	const struct store_event *ev = &it->ev;
	const char *scope = store_json_scope(it);
	char when[TIMEFMT_LEN], detail[STORE_DETAIL_MAX + 1];
	int change = it->kind == STORE_KIND_CHANGE;

	timefmt_rfc3339(ev->time, when);
	store_json_detail(it, detail, sizeof(detail));
	return json_pack("{s:I,s:s,s:s,s:o,s:o,s:o,s:o,s:o}",
	    "id", (json_int_t)ev->seq, "time", when, "action",
	    store_json_action(it),
	    "address", change ? store_json_str(ev->address) : json_null(),
	    "scope", scope ? store_json_str(scope) : json_null(),
	    "source", change ? json_string(store_source_name(ev->source)) :
	    json_null(), "detail", store_json_str(detail),
	    "host", store_json_str(ev->host));
}

/* The arrays a status is built from, filled by status_cb. */
struct status_acc {
	json_t *scopes, *except, *entries;
	int oom;
};

static int status_cb(const struct store_entry *e, void *arg)
{
	struct status_acc *a = arg;

	if (e->except)
		a->oom = json_array_append_new(a->except,
		    store_json_str(e->scope));
	else
		a->oom = json_array_append_new(a->scopes,
		    store_json_str(e->scope)) ||
		    json_array_append_new(a->entries,
		    store_json_entry(e, NULL));
	return a->oom;
}

int store_json_status(struct store *st, const char *address, json_t **out)
{
	struct status_acc a = { json_array(), json_array(), json_array(), 0 };
	int rc = store_status(st, address, status_cb, &a);

	*out = NULL;
	if (rc == STORE_ENOTFOUND)
		rc = STORE_OK;
	if (rc == STORE_OK && (a.oom || a.scopes == NULL ||
	    a.except == NULL || a.entries == NULL))
		rc = STORE_EIO;
	if (rc == STORE_OK) {
		*out = json_pack("{s:o,s:b,s:O,s:O,s:O}", "address",
		    store_json_str(address), "suppressed",
		    json_array_size(a.scopes) > 0, "scopes", a.scopes,
		    "except", a.except, "entries", a.entries);
		rc = *out != NULL ? STORE_OK : STORE_EIO;
	}
	json_decref(a.scopes);
	json_decref(a.except);
	json_decref(a.entries);
	return rc;
}

/* The array a history is built in, filled by history_cb. */
struct history_acc {
	json_t *events;
	int oom;
};

static int history_cb(const struct store_event *ev, void *arg)
{
	struct history_acc *a = arg;

	return a->oom = json_array_append_new(a->events,
	    store_json_event(ev)) != 0;
}

int store_json_history(struct store *st, const char *address, json_t **out)
{
	struct history_acc a = { json_array(), 0 };
	int rc = store_history(st, address, history_cb, &a);

	if (rc == STORE_ENOTFOUND)
		rc = STORE_OK;
	if (rc == STORE_OK && (a.oom || a.events == NULL))
		rc = STORE_EIO;
	if (rc != STORE_OK) {
		json_decref(a.events);
		a.events = NULL;
	}
	*out = a.events;
	return rc;
}

json_t *store_json_claims(const struct token_claims *c, int by_ref)
{
	char when[TIMEFMT_LEN], key[16];

	timefmt_rfc3339(c->issued, when);
	snprintf(key, sizeof(key), "%08lx", (unsigned long)c->key_id);
	return json_pack("{s:o,s:o,s:o,s:o,s:o,s:s,s:s,s:b}",
	    "address", store_json_str(c->address),
	    "list", store_json_str(c->list),
	    "scope", store_json_str(c->scope_all ? STORE_SCOPE_ALL : c->list),
	    "profile", store_json_str(c->profile),
	    "campaign", store_json_str(c->campaign), "issued", when,
	    "key", key, "reference", by_ref);
}
