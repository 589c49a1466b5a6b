#include "proto.h"

#include "err.h"
#include "item_int.h"
#include "mp_int.h"
#include "rove_assert.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ---- the messages --------------------------------------------------------
 * Each message's encoder and the reader of its head (the elements between
 * the type - or a request's user and token - and the items), in type
 * order; the table after them ties each type to its layout. */

typedef struct msg_def msg_def;
static const msg_def *msg_def_of(uint64_t type);
static void put_start(rove_mp_writer *w, int type, const rove_auth *a);
static void put_start_opt(rove_mp_writer *w, int type, const rove_auth *a, uint32_t optional);
static void put_items(rove_mp_writer *w, int type, uint32_t n);
static uint32_t max_items_of(int type);
static bool has_optional(const rove_msg *m);
static uint32_t optional_present(const rove_msg *m);

/* ERROR [3, 1, code, text] */

int rove_enc_error(rove_buf *out, int code, const char *text)
{
	return rove_enc_error_in(out, ROVE_PROTO_VERSION, code, text);
}

int rove_enc_error_in(rove_buf *out, uint64_t version, int code, const char *text)
{
	rove_mp_writer w;

	rove_mp_writer_init(&w, out);
	rove_mp_put_array(&w, 4); /* the layout above, msgs[]'s arity of ERROR */
	rove_mp_put_u64(&w, version);
	rove_mp_put_u64(&w, ROVE_MSG_ERROR);
	rove_mp_put_u64(&w, code < 0 ? 0 : (uint64_t)code);
	rove_mp_put_str_max(&w, text, ROVE_MAX_ERRMSG);
	return rove_mp_writer_done(&w);
}

static int head_error(rove_mp_reader *r, rove_msg *m)
{
	uint64_t v = 0;
	int rc = rove_mp_get_u64_max(r, ROVE_ERR_COUNT - 1, &v);

	m->u.error.code = (int)v;
	if (rc == ROVE_OK)
		rc = rove_mp_get_cstr(r, m->u.error.text, ROVE_MAX_ERRMSG);
	return rc;
}

/* PUSH [3, 2, user, token, replica, server, run, seq, ack_run, ack_seq, [op...]]:
 * all but the ops, n of them to come; seen NULL: none. */
/* A proof: bin 24, the hlc (big-endian) then the MAC. */
#define PROOF_BYTES (8 + ROVE_PROOF_MAC)

static void put_proof(rove_mp_writer *w, const rove_proof *p)
{
	uint8_t b[PROOF_BYTES];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(p->hlc.v >> (56 - 8 * i));
	memcpy(b + 8, p->mac, ROVE_PROOF_MAC);
	rove_mp_put_bin(w, b, sizeof(b));
}

/* A proof as sent: exactly PROOF_BYTES (a longer one is malformed too,
 * not "too big"), its hlc not 0 (a peer sends none rather than an empty
 * one) and before the last millisecond of the year 9999
 * (ROVE_MAX_WALL_MS), as no stamp an honest server gives is: a replica's
 * clock follows a proof, and one at the end of its range could no longer
 * tick (attack thirty-nine), one in that millisecond would tick past it
 * (attack forty). */
static int get_proof(rove_mp_reader *r, rove_proof *p)
{
	const uint8_t *b;
	uint32_t len;
	int rc = rove_mp_get_bin(r, PROOF_BYTES, &b, &len);

	if (rc != ROVE_OK)
		return rc == ROVE_ETOOBIG ? ROVE_EPROTO : rc;
	if (len != PROOF_BYTES)
		return ROVE_EPROTO;
	p->hlc.v = 0;
	for (int i = 0; i < 8; i++)
		p->hlc.v = p->hlc.v << 8 | b[i];
	memcpy(p->mac, b + 8, ROVE_PROOF_MAC);
	return p->hlc.v != 0 && rove_hlc_ms(p->hlc) < ROVE_MAX_WALL_MS ? ROVE_OK : ROVE_EPROTO;
}

