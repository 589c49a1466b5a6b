/*
 * test_hlc.c - the hybrid logical clock, stamp ordering, record ids and the
 * random bytes of secrets (common/random.h).
 */
#include "check.h"

#include "err.h"
#include "hlc.h"
#include "random.h"
#include "uuid.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uuid/uuid.h>

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0)
		;
}

static void test_hlc_ms(void)
{
	rove_hlc h = rove_hlc_from_ms(1700000000123ull);

	CHECK_EQ_INT(rove_hlc_ms(h), 1700000000123ull);
	CHECK(h.v == (1700000000123ull << 16));
	h.v += 0xffff;
	CHECK_EQ_INT(rove_hlc_ms(h), 1700000000123ull);
}

static void test_tick_wall_forward(void)
{
	rove_hlc last = {0};
	rove_hlc h;

	h = rove_hlc_tick(&last, 1000);
	CHECK(h.v == rove_hlc_from_ms(1000).v);
	CHECK(last.v == h.v);
	/* A later wall clock resets the counter. */
	h = rove_hlc_tick(&last, 1001);
	CHECK(h.v == rove_hlc_from_ms(1001).v);
	CHECK(last.v == h.v);
}

static void test_tick_same_ms(void)
{
	rove_hlc last = {0};
	rove_hlc h, prev;

	prev = rove_hlc_tick(&last, 5000);
	for (int i = 1; i <= 100; i++) {
		h = rove_hlc_tick(&last, 5000);
		CHECK(h.v == prev.v + 1);
		CHECK_EQ_INT(rove_hlc_ms(h), 5000);
		CHECK_EQ_INT(h.v & 0xffff, i);
		prev = h;
	}
}

static void test_tick_wall_backwards(void)
{
	rove_hlc last = {0};
	rove_hlc h, prev;

	prev = rove_hlc_tick(&last, 70000);
	/* The wall clock jumps back a whole minute, then crawls forward. */
	for (uint64_t w = 10000; w < 70000; w += 7) {
		h = rove_hlc_tick(&last, w);
		CHECK(h.v > prev.v);
		CHECK(last.v == h.v);
		prev = h;
	}
	h = rove_hlc_tick(&last, 0);
	CHECK(h.v > prev.v);
	/* 8573 ticks within ms 70000: the counter holds them all. */
	CHECK_EQ_INT(rove_hlc_ms(h), 70000);
	CHECK_EQ_INT(h.v & 0xffff, (70000 - 10000 + 6) / 7 + 1);
	prev = h;
	/* Once the wall clock overtakes it, the clock follows again. */
	h = rove_hlc_tick(&last, 70001);
	CHECK(h.v > prev.v);
	CHECK(h.v == rove_hlc_from_ms(70001).v);
}

static void test_tick_counter_overflow(void)
{
	rove_hlc last = {rove_hlc_from_ms(42).v | 0xffff};
	rove_hlc before = last;
	rove_hlc h = rove_hlc_tick(&last, 42);

	/* The counter carries into the milliseconds: still later. */
	CHECK(h.v > before.v);
	CHECK_EQ_INT(rove_hlc_ms(h), 43);
	CHECK_EQ_INT(h.v & 0xffff, 0);
}

static void test_observe(void)
{
	rove_hlc last = {0};
	rove_hlc seen = {rove_hlc_from_ms(90000).v + 17};
	rove_hlc h, before;

	rove_hlc_tick(&last, 1000);
	/* A remote stamp far ahead of our wall clock. */
	rove_hlc_observe(&last, seen, 1000);
	CHECK(last.v >= seen.v);
	h = rove_hlc_tick(&last, 1000);
	CHECK(h.v > seen.v);
	CHECK_EQ_INT(rove_hlc_ms(h), 90000);

	/* An older remote value never moves the clock back. */
	before = last;
	rove_hlc_observe(&last, rove_hlc_from_ms(5), 1000);
	CHECK(last.v == before.v);
	rove_hlc_observe(&last, (rove_hlc){0}, 0);
	CHECK(last.v == before.v);

	/* A wall clock ahead of everything moves it forward. */
	rove_hlc_observe(&last, rove_hlc_from_ms(100), 200000);
	CHECK(last.v >= rove_hlc_from_ms(200000).v);
	h = rove_hlc_tick(&last, 200000);
	CHECK(h.v > rove_hlc_from_ms(200000).v);

	/* Observing the value we hold changes nothing; the tick still moves. */
	before = last;
	rove_hlc_observe(&last, before, 0);
	CHECK(last.v == before.v);
	h = rove_hlc_tick(&last, 0);
	CHECK(h.v > before.v);
}

