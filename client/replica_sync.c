/*
 * replica_sync.c - the replica's side of the protocol: the server's
 * answers to a push, pull replies (ops, evicts, snapshots built aside and
 * swapped in whole), the pull position; acknowledged ops move to the
 * journal (replica_recover.c: the journal, and recovering from a server
 * whose history is not the one this replica synced with). Shares the
 * store's internals (replica_int.h) with replica.c.
 */
#include "replica_int.h"
#include "rove_assert.h"

#include "array.h"
#include "db.h"
#include "err.h"
#include "log.h"
#include "report.h"
#include "rules.h"
#include "schema.h"
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Calls fn(op, len, i, arg) for each op of the outbox not yet
 * acknowledged (its stored bytes, without the acked field ahead of them),
 * in order, the i-th from 0, until fn fails or max were seen; *n counts
 * them. Acknowledged ops wait for the cursor: not looked at. */
typedef int (*unacked_fn)(const uint8_t *op, size_t len, uint32_t i, void *arg);

/* ... and *floor (if not NULL) gets meta's ack_floor, read with them. */
static int each_unacked(rove_replica *r, uint32_t max, uint32_t *n, unacked_fn fn, void *arg, uint64_t *floor)
{
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	int rc, mrc;

	*n = 0;
	rc = rpl_txn_begin(r, MDB_RDONLY, &txn);
	if (rc != ROVE_OK)
		return rc;
	if (floor != NULL)
		rc = rpl_meta_u64(txn, r->meta, "ack_floor", floor);
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_cursor_open(txn, r->outbox, &c), "cursor");
	if (rc == ROVE_OK) {
		mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
		while (rc == ROVE_OK && mrc == 0 && *n < max) {
			rpl_entry e;
			/* One acknowledged (its number, the value's first 8
			 * bytes, not 0) is passed unread: the sweep before the
			 * push read each whole (its sum), and a second push of
			 * a sync walked 1,000 acknowledged entries' sums for
			 * nothing. */
			if (v.mv_size > 8 && rove_be64_get(v.mv_data) != 0) {
				mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
				continue;
			}
			/* (one damaged: the sweep before each push drops it) */
			rc = rpl_outbox_entry(r, &k, &v, &e);
			if (rc != ROVE_OK)
				break;
			if (e.acked == 0) {
				rc = fn(e.op, e.len, *n, arg);
				if (rc == ROVE_OK)
					(*n)++;
			}
			if (rc == ROVE_OK)
				mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
		}
		mdb_cursor_close(c);
	}
	mdb_txn_abort(txn);
	return rc;
}

static int unacked_decode(const uint8_t *op, size_t len, uint32_t i, void *arg)
{
	return rove_dec_op(op, len, &((rove_op *)arg)[i]);
}

int rove_replica_unacked(rove_replica *r, rove_op *ops, uint32_t max, uint32_t *n)
{
	return each_unacked(r, max, n, unacked_decode, ops, NULL);
}

typedef struct raw_ctx {
	rove_op_head *ops;
	rove_buf *raw;
	size_t *at;
	uint64_t floor; /* meta's ack_floor */
	rove_op *op;    /* scratch, made when first needed */
} raw_ctx;

static int unacked_copy(const uint8_t *op, size_t len, uint32_t i, void *arg)
{
	raw_ctx *x = arg;
	rove_op_head *h = &x->ops[i];
	int rc = rove_dec_op_head(op, len, h);

	/* Every op still to be acknowledged was made after every op that
	 * was (the outbox's order), so it goes with a seen stamp at least
	 * the newest stamp the server gave those (ack_floor): one stamped
	 * anew past this replica's clock orders before it (rule 8). Rare:
	 * an op's own stamp is past the floor unless the server stamped an
	 * earlier one anew ahead of this replica's clock. */
	if (rc == ROVE_OK && h->st.hlc.v <= x->floor && h->seq != ROVE_SEQ_GIVEN && h->seq < x->floor) {
		if (x->op == NULL && (x->op = malloc(sizeof(*x->op))) == NULL)
			return ROVE_ENOMEM;
		rc = rove_dec_op(op, len, x->op);
		if (rc == ROVE_OK) {
			x->op->seq = x->floor;
			h->seq = x->floor;
			rc = rove_enc_op(x->raw, x->op);
		}
	} else if (rc == ROVE_OK) {
		rc = rove_buf_append(x->raw, op, len);
	}
	if (rc == ROVE_OK)
		x->at[i + 1] = x->raw->len;
	return rc;
}

int rove_replica_unacked_raw(rove_replica *r, rove_op_head *ops, rove_buf *raw, size_t *at, uint32_t max,
			     uint32_t *n)
{
	raw_ctx x = {ops, raw, at, 0, NULL};
	int rc;

	at[0] = raw->len;
	rc = each_unacked(r, max, n, unacked_copy, &x, &x.floor);
	free(x.op);
	return rc;
}

/* Whether outbox entry k/v is op id's: its id sits at a fixed place in
 * the op, after the array tag (1) and the bin header (2). A damaged
 * entry is none's (the sweep before the push dropped those). */
static bool entry_is(const rove_replica *r, const MDB_val *k, const MDB_val *v, const rove_uuid *id)
{
	rpl_entry e;

	return rpl_outbox_entry(r, k, v, &e) == ROVE_OK && e.len > 3 + 16 && memcmp(e.op + 3, id->b, 16) == 0;
}

typedef struct find_ctx {
	const rove_replica *r;
	const rove_op_head *want;
	uint64_t *lseq;
	rove_buf *raw;
} find_ctx;

static int find_one(const MDB_val *ok, const MDB_val *ov, void *arg)
{
	const find_ctx *f = arg;
	int rc;

	if (!entry_is(f->r, ok, ov, &f->want->op_id))
		return ROVE_OK;
	rove_buf_reset(f->raw);
	rc = rove_buf_append(f->raw, ov->mv_data, ov->mv_size);
	if (rc == ROVE_OK) {
		*f->lseq = rove_be64_get(ok->mv_data);
		rc = ROVE_EEXIST; /* found: stop */
	}
	return rc;
}

/* Finds the outbox entry of op (its id, collection and record): through
 * the pending index, so only the record's own queued ops are looked at;
 * a copy of its stored value goes to raw (acked(8), then the op). */
static int outbox_find(rove_replica *r, MDB_txn *txn, const rove_op_head *want, uint64_t *lseq, rove_buf *raw)
{
	find_ctx f = {r, want, lseq, raw};
	int rc = rpl_pending_each(r, txn, want->coll, &want->rid, find_one, &f);

	if (rc == ROVE_EEXIST)
		return ROVE_OK;
	return rc == ROVE_OK ? ROVE_ENOTFOUND : rc;
}

/* Finds the outbox entry of want in the push's answers' order: the push
 * sent the outbox's unacknowledged ops in outbox order (each_unacked), so
 * the op answered next is the first unacknowledged one after the one
 * answered last (after), where cursor c on the outbox moves along
 * (within the page it is on, no descent from the root nor a walk of the
 * record's pending ops). A copy of its stored value goes to raw.
 * ROVE_ENOTFOUND: that entry is another op (outbox_find looks further). */
