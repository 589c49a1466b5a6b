#include "compact.h"
#include "rove_assert.h"

#include "db.h"
#include "err.h"
#include "log.h"
#include "policy.h"
#include "policy_store.h"
#include "proto.h"
#include "rove_limits.h"
#include "schema.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>

/* ---- tombstones ---- */

/* What a batch's transaction drops beside its ops: the tombstones of the
 * deletes it drops, with their families. */
typedef struct drop_ctx {
	rove_store *st;
	const rove_pstore *ps;
	MDB_txn *txn;
	rove_record *rec;        /* scratch */
	rove_user_scopes *us;    /* scratch */
	rove_compact_stats *s;
	bool purged;             /* a live record was dropped in this txn */
} drop_ctx;

static rove_policy_ctx policy(const drop_ctx *d)
{
	rove_policy_ctx pc = {d->st, d->ps, d->txn, rove_wall_ms(), NULL, false, {0}};

	return pc;
}

/* Whether op deletes its record: sets the deletion marker. */
static bool deletes(const rove_op *op)
{
	int64_t v;

	return rove_fields_int(&op->fs, ROVE_FIELD_DELETED, &v) && v != 0;
}

/* Drops rec's entries in the indexes: under each scope it is in (a
 * tombstone and a member of a deleted family are in none; said for a
 * damaged index's sake) and under its parent. */
static int unindex(drop_ctx *d, const uint8_t key[ROVE_RECORD_KEY], const rove_record *rec)
{
	const rove_coll_def *cd = rove_schema_coll(rec->coll);
	const rove_field_def *pf = cd != NULL ? rove_schema_parent_field(cd) : NULL;
	const char *pid = pf != NULL ? rove_fields_str(&rec->fs, pf->name) : NULL;
	rove_policy_ctx pc = policy(d);
	rove_scopes sc;
	rove_uuid id;
	int rc = rove_policy_scopes(&pc, rec, NULL, &sc);

	if (rc == ROVE_ENOTFOUND || rc == ROVE_EPROTO)
		rc = ROVE_OK; /* its parent is gone or damaged: in no scope then */
	for (uint32_t i = 0; rc == ROVE_OK && i < sc.n; i++)
		rc = rove_store_scoped_del(d->st, d->txn, sc.s[i], key);
	if (rc == ROVE_OK && pid != NULL && rove_uuid_parse(pid, &id) == ROVE_OK) {
		uint8_t parent[ROVE_RECORD_KEY];
		rove_record_key(parent, cd->parent, &id);
		rc = rove_store_child_del(d->st, d->txn, parent, key);
	}
	return rc;
}

/* The record keys of a family's members, gathered before any is dropped
 * (the children index is not written during its own walk). */
typedef struct members {
	uint8_t (*k)[ROVE_RECORD_KEY];
	size_t n, cap;
} members;

static int gather(const uint8_t key[ROVE_RECORD_KEY], void *arg)
{
	members *m = arg;

	if (m->n == m->cap) {
		size_t cap = m->cap != 0 ? 2 * m->cap : 64;
		void *k = realloc(m->k, cap * sizeof(*m->k));
		if (k == NULL)
			return ROVE_ENOMEM;
		m->k = k;
		m->cap = cap;
	}
	memcpy(m->k[m->n++], key, ROVE_RECORD_KEY);
	return ROVE_OK;
}

/* Drops the records listed under key (its children, theirs...), live or
 * not: a deleted record's family goes with it; but the records of
 * collection keep (0: none; collections start at 1) among key's own children. */
static int drop_family(drop_ctx *d, const uint8_t key[ROVE_RECORD_KEY], unsigned depth, int keep)
{
	members m = {NULL, 0, 0};
	int rc;

	if (depth > ROVE_COMPACT_FAMILY_DEPTH) {
		rove_error("a family nested deeper than %u records: the children index is damaged (roved check)",
			   ROVE_COMPACT_FAMILY_DEPTH);
		return ROVE_EPROTO;
	}
	rc = rove_store_each_child(d->st, d->txn, key, 0, gather, &m);
	for (size_t i = 0; rc == ROVE_OK && i < m.n; i++) {
		rove_uuid id;
		if (m.k[i][0] == keep)
			continue;
		rc = drop_family(d, m.k[i], depth + 1, 0);
		memcpy(id.b, m.k[i] + 1, 16);
		if (rc == ROVE_OK)
			rc = rove_store_record_get(d->st, d->txn, m.k[i][0], &id, d->rec);
		if (rc == ROVE_OK) {
			d->purged |= !rove_record_deleted(d->rec);
			rc = unindex(d, m.k[i], d->rec);
			if (rc == ROVE_OK)
				rc = rove_store_record_del(d->st, d->txn, m.k[i]);
			if (rc == ROVE_OK)
				d->s->family++;
		} else if (rc == ROVE_ENOTFOUND) {
			rc = ROVE_OK; /* an entry naming nothing: dropped below */
		}
		if (rc == ROVE_OK)
			rc = rove_store_child_del(d->st, d->txn, key, m.k[i]);
	}
	free(m.k);
	return rc;
}

