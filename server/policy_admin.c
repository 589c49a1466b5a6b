/*
 * policy_admin.c - the policy's answers to administration: who may do it
 * at all, who may reassign which customers to whom (rule 7), how a
 * territory's pool rules hang together, what a new territory changes,
 * who sees and who disables which users, and the server's own user.
 */
#include "policy_int.h"

#include "err.h"
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rove_policy_system_user(rove_user *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", ROVE_SYSTEM_USER);
	out->role = ROVE_ROLE_ADMIN;
}


/* ---- administration ---- */

int rove_policy_may(const rove_user *u, int act, rove_verdict *v)
{
	v->reason = rove_rules_may(u->role, act, v->detail, sizeof(v->detail));
	return ROVE_OK;
}

int rove_policy_reassign(const pctx *pc, const rove_user *u, const rove_record *c, const char *to, rove_verdict *v)
{
	const char *terr;
	bool in = true;
	int rc = rove_policy_may(u, ROVE_ACT_REASSIGN, v);

	if (rc != ROVE_OK || REFUSED(v))
		return rc;
	if (c == NULL || rove_record_deleted(c))
		return refuse(v, ROVE_R_INVALID, "no such customer%s",
			      u->role == ROVE_ROLE_ADMIN ? "" : " in your territories");
	terr = rove_fields_str(&c->fs, "territory");
	if (u->role == ROVE_ROLE_MANAGER) {
		in = false;
		if (terr != NULL && (rc = rove_policy_in_reach(pc, u, terr, &in)) != ROVE_OK)
			return rc;
	}
	if (!in) /* the same answer as for no customer at all */
		return refuse(v, ROVE_R_INVALID, "no such customer in your territories");
	return policy_check_owner(pc, u, to, terr, v);
}

/* A count the op sets, else the record's (0: not set). */
static int64_t after_int(const rove_op *op, const rove_record *cur, const char *field)
{
	int64_t n = 0;

	if (touches(op, field))
		rove_fields_int(&op->fs, field, &n);
	else if (cur != NULL)
		rove_fields_int(&cur->fs, field, &n);
	return n;
}

int rove_policy_territory_rules(const rove_record *cur, const rove_op *op, rove_verdict *v)
{
	int64_t recycle = after_int(op, cur, "recycle_days"), warn = after_int(op, cur, "warn_days");

	verdict_clear(v);
	if (recycle > 0 && warn > 0 && warn >= recycle)
		return refuse(
		    v, ROVE_R_INVALID,
		    "warn_days (%lld) must be less than recycle_days (%lld): the warning comes before the recycling",
		    (long long)warn, (long long)recycle);
	return ROVE_OK;
}

/* *out: whether one of t's territories lies in u's subtree. */
static int user_inside(const pctx *pc, const rove_user *u, const rove_user *t, bool *out)
{
	int rc = ROVE_OK;

	*out = false;
	for (uint32_t i = 0; rc == ROVE_OK && !*out && i < t->nterr; i++)
		rc = rove_policy_in_reach(pc, u, t->terr[i], out);
	return rc;
}

