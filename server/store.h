/*
 * store.h - the server's LMDB database.
 *
 * One environment, these named databases:
 *   meta     string key -> value   (format version, server node, clock,
 *                                    the form of the policy's uniq keys)
 *   records  coll(1) id(16)       -> record (proto's record encoding)
 *   oplog    seq(8, big-endian)   -> op, with seq and author (appended in
 *                                    order, so MDB_APPEND applies)
 *   opids    op id(16)            -> the answer given to that op, so a push
 *                                    sent twice gets the same answer
 *   users    login                -> role(1) token hash(32) epoch(8)
 *                                    territory codes, each NUL-terminated
 *   rejects  n(8)                 -> a refused op with author and reason
 *                                    (proto's rejection encoding)
 *   rejidx   scope NUL n(8)       -> refusals by the scopes that may list
 *                                    them: "t:CODE" (policy's) -> empty;
 *                                    "a:AUTHOR" (the store's) -> bytes(8)
 *                                    and the refusal's other scopes, each
 *                                    NUL-terminated
 *   codes    territory code       -> the territory record's id(16)
 *   scopelog scope NUL seq(8)     -> moved(1): ops by the scopes they touch
 *   scoperec scope NUL coll id    -> (empty): records by the scope they are in
 *   children coll id coll id      -> (empty): a customer's child records
 *   uniq     kind:value           -> customer id(16) (live tax ids, phones)
 *   counters name                 -> u64 (e.g. a rep's claims on a day);
 *            "rejects:" AUTHOR    -> count(8) bytes(8) dropped(8) of the
 *                                    author's refusals kept and dropped
 *   runs     n(8)                 -> start seq(8) run id(16): one entry per
 *                                    start of the server (see rove_run)
 * Scopes are short strings chosen by the policy module ("o:wang" a rep's
 * own customers, "r:east.sh" a territory's pool and reference data,
 * "t:east.sh" everything in a territory).
 * The sequence head is the oplog's last key: no second copy to drift.
 *
 * All functions take the caller's transaction; values they return point
 * into their out-parameters, never into the map.
 */
#ifndef ROVE_STORE_H
#define ROVE_STORE_H

#include "auth.h"
#include "proto.h"
#include "record.h"

#include <lmdb.h>
#include <stdint.h>

/* The layout of a server database; one made with another is refused at
 * open (ROVE_EVERSION). 2: refused ops in proto's rejection encoding.
 * 3: runs; refused ops indexed by scope and author (rejidx), and bounded. */
#define ROVE_STORE_FORMAT 3

/* The name the server acts under for its own periodic work (recycling):
 * no user may take it, in any case. */
#define ROVE_SYSTEM_USER "roved"

/* Index keys: prefix bytes, a NUL after a string prefix, then suffix. */
#define ROVE_INDEX_KEY_MAX (ROVE_MAX_SCOPE_LEN + 1 + 2 * ROVE_RECORD_KEY)
size_t rove_store_scope_key(uint8_t *out, const char *scope, const void *suffix, size_t suffix_len);

/* The index scopes a refused op is listed under, chosen by the policy
 * (territories: "t:CODE"); the store adds its own by author ("a:LOGIN"). */
typedef struct rove_reject_scopes {
	uint32_t n;
	char s[ROVE_MAX_REJECT_SCOPES][ROVE_MAX_SCOPE_LEN + 1];
} rove_reject_scopes;

typedef struct rove_user {
	char name[ROVE_MAX_NAME + 1];
	int role;       /* enum rove_role */
	uint64_t epoch; /* bumped whenever what the user may see changes */
	uint32_t nterr;
	char terr[ROVE_MAX_USER_TERRITORIES][ROVE_MAX_NAME + 1];
} rove_user;

typedef struct rove_store {
	MDB_env *env;
	MDB_dbi meta, records, oplog, opids, users, rejects;
	MDB_dbi codes, scopelog, scoperec, children, uniq, counters, rejidx, runs;
	uint64_t node; /* this server's node number, for its own stamps */
} rove_store;

/* A run: the stretch of the server's history written between one start
 * of the server and the next. Every start begins a new run with a random
 * id, at the sequence number after the head. A copy of the database
 * taken at any time and brought back later starts a run of its own, so a
 * replica that names a run and a sequence number in it can be told
 * whether this server's history up to there is the one it synced with:
 * the run must be here, and the number no later than where the run ends
 * here (the next run's start, or the head). */
typedef struct rove_run {
	uint64_t start; /* the first sequence number it wrote (or would have) */
	rove_uuid id;
} rove_run;

/* Creates a new database in dir (refusing an existing one) with one admin
 * user; writes the admin's token into token. */
int rove_store_init(const char *dir, const char *admin, char token[ROVE_TOKEN_HEX + 1]);
int rove_store_open(const char *dir, rove_store *st);
void rove_store_close(rove_store *st);

