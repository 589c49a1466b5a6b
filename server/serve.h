/*
 * serve.h - the network side of roved: nng rep0 contexts with
 * asynchronous I/O, and one writer thread that commits pushes in batches.
 *
 * Each of ROVE_SERVE_CONTEXTS contexts runs a small state machine
 * (receive, handle, send). Reads (pulls, conflicts) are answered on nng's
 * callback threads in read transactions; writes (pushes, admin requests)
 * are queued to the writer - the engine's table of requests says which is
 * which - which takes everything queued at once and commits it in one
 * transaction before the replies go out: an op is acknowledged only once
 * it is durable.
 *
 * A guard thread keeps a hostile network from stalling it: it cuts
 * connections that do not read their replies or make no progress, and
 * listens again when nng 1.5.2's accept loop has stopped (its bug 1518:
 * a client that breaks off the SP handshake at the wrong moment ends it
 * for good). The caps on connections and requests are kept by the gate
 * (gate.h).
 */
#ifndef ROVE_SERVE_H
#define ROVE_SERVE_H

#include "engine.h"

#include <stdint.h>

#define ROVE_SERVE_CONTEXTS 64
#define ROVE_SERVE_MAX_BATCH 64 /* requests per group commit */
/* Ops per group commit: the writer stops taking queued requests once it
 * has this many (always at least one request). Fifty clients' pushes
 * queued at once then commit a few at a time (two of 1,000 ops), and
 * their senders apply the answers and go on while the writer does,
 * instead of all waiting for one transaction of all of them. */
#define ROVE_SERVE_BATCH_OPS 2000u
#define ROVE_SERVE_KEEP_BUF (256u * 1024u) /* reply buffer a context keeps */

/* ---- What one connection and one address may hold (docs/SECURITY.md) ----
 * nng 1.5.2 has one receive limit for all the connections of a listener,
 * fixed when they are accepted (a pipe's options cannot be set), and the
 * SP protocol knows nothing of logins: no smaller limit can apply before
 * a client has authenticated. A connection may therefore hold up to
 * ROVE_MAX_MSG_BYTES of a half-received request, for at most
 * ROVE_SERVE_RECV_TIMEOUT_MS; the caps below bound how many connections
 * do: 32 x 8 MiB = 256 MiB from one address, 4,096 x 8 MiB in all. */

/* A reply that cannot start within this time (the connection is still
 * sending an earlier one: its client does not read) is dropped, its
 * context freed and the connection cut. rove sends one request at a
 * time and reads each reply whole before the next, so its replies never
 * wait but for nng to notice the previous one went out; the time covers
 * a slow, loaded machine. It is how long a client that does not read
 * holds the contexts of its requests in flight. */
#define ROVE_SERVE_SEND_TIMEOUT_MS 2000
/* A connection with nothing in flight that has not delivered a whole
 * request within this time of connecting or of its last reply is cut:
 * an idle or vanished client, one holding half a message, or one not
 * reading its last reply. Generous for a slow link (a 4 MiB push needs
 * 1.1 Mbit/s), and three times rove's default wait for one reply. */
#define ROVE_SERVE_RECV_TIMEOUT_MS 30000
/* Requests of one connection in flight (being answered, or answered and
 * waiting to be sent). rove has one at a time (nng's req0 may resend
 * one); more are dropped unanswered: a client piling up requests holds
 * at most this many contexts. */
#define ROVE_SERVE_PIPE_INFLIGHT 4
/* Requests in flight from one address (other than this machine's); more
 * are dropped unanswered. One per connection its cap allows, so that no
 * client of ours behind a NAT ever meets it, while one machine never
 * holds more than half of the ROVE_SERVE_CONTEXTS contexts. */
#define ROVE_SERVE_ADDR_INFLIGHT 32
/* Open connections from one address (other than this machine's). A rep's
 * sync holds one for a second or so; 32 reps behind one NAT syncing at
 * the same instant fit, and a 33rd is closed at once, its nng dialer
 * retrying every 100 ms until one ends. */
#define ROVE_SERVE_PIPES_PER_ADDR 32
/* Open connections in all: four times the thousand replicas the product
 * plans to sync at once (SPEC.md, speed). roved raises its descriptor
 * limit to this plus ROVE_SERVE_SPARE_FDS, or lowers the cap to fit. */
#define ROVE_SERVE_MAX_PIPES 4096
#define ROVE_SERVE_SPARE_FDS 64 /* database files, listener, log, guard */
/* The guard's period: idle connections are cut at most this late, and
 * a stopped accept loop is noticed within it. */
#define ROVE_SERVE_GUARD_MS 1000
/* When every connection is cut at once (to stop, or to listen again),
 * how long they are given to end by themselves before nng closes what is
 * left (cut.h). */
#define ROVE_SERVE_CUT_WAIT_MS 2000
/* The guard dials its own listener to see whether it still accepts; a
 * connection it does not see arrive within this time means it does not. */
#define ROVE_SERVE_SELFCHECK_MS 2000
/* Without nng's statistics (which tell when an accept failed) the guard
 * dials its own listener this often. */
#define ROVE_SERVE_LISTEN_CHECK_MS 10000

typedef struct rove_serve_opts {
	const char *url;
	const char *tls_cert; /* PEM files, for tls+tcp:// */
	const char *tls_key;
	uint64_t tick_ms;     /* periodic rules every tick_ms (0: never) */
} rove_serve_opts;

/* Serves until SIGINT or SIGTERM arrives. Returns a rove error. */
int rove_serve(rove_engine *e, const rove_serve_opts *opts);

#endif
