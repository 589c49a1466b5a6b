#include "http1.h"
#include "err.h"
#include "log.h"
#include "rove_assert.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Out of descriptors (or memory) on accept: how long the listener
 * waits before it accepts again, rather than spin on the error. */
#define ACCEPT_BACKOFF_MS 100
/* Connections accepted in one turn of the loop at most, so that a flood
 * of them does not starve the ones being served. */
#define ACCEPT_PER_TURN 64

enum conn_state {
	C_FREE,   /* no connection */
	C_READ,   /* reading the request */
	C_HANDLE, /* the answer being made (threaded: on its thread) */
	C_WRITE,  /* writing the answer */
	C_DRAIN,  /* answer written and our side shut: reading until the client closes */
};

typedef struct hconn {
	enum conn_state state;
	int fd;
	uint64_t accepted_ms; /* the oldest idle one is evicted first */
	uint64_t deadline_ms; /* closed at this, whatever its state (but C_HANDLE) */
	size_t got;           /* bytes of the request in req */
	size_t hlen, blen;    /* the head's length (0: not yet whole), the body's */
	size_t sent;          /* bytes of the answer written */
	bool answered;        /* C_HANDLE: the answer is in reply (under mu) */
	rove_buf reply;
	char *req;            /* max_head + max_body + 1 bytes */
	rove_http1_req parsed;
} hconn;

struct rove_http1 {
	rove_http1_cfg cfg;
	int lfd;
	int wake[2]; /* a byte: stop, or an answer made */
	pthread_t thread;
	atomic_bool stopping;
	uint64_t accept_after_ms; /* out of descriptors: accept again at this */
	int spare;                /* a descriptor held back (spare_take); -1: none */
	pthread_mutex_t mu;       /* answered, busy */
	pthread_cond_t idle;      /* busy fell to 0 */
	int busy;                 /* answer threads running */
	struct pollfd *pf;        /* the poll loop's: max_conns + 2 */
	int *slot;                /* which connection each pf is */
	hconn c[];
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
		return -1;
	return 0;
}

static void count(atomic_ullong *v)
{
	if (v != NULL)
		atomic_fetch_add_explicit(v, 1, memory_order_relaxed);
}

const char *rove_http1_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 202: return "Accepted";
	case 303: return "See Other";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 422: return "Unprocessable Content";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Status";
	}
}

int rove_http1_reply(rove_buf *out, const rove_http1_req *req, int status, const char *ctype, const char *extra,
		     const void *body, size_t len)
{
	char head[256];
	int n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n",
			 status, rove_http1_reason(status), ctype, len);
	int rc;

	ROVE_ASSERT(n > 0 && (size_t)n < sizeof(head)); /* ours, and short */
	rc = rove_buf_append(out, head, (size_t)n);
	if (rc == ROVE_OK)
		rc = rove_buf_append(out, extra, strlen(extra));
	if (rc == ROVE_OK)
		rc = rove_buf_append(out, "\r\n", 2);
	if (rc == ROVE_OK && (req == NULL || !req->head) && len > 0)
		rc = rove_buf_append(out, body, len);
	return rc;
}

/* An answer of the server's own (an error): "CODE Reason\n". */
static int set_error(hconn *c, int status)
{
	char body[64];
	int n = snprintf(body, sizeof(body), "%d %s\n", status, rove_http1_reason(status));

	ROVE_ASSERT(n > 0 && (size_t)n < sizeof(body));
	rove_buf_reset(&c->reply);
	return rove_http1_reply(&c->reply, c->parsed.method != NULL ? &c->parsed : NULL, status,
				"text/plain; charset=utf-8",
				status == 405 ? "Allow: GET, HEAD, POST\r\n" : "", body, (size_t)n);
}

