#include "hlc.h"

#include <time.h>

uint64_t rove_wall_ms(void)
{
	struct timespec ts;

	/* (a clock before 1970 reads as 1970: a laptop's reset clock in a
	 * zone west of UTC wrapped to the end of time, and every time made
	 * on it was refused; attack one hundred and seven) */
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

rove_hlc rove_hlc_tick(rove_hlc *last, uint64_t wall_ms)
{
	rove_hlc wall = rove_hlc_from_ms(wall_ms);

	/* Counter overflow carries into the milliseconds: still monotonic.
	 * At the very end of the range it stays put rather than wrap to 0. */
	if (wall.v > last->v)
		last->v = wall.v;
	else if (last->v < UINT64_MAX)
		last->v += 1;
	return *last;
}

void rove_hlc_observe(rove_hlc *last, rove_hlc seen, uint64_t wall_ms)
{
	rove_hlc wall = rove_hlc_from_ms(wall_ms);

	if (seen.v > last->v)
		last->v = seen.v;
	if (wall.v > last->v)
		last->v = wall.v;
}

int rove_stamp_cmp(const rove_stamp *a, const rove_stamp *b)
{
	if (a->hlc.v != b->hlc.v)
		return a->hlc.v < b->hlc.v ? -1 : 1;
	if (a->node != b->node)
		return a->node < b->node ? -1 : 1;
	return 0;
}
