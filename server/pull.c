/*
 * pull.c - the engine's read path: snapshots and ops after a cursor,
 * restricted to what the user may see.
 *
 * Users who read everything get the records table and the oplog as they
 * are. Everybody else reads through the scope indexes: a snapshot walks
 * scoperec under each of the user's scopes; an incremental pull merges the
 * user's scopelog ranges after the cursor, so its cost follows the scope,
 * not the database. For each op found, the record's scopes now decide:
 * still visible and not moved - the op; moved into view - the whole record
 * and its children; out of view - an evict for the record and children.
 *
 * Every reply stays within its budget of items and bytes (chunk_full),
 * also inside a family of any size: a family cut short leaves the cursor
 * before its op and sends the key of the last member sent, from which the
 * next request resumes. Skipping the members sent already is safe even if
 * the record moved again meanwhile: any later change of it is a later op
 * in the user's scopes, which decides the family again, whole.
 */
#include "engine_int.h"
#include "hlc.h"
#include "metrics.h"

#include "err.h"
#include "log.h"
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pull_ctx {
	rove_engine *e;
	MDB_txn *txn;
	rove_policy_ctx pc;
	const rove_user *u;
	rove_user_scopes *us;
	rove_pull_reply *h;
	rove_buf *items;
	uint32_t max;
	uint32_t budget; /* the reply's bytes */
	rove_record *rec; /* scratch */
	/* The newest record format the replica reads; for one of format 1,
	 * records stored in format 2 are written anew into conv. */
	int records;
	rove_record *conv;
	/* Ops: the one looked at, by its head (its fields go on as stored),
	 * and its author. */
	rove_op_head oh;
	char author[ROVE_MAX_NAME + 1];
	/* The look-ups of ops and records, in about key order (store.h). */
	rove_store_reader rd;
	/* Ops: the records of the last two ops looked at (recs[last] the
	 * latter, if has_last): the parent a child's scopes need is often
	 * the record of the op before (a customer, then its history). */
	rove_record *recs[2];
	int last;
	bool has_last;
	rove_scopes rs;
	uint32_t scope; /* snapshots: the index of the user's scope walked */
	uint32_t damaged; /* snapshots: scope entries whose copy was unusable */
	/* Ops: the family of the first op (seq first) resumes after this
	 * member (the request's resume key), and whether this reply cut a
	 * family short. */
	uint64_t first;
	const uint8_t *resume;
	bool cut;
	/* Ops the puller's replica pushed (their stamps' node is its own),
	 * go by reference when the request allows it: the replica holds
	 * them as kept (the push answers said how), so only their place in
	 * the history travels. */
	bool own;
	uint64_t node;
	/* Ops up to this one that move a record between two of the user's
	 * scopes send it whole (the request's snap_end; all of them for a
	 * request without it). */
	uint64_t snap_end;
	/* Ops: the families this reply sent whole or evicted, as they are
	 * in its transaction (attack 103: a customer moved out of a
	 * reader's view and back 15 times came whole 15 times). */
	uint8_t sent[ROVE_PULL_FAMILIES_MEMO][ROVE_RECORD_KEY];
	uint32_t nsent;
} pull_ctx;

/* Sends op (at seq, stored as raw) as it is, or by reference when it is
 * the puller's own. */
static int emit_op(pull_ctx *p, uint64_t seq, const rove_op_head *op, const char *author, const MDB_val *raw)
{
	int rc;

	if (p->own && op->st.node == p->node && strcmp(author, p->u->name) == 0)
		rc = rove_enc_entry_mine(p->items, op->coll, &op->rid, seq, &op->op_id);
	else
		rc = rove_enc_entry_op_raw(p->items, raw->mv_data, raw->mv_size);
	if (rc == ROVE_OK)
		p->h->n++;
	return rc;
}

static bool chunk_full(const pull_ctx *p)
{
	return p->h->n >= p->max || p->items->len >= p->budget;
}

