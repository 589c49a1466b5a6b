/*
 * serve.h - the network side of roved: nng rep0 contexts with
 * asynchronous I/O, and one writer thread that commits pushes in batches.
 *
 * Each of ROVE_SERVE_CONTEXTS contexts runs a small state machine
 * (receive, handle, send). Pulls are answered on nng's callback threads in
 * read transactions; pushes and admin requests are queued to the writer,
 * which takes everything queued at once and commits it in one transaction
 * before the replies go out: an op is acknowledged only once it is durable.
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

typedef struct rove_serve_opts {
	const char *url;
	const char *tls_cert; /* PEM files, for tls+tcp:// */
	const char *tls_key;
	uint64_t tick_ms;     /* periodic rules every tick_ms (0: never) */
} rove_serve_opts;

/* Serves until SIGINT or SIGTERM arrives. Returns a rove error. */
int rove_serve(rove_engine *e, const rove_serve_opts *opts);

#endif
