/*
 * proto.h - rove's wire protocol: every message, encoded with msgpack-c,
 * decoded strictly.
 *
 * Every message is one MessagePack array: [version, type, ...]. Requests
 * then carry the user's login and token, then the body. Encoding appends
 * to a rove_buf. Decoding reads the bytes in place: a decoded message and
 * its items point into the caller's buffer, which must outlive the
 * rove_msg, and nothing the caller gets is allocated (the check of a
 * message's items borrows one scratch item from the heap). It first
 * validates the whole message - version, type, length, every element's
 * type, every length, count and limit - and only then lets the caller
 * iterate the items, so a handler never acts on half a message (but see
 * rove_msg_decode_lazy).
 *
 * The messages (docs/PROTOCOL.md shows the same table). Each request - a
 * message with user and token - is answered by the type after it, or by
 * ERROR when it fails as a whole:
 *
 *   1 ERROR            [3, 1, code, text]
 *   2 PUSH             [3, 2, user, token, replica, server, run, seq, ack_run, ack_seq(, proof),
 *                       [op...]]
 *   3 PUSH_REPLY       [3, 3, server, run(, proof), [result...]]
 *   4 PULL             [3, 4, user, token, replica, cursor, snap_seq, snap_key, epoch, max,
 *                       server, run, ack_run, ack_seq, own(, clock(, records(, proofs(, snap_end))))]
 *   5 PULL_REPLY       [3, 5, role, mode, head, cursor, snap_seq, snap_key, epoch, reset,
 *                       more, server, run(, time(, proof)), [entry...]]
 *   6 ADMIN            [3, 6, user, token, command(, request), [arg...]]
 *   7 ADMIN_REPLY      [3, 7, [line...]]
 *   8 CONFLICTS        [3, 8, user, token, after, max]
 *   9 CONFLICTS_REPLY  [3, 9, more, [conflict...]]
 *
 * An element in parentheses is optional: a peer that predates it leaves
 * it out (nested ones: the inner one goes first, never the outer alone),
 * and a peer that knows it sends it only to one that asked for it (a PULL
 * with records 2 gets records in format 2, one without only format 1; a
 * PULL with clock true gets a PULL_REPLY with time, the server's wall
 * clock in Unix ms; an ADMIN with request, a 16-byte id the client made
 * for that one command, never all zero, which the server remembers with
 * its answer so that the command sent again after a lost connection is
 * answered again and not done twice; a PUSH with proof, or a PULL with
 * proofs true, gets a reply with proof), so that older peers are never
 * sent a form they would refuse.
 *
 * A proof (bin 24: an hlc, 8 bytes big-endian, then a MAC of 16) says
 * that the server's clock reached that hlc: the server makes it under a
 * key kept in its database (server/proof.h), so that a restored copy can
 * check the proofs its replicas send back, and no client can make one.
 * A replica keeps the newest it was given (a push answer's in place of
 * the one it sent: below it only when the server could not check that
 * one) and sends it with every push (once it has one); the server then
 * takes the stamps the replica's ops were given, and the stamps it had
 * seen, up to that hlc as its own (docs/PROTOCOL.md, "Proofs of the
 * clock"). The table in proto.c says how many such elements each type
 * has; any other length is refused.
 *
 * To add a message: give it the next number in rove_msg_type (numbers
 * never change); write its layout above and in docs/PROTOCOL.md; give it
 * a struct in rove_msg's union (with n if it carries items); in proto.c
 * write rove_enc_NAME and the reader of its head beside the others' and
 * add its row to msgs[] (name, reply, arity, kind of items and their
 * limit) - a new kind of item goes in item.c. A request is then served
 * once it has its row in the server's table (server/engine.c, requests[]).
 * Test it in tests/unit/test_proto.c and give the fuzzers a seed
 * (tests/fuzz/gen_corpus.c).
 *
 * A server is named by a number fixed when its database is created (its
 * copies and backups keep it): a replica syncs with one server only, and
 * names it in every request (0 before it knows it); another server
 * refuses the request (ROVE_EWRONGSERVER) before acting on it.
 * A run (16 bytes; all zero for none) names one stretch of the server's
 * history: a server starts a new run every time it starts. A replica
 * names the run its cursor came from, and the run of its latest
 * acknowledged push, so that the server can tell when its history is not
 * the one the replica synced with (a restored copy: ROVE_EHISTORY); a push
 * names them too (rove_seen), so that nothing is pushed onto a history the
 * replica's pending ops do not follow.
 *
 *   op       [op_id, kind, coll, rid, hlc, node, seq, author, [[name, value]...]]
 *   record   [coll, id, [[name, value, hlc, node]...]]
 *   entry    [0, op] | [1, record] | [2, coll, id] | [3, coll, id, seq, op_id]
 *            (apply op, merge record, evict, apply your own op: the one this
 *            replica pushed with that id and had acknowledged at seq, as
 *            its answer said the server kept it; sent only to a PULL that
 *            says own)
 *   result   [op_id, status, seen, seq, reason, detail, hlc, node, kept]
 *            (kept, accepted: the fields the server kept with another value
 *            than pushed, or added, [[name, value]...]; nil when it cannot
 *            tell: an op answered again whose oplog entry was compacted)
 *   conflict [n, time_ms, reason, detail, op, dropped]   (dropped: how many
 *            older refused ops of the op's author the server dropped to
 *            stay within its bounds; a server before it sent none: 0)
 *
 * Stored, never sent: the server's rejects table and the replica's
 * rejected table keep a refused op as
 *
 *   rejection [time_ms, reason, detail, op]
 */
