/*
 * store_int.h - what the store's parts (store.c, store_index.c,
 * store_reject.c) share; not for use outside the store.
 */
#ifndef ROVE_STORE_INT_H
#define ROVE_STORE_INT_H

#include "store.h"

#include <stdbool.h>

/* Index keys (scopelog, scoperec, rejidx): a scope, a NUL, a suffix (a
 * number or a record key). */
#define STORE_KEY_MAX (ROVE_MAX_SCOPE_LEN + 1 + ROVE_RECORD_KEY)
/* The key of scope and suffix into out; its length. */
size_t store_scope_key(uint8_t out[STORE_KEY_MAX], const char *scope, const void *suffix, size_t suffix_len);

/* Calls fn(n, v, arg) for each entry of dbi, a table keyed by big-endian
 * numbers, numbered after `after`, in order (v valid until the txn ends);
 * what names the table in errors. fn returns ROVE_OK to go on; any other
 * code ends the walk and is returned. */
typedef int (*store_num_fn)(uint64_t n, const MDB_val *v, void *arg);
int store_each_num(MDB_txn *txn, MDB_dbi dbi, const char *what, uint64_t after, store_num_fn fn, void *arg);

/* Calls fn(n, kinds, arg) once for each number after `after` that one of
 * the n scopes lists in dbi (keys "scope NUL number(8)"), in number
 * order: a merge of the scopes' ranges, which costs what it returns.
 * With byte_value, every entry's value is one byte below 8 and kinds has
 * bit b set when one of the entries for n holds the byte b (scopelog's
 * ROVE_SCOPELOG_*); without, values are not read and kinds is 0. fn
 * returns ROVE_OK to go on; any other code ends the walk and is returned. */
typedef int (*store_merge_fn)(uint64_t n, unsigned kinds, void *arg);
int store_merge(MDB_txn *txn, MDB_dbi dbi, const char *what, const char (*scopes)[ROVE_MAX_SCOPE_LEN + 1], uint32_t n,
		uint64_t after, bool byte_value, store_merge_fn fn, void *arg);

/* mdb_put(txn, dbi, k, v, flags), errors naming the table what; in the
 * transaction of rove_store_batch_begin, through the batch's cursor for
 * keys with k's first plen bytes (a put next to the last one skips the
 * search from the root). */
int store_put(rove_store *st, MDB_txn *txn, MDB_dbi dbi, const char *what, MDB_val *k, size_t plen, MDB_val *v,
	      unsigned flags);
/* Before a delete from dbi: in the batch's transaction, its cursors on
 * dbi are closed rather than trusted to follow the pages a delete may
 * merge. */
void store_del_first(rove_store *st, MDB_txn *txn, MDB_dbi dbi);

/* Forgets the stored answer to op_id if it is a refusal (an accepted op's
 * answer is kept for good): a refused op's answer lives only as long as
 * its refusal. ROVE_OK also when there is none. */
int store_opid_forget_refused(rove_store *st, MDB_txn *txn, const rove_uuid *op_id);
/* What one refusal's answer costs in opids (key, value, LMDB's node):
 * counted in its author's refusal bytes. */
#define STORE_OPID_COST(detail_len) (16u + 26u + (detail_len) + 16u)

#endif
