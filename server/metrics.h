/*
 * metrics.h - what roved counts for its operators, and the HTTP endpoint
 * that serves it in Prometheus' text format (roved serve --metrics).
 *
 * The counters are process-wide atomics, bumped with relaxed ordering on
 * the hot path (a request, a commit, a pull): a few additions each, no
 * lock. The gauges (connections, the oplog, the database file) are read
 * when a scrape asks for them. docs/OPERATIONS.md names every metric.
 */
#ifndef ROVE_METRICS_H
#define ROVE_METRICS_H

#include "buf.h"
#include "engine.h"
#include "err.h"

#include <stdbool.h>
#include <stdint.h>

/* A request of msg_type (a rove_msg_type; anything else counts as
 * "other": malformed or not a request) answered in ns nanoseconds. */
void rove_metrics_request(int msg_type, uint64_t ns);
/* A push's new ops as committed: ops[0] accepted, ops[r] refused for
 * reason r (ops already answered before are in neither). */
void rove_metrics_ops(const uint32_t ops[ROVE_R_COUNT]);
/* A pull reply of entries entries in bytes bytes. */
void rove_metrics_pull(uint64_t entries, uint64_t bytes);
/* A group commit of requests requests carrying ops pushed ops. */
void rove_metrics_commit(uint32_t requests, uint32_t ops);
/* A connection handed over by the listener: served, or refused over a
 * cap. */
void rove_metrics_connection(bool refused);
/* A request whose credentials were wrong. */
void rove_metrics_login_failed(void);

/* The connections open now, asked at each scrape. */
typedef uint32_t (*rove_metrics_conn_fn)(void *arg);

/* Writes every metric into out (replacing it): the counters, and the
 * gauges read from e (in a read transaction) and from conn(arg) (conn
 * may be NULL: no connections gauge). */
int rove_metrics_render(rove_engine *e, rove_metrics_conn_fn conn, void *arg, rove_buf *out);

/* Whether s is HOST:PORT (a host name, an IPv4 address or [IPv6], a
 * port 1-65535) for --metrics. */
bool rove_metrics_addr_valid(const char *s);

/* The HTTP endpoint: GET (or HEAD) of exactly /metrics on
 * http://HOST:PORT, on a thread of its own; one request per connection,
 * each connection cut ROVE_METRICS_REQUEST_MS after it was accepted, at
 * most ROVE_METRICS_MAX_CONNS at once (ROVE_METRICS_FDS descriptors in
 * all). */
typedef struct rove_metrics_http rove_metrics_http;
/* Whether the endpoint could listen on addr (a valid HOST:PORT): binds
 * and closes again, without listening (nothing must meet a listener
 * before the server is up), saying why not (roved serve asks before it
 * opens the database). */
int rove_metrics_probe(const char *addr);
/* Starts it (addr a valid HOST:PORT), warning once in the log if addr is
 * not a loopback address (the endpoint has no authentication); the
 * engine and conn must outlive it, and conn is called on its thread. */
int rove_metrics_start(const char *addr, rove_engine *e, rove_metrics_conn_fn conn, void *arg,
		       rove_metrics_http **out);
/* Stops it and frees it (NULL: nothing). */
void rove_metrics_stop(rove_metrics_http *m);

#endif
