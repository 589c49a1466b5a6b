/*
 * test_snapshot.c - a snapshot's records end up in the replica whatever
 * order they come in.
 *
 * A snapshot of everything arrives in key order, and the replica appends
 * its records to the snapshot being built (replica_sync.c, aside_put);
 * the order is the server's word, not a promise the replica may rely on.
 * Replies built with the protocol's encoder and applied to a real replica
 * in a temporary directory bring records in key order, backwards, one
 * before the table's last key inside a chunk and across chunks, and one
 * twice: every record must be there, with its fields, once.
 */
#include "check.h"
#include "err.h"
#include "replica.h"
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 64 /* records, ids 0..N-1 in key order */

static rove_replica rep;

static void id_of(uint32_t i, rove_uuid *id)
{
	memset(id->b, 0, sizeof(id->b));
	id->b[0] = 0x10;
	id->b[14] = (uint8_t)(i >> 8);
	id->b[15] = (uint8_t)i;
}

/* Adds customer i's record (its name says i) to a reply's items. */
static void add_record(rove_buf *items, uint32_t i)
{
	rove_stamp st = {{(uint64_t)(i + 1) << 16}, 7};
	rove_record *rec = malloc(sizeof(*rec));
	char name[32];
	rove_buf b;

	CHECK(rec != NULL);
	rec->coll = ROVE_COLL_CUSTOMER;
	id_of(i, &rec->id);
	rove_fields_init(&rec->fs);
	snprintf(name, sizeof(name), "customer %u", i);
	CHECK_EQ_INT(rove_fields_set(&rec->fs, "name", rove_vcstr(name), st), ROVE_OK);
	rove_buf_init(&b);
	CHECK_EQ_INT(rove_enc_record(&b, rec), ROVE_OK);
	CHECK_EQ_INT(rove_enc_entry_record_raw(items, b.data, b.len), ROVE_OK);
	rove_buf_free(&b);
	free(rec);
}

/* Applies a snapshot chunk (reset: the first) of the records ids[0..n). */
static void chunk(bool reset, bool more, const char *key, const uint32_t *ids, uint32_t n)
{
	rove_pull_reply h;
	rove_buf b, items;
	rove_msg m;
	uint32_t applied = 0;

	memset(&h, 0, sizeof(h));
	snprintf(h.role, sizeof(h.role), "analyst");
	h.mode = ROVE_PULL_SNAPSHOT;
	h.reset = reset;
	h.more = more;
	h.head = 100;
	h.snap_seq = 100;
	h.cursor = more ? 0 : 100;
	h.epoch = 1;
	h.snap_keylen = (uint32_t)strlen(key);
	memcpy(h.snap_key, key, h.snap_keylen);
	h.n = n;
	rove_buf_init(&b);
	rove_buf_init(&items);
	for (uint32_t i = 0; i < n; i++)
		add_record(&items, ids[i]);
	CHECK_EQ_INT(rove_enc_pull_reply(&b, &h, &items), ROVE_OK);
	CHECK_EQ_INT(rove_msg_decode_lazy(b.data, b.len, &m), ROVE_OK);
	CHECK_EQ_INT(rove_replica_apply_pull(&rep, &m, &applied), ROVE_OK);
	CHECK_EQ_INT(applied, n);
	rove_buf_free(&b);
	rove_buf_free(&items);
}

typedef struct seen {
	uint32_t n;
	uint32_t times[N];
	bool out_of_order;
	int last;
} seen;

static int count(const rove_record *rec, void *arg)
{
	seen *s = arg;
	const rove_field *f = rove_fields_get(&rec->fs, "name");
	uint32_t i = (uint32_t)rec->id.b[14] << 8 | rec->id.b[15];
	char want[32];

	CHECK(i < N);
	if (i >= N)
		return ROVE_OK;
	snprintf(want, sizeof(want), "customer %u", i);
	CHECK(f != NULL && f->v.type == ROVE_V_STR && strcmp(f->v.s, want) == 0);
	if ((int)i <= s->last)
		s->out_of_order = true;
	s->last = (int)i;
	s->times[i]++;
	s->n++;
	return ROVE_OK;
}

int main(void)
{
	char dir[] = "/tmp/rove-test-snapshot.XXXXXX";
	uint32_t ids[N];
	seen s;

	CHECK(mkdtemp(dir) != NULL);
	CHECK(rove_replica_create(dir, "tcp://127.0.0.1:1", "ana",
				  "0000000000000000000000000000000000000000000000000000000000000000", NULL) == ROVE_OK);
	CHECK(rove_replica_open(dir, &rep) == ROVE_OK);

	/* First chunk: 40..47 in order, then 20..27 backwards (each before
	 * the table's last key), then 48 (past it again) and 44 twice. */
	for (uint32_t i = 0; i < 8; i++)
		ids[i] = 40 + i;
	for (uint32_t i = 0; i < 8; i++)
		ids[8 + i] = 27 - i;
	ids[16] = 48;
	ids[17] = 44;
	chunk(true, true, "k1", ids, 18);
	/* Second chunk: 49..63 in order after the last, then 0..19, then
	 * 28..39: the rest, mostly before what the table holds. */
	for (uint32_t i = 0; i < 15; i++)
		ids[i] = 49 + i;
	for (uint32_t i = 0; i < 20; i++)
		ids[15 + i] = i;
	for (uint32_t i = 0; i < 12; i++)
		ids[35 + i] = 28 + i;
	chunk(false, true, "k2", ids, 47);
	/* The last chunk, empty: the snapshot becomes the base. */
	chunk(false, false, "", ids, 0);

	memset(&s, 0, sizeof(s));
	s.last = -1;
	CHECK_EQ_INT(rove_replica_each(&rep, ROVE_COLL_CUSTOMER, count, &s), ROVE_OK);
	CHECK_EQ_INT(s.n, N);
	CHECK(!s.out_of_order);
	for (uint32_t i = 0; i < N; i++)
		CHECK_EQ_INT(s.times[i], 1);

	rove_replica_close(&rep);
	{
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		CHECK(system(cmd) == 0);
	}
	return check_done("test_snapshot");
}
