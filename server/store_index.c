/*
 * store_index.c - the store's indexes: ops by the scopes they touch
 * (scopelog), records by the scopes they are in (scoperec) and records by
 * the record they belong to (children); and the walks and merges over
 * ranges of keys that the read path, the refusals and the policy share.
 * See store.h.
 */
#include "store_int.h"

#include "db.h"
#include "err.h"
#include "log.h"
#include "rove_assert.h"

#include <stdlib.h>
#include <string.h>

size_t store_scope_key(uint8_t out[STORE_KEY_MAX], const char *scope, const void *suffix, size_t suffix_len)
{
	size_t n = strnlen(scope, ROVE_MAX_SCOPE_LEN);

	memcpy(out, scope, n);
	out[n] = '\0';
	if (suffix_len > 0)
		memcpy(out + n + 1, suffix, suffix_len);
	return n + 1 + suffix_len;
}

int store_each_num(MDB_txn *txn, MDB_dbi dbi, const char *what, uint64_t after, store_num_fn fn, void *arg)
{
	uint8_t key[8];
	MDB_cursor *c;
	MDB_val k = {8, key}, v;
	int rc, mrc;

	if (after == UINT64_MAX)
		return ROVE_OK;
	rc = rove_db_err(mdb_cursor_open(txn, dbi, &c), "cursor");
	if (rc != ROVE_OK)
		return rc;
	rove_be64_put(key, after + 1);
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == ROVE_OK && mrc == 0;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8) {
			rove_error("corrupt key in %s", what);
			rc = ROVE_EPROTO;
			break;
		}
		rc = fn(rove_be64_get(k.mv_data), &v, arg);
	}
	if (rc == ROVE_OK && mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, what);
	mdb_cursor_close(c);
	return rc;
}

/* Calls fn (with arg) or, when NULL, raw_fn (with arg) for each key of
 * dbi of klen bytes that begins with the plen bytes at from, in key order
 * from the key at from (flen bytes, or after it when `after`), with the
 * record key that ends it (fn: a copy; raw_fn: in the map, with the
 * entry's value). fn returns ROVE_OK to go on; any other code ends the
 * walk and is returned. */