static void test_stamp_cmp(void)
{
	rove_stamp a = {{100}, 5};
	rove_stamp b = {{200}, 1};
	rove_stamp c = {{100}, 6};
	rove_stamp d = {{100}, 5};
	rove_stamp big = {{UINT64_MAX}, 0};
	rove_stamp bignode = {{100}, UINT64_MAX};

	CHECK(rove_stamp_cmp(&a, &b) < 0);
	CHECK(rove_stamp_cmp(&b, &a) > 0);
	/* Same clock: node breaks the tie. */
	CHECK(rove_stamp_cmp(&a, &c) < 0);
	CHECK(rove_stamp_cmp(&c, &a) > 0);
	CHECK_EQ_INT(rove_stamp_cmp(&a, &d), 0);
	CHECK_EQ_INT(rove_stamp_cmp(&a, &a), 0);
	/* The clock dominates the node. */
	CHECK(rove_stamp_cmp(&c, &b) < 0);
	CHECK(rove_stamp_cmp(&bignode, &b) < 0);
	CHECK(rove_stamp_cmp(&big, &bignode) > 0);
	/* No overflow in the comparison at the extremes. */
	CHECK(rove_stamp_cmp(&a, &bignode) < 0);
	CHECK(rove_stamp_cmp(&bignode, &a) > 0);
}

#define NIDS 2000

static int cmp_uuid_qsort(const void *a, const void *b)
{
	return rove_uuid_cmp(a, b);
}

static void test_uuid_unique(void)
{
	rove_uuid *ids = calloc(NIDS, sizeof(*ids));
	int dups = 0, nils = 0;

	CHECK(ids != NULL);
	if (ids == NULL)
		return;
	for (int i = 0; i < NIDS; i++) {
		rove_uuid_new(&ids[i]);
		if (rove_uuid_is_nil(&ids[i]))
			nils++;
		/* Version 7, RFC 4122 variant. */
		CHECK_EQ_INT(ids[i].b[6] >> 4, 7);
		CHECK_EQ_INT(ids[i].b[8] >> 6, 2);
	}
	CHECK_EQ_INT(nils, 0);
	qsort(ids, NIDS, sizeof(*ids), cmp_uuid_qsort);
	for (int i = 1; i < NIDS; i++)
		if (rove_uuid_cmp(&ids[i - 1], &ids[i]) == 0)
			dups++;
	CHECK_EQ_INT(dups, 0);
	free(ids);
}

