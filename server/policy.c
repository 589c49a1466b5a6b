/*
 * policy.c - the decision on an op (rove_policy_check): the rules of the
 * role and the op (common/rules.c) first, then those of the data - who
 * may write a customer and its records (rule 4), who may own one (rule
 * 7), creates, claims and releases, valid references - and the server's
 * adjustments (a new customer's owner, an activity's time and author, a
 * deal's closed_on). See policy.h; policy_int.h lists the other parts.
 */
#include "policy_int.h"

#include "err.h"
#include "rove_assert.h"
#include "log.h"
#include "rules.h"
#include "ident.h"
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sets a field of an op the policy adjusts: an op that cannot take one
 * more field is refused, not an error. */
static int op_put(rove_op *op, const char *name, rove_value val, rove_verdict *v)
{
	int rc = rove_op_set(op, name, val);

	if (rc == ROVE_ETOOBIG)
		return refuse(v, ROVE_R_INVALID, "the change is too large to take %s", name);
	return rc;
}

/* ---- unique tax ids and phones among live customers ---- */

/* Another live customer holding the op's tax id or phone, if any: refused
 * as a duplicate naming that customer's id, and nothing else about it. */
static int find_duplicate(const pctx *pc, const rove_op *op, rove_verdict *v)
{
	rove_uniq_key keys[ROVE_UNIQ_KEYS];
	int n = rove_uniq_keys_memo(&op->fs, keys, pc->memo != NULL ? &pc->memo->uniq : NULL);

	for (int i = 0; i < n; i++) {
		rove_uuid other;
		char ids[ROVE_UUID_STRLEN + 1];
		int rc = rove_pstore_uniq_get(pc->ps, pc->txn, &keys[i], &other);

		if (rc == ROVE_ENOTFOUND)
			continue;
		if (rc != ROVE_OK)
			return rc;
		if (rove_uuid_cmp(&other, &op->rid) != 0) {
			rove_uuid_format(&other, ids);
			return refuse(v, ROVE_R_DUPLICATE, "%s", ids);
		}
	}
	return ROVE_OK;
}

/* ---- a customer's ownership history ---- */

static int history_from_user(const rove_record *h, void *arg)
{
	const rove_user *u = arg;
	const char *from = rove_fields_str(&h->fs, "from");

	return from != NULL && strcmp(from, u->name) == 0 ? ROVE_EEXIST : ROVE_OK;
}

/* *out: whether u owned customer id before (its history says so). */
static int owned_before(const pctx *pc, const rove_user *u, const rove_uuid *id, bool *out)
{
	int rc = policy_each_child(pc, id, ROVE_COLL_OWNERSHIP, history_from_user, (void *)u);

	*out = rc == ROVE_EEXIST;
	return rc == ROVE_EEXIST ? ROVE_OK : rc;
}

/* A customer's owner as a replica knew it: the owner its history's
 * entries up to the replica's seen stamp made, then its user's own
 * changes since (a deal's entries aside). */
typedef struct seen_ctx {
	rove_hlc seen, at, mine;
	const char *me;
	char owner[ROVE_MAX_NAME + 1], own[ROVE_MAX_NAME + 1]; /* "": none */
	bool had;
} seen_ctx;

static int history_seen(const rove_record *h, void *arg)
{
	seen_ctx *k = arg;
	const rove_field *by = rove_fields_get(&h->fs, "by");
	const char *name = rove_fields_str(&h->fs, "by"), *to = rove_fields_str(&h->fs, "to");
	rove_hlc st;

	if (by == NULL || name == NULL || rove_fields_get(&h->fs, "opportunity") != NULL)
		return ROVE_OK;
	st = by->st.hlc;
	if (st.v <= k->seen.v && st.v >= k->at.v) {
		k->at = st;
		k->had = true;
		snprintf(k->owner, sizeof(k->owner), "%s", to != NULL ? to : "");
	} else if (st.v > k->seen.v && st.v > k->mine.v && strcmp(name, k->me) == 0) {
		k->mine = st;
		snprintf(k->own, sizeof(k->own), "%s", to != NULL ? to : "");
	}
	return ROVE_OK;
}

/* *stale: whether a release by u of customer c (its replica's seen stamp
 * in pc) was made for another owner than the one c has now: the owner
 * u's replica knew when it made it (its history up to the seen stamp,
 * then u's own changes since) is not c's owner now (attack ninety-seven:
 * a manager's offline release gave away the customer a rep had claimed
 * since). Not a stale release whose owner came back meanwhile: an
 * owner's release is decided as it arrives (t_skew). Unknown seen, or no
 * change of owner since: not stale. */
static int released_unseen(const pctx *pc, const rove_user *u, const rove_record *c, bool *stale)
{
	const rove_field *owner = rove_fields_get(&c->fs, "owner");
	const char *now = rove_fields_str(&c->fs, "owner");
	seen_ctx k = {pc->seen, {0}, {0}, u->name, "", "", false};
	int rc;

	*stale = false;
	if (pc->seen.v == 0 || owner == NULL || owner->st.hlc.v <= pc->seen.v)
		return ROVE_OK;
	rc = policy_each_child(pc, &c->id, ROVE_COLL_OWNERSHIP, history_seen, &k);
	if (rc == ROVE_OK && k.had)
		*stale = strcmp(k.mine.v > k.at.v ? k.own : k.owner, now != NULL ? now : "") != 0;
	return rc;
}

/* ---- who writes a customer ---- */

/* *out: whether u may write customer c: its owner, a manager above its
 * territory, an admin. */
static int may_write(const pctx *pc, const rove_user *u, const rove_record *c, bool *out)
{
	const char *owner = rove_fields_str(&c->fs, "owner");
	const char *terr = rove_fields_str(&c->fs, "territory");

	*out = u->role == ROVE_ROLE_ADMIN || (owner != NULL && strcmp(owner, u->name) == 0);
	if (*out || u->role != ROVE_ROLE_MANAGER || terr == NULL)
		return ROVE_OK;
	return rove_policy_in_reach(pc, u, terr, out);
}

