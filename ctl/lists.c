/* lists.c - unsubctl lists: the registry of lists the preference centre
 * shows (name, title, optional description): print it, set one, remove
 * one. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

/* lists [--json]: every registered list, in name order. */
static int lists_print(struct ctl *x)
{
	struct store_listdef d[STORE_LISTS_MAX];
	json_t *arr;
	size_t n;
	int rc;

	if ((rc = ctl_need_store(x, 1)) != EX_OK)
		return rc;
	if ((rc = store_lists_get(x->st, d, STORE_LISTS_MAX, &n)) != STORE_OK)
		return ctl_fail(EX_CONFIG, "store: %s", store_strerror(rc));
	if (!x->json) {
		for (size_t i = 0; i < n; i++)
			printf("%s\t%s%s%s\n", d[i].name, d[i].title,
			    d[i].description[0] ? "\t" : "", d[i].description);
		return EX_OK;
	}
	if ((arr = json_array()) == NULL)
		return ctl_json_put(NULL, NULL);
	for (size_t i = 0; i < n; i++)
		if (json_array_append_new(arr, json_pack("{s:o,s:o,s:o}",
		    "name", ctl_json_str(d[i].name),
		    "title", ctl_json_str(d[i].title),
		    "description", ctl_json_str(d[i].description))) != 0) {
			json_decref(arr);
			return ctl_json_put(NULL, NULL);
		}
	return ctl_json_put(arr, NULL);
}

/* lists set NAME --title T [--description D] */
static int lists_set(struct ctl *x)
{
	struct store_listdef d;
	int rc;

	memset(&d, 0, sizeof(d));
	if (x->argc != 2 || x->title == NULL)
		return ctl_fail(EX_USAGE, "usage: lists set NAME --title T "
		    "[--description D]");
	if (!token_id_ok(x->argv[1], 1))
		return ctl_fail(EX_USAGE, "list name \"%s\": 1 to %d printable "
		    "characters, no space or comma, not \"*\"", x->argv[1],
		    TOKEN_FIELD_MAX);
	if (strlen(x->title) > STORE_TITLE_MAX || !x->title[0] ||
	    (x->description && strlen(x->description) > STORE_DESC_MAX))
		return ctl_fail(EX_USAGE, "--title must be 1 to %d bytes, "
		    "--description at most %d", STORE_TITLE_MAX, STORE_DESC_MAX);
	snprintf(d.name, sizeof(d.name), "%s", x->argv[1]);
	snprintf(d.title, sizeof(d.title), "%s", x->title);
	snprintf(d.description, sizeof(d.description), "%s",
	    x->description ? x->description : "");
	if ((rc = ctl_need_store(x, 0)) != EX_OK)
		return rc;
	if ((rc = store_lists_set(x->st, &d)) == STORE_EINVAL)
		return ctl_fail(EX_USAGE, "a title or description holds a "
		    "control character");
	if (rc != STORE_OK)
		return ctl_fail(EX_CONFIG, "store: %s", store_strerror(rc));
	printf("%s: \"%s\"\n", d.name, d.title);
	return EX_OK;
}

/* lists remove NAME */
static int lists_remove(struct ctl *x)
{
	int rc;

	if (x->argc != 2)
		return ctl_fail(EX_USAGE, "usage: lists remove NAME");
	if ((rc = ctl_need_store(x, 0)) != EX_OK)
		return rc;
	rc = store_lists_remove(x->st, x->argv[1]);
	if (rc == STORE_ENOTFOUND || rc == STORE_EINVAL)
		return ctl_fail(EX_NOTFOUND, "%s: no such list in the registry",
		    x->argv[1]);
	if (rc != STORE_OK)
		return ctl_fail(EX_CONFIG, "store: %s", store_strerror(rc));
	printf("%s: removed\n", x->argv[1]);
	return EX_OK;
}

/* lists: the registry verbs, by their first operand. */
int cmd_lists(struct ctl *x)
{
	if (x->argc == 0)
		return lists_print(x);
	if (strcmp(x->argv[0], "set") == 0)
		return lists_set(x);
	if (strcmp(x->argv[0], "remove") == 0)
		return lists_remove(x);
	return ctl_fail(EX_USAGE, "lists: unknown \"%s\" (want set or remove)",
	    x->argv[0]);
}
