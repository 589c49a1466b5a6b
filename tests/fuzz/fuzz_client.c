/*
 * fuzz_client.c - libFuzzer harness for the client's handling of server
 * replies: what sync.c does with a reply, against a real replica.
 *
 * The replica. On the first run the harness creates a replica for user
 * wang in a temporary directory and gives it some history: a snapshot
 * (customers C1 and C2, a contact of C1) applied with
 * rove_replica_apply_pull, then four local ops with fixed op ids
 * (fz_client_opid 0-3: an update of C1, a new customer, a contact of it, a
 * delete of C2), of which the first is acknowledged (sequence 12) with
 * rove_replica_push_results. It is kept in memory and written back (in
 * one transaction) before every run, so an input always means the same
 * and a crash replays alone.
 *
 * An input is up to 8 replies separated by the byte 0xc1, applied in
 * order. Each is a selector byte S and a reply message, decoded as
 * sync.c's conn_recv does (pull replies lazily), then:
 *   PULL_REPLY       rove_replica_apply_pull
 *   PUSH_REPLY       the results, against the replica's unacknowledged
 *                    ops (rove_replica_unacked, at most 8), go to
 *                    rove_replica_push_results. sync.c refuses a reply
 *                    with another count; with S & 2 the harness passes
 *                    the first min(count, ops) instead. With S & 1 every
 *                    result carries its op's id (a server answering the
 *                    right ops with anything else fuzzed).
 *   CONFLICTS_REPLY  its conflicts, read as rove_conflicts_fetch does
 *   ADMIN_REPLY      its lines
 *   ERROR            nothing more
 * None of this may crash or leak, or leave the replica corrupt: after the
 * replies, every read of the replica must succeed; every record the user
 * sees (rove_replica_get, rove_replica_each) must be the server's record
 * (base) merged with the outbox's ops on it, both read straight from LMDB
 * as replica.h lays them out; a new local op must be stamped later than
 * the replica's clock was; then the replica is closed, must open again,
 * and every read must succeed again.
 */
#include "db.h"
#include "err.h"
#include "fuzz_common.h"
#include "fuzz_db.h"
#include "hash.h"
#include "log.h"
#include "proto.h"
#include "replica.h"
#include "schema.h"

#include <sanitizer/common_interface_defs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail_cleanup(void);

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "fuzz_client: %s:%d: check failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                        \
			fail_cleanup();                                                        \
			abort();                                                               \
		}                                                                              \
	} while (0)

#define MAX_OPS 8

static rove_replica rep;
static bool ready;
static char dir[256];
static fz_snap tmpl; /* the seeded replica */

static void die(const char *what, int rc)
{
	fprintf(stderr, "fuzz_client: %s: %s\n", what, rove_strerror(rc));
	fail_cleanup();
	abort();
}

static void replica_open(void)
{
	int rc = rove_replica_open(dir, &rep);

	if (rc != ROVE_OK)
		die("the replica does not open", rc);
	mdb_env_set_flags(rep.env, MDB_NOSYNC, 1);
}

static void replica_dbis(MDB_dbi out[FZ_REPLICA_DBIS])
{
	const MDB_dbi d[FZ_REPLICA_DBIS] = {rep.meta,   rep.bases[0], rep.bases[1], rep.view,
					    rep.outbox, rep.pending,  rep.rejected, rep.journal};

	memcpy(out, d, sizeof(d));
}

static void restore(void)
{
	MDB_dbi dbis[FZ_REPLICA_DBIS];

	replica_dbis(dbis);
	fz_snap_restore(&tmpl, rep.env, dbis);
}

/* At exit: the replica closed, the temporary directory removed. */
static void cleanup(void)
{
	if (!ready)
		return;
	rove_replica_close(&rep);
	fz_rm_tree(dir);
	fz_snap_free(&tmpl);
	ready = false;
}

/* On a failed check or a sanitizer's report: the directory removed (the
 * input is what libFuzzer keeps), the replica left as it is. */
static void fail_cleanup(void)
{
	if (dir[0] != '\0')
		fz_rm_tree(dir);
}

/* ---- handling one reply ---- */

/* Errors that mean the replica broke, not that the reply was refused. */
static bool internal_error(int rc)
{
	return rc == ROVE_EDB || rc == ROVE_EMAPFULL || rc == ROVE_EIO || rc == ROVE_ENOMEM;
}

