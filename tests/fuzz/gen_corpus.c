/*
 * gen_corpus.c - writes the seed corpus of the fuzz harnesses:
 *
 *   fuzz_gen_corpus DIR     (DIR/proto, DIR/server, DIR/client)
 *
 * Every file is built with the rove_enc_* encoders (a few by hand, for
 * what the encoders never write), with fixed ids and stamps, so a run
 * writes the same bytes every time and the checked-in corpus can be
 * regenerated: build/tests/fuzz_gen_corpus tests/fuzz/corpus
 *
 *   proto/   one message, or one stored op, record or rejection, per file
 *   server/  requests in fuzz_server.c's format: a selector byte (who
 *            sends it, whole or described) and a body; several requests
 *            separated by 0xc1
 *   client/  replies in fuzz_client.c's format: a selector byte and a
 *            reply; several separated by 0xc1
 */
#include "err.h"
#include "fuzz_common.h"
#include "proto.h"
#include "record.h"
#include "schema.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *outdir;
static int nfiles;
/* The server run the push replies name. */
static const rove_uuid fz_run = {{0x52, 0x55, 0x4e, 1}};

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_gen_corpus: %s\n", what);
	exit(1);
}

static void ok(int rc, const char *what)
{
	if (rc != ROVE_OK) {
		fprintf(stderr, "fuzz_gen_corpus: %s: %s\n", what, rove_strerror(rc));
		exit(1);
	}
}

static void mkdir_p(const char *path)
{
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
}

static void write_file(const char *sub, const char *name, const void *data, size_t len)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", outdir, sub, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
	nfiles++;
}

/* ---- building blocks ---- */

static rove_auth auth_of(const char *user)
{
	rove_auth a;

	memset(&a, 0, sizeof(a));
	snprintf(a.user, sizeof(a.user), "%s", user);
	snprintf(a.token, sizeof(a.token), "%s", FZ_BAD_TOKEN);
	return a;
}

/* An op with a fixed op id (0x70 + n pattern, or a given one). */
static void mkop(rove_op *op, unsigned n, uint8_t kind, uint8_t coll, unsigned idn)
{
	rove_uuid rid;
	rove_stamp st = {{FZ_HLC + n}, FZ_NODE};

	fz_id(&rid, idn);
	rove_op_init(op, kind, coll, &rid, st);
	for (unsigned i = 0; i < 16; i++)
		op->op_id.b[i] = (uint8_t)(0x70 + i);
	op->op_id.b[15] = (uint8_t)n;
}

static void set_s(rove_op *op, const char *name, const char *v)
{
	ok(rove_op_set(op, name, v ? rove_vcstr(v) : rove_vnull()), name);
}

static void set_i(rove_op *op, const char *name, int64_t v)
{
	ok(rove_op_set(op, name, rove_vint(v)), name);
}

static void idstr(char out[ROVE_UUID_STRLEN + 1], unsigned n)
{
	fz_id_str(out, n);
}

/* A multi-part input: parts joined by FZ_SEP; no part may hold FZ_SEP. */
typedef struct input {
	rove_buf b;
	int parts;
} input;

static void in_init(input *in)
{
	rove_buf_init(&in->b);
	in->parts = 0;
}

static void in_add(input *in, uint8_t sel, const rove_buf *msg)
{
	uint8_t sep = FZ_SEP;

	if (msg->len > 0 && memchr(msg->data, FZ_SEP, msg->len) != NULL)
		fail("a message holds the separator byte");
	if (in->parts++ > 0)
		ok(rove_buf_append(&in->b, &sep, 1), "append");
	ok(rove_buf_append(&in->b, &sel, 1), "append");
	ok(rove_buf_append(&in->b, msg->data, msg->len), "append");
}

static void in_add_raw(input *in, uint8_t sel, const uint8_t *p, size_t len)
{
	rove_buf b;

	rove_buf_init(&b);
	ok(rove_buf_append(&b, p, len), "append");
	in_add(in, sel, &b);
	rove_buf_free(&b);
}

static void in_write(input *in, const char *sub, const char *name)
{
	write_file(sub, name, in->b.data, in->b.len);
	rove_buf_free(&in->b);
	in_init(in);
}

static void push_msg(rove_buf *out, const char *user, const rove_op *ops, uint32_t n)
{
	rove_auth a = auth_of(user);
	rove_uuid replica;

	fz_id(&replica, 0);
	rove_buf_reset(out);
	ok(rove_enc_push(out, &a, &replica, NULL, ops, n), "push");
}

static void pull_msg(rove_buf *out, const char *user, uint64_t cursor, uint64_t snap_seq, const uint8_t *key,
		     uint32_t keylen, uint64_t epoch, uint32_t max)
{
	rove_auth a = auth_of(user);
	rove_pull_req q;

	memset(&q, 0, sizeof(q));
	fz_id(&q.replica, 0);
	q.cursor = cursor;
	q.snap_seq = snap_seq;
	if (keylen > 0)
		memcpy(q.snap_key, key, keylen);
	q.snap_keylen = keylen;
	q.epoch = epoch;
	q.max_items = max;
	rove_buf_reset(out);
	ok(rove_enc_pull(out, &a, &q), "pull");
}

static void admin_msg(rove_buf *out, const char *user, const char *cmd, const char *const *args, uint32_t n)
{
	rove_auth a = auth_of(user);

	rove_buf_reset(out);
	ok(rove_enc_admin(out, &a, cmd, args, n), "admin");
}

