#include "proto.h"

#include "err.h"
#include "mp_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- encoding -------------------------------------------------------- */

static void e_request(rove_mp_writer *e, int type, const rove_auth *a, uint32_t nbody)
{
	rove_mp_put_array(e, 4 + nbody);
	rove_mp_put_u64(e, ROVE_PROTO_VERSION);
	rove_mp_put_u64(e, (uint64_t)type);
	rove_mp_put_str(e, a->user);
	rove_mp_put_str(e, a->token);
}

static void e_reply(rove_mp_writer *e, int type, uint32_t nbody)
{
	rove_mp_put_array(e, 2 + nbody);
	rove_mp_put_u64(e, ROVE_PROTO_VERSION);
	rove_mp_put_u64(e, (uint64_t)type);
}

static void e_op(rove_mp_writer *e, const rove_op *op)
{
	rove_mp_put_array(e, 9);
	rove_mp_put_bin(e, op->op_id.b, 16);
	rove_mp_put_u64(e, op->kind);
	rove_mp_put_u64(e, op->coll);
	rove_mp_put_bin(e, op->rid.b, 16);
	rove_mp_put_u64(e, op->st.hlc.v);
	rove_mp_put_u64(e, op->st.node);
	rove_mp_put_u64(e, op->seq);
	rove_mp_put_str(e, op->author);
	rove_mp_put_array(e, op->fs.n);
	for (uint32_t i = 0; i < op->fs.n; i++) {
		rove_mp_put_array(e, 2);
		rove_mp_put_str(e, op->fs.f[i].name);
		rove_mp_put_value(e, &op->fs.f[i].v);
	}
}

int rove_enc_op(rove_buf *out, const rove_op *op)
{
	size_t start = out->len;
	rove_mp_writer e;

	rove_mp_writer_init(&e, out);
	e_op(&e, op);
	return rove_mp_writer_done(&e, out, start);
}

int rove_enc_record(rove_buf *out, const rove_record *rec)
{
	size_t start = out->len;
	rove_mp_writer e;

	rove_mp_writer_init(&e, out);
	rove_mp_put_array(&e, 3);
	rove_mp_put_u64(&e, rec->coll);
	rove_mp_put_bin(&e, rec->id.b, 16);
	rove_mp_put_array(&e, rec->fs.n);
	for (uint32_t i = 0; i < rec->fs.n; i++) {
		const rove_field *f = &rec->fs.f[i];
		rove_mp_put_array(&e, 4);
		rove_mp_put_str(&e, f->name);
		rove_mp_put_value(&e, &f->v);
		rove_mp_put_u64(&e, f->st.hlc.v);
		rove_mp_put_u64(&e, f->st.node);
	}
	return rove_mp_writer_done(&e, out, start);
}

int rove_enc_rejection(rove_buf *out, uint64_t time_ms, int reason, const char *detail, const rove_op *op)
{
	size_t start = out->len;
	rove_mp_writer e;

	if (reason < 0 || reason >= ROVE_R_COUNT)
		return ROVE_EINVAL;
	rove_mp_writer_init(&e, out);
	rove_mp_put_array(&e, 4);
	rove_mp_put_u64(&e, time_ms);
	rove_mp_put_u64(&e, (uint64_t)reason);
	rove_mp_put_strn(&e, detail, strnlen(detail, ROVE_MAX_DETAIL));
	e_op(&e, op);
	return rove_mp_writer_done(&e, out, start);
}

int rove_enc_push(rove_buf *out, const rove_auth *a, const rove_uuid *replica, const rove_seen *seen,
		  const rove_op *ops, uint32_t n)
{
	static const rove_seen nothing;
	size_t start = out->len;
	rove_mp_writer e;

	if (n > ROVE_MAX_PUSH_OPS)
		return ROVE_ETOOBIG;
	if (seen == NULL)
		seen = &nothing;
	rove_mp_writer_init(&e, out);
	e_request(&e, ROVE_MSG_PUSH, a, 7);
	rove_mp_put_bin(&e, replica->b, 16);
	rove_mp_put_u64(&e, seen->server);
	rove_mp_put_bin(&e, seen->run.b, 16);
	rove_mp_put_u64(&e, seen->seq);
	rove_mp_put_bin(&e, seen->ack_run.b, 16);
	rove_mp_put_u64(&e, seen->ack_seq);
	rove_mp_put_array(&e, n);
	for (uint32_t i = 0; i < n; i++)
		e_op(&e, &ops[i]);
	return rove_mp_writer_done(&e, out, start);
}

