/*
 * crowd - a thousand replicas syncing at once, played from one process:
 * each simulated replica is a thread with its own nng REQ socket, hence
 * its own connection, as a `rove` process would have. The replicas are
 * the reps of a server the loader filled (loader --territories T
 * --owners K: logins rep01-1 ... with their tokens in DIR/LOGIN.token);
 * replica r is rep (r % T + 1)-((r / T) % K + 1).
 *
 *   crowd --url URL --tokens DIR --territories T --owners K [options]
 *     --replicas N     simulated replicas (default 1000)
 *     --ops K          customers each creates per sync (default 3)
 *     --rounds R       syncs of every replica, all at once each round
 *                      (default 1)
 *     --base B         numbers the customers created from round B on, so
 *                      that runs on one server create distinct tax ids
 *                      (default 0; give each run on a server its own
 *                      range of R rounds)
 *     --idle M         also hold M idle connections open meanwhile:
 *                      plain TCP connections that complete the SP
 *                      handshake and then send nothing (default 0)
 *     --server-pid P   roved's pid: its peak RSS (VmHWM of /proc/P/status)
 *                      is reset before each round and read after it
 *
 * First every replica takes its whole view (a snapshot pull, not timed),
 * as `rove sync` of a new replica does. Then each round, at one moment
 * (a barrier), every replica does what `rove sync` does with a few local
 * changes: connects, pushes its K creates, and pulls until nothing more
 * waits (its own ops by reference); its latency runs from the barrier to
 * its last reply. The pushes are encoded before the barrier, as a
 * `rove` has its outbox ready: --replicas 50 --ops 1000 is case 4's push
 * with the server alone on the machine's cores.
 *
 * Prints one JSON line: replicas, rounds, syncs that failed, ops accepted
 * and rejected, the latency p50, p99 (nearest rank) and max over every
 * sync of every round, the same of the time until each connection was
 * made (dial_*), the wall time of the slowest round, the server's
 * peak RSS over the rounds (kB, 0 without --server-pid; it counts the
 * database's pages roved maps) and its largest RssAnon after a round
 * (its own memory), and the idle
 * connections opened and still open at the end (the server cuts a
 * connection that sends no request for 30 s: docs/SECURITY.md).
 * Exit status 1 if any sync failed or any op was rejected.
 */
#include "bench_data.h"

#include "err.h"
#include "hlc.h"
#include "ident.h"
#include "proto.h"
#include "schema.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_REPLICAS 4096
#define MAX_IDLE 8192
#define MAX_OPS 1000 /* a push of ROVE_MAX_PUSH_OPS, as `rove sync` sends */
#define MAX_ROUNDS 100
#define THREAD_STACK (256 * 1024)

typedef struct replica {
	rove_auth auth;
	rove_uuid id;
	uint32_t t, k;       /* its rep's territory and number in it */
	rove_pull_req pull;  /* where its next pull starts */
	double ms;           /* this round's latency */
	double dial_ms;      /* of which until its connection was made */
	int failed;
	uint32_t accepted, rejected;
} replica;

typedef struct crowd {
	const char *url;
	bench_shape shape;
	uint32_t nrep, ops, round, base;
	replica *reps;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint32_t ready;       /* threads waiting at the barrier */
	int go;
	double t0;
	atomic_uint next;     /* bootstrap: next replica to take */
	atomic_uint told;     /* rejections written to stderr */
} crowd;

static int dial(const char *url, nng_socket *s)
{
	int rv = nng_req0_open(s);

	if (rv == 0) {
		nng_socket_set_ms(*s, NNG_OPT_RECVTIMEO, 60000);
		nng_socket_set_size(*s, NNG_OPT_RECVMAXSZ, ROVE_MAX_MSG_BYTES + 1024);
		rv = nng_dial(*s, url, NULL, 0);
		if (rv != 0)
			nng_close(*s);
	}
	if (rv != 0)
		fprintf(stderr, "crowd: %s: %s\n", url, nng_strerror(rv));
	return rv;
}

/* One request; on success *reply holds the answer that m points into. */
static int call(nng_socket s, const rove_buf *req, int want, nng_msg **reply, rove_msg *m)
{
	nng_msg *msg = NULL;
	int rv = nng_msg_alloc(&msg, 0), rc;

	if (rv == 0)
		rv = nng_msg_append(msg, req->data, req->len);
	if (rv == 0 && (rv = nng_sendmsg(s, msg, 0)) != 0)
		nng_msg_free(msg);
	if (rv == 0)
		rv = nng_recvmsg(s, reply, 0);
	if (rv != 0) {
		fprintf(stderr, "crowd: request: %s\n", nng_strerror(rv));
		return -1;
	}
	rc = rove_msg_decode(nng_msg_body(*reply), nng_msg_len(*reply), m);
	if (rc == ROVE_OK && (int)m->type != want) {
		fprintf(stderr, "crowd: the server answered: %s\n",
			m->type == ROVE_MSG_ERROR ? m->u.error.text : "an unexpected message");
		rc = ROVE_EPROTO;
	}
	if (rc != ROVE_OK) {
		nng_msg_free(*reply);
		return -1;
	}
	return 0;
}

