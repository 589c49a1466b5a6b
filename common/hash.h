/*
 * hash.h - FNV-1a, the one hash of rove's in-memory hash tables.
 *
 * The import's set of keys (client/cmd_io.c) and the server's tables of
 * failed logins (auth.c) and of connections per address (gate.c) place
 * entries by a 64-bit hash of a short key. FNV-1a is small and spreads
 * short keys well enough for open addressing. It is no defence against
 * someone who picks keys to collide: the server's tables start it from a
 * random seed (ROVE_FNV_BASIS ^ seed), so where an entry lands cannot be
 * foretold.
 */
#ifndef ROVE_HASH_H
#define ROVE_HASH_H

#include <stddef.h>
#include <stdint.h>

/* Where a hash starts. */
#define ROVE_FNV_BASIS 14695981039346656037ull

/* h with the len bytes at data folded in, one after another; a hash of
 * several parts folds each in turn. */
uint64_t rove_fnv1a(uint64_t h, const void *data, size_t len);

#endif