static int outbox_next(const rove_replica *r, MDB_cursor *c, uint64_t after, const rove_op_head *want,
		       uint64_t *lseq, rove_buf *raw)
{
	uint8_t key[8];
	MDB_val k = {8, key}, v;
	int mrc;

	rove_be64_put(key, after + 1);
	mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (mrc == 0) {
		uint64_t acked;
		if (k.mv_size != 8)
			return ROVE_EPROTO;
		if (rpl_outbox_acked(r, &k, &v, &acked) != ROVE_OK || acked == 0)
			break;
		mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	if (mrc == MDB_NOTFOUND)
		return ROVE_ENOTFOUND;
	if (mrc != 0)
		return rove_db_err(mrc, "outbox");
	if (!entry_is(r, &k, &v, &want->op_id))
		return ROVE_ENOTFOUND;
	rove_buf_reset(raw);
	*lseq = rove_be64_get(k.mv_data);
	return rove_buf_append(raw, v.mv_data, v.mv_size);
}

/* The server a replica syncs with is one: the first reply names it, and a
 * reply from another (a replica pointed at the wrong server) is refused
 * before anything of it is applied. */
static int server_check(rove_replica *r, MDB_txn *txn, uint64_t server)
{
	uint64_t mine = 0;
	int rc = rpl_meta_u64(txn, r->meta, "server_id", &mine);

	if (rc != ROVE_OK)
		return rc;
	if (mine == 0)
		return rove_db_put_u64(txn, r->meta, "server_id", server);
	return mine == server ? ROVE_OK : ROVE_EWRONGSERVER;
}

/* The pending entry of an acknowledged op holds how the server kept it:
 * its result's kept list, or nil when the server could not tell (an
 * unacknowledged op's holds nothing). */
static int kept_put(rove_replica *r, MDB_txn *txn, const rove_op_head *op, uint64_t lseq, const rove_push_result *res)
{
	static const uint8_t unknown = 0xc0; /* MessagePack's nil */
	uint8_t pkey[RPL_PENDING_KEY];
	MDB_val pk = {RPL_PENDING_KEY, pkey}, pv = {1, (void *)&unknown};

	if (res->kept_known) {
		pv.mv_size = res->keptlen;
		pv.mv_data = (void *)res->kept;
	}
	rpl_pending_key(pkey, op->coll, &op->rid, lseq);
	return rove_db_err(mdb_put(txn, r->pending, &pk, &pv, 0), "pending");
}

/* The newest proof of the server's clock this replica was given (proto.h,
 * "A proof"), in meta: the hlc (8 bytes, big-endian) then the MAC. */
#define PROOF_META "clock_proof"

/* One that is not a proof (a damaged meta) counts as none: a proof only
 * helps a restored server order stamps. */
int rpl_proof_get(rove_replica *r, MDB_txn *txn, rove_proof *p)
{
	MDB_val k = {sizeof(PROOF_META) - 1, (void *)PROOF_META}, v;
	int mrc = mdb_get(txn, r->meta, &k, &v);

	memset(p, 0, sizeof(*p));
	if (mrc == MDB_NOTFOUND)
		return ROVE_OK;
	if (mrc != 0)
		return rove_db_err(mrc, PROOF_META);
	if (v.mv_size != 8 + ROVE_PROOF_MAC) {
		rove_warn("the replica's proof of the server's clock is damaged: not sent");
		return ROVE_OK;
	}
	p->hlc.v = rove_be64_get(v.mv_data);
	memcpy(p->mac, (const uint8_t *)v.mv_data + 8, ROVE_PROOF_MAC);
	return ROVE_OK;
}

/* Keeps p (hlc not 0) in meta in place of the proof held. The replica's
 * clock follows it as it follows a stamp pulled: a change made after it
 * is stamped past it, and so needs no new stamp from the server when it
 * goes with it as its seen stamp (write_op). */
static int proof_put(rove_replica *r, MDB_txn *txn, const rove_proof *p)
{
	uint8_t b[8 + ROVE_PROOF_MAC];
	MDB_val k = {sizeof(PROOF_META) - 1, (void *)PROOF_META}, v = {sizeof(b), b};
	uint64_t clock = 0;
	int rc;

	rove_be64_put(b, p->hlc.v);
	memcpy(b + 8, p->mac, ROVE_PROOF_MAC);
	rc = rove_db_err(mdb_put(txn, r->meta, &k, &v, 0), PROOF_META);
	if (rc == ROVE_OK)
		rc = rpl_meta_u64(txn, r->meta, "hlc", &clock);
	if (rc == ROVE_OK && clock < p->hlc.v)
		rc = rove_db_put_u64(txn, r->meta, "hlc", p->hlc.v);
	return rc;
}

/* A pull answer's proof (hlc 0: none) is kept when it is newer than the
 * one held. */
static int proof_keep(rove_replica *r, MDB_txn *txn, const rove_proof *p)
{
	rove_proof held;
	int rc;

	if (p->hlc.v == 0)
		return ROVE_OK;
	rc = rpl_proof_get(r, txn, &held);
	if (rc != ROVE_OK || held.hlc.v >= p->hlc.v)
		return rc;
	return proof_put(r, txn, p);
}

/* A push answer's proof (hlc 0: none) is kept whatever the one held: the
 * server signs the later of its clock and the proof it was sent, when it
 * could check that one; a lower one says it could not (made under a key
 * since replaced, by a restore from a copy without it, or given by a
 * faulty server), and the replica goes on with this server's (attack
 * forty: such a proof, kept for good, stood in for what the replica had
 * seen, which a later restore then could not check). */
static int proof_answered(rove_replica *r, MDB_txn *txn, const rove_proof *p)
{
	return p->hlc.v != 0 ? proof_put(r, txn, p) : ROVE_OK;
}

/* Whether a refused op is a create sent again after a restore (an op
 * the server had accepted: ROVE_SEQ_GIVEN) that found its record made
 * already: another replica holding it sent it again first (two managers
 * or admins recovering at once, or a rep's laptop back after another's
 * orphans went: replica_recover.c). Its end is met: nothing to keep or
 * show (the server keeps no refusal of it either). */
static bool made_already(const rove_op *op, const rove_push_result *res)
{
	char id[ROVE_UUID_STRLEN + 1];

	if (op->seq != ROVE_SEQ_GIVEN || op->kind != ROVE_OP_CREATE || res->reason != ROVE_R_INVALID ||
	    strcmp(res->detail, ROVE_DETAIL_EXISTS) != 0)
		return false;
	rove_uuid_format(&op->rid, id);
	rove_info("%s, sent again: made again already by another replica", id);
	return true;
}

static int outbox_trim(rove_replica *r, MDB_txn *txn, uint64_t cursor, rpl_work *w);

/* A refusal with no detail (rule 9 says no more of records out of
 * reach) of a child's create whose customer this replica does not hold
 * at all, confirmed or pending: that customer's creation was refused (a
 * duplicate, say) or never came here. Said from what this replica knows
 * (attack sixty-eight: "not_owner" and nothing, which read as someone
 * else's customer). why: "" otherwise. */
static int parent_gone_detail(rove_replica *r, MDB_txn *txn, const rove_op *op, const rove_push_result *res,
			      rove_record *scratch, char *why, size_t len)
{
	const rove_coll_def *c = rove_schema_coll(op->coll), *pc;
	const rove_field_def *pf = c != NULL ? rove_schema_parent_field(c) : NULL;
	const char *pid;
	rove_uuid id;
	int rc;

	why[0] = '\0';
	if (res->reason != ROVE_R_NOT_OWNER || res->detail[0] != '\0' || pf == NULL || op->kind != ROVE_OP_CREATE)
		return ROVE_OK;
	pid = rove_fields_str(&op->fs, pf->name);
	pc = rove_schema_coll(c->parent);
	if (pid == NULL || pc == NULL || rove_uuid_parse(pid, &id) != ROVE_OK)
		return ROVE_OK;
	rc = rpl_rec_get(txn, r->base, c->parent, &id, scratch);
	if (rc == ROVE_ENOTFOUND)
		rc = rpl_rec_get(txn, r->view, c->parent, &id, scratch);
	if (rc != ROVE_ENOTFOUND)
		return rc; /* held (or a storage error) */
	snprintf(why, len,
		 "its %s %s is not in this replica (its creation refused? see 'rove rejected')", pc->name, pid);
	return ROVE_OK;
}

static int push_results_once(rove_replica *r, uint64_t server, const rove_uuid *run, const rove_proof *clock,
			     const rove_op_head *ops, const rove_push_result *res, uint32_t n, uint32_t *accepted,
			     uint32_t *rejected)
{
	MDB_txn *txn = NULL;
	MDB_cursor *c = NULL; /* on the outbox, along the answers (outbox_next) */
	rpl_work *w = rpl_work_new();
	rove_buf raw; /* an outbox entry as stored */
	MDB_val ov;
	uint64_t ack_seq = 0, last = 0;
	rove_hlc given = {0}; /* the newest stamp given an op accepted here */
	rove_pull_state ps;
	bool passed = false; /* an op accepted at a number the cursor passed */
	char why[ROVE_MAX_DETAIL + 1];
	int rc;

	*accepted = 0;
	*rejected = 0;
	if (w == NULL)
		return ROVE_ENOMEM;
	rove_buf_init(&raw);
	rc = rpl_txn_begin(r, 0, &txn);
	if (rc == ROVE_OK)
		rc = server_check(r, txn, server);
	if (rc == ROVE_OK)
		rc = rpl_meta_u64(txn, r->meta, "ack_seq", &ack_seq);
	if (rc == ROVE_OK)
		rc = rpl_pull_state_get(r, txn, &ps);
	if (rc == ROVE_OK && clock != NULL)
		rc = proof_answered(r, txn, clock);
	for (uint32_t i = 0; rc == ROVE_OK && i < n; i++) {
		uint64_t lseq = 0, acked = 0;
		uint8_t okey[8];
		MDB_val ok = {8, okey};
		bool along = false; /* c is on the op's entry */

		if (rove_uuid_cmp(&res[i].op_id, &ops[i].op_id) != 0) {
			rove_error("server answered for another op");
			rc = ROVE_EPROTO;
			break;
		}
		if (c == NULL)
			rc = rove_db_err(mdb_cursor_open(txn, r->outbox, &c), "cursor");
		if (rc == ROVE_OK)
			rc = outbox_next(r, c, last, &ops[i], &lseq, &raw);
		if (rc == ROVE_OK)
			along = true;
		else if (rc == ROVE_ENOTFOUND)
			rc = outbox_find(r, txn, &ops[i], &lseq, &raw);
		if (rc == ROVE_ENOTFOUND) {
			rc = ROVE_OK; /* answered already by an earlier sync */
			continue;
		}
		if (rc != ROVE_OK)
			break;
		last = lseq;
		rove_be64_put(okey, lseq);
		ov.mv_size = raw.len;
		ov.mv_data = raw.data;
		if (res[i].status == ROVE_PUSH_ACCEPTED) {
			bool restamped;
			if (res[i].seq == 0) {
				rc = ROVE_EPROTO;
				break;
			}
			/* Kept with the stamp the server gave it (it re-stamps a
			 * stamp too far ahead): sent again after a restore, the op
			 * orders where it did. The op pushed is the one stored
			 * (the replica is this process's while it syncs): read
			 * only when its stamp changes, else marked acknowledged
			 * in its stored bytes. */
			restamped = rove_stamp_cmp(&ops[i].st, &res[i].st) != 0;
			if (restamped) {
				rc = rpl_outbox_decode(r, &ok, &ov, &acked, &w->op);
				if (rc == ROVE_OK) {
					rove_op_restamp(&w->op, res[i].st);
					rc = rpl_outbox_put(txn, r, lseq, res[i].seq, &w->op, &w->buf, 0);
				}
				along = false;
			} else {
				rpl_outbox_mark(okey, (uint8_t *)raw.data, raw.len, res[i].seq);
				/* The same size: rewritten where it is, through the
				 * cursor on it when it is. */
				if (along)
					rc = rove_db_err(mdb_cursor_put(c, &ok, &ov, MDB_CURRENT), "outbox");
				else
					rc = rove_db_err(mdb_put(txn, r->outbox, &ok, &ov, 0), "outbox");
			}
			/* The view merged the op with its old stamp. */
			if (rc == ROVE_OK && restamped)
				rc = rpl_view_rebuild(r, txn, ops[i].coll, &ops[i].rid, w);
			/* What else the server kept otherwise (its own fields, a
			 * normalised value) waits beside the op, in its pending
			 * entry: the view shows the op as it was made until a pull
			 * brings it back (as it did before), and then a reference
			 * (ROVE_ENTRY_MINE) is enough to apply it as kept. */
			if (rc == ROVE_OK)
				rc = kept_put(r, txn, &ops[i], lseq, &res[i]);
			if (rc == ROVE_OK && ops[i].seq == ROVE_SEQ_GIVEN)
				rc = rpl_rejected_answered(r, txn, &ops[i].op_id);
			if (res[i].seq > ack_seq)
				ack_seq = res[i].seq;
			if (ps.snap_seq == 0 && res[i].seq <= ps.cursor)
				passed = true;
			/* (not the stamp of an arrival: rules.h) */
			if (res[i].st.hlc.v > given.v && !rove_rules_stamped_on_arrival(ops[i].kind))
				given = res[i].st.hlc;
			(*accepted)++;
		} else {
			bool made = false; /* its end met otherwise: counted as accepted */
			uint64_t nrej = 0;
			rc = rpl_outbox_decode(r, &ok, &ov, &acked, &w->op);
			if (rc == ROVE_OK)
				made = made_already(&w->op, &res[i]);
			if (rc == ROVE_OK && !made)
				rc = parent_gone_detail(r, txn, &w->op, &res[i], &w->b, why, sizeof(why));
			if (rc == ROVE_OK && !made)
				rc = rpl_rejected_add(r, txn, &w->op, res[i].reason, why[0] != '\0' ? why : res[i].detail,
						      &w->buf, &nrej);
			/* one the restored server may lack the record of waits */
			if (rc == ROVE_OK && !made)
				rc = rpl_rejected_waits(r, txn, &w->op, res[i].reason, nrej);
			if (rc == ROVE_OK)
				rc = rpl_outbox_remove(r, txn, lseq, &w->op);
			if (rc == ROVE_OK)
				rc = rpl_view_rebuild(r, txn, w->op.coll, &w->op.rid, w);
			if (made)
				(*accepted)++;
			else
				(*rejected)++;
			along = false;
		}
		/* The outbox written other than through c (a restamped op
		 * put again, a refused one removed): c starts afresh, not
		 * from a position LMDB had to move. */
		if (!along && c != NULL) {
			mdb_cursor_close(c);
			c = NULL;
		}
	}
	if (c != NULL)
		mdb_cursor_close(c);
	/* An op the server answered as accepted before, at a number the
	 * cursor has passed (sent again after a restore, when the fresh
	 * snapshot came first: rove_replica_recovering), is in the base
	 * already, and no pull brings it again: done now (the model check,
	 * seed 11: three ops pending for good). */
	if (rc == ROVE_OK && passed)
		rc = outbox_trim(r, txn, ps.cursor, w);
	/* What the next pull asks the server to vouch for: the highest
	 * acknowledged number, with the run that acknowledged it last (a
	 * later run of the same history holds the earlier ones). */
	if (rc == ROVE_OK && *accepted > 0)
		rc = rpl_meta_bytes_put(txn, r->meta, "ack_run", run->b, sizeof(run->b));
	if (rc == ROVE_OK && *accepted > 0)
		rc = rove_db_put_u64(txn, r->meta, "ack_seq", ack_seq);
	if (rc == ROVE_OK && *accepted > 0)
		rc = rpl_snap_end_put(r, txn, ps.snap_end, ps.cursor, ack_seq, ps.epoch);
	/* The newest stamp the server gave an acknowledged op: the ops still
	 * to send go after it (unacked_copy). */
	if (rc == ROVE_OK && given.v > 0) {
		uint64_t floor = 0;
		rc = rpl_meta_u64(txn, r->meta, "ack_floor", &floor);
		if (rc == ROVE_OK && given.v > floor)
			rc = rove_db_put_u64(txn, r->meta, "ack_floor", given.v);
	}
	if (txn != NULL)
		rc = rpl_commit_or_abort(txn, rc);
	rove_buf_free(&raw);
	rpl_work_free(w);
	return rc;
}

/* The epoch of a replica marked for repair: one no user has (they count
 * up from 0, the first admin's, or 1). */
#define REPAIR_EPOCH UINT64_MAX

static int repair_once(rove_replica *r)
{
	MDB_txn *txn;
	int rc = rpl_txn_begin(r, 0, &txn);

	if (rc != ROVE_OK)
		return rc;
	rc = rpl_index_forget(r, txn);
	/* An epoch no user has: the server answers with a snapshot, which
	 * follows any replica in another epoch (pull_reply_follows). Kept
	 * until one is whole: a repair cut short goes on at the next sync. */
	if (rc == ROVE_OK)
		rc = rove_db_put_u64(txn, r->meta, "epoch", REPAIR_EPOCH);
	return rpl_commit_or_abort(txn, rc);
}

int rove_replica_repairing(rove_replica *r, bool *yes)
{
	rove_pull_state ps;
	int rc = rove_replica_pull_state(r, &ps);

	*yes = rc == ROVE_OK && ps.epoch == REPAIR_EPOCH;
	return rc;
}

int rove_replica_repair(rove_replica *r)
{
	int rc;

	RPL_WITH_GROWTH(r, repair_once(r));
	return rc;
}

static int snap_end_get(rove_replica *r, MDB_txn *txn, rove_pull_state *ps);

/* The pull position as stored in meta, read in txn. */
int rpl_pull_state_get(rove_replica *r, MDB_txn *txn, rove_pull_state *ps)
{
	int rc;

	memset(ps, 0, sizeof(*ps));
	rc = rpl_meta_u64(txn, r->meta, "cursor", &ps->cursor);
	if (rc == ROVE_OK)
		rc = rpl_meta_u64(txn, r->meta, "snap_seq", &ps->snap_seq);
	if (rc == ROVE_OK)
		rc = rpl_meta_u64(txn, r->meta, "epoch", &ps->epoch);
	if (rc == ROVE_OK)
		rc = rpl_meta_bytes(txn, r->meta, "snap_key", ps->snap_key, ROVE_MAX_SNAP_KEY, &ps->snap_keylen);
	if (rc == ROVE_OK)
		rc = rpl_meta_uuid(txn, r->meta, "run", &ps->run);
	if (rc == ROVE_OK)
		rc = rpl_meta_uuid(txn, r->meta, "ack_run", &ps->ack_run);
	if (rc == ROVE_OK)
		rc = rpl_meta_u64(txn, r->meta, "ack_seq", &ps->ack_seq);
	if (rc == ROVE_OK)
		rc = rpl_meta_u64(txn, r->meta, "server_id", &ps->server);
	if (rc == ROVE_OK)
		rc = snap_end_get(r, txn, ps);
	return rc;
}

/* meta snap_end: the end of the last snapshot, then the cursor, the
 * highest acknowledged number and the epoch it was written with. */
#define SNAP_END_BYTES 32

/* ps->snap_end as kept, if it was written with the position ps holds;
 * else (a replica from before it, or one an older rove synced since,
 * which keeps the rest and not it: attack 104) the highest acknowledged
 * number, which a snapshot's end raises it to until the cursor passes
 * it (rove_pull_state_next). */
static int snap_end_get(rove_replica *r, MDB_txn *txn, rove_pull_state *ps)
{
	uint8_t v[SNAP_END_BYTES];
	uint32_t len = 0;
	int rc = rpl_meta_bytes(txn, r->meta, "snap_end", v, sizeof(v), &len);

	ps->snap_end = ps->ack_seq;
	ps->snap_end_kept = false;
	if (rc != ROVE_OK || len == 0)
		return rc;
	if (len != SNAP_END_BYTES)
		return rpl_meta_damaged("snap_end");
	if (rove_be64_get(v + 8) == ps->cursor && rove_be64_get(v + 16) == ps->ack_seq &&
	    rove_be64_get(v + 24) == ps->epoch) {
		ps->snap_end = rove_be64_get(v);
		ps->snap_end_kept = true;
	}
	return ROVE_OK;
}

int rpl_snap_end_put(rove_replica *r, MDB_txn *txn, uint64_t snap_end, uint64_t cursor, uint64_t ack_seq,
		     uint64_t epoch)
{
	uint8_t v[SNAP_END_BYTES];

	rove_be64_put(v, snap_end);
	rove_be64_put(v + 8, cursor);
	rove_be64_put(v + 16, ack_seq);
	rove_be64_put(v + 24, epoch);
	return rpl_meta_bytes_put(txn, r->meta, "snap_end", v, sizeof(v));
}

/* Stores the fields of next that differ from prev, in txn. */
int rpl_pull_state_put(rove_replica *r, MDB_txn *txn, const rove_pull_state *prev, const rove_pull_state *next)
{
	int rc = ROVE_OK;

	if (next->cursor != prev->cursor)
		rc = rove_db_put_u64(txn, r->meta, "cursor", next->cursor);
	if (rc == ROVE_OK && next->epoch != prev->epoch)
		rc = rove_db_put_u64(txn, r->meta, "epoch", next->epoch);
	if (rc == ROVE_OK && next->snap_seq != prev->snap_seq)
		rc = rove_db_put_u64(txn, r->meta, "snap_seq", next->snap_seq);
	if (rc == ROVE_OK && (next->snap_keylen != prev->snap_keylen ||
			      memcmp(next->snap_key, prev->snap_key, next->snap_keylen) != 0))
		rc = rpl_meta_bytes_put(txn, r->meta, "snap_key", next->snap_key, next->snap_keylen);
	if (rc == ROVE_OK && rove_uuid_cmp(&next->run, &prev->run) != 0)
		rc = rpl_meta_bytes_put(txn, r->meta, "run", next->run.b, sizeof(next->run.b));
	if (rc == ROVE_OK && rove_uuid_cmp(&next->ack_run, &prev->ack_run) != 0)
		rc = rpl_meta_bytes_put(txn, r->meta, "ack_run", next->ack_run.b, sizeof(next->ack_run.b));
	if (rc == ROVE_OK && next->ack_seq != prev->ack_seq)
		rc = rove_db_put_u64(txn, r->meta, "ack_seq", next->ack_seq);
	if (rc == ROVE_OK && (next->snap_end != prev->snap_end || !prev->snap_end_kept || next->cursor != prev->cursor ||
			      next->ack_seq != prev->ack_seq || next->epoch != prev->epoch))
		rc = rpl_snap_end_put(r, txn, next->snap_end, next->cursor, next->ack_seq, next->epoch);
	return rc;
}

int rove_replica_pull_state(rove_replica *r, rove_pull_state *ps)
{
	MDB_txn *txn;
	int rc = rpl_txn_begin(r, MDB_RDONLY, &txn);

	if (rc != ROVE_OK)
		return rc;
	rc = rpl_pull_state_get(r, txn, ps);
	mdb_txn_abort(txn);
	return rc;
}

/* Drops acknowledged ops the cursor has passed; their effect is now in
 * base (or out of scope), and the view is rebuilt without them. They
 * move to the journal. */
static int outbox_trim(rove_replica *r, MDB_txn *txn, uint64_t cursor, rpl_work *w)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t *done = NULL;
	size_t ndone = 0, cap = 0;
	int rc = rove_db_err(mdb_cursor_open(txn, r->outbox, &c), "cursor");
	int mrc;

	if (rc != ROVE_OK)
		return rc;
	/* First collect, then delete: no cursor survives our own writes. */
	mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	while (mrc == 0) {
		uint64_t acked = 0;
		if (k.mv_size != 8) {
			rc = ROVE_EPROTO;
			break;
		}
		/* (one damaged is the sweep's, at the next sync: left) */
		if (rpl_outbox_acked(r, &k, &v, &acked) == ROVE_OK && acked != 0 && acked <= cursor) {
			uint64_t *p = rove_array_room(done, ndone, &cap, sizeof(*done));
			if (p == NULL) {
				rc = ROVE_ENOMEM;
				break;
			}
			done = p;
			done[ndone++] = rove_be64_get(k.mv_data);
		}
		mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	for (size_t i = 0; rc == ROVE_OK && i < ndone; i++) {
		uint8_t key[8];
		MDB_val ok = {8, key}, ov;
		rpl_entry e;

		rove_be64_put(key, done[i]);
		rc = rove_db_err(mdb_get(txn, r->outbox, &ok, &ov), "outbox");
		if (rc == ROVE_OK)
			rc = rpl_outbox_entry(r, &ok, &ov, &e);
		if (rc == ROVE_OK)
			rc = rove_dec_op(e.op, e.len, &w->op);
		if (rc == ROVE_OK) {
			/* Kept in the journal, as it was sent (see rpl_journal_bound). */
			MDB_val jv = rpl_journal_val(&ov, &e);
			rc = rove_db_err(mdb_put(txn, r->journal, &ok, &jv, 0), "journal");
		}
		if (rc == ROVE_OK)
			rc = rpl_outbox_remove(r, txn, done[i], &w->op);
		if (rc == ROVE_OK) {
			uint8_t coll = w->op.coll;
			rove_uuid rid = w->op.rid;
			rc = rpl_view_rebuild(r, txn, coll, &rid, w);
		}
	}
	if (rc == ROVE_OK && ndone > 0)
		rc = rpl_journal_bound(r, txn, w);
	free(done);
	return rc;
}

/* The view anew: emptied, then every pending op merged onto the base. */
static int view_reset(rove_replica *r, MDB_txn *txn, rpl_work *w)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc = rpl_store_drop(r, txn, r->view);
	int mrc;

	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_cursor_open(txn, r->outbox, &c), "cursor");
	if (rc != ROVE_OK)
		return rc;
	mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	while (rc == ROVE_OK && mrc == 0) {
		uint64_t acked;
		rc = rpl_outbox_decode(r, &k, &v, &acked, &w->op);
		if (rc == ROVE_OK)
			rc = rpl_view_merge_pending(r, txn, w->op.coll, &w->op.rid, &w->op.fs, w);
		if (rc == ROVE_OK)
			mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	if (rc == ROVE_OK && mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, "outbox");
	mdb_cursor_close(c);
	return rc;
}