static int refuse_write(const pctx *pc, const rove_user *u, const rove_record *c, rove_verdict *v)
{
	const char *owner = rove_fields_str(&c->fs, "owner");
	bool before;
	int rc = owned_before(pc, u, &c->id, &before);

	if (rc != ROVE_OK)
		return rc;
	/* A pool customer is written by managers and admins (rule 4); its
	 * reps may claim it. */
	if (before && owner == NULL)
		return refuse(v, ROVE_R_REASSIGNED, "the customer went back to the public pool: claim it first");
	if (before)
		return refuse(v, ROVE_R_REASSIGNED, "the customer was reassigned to %s", owner);
	if (owner == NULL)
		return refuse(v, ROVE_R_NOT_OWNER, "the customer is in the public pool: claim it first");
	return refuse(v, ROVE_R_NOT_OWNER, "the customer belongs to someone else");
}

/* Refuses unless u may write customer c. */
static int check_writer(const pctx *pc, const rove_user *u, const rove_record *c, rove_verdict *v)
{
	bool ok;
	int rc = may_write(pc, u, c, &ok);

	if (rc != ROVE_OK || ok)
		return rc;
	return refuse_write(pc, u, c, v);
}

/* ---- who owns a customer (rule 7) ---- */

/* Whether the user t holds territory terr: a rep as one of theirs, a
 * manager in their subtree; and, when author is a manager, through a
 * territory inside the author's subtree (so a manager hands customers
 * only to his people, never to a manager above him). */
typedef struct hold_ctx {
	const pctx *pc;
	const rove_user *t, *author;
	bool holds, inside;
} hold_ctx;

static int at_held(const char *code, void *arg, bool *stop)
{
	hold_ctx *h = arg;
	bool in = true;
	int rc = ROVE_OK;

	if (!policy_user_has_territory(h->t, code))
		return ROVE_OK;
	h->holds = true;
	if (h->author->role == ROVE_ROLE_MANAGER)
		rc = rove_policy_in_reach(h->pc, h->author, code, &in);
	h->inside = h->inside || in;
	*stop = h->inside || h->t->role == ROVE_ROLE_REP; /* a rep holds terr itself or not at all */
	return rc;
}

int policy_user_get(const pctx *pc, const char *login, rove_user *t, rove_verdict *v)
{
	int rc = rove_store_user_get(pc->st, pc->txn, login, t, NULL);

	return rc == ROVE_ENOTFOUND ? refuse(v, ROVE_R_INVALID, "no user '%s'", login) : rc;
}

/* The user named login, as author may name them: to a manager, a user
 * outside his reach reads as no user at all (RULES.md, "People"), in
 * the words his reassignments use, so that a refusal does not tell him
 * who exists elsewhere, or their role (attack nineteen). */
static int named_user_get(const pctx *pc, const rove_user *author, const char *login, rove_user *t,
			  rove_verdict *v)
{
	rove_user *view;
	bool visible = false;
	int rc;

	if (author->role != ROVE_ROLE_MANAGER) {
		char like[ROVE_MAX_NAME + 1];
		rc = policy_user_get(pc, login, t, v);
		/* to an admin, who sees every user: the login it differs
		 * from only in case, as the admin requests say it */
		if (rc == ROVE_OK && v->reason == ROVE_R_INVALID && author->role == ROVE_ROLE_ADMIN &&
		    rove_store_user_like(pc->st, pc->txn, login, like) == ROVE_OK && like[0] != '\0')
			rc = refuse(v, ROVE_R_INVALID, "no user '%s' (logins are exact: '%s')", login, like);
		return rc;
	}
	rc = rove_store_user_get(pc->st, pc->txn, login, t, NULL);
	if (rc == ROVE_ENOTFOUND)
		return refuse(v, ROVE_R_INVALID, "no user '%s' in your territories", login);
	if (rc != ROVE_OK)
		return rc;
	view = malloc(sizeof(*view));
	if (view == NULL)
		return ROVE_ENOMEM;
	rc = rove_policy_user_view(pc, author, t, &visible, view);
	free(view);
	if (rc == ROVE_OK && !visible)
		rc = refuse(v, ROVE_R_INVALID, "no user '%s' in your territories", login);
	return rc;
}

int policy_owner_get(const pctx *pc, const char *login, rove_user *t, rove_verdict *v)
{
	int rc = policy_user_get(pc, login, t, v);

	if (rc == ROVE_OK && !REFUSED(v) && !rove_rules_role_may_own(t->role))
		rc = refuse(v, ROVE_R_INVALID, "'%s' is %s; customers go to reps and managers", login,
			    rove_role_with_article(t->role));
	else if (rc == ROVE_OK && !REFUSED(v) && t->disabled) /* rule 7: an enabled rep or manager */
		rc = refuse(v, ROVE_R_INVALID, "%s is disabled; enable them first, or choose another user", login);
	return rc;
}

/* Whether the user named login may own a customer of territory terr when
 * author gives it to them (rule 7): an existing rep or manager holding
 * terr, inside the author's subtree if the author is a manager, and
 * enabled (policy_owner_get). */
/* policy_check_owner's rule; a disabled user passes with may_be_disabled
 * (the credit of a closed deal, which may go to one who left). */
static int check_owner_at(const pctx *pc, const rove_user *author, const char *login, const char *terr,
			  bool may_be_disabled, rove_verdict *v)
{
	rove_user *t;
	hold_ctx h;
	int rc;

	if (terr == NULL)
		return refuse(v, ROVE_R_INVALID, "a customer without a territory has no owner");
	t = malloc(sizeof(*t));
	if (t == NULL)
		return ROVE_ENOMEM;
	rc = named_user_get(pc, author, login, t, v);
	if (rc == ROVE_OK && !REFUSED(v) && !rove_rules_role_may_own(t->role))
		rc = refuse(v, ROVE_R_INVALID, "'%s' is %s; customers go to reps and managers", login,
			    rove_role_with_article(t->role));
	else if (rc == ROVE_OK && !REFUSED(v) && t->disabled && !may_be_disabled) /* rule 7: enabled */
		rc = refuse(v, ROVE_R_INVALID, "%s is disabled; enable them first, or choose another user", login);
	if (rc == ROVE_OK && !REFUSED(v)) {
		h = (hold_ctx){pc, t, author, false, false};
		if (t->role == ROVE_ROLE_REP)
			rc = at_held(terr, &h, &(bool){false});
		else
			rc = policy_walk_up(pc, terr, at_held, &h);
		if (rc == ROVE_OK && !h.holds)
			rc = refuse(v, ROVE_R_NOT_IN_TERRITORY, "%s does not work in %s", login, terr);
		else if (rc == ROVE_OK && !h.inside)
			rc = refuse(v, ROVE_R_NOT_IN_TERRITORY, "%s works outside your territories", login);
	}
	free(t);
	return rc;
}

