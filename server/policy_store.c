#include "policy_store.h"

#include "db.h"
#include "err.h"
#include "log.h"
#include "rove_assert.h"

#include <stdlib.h>
#include <string.h>

/* The form of the uniq index's keys: 2 since phones compare without
 * their extension and with every country prefix gone. An index made in
 * another form is rebuilt when the server opens its database. */
#define UNIQ_FORM     2
#define UNIQ_FORM_KEY ROVE_PSTORE_UNIQ_FORM_KEY
/* bydealer is whole (filled from every live customer) once this is 1. */
#define BYDEALER_FORM_KEY ROVE_PSTORE_BYDEALER_FORM_KEY
#define BYDEALER_NAME     "bydealer"

size_t rove_pstore_tables(rove_pstore *ps, rove_db_table out[ROVE_PSTORE_TABLES])
{
	out[0] = (rove_db_table){"codes", &ps->codes};
	out[1] = (rove_db_table){"uniq", &ps->uniq};
	return ROVE_PSTORE_TABLES;
}

/* ---- codes: territory code -> id(16) ---- */

/* Both tables hold a record id(16) under each key. */
static int id_get(MDB_txn *txn, MDB_dbi dbi, const char *what, const void *key, size_t len, rove_uuid *id)
{
	MDB_val k = {len, (void *)key}, v;
	int rc = mdb_get(txn, dbi, &k, &v);

	if (rc != 0)
		return rove_db_err(rc, what);
	if (v.mv_size != sizeof(id->b))
		return ROVE_EPROTO;
	memcpy(id->b, v.mv_data, sizeof(id->b));
	return ROVE_OK;
}

int rove_pstore_code_get(const rove_pstore *ps, MDB_txn *txn, const char *code, rove_uuid *id)
{
	size_t len = strlen(code);

	if (len == 0 || len > ROVE_MAX_NAME)
		return ROVE_ENOTFOUND;
	return id_get(txn, ps->codes, "codes", code, len, id);
}

int rove_pstore_code_put(const rove_pstore *ps, MDB_txn *txn, const char *code, const rove_uuid *id)
{
	MDB_val k = {strlen(code), (void *)code}, v = {16, (void *)id->b};

	return rove_db_err(mdb_put(txn, ps->codes, &k, &v, MDB_NOOVERWRITE), "codes");
}

typedef struct code_walk {
	rove_code_fn fn;
	void *arg;
} code_walk;

static int code_one(const MDB_val *k, const MDB_val *v, void *arg)
{
	const code_walk *w = arg;
	char code[ROVE_MAX_NAME + 1];

	(void)v;
	if (k->mv_size == 0 || k->mv_size > ROVE_MAX_NAME)
		return ROVE_EPROTO; /* rove_pstore_code_put writes none */
	memcpy(code, k->mv_data, k->mv_size);
	code[k->mv_size] = '\0';
	return w->fn(code, w->arg);
}

int rove_pstore_each_code(const rove_pstore *ps, MDB_txn *txn, rove_code_fn fn, void *arg)
{
	code_walk w = {fn, arg};

	return rove_db_each(txn, ps->codes, "codes", code_one, &w);
}

/* ---- uniq: uniqueness key -> customer id(16) ---- */

int rove_pstore_uniq_get(const rove_pstore *ps, MDB_txn *txn, const rove_uniq_key *key, rove_uuid *holder)
{
	return id_get(txn, ps->uniq, "uniq", key->key, key->len, holder);
}

/* The keys of a live customer: up to two. */
static int live_keys(const rove_record *c, rove_uniq_key keys[ROVE_UNIQ_KEYS], rove_uniq_memo *memo)
{
	return rove_record_deleted(c) ? 0 : rove_uniq_keys_memo(&c->fs, keys, memo);
}

static bool has_key(const rove_uniq_key *keys, int n, const rove_uniq_key *k)
{
	for (int i = 0; i < n; i++)
		if (keys[i].len == k->len && memcmp(keys[i].key, k->key, k->len) == 0)
			return true;
	return false;
}

/* Runs for every customer written, so each key costs one B-tree descent
 * where it can: a key the customer keeps is not removed and put back (the
 * second loop leaves it where it is, or takes it if nobody holds it, as
 * removing and taking it would), and a new key is taken with one put that
 * leaves a holder in place (MDB_NOOVERWRITE) instead of a look-up first. */
