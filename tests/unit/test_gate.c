/* The gate's caps and bookkeeping (server/gate.h), against its limits. */
#include "check.h"
#include "err.h"
#include "gate.h"
#include "serve.h"

#include <stdlib.h>
#include <string.h>

static rove_peer v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	rove_peer p;

	memset(&p, 0, sizeof(p));
	p.len = 4;
	p.b[0] = a;
	p.b[1] = b;
	p.b[2] = c;
	p.b[3] = d;
	return p;
}

/* Opens pipe id and, if it was let in, has it authenticate: such a
 * connection is never taken for a newcomer. */
static int open_authed(rove_gate *g, uint32_t id, const rove_peer *peer, uint64_t now_ms)
{
	uint32_t evicted;
	int rc = rove_gate_open(g, id, peer, now_ms, &evicted);

	CHECK_EQ_INT(evicted, 0);
	if (rc == ROVE_OK)
		rove_gate_authed(g, id, id);
	return rc;
}

static void test_caps(void)
{
	rove_gate *g;
	rove_peer nat = v4(10, 0, 0, 1), other = v4(10, 0, 0, 2), lo = v4(127, 0, 0, 1), ipc;
	uint32_t id = 1, all, from;

	memset(&ipc, 0, sizeof(ipc));
	CHECK_EQ_INT(rove_gate_new(&g, 100), ROVE_OK);
	/* One address: its cap, then no more; others are not affected. */
	for (unsigned i = 0; i < ROVE_MAX_PIPES_PER_ADDR; i++)
		CHECK_EQ_INT(open_authed(g, id++, &nat, 0), ROVE_OK);
	CHECK_EQ_INT(open_authed(g, id++, &nat, 0), ROVE_ETOOBIG);
	CHECK_EQ_INT(open_authed(g, id++, &other, 0), ROVE_OK);
	rove_gate_count(g, &nat, &all, &from);
	CHECK_EQ_INT(all, ROVE_MAX_PIPES_PER_ADDR + 1);
	CHECK_EQ_INT(from, ROVE_MAX_PIPES_PER_ADDR);
	/* One closes: one more may come. */
	rove_gate_close(g, 1);
	CHECK_EQ_INT(open_authed(g, id++, &nat, 0), ROVE_OK);
	/* This machine is counted only in the total, up to max_pipes. */
	while (open_authed(g, id, id % 2 ? &lo : &ipc, 0) == ROVE_OK)
		id++;
	rove_gate_count(g, &lo, &all, &from);
	CHECK_EQ_INT(all, 100);
	CHECK_EQ_INT(from, 100 - ROVE_MAX_PIPES_PER_ADDR - 1);
	/* An unknown pipe's close is ignored. */
	rove_gate_close(g, 999999);
	rove_gate_count(g, &lo, &all, &from);
	CHECK_EQ_INT(all, 100);
	rove_gate_free(g);
}

static void test_inflight(void)
{
	rove_gate *g;
	rove_peer a = v4(192, 0, 2, 1), lo = v4(127, 0, 0, 1);
	uint32_t id;

	CHECK_EQ_INT(rove_gate_new(&g, 100), ROVE_OK);
	CHECK_EQ_INT(rove_gate_open(g, 7, &a, 0, NULL), ROVE_OK);
	for (unsigned i = 0; i < ROVE_MAX_PIPE_INFLIGHT; i++)
		CHECK_EQ_INT(rove_gate_request(g, 7, 0), ROVE_OK);
	CHECK_EQ_INT(rove_gate_request(g, 7, 0), ROVE_ETOOBIG);
	rove_gate_done(g, 7, 0);
	CHECK_EQ_INT(rove_gate_request(g, 7, 0), ROVE_OK);
	CHECK_EQ_INT(rove_gate_request(g, 8, 0), ROVE_ENOTFOUND);
	/* The address's cap, over its connections (one in flight each). */
	for (id = 100; id < 100 + ROVE_MAX_PIPES_PER_ADDR - 1; id++)
		CHECK_EQ_INT(rove_gate_open(g, id, &a, 0, NULL), ROVE_OK);
	for (id = 100; id < 100 + ROVE_MAX_ADDR_INFLIGHT - ROVE_MAX_PIPE_INFLIGHT; id++)
		CHECK_EQ_INT(rove_gate_request(g, id, 0), ROVE_OK);
	CHECK_EQ_INT(rove_gate_request(g, id, 0), ROVE_ETOOBIG);
	/* A connection that goes takes its requests in flight with it. */
	rove_gate_close(g, 7);
	CHECK_EQ_INT(rove_gate_request(g, id, 0), ROVE_OK);
	rove_gate_done(g, 7, 0); /* gone: ignored */
	/* This machine has no address cap. */
	for (id = 1000; id < 1000 + ROVE_MAX_ADDR_INFLIGHT + 1; id++) {
		CHECK_EQ_INT(rove_gate_open(g, id, &lo, 0, NULL), ROVE_OK);
		CHECK_EQ_INT(rove_gate_request(g, id, 0), ROVE_OK);
	}
	rove_gate_free(g);
}