int policy_check_owner(const pctx *pc, const rove_user *author, const char *login, const char *terr, rove_verdict *v)
{
	return check_owner_at(pc, author, login, terr, false, v);
}

/* *out: whether the user named login may own customers of territory
 * terr as things stand: a rep holding it, a manager whose subtree holds
 * it (no such user: no); with enabled, one not disabled only. */
static int user_works_in(const pctx *pc, const char *login, const char *terr, bool enabled, bool *out)
{
	rove_user *t = malloc(sizeof(*t));
	int rc;

	*out = false;
	if (t == NULL)
		return ROVE_ENOMEM;
	rc = rove_store_user_get(pc->st, pc->txn, login, t, NULL);
	if (rc == ROVE_ENOTFOUND || (rc == ROVE_OK && enabled && t->disabled))
		rc = ROVE_OK;
	else if (rc == ROVE_OK && t->role == ROVE_ROLE_REP)
		*out = terr != NULL && policy_user_has_territory(t, terr);
	else if (rc == ROVE_OK && t->role == ROVE_ROLE_MANAGER)
		rc = rove_policy_in_reach(pc, t, terr, out);
	free(t);
	return rc;
}

static int owner_works_in(const pctx *pc, const char *login, const char *terr, bool *out)
{
	return user_works_in(pc, login, terr, false, out);
}

/* ---- customers ---- */

/* A customer's dealer: a live dealer of its territory or above it. */
static int check_dealer_ref(const pctx *pc, const char *dealer, const char *terr, rove_verdict *v)
{
	rove_record *d;
	rove_uuid id;
	const char *dterr;
	bool ok = false;
	int rc;

	if (dealer == NULL)
		return ROVE_OK;
	if (rove_uuid_parse(dealer, &id) != ROVE_OK)
		return refuse(v, ROVE_R_INVALID, "invalid dealer '%.40s'", dealer);
	d = malloc(sizeof(*d));
	if (d == NULL)
		return ROVE_ENOMEM;
	rc = rove_store_record_get(pc->st, pc->txn, ROVE_COLL_DEALER, &id, d);
	if (rc == ROVE_OK && !rove_record_deleted(d) && terr != NULL &&
	    (dterr = rove_fields_str(&d->fs, "territory")) != NULL)
		rc = policy_territory_under(pc, terr, dterr, &ok);
	else if (rc == ROVE_ENOTFOUND)
		rc = ROVE_OK;
	free(d);
	if (rc == ROVE_OK && !ok)
		rc = refuse(v, ROVE_R_INVALID, "%s is not a dealer of %s or above", dealer, str_or(terr, "its territory"));
	return rc;
}

int rove_policy_dealer_ref(const pctx *pc, const rove_record *c, rove_verdict *v)
{
	verdict_clear(v);
	return check_dealer_ref(pc, rove_fields_str(&c->fs, "dealer"), rove_fields_str(&c->fs, "territory"), v);
}

/* For a manager, refuses unless territory code lies in his subtree; the
 * others' reach is not a question of the tree. */
static int check_manager_reach(const pctx *pc, const rove_user *u, const char *code, rove_verdict *v)
{
	bool ok;
	int rc;

	if (u->role != ROVE_ROLE_MANAGER)
		return ROVE_OK;
	rc = rove_policy_in_reach(pc, u, code, &ok);
	if (rc == ROVE_OK && !ok)
		rc = refuse(v, ROVE_R_NOT_IN_TERRITORY, "%s is outside your territories", code);
	return rc;
}

/* A field of the record as it will be once op is merged into cur (rule 8,
 * field by field: the later stamp wins), where a rule reads two fields
 * together: an op's value that loses to a later one written since does
 * not pair with its other values. */
static bool op_wins(const rove_op *op, const rove_record *cur, const char *field)
{
	const rove_field *of = rove_fields_get(&op->fs, field);
	const rove_field *cf = cur != NULL ? rove_fields_get(&cur->fs, field) : NULL;

	return of != NULL && (cf == NULL || rove_stamp_cmp(&of->st, &cf->st) > 0);
}

static const char *merged_str(const rove_op *op, const rove_record *cur, const char *field)
{
	if (op_wins(op, cur, field))
		return rove_fields_str(&op->fs, field);
	return cur != NULL ? rove_fields_str(&cur->fs, field) : NULL;
}

static int check_create(const pctx *pc, const rove_user *u, rove_op *op, rove_verdict *v)
{
	/* Copies: the op's strings may move as the op is adjusted below. */
	char terr[ROVE_MAX_NAME + 1], owner[ROVE_MAX_NAME + 1];
	const char *t = rove_fields_str(&op->fs, "territory");
	const char *named = rove_fields_str(&op->fs, "owner");
	int rc;

	if (u->role == ROVE_ROLE_REP && t == NULL && u->nterr == 1)
		t = u->terr[0]; /* a rep with one territory creates in it */
	if (t == NULL)
		return refuse(v, u->role == ROVE_ROLE_ADMIN ? ROVE_R_INVALID : ROVE_R_NOT_IN_TERRITORY,
			      "a customer needs a territory");
	if (strlen(t) > ROVE_MAX_NAME || (named != NULL && strlen(named) > ROVE_MAX_NAME))
		return refuse(v, ROVE_R_INVALID, "a territory or owner name is too long"); /* schema's limits */
	strcpy(terr, t); /* fits: checked above */
	if (named != NULL)
		named = strcpy(owner, named);
	rc = op_put(op, "territory", rove_vcstr(terr), v);
	if (rc != ROVE_OK || REFUSED(v))
		return rc;
	/* The author's territories first: whether a code someone else works
	 * in exists is none of a rep's business (rule 9). */
	if (u->role == ROVE_ROLE_REP && !policy_user_has_territory(u, terr))
		return refuse(v, ROVE_R_NOT_IN_TERRITORY, "%s is not one of your territories", terr);
	rc = check_manager_reach(pc, u, terr, v); /* a code that is no territory is in none */
	if (rc == ROVE_OK && !REFUSED(v))
		rc = policy_check_territory(pc, terr, v);
	if (rc != ROVE_OK || REFUSED(v))
		return rc;
	/* The server sets the owner (rule 2, rule 7): a rep owns what they
	 * create, whatever the op says; a manager or admin may name an owner
	 * who may own it there, or the pool (owner null); by default the
	 * author owns it if they can (a manager), else it goes to the pool.
	 * An author who can own nothing named as its owner is that default
	 * too: a replica names its author before its first sync, when it
	 * does not know its role yet (an admin's new laptop). */
	if (u->role == ROVE_ROLE_REP) {
		named = u->name;
	} else if (named != NULL && strcmp(named, u->name) == 0 && !rove_rules_role_may_own(u->role)) {
		named = NULL;
	} else if (named != NULL) {
		rc = policy_check_owner(pc, u, named, terr, v);
		if (rc != ROVE_OK || REFUSED(v))
			return rc;
	} else if (!touches(op, "owner") && rove_rules_role_may_own(u->role)) {
		named = u->name;
	}
	rc = op_put(op, "owner", named != NULL ? rove_vcstr(named) : rove_vnull(), v);
	if (rc == ROVE_OK && !REFUSED(v)) {
		char now[ROVE_TIME_SIZE];
		policy_iso_now(pc, now, false);
		rc = op_put(op, "created_at", rove_vcstr(now), v);
	}
	if (rc == ROVE_OK && !REFUSED(v))
		rc = check_dealer_ref(pc, rove_fields_str(&op->fs, "dealer"), terr, v);
	if (rc == ROVE_OK && !REFUSED(v))
		rc = find_duplicate(pc, op, v);
	if (rc == ROVE_OK && !REFUSED(v) && named != NULL && strcmp(named, u->name) == 0)
		rc = policy_check_pool_take(pc, u, terr, NULL, v);
	return rc;
}

