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

/* Ops per push from the client: as many as the server takes in one
 * request. Each rove_op is a large struct (about 10 KB of the client's
 * memory per op in a batch); fewer, larger pushes mean fewer round trips
 * and one durable commit per 1,000 answers instead of four (50 clients
 * pushing 1,000 ops each: ~32,000 -> ~35,000 ops/s, p50 latency 1.35 s
 * -> 0.8-1.0 s). */
#define ROVE_CLIENT_PUSH_BATCH ROVE_MAX_PUSH_OPS
/* Bytes per push request: a batch of big ops over this is halved until it
 * fits the server's ROVE_MAX_REQUEST_BYTES. */
#define ROVE_CLIENT_PUSH_BYTES ROVE_MAX_REQUEST_BYTES

/* The lock file in a replica directory, held for the whole of a sync
 * (`rove sync`, the Sync button of `rove ui`). */
#define ROVE_SYNC_LOCK_FILE "sync.lock"

typedef struct rove_sync_stats {
	uint64_t pushed, accepted, rejected, pulled, cursor;
	uint64_t resent; /* sent again: the server's history had changed */
	uint64_t taken;  /* of accepted: the server had them already (an
			  * earlier sync sent them and was cut short) */
	uint64_t taken_again; /* the same, sent by this sync on a connection
			       * lost before the answer (sent again on a new one) */
	uint64_t dropped; /* pending changes dropped as damaged (said) */
	uint64_t changes_lost; /* of those and others gone from the file: changes lost (said) */
	/* How the connection was lost, when the sync ended so (ROVE_ELOST),
	 * to follow "the connection ... was lost": ", and it cannot be
	 * reached again", " 4 times while waiting for one answer"; "" if not
	 * known. */
	char lost[ROVE_MAX_ERRMSG + 1];
	bool reached; /* a connection to the server was made */
	/* A push timed out: ops the next sync's requests carry at most (0:
	 * the push did not time out). */
	uint32_t push_paced;
	/* A pull request of items timed out: the next sync asks for at most
	 * this many a request (0: none). */
	uint32_t pull_paced;
	uint32_t push_floor; /* ... and it carried so few (this many) that only
			      * a longer timeout helps; else 0 */
} rove_sync_stats;

/* Pushes then pulls. progress: show a pull of more than one chunk on
 * stderr, redrawn in place on a terminal, a line a second elsewhere. A server
 * whose history is not the one this replica synced with (restored from a
 * copy) is recovered from: this replica's accepted and pending changes
 * are pushed again (st->resent), then a fresh snapshot is pulled. */
int rove_sync(rove_replica *r, int timeout_ms, bool progress, rove_sync_stats *st);

/* A watcher of a long pull (rove ui's Sync page): called after each
 * chunk is applied with the items pulled so far in this sync, the
 * server's position after the chunk and its latest (cursor of head, a
 * log pull's progress), and whether it is a snapshot (whose cursor says
 * nothing until it ends). One watcher per process; NULL: none. */
typedef void (*rove_sync_progress_fn)(uint64_t pulled, uint64_t cursor, uint64_t head, bool snapshot, void *arg);
void rove_sync_set_progress(rove_sync_progress_fn fn, void *arg);
/* For a one-shot command (not rove ui, a long-lived process with other
 * work): from now on each of the network's waits (a dial, a send, an
 * answer, a lost connection's dialer closed) that runs more than
 * ROVE_CLOSE_WAIT_MS past its own bound ends the process, exit 3, said:
 * nng stuck closing a connection held commands for minutes. The main
 * thread waits in nng then, outside any write to the replica. */
void rove_sync_watchdog(void);

/* Sends one admin command; on success calls fn for each reply line.
 * A server-side refusal is returned as its error code, with the server's
 * message in errmsg. ROVE_ETIMEDOUT with errmsg set: the request was sent
 * on a connection and no answer came (it may have been done); empty:
 * no connection took it. */
typedef void (*rove_line_fn)(const char *s, uint32_t len, void *arg);
int rove_admin_call(rove_replica *r, int timeout_ms, const char *cmd, const char *const *args,
		    uint32_t nargs, rove_line_fn fn, void *arg, char *errmsg, size_t errlen);
/* The same, asked up to asks times (>= 1) while no answer comes
 * (rove_err_unreached), each time within timeout_ms (one that fails
 * sooner, a refused connection, waits out the rest first), with a
 * warning before each ask after the first. Every ask carries the same request
 * id, so the server does the command once and answers an ask again as it
 * answered the first (the new users' tokens of an import). A server too
 * old for the id is asked once. For a last step whose answer matters
 * more than the time: the wait is up to asks times timeout_ms. */
int rove_admin_call_asks(rove_replica *r, int timeout_ms, uint32_t asks, const char *cmd, const char *const *args,
			 uint32_t nargs, rove_line_fn fn, void *arg, char *errmsg, size_t errlen);

/* Fetches the server's conflict list (in pages), calling fn for each. */
typedef int (*rove_conflict_fn)(const rove_conflict *c, void *arg);
int rove_conflicts_fetch(rove_replica *r, int timeout_ms, rove_conflict_fn fn, void *arg, char *errmsg,
			 size_t errlen);

#endif