static void conflicts_msg(rove_buf *out, const char *user, uint64_t after, uint32_t max)
{
	rove_auth a = auth_of(user);
	rove_conflicts_req q = {after, max};

	rove_buf_reset(out);
	ok(rove_enc_conflicts(out, &a, &q), "conflicts");
}

/* The record key of fixture id idn. */
static void rec_key(uint8_t key[ROVE_RECORD_KEY], uint8_t coll, unsigned idn)
{
	rove_uuid id;

	fz_id(&id, idn);
	rove_record_key(key, coll, &id);
}

/* Pull reply items. */
static void item_op(rove_buf *items, const rove_op *op)
{
	rove_buf tmp;

	rove_buf_init(&tmp);
	ok(rove_enc_op(&tmp, op), "op");
	ok(rove_enc_entry_op_raw(items, tmp.data, tmp.len), "entry op");
	rove_buf_free(&tmp);
}

static void item_record(rove_buf *items, const rove_record *rec)
{
	rove_buf tmp;

	rove_buf_init(&tmp);
	ok(rove_enc_record(&tmp, rec), "record");
	ok(rove_enc_entry_record_raw(items, tmp.data, tmp.len), "entry record");
	rove_buf_free(&tmp);
}

static void mkrec(rove_record *rec, uint8_t coll, unsigned idn)
{
	rec->coll = coll;
	fz_id(&rec->id, idn);
	rove_fields_init(&rec->fs);
}

static void rec_s(rove_record *rec, const char *name, const char *v, uint64_t hlc)
{
	rove_stamp st = {{hlc}, FZ_NODE};

	ok(rove_fields_set(&rec->fs, name, v ? rove_vcstr(v) : rove_vnull(), st), name);
}

static void rec_i(rove_record *rec, const char *name, int64_t v, uint64_t hlc)
{
	rove_stamp st = {{hlc}, FZ_NODE};

	ok(rove_fields_set(&rec->fs, name, rove_vint(v), st), name);
}

static void pull_reply_msg(rove_buf *out, const char *role, int mode, uint64_t head, uint64_t cursor,
			   uint64_t snap_seq, const uint8_t *key, uint32_t keylen, uint64_t epoch, bool reset,
			   bool more, uint32_t n, const rove_buf *items)
{
	rove_pull_reply h;

	memset(&h, 0, sizeof(h));
	snprintf(h.role, sizeof(h.role), "%s", role);
	h.mode = (uint8_t)mode;
	h.head = head;
	h.cursor = cursor;
	h.snap_seq = snap_seq;
	if (keylen > 0)
		memcpy(h.snap_key, key, keylen);
	h.snap_keylen = keylen;
	h.epoch = epoch;
	h.reset = reset;
	h.more = more;
	h.n = n;
	rove_buf_reset(out);
	ok(rove_enc_pull_reply(out, &h, items), "pull reply");
}

static rove_push_result result(const rove_uuid *op_id, int status, uint64_t seq, int reason, const char *detail)
{
	rove_push_result r;

	memset(&r, 0, sizeof(r));
	r.op_id = *op_id;
	r.status = (uint8_t)status;
	r.seq = seq;
	r.reason = (uint8_t)reason;
	snprintf(r.detail, sizeof(r.detail), "%s", detail);
	r.st.hlc.v = FZ_HLC;
	r.st.node = FZ_NODE;
	return r;
}

/* ---- proto ---- */

static rove_op ops[8];
static rove_record rec;

