/* prefs.c - the preference centre's model: which lists a page shows
 * (every registered list, and the token's even when it is not registered)
 * with whether the recipient gets each, read in one pass over the store;
 * and the changes a scope=choose POST asks for.  No HTTP here. */
#include <stdio.h>
#include <string.h>

#include "httpd.h"

/* The index of list `name` among p's lists, or -1. */
static int prefs_find(const struct prefs *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->def[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* One of the address's suppressions or exceptions. */
static int status_cb(const struct store_entry *e, void *arg)
{
	struct prefs *p = arg;
	int i;

	if (strcmp(e->scope, STORE_SCOPE_ALL) == 0) {
		p->all = 1;
		p->all_time = e->time;
	} else if ((i = prefs_find(p, e->scope)) >= 0) {
		if (e->except)
			p->except[i] = 1;
		else {
			p->supp[i] = 1;
			p->time[i] = e->time;
		}
	}
	return 0;
}

int prefs_load(struct store *st, const char *address, const char *list,
    struct prefs *p)
{
	int rc;

	memset(p, 0, sizeof(*p));
	if ((rc = store_lists_get(st, p->def, STORE_LISTS_MAX, &p->n)) !=
	    STORE_OK)
		return rc;
	if (list[0] != '\0' && (rc = prefs_find(p, list)) < 0) {
		/* not registered: shown first, under its name */
		memmove(&p->def[1], &p->def[0], p->n * sizeof(p->def[0]));
		memset(&p->def[0], 0, sizeof(p->def[0]));
		snprintf(p->def[0].name, sizeof(p->def[0].name), "%s", list);
		snprintf(p->def[0].title, sizeof(p->def[0].title), "%s", list);
		rc = 0;
		p->n++;
	}
	p->token = rc;
	rc = store_status(st, address, status_cb, p);
	return rc == STORE_ENOTFOUND ? STORE_OK : rc;
}

int prefs_gets(const struct prefs *p, size_t i)
{
	return !p->supp[i] && !(p->all && !p->except[i]);
}

uint64_t prefs_since(const struct prefs *p, int scope_all)
{
	if (scope_all || p->token < 0)
		return p->all ? p->all_time : 0;
	if (prefs_gets(p, (size_t)p->token))
		return 0;
	return p->supp[p->token] ? p->time[p->token] : p->all_time;
}

size_t prefs_choose(const struct prefs *p, char keep[][PREFS_NAME_LEN],
    size_t n_keep, const struct store_event *proto, struct post_change *out)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++) {
		int kept = 0, gets = prefs_gets(p, i);
		for (size_t k = 0; k < n_keep && !kept; k++)
			kept = strcmp(keep[k], p->def[i].name) == 0;
		if (kept == gets)
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		out[n].ev = *proto;
		out[n].ev.action = kept ? STORE_RESUBSCRIBE : STORE_UNSUBSCRIBE;
		snprintf(out[n].ev.scope, sizeof(out[n].ev.scope), "%s",
		    p->def[i].name);
		n++;
	}
	return n;
}

size_t prefs_items(const struct prefs *p, struct page_item *items)
{
	for (size_t i = 0; i < p->n; i++)
		items[i] = (struct page_item){ .name = p->def[i].name,
			.title = p->def[i].title,
			.description = p->def[i].description,
			.checked = prefs_gets(p, i) ? "" : NULL,
			.marked = (int)i == p->token ? "" : NULL };
	return p->n;
}

size_t prefs_changed_items(const struct prefs *p,
    const struct post_change *ch, size_t n, struct page_item *items)
{
	size_t k = 0;
	int i;

	for (size_t j = 0; j < n; j++) {
		if (ch[j].rc != STORE_OK || !ch[j].changed ||
		    (i = prefs_find(p, ch[j].ev.scope)) < 0)
			continue;
		items[k] = (struct page_item){ .name = p->def[i].name,
			.title = p->def[i].title,
			.description = p->def[i].description };
		if (ch[j].ev.action == STORE_UNSUBSCRIBE)
			items[k].gone = "";
		else
			items[k].back = "";
		k++;
	}
	return k;
}
