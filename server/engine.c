#include "engine.h"

#include "db.h"
#include "err.h"
#include "log.h"
#include "policy.h"
#include "schema.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rove_engine_open(rove_engine *e, const char *dir)
{
	e->clock = rove_hlc_from_ms(rove_wall_ms());
	return rove_store_open(dir, &e->st);
}

void rove_engine_close(rove_engine *e)
{
	rove_store_close(&e->st);
}

bool rove_engine_is_write(const rove_msg *m)
{
	return m->type == ROVE_MSG_PUSH || m->type == ROVE_MSG_ADMIN;
}

void rove_engine_error(rove_buf *out, int code, const char *text)
{
	rove_buf_reset(out);
	if (rove_enc_error(out, code, text) != ROVE_OK)
		rove_error("cannot encode an error reply");
}

static int authenticate(rove_engine *e, MDB_txn *txn, const rove_auth *a, rove_user *u)
{
	uint8_t hash[ROVE_HASH_BYTES];
	int rc = rove_store_user_get(&e->st, txn, a->user, u, hash);

	if (rc == ROVE_ENOTFOUND) {
		/* Same work and answer as for a wrong token. */
		static const uint8_t zero[ROVE_HASH_BYTES];
		(void)rove_token_check(a->token, zero);
		return ROVE_EAUTH;
	}
	if (rc != ROVE_OK)
		return rc;
	return rove_token_check(a->token, hash) ? ROVE_OK : ROVE_EAUTH;
}

/* A stamp too far ahead of the server clock is replaced by the server's;
 * otherwise the server clock moves past it. */
static void stamp_op(rove_engine *e, rove_op *op)
{
	uint64_t wall = rove_wall_ms();

	if (rove_hlc_ms(op->st.hlc) > wall + ROVE_MAX_CLOCK_SKEW_MS) {
		rove_stamp st = {rove_hlc_tick(&e->clock, wall), op->st.node};
		rove_op_restamp(op, st);
	} else {
		rove_hlc_observe(&e->clock, op->st.hlc, wall);
	}
}

/* Decides, stores and answers one op. Returns an error only for storage
 * failures; a refused op is an answer, not an error. */
static int push_one(rove_engine *e, MDB_txn *txn, const rove_user *u, rove_op *op,
		    rove_record *rec, rove_buf *scratch, rove_push_result *r)
{
	const rove_record *cur = rec;
	int reason = ROVE_R_NONE;
	int rc;

	memset(r, 0, sizeof(*r));
	r->op_id = op->op_id;
	rc = rove_store_opid_get(&e->st, txn, &op->op_id, r);
	if (rc == ROVE_OK) {
		r->seen = true;
		return ROVE_OK;
	}
	if (rc != ROVE_ENOTFOUND)
		return rc;

	snprintf(op->author, sizeof(op->author), "%s", u->name);
	op->seq = 0;
	stamp_op(e, op);
	rc = rove_store_record_get(&e->st, txn, op->coll, &op->rid, rec);
	if (rc == ROVE_ENOTFOUND) {
		cur = NULL;
		rec->coll = op->coll;
		rec->id = op->rid;
		rove_fields_init(&rec->fs);
	} else if (rc != ROVE_OK) {
		return rc;
	}
	if (rove_schema_check_op(op, r->detail, sizeof(r->detail)) != ROVE_OK)
		reason = ROVE_R_INVALID;
	else
		reason = rove_policy_check(&e->st, txn, u, op, cur, r->detail, sizeof(r->detail));
	if (reason == ROVE_R_NONE) {
		rc = rove_record_apply(rec, op, NULL);
		if (rc == ROVE_ETOOBIG) {
			reason = ROVE_R_INVALID;
			snprintf(r->detail, sizeof(r->detail), "record would exceed its size limit");
		} else if (rc != ROVE_OK) {
			return rc;
		}
	}
	if (reason != ROVE_R_NONE) {
		r->status = ROVE_PUSH_REJECTED;
		r->reason = (uint8_t)reason;
		rc = rove_store_reject_put(&e->st, txn, op, reason, r->detail, scratch);
	} else {
		r->status = ROVE_PUSH_ACCEPTED;
		r->detail[0] = '\0';
		rc = rove_store_record_put(&e->st, txn, rec);
		if (rc == ROVE_OK)
			rc = rove_store_oplog_append(&e->st, txn, op, scratch);
		r->seq = op->seq;
		r->st = op->st;
	}
	if (rc == ROVE_OK)
		rc = rove_store_opid_put(&e->st, txn, r);
	return rc;
}