/* The head of op, as a push keeps it to match the answers. */
static rove_op_head head_of(const rove_op *op)
{
	rove_op_head h = {op->op_id, op->kind, op->coll, op->rid, op->st, op->seq};

	return h;
}

static void on_push_reply(rove_msg *m, uint8_t sel)
{
	static rove_op ops[MAX_OPS];
	static rove_op_head heads[MAX_OPS];
	rove_push_result res[MAX_OPS];
	uint32_t n = 0, k, acc, rej;
	int rc = rove_replica_unacked(&rep, ops, MAX_OPS, &n);

	CHECK(rc == ROVE_OK);
	k = m->u.push_reply.n;
	if (k != n && !(sel & 2))
		return; /* sync.c: "the server answered k of n ops" */
	if (k > n)
		k = n;
	for (uint32_t i = 0; i < k; i++) {
		CHECK(rove_msg_next_result(m, &res[i]) == ROVE_OK);
		if (sel & 1)
			res[i].op_id = ops[i].op_id;
	}
	for (uint32_t i = 0; i < k; i++)
		heads[i] = head_of(&ops[i]);
	rc = rove_replica_push_results(&rep, m->u.push_reply.server, &m->u.push_reply.run, &m->u.push_reply.clock,
				       heads, res, k, &acc, &rej);
	if (internal_error(rc))
		die("rove_replica_push_results", rc);
	CHECK(acc + rej <= k);
}

static void on_conflicts_reply(rove_msg *m)
{
	static rove_conflict c;
	uint64_t after = 0;
	int rc;

	while ((rc = rove_msg_next_conflict(m, &c)) == ROVE_OK) {
		if (c.n <= after)
			break; /* rove_conflicts_fetch: the list must move forward */
		after = c.n;
	}
	CHECK(rc == ROVE_OK || rc == ROVE_ENOTFOUND);
}

static void handle(const uint8_t *body, size_t len, uint8_t sel)
{
	uint8_t *copy = malloc(len ? len : 1);
	rove_msg m;
	const char *s;
	uint32_t slen, items;
	int rc;

	CHECK(copy != NULL);
	if (len > 0)
		memcpy(copy, body, len);
	/* As sync.c's conn_recv: pull replies are decoded lazily, their
	 * items validated as they are applied. */
	rc = rove_msg_decode_lazy(copy, len, &m);
	if (rc == ROVE_OK && m.type != ROVE_MSG_PULL_REPLY)
		rc = rove_msg_decode(copy, len, &m);
	if (rc == ROVE_OK) {
		switch (m.type) {
		case ROVE_MSG_PULL_REPLY:
			rc = rove_replica_apply_pull(&rep, &m, &items);
			if (internal_error(rc))
				die("rove_replica_apply_pull", rc);
			/* A reply the strict decoder refuses is never applied;
			 * one it accepts is never called malformed. */
			if (rove_msg_decode(copy, len, &m) != ROVE_OK) {
				if (rc == ROVE_OK)
					die("a malformed pull reply was applied", rc);
			} else if (rc == ROVE_EPROTO) {
				die("rove_replica_apply_pull", rc);
			}
			break;
		case ROVE_MSG_PUSH_REPLY:
			on_push_reply(&m, sel);
			break;
		case ROVE_MSG_CONFLICTS_REPLY:
			on_conflicts_reply(&m);
			break;
		case ROVE_MSG_ADMIN_REPLY:
			while (rove_msg_next_str(&m, &s, &slen) == ROVE_OK)
				;
			CHECK(m.left == 0);
			break;
		default:
			break; /* an error, or not a reply: sync.c stops there */
		}
	}
	free(copy);
}

/* ---- the replica must stay whole ---- */

static int count_record(const rove_record *rec, void *arg)
{
	CHECK(!rove_record_deleted(rec));
	(*(uint64_t *)arg)++;
	return ROVE_OK;
}

static int count_rejection(const rove_rejection *rj, const rove_rejection_state *st, void *arg)
{
	(void)st;
	(void)rj;
	(*(uint64_t *)arg)++;
	return ROVE_OK;
}

