/*
 * test_replica.c - a replica takes only pull replies that move it forward.
 *
 * Replies are built with the protocol's encoder and applied to a real
 * replica in a temporary directory: a snapshot that starts, continues past
 * its resume key and ends; ops chunks after it; a new snapshot for a new
 * scope epoch. Between them, replies a faulty server could send (the same
 * position again, a resume key or cursor going back, another snapshot, a
 * second reset, a family resume key that does not grow) must be refused
 * with ROVE_EINVAL and leave the stored position as it was.
 */
#include "check.h"
#include "db.h"
#include "err.h"
#include "hlc.h"
#include "log.h"
#include "record.h"
#include "replica.h"
#include "rove_limits.h"
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static rove_replica rep;
/* The server id replies name (0 until a push bound the replica to one). */
static uint64_t reply_server;

/* Applies a reply with this header and items (NULL: none); returns the
 * result. */
static int apply_items(uint8_t mode, bool reset, bool more, uint64_t cursor, uint64_t snap_seq, uint64_t epoch,
		       const char *key, const rove_buf *with)
{
	rove_pull_reply h;
	rove_buf b, items;
	rove_msg m;
	uint32_t n = 0;
	int rc;

	memset(&h, 0, sizeof(h));
	snprintf(h.role, sizeof(h.role), "rep");
	h.mode = mode;
	h.reset = reset;
	h.more = more;
	h.head = 100;
	h.cursor = cursor;
	h.snap_seq = snap_seq;
	h.epoch = epoch;
	h.server = reply_server;
	h.snap_keylen = (uint32_t)strlen(key);
	memcpy(h.snap_key, key, h.snap_keylen);
	rove_buf_init(&b);
	rove_buf_init(&items);
	h.n = with != NULL ? 1 : 0;
	rc = with != NULL ? rove_buf_append(&items, with->data, with->len) : ROVE_OK;
	if (rc == ROVE_OK)
		rc = rove_enc_pull_reply(&b, &h, &items);
	if (rc == ROVE_OK)
		rc = rove_msg_decode_lazy(b.data, b.len, &m);
	if (rc == ROVE_OK)
		rc = rove_replica_apply_pull(&rep, &m, &n);
	rove_buf_free(&b);
	rove_buf_free(&items);
	return rc;
}

static int apply(uint8_t mode, bool reset, bool more, uint64_t cursor, uint64_t snap_seq, uint64_t epoch,
		 const char *key)
{
	return apply_items(mode, reset, more, cursor, snap_seq, epoch, key, NULL);
}

/* Applies an ops reply to cursor with one op, of another replica, on a
 * customer's name stamped hlc; returns the result. */
static int apply_stamped(uint64_t cursor, uint64_t hlc)
{
	rove_op op;
	rove_uuid rid, oid;
	rove_buf raw, entry;
	int rc;

	memset(rid.b, 7, sizeof(rid.b));
	memset(oid.b, (int)(cursor & 0xff), sizeof(oid.b));
	rove_op_init(&op, ROVE_OP_UPDATE, ROVE_COLL_CUSTOMER, &rid, (rove_stamp){{hlc}, 99});
	op.op_id = oid;
	op.seq = cursor;
	snprintf(op.author, sizeof(op.author), "wang");
	rove_op_set(&op, "name", rove_vcstr("Acme"));
	rove_buf_init(&raw);
	rove_buf_init(&entry);
	rc = rove_enc_op(&raw, &op);
	if (rc == ROVE_OK)
		rc = rove_enc_entry_op_raw(&entry, raw.data, raw.len);
	if (rc == ROVE_OK)
		rc = apply_items(ROVE_PULL_OPS, false, false, cursor, 0, 2, "", &entry);
	rove_buf_free(&raw);
	rove_buf_free(&entry);
	return rc;
}

/* Warnings logged while a sink is set: their count and the last one. */
static int warned;
static char last_warning[512];

static void warn_sink(int level, const char *line, void *arg)
{
	(void)arg;
	if (level != ROVE_LOG_WARN)
		return;
	warned++;
	snprintf(last_warning, sizeof(last_warning), "%s", line);
}

/* The replica's clock (meta hlc). */
static uint64_t clock_of(void)
{
	MDB_txn *txn = NULL;
	uint64_t v = 0;

	if (mdb_txn_begin(rep.env, NULL, MDB_RDONLY, &txn) != 0)
		return 0;
	if (rove_db_get_u64(txn, rep.meta, "hlc", &v) != ROVE_OK)
		v = 0;
	mdb_txn_abort(txn);
	return v;
}

static bool same_state(const rove_pull_state *a, const rove_pull_state *b)
{
	return a->cursor == b->cursor && a->snap_seq == b->snap_seq && a->epoch == b->epoch &&
	       a->snap_keylen == b->snap_keylen && memcmp(a->snap_key, b->snap_key, a->snap_keylen) == 0;
}

/* A reply the replica must refuse, leaving its position. */
#define REFUSED(what, ...)                                                       \
	do {                                                                     \
		rove_pull_state before_, after_;                                 \
		int rc_;                                                         \
		CHECK(rove_replica_pull_state(&rep, &before_) == ROVE_OK);       \
		rc_ = apply(__VA_ARGS__);                                        \
		if (rc_ != ROVE_EINVAL)                                          \
			fprintf(stderr, "not refused: %s\n", what);              \
		CHECK(rc_ == ROVE_EINVAL);                                       \
		CHECK(rove_replica_pull_state(&rep, &after_) == ROVE_OK);        \
		CHECK(same_state(&before_, &after_));                            \
	} while (0)

/* The replica's meta key (8 bytes) read into *out, then set to `set` if
 * not 0, through LMDB alone: for a replica rove_replica_open refuses,
 * or to write what a rove that knows the key but not meta snap_end (an
 * older one) writes. */