static int handle_push(rove_engine *e, MDB_txn *txn, rove_job *job)
{
	rove_msg *m = &job->msg;
	rove_push_result *res = NULL;
	rove_op *op = malloc(sizeof(*op));
	rove_record *rec = malloc(sizeof(*rec));
	rove_buf scratch;
	rove_user u;
	uint32_t n = m->u.push.n, i = 0;
	int rc = authenticate(e, txn, &m->auth, &u);

	rove_buf_init(&scratch);
	if (rc == ROVE_OK && (op == NULL || rec == NULL))
		rc = ROVE_ENOMEM;
	if (rc == ROVE_OK && n > 0) {
		res = calloc(n, sizeof(*res));
		if (res == NULL)
			rc = ROVE_ENOMEM;
	}
	for (i = 0; rc == ROVE_OK && i < n; i++) {
		rc = rove_msg_next_op(m, op);
		if (rc == ROVE_OK)
			rc = push_one(e, txn, &u, op, rec, &scratch, &res[i]);
	}
	if (rc == ROVE_OK) {
		rove_buf_reset(&job->reply);
		rc = rove_enc_push_reply(&job->reply, res, n);
	}
	free(res);
	free(op);
	free(rec);
	rove_buf_free(&scratch);
	return rc;
}

static bool valid_login(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > ROVE_MAX_NAME)
		return false;
	for (const char *p = s; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("._-@", *p) == NULL)
			return false;
	return true;
}

/* Copies admin arguments out of the message into NUL-terminated strings. */
static int admin_args(rove_msg *m, char args[][ROVE_MAX_ADMIN_ARG + 1], uint32_t *n)
{
	const char *s;
	uint32_t len;

	*n = 0;
	while (rove_msg_next_str(m, &s, &len) == ROVE_OK) {
		if (len > ROVE_MAX_ADMIN_ARG || memchr(s, '\0', len) != NULL)
			return ROVE_EINVAL;
		memcpy(args[*n], s, len);
		args[*n][len] = '\0';
		(*n)++;
	}
	return ROVE_OK;
}

static int admin_user_add(rove_engine *e, MDB_txn *txn, char args[][ROVE_MAX_ADMIN_ARG + 1],
			  uint32_t nargs, rove_job *job)
{
	char token[ROVE_TOKEN_HEX + 1];
	uint8_t hash[ROVE_HASH_BYTES];
	const char *line = token;
	rove_user u;
	int rc;

	if (nargs < 2) {
		rove_engine_error(&job->reply, ROVE_EINVAL, "usage: user.add NAME ROLE");
		return ROVE_OK;
	}
	if (!valid_login(args[0])) {
		rove_engine_error(&job->reply, ROVE_EINVAL,
				  "invalid user name (letters, digits and . _ - @, at most 64)");
		return ROVE_OK;
	}
	u.role = rove_role_parse(args[1]);
	if (u.role == 0) {
		rove_engine_error(&job->reply, ROVE_EINVAL,
				  "invalid role (rep, manager, analyst or admin)");
		return ROVE_OK;
	}
	rc = rove_store_user_get(&e->st, txn, args[0], &u, NULL);
	if (rc == ROVE_OK) {
		rove_engine_error(&job->reply, ROVE_EEXIST, "user already exists");
		return ROVE_OK;
	}
	if (rc != ROVE_ENOTFOUND)
		return rc;
	snprintf(u.name, sizeof(u.name), "%s", args[0]);
	u.role = rove_role_parse(args[1]);
	rc = rove_token_new(token);
	if (rc != ROVE_OK)
		return rc;
	rove_token_hash(token, hash);
	rc = rove_store_user_put(&e->st, txn, &u, hash);
	if (rc != ROVE_OK)
		return rc;
	rove_buf_reset(&job->reply);
	return rove_enc_admin_reply(&job->reply, &line, 1);
}

