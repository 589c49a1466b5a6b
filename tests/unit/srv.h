/*
 * srv.h - a real server for unit tests: the engine on a database in a
 * temporary directory, spoken to in the protocol's own messages.
 *
 * Requests are built with proto's encoders, decoded as serve.c decodes
 * them, and run through rove_engine_write (pushes, admin requests: one
 * batch each, durably committed) or rove_engine_read (conflicts), so a test
 * goes through authentication, the engine, the policy and the store as a
 * client's request does. Users get their tokens from the admin's
 * "user.add" replies and are remembered by name.
 *
 * Every helper returns a rove error: ROVE_OK, or the code of an ERROR
 * reply (its text in srv->err), or a failure of the helper itself.
 */
#ifndef ROVE_TEST_SRV_H
#define ROVE_TEST_SRV_H

#include "engine_int.h"

#include "db.h"
#include "err.h"
#include "schema.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SRV_MAX_USERS 1024

typedef struct srv {
	char dir[64];
	rove_engine e;
	bool open;
	uint32_t nusers;
	char names[SRV_MAX_USERS][ROVE_MAX_NAME + 1];
	char tokens[SRV_MAX_USERS][ROVE_TOKEN_HEX + 1];
	char err[ROVE_MAX_ERRMSG + 1]; /* the text of the last ERROR reply */
	char line[ROVE_MAX_STR + 1];   /* the first line of the last ADMIN_REPLY */
} srv;

static inline const char *srv_token(const srv *s, const char *name)
{
	for (uint32_t i = 0; i < s->nusers; i++)
		if (strcmp(s->names[i], name) == 0)
			return s->tokens[i];
	return "0000000000000000000000000000000000000000000000000000000000000000";
}

/* Keeps name's token (a new one replaces the one kept). */
static inline void srv_remember(srv *s, const char *name, const char *token)
{
	for (uint32_t i = 0; i < s->nusers; i++) {
		if (strcmp(s->names[i], name) == 0) {
			snprintf(s->tokens[i], sizeof(s->tokens[0]), "%.*s", (int)ROVE_TOKEN_HEX, token);
			return;
		}
	}
	if (s->nusers < SRV_MAX_USERS) {
		snprintf(s->names[s->nusers], sizeof(s->names[0]), "%s", name);
		snprintf(s->tokens[s->nusers], sizeof(s->tokens[0]), "%.*s", (int)ROVE_TOKEN_HEX, token);
		s->nusers++;
	}
}

/* A new database (admin "admin") in a temporary directory, opened. The
 * srv is large: allocate it (srv_new). */
static inline int srv_open(srv *s)
{
	char token[ROVE_TOKEN_HEX + 1];
	int rc;

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "/tmp/rove-test-srv.XXXXXX");
	if (mkdtemp(s->dir) == NULL)
		return ROVE_EIO;
	rc = rove_engine_init(s->dir, "admin", token);
	if (rc != ROVE_OK)
		return rc;
	srv_remember(s, "admin", token);
	rc = rove_engine_open(&s->e, s->dir);
	s->open = rc == ROVE_OK;
	if (s->open) /* tests need no fsync per commit */
		mdb_env_set_flags(s->e.st.env, MDB_NOSYNC, 1);
	return rc;
}

static inline srv *srv_new(void)
{
	srv *s = malloc(sizeof(*s));

	if (s != NULL && srv_open(s) != ROVE_OK) {
		free(s);
		s = NULL;
	}
	return s;
}

/* Closes and opens the database again: what a restart of roved does. */
static inline int srv_restart(srv *s)
{
	int rc;

	if (s->open)
		rove_engine_close(&s->e);
	rc = rove_engine_open(&s->e, s->dir);
	s->open = rc == ROVE_OK;
	if (s->open)
		mdb_env_set_flags(s->e.st.env, MDB_NOSYNC, 1);
	return rc;
}

static inline void srv_free(srv *s)
{
	char cmd[sizeof(s->dir) + 16];

	if (s == NULL)
		return;
	if (s->open)
		rove_engine_close(&s->e);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", s->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", s->dir);
	free(s);
}

/* Runs one encoded request as serve.c would and decodes the reply into
 * *m (its bytes in reply, the caller's to free). */
