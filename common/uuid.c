#include "uuid.h"

#include "err.h"
#include "hlc.h"
#include "rove_assert.h"

#include <mbedtls/sha1.h>

#include <string.h>
#include <uuid/uuid.h>

/* Ids in order within a thread (RFC 9562, 6.2, method 1): the 12 bits
 * after the version are a sequence within the millisecond, started at a
 * random value below 2048 (the id's own bits) and counted up while the
 * millisecond (or a clock set back) stays; at 4095 the next id takes the
 * next millisecond. The bits after the sequence stay the id's own
 * (random, or hashed), so ids made together differ from their tenth
 * byte on, as before, and their ends are as random as ever. */
typedef struct id_order {
	uint64_t ms;  /* the last id's milliseconds (0: none yet) */
	unsigned seq; /* and its sequence */
} id_order;

static void put_in_order(rove_uuid *id, uint64_t ms, id_order *o)
{
	unsigned seq = (unsigned)((id->b[6] & 0x07) << 8 | id->b[7]);

	if (o->ms != 0 && ms <= o->ms) {
		ms = o->ms;
		if (o->seq < 0xfff)
			seq = o->seq + 1;
		else
			ms++;
	}
	o->ms = ms;
	o->seq = seq;
	for (int i = 0; i < 6; i++)
		id->b[i] = (uint8_t)(ms >> (40 - 8 * i));
	id->b[6] = (uint8_t)((id->b[6] & 0xf0) | (seq >> 8));
	id->b[7] = (uint8_t)seq;
}

/* This thread's new ids. */
static _Thread_local id_order made;

void rove_uuid_new(rove_uuid *out)
{
	uint64_t ms;

	uuid_generate_random(out->b);
	/* (a clock before 1970 reads as 1970, not as the end of time,
	 * where every later id would sort before it) */
	ms = rove_wall_ms();
	out->b[6] = (uint8_t)(0x70 | (out->b[6] & 0x0f));
	out->b[8] = (uint8_t)(0x80 | (out->b[8] & 0x3f));
	/* So that the ids a loop makes (an import's, a push's) arrive in
	 * order and fill the B-trees' pages, where ids in random order
	 * within a millisecond land mid-page and leave half-full pages. */
	put_in_order(out, ms, &made);
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

/* This thread's stamped ids (rove_uuid_set_ms). */
static _Thread_local id_order stamped;

void rove_uuid_set_ms(rove_uuid *id, uint64_t ms)
{
	put_in_order(id, ms, &stamped);
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