int rove_enc_push_reply(rove_buf *out, uint64_t server, const rove_uuid *run, const rove_push_result *res,
			uint32_t n)
{
	size_t start = out->len;
	rove_mp_writer e;

	if (n > ROVE_MAX_PUSH_OPS)
		return ROVE_ETOOBIG;
	rove_mp_writer_init(&e, out);
	e_reply(&e, ROVE_MSG_PUSH_REPLY, 3);
	rove_mp_put_u64(&e, server);
	rove_mp_put_bin(&e, run->b, 16);
	rove_mp_put_array(&e, n);
	for (uint32_t i = 0; i < n; i++) {
		const rove_push_result *r = &res[i];
		rove_mp_put_array(&e, 8);
		rove_mp_put_bin(&e, r->op_id.b, 16);
		rove_mp_put_u64(&e, r->status);
		rove_mp_put_bool(&e, r->seen);
		rove_mp_put_u64(&e, r->seq);
		rove_mp_put_u64(&e, r->reason);
		rove_mp_put_str(&e, r->detail);
		rove_mp_put_u64(&e, r->st.hlc.v);
		rove_mp_put_u64(&e, r->st.node);
	}
	return rove_mp_writer_done(&e, out, start);
}

int rove_enc_pull(rove_buf *out, const rove_auth *a, const rove_pull_req *req)
{
	size_t start = out->len;
	rove_mp_writer e;

	if (req->snap_keylen > ROVE_MAX_SNAP_KEY)
		return ROVE_ETOOBIG;
	rove_mp_writer_init(&e, out);
	e_request(&e, ROVE_MSG_PULL, a, 10);
	rove_mp_put_bin(&e, req->replica.b, 16);
	rove_mp_put_u64(&e, req->cursor);
	rove_mp_put_u64(&e, req->snap_seq);
	rove_mp_put_bin(&e, req->snap_key, req->snap_keylen);
	rove_mp_put_u64(&e, req->epoch);
	rove_mp_put_u64(&e, req->max_items);
	rove_mp_put_u64(&e, req->server);
	rove_mp_put_bin(&e, req->run.b, 16);
	rove_mp_put_bin(&e, req->ack_run.b, 16);
	rove_mp_put_u64(&e, req->ack_seq);
	return rove_mp_writer_done(&e, out, start);
}

int rove_enc_pull_reply(rove_buf *out, const rove_pull_reply *h, const rove_buf *items)
{
	size_t start = out->len;
	rove_mp_writer e;

	if (h->snap_keylen > ROVE_MAX_SNAP_KEY || h->n > ROVE_MAX_PULL_ITEMS)
		return ROVE_ETOOBIG;
	rove_mp_writer_init(&e, out);
	e_reply(&e, ROVE_MSG_PULL_REPLY, 12);
	rove_mp_put_str(&e, h->role);
	rove_mp_put_u64(&e, h->mode);
	rove_mp_put_u64(&e, h->head);
	rove_mp_put_u64(&e, h->cursor);
	rove_mp_put_u64(&e, h->snap_seq);
	rove_mp_put_bin(&e, h->snap_key, h->snap_keylen);
	rove_mp_put_u64(&e, h->epoch);
	rove_mp_put_bool(&e, h->reset);
	rove_mp_put_bool(&e, h->more);
	rove_mp_put_u64(&e, h->server);
	rove_mp_put_bin(&e, h->run.b, 16);
	rove_mp_put_array(&e, h->n);
	if (!e.err && items != NULL && rove_buf_append(out, items->data, items->len) != ROVE_OK)
		e.err = 1;
	return rove_mp_writer_done(&e, out, start);
}

int rove_enc_entry_op_raw(rove_buf *out, const void *op, size_t len)
{
	size_t start = out->len;
	rove_mp_writer e;

	rove_mp_writer_init(&e, out);
	rove_mp_put_array(&e, 2);
	rove_mp_put_u64(&e, ROVE_ENTRY_OP);
	if (!e.err && rove_buf_append(out, op, len) != ROVE_OK)
		e.err = 1;
	return rove_mp_writer_done(&e, out, start);
}

int rove_enc_entry_record_raw(rove_buf *out, const void *rec, size_t len)
{
	size_t start = out->len;
	rove_mp_writer e;

	rove_mp_writer_init(&e, out);
	rove_mp_put_array(&e, 2);
	rove_mp_put_u64(&e, ROVE_ENTRY_RECORD);
	if (!e.err && rove_buf_append(out, rec, len) != ROVE_OK)
		e.err = 1;
	return rove_mp_writer_done(&e, out, start);
}

