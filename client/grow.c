/* grow.c - room in a growable array (grow.h). */
#include "grow.h"

#include "rove_assert.h"

#include <stdint.h>
#include <stdlib.h>

void *grow(void *arr, size_t *cap, size_t used, size_t n, size_t size, size_t first)
{
	size_t c = *cap != 0 ? *cap : first;
	void *p;

	ROVE_ASSERT(n > 0 && size > 0 && first > 0 && used <= *cap);
	if (n > SIZE_MAX - used)
		return NULL;
	if (used + n <= *cap)
		return arr;
	while (c < used + n) {
		if (c > SIZE_MAX / 2)
			return NULL;
		c *= 2;
	}
	if (c > SIZE_MAX / size)
		return NULL;
	p = realloc(arr, c * size);
	if (p != NULL)
		*cap = c;
	return p;
}