/* A snapshot built aside is complete: it becomes the base, the old base
 * is emptied (the next snapshot is built there) and the view is made
 * anew from the new base and the pending ops. In the transaction of the
 * snapshot's last chunk: until it commits, the replica shows what it
 * showed before. */
static int bases_swap(rove_replica *r, MDB_txn *txn, rpl_work *w, uint64_t server_ms)
{
	MDB_dbi old = r->base;
	uint64_t next = r->aside == r->bases[1] ? 1 : 0, floor = 0, found = 0, below = 0;
	int rc = rove_db_put_u64(txn, r->meta, "base", next);

	if (rc != ROVE_OK)
		return rc;
	/* (If this transaction aborts, the next one reads meta again.) */
	r->base = r->aside;
	r->aside = old;
	/* The view is made anew below (view_reset); emptied first, so that
	 * what a recovery queues meanwhile merges onto the new base alone,
	 * which its report sums are of (report.h). */
	rc = rove_db_err(mdb_drop(txn, r->view, 0), "view");
	if (rc != ROVE_OK)
		return rc;
	rc = rpl_meta_u64(txn, r->meta, "recover_floor", &floor);
	/* when: the server's time, as the snapshot said it (else as this
	 * replica knows it) */
	if (server_ms == 0)
		server_ms = rpl_now_ms(r, txn);
	/* The old base's records that do not decode are passed over: the
	 * new one holds the server's copies. */
	r->damage_as_absent = true;
	r->damage_skipped = 0;
	if (rc == ROVE_OK && floor != 0)
		rc = rpl_lost_requeue(r, txn, floor, server_ms, &found, &below);
	if (rc == ROVE_OK && floor != 0)
		rc = rpl_journal_to_outbox(r, txn, w, true, floor, found, below);
	if (rc == ROVE_OK && floor != 0)
		rc = rpl_taken_held_back(r, txn, w);
	r->damage_as_absent = false;
	if (rc == ROVE_OK)
		rpl_say_passed_over(r);
	if (rc == ROVE_OK && floor != 0)
		rc = rove_db_put_u64(txn, r->meta, "recover_floor", 0);
	if (rc == ROVE_OK)
		rc = rpl_store_drop(r, txn, r->aside);
	if (rc == ROVE_OK)
		rc = rove_report_sums_dropped(txn, r->aside);
	if (rc == ROVE_OK)
		rc = view_reset(r, txn, w);
	return rc;
}

