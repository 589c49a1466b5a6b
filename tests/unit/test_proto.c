/*
 * test_proto.c - the wire protocol: round trips of every message (and of
 * the stored rejection), and refusal of every kind of bad input.
 *
 * Every decode here reads from a heap copy of exactly the message's size,
 * so under AddressSanitizer a read past the end is caught.
 */
#include "check.h"

#include "err.h"
#include "proto.h"
#include "record.h"

#include <msgpack.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char token[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/* Deterministic generator (xorshift64*), so a failure can be replayed. */
static uint64_t rng_state = 0x243f6a8885a308d3ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static rove_stamp stamp(uint64_t hlc, uint64_t node)
{
	rove_stamp st = {{hlc}, node};

	return st;
}

static void make_auth(rove_auth *a, const char *user)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->user, sizeof(a->user), "%s", user);
	snprintf(a->token, sizeof(a->token), "%s", token);
}

static void fixed_uuid(rove_uuid *id, uint8_t seed)
{
	for (int i = 0; i < 16; i++)
		id->b[i] = (uint8_t)(seed + 17 * i);
}

static uint8_t *dup_bytes(const void *p, size_t len)
{
	uint8_t *d = malloc(len ? len : 1);

	if (d == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	if (len > 0)
		memcpy(d, p, len);
	return d;
}

/* Decodes a heap copy of exactly len bytes; the copy is freed. */
static int try_decode(const void *p, size_t len)
{
	rove_msg m;
	uint8_t *d = dup_bytes(p, len);
	int rc = rove_msg_decode(d, len, &m);

	free(d);
	return rc;
}

static int try_dec_op(const void *p, size_t len)
{
	static rove_op op;
	uint8_t *d = dup_bytes(p, len);
	int rc = rove_dec_op(d, len, &op);

	free(d);
	return rc;
}

static int try_dec_record(const void *p, size_t len)
{
	static rove_record rec;
	uint8_t *d = dup_bytes(p, len);
	int rc = rove_dec_record(d, len, &rec);

	free(d);
	return rc;
}

static int try_dec_rejection(const void *p, size_t len)
{
	static rove_rejection rj;
	uint8_t *d = dup_bytes(p, len);
	int rc = rove_dec_rejection(d, len, &rj);

	free(d);
	return rc;
}

/* ---- comparisons ----------------------------------------------------- */

static bool stamp_eq(const rove_stamp *a, const rove_stamp *b)
{
	return a->hlc.v == b->hlc.v && a->node == b->node;
}

static bool fields_eq(const rove_fields *a, const rove_fields *b)
{
	if (a->n != b->n)
		return false;
	for (uint32_t i = 0; i < a->n; i++) {
		if (strcmp(a->f[i].name, b->f[i].name) != 0)
			return false;
		if (!rove_value_eq(&a->f[i].v, &b->f[i].v))
			return false;
		if (!stamp_eq(&a->f[i].st, &b->f[i].st))
			return false;
	}
	return true;
}

static bool op_eq(const rove_op *a, const rove_op *b)
{
	return rove_uuid_cmp(&a->op_id, &b->op_id) == 0 && a->kind == b->kind && a->coll == b->coll &&
	       rove_uuid_cmp(&a->rid, &b->rid) == 0 && stamp_eq(&a->st, &b->st) && a->seq == b->seq &&
	       strcmp(a->author, b->author) == 0 && fields_eq(&a->fs, &b->fs);
}

static bool record_eq(const rove_record *a, const rove_record *b)
{
	return a->coll == b->coll && rove_uuid_cmp(&a->id, &b->id) == 0 && fields_eq(&a->fs, &b->fs);
}

static bool result_eq(const rove_push_result *a, const rove_push_result *b)
{
	return rove_uuid_cmp(&a->op_id, &b->op_id) == 0 && a->status == b->status && a->seen == b->seen &&
	       a->seq == b->seq && a->reason == b->reason && strcmp(a->detail, b->detail) == 0 &&
	       stamp_eq(&a->st, &b->st);
}

static bool conflict_is(const rove_conflict *c, uint64_t n, uint64_t time_ms, uint8_t reason, const char *detail,
			const rove_op *op)
{
	return c->n == n && c->time_ms == time_ms && c->reason == reason && strcmp(c->detail, detail) == 0 &&
	       op_eq(&c->op, op);
}

/* ---- entries --------------------------------------------------------- */

/* Appends an op entry for op to items, the op encoded first on its own as
 * the server stores it. */
static int add_op_entry(rove_buf *items, const rove_op *op)
{
	rove_buf tmp;
	int rc;

	rove_buf_init(&tmp);
	rc = rove_enc_op(&tmp, op);
	if (rc == ROVE_OK)
		rc = rove_enc_entry_op_raw(items, tmp.data, tmp.len);
	rove_buf_free(&tmp);
	return rc;
}

static int add_record_entry(rove_buf *items, const rove_record *rec)
{
	rove_buf tmp;
	int rc;

	rove_buf_init(&tmp);
	rc = rove_enc_record(&tmp, rec);
	if (rc == ROVE_OK)
		rc = rove_enc_entry_record_raw(items, tmp.data, tmp.len);
	rove_buf_free(&tmp);
	return rc;
}

/* Appends a conflict item for op to items. */
static int add_conflict(rove_buf *items, uint64_t n, uint64_t time_ms, int reason, const char *detail,
			const rove_op *op)
{
	rove_buf tmp;
	int rc;

	rove_buf_init(&tmp);
	rc = rove_enc_op(&tmp, op);
	if (rc == ROVE_OK)
		rc = rove_enc_conflict_raw(items, n, time_ms, reason, detail, 0, tmp.data, tmp.len);
	rove_buf_free(&tmp);
	return rc;
}

/* ---- sample data ----------------------------------------------------- */

#define NOPS 4
#define NRECS 3

static rove_op sample_ops[NOPS];
static rove_record sample_recs[NRECS];
static char bigstr[ROVE_MAX_STR + 64];

static void make_samples(void)
{
	rove_uuid rid;
	rove_op *op;
	rove_record *rec;
	char name[8];
	char longname[ROVE_MAX_FIELD_NAME + 1];

	memset(bigstr, 's', sizeof(bigstr));

	fixed_uuid(&rid, 1);
	op = &sample_ops[0];
	rove_op_init(op, ROVE_OP_CREATE, 1, &rid, stamp(0x0001234567890001ull, 42));
	rove_op_set(op, "name", rove_vcstr("Acme \xc3\x9c GmbH"));
	rove_op_set(op, "score", rove_vint(-1));
	rove_op_set(op, "big", rove_vint(INT64_MAX));
	rove_op_set(op, "small", rove_vint(INT64_MIN));
	rove_op_set(op, "neg", rove_vint(-40000));
	rove_op_set(op, "zero", rove_vint(0));
	rove_op_set(op, "u8", rove_vint(200));
	rove_op_set(op, "phone", rove_vnull());
	rove_op_set(op, "empty", rove_vstr("", 0));

	op = &sample_ops[1];
	rove_op_init(op, ROVE_OP_UPDATE, 255, &rid, stamp(UINT64_MAX, UINT64_MAX));
	op->seq = UINT64_MAX;
	snprintf(op->author, sizeof(op->author), "%s", "bob.smith@example");

	op = &sample_ops[2];
	rove_op_init(op, ROVE_OP_DELETE, 0, &rid, stamp(0, 0));
	op->seq = 77;
	memset(op->author, 'a', ROVE_MAX_NAME);
	op->author[ROVE_MAX_NAME] = '\0';
	rove_op_set(op, ROVE_FIELD_DELETED, rove_vint(1));

	/* As many fields as allowed: one a string of the largest size, one
	 * with a name of the largest length. */
	op = &sample_ops[3];
	rove_op_init(op, ROVE_OP_UPDATE, 3, &rid, stamp(1000, 7));
	for (uint32_t i = 0; i < ROVE_MAX_FIELDS - 1; i++) {
		snprintf(name, sizeof(name), "f%02u", i);
		if (i == 0)
			rove_op_set(op, name, rove_vstr(bigstr, ROVE_MAX_STR));
		else if (i % 3 == 0)
			rove_op_set(op, name, rove_vint((int64_t)i * 1000003));
		else if (i % 3 == 1)
			rove_op_set(op, name, rove_vcstr(name));
		else
			rove_op_set(op, name, rove_vnull());
	}
	memset(longname, 'z', ROVE_MAX_FIELD_NAME);
	longname[ROVE_MAX_FIELD_NAME] = '\0';
	rove_op_set(op, longname, rove_vint(5));
	CHECK_EQ_INT(op->fs.n, ROVE_MAX_FIELDS);

	rec = &sample_recs[0];
	memset(rec, 0, sizeof(*rec));
	rec->coll = 1;
	fixed_uuid(&rec->id, 9);
	rove_fields_init(&rec->fs);
	rove_fields_set(&rec->fs, "name", rove_vcstr("Acme"), stamp(100, 1));
	rove_fields_set(&rec->fs, "tier", rove_vcstr("loyal"), stamp(200, 2));
	rove_fields_set(&rec->fs, "phone", rove_vnull(), stamp(300, UINT64_MAX));
	rove_fields_set(&rec->fs, "_deleted", rove_vint(0), stamp(UINT64_MAX, 0));
	rove_fields_set(&rec->fs, "amount", rove_vint(-1200050), stamp(5, 5));

	rec = &sample_recs[1];
	memset(rec, 0, sizeof(*rec));
	rec->coll = 255;
	fixed_uuid(&rec->id, 200);
	rove_fields_init(&rec->fs);

	rec = &sample_recs[2];
	memset(rec, 0, sizeof(*rec));
	rec->coll = 0;
	fixed_uuid(&rec->id, 33);
	rove_fields_init(&rec->fs);
	rove_fields_set(&rec->fs, "a", rove_vstr(bigstr, ROVE_MAX_STR), stamp(1, 2));
	rove_fields_set(&rec->fs, "b", rove_vstr(bigstr, ROVE_MAX_STR), stamp(3, 4));
	rove_fields_set(&rec->fs, "c", rove_vstr(bigstr, ROVE_MAX_STR), stamp(5, 6));
}

static rove_push_result sample_results[3];

static void make_results(void)
{
	rove_push_result *r;

	memset(sample_results, 0, sizeof(sample_results));
	r = &sample_results[0];
	fixed_uuid(&r->op_id, 3);
	r->status = ROVE_PUSH_ACCEPTED;
	r->seq = 123456789012ull;
	r->st = stamp(0x0001234567890005ull, 99);

	r = &sample_results[1];
	fixed_uuid(&r->op_id, 4);
	r->status = ROVE_PUSH_REJECTED;
	r->reason = ROVE_R_COUNT - 1;
	memset(r->detail, 'd', ROVE_MAX_DETAIL);
	r->detail[ROVE_MAX_DETAIL] = '\0';

	r = &sample_results[2];
	fixed_uuid(&r->op_id, 5);
	r->status = ROVE_PUSH_ACCEPTED;
	r->seen = true;
	r->seq = UINT64_MAX;
	r->reason = ROVE_R_NONE;
	snprintf(r->detail, sizeof(r->detail), "%s", "already had it");
	r->st = stamp(UINT64_MAX, UINT64_MAX);
}

/* ---- round trips ----------------------------------------------------- */

static void test_push_roundtrip(void)
{
	static rove_op got;
	static rove_entry entry;
	static rove_conflict conflict;
	rove_auth a;
	rove_uuid replica;
	rove_buf b;
	rove_msg m;
	rove_push_result res;
	const char *s;
	uint32_t len;
	uint8_t *d;

	rove_seen seen;

	make_auth(&a, "alice");
	fixed_uuid(&replica, 77);
	seen.server = 0x1234567890abcdefull;
	fixed_uuid(&seen.run, 78);
	seen.seq = UINT64_MAX;
	fixed_uuid(&seen.ack_run, 79);
	seen.ack_seq = 5;
	rove_buf_init(&b);
	CHECK_EQ_INT(rove_enc_push(&b, &a, &replica, &seen, sample_ops, NOPS), ROVE_OK);
	d = dup_bytes(b.data, b.len);
	CHECK_EQ_INT(rove_msg_decode(d, b.len, &m), ROVE_OK);
	CHECK_EQ_INT(m.type, ROVE_MSG_PUSH);
	CHECK(strcmp(m.auth.user, "alice") == 0);
	CHECK(strcmp(m.auth.token, token) == 0);
	CHECK_EQ_INT(rove_uuid_cmp(&m.u.push.replica, &replica), 0);
	CHECK(m.u.push.seen.server == 0x1234567890abcdefull);
	CHECK_EQ_INT(rove_uuid_cmp(&m.u.push.seen.run, &seen.run), 0);
	CHECK(m.u.push.seen.seq == UINT64_MAX);
	CHECK_EQ_INT(rove_uuid_cmp(&m.u.push.seen.ack_run, &seen.ack_run), 0);
	CHECK_EQ_INT(m.u.push.seen.ack_seq, 5);
	CHECK_EQ_INT(m.u.push.n, NOPS);
	CHECK_EQ_INT(m.left, NOPS);
	/* The wrong iterator for the type. */
	CHECK_EQ_INT(rove_msg_next_entry(&m, &entry), ROVE_EINVAL);
	CHECK_EQ_INT(rove_msg_next_conflict(&m, &conflict), ROVE_EINVAL);
	CHECK_EQ_INT(rove_msg_next_result(&m, &res), ROVE_EINVAL);
	CHECK_EQ_INT(rove_msg_next_str(&m, &s, &len), ROVE_EINVAL);
	CHECK_EQ_INT(m.left, NOPS);
	for (int i = 0; i < NOPS; i++) {
		memset(&got, 0x5a, sizeof(got));
		CHECK_EQ_INT(rove_msg_next_op(&m, &got), ROVE_OK);
		CHECK(op_eq(&got, &sample_ops[i]));
		CHECK_EQ_INT(m.left, NOPS - 1 - i);
	}
	CHECK_EQ_INT(rove_msg_next_op(&m, &got), ROVE_ENOTFOUND);
	CHECK_EQ_INT(rove_msg_next_op(&m, &got), ROVE_ENOTFOUND);
	free(d);

	/* An empty push. */
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_push(&b, &a, &replica, NULL, NULL, 0), ROVE_OK);
	d = dup_bytes(b.data, b.len);
	CHECK_EQ_INT(rove_msg_decode(d, b.len, &m), ROVE_OK);
	CHECK_EQ_INT(m.type, ROVE_MSG_PUSH);
	CHECK_EQ_INT(m.u.push.n, 0);
	CHECK_EQ_INT(rove_msg_next_op(&m, &got), ROVE_ENOTFOUND);
	free(d);

	/* Empty user and token strings are carried as such. */
	memset(&a, 0, sizeof(a));
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_push(&b, &a, &replica, NULL, sample_ops, 1), ROVE_OK);
	d = dup_bytes(b.data, b.len);
	CHECK_EQ_INT(rove_msg_decode(d, b.len, &m), ROVE_OK);
	CHECK(m.auth.user[0] == '\0' && m.auth.token[0] == '\0');
	free(d);
	rove_buf_free(&b);
}

static void test_push_limits(void)
{
	rove_op *many = calloc(ROVE_MAX_PUSH_OPS + 1, sizeof(*many));
	rove_auth a;
	rove_uuid replica;
	rove_buf b;
	rove_msg m;
	uint8_t *d;
	size_t before;

	if (many == NULL) {
		CHECK(many != NULL);
		return;
	}
	make_auth(&a, "alice");
	fixed_uuid(&replica, 1);
	for (uint32_t i = 0; i <= ROVE_MAX_PUSH_OPS; i++) {
		rove_op_init(&many[i], ROVE_OP_UPDATE, 1, &replica, stamp(i, 1));
		rove_op_set(&many[i], "n", rove_vint(i));
	}
	rove_buf_init(&b);
	CHECK_EQ_INT(rove_enc_push(&b, &a, &replica, NULL, many, ROVE_MAX_PUSH_OPS), ROVE_OK);
	d = dup_bytes(b.data, b.len);
	CHECK_EQ_INT(rove_msg_decode(d, b.len, &m), ROVE_OK);
	CHECK_EQ_INT(m.u.push.n, ROVE_MAX_PUSH_OPS);
	free(d);
	/* The encoder refuses one more and leaves the buffer as it was. */
	before = b.len;
	CHECK_EQ_INT(rove_enc_push(&b, &a, &replica, NULL, many, ROVE_MAX_PUSH_OPS + 1), ROVE_ETOOBIG);
	CHECK_EQ_INT(b.len, before);
	rove_buf_free(&b);
	free(many);
}

/* Where the 24 bytes of a proof of hlc 0x0102030405060708 (bin 8, 0xc4
 * 0x18) begin in b: its header's offset, or SIZE_MAX. */
static size_t proof_at(const rove_buf *b)
{
	static const uint8_t head[] = {0xc4, 0x18, 1, 2, 3, 4, 5, 6, 7, 8};

	for (size_t i = 0; i + sizeof(head) <= b->len; i++)
		if (memcmp((const uint8_t *)b->data + i, head, sizeof(head)) == 0)
			return i;
	return SIZE_MAX;
}

/* Proofs of the server's clock: an optional element of PUSH, PUSH_REPLY
 * (after the head), PULL_REPLY (after time) and, asked for, of PULL (a
 * flag after records); each read back as sent, and refused when it is not
 * 24 bytes or proves hlc 0. */
static void test_proofs_roundtrip(void)
{
	rove_proof p;
	rove_seen seen;
	rove_auth a;
	rove_uuid replica, run;
	rove_pull_req q;
	rove_pull_reply h;
	rove_buf b;
	rove_msg m;
	uint8_t *d;
	size_t at;

	p.hlc.v = 0x0102030405060708ull;
	for (int i = 0; i < ROVE_PROOF_MAC; i++)
		p.mac[i] = (uint8_t)(0xa0 + i);
	make_auth(&a, "alice");
	fixed_uuid(&replica, 7);
	fixed_uuid(&run, 8);
	memset(&seen, 0, sizeof(seen));
	seen.clock = p;
	rove_buf_init(&b);

	CHECK_EQ_INT(rove_enc_push(&b, &a, &replica, &seen, sample_ops, 1), ROVE_OK);
	d = dup_bytes(b.data, b.len);
	CHECK_EQ_INT(rove_msg_decode(d, b.len, &m), ROVE_OK);
	CHECK(m.u.push.seen.clock.hlc.v == p.hlc.v);
	CHECK(memcmp(m.u.push.seen.clock.mac, p.mac, ROVE_PROOF_MAC) == 0);
	free(d);
	at = proof_at(&b);
	CHECK(at != SIZE_MAX);
	if (at != SIZE_MAX) {
		memset((uint8_t *)b.data + at + 2, 0xff, 8); /* past the year 9999 */
		CHECK_EQ_INT(rove_msg_decode(b.data, b.len, &m), ROVE_EPROTO);
		memset((uint8_t *)b.data + at + 2, 0, 8); /* hlc 0 */
		CHECK_EQ_INT(rove_msg_decode(b.data, b.len, &m), ROVE_EPROTO);
		((uint8_t *)b.data)[at + 1] = 0x17; /* 23 bytes */
		CHECK_EQ_INT(rove_msg_decode(b.data, b.len, &m), ROVE_EPROTO);
		((uint8_t *)b.data)[at + 1] = 0x19; /* 25 bytes: malformed too */
		CHECK_EQ_INT(rove_msg_decode(b.data, b.len, &m), ROVE_EPROTO);
	}
	/* Without one: none read. */
	rove_buf_reset(&b);
	seen.clock.hlc.v = 0;
	CHECK_EQ_INT(rove_enc_push(&b, &a, &replica, &seen, sample_ops, 1), ROVE_OK);
	CHECK_EQ_INT(rove_msg_decode(b.data, b.len, &m), ROVE_OK);
	CHECK(m.u.push.seen.clock.hlc.v == 0);

	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_push_reply_proof(&b, 9, &run, &p, NULL, 0), ROVE_OK);
	CHECK_EQ_INT(rove_msg_decode(b.data, b.len, &m), ROVE_OK);
	CHECK(m.u.push_reply.clock.hlc.v == p.hlc.v);
	CHECK(memcmp(m.u.push_reply.clock.mac, p.mac, ROVE_PROOF_MAC) == 0);
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_push_reply(&b, 9, &run, NULL, 0), ROVE_OK);
	CHECK_EQ_INT(rove_msg_decode(b.data, b.len, &m), ROVE_OK);
	CHECK(m.u.push_reply.clock.hlc.v == 0);

	memset(&q, 0, sizeof(q));
	q.records = ROVE_RECORD_FORMAT;
	q.proofs = true;
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_pull(&b, &a, &q), ROVE_OK);
	CHECK_EQ_INT(rove_msg_decode(b.data, b.len, &m), ROVE_OK);
	CHECK_EQ_INT(m.elems, 18);
	CHECK(m.u.pull.proofs && !m.u.pull.clock && m.u.pull.records == ROVE_RECORD_FORMAT);
	CHECK(!m.u.pull.has_snap_end && m.u.pull.snap_end == 0);
	/* snap_end after proofs: 0 is sent too (a PULL without it is an
	 * older rove's) */
	for (uint64_t end = 0; end <= 7000000000ull; end += 7000000000ull) {
		q.has_snap_end = true;
		q.snap_end = end;
		rove_buf_reset(&b);
		CHECK_EQ_INT(rove_enc_pull(&b, &a, &q), ROVE_OK);
		CHECK_EQ_INT(rove_msg_decode(b.data, b.len, &m), ROVE_OK);
		CHECK_EQ_INT(m.elems, 19);
		CHECK(m.u.pull.proofs && m.u.pull.has_snap_end && m.u.pull.snap_end == end);
	}
	q.proofs = false; /* snap_end comes after proofs, sent only when true */
	CHECK_EQ_INT(rove_enc_pull(&b, &a, &q), ROVE_EINVAL);
	q.has_snap_end = false;
	q.proofs = true;
	q.records = 1; /* proofs come after records, sent only when 2 or more */
	CHECK_EQ_INT(rove_enc_pull(&b, &a, &q), ROVE_EINVAL);

	memset(&h, 0, sizeof(h));
	snprintf(h.role, sizeof(h.role), "rep");
	h.mode = ROVE_PULL_OPS;
	h.clock = p;
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_pull_reply(&b, &h, NULL), ROVE_EINVAL); /* a proof needs the time */
	h.time_ms = 1764800000000ull;
	CHECK_EQ_INT(rove_enc_pull_reply(&b, &h, NULL), ROVE_OK);
	CHECK_EQ_INT(rove_msg_decode(b.data, b.len, &m), ROVE_OK);
	CHECK(m.u.pull_reply.time_ms == h.time_ms && m.u.pull_reply.clock.hlc.v == p.hlc.v);
	CHECK(memcmp(m.u.pull_reply.clock.mac, p.mac, ROVE_PROOF_MAC) == 0);
	rove_buf_free(&b);
}

