/*
 * array.h - growing a heap array by doubling.
 *
 * Walks that collect what they find before acting on it (the logins of
 * the users table, the runs, the customers of a reassignment) keep it in
 * an array that doubles when full. This is that step, once.
 */
#ifndef ROVE_ARRAY_H
#define ROVE_ARRAY_H

#include <stddef.h>

/* Room for one more element in the array a of *cap elements of size
 * bytes, n of them in use: a itself while n < *cap, else a copy of
 * twice the size (16 elements at first; *cap is updated) and a freed.
 * NULL when memory ran out: a is untouched and still the caller's. */
void *rove_array_room(void *a, size_t n, size_t *cap, size_t size);

#endif
