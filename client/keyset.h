/*
 * keyset.h - a set of strings, each remembering where it came from: the
 * line of a file that holds it, or the id of a record.
 *
 * Why: `rove import` checks every row of a file of up to a hundred
 * thousand against what the replica holds and against the rows before
 * it (tax ids, phones, customer ids, territory codes), and reports the
 * row or record a value repeats. An open-addressing hash table over one
 * arena of key bytes does that in memory proportional to the keys, with
 * no allocation per key.
 *
 * Keys are byte strings (len > 0, not NUL-terminated). The set owns its
 * memory: key_set_free releases it. A slot pointer a call returns is
 * valid until the next key_put.
 */
#ifndef ROVE_KEYSET_H
#define ROVE_KEYSET_H

#include "uuid.h"

#include <stddef.h>
#include <stdint.h>

typedef struct key_slot {
	uint64_t hash;
	size_t off, len;    /* the key in the set's arena; len 0: free slot */
	unsigned long line; /* the file's row holding it, or 0: the replica's */
	rove_uuid id;       /* the replica's record, when line is 0 */
} key_slot;

typedef struct key_set {
	key_slot *slot; /* cap slots, a power of two, at most half full */
	size_t cap, n;
	char *arena;
	size_t used, size;
} key_set;

/* The FNV-1a hash of key, as key_find takes it. */
uint64_t key_hash(const char *s, size_t len);
/* Empties the set and frees its memory; a zeroed key_set is empty. */
void key_set_free(key_set *ks);
/* The slot holding key (h its key_hash), or NULL. */
key_slot *key_find(const key_set *ks, const char *key, size_t len, uint64_t h);
/* Adds key (len > 0) unless the set holds it; then *dup points to the
 * holder (valid until the next add) and nothing is added. line is the
 * file's row holding it, or 0 with id the replica's record (id may be
 * NULL). ROVE_ENOMEM. */
int key_put(key_set *ks, const char *key, size_t len, unsigned long line, const rove_uuid *id, const key_slot **dup);

#endif
