#include "compact.h"
#include "rove_assert.h"

#include "db.h"
#include "err.h"
#include "log.h"
#include "policy_store.h"
#include "proto.h"
#include "rove_limits.h"
#include "store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Begins a write transaction; a map another process (the server) grew
 * is taken up first. */
static int begin(rove_store *st, MDB_txn **txn)
{
	int rc = mdb_txn_begin(st->env, NULL, 0, txn);

	if (rc == MDB_MAP_RESIZED) {
		rc = mdb_env_set_mapsize(st->env, 0);
		if (rc == 0)
			rc = mdb_txn_begin(st->env, NULL, 0, txn);
	}
	return rove_db_err(rc, "begin");
}

/* One batch of ops: drops up to ROVE_COMPACT_BATCH from the front of the
 * oplog, while they are older than horizon_ms and not the head, and
 * raises the floor past them, in one transaction. *n says how many. */
static int drop_ops(rove_store *st, uint64_t horizon_ms, rove_op *op, rove_compact_stats *s, uint64_t *n)
{
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	uint64_t floor = 0, head = 0;
	MDB_val k, v;
	int rc = begin(st, &txn);

	*n = 0;
	if (rc == ROVE_OK)
		rc = rove_store_head(st, txn, &head);
	if (rc == ROVE_OK)
		rc = rove_store_floor(st, txn, &floor);
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_cursor_open(txn, st->oplog, &cur), "cursor");
	if (rc == ROVE_OK) {
		int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
		while (mrc == 0 && *n < ROVE_COMPACT_BATCH) {
			uint64_t seq;
			if (k.mv_size != 8) {
				rc = ROVE_EPROTO;
				break;
			}
			seq = rove_be64_get(k.mv_data);
			if (seq >= head)
				break; /* the head stays: it is where the next op goes */
			if ((rc = rove_dec_op(v.mv_data, v.mv_size, op)) != ROVE_OK)
				break;
			if (rove_hlc_ms(op->st.hlc) >= horizon_ms)
				break;
			if ((rc = rove_db_err(mdb_cursor_del(cur, 0), "oplog")) != ROVE_OK)
				break;
			if (seq > floor)
				floor = seq;
			(*n)++;
			mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		}
		if (rc == ROVE_OK && mrc != 0 && mrc != MDB_NOTFOUND)
			rc = rove_db_err(mrc, "oplog");
		mdb_cursor_close(cur);
	}
	if (rc == ROVE_OK && *n > 0)
		rc = rove_store_meta_put(st, txn, "floor", floor);
	if (rc == ROVE_OK && *n > 0) {
		rc = rove_store_commit(txn);
		txn = NULL;
	}
	rove_store_abort(txn);
	if (rc == ROVE_OK) {
		s->ops += *n;
		s->floor = floor;
		s->head = head;
	}
	return rc;
}

/* One batch of scopelog entries for ops at or below the floor. The
 * entries are "scope NUL seq": each scope's range is walked from its
 * first entry, skipping to the next scope at the first one kept.
 * *resume holds the key to go on from (empty at first); *n says how
 * many were dropped, *done whether the walk reached the end. */
static int drop_entries(rove_store *st, uint8_t *resume, size_t *resume_len, rove_compact_stats *s, uint64_t *n,
			bool *done)
{
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	uint64_t floor = 0, seen = 0;
	MDB_val k, v;
	int rc = begin(st, &txn), mrc;

	*n = 0;
	*done = false;
	if (rc == ROVE_OK)
		rc = rove_store_floor(st, txn, &floor);
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_cursor_open(txn, st->scopelog, &cur), "cursor");
	if (rc != ROVE_OK) {
		rove_store_abort(txn);
		return rc;
	}
	k.mv_size = *resume_len;
	k.mv_data = resume;
	mrc = *resume_len > 0 ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (mrc == 0 && seen < 8 * ROVE_COMPACT_BATCH && *n < ROVE_COMPACT_BATCH) {
		const uint8_t *p = k.mv_data;
		const uint8_t *nul = memchr(p, 0, k.mv_size);
		size_t plen;
		seen++;
		if (nul == NULL || k.mv_size - (size_t)(nul - p) - 1 != 8) {
			rc = ROVE_EPROTO;
			break;
		}
		plen = (size_t)(nul - p) + 1;
		if (rove_be64_get(nul + 1) <= floor) {
			if ((rc = rove_db_err(mdb_cursor_del(cur, 0), "scopelog")) != ROVE_OK)
				break;
			(*n)++;
			mrc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT);
			if (mrc == EINVAL || mrc == MDB_NOTFOUND) /* deleted the last */
				mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
			continue;
		}
		/* This scope's entries from here are kept: on to the next
		 * scope (its key: this prefix, then all 0xff). */
		{
			uint8_t next[ROVE_MAX_SCOPE_LEN + 1 + 8];
			ROVE_ASSERT(plen <= ROVE_MAX_SCOPE_LEN + 1);
			memcpy(next, p, plen);
			memset(next + plen, 0xff, 8);
			k.mv_size = plen + 8;
			k.mv_data = next;
			mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
			if (mrc == 0 && k.mv_size == plen + 8 && memcmp(k.mv_data, next, plen + 8) == 0)
				mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		}
	}
	if (rc == ROVE_OK && mrc == MDB_NOTFOUND)
		*done = true;
	else if (rc == ROVE_OK && mrc != 0)
		rc = rove_db_err(mrc, "scopelog");
	else if (rc == ROVE_OK) {
		ROVE_ASSERT(k.mv_size <= ROVE_MAX_SCOPE_LEN + 1 + 8);
		memcpy(resume, k.mv_data, k.mv_size);
		*resume_len = k.mv_size;
	}
	mdb_cursor_close(cur);
	if (rc == ROVE_OK && *n > 0) {
		rc = rove_store_commit(txn);
		txn = NULL;
	}
	rove_store_abort(txn);
	if (rc == ROVE_OK)
		s->entries += *n;
	return rc;
}

int rove_compact(const char *dir, uint64_t horizon_ms, rove_compact_stats *out)
{
	rove_db_table more[ROVE_PSTORE_TABLES];
	rove_pstore ps;
	rove_store st;
	rove_op *op = malloc(sizeof(*op));
	uint8_t resume[ROVE_MAX_SCOPE_LEN + 1 + 8];
	size_t resume_len = 0;
	uint64_t n;
	bool done = false;
	int rc;

	memset(out, 0, sizeof(*out));
	if (op == NULL)
		return ROVE_ENOMEM;
	rc = rove_store_open(dir, &st, more, rove_pstore_tables(&ps, more));
	if (rc != ROVE_OK) {
		free(op);
		return rc;
	}
	do
		rc = drop_ops(&st, horizon_ms, op, out, &n);
	while (rc == ROVE_OK && n > 0);
	while (rc == ROVE_OK && !done)
		rc = drop_entries(&st, resume, &resume_len, out, &n, &done);
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
	free(op);
	return rc;
}
