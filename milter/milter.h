/* milter.h - shared state of the unsub-milter front end. */
#ifndef UNSUB_MILTER_H
#define UNSUB_MILTER_H

#include <libmilter/mfapi.h>

#include "config.h"
#include "keyring.h"
#include "policy.h"
#include "store.h"

/* Config and keys as of one (re)load; each connection holds a reference
 * so a reload never changes them under a message. */
struct snap {
	int refs;
	struct config cfg;
	struct keyring *kr;
};

struct snap *snap_get(void);
void snap_put(struct snap *s);
struct store *milter_store(void);

extern struct smfiDesc milter_desc;

/* metrics.c: count one message's outcome (e NULL: failed before a
 * decision); serve /metrics on the listening socket fd (MetricsListen,
 * bound before privileges were dropped): 0 or -1. */
void metrics_message(const struct policy_edits *e, sfsistat rc);
int metrics_start(int fd);

#endif