static void put_push_head(rove_mp_writer *w, const rove_auth *a, const rove_uuid *replica, const rove_seen *seen,
			  uint32_t n)
{
	static const rove_seen nothing;

	if (seen == NULL)
		seen = &nothing;
	put_start_opt(w, ROVE_MSG_PUSH, a, seen->clock.hlc.v != 0);
	rove_mp_put_bin(w, replica->b, 16);
	rove_mp_put_u64(w, seen->server);
	rove_mp_put_bin(w, seen->run.b, 16);
	rove_mp_put_u64(w, seen->seq);
	rove_mp_put_bin(w, seen->ack_run.b, 16);
	rove_mp_put_u64(w, seen->ack_seq);
	if (seen->clock.hlc.v != 0)
		put_proof(w, &seen->clock);
	put_items(w, ROVE_MSG_PUSH, n);
}

int rove_enc_push(rove_buf *out, const rove_auth *a, const rove_uuid *replica, const rove_seen *seen,
		  const rove_op *ops, uint32_t n)
{
	rove_mp_writer w;

	rove_mp_writer_init(&w, out);
	put_push_head(&w, a, replica, seen, n);
	for (uint32_t i = 0; i < n && w.err == ROVE_OK; i++)
		rove_item_put_op(&w, &ops[i]);
	return rove_mp_writer_done(&w);
}

int rove_enc_push_open(rove_buf *out, const rove_auth *a, const rove_uuid *replica, const rove_seen *seen,
		       size_t *count_at)
{
	rove_mp_writer w;
	size_t at;

	rove_mp_writer_init(&w, out);
	put_push_head(&w, a, replica, seen, 0);
	/* put_push_head ends with the count: a fixarray's one byte for 0,
	 * replaced by 0xdd and four bytes. */
	if (w.err == ROVE_OK) {
		at = out->len - 1;
		out->len = at;
		rove_mp_put_raw(&w, (const uint8_t[5]){0xdd, 0, 0, 0, 0}, 5);
		*count_at = at;
	}
	return rove_mp_writer_done(&w);
}

int rove_enc_push_count(rove_buf *out, size_t count_at, uint32_t n)
{
	uint8_t *p;

	if (n > max_items_of(ROVE_MSG_PUSH))
		return ROVE_ETOOBIG;
	ROVE_ASSERT(count_at + 5 <= out->len && (uint8_t)out->data[count_at] == 0xdd);
	p = (uint8_t *)out->data + count_at + 1;
	p[0] = (uint8_t)(n >> 24);
	p[1] = (uint8_t)(n >> 16);
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)n;
	return ROVE_OK;
}

static int head_push(rove_mp_reader *r, rove_msg *m)
{
	rove_seen *s = &m->u.push.seen;
	int rc = rove_mp_get_uuid(r, &m->u.push.replica);

	if (rc == ROVE_OK)
		rc = rove_mp_get_u64(r, &s->server);
	if (rc == ROVE_OK)
		rc = rove_mp_get_uuid(r, &s->run);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64(r, &s->seq);
	if (rc == ROVE_OK)
		rc = rove_mp_get_uuid(r, &s->ack_run);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64(r, &s->ack_seq);
	s->clock.hlc.v = 0;
	if (rc == ROVE_OK && has_optional(m))
		rc = get_proof(r, &s->clock);
	return rc;
}

/* PUSH_REPLY [3, 3, server, run(, proof), [result...]]: proof only for a
 * PUSH that had one. */

int rove_enc_push_reply(rove_buf *out, uint64_t server, const rove_uuid *run, const rove_push_result *res,
			uint32_t n)
{
	return rove_enc_push_reply_proof(out, server, run, NULL, res, n);
}

int rove_enc_push_reply_proof(rove_buf *out, uint64_t server, const rove_uuid *run, const rove_proof *clock,
			      const rove_push_result *res, uint32_t n)
{
	bool proof = clock != NULL && clock->hlc.v != 0;
	rove_mp_writer w;

	rove_mp_writer_init(&w, out);
	put_start_opt(&w, ROVE_MSG_PUSH_REPLY, NULL, proof);
	rove_mp_put_u64(&w, server);
	rove_mp_put_bin(&w, run->b, 16);
	if (proof)
		put_proof(&w, clock);
	put_items(&w, ROVE_MSG_PUSH_REPLY, n);
	for (uint32_t i = 0; i < n && w.err == ROVE_OK; i++)
		rove_item_put_result(&w, &res[i]);
	return rove_mp_writer_done(&w);
}

