/*
 * policy_after.c - what follows an accepted op (rove_policy_after): the
 * policy's indexes (unique tax ids and phones, claims a day), a
 * customer's ownership history and last activity, as follow-up ops the
 * engine applies as the server.
 */
#include "policy_int.h"

#include "err.h"
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rove_policy_open(const pctx *pc, bool *rebuilt)
{
	return rove_pstore_open(pc->ps, pc->st, pc->txn, rebuilt);
}

/* ---- after an op ---- */

static const char *owner_event(const rove_user *u, const rove_op *op, const rove_record *before)
{
	if (before == NULL)
		return "create";
	switch (op->kind) {
	case ROVE_OP_CLAIM: return "claim";
	case ROVE_OP_RELEASE: return strcmp(u->name, ROVE_SYSTEM_USER) == 0 ? "recycle" : "release";
	default: return "reassign";
	}
}

/* An activity moves its customer's last_activity_at forward. */
static int after_activity(const pctx *pc, const rove_op *op, rove_op *follow, bool *has_follow)
{
	const char *cid = rove_fields_str(&op->fs, "customer");
	const char *at = rove_fields_str(&op->fs, "at");
	const char *last;
	rove_record *c;
	rove_uuid id;
	int rc;

	if (cid == NULL || at == NULL || rove_uuid_parse(cid, &id) != ROVE_OK)
		return ROVE_OK;
	c = malloc(sizeof(*c));
	if (c == NULL)
		return ROVE_ENOMEM;
	rc = rove_store_record_get(pc->st, pc->txn, ROVE_COLL_CUSTOMER, &id, c);
	last = rc == ROVE_OK ? rove_fields_str(&c->fs, "last_activity_at") : NULL;
	if (rc == ROVE_OK && (last == NULL || strcmp(last, at) < 0)) {
		rove_uuid fid;
		rove_uuid_derive(&fid, &op->op_id, "last-activity-op");
		/* stamped by the engine with the server's clock */
		rove_op_init_id(follow, &fid, ROVE_OP_UPDATE, ROVE_COLL_CUSTOMER, &id, op->st);
		rc = rove_op_set(follow, "last_activity_at", rove_vcstr(at));
		*has_follow = rc == ROVE_OK;
	} else if (rc == ROVE_ENOTFOUND) {
		rc = ROVE_OK;
	}
	free(c);
	return rc;
}

int rove_policy_after(const pctx *pc, const rove_user *u, const rove_op *op, const rove_record *before,
		      const rove_record *after, rove_op *follow, bool *has_follow)
{
	const char *was, *now, *why;
	char ids[ROVE_UUID_STRLEN + 1], when[ROVE_TIME_SIZE];
	rove_uuid hid, fid;
	int rc;

	*has_follow = false;
	if (after->coll == ROVE_COLL_ACTIVITY && before == NULL)
		return after_activity(pc, op, follow, has_follow);
	if (after->coll != ROVE_COLL_CUSTOMER)
		return ROVE_OK;
	rc = rove_pstore_uniq_update(pc->ps, pc->txn, before, after);
	if (rc != ROVE_OK)
		return rc;
	if (op->kind == ROVE_OP_CLAIM && u->role == ROVE_ROLE_REP) {
		char key[ROVE_MAX_NAME + 48];
		uint64_t n;
		policy_claims_key(pc, key, sizeof(key), u->name);
		rc = rove_store_counter_get(pc->st, pc->txn, key, &n);
		if (rc == ROVE_OK)
			rc = rove_store_counter_put(pc->st, pc->txn, key, n + 1);
		if (rc != ROVE_OK)
			return rc;
	}
	was = before ? rove_fields_str(&before->fs, "owner") : NULL;
	now = rove_fields_str(&after->fs, "owner");
	if (before != NULL && ((was == NULL && now == NULL) || (was && now && strcmp(was, now) == 0)))
		return ROVE_OK;
	/* The owner changed: keep it in the customer's ownership history, who
	 * by, when (the server's time) and why. Its ids derive from the op's:
	 * a retry makes the same entry. */
	rove_uuid_derive(&hid, &op->op_id, "ownership");
	rove_uuid_derive(&fid, &op->op_id, "ownership-op");
	rove_op_init_id(follow, &fid, ROVE_OP_CREATE, ROVE_COLL_OWNERSHIP, &hid, op->st);
	rove_uuid_format(&after->id, ids);
	policy_iso_now(pc, when, false);
	why = op->kind == ROVE_OP_RELEASE ? rove_fields_str(&op->fs, "release_reason") : NULL;
	rc = rove_op_set(follow, "customer", rove_vcstr(ids));
	if (rc == ROVE_OK)
		rc = rove_op_set(follow, "event", rove_vcstr(owner_event(u, op, before)));
	if (rc == ROVE_OK && was != NULL)
		rc = rove_op_set(follow, "from", rove_vcstr(was));
	if (rc == ROVE_OK && now != NULL)
		rc = rove_op_set(follow, "to", rove_vcstr(now));
	if (rc == ROVE_OK)
		rc = rove_op_set(follow, "by", rove_vcstr(u->name));
	if (rc == ROVE_OK && why != NULL)
		rc = rove_op_set(follow, "reason", rove_vcstr(why));
	if (rc == ROVE_OK)
		rc = rove_op_set(follow, "at", rove_vcstr(when));
	if (rc == ROVE_OK)
		*has_follow = true;
	return rc;
}