/* Pulls until nothing more waits, moving r->pull along. */
static int pull_all(nng_socket s, replica *r, rove_buf *req)
{
	for (;;) {
		nng_msg *reply;
		rove_msg m;
		const rove_pull_reply *h;

		rove_buf_reset(req);
		if (rove_enc_pull(req, &r->auth, &r->pull) != ROVE_OK || call(s, req, ROVE_MSG_PULL_REPLY, &reply, &m) != 0)
			return -1;
		h = &m.u.pull_reply;
		r->pull.server = h->server;
		r->pull.run = h->run;
		r->pull.snap_keylen = 0;
		if (h->mode == ROVE_PULL_SNAPSHOT) {
			r->pull.epoch = h->epoch;
			if (h->reset)
				r->pull.cursor = 0;
			r->pull.snap_seq = h->snap_seq;
			if (h->more) {
				r->pull.snap_keylen = h->snap_keylen;
				memcpy(r->pull.snap_key, h->snap_key, h->snap_keylen);
			} else {
				r->pull.cursor = h->snap_seq; /* the snapshot is whole */
				r->pull.snap_seq = 0;
			}
		} else {
			r->pull.cursor = h->cursor;
			r->pull.snap_seq = 0;
			if (h->more) { /* a family cut short */
				r->pull.snap_keylen = h->snap_keylen;
				memcpy(r->pull.snap_key, h->snap_key, h->snap_keylen);
			}
		}
		r->pull.max_items = ROVE_MAX_PULL_ITEMS;
		r->pull.records = ROVE_RECORD_FORMAT; /* as rove asks */
		nng_msg_free(reply);
		if (!h->more)
			return 0;
	}
}

/* Encodes the replica's creates of this round into req, before the
 * barrier: a `rove` has its outbox ready when its sync starts, and the
 * ops' room (a record's each) is not what the case measures. */
static int push_prepare(crowd *c, replica *r, rove_buf *req)
{
	rove_stamp st = {rove_hlc_from_ms(rove_wall_ms()), rove_uuid_node(&r->id)};
	const bench_shape *sh = &c->shape;
	uint32_t idx = (uint32_t)(r - c->reps);
	rove_op *ops = malloc(c->ops * sizeof(*ops));
	rove_seen seen;
	int rc = ops != NULL ? ROVE_OK : ROVE_ENOMEM;

	for (uint32_t j = 0; rc == ROVE_OK && j < c->ops; j++) {
		/* Customer i of this rep's territory and owner (bench_data.c),
		 * its tax id and phone made unique by the op's serial number:
		 * past any the loader made (a 'C' where its have a 'B'), one
		 * per round, replica and op. */
		uint32_t i = (j * sh->owners + r->k) * sh->territories + r->t;
		uint64_t serial = ((uint64_t)(c->base + c->round) * c->nrep + idx) * c->ops + j;
		char buf[32];
		rove_uuid id;

		rove_uuid_new(&id);
		rove_op_init(&ops[j], ROVE_OP_CREATE, ROVE_COLL_CUSTOMER, &id, st);
		rc = bench_customer_fields(sh, i, &ops[j].fs, st);
		snprintf(buf, sizeof(buf), "9131C000%09llu", (unsigned long long)serial);
		buf[ROVE_TAXID_LEN - 1] = rove_taxid_check_char(buf);
		buf[ROVE_TAXID_LEN] = '\0';
		if (rc == ROVE_OK)
			rc = rove_fields_set(&ops[j].fs, "tax_id", rove_vcstr(buf), st);
		snprintf(buf, sizeof(buf), "021-999-%09llu", (unsigned long long)serial);
		if (rc == ROVE_OK)
			rc = rove_fields_set(&ops[j].fs, "phone", rove_vcstr(buf), st);
	}
	memset(&seen, 0, sizeof(seen));
	seen.server = r->pull.server;
	seen.run = r->pull.run;
	seen.seq = r->pull.cursor;
	rove_buf_reset(req);
	if (rc == ROVE_OK)
		rc = rove_enc_push(req, &r->auth, &r->id, &seen, ops, c->ops);
	free(ops);
	return rc == ROVE_OK ? 0 : -1;
}