static int check_claim_release(const pctx *pc, const rove_user *u, rove_op *op, const rove_record *cur,
			       rove_verdict *v)
{
	const char *owner = rove_fields_str(&cur->fs, "owner");
	const char *terr = rove_fields_str(&cur->fs, "territory");
	/* The reason whole (the schema's ROVE_LEN_REASON characters, checked
	 * before the rules), never cut inside a character. */
	char reason[ROVE_LEN_REASON * 4 + 1] = "";
	const char *given = rove_fields_str(&op->fs, "release_reason");
	const rove_field *named = rove_fields_get(&op->fs, "owner");
	pool_rules rules;
	bool ok;
	int rc;

	/* The owner a claim or release names, if any, is the one it makes:
	 * its author, or nobody (else it would be answered "accepted" with
	 * another owner written). */
	if (named != NULL && op->kind == ROVE_OP_CLAIM &&
	    (named->v.type != ROVE_V_STR || named->v.len != strlen(u->name) ||
	     memcmp(named->v.s, u->name, named->v.len) != 0))
		return refuse(v, ROVE_R_INVALID, "a claim makes its author the owner, no one else");
	if (named != NULL && op->kind == ROVE_OP_RELEASE && named->v.type != ROVE_V_NULL)
		return refuse(v, ROVE_R_INVALID, "a release leaves the customer with no owner");

	/* The op carries what the server writes, nothing else. A reason
	 * that shows nothing is none (rule 11: a reason, when required). */
	if (given != NULL && strlen(given) >= sizeof(reason))
		return refuse(v, ROVE_R_INVALID, "the release reason is too long");
	if (given != NULL && !rove_schema_blank(given, strlen(given)))
		memcpy(reason, given, strlen(given) + 1);
	rove_fields_init(&op->fs);
	if (op->kind == ROVE_OP_CLAIM) {
		if (owner != NULL)
			return refuse(v, ROVE_R_ALREADY_CLAIMED, "already owned by %s", owner);
		if (terr == NULL)
			ok = false;
		else if (u->role == ROVE_ROLE_REP)
			ok = policy_user_has_territory(u, terr);
		else if ((rc = rove_policy_in_reach(pc, u, terr, &ok)) != ROVE_OK)
			return rc;
		if (!ok)
			return refuse(v, ROVE_R_NOT_IN_TERRITORY, "%s is not one of your territories", str_or(terr, "(none)"));
		rc = policy_check_pool_take(pc, u, terr, cur, v);
		if (rc != ROVE_OK || REFUSED(v))
			return rc;
		return op_put(op, "owner", rove_vcstr(u->name), v);
	}
	/* One who may not write it (a rep whose customer went to another,
	 * who released it: attack ninety-six) is told so, `reassigned` if he
	 * held it; to the others it is in the pool. */
	rc = check_writer(pc, u, cur, v);
	if (rc == ROVE_OK && !REFUSED(v) && owner == NULL)
		return refuse(v, ROVE_R_INVALID, "the customer is already in the pool");
	/* (one sent again after a restore did what it did: a claim it was
	 * made after, sent again too, has a new stamp, of its arrival;
	 * attack ninety-eight) */
	if (rc == ROVE_OK && !REFUSED(v) && !pc->resent) {
		bool stale;
		rc = released_unseen(pc, u, cur, &stale);
		if (rc == ROVE_OK && stale)
			return refuse(v, ROVE_R_REASSIGNED, "the customer changed hands after this release was made");
	}
	if (rc == ROVE_OK && !REFUSED(v))
		rc = policy_pool_rules_get(pc, terr, &rules);
	if (rc != ROVE_OK || REFUSED(v))
		return rc;
	if (reason[0] == '\0' && rules.reason != 0)
		return refuse(v, ROVE_R_INVALID, "a reason is required to release a customer in %s", terr);
	rc = op_put(op, "owner", rove_vnull(), v);
	if (rc == ROVE_OK && !REFUSED(v))
		rc = op_put(op, "release_reason", reason[0] ? rove_vcstr(reason) : rove_vnull(), v);
	return rc;
}

static int check_customer_update(const pctx *pc, const rove_user *u, const rove_op *op, const rove_record *cur,
				 rove_verdict *v)
{
	const char *t = rove_fields_str(&op->fs, "territory"), *owner;
	bool ok;
	int rc = check_writer(pc, u, cur, v);

	if (rc != ROVE_OK || REFUSED(v))
		return rc;
	if (touches(op, "territory")) {
		if (t == NULL)
			return refuse(v, ROVE_R_INVALID, "a customer needs a territory");
		rc = check_manager_reach(pc, u, t, v);
		if (rc == ROVE_OK && !REFUSED(v))
			rc = policy_check_territory(pc, t, v);
		if (rc != ROVE_OK || REFUSED(v))
			return rc;
		/* The owner must work where the customer is (rule 7): an owned
		 * customer moves with a reassignment first, a pool customer
		 * freely. A move that loses the merge to a later one moves
		 * nothing, and the op's other fields stand. */
		owner = rove_fields_str(&cur->fs, "owner");
		if (owner != NULL && op_wins(op, cur, "territory")) {
			rc = owner_works_in(pc, owner, t, &ok);
			if (rc != ROVE_OK)
				return rc;
			if (!ok)
				return refuse(v, ROVE_R_NOT_IN_TERRITORY, "%s does not work in %s: reassign the customer first",
					      owner, t);
		}
	}
	if (touches(op, "territory") || touches(op, "dealer")) {
		rc = check_dealer_ref(pc, merged_str(op, cur, "dealer"), merged_str(op, cur, "territory"), v);
		if (rc != ROVE_OK || REFUSED(v))
			return rc;
	}
	return find_duplicate(pc, op, v);
}