/* idle: the idle time set (a test knob of roved's); 0: the default. */
static void test_cut(uint32_t idle)
{
	rove_gate *g;
	rove_peer a = v4(192, 0, 2, 9);
	uint32_t out[8];
	const uint64_t t = idle != 0 ? idle : ROVE_MAX_IDLE_MS;

	CHECK_EQ_INT(rove_gate_new(&g, 8), ROVE_OK);
	if (idle != 0)
		rove_gate_set_idle(g, idle);
	CHECK_EQ_INT(rove_gate_open(g, 1, &a, 1000, NULL), ROVE_OK); /* will idle */
	CHECK_EQ_INT(rove_gate_open(g, 2, &a, 1000, NULL), ROVE_OK); /* busy */
	CHECK_EQ_INT(rove_gate_open(g, 3, &a, 1000, NULL), ROVE_OK); /* doomed */
	CHECK_EQ_INT(rove_gate_open(g, 4, &a, 1000, NULL), ROVE_OK); /* progresses */
	CHECK_EQ_INT(rove_gate_request(g, 2, 1000), ROVE_OK);
	rove_gate_doom(g, 3);
	CHECK_EQ_INT(rove_gate_request(g, 3, 1001), ROVE_ENOTFOUND);
	CHECK_EQ_INT(rove_gate_to_cut(g, 1001, out, 8), 1);
	CHECK_EQ_INT(out[0], 3);
	CHECK_EQ_INT(rove_gate_to_cut(g, 1002, out, 8), 0); /* once */
	CHECK_EQ_INT(rove_gate_request(g, 4, 1000 + t - 1), ROVE_OK);
	rove_gate_done(g, 4, 1000 + t - 1);
	CHECK_EQ_INT(rove_gate_to_cut(g, 1000 + t - 1, out, 8), 0);
	CHECK_EQ_INT(rove_gate_to_cut(g, 1000 + t, out, 8), 1);
	CHECK_EQ_INT(out[0], 1);
	/* Still open a timeout after its cut: given out again. */
	CHECK_EQ_INT(rove_gate_to_cut(g, 1001 + t, out, 8), 1);
	CHECK_EQ_INT(out[0], 3);
	CHECK_EQ_INT(rove_gate_all(g, out, 8), 4);
	/* Lingering is counted from the first cut, not the last: 3 was first
	 * given out at 1001, 1 at 1000 + t; 2 and 4 never. */
	CHECK_EQ_INT(rove_gate_lingering(g, 1001 + t, t + 1), 0);
	CHECK_EQ_INT(rove_gate_lingering(g, 1001 + t, t), 1);
	CHECK_EQ_INT(rove_gate_lingering(g, 1000 + 2 * t, t), 2);
	/* Closed through nng (rove_gate_to_close): those first cut at least
	 * the time given before, each once. */
	CHECK_EQ_INT(rove_gate_to_close(g, 1001 + t, t + 1, out, 8), 0);
	CHECK_EQ_INT(rove_gate_to_close(g, 1001 + t, t, out, 8), 1);
	CHECK_EQ_INT(out[0], 3);
	CHECK_EQ_INT(rove_gate_to_close(g, 1001 + t, t, out, 8), 0);
	CHECK_EQ_INT(rove_gate_to_close(g, 1000 + 2 * t, t, out, 8), 1);
	CHECK_EQ_INT(out[0], 1);
	rove_gate_close(g, 3);
	CHECK_EQ_INT(rove_gate_lingering(g, 1000 + 2 * t, t), 1);
	rove_gate_free(g);
}

