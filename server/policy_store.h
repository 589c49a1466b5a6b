/*
 * policy_store.h - the CRM's own tables in the server's database.
 *
 * The sync engine's tables are the store's (store.h). These two exist
 * for the policy's rules alone, and only this module touches them:
 *   codes  territory code  -> the territory record's id(16)
 *   uniq   uniqueness key  -> the id(16) of the live customer holding it
 *          (rule 3: rove_uniq_keys' "tax:..." and "tel:...")
 *   bydealer dealer id(16) customer id(16) -> (empty): the live customers
 *          that name each dealer (rule 13: a dealer they name is not
 *          deleted, nor moved out of their territories' line)
 * and, in the store's meta, "uniq_form": the rules of comparison the uniq
 * keys were made under, and "bydealer_form": that bydealer is whole. The
 * store opens (or creates) codes and uniq with its own (rove_store_open's
 * more tables), in the same environment; bydealer, which a roved before
 * it did not make, is made by rove_pstore_open and read where it exists
 * (rove_pstore_open_ro).
 */
#ifndef ROVE_POLICY_STORE_H
#define ROVE_POLICY_STORE_H

/* The meta keys above (numbers, 8 bytes; roved check reads them). */
#define ROVE_PSTORE_UNIQ_FORM_KEY "uniq_form"
#define ROVE_PSTORE_BYDEALER_FORM_KEY "bydealer_form"

#include "ident.h"
#include "schema.h"
#include "store.h"

#include <stdbool.h>

typedef struct rove_pstore {
	MDB_dbi codes, uniq, bydealer;
	bool has_bydealer; /* opened (rove_pstore_open, rove_pstore_open_ro) */
} rove_pstore;

/* What rove_pstore_open made again (a mask). */
enum { ROVE_PSTORE_UNIQ = 1, ROVE_PSTORE_BYDEALER = 2 };

/* The tables, for the store to open with its own: their names, and
 * where their handles go (into ps). Returns how many. */
#define ROVE_PSTORE_TABLES 2
size_t rove_pstore_tables(rove_pstore *ps, rove_db_table out[ROVE_PSTORE_TABLES]);

/* Brings the indexes to the form this server keeps them in, in the
 * caller's write transaction: uniq made again from every live customer
 * of st if it was made under other rules of comparison, bydealer made
 * (and filled) where a roved before it left none. *rebuilt says which
 * were written (ROVE_PSTORE_UNIQ, ROVE_PSTORE_BYDEALER). */
int rove_pstore_open(rove_pstore *ps, rove_store *st, MDB_txn *txn, unsigned *rebuilt);
/* Opens bydealer in a read-only transaction where it exists and is whole
 * (ps->has_bydealer); a database no roved of today opened has none.
 * *lost: marked whole, yet missing (damaged). */
int rove_pstore_open_ro(rove_pstore *ps, rove_store *st, MDB_txn *txn, bool *lost);

/* ---- territories by code ---- */

/* A territory's record id by code; ROVE_ENOTFOUND if none. */
int rove_pstore_code_get(const rove_pstore *ps, MDB_txn *txn, const char *code, rove_uuid *id);
/* A new territory's code; ROVE_EEXIST if taken. */
int rove_pstore_code_put(const rove_pstore *ps, MDB_txn *txn, const char *code, const rove_uuid *id);
/* Calls fn with every territory code, in order; fn returns ROVE_OK to go
 * on, and any other code ends the walk and is returned. fn may read but
 * must not add codes. */
typedef int (*rove_code_fn)(const char *code, void *arg);
int rove_pstore_each_code(const rove_pstore *ps, MDB_txn *txn, rove_code_fn fn, void *arg);

/* ---- unique tax ids and phones of live customers ---- */

/* The customer holding key; ROVE_ENOTFOUND if none. */
int rove_pstore_uniq_get(const rove_pstore *ps, MDB_txn *txn, const rove_uniq_key *key, rove_uuid *holder);
/* Keeps the index in step with a customer as written (before: as it was,
 * NULL for a new one): its old keys go where it held them, its new ones
 * (none once it is deleted) are taken where nobody holds them. The keys
 * are made through memo (rove_uniq_keys_memo; NULL: none). */
int rove_pstore_uniq_update(const rove_pstore *ps, MDB_txn *txn, const rove_record *before, const rove_record *after,
			    rove_uniq_memo *memo);

/* ---- the live customers naming each dealer ---- */

/* Keeps bydealer in step with a customer as written (before: as it was,
 * NULL for a new one): listed under the dealer it names while it is
 * live. */
int rove_pstore_dealer_update(const rove_pstore *ps, MDB_txn *txn, const rove_record *before,
			      const rove_record *after);
/* Calls fn with each live customer naming dealer, in id order; fn returns
 * ROVE_OK to go on, and any other code ends the walk and is returned. */
typedef int (*rove_named_fn)(const rove_uuid *customer, void *arg);
int rove_pstore_each_named(const rove_pstore *ps, MDB_txn *txn, const rove_uuid *dealer, rove_named_fn fn,
			   void *arg);
/* Whether customer is listed under dealer. */
int rove_pstore_named_has(const rove_pstore *ps, MDB_txn *txn, const rove_uuid *dealer, const rove_uuid *customer,
			  bool *has);

#endif