static void test_push_reply_roundtrip(void)
{
	rove_buf b;
	rove_msg m;
	rove_push_result got;
	static rove_op op;
	uint8_t *d;

	rove_uuid run;

	fixed_uuid(&run, 9);
	rove_buf_init(&b);
	CHECK_EQ_INT(rove_enc_push_reply(&b, 77, &run, sample_results, 3), ROVE_OK);
	d = dup_bytes(b.data, b.len);
	CHECK_EQ_INT(rove_msg_decode(d, b.len, &m), ROVE_OK);
	CHECK_EQ_INT(m.type, ROVE_MSG_PUSH_REPLY);
	CHECK_EQ_INT(m.u.push_reply.n, 3);
	CHECK(rove_uuid_cmp(&m.u.push_reply.run, &run) == 0);
	CHECK_EQ_INT(m.u.push_reply.server, 77);
	CHECK_EQ_INT(rove_msg_next_op(&m, &op), ROVE_EINVAL);
	for (int i = 0; i < 3; i++) {
		memset(&got, 0x5a, sizeof(got));
		CHECK_EQ_INT(rove_msg_next_result(&m, &got), ROVE_OK);
		CHECK(result_eq(&got, &sample_results[i]));
	}
	CHECK_EQ_INT(rove_msg_next_result(&m, &got), ROVE_ENOTFOUND);
	free(d);

	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_push_reply(&b, 77, &run, NULL, 0), ROVE_OK);
	CHECK_EQ_INT(try_decode(b.data, b.len), ROVE_OK);
	CHECK_EQ_INT(rove_enc_push_reply(&b, 77, &run, sample_results, ROVE_MAX_PUSH_OPS + 1), ROVE_ETOOBIG);
	rove_buf_free(&b);
}

static void test_pull_roundtrip(void)
{
	rove_auth a;
	rove_pull_req req;
	rove_buf b;
	rove_msg m;
	uint8_t *d;

	make_auth(&a, "carol");
	memset(&req, 0, sizeof(req));
	fixed_uuid(&req.replica, 50);
	req.cursor = 0x0123456789abcdefull;
	req.snap_seq = 99;
	req.snap_keylen = ROVE_MAX_SNAP_KEY;
	for (uint32_t i = 0; i < ROVE_MAX_SNAP_KEY; i++)
		req.snap_key[i] = (uint8_t)(255 - i);
	req.epoch = UINT64_MAX;
	req.max_items = UINT32_MAX;
	req.server = 99;
	fixed_uuid(&req.run, 51);
	fixed_uuid(&req.ack_run, 52);
	req.ack_seq = UINT64_MAX - 1;

	rove_buf_init(&b);
	CHECK_EQ_INT(rove_enc_pull(&b, &a, &req), ROVE_OK);
	d = dup_bytes(b.data, b.len);
	CHECK_EQ_INT(rove_msg_decode(d, b.len, &m), ROVE_OK);
	CHECK_EQ_INT(m.type, ROVE_MSG_PULL);
	CHECK(strcmp(m.auth.user, "carol") == 0);
	CHECK(strcmp(m.auth.token, token) == 0);
	CHECK_EQ_INT(rove_uuid_cmp(&m.u.pull.replica, &req.replica), 0);
	CHECK(m.u.pull.cursor == req.cursor);
	CHECK_EQ_INT(m.u.pull.snap_seq, 99);
	CHECK_EQ_INT(m.u.pull.snap_keylen, ROVE_MAX_SNAP_KEY);
	CHECK(memcmp(m.u.pull.snap_key, req.snap_key, ROVE_MAX_SNAP_KEY) == 0);
	CHECK(m.u.pull.epoch == UINT64_MAX);
	CHECK(m.u.pull.max_items == UINT32_MAX);
	CHECK_EQ_INT(m.u.pull.server, 99);
	CHECK_EQ_INT(rove_uuid_cmp(&m.u.pull.run, &req.run), 0);
	CHECK_EQ_INT(rove_uuid_cmp(&m.u.pull.ack_run, &req.ack_run), 0);
	CHECK(m.u.pull.ack_seq == UINT64_MAX - 1);
	CHECK_EQ_INT(m.left, 0);
	free(d);

	/* No snapshot key, zero cursor, epoch 0; then another epoch. */
	req.cursor = 0;
	req.snap_seq = 0;
	req.snap_keylen = 0;
	req.epoch = 0;
	req.max_items = 10;
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_pull(&b, &a, &req), ROVE_OK);
	d = dup_bytes(b.data, b.len);
	CHECK_EQ_INT(rove_msg_decode(d, b.len, &m), ROVE_OK);
	CHECK_EQ_INT(m.u.pull.cursor, 0);
	CHECK_EQ_INT(m.u.pull.snap_keylen, 0);
	CHECK_EQ_INT(m.u.pull.epoch, 0);
	CHECK_EQ_INT(m.u.pull.max_items, 10);
	free(d);
	req.epoch = 0x1234567;
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_pull(&b, &a, &req), ROVE_OK);
	d = dup_bytes(b.data, b.len);
	CHECK_EQ_INT(rove_msg_decode(d, b.len, &m), ROVE_OK);
	CHECK_EQ_INT(m.u.pull.epoch, 0x1234567);
	free(d);

	req.snap_keylen = ROVE_MAX_SNAP_KEY + 1;
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_pull(&b, &a, &req), ROVE_ETOOBIG);
	CHECK_EQ_INT(b.len, 0);
	rove_buf_free(&b);
}

/* Reads the next entry of m and checks it is an op entry for want. */
static void check_op_entry(rove_msg *m, rove_entry *e, const rove_op *want)
{
	memset(e, 0x5a, sizeof(*e));
	CHECK_EQ_INT(rove_msg_next_entry(m, e), ROVE_OK);
	CHECK_EQ_INT(e->tag, ROVE_ENTRY_OP);
	CHECK_EQ_INT(e->coll, want->coll);
	CHECK_EQ_INT(rove_uuid_cmp(&e->id, &want->rid), 0);
	CHECK(op_eq(&e->op, want));
}

static void check_record_entry(rove_msg *m, rove_entry *e, const rove_record *want)
{
	memset(e, 0x5a, sizeof(*e));
	CHECK_EQ_INT(rove_msg_next_entry(m, e), ROVE_OK);
	CHECK_EQ_INT(e->tag, ROVE_ENTRY_RECORD);
	CHECK_EQ_INT(e->coll, want->coll);
	CHECK_EQ_INT(rove_uuid_cmp(&e->id, &want->id), 0);
	CHECK(record_eq(&e->rec, want));
}

static void check_evict_entry(rove_msg *m, rove_entry *e, uint8_t coll, const rove_uuid *id)
{
	memset(e, 0x5a, sizeof(*e));
	CHECK_EQ_INT(rove_msg_next_entry(m, e), ROVE_OK);
	CHECK_EQ_INT(e->tag, ROVE_ENTRY_EVICT);
	CHECK_EQ_INT(e->coll, coll);
	CHECK_EQ_INT(rove_uuid_cmp(&e->id, id), 0);
}

static void test_pull_reply_roundtrip(void)
{
	static rove_op op;
	static rove_entry e;
	static rove_conflict c;
	rove_push_result res;
	rove_pull_reply h;
	rove_buf items, b;
	rove_uuid ev1, ev2;
	rove_msg m;
	const char *s;
	uint32_t len;
	uint8_t *d;
	size_t before;

	rove_buf_init(&items);
	rove_buf_init(&b);
	fixed_uuid(&ev1, 101);
	fixed_uuid(&ev2, 202);

	/* Ops mode: ops, with a record and evictions among them (all three
	 * tags). */
	memset(&h, 0, sizeof(h));
	snprintf(h.role, sizeof(h.role), "%s", "manager");
	h.mode = ROVE_PULL_OPS;
	h.head = 5000;
	h.cursor = 4000;
	h.epoch = 17;
	h.reset = false;
	h.more = true;
	fixed_uuid(&h.run, 103);
	h.n = NOPS + 3;
	for (int i = 0; i < NOPS; i++) {
		CHECK_EQ_INT(add_op_entry(&items, &sample_ops[i]), ROVE_OK);
		if (i == 1)
			CHECK_EQ_INT(rove_enc_entry_evict(&items, 255, &ev1), ROVE_OK);
		if (i == 2)
			CHECK_EQ_INT(add_record_entry(&items, &sample_recs[0]), ROVE_OK);
	}
	CHECK_EQ_INT(rove_enc_entry_evict(&items, 0, &ev2), ROVE_OK);
	CHECK_EQ_INT(rove_enc_pull_reply(&b, &h, &items), ROVE_OK);
	d = dup_bytes(b.data, b.len);
	CHECK_EQ_INT(rove_msg_decode(d, b.len, &m), ROVE_OK);
	CHECK_EQ_INT(m.type, ROVE_MSG_PULL_REPLY);
	CHECK(strcmp(m.u.pull_reply.role, "manager") == 0);
	CHECK_EQ_INT(m.u.pull_reply.mode, ROVE_PULL_OPS);
	CHECK_EQ_INT(m.u.pull_reply.head, 5000);
	CHECK_EQ_INT(rove_uuid_cmp(&m.u.pull_reply.run, &h.run), 0);
	CHECK_EQ_INT(m.u.pull_reply.cursor, 4000);
	CHECK_EQ_INT(m.u.pull_reply.snap_seq, 0);
	CHECK_EQ_INT(m.u.pull_reply.snap_keylen, 0);
	CHECK_EQ_INT(m.u.pull_reply.epoch, 17);
	CHECK(!m.u.pull_reply.reset);
	CHECK(m.u.pull_reply.more);
	CHECK_EQ_INT(m.u.pull_reply.n, NOPS + 3);
	CHECK_EQ_INT(m.left, NOPS + 3);
	/* The wrong iterators for the type. */
	CHECK_EQ_INT(rove_msg_next_op(&m, &op), ROVE_EINVAL);
	CHECK_EQ_INT(rove_msg_next_conflict(&m, &c), ROVE_EINVAL);
	CHECK_EQ_INT(rove_msg_next_result(&m, &res), ROVE_EINVAL);
	CHECK_EQ_INT(rove_msg_next_str(&m, &s, &len), ROVE_EINVAL);
	CHECK_EQ_INT(m.left, NOPS + 3);
	for (int i = 0; i < NOPS; i++) {
		check_op_entry(&m, &e, &sample_ops[i]);
		if (i == 1)
			check_evict_entry(&m, &e, 255, &ev1);
		if (i == 2)
			check_record_entry(&m, &e, &sample_recs[0]);
	}
	check_evict_entry(&m, &e, 0, &ev2);
	CHECK_EQ_INT(m.left, 0);
	CHECK_EQ_INT(rove_msg_next_entry(&m, &e), ROVE_ENOTFOUND);
	CHECK_EQ_INT(rove_msg_next_entry(&m, &e), ROVE_ENOTFOUND);
	free(d);

	/* Snapshot mode with reset: records and an eviction. */
	rove_buf_reset(&items);
	rove_buf_reset(&b);
	memset(&h, 0, sizeof(h));
	snprintf(h.role, sizeof(h.role), "%s", "rep");
	h.mode = ROVE_PULL_SNAPSHOT;
	h.head = UINT64_MAX;
	h.cursor = 0;
	h.snap_seq = 4321;
	h.snap_keylen = 17;
	for (uint32_t i = 0; i < 17; i++)
		h.snap_key[i] = (uint8_t)i;
	h.epoch = UINT64_MAX;
	h.reset = true;
	h.more = false;
	h.n = NRECS + 1;
	for (int i = 0; i < NRECS; i++)
		CHECK_EQ_INT(add_record_entry(&items, &sample_recs[i]), ROVE_OK);
	CHECK_EQ_INT(rove_enc_entry_evict(&items, 1, &ev1), ROVE_OK);
	CHECK_EQ_INT(rove_enc_pull_reply(&b, &h, &items), ROVE_OK);
	d = dup_bytes(b.data, b.len);
	CHECK_EQ_INT(rove_msg_decode(d, b.len, &m), ROVE_OK);
	CHECK_EQ_INT(m.type, ROVE_MSG_PULL_REPLY);
	CHECK(strcmp(m.u.pull_reply.role, "rep") == 0);
	CHECK_EQ_INT(m.u.pull_reply.mode, ROVE_PULL_SNAPSHOT);
	CHECK(m.u.pull_reply.head == UINT64_MAX);
	CHECK_EQ_INT(m.u.pull_reply.snap_seq, 4321);
	CHECK_EQ_INT(m.u.pull_reply.snap_keylen, 17);
	CHECK(memcmp(m.u.pull_reply.snap_key, h.snap_key, 17) == 0);
	CHECK(m.u.pull_reply.epoch == UINT64_MAX);
	CHECK(m.u.pull_reply.reset);
	CHECK(!m.u.pull_reply.more);
	CHECK_EQ_INT(m.u.pull_reply.n, NRECS + 1);
	CHECK_EQ_INT(rove_msg_next_op(&m, &op), ROVE_EINVAL);
	for (int i = 0; i < NRECS; i++)
		check_record_entry(&m, &e, &sample_recs[i]);
	check_evict_entry(&m, &e, 1, &ev1);
	CHECK_EQ_INT(rove_msg_next_entry(&m, &e), ROVE_ENOTFOUND);
	free(d);

	/* No items at all (items buffer NULL); reset true, more true. */
	rove_buf_reset(&b);
	h.n = 0;
	h.more = true;
	CHECK_EQ_INT(rove_enc_pull_reply(&b, &h, NULL), ROVE_OK);
	d = dup_bytes(b.data, b.len);
	CHECK_EQ_INT(rove_msg_decode(d, b.len, &m), ROVE_OK);
	CHECK(m.u.pull_reply.reset && m.u.pull_reply.more);
	CHECK_EQ_INT(m.u.pull_reply.n, 0);
	CHECK_EQ_INT(rove_msg_next_entry(&m, &e), ROVE_ENOTFOUND);
	free(d);

	/* Encoder limits. */
	rove_buf_reset(&b);
	h.n = ROVE_MAX_SNAPSHOT_ITEMS + 1;
	CHECK_EQ_INT(rove_enc_pull_reply(&b, &h, NULL), ROVE_ETOOBIG);
	h.n = 0;
	h.snap_keylen = ROVE_MAX_SNAP_KEY + 1;
	CHECK_EQ_INT(rove_enc_pull_reply(&b, &h, NULL), ROVE_ETOOBIG);
	CHECK_EQ_INT(b.len, 0);

	/* The raw entry encoders do not look inside what they wrap: a record
	 * wrapped as an op entry (or the reverse) makes a message the decoder
	 * refuses. */
	rove_buf_reset(&items);
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_record(&b, &sample_recs[0]), ROVE_OK);
	CHECK_EQ_INT(rove_enc_entry_op_raw(&items, b.data, b.len), ROVE_OK);
	rove_buf_reset(&b);
	h.snap_keylen = 0;
	h.n = 1;
	CHECK_EQ_INT(rove_enc_pull_reply(&b, &h, &items), ROVE_OK);
	CHECK_EQ_INT(try_decode(b.data, b.len), ROVE_EPROTO);
	rove_buf_reset(&items);
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_op(&b, &sample_ops[0]), ROVE_OK);
	CHECK_EQ_INT(rove_enc_entry_record_raw(&items, b.data, b.len), ROVE_OK);
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_pull_reply(&b, &h, &items), ROVE_OK);
	CHECK_EQ_INT(try_decode(b.data, b.len), ROVE_EPROTO);
	/* A header counting more entries than there are, or fewer. */
	rove_buf_reset(&items);
	CHECK_EQ_INT(rove_enc_entry_evict(&items, 1, &ev1), ROVE_OK);
	rove_buf_reset(&b);
	h.n = 2;
	CHECK_EQ_INT(rove_enc_pull_reply(&b, &h, &items), ROVE_OK);
	CHECK_EQ_INT(try_decode(b.data, b.len), ROVE_EPROTO);
	CHECK_EQ_INT(rove_enc_entry_evict(&items, 1, &ev2), ROVE_OK);
	CHECK_EQ_INT(rove_enc_entry_evict(&items, 1, &ev2), ROVE_OK);
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_pull_reply(&b, &h, &items), ROVE_OK);
	CHECK_EQ_INT(try_decode(b.data, b.len), ROVE_EPROTO);

	/* Entry encoders that would pass the message size limit fail and
	 * leave the buffer as it was. */
	{
		uint8_t *huge = calloc(ROVE_MAX_MSG_BYTES, 1);

		CHECK(huge != NULL);
		if (huge != NULL) {
			before = items.len;
			CHECK_EQ_INT(rove_enc_entry_op_raw(&items, huge, ROVE_MAX_MSG_BYTES), ROVE_ETOOBIG);
			CHECK_EQ_INT(items.len, before);
			CHECK_EQ_INT(rove_enc_entry_record_raw(&items, huge, ROVE_MAX_MSG_BYTES), ROVE_ETOOBIG);
			CHECK_EQ_INT(items.len, before);
			CHECK_EQ_INT(rove_enc_conflict_raw(&items, 1, 1, 0, "", 0, huge, ROVE_MAX_MSG_BYTES),
				     ROVE_ETOOBIG);
			CHECK_EQ_INT(items.len, before);
			free(huge);
		}
	}

	rove_buf_free(&items);
	rove_buf_free(&b);
}

