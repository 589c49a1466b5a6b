/*
 * fuzz_proto.c - libFuzzer harness for the wire protocol's decoder.
 *
 * The input is one message. rove_msg_decode must either refuse it with a
 * protocol error or accept it; an accepted message must then yield exactly
 * its count of items through the rove_msg_next_* function of its type (and
 * refuse the others), and re-encoding what was decoded with the rove_enc_*
 * encoders must give a message that decodes to the same thing. The input
 * is also read as one stored op, record and rejection (rove_dec_op,
 * rove_dec_record, rove_dec_rejection), which must round-trip the same
 * way, and which every message that carries ops or records must accept.
 *
 * A broken property aborts with a line on stderr, which libFuzzer reports
 * as a crash.
 */
#include "err.h"
#include "proto.h"
#include "record.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                           \
	do {                                                                                  \
		if (!(cond)) {                                                                \
			fprintf(stderr, "fuzz_proto: %s:%d: check failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                       \
			abort();                                                              \
		}                                                                             \
	} while (0)

/* Scratch, large structs: kept out of the stack. */
static rove_op op_a, op_b;
static rove_record rec_a, rec_b;
static rove_entry ent_a, ent_b;
static rove_conflict con_a, con_b;
static rove_rejection rj_a, rj_b;

/* ---- equality ---- */

static bool stamp_eq(const rove_stamp *a, const rove_stamp *b)
{
	return a->hlc.v == b->hlc.v && a->node == b->node;
}

static bool fields_eq(const rove_fields *a, const rove_fields *b)
{
	if (a->n != b->n)
		return false;
	for (uint32_t i = 0; i < a->n; i++) {
		const rove_field *fa = &a->f[i], *fb = &b->f[i];
		if (strcmp(fa->name, fb->name) != 0 || !rove_value_eq(&fa->v, &fb->v) || !stamp_eq(&fa->st, &fb->st))
			return false;
	}
	return true;
}

static bool op_eq(const rove_op *a, const rove_op *b)
{
	return rove_uuid_cmp(&a->op_id, &b->op_id) == 0 && a->kind == b->kind && a->coll == b->coll &&
	       rove_uuid_cmp(&a->rid, &b->rid) == 0 && stamp_eq(&a->st, &b->st) && a->seq == b->seq &&
	       strcmp(a->author, b->author) == 0 && fields_eq(&a->fs, &b->fs);
}

static bool record_eq(const rove_record *a, const rove_record *b)
{
	return a->coll == b->coll && rove_uuid_cmp(&a->id, &b->id) == 0 && fields_eq(&a->fs, &b->fs);
}

static bool entry_eq(const rove_entry *a, const rove_entry *b)
{
	if (a->tag != b->tag || a->coll != b->coll || rove_uuid_cmp(&a->id, &b->id) != 0)
		return false;
	if (a->tag == ROVE_ENTRY_OP)
		return op_eq(&a->op, &b->op);
	if (a->tag == ROVE_ENTRY_RECORD)
		return record_eq(&a->rec, &b->rec);
	return true;
}

static bool result_eq(const rove_push_result *a, const rove_push_result *b)
{
	return rove_uuid_cmp(&a->op_id, &b->op_id) == 0 && a->status == b->status && a->seen == b->seen &&
	       a->seq == b->seq && a->reason == b->reason && strcmp(a->detail, b->detail) == 0 &&
	       stamp_eq(&a->st, &b->st);
}

static bool conflict_eq(const rove_conflict *a, const rove_conflict *b)
{
	return a->n == b->n && a->time_ms == b->time_ms && a->reason == b->reason &&
	       strcmp(a->detail, b->detail) == 0 && op_eq(&a->op, &b->op) && a->dropped == b->dropped;
}

static bool auth_eq(const rove_auth *a, const rove_auth *b)
{
	return strcmp(a->user, b->user) == 0 && strcmp(a->token, b->token) == 0;
}

/* ---- helpers ---- */

/* Decodes a heap copy of exactly the buffer's bytes (so ASan sees any
 * read past the end); the copy is returned for the caller to free. */
static uint8_t *decode_copy(const rove_buf *b, rove_msg *m, int *rc)
{
	uint8_t *d = malloc(b->len ? b->len : 1);

	CHECK(d != NULL);
	if (b->len > 0)
		memcpy(d, b->data, b->len);
	*rc = rove_msg_decode(d, b->len, m);
	return d;
}

/* Every next_* function but the one of the message's item kind refuses
 * with ROVE_EINVAL and consumes nothing. */
static void check_wrong_next(rove_msg *m)
{
	const uint8_t *items = m->items;
	uint32_t left = m->left;
	const char *s;
	uint32_t len;
	rove_push_result res;
	int t = m->type;

	if (left == 0)
		return;
	if (t != ROVE_MSG_PUSH)
		CHECK(rove_msg_next_op(m, &op_a) == ROVE_EINVAL);
	if (t != ROVE_MSG_PULL_REPLY)
		CHECK(rove_msg_next_entry(m, &ent_a) == ROVE_EINVAL);
	if (t != ROVE_MSG_CONFLICTS_REPLY)
		CHECK(rove_msg_next_conflict(m, &con_a) == ROVE_EINVAL);
	if (t != ROVE_MSG_PUSH_REPLY)
		CHECK(rove_msg_next_result(m, &res) == ROVE_EINVAL);
	if (t != ROVE_MSG_ADMIN && t != ROVE_MSG_ADMIN_REPLY)
		CHECK(rove_msg_next_str(m, &s, &len) == ROVE_EINVAL);
	CHECK(m->items == items && m->left == left);
}

/* After the last item: nothing left, nothing trailing. */
static void check_done(rove_msg *m)
{
	const char *s;
	uint32_t len;
	rove_push_result res;

	CHECK(m->left == 0);
	CHECK(m->items == m->end);
	CHECK(rove_msg_next_op(m, &op_a) == ROVE_ENOTFOUND);
	CHECK(rove_msg_next_entry(m, &ent_a) == ROVE_ENOTFOUND);
	CHECK(rove_msg_next_conflict(m, &con_a) == ROVE_ENOTFOUND);
	CHECK(rove_msg_next_result(m, &res) == ROVE_ENOTFOUND);
	CHECK(rove_msg_next_str(m, &s, &len) == ROVE_ENOTFOUND);
}

/* ---- each message type: iterate, re-encode, decode, compare ---- */

static void rt_push(const uint8_t *data, size_t size)
{
	rove_msg m, m2;
	rove_op *ops;
	rove_buf out;
	uint8_t *copy;
	uint32_t n;
	int rc;

	CHECK(rove_msg_decode(data, size, &m) == ROVE_OK);
	n = m.u.push.n;
	ops = malloc((n ? n : 1) * sizeof(*ops));
	CHECK(ops != NULL);
	for (uint32_t i = 0; i < n; i++)
		CHECK(rove_msg_next_op(&m, &ops[i]) == ROVE_OK);
	check_done(&m);
	rove_buf_init(&out);
	CHECK(rove_enc_push(&out, &m.auth, &m.u.push.replica, &m.u.push.seen, ops, n) == ROVE_OK);
	copy = decode_copy(&out, &m2, &rc);
	CHECK(rc == ROVE_OK);
	CHECK(m2.type == ROVE_MSG_PUSH && auth_eq(&m.auth, &m2.auth));
	CHECK(rove_uuid_cmp(&m.u.push.replica, &m2.u.push.replica) == 0 && m2.u.push.n == n);
	for (uint32_t i = 0; i < n; i++) {
		CHECK(rove_msg_next_op(&m2, &op_b) == ROVE_OK);
		CHECK(op_eq(&ops[i], &op_b));
	}
	check_done(&m2);
	free(copy);
	rove_buf_free(&out);
	free(ops);
}

static void rt_push_reply(const uint8_t *data, size_t size)
{
	rove_msg m, m2;
	rove_push_result *res, r2;
	rove_buf out;
	uint8_t *copy;
	uint32_t n;
	int rc;

	CHECK(rove_msg_decode(data, size, &m) == ROVE_OK);
	n = m.u.push_reply.n;
	res = malloc((n ? n : 1) * sizeof(*res));
	CHECK(res != NULL);
	for (uint32_t i = 0; i < n; i++)
		CHECK(rove_msg_next_result(&m, &res[i]) == ROVE_OK);
	check_done(&m);
	rove_buf_init(&out);
	CHECK(rove_enc_push_reply(&out, m.u.push_reply.server, &m.u.push_reply.run, res, n) == ROVE_OK);
	copy = decode_copy(&out, &m2, &rc);
	CHECK(rc == ROVE_OK && m2.type == ROVE_MSG_PUSH_REPLY && m2.u.push_reply.n == n);
	for (uint32_t i = 0; i < n; i++) {
		CHECK(rove_msg_next_result(&m2, &r2) == ROVE_OK);
		CHECK(result_eq(&res[i], &r2));
	}
	check_done(&m2);
	free(copy);
	rove_buf_free(&out);
	free(res);
}

static void rt_pull(const rove_msg *m)
{
	const rove_pull_req *a = &m->u.pull, *b;
	rove_msg m2;
	rove_buf out;
	uint8_t *copy;
	int rc;

	rove_buf_init(&out);
	CHECK(rove_enc_pull(&out, &m->auth, a) == ROVE_OK);
	copy = decode_copy(&out, &m2, &rc);
	CHECK(rc == ROVE_OK && m2.type == ROVE_MSG_PULL && auth_eq(&m->auth, &m2.auth));
	b = &m2.u.pull;
	CHECK(rove_uuid_cmp(&a->replica, &b->replica) == 0 && a->cursor == b->cursor && a->snap_seq == b->snap_seq);
	CHECK(a->snap_keylen == b->snap_keylen && memcmp(a->snap_key, b->snap_key, a->snap_keylen) == 0);
	CHECK(a->epoch == b->epoch && a->max_items == b->max_items);
	CHECK(a->own == b->own && a->clock == b->clock && a->records == b->records);
	check_done(&m2);
	free(copy);
	rove_buf_free(&out);
}

static void rt_pull_reply(const uint8_t *data, size_t size)
{
	rove_msg m, m2;
	const rove_pull_reply *a, *b;
	rove_buf items, tmp, out;
	uint8_t *copy;
	int rc;

	CHECK(rove_msg_decode(data, size, &m) == ROVE_OK);
	a = &m.u.pull_reply;
	rove_buf_init(&items);
	rove_buf_init(&tmp);
	rove_buf_init(&out);
	for (uint32_t i = 0; i < a->n; i++) {
		CHECK(rove_msg_next_entry(&m, &ent_a) == ROVE_OK);
		rove_buf_reset(&tmp);
		switch (ent_a.tag) {
		case ROVE_ENTRY_OP:
			CHECK(rove_enc_op(&tmp, &ent_a.op) == ROVE_OK);
			CHECK(rove_enc_entry_op_raw(&items, tmp.data, tmp.len) == ROVE_OK);
			break;
		case ROVE_ENTRY_RECORD:
			CHECK(rove_enc_record(&tmp, &ent_a.rec) == ROVE_OK);
			CHECK(rove_enc_entry_record_raw(&items, tmp.data, tmp.len) == ROVE_OK);
			break;
		default:
			CHECK(ent_a.tag == ROVE_ENTRY_EVICT);
			CHECK(rove_enc_entry_evict(&items, ent_a.coll, &ent_a.id) == ROVE_OK);
		}
	}
	check_done(&m);
	CHECK(rove_enc_pull_reply(&out, a, &items) == ROVE_OK);
	copy = decode_copy(&out, &m2, &rc);
	CHECK(rc == ROVE_OK && m2.type == ROVE_MSG_PULL_REPLY);
	b = &m2.u.pull_reply;
	CHECK(strcmp(a->role, b->role) == 0 && a->mode == b->mode && a->head == b->head && a->cursor == b->cursor);
	CHECK(a->snap_seq == b->snap_seq && a->snap_keylen == b->snap_keylen &&
	      memcmp(a->snap_key, b->snap_key, a->snap_keylen) == 0);
	CHECK(a->epoch == b->epoch && a->reset == b->reset && a->more == b->more && a->n == b->n);
	/* Compare item by item against a second pass over the input. */
	CHECK(rove_msg_decode(data, size, &m) == ROVE_OK);
	for (uint32_t i = 0; i < a->n; i++) {
		CHECK(rove_msg_next_entry(&m, &ent_a) == ROVE_OK);
		CHECK(rove_msg_next_entry(&m2, &ent_b) == ROVE_OK);
		CHECK(entry_eq(&ent_a, &ent_b));
	}
	check_done(&m2);
	free(copy);
	rove_buf_free(&items);
	rove_buf_free(&tmp);
	rove_buf_free(&out);
}

static void rt_conflicts(const rove_msg *m)
{
	rove_msg m2;
	rove_buf out;
	uint8_t *copy;
	int rc;

	rove_buf_init(&out);
	CHECK(rove_enc_conflicts(&out, &m->auth, &m->u.conflicts) == ROVE_OK);
	copy = decode_copy(&out, &m2, &rc);
	CHECK(rc == ROVE_OK && m2.type == ROVE_MSG_CONFLICTS && auth_eq(&m->auth, &m2.auth));
	CHECK(m2.u.conflicts.after == m->u.conflicts.after && m2.u.conflicts.max == m->u.conflicts.max);
	check_done(&m2);
	free(copy);
	rove_buf_free(&out);
}

static void rt_conflicts_reply(const uint8_t *data, size_t size)
{
	rove_msg m, m2;
	rove_buf items, tmp, out;
	uint8_t *copy;
	uint32_t n;
	int rc;

	CHECK(rove_msg_decode(data, size, &m) == ROVE_OK);
	n = m.u.conflicts_reply.n;
	rove_buf_init(&items);
	rove_buf_init(&tmp);
	rove_buf_init(&out);
	for (uint32_t i = 0; i < n; i++) {
		CHECK(rove_msg_next_conflict(&m, &con_a) == ROVE_OK);
		rove_buf_reset(&tmp);
		CHECK(rove_enc_op(&tmp, &con_a.op) == ROVE_OK);
		CHECK(rove_enc_conflict_raw(&items, con_a.n, con_a.time_ms, con_a.reason, con_a.detail, con_a.dropped,
					    tmp.data, tmp.len) == ROVE_OK);
	}
	check_done(&m);
	CHECK(rove_enc_conflicts_reply(&out, m.u.conflicts_reply.more, n, &items) == ROVE_OK);
	copy = decode_copy(&out, &m2, &rc);
	CHECK(rc == ROVE_OK && m2.type == ROVE_MSG_CONFLICTS_REPLY);
	CHECK(m2.u.conflicts_reply.more == m.u.conflicts_reply.more && m2.u.conflicts_reply.n == n);
	CHECK(rove_msg_decode(data, size, &m) == ROVE_OK);
	for (uint32_t i = 0; i < n; i++) {
		CHECK(rove_msg_next_conflict(&m, &con_a) == ROVE_OK);
		CHECK(rove_msg_next_conflict(&m2, &con_b) == ROVE_OK);
		CHECK(conflict_eq(&con_a, &con_b));
	}
	check_done(&m2);
	free(copy);
	rove_buf_free(&items);
	rove_buf_free(&tmp);
	rove_buf_free(&out);
}

/* Admin requests and replies: their strings, NUL-terminated copies. */
static void rt_strings(const uint8_t *data, size_t size)
{
	rove_msg m, m2;
	rove_buf out;
	uint8_t *copy;
	char **strs;
	uint32_t n, len, len2;
	const char *s, *s2;
	int rc;

	CHECK(rove_msg_decode(data, size, &m) == ROVE_OK);
	n = m.type == ROVE_MSG_ADMIN ? m.u.admin.n : m.u.admin_reply.n;
	CHECK(n == m.left);
	strs = malloc((n ? n : 1) * sizeof(*strs));
	CHECK(strs != NULL);
	for (uint32_t i = 0; i < n; i++) {
		CHECK(rove_msg_next_str(&m, &s, &len) == ROVE_OK);
		CHECK(len <= (m.type == ROVE_MSG_ADMIN ? ROVE_MAX_ADMIN_ARG : ROVE_MAX_STR));
		CHECK(len == 0 || memchr(s, '\0', len) == NULL);
		strs[i] = malloc(len + 1);
		CHECK(strs[i] != NULL);
		memcpy(strs[i], s, len);
		strs[i][len] = '\0';
	}
	check_done(&m);
	rove_buf_init(&out);
	if (m.type == ROVE_MSG_ADMIN)
		rc = rove_enc_admin_req(&out, &m.auth, m.u.admin.cmd, m.u.admin.has_request ? &m.u.admin.request : NULL,
					(const char *const *)strs, n);
	else
		rc = rove_enc_admin_reply(&out, (const char *const *)strs, n);
	CHECK(rc == ROVE_OK);
	copy = decode_copy(&out, &m2, &rc);
	CHECK(rc == ROVE_OK && m2.type == m.type && m2.left == n);
	if (m.type == ROVE_MSG_ADMIN)
		CHECK(auth_eq(&m.auth, &m2.auth) && strcmp(m.u.admin.cmd, m2.u.admin.cmd) == 0 && m2.u.admin.n == n &&
		      m2.u.admin.has_request == m.u.admin.has_request &&
		      (!m.u.admin.has_request ||
		       (!rove_uuid_is_nil(&m.u.admin.request) &&
			memcmp(m.u.admin.request.b, m2.u.admin.request.b, 16) == 0)));
	else
		CHECK(m2.u.admin_reply.n == n);
	for (uint32_t i = 0; i < n; i++) {
		len = (uint32_t)strlen(strs[i]);
		CHECK(rove_msg_next_str(&m2, &s2, &len2) == ROVE_OK);
		CHECK(len == len2 && memcmp(strs[i], s2, len) == 0);
		free(strs[i]);
	}
	check_done(&m2);
	free(strs);
	free(copy);
	rove_buf_free(&out);
}

static void rt_error(const rove_msg *m)
{
	rove_msg m2;
	rove_buf out;
	uint8_t *copy;
	int rc;

	CHECK(m->u.error.code >= 0 && m->u.error.code < ROVE_ERR_COUNT);
	rove_buf_init(&out);
	CHECK(rove_enc_error(&out, m->u.error.code, m->u.error.text) == ROVE_OK);
	copy = decode_copy(&out, &m2, &rc);
	CHECK(rc == ROVE_OK && m2.type == ROVE_MSG_ERROR && m2.u.error.code == m->u.error.code);
	CHECK(strcmp(m2.u.error.text, m->u.error.text) == 0);
	check_done(&m2);
	free(copy);
	rove_buf_free(&out);
}

/* ---- stored ops and records ---- */

/* A decoded op, re-encoded, decodes the same; and every message that
 * carries an op takes it. */
static void rt_op(const rove_op *op)
{
	static const rove_auth auth = {"fuzz", "token"};
	rove_uuid replica = {{0}};
	rove_pull_reply h;
	rove_buf enc, items, out;
	rove_msg m;
	uint8_t *copy;
	int rc;

	rove_buf_init(&enc);
	rove_buf_init(&items);
	rove_buf_init(&out);
	CHECK(rove_enc_op(&enc, op) == ROVE_OK);
	CHECK(rove_dec_op(enc.data, enc.len, &op_b) == ROVE_OK);
	CHECK(op_eq(op, &op_b));

	CHECK(rove_enc_push(&out, &auth, &replica, NULL, op, 1) == ROVE_OK);
	copy = decode_copy(&out, &m, &rc);
	CHECK(rc == ROVE_OK && m.u.push.n == 1);
	CHECK(rove_msg_next_op(&m, &op_b) == ROVE_OK && op_eq(op, &op_b));
	free(copy);

	memset(&h, 0, sizeof(h));
	h.mode = ROVE_PULL_OPS;
	h.n = 1;
	CHECK(rove_enc_entry_op_raw(&items, enc.data, enc.len) == ROVE_OK);
	rove_buf_reset(&out);
	CHECK(rove_enc_pull_reply(&out, &h, &items) == ROVE_OK);
	copy = decode_copy(&out, &m, &rc);
	CHECK(rc == ROVE_OK && m.u.pull_reply.n == 1);
	CHECK(rove_msg_next_entry(&m, &ent_b) == ROVE_OK && ent_b.tag == ROVE_ENTRY_OP && op_eq(op, &ent_b.op));
	free(copy);

	rove_buf_reset(&items);
	CHECK(rove_enc_conflict_raw(&items, 1, 2, ROVE_R_INVALID, "detail", 0, enc.data, enc.len) == ROVE_OK);
	rove_buf_reset(&out);
	CHECK(rove_enc_conflicts_reply(&out, false, 1, &items) == ROVE_OK);
	copy = decode_copy(&out, &m, &rc);
	CHECK(rc == ROVE_OK && m.u.conflicts_reply.n == 1);
	CHECK(rove_msg_next_conflict(&m, &con_b) == ROVE_OK && op_eq(op, &con_b.op));
	free(copy);

	rove_buf_free(&enc);
	rove_buf_free(&items);
	rove_buf_free(&out);
}

static void rt_record(const rove_record *rec)
{
	rove_pull_reply h;
	rove_buf enc, items, out;
	rove_msg m;
	uint8_t *copy;
	int rc;

	rove_buf_init(&enc);
	rove_buf_init(&items);
	rove_buf_init(&out);
	CHECK(rove_enc_record(&enc, rec) == ROVE_OK);
	CHECK(rove_dec_record(enc.data, enc.len, &rec_b) == ROVE_OK);
	CHECK(record_eq(rec, &rec_b));

	memset(&h, 0, sizeof(h));
	h.mode = ROVE_PULL_SNAPSHOT;
	h.n = 1;
	CHECK(rove_enc_entry_record_raw(&items, enc.data, enc.len) == ROVE_OK);
	CHECK(rove_enc_pull_reply(&out, &h, &items) == ROVE_OK);
	copy = decode_copy(&out, &m, &rc);
	CHECK(rc == ROVE_OK && m.u.pull_reply.n == 1);
	CHECK(rove_msg_next_entry(&m, &ent_b) == ROVE_OK && ent_b.tag == ROVE_ENTRY_RECORD &&
	      record_eq(rec, &ent_b.rec));
	free(copy);

	rove_buf_free(&enc);
	rove_buf_free(&items);
	rove_buf_free(&out);
}

/* A decoded rejection, re-encoded, decodes the same; its op_raw is the
 * op it holds, which goes through rt_op like any stored op. */
static void rt_rejection(const rove_rejection *rj, const uint8_t *data, size_t size)
{
	rove_buf enc;

	CHECK(rj->op_raw >= data && rj->op_raw + rj->op_rawlen == data + size);
	CHECK(rove_dec_op(rj->op_raw, rj->op_rawlen, &op_b) == ROVE_OK && op_eq(&rj->op, &op_b));
	rove_buf_init(&enc);
	CHECK(rove_enc_rejection(&enc, rj->time_ms, rj->reason, rj->detail, &rj->op) == ROVE_OK);
	CHECK(rove_dec_rejection(enc.data, enc.len, &rj_b) == ROVE_OK);
	CHECK(rj_b.time_ms == rj->time_ms && rj_b.reason == rj->reason && strcmp(rj_b.detail, rj->detail) == 0 &&
	      op_eq(&rj_b.op, &rj->op));
	rove_buf_free(&enc);
	rt_op(&rj->op);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rove_msg m;
	int rc = rove_msg_decode(data, size, &m);

	if (rc == ROVE_OK) {
		CHECK(m.type >= 1 && m.type <= ROVE_MSG_TYPE_MAX);
		check_wrong_next(&m);
		switch (m.type) {
		case ROVE_MSG_PUSH:
			rt_push(data, size);
			break;
		case ROVE_MSG_PUSH_REPLY:
			rt_push_reply(data, size);
			break;
		case ROVE_MSG_PULL:
			check_done(&m);
			rt_pull(&m);
			break;
		case ROVE_MSG_PULL_REPLY:
			rt_pull_reply(data, size);
			break;
		case ROVE_MSG_ADMIN:
		case ROVE_MSG_ADMIN_REPLY:
			rt_strings(data, size);
			break;
		case ROVE_MSG_CONFLICTS:
			check_done(&m);
			rt_conflicts(&m);
			break;
		case ROVE_MSG_CONFLICTS_REPLY:
			rt_conflicts_reply(data, size);
			break;
		default:
			check_done(&m);
			rt_error(&m);
		}
	} else {
		CHECK(rc == ROVE_EPROTO || rc == ROVE_EVERSION || rc == ROVE_ETOOBIG || rc == ROVE_ENOMEM);
	}

	if (rove_dec_op(data, size, &op_a) == ROVE_OK) {
		CHECK(op_a.kind >= ROVE_OP_CREATE && op_a.kind <= ROVE_OP_KIND_MAX);
		rt_op(&op_a);
	}
	if (rove_dec_record(data, size, &rec_a) == ROVE_OK)
		rt_record(&rec_a);
	if (rove_dec_rejection(data, size, &rj_a) == ROVE_OK) {
		CHECK(rj_a.reason < ROVE_R_COUNT);
		rt_rejection(&rj_a, data, size);
	}
	return 0;
}