/* Loads a record by key; ROVE_ENOTFOUND if absent. */
static int load(pull_ctx *p, const uint8_t *reckey, rove_record *rec)
{
	MDB_val v;
	int rc = rove_store_record_raw_at(&p->e->st, p->txn, &p->rd, reckey, &v);

	if (rc != ROVE_OK)
		return rc;
	if (rove_dec_record(v.mv_data, v.mv_size, rec) != ROVE_OK || rec->coll != reckey[0] ||
	    memcmp(rec->id.b, reckey + 1, 16) != 0) {
		rove_error("stored record is corrupt");
		return ROVE_EPROTO;
	}
	return ROVE_OK;
}

static int emit_evict(pull_ctx *p, const uint8_t *reckey);

/* A record whole, as stored (nothing if it is gone). A deleted one (a
 * tombstone) travels as an evict, a key and not the record: the replica
 * may hold it from before its family left the user's scope, when the
 * delete was out of sight. */
static int emit_record(pull_ctx *p, const uint8_t *reckey)
{
	MDB_val v;
	int rc = rove_store_record_raw_at(&p->e->st, p->txn, &p->rd, reckey, &v);

	if (rc != ROVE_OK)
		return rc == ROVE_ENOTFOUND ? ROVE_OK : rc;
	if (rove_dec_record(v.mv_data, v.mv_size, p->rec) != ROVE_OK) {
		rove_error("corrupt record in the store");
		return ROVE_EPROTO;
	}
	if (rove_record_deleted(p->rec))
		return emit_evict(p, reckey);
	rc = rove_enc_entry_record_for(p->items, v.mv_data, v.mv_size, p->records, p->conv);
	if (rc == ROVE_OK)
		p->h->n++;
	return rc;
}

static int emit_evict(pull_ctx *p, const uint8_t *reckey)
{
	rove_uuid id;
	int rc;

	memcpy(id.b, reckey + 1, 16);
	rc = rove_enc_entry_evict(p->items, reckey[0], &id);
	if (rc == ROVE_OK)
		p->h->n++;
	return rc;
}

/* The record and every child of it, whole or evicted, in key order after
 * the record itself; members up to `after` (a member's key, or NULL for
 * none) were sent by an earlier reply. When the chunk fills up, the walk
 * stops with p->cut set and the last member sent as the resume key. */
typedef struct family_ctx {
	pull_ctx *p;
	bool evict;
	const uint8_t *after;
} family_ctx;

static int emit_member(const uint8_t member[ROVE_RECORD_KEY], void *arg)
{
	family_ctx *f = arg;
	pull_ctx *p = f->p;
	int rc;

	if (f->after != NULL) {
		/* Children come in key order: skip up to the resume key. */
		if (memcmp(member, f->after, ROVE_RECORD_KEY) <= 0)
			return ROVE_OK;
		f->after = NULL;
	}
	if (p->h->n > 0 && chunk_full(p)) {
		p->cut = true;
		return ROVE_EEXIST; /* stop the walk */
	}
	rc = f->evict ? emit_evict(p, member) : emit_record(p, member);
	if (rc == ROVE_OK) {
		memcpy(p->h->snap_key, member, ROVE_RECORD_KEY);
		p->h->snap_keylen = ROVE_RECORD_KEY;
	}
	return rc;
}

static int emit_family(pull_ctx *p, const uint8_t *reckey, bool evict, const uint8_t *after)
{
	family_ctx f = {p, evict, NULL};
	int rc = ROVE_OK;

	/* The record first, unless the resume key says it was sent. */
	if (after == NULL)
		rc = emit_member(reckey, &f);
	else if (memcmp(after, reckey, ROVE_RECORD_KEY) != 0)
		f.after = after;
	if (rc == ROVE_OK)
		rc = rove_store_each_child(&p->e->st, p->txn, reckey, 0, emit_member, &f);
	return rc == ROVE_EEXIST && p->cut ? ROVE_OK : rc;
}