static void test_conflicts_roundtrip(void)
{
	rove_conflicts_req req;
	rove_auth a;
	rove_buf b;
	rove_msg m;
	static rove_op op;
	static rove_entry e;
	uint8_t *d;

	make_auth(&a, "dave");
	rove_buf_init(&b);
	req.after = UINT64_MAX;
	req.max = UINT32_MAX;
	CHECK_EQ_INT(rove_enc_conflicts(&b, &a, &req), ROVE_OK);
	d = dup_bytes(b.data, b.len);
	CHECK_EQ_INT(rove_msg_decode(d, b.len, &m), ROVE_OK);
	CHECK_EQ_INT(m.type, ROVE_MSG_CONFLICTS);
	CHECK(strcmp(m.auth.user, "dave") == 0);
	CHECK(strcmp(m.auth.token, token) == 0);
	CHECK(m.u.conflicts.after == UINT64_MAX);
	CHECK(m.u.conflicts.max == UINT32_MAX);
	CHECK_EQ_INT(m.left, 0);
	CHECK_EQ_INT(rove_msg_next_op(&m, &op), ROVE_ENOTFOUND);
	CHECK_EQ_INT(rove_msg_next_entry(&m, &e), ROVE_ENOTFOUND);
	free(d);

	req.after = 0;
	req.max = 0;
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_conflicts(&b, &a, &req), ROVE_OK);
	d = dup_bytes(b.data, b.len);
	CHECK_EQ_INT(rove_msg_decode(d, b.len, &m), ROVE_OK);
	CHECK_EQ_INT(m.u.conflicts.after, 0);
	CHECK_EQ_INT(m.u.conflicts.max, 0);
	free(d);

	req.after = 300;
	req.max = 50;
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_conflicts(&b, &a, &req), ROVE_OK);
	d = dup_bytes(b.data, b.len);
	CHECK_EQ_INT(rove_msg_decode(d, b.len, &m), ROVE_OK);
	CHECK_EQ_INT(m.u.conflicts.after, 300);
	CHECK_EQ_INT(m.u.conflicts.max, 50);
	free(d);
	rove_buf_free(&b);
}

static void test_conflicts_reply_roundtrip(void)
{
	static rove_conflict got;
	static rove_op op;
	static rove_entry e;
	static char longdetail[ROVE_MAX_DETAIL + 40];
	char cut[ROVE_MAX_DETAIL + 1];
	rove_buf items, b;
	rove_msg m;
	uint8_t *d;

	memset(longdetail, 'D', sizeof(longdetail) - 1);
	longdetail[sizeof(longdetail) - 1] = '\0';
	memcpy(cut, longdetail, ROVE_MAX_DETAIL); /* what the encoder sends */
	cut[ROVE_MAX_DETAIL] = '\0';

	rove_buf_init(&items);
	rove_buf_init(&b);
	CHECK_EQ_INT(add_conflict(&items, 1, 1700000000123ull, ROVE_R_NOT_OWNER, "owned by bob", &sample_ops[0]),
		     ROVE_OK);
	CHECK_EQ_INT(add_conflict(&items, UINT64_MAX, UINT64_MAX, ROVE_R_COUNT - 1, longdetail, &sample_ops[1]),
		     ROVE_OK);
	/* A negative reason is sent as none; the largest op fits. */
	CHECK_EQ_INT(add_conflict(&items, 0, 0, -3, "", &sample_ops[3]), ROVE_OK);
	CHECK_EQ_INT(rove_enc_conflicts_reply(&b, true, 3, &items), ROVE_OK);
	d = dup_bytes(b.data, b.len);
	CHECK_EQ_INT(rove_msg_decode(d, b.len, &m), ROVE_OK);
	CHECK_EQ_INT(m.type, ROVE_MSG_CONFLICTS_REPLY);
	CHECK(m.u.conflicts_reply.more);
	CHECK_EQ_INT(m.u.conflicts_reply.n, 3);
	CHECK_EQ_INT(m.left, 3);
	CHECK_EQ_INT(rove_msg_next_op(&m, &op), ROVE_EINVAL);
	CHECK_EQ_INT(rove_msg_next_entry(&m, &e), ROVE_EINVAL);
	CHECK_EQ_INT(m.left, 3);
	memset(&got, 0x5a, sizeof(got));
	CHECK_EQ_INT(rove_msg_next_conflict(&m, &got), ROVE_OK);
	CHECK(conflict_is(&got, 1, 1700000000123ull, ROVE_R_NOT_OWNER, "owned by bob", &sample_ops[0]));
	memset(&got, 0x5a, sizeof(got));
	CHECK_EQ_INT(rove_msg_next_conflict(&m, &got), ROVE_OK);
	CHECK(conflict_is(&got, UINT64_MAX, UINT64_MAX, ROVE_R_COUNT - 1, cut, &sample_ops[1]));
	memset(&got, 0x5a, sizeof(got));
	CHECK_EQ_INT(rove_msg_next_conflict(&m, &got), ROVE_OK);
	CHECK(conflict_is(&got, 0, 0, ROVE_R_NONE, "", &sample_ops[3]));
	CHECK_EQ_INT(m.left, 0);
	CHECK_EQ_INT(rove_msg_next_conflict(&m, &got), ROVE_ENOTFOUND);
	free(d);

	/* None, and not more. */
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_conflicts_reply(&b, false, 0, NULL), ROVE_OK);
	d = dup_bytes(b.data, b.len);
	CHECK_EQ_INT(rove_msg_decode(d, b.len, &m), ROVE_OK);
	CHECK(!m.u.conflicts_reply.more);
	CHECK_EQ_INT(m.u.conflicts_reply.n, 0);
	CHECK_EQ_INT(rove_msg_next_conflict(&m, &got), ROVE_ENOTFOUND);
	free(d);

	/* The encoder writes any reason; the decoder refuses one out of
	 * range. */
	rove_buf_reset(&items);
	rove_buf_reset(&b);
	CHECK_EQ_INT(add_conflict(&items, 1, 1, ROVE_R_COUNT, "", &sample_ops[0]), ROVE_OK);
	CHECK_EQ_INT(rove_enc_conflicts_reply(&b, false, 1, &items), ROVE_OK);
	CHECK_EQ_INT(try_decode(b.data, b.len), ROVE_EPROTO);
	/* A record where the op should be. */
	rove_buf_reset(&items);
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_record(&b, &sample_recs[0]), ROVE_OK);
	CHECK_EQ_INT(rove_enc_conflict_raw(&items, 1, 1, 0, "", 0, b.data, b.len), ROVE_OK);
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_conflicts_reply(&b, false, 1, &items), ROVE_OK);
	CHECK_EQ_INT(try_decode(b.data, b.len), ROVE_EPROTO);
	/* Count and items disagree. */
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_conflicts_reply(&b, false, 2, &items), ROVE_OK);
	CHECK_EQ_INT(try_decode(b.data, b.len), ROVE_EPROTO);

	/* Encoder limit. */
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_conflicts_reply(&b, false, ROVE_MAX_PULL_ITEMS + 1, NULL), ROVE_ETOOBIG);
	CHECK_EQ_INT(b.len, 0);
	rove_buf_free(&items);
	rove_buf_free(&b);
}

static void test_admin_roundtrip(void)
{
	char longarg[ROVE_MAX_ADMIN_ARG + 2];
	char longcmd[ROVE_MAX_NAME + 2];
	const char *args[ROVE_MAX_ADMIN_ARGS + 1];
	rove_auth a;
	rove_buf b;
	rove_msg m;
	const char *s;
	uint32_t len;
	uint8_t *d;
	static rove_op op;

	memset(longarg, 'q', sizeof(longarg));
	longarg[ROVE_MAX_ADMIN_ARG] = '\0';
	args[0] = "bob";
	args[1] = "";
	args[2] = longarg;
	args[3] = "r\xc3\xa9gion nord";
	make_auth(&a, "admin");
	rove_buf_init(&b);
	CHECK_EQ_INT(rove_enc_admin(&b, &a, "user-add", args, 4), ROVE_OK);
	d = dup_bytes(b.data, b.len);
	CHECK_EQ_INT(rove_msg_decode(d, b.len, &m), ROVE_OK);
	CHECK_EQ_INT(m.type, ROVE_MSG_ADMIN);
	CHECK(strcmp(m.auth.user, "admin") == 0);
	CHECK(strcmp(m.auth.token, token) == 0);
	CHECK(strcmp(m.u.admin.cmd, "user-add") == 0);
	CHECK_EQ_INT(m.u.admin.n, 4);
	CHECK_EQ_INT(rove_msg_next_op(&m, &op), ROVE_EINVAL);
	for (int i = 0; i < 4; i++) {
		CHECK_EQ_INT(rove_msg_next_str(&m, &s, &len), ROVE_OK);
		CHECK_EQ_INT(len, strlen(args[i]));
		CHECK(memcmp(s, args[i], len) == 0);
		/* Points into the message buffer. */
		CHECK((const uint8_t *)s >= d && (const uint8_t *)s + len <= d + b.len);
	}
	CHECK_EQ_INT(rove_msg_next_str(&m, &s, &len), ROVE_ENOTFOUND);
	free(d);

	/* No args. */
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_admin(&b, &a, "status", NULL, 0), ROVE_OK);
	d = dup_bytes(b.data, b.len);
	CHECK_EQ_INT(rove_msg_decode(d, b.len, &m), ROVE_OK);
	CHECK(strcmp(m.u.admin.cmd, "status") == 0);
	CHECK_EQ_INT(m.u.admin.n, 0);
	free(d);

	/* Encoder limits: args count, arg length, command length. */
	rove_buf_reset(&b);
	for (int i = 0; i <= (int)ROVE_MAX_ADMIN_ARGS; i++)
		args[i] = "x";
	CHECK_EQ_INT(rove_enc_admin(&b, &a, "c", args, ROVE_MAX_ADMIN_ARGS), ROVE_OK);
	CHECK_EQ_INT(try_decode(b.data, b.len), ROVE_OK);
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_admin(&b, &a, "c", args, ROVE_MAX_ADMIN_ARGS + 1), ROVE_ETOOBIG);
	longarg[ROVE_MAX_ADMIN_ARG] = 'q';
	longarg[ROVE_MAX_ADMIN_ARG + 1] = '\0';
	args[0] = longarg;
	CHECK_EQ_INT(rove_enc_admin(&b, &a, "c", args, 1), ROVE_ETOOBIG);
	memset(longcmd, 'c', sizeof(longcmd));
	longcmd[ROVE_MAX_NAME] = '\0';
	args[0] = "x";
	CHECK_EQ_INT(rove_enc_admin(&b, &a, longcmd, args, 1), ROVE_OK);
	CHECK_EQ_INT(try_decode(b.data, b.len), ROVE_OK);
	rove_buf_reset(&b);
	longcmd[ROVE_MAX_NAME] = 'c';
	longcmd[ROVE_MAX_NAME + 1] = '\0';
	CHECK_EQ_INT(rove_enc_admin(&b, &a, longcmd, args, 1), ROVE_ETOOBIG);
	CHECK_EQ_INT(b.len, 0);
	rove_buf_free(&b);
}

static void test_admin_reply_roundtrip(void)
{
	static char longline[ROVE_MAX_STR + 10];
	const char *lines[4];
	rove_buf b;
	rove_msg m;
	const char *s;
	uint32_t len;
	uint8_t *d;

	memset(longline, 'L', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	lines[0] = "user  role     territory";
	lines[1] = "";
	lines[2] = "bob   rep      north";
	lines[3] = longline; /* truncated to ROVE_MAX_STR by the encoder */
	rove_buf_init(&b);
	CHECK_EQ_INT(rove_enc_admin_reply(&b, lines, 4), ROVE_OK);
	d = dup_bytes(b.data, b.len);
	CHECK_EQ_INT(rove_msg_decode(d, b.len, &m), ROVE_OK);
	CHECK_EQ_INT(m.type, ROVE_MSG_ADMIN_REPLY);
	CHECK_EQ_INT(m.u.admin_reply.n, 4);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ_INT(rove_msg_next_str(&m, &s, &len), ROVE_OK);
		CHECK_EQ_INT(len, strlen(lines[i]));
		CHECK(memcmp(s, lines[i], len) == 0);
	}
	CHECK_EQ_INT(rove_msg_next_str(&m, &s, &len), ROVE_OK);
	CHECK_EQ_INT(len, ROVE_MAX_STR);
	CHECK(memcmp(s, longline, ROVE_MAX_STR) == 0);
	CHECK_EQ_INT(rove_msg_next_str(&m, &s, &len), ROVE_ENOTFOUND);
	free(d);

	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_admin_reply(&b, NULL, 0), ROVE_OK);
	d = dup_bytes(b.data, b.len);
	CHECK_EQ_INT(rove_msg_decode(d, b.len, &m), ROVE_OK);
	CHECK_EQ_INT(m.u.admin_reply.n, 0);
	CHECK_EQ_INT(rove_msg_next_str(&m, &s, &len), ROVE_ENOTFOUND);
	free(d);
	rove_buf_free(&b);
}

static void test_error_roundtrip(void)
{
	char longtext[ROVE_MAX_ERRMSG + 20];
	rove_buf b;
	rove_msg m;
	static rove_op op;
	uint8_t *d;

	rove_buf_init(&b);
	CHECK_EQ_INT(rove_enc_error(&b, ROVE_EAUTH, "bad token"), ROVE_OK);
	d = dup_bytes(b.data, b.len);
	CHECK_EQ_INT(rove_msg_decode(d, b.len, &m), ROVE_OK);
	CHECK_EQ_INT(m.type, ROVE_MSG_ERROR);
	CHECK_EQ_INT(m.u.error.code, ROVE_EAUTH);
	CHECK(strcmp(m.u.error.text, "bad token") == 0);
	CHECK_EQ_INT(m.left, 0);
	CHECK_EQ_INT(rove_msg_next_op(&m, &op), ROVE_ENOTFOUND);
	free(d);

	/* Long text is cut to ROVE_MAX_ERRMSG; the largest code passes. */
	memset(longtext, 'e', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_error(&b, ROVE_ERR_COUNT - 1, longtext), ROVE_OK);
	d = dup_bytes(b.data, b.len);
	CHECK_EQ_INT(rove_msg_decode(d, b.len, &m), ROVE_OK);
	CHECK_EQ_INT(m.u.error.code, ROVE_ERR_COUNT - 1);
	CHECK_EQ_INT(strlen(m.u.error.text), ROVE_MAX_ERRMSG);
	free(d);

	/* A negative code is sent as 0. */
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_error(&b, -5, ""), ROVE_OK);
	d = dup_bytes(b.data, b.len);
	CHECK_EQ_INT(rove_msg_decode(d, b.len, &m), ROVE_OK);
	CHECK_EQ_INT(m.u.error.code, 0);
	CHECK_EQ_INT(m.u.error.text[0], '\0');
	free(d);
	rove_buf_free(&b);
}

static void test_item_roundtrip(void)
{
	static rove_op op;
	static rove_record rec;
	rove_buf b;

	rove_buf_init(&b);
	for (int i = 0; i < NOPS; i++) {
		rove_buf_reset(&b);
		CHECK_EQ_INT(rove_enc_op(&b, &sample_ops[i]), ROVE_OK);
		memset(&op, 0x5a, sizeof(op));
		CHECK_EQ_INT(rove_dec_op(b.data, b.len, &op), ROVE_OK);
		CHECK(op_eq(&op, &sample_ops[i]));
		/* An op is not a record, nor a message. */
		CHECK_EQ_INT(try_dec_record(b.data, b.len), ROVE_EPROTO);
		CHECK(try_decode(b.data, b.len) != ROVE_OK);
		/* Trailing byte. */
		CHECK_EQ_INT(rove_buf_append(&b, "\xc0", 1), ROVE_OK);
		CHECK_EQ_INT(try_dec_op(b.data, b.len), ROVE_EPROTO);
	}
	for (int i = 0; i < NRECS; i++) {
		rove_buf_reset(&b);
		CHECK_EQ_INT(rove_enc_record(&b, &sample_recs[i]), ROVE_OK);
		memset(&rec, 0x5a, sizeof(rec));
		CHECK_EQ_INT(rove_dec_record(b.data, b.len, &rec), ROVE_OK);
		CHECK(record_eq(&rec, &sample_recs[i]));
		CHECK_EQ_INT(try_dec_op(b.data, b.len), ROVE_EPROTO);
		CHECK_EQ_INT(rove_buf_append(&b, "\x00", 1), ROVE_OK);
		CHECK_EQ_INT(try_dec_record(b.data, b.len), ROVE_EPROTO);
	}

	/* Encoders append: a second item after the first leaves it intact. */
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_record(&b, &sample_recs[0]), ROVE_OK);
	{
		size_t first = b.len;
		CHECK_EQ_INT(rove_enc_op(&b, &sample_ops[0]), ROVE_OK);
		CHECK(b.len > first);
		CHECK_EQ_INT(rove_dec_record(b.data, first, &rec), ROVE_OK);
		CHECK(record_eq(&rec, &sample_recs[0]));
		CHECK_EQ_INT(rove_dec_op(b.data + first, b.len - first, &op), ROVE_OK);
		CHECK(op_eq(&op, &sample_ops[0]));
	}
	rove_buf_free(&b);
}

static bool rejection_is(const rove_rejection *rj, uint64_t time_ms, uint8_t reason, const char *detail,
			 const rove_op *op)
{
	return rj->time_ms == time_ms && rj->reason == reason && strcmp(rj->detail, detail) == 0 &&
	       op_eq(&rj->op, op);
}

/* The stored form of a refused op, on the server and in a replica. */
/* rove_record_raw_deleted reads what decoding and rove_record_deleted
 * say, and refuses a record cut short or followed by more bytes. */
static void test_raw_deleted(void)
{
	static const struct {
		const char *field;
		rove_value v;
		bool deleted;
	} cases[] = {
		{"name", {ROVE_V_STR, 0, "x", 1}, false},
		{ROVE_FIELD_DELETED, {ROVE_V_INT, 1, NULL, 0}, true},
		{ROVE_FIELD_DELETED, {ROVE_V_INT, -5, NULL, 0}, true},
		{ROVE_FIELD_DELETED, {ROVE_V_INT, 0, NULL, 0}, false},
		{ROVE_FIELD_DELETED, {ROVE_V_STR, 0, "1", 1}, false},
		{ROVE_FIELD_DELETED, {ROVE_V_NULL, 0, NULL, 0}, false},
		{"_deletee", {ROVE_V_INT, 1, NULL, 0}, false},
	};
	rove_record *rec = malloc(sizeof(*rec)), *back = malloc(sizeof(*back));
	rove_buf b;

	CHECK(rec != NULL && back != NULL);
	rove_buf_init(&b);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		bool deleted = !cases[c].deleted;

		memset(rec, 0, sizeof(*rec));
		rec->coll = 1;
		rec->id.b[3] = (uint8_t)c;
		rove_fields_init(&rec->fs);
		CHECK_EQ_INT(rove_fields_set(&rec->fs, "a", rove_vcstr("first"), stamp(1, 1)), ROVE_OK);
		CHECK_EQ_INT(rove_fields_set(&rec->fs, cases[c].field, cases[c].v, stamp(2, 1)), ROVE_OK);
		CHECK_EQ_INT(rove_fields_set(&rec->fs, "zz", rove_vint(3), stamp(3, 1)), ROVE_OK);
		rove_buf_reset(&b);
		CHECK_EQ_INT(rove_enc_record(&b, rec), ROVE_OK);
		CHECK_EQ_INT(rove_record_raw_deleted(b.data, b.len, &deleted), ROVE_OK);
		CHECK(deleted == cases[c].deleted);
		CHECK_EQ_INT(rove_dec_record(b.data, b.len, back), ROVE_OK);
		CHECK(rove_record_deleted(back) == cases[c].deleted);
		for (size_t cut = 0; cut < b.len; cut++)
			CHECK_EQ_INT(rove_record_raw_deleted(b.data, cut, &deleted), ROVE_EPROTO);
		CHECK(rove_buf_append(&b, "\xc0", 1) == ROVE_OK);
		CHECK_EQ_INT(rove_record_raw_deleted(b.data, b.len, &deleted), ROVE_EPROTO);
	}
	rove_buf_free(&b);
	free(rec);
	free(back);
}

