/*
 * store_reject.c - the store's refused ops (rejects, and their index in
 * rejidx): kept per author within bounds, listed by scope. See store.h.
 */
#include "store_int.h"

#include "db.h"
#include "err.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- refusals: kept per author within bounds, indexed by scope ---- */

_Static_assert(ROVE_MAX_USER_REJECT_BYTES > 2 * (ROVE_MAX_RECORD_BYTES + 4096),
	       "one refused op must fit in an author's bytes with room to spare");

/* An author's refusals are kept in two classes, each within the bounds:
 * those the policy keeps apart (rove_reject_scopes) and the others, each
 * with its range of the index ("x:AUTHOR", "a:AUTHOR") and its counters. */
#define USAGE_KEY_MAX (8 + ROVE_MAX_NAME + 1)

static size_t usage_key(char *out, const char *author, bool reach)
{
	return (size_t)snprintf(out, USAGE_KEY_MAX, "%s:%s", reach ? "rejectx" : "rejects", author);
}

static int usage_get(rove_store *st, MDB_txn *txn, const char *author, bool reach, rove_reject_usage *u)
{
	char key[USAGE_KEY_MAX];
	MDB_val k = {usage_key(key, author, reach), key}, v;
	int rc = mdb_get(txn, st->counters, &k, &v);

	memset(u, 0, sizeof(*u));
	if (rc == MDB_NOTFOUND)
		return ROVE_OK;
	if (rc != 0)
		return rove_db_err(rc, "counters");
	if (v.mv_size != 24)
		return ROVE_EPROTO;
	u->count = rove_be64_get(v.mv_data);
	u->bytes = rove_be64_get((const uint8_t *)v.mv_data + 8);
	u->dropped = rove_be64_get((const uint8_t *)v.mv_data + 16);
	return ROVE_OK;
}

int rove_store_reject_usage(rove_store *st, MDB_txn *txn, const char *author, rove_reject_usage *u)
{
	rove_reject_usage x;
	int rc = usage_get(st, txn, author, false, u);

	if (rc == ROVE_OK)
		rc = usage_get(st, txn, author, true, &x);
	if (rc == ROVE_OK) {
		u->count += x.count;
		u->bytes += x.bytes;
		u->dropped += x.dropped;
	}
	return rc;
}

static int usage_put(rove_store *st, MDB_txn *txn, const char *author, bool reach, const rove_reject_usage *u)
{
	char key[USAGE_KEY_MAX];
	uint8_t buf[24];
	MDB_val k = {usage_key(key, author, reach), key}, v = {sizeof(buf), buf};

	rove_be64_put(buf, u->count);
	rove_be64_put(buf + 8, u->bytes);
	rove_be64_put(buf + 16, u->dropped);
	return rove_db_err(mdb_put(txn, st->counters, &k, &v, 0), "counters");
}

static int index_put(rove_store *st, MDB_txn *txn, const char *scope, const uint8_t nb[8], const void *val,
		     size_t len)
{
	uint8_t key[STORE_KEY_MAX];
	MDB_val k = {store_scope_key(key, scope, nb, 8), key}, v = {len, (void *)val};

	return rove_db_err(mdb_put(txn, st->rejidx, &k, &v, 0), "rejidx");
}

static int index_del(rove_store *st, MDB_txn *txn, const char *scope, const uint8_t nb[8])
{
	uint8_t key[STORE_KEY_MAX];
	MDB_val k = {store_scope_key(key, scope, nb, 8), key};
	int rc = mdb_del(txn, st->rejidx, &k, NULL);

	return rc == MDB_NOTFOUND ? ROVE_EPROTO : rove_db_err(rc, "rejidx");
}

/* Forgets the answer to the op refused as number nb (its refusal is being
 * dropped): the op, if sent again, is judged again. rj is room to decode
 * the refusal in. */
static int forget_answer(rove_store *st, MDB_txn *txn, const uint8_t nb[8], rove_rejection *rj)
{
	MDB_val k = {8, (void *)nb}, v;
	int rc = mdb_get(txn, st->rejects, &k, &v);

	if (rc == MDB_NOTFOUND)
		return ROVE_EPROTO; /* the index lists it */
	if (rc != 0)
		return rove_db_err(rc, "rejects");
	if (rove_dec_rejection(v.mv_data, v.mv_size, rj) != ROVE_OK)
		return ROVE_EPROTO;
	return store_opid_forget_refused(st, txn, &rj->op.op_id);
}