static void gen_proto(void)
{
	rove_buf m, items, tmp;
	char c1[ROVE_UUID_STRLEN + 1];
	uint8_t key[19];

	rove_buf_init(&m);
	rove_buf_init(&items);
	rove_buf_init(&tmp);
	idstr(c1, FZ_ID_C1);

	mkop(&ops[0], 1, ROVE_OP_CREATE, ROVE_COLL_CUSTOMER, FZ_ID_C1);
	set_s(&ops[0], "name", "Acme \xe4\xb8\x8a\xe6\xb5\xb7");
	set_s(&ops[0], "tax_id", "91310000MA1FL0001R");
	set_s(&ops[0], "phone", "+86 21 5555 0101");
	set_s(&ops[0], "territory", "east.sh");
	mkop(&ops[1], 2, ROVE_OP_CREATE, ROVE_COLL_CONTACT, FZ_ID_CONTACT);
	set_s(&ops[1], "customer", c1);
	set_s(&ops[1], "name", "Chen Jing");
	push_msg(&m, "wang", ops, 2);
	write_file("proto", "push_create.bin", m.data, m.len);
	push_msg(&m, "wang", ops, 0);
	write_file("proto", "push_empty.bin", m.data, m.len);

	mkop(&ops[0], 3, ROVE_OP_UPDATE, ROVE_COLL_OPPORTUNITY, FZ_ID_OPP);
	set_i(&ops[0], "amount", -1200050);
	set_i(&ops[0], "big", INT64_MAX);
	set_i(&ops[0], "small", INT64_MIN);
	set_i(&ops[0], "byte", -5);
	set_i(&ops[0], "u16", 40000);
	set_s(&ops[0], "stage", NULL);
	set_s(&ops[0], "note", "");
	set_s(&ops[0], "_deleted", NULL);
	push_msg(&m, "li", ops, 1);
	write_file("proto", "push_values.bin", m.data, m.len);

	{
		rove_push_result res[2];
		res[0] = result(&ops[0].op_id, ROVE_PUSH_ACCEPTED, 41, ROVE_R_NONE, "");
		res[1] = result(&ops[1].op_id, ROVE_PUSH_REJECTED, 0, ROVE_R_DUPLICATE, c1);
		res[1].seen = true;
		rove_buf_reset(&m);
		ok(rove_enc_push_reply(&m, 0x5e, &fz_run, res, 2), "push reply");
		write_file("proto", "push_reply.bin", m.data, m.len);
	}

	pull_msg(&m, "wang", 0, 0, NULL, 0, 0, 0);
	write_file("proto", "pull_fresh.bin", m.data, m.len);
	key[0] = 0;
	key[1] = 1;
	rec_key(key + 2, ROVE_COLL_CUSTOMER, FZ_ID_C1);
	pull_msg(&m, "wang", 0, 20, key, 19, 1, 100);
	write_file("proto", "pull_resume.bin", m.data, m.len);
	{
		/* A pull that asks for the server's time (the optional
		 * clock), and a reply that says it (the optional time). */
		rove_auth a = auth_of("wang");
		rove_pull_req q;
		rove_pull_reply h;
		memset(&q, 0, sizeof(q));
		fz_id(&q.replica, 0);
		q.cursor = 5;
		q.epoch = 1;
		q.own = true;
		q.clock = true;
		rove_buf_reset(&m);
		ok(rove_enc_pull(&m, &a, &q), "pull");
		write_file("proto", "pull_clock.bin", m.data, m.len);
		/* One that reads records of format 2 (the optional records). */
		q.records = ROVE_RECORD_FORMAT;
		rove_buf_reset(&m);
		ok(rove_enc_pull(&m, &a, &q), "pull");
		write_file("proto", "pull_records.bin", m.data, m.len);
		memset(&h, 0, sizeof(h));
		snprintf(h.role, sizeof(h.role), "%s", "rep");
		h.mode = ROVE_PULL_OPS;
		h.head = 9;
		h.cursor = 9;
		h.epoch = 1;
		h.time_ms = FZ_HLC >> ROVE_HLC_COUNTER_BITS;
		rove_buf_reset(&m);
		ok(rove_enc_pull_reply(&m, &h, NULL), "pull reply");
		write_file("proto", "pull_reply_time.bin", m.data, m.len);
		/* Proofs of the clock: asked for, given, sent back. */
		{
			rove_seen seen;
			rove_uuid replica;
			rove_op none[1];
			q.proofs = true;
			rove_buf_reset(&m);
			ok(rove_enc_pull(&m, &a, &q), "pull");
			write_file("proto", "pull_proofs.bin", m.data, m.len);
			h.clock.hlc.v = FZ_HLC;
			memset(h.clock.mac, 0x5c, sizeof(h.clock.mac));
			rove_buf_reset(&m);
			ok(rove_enc_pull_reply(&m, &h, NULL), "pull reply");
			write_file("proto", "pull_reply_proof.bin", m.data, m.len);
			memset(&seen, 0, sizeof(seen));
			seen.clock = h.clock;
			fz_id(&replica, 0);
			rove_buf_reset(&m);
			ok(rove_enc_push(&m, &a, &replica, &seen, none, 0), "push");
			write_file("proto", "push_proof.bin", m.data, m.len);
			rove_buf_reset(&m);
			ok(rove_enc_push_reply_proof(&m, 0x5e, &fz_run, &h.clock, NULL, 0), "push reply");
			write_file("proto", "push_reply_proof.bin", m.data, m.len);
		}
	}

	/* A snapshot chunk: two records, reset, more to come. */
	rove_buf_reset(&items);
	mkrec(&rec, ROVE_COLL_CUSTOMER, FZ_ID_C1);
	rec_s(&rec, "name", "Acme", FZ_HLC);
	rec_s(&rec, "owner", "wang", FZ_HLC + 1);
	rec_i(&rec, "_deleted", 0, FZ_HLC + 2);
	item_record(&items, &rec);
	mkrec(&rec, ROVE_COLL_CONTACT, FZ_ID_CONTACT);
	rec_s(&rec, "customer", c1, FZ_HLC);
	item_record(&items, &rec);
	rec_key(key, ROVE_COLL_CONTACT, FZ_ID_CONTACT);
	pull_reply_msg(&m, "rep", ROVE_PULL_SNAPSHOT, 30, 0, 30, key, 17, 2, true, true, 2, &items);
	write_file("proto", "pull_reply_snapshot.bin", m.data, m.len);

	/* Ops and an evict. */
	rove_buf_reset(&items);
	mkop(&ops[0], 4, ROVE_OP_UPDATE, ROVE_COLL_CUSTOMER, FZ_ID_C1);
	set_s(&ops[0], "tier", "loyal");
	ops[0].seq = 31;
	snprintf(ops[0].author, sizeof(ops[0].author), "zhao");
	item_op(&items, &ops[0]);
	{
		rove_uuid id;
		fz_id(&id, FZ_ID_C2);
		ok(rove_enc_entry_evict(&items, ROVE_COLL_CUSTOMER, &id), "evict");
	}
	pull_reply_msg(&m, "manager", ROVE_PULL_OPS, 40, 32, 0, NULL, 0, 2, false, false, 2, &items);
	write_file("proto", "pull_reply_ops.bin", m.data, m.len);
	pull_reply_msg(&m, "admin", ROVE_PULL_OPS, 0, 0, 0, NULL, 0, 0, false, false, 0, NULL);
	write_file("proto", "pull_reply_empty.bin", m.data, m.len);

	{
		const char *args[] = {"li", "rep", "east.sh", "east.bj"};
		admin_msg(&m, "admin", "user.add", args, 4);
		write_file("proto", "admin_user_add.bin", m.data, m.len);
		admin_msg(&m, "admin", "territory.list", NULL, 0);
		write_file("proto", "admin_no_args.bin", m.data, m.len);
		{ /* with the optional request id */
			rove_auth a = auth_of("admin");
			rove_uuid id;
			memset(id.b, 0x5a, sizeof(id.b));
			rove_buf_reset(&m);
			ok(rove_enc_admin_req(&m, &a, "user.add", &id, args, 4), "admin with request id");
			write_file("proto", "admin_request_id.bin", m.data, m.len);
		}
	}
	{
		const char *lines[] = {FZ_BAD_TOKEN, "", "second line"};
		rove_buf_reset(&m);
		ok(rove_enc_admin_reply(&m, lines, 3), "admin reply");
		write_file("proto", "admin_reply.bin", m.data, m.len);
	}
	conflicts_msg(&m, "zhao", 0, 50);
	write_file("proto", "conflicts.bin", m.data, m.len);
	{
		rove_buf_reset(&items);
		rove_buf_reset(&tmp);
		mkop(&ops[0], 5, ROVE_OP_UPDATE, ROVE_COLL_CUSTOMER, FZ_ID_C4);
		set_s(&ops[0], "phone", "020 5555 0199");
		snprintf(ops[0].author, sizeof(ops[0].author), "wang");
		ok(rove_enc_op(&tmp, &ops[0]), "op");
		ok(rove_enc_conflict_raw(&items, 1, 1714671004672ull, ROVE_R_NOT_OWNER,
					 "the customer belongs to someone else", 0, tmp.data, tmp.len),
		   "conflict");
		ok(rove_enc_conflict_raw(&items, 7, 1714671005000ull, ROVE_R_COOLDOWN, "", 3, tmp.data, tmp.len),
		   "conflict");
		rove_buf_reset(&m);
		ok(rove_enc_conflicts_reply(&m, true, 2, &items), "conflicts reply");
		write_file("proto", "conflicts_reply.bin", m.data, m.len);

		/* The stored forms. */
		write_file("proto", "stored_op.bin", tmp.data, tmp.len);
		rove_buf_reset(&m);
		ok(rove_enc_rejection(&m, 1714671004672ull, ROVE_R_NOT_OWNER, "the customer belongs to someone else",
				      &ops[0]),
		   "rejection");
		write_file("proto", "stored_rejection.bin", m.data, m.len);
		mkrec(&rec, ROVE_COLL_TERRITORY, 1);
		rec_s(&rec, "code", "east.sh", FZ_HLC);
		rec_s(&rec, "parent", "east", FZ_HLC);
		rec_i(&rec, "pool_limit", 20, FZ_HLC + 9);
		rove_buf_reset(&tmp);
		ok(rove_enc_record(&tmp, &rec), "record");
		write_file("proto", "stored_record.bin", tmp.data, tmp.len);
	}
	rove_buf_reset(&m);
	ok(rove_enc_error(&m, ROVE_EAUTH, "authentication failed"), "error");
	write_file("proto", "error.bin", m.data, m.len);
	{
		/* By hand: another version; a wider int encoding than needed; a
		 * 16-bit array header; a str8 field name. */
		static const uint8_t v2[] = {0x92, 0x02, 0x02};
		static const uint8_t wide[] = {0x94, 0xcf, 0, 0, 0, 0, 0, 0, 0, 1, 0xcc, 0x01, 0xcd, 0x00, 0x03,
					       0xd9, 0x04, 'o', 'o', 'p', 's'};
		static const uint8_t arr16[] = {0xdc, 0x00, 0x03, 0x01, 0x07, 0xdc, 0x00, 0x00};
		write_file("proto", "version2.bin", v2, sizeof(v2));
		write_file("proto", "error_wide_ints.bin", wide, sizeof(wide));
		write_file("proto", "admin_reply_array16.bin", arr16, sizeof(arr16));
	}
	rove_buf_free(&m);
	rove_buf_free(&items);
	rove_buf_free(&tmp);
}