static int head_push_reply(rove_mp_reader *r, rove_msg *m)
{
	int rc = rove_mp_get_u64(r, &m->u.push_reply.server);

	if (rc == ROVE_OK)
		rc = rove_mp_get_uuid(r, &m->u.push_reply.run);
	m->u.push_reply.clock.hlc.v = 0;
	if (rc == ROVE_OK && has_optional(m))
		rc = get_proof(r, &m->u.push_reply.clock);
	return rc;
}

/* PULL [3, 4, user, token, replica, cursor, snap_seq, snap_key, epoch, max,
 *       server, run, ack_run, ack_seq, own(, clock(, records(, proofs(,
 *       snap_end))))]:
 * clock only when true or records follows, records only when 2 or more
 * or proofs follows, proofs only when true, so that a PULL without them
 * is one an older server takes; snap_end after proofs, when given. */

int rove_enc_pull(rove_buf *out, const rove_auth *a, const rove_pull_req *q)
{
	/* The optional elements sent: clock, then records, then proofs,
	 * then snap_end. */
	uint32_t opt = q->has_snap_end ? 4 : q->proofs ? 3 : q->records >= 2 ? 2 : q->clock ? 1 : 0;
	rove_mp_writer w;

	if (q->snap_keylen > ROVE_MAX_SNAP_KEY)
		return ROVE_ETOOBIG;
	if (q->proofs && q->records < 2)
		return ROVE_EINVAL; /* proofs come after records, sent only when 2 or more */
	if (q->has_snap_end && !q->proofs)
		return ROVE_EINVAL; /* snap_end comes after proofs, sent only when true */
	rove_mp_writer_init(&w, out);
	put_start_opt(&w, ROVE_MSG_PULL, a, opt);
	rove_mp_put_bin(&w, q->replica.b, 16);
	rove_mp_put_u64(&w, q->cursor);
	rove_mp_put_u64(&w, q->snap_seq);
	rove_mp_put_bin(&w, q->snap_key, q->snap_keylen);
	rove_mp_put_u64(&w, q->epoch);
	rove_mp_put_u64(&w, q->max_items);
	rove_mp_put_u64(&w, q->server);
	rove_mp_put_bin(&w, q->run.b, 16);
	rove_mp_put_bin(&w, q->ack_run.b, 16);
	rove_mp_put_u64(&w, q->ack_seq);
	rove_mp_put_bool(&w, q->own);
	if (opt >= 1)
		rove_mp_put_bool(&w, q->clock);
	if (opt >= 2)
		rove_mp_put_u64(&w, q->records);
	if (opt >= 3)
		rove_mp_put_bool(&w, q->proofs);
	if (opt >= 4)
		rove_mp_put_u64(&w, q->snap_end);
	return rove_mp_writer_done(&w);
}

static int get_snap_key(rove_mp_reader *r, uint8_t *key, uint32_t *keylen)
{
	const uint8_t *p;
	int rc = rove_mp_get_bin(r, ROVE_MAX_SNAP_KEY, &p, keylen);

	if (rc == ROVE_OK)
		memcpy(key, p, *keylen);
	return rc;
}