int rove_store_reject_author_dec(const MDB_val *v, uint64_t *bytes, rove_reject_scopes *out)
{
	const uint8_t *p, *end;

	out->n = 0;
	out->apart = false;
	if (v->mv_size < 8)
		return ROVE_EPROTO;
	*bytes = rove_be64_get(v->mv_data);
	for (p = (const uint8_t *)v->mv_data + 8, end = (const uint8_t *)v->mv_data + v->mv_size; p < end;) {
		const uint8_t *nul = memchr(p, '\0', (size_t)(end - p));
		if (nul == NULL || nul - p < 3 || (size_t)(nul - p) > ROVE_MAX_SCOPE_LEN || out->n == ROVE_MAX_REJECT_SCOPES)
			return ROVE_EPROTO;
		memcpy(out->s[out->n++], p, (size_t)(nul - p) + 1);
		p = nul + 1;
	}
	return ROVE_OK;
}

int rove_store_reject_author_get(rove_store *st, MDB_txn *txn, const char *author, uint64_t n, uint64_t *bytes,
				 rove_reject_scopes *out)
{
	char scope[ROVE_MAX_SCOPE_LEN + 1];
	uint8_t key[STORE_KEY_MAX], nb[8];
	int rc = ROVE_ENOTFOUND;

	rove_be64_put(nb, n);
	for (int i = 0; rc == ROVE_ENOTFOUND && i < 2; i++) {
		MDB_val k, v;
		if (snprintf(scope, sizeof(scope), "%s:%s", i == 0 ? "a" : "x", author) >= (int)sizeof(scope))
			return ROVE_ENOTFOUND; /* no author so long */
		k.mv_size = store_scope_key(key, scope, nb, 8);
		k.mv_data = key;
		rc = rove_db_err(mdb_get(txn, st->rejidx, &k, &v), "rejidx");
		if (rc == ROVE_OK)
			rc = rove_store_reject_author_dec(&v, bytes, out);
		out->apart = i == 1;
	}
	return rc;
}

/* Drops the author's oldest refusal of a class (the first of its "a:" or
 * "x:" range, ascope) and the
 * answer kept for its op; *bytes gets what it was counted for. */
static int drop_oldest(rove_store *st, MDB_txn *txn, const char *ascope, rove_rejection *rj, uint64_t *bytes)
{
	uint8_t key[STORE_KEY_MAX], nb[8];
	size_t plen = store_scope_key(key, ascope, NULL, 0);
	rove_reject_scopes *scopes = malloc(sizeof(*scopes));
	MDB_cursor *c;
	MDB_val k = {plen, key}, v;
	int rc = scopes == NULL ? ROVE_ENOMEM : rove_db_err(mdb_cursor_open(txn, st->rejidx, &c), "cursor");

	if (rc != ROVE_OK) {
		free(scopes);
		return rc;
	}
	rc = rove_db_err(mdb_cursor_get(c, &k, &v, MDB_SET_RANGE), "rejidx");
	if (rc == ROVE_OK && (k.mv_size != plen + 8 || memcmp(k.mv_data, key, plen) != 0))
		rc = ROVE_EPROTO; /* the counters say there is one */
	if (rc == ROVE_OK) {
		memcpy(nb, (const uint8_t *)k.mv_data + plen, 8);
		/* The other scopes copied out before any write moves the map. */
		rc = rove_store_reject_author_dec(&v, bytes, scopes);
	}
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_cursor_del(c, 0), "rejidx");
	mdb_cursor_close(c);
	for (uint32_t i = 0; rc == ROVE_OK && i < scopes->n; i++)
		rc = index_del(st, txn, scopes->s[i], nb);
	free(scopes);
	if (rc == ROVE_OK)
		rc = forget_answer(st, txn, nb, rj);
	if (rc == ROVE_OK) {
		MDB_val rk = {8, nb};
		rc = rove_db_err(mdb_del(txn, st->rejects, &rk, NULL), "rejects");
	}
	if (rc == ROVE_ENOTFOUND)
		rc = ROVE_EPROTO;
	if (rc == ROVE_EPROTO)
		rove_error("the index of refused ops is corrupt");
	return rc;
}