#ifndef ROVE_PROTO_H
#define ROVE_PROTO_H

#include "buf.h"
#include "record.h"
#include "rove_limits.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rove_msg_type {
	ROVE_MSG_ERROR = 1,
	ROVE_MSG_PUSH = 2,
	ROVE_MSG_PUSH_REPLY = 3,
	ROVE_MSG_PULL = 4,
	ROVE_MSG_PULL_REPLY = 5,
	ROVE_MSG_ADMIN = 6,
	ROVE_MSG_ADMIN_REPLY = 7,
	ROVE_MSG_CONFLICTS = 8,
	ROVE_MSG_CONFLICTS_REPLY = 9,
	ROVE_MSG_TYPE_MAX = 9
};

/* What a replica has seen of the server's history: up to seq (its cursor,
 * or the snapshot it is taking) in run, and its acknowledged ops up to
 * ack_seq in ack_run. All zero: nothing. */
/* A proof of the server's clock (see the top of this file); hlc 0: none. */
#define ROVE_PROOF_MAC 16
typedef struct rove_proof {
	rove_hlc hlc;
	uint8_t mac[ROVE_PROOF_MAC];
} rove_proof;

typedef struct rove_seen {
	uint64_t server; /* the server's number (0: not known yet) */
	rove_uuid run;
	uint64_t seq;
	rove_uuid ack_run;
	uint64_t ack_seq;
	rove_proof clock; /* the newest proof of the server's clock held (a
			   * PUSH's optional proof, sent when hlc is not 0) */
} rove_seen;

typedef struct rove_auth {
	char user[ROVE_MAX_NAME + 1];
	char token[ROVE_TOKEN_HEX + 1];
} rove_auth;

enum rove_push_status { ROVE_PUSH_ACCEPTED = 0, ROVE_PUSH_REJECTED = 1 };

typedef struct rove_push_result {
	rove_uuid op_id;
	uint8_t status;      /* rove_push_status */
	bool seen;           /* the server had this op already */
	uint64_t seq;        /* accepted: its sequence number */
	uint8_t reason;      /* rejected: rove_reason */
	char detail[ROVE_MAX_DETAIL + 1];
	rove_stamp st;       /* accepted: the stamp the server kept */
	/* Accepted: the fields the server kept otherwise than pushed (or
	 * added), encoded [[name, value]...] (rove_enc_kept), in the message
	 * or the encoder's buffer; kept_known false (nil on the wire) when it
	 * cannot tell. Apply with rove_push_result_kept. */
	bool kept_known;
	const uint8_t *kept;
	uint32_t keptlen;
} rove_push_result;