/* Many connections come and go in a random order: the tables (linear
 * probing, backward-shift deletion) find every live one and only them. */
static void test_churn(void)
{
	enum { N = 512, ROUNDS = 20000 };
	rove_gate *g;
	bool open[N + 1] = {false};
	unsigned seed = 12345, live = 0;

	CHECK_EQ_INT(rove_gate_new(&g, N), ROVE_OK);
	for (int r = 0; r < ROUNDS; r++) {
		uint32_t id;
		rove_peer p;
		seed = seed * 1103515245u + 12345u;
		id = 1 + (seed >> 8) % N;
		p = v4(10, 1, (uint8_t)(id % 7), (uint8_t)(id % 5));
		if (open[id]) {
			rove_gate_close(g, id);
			open[id] = false;
			live--;
		} else if (rove_gate_open(g, id, &p, 0, NULL) == ROVE_OK) {
			open[id] = true;
			live++;
		}
	}
	for (uint32_t id = 1; id <= N; id++) {
		int rc = rove_gate_request(g, id, 0);
		CHECK(open[id] ? rc == ROVE_OK || rc == ROVE_ETOOBIG : rc == ROVE_ENOTFOUND);
	}
	{
		uint32_t all, from;
		rove_peer p = v4(10, 1, 0, 0);
		rove_gate_count(g, &p, &all, &from);
		CHECK_EQ_INT(all, live);
	}
	rove_gate_free(g);
}

/* A full table: a newcomer takes the place of the connection that has
 * waited longest without authenticating and has nothing in flight; the
 * authenticated and the busy are never taken, and at most
 * ROVE_MAX_EVICTING evicted ones may be open at once. */
static void test_evict(void)
{
	rove_gate *g;
	uint32_t evicted = 0, cut[16], all, from;
	rove_peer p = v4(10, 2, 0, 1);
	size_t n;

	CHECK_EQ_INT(rove_gate_new(&g, 4), ROVE_OK);
	/* 1 authenticated, 2 busy, 3 and 4 idle since they opened (t=300, 400). */
	for (uint32_t id = 1; id <= 4; id++) {
		p.b[3] = (uint8_t)id;
		CHECK_EQ_INT(rove_gate_open(g, id, &p, 100 * id, &evicted), ROVE_OK);
		CHECK_EQ_INT(evicted, 0);
	}
	rove_gate_authed(g, 1, 1);
	CHECK_EQ_INT(rove_gate_request(g, 2, 500), ROVE_OK);
	p.b[3] = 5;
	CHECK_EQ_INT(rove_gate_open(g, 5, &p, 1000, &evicted), ROVE_OK);
	CHECK_EQ_INT(evicted, 3);
	/* The evicted one is cut by the guard, and its requests dropped. */
	n = rove_gate_to_cut(g, 1000, cut, 16);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(cut[0], 3);
	CHECK_EQ_INT(rove_gate_request(g, 3, 1000), ROVE_ENOTFOUND);
	/* Next: 4 (idle since 400), then 5; never 1 nor 2. */
	p.b[3] = 6;
	CHECK_EQ_INT(rove_gate_open(g, 6, &p, 1100, &evicted), ROVE_OK);
	CHECK_EQ_INT(evicted, 4);
	rove_gate_authed(g, 6, 6);
	p.b[3] = 7;
	CHECK_EQ_INT(rove_gate_open(g, 7, &p, 1200, &evicted), ROVE_OK);
	CHECK_EQ_INT(evicted, 5);
	rove_gate_authed(g, 7, 7);
	/* Now 1, 2, 6, 7 are authenticated or busy: the newcomer is refused. */
	p.b[3] = 8;
	CHECK_EQ_INT(rove_gate_open(g, 8, &p, 1300, &evicted), ROVE_ETOOBIG);
	CHECK_EQ_INT(evicted, 0);
	rove_gate_count(g, &p, &all, &from);
	CHECK_EQ_INT(all, 7); /* 3 evicted still open */
	/* The evicted close; the cap holds as before. */
	rove_gate_close(g, 3);
	rove_gate_close(g, 4);
	rove_gate_close(g, 5);
	rove_gate_count(g, &p, &all, &from);
	CHECK_EQ_INT(all, 4);
	CHECK_EQ_INT(rove_gate_open(g, 9, &p, 1400, &evicted), ROVE_ETOOBIG);
	rove_gate_free(g);

	/* Evictions not yet gone are bounded: past ROVE_MAX_EVICTING of them,
	 * newcomers are refused until some close. */
	CHECK_EQ_INT(rove_gate_new(&g, 2 * ROVE_MAX_EVICTING), ROVE_OK);
	for (uint32_t id = 1; id <= 2 * ROVE_MAX_EVICTING; id++) {
		p.b[2] = (uint8_t)(id / 200);
		p.b[3] = (uint8_t)(id % 200);
		CHECK_EQ_INT(rove_gate_open(g, id, &p, id, NULL), ROVE_OK);
	}
	for (uint32_t i = 0; i < ROVE_MAX_EVICTING; i++) {
		uint32_t id = 1000 + i;
		p.b[2] = 9;
		p.b[3] = (uint8_t)i;
		CHECK_EQ_INT(rove_gate_open(g, id, &p, 5000, &evicted), ROVE_OK);
		CHECK_EQ_INT(evicted, i + 1); /* oldest first */
	}
	p.b[3] = 250;
	CHECK_EQ_INT(rove_gate_open(g, 2000, &p, 5000, &evicted), ROVE_ETOOBIG);
	rove_gate_close(g, 1);
	CHECK_EQ_INT(rove_gate_open(g, 2000, &p, 5000, &evicted), ROVE_OK);
	CHECK_EQ_INT(evicted, ROVE_MAX_EVICTING + 1);
	rove_gate_free(g);
}

