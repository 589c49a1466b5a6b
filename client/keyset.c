/* keyset.c - a set of strings by open addressing (keyset.h). */
#include "keyset.h"

#include "err.h"
#include "array.h"
#include "hash.h"

#include <stdlib.h>
#include <string.h>

uint64_t key_hash(const char *s, size_t len)
{
	return rove_fnv1a(ROVE_FNV_BASIS, s, len);
}

void key_set_free(key_set *ks)
{
	free(ks->slot);
	free(ks->arena);
	memset(ks, 0, sizeof(*ks));
}

key_slot *key_find(const key_set *ks, const char *key, size_t len, uint64_t h)
{
	if (ks->cap == 0)
		return NULL;
	for (size_t i = h & (ks->cap - 1);; i = (i + 1) & (ks->cap - 1)) {
		key_slot *s = &ks->slot[i];
		if (s->len == 0)
			return NULL;
		if (s->hash == h && s->len == len && memcmp(ks->arena + s->off, key, len) == 0)
			return s;
	}
}

static int key_grow(key_set *ks)
{
	size_t cap = ks->cap ? ks->cap * 2 : 1024;
	key_slot *slot = calloc(cap, sizeof(*slot));

	if (slot == NULL)
		return ROVE_ENOMEM;
	for (size_t i = 0; i < ks->cap; i++) {
		size_t k;
		if (ks->slot[i].len == 0)
			continue;
		for (k = ks->slot[i].hash & (cap - 1); slot[k].len != 0; k = (k + 1) & (cap - 1))
			;
		slot[k] = ks->slot[i];
	}
	free(ks->slot);
	ks->slot = slot;
	ks->cap = cap;
	return ROVE_OK;
}

/* Adds key (len > 0) unless the set holds it; then *dup points to the
 * holder (valid until the next add) and nothing is added. */
int key_put(key_set *ks, const char *key, size_t len, unsigned long line, const rove_uuid *id, const key_slot **dup)
{
	uint64_t h = key_hash(key, len);
	key_slot *s;
	char *arena;
	size_t i;

	*dup = key_find(ks, key, len, h);
	if (*dup != NULL)
		return ROVE_OK;
	if ((ks->n + 1) * 2 > ks->cap && key_grow(ks) != ROVE_OK)
		return ROVE_ENOMEM;
	arena = rove_array_grow(ks->arena, &ks->size, ks->used, len, 1, 65536);
	if (arena == NULL)
		return ROVE_ENOMEM;
	ks->arena = arena;
	for (i = h & (ks->cap - 1); ks->slot[i].len != 0; i = (i + 1) & (ks->cap - 1))
		;
	s = &ks->slot[i];
	memcpy(ks->arena + ks->used, key, len);
	s->hash = h;
	s->off = ks->used;
	s->len = len;
	s->line = line;
	if (id != NULL)
		s->id = *id;
	else
		memset(&s->id, 0, sizeof(s->id));
	ks->used += len;
	ks->n++;
	return ROVE_OK;
}
