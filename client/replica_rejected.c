/*
 * replica_rejected.c - the changes the server refused (replica.h): kept
 * in the rejected table for good, each one dismissed or not. A dismissal
 * is a meta entry "dismissed/" n(8) -> the time (8), n the refusal's key
 * in the rejected table, so that the table's layout stays as it is.
 */
#include "replica_int.h"

#include "array.h"
#include "db.h"
#include "err.h"
#include "hlc.h"
#include "log.h"
#include "schema.h"
#include "uuid.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define DISMISSED_PREFIX "dismissed/"
#define DISMISSED_PLEN (sizeof(DISMISSED_PREFIX) - 1)
/* A refusal that waits for its record: "waits/" n(8) -> "" (below). */
#define WAITS_PREFIX "waits/"
#define WAITS_KEY (sizeof(WAITS_PREFIX) - 1 + 8)
/* An op sent again when its record came: "waitr/" op id(16) -> "". */
#define WAITR_PREFIX "waitr/"
#define WAITR_KEY (sizeof(WAITR_PREFIX) - 1 + 16)

static void waits_key(uint8_t key[WAITS_KEY], uint64_t n);

static void dismissed_key(uint8_t key[DISMISSED_PLEN + 8], const uint8_t n[8])
{
	memcpy(key, DISMISSED_PREFIX, DISMISSED_PLEN);
	memcpy(key + DISMISSED_PLEN, n, 8);
}

/* Whether meta holds key (klen bytes). */
static int meta_has(MDB_txn *txn, rove_replica *r, const uint8_t *key, size_t klen, bool *yes)
{
	MDB_val k = {klen, (void *)key}, v;
	int mrc = mdb_get(txn, r->meta, &k, &v);

	*yes = mrc == 0;
	return mrc == 0 || mrc == MDB_NOTFOUND ? ROVE_OK : rove_db_err(mrc, "meta");
}

/* Whether the refusal with key n (8 bytes) is dismissed. */
static int is_dismissed(MDB_txn *txn, rove_replica *r, const uint8_t n[8], bool *yes)
{
	uint8_t key[DISMISSED_PLEN + 8];

	dismissed_key(key, n);
	return meta_has(txn, r, key, sizeof(key), yes);
}

int rpl_rejected_add(rove_replica *r, MDB_txn *txn, const rove_op *op, int reason, const char *detail,
		     rove_buf *scratch, uint64_t *n)
{
	uint8_t key[8];
	uint64_t last;
	MDB_val k = {8, key}, v;
	int rc = rove_db_last_u64(txn, r->rejected, &last);

	if (rc != ROVE_OK)
		return rc;
	rove_buf_reset(scratch);
	rc = rove_enc_rejection(scratch, rove_wall_ms(), reason, detail, op);
	if (rc != ROVE_OK)
		return rc;
	rove_be64_put(key, last + 1);
	if (n != NULL)
		*n = last + 1;
	v.mv_size = scratch->len;
	v.mv_data = scratch->data;
	return rove_db_err(mdb_put(txn, r->rejected, &k, &v, MDB_APPEND), "rejected");
}

/* ---- refusals that wait for their record ----
 *
 * A change sent again after a restore (one the server had accepted,
 * ROVE_SEQ_GIVEN, or any the recovery's syncs send: made before it was
 * found) comes back not_owner when the restored server lacks the record
 * it changes or the customer it belongs to: another's, which its
 * author's replica sends again later, or another's orphan
 * (replica_recover.c). Rule 9 keeps the server from saying which: the
 * refusal is kept and waits (WAITS_PREFIX). Each sync after its pull
 * (rove_replica_waiting_settle) sends it again, once, as it was (its
 * stamp and seq, a new op id), when this replica's base holds what it
 * needs; the
 * refusal is then dismissed. Refused again, that op is kept for good
 * (WAITR_PREFIX marks it). A refusal dismissed or retried by hand waits
 * no more; `rove rejected` says which wait. */

static void waits_key(uint8_t key[WAITS_KEY], uint64_t n)
{
	memcpy(key, WAITS_PREFIX, WAITS_KEY - 8);
	rove_be64_put(key + WAITS_KEY - 8, n);
}

static void waitr_key(uint8_t key[WAITR_KEY], const rove_uuid *op_id)
{
	memcpy(key, WAITR_PREFIX, WAITR_KEY - 16);
	memcpy(key + WAITR_KEY - 16, op_id->b, 16);
}

