/*
 * fuzz_gate.c - libFuzzer harness for the connection gate (server/gate.h).
 *
 * The input is a sequence of events on one gate, as the server's pipe
 * notifications, contexts and guard thread would make them: connections
 * opened from a few addresses (ipc://, 127.0.0.1, ::1, three IPv4, one
 * IPv6, one IPv4-mapped IPv6) under pipe ids from a small range (so that
 * they collide in the gate's table and ids are reused after a close),
 * logins, requests received and answered, connections marked or closed,
 * replies handed to nng, taken back and written (under a small cap on
 * the bytes queued), the guard sampling what peers took of replies
 * (rove_gate_to_probe, rove_gate_acked: too little, enough, or not
 * known), the guard asking what to cut (and cutting it), and
 * time moving on by small steps, by the idle timeout and by the wait of
 * a queued reply. The first byte sizes the gate
 * (1 to 96 connections, so that the cap in all, eviction and the cap per
 * address are all reached).
 *
 * Beside the gate the harness keeps its own account of what the header
 * promises (the reference), and checks after every event:
 *   - every answer (open, request, to_cut) is the one the header's rules
 *     give for that account: a cap reached refuses, under it accepts; an
 *     evicted connection is one that never logged in, has nothing in
 *     flight, is not being cut, and waited longest;
 *   - rove_gate_all and rove_gate_count list exactly the open connections:
 *     one a caller closed, or that was refused, is never counted;
 *   - rove_gate_user_over says whether a user's connections (here one
 *     a user) queue more than its share of the cap, and
 *     rove_gate_any_user_over whether any do, which to_probe and to_cut
 *     treat as past the cap for that user's connections;
 *   - rove_gate_queued is the bytes handed and not written over the open
 *     connections, rove_gate_over whether that passes the cap;
 *   - no cap is ever passed: connections in all (max, plus at most
 *     ROVE_MAX_EVICTING being evicted), per address, requests in flight
 *     per connection and per address; no count goes below zero (the
 *     gate's own assertions abort on that).
 * The caller's side of the contract is kept: a request is answered only
 * once, and only if the gate counted it; a login happens in a request the
 * gate counted; an open id is never opened again.
 *
 * A broken property aborts with a line on stderr, which libFuzzer reports
 * as a crash.
 */
