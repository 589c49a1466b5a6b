#include "uuid.h"

#include "err.h"

#include <string.h>
#include <time.h>
#include <uuid/uuid.h>

void rove_uuid_new(rove_uuid *out)
{
	struct timespec ts;
	uint64_t ms;

	uuid_generate_random(out->b);
	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
	for (int i = 0; i < 6; i++)
		out->b[i] = (uint8_t)(ms >> (40 - 8 * i));
	out->b[6] = (uint8_t)(0x70 | (out->b[6] & 0x0f));
	out->b[8] = (uint8_t)(0x80 | (out->b[8] & 0x3f));
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

/* ---- name-based ids: SHA-1 (FIPS 180-4), RFC 4122 version 5 ----------
 *
 * The same bytes as libuuid's uuid_generate_sha1 (test_hlc compares
 * them), which rove called before: its SHA-1 pads a message a byte per
 * call and cost three times the hash itself for the two ids each new
 * customer's ownership history takes. */

typedef struct sha1 {
	uint32_t h[5];
	uint8_t blk[64];
	size_t fill;  /* bytes in blk */
	uint64_t len; /* bytes hashed in all */
} sha1;

static uint32_t rol32(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

/* One round: the working variables rotate through the macro's
 * arguments, so the rounds move no variables about. */
#define SHA1_R(a, b, c, d, e, f, k, wt)                              \
	do {                                                         \
		(e) += rol32((a), 5) + (f) + (k) + (wt);             \
		(b) = rol32((b), 30);                                \
	} while (0)
#define SHA1_W(t) (w[(t) & 15] = rol32(w[((t) + 13) & 15] ^ w[((t) + 8) & 15] ^ w[((t) + 2) & 15] ^ w[(t) & 15], 1))
#define SHA1_CH(b, c, d) ((d) ^ ((b) & ((c) ^ (d))))
#define SHA1_PAR(b, c, d) ((b) ^ (c) ^ (d))
#define SHA1_MAJ(b, c, d) (((b) & (c)) | ((d) & ((b) | (c))))
/* Five rounds of one stage, from round t (a multiple of 5). */
#define SHA1_R5(F, k, W, t)                                          \
	do {                                                         \
		SHA1_R(a, b, c, d, e, F(b, c, d), k, W((t)));        \
		SHA1_R(e, a, b, c, d, F(a, b, c), k, W((t) + 1));    \
		SHA1_R(d, e, a, b, c, F(e, a, b), k, W((t) + 2));    \
		SHA1_R(c, d, e, a, b, F(d, e, a), k, W((t) + 3));    \
		SHA1_R(b, c, d, e, a, F(c, d, e), k, W((t) + 4));    \
	} while (0)
#define SHA1_W0(t) (w[(t)])

static void sha1_block(uint32_t h[5], const uint8_t p[64])
{
	uint32_t w[16], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];

	for (int t = 0; t < 16; t++)
		w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 | (uint32_t)p[4 * t + 2] << 8 |
		       p[4 * t + 3];
	SHA1_R5(SHA1_CH, 0x5a827999u, SHA1_W0, 0);
	SHA1_R5(SHA1_CH, 0x5a827999u, SHA1_W0, 5);
	SHA1_R5(SHA1_CH, 0x5a827999u, SHA1_W0, 10);
	SHA1_R(a, b, c, d, e, SHA1_CH(b, c, d), 0x5a827999u, w[15]);
	SHA1_R(e, a, b, c, d, SHA1_CH(a, b, c), 0x5a827999u, SHA1_W(16));
	SHA1_R(d, e, a, b, c, SHA1_CH(e, a, b), 0x5a827999u, SHA1_W(17));
	SHA1_R(c, d, e, a, b, SHA1_CH(d, e, a), 0x5a827999u, SHA1_W(18));
	SHA1_R(b, c, d, e, a, SHA1_CH(c, d, e), 0x5a827999u, SHA1_W(19));
	for (int t = 20; t < 40; t += 5)
		SHA1_R5(SHA1_PAR, 0x6ed9eba1u, SHA1_W, t);
	for (int t = 40; t < 60; t += 5)
		SHA1_R5(SHA1_MAJ, 0x8f1bbcdcu, SHA1_W, t);
	for (int t = 60; t < 80; t += 5)
		SHA1_R5(SHA1_PAR, 0xca62c1d6u, SHA1_W, t);
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

static void sha1_init(sha1 *s)
{
	static const uint32_t h0[5] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u, 0xc3d2e1f0u};

	memcpy(s->h, h0, sizeof(h0));
	s->fill = 0;
	s->len = 0;
}

static void sha1_add(sha1 *s, const void *data, size_t n)
{
	const uint8_t *p = data;

	s->len += n;
	while (n > 0) {
		size_t take = 64 - s->fill < n ? 64 - s->fill : n;
		memcpy(s->blk + s->fill, p, take);
		s->fill += take;
		p += take;
		n -= take;
		if (s->fill == 64) {
			sha1_block(s->h, s->blk);
			s->fill = 0;
		}
	}
}

/* The digest's first 16 bytes (all a uuid keeps). */
static void sha1_end16(sha1 *s, uint8_t out[16])
{
	uint64_t bits = s->len * 8;

	s->blk[s->fill++] = 0x80;
	if (s->fill > 56) {
		memset(s->blk + s->fill, 0, 64 - s->fill);
		sha1_block(s->h, s->blk);
		s->fill = 0;
	}
	memset(s->blk + s->fill, 0, 56 - s->fill);
	for (int i = 0; i < 8; i++)
		s->blk[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
	sha1_block(s->h, s->blk);
	for (int i = 0; i < 16; i++)
		out[i] = (uint8_t)(s->h[i / 4] >> (24 - 8 * (i % 4)));
}

/* RFC 4122's name-based id, version 5: SHA-1 of the namespace's bytes and
 * the name's (a and b, one after the other). */
static void uuid_v5(rove_uuid *out, const uint8_t ns[16], const void *a, size_t alen, const void *b, size_t blen)
{
	sha1 s;

	sha1_init(&s);
	sha1_add(&s, ns, 16);
	sha1_add(&s, a, alen);
	sha1_add(&s, b, blen);
	sha1_end16(&s, out->b);
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
