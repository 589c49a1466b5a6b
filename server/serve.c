#include "serve.h"
#include "rove_assert.h"

#include "cut.h"
#include "err.h"
#include "gate.h"
#include "log.h"
#include "metrics.h"
#include "net.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/tls/tls.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#ifdef __GLIBC__
#include <malloc.h> /* malloc_trim */
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum work_state { W_RECV, W_WAIT, W_SEND };

struct server;

typedef struct work {
	enum work_state state;
	nng_aio *aio;
	nng_ctx ctx;
	nng_msg *req;     /* the request; job.msg points into it */
	uint32_t pipe;    /* its connection, while the gate counts it (else 0) */
	uint64_t t0_ns;   /* when the request arrived (mono_ns) */
	int type;         /* its type, for the metrics (0: no request) */
	uint64_t sent_len; /* the reply being sent: its bytes, counted by the gate */
	rove_job job;
	struct server *srv;
	struct work *next; /* writer queue */
} work;

/* What was refused or cut since the guard last said so (logged once a
 * period at most, so that an attack cannot flood the log). */
typedef struct serve_counts {
	atomic_uint refused; /* connections over a cap */
	atomic_uint piled;   /* requests dropped: too many in flight */
	atomic_uint unread;  /* replies dropped: their client does not read */
	atomic_uint cut;     /* connections cut (not reading, or no progress) */
	atomic_uint evicted; /* unauthenticated connections cut for newcomers */
	atomic_uint over_user; /* a user's connections cut past ROVE_MAX_USER_PIPES */
} serve_counts;

typedef struct server {
	rove_engine *e;
	const rove_serve_opts *opts;
	nng_socket sock;
	nng_listener listener;
	bool listening;    /* the guard's: listener is open */
	bool out_of_fds;   /* the guard's: it said the descriptors ran out */
	uint64_t flood_at; /* the guard's: when it last saw a flood (mono ms; check_spin) */
	uint64_t fds_seen; /* the guard's: descriptors open at its last count (0: none yet) */
	work *works;
	rove_gate *gate;
	uint32_t max_pipes;
	uint32_t idle_ms, linger_ms; /* knob_ms: ROVE_MAX_IDLE_MS, ROVE_MAX_CUT_LINGER_MS */
	atomic_ullong pipes_seen; /* connections the listener handed over */
	serve_counts counts;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	work *head, *tail; /* queued writes */
	int stopping;
	pthread_t writer;
	uint64_t tick_ms;
	pthread_t guard;
	pthread_mutex_t gmu;
	pthread_cond_t gcv;
	bool gstop;
	bool gwake;        /* a connection is to be cut before the period ends */
	uint32_t relistens, max_relistens; /* the guard's: listened anew, and how often before a restart */
	uint64_t short_since;  /* the guard's: descriptors short since (mono ms, 0: they are not) */
	uint32_t max_short_ms; /* and for how long before a restart (ROVE_FDS_SHORT_MS, at most ROVE_MAX_FDS_SHORT_MS) */
	uint64_t min_free;     /* descriptors kept spare (ROVE_MIN_FREE_FDS, or less under a tiny limit) */
	/* While the guard dials its listener (probing), the address its
	 * connection comes from: not counted in the metrics' connections. */
	atomic_bool probing;
	pthread_mutex_t probe_mu; /* guards probe_peer: the guard writes it, nng's callbacks read it */
	rove_peer probe_peer;
	atomic_bool restart; /* the guard asked for roved to start anew in place */
	atomic_bool nng_hung; /* ... because nng stopped releasing connections: its
			       * close cannot end, nor the connections cut long ago */
	rove_cut_fds fds; /* the cuts' listing of descriptors (the guard's, then the stop's) */
	pid_t poll_tid;      /* the guard's: nng's poll thread (0: not found yet, -1: none) */
	atomic_ullong written_at; /* when nng's statistics were last read for what it wrote (mono ms) */
	uint64_t queued_peak; /* the guard's: the most replies queued since it last trimmed */
	uint64_t probed_at; /* the guard's: when it last sampled what peers took (sample_acked) */
	unsigned trims_left;  /* the guard's: periods it still gives memory back in (trim_memory) */
	uint64_t poll_ms, poll_at, poll_waits, poll_pipes; /* its CPU ms, when read (mono ms), its waits, pipes_seen */
} server;

