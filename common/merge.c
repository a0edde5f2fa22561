/* merge.c - the fleet's order-independent merge rule (merge.h). */
#include "merge.h"

static uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

void merge_add(struct merge_state *s, int unsubscribe, uint64_t time,
    uint64_t lifts)
{
	if (unsubscribe) {
		s->u = max64(s->u, time);
	} else {
		s->r = max64(s->r, time);
		s->l = max64(s->l, lifts);
	}
}

int merge_suppressed(const struct merge_state *s)
{
	return s->u > s->l && s->u + MERGE_GUARD_US >= s->r;
}

uint64_t merge_local_unsub(const struct merge_state *s, uint64_t now)
{
	uint64_t t = max64(now, s->l + 1);

	return s->r > MERGE_GUARD_US ? max64(t, s->r - MERGE_GUARD_US) : t;
}
