#include "serve.h"

#include "err.h"
#include "log.h"
#include "net.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum work_state { W_RECV, W_WAIT, W_SEND };

struct server;

typedef struct work {
	enum work_state state;
	nng_aio *aio;
	nng_ctx ctx;
	nng_msg *req;     /* the request; job.msg points into it */
	rove_job job;
	struct server *srv;
	struct work *next; /* writer queue */
} work;

typedef struct server {
	rove_engine *e;
	nng_socket sock;
	work *works;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	work *head, *tail; /* queued writes */
	int stopping;
	pthread_t writer;
	uint64_t tick_ms;
} server;

static void work_send(work *w)
{
	nng_msg *msg = NULL;

	if (w->req != NULL) {
		nng_msg_free(w->req);
		w->req = NULL;
	}
	if (nng_msg_alloc(&msg, 0) != 0 ||
	    nng_msg_append(msg, w->job.reply.data, w->job.reply.len) != 0) {
		rove_error("out of memory for a reply");
		if (msg != NULL)
			nng_msg_free(msg);
		w->state = W_RECV;
		nng_ctx_recv(w->ctx, w->aio);
		return;
	}
	/* A context keeps a small reply buffer between requests, not the
	 * largest snapshot chunk it ever sent. */
	if (w->job.reply.cap > ROVE_SERVE_KEEP_BUF)
		rove_buf_free(&w->job.reply);
	else
		rove_buf_reset(&w->job.reply);
	w->state = W_SEND;
	nng_aio_set_msg(w->aio, msg);
	nng_ctx_send(w->ctx, w->aio);
}

