/* array.c - growing a heap array by doubling (array.h). */
#include "array.h"

#include "rove_assert.h"

#include <stdint.h>
#include <stdlib.h>

void *rove_array_grow(void *a, size_t *cap, size_t used, size_t n, size_t size, size_t first)
{
	size_t c = *cap != 0 ? *cap : first;
	void *p;

	ROVE_ASSERT(n > 0 && size > 0 && first > 0 && used <= *cap);
	if (n > SIZE_MAX - used)
		return NULL;
	if (used + n <= *cap)
		return a;
	while (c < used + n) {
		if (c > SIZE_MAX / 2)
			return NULL;
		c *= 2;
	}
	if (c > SIZE_MAX / size)
		return NULL;
	p = realloc(a, c * size);
	if (p != NULL)
		*cap = c;
	return p;
}

void *rove_array_room(void *a, size_t n, size_t *cap, size_t size)
{
	return rove_array_grow(a, cap, n, 1, size, 16);
}
