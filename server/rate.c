#include "rate.h"
#include "rove_assert.h"

#include "err.h"
#include "log.h"
#include "rove_limits.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* An open-addressing table of buckets by user (linear probing, at most
 * three quarters full), rebuilt without the full buckets when it fills.
 * A bucket's level is in thousandths of an op: it refills by per_s of
 * them a millisecond. */
typedef struct bucket {
	uint64_t user; /* 0: empty */
	uint64_t level;
	uint64_t at_ms; /* when level was reckoned */
} bucket;

struct rove_rate {
	pthread_mutex_t mu;
	uint64_t full; /* burst, in thousandths */
	uint32_t per_s;
	uint32_t n, cap;
	bool said; /* the table was found full: logged once */
	bucket *b;
};

int rove_rate_new(rove_rate **out, uint32_t burst, uint32_t per_s)
{
	rove_rate *r = calloc(1, sizeof(*r));

	ROVE_ASSERT(burst >= ROVE_MAX_PUSH_OPS && per_s > 0);
	if (r == NULL)
		return ROVE_ENOMEM;
	r->cap = 1;
	while (r->cap < ROVE_RATE_USERS + ROVE_RATE_USERS / 3)
		r->cap <<= 1;
	r->b = calloc(r->cap, sizeof(*r->b));
	if (r->b == NULL) {
		free(r);
		return ROVE_ENOMEM;
	}
	r->full = (uint64_t)burst * 1000u;
	r->per_s = per_s;
	pthread_mutex_init(&r->mu, NULL);
	*out = r;
	return ROVE_OK;
}

void rove_rate_free(rove_rate *r)
{
	if (r == NULL)
		return;
	pthread_mutex_destroy(&r->mu);
	free(r->b);
	free(r);
}

/* b's level at now_ms. */
static uint64_t level_at(const rove_rate *r, const bucket *b, uint64_t now_ms)
{
	uint64_t dt = now_ms > b->at_ms ? now_ms - b->at_ms : 0;

	if (dt >= (r->full - b->level) / r->per_s + 1)
		return r->full;
	return b->level + dt * r->per_s;
}

/* The slot of user: its bucket, or the empty slot where it goes. */
static bucket *slot(rove_rate *r, uint64_t user)
{
	uint32_t i = (uint32_t)(user ^ (user >> 32)) & (r->cap - 1);

	while (r->b[i].user != 0 && r->b[i].user != user)
		i = (i + 1) & (r->cap - 1);
	return &r->b[i];
}

/* Drops the buckets that have refilled (as if never seen): the table
 * rebuilt in place from a copy. False if it has no room left even so. */
static bool make_room(rove_rate *r, uint64_t now_ms)
{
	bucket *old = malloc(r->cap * sizeof(*old));

	if (old == NULL)
		return false;
	memcpy(old, r->b, r->cap * sizeof(*old));
	memset(r->b, 0, r->cap * sizeof(*r->b));
	r->n = 0;
	for (uint32_t i = 0; i < r->cap; i++) {
		uint64_t level;
		if (old[i].user == 0 || (level = level_at(r, &old[i], now_ms)) >= r->full)
			continue;
		*slot(r, old[i].user) = (bucket){old[i].user, level, now_ms};
		r->n++;
	}
	free(old);
	return r->n < ROVE_RATE_USERS;
}

bool rove_rate_take(rove_rate *r, uint64_t user, uint32_t n, uint64_t now_ms, uint64_t *wait_ms)
{
	uint64_t want = (uint64_t)n * 1000u, level;
	bucket *b;
	bool ok = true;

	ROVE_ASSERT(user != 0);
	*wait_ms = 0;
	pthread_mutex_lock(&r->mu);
	b = slot(r, user);
	if (b->user == 0) {
		if (r->n >= ROVE_RATE_USERS && !make_room(r, now_ms)) {
			if (!r->said)
				rove_warn("more than %u users pushed within the refill of their rate's bucket: the "
					  "newcomers are let through unmetered",
					  ROVE_RATE_USERS);
			r->said = true;
			pthread_mutex_unlock(&r->mu);
			return true;
		}
		b = slot(r, user);
		*b = (bucket){user, r->full, now_ms};
		r->n++;
	}
	level = level_at(r, b, now_ms);
	b->at_ms = now_ms > b->at_ms ? now_ms : b->at_ms;
	if (level >= want) {
		b->level = level - want;
	} else {
		b->level = level;
		*wait_ms = (want - level + r->per_s - 1) / r->per_s;
		ok = false;
	}
	pthread_mutex_unlock(&r->mu);
	return ok;
}