static inline int srv_call(srv *s, const rove_buf *req, rove_buf *reply, rove_msg *m)
{
	rove_job job;
	rove_job *jobs[1] = {&job};
	const rove_request *rq;
	int rc;

	memset(&job, 0, sizeof(job));
	rove_buf_init(&job.reply);
	rq = rove_engine_accept(&job, req->data, req->len);
	if (rq != NULL && rq->write)
		rove_engine_write(&s->e, jobs, 1);
	else if (rq != NULL)
		rove_engine_read(&s->e, &job);
	*reply = job.reply;
	rc = rove_msg_decode(reply->data, reply->len, m);
	if (rc != ROVE_OK)
		return rc;
	s->err[0] = '\0';
	if (m->type == ROVE_MSG_ERROR) {
		snprintf(s->err, sizeof(s->err), "%s", m->u.error.text);
		return m->u.error.code != ROVE_OK ? m->u.error.code : ROVE_ESERVER;
	}
	return ROVE_OK;
}

static inline void srv_auth(const srv *s, const char *user, rove_auth *a)
{
	snprintf(a->user, sizeof(a->user), "%s", user);
	snprintf(a->token, sizeof(a->token), "%s", srv_token(s, user));
}

/* An admin request by user, with request id (NULL: none); the reply's
 * bytes into raw (reset first). ROVE_OK, or the ERROR's code. */
static inline int srv_admin_req(srv *s, const char *user, const rove_uuid *id, const char *cmd,
				const char *const *args, uint32_t n, rove_buf *raw)
{
	rove_buf req, reply;
	rove_auth a;
	rove_msg m;
	int rc;

	srv_auth(s, user, &a);
	rove_buf_init(&req);
	rove_buf_init(&reply);
	rove_buf_reset(raw);
	rc = rove_enc_admin_req(&req, &a, cmd, id, args, n);
	if (rc == ROVE_OK)
		rc = srv_call(s, &req, &reply, &m);
	if (reply.len > 0 && rove_buf_append(raw, reply.data, reply.len) != ROVE_OK)
		rc = ROVE_ENOMEM;
	rove_buf_free(&req);
	rove_buf_free(&reply);
	return rc;
}

/* An admin request by user; the first reply line goes to s->line. */
static inline int srv_adminv(srv *s, const char *user, const char *cmd, const char *const *args, uint32_t n)
{
	rove_buf raw;
	rove_msg m;
	int rc;

	rove_buf_init(&raw);
	s->line[0] = '\0';
	rc = srv_admin_req(s, user, NULL, cmd, args, n, &raw);
	if (rc == ROVE_OK && (rove_msg_decode(raw.data, raw.len, &m) != ROVE_OK || m.type != ROVE_MSG_ADMIN_REPLY))
		rc = ROVE_EPROTO;
	if (rc == ROVE_OK) {
		const char *l;
		uint32_t len;
		if (rove_msg_next_str(&m, &l, &len) == ROVE_OK)
			snprintf(s->line, sizeof(s->line), "%.*s", (int)len, l);
	}
	rove_buf_free(&raw);
	return rc;
}

/* srv_admin(s, user, cmd, arg..., NULL) */
static inline int srv_admin(srv *s, const char *user, const char *cmd, ...)
{
	const char *args[ROVE_MAX_ADMIN_ARGS];
	uint32_t n = 0;
	va_list ap;
	const char *x;

	va_start(ap, cmd);
	while ((x = va_arg(ap, const char *)) != NULL && n < ROVE_MAX_ADMIN_ARGS)
		args[n++] = x;
	va_end(ap);
	return srv_adminv(s, user, cmd, args, n);
}

static inline int srv_territory(srv *s, const char *code, const char *parent)
{
	if (parent != NULL)
		return srv_admin(s, "admin", "territory.add", code, code, parent, NULL);
	return srv_admin(s, "admin", "territory.add", code, code, NULL);
}

