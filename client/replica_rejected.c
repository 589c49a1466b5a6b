/*
 * replica_rejected.c - the changes the server refused (replica.h): kept
 * in the rejected table for good, each one dismissed or not. A dismissal
 * is a meta entry "dismissed/" n(8) -> the time (8), n the refusal's key
 * in the rejected table, so that the table's layout stays as it is.
 */
#include "replica_int.h"

#include "db.h"
#include "err.h"
#include "hlc.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

#define DISMISSED_PREFIX "dismissed/"
#define DISMISSED_PLEN (sizeof(DISMISSED_PREFIX) - 1)

static void dismissed_key(uint8_t key[DISMISSED_PLEN + 8], const uint8_t n[8])
{
	memcpy(key, DISMISSED_PREFIX, DISMISSED_PLEN);
	memcpy(key + DISMISSED_PLEN, n, 8);
}

/* Whether the refusal with key n (8 bytes) is dismissed. */
static int is_dismissed(MDB_txn *txn, rove_replica *r, const uint8_t n[8], bool *yes)
{
	uint8_t key[DISMISSED_PLEN + 8];
	MDB_val k = {sizeof(key), key}, v;
	int mrc;

	dismissed_key(key, n);
	mrc = mdb_get(txn, r->meta, &k, &v);
	*yes = mrc == 0;
	return mrc == 0 || mrc == MDB_NOTFOUND ? ROVE_OK : rove_db_err(mrc, "meta");
}

int rpl_rejected_add(rove_replica *r, MDB_txn *txn, const rove_op *op, int reason, const char *detail,
		     rove_buf *scratch)
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
	v.mv_size = scratch->len;
	v.mv_data = scratch->data;
	return rove_db_err(mdb_put(txn, r->rejected, &k, &v, MDB_APPEND), "rejected");
}

int rpl_dismissed_count(MDB_txn *txn, rove_replica *r, uint64_t *n)
{
	return rpl_meta_prefix_count(txn, r->meta, DISMISSED_PREFIX, DISMISSED_PLEN + 8, n);
}

int rove_replica_each_rejection(rove_replica *r, rove_rejection_fn fn, void *arg)
{
	MDB_txn *txn = NULL;
	MDB_cursor *c;
	MDB_val k, v;
	rove_rejection *rj = malloc(sizeof(*rj));
	bool dismissed = false;
	int rc, mrc;

	if (rj == NULL)
		return ROVE_ENOMEM;
	rc = rpl_txn_begin(r, MDB_RDONLY, &txn);
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_cursor_open(txn, r->rejected, &c), "cursor");
	if (rc == ROVE_OK) {
		mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
		while (rc == ROVE_OK && mrc == 0) {
			if (k.mv_size != 8 || rove_dec_rejection(v.mv_data, v.mv_size, rj) != ROVE_OK) {
				rove_error("corrupt entry in the replica's rejected table");
				rc = ROVE_EPROTO;
				break;
			}
			rc = is_dismissed(txn, r, k.mv_data, &dismissed);
			if (rc == ROVE_OK)
				rc = fn(rj, dismissed, arg);
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
			rove_error("corrupt entry in the replica's rejected table");
			rc = ROVE_EPROTO;
			break;
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