/* Stores a snapshot's whole record under k in the snapshot being built,
 * through the chunk's cursor on it: appended when k is past the table's
 * last key (a snapshot of everything arrives in key order, so one
 * descent and no search a record, and pages filled to the end), else put
 * where it belongs; the order is never trusted. MDB_KEYEXIST: there
 * already. LMDB's MDB_APPEND refuses a key not past the last one with
 * MDB_KEYEXIST too, hence the second put, which tells the two apart. */
static int aside_put(MDB_cursor *c, MDB_val *k, MDB_val *v)
{
	int mrc = mdb_cursor_put(c, k, v, MDB_APPEND);

	if (mrc == MDB_KEYEXIST)
		mrc = mdb_cursor_put(c, k, v, MDB_NOOVERWRITE);
	return mrc;
}

/* The clock follows every later stamp of fs (the wall clock joins once
 * per reply): a change made after seeing this one orders after it,
 * however wrong this laptop's clock is. The server bounds the stamps it
 * keeps by its own clock; one past ROVE_MAX_WALL_MS is a faulty or
 * hostile server's, which would pin the clock there (or at the end of
 * its range, where it cannot tick) for good: ROVE_EPROTO, the reply
 * refused. */
static int clock_follow(rove_hlc *clock, const rove_fields *fs)
{
	for (uint32_t i = 0; i < fs->n; i++) {
		if (rove_hlc_ms(fs->f[i].st.hlc) > ROVE_MAX_WALL_MS) {
			rove_info("pull: the server sent a stamp past the year 9999");
			return ROVE_EPROTO;
		}
		if (fs->f[i].st.hlc.v > clock->v)
			clock->v = fs->f[i].st.hlc.v;
	}
	return ROVE_OK;
}

