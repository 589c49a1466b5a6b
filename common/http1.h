/*
 * http1.h - a small HTTP/1.x server for rove's local endpoints (roved's
 * metrics, rove ui), with the guarantees nng's HTTP server (v1.5.2) does
 * not give: a cap on connections, a deadline from accept to a whole
 * request, a deadline on writing the answer, and a cap on a request's
 * size. One request per connection (every answer says Connection:
 * close), read by one thread with poll into a buffer of fixed size.
 *
 * A connection past the cap is answered 503 and closed; or, when the
 * server evicts (evict_idle), the oldest connection that has not sent a
 * whole request (or was answered and is being drained) is closed to make
 * room, so that idle connections cannot keep a client that sends its
 * request at once (a browser) out until their deadline.
 *
 * The answer is made by fn, on the poll thread or (threaded) on a thread
 * of its own per request, so that a slow answer does not hold the others
 * (the cap bounds the threads).
 */
#ifndef ROVE_HTTP1_H
#define ROVE_HTTP1_H
#include "buf.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Headers of one request at most; more are answered 431. */
#define ROVE_HTTP1_MAX_HEADERS 64
/* Connections of one server at most (its cap is set under it). */
#define ROVE_HTTP1_MAX_CONNS 256

/* A request, parsed in the connection's buffer (valid during fn). */
typedef struct rove_http1_req {
	const char *method, *target, *version;
	bool head; /* HEAD: the answer's body is left off (rove_http1_reply) */
	size_t nheaders;
	struct {
		const char *name, *value;
	} headers[ROVE_HTTP1_MAX_HEADERS];
	const char *body; /* Content-Length bytes (not NUL-terminated) */
	size_t body_len;
} rove_http1_req;

/* Writes the whole answer to req into out (empty when called), with
 * rove_http1_reply; an error is answered 500. */
typedef int (*rove_http1_fn)(void *arg, const rove_http1_req *req, rove_buf *out);

typedef struct rove_http1_cfg {
	int max_conns;       /* 1 to ROVE_HTTP1_MAX_CONNS */
	uint64_t request_ms; /* from accept to a whole request */
	uint64_t reply_ms;   /* from the answer made to it written; 0: the request's deadline goes on */
	size_t max_head;     /* request line and headers, bytes */
	size_t max_body;     /* Content-Length at most (0: no body taken) */
	bool evict_idle;     /* at the cap, close the oldest idle connection rather than refuse */
	bool threaded;       /* fn on a thread of its own per request */
	/* If not NULL: the whole answer (status line, headers, body) to a
	 * head past max_head or with too many headers, in place of the plain
	 * 431. rove ui's explains and clears the cookies another local site
	 * piled up (they would be sent again on every request). */
	const char *head_too_large;
	rove_http1_fn fn;
	void *arg;
	atomic_ullong *refused;  /* if not NULL: connections answered 503 */
	atomic_ullong *timeouts; /* if not NULL: connections cut at a deadline before their answer */
} rove_http1_cfg;

typedef struct rove_http1 rove_http1;

/* Starts serving on lfd (listening; the server owns it from now, even on
 * failure) on a thread of its own. ROVE_ENOMEM, ROVE_EIO. */
int rove_http1_start(const rove_http1_cfg *cfg, int lfd, rove_http1 **out);
/* Stops it: no more accepted, answers being made are waited for, every
 * connection closed, and frees it (NULL: nothing). */
void rove_http1_stop(rove_http1 *h);

/* A listening socket on 127.0.0.1:port (0: a free one) into *fd, the
 * port bound into *bound; an errno value on failure. */
int rove_http1_listen_loopback(uint16_t port, int *fd, uint16_t *bound);

/* The value of header name (case-insensitive; the first); NULL if none. */
const char *rove_http1_header(const rove_http1_req *req, const char *name);

/* Writes an answer into out: the status line, Content-Type (ctype),
 * Content-Length, Connection: close, the lines of extra ("Name:
 * value\r\n" each, or ""), and body (len bytes; left off for HEAD). */
int rove_http1_reply(rove_buf *out, const rove_http1_req *req, int status, const char *ctype, const char *extra,
		     const void *body, size_t len);

/* The reason phrase of status ("OK", "Not Found", ...). */
const char *rove_http1_reason(int status);

#endif