static int head_pull(rove_mp_reader *r, rove_msg *m)
{
	rove_pull_req *q = &m->u.pull;
	uint64_t max = 0;
	int rc = rove_mp_get_uuid(r, &q->replica);

	if (rc == ROVE_OK)
		rc = rove_mp_get_u64(r, &q->cursor);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64(r, &q->snap_seq);
	if (rc == ROVE_OK)
		rc = get_snap_key(r, q->snap_key, &q->snap_keylen);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64(r, &q->epoch);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64_max(r, UINT32_MAX, &max);
	q->max_items = (uint32_t)max;
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64(r, &q->server);
	if (rc == ROVE_OK)
		rc = rove_mp_get_uuid(r, &q->run);
	if (rc == ROVE_OK)
		rc = rove_mp_get_uuid(r, &q->ack_run);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64(r, &q->ack_seq);
	if (rc == ROVE_OK)
		rc = rove_mp_get_bool(r, &q->own);
	q->clock = false;
	q->records = 1;
	q->proofs = false;
	q->has_snap_end = false;
	q->snap_end = 0;
	if (rc == ROVE_OK && optional_present(m) >= 1)
		rc = rove_mp_get_bool(r, &q->clock);
	if (rc == ROVE_OK && optional_present(m) >= 2) {
		/* A newer replica may read newer formats: this server sends
		 * the newest it knows. */
		uint64_t f = 0;
		rc = rove_mp_get_u64(r, &f);
		if (rc == ROVE_OK && f < 2)
			rc = ROVE_EPROTO; /* sent only when 2 or more */
		q->records = (uint8_t)(f > ROVE_RECORD_FORMAT ? ROVE_RECORD_FORMAT : f);
	}
	if (rc == ROVE_OK && optional_present(m) >= 3) {
		rc = rove_mp_get_bool(r, &q->proofs);
		if (rc == ROVE_OK && !q->proofs)
			rc = ROVE_EPROTO; /* sent only when true */
	}
	if (rc == ROVE_OK && optional_present(m) >= 4) {
		rc = rove_mp_get_u64(r, &q->snap_end);
		q->has_snap_end = rc == ROVE_OK;
	}
	return rc;
}

/* PULL_REPLY [3, 5, role, mode, head, cursor, snap_seq, snap_key, epoch, reset,
 *             more, server, run(, time(, proof)), [entry...]]: time only
 * when it is known (not 0), which is only for a PULL that asked for it
 * (clock or proofs), proof only for one that asked for it (proofs). */

int rove_enc_pull_reply(rove_buf *out, const rove_pull_reply *h, const rove_buf *items)
{
	rove_mp_writer w;

	if (h->snap_keylen > ROVE_MAX_SNAP_KEY)
		return ROVE_ETOOBIG;
	rove_mp_writer_init(&w, out);
	/* A proof needs the time before it. */
	if (h->clock.hlc.v != 0 && h->time_ms == 0)
		return ROVE_EINVAL;
	put_start_opt(&w, ROVE_MSG_PULL_REPLY, NULL, h->clock.hlc.v != 0 ? 2 : h->time_ms != 0);
	rove_mp_put_str(&w, h->role);
	rove_mp_put_u64(&w, h->mode);
	rove_mp_put_u64(&w, h->head);
	rove_mp_put_u64(&w, h->cursor);
	rove_mp_put_u64(&w, h->snap_seq);
	rove_mp_put_bin(&w, h->snap_key, h->snap_keylen);
	rove_mp_put_u64(&w, h->epoch);
	rove_mp_put_bool(&w, h->reset);
	rove_mp_put_bool(&w, h->more);
	rove_mp_put_u64(&w, h->server);
	rove_mp_put_bin(&w, h->run.b, 16);
	if (h->time_ms != 0)
		rove_mp_put_u64(&w, h->time_ms);
	if (h->clock.hlc.v != 0)
		put_proof(&w, &h->clock);
	put_items(&w, ROVE_MSG_PULL_REPLY, h->n);
	if (items != NULL)
		rove_mp_put_raw(&w, items->data, items->len);
	return rove_mp_writer_done(&w);
}