static void check_replica(void)
{
	static rove_op ops[MAX_OPS];
	rove_pull_state ps;
	rove_replica_status st;
	uint64_t n = 0, nrej = 0;
	uint32_t nops;
	int rc;

	rc = rove_replica_pull_state(&rep, &ps);
	if (rc != ROVE_OK)
		die("rove_replica_pull_state", rc);
	CHECK(ps.snap_keylen <= ROVE_MAX_SNAP_KEY);
	rc = rove_replica_status_get(&rep, &st);
	if (rc != ROVE_OK)
		die("rove_replica_status_get", rc);
	CHECK(st.cursor == ps.cursor);
	for (unsigned coll = 0; coll <= 11; coll++) {
		rc = rove_replica_each(&rep, (uint8_t)coll, count_record, &n);
		if (rc != ROVE_OK)
			die("rove_replica_each", rc);
	}
	rc = rove_replica_each(&rep, 255, count_record, &n);
	if (rc != ROVE_OK)
		die("rove_replica_each", rc);
	rc = rove_replica_each_rejection(&rep, count_rejection, &nrej, NULL);
	if (rc != ROVE_OK)
		die("rove_replica_each_rejection", rc);
	CHECK(nrej == st.rejected);
	rc = rove_replica_unacked(&rep, ops, MAX_OPS, &nops);
	if (rc != ROVE_OK)
		die("rove_replica_unacked", rc);
	CHECK(nops <= st.pending);
}

/* ---- view = base + outbox ---- */

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, ROVE_RECORD_KEY);
}

static bool fields_eq(const rove_fields *a, const rove_fields *b)
{
	if (a->n != b->n)
		return false;
	for (uint32_t i = 0; i < a->n; i++) {
		const rove_field *fa = &a->f[i], *fb = &b->f[i];
		if (strcmp(fa->name, fb->name) != 0 || !rove_value_eq(&fa->v, &fb->v) ||
		    rove_stamp_cmp(&fa->st, &fb->st) != 0)
			return false;
	}
	return true;
}

/* The record at key in dbi, or an empty one. */
static void get_or_empty(MDB_txn *txn, MDB_dbi dbi, const uint8_t *key, rove_record *rec)
{
	MDB_val k = {ROVE_RECORD_KEY, (void *)key}, v;
	int rc = mdb_get(txn, dbi, &k, &v);

	if (rc == MDB_NOTFOUND) {
		rec->coll = key[0];
		memcpy(rec->id.b, key + 1, 16);
		rove_fields_init(&rec->fs);
		return;
	}
	CHECK(rc == 0);
	CHECK(rove_dec_record(v.mv_data, v.mv_size, rec) == ROVE_OK);
	CHECK(rec->coll == key[0] && memcmp(rec->id.b, key + 1, 16) == 0);
}

/* Adds the record keys of dbi (the first 17 bytes of its keys). */
static void collect_keys(MDB_txn *txn, MDB_dbi dbi, uint8_t **keys, size_t *n, size_t *cap)
{
	MDB_cursor *c;
	MDB_val k, v;
	int mrc;

	CHECK(mdb_cursor_open(txn, dbi, &c) == 0);
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0; mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		CHECK(k.mv_size >= ROVE_RECORD_KEY);
		if (*n == *cap) {
			*cap = *cap ? 2 * *cap : 64;
			*keys = realloc(*keys, *cap * ROVE_RECORD_KEY);
			CHECK(*keys != NULL);
		}
		memcpy(*keys + *n * ROVE_RECORD_KEY, k.mv_data, ROVE_RECORD_KEY);
		(*n)++;
	}
	CHECK(mrc == MDB_NOTFOUND);
	mdb_cursor_close(c);
}

static int count_coll(const rove_record *rec, void *arg)
{
	(void)rec;
	(*(uint64_t *)arg)++;
	return ROVE_OK;
}

/* Outbox entry k/v's op, read as replica format 5 lays it out (an
 * answer's number, a sum, the op), its sum checked here apart from the
 * replica's code: FNV-1a of key, answer and op from the outbox's basis. */
static void outbox_op(const MDB_val *k, const MDB_val *v, rove_op *op)
{
	const uint8_t *p = v->mv_data;
	uint64_t h;

	CHECK(k->mv_size == 8 && v->mv_size > 16);
	h = rove_fnv1a(ROVE_FNV_BASIS ^ 0x6f7574626f78ull, k->mv_data, 8);
	h = rove_fnv1a(h, p, 8);
	h = rove_fnv1a(h, p + 16, v->mv_size - 16);
	CHECK(rove_be64_get(p + 8) == h);
	CHECK(rove_dec_op(p + 16, v->mv_size - 16, op) == ROVE_OK);
}