/* Whether op needs records in the base at all: a create of a top-level
 * record needs none. */
static bool op_needs_base(const rove_op *op)
{
	const rove_coll_def *c = rove_schema_coll(op->coll);

	return op->kind != ROVE_OP_CREATE || (c != NULL && rove_schema_parent_field(c) != NULL);
}

/* Whether base holds what op needs: the record it changes, and the
 * record that one (or a child's create) names as its parent. *needs:
 * op_needs_base; *taken: the customer it needs was made by someone else
 * under the id of one this replica held (rpl_orphan_taken): it is not
 * held. */
static int base_holds_needs(rove_replica *r, MDB_txn *txn, const rove_op *op, rove_record *scratch, bool *needs,
			    bool *holds, bool *taken_out)
{
	const rove_coll_def *c = rove_schema_coll(op->coll);
	const rove_field_def *pf = c != NULL ? rove_schema_parent_field(c) : NULL;
	const char *parent = NULL;
	rove_uuid pid;
	bool dummy, *taken = taken_out != NULL ? taken_out : &dummy;
	int rc = ROVE_OK;

	*needs = op_needs_base(op);
	*holds = true;
	*taken = false;
	/* a customer made under the id of one this replica held, by someone
	 * else, holds none of it: its changes are not written to it (attack
	 * fifty-eight: a manager's waiting note went into a rep's customer
	 * made under a lost one's id) */
	rc = rpl_orphan_taken(r, txn, op->coll, &op->rid, taken);
	if (rc != ROVE_OK || *taken) {
		*holds = false;
		return rc;
	}
	/* A record held deleted (pulled so) is not held: the change waits,
	 * as for one not back (OPERATIONS.md; the model check with a journal
	 * of 3, seed 1014: sent again, it came back refused "deleted" for
	 * good, or waited, as the deleted copy was kept or not). */
	if (op->kind != ROVE_OP_CREATE) {
		rc = rpl_rec_get(txn, r->base, op->coll, &op->rid, scratch);
		if (rc == ROVE_ENOTFOUND || (rc == ROVE_OK && rove_record_deleted(scratch))) {
			*holds = false;
			return ROVE_OK;
		}
		if (rc == ROVE_OK && pf != NULL)
			parent = rove_fields_str(&scratch->fs, pf->name);
	} else if (pf != NULL) {
		parent = rove_fields_str(&op->fs, pf->name);
	}
	if (rc != ROVE_OK || parent == NULL || rove_uuid_parse(parent, &pid) != ROVE_OK)
		return rc;
	rc = rpl_orphan_taken(r, txn, c->parent, &pid, taken);
	if (rc != ROVE_OK || *taken) {
		*holds = false;
		return rc;
	}
	rc = rpl_rec_get(txn, r->base, c->parent, &pid, scratch);
	if (rc == ROVE_ENOTFOUND || (rc == ROVE_OK && rove_record_deleted(scratch))) {
		*holds = false;
		rc = ROVE_OK;
	}
	return rc;
}

/* Removes key (klen bytes) from meta; *was: whether it was there. */
static int meta_del(rove_replica *r, MDB_txn *txn, const uint8_t *key, size_t klen, bool *was)
{
	MDB_val k = {klen, (void *)key};
	int mrc = mdb_del(txn, r->meta, &k, NULL);

	*was = mrc == 0;
	return mrc == 0 || mrc == MDB_NOTFOUND ? ROVE_OK : rove_db_err(mrc, "meta");
}

int rpl_rejected_waits(rove_replica *r, MDB_txn *txn, const rove_op *op, int reason, uint64_t n)
{
	uint8_t key[WAITR_KEY > WAITS_KEY ? WAITR_KEY : WAITS_KEY];
	MDB_val k = {WAITS_KEY, key}, v = {0, ""};
	bool again = false;
	uint64_t resending = 0;
	int rc;

	waitr_key(key, &op->op_id);
	rc = meta_del(r, txn, key, WAITR_KEY, &again);
	/* a claim or a release is of the pool as it is when it arrives: one
	 * that waited would take a customer days later (attack fifty-eight) */
	if (rc != ROVE_OK || again || reason != ROVE_R_NOT_OWNER || op->kind == ROVE_OP_CLAIM ||
	    op->kind == ROVE_OP_RELEASE)
		return rc;
	/* accepted before the restore, or sent by the recovery's syncs */
	if (op->seq != ROVE_SEQ_GIVEN)
		rc = rpl_meta_u64(txn, r->meta, "resending", &resending);
	if (rc != ROVE_OK || (op->seq != ROVE_SEQ_GIVEN && resending == 0))
		return rc;
	if (rc != ROVE_OK || !op_needs_base(op))
		return rc;
	waits_key(key, n);
	return rove_db_err(mdb_put(txn, r->meta, &k, &v, 0), "meta");
}

