#include "metrics.h"
#include "rove_assert.h"

#include "db.h"
#include "log.h"
#include "net.h"
#include "proto.h"

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

	if (snprintf(url, sizeof(url), "tcp://%s", s) >= (int)sizeof(url))
		return false;
	return rove_net_url_valid(url, why, sizeof(why));
}

/* ---- the endpoint ---- */

struct rove_metrics_http {
	nng_http_server *srv;
	nng_http_handler *h;
	rove_engine *e;
	rove_metrics_conn_fn conn;
	void *arg;
};

/* GET /metrics, on one of nng's HTTP threads. */
static void serve_metrics(nng_aio *aio)
{
	nng_http_handler *h = nng_aio_get_input(aio, 1);
	rove_metrics_http *mh = nng_http_handler_get_data(h);
	nng_http_res *res = NULL;
	rove_buf body;
	int rc, rv;

	rove_buf_init(&body);
	rc = rove_metrics_render(mh->e, mh->conn, mh->arg, &body);
	rv = nng_http_res_alloc(&res);
	if (rv == 0 && rc != ROVE_OK) {
		rove_warn("cannot render the metrics: %s", rove_strerror(rc));
		rv = nng_http_res_set_status(res, NNG_HTTP_STATUS_INTERNAL_SERVER_ERROR);
	} else if (rv == 0) {
		rv = nng_http_res_set_header(res, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
		if (rv == 0)
			rv = nng_http_res_copy_data(res, body.data, body.len);
	}
	rove_buf_free(&body);
	if (rv != 0) {
		if (res != NULL)
			nng_http_res_free(res);
		nng_aio_finish(aio, rv);
		return;
	}
	nng_aio_set_output(aio, 0, res);
	nng_aio_finish(aio, 0);
}

int rove_metrics_start(const char *addr, rove_engine *e, rove_metrics_conn_fn conn, void *arg,
		       rove_metrics_http **out)
{
	char urlstr[ROVE_MAX_URL + 16];
	rove_metrics_http *mh = calloc(1, sizeof(*mh));
	nng_url *url = NULL;
	int rv;

	*out = NULL;
	if (mh == NULL)
		return ROVE_ENOMEM;
	mh->e = e;
	mh->conn = conn;
	mh->arg = arg;
	snprintf(urlstr, sizeof(urlstr), "http://%s", addr);
	rv = nng_url_parse(&url, urlstr);
	if (rv == 0)
		rv = nng_http_server_hold(&mh->srv, url);
	if (rv == 0)
		rv = nng_http_handler_alloc(&mh->h, "/metrics", serve_metrics);
	if (rv == 0)
		rv = nng_http_handler_set_method(mh->h, "GET");
	if (rv == 0)
		rv = nng_http_handler_set_data(mh->h, mh, NULL);
	if (rv == 0) {
		rv = nng_http_server_add_handler(mh->srv, mh->h);
		if (rv == 0)
			mh->h = NULL; /* the server's now */
	}
	if (rv == 0)
		rv = nng_http_server_start(mh->srv);
	if (url != NULL)
		nng_url_free(url);
	if (rv != 0) {
		rove_error("cannot serve metrics on %s: %s", addr, nng_strerror(rv));
		if (mh->h != NULL)
			nng_http_handler_free(mh->h);
		if (mh->srv != NULL)
			nng_http_server_release(mh->srv);
		free(mh);
		return ROVE_EIO;
	}
	rove_info("metrics on http://%s/metrics", addr);
	*out = mh;
	return ROVE_OK;
}

void rove_metrics_stop(rove_metrics_http *mh)
{
	if (mh == NULL)
		return;
	nng_http_server_stop(mh->srv);
	nng_http_server_release(mh->srv);
	free(mh);
}
