/*
 * admin.c - administration requests and the conflict list.
 *
 * One table of commands, each with its argument count and who may run it,
 * checked once before any handler runs. Changes to records (territories,
 * reassignments) go through the engine like any op, as the server's own
 * ops, so they are ordered, logged and replicated like everything else.
 */
#include "engine_int.h"

#include "db.h"
#include "err.h"
#include "log.h"
#include "schema.h"

#include <ctype.h>
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
} admin_ctx;

/* Answers with a refusal; the request "succeeded" as a request. */
static int refuse(admin_ctx *a, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int refuse(admin_ctx *a, int code, const char *fmt, ...)
{
	char text[ROVE_MAX_ERRMSG + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	rove_engine_error(a->reply, code, text);
	return ROVE_OK;
}

static int answer(admin_ctx *a, const char *const *lines, uint32_t n)
{
	rove_buf_reset(a->reply);
	return rove_enc_admin_reply(a->reply, lines, n);
}

static bool valid_name(const char *s, const char *extra)
{
	size_t len = strlen(s);

	if (len == 0 || len > ROVE_MAX_NAME)
		return false;
	for (const char *p = s; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr(extra, *p) == NULL)
			return false;
	return true;
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

/* Every user's replica must refetch its scope: bump the epoch of those
 * matching role (0: all). The names are collected first, in one walk of
 * the users table, and written after: no cursor survives our writes, and
 * a walk that stops and resumes is where users get skipped. */
static int bump_epochs(admin_ctx *a, int role)
{
	typedef char name_t[ROVE_MAX_NAME + 1];
	name_t *names = NULL;
	size_t n = 0, cap = 0;
	MDB_cursor *c;
	MDB_val k, v;
	int rc = rove_db_err(mdb_cursor_open(a->txn, a->e->st.users, &c), "cursor");
	int mrc;

	if (rc != ROVE_OK)
		return rc;
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0; mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size == 0 || k.mv_size > ROVE_MAX_NAME || v.mv_size == 0) {
			rc = ROVE_EPROTO; /* rove_store_user_put writes neither */
			break;
		}
		if (role != 0 && ((const uint8_t *)v.mv_data)[0] != role)
			continue;
		if (n == cap) {
			size_t ncap = cap != 0 ? 2 * cap : 64;
			name_t *p = realloc(names, ncap * sizeof(*p));
			if (p == NULL) {
				rc = ROVE_ENOMEM;
				break;
			}
			names = p;
			cap = ncap;
		}
		memcpy(names[n], k.mv_data, k.mv_size);
		names[n][k.mv_size] = '\0';
		n++;
	}
	if (rc == ROVE_OK && mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, "users");
	mdb_cursor_close(c);
	for (size_t i = 0; rc == ROVE_OK && i < n; i++) {
		rove_user u;
		uint8_t hash[ROVE_HASH_BYTES];
		rc = get_user(a, names[i], &u, hash);
		if (rc == ROVE_OK) {
			u.epoch++;
			rc = rove_store_user_put(&a->e->st, a->txn, &u, hash);
		}
	}
	free(names);
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

	if (!valid_name(a->args[0], "._-@"))
		return refuse(a, ROVE_EINVAL, "invalid user name '%s' (letters, digits and . _ - @, at most 64)",
			      a->args[0]);
	if (strcmp(a->args[0], ROVE_SYSTEM_USER) == 0)
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
	snprintf(u.name, sizeof(u.name), "%s", a->args[0]);
	u.role = rove_role_parse(a->args[1]);
	u.epoch = 1;
	u.nterr = 0;
	for (uint32_t i = 2; i < a->nargs; i++) {
		rove_uuid id;
		if (rove_store_code_get(&a->e->st, a->txn, a->args[i], &id) != ROVE_OK)
			return refuse(a, ROVE_ENOTFOUND, "no territory '%s'", a->args[i]);
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

	if (!valid_name(code, "._-"))
		return refuse(a, ROVE_EINVAL, "invalid territory code '%s' (letters, digits and . _ -)", code);
	if (name[0] == '\0' || strlen(name) > 200)
		return refuse(a, ROVE_EINVAL, "a territory needs a name of at most 200 bytes");
	if (rove_store_code_get(&a->e->st, a->txn, code, &id) == ROVE_OK)
		return refuse(a, ROVE_EEXIST, "territory '%s' already exists", code);
	if (parent != NULL && rove_store_code_get(&a->e->st, a->txn, parent, &id) != ROVE_OK)
		return refuse(a, ROVE_ENOTFOUND, "no parent territory '%s'", parent);
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
	if (rc == ROVE_OK)
		rc = rove_store_code_put(&a->e->st, a->txn, code, &id);
	if (rc == ROVE_OK)
		rc = apply_system(a, op, &r);
	free(op);
	/* Managers above it now see one more territory. */
	if (rc == ROVE_OK && parent != NULL)
		rc = bump_epochs(a, ROVE_ROLE_MANAGER);
	if (rc != ROVE_OK)
		return rc;
	rove_uuid_format(&id, ids);
	return answer(a, &line, 1);
}

/* territory.set CODE FIELD=VALUE...: names and pool policies. */
static int cmd_territory_set(admin_ctx *a)
{
	const rove_coll_def *c = rove_schema_coll(ROVE_COLL_TERRITORY);
	rove_stamp st = {{0}, a->e->st.node};
	rove_push_result r;
	rove_uuid id;
	rove_op *op;
	int rc;

	if (rove_store_code_get(&a->e->st, a->txn, a->args[0], &id) != ROVE_OK)
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
	rc = apply_system(a, op, &r);
	free(op);
	if (rc == ROVE_OK)
		rc = answer(a, NULL, 0);
	return rc;
}

static int set_assignment(admin_ctx *a, const char *login, const char *code, bool assign)
{
	rove_user u;
	uint8_t hash[ROVE_HASH_BYTES];
	rove_uuid id;
	uint32_t at = 0;
	int rc = get_user(a, login, &u, hash);

	if (rc == ROVE_ENOTFOUND)
		return refuse(a, ROVE_ENOTFOUND, "no user '%s'", login);
	if (rc != ROVE_OK)
		return rc;
	if (rove_store_code_get(&a->e->st, a->txn, code, &id) != ROVE_OK)
		return refuse(a, ROVE_ENOTFOUND, "no territory '%s'", code);
	while (at < u.nterr && strcmp(u.terr[at], code) != 0)
		at++;
	if (assign) {
		if (at < u.nterr)
			return answer(a, NULL, 0); /* already */
		if (u.nterr >= ROVE_MAX_USER_TERRITORIES)
			return refuse(a, ROVE_ETOOBIG, "a user holds at most %u territories",
				      ROVE_MAX_USER_TERRITORIES);
		snprintf(u.terr[u.nterr++], ROVE_MAX_NAME + 1, "%s", code);
	} else {
		if (at == u.nterr)
			return answer(a, NULL, 0);
		memmove(&u.terr[at], &u.terr[at + 1], (u.nterr - at - 1) * sizeof(u.terr[0]));
		u.nterr--;
	}
	u.epoch++; /* their scope changed: their replica refetches it */
	rc = rove_store_user_put(&a->e->st, a->txn, &u, hash);
	return rc;
}

static int cmd_assign(admin_ctx *a)
{
	int rc = set_assignment(a, a->args[0], a->args[1], true);

	if (rc == ROVE_OK && a->reply->len == 0)
		rc = answer(a, NULL, 0);
	return rc;
}

static int cmd_unassign(admin_ctx *a)
{
	int rc = set_assignment(a, a->args[0], a->args[1], false);

	if (rc == ROVE_OK && a->reply->len == 0)
		rc = answer(a, NULL, 0);
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

/* The target of a reassignment: an existing rep or manager. */
static int check_target(admin_ctx *a, const char *to, bool *ok)
{
	rove_user t;
	int rc = get_user(a, to, &t, NULL);

	*ok = false;
	if (rc == ROVE_ENOTFOUND)
		return refuse(a, ROVE_ENOTFOUND, "no user '%s'", to);
	if (rc != ROVE_OK)
		return rc;
	if (t.role != ROVE_ROLE_REP && t.role != ROVE_ROLE_MANAGER)
		return refuse(a, ROVE_EINVAL, "'%s' is an %s; customers go to reps or managers", to,
			      rove_role_name(t.role));
	*ok = true;
	return ROVE_OK;
}

static int cmd_reassign_customer(admin_ctx *a)
{
	rove_record *rec;
	rove_uuid id;
	rove_push_result r;
	const char *terr;
	bool ok;
	int rc;

	if (rove_uuid_parse(a->args[0], &id) != ROVE_OK)
		return refuse(a, ROVE_EINVAL, "invalid customer id '%s'", a->args[0]);
	rc = check_target(a, a->args[1], &ok);
	if (rc != ROVE_OK || !ok)
		return rc;
	rec = malloc(sizeof(*rec));
	if (rec == NULL)
		return ROVE_ENOMEM;
	rc = rove_store_record_get(&a->e->st, a->txn, ROVE_COLL_CUSTOMER, &id, rec);
	if (rc == ROVE_ENOTFOUND || (rc == ROVE_OK && rove_record_deleted(rec))) {
		free(rec);
		return refuse(a, ROVE_ENOTFOUND, "no customer '%s'", a->args[0]);
	}
	terr = rc == ROVE_OK ? rove_fields_str(&rec->fs, "territory") : NULL;
	if (rc == ROVE_OK && a->u->role == ROVE_ROLE_MANAGER &&
	    (terr == NULL || !rove_policy_in_reach(&a->e->st, a->txn, a->u, terr))) {
		free(rec);
		return refuse(a, ROVE_EPERM, "the customer is outside your territories");
	}
	free(rec);
	if (rc == ROVE_OK)
		rc = reassign_one(a, &id, a->args[1], &r);
	if (rc == ROVE_OK)
		rc = answer(a, NULL, 0);
	return rc;
}

static int cmd_reassign_territory(admin_ctx *a)
{
	const char *code = a->args[0], *from = a->args[1], *to = a->args[2];
	uint8_t key[ROVE_INDEX_KEY_MAX];
	char scope[ROVE_SCOPE_MAX + 1], line[64];
	const char *lines[1] = {line};
	rove_uuid *ids = NULL;
	rove_record *rec = NULL;
	size_t n = 0, cap = 0, plen;
	rove_user fu;
	uint8_t fhash[ROVE_HASH_BYTES];
	MDB_cursor *c;
	MDB_val k, v;
	bool ok, had;
	int rc, mrc;

	if (a->u->role == ROVE_ROLE_MANAGER && !rove_policy_in_reach(&a->e->st, a->txn, a->u, code))
		return refuse(a, ROVE_EPERM, "territory '%s' is outside your territories", code);
	if (rove_store_code_get(&a->e->st, a->txn, code, (rove_uuid *)key) != ROVE_OK)
		return refuse(a, ROVE_ENOTFOUND, "no territory '%s'", code);
	rc = get_user(a, from, &fu, fhash);
	if (rc == ROVE_ENOTFOUND)
		return refuse(a, ROVE_ENOTFOUND, "no user '%s'", from);
	if (rc != ROVE_OK)
		return rc;
	rc = check_target(a, to, &ok);
	if (rc != ROVE_OK || !ok)
		return rc;

	/* The customers `from` owns in the territory: collect, then move. */
	snprintf(scope, sizeof(scope), "o:%s", from);
	plen = rove_store_scope_key(key, scope, NULL, 0);
	rec = malloc(sizeof(*rec));
	if (rec == NULL)
		return ROVE_ENOMEM;
	rc = rove_db_err(mdb_cursor_open(a->txn, a->e->st.scoperec, &c), "cursor");
	if (rc != ROVE_OK) {
		free(rec);
		return rc;
	}
	k.mv_size = plen;
	k.mv_data = key;
	mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == ROVE_OK && mrc == 0 && k.mv_size == plen + ROVE_RECORD_KEY &&
	       memcmp(k.mv_data, key, plen) == 0) {
		const uint8_t *rk = (const uint8_t *)k.mv_data + plen;
		rove_uuid id;
		memcpy(id.b, rk + 1, 16);
		if (rk[0] == ROVE_COLL_CUSTOMER &&
		    rove_store_record_get(&a->e->st, a->txn, ROVE_COLL_CUSTOMER, &id, rec) == ROVE_OK &&
		    !rove_record_deleted(rec) && rove_fields_str(&rec->fs, "territory") != NULL &&
		    strcmp(rove_fields_str(&rec->fs, "territory"), code) == 0) {
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 64;
				rove_uuid *p = realloc(ids, ncap * sizeof(*p));
				if (p == NULL) {
					rc = ROVE_ENOMEM;
					break;
				}
				ids = p;
				cap = ncap;
			}
			ids[n++] = id;
		}
		mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	free(rec);
	for (size_t i = 0; rc == ROVE_OK && i < n; i++) {
		rove_push_result r;
		rc = reassign_one(a, &ids[i], to, &r);
	}
	free(ids);
	/* The territory's assignment moves with its customers. */
	had = false;
	for (uint32_t i = 0; i < fu.nterr; i++)
		had = had || strcmp(fu.terr[i], code) == 0;
	if (rc == ROVE_OK && had) {
		rc = set_assignment(a, from, code, false);
		if (rc == ROVE_OK)
			rc = set_assignment(a, to, code, true);
	}
	if (rc != ROVE_OK)
		return rc;
	snprintf(line, sizeof(line), "%zu", n);
	return answer(a, lines, 1);
}

enum { WHO_ADMIN = 1, WHO_MANAGER = 2 };

static const struct admin_cmd {
	const char *name;
	uint32_t min_args, max_args;
	unsigned who;
	int (*fn)(admin_ctx *);
} commands[] = {
	{"user.add", 2, 2 + ROVE_MAX_USER_TERRITORIES, WHO_ADMIN, cmd_user_add},
	{"territory.add", 2, 3, WHO_ADMIN, cmd_territory_add},
	{"territory.set", 2, ROVE_MAX_ADMIN_ARGS, WHO_ADMIN, cmd_territory_set},
	{"assign", 2, 2, WHO_ADMIN, cmd_assign},
	{"unassign", 2, 2, WHO_ADMIN, cmd_unassign},
	{"reassign.customer", 2, 2, WHO_ADMIN | WHO_MANAGER, cmd_reassign_customer},
	{"reassign.territory", 3, 3, WHO_ADMIN | WHO_MANAGER, cmd_reassign_territory},
};

int rove_admin(rove_engine *e, MDB_txn *txn, const rove_user *u, rove_msg *m, rove_buf *reply)
{
	static arg_t args[ROVE_MAX_ADMIN_ARGS]; /* the writer thread only */
	admin_ctx a = {e, txn, u, args, 0, reply};
	const char *s;
	uint32_t len;

	rove_buf_reset(reply);
	while (rove_msg_next_str(m, &s, &len) == ROVE_OK) {
		memcpy(args[a.nargs], s, len);
		args[a.nargs][len] = '\0';
		a.nargs++;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct admin_cmd *c = &commands[i];
		bool allowed = ((c->who & WHO_ADMIN) && u->role == ROVE_ROLE_ADMIN) ||
			       ((c->who & WHO_MANAGER) && u->role == ROVE_ROLE_MANAGER);
		if (strcmp(m->u.admin.cmd, c->name) != 0)
			continue;
		if (!allowed)
			return refuse(&a, ROVE_EPERM, "not allowed: %s is for %s, and you are a %s", c->name,
				      (c->who & WHO_MANAGER) ? "admins and managers" : "admins",
				      rove_role_name(u->role));
		if (a.nargs < c->min_args || a.nargs > c->max_args)
			return refuse(&a, ROVE_EINVAL, "%s: wrong number of arguments", c->name);
		return c->fn(&a);
	}
	return refuse(&a, ROVE_EINVAL, "unknown admin command '%s'", m->u.admin.cmd);
}

/* ---- conflicts ---- */

/* The territory a refused op concerns: its own field, its record's, or
 * its customer's. */
static bool conflict_in_reach(rove_engine *e, MDB_txn *txn, const rove_user *u, const rove_op *op,
			      rove_record *rec)
{
	const rove_coll_def *c = rove_schema_coll(op->coll);
	const rove_field_def *pf = c ? rove_schema_parent_field(c) : NULL;
	const char *terr = rove_fields_str(&op->fs, "territory");
	rove_uuid id = op->rid;
	uint8_t coll = op->coll;

	if (terr == NULL && pf != NULL) {
		const char *pid = rove_fields_str(&op->fs, pf->name);
		if (pid == NULL || rove_uuid_parse(pid, &id) != ROVE_OK)
			return false;
		coll = ROVE_COLL_CUSTOMER;
	}
	if (terr == NULL && rove_store_record_get(&e->st, txn, coll, &id, rec) == ROVE_OK)
		terr = rove_fields_str(&rec->fs, "territory");
	return terr != NULL && rove_policy_in_reach(&e->st, txn, u, terr);
}

int rove_conflicts(rove_engine *e, MDB_txn *txn, const rove_user *u, const rove_conflicts_req *q,
		   rove_buf *reply)
{
	rove_buf items;
	rove_rejection *rj;
	rove_record *rec;
	MDB_cursor *c;
	MDB_val k, v;
	uint8_t key[8];
	uint32_t n = 0, max = q->max == 0 || q->max > ROVE_MAX_PULL_ITEMS ? ROVE_MAX_PULL_ITEMS : q->max;
	bool more = false;
	int rc, mrc;

	if (u->role != ROVE_ROLE_ADMIN && u->role != ROVE_ROLE_MANAGER) {
		rove_engine_error(reply, ROVE_EPERM, "conflicts are for managers and admins");
		return ROVE_OK;
	}
	if (q->after == UINT64_MAX) { /* nothing comes after the last number */
		rove_buf_reset(reply);
		return rove_enc_conflicts_reply(reply, false, 0, NULL);
	}
	rj = malloc(sizeof(*rj));
	rec = malloc(sizeof(*rec));
	rove_buf_init(&items);
	rc = rj && rec ? rove_db_err(mdb_cursor_open(txn, e->st.rejects, &c), "cursor") : ROVE_ENOMEM;
	if (rc == ROVE_OK) {
		rove_be64_put(key, q->after + 1);
		k.mv_size = 8;
		k.mv_data = key;
		mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		while (rc == ROVE_OK && mrc == 0) {
			uint64_t num;

			if (n >= max || items.len >= ROVE_PULL_CHUNK_BYTES) {
				more = true;
				break;
			}
			rc = rove_store_reject_decode(&k, &v, &num, rj);
			if (rc != ROVE_OK) {
				rove_error("corrupt entry in the rejects table");
				break;
			}
			if (u->role == ROVE_ROLE_ADMIN || conflict_in_reach(e, txn, u, &rj->op, rec)) {
				rc = rove_enc_conflict_raw(&items, num, rj->time_ms, rj->reason, rj->detail, rj->op_raw,
							   rj->op_rawlen);
				n++;
			}
			mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
		}
		mdb_cursor_close(c);
	}
	if (rc == ROVE_OK) {
		rove_buf_reset(reply);
		rc = rove_enc_conflicts_reply(reply, more, n, &items);
	}
	rove_buf_free(&items);
	free(rj);
	free(rec);
	return rc;
}