static int head_pull_reply(rove_mp_reader *r, rove_msg *m)
{
	rove_pull_reply *h = &m->u.pull_reply;
	uint64_t mode = 0;
	int rc = rove_mp_get_cstr(r, h->role, ROVE_MAX_NAME);

	if (rc == ROVE_OK)
		rc = rove_mp_get_u64(r, &mode);
	if (rc == ROVE_OK && mode != ROVE_PULL_OPS && mode != ROVE_PULL_SNAPSHOT)
		rc = ROVE_EPROTO;
	h->mode = (uint8_t)mode;
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64(r, &h->head);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64(r, &h->cursor);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64(r, &h->snap_seq);
	if (rc == ROVE_OK)
		rc = get_snap_key(r, h->snap_key, &h->snap_keylen);
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
	h->time_ms = 0;
	h->clock.hlc.v = 0;
	if (rc == ROVE_OK && has_optional(m)) {
		rc = rove_mp_get_u64(r, &h->time_ms);
		if (rc == ROVE_OK && h->time_ms == 0)
			rc = ROVE_EPROTO; /* sent only when not 0 */
	}
	if (rc == ROVE_OK && optional_present(m) >= 2)
		rc = get_proof(r, &h->clock);
	return rc;
}

/* ADMIN [3, 6, user, token, command(, request), [arg...]]: request only
 * when the caller gives one, so that an ADMIN without it is one an older
 * server takes. */

int rove_enc_admin(rove_buf *out, const rove_auth *a, const char *cmd, const char *const *args, uint32_t nargs)
{
	return rove_enc_admin_req(out, a, cmd, NULL, args, nargs);
}

int rove_enc_admin_req(rove_buf *out, const rove_auth *a, const char *cmd, const rove_uuid *request,
		       const char *const *args, uint32_t nargs)
{
	rove_mp_writer w;

	if (strlen(cmd) > ROVE_MAX_NAME)
		return ROVE_ETOOBIG;
	if (request != NULL && rove_uuid_is_nil(request))
		return ROVE_EINVAL; /* the decoder refuses it */
	for (uint32_t i = 0; i < nargs; i++)
		if (strlen(args[i]) > ROVE_MAX_ADMIN_ARG)
			return ROVE_ETOOBIG;
	rove_mp_writer_init(&w, out);
	put_start_opt(&w, ROVE_MSG_ADMIN, a, request != NULL);
	rove_mp_put_str(&w, cmd);
	if (request != NULL)
		rove_mp_put_bin(&w, request->b, 16);
	put_items(&w, ROVE_MSG_ADMIN, nargs);
	for (uint32_t i = 0; i < nargs && w.err == ROVE_OK; i++)
		rove_mp_put_str(&w, args[i]);
	return rove_mp_writer_done(&w);
}

static int head_admin(rove_mp_reader *r, rove_msg *m)
{
	int rc = rove_mp_get_cstr(r, m->u.admin.cmd, ROVE_MAX_NAME);

	m->u.admin.has_request = false;
	memset(&m->u.admin.request, 0, sizeof(m->u.admin.request));
	if (rc == ROVE_OK && has_optional(m)) {
		rc = rove_mp_get_uuid(r, &m->u.admin.request);
		/* all zero names no request: a sender that has none leaves it out */
		if (rc == ROVE_OK && rove_uuid_is_nil(&m->u.admin.request))
			rc = ROVE_EPROTO;
		m->u.admin.has_request = rc == ROVE_OK;
	}
	return rc;
}

/* ADMIN_REPLY [3, 7, [line...]]: no head. */

int rove_enc_admin_reply(rove_buf *out, const char *const *lines, uint32_t n)
{
	rove_mp_writer w;

	rove_mp_writer_init(&w, out);
	put_start(&w, ROVE_MSG_ADMIN_REPLY, NULL);
	put_items(&w, ROVE_MSG_ADMIN_REPLY, n);
	for (uint32_t i = 0; i < n && w.err == ROVE_OK; i++)
		rove_mp_put_str_max(&w, lines[i], ROVE_MAX_STR);
	return rove_mp_writer_done(&w);
}

/* CONFLICTS [3, 8, user, token, after, max] */

int rove_enc_conflicts(rove_buf *out, const rove_auth *a, const rove_conflicts_req *q)
{
	rove_mp_writer w;

	rove_mp_writer_init(&w, out);
	put_start(&w, ROVE_MSG_CONFLICTS, a);
	rove_mp_put_u64(&w, q->after);
	rove_mp_put_u64(&w, q->max);
	return rove_mp_writer_done(&w);
}