const char *rove_http1_header(const rove_http1_req *req, const char *name)
{
	for (size_t i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

/* Where the head of the request ends in b (n bytes, of which the first
 * from are known not to end it), 0 if it does not yet: an empty line,
 * CRLF or bare LF. */
static size_t head_end(const char *b, size_t from, size_t n)
{
	for (size_t i = from; i < n; i++) {
		if (b[i] != '\n')
			continue;
		if (i >= 1 && b[i - 1] == '\n')
			return i + 1;
		if (i >= 2 && b[i - 1] == '\r' && b[i - 2] == '\n')
			return i + 1;
	}
	return 0;
}

/* The next line of the head at *p (up to end), NUL-terminated in place
 * without its CR LF; NULL past the head. */
static char *next_line(char **p, char *end)
{
	char *line = *p, *eol = memchr(line, '\n', (size_t)(end - line));

	if (eol == NULL)
		return NULL;
	*p = eol + 1;
	if (eol > line && eol[-1] == '\r')
		eol--;
	*eol = '\0';
	return line;
}

/* Parses the head c->req[0..hlen) into c->parsed: 0, or the status to
 * answer. */
static int parse_head(hconn *c, size_t hlen)
{
	rove_http1_req *r = &c->parsed;
	char *p = c->req, *end = c->req + hlen, *line, *sp;

	memset(r, 0, sizeof(*r));
	if (memchr(c->req, '\0', hlen) != NULL)
		return 400; /* not text */
	line = next_line(&p, end);
	if (line == NULL)
		return 400;
	for (const char *q = line; *q != '\0'; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			return 400; /* a control */
	r->method = line;
	if ((sp = strchr(line, ' ')) == NULL)
		return 400;
	*sp = '\0';
	r->target = sp + 1;
	if ((sp = strchr(sp + 1, ' ')) == NULL)
		return 400;
	*sp = '\0';
	r->version = sp + 1;
	if (r->method[0] == '\0' || r->target[0] == '\0' || strchr(r->version, ' ') != NULL ||
	    strncmp(r->version, "HTTP/", 5) != 0)
		return 400;
	r->head = strcmp(r->method, "HEAD") == 0;
	if (strcmp(r->version, "HTTP/1.0") != 0 && strcmp(r->version, "HTTP/1.1") != 0)
		return 505;
	while ((line = next_line(&p, end)) != NULL && line[0] != '\0') {
		char *colon = strchr(line, ':'), *v, *ve;
		if (line[0] == ' ' || line[0] == '\t' || colon == NULL || colon == line)
			return 400; /* a folded line, or no name */
		for (const char *q = line; *q != '\0'; q++)
			if (((unsigned char)*q < 0x20 && *q != '\t') || *q == 0x7f)
				return 400;
		if (r->nheaders >= ROVE_HTTP1_MAX_HEADERS)
			return 431;
		*colon = '\0';
		for (const char *q = line; *q != '\0'; q++)
			if (*q == ' ' || *q == '\t')
				return 400; /* space before the colon */
		v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		ve = v + strlen(v);
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			*--ve = '\0';
		r->headers[r->nheaders].name = line;
		r->headers[r->nheaders++].value = v;
	}
	return 0;
}

/* Content-Length of the parsed head into *len: 0, or the status to
 * answer (a body past max_body, a length that is not one, chunks). */
static int body_length(const rove_http1 *h, const rove_http1_req *r, size_t *len)
{
	const char *cl = rove_http1_header(r, "Content-Length");
	unsigned long long v = 0;

	*len = 0;
	if (rove_http1_header(r, "Transfer-Encoding") != NULL)
		return 411; /* chunks are not taken: a length is required */
	if (cl == NULL)
		return 0;
	if (cl[0] == '\0')
		return 400;
	for (const char *q = cl; *q != '\0'; q++) {
		if (*q < '0' || *q > '9')
			return 400;
		if (v > h->cfg.max_body)
			return 413;
		v = v * 10 + (unsigned)(*q - '0');
	}
	for (size_t i = 0; i < r->nheaders; i++) /* two that differ: smuggling */
		if (strcasecmp(r->headers[i].name, "Content-Length") == 0 && strcmp(r->headers[i].value, cl) != 0)
			return 400;
	if (v > h->cfg.max_body)
		return 413;
	*len = (size_t)v;
	return 0;
}

/* Closes a connection's descriptor, or, while no spare is held, makes it
 * the spare in the same step (a copy of the wake pipe's end put in its
 * place by dup2), so that no other thread's accept takes it between. */
static void fd_release(rove_http1 *h, int fd)
{
	if (h->spare < 0 && dup2(h->wake[0], fd) == fd) {
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
		h->spare = fd;
		return;
	}
	close(fd);
}

static void conn_close(rove_http1 *h, hconn *c)
{
	ROVE_ASSERT(c->state != C_FREE && c->state != C_HANDLE);
	fd_release(h, c->fd);
	c->fd = -1;
	c->state = C_FREE;
	rove_buf_free(&c->reply);
	free(c->req);
	c->req = NULL;
}

static void conn_write(rove_http1 *h, hconn *c)
{
	while (c->sent < c->reply.len) {
		ssize_t n = send(c->fd, c->reply.data + c->sent, c->reply.len - c->sent, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			conn_close(h, c);
			return;
		}
		c->sent += (size_t)n;
	}
	/* All written: shut our side and read until the client closes, so
	 * that what it may still send does not reset the connection before
	 * it has read the answer. */
	shutdown(c->fd, SHUT_WR);
	rove_buf_free(&c->reply);
	c->state = C_DRAIN;
}

/* The answer is in c->reply: write it, under the reply deadline. */
static void start_write(rove_http1 *h, hconn *c, uint64_t now)
{
	c->sent = 0;
	c->state = C_WRITE;
	if (h->cfg.reply_ms != 0)
		c->deadline_ms = now + h->cfg.reply_ms;
	conn_write(h, c);
}

typedef struct job {
	rove_http1 *h;
	hconn *c;
} job;

static void *answer_main(void *arg)
{
	job j = *(job *)arg;
	rove_buf out;
	ssize_t n;
	int rc;

	free(arg);
	rove_buf_init(&out);
	rc = j.h->cfg.fn(j.h->cfg.arg, &j.c->parsed, &out);
	pthread_mutex_lock(&j.h->mu);
	rove_buf_free(&j.c->reply);
	j.c->reply = out;
	if (rc != ROVE_OK && set_error(j.c, 500) != ROVE_OK)
		rove_buf_free(&j.c->reply); /* nothing to send: closed */
	j.c->answered = true;
	do /* the loop looks for answers made; a full pipe has said so */
		n = write(j.h->wake[1], "a", 1);
	while (n < 0 && errno == EINTR);
	/* the last touch of h: rove_http1_stop frees it once busy is 0 */
	j.h->busy--;
	if (j.h->busy == 0)
		pthread_cond_broadcast(&j.h->idle);
	pthread_mutex_unlock(&j.h->mu);
	return NULL;
}

/* The request in c is whole (head of hlen bytes, parsed; its body after
 * it): its answer, here or on a thread. */
static void answer(rove_http1 *h, hconn *c, size_t hlen, uint64_t now)
{
	pthread_t t;
	pthread_attr_t attr;
	job *j;

	c->parsed.body = c->req + hlen;
	if (!h->cfg.threaded) {
		rove_buf_reset(&c->reply);
		if (h->cfg.fn(h->cfg.arg, &c->parsed, &c->reply) != ROVE_OK && set_error(c, 500) != ROVE_OK) {
			conn_close(h, c);
			return;
		}
		start_write(h, c, now);
		return;
	}
	j = malloc(sizeof(*j));
	if (j == NULL) {
		if (set_error(c, 500) == ROVE_OK)
			start_write(h, c, now);
		else
			conn_close(h, c);
		return;
	}
	*j = (job){h, c};
	c->state = C_HANDLE;
	c->answered = false;
	pthread_mutex_lock(&h->mu);
	h->busy++;
	pthread_mutex_unlock(&h->mu);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, answer_main, j) != 0) {
		free(j);
		pthread_mutex_lock(&h->mu);
		h->busy--;
		pthread_mutex_unlock(&h->mu);
		c->state = C_READ;
		if (set_error(c, 503) == ROVE_OK)
			start_write(h, c, now);
		else
			conn_close(h, c);
	}
	pthread_attr_destroy(&attr);
}

static void conn_read(rove_http1 *h, hconn *c, uint64_t now)
{
	size_t cap = h->cfg.max_head + h->cfg.max_body, end, from, blen;
	int status;
	ssize_t n;

	if (c->state == C_DRAIN) {
		char scratch[1024];
		do
			n = recv(c->fd, scratch, sizeof(scratch), 0);
		while (n > 0 || (n < 0 && errno == EINTR));
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			conn_close(h, c);
		return;
	}
	ROVE_ASSERT(c->state == C_READ && c->got < cap);
	do
		n = recv(c->fd, c->req + c->got, cap - c->got, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		conn_close(h, c); /* closed or broken before its request was whole */
		return;
	}
	from = c->got >= 2 ? c->got - 2 : 0;
	c->got += (size_t)n;
	if (c->hlen == 0) {
		end = head_end(c->req, from < h->cfg.max_head ? from : h->cfg.max_head,
			       c->got < h->cfg.max_head ? c->got : h->cfg.max_head);
		if (end == 0 && c->got < h->cfg.max_head)
			return;
		status = end == 0 ? 431 : parse_head(c, end);
		if (status == 0)
			status = body_length(h, &c->parsed, &blen);
		if (status == 431 && h->cfg.head_too_large != NULL) {
			rove_buf_reset(&c->reply);
			if (rove_buf_append(&c->reply, h->cfg.head_too_large, strlen(h->cfg.head_too_large)) != ROVE_OK)
				conn_close(h, c);
			else
				start_write(h, c, now);
			return;
		}
		if (status != 0) {
			if (set_error(c, status) != ROVE_OK)
				conn_close(h, c);
			else
				start_write(h, c, now);
			return;
		}
		c->hlen = end;
		c->blen = blen;
	}
	if (c->got < c->hlen + c->blen)
		return; /* the body is still coming */
	c->parsed.body_len = c->blen;
	answer(h, c, c->hlen, now);
}

/* At the cap: the oldest connection that has not sent a whole request,
 * or that is being drained; NULL if none. */
static hconn *evictable(rove_http1 *h)
{
	hconn *best = NULL;

	for (int i = 0; i < h->cfg.max_conns; i++) {
		hconn *c = &h->c[i];
		if ((c->state == C_READ || c->state == C_DRAIN) && (best == NULL || c->accepted_ms < best->accepted_ms))
			best = c;
	}
	return best;
}

/* A descriptor held back for the listener: when the process has used up
 * its descriptors (a flood of connections elsewhere in it, as at roved's
 * sync port), accept closes it to take one connection, so that /metrics
 * still answers the monitoring that is to see the flood (attack
 * thirty-eight: about half the scrapes failed). Taken again from the
 * next connection closed (fd_release), or once one is free (each turn of
 * the loop, while none is held). */
static void spare_take(rove_http1 *h)
{
	if (h->spare < 0)
		h->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* Accepts what waits on the listener: into a free slot, or in the place
 * of an idle one (evict_idle), or answered 503 and closed. */
static void accept_some(rove_http1 *h, uint64_t now)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
				   "Content-Length: 24\r\nConnection: close\r\n\r\n503 Service Unavailable\n";

	for (int k = 0; k < ACCEPT_PER_TURN; k++) {
		hconn *c = NULL;
		int fd = accept(h->lfd, NULL, NULL);

		if (fd < 0 && (errno == EINTR || errno == ECONNABORTED || errno == EPROTO))
			continue;
		if (fd < 0 && (errno == EMFILE || errno == ENFILE) && h->spare >= 0) {
			close(h->spare); /* one connection in its place */
			h->spare = -1;
			fd = accept(h->lfd, NULL, NULL);
		}
		if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
			h->accept_after_ms = now + ACCEPT_BACKOFF_MS;
			return;
		}
		if (fd < 0)
			return; /* EAGAIN: none waits */
		for (int i = 0; c == NULL && i < h->cfg.max_conns; i++)
			if (h->c[i].state == C_FREE)
				c = &h->c[i];
		if (c == NULL && h->cfg.evict_idle && (c = evictable(h)) != NULL) {
			if (c->state == C_READ)
				count(h->cfg.timeouts);
			conn_close(h, c);
		}
		if (c != NULL && set_nonblock(fd) == 0 && (c->req = malloc(h->cfg.max_head + h->cfg.max_body + 1)) != NULL) {
			c->fd = fd;
			c->state = C_READ;
			c->got = 0;
			c->sent = 0;
			c->hlen = c->blen = 0;
			c->accepted_ms = now;
			c->deadline_ms = now + h->cfg.request_ms;
			memset(&c->parsed, 0, sizeof(c->parsed));
			rove_buf_init(&c->reply);
			continue;
		}
		if (send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			/* best effort: it is closed either way */
		}
		fd_release(h, fd);
		count(h->cfg.refused);
	}
}