/* ---- child records, dealers, targets ---- */

/* closed_on follows the stage: the server's date when a deal becomes won
 * or lost (kept while it stays so; on a manager's or admin's create, the
 * day it comes with),
 * cleared when it is reopened. */
static int set_closed_on(const pctx *pc, const rove_user *u, rove_op *op, const rove_record *cur, rove_verdict *v)
{
	const char *stage = rove_fields_str(&op->fs, "stage");
	const char *was = cur != NULL ? rove_fields_str(&cur->fs, "stage") : NULL;
	const char *kept = cur != NULL ? rove_fields_str(&cur->fs, "closed_on") : NULL;
	bool closed = rove_rules_deal_closed(stage);
	char today[ROVE_TIME_SIZE];

	if (!touches(op, "stage"))
		return ROVE_OK;
	if (!closed)
		return op_put(op, "closed_on", rove_vnull(), v);
	if (was != NULL && strcmp(was, stage) == 0 && kept != NULL)
		return op_put(op, "closed_on", rove_vcstr(kept), v);
	/* A deal a manager or admin creates closed (one of the past,
	 * imported) keeps its day, if that is not in the future: a rep's
	 * closes the day the server hears of it, so that no rep credits
	 * a win to a month gone by. */
	kept = op->kind == ROVE_OP_CREATE && (u->role == ROVE_ROLE_MANAGER || u->role == ROVE_ROLE_ADMIN)
		       ? rove_fields_str(&op->fs, "closed_on")
		       : NULL;
	if (kept != NULL) {
		v->reason = rove_rules_check_closed_on(kept, pc->now_ms, v->detail, sizeof(v->detail));
		return ROVE_OK;
	}
	policy_iso_now(pc, today, true);
	return op_put(op, "closed_on", rove_vcstr(today), v);
}

int policy_deal_owner_able(const pctx *pc, const char *login, const char *terr, bool *able)
{
	return user_works_in(pc, login, terr, true, able);
}

/* A closed deal reopened (without naming its owner) is an open deal of
 * its customer again, and goes to one who can work it (rule 14): the
 * customer's owner, as the customer's open deals went when it changed
 * hands, if he can work it (enabled, holding its territory); else it
 * keeps its own, if that one can. Else (or a deal without an owner where
 * the customer has one) the reopening is refused: name its owner. */
static int reopened_owner(const pctx *pc, rove_op *op, const rove_record *cur, const char *owner, const char *terr,
			  bool closed, rove_verdict *v)
{
	const char *was = rove_fields_str(&cur->fs, "owner");
	const rove_field *stage = rove_fields_get(&cur->fs, "stage");
	bool able = false;
	int rc = ROVE_OK;

	if (closed || !touches(op, "stage") || stage == NULL ||
	    !rove_rules_deal_closed(rove_fields_str(&cur->fs, "stage")))
		return ROVE_OK;
	/* A reopening made before the close it arrives after loses to it
	 * (the later stamp wins): the deal stays closed, and its credit. */
	if (rove_stamp_cmp(&op->st, &stage->st) <= 0)
		return ROVE_OK;
	if (owner != NULL)
		rc = policy_deal_owner_able(pc, owner, terr, &able);
	if (rc != ROVE_OK)
		return rc;
	if (able)
		return was != NULL && strcmp(was, owner) == 0 ? ROVE_OK : op_put(op, "owner", rove_vcstr(owner), v);
	if (was == NULL)
		return owner == NULL ? ROVE_OK /* a pool customer's, as an admin's open deal */
				     : refuse(v, ROVE_R_INVALID, "reopened without an owner, and %s cannot work it: name its owner",
					      owner);
	rc = policy_deal_owner_able(pc, was, terr, &able);
	if (rc == ROVE_OK && !able)
		rc = refuse(v, ROVE_R_INVALID, "reopened, its owner %s cannot work it open: name its owner", was);
	return rc;
}

/* An owner an op gives a deal may lose the merge to one written later
 * (rule 8): a closed deal's credit corrected since, a reassignment's. An
 * owner the op names is refused then (its author meant that one: name it
 * again); one the server gives a reopened deal, unless the one kept can
 * work it open. */
static int check_kept_owner(const pctx *pc, const rove_op *op, const rove_record *cur, const char *terr, bool closed,
			    bool named, rove_verdict *v)
{
	const rove_field *of = rove_fields_get(&op->fs, "owner");
	const rove_field *cf = rove_fields_get(&cur->fs, "owner");
	const char *kept = rove_fields_str(&cur->fs, "owner");
	bool able = false;
	int rc;

	if (of == NULL || cf == NULL || rove_stamp_cmp(&of->st, &cf->st) > 0)
		return ROVE_OK;
	if (named)
		return refuse(v, ROVE_R_INVALID, "the deal's owner was set to %s since: name its owner again",
			      kept != NULL ? kept : "none");
	if (closed || kept == NULL)
		return ROVE_OK;
	rc = policy_deal_owner_able(pc, kept, terr, &able);
	if (rc == ROVE_OK && !able)
		rc = refuse(v, ROVE_R_INVALID, "the deal's owner is %s since, who cannot work it open: name its owner",
			    kept);
	return rc;
}

/* A deal's owner (rule 14), who is credited with it: on create the
 * customer's owner, or the author for a pool customer if the author may
 * own (a manager; an admin's has none, and goes to whoever claims or is
 * given the customer); an admin or a manager may name another. An open deal's must be one who may own the
 * customer (policy_check_owner); a closed deal's (an import of old deals,
 * a correction of credit) may have left since: a manager's pick must
 * still work in the customer's territory inside his reach, an admin's
 * need only be a user who may own. On an update only they change it. */