static void test_uuid_format_parse(void)
{
	rove_uuid id, back;
	char s[ROVE_UUID_STRLEN + 1];
	rove_uuid fixed = {{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
			    0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10}};

	rove_uuid_format(&fixed, s);
	CHECK(strcmp(s, "01234567-89ab-cdef-fedc-ba9876543210") == 0);
	CHECK_EQ_INT(strlen(s), ROVE_UUID_STRLEN);
	CHECK_EQ_INT(rove_uuid_parse(s, &back), ROVE_OK);
	CHECK(memcmp(back.b, fixed.b, 16) == 0);
	CHECK_EQ_INT(rove_uuid_node(&fixed), 0xfedcba9876543210ull);
	/* Upper case is read too. */
	memset(&back, 0, sizeof(back));
	CHECK_EQ_INT(rove_uuid_parse("01234567-89AB-CDEF-FEDC-BA9876543210", &back), ROVE_OK);
	CHECK(memcmp(back.b, fixed.b, 16) == 0);

	for (int i = 0; i < 100; i++) {
		rove_uuid_new(&id);
		memset(&back, 0xaa, sizeof(back));
		rove_uuid_format(&id, s);
		CHECK_EQ_INT(strlen(s), ROVE_UUID_STRLEN);
		CHECK(s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-');
		CHECK_EQ_INT(rove_uuid_parse(s, &back), ROVE_OK);
		CHECK_EQ_INT(rove_uuid_cmp(&id, &back), 0);
	}

	/* The nil id. */
	CHECK_EQ_INT(rove_uuid_parse("00000000-0000-0000-0000-000000000000", &back), ROVE_OK);
	CHECK(rove_uuid_is_nil(&back));
	CHECK(!rove_uuid_is_nil(&fixed));
}

static void test_uuid_parse_rejects(void)
{
	static const char *const bad[] = {
		"",
		"0",
		"01234567-89ab-cdef-fedc-ba987654321",   /* one short */
		"01234567-89ab-cdef-fedc-ba98765432100", /* one long */
		"01234567-89ab-cdef-fedc-ba987654321g",  /* not hex */
		"0123456789ab-cdef-fedc-ba98-76543210",  /* dashes moved */
		"01234567+89ab-cdef-fedc-ba9876543210",  /* not a dash */
		"01234567-89ab-cdef-fedcba9876543210ab", /* dash missing */
		"0123456789abcdeffedcba9876543210",      /* no dashes */
		" 1234567-89ab-cdef-fedc-ba9876543210",  /* space */
		"01234567-89ab-cdef-fedc-ba987654321 ",  /* trailing space */
		"{1234567-89ab-cdef-fedc-ba98765432}",
		"zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz",
	};
	rove_uuid out;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = rove_uuid_parse(bad[i], &out);
		if (rc != ROVE_EINVAL)
			fprintf(stderr, "accepted bad uuid '%s'\n", bad[i]);
		CHECK_EQ_INT(rc, ROVE_EINVAL);
	}
	CHECK_EQ_INT(rove_uuid_parse(NULL, &out), ROVE_EINVAL);
}

/* Name-based ids never change: a retried op's follow-ups must get the
 * ids the first try gave (made by any earlier roved), and a target's id
 * is the same on every replica. Fixed vectors, then libuuid's version 5
 * generator (what rove used to call) as the reference for many inputs. */