static void *serve_main(void *arg)
{
	rove_http1 *h = arg;
	struct pollfd *pf = h->pf;
	int *slot = h->slot;

	for (;;) {
		uint64_t now = mono_ms(), next = UINT64_MAX;
		bool listening;
		nfds_t n = 0, first;
		int timeout = -1, r;

		spare_take(h);
		/* with a spare again, the listener need not wait out its backoff */
		if (h->spare >= 0 && h->accept_after_ms > now)
			h->accept_after_ms = now;
		listening = now >= h->accept_after_ms;

		pf[n++] = (struct pollfd){.fd = h->wake[0], .events = POLLIN};
		if (listening)
			pf[n++] = (struct pollfd){.fd = h->lfd, .events = POLLIN};
		else
			next = h->accept_after_ms;
		first = n;
		for (int i = 0; i < h->cfg.max_conns; i++) {
			hconn *c = &h->c[i];
			if (c->state == C_FREE || c->state == C_HANDLE)
				continue;
			pf[n] = (struct pollfd){.fd = c->fd, .events = c->state == C_WRITE ? POLLOUT : POLLIN};
			slot[n++] = i;
			if (c->deadline_ms < next)
				next = c->deadline_ms;
		}
		if (next != UINT64_MAX)
			timeout = next <= now ? 0 : (int)(next - now < 60000 ? next - now : 60000);
		r = poll(pf, n, timeout);
		if (r < 0 && errno != EINTR) {
			poll(NULL, 0, ACCEPT_BACKOFF_MS);
			continue;
		}
		if (atomic_load(&h->stopping))
			break;
		now = mono_ms();
		if (r > 0 && pf[0].revents != 0) {
			char b[64];
			while (read(h->wake[0], b, sizeof(b)) > 0)
				;
		}
		/* answers made on their threads: to be written */
		pthread_mutex_lock(&h->mu);
		for (int i = 0; i < h->cfg.max_conns; i++) {
			hconn *c = &h->c[i];
			if (c->state == C_HANDLE && c->answered) {
				c->state = C_READ; /* (for start_write's and conn_close's checks) */
				if (c->reply.len == 0) {
					pthread_mutex_unlock(&h->mu);
					conn_close(h, c);
					pthread_mutex_lock(&h->mu);
					continue;
				}
				pthread_mutex_unlock(&h->mu);
				start_write(h, c, now);
				pthread_mutex_lock(&h->mu);
			}
		}
		pthread_mutex_unlock(&h->mu);
		for (nfds_t k = first; r > 0 && k < n; k++) {
			hconn *c = &h->c[slot[k]];
			if (pf[k].revents == 0 || c->state == C_FREE || c->state == C_HANDLE)
				continue;
			if (c->state == C_WRITE)
				conn_write(h, c);
			else
				conn_read(h, c, now);
		}
		for (int i = 0; i < h->cfg.max_conns; i++) {
			hconn *c = &h->c[i];
			if (c->state == C_FREE || c->state == C_HANDLE || now < c->deadline_ms)
				continue;
			if (c->state != C_DRAIN)
				count(h->cfg.timeouts);
			conn_close(h, c);
		}
		if (r > 0 && listening && pf[1].revents != 0)
			accept_some(h, now);
	}
	return NULL;
}