/* What the user sees is base + outbox, record by record. */
static void check_view(void)
{
	static rove_record want, got;
	static rove_op op;
	uint64_t visible[256] = {0};
	uint8_t *keys = NULL;
	size_t n = 0, cap = 0;
	MDB_txn *txn;

	CHECK(mdb_txn_begin(rep.env, NULL, MDB_RDONLY, &txn) == 0);
	collect_keys(txn, rep.base, &keys, &n, &cap);
	collect_keys(txn, rep.view, &keys, &n, &cap);
	collect_keys(txn, rep.pending, &keys, &n, &cap);
	if (n > 0)
		qsort(keys, n, ROVE_RECORD_KEY, key_cmp);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *key = keys + i * ROVE_RECORD_KEY;
		uint8_t pk[ROVE_RECORD_KEY + 8];
		MDB_cursor *c;
		MDB_val k, v;
		bool merged = true;
		rove_uuid id;
		int mrc, rc;

		if (i > 0 && memcmp(key, keys + (i - 1) * ROVE_RECORD_KEY, ROVE_RECORD_KEY) == 0)
			continue;
		get_or_empty(txn, rep.base, key, &want);
		/* The outbox's ops on this record, through the pending index. */
		memcpy(pk, key, ROVE_RECORD_KEY);
		memset(pk + ROVE_RECORD_KEY, 0, 8);
		k.mv_size = sizeof(pk);
		k.mv_data = pk;
		CHECK(mdb_cursor_open(txn, rep.pending, &c) == 0);
		for (mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		     mrc == 0 && k.mv_size == sizeof(pk) && memcmp(k.mv_data, key, ROVE_RECORD_KEY) == 0;
		     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			MDB_val ok = {8, (uint8_t *)k.mv_data + ROVE_RECORD_KEY}, ov;
			CHECK(mdb_get(txn, rep.outbox, &ok, &ov) == 0);
			outbox_op(&ok, &ov, &op);
			CHECK(op.coll == key[0] && memcmp(op.rid.b, key + 1, 16) == 0);
			/* A merge over the size limit in this order says nothing. */
			if (merged && rove_merge(&want.fs, &op.fs, NULL) != ROVE_OK)
				merged = false;
		}
		mdb_cursor_close(c);
		memcpy(id.b, key + 1, 16);
		rc = rove_replica_get(&rep, key[0], &id, &got);
		if (rc == ROVE_OK)
			visible[key[0]]++;
		if (!merged)
			continue;
		if (want.fs.n == 0 || rove_record_deleted(&want)) {
			/* Nothing to see (an empty record may still be listed). */
			CHECK(rc == ROVE_ENOTFOUND || (rc == ROVE_OK && got.fs.n == 0));
		} else if (rc != ROVE_OK || !fields_eq(&want.fs, &got.fs)) {
			char ids[ROVE_UUID_STRLEN + 1];
			rove_uuid_format(&id, ids);
			fprintf(stderr, "fuzz_client: %u/%s: the user sees %s%u fields, base + outbox has %u\n", key[0],
				ids, rc == ROVE_OK ? "" : "nothing, not even ", rc == ROVE_OK ? got.fs.n : 0,
				want.fs.n);
			CHECK(!"what the user sees is base + outbox");
		}
	}
	mdb_txn_abort(txn);
	/* rove_replica_each lists exactly what rove_replica_get finds. */
	for (unsigned coll = 0; coll < 256; coll++) {
		uint64_t listed = 0;
		bool any = false;
		for (size_t i = 0; i < n && !any; i++)
			any = keys[i * ROVE_RECORD_KEY] == coll;
		if (!any)
			continue;
		CHECK(rove_replica_each(&rep, (uint8_t)coll, count_coll, &listed) == ROVE_OK);
		CHECK(listed == visible[coll]);
	}
	free(keys);
}

/* A local op after the replies is stamped later than the clock was (the
 * stamp is read back from the outbox's last entry). */
