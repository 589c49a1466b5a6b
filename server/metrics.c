#include "metrics.h"
#include "rove_assert.h"

#include "db.h"
#include "http1.h"
#include "log.h"
#include "net.h"
#include "proto.h"
#include "rove_limits.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- the counters ---- */

/* Latency buckets' upper bounds, in nanoseconds (Prometheus' le, in
 * seconds, when rendered): from a no-op sync's few milliseconds to a
 * snapshot chunk's seconds. */
static const uint64_t lat_le_ns[] = {
	250000ull,    500000ull,    1000000ull,   2500000ull,   5000000ull,    10000000ull,
	25000000ull,  50000000ull,  100000000ull, 250000000ull, 500000000ull,  1000000000ull,
	2500000000ull, 5000000000ull, 10000000000ull,
};
#define NLAT (sizeof(lat_le_ns) / sizeof(lat_le_ns[0]))

/* Group-commit sizes: requests and ops per commit (ROVE_MAX_BATCH_*). */
static const uint64_t req_le[] = {1, 2, 4, 8, 16, 32, 64, 128, 256};
#define NREQ_LE (sizeof(req_le) / sizeof(req_le[0]))
static const uint64_t ops_le[] = {0, 1, 10, 100, 1000, 10000};
#define NOPS_LE (sizeof(ops_le) / sizeof(ops_le[0]))

/* The request types counted apart; "other" is everything else. */
enum { T_PUSH, T_PULL, T_ADMIN, T_CONFLICTS, T_OTHER, T_COUNT };
static const char *const type_names[T_COUNT] = {"push", "pull", "admin", "conflicts", "other"};

/* A histogram: counts per bucket (not cumulative: each observation adds
 * to one; the last is +Inf), and the sum. */
typedef struct hist {
	atomic_ullong bucket[16];
	atomic_ullong sum;
} hist;

static struct {
	hist latency[T_COUNT];
	hist commit_requests, commit_ops;
	atomic_ullong ops[ROVE_R_COUNT];
	atomic_ullong pull_entries, pull_bytes;
	atomic_ullong connections, connections_refused;
	atomic_ullong login_failures;
	atomic_ullong metrics_refused, metrics_timeouts;
} m;

static void observe(hist *h, const uint64_t *le, size_t n, uint64_t v)
{
	size_t i = 0;

	while (i < n && v > le[i])
		i++;
	atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum, v, memory_order_relaxed);
}

static int type_index(int msg_type)
{
	switch (msg_type) {
	case ROVE_MSG_PUSH:
		return T_PUSH;
	case ROVE_MSG_PULL:
		return T_PULL;
	case ROVE_MSG_ADMIN:
		return T_ADMIN;
	case ROVE_MSG_CONFLICTS:
		return T_CONFLICTS;
	default:
		return T_OTHER;
	}
}

void rove_metrics_request(int msg_type, uint64_t ns)
{
	observe(&m.latency[type_index(msg_type)], lat_le_ns, NLAT, ns);
}

void rove_metrics_ops(const uint32_t ops[ROVE_R_COUNT])
{
	for (int r = 0; r < ROVE_R_COUNT; r++)
		if (ops[r] != 0)
			atomic_fetch_add_explicit(&m.ops[r], ops[r], memory_order_relaxed);
}

void rove_metrics_pull(uint64_t entries, uint64_t bytes)
{
	atomic_fetch_add_explicit(&m.pull_entries, entries, memory_order_relaxed);
	atomic_fetch_add_explicit(&m.pull_bytes, bytes, memory_order_relaxed);
}

void rove_metrics_commit(uint32_t requests, uint32_t ops)
{
	observe(&m.commit_requests, req_le, NREQ_LE, requests);
	observe(&m.commit_ops, ops_le, NOPS_LE, ops);
}

void rove_metrics_connection(bool refused)
{
	atomic_fetch_add_explicit(refused ? &m.connections_refused : &m.connections, 1, memory_order_relaxed);
}

void rove_metrics_login_failed(void)
{
	atomic_fetch_add_explicit(&m.login_failures, 1, memory_order_relaxed);
}

/* ---- the text format ---- */