static int raw_meta_u64(const char *dir, const char *key, uint64_t set, uint64_t *out)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi meta;
	MDB_val k = {strlen(key), (void *)key}, v;
	int rc = mdb_env_create(&env);

	if (rc == 0)
		rc = mdb_env_set_maxdbs(env, 16);
	if (rc == 0)
		rc = mdb_env_open(env, dir, 0, 0600);
	if (rc == 0)
		rc = mdb_txn_begin(env, NULL, 0, &txn);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "meta", 0, &meta);
	if (rc == 0)
		rc = mdb_get(txn, meta, &k, &v);
	if (rc == 0 && v.mv_size != 8)
		rc = MDB_CORRUPTED;
	if (rc == 0)
		*out = rove_be64_get(v.mv_data);
	if (rc == 0 && set != 0) {
		uint8_t be[8];
		rove_be64_put(be, set);
		v.mv_size = 8;
		v.mv_data = be;
		rc = mdb_put(txn, meta, &k, &v, 0);
	}
	if (rc == 0)
		rc = mdb_txn_commit(txn);
	else if (txn != NULL)
		mdb_txn_abort(txn);
	mdb_env_close(env);
	return rc;
}

/* The replica's meta format, the same way. */
static int raw_format(const char *dir, uint64_t set, uint64_t *out)
{
	return raw_meta_u64(dir, "format", set, out);
}

/* snap_end: the head a snapshot's last chunk was read at (the replies
 * here say 100), kept until the cursor passes it and sent with every
 * pull; one an older rove left behind when it synced (it moves the
 * cursor and the highest acknowledged number, not snap_end) is not
 * trusted: that number stands for it (attack 104: a stale 0 made a
 * customer the older rove's snapshot missed come as an op alone). */
static void test_snap_end(void)
{
	char dir[] = "/tmp/rove-test-replica-se.XXXXXX";
	const uint8_t S = ROVE_PULL_SNAPSHOT, O = ROVE_PULL_OPS;
	rove_pull_state ps;
	rove_pull_req q;
	uint64_t was = 0;

	CHECK(mkdtemp(dir) != NULL);
	CHECK(rove_replica_create(dir, "tcp://127.0.0.1:1", "wang",
				  "0000000000000000000000000000000000000000000000000000000000000000", NULL) == ROVE_OK);
	CHECK(rove_replica_open(dir, &rep) == ROVE_OK);
	CHECK_EQ_INT(apply(S, true, true, 0, 50, 1, "b"), ROVE_OK);
	CHECK(rove_replica_pull_state(&rep, &ps) == ROVE_OK);
	CHECK_EQ_INT(ps.snap_end, 0); /* not before the snapshot's end */
	CHECK_EQ_INT(apply(S, false, false, 0, 50, 1, ""), ROVE_OK);
	CHECK(rove_replica_pull_state(&rep, &ps) == ROVE_OK);
	CHECK_EQ_INT(ps.cursor, 50);
	CHECK_EQ_INT(ps.snap_end, 100);
	CHECK(ps.snap_end_kept);
	rove_pull_state_request(&ps, &rep.id, 10, &q);
	CHECK_EQ_INT(q.snap_end, 100);
	/* kept across a reopen, and until the cursor passes it */
	rove_replica_close(&rep);
	CHECK(rove_replica_open(dir, &rep) == ROVE_OK);
	CHECK_EQ_INT(apply(O, false, false, 70, 0, 1, ""), ROVE_OK);
	CHECK(rove_replica_pull_state(&rep, &ps) == ROVE_OK);
	CHECK_EQ_INT(ps.snap_end, 100);
	CHECK_EQ_INT(apply(O, false, false, 100, 0, 1, ""), ROVE_OK);
	CHECK(rove_replica_pull_state(&rep, &ps) == ROVE_OK);
	CHECK_EQ_INT(ps.snap_end, 0);
	CHECK_EQ_INT(ps.ack_seq, 0);
	rove_pull_state_request(&ps, &rep.id, 10, &q);
	CHECK_EQ_INT(q.snap_end, 0);
	/* An older rove takes a snapshot: cursor 120, read up to 130. */
	rove_replica_close(&rep);
	CHECK_EQ_INT(raw_meta_u64(dir, "cursor", 120, &was), 0);
	CHECK_EQ_INT(was, 100);
	CHECK_EQ_INT(raw_meta_u64(dir, "ack_seq", 130, &was), 0);
	CHECK(rove_replica_open(dir, &rep) == ROVE_OK);
	CHECK(rove_replica_pull_state(&rep, &ps) == ROVE_OK);
	CHECK_EQ_INT(ps.snap_end, 130);
	CHECK(!ps.snap_end_kept);
	/* ... and the next pull keeps it anew */
	CHECK_EQ_INT(apply(O, false, false, 125, 0, 1, ""), ROVE_OK);
	CHECK(rove_replica_pull_state(&rep, &ps) == ROVE_OK);
	CHECK_EQ_INT(ps.snap_end, 130);
	CHECK(ps.snap_end_kept);
	rove_replica_close(&rep);
	{
		char cmd[sizeof(dir) + 16];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		CHECK(system(cmd) == 0);
	}
}

static int count_one(const rove_op *op, bool sent, void *arg)
{
	(void)op;
	(void)sent;
	(*(uint64_t *)arg)++;
	return ROVE_OK;
}

/* The pending changes that read whole, and those damaged. */
static int count_pending(uint64_t *n, uint64_t *damaged)
{
	*n = 0;
	return rove_replica_each_pending(&rep, count_one, n, damaged);
}

/* The pending changes listed (into n and damaged, in the caller's scope):
 * want of them, none damaged. A macro, for the caller's line. */
#define CHECK_LISTED_WHOLE(want)                                          \
	do {                                                              \
		CHECK_EQ_INT(count_pending(&n, &damaged), ROVE_OK);       \
		CHECK_EQ_INT(damaged, 0);                                 \
		CHECK_EQ_INT(n, (want));                                  \
	} while (0)

/* Outbox entry lseq edited through LMDB alone: without its sum (bytes 8
 * to 16), as a rove of format 4 writes it (unsum), or its byte at xored
 * with mask. */