/* Drops the tombstone op made, op being dropped from the oplog: its
 * delete is below the floor and older than the horizon, so no replica
 * can still need it (one behind the floor takes a snapshot, which holds
 * no tombstone). Only if op is what deleted it (the marker carries op's
 * stamp): a record takes no change once deleted, so no later op names
 * it - but a target, whose id its user and month make: set again, it is
 * made anew here and carries the marker at 0 (the policy's
 * check_target), which makes it live again on a replica that still
 * holds the tombstone. A deleted customer stays, with its ownership
 * history: what a late change of it is told (`deleted`, to those who
 * held it: SPEC rule 6) reads them; its other records go. */
static int drop_tombstone(drop_ctx *d, const rove_op *op)
{
	uint8_t key[ROVE_RECORD_KEY];
	const rove_field *f;
	int rc;

	if (!deletes(op))
		return ROVE_OK;
	rc = rove_store_record_get(d->st, d->txn, op->coll, &op->rid, d->rec);
	if (rc == ROVE_ENOTFOUND)
		return ROVE_OK; /* dropped with its family already */
	if (rc != ROVE_OK)
		return rc;
	f = rove_fields_get(&d->rec->fs, ROVE_FIELD_DELETED);
	if (!rove_record_deleted(d->rec) || f == NULL || rove_stamp_cmp(&f->st, &op->st) != 0)
		return ROVE_OK;
	rove_record_key(key, op->coll, &op->rid);
	if (op->coll == ROVE_COLL_CUSTOMER) {
		rc = drop_family(d, key, 1, ROVE_COLL_OWNERSHIP);
		if (rc == ROVE_OK)
			d->s->kept++;
		return rc;
	}
	rc = drop_family(d, key, 1, 0);
	if (rc == ROVE_OK)
		rc = rove_store_record_get(d->st, d->txn, op->coll, &op->rid, d->rec); /* the scratch was reused */
	if (rc == ROVE_OK)
		rc = unindex(d, key, d->rec);
	if (rc == ROVE_OK)
		rc = rove_store_record_del(d->st, d->txn, key);
	if (rc == ROVE_OK)
		d->s->tombstones++;
	return rc;
}

/* A user who reads everything holds records in no scope (a deleted
 * customer's deals, say), which no op will take off their replica once
 * dropped here: their scope epoch moves, so that their next sync takes a
 * new snapshot, keeping its pending changes. */
static int reset_all_reader(const char *login, int role, void *arg)
{
	drop_ctx *d = arg;
	rove_policy_ctx pc = policy(d);
	uint8_t hash[ROVE_HASH_BYTES];
	rove_user u;
	int rc;

	(void)role;
	rc = rove_store_user_get(d->st, d->txn, login, &u, hash);
	if (rc == ROVE_OK)
		rc = rove_policy_user_scopes(&pc, &u, d->us);
	if (rc != ROVE_OK || !d->us->all)
		return rc;
	u.epoch++;
	rc = rove_store_user_put(d->st, d->txn, &u, hash);
	if (rc == ROVE_OK)
		d->s->resets++;
	return rc;
}

/* ---- ops ---- */

/* An op at the front of the oplog, for drop_ops: dropped (ROVE_OK, its
 * tombstone with it) while it is older than the horizon and not the
 * head; else kept, and the batch ends there (ROVE_EEXIST). */
typedef struct front_ctx {
	drop_ctx *d;
	uint64_t horizon_ms, head, floor;
	rove_op *op;
} front_ctx;

