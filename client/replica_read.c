/*
 * replica_read.c - reading a replica's confirmed records raw, in one
 * consistent state, for a reader that keeps another store in step with
 * the replica (the PostgreSQL feed, feed.c). See replica.h.
 */
#include "replica_int.h"

#include "db.h"
#include "err.h"

#include <string.h>

int rove_replica_version(rove_replica *r, uint64_t *version)
{
	MDB_envinfo info;
	int rc = rove_db_err(mdb_env_info(r->env, &info), "env info");

	if (rc == ROVE_OK)
		*version = (uint64_t)info.me_last_txnid;
	return rc;
}

/* Walks the base's records of coll, calling fn for each. */
static int walk_coll(MDB_txn *txn, MDB_dbi base, uint8_t coll, rove_raw_record_fn fn, void *arg)
{
	MDB_cursor *c;
	MDB_val k = {1, &coll}, v;
	int rc = rove_db_err(mdb_cursor_open(txn, base, &c), "cursor");
	int mrc;

	if (rc != ROVE_OK)
		return rc;
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); mrc == 0 && rc == ROVE_OK;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		const uint8_t *key = k.mv_data;
		rove_uuid id;
		if (k.mv_size < 1 || key[0] != coll)
			break;
		if (k.mv_size != ROVE_RECORD_KEY) {
			rc = ROVE_EPROTO; /* a base holds records only */
			break;
		}
		memcpy(id.b, key + 1, sizeof(id.b));
		rc = fn(coll, &id, v.mv_data, v.mv_size, arg);
	}
	if (rc == ROVE_OK && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, "cursor");
	mdb_cursor_close(c);
	return rc;
}

int rove_replica_each_confirmed(rove_replica *r, const uint8_t *colls, size_t ncolls, rove_raw_record_fn fn,
				void *arg, rove_replica_state *st)
{
	MDB_txn *txn;
	rove_pull_state ps;
	int rc = rpl_txn_begin(r, MDB_RDONLY, &txn);

	if (rc != ROVE_OK)
		return rc;
	rc = rpl_pull_state_get(r, txn, &ps);
	if (rc == ROVE_OK) {
		st->version = (uint64_t)mdb_txn_id(txn);
		st->cursor = ps.cursor;
	}
	for (size_t i = 0; i < ncolls && rc == ROVE_OK; i++)
		rc = walk_coll(txn, r->base, colls[i], fn, arg);
	mdb_txn_abort(txn);
	return rc;
}
