/*
 * bench_pull - the server's read path alone: whole pulls answered by the
 * engine in this process, on a server database (no network, no client).
 *
 *   bench_pull --db DIR --user LOGIN --token-file F [--runs N] [--first N]
 *
 * Each run pulls the user's whole view from a fresh replica's position
 * (a snapshot), chunk by chunk as `rove sync` asks for it (the first
 * request for --first items, then full chunks), decoding each reply to
 * find the next position. Prints one JSON line: the median and minimum
 * time the engine took for a whole pull (the time spent here decoding its
 * replies left out), the items, the chunks and the reply bytes.
 * Run it on a database no roved is serving.
 */
#include "bench_data.h"
#include "engine.h"
#include "err.h"
#include "net.h"
#include "rove_limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RUNS 1000

/* One whole pull; adds to the counters and to *ms the time the engine
 * took (decoding its replies here is not counted). */
static int pull_once(rove_engine *e, const rove_auth *a, uint32_t first, uint64_t *items, uint64_t *chunks,
		     uint64_t *bytes, double *ms)
{
	rove_pull_req q;
	rove_buf req;
	rove_job job;
	int rc = ROVE_OK;

	memset(&q, 0, sizeof(q));
	q.max_items = first;
	q.records = ROVE_RECORD_FORMAT; /* as rove asks */
	rove_buf_init(&req);
	memset(&job, 0, sizeof(job)); /* not lean, no lean_for: a whole pull */
	rove_buf_init(&job.reply);
	for (;;) {
		rove_msg m;
		const rove_pull_reply *h;

		rove_buf_reset(&req);
		rove_buf_reset(&job.reply);
		rc = rove_enc_pull(&req, a, &q);
		if (rc == ROVE_OK)
			rc = rove_msg_decode(req.data, req.len, &job.msg);
		if (rc != ROVE_OK)
			break;
		{
			double t0 = bench_now();
			rove_engine_read(e, &job);
			*ms += (bench_now() - t0) * 1000;
		}
		rc = rove_msg_decode(job.reply.data, job.reply.len, &m);
		if (rc == ROVE_OK && m.type != ROVE_MSG_PULL_REPLY) {
			fprintf(stderr, "bench_pull: the engine answered an error: %s\n",
				m.type == ROVE_MSG_ERROR ? m.u.error.text : "?");
			rc = ROVE_EPROTO;
		}
		if (rc != ROVE_OK)
			break;
		h = &m.u.pull_reply;
		*items += h->n;
		*bytes += job.reply.len;
		(*chunks)++;
		if (!h->more)
			break;
		q.max_items = ROVE_MAX_PULL_ITEMS;
		q.epoch = h->epoch;
		q.run = h->run;
		if (h->mode == ROVE_PULL_SNAPSHOT) {
			q.snap_seq = h->snap_seq;
			q.snap_keylen = h->snap_keylen;
			memcpy(q.snap_key, h->snap_key, h->snap_keylen);
		} else {
			q.cursor = h->cursor;
			q.snap_keylen = h->snap_keylen; /* a family cut short */
			memcpy(q.snap_key, h->snap_key, h->snap_keylen);
		}
	}
	rove_buf_free(&req);
	rove_buf_free(&job.reply);
	return rc;
}

int main(int argc, char **argv)
{
	const char *db = NULL, *user = NULL, *token_file = NULL;
	long runs = 21, first = 1000;
	double t[MAX_RUNS];
	uint64_t items = 0, chunks = 0, bytes = 0;
	rove_engine e;
	rove_auth a;
	int rc;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(argv[i], "--db") == 0 && v != NULL)
			db = argv[++i];
		else if (strcmp(argv[i], "--user") == 0 && v != NULL)
			user = argv[++i];
		else if (strcmp(argv[i], "--token-file") == 0 && v != NULL)
			token_file = argv[++i];
		else if (strcmp(argv[i], "--runs") == 0 && v != NULL)
			runs = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--first") == 0 && v != NULL)
			first = strtol(argv[++i], NULL, 10);
		else {
			fprintf(stderr, "usage: bench_pull --db DIR --user LOGIN --token-file F [--runs N] "
					"[--first N]\n");
			return 2;
		}
	}
	if (db == NULL || user == NULL || token_file == NULL || runs < 1 || runs > MAX_RUNS || first < 1 ||
	    first > (long)ROVE_MAX_PULL_ITEMS || strlen(user) > ROVE_MAX_NAME) {
		fprintf(stderr, "bench_pull: --db, --user and --token-file are required; --runs 1-%d, "
				"--first 1-%u\n", MAX_RUNS, ROVE_MAX_PULL_ITEMS);
		return 2;
	}
	memset(&a, 0, sizeof(a));
	snprintf(a.user, sizeof(a.user), "%s", user);
	if (bench_read_token(token_file, a.token) != 0) {
		fprintf(stderr, "bench_pull: cannot read a token from %s\n", token_file);
		return 1;
	}
	rove_net_tune_malloc(); /* as roved does */
	rc = rove_engine_open(&e, db);
	if (rc != ROVE_OK) {
		fprintf(stderr, "bench_pull: cannot open %s: %s\n", db, rove_strerror(rc));
		return 1;
	}
	for (long i = 0; i < runs && rc == ROVE_OK; i++) {
		items = chunks = bytes = 0;
		t[i] = 0;
		rc = pull_once(&e, &a, (uint32_t)first, &items, &chunks, &bytes, &t[i]);
	}
	rove_engine_close(&e);
	if (rc != ROVE_OK) {
		fprintf(stderr, "bench_pull: %s\n", rove_strerror(rc));
		return 1;
	}
	bench_sort(t, (size_t)runs);
	printf("{\"runs\":%ld,\"median_ms\":%.3f,\"min_ms\":%.3f,\"items\":%llu,\"chunks\":%llu,\"bytes\":%llu}\n",
	       runs, t[runs / 2], t[0], (unsigned long long)items, (unsigned long long)chunks,
	       (unsigned long long)bytes);
	return 0;
}
