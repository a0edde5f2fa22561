/* merge.h - the fleet's merge rule for one (address, scope): three
 * maxima over its events, so that any order, duplicates and replays of
 * the same events give the same state (unsub-sync(8), "MERGE RULE").
 * PostgreSQL's unsub_state applies the same rule. */
#ifndef UNSUB_MERGE_H
#define UNSUB_MERGE_H

#include <stdint.h>

/* Within this many microseconds after an unsubscribe, a resubscribe from
 * a host that had not seen it loses (larger than any clock skew between
 * hosts that NTP allows to go unnoticed). */
#define MERGE_GUARD_US (600ULL * 1000000)

/* Times in microseconds since the epoch; 0: none. */
struct merge_state {
	uint64_t u;	/* the latest unsubscribe */
	uint64_t r;	/* the latest resubscribe */
	uint64_t l;	/* the latest unsubscribe a resubscribing host had
			 * seen ("lifted") when it resubscribed */
};

/* Fold one event into s: an unsubscribe at time, or (unsubscribe 0) a
 * resubscribe at time that had seen the unsubscribe of time lifts. */
void merge_add(struct merge_state *s, int unsubscribe, uint64_t time,
    uint64_t lifts);
/* Suppressed iff an unsubscribe no resubscribe has seen exists and no
 * resubscribe came more than the guard after it: u > l && u + G >= r. */
int merge_suppressed(const struct merge_state *s);
/* The time a local unsubscribe at `now` takes, so that it is in force
 * whatever the other hosts' clocks said: past every lift and within the
 * guard of every resubscribe seen. */
uint64_t merge_local_unsub(const struct merge_state *s, uint64_t now);

#endif