static int head_conflicts(rove_mp_reader *r, rove_msg *m)
{
	uint64_t max = 0;
	int rc = rove_mp_get_u64(r, &m->u.conflicts.after);

	if (rc == ROVE_OK)
		rc = rove_mp_get_u64_max(r, UINT32_MAX, &max);
	m->u.conflicts.max = (uint32_t)max;
	return rc;
}

/* CONFLICTS_REPLY [3, 9, more, [conflict...]] */

int rove_enc_conflicts_reply(rove_buf *out, bool more, uint32_t n, const rove_buf *items)
{
	rove_mp_writer w;

	rove_mp_writer_init(&w, out);
	put_start(&w, ROVE_MSG_CONFLICTS_REPLY, NULL);
	rove_mp_put_bool(&w, more);
	put_items(&w, ROVE_MSG_CONFLICTS_REPLY, n);
	if (items != NULL)
		rove_mp_put_raw(&w, items->data, items->len);
	return rove_mp_writer_done(&w);
}

static int head_conflicts_reply(rove_mp_reader *r, rove_msg *m)
{
	return rove_mp_get_bool(r, &m->u.conflicts_reply.more);
}

/* ---- the table of messages ---------------------------------------------
 * One row per type, indexed by it: the decoder is driven by it (the
 * message's length, whether user and token follow the type, the head's
 * reader, the kind and the limit of the items) and the encoders take
 * their framing and their limit on items from it. */

struct msg_def {
	const char *name;   /* as in proto.h's layouts */
	uint8_t reply;      /* a request: the type of its answer (or ERROR); 0: a reply */
	uint8_t arity;      /* elements of the message, version and type included */
	uint8_t optional;   /* of them, how many at the end of the head an older
			     * peer leaves out (the head's reader sees
			     * rove_msg's elems) */
	uint8_t items;      /* rove_item_kind of the last element (ROVE_ITEM_NONE: none) */
	uint32_t max_items; /* at most this many (more: ROVE_ETOOBIG) */
	size_t count;       /* where rove_msg keeps how many there are */
	int (*head)(rove_mp_reader *r, rove_msg *m);
};

#define COUNT(member) offsetof(rove_msg, u.member.n)

static const msg_def msgs[ROVE_MSG_TYPE_MAX + 1] = {
	/* name, reply, arity, optional, items, max_items, count, head */
	[ROVE_MSG_ERROR] = {"ERROR", 0, 4, 0, ROVE_ITEM_NONE, 0, 0, head_error},
	[ROVE_MSG_PUSH] = {"PUSH", ROVE_MSG_PUSH_REPLY, 12, 1, ROVE_ITEM_OP, ROVE_MAX_PUSH_OPS, COUNT(push),
			   head_push},
	[ROVE_MSG_PUSH_REPLY] = {"PUSH_REPLY", 0, 6, 1, ROVE_ITEM_RESULT, ROVE_MAX_PUSH_OPS, COUNT(push_reply),
				 head_push_reply},
	[ROVE_MSG_PULL] = {"PULL", ROVE_MSG_PULL_REPLY, 19, 4, ROVE_ITEM_NONE, 0, 0, head_pull},
	[ROVE_MSG_PULL_REPLY] = {"PULL_REPLY", 0, 16, 2, ROVE_ITEM_ENTRY, ROVE_MAX_SNAPSHOT_ITEMS,
				 COUNT(pull_reply), head_pull_reply},
	[ROVE_MSG_ADMIN] = {"ADMIN", ROVE_MSG_ADMIN_REPLY, 7, 1, ROVE_ITEM_ARG, ROVE_MAX_ADMIN_ARGS, COUNT(admin),
			    head_admin},
	/* Lines are bounded by the message's size alone. */
	[ROVE_MSG_ADMIN_REPLY] = {"ADMIN_REPLY", 0, 3, 0, ROVE_ITEM_LINE, UINT32_MAX, COUNT(admin_reply), NULL},
	[ROVE_MSG_CONFLICTS] = {"CONFLICTS", ROVE_MSG_CONFLICTS_REPLY, 6, 0, ROVE_ITEM_NONE, 0, 0,
				head_conflicts},
	[ROVE_MSG_CONFLICTS_REPLY] = {"CONFLICTS_REPLY", 0, 4, 0, ROVE_ITEM_CONFLICT, ROVE_MAX_PULL_ITEMS,
				      COUNT(conflicts_reply), head_conflicts_reply},
};