static void check_clock(void)
{
	static rove_op op;
	uint64_t before = 0;
	rove_uuid rid;
	rove_stamp st = {{0}, 0};
	MDB_cursor *c;
	MDB_val k, v;
	MDB_txn *txn;
	int rc;

	CHECK(mdb_txn_begin(rep.env, NULL, MDB_RDONLY, &txn) == 0);
	rc = rove_db_get_u64(txn, rep.meta, "hlc", &before);
	CHECK(rc == ROVE_OK || rc == ROVE_ENOTFOUND);
	mdb_txn_abort(txn);
	fz_id(&rid, FZ_ID_C1);
	rove_op_init(&op, ROVE_OP_UPDATE, ROVE_COLL_CUSTOMER, &rid, st);
	fz_client_opid(&op.op_id, 9);
	CHECK(rove_op_set(&op, "note", rove_vcstr("written after the replies")) == ROVE_OK);
	rc = rove_replica_write(&rep, &op);
	if (rc != ROVE_OK)
		die("rove_replica_write", rc);
	CHECK(mdb_txn_begin(rep.env, NULL, MDB_RDONLY, &txn) == 0);
	CHECK(mdb_cursor_open(txn, rep.outbox, &c) == 0);
	CHECK(mdb_cursor_get(c, &k, &v, MDB_LAST) == 0);
	outbox_op(&k, &v, &op);
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	CHECK(op.op_id.b[15] == 9 && op.op_id.b[0] == 0x60);
	if (op.st.hlc.v <= before) {
		fprintf(stderr, "fuzz_client: a local op got stamp %#llx, not after the clock %#llx\n",
			(unsigned long long)op.st.hlc.v, (unsigned long long)before);
		CHECK(!"the clock moves forward");
	}
}

/* ---- the template replica ---- */

static void seed_op(rove_op *op, unsigned n, uint8_t kind, uint8_t coll, unsigned id)
{
	rove_uuid rid;
	rove_stamp st = {{0}, 0};

	fz_id(&rid, id);
	rove_op_init(op, kind, coll, &rid, st);
	fz_client_opid(&op->op_id, n);
}