/* The records of one reply whose view copy went stale: their only pending
 * op settled (apply_mine), so the user sees the base's record now. Their
 * copies go together at the reply's end (view_settle), not one by one. */
typedef struct view_gone {
	uint8_t (*keys)[ROVE_RECORD_KEY];
	size_t n, cap;
} view_gone;

static int gone_add(view_gone *g, uint8_t coll, const rove_uuid *id)
{
	uint8_t(*p)[ROVE_RECORD_KEY] = rove_array_room(g->keys, g->n, &g->cap, sizeof(*g->keys));

	if (p == NULL)
		return ROVE_ENOMEM;
	g->keys = p;
	rove_record_key(g->keys[g->n++], coll, id);
	return ROVE_OK;
}

/* Removes the stale view copies of g. With no op pending at all, the
 * view holds nothing else the user may see (it holds the records with
 * pending ops): it is emptied with its index at once (a sync after a
 * push settles every op, and deleting each copy and its index entries
 * one by one was a third of such a sync). Otherwise each copy goes with
 * the index entries it has as stored: whatever an entry after its op
 * merged into it meanwhile goes with it. (Nothing became pending for
 * these records since: a pull makes no pending ops.) */
static int view_settle(rove_replica *r, MDB_txn *txn, const view_gone *g, rpl_work *w)
{
	MDB_stat ps;
	int rc;

	if (g->n == 0)
		return ROVE_OK;
	rc = rove_db_err(mdb_stat(txn, r->pending, &ps), "pending");
	if (rc == ROVE_OK && ps.ms_entries == 0) {
		rc = rove_report_sums_view_dropped(txn);
		if (rc == ROVE_OK)
			rc = rpl_store_drop(r, txn, r->view);
		return rc;
	}
	for (size_t i = 0; rc == ROVE_OK && i < g->n; i++) {
		rpl_ikeys was;
		rove_uuid id;
		memcpy(id.b, g->keys[i] + 1, 16);
		rc = rpl_rec_was(txn, r->view, g->keys[i][0], &id, &w->a, &was);
		if (rc == ROVE_OK)
			rc = rpl_rec_del(r, txn, r->view, g->keys[i][0], &id, &was);
	}
	return rc;
}

/* A reply's cursors on the tables its own ops leave (apply_mine), opened
 * at the first and closed after the reply's last entry (mine_close),
 * before anything else of the transaction writes those tables: the
 * outbox and the journal are keyed by lseq and the ops settle in about
 * that order, so each look-up, append and delete starts from the page
 * the cursor is on instead of from the root. */
typedef struct mine_cur {
	MDB_cursor *pending, *outbox, *journal;
} mine_cur;

static int mine_open(rove_replica *r, MDB_txn *txn, mine_cur *m)
{
	int rc = ROVE_OK;

	if (m->pending == NULL)
		rc = rove_db_err(mdb_cursor_open(txn, r->pending, &m->pending), "cursor");
	if (rc == ROVE_OK && m->outbox == NULL)
		rc = rove_db_err(mdb_cursor_open(txn, r->outbox, &m->outbox), "cursor");
	if (rc == ROVE_OK && m->journal == NULL)
		rc = rove_db_err(mdb_cursor_open(txn, r->journal, &m->journal), "cursor");
	return rc;
}

static void mine_close(mine_cur *m)
{
	if (m->pending != NULL)
		mdb_cursor_close(m->pending);
	if (m->outbox != NULL)
		mdb_cursor_close(m->outbox);
	if (m->journal != NULL)
		mdb_cursor_close(m->journal);
	memset(m, 0, sizeof(*m));
}

/* What a pull brought that no sound server holds: a record of a
 * collection the schema lacks, a field its collection lacks, or a value
 * the server would not take on write (`roved check` reports each of them
 * on a server). None of it reaches the replica, so that nothing of the
 * client reads a value its schema does not allow (a faulty or hostile
 * server's); the sync goes on with the rest, and the first one is told,
 * with their count, once the reply is applied. A null (a cleared value)
 * always passes: clearing is any server's to do. */
typedef struct pull_dropped {
	uint32_t n;
	char first[320];
} pull_dropped;

static void dropped_note(pull_dropped *d, uint8_t coll, const rove_uuid *id, const char *what)
{
	const rove_coll_def *c = rove_schema_coll(coll);
	char ids[ROVE_UUID_STRLEN + 1], cn[8];

	if (d->n++ > 0)
		return;
	rove_uuid_format(id, ids);
	snprintf(cn, sizeof(cn), "%u", coll);
	snprintf(d->first, sizeof(d->first), "%s %s: %s", c != NULL ? c->name : cn, ids, what);
}

/* Whether name is one of the n names of only. */
static bool named(const char (*only)[ROVE_MAX_FIELD_NAME + 1], uint32_t n, const char *name)
{
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(only[i], name) == 0)
			return true;
	return false;
}

/* Drops from fs (of a record of collection coll) what pull_dropped says;
 * false if the collection itself is not the schema's. Every value is
 * checked, or with only (not NULL) those of its nonly names alone: the
 * others are as this replica pushed them and the server took them, so
 * they passed its checks, which are these. */
static bool pulled_clean(uint8_t coll, const rove_uuid *id, rove_fields *fs, pull_dropped *d,
			 const char (*only)[ROVE_MAX_FIELD_NAME + 1], uint32_t nonly)
{
	const rove_coll_def *c = rove_schema_coll(coll);
	char why[200], q[ROVE_TEXT_QUOTE_BUF];

	if (c == NULL) {
		dropped_note(d, coll, id, "not a collection of this rove's schema");
		return false;
	}
	for (uint32_t i = 0; i < fs->n;) {
		const rove_field *f = &fs->f[i];
		const rove_field_def *fd;
		bool ok;

		if (strcmp(f->name, ROVE_FIELD_DELETED) == 0) {
			ok = f->v.type == ROVE_V_INT || f->v.type == ROVE_V_NULL;
			if (!ok)
				snprintf(why, sizeof(why), "%s is not a number", f->name);
		} else if ((fd = rove_schema_field(c, f->name)) == NULL) {
			ok = false;
			snprintf(why, sizeof(why), "field '%s' is not one of %s %s",
				 rove_text_quote(f->name, strlen(f->name), q), rove_article(c->name), c->name);
		} else {
			ok = f->v.type == ROVE_V_NULL || (only != NULL && !named(only, nonly, f->name)) ||
			     rove_schema_check_value(fd, &f->v, why, sizeof(why)) == ROVE_OK;
		}
		if (ok) {
			i++;
			continue;
		}
		dropped_note(d, coll, id, why);
		rove_fields_remove(fs, i);
	}
	return true;
}

/* One of this replica's own ops, named by the server (ROVE_ENTRY_MINE):
 * the outbox holds it as pushed (with the stamp the server kept) and its
 * pending entry how else the server kept it (kept_put), so it is applied
 * from there, as if it had come whole. The common case - the record's
 * only pending op - applies it to the base and moves it to the journal at
 * once, the record's view copy (base and this op) noted in gone, which
 * view_settle removes at the reply's end; with other
 * ops pending it is merged into base and view like a pulled op, and
 * leaves the outbox when the cursor passes it (outbox_trim). The tables
 * are read and written through the reply's cursors m.
 * ROVE_ENOTFOUND: no such op here, or not known as kept (the sync asks
 * again without references). */
