/*
 * uuid.h - record, op and replica ids.
 *
 * Ids come from libuuid's random generator with the first 48 bits replaced
 * by the Unix time in milliseconds (the UUIDv7 layout), so ids created
 * later sort later and LMDB keys built from them arrive mostly in order.
 * In one thread they increase strictly: the 12 bits after the version
 * count within a millisecond (RFC 9562's method 1), and a clock set back
 * keeps the last millisecond until it passes it.
 */
#ifndef ROVE_UUID_H
#define ROVE_UUID_H

#include <stdbool.h>
#include <stdint.h>

#define ROVE_UUID_STRLEN 36

typedef struct rove_uuid {
	uint8_t b[16];
} rove_uuid;

void rove_uuid_new(rove_uuid *out);
/* A name-based id (SHA-1, RFC 4122 version 5) in rove's namespace: the
 * same name gives the same id on every replica. */
void rove_uuid_from_name(rove_uuid *out, const char *name);
/* An id derived from another (version 5: SHA-1 of from and what, as
 * libuuid makes it) that keeps from's time prefix, so it sorts with it. Unique as
 * long as (from, what) is; costs no system call (ids the server makes in
 * bulk, such as ownership history entries). */
void rove_uuid_derive(rove_uuid *out, const rove_uuid *from, const char *what);
/* Two ids from one hash: *a as rove_uuid_derive(a, from, what) makes it,
 * *b the same with its 74 hashed bits inverted (time prefix, version and
 * variant kept). Unique as long as (from, what) is, as b is a's image
 * under a fixed bijection; for the two ids of one follow-up op (its
 * record's and its own), half the cost of two derivations. */
void rove_uuid_derive_pair(rove_uuid *a, rove_uuid *b, const rove_uuid *from, const char *what);
/* Puts ms (the Unix time in milliseconds, 48 bits) in id's time prefix,
 * its other bits kept: a derived id made to sort by when it was made
 * rather than with the id it derives from. Ids a thread stamps so
 * increase strictly, as rove_uuid_new's (the 12 bits after the version
 * count within a millisecond; a time set back keeps the last). */
void rove_uuid_set_ms(rove_uuid *id, uint64_t ms);
/* Writes 36 characters and a NUL into out. */
void rove_uuid_format(const rove_uuid *id, char out[ROVE_UUID_STRLEN + 1]);
/* Parses the canonical 8-4-4-4-12 form; ROVE_EINVAL on anything else. */
int rove_uuid_parse(const char *s, rove_uuid *out);
bool rove_uuid_is_nil(const rove_uuid *id);
int rove_uuid_cmp(const rove_uuid *a, const rove_uuid *b);
/* A 64-bit node number derived from a replica id, for tie-breaking. */
uint64_t rove_uuid_node(const rove_uuid *id);

#endif
