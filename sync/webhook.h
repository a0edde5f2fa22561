/* webhook.h - unsub-sync's webhooks (WebhookURL, unsub-sync(8)): every
 * event of the store's feed POSTed, signed, in order, at least once, from
 * the durable cursor "webhook" in the store's meta, by a thread of its
 * own. */
#ifndef UNSUB_WEBHOOK_H
#define UNSUB_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "sync.h"

struct webhook;

/* Check WebhookURL and read WebhookSecretFile (its first line; the file
 * private to its owner, as KeyFile): call before dropping privileges.
 * 0, or -1 with the reason in err. */
int webhook_open(const struct config *cfg, struct webhook **out, char *err,
    size_t errsz);
/* Deliver from the thread started here until webhook_stop; -1 when the
 * thread cannot start. */
int webhook_start(struct webhook *w, struct sync_stats *stats);
/* Stop the thread (a POST under way is abandoned: it is sent again next
 * time) and free w (NULL: nothing). */
void webhook_stop(struct webhook *w);
/* Events past the webhook cursor: not yet delivered. */
int webhook_backlog(struct store *st, uint64_t *n);

#endif
