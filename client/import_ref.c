/*
 * import_ref.c - the customers an import's rows may name (import_ref.h).
 */
#include "import_ref.h"

#include "array.h"
#include "cli.h"
#include "err.h"

#include <stdlib.h>
#include <string.h>

int ref_index_add(ref_index *x, const rove_uuid *id, uint8_t reach)
{
	char ids[ROVE_UUID_STRLEN + 1];
	ref_entry *e = rove_array_room(x->e, x->n, &x->cap, sizeof(*e));
	size_t k = 0;

	if (e == NULL)
		return ROVE_ENOMEM;
	x->e = e;
	e = &x->e[x->n++];
	e->id = *id;
	e->reach = reach;
	rove_uuid_format(id, ids); /* lower case */
	for (const char *p = ids; *p != '\0'; p++)
		if (*p != '-')
			e->hex[k++] = *p;
	return ROVE_OK;
}

static int by_hex(const void *a, const void *b)
{
	return memcmp(((const ref_entry *)a)->hex, ((const ref_entry *)b)->hex, 32);
}

static int by_rev(const void *a, const void *b)
{
	return memcmp(((const ref_end *)a)->rev, ((const ref_end *)b)->rev, 32);
}

int ref_index_sort(ref_index *x)
{
	free(x->by_end);
	x->by_end = NULL;
	if (x->n == 0)
		return ROVE_OK;
	qsort(x->e, x->n, sizeof(*x->e), by_hex);
	x->by_end = malloc(x->n * sizeof(*x->by_end));
	if (x->by_end == NULL)
		return ROVE_ENOMEM;
	for (size_t i = 0; i < x->n; i++) {
		for (int k = 0; k < 32; k++)
			x->by_end[i].rev[k] = x->e[i].hex[31 - k];
		x->by_end[i].i = (uint32_t)i;
	}
	qsort(x->by_end, x->n, sizeof(*x->by_end), by_rev);
	return ROVE_OK;
}

void ref_index_free(ref_index *x)
{
	free(x->e);
	free(x->by_end);
	memset(x, 0, sizeof(*x));
}

/* The first of n keys of stride bytes at base whose first len bytes are
 * not less than want's. */
static size_t lower(const char *base, size_t stride, size_t n, const char *want, size_t len)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (memcmp(base + mid * stride, want, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int ref_index_find(const ref_index *x, const char *text, const ref_entry **out, size_t *nmatch)
{
	char want[33], rwant[32];
	size_t len, a, b, found = 0;
	const ref_entry *first = NULL;

	*nmatch = 0;
	if (!cli_id_abbrev(text, want))
		return ROVE_EINVAL;
	len = strlen(want);
	if (x->n == 0)
		return ROVE_ENOTFOUND;
	/* Ids that start so. */
	a = lower(x->e[0].hex, sizeof(x->e[0]), x->n, want, len);
	for (b = a; b < x->n && memcmp(x->e[b].hex, want, len) == 0; b++) {
		if (found++ == 0)
			first = &x->e[b];
	}
	/* Ids that end so (a whole id is both; counted once). */
	for (size_t k = 0; k < len; k++)
		rwant[k] = want[len - 1 - k];
	a = lower(x->by_end[0].rev, sizeof(x->by_end[0]), x->n, rwant, len);
	for (b = a; b < x->n && memcmp(x->by_end[b].rev, rwant, len) == 0; b++) {
		const ref_entry *e = &x->e[x->by_end[b].i];
		if (memcmp(e->hex, want, len) == 0)
			continue; /* counted with the starts */
		if (found++ == 0)
			first = e;
	}
	*nmatch = found;
	if (found == 0)
		return ROVE_ENOTFOUND;
	if (found > 1)
		return ROVE_EEXIST;
	*out = first;
	return ROVE_OK;
}