static void test_uuid_names(void)
{
	static const rove_uuid from = {{0x01, 0x8f, 0x3a, 0x5c, 0x7e, 0x91, 0x7a, 0xbc,
					0x8d, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab}};
	static const struct {
		const char *what, *id;
	} derived[] = {
		{"ownership", "018f3a5c-7e91-5b6f-8fa2-cf65269ec397"},
		{"ownership-op", "018f3a5c-7e91-5da5-acb8-3e322833dbb1"},
		{"last-activity-op", "018f3a5c-7e91-5173-9d03-4eb41a2310bb"},
		{"", "018f3a5c-7e91-51cd-b131-5b6968cda8d6"},
	};
	static const struct {
		const char *name, *id;
	} named[] = {
		{"t01", "2d451a34-43b8-5ace-a8cf-f5528494ee57"},
		{"", "dee1588d-9eef-54b1-b672-79ec0b080ee3"},
		{"a name of a target that is longer than one SHA-1 block, which is sixty-four bytes long, so two blocks",
		 "444838ca-bcf6-5a06-ac80-9f2519f5f14d"},
	};
	static const uuid_t dns = {0x2d, 0x8f, 0x61, 0x0a, 0x5b, 0x47, 0x4e, 0x93,
				   0xb2, 0x1c, 0x70, 0xe4, 0x36, 0x9a, 0x05, 0xcf};
	static const uuid_t nns = {0x6b, 0x1e, 0x2a, 0x4f, 0x93, 0x0c, 0x4d, 0x5e,
				   0xa1, 0x77, 0x3c, 0x58, 0x0e, 0x29, 0xd4, 0xb6};
	char s[ROVE_UUID_STRLEN + 1], name[300];
	rove_uuid out, f;
	uuid_t ref;
	unsigned seed = 17;

	for (size_t i = 0; i < sizeof(derived) / sizeof(derived[0]); i++) {
		rove_uuid_derive(&out, &from, derived[i].what);
		rove_uuid_format(&out, s);
		CHECK(strcmp(s, derived[i].id) == 0);
	}
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		rove_uuid_from_name(&out, named[i].name);
		rove_uuid_format(&out, s);
		CHECK(strcmp(s, named[i].id) == 0);
	}
	/* A pair: the first as derived alone, the second its fixed image. */
	{
		rove_uuid a, b;
		rove_uuid_derive_pair(&a, &b, &from, "ownership");
		rove_uuid_format(&a, s);
		CHECK(strcmp(s, "018f3a5c-7e91-5b6f-8fa2-cf65269ec397") == 0);
		rove_uuid_format(&b, s);
		CHECK(strcmp(s, "018f3a5c-7e91-5490-b05d-309ad9613c68") == 0);
	}
	/* Every length up to past four SHA-1 blocks, every padding case. */
	for (size_t len = 0; len < sizeof(name); len++) {
		for (size_t j = 0; j < len; j++)
			name[j] = (char)(' ' + (seed = seed * 1103515245u + 12345u) % 95);
		name[len] = '\0';
		rove_uuid_from_name(&out, name);
		uuid_generate_sha1(ref, nns, name, len);
		CHECK(memcmp(out.b, ref, 16) == 0);
		for (int j = 0; j < 16; j++)
			f.b[j] = (uint8_t)((seed = seed * 1103515245u + 12345u) >> 16);
		if (len <= 64) {
			uint8_t in[16 + 64];
			memcpy(in, f.b, 16);
			memcpy(in + 16, name, len);
			rove_uuid_derive(&out, &f, name);
			uuid_generate_sha1(ref, dns, (const char *)in, 16 + len);
			memcpy(ref, f.b, 6);
			CHECK(memcmp(out.b, ref, 16) == 0);
			rove_uuid a, b;
			rove_uuid_derive_pair(&a, &b, &f, name);
			CHECK(memcmp(a.b, ref, 16) == 0);
			CHECK(memcmp(b.b, f.b, 6) == 0); /* the time prefix */
			CHECK(rove_uuid_cmp(&a, &b) != 0);
			CHECK((b.b[6] >> 4) == 5 && (b.b[8] >> 6) == 2); /* version 5, RFC variant */
			for (int j = 6; j < 16; j++)
				CHECK((uint8_t)(a.b[j] ^ b.b[j]) == (j == 6 ? 0x0f : j == 8 ? 0x3f : 0xff));
		}
	}
}

static uint64_t uuid_ms(const rove_uuid *id)
{
	uint64_t ms = 0;

	for (int i = 0; i < 6; i++)
		ms = (ms << 8) | id->b[i];
	return ms;
}

