/*
 * store_admreq.c - the answers to admin requests, kept so that a request
 * sent again after a lost connection is answered again, not done twice
 * (store.h: admreqs, admage; the bounds in rove_limits.h).
 *
 * admreqs is looked up by request id and login: an id another user sends
 * is another request, whose answer no one else gets. admage lists them in
 * the order they were written, with what each costs, so that the oldest
 * go first; the sum of the answers' bytes is a counter, updated with
 * them in the caller's transaction.
 */
#include "store_int.h"
#include "rove_assert.h"

#include "db.h"
#include "err.h"
#include "log.h"

#include <string.h>

#define ADMREQ_KEY_MAX (16 + ROVE_MAX_NAME)
#define ADMAGE_FIXED (8 + 8 + 16) /* time, bytes, request id; then the login */
#define ADMREQ_BYTES "admreqs:bytes"

/* The key of request and login into out; its length (0: no such login). */
static size_t admreq_key(uint8_t out[ADMREQ_KEY_MAX], const rove_uuid *request, const char *login)
{
	size_t len = strlen(login);

	if (len == 0 || len > ROVE_MAX_NAME)
		return 0;
	memcpy(out, request->b, 16);
	memcpy(out + 16, login, len);
	return 16 + len;
}

int rove_store_admreq_get(rove_store *st, MDB_txn *txn, const rove_uuid *request, const char *login,
			  rove_buf *reply)
{
	uint8_t kb[ADMREQ_KEY_MAX];
	MDB_val k = {admreq_key(kb, request, login), kb}, v;
	int rc;

	rove_buf_reset(reply);
	if (k.mv_size == 0)
		return ROVE_ENOTFOUND;
	rc = rove_db_err(mdb_get(txn, st->admreqs, &k, &v), "admreqs");
	if (rc != ROVE_OK)
		return rc;
	if (v.mv_size <= 8) {
		rove_error("corrupt entry in the admreqs table (%zu bytes)", v.mv_size);
		return ROVE_EPROTO;
	}
	return rove_buf_append(reply, (const uint8_t *)v.mv_data + 8, v.mv_size - 8);
}

/* An admage entry (k, v): its time, the answer's size, and the admreqs
 * key it names (pointing into v). False (said) if it is not one. */
static bool admage_entry(const MDB_val *k, const MDB_val *v, uint64_t *when, uint64_t *size, MDB_val *rk)
{
	if (k->mv_size != 8 || v->mv_size <= ADMAGE_FIXED || v->mv_size > ADMAGE_FIXED + ROVE_MAX_NAME) {
		rove_error("corrupt entry in the admage table");
		return false;
	}
	*when = rove_be64_get(v->mv_data);
	*size = rove_be64_get((const uint8_t *)v->mv_data + 8);
	rk->mv_size = v->mv_size - 16;
	rk->mv_data = (uint8_t *)v->mv_data + 16;
	return true;
}

/* Drops the oldest entry (admage's first) if it is past a bound: older
 * than `before`, or more than max entries or max_bytes of answers.
 * *dropped: whether one was. */
static int drop_oldest(rove_store *st, MDB_txn *txn, uint64_t before, uint64_t max, uint64_t max_bytes,
		       uint64_t *bytes, bool *dropped)
{
	MDB_cursor *cur = NULL;
	MDB_stat ms;
	MDB_val k, v, rk;
	uint8_t rkb[ADMREQ_KEY_MAX];
	uint64_t when, size;
	int rc;

	*dropped = false;
	rc = rove_db_err(mdb_stat(txn, st->admage, &ms), "admage");
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_cursor_open(txn, st->admage, &cur), "admage");
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_cursor_get(cur, &k, &v, MDB_FIRST), "admage");
	if (rc == ROVE_ENOTFOUND) {
		rc = ROVE_OK; /* none kept */
		goto out;
	}
	if (rc != ROVE_OK)
		goto out;
	if (!admage_entry(&k, &v, &when, &size, &rk)) {
		rc = ROVE_EPROTO;
		goto out;
	}
	if (when >= before && ms.ms_entries <= max && *bytes <= max_bytes)
		goto out; /* within every bound */
	/* (Copied: the delete below moves what v points at.) */
	memcpy(rkb, rk.mv_data, rk.mv_size);
	rk.mv_data = rkb;
	rc = rove_db_err(mdb_cursor_del(cur, 0), "admage");
	if (rc == ROVE_OK) {
		rc = rove_db_err(mdb_del(txn, st->admreqs, &rk, NULL), "admreqs");
		if (rc == ROVE_ENOTFOUND) /* the two tables disagree: go on */
			rc = ROVE_OK;
	}
	if (rc == ROVE_OK) {
		*bytes = size < *bytes ? *bytes - size : 0;
		*dropped = true;
	}
out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	return rc;
}