int rove_enc_entry_evict(rove_buf *out, uint8_t coll, const rove_uuid *id)
{
	size_t start = out->len;
	rove_mp_writer e;

	rove_mp_writer_init(&e, out);
	rove_mp_put_array(&e, 3);
	rove_mp_put_u64(&e, ROVE_ENTRY_EVICT);
	rove_mp_put_u64(&e, coll);
	rove_mp_put_bin(&e, id->b, 16);
	return rove_mp_writer_done(&e, out, start);
}

int rove_enc_conflicts(rove_buf *out, const rove_auth *a, const rove_conflicts_req *req)
{
	size_t start = out->len;
	rove_mp_writer e;

	rove_mp_writer_init(&e, out);
	e_request(&e, ROVE_MSG_CONFLICTS, a, 2);
	rove_mp_put_u64(&e, req->after);
	rove_mp_put_u64(&e, req->max);
	return rove_mp_writer_done(&e, out, start);
}

int rove_enc_conflicts_reply(rove_buf *out, bool more, uint32_t n, const rove_buf *items)
{
	size_t start = out->len;
	rove_mp_writer e;

	if (n > ROVE_MAX_PULL_ITEMS)
		return ROVE_ETOOBIG;
	rove_mp_writer_init(&e, out);
	e_reply(&e, ROVE_MSG_CONFLICTS_REPLY, 2);
	rove_mp_put_bool(&e, more);
	rove_mp_put_array(&e, n);
	if (!e.err && items != NULL && rove_buf_append(out, items->data, items->len) != ROVE_OK)
		e.err = 1;
	return rove_mp_writer_done(&e, out, start);
}

int rove_enc_conflict_raw(rove_buf *out, uint64_t n, uint64_t time_ms, int reason, const char *detail,
			  uint64_t dropped, const void *op, size_t len)
{
	size_t start = out->len;
	size_t dlen = strlen(detail);
	rove_mp_writer e;

	rove_mp_writer_init(&e, out);
	rove_mp_put_array(&e, 6);
	rove_mp_put_u64(&e, n);
	rove_mp_put_u64(&e, time_ms);
	rove_mp_put_u64(&e, reason < 0 ? 0 : (uint64_t)reason);
	rove_mp_put_strn(&e, detail, dlen > ROVE_MAX_DETAIL ? ROVE_MAX_DETAIL : dlen);
	if (!e.err && rove_buf_append(out, op, len) != ROVE_OK)
		e.err = 1;
	rove_mp_put_u64(&e, dropped);
	return rove_mp_writer_done(&e, out, start);
}

int rove_enc_admin(rove_buf *out, const rove_auth *a, const char *cmd, const char *const *args, uint32_t nargs)
{
	size_t start = out->len;
	rove_mp_writer e;

	if (nargs > ROVE_MAX_ADMIN_ARGS || strlen(cmd) > ROVE_MAX_NAME)
		return ROVE_ETOOBIG;
	for (uint32_t i = 0; i < nargs; i++)
		if (strlen(args[i]) > ROVE_MAX_ADMIN_ARG)
			return ROVE_ETOOBIG;
	rove_mp_writer_init(&e, out);
	e_request(&e, ROVE_MSG_ADMIN, a, 2);
	rove_mp_put_str(&e, cmd);
	rove_mp_put_array(&e, nargs);
	for (uint32_t i = 0; i < nargs; i++)
		rove_mp_put_str(&e, args[i]);
	return rove_mp_writer_done(&e, out, start);
}

int rove_enc_admin_reply(rove_buf *out, const char *const *lines, uint32_t n)
{
	size_t start = out->len;
	rove_mp_writer e;

	rove_mp_writer_init(&e, out);
	e_reply(&e, ROVE_MSG_ADMIN_REPLY, 1);
	rove_mp_put_array(&e, n);
	for (uint32_t i = 0; i < n; i++) {
		size_t len = strlen(lines[i]);
		rove_mp_put_strn(&e, lines[i], len > ROVE_MAX_STR ? ROVE_MAX_STR : len);
	}
	return rove_mp_writer_done(&e, out, start);
}

int rove_enc_error(rove_buf *out, int code, const char *text)
{
	size_t start = out->len;
	size_t len = strlen(text);
	rove_mp_writer e;

	rove_mp_writer_init(&e, out);
	e_reply(&e, ROVE_MSG_ERROR, 2);
	rove_mp_put_u64(&e, code < 0 ? 0 : (uint64_t)code);
	rove_mp_put_strn(&e, text, len > ROVE_MAX_ERRMSG ? ROVE_MAX_ERRMSG : len);
	return rove_mp_writer_done(&e, out, start);
}