/* Sends the push req holds and counts its answers. */
static int push(crowd *c, nng_socket s, replica *r, const rove_buf *req)
{
	nng_msg *reply;
	rove_msg m;
	rove_push_result res;

	if (call(s, req, ROVE_MSG_PUSH_REPLY, &reply, &m) != 0)
		return -1;
	while (rove_msg_next_result(&m, &res) == ROVE_OK) {
		if (res.status == ROVE_PUSH_ACCEPTED) {
			r->accepted++;
			continue;
		}
		if (r->rejected++ == 0 && atomic_fetch_add(&c->told, 1) < 3)
			fprintf(stderr, "crowd: %s: rejected: %s %s\n", r->auth.user, rove_reason_name(res.reason),
				res.detail);
	}
	nng_msg_free(reply);
	r->pull.own = true; /* its ops come back by reference, as to `rove` */
	return 0;
}

/* Bootstrap: whole views, a few replicas at a time. */
static void *bootstrap(void *arg)
{
	crowd *c = arg;
	rove_buf req;

	rove_buf_init(&req);
	for (;;) {
		unsigned i = atomic_fetch_add(&c->next, 1);
		nng_socket s;

		if (i >= c->nrep)
			break;
		if (dial(c->url, &s) != 0) {
			c->reps[i].failed = 1;
			continue;
		}
		if (pull_all(s, &c->reps[i], &req) != 0)
			c->reps[i].failed = 1;
		nng_close(s);
	}
	rove_buf_free(&req);
	return NULL;
}

typedef struct job {
	crowd *c;
	replica *r;
} job;

/* One replica's sync of this round, timed from the barrier. */
static void *sync_thread(void *arg)
{
	job *jb = arg;
	crowd *c = jb->c;
	replica *r = jb->r;
	rove_buf req;
	nng_socket s;
	int ok;

	rove_buf_init(&req);
	ok = push_prepare(c, r, &req) == 0;
	pthread_mutex_lock(&c->mu);
	c->ready++;
	pthread_cond_broadcast(&c->cv);
	while (!c->go)
		pthread_cond_wait(&c->cv, &c->mu);
	pthread_mutex_unlock(&c->mu);
	ok = ok && dial(c->url, &s) == 0;
	r->dial_ms = (bench_now() - c->t0) * 1000;
	if (ok) {
		ok = push(c, s, r, &req) == 0 && pull_all(s, r, &req) == 0;
		nng_close(s);
	}
	r->ms = (bench_now() - c->t0) * 1000;
	if (!ok)
		r->failed = 1;
	rove_buf_free(&req);
	return NULL;
}

/* Nearest-rank percentile p of sorted v. */
static double rank(const double *v, size_t n, double p)
{
	size_t k = (size_t)(p * (double)n);

	if ((double)k < p * (double)n)
		k++;
	return v[k < 1 ? 0 : k - 1];
}

/* An idle connection: TCP, the SP header of a REQ socket (nng's
 * sp-tcp: 0, 'S', 'P', 0, protocol 0x30 big-endian, 2 reserved bytes),
 * the server's header read back; then nothing. -1 if not made. */
static int idle_open(const struct sockaddr_in *sa)
{
	static const unsigned char hdr[8] = {0, 'S', 'P', 0, 0, 0x30, 0, 0};
	unsigned char back[8];
	size_t got = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0 ||
	    write(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr)) {
		close(fd);
		return -1;
	}
	while (got < sizeof(back)) {
		ssize_t n = read(fd, back + got, sizeof(back) - got);
		if (n <= 0) {
			close(fd);
			return -1;
		}
		got += (size_t)n;
	}
	if (back[1] != 'S' || back[2] != 'P') {
		close(fd);
		return -1;
	}
	return fd;
}