/* One user holds at most ROVE_MAX_USER_PIPES connections: each past it
 * marks that user's least recently used one to be cut; other users' are
 * not touched (attack seventy-four: one token held every slot). */
static void test_user_cap(void)
{
	rove_gate *g;
	rove_peer lo = v4(127, 0, 0, 1);
	uint32_t evicted, cut[64];
	size_t n;

	CHECK_EQ_INT(rove_gate_new(&g, 4 * ROVE_MAX_USER_PIPES + 16), ROVE_OK);
	for (uint32_t id = 1; id <= 3; id++) {
		CHECK_EQ_INT(rove_gate_open(g, 1000 + id, &lo, 1, &evicted), ROVE_OK);
		CHECK(!rove_gate_authed(g, 1000 + id, 5));
	}
	for (uint32_t id = 1; id <= ROVE_MAX_USER_PIPES + 8; id++) {
		CHECK_EQ_INT(rove_gate_open(g, id, &lo, 10 * id, &evicted), ROVE_OK);
		CHECK(rove_gate_authed(g, id, 77) == (id > ROVE_MAX_USER_PIPES));
		CHECK(!rove_gate_authed(g, id, 77)); /* once a connection */
	}
	n = rove_gate_to_cut(g, 10 * (ROVE_MAX_USER_PIPES + 8), cut, 64);
	CHECK_EQ_INT(n, 8);
	for (size_t i = 0; i < n; i++)
		CHECK(cut[i] >= 1 && cut[i] <= 8); /* the least recently used */
	rove_gate_free(g);
	/* Under a low cap on connections, a quarter of them: 4 of 16. */
	CHECK_EQ_INT(rove_gate_new(&g, 16), ROVE_OK);
	for (uint32_t id = 1; id <= 6; id++) {
		CHECK_EQ_INT(rove_gate_open(g, id, &lo, 10 * id, &evicted), ROVE_OK);
		CHECK(rove_gate_authed(g, id, 77) == (id > 4));
	}
	CHECK_EQ_INT(rove_gate_to_cut(g, 100, cut, 64), 2);
	rove_gate_free(g);
}

/* Replies queued in nng: counted when handed, taken back when a send
 * fails, gone as nng writes them or their connection closes; past the cap
 * the gate says so, and cuts the connections whose replies have waited
 * ROVE_MAX_QUEUED_WAIT_MS with none written - only then. */
