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

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int rove_uuid_parse(const char *s, rove_uuid *out)
{
	rove_uuid id;
	int n = 0;

	if (s == NULL || strlen(s) != ROVE_UUID_STRLEN)
		return ROVE_EINVAL;
	/* 8-4-4-4-12 hex digits: decoded here (libuuid's parser costs a
	 * strtoul per group, and ids are parsed on every op). */
	for (int i = 0; i < ROVE_UUID_STRLEN; i++) {
		int hi, lo;
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return ROVE_EINVAL;
			continue;
		}
		hi = hexval(s[i]);
		lo = i + 1 < ROVE_UUID_STRLEN ? hexval(s[i + 1]) : -1;
		if (hi < 0 || lo < 0)
			return ROVE_EINVAL;
		id.b[n++] = (uint8_t)(hi << 4 | lo);
		i++;
	}
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

void rove_uuid_from_name(rove_uuid *out, const char *name)
{
	/* rove's namespace: a fixed random id. */
	static const uuid_t ns = {0x6b, 0x1e, 0x2a, 0x4f, 0x93, 0x0c, 0x4d, 0x5e,
				  0xa1, 0x77, 0x3c, 0x58, 0x0e, 0x29, 0xd4, 0xb6};

	uuid_generate_sha1(out->b, ns, name, strlen(name));
}

void rove_uuid_derive(rove_uuid *out, const rove_uuid *from, const char *what)
{
	char name[16 + 64];
	size_t wl = strlen(what);
	static const uuid_t ns = {0x2d, 0x8f, 0x61, 0x0a, 0x5b, 0x47, 0x4e, 0x93,
				  0xb2, 0x1c, 0x70, 0xe4, 0x36, 0x9a, 0x05, 0xcf};

	if (wl > 64)
		wl = 64;
	memcpy(name, from->b, 16);
	memcpy(name + 16, what, wl);
	uuid_generate_sha1(out->b, ns, name, 16 + wl);
	memcpy(out->b, from->b, 6); /* the source's milliseconds */
}