/* srv_user(s, name, role, territory..., NULL): adds the user, keeps the token. */
static inline int srv_user(srv *s, const char *name, const char *role, ...)
{
	const char *args[ROVE_MAX_ADMIN_ARGS];
	uint32_t n = 2;
	va_list ap;
	const char *x;
	int rc;

	args[0] = name;
	args[1] = role;
	va_start(ap, role);
	while ((x = va_arg(ap, const char *)) != NULL && n < ROVE_MAX_ADMIN_ARGS)
		args[n++] = x;
	va_end(ap);
	rc = srv_adminv(s, "admin", "user.add", args, n);
	if (rc == ROVE_OK)
		srv_remember(s, name, s->line);
	return rc;
}

/* A new server holding the tests' company: territories east (east.sh,
 * east.hz) and north (north.bj); reps alice, bob (east.sh), carl
 * (east.hz), nick (north.bj); managers mike (east), nora (north). NULL if
 * any of it failed. */
static inline srv *srv_world(void)
{
	static const char *const terrs[][2] = {
		{"east", NULL}, {"east.sh", "east"}, {"east.hz", "east"}, {"north", NULL}, {"north.bj", "north"}};
	static const char *const users[][3] = {{"alice", "rep", "east.sh"}, {"bob", "rep", "east.sh"},
					       {"carl", "rep", "east.hz"},  {"nick", "rep", "north.bj"},
					       {"mike", "manager", "east"}, {"nora", "manager", "north"}};
	srv *s = srv_new();
	int rc = s != NULL ? ROVE_OK : ROVE_ENOMEM;

	for (size_t i = 0; rc == ROVE_OK && i < sizeof(terrs) / sizeof(terrs[0]); i++)
		rc = srv_territory(s, terrs[i][0], terrs[i][1]);
	for (size_t i = 0; rc == ROVE_OK && i < sizeof(users) / sizeof(users[0]); i++)
		rc = srv_user(s, users[i][0], users[i][1], users[i][2], NULL);
	if (rc != ROVE_OK && s != NULL) {
		srv_free(s);
		s = NULL;
	}
	return s;
}

/* srv_world, or the test ends here (exit 1, saying why): every test of
 * a file starts from it. */
static inline srv *srv_world_or_exit(void)
{
	srv *s = srv_world();

	if (s == NULL) {
		fprintf(stderr, "%s:%d: cannot make the tests' server\n", __FILE__, __LINE__);
		exit(1);
	}
	return s;
}

/* The clock of the tests' client: ops made one after the other are
 * stamped in that order, as a replica's hybrid logical clock does. */
static inline rove_stamp srv_client_stamp(void)
{
	static rove_hlc clock;
	rove_stamp st = {rove_hlc_tick(&clock, rove_wall_ms()), 7};

	return st;
}

/* An op of a client: a new op id, stamped now by a client node. Fields
 * are "name=value" strings: "null" for nil, "#12" an integer. */
static inline int srv_op_fields(rove_op *op, va_list ap)
{
	const char *f;

	while ((f = va_arg(ap, const char *)) != NULL) {
		char name[ROVE_MAX_FIELD_NAME + 1];
		const char *eq = strchr(f, '=');
		rove_value v;
		int rc;

		if (eq == NULL || (size_t)(eq - f) > ROVE_MAX_FIELD_NAME)
			return ROVE_EINVAL;
		memcpy(name, f, (size_t)(eq - f));
		name[eq - f] = '\0';
		if (strcmp(eq + 1, "null") == 0)
			v = rove_vnull();
		else if (eq[1] == '#')
			v = rove_vint(strtoll(eq + 2, NULL, 10));
		else
			v = rove_vcstr(eq + 1);
		rc = rove_op_set(op, name, v);
		if (rc != ROVE_OK)
			return rc;
	}
	return ROVE_OK;
}

static inline int srv_op(rove_op *op, uint8_t kind, uint8_t coll, const rove_uuid *rid, ...)
{
	rove_stamp st = srv_client_stamp();
	va_list ap;
	int rc;

	rove_op_init(op, kind, coll, rid, st);
	va_start(ap, rid);
	rc = srv_op_fields(op, ap);
	va_end(ap);
	return rc;
}