static int handle_admin(rove_engine *e, MDB_txn *txn, rove_job *job)
{
	static char args[ROVE_MAX_ADMIN_ARGS][ROVE_MAX_ADMIN_ARG + 1]; /* writer only */
	rove_msg *m = &job->msg;
	rove_user u;
	uint32_t nargs;
	int rc = authenticate(e, txn, &m->auth, &u);

	if (rc != ROVE_OK)
		return rc;
	if (admin_args(m, args, &nargs) != ROVE_OK) {
		rove_engine_error(&job->reply, ROVE_EINVAL, "invalid argument");
		return ROVE_OK;
	}
	if (strcmp(m->u.admin.cmd, "user.add") == 0) {
		if (u.role != ROVE_ROLE_ADMIN) {
			rove_engine_error(&job->reply, ROVE_EPERM, "only an admin may add users");
			return ROVE_OK;
		}
		return admin_user_add(e, txn, args, nargs, job);
	}
	rove_engine_error(&job->reply, ROVE_EINVAL, "unknown admin command");
	return ROVE_OK;
}

void rove_engine_write(rove_engine *e, rove_job *const *jobs, size_t n)
{
	MDB_txn *txn = NULL;
	int rc = rove_db_err(mdb_txn_begin(e->st.env, NULL, 0, &txn), "begin");

	for (size_t i = 0; rc == ROVE_OK && i < n; i++) {
		rove_job *job = jobs[i];
		MDB_txn *child = NULL;
		int jrc = rove_db_err(mdb_txn_begin(e->st.env, txn, 0, &child), "begin nested");

		if (jrc == ROVE_OK) {
			if (job->msg.type == ROVE_MSG_PUSH)
				jrc = handle_push(e, child, job);
			else if (job->msg.type == ROVE_MSG_ADMIN)
				jrc = handle_admin(e, child, job);
			else
				jrc = ROVE_EINVAL;
		}
		if (jrc == ROVE_OK) {
			jrc = rove_db_err(mdb_txn_commit(child), "commit nested");
		} else if (child != NULL) {
			mdb_txn_abort(child);
		}
		if (jrc != ROVE_OK)
			rove_engine_error(&job->reply, jrc, rove_strerror(jrc));
	}
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_txn_commit(txn), "commit");
	else if (txn != NULL)
		mdb_txn_abort(txn);
	if (rc != ROVE_OK) {
		for (size_t i = 0; i < n; i++)
			rove_engine_error(&jobs[i]->reply, rc, rove_strerror(rc));
	}
}