int rove_store_admreq_put(rove_store *st, MDB_txn *txn, const rove_uuid *request, const char *login,
			  uint64_t now_ms, const void *answer, size_t len)
{
	uint8_t kb[ADMREQ_KEY_MAX], ab[ADMAGE_FIXED + ROVE_MAX_NAME];
	MDB_val k = {admreq_key(kb, request, login), kb}, v, nk, nv;
	MDB_cursor *cur = NULL;
	uint8_t nb[8];
	uint64_t n = 0, bytes = 0, before;
	uint8_t *p;
	bool dropped = true;
	int rc;

	ROVE_ASSERT(k.mv_size != 0 && len > 0);
	/* The entry, then its place in the order: n after the last one. */
	v.mv_size = 8 + len;
	v.mv_data = NULL;
	rc = rove_db_err(mdb_put(txn, st->admreqs, &k, &v, MDB_NOOVERWRITE | MDB_RESERVE), "admreqs");
	if (rc == ROVE_EEXIST)
		return rc;
	if (rc == ROVE_OK) {
		p = v.mv_data;
		rove_be64_put(p, now_ms);
		memcpy(p + 8, answer, len);
		rc = rove_db_err(mdb_cursor_open(txn, st->admage, &cur), "admage");
	}
	if (rc == ROVE_OK) {
		rc = rove_db_err(mdb_cursor_get(cur, &nk, &nv, MDB_LAST), "admage");
		if (rc == ROVE_OK && nk.mv_size == 8)
			n = rove_be64_get(nk.mv_data);
		else if (rc == ROVE_OK)
			rc = ROVE_EPROTO;
		else if (rc == ROVE_ENOTFOUND)
			rc = ROVE_OK;
		mdb_cursor_close(cur);
	}
	if (rc == ROVE_OK) {
		rove_be64_put(nb, n + 1);
		rove_be64_put(ab, now_ms);
		rove_be64_put(ab + 8, (uint64_t)len);
		memcpy(ab + 16, kb, k.mv_size);
		nk.mv_size = 8;
		nk.mv_data = nb;
		nv.mv_size = 16 + k.mv_size;
		nv.mv_data = ab;
		rc = rove_db_err(mdb_put(txn, st->admage, &nk, &nv, MDB_APPEND), "admage");
	}
	if (rc == ROVE_OK)
		rc = rove_store_counter_get(st, txn, ADMREQ_BYTES, &bytes);
	bytes += len;
	/* The oldest go while past a bound; this one, the newest, stays
	 * (the bounds hold many of the biggest answers). */
	before = now_ms > ROVE_ADMIN_REQ_KEEP_MS ? now_ms - ROVE_ADMIN_REQ_KEEP_MS : 0;
	for (uint32_t i = 0; rc == ROVE_OK && dropped && i < ROVE_MAX_ADMIN_REQS; i++) {
		MDB_stat ms;
		rc = rove_db_err(mdb_stat(txn, st->admage, &ms), "admage");
		if (rc == ROVE_OK && ms.ms_entries <= 1)
			break;
		if (rc == ROVE_OK)
			rc = drop_oldest(st, txn, before, ROVE_MAX_ADMIN_REQS, ROVE_MAX_ADMIN_REQ_BYTES, &bytes, &dropped);
	}
	if (rc == ROVE_OK)
		rc = rove_store_counter_put(st, txn, ADMREQ_BYTES, bytes);
	return rc;
}

int rove_store_admreq_clear(rove_store *st, MDB_txn *txn)
{
	int rc = rove_db_err(mdb_drop(txn, st->admreqs, 0), "admreqs");

	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_drop(txn, st->admage, 0), "admage");
	if (rc == ROVE_OK)
		rc = rove_store_counter_put(st, txn, ADMREQ_BYTES, 0);
	return rc;
}

int rove_store_admreq_usage(rove_store *st, MDB_txn *txn, uint64_t *count, uint64_t *bytes)
{
	MDB_stat ms;
	int rc = rove_db_err(mdb_stat(txn, st->admage, &ms), "admage");

	*count = rc == ROVE_OK ? ms.ms_entries : 0;
	if (rc == ROVE_OK)
		rc = rove_store_counter_get(st, txn, ADMREQ_BYTES, bytes);
	return rc;
}

/* rove_store_admreq_each's walk of admage. */
typedef struct each_ctx {
	rove_store *st;
	MDB_txn *txn;
	rove_admreq_fn fn;
	void *arg;
} each_ctx;

static int each_one(const MDB_val *k, const MDB_val *v, void *arg)
{
	each_ctx *x = arg;
	MDB_val rk, rv;
	uint64_t when, size;
	int rc;

	if (!admage_entry(k, v, &when, &size, &rk))
		return x->fn(k->mv_size == 8 ? rove_be64_get(k->mv_data) : 0, 0, ROVE_ADMREQ_DAMAGED, x->arg);
	rc = rove_db_err(mdb_get(x->txn, x->st->admreqs, &rk, &rv), "admreqs");
	if (rc == ROVE_ENOTFOUND)
		return x->fn(rove_be64_get(k->mv_data), size, -1, x->arg);
	if (rc != ROVE_OK)
		return rc;
	return x->fn(rove_be64_get(k->mv_data), size, rv.mv_size >= 8 ? (int64_t)(rv.mv_size - 8) : -1, x->arg);
}

int rove_store_admreq_each(rove_store *st, MDB_txn *txn, rove_admreq_fn fn, void *arg)
{
	each_ctx x = {st, txn, fn, arg};

	if (!st->has_admreqs)
		return ROVE_OK; /* a database from before them */
	return rove_db_each(txn, st->admage, "admage", each_one, &x);
}