typedef struct rove_pull_req {
	rove_uuid replica;
	uint64_t cursor;     /* last sequence number held; 0 = needs a snapshot */
	uint64_t snap_seq;   /* snapshot in progress: its sequence number, else 0 */
	uint32_t snap_keylen;
	uint8_t snap_key[ROVE_MAX_SNAP_KEY]; /* where the snapshot (or, in ops,
					      * a record's family) resumes */
	uint64_t epoch;      /* the scope epoch the replica's data is for */
	uint32_t max_items;
	uint64_t server;     /* the server the replica syncs with (0: not known) */
	rove_uuid run;       /* the run cursor / snap_seq came from */
	rove_uuid ack_run;   /* the run of the latest acknowledged push, and */
	uint64_t ack_seq;    /* the highest sequence number acknowledged past
			      * the cursor (0: none) */
	bool own;            /* the replica's own ops, kept as their answers
			      * said, may come as ROVE_ENTRY_MINE */
	bool clock;          /* the reply is to say the server's time (time_ms);
			      * sent only when true or with records
			      * (optional: an older server refuses a PULL
			      * that has it) */
	uint8_t records;     /* the newest record format the replica reads
			      * (ROVE_RECORD_FORMAT); sent only when 2 or
			      * more (optional, after clock: a PULL without it
			      * is of a replica that reads format 1 only) */
	bool proofs;         /* the reply is to carry a proof of the server's
			      * clock; sent only when true (optional, after
			      * records, which it needs) */
	bool has_snap_end;   /* snap_end is sent (optional, after proofs,
			      * which it needs) */
	uint64_t snap_end;   /* ops up to this sequence number that move a
			      * record between two of the user's scopes
			      * come as its whole family: the replica's
			      * last snapshot was read while they were made,
			      * and may lack the record (0: none). A PULL
			      * without it (an older rove) gets every move
			      * whole. */
} rove_pull_req;

enum rove_pull_mode { ROVE_PULL_OPS = 1, ROVE_PULL_SNAPSHOT = 2 };

typedef struct rove_pull_reply {
	char role[ROVE_MAX_NAME + 1];
	uint8_t mode;        /* rove_pull_mode: items are ops or records */
	uint64_t head;       /* server's latest sequence number */
	uint64_t cursor;     /* ops: the cursor after these items */
	uint64_t snap_seq;   /* snapshot: the sequence number it continues from */
	uint32_t snap_keylen;
	uint8_t snap_key[ROVE_MAX_SNAP_KEY]; /* snapshot: resume key if more */
	uint64_t epoch;      /* the user's scope epoch */
	bool reset;          /* snapshot: drop all server data held before applying */
	bool more;           /* more items are waiting */
	uint64_t server;     /* the server's number (its database's) */
	rove_uuid run;       /* the server's current run */
	uint64_t time_ms;    /* the server's wall clock as it answered, in Unix
			      * ms, for a PULL that asked (clock, or proofs);
			      * 0: not said (optional: sent only when not 0) */
	rove_proof clock;    /* for a PULL that asked (proofs): the server's
			      * clock as of the data sent (optional, after
			      * time, which it needs: sent when hlc is not 0) */
	uint32_t n;          /* items in this reply */
} rove_pull_reply;

/* One item of a pull reply. */
enum rove_entry_tag { ROVE_ENTRY_OP = 0, ROVE_ENTRY_RECORD = 1, ROVE_ENTRY_EVICT = 2, ROVE_ENTRY_MINE = 3 };