static int each_entry(MDB_txn *txn, MDB_dbi dbi, const char *what, const uint8_t *from, size_t flen, size_t plen,
		      size_t klen, bool after, rove_key_fn fn, rove_raw_fn raw_fn, void *arg)
{
	MDB_cursor *c;
	MDB_val k = {flen, (void *)from}, v;
	int rc = rove_db_err(mdb_cursor_open(txn, dbi, &c), "cursor");
	int mrc;

	if (rc != ROVE_OK)
		return rc;
	mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (mrc == 0 && after && k.mv_size == flen && memcmp(k.mv_data, from, flen) == 0)
		mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	while (rc == ROVE_OK && mrc == 0 && k.mv_size == klen && memcmp(k.mv_data, from, plen) == 0) {
		const uint8_t *end = (const uint8_t *)k.mv_data + klen - ROVE_RECORD_KEY;
		if (fn != NULL) {
			uint8_t rec[ROVE_RECORD_KEY];
			memcpy(rec, end, ROVE_RECORD_KEY);
			rc = fn(rec, arg);
		} else {
			rc = raw_fn(end, &v, arg);
		}
		if (rc == ROVE_OK)
			mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	if (rc == ROVE_OK && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, what);
	mdb_cursor_close(c);
	return rc;
}

static int each_key(MDB_txn *txn, MDB_dbi dbi, const char *what, const uint8_t *from, size_t flen, size_t plen,
		    size_t klen, bool after, rove_key_fn fn, void *arg)
{
	return each_entry(txn, dbi, what, from, flen, plen, klen, after, fn, NULL, arg);
}

/* ---- merging scopes' ranges ---- */

/* One scope's range, during a merge. */
typedef struct range {
	MDB_cursor *c;
	uint8_t key[STORE_KEY_MAX];
	size_t plen;
	uint64_t n; /* the number at the cursor; UINT64_MAX once past the range */
	uint8_t value; /* its byte (byte_value) */
} range;

static int range_read(range *r, int mrc, const MDB_val *k, const MDB_val *v, bool byte_value, const char *what)
{
	r->n = UINT64_MAX;
	if (mrc == MDB_NOTFOUND)
		return ROVE_OK;
	if (mrc != 0)
		return rove_db_err(mrc, what);
	if (k->mv_size != r->plen + 8 || memcmp(k->mv_data, r->key, r->plen) != 0)
		return ROVE_OK;
	if (byte_value && (v->mv_size != 1 || *(const uint8_t *)v->mv_data >= 8)) {
		rove_error("%s: an entry's value is not one of its kinds", what);
		return ROVE_EPROTO;
	}
	r->n = rove_be64_get((const uint8_t *)k->mv_data + r->plen);
	r->value = byte_value ? *(const uint8_t *)v->mv_data : 0;
	return ROVE_OK;
}

int store_merge(MDB_txn *txn, MDB_dbi dbi, const char *what, const char (*scopes)[ROVE_MAX_SCOPE_LEN + 1], uint32_t n,
		uint64_t after, bool byte_value, store_merge_fn fn, void *arg)
{
	range *r;
	uint32_t open = 0;
	int rc = ROVE_OK;

	if (after == UINT64_MAX || n == 0)
		return ROVE_OK;
	r = calloc(n, sizeof(*r));
	if (r == NULL)
		return ROVE_ENOMEM;
	for (; rc == ROVE_OK && open < n; open++) {
		uint8_t nb[8];
		MDB_val k, v;
		rc = rove_db_err(mdb_cursor_open(txn, dbi, &r[open].c), "cursor");
		if (rc != ROVE_OK)
			break;
		r[open].plen = store_scope_key(r[open].key, scopes[open], NULL, 0);
		rove_be64_put(nb, after + 1);
		k.mv_size = store_scope_key(r[open].key, scopes[open], nb, 8);
		k.mv_data = r[open].key;
		rc = range_read(&r[open], mdb_cursor_get(r[open].c, &k, &v, MDB_SET_RANGE), &k, &v, byte_value, what);
	}
	while (rc == ROVE_OK) {
		uint64_t min = UINT64_MAX;
		unsigned kinds = 0;
		for (uint32_t i = 0; i < n; i++)
			if (r[i].n < min)
				min = r[i].n;
		if (min == UINT64_MAX)
			break;
		/* Listed under several scopes: once; every range moves past it. */
		for (uint32_t i = 0; rc == ROVE_OK && i < n; i++) {
			MDB_val k, v;
			if (r[i].n != min)
				continue;
			if (byte_value)
				kinds |= 1u << r[i].value;
			rc = range_read(&r[i], mdb_cursor_get(r[i].c, &k, &v, MDB_NEXT), &k, &v, byte_value, what);
		}
		if (rc == ROVE_OK)
			rc = fn(min, kinds, arg);
	}
	for (uint32_t i = 0; i < open; i++)
		if (r[i].c != NULL)
			mdb_cursor_close(r[i].c);
	free(r);
	return rc;
}

/* ---- the writer's cursors ---- */

void rove_store_batch_begin(rove_store *st, MDB_txn *txn)
{
	ROVE_ASSERT(st->batch == NULL && st->ncursors == 0);
	st->batch = txn;
}

/* Closes the cursors on dbi (every one if all). */
static void cursors_close(rove_store *st, MDB_dbi dbi, bool all)
{
	uint32_t kept = 0;

	for (uint32_t i = 0; i < st->ncursors; i++) {
		if (all || st->cursors[i].dbi == dbi)
			mdb_cursor_close(st->cursors[i].c);
		else
			st->cursors[kept++] = st->cursors[i];
	}
	st->ncursors = kept;
}

void rove_store_batch_end(rove_store *st)
{
	cursors_close(st, 0, true);
	st->batch = NULL;
}

/* The batch's cursor on dbi for keys under prefix (its first plen bytes
 * of key), opened if there is none; the oldest is closed to make room. */
static int batch_cursor(rove_store *st, MDB_dbi dbi, const char *what, const uint8_t *key, size_t plen,
			MDB_cursor **out)
{
	rove_store_cursor *sc;
	int rc;

	ROVE_ASSERT(plen <= sizeof(st->cursors[0].prefix));
	for (uint32_t i = 0; i < st->ncursors; i++) {
		sc = &st->cursors[i];
		if (sc->dbi == dbi && sc->len == plen && memcmp(sc->prefix, key, plen) == 0) {
			*out = sc->c;
			return ROVE_OK;
		}
	}
	if (st->ncursors == ROVE_STORE_CURSORS) {
		mdb_cursor_close(st->cursors[0].c);
		memmove(st->cursors, st->cursors + 1, (ROVE_STORE_CURSORS - 1) * sizeof(st->cursors[0]));
		st->ncursors--;
	}
	sc = &st->cursors[st->ncursors];
	rc = mdb_cursor_open(st->batch, dbi, &sc->c);
	if (rc != MDB_SUCCESS)
		return rove_db_err(rc, what);
	sc->dbi = dbi;
	sc->len = (uint8_t)plen;
	memcpy(sc->prefix, key, plen);
	st->ncursors++;
	*out = sc->c;
	return ROVE_OK;
}

int store_put(rove_store *st, MDB_txn *txn, MDB_dbi dbi, const char *what, MDB_val *k, size_t plen, MDB_val *v,
	      unsigned flags)
{
	MDB_cursor *c = NULL;
	int rc;

	if (txn != st->batch)
		return rove_db_err(mdb_put(txn, dbi, k, v, flags), what);
	rc = batch_cursor(st, dbi, what, k->mv_data, plen, &c);
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_cursor_put(c, k, v, flags), what);
	return rc;
}