/* Fields of an op (stamped) or a record (with_stamps: per-field stamp). */
static int rd_fields(rove_mp_reader *r, rove_fields *fs, bool with_stamps, rove_stamp st)
{
	uint32_t n;
	int rc = rove_mp_get_array(r, ROVE_MAX_FIELDS, &n);

	if (rc != ROVE_OK)
		return rc;
	rove_fields_init(fs);
	for (uint32_t i = 0; i < n; i++) {
		char name[ROVE_MAX_FIELD_NAME + 1];
		rove_value v;

		rc = rove_mp_get_exact_array(r, with_stamps ? 4 : 2);
		if (rc == ROVE_OK)
			rc = rove_mp_get_cstr(r, name, ROVE_MAX_FIELD_NAME);
		if (rc == ROVE_OK && name[0] == '\0')
			rc = ROVE_EPROTO;
		if (rc == ROVE_OK)
			rc = rove_mp_get_value(r, &v);
		if (rc == ROVE_OK && with_stamps)
			rc = rove_mp_get_u64(r, &st.hlc.v);
		if (rc == ROVE_OK && with_stamps)
			rc = rove_mp_get_u64(r, &st.node);
		if (rc == ROVE_OK && rove_fields_get(fs, name) != NULL)
			rc = ROVE_EPROTO; /* a field twice */
		if (rc == ROVE_OK)
			rc = rove_fields_set(fs, name, v, st);
		if (rc != ROVE_OK)
			return rc == ROVE_EINVAL ? ROVE_EPROTO : rc;
	}
	return ROVE_OK;
}

static int rd_op(rove_mp_reader *r, rove_op *op)
{
	uint64_t kind, coll;
	int rc = rove_mp_get_exact_array(r, 9);

	if (rc == ROVE_OK)
		rc = rove_mp_get_uuid(r, &op->op_id);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64_max(r, ROVE_OP_KIND_MAX, &kind);
	if (rc == ROVE_OK && kind == 0)
		rc = ROVE_EPROTO;
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64_max(r, 255, &coll);
	if (rc == ROVE_OK)
		rc = rove_mp_get_uuid(r, &op->rid);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64(r, &op->st.hlc.v);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64(r, &op->st.node);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64(r, &op->seq);
	if (rc == ROVE_OK)
		rc = rove_mp_get_cstr(r, op->author, ROVE_MAX_NAME);
	if (rc == ROVE_OK)
		rc = rd_fields(r, &op->fs, false, op->st);
	if (rc != ROVE_OK)
		return rc;
	op->kind = (uint8_t)kind;
	op->coll = (uint8_t)coll;
	return ROVE_OK;
}

static int rd_record(rove_mp_reader *r, rove_record *rec)
{
	uint64_t coll;
	rove_stamp zero = {{0}, 0};
	int rc = rove_mp_get_exact_array(r, 3);

	if (rc == ROVE_OK)
		rc = rove_mp_get_u64_max(r, 255, &coll);
	if (rc == ROVE_OK)
		rc = rove_mp_get_uuid(r, &rec->id);
	if (rc == ROVE_OK)
		rc = rd_fields(r, &rec->fs, true, zero);
	if (rc != ROVE_OK)
		return rc;
	rec->coll = (uint8_t)coll;
	return ROVE_OK;
}

static int rd_result(rove_mp_reader *r, rove_push_result *res)
{
	uint64_t status, reason;
	int rc = rove_mp_get_exact_array(r, 8);

	if (rc == ROVE_OK)
		rc = rove_mp_get_uuid(r, &res->op_id);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64_max(r, ROVE_PUSH_REJECTED, &status);
	if (rc == ROVE_OK)
		rc = rove_mp_get_bool(r, &res->seen);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64(r, &res->seq);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64_max(r, ROVE_R_COUNT - 1, &reason);
	if (rc == ROVE_OK)
		rc = rove_mp_get_cstr(r, res->detail, ROVE_MAX_DETAIL);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64(r, &res->st.hlc.v);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64(r, &res->st.node);
	if (rc != ROVE_OK)
		return rc;
	res->status = (uint8_t)status;
	res->reason = (uint8_t)reason;
	return ROVE_OK;
}

int rove_dec_op(const void *data, size_t len, rove_op *op)
{
	rove_mp_reader r = {data, (const uint8_t *)data + len};
	int rc = rd_op(&r, op);

	if (rc == ROVE_OK && r.p != r.end)
		rc = ROVE_EPROTO;
	return rc;
}