static int check_deal_owner(const pctx *pc, const rove_user *u, rove_op *op, const rove_record *cur,
			    const rove_record *customer, rove_verdict *v)
{
	const char *given = rove_fields_str(&op->fs, "owner");
	/* Open or closed as the deal will be once merged: a stage that loses
	 * to a later one does not make the owner a closed deal's. */
	const char *stage = merged_str(op, cur, "stage");
	const char *terr = rove_fields_str(&customer->fs, "territory");
	const char *owner = rove_fields_str(&customer->fs, "owner");
	bool boss = u->role == ROVE_ROLE_ADMIN || u->role == ROVE_ROLE_MANAGER;
	bool closed = rove_rules_deal_closed(stage);
	rove_user *t;
	int rc;

	if (cur != NULL && !touches(op, "owner")) {
		rc = reopened_owner(pc, op, cur, owner, terr, closed, v);
		if (rc == ROVE_OK && !REFUSED(v))
			rc = check_kept_owner(pc, op, cur, terr, closed, false, v);
		return rc;
	}
	if (cur == NULL && (!boss || given == NULL)) { /* the server's: whatever a replica showed */
		/* a pool customer's: its author's, an admin's nobody's (until
		 * the customer is claimed or given to someone) */
		if (owner == NULL && rove_rules_role_may_own(u->role))
			owner = u->name;
		/* An open deal goes to one who can work it: not to the
		 * customer's owner who was disabled (left, his customers not
		 * yet reassigned), as a named one may not be either. */
		if (owner != NULL && !closed && strcmp(owner, u->name) != 0) {
			t = malloc(sizeof(*t));
			if (t == NULL)
				return ROVE_ENOMEM;
			rc = policy_user_get(pc, owner, t, v);
			if (rc == ROVE_OK && !REFUSED(v) && t->disabled)
				rc = refuse(v, ROVE_R_INVALID,
					    "the customer's owner %s is disabled: an open deal goes to one who can work it "
					    "(reassign the customer first, or name its owner)",
					    owner);
			free(t);
			if (rc != ROVE_OK || REFUSED(v))
				return rc;
		}
		return op_put(op, "owner", owner != NULL ? rove_vcstr(owner) : rove_vnull(), v);
	}
	if (!boss)
		return refuse(v, ROVE_R_FORBIDDEN, "a deal's owner is changed by managers and admins");
	if (given == NULL)
		return refuse(v, ROVE_R_INVALID, "a deal needs an owner");
	if (cur != NULL) {
		rc = check_kept_owner(pc, op, cur, terr, closed, true, v);
		if (rc != ROVE_OK || REFUSED(v))
			return rc;
	}
	if (!closed)
		return policy_check_owner(pc, u, given, terr, v);
	if (u->role == ROVE_ROLE_MANAGER) /* his people only, who may have left since */
		return check_owner_at(pc, u, given, terr, true, v);
	t = malloc(sizeof(*t));
	if (t == NULL)
		return ROVE_ENOMEM;
	rc = policy_user_get(pc, given, t, v);
	if (rc == ROVE_OK && !REFUSED(v) && !rove_rules_role_may_own(t->role))
		rc = refuse(v, ROVE_R_INVALID, "'%s' is %s; deals go to reps and managers", given,
			    rove_role_with_article(t->role));
	free(t);
	return rc;
}

/* A won or lost deal is closed: its credit is settled (rule 14), so a
 * rep - its owner or the customer's - changes it no more; managers and
 * admins may reopen or correct it. Then its owner. */
static int check_deal(const pctx *pc, const rove_user *u, rove_op *op, const rove_record *cur,
		      const rove_record *customer, rove_verdict *v)
{
	const char *was = cur != NULL ? rove_fields_str(&cur->fs, "stage") : NULL;

	if (u->role == ROVE_ROLE_REP && rove_rules_deal_closed(was))
		return refuse(v, ROVE_R_FORBIDDEN, "a %s deal is closed: managers and admins change it", was);
	return check_deal_owner(pc, u, op, cur, customer, v);
}

static int check_child(const pctx *pc, const rove_user *u, rove_op *op, const rove_coll_def *c,
		       const rove_record *cur, rove_verdict *v)
{
	const rove_field_def *pf = rove_schema_parent_field(c);
	const char *pid = rove_fields_str(cur != NULL ? &cur->fs : &op->fs, pf->name);
	rove_record *parent;
	rove_uuid id;
	int rc;

	if (pid == NULL || rove_uuid_parse(pid, &id) != ROVE_OK)
		return refuse(v, ROVE_R_INVALID, "no customer given");
	parent = malloc(sizeof(*parent));
	if (parent == NULL)
		return ROVE_ENOMEM;
	rc = rove_store_record_get(pc->st, pc->txn, ROVE_COLL_CUSTOMER, &id, parent);
	if (rc == ROVE_ENOTFOUND)
		rc = refuse(v, ROVE_R_INVALID, "no customer %s", pid);
	else if (rc == ROVE_OK && rove_record_deleted(parent))
		rc = refuse(v, ROVE_R_DELETED, "the customer was deleted");
	else if (rc == ROVE_OK)
		rc = check_writer(pc, u, parent, v);
	if (rc == ROVE_OK && !REFUSED(v) && c->id == ROVE_COLL_OPPORTUNITY)
		rc = check_deal(pc, u, op, cur, parent, v);
	free(parent);
	if (rc != ROVE_OK || REFUSED(v))
		return rc;
	if (c->id == ROVE_COLL_ACTIVITY && op->kind == ROVE_OP_CREATE) {
		const char *at = rove_fields_str(&op->fs, "at");
		char now[ROVE_TIME_SIZE];
		if (at != NULL) {
			/* Stored in one form already (rove_schema_clean_op). */
			v->reason = rove_rules_check_at(at, pc->now_ms, v->detail, sizeof(v->detail));
			if (REFUSED(v))
				return ROVE_OK;
		} else {
			policy_iso_now(pc, now, false); /* every activity has a time: by default, its arrival */
			rc = op_put(op, "at", rove_vcstr(now), v);
			if (rc != ROVE_OK || REFUSED(v))
				return rc;
		}
		return op_put(op, "author", rove_vcstr(u->name), v); /* the server names the author */
	}
	if (c->id == ROVE_COLL_OPPORTUNITY)
		return set_closed_on(pc, u, op, cur, v);
	return ROVE_OK;
}

/* What a dealer's delete or move asks of the customers naming it. */
typedef struct named_walk {
	const pctx *pc;
	const rove_user *u; /* who deletes or moves it */
	const char *terr;   /* the dealer's new territory; NULL: it goes */
	rove_record *c;
	rove_verdict *v;
} named_walk;