/* Fills items with records from the snapshot resume key on. */
static int pull_snapshot(rove_engine *e, MDB_txn *txn, const rove_user *u, const rove_pull_req *q,
			 uint32_t max, rove_pull_reply *h, rove_buf *items)
{
	MDB_cursor *c;
	MDB_val k, v;
	rove_record *rec = malloc(sizeof(*rec));
	int rc, mrc;

	if (rec == NULL)
		return ROVE_ENOMEM;
	rc = rove_db_err(mdb_cursor_open(txn, e->st.records, &c), "cursor");
	if (rc != ROVE_OK) {
		free(rec);
		return rc;
	}
	if (q->snap_keylen > 0) {
		k.mv_size = q->snap_keylen;
		k.mv_data = (void *)q->snap_key;
		mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		if (mrc == 0 && k.mv_size == q->snap_keylen &&
		    memcmp(k.mv_data, q->snap_key, q->snap_keylen) == 0)
			mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	} else {
		mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	}
	h->n = 0;
	h->more = false;
	while (mrc == 0) {
		if (h->n >= max || items->len >= ROVE_PULL_CHUNK_BYTES) {
			h->more = true;
			break;
		}
		if (k.mv_size != ROVE_RECORD_KEY || rove_dec_record(v.mv_data, v.mv_size, rec) != ROVE_OK) {
			rove_error("corrupt record in the store");
			rc = ROVE_EPROTO;
			break;
		}
		if (!rove_record_deleted(rec) && rove_policy_visible(&e->st, txn, u, rec)) {
			rc = rove_buf_append(items, v.mv_data, v.mv_size);
			if (rc != ROVE_OK)
				break;
			h->n++;
		}
		memcpy(h->snap_key, k.mv_data, k.mv_size);
		h->snap_keylen = (uint32_t)k.mv_size;
		mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	if (rc == ROVE_OK && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, "records");
	mdb_cursor_close(c);
	free(rec);
	return rc;
}

/* Fills items with ops after the cursor. */
static int pull_ops(rove_engine *e, MDB_txn *txn, const rove_user *u, uint64_t cursor,
		    uint32_t max, rove_pull_reply *h, rove_buf *items)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint8_t key[8];
	rove_op *op = malloc(sizeof(*op));
	int rc, mrc;

	if (op == NULL)
		return ROVE_ENOMEM;
	rc = rove_db_err(mdb_cursor_open(txn, e->st.oplog, &c), "cursor");
	if (rc != ROVE_OK) {
		free(op);
		return rc;
	}
	rove_be64_put(key, cursor + 1);
	k.mv_size = 8;
	k.mv_data = key;
	h->n = 0;
	h->more = false;
	h->cursor = cursor;
	mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (mrc == 0) {
		if (h->n >= max || items->len >= ROVE_PULL_CHUNK_BYTES) {
			h->more = true;
			break;
		}
		if (k.mv_size != 8 || rove_dec_op(v.mv_data, v.mv_size, op) != ROVE_OK ||
		    op->seq != rove_be64_get(k.mv_data)) {
			rove_error("corrupt op in the oplog");
			rc = ROVE_EPROTO;
			break;
		}
		if (rove_policy_op_visible(&e->st, txn, u, op)) {
			rc = rove_buf_append(items, v.mv_data, v.mv_size);
			if (rc != ROVE_OK)
				break;
			h->n++;
		}
		h->cursor = op->seq;
		mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	if (rc == ROVE_OK && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, "oplog");
	mdb_cursor_close(c);
	free(op);
	return rc;
}

static int handle_pull(rove_engine *e, MDB_txn *txn, rove_job *job)
{
	const rove_pull_req *q = &job->msg.u.pull;
	rove_pull_reply h;
	rove_buf items;
	rove_user u;
	uint32_t max = q->max_items;
	int rc = authenticate(e, txn, &job->msg.auth, &u);

	if (rc != ROVE_OK)
		return rc;
	memset(&h, 0, sizeof(h));
	snprintf(h.role, sizeof(h.role), "%s", rove_role_name(u.role));
	rc = rove_store_head(&e->st, txn, &h.head);
	if (rc != ROVE_OK)
		return rc;
	if (max == 0 || max > ROVE_MAX_PULL_ITEMS)
		max = ROVE_MAX_PULL_ITEMS;
	if (q->cursor > h.head || q->snap_seq > h.head) {
		rove_engine_error(&job->reply, ROVE_EINVAL, "cursor is ahead of the server");
		return ROVE_OK;
	}
	rove_buf_init(&items);
	if (q->cursor == 0 || q->snap_seq != 0) {
		h.mode = ROVE_PULL_SNAPSHOT;
		h.snap_seq = q->snap_seq != 0 ? q->snap_seq : h.head;
		rc = pull_snapshot(e, txn, &u, q, max, &h, &items);
		h.cursor = h.more ? 0 : h.snap_seq;
	} else {
		h.mode = ROVE_PULL_OPS;
		rc = pull_ops(e, txn, &u, q->cursor, max, &h, &items);
	}
	if (rc == ROVE_OK) {
		rove_buf_reset(&job->reply);
		rc = rove_enc_pull_reply(&job->reply, &h, &items);
	}
	rove_buf_free(&items);
	return rc;
}

void rove_engine_read(rove_engine *e, rove_job *job)
{
	MDB_txn *txn = NULL;
	int rc = rove_db_err(mdb_txn_begin(e->st.env, NULL, MDB_RDONLY, &txn), "begin");

	if (rc == ROVE_OK) {
		if (job->msg.type == ROVE_MSG_PULL)
			rc = handle_pull(e, txn, job);
		else
			rc = ROVE_EINVAL;
		mdb_txn_abort(txn);
	}
	if (rc != ROVE_OK)
		rove_engine_error(&job->reply, rc, rove_strerror(rc));
}