void store_del_first(rove_store *st, MDB_txn *txn, MDB_dbi dbi)
{
	if (txn == st->batch)
		cursors_close(st, dbi, false);
}

/* ---- scopelog: scope NUL seq(8) -> kind(1) ---- */

int rove_store_scopelog_put(rove_store *st, MDB_txn *txn, const char *scope, uint64_t seq, uint8_t kind)
{
	uint8_t key[STORE_KEY_MAX], seqb[8];
	MDB_val k = {0, key}, v = {1, &kind};

	ROVE_ASSERT(kind <= ROVE_SCOPELOG_LEFT);
	rove_be64_put(seqb, seq);
	k.mv_size = store_scope_key(key, scope, seqb, 8);
	return store_put(st, txn, st->scopelog, "scopelog", &k, k.mv_size - 8, &v, 0);
}

typedef struct scopelog_ctx {
	rove_scopelog_fn fn;
	void *arg;
} scopelog_ctx;

/* An op moved its record across these scopes (for their reader) when it
 * was in one of them before and in none after, or the other way round,
 * or when an entry cannot tell (ROVE_SCOPELOG_MOVED); within them when it
 * entered one and left another. */
static int scopelog_one(uint64_t seq, unsigned kinds, void *arg)
{
	const scopelog_ctx *x = arg;
	const unsigned entered = 1u << ROVE_SCOPELOG_ENTERED, left = 1u << ROVE_SCOPELOG_LEFT;
	bool before = kinds & (1u << ROVE_SCOPELOG_IN | left);
	bool after = kinds & (1u << ROVE_SCOPELOG_IN | entered);
	enum rove_scope_move move = ROVE_MOVE_NONE;

	if (kinds & ~(1u << ROVE_SCOPELOG_IN | 1u << ROVE_SCOPELOG_MOVED | entered | left)) {
		rove_error("scopelog: op %llu is listed with an unknown kind", (unsigned long long)seq);
		return ROVE_EPROTO;
	}
	if ((kinds & 1u << ROVE_SCOPELOG_MOVED) != 0 || before != after)
		move = ROVE_MOVE_ACROSS;
	else if ((kinds & (entered | left)) != 0)
		move = ROVE_MOVE_WITHIN;
	return x->fn(seq, move, x->arg);
}

int rove_store_scopelog_each(rove_store *st, MDB_txn *txn, const char (*scopes)[ROVE_MAX_SCOPE_LEN + 1], uint32_t n,
			     uint64_t after, rove_scopelog_fn fn, void *arg)
{
	scopelog_ctx x = {fn, arg};

	return store_merge(txn, st->scopelog, "scopelog", scopes, n, after, true, scopelog_one, &x);
}

/* ---- scoperec: scope NUL coll id -> the record's bytes (or empty) ---- */