int rpl_rejected_answered(rove_replica *r, MDB_txn *txn, const rove_uuid *op_id)
{
	uint8_t key[WAITR_KEY];
	bool was;

	waitr_key(key, op_id);
	return meta_del(r, txn, key, WAITR_KEY, &was);
}

/* Sends the refusal n (its entry rv) again when the base holds what it
 * needs: queued as it was, with a new op id, and dismissed. */
static int waiting_one(rove_replica *r, MDB_txn *txn, uint64_t n, const MDB_val *rv, rove_rejection *rj,
		       rove_record *scratch, uint64_t *lseq, rpl_work *w, bool *done, bool *sent)
{
	uint8_t nk[8], key[WAITR_KEY > DISMISSED_PLEN + 8 ? WAITR_KEY : DISMISSED_PLEN + 8], when[8];
	MDB_val k = {0, key}, v = {0, ""};
	bool needs = false, holds = false, dismissed = false, taken = false;
	rove_uuid op_id;
	int rc;

	*done = *sent = false;
	rove_be64_put(nk, n);
	rc = is_dismissed(txn, r, nk, &dismissed);
	if (rc != ROVE_OK || dismissed) {
		*done = rc == ROVE_OK;
		return rc;
	}
	if (rove_dec_rejection(rv->mv_data, rv->mv_size, rj) != ROVE_OK) {
		rove_error("corrupt entry in the replica's rejected table");
		return ROVE_EPROTO;
	}
	/* only what this replica's outbox sends (as `rove rejected retry`) */
	if (rove_schema_coll(rj->op.coll) == NULL || rj->op.kind == 0 || rj->op.kind == ROVE_OP_REASSIGN ||
	    rj->op.kind > ROVE_OP_KIND_MAX) {
		*done = true;
		return ROVE_OK;
	}
	rc = base_holds_needs(r, txn, &rj->op, scratch, &needs, &holds, &taken);
	if (rc == ROVE_OK && taken)
		*done = true; /* someone else's: refused for good */
	if (rc != ROVE_OK || !holds)
		return rc;
	*done = *sent = true;
	/* its seq as it went: accepted before (ROVE_SEQ_GIVEN), the stamp
	 * is the server's; else what it was made after */
	rove_uuid_new(&op_id);
	rj->op.op_id = op_id;
	rj->op.author[0] = '\0';
	rc = rpl_outbox_queue(r, txn, ++*lseq, &rj->op, MDB_NOOVERWRITE, w);
	waitr_key(key, &op_id);
	k.mv_size = WAITR_KEY;
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_put(txn, r->meta, &k, &v, 0), "meta");
	dismissed_key(key, nk);
	k.mv_size = DISMISSED_PLEN + 8;
	rove_be64_put(when, rove_wall_ms());
	v.mv_size = 8;
	v.mv_data = when;
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_put(txn, r->meta, &k, &v, 0), "meta");
	return rc;
}

/* The numbers of the refusals that wait, in *ns (the caller frees it). */
static int waiting_list(rove_replica *r, MDB_txn *txn, uint64_t **ns, size_t *n)
{
	MDB_cursor *c;
	MDB_val k = {WAITS_KEY - 8, WAITS_PREFIX}, v;
	size_t cap = 0;
	int mrc, rc = rove_db_err(mdb_cursor_open(txn, r->meta, &c), "cursor");

	*ns = NULL;
	*n = 0;
	if (rc != ROVE_OK)
		return rc;
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); mrc == 0; mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		uint64_t *more;
		if (k.mv_size < WAITS_KEY - 8 || memcmp(k.mv_data, WAITS_PREFIX, WAITS_KEY - 8) != 0)
			break;
		if (k.mv_size != WAITS_KEY) {
			rove_error("corrupt entry in the replica's meta table (a waiting refusal)");
			rc = ROVE_EPROTO;
			break;
		}
		more = rove_array_room(*ns, *n, &cap, sizeof(**ns));
		if (more == NULL) {
			rc = ROVE_ENOMEM;
			break;
		}
		*ns = more;
		(*ns)[(*n)++] = rove_be64_get((const uint8_t *)k.mv_data + WAITS_KEY - 8);
	}
	if (rc == ROVE_OK && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, "meta");
	mdb_cursor_close(c);
	return rc;
}

