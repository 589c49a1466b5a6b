#include "array.h"

#include <stdint.h>
#include <stdlib.h>

void *rove_array_room(void *a, size_t n, size_t *cap, size_t size)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return a;
	ncap = *cap != 0 ? 2 * *cap : 16;
	if (ncap > SIZE_MAX / size)
		return NULL;
	p = realloc(a, ncap * size);
	if (p != NULL)
		*cap = ncap;
	return p;
}
