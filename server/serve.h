/*
 * serve.h - the network side of roved: nng rep0 contexts with
 * asynchronous I/O, and one writer thread that commits pushes in batches.
 *
 * Each of ROVE_MAX_CONTEXTS contexts runs a small state machine
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
#include "rove_limits.h"

#include <stdbool.h>
#include <stdint.h>

/* Its limits (contexts, batches, connections, timeouts) are in
 * rove_limits.h, with their reasons. */

typedef struct rove_serve_opts {
	const char *url;
	const char *tls_cert; /* PEM files, for tls+tcp:// */
	const char *tls_key;
	uint64_t tick_ms;     /* periodic rules every tick_ms (0: never) */
	uint32_t max_pipes;   /* the cap on connections in all (0: ROVE_MAX_PIPES) */
	const char *metrics;  /* HOST:PORT to serve metrics on over HTTP (NULL: none) */
	/* Started anew in place (the guard's restart, which a client can
	 * cause): a metrics address that cannot be listened on (another
	 * process took the port in the moment between) does not keep syncs
	 * out, it is tried again while they are served; and the users' rate
	 * buckets start empty. */
	bool anew;
	/* Closes the engine and starts roved anew in place at once,
	 * returning only if it cannot: called with restart_arg instead of
	 * returning when, on the way to a restart, nng cannot close its
	 * socket (nothing but that close runs any more). NULL: rove_serve
	 * exits 0 on such a hang. */
	void (*restart_now)(void *restart_arg);
	void *restart_arg;
} rove_serve_opts;

/* Whether serving could start at opts' URL (a server answering on the
 * ipc:// path, a port another socket holds; rove_net_listen_check) and its
 * metrics address (unless started anew), neither listened on: said
 * before the database is opened, so that a serve that fails changes
 * nothing. A rove error, logged. */
int rove_serve_probe(const rove_serve_opts *opts);

/* Serves until SIGINT or SIGTERM arrives, or until the server should
 * start anew in place (*restart true: the caller execs roved again with
 * the same arguments, which frees what nng 1.5.2 leaks; see serve.c,
 * check_listener). Returns a rove error. */
int rove_serve(rove_engine *e, const rove_serve_opts *opts, bool *restart);

#endif
