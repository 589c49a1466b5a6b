/*
 * policy_store.h - the CRM's own tables in the server's database.
 *
 * The sync engine's tables are the store's (store.h). These two exist
 * for the policy's rules alone, and only this module touches them:
 *   codes  territory code  -> the territory record's id(16)
 *   uniq   uniqueness key  -> the id(16) of the live customer holding it
 *          (rule 3: rove_uniq_keys' "tax:..." and "tel:...")
 * and, in the store's meta, "uniq_form": the rules of comparison the uniq
 * keys were made under. The store opens (or creates) them with its own
 * (rove_store_open's more tables), in the same environment.
 */
#ifndef ROVE_POLICY_STORE_H
#define ROVE_POLICY_STORE_H

#include "ident.h"
#include "schema.h"
#include "store.h"

#include <stdbool.h>

typedef struct rove_pstore {
	MDB_dbi codes, uniq;
} rove_pstore;

/* The tables, for the store to open with its own: their names, and
 * where their handles go (into ps). Returns how many. */
#define ROVE_PSTORE_TABLES 2
size_t rove_pstore_tables(rove_pstore *ps, rove_db_table out[ROVE_PSTORE_TABLES]);

/* Brings the uniq index to the form this server keeps it in, in the
 * caller's write transaction: made again from every live customer of st
 * if it was made under other rules of comparison. *rebuilt says whether
 * anything was written. */
int rove_pstore_open(const rove_pstore *ps, rove_store *st, MDB_txn *txn, bool *rebuilt);

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

#endif
