#include "sync.h"

#include "err.h"
#include "hlc.h"
#include "log.h"
#include "net.h"
#include "rove_assert.h"

#include <errno.h>
#include <inttypes.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A connection to the server: a req0 socket and its one dialer. nng's
 * own resending of a request is off (NNG_OPT_REQ_RESENDTIME): when the
 * connection ends while a request waits for its answer, nng then fails
 * the wait at once (NNG_ECONNRESET) instead of sending the request again
 * whenever its dialer gets a new connection - which, with the server
 * killed, is never, and the command waited out its timeout. conn_wait
 * then waits, for a short while, for the dialer's own new connection
 * (conn_redial), and sends the request again if it may be (resend_ok: it
 * does the same however often it arrives - a push, idempotent by op id,
 * a pull, a read, an admin request with its id). */

/* What may outlive a conn: its socket's close runs on a thread of its
 * own (conn_close), which a close that does not finish is left to, with
 * nng's pipe callbacks writing live until nng_close returns. Freed by
 * whichever of conn_close and that thread is the last to use it. */
typedef struct conn_shared {
	nng_socket sock;
	/* The connection nng holds: the id of the pipe added last (at
	 * NNG_PIPE_EV_ADD_PRE, which every connection with callbacks starts
	 * with) until it is removed (NNG_PIPE_EV_REM_POST); 0: none. A
	 * dialer holds one connection at a time. */
	atomic_uint live;
	pthread_mutex_t mu;
	pthread_cond_t done_cv;
	bool done;	/* nng_close returned */
	bool left;	/* conn_close stopped waiting: the thread frees this */
} conn_shared;

typedef struct conn {
	nng_socket sock;
	nng_dialer dialer;
	conn_shared *sh; /* NULL: no socket was opened */
	bool resend_ok;
	const char *url, *ca;
	int timeout_ms;
	/* The request waiting for its answer (the caller's buffer, which it
	 * keeps until conn_recv returns), to send again; NULL: none. */
	const rove_buf *sent;
	/* The connection (sh->live) a request was sent on (lost: the one
	 * to wait past). */
	unsigned used;
	/* Called before a request is sent again on a new connection: it may
	 * write the request anew into the same buffer (a pull asks for less
	 * after a loss), and says whether it made it smaller; NULL: sent
	 * again as it was. */
	int (*resend_fn)(void *arg, bool *smaller);
	void *resend_arg;
	bool refused; /* the last reply was an ERROR, with errmsg its text */
	bool again;   /* the last request was sent again on a new connection */
	char errmsg[ROVE_MAX_ERRMSG + 1];
} conn;

/* The server's time, asked for by a sync's first pull (rove_pull_req's
 * clock): ask until a reply said it, or refused the asking (an older
 * server); known once one said it, ahead_ms then how far this laptop's
 * clock was ahead of it (negative: behind). */
typedef struct clock_probe {
	bool ask, known;
	int64_t ahead_ms;
	uint64_t server_ms; /* the server's time it was measured by */
} clock_probe;

static int nng_to_rove(int rv)
{
	switch (rv) {
	case 0:
		return ROVE_OK;
	case NNG_ETIMEDOUT:
		return ROVE_ETIMEDOUT;
	case NNG_ENOMEM:
		return ROVE_ENOMEM;
	case NNG_EMSGSIZE:
		return ROVE_ETOOBIG;
	case NNG_EADDRINVAL:
	case NNG_ENOTSUP:
		return ROVE_EINVAL;
	default:
		return ROVE_EUNREACH;
	}
}

/* ---- the watchdog on the network's waits (rove_sync_watchdog) ---- */

static struct {
	atomic_bool on;
	atomic_bool started;
	atomic_uint_fast64_t until; /* the monotonic ms past which the process ends; 0: none */
} watch;

static uint64_t mono_ms(void);

static void *watch_thread(void *arg)
{
	static const char said[] =
		"rove: a network wait did not end within its timeout and a few seconds more (a connection stuck "
		"closing?): stopped; your changes are kept: what the server confirmed is recorded, and the next "
		"sync sends the rest\n";

	(void)arg;
	for (;;) {
		uint64_t until = atomic_load(&watch.until);
		if (until != 0 && mono_ms() > until) {
			if (write(STDERR_FILENO, said, sizeof(said) - 1) < 0) {
				/* nothing more can be said */
			}
			_exit(3); /* ROVE_EXIT_UNREACH */
		}
		nanosleep(&(struct timespec){0, ROVE_WATCH_POLL_MS * 1000000L}, NULL);
	}
	return NULL;
}

void rove_sync_watchdog(void)
{
	atomic_store(&watch.on, true);
}

/* Arms the watchdog for a wait bounded by ms (its own timeout), or
 * disarms it (ms < 0). */
static void watch_arm(int ms)
{
	pthread_t t;
	pthread_attr_t a;

	if (ms < 0 || !atomic_load(&watch.on)) {
		atomic_store(&watch.until, 0);
		return;
	}
	if (!atomic_exchange(&watch.started, true)) {
		if (pthread_attr_init(&a) != 0 || pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED) != 0 ||
		    pthread_create(&t, &a, watch_thread, NULL) != 0) {
			rove_debug("no watchdog on the network's waits");
			atomic_store(&watch.on, false);
			return;
		}
		pthread_attr_destroy(&a);
	}
	atomic_store(&watch.until, mono_ms() + (uint64_t)ms + ROVE_CLOSE_WAIT_MS);
}

/* nng_pipe_notify's callback (on an nng thread). */
static void pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	conn_shared *sh = arg;

	unsigned id = (unsigned)nng_pipe_id(p);

	if (ev == NNG_PIPE_EV_ADD_PRE)
		atomic_store(&sh->live, id);
	else if (ev == NNG_PIPE_EV_REM_POST)
		atomic_compare_exchange_strong(&sh->live, &id, 0u);
}

static void conn_shared_free(conn_shared *sh)
{
	pthread_cond_destroy(&sh->done_cv);
	pthread_mutex_destroy(&sh->mu);
	free(sh);
}

static conn_shared *conn_shared_new(void)
{
	conn_shared *sh = calloc(1, sizeof(*sh));
	pthread_condattr_t ca;

	if (sh == NULL)
		return NULL;
	atomic_init(&sh->live, 0u);
	if (pthread_condattr_init(&ca) != 0) {
		free(sh);
		return NULL;
	}
	/* conn_close waits by the monotonic clock, as every timeout here. */
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 || pthread_mutex_init(&sh->mu, NULL) != 0) {
		pthread_condattr_destroy(&ca);
		free(sh);
		return NULL;
	}
	if (pthread_cond_init(&sh->done_cv, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		pthread_mutex_destroy(&sh->mu);
		free(sh);
		return NULL;
	}
	pthread_condattr_destroy(&ca);
	return sh;
}

static unsigned conn_live(const conn *c)
{
	return atomic_load(&c->sh->live);
}

/* resend_ok: a request lost with its connection may be sent again. */
static int conn_open(conn *c, const rove_replica *r, int timeout_ms, bool resend_ok)
{
	const char *ca = getenv("ROVE_TLS_CA");
	int rv;

	memset(c, 0, sizeof(*c));
	if (rove_replica_settings_ok(r) != ROVE_OK)
		return ROVE_EPROTO;
	c->url = r->server;
	c->ca = ca != NULL && ca[0] != '\0' ? ca : r->tls_ca;
	c->timeout_ms = timeout_ms;
	c->resend_ok = resend_ok;
	rove_net_tune_malloc_client();
	c->sh = conn_shared_new();
	if (c->sh == NULL)
		return ROVE_ENOMEM;
	rv = nng_req0_open(&c->sock);
	if (rv != 0) {
		conn_shared_free(c->sh);
		c->sh = NULL;
		return nng_to_rove(rv);
	}
	c->sh->sock = c->sock;
	if ((rv = nng_socket_set_ms(c->sock, NNG_OPT_RECVTIMEO, timeout_ms)) != 0 ||
	    (rv = nng_socket_set_ms(c->sock, NNG_OPT_SENDTIMEO, timeout_ms)) != 0 ||
	    (rv = nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE)) != 0 ||
	    (rv = nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, ROVE_MAX_MSG_BYTES + 1024)) != 0 ||
	    (rv = nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_PRE, pipe_event, c->sh)) != 0 ||
	    (rv = nng_pipe_notify(c->sock, NNG_PIPE_EV_REM_POST, pipe_event, c->sh)) != 0) {
		rove_error("cannot set up a connection: %s", nng_strerror(rv));
		return nng_to_rove(rv);
	}
	/* Every wait is bounded by timeout_ms: connecting, each request's
	 * send (which waits for the connection) and each reply. */
	watch_arm(timeout_ms);
	rv = rove_net_dial(c->sock, c->url, c->ca, timeout_ms, &c->dialer);
	watch_arm(-1);
	return rv;
}