/* Appends printf's output to out; ROVE_ENOMEM if it does not fit. */
__attribute__((format(printf, 2, 3))) static int put(rove_buf *out, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ROVE_ASSERT(n >= 0 && (size_t)n < sizeof(line)); /* every line is ours, and short */
	return rove_buf_append(out, line, (size_t)n);
}

static int head(rove_buf *out, const char *name, const char *type, const char *help)
{
	return put(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static unsigned long long load(atomic_ullong *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

/* One histogram's lines: its buckets cumulated, labels (may be "")
 * before le; bounds divided by scale. */
static int put_hist(rove_buf *out, const char *name, const char *labels, hist *h, const uint64_t *le, size_t n,
		    double scale)
{
	const char *sep = labels[0] != '\0' ? "," : "";
	unsigned long long cum = 0;
	int rc = ROVE_OK;

	for (size_t i = 0; rc == ROVE_OK && i <= n; i++) {
		cum += load(&h->bucket[i]);
		if (i < n)
			rc = put(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, (double)le[i] / scale, cum);
		else
			rc = put(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep, cum);
	}
	if (rc == ROVE_OK)
		rc = put(out, "%s_sum%s%s%s %.9g\n", name, labels[0] ? "{" : "", labels, labels[0] ? "}" : "",
			 (double)load(&h->sum) / scale);
	if (rc == ROVE_OK)
		rc = put(out, "%s_count%s%s%s %llu\n", name, labels[0] ? "{" : "", labels, labels[0] ? "}" : "", cum);
	return rc;
}

/* What the database holds now: head, floor (0 if never compacted) and
 * the file's figures. */
typedef struct db_gauges {
	uint64_t head, floor;
	uint64_t file_bytes, used_bytes, map_bytes;
} db_gauges;

/* A writer of another process (roved compact) killed after it wrote a
 * commit but before it told the readers leaves every read transaction
 * on the commit before, until the next writer takes up its lock (LMDB
 * then reads the newest commit from the file): a server that is written
 * to rarely would show the floor of before for long. Beginning a write
 * transaction (and dropping it) is that next writer; it waits for one of
 * the server's own commits at most. Not in a read-only environment. */
static int take_up_dead_writer(MDB_env *env)
{
	unsigned int flags = 0;
	MDB_txn *txn = NULL;
	int rc = rove_db_err(mdb_env_get_flags(env, &flags), "env flags");

	if (rc != ROVE_OK || (flags & MDB_RDONLY) != 0)
		return rc;
	rc = rove_db_err(mdb_txn_begin(env, NULL, 0, &txn), "begin");
	if (txn != NULL)
		mdb_txn_abort(txn);
	return rc;
}

static int read_db(rove_engine *e, db_gauges *g)
{
	MDB_envinfo info;
	MDB_stat ms;
	MDB_txn *txn = NULL;
	const char *path = NULL;
	char file[4096];
	struct stat sb;
	int rc;

	memset(g, 0, sizeof(*g));
	pthread_rwlock_rdlock(&e->map);
	rc = take_up_dead_writer(e->st.env);
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_txn_begin(e->st.env, NULL, MDB_RDONLY, &txn), "begin");
	if (rc == ROVE_OK)
		rc = rove_store_head(&e->st, txn, &g->head);
	if (rc == ROVE_OK)
		rc = rove_store_floor(&e->st, txn, &g->floor);
	if (rc == ROVE_OK) {
		rc = rove_db_err(mdb_env_info(e->st.env, &info), "env info");
		if (rc == ROVE_OK)
			rc = rove_db_err(mdb_env_stat(e->st.env, &ms), "env stat");
	}
	if (txn != NULL)
		mdb_txn_abort(txn);
	pthread_rwlock_unlock(&e->map);
	if (rc != ROVE_OK)
		return rc;
	g->map_bytes = info.me_mapsize;
	g->used_bytes = ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize;
	if (mdb_env_get_path(e->st.env, &path) == 0 &&
	    snprintf(file, sizeof(file), "%s/data.mdb", path) < (int)sizeof(file) && stat(file, &sb) == 0)
		g->file_bytes = (uint64_t)sb.st_size;
	return ROVE_OK;
}

int rove_metrics_render(rove_engine *e, rove_metrics_conn_fn conn, void *arg, rove_buf *out)
{
	char labels[64];
	db_gauges g;
	int rc = read_db(e, &g);

	rove_buf_reset(out);
	if (rc == ROVE_OK)
		rc = head(out, "roved_request_duration_seconds", "histogram",
			  "Requests answered, by type, and the time from arrival to reply.");
	for (int t = 0; rc == ROVE_OK && t < T_COUNT; t++) {
		snprintf(labels, sizeof(labels), "type=\"%s\"", type_names[t]);
		rc = put_hist(out, "roved_request_duration_seconds", labels, &m.latency[t], lat_le_ns, NLAT, 1e9);
	}
	if (rc == ROVE_OK)
		rc = head(out, "roved_ops_accepted_total", "counter", "Pushed ops accepted.");
	if (rc == ROVE_OK)
		rc = put(out, "roved_ops_accepted_total %llu\n", load(&m.ops[ROVE_R_NONE]));
	if (rc == ROVE_OK)
		rc = head(out, "roved_ops_refused_total", "counter", "Pushed ops refused, by reason code.");
	for (int r = ROVE_R_NONE + 1; rc == ROVE_OK && r < ROVE_R_COUNT; r++)
		rc = put(out, "roved_ops_refused_total{reason=\"%s\"} %llu\n", rove_reason_name(r), load(&m.ops[r]));
	if (rc == ROVE_OK)
		rc = head(out, "roved_pull_entries_total", "counter", "Entries (records, ops, evictions) sent in pull replies.");
	if (rc == ROVE_OK)
		rc = put(out, "roved_pull_entries_total %llu\n", load(&m.pull_entries));
	if (rc == ROVE_OK)
		rc = head(out, "roved_pull_bytes_total", "counter", "Bytes of pull replies.");
	if (rc == ROVE_OK)
		rc = put(out, "roved_pull_bytes_total %llu\n", load(&m.pull_bytes));
	if (rc == ROVE_OK)
		rc = head(out, "roved_commit_requests", "histogram", "Write requests per group commit.");
	if (rc == ROVE_OK)
		rc = put_hist(out, "roved_commit_requests", "", &m.commit_requests, req_le, NREQ_LE, 1);
	if (rc == ROVE_OK)
		rc = head(out, "roved_commit_ops", "histogram", "Pushed ops per group commit.");
	if (rc == ROVE_OK)
		rc = put_hist(out, "roved_commit_ops", "", &m.commit_ops, ops_le, NOPS_LE, 1);
	if (rc == ROVE_OK && conn != NULL)
		rc = head(out, "roved_connections", "gauge", "Connections open now.");
	if (rc == ROVE_OK && conn != NULL)
		rc = put(out, "roved_connections %u\n", conn(arg));
	if (rc == ROVE_OK)
		rc = head(out, "roved_connections_total", "counter", "Connections accepted.");
	if (rc == ROVE_OK)
		rc = put(out, "roved_connections_total %llu\n", load(&m.connections));
	if (rc == ROVE_OK)
		rc = head(out, "roved_connections_refused_total", "counter", "Connections refused over the caps.");
	if (rc == ROVE_OK)
		rc = put(out, "roved_connections_refused_total %llu\n", load(&m.connections_refused));
	if (rc == ROVE_OK)
		rc = head(out, "roved_login_failures_total", "counter", "Requests with a wrong user or token.");
	if (rc == ROVE_OK)
		rc = put(out, "roved_login_failures_total %llu\n", load(&m.login_failures));
	if (rc == ROVE_OK)
		rc = head(out, "roved_metrics_connections_refused_total", "counter",
			  "Connections to this endpoint refused over its cap (ROVE_METRICS_MAX_CONNS).");
	if (rc == ROVE_OK)
		rc = put(out, "roved_metrics_connections_refused_total %llu\n", load(&m.metrics_refused));
	if (rc == ROVE_OK)
		rc = head(out, "roved_metrics_timeouts_total", "counter",
			  "Connections to this endpoint cut at their deadline, the request or reply unfinished.");
	if (rc == ROVE_OK)
		rc = put(out, "roved_metrics_timeouts_total %llu\n", load(&m.metrics_timeouts));
	if (rc == ROVE_OK)
		rc = head(out, "roved_oplog_head", "gauge", "The sequence number of the latest op.");
	if (rc == ROVE_OK)
		rc = put(out, "roved_oplog_head %llu\n", (unsigned long long)g.head);
	if (rc == ROVE_OK)
		rc = head(out, "roved_oplog_floor", "gauge",
			  "The latest op dropped by compaction (0: none); replicas behind it get a new snapshot.");
	if (rc == ROVE_OK)
		rc = put(out, "roved_oplog_floor %llu\n", (unsigned long long)g.floor);
	if (rc == ROVE_OK)
		rc = head(out, "roved_db_file_bytes", "gauge", "Size of the database file (data.mdb).");
	if (rc == ROVE_OK)
		rc = put(out, "roved_db_file_bytes %llu\n", (unsigned long long)g.file_bytes);
	if (rc == ROVE_OK)
		rc = head(out, "roved_db_used_bytes", "gauge", "Bytes of the database's pages in use, up to its last page.");
	if (rc == ROVE_OK)
		rc = put(out, "roved_db_used_bytes %llu\n", (unsigned long long)g.used_bytes);
	if (rc == ROVE_OK)
		rc = head(out, "roved_db_map_bytes", "gauge", "Size of the database's memory map (it grows when full).");
	if (rc == ROVE_OK)
		rc = put(out, "roved_db_map_bytes %llu\n", (unsigned long long)g.map_bytes);
	return rc;
}

bool rove_metrics_addr_valid(const char *s)
{
	char url[ROVE_MAX_URL + 16], why[128];

	/* A host, 0.0.0.0 included; not nng's "*" or an empty one. */
	if (s[0] == '*' || s[0] == ':' || snprintf(url, sizeof(url), "tcp://%s", s) >= (int)sizeof(url))
		return false;
	return rove_net_listen_url_valid(url, why, sizeof(why));
}

/* ---- the endpoint ----
 *
 * common/http1.c's small HTTP/1.x server rather than nng's: nng's HTTP
 * server (v1.5.2) has neither a deadline on a request nor a cap on
 * connections, so slow or silent clients could hold every descriptor
 * the process had, and the sync listener had none left. It reads one
 * request per connection into a fixed buffer
 * (ROVE_METRICS_REQUEST_BYTES), answers it on its own thread and
 * closes; each connection lives at most ROVE_METRICS_REQUEST_MS from
 * accept to close, and at most ROVE_METRICS_MAX_CONNS are open at once
 * (one more is answered 503 and closed at once). */

struct rove_metrics_http {
	rove_http1 *srv;
	rove_engine *e;
	rove_metrics_conn_fn conn;
	void *arg;
	rove_buf body; /* scratch: the metrics rendered (the server's one thread) */
};

/* The answer to a request: only GET (or HEAD) /metrics is served; a
 * query string is ignored (Prometheus' params end up there); the
 * headers are not looked at. */
static int answer(void *arg, const rove_http1_req *req, rove_buf *out)
{
	static const char ptext[] = "text/plain; charset=utf-8";
	rove_metrics_http *mh = arg;
	size_t tlen = strcspn(req->target, "?");
	int rc;

	if (!req->head && strcmp(req->method, "GET") != 0)
		return rove_http1_reply(out, req, 405, ptext, "Allow: GET, HEAD\r\n", "405 Method Not Allowed\n", 23);
	if (tlen != 8 || strncmp(req->target, "/metrics", 8) != 0)
		return rove_http1_reply(out, req, 404, ptext, "", "404 Not Found\n", 14);
	rc = rove_metrics_render(mh->e, mh->conn, mh->arg, &mh->body);
	if (rc != ROVE_OK) {
		rove_warn("cannot render the metrics: %s", rove_strerror(rc));
		return rove_http1_reply(out, req, 500, ptext, "", "500 Internal Server Error\n", 26);
	}
	return rove_http1_reply(out, req, 200, "text/plain; version=0.0.4; charset=utf-8", "Cache-Control: no-store\r\n",
				mh->body.data, mh->body.len);
}

/* Whether the listener's address sa is a loopback one. */
static bool is_loopback(const struct sockaddr_storage *sa)
{
	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

/* Listens on addr (HOST:PORT, valid): *lfd, and says when addr is not a
 * loopback address. serve false: only binds *lfd (whether the address can
 * be had), so that nothing meets a listener before the server is up. */
static int listen_on(const char *addr, bool serve, int *lfd)
{
	char host[ROVE_MAX_URL], port[8];
	const char *colon;
	struct addrinfo hints, *res = NULL;
	struct sockaddr_storage sa;
	socklen_t salen = sizeof(sa);
	int g, err = 0, one = 1;

	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');
		ROVE_ASSERT(close != NULL && close[1] == ':');
		snprintf(host, sizeof(host), "%.*s", (int)(close - addr - 1), addr + 1);
		colon = close + 1;
	} else {
		colon = strrchr(addr, ':');
		ROVE_ASSERT(colon != NULL);
		snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
	}
	snprintf(port, sizeof(port), "%s", colon + 1);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	g = getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints, &res);
	if (g != 0) {
		rove_error("cannot serve metrics on %s: %s", addr, g == EAI_SYSTEM ? strerror(errno) : gai_strerror(g));
		return ROVE_EIO;
	}
	*lfd = -1;
	for (struct addrinfo *ai = res; ai != NULL && *lfd < 0; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
		    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
		    (serve && listen(fd, ROVE_METRICS_MAX_CONNS) != 0)) {
			err = errno;
			close(fd);
			continue;
		}
		*lfd = fd;
	}
	freeaddrinfo(res);
	if (*lfd < 0) {
		rove_error("cannot serve metrics on %s: %s", addr, strerror(err));
		return ROVE_EIO;
	}
	if (serve && (getsockname(*lfd, (struct sockaddr *)&sa, &salen) != 0 || !is_loopback(&sa)))
		rove_warn("the metrics on http://%s/metrics have no authentication: anyone who can reach %s reads "
			  "them (serve them on 127.0.0.1, or keep the port behind a firewall)",
			  addr, addr);
	return ROVE_OK;
}