int rove_policy_reassign_territory(const pctx *pc, const rove_user *u, const char *code, const rove_user *from,
				   const char *to, rove_verdict *v)
{
	rove_user *t;
	bool ok;
	int rc = rove_policy_may(u, ROVE_ACT_REASSIGN, v);

	if (rc != ROVE_OK || REFUSED(v))
		return rc;
	rc = policy_check_territory(pc, code, v);
	if (rc != ROVE_OK || REFUSED(v))
		return rc;
	if (u->role == ROVE_ROLE_MANAGER) {
		rc = rove_policy_in_reach(pc, u, code, &ok);
		if (rc != ROVE_OK)
			return rc;
		if (!ok)
			return refuse(v, ROVE_R_NOT_IN_TERRITORY, "territory '%s' is outside your territories", code);
	}
	if (!policy_user_has_territory(from, code)) /* nothing to hand over: to must work there already */
		return policy_check_owner(pc, u, to, code, v);
	/* A manager hands over a rep's assignment (rule 7); his own, or
	 * another manager's, is the admin's to change: handing his own
	 * territory to a rep shut him out of it, undoable by an admin alone
	 * (attack sixty-eight). */
	if (u->role == ROVE_ROLE_MANAGER && strcmp(from->name, u->name) == 0)
		return refuse(v, ROVE_R_FORBIDDEN, "your own territories are an admin's to change");
	if (u->role == ROVE_ROLE_MANAGER && from->role != ROVE_ROLE_REP)
		return refuse(v, ROVE_R_FORBIDDEN, "a manager's territories are an admin's to change (%s is one)",
			      from->name);
	/* from's assignment moves to `to`, who will then hold code: enough for
	 * an admin; a manager hands it only to one of his people. */
	t = malloc(sizeof(*t));
	if (t == NULL)
		return ROVE_ENOMEM;
	rc = policy_owner_get(pc, to, t, v);
	if (rc == ROVE_OK && !REFUSED(v) && u->role == ROVE_ROLE_MANAGER) {
		rc = user_inside(pc, u, t, &ok);
		if (rc == ROVE_OK && !ok)
			rc = refuse(v, ROVE_R_NOT_IN_TERRITORY, "%s works outside your territories", to);
	}
	free(t);
	return rc;
}

/* ---- users ---- */

int rove_policy_user_view(const pctx *pc, const rove_user *u, const rove_user *t, bool *visible, rove_user *view)
{
	int rc = ROVE_OK;

	*visible = false;
	*view = *t;
	if (u->role == ROVE_ROLE_ADMIN) {
		*visible = true;
		return ROVE_OK;
	}
	if (u->role != ROVE_ROLE_MANAGER)
		return ROVE_OK;
	view->nterr = 0;
	for (uint32_t i = 0; rc == ROVE_OK && i < t->nterr; i++) {
		bool in = false;
		rc = rove_policy_in_reach(pc, u, t->terr[i], &in);
		if (rc == ROVE_OK && in)
			memcpy(view->terr[view->nterr++], t->terr[i], sizeof(view->terr[0]));
	}
	*visible = rc == ROVE_OK && (view->nterr > 0 || strcmp(t->name, u->name) == 0);
	return rc;
}

/* Counts the enabled admins other than one (the one to be disabled). */
typedef struct admins_ctx {
	const pctx *pc;
	const char *but;
	uint32_t n;
} admins_ctx;

static int count_admin(const char *login, int role, void *arg)
{
	admins_ctx *a = arg;
	rove_user t;
	int rc;

	if (role != ROVE_ROLE_ADMIN || strcmp(login, a->but) == 0)
		return ROVE_OK;
	rc = rove_store_user_get(a->pc->st, a->pc->txn, login, &t, NULL);
	if (rc == ROVE_OK && !t.disabled)
		a->n++;
	return rc == ROVE_OK && a->n > 0 ? ROVE_EEXIST : rc; /* one is enough: stop */
}

int rove_policy_user_disable(const pctx *pc, const rove_user *u, const rove_user *t, bool disable, rove_verdict *v)
{
	admins_ctx a = {pc, t->name, 0};
	int rc = rove_policy_may(u, ROVE_ACT_ADMINISTER, v);

	if (rc != ROVE_OK || REFUSED(v) || !disable)
		return rc;
	if (strcmp(u->name, t->name) == 0)
		return refuse(v, ROVE_R_FORBIDDEN, "you cannot disable yourself");
	if (t->role != ROVE_ROLE_ADMIN || t->disabled)
		return ROVE_OK;
	rc = rove_store_each_user(pc->st, pc->txn, count_admin, &a);
	if (rc == ROVE_EEXIST)
		rc = ROVE_OK;
	if (rc == ROVE_OK && a.n == 0)
		rc = refuse(v, ROVE_R_FORBIDDEN, "%s is the last enabled admin", t->name);
	return rc;
}