static void *conn_closer(void *arg)
{
	conn_shared *sh = arg;
	bool left;

	nng_close(sh->sock);
	pthread_mutex_lock(&sh->mu);
	sh->done = true;
	left = sh->left;
	pthread_cond_signal(&sh->done_cv);
	pthread_mutex_unlock(&sh->mu);
	if (left)
		conn_shared_free(sh);
	return NULL;
}

/* Closes the socket, waiting at most ROVE_CLOSE_WAIT_MS for it: a close
 * stuck in nng (once seen after a timed-out sync over a slow link, for
 * minutes) must not keep a command from ending. Past that, the close is
 * left to its thread, which frees what it shares at its end (if ever);
 * nothing of the replica depends on it. */
static void conn_close(conn *c)
{
	conn_shared *sh = c->sh;
	pthread_t thr;
	struct timespec until;
	bool left;
	int rv = 0;

	if (sh == NULL)
		return;
	c->sh = NULL;
	if (pthread_create(&thr, NULL, conn_closer, sh) != 0) {
		nng_close(sh->sock); /* no thread: closed here, however long */
		conn_shared_free(sh);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ROVE_CLOSE_WAIT_MS / 1000;
	until.tv_nsec += (ROVE_CLOSE_WAIT_MS % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&sh->mu);
	while (!sh->done && rv != ETIMEDOUT)
		rv = pthread_cond_timedwait(&sh->done_cv, &sh->mu, &until);
	left = sh->left = !sh->done;
	pthread_mutex_unlock(&sh->mu);
	if (left) { /* sh is the thread's now */
		rove_debug("closing the connection to %s did not end within %d ms: left to end by itself", c->url,
			   ROVE_CLOSE_WAIT_MS);
		pthread_detach(thr);
		return;
	}
	pthread_join(thr, NULL);
	conn_shared_free(sh);
}


/* What a failure to write the server's reply into the replica adds: an
 * LMDB answer a sound file does not give (a key that must be there and
 * is not, one there twice, a storage error) points at the replica's
 * file, not at the server (attack eighty-three: "cannot apply the
 * server's changes: not found"). */
static const char *local_hint(int rc)
{
	return rc == ROVE_ENOTFOUND || rc == ROVE_EEXIST || rc == ROVE_EDB
		       ? " (this replica's file may be damaged: 'rove sync --repair' checks it and takes the server's "
			 "records anew, keeping your pending changes)"
		       : "";
}

/* How a lost connection's message begins (in conn.errmsg); what follows
 * is how (rove_sync_stats.lost). */
#define LOST "the connection to the server was lost"

/* The connection was lost (the pipe lost; 0: it is gone already). Its
 * dialer dials again by itself (nng's reconnect, from ROVE_DIAL_RETRY_MS
 * on): its new connection is waited for, up to ROVE_LOST_REDIAL_MS (the
 * server may be restarting). It is not closed and replaced at once: a
 * connection closed while the server sets it up can make an nng 1.5.2
 * listener stop accepting for good (a write of its greeting fails with
 * EPIPE, which ends its accept as NNG_ECLOSED), which roved's guard then
 * mends by cutting every client. Not back by then: the dialer is closed
 * and one dial made, which says why. ROVE_OK, ROVE_ELOST when the server
 * is not reached again (refused, or no answer within the timeout), or
 * rove_net_dial's other errors (a TLS failure: reported). */
static int conn_redial(conn *c, unsigned lost)
{
	uint64_t until = mono_ms() + ROVE_LOST_REDIAL_MS;
	unsigned now;
	int rv, rc;

	while (((now = conn_live(c)) == 0 || now == lost) && mono_ms() < until)
		nanosleep(&(struct timespec){0, ROVE_REDIAL_POLL_MS * 1000000L}, NULL);
	if (now != 0 && now != lost) {
		rove_debug("the connection to %s was lost; its dialer has a new one", c->url);
		return ROVE_OK;
	}
	watch_arm(0);
	rv = nng_dialer_close(c->dialer);
	if (rv != 0) /* closed already: nothing left of it to stop */
		rove_debug("closing the lost connection's dialer: %s", nng_strerror(rv));
	watch_arm(c->timeout_ms);
	rc = rove_net_dial(c->sock, c->url, c->ca, c->timeout_ms, &c->dialer);
	watch_arm(-1);
	rove_debug("the connection to %s was lost; dialled again: %s", c->url, rove_strerror(rc));
	if (rove_err_unreached(rc)) {
		snprintf(c->errmsg, sizeof(c->errmsg), LOST ", and it %s",
			 rc == ROVE_ETIMEDOUT ? "did not answer again in time" : "cannot be reached again");
		return ROVE_ELOST;
	}
	return rc;
}

/* Sends req as the request now waiting for its answer. */
static int conn_put(conn *c, const rove_buf *req)
{
	nng_msg *msg = NULL;
	int rv;

	rv = nng_msg_alloc(&msg, 0);
	if (rv == 0)
		rv = nng_msg_append(msg, req->data, req->len);
	if (rv == 0) {
		watch_arm(c->timeout_ms);
		rv = nng_sendmsg(c->sock, msg, 0);
		watch_arm(-1);
		if (rv == 0)
			msg = NULL;
	}
	if (msg != NULL)
		nng_msg_free(msg);
	if (rv != 0) {
		rove_debug("request: %s", nng_strerror(rv));
		return nng_to_rove(rv);
	}
	c->sent = req;
	c->used = conn_live(c);
	return ROVE_OK;
}

/* Sends one request; its reply is read with conn_recv. req must stay as
 * it is until then (it may be sent again). */
static int conn_send(conn *c, const rove_buf *req)
{
	c->errmsg[0] = '\0';
	c->sent = NULL;
	c->again = false;
	/* The connection ended between two requests (the server stopped, or
	 * cut it): nothing was sent yet; the dialer's new connection is
	 * waited for a short while, then one dial says why not (conn_redial),
	 * rather than the request waiting in nng's queue up to the timeout. */
	if (conn_live(c) == 0) {
		int rc = conn_redial(c, 0);
		if (rc != ROVE_OK)
			return rc;
	}
	return conn_put(c, req);
}

/* Waits for the answer to the request sent last into *msg. When the
 * connection is lost meanwhile, it is dialled again and the request sent
 * again, if that is allowed: as often as resend_fn makes it smaller, and
 * ROVE_MAX_RESENDS times more; else ROVE_ELOST (c->errmsg says it). An
 * nng wait's other failures as rove errors. */
static int conn_wait(conn *c, nng_msg **msg)
{
	unsigned resends = 0, lost = 0;
	bool smaller;
	int rv, rc;

	for (;;) {
		watch_arm(c->timeout_ms);
		rv = nng_recvmsg(c->sock, msg, 0);
		watch_arm(-1);
		if (rv == 0)
			break;
		rove_debug("reply: %s", nng_strerror(rv));
		if (rv != NNG_ECONNRESET && rv != NNG_ECONNSHUT)
			return nng_to_rove(rv);
		if (!c->resend_ok || c->sent == NULL) {
			snprintf(c->errmsg, sizeof(c->errmsg),
				 LOST " before its answer: what was asked may or may "
				 "not have been done");
			return ROVE_ELOST;
		}
		lost++;
		if (resends >= ROVE_MAX_RESENDS) {
			snprintf(c->errmsg, sizeof(c->errmsg),
				 LOST " %u times while waiting for one answer", lost);
			return ROVE_ELOST;
		}
		rc = conn_redial(c, c->used);
		smaller = false;
		if (rc == ROVE_OK && c->resend_fn != NULL)
			rc = c->resend_fn(c->resend_arg, &smaller);
		/* A request made smaller (it shrinks a bounded number of
		 * times) is a new try on a link that drops big replies: only
		 * one sent again as big as before counts. */
		if (!smaller)
			resends++;
		c->again = true;
		if (rc == ROVE_OK)
			rc = conn_put(c, c->sent);
		if (rc != ROVE_OK)
			return rc;
	}
	c->sent = NULL;
	return ROVE_OK;
}

/* Receives and decodes the reply to the request sent last, which must be
 * of type want. An ERROR reply becomes its code, with the server's text
 * in c->errmsg. On success *reply holds the bytes m points into; free
 * with nng_msg_free. */
static int conn_recv(conn *c, int want, nng_msg **reply, rove_msg *m)
{
	nng_msg *msg = NULL;
	int rc;

	*reply = NULL;
	c->errmsg[0] = '\0';
	c->refused = false;
	rc = conn_wait(c, &msg);
	if (rc != ROVE_OK)
		return rc;
	/* Pull replies are big: their items are validated as they are applied
	 * (in one transaction, abandoned if any is malformed). */
	if (want == ROVE_MSG_PULL_REPLY)
		rc = rove_msg_decode_lazy(nng_msg_body(msg), nng_msg_len(msg), m);
	else
		rc = rove_msg_decode(nng_msg_body(msg), nng_msg_len(msg), m);
	if (rc != ROVE_OK) {
		uint64_t v;
		if (rc == ROVE_EVERSION && rove_msg_version(nng_msg_body(msg), nng_msg_len(msg), &v) == ROVE_OK)
			snprintf(c->errmsg, sizeof(c->errmsg),
				 "the server speaks protocol %llu and this rove protocol %u: install the rove that "
				 "goes with the server's roved",
				 (unsigned long long)v, (unsigned)ROVE_PROTO_VERSION);
		else
			snprintf(c->errmsg, sizeof(c->errmsg), "malformed reply from the server");
		nng_msg_free(msg);
		return rc;
	}
	if (m->type == ROVE_MSG_ERROR) {
		c->refused = true;
		rc = m->u.error.code == ROVE_OK ? ROVE_ESERVER : m->u.error.code;
		snprintf(c->errmsg, sizeof(c->errmsg), "%s", m->u.error.text);
		nng_msg_free(msg);
		return rc;
	}
	if (m->type != want) {
		nng_msg_free(msg);
		snprintf(c->errmsg, sizeof(c->errmsg), "unexpected reply from the server");
		return ROVE_EPROTO;
	}
	*reply = msg;
	return ROVE_OK;
}

/* One round trip: conn_send, then conn_recv. */
static int conn_call(conn *c, const rove_buf *req, int want, nng_msg **reply, rove_msg *m)
{
	int rc = conn_send(c, req);

	*reply = NULL;
	return rc == ROVE_OK ? conn_recv(c, want, reply, m) : rc;
}

static void report(const conn *c, int rc, const char *what)
{
	if (rove_err_unreached(rc))
		return; /* the caller says it once */
	if (rc == ROVE_EPERM && c->errmsg[0] != '\0') /* a disabled user: nothing was sent */
		rove_error("%s; your changes are kept", c->errmsg);
	else if (rc == ROVE_ENOSPC && c->refused) /* the server's answer: not this laptop's disk */
		rove_error("%s: the server's disk is full: its operator must free space; your changes are kept, and "
			   "the next sync sends what the server has not taken",
			   what);
	else if (c->errmsg[0] != '\0')
		rove_error("%s: %s", what, c->errmsg);
	else
		rove_error("%s: %s", what, rove_strerror(rc));
}

static void wrong_server(const rove_replica *r)
{
	rove_error("%s answers as another server than the one this replica synced with; nothing was "
		   "changed (to work with that server, make a new replica with 'rove init')",
		   r->server);
}

/* A size limit a test may lower through the environment (to make a
 * sync span many requests): $name if it is 1 to max, else def. */
static uint32_t env_limit(const char *name, uint32_t def, uint32_t max)
{
	const char *env = getenv(name);
	long n = env != NULL ? strtol(env, NULL, 10) : 0;

	return n < 1 || n > (long)max ? def : (uint32_t)n;
}

/* Pushes the outbox. After a restore (resend), ops the server answers as
 * seen before (it had them all along) took no effect now and are not
 * counted. */
/* A push's request as sent last, to write it anew when it is sent again
 * after a lost connection (push_resend). */
typedef struct push_ask {
	rove_replica *r;
	rove_buf *req; /* the head, then the ops as stored, op i from at[i] to at[i + 1] */
	const size_t *at;
	size_t count_at; /* where req says how many ops it carries */
	uint32_t *n;     /* ops in the request */
	/* Ops a request carries at most, 0: no bound. Each connection lost
	 * during this push sets it (ROVE_CLIENT_PUSH_OPS_LOST, then half as
	 * many each further time, down to ROVE_CLIENT_PUSH_OPS_MIN) for the
	 * request sent again and every one after it: a request of 1 MB
	 * rarely gets through whole a link that drops connections now and
	 * then, and one sent again as it was fails the same way. */
	uint32_t limit;
	/* Ops a request carries at most on a slow uplink, 0: no bound
	 * (push_pace; from the replica's hint at first). */
	uint32_t pace;
} push_ask;

/* A push request of bytes bytes carrying n ops was answered took_ms
 * after it was sent: the next ones carry as many ops as went up at that
 * pace in a third of the wait for an answer (timeout_ms). Before, a
 * request carried up to ROVE_CLIENT_PUSH_BATCH ops whatever the link;
 * one that took longer than --timeout to go up timed out on every sync,
 * and the changes never got through (attack eighty). Unbounded, only a
 * request of ROVE_CLIENT_PACE_BYTES or more is measured (a small one says
 * more of the round trip than of the link); bounded, every answer moves
 * the bound: up by at most four times a request, to none on a fast link;
 * down when the link was slower. A request under the bound (the outbox
 * had fewer) answered within it leaves it. */
static void push_pace(push_ask *a, size_t bytes, uint32_t n, uint64_t took_ms, int timeout_ms, uint32_t batch)
{
	uint64_t ops;

	if (n == 0 || timeout_ms <= 0 || (a->pace == 0 && bytes < ROVE_CLIENT_PACE_BYTES))
		return;
	ops = (uint64_t)n * ((uint64_t)timeout_ms / 3) / (took_ms > 0 ? took_ms : 1);
	/* (the growth is bounded, not the first measure: unbounded, a last
	 * request of 185 ops, the outbox's rest, answered at once set a bound
	 * of 740 for the next sync, four times its size; CI run 139) */
	if (a->pace != 0 && ops > (uint64_t)(n > a->pace ? n : a->pace) * 4)
		ops = (uint64_t)(n > a->pace ? n : a->pace) * 4;
	if (ops >= batch)
		a->pace = 0;
	else if (n < a->pace && ops >= n && ops < a->pace)
		return; /* a request under the bound, in time: it stays */
	else
		a->pace = ops > ROVE_CLIENT_PUSH_OPS_MIN ? (uint32_t)ops : ROVE_CLIENT_PUSH_OPS_MIN;
}

/* The most ops a's next request carries. */
static uint32_t push_bound(const push_ask *a, uint32_t batch)
{
	uint32_t b = batch;

	if (a->limit != 0 && a->limit < b)
		b = a->limit;
	return a->pace != 0 && a->pace < b ? a->pace : b;
}

/* The push's request of n ops was sent and no answer came within the
 * timeout: the replica keeps a bound of a quarter as many for the next
 * sync, whose answers let it grow back (push_pace); st says so. A request
 * of the fewest ops already: st says that only a longer timeout helps. */
static void push_timed_out(rove_replica *r, uint32_t n, rove_sync_stats *st)
{
	uint32_t next = n / 4 > ROVE_CLIENT_PUSH_OPS_MIN ? n / 4 : ROVE_CLIENT_PUSH_OPS_MIN;
	int rc = rove_replica_pace_set(r, false, next);

	if (rc != ROVE_OK) {
		rove_error("push: cannot keep a smaller size for the next sync's requests: %s", rove_strerror(rc));
		return;
	}
	st->push_paced = next;
	st->push_floor = n <= ROVE_CLIENT_PUSH_OPS_MIN ? n : 0;
}

/* conn's resend_fn: the request lost is sent again with its first ops
 * up to the new bound (the answers then cover those). */
static int push_resend(void *arg, bool *smaller)
{
	push_ask *a = arg;

	a->limit = a->limit == 0 ? ROVE_CLIENT_PUSH_OPS_LOST
				 : a->limit / 2 > ROVE_CLIENT_PUSH_OPS_MIN ? a->limit / 2 : ROVE_CLIENT_PUSH_OPS_MIN;
	*smaller = *a->n > a->limit;
	if (!*smaller)
		return ROVE_OK; /* sent again as it is */
	*a->n = a->limit;
	a->req->len = a->at[*a->n];
	return rove_enc_push_count(a->req, a->count_at, *a->n);
}

/* Pushes the outbox's unacknowledged ops, at most bound of them (those
 * pending when the sync began; PUSH_NOW: those pending now): changes made
 * while a sync runs wait for the next one, so that its pull comes (attack
 * ninety-five: an edit every 75 ms over a slow link kept a sync pushing
 * for 14 minutes). The outbox's entries, acknowledged ones with them, are
 * at least its unacknowledged ones, which come first. */
#define PUSH_NOW UINT64_MAX
static int push_all(rove_replica *r, conn *c, bool resend, uint64_t bound, rove_sync_stats *st)
{
	uint32_t batch = env_limit("ROVE_PUSH_BATCH", ROVE_CLIENT_PUSH_BATCH, ROVE_CLIENT_PUSH_BATCH);
	uint32_t max_bytes = env_limit("ROVE_PUSH_BYTES", ROVE_CLIENT_PUSH_BYTES, ROVE_CLIENT_PUSH_BYTES);
	rove_op_head *ops = malloc(batch * sizeof(*ops));
	rove_push_result *res = malloc(batch * sizeof(*res));
	size_t *at = malloc((batch + 1) * sizeof(*at));
	/* The request is built in place: its head, then the ops as stored
	 * (sent as they are), read from the outbox after it. */
	rove_buf req;
	rove_seen seen_by;
	uint32_t n = 0, hint = 0;
	push_ask ask = {r, &req, at, 0, &n, 0, 0};
	uint64_t sent = 0;
	/* The proof of the server's clock goes with each push, unless the
	 * server refused a push as malformed with one: a roved from before
	 * proofs (put back after an upgrade) takes the push without it. */
	bool proof = true, first = true;
	int rc = ROVE_OK;

	rove_buf_init(&req);
	if (ops == NULL || res == NULL || at == NULL)
		rc = ROVE_ENOMEM;
	if (rc == ROVE_OK) {
		rc = rove_replica_pace(r, false, &hint);
		if (rc == ROVE_OK && bound == PUSH_NOW)
			rc = rove_replica_pending_count(r, &bound);
		if (rc != ROVE_OK)
			rove_error("push: cannot read the replica: %s", rove_strerror(rc));
	}
	ask.pace = hint;
	c->resend_fn = push_resend;
	c->resend_arg = &ask;
	while (rc == ROVE_OK) {
		nng_msg *reply = NULL;
		rove_msg m;
		uint32_t got = 0, acc = 0, rej = 0, seen[2] = {0, 0};
		uint64_t left = bound - sent;
		uint64_t sent_ms;

		rove_buf_reset(&req);
		rc = rove_replica_seen(r, &seen_by);
		if (!proof)
			seen_by.clock.hlc.v = 0;
		if (rc == ROVE_OK)
			rc = rove_enc_push_open(&req, &r->auth, &r->id, &seen_by, &ask.count_at);
		if (rc == ROVE_OK)
			rc = rove_replica_unacked_raw(r, ops, &req, at, left < batch ? (uint32_t)left : batch, &got);
		if (rc != ROVE_OK)
			rove_error("push: cannot read the outbox: %s", rove_strerror(rc));
		/* After a restore the proof held goes to the server even with
		 * nothing to push: its answer says whether the restored server
		 * can check it (a copy without its key cannot), so that the
		 * replica holds one it can before the next restore. */
		if (rc != ROVE_OK || (got == 0 && !(resend && first && proof && seen_by.clock.hlc.v != 0)))
			break;
		first = false;
		n = push_bound(&ask, got);
		/* A push must fit in one message: big ops go fewer at a time (the
		 * rest follow in the next request). */
		while (at[n] > max_bytes && n > 1)
			n /= 2;
		req.len = at[n];
		rc = rove_enc_push_count(&req, ask.count_at, n);
		sent_ms = mono_ms();
		if (rc == ROVE_OK)
			rc = conn_call(c, &req, ROVE_MSG_PUSH_REPLY, &reply, &m);
		if (rc == ROVE_ETIMEDOUT && c->used != 0)
			push_timed_out(r, n, st);
		if (rc == ROVE_EPROTO && c->refused && proof && seen_by.clock.hlc.v != 0) {
			rove_debug("push: the server takes no proof of its clock (%s)", c->errmsg);
			proof = false;
			rc = ROVE_OK;
			continue; /* sent again without it */
		}
		if (rc == ROVE_EHISTORY)
			break; /* the caller recovers */
		if (rc == ROVE_EWRONGSERVER)
			wrong_server(r);
		else if (rc != ROVE_OK)
			report(c, rc, "push");
		if (rc != ROVE_OK)
			break;
		if (m.u.push_reply.n != n) {
			rove_error("push: the server answered %u of %u ops", m.u.push_reply.n, n);
			rc = ROVE_EPROTO;
		}
		for (uint32_t i = 0; rc == ROVE_OK && i < n; i++) {
			rc = rove_msg_next_result(&m, &res[i]);
			if (rc == ROVE_OK && resend && res[i].seen)
				seen[res[i].status == ROVE_PUSH_ACCEPTED ? 0 : 1]++;
			else if (rc == ROVE_OK && res[i].seen && res[i].status == ROVE_PUSH_ACCEPTED)
				(*(c->again ? &st->taken_again : &st->taken))++; /* sent before, cut short */
		}
		/* The results point into the reply (their kept lists): freed
		 * once they are recorded. */
		if (rc == ROVE_OK) {
			rc = rove_replica_push_results(r, m.u.push_reply.server, &m.u.push_reply.run,
						       &m.u.push_reply.clock, ops, res, n, &acc, &rej);
			if (rc == ROVE_EWRONGSERVER)
				wrong_server(r);
			else if (rc != ROVE_OK)
				rove_error("push: cannot record the server's answers in this replica: %s%s",
					   rove_strerror(rc), local_hint(rc));
		}
		nng_msg_free(reply);
		if (rc == ROVE_OK) {
			uint64_t took = mono_ms() - sent_ms;
			push_pace(&ask, req.len, n, took, c->timeout_ms, batch);
			/* A bound set by a lost connection grows back as answers
			 * come: twice as many each time, to none (attack
			 * eighty-one: a fast link that dropped a connection now
			 * and then went on at ten ops a request). */
			if (ask.limit != 0)
				ask.limit = (uint64_t)ask.limit * 2 >= batch ? 0 : ask.limit * 2;
			rove_debug("push: %u ops in a request of %zu bytes, answered in %llu ms; the next at most %u", n,
				   req.len, (unsigned long long)took, push_bound(&ask, batch));
			st->pushed += n - seen[0] - seen[1];
			st->accepted += acc - seen[0];
			st->rejected += rej - seen[1];
		}
		sent += n;
		if ((got < batch && n == got) || sent >= bound)
			break; /* the outbox had no more, or what was pending went */
	}
	/* A hint from a timed-out push is refined for the next sync (none:
	 * it goes). Without one, a bound found is this sync's only: a slow
	 * answer from a busy server says nothing of the link, and no sync
	 * should write for it. */
	if (rc == ROVE_OK && hint != 0 && ask.pace != hint) {
		rc = rove_replica_pace_set(r, false, ask.pace);
		if (rc != ROVE_OK)
			rove_error("push: cannot keep the size of the next sync's requests: %s", rove_strerror(rc));
	}
	c->resend_fn = NULL;
	c->resend_arg = NULL;
	rove_buf_free(&req);
	free(ops);
	free(res);
	free(at);
	return rc;
}

/* rove_sync_set_progress's watcher. */
static rove_sync_progress_fn progress_fn;
static void *progress_arg;

void rove_sync_set_progress(rove_sync_progress_fn fn, void *arg)
{
	progress_fn = fn;
	progress_arg = arg;
}

/* The progress of a pull on stderr (never stdout: scripts read it). On a
 * terminal a line drawn again in place after every chunk; elsewhere (asked
 * for with ROVE_PROGRESS=1: a log) a line at most every PROGRESS_LINE_MS,
 * and the last one. */
#define PROGRESS_LINE_MS 1000u

typedef struct pull_progress {
	bool on, tty, drawn;
	uint64_t start_ms, last_ms;
} pull_progress;

static uint64_t mono_ms(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail on Linux; a zero only shows 0 s. */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void progress_init(pull_progress *p, bool on)
{
	memset(p, 0, sizeof(*p));
	p->on = on;
	p->tty = on && isatty(STDERR_FILENO);
	p->start_ms = mono_ms();
}

/* n with a comma every three digits, in out (at least 27 bytes). */
static const char *thousands(uint64_t n, char *out, size_t len)
{
	char digits[21];
	int nd = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)n);
	size_t o = 0;

	ROVE_ASSERT(len >= 27);
	for (int i = 0; i < nd; i++) {
		if (i > 0 && (nd - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
	return out;
}

static void progress_draw(pull_progress *p, const rove_pull_reply *h, uint64_t done, bool last)
{
	uint64_t now = mono_ms(), ms = now - p->start_ms;
	char a[27], b[27], c[27];

	if (!p->on || (!p->tty && !last && p->drawn && now - p->last_ms < PROGRESS_LINE_MS))
		return;
	p->last_ms = now;
	p->drawn = true;
	if (h->mode == ROVE_PULL_SNAPSHOT)
		/* The rate once it means something (after a second). */
		fprintf(stderr, "%ssnapshot: %s records in %llu.%llu s%s%s%s%s", p->tty ? "\r" : "",
			thousands(done, a, sizeof(a)), (unsigned long long)(ms / 1000),
			(unsigned long long)(ms % 1000 / 100), ms >= 1000 ? " (" : "",
			ms >= 1000 ? thousands(done * 1000 / ms, b, sizeof(b)) : "", ms >= 1000 ? "/s)" : "",
			p->tty ? "\033[K" : "\n");
	else
		fprintf(stderr, "%spulling: %s changes, at %s of %s in %llu.%llu s%s", p->tty ? "\r" : "",
			thousands(done, a, sizeof(a)), thousands(h->cursor, b, sizeof(b)),
			thousands(h->head, c, sizeof(c)), (unsigned long long)(ms / 1000),
			(unsigned long long)(ms % 1000 / 100), p->tty ? "\033[K" : "\n");
}

static void progress_end(pull_progress *p)
{
	if (p->tty && p->drawn)
		fputc('\n', stderr);
}

/* Items asked for in the first pull request: a small first chunk comes
 * back quickly and is applied while the server prepares the next, full
 * one (later requests ask for ROVE_MAX_SNAPSHOT_ITEMS: the server sends
 * ops chunks of ROVE_MAX_PULL_ITEMS at most). */
#define PULL_FIRST_ITEMS 1000u

/* After a push, the first pull asks for room for what the push brings
 * back too: each accepted op by reference, with what the server made of
 * it (a new customer's ownership record). A reply that settles every op
 * just pushed empties the view at once instead of copy by copy
 * (replica_sync.c, view_settle): for a 1,000-op push, one reply of 2,000
 * items instead of two of 1,000. */
#define PULL_ITEMS_PER_PUSHED 2u

static uint32_t pull_first_items(const rove_sync_stats *st)
{
	uint64_t n = PULL_FIRST_ITEMS + PULL_ITEMS_PER_PUSHED * st->accepted;

	return n < ROVE_MAX_SNAPSHOT_ITEMS ? (uint32_t)n : ROVE_MAX_SNAPSHOT_ITEMS;
}

/* A pull's request as sent last, to write it anew when it is sent again
 * after a lost connection (pull_resend). */
typedef struct pull_ask {
	rove_replica *r;
	rove_buf *req;
	const rove_pull_state *ps; /* the position the request asks from */
	const bool *own;
	/* Items a request asks for at most, 0: no bound. Each connection
	 * lost during this pull sets it (ROVE_CLIENT_PULL_ITEMS_LOST, then
	 * half as many each further time, down to ROVE_CLIENT_PULL_ITEMS_MIN)
	 * for the request sent again and every one after it. On a link that
	 * drops connections now and then, a reply of the largest size (4 MiB)
	 * rarely gets through whole, and one sent again as it was fails the
	 * same way: the pull would make no progress. */
	uint32_t limit;
	/* Items a request asks for at most on a slow link, 0: no bound
	 * (pull_pace). */
	uint32_t pace;
	uint64_t sent_ms; /* when the request in flight was sent (mono ms) */
	/* Records in format 2 are asked for (the PULL's records element)
	 * unless the server refused a PULL that asked. */
	bool records;
	uint32_t asked; /* items the request in flight asks for at most (0: no bound) */
} pull_ask;

static uint32_t pull_max(const pull_ask *a, uint32_t max)
{
	if (a->limit != 0 && max > a->limit)
		max = a->limit;
	return a->pace != 0 && max > a->pace ? a->pace : max;
}

/* A reply of bytes bytes holding n items came took_ms after its request
 * was sent: over a slow link the next requests ask for as many items as
 * came at that pace in a third of the wait for a reply (timeout_ms), so
 * that each reply comes well within it. Before, after the first reply
 * (1,000 items) a pull asked for the most a reply holds (4 MiB), which
 * under about 3.4 Mbit/s took longer than the default 10 s: every sync
 * ended there. Measured on replies of ROVE_CLIENT_PACE_BYTES or more
 * (a small one says more of the round trip than of the link); a fast
 * link sets no bound. */
static void pull_pace(pull_ask *a, size_t bytes, uint32_t n, uint64_t took_ms, int timeout_ms)
{
	uint64_t items;

	if (bytes < ROVE_CLIENT_PACE_BYTES || n == 0 || timeout_ms <= 0)
		return;
	items = (uint64_t)n * ((uint64_t)timeout_ms / 3) / (took_ms > 0 ? took_ms : 1);
	if (items >= ROVE_MAX_SNAPSHOT_ITEMS)
		a->pace = 0;
	else
		a->pace = items > ROVE_CLIENT_PULL_ITEMS_MIN ? (uint32_t)items : ROVE_CLIENT_PULL_ITEMS_MIN;
}

static int pull_encode(pull_ask *a, uint32_t max, bool clock)
{
	rove_pull_req q;

	a->asked = pull_max(a, max);
	rove_pull_state_request(a->ps, &a->r->id, a->asked, &q);
	q.own = *a->own;
	q.clock = clock;
	q.records = a->records ? ROVE_RECORD_FORMAT : 1;
	q.proofs = a->records; /* with records (the element after it) */
	q.has_snap_end = a->records; /* and the one after proofs */
	rove_buf_reset(a->req);
	return rove_enc_pull(a->req, &a->r->auth, &q);
}

/* conn's resend_fn: the request lost is asked again for fewer items, from
 * the same place (a->ps is the position of the request in flight: the
 * next one is sent only once its answer has come). */
static int pull_resend(void *arg, bool *smaller)
{
	pull_ask *a = arg;

	a->limit = a->limit == 0 ? ROVE_CLIENT_PULL_ITEMS_LOST
				 : a->limit / 2 > ROVE_CLIENT_PULL_ITEMS_MIN ? a->limit / 2 : ROVE_CLIENT_PULL_ITEMS_MIN;
	*smaller = a->asked == 0 || a->limit < a->asked;
	a->sent_ms = mono_ms();
	return pull_encode(a, a->limit, false);
}

/* A pull's request of n items (0: no bound, first: what it asked for)
 * got no reply within the timeout: the replica keeps a bound of a
 * quarter as many for the next sync, whose replies refine it (an
 * analyst's bootstrap over a slow link timed out the same way at every
 * sync: attack eighty-five). */
static void pull_timed_out(rove_replica *r, uint32_t n, rove_sync_stats *st)
{
	uint32_t next = n / 4 > ROVE_CLIENT_PULL_ITEMS_MIN ? n / 4 : ROVE_CLIENT_PULL_ITEMS_MIN;
	int rc;

	if (n <= ROVE_CLIENT_PULL_ITEMS_MIN)
		return; /* the fewest already: only a longer timeout helps */
	rc = rove_replica_pace_set(r, true, next);
	if (rc != ROVE_OK) {
		rove_error("pull: cannot keep a smaller size for the next sync's requests: %s", rove_strerror(rc));
		return;
	}
	st->pull_paced = next;
}

static int pull_send(conn *c, pull_ask *a, uint32_t max, bool clock)
{
	int rc = pull_encode(a, max, clock);

	a->sent_ms = mono_ms();
	return rc == ROVE_OK ? conn_send(c, a->req) : rc;
}

/* The server said its time, server_ms (0: it did not), in the answer to
 * a request sent at sent_ms and answered at got_ms by this laptop's
 * clock: it is taken as the server's time halfway between (off by half
 * the round trip at most). */
static void clock_heard(clock_probe *cp, uint64_t sent_ms, uint64_t got_ms, uint64_t server_ms)
{
	uint64_t mid;

	cp->ask = false;
	if (server_ms < ROVE_MIN_STAMP_MS || got_ms < sent_ms || server_ms > INT64_MAX)
		return; /* not said (or nonsense), or this laptop's clock was set meanwhile */
	mid = sent_ms + (got_ms - sent_ms) / 2;
	if (mid > INT64_MAX)
		return;
	cp->known = true;
	cp->ahead_ms = (int64_t)mid - (int64_t)server_ms;
	cp->server_ms = server_ms;
}

/* Pulls until the server has nothing more. Pipelined: as soon as a chunk
 * arrives, the request for the next one goes out (its position follows
 * from the chunk by rove_pull_state_next, the rule applying it stores
 * by), so the server reads chunk n+1 while this process applies chunk n.
 * Each chunk is applied in its own transaction with the position it leads
 * to, so a sync cut anywhere resumes from what was applied. */
static int pull_all(rove_replica *r, conn *c, bool on, rove_sync_stats *st, clock_probe *cp)
{
	rove_pull_state ps;
	rove_buf req;
	pull_progress prog;
	/* This replica's own ops may come back by reference (it holds them as
	 * the server kept them); should one be missing here, everything is
	 * asked for again whole. */
	bool own = true;
	/* The first request asks for the server's time too, if no reply
	 * said it yet in this sync. */
	bool clock = cp->ask;
	uint32_t first = env_limit("ROVE_PULL_BATCH", pull_first_items(st), ROVE_MAX_SNAPSHOT_ITEMS);
	uint32_t hint = 0; /* the bound a pull that timed out left (rove_replica_pace) */
	uint64_t sent_ms = 0;
	pull_ask ask = {r, &req, &ps, &own, 0, 0, 0, true, 0};
	/* The first request has the optional elements an older server
	 * refuses (records, and clock if asked): refused, it is sent again
	 * without them. */
	bool first_req = true, refused_opt;
	unsigned long said = 0; /* damage said before a chunk's apply */
	int rc;

	progress_init(&prog, on);
	rove_buf_init(&req);
	c->resend_fn = pull_resend;
	c->resend_arg = &ask;
	rc = rove_replica_pull_state(r, &ps);
	if (rc == ROVE_OK)
		rc = rove_replica_pace(r, true, &hint);
	ask.pace = hint;
	if (rc == ROVE_OK) {
		sent_ms = rove_wall_ms();
		rc = pull_send(c, &ask, first, clock);
		if (rc != ROVE_OK)
			report(c, rc, "pull");
	}
	while (rc == ROVE_OK) {
		nng_msg *reply = NULL;
		rove_msg m;
		uint32_t items = 0;
		int sent = ROVE_OK;
		uint64_t p_cursor, p_head;
		bool more, p_snap;

		rc = conn_recv(c, ROVE_MSG_PULL_REPLY, &reply, &m);
		refused_opt = first_req && (clock || ask.records) && rc == ROVE_EPROTO && c->refused;
		first_req = false;
		if (refused_opt) {
			/* A server older than the clock or the records element
			 * refuses a PULL that has it: asked again as it takes
			 * it; this sync learns nothing of the time, and gets
			 * records in format 1. */
			rove_debug("pull: the server takes no optional element (%s)", c->errmsg);
			clock = cp->ask = false;
			ask.records = false;
			rc = pull_send(c, &ask, first, false);
			if (rc == ROVE_OK)
				continue;
			report(c, rc, "pull");
			break;
		}
		if (clock && rc == ROVE_OK)
			clock_heard(cp, sent_ms, rove_wall_ms(), m.u.pull_reply.time_ms);
		clock = false;
		if (rc == ROVE_EHISTORY)
			break; /* the caller recovers */
		if (rc == ROVE_EWRONGSERVER) {
			wrong_server(r);
			break;
		}
		if (rc == ROVE_ETIMEDOUT)
			pull_timed_out(r, ask.asked != 0 ? ask.asked : first, st);
		if (rc != ROVE_OK) {
			report(c, rc, "pull");
			break;
		}
		pull_pace(&ask, nng_msg_len(reply), m.u.pull_reply.n, mono_ms() - ask.sent_ms, c->timeout_ms);
		rove_debug("pull: a reply of %zu bytes, %u items, in %llu ms%s", nng_msg_len(reply), m.u.pull_reply.n,
			   (unsigned long long)(mono_ms() - ask.sent_ms), m.u.pull_reply.more ? ", more to come" : "");
		if (ask.pace != 0)
			rove_debug("pull: the link is slow; the next requests ask for %u items at most", ask.pace);
		more = m.u.pull_reply.more;
		/* for the watcher, read before the reply is freed */
		p_cursor = m.u.pull_reply.cursor;
		p_head = m.u.pull_reply.head;
		p_snap = m.u.pull_reply.mode == ROVE_PULL_SNAPSHOT;
		if (more) {
			/* Asked for before this chunk is applied; applying it
			 * checks that it moves forward (a reply that does not is
			 * refused, which ends this loop). */
			rove_pull_state_next(&ps, &m.u.pull_reply, &ps);
			sent = pull_send(c, &ask,
					 env_limit("ROVE_PULL_BATCH", ROVE_MAX_SNAPSHOT_ITEMS, ROVE_MAX_SNAPSHOT_ITEMS),
					 false);
		}
		said = rove_replica_damage_said();
		rc = rove_replica_apply_pull(r, &m, &items);
		if (rc == ROVE_ENOTFOUND && own) {
			/* An op named as this replica's that it does not hold (a
			 * replica copied back from an older copy): nothing of the
			 * chunk was kept; the answer to the request already sent
			 * is dropped, and the pull goes on from where it stands,
			 * every op whole. */
			nng_msg_free(reply);
			own = false;
			if (more && sent == ROVE_OK) {
				rc = conn_recv(c, ROVE_MSG_PULL_REPLY, &reply, &m);
				if (rc == ROVE_OK)
					nng_msg_free(reply);
			} else {
				rc = sent;
			}
			if (rc == ROVE_OK)
				rc = rove_replica_pull_state(r, &ps);
			if (rc == ROVE_OK)
				rc = pull_send(c, &ask,
					       env_limit("ROVE_PULL_BATCH", ROVE_MAX_PULL_ITEMS, ROVE_MAX_PULL_ITEMS),
					       false);
			if (rc != ROVE_OK) {
				report(c, rc, "pull");
				break;
			}
			continue;
		}
		/* A pull of one chunk (most syncs) draws nothing. */
		if (rc == ROVE_OK && (more || prog.drawn))
			progress_draw(&prog, &m.u.pull_reply, st->pulled + items, !more);
		nng_msg_free(reply);
		/* (the replica's own damage was said as it was met) */
		if (rc == ROVE_EPROTO && rove_replica_damage_said() == said) {
			rove_error("pull: malformed reply from the server; nothing of it was applied");
			break;
		}
		if (rc == ROVE_EPROTO)
			break;
		if (rc != ROVE_OK) {
			if (rc == ROVE_EWRONGSERVER)
				wrong_server(r);
			else
				rove_error("pull: cannot apply the server's changes to this replica: %s%s",
					   rove_strerror(rc), local_hint(rc));
			break;
		}
		st->pulled += items;
		if (progress_fn != NULL)
			progress_fn(st->pulled, p_cursor, p_head, p_snap, progress_arg);
		if (sent != ROVE_OK) {
			rc = sent;
			report(c, rc, "pull");
			break;
		}
		if (more)
			continue;
		/* A snapshot is of the head it started from (snap_seq, now the
		 * cursor): what was written since, while it came or while a
		 * cut one waited to resume, follows as ops in this same sync. */
		if (!p_snap || p_cursor >= p_head)
			break;
		rc = rove_replica_pull_state(r, &ps);
		if (rc == ROVE_OK)
			rc = pull_send(c, &ask,
				       env_limit("ROVE_PULL_BATCH", ROVE_MAX_SNAPSHOT_ITEMS, ROVE_MAX_SNAPSHOT_ITEMS),
				       false);
		if (rc != ROVE_OK)
			report(c, rc, "pull");
	}
	progress_end(&prog);
	c->resend_fn = NULL;
	c->resend_arg = NULL;
	rove_buf_free(&req);
	if (rc == ROVE_OK) {
		rc = rove_replica_pull_state(r, &ps);
		st->cursor = ps.cursor;
	}
	/* A hint from a timed-out pull is refined by this one's replies
	 * (none: it goes); without one, a pace found is this sync's only. */
	if (rc == ROVE_OK && hint != 0 && ask.pace != hint) {
		rc = rove_replica_pace_set(r, true, ask.pace);
		if (rc != ROVE_OK)
			rove_error("pull: cannot keep the size of the next sync's requests: %s", rove_strerror(rc));
	}
	return rc;
}

/* Others' writes a restored server lacked (rove_replica_orphans_settle),
 * settled once the pull brought
 * what their authors sent again, by the server's time as this sync
 * measured it (a laptop's clock set ahead makes nothing due); *sent:
 * changes queued. */
static int orphans_settle(rove_replica *r, const clock_probe *cp, uint64_t *sent)
{
	uint64_t waiting = 0, now = 0, wall = rove_wall_ms();
	int rc;

	if (cp->known && cp->ahead_ms <= 0)
		now = wall + (uint64_t)(-cp->ahead_ms);
	else if (cp->known && (uint64_t)cp->ahead_ms < wall)
		now = wall - (uint64_t)cp->ahead_ms;
	rc = rove_replica_orphans_settle(r, now, sent, &waiting);
	if (rc != ROVE_OK)
		rove_error("cannot settle what the restored server lacked of others' records: %s", rove_strerror(rc));
	else if (*sent > 0)
		rove_warn("the server still lacks records others wrote that this replica holds: sending %" PRIu64
			  " change%s of them again as yours",
			  *sent, *sent == 1 ? "" : "s");
	return rc;
}

/* Changes refused after a restore for want of their record, sent again
 * once the base holds it (rove_replica_waiting_settle); *sent: adds the
 * ops queued. */
static int waiting_settle(rove_replica *r, uint64_t *sent)
{
	uint64_t n = 0;
	int rc = rove_replica_waiting_settle(r, &n);

	if (rc != ROVE_OK)
		rove_error("cannot send again the changes refused after the restore: %s", rove_strerror(rc));
	else if (n > 0)
		rove_info("sending again %" PRIu64 " change%s refused after the restore, now that %s record%s back",
			  n, n == 1 ? "" : "s", n == 1 ? "its" : "their", n == 1 ? " is" : "s are");
	*sent += n;
	return rc;
}

/* Push, then pull; or, while a recovery waits for its fresh snapshot
 * (rove_replica_recovering), pull first: what is pushed then follows the
 * older changes the snapshot shows the server lacks. Then what a restore
 * left waiting is settled, and pushed when any is due. */
static int exchange(rove_replica *r, conn *c, bool resend, bool progress, uint64_t bound, rove_sync_stats *st,
		    clock_probe *cp)
{
	bool waiting = false, repairing = false;
	uint64_t sent = 0;
	int held = ROVE_OK; /* the push stopped by the server's rate */
	int rc = rove_replica_recovering(r, &waiting);

	if (rc == ROVE_OK)
		rc = rove_replica_repairing(r, &repairing);
	if (rc != ROVE_OK)
		rove_error("cannot read the replica: %s", rove_strerror(rc));
	/* A repair's snapshot first: the answers to the pushes are then
	 * recorded in local copies made anew from it (attack sixty-four: a
	 * pending claim on a damaged copy failed every sync). */
	if (rc == ROVE_OK && (waiting || repairing))
		rc = pull_all(r, c, progress, st, cp);
	/* (that pull may have put changes back in the outbox: all go) */
	if (rc == ROVE_OK)
		rc = push_all(r, c, resend || waiting, waiting || repairing ? PUSH_NOW : bound, st);
	/* Over the server's rate for this user (rate.h): the rest stays
	 * pending, for a later sync; what others changed is pulled all the
	 * same, and the sync then fails with it. */
	if (rc == ROVE_ERATE) {
		held = rc;
		rc = ROVE_OK;
	}
	if (rc == ROVE_OK)
		rc = pull_all(r, c, progress, st, cp);
	/* what the sends make may be what a waiting refusal needs, and
	 * settles orphans: once more (each is sent once: two rounds) */
	for (int round = 0; rc == ROVE_OK && held == ROVE_OK && round < 2; round++) {
		sent = 0;
		rc = orphans_settle(r, cp, &sent);
		if (rc == ROVE_OK)
			rc = waiting_settle(r, &sent);
		if (rc != ROVE_OK || sent == 0)
			break;
		rc = push_all(r, c, false, PUSH_NOW, st);
		if (rc == ROVE_OK)
			rc = pull_all(r, c, progress, st, cp);
	}
	return rc != ROVE_OK ? rc : held;
}

int rove_sync(rove_replica *r, int timeout_ms, bool progress, rove_sync_stats *st)
{
	conn c;
	clock_probe cp = {true, false, 0, 0};
	uint64_t pushed, dropped = 0, bound = 0;
	bool again = false, synced;
	int rc;

	memset(st, 0, sizeof(*st));
	memset(&c, 0, sizeof(c));
	/* Before anything is written: a damaged page of a table the sync
	 * writes, written through LMDB, corrupted the heap (damage_hunt). */
	rc = rove_replica_pages_sound(r);
	if (rc == ROVE_OK)
		rc = rove_replica_writes_ok(r);
	if (rc == ROVE_OK) {
		rc = rove_replica_outbox_sweep(r, &dropped, &st->changes_lost);
		if (rc != ROVE_OK)
			rove_error("cannot read this replica's pending changes: %s", rove_strerror(rc));
	}
	st->dropped = dropped; /* (said by the sweep) */
	if (rc == ROVE_OK)
		rc = rove_replica_resending(r, &again);
	if (rc == ROVE_OK)
		rc = rove_replica_pending_count(r, &bound);
	if (rc != ROVE_OK && rc != ROVE_EREADONLY) /* (that one said why) */
		rove_error("cannot read the replica: %s", rove_strerror(rc));
	if (rc == ROVE_OK)
		rc = conn_open(&c, r, timeout_ms, true);
	st->reached = rc == ROVE_OK;
	if (rc == ROVE_OK)
		rc = exchange(r, &c, false, progress, bound, st, &cp);
	/* A recovery a killed sync began: this one's pushes are its sends. */
	if (again)
		st->resent = st->pushed;
	/* Found by the push (before any op of it is applied) or the pull. */
	if (rc == ROVE_EHISTORY) {
		/* Restored from a copy that lacks some of what this replica
		 * holds: send it all again, then take a fresh snapshot. */
		pushed = st->pushed;
		rove_warn("the server's history is not the one this replica synced with (restored from a "
			  "backup?): sending this replica's changes again and taking a fresh copy");
		rc = rove_replica_history_lost(r, &st->resent);
		if (rc != ROVE_OK)
			rove_error("cannot prepare this replica's changes to be sent again: %s", rove_strerror(rc));
		if (rc == ROVE_OK)
			rc = exchange(r, &c, true, progress, PUSH_NOW, st, &cp);
		if (rc == ROVE_EHISTORY)
			rove_error("pull: the server refused a fresh start: %s", c.errmsg);
		st->resent = (again ? st->resent : 0) + st->pushed - pushed;
		again = true;
	}
	if (rc == ROVE_ELOST && strncmp(c.errmsg, LOST, strlen(LOST)) == 0)
		snprintf(st->lost, sizeof(st->lost), "%s", c.errmsg + strlen(LOST));
	conn_close(&c);
	if (rc == ROVE_OK && again) {
		int trc = rove_replica_resent(r);
		if (trc != ROVE_OK)
			rove_warn("synced, but the end of the recovery could not be noted: %s", rove_strerror(trc));
	}
	/* A push held by the server's rate (ROVE_ERATE) still pulled all:
	 * that is a sync as far as the time and the clock go. */
	synced = rc == ROVE_OK || rc == ROVE_ERATE;
	/* The server's clock behind the changes it stamped itself (it was set
	 * back, or its answer was tampered with) says nothing about now. */
	if (synced && cp.known) {
		uint64_t newest = rove_replica_pulled_ms(r);
		/* A laptop's stamp may be the skew ahead of a server that
		 * started the skew ahead of its clock (engine.c, stamp_op). */
		if (newest > cp.server_ms + 2 * (uint64_t)ROVE_MAX_CLOCK_SKEW_MS) {
			rove_warn("the server's clock is %llu minute(s) behind the newest change it sent: this replica "
				  "dates by this laptop's clock, or by that change's time when it is later (the "
				  "server's admin should set its clock; if the server's is right, this replica's "
				  "record of that change's time is damaged: 'rove sync --repair' takes it anew)",
				  (unsigned long long)((newest - cp.server_ms) / 60000u));
			cp.known = false;
			/* ... and no longer projects the one it measured then:
			 * a server put right after running days ahead left its
			 * replicas dating visits days ahead, refused (attack one
			 * hundred and seven) */
			int trc = rove_replica_clock_learned(r, 0);
			if (trc != ROVE_OK)
				rove_warn("the clock this laptop measured before could not be forgotten: %s",
					  rove_strerror(trc));
		}
	}
	if (synced && cp.known) {
		/* From now on "now" on this replica is the server's (a laptop
		 * whose clock is fast dates nothing in the server's future);
		 * failing to note it leaves the last one measured. */
		int trc = rove_replica_clock_learned(r, cp.ahead_ms);
		if (trc != ROVE_OK)
			rove_warn("synced, but how far this laptop's clock is from the server's could not be noted: %s",
				  rove_strerror(trc));
	}
	if (synced) {
		/* The data is synced and stored; the time of the sync is only
		 * shown by `rove status`, so failing to note it is a warning. */
		int trc = rove_replica_synced(r, rove_replica_now_ms(r)); /* a laptop's clock may be wrong */
		if (trc != ROVE_OK)
			rove_warn("synced, but the time of this sync could not be noted: %s", rove_strerror(trc));
	}
	return rc;
}

/* One ask of an admin command with the request's id; *idless: the
 * server was too old for the id, and was asked without it. */
static int admin_ask(rove_replica *r, int timeout_ms, const char *cmd, const char *const *args, uint32_t nargs,
		     const rove_uuid *request, rove_line_fn fn, void *arg, char *errmsg, size_t errlen, bool *idless)
{
	conn c;
	rove_buf req;
	nng_msg *reply = NULL;
	rove_msg m;
	int rc;

	errmsg[0] = '\0';
	rove_buf_init(&req);
	rc = conn_open(&c, r, timeout_ms, true);
	if (rc == ROVE_OK)
		rc = rove_enc_admin_req(&req, &r->auth, cmd, request, args, nargs);
	if (rc == ROVE_OK)
		rc = conn_call(&c, &req, ROVE_MSG_ADMIN_REPLY, &reply, &m);
	if (rc == ROVE_EPROTO && c.refused) {
		/* A server older than the request id refuses it as malformed
		 * (having done nothing): asked again without. It cannot tell a
		 * request sent again from a new one, so this one is not sent
		 * again: a connection lost before the answer is ROVE_ELOST. */
		rove_debug("admin: the server takes no request id (%s)", c.errmsg);
		c.resend_ok = false;
		*idless = true;
		rove_buf_reset(&req);
		rc = rove_enc_admin(&req, &r->auth, cmd, args, nargs);
		if (rc == ROVE_OK)
			rc = conn_call(&c, &req, ROVE_MSG_ADMIN_REPLY, &reply, &m);
	}
	if (rc == ROVE_ETIMEDOUT && c.used != 0 && c.errmsg[0] == '\0')
		snprintf(c.errmsg, sizeof(c.errmsg), "the request reached the server, and no answer came in time");
	if (rc != ROVE_OK && c.errmsg[0] != '\0')
		snprintf(errmsg, errlen, "%s", c.errmsg);
	if (rc == ROVE_OK) {
		const char *s;
		uint32_t len;
		while (rove_msg_next_str(&m, &s, &len) == ROVE_OK)
			fn(s, len, arg);
		nng_msg_free(reply);
	}
	conn_close(&c);
	rove_buf_free(&req);
	return rc;
}

int rove_admin_call_asks(rove_replica *r, int timeout_ms, uint32_t asks, const char *cmd, const char *const *args,
			 uint32_t nargs, rove_line_fn fn, void *arg, char *errmsg, size_t errlen)
{
	rove_uuid request;
	bool idless = false;
	int rc;

	ROVE_ASSERT(asks >= 1);
	/* The request carries an id of its own, which the server keeps with
	 * its answer: sent again after a lost connection or asked again, it
	 * is answered again, not done twice (a user added once, the token
	 * made once). */
	rove_uuid_new(&request);
	for (uint32_t ask = 1;; ask++) {
		uint64_t t0 = mono_ms(), spent;
		rc = admin_ask(r, timeout_ms, cmd, args, nargs, &request, fn, arg, errmsg, errlen, &idless);
		if (!rove_err_unreached(rc) || idless || ask >= asks)
			return rc;
		/* Each ask gets its time: one refused at once (a server
		 * restarting) is asked again once that time has passed. */
		spent = mono_ms() - t0;
		if (spent < (uint64_t)timeout_ms) {
			uint64_t left = (uint64_t)timeout_ms - spent;
			nanosleep(&(struct timespec){(time_t)(left / 1000u), (long)(left % 1000u) * 1000000L}, NULL);
		}
		rove_warn("no answer from the server to %s yet (%s): asking again (%u of %u)", cmd, rove_strerror(rc),
			  ask + 1, asks);
	}
}

int rove_admin_call(rove_replica *r, int timeout_ms, const char *cmd, const char *const *args,
		    uint32_t nargs, rove_line_fn fn, void *arg, char *errmsg, size_t errlen)
{
	return rove_admin_call_asks(r, timeout_ms, 1, cmd, args, nargs, fn, arg, errmsg, errlen);
}

int rove_conflicts_fetch(rove_replica *r, int timeout_ms, rove_conflict_fn fn, void *arg, char *errmsg,
			 size_t errlen)
{
	rove_conflicts_req q = {0, 0};
	rove_conflict *item = malloc(sizeof(*item));
	rove_buf req;
	conn c;
	int rc;

	errmsg[0] = '\0';
	if (item == NULL)
		return ROVE_ENOMEM;
	rove_buf_init(&req);
	rc = conn_open(&c, r, timeout_ms, true); /* a read: sent again as it is */
	while (rc == ROVE_OK) {
		nng_msg *reply = NULL;
		rove_msg m;
		bool more;

		rove_buf_reset(&req);
		rc = rove_enc_conflicts(&req, &r->auth, &q);
		if (rc == ROVE_OK)
			rc = conn_call(&c, &req, ROVE_MSG_CONFLICTS_REPLY, &reply, &m);
		if (rc == ROVE_ETIMEDOUT && c.used != 0 && c.errmsg[0] == '\0')
			snprintf(c.errmsg, sizeof(c.errmsg), "the request reached the server, and no answer came in time");
		if (rc != ROVE_OK) {
			snprintf(errmsg, errlen, "%s", c.errmsg);
			break;
		}
		more = m.u.conflicts_reply.more;
		while (rc == ROVE_OK && (rc = rove_msg_next_conflict(&m, item)) == ROVE_OK) {
			if (item->n <= q.after) {
				rc = ROVE_EPROTO; /* the list must move forward */
				break;
			}
			q.after = item->n;
			rc = fn(item, arg);
		}
		if (rc == ROVE_ENOTFOUND)
			rc = ROVE_OK;
		nng_msg_free(reply);
		if (!more)
			break;
	}
	conn_close(&c);
	rove_buf_free(&req);
	free(item);
	return rc;
}