int rove_metrics_probe(const char *addr)
{
	int lfd = -1, rc = listen_on(addr, false, &lfd);

	if (rc == ROVE_OK)
		close(lfd);
	return rc;
}

int rove_metrics_start(const char *addr, rove_engine *e, rove_metrics_conn_fn conn, void *arg,
		       rove_metrics_http **out)
{
	rove_metrics_http *mh = calloc(1, sizeof(*mh));
	rove_http1_cfg cfg;
	int rc, lfd = -1;

	*out = NULL;
	if (mh == NULL)
		return ROVE_ENOMEM;
	mh->e = e;
	mh->conn = conn;
	mh->arg = arg;
	rove_buf_init(&mh->body);
	rc = listen_on(addr, true, &lfd);
	if (rc == ROVE_OK) {
		memset(&cfg, 0, sizeof(cfg));
		cfg.max_conns = ROVE_METRICS_MAX_CONNS;
		cfg.request_ms = ROVE_METRICS_REQUEST_MS;
		cfg.reply_ms = 0; /* the whole life of a connection */
		cfg.max_head = ROVE_METRICS_REQUEST_BYTES;
		cfg.max_body = 0;
		cfg.fn = answer;
		cfg.arg = mh;
		cfg.refused = &m.metrics_refused;
		cfg.timeouts = &m.metrics_timeouts;
		rc = rove_http1_start(&cfg, lfd, &mh->srv); /* lfd its own now */
		if (rc != ROVE_OK)
			rove_error("cannot serve metrics on %s: %s", addr, rove_strerror(rc));
	}
	if (rc != ROVE_OK) {
		free(mh);
		return rc;
	}
	rove_info("metrics on http://%s/metrics", addr);
	*out = mh;
	return ROVE_OK;
}

void rove_metrics_stop(rove_metrics_http *mh)
{
	if (mh == NULL)
		return;
	rove_http1_stop(mh->srv);
	rove_buf_free(&mh->body);
	free(mh);
}