/* ---- snapshots ---- */

/* A snapshot's chunks are larger than an ops reply's: each is a durable
 * commit on the replica (rove_limits.h). */
static void snapshot_budget(pull_ctx *p, uint32_t asked, bool lean)
{
	p->max = asked == 0 || asked > ROVE_MAX_SNAPSHOT_ITEMS ? ROVE_MAX_SNAPSHOT_ITEMS : asked;
	p->budget = lean ? ROVE_LEAN_CHUNK_BYTES : ROVE_SNAPSHOT_CHUNK_BYTES;
}

/* Everything (analysts, admins): the records table in key order. */
static int snapshot_record(const uint8_t key[ROVE_RECORD_KEY], const MDB_val *raw, void *arg)
{
	pull_ctx *p = arg;
	bool deleted;
	int rc;

	if (chunk_full(p)) {
		p->h->more = true;
		return ROVE_EEXIST; /* the rest in the next chunk */
	}
	/* Sent as stored: only whether it is a tombstone is read here (a
	 * whole decode was a quarter of the server's CPU in a bootstrap). */
	if (rove_record_raw_deleted(raw->mv_data, raw->mv_size, &deleted) != ROVE_OK) {
		rove_error("corrupt record in the store");
		return ROVE_EPROTO;
	}
	if (!deleted) {
		rc = rove_enc_entry_record_for(p->items, raw->mv_data, raw->mv_size, p->records, p->conv);
		if (rc != ROVE_OK)
			return rc;
		p->h->n++;
	}
	memcpy(p->h->snap_key, key, ROVE_RECORD_KEY);
	p->h->snap_keylen = ROVE_RECORD_KEY;
	return ROVE_OK;
}

static int snapshot_all(pull_ctx *p, const rove_pull_req *q)
{
	size_t after = q->snap_keylen == ROVE_RECORD_KEY ? ROVE_RECORD_KEY : 0;
	int rc = rove_store_each_record(&p->e->st, p->txn, q->snap_key, after, snapshot_record, p);

	return rc == ROVE_EEXIST ? ROVE_OK : rc;
}

/* Whether the record is also in one of the user's scopes before index i
 * (then it was sent from there): a look in scoperec per earlier scope. */
static int seen_earlier(const pull_ctx *p, uint32_t i, const uint8_t *reckey, bool *seen)
{
	int rc = ROVE_OK;

	*seen = false;
	for (uint32_t j = 0; rc == ROVE_OK && !*seen && j < i; j++)
		rc = rove_store_scoped_has(&p->e->st, p->txn, p->us->s[j], reckey, seen);
	return rc;
}

/* Whether raw is the stored record of reckey, and live: its outline
 * read as the records walk reads it (the receiver decodes it strictly;
 * what the server can tell is garbage, it does not send). */
static int scoped_bytes_ok(const MDB_val *raw, const uint8_t reckey[ROVE_RECORD_KEY], bool *live)
{
	rove_uuid id;
	uint8_t coll;
	bool deleted;

	if (rove_record_raw_outline(raw->mv_data, raw->mv_size, &coll, &id, &deleted) != ROVE_OK || coll != reckey[0] ||
	    memcmp(id.b, reckey + 1, 16) != 0)
		return ROVE_EPROTO;
	*live = !deleted;
	return ROVE_OK;
}

/* Sends the record of a scope entry whose value is cover: the copy the
 * entry holds, in the order of the walk. An empty one (put by a roved
 * before format 5) or a damaged one (counted, said once per reply) is
 * read from the records table instead. */
