/*
 * grow.h - room in a growable array: the one doubling realloc that the
 * import (its rows and their text), the key set's arena, the reports'
 * facts and sums and the conflict list's notes all need.
 *
 * The array stays the caller's: grow never frees it, and on failure it
 * is as it was.
 */
#ifndef ROVE_GROW_H
#define ROVE_GROW_H

#include <stddef.h>

/* Returns arr (an array of *cap items of size bytes, used of them taken)
 * with room for n > 0 more: arr itself when it has the room, else arr
 * moved to a larger block (realloc) with *cap doubled, from first when it
 * is 0, until the items fit. NULL when out of memory or past SIZE_MAX;
 * arr and *cap are then as they were. */
void *grow(void *arr, size_t *cap, size_t used, size_t n, size_t size, size_t first);

#endif