/* Refuses w's op naming customer c (id ids) where u may know of it: a
 * customer outside a manager's reach (left so by a roved before this
 * rule) goes unnamed. */
static int refuse_named(named_walk *w, const char *ids, const char *cterr)
{
	bool sees = w->u->role != ROVE_ROLE_MANAGER;
	int rc = ROVE_OK;

	if (!sees && cterr != NULL)
		rc = rove_policy_in_reach(w->pc, w->u, cterr, &sees);
	if (rc != ROVE_OK)
		return rc;
	if (!sees)
		rc = refuse(w->v, ROVE_R_INVALID, "the dealer of a customer outside your territories");
	else if (w->terr == NULL)
		rc = refuse(w->v, ROVE_R_INVALID, "the dealer of customer %s; change its dealer first", ids);
	else
		rc = refuse(w->v, ROVE_R_INVALID, "the dealer of customer %s of %s, not %s or below it", ids,
			    cterr != NULL ? cterr : "no territory", w->terr);
	return rc == ROVE_OK ? ROVE_EEXIST : rc;
}

static int named_one(const rove_uuid *customer, void *arg)
{
	named_walk *w = arg;
	char ids[ROVE_UUID_STRLEN + 1];
	const char *cterr;
	bool ok = false;
	int rc;

	rove_uuid_format(customer, ids);
	rc = rove_store_record_get(w->pc->st, w->pc->txn, ROVE_COLL_CUSTOMER, customer, w->c);
	if (rc != ROVE_OK)
		return rc; /* listed, so held: anything else is a damaged index */
	cterr = rove_fields_str(&w->c->fs, "territory");
	if (w->terr == NULL)
		return refuse_named(w, ids, cterr);
	if (cterr == NULL)
		return ROVE_OK;
	rc = policy_territory_under(w->pc, cterr, w->terr, &ok);
	if (rc == ROVE_OK && !ok)
		return refuse_named(w, ids, cterr);
	return rc;
}

/* Rule 13 from the dealer's side: a dealer that live customers name is
 * not deleted, nor moved to a territory that leaves one of them outside
 * its line (a customer's dealer is one of its territory or above). The
 * first such customer is named: within the dealer's territory, so within
 * the reach of whoever may change the dealer (but for a customer a roved
 * before this rule left out of its dealer's line: refuse_named). */
static int check_dealer_named(const pctx *pc, const rove_user *u, const rove_op *op, const rove_record *cur,
			      rove_verdict *v)
{
	/* Where it will be once merged: a move that loses to a later one
	 * moves nothing. */
	const char *terr = merged_str(op, cur, "territory");
	const char *was = rove_fields_str(&cur->fs, "territory");
	named_walk w = {pc, u, NULL, NULL, v};
	int rc;

	if (op->kind != ROVE_OP_DELETE &&
	    (!touches(op, "territory") || terr == NULL || (was != NULL && strcmp(terr, was) == 0)))
		return ROVE_OK;
	if (op->kind != ROVE_OP_DELETE)
		w.terr = terr;
	w.c = malloc(sizeof(*w.c));
	if (w.c == NULL)
		return ROVE_ENOMEM;
	rc = rove_pstore_each_named(pc->ps, pc->txn, &cur->id, named_one, &w);
	free(w.c);
	return rc == ROVE_EEXIST ? ROVE_OK : rc;
}

/* Dealers: reference data a manager (in reach) or admin maintains. */
static int check_dealer(const pctx *pc, const rove_user *u, const rove_op *op, const rove_record *cur,
			rove_verdict *v)
{
	const char *terr = rove_fields_str(&op->fs, "territory");
	const char *was = cur ? rove_fields_str(&cur->fs, "territory") : NULL;
	bool ok = true, was_ok = true;
	int rc = ROVE_OK;

	if (terr != NULL) {
		rc = policy_check_territory(pc, terr, v);
		if (rc != ROVE_OK || REFUSED(v))
			return rc;
	}
	if (u->role == ROVE_ROLE_MANAGER) {
		if (terr != NULL)
			rc = rove_policy_in_reach(pc, u, terr, &ok);
		if (rc == ROVE_OK && was != NULL)
			rc = rove_policy_in_reach(pc, u, was, &was_ok);
		if (rc == ROVE_OK && (!ok || !was_ok))
			return refuse(v, ROVE_R_NOT_IN_TERRITORY, "outside your territories");
	}
	if (rc == ROVE_OK && cur != NULL)
		rc = check_dealer_named(pc, u, op, cur, v);
	return rc;
}

/* A target set (a create, as pushed): what its op says, checked before
 * anything stored is read, so that the answer is the same whether the
 * user has a target that month, had one or never did (rule 9): its user
 * and month, the id they make, and for a manager a user in his reach. */
static int check_target_words(const pctx *pc, const rove_user *u, const rove_op *op, rove_verdict *v)
{
	const char *login = rove_fields_str(&op->fs, "user");
	const char *period = rove_fields_str(&op->fs, "period");
	rove_uuid want;
	rove_user *t;
	int rc;

	if (login == NULL)
		return refuse(v, ROVE_R_INVALID, "a target needs a user");
	if (period == NULL)
		return refuse(v, ROVE_R_INVALID, "a target needs a month");
	rove_target_id(login, period, &want);
	if (memcmp(&want, &op->rid, sizeof(want)) != 0)
		return refuse(v, ROVE_R_INVALID,
			      "a target's id is made from its user and month (one target per user and month)");
	if (u->role != ROVE_ROLE_MANAGER)
		return ROVE_OK;
	t = malloc(sizeof(*t));
	if (t == NULL)
		return ROVE_ENOMEM;
	rc = named_user_get(pc, u, login, t, v);
	free(t);
	return rc;
}

/* Targets: set by managers for users in their reach, and by admins.
 * revive: a whole target over a deleted one (decide), live again once
 * taken. The marker is written only then: a refused op is kept as sent. */