/* The row of type; NULL for a number that is no type. */
static const msg_def *msg_def_of(uint64_t type)
{
	return type <= ROVE_MSG_TYPE_MAX && msgs[type].name != NULL ? &msgs[type] : NULL;
}

const char *rove_msg_name(int type)
{
	const msg_def *d = type < 0 ? NULL : msg_def_of((uint64_t)type);

	return d != NULL ? d->name : "unknown";
}

int rove_msg_reply(int type)
{
	const msg_def *d = type < 0 ? NULL : msg_def_of((uint64_t)type);

	return d != NULL ? d->reply : 0;
}

/* Begins a message of type: the array of its arity, the version and the
 * type, then a request's user and token (a is NULL for a reply). */
static void put_start(rove_mp_writer *w, int type, const rove_auth *a)
{
	put_start_opt(w, type, a, msg_def_of((uint64_t)type)->optional);
}

/* The same, with the first `optional` of the type's optional elements
 * (which the caller then writes; 0: the form an older peer takes). */
static void put_start_opt(rove_mp_writer *w, int type, const rove_auth *a, uint32_t optional)
{
	const msg_def *d = msg_def_of((uint64_t)type);

	ROVE_ASSERT(d != NULL && (d->reply != 0) == (a != NULL) && optional <= d->optional);
	rove_mp_put_array(w, d->arity - d->optional + optional);
	rove_mp_put_u64(w, ROVE_PROTO_VERSION);
	rove_mp_put_u64(w, (uint64_t)type);
	if (a != NULL) {
		rove_mp_put_str(w, a->user);
		rove_mp_put_str(w, a->token);
	}
}

/* How many of its type's optional elements m, being decoded, has. */
static uint32_t optional_present(const rove_msg *m)
{
	const msg_def *d = msg_def_of(m->type);

	return d != NULL ? (uint32_t)m->elems - (d->arity - d->optional) : 0;
}

/* Whether m, being decoded, has its type's (one) optional element. */
static bool has_optional(const rove_msg *m)
{
	return optional_present(m) > 0;
}

/* The header of a message's n items, within the table's limit. */
static uint32_t max_items_of(int type)
{
	const msg_def *d = msg_def_of((uint64_t)type);

	ROVE_ASSERT(d != NULL && d->items != ROVE_ITEM_NONE);
	return d->max_items;
}

static void put_items(rove_mp_writer *w, int type, uint32_t n)
{
	const msg_def *d = msg_def_of((uint64_t)type);

	ROVE_ASSERT(d != NULL && d->items != ROVE_ITEM_NONE);
	if (n > d->max_items)
		rove_mp_writer_fail(w, ROVE_ETOOBIG);
	rove_mp_put_array(w, n);
}

/* ---- decoding ------------------------------------------------------------ */

static int get_auth(rove_mp_reader *r, rove_auth *a)
{
	int rc = rove_mp_get_cstr(r, a->user, ROVE_MAX_NAME);

	if (rc == ROVE_OK)
		rc = rove_mp_get_cstr(r, a->token, ROVE_TOKEN_HEX);
	return rc;
}

int rove_msg_version(const void *data, size_t len, uint64_t *version)
{
	rove_mp_reader r;
	uint32_t n;

	if (len > ROVE_MAX_MSG_BYTES)
		return ROVE_ETOOBIG;
	rove_mp_reader_init(&r, data, len);
	if (rove_mp_get_array(&r, ROVE_MAX_MSG_ARITY, &n) != ROVE_OK || n < 2 ||
	    rove_mp_get_u64(&r, version) != ROVE_OK)
		return ROVE_EPROTO;
	return ROVE_OK;
}

