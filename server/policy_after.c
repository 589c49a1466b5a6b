/*
 * policy_after.c - what follows an accepted op (rove_policy_after): the
 * policy's indexes (unique tax ids and phones, claims a day), the
 * ownership history of customers and deals, a customer's last activity,
 * the open deals that move with a reassigned customer (rule 14) and the
 * children deleted with their customer (rule 6), as follow-up ops the
 * engine applies as the server.
 */
#include "policy_int.h"

#include "array.h"
#include "err.h"
#include "log.h"
#include "rules.h"
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rove_policy_open(rove_pstore *ps, rove_store *st, MDB_txn *txn)
{
	unsigned rebuilt = 0;
	uint64_t head = 0;
	int rc = rove_pstore_open(ps, st, txn, &rebuilt);

	if (rc == ROVE_OK && rebuilt != 0)
		rc = rove_store_head(st, txn, &head);
	/* Said only where there was something to index: a new database's
	 * first start builds its empty indexes, which alarms nobody. */
	if (rc == ROVE_OK && head > 0 && (rebuilt & ROVE_PSTORE_UNIQ))
		rove_info("rebuilt the index of unique tax ids and phones");
	if (rc == ROVE_OK && head > 0 && (rebuilt & ROVE_PSTORE_BYDEALER))
		rove_info("made the index of customers by dealer");
	return rc;
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

/* The latest time of a customer's live activities but one (gone). */
typedef struct latest_ctx {
	const rove_uuid *gone;
	char at[ROVE_TIME_SIZE];
} latest_ctx;

static int latest_each(const rove_record *a, void *arg)
{
	latest_ctx *l = arg;
	const char *at = rove_fields_str(&a->fs, "at");

	if (rove_record_deleted(a) || memcmp(a->id.b, l->gone->b, sizeof(a->id.b)) == 0 || at == NULL ||
	    strlen(at) >= sizeof(l->at))
		return ROVE_OK;
	if (strcmp(at, l->at) > 0)
		snprintf(l->at, sizeof(l->at), "%s", at);
	return ROVE_OK;
}

/* An activity (fs: its fields) moves its customer's last_activity_at
 * forward; one deleted (gone: its id; by a manager or an admin, logged
 * by mistake or a visit never made) that set it takes it back to the
 * latest activity left, or to none: attack ninety-three found a deleted
 * visit still keeping its customer from the pool's recycling (rule 11).
 * A later time, or one the customer came with, stays. */
static int after_activity(const pctx *pc, const rove_op *op, const rove_fields *fs, const rove_uuid *gone,
			  rove_op *follow, rove_follow_fn apply, void *arg)
{
	const char *cid = rove_fields_str(fs, "customer");
	const char *at = rove_fields_str(fs, "at");
	const char *last, *now = NULL;
	latest_ctx l = {gone, ""};
	bool set = false;
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
	if (rc == ROVE_OK && gone == NULL) {
		now = at;
		set = last == NULL || strcmp(last, at) < 0;
	} else if (rc == ROVE_OK && !rove_record_deleted(c) && last != NULL && strcmp(last, at) == 0) {
		rc = policy_each_child(pc, &id, ROVE_COLL_ACTIVITY, latest_each, &l);
		now = l.at[0] != '\0' ? l.at : NULL;
		set = strcmp(l.at, last) != 0;
	}
	if (rc == ROVE_OK && set) {
		rove_uuid fid;
		rove_uuid_derive(&fid, &op->op_id, "last-activity-op");
		/* stamped by the engine with the server's clock */
		rove_op_init_id(follow, &fid, ROVE_OP_UPDATE, ROVE_COLL_CUSTOMER, &id, op->st);
		rc = rove_op_set(follow, "last_activity_at", now != NULL ? rove_vcstr(now) : rove_vnull());
		if (rc == ROVE_OK)
			rc = apply(arg, follow);
	} else if (rc == ROVE_ENOTFOUND) {
		rc = ROVE_OK;
	}
	free(c);
	return rc;
}

/* The owner of record (a customer, or a deal: opp names it) changed from
 * was to now by op: an entry of the customer's ownership history, who
 * by, when (the server's time) and why. Its ids derive from the op's: a
 * retry makes the same entry. */
static int owner_history(const pctx *pc, const rove_user *u, const rove_op *op, const char *event,
			 const char *customer, const char *opp, const char *was, const char *now, rove_op *follow,
			 rove_follow_fn apply, void *arg)
{
	const char *why = op->kind == ROVE_OP_RELEASE ? rove_fields_str(&op->fs, "release_reason") : NULL;
	char when[ROVE_TIME_SIZE];
	rove_uuid hid, fid;
	int rc;

	/* One hash for both (servers before 2026-12 derived fid on its own,
	 * from "ownership-op": a retry of an op they applied is answered
	 * from opids, and makes no follow-up again). Both take the server's
	 * time as their prefix, not the op's: the reps' ids interleave (each
	 * laptop makes its own over the same days), so entries keyed by the
	 * op's time land all over the ownership entries and each dirties a
	 * page of its own, where ids in the order they are made fill the last
	 * pages (20 % fewer pages of records written by a 50-rep push:
	 * docs/PERFORMANCE.md, "Tenth round"). Nothing derives them again: a
	 * retry is answered from opids, and a replica of a restored server
	 * takes a fresh snapshot. */
	rove_uuid_derive_pair(&hid, &fid, &op->op_id, "ownership");
	rove_uuid_set_ms(&hid, pc->now_ms);
	rove_uuid_set_ms(&fid, pc->now_ms);
	rove_op_init_id(follow, &fid, ROVE_OP_CREATE, ROVE_COLL_OWNERSHIP, &hid, op->st);
	policy_iso_now(pc, when, false);
	rc = rove_op_set(follow, "customer", rove_vcstr(customer));
	if (rc == ROVE_OK && opp != NULL)
		rc = rove_op_set(follow, "opportunity", rove_vcstr(opp));
	if (rc == ROVE_OK)
		rc = rove_op_set(follow, "event", rove_vcstr(event));
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
		rc = apply(arg, follow);
	return rc;
}

static bool same_login(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Record keys a walk collected (a customer's children, deleted
 * customers): listed first, since what is done with them writes to the
 * index walked. */
typedef struct record_keys {
	uint8_t (*keys)[ROVE_RECORD_KEY];
	size_t n, cap;
} record_keys;

static int keys_push(record_keys *c, const uint8_t key[ROVE_RECORD_KEY])
{
	uint8_t (*p)[ROVE_RECORD_KEY] = rove_array_grow(c->keys, &c->cap, c->n, 1, sizeof(*p), 16);

	if (p == NULL)
		return ROVE_ENOMEM;
	c->keys = p;
	memcpy(c->keys[c->n++], key, ROVE_RECORD_KEY);
	return ROVE_OK;
}

static int collect_child(const uint8_t key[ROVE_RECORD_KEY], void *arg)
{
	return keys_push(arg, key);
}

/* A customer reassigned to (or claimed by) `to` takes its open deals with
 * it (rule 14);
 * won and lost ones keep their owner, the credit of whoever closed them.
 * With moved_to (a customer moved to that territory), only the open deals
 * whose owners cannot work them there go, to `to` (NULL: to nobody, a
 * pool customer's). The deals are listed first: moving them writes to
 * the index walked. */
static int move_open_deals(const pctx *pc, const rove_op *op, const rove_record *customer, const char *to,
			   const char *moved_to, rove_op *follow, rove_follow_fn apply, void *arg)
{
	uint8_t key[ROVE_RECORD_KEY];
	record_keys d = {NULL, 0, 0};
	rove_record *deal = malloc(sizeof(*deal));
	int rc = deal == NULL ? ROVE_ENOMEM : ROVE_OK;

	rove_record_key(key, ROVE_COLL_CUSTOMER, &customer->id);
	if (rc == ROVE_OK)
		rc = rove_store_each_child(pc->st, pc->txn, key, ROVE_COLL_OPPORTUNITY, collect_child, &d);
	for (size_t i = 0; rc == ROVE_OK && i < d.n; i++) {
		const char *stage, *owner;
		char what[ROVE_UUID_STRLEN + 8];
		rove_uuid id, fid;
		memcpy(id.b, d.keys[i] + 1, 16);
		rc = rove_store_record_get(pc->st, pc->txn, ROVE_COLL_OPPORTUNITY, &id, deal);
		if (rc == ROVE_ENOTFOUND) {
			rc = ROVE_OK;
			continue;
		}
		stage = rove_fields_str(&deal->fs, "stage");
		owner = rove_fields_str(&deal->fs, "owner");
		if (rc != ROVE_OK || rove_record_deleted(deal) || same_login(owner, to) ||
		    rove_rules_deal_closed(stage))
			continue;
		if (moved_to != NULL && owner != NULL) {
			bool able = false;
			rc = policy_deal_owner_able(pc, owner, moved_to, &able);
			if (rc != ROVE_OK || able)
				continue;
		}
		/* one id per deal and reassignment: a retry makes the same */
		rove_uuid_format(&id, what + 5);
		memcpy(what, "deal:", 5);
		rove_uuid_derive(&fid, &op->op_id, what);
		rove_op_init_id(follow, &fid, ROVE_OP_UPDATE, ROVE_COLL_OPPORTUNITY, &id, op->st);
		rc = rove_op_set(follow, "owner", to != NULL ? rove_vcstr(to) : rove_vnull());
		if (rc == ROVE_OK)
			rc = apply(arg, follow);
	}
	free(d.keys);
	free(deal);
	return rc;
}

/* A deleted customer's contacts, contracts, deals and activities are
 * deleted with it (rule 6: a tombstone each, by whoever deleted the
 * customer), so that every replica, an HQ one holding every record too,
 * and the feed see them go. Its ownership history stays: it says who
 * held the customer, and the server's own records are not deleted. The
 * children are listed first: deleting them writes to the index walked. */
static int delete_children(const pctx *pc, const rove_uuid *base, const rove_uuid *customer, rove_stamp st,
			   rove_op *follow, rove_follow_fn apply, void *arg, size_t *n)
{
	uint8_t key[ROVE_RECORD_KEY];
	record_keys c = {NULL, 0, 0};
	rove_record *child = malloc(sizeof(*child));
	int rc = child == NULL ? ROVE_ENOMEM : ROVE_OK;

	rove_record_key(key, ROVE_COLL_CUSTOMER, customer);
	if (rc == ROVE_OK)
		rc = rove_store_each_child(pc->st, pc->txn, key, 0, collect_child, &c);
	for (size_t i = 0; rc == ROVE_OK && i < c.n; i++) {
		uint8_t coll = c.keys[i][0];
		char what[ROVE_UUID_STRLEN + 8];
		rove_uuid id, fid;
		if (coll == ROVE_COLL_OWNERSHIP)
			continue;
		memcpy(id.b, c.keys[i] + 1, 16);
		rc = rove_store_record_get(pc->st, pc->txn, coll, &id, child);
		if (rc == ROVE_ENOTFOUND) {
			rc = ROVE_OK;
			continue;
		}
		if (rc != ROVE_OK || rove_record_deleted(child))
			continue;
		/* one id per child and deletion: a retry makes the same */
		memcpy(what, "del:", 4);
		rove_uuid_format(&id, what + 4);
		rove_uuid_derive(&fid, base, what);
		rove_op_init_id(follow, &fid, ROVE_OP_DELETE, coll, &id, st);
		rc = rove_op_set(follow, ROVE_FIELD_DELETED, rove_vint(1));
		if (rc == ROVE_OK)
			rc = apply(arg, follow);
		if (rc == ROVE_OK)
			(*n)++;
	}
	free(c.keys);
	free(child);
	return rc;
}

/* A deal's owner changed (or it was made): its customer's history says. */
static int after_deal(const pctx *pc, const rove_user *u, const rove_op *op, const rove_record *before,
		      const rove_record *after, rove_op *follow, rove_follow_fn apply, void *arg)
{
	const char *was = before != NULL ? rove_fields_str(&before->fs, "owner") : NULL;
	const char *now = rove_fields_str(&after->fs, "owner");
	const char *customer = rove_fields_str(&after->fs, "customer");
	char ids[ROVE_UUID_STRLEN + 1];

	/* A change to nobody (a pool customer moved away: its deals go to
	 * nobody) is one too; a deal made without an owner is not. */
	if ((before != NULL && same_login(was, now)) || (before == NULL && now == NULL) || customer == NULL)
		return ROVE_OK;
	rove_uuid_format(&after->id, ids);
	return owner_history(pc, u, op, before == NULL ? "create" : "reassign", customer, ids, was, now, follow,
			     apply, arg);
}

static int after_customer(const pctx *pc, const rove_user *u, const rove_op *op, const rove_record *before,
			  const rove_record *after, rove_op *follow, rove_follow_fn apply, void *arg)
{
	const char *was, *now;
	char ids[ROVE_UUID_STRLEN + 1];
	int rc = rove_pstore_uniq_update(pc->ps, pc->txn, before, after, pc->memo != NULL ? &pc->memo->uniq : NULL);

	if (rc == ROVE_OK)
		rc = rove_pstore_dealer_update(pc->ps, pc->txn, before, after);
	if (rc != ROVE_OK)
		return rc;
	if (before != NULL && !rove_record_deleted(before) && rove_record_deleted(after)) {
		size_t n = 0;
		return delete_children(pc, &op->op_id, &after->id, op->st, follow, apply, arg, &n);
	}
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
	if (before != NULL && !rove_record_deleted(before)) {
		/* Moved to another territory: its open deals whose owners
		 * cannot work them there go to its owner (rule 14: an open
		 * deal's owner is one who can work it), a pool customer's (or
		 * one whose owner cannot work them either) to nobody. */
		const char *tb = rove_fields_str(&before->fs, "territory");
		const char *ta = rove_fields_str(&after->fs, "territory");
		if (ta != NULL && (tb == NULL || strcmp(ta, tb) != 0)) {
			/* Its owner, if he can work them there (not one
			 * disabled, his customers not yet reassigned). */
			bool able = false;
			if (now != NULL)
				rc = policy_deal_owner_able(pc, now, ta, &able);
			if (rc == ROVE_OK)
				rc = move_open_deals(pc, op, after, able ? now : NULL, ta, follow, apply, arg);
		}
		if (rc != ROVE_OK)
			return rc;
	}
	if (before != NULL && same_login(was, now))
		return ROVE_OK;
	rove_uuid_format(&after->id, ids);
	rc = owner_history(pc, u, op, owner_event(u, op, before), ids, NULL, was, now, follow, apply, arg);
	if (rc == ROVE_OK && before != NULL && (op->kind == ROVE_OP_REASSIGN || op->kind == ROVE_OP_CLAIM) &&
	    now != NULL)
		rc = move_open_deals(pc, op, after, now, NULL, follow, apply, arg);
	return rc;
}

int rove_policy_after(const pctx *pc, const rove_user *u, const rove_op *op, const rove_record *before,
		      const rove_record *after, rove_follow_fn apply, void *arg)
{
	rove_op *follow;
	int rc = ROVE_OK;

	/* What the memo says of territories may have changed. */
	if (after->coll == ROVE_COLL_TERRITORY && pc->memo != NULL)
		rove_policy_memo_reset(pc->memo);
	if (after->coll != ROVE_COLL_ACTIVITY && after->coll != ROVE_COLL_CUSTOMER &&
	    after->coll != ROVE_COLL_OPPORTUNITY)
		return ROVE_OK;
	if (after->coll == ROVE_COLL_ACTIVITY && before != NULL &&
	    (rove_record_deleted(before) || !rove_record_deleted(after)))
		return ROVE_OK;
	follow = malloc(sizeof(*follow)); /* large: one for every follow-up */
	if (follow == NULL)
		return ROVE_ENOMEM;
	if (after->coll == ROVE_COLL_ACTIVITY)
		rc = before != NULL ? after_activity(pc, op, &before->fs, &before->id, follow, apply, arg)
				    : after_activity(pc, op, &op->fs, NULL, follow, apply, arg);
	else if (after->coll == ROVE_COLL_OPPORTUNITY)
		rc = after_deal(pc, u, op, before, after, follow, apply, arg);
	else
		rc = after_customer(pc, u, op, before, after, follow, apply, arg);
	free(follow);
	return rc;
}

/* ---- once, for a database from before a rule ---- */

/* The meta key saying the repairs below were made. */
#define REPAIRED_KEY "policy:repaired"
#define REPAIRED_FORM 1

static int collect_dead(const uint8_t key[ROVE_RECORD_KEY], const MDB_val *raw, void *arg)
{
	bool deleted = false;

	if (key[0] != ROVE_COLL_CUSTOMER)
		return ROVE_EEXIST; /* past the customers */
	if (rove_record_raw_deleted(raw->mv_data, raw->mv_size, &deleted) != ROVE_OK) {
		rove_error("stored record is corrupt: its children are left as they are");
		return ROVE_OK; /* one bad record must not keep the server from starting */
	}
	return deleted ? keys_push(arg, key) : ROVE_OK;
}

int rove_policy_repairs(const pctx *pc, rove_follow_fn apply, void *arg, bool *changed, size_t *n)
{
	const rove_stamp unstamped = {{0}, 0}; /* stamped by the engine */
	const uint8_t customers[1] = {ROVE_COLL_CUSTOMER};
	uint64_t form = 0;
	record_keys d = {NULL, 0, 0};
	rove_op *op;
	int rc = rove_store_meta_get(pc->st, pc->txn, REPAIRED_KEY, &form);

	*changed = false;
	*n = 0;
	if (rc == ROVE_OK && form >= REPAIRED_FORM)
		return ROVE_OK;
	if (rc != ROVE_OK && rc != ROVE_ENOTFOUND)
		return rc;
	/* Customers deleted before their children went with them (rule 6,
	 * after_customer): the children are deleted now, by the server. */
	op = malloc(sizeof(*op));
	rc = op == NULL ? ROVE_ENOMEM : rove_store_each_record(pc->st, pc->txn, customers, 1, collect_dead, &d);
	if (rc == ROVE_EEXIST)
		rc = ROVE_OK;
	for (size_t i = 0; rc == ROVE_OK && i < d.n; i++) {
		rove_uuid id, base;
		memcpy(id.b, d.keys[i] + 1, 16);
		rove_uuid_derive(&base, &id, "repair:deleted-customer");
		rc = delete_children(pc, &base, &id, unstamped, op, apply, arg, n);
	}
	if (rc == ROVE_OK)
		rc = rove_store_meta_put(pc->st, pc->txn, REPAIRED_KEY, REPAIRED_FORM);
	*changed = rc == ROVE_OK;
	free(d.keys);
	free(op);
	return rc;
}