static void test_queued(void)
{
	rove_gate *g;
	rove_peer a = v4(192, 0, 2, 9);
	uint32_t out[8];
	const uint64_t w = ROVE_MAX_QUEUED_WAIT_MS;

	CHECK_EQ_INT(rove_gate_new(&g, 8), ROVE_OK);
	rove_gate_set_queue_cap(g, 1000);
	for (uint32_t id = 1; id <= 4; id++) {
		CHECK_EQ_INT(rove_gate_open(g, id, &a, 1, NULL), ROVE_OK);
		CHECK_EQ_INT(rove_gate_request(g, id, 1), ROVE_OK);
	}
	rove_gate_sent(g, 1, 600, 10); /* never read */
	rove_gate_sent(g, 2, 300, 10); /* read, in two replies */
	rove_gate_sent(g, 2, 300, 20);
	rove_gate_sent(g, 99, 5000, 10); /* gone: not counted */
	CHECK_EQ_INT(rove_gate_queued(g), 1200);
	CHECK(rove_gate_over(g));
	rove_gate_written(g, 2, 300, 30); /* the first written: progress */
	CHECK_EQ_INT(rove_gate_queued(g), 900);
	CHECK(!rove_gate_over(g));
	rove_gate_sent(g, 3, 400, 40); /* its send fails: taken back */
	CHECK(rove_gate_over(g));
	rove_gate_unsent(g, 3, 400);
	CHECK_EQ_INT(rove_gate_queued(g), 900);
	rove_gate_sent(g, 4, 200, 50);
	CHECK(rove_gate_over(g));
	/* Over the cap: 1 has waited w since 10, 2 since 30 (its last
	 * progress), 4 since 50. Done with their requests, none is idle. */
	for (uint32_t id = 1; id <= 4; id++)
		rove_gate_done(g, id, 10 + w - 1);
	/* Sampled at half the wait and at the wait: 1's peer took nothing. */
	CHECK_EQ_INT(rove_gate_to_probe(g, 10 + w / 2, out, 8), 1);
	CHECK_EQ_INT(out[0], 1);
	rove_gate_acked(g, 1, 100, 10 + w / 2);
	/* 2 and 4 first sampled (1 was, less than 0.5 w ago) */
	CHECK_EQ_INT(rove_gate_to_probe(g, 10 + w - 1, out, 8), 2);
	for (int i = 0; i < 2; i++)
		rove_gate_acked(g, out[i], 100, 10 + w - 1);
	CHECK_EQ_INT(rove_gate_to_cut(g, 10 + w - 1, out, 8), 0);
	CHECK_EQ_INT(rove_gate_to_probe(g, 10 + w, out, 8), 1);
	CHECK_EQ_INT(out[0], 1);
	rove_gate_acked(g, 1, 100, 10 + w);
	CHECK_EQ_INT(rove_gate_to_cut(g, 10 + w, out, 8), 1);
	CHECK_EQ_INT(out[0], 1);
	/* Under the cap no connection is cut for waiting: 1 closes (nng
	 * frees its reply), and 2 and 4 wait on. */
	rove_gate_close(g, 1);
	CHECK_EQ_INT(rove_gate_queued(g), 500);
	CHECK(!rove_gate_over(g));
	CHECK_EQ_INT(rove_gate_to_cut(g, 50 + w, out, 8), 0);
	/* Statistics never pass what was handed, nor go back. */
	rove_gate_written(g, 2, 10000, 60);
	rove_gate_written(g, 2, 100, 61);
	CHECK_EQ_INT(rove_gate_queued(g), 200);
	rove_gate_written(g, 4, 200, 70);
	CHECK_EQ_INT(rove_gate_queued(g), 0);
	rove_gate_unsent(g, 4, 200); /* after it was written: nothing */
	CHECK_EQ_INT(rove_gate_queued(g), 0);
	rove_gate_close(g, 2);
	rove_gate_close(g, 4);
	CHECK_EQ_INT(rove_gate_queued(g), 0);
	rove_gate_free(g);
}

/* A reply on its way over a slow link is progress (rove_gate_acked);
 * a peer that takes too little of it, or one whose count is not known,
 * is cut at the idle time; one never sampled, at twice that. */