static void test_rejection_roundtrip(void)
{
	static rove_rejection rj;
	static char longdetail[ROVE_MAX_DETAIL + 40];
	char cut[ROVE_MAX_DETAIL + 1];
	const uint64_t times[NOPS] = {1700000000123ull, UINT64_MAX, 0, 5};
	const int reasons[NOPS] = {ROVE_R_NOT_OWNER, ROVE_R_COUNT - 1, ROVE_R_NONE, ROVE_R_DUPLICATE};
	const char *details[NOPS] = {"owned by bob", longdetail, "", "same phone as 0190..."};
	rove_buf b, opb;
	uint8_t *d;

	memset(longdetail, 'D', sizeof(longdetail) - 1);
	longdetail[sizeof(longdetail) - 1] = '\0';
	memcpy(cut, longdetail, ROVE_MAX_DETAIL); /* what the encoder keeps */
	cut[ROVE_MAX_DETAIL] = '\0';

	rove_buf_init(&b);
	rove_buf_init(&opb);
	for (int i = 0; i < NOPS; i++) {
		rove_buf_reset(&b);
		rove_buf_reset(&opb);
		CHECK_EQ_INT(rove_enc_rejection(&b, times[i], reasons[i], details[i], &sample_ops[i]), ROVE_OK);
		CHECK_EQ_INT(rove_enc_op(&opb, &sample_ops[i]), ROVE_OK);
		d = dup_bytes(b.data, b.len);
		memset(&rj, 0x5a, sizeof(rj));
		CHECK_EQ_INT(rove_dec_rejection(d, b.len, &rj), ROVE_OK);
		CHECK(rejection_is(&rj, times[i], (uint8_t)reasons[i], i == 1 ? cut : details[i], &sample_ops[i]));
		/* op_raw is the op's own encoding, inside the decoded bytes. */
		CHECK(rj.op_raw >= d && rj.op_raw + rj.op_rawlen == d + b.len);
		CHECK_EQ_INT(rj.op_rawlen, opb.len);
		CHECK(rj.op_rawlen == opb.len && memcmp(rj.op_raw, opb.data, opb.len) == 0);
		free(d);
		/* A rejection is not an op, a record or a message. */
		CHECK_EQ_INT(try_dec_op(b.data, b.len), ROVE_EPROTO);
		CHECK_EQ_INT(try_dec_record(b.data, b.len), ROVE_EPROTO);
		CHECK(try_decode(b.data, b.len) != ROVE_OK);
		/* Nor is an op a rejection. */
		CHECK_EQ_INT(try_dec_rejection(opb.data, opb.len), ROVE_EPROTO);
		/* Trailing bytes. */
		CHECK_EQ_INT(rove_buf_append(&b, "\xc0", 1), ROVE_OK);
		CHECK_EQ_INT(try_dec_rejection(b.data, b.len), ROVE_EPROTO);
	}

	/* A reason that could not be read back is not written; the buffer
	 * keeps what it held. */
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_buf_append(&b, "xy", 2), ROVE_OK);
	CHECK_EQ_INT(rove_enc_rejection(&b, 1, ROVE_R_COUNT, "", &sample_ops[0]), ROVE_EINVAL);
	CHECK_EQ_INT(rove_enc_rejection(&b, 1, -1, "", &sample_ops[0]), ROVE_EINVAL);
	CHECK_EQ_INT(b.len, 2);
	/* Encoders append: the first bytes stay. */
	CHECK_EQ_INT(rove_enc_rejection(&b, 9, ROVE_R_LIMIT, "x", &sample_ops[2]), ROVE_OK);
	CHECK(memcmp(b.data, "xy", 2) == 0);
	CHECK_EQ_INT(rove_dec_rejection(b.data + 2, b.len - 2, &rj), ROVE_OK);
	CHECK(rejection_is(&rj, 9, ROVE_R_LIMIT, "x", &sample_ops[2]));
	CHECK_EQ_INT(try_dec_rejection(NULL, 0), ROVE_EPROTO);
	rove_buf_free(&b);
	rove_buf_free(&opb);
}

static void test_buf(void)
{
	rove_buf b;
	static char chunk[1 << 16];

	rove_buf_init(&b);
	CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
	CHECK_EQ_INT(rove_buf_append(&b, NULL, 0), ROVE_OK);
	CHECK_EQ_INT(rove_buf_append(&b, "abc", 3), ROVE_OK);
	CHECK_EQ_INT(b.len, 3);
	CHECK(memcmp(b.data, "abc", 3) == 0);
	rove_buf_reset(&b);
	CHECK_EQ_INT(b.len, 0);
	/* Up to ROVE_MAX_MSG_BYTES and no further. */
	memset(chunk, 7, sizeof(chunk));
	for (size_t i = 0; i < ROVE_MAX_MSG_BYTES / sizeof(chunk); i++)
		CHECK_EQ_INT(rove_buf_append(&b, chunk, sizeof(chunk)), ROVE_OK);
	CHECK_EQ_INT(b.len, ROVE_MAX_MSG_BYTES);
	CHECK_EQ_INT(rove_buf_append(&b, chunk, 1), ROVE_ETOOBIG);
	CHECK_EQ_INT(b.len, ROVE_MAX_MSG_BYTES);
	/* A message longer than the limit is refused before it is read. */
	{
		uint8_t *big = calloc(ROVE_MAX_MSG_BYTES + 1, 1);
		rove_msg m;

		CHECK(big != NULL);
		if (big != NULL) {
			CHECK_EQ_INT(rove_msg_decode(big, ROVE_MAX_MSG_BYTES + 1, &m), ROVE_ETOOBIG);
			free(big);
		}
	}
	rove_buf_free(&b);
	CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
}

/* The writer packs in place what msgpack-c would: every form of every
 * kind of value a record holds (integers at each boundary of each form,
 * strings of each head, 15, 16 and 32 fields), compared byte for byte
 * with the same record packed by msgpack-c. */
static bool stamp_same(rove_stamp a, rove_stamp b)
{
	return a.hlc.v == b.hlc.v && a.node == b.node;
}

/* rec as msgpack-c packs it in record format 1 (every field with its
 * stamp) or 2 (the stamp most fields share, the first of those that tie,
 * once after the id; a field with another stamp carries it). */
static void pack_record_ref(msgpack_packer *rp, const rove_record *rec, int format)
{
	rove_stamp st = {{0}, 0};
	uint32_t best = 0;

	for (uint32_t i = 0; i < rec->fs.n; i++) {
		uint32_t n = 0;
		for (uint32_t j = 0; j < rec->fs.n; j++)
			n += stamp_same(rec->fs.f[j].st, rec->fs.f[i].st);
		if (n > best) {
			best = n;
			st = rec->fs.f[i].st;
		}
	}
	msgpack_pack_array(rp, format == 1 ? 3 : 5);
	msgpack_pack_uint64(rp, rec->coll);
	msgpack_pack_bin(rp, 16);
	msgpack_pack_bin_body(rp, rec->id.b, 16);
	if (format != 1) {
		msgpack_pack_uint64(rp, st.hlc.v);
		msgpack_pack_uint64(rp, st.node);
	}
	msgpack_pack_array(rp, rec->fs.n);
	for (uint32_t i = 0; i < rec->fs.n; i++) {
		const rove_field *f = &rec->fs.f[i];
		bool own = format == 1 || !stamp_same(f->st, st);
		msgpack_pack_array(rp, own ? 4 : 2);
		msgpack_pack_str(rp, strlen(f->name));
		msgpack_pack_str_body(rp, f->name, strlen(f->name));
		if (f->v.type == ROVE_V_INT)
			msgpack_pack_int64(rp, f->v.i);
		else if (f->v.type == ROVE_V_STR) {
			msgpack_pack_str(rp, f->v.len);
			msgpack_pack_str_body(rp, f->v.s, f->v.len);
		} else
			msgpack_pack_nil(rp);
		if (own) {
			msgpack_pack_uint64(rp, f->st.hlc.v);
			msgpack_pack_uint64(rp, f->st.node);
		}
	}
}

static void test_writer_bytes(void)
{
	static const int64_t ints[] = {0, 1, 31, 127, 128, 255, 256, 65535, 65536, 4294967295ll, 4294967296ll,
				       INT64_MAX, -1, -32, -33, -128, -129, -32768, -32769, INT32_MIN,
				       (int64_t)INT32_MIN - 1, INT64_MIN};
	static const uint32_t lens[] = {0, 1, 31, 32, 255, 256, 4096};
	static const uint64_t u64s[] = {0, 127, 128, 255, 256, 65535, 65536, 4294967295ull, 4294967296ull, UINT64_MAX};
	static const uint32_t counts[] = {0, 1, 15, 16, ROVE_MAX_FIELDS};
	static char text[4096];
	rove_record *rec = malloc(sizeof(*rec)), *back = malloc(sizeof(*back));
	msgpack_sbuffer ref;
	msgpack_packer rp;
	rove_buf b, e;
	int round = 0;

	CHECK(rec != NULL && back != NULL);
	if (rec == NULL || back == NULL)
		return;
	rove_buf_init(&e);
	memset(text, 'x', sizeof(text));
	msgpack_sbuffer_init(&ref);
	msgpack_packer_init(&rp, &ref, msgpack_sbuffer_write);
	rove_buf_init(&b);
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		for (int kind = 0; kind < 3; kind++, round++) {
			char name[16];
			rec->coll = (uint8_t)(1 + round % 4);
			fixed_uuid(&rec->id, (uint8_t)round);
			rove_fields_init(&rec->fs);
			for (uint32_t i = 0; i < counts[c]; i++) {
				rove_value v = {ROVE_V_NULL, 0, NULL, 0};
				rove_stamp st = stamp(u64s[(i + (uint32_t)round) % 10], u64s[(i * 3 + 1) % 10]);
				if (kind == 0)
					v = rove_vint(ints[(i + (uint32_t)round) % (sizeof(ints) / sizeof(ints[0]))]);
				else if (kind == 1)
					v = rove_vstr(text, lens[(i + (uint32_t)round) % (sizeof(lens) / sizeof(lens[0]))] /
								(counts[c] > 4 ? 8 : 1));
				snprintf(name, sizeof(name), "f%02u", i);
				CHECK_EQ_INT(rove_fields_set(&rec->fs, name, v, st), ROVE_OK);
			}
			/* Every third record has most fields under one stamp. */
			if (round % 3 == 2)
				for (uint32_t i = 0; i + 1 < rec->fs.n; i++)
					rec->fs.f[i].st = stamp(77, 5);
			rove_buf_reset(&b);
			CHECK_EQ_INT(rove_enc_record(&b, rec), ROVE_OK);
			msgpack_sbuffer_clear(&ref);
			pack_record_ref(&rp, rec, 2);
			CHECK_EQ_INT(b.len, ref.size);
			CHECK(b.len == ref.size && memcmp(b.data, ref.data, b.len) == 0);
			/* A record of format 1 (an older roved's or rove's, stored
			 * or sent) reads the same, and is what a peer of format 1
			 * is sent. */
			msgpack_sbuffer_clear(&ref);
			pack_record_ref(&rp, rec, 1);
			CHECK_EQ_INT(rove_dec_record(ref.data, ref.size, back), ROVE_OK);
			CHECK(record_eq(back, rec));
			CHECK_EQ_INT(rove_dec_record(b.data, b.len, back), ROVE_OK);
			CHECK(record_eq(back, rec));
			rove_buf_reset(&e);
			CHECK_EQ_INT(rove_enc_entry_record_for(&e, b.data, b.len, 1, back), ROVE_OK);
			CHECK(e.len == ref.size + 2 && memcmp(e.data + 2, ref.data, ref.size) == 0);
			rove_buf_reset(&e);
			CHECK_EQ_INT(rove_enc_entry_record_for(&e, ref.data, ref.size, 1, back), ROVE_OK);
			CHECK(e.len == ref.size + 2 && memcmp(e.data + 2, ref.data, ref.size) == 0);
			rove_buf_reset(&e);
			CHECK_EQ_INT(rove_enc_entry_record_for(&e, b.data, b.len, ROVE_RECORD_FORMAT, back), ROVE_OK);
			CHECK(e.len == b.len + 2 && memcmp(e.data + 2, b.data, b.len) == 0);
		}
	}
	/* Every integer in every form, alone in a record. */
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		rove_fields_init(&rec->fs);
		CHECK_EQ_INT(rove_fields_set(&rec->fs, "n", rove_vint(ints[i]), stamp(ints[i] < 0 ? 1 : (uint64_t)ints[i], 0)),
			     ROVE_OK);
		rove_buf_reset(&b);
		CHECK_EQ_INT(rove_enc_record(&b, rec), ROVE_OK);
		msgpack_sbuffer_clear(&ref);
		pack_record_ref(&rp, rec, 2);
		CHECK(b.len == ref.size && memcmp(b.data, ref.data, ref.size) == 0);
	}
	rove_buf_free(&b);
	rove_buf_free(&e);
	msgpack_sbuffer_destroy(&ref);
	free(rec);
	free(back);
}

/* ---- valid messages, for the truncation and mutation tests ----------- */

#define MAX_SEEDS 16

static rove_buf seeds[MAX_SEEDS];
static int nseeds;

static void add_seed(const rove_buf *b)
{
	if (nseeds >= MAX_SEEDS) {
		CHECK(nseeds < MAX_SEEDS);
		return;
	}
	rove_buf_init(&seeds[nseeds]);
	CHECK_EQ_INT(rove_buf_append(&seeds[nseeds], b->data, b->len), ROVE_OK);
	nseeds++;
}

static void make_seeds(void)
{
	const char *args[] = {"bob", "rep", "north"};
	const char *lines[] = {"one", "", "three"};
	rove_push_result one = sample_results[1];
	rove_pull_reply h;
	rove_pull_req req;
	rove_conflicts_req creq;
	rove_auth a;
	rove_uuid replica;
	rove_buf b, items;

	make_auth(&a, "alice");
	fixed_uuid(&replica, 5);
	rove_buf_init(&b);
	rove_buf_init(&items);

	/* A small push, so mutations often land in structure. */
	CHECK_EQ_INT(rove_enc_push(&b, &a, &replica, NULL, sample_ops, 3), ROVE_OK);
	add_seed(&b);
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_push_reply(&b, 7, &replica, sample_results, 3), ROVE_OK);
	add_seed(&b);
	rove_buf_reset(&b);
	snprintf(one.detail, sizeof(one.detail), "%s", "nope");
	CHECK_EQ_INT(rove_enc_push_reply(&b, 7, &replica, &one, 1), ROVE_OK);
	add_seed(&b);

	memset(&req, 0, sizeof(req));
	req.replica = replica;
	req.cursor = 300;
	req.snap_seq = 7;
	req.snap_keylen = 5;
	memcpy(req.snap_key, "\x01key!", 5);
	req.epoch = 3;
	req.max_items = 1000;
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_pull(&b, &a, &req), ROVE_OK);
	add_seed(&b);
	req.clock = true; /* with the optional element */
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_pull(&b, &a, &req), ROVE_OK);
	add_seed(&b);

	memset(&h, 0, sizeof(h));
	snprintf(h.role, sizeof(h.role), "%s", "rep");
	h.mode = ROVE_PULL_OPS;
	h.head = 10;
	h.cursor = 8;
	h.epoch = 2;
	h.more = true;
	h.n = 4;
	CHECK_EQ_INT(add_op_entry(&items, &sample_ops[0]), ROVE_OK);
	CHECK_EQ_INT(rove_enc_entry_evict(&items, 1, &replica), ROVE_OK);
	CHECK_EQ_INT(add_record_entry(&items, &sample_recs[1]), ROVE_OK);
	CHECK_EQ_INT(add_op_entry(&items, &sample_ops[2]), ROVE_OK);
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_pull_reply(&b, &h, &items), ROVE_OK);
	add_seed(&b);

	rove_buf_reset(&items);
	h.mode = ROVE_PULL_SNAPSHOT;
	h.snap_seq = 9;
	h.snap_keylen = 3;
	memcpy(h.snap_key, "abc", 3);
	h.reset = true;
	h.time_ms = 1700000000123ull; /* with the optional element */
	h.n = 3;
	CHECK_EQ_INT(add_record_entry(&items, &sample_recs[0]), ROVE_OK);
	CHECK_EQ_INT(add_record_entry(&items, &sample_recs[1]), ROVE_OK);
	CHECK_EQ_INT(rove_enc_entry_evict(&items, 9, &replica), ROVE_OK);
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_pull_reply(&b, &h, &items), ROVE_OK);
	add_seed(&b);

	creq.after = 41;
	creq.max = 100;
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_conflicts(&b, &a, &creq), ROVE_OK);
	add_seed(&b);
	rove_buf_reset(&items);
	CHECK_EQ_INT(add_conflict(&items, 42, 1700000000000ull, ROVE_R_ALREADY_CLAIMED, "claimed", &sample_ops[0]),
		     ROVE_OK);
	CHECK_EQ_INT(add_conflict(&items, 43, 5, ROVE_R_NONE, "", &sample_ops[2]), ROVE_OK);
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_conflicts_reply(&b, true, 2, &items), ROVE_OK);
	add_seed(&b);

	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_admin(&b, &a, "user-add", args, 3), ROVE_OK);
	add_seed(&b);
	rove_buf_reset(&b); /* with the optional request id */
	CHECK_EQ_INT(rove_enc_admin_req(&b, &a, "user-add", &replica, args, 3), ROVE_OK);
	add_seed(&b);
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_admin_reply(&b, lines, 3), ROVE_OK);
	add_seed(&b);
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_error(&b, ROVE_EPERM, "not allowed"), ROVE_OK);
	add_seed(&b);

	rove_buf_free(&b);
	rove_buf_free(&items);
}

/* Every proper prefix of a valid message is refused, without a crash. */
static void test_truncations(void)
{
	int accepted = 0, tried = 0;
	rove_buf b;

	for (int s = 0; s < nseeds; s++) {
		CHECK_EQ_INT(try_decode(seeds[s].data, seeds[s].len), ROVE_OK);
		for (size_t len = 0; len < seeds[s].len; len++) {
			if (try_decode(seeds[s].data, len) == ROVE_OK) {
				fprintf(stderr, "seed %d: prefix of %zu bytes accepted\n", s, len);
				accepted++;
			}
			tried++;
		}
	}
	/* Items decoded on their own, too. */
	rove_buf_init(&b);
	for (int i = 0; i < NOPS; i++) {
		rove_buf_reset(&b);
		CHECK_EQ_INT(rove_enc_op(&b, &sample_ops[i]), ROVE_OK);
		for (size_t len = 0; len < b.len; len++, tried++)
			if (try_dec_op(b.data, len) == ROVE_OK)
				accepted++;
	}
	for (int i = 0; i < NRECS; i++) {
		rove_buf_reset(&b);
		CHECK_EQ_INT(rove_enc_record(&b, &sample_recs[i]), ROVE_OK);
		for (size_t len = 0; len < b.len; len++, tried++)
			if (try_dec_record(b.data, len) == ROVE_OK)
				accepted++;
	}
	for (int i = 0; i < NOPS; i++) {
		rove_buf_reset(&b);
		CHECK_EQ_INT(rove_enc_rejection(&b, 1700000000000ull, ROVE_R_ALREADY_CLAIMED, "claimed by bob",
						&sample_ops[i]),
			     ROVE_OK);
		for (size_t len = 0; len < b.len; len++, tried++)
			if (try_dec_rejection(b.data, len) == ROVE_OK)
				accepted++;
	}
	rove_buf_free(&b);
	CHECK(tried > 1000);
	CHECK_EQ_INT(accepted, 0);
	{
		rove_msg m;
		CHECK_EQ_INT(rove_msg_decode(NULL, 0, &m), ROVE_EPROTO);
	}
}

/* Trailing bytes after a whole message are refused. */
static void test_trailing(void)
{
	rove_buf b;

	rove_buf_init(&b);
	for (int s = 0; s < nseeds; s++) {
		rove_buf_reset(&b);
		CHECK_EQ_INT(rove_buf_append(&b, seeds[s].data, seeds[s].len), ROVE_OK);
		CHECK_EQ_INT(rove_buf_append(&b, "\xc0", 1), ROVE_OK);
		CHECK_EQ_INT(try_decode(b.data, b.len), ROVE_EPROTO);
		/* Two messages back to back are not one message either. */
		b.len = seeds[s].len;
		CHECK_EQ_INT(rove_buf_append(&b, seeds[s].data, seeds[s].len), ROVE_OK);
		CHECK_EQ_INT(try_decode(b.data, b.len), ROVE_EPROTO);
	}
	rove_buf_free(&b);
}

/* ---- hand-made messages ---------------------------------------------- */

static msgpack_sbuffer sb;
static msgpack_packer pk;

static void begin(void)
{
	msgpack_sbuffer_clear(&sb);
}

static int end_decode(void)
{
	return try_decode(sb.data, sb.size);
}

static void w_u(uint64_t v)
{
	msgpack_pack_uint64(&pk, v);
}

static void w_i(int64_t v)
{
	msgpack_pack_int64(&pk, v);
}

static void w_nil(void)
{
	msgpack_pack_nil(&pk);
}

static void w_arr(uint32_t n)
{
	msgpack_pack_array(&pk, n);
}

static void w_strn(const char *s, size_t len)
{
	msgpack_pack_str(&pk, len);
	msgpack_pack_str_body(&pk, s, len);
}

static void w_str(const char *s)
{
	w_strn(s, strlen(s));
}