static void enqueue(server *s, work *w)
{
	pthread_mutex_lock(&s->mu);
	w->next = NULL;
	if (s->tail != NULL)
		s->tail->next = w;
	else
		s->head = w;
	s->tail = w;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* The address the request came from: IPv4 or IPv6 over TCP (and TLS);
 * nothing for local transports, or when nng cannot tell. */
static void peer_of(nng_msg *msg, rove_peer *peer)
{
	nng_sockaddr sa;

	memset(peer, 0, sizeof(*peer));
	if (nng_pipe_get_addr(nng_msg_get_pipe(msg), NNG_OPT_REMADDR, &sa) != 0)
		return;
	if (sa.s_family == NNG_AF_INET) {
		peer->len = 4;
		memcpy(peer->b, &sa.s_in.sa_addr, 4);
	} else if (sa.s_family == NNG_AF_INET6) {
		peer->len = 16;
		memcpy(peer->b, sa.s_in6.sa_addr, 16);
	}
}

static void handle(work *w)
{
	rove_job *job = &w->job;
	int rc = rove_msg_decode(nng_msg_body(w->req), nng_msg_len(w->req), &job->msg);

	peer_of(w->req, &job->peer);
	if (rc != ROVE_OK) {
		rove_engine_error(&job->reply, rc,
				  rc == ROVE_EVERSION ? "unsupported protocol version" : "malformed request");
	} else if (job->msg.type != ROVE_MSG_PUSH && job->msg.type != ROVE_MSG_PULL &&
		   job->msg.type != ROVE_MSG_ADMIN && job->msg.type != ROVE_MSG_CONFLICTS) {
		rove_engine_error(&job->reply, ROVE_EPROTO, "not a request");
	} else if (rove_engine_is_write(&job->msg)) {
		w->state = W_WAIT;
		enqueue(w->srv, w);
		return;
	} else {
		rove_engine_read(w->srv->e, job);
	}
	work_send(w);
}

static void work_cb(void *arg)
{
	work *w = arg;
	int rv = nng_aio_result(w->aio);

	switch (w->state) {
	case W_RECV:
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
			return; /* stopping */
		if (rv != 0) {
			nng_ctx_recv(w->ctx, w->aio);
			return;
		}
		w->req = nng_aio_get_msg(w->aio);
		handle(w);
		break;
	case W_SEND:
		if (rv != 0) {
			nng_msg_free(nng_aio_get_msg(w->aio));
			if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
				return;
		}
		w->state = W_RECV;
		nng_ctx_recv(w->ctx, w->aio);
		break;
	case W_WAIT:
		break;
	}
}

static void *writer_main(void *arg)
{
	server *s = arg;
	rove_job *jobs[ROVE_SERVE_MAX_BATCH];
	work *ws[ROVE_SERVE_MAX_BATCH];

	uint64_t next_tick = s->tick_ms ? rove_wall_ms() : UINT64_MAX;

	for (;;) {
		size_t n = 0;

		pthread_mutex_lock(&s->mu);
		while (s->head == NULL && !s->stopping && rove_wall_ms() < next_tick) {
			struct timespec until;
			uint64_t at = next_tick == UINT64_MAX ? rove_wall_ms() + 3600000 : next_tick;
			until.tv_sec = (time_t)(at / 1000);
			until.tv_nsec = (long)(at % 1000) * 1000000;
			pthread_cond_timedwait(&s->cv, &s->mu, &until);
		}
		if (s->head == NULL && s->stopping) {
			pthread_mutex_unlock(&s->mu);
			return NULL;
		}
		if (s->head == NULL) {
			/* Time for the periodic rules. */
			pthread_mutex_unlock(&s->mu);
			if (rove_engine_tick(s->e) != ROVE_OK)
				rove_warn("periodic rules failed; retrying at the next tick");
			next_tick = rove_wall_ms() + s->tick_ms;
			continue;
		}
		for (uint32_t ops = 0; s->head != NULL && n < ROVE_SERVE_MAX_BATCH && ops < ROVE_SERVE_BATCH_OPS;) {
			work *w = s->head;
			if (w->job.msg.type == ROVE_MSG_PUSH)
				ops += w->job.msg.u.push.n;
			s->head = w->next;
			if (s->head == NULL)
				s->tail = NULL;
			ws[n] = w;
			jobs[n] = &w->job;
			n++;
		}
		pthread_mutex_unlock(&s->mu);
		rove_engine_write(s->e, jobs, n);
		for (size_t i = 0; i < n; i++)
			work_send(ws[i]);
	}
}

int rove_serve(rove_engine *e, const rove_serve_opts *opts)
{
	const char *url = opts->url;
	uint64_t tick_ms = opts->tick_ms;
	server s;
	sigset_t sigs;
	int sig = 0, rv, rc = ROVE_OK;
	int writer_started = 0;

	memset(&s, 0, sizeof(s));
	s.e = e;
	s.tick_ms = tick_ms;
	pthread_mutex_init(&s.mu, NULL);
	pthread_cond_init(&s.cv, NULL);

	/* Block the stop signals in every thread (nng's inherit this mask);
	 * the main thread waits for them with sigwait. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((rv = nng_rep0_open(&s.sock)) != 0) {
		rove_error("cannot open socket: %s", nng_strerror(rv));
		return ROVE_EIO;
	}
	nng_socket_set_size(s.sock, NNG_OPT_RECVMAXSZ, ROVE_MAX_MSG_BYTES + 1024);
	s.works = calloc(ROVE_SERVE_CONTEXTS, sizeof(work));
	if (s.works == NULL) {
		nng_close(s.sock);
		return ROVE_ENOMEM;
	}
	for (int i = 0; i < ROVE_SERVE_CONTEXTS && rc == ROVE_OK; i++) {
		work *w = &s.works[i];
		w->srv = &s;
		rove_buf_init(&w->job.reply);
		if (nng_aio_alloc(&w->aio, work_cb, w) != 0 || nng_ctx_open(&w->ctx, s.sock) != 0)
			rc = ROVE_ENOMEM;
	}
	if (rc == ROVE_OK && pthread_create(&s.writer, NULL, writer_main, &s) == 0)
		writer_started = 1;
	else if (rc == ROVE_OK)
		rc = ROVE_ENOMEM;
	if (rc == ROVE_OK)
		rc = rove_net_listen(s.sock, url, opts->tls_cert, opts->tls_key, NULL);
	if (rc == ROVE_OK) {
		for (int i = 0; i < ROVE_SERVE_CONTEXTS; i++) {
			s.works[i].state = W_RECV;
			nng_ctx_recv(s.works[i].ctx, s.works[i].aio);
		}
		rove_info("serving on %s", url);
		sigwait(&sigs, &sig);
		rove_info("stopping on signal %d", sig);
	}

	/* Stop: no more requests, let the writer finish what it holds. */
	for (int i = 0; i < ROVE_SERVE_CONTEXTS; i++)
		if (s.works[i].aio != NULL)
			nng_aio_stop(s.works[i].aio);
	if (writer_started) {
		pthread_mutex_lock(&s.mu);
		s.stopping = 1;
		pthread_cond_signal(&s.cv);
		pthread_mutex_unlock(&s.mu);
		pthread_join(s.writer, NULL);
	}
	nng_close(s.sock);
	for (int i = 0; i < ROVE_SERVE_CONTEXTS; i++) {
		work *w = &s.works[i];
		if (w->aio != NULL)
			nng_aio_free(w->aio);
		if (w->req != NULL)
			nng_msg_free(w->req);
		rove_buf_free(&w->job.reply);
	}
	free(s.works);
	pthread_mutex_destroy(&s.mu);
	pthread_cond_destroy(&s.cv);
	return rc;
}
