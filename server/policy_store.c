#include "policy_store.h"

#include "db.h"
#include "err.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

/* The form of the uniq index's keys: 2 since phones compare without
 * their extension and with every country prefix gone. An index made in
 * another form is rebuilt when the server opens its database. */
#define UNIQ_FORM     2
#define UNIQ_FORM_KEY "uniq_form"

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

typedef struct rebuild_ctx {
	const rove_pstore *ps;
	MDB_txn *txn;
	rove_record *c;
} rebuild_ctx;

static int rebuild_one(const uint8_t key[ROVE_RECORD_KEY], const MDB_val *raw, void *arg)
{
	const rebuild_ctx *r = arg;

	if (key[0] != ROVE_COLL_CUSTOMER)
		return ROVE_EEXIST; /* past the customers */
	if (rove_dec_record(raw->mv_data, raw->mv_size, r->c) != ROVE_OK || r->c->coll != ROVE_COLL_CUSTOMER ||
	    memcmp(r->c->id.b, key + 1, sizeof(r->c->id.b)) != 0) {
		rove_error("stored record is corrupt: left out of the uniq index");
		return ROVE_OK; /* one bad record must not keep the server from starting */
	}
	return rove_pstore_uniq_update(r->ps, r->txn, NULL, r->c, NULL);
}

int rove_pstore_open(const rove_pstore *ps, rove_store *st, MDB_txn *txn, bool *rebuilt)
{
	const uint8_t customers[1] = {ROVE_COLL_CUSTOMER};
	rebuild_ctx r = {ps, txn, NULL};
	uint64_t form = 0;
	int rc = rove_store_meta_get(st, txn, UNIQ_FORM_KEY, &form);

	*rebuilt = false;
	if (rc == ROVE_OK && form == UNIQ_FORM)
		return ROVE_OK;
	if (rc != ROVE_OK && rc != ROVE_ENOTFOUND)
		return rc;
	/* Every live customer's keys again, in id order: where two now
	 * share a key (two extensions of one switchboard), the older keeps
	 * it, as if it had been created under these rules. */
	rc = rove_db_err(mdb_drop(txn, ps->uniq, 0), "uniq");
	if (rc != ROVE_OK)
		return rc;
	r.c = malloc(sizeof(*r.c));
	if (r.c == NULL)
		return ROVE_ENOMEM;
	rc = rove_store_each_record(st, txn, customers, sizeof(customers), rebuild_one, &r);
	if (rc == ROVE_EEXIST)
		rc = ROVE_OK;
	free(r.c);
	if (rc == ROVE_OK)
		rc = rove_store_meta_put(st, txn, UNIQ_FORM_KEY, UNIQ_FORM);
	*rebuilt = rc == ROVE_OK;
	return rc;
}