#include "err.h"
#include "gate.h"
#include "rove_limits.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                          \
	do {                                                                                                 \
		if (!(cond)) {                                                                               \
			fprintf(stderr, "fuzz_gate: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                             \
		}                                                                                            \
	} while (0)

#define MAX_GATE 96u
#define NPEERS 8u
#define MAX_ID 384u /* pipe ids 1..MAX_ID */
#define MAX_OPEN (MAX_GATE + ROVE_MAX_EVICTING)

/* The reference: one open connection as the header describes it. */
typedef struct ref_pipe {
	uint32_t id;
	unsigned peer; /* index in peers[] */
	uint32_t inflight;
	uint64_t last_ms; /* connected, or last request received or answered */
	uint64_t cut_ms;  /* last given out by to_cut (0: never) */
	uint64_t handed, written, waiting_ms; /* replies queued (rove_gate_sent) */
	uint64_t acked, acked_ms, probe_ms; /* the last sample of what its peer took */
	bool stuck; /* the last samples showed too little, or none was known */
	bool authed, doomed, evicted;
} ref_pipe;

typedef struct ref {
	uint32_t max;
	uint64_t cap; /* on the bytes queued */
	uint32_t n;
	uint32_t evicting;
	ref_pipe p[MAX_OPEN];
} ref;

static rove_peer peers[NPEERS];

/* Which peers share an address the gate counts: local ones share none. */
static bool peer_local(unsigned i)
{
	return i <= 2;
}

static void peers_init(void)
{
	static const uint8_t v4[3][4] = {{10, 0, 0, 1}, {10, 0, 0, 2}, {192, 0, 2, 7}};
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	static const uint8_t mapped[16] = {[10] = 0xff, [11] = 0xff, 10, 0, 0, 1};

	memset(peers, 0, sizeof(peers));
	peers[0].len = 0; /* ipc:// */
	peers[1].len = 4;
	memcpy(peers[1].b, (const uint8_t[]){127, 0, 0, 1}, 4);
	peers[2].len = 16;
	peers[2].b[15] = 1; /* ::1 */
	for (unsigned i = 0; i < 3; i++) {
		peers[3 + i].len = 4;
		memcpy(peers[3 + i].b, v4[i], 4);
	}
	peers[6].len = 16;
	memcpy(peers[6].b, v6, 16);
	peers[7].len = 16;
	memcpy(peers[7].b, mapped, 16);
}

/* ---- the input ---- */

typedef struct input {
	const uint8_t *d;
	size_t n, at;
} input;

static bool more(const input *in)
{
	return in->at < in->n;
}

static uint8_t byte(input *in)
{
	return in->at < in->n ? in->d[in->at++] : 0;
}

static uint32_t u16(input *in)
{
	uint32_t hi = byte(in);
	return hi << 8 | byte(in);
}

/* ---- the reference's account ---- */

static ref_pipe *ref_find(ref *r, uint32_t id)
{
	for (uint32_t i = 0; i < r->n; i++)
		if (r->p[i].id == id)
			return &r->p[i];
	return NULL;
}

/* An open connection chosen by the input (NULL if none is open). */
static ref_pipe *ref_pick(ref *r, input *in)
{
	return r->n == 0 ? NULL : &r->p[byte(in) % r->n];
}

static uint32_t addr_pipes(const ref *r, unsigned peer)
{
	uint32_t k = 0;
	for (uint32_t i = 0; i < r->n; i++)
		if (r->p[i].peer == peer || (peer_local(peer) && peer_local(r->p[i].peer)))
			k++;
	return k;
}

static uint32_t addr_inflight(const ref *r, unsigned peer)
{
	uint32_t k = 0;
	for (uint32_t i = 0; i < r->n; i++)
		if (r->p[i].peer == peer)
			k += r->p[i].inflight;
	return k;
}

static void ref_remove(ref *r, ref_pipe *p)
{
	if (p->evicted) {
		CHECK(r->evicting > 0);
		r->evicting--;
	}
	*p = r->p[--r->n];
}

/* Whether a newcomer may take p's place (rove_gate_open). */
static bool evictable(const ref_pipe *p)
{
	return !p->authed && !p->doomed && p->cut_ms == 0 && p->inflight == 0;
}

static uint64_t ref_queued(const ref *r)
{
	uint64_t q = 0;
	for (uint32_t i = 0; i < r->n; i++)
		q += r->p[i].handed - r->p[i].written;
	return q;
}

/* One user's share of the cap (a user a connection here: its id). */
static uint64_t user_cap(const ref *r)
{
	return r->cap / ROVE_USER_QUEUED_SHARE > 0 ? r->cap / ROVE_USER_QUEUED_SHARE : 1;
}

static bool user_over(const ref *r, const ref_pipe *p)
{
	return p->authed && p->handed - p->written > user_cap(r);
}

/* Whether to_cut at now must give p out (rove_gate_to_cut); over: the
 * bytes queued pass the cap in all or p's user's share. */
static bool to_cut(const ref_pipe *p, uint64_t now, bool over)
{
	/* sent a reply and not seen taking too little of it: twice the time */
	uint64_t idle_ms = p->handed > 0 && !p->stuck ? 2ull * ROVE_MAX_IDLE_MS : ROVE_MAX_IDLE_MS;
	uint64_t wait_ms = p->handed > 0 && !p->stuck ? 2ull * ROVE_MAX_QUEUED_WAIT_MS : ROVE_MAX_QUEUED_WAIT_MS;
	bool idle = p->inflight == 0 && now >= p->last_ms && now - p->last_ms >= idle_ms;
	bool again = p->cut_ms == 0 || (now >= p->cut_ms && now - p->cut_ms >= ROVE_MAX_IDLE_MS);
	bool stalled = over && p->waiting_ms != 0 && now >= p->waiting_ms && now - p->waiting_ms >= wait_ms;
	return (p->doomed || idle || stalled) && again;
}

/* Whether to_probe at now must give p out (rove_gate_to_probe). */
static bool to_probe(const ref_pipe *p, uint64_t now, bool over)
{
	bool idling = p->inflight == 0 && now >= p->last_ms && now - p->last_ms >= ROVE_MAX_IDLE_MS / 2;
	bool waiting = over && p->waiting_ms != 0 && now >= p->waiting_ms &&
		       now - p->waiting_ms >= ROVE_MAX_QUEUED_WAIT_MS / 2;
	uint64_t every = (waiting ? ROVE_MAX_QUEUED_WAIT_MS : ROVE_MAX_IDLE_MS) / 2;

	if (p->doomed || p->cut_ms != 0 || p->handed == 0 || !(idling || waiting))
		return false;
	return p->probe_ms == 0 || now < p->probe_ms || now - p->probe_ms >= every;
}

/* ---- the checks after every event ---- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void check_all(rove_gate *g, const ref *r)
{
	static uint32_t got[MAX_OPEN + 1], want[MAX_OPEN];
	size_t n = rove_gate_all(g, got, MAX_OPEN + 1);
	uint32_t all, from;

	CHECK(n == r->n);
	CHECK(rove_gate_queued(g) == ref_queued(r));
	CHECK(rove_gate_over(g) == (ref_queued(r) > r->cap));
	for (uint32_t i = 0; i < r->n; i++)
		want[i] = r->p[i].id;
	qsort(got, n, sizeof(got[0]), cmp_u32);
	qsort(want, r->n, sizeof(want[0]), cmp_u32);
	CHECK(memcmp(got, want, n * sizeof(got[0])) == 0); /* also: no id twice */
	/* The caps in all: the max, and those evicted until they are gone. */
	CHECK(r->evicting <= ROVE_MAX_EVICTING);
	CHECK(r->n <= r->max + r->evicting);
	CHECK(r->n - r->evicting <= r->max);
	for (unsigned k = 0; k < NPEERS; k++) {
		rove_gate_count(g, &peers[k], &all, &from);
		CHECK(all == r->n);
		CHECK(from == addr_pipes(r, k));
		if (!peer_local(k)) {
			CHECK(from <= ROVE_MAX_PIPES_PER_ADDR);
			CHECK(addr_inflight(r, k) <= ROVE_MAX_ADDR_INFLIGHT);
		}
	}
	{
		bool any = false;
		for (uint32_t i = 0; i < r->n; i++) {
			CHECK(rove_gate_user_over(g, r->p[i].id) == (r->p[i].authed && user_over(r, &r->p[i])));
			any |= user_over(r, &r->p[i]);
		}
		CHECK(rove_gate_any_user_over(g) == any);
	}
	for (uint32_t i = 0; i < r->n; i++) {
		CHECK(r->p[i].inflight <= ROVE_MAX_PIPE_INFLIGHT);
		CHECK(!r->p[i].evicted || (r->p[i].doomed && !r->p[i].authed));
	}
}

/* ---- the events ---- */

static void ev_open(rove_gate *g, ref *r, input *in, uint64_t now)
{
	uint32_t id = 1 + u16(in) % MAX_ID, evicted = 12345;
	unsigned peer = byte(in) % NPEERS;
	ref_pipe *victim = NULL;
	bool refuse = false;
	int rc;

	if (ref_find(r, id) != NULL)
		return; /* nng never opens an open pipe's id again */
	if (!peer_local(peer) && addr_pipes(r, peer) >= ROVE_MAX_PIPES_PER_ADDR) {
		refuse = true;
	} else if (r->n >= r->max) {
		for (uint32_t i = 0; i < r->n; i++)
			if (evictable(&r->p[i]) && (victim == NULL || r->p[i].last_ms < victim->last_ms))
				victim = &r->p[i];
		refuse = r->evicting >= ROVE_MAX_EVICTING || victim == NULL;
	}
	rc = rove_gate_open(g, id, &peers[peer], now, &evicted);
	if (refuse) {
		CHECK(rc == ROVE_ETOOBIG);
		CHECK(evicted == 0);
		return;
	}
	CHECK(rc == ROVE_OK);
	if (victim == NULL) {
		CHECK(evicted == 0);
	} else {
		ref_pipe *v = ref_find(r, evicted);
		/* Any of those that waited longest (ties are the gate's choice). */
		CHECK(v != NULL && evictable(v) && v->last_ms == victim->last_ms);
		v->doomed = v->evicted = true;
		r->evicting++;
	}
	CHECK(r->n < MAX_OPEN);
	r->p[r->n++] = (ref_pipe){.id = id, .peer = peer, .last_ms = now};
}

static void ev_request(rove_gate *g, ref *r, input *in, uint64_t now)
{
	ref_pipe *p = ref_pick(r, in);
	uint32_t id = p != NULL ? p->id : 1 + u16(in) % MAX_ID;
	int rc;

	if (p == NULL) {
		CHECK(rove_gate_request(g, id, now) == ROVE_ENOTFOUND);
		return;
	}
	rc = rove_gate_request(g, id, now);
	if (p->doomed || p->cut_ms != 0) {
		CHECK(rc == ROVE_ENOTFOUND);
	} else if (p->inflight >= ROVE_MAX_PIPE_INFLIGHT ||
		   (!peer_local(p->peer) && addr_inflight(r, p->peer) >= ROVE_MAX_ADDR_INFLIGHT)) {
		CHECK(rc == ROVE_ETOOBIG);
	} else {
		CHECK(rc == ROVE_OK);
		p->inflight++;
		p->last_ms = now;
		p->acked_ms = 0;
		p->stuck = false;
	}
}

static void ev_done(rove_gate *g, ref *r, input *in, uint64_t now)
{
	ref_pipe *p = ref_pick(r, in);

	if (p == NULL || p->inflight == 0) {
		/* A reply for a connection that is gone: nothing. */
		uint32_t id = 1 + u16(in) % MAX_ID;
		if (ref_find(r, id) == NULL)
			rove_gate_done(g, id, now);
		return;
	}
	rove_gate_done(g, p->id, now);
	p->inflight--;
	p->last_ms = now;
	p->acked_ms = 0;
	p->stuck = false;
}

/* The guard samples what peers took: each sample a number of bytes
 * over the last (0: too little) or not known. */
static void ev_probe(rove_gate *g, ref *r, input *in, uint64_t now)
{
	static uint32_t out[MAX_OPEN];
	size_t max = 1 + byte(in) % MAX_OPEN, n, due = 0;
	bool over = ref_queued(r) > r->cap;

	for (uint32_t i = 0; i < r->n; i++)
		due += to_probe(&r->p[i], now, over || user_over(r, &r->p[i]));
	n = rove_gate_to_probe(g, now, out, max);
	CHECK(n == (due < max ? due : max));
	for (size_t i = 0; i < n; i++) {
		ref_pipe *p = ref_find(r, out[i]);
		uint8_t b = byte(in);
		uint64_t acked;
		CHECK(p != NULL && to_probe(p, now, over || user_over(r, p)));
		p->probe_ms = now != 0 ? now : 1;
		acked = b == 255 ? UINT64_MAX : p->acked + (uint64_t)b * 1000;
		rove_gate_acked(g, p->id, acked, now);
		if (acked == UINT64_MAX) {
			p->stuck = true;
			continue;
		}
		if (p->acked_ms != 0 && now > p->acked_ms) {
			uint64_t least = (now - p->acked_ms) * ROVE_MIN_READ_BYTES_PER_S / 1000;
			if (acked > p->acked && acked - p->acked >= (least > 0 ? least : 1)) {
				p->last_ms = now;
				if (p->waiting_ms != 0)
					p->waiting_ms = now;
				p->stuck = false;
			} else {
				p->stuck = true;
			}
		}
		p->acked = acked;
		p->acked_ms = now != 0 ? now : 1;
	}
}

static void ev_cut(rove_gate *g, ref *r, input *in, uint64_t now)
{
	static uint32_t out[MAX_OPEN];
	size_t max = 1 + byte(in) % MAX_OPEN, n, due = 0;
	bool close_them = byte(in) & 1, over = ref_queued(r) > r->cap;

	for (uint32_t i = 0; i < r->n; i++)
		due += to_cut(&r->p[i], now, over || user_over(r, &r->p[i]));
	n = rove_gate_to_cut(g, now, out, max);
	CHECK(n == (due < max ? due : max));
	for (size_t i = 0; i < n; i++) {
		ref_pipe *p = ref_find(r, out[i]);
		CHECK(p != NULL && to_cut(p, now, over || user_over(r, p)));
		p->cut_ms = now != 0 ? now : 1;
	}
	if (close_them)
		for (size_t i = 0; i < n; i++) {
			rove_gate_close(g, out[i]);
			ref_remove(r, ref_find(r, out[i]));
		}
}

/* Replies queued: handed (kind 0), taken back (1), written by nng (2),
 * as the header says each counts; on a connection that is gone, nothing. */
static void ev_queue(rove_gate *g, ref *r, input *in, uint64_t now, int kind)
{
	ref_pipe *p = ref_pick(r, in);
	uint64_t bytes = (uint64_t)byte(in) * 16;
	uint32_t id = p != NULL ? p->id : 1 + u16(in) % MAX_ID;

	if (kind == 0) {
		rove_gate_sent(g, id, bytes, now);
		if (p != NULL && bytes > 0) {
			if (p->handed == p->written)
				p->waiting_ms = now != 0 ? now : 1;
			p->handed += bytes;
		}
	} else if (kind == 1) {
		rove_gate_unsent(g, id, bytes);
		if (p != NULL) {
			uint64_t back = p->handed - p->written < bytes ? p->handed - p->written : bytes;
			p->handed -= back;
			if (p->handed == p->written)
				p->waiting_ms = 0;
		}
	} else {
		/* nng's count only grows: from what it had */
		if (p != NULL)
			bytes += p->written;
		rove_gate_written(g, id, bytes, now);
		if (p != NULL && bytes > p->written) {
			p->stuck = false;
			p->written = bytes < p->handed ? bytes : p->handed;
			p->waiting_ms = p->handed == p->written ? 0 : (now != 0 ? now : 1);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ref r;
	input in = {data, size, 0};
	rove_gate *g;
	uint64_t now;

	if (size < 3)
		return 0;
	peers_init();
	memset(&r, 0, sizeof(r));
	r.max = 1 + byte(&in) % MAX_GATE;
	now = (uint64_t)byte(&in) * 1000; /* a monotonic clock may start at 0 */
	r.cap = 1 + (uint64_t)byte(&in) * 64;
	CHECK(rove_gate_new(&g, r.max) == ROVE_OK);
	rove_gate_set_queue_cap(g, r.cap);
	while (more(&in)) {
		uint8_t ev = byte(&in);
		ref_pipe *p;
		switch (ev % 16) {
		case 0:
		case 1:
			ev_open(g, &r, &in, now);
			break;
		case 2:
			if ((p = ref_pick(&r, &in)) != NULL) {
				rove_gate_close(g, p->id);
				ref_remove(&r, p);
			} else {
				rove_gate_close(g, 1 + u16(&in) % MAX_ID); /* one it refused */
			}
			break;
		case 3: /* a login, in a request the gate counted */
			if ((p = ref_pick(&r, &in)) != NULL && p->inflight > 0) {
				/* one user a connection: the cap per user is
				 * unit_gate's (this model knows no users) */
				CHECK(!rove_gate_authed(g, p->id, p->id));
				p->authed = true;
			}
			break;
		case 4:
		case 5:
			ev_request(g, &r, &in, now);
			break;
		case 6:
			ev_done(g, &r, &in, now);
			break;
		case 7:
			if ((p = ref_pick(&r, &in)) != NULL) {
				rove_gate_doom(g, p->id);
				p->doomed = true;
			}
			break;
		case 8:
			ev_cut(g, &r, &in, now);
			break;
		case 9:
			ev_probe(g, &r, &in, now);
			break;
		case 10: { /* a crowd from one address: n connections */
			input burst;
			uint8_t b[4];
			uint32_t n = 1 + byte(&in) % 40, id = u16(&in);
			b[3] = byte(&in);
			for (uint32_t i = 0; i < n; i++, id++) {
				b[0] = 0;
				b[1] = (uint8_t)(id >> 8);
				b[2] = (uint8_t)id;
				burst = (input){b, sizeof(b), 1};
				ev_open(g, &r, &burst, now);
			}
			break;
		}
		case 11: /* a request on every connection */
			for (uint32_t i = 0; i < r.n; i++) {
				uint8_t b = (uint8_t)i;
				input one = {&b, 1, 0};
				ev_request(g, &r, &one, now);
			}
			break;
		case 12:
		case 13:
		case 14:
			ev_queue(g, &r, &in, now, ev % 16 - 12);
			break;
		default: {
			static const uint64_t steps[] = {0,
							 1,
							 999,
							 ROVE_MAX_IDLE_MS - 1,
							 ROVE_MAX_IDLE_MS,
							 ROVE_MAX_IDLE_MS + 1,
							 ROVE_MAX_QUEUED_WAIT_MS - 1,
							 ROVE_MAX_QUEUED_WAIT_MS,
							 ROVE_MAX_IDLE_MS / 2,
							 ROVE_MAX_QUEUED_WAIT_MS / 2,
							 2 * ROVE_MAX_IDLE_MS};
			uint8_t b = byte(&in);
			now += b < 192 ? steps[b % 11] : (uint64_t)(b - 191) * 1000;
			break;
		}
		}
		check_all(g, &r);
	}
	rove_gate_free(g);
	return 0;
}
