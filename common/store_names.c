/* store_names.c - the names of sources and actions as unsubctl, logs
 * and exports spell them, and the "k=v" event detail. */
#include <stdio.h>
#include <string.h>

#include "store.h"

void store_detail_add(char detail[STORE_DETAIL_MAX + 1], const char *key,
    const char *value)
{
	size_t len = strlen(detail);

	if (value == NULL || value[0] == '\0' || len >= STORE_DETAIL_MAX)
		return;
	snprintf(detail + len, STORE_DETAIL_MAX + 1 - len, "%s%s=%s",
	    len ? " " : "", key, value);
	/* Values come from the network (a landing page's reason): no
	 * control character may reach a terminal or split a history line. */
	for (char *p = detail + len; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
}

const char *store_source_name(enum store_source s)
{
	static const char *const names[] = { "?", "mailto", "one-click",
		"landing-page", "manual", "import", "bounce", "soft-bounce",
		"complaint", "preference-centre" };

	return s >= STORE_SRC_MAILTO && s <= STORE_SRC_LAST ? names[s] : "?";
}

int store_source_parse(const char *name, enum store_source *out)
{
	for (int s = STORE_SRC_MAILTO; s <= STORE_SRC_LAST; s++)
		if (strcmp(name, store_source_name(s)) == 0) {
			*out = s;
			return 0;
		}
	return -1;
}

const char *store_action_name(enum store_action a)
{
	return a == STORE_UNSUBSCRIBE ? "unsubscribe" :
	    a == STORE_RESUBSCRIBE ? "resubscribe" : "?";
}