static int drop_front(uint64_t seq, const MDB_val *raw, void *arg)
{
	front_ctx *f = arg;
	int rc;

	if (seq >= f->head)
		return ROVE_EEXIST; /* the head stays: it is where the next op goes */
	/* The ops from the floor on follow on one another: dropping past a
	 * gap would hide the damage for good (attack sixty-two) */
	if (seq != f->floor + 1) {
		rove_error("the oplog lacks ops %llu to %llu: the database is damaged; not compacted further (roved "
			   "check it)",
			   (unsigned long long)f->floor + 1, (unsigned long long)seq - 1);
		return ROVE_EPROTO;
	}
	if ((rc = rove_dec_op(raw->mv_data, raw->mv_size, f->op)) != ROVE_OK)
		return rc;
	if (rove_hlc_ms(f->op->st.hlc) >= f->horizon_ms)
		return ROVE_EEXIST;
	if ((rc = drop_tombstone(f->d, f->op)) != ROVE_OK)
		return rc;
	if (seq > f->floor)
		f->floor = seq;
	return ROVE_OK;
}

/* One batch of ops: drops up to ROVE_COMPACT_BATCH from the front of the
 * oplog, while they are older than horizon_ms and not the head, with the
 * tombstones of the deletes among them, and raises the floor past them,
 * in one transaction. *n says how many. */
static int drop_ops(drop_ctx *d, uint64_t horizon_ms, rove_op *op, uint64_t *n)
{
	rove_store *st = d->st;
	rove_compact_stats *s = d->s;
	MDB_txn *txn = NULL;
	front_ctx f = {d, horizon_ms, 0, 0, op};
	int rc = rove_store_begin_beside(st, &txn);

	*n = 0;
	d->txn = txn;
	d->purged = false;
	if (rc == ROVE_OK)
		rc = rove_store_head(st, txn, &f.head);
	if (rc == ROVE_OK)
		rc = rove_store_floor(st, txn, &f.floor);
	if (rc == ROVE_OK)
		rc = rove_store_oplog_drop_front(st, txn, ROVE_COMPACT_BATCH, drop_front, &f, n);
	if (rc == ROVE_OK && *n > 0)
		rc = rove_store_meta_put(st, txn, "floor", f.floor);
	if (rc == ROVE_OK && d->purged)
		rc = rove_store_each_user(st, txn, reset_all_reader, d);
	if (rc == ROVE_OK && *n > 0) {
		rc = rove_store_commit(txn);
		txn = NULL;
	}
	rove_store_abort(txn);
	d->txn = NULL;
	if (rc == ROVE_OK) {
		s->ops += *n;
		s->floor = f.floor;
		s->head = f.head;
	}
	return rc;
}

/* One batch of scopelog entries for ops at or below the floor (at most
 * ROVE_COMPACT_BATCH dropped, eight times that looked at). *resume holds
 * the key to go on from (empty at first); *n says how many were dropped,
 * *done whether the walk reached the end. */
static int drop_entries(rove_store *st, uint8_t *resume, size_t *resume_len, rove_compact_stats *s, uint64_t *n,
			bool *done)
{
	MDB_txn *txn = NULL;
	uint64_t floor = 0;
	int rc = rove_store_begin_beside(st, &txn);

	*n = 0;
	*done = false;
	if (rc == ROVE_OK)
		rc = rove_store_floor(st, txn, &floor);
	if (rc == ROVE_OK)
		rc = rove_store_scopelog_drop(st, txn, floor, 8 * ROVE_COMPACT_BATCH, ROVE_COMPACT_BATCH, resume,
					      resume_len, n, done);
	if (rc == ROVE_OK && *n > 0) {
		rc = rove_store_commit(txn);
		txn = NULL;
	}
	rove_store_abort(txn);
	if (rc == ROVE_OK)
		s->entries += *n;
	return rc;
}

/* One batch of scope entries given their record's bytes (at most
 * ROVE_COMPACT_BATCH filled, eight times that looked at), from resume on
 * (empty at first); *done once the walk reached the end. */
static int fill_entries(rove_store *st, uint8_t *resume, size_t *resume_len, rove_compact_stats *s, bool *done)
{
	MDB_txn *txn = NULL;
	uint64_t n = 0;
	int rc = rove_store_begin_beside(st, &txn);

	if (rc == ROVE_OK)
		rc = rove_store_scoped_fill(st, txn, rove_policy_scope_copies, 8 * ROVE_COMPACT_BATCH, ROVE_COMPACT_BATCH,
					    resume, resume_len, &n,
					    done);
	if (rc == ROVE_OK && n > 0) {
		rc = rove_store_commit(txn);
		txn = NULL;
	}
	rove_store_abort(txn);
	if (rc == ROVE_OK)
		s->filled += n;
	return rc;
}

