/* store_json.h - the store's answers as JSON (jansson): one shape for
 * unsubctl's --json output and unsub-httpd's /api/v1/. */
#ifndef UNSUB_STORE_JSON_H
#define UNSUB_STORE_JSON_H

#include <jansson.h>

#include "store.h"
#include "token.h"

/* A JSON string of s; in one that is not UTF-8 each byte over 0x7f
 * becomes U+FFFD (jansson refuses anything but UTF-8).  NULL: out of
 * memory. */
json_t *store_json_str(const char *s);

/* One current suppression {"scope","since","source"}, after "address"
 * when address is not NULL.  NULL: out of memory. */
json_t *store_json_entry(const struct store_entry *e, const char *address);

/* One history event {"time","action","scope","source","detail","seq"}. */
json_t *store_json_event(const struct store_event *ev);

/* The detail a feed entry shows: the event's, a registry change's with
 * its title, or "ref=BASE32" for a mailto reference (cut to outsz). */
void store_json_detail(const struct store_item *it, char *out,
    size_t outsz);
/* A feed entry's action: unsubscribe, resubscribe, list-set, list-remove
 * or reference. */
const char *store_json_action(const struct store_item *it);
/* A feed entry's scope: a change's, a registry change's list name, or
 * NULL (a reference). */
const char *store_json_scope(const struct store_item *it);

/* One entry of the events feed {"id","time","action","address","scope",
 * "source","detail","host"}: what unsubctl events --json prints, the
 * API's /events answers and unsub-sync POSTs to WebhookURL (a mailto
 * reference: action "reference", address, scope and source null).
 * NULL: out of memory. */
json_t *store_json_item(const struct store_item *it);

/* The suppression state of `address`: {"address","suppressed","scopes",
 * "except","entries"} in *out ("except": the lists it gets although
 * suppressed for all; "entries": the suppressions in full) (the caller's reference).  STORE_OK (also when not
 * suppressed), a store error, or STORE_EIO when out of memory. */
int store_json_status(struct store *st, const char *address, json_t **out);

/* The history of `address` as an array of events, oldest first (empty
 * when none).  STORE_OK, a store error, or STORE_EIO when out of
 * memory. */
int store_json_history(struct store *st, const char *address, json_t **out);

/* A token's claims {"address","list","scope","profile","campaign",
 * "issued","key","reference"}; by_ref: found through a mailto
 * reference.  NULL: out of memory. */
json_t *store_json_claims(const struct token_claims *c, int by_ref);

#endif
