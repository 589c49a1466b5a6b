/*
 * policy.h - the CRM's rules: who may write what, and who sees what.
 *
 * The sync engine knows nothing of customers or owners. For every op it
 * asks this module for a decision, and the module may adjust the op (the
 * server, not the client, sets a new customer's owner). All the ownership
 * and territory rules of SPEC.md live here and only here.
 */
#ifndef ROVE_POLICY_H
#define ROVE_POLICY_H

#include "record.h"
#include "store.h"

#include <stdbool.h>
#include <stddef.h>

/* Decides an op written by u. cur is the record as the server holds it, or
 * NULL if it does not exist. Returns ROVE_R_NONE to accept (op possibly
 * adjusted), or a rove_reason with a short detail for the author. */
int rove_policy_check(rove_store *st, MDB_txn *txn, const rove_user *u, rove_op *op,
		      const rove_record *cur, char *detail, size_t detail_len);

/* Whether u may see a record (snapshots) or an op (pulls). */
bool rove_policy_visible(rove_store *st, MDB_txn *txn, const rove_user *u, const rove_record *rec);
bool rove_policy_op_visible(rove_store *st, MDB_txn *txn, const rove_user *u, const rove_op *op);

#endif