int rove_store_reject_put(rove_store *st, MDB_txn *txn, const rove_op *op, int reason, const char *detail,
			  uint64_t time_ms, const rove_reject_scopes *scopes, rove_buf *scratch)
{
	uint8_t nb[8], aval[8 + ROVE_MAX_REJECT_SCOPES * (ROVE_MAX_SCOPE_LEN + 1)];
	char ascope[ROVE_MAX_SCOPE_LEN + 1];
	size_t alen = 8;
	uint64_t last, bytes;
	bool reach = scopes->apart;
	rove_reject_usage u;
	rove_rejection *rj = NULL; /* room to decode a refusal dropped */
	MDB_val k = {8, nb}, v;
	int rc;

	if (op->author[0] == '\0' || strlen(op->author) > ROVE_MAX_NAME || scopes->n > ROVE_MAX_REJECT_SCOPES)
		return ROVE_EINVAL;
	for (uint32_t i = 0; i < scopes->n; i++)
		if (strnlen(scopes->s[i], ROVE_MAX_SCOPE_LEN + 1) < 3 ||
		    strnlen(scopes->s[i], ROVE_MAX_SCOPE_LEN + 1) > ROVE_MAX_SCOPE_LEN ||
		    strncmp(scopes->s[i], "a:", 2) == 0 || strncmp(scopes->s[i], "x:", 2) == 0)
			return ROVE_EINVAL; /* "a:" and "x:" are the store's own */
	snprintf(ascope, sizeof(ascope), "%s:%s", reach ? "x" : "a", op->author);
	rc = rove_db_last_u64(txn, st->rejects, &last);
	if (rc == ROVE_OK)
		rc = usage_get(st, txn, op->author, reach, &u);
	if (rc != ROVE_OK)
		return rc;
	/* The newest refusal is never dropped, so the last number stays and
	 * numbers only grow. */
	rove_be64_put(nb, last + 1);
	rove_buf_reset(scratch);
	rc = rove_enc_rejection(scratch, time_ms, reason, detail, op);
	if (rc != ROVE_OK)
		return rc;
	v.mv_size = scratch->len;
	v.mv_data = scratch->data;
	rc = rove_db_err(mdb_put(txn, st->rejects, &k, &v, MDB_APPEND), "rejects");
	bytes = scratch->len + 2 * (ROVE_MAX_SCOPE_LEN + 9) + STORE_OPID_COST(strnlen(detail, ROVE_MAX_DETAIL));
	for (uint32_t i = 0; rc == ROVE_OK && i < scopes->n; i++) {
		size_t len = strlen(scopes->s[i]) + 1;
		rc = index_put(st, txn, scopes->s[i], nb, "", 0);
		memcpy(aval + alen, scopes->s[i], len);
		alen += len;
		bytes += len + 9;
	}
	bytes += alen;
	rove_be64_put(aval, bytes);
	if (rc == ROVE_OK)
		rc = index_put(st, txn, ascope, nb, aval, alen);
	u.count++;
	u.bytes += bytes;
	while (rc == ROVE_OK && u.count > 1 &&
	       (u.count > ROVE_MAX_USER_REJECTS || u.bytes > ROVE_MAX_USER_REJECT_BYTES)) {
		uint64_t b = 0;
		if (rj == NULL && (rj = malloc(sizeof(*rj))) == NULL) {
			rc = ROVE_ENOMEM;
			break;
		}
		rc = drop_oldest(st, txn, ascope, rj, &b);
		u.count--;
		u.bytes = b < u.bytes ? u.bytes - b : 0;
		u.dropped++;
	}
	free(rj);
	if (rc == ROVE_OK)
		rc = usage_put(st, txn, op->author, reach, &u);
	return rc;
}

typedef struct each_ctx {
	rove_store *st;
	MDB_txn *txn;
	rove_reject_fn fn;
	void *arg;
} each_ctx;

/* A number the index lists: its refusal. */
static int listed(uint64_t n, unsigned kinds, void *arg)
{
	const each_ctx *e = arg;
	uint8_t nb[8];
	MDB_val k = {8, nb}, v;
	int rc;

	(void)kinds;
	rove_be64_put(nb, n);
	rc = mdb_get(e->txn, e->st->rejects, &k, &v);
	if (rc == MDB_NOTFOUND) {
		rove_error("the index of refused ops lists %llu, which is gone", (unsigned long long)n);
		return ROVE_EPROTO;
	}
	rc = rove_db_err(rc, "rejects");
	return rc == ROVE_OK ? e->fn(n, &v, e->arg) : rc;
}

int rove_store_reject_each(rove_store *st, MDB_txn *txn, const char (*scopes)[ROVE_MAX_SCOPE_LEN + 1], uint32_t n,
			   uint64_t after, rove_reject_fn fn, void *arg)
{
	each_ctx e = {st, txn, fn, arg};

	if (scopes == NULL)
		return store_each_num(txn, st->rejects, "rejects", after, fn, arg);
	return store_merge(txn, st->rejidx, "rejidx", scopes, n, after, false, listed, &e);
}