static int msg_decode(const void *data, size_t len, rove_msg *m, bool check_items)
{
	const msg_def *d;
	rove_mp_reader r;
	uint32_t n, nitems = 0;
	uint64_t version, type;
	void *scratch = NULL;
	int rc = ROVE_OK;

	memset(m, 0, sizeof(*m));
	if (len > ROVE_MAX_MSG_BYTES)
		return ROVE_ETOOBIG;
	rove_mp_reader_init(&r, data, len);
	if (rove_mp_get_array(&r, ROVE_MAX_MSG_ARITY, &n) != ROVE_OK || n < 2)
		return ROVE_EPROTO;
	if (rove_mp_get_u64(&r, &version) != ROVE_OK)
		return ROVE_EPROTO;
	if (version != ROVE_PROTO_VERSION)
		return ROVE_EVERSION;
	if (rove_mp_get_u64(&r, &type) != ROVE_OK || (d = msg_def_of(type)) == NULL || n > d->arity ||
	    n + d->optional < d->arity)
		return ROVE_EPROTO;
	m->type = (uint8_t)type;
	m->elems = (uint8_t)n;
	if (d->reply != 0)
		rc = get_auth(&r, &m->auth);
	if (rc == ROVE_OK && d->head != NULL)
		rc = d->head(&r, m);
	if (rc == ROVE_OK && d->items != ROVE_ITEM_NONE)
		rc = rove_mp_get_array(&r, d->max_items, &nitems);
	if (rc != ROVE_OK)
		return rc;
	m->items = r.p;
	m->end = r.end;
	m->left = nitems;
	if (d->items == ROVE_ITEM_NONE)
		return rove_mp_reader_at_end(&r) ? ROVE_OK : ROVE_EPROTO;
	*(uint32_t *)((char *)m + d->count) = nitems;
	if (!check_items)
		return ROVE_OK; /* rove_msg_next_* validates each; rove_msg_items_end the end */
	/* Validate every item before anyone acts on the message. */
	if (nitems > 0 && (scratch = malloc(rove_item_size(d->items))) == NULL)
		return ROVE_ENOMEM;
	for (uint32_t i = 0; i < nitems && rc == ROVE_OK; i++)
		rc = rove_item_get(&r, d->items, scratch);
	free(scratch);
	if (rc != ROVE_OK)
		return rc;
	return rove_mp_reader_at_end(&r) ? ROVE_OK : ROVE_EPROTO; /* trailing bytes */
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

/* The next item of m, which must carry items of kind. */
static int next_item(rove_msg *m, int kind, void *out)
{
	const msg_def *d = msg_def_of(m->type);
	rove_mp_reader r = {m->items, m->end};
	int rc;

	if (m->left == 0)
		return ROVE_ENOTFOUND;
	if (d == NULL || kind == ROVE_ITEM_NONE || d->items != kind)
		return ROVE_EINVAL;
	rc = rove_item_get(&r, kind, out);
	if (rc != ROVE_OK)
		return rc;
	m->items = r.p;
	m->left--;
	return ROVE_OK;
}

int rove_msg_next_op(rove_msg *m, rove_op *op)
{
	return next_item(m, ROVE_ITEM_OP, op);
}

int rove_msg_next_entry(rove_msg *m, rove_entry *e)
{
	return next_item(m, ROVE_ITEM_ENTRY, e);
}

int rove_msg_next_conflict(rove_msg *m, rove_conflict *c)
{
	return next_item(m, ROVE_ITEM_CONFLICT, c);
}

int rove_msg_next_result(rove_msg *m, rove_push_result *res)
{
	return next_item(m, ROVE_ITEM_RESULT, res);
}

int rove_msg_next_str(rove_msg *m, const char **s, uint32_t *len)
{
	const msg_def *d = msg_def_of(m->type);
	int kind = d != NULL && (d->items == ROVE_ITEM_ARG || d->items == ROVE_ITEM_LINE) ? d->items : ROVE_ITEM_NONE;
	rove_str_item it;
	int rc = next_item(m, kind, &it);

	if (rc == ROVE_OK) {
		*s = it.s;
		*len = it.len;
	}
	return rc;
}