static void w_bin(size_t len)
{
	static const uint8_t bytes[ROVE_MAX_SNAP_KEY + 1] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};

	msgpack_pack_bin(&pk, len);
	msgpack_pack_bin_body(&pk, bytes, len);
}

static void w_raw(const void *p, size_t len)
{
	msgpack_sbuffer_write(&sb, p, len);
}

/* Raw bytes from a string literal (without its NUL). */
#define W_RAW(lit) w_raw(lit, sizeof(lit) - 1)

/* A push's run, seq, ack_run, ack_seq: nothing seen. */
static void w_seen(void)
{
	w_u(0);
	w_bin(16);
	w_u(0);
	w_bin(16);
	w_u(0);
}

/* [2, 2, user, token, replica, run, seq, ack_run, ack_seq, [ ... nops ops follow */
static void w_push_head(uint32_t nops)
{
	w_arr(11);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_PUSH);
	w_str("alice");
	w_str(token);
	w_bin(16);
	w_seen();
	w_arr(nops);
}

/* An op up to its field array, which has nfields entries to follow. */
static void w_op_head(uint32_t idlen, uint64_t kind, uint64_t coll, uint32_t ridlen, uint32_t nfields)
{
	w_arr(9);
	w_bin(idlen);
	w_u(kind);
	w_u(coll);
	w_bin(ridlen);
	w_u(1000);
	w_u(7);
	w_u(0);
	w_str("");
	w_arr(nfields);
}

static void w_op(uint32_t nfields)
{
	char name[16];

	w_op_head(16, ROVE_OP_UPDATE, 1, 16, nfields);
	for (uint32_t i = 0; i < nfields; i++) {
		snprintf(name, sizeof(name), "f%u", i);
		w_arr(2);
		w_str(name);
		w_i(i);
	}
}

/* [1, 5, role, mode, head, cursor, snap_seq, snap_key, epoch, reset, more,
 *  n: a pull reply's first twelve elements, in an array said to hold
 *  arity (the rest is the caller's). */
static void w_pull_reply_start(uint32_t arity, uint64_t mode)
{
	w_arr(arity);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_PULL_REPLY);
	w_str("rep");
	w_u(mode);
	w_u(10);
	w_u(5);
	w_u(0);
	w_bin(0);
	w_u(1);
	msgpack_pack_false(&pk);
	msgpack_pack_false(&pk);
	w_u(1);
}

/* The same, whole: then run, [ ... nitems entries follow. */
static void w_pull_reply_head(uint64_t mode, uint32_t nitems)
{
	w_pull_reply_start(14, mode);
	w_bin(16);
	w_arr(nitems);
}

/* [1, 4, user, token, replica, cursor, snap_seq, snap_key, epoch, max,
 *  ..., own]: a pull's fifteen elements, in an array said to hold arity. */
static void w_pull_n(uint32_t arity, uint32_t keylen, uint64_t epoch, uint64_t max)
{
	w_arr(arity);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_PULL);
	w_str("alice");
	w_str(token);
	w_bin(16);
	w_u(0);
	w_u(0);
	w_bin(keylen);
	w_u(epoch);
	w_u(max);
	w_u(0);
	w_bin(16);
	w_bin(16);
	w_u(0);
	msgpack_pack_true(&pk);
}

static void w_pull(uint32_t keylen, uint64_t epoch, uint64_t max)
{
	w_pull_n(15, keylen, epoch, max);
}

/* Entry heads: [0, op...], [1, record...]; an evict entry [2, coll, id]. */
static void w_op_entry(void)
{
	w_arr(2);
	w_u(ROVE_ENTRY_OP);
}

static void w_rec_entry(void)
{
	w_arr(2);
	w_u(ROVE_ENTRY_RECORD);
}

static void w_evict(uint64_t coll, uint32_t idlen)
{
	w_arr(3);
	w_u(ROVE_ENTRY_EVICT);
	w_u(coll);
	w_bin(idlen);
}

/* [1, 8, user, token, after, max] */
static void w_conflicts(uint64_t after, uint64_t max)
{
	w_arr(6);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_CONFLICTS);
	w_str("alice");
	w_str(token);
	w_u(after);
	w_u(max);
}

/* [1, 9, more, [ ... nitems conflicts follow */
static void w_conflicts_reply_head(uint32_t nitems)
{
	w_arr(4);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_CONFLICTS_REPLY);
	msgpack_pack_true(&pk);
	w_arr(nitems);
}

/* A conflict up to its op, which follows. */
static void w_conflict_head(uint64_t reason, size_t detail_len)
{
	w_arr(5);
	w_u(7);
	w_u(1700000000000ull);
	w_u(reason);
	w_strn(bigstr, detail_len);
}

static void w_record_head(uint64_t coll, uint32_t idlen, uint32_t nfields)
{
	w_arr(3);
	w_u(coll);
	w_bin(idlen);
	w_arr(nfields);
}

static void w_rec_field_str(const char *name, const char *s, size_t len)
{
	w_arr(4);
	w_str(name);
	w_strn(s, len);
	w_u(1);
	w_u(2);
}

/* [1, 3, [result]] with one result's parts given. */
static void w_result(uint32_t idlen, uint64_t status, bool seen_is_bool, uint64_t reason, size_t detail_len)
{
	w_arr(5);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_PUSH_REPLY);
	w_u(1);
	w_bin(16);
	w_arr(1);
	w_arr(9);
	w_bin(idlen);
	w_u(status);
	if (seen_is_bool)
		msgpack_pack_true(&pk);
	else
		w_u(1);
	w_u(9);
	w_u(reason);
	w_strn(bigstr, detail_len);
	w_u(1);
	w_u(2);
	msgpack_pack_nil(&pk);
}

/* An ADMIN's start, up to its command: n elements said. */
static void w_admin_head_n(uint32_t n, const char *cmd)
{
	w_arr(n);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_ADMIN);
	w_str("root");
	w_str(token);
	w_str(cmd);
}

static void w_admin_head(uint32_t nargs)
{
	w_arr(6);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_ADMIN);
	w_str("root");
	w_str(token);
	w_str("user-add");
	w_arr(nargs);
}

static void test_crafted_sanity(void)
{
	/* The hand-made forms are right: these all decode. */
	begin();
	w_push_head(2);
	w_op(0);
	w_op(3);
	CHECK_EQ_INT(end_decode(), ROVE_OK);
	begin();
	w_pull_reply_head(ROVE_PULL_SNAPSHOT, 1);
	w_rec_entry();
	w_record_head(1, 16, 1);
	w_rec_field_str("name", "x", 1);
	CHECK_EQ_INT(end_decode(), ROVE_OK);
	/* All three entry tags, in either mode. */
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 3);
	w_op_entry();
	w_op(2);
	w_rec_entry();
	w_record_head(255, 16, 0);
	w_evict(255, 16);
	CHECK_EQ_INT(end_decode(), ROVE_OK);
	begin();
	w_pull_reply_head(ROVE_PULL_SNAPSHOT, 3);
	w_evict(0, 16);
	w_rec_entry();
	w_record_head(1, 16, 0);
	w_op_entry();
	w_op(0);
	CHECK_EQ_INT(end_decode(), ROVE_OK);
	begin();
	w_pull(ROVE_MAX_SNAP_KEY, UINT64_MAX, UINT32_MAX);
	CHECK_EQ_INT(end_decode(), ROVE_OK);
	begin();
	w_conflicts(UINT64_MAX, UINT32_MAX);
	CHECK_EQ_INT(end_decode(), ROVE_OK);
	begin();
	w_conflicts_reply_head(2);
	w_conflict_head(ROVE_R_COUNT - 1, ROVE_MAX_DETAIL);
	w_op(1);
	w_conflict_head(0, 0);
	w_op(0);
	CHECK_EQ_INT(end_decode(), ROVE_OK);
	begin();
	w_result(16, ROVE_PUSH_REJECTED, true, ROVE_R_COUNT - 1, ROVE_MAX_DETAIL);
	CHECK_EQ_INT(end_decode(), ROVE_OK);
	begin();
	w_admin_head(1);
	w_str("bob");
	CHECK_EQ_INT(end_decode(), ROVE_OK);
	/* Non-canonical but valid integer forms are read. */
	begin();
	W_RAW("\x94\xcc\x03\xcd\x00\x01\xcf\x00\x00\x00\x00\x00\x00\x00\x05\xa2hi");
	CHECK_EQ_INT(end_decode(), ROVE_OK);
}

/* The optional elements: a PULL's clock and a PULL_REPLY's time are sent
 * only when asked for and said, in a form an older peer takes otherwise
 * (15 and 14 elements); a peer that knows them takes both forms. */
static void test_pull_optional(void)
{
	rove_auth a;
	rove_pull_req req;
	rove_pull_reply h;
	rove_buf b, items;
	rove_msg m;
	rove_entry e;
	uint8_t *d;

	make_auth(&a, "carol");
	memset(&req, 0, sizeof(req));
	req.cursor = 7;
	req.own = true;
	rove_buf_init(&b);
	rove_buf_init(&items);
	CHECK_EQ_INT(rove_enc_pull(&b, &a, &req), ROVE_OK);
	CHECK_EQ_INT((uint8_t)b.data[0], 0x90 | 15); /* the older form */
	d = dup_bytes(b.data, b.len);
	CHECK_EQ_INT(rove_msg_decode(d, b.len, &m), ROVE_OK);
	CHECK_EQ_INT(m.elems, 15);
	CHECK(m.u.pull.own && !m.u.pull.clock);
	free(d);
	req.clock = true;
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_pull(&b, &a, &req), ROVE_OK);
	CHECK_EQ_INT((uint8_t)b.data[0], 0xdc); /* 16 elements: array 16 */
	d = dup_bytes(b.data, b.len);
	CHECK_EQ_INT(rove_msg_decode(d, b.len, &m), ROVE_OK);
	CHECK_EQ_INT(m.elems, 16);
	CHECK(m.u.pull.own && m.u.pull.clock);
	CHECK_EQ_INT(m.u.pull.cursor, 7);
	free(d);

	memset(&h, 0, sizeof(h));
	snprintf(h.role, sizeof(h.role), "%s", "rep");
	h.mode = ROVE_PULL_OPS;
	h.head = 9;
	h.cursor = 9;
	fixed_uuid(&h.run, 3);
	CHECK_EQ_INT(rove_enc_entry_evict(&items, 1, &h.run), ROVE_OK);
	h.n = 1;
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_pull_reply(&b, &h, &items), ROVE_OK);
	CHECK_EQ_INT((uint8_t)b.data[0], 0x90 | 14);
	d = dup_bytes(b.data, b.len);
	CHECK_EQ_INT(rove_msg_decode(d, b.len, &m), ROVE_OK);
	CHECK_EQ_INT(m.u.pull_reply.time_ms, 0);
	free(d);
	h.time_ms = UINT64_MAX;
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_pull_reply(&b, &h, &items), ROVE_OK);
	CHECK_EQ_INT((uint8_t)b.data[0], 0x90 | 15);
	d = dup_bytes(b.data, b.len);
	CHECK_EQ_INT(rove_msg_decode(d, b.len, &m), ROVE_OK);
	CHECK(m.u.pull_reply.time_ms == UINT64_MAX);
	CHECK_EQ_INT(m.u.pull_reply.n, 1);
	/* Lazily too: the time is read with the head, the items after it. */
	CHECK_EQ_INT(rove_msg_decode_lazy(d, b.len, &m), ROVE_OK);
	CHECK(m.u.pull_reply.time_ms == UINT64_MAX);
	CHECK_EQ_INT(rove_msg_next_entry(&m, &e), ROVE_OK);
	CHECK_EQ_INT(e.tag, ROVE_ENTRY_EVICT);
	CHECK_EQ_INT(rove_msg_items_end(&m), ROVE_OK);
	free(d);

	/* The optional element of another type, or one too many. */
	begin();
	w_pull_n(16, 0, 1, 10);
	w_u(1);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull(0, 1, 10);
	msgpack_pack_true(&pk);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO); /* 15 elements said, 16 there */
	begin();
	w_pull_reply_start(15, ROVE_PULL_OPS);
	w_bin(16);
	w_str("now");
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull_reply_start(16, ROVE_PULL_OPS);
	w_bin(16);
	w_u(1700000000000ull);
	w_u(1700000000000ull);
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	/* One short of the older form. */
	begin();
	w_pull_reply_start(13, ROVE_PULL_OPS);
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	rove_buf_free(&b);
	rove_buf_free(&items);
}

/* An ADMIN's optional request id: sent only when the client gives one,
 * in the form an older server takes otherwise (6 elements); a 16-byte
 * id, never all zero; anything else there is malformed. */
static void test_admin_optional(void)
{
	const char *args[2] = {"bob", "rep"};
	rove_auth a;
	rove_uuid id, nil;
	rove_buf b;
	rove_msg m;
	const char *s;
	uint32_t len;
	uint8_t *d;

	make_auth(&a, "admin");
	fixed_uuid(&id, 7);
	memset(&nil, 0, sizeof(nil));
	rove_buf_init(&b);
	CHECK_EQ_INT(rove_enc_admin_req(&b, &a, "user.add", NULL, args, 2), ROVE_OK);
	CHECK_EQ_INT((uint8_t)b.data[0], 0x90 | 6); /* the older form */
	d = dup_bytes(b.data, b.len);
	CHECK_EQ_INT(rove_msg_decode(d, b.len, &m), ROVE_OK);
	CHECK_EQ_INT(m.elems, 6);
	CHECK(!m.u.admin.has_request);
	free(d);
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_admin_req(&b, &a, "user.add", &id, args, 2), ROVE_OK);
	CHECK_EQ_INT((uint8_t)b.data[0], 0x90 | 7);
	d = dup_bytes(b.data, b.len);
	CHECK_EQ_INT(rove_msg_decode(d, b.len, &m), ROVE_OK);
	CHECK_EQ_INT(m.elems, 7);
	CHECK(m.u.admin.has_request);
	CHECK(memcmp(m.u.admin.request.b, id.b, 16) == 0);
	CHECK(strcmp(m.u.admin.cmd, "user.add") == 0);
	CHECK_EQ_INT(m.u.admin.n, 2);
	CHECK_EQ_INT(rove_msg_next_str(&m, &s, &len), ROVE_OK);
	CHECK(len == 3 && memcmp(s, "bob", 3) == 0);
	CHECK_EQ_INT(rove_msg_next_str(&m, &s, &len), ROVE_OK);
	CHECK(len == 3 && memcmp(s, "rep", 3) == 0);
	CHECK_EQ_INT(rove_msg_next_str(&m, &s, &len), ROVE_ENOTFOUND);
	free(d);
	/* The nil id is no id: the encoder refuses it, writing nothing. */
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_admin_req(&b, &a, "user.add", &nil, args, 2), ROVE_EINVAL);
	CHECK_EQ_INT(b.len, 0);
	rove_buf_free(&b);

	/* Crafted: the id element's every wrong form. */
	begin();
	w_admin_head_n(7, "user.add");
	w_bin(16);
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_OK);
	begin(); /* all zero */
	w_admin_head_n(7, "user.add");
	W_RAW("\xc4\x10\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00");
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin(); /* 15 bytes */
	w_admin_head_n(7, "user.add");
	w_bin(15);
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin(); /* 17 bytes */
	w_admin_head_n(7, "user.add");
	w_bin(17);
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin(); /* empty */
	w_admin_head_n(7, "user.add");
	w_bin(0);
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin(); /* a string of 16 bytes, not a bin */
	w_admin_head_n(7, "user.add");
	w_str("0123456789abcdef");
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin(); /* nil, an integer, a bool */
	w_admin_head_n(7, "user.add");
	msgpack_pack_nil(&pk);
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_admin_head_n(7, "user.add");
	w_u(16);
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_admin_head_n(7, "user.add");
	msgpack_pack_true(&pk);
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin(); /* 7 elements said, the id left out */
	w_admin_head_n(7, "user.add");
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin(); /* 6 said, an id there */
	w_admin_head_n(6, "user.add");
	w_bin(16);
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin(); /* the id after the args */
	w_admin_head_n(7, "user.add");
	w_arr(0);
	w_bin(16);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin(); /* two ids: 8 elements */
	w_admin_head_n(8, "user.add");
	w_bin(16);
	w_bin(16);
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin(); /* one short of the older form */
	w_admin_head_n(5, "user.add");
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
}

static void test_version_and_type(void)
{
	rove_buf b;

	/* [v, 1, code, text] */
	begin();
	W_RAW("\x94\x04\x01\x00\xa0");
	CHECK_EQ_INT(end_decode(), ROVE_EVERSION);
	begin();
	W_RAW("\x94\x02\x01\x00\xa0"); /* version 2: before own ops by reference */
	CHECK_EQ_INT(end_decode(), ROVE_EVERSION);
	begin();
	W_RAW("\x94\x00\x01\x00\xa0");
	CHECK_EQ_INT(end_decode(), ROVE_EVERSION);
	begin();
	W_RAW("\x94\xcf\x00\x00\x00\x01\x00\x00\x00\x01\x01\x00\xa0");
	CHECK_EQ_INT(end_decode(), ROVE_EVERSION);
	begin();
	W_RAW("\x94\x03\x01\x00\xa0");
	CHECK_EQ_INT(end_decode(), ROVE_OK);
	/* A version that is not an unsigned int. */
	begin();
	W_RAW("\x94\xa1\x31\x01\x00\xa0");
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	W_RAW("\x94\xff\x01\x00\xa0");
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);

	/* Every valid message with its version byte changed (after a
	 * fixarray's one byte of header, or an array 16's three). */
	rove_buf_init(&b);
	for (int s = 0; s < nseeds; s++) {
		size_t v;
		rove_buf_reset(&b);
		CHECK_EQ_INT(rove_buf_append(&b, seeds[s].data, seeds[s].len), ROVE_OK);
		v = (uint8_t)b.data[0] == 0xdc ? 3 : 1;
		CHECK_EQ_INT((uint8_t)b.data[v], ROVE_PROTO_VERSION);
		b.data[v] = ROVE_PROTO_VERSION + 1;
		CHECK_EQ_INT(try_decode(b.data, b.len), ROVE_EVERSION);
		b.data[v] = 0x7f;
		CHECK_EQ_INT(try_decode(b.data, b.len), ROVE_EVERSION);
	}
	rove_buf_free(&b);

	/* Unknown types: 0 and the first past the last one. */
	CHECK_EQ_INT(ROVE_MSG_TYPE_MAX, 9);
	begin();
	W_RAW("\x94\x03\x00\x00\xa0");
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	W_RAW("\x94\x03\x0a\x00\xa0");
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_arr(6);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_TYPE_MAX + 1);
	w_str("alice");
	w_str(token);
	w_u(0);
	w_u(10);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	W_RAW("\x94\x03\x7f\x00\xa0");
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	W_RAW("\x94\x03\xcd\x01\x01\x00\xa0");
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	W_RAW("\x94\x03\xff\x00\xa0");
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);

	/* Not an array, or too short an array. */
	begin();
	W_RAW("\x81\x01\x01");
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	W_RAW("\x91\x01");
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	W_RAW("\x90");
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	W_RAW("\xc0");
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);

	/* The right type with the wrong number of parts. */
	begin();
	W_RAW("\x93\x03\x01\x00");
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	W_RAW("\x95\x03\x01\x00\xa0\xc0");
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	W_RAW("\x92\x03\x03");
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_arr(12);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_PUSH);
	w_str("alice");
	w_str(token);
	w_bin(16);
	w_seen();
	w_arr(0);
	w_nil();
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	/* A pull in the old form without an epoch, and with one part too
	 * many. */
	begin();
	w_arr(10);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_PULL);
	w_str("alice");
	w_str(token);
	w_bin(16);
	w_u(0);
	w_u(0);
	w_bin(0);
	w_u(10);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_arr(15);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_PULL);
	w_str("alice");
	w_str(token);
	w_bin(16);
	w_u(0);
	w_u(0);
	w_bin(0);
	w_u(1);
	w_u(10);
	w_u(0);
	w_bin(16);
	w_bin(16);
	w_u(0);
	w_u(10);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	/* A pull reply in the old form without epoch and reset. */
	begin();
	w_arr(10);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_PULL_REPLY);
	w_str("rep");
	w_u(ROVE_PULL_OPS);
	w_u(1);
	w_u(1);
	w_u(0);
	w_bin(0);
	msgpack_pack_false(&pk);
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	/* Conflicts requests and replies with a part missing or extra. */
	begin();
	w_arr(5);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_CONFLICTS);
	w_str("alice");
	w_str(token);
	w_u(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_arr(7);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_CONFLICTS);
	w_str("alice");
	w_str(token);
	w_u(0);
	w_u(10);
	w_u(10);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_arr(3);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_CONFLICTS_REPLY);
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_arr(5);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_CONFLICTS_REPLY);
	msgpack_pack_true(&pk);
	w_arr(0);
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	/* A conflicts reply with the request's shape, and the reverse. */
	begin();
	w_arr(6);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_CONFLICTS_REPLY);
	w_str("alice");
	w_str(token);
	w_u(0);
	w_u(10);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_arr(4);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_CONFLICTS);
	msgpack_pack_true(&pk);
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
}