typedef struct rove_entry {
	uint8_t tag;
	uint8_t coll;       /* of the record concerned, whatever the tag */
	rove_uuid id;
	rove_op op;         /* ROVE_ENTRY_OP */
	rove_record rec;    /* ROVE_ENTRY_RECORD */
	uint64_t seq;       /* ROVE_ENTRY_MINE: the op's sequence number */
	rove_uuid op_id;    /* ROVE_ENTRY_MINE: the op's id */
	const uint8_t *raw; /* op or record: its encoding inside the message */
	size_t rawlen;
} rove_entry;

typedef struct rove_conflicts_req {
	uint64_t after;     /* list conflicts numbered after this */
	uint32_t max;
} rove_conflicts_req;

typedef struct rove_conflict {
	uint64_t n;
	uint64_t time_ms;
	uint8_t reason;
	char detail[ROVE_MAX_DETAIL + 1];
	rove_op op;         /* with its author */
	uint64_t dropped;   /* older refusals of the op's author no longer kept */
} rove_conflict;

/* A refused op as stored (see the top of this file). Decoding fills op
 * and points op_raw at the op's encoding inside the decoded bytes, which
 * must outlive the rove_rejection. */
typedef struct rove_rejection {
	uint64_t time_ms;
	uint8_t reason;     /* rove_reason */
	char detail[ROVE_MAX_DETAIL + 1];
	rove_op op;         /* the server's copy carries its author */
	const uint8_t *op_raw;
	size_t op_rawlen;
} rove_rejection;

/* Encoders append one whole message, or one item or stored form, to out
 * and return ROVE_OK, or ROVE_ETOOBIG over a limit (a message's size, its
 * items' count) or ROVE_ENOMEM with out as it was. */

/* The messages, in type order. */
int rove_enc_error(rove_buf *out, int code, const char *text);
/* The same in protocol version `version`: an ERROR is [version, 1, code,
 * text] in every version, so a client of another version can read why
 * its request was refused (the server's answer to ROVE_EVERSION). */
int rove_enc_error_in(rove_buf *out, uint64_t version, int code, const char *text);
/* seen may be NULL: nothing seen. */
int rove_enc_push(rove_buf *out, const rove_auth *a, const rove_uuid *replica, const rove_seen *seen,
		  const rove_op *ops, uint32_t n);
/* The same built in place, with the ops as stored (a replica's outbox):
 * rove_enc_push_open appends the message up to its ops to out, with
 * room for their count as a 32-bit array header (which decoders take for
 * any count), and sets *count_at to it; the caller appends each op's
 * encoding (rove_enc_op's) after that, and rove_enc_push_count says how
 * many the message carries (the caller cuts out->len after them, which
 * may be fewer than it appended). ROVE_ETOOBIG: more than a push may
 * carry (the message is left as it was). */
int rove_enc_push_open(rove_buf *out, const rove_auth *a, const rove_uuid *replica, const rove_seen *seen,
		       size_t *count_at);
int rove_enc_push_count(rove_buf *out, size_t count_at, uint32_t n);
int rove_enc_push_reply(rove_buf *out, uint64_t server, const rove_uuid *run, const rove_push_result *res,
			uint32_t n);
/* The same with a proof of the server's clock (NULL, or hlc 0: none),
 * for a PUSH that carried one. */
int rove_enc_push_reply_proof(rove_buf *out, uint64_t server, const rove_uuid *run, const rove_proof *clock,
			      const rove_push_result *res, uint32_t n);
int rove_enc_pull(rove_buf *out, const rove_auth *a, const rove_pull_req *req);
/* items holds hdr->n entries (rove_enc_entry_*). */
int rove_enc_pull_reply(rove_buf *out, const rove_pull_reply *hdr, const rove_buf *items);
int rove_enc_admin(rove_buf *out, const rove_auth *a, const char *cmd, const char *const *args, uint32_t nargs);
/* The same with the request's id (NULL: none, the form an older server
 * takes; the nil id is ROVE_EINVAL). */
int rove_enc_admin_req(rove_buf *out, const rove_auth *a, const char *cmd, const rove_uuid *request,
		       const char *const *args, uint32_t nargs);
