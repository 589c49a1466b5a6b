/*
 * admin_import.c - `rove admin import territories|users`: many rows, all
 * or nothing, in one transaction (admin_import.h).
 *
 * An admin request carries at most ROVE_MAX_ADMIN_ARGS arguments, so an
 * import arrives in pieces and is staged here, in memory, until it is
 * committed:
 *   import.begin KIND            -> ID (KIND: territories or users)
 *   import.rows ID FIRST ARG...  rows FIRST, FIRST+1, ... (counted from
 *                                0), ROVE_ADMIN_IMPORT_ARITY arguments
 *                                each; a piece already staged is taken
 *                                once (a request sent again, or run again
 *                                when a batch is retried in a grown map)
 *   import.commit ID             checks every row, then writes them all in
 *                                this request's transaction -> territories:
 *                                the count; users: "login,token" a user
 *   import.check ID              checks every row and writes nothing ->
 *                                every bad row's refusal, "row N: why" a
 *                                line, in row order, at most
 *                                ROVE_MAX_IMPORT_SHOWN, then "K more bad
 *                                rows" if there are more; no line: good
 *   import.end ID                forgets the staged rows
 * A territory row is code, name, parent ("" for none: a parent is in the
 * database or on an earlier row); a user row is login, role and the
 * territories separated by ';'. A refusal names the row ("row 3: ...",
 * counted from 1; commit's names the first bad row, check's all of them:
 * an error message holds at most ROVE_MAX_ERRMSG bytes), and nothing is
 * written.
 *
 * The staged imports are the writer thread's alone, as every admin
 * request runs there; commit leaves them staged (a batch retried after
 * the map grew commits again), import.end or a newer import drops them.
 */
#include "admin_import.h"

#include "array.h"
#include "auth.h"
#include "err.h"
#include "log.h"
#include "rove_assert.h"
#include "schema.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { KIND_TERRITORIES = 1, KIND_USERS = 2 };

#define IMPORT_ID_HEX 32
/* An import's ID begins with this process's own prefix (boot): an ID
 * with another one was given before the server started anew, and the
 * rows staged with it went with that process. */
#define IMPORT_BOOT_HEX 8

typedef struct stage {
	const rove_engine *e; /* NULL: a free slot */
	char owner[ROVE_MAX_NAME + 1];
	char id[IMPORT_ID_HEX + 1];
	int kind;
	char *text; /* the rows' arguments, each NUL-terminated, in order */
	size_t len, cap;
	uint32_t nrows;
	uint64_t touched_ms;
} stage;

static stage stages[ROVE_MAX_ADMIN_IMPORTS];
static char boot[IMPORT_BOOT_HEX + 1]; /* "" until the first import */
_Static_assert(IMPORT_ID_HEX + IMPORT_BOOT_HEX <= ROVE_TOKEN_HEX, "an import ID and a prefix from one token");

static void stage_free(stage *s)
{
	free(s->text);
	memset(s, 0, sizeof(*s));
}

void rove_admin_import_forget(const rove_engine *e)
{
	for (int i = 0; i < ROVE_MAX_ADMIN_IMPORTS; i++)
		if (stages[i].e == e)
			stage_free(&stages[i]);
}