static int apply_mine(rove_replica *r, MDB_txn *txn, const rove_entry *e, rove_hlc *clock, rpl_work *w,
		      mine_cur *m, view_gone *gone, uint32_t *journaled, pull_dropped *d)
{
	uint8_t pkey[RPL_PENDING_KEY], fkey[RPL_PENDING_KEY], okey[8];
	MDB_val pk = {RPL_PENDING_KEY, pkey}, pv, ok = {8, okey}, ov = {0, NULL}, kv = {0, NULL};
	uint32_t pending = 0, nkept = 0;
	rpl_entry oe;
	bool found = false, known = false;
	char kept[ROVE_MAX_FIELDS][ROVE_MAX_FIELD_NAME + 1]; /* the fields the server kept otherwise */
	rpl_ikeys was = {0};
	int rc = mine_open(r, txn, m);
	int mrc;

	if (rc != ROVE_OK)
		return rc;
	/* The record's pending ops: counted, and the one named found (its
	 * id sits after the array tag (1) and the bin header (2); one
	 * damaged is none, left to the sweep). */
	rpl_pending_key(pkey, e->coll, &e->id, 0);
	mrc = mdb_cursor_get(m->pending, &pk, &pv, MDB_SET_RANGE);
	while (rc == ROVE_OK && mrc == 0 && pk.mv_size == RPL_PENDING_KEY &&
	       memcmp(pk.mv_data, pkey, ROVE_RECORD_KEY) == 0) {
		pending++;
		if (!found) {
			/* (MDB_SET leaves ok on okey, which the next
			 * entry's lseq overwrites; MDB_SET_KEY would not.) */
			memcpy(okey, (uint8_t *)pk.mv_data + ROVE_RECORD_KEY, 8);
			mrc = mdb_cursor_get(m->outbox, &ok, &ov, MDB_SET);
			if (mrc != 0) {
				rc = mrc == MDB_NOTFOUND ? ROVE_EPROTO : rove_db_err(mrc, "outbox");
				break;
			}
			if (rpl_outbox_entry(r, &ok, &ov, &oe) == ROVE_OK && oe.acked == e->seq && oe.len > 3 + 16 &&
			    memcmp(oe.op + 3, e->op_id.b, 16) == 0) {
				found = true;
				memcpy(fkey, pk.mv_data, RPL_PENDING_KEY);
				rc = rove_dec_op(oe.op, oe.len, &w->op);
				/* How it was kept: a list, unless not known. */
				known = pv.mv_size > 0 && *(const uint8_t *)pv.mv_data != 0xc0;
				kv = pv;
			}
		}
		if (rc == ROVE_OK)
			mrc = mdb_cursor_get(m->pending, &pk, &pv, MDB_NEXT);
	}
	if (rc == ROVE_OK && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, "pending");
	if (rc != ROVE_OK)
		return rc;
	if (!found || !known) {
		rove_info("pull: the server named an op this replica does not hold as kept");
		return ROVE_ENOTFOUND;
	}
	/* The base's record. */
	rc = rpl_rec_get_or_empty(txn, r->base, e->coll, &e->id, &w->a);
	if (rc == ROVE_OK && rpl_index_kept(r, r->base) && w->a.fs.n > 0)
		rpl_ikeys_of(e->coll, &e->id, &w->a.fs, &was);
	/* As kept (nothing was written yet: kv still points at the list). */
	if (rc == ROVE_OK)
		rc = rove_kept_apply_named(kv.mv_data, kv.mv_size, &w->op, kept, &nkept);
	if (rc != ROVE_OK)
		return rc;
	/* (The collection is this replica's own op's: the schema's.) Its
	 * values are as this replica pushed them, which the server took
	 * (they passed its checks, the schema's), but for those the server
	 * kept otherwise: only those are checked (the checks of every value
	 * were a tenth of a 1,000-op sync: issue 17). */
	(void)pulled_clean(e->coll, &e->id, &w->op.fs, d, (const char(*)[ROVE_MAX_FIELD_NAME + 1])kept, nkept);
	rc = clock_follow(clock, &w->op.fs);
	if (rc == ROVE_OK)
		rc = rove_merge(&w->a.fs, &w->op.fs, NULL);
	if (rc == ROVE_OK)
		rc = rpl_rec_put(r, txn, r->base, &w->a, &was, &w->buf);
	if (rc != ROVE_OK || pending > 1) {
		if (rc == ROVE_OK)
			rc = rpl_rec_merge(r, txn, r->view, e->coll, &e->id, &w->op.fs, &w->a, &w->buf);
		return rc;
	}
	/* Done with: into the journal as it was sent (outbox_trim's way,
	 * from the outbox's bytes: read again, the writes above may have
	 * moved them), appended when it is the latest there (else put where
	 * it belongs, replacing as before); out of the outbox and the
	 * pending index through the cursors; the view held the base and this
	 * op only, which is the base now: its copy goes with the reply's
	 * others. */
	mrc = mdb_cursor_get(m->outbox, &ok, &ov, MDB_SET);
	rc = mrc == MDB_NOTFOUND ? ROVE_EPROTO : rove_db_err(mrc, "outbox");
	/* (the same bytes, read whole above in this transaction: where its
	 * op lies in them is known, without its sum again) */
	if (rc == ROVE_OK && ov.mv_size < oe.len)
		rc = ROVE_EPROTO;
	if (rc == ROVE_OK) {
		oe.op = (const uint8_t *)ov.mv_data + (ov.mv_size - oe.len);
		MDB_val jk = {8, okey}, jv = rpl_journal_val(&ov, &oe);
		mrc = mdb_cursor_put(m->journal, &jk, &jv, MDB_APPEND);
		if (mrc == MDB_KEYEXIST)
			mrc = mdb_cursor_put(m->journal, &jk, &jv, 0);
		rc = rove_db_err(mrc, "journal");
	}
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_cursor_del(m->outbox, 0), "outbox");
	if (rc == ROVE_OK) {
		pk.mv_size = RPL_PENDING_KEY;
		pk.mv_data = fkey;
		mrc = mdb_cursor_get(m->pending, &pk, &pv, MDB_SET);
		rc = mrc == MDB_NOTFOUND ? ROVE_EPROTO : rove_db_err(mrc, "pending");
	}
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_cursor_del(m->pending, 0), "pending");
	if (rc == ROVE_OK)
		(*journaled)++;
	if (rc == ROVE_OK)
		rc = gone_add(gone, e->coll, &e->id);
	return rc;
}

/* Applies one entry of a pull reply: an op or evict to base and view; a
 * snapshot's record (aside) to the snapshot being built, through the
 * chunk's cursor on it (aside_put); one of this replica's own ops, named
 * (apply_mine), from the outbox. */
static int apply_entry(rove_replica *r, MDB_txn *txn, rove_entry *e, rove_hlc *clock, MDB_cursor *aside,
		       rpl_work *w, mine_cur *m, view_gone *gone, uint32_t *journaled, pull_dropped *d)
{
	MDB_dbi base = aside != NULL ? r->aside : r->base;
	uint8_t key[ROVE_RECORD_KEY];
	const rove_fields *fs;
	int rc;

	/* The decoder gives only the three tags. A snapshot holds records
	 * only: anything else is a faulty server's, refused with the reply. */
	ROVE_ASSERT(e->tag <= ROVE_ENTRY_MINE);
	if (aside != NULL && e->tag != ROVE_ENTRY_RECORD)
		return ROVE_EPROTO;
	if (e->tag == ROVE_ENTRY_MINE)
		return apply_mine(r, txn, e, clock, w, m, gone, journaled, d);
	if (rove_schema_coll(e->coll) == NULL) {
		dropped_note(d, e->coll, &e->id, "not a collection of this rove's schema");
		return ROVE_OK;
	}

	if (e->tag == ROVE_ENTRY_EVICT) {
		/* Out of this user's scope now: gone from the replica, except
		 * for what its own pending ops still say. */
		rpl_ikeys was;
		rc = rpl_rec_was(txn, r->base, e->coll, &e->id, &w->a, &was);
		if (rc == ROVE_OK)
			rc = rpl_rec_del(r, txn, r->base, e->coll, &e->id, &was);
		if (rc == ROVE_OK)
			rc = rpl_view_rebuild(r, txn, e->coll, &e->id, w);
		return rc;
	}
	{
		uint32_t before = d->n;
		(void)pulled_clean(e->coll, &e->id, e->tag == ROVE_ENTRY_OP ? &e->op.fs : &e->rec.fs, d, NULL, 0);
		if (d->n != before)
			e->raw = NULL; /* stored as cleaned, not as it came */
	}
	fs = e->tag == ROVE_ENTRY_OP ? &e->op.fs : &e->rec.fs;
	rc = clock_follow(clock, fs);
	if (rc != ROVE_OK)
		return rc;
	rove_record_key(key, e->coll, &e->id);
	if (e->tag == ROVE_ENTRY_RECORD && e->raw != NULL) {
		/* A whole record the replica does not have yet (a snapshot):
		 * stored as it came, no decoding and encoding again. */
		MDB_val k = {ROVE_RECORD_KEY, key}, v = {e->rawlen, (void *)e->raw};
		int mrc = aside != NULL ? aside_put(aside, &k, &v) : mdb_put(txn, base, &k, &v, MDB_NOOVERWRITE);
		if (mrc == 0 && rpl_index_kept(r, base)) {
			/* New: its index entries from the record decoded (not
			 * while a snapshot is built aside: replica_index.c). */
			rpl_ikeys none = {0}, now;
			rpl_ikeys_of(e->coll, &e->id, &e->rec.fs, &now);
			rc = rpl_index_move(r, txn, base, &none, &now);
			if (rc != ROVE_OK)
				return rc;
		}
		if (mrc == 0) {
			rc = rove_report_sums_added(txn, base, &e->rec);
			if (rc != ROVE_OK)
				return rc;
			goto view;
		}
		if (mrc != MDB_KEYEXIST)
			return rove_db_err(mrc, "base");
	}
	rc = rpl_rec_merge(r, txn, base, e->coll, &e->id, fs, &w->a, &w->buf);
	if (rc != ROVE_OK)
		return rc;
view:
	if (aside != NULL)
		return ROVE_OK; /* the view is made anew when the snapshot is whole */
	/* Records with pending ops keep their view up to date too. */
	{
		MDB_val k = {ROVE_RECORD_KEY, key}, v;
		int mrc = mdb_get(txn, r->view, &k, &v);
		if (mrc == MDB_NOTFOUND)
			return ROVE_OK;
		if (mrc != 0)
			return rove_db_err(mrc, "view");
	}
	return rpl_rec_merge(r, txn, r->view, e->coll, &e->id, fs, &w->a, &w->buf);
}

