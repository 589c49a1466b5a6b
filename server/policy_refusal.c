/*
 * policy_refusal.c - refusals and who sees them (rule 9): what a refusal
 * may say to its author, and the scopes a refused op is listed under for
 * the managers who may list it (rove conflicts).
 */
#include "policy_int.h"

#include "err.h"
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- what a refusal says ---- */

/* What u may know of the record a refusal is about (rule 9). */
enum known {
	KNOWN_SCOPE, /* u's replica holds it, or did until it was deleted: the reason and its detail */
	KNOWN_PAST,  /* u owned it once, or it was in the public pool of u's territory: the reason alone */
	KNOWN_NOT,   /* anything else, and what does not exist: not_owner alone */
};

typedef struct known_ctx {
	const rove_user *u;
	bool pool_is_theirs; /* the customer's territory is one of u's (a rep's) */
} known_ctx;

static int history_knows(const rove_record *h, void *arg)
{
	const known_ctx *k = arg;
	const char *from = rove_fields_str(&h->fs, "from"), *to = rove_fields_str(&h->fs, "to");

	if ((from != NULL && strcmp(from, k->u->name) == 0) || (to != NULL && strcmp(to, k->u->name) == 0))
		return ROVE_EEXIST; /* u owned it */
	if (to == NULL && k->pool_is_theirs)
		return ROVE_EEXIST; /* released, recycled or created into u's pool: u's replica held it */
	return ROVE_OK;
}

/* *known: what u may know of the record a refusal of op is about: a
 * child record's customer, else the record itself; a create of a
 * top-level record that does not exist is about nothing but what its op
 * says, which u wrote. */
static int what_u_knows(const pctx *pc, const rove_user *u, const rove_op *op, const rove_record *cur,
			enum known *known)
{
	const rove_coll_def *c = rove_schema_coll(op->coll);
	const rove_field_def *pf = c != NULL ? rove_schema_parent_field(c) : NULL;
	const rove_record *about = cur;
	rove_record *parent = NULL;
	const char *pid, *terr;
	rove_scopes rs;
	rove_uuid id;
	known_ctx kc = {u, false};
	bool sees = false;
	int rc = ROVE_OK;

	*known = KNOWN_NOT;
	if (pf == NULL && cur == NULL) {
		if (op->kind == ROVE_OP_CREATE)
			*known = KNOWN_SCOPE;
		return ROVE_OK;
	}
	if (pf != NULL) {
		pid = rove_fields_str(cur != NULL ? &cur->fs : &op->fs, pf->name);
		if (pid == NULL || rove_uuid_parse(pid, &id) != ROVE_OK)
			return ROVE_OK;
		parent = malloc(sizeof(*parent));
		if (parent == NULL)
			return ROVE_ENOMEM;
		rc = rove_store_record_get(pc->st, pc->txn, ROVE_COLL_CUSTOMER, &id, parent);
		if (rc == ROVE_ENOTFOUND) {
			free(parent);
			return ROVE_OK;
		}
		about = parent;
	}
	if (rc == ROVE_OK)
		rc = policy_record_scopes(pc, about, NULL, true, &rs);
	if (rc == ROVE_OK)
		rc = rove_policy_reads(pc, u, &rs, &sees);
	if (rc == ROVE_OK && sees) {
		*known = KNOWN_SCOPE;
	} else if (rc == ROVE_OK && about->coll == ROVE_COLL_CUSTOMER) {
		terr = rove_fields_str(&about->fs, "territory");
		kc.pool_is_theirs = u->role == ROVE_ROLE_REP && terr != NULL && policy_user_has_territory(u, terr);
		rc = policy_each_child(pc, &about->id, ROVE_COLL_OWNERSHIP, history_knows, &kc);
		if (rc == ROVE_EEXIST) {
			*known = KNOWN_PAST;
			rc = ROVE_OK;
		}
	}
	free(parent);
	return rc;
}

/* A refusal says no more than u may know (rule 9): about a record u's
 * replica holds (or held until it was deleted), its reason and detail;
 * about one u owned once, or saw in the pool of their territory, its
 * reason alone; about any other record - another rep's, another
 * region's, a deleted one u never held, one that does not exist - the
 * one answer not_owner, with nothing else, so that no reason tells
 * whether an id exists, who holds it or what became of it. A duplicate
 * names the existing customer whoever asks (rule 3); a refusal by the
 * rules of the role and the op alone (rules.c) is the same for every
 * record and keeps its reason and detail. */