static int emit_scoped(pull_ctx *p, const uint8_t reckey[ROVE_RECORD_KEY], const MDB_val *cover)
{
	MDB_val v = *cover;
	bool live = false;
	int rc = ROVE_OK;

	if (v.mv_size > 0 && scoped_bytes_ok(&v, reckey, &live) != ROVE_OK) {
		p->damaged++;
		v.mv_size = 0;
	}
	if (v.mv_size == 0) {
		rc = rove_store_record_raw(&p->e->st, p->txn, reckey, &v);
		if (rc != ROVE_OK)
			return rc == ROVE_ENOTFOUND ? ROVE_OK : rc;
		if (scoped_bytes_ok(&v, reckey, &live) != ROVE_OK) {
			rove_error("corrupt record in the store");
			return ROVE_EPROTO;
		}
	}
	if (!live)
		return ROVE_OK; /* a snapshot holds no tombstone */
	rc = rove_enc_entry_record_for(p->items, v.mv_data, v.mv_size, p->records, p->conv);
	if (rc == ROVE_OK)
		p->h->n++;
	return rc;
}

/* One record of the scope at index p->scope, with its entry's value:
 * sent once. */
static int snapshot_scoped_record(const uint8_t reckey[ROVE_RECORD_KEY], const MDB_val *cover, void *arg)
{
	pull_ctx *p = arg;
	uint32_t i = p->scope;
	bool seen;
	int rc;

	if (chunk_full(p)) {
		p->h->more = true;
		return ROVE_EEXIST;
	}
	rc = seen_earlier(p, i, reckey, &seen);
	if (rc == ROVE_OK && !seen)
		rc = emit_scoped(p, reckey, cover);
	p->h->snap_key[0] = (uint8_t)(i >> 8);
	p->h->snap_key[1] = (uint8_t)i;
	memcpy(p->h->snap_key + 2, reckey, ROVE_RECORD_KEY);
	p->h->snap_keylen = 2 + ROVE_RECORD_KEY;
	return rc;
}

/* Scoped: scoperec under each scope in turn. The resume key is the scope's
 * index (2 bytes) and the last record key sent. */
static int snapshot_scoped(pull_ctx *p, const rove_pull_req *q)
{
	uint32_t first = 0;
	const uint8_t *resume = NULL;
	int rc = ROVE_OK;

	if (q->snap_keylen == 2 + ROVE_RECORD_KEY) {
		first = (uint32_t)q->snap_key[0] << 8 | q->snap_key[1];
		resume = q->snap_key + 2;
	} else if (q->snap_keylen != 0) {
		return ROVE_EINVAL;
	}
	for (uint32_t i = first; rc == ROVE_OK && i < p->us->n && !p->h->more; i++) {
		p->scope = i;
		rc = rove_store_each_scoped_raw(&p->e->st, p->txn, p->us->s[i], i == first ? resume : NULL,
						snapshot_scoped_record, p);
	}
	if (p->damaged > 0)
		rove_error("snapshot for '%s': %u scope entr%s held a damaged copy of a record; sent the records "
			   "table's instead (roved check lists them)",
			   p->u->name, p->damaged, p->damaged == 1 ? "y" : "ies");
	return rc == ROVE_EEXIST ? ROVE_OK : rc;
}

/* ---- ops after the cursor ---- */

static int op_all(uint64_t seq, const MDB_val *raw, void *arg)
{
	pull_ctx *p = arg;
	int rc;

	if (chunk_full(p)) {
		p->h->more = true;
		return ROVE_EEXIST; /* the rest in the next chunk */
	}
	if (rove_dec_op_head_author(raw->mv_data, raw->mv_size, &p->oh, p->author) != ROVE_OK || p->oh.seq != seq) {
		rove_error("corrupt op in the oplog");
		return ROVE_EPROTO;
	}
	/* From a cursor at or past the floor the ops follow on one another:
	 * a gap is ops lost to damage, which the replica would never get
	 * (attack sixty-two: served, the pull skipped them). */
	if (seq != p->h->cursor + 1) {
		rove_error("the oplog lacks ops %llu to %llu", (unsigned long long)p->h->cursor + 1,
			   (unsigned long long)seq - 1);
		return ROVE_EPROTO;
	}
	rc = emit_op(p, seq, &p->oh, p->author, raw);
	if (rc != ROVE_OK)
		return rc;
	p->h->cursor = seq;
	return ROVE_OK;
}