static void test_huge_counts(void)
{
	/* An outer array header claiming 2^32-1 elements in a tiny buffer. */
	begin();
	W_RAW("\xdd\xff\xff\xff\xff\x01\x01");
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	W_RAW("\xdd\xff\xff\xff\xff");
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	W_RAW("\xdc\xff\xff\x01\x01");
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);

	/* Admin reply lines have no count limit but the bytes present. */
	begin();
	W_RAW("\x93\x03\x07\xdd\xff\xff\xff\xff\xa0\xa0");
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);

	/* Push ops, pull items, admin args, op fields: over their limits. */
	begin();
	w_push_head(UINT32_MAX);
	w_op(0);
	CHECK_EQ_INT(end_decode(), ROVE_ETOOBIG);
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, UINT32_MAX);
	CHECK_EQ_INT(end_decode(), ROVE_ETOOBIG);
	begin();
	w_conflicts_reply_head(UINT32_MAX);
	w_conflict_head(0, 0);
	w_op(0);
	CHECK_EQ_INT(end_decode(), ROVE_ETOOBIG);
	begin();
	w_admin_head(UINT32_MAX);
	w_str("x");
	CHECK_EQ_INT(end_decode(), ROVE_ETOOBIG);
	begin();
	w_push_head(1);
	w_op_head(16, 1, 1, 16, UINT32_MAX);
	CHECK_EQ_INT(end_decode(), ROVE_ETOOBIG);

	/* A count within limits but more than the bytes left. */
	begin();
	w_push_head(ROVE_MAX_PUSH_OPS);
	w_op(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_push_head(1);
	w_op_head(16, 1, 1, 16, ROVE_MAX_FIELDS);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);

	/* String and bin lengths of 2^32-1. */
	begin();
	W_RAW("\x94\x03\x01\x00\xdb\xff\xff\xff\xff" "abc");
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_arr(11);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_PUSH);
	w_str("alice");
	w_str(token);
	W_RAW("\xc6\xff\xff\xff\xff");
	W_RAW("0123456789abcdef");
	w_seen();
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_push_head(1);
	w_op_head(16, 1, 1, 16, 1);
	w_arr(2);
	w_str("name");
	W_RAW("\xdb\xff\xff\xff\xff");
	W_RAW("abc");
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
}

static void test_limits(void)
{
	char name[40];

	/* Exactly ROVE_MAX_PUSH_OPS ops pass, one more is too big - here
	 * made by hand, since the encoder refuses to. */
	begin();
	w_push_head(ROVE_MAX_PUSH_OPS);
	for (uint32_t i = 0; i < ROVE_MAX_PUSH_OPS; i++)
		w_op(1);
	CHECK_EQ_INT(end_decode(), ROVE_OK);
	begin();
	w_push_head(ROVE_MAX_PUSH_OPS + 1);
	for (uint32_t i = 0; i < ROVE_MAX_PUSH_OPS + 1; i++)
		w_op(1);
	CHECK_EQ_INT(end_decode(), ROVE_ETOOBIG);

	/* Results in a push reply. */
	begin();
	w_arr(5);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_PUSH_REPLY);
	w_u(1);
	w_bin(16);
	w_arr(ROVE_MAX_PUSH_OPS + 1);
	for (uint32_t i = 0; i < ROVE_MAX_PUSH_OPS + 1; i++) {
		w_arr(8);
		w_bin(16);
		w_u(0);
		msgpack_pack_false(&pk);
		w_u(i);
		w_u(0);
		w_str("");
		w_u(1);
		w_u(1);
	}
	CHECK_EQ_INT(end_decode(), ROVE_ETOOBIG);

	/* Entries in a pull reply (records and evictions, alternating). */
	for (uint32_t extra = 0; extra <= 1; extra++) {
		begin();
		w_pull_reply_head(ROVE_PULL_SNAPSHOT, ROVE_MAX_SNAPSHOT_ITEMS + extra);
		for (uint32_t i = 0; i < ROVE_MAX_SNAPSHOT_ITEMS + extra; i++) {
			if (i % 2 == 0) {
				w_rec_entry();
				w_record_head(1, 16, 0);
			} else {
				w_evict(1, 16);
			}
		}
		CHECK_EQ_INT(end_decode(), extra ? ROVE_ETOOBIG : ROVE_OK);
	}

	/* Conflicts in a conflicts reply. */
	for (uint32_t extra = 0; extra <= 1; extra++) {
		begin();
		w_conflicts_reply_head(ROVE_MAX_PULL_ITEMS + extra);
		for (uint32_t i = 0; i < ROVE_MAX_PULL_ITEMS + extra; i++) {
			w_conflict_head(1, 1);
			w_op(0);
		}
		CHECK_EQ_INT(end_decode(), extra ? ROVE_ETOOBIG : ROVE_OK);
	}

	/* Admin args. */
	begin();
	w_admin_head(ROVE_MAX_ADMIN_ARGS + 1);
	for (uint32_t i = 0; i < ROVE_MAX_ADMIN_ARGS + 1; i++)
		w_str("a");
	CHECK_EQ_INT(end_decode(), ROVE_ETOOBIG);

	/* Fields in an op, and in a record. */
	begin();
	w_push_head(1);
	w_op(ROVE_MAX_FIELDS);
	CHECK_EQ_INT(end_decode(), ROVE_OK);
	begin();
	w_push_head(1);
	w_op(ROVE_MAX_FIELDS + 1);
	CHECK_EQ_INT(end_decode(), ROVE_ETOOBIG);
	begin();
	w_pull_reply_head(ROVE_PULL_SNAPSHOT, 1);
	w_rec_entry();
	w_record_head(1, 16, ROVE_MAX_FIELDS + 1);
	for (uint32_t i = 0; i < ROVE_MAX_FIELDS + 1; i++) {
		snprintf(name, sizeof(name), "f%u", i);
		w_rec_field_str(name, "v", 1);
	}
	CHECK_EQ_INT(end_decode(), ROVE_ETOOBIG);

	/* A string value of ROVE_MAX_STR passes; one byte more does not. */
	begin();
	w_push_head(1);
	w_op_head(16, 1, 1, 16, 1);
	w_arr(2);
	w_str("name");
	w_strn(bigstr, ROVE_MAX_STR);
	CHECK_EQ_INT(end_decode(), ROVE_OK);
	begin();
	w_push_head(1);
	w_op_head(16, 1, 1, 16, 1);
	w_arr(2);
	w_str("name");
	w_strn(bigstr, ROVE_MAX_STR + 1);
	CHECK_EQ_INT(end_decode(), ROVE_ETOOBIG);
	begin();
	w_pull_reply_head(ROVE_PULL_SNAPSHOT, 1);
	w_rec_entry();
	w_record_head(1, 16, 1);
	w_rec_field_str("name", bigstr, ROVE_MAX_STR + 1);
	CHECK_EQ_INT(end_decode(), ROVE_ETOOBIG);
	/* All strings of one record together over ROVE_MAX_RECORD_BYTES. */
	begin();
	w_pull_reply_head(ROVE_PULL_SNAPSHOT, 1);
	w_rec_entry();
	w_record_head(1, 16, 4);
	w_rec_field_str("a", bigstr, ROVE_MAX_STR);
	w_rec_field_str("b", bigstr, ROVE_MAX_STR);
	w_rec_field_str("c", bigstr, ROVE_MAX_STR);
	w_rec_field_str("d", bigstr, ROVE_MAX_STR);
	CHECK_EQ_INT(end_decode(), ROVE_ETOOBIG);
	/* An admin reply line: ROVE_MAX_STR passes, one more does not. */
	begin();
	w_arr(3);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_ADMIN_REPLY);
	w_arr(1);
	w_strn(bigstr, ROVE_MAX_STR);
	CHECK_EQ_INT(end_decode(), ROVE_OK);
	begin();
	w_arr(3);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_ADMIN_REPLY);
	w_arr(1);
	w_strn(bigstr, ROVE_MAX_STR + 1);
	CHECK_EQ_INT(end_decode(), ROVE_ETOOBIG);
	/* An admin arg: ROVE_MAX_ADMIN_ARG passes, one more does not (also
	 * as the last of several), nor does a line-sized one. */
	begin();
	w_admin_head(1);
	w_strn(bigstr, ROVE_MAX_ADMIN_ARG);
	CHECK_EQ_INT(end_decode(), ROVE_OK);
	begin();
	w_admin_head(1);
	w_strn(bigstr, ROVE_MAX_ADMIN_ARG + 1);
	CHECK_EQ_INT(end_decode(), ROVE_ETOOBIG);
	begin();
	w_admin_head(3);
	w_str("a");
	w_strn(bigstr, ROVE_MAX_ADMIN_ARG);
	w_strn(bigstr, ROVE_MAX_ADMIN_ARG + 1);
	CHECK_EQ_INT(end_decode(), ROVE_ETOOBIG);
	begin();
	w_admin_head(1);
	w_strn(bigstr, ROVE_MAX_STR + 1);
	CHECK_EQ_INT(end_decode(), ROVE_ETOOBIG);
	/* A conflict's detail. */
	begin();
	w_conflicts_reply_head(1);
	w_conflict_head(1, ROVE_MAX_DETAIL + 1);
	w_op(0);
	CHECK_EQ_INT(end_decode(), ROVE_ETOOBIG);

	/* Names: field name, user, token, command, role, author, detail,
	 * error text, snapshot key - each one byte over. */
	begin();
	w_push_head(1);
	w_op_head(16, 1, 1, 16, 1);
	w_arr(2);
	w_strn(bigstr, ROVE_MAX_FIELD_NAME + 1);
	w_i(1);
	CHECK_EQ_INT(end_decode(), ROVE_ETOOBIG);
	begin();
	w_arr(11);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_PUSH);
	w_strn(bigstr, ROVE_MAX_NAME + 1);
	w_str(token);
	w_bin(16);
	w_seen();
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_ETOOBIG);
	begin();
	w_arr(11);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_PUSH);
	w_str("alice");
	w_strn(bigstr, ROVE_TOKEN_HEX + 1);
	w_bin(16);
	w_seen();
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_ETOOBIG);
	begin();
	w_arr(6);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_ADMIN);
	w_str("root");
	w_str(token);
	w_strn(bigstr, ROVE_MAX_NAME + 1);
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_ETOOBIG);
	begin();
	w_arr(14);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_PULL_REPLY);
	w_strn(bigstr, ROVE_MAX_NAME + 1);
	w_u(ROVE_PULL_OPS);
	w_u(1);
	w_u(1);
	w_u(0);
	w_bin(0);
	w_u(1);
	msgpack_pack_false(&pk);
	msgpack_pack_false(&pk);
	w_u(1);
	w_bin(16);
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_ETOOBIG);
	begin();
	w_arr(6);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_CONFLICTS);
	w_strn(bigstr, ROVE_MAX_NAME + 1);
	w_str(token);
	w_u(0);
	w_u(1);
	CHECK_EQ_INT(end_decode(), ROVE_ETOOBIG);
	begin();
	w_push_head(1);
	w_arr(9);
	w_bin(16);
	w_u(1);
	w_u(1);
	w_bin(16);
	w_u(1);
	w_u(1);
	w_u(0);
	w_strn(bigstr, ROVE_MAX_NAME + 1);
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_ETOOBIG);
	begin();
	w_result(16, 1, true, 1, ROVE_MAX_DETAIL + 1);
	CHECK_EQ_INT(end_decode(), ROVE_ETOOBIG);
	begin();
	w_arr(4);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_ERROR);
	w_u(1);
	w_strn(bigstr, ROVE_MAX_ERRMSG + 1);
	CHECK_EQ_INT(end_decode(), ROVE_ETOOBIG);
	begin();
	w_pull(ROVE_MAX_SNAP_KEY + 1, 0, 10);
	CHECK_EQ_INT(end_decode(), ROVE_ETOOBIG);
	begin();
	w_arr(14);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_PULL_REPLY);
	w_str("rep");
	w_u(ROVE_PULL_SNAPSHOT);
	w_u(1);
	w_u(0);
	w_u(1);
	w_bin(ROVE_MAX_SNAP_KEY + 1);
	w_u(1);
	msgpack_pack_false(&pk);
	msgpack_pack_false(&pk);
	w_u(1);
	w_bin(16);
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_ETOOBIG);
	/* max_items and a conflicts max above 32 bits; 32 bits pass. */
	begin();
	w_pull(0, 0, (uint64_t)UINT32_MAX + 1);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_conflicts(0, (uint64_t)UINT32_MAX + 1);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_conflicts(0, UINT32_MAX);
	CHECK_EQ_INT(end_decode(), ROVE_OK);
}

static void test_bad_fields(void)
{
	/* A field name twice in one op. */
	begin();
	w_push_head(1);
	w_op_head(16, 1, 1, 16, 3);
	w_arr(2);
	w_str("name");
	w_str("a");
	w_arr(2);
	w_str("tier");
	w_str("b");
	w_arr(2);
	w_str("name");
	w_str("c");
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	/* ... with the same value, and in a record. */
	begin();
	w_push_head(1);
	w_op_head(16, 1, 1, 16, 2);
	w_arr(2);
	w_str("n");
	w_i(1);
	w_arr(2);
	w_str("n");
	w_i(1);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull_reply_head(ROVE_PULL_SNAPSHOT, 1);
	w_rec_entry();
	w_record_head(1, 16, 2);
	w_rec_field_str("x", "1", 1);
	w_rec_field_str("x", "2", 1);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);

	/* Empty field name; NUL in a name; NUL in a value. */
	begin();
	w_push_head(1);
	w_op_head(16, 1, 1, 16, 1);
	w_arr(2);
	w_str("");
	w_i(1);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_push_head(1);
	w_op_head(16, 1, 1, 16, 1);
	w_arr(2);
	w_strn("na\0me", 5);
	w_i(1);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_push_head(1);
	w_op_head(16, 1, 1, 16, 1);
	w_arr(2);
	w_str("name");
	w_strn("a\0b", 3);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	/* A NUL in user, author, role. */
	begin();
	w_arr(11);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_PUSH);
	w_strn("al\0ce", 5);
	w_str(token);
	w_bin(16);
	w_seen();
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_push_head(1);
	w_arr(9);
	w_bin(16);
	w_u(1);
	w_u(1);
	w_bin(16);
	w_u(1);
	w_u(1);
	w_u(0);
	w_strn("b\0b", 3);
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_arr(14);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_PULL_REPLY);
	w_strn("rep\0", 4);
	w_u(ROVE_PULL_OPS);
	w_u(1);
	w_u(1);
	w_u(0);
	w_bin(0);
	w_u(1);
	msgpack_pack_false(&pk);
	msgpack_pack_false(&pk);
	w_u(1);
	w_bin(16);
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	/* A NUL in an admin arg (inside, first, last, alone) or a reply
	 * line, the others being fine. */
	{
		static const char *const nuls[] = {"a\0b", "\0ab", "ab\0", "\0"};
		static const size_t nullen[] = {3, 3, 3, 1};

		for (size_t i = 0; i < sizeof(nuls) / sizeof(nuls[0]); i++) {
			begin();
			w_admin_head(3);
			w_str("ok");
			w_strn(nuls[i], nullen[i]);
			w_str("");
			CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
			begin();
			w_arr(3);
			w_u(ROVE_PROTO_VERSION);
			w_u(ROVE_MSG_ADMIN_REPLY);
			w_arr(2);
			w_strn(nuls[i], nullen[i]);
			w_str("ok");
			CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
		}
		/* The same without the NUL passes. */
		begin();
		w_admin_head(3);
		w_str("ok");
		w_strn("a b", 3);
		w_str("");
		CHECK_EQ_INT(end_decode(), ROVE_OK);
	}
	/* A NUL in a conflict's detail, and in the user of a conflicts
	 * request. */
	begin();
	w_conflicts_reply_head(1);
	w_arr(5);
	w_u(1);
	w_u(1);
	w_u(0);
	w_strn("x\0y", 3);
	w_op(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_arr(6);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_CONFLICTS);
	w_strn("al\0ce", 5);
	w_str(token);
	w_u(0);
	w_u(1);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);

	/* Field entries of the wrong shape. */
	begin();
	w_push_head(1);
	w_op_head(16, 1, 1, 16, 1);
	w_arr(3);
	w_str("name");
	w_i(1);
	w_i(1);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_push_head(1);
	w_op_head(16, 1, 1, 16, 1);
	w_arr(2);
	w_i(5);
	w_i(1);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	/* An op field with a record's stamp parts. */
	begin();
	w_push_head(1);
	w_op_head(16, 1, 1, 16, 1);
	w_arr(4);
	w_str("name");
	w_i(1);
	w_u(1);
	w_u(1);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	/* A record field without them. */
	begin();
	w_pull_reply_head(ROVE_PULL_SNAPSHOT, 1);
	w_rec_entry();
	w_record_head(1, 16, 1);
	w_arr(2);
	w_str("name");
	w_i(1);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	/* A negative stamp in a record field. */
	begin();
	w_pull_reply_head(ROVE_PULL_SNAPSHOT, 1);
	w_rec_entry();
	w_record_head(1, 16, 1);
	w_arr(4);
	w_str("name");
	w_i(1);
	w_i(-1);
	w_u(1);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);

	/* Values that are none of null, int, string. */
	{
		static const char *const bad[] = {
			"\xc2",                 /* false */
			"\xc3",                 /* true */
			"\xca\x3f\x80\x00\x00", /* float 1.0 */
			"\x90",                 /* [] */
			"\x80",                 /* {} */
			"\xc4\x01x",            /* bin */
			"\xc1",                 /* never used */
			"\xcf\x80\x00\x00\x00\x00\x00\x00\x00", /* 2^63 */
		};
		static const size_t badlen[] = {1, 1, 5, 1, 1, 3, 1, 9};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			begin();
			w_push_head(1);
			w_op_head(16, 1, 1, 16, 1);
			w_arr(2);
			w_str("v");
			w_raw(bad[i], badlen[i]);
			CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
		}
	}
	/* The int forms that are accepted. */
	{
		static const char *const good[] = {
			"\x7f", "\xe0", "\xcc\xff", "\xcd\xff\xff", "\xce\xff\xff\xff\xff",
			"\xcf\x7f\xff\xff\xff\xff\xff\xff\xff", "\xd0\x80", "\xd1\x80\x00",
			"\xd2\x80\x00\x00\x00", "\xd3\x80\x00\x00\x00\x00\x00\x00\x00",
		};
		static const size_t goodlen[] = {1, 1, 2, 3, 5, 9, 2, 3, 5, 9};
		static const int64_t want[] = {127, -32, 255, 65535, 4294967295ll, INT64_MAX, -128, -32768,
					       INT32_MIN, INT64_MIN};
		static rove_op op;

		for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
			int64_t v = 0;
			int rc;

			begin();
			w_op_head(16, 1, 1, 16, 1);
			w_arr(2);
			w_str("v");
			w_raw(good[i], goodlen[i]);
			rc = try_dec_op(sb.data, sb.size);
			CHECK_EQ_INT(rc, ROVE_OK);
			if (rc == ROVE_OK && rove_dec_op(sb.data, sb.size, &op) == ROVE_OK) {
				CHECK(rove_fields_int(&op.fs, "v", &v));
				CHECK_EQ_INT(v, want[i]);
			}
		}
	}
}

/* A stored rejection up to its op, which follows: [time, reason, detail, */
static void w_rejection_head(uint64_t reason, size_t detail_len)
{
	w_arr(4);
	w_u(1700000000000ull);
	w_u(reason);
	w_strn(bigstr, detail_len);
}

static int end_dec_rejection(void)
{
	return try_dec_rejection(sb.data, sb.size);
}