int policy_say_only_what_u_knows(const pctx *pc, const rove_user *u, const rove_op *op, const rove_record *cur,
				 bool by_role, rove_verdict *v)
{
	enum known known;
	int rc;

	if (!REFUSED(v) || v->reason == ROVE_R_DUPLICATE)
		return ROVE_OK;
	rc = what_u_knows(pc, u, op, cur, &known);
	if (rc != ROVE_OK)
		return rc;
	if (known == KNOWN_NOT && !by_role)
		v->reason = ROVE_R_NOT_OWNER;
	/* A refusal by the rules of the role and the op alone says what is
	 * wrong with the op, which u wrote ("a delete carries the deletion
	 * marker and nothing else"): nothing of the record. */
	if (known != KNOWN_SCOPE && !by_role)
		v->detail[0] = '\0';
	return ROVE_OK;
}

/* ---- refused changes ---- */

static void reject_scope_add(rove_reject_scopes *out, const char *code)
{
	char s[ROVE_MAX_SCOPE_LEN + 1];

	if (code == NULL || code[0] == '\0' || strlen(code) > ROVE_MAX_NAME)
		return;
	snprintf(s, sizeof(s), "t:%s", code);
	for (uint32_t i = 0; i < out->n; i++)
		if (strcmp(out->s[i], s) == 0)
			return;
	if (out->n < ROVE_MAX_REJECT_SCOPES)
		memcpy(out->s[out->n++], s, sizeof(s));
}

bool rove_policy_refusal_apart(int reason)
{
	return reason == ROVE_R_FORBIDDEN || reason == ROVE_R_NOT_OWNER || reason == ROVE_R_NOT_IN_TERRITORY ||
	       reason == ROVE_R_REASSIGNED;
}

int rove_policy_refusal_scopes(const pctx *pc, const rove_user *u, const rove_op *op, const rove_record *cur,
			       rove_reject_scopes *out)
{
	const rove_coll_def *c = rove_schema_coll(op->coll);
	const rove_field_def *pf = c != NULL ? rove_schema_parent_field(c) : NULL;
	int rc = ROVE_OK;

	out->n = 0;
	out->apart = false;
	/* The territory the op names, and the record's now. */
	reject_scope_add(out, rove_fields_str(&op->fs, op->coll == ROVE_COLL_TERRITORY ? "code" : "territory"));
	if (cur != NULL)
		reject_scope_add(out,
				 rove_fields_str(&cur->fs, cur->coll == ROVE_COLL_TERRITORY ? "code" : "territory"));
	/* A child record's: its customer's. */
	if (pf != NULL) {
		const char *pid = rove_fields_str(cur != NULL ? &cur->fs : &op->fs, pf->name);
		rove_uuid id;
		if (pid != NULL && rove_uuid_parse(pid, &id) == ROVE_OK) {
			rove_record *parent = malloc(sizeof(*parent));
			if (parent == NULL)
				return ROVE_ENOMEM;
			rc = rove_store_record_get(pc->st, pc->txn, ROVE_COLL_CUSTOMER, &id, parent);
			if (rc == ROVE_OK)
				reject_scope_add(out, rove_fields_str(&parent->fs, "territory"));
			else if (rc == ROVE_ENOTFOUND)
				rc = ROVE_OK;
			free(parent);
		}
	}
	/* The author's: their managers see it wherever they tried to write. */
	for (uint32_t i = 0; i < u->nterr; i++)
		reject_scope_add(out, u->terr[i]);
	return rc;
}

int rove_policy_conflict_scopes(const pctx *pc, const rove_user *u, rove_user_scopes *out)
{
	uint32_t k = 0;
	int rc;

	out->all = u->role == ROVE_ROLE_ADMIN;
	out->n = 0;
	if (out->all || u->role != ROVE_ROLE_MANAGER)
		return ROVE_OK;
	/* A manager's: the territories of his subtree, as he reads them. */
	rc = rove_policy_user_scopes(pc, u, out);
	if (rc != ROVE_OK)
		return rc;
	for (uint32_t i = 0; i < out->n; i++)
		if (out->s[i][0] == 't')
			memmove(out->s[k++], out->s[i], sizeof(out->s[0]));
	out->n = k;
	return ROVE_OK;
}
