/*
 * sync.h - the client side of the protocol: push the outbox, then pull.
 *
 * One nng req0 socket per command, a timeout on every request. A failure
 * to reach the server is ROVE_EUNREACH or ROVE_ETIMEDOUT and leaves the
 * replica as it was (every reply is applied in its own transaction).
 */
#ifndef ROVE_SYNC_H
#define ROVE_SYNC_H

#include "replica.h"

#include <stdbool.h>
#include <stdint.h>

/* Ops per push from the client (each rove_op is a large struct). */
#define ROVE_CLIENT_PUSH_BATCH 256u

typedef struct rove_sync_stats {
	uint64_t pushed, accepted, rejected, pulled, cursor;
} rove_sync_stats;

/* Pushes then pulls. progress: draw a progress bar on stderr. */
int rove_sync(rove_replica *r, int timeout_ms, bool progress, rove_sync_stats *st);

/* Sends one admin command; on success calls fn for each reply line.
 * A server-side refusal is returned as its error code, with the server's
 * message in errmsg. */
typedef void (*rove_line_fn)(const char *s, uint32_t len, void *arg);
int rove_admin_call(rove_replica *r, int timeout_ms, const char *cmd, const char *const *args,
		    uint32_t nargs, rove_line_fn fn, void *arg, char *errmsg, size_t errlen);

/* Fetches the server's conflict list (in pages), calling fn for each. */
typedef int (*rove_conflict_fn)(const rove_conflict *c, void *arg);
int rove_conflicts_fetch(rove_replica *r, int timeout_ms, rove_conflict_fn fn, void *arg, char *errmsg,
			 size_t errlen);

#endif
