/* fleet.h - PostgreSQL as the fleet's store of record (unsub-sync(8)):
 * its schema, shipping this host's outbox, and following every host's
 * events into the local store by a snapshot cursor.  Each returns 0, or
 * -1 with the reason in err. */
#ifndef UNSUB_FLEET_H
#define UNSUB_FLEET_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "store.h"

#define FLEET_SCHEMA_VERSION 2
#define FLEET_BATCH 1000	/* events a shipping transaction carries */

/* Is conninfo a connection string libpq accepts (empty: no)? */
int fleet_conninfo_ok(const char *conninfo, char *err, size_t errsz);
/* Connect (connect_timeout 5 s unless conninfo says otherwise). */
int fleet_connect(const char *conninfo, PGconn **out, char *err,
    size_t errsz);
/* LISTEN for the NOTIFY each shipping transaction sends. */
int fleet_listen(PGconn *c, char *err, size_t errsz);
/* Read what the server sent: 1 if a NOTIFY came, 0 if not, -1 with err
 * when the connection is gone. */
int fleet_notified(PGconn *c, char *err, size_t errsz);
/* Create or upgrade the schema (idempotent, safe to run concurrently). */
int fleet_schema(PGconn *c, char *err, size_t errsz);
/* Ship one batch of this host's events past "shipped" in one
 * transaction, then advance "shipped": *n events shipped (0: the outbox
 * is empty). */
int fleet_ship(PGconn *c, struct store *st, size_t *n, char *err,
    size_t errsz);
/* Apply every event committed since the cursor, then store the new
 * cursor (and "boot", "contact") with the last of them: *n new here. */
int fleet_follow(PGconn *c, struct store *st, size_t *n, char *err,
    size_t errsz);
/* This host's events not yet shipped. */
int fleet_outbox(struct store *st, uint64_t *depth);

#endif