int rove_dec_record(const void *data, size_t len, rove_record *rec)
{
	rove_mp_reader r = {data, (const uint8_t *)data + len};
	int rc = rd_record(&r, rec);

	if (rc == ROVE_OK && r.p != r.end)
		rc = ROVE_EPROTO;
	return rc;
}

int rove_dec_rejection(const void *data, size_t len, rove_rejection *rj)
{
	rove_mp_reader r = {data, (const uint8_t *)data + len};
	uint64_t reason = 0;
	int rc = rove_mp_get_exact_array(&r, 4);

	if (rc == ROVE_OK)
		rc = rove_mp_get_u64(&r, &rj->time_ms);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64_max(&r, ROVE_R_COUNT - 1, &reason);
	if (rc == ROVE_OK)
		rc = rove_mp_get_cstr(&r, rj->detail, ROVE_MAX_DETAIL);
	rj->op_raw = r.p;
	if (rc == ROVE_OK)
		rc = rd_op(&r, &rj->op);
	rj->op_rawlen = (size_t)(r.p - rj->op_raw);
	if (rc == ROVE_OK && r.p != r.end)
		rc = ROVE_EPROTO;
	rj->reason = (uint8_t)reason;
	return rc;
}

static int rd_entry(rove_mp_reader *r, rove_entry *e)
{
	uint32_t n;
	uint64_t tag, coll = 0;
	int rc = rove_mp_get_array(r, 3, &n);

	if (rc != ROVE_OK)
		return ROVE_EPROTO;
	if (rove_mp_get_u64_max(r, ROVE_ENTRY_EVICT, &tag) != ROVE_OK)
		return ROVE_EPROTO;
	e->tag = (uint8_t)tag;
	switch (tag) {
	case ROVE_ENTRY_OP:
		if (n != 2)
			return ROVE_EPROTO;
		e->raw = r->p;
		rc = rd_op(r, &e->op);
		e->rawlen = (size_t)(r->p - e->raw);
		e->coll = e->op.coll;
		e->id = e->op.rid;
		return rc;
	case ROVE_ENTRY_RECORD:
		if (n != 2)
			return ROVE_EPROTO;
		e->raw = r->p;
		rc = rd_record(r, &e->rec);
		e->rawlen = (size_t)(r->p - e->raw);
		e->coll = e->rec.coll;
		e->id = e->rec.id;
		return rc;
	default:
		if (n != 3)
			return ROVE_EPROTO;
		e->raw = NULL;
		e->rawlen = 0;
		rc = rove_mp_get_u64_max(r, 255, &coll);
		if (rc == ROVE_OK)
			rc = rove_mp_get_uuid(r, &e->id);
		if (rc == ROVE_OK)
			e->coll = (uint8_t)coll;
		return rc;
	}
}

/* Five elements from a server that drops no refusals, six since. */
static int rd_conflict(rove_mp_reader *r, rove_conflict *c)
{
	uint64_t reason = 0;
	uint32_t n = 0;
	int rc = rove_mp_get_array(r, 6, &n);

	if (rc == ROVE_ETOOBIG || (rc == ROVE_OK && n != 5 && n != 6))
		rc = ROVE_EPROTO;
	c->dropped = 0;
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64(r, &c->n);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64(r, &c->time_ms);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64_max(r, ROVE_R_COUNT - 1, &reason);
	if (rc == ROVE_OK)
		rc = rove_mp_get_cstr(r, c->detail, ROVE_MAX_DETAIL);
	if (rc == ROVE_OK)
		rc = rd_op(r, &c->op);
	if (rc == ROVE_OK && n == 6)
		rc = rove_mp_get_u64(r, &c->dropped);
	c->reason = (uint8_t)reason;
	return rc;
}

/* A string item: an admin argument or a reply line; never a NUL. */
static int rd_line(rove_mp_reader *r, uint32_t max, const char **s, uint32_t *len)
{
	int rc = rove_mp_get_raw(r, false, max, s, len);

	if (rc == ROVE_OK && *len > 0 && memchr(*s, '\0', *len) != NULL)
		return ROVE_EPROTO;
	return rc;
}

/* Item kinds a message type carries, for the validation pass. */
enum item_kind { ITEM_NONE, ITEM_OP, ITEM_ENTRY, ITEM_RESULT, ITEM_ARG, ITEM_LINE, ITEM_CONFLICT };