/* Every scope entry of an upgraded database given its record's bytes,
 * once: then the store's meta says so, and later runs look at none. */
static int fill_all(rove_store *st, uint8_t *resume, size_t *resume_len, rove_compact_stats *s)
{
	MDB_txn *txn = NULL;
	uint64_t covered = 0;
	bool done = false;
	int rc = rove_store_begin(st, NULL, false, &txn);

	if (rc == ROVE_OK)
		rc = rove_store_meta_get(st, txn, ROVE_STORE_COVERED, &covered);
	rove_store_abort(txn);
	if (rc == ROVE_ENOTFOUND)
		rc = ROVE_OK;
	if (rc != ROVE_OK || covered == 1)
		return rc;
	while (rc == ROVE_OK && !done)
		rc = fill_entries(st, resume, resume_len, s, &done);
	/* A server writing meanwhile puts only entries that cover. */
	txn = NULL;
	if (rc == ROVE_OK)
		rc = rove_store_begin_beside(st, &txn);
	if (rc == ROVE_OK)
		rc = rove_store_meta_put(st, txn, ROVE_STORE_COVERED, 1);
	if (rc == ROVE_OK)
		rc = rove_store_commit(txn);
	else
		rove_store_abort(txn);
	return rc;
}

/* The horizon: keep_ms before now, now being the later of this
 * machine's clock and the server's stored one (a clock reset to 1970
 * must not make every op old); 0 (drop nothing) when keep_ms reaches
 * back before 1970. */
static int compact_horizon(rove_store *st, uint64_t keep_ms, uint64_t *horizon_ms)
{
	uint64_t now_ms = rove_wall_ms();
	rove_hlc clock = {0};
	MDB_txn *txn = NULL;
	int rc = rove_store_begin(st, NULL, false, &txn);

	if (rc == ROVE_OK)
		rc = rove_store_clock_get(st, txn, &clock);
	rove_store_abort(txn);
	if (rc != ROVE_OK)
		return rc;
	if (rove_hlc_ms(clock) > now_ms)
		now_ms = rove_hlc_ms(clock);
	*horizon_ms = now_ms > keep_ms ? now_ms - keep_ms : 0;
	return ROVE_OK;
}

int rove_compact(const char *dir, uint64_t keep_ms, rove_compact_stats *out)
{
	uint64_t horizon_ms = 0;
	rove_db_table more[ROVE_PSTORE_TABLES];
	rove_pstore ps;
	rove_store st;
	rove_op *op = malloc(sizeof(*op));
	drop_ctx d = {&st, &ps, NULL, malloc(sizeof(*d.rec)), malloc(sizeof(*d.us)), out, false};
	uint8_t resume[ROVE_STORE_RESUME_MAX], fill[ROVE_STORE_FILL_RESUME_MAX];
	size_t resume_len = 0, fill_len = 0;
	uint64_t n;
	bool done = false;
	int rc;

	memset(out, 0, sizeof(*out));
	if (op == NULL || d.rec == NULL || d.us == NULL) {
		rc = ROVE_ENOMEM;
		goto out;
	}
	/* Its pages first, before anything is written (the open may make a
	 * table): compaction writes where the free list says, and follows
	 * pages as LMDB finds them (a damaged one could crash it). */
	rc = rove_store_pages_sound_dir(dir, false);
	if (rc != ROVE_OK)
		goto out;
	rc = rove_store_open(dir, &st, more, rove_pstore_tables(&ps, more));
	if (rc != ROVE_OK)
		goto out;
	rc = compact_horizon(&st, keep_ms, &horizon_ms);
	if (rc == ROVE_OK)
		do
			rc = drop_ops(&d, horizon_ms, op, &n);
		while (rc == ROVE_OK && n > 0);
	while (rc == ROVE_OK && !done)
		rc = drop_entries(&st, resume, &resume_len, out, &n, &done);
	if (rc == ROVE_OK)
		rc = fill_all(&st, fill, &fill_len, out);
	if (rc == ROVE_OK && out->head == 0) {
		MDB_txn *txn = NULL;
		rc = rove_store_begin(&st, NULL, false, &txn);
		if (rc == ROVE_OK)
			rc = rove_store_head(&st, txn, &out->head);
		if (rc == ROVE_OK)
			rc = rove_store_floor(&st, txn, &out->floor);
		rove_store_abort(txn);
	}
	rove_store_close(&st);
out:
	free(op);
	free(d.rec);
	free(d.us);
	return rc;
}
