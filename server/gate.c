#include "gate.h"
#include "rove_assert.h"

#include "err.h"
#include "hash.h"
#include "random.h"
#include "rove_limits.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Two open-addressing tables with linear probing and backward-shift
 * deletion (no tombstones), each at most half full: connections by pipe
 * id, and addresses (other than this machine's) by address. */

typedef struct pipe_slot {
	uint32_t id; /* 0: empty (nng never uses 0) */
	uint32_t inflight;
	uint64_t last_ms; /* connected, or last request or reply */
	uint64_t cut_ms;  /* when it was last given out to be cut (0: never) */
	uint64_t first_cut_ms; /* when it was first given out to be cut (0: never) */
	bool doomed;      /* to be cut: its client does not read, or evicted */
	bool authed;      /* a request of it authenticated */
	bool evicted;     /* to be cut to make room for a newcomer */
	bool closing;     /* given out by rove_gate_to_close */
	uint64_t user;    /* rove_gate_authed's (0: none yet) */
	uint64_t handed;  /* bytes of replies handed to nng (rove_gate_sent) */
	uint64_t written; /* of those, written (rove_gate_written) */
	uint64_t waiting_ms; /* since when replies wait with none written (0: none wait) */
	/* What the peer acknowledged of the bytes sent (rove_gate_acked): the
	 * last sample and when it was taken (0: none since the last request
	 * or reply), when the connection was last given out to be sampled,
	 * and whether the last two samples showed too little progress (or
	 * none could be taken). */
	uint64_t acked, acked_ms, probe_ms;
	bool stuck;
	rove_peer peer;
} pipe_slot;

typedef struct addr_slot {
	uint32_t pipes; /* 0: empty */
	uint32_t inflight;
	rove_peer peer;
} addr_slot;

/* A user's open connections (rove_gate_authed) and the bytes of replies
 * queued on them. */
typedef struct user_slot {
	uint64_t user; /* 0: empty */
	uint32_t pipes;
	uint64_t queued;
} user_slot;

struct rove_gate {
	pthread_mutex_t mu;
	uint32_t max_pipes, npipes;
	uint32_t idle_ms; /* rove_gate_set_idle */
	uint32_t evicting; /* of npipes, evicted and not yet gone */
	uint32_t max_user; /* connections one user may hold (rove_gate_authed) */
	uint32_t mask; /* capacity - 1, for both tables */
	uint64_t seed; /* addresses are chosen by peers: where they land is not */
	uint64_t queued; /* the sum of handed - written over the open connections */
	uint64_t queue_cap; /* rove_gate_set_queue_cap */
	uint64_t user_cap;  /* of it, one user's: queue_cap / ROVE_USER_QUEUED_SHARE */
	uint32_t users_over; /* users whose queued passes user_cap */
	pipe_slot *pipes;
	addr_slot *addrs;
	user_slot *users;
};

int rove_gate_new(rove_gate **out, uint32_t max_pipes)
{
	rove_gate *g = calloc(1, sizeof(*g));
	uint32_t cap = 1;

	ROVE_ASSERT(max_pipes > 0 && max_pipes <= (1u << 28));
	while (cap < 2 * (max_pipes + ROVE_MAX_EVICTING))
		cap <<= 1;
	if (g == NULL)
		return ROVE_ENOMEM;
	g->pipes = calloc(cap, sizeof(*g->pipes));
	g->addrs = calloc(cap, sizeof(*g->addrs));
	g->users = calloc(cap, sizeof(*g->users));
	if (g->pipes == NULL || g->addrs == NULL || g->users == NULL) {
		free(g->pipes);
		free(g->addrs);
		free(g->users);
		free(g);
		return ROVE_ENOMEM;
	}
	g->seed = rove_random_seed();
	g->max_pipes = max_pipes;
	/* a quarter of the slots at most, so that one user never holds
	 * them all under a low --max-connections; two at least */
	g->max_user = max_pipes / 4 > ROVE_MAX_USER_PIPES ? ROVE_MAX_USER_PIPES : max_pipes / 4;
	if (g->max_user < 2)
		g->max_user = 2;
	g->idle_ms = ROVE_MAX_IDLE_MS;
	g->queue_cap = ROVE_MAX_QUEUED_REPLY_BYTES;
	g->user_cap = ROVE_MAX_QUEUED_REPLY_BYTES / ROVE_USER_QUEUED_SHARE;
	g->mask = cap - 1;
	pthread_mutex_init(&g->mu, NULL);
	*out = g;
	return ROVE_OK;
}

void rove_gate_set_idle(rove_gate *g, uint32_t idle_ms)
{
	ROVE_ASSERT(idle_ms > 0 && idle_ms <= ROVE_MAX_IDLE_MS);
	pthread_mutex_lock(&g->mu);
	g->idle_ms = idle_ms;
	pthread_mutex_unlock(&g->mu);
}

void rove_gate_set_queue_cap(rove_gate *g, uint64_t bytes)
{
	ROVE_ASSERT(bytes > 0);
	pthread_mutex_lock(&g->mu);
	g->queue_cap = bytes;
	g->user_cap = bytes / ROVE_USER_QUEUED_SHARE > 0 ? bytes / ROVE_USER_QUEUED_SHARE : 1;
	g->users_over = 0;
	for (uint32_t i = 0; i <= g->mask; i++)
		if (g->users[i].user != 0 && g->users[i].queued > g->user_cap)
			g->users_over++;
	pthread_mutex_unlock(&g->mu);
}

void rove_gate_free(rove_gate *g)
{
	if (g == NULL)
		return;
	pthread_mutex_destroy(&g->mu);
	free(g->pipes);
	free(g->addrs);
	free(g->users);
	free(g);
}

/* This machine: local transports (no address), 127.0.0.1 and ::1. */
static bool is_local(const rove_peer *p)
{
	static const uint8_t lo4[4] = {127, 0, 0, 1};
	static const uint8_t lo6[16] = {[15] = 1};

	return p->len == 0 || (p->len == 4 && memcmp(p->b, lo4, 4) == 0) ||
	       (p->len == 16 && memcmp(p->b, lo6, 16) == 0);
}

static uint32_t pipe_home(const rove_gate *g, uint32_t id)
{
	return (uint32_t)(((uint64_t)id * 0x9e3779b97f4a7c15ull) >> 32) & g->mask;
}

static uint32_t addr_home(const rove_gate *g, const rove_peer *p)
{
	uint64_t h = rove_fnv1a(ROVE_FNV_BASIS ^ g->seed, &p->len, 1);

	h = rove_fnv1a(h, p->b, p->len < sizeof(p->b) ? p->len : sizeof(p->b));
	return (uint32_t)(h ^ (h >> 32)) & g->mask;
}

static bool same_peer(const rove_peer *a, const rove_peer *b)
{
	return a->len == b->len && memcmp(a->b, b->b, a->len) == 0;
}

static uint32_t user_home(const rove_gate *g, uint64_t user)
{
	uint64_t h = (user ^ g->seed) * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(h >> 32) & g->mask;
}

/* The slot of pipe id, or of the empty slot where it would go. */
static pipe_slot *pipe_find(rove_gate *g, uint32_t id)
{
	uint32_t i = pipe_home(g, id);

	while (g->pipes[i].id != 0 && g->pipes[i].id != id)
		i = (i + 1) & g->mask;
	return &g->pipes[i];
}

static addr_slot *addr_find(rove_gate *g, const rove_peer *p)
{
	uint32_t i = addr_home(g, p);

	while (g->addrs[i].pipes != 0 && !same_peer(&g->addrs[i].peer, p))
		i = (i + 1) & g->mask;
	return &g->addrs[i];
}

static user_slot *user_find(rove_gate *g, uint64_t user)
{
	uint32_t i = user_home(g, user);

	while (g->users[i].user != 0 && g->users[i].user != user)
		i = (i + 1) & g->mask;
	return &g->users[i];
}

/* Whether the entry at j, whose home is h, may move back to the hole
 * at i: unless h lies cyclically in (i, j], moving it keeps it findable. */
static bool may_fill(const rove_gate *g, uint32_t i, uint32_t j, uint32_t h)
{
	return ((j - h) & g->mask) >= ((j - i) & g->mask);
}

/* One of the gate's tables: its slots of size bytes, whether a slot is
 * empty, and where an entry's probe starts. */
typedef struct table {
	void *slots;
	size_t size;
	bool (*empty)(const void *slot);
	uint32_t (*home)(const rove_gate *g, const void *slot);
} table;

/* Empties slot i of t and moves back the entries after it that would no
 * longer be found (backward-shift deletion: no tombstones). */
static void slot_remove(const rove_gate *g, const table *t, uint32_t i)
{
	uint8_t *v = t->slots;
	uint32_t j = i;

	for (;;) {
		j = (j + 1) & g->mask;
		if (t->empty(v + (size_t)j * t->size))
			break;
		if (may_fill(g, i, j, t->home(g, v + (size_t)j * t->size))) {
			memcpy(v + (size_t)i * t->size, v + (size_t)j * t->size, t->size);
			i = j;
		}
	}
	memset(v + (size_t)i * t->size, 0, t->size);
}

static bool pipe_empty(const void *s)
{
	return ((const pipe_slot *)s)->id == 0;
}

static uint32_t pipe_slot_home(const rove_gate *g, const void *s)
{
	return pipe_home(g, ((const pipe_slot *)s)->id);
}

static bool addr_empty(const void *s)
{
	return ((const addr_slot *)s)->pipes == 0;
}

static uint32_t addr_slot_home(const rove_gate *g, const void *s)
{
	return addr_home(g, &((const addr_slot *)s)->peer);
}

static bool user_empty(const void *s)
{
	return ((const user_slot *)s)->user == 0;
}

static uint32_t user_slot_home(const rove_gate *g, const void *s)
{
	return user_home(g, ((const user_slot *)s)->user);
}

static void pipe_remove(rove_gate *g, pipe_slot *s)
{
	const table t = {g->pipes, sizeof(*s), pipe_empty, pipe_slot_home};

	slot_remove(g, &t, (uint32_t)(s - g->pipes));
}

static void addr_remove(rove_gate *g, addr_slot *s)
{
	const table t = {g->addrs, sizeof(*s), addr_empty, addr_slot_home};

	slot_remove(g, &t, (uint32_t)(s - g->addrs));
}

static void user_remove(rove_gate *g, user_slot *s)
{
	const table t = {g->users, sizeof(*s), user_empty, user_slot_home};

	slot_remove(g, &t, (uint32_t)(s - g->users));
}

/* The bytes queued on p's connection count for its user too: add (up)
 * or take (!up) n of them. */
static void user_queued(rove_gate *g, const pipe_slot *p, uint64_t n, bool up)
{
	user_slot *u;
	bool was;

	if (p->user == 0 || n == 0)
		return;
	u = user_find(g, p->user);
	ROVE_ASSERT(u->user == p->user && u->pipes > 0);
	was = u->queued > g->user_cap;
	ROVE_ASSERT(up || u->queued >= n);
	u->queued = up ? u->queued + n : u->queued - n;
	if (was != (u->queued > g->user_cap)) {
		ROVE_ASSERT(was ? g->users_over > 0 : true);
		g->users_over = was ? g->users_over - 1 : g->users_over + 1;
	}
}

/* p's connection leaves its user (closed, or logged in as another). */
static void user_leave(rove_gate *g, pipe_slot *p)
{
	user_slot *u;

	if (p->user == 0)
		return;
	user_queued(g, p, p->handed - p->written, false);
	u = user_find(g, p->user);
	ROVE_ASSERT(u->user == p->user && u->pipes > 0);
	if (--u->pipes == 0) {
		ROVE_ASSERT(u->queued == 0);
		user_remove(g, u);
	}
	p->user = 0;
}

/* Whether p's user has more queued than a user may. */
static bool user_over(rove_gate *g, const pipe_slot *p)
{
	const user_slot *u;

	if (p->user == 0 || g->users_over == 0)
		return false;
	u = user_find(g, p->user);
	return u->user == p->user && u->queued > g->user_cap;
}

/* The connection to cut for a newcomer: of those that never
 * authenticated, have nothing in flight and are not being cut, the one
 * that made progress longest ago; NULL if none. A walk of the table: only
 * when it is full. */
static pipe_slot *eviction_victim(rove_gate *g)
{
	pipe_slot *best = NULL;

	for (uint32_t i = 0; i <= g->mask; i++) {
		pipe_slot *p = &g->pipes[i];
		if (p->id != 0 && !p->authed && !p->doomed && p->cut_ms == 0 && p->inflight == 0 &&
		    (best == NULL || p->last_ms < best->last_ms))
			best = p;
	}
	return best;
}

int rove_gate_open(rove_gate *g, uint32_t pipe, const rove_peer *peer, uint64_t now_ms, uint32_t *evicted)
{
	bool local = is_local(peer);
	pipe_slot *p, *victim = NULL;
	addr_slot *a = NULL;
	int rc = ROVE_OK;

	ROVE_ASSERT(pipe != 0);
	if (evicted != NULL)
		*evicted = 0;
	pthread_mutex_lock(&g->mu);
	p = pipe_find(g, pipe);
	ROVE_ASSERT(p->id == 0); /* nng does not reuse the id of an open pipe */
	if (!local)
		a = addr_find(g, peer);
	if (a != NULL && a->pipes >= ROVE_MAX_PIPES_PER_ADDR) {
		rc = ROVE_ETOOBIG;
	} else if (g->npipes >= g->max_pipes &&
		   (g->evicting >= ROVE_MAX_EVICTING || (victim = eviction_victim(g)) == NULL)) {
		rc = ROVE_ETOOBIG;
	} else {
		if (victim != NULL) {
			victim->doomed = true;
			victim->evicted = true;
			g->evicting++;
			if (evicted != NULL)
				*evicted = victim->id;
		}
		/* The walk did not move p: only removals move entries. */
		memset(p, 0, sizeof(*p));
		p->id = pipe;
		p->last_ms = now_ms;
		p->peer = *peer;
		g->npipes++;
		if (a != NULL) {
			if (a->pipes == 0)
				a->peer = *peer;
			a->pipes++;
		}
	}
	pthread_mutex_unlock(&g->mu);
	return rc;
}

void rove_gate_close(rove_gate *g, uint32_t pipe)
{
	pipe_slot *p;

	pthread_mutex_lock(&g->mu);
	p = pipe_find(g, pipe);
	if (p->id == pipe && pipe != 0) {
		if (!is_local(&p->peer)) {
			addr_slot *a = addr_find(g, &p->peer);
			ROVE_ASSERT(a->pipes > 0 && a->inflight >= p->inflight);
			a->inflight -= p->inflight;
			if (--a->pipes == 0)
				addr_remove(g, a);
		}
		if (p->evicted) {
			ROVE_ASSERT(g->evicting > 0);
			g->evicting--;
		}
		ROVE_ASSERT(p->written <= p->handed && g->queued >= p->handed - p->written);
		user_leave(g, p);
		g->queued -= p->handed - p->written;
		pipe_remove(g, p);
		g->npipes--;
	}
	pthread_mutex_unlock(&g->mu);
}

/* p's client went on (a request delivered, a reply sent): progress, and
 * what its peer took is sampled anew from then (rove_gate_acked). */
static void went_on(pipe_slot *p, uint64_t now_ms)
{
	p->last_ms = now_ms;
	p->acked_ms = 0;
	p->stuck = false;
}

int rove_gate_request(rove_gate *g, uint32_t pipe, uint64_t now_ms)
{
	pipe_slot *p;
	addr_slot *a = NULL;
	int rc = ROVE_OK;

	pthread_mutex_lock(&g->mu);
	p = pipe_find(g, pipe);
	if (p->id != pipe || pipe == 0 || p->doomed || p->cut_ms != 0) {
		rc = ROVE_ENOTFOUND;
	} else {
		if (!is_local(&p->peer))
			a = addr_find(g, &p->peer);
		ROVE_ASSERT(a == NULL || a->pipes > 0);
		if (p->inflight >= ROVE_MAX_PIPE_INFLIGHT || (a != NULL && a->inflight >= ROVE_MAX_ADDR_INFLIGHT)) {
			rc = ROVE_ETOOBIG;
		} else {
			p->inflight++;
			went_on(p, now_ms);
			if (a != NULL)
				a->inflight++;
		}
	}
	pthread_mutex_unlock(&g->mu);
	return rc;
}

void rove_gate_done(rove_gate *g, uint32_t pipe, uint64_t now_ms)
{
	pipe_slot *p;

	pthread_mutex_lock(&g->mu);
	p = pipe_find(g, pipe);
	if (p->id == pipe && pipe != 0) {
		ROVE_ASSERT(p->inflight > 0);
		p->inflight--;
		went_on(p, now_ms);
		if (!is_local(&p->peer)) {
			addr_slot *a = addr_find(g, &p->peer);
			ROVE_ASSERT(a->pipes > 0 && a->inflight > 0);
			a->inflight--;
		}
	}
	pthread_mutex_unlock(&g->mu);
}

bool rove_gate_authed(rove_gate *g, uint32_t pipe, uint64_t user)
{
	pipe_slot *p, *lru = NULL;
	uint32_t held = 0;
	bool doomed = false;

	ROVE_ASSERT(user != 0);
	pthread_mutex_lock(&g->mu);
	p = pipe_find(g, pipe);
	if (p->id == pipe && pipe != 0 && p->user != user) {
		user_slot *u;
		user_leave(g, p);
		p->authed = true;
		p->user = user;
		u = user_find(g, user);
		if (u->user == 0)
			u->user = user;
		u->pipes++;
		user_queued(g, p, p->handed - p->written, true);
		/* (a walk of the table, once a connection: at its first
		 * request, or when it logs in as another user) */
		for (uint32_t i = 0; i <= g->mask; i++) {
			pipe_slot *q = &g->pipes[i];
			if (q->id == 0 || q->user != user || q->doomed)
				continue;
			held++;
			if (lru == NULL || q->last_ms < lru->last_ms)
				lru = q;
		}
		if (held > g->max_user && lru != NULL) {
			lru->doomed = true;
			doomed = true;
		}
	}
	pthread_mutex_unlock(&g->mu);
	return doomed;
}

void rove_gate_sent(rove_gate *g, uint32_t pipe, uint64_t bytes, uint64_t now_ms)
{
	pipe_slot *p;

	pthread_mutex_lock(&g->mu);
	p = pipe_find(g, pipe);
	if (p->id == pipe && pipe != 0 && bytes > 0) {
		if (p->handed == p->written)
			p->waiting_ms = now_ms != 0 ? now_ms : 1;
		p->handed += bytes;
		g->queued += bytes;
		user_queued(g, p, bytes, true);
	}
	pthread_mutex_unlock(&g->mu);
}

void rove_gate_unsent(rove_gate *g, uint32_t pipe, uint64_t bytes)
{
	pipe_slot *p;

	pthread_mutex_lock(&g->mu);
	p = pipe_find(g, pipe);
	if (p->id == pipe && pipe != 0) {
		/* never below what nng says it wrote */
		uint64_t back = p->handed - p->written < bytes ? p->handed - p->written : bytes;
		user_queued(g, p, back, false);
		p->handed -= back;
		g->queued -= back;
		if (p->handed == p->written)
			p->waiting_ms = 0;
	}
	pthread_mutex_unlock(&g->mu);
}

void rove_gate_written(rove_gate *g, uint32_t pipe, uint64_t bytes, uint64_t now_ms)
{
	pipe_slot *p;

	pthread_mutex_lock(&g->mu);
	p = pipe_find(g, pipe);
	if (p->id == pipe && pipe != 0 && bytes > p->written) {
		/* A reply taken back after nng wrote it cannot be: clamped,
		 * so that the count never goes below zero. */
		uint64_t now = bytes < p->handed ? bytes : p->handed;
		g->queued -= now - p->written;
		user_queued(g, p, now - p->written, false);
		p->written = now;
		p->stuck = false;
		p->waiting_ms = p->handed == p->written ? 0 : (now_ms != 0 ? now_ms : 1);
	}
	pthread_mutex_unlock(&g->mu);
}

uint64_t rove_gate_queued(rove_gate *g)
{
	uint64_t q;

	pthread_mutex_lock(&g->mu);
	q = g->queued;
	pthread_mutex_unlock(&g->mu);
	return q;
}

bool rove_gate_over(rove_gate *g)
{
	bool over;

	pthread_mutex_lock(&g->mu);
	over = g->queued > g->queue_cap;
	pthread_mutex_unlock(&g->mu);
	return over;
}

bool rove_gate_user_over(rove_gate *g, uint64_t user)
{
	bool over = false;

	pthread_mutex_lock(&g->mu);
	if (user != 0 && g->users_over > 0) {
		const user_slot *u = user_find(g, user);
		over = u->user == user && u->queued > g->user_cap;
	}
	pthread_mutex_unlock(&g->mu);
	return over;
}

bool rove_gate_any_user_over(rove_gate *g)
{
	bool over;

	pthread_mutex_lock(&g->mu);
	over = g->users_over > 0;
	pthread_mutex_unlock(&g->mu);
	return over;
}

void rove_gate_doom(rove_gate *g, uint32_t pipe)
{
	pipe_slot *p;

	pthread_mutex_lock(&g->mu);
	p = pipe_find(g, pipe);
	if (p->id == pipe && pipe != 0)
		p->doomed = true;
	pthread_mutex_unlock(&g->mu);
}

size_t rove_gate_to_cut(rove_gate *g, uint64_t now_ms, uint32_t *out, size_t max)
{
	size_t n = 0;
	bool over;

	pthread_mutex_lock(&g->mu);
	over = g->queued > g->queue_cap;
	for (uint32_t i = 0; i <= g->mask && n < max; i++) {
		pipe_slot *p = &g->pipes[i];
		/* After a reply, the time runs out only once the peer was seen
		 * to take too little of it (rove_gate_acked), or twice over. */
		bool unsure = p->handed > 0 && !p->stuck;
		bool idle = p->inflight == 0 && now_ms >= p->last_ms && now_ms - p->last_ms >= g->idle_ms &&
			    (!unsure || now_ms - p->last_ms >= 2ull * g->idle_ms);
		bool again = p->cut_ms == 0 || (now_ms >= p->cut_ms && now_ms - p->cut_ms >= g->idle_ms);
		bool stalled = (over || user_over(g, p)) && p->waiting_ms != 0 && now_ms >= p->waiting_ms &&
			       now_ms - p->waiting_ms >= ROVE_MAX_QUEUED_WAIT_MS &&
			       (!unsure || now_ms - p->waiting_ms >= 2ull * ROVE_MAX_QUEUED_WAIT_MS);
		if (p->id != 0 && (p->doomed || idle || stalled) && again) {
			p->cut_ms = now_ms != 0 ? now_ms : 1;
			if (p->first_cut_ms == 0)
				p->first_cut_ms = p->cut_ms;
			out[n++] = p->id;
		}
	}
	pthread_mutex_unlock(&g->mu);
	return n;
}

size_t rove_gate_to_probe(rove_gate *g, uint64_t now_ms, uint32_t *out, size_t max)
{
	size_t n = 0;
	bool over;

	pthread_mutex_lock(&g->mu);
	over = g->queued > g->queue_cap;
	for (uint32_t i = 0; i <= g->mask && n < max; i++) {
		pipe_slot *p = &g->pipes[i];
		bool idling = p->inflight == 0 && now_ms >= p->last_ms && now_ms - p->last_ms >= g->idle_ms / 2;
		bool waiting = (over || user_over(g, p)) && p->waiting_ms != 0 && now_ms >= p->waiting_ms &&
			       now_ms - p->waiting_ms >= ROVE_MAX_QUEUED_WAIT_MS / 2;
		uint64_t every = (waiting && ROVE_MAX_QUEUED_WAIT_MS < g->idle_ms ? ROVE_MAX_QUEUED_WAIT_MS : g->idle_ms) / 2;
		if (p->id == 0 || p->doomed || p->cut_ms != 0 || p->handed == 0 || !(idling || waiting))
			continue;
		if (p->probe_ms != 0 && now_ms >= p->probe_ms && now_ms - p->probe_ms < every)
			continue;
		p->probe_ms = now_ms != 0 ? now_ms : 1;
		out[n++] = p->id;
	}
	pthread_mutex_unlock(&g->mu);
	return n;
}

void rove_gate_acked(rove_gate *g, uint32_t pipe, uint64_t acked, uint64_t now_ms)
{
	pipe_slot *p;

	pthread_mutex_lock(&g->mu);
	p = pipe_find(g, pipe);
	if (p->id == pipe && pipe != 0) {
		if (acked == UINT64_MAX) {
			p->stuck = true; /* not known (ipc://): cut at the idle time, as ever */
		} else if (p->acked_ms != 0 && now_ms > p->acked_ms) {
			uint64_t least = (now_ms - p->acked_ms) * ROVE_MIN_READ_BYTES_PER_S / 1000;
			if (acked > p->acked && acked - p->acked >= (least > 0 ? least : 1)) {
				p->last_ms = now_ms;
				if (p->waiting_ms != 0)
					p->waiting_ms = now_ms;
				p->stuck = false;
			} else {
				p->stuck = true;
			}
		}
		if (acked != UINT64_MAX) {
			p->acked = acked;
			p->acked_ms = now_ms != 0 ? now_ms : 1;
		}
	}
	pthread_mutex_unlock(&g->mu);
}

size_t rove_gate_lingering(rove_gate *g, uint64_t now_ms, uint64_t linger_ms)
{
	size_t n = 0;

	pthread_mutex_lock(&g->mu);
	for (uint32_t i = 0; i <= g->mask; i++) {
		const pipe_slot *p = &g->pipes[i];
		if (p->id != 0 && p->first_cut_ms != 0 && now_ms >= p->first_cut_ms &&
		    now_ms - p->first_cut_ms >= linger_ms)
			n++;
	}
	pthread_mutex_unlock(&g->mu);
	return n;
}

size_t rove_gate_to_close(rove_gate *g, uint64_t now_ms, uint64_t after_ms, uint32_t *out, size_t max)
{
	size_t n = 0;

	pthread_mutex_lock(&g->mu);
	for (uint32_t i = 0; i <= g->mask && n < max; i++) {
		pipe_slot *p = &g->pipes[i];
		if (p->id != 0 && !p->closing && p->first_cut_ms != 0 && now_ms >= p->first_cut_ms &&
		    now_ms - p->first_cut_ms >= after_ms) {
			p->closing = true;
			out[n++] = p->id;
		}
	}
	pthread_mutex_unlock(&g->mu);
	return n;
}

size_t rove_gate_all(rove_gate *g, uint32_t *out, size_t max)
{
	size_t n = 0;

	pthread_mutex_lock(&g->mu);
	for (uint32_t i = 0; i <= g->mask && n < max; i++)
		if (g->pipes[i].id != 0)
			out[n++] = g->pipes[i].id;
	pthread_mutex_unlock(&g->mu);
	return n;
}

void rove_gate_count(rove_gate *g, const rove_peer *peer, uint32_t *all, uint32_t *from_peer)
{
	pthread_mutex_lock(&g->mu);
	*all = g->npipes;
	if (is_local(peer)) {
		*from_peer = 0;
		for (uint32_t i = 0; i <= g->mask; i++)
			if (g->pipes[i].id != 0 && is_local(&g->pipes[i].peer))
				(*from_peer)++;
	} else {
		*from_peer = addr_find(g, peer)->pipes;
	}
	pthread_mutex_unlock(&g->mu);
}