static int outbox_edit(uint64_t lseq, bool unsum, size_t at, uint8_t mask)
{
	uint8_t key[8], val[4096];
	MDB_val k = {8, key}, v;
	MDB_txn *txn = NULL;
	int rc;

	rove_be64_put(key, lseq);
	rc = mdb_txn_begin(rep.env, NULL, 0, &txn);
	if (rc == 0)
		rc = mdb_get(txn, rep.outbox, &k, &v);
	if (rc == 0 && (v.mv_size > sizeof(val) || (unsum ? v.mv_size <= 16 : at >= v.mv_size)))
		rc = MDB_BAD_VALSIZE;
	if (rc == 0) {
		memcpy(val, v.mv_data, v.mv_size);
		if (unsum) {
			memmove(val + 8, val + 16, v.mv_size - 16);
			v.mv_size -= 8;
		} else {
			val[at] ^= mask;
		}
		v.mv_data = val;
		rc = mdb_put(txn, rep.outbox, &k, &v, 0);
	}
	if (rc == 0)
		return mdb_txn_commit(txn);
	if (txn != NULL)
		mdb_txn_abort(txn);
	return rc;
}

/* The replica closed, its format number set to format through LMDB,
 * and opened again. */
static int reopen_as_format(const char *dir, uint64_t format)
{
	uint64_t was;

	rove_replica_close(&rep);
	return raw_format(dir, format, &was) == 0 ? rove_replica_open(dir, &rep) : ROVE_EDB;
}

static int outbox_flip(uint64_t lseq, size_t at, uint8_t mask)
{
	return outbox_edit(lseq, false, at, mask);
}

static int outbox_unsum(uint64_t lseq)
{
	return outbox_edit(lseq, true, 0, 0);
}

/* Outbox entry lseq's size, and its acknowledgement (its first 8 bytes). */
static int outbox_get(uint64_t lseq, uint64_t *size, uint64_t *acked)
{
	uint8_t key[8];
	MDB_val k = {8, key}, v;
	MDB_txn *txn = NULL;
	int rc;

	rove_be64_put(key, lseq);
	rc = mdb_txn_begin(rep.env, NULL, MDB_RDONLY, &txn);
	if (rc == 0)
		rc = mdb_get(txn, rep.outbox, &k, &v);
	if (rc == 0 && v.mv_size < 8)
		rc = MDB_BAD_VALSIZE;
	if (rc == 0 && size != NULL)
		*size = v.mv_size;
	if (rc == 0 && acked != NULL)
		*acked = rove_be64_get(v.mv_data);
	if (txn != NULL)
		mdb_txn_abort(txn);
	return rc;
}

static int outbox_size(uint64_t lseq, uint64_t *size)
{
	return outbox_get(lseq, size, NULL);
}

static int outbox_acked(uint64_t lseq, uint64_t *acked)
{
	return outbox_get(lseq, NULL, acked);
}

/* dir's replica (closed) made one of format 4: each outbox entry without
 * its sum (bytes 8 to 16); *n: the entries. Through LMDB alone. */
static int outbox_strip(const char *dir, uint64_t *n)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi outbox;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	uint64_t format;
	uint8_t val[4096];
	int rc = mdb_env_create(&env);

	*n = 0;
	if (rc == 0)
		rc = mdb_env_set_maxdbs(env, 16);
	if (rc == 0)
		rc = mdb_env_set_mapsize(env, ROVE_REPLICA_MAPSIZE);
	if (rc == 0)
		rc = mdb_env_open(env, dir, 0, 0600);
	if (rc == 0)
		rc = mdb_txn_begin(env, NULL, 0, &txn);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "outbox", 0, &outbox);
	if (rc == 0)
		rc = mdb_cursor_open(txn, outbox, &c);
	for (int mrc = rc == 0 ? mdb_cursor_get(c, &k, &v, MDB_FIRST) : MDB_NOTFOUND; rc == 0 && mrc == 0;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		uint8_t key[8];
		if (v.mv_size <= 16 || v.mv_size > sizeof(val) || k.mv_size != 8) {
			rc = MDB_BAD_VALSIZE;
			break;
		}
		memcpy(key, k.mv_data, 8);
		memcpy(val, v.mv_data, 8);
		memcpy(val + 8, (const uint8_t *)v.mv_data + 16, v.mv_size - 16);
		k.mv_data = key;
		v.mv_size -= 8;
		v.mv_data = val;
		rc = mdb_cursor_put(c, &k, &v, MDB_CURRENT);
		(*n)++;
	}
	if (c != NULL)
		mdb_cursor_close(c);
	if (rc == 0)
		rc = mdb_txn_commit(txn);
	else if (txn != NULL)
		mdb_txn_abort(txn);
	mdb_env_close(env);
	return rc == 0 ? raw_format(dir, 4, &format) : rc;
}

