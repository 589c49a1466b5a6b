/*
 * policy.h - the CRM's rules: who may write what, and who sees what.
 *
 * The sync engine knows nothing of customers, owners or territories. For
 * every op it asks this module for a decision (and the module may adjust
 * the op: the server, not the client, sets a new customer's owner); for
 * every record it asks which scopes the record is in; for every user which
 * scopes they read. All the ownership and territory rules of SPEC.md live
 * here and only here.
 *
 * Scopes (strings, at most ROVE_SCOPE_MAX bytes):
 *   o:LOGIN  customers a user owns, and their child records
 *   r:CODE   what every rep of a territory sees: its public-pool customers
 *            (and their children) and its reference data
 *   t:CODE   everything in a territory (what managers above it see)
 * Analysts and admins read everything.
 */
#ifndef ROVE_POLICY_H
#define ROVE_POLICY_H

#include "record.h"
#include "store.h"

#include <stdbool.h>
#include <stddef.h>

#define ROVE_MAX_SCOPES 4        /* scopes one record is in */
#define ROVE_MAX_USER_SCOPES 256 /* scopes one user reads */
#define ROVE_MAX_TREE_DEPTH 16   /* territory levels */

/* The name the server acts under for its own periodic work (recycling). */
#define ROVE_SYSTEM_USER "roved"

typedef struct rove_scopes {
	uint32_t n;
	char s[ROVE_MAX_SCOPES][ROVE_SCOPE_MAX + 1];
} rove_scopes;

typedef struct rove_user_scopes {
	bool all; /* everything: no scope filter */
	uint32_t n;
	char s[ROVE_MAX_USER_SCOPES][ROVE_SCOPE_MAX + 1]; /* sorted */
} rove_user_scopes;

/* Decides an op written by u. cur is the record as the server holds it, or
 * NULL if it does not exist. Returns ROVE_R_NONE to accept (op possibly
 * adjusted), or a rove_reason with a short detail for the author. */
int rove_policy_check(rove_store *st, MDB_txn *txn, const rove_user *u, rove_op *op,
		      const rove_record *cur, char *detail, size_t detail_len);

/* After an op was applied (before is NULL for a new record): keeps the
 * policy's own indexes (unique tax ids and phones) and may fill *follow
 * with an op the engine applies next as the server (ownership history). */
int rove_policy_after(rove_store *st, MDB_txn *txn, const rove_user *u, const rove_op *op,
		      const rove_record *before, const rove_record *after, rove_op *follow,
		      bool *has_follow);

/* Periodic rules (recycling idle customers to the pool, warning their
 * owners first): fills up to max ops for the engine to apply as the
 * server (ROVE_SYSTEM_USER); *n says how many. */
int rove_policy_periodic(rove_store *st, MDB_txn *txn, rove_op *ops, size_t max, size_t *n);

/* The scopes a record is in (a child record: its customer's; a deleted
 * record: none). hint, if not NULL, is a customer the caller holds: used
 * instead of reading the parent when it is the one. */
int rove_policy_scopes(rove_store *st, MDB_txn *txn, const rove_record *rec, const rove_record *hint,
		       rove_scopes *out);

/* The scopes u reads, sorted (or all). */
int rove_policy_user_scopes(rove_store *st, MDB_txn *txn, const rove_user *u, rove_user_scopes *out);

/* Whether any scope of rec is one u reads. */
bool rove_policy_sees(const rove_user_scopes *us, const rove_scopes *rs);

/* Whether territory code lies in the subtree of one of u's territories. */
bool rove_policy_in_reach(rove_store *st, MDB_txn *txn, const rove_user *u, const char *code);

#endif