/* Milliseconds of a clock that never goes back. */
static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Nanoseconds of the same clock, for the requests' latency. */
static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A bound a test may lower through the environment (docs/ENVIRONMENT.md:
 * to make the guard's slow cases quick): $name if it is
 * ROVE_MIN_TEST_KNOB_MS to max, else max (said when it is set). */
static uint32_t knob(const char *name, uint32_t min, uint32_t max, const char *unit)
{
	const char *env = getenv(name);
	char *end = NULL;
	long v = env != NULL ? strtol(env, &end, 10) : 0;

	if (env == NULL)
		return max;
	if (end == env || *end != '\0' || v < (long)min || v > (long)max) {
		rove_warn("%s ignored: a test's setting of %u to %u%s", name, min, max, unit);
		return max;
	}
	rove_warn("%s=%ld: a test's setting, not for production", name, v);
	return (uint32_t)v;
}

static uint32_t knob_ms(const char *name, uint32_t max)
{
	return knob(name, ROVE_MIN_TEST_KNOB_MS, max, " ms");
}

/* Wakes the guard early: a connection is to be cut. */
static void wake_guard(struct server *s)
{
	pthread_mutex_lock(&s->gmu);
	s->gwake = true;
	pthread_cond_signal(&s->gcv);
	pthread_mutex_unlock(&s->gmu);
}

/* The context waits for the next request (no timeout: a context waiting
 * is idle capacity, not something a client holds). */
static void work_recv(work *w)
{
	w->state = W_RECV;
	nng_aio_set_timeout(w->aio, NNG_DURATION_INFINITE);
	nng_ctx_recv(w->ctx, w->aio);
}

/* The request the gate counted for w is over (answered or dropped). */
static void work_done(work *w)
{
	if (w->pipe != 0)
		rove_gate_done(w->srv->gate, w->pipe, mono_ms());
	w->pipe = 0;
}

static void work_send(work *w)
{
	nng_msg *msg = NULL;

	if (w->req != NULL) {
		nng_msg_free(w->req);
		w->req = NULL;
	}
	rove_metrics_request(w->type, mono_ns() - w->t0_ns);
	if (w->job.authed && w->pipe != 0 && rove_gate_authed(w->srv->gate, w->pipe, w->job.user))
		atomic_fetch_add(&w->srv->counts.over_user, 1); /* said by the guard */
	if (nng_msg_alloc(&msg, 0) != 0 ||
	    nng_msg_append(msg, w->job.reply.data, w->job.reply.len) != 0) {
		rove_error("out of memory for a reply");
		if (msg != NULL)
			nng_msg_free(msg);
		work_done(w);
		work_recv(w);
		return;
	}
	/* A context keeps a small reply buffer between requests, not the
	 * largest snapshot chunk it ever sent. */
	if (w->job.reply.cap > ROVE_MAX_KEPT_REPLY_BUF)
		rove_buf_free(&w->job.reply);
	else
		rove_buf_reset(&w->job.reply);
	w->state = W_SEND;
	w->sent_len = nng_msg_len(msg);
	if (w->pipe != 0) {
		uint64_t now = mono_ms();
		rove_gate_sent(w->srv->gate, w->pipe, w->sent_len, now);
		/* past the cap: the guard learns soon what nng wrote */
		if ((rove_gate_over(w->srv->gate) || rove_gate_any_user_over(w->srv->gate)) &&
		    now >= atomic_load(&w->srv->written_at) + ROVE_WRITTEN_POLL_MS)
			wake_guard(w->srv);
	}
	nng_aio_set_msg(w->aio, msg);
	nng_aio_set_timeout(w->aio, ROVE_MAX_SEND_WAIT_MS);
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

/* The address a connection comes from: IPv4 or IPv6 over TCP (and TLS);
 * nothing for local transports, or when nng cannot tell. */
static void peer_of(nng_pipe pipe, rove_peer *peer)
{
	nng_sockaddr sa;

	memset(peer, 0, sizeof(*peer));
	if (nng_pipe_get_addr(pipe, NNG_OPT_REMADDR, &sa) != 0)
		return;
	if (sa.s_family == NNG_AF_INET) {
		peer->len = 4;
		memcpy(peer->b, &sa.s_in.sa_addr, 4);
	} else if (sa.s_family == NNG_AF_INET6) {
		peer->len = 16;
		memcpy(peer->b, sa.s_in6.sa_addr, 16);
	}
}

/* Whether user's replies are lean: its share of the replies queued is
 * used up (gate.h). */
static bool user_lean(void *arg, uint64_t user)
{
	server *s = arg;

	return rove_gate_user_over(s->gate, user);
}

/* A request arrived: writes wait for the writer, reads are answered
 * here, anything else is answered with the error rove_engine_accept
 * wrote. */
static void handle(work *w)
{
	rove_job *job = &w->job;
	const rove_request *rq = rove_engine_accept(job, nng_msg_body(w->req), nng_msg_len(w->req));

	job->authed = false;
	job->lean = rove_gate_over(w->srv->gate);
	job->lean_for = user_lean;
	job->lean_arg = w->srv;
	w->type = rq != NULL ? job->msg.type : 0;
	peer_of(nng_msg_get_pipe(w->req), &job->peer);
	if (rq != NULL && rq->write) {
		w->state = W_WAIT;
		enqueue(w->srv, w);
		return;
	}
	if (rq != NULL)
		rove_engine_read(w->srv->e, job);
	work_send(w);
}

static void work_cb(void *arg)
{
	work *w = arg;
	int rv = nng_aio_result(w->aio);

	switch (w->state) {
	case W_RECV: {
		uint32_t pipe;
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
			return; /* stopping */
		if (rv != 0) {
			work_recv(w);
			return;
		}
		w->req = nng_aio_get_msg(w->aio);
		w->t0_ns = mono_ns();
		pipe = (uint32_t)nng_pipe_id(nng_msg_get_pipe(w->req));
		rv = rove_gate_request(w->srv->gate, pipe, mono_ms());
		if (rv != ROVE_OK) {
			/* Its connection is gone or being cut, or has piled up
			 * more requests than any client of ours would: dropped
			 * unanswered, so that it holds no context. */
			nng_msg_free(w->req);
			w->req = NULL;
			if (rv == ROVE_ETOOBIG)
				atomic_fetch_add(&w->srv->counts.piled, 1);
			work_recv(w);
			return;
		}
		w->pipe = pipe;
		handle(w);
		break;
	}
	case W_SEND:
		if (rv != 0) {
			nng_msg_free(nng_aio_get_msg(w->aio));
			nng_aio_set_msg(w->aio, NULL);
			if (w->pipe != 0)
				rove_gate_unsent(w->srv->gate, w->pipe, w->sent_len);
			if (rv == NNG_ETIMEDOUT) {
				/* Its client does not read: the reply is dropped
				 * and the guard cuts the connection. */
				atomic_fetch_add(&w->srv->counts.unread, 1);
				rove_gate_doom(w->srv->gate, w->pipe);
				wake_guard(w->srv);
			}
		}
		work_done(w);
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
			return;
		work_recv(w);
		break;
	case W_WAIT:
		break;
	default:
		ROVE_ASSERT(!"a context in no state");
	}
}

static void *writer_main(void *arg)
{
	server *s = arg;
	rove_job *jobs[ROVE_MAX_BATCH_REQUESTS];
	work *ws[ROVE_MAX_BATCH_REQUESTS];

	uint64_t next_tick = s->tick_ms ? rove_wall_ms() : UINT64_MAX;
	/* The users' syncs noted by reads are stored at the next write, or
	 * when this comes first. */
	uint64_t next_flush = rove_wall_ms() + ROVE_SYNC_NOTE_MS;

	for (;;) {
		size_t n = 0;
		uint32_t ops = 0;

		pthread_mutex_lock(&s->mu);
		while (s->head == NULL && !s->stopping && rove_wall_ms() < next_tick && rove_wall_ms() < next_flush) {
			struct timespec until;
			uint64_t at = next_tick < next_flush ? next_tick : next_flush;
			until.tv_sec = (time_t)(at / 1000);
			until.tv_nsec = (long)(at % 1000) * 1000000;
			pthread_cond_timedwait(&s->cv, &s->mu, &until);
		}
		if (s->head == NULL && s->stopping) {
			pthread_mutex_unlock(&s->mu);
			return NULL;
		}
		if (s->head == NULL && rove_wall_ms() >= next_flush) {
			pthread_mutex_unlock(&s->mu);
			if (rove_engine_flush(s->e) != ROVE_OK)
				rove_warn("cannot store the users' last syncs; retrying in %u s", ROVE_SYNC_NOTE_MS / 1000);
			next_flush = rove_wall_ms() + ROVE_SYNC_NOTE_MS;
			continue;
		}
		if (s->head == NULL) {
			/* Time for the periodic rules. */
			pthread_mutex_unlock(&s->mu);
			if (rove_engine_tick(s->e) != ROVE_OK)
				rove_warn("periodic rules failed; retrying at the next tick");
			next_tick = rove_wall_ms() + s->tick_ms;
			continue;
		}
		for (; s->head != NULL && n < ROVE_MAX_BATCH_REQUESTS && ops < ROVE_MAX_BATCH_OPS;) {
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
		rove_metrics_commit((uint32_t)n, ops);
		for (size_t i = 0; i < n; i++)
			work_send(ws[i]);
	}
}

/* Whether peer is the address the guard's check of its listener comes
 * from (a client on the same host may share it: then one connection of
 * theirs goes uncounted while the check runs). */
static bool is_probe(server *s, const rove_peer *peer)
{
	bool same;

	pthread_mutex_lock(&s->probe_mu);
	same = peer->len == s->probe_peer.len && memcmp(peer->b, s->probe_peer.b, peer->len) == 0;
	pthread_mutex_unlock(&s->probe_mu);
	return same;
}

/* nng's pipe notifications: the gate counts every connection the
 * listener hands over and refuses those over its caps. */
static void pipe_cb(nng_pipe pipe, nng_pipe_ev ev, void *arg)
{
	server *s = arg;
	uint32_t id = (uint32_t)nng_pipe_id(pipe);
	rove_peer peer;

	if (ev == NNG_PIPE_EV_ADD_PRE) {
		uint32_t evicted = 0;
		atomic_fetch_add(&s->pipes_seen, 1);
		peer_of(pipe, &peer);
		if (rove_gate_open(s->gate, id, &peer, mono_ms(), &evicted) != ROVE_OK) {
			atomic_fetch_add(&s->counts.refused, 1);
			rove_metrics_connection(true);
			nng_pipe_close(pipe);
			return;
		}
		/* The guard's own check is not a client's connection. */
		if (!(atomic_load(&s->probing) && is_probe(s, &peer) && atomic_exchange(&s->probing, false)))
			rove_metrics_connection(false);
		if (evicted != 0) {
			/* The cap is reached: an unauthenticated connection
			 * makes room, cut by the guard. */
			atomic_fetch_add(&s->counts.evicted, 1);
			wake_guard(s);
		}
	} else if (ev == NNG_PIPE_EV_REM_POST) {
		rove_gate_close(s->gate, id);
	}
}

/* What was refused or cut since the last call, said in one line (at
 * most once a guard period). */
static void report_counts(server *s)
{
	unsigned refused = atomic_exchange(&s->counts.refused, 0);
	unsigned piled = atomic_exchange(&s->counts.piled, 0);
	unsigned unread = atomic_exchange(&s->counts.unread, 0);
	unsigned cut = atomic_exchange(&s->counts.cut, 0);
	unsigned evicted = atomic_exchange(&s->counts.evicted, 0);
	unsigned over_user = atomic_exchange(&s->counts.over_user, 0);

	if (refused + piled + unread > 0)
		rove_warn("refused %u connection(s) over the caps on connections; dropped %u request(s) "
			  "over the caps on requests in flight and %u repl(ies) not read",
			  refused, piled, unread);
	if (evicted > 0)
		rove_warn("all %u connections in use: cut %u that never logged in to make room for newcomers",
			  s->max_pipes, evicted);
	if (over_user > 0)
		rove_warn("cut %u connection(s) of users holding too many at once (%u, or a quarter of the "
			  "connections: their least recently used)",
			  over_user, ROVE_MAX_USER_PIPES);
	if (cut > 0)
		rove_info("cut %u connection(s) not reading, idle for %u s or making room", cut,
			  s->idle_ms / 1000);
}

static void restart_in_place(server *s);

/* What the peers of connections idle after a reply, or whose replies
 * wait past the cap, have taken of them (gate.h, rove_gate_to_probe): a
 * reply crossing a slow link is progress. One walk of the descriptors
 * for all of them, at most every ROVE_PROBE_PERIOD_MS. */
static void sample_acked(server *s, uint32_t *ids, uint64_t *acked, uint64_t now)
{
	size_t n;

	if (now < s->probed_at + ROVE_PROBE_PERIOD_MS)
		return;
	s->probed_at = now;
	n = rove_gate_to_probe(s->gate, now, ids, s->max_pipes + ROVE_MAX_EVICTING);
	rove_cut_acked(&s->fds, ids, n, acked);
	for (size_t i = 0; i < n; i++)
		rove_gate_acked(s->gate, ids[i], acked[i], now);
}

/* Cuts the connections the gate says to (not reading, or no progress).
 * If connections cut long ago are still open, nng no longer releases
 * any (its reaper hung, ROVE_MAX_CUT_LINGER_MS): every connection from
 * then on would keep its descriptor until none are left. Nothing
 * committed is at risk (a request in the middle of its commit is as
 * after a kill: its client sends it again), so roved starts anew in
 * place: it stops serving, and execs itself once the socket is closed
 * or its close gave up (close_or_leave), which frees every descriptor.
 * It exited with status 1 for a service manager to start it anew, and
 * without one the server was gone - after a single unauthenticated
 * connection's few pipelined requests, closed unread (attack
 * seventy-four). */
static void cut_pipes(server *s, uint32_t *ids, uint64_t *acked)
{
	uint64_t now = mono_ms();
	size_t n, stuck;

	if (atomic_load(&s->restart))
		return; /* stopping, to start anew */
	sample_acked(s, ids, acked, now);
	n = rove_gate_to_cut(s->gate, now, ids, s->max_pipes + ROVE_MAX_EVICTING);

	if (n > 0)
		atomic_fetch_add(&s->counts.cut, (unsigned)rove_cut(&s->fds, ids, n));
	/* Over TLS a cut can miss: nng 1.5.2's TLS layer reads the socket
	 * ahead of nng, and a peer's end of stream met there (a client that
	 * closes without TLS's goodbye: killed, or one that only checked the
	 * certificate) closes the socket and fails no read; the connection's
	 * next read then waits for ever, out of the shutdown's reach (hunt
	 * after attack forty-six: roved exited 90 s after 3-7 % of a wrong
	 * host name's syncs). No read of the socket is in flight then, so
	 * nng's own close is safe (cut.h's hazard is a read completing as it
	 * closes): a third of the linger after the cut, it closes what is
	 * still open; its TLS close fails the waiting read. */
	if (rove_net_is_tls(s->opts->url)) {
		n = rove_gate_to_close(s->gate, now, s->linger_ms / 3, ids, s->max_pipes + ROVE_MAX_EVICTING);
		for (size_t i = 0; i < n; i++) {
			nng_pipe p = NNG_PIPE_INITIALIZER;
			p.id = ids[i];
			(void)nng_pipe_close(p); /* NNG_ENOENT: gone meanwhile */
		}
		if (n > 0)
			rove_info("closed %zu TLS connection(s) still open %u s after their cut", n,
				  (unsigned)(s->linger_ms / 3000));
	}
	stuck = rove_gate_lingering(s->gate, now, s->linger_ms);
	if (stuck > 0) {
		rove_error("%zu connection(s) cut over %u s ago are still open: nng (1.5.2) has stopped releasing "
			   "connections, and no descriptor would be freed again: starting roved anew in place "
			   "(SECURITY.md)",
			   stuck, s->linger_ms / 1000);
		atomic_store(&s->nng_hung, true);
		restart_in_place(s);
	}
}

/* A URL that reaches the listener from this machine, into url; false if
 * there is none (an abstract socket, an unknown family). */
static bool self_url(server *s, char *url, size_t len, rove_peer *peer)
{
	const char *scheme = rove_net_is_tls(s->opts->url) ? "tls+tcp" : "tcp";
	char host[INET6_ADDRSTRLEN];
	nng_sockaddr sa;

	memset(peer, 0, sizeof(*peer));
	if (nng_listener_get_addr(s->listener, NNG_OPT_LOCADDR, &sa) != 0)
		return false;
	if (sa.s_family == NNG_AF_IPC)
		return snprintf(url, len, "ipc://%s", sa.s_ipc.sa_path) < (int)len;
	if (sa.s_family == NNG_AF_INET) {
		struct in_addr a = {sa.s_in.sa_addr};
		if (a.s_addr == htonl(INADDR_ANY))
			a.s_addr = htonl(INADDR_LOOPBACK);
		peer->len = 4;
		memcpy(peer->b, &a.s_addr, 4);
		inet_ntop(AF_INET, &a, host, sizeof(host));
		return snprintf(url, len, "%s://%s:%u", scheme, host, ntohs(sa.s_in.sa_port)) < (int)len;
	}
	if (sa.s_family == NNG_AF_INET6) {
		struct in6_addr a;
		memcpy(&a, sa.s_in6.sa_addr, sizeof(a));
		if (IN6_IS_ADDR_UNSPECIFIED(&a))
			a = in6addr_loopback;
		peer->len = 16;
		memcpy(peer->b, a.s6_addr, 16);
		inet_ntop(AF_INET6, &a, host, sizeof(host));
		return snprintf(url, len, "%s://[%s]:%u", scheme, host, ntohs(sa.s_in6.sa_port)) < (int)len;
	}
	return false;
}

/* The milliseconds left until the monotonic time until (at least 1). */
static int left_ms(uint64_t until)
{
	uint64_t now = mono_ms();

	return until > now ? (int)(until - now) : 1;
}

/* Whether the process is (nearly) out of file descriptors: then nng's
 * accept fails and backs off until some close (its loop goes on), and
 * the guard's own dial cannot arrive either, so that is no sign of a
 * stopped accept loop. false if it cannot tell (no /proc). */
static bool fds_short(uint64_t min_free, uint64_t *open_fds, uint64_t *limit)
{
	struct rlimit rl;
	DIR *dir;

	*open_fds = 0;
	*limit = 0;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return false;
	*limit = (uint64_t)rl.rlim_cur;
	if ((dir = opendir("/proc/self/fd")) == NULL) {
		if (errno != EMFILE && errno != ENFILE)
			return false;
		*open_fds = *limit; /* every one in use */
		return true;
	}
	while (readdir(dir) != NULL)
		(*open_fds)++;
	closedir(dir);
	*open_fds = *open_fds > 3 ? *open_fds - 3 : 0; /* ".", "..", the listing's own */
	return *open_fds + min_free > *limit;
}

/* Whether the descriptors are short now (fds_short), saying so when that
 * changes: the guard's check of its listener then waits, as new
 * connections do, until some close. */
static bool out_of_fds(server *s)
{
	uint64_t open_fds = 0, limit = 0;

	bool short_now = fds_short(s->min_free, &open_fds, &limit);

	/* Connections pile up, or come and go by the many: no spin
	 * (check_spin). */
	if (short_now || open_fds > limit / 4 ||
	    (s->fds_seen != 0 && open_fds != 0 &&
	     (open_fds > s->fds_seen + ROVE_SPIN_FDS_SLACK || open_fds + ROVE_SPIN_FDS_SLACK < s->fds_seen)))
		s->flood_at = mono_ms();
	s->fds_seen = open_fds;
	if (short_now) {
		if (!s->out_of_fds)
			rove_warn("out of file descriptors (%llu open, the limit is %llu): new connections "
				  "wait until some close",
				  (unsigned long long)open_fds, (unsigned long long)limit);
		s->out_of_fds = true;
		return true;
	}
	if (s->out_of_fds)
		rove_info("file descriptors to spare again (%llu open)", (unsigned long long)open_fds);
	s->out_of_fds = false;
	return false;
}

/* Over TLS: connections whose handshake did not end within
 * ROVE_MAX_TLS_SETUP_MS are shut down (nng 1.5.2 waits for ever on one;
 * attack seventy-four held 500 that sent part of a ClientHello, and at
 * the descriptor limit every sync failed). ids: room for the pipes. */
static void cut_setups(server *s, uint32_t *ids)
{
	nng_sockaddr lis;
	size_t n, cut;

	if (!rove_net_is_tls(s->opts->url) || !s->listening ||
	    nng_listener_get_addr(s->listener, NNG_OPT_LOCADDR, &lis) != 0)
		return;
	n = rove_gate_all(s->gate, ids, s->max_pipes + ROVE_MAX_EVICTING);
	cut = rove_cut_setups(&s->fds, &lis, ids, n, mono_ms(), ROVE_MAX_TLS_SETUP_MS);
	if (cut > 0)
		rove_warn("closed %zu connection(s) not set up within %u s (their TLS handshake and SP header)", cut,
			  ROVE_MAX_TLS_SETUP_MS / 1000);
}

/* The CPU time nng's poll thread has used, in ms, and how many times it
 * waited (its voluntary context switches: epoll_wait with nothing to
 * report blocks): false when it cannot be read (not found, or another
 * nng that names its threads otherwise: the spin check is off then). */
static bool poll_thread_usage(server *s, uint64_t *ms, uint64_t *waits)
{
	char path[64], buf[512], *p;
	unsigned long long ut, st, vol;
	bool got = false;
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f;

	if (s->poll_tid == 0) {
		DIR *d = opendir("/proc/self/task");
		struct dirent *de;
		s->poll_tid = -1;
		while (d != NULL && (de = readdir(d)) != NULL) {
			snprintf(path, sizeof(path), "/proc/self/task/%.16s/comm", de->d_name);
			if ((f = fopen(path, "r")) == NULL)
				continue;
			if (fgets(buf, sizeof(buf), f) != NULL && strncmp(buf, "nng:poll", 8) == 0)
				s->poll_tid = (pid_t)atol(de->d_name);
			fclose(f);
		}
		if (d != NULL)
			closedir(d);
	}
	if (s->poll_tid <= 0 || hz <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)s->poll_tid);
	if ((f = fopen(path, "r")) == NULL)
		return false;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	/* after "(comm) ": state, then 10 fields, then utime and stime */
	if (p == NULL || (p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu %llu", &ut, &st) != 2)
		return false;
	*ms = (ut + st) * 1000u / (unsigned long long)hz;
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)s->poll_tid);
	if ((f = fopen(path, "r")) == NULL)
		return false;
	while (!got && fgets(buf, sizeof(buf), f) != NULL)
		got = sscanf(buf, "voluntary_ctxt_switches: %llu", &vol) == 1;
	fclose(f);
	*waits = got ? vol : 0;
	return got;
}

/* Once roved listened anew, the listener it closed keeps (nng 1.5.2)
 * the connections it never handed over, and nng's poll thread can spin
 * on one whose client is gone (EPOLLHUP, reported again at once, without
 * end): a core whole, until a later listen anew happens to end it, or
 * for good (found 2026-12-05: 49 s of CPU in 128 s of t_ipc_stall). A
 * stopped accept loop's connections do it too, before any listen anew.
 * roved cannot close what nng keeps; starting anew in place frees it
 * all. The spin is told by the thread being busy half the time since
 * the last look (at least half a second), hardly ever waiting for an
 * event (`ROVE_MAX_POLL_SPIN_WAITS`) and with no connection handed over
 * meanwhile: a flood of connections that close at once keeps it as
 * busy, but it waits between them and hands connections over (attack
 * sixty: taken for the spin, its restarts cut everyone and freed
 * nothing). On a machine short of CPU a flooded thread hardly waits
 * either, so no spin is taken within ROVE_SPIN_AFTER_FLOOD_MS of the
 * guard seeing a flood (flood_at: descriptors short, a quarter of them
 * open, or their count moving by the many between two counts, in
 * out_of_fds, which counts at each look; its probe refused for a full
 * backlog): a spin is on one stray connection. Taken so once roved listened anew, or while no client's
 * connection is open (nothing for that thread to do): a crowd right
 * after a listen anew costs its clients a reconnect. Returns whether it
 * asked for the restart. */
static bool check_spin(server *s)
{
	uint64_t now = mono_ms(), ms, waits, was = s->poll_ms, at = s->poll_at, waited = s->poll_waits;
	uint64_t pipes = atomic_load(&s->pipes_seen), pipes_then = s->poll_pipes;
	uint32_t all = 0, local = 0;
	rove_peer none;

	if (atomic_load(&s->restart) || !poll_thread_usage(s, &ms, &waits))
		return false;
	if (at != 0 && now - at < ROVE_GUARD_PERIOD_MS / 2)
		return false;
	(void)out_of_fds(s); /* a count at each look (its answer is in flood_at) */
	s->poll_ms = ms;
	s->poll_at = now;
	s->poll_waits = waits;
	s->poll_pipes = pipes;
	if (at == 0 || ms - was < (now - at) * ROVE_MAX_POLL_BUSY_PCT / 100u ||
	    (waits - waited) * 1000u > (now - at) * ROVE_MAX_POLL_SPIN_WAITS || pipes != pipes_then)
		return false;
	/* (flood_at may be after now: out_of_fds above sets it at this
	 * look; now - flood_at then wrapped and a flood passed for a spin,
	 * CI 2026-12-05 twice) */
	if (s->flood_at != 0 && s->flood_at + ROVE_SPIN_AFTER_FLOOD_MS > now)
		return false;
	memset(&none, 0, sizeof(none));
	rove_gate_count(s->gate, &none, &all, &local);
	if (s->relistens == 0 && all > 0)
		return false;
	rove_warn("nng's poll thread was busy %llu ms of the last %llu ms, waiting %llu times, with %s (nng "
		  "1.5.2 polls a connection it never handed over, without end): starting roved anew in place, "
		  "to free it",
		  (unsigned long long)(ms - was), (unsigned long long)(now - at), (unsigned long long)(waits - waited),
		  all > 0 ? "the listener closed and opened anew" : "no connection open");
	restart_in_place(s);
	return true;
}

/* What the guard's check of its listener found. */
typedef enum { LISTENER_ACCEPTS, LISTENER_STOPPED, LISTENER_FDS_SHORT } listener_state;

/* Whether the listener still hands over connections: the guard connects
 * to it and waits for a connection (its own, or anyone's) to arrive.
 * The probe is a bare stream that sends the SP header of a REQ socket
 * itself, not an nng socket: nng 1.5.2 never frees a socket's connection
 * that is still in its handshake when the socket closes, and a listener
 * that stopped accepting never finishes that handshake. A stream's
 * every part is ours to stop and free. If the descriptors run out while
 * it waits, its connection waits in the kernel's queue behind others
 * until some close: that tells nothing (LISTENER_FDS_SHORT). */
static listener_state listener_accepts(server *s)
{
	/* 0, "SP", 0, the protocol (REQ v0: 0x30) big-endian, 0, 0 */
	static uint8_t sp_header[8] = {0, 'S', 'P', 0, 0x00, 0x30, 0, 0};
	char url[512];
	uint64_t seen = atomic_load(&s->pipes_seen), until = mono_ms() + ROVE_MAX_SELFCHECK_WAIT_MS;
	bool arrived = false, short_fds = false, ok;
	rove_net_raw raw;
	size_t sent;
	int rv;

	pthread_mutex_lock(&s->probe_mu);
	ok = self_url(s, url, sizeof(url), &s->probe_peer);
	pthread_mutex_unlock(&s->probe_mu);
	if (!ok)
		return LISTENER_ACCEPTS; /* cannot tell */
	atomic_store(&s->probing, true);
	/* Only to see the connection arrive: no certificate to check. */
	rv = rove_net_raw_open(&raw, url, left_ms(until));
	if (rv == 0) {
		rv = rove_net_raw_io(&raw, true, sp_header, sizeof(sp_header), left_ms(until), &sent);
		if (rv == NNG_ETIMEDOUT)
			rv = 0; /* a stopped listener never reads it: the wait below tells */
	}
	for (unsigned i = 0; rv == 0 && !(arrived = atomic_load(&s->pipes_seen) != seen) && mono_ms() < until; i++) {
		struct timespec ts = {0, 10 * 1000000L};
		if (i % 10 == 0 && (short_fds = out_of_fds(s)))
			break;
		if (i % 50 == 49 && check_spin(s))
			break; /* starting anew: nothing more to find out */
		nanosleep(&ts, NULL);
	}
	rove_net_raw_close(&raw);
	atomic_store(&s->probing, false);
	if (atomic_load(&s->restart))
		return LISTENER_ACCEPTS; /* nothing to do before the restart */
	if (short_fds || (!arrived && out_of_fds(s)))
		return LISTENER_FDS_SHORT;
	if (rv == NNG_ECONNREFUSED)
		return LISTENER_STOPPED; /* nothing listens there any more */
	if (rv == NNG_EAGAIN)
		s->flood_at = mono_ms(); /* its backlog full: a flood (check_spin) */
	if (rv != 0 && rv != NNG_ETIMEDOUT) {
		rove_warn("cannot check the listener on %s (%s): %s", s->opts->url, url, nng_strerror(rv));
		return LISTENER_ACCEPTS;
	}
	return arrived ? LISTENER_ACCEPTS : LISTENER_STOPPED;
}

/* Cuts every connection and gives them up to ROVE_MAX_CUT_WAIT_MS to
 * end by themselves, before nng closes what is left: nng 1.5.2 may not
 * survive closing connections that carry data (see cut.h). Their clients
 * reconnect and send again. */
static void cut_all(server *s)
{
	uint32_t *ids = malloc((s->max_pipes + ROVE_MAX_EVICTING) * sizeof(*ids));
	/* nng hung: what it has not released by now it never will */
	uint64_t until = mono_ms() + (atomic_load(&s->nng_hung) ? ROVE_HUNG_STOP_WAIT_MS : ROVE_MAX_CUT_WAIT_MS);
	rove_peer none;
	uint32_t all = 0, local;

	memset(&none, 0, sizeof(none));
	if (ids != NULL)
		rove_cut(&s->fds, ids, rove_gate_all(s->gate, ids, s->max_pipes + ROVE_MAX_EVICTING));
	free(ids);
	for (;;) {
		struct timespec ts = {0, 10 * 1000000L};
		rove_gate_count(s->gate, &none, &all, &local);
		if (all == 0 || mono_ms() >= until)
			break;
		nanosleep(&ts, NULL);
	}
}

/* Lengthens the kernel's queue of connections not yet accepted on the
 * TCP listener (tcp:// and tls+tcp://) to ROVE_LISTEN_BACKLOG: nng 1.5.2
 * listens with 128 and has no option for it, so the listening socket is
 * found among this process's descriptors (listening, bound to the
 * listener's address) and listen() is called on it again, which on Linux
 * only changes the queue's length. Not finding it is no error: the
 * server works with nng's queue, slower for a crowd. */
static void raise_backlog(server *s)
{
	nng_sockaddr sa;
	struct rlimit rl;
	int found = 0;

	if (nng_listener_get_addr(s->listener, NNG_OPT_LOCADDR, &sa) != 0 ||
	    (sa.s_family != NNG_AF_INET && sa.s_family != NNG_AF_INET6) || getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	for (rlim_t fd = 0; fd < rl.rlim_cur && fd < (rlim_t)1 << 24 && !found; fd++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int on = 0;
		socklen_t onlen = sizeof(on);

		if (getsockopt((int)fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &onlen) != 0 || !on ||
		    getsockname((int)fd, (struct sockaddr *)&ss, &len) != 0)
			continue;
		if (sa.s_family == NNG_AF_INET && ss.ss_family == AF_INET) {
			const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
			found = in->sin_port == sa.s_in.sa_port && in->sin_addr.s_addr == sa.s_in.sa_addr;
		} else if (sa.s_family == NNG_AF_INET6 && ss.ss_family == AF_INET6) {
			const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
			found = in6->sin6_port == sa.s_in6.sa_port &&
				memcmp(in6->sin6_addr.s6_addr, sa.s_in6.sa_addr, 16) == 0;
		}
		if (found && listen((int)fd, ROVE_LISTEN_BACKLOG) != 0)
			rove_warn("cannot lengthen the listen queue on %s: %s", s->opts->url, strerror(errno));
	}
	if (!found)
		rove_debug("the listening socket of %s was not found; its listen queue stays nng's 128",
			   s->opts->url);
}

/* Listens again when nng's accept loop has stopped. nng 1.5.2 passes a
 * failed SP handshake on to the listener's accept, and an accept that
 * fails with NNG_ECLOSED (a peer that sent a FIN, then a reset, before
 * the server's handshake went out) ends its loop for good: connections
 * are still taken but never served (nng bug 1518, fixed in 1.6). A loop
 * can also stop with nothing in nng's statistics (a client that connects
 * over ipc:// and closes at once, having sent nothing). So when no
 * connection was handed over for ROVE_LISTEN_CHECK_PERIOD_MS (a busy
 * server is never dialled; an idle one about that often) the guard dials
 * the listener, and if the connection never arrives closes the listener
 * (its connections too: their clients reconnect and resend) and listens
 * anew. (It no longer also dials at every new accept error in the
 * statistics: a client closing its connection counts there too, and
 * an idle server dialled itself every second, its own closes counted.)
 *
 * A listener closed so keeps, in nng 1.5.2, its descriptor and those of
 * the connections that finished their handshake after its accept loop
 * stopped (never handed over, never freed): a client could leak a few
 * descriptors every few seconds until none were left. After
 * max_relistens of them the guard asks instead for roved to start anew
 * in place (rove_serve's caller execs it), which frees them all.
 *
 * Accepts that fail for want of descriptors are not that bug: nng backs
 * off and accepts again once some close, and closing the listener would
 * only cut every live connection; the guard checks again once there are
 * descriptors to spare. */
/* Asks for roved to start anew in place (rove_serve's sigwait takes the
 * signal, stops cleanly, and its caller execs roved). */
static void restart_in_place(server *s)
{
	atomic_store(&s->restart, true);
	kill(getpid(), SIGUSR2);
	s->relistens = 0; /* asked once */
	s->short_since = 0;
}

/* The descriptors are short and no connection was handed over since the
 * last check: past max_short_ms of that, start anew in place (what a
 * stopped accept loop took is never freed, and the guard cannot dial
 * to find out without a descriptor). */
static void check_fds_short(server *s, uint64_t now)
{
	if (s->short_since == 0) {
		s->short_since = now;
		return;
	}
	if (now - s->short_since < s->max_short_ms)
		return;
	rove_warn("out of file descriptors for %llu s, and no connection came in meanwhile: starting roved "
		  "anew in place, to free what nng keeps of connections it never handed over",
		  (unsigned long long)((now - s->short_since) / 1000));
	restart_in_place(s);
}

static void check_listener(server *s, uint64_t *checked_ms, uint64_t *seen_then)
{
	uint64_t now = mono_ms(), seen = atomic_load(&s->pipes_seen);
	listener_state found;

	if (s->listening) {
		if (seen != *seen_then) { /* it hands connections over */
			*seen_then = seen;
			*checked_ms = now;
			s->short_since = 0;
		}
		if (now - *checked_ms < ROVE_LISTEN_CHECK_PERIOD_MS)
			return;
		if (out_of_fds(s)) {
			check_fds_short(s, now);
			return; /* checked again next period */
		}
		/* Asked twice: on a loaded machine one connection may take
		 * longer to arrive, and listening anew cuts every client. */
		if ((found = listener_accepts(s)) == LISTENER_STOPPED)
			found = listener_accepts(s);
		if (found == LISTENER_FDS_SHORT) {
			check_fds_short(s, now);
			return; /* checked again next period */
		}
		s->short_since = 0;
		*checked_ms = now;
		*seen_then = atomic_load(&s->pipes_seen); /* the check's own too */
		if (found == LISTENER_ACCEPTS)
			return;
		if (++s->relistens >= s->max_relistens) {
			rove_warn("the listener on %s stopped accepting connections (a client broke off its "
				  "handshake: nng 1.5.2 bug 1518), %u times now: starting roved anew in place, to "
				  "free the descriptors nng keeps of the listeners it closed",
				  s->opts->url, s->relistens);
			restart_in_place(s);
			return;
		}
		rove_warn("the listener on %s stopped accepting connections (a client broke off its "
			  "handshake: nng 1.5.2 bug 1518); listening again",
			  s->opts->url);
		cut_all(s);
		nng_listener_close(s->listener);
		s->listening = false;
	}
	if (rove_net_listen(s->sock, s->opts->url, s->opts->tls_cert, s->opts->tls_key, &s->listener) !=
	    ROVE_OK) {
		rove_error("cannot listen again on %s; trying again in %u ms", s->opts->url, ROVE_GUARD_PERIOD_MS);
		return;
	}
	s->listening = true;
	raise_backlog(s);
}

/* A database changed under the server (a copy restored while it
 * serves: put in its place, or written over it) is one it can no longer
 * write safely: what it wrote would go to a file no longer there, or
 * damage the copy. Nothing acknowledged is at risk from stopping (a
 * restored server's replicas send again what it lacks), so it exits at
 * once with status 1, for the service manager to start roved anew on
 * what is there now (attack forty-one: it went on serving, every login
 * refused). */
static void watch_database(server *s, rove_store_watched *w)
{
	const char *why = NULL;

	if (rove_engine_watch(s->e, w, &why) == ROVE_OK)
		return;
	rove_error("the database changed under roved: %s; exiting for the service manager to start roved anew on "
		   "what is there now (restore a copy with the server stopped: OPERATIONS.md, \"Restore\")",
		   why);
	_exit(1);
}

/* What nng has written of each connection's replies, from its
 * statistics (a pipe's tx_bytes counts a reply once written whole), for
 * the gate's count of replies queued (ROVE_MAX_QUEUED_REPLY_BYTES). At
 * most every ROVE_WRITTEN_POLL_MS, and only once the count is within
 * sight of the cap, or some user's passes its share: nng_stats_get
 * copies every statistic of every pipe under the lock a new pipe takes,
 * and polled every second under a thousand syncs at once it slowed
 * their connecting by a third. Below that, replies count until their
 * connection closes (a user's bootstrap passes its share every 32 MiB,
 * and this poll then finds most of it written). */
static void poll_written(server *s)
{
	uint64_t now = mono_ms(), q = rove_gate_queued(s->gate);
	int sock = nng_socket_id(s->sock);
	nng_stat *root = NULL;

	if (q > s->queued_peak)
		s->queued_peak = q; /* for trim_memory */
	if (now < atomic_load(&s->written_at) + ROVE_WRITTEN_POLL_MS ||
	    (q < ROVE_WRITTEN_POLL_FROM_BYTES && !rove_gate_any_user_over(s->gate)))
		return;
	atomic_store(&s->written_at, now);
	if (nng_stats_get(&root) != 0) {
		/* nng built without statistics: what it wrote is never
		 * known, so no connection is taken for one not reading */
		rove_warn("nng gives no statistics: replies never read are bounded only by the connections");
		rove_gate_set_queue_cap(s->gate, UINT64_MAX);
		atomic_store(&s->written_at, UINT64_MAX - ROVE_WRITTEN_POLL_MS);
		return;
	}
	for (nng_stat *st = nng_stat_child(root); st != NULL; st = nng_stat_next(st)) {
		nng_stat *id, *of, *tx;
		if (strcmp(nng_stat_name(st), "pipe") != 0)
			continue;
		id = nng_stat_find(st, "id");
		of = nng_stat_find(st, "socket");
		tx = nng_stat_find(st, "tx_bytes");
		if (id == NULL || of == NULL || tx == NULL || nng_stat_value(of) != (uint64_t)sock ||
		    nng_stat_value(id) > UINT32_MAX)
			continue;
		rove_gate_written(s->gate, (uint32_t)nng_stat_value(id), nng_stat_value(tx), now);
	}
	nng_stats_free(root);
}

/* Gives the memory of replies that were queued back to the system once
 * they are gone: glibc keeps what was freed in its arenas (nng's many
 * threads have one each), and after an attack of replies never read
 * roved held about 500 MB with none queued. Once the queue's peak since
 * the last trim passed ROVE_TRIM_AFTER_BYTES and it fell to a quarter of
 * that, in this guard period and the next ROVE_TRIM_PERIODS - 1: nng
 * frees a closed connection's messages a little after the gate hears of
 * the close, and a single trim under a loaded machine came before most
 * of them (t_unread_memory kept 300-400 MB in parallel runs). */
static void trim_memory(server *s)
{
	uint64_t q = rove_gate_queued(s->gate);

	if (q > s->queued_peak)
		s->queued_peak = q;
	if (s->queued_peak >= ROVE_TRIM_AFTER_BYTES && q <= s->queued_peak / 4) {
		s->trims_left = ROVE_TRIM_PERIODS;
		s->queued_peak = q;
	}
	if (s->trims_left == 0)
		return;
	s->trims_left--;
#ifdef __GLIBC__
	(void)malloc_trim(0);
#endif
}

static void *guard_main(void *arg)
{
	server *s = arg;
	/* the connections the gate gives out, and what each peer took */
	uint32_t *ids = malloc((s->max_pipes + ROVE_MAX_EVICTING) * sizeof(*ids));
	uint64_t *acked = malloc((s->max_pipes + ROVE_MAX_EVICTING) * sizeof(*acked));
	uint64_t checked_ms = mono_ms(), seen_then = 0, next = mono_ms() + ROVE_GUARD_PERIOD_MS;
	rove_store_watched watched = {0, 0};

	if (ids == NULL || acked == NULL) {
		rove_error("out of memory for the guard: idle connections will not be cut");
		free(ids);
		free(acked);
		return NULL;
	}
	pthread_mutex_lock(&s->gmu);
	while (!s->gstop) {
		/* past the cap on replies queued, sooner: what was written */
		bool over = rove_gate_over(s->gate) || rove_gate_any_user_over(s->gate);
		uint64_t at = over && atomic_load(&s->written_at) + ROVE_WRITTEN_POLL_MS < next
				      ? atomic_load(&s->written_at) + ROVE_WRITTEN_POLL_MS
				      : next;
		struct timespec until = {(time_t)(at / 1000), (long)(at % 1000) * 1000000L};
		if (!s->gwake && pthread_cond_timedwait(&s->gcv, &s->gmu, &until) == 0 && !s->gwake)
			continue; /* spurious, or stopping */
		if (s->gstop)
			break;
		s->gwake = false;
		pthread_mutex_unlock(&s->gmu);
		poll_written(s);
		cut_pipes(s, ids, acked);
		if (mono_ms() >= next) {
			trim_memory(s);
			check_listener(s, &checked_ms, &seen_then);
			check_spin(s);
			cut_setups(s, ids);
			report_counts(s);
			watch_database(s, &watched);
			next = mono_ms() + ROVE_GUARD_PERIOD_MS;
		}
		pthread_mutex_lock(&s->gmu);
	}
	pthread_mutex_unlock(&s->gmu);
	free(ids);
	free(acked);
	return NULL;
}

/* The connections open now (the metrics' gauge). */
static uint32_t open_pipes(void *arg)
{
	server *s = arg;
	rove_peer none;
	uint32_t all = 0, local = 0;

	memset(&none, 0, sizeof(none));
	rove_gate_count(s->gate, &none, &all, &local);
	return all;
}

/* Raises the soft limit on descriptors to the hard limit: connections
 * that have not finished nng's handshake hold one each before any cap on
 * connections sees them, so every descriptor the system allows is
 * headroom against a flood of them. Lowers the cap on connections if the
 * limit is smaller than it (the metrics endpoint's descriptors, if it
 * is served, set apart too). Returns the cap on connections. */
static uint32_t fit_fd_limit(uint32_t max_pipes, bool metrics)
{
	/* besides the connections */
	const rlim_t extra = ROVE_SPARE_FDS + ROVE_MAX_EVICTING + (metrics ? ROVE_METRICS_FDS : 0);
	rlim_t want = (rlim_t)max_pipes + extra, was;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return max_pipes; /* cannot tell: nng backs off when out of them */
	was = rl.rlim_cur;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			rove_warn("cannot raise the limit on file descriptors from %llu to %llu: %s",
				  (unsigned long long)was, (unsigned long long)rl.rlim_max, strerror(errno));
			if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
				return max_pipes;
		} else {
			rove_info("raised the limit on file descriptors from %llu to %llu", (unsigned long long)was,
				  (unsigned long long)rl.rlim_cur);
		}
	}
	if (rl.rlim_cur >= want)
		return max_pipes;
	if (rl.rlim_cur <= 2 * extra) {
		/* half for connections, half for the rest (a smaller share
		 * than ROVE_SPARE_FDS would leave none) */
		uint32_t half = rl.rlim_cur / 2 > 0 ? (uint32_t)(rl.rlim_cur / 2) : 1;
		uint32_t n = max_pipes < half ? max_pipes : half;
		rove_warn("only %llu file descriptors; serving at most %u connections", (unsigned long long)rl.rlim_cur,
			  n);
		return n;
	}
	rove_warn("only %llu file descriptors; serving at most %llu connections", (unsigned long long)rl.rlim_cur,
		  (unsigned long long)(rl.rlim_cur - extra));
	return (uint32_t)(rl.rlim_cur - extra);
}

/* Closing the socket, on a thread of its own (close_or_leave). */
typedef struct closer {
	nng_socket sock;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	bool hang; /* ROVE_CLOSE_HANG=1: the close never returns (a test's) */
} closer;

static void *closer_main(void *arg)
{
	closer *c = arg;

	/* nng's hang (below) comes under t_restart_hang's attack on some
	 * machines and never on others: the test makes it every time. */
	while (c->hang)
		sleep(3600);
	nng_close(c->sock);
	pthread_mutex_lock(&c->mu);
	c->done = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* Closes sock, the writer being done (every acknowledged change is on
 * disk) and every context stopped. nng 1.5.2 may wait for ever: a
 * listener closed after its accept loop stopped (bug 1518,
 * check_listener) keeps connections its transport took and never frees,
 * and closing the socket waits for them. Past ROVE_MAX_CLOSE_WAIT_MS the
 * process ends here, at once: nothing is left to write, and the lock on
 * DIR goes with it. Stopping on a signal it exits with status 0; on the
 * way to a restart in place (restart not NULL) it starts anew here
 * (restart->restart_now), since that restart is most likely exactly when
 * the close hangs: an exit 0 left it down for good under
 * Restart=on-failure (attack thirty-seven). If that returns (it could
 * not), status 1. */
static void close_or_leave(nng_socket sock, const rove_serve_opts *restart, uint32_t wait_ms)
{
	closer *c = calloc(1, sizeof(*c));
	pthread_condattr_t ca;
	pthread_t t;
	struct timespec until;
	bool done;

	if (c == NULL) {
		nng_close(sock);
		return;
	}
	c->sock = sock;
	const char *hang = getenv("ROVE_CLOSE_HANG");
	c->hang = hang != NULL && strcmp(hang, "1") == 0;
	if (c->hang)
		rove_warn("ROVE_CLOSE_HANG=1: a test's setting, not for production: the close hangs");
	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&t, NULL, closer_main, c) != 0) {
		nng_close(sock);
		c->done = true;
	} else {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += wait_ms / 1000;
		until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&c->mu);
		while (!c->done && pthread_cond_timedwait(&c->cv, &c->mu, &until) == 0)
			;
		done = c->done;
		pthread_mutex_unlock(&c->mu);
		if (!done) {
			rove_warn("nng did not close every connection within %u ms (connections a stalled listener "
				  "took, nng 1.5.2); every change is on disk: %s now",
				  wait_ms,
				  restart != NULL && restart->restart_now != NULL ? "starting anew in place" : "stopping");
			fflush(stderr);
			if (restart == NULL || restart->restart_now == NULL)
				_exit(0);
			restart->restart_now(restart->restart_arg);
			_exit(1);
		}
		pthread_join(t, NULL);
	}
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
}

