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

static void test_caps(void)
{
	rove_gate *g;
	rove_peer nat = v4(10, 0, 0, 1), other = v4(10, 0, 0, 2), lo = v4(127, 0, 0, 1), ipc;
	uint32_t id = 1, all, from;

	memset(&ipc, 0, sizeof(ipc));
	CHECK_EQ_INT(rove_gate_new(&g, 100), ROVE_OK);
	/* One address: its cap, then no more; others are not affected. */
	for (unsigned i = 0; i < ROVE_MAX_PIPES_PER_ADDR; i++)
		CHECK_EQ_INT(rove_gate_open(g, id++, &nat, 0), ROVE_OK);
	CHECK_EQ_INT(rove_gate_open(g, id++, &nat, 0), ROVE_ETOOBIG);
	CHECK_EQ_INT(rove_gate_open(g, id++, &other, 0), ROVE_OK);
	rove_gate_count(g, &nat, &all, &from);
	CHECK_EQ_INT(all, ROVE_MAX_PIPES_PER_ADDR + 1);
	CHECK_EQ_INT(from, ROVE_MAX_PIPES_PER_ADDR);
	/* One closes: one more may come. */
	rove_gate_close(g, 1);
	CHECK_EQ_INT(rove_gate_open(g, id++, &nat, 0), ROVE_OK);
	/* This machine is counted only in the total, up to max_pipes. */
	while (rove_gate_open(g, id, id % 2 ? &lo : &ipc, 0) == ROVE_OK)
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
	CHECK_EQ_INT(rove_gate_open(g, 7, &a, 0), ROVE_OK);
	for (unsigned i = 0; i < ROVE_MAX_PIPE_INFLIGHT; i++)
		CHECK_EQ_INT(rove_gate_request(g, 7, 0), ROVE_OK);
	CHECK_EQ_INT(rove_gate_request(g, 7, 0), ROVE_ETOOBIG);
	rove_gate_done(g, 7, 0);
	CHECK_EQ_INT(rove_gate_request(g, 7, 0), ROVE_OK);
	CHECK_EQ_INT(rove_gate_request(g, 8, 0), ROVE_ENOTFOUND);
	/* The address's cap, over its connections (one in flight each). */
	for (id = 100; id < 100 + ROVE_MAX_PIPES_PER_ADDR - 1; id++)
		CHECK_EQ_INT(rove_gate_open(g, id, &a, 0), ROVE_OK);
	for (id = 100; id < 100 + ROVE_MAX_ADDR_INFLIGHT - ROVE_MAX_PIPE_INFLIGHT; id++)
		CHECK_EQ_INT(rove_gate_request(g, id, 0), ROVE_OK);
	CHECK_EQ_INT(rove_gate_request(g, id, 0), ROVE_ETOOBIG);
	/* A connection that goes takes its requests in flight with it. */
	rove_gate_close(g, 7);
	CHECK_EQ_INT(rove_gate_request(g, id, 0), ROVE_OK);
	rove_gate_done(g, 7, 0); /* gone: ignored */
	/* This machine has no address cap. */
	for (id = 1000; id < 1000 + ROVE_MAX_ADDR_INFLIGHT + 1; id++) {
		CHECK_EQ_INT(rove_gate_open(g, id, &lo, 0), ROVE_OK);
		CHECK_EQ_INT(rove_gate_request(g, id, 0), ROVE_OK);
	}
	rove_gate_free(g);
}

static void test_cut(void)
{
	rove_gate *g;
	rove_peer a = v4(192, 0, 2, 9);
	uint32_t out[8];
	const uint64_t t = ROVE_MAX_IDLE_MS;

	CHECK_EQ_INT(rove_gate_new(&g, 8), ROVE_OK);
	CHECK_EQ_INT(rove_gate_open(g, 1, &a, 1000), ROVE_OK); /* will idle */
	CHECK_EQ_INT(rove_gate_open(g, 2, &a, 1000), ROVE_OK); /* busy */
	CHECK_EQ_INT(rove_gate_open(g, 3, &a, 1000), ROVE_OK); /* doomed */
	CHECK_EQ_INT(rove_gate_open(g, 4, &a, 1000), ROVE_OK); /* progresses */
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
		} else if (rove_gate_open(g, id, &p, 0) == ROVE_OK) {
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

int main(void)
{
	test_caps();
	test_inflight();
	test_cut();
	test_churn();
	return check_done("test_gate");
}
