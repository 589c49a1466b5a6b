/*
 * store_maint.c - the store's part for the tools beside the server:
 * what `roved check` looks up and walks, and what `roved compact` drops
 * (store.h, "maintenance"). They ask the store, as everything else does,
 * instead of opening its tables themselves.
 */
#include "store_int.h"

#include "err.h"
#include "rove_assert.h"

#include <errno.h>
#include <string.h>

int rove_store_begin_beside(rove_store *st, MDB_txn **txn)
{
	int rc = mdb_txn_begin(st->env, NULL, 0, txn);

	if (rc == MDB_MAP_RESIZED) {
		rc = mdb_env_set_mapsize(st->env, 0);
		if (rc == 0)
			rc = mdb_txn_begin(st->env, NULL, 0, txn);
	}
	return rove_db_err(rc, "begin");
}

/* Whether dbi holds the len bytes at key: *out, ROVE_OK either way. */
static int has_key(MDB_txn *txn, MDB_dbi dbi, const char *what, const void *key, size_t len, bool *out)
{
	MDB_val k = {len, (void *)key}, v;
	int rc = mdb_get(txn, dbi, &k, &v);

	*out = rc == 0;
	return rc == MDB_NOTFOUND ? ROVE_OK : rove_db_err(rc, what);
}

int rove_store_child_has(rove_store *st, MDB_txn *txn, const uint8_t parent[ROVE_RECORD_KEY],
			 const uint8_t child[ROVE_RECORD_KEY], bool *out)
{
	uint8_t both[2 * ROVE_RECORD_KEY];

	memcpy(both, parent, ROVE_RECORD_KEY);
	memcpy(both + ROVE_RECORD_KEY, child, ROVE_RECORD_KEY);
	return has_key(txn, st->children, "children", both, sizeof(both), out);
}

int rove_store_scopelog_has(rove_store *st, MDB_txn *txn, const char *scope, uint64_t seq, bool *out)
{
	uint8_t key[STORE_KEY_MAX], nb[8];

	rove_be64_put(nb, seq);
	return has_key(txn, st->scopelog, "scopelog", key, store_scope_key(key, scope, nb, 8), out);
}

int rove_store_reject_listed(rove_store *st, MDB_txn *txn, const char *scope, uint64_t n, bool *out)
{
	uint8_t key[STORE_KEY_MAX], nb[8];

	rove_be64_put(nb, n);
	return has_key(txn, st->rejidx, "rejidx", key, store_scope_key(key, scope, nb, 8), out);
}

int rove_store_reject_has(rove_store *st, MDB_txn *txn, uint64_t n, bool *out)
{
	uint8_t nb[8];

	rove_be64_put(nb, n);
	return has_key(txn, st->rejects, "rejects", nb, 8, out);
}

int rove_store_oplog_raw(rove_store *st, MDB_txn *txn, uint64_t seq, MDB_val *raw)
{
	uint8_t nb[8];
	MDB_val k = {8, nb};

	rove_be64_put(nb, seq);
	return rove_db_err(mdb_get(txn, st->oplog, &k, raw), "oplog");
}

int rove_store_oplog_count(rove_store *st, MDB_txn *txn, uint64_t *n)
{
	MDB_stat ms;
	int rc = rove_db_err(mdb_stat(txn, st->oplog, &ms), "oplog");

	*n = rc == ROVE_OK ? (uint64_t)ms.ms_entries : 0;
	return rc;
}

int rove_store_walk_raw(rove_store *st, MDB_txn *txn, const char *table, rove_db_fn fn, void *arg)
{
	const struct {
		const char *name;
		MDB_dbi dbi;
	} tables[] = {
		{"records", st->records}, {"oplog", st->oplog},	    {"opids", st->opids},
		{"rejects", st->rejects}, {"rejidx", st->rejidx},   {"scopelog", st->scopelog},
		{"scoperec", st->scoperec}, {"children", st->children}, {"runs", st->runs},
		{"users", st->users},
	};

	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (strcmp(table, tables[i].name) == 0)
			return rove_db_each(txn, tables[i].dbi, table, fn, arg);
	ROVE_ASSERT(!"a table the store does not have");
	return ROVE_EINVAL;
}

int rove_store_oplog_drop_front(rove_store *st, MDB_txn *txn, uint64_t max, rove_raw_op_fn fn, void *arg,
				uint64_t *n)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rc = rove_db_err(mdb_cursor_open(txn, st->oplog, &cur), "cursor");
	int mrc;

	*n = 0;
	if (rc != ROVE_OK)
		return rc;
	mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (mrc == 0 && *n < max) {
		if (k.mv_size != 8) {
			rc = ROVE_EPROTO;
			break;
		}
		rc = fn(rove_be64_get(k.mv_data), &v, arg);
		if (rc != ROVE_OK)
			break;
		if ((rc = rove_db_err(mdb_cursor_del(cur, 0), "oplog")) != ROVE_OK)
			break;
		(*n)++;
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	if (rc == ROVE_EEXIST)
		rc = ROVE_OK; /* fn keeps that op: the drop ends there */
	if (rc == ROVE_OK && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, "oplog");
	mdb_cursor_close(cur);
	return rc;
}

int rove_store_scopelog_drop(rove_store *st, MDB_txn *txn, uint64_t upto, uint64_t max_seen, uint64_t max,
			     uint8_t resume[ROVE_STORE_RESUME_MAX], size_t *resume_len, uint64_t *n, bool *done)
{
	MDB_cursor *cur = NULL;
	uint64_t seen = 0;
	MDB_val k, v;
	int rc = rove_db_err(mdb_cursor_open(txn, st->scopelog, &cur), "cursor"), mrc;

	*n = 0;
	*done = false;
	if (rc != ROVE_OK)
		return rc;
	k.mv_size = *resume_len;
	k.mv_data = resume;
	mrc = *resume_len > 0 ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (mrc == 0 && seen < max_seen && *n < max) {
		const uint8_t *p = k.mv_data;
		const uint8_t *nul = memchr(p, 0, k.mv_size);
		size_t plen;
		seen++;
		if (nul == NULL || k.mv_size - (size_t)(nul - p) - 1 != 8) {
			rc = ROVE_EPROTO;
			break;
		}
		plen = (size_t)(nul - p) + 1;
		if (rove_be64_get(nul + 1) <= upto) {
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
			uint8_t next[ROVE_STORE_RESUME_MAX];
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
		ROVE_ASSERT(k.mv_size <= ROVE_STORE_RESUME_MAX);
		memcpy(resume, k.mv_data, k.mv_size);
		*resume_len = k.mv_size;
	}
	mdb_cursor_close(cur);
	return rc;
}
