/*
 * hlc.h - hybrid logical clock and the stamps that order field writes.
 *
 * An HLC value is 48 bits of wall-clock milliseconds and a 16-bit counter.
 * It never goes backwards, and it moves past every stamp it has seen, so a
 * change made after seeing another is stamped later even with a slow clock.
 * A stamp is an HLC value plus the writing replica's node number, which
 * breaks ties so that every replica orders every pair of writes the same way.
 */
#ifndef ROVE_HLC_H
#define ROVE_HLC_H

#include <stdint.h>

typedef struct rove_hlc {
	uint64_t v;
} rove_hlc;

typedef struct rove_stamp {
	rove_hlc hlc;
	uint64_t node;
} rove_stamp;

#define ROVE_HLC_COUNTER_BITS 16

static inline uint64_t rove_hlc_ms(rove_hlc h)
{
	return h.v >> ROVE_HLC_COUNTER_BITS;
}

static inline rove_hlc rove_hlc_from_ms(uint64_t ms)
{
	return (rove_hlc){ms << ROVE_HLC_COUNTER_BITS};
}

/* Wall clock in Unix milliseconds. */
uint64_t rove_wall_ms(void);

/* A new local stamp value: later than *last and than wall_ms.
 * Updates *last. */
rove_hlc rove_hlc_tick(rove_hlc *last, uint64_t wall_ms);

/* Moves *last past a received value and the wall clock (never
 * backwards). */
void rove_hlc_observe(rove_hlc *last, rove_hlc seen, uint64_t wall_ms);

/* <0, 0, >0 as a is earlier than, equal to, later than b. */
int rove_stamp_cmp(const rove_stamp *a, const rove_stamp *b);

#endif