static int rd_item(rove_mp_reader *r, enum item_kind kind, void *scratch)
{
	const char *s;
	uint32_t len;

	switch (kind) {
	case ITEM_OP:
		return rd_op(r, scratch);
	case ITEM_ENTRY:
		return rd_entry(r, scratch);
	case ITEM_CONFLICT:
		return rd_conflict(r, scratch);
	case ITEM_RESULT:
		return rd_result(r, scratch);
	case ITEM_ARG:
		return rd_line(r, ROVE_MAX_ADMIN_ARG, &s, &len);
	case ITEM_LINE:
		return rd_line(r, ROVE_MAX_STR, &s, &len);
	default:
		return ROVE_EPROTO;
	}
}

static int rd_snap_key(rove_mp_reader *r, uint8_t *key, uint32_t *keylen)
{
	const char *s;
	uint32_t len;
	int rc = rove_mp_get_raw(r, true, ROVE_MAX_SNAP_KEY, &s, &len);

	if (rc != ROVE_OK)
		return rc;
	memcpy(key, s, len);
	*keylen = len;
	return ROVE_OK;
}

static int rd_auth(rove_mp_reader *r, rove_auth *a)
{
	int rc = rove_mp_get_cstr(r, a->user, ROVE_MAX_NAME);

	if (rc == ROVE_OK)
		rc = rove_mp_get_cstr(r, a->token, ROVE_TOKEN_HEX);
	return rc;
}