/* Answers with a refusal; the request "succeeded" as a request. */
static int refuse(rove_buf *reply, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int refuse(rove_buf *reply, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rove_engine_verror(reply, code, fmt, ap);
	va_end(ap);
	return ROVE_OK;
}

/* The refusal for an import ID not staged: why it is not, as far as
 * the server can tell. */
static int lost(rove_buf *reply, const char *id)
{
	if (strlen(id) == IMPORT_ID_HEX && strncmp(id, boot, IMPORT_BOOT_HEX) != 0)
		return refuse(reply, ROVE_ENOTFOUND, "no such import: the server started anew since it began, "
				 "and its staged rows went with it: run it again");
	return refuse(reply, ROVE_ENOTFOUND, "no such import (it was replaced, or is older than %u minutes): "
			 "run it again", ROVE_ADMIN_IMPORT_TTL_MS / 60000u);
}

/* The staged import ID of u, on e; NULL if none (or it expired). */
static stage *stage_find(const rove_engine *e, const rove_user *u, const char *id, uint64_t now)
{
	for (int i = 0; i < ROVE_MAX_ADMIN_IMPORTS; i++) {
		stage *s = &stages[i];
		if (s->e != NULL && now > s->touched_ms + ROVE_ADMIN_IMPORT_TTL_MS)
			stage_free(s);
		if (s->e == e && strcmp(s->owner, u->name) == 0 && strcmp(s->id, id) == 0) {
			s->touched_ms = now;
			return s;
		}
	}
	return NULL;
}

static int import_begin(rove_engine *e, const rove_user *u, char (*args)[ROVE_MAX_ADMIN_ARG + 1],
			uint32_t nargs, rove_buf *reply)
{
	char token[ROVE_TOKEN_HEX + 1];
	const char *line;
	uint64_t now = rove_engine_now_ms(e);
	stage *s = NULL;
	int kind = 0, rc;

	if (nargs == 1 && strcmp(args[0], "territories") == 0)
		kind = KIND_TERRITORIES;
	else if (nargs == 1 && strcmp(args[0], "users") == 0)
		kind = KIND_USERS;
	if (kind == 0)
		return refuse(reply, ROVE_EINVAL, "import.begin: import territories or users");
	stage_find(e, u, "", now); /* drops the expired */
	/* A free slot, or the one left alone longest: an admin may run two
	 * imports at once (two windows, a script), and one abandoned goes
	 * first (it expires anyway). */
	for (int i = 0; i < ROVE_MAX_ADMIN_IMPORTS; i++) {
		stage *t = &stages[i];
		if (s == NULL || (s->e != NULL && (t->e == NULL || t->touched_ms < s->touched_ms)))
			s = t;
	}
	ROVE_ASSERT(s != NULL);
	if (s->e != NULL)
		rove_info("admin import of %s dropped for a new one", s->owner);
	stage_free(s);
	rc = rove_token_new(token);
	if (rc != ROVE_OK)
		return rc;
	if (boot[0] == '\0')
		memcpy(boot, token + IMPORT_ID_HEX, IMPORT_BOOT_HEX);
	s->e = e;
	snprintf(s->owner, sizeof(s->owner), "%s", u->name);
	memcpy(s->id, boot, IMPORT_BOOT_HEX);
	memcpy(s->id + IMPORT_BOOT_HEX, token, IMPORT_ID_HEX - IMPORT_BOOT_HEX);
	s->id[IMPORT_ID_HEX] = '\0';
	s->kind = kind;
	s->touched_ms = now;
	line = s->id;
	rove_buf_reset(reply);
	return rove_enc_admin_reply(reply, &line, 1);
}

static int import_rows(rove_engine *e, const rove_user *u, char (*args)[ROVE_MAX_ADMIN_ARG + 1], uint32_t nargs,
		       rove_buf *reply)
{
	stage *s = nargs >= 2 ? stage_find(e, u, args[0], rove_engine_now_ms(e)) : NULL;
	uint32_t n = (nargs - 2) / ROVE_ADMIN_IMPORT_ARITY;
	char *end;
	unsigned long long first;
	size_t need = 0;
	char *text;

	if (s == NULL)
		return lost(reply, nargs >= 1 ? args[0] : "");
	if (nargs < 2 + ROVE_ADMIN_IMPORT_ARITY || (nargs - 2) % ROVE_ADMIN_IMPORT_ARITY != 0)
		return refuse(reply, ROVE_EINVAL, "import.rows: %u arguments a row", ROVE_ADMIN_IMPORT_ARITY);
	first = strtoull(args[1], &end, 10);
	if (args[1][0] < '0' || args[1][0] > '9' || *end != '\0' || first > s->nrows)
		return refuse(reply, ROVE_EINVAL, "import.rows: rows must come in order (%" PRIu32 " staged)",
			      s->nrows);
	rove_buf_reset(reply);
	if (first + n <= s->nrows) /* staged already */
		return rove_enc_admin_reply(reply, NULL, 0);
	if (first != s->nrows)
		return refuse(reply, ROVE_EINVAL, "import.rows: a piece overlaps the rows staged");
	if (s->nrows + n > ROVE_MAX_ADMIN_IMPORT_ROWS)
		return refuse(reply, ROVE_ETOOBIG, "an import has at most %u rows", ROVE_MAX_ADMIN_IMPORT_ROWS);
	for (uint32_t i = 2; i < nargs; i++)
		need += strlen(args[i]) + 1;
	if (s->len + need > ROVE_MAX_ADMIN_IMPORT_BYTES)
		return refuse(reply, ROVE_ETOOBIG, "an import holds at most %u bytes", ROVE_MAX_ADMIN_IMPORT_BYTES);
	text = rove_array_grow(s->text, &s->cap, s->len, need, 1, 4096);
	if (text == NULL)
		return ROVE_ENOMEM;
	s->text = text;
	for (uint32_t i = 2; i < nargs; i++) {
		size_t len = strlen(args[i]) + 1;
		memcpy(s->text + s->len, args[i], len);
		s->len += len;
	}
	s->nrows += n;
	return rove_enc_admin_reply(reply, NULL, 0);
}

/* ---- checking the rows ---- */

/* A name folded to lower case (ASCII), with where it comes from: a row
 * of the import (from 1), or 0 for one the database holds. */
typedef struct folded {
	char name[ROVE_MAX_NAME + 1];
	uint32_t row;
} folded;

typedef struct name_set {
	folded *f;
	size_t n, cap;
} name_set;

static int names_add(name_set *ns, const char *name, uint32_t row)
{
	folded *f = rove_array_room(ns->f, ns->n, &ns->cap, sizeof(*f));
	size_t i;

	if (f == NULL)
		return ROVE_ENOMEM;
	ns->f = f;
	f = &ns->f[ns->n++];
	for (i = 0; name[i] != '\0' && i < ROVE_MAX_NAME; i++)
		f->name[i] = name[i] >= 'A' && name[i] <= 'Z' ? (char)(name[i] - 'A' + 'a') : name[i];
	f->name[i] = '\0';
	f->row = row;
	return ROVE_OK;
}

static int by_name_row(const void *a, const void *b)
{
	const folded *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : (x->row > y->row) - (x->row < y->row);
}

static int add_code(const char *code, void *arg)
{
	return names_add(arg, code, 0);
}

static int add_login(const char *login, int role, void *arg)
{
	(void)role;
	return names_add(arg, login, 0);
}

/* ---- faults: the bad rows of an import, reported together ---- */

typedef struct fault {
	uint32_t row, seq; /* seq: order of finding, within a row */
	int code;
	char text[ROVE_MAX_ERRMSG];
} fault;

/* The lowest-numbered ROVE_MAX_IMPORT_SHOWN faults found, of total. */
typedef struct faults {
	fault *f;
	uint32_t n, total;
} faults;

static void fault_add(faults *fs, int code, uint32_t row, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void fault_add(faults *fs, int code, uint32_t row, const char *fmt, ...)
{
	fault *slot = NULL;
	va_list ap;
	int off;

	fs->total++;
	if (fs->n < ROVE_MAX_IMPORT_SHOWN) {
		slot = &fs->f[fs->n++];
	} else {
		for (uint32_t i = 0; i < fs->n; i++) /* the highest row kept gives way to a lower one */
			if (slot == NULL || fs->f[i].row > slot->row)
				slot = &fs->f[i];
		if (slot->row <= row)
			return;
	}
	slot->row = row;
	slot->seq = fs->total;
	slot->code = code;
	off = snprintf(slot->text, sizeof(slot->text), "row %" PRIu32 ": ", row);
	va_start(ap, fmt);
	vsnprintf(slot->text + off, sizeof(slot->text) - (size_t)off, fmt, ap);
	va_end(ap);
}

static int by_row(const void *a, const void *b)
{
	const fault *x = a, *y = b;

	if (x->row != y->row)
		return (x->row > y->row) - (x->row < y->row);
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Every row whose name another row or the database holds already,
 * ignoring case (wang and WANG are one person): a fault naming the other
 * row (or the database: row 0, which sorts first); what ("territory",
 * "user") names the kind. */
static void names_clashes(name_set *ns, const char **a, faults *fs, const char *what)
{
	qsort(ns->f, ns->n, sizeof(*ns->f), by_name_row);
	for (size_t i = 1; i < ns->n; i++) {
		uint32_t row = ns->f[i].row, other = ns->f[i - 1].row;
		const char *name;
		if (strcmp(ns->f[i].name, ns->f[i - 1].name) != 0 || row == 0)
			continue;
		name = a[(row - 1) * 3];
		if (other == 0)
			fault_add(fs, ROVE_EEXIST, row, "%s '%s' already exists (or one whose name differs only in case)",
				  what, name);
		else
			fault_add(fs, ROVE_EEXIST, row, "%s '%s' is also on row %" PRIu32, what, name, other);
	}
}

/* The staged rows' arguments: row i's are a[i * ARITY ...]. */
static int stage_args(const stage *s, const char ***out)
{
	size_t n = (size_t)s->nrows * ROVE_ADMIN_IMPORT_ARITY;
	const char **a = malloc((n > 0 ? n : 1) * sizeof(*a));
	const char *p = s->text;

	if (a == NULL)
		return ROVE_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		ROVE_ASSERT(p < s->text + s->len);
		a[i] = p;
		p += strlen(p) + 1;
	}
	*out = a;
	return ROVE_OK;
}

/* Applies a server-made op by u, stamped with the server's clock. */
static int apply_system(rove_engine *e, MDB_txn *txn, const rove_user *u, rove_op *op, rove_apply_work *w)
{
	rove_push_result r;

	memset(&r, 0, sizeof(r));
	return rove_apply_op(e, txn, u, op, true, w, &r);
}

/* Territories: codes new (to the database and to the rows before),
 * parents there or on an earlier row, names valid: every bad row into fs. */
static int check_territories(rove_engine *e, MDB_txn *txn, const stage *s, const char **a, faults *fs)
{
	name_set ns = {NULL, 0, 0};
	rove_op *op = malloc(sizeof(*op));
	rove_stamp st = {{0}, e->st.node};
	char why[ROVE_MAX_ERRMSG];
	unsigned *levels = NULL;
	rove_uuid id;
	int rc = op != NULL ? ROVE_OK : ROVE_ENOMEM;

	if (rc == ROVE_OK)
		rc = rove_pstore_each_code(&e->ps, txn, add_code, &ns);
	for (uint32_t i = 0; rc == ROVE_OK && i < s->nrows; i++) {
		const char *code = a[i * 3], *name = a[i * 3 + 1];
		if (!rove_code_valid(code, strlen(code))) {
			fault_add(fs, ROVE_EINVAL, i + 1, "invalid territory code '%s'", code);
			continue;
		}
		rove_uuid_new(&id);
		rove_op_init(op, ROVE_OP_CREATE, ROVE_COLL_TERRITORY, &id, st);
		rc = rove_op_set(op, "code", rove_vcstr(code));
		if (rc == ROVE_OK)
			rc = rove_op_set(op, "name", rove_vcstr(name));
		if (rc == ROVE_OK && rove_schema_clean_op(op, why, sizeof(why)) != ROVE_OK) {
			fault_add(fs, ROVE_EINVAL, i + 1, "%s", why);
			continue;
		}
		if (rc == ROVE_OK)
			rc = names_add(&ns, code, i + 1);
	}
	if (rc == ROVE_OK)
		names_clashes(&ns, a, fs, "territory");
	/* Parents: there already, or made by an earlier row; each row's
	 * level, at most ROVE_MAX_TREE_DEPTH (0: not known, its parent's row
	 * bad; past it, its rows below are too). */
	levels = calloc(s->nrows > 0 ? s->nrows : 1, sizeof(*levels));
	if (rc == ROVE_OK && levels == NULL)
		rc = ROVE_ENOMEM;
	for (uint32_t i = 0; rc == ROVE_OK && i < s->nrows; i++) {
		const char *parent = a[i * 3 + 2];
		bool found = parent[0] == '\0';
		if (found)
			levels[i] = 1;
		if (!found && rove_pstore_code_get(&e->ps, txn, parent, &id) == ROVE_OK) {
			rove_policy_ctx pc = rove_engine_policy(e, txn);
			found = true;
			rc = rove_policy_territory_levels(&pc, parent, &levels[i]);
			levels[i]++;
		}
		for (uint32_t k = i; k-- > 0 && !found;) {
			found = strcmp(a[k * 3], parent) == 0;
			if (found)
				levels[i] = levels[k] > 0 ? levels[k] + 1 : 0;
		}
		if (rc == ROVE_OK && !found)
			fault_add(fs, ROVE_ENOTFOUND, i + 1,
				  "no parent territory '%s' (neither on an earlier row nor on the server)", parent);
		else if (rc == ROVE_OK && levels[i] > ROVE_MAX_TREE_DEPTH)
			fault_add(fs, ROVE_EINVAL, i + 1,
				  "territory '%s' would be more than %d levels deep (under '%s'): the tree holds at most %d",
				  a[i * 3], ROVE_MAX_TREE_DEPTH, parent, ROVE_MAX_TREE_DEPTH);
	}
	free(levels);
	free(ns.f);
	free(op);
	return rc;
}

/* The staged rows checked (kind's rules) into fs, sorted by row. */
static int check_rows(rove_engine *e, MDB_txn *txn, const stage *s, const char **a, faults *fs);

/* A refusal with the first bad row, if there is one (then *refused). */
static int refuse_first(rove_engine *e, MDB_txn *txn, const stage *s, const char **a, rove_buf *reply,
			bool *refused)
{
	faults fs = {malloc(ROVE_MAX_IMPORT_SHOWN * sizeof(fault)), 0, 0};
	int rc = fs.f != NULL ? check_rows(e, txn, s, a, &fs) : ROVE_ENOMEM;

	*refused = rc == ROVE_OK && fs.total > 0;
	if (*refused)
		rc = refuse(reply, fs.f[0].code, "%s", fs.f[0].text);
	free(fs.f);
	return rc;
}

/* Territories: checked, then created in row order, as territory.add
 * creates one. */
static int commit_territories(rove_engine *e, MDB_txn *txn, const rove_user *u, const stage *s, const char **a,
			      rove_buf *reply)
{
	rove_op *op = malloc(sizeof(*op));
	rove_apply_work *w = rove_apply_work_new();
	rove_stamp st = {{0}, e->st.node};
	char why[ROVE_MAX_ERRMSG], line[32];
	const char *lines[1] = {line};
	rove_uuid id;
	bool refused = false;
	int rc = op != NULL && w != NULL ? ROVE_OK : ROVE_ENOMEM;

	if (rc == ROVE_OK)
		rc = refuse_first(e, txn, s, a, reply, &refused);
	if (rc != ROVE_OK || refused)
		goto done;
	/* Everything checked: now written, in order. */
	for (uint32_t i = 0; rc == ROVE_OK && i < s->nrows; i++) {
		const char *code = a[i * 3], *name = a[i * 3 + 1], *parent = a[i * 3 + 2];
		/* nobody's scope epoch moves (see cmd_territory_add in admin.c) */
		rove_uuid_new(&id);
		rove_op_init(op, ROVE_OP_CREATE, ROVE_COLL_TERRITORY, &id, st); /* stamped when applied */
		rc = rove_op_set(op, "code", rove_vcstr(code));
		if (rc == ROVE_OK)
			rc = rove_op_set(op, "name", rove_vcstr(name));
		if (rc == ROVE_OK && parent[0] != '\0')
			rc = rove_op_set(op, "parent", rove_vcstr(parent));
		if (rc == ROVE_OK && rove_schema_clean_op(op, why, sizeof(why)) != ROVE_OK)
			rc = ROVE_EINVAL; /* it was good a moment ago */
		if (rc == ROVE_OK)
			rc = rove_pstore_code_put(&e->ps, txn, code, &id);
		if (rc == ROVE_OK)
			rc = apply_system(e, txn, u, op, w);
	}
	if (rc == ROVE_OK) {
		snprintf(line, sizeof(line), "%" PRIu32, s->nrows);
		rove_buf_reset(reply);
		rc = rove_enc_admin_reply(reply, lines, 1);
	}
done:
	free(op);
	rove_apply_work_free(w);
	return rc;
}

/* The territories of a user row ("a;b", spaces around each allowed) into
 * u; a bad one is a fault of the row in fs (NULL: it cannot be, they were
 * checked: ROVE_EINVAL). */
static int row_territories(rove_engine *e, MDB_txn *txn, uint32_t row, const char *list, rove_user *u,
			   faults *fs)
{
	const char *p = list;

	u->nterr = 0;
	while (*p != '\0') {
		const char *end = strchr(p, ';');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		char code[ROVE_MAX_NAME + 1];
		rove_uuid id;
		bool dup = false;

		while (len > 0 && (*p == ' ' || *p == '\t'))
			p++, len--;
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len > 0) {
			if (len > ROVE_MAX_NAME || !rove_code_valid(p, len)) {
				if (fs != NULL)
					fault_add(fs, ROVE_EINVAL, row, "invalid territory code '%.*s'",
						  (int)(len > ROVE_MAX_NAME ? ROVE_MAX_NAME : len), p);
				return fs != NULL ? ROVE_OK : ROVE_EINVAL;
			}
			memcpy(code, p, len);
			code[len] = '\0';
			if (rove_pstore_code_get(&e->ps, txn, code, &id) != ROVE_OK) {
				if (fs != NULL)
					fault_add(fs, ROVE_ENOTFOUND, row, "no territory '%s'", code);
				return fs != NULL ? ROVE_OK : ROVE_EINVAL;
			}
			for (uint32_t k = 0; k < u->nterr && !dup; k++)
				dup = strcmp(u->terr[k], code) == 0;
			if (!dup && u->nterr >= ROVE_MAX_USER_TERRITORIES) {
				if (fs != NULL)
					fault_add(fs, ROVE_ETOOBIG, row, "a user holds at most %u territories",
						  ROVE_MAX_USER_TERRITORIES);
				return fs != NULL ? ROVE_OK : ROVE_EINVAL;
			}
			if (!dup)
				snprintf(u->terr[u->nterr++], ROVE_MAX_NAME + 1, "%s", code);
		}
		p = end != NULL ? end + 1 : p + len;
		if (end == NULL)
			break;
	}
	return ROVE_OK;
}

/* Users: logins valid and new (to the database and the rows before,
 * ignoring case), roles known, territories there (and only for reps and
 * managers): every bad row into fs. */
static int check_users(rove_engine *e, MDB_txn *txn, const stage *s, const char **a, faults *fs)
{
	name_set ns = {NULL, 0, 0};
	rove_user *u = malloc(sizeof(*u));
	int rc = u != NULL ? ROVE_OK : ROVE_ENOMEM;

	if (rc == ROVE_OK)
		rc = rove_store_each_user(&e->st, txn, add_login, &ns);
	for (uint32_t i = 0; rc == ROVE_OK && i < s->nrows; i++) {
		const char *login = a[i * 3], *role = a[i * 3 + 1];
		uint32_t before = fs->total;
		if (!rove_login_valid(login, strlen(login))) {
			fault_add(fs, ROVE_EINVAL, i + 1, "invalid user name '%s'", login);
			continue;
		}
		if (rove_login_reserved(login)) {
			fault_add(fs, ROVE_EEXIST, i + 1, "'%s' is the server's own name", login);
			continue;
		}
		rc = names_add(&ns, login, i + 1);
		if (rc == ROVE_OK && rove_role_parse(role) == 0) {
			fault_add(fs, ROVE_EINVAL, i + 1, "invalid role '%s' (rep, manager, analyst or admin)", role);
			continue;
		}
		if (rc == ROVE_OK)
			rc = row_territories(e, txn, i + 1, a[i * 3 + 2], u, fs);
		if (rc == ROVE_OK && fs->total == before && u->nterr > 0 &&
		    !rove_rules_role_may_own(rove_role_parse(role))) /* they read everything, own nothing */
			fault_add(fs, ROVE_EINVAL, i + 1, "%s is %s: territories are for reps and managers", login,
				  rove_role_with_article(rove_role_parse(role)));
	}
	if (rc == ROVE_OK)
		names_clashes(&ns, a, fs, "user");
	free(ns.f);
	free(u);
	return rc;
}

static int check_rows(rove_engine *e, MDB_txn *txn, const stage *s, const char **a, faults *fs)
{
	int rc = s->kind == KIND_TERRITORIES ? check_territories(e, txn, s, a, fs) : check_users(e, txn, s, a, fs);

	if (rc == ROVE_OK)
		qsort(fs->f, fs->n, sizeof(*fs->f), by_row);
	return rc;
}

/* Users: checked, then created, each with a new token, answered
 * "login,token" a line. */
static int commit_users(rove_engine *e, MDB_txn *txn, const stage *s, const char **a, rove_buf *reply)
{
	rove_user *u = malloc(sizeof(*u));
	char (*lines)[ROVE_MAX_NAME + ROVE_TOKEN_HEX + 2] = malloc((s->nrows > 0 ? s->nrows : 1) * sizeof(*lines));
	const char **lp = malloc((s->nrows > 0 ? s->nrows : 1) * sizeof(*lp));
	bool refused = false;
	int rc = u != NULL && lines != NULL && lp != NULL ? ROVE_OK : ROVE_ENOMEM;

	if (rc == ROVE_OK)
		rc = refuse_first(e, txn, s, a, reply, &refused);
	if (rc != ROVE_OK || refused)
		goto done;
	for (uint32_t i = 0; rc == ROVE_OK && i < s->nrows; i++) {
		char token[ROVE_TOKEN_HEX + 1];
		uint8_t hash[ROVE_HASH_BYTES];
		memset(u, 0, sizeof(*u));
		snprintf(u->name, sizeof(u->name), "%s", a[i * 3]);
		u->role = rove_role_parse(a[i * 3 + 1]);
		u->epoch = 1;
		rc = row_territories(e, txn, i + 1, a[i * 3 + 2], u, NULL);
		ROVE_ASSERT(rc != ROVE_EINVAL); /* checked above */
		if (rc == ROVE_OK)
			rc = rove_token_new(token);
		if (rc == ROVE_OK) {
			rove_token_hash(token, hash);
			rc = rove_store_user_put(&e->st, txn, u, hash);
		}
		if (rc == ROVE_OK) {
			snprintf(lines[i], sizeof(lines[i]), "%s,%s", u->name, token);
			lp[i] = lines[i];
		}
	}
	if (rc == ROVE_OK) {
		rove_buf_reset(reply);
		rc = rove_enc_admin_reply(reply, lp, s->nrows);
	}
done:
	free(u);
	free(lines);
	free(lp);
	return rc;
}

static int import_commit(rove_engine *e, MDB_txn *txn, const rove_user *u, char (*args)[ROVE_MAX_ADMIN_ARG + 1],
			 uint32_t nargs, rove_buf *reply)
{
	stage *s = nargs == 1 ? stage_find(e, u, args[0], rove_engine_now_ms(e)) : NULL;
	const char **a = NULL;
	int rc;

	if (s == NULL)
		return lost(reply, nargs >= 1 ? args[0] : "");
	rc = stage_args(s, &a);
	rove_buf_reset(reply);
	if (rc == ROVE_OK && s->kind == KIND_TERRITORIES)
		rc = commit_territories(e, txn, u, s, a, reply);
	else if (rc == ROVE_OK)
		rc = commit_users(e, txn, s, a, reply);
	free(a);
	if (rc == ROVE_OK)
		rove_info("%s imported %" PRIu32 " %s", u->name, s->nrows,
			  s->kind == KIND_TERRITORIES ? "territories" : "users");
	return rc;
}

/* Every bad row's refusal, a line each (ROVE_MAX_IMPORT_SHOWN, then how
 * many more); none if the rows would be imported. Writes nothing. */
static int import_check(rove_engine *e, MDB_txn *txn, const rove_user *u, char (*args)[ROVE_MAX_ADMIN_ARG + 1],
			uint32_t nargs, rove_buf *reply)
{
	stage *s = nargs == 1 ? stage_find(e, u, args[0], rove_engine_now_ms(e)) : NULL;
	faults fs = {NULL, 0, 0};
	const char **a = NULL, *lines[ROVE_MAX_IMPORT_SHOWN + 1];
	char more[64];
	uint32_t n = 0;
	int rc;

	if (s == NULL)
		return lost(reply, nargs >= 1 ? args[0] : "");
	fs.f = malloc(ROVE_MAX_IMPORT_SHOWN * sizeof(*fs.f));
	rc = fs.f != NULL ? stage_args(s, &a) : ROVE_ENOMEM;
	if (rc == ROVE_OK)
		rc = check_rows(e, txn, s, a, &fs);
	for (uint32_t i = 0; rc == ROVE_OK && i < fs.n; i++)
		lines[n++] = fs.f[i].text;
	if (rc == ROVE_OK && fs.total > fs.n) {
		snprintf(more, sizeof(more), "%" PRIu32 " more bad rows", fs.total - fs.n);
		lines[n++] = more;
	}
	if (rc == ROVE_OK) {
		rove_buf_reset(reply);
		rc = rove_enc_admin_reply(reply, lines, n);
	}
	free(a);
	free(fs.f);
	return rc;
}

static int import_end(rove_engine *e, const rove_user *u, char (*args)[ROVE_MAX_ADMIN_ARG + 1], uint32_t nargs,
		      rove_buf *reply)
{
	stage *s = nargs == 1 ? stage_find(e, u, args[0], rove_engine_now_ms(e)) : NULL;

	if (s != NULL)
		stage_free(s);
	rove_buf_reset(reply);
	return rove_enc_admin_reply(reply, NULL, 0);
}

int rove_admin_import(rove_engine *e, MDB_txn *txn, const rove_user *u, const char *cmd,
		      char (*args)[ROVE_MAX_ADMIN_ARG + 1], uint32_t nargs, rove_buf *reply)
{
	if (strcmp(cmd, "import.begin") == 0)
		return import_begin(e, u, args, nargs, reply);
	if (strcmp(cmd, "import.rows") == 0)
		return import_rows(e, u, args, nargs, reply);
	if (strcmp(cmd, "import.commit") == 0)
		return import_commit(e, txn, u, args, nargs, reply);
	if (strcmp(cmd, "import.check") == 0)
		return import_check(e, txn, u, args, nargs, reply);
	if (strcmp(cmd, "import.end") == 0)
		return import_end(e, u, args, nargs, reply);
	return refuse(reply, ROVE_EINVAL, "unknown admin command '%s'", cmd);
}