int rove_pstore_uniq_update(const rove_pstore *ps, MDB_txn *txn, const rove_record *before, const rove_record *after,
			    rove_uniq_memo *memo)
{
	rove_uniq_key old[ROVE_UNIQ_KEYS], neu[ROVE_UNIQ_KEYS];
	int no = before ? live_keys(before, old, memo) : 0;
	int nn = live_keys(after, neu, memo);

	for (int i = 0; i < no; i++) {
		MDB_val k = {old[i].len, old[i].key}, v;
		int rc;
		if (has_key(neu, nn, &old[i]))
			continue;
		rc = mdb_get(txn, ps->uniq, &k, &v);
		/* Only remove what this customer holds. */
		if (rc == 0 && v.mv_size == 16 && memcmp(v.mv_data, after->id.b, 16) == 0)
			rc = mdb_del(txn, ps->uniq, &k, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return rove_db_err(rc, "uniq");
	}
	for (int i = 0; i < nn; i++) {
		MDB_val k = {neu[i].len, neu[i].key}, v = {16, (void *)after->id.b};
		int rc = mdb_put(txn, ps->uniq, &k, &v, MDB_NOOVERWRITE);
		if (rc != 0 && rc != MDB_KEYEXIST)
			return rove_db_err(rc, "uniq");
	}
	return ROVE_OK;
}

/* ---- bydealer: dealer id(16) customer id(16) -> (empty) ---- */

/* The dealer a customer names while it is live; false for none. */
static bool named_dealer(const rove_record *c, rove_uuid *dealer)
{
	const char *d = rove_record_deleted(c) ? NULL : rove_fields_str(&c->fs, "dealer");

	return d != NULL && rove_uuid_parse(d, dealer) == ROVE_OK;
}

static void named_key(uint8_t key[32], const rove_uuid *dealer, const rove_uuid *customer)
{
	memcpy(key, dealer->b, 16);
	memcpy(key + 16, customer->b, 16);
}

int rove_pstore_dealer_update(const rove_pstore *ps, MDB_txn *txn, const rove_record *before,
			      const rove_record *after)
{
	rove_uuid was, now;
	bool had = before != NULL && named_dealer(before, &was), has = named_dealer(after, &now);
	uint8_t key[32];
	MDB_val k = {sizeof(key), key}, v = {0, NULL};
	int rc;

	ROVE_ASSERT(ps->has_bydealer);
	if (had && has && memcmp(was.b, now.b, 16) == 0)
		return ROVE_OK;
	if (had) {
		named_key(key, &was, &after->id);
		rc = mdb_del(txn, ps->bydealer, &k, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return rove_db_err(rc, BYDEALER_NAME);
	}
	if (!has)
		return ROVE_OK;
	named_key(key, &now, &after->id);
	return rove_db_err(mdb_put(txn, ps->bydealer, &k, &v, 0), BYDEALER_NAME);
}

int rove_pstore_each_named(const rove_pstore *ps, MDB_txn *txn, const rove_uuid *dealer, rove_named_fn fn,
			   void *arg)
{
	MDB_cursor *cur;
	MDB_val k = {16, (void *)dealer->b}, v;
	int rc;

	ROVE_ASSERT(ps->has_bydealer);
	rc = rove_db_err(mdb_cursor_open(txn, ps->bydealer, &cur), BYDEALER_NAME);
	if (rc != ROVE_OK)
		return rc;
	for (int op = MDB_SET_RANGE;; op = MDB_NEXT) {
		rove_uuid customer;
		int mrc = mdb_cursor_get(cur, &k, &v, (MDB_cursor_op)op);
		if (mrc == MDB_NOTFOUND)
			break;
		if (mrc != 0) {
			rc = rove_db_err(mrc, BYDEALER_NAME);
			break;
		}
		if (k.mv_size < 16 || memcmp(k.mv_data, dealer->b, 16) != 0)
			break;
		if (k.mv_size != 32) {
			rc = ROVE_EPROTO; /* rove_pstore_dealer_update writes none */
			break;
		}
		memcpy(customer.b, (const uint8_t *)k.mv_data + 16, 16);
		rc = fn(&customer, arg);
		if (rc != ROVE_OK)
			break;
	}
	mdb_cursor_close(cur);
	return rc;
}

int rove_pstore_named_has(const rove_pstore *ps, MDB_txn *txn, const rove_uuid *dealer, const rove_uuid *customer,
			  bool *has)
{
	uint8_t key[32];
	MDB_val k = {sizeof(key), key}, v;
	int rc;

	ROVE_ASSERT(ps->has_bydealer);
	named_key(key, dealer, customer);
	rc = mdb_get(txn, ps->bydealer, &k, &v);
	*has = rc == 0;
	return rc == MDB_NOTFOUND ? ROVE_OK : rove_db_err(rc, BYDEALER_NAME);
}

/* ---- made again on open ---- */

typedef struct rebuild_ctx {
	const rove_pstore *ps;
	MDB_txn *txn;
	rove_record *c;
	unsigned what; /* ROVE_PSTORE_UNIQ, ROVE_PSTORE_BYDEALER */
} rebuild_ctx;

static int rebuild_one(const uint8_t key[ROVE_RECORD_KEY], const MDB_val *raw, void *arg)
{
	const rebuild_ctx *r = arg;
	int rc = ROVE_OK;

	if (key[0] != ROVE_COLL_CUSTOMER)
		return ROVE_EEXIST; /* past the customers */
	if (rove_dec_record(raw->mv_data, raw->mv_size, r->c) != ROVE_OK || r->c->coll != ROVE_COLL_CUSTOMER ||
	    memcmp(r->c->id.b, key + 1, sizeof(r->c->id.b)) != 0) {
		rove_error("stored record is corrupt: left out of the customers' indexes");
		return ROVE_OK; /* one bad record must not keep the server from starting */
	}
	if (r->what & ROVE_PSTORE_UNIQ)
		rc = rove_pstore_uniq_update(r->ps, r->txn, NULL, r->c, NULL);
	if (rc == ROVE_OK && (r->what & ROVE_PSTORE_BYDEALER))
		rc = rove_pstore_dealer_update(r->ps, r->txn, NULL, r->c);
	return rc;
}

/* Whether meta's key holds want. One that is no number (damaged) is
 * not it: the index it marks is made anew, and the mark with it (attack
 * sixty-four: roved serve refused the database, "malformed data"). */
static int form_is(rove_store *st, MDB_txn *txn, const char *key, uint64_t want, bool *is)
{
	uint64_t form = 0;
	int rc = rove_store_meta_get(st, txn, key, &form);

	*is = rc == ROVE_OK && form == want;
	return rc == ROVE_ENOTFOUND || rc == ROVE_EPROTO ? ROVE_OK : rc;
}

int rove_pstore_open(rove_pstore *ps, rove_store *st, MDB_txn *txn, unsigned *rebuilt)
{
	const uint8_t customers[1] = {ROVE_COLL_CUSTOMER};
	rebuild_ctx r = {ps, txn, NULL, 0};
	bool uniq_ok = false, bydealer_ok = false;
	int rc = form_is(st, txn, UNIQ_FORM_KEY, UNIQ_FORM, &uniq_ok);

	*rebuilt = 0;
	if (rc == ROVE_OK)
		rc = form_is(st, txn, BYDEALER_FORM_KEY, 1, &bydealer_ok);
	if (rc == ROVE_OK) {
		/* Its mark without it (a damaged database): made again. */
		int mrc = mdb_dbi_open(txn, BYDEALER_NAME, 0, &ps->bydealer);
		if (mrc == MDB_NOTFOUND) {
			bydealer_ok = false;
			mrc = mdb_dbi_open(txn, BYDEALER_NAME, MDB_CREATE, &ps->bydealer);
		}
		rc = rove_db_err(mrc, BYDEALER_NAME);
	}
	if (rc != ROVE_OK)
		return rc;
	ps->has_bydealer = true;
	if (uniq_ok && bydealer_ok)
		return ROVE_OK;
	/* Every live customer's keys again, in id order: where two now
	 * share a key (two extensions of one switchboard), the older keeps
	 * it, as if it had been created under these rules. */
	if (!uniq_ok) {
		r.what |= ROVE_PSTORE_UNIQ;
		rc = rove_db_err(mdb_drop(txn, ps->uniq, 0), "uniq");
	}
	if (rc == ROVE_OK && !bydealer_ok) {
		r.what |= ROVE_PSTORE_BYDEALER;
		rc = rove_db_err(mdb_drop(txn, ps->bydealer, 0), BYDEALER_NAME);
	}
	if (rc != ROVE_OK)
		return rc;
	r.c = malloc(sizeof(*r.c));
	if (r.c == NULL)
		return ROVE_ENOMEM;
	rc = rove_store_each_record(st, txn, customers, sizeof(customers), rebuild_one, &r);
	if (rc == ROVE_EEXIST)
		rc = ROVE_OK;
	free(r.c);
	if (rc == ROVE_OK && (r.what & ROVE_PSTORE_UNIQ))
		rc = rove_store_meta_put(st, txn, UNIQ_FORM_KEY, UNIQ_FORM);
	if (rc == ROVE_OK && (r.what & ROVE_PSTORE_BYDEALER))
		rc = rove_store_meta_put(st, txn, BYDEALER_FORM_KEY, 1);
	if (rc == ROVE_OK)
		*rebuilt = r.what;
	return rc;
}

int rove_pstore_open_ro(rove_pstore *ps, rove_store *st, MDB_txn *txn, bool *lost)
{
	bool whole = false;
	int rc = form_is(st, txn, BYDEALER_FORM_KEY, 1, &whole);

	ps->has_bydealer = false;
	*lost = false;
	if (rc != ROVE_OK || !whole)
		return rc;
	rc = mdb_dbi_open(txn, BYDEALER_NAME, 0, &ps->bydealer);
	if (rc == MDB_NOTFOUND) {
		*lost = true;
		return ROVE_OK;
	}
	ps->has_bydealer = rc == 0;
	return rove_db_err(rc, BYDEALER_NAME);
}