static int decode_body(rove_mp_reader *r, uint32_t nbody, rove_msg *m, enum item_kind *kind, uint32_t *max)
{
	uint64_t v = 0;
	int rc = ROVE_OK;

	switch (m->type) {
	case ROVE_MSG_PUSH:
		if (nbody != 9)
			return ROVE_EPROTO;
		rc = rd_auth(r, &m->auth);
		if (rc == ROVE_OK)
			rc = rove_mp_get_uuid(r, &m->u.push.replica);
		if (rc == ROVE_OK)
			rc = rove_mp_get_u64(r, &m->u.push.seen.server);
		if (rc == ROVE_OK)
			rc = rove_mp_get_uuid(r, &m->u.push.seen.run);
		if (rc == ROVE_OK)
			rc = rove_mp_get_u64(r, &m->u.push.seen.seq);
		if (rc == ROVE_OK)
			rc = rove_mp_get_uuid(r, &m->u.push.seen.ack_run);
		if (rc == ROVE_OK)
			rc = rove_mp_get_u64(r, &m->u.push.seen.ack_seq);
		*kind = ITEM_OP;
		*max = ROVE_MAX_PUSH_OPS;
		break;
	case ROVE_MSG_PUSH_REPLY:
		if (nbody != 3)
			return ROVE_EPROTO;
		rc = rove_mp_get_u64(r, &m->u.push_reply.server);
		if (rc == ROVE_OK)
			rc = rove_mp_get_uuid(r, &m->u.push_reply.run);
		*kind = ITEM_RESULT;
		*max = ROVE_MAX_PUSH_OPS;
		break;
	case ROVE_MSG_PULL: {
		rove_pull_req *q = &m->u.pull;
		if (nbody != 12)
			return ROVE_EPROTO;
		rc = rd_auth(r, &m->auth);
		if (rc == ROVE_OK)
			rc = rove_mp_get_uuid(r, &q->replica);
		if (rc == ROVE_OK)
			rc = rove_mp_get_u64(r, &q->cursor);
		if (rc == ROVE_OK)
			rc = rove_mp_get_u64(r, &q->snap_seq);
		if (rc == ROVE_OK)
			rc = rd_snap_key(r, q->snap_key, &q->snap_keylen);
		if (rc == ROVE_OK)
			rc = rove_mp_get_u64(r, &q->epoch);
		if (rc == ROVE_OK)
			rc = rove_mp_get_u64_max(r, UINT32_MAX, &v);
		q->max_items = (uint32_t)v;
		if (rc == ROVE_OK)
			rc = rove_mp_get_u64(r, &q->server);
		if (rc == ROVE_OK)
			rc = rove_mp_get_uuid(r, &q->run);
		if (rc == ROVE_OK)
			rc = rove_mp_get_uuid(r, &q->ack_run);
		if (rc == ROVE_OK)
			rc = rove_mp_get_u64(r, &q->ack_seq);
		*kind = ITEM_NONE;
		break;
	}
	case ROVE_MSG_PULL_REPLY: {
		rove_pull_reply *h = &m->u.pull_reply;
		if (nbody != 12)
			return ROVE_EPROTO;
		rc = rove_mp_get_cstr(r, h->role, ROVE_MAX_NAME);
		if (rc == ROVE_OK)
			rc = rove_mp_get_u64(r, &v);
		if (rc == ROVE_OK && v != ROVE_PULL_OPS && v != ROVE_PULL_SNAPSHOT)
			rc = ROVE_EPROTO;
		h->mode = (uint8_t)v;
		if (rc == ROVE_OK)
			rc = rove_mp_get_u64(r, &h->head);
		if (rc == ROVE_OK)
			rc = rove_mp_get_u64(r, &h->cursor);
		if (rc == ROVE_OK)
			rc = rove_mp_get_u64(r, &h->snap_seq);
		if (rc == ROVE_OK)
			rc = rd_snap_key(r, h->snap_key, &h->snap_keylen);
		if (rc == ROVE_OK)
			rc = rove_mp_get_u64(r, &h->epoch);
		if (rc == ROVE_OK)
			rc = rove_mp_get_bool(r, &h->reset);
		if (rc == ROVE_OK)
			rc = rove_mp_get_bool(r, &h->more);
		if (rc == ROVE_OK)
			rc = rove_mp_get_u64(r, &h->server);
		if (rc == ROVE_OK)
			rc = rove_mp_get_uuid(r, &h->run);
		*kind = ITEM_ENTRY;
		*max = ROVE_MAX_PULL_ITEMS;
		break;
	}
	case ROVE_MSG_CONFLICTS:
		if (nbody != 4)
			return ROVE_EPROTO;
		rc = rd_auth(r, &m->auth);
		if (rc == ROVE_OK)
			rc = rove_mp_get_u64(r, &m->u.conflicts.after);
		if (rc == ROVE_OK)
			rc = rove_mp_get_u64_max(r, UINT32_MAX, &v);
		m->u.conflicts.max = (uint32_t)v;
		*kind = ITEM_NONE;
		break;
	case ROVE_MSG_CONFLICTS_REPLY:
		if (nbody != 2)
			return ROVE_EPROTO;
		rc = rove_mp_get_bool(r, &m->u.conflicts_reply.more);
		*kind = ITEM_CONFLICT;
		*max = ROVE_MAX_PULL_ITEMS;
		break;
	case ROVE_MSG_ADMIN:
		if (nbody != 4)
			return ROVE_EPROTO;
		rc = rd_auth(r, &m->auth);
		if (rc == ROVE_OK)
			rc = rove_mp_get_cstr(r, m->u.admin.cmd, ROVE_MAX_NAME);
		*kind = ITEM_ARG;
		*max = ROVE_MAX_ADMIN_ARGS;
		break;
	case ROVE_MSG_ADMIN_REPLY:
		if (nbody != 1)
			return ROVE_EPROTO;
		*kind = ITEM_LINE;
		*max = UINT32_MAX;
		break;
	case ROVE_MSG_ERROR:
		if (nbody != 2)
			return ROVE_EPROTO;
		rc = rove_mp_get_u64_max(r, ROVE_ERR_COUNT - 1, &v);
		m->u.error.code = (int)v;
		if (rc == ROVE_OK)
			rc = rove_mp_get_cstr(r, m->u.error.text, ROVE_MAX_ERRMSG);
		*kind = ITEM_NONE;
		break;
	default:
		return ROVE_EPROTO;
	}
	return rc;
}

/* Where the item count of each type is stored in the union. */
static uint32_t *item_count(rove_msg *m)
{
	switch (m->type) {
	case ROVE_MSG_PUSH: return &m->u.push.n;
	case ROVE_MSG_PUSH_REPLY: return &m->u.push_reply.n;
	case ROVE_MSG_PULL_REPLY: return &m->u.pull_reply.n;
	case ROVE_MSG_ADMIN: return &m->u.admin.n;
	case ROVE_MSG_ADMIN_REPLY: return &m->u.admin_reply.n;
	case ROVE_MSG_CONFLICTS_REPLY: return &m->u.conflicts_reply.n;
	default: return NULL;
	}
}

static enum item_kind msg_item_kind(const rove_msg *m)
{
	switch (m->type) {
	case ROVE_MSG_PUSH: return ITEM_OP;
	case ROVE_MSG_PUSH_REPLY: return ITEM_RESULT;
	case ROVE_MSG_PULL_REPLY: return ITEM_ENTRY;
	case ROVE_MSG_CONFLICTS_REPLY: return ITEM_CONFLICT;
	case ROVE_MSG_ADMIN: return ITEM_ARG;
	case ROVE_MSG_ADMIN_REPLY: return ITEM_LINE;
	default: return ITEM_NONE;
	}
}