static void test_acked(void)
{
	rove_gate *g;
	rove_peer a = v4(192, 0, 2, 10);
	uint32_t out[8];
	const uint64_t t = 4000, least = ROVE_MIN_READ_BYTES_PER_S * (t / 2) / 1000;

	CHECK_EQ_INT(rove_gate_new(&g, 8), ROVE_OK);
	rove_gate_set_idle(g, (uint32_t)t);
	for (uint32_t id = 1; id <= 5; id++) {
		CHECK_EQ_INT(rove_gate_open(g, id, &a, 1, NULL), ROVE_OK);
		CHECK_EQ_INT(rove_gate_request(g, id, 1), ROVE_OK);
		if (id != 5) /* 5 was never answered: nothing to sample */
			rove_gate_sent(g, id, 4 << 20, 1000);
		rove_gate_done(g, id, 1000);
	}
	/* Nothing before half the idle time. */
	CHECK_EQ_INT(rove_gate_to_probe(g, 1000 + t / 2 - 1, out, 8), 0);
	CHECK_EQ_INT(rove_gate_to_probe(g, 1000 + t / 2, out, 8), 4);
	CHECK_EQ_INT(rove_gate_to_probe(g, 1000 + t / 2, out, 8), 0); /* once */
	/* 1 reads slowly, 2 not at all, 3 a byte too little, 4 is ipc:// */
	rove_gate_acked(g, 1, 8, 1000 + t / 2);
	rove_gate_acked(g, 2, 8, 1000 + t / 2);
	rove_gate_acked(g, 3, 8, 1000 + t / 2);
	rove_gate_acked(g, 4, UINT64_MAX, 1000 + t / 2);
	CHECK_EQ_INT(rove_gate_to_probe(g, 1000 + t, out, 8), 4);
	rove_gate_acked(g, 1, 8 + least, 1000 + t);
	rove_gate_acked(g, 2, 8, 1000 + t);
	rove_gate_acked(g, 3, 8 + least - 1, 1000 + t);
	rove_gate_acked(g, 4, UINT64_MAX, 1000 + t);
	CHECK_EQ_INT(rove_gate_to_cut(g, 1000 + t, out, 8), 4); /* 2, 3, 4, 5 idle; 1 moved */
	for (int i = 0; i < 4; i++) {
		CHECK(out[i] >= 2 && out[i] <= 5);
		rove_gate_close(g, out[i]); /* as nng does once cut */
	}
	/* 1 goes on reading: not cut while it moves, then cut once it stops. */
	CHECK_EQ_INT(rove_gate_to_cut(g, 1000 + 2 * t - 1, out, 8), 0);
	CHECK_EQ_INT(rove_gate_to_probe(g, 1000 + 3 * t / 2, out, 8), 1);
	rove_gate_acked(g, 1, 8 + 3 * least, 1000 + 3 * t / 2);
	CHECK_EQ_INT(rove_gate_to_probe(g, 1000 + 2 * t, out, 8), 1);
	rove_gate_acked(g, 1, 8 + 3 * least, 1000 + 2 * t);
	CHECK_EQ_INT(rove_gate_to_cut(g, 1000 + 2 * t, out, 8), 0); /* idle since 1.5 t */
	CHECK_EQ_INT(rove_gate_to_cut(g, 1000 + 5 * t / 2, out, 8), 1);
	CHECK_EQ_INT(out[0], 1);
	rove_gate_close(g, 1);
	/* A request and its reply start the samples anew. */
	CHECK_EQ_INT(rove_gate_open(g, 6, &a, 100000, NULL), ROVE_OK);
	CHECK_EQ_INT(rove_gate_request(g, 6, 100000), ROVE_OK);
	rove_gate_sent(g, 6, 100, 100000);
	rove_gate_done(g, 6, 100000);
	CHECK_EQ_INT(rove_gate_to_probe(g, 100000 + t / 2, out, 8), 1);
	rove_gate_acked(g, 6, 50, 100000 + t / 2);
	CHECK_EQ_INT(rove_gate_request(g, 6, 100000 + t / 2 + 1), ROVE_OK);
	rove_gate_done(g, 6, 100000 + t / 2 + 2);
	/* never sampled since: cut at twice the idle time */
	CHECK_EQ_INT(rove_gate_to_cut(g, 100000 + t / 2 + 2 + t, out, 8), 0);
	CHECK_EQ_INT(rove_gate_to_cut(g, 100000 + t / 2 + 2 + 2 * t, out, 8), 1);
	CHECK_EQ_INT(out[0], 6);
	rove_gate_free(g);
}