/* Whether resume key a comes after b (byte order, a prefix first). */
static bool snap_key_after(const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	return c > 0 || (c == 0 && alen > blen);
}

/* Whether reply h may follow a replica at prev: an ops chunk moves the
 * cursor up (the last one may leave it), or moves on inside the family of
 * the op after the cursor (its resume key grows), a snapshot chunk continues the
 * snapshot in progress past its resume key, and a reset starts a snapshot
 * only on a fresh replica, for a new scope epoch, or from a later point
 * than the replica's (it is behind the ops the server compacted away). Anything else would
 * let a faulty server move a replica back, or keep a sync going forever. */
static bool pull_reply_follows(const rove_pull_state *prev, const rove_pull_reply *h)
{
	if (h->mode == ROVE_PULL_OPS && prev->snap_seq != 0)
		return false;
	if (h->mode == ROVE_PULL_OPS && h->cursor > prev->cursor)
		return true;
	if (h->mode == ROVE_PULL_OPS && h->cursor == prev->cursor) {
		/* Nothing new, or more of the family in progress. */
		if (!h->more)
			return h->snap_keylen == 0 && prev->snap_keylen == 0;
		return h->snap_keylen == ROVE_RECORD_KEY &&
		       (prev->snap_keylen == 0 ||
			snap_key_after(h->snap_key, h->snap_keylen, prev->snap_key, prev->snap_keylen));
	}
	if (h->mode == ROVE_PULL_OPS)
		return false;
	/* A reset also follows a replica the server's compaction left
	 * behind (roved compact): then it starts from a later point than
	 * the replica's, so that resets cannot go on for ever. */
	if (h->reset)
		return (prev->cursor == 0 && prev->snap_seq == 0) || h->epoch != prev->epoch ||
		       h->snap_seq > (prev->snap_seq != 0 ? prev->snap_seq : prev->cursor);
	return prev->snap_seq != 0 && h->snap_seq == prev->snap_seq && h->epoch == prev->epoch &&
	       (!h->more || snap_key_after(h->snap_key, h->snap_keylen, prev->snap_key, prev->snap_keylen));
}

static int apply_pull_once(rove_replica *r, rove_msg *reply, uint32_t *items)
{
	uint64_t now_ms = rove_wall_ms();
	const rove_pull_reply *h = &reply->u.pull_reply;
	MDB_txn *txn = NULL;
	rove_pull_state prev, next;
	uint64_t last_hlc = 0, last_pulled = 0;
	uint32_t journaled = 0; /* own ops settled into the journal */
	rove_hlc clock, pulled = {0};
	rove_entry *e = malloc(sizeof(*e));
	rpl_work *w = rpl_work_new();
	MDB_cursor *build = NULL; /* a snapshot chunk's cursor on the aside */
	view_gone gone = {NULL, 0, 0};
	mine_cur mine = {NULL, NULL, NULL};
	pull_dropped dropped = {0, ""};
	MDB_dbi base, aside;
	int rc;

	*items = 0;
	if (w == NULL || e == NULL) {
		free(e);
		rpl_work_free(w);
		return ROVE_ENOMEM;
	}
	rc = rpl_txn_begin(r, 0, &txn);
	if (rc != ROVE_OK) {
		free(e);
		rpl_work_free(w);
		return rc;
	}
	base = r->base;
	aside = r->aside;
	rc = rpl_meta_u64(txn, r->meta, "hlc", &last_hlc);
	clock.v = last_hlc;
	if (rc == ROVE_OK)
		rc = rpl_meta_u64(txn, r->meta, "pulled_hlc", &last_pulled);
	/* Where this reply leaves the replica: the one rule the sync also
	 * uses to ask for the next chunk before this one is applied. */
	if (rc == ROVE_OK)
		rc = rpl_pull_state_get(r, txn, &prev);
	if (rc == ROVE_OK)
		rc = server_check(r, txn, h->server);
	if (rc == ROVE_OK && !pull_reply_follows(&prev, h)) {
		rove_error("the server's reply does not follow where this replica is");
		rc = ROVE_EINVAL; /* well formed, but not a next step */
	}
	if (rc == ROVE_OK)
		rove_pull_state_next(&prev, h, &next);
	/* A snapshot is built aside and becomes the base with its last
	 * chunk; a reset starts a new one. */
	if (rc == ROVE_OK && h->mode == ROVE_PULL_SNAPSHOT && h->reset)
		rc = rpl_store_drop(r, txn, r->aside);
	if (rc == ROVE_OK && h->mode == ROVE_PULL_SNAPSHOT && h->reset)
		rc = rove_report_sums_dropped(txn, r->aside);
	if (rc == ROVE_OK && h->mode == ROVE_PULL_SNAPSHOT)
		rc = rove_db_err(mdb_cursor_open(txn, r->aside, &build), "cursor");
	while (rc == ROVE_OK) {
		rc = rove_msg_next_entry(reply, e);
		if (rc == ROVE_ENOTFOUND) {
			/* The reply may have been decoded lazily: it must end
			 * right after its last item. */
			rc = rove_msg_items_end(reply);
			break;
		}
		if (rc == ROVE_OK)
			rc = apply_entry(r, txn, e, &pulled, build, w, &mine, &gone, &journaled, &dropped);
		/* One's own ops, answered already, are not counted as pulled. */
		if (e->tag != ROVE_ENTRY_MINE)
			(*items)++;
	}
	/* Closed before the swap, which empties the table it is on. */
	if (build != NULL)
		mdb_cursor_close(build);
	/* and before the outbox, the journal and the pending index are
	 * written otherwise (outbox_trim, rpl_journal_bound). */
	mine_close(&mine);
	if (rc == ROVE_OK && h->mode == ROVE_PULL_SNAPSHOT && !h->more)
		rc = bases_swap(r, txn, w, h->time_ms);
	/* The clock follows every stamp pulled; the latest pulled, which the
	 * server bounded by its own clock, also tells the time when this
	 * laptop's clock is behind (rove_replica_now_ms). */
	if (pulled.v > clock.v)
		clock.v = pulled.v;
	rove_hlc_observe(&clock, clock, now_ms);
	if (rc == ROVE_OK)
		rc = rove_db_put_u64(txn, r->meta, "hlc", clock.v);
	/* A new snapshot starts the newest pulled anew: the one before may
	 * be of another history (a server restored, or another server's,
	 * whose clock was fast), which would hold this replica's "now" in
	 * its future for good. */
	if (rc == ROVE_OK && (pulled.v > last_pulled || (h->mode == ROVE_PULL_SNAPSHOT && h->reset)))
		rc = rove_db_put_u64(txn, r->meta, "pulled_hlc", pulled.v);
	if (rc == ROVE_OK)
		rc = proof_keep(r, txn, &h->clock);
	if (rc == ROVE_OK)
		rc = rpl_pull_state_put(r, txn, &prev, &next);
	/* Past a snapshot, acknowledged ops the cursor passed are done. */
	if (rc == ROVE_OK && next.snap_seq == 0 && next.cursor != 0)
		rc = outbox_trim(r, txn, next.cursor, w);
	if (rc == ROVE_OK)
		rc = view_settle(r, txn, &gone, w);
	/* The journal took the ops settled above too: kept to its bound. */
	if (rc == ROVE_OK && journaled > 0)
		rc = rpl_journal_bound(r, txn, w);
	if (rc == ROVE_OK && strcmp(r->role, h->role) != 0) {
		snprintf(r->role, sizeof(r->role), "%s", h->role);
		rc = rove_db_put_str(txn, r->meta, "role", r->role);
	}
	/* (the whole file walked sound by this sync: rove_replica_pages_sound) */
	if (rc == ROVE_OK && r->pages_walked_ms != 0)
		rc = rove_db_put_u64(txn, r->meta, "pages_checked", r->pages_walked_ms);
	rc = rpl_commit_or_abort(txn, rc);
	if (rc == ROVE_OK)
		r->pages_walked_ms = 0;
	if (rc != ROVE_OK) {
		/* A swap of the bases was undone with the transaction. */
		r->base = base;
		r->aside = aside;
	}
	if (rc == ROVE_OK && dropped.n > 0)
		rove_warn("pull: the server sent %u value%s no sound server holds, not kept (the first: %s); its admin "
			  "can run 'roved check'",
			  dropped.n, dropped.n == 1 ? "" : "s", dropped.first);
	free(gone.keys);
	free(e);
	rpl_work_free(w);
	return rc;
}