static void test_bad_rejections(void)
{
	/* The hand-made form is right. */
	begin();
	w_rejection_head(ROVE_R_COUNT - 1, ROVE_MAX_DETAIL);
	w_op(2);
	CHECK_EQ_INT(end_dec_rejection(), ROVE_OK);
	begin();
	w_rejection_head(0, 0);
	w_op(0);
	CHECK_EQ_INT(end_dec_rejection(), ROVE_OK);

	/* Arity. */
	begin();
	w_arr(3);
	w_u(1);
	w_u(1);
	w_str("x");
	CHECK_EQ_INT(end_dec_rejection(), ROVE_EPROTO);
	begin();
	w_arr(5);
	w_u(1);
	w_u(1);
	w_str("x");
	w_op(0);
	w_nil();
	CHECK_EQ_INT(end_dec_rejection(), ROVE_EPROTO);
	begin();
	msgpack_pack_map(&pk, 0);
	CHECK_EQ_INT(end_dec_rejection(), ROVE_EPROTO);

	/* The time: an unsigned integer. */
	begin();
	w_arr(4);
	w_i(-1);
	w_u(1);
	w_str("x");
	w_op(0);
	CHECK_EQ_INT(end_dec_rejection(), ROVE_EPROTO);
	begin();
	w_arr(4);
	w_nil();
	w_u(1);
	w_str("x");
	w_op(0);
	CHECK_EQ_INT(end_dec_rejection(), ROVE_EPROTO);

	/* The reason: a known one. */
	begin();
	w_rejection_head(ROVE_R_COUNT, 1);
	w_op(0);
	CHECK_EQ_INT(end_dec_rejection(), ROVE_EPROTO);
	begin();
	w_rejection_head(UINT64_MAX, 1);
	w_op(0);
	CHECK_EQ_INT(end_dec_rejection(), ROVE_EPROTO);
	begin();
	w_arr(4);
	w_u(1);
	w_i(-1);
	w_str("x");
	w_op(0);
	CHECK_EQ_INT(end_dec_rejection(), ROVE_EPROTO);
	begin();
	w_arr(4);
	w_u(1);
	w_str("1");
	w_str("x");
	w_op(0);
	CHECK_EQ_INT(end_dec_rejection(), ROVE_EPROTO);

	/* The detail: a string, not too long, without NUL. */
	begin();
	w_rejection_head(1, ROVE_MAX_DETAIL + 1);
	w_op(0);
	CHECK(end_dec_rejection() != ROVE_OK);
	begin();
	w_arr(4);
	w_u(1);
	w_u(1);
	w_strn("a\0b", 3);
	w_op(0);
	CHECK_EQ_INT(end_dec_rejection(), ROVE_EPROTO);
	begin();
	w_arr(4);
	w_u(1);
	w_u(1);
	w_bin(3);
	w_op(0);
	CHECK_EQ_INT(end_dec_rejection(), ROVE_EPROTO);
	begin();
	w_arr(4);
	w_u(1);
	w_u(1);
	w_nil();
	w_op(0);
	CHECK_EQ_INT(end_dec_rejection(), ROVE_EPROTO);

	/* The op: there, whole and valid. */
	begin();
	w_rejection_head(1, 1);
	w_nil();
	CHECK_EQ_INT(end_dec_rejection(), ROVE_EPROTO);
	begin();
	w_rejection_head(1, 1);
	w_op_head(16, 0, 1, 16, 0); /* kind 0 */
	CHECK_EQ_INT(end_dec_rejection(), ROVE_EPROTO);
	begin();
	w_rejection_head(1, 1);
	w_op_head(15, ROVE_OP_UPDATE, 1, 16, 0); /* short op id */
	CHECK_EQ_INT(end_dec_rejection(), ROVE_EPROTO);
	begin();
	w_rejection_head(1, 1);
	w_op_head(16, ROVE_OP_UPDATE, 1, 16, 2); /* fields announced, missing */
	CHECK_EQ_INT(end_dec_rejection(), ROVE_EPROTO);
	begin();
	w_rejection_head(1, 1);
	w_op(1);
	w_op(1); /* a second op */
	CHECK_EQ_INT(end_dec_rejection(), ROVE_EPROTO);
}

static void test_bad_items(void)
{
	/* Ops with bad kind, coll, uuids. */
	begin();
	w_push_head(1);
	w_op_head(16, 0, 1, 16, 0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_push_head(1);
	w_op_head(16, ROVE_OP_KIND_MAX + 1, 1, 16, 0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_push_head(1);
	w_op_head(16, 1, 256, 16, 0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_push_head(1);
	w_op_head(16, 1, 255, 16, 0);
	CHECK_EQ_INT(end_decode(), ROVE_OK);
	/* Every kind up to ROVE_OP_KIND_MAX (claim, release, reassign). */
	CHECK_EQ_INT(ROVE_OP_KIND_MAX, ROVE_OP_REASSIGN);
	for (uint64_t kind = ROVE_OP_CREATE; kind <= ROVE_OP_KIND_MAX; kind++) {
		begin();
		w_push_head(1);
		w_op_head(16, kind, 1, 16, 0);
		CHECK_EQ_INT(end_decode(), ROVE_OK);
	}

	/* A uuid of 15 bytes: op id, record id, replica, result op id. */
	begin();
	w_push_head(1);
	w_op_head(15, 1, 1, 16, 0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_push_head(1);
	w_op_head(16, 1, 1, 15, 0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_push_head(1);
	w_op_head(16, 1, 1, 0, 0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull_reply_head(ROVE_PULL_SNAPSHOT, 1);
	w_rec_entry();
	w_record_head(1, 15, 0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull_reply_head(ROVE_PULL_SNAPSHOT, 1);
	w_evict(1, 15);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	/* A uuid of 17 bytes is malformed (ROVE_EPROTO, not ROVE_ETOOBIG),
	 * wherever it is. */
	begin();
	w_push_head(1);
	w_op_head(17, 1, 1, 16, 0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_push_head(1);
	w_op_head(16, 1, 1, 17, 0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull_reply_head(ROVE_PULL_SNAPSHOT, 1);
	w_rec_entry();
	w_record_head(1, 17, 0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 1);
	w_evict(1, 17);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_arr(11);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_PUSH);
	w_str("alice");
	w_str(token);
	w_bin(17);
	w_seen();
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_arr(14);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_PULL);
	w_str("alice");
	w_str(token);
	w_bin(17);
	w_u(0);
	w_u(0);
	w_bin(0);
	w_u(0);
	w_u(10);
	w_u(0);
	w_bin(16);
	w_bin(16);
	w_u(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_result(17, 0, true, 0, 0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_op_head(17, 1, 1, 16, 0);
	CHECK_EQ_INT(try_dec_op(sb.data, sb.size), ROVE_EPROTO);
	begin();
	w_record_head(1, 17, 0);
	CHECK_EQ_INT(try_dec_record(sb.data, sb.size), ROVE_EPROTO);
	begin();
	w_arr(11);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_PUSH);
	w_str("alice");
	w_str(token);
	w_bin(15);
	w_seen();
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_result(15, 0, true, 0, 0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	/* A uuid sent as a string. */
	begin();
	w_arr(11);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_PUSH);
	w_str("alice");
	w_str(token);
	w_strn("0123456789abcdef", 16);
	w_seen();
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);

	/* Results with a bad status, reason, seen flag. */
	begin();
	w_result(16, ROVE_PUSH_REJECTED + 1, true, 0, 0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_result(16, 0, true, ROVE_R_COUNT, 0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_result(16, 0, false, 0, 0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);

	/* Wrong item types: a record or an entry in a push, untagged ops and
	 * records in a pull reply, an entry as a conflict, strings as
	 * results, ints as admin args. */
	begin();
	w_push_head(1);
	w_record_head(1, 16, 0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_push_head(1);
	w_op_entry();
	w_op(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull_reply_head(ROVE_PULL_SNAPSHOT, 1);
	w_op(1);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 1);
	w_op(1);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	for (uint64_t coll = 0; coll <= 3; coll++) {
		/* [coll, id, fields]: a record's first element read as a tag. */
		begin();
		w_pull_reply_head(ROVE_PULL_SNAPSHOT, 1);
		w_record_head(coll, 16, 0);
		CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	}
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 1);
	w_op_entry();
	w_op(1);
	CHECK_EQ_INT(end_decode(), ROVE_OK);
	begin();
	w_conflicts_reply_head(1);
	w_op_entry();
	w_op(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_conflicts_reply_head(1);
	w_op(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_arr(5);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_PUSH_REPLY);
	w_u(1);
	w_bin(16);
	w_arr(1);
	w_str("ok");
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_admin_head(2);
	w_str("a");
	w_u(5);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_arr(3);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_ADMIN_REPLY);
	w_arr(1);
	w_nil();
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	/* Items that are not arrays; the item list that is not an array. */
	begin();
	w_push_head(1);
	w_nil();
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_arr(11);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_PUSH);
	w_str("alice");
	w_str(token);
	w_bin(16);
	w_seen();
	w_str("ops");
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);

	/* Pull reply: bad mode; epoch not an unsigned int; reset or more not
	 * a bool (each of the last three replaced in turn). */
	begin();
	w_pull_reply_head(0, 0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull_reply_head(3, 0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	for (int bad = 0; bad < 3; bad++) {
		for (int form = 0; form < 2; form++) {
			begin();
			w_arr(14);
			w_u(ROVE_PROTO_VERSION);
			w_u(ROVE_MSG_PULL_REPLY);
			w_str("rep");
			w_u(ROVE_PULL_OPS);
			w_u(1);
			w_u(1);
			w_u(0);
			w_bin(0);
			if (bad != 0)
				w_u(1);
			else if (form)
				w_i(-1);
			else
				msgpack_pack_true(&pk);
			if (bad != 1)
				msgpack_pack_true(&pk);
			else if (form)
				w_u(0);
			else
				w_nil();
			if (bad != 2)
				msgpack_pack_false(&pk);
			else if (form)
				w_u(1);
			else
				w_str("no");
			w_u(1);
			w_bin(16);
			w_arr(0);
			CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
		}
	}
	/* Pull: epoch not an unsigned int. */
	begin();
	w_arr(14);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_PULL);
	w_str("alice");
	w_str(token);
	w_bin(16);
	w_u(0);
	w_u(0);
	w_bin(0);
	w_i(-1);
	w_u(10);
	w_u(0);
	w_bin(16);
	w_bin(16);
	w_u(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	/* Pull: a run that is not 16 bytes; an ack_seq that is negative. */
	for (int bad = 0; bad < 3; bad++) {
		begin();
		w_arr(14);
		w_u(ROVE_PROTO_VERSION);
		w_u(ROVE_MSG_PULL);
		w_str("alice");
		w_str(token);
		w_bin(16);
		w_u(0);
		w_u(0);
		w_bin(0);
		w_u(1);
		w_u(10);
		w_u(0);
		w_bin(bad == 0 ? 15 : 16);
		w_bin(bad == 1 ? 17 : 16);
		if (bad == 2)
			w_i(-1);
		else
			w_u(0);
		CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	}
	/* Conflicts: after or max not unsigned ints; more not a bool. */
	begin();
	w_arr(6);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_CONFLICTS);
	w_str("alice");
	w_str(token);
	w_i(-1);
	w_u(10);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_arr(6);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_CONFLICTS);
	w_str("alice");
	w_str(token);
	w_u(0);
	w_str("10");
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_arr(4);
	w_u(ROVE_PROTO_VERSION);
	w_u(ROVE_MSG_CONFLICTS_REPLY);
	w_u(1);
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	/* Conflict items: reason out of range, wrong arity, parts of the
	 * wrong type, a bad op. */
	begin();
	w_conflicts_reply_head(1);
	w_conflict_head(ROVE_R_COUNT, 0);
	w_op(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_conflicts_reply_head(1);
	w_arr(4);
	w_u(1);
	w_u(1);
	w_u(0);
	w_str("");
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_conflicts_reply_head(1);
	w_arr(6);
	w_u(1);
	w_u(1);
	w_u(0);
	w_str("");
	w_op(0);
	w_nil();
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_conflicts_reply_head(1);
	w_arr(5);
	w_i(-1);
	w_u(1);
	w_u(0);
	w_str("");
	w_op(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_conflicts_reply_head(1);
	w_arr(5);
	w_u(1);
	w_u(1);
	w_u(0);
	w_nil();
	w_op(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_conflicts_reply_head(1);
	w_conflict_head(0, 0);
	w_op_head(16, 0, 1, 16, 0); /* kind 0 */
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_conflicts_reply_head(1);
	w_conflict_head(0, 0);
	w_record_head(1, 16, 0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);

	/* Error: code out of range, code negative, text not a string. */
	begin();
	W_RAW("\x94\x03\x01");
	w_u(ROVE_ERR_COUNT);
	w_str("x");
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	W_RAW("\x94\x03\x01\xff\xa1x");
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	W_RAW("\x94\x03\x01\x01\xc0");
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);

	/* Stand-alone item decoders refuse bad input too. */
	begin();
	w_op_head(15, 1, 1, 16, 0);
	CHECK_EQ_INT(try_dec_op(sb.data, sb.size), ROVE_EPROTO);
	begin();
	w_record_head(256, 16, 0);
	CHECK_EQ_INT(try_dec_record(sb.data, sb.size), ROVE_EPROTO);
	CHECK_EQ_INT(try_dec_op(NULL, 0), ROVE_EPROTO);
	CHECK_EQ_INT(try_dec_record(NULL, 0), ROVE_EPROTO);
}

/* Pull reply entries of every wrong shape. */
static void test_bad_entries(void)
{
	/* Unknown tags, with either arity. */
	static const uint64_t tags[] = {3, 4, 127, 255, 256, UINT64_MAX};

	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		begin();
		w_pull_reply_head(ROVE_PULL_OPS, 1);
		w_arr(2);
		w_u(tags[i]);
		w_op(0);
		CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
		begin();
		w_pull_reply_head(ROVE_PULL_SNAPSHOT, 1);
		w_arr(3);
		w_u(tags[i]);
		w_u(1);
		w_bin(16);
		CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	}
	/* Tag 3 after a good entry; the good one alone passes. */
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 1);
	w_evict(1, 16);
	CHECK_EQ_INT(end_decode(), ROVE_OK);
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 2);
	w_evict(1, 16);
	w_arr(3);
	w_u(3);
	w_u(1);
	w_bin(16);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	/* Tags that are not unsigned ints. */
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 1);
	w_arr(3);
	w_i(-1);
	w_u(1);
	w_bin(16);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 1);
	w_arr(2);
	w_nil();
	w_op(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 1);
	w_arr(2);
	w_str("op");
	w_op(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 1);
	w_arr(2);
	msgpack_pack_false(&pk);
	w_op(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);

	/* Evict entries of the wrong arity: 1, 2 and 4 parts. */
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 1);
	w_arr(1);
	w_u(ROVE_ENTRY_EVICT);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 1);
	w_arr(2);
	w_u(ROVE_ENTRY_EVICT);
	w_u(1);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 1);
	w_arr(2);
	w_u(ROVE_ENTRY_EVICT);
	w_bin(16);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 1);
	w_arr(4);
	w_u(ROVE_ENTRY_EVICT);
	w_u(1);
	w_bin(16);
	w_nil();
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	/* The same wrong arities where the bytes after the entry's header
	 * would read as the missing parts, or as the next entry: only the
	 * arity is wrong. */
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 1);
	w_arr(2);
	w_u(ROVE_ENTRY_EVICT);
	w_u(1);
	w_bin(16);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 1);
	w_arr(1);
	w_u(ROVE_ENTRY_EVICT);
	w_u(1);
	w_bin(16);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 2);
	w_arr(3);
	w_u(ROVE_ENTRY_OP);
	w_op(0);
	w_evict(1, 16);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 1);
	w_arr(1);
	w_u(ROVE_ENTRY_OP);
	w_op(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull_reply_head(ROVE_PULL_SNAPSHOT, 2);
	w_arr(3);
	w_u(ROVE_ENTRY_RECORD);
	w_record_head(1, 16, 0);
	w_evict(1, 16);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull_reply_head(ROVE_PULL_SNAPSHOT, 1);
	w_arr(1);
	w_u(ROVE_ENTRY_RECORD);
	w_record_head(1, 16, 0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	/* Op and record entries with three parts, or one. */
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 1);
	w_arr(3);
	w_u(ROVE_ENTRY_OP);
	w_op(0);
	w_nil();
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull_reply_head(ROVE_PULL_SNAPSHOT, 1);
	w_arr(3);
	w_u(ROVE_ENTRY_RECORD);
	w_record_head(1, 16, 0);
	w_nil();
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull_reply_head(ROVE_PULL_SNAPSHOT, 1);
	w_arr(1);
	w_u(ROVE_ENTRY_RECORD);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	/* An op entry holding an evict's parts, and the reverse. */
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 1);
	w_arr(3);
	w_u(ROVE_ENTRY_OP);
	w_u(1);
	w_bin(16);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	/* Empty entries, alone and before a good one; many-part ones. */
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 1);
	w_arr(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 2);
	w_arr(0);
	w_evict(1, 16);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 3);
	w_arr(0);
	w_u(ROVE_ENTRY_EVICT);
	w_evict(1, 16);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 1);
	w_arr(15);
	w_u(ROVE_ENTRY_EVICT);
	for (int i = 0; i < 14; i++)
		w_u(1);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	/* Entries that are not arrays. */
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 1);
	w_nil();
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 1);
	W_RAW("\x81\x00\x00");
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 1);
	w_u(ROVE_ENTRY_EVICT);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);

	/* Evict parts: coll over 255, negative or nil; id not a bin. */
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 1);
	w_evict(255, 16);
	CHECK_EQ_INT(end_decode(), ROVE_OK);
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 1);
	w_evict(256, 16);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 1);
	w_arr(3);
	w_u(ROVE_ENTRY_EVICT);
	w_i(-1);
	w_bin(16);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 1);
	w_arr(3);
	w_u(ROVE_ENTRY_EVICT);
	w_nil();
	w_bin(16);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 1);
	w_arr(3);
	w_u(ROVE_ENTRY_EVICT);
	w_u(1);
	w_strn("0123456789abcdef", 16);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 1);
	w_evict(1, 0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);

	/* A record inside an op entry, an op inside a record entry. */
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 1);
	w_op_entry();
	w_record_head(1, 16, 0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull_reply_head(ROVE_PULL_SNAPSHOT, 1);
	w_rec_entry();
	w_op(0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	/* A bad op or record inside a well-formed entry. */
	begin();
	w_pull_reply_head(ROVE_PULL_OPS, 1);
	w_op_entry();
	w_op_head(16, ROVE_OP_KIND_MAX + 1, 1, 16, 0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
	begin();
	w_pull_reply_head(ROVE_PULL_SNAPSHOT, 1);
	w_rec_entry();
	w_record_head(256, 16, 0);
	CHECK_EQ_INT(end_decode(), ROVE_EPROTO);
}

/* ---- mutation -------------------------------------------------------- */

/* Re-encodes a decoded message from its fields and items. */
static int reencode(const rove_msg *orig, rove_buf *out)
{
	rove_msg m = *orig;
	rove_buf items;
	int rc = ROVE_OK;
	uint32_t n, i;

	rove_buf_init(&items);
	switch (m.type) {
	case ROVE_MSG_ERROR:
		rc = rove_enc_error(out, m.u.error.code, m.u.error.text);
		break;
	case ROVE_MSG_PULL:
		rc = rove_enc_pull(out, &m.auth, &m.u.pull);
		break;
	case ROVE_MSG_PUSH: {
		rove_op *ops;
		n = m.u.push.n;
		ops = calloc(n ? n : 1, sizeof(*ops));
		if (ops == NULL)
			return ROVE_ENOMEM;
		for (i = 0; i < n && rc == ROVE_OK; i++)
			rc = rove_msg_next_op(&m, &ops[i]);
		if (rc == ROVE_OK)
			rc = rove_enc_push(out, &m.auth, &m.u.push.replica, &m.u.push.seen, ops, n);
		free(ops);
		break;
	}
	case ROVE_MSG_PUSH_REPLY: {
		rove_push_result *res;
		n = m.u.push_reply.n;
		res = calloc(n ? n : 1, sizeof(*res));
		if (res == NULL)
			return ROVE_ENOMEM;
		for (i = 0; i < n && rc == ROVE_OK; i++)
			rc = rove_msg_next_result(&m, &res[i]);
		if (rc == ROVE_OK)
			rc = rove_enc_push_reply(out, m.u.push_reply.server, &m.u.push_reply.run, res, n);
		free(res);
		break;
	}
	case ROVE_MSG_PULL_REPLY: {
		static rove_entry e;
		n = m.u.pull_reply.n;
		for (i = 0; i < n && rc == ROVE_OK; i++) {
			rc = rove_msg_next_entry(&m, &e);
			if (rc != ROVE_OK)
				break;
			switch (e.tag) {
			case ROVE_ENTRY_OP:
				rc = add_op_entry(&items, &e.op);
				break;
			case ROVE_ENTRY_RECORD:
				rc = add_record_entry(&items, &e.rec);
				break;
			case ROVE_ENTRY_EVICT:
				rc = rove_enc_entry_evict(&items, e.coll, &e.id);
				break;
			default:
				rc = ROVE_EPROTO; /* the decoder let an unknown tag through */
			}
		}
		if (rc == ROVE_OK)
			rc = rove_enc_pull_reply(out, &m.u.pull_reply, &items);
		break;
	}
	case ROVE_MSG_CONFLICTS:
		rc = rove_enc_conflicts(out, &m.auth, &m.u.conflicts);
		break;
	case ROVE_MSG_CONFLICTS_REPLY: {
		static rove_conflict c;
		n = m.u.conflicts_reply.n;
		for (i = 0; i < n && rc == ROVE_OK; i++) {
			rc = rove_msg_next_conflict(&m, &c);
			if (rc == ROVE_OK)
				rc = add_conflict(&items, c.n, c.time_ms, c.reason, c.detail, &c.op);
		}
		if (rc == ROVE_OK)
			rc = rove_enc_conflicts_reply(out, m.u.conflicts_reply.more, n, &items);
		break;
	}
	case ROVE_MSG_ADMIN:
	case ROVE_MSG_ADMIN_REPLY: {
		char **strs;
		const char *s;
		uint32_t len;
		n = m.type == ROVE_MSG_ADMIN ? m.u.admin.n : m.u.admin_reply.n;
		strs = calloc(n ? n : 1, sizeof(*strs));
		if (strs == NULL)
			return ROVE_ENOMEM;
		for (i = 0; i < n && rc == ROVE_OK; i++) {
			rc = rove_msg_next_str(&m, &s, &len);
			if (rc != ROVE_OK)
				break;
			strs[i] = malloc(len + 1);
			if (strs[i] == NULL) {
				rc = ROVE_ENOMEM;
				break;
			}
			memcpy(strs[i], s, len);
			strs[i][len] = '\0';
		}
		if (rc == ROVE_OK && m.type == ROVE_MSG_ADMIN)
			rc = rove_enc_admin_req(out, &m.auth, m.u.admin.cmd,
						m.u.admin.has_request ? &m.u.admin.request : NULL,
						(const char *const *)strs, n);
		else if (rc == ROVE_OK)
			rc = rove_enc_admin_reply(out, (const char *const *)strs, n);
		for (i = 0; i < n; i++)
			free(strs[i]);
		free(strs);
		break;
	}
	default:
		rc = ROVE_EINVAL;
	}
	/* Every item was read, and nothing is left. */
	if (rc == ROVE_OK && m.left != 0)
		rc = ROVE_EPROTO;
	rove_buf_free(&items);
	return rc;
}

static void mutate(uint8_t *p, size_t *len)
{
	static const uint8_t interesting[] = {0x00, 0x01, 0x7f, 0x80, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2,
					      0xc3, 0xc4, 0xc6, 0xcc, 0xcf, 0xd0, 0xd3, 0xd9, 0xdb, 0xdc,
					      0xdd, 0xe0, 0xff};
	int edits = 1 + (int)(rng() % 4);

	for (int e = 0; e < edits && *len > 0; e++) {
		size_t at = (size_t)(rng() % *len);

		switch (rng() % 8) {
		case 0:
		case 1:
		case 2:
			p[at] ^= (uint8_t)(1u << (rng() % 8));
			break;
		case 3:
		case 4:
			p[at] = (uint8_t)rng();
			break;
		case 5:
		case 6:
			p[at] = interesting[rng() % sizeof(interesting)];
			break;
		default:
			/* Cut the message short somewhere. */
			if (rng() % 4 == 0)
				*len = at;
			else
				p[at] = (uint8_t)(p[at] + 1);
		}
	}
}

static void test_mutations(void)
{
	const int iterations = 20000;
	int accepted = 0, crashed_reencode = 0, unstable = 0;
	rove_buf b1, b2;

	rng_state = 0x0123456789abcdefull;
	rove_buf_init(&b1);
	rove_buf_init(&b2);
	for (int it = 0; it < iterations; it++) {
		const rove_buf *seed = &seeds[it % nseeds];
		size_t len = seed->len;
		uint8_t *p = dup_bytes(seed->data, seed->len);
		uint8_t *exact;
		rove_msg m;
		int rc;

		mutate(p, &len);
		exact = dup_bytes(p, len); /* exactly len bytes, for ASan */
		free(p);
		rc = rove_msg_decode(exact, len, &m);
		if (rc == ROVE_OK) {
			accepted++;
			rove_buf_reset(&b1);
			rc = reencode(&m, &b1);
			if (rc != ROVE_OK) {
				fprintf(stderr, "mutation %d: accepted but re-encode failed: %d\n", it, rc);
				crashed_reencode++;
			} else {
				/* The re-encoding decodes, and is a fixed point. */
				uint8_t *again = dup_bytes(b1.data, b1.len);
				rove_msg m2;

				rove_buf_reset(&b2);
				if (rove_msg_decode(again, b1.len, &m2) != ROVE_OK || m2.type != m.type ||
				    reencode(&m2, &b2) != ROVE_OK || b2.len != b1.len ||
				    memcmp(b1.data, b2.data, b1.len) != 0) {
					fprintf(stderr, "mutation %d: re-encoding not stable\n", it);
					unstable++;
				}
				free(again);
			}
		} else {
			CHECK(rc == ROVE_EPROTO || rc == ROVE_EVERSION || rc == ROVE_ETOOBIG);
		}
		free(exact);
	}
	CHECK_EQ_INT(crashed_reencode, 0);
	CHECK_EQ_INT(unstable, 0);
	/* Some mutations land in string bytes or numbers and stay valid. */
	CHECK(accepted > 0);
	CHECK(accepted < iterations);
	printf("mutations: %d of %d accepted and re-encoded\n", accepted, iterations);
	rove_buf_free(&b1);
	rove_buf_free(&b2);
}

/* The lazy decoder (items validated as they are read) accepts exactly
 * what the strict one accepts: over the same mutations of every seed, a
 * message passes decode + reading every item + rove_msg_items_end if and
 * only if rove_msg_decode accepts it, with the same number of items. */
static void test_lazy_decode(void)
{
	const int iterations = 20000;
	static rove_entry e;
	static rove_op op;
	static rove_conflict c;
	int agree = 0, checked_items = 0;

	rng_state = 0x5eed1a2b3c4d5e6full;
	for (int it = 0; it < iterations; it++) {
		const rove_buf *seed = &seeds[it % nseeds];
		size_t len = seed->len;
		uint8_t *p = dup_bytes(seed->data, seed->len);
		uint8_t *exact;
		rove_msg strict, lazy;
		uint32_t read = 0;
		int src, lrc;

		if (it >= nseeds) /* the seeds themselves first, unmutated */
			mutate(p, &len);
		exact = dup_bytes(p, len);
		free(p);
		src = rove_msg_decode(exact, len, &strict);
		lrc = rove_msg_decode_lazy(exact, len, &lazy);
		while (lrc == ROVE_OK && lazy.left > 0) {
			switch (lazy.type) {
			case ROVE_MSG_PULL_REPLY: lrc = rove_msg_next_entry(&lazy, &e); break;
			case ROVE_MSG_PUSH: lrc = rove_msg_next_op(&lazy, &op); break;
			case ROVE_MSG_CONFLICTS_REPLY: lrc = rove_msg_next_conflict(&lazy, &c); break;
			default: {
				rove_push_result res;
				const char *str;
				uint32_t slen;
				lrc = lazy.type == ROVE_MSG_PUSH_REPLY ? rove_msg_next_result(&lazy, &res)
								       : rove_msg_next_str(&lazy, &str, &slen);
			}
			}
			if (lrc == ROVE_OK)
				read++;
		}
		if (lrc == ROVE_OK)
			lrc = rove_msg_items_end(&lazy);
		if ((src == ROVE_OK) != (lrc == ROVE_OK)) {
			fprintf(stderr, "lazy decode, mutation %d: strict %d, lazy %d\n", it, src, lrc);
		} else {
			agree++;
			if (src == ROVE_OK) {
				CHECK_EQ_INT(read, strict.left); /* every item the strict decoder saw */
				checked_items += (int)read;
			}
		}
		free(exact);
	}
	CHECK_EQ_INT(agree, iterations);
	CHECK(checked_items > 0);
	printf("lazy decode: agrees with the strict decoder on %d of %d messages (%d items read)\n", agree,
	       iterations, checked_items);
}

/* Own ops (issue 17): a result's kept list, made from the op as pushed
 * and as kept, read back and applied; a MINE entry; what a decoder refuses
 * of either. */
static void test_kept_and_mine(void)
{
	static rove_op pushed, kept, got;
	static rove_push_result res[2];
	rove_stamp st = stamp(0x0001234567890005ull, 7);
	rove_uuid run, id, op_id;
	rove_buf b, k, items;
	rove_pull_reply h;
	rove_entry e;
	rove_msg m;
	bool known, changed;
	uint8_t *d;

	rove_buf_init(&b);
	rove_buf_init(&k);
	rove_buf_init(&items);
	memset(&pushed, 0, sizeof(pushed));
	pushed.st = st;
	rove_fields_init(&pushed.fs);
	CHECK_EQ_INT(rove_op_set(&pushed, "name", rove_vcstr("Acme")), ROVE_OK);
	CHECK_EQ_INT(rove_op_set(&pushed, "tax_id", rove_vcstr("91310000ma1fl0001r")), ROVE_OK);
	CHECK_EQ_INT(rove_op_set(&pushed, "tier", rove_vcstr("prospect")), ROVE_OK);
	kept = pushed;
	CHECK_EQ_INT(rove_fields_copy(&kept.fs, &pushed.fs), ROVE_OK);
	CHECK_EQ_INT(rove_op_set(&kept, "tax_id", rove_vcstr("91310000MA1FL0001R")), ROVE_OK);
	CHECK_EQ_INT(rove_op_set(&kept, "created_at", rove_vcstr("2026-12-01T00:00:00Z")), ROVE_OK);
	CHECK_EQ_INT(rove_op_set(&kept, "owner", rove_vcstr("wang")), ROVE_OK);
	/* Three set or changed, two kept as they were. */
	CHECK_EQ_INT(rove_enc_kept(&k, &pushed.fs, &kept.fs, &known), ROVE_OK);
	CHECK(known);
	got = pushed;
	CHECK_EQ_INT(rove_fields_copy(&got.fs, &pushed.fs), ROVE_OK);
	CHECK_EQ_INT(rove_kept_apply(k.data, k.len, &got, &changed), ROVE_OK);
	CHECK(changed);
	CHECK(op_eq(&got, &kept));
	/* Applied twice: nothing more changes. */
	CHECK_EQ_INT(rove_kept_apply(k.data, k.len, &got, &changed), ROVE_OK);
	CHECK(!changed);
	/* Kept exactly as pushed: an empty list. */
	rove_buf_reset(&k);
	CHECK_EQ_INT(rove_enc_kept(&k, &pushed.fs, &pushed.fs, &known), ROVE_OK);
	CHECK(known);
	CHECK_EQ_INT(k.len, 1);
	/* A field of the pushed op the kept one lacks: no list says that. */
	rove_buf_reset(&k);
	CHECK_EQ_INT(rove_enc_kept(&k, &kept.fs, &pushed.fs, &known), ROVE_OK);
	CHECK(!known);
	CHECK_EQ_INT(k.len, 0);
	/* Malformed lists: a field twice, a name empty, bytes after. */
	CHECK_EQ_INT(rove_kept_apply("\x92\x92\xa1x\x01\x92\xa1x\x02", 9, &got, &changed), ROVE_OK);
	CHECK_EQ_INT(rove_kept_apply("\x91\x92\xa0\x01", 4, &got, &changed), ROVE_EPROTO);
	CHECK_EQ_INT(rove_kept_apply("\x90\x90", 2, &got, &changed), ROVE_EPROTO);

	/* In a push reply: accepted with a list, refused with none. */
	rove_buf_reset(&k);
	CHECK_EQ_INT(rove_enc_kept(&k, &pushed.fs, &kept.fs, &known), ROVE_OK);
	memset(res, 0, sizeof(res));
	fixed_uuid(&res[0].op_id, 1);
	res[0].status = ROVE_PUSH_ACCEPTED;
	res[0].seq = 5;
	res[0].st = st;
	res[0].kept_known = true;
	res[0].kept = (const uint8_t *)k.data;
	res[0].keptlen = (uint32_t)k.len;
	fixed_uuid(&res[1].op_id, 2);
	res[1].status = ROVE_PUSH_REJECTED;
	res[1].reason = 1;
	fixed_uuid(&run, 9);
	CHECK_EQ_INT(rove_enc_push_reply(&b, 77, &run, res, 2), ROVE_OK);
	d = dup_bytes(b.data, b.len);
	CHECK_EQ_INT(rove_msg_decode(d, b.len, &m), ROVE_OK);
	CHECK_EQ_INT(rove_msg_next_result(&m, &res[0]), ROVE_OK);
	CHECK(res[0].kept_known);
	CHECK_EQ_INT(res[0].keptlen, k.len);
	CHECK(memcmp(res[0].kept, k.data, k.len) == 0);
	CHECK_EQ_INT(rove_msg_next_result(&m, &res[1]), ROVE_OK);
	CHECK(!res[1].kept_known);
	free(d);
	/* A duplicate field in a result's list is refused by the decoder. */
	res[0].kept = (const uint8_t *)"\x92\x92\xa1x\x01\x92\xa1x\x02";
	res[0].keptlen = 9;
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_push_reply(&b, 77, &run, res, 1), ROVE_OK);
	CHECK_EQ_INT(try_decode(b.data, b.len), ROVE_EPROTO);

	/* A MINE entry in a pull reply, strict and lazy. */
	fixed_uuid(&id, 4);
	fixed_uuid(&op_id, 5);
	CHECK_EQ_INT(rove_enc_entry_mine(&items, 1, &id, 42, &op_id), ROVE_OK);
	memset(&h, 0, sizeof(h));
	snprintf(h.role, sizeof(h.role), "rep");
	h.mode = ROVE_PULL_OPS;
	h.head = h.cursor = 42;
	h.n = 1;
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_pull_reply(&b, &h, &items), ROVE_OK);
	d = dup_bytes(b.data, b.len);
	CHECK_EQ_INT(rove_msg_decode(d, b.len, &m), ROVE_OK);
	CHECK_EQ_INT(rove_msg_next_entry(&m, &e), ROVE_OK);
	CHECK_EQ_INT(e.tag, ROVE_ENTRY_MINE);
	CHECK_EQ_INT(e.coll, 1);
	CHECK(rove_uuid_cmp(&e.id, &id) == 0);
	CHECK_EQ_INT(e.seq, 42);
	CHECK(rove_uuid_cmp(&e.op_id, &op_id) == 0);
	free(d);
	/* Seq 0 (no acknowledged op has it) is refused. */
	rove_buf_reset(&items);
	CHECK_EQ_INT(rove_enc_entry_mine(&items, 1, &id, 0, &op_id), ROVE_OK);
	rove_buf_reset(&b);
	CHECK_EQ_INT(rove_enc_pull_reply(&b, &h, &items), ROVE_OK);
	CHECK_EQ_INT(try_decode(b.data, b.len), ROVE_EPROTO);
	rove_buf_free(&b);
	rove_buf_free(&k);
	rove_buf_free(&items);
}