static int ops_all(pull_ctx *p, uint64_t cursor)
{
	int rc = rove_store_each_op(&p->e->st, p->txn, cursor, op_all, p);

	return rc == ROVE_EEXIST ? ROVE_OK : rc;
}

/* Whether this reply sent the family of reckey whole, or its evicts. */
static bool family_sent(const pull_ctx *p, const uint8_t reckey[ROVE_RECORD_KEY])
{
	for (uint32_t i = 0; i < p->nsent; i++)
		if (memcmp(p->sent[i], reckey, ROVE_RECORD_KEY) == 0)
			return true;
	return false;
}

/* Sends what the op at seq means for this user now; a family resumes
 * after `after` (NULL: from its start). */
static int emit_for_op(pull_ctx *p, uint64_t seq, bool moved, const uint8_t *after)
{
	MDB_val raw;
	uint8_t reckey[ROVE_RECORD_KEY];
	rove_record *rec;
	bool sees;
	int rc = rove_store_oplog_head(&p->e->st, p->txn, &p->rd, seq, &p->oh, p->author, &raw);

	if (rc == ROVE_ENOTFOUND) {
		/* The scopes' log names ops past the floor only (a cursor
		 * below it gets a snapshot): an op lost to damage (attack
		 * sixty-two: the pull said "not found"). */
		rove_error("the oplog lacks op %llu, which the scope log names", (unsigned long long)seq);
		return ROVE_EPROTO;
	}
	if (rc != ROVE_OK)
		return rc;
	rove_record_key(reckey, p->oh.coll, &p->oh.rid);
	rec = p->recs[!p->last];
	rc = load(p, reckey, rec);
	if (rc == ROVE_ENOTFOUND)
		return ROVE_OK;
	if (rc != ROVE_OK)
		return rc;
	/* The record before, read in this transaction, stands for itself
	 * if it is this one's parent (the policy checks that it is). */
	rc = rove_policy_scopes(&p->pc, rec, p->has_last ? p->recs[p->last] : NULL, &p->rs);
	if (rc != ROVE_OK)
		return rc;
	p->last = !p->last;
	p->has_last = true;
	sees = rove_policy_sees(p->us, &p->rs);
	if (!sees || moved) {
		/* Sent whole or evicted earlier in this reply, as it is now:
		 * the op alone says the rest, or nothing when out of view. */
		if (family_sent(p, reckey))
			return sees && after == NULL ? emit_op(p, seq, &p->oh, p->author, &raw) : ROVE_OK;
		rc = emit_family(p, reckey, !sees, after);
		if (rc == ROVE_OK && !p->cut && p->nsent < ROVE_PULL_FAMILIES_MEMO)
			memcpy(p->sent[p->nsent++], reckey, ROVE_RECORD_KEY);
		return rc;
	}
	if (after != NULL)
		return ROVE_OK; /* the op was a family's; a later op decides it */
	return emit_op(p, seq, &p->oh, p->author, &raw);
}

/* One op in the user's scopes (the merge of their scopelog ranges). A
 * record that moved between two of them stayed in view: its op is
 * enough, unless the replica's last snapshot was read while it moved,
 * and may lack it (a snapshot walks the scopes one after another: one
 * moving from a scope not yet walked into one walked already is in none
 * of its replies; attack 103). */