/* Whether the server still holds fd's connection (no end of stream). */
static int idle_alive(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

static int parse_tcp(const char *url, struct sockaddr_in *sa)
{
	char host[64];
	unsigned port;

	memset(sa, 0, sizeof(*sa));
	if (sscanf(url, "tcp://%63[^:]:%u", host, &port) != 2 || port > 65535)
		return -1;
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

/* VmHWM (kB) of pid, and into *anon its RssAnon (its own memory, without
 * the database's pages it maps); with reset, resets VmHWM instead
 * (clear_refs 5). */
static long server_hwm(long pid, int reset, long *anon)
{
	char path[64], line[256];
	long kb = 0;
	FILE *f;

	if (pid <= 0)
		return 0;
	if (reset) {
		snprintf(path, sizeof(path), "/proc/%ld/clear_refs", pid);
		f = fopen(path, "w");
		if (f == NULL || fputs("5", f) < 0 || fclose(f) != 0) {
			fprintf(stderr, "crowd: cannot reset the peak RSS of %ld\n", pid);
			return -1;
		}
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		long v;
		if (sscanf(line, "VmHWM: %ld", &v) == 1)
			kb = v;
		else if (anon != NULL && sscanf(line, "RssAnon: %ld", &v) == 1)
			*anon = v;
	}
	fclose(f);
	return kb;
}

static long num(const char *s, const char *what, long lo, long hi)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "crowd: %s takes a number from %ld to %ld\n", what, lo, hi);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static crowd c;
	static job jobs[MAX_REPLICAS];
	static pthread_t th[MAX_REPLICAS];
	static int idle[MAX_IDLE];
	const char *tokens = NULL;
	long nidle = 0, rounds = 1, pid = 0, hwm = 0, anon = 0, idle_made = 0, idle_left = 0;
	double *lat, *dlat, worst_wall = 0;
	size_t nlat = 0;
	uint64_t accepted = 0, rejected = 0;
	int failed = 0;
	pthread_attr_t attr;

	c.nrep = 1000;
	c.ops = 3;
	for (int i = 1; i < argc; i += 2) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (v == NULL) {
			fprintf(stderr, "usage: crowd --url URL --tokens DIR --territories T --owners K [--replicas N] "
					"[--ops K] [--rounds R] [--base B] [--idle M] [--server-pid P]\n");
			return 2;
		}
		if (strcmp(argv[i], "--url") == 0)
			c.url = v;
		else if (strcmp(argv[i], "--tokens") == 0)
			tokens = v;
		else if (strcmp(argv[i], "--territories") == 0)
			c.shape.territories = (uint32_t)num(v, "--territories", 1, 999);
		else if (strcmp(argv[i], "--owners") == 0)
			c.shape.owners = (uint32_t)num(v, "--owners", 1, 999);
		else if (strcmp(argv[i], "--replicas") == 0)
			c.nrep = (uint32_t)num(v, "--replicas", 1, MAX_REPLICAS);
		else if (strcmp(argv[i], "--ops") == 0)
			c.ops = (uint32_t)num(v, "--ops", 1, MAX_OPS);
		else if (strcmp(argv[i], "--rounds") == 0)
			rounds = num(v, "--rounds", 1, MAX_ROUNDS);
		else if (strcmp(argv[i], "--base") == 0)
			c.base = (uint32_t)num(v, "--base", 0, 100000);
		else if (strcmp(argv[i], "--idle") == 0)
			nidle = num(v, "--idle", 0, MAX_IDLE);
		else if (strcmp(argv[i], "--server-pid") == 0)
			pid = num(v, "--server-pid", 1, 1L << 30);
		else {
			fprintf(stderr, "crowd: unknown option '%s' (see the top of tests/bench/crowd.c)\n", argv[i]);
			return 2;
		}
	}
	if (c.url == NULL || tokens == NULL || c.shape.territories == 0 || c.shape.owners == 0) {
		fprintf(stderr, "crowd: --url, --tokens, --territories and --owners are required\n");
		return 2;
	}
	if ((uint64_t)c.ops * c.nrep * (uint64_t)(c.base + rounds) > 999999999u ||
	    (uint64_t)c.ops * c.shape.owners * c.shape.territories > 4000000000u) {
		fprintf(stderr, "crowd: too many customers for the numbering of bench_data.c\n");
		return 2;
	}
	c.reps = calloc(c.nrep, sizeof(*c.reps));
	lat = malloc((size_t)c.nrep * (size_t)rounds * sizeof(*lat));
	dlat = malloc((size_t)c.nrep * (size_t)rounds * sizeof(*dlat));
	if (c.reps == NULL || lat == NULL || dlat == NULL) {
		fprintf(stderr, "crowd: out of memory\n");
		return 1;
	}
	for (uint32_t i = 0; i < c.nrep; i++) {
		replica *r = &c.reps[i];
		char login[ROVE_MAX_NAME + 1], path[4096];

		r->t = i % c.shape.territories;
		r->k = (i / c.shape.territories) % c.shape.owners;
		bench_owner_login(&c.shape, r->t, r->k, login, sizeof(login));
		snprintf(r->auth.user, sizeof(r->auth.user), "%s", login);
		snprintf(path, sizeof(path), "%s/%s.token", tokens, login);
		if (bench_read_token(path, r->auth.token) != 0) {
			fprintf(stderr, "crowd: cannot read a token from %s\n", path);
			return 1;
		}
		rove_uuid_new(&r->id);
		r->pull.replica = r->id;
		r->pull.max_items = ROVE_MAX_PULL_ITEMS;
		r->pull.records = ROVE_RECORD_FORMAT; /* as rove asks */
	}
	pthread_mutex_init(&c.mu, NULL);
	pthread_cond_init(&c.cv, NULL);

	/* Every replica's whole view first, 4 at a time (not timed). */
	{
		pthread_t b[4];
		for (int j = 0; j < 4; j++)
			if (pthread_create(&b[j], NULL, bootstrap, &c) != 0)
				return 1;
		for (int j = 0; j < 4; j++)
			pthread_join(b[j], NULL);
		for (uint32_t i = 0; i < c.nrep; i++)
			if (c.reps[i].failed) {
				fprintf(stderr, "crowd: the bootstrap of %s failed\n", c.reps[i].auth.user);
				return 1;
			}
	}

	if (nidle > 0) {
		struct sockaddr_in sa;
		if (parse_tcp(c.url, &sa) != 0) {
			fprintf(stderr, "crowd: --idle needs a tcp://ADDRESS:PORT url\n");
			return 2;
		}
		for (long i = 0; i < nidle; i++) {
			idle[i] = idle_open(&sa);
			if (idle[i] >= 0)
				idle_made++;
		}
	}

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, THREAD_STACK);
	for (c.round = 0; c.round < (uint32_t)rounds; c.round++) {
		double wall;
		long h, a = 0;

		if (server_hwm(pid, 1, NULL) < 0)
			return 1;
		c.ready = 0;
		c.go = 0;
		for (uint32_t i = 0; i < c.nrep; i++) {
			jobs[i].c = &c;
			jobs[i].r = &c.reps[i];
			if (pthread_create(&th[i], &attr, sync_thread, &jobs[i]) != 0) {
				fprintf(stderr, "crowd: cannot start thread %u\n", i);
				return 1;
			}
		}
		pthread_mutex_lock(&c.mu);
		while (c.ready < c.nrep)
			pthread_cond_wait(&c.cv, &c.mu);
		c.t0 = bench_now();
		c.go = 1;
		pthread_cond_broadcast(&c.cv);
		pthread_mutex_unlock(&c.mu);
		for (uint32_t i = 0; i < c.nrep; i++)
			pthread_join(th[i], NULL);
		wall = 0;
		for (uint32_t i = 0; i < c.nrep; i++) {
			dlat[nlat] = c.reps[i].dial_ms;
			lat[nlat++] = c.reps[i].ms;
			if (c.reps[i].ms > wall)
				wall = c.reps[i].ms;
			if (c.reps[i].failed) {
				failed++;
				c.reps[i].failed = 0;
			}
		}
		if (wall > worst_wall)
			worst_wall = wall;
		h = server_hwm(pid, 0, &a);
		if (h > hwm)
			hwm = h;
		if (a > anon)
			anon = a;
	}
	for (uint32_t i = 0; i < c.nrep; i++) {
		accepted += c.reps[i].accepted;
		rejected += c.reps[i].rejected;
	}
	for (long i = 0; i < nidle; i++)
		if (idle[i] >= 0) {
			idle_left += idle_alive(idle[i]);
			close(idle[i]);
		}
	bench_sort(lat, nlat);
	bench_sort(dlat, nlat);
	printf("{\"replicas\":%u,\"ops\":%u,\"rounds\":%ld,\"failed\":%d,\"accepted\":%llu,\"rejected\":%llu,"
	       "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"dial_p50_ms\":%.3f,"
	       "\"dial_p99_ms\":%.3f,\"dial_max_ms\":%.3f,\"wall_ms\":%.3f,\"server_hwm_kb\":%ld,"
	       "\"server_anon_kb\":%ld,\"idle\":%ld,\"idle_open\":%ld,\"idle_left\":%ld}\n",
	       c.nrep, c.ops, rounds, failed, (unsigned long long)accepted, (unsigned long long)rejected,
	       rank(lat, nlat, 0.5), rank(lat, nlat, 0.9), rank(lat, nlat, 0.99), lat[nlat - 1],
	       rank(dlat, nlat, 0.5), rank(dlat, nlat, 0.99), dlat[nlat - 1], worst_wall, hwm, anon, nidle, idle_made,
	       idle_left);
	free(lat);
	free(dlat);
	free(c.reps);
	return failed == 0 && rejected == 0 ? 0 : 1;
}