static int check_target(const pctx *pc, const rove_user *u, rove_op *op, const rove_record *cur, bool revive,
			rove_verdict *v)
{
	const char *login = rove_fields_str(cur != NULL ? &cur->fs : &op->fs, "user");
	const char *period = rove_fields_str(&op->fs, "period");
	const char *was = cur != NULL ? rove_fields_str(&cur->fs, "period") : NULL;
	const char *terr = NULL;
	rove_user *t;
	int rc;

	if (cur != NULL && touches(op, "user") && (rove_fields_str(&op->fs, "user") == NULL || login == NULL ||
						    strcmp(rove_fields_str(&op->fs, "user"), login) != 0))
		return refuse(v, ROVE_R_FORBIDDEN, "a target cannot move to another user");
	if (login == NULL)
		return refuse(v, ROVE_R_INVALID, "a target needs a user");
	if (cur != NULL && touches(op, "period") &&
	    (period == NULL || was == NULL || strcmp(period, was) != 0))
		return refuse(v, ROVE_R_FORBIDDEN, "a target cannot move to another month");
	/* Its user, month and id were checked (check_target_words): a
	 * record is only made by a create. A replica may still hold a target
	 * deleted under this id whose tombstone compaction dropped here:
	 * live again there too (attack twenty). */
	ROVE_ASSERT(cur != NULL || op->kind == ROVE_OP_CREATE); /* decide: none is updated */
	if (cur == NULL)
		revive = true;
	t = malloc(sizeof(*t));
	if (t == NULL)
		return ROVE_ENOMEM;
	rc = named_user_get(pc, u, login, t, v);
	/* A target measures sales work: analysts and admins own nothing. One
	 * set before this rule may still be deleted (attack thirty). */
	if (rc == ROVE_OK && !REFUSED(v) && !rove_rules_role_may_own(t->role) && !rove_rules_deletes(op))
		rc = refuse(v, ROVE_R_INVALID, "'%s' is %s; targets go to reps and managers", login,
			    rove_role_with_article(t->role));
	for (uint32_t i = 0; rc == ROVE_OK && !REFUSED(v) && i < t->nterr && terr == NULL; i++) {
		bool in = u->role == ROVE_ROLE_ADMIN;
		if (!in)
			rc = rove_policy_in_reach(pc, u, t->terr[i], &in);
		if (in)
			terr = t->terr[i];
	}
	if (rc == ROVE_OK && !REFUSED(v)) {
		if (terr == NULL && u->role == ROVE_ROLE_MANAGER)
			rc = refuse(v, ROVE_R_NOT_IN_TERRITORY, "%s works outside your territories", login);
		else if (terr != NULL)
			rc = op_put(op, "territory", rove_vcstr(terr), v);
	}
	free(t);
	if (rc == ROVE_OK && !REFUSED(v) && revive)
		rc = op_put(op, ROVE_FIELD_DELETED, rove_vint(0), v);
	return rc;
}

static int decide(const pctx *pc, const rove_user *u, rove_op *op, const rove_record *cur, rove_verdict *v)
{
	const rove_coll_def *c = rove_schema_coll(op->coll);
	bool again = false;

	if (c == NULL)
		return refuse(v, ROVE_R_INVALID, "unknown collection"); /* rules refuse it first */
	if (cur != NULL && op->coll == ROVE_COLL_TARGET &&
	    (op->kind == ROVE_OP_CREATE || op->kind == ROVE_OP_UPDATE)) {
		/* One target per user and month (its id says which): set
		 * again, also after a delete ("setting it again replaces
		 * it"; a replica that saw the target sends an update). A
		 * whole target over a deleted one makes it live again, as of
		 * the op's stamp: a delete stamped later still wins. */
		op->kind = ROVE_OP_UPDATE;
		again = rove_record_deleted(cur) && touches(op, "user") && touches(op, "period") &&
			touches(op, "amount") && !touches(op, ROVE_FIELD_DELETED);
	}
	if (op->kind == ROVE_OP_CREATE && cur != NULL)
		return refuse(v, ROVE_R_INVALID, ROVE_DETAIL_EXISTS);
	if (op->kind != ROVE_OP_CREATE && cur == NULL)
		return refuse(v, ROVE_R_INVALID, "no such record");
	if (cur != NULL && rove_record_deleted(cur) && !again)
		return refuse(v, ROVE_R_DELETED, "the record was deleted");
	if (op->coll == ROVE_COLL_DEALER)
		return check_dealer(pc, u, op, cur, v);
	if (op->coll == ROVE_COLL_TARGET)
		return check_target(pc, u, op, cur, again, v);
	if (rove_schema_parent_field(c) != NULL)
		return check_child(pc, u, op, c, cur, v);
	if (op->coll != ROVE_COLL_CUSTOMER)
		return refuse(v, ROVE_R_FORBIDDEN, "only the server writes %s records", c->name);
	switch (op->kind) {
	case ROVE_OP_CREATE:
		return check_create(pc, u, op, v);
	case ROVE_OP_CLAIM:
	case ROVE_OP_RELEASE:
		return check_claim_release(pc, u, op, cur, v);
	case ROVE_OP_DELETE:
		return check_writer(pc, u, cur, v);
	default:
		return check_customer_update(pc, u, op, cur, v);
	}
}

int rove_policy_check(const pctx *pc, const rove_user *u, rove_op *op, const rove_record *cur, rove_verdict *v)
{
	uint8_t kind = op->kind;
	bool by_role;
	int rc;

	verdict_clear(v);
	/* The rules of the role and the op first, then those of the data. */
	v->reason = rove_rules_check_op(u->role, op, v->detail, sizeof(v->detail));
	by_role = REFUSED(v);
	rc = ROVE_OK;
	/* A target set is refused for what it says alone, as the rules of
	 * the role are: said whole, whatever is stored under its id. */
	if (!by_role && op->coll == ROVE_COLL_TARGET && op->kind == ROVE_OP_CREATE) {
		rc = check_target_words(pc, u, op, v);
		by_role = REFUSED(v);
	}
	if (rc == ROVE_OK && !by_role)
		rc = decide(pc, u, op, cur, v);
	if (rc == ROVE_OK)
		rc = policy_say_only_what_u_knows(pc, u, op, cur, by_role, v);
	/* A refused op is kept as sent (rule 9): not as the update decide
	 * reads a target set again as. */
	if (REFUSED(v))
		op->kind = kind;
	/* Who owns a customer is decided here, in the order ops arrive: a
	 * claim's or release's owner must not lose to an older value by the
	 * client's clock (rule 5: first to reach the server wins). */
	if (rc == ROVE_OK && !REFUSED(v) && rove_rules_stamped_on_arrival(op->kind))
		v->server_stamp = true;
	return rc;
}

bool rove_policy_stamped_on_arrival(const rove_op *op)
{
	return rove_rules_stamped_on_arrival(op->kind);
}