static int waiting_settle_once(rove_replica *r, uint64_t *sent)
{
	MDB_txn *txn = NULL;
	rove_rejection *rj = malloc(sizeof(*rj));
	rove_record *scratch = malloc(sizeof(*scratch));
	rpl_work *w = rpl_work_new();
	uint64_t lseq = 0, *ns = NULL;
	size_t n = 0;
	bool changed = false;
	int rc = rj != NULL && scratch != NULL && w != NULL ? ROVE_OK : ROVE_ENOMEM;

	*sent = 0;
	if (rc == ROVE_OK)
		rc = rpl_txn_begin(r, 0, &txn);
	if (rc == ROVE_OK)
		rc = rpl_last_lseq(r, txn, &lseq);
	if (rc == ROVE_OK)
		rc = waiting_list(r, txn, &ns, &n);
	for (size_t i = 0; rc == ROVE_OK && i < n; i++) {
		uint8_t nk[8], key[WAITS_KEY];
		MDB_val rk = {8, nk}, rv;
		bool done = true, one = false;
		int mrc;
		rove_be64_put(nk, ns[i]);
		mrc = mdb_get(txn, r->rejected, &rk, &rv);
		if (mrc == 0)
			rc = waiting_one(r, txn, ns[i], &rv, rj, scratch, &lseq, w, &done, &one);
		else if (mrc != MDB_NOTFOUND) /* not found: nothing to wait for */
			rc = rove_db_err(mrc, "rejected");
		if (rc == ROVE_OK && done) {
			bool was;
			waits_key(key, ns[i]);
			rc = meta_del(r, txn, key, WAITS_KEY, &was);
			changed = true;
		}
		if (one)
			(*sent)++;
	}
	if (txn != NULL && rc == ROVE_OK && !changed)
		mdb_txn_abort(txn);
	else if (txn != NULL)
		rc = rpl_commit_or_abort(txn, rc);
	if (rc != ROVE_OK)
		*sent = 0;
	free(ns);
	free(rj);
	free(scratch);
	rpl_work_free(w);
	return rc;
}

int rove_replica_waiting_settle(rove_replica *r, uint64_t *sent)
{
	MDB_txn *txn;
	uint64_t n = 0;
	int rc = rpl_txn_begin(r, MDB_RDONLY, &txn); /* most syncs: a read */

	*sent = 0;
	if (rc != ROVE_OK)
		return rc;
	rc = rpl_meta_prefix_count(txn, r->meta, WAITS_PREFIX, WAITS_KEY, &n);
	mdb_txn_abort(txn);
	if (rc != ROVE_OK || n == 0)
		return rc;
	RPL_WITH_GROWTH(r, waiting_settle_once(r, sent));
	return rc;
}

int rpl_dismissed_count(MDB_txn *txn, rove_replica *r, uint64_t *n)
{
	return rpl_meta_prefix_count(txn, r->meta, DISMISSED_PREFIX, DISMISSED_PLEN + 8, n);
}

/* Whether the refusal with key n (8 bytes) waits for its record. */
static int is_waiting(MDB_txn *txn, rove_replica *r, const uint8_t n[8], bool *yes)
{
	uint8_t key[WAITS_KEY];

	waits_key(key, rove_be64_get(n));
	return meta_has(txn, r, key, sizeof(key), yes);
}