/* Each line is cut to ROVE_MAX_STR bytes. */
int rove_enc_admin_reply(rove_buf *out, const char *const *lines, uint32_t n);
int rove_enc_conflicts(rove_buf *out, const rove_auth *a, const rove_conflicts_req *req);
/* items holds n conflicts (rove_enc_conflict_raw). */
int rove_enc_conflicts_reply(rove_buf *out, bool more, uint32_t n, const rove_buf *items);

/* Items. An op entry from an op's stored encoding (not re-validated: the
 * caller decoded it first); a record entry; an evict entry. */
int rove_enc_entry_op_raw(rove_buf *out, const void *op, size_t len);
int rove_enc_entry_record_raw(rove_buf *out, const void *rec, size_t len);
/* The formats of a stored record (docs/PROTOCOL.md, "Items"): 1, every
 * field with its stamp; 2, the stamp most fields share given once. This
 * build writes ROVE_RECORD_FORMAT and reads both. */
#define ROVE_RECORD_FORMAT 2
/* A record entry for a peer that reads record formats up to format: a
 * stored record (either format) as it is, or, for a peer of format 1
 * given a record of format 2, decoded into scratch and written in
 * format 1. ROVE_EPROTO if it must be decoded and does not. */
int rove_enc_entry_record_for(rove_buf *out, const void *rec, size_t len, int format, rove_record *scratch);
int rove_enc_entry_evict(rove_buf *out, uint8_t coll, const rove_uuid *id);
/* The puller's own op seq (op_id, of record coll/id), sent by reference. */
int rove_enc_entry_mine(rove_buf *out, uint8_t coll, const rove_uuid *id, uint64_t seq, const rove_uuid *op_id);

/* A push result's kept: appends to out [[name, value]...], each field of
 * kept whose value pushed lacks or holds otherwise; *known is false (and
 * nothing appended) when pushed holds a field kept lacks (no list of sets
 * can say that). */
int rove_enc_kept(rove_buf *out, const rove_fields *pushed, const rove_fields *kept, bool *known);
/* Sets on op (with op's stamp) the fields of a kept list (a result's
 * kept, as received and stored); *changed: whether any value differed.
 * ROVE_EPROTO for a malformed list, ROVE_ETOOBIG if op cannot take them. */
int rove_kept_apply(const void *kept, size_t len, rove_op *op, bool *changed);
/* The same, saying which: *set fields of op it set (a value that
 * differed), their names in names (room for ROVE_MAX_FIELDS) unless
 * NULL. */
int rove_kept_apply_named(const void *kept, size_t len, rove_op *op, char (*names)[ROVE_MAX_FIELD_NAME + 1],
			  uint32_t *set);
/* One conflict item, the op given by its stored encoding; detail is cut
 * to ROVE_MAX_DETAIL bytes. */
int rove_enc_conflict_raw(rove_buf *out, uint64_t n, uint64_t time_ms, int reason, const char *detail,
			  uint64_t dropped, const void *op, size_t len);

/* The stored forms: an op, a record, a refused op. */
int rove_enc_op(rove_buf *out, const rove_op *op);
int rove_enc_record(rove_buf *out, const rove_record *rec);
/* detail is cut to ROVE_MAX_DETAIL bytes. ROVE_EINVAL for a reason
 * outside rove_reason (it could not be read back). */
int rove_enc_rejection(rove_buf *out, uint64_t time_ms, int reason, const char *detail, const rove_op *op);

/* Stand-alone decoders for one op, record or rejection (the stored forms
 * on disk): ROVE_EPROTO for anything malformed (trailing bytes too),
 * ROVE_ETOOBIG over a limit. */
int rove_dec_op(const void *data, size_t len, rove_op *op);
/* An op's head alone (id, kind, collection, record, stamp, seq; the
 * author is checked, not kept; the fields are left unread and unchecked):
 * for a stored op that goes on as it is. */