static int msg_decode(const void *data, size_t len, rove_msg *m, bool check_items)
{
	rove_mp_reader r = {data, (const uint8_t *)data + len};
	uint32_t n, nitems = 0, max = 0;
	uint64_t version, type;
	enum item_kind kind = ITEM_NONE;
	union {
		rove_op op;
		rove_entry entry;
		rove_push_result res;
		rove_conflict conflict;
	} *scratch = NULL;
	int rc;

	memset(m, 0, sizeof(*m));
	if (len > ROVE_MAX_MSG_BYTES)
		return ROVE_ETOOBIG;
	rc = rove_mp_get_array(&r, 16, &n);
	if (rc != ROVE_OK)
		return ROVE_EPROTO;
	if (n < 2)
		return ROVE_EPROTO;
	if (rove_mp_get_u64(&r, &version) != ROVE_OK)
		return ROVE_EPROTO;
	if (version != ROVE_PROTO_VERSION)
		return ROVE_EVERSION;
	if (rove_mp_get_u64_max(&r, ROVE_MSG_TYPE_MAX, &type) != ROVE_OK || type == 0)
		return ROVE_EPROTO;
	m->type = (uint8_t)type;
	rc = decode_body(&r, n - 2, m, &kind, &max);
	if (rc != ROVE_OK)
		return rc;
	if (kind != ITEM_NONE) {
		rc = rove_mp_get_array(&r, max, &nitems);
		if (rc != ROVE_OK)
			return rc;
	}
	m->items = r.p;
	m->end = r.end;
	m->left = nitems;
	if (item_count(m) != NULL)
		*item_count(m) = nitems;
	if (!check_items && kind != ITEM_NONE)
		return ROVE_OK; /* next_item validates each; rove_msg_items_end the end */
	/* Validate every item before anyone acts on the message. */
	if (nitems > 0 && kind != ITEM_ARG && kind != ITEM_LINE) {
		scratch = malloc(sizeof(*scratch));
		if (scratch == NULL)
			return ROVE_ENOMEM;
	}
	for (uint32_t i = 0; i < nitems && rc == ROVE_OK; i++)
		rc = rd_item(&r, kind, scratch);
	free(scratch);
	if (rc != ROVE_OK)
		return rc;
	if (r.p != r.end)
		return ROVE_EPROTO; /* trailing bytes */
	return ROVE_OK;
}

int rove_msg_decode(const void *data, size_t len, rove_msg *m)
{
	return msg_decode(data, len, m, true);
}

int rove_msg_decode_lazy(const void *data, size_t len, rove_msg *m)
{
	return msg_decode(data, len, m, false);
}

int rove_msg_items_end(const rove_msg *m)
{
	return m->left == 0 && m->items == m->end ? ROVE_OK : ROVE_EPROTO;
}

static int next_item(rove_msg *m, enum item_kind kind, void *out)
{
	rove_mp_reader r = {m->items, m->end};
	int rc;

	if (m->left == 0)
		return ROVE_ENOTFOUND;
	if (msg_item_kind(m) != kind)
		return ROVE_EINVAL;
	rc = rd_item(&r, kind, out);
	if (rc != ROVE_OK)
		return rc;
	m->items = r.p;
	m->left--;
	return ROVE_OK;
}

int rove_msg_next_op(rove_msg *m, rove_op *op)
{
	return next_item(m, ITEM_OP, op);
}

int rove_msg_next_entry(rove_msg *m, rove_entry *e)
{
	return next_item(m, ITEM_ENTRY, e);
}

int rove_msg_next_conflict(rove_msg *m, rove_conflict *c)
{
	return next_item(m, ITEM_CONFLICT, c);
}

int rove_msg_next_result(rove_msg *m, rove_push_result *res)
{
	return next_item(m, ITEM_RESULT, res);
}

int rove_msg_next_str(rove_msg *m, const char **s, uint32_t *len)
{
	rove_mp_reader r = {m->items, m->end};
	int rc;

	if (m->left == 0)
		return ROVE_ENOTFOUND;
	if (msg_item_kind(m) == ITEM_ARG)
		rc = rd_line(&r, ROVE_MAX_ADMIN_ARG, s, len);
	else if (msg_item_kind(m) == ITEM_LINE)
		rc = rd_line(&r, ROVE_MAX_STR, s, len);
	else
		return ROVE_EINVAL;
	if (rc != ROVE_OK)
		return rc;
	m->items = r.p;
	m->left--;
	return ROVE_OK;
}