static int op_scoped(uint64_t seq, enum rove_scope_move move, void *arg)
{
	pull_ctx *p = arg;
	bool moved = move == ROVE_MOVE_ACROSS || (move == ROVE_MOVE_WITHIN && seq <= p->snap_end);
	int rc;

	if (chunk_full(p)) {
		p->h->more = true;
		return ROVE_EEXIST; /* the rest in the next chunk */
	}
	rc = emit_for_op(p, seq, moved, seq == p->first ? p->resume : NULL);
	p->resume = NULL;
	if (rc == ROVE_OK && p->cut) {
		/* The op's family goes on in the next reply: every op before
		 * it is done (those between the last one sent and it are in
		 * none of the user's scopes). */
		p->h->cursor = seq - 1;
		p->h->more = true;
		return ROVE_EEXIST;
	}
	if (rc == ROVE_OK) {
		p->h->cursor = seq;
		p->h->snap_keylen = 0;
	}
	return rc;
}

static int ops_scoped(pull_ctx *p, uint64_t cursor)
{
	int rc;

	p->first = cursor + 1;
	p->recs[0] = malloc(sizeof(*p->recs[0]));
	p->recs[1] = malloc(sizeof(*p->recs[1]));
	if (p->recs[0] == NULL || p->recs[1] == NULL)
		rc = ROVE_ENOMEM;
	else
		rc = rove_store_scopelog_each(&p->e->st, p->txn, p->us->s, p->us->n, cursor, op_scoped, p);
	free(p->recs[0]);
	free(p->recs[1]);
	p->recs[0] = p->recs[1] = NULL;
	if (rc == ROVE_EEXIST)
		rc = ROVE_OK;
	/* Nothing more in scope: the replica is current up to the head. */
	if (rc == ROVE_OK && !p->h->more)
		p->h->cursor = p->h->head;
	return rc;
}

/* Frees what a pull held; rc is its result. */
static int pull_done(pull_ctx *p, rove_buf *items, int rc)
{
	rove_store_reader_close(&p->rd);
	rove_buf_free(items);
	free(p->us);
	free(p->rec);
	free(p->conv);
	return rc;
}

