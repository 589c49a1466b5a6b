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
 * them a millisecond, and is below zero after a charge past it. */
typedef struct bucket {
	uint64_t user; /* 0: empty */
	int64_t level;
	uint64_t at_ms; /* when level was reckoned */
} bucket;

struct rove_rate {
	pthread_mutex_t mu;
	int64_t full; /* burst, in thousandths */
	uint32_t per_s;
	uint32_t n, cap;
	bool said; /* the table was found full: logged once */
	bool empty; /* rove_rate_start_empty: since empty_ms */
	uint64_t empty_ms;
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
	r->full = (int64_t)burst * 1000;
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

void rove_rate_start_empty(rove_rate *r, uint64_t now_ms)
{
	pthread_mutex_lock(&r->mu);
	r->empty = true;
	r->empty_ms = now_ms;
	pthread_mutex_unlock(&r->mu);
}

/* b's level at now_ms. */
static int64_t level_at(const rove_rate *r, const bucket *b, uint64_t now_ms)
{
	uint64_t dt = now_ms > b->at_ms ? now_ms - b->at_ms : 0;

	if (b->level >= r->full || dt >= (uint64_t)(r->full - b->level) / r->per_s + 1)
		return r->full;
	return b->level + (int64_t)(dt * r->per_s);
}

/* A new bucket's level at now_ms: full, or since rove_rate_start_empty
 * what it would hold had it been emptied then. */
static int64_t new_level(const rove_rate *r, uint64_t now_ms)
{
	bucket b = {1, 0, r->empty_ms};

	return r->empty ? level_at(r, &b, now_ms) : r->full;
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
		int64_t level;
		if (old[i].user == 0 || (level = level_at(r, &old[i], now_ms)) >= r->full)
			continue;
		*slot(r, old[i].user) = (bucket){old[i].user, level, now_ms};
		r->n++;
	}
	free(old);
	return r->n < ROVE_RATE_USERS;
}

/* user's bucket, made if new; NULL when the table has no room (said
 * once). Under r->mu. */
static bucket *find(rove_rate *r, uint64_t user, uint64_t now_ms)
{
	bucket *b = slot(r, user);

	if (b->user != 0)
		return b;
	if (r->n >= ROVE_RATE_USERS && !make_room(r, now_ms)) {
		if (!r->said)
			rove_warn("more than %u users pushed within the refill of their rate's bucket: the "
				  "newcomers are let through unmetered",
				  ROVE_RATE_USERS);
		r->said = true;
		return NULL;
	}
	b = slot(r, user);
	*b = (bucket){user, new_level(r, now_ms), now_ms};
	r->n++;
	return b;
}

/* n ops off user's bucket at now_ms (charged: below empty if need be,
 * a debt beyond any write no more of a bound), or back on it (given back:
 * never past full). */
static void move(rove_rate *r, uint64_t user, uint64_t n, bool back, uint64_t now_ms)
{
	bucket *b;

	ROVE_ASSERT(user != 0);
	pthread_mutex_lock(&r->mu);
	if ((b = find(r, user, now_ms)) != NULL) {
		int64_t level = level_at(r, b, now_ms);
		if (back)
			b->level = n >= (uint64_t)(r->full / 1000) || level + (int64_t)n * 1000 >= r->full
					   ? r->full
					   : level + (int64_t)n * 1000;
		else
			b->level = n > (uint64_t)INT32_MAX || level - (int64_t)n * 1000 < INT64_MIN / 2
					   ? INT64_MIN / 2
					   : level - (int64_t)n * 1000;
		b->at_ms = now_ms > b->at_ms ? now_ms : b->at_ms;
	}
	pthread_mutex_unlock(&r->mu);
}

void rove_rate_charge(rove_rate *r, uint64_t user, uint64_t n, uint64_t now_ms)
{
	move(r, user, n, false, now_ms);
}

void rove_rate_refund(rove_rate *r, uint64_t user, uint64_t n, uint64_t now_ms)
{
	move(r, user, n, true, now_ms);
}

bool rove_rate_take(rove_rate *r, uint64_t user, uint32_t n, uint64_t now_ms, uint64_t *wait_ms)
{
	int64_t want = (int64_t)n * 1000, level;
	bucket *b;
	bool ok = true;

	ROVE_ASSERT(user != 0);
	*wait_ms = 0;
	pthread_mutex_lock(&r->mu);
	if ((b = find(r, user, now_ms)) == NULL) {
		pthread_mutex_unlock(&r->mu);
		return true;
	}
	level = level_at(r, b, now_ms);
	b->at_ms = now_ms > b->at_ms ? now_ms : b->at_ms;
	if (level >= want) {
		b->level = level - want;
	} else {
		b->level = level;
		*wait_ms = (uint64_t)(want - level + r->per_s - 1) / r->per_s;
		ok = false;
	}
	pthread_mutex_unlock(&r->mu);
	return ok;
}