static void test_uuid_time_order(void)
{
	rove_uuid a, b, c;
	uint64_t before, after;

	before = rove_wall_ms();
	rove_uuid_new(&a);
	after = rove_wall_ms();
	/* The first 48 bits are the creation time in milliseconds. */
	CHECK(uuid_ms(&a) >= before);
	CHECK(uuid_ms(&a) <= after);

	/* Created in a later millisecond: sorts later on the first 6 bytes,
	 * and so as a whole. */
	sleep_ms(3);
	rove_uuid_new(&b);
	CHECK(memcmp(a.b, b.b, 6) < 0);
	CHECK(rove_uuid_cmp(&a, &b) < 0);
	sleep_ms(3);
	rove_uuid_new(&c);
	CHECK(memcmp(b.b, c.b, 6) < 0);
	CHECK(rove_uuid_cmp(&b, &c) < 0);

	/* Back to back: strictly increasing (many in one millisecond), and
	 * never earlier on the time prefix. */
	for (int i = 0; i < 1000; i++) {
		rove_uuid_new(&b);
		CHECK(memcmp(a.b, b.b, 6) <= 0);
		CHECK(rove_uuid_cmp(&a, &b) < 0);
		CHECK_EQ_INT(b.b[6] >> 4, 7);
		CHECK_EQ_INT(b.b[8] >> 6, 2);
		a = b;
	}
}

/* Ids stamped with a time (rove_uuid_set_ms) increase strictly in a
 * thread, in one millisecond or with the time set back, and keep their
 * version and variant. */
static void test_uuid_set_ms_order(void)
{
	rove_uuid a, b;
	uint64_t ms = rove_wall_ms();

	rove_uuid_new(&b);
	rove_uuid_derive(&a, &b, "first");
	rove_uuid_set_ms(&a, ms);
	CHECK_EQ_INT((int)(uuid_ms(&a) >= ms), 1);
	for (int i = 0; i < 1000; i++) {
		rove_uuid_derive(&b, &a, i % 2 ? "odd" : "even");
		rove_uuid_set_ms(&b, i < 900 ? ms : ms - 60000); /* the last hundred set back */
		CHECK(rove_uuid_cmp(&a, &b) < 0);
		CHECK_EQ_INT(b.b[6] >> 4, 5);
		CHECK_EQ_INT(b.b[8] >> 6, 2);
		a = b;
	}
	/* a later millisecond is taken as it is */
	rove_uuid_derive(&b, &a, "later");
	rove_uuid_set_ms(&b, ms + 5);
	CHECK_EQ_INT((int)(uuid_ms(&b) == ms + 5), 1);
}

static void test_wall_ms(void)
{
	uint64_t a = rove_wall_ms();
	uint64_t b;

	/* After 2020-01-01 and below the 48 bits an hlc holds. */
	CHECK(a > 1577836800000ull);
	CHECK(a < (1ull << 48));
	sleep_ms(2);
	b = rove_wall_ms();
	CHECK(b >= a + 1);
}

/* Secrets in hex: every digit written, lowercase, the NUL in place, no
 * byte past it touched; longer than one chunk of the kernel's bytes. */
static void test_random_hex(void)
{
	char a[2 * 45 + 2], b[2 * 45 + 2];
	uint8_t key[32] = {0}, zero[32] = {0};

	memset(a, 'X', sizeof(a));
	CHECK_EQ_INT(rove_random_hex(a, 45), ROVE_OK);
	CHECK_EQ_INT(strlen(a), 90);
	CHECK(a[91] == 'X');
	CHECK(strspn(a, "0123456789abcdef") == 90);
	CHECK_EQ_INT(rove_random_hex(b, 45), ROVE_OK);
	CHECK(strcmp(a, b) != 0);
	CHECK_EQ_INT(rove_random_hex(a, 0), ROVE_OK);
	CHECK(a[0] == '\0');
	CHECK_EQ_INT(rove_random_bytes(key, sizeof(key)), ROVE_OK);
	CHECK(memcmp(key, zero, sizeof(key)) != 0);
	CHECK(rove_random_seed() != rove_random_seed());
}

int main(void)
{
	test_hlc_ms();
	test_tick_wall_forward();
	test_tick_same_ms();
	test_tick_wall_backwards();
	test_tick_counter_overflow();
	test_observe();
	test_stamp_cmp();
	test_uuid_unique();
	test_uuid_format_parse();
	test_uuid_parse_rejects();
	test_uuid_time_order();
	test_uuid_set_ms_order();
	test_uuid_names();
	test_wall_ms();
	test_random_hex();
	return check_done("test_hlc");
}