int rove_pull(rove_engine *e, MDB_txn *txn, const rove_user *u, const rove_pull_req *q, bool lean,
	      rove_buf *reply)
{
	rove_pull_reply h;
	rove_buf items;
	pull_ctx p;
	uint64_t floor = 0;
	int rc;

	memset(&h, 0, sizeof(h));
	memset(&p, 0, sizeof(p));
	snprintf(h.role, sizeof(h.role), "%s", rove_role_name(u->role));
	h.epoch = u->epoch;
	rc = rove_store_head(&e->st, txn, &h.head);
	if (rc != ROVE_OK)
		return rc;
	h.server = e->st.node;
	h.run = e->runs[e->nruns - 1].id;
	if (q->server != 0 && q->server != h.server) {
		rove_engine_error(reply, ROVE_EWRONGSERVER, "this replica syncs with another server");
		return ROVE_OK;
	}
	/* A replica that holds something names where it came from: that
	 * history, and the one of its latest acknowledged push, must be this
	 * server's (not a restored copy's, not another server's). */
	if (((q->cursor != 0 || q->snap_seq != 0) &&
	     !rove_engine_history_has(e, &q->run, q->snap_seq != 0 ? q->snap_seq : q->cursor, h.head)) ||
	    (q->ack_seq != 0 && !rove_engine_history_has(e, &q->ack_run, q->ack_seq, h.head))) {
		rove_engine_error(reply, ROVE_EHISTORY,
				  "this server's history is not the one the replica synced with");
		return ROVE_OK;
	}
	p.e = e;
	p.txn = txn;
	p.pc = rove_engine_policy_read(e, txn);
	p.u = u;
	p.h = &h;
	p.own = q->own;
	p.node = rove_uuid_node(&q->replica);
	p.snap_end = q->has_snap_end ? q->snap_end : UINT64_MAX;
	p.max = q->max_items == 0 || q->max_items > ROVE_MAX_PULL_ITEMS ? ROVE_MAX_PULL_ITEMS : q->max_items;
	p.budget = lean ? ROVE_LEAN_CHUNK_BYTES : ROVE_PULL_CHUNK_BYTES;
	p.us = malloc(sizeof(*p.us));
	p.rec = malloc(sizeof(*p.rec));
	p.records = q->records;
	p.conv = p.records < ROVE_RECORD_FORMAT ? malloc(sizeof(*p.conv)) : NULL;
	rove_buf_init(&items);
	p.items = &items;
	if (p.us == NULL || p.rec == NULL || (p.records < ROVE_RECORD_FORMAT && p.conv == NULL))
		rc = ROVE_ENOMEM;
	if (rc == ROVE_OK)
		rc = rove_policy_user_scopes(&p.pc, u, p.us);
	if (rc == ROVE_OK)
		rc = rove_store_floor(&e->st, txn, &floor);
	if (rc == ROVE_OK) {
		/* A replica behind the ops compaction dropped takes a new
		 * snapshot, as a fresh one does. */
		bool behind = floor > 0 && (q->snap_seq != 0 ? q->snap_seq < floor : q->cursor < floor);
		bool fresh = (q->cursor == 0 && q->snap_seq == 0) || behind;
		if (fresh || q->epoch != u->epoch) {
			/* A new snapshot: the replica drops what it holds first. */
			rove_pull_req start = *q;
			start.snap_keylen = 0;
			h.mode = ROVE_PULL_SNAPSHOT;
			h.reset = true;
			h.snap_seq = h.head;
			snapshot_budget(&p, q->max_items, lean);
			rc = p.us->all ? snapshot_all(&p, &start) : snapshot_scoped(&p, &start);
		} else if (q->snap_seq != 0) {
			h.mode = ROVE_PULL_SNAPSHOT;
			h.snap_seq = q->snap_seq;
			snapshot_budget(&p, q->max_items, lean);
			rc = p.us->all ? snapshot_all(&p, q) : snapshot_scoped(&p, q);
		} else if (q->snap_keylen != 0 && (q->snap_keylen != ROVE_RECORD_KEY || p.us->all)) {
			rc = ROVE_EINVAL; /* a family resumes after one record key */
		} else {
			h.mode = ROVE_PULL_OPS;
			h.cursor = q->cursor;
			p.resume = q->snap_keylen == ROVE_RECORD_KEY ? q->snap_key : NULL;
			rc = p.us->all ? ops_all(&p, q->cursor) : ops_scoped(&p, q->cursor);
		}
		if (h.mode == ROVE_PULL_SNAPSHOT)
			h.cursor = h.more ? 0 : h.snap_seq;
	}
	if (rc == ROVE_EINVAL) {
		rove_engine_error(reply, ROVE_EINVAL, "invalid snapshot position");
		return pull_done(&p, &items, ROVE_OK);
	}
	if (rc == ROVE_OK) {
		/* Asked for, the time as the reply leaves: the replica learns
		 * from it how far its laptop's clock is from this one. The wall
		 * clock (a reader may not read the writer's): never after the
		 * time an activity's is checked against (rove_engine_now_ms). */
		h.time_ms = q->clock || q->proofs ? rove_wall_ms() : 0;
		/* Asked for, a proof of the clock as stored with the data
		 * read (past every stamp sent): the replica sends it back, so
		 * that a copy of this database put back later takes the stamps
		 * up to it as its own (engine.c, take_proof). */
		if (q->proofs) {
			rove_hlc clock;
			rc = rove_store_clock_get(&p.e->st, p.txn, &clock);
			if (rc == ROVE_OK && clock.v != 0)
				rc = rove_proof_make(p.e->proof_key, p.e->st.node, clock, &h.clock);
		}
	}
	if (rc == ROVE_OK) {
		rove_buf_reset(reply);
		rc = rove_enc_pull_reply(reply, &h, &items);
		if (rc == ROVE_OK)
			rove_metrics_pull(h.n, reply->len);
	}
	return pull_done(&p, &items, rc);
}
