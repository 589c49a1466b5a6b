/*
 * array.h - growing a heap array by doubling.
 *
 * Walks that collect what they find before acting on it (the logins of
 * the users table, the runs, the customers of a reassignment), the
 * import's rows and text, the key set's arena, the reports' facts and the
 * conflict list's notes keep it in an array that doubles when full. This
 * is that step, once.
 *
 * The array stays the caller's: these never free it, and on failure it is
 * as it was.
 */
#ifndef ROVE_ARRAY_H
#define ROVE_ARRAY_H

#include <stddef.h>

/* Returns a (an array of *cap elements of size bytes, used of them taken)
 * with room for n > 0 more: a itself when it has the room, else a moved
 * to a larger block (realloc) with *cap doubled, from first when it is 0,
 * until they fit. NULL when out of memory or past SIZE_MAX; a and *cap
 * are then as they were. */
void *rove_array_grow(void *a, size_t *cap, size_t used, size_t n, size_t size, size_t first);

/* Room for one more element, n in use: rove_array_grow(a, cap, n, 1,
 * size, 16). */
void *rove_array_room(void *a, size_t n, size_t *cap, size_t size);

#endif