/* Begins a new run (durably) and loads every run, oldest first, into
 * *runs (the caller frees it); *n is at least 1, the last being the new
 * one. */
int rove_store_run_start(rove_store *st, rove_run **runs, size_t *n);

/* Copies the database, consistent as of one moment, into the directory
 * dest (created, or empty), while servers may be writing to it. */
int rove_store_backup(const char *dir, const char *dest);

int rove_store_user_get(rove_store *st, MDB_txn *txn, const char *name, rove_user *u,
			uint8_t hash[ROVE_HASH_BYTES]);
int rove_store_user_put(rove_store *st, MDB_txn *txn, const rove_user *u,
			const uint8_t hash[ROVE_HASH_BYTES]);

/* ROVE_ENOTFOUND if absent. */
int rove_store_record_get(rove_store *st, MDB_txn *txn, uint8_t coll, const rove_uuid *id,
			  rove_record *rec);

/* Walks the children of the customer whose record key is parent, in key
 * order: those of collection coll, or all of them when coll is 0. fn gets
 * each child's record key (a copy: fn may write to the store) and returns
 * ROVE_OK to go on; any other code ends the walk and is returned (callers
 * that stop on a find use ROVE_EEXIST). */
typedef int (*rove_child_fn)(const uint8_t child[ROVE_RECORD_KEY], void *arg);
int rove_store_each_child(rove_store *st, MDB_txn *txn, const uint8_t parent[ROVE_RECORD_KEY], uint8_t coll,
			  rove_child_fn fn, void *arg);
int rove_store_record_put(rove_store *st, MDB_txn *txn, const rove_record *rec);

int rove_store_head(rove_store *st, MDB_txn *txn, uint64_t *head);

/* The server's clock as last stored (zero in a database that never stored
 * it): every stamp the database holds is at or before it. Written in the
 * transaction of the ops it covers. */
int rove_store_clock_get(rove_store *st, MDB_txn *txn, rove_hlc *clock);
int rove_store_clock_put(rove_store *st, MDB_txn *txn, rove_hlc clock);
/* Sets op->seq to *head + 1, appends op to the oplog and advances *head
 * (the caller keeps the head of its transaction: rove_store_head). */
int rove_store_oplog_append(rove_store *st, MDB_txn *txn, rove_op *op, uint64_t *head, rove_buf *scratch);

/* The stored answer to an op id; ROVE_ENOTFOUND if never seen. */
int rove_store_opid_get(rove_store *st, MDB_txn *txn, const rove_uuid *op_id, rove_push_result *r);
int rove_store_opid_put(rove_store *st, MDB_txn *txn, const rove_push_result *r);

/* A territory's record id by code; ROVE_ENOTFOUND if none. */
int rove_store_code_get(rove_store *st, MDB_txn *txn, const char *code, rove_uuid *id);
int rove_store_code_put(rove_store *st, MDB_txn *txn, const char *code, const rove_uuid *id);

/* A stored op by sequence number (decoded into op) and its raw bytes
 * (valid until the txn ends). */
int rove_store_oplog_get(rove_store *st, MDB_txn *txn, uint64_t seq, rove_op *op, MDB_val *raw);


/* Keeps op (its author set) refused with reason and detail at time_ms,
 * listed under each of scopes and under its author. Then drops the
 * author's oldest refusals while they are more than ROVE_MAX_USER_REJECTS
 * or ROVE_MAX_USER_REJECT_BYTES (never the one just kept), so that no
 * user can fill the disk with refused ops. Refusals are numbered in the
 * order they are kept; a number is never used again. */
int rove_store_reject_put(rove_store *st, MDB_txn *txn, const rove_op *op, int reason, const char *detail,
			  uint64_t time_ms, const rove_reject_scopes *scopes, rove_buf *scratch);

/* What is kept of an author's refusals, and how many were dropped. */
typedef struct rove_reject_usage {
	uint64_t count, bytes, dropped;
} rove_reject_usage;
int rove_store_reject_usage(rove_store *st, MDB_txn *txn, const char *author, rove_reject_usage *u);

/* Calls fn for each refusal numbered after `after`, in number order: all
 * of them (scopes NULL), or each one listed under one of the n scopes,
 * once (a merge of the scopes' index ranges: the walk costs what it
 * returns). v is the stored refusal (rove_store_reject_decode), valid
 * until the txn ends. fn returns ROVE_OK to go on; any other code ends
 * the walk and is returned. */
typedef int (*rove_reject_fn)(uint64_t n, const MDB_val *v, void *arg);
int rove_store_reject_each(rove_store *st, MDB_txn *txn, const char (*scopes)[ROVE_MAX_SCOPE_LEN + 1], uint32_t n,
			   uint64_t after, rove_reject_fn fn, void *arg);

/* Decodes a stored reject: its number and the rejection (whose op_raw
 * points into v, valid until the txn ends). */
int rove_store_reject_decode(const MDB_val *k, const MDB_val *v, uint64_t *n, rove_rejection *rj);

#endif