int rove_dec_op_head(const void *data, size_t len, rove_op_head *op);
/* The same, with the author kept in author (NULL: checked only). */
int rove_dec_op_head_author(const void *data, size_t len, rove_op_head *op, char author[ROVE_MAX_NAME + 1]);
int rove_dec_record(const void *data, size_t len, rove_record *rec);
int rove_dec_rejection(const void *data, size_t len, rove_rejection *rj);
/* Whether a stored record is deleted (rove_record_deleted), read without
 * decoding it: its outline is checked (ROVE_EPROTO), its values are not.
 * For a store's own records, which were checked when written; a reader of
 * anyone else's uses rove_dec_record. */
int rove_record_raw_deleted(const void *data, size_t len, bool *deleted);
/* The same, with the record's collection and id: whose record it is. */
int rove_record_raw_outline(const void *data, size_t len, uint8_t *coll, rove_uuid *id, bool *deleted);

/* A decoded message. Fields are filled by type; iterate items with the
 * rove_msg_next_* function matching the type. */
typedef struct rove_msg {
	uint8_t type;
	uint8_t elems;  /* elements of its outer array: with its optional ones? */
	rove_auth auth; /* requests */
	union {
		struct {
			rove_uuid replica;
			rove_seen seen;
			uint32_t n;
		} push;
		struct {
			uint64_t server;
			rove_uuid run;
			rove_proof clock; /* hlc 0: none sent */
			uint32_t n;
		} push_reply;
		rove_pull_req pull;
		rove_pull_reply pull_reply;
		struct {
			char cmd[ROVE_MAX_NAME + 1];
			bool has_request; /* the optional request id was sent */
			rove_uuid request;
			uint32_t n;
		} admin;
		struct {
			uint32_t n;
		} admin_reply;
		rove_conflicts_req conflicts;
		struct {
			bool more;
			uint32_t n;
		} conflicts_reply;
		struct {
			int code;
			char text[ROVE_MAX_ERRMSG + 1];
		} error;
	} u;
	const uint8_t *items; /* next item */
	const uint8_t *end;
	uint32_t left;        /* items not yet read */
} rove_msg;

/* The type's name as in the layouts above ("PULL_REPLY"), for logs and
 * tools; "unknown" for a number that is no type. */
const char *rove_msg_name(int type);
/* The type of the answer to a request of this type (besides ERROR, which
 * may answer any request); 0 for a reply or a number that is no type. */
int rove_msg_reply(int type);

/* Validates and decodes; ROVE_EVERSION for another version, ROVE_EPROTO
 * for anything malformed, ROVE_ETOOBIG over a limit, ROVE_ENOMEM. Every
 * item is validated before this returns. */
int rove_msg_decode(const void *data, size_t len, rove_msg *m);
/* The protocol version a message says it is in (its second element), for
 * a message rove_msg_decode refused with ROVE_EVERSION; ROVE_EPROTO if it
 * does not start as a message does. */
int rove_msg_version(const void *data, size_t len, uint64_t *version);
/* The same, except that the items are validated one by one as
 * rove_msg_next_* reads them (each item once instead of twice, for big
 * pull replies). For a reader that acts on items inside a transaction:
 * a failing rove_msg_next_* means the message is malformed and all that
 * was done with earlier items must be undone; after the last item,
 * rove_msg_items_end says whether the message ended there. */
int rove_msg_decode_lazy(const void *data, size_t len, rove_msg *m);
/* ROVE_OK when every item was read and nothing follows the last one,
 * else ROVE_EPROTO. */
int rove_msg_items_end(const rove_msg *m);
/* Next item; ROVE_ENOTFOUND when none is left, ROVE_EINVAL when the
 * message carries items of another kind. */
int rove_msg_next_op(rove_msg *m, rove_op *op);
int rove_msg_next_entry(rove_msg *m, rove_entry *e);
int rove_msg_next_conflict(rove_msg *m, rove_conflict *c);
int rove_msg_next_result(rove_msg *m, rove_push_result *r);
/* Admin args and reply lines: *s is not NUL-terminated; it points into
 * the message buffer. */
int rove_msg_next_str(rove_msg *m, const char **s, uint32_t *len);

#endif