/* A push built in place with ops as stored (rove_enc_push_open, the ops
 * appended, rove_enc_push_count, cut after the n-th) is the message of
 * the ops decoded (rove_enc_push) but for its count's header, which is
 * always 32-bit, and decodes as it; an op's head reads as the whole op's. */
static void test_push_in_place(void)
{
	static rove_op whole;
	rove_op_head head;
	rove_auth a;
	rove_uuid replica;
	rove_seen seen;
	rove_buf b, ops, one;
	rove_msg m;
	size_t at[NOPS + 1], count_at = 0;

	make_auth(&a, "alice");
	fixed_uuid(&replica, 77);
	memset(&seen, 0, sizeof(seen));
	seen.seq = 9;
	rove_buf_init(&b);
	rove_buf_init(&ops);
	rove_buf_init(&one);
	at[0] = 0;
	for (int i = 0; i < NOPS; i++) {
		rove_buf_reset(&one);
		CHECK_EQ_INT(rove_enc_op(&one, &sample_ops[i]), ROVE_OK);
		CHECK_EQ_INT(rove_dec_op_head(one.data, one.len, &head), ROVE_OK);
		CHECK_EQ_INT(rove_dec_op(one.data, one.len, &whole), ROVE_OK);
		CHECK(rove_uuid_cmp(&head.op_id, &whole.op_id) == 0 && rove_uuid_cmp(&head.rid, &whole.rid) == 0);
		CHECK(head.kind == whole.kind && head.coll == whole.coll && stamp_eq(&head.st, &whole.st));
		CHECK(head.seq == whole.seq);
		CHECK_EQ_INT(rove_buf_append(&ops, one.data, one.len), ROVE_OK);
		at[i + 1] = ops.len;
	}
	CHECK_EQ_INT(rove_dec_op_head(one.data, 3, &head), ROVE_EPROTO);
	for (uint32_t n = 0; n <= NOPS; n++) {
		size_t hl = n <= 15 ? 1 : n <= 0xffff ? 3 : 5, start;

		rove_buf_reset(&b);
		rove_buf_reset(&one);
		CHECK_EQ_INT(rove_enc_push(&b, &a, &replica, &seen, sample_ops, n), ROVE_OK);
		CHECK_EQ_INT(rove_enc_push_open(&one, &a, &replica, &seen, &count_at), ROVE_OK);
		start = one.len;
		CHECK(start == count_at + 5);
		/* Every op appended, the message cut after the n-th. */
		CHECK_EQ_INT(rove_buf_append(&one, ops.data, ops.len), ROVE_OK);
		one.len = start + at[n];
		CHECK_EQ_INT(rove_enc_push_count(&one, count_at, n), ROVE_OK);
		CHECK(b.len - hl == one.len - 5);
		CHECK(memcmp(b.data, one.data, count_at) == 0);
		CHECK(memcmp(b.data + count_at + hl, one.data + start, one.len - start) == 0);
		CHECK_EQ_INT(rove_msg_decode(one.data, one.len, &m), ROVE_OK);
		CHECK(m.type == ROVE_MSG_PUSH && m.u.push.n == n && m.u.push.seen.seq == 9);
		for (uint32_t i = 0; i < n; i++) {
			CHECK_EQ_INT(rove_msg_next_op(&m, &whole), ROVE_OK);
			CHECK(rove_uuid_cmp(&whole.op_id, &sample_ops[i].op_id) == 0);
		}
		CHECK_EQ_INT(rove_msg_next_op(&m, &whole), ROVE_ENOTFOUND);
	}
	/* More than a push carries: refused, the count as it was. */
	CHECK_EQ_INT(rove_enc_push_count(&one, count_at, ROVE_MAX_PUSH_OPS + 1), ROVE_ETOOBIG);
	CHECK_EQ_INT(rove_msg_decode(one.data, one.len, &m), ROVE_OK);
	rove_buf_free(&b);
	rove_buf_free(&ops);
	rove_buf_free(&one);
}

int main(void)
{
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);

	make_samples();
	make_results();
	test_buf();
	test_writer_bytes();
	test_push_roundtrip();
	test_push_limits();
	test_push_reply_roundtrip();
	test_proofs_roundtrip();
	test_pull_roundtrip();
	test_pull_reply_roundtrip();
	test_pull_optional();
	test_admin_optional();
	test_conflicts_roundtrip();
	test_conflicts_reply_roundtrip();
	test_admin_roundtrip();
	test_admin_reply_roundtrip();
	test_error_roundtrip();
	test_item_roundtrip();
	test_rejection_roundtrip();
	test_raw_deleted();
	test_kept_and_mine();
	test_push_in_place();

	make_seeds();
	test_truncations();
	test_trailing();
	test_crafted_sanity();
	test_version_and_type();
	test_huge_counts();
	test_limits();
	test_bad_fields();
	test_bad_items();
	test_bad_rejections();
	test_bad_entries();
	test_mutations();
	test_lazy_decode();

	for (int s = 0; s < nseeds; s++)
		rove_buf_free(&seeds[s]);
	msgpack_sbuffer_destroy(&sb);
	return check_done("test_proto");
}
