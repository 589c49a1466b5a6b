#include "uuid.h"

#include "err.h"
#include "rove_assert.h"

#include <mbedtls/sha1.h>

#include <string.h>
#include <time.h>
#include <uuid/uuid.h>

/* The id this thread made last, and its milliseconds. */
static _Thread_local rove_uuid last_id;
static _Thread_local uint64_t last_ms;

/* Adds a random step of 1 to 2^32 to id's last 7 bytes (56 of its random
 * bits); false if they would wrap. */
static bool step_after(rove_uuid *id, const uint8_t rnd[4])
{
	uint64_t low = 0, step = 1;

	for (int i = 9; i < 16; i++)
		low = low << 8 | id->b[i];
	for (int i = 0; i < 4; i++)
		step += (uint64_t)rnd[i] << (8 * i);
	if (low + step >= (uint64_t)1 << 56)
		return false;
	low += step;
	for (int i = 15; i >= 9; i--, low >>= 8)
		id->b[i] = (uint8_t)low;
	return true;
}

void rove_uuid_new(rove_uuid *out)
{
	struct timespec ts;
	uint8_t rnd[16];
	uint64_t ms;

	uuid_generate_random(rnd);
	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
	/* Monotonic in a thread (RFC 9562, 6.2, method 3): within one
	 * millisecond (or a clock set back) the next id is the last one
	 * plus a random step, so ids a loop makes (an import's, a push's)
	 * arrive in order and fill the B-trees' pages, where ids in random
	 * order within a millisecond land mid-page and leave half-full
	 * pages behind. */
	if (last_ms != 0 && ms <= last_ms) {
		*out = last_id;
		if (step_after(out, rnd)) {
			last_id = *out;
			return;
		}
		ms = last_ms + 1;
	}
	memcpy(out->b, rnd, 16);
	for (int i = 0; i < 6; i++)
		out->b[i] = (uint8_t)(ms >> (40 - 8 * i));
	out->b[6] = (uint8_t)(0x70 | (out->b[6] & 0x0f));
	out->b[8] = (uint8_t)(0x80 | (out->b[8] & 0x3f));
	last_id = *out;
	last_ms = ms;
}

void rove_uuid_format(const rove_uuid *id, char out[ROVE_UUID_STRLEN + 1])
{
	uuid_unparse_lower(id->b, out);
}

/* Each hex digit's value + 1 (0: not one). */
static const uint8_t hex_values[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8,
	['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

int rove_uuid_parse(const char *s, rove_uuid *out)
{
	static const uint8_t at[16] = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};
	rove_uuid id;
	unsigned bad = 0;

	if (s == NULL || strnlen(s, ROVE_UUID_STRLEN + 1) != ROVE_UUID_STRLEN)
		return ROVE_EINVAL;
	/* 8-4-4-4-12 hex digits: decoded here with a table (libuuid's parser
	 * costs a strtoul per group, and ids are parsed on every op). */
	if (s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
		return ROVE_EINVAL;
	for (int i = 0; i < 16; i++) {
		unsigned hi = hex_values[(unsigned char)s[at[i]]], lo = hex_values[(unsigned char)s[at[i] + 1]];
		bad |= (hi == 0) | (lo == 0);
		id.b[i] = (uint8_t)((hi - 1) << 4 | (lo - 1));
	}
	if (bad)
		return ROVE_EINVAL;
	*out = id;
	return ROVE_OK;
}

bool rove_uuid_is_nil(const rove_uuid *id)
{
	return uuid_is_null(id->b) != 0;
}

int rove_uuid_cmp(const rove_uuid *a, const rove_uuid *b)
{
	return memcmp(a->b, b->b, 16);
}

uint64_t rove_uuid_node(const rove_uuid *id)
{
	uint64_t n = 0;

	for (int i = 8; i < 16; i++)
		n = (n << 8) | id->b[i];
	return n;
}

/* ---- name-based ids: RFC 4122 version 5 -------------------------------
 *
 * The same bytes as libuuid's uuid_generate_sha1 (test_hlc compares
 * them), which rove called before: its SHA-1 pads a message a byte per
 * call and cost three times the hash itself for the two ids each new
 * customer's ownership history takes. mbedtls's SHA-1 hashes whole
 * blocks. */

/* RFC 4122's name-based id, version 5: SHA-1 of the namespace's bytes and
 * the name's (a and b, one after the other). */
static void uuid_v5(rove_uuid *out, const uint8_t ns[16], const void *a, size_t alen, const void *b, size_t blen)
{
	mbedtls_sha1_context s;
	uint8_t d[20];
	int rc;

	mbedtls_sha1_init(&s);
	rc = mbedtls_sha1_starts_ret(&s);
	if (rc == 0)
		rc = mbedtls_sha1_update_ret(&s, ns, 16);
	if (rc == 0)
		rc = mbedtls_sha1_update_ret(&s, a, alen);
	if (rc == 0 && blen > 0)
		rc = mbedtls_sha1_update_ret(&s, b, blen);
	if (rc == 0)
		rc = mbedtls_sha1_finish_ret(&s, d);
	mbedtls_sha1_free(&s);
	/* mbedtls's software SHA-1 fails only with a hardware engine. */
	ROVE_ASSERT(rc == 0);
	memcpy(out->b, d, 16);
	out->b[6] = (uint8_t)(0x50 | (out->b[6] & 0x0f));
	out->b[8] = (uint8_t)(0x80 | (out->b[8] & 0x3f));
}

void rove_uuid_from_name(rove_uuid *out, const char *name)
{
	/* rove's namespace: a fixed random id. */
	static const uint8_t ns[16] = {0x6b, 0x1e, 0x2a, 0x4f, 0x93, 0x0c, 0x4d, 0x5e,
				       0xa1, 0x77, 0x3c, 0x58, 0x0e, 0x29, 0xd4, 0xb6};

	uuid_v5(out, ns, name, strlen(name), NULL, 0);
}

void rove_uuid_derive(rove_uuid *out, const rove_uuid *from, const char *what)
{
	size_t wl = strlen(what);
	static const uint8_t ns[16] = {0x2d, 0x8f, 0x61, 0x0a, 0x5b, 0x47, 0x4e, 0x93,
				       0xb2, 0x1c, 0x70, 0xe4, 0x36, 0x9a, 0x05, 0xcf};

	if (wl > 64)
		wl = 64;
	uuid_v5(out, ns, from->b, 16, what, wl);
	memcpy(out->b, from->b, 6); /* the source's milliseconds */
}

/* The id this thread stamped last (rove_uuid_set_ms). */
static _Thread_local rove_uuid last_set;

void rove_uuid_set_ms(rove_uuid *id, uint64_t ms)
{
	uint8_t step[4];
	rove_uuid next;

	for (int i = 0; i < 6; i++)
		id->b[i] = (uint8_t)(ms >> (40 - 8 * i));
	/* Past the last one when the prefix is the same (or set back): the
	 * last plus a step taken from id's own bits, as rove_uuid_new. */
	memcpy(step, id->b + 12, 4);
	next = last_set;
	if (memcmp(id->b, last_set.b, 16) <= 0 && step_after(&next, step))
		*id = next;
	last_set = *id;
}

void rove_uuid_derive_pair(rove_uuid *a, rove_uuid *b, const rove_uuid *from, const char *what)
{
	rove_uuid_derive(a, from, what);
	*b = *a;
	b->b[6] ^= 0x0f; /* the version's nibble kept */
	b->b[7] ^= 0xff;
	b->b[8] ^= 0x3f; /* the variant's two bits kept */
	for (int i = 9; i < 16; i++)
		b->b[i] ^= 0xff;
}