/* What start made, after the listener and every connection are closed
 * and the thread has ended (or never began). */
static void server_free(rove_http1 *h)
{
	if (h->spare >= 0)
		close(h->spare);
	if (h->wake[0] >= 0)
		close(h->wake[0]);
	if (h->wake[1] >= 0)
		close(h->wake[1]);
	pthread_cond_destroy(&h->idle);
	pthread_mutex_destroy(&h->mu);
	free(h->pf);
	free(h->slot);
	free(h);
}

int rove_http1_start(const rove_http1_cfg *cfg, int lfd, rove_http1 **out)
{
	rove_http1 *h;

	ROVE_ASSERT(cfg->max_conns >= 1 && cfg->max_conns <= ROVE_HTTP1_MAX_CONNS && cfg->max_head > 16);
	*out = NULL;
	h = calloc(1, sizeof(*h) + (size_t)cfg->max_conns * sizeof(hconn));
	if (h == NULL) {
		close(lfd);
		return ROVE_ENOMEM;
	}
	h->cfg = *cfg;
	h->lfd = lfd;
	h->wake[0] = h->wake[1] = -1;
	h->spare = -1;
	atomic_init(&h->stopping, false);
	for (int i = 0; i < cfg->max_conns; i++) {
		h->c[i].state = C_FREE;
		h->c[i].fd = -1;
	}
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->idle, NULL);
	h->pf = calloc((size_t)cfg->max_conns + 2, sizeof(*h->pf));
	h->slot = calloc((size_t)cfg->max_conns + 2, sizeof(*h->slot));
	if (h->pf == NULL || h->slot == NULL || set_nonblock(lfd) != 0 || pipe(h->wake) != 0 || set_nonblock(h->wake[0]) != 0 ||
	    set_nonblock(h->wake[1]) != 0 || pthread_create(&h->thread, NULL, serve_main, h) != 0) {
		close(lfd);
		server_free(h);
		return ROVE_EIO;
	}
	*out = h;
	return ROVE_OK;
}

void rove_http1_stop(rove_http1 *h)
{
	ssize_t n;

	if (h == NULL)
		return;
	atomic_store(&h->stopping, true);
	do
		n = write(h->wake[1], "x", 1);
	while (n < 0 && errno == EINTR);
	pthread_join(h->thread, NULL);
	close(h->lfd);
	pthread_mutex_lock(&h->mu);
	while (h->busy > 0)
		pthread_cond_wait(&h->idle, &h->mu);
	pthread_mutex_unlock(&h->mu);
	for (int i = 0; i < h->cfg.max_conns; i++) {
		hconn *c = &h->c[i];
		if (c->state == C_HANDLE)
			c->state = C_READ; /* its answer made, never to be written */
		if (c->state != C_FREE)
			conn_close(h, c);
	}
	server_free(h);
}

int rove_http1_listen_loopback(uint16_t port, int *fd, uint16_t *bound)
{
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, e;

	*fd = -1;
	if (s < 0)
		return errno;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(s, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(s, 64) != 0 ||
	    getsockname(s, (struct sockaddr *)&sa, &salen) != 0) {
		e = errno;
		close(s);
		return e;
	}
	*fd = s;
	*bound = ntohs(sa.sin_port);
	return 0;
}
