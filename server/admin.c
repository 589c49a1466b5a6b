/*
 * admin.c - administration requests and the conflict list.
 *
 * One table of commands, each with its argument count and who may run it,
 * checked once before any handler runs. Changes to records (territories,
 * reassignments) go through the engine like any op, as the server's own
 * ops, so they are ordered, logged and replicated like everything else.
 */
#include "engine_int.h"
#include "admin_import.h"
#include "seal.h"
#include "rove_assert.h"

#include "array.h"
#include "err.h"
#include "log.h"
#include "schema.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef char arg_t[ROVE_MAX_ADMIN_ARG + 1];

typedef struct admin_ctx {
	rove_engine *e;
	MDB_txn *txn;
	const rove_user *u;
	arg_t *args;
	uint32_t nargs;
	rove_buf *reply;
	const char *cmd; /* the command's name */
	bool refused;    /* the reply is a refusal (refuse) */
} admin_ctx;

/* Answers with a refusal; the request "succeeded" as a request. */
static int refuse(admin_ctx *a, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int refuse(admin_ctx *a, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rove_engine_verror(a->reply, code, fmt, ap);
	va_end(ap);
	a->refused = true;
	return ROVE_OK;
}

static int answer(admin_ctx *a, const char *const *lines, uint32_t n)
{
	a->refused = false;
	rove_buf_reset(a->reply);
	return rove_enc_admin_reply(a->reply, lines, n);
}

/* Finding a name (a login, a territory code) equal to another ignoring
 * ASCII case: a walk of the names, as administration is rare and a
 * second index of folded names would be one more thing to keep in step. */
typedef struct taken_ctx {
	const char *name;
	char found[ROVE_MAX_NAME + 1]; /* empty if none */
} taken_ctx;

static int same_name(const char *name, taken_ctx *t)
{
	if (!rove_name_same(name, strlen(name), t->name, strlen(t->name)))
		return ROVE_OK;
	snprintf(t->found, sizeof(t->found), "%s", name);
	return ROVE_EEXIST; /* found: stop */
}

static int code_taken(const char *code, void *arg)
{
	return same_name(code, arg);
}

/* A user whose login is name but for case, into found (empty if none). */
static int user_like(admin_ctx *a, const char *name, char found[ROVE_MAX_NAME + 1])
{
	return rove_store_user_like(&a->e->st, a->txn, name, found);
}

/* Refuses login, which names no user (in_terr: none the requester may
 * see), saying to an admin the login it differs from only in case:
 * logins are exact ('WANG' is no user when 'wang' is one). */
static int no_user(admin_ctx *a, const char *login, bool in_terr)
{
	char like[ROVE_MAX_NAME + 1] = "";

	if (a->u->role == ROVE_ROLE_ADMIN && user_like(a, login, like) != ROVE_OK)
		like[0] = '\0';
	return refuse(a, ROVE_ENOTFOUND, "no user '%s'%s%s%s%s", login, in_terr ? " in your territories" : "",
		      like[0] != '\0' ? " (logins are exact: '" : "", like, like[0] != '\0' ? "')" : "");
}

/* A territory whose code is name but for case, into found. */
static int territory_like(admin_ctx *a, const char *name, char found[ROVE_MAX_NAME + 1])
{
	taken_ctx t = {name, ""};
	int rc = rove_pstore_each_code(&a->e->ps, a->txn, code_taken, &t);

	snprintf(found, ROVE_MAX_NAME + 1, "%s", t.found);
	return rc == ROVE_EEXIST ? ROVE_OK : rc;
}

static int code_get(admin_ctx *a, const char *code, rove_uuid *id)
{
	return rove_pstore_code_get(&a->e->ps, a->txn, code, id);
}

static int get_user(admin_ctx *a, const char *name, rove_user *u, uint8_t hash[ROVE_HASH_BYTES])
{
	return rove_store_user_get(&a->e->st, a->txn, name, u, hash);
}

/* Applies a server-made op by the requesting user (stamped there, with
 * the server's clock). */
static int apply_system(admin_ctx *a, rove_op *op, rove_push_result *r)
{
	rove_apply_work *w = rove_apply_work_new();
	int rc;

	if (w == NULL)
		return ROVE_ENOMEM;
	memset(r, 0, sizeof(*r));
	rc = rove_apply_op(a->e, a->txn, a->u, op, true, w, r);
	rove_apply_work_free(w);
	return rc;
}

/* ---- commands ---- */

static int cmd_user_add(admin_ctx *a)
{
	char token[ROVE_TOKEN_HEX + 1];
	uint8_t hash[ROVE_HASH_BYTES];
	const char *line = token;
	rove_user u;
	int rc;

	char taken[ROVE_MAX_NAME + 1];

	/* The one rule for a login (roved init's too, and the schema's). */
	if (!rove_login_valid(a->args[0], strlen(a->args[0])))
		return refuse(a, ROVE_EINVAL, "invalid user name '%s' (letters, digits and . _ - @, beginning with a letter or digit, at most %u)",
			      a->args[0], ROVE_MAX_NAME);
	if (rove_login_reserved(a->args[0]))
		return refuse(a, ROVE_EEXIST, "'%s' is the server's own name", a->args[0]);
	memset(&u, 0, sizeof(u));
	u.role = rove_role_parse(a->args[1]);
	if (u.role == 0)
		return refuse(a, ROVE_EINVAL, "invalid role '%s' (rep, manager, analyst or admin)", a->args[1]);
	rc = get_user(a, a->args[0], &u, NULL);
	if (rc == ROVE_OK)
		return refuse(a, ROVE_EEXIST, "user '%s' already exists", a->args[0]);
	if (rc != ROVE_ENOTFOUND)
		return rc;
	/* wang and WANG would be one person to anyone reading a list. */
	rc = user_like(a, a->args[0], taken);
	if (rc != ROVE_OK)
		return rc;
	if (taken[0] != '\0')
		return refuse(a, ROVE_EEXIST, "user '%s' would differ from user '%s' only in case", a->args[0], taken);
	snprintf(u.name, sizeof(u.name), "%s", a->args[0]);
	u.role = rove_role_parse(a->args[1]);
	u.epoch = 1;
	u.nterr = 0;
	if (a->nargs > 2 && !rove_rules_role_may_own(u.role)) /* as set_assignment */
		return refuse(a, ROVE_EINVAL, "%s is %s: territories are for reps and managers", a->args[0],
			      rove_role_with_article(u.role));
	for (uint32_t i = 2; i < a->nargs; i++) {
		rove_uuid id;
		bool again = false;
		if (code_get(a, a->args[i], &id) != ROVE_OK)
			return refuse(a, ROVE_ENOTFOUND, "no territory '%s'", a->args[i]);
		for (uint32_t k = 0; k < u.nterr && !again; k++)
			again = strcmp(u.terr[k], a->args[i]) == 0;
		if (!again) /* a territory named twice is held once, as an import's */
			snprintf(u.terr[u.nterr++], ROVE_MAX_NAME + 1, "%s", a->args[i]);
	}
	rc = rove_token_new(token);
	if (rc != ROVE_OK)
		return rc;
	rove_token_hash(token, hash);
	rc = rove_store_user_put(&a->e->st, a->txn, &u, hash);
	if (rc != ROVE_OK)
		return rc;
	return answer(a, &line, 1);
}

static int cmd_territory_add(admin_ctx *a)
{
	const char *code = a->args[0], *name = a->args[1];
	const char *parent = a->nargs > 2 && a->args[2][0] != '\0' ? a->args[2] : NULL;
	rove_op *op;
	rove_uuid id;
	rove_stamp st = {{0}, a->e->st.node};
	rove_push_result r;
	char ids[ROVE_UUID_STRLEN + 1];
	const char *line = ids;
	int rc;

	char why[ROVE_MAX_ERRMSG], taken[ROVE_MAX_NAME + 1];

	if (!rove_code_valid(code, strlen(code)))
		return refuse(a, ROVE_EINVAL, "invalid territory code '%s' (letters, digits and . _ -, beginning with a letter or digit, at most %u)", code,
			      ROVE_MAX_NAME);
	if (code_get(a, code, &id) == ROVE_OK)
		return refuse(a, ROVE_EEXIST, "territory '%s' already exists", code);
	rc = territory_like(a, code, taken);
	if (rc != ROVE_OK)
		return rc;
	if (taken[0] != '\0')
		return refuse(a, ROVE_EEXIST, "territory '%s' would differ from territory '%s' only in case", code,
			      taken);
	if (parent != NULL && code_get(a, parent, &id) != ROVE_OK)
		return refuse(a, ROVE_ENOTFOUND, "no parent territory '%s'", parent);
	/* (attack ninety-three: one deeper fell out of its managers' reach,
	 * their scopes, their reports) */
	if (parent != NULL) {
		rove_policy_ctx pc = rove_engine_policy(a->e, a->txn);
		unsigned levels;
		rc = rove_policy_territory_levels(&pc, parent, &levels);
		if (rc != ROVE_OK)
			return rc;
		if (levels >= ROVE_MAX_TREE_DEPTH)
			return refuse(a, ROVE_EINVAL,
				      "territory '%s' would be more than %d levels deep (under '%s'): the tree holds "
				      "at most %d",
				      code, ROVE_MAX_TREE_DEPTH, parent, ROVE_MAX_TREE_DEPTH);
	}
	op = malloc(sizeof(*op));
	if (op == NULL)
		return ROVE_ENOMEM;
	rove_uuid_new(&id);
	rove_op_init(op, ROVE_OP_CREATE, ROVE_COLL_TERRITORY, &id, st); /* stamped when applied */
	rc = rove_op_set(op, "code", rove_vcstr(code));
	if (rc == ROVE_OK)
		rc = rove_op_set(op, "name", rove_vcstr(name));
	if (rc == ROVE_OK && parent != NULL)
		rc = rove_op_set(op, "parent", rove_vcstr(parent));
	/* Valid data (rule 13), as any op: a name of UTF-8 text within its
	 * length, without control characters. */
	if (rc == ROVE_OK && rove_schema_clean_op(op, why, sizeof(why)) != ROVE_OK) {
		free(op);
		return refuse(a, ROVE_EINVAL, "%s", why);
	}
	if (rc == ROVE_OK)
		rc = rove_pstore_code_put(&a->e->ps, a->txn, code, &id);
	if (rc == ROVE_OK)
		rc = apply_system(a, op, &r);
	free(op);
	/* Nobody's scope epoch moves: the managers above the new territory
	 * read one more scope, but scopes are computed at each pull and the
	 * new one holds nothing older than their cursors (the record of the
	 * territory itself comes as an op). */
	if (rc != ROVE_OK)
		return rc;
	rove_uuid_format(&id, ids);
	return answer(a, &line, 1);
}

/* territory.set CODE FIELD=VALUE...: names and pool policies. */
static int refuse_verdict(admin_ctx *a, const char *what, const rove_verdict *v);

static int cmd_territory_set(admin_ctx *a)
{
	const rove_coll_def *c = rove_schema_coll(ROVE_COLL_TERRITORY);
	rove_stamp st = {{0}, a->e->st.node};
	rove_push_result r;
	rove_record *rec;
	rove_verdict verdict;
	rove_uuid id;
	rove_op *op;
	int rc;

	if (code_get(a, a->args[0], &id) != ROVE_OK)
		return refuse(a, ROVE_ENOTFOUND, "no territory '%s'", a->args[0]);
	op = malloc(sizeof(*op));
	if (op == NULL)
		return ROVE_ENOMEM;
	rove_op_init(op, ROVE_OP_UPDATE, ROVE_COLL_TERRITORY, &id, st); /* stamped when applied */
	for (uint32_t i = 1; i < a->nargs; i++) {
		char *eq = strchr(a->args[i], '=');
		const rove_field_def *fd;
		char why[160];
		rove_value v;

		if (eq != NULL)
			*eq = '\0';
		fd = eq ? rove_schema_field(c, a->args[i]) : NULL;
		if (fd == NULL || strcmp(fd->name, "code") == 0 || strcmp(fd->name, "parent") == 0) {
			free(op);
			return refuse(a, ROVE_EINVAL, "cannot set '%s' (name, pool_limit, claim_limit, "
				      "cooldown_days, release_reason, recycle_days, warn_days)", a->args[i]);
		}
		if (rove_schema_parse(fd, eq + 1, &v, why, sizeof(why)) != ROVE_OK ||
		    rove_op_set(op, fd->name, v) != ROVE_OK) {
			free(op);
			return refuse(a, ROVE_EINVAL, "%s", why);
		}
	}
	/* The rules together, as the territory would have them. */
	rec = malloc(sizeof(*rec));
	rc = rec != NULL ? rove_store_record_get(&a->e->st, a->txn, ROVE_COLL_TERRITORY, &id, rec) : ROVE_ENOMEM;
	if (rc == ROVE_OK)
		rc = rove_policy_territory_rules(rec, op, &verdict);
	free(rec);
	if (rc == ROVE_OK && verdict.reason != ROVE_R_NONE) {
		free(op);
		return refuse_verdict(a, NULL, &verdict);
	}
	if (rc == ROVE_OK)
		rc = apply_system(a, op, &r);
	free(op);
	if (rc == ROVE_OK)
		rc = answer(a, NULL, 0);
	return rc;
}

/* Assigns (or unassigns) login to code. Writes a reply only to refuse
 * (then a->reply is not empty); otherwise the caller answers. */
static int set_assignment(admin_ctx *a, const char *login, const char *code, bool assign)
{
	rove_user u;
	uint8_t hash[ROVE_HASH_BYTES];
	rove_uuid id;
	uint32_t at = 0;
	int rc = get_user(a, login, &u, hash);

	if (rc == ROVE_ENOTFOUND)
		return no_user(a, login, false);
	if (rc != ROVE_OK)
		return rc;
	if (code_get(a, code, &id) != ROVE_OK)
		return refuse(a, ROVE_ENOTFOUND, "no territory '%s'", code);
	if (assign && !rove_rules_role_may_own(u.role))
		return refuse(a, ROVE_EINVAL, "%s is %s: territories are for reps and managers", login,
			      rove_role_with_article(u.role));
	while (at < u.nterr && strcmp(u.terr[at], code) != 0)
		at++;
	/* Nothing to change is no answer yet: the caller answers (a
	 * reassignment goes on to move customers). */
	if (assign) {
		if (at < u.nterr)
			return ROVE_OK; /* already */
		if (u.nterr >= ROVE_MAX_USER_TERRITORIES)
			return refuse(a, ROVE_ETOOBIG, "a user holds at most %u territories",
				      ROVE_MAX_USER_TERRITORIES);
		snprintf(u.terr[u.nterr++], ROVE_MAX_NAME + 1, "%s", code);
	} else {
		if (at == u.nterr)
			return ROVE_OK;
		/* every copy (a user added with a territory named twice, before
		 * user.add held it once) */
		for (uint32_t k = at; k < u.nterr;) {
			if (strcmp(u.terr[k], code) == 0) {
				memmove(&u.terr[k], &u.terr[k + 1], (u.nterr - k - 1) * sizeof(u.terr[0]));
				u.nterr--;
			} else {
				k++;
			}
		}
	}
	u.epoch++; /* their scope changed: their replica refetches it */
	rc = rove_store_user_put(&a->e->st, a->txn, &u, hash);
	return rc;
}

/* Whether login holds code (a->reply holds a refusal if login is no user). */
static int holds(admin_ctx *a, const char *login, const char *code, bool *held)
{
	rove_user u;
	uint8_t hash[ROVE_HASH_BYTES];
	int rc = get_user(a, login, &u, hash);

	*held = false;
	if (rc == ROVE_ENOTFOUND)
		return no_user(a, login, false);
	for (uint32_t i = 0; rc == ROVE_OK && i < u.nterr && !*held; i++)
		*held = strcmp(u.terr[i], code) == 0;
	return rc;
}

/* An assignment that changes nothing fails saying so. */
static int cmd_assign(admin_ctx *a)
{
	bool held;
	int rc = holds(a, a->args[0], a->args[1], &held);

	if (rc == ROVE_OK && a->reply->len == 0 && held)
		return refuse(a, ROVE_EEXIST, "%s already holds %s; nothing changed", a->args[0], a->args[1]);
	if (rc == ROVE_OK && a->reply->len == 0)
		rc = set_assignment(a, a->args[0], a->args[1], true);
	if (rc == ROVE_OK && a->reply->len == 0)
		rc = answer(a, NULL, 0);
	return rc;
}

static int count_owned(const rove_record *c, void *arg)
{
	(void)c;
	(*(uint64_t *)arg)++;
	return ROVE_OK;
}

/* Unassign's answer: a note when login still owns customers of code,
 * which stay his (the data stays when a user leaves) until handed over,
 * as the owner of a territory's customers should work there (rule 7;
 * attack sixty-eight: nothing said, they were easily forgotten). */
static int answer_left(admin_ctx *a, const char *login, const char *code)
{
	rove_policy_ctx pc = rove_engine_policy(a->e, a->txn);
	char what[ROVE_MAX_NAME + 64], note[ROVE_MAX_NAME * 4 + 200];
	const char *line = note;
	uint64_t n = 0;
	bool any = false;
	int rc = rove_policy_each_owned(&pc, login, code, count_owned, &n);

	if (rc != ROVE_OK)
		return rc;
	/* None there: a manager's customers below it that he no longer
	 * reaches, or open deals where he no longer works, all the same
	 * (attack seventy: a manager unassigned from his root, nothing said). */
	if (n == 0)
		rc = rove_policy_has_left(&pc, login, code, &any);
	if (rc != ROVE_OK || (n == 0 && !any))
		return rc != ROVE_OK ? rc : answer(a, NULL, 0);
	if (n == 0)
		snprintf(what, sizeof(what), "customers or open deals in or below %s", code);
	else
		snprintf(what, sizeof(what), "%llu customer(s) in %s", (unsigned long long)n, code);
	snprintf(note, sizeof(note),
		 "%s still owns %s, where he no longer works: hand them over ('rove admin reassign --territory %s "
		 "--from %s --to USER')",
		 login, what, code, login);
	return answer(a, &line, 1);
}

static int cmd_unassign(admin_ctx *a)
{
	rove_uuid id;
	bool held;
	int rc = holds(a, a->args[0], a->args[1], &held);

	if (rc == ROVE_OK && a->reply->len == 0 && !held) {
		rc = code_get(a, a->args[1], &id);
		if (rc == ROVE_ENOTFOUND)
			return refuse(a, ROVE_ENOTFOUND, "no territory '%s'", a->args[1]);
	}
	if (rc == ROVE_OK && a->reply->len == 0 && !held)
		return refuse(a, ROVE_ENOTFOUND, "%s does not hold %s; nothing changed", a->args[0], a->args[1]);
	if (rc == ROVE_OK && a->reply->len == 0)
		rc = set_assignment(a, a->args[0], a->args[1], false);
	if (rc == ROVE_OK && a->reply->len == 0)
		rc = answer_left(a, a->args[0], a->args[1]);
	return rc;
}

/* Moves one customer to user `to` (checked by the caller). */
static int reassign_one(admin_ctx *a, const rove_uuid *id, const char *to, rove_push_result *r)
{
	rove_op *op = malloc(sizeof(*op));
	rove_stamp st = {{0}, a->e->st.node};
	int rc;

	if (op == NULL)
		return ROVE_ENOMEM;
	rove_op_init(op, ROVE_OP_REASSIGN, ROVE_COLL_CUSTOMER, id, st); /* stamped when applied */
	rc = rove_op_set(op, "owner", rove_vcstr(to));
	if (rc == ROVE_OK)
		rc = apply_system(a, op, r);
	free(op);
	return rc;
}

/* Gives deal id to user `to` (NULL: nobody), as the server's own change
 * of owner by the one who reassigns (rove_policy_deals_left decided it):
 * kept in the deal's history as any. */
static int deal_owner_set(const rove_uuid *id, const char *to, void *arg)
{
	admin_ctx *a = arg;
	rove_op *op = malloc(sizeof(*op));
	rove_stamp st = {{0}, a->e->st.node};
	rove_push_result r;
	char sid[ROVE_UUID_STRLEN + 1];
	int rc;

	if (op == NULL)
		return ROVE_ENOMEM;
	rove_op_init(op, ROVE_OP_UPDATE, ROVE_COLL_OPPORTUNITY, id, st); /* stamped when applied */
	rc = rove_op_set(op, "owner", to != NULL ? rove_vcstr(to) : rove_vnull());
	if (rc == ROVE_OK)
		rc = apply_system(a, op, &r);
	if (rc == ROVE_OK && r.status != ROVE_PUSH_ACCEPTED) { /* its record refuses it: logged, left */
		rove_uuid_format(id, sid);
		rove_warn("deal %s stays with its owner: %s", sid, r.detail);
	}
	free(op);
	return rc;
}

/* Answers a policy's refusal as an error reply. */
static int refuse_verdict(admin_ctx *a, const char *what, const rove_verdict *v)
{
	int code = v->reason == ROVE_R_INVALID ? ROVE_EINVAL : ROVE_EPERM;

	if (what != NULL)
		return refuse(a, code, "%s: %s", what, v->detail);
	return refuse(a, code, "%s", v->detail);
}

/* To a manager, a user outside his reach reads as no user at all, and a
 * territory outside his subtree as no territory (RULES.md, "What a
 * refusal says"): the same words whether it exists or not. *seen false:
 * the refusal is written. Others see everything: *seen true. A user
 * who owns a customer, or an open deal where he no longer works, in
 * territory owns_in or below it (not NULL: one the manager reaches) is
 * seen too: the records say so (one who moved away, or was unassigned
 * before his book was handed over). */
static int manager_sees_user(admin_ctx *a, const char *login, const char *owns_in, bool *seen)
{
	rove_policy_ctx pc = rove_engine_policy(a->e, a->txn);
	rove_user *t;
	bool visible = false;
	int rc;

	*seen = true;
	if (a->u->role != ROVE_ROLE_MANAGER)
		return ROVE_OK;
	t = malloc(2 * sizeof(*t)); /* the user and the view of it */
	if (t == NULL)
		return ROVE_ENOMEM;
	rc = get_user(a, login, &t[0], NULL);
	if (rc == ROVE_OK)
		rc = rove_policy_user_view(&pc, a->u, &t[0], &visible, &t[1]);
	else if (rc == ROVE_ENOTFOUND)
		rc = ROVE_OK;
	free(t);
	if (rc == ROVE_OK && !visible && owns_in != NULL)
		rc = rove_policy_has_left(&pc, login, owns_in, &visible);
	if (rc == ROVE_OK && !visible) {
		*seen = false;
		return no_user(a, login, true);
	}
	return rc;
}

static int manager_sees_territory(admin_ctx *a, const char *code, bool *seen)
{
	rove_policy_ctx pc = rove_engine_policy(a->e, a->txn);
	rove_uuid id;
	bool in = false;
	int rc;

	*seen = true;
	if (a->u->role != ROVE_ROLE_MANAGER)
		return ROVE_OK;
	rc = code_get(a, code, &id);
	if (rc == ROVE_OK)
		rc = rove_policy_in_reach(&pc, a->u, code, &in);
	if (rc == ROVE_ENOTFOUND)
		rc = ROVE_OK;
	if (rc == ROVE_OK && !in) {
		*seen = false;
		return refuse(a, ROVE_ENOTFOUND, "no territory '%s' in your territories", code);
	}
	return rc;
}

static int cmd_reassign_customer(admin_ctx *a)
{
	rove_policy_ctx pc = rove_engine_policy(a->e, a->txn);
	rove_record *rec;
	rove_verdict v;
	rove_uuid id;
	rove_push_result r;
	char what[ROVE_MAX_ADMIN_ARG + 16];
	const char *owner;
	bool found, same, seen;
	int rc;

	if (rove_uuid_parse(a->args[0], &id) != ROVE_OK)
		return refuse(a, ROVE_EINVAL, "invalid customer id '%s'", a->args[0]);
	rc = manager_sees_user(a, a->args[1], NULL, &seen);
	if (rc != ROVE_OK || !seen)
		return rc;
	rec = malloc(sizeof(*rec));
	if (rec == NULL)
		return ROVE_ENOMEM;
	rc = rove_store_record_get(&a->e->st, a->txn, ROVE_COLL_CUSTOMER, &id, rec);
	found = rc == ROVE_OK;
	if (rc == ROVE_OK || rc == ROVE_ENOTFOUND)
		rc = rove_policy_reassign(&pc, a->u, found ? rec : NULL, a->args[1], &v);
	owner = found ? rove_fields_str(&rec->fs, "owner") : NULL;
	same = owner != NULL && strcmp(owner, a->args[1]) == 0;
	free(rec);
	if (rc != ROVE_OK)
		return rc;
	snprintf(what, sizeof(what), "customer %s", a->args[0]);
	if (v.reason != ROVE_R_NONE)
		return refuse_verdict(a, what, &v);
	if (same)
		return refuse(a, ROVE_EEXIST, "customer %s is %s's already; nothing changed", a->args[0], a->args[1]);
	rc = reassign_one(a, &id, a->args[1], &r);
	if (rc == ROVE_OK && r.status != ROVE_PUSH_ACCEPTED) /* decided above: said if not */
		return refuse(a, ROVE_EPERM, "%s: %s", what, r.detail);
	if (rc == ROVE_OK)
		rc = answer(a, NULL, 0);
	return rc;
}

/* Ids collected (the caller frees ids). */
typedef struct id_list {
	rove_uuid *ids;
	size_t n, cap;
} id_list;

static int collect_id(const rove_record *rec, void *arg)
{
	id_list *l = arg;
	rove_uuid *p = rove_array_room(l->ids, l->n, &l->cap, sizeof(*p));

	if (p == NULL)
		return ROVE_ENOMEM;
	l->ids = p;
	l->ids[l->n++] = rec->id;
	return ROVE_OK;
}

/* A handover's customers below its territory (rove_policy_owned_below):
 * those `to` may own join the list moved; the others are counted, the
 * first one's territory kept for the refusal. */
typedef struct below_list {
	id_list *moving;
	size_t stuck;
	char where[ROVE_MAX_NAME + 1];
} below_list;

static int collect_below(const rove_record *c, bool to_may, void *arg)
{
	below_list *b = arg;

	if (to_may)
		return collect_id(c, b->moving);
	if (b->stuck++ == 0)
		snprintf(b->where, sizeof(b->where), "%s", rove_fields_str(&c->fs, "territory"));
	return ROVE_OK;
}

static int count_deal(const rove_uuid *deal, const char *owner, void *arg)
{
	(void)deal;
	(void)owner;
	(*(size_t *)arg)++;
	return ROVE_OK;
}

static int cmd_reassign_territory(admin_ctx *a)
{
	const char *code = a->args[0], *from = a->args[1], *to = a->args[2];
	rove_policy_ctx pc = rove_engine_policy(a->e, a->txn);
	char line[64];
	const char *lines[1] = {line};
	id_list moving = {NULL, 0, 0};
	below_list below = {&moving, 0, ""};
	size_t ndeals = 0;
	rove_user fu, tu = {0};
	rove_verdict v;
	uint8_t fhash[ROVE_HASH_BYTES];
	bool had, seen;
	int rc;

	if (strcmp(from, to) == 0)
		return refuse(a, ROVE_EEXIST, "%s to %s: nothing changed", from, to);
	rc = manager_sees_territory(a, code, &seen);
	if (rc == ROVE_OK && seen)
		rc = manager_sees_user(a, from, code, &seen);
	if (rc == ROVE_OK && seen)
		rc = manager_sees_user(a, to, NULL, &seen);
	if (rc != ROVE_OK || !seen)
		return rc;
	rc = get_user(a, from, &fu, fhash);
	if (rc == ROVE_ENOTFOUND)
		return no_user(a, from, false);
	if (rc == ROVE_OK)
		rc = rove_policy_reassign_territory(&pc, a->u, code, &fu, to, &v);
	if (rc != ROVE_OK)
		return rc;
	if (v.reason != ROVE_R_NONE)
		return refuse_verdict(a, NULL, &v);
	had = false;
	for (uint32_t i = 0; i < fu.nterr; i++)
		had = had || strcmp(fu.terr[i], code) == 0;
	rc = get_user(a, to, &tu, NULL);
	if (rc != ROVE_OK)
		return rc;
	if (had) { /* refused before anything is written, not half way */
		bool has = false;
		for (uint32_t i = 0; i < tu.nterr; i++)
			has = has || strcmp(tu.terr[i], code) == 0;
		if (!has && tu.nterr >= ROVE_MAX_USER_TERRITORIES)
			return refuse(a, ROVE_ETOOBIG, "a user holds at most %u territories", ROVE_MAX_USER_TERRITORIES);
	}

	/* The customers `from` owns in the territory: collect, then move. */
	rc = rove_policy_each_owned(&pc, from, code, collect_id, &moving);
	/* A manager's customers below it that he will no longer reach go
	 * too where `to` may own them; else nothing is done (RULES.md, rule
	 * 7: an owner works where his customers are). So when he was
	 * unassigned from the territory first, too. */
	if (rc == ROVE_OK)
		rc = rove_policy_owned_below(&pc, &fu, code, &tu, had, collect_below, &below);
	if (rc == ROVE_OK && !had && moving.n == 0) /* unassigned first: his deals there may be left */
		rc = rove_policy_deals_left(&pc, from, code, to, count_deal, &ndeals);
	if (rc == ROVE_OK && below.stuck > 0) {
		free(moving.ids);
		return refuse(a, ROVE_EINVAL,
			      "%s owns %zu customer(s) below %s that he does not reach without it and %s may not own (in "
			      "%s first): hand them over first ('rove admin reassign --territory %s --from %s --to USER')",
			      from, below.stuck, code, to, below.where, below.where, from);
	}
	if (rc == ROVE_OK && !had && moving.n == 0 && ndeals == 0) {
		free(moving.ids);
		return refuse(a, ROVE_ENOTFOUND,
			      "%s neither holds %s nor owns a customer or an open deal there; nothing changed", from,
			      code);
	}
	/* The territory's assignment moves with its customers. */
	if (rc == ROVE_OK && had) {
		rc = set_assignment(a, from, code, false);
		if (rc == ROVE_OK && a->reply->len == 0)
			rc = set_assignment(a, to, code, true);
	}
	for (size_t i = 0; rc == ROVE_OK && a->reply->len == 0 && i < moving.n; i++) {
		rove_push_result r;
		char sid[ROVE_UUID_STRLEN + 1];
		rc = reassign_one(a, &moving.ids[i], to, &r);
		if (rc == ROVE_OK && r.status != ROVE_PUSH_ACCEPTED) { /* all or nothing (run_whole) */
			rove_uuid_format(&moving.ids[i], sid);
			rc = refuse(a, ROVE_EPERM, "customer %s: %s; nothing changed", sid, r.detail);
		}
	}
	/* from's open deals on others' customers there and below (a manager
	 * named him their owner) go too where he no longer works (rule 14),
	 * whether he held the territory until now or was unassigned first. */
	if (rc == ROVE_OK && a->reply->len == 0)
		rc = rove_policy_deals_left(&pc, from, code, to, deal_owner_set, a);
	free(moving.ids);
	if (rc != ROVE_OK || a->reply->len != 0)
		return rc; /* a refusal from set_assignment is the answer */
	snprintf(line, sizeof(line), "%zu", moving.n);
	return answer(a, lines, 1);
}

/* ---- users ---- */

/* A user as the reply to user.list and user.show carries them: a line
 * "LOGIN ROLE enabled|disabled LAST_SYNC_MS TERRITORIES", then one line
 * per territory code (logins and codes hold no spaces). */
typedef struct user_lines {
	rove_buf text; /* the lines, each NUL-terminated */
	uint32_t n;
} user_lines;

static int add_line(user_lines *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int add_line(user_lines *l, const char *fmt, ...)
{
	char line[ROVE_MAX_ADMIN_ARG + 64];
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ROVE_ASSERT(w >= 0 && (size_t)w < sizeof(line)); /* names and numbers only */
	l->n++;
	return rove_buf_append(&l->text, line, (size_t)w + 1);
}

static int add_user(user_lines *l, const rove_user *t)
{
	int rc = add_line(l, "%s %s %s %llu %u", t->name, rove_role_name(t->role), t->disabled ? "disabled" : "enabled",
			  (unsigned long long)t->synced_ms, t->nterr);

	for (uint32_t i = 0; rc == ROVE_OK && i < t->nterr; i++)
		rc = add_line(l, "%s", t->terr[i]);
	return rc;
}

/* Answers with the lines of l, or refuses when they would not fit in one
 * reply. */
static int answer_lines(admin_ctx *a, const user_lines *l)
{
	const char **lines = l->n > 0 ? malloc(l->n * sizeof(*lines)) : NULL;
	const char *p = (const char *)l->text.data;
	int rc;

	if (l->n > 0 && lines == NULL)
		return ROVE_ENOMEM;
	for (uint32_t i = 0; i < l->n; i++) {
		lines[i] = p;
		p += strlen(p) + 1;
	}
	rc = answer(a, lines, l->n);
	free(lines);
	if (rc == ROVE_OK && a->reply->len > ROVE_MAX_MSG_BYTES)
		rc = refuse(a, ROVE_ETOOBIG, "more users than one reply holds (%u lines)", l->n);
	return rc;
}

/* Whether the requesting user may see t; *view is t as they see it. */
static int user_view(admin_ctx *a, const rove_user *t, bool *visible, rove_user *view)
{
	rove_policy_ctx pc = rove_engine_policy(a->e, a->txn);

	return rove_policy_user_view(&pc, a->u, t, visible, view);
}

typedef struct list_ctx {
	admin_ctx *a;
	user_lines lines;
	rove_user t, view;
} list_ctx;

static int list_one(const char *login, int role, void *arg)
{
	list_ctx *lc = arg;
	bool visible;
	int rc;

	(void)role;
	rc = get_user(lc->a, login, &lc->t, NULL);
	if (rc == ROVE_OK)
		rc = user_view(lc->a, &lc->t, &visible, &lc->view);
	if (rc == ROVE_OK && visible)
		rc = add_user(&lc->lines, &lc->view);
	return rc;
}

static int cmd_user_list(admin_ctx *a)
{
	list_ctx *lc = malloc(sizeof(*lc));
	int rc;

	if (lc == NULL)
		return ROVE_ENOMEM;
	lc->a = a;
	lc->lines.n = 0;
	rove_buf_init(&lc->lines.text);
	rc = rove_store_each_user(&a->e->st, a->txn, list_one, lc);
	if (rc == ROVE_OK)
		rc = answer_lines(a, &lc->lines);
	rove_buf_free(&lc->lines.text);
	free(lc);
	return rc;
}

/* The user named login, if the requesting user may see them (else a
 * refusal: nobody learns of a user outside their reach). Writes a reply
 * only to refuse. */
static int visible_user(admin_ctx *a, const char *login, rove_user *t, uint8_t hash[ROVE_HASH_BYTES],
			rove_user *view)
{
	bool visible = false;
	int rc = get_user(a, login, t, hash);

	if (rc == ROVE_OK)
		rc = user_view(a, t, &visible, view);
	if (rc == ROVE_ENOTFOUND || (rc == ROVE_OK && !visible))
		return no_user(a, login, a->u->role != ROVE_ROLE_ADMIN);
	return rc;
}

static int cmd_user_show(admin_ctx *a)
{
	user_lines lines = {{0}, 0};
	rove_user *t = malloc(2 * sizeof(*t));
	int rc = t != NULL ? ROVE_OK : ROVE_ENOMEM;

	rove_buf_init(&lines.text);
	if (rc == ROVE_OK)
		rc = visible_user(a, a->args[0], &t[0], NULL, &t[1]);
	if (rc == ROVE_OK && a->reply->len == 0)
		rc = add_user(&lines, &t[1]);
	if (rc == ROVE_OK && a->reply->len == 0)
		rc = answer_lines(a, &lines);
	rove_buf_free(&lines.text);
	free(t);
	return rc;
}

/* user.disable and user.enable: the policy says who may; one that
 * changes nothing is refused, saying so. */
static int set_disabled(admin_ctx *a, bool disable)
{
	rove_policy_ctx pc = rove_engine_policy(a->e, a->txn);
	uint8_t hash[ROVE_HASH_BYTES];
	rove_verdict v;
	rove_user t;
	int rc = get_user(a, a->args[0], &t, hash);

	if (rc == ROVE_ENOTFOUND)
		return no_user(a, a->args[0], false);
	if (rc != ROVE_OK)
		return rc;
	if (t.disabled == disable)
		return refuse(a, ROVE_EEXIST, "user '%s' is %s; nothing changed", t.name,
			      disable ? "already disabled" : "not disabled");
	rc = rove_policy_user_disable(&pc, a->u, &t, disable, &v);
	if (rc != ROVE_OK)
		return rc;
	if (v.reason != ROVE_R_NONE)
		return refuse_verdict(a, NULL, &v);
	t.disabled = disable;
	rc = rove_store_user_put(&a->e->st, a->txn, &t, hash);
	if (rc == ROVE_OK)
		rove_info("user %s %s by %s", t.name, disable ? "disabled" : "enabled", a->u->name);
	return rc == ROVE_OK ? answer(a, NULL, 0) : rc;
}

static int cmd_user_disable(admin_ctx *a)
{
	return set_disabled(a, true);
}

static int cmd_user_enable(admin_ctx *a)
{
	return set_disabled(a, false);
}

/* user.token LOGIN: a new token, from the same source as roved init's;
 * only its hash is kept, so the old one stops working at once. */
static int cmd_user_token(admin_ctx *a)
{
	char token[ROVE_TOKEN_HEX + 1];
	uint8_t hash[ROVE_HASH_BYTES];
	const char *line = token;
	rove_user t;
	int rc = get_user(a, a->args[0], &t, hash);

	if (rc == ROVE_ENOTFOUND)
		return no_user(a, a->args[0], false);
	if (rc == ROVE_OK)
		rc = rove_token_new(token);
	if (rc != ROVE_OK)
		return rc;
	rove_token_hash(token, hash);
	rc = rove_store_user_put(&a->e->st, a->txn, &t, hash);
	if (rc != ROVE_OK)
		return rc;
	rove_info("new token for user %s, made by %s", t.name, a->u->name);
	return answer(a, &line, 1);
}

static int cmd_import(admin_ctx *a)
{
	return rove_admin_import(a->e, a->txn, a->u, a->cmd, a->args, a->nargs, a->reply);
}

/* remember: the command changes what the server holds, so its answer to
 * a request with an id is kept with the change (the same transaction)
 * and given again when the same request comes back (a client that lost
 * the connection before the answer sends it again). The others are
 * reads, or do the same however often they come (import.rows stages a
 * piece once, import.end forgets an import), and are simply run again. */
static const struct admin_cmd {
	const char *name;
	uint32_t min_args, max_args;
	int act; /* enum rove_policy_act: who may run it is the policy's call */
	int (*fn)(admin_ctx *);
	bool remember;
} commands[] = {
	{"user.add", 2, 2 + ROVE_MAX_USER_TERRITORIES, ROVE_ACT_ADMINISTER, cmd_user_add, true},
	{"user.list", 0, 0, ROVE_ACT_SEE_USERS, cmd_user_list, false},
	{"user.show", 1, 1, ROVE_ACT_SEE_USERS, cmd_user_show, false},
	{"user.disable", 1, 1, ROVE_ACT_ADMINISTER, cmd_user_disable, true},
	{"user.enable", 1, 1, ROVE_ACT_ADMINISTER, cmd_user_enable, true},
	{"user.token", 1, 1, ROVE_ACT_ADMINISTER, cmd_user_token, true},
	{"territory.add", 2, 3, ROVE_ACT_ADMINISTER, cmd_territory_add, true},
	{"territory.set", 2, ROVE_MAX_ADMIN_ARGS, ROVE_ACT_ADMINISTER, cmd_territory_set, true},
	{"assign", 2, 2, ROVE_ACT_ADMINISTER, cmd_assign, true},
	{"unassign", 2, 2, ROVE_ACT_ADMINISTER, cmd_unassign, true},
	{"reassign.customer", 2, 2, ROVE_ACT_REASSIGN, cmd_reassign_customer, true},
	{"reassign.territory", 3, 3, ROVE_ACT_REASSIGN, cmd_reassign_territory, true},
	/* rove admin import territories|users (admin_import.c); begin makes
	 * a staged import (in memory) and names it: one per request */
	{"import.begin", 1, 1, ROVE_ACT_ADMINISTER, cmd_import, true},
	{"import.rows", 2 + ROVE_ADMIN_IMPORT_ARITY, ROVE_MAX_ADMIN_ARGS, ROVE_ACT_ADMINISTER, cmd_import, false},
	{"import.commit", 1, 1, ROVE_ACT_ADMINISTER, cmd_import, true},
	{"import.check", 1, 1, ROVE_ACT_ADMINISTER, cmd_import, false},
	{"import.end", 1, 1, ROVE_ACT_ADMINISTER, cmd_import, false},
};

/* Runs a command that writes in a transaction of its own, nested in the
 * request's: a refusal undoes whatever it wrote before it (a
 * reassignment that moved the territory and then refused a customer
 * leaves neither moved), as does an error; the oplog's head goes back
 * with it. The batch's policy memo is not kept up to date by a nested
 * transaction's writes (a territory's rules): it starts anew. */
static int run_whole(admin_ctx *a, int (*fn)(admin_ctx *))
{
	MDB_txn *parent = a->txn, *child = NULL;
	uint64_t head = a->e->head;
	int rc = rove_db_err(mdb_txn_begin(a->e->st.env, parent, 0, &child), "begin nested");

	if (rc != ROVE_OK)
		return rc;
	a->txn = child;
	rc = fn(a);
	a->txn = parent;
	rove_policy_memo_reset(&a->e->memo);
	if (rc == ROVE_OK && !a->refused)
		return rove_db_err(mdb_txn_commit(child), "commit nested");
	mdb_txn_abort(child);
	a->e->head = head;
	return rc;
}

/* What an admin request asks, which its kept answer is bound to (seal.h):
 * the command and each argument, each after its length (4 bytes, big
 * endian), into out. */
static int asked_of(const char *cmd, const arg_t *args, uint32_t nargs, rove_buf *out)
{
	int rc = ROVE_OK;

	rove_buf_reset(out);
	for (uint32_t i = 0; rc == ROVE_OK && i <= nargs; i++) {
		const char *s = i == 0 ? cmd : args[i - 1];
		size_t len = strlen(s);
		uint8_t n[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};
		rc = rove_buf_append(out, n, sizeof(n));
		if (rc == ROVE_OK)
			rc = rove_buf_append(out, s, len);
	}
	return rc;
}

/* The kept answer of login's request m (id and what it asks: args),
 * opened with the token it came with, into reply: ROVE_OK; ROVE_ENOTFOUND
 * when none is kept; ROVE_EPERM or ROVE_EPROTO when one is kept that does
 * not open so (another token, another request under that id). */
static int answered_before(rove_engine *e, MDB_txn *txn, const char *login, const rove_msg *m, const arg_t *args,
			   uint32_t nargs, rove_buf *reply)
{
	rove_buf kept, asked;
	int rc;

	rove_buf_init(&kept);
	rove_buf_init(&asked);
	rc = rove_store_admreq_get(&e->st, txn, &m->u.admin.request, login, &kept);
	if (rc == ROVE_OK)
		rc = asked_of(m->u.admin.cmd, args, nargs, &asked);
	if (rc == ROVE_OK)
		rc = rove_unseal(m->auth.token, &m->u.admin.request, asked.data, asked.len, kept.data, kept.len, reply);
	rove_buf_free(&kept);
	rove_buf_free(&asked);
	return rc;
}

/* m's arguments into args (at most ROVE_MAX_ADMIN_ARGS: the decoder's
 * bound), read from a copy of m (m's are read again); their count. */
static uint32_t args_of(const rove_msg *m, arg_t *args)
{
	rove_msg copy = *m;
	const char *s;
	uint32_t len, n = 0;

	while (n < ROVE_MAX_ADMIN_ARGS && rove_msg_next_str(&copy, &s, &len) == ROVE_OK) {
		memcpy(args[n], s, len);
		args[n][len] = '\0';
		n++;
	}
	return n;
}

int rove_admin_replay(rove_engine *e, MDB_txn *txn, const rove_msg *m, rove_buf *reply)
{
	static arg_t args[ROVE_MAX_ADMIN_ARGS]; /* the writer thread only */
	uint32_t nargs;
	int rc;

	if (m->type != ROVE_MSG_ADMIN || !m->u.admin.has_request)
		return ROVE_ENOTFOUND;
	nargs = args_of(m, args);
	rc = answered_before(e, txn, m->auth.user, m, args, nargs, reply);
	if (rc == ROVE_OK)
		rove_info("%s's admin request %s answered again (done once, with the token it came with)",
			  ROVE_LOG_NAME(m->auth.user), m->u.admin.cmd);
	else
		rove_buf_reset(reply);
	return rc == ROVE_OK ? ROVE_OK : ROVE_ENOTFOUND;
}

int rove_admin(rove_engine *e, MDB_txn *txn, const rove_user *u, rove_msg *m, rove_buf *reply)
{
	static arg_t args[ROVE_MAX_ADMIN_ARGS]; /* the writer thread only */
	admin_ctx a = {e, txn, u, args, 0, reply, m->u.admin.cmd, false};

	rove_buf_reset(reply);
	a.nargs = args_of(m, args);
	/* A request answered before (its answer lost on the way): the same
	 * answer, nothing done. Looked up by id and user: another user's
	 * request of the same id is another request. (rove_admin_replay
	 * answered it already unless its look-up failed; here a kept
	 * answer that does not open is refused, saying why.) */
	if (m->u.admin.has_request) {
		int rc = answered_before(e, txn, u->name, m, args, a.nargs, reply);
		if (rc == ROVE_OK) {
			rove_info("%s's admin request %s answered again (done once)", u->name, m->u.admin.cmd);
			return ROVE_OK;
		}
		/* kept under the token the user had then, for what was asked
		 * then (attack seventy-four: an id used again for another
		 * command got the first one's answer), or, after a
		 * downgrade, in the clear by a roved before seals */
		if (rc == ROVE_EPERM || rc == ROVE_EPROTO)
			return refuse(&a, ROVE_EPERM,
				      "%s: a request of this id was done before, with another token or for another "
				      "command or arguments; nothing was done now",
				      m->u.admin.cmd);
		if (rc != ROVE_ENOTFOUND)
			return rc;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct admin_cmd *c = &commands[i];
		rove_verdict v;
		uint64_t head;
		int rc;
		if (strcmp(m->u.admin.cmd, c->name) != 0)
			continue;
		rc = rove_policy_may(u, c->act, &v);
		if (rc != ROVE_OK)
			return rc;
		if (v.reason != ROVE_R_NONE)
			return refuse(&a, ROVE_EPERM, "not allowed: %s (you are %s)", v.detail, rove_role_with_article(u->role));
		if (a.nargs < c->min_args || a.nargs > c->max_args)
			return refuse(&a, ROVE_EINVAL, "%s: wrong number of arguments", c->name);
		/* A manager's reassignment makes as many changes as the
		 * customers it moves, each pulled by every replica in scope:
		 * held to his rate as his pushes are (attack seventy-eight:
		 * 156,000 ops in 5 s, moving 2,000 customers back and forth). */
		if (c->remember && !rove_engine_rate_take(e, u, 1, 1, reply))
			return ROVE_OK;
		head = e->head;
		rc = c->remember ? run_whole(&a, c->fn) : c->fn(&a);
		if (c->remember && e->head > head)
			rove_engine_rate_charge(e, u, e->head - head - 1);
		/* Its answer, a refusal too, kept in this transaction, sealed
		 * (seal.h: it may hold new users' tokens). */
		if (rc == ROVE_OK && c->remember && m->u.admin.has_request && reply->len > 0) {
			rove_buf sealed;
			rove_buf_init(&sealed);
			rove_buf asked;
			rove_buf_init(&asked);
			rc = asked_of(m->u.admin.cmd, args, a.nargs, &asked);
			if (rc == ROVE_OK)
				rc = rove_seal(m->auth.token, &m->u.admin.request, asked.data, asked.len, reply->data,
					       reply->len, &sealed);
			rove_buf_free(&asked);
			if (rc == ROVE_OK)
				rc = rove_store_admreq_put(&e->st, txn, &m->u.admin.request, u->name,
							   rove_engine_now_ms(e), sealed.data, sealed.len);
			rove_buf_free(&sealed);
		}
		return rc;
	}
	return refuse(&a, ROVE_EINVAL, "unknown admin command '%s'", m->u.admin.cmd);
}

/* ---- conflicts ---- */

typedef struct conflicts_ctx {
	rove_engine *e;
	MDB_txn *txn;
	rove_buf items;
	uint32_t n, max;
	uint32_t budget; /* the reply's bytes of items */
	bool more;
	rove_rejection *rj;
	char author[ROVE_MAX_NAME + 1]; /* the last item's, and its drops */
	uint64_t dropped;
} conflicts_ctx;

static int add_conflict(uint64_t num, const MDB_val *v, void *arg)
{
	conflicts_ctx *cc = arg;
	rove_reject_usage usage;
	int rc;

	if (cc->n >= cc->max || cc->items.len >= cc->budget) {
		cc->more = true;
		return ROVE_EEXIST; /* full: the client asks again after the last */
	}
	rc = rove_dec_rejection(v->mv_data, v->mv_size, cc->rj);
	if (rc != ROVE_OK) {
		rove_error("corrupt entry %llu in the rejects table", (unsigned long long)num);
		return ROVE_EPROTO;
	}
	if (strcmp(cc->rj->op.author, cc->author) != 0) {
		rc = rove_store_reject_usage(&cc->e->st, cc->txn, cc->rj->op.author, &usage);
		if (rc != ROVE_OK)
			return rc;
		snprintf(cc->author, sizeof(cc->author), "%s", cc->rj->op.author);
		cc->dropped = usage.dropped;
	}
	rc = rove_enc_conflict_raw(&cc->items, num, cc->rj->time_ms, cc->rj->reason, cc->rj->detail, cc->dropped,
				   cc->rj->op_raw, cc->rj->op_rawlen);
	if (rc == ROVE_OK)
		cc->n++;
	return rc;
}

int rove_conflicts(rove_engine *e, MDB_txn *txn, const rove_user *u, const rove_conflicts_req *q, bool lean,
		   rove_buf *reply)
{
	conflicts_ctx cc;
	rove_user_scopes *us;
	int rc;

	memset(&cc, 0, sizeof(cc));
	cc.e = e;
	cc.txn = txn;
	cc.max = q->max == 0 || q->max > ROVE_MAX_PULL_ITEMS ? ROVE_MAX_PULL_ITEMS : q->max;
	/* past the cap on replies queued, lean as a pull's (attack
	 * seventy-seven: 4 MiB lists of conflicts never read took roved to
	 * 2.9 GB) */
	cc.budget = lean ? ROVE_LEAN_CHUNK_BYTES : ROVE_PULL_CHUNK_BYTES;
	rove_buf_init(&cc.items);
	cc.rj = malloc(sizeof(*cc.rj));
	us = malloc(sizeof(*us));
	rc = cc.rj != NULL && us != NULL ? ROVE_OK : ROVE_ENOMEM;
	if (rc == ROVE_OK) {
		rove_policy_ctx pc = rove_engine_policy_read(e, txn);
		rc = rove_policy_conflict_scopes(&pc, u, us);
	}
	/* Through the index of the scopes u may list: the cost of what it
	 * returns, not of every refusal kept. */
	if (rc == ROVE_OK && q->after != UINT64_MAX)
		rc = rove_store_reject_each(&e->st, txn, us->all ? NULL : us->s, us->n, q->after, add_conflict, &cc);
	if (rc == ROVE_EEXIST)
		rc = ROVE_OK;
	if (rc == ROVE_OK) {
		rove_buf_reset(reply);
		rc = rove_enc_conflicts_reply(reply, cc.more, cc.n, &cc.items);
	}
	rove_buf_free(&cc.items);
	free(cc.rj);
	free(us);
	return rc;
}