int rove_replica_each_rejection(rove_replica *r, rove_rejection_fn fn, void *arg, uint64_t *out)
{
	MDB_txn *txn = NULL;
	MDB_cursor *c;
	MDB_val k, v;
	rove_rejection *rj = malloc(sizeof(*rj));
	rove_rejection_state st = {false, false};
	uint64_t damaged = 0;
	int rc, mrc;

	if (rj == NULL)
		return ROVE_ENOMEM;
	rc = rpl_txn_begin(r, MDB_RDONLY, &txn);
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_cursor_open(txn, r->rejected, &c), "cursor");
	if (rc == ROVE_OK) {
		mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
		while (rc == ROVE_OK && mrc == 0) {
			/* one that does not decode: counted, the rest shown
			 * (attack sixty-five: it hid them all) */
			if (k.mv_size != 8 || rove_dec_rejection(v.mv_data, v.mv_size, rj) != ROVE_OK) {
				damaged++;
				mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
				continue;
			}
			rc = is_dismissed(txn, r, k.mv_data, &st.dismissed);
			if (rc == ROVE_OK)
				rc = is_waiting(txn, r, k.mv_data, &st.waiting);
			if (rc == ROVE_OK)
				rc = fn(rj, &st, arg);
			if (rc == ROVE_OK)
				mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
		}
		if (rc == ROVE_OK && mrc != 0 && mrc != MDB_NOTFOUND)
			rc = rove_db_err(mrc, "rejected");
		mdb_cursor_close(c);
	}
	if (txn != NULL)
		mdb_txn_abort(txn);
	free(rj);
	if (out != NULL)
		*out = damaged;
	else if (rc == ROVE_OK && damaged > 0)
		rove_warn("%" PRIu64 " refused change%s kept by this replica do%s not decode (damaged): not shown; "
			  "'rove rejected dismiss --all' drops %s",
			  damaged, damaged == 1 ? "" : "s", damaged == 1 ? "es" : "", damaged == 1 ? "it" : "them");
	return rc;
}

static int dismiss_once(rove_replica *r, const rove_uuid *op_id, uint64_t *n)
{
	MDB_txn *txn = NULL;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	rove_rejection *rj = malloc(sizeof(*rj));
	bool found = false, already = false, yes;
	uint8_t when[8];
	uint64_t *bad = NULL; /* keys of entries that do not decode: --all drops them */
	size_t nbad = 0, badcap = 0;
	int rc, mrc;

	*n = 0;
	if (rj == NULL)
		return ROVE_ENOMEM;
	rove_be64_put(when, rove_wall_ms());
	rc = rpl_txn_begin(r, 0, &txn);
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_cursor_open(txn, r->rejected, &c), "cursor");
	for (mrc = rc == ROVE_OK ? mdb_cursor_get(c, &k, &v, MDB_FIRST) : MDB_NOTFOUND; rc == ROVE_OK && mrc == 0;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		uint8_t key[DISMISSED_PLEN + 8];
		MDB_val dk = {sizeof(key), key}, dv = {8, when};
		if (k.mv_size != 8 || rove_dec_rejection(v.mv_data, v.mv_size, rj) != ROVE_OK) {
			uint64_t *more;
			if (op_id != NULL || k.mv_size != 8)
				continue;
			more = rove_array_room(bad, nbad, &badcap, sizeof(*bad));
			if (more == NULL) {
				rc = ROVE_ENOMEM;
				break;
			}
			bad = more;
			bad[nbad++] = rove_be64_get(k.mv_data);
			continue;
		}
		if (op_id != NULL && rove_uuid_cmp(&rj->op.op_id, op_id) != 0)
			continue;
		found = true;
		rc = is_dismissed(txn, r, k.mv_data, &yes);
		if (rc != ROVE_OK || yes) {
			already = already || yes;
			continue;
		}
		dismissed_key(key, k.mv_data);
		rc = rove_db_err(mdb_put(txn, r->meta, &dk, &dv, 0), "meta");
		if (rc == ROVE_OK)
			(*n)++;
	}
	if (rc == ROVE_OK && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, "rejected");
	if (c != NULL)
		mdb_cursor_close(c);
	for (size_t i = 0; rc == ROVE_OK && i < nbad; i++) {
		uint8_t key[8];
		MDB_val bk = {8, key};
		rove_be64_put(key, bad[i]);
		rc = rove_db_err(mdb_del(txn, r->rejected, &bk, NULL), "rejected");
		if (rc == ROVE_OK)
			(*n)++;
	}
	free(bad);
	if (rc == ROVE_OK && op_id != NULL && !found)
		rc = ROVE_ENOTFOUND;
	else if (rc == ROVE_OK && op_id != NULL && *n == 0 && already)
		rc = ROVE_EEXIST;
	free(rj);
	return txn != NULL ? rpl_commit_or_abort(txn, rc) : rc;
}

int rove_replica_dismiss(rove_replica *r, const rove_uuid *op_id, uint64_t *n)
{
	int rc;

	RPL_WITH_GROWTH(r, dismiss_once(r, op_id, n));
	return rc;
}