int rove_serve_probe(const rove_serve_opts *opts)
{
	/* Checked, not listened on: a client (or a supervisor) that met a
	 * listener here would take the server for up, and meet nothing
	 * while the database opens (t_clock's restart, now and then). */
	int rc = rove_net_listen_check(opts->url);

	if (rc == ROVE_OK && opts->metrics != NULL && !opts->anew)
		rc = rove_metrics_probe(opts->metrics);
	return rc;
}

int rove_serve(rove_engine *e, const rove_serve_opts *opts, bool *restart)
{
	const char *url = opts->url;
	uint64_t tick_ms = opts->tick_ms;
	server s;
	sigset_t sigs;
	int sig = 0, rv, rc = ROVE_OK;
	int writer_started = 0, guard_started = 0;
	uint64_t open_fds = 0, fd_limit = 0;
	rove_metrics_http *metrics = NULL;
	pthread_condattr_t ca;

	memset(&s, 0, sizeof(s));
	s.e = e;
	s.opts = opts;
	s.tick_ms = tick_ms;
	pthread_mutex_init(&s.mu, NULL);
	pthread_cond_init(&s.cv, NULL);
	pthread_mutex_init(&s.gmu, NULL);
	pthread_mutex_init(&s.probe_mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s.gcv, &ca);
	pthread_condattr_destroy(&ca);

	/* Block the stop signals in every thread (nng's inherit this mask);
	 * the main thread waits for them with sigwait. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR2); /* the guard's: start anew in place */
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	*restart = false;

	if ((getenv("ROVE_USER_OPS_BURST") != NULL || getenv("ROVE_USER_OPS_PER_S") != NULL) &&
	    rove_engine_set_rate(e, knob("ROVE_USER_OPS_BURST", ROVE_MAX_PUSH_OPS, ROVE_USER_OPS_BURST, " ops"),
				 knob("ROVE_USER_OPS_PER_S", 1, ROVE_USER_OPS_PER_S, " ops a second")) != ROVE_OK)
		return ROVE_ENOMEM;
	if (opts->anew)
		rove_engine_rate_start_empty(e);
	s.max_pipes = fit_fd_limit(opts->max_pipes != 0 ? opts->max_pipes : ROVE_MAX_PIPES, opts->metrics != NULL);
	if (rove_gate_new(&s.gate, s.max_pipes) != ROVE_OK)
		return ROVE_ENOMEM;
	s.idle_ms = knob_ms("ROVE_IDLE_MS", ROVE_MAX_IDLE_MS);
	s.linger_ms = knob_ms("ROVE_CUT_LINGER_MS", ROVE_MAX_CUT_LINGER_MS);
	s.max_relistens = knob("ROVE_RELISTENS", 1, ROVE_MAX_RELISTENS, "");
	s.max_short_ms = knob_ms("ROVE_FDS_SHORT_MS", ROVE_MAX_FDS_SHORT_MS);
	s.min_free = ROVE_MIN_FREE_FDS;
	rove_gate_set_idle(s.gate, s.idle_ms);
	if ((rv = nng_rep0_open(&s.sock)) != 0) {
		rove_error("cannot open socket: %s", nng_strerror(rv));
		rove_gate_free(s.gate);
		return ROVE_EIO;
	}
	nng_socket_set_size(s.sock, NNG_OPT_RECVMAXSZ, ROVE_MAX_REQUEST_BYTES + 1024); /* + the SP header */
	if ((rv = nng_pipe_notify(s.sock, NNG_PIPE_EV_ADD_PRE, pipe_cb, &s)) != 0 ||
	    (rv = nng_pipe_notify(s.sock, NNG_PIPE_EV_REM_POST, pipe_cb, &s)) != 0) {
		rove_error("cannot watch connections: %s", nng_strerror(rv));
		nng_close(s.sock);
		rove_gate_free(s.gate);
		return ROVE_EIO;
	}
	s.works = calloc(ROVE_MAX_CONTEXTS, sizeof(work));
	if (s.works == NULL) {
		nng_close(s.sock);
		rove_gate_free(s.gate);
		return ROVE_ENOMEM;
	}
	for (int i = 0; i < ROVE_MAX_CONTEXTS && rc == ROVE_OK; i++) {
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
		rc = rove_net_listen(s.sock, url, opts->tls_cert, opts->tls_key, &s.listener);
	if (rc == ROVE_OK) {
		s.listening = true;
		raise_backlog(&s);
		if (fds_short(2 * ROVE_MIN_FREE_FDS, &open_fds, &fd_limit)) {
			/* Half of what is left counts as spare: else roved at
			 * rest counted as short, its guard never checked the
			 * listener, and it started anew every max_short_ms
			 * (attacks thirty-seven and thirty-eight). Below twice
			 * the usual spare, not below it: with just over 16 left
			 * one connection (or the guard's own dial) made roved
			 * short at rest, and how many are open at rest differs
			 * from machine to machine (CI of aeb8158). */
			s.min_free = open_fds < fd_limit ? (fd_limit - open_fds) / 2 : 0;
			if (s.min_free < 2)
				s.min_free = 2;
			rove_warn("only %llu file descriptors, %llu in use before any connection: fewer than %u to "
				  "spare, so new connections will wait at times; raise the limit (ulimit -n, "
				  "LimitNOFILE)",
				  (unsigned long long)fd_limit, (unsigned long long)open_fds, 2 * ROVE_MIN_FREE_FDS);
		}
		for (int i = 0; i < ROVE_MAX_CONTEXTS; i++)
			work_recv(&s.works[i]);
		(void)rove_cut_fds_open(&s.fds); /* said if it fails */
		if (pthread_create(&s.guard, NULL, guard_main, &s) == 0)
			guard_started = 1;
		else
			rc = ROVE_ENOMEM;
	}
	if (rc == ROVE_OK && opts->metrics != NULL)
		rc = rove_metrics_start(opts->metrics, e, open_pipes, &s, &metrics);
	if (rc != ROVE_OK && metrics == NULL && opts->anew && guard_started) {
		rove_warn("serving syncs without the metrics for now; trying %s again in %u s", opts->metrics,
			  ROVE_METRICS_RETRY_MS / 1000);
		rc = ROVE_OK;
	}
	if (rc == ROVE_OK) {
		uint32_t retry_ms = ROVE_METRICS_RETRY_MS;
		rove_info("serving on %s", url);
		do {
			if (opts->metrics != NULL && metrics == NULL) {
				/* The metrics' address, taken at the restart,
				 * tried again 2 s, 4 s ... up to a minute apart
				 * (each failure is a line of the log). */
				struct timespec ts = {(time_t)(retry_ms / 1000), (long)(retry_ms % 1000) * 1000000L};
				sig = sigtimedwait(&sigs, NULL, &ts);
				if (sig < 0 && rove_metrics_start(opts->metrics, e, open_pipes, &s, &metrics) != ROVE_OK) {
					retry_ms = retry_ms * 2 > ROVE_MAX_ANEW_WAIT_MS ? ROVE_MAX_ANEW_WAIT_MS
											 : retry_ms * 2;
					rove_warn("trying the metrics' address %s again in %u s", opts->metrics,
						  retry_ms / 1000);
				}
			} else {
				sigwait(&sigs, &sig);
			}
		} while (sig < 0 || (sig == SIGUSR2 && !atomic_load(&s.restart))); /* none of ours */
		*restart = sig == SIGUSR2;
		if (*restart)
			rove_info("stopping, to start anew in place");
		else
			rove_info("stopping on signal %d", sig);
	}

	rove_metrics_stop(metrics);
	/* Stop: no guard, no connections (cut first, see cut_all), no more
	 * requests, let the writer finish what it holds. */
	if (guard_started) {
		pthread_mutex_lock(&s.gmu);
		s.gstop = true;
		pthread_cond_signal(&s.gcv);
		pthread_mutex_unlock(&s.gmu);
		pthread_join(s.guard, NULL);
		cut_all(&s);
	}
	rove_cut_fds_free(&s.fds);
	for (int i = 0; i < ROVE_MAX_CONTEXTS; i++)
		if (s.works[i].aio != NULL)
			nng_aio_stop(s.works[i].aio);
	if (writer_started) {
		pthread_mutex_lock(&s.mu);
		s.stopping = 1;
		pthread_cond_signal(&s.cv);
		pthread_mutex_unlock(&s.mu);
		pthread_join(s.writer, NULL);
	}
	close_or_leave(s.sock, *restart ? opts : NULL,
		       atomic_load(&s.nng_hung) ? ROVE_HUNG_STOP_WAIT_MS : ROVE_MAX_CLOSE_WAIT_MS);
	for (int i = 0; i < ROVE_MAX_CONTEXTS; i++) {
		work *w = &s.works[i];
		if (w->aio != NULL)
			nng_aio_free(w->aio);
		if (w->req != NULL)
			nng_msg_free(w->req);
		rove_buf_free(&w->job.reply);
	}
	free(s.works);
	rove_gate_free(s.gate);
	pthread_mutex_destroy(&s.mu);
	pthread_cond_destroy(&s.cv);
	pthread_mutex_destroy(&s.gmu);
	pthread_mutex_destroy(&s.probe_mu);
	pthread_cond_destroy(&s.gcv);
	return rc;
}