int rove_replica_push_results(rove_replica *r, uint64_t server, const rove_uuid *run, const rove_proof *clock,
			      const rove_op_head *ops, const rove_push_result *res, uint32_t n, uint32_t *accepted,
			      uint32_t *rejected)
{
	int rc;

	RPL_WITH_GROWTH(r, push_results_once(r, server, run, clock, ops, res, n, accepted, rejected));
	return rc;
}

void rove_pull_state_next(const rove_pull_state *prev, const rove_pull_reply *h, rove_pull_state *next)
{
	rove_pull_state n;

	/* A reset snapshot zeroes the cursor; a snapshot chunk brings its
	 * epoch and the resume position, or at its end the cursor; an ops
	 * chunk brings its cursor. */
	memset(&n, 0, sizeof(n));
	n.cursor = prev->cursor;
	n.epoch = prev->epoch;
	n.server = prev->server; /* written by server_check, not here */
	n.run = h->run;
	n.ack_run = prev->ack_run;
	n.ack_seq = prev->ack_seq;
	n.snap_end = prev->snap_end;
	n.snap_end_kept = true; /* by rpl_pull_state_put, with n */
	if (h->mode == ROVE_PULL_SNAPSHOT) {
		if (h->reset)
			n.cursor = 0;
		n.epoch = h->epoch;
		if (h->more) {
			n.snap_seq = h->snap_seq;
			n.snap_keylen = h->snap_keylen;
			memcpy(n.snap_key, h->snap_key, h->snap_keylen);
		} else {
			/* Its chunks were read at heads up to this one: a
			 * record that moved meanwhile from a scope its walk
			 * had not reached into one it had passed is in none
			 * of them, and comes whole with the op that moved
			 * it (the server's pull, snap_end). */
			n.cursor = h->snap_seq;
			n.snap_end = h->head;
		}
	} else {
		n.cursor = h->cursor;
		if (h->more && h->snap_keylen > 0) {
			/* A family cut short: the next chunk resumes after it. */
			n.snap_keylen = h->snap_keylen;
			memcpy(n.snap_key, h->snap_key, h->snap_keylen);
		}
	}
	/* What the replica holds now was read at the server's head (a
	 * snapshot's chunk, a family sent whole): until the cursor passes
	 * it, the server vouches for its history up to there, as for
	 * acknowledged pushes (a later run holds the earlier ones). A server
	 * restored from a copy older than that cannot, and the replica
	 * recovers (attack forty-one: a snapshot cut short across a restore
	 * kept for good what the copy lacked). */
	if (h->head > n.ack_seq) {
		n.ack_run = h->run;
		n.ack_seq = h->head;
	}
	/* Acknowledged ops the cursor has passed are vouched for by it. */
	if (n.snap_seq == 0 && n.cursor >= n.ack_seq)
		n.ack_seq = 0;
	if (n.snap_seq == 0 && n.cursor >= n.snap_end)
		n.snap_end = 0;
	*next = n;
}

int rove_replica_seen(rove_replica *r, rove_seen *seen)
{
	rove_pull_state ps;
	MDB_txn *txn;
	int rc = rpl_txn_begin(r, MDB_RDONLY, &txn);

	memset(seen, 0, sizeof(*seen));
	if (rc != ROVE_OK)
		return rc;
	rc = rpl_pull_state_get(r, txn, &ps);
	if (rc == ROVE_OK)
		rc = rpl_proof_get(r, txn, &seen->clock);
	mdb_txn_abort(txn);
	if (rc != ROVE_OK)
		return rc;
	seen->server = ps.server;
	seen->run = ps.run;
	seen->seq = ps.snap_seq != 0 ? ps.snap_seq : ps.cursor;
	if (ps.ack_seq > ps.cursor) {
		seen->ack_run = ps.ack_run;
		seen->ack_seq = ps.ack_seq;
	}
	return ROVE_OK;
}

/* The meta keys of rove_replica_pace (absent: 0, no bound), and the
 * bound a value must be under. */
static const char *pace_key(bool pull)
{
	return pull ? "pull_pace" : "push_pace";
}

static uint32_t pace_max(bool pull)
{
	return pull ? ROVE_MAX_SNAPSHOT_ITEMS : ROVE_MAX_PUSH_OPS;
}

int rove_replica_pace(rove_replica *r, bool pull, uint32_t *n)
{
	uint64_t v = 0;
	MDB_txn *txn;
	int rc = rpl_txn_begin(r, MDB_RDONLY, &txn);

	*n = 0;
	if (rc != ROVE_OK)
		return rc;
	rc = rove_db_get_u64(txn, r->meta, pace_key(pull), &v);
	mdb_txn_abort(txn);
	/* Absent, or damaged (a hint: the sync finds the pace anew). */
	if (rc == ROVE_ENOTFOUND || rc == ROVE_EPROTO)
		return ROVE_OK;
	if (rc == ROVE_OK && v < pace_max(pull))
		*n = (uint32_t)v;
	return rc;
}

static int pace_set_once(rove_replica *r, bool pull, uint32_t n)
{
	const char *key = pace_key(pull);
	MDB_val k = {strlen(key), (void *)key};
	MDB_txn *txn;
	int rc = rpl_txn_begin(r, 0, &txn), mrc;

	if (rc != ROVE_OK)
		return rc;
	if (n != 0) {
		rc = rove_db_put_u64(txn, r->meta, key, n);
	} else {
		mrc = mdb_del(txn, r->meta, &k, NULL);
		rc = mrc == 0 || mrc == MDB_NOTFOUND ? ROVE_OK : rove_db_err(mrc, "meta");
	}
	return rpl_commit_or_abort(txn, rc);
}

int rove_replica_pace_set(rove_replica *r, bool pull, uint32_t n)
{
	uint32_t was;
	int rc = rove_replica_pace(r, pull, &was);

	if (n >= pace_max(pull))
		n = 0;
	if (rc != ROVE_OK || n == was)
		return rc;
	rc = rove_replica_writable(r);
	if (rc == ROVE_OK)
		RPL_WITH_GROWTH(r, pace_set_once(r, pull, n));
	return rc;
}

void rove_pull_state_request(const rove_pull_state *ps, const rove_uuid *replica, uint32_t max,
			     rove_pull_req *q)
{
	memset(q, 0, sizeof(*q));
	q->replica = *replica;
	q->cursor = ps->cursor;
	q->snap_seq = ps->snap_seq;
	q->epoch = ps->epoch;
	q->snap_keylen = ps->snap_keylen;
	memcpy(q->snap_key, ps->snap_key, ps->snap_keylen);
	q->max_items = max;
	q->server = ps->server;
	q->run = ps->run;
	/* Acknowledged ops past the cursor: the server vouches for them too. */
	if (ps->ack_seq > ps->cursor) {
		q->ack_run = ps->ack_run;
		q->ack_seq = ps->ack_seq;
	}
	/* (sent with proofs, which it follows: rove sends both, or neither
	 * to an older server) */
	q->snap_end = ps->snap_end > ps->cursor ? ps->snap_end : 0;
}

/* Drops this process's mapping of the replica's pages once a chunk is
 * committed. LMDB reads through its map the B-tree pages a write
 * transaction copies (the path down to each leaf it changes), and the
 * kernel maps the cached pages around each page faulted in
 * (fault-around): a bootstrap, which writes the whole replica chunk by
 * chunk, kept about a tenth of the file mapped, 171 MB of its 189 MB peak
 * RSS at 1,000,000 customers (docs/PERFORMANCE.md). They are the file's
 * clean pages in the page cache, not this process's own memory; mapping
 * the file again at the same size (what growing the map does, with no
 * transaction open) unmaps them, and the next chunk maps again from the
 * cache the few pages it reads, so a sync's resident size follows one
 * chunk, not the replica. (LMDB 0.9 does not say where its map is, so
 * the pages cannot be given back with madvise.) */
static int map_release(rove_replica *r)
{
	MDB_envinfo info;
	int rc = rove_db_err(mdb_env_info(r->env, &info), "map");

	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_env_set_mapsize(r->env, info.me_mapsize), "map");
	return rc;
}

int rove_replica_apply_pull(rove_replica *r, rove_msg *reply, uint32_t *items)
{
	rove_msg start = *reply; /* to read the items again after a growth */
	const rove_pull_reply *h = &reply->u.pull_reply;
	int rc;

	/* Nothing new (the common sync): no write, no disk flush. */
	if (h->n == 0 && rove_msg_items_end(reply) != ROVE_OK)
		return ROVE_EPROTO;
	if (h->mode == ROVE_PULL_OPS && h->n == 0 && !h->more && strcmp(r->role, h->role) == 0) {
		rove_pull_state ps;
		rc = rove_replica_pull_state(r, &ps);
		if (rc == ROVE_OK && ps.cursor == h->cursor && ps.snap_seq == 0 && ps.snap_keylen == 0) {
			*items = 0;
			return ROVE_OK;
		}
	}

	/* (a damaged page of a base or an index, written through LMDB by
	 * the records this brings, corrupts the process's memory) */
	if (h->n > 0 && (rc = rove_replica_pages_sound_pull(r)) != ROVE_OK)
		return rc;
	RPL_WITH_GROWTH(r, (*reply = start, apply_pull_once(r, reply, items)));
	if (rc == ROVE_OK && *items > 0)
		rc = map_release(r);
	return rc;
}