int rove_store_scoped_put(rove_store *st, MDB_txn *txn, const char *scope, const uint8_t rec[ROVE_RECORD_KEY],
			  const MDB_val *bytes)
{
	uint8_t key[STORE_KEY_MAX];
	MDB_val k = {store_scope_key(key, scope, rec, ROVE_RECORD_KEY), key}, v = {0, NULL};

	/* A copy is a record's bytes, never empty (empty: no copy). */
	ROVE_ASSERT(bytes == NULL || (bytes->mv_size > 0 && bytes->mv_data != NULL));
	if (bytes != NULL)
		v = *bytes;
	/* by scope and collection: a rep's new records of one come in order */
	return store_put(st, txn, st->scoperec, "scoperec", &k, k.mv_size - ROVE_RECORD_KEY + 1, &v, 0);
}

int rove_store_scoped_del(rove_store *st, MDB_txn *txn, const char *scope, const uint8_t rec[ROVE_RECORD_KEY])
{
	uint8_t key[STORE_KEY_MAX];
	MDB_val k = {store_scope_key(key, scope, rec, ROVE_RECORD_KEY), key};
	int rc;

	store_del_first(st, txn, st->scoperec);
	rc = mdb_del(txn, st->scoperec, &k, NULL);

	return rc == MDB_NOTFOUND ? ROVE_OK : rove_db_err(rc, "scoperec");
}

int rove_store_scoped_has(rove_store *st, MDB_txn *txn, const char *scope, const uint8_t rec[ROVE_RECORD_KEY],
			  bool *out)
{
	uint8_t key[STORE_KEY_MAX];
	MDB_val k = {store_scope_key(key, scope, rec, ROVE_RECORD_KEY), key}, v;
	int rc = mdb_get(txn, st->scoperec, &k, &v);

	*out = rc == 0;
	return rc == MDB_NOTFOUND ? ROVE_OK : rove_db_err(rc, "scoperec");
}

int rove_store_each_scoped(rove_store *st, MDB_txn *txn, const char *scope, const uint8_t *after, rove_key_fn fn,
			   void *arg)
{
	uint8_t key[STORE_KEY_MAX];
	size_t plen = store_scope_key(key, scope, NULL, 0);

	if (after == NULL)
		return each_key(txn, st->scoperec, "scoperec", key, plen, plen, plen + ROVE_RECORD_KEY, false, fn, arg);
	return each_key(txn, st->scoperec, "scoperec", key, store_scope_key(key, scope, after, ROVE_RECORD_KEY), plen,
			plen + ROVE_RECORD_KEY, true, fn, arg);
}

int rove_store_each_scoped_raw(rove_store *st, MDB_txn *txn, const char *scope, const uint8_t *after,
			       rove_raw_fn fn, void *arg)
{
	uint8_t key[STORE_KEY_MAX];
	size_t plen = store_scope_key(key, scope, NULL, 0);

	if (after == NULL)
		return each_entry(txn, st->scoperec, "scoperec", key, plen, plen, plen + ROVE_RECORD_KEY, false, NULL, fn,
				  arg);
	return each_entry(txn, st->scoperec, "scoperec", key, store_scope_key(key, scope, after, ROVE_RECORD_KEY),
			  plen, plen + ROVE_RECORD_KEY, true, NULL, fn, arg);
}

