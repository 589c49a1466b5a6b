#include "policy.h"

#include "err.h"
#include "schema.h"

#include <stdio.h>
#include <string.h>

/* Fields only the server (or a dedicated command) sets on a rep's behalf. */
static bool touches(const rove_op *op, const char *field)
{
	return rove_fields_get(&op->fs, field) != NULL;
}

int rove_policy_check(rove_store *st, MDB_txn *txn, const rove_user *u, rove_op *op,
		      const rove_record *cur, char *detail, size_t detail_len)
{
	(void)st;
	(void)txn;
	if (u->role == ROVE_ROLE_ANALYST) {
		snprintf(detail, detail_len, "analysts are read-only");
		return ROVE_R_FORBIDDEN;
	}
	if (op->kind == ROVE_OP_CREATE && cur != NULL) {
		snprintf(detail, detail_len, "record already exists");
		return ROVE_R_INVALID;
	}
	if (op->kind != ROVE_OP_CREATE && cur == NULL) {
		snprintf(detail, detail_len, "no such record");
		return ROVE_R_INVALID;
	}
	if (cur != NULL && rove_record_deleted(cur)) {
		snprintf(detail, detail_len, "record was deleted");
		return ROVE_R_DELETED;
	}
	if (op->coll != ROVE_COLL_CUSTOMER)
		return ROVE_R_NONE;
	if (op->kind == ROVE_OP_DELETE && u->role == ROVE_ROLE_REP) {
		snprintf(detail, detail_len, "reps cannot delete customers");
		return ROVE_R_FORBIDDEN;
	}
	if (op->kind == ROVE_OP_CREATE) {
		/* The server sets the owner: the rep who creates it. */
		const char *owner = rove_fields_str(&op->fs, "owner");
		if (u->role == ROVE_ROLE_REP || owner == NULL) {
			if (rove_op_set(op, "owner", rove_vcstr(u->name)) != ROVE_OK) {
				snprintf(detail, detail_len, "record too large");
				return ROVE_R_INVALID;
			}
		}
		return ROVE_R_NONE;
	}
	if (u->role == ROVE_ROLE_REP && (touches(op, "owner") || touches(op, "territory"))) {
		snprintf(detail, detail_len, "reps cannot change owner or territory");
		return ROVE_R_FORBIDDEN;
	}
	return ROVE_R_NONE;
}

bool rove_policy_visible(rove_store *st, MDB_txn *txn, const rove_user *u, const rove_record *rec)
{
	(void)st;
	(void)txn;
	(void)u;
	(void)rec;
	return true; /* scoped replication comes with territories */
}

bool rove_policy_op_visible(rove_store *st, MDB_txn *txn, const rove_user *u, const rove_op *op)
{
	(void)st;
	(void)txn;
	(void)u;
	(void)op;
	return true;
}