/* ---- server ---- */

#define SEL(ident) ((uint8_t)(ident))
#define BUILT(kind, ident) ((uint8_t)(((kind) << 4) | 8 | (ident)))

static void gen_server(void)
{
	input in;
	rove_buf m;
	char c1[ROVE_UUID_STRLEN + 1];
	uint8_t key[19];

	in_init(&in);
	rove_buf_init(&m);
	idstr(c1, FZ_ID_C1);

	/* wang creates a customer and a contact, then pulls from scratch. */
	mkop(&ops[0], 1, ROVE_OP_CREATE, ROVE_COLL_CUSTOMER, 12);
	set_s(&ops[0], "name", "Hangzhou Pumps");
	set_s(&ops[0], "phone", "0571 8888 1234");
	mkop(&ops[1], 2, ROVE_OP_CREATE, ROVE_COLL_CONTACT, 13);
	set_s(&ops[1], "name", "Zhou Min");
	{
		char c12[ROVE_UUID_STRLEN + 1];
		idstr(c12, 12);
		set_s(&ops[1], "customer", c12);
	}
	push_msg(&m, "wang", ops, 2);
	in_add(&in, SEL(FZ_WANG), &m);
	in_write(&in, "server", "wang_create.bin");
	in_add(&in, SEL(FZ_WANG), &m);
	pull_msg(&m, "wang", 0, 0, NULL, 0, 0, 0);
	in_add(&in, SEL(FZ_WANG), &m);
	in_write(&in, "server", "wang_create_then_pull.bin");

	mkop(&ops[0], 3, ROVE_OP_UPDATE, ROVE_COLL_CUSTOMER, FZ_ID_C1);
	set_s(&ops[0], "tier", "customer");
	set_s(&ops[0], "address", "1 Century Ave");
	push_msg(&m, "wang", ops, 1);
	in_add(&in, SEL(FZ_WANG), &m);
	in_write(&in, "server", "wang_update_c1.bin");

	/* Pool: wang claims C2 and releases it; claims C6 (cooldown). */
	mkop(&ops[0], 4, ROVE_OP_CLAIM, ROVE_COLL_CUSTOMER, FZ_ID_C2);
	push_msg(&m, "wang", ops, 1);
	in_add(&in, SEL(FZ_WANG), &m);
	mkop(&ops[0], 5, ROVE_OP_RELEASE, ROVE_COLL_CUSTOMER, FZ_ID_C2);
	set_s(&ops[0], "release_reason", "moved away");
	push_msg(&m, "wang", ops, 1);
	in_add(&in, SEL(FZ_WANG), &m);
	pull_msg(&m, "wang", 5, 0, NULL, 0, 1, 0);
	in_add(&in, SEL(FZ_WANG), &m);
	in_write(&in, "server", "wang_claim_release_pull.bin");
	mkop(&ops[0], 6, ROVE_OP_CLAIM, ROVE_COLL_CUSTOMER, FZ_ID_C6);
	push_msg(&m, "wang", ops, 1);
	in_add(&in, SEL(FZ_WANG), &m);
	in_write(&in, "server", "wang_claim_c6_cooldown.bin");

	/* li writes to C3, which moved to wang; li claims C2 (east.sh). */
	mkop(&ops[0], 7, ROVE_OP_UPDATE, ROVE_COLL_CUSTOMER, FZ_ID_C3);
	set_s(&ops[0], "phone", "010 5555 0000");
	mkop(&ops[1], 8, ROVE_OP_CLAIM, ROVE_COLL_CUSTOMER, FZ_ID_C2);
	push_msg(&m, "li", ops, 2);
	in_add(&in, SEL(FZ_LI), &m);
	in_write(&in, "server", "li_reassigned_and_claim.bin");

	/* zhao: deletes C5, moves C1 to east.bj, sets a target, a dealer. */
	mkop(&ops[0], 9, ROVE_OP_DELETE, ROVE_COLL_CUSTOMER, FZ_ID_C5);
	set_i(&ops[0], "_deleted", 1);
	mkop(&ops[1], 10, ROVE_OP_UPDATE, ROVE_COLL_CUSTOMER, FZ_ID_C1);
	set_s(&ops[1], "territory", "east.bj");
	mkop(&ops[2], 11, ROVE_OP_CREATE, ROVE_COLL_TARGET, FZ_ID_TARGET);
	set_s(&ops[2], "user", FZ_TARGET_USER);
	set_s(&ops[2], "period", FZ_TARGET_PERIOD);
	set_i(&ops[2], "amount", 7000000);
	mkop(&ops[3], 12, ROVE_OP_UPDATE, ROVE_COLL_DEALER, FZ_ID_DEALER);
	set_s(&ops[3], "territory", "west");
	push_msg(&m, "zhao", ops, 4);
	in_add(&in, SEL(FZ_ZHAO), &m);
	pull_msg(&m, "zhao", 3, 0, NULL, 0, 1, 2);
	in_add(&in, SEL(FZ_ZHAO), &m);
	in_write(&in, "server", "zhao_writes_then_pull.bin");

	/* wang: an activity (moves last_activity_at), an opportunity won. */
	mkop(&ops[0], 13, ROVE_OP_CREATE, ROVE_COLL_ACTIVITY, 14);
	set_s(&ops[0], "customer", c1);
	set_s(&ops[0], "kind", "call");
	set_s(&ops[0], "at", "2099-01-01T08:30Z");
	mkop(&ops[1], 14, ROVE_OP_UPDATE, ROVE_COLL_OPPORTUNITY, FZ_ID_OPP);
	set_s(&ops[1], "stage", "won");
	set_s(&ops[1], "closed_on", "2024-05-20");
	push_msg(&m, "wang", ops, 2);
	in_add(&in, SEL(FZ_WANG), &m);
	in_write(&in, "server", "wang_activity_won.bin");

	/* admin: a duplicate tax id; the seeded op pushed again (seen). */
	mkop(&ops[0], 15, ROVE_OP_CREATE, ROVE_COLL_CUSTOMER, 15);
	set_s(&ops[0], "name", "Acme Copy");
	set_s(&ops[0], "tax_id", "91310000MA1FL0001R");
	set_s(&ops[0], "territory", "west");
	push_msg(&m, "admin", ops, 1);
	in_add(&in, SEL(FZ_ADMIN), &m);
	in_write(&in, "server", "admin_duplicate.bin");
	mkop(&ops[0], 0, ROVE_OP_CREATE, ROVE_COLL_CUSTOMER, FZ_ID_C1);
	fz_seed_opid(&ops[0].op_id, 0);
	set_s(&ops[0], "name", "Acme");
	push_msg(&m, "wang", ops, 1);
	in_add(&in, SEL(FZ_WANG), &m);
	in_write(&in, "server", "wang_seen.bin");

	/* As is: the message's own (wrong) credentials; a wrong token. */
	push_msg(&m, "wang", ops, 1);
	in_add(&in, SEL(FZ_AS_IS), &m);
	in_write(&in, "server", "as_is_push.bin");
	pull_msg(&m, "wang", 0, 0, NULL, 0, 0, 0);
	in_add(&in, SEL(FZ_BAD), &m);
	in_write(&in, "server", "bad_token_pull.bin");

	/* Pulls: ops for the analyst, snapshot resumes. */
	pull_msg(&m, "qian", 3, 0, NULL, 0, 1, 0);
	in_add(&in, SEL(FZ_QIAN), &m);
	in_write(&in, "server", "qian_pull_ops.bin");
	rec_key(key, ROVE_COLL_CUSTOMER, FZ_ID_C1);
	pull_msg(&m, "admin", 0, 20, key, 17, 0, 3);
	in_add(&in, SEL(FZ_ADMIN), &m);
	in_write(&in, "server", "admin_pull_resume.bin");
	key[0] = 0;
	key[1] = 1;
	rec_key(key + 2, ROVE_COLL_CUSTOMER, FZ_ID_C1);
	pull_msg(&m, "wang", 0, 20, key, 19, 1, 1);
	in_add(&in, SEL(FZ_WANG), &m);
	in_write(&in, "server", "wang_pull_resume.bin");
	pull_msg(&m, "li", 0, 0, NULL, 0, 0, 1);
	in_add(&in, SEL(FZ_LI), &m);
	in_write(&in, "server", "li_pull_chunked.bin");

	conflicts_msg(&m, "admin", 0, 0);
	in_add(&in, SEL(FZ_ADMIN), &m);
	conflicts_msg(&m, "zhao", 0, 1);
	in_add(&in, SEL(FZ_ZHAO), &m);
	in_write(&in, "server", "conflicts.bin");

	/* Admin commands. */
	{
		const char *add[] = {"sun", "rep", "east.sh", "west"};
		const char *terr[] = {"east.sh.pd", "Pudong", "east.sh"};
		const char *set[] = {"west", "name=Far West", "pool_limit=2", "release_reason=0"};
		const char *assign[] = {"wang", "west"};
		const char *unassign[] = {"li", "east.bj"};
		const char *rc[] = {c1, "li"};
		const char *rt[] = {"east.sh", "wang", "li"};
		admin_msg(&m, "admin", "user.add", add, 4);
		in_add(&in, SEL(FZ_ADMIN), &m);
		admin_msg(&m, "admin", "territory.add", terr, 3);
		in_add(&in, SEL(FZ_ADMIN), &m);
		admin_msg(&m, "admin", "territory.set", set, 4);
		in_add(&in, SEL(FZ_ADMIN), &m);
		in_write(&in, "server", "admin_setup.bin");
		admin_msg(&m, "admin", "assign", assign, 2);
		in_add(&in, SEL(FZ_ADMIN), &m);
		admin_msg(&m, "admin", "unassign", unassign, 2);
		in_add(&in, SEL(FZ_ADMIN), &m);
		pull_msg(&m, "li", 5, 0, NULL, 0, 1, 0);
		in_add(&in, SEL(FZ_LI), &m);
		in_write(&in, "server", "admin_assign_unassign.bin");
		admin_msg(&m, "zhao", "reassign.customer", rc, 2);
		in_add(&in, SEL(FZ_ZHAO), &m);
		in_write(&in, "server", "zhao_reassign_customer.bin");
		admin_msg(&m, "admin", "reassign.territory", rt, 3);
		in_add(&in, SEL(FZ_ADMIN), &m);
		pull_msg(&m, "li", 5, 0, NULL, 0, 2, 0);
		in_add(&in, SEL(FZ_LI), &m);
		in_write(&in, "server", "admin_reassign_territory.bin");
		admin_msg(&m, "wang", "user.add", add, 2);
		in_add(&in, SEL(FZ_WANG), &m);
		in_write(&in, "server", "wang_not_admin.bin");
	}

	/* Recycling: a rule that makes C1 (idle since 2024-05-01) due, or
	 * due for a warning; then the periodic rules; then wang pulls. */
	{
		const char *due[] = {"east.sh", "recycle_days=1", "warn_days=0"};
		const char *warn[] = {"east.sh", "recycle_days=50000", "warn_days=49999"};
		admin_msg(&m, "admin", "territory.set", due, 3);
		in_add(&in, SEL(FZ_ADMIN), &m);
		in_add_raw(&in, BUILT(15, 0), NULL, 0);
		pull_msg(&m, "wang", 5, 0, NULL, 0, 1, 0);
		in_add(&in, SEL(FZ_WANG), &m);
		in_write(&in, "server", "recycle_tick.bin");
		admin_msg(&m, "admin", "territory.set", warn, 3);
		in_add(&in, SEL(FZ_ADMIN), &m);
		in_add_raw(&in, BUILT(15, 0), NULL, 0);
		in_add_raw(&in, BUILT(15, 0), NULL, 0);
		in_write(&in, "server", "recycle_warning_tick.bin");
	}

	/* Not requests, not messages. */
	rove_buf_reset(&m);
	ok(rove_enc_error(&m, ROVE_EPROTO, "x"), "error");
	in_add(&in, SEL(FZ_ADMIN), &m);
	in_add_raw(&in, SEL(FZ_WANG), (const uint8_t *)"\x96\x01\x02", 3);
	in_write(&in, "server", "not_requests.bin");

	/* Described requests (see fuzz_server.c). */
	{
		/* PUSH of 2 ops: create a customer in east.sh, claim C2. */
		const uint8_t push[] = {
			/* 2 ops; each: kind-1, coll, record (0 fresh), stamp (1 now),
			 * op id (2 fresh), fields; each field: name, 3 (text), text */
			1,
			ROVE_OP_CREATE - 1, ROVE_COLL_CUSTOMER, 0, 1, 2, 2,
			(uint8_t)fz_field_index("name"), 3, (uint8_t)fz_str_index("Acme"),
			(uint8_t)fz_field_index("territory"), 3, (uint8_t)fz_str_index("east.sh"),
			ROVE_OP_CLAIM - 1, ROVE_COLL_CUSTOMER, FZ_ID_C2, 1, 2, 0,
		};
		const uint8_t child[] = {
			0, ROVE_OP_CREATE - 1, ROVE_COLL_OPPORTUNITY, 0, 1, 2, 3,
			(uint8_t)fz_field_index("customer"), 3, (uint8_t)(fz_str_index(c1)),
			(uint8_t)fz_field_index("title"), 3, (uint8_t)fz_str_index("Acme"),
			(uint8_t)fz_field_index("amount"), 2, 0, 0, 0, 0, 0, 1, 0, 0,
		};
		const uint8_t pull[] = {3, 0, 0, 1, 2};
		const uint8_t conflicts[] = {0, 1};
		const uint8_t admin[] = {5, 2, 0, FZ_STR_ID + FZ_ID_C2, 0, (uint8_t)fz_str_index("wang")};
		in_add_raw(&in, BUILT(0, FZ_WANG), push, sizeof(push));
		in_add_raw(&in, BUILT(0, FZ_WANG), child, sizeof(child));
		in_add_raw(&in, BUILT(8, FZ_WANG), pull, sizeof(pull));
		in_write(&in, "server", "built_push_pull.bin");
		in_add_raw(&in, BUILT(10, FZ_ZHAO), conflicts, sizeof(conflicts));
		in_add_raw(&in, BUILT(12, FZ_ADMIN), admin, sizeof(admin));
		in_add_raw(&in, BUILT(15, 0), NULL, 0);
		in_write(&in, "server", "built_conflicts_admin_tick.bin");
	}
	rove_buf_free(&m);
}