int rove_store_scoped_fill(rove_store *st, MDB_txn *txn, bool (*copies)(const char *scope), uint64_t max_seen,
			   uint64_t max, uint8_t resume[ROVE_STORE_FILL_RESUME_MAX], size_t *resume_len, uint64_t *n,
			   bool *done)
{
	uint8_t(*keys)[STORE_KEY_MAX] = NULL;
	size_t *klen = NULL, nkeys = 0;
	MDB_cursor *c = NULL;
	MDB_val k = {*resume_len, resume}, v;
	rove_buf bytes;
	uint64_t seen = 0;
	int rc, mrc;

	ROVE_ASSERT(max > 0 && max_seen >= max && *resume_len <= STORE_KEY_MAX);
	*n = 0;
	*done = false;
	/* The keys first, then the puts: no cursor lives through a write. */
	keys = malloc(max * sizeof(*keys));
	klen = malloc(max * sizeof(*klen));
	if (keys == NULL || klen == NULL) {
		free(keys);
		free(klen);
		return ROVE_ENOMEM;
	}
	rove_buf_init(&bytes);
	rc = rove_db_err(mdb_cursor_open(txn, st->scoperec, &c), "cursor");
	if (rc == ROVE_OK) {
		mrc = *resume_len > 0 ? mdb_cursor_get(c, &k, &v, MDB_SET_RANGE) : mdb_cursor_get(c, &k, &v, MDB_FIRST);
		if (mrc == 0 && *resume_len > 0 && k.mv_size == *resume_len && memcmp(k.mv_data, resume, k.mv_size) == 0)
			mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
		for (; mrc == 0 && seen < max_seen && nkeys < max; mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			if (k.mv_size <= ROVE_RECORD_KEY || k.mv_size > STORE_KEY_MAX) {
				rove_error("corrupt key in scoperec");
				rc = ROVE_EPROTO;
				break;
			}
			seen++;
			memcpy(resume, k.mv_data, k.mv_size);
			*resume_len = k.mv_size;
			/* the scope is the key's string, up to its NUL */
			if (v.mv_size == 0 && memchr(k.mv_data, 0, k.mv_size - ROVE_RECORD_KEY) != NULL &&
			    copies((const char *)k.mv_data)) {
				memcpy(keys[nkeys], k.mv_data, k.mv_size);
				klen[nkeys++] = k.mv_size;
			}
		}
		if (rc == ROVE_OK && mrc == MDB_NOTFOUND)
			*done = true;
		else if (rc == ROVE_OK && mrc != 0)
			rc = rove_db_err(mrc, "scoperec");
		mdb_cursor_close(c);
	}
	for (size_t i = 0; rc == ROVE_OK && i < nkeys; i++) {
		MDB_val raw, kk = {klen[i], keys[i]};
		rc = rove_store_record_raw(st, txn, keys[i] + klen[i] - ROVE_RECORD_KEY, &raw);
		if (rc == ROVE_ENOTFOUND) {
			rc = ROVE_OK;
			continue;
		}
		/* copied: the map's bytes are valid only until the next write */
		rove_buf_reset(&bytes);
		if (rc == ROVE_OK)
			rc = rove_buf_append(&bytes, raw.mv_data, raw.mv_size);
		if (rc == ROVE_OK) {
			raw.mv_data = bytes.data;
			rc = store_put(st, txn, st->scoperec, "scoperec", &kk, 0, &raw, 0);
		}
		if (rc == ROVE_OK)
			(*n)++;
	}
	rove_buf_free(&bytes);
	free(keys);
	free(klen);
	return rc;
}

/* ---- children: coll id (the parent's) coll id -> (empty) ---- */

int rove_store_child_put(rove_store *st, MDB_txn *txn, const uint8_t parent[ROVE_RECORD_KEY],
			 const uint8_t child[ROVE_RECORD_KEY])
{
	uint8_t key[2 * ROVE_RECORD_KEY];
	MDB_val k = {sizeof(key), key}, v = {0, ""};

	memcpy(key, parent, ROVE_RECORD_KEY);
	memcpy(key + ROVE_RECORD_KEY, child, ROVE_RECORD_KEY);
	return store_put(st, txn, st->children, "children", &k, 0, &v, 0);
}

int rove_store_child_del(rove_store *st, MDB_txn *txn, const uint8_t parent[ROVE_RECORD_KEY],
			 const uint8_t child[ROVE_RECORD_KEY])
{
	uint8_t key[2 * ROVE_RECORD_KEY];
	MDB_val k = {sizeof(key), key};
	int rc;

	memcpy(key, parent, ROVE_RECORD_KEY);
	memcpy(key + ROVE_RECORD_KEY, child, ROVE_RECORD_KEY);
	store_del_first(st, txn, st->children);
	rc = mdb_del(txn, st->children, &k, NULL);
	return rc == MDB_NOTFOUND ? ROVE_OK : rove_db_err(rc, "children");
}

int rove_store_each_child(rove_store *st, MDB_txn *txn, const uint8_t parent[ROVE_RECORD_KEY], uint8_t coll,
			  rove_key_fn fn, void *arg)
{
	uint8_t prefix[ROVE_RECORD_KEY + 1];
	size_t plen = coll != 0 ? ROVE_RECORD_KEY + 1 : ROVE_RECORD_KEY;

	memcpy(prefix, parent, ROVE_RECORD_KEY);
	prefix[ROVE_RECORD_KEY] = coll;
	return each_key(txn, st->children, "children", prefix, plen, plen, 2 * ROVE_RECORD_KEY, false, fn, arg);
}
