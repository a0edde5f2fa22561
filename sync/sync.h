/* sync.h - unsub-sync's pieces: the loop's counters, which the metrics
 * page reads from its own thread. */
#ifndef UNSUB_SYNC_H
#define UNSUB_SYNC_H

#include <stdatomic.h>
#include <stdint.h>

#include "store.h"

struct sync_stats {
	struct store *st;
	_Atomic uint64_t shipped;	/* events shipped since start */
	_Atomic uint64_t applied;	/* other hosts' events applied */
	_Atomic int connected;
	_Atomic int webhook_on;		/* webhooks are being sent */
	_Atomic uint64_t webhook_delivered;	/* events answered 2xx */
	_Atomic uint64_t webhook_failed;	/* POSTs that were not */
};

/* metrics.c: serve Prometheus /metrics on `listen` ("address:port");
 * -1 when it cannot. */
int metrics_start(const char *listen, struct sync_stats *s);
void metrics_stop(void);

#endif