/* Pushes n ops by user; res gets an answer per op (n of them). */
static inline int srv_pushv(srv *s, const char *user, const rove_op *ops, uint32_t n, rove_push_result *res)
{
	rove_buf req, reply;
	rove_auth a;
	rove_uuid replica;
	rove_msg m;
	int rc;

	srv_auth(s, user, &a);
	rove_uuid_new(&replica);
	rove_buf_init(&req);
	rove_buf_init(&reply);
	rc = rove_enc_push(&req, &a, &replica, NULL, ops, n);
	if (rc == ROVE_OK)
		rc = srv_call(s, &req, &reply, &m);
	if (rc == ROVE_OK && (m.type != ROVE_MSG_PUSH_REPLY || m.u.push_reply.n != n))
		rc = ROVE_EPROTO;
	for (uint32_t i = 0; rc == ROVE_OK && i < n; i++)
		rc = rove_msg_next_result(&m, &res[i]);
	rove_buf_free(&req);
	rove_buf_free(&reply);
	return rc;
}

static inline int srv_push(srv *s, const char *user, const rove_op *op, rove_push_result *r)
{
	return srv_pushv(s, user, op, 1, r);
}

/* The reason alone (-1 for a failed request): for CHECK_EQ_INT. */
static inline int srv_reason(srv *s, const char *user, uint8_t kind, uint8_t coll, const rove_uuid *rid, ...)
{
	rove_op *op = malloc(sizeof(*op));
	rove_stamp st = srv_client_stamp();
	rove_push_result r;
	va_list ap;
	int rc;

	if (op == NULL)
		return -1;
	rove_op_init(op, kind, coll, rid, st);
	va_start(ap, rid);
	rc = srv_op_fields(op, ap);
	va_end(ap);
	if (rc == ROVE_OK)
		rc = srv_push(s, user, op, &r);
	free(op);
	if (rc != ROVE_OK) {
		fprintf(stderr, "push by %s failed: %s %s\n", user, rove_strerror(rc), s->err);
		return -1;
	}
	snprintf(s->line, sizeof(s->line), "%s", r.detail);
	return r.status == ROVE_PUSH_ACCEPTED ? ROVE_R_NONE : r.reason;
}

/* The record as the server holds it; ROVE_ENOTFOUND if none. */
static inline int srv_get(srv *s, uint8_t coll, const rove_uuid *id, rove_record *rec)
{
	MDB_txn *txn;
	int rc = rove_db_err(mdb_txn_begin(s->e.st.env, NULL, MDB_RDONLY, &txn), "begin");

	if (rc != ROVE_OK)
		return rc;
	rc = rove_store_record_get(&s->e.st, txn, coll, id, rec);
	mdb_txn_abort(txn);
	return rc;
}

/* A string field of a stored record ("" if absent or null) into out. */
static inline const char *srv_field(srv *s, uint8_t coll, const rove_uuid *id, const char *field, char *out,
				    size_t len)
{
	rove_record *rec = malloc(sizeof(*rec));
	const char *v = NULL;

	out[0] = '\0';
	if (rec != NULL && srv_get(s, coll, id, rec) == ROVE_OK)
		v = rove_fields_str(&rec->fs, field);
	snprintf(out, len, "%s", v != NULL ? v : "");
	free(rec);
	return out;
}

static inline int srv_user_get(srv *s, const char *name, rove_user *u)
{
	MDB_txn *txn;
	int rc = rove_db_err(mdb_txn_begin(s->e.st.env, NULL, MDB_RDONLY, &txn), "begin");

	if (rc != ROVE_OK)
		return rc;
	rc = rove_store_user_get(&s->e.st, txn, name, u, NULL);
	mdb_txn_abort(txn);
	return rc;
}