/* One user's share of the cap on replies queued: past it that user is
 * lean and its waiting connections cut; another user is not. */
static void test_user_share(void)
{
	rove_gate *g;
	rove_peer a = v4(192, 0, 2, 11);
	uint32_t out[8];
	const uint64_t w = ROVE_MAX_QUEUED_WAIT_MS, share = 800 / ROVE_USER_QUEUED_SHARE;
	const uint64_t ua = 0xa, ub = 0xb;

	CHECK_EQ_INT(rove_gate_new(&g, 8), ROVE_OK);
	rove_gate_set_queue_cap(g, 800);
	for (uint32_t id = 1; id <= 3; id++) {
		CHECK_EQ_INT(rove_gate_open(g, id, &a, 1, NULL), ROVE_OK);
		CHECK_EQ_INT(rove_gate_request(g, id, 1), ROVE_OK);
		CHECK(!rove_gate_authed(g, id, id == 3 ? ub : ua));
	}
	rove_gate_sent(g, 1, share / 2 + 1, 10);
	CHECK(!rove_gate_user_over(g, ua) && !rove_gate_any_user_over(g));
	rove_gate_sent(g, 2, share / 2, 10);
	rove_gate_sent(g, 3, share, 10); /* b: at its share, not past it */
	CHECK(rove_gate_user_over(g, ua) && rove_gate_any_user_over(g));
	CHECK(!rove_gate_user_over(g, ub) && !rove_gate_user_over(g, 0x77));
	CHECK(!rove_gate_over(g)); /* in all: far from the cap */
	for (uint32_t id = 1; id <= 3; id++)
		rove_gate_done(g, id, 10);
	/* a's connections wait w, sampled taking nothing: cut; b's not */
	CHECK_EQ_INT(rove_gate_to_probe(g, 10 + w / 2, out, 8), 2);
	rove_gate_acked(g, out[0], 5, 10 + w / 2);
	rove_gate_acked(g, out[1], 5, 10 + w / 2);
	CHECK_EQ_INT(rove_gate_to_probe(g, 10 + w, out, 8), 2);
	rove_gate_acked(g, out[0], 5, 10 + w);
	rove_gate_acked(g, out[1], 5, 10 + w);
	CHECK_EQ_INT(rove_gate_to_cut(g, 10 + w, out, 8), 2);
	CHECK(out[0] != 3 && out[1] != 3);
	/* written: no longer past; a connection moving to another user
	 * takes what it has queued along */
	rove_gate_written(g, 1, share / 2 + 1, 20 + w);
	CHECK(!rove_gate_user_over(g, ua) && !rove_gate_any_user_over(g));
	CHECK_EQ_INT(rove_gate_request(g, 3, 30 + w), ROVE_OK); /* b's was never cut */
	rove_gate_done(g, 3, 30 + w);
	CHECK(!rove_gate_authed(g, 2, ub)); /* 2 (share / 2 queued) logs in as b */
	CHECK(rove_gate_user_over(g, ub) && !rove_gate_user_over(g, ua));
	rove_gate_close(g, 2);
	CHECK(!rove_gate_user_over(g, ub) && !rove_gate_any_user_over(g));
	/* a cap set anew counts users anew */
	rove_gate_sent(g, 3, 1, 40 + w);
	CHECK(rove_gate_user_over(g, ub));
	rove_gate_set_queue_cap(g, 100000);
	CHECK(!rove_gate_user_over(g, ub) && !rove_gate_any_user_over(g));
	rove_gate_close(g, 1);
	rove_gate_close(g, 3);
	CHECK_EQ_INT(rove_gate_queued(g), 0);
	rove_gate_free(g);
}

int main(void)
{
	test_user_share();
	test_acked();
	test_queued();
	test_user_cap();
	test_caps();
	test_evict();
	test_inflight();
	test_cut(0);
	test_cut(5000);
	test_churn();
	return check_done("test_gate");
}