static void seed(void)
{
	static const rove_uuid run; /* the server's run: any */
	static rove_record rec;
	static rove_op op;
	rove_op_head head;
	rove_pull_reply h;
	rove_push_result res;
	rove_buf items, tmp, msg;
	rove_stamp st = {{FZ_HLC}, FZ_NODE};
	char c1[ROVE_UUID_STRLEN + 1], c7[ROVE_UUID_STRLEN + 1];
	rove_msg m;
	uint32_t got, acc, rej;
	uint8_t *copy;

	fz_id_str(c1, FZ_ID_C1);
	rove_buf_init(&items);
	rove_buf_init(&tmp);
	rove_buf_init(&msg);

	/* A snapshot: C1 with a contact, and C2 in the pool. */
	memset(&h, 0, sizeof(h));
	snprintf(h.role, sizeof(h.role), "rep");
	h.mode = ROVE_PULL_SNAPSHOT;
	h.head = 10;
	h.cursor = 10;
	h.snap_seq = 10;
	h.epoch = 1;
	h.reset = true;
	rec.coll = ROVE_COLL_CUSTOMER;
	fz_id(&rec.id, FZ_ID_C1);
	rove_fields_init(&rec.fs);
	CHECK(rove_fields_set(&rec.fs, "name", rove_vcstr("Acme"), st) == ROVE_OK);
	CHECK(rove_fields_set(&rec.fs, "owner", rove_vcstr("wang"), st) == ROVE_OK);
	CHECK(rove_fields_set(&rec.fs, "territory", rove_vcstr("east.sh"), st) == ROVE_OK);
	CHECK(rove_enc_record(&tmp, &rec) == ROVE_OK);
	CHECK(rove_enc_entry_record_raw(&items, tmp.data, tmp.len) == ROVE_OK);
	fz_id(&rec.id, FZ_ID_C2);
	rove_fields_init(&rec.fs);
	CHECK(rove_fields_set(&rec.fs, "name", rove_vcstr("Pool Co"), st) == ROVE_OK);
	CHECK(rove_fields_set(&rec.fs, "territory", rove_vcstr("east.sh"), st) == ROVE_OK);
	rove_buf_reset(&tmp);
	CHECK(rove_enc_record(&tmp, &rec) == ROVE_OK);
	CHECK(rove_enc_entry_record_raw(&items, tmp.data, tmp.len) == ROVE_OK);
	rec.coll = ROVE_COLL_CONTACT;
	fz_id(&rec.id, FZ_ID_CONTACT);
	rove_fields_init(&rec.fs);
	CHECK(rove_fields_set(&rec.fs, "customer", rove_vcstr(c1), st) == ROVE_OK);
	CHECK(rove_fields_set(&rec.fs, "name", rove_vcstr("Chen Jing"), st) == ROVE_OK);
	rove_buf_reset(&tmp);
	CHECK(rove_enc_record(&tmp, &rec) == ROVE_OK);
	CHECK(rove_enc_entry_record_raw(&items, tmp.data, tmp.len) == ROVE_OK);
	h.n = 3;
	CHECK(rove_enc_pull_reply(&msg, &h, &items) == ROVE_OK);
	copy = malloc(msg.len);
	CHECK(copy != NULL);
	memcpy(copy, msg.data, msg.len);
	CHECK(rove_msg_decode(copy, msg.len, &m) == ROVE_OK);
	CHECK(rove_replica_apply_pull(&rep, &m, &got) == ROVE_OK && got == 3);
	free(copy);

	/* Local ops: fz_client_opid 0-3. */
	seed_op(&op, 0, ROVE_OP_UPDATE, ROVE_COLL_CUSTOMER, FZ_ID_C1);
	CHECK(rove_op_set(&op, "phone", rove_vcstr("13800138000")) == ROVE_OK);
	CHECK(rove_replica_write(&rep, &op) == ROVE_OK);
	seed_op(&op, 1, ROVE_OP_CREATE, ROVE_COLL_CUSTOMER, 7);
	CHECK(rove_op_set(&op, "name", rove_vcstr("New Co")) == ROVE_OK);
	CHECK(rove_replica_write(&rep, &op) == ROVE_OK);
	fz_id_str(c7, 7);
	seed_op(&op, 2, ROVE_OP_CREATE, ROVE_COLL_CONTACT, 8);
	CHECK(rove_op_set(&op, "customer", rove_vcstr(c7)) == ROVE_OK);
	CHECK(rove_op_set(&op, "name", rove_vcstr("Li Na")) == ROVE_OK);
	CHECK(rove_replica_write(&rep, &op) == ROVE_OK);
	seed_op(&op, 3, ROVE_OP_DELETE, ROVE_COLL_CUSTOMER, FZ_ID_C2);
	CHECK(rove_op_set(&op, ROVE_FIELD_DELETED, rove_vint(1)) == ROVE_OK);
	CHECK(rove_replica_write(&rep, &op) == ROVE_OK);

	/* The first is acknowledged: it waits for the cursor to pass 12. */
	CHECK(rove_replica_unacked(&rep, &op, 1, &got) == ROVE_OK && got == 1);
	memset(&res, 0, sizeof(res));
	res.op_id = op.op_id;
	res.status = ROVE_PUSH_ACCEPTED;
	res.seq = 12;
	res.st = op.st;
	head = head_of(&op);
	CHECK(rove_replica_push_results(&rep, 0x5e, &run, NULL, &head, &res, 1, &acc, &rej) == ROVE_OK && acc == 1);

	rove_buf_free(&items);
	rove_buf_free(&tmp);
	rove_buf_free(&msg);
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");
	int rc;

	/* Quiet (results are checked), unless $ROVE_LOG says otherwise. */
	rove_log_init("fuzz_client", -1);
	snprintf(dir, sizeof(dir), "%s/rove-fuzz-client.XXXXXX", tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	CHECK(mkdtemp(dir) != NULL);
	rc = rove_replica_create(dir, "tcp://127.0.0.1:1", "wang", FZ_BAD_TOKEN, NULL);
	if (rc != ROVE_OK)
		die("rove_replica_create", rc);
	replica_open();
	ready = true;
	atexit(cleanup);
	__sanitizer_set_death_callback(fail_cleanup);
	seed();
	check_replica();
	check_view();
	{
		MDB_dbi dbis[FZ_REPLICA_DBIS];
		replica_dbis(dbis);
		fz_snap_take(&tmpl, rep.env, dbis, FZ_REPLICA_DBIS);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_part parts[FZ_MAX_PARTS];
	size_t n;

	if (!ready)
		setup();
	restore();
	n = fz_split(data, size, parts);
	for (size_t i = 0; i < n; i++) {
		if (parts[i].len == 0)
			continue;
		handle(parts[i].p + 1, parts[i].len - 1, parts[i].p[0]);
	}
	check_replica();
	check_view();
	check_clock();
	check_view();
	rove_replica_close(&rep);
	replica_open();
	check_replica();
	return 0;
}