/* Calls fn for every conflict user may list, page by page. */
typedef int (*srv_conflict_fn)(const rove_conflict *c, void *arg);
static inline int srv_conflicts(srv *s, const char *user, srv_conflict_fn fn, void *arg)
{
	rove_conflicts_req q = {0, 0};
	rove_conflict *c = malloc(sizeof(*c));
	rove_auth a;
	int rc = c != NULL ? ROVE_OK : ROVE_ENOMEM;

	srv_auth(s, user, &a);
	while (rc == ROVE_OK) {
		rove_buf req, reply;
		rove_msg m;
		bool more = false;

		rove_buf_init(&req);
		rove_buf_init(&reply);
		rc = rove_enc_conflicts(&req, &a, &q);
		if (rc == ROVE_OK)
			rc = srv_call(s, &req, &reply, &m);
		if (rc == ROVE_OK && m.type != ROVE_MSG_CONFLICTS_REPLY)
			rc = ROVE_EPROTO;
		if (rc == ROVE_OK) {
			more = m.u.conflicts_reply.more;
			while (rc == ROVE_OK && (rc = rove_msg_next_conflict(&m, c)) == ROVE_OK) {
				if (c->n <= q.after)
					rc = ROVE_EPROTO;
				else
					q.after = c->n;
				if (rc == ROVE_OK)
					rc = fn(c, arg);
			}
			if (rc == ROVE_ENOTFOUND)
				rc = ROVE_OK;
		}
		rove_buf_free(&req);
		rove_buf_free(&reply);
		if (!more)
			break;
	}
	free(c);
	return rc;
}

/* How many of user's conflicts concern record id. */
typedef struct srv_count {
	rove_uuid id;
	int n;
} srv_count;

static inline int srv_count_one(const rove_conflict *c, void *arg)
{
	srv_count *k = arg;

	if (rove_uuid_cmp(&c->op.rid, &k->id) == 0)
		k->n++;
	return ROVE_OK;
}

static inline int srv_conflicts_about(srv *s, const char *user, const rove_uuid *id)
{
	srv_count k = {*id, 0};

	if (srv_conflicts(s, user, srv_count_one, &k) != ROVE_OK)
		return -1;
	return k.n;
}

/* How many records of collection coll name customer c and have field
 * equal to value, any value with field NULL (-1: the store could not be
 * read); *last (unless NULL) the id of the last one in key order. */
static inline int srv_records_find(srv *s, uint8_t coll, const rove_uuid *c, const char *field, const char *value,
				   rove_uuid *last)
{
	rove_record *rec = malloc(sizeof(*rec));
	char ids[ROVE_UUID_STRLEN + 1];
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int n = 0, mrc;

	rove_uuid_format(c, ids);
	if (rec == NULL || mdb_txn_begin(s->e.st.env, NULL, MDB_RDONLY, &txn) != 0 ||
	    mdb_cursor_open(txn, s->e.st.records, &cur) != 0)
		n = -1;
	for (mrc = n == 0 ? mdb_cursor_get(cur, &k, &v, MDB_FIRST) : -1; mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const char *cust, *f;
		if (((const uint8_t *)k.mv_data)[0] != coll)
			continue;
		if (rove_dec_record(v.mv_data, v.mv_size, rec) != ROVE_OK) {
			n = -1;
			break;
		}
		cust = rove_fields_str(&rec->fs, "customer");
		f = field != NULL ? rove_fields_str(&rec->fs, field) : NULL;
		if (cust != NULL && strcmp(cust, ids) == 0 && (field == NULL || (f != NULL && strcmp(f, value) == 0))) {
			n++;
			if (last != NULL)
				memcpy(last->b, (const uint8_t *)k.mv_data + 1, 16);
		}
	}
	if (cur != NULL)
		mdb_cursor_close(cur);
	if (txn != NULL)
		mdb_txn_abort(txn);
	free(rec);
	return n;
}

static inline int srv_records_named(srv *s, uint8_t coll, const rove_uuid *c, const char *field, const char *value)
{
	return srv_records_find(s, coll, c, field, value, NULL);
}

/* How many ownership history entries of customer c have this event. */
static inline int srv_history(srv *s, const rove_uuid *c, const char *event)
{
	return srv_records_named(s, ROVE_COLL_OWNERSHIP, c, "event", event);
}

/* A fixed id from a small number (readable in failures). */
static inline rove_uuid srv_id(unsigned n)
{
	rove_uuid id;
	char s[ROVE_UUID_STRLEN + 1];

	snprintf(s, sizeof(s), "01a22000-0000-7000-8000-%012x", n);
	rove_uuid_parse(s, &id);
	return id;
}

static inline const char *srv_ids(const rove_uuid *id, char out[ROVE_UUID_STRLEN + 1])
{
	rove_uuid_format(id, out);
	return out;
}

#endif