/* ---- client ---- */

static void gen_client(void)
{
	input in;
	rove_buf m, items;
	char c1[ROVE_UUID_STRLEN + 1];
	uint8_t key[17];

	in_init(&in);
	rove_buf_init(&m);
	rove_buf_init(&items);
	idstr(c1, FZ_ID_C1);

	/* A new snapshot in two chunks. */
	rove_buf_reset(&items);
	mkrec(&rec, ROVE_COLL_CUSTOMER, FZ_ID_C1);
	rec_s(&rec, "name", "Acme Renamed", FZ_HLC + 100);
	rec_s(&rec, "owner", "wang", FZ_HLC);
	rec_s(&rec, "territory", "east.sh", FZ_HLC);
	item_record(&items, &rec);
	mkrec(&rec, ROVE_COLL_CUSTOMER, FZ_ID_C3);
	rec_s(&rec, "name", "Beijing Ltd", FZ_HLC);
	rec_i(&rec, "_deleted", 0, FZ_HLC);
	item_record(&items, &rec);
	rec_key(key, ROVE_COLL_CUSTOMER, FZ_ID_C3);
	pull_reply_msg(&m, "rep", ROVE_PULL_SNAPSHOT, 20, 0, 20, key, 17, 2, true, true, 2, &items);
	in_add(&in, 0, &m);
	in_write(&in, "client", "snapshot_first_chunk.bin");
	in_add(&in, 0, &m);
	rove_buf_reset(&items);
	mkrec(&rec, ROVE_COLL_CONTACT, FZ_ID_CONTACT);
	rec_s(&rec, "customer", c1, FZ_HLC);
	rec_s(&rec, "name", "Chen Jing", FZ_HLC);
	item_record(&items, &rec);
	pull_reply_msg(&m, "rep", ROVE_PULL_SNAPSHOT, 20, 20, 20, NULL, 0, 2, false, false, 1, &items);
	in_add(&in, 0, &m);
	in_write(&in, "client", "snapshot_two_chunks.bin");

	/* Ops after the cursor, past the acknowledged op (12), an evict. */
	rove_buf_reset(&items);
	mkop(&ops[0], 1, ROVE_OP_UPDATE, ROVE_COLL_CUSTOMER, FZ_ID_C1);
	set_s(&ops[0], "phone", "13800138000");
	ops[0].seq = 12;
	snprintf(ops[0].author, sizeof(ops[0].author), "wang");
	item_op(&items, &ops[0]);
	{
		rove_uuid id;
		fz_id(&id, FZ_ID_C2);
		ok(rove_enc_entry_evict(&items, ROVE_COLL_CUSTOMER, &id), "evict");
		fz_id(&id, FZ_ID_CONTACT);
		ok(rove_enc_entry_evict(&items, ROVE_COLL_CONTACT, &id), "evict");
	}
	pull_reply_msg(&m, "rep", ROVE_PULL_OPS, 14, 14, 0, NULL, 0, 1, false, false, 3, &items);
	in_add(&in, 0, &m);
	in_write(&in, "client", "ops_trim_evict.bin");

	/* A role change; a stamp near the end of time (at its very end, see
	 * corpus/client/fixed-hlc-wraps-to-zero.bin). */
	rove_buf_reset(&items);
	mkop(&ops[0], 2, ROVE_OP_UPDATE, ROVE_COLL_CUSTOMER, FZ_ID_C2);
	ops[0].st.hlc.v = UINT64_MAX - 0x10000;
	set_s(&ops[0], "name", "Future Co");
	item_op(&items, &ops[0]);
	pull_reply_msg(&m, "manager", ROVE_PULL_OPS, 11, 11, 0, NULL, 0, 1, false, false, 1, &items);
	in_add(&in, 0, &m);
	in_write(&in, "client", "ops_role_far_stamp.bin");

	/* Answers to the three unacknowledged ops (fz_client_opid 1-3). */
	{
		rove_push_result res[3];
		rove_uuid id;
		fz_client_opid(&id, 1);
		res[0] = result(&id, ROVE_PUSH_ACCEPTED, 13, ROVE_R_NONE, "");
		fz_client_opid(&id, 2);
		res[1] = result(&id, ROVE_PUSH_REJECTED, 0, ROVE_R_INVALID, "no customer");
		fz_client_opid(&id, 3);
		res[2] = result(&id, ROVE_PUSH_ACCEPTED, 14, ROVE_R_NONE, "");
		rove_buf_reset(&m);
		ok(rove_enc_push_reply(&m, 0x5e, &fz_run, res, 3), "push reply");
		in_add(&in, 0, &m);
		in_write(&in, "client", "push_reply.bin");
		in_add(&in, 0, &m);
		pull_reply_msg(&m, "rep", ROVE_PULL_OPS, 14, 14, 0, NULL, 0, 1, false, false, 0, NULL);
		in_add(&in, 0, &m);
		in_write(&in, "client", "push_reply_then_pull.bin");

		/* The new customer (op 1) accepted with what the server set
		 * (its kept list), then named back by reference (MINE). */
		{
			rove_buf kept;
			rove_op pushed, as_kept;
			bool known;
			rove_uuid rid;
			rove_buf_init(&kept);
			memset(&pushed, 0, sizeof(pushed));
			rove_fields_init(&pushed.fs);
			set_s(&pushed, "name", "New Co");
			as_kept = pushed;
			rove_fields_copy(&as_kept.fs, &pushed.fs);
			set_s(&as_kept, "owner", "wang");
			set_s(&as_kept, "created_at", "2024-05-02T17:30:04Z");
			ok(rove_enc_kept(&kept, &pushed.fs, &as_kept.fs, &known), "kept");
			res[0].kept_known = known;
			res[0].kept = (const uint8_t *)kept.data;
			res[0].keptlen = (uint32_t)kept.len;
			rove_buf_reset(&m);
			ok(rove_enc_push_reply(&m, 0x5e, &fz_run, res, 3), "push reply");
			in_add(&in, 0, &m);
			rove_buf_reset(&items);
			fz_id(&rid, 7);
			fz_client_opid(&id, 1);
			ok(rove_enc_entry_mine(&items, ROVE_COLL_CUSTOMER, &rid, 13, &id), "mine");
			pull_reply_msg(&m, "rep", ROVE_PULL_OPS, 14, 14, 0, NULL, 0, 1, false, false, 1, &items);
			in_add(&in, 0, &m);
			in_write(&in, "client", "push_reply_kept_then_mine.bin");
			res[0].kept_known = false;
			rove_buf_free(&kept);
		}

		memset(&id, 0, sizeof(id));
		res[0] = result(&id, ROVE_PUSH_REJECTED, 0, ROVE_R_NOT_OWNER, "the customer belongs to someone else");
		res[1] = result(&id, ROVE_PUSH_ACCEPTED, 0, ROVE_R_NONE, "");
		rove_buf_reset(&m);
		ok(rove_enc_push_reply(&m, 0x5e, &fz_run, res, 2), "push reply");
		in_add(&in, 3, &m);
		in_write(&in, "client", "push_reply_short_aligned.bin");
	}

	rove_buf_reset(&m);
	ok(rove_enc_error(&m, ROVE_EAUTH, "authentication failed"), "error");
	in_add(&in, 0, &m);
	{
		const char *lines[] = {"42"};
		rove_buf_reset(&m);
		ok(rove_enc_admin_reply(&m, lines, 1), "admin reply");
		in_add(&in, 0, &m);
	}
	{
		rove_buf tmp;
		rove_buf_init(&tmp);
		rove_buf_reset(&items);
		mkop(&ops[0], 3, ROVE_OP_UPDATE, ROVE_COLL_CUSTOMER, FZ_ID_C4);
		ok(rove_enc_op(&tmp, &ops[0]), "op");
		ok(rove_enc_conflict_raw(&items, 3, 1714671004672ull, ROVE_R_NOT_OWNER, "", 0, tmp.data, tmp.len),
		   "conflict");
		ok(rove_enc_conflict_raw(&items, 2, 1714671004672ull, ROVE_R_LIMIT, "", 0, tmp.data, tmp.len),
		   "conflict");
		rove_buf_reset(&m);
		ok(rove_enc_conflicts_reply(&m, false, 2, &items), "conflicts reply");
		in_add(&in, 0, &m);
		rove_buf_free(&tmp);
	}
	in_write(&in, "client", "error_admin_conflicts.bin");

	rove_buf_free(&m);
	rove_buf_free(&items);
}

int main(int argc, char **argv)
{
	char path[1024];

	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_gen_corpus DIR\n");
		return 2;
	}
	outdir = argv[1];
	mkdir_p(outdir);
	for (int i = 0; i < 3; i++) {
		static const char *const subs[] = {"proto", "server", "client"};
		snprintf(path, sizeof(path), "%s/%s", outdir, subs[i]);
		mkdir_p(path);
	}
	gen_proto();
	gen_server();
	gen_client();
	printf("fuzz_gen_corpus: %d files in %s\n", nfiles, outdir);
	return 0;
}