int main(void)
{
	char dir[] = "/tmp/rove-test-replica.XXXXXX";
	rove_pull_state ps;
	const uint8_t S = ROVE_PULL_SNAPSHOT, O = ROVE_PULL_OPS;

	CHECK(mkdtemp(dir) != NULL);
	CHECK(rove_replica_create(dir, "tcp://127.0.0.1:1", "wang",
				  "0000000000000000000000000000000000000000000000000000000000000000", NULL) == ROVE_OK);
	CHECK(rove_replica_open(dir, &rep) == ROVE_OK);

	/* A fresh replica: a first snapshot chunk (a reset) is taken. */
	REFUSED("a continuation before any snapshot", S, false, true, 0, 50, 1, "b");
	CHECK_EQ_INT(apply(S, true, true, 0, 50, 1, "b"), ROVE_OK);
	REFUSED("the same reset again", S, true, true, 0, 50, 1, "c");
	REFUSED("the same resume key again", S, false, true, 0, 50, 1, "b");
	REFUSED("a resume key before the last", S, false, true, 0, 50, 1, "a");
	REFUSED("a continuation of another snapshot", S, false, true, 0, 51, 1, "c");
	REFUSED("ops in the middle of a snapshot", O, false, false, 60, 0, 1, "");
	REFUSED("no ops in the middle of a snapshot", O, false, false, 0, 0, 1, "");
	CHECK_EQ_INT(apply(S, false, true, 0, 50, 1, "bb"), ROVE_OK);
	CHECK_EQ_INT(apply(S, false, false, 0, 50, 1, ""), ROVE_OK);
	CHECK(rove_replica_pull_state(&rep, &ps) == ROVE_OK);
	CHECK_EQ_INT(ps.cursor, 50);
	CHECK_EQ_INT(ps.snap_seq, 0);

	/* Ops after it: the cursor only goes up. */
	REFUSED("a cursor going back", O, false, false, 49, 0, 1, "");
	REFUSED("more without moving on", O, false, true, 50, 0, 1, "");
	CHECK_EQ_INT(apply(O, false, true, 60, 0, 1, ""), ROVE_OK);
	CHECK_EQ_INT(apply(O, false, false, 70, 0, 1, ""), ROVE_OK);
	CHECK_EQ_INT(apply(O, false, false, 70, 0, 1, ""), ROVE_OK); /* nothing new */

	/* Inside a record's family (more children than one reply holds):
	 * the cursor stays, the resume key (a record key) must grow. */
	{
		static const char k1[] = "\x02" "aaaaaaaaaaaaaaaa", k2[] = "\x02" "aaaaaaaaaaaaaaab";
		CHECK_EQ_INT(apply(O, false, true, 70, 0, 1, k1), ROVE_OK);
		CHECK(rove_replica_pull_state(&rep, &ps) == ROVE_OK);
		CHECK_EQ_INT(ps.cursor, 70);
		CHECK_EQ_INT(ps.snap_keylen, 17);
		REFUSED("the same family resume key again", O, false, true, 70, 0, 1, k1);
		REFUSED("the family's end without moving on", O, false, false, 70, 0, 1, "");
		REFUSED("a family resume key going back", O, false, true, 70, 0, 1, "\x01" "zzzzzzzzzzzzzzzz");
		CHECK_EQ_INT(apply(O, false, true, 70, 0, 1, k2), ROVE_OK);
		CHECK_EQ_INT(apply(O, false, false, 75, 0, 1, ""), ROVE_OK);
		CHECK(rove_replica_pull_state(&rep, &ps) == ROVE_OK);
		CHECK_EQ_INT(ps.cursor, 75);
		CHECK_EQ_INT(ps.snap_keylen, 0);
	}

	/* A new snapshot for a new scope epoch, or from a later point than
	 * the replica's (roved compact dropped the ops after its cursor);
	 * never from where it is or before. */
	REFUSED("a reset with the same epoch from where the replica is", S, true, false, 0, 75, 1, "");
	REFUSED("a reset with the same epoch from before", S, true, false, 0, 60, 1, "");
	CHECK_EQ_INT(apply(S, true, false, 0, 80, 2, ""), ROVE_OK);
	CHECK(rove_replica_pull_state(&rep, &ps) == ROVE_OK);
	CHECK_EQ_INT(ps.cursor, 80);
	CHECK_EQ_INT(ps.epoch, 2);
	CHECK_EQ_INT(apply(S, true, false, 0, 90, 2, ""), ROVE_OK); /* after a compaction */
	CHECK(rove_replica_pull_state(&rep, &ps) == ROVE_OK);
	CHECK_EQ_INT(ps.cursor, 90);

	/* The clock follows the stamps pulled, but a stamp past the year
	 * 9999 (ROVE_MAX_WALL_MS: a faulty or hostile server's) would pin it
	 * there, or at the end of its range, for good: the reply is refused
	 * whole. */
	{
		uint64_t was, ok = rove_hlc_from_ms(ROVE_MAX_WALL_MS).v;
		CHECK_EQ_INT(apply_stamped(91, rove_hlc_from_ms(1700000000000ull).v), ROVE_OK);
		was = clock_of();
		CHECK(was >= rove_hlc_from_ms(1700000000000ull).v);
		CHECK(apply_stamped(92, UINT64_MAX) != ROVE_OK);
		CHECK(apply_stamped(92, rove_hlc_from_ms(ROVE_MAX_WALL_MS + 1).v) != ROVE_OK);
		CHECK_EQ_INT(clock_of(), was);
		CHECK(rove_replica_pull_state(&rep, &ps) == ROVE_OK);
		CHECK_EQ_INT(ps.cursor, 91);
		/* The bound itself is a stamp still. */
		CHECK_EQ_INT(apply_stamped(92, ok), ROVE_OK);
		CHECK(clock_of() == ok);
	}

	/* The newest stamp pulled tells "now" when this laptop's clock is
	 * behind; a new snapshot (another history: a fast-clocked server's
	 * before, say) starts it anew, even below the future it held. */
	{
		rove_buf entry, raw;
		rove_record rec;
		uint64_t ms = 1700000000000ull;
		CHECK(rove_replica_pulled_ms(&rep) > rove_wall_ms());
		memset(&rec, 0, sizeof(rec));
		rec.coll = ROVE_COLL_CUSTOMER;
		memset(rec.id.b, 9, sizeof(rec.id.b));
		rove_fields_init(&rec.fs);
		CHECK_EQ_INT(rove_fields_set(&rec.fs, "name", rove_vcstr("Fresh"),
					     (rove_stamp){rove_hlc_from_ms(ms), 3}),
			     ROVE_OK);
		rove_buf_init(&raw);
		rove_buf_init(&entry);
		CHECK_EQ_INT(rove_enc_record(&raw, &rec), ROVE_OK);
		CHECK_EQ_INT(rove_enc_entry_record_raw(&entry, raw.data, raw.len), ROVE_OK);
		CHECK_EQ_INT(apply_items(S, true, false, 0, 120, 3, "", &entry), ROVE_OK);
		rove_buf_free(&raw);
		rove_buf_free(&entry);
		CHECK_EQ_INT(rove_replica_pulled_ms(&rep), ms);
		CHECK(rove_replica_now_ms(&rep) <= rove_wall_ms() + 1000);
	}

	/* What no sound server holds (a field its collection lacks, a value
	 * the server would not take, a collection the schema lacks) does not
	 * reach the replica, and the sync goes on with the rest, warned of:
	 * in an op, and in a snapshot's record (stored as it came when
	 * clean). */
	{
		rove_op op;
		rove_record rec, got;
		rove_uuid rid, oid, other;
		rove_buf raw, entry;
		rove_stamp st = {rove_hlc_from_ms(1700000001000ull), 5};
		memset(rid.b, 0x21, sizeof(rid.b));
		memset(oid.b, 0x22, sizeof(oid.b));
		rove_op_init(&op, ROVE_OP_CREATE, ROVE_COLL_CUSTOMER, &rid, st);
		op.op_id = oid;
		op.seq = 121;
		snprintf(op.author, sizeof(op.author), "wang");
		rove_op_set(&op, "name", rove_vcstr("Kept Ltd"));
		rove_op_set(&op, "tier", rove_vcstr("\x1b[31mgold")); /* not a tier */
		rove_op_set(&op, "phone", rove_vint(5)); /* not text */
		rove_op_set(&op, "secret", rove_vcstr("x")); /* no such field */
		rove_op_set(&op, "territory", rove_vcstr("north"));
		rove_buf_init(&raw);
		rove_buf_init(&entry);
		warned = 0;
		rove_log_set_sink(warn_sink, NULL);
		CHECK_EQ_INT(rove_enc_op(&raw, &op), ROVE_OK);
		CHECK_EQ_INT(rove_enc_entry_op_raw(&entry, raw.data, raw.len), ROVE_OK);
		CHECK_EQ_INT(apply_items(O, false, false, 121, 0, 3, "", &entry), ROVE_OK);
		CHECK_EQ_INT(warned, 1);
		CHECK(strstr(last_warning, "3 values") != NULL);
		CHECK_EQ_INT(rove_replica_get(&rep, ROVE_COLL_CUSTOMER, &rid, &got), ROVE_OK);
		CHECK(rove_fields_str(&got.fs, "name") != NULL && strcmp(rove_fields_str(&got.fs, "name"), "Kept Ltd") == 0);
		CHECK(rove_fields_str(&got.fs, "territory") != NULL);
		CHECK(rove_fields_get(&got.fs, "tier") == NULL);
		CHECK(rove_fields_get(&got.fs, "phone") == NULL);
		CHECK(rove_fields_get(&got.fs, "secret") == NULL);

		/* A snapshot's record, and a record of no collection. */
		memset(&rec, 0, sizeof(rec));
		rec.coll = ROVE_COLL_CUSTOMER;
		memset(rec.id.b, 0x23, sizeof(rec.id.b));
		rove_fields_init(&rec.fs);
		CHECK_EQ_INT(rove_fields_set(&rec.fs, "name", rove_vcstr("Snap Co"), st), ROVE_OK);
		CHECK_EQ_INT(rove_fields_set(&rec.fs, "owner", rove_vcstr("no such login!"), st), ROVE_OK);
		rove_buf_reset(&raw);
		rove_buf_reset(&entry);
		CHECK_EQ_INT(rove_enc_record(&raw, &rec), ROVE_OK);
		CHECK_EQ_INT(rove_enc_entry_record_raw(&entry, raw.data, raw.len), ROVE_OK);
		warned = 0;
		CHECK_EQ_INT(apply_items(S, true, true, 0, 130, 4, "\x01" "bbbbbbbbbbbbbbbb", &entry), ROVE_OK);
		CHECK_EQ_INT(warned, 1);
		rec.coll = 200;
		memset(other.b, 0x24, sizeof(other.b));
		rec.id = other;
		rove_buf_reset(&raw);
		rove_buf_reset(&entry);
		CHECK_EQ_INT(rove_enc_record(&raw, &rec), ROVE_OK);
		CHECK_EQ_INT(rove_enc_entry_record_raw(&entry, raw.data, raw.len), ROVE_OK);
		warned = 0;
		CHECK_EQ_INT(apply_items(S, false, false, 0, 130, 4, "", &entry), ROVE_OK);
		CHECK_EQ_INT(warned, 1);
		CHECK(strstr(last_warning, "200") != NULL);
		rove_log_set_sink(NULL, NULL);
		memset(rec.id.b, 0x23, sizeof(rec.id.b));
		CHECK_EQ_INT(rove_replica_get(&rep, ROVE_COLL_CUSTOMER, &rec.id, &got), ROVE_OK);
		CHECK(rove_fields_str(&got.fs, "name") != NULL);
		CHECK(rove_fields_get(&got.fs, "owner") == NULL);
		CHECK(rove_replica_get(&rep, 200, &other, &got) != ROVE_OK);
		rove_buf_free(&raw);
		rove_buf_free(&entry);
	}

	/* Record format 2, outbox sums: a replica of format 3 (records of
	 * format 1) or 4 (outbox entries without sums) is opened as it is and
	 * brought to 5 by its first write (an older rove can still open it
	 * until then); a newer one is refused. */
	{
		static const struct {
			uint64_t set, then;
			int open;
		} formats[] = {{3, 3, ROVE_OK}, {4, 4, ROVE_OK}, {5, 5, ROVE_OK}, {6, 6, ROVE_EVERSION}, {2, 2, ROVE_EVERSION}};
		for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
			MDB_txn *txn = NULL;
			uint64_t format = 0;
			int rc;
			CHECK_EQ_INT(mdb_txn_begin(rep.env, NULL, 0, &txn), 0);
			CHECK_EQ_INT(rove_db_put_u64(txn, rep.meta, "format", formats[i].set), ROVE_OK);
			CHECK_EQ_INT(rove_db_commit(txn), ROVE_OK);
			rove_replica_close(&rep);
			rc = rove_replica_open(dir, &rep);
			CHECK_EQ_INT(rc, formats[i].open);
			if (rc == ROVE_OK) {
				CHECK_EQ_INT(mdb_txn_begin(rep.env, NULL, MDB_RDONLY, &txn), 0);
				CHECK_EQ_INT(rove_db_get_u64(txn, rep.meta, "format", &format), ROVE_OK);
				mdb_txn_abort(txn);
				CHECK_EQ_INT(format, formats[i].then);
				/* A write (what a sync learned of the clocks). */
				CHECK_EQ_INT(rove_replica_clock_learned(&rep, 120000 + (uint64_t)i * (ROVE_CLOCK_AHEAD_SLACK_MS + 1000)), ROVE_OK);
				CHECK_EQ_INT(mdb_txn_begin(rep.env, NULL, MDB_RDONLY, &txn), 0);
				CHECK_EQ_INT(rove_db_get_u64(txn, rep.meta, "format", &format), ROVE_OK);
				mdb_txn_abort(txn);
				CHECK_EQ_INT(format, 5);
				continue;
			}
			/* Refused, and left as it was: put back through LMDB. */
			CHECK_EQ_INT(raw_format(dir, 0, &format), 0);
			CHECK_EQ_INT(format, formats[i].then);
			CHECK_EQ_INT(raw_format(dir, 5, &format), 0);
			CHECK_EQ_INT(rove_replica_open(dir, &rep), ROVE_OK);
		}
	}

	/* What a sync learns of the clocks is written only when it differs
	 * from what is kept by more than the slack: a lead within the slack
	 * of none (half a round trip's noise) writes nothing, so that a sync
	 * with nothing new leaves the database as it was. */
	{
		static const struct {
			uint64_t ahead;
			bool writes;
		} steps[] = {{0, true}, {0, false}, {3, false}, {0, false}, {ROVE_CLOCK_AHEAD_SLACK_MS, false},
			     {ROVE_CLOCK_AHEAD_SLACK_MS + 1000, true}, {ROVE_CLOCK_AHEAD_SLACK_MS + 1003, false},
			     {3, true}, {0, false}};
		for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
			MDB_envinfo before, after;
			CHECK_EQ_INT(mdb_env_info(rep.env, &before), 0);
			CHECK_EQ_INT(rove_replica_clock_learned(&rep, steps[i].ahead), ROVE_OK);
			CHECK_EQ_INT(mdb_env_info(rep.env, &after), 0);
			if (i > 0) /* the first only sets where the others start */
				CHECK_EQ_INT(after.me_last_txnid != before.me_last_txnid, steps[i].writes);
		}
	}

	/* The server stamps an op anew past the replica's clock (its own
	 * clock ahead of its wall): the ops queued after it, already stamped
	 * below it, go with a seen stamp raised to it, so that the server
	 * orders them after it (rule 8; the model check's seed 4946008). */
	{
		rove_op *op = malloc(sizeof(*op));
		rove_op_head heads[4];
		rove_push_result res[1];
		rove_buf raw;
		size_t at[5];
		uint32_t n = 0, acc = 0, rej = 0;
		rove_uuid cid, run;
		rove_stamp second;
		uint64_t floor;

		CHECK(op != NULL);
		rove_buf_init(&raw);
		rove_uuid_new(&cid);
		rove_uuid_new(&run);
		rove_op_init(op, ROVE_OP_CREATE, ROVE_COLL_CUSTOMER, &cid, (rove_stamp){{0}, 0});
		CHECK_EQ_INT(rove_op_set(op, "name", rove_vcstr("First")), ROVE_OK);
		CHECK_EQ_INT(rove_replica_write(&rep, op), ROVE_OK);
		rove_op_init(op, ROVE_OP_UPDATE, ROVE_COLL_CUSTOMER, &cid, (rove_stamp){{0}, 0});
		CHECK_EQ_INT(rove_op_set(op, "name", rove_vcstr("Second")), ROVE_OK);
		CHECK_EQ_INT(rove_replica_write(&rep, op), ROVE_OK);
		CHECK_EQ_INT(rove_replica_unacked_raw(&rep, heads, &raw, at, 4, &n), ROVE_OK);
		CHECK_EQ_INT(n, 2);
		second = heads[1].st;
		CHECK(second.hlc.v > heads[0].st.hlc.v);
		CHECK(heads[1].seq < second.hlc.v);
		floor = second.hlc.v + 1000;
		memset(res, 0, sizeof(res));
		res[0].op_id = heads[0].op_id;
		res[0].status = ROVE_PUSH_ACCEPTED;
		res[0].seq = 100;
		res[0].st = (rove_stamp){{floor}, heads[0].st.node};
		CHECK_EQ_INT(rove_replica_pull_state(&rep, &ps), ROVE_OK);
		CHECK_EQ_INT(rove_replica_push_results(&rep, ps.server != 0 ? ps.server : 1, &run, NULL, heads, res, 1,
						       &acc, &rej),
			     ROVE_OK);
		CHECK_EQ_INT(acc, 1);
		rove_buf_reset(&raw);
		CHECK_EQ_INT(rove_replica_unacked_raw(&rep, heads, &raw, at, 4, &n), ROVE_OK);
		CHECK_EQ_INT(n, 1);
		CHECK(heads[0].st.hlc.v == second.hlc.v);
		CHECK(heads[0].seq == floor);
		CHECK_EQ_INT(rove_dec_op((const uint8_t *)raw.data + at[0], at[1] - at[0], op), ROVE_OK);
		CHECK(op->seq == floor);
		CHECK(op->st.hlc.v == second.hlc.v);
		CHECK(strcmp(rove_fields_str(&op->fs, "name"), "Second") == 0);
		rove_buf_free(&raw);
		free(op);
	}

	/* One's own op named back by the server (ROVE_ENTRY_MINE): the values
	 * as pushed are not checked again (the server took them, issue 17),
	 * but those it kept otherwise are, as any value a pull brings: a
	 * faulty server's phone that is no phone never reaches the replica. */
	{
		rove_op *op = malloc(sizeof(*op));
		rove_record *rec = malloc(sizeof(*rec));
		rove_fields *kept = malloc(sizeof(*kept));
		rove_op_head heads[4];
		rove_push_result res[1];
		rove_buf raw, kl, entry;
		size_t at[5];
		uint32_t n = 0, acc = 0, rej = 0;
		rove_uuid cid, run;
		bool known = false;

		CHECK(op != NULL && rec != NULL && kept != NULL);
		rove_buf_init(&raw);
		rove_buf_init(&kl);
		rove_buf_init(&entry);
		rove_uuid_new(&cid);
		rove_uuid_new(&run);
		rove_op_init(op, ROVE_OP_CREATE, ROVE_COLL_CUSTOMER, &cid, (rove_stamp){{0}, 0});
		CHECK_EQ_INT(rove_op_set(op, "name", rove_vcstr("Own Co")), ROVE_OK);
		CHECK_EQ_INT(rove_op_set(op, "phone", rove_vcstr("13800001111")), ROVE_OK);
		CHECK_EQ_INT(rove_replica_write(&rep, op), ROVE_OK);
		CHECK_EQ_INT(rove_replica_unacked_raw(&rep, heads, &raw, at, 4, &n), ROVE_OK);
		CHECK(n >= 1);
		CHECK_EQ_INT(rove_dec_op((const uint8_t *)raw.data + at[n - 1], at[n] - at[n - 1], op), ROVE_OK);
		/* kept: a tier (good) and a phone that is no phone (bad) */
		memset(kept, 0, sizeof(*kept));
		CHECK_EQ_INT(rove_fields_add(kept, "name", rove_vcstr("Own Co"), op->st), ROVE_OK);
		CHECK_EQ_INT(rove_fields_add(kept, "phone", rove_vcstr("not a phone!"), op->st), ROVE_OK);
		CHECK_EQ_INT(rove_fields_add(kept, "tier", rove_vcstr("loyal"), op->st), ROVE_OK);
		CHECK_EQ_INT(rove_enc_kept(&kl, &op->fs, kept, &known), ROVE_OK);
		CHECK(known);
		memset(res, 0, sizeof(res));
		res[0].op_id = heads[n - 1].op_id;
		res[0].status = ROVE_PUSH_ACCEPTED;
		res[0].seq = 500;
		res[0].st = heads[n - 1].st;
		res[0].kept_known = true;
		res[0].kept = (const uint8_t *)kl.data;
		res[0].keptlen = (uint32_t)kl.len;
		CHECK_EQ_INT(rove_replica_pull_state(&rep, &ps), ROVE_OK);
		CHECK_EQ_INT(rove_replica_push_results(&rep, ps.server != 0 ? ps.server : 1, &run, NULL, &heads[n - 1],
						       res, 1, &acc, &rej),
			     ROVE_OK);
		CHECK_EQ_INT(acc, 1);
		CHECK_EQ_INT(rove_enc_entry_mine(&entry, ROVE_COLL_CUSTOMER, &cid, 500, &heads[n - 1].op_id), ROVE_OK);
		reply_server = ps.server != 0 ? ps.server : 1; /* (the push bound it) */
		warned = 0;
		rove_log_set_sink(warn_sink, NULL);
		CHECK_EQ_INT(apply_items(O, false, false, ps.cursor + 1, 0, ps.epoch, "", &entry), ROVE_OK);
		rove_log_set_sink(NULL, NULL);
		CHECK_EQ_INT(rove_replica_get(&rep, ROVE_COLL_CUSTOMER, &cid, rec), ROVE_OK);
		CHECK(strcmp(rove_fields_str(&rec->fs, "name"), "Own Co") == 0);
		CHECK(rove_fields_str(&rec->fs, "tier") != NULL && strcmp(rove_fields_str(&rec->fs, "tier"), "loyal") == 0);
		CHECK(rove_fields_str(&rec->fs, "phone") == NULL ||
		      strcmp(rove_fields_str(&rec->fs, "phone"), "not a phone!") != 0);
		CHECK(warned >= 1);
		rove_buf_free(&raw);
		rove_buf_free(&kl);
		rove_buf_free(&entry);
		free(op);
		free(rec);
		free(kept);
	}

	/* Each outbox entry carries a sum of its bytes: a change damaged on
	 * the disk is found (counted by the lists, dropped by the sweep,
	 * said), never sent altered; one whose damage is a bit of its
	 * answer's number or of its sum alone is mended, the change kept. A
	 * replica of format 4 (no sums) reads as it is until its first write
	 * gives its entries their sums. */
	{
		rove_op *op = malloc(sizeof(*op));
		rove_uuid cid;
		uint64_t lseq[3], n = 0, damaged = 0, dropped = 0, lost = 0;
		size_t len[3];
		MDB_txn *txn = NULL;
		MDB_cursor *c = NULL;
		MDB_val k, v;

		CHECK(op != NULL);
		rove_replica_close(&rep);
		CHECK_EQ_INT(rove_replica_open(dir, &rep), ROVE_OK);
		CHECK_EQ_INT(count_pending(&n, &damaged), ROVE_OK);
		rove_uuid_new(&cid);
		for (int i = 0; i < 3; i++) {
			rove_op_init(op, i == 0 ? ROVE_OP_CREATE : ROVE_OP_UPDATE, ROVE_COLL_CUSTOMER, &cid,
				     (rove_stamp){{0}, 0});
			CHECK_EQ_INT(rove_op_set(op, "name", rove_vcstr(i == 0 ? "Sum Co" : i == 1 ? "Sum Co 2" : "Sum Co 3")),
				     ROVE_OK);
			CHECK_EQ_INT(rove_replica_write(&rep, op), ROVE_OK);
		}
		CHECK_EQ_INT(mdb_txn_begin(rep.env, NULL, MDB_RDONLY, &txn), 0);
		CHECK_EQ_INT(mdb_cursor_open(txn, rep.outbox, &c), 0);
		for (int i = 2; i >= 0; i--) {
			CHECK_EQ_INT(mdb_cursor_get(c, &k, &v, i == 2 ? MDB_LAST : MDB_PREV), 0);
			lseq[i] = rove_be64_get(k.mv_data);
			len[i] = v.mv_size;
		}
		mdb_cursor_close(c);
		mdb_txn_abort(txn);
		/* two bits of the third's name: found, dropped, said */
		uint64_t n0 = 0, n1 = 0;
		CHECK_EQ_INT(count_pending(&n0, &damaged), ROVE_OK);
		CHECK_EQ_INT(damaged, 0);
		CHECK_EQ_INT(outbox_flip(lseq[2], len[2] - 2, 0x03), 0);
		CHECK_EQ_INT(count_pending(&n1, &damaged), ROVE_OK);
		CHECK_EQ_INT(damaged, 1);
		CHECK_EQ_INT(n1, n0 - 1);
		warned = 0;
		rove_log_set_sink(warn_sink, NULL);
		CHECK_EQ_INT(rove_replica_outbox_sweep(&rep, &dropped, &lost), ROVE_OK);
		rove_log_set_sink(NULL, NULL);
		CHECK_EQ_INT(dropped, 1);
		CHECK_EQ_INT(lost, 1);
		CHECK_EQ_INT(count_pending(&n1, &damaged), ROVE_OK);
		CHECK_EQ_INT(damaged, 0);
		CHECK_EQ_INT(n1, n0 - 1);
		/* a bit of the second's answer (not sent: 0) and one of the
		 * first's sum: both mended, nothing dropped, still unsent; the
		 * lists show them as the sweep will keep them (told to make
		 * them again, a rep sent them twice: attack eighty-six) */
		CHECK_EQ_INT(outbox_flip(lseq[1], 5, 0x10), 0);
		CHECK_EQ_INT(outbox_flip(lseq[0], 8 + 3, 0x80), 0);
		CHECK_LISTED_WHOLE(n1);
		{
			rove_replica_status st;
			CHECK_EQ_INT(rove_replica_status_get(&rep, &st), ROVE_OK);
			CHECK_EQ_INT(st.damaged, 0);
		}
		warned = 0;
		last_warning[0] = '\0';
		rove_log_set_sink(warn_sink, NULL);
		CHECK_EQ_INT(rove_replica_outbox_sweep(&rep, &dropped, &lost), ROVE_OK);
		rove_log_set_sink(NULL, NULL);
		CHECK_EQ_INT(dropped, 0);
		CHECK(strstr(last_warning, "2 pending changes") != NULL && strstr(last_warning, "mended") != NULL);
		CHECK_LISTED_WHOLE(n1);
		CHECK_EQ_INT(outbox_acked(lseq[1], &n), 0);
		CHECK_EQ_INT(n, 0);
		/* one bit of the second's op (its name): mended by its sum, the
		 * change as it was made (attack ninety: four flips in five of an
		 * outbox page fell in an op, each a change lost) */
		CHECK_EQ_INT(outbox_flip(lseq[1], len[1] - 2, 0x01), 0);
		CHECK_LISTED_WHOLE(n1);
		CHECK_EQ_INT(rove_replica_outbox_sweep(&rep, &dropped, &lost), ROVE_OK);
		CHECK_EQ_INT(dropped, 0);
		CHECK_EQ_INT(lost, 0);
		CHECK_LISTED_WHOLE(n1);
		CHECK_EQ_INT(outbox_size(lseq[1], &n), 0);
		CHECK_EQ_INT(n, len[1]);
		/* an entry an older rove wrote (no sum) after this one raised
		 * the format: read, kept and given its sum (attack eighty-six:
		 * dropped as damaged) */
		CHECK_EQ_INT(outbox_unsum(lseq[0]), 0);
		CHECK_LISTED_WHOLE(n1);
		last_warning[0] = '\0';
		rove_log_set_sink(warn_sink, NULL);
		CHECK_EQ_INT(rove_replica_outbox_sweep(&rep, &dropped, &lost), ROVE_OK);
		rove_log_set_sink(NULL, NULL);
		CHECK_EQ_INT(dropped, 0);
		CHECK(strstr(last_warning, "written by an older rove") != NULL);
		CHECK_EQ_INT(outbox_size(lseq[0], &n), 0);
		CHECK_EQ_INT(n, len[0]);
		/* ... its answer's number, which no sum vouches for, flipped to
		 * one the cursor passed: sent again, not settled unsent (attack
		 * eighty-seven: confirmed, never on the server) */
		CHECK_EQ_INT(outbox_unsum(lseq[0]), 0);
		CHECK_EQ_INT(outbox_flip(lseq[0], 7, 0x01), 0);
		CHECK_EQ_INT(rove_replica_outbox_sweep(&rep, &dropped, &lost), ROVE_OK);
		CHECK_EQ_INT(dropped, 0);
		CHECK_EQ_INT(outbox_acked(lseq[0], &n), 0);
		CHECK_EQ_INT(n, 0);
		CHECK_EQ_INT(outbox_size(lseq[0], &n), 0);
		CHECK_EQ_INT(n, len[0]);
		/* the format number damaged into 4 (one bit of 5): each entry
		 * still reads by its sum (attack eighty-six: all dropped) */
		CHECK_EQ_INT(reopen_as_format(dir, 4), ROVE_OK);
		CHECK_LISTED_WHOLE(n1);
		CHECK_EQ_INT(rove_replica_outbox_sweep(&rep, &dropped, &lost), ROVE_OK);
		CHECK_EQ_INT(dropped, 0);
		CHECK_EQ_INT(rove_replica_clock_learned(&rep, 140000), ROVE_OK);
		CHECK_EQ_INT(outbox_size(lseq[0], &n), 0);
		CHECK_EQ_INT(n, len[0]);
		CHECK_LISTED_WHOLE(n1);
		/* ... and with a bit of an entry's answer flipped too: listed and
		 * mended as in a replica of format 5 (attack eighty-seven: called
		 * damaged, and the first sync failed) */
		CHECK_EQ_INT(outbox_flip(lseq[1], 6, 0x04), 0);
		CHECK_EQ_INT(reopen_as_format(dir, 4), ROVE_OK);
		CHECK_LISTED_WHOLE(n1);
		CHECK_EQ_INT(rove_replica_outbox_sweep(&rep, &dropped, &lost), ROVE_OK);
		CHECK_EQ_INT(dropped, 0);
		CHECK_EQ_INT(outbox_acked(lseq[1], &n), 0);
		CHECK_EQ_INT(n, 0);
		{
			rove_op_head heads[8];
			rove_buf raw;
			size_t at[9];
			uint32_t nu = 0;
			rove_buf_init(&raw);
			CHECK_EQ_INT(rove_replica_unacked_raw(&rep, heads, &raw, at, 8, &nu), ROVE_OK);
			CHECK_EQ_INT(nu, n1);
			rove_buf_free(&raw);
		}
		/* format 4: the sums taken out; read as it is, then given them
		 * by the first write */
		rove_replica_close(&rep);
		CHECK_EQ_INT(outbox_strip(dir, &n), 0);
		CHECK(n >= 2);
		CHECK_EQ_INT(rove_replica_open(dir, &rep), ROVE_OK);
		CHECK_LISTED_WHOLE(n1);
		CHECK_EQ_INT(outbox_size(lseq[0], &n), 0);
		CHECK_EQ_INT(n, len[0] - 8);
		CHECK_EQ_INT(rove_replica_clock_learned(&rep, 130000), ROVE_OK);
		CHECK_EQ_INT(outbox_size(lseq[0], &n), 0);
		CHECK_EQ_INT(n, len[0]);
		CHECK_LISTED_WHOLE(n1);
		CHECK_EQ_INT(raw_format(dir, 0, &n), 0);
		CHECK_EQ_INT(n, 5);
		free(op);
	}

	rove_replica_close(&rep);
	test_snap_end();
	{
		char cmd[sizeof(dir) + 16];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		CHECK(system(cmd) == 0);
	}
	return check_done("test_replica");
}
