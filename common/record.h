/*
 * record.h - the generic record model and the field-by-field merge.
 *
 * A record is a collection number, an id and a set of named fields; each
 * field carries the stamp of the write that set it. An op is one write: a
 * set of fields under a single stamp. Merging keeps, per field, the value
 * with the later stamp (ties broken by node), so merging is commutative,
 * associative and idempotent: replicas that have seen the same ops hold the
 * same record, whatever the order they saw them in. The server and every
 * replica use this one merge.
 *
 * Memory: rove_fields keeps its strings in its own arena, so a record or op
 * is one flat struct with no pointers to free. Values handed in are copied.
 * Never copy a rove_fields (or a struct holding one) by assignment: its
 * string values would still point into the original's arena. Use
 * rove_fields_copy.
 */
#ifndef ROVE_RECORD_H
#define ROVE_RECORD_H

#include "hlc.h"
#include "rove_limits.h"
#include "uuid.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum rove_vtype { ROVE_V_NULL = 0, ROVE_V_INT = 1, ROVE_V_STR = 2 } rove_vtype;

/* A value; s points into the owning rove_fields' arena (not NUL-free:
 * strings are NUL-terminated in the arena, len excludes the NUL). */
typedef struct rove_value {
	rove_vtype type;
	int64_t i;
	const char *s;
	uint32_t len;
} rove_value;

typedef struct rove_field {
	char name[ROVE_MAX_FIELD_NAME + 1];
	rove_value v;
	rove_stamp st;
} rove_field;

typedef struct rove_fields {
	uint32_t n;                     /* fields in use, sorted by name */
	rove_field f[ROVE_MAX_FIELDS];
	uint32_t used;                  /* arena bytes in use */
	uint32_t live;                  /* of those, held by current values */
	char arena[ROVE_MAX_RECORD_BYTES];
} rove_fields;

typedef struct rove_record {
	uint8_t coll;
	rove_uuid id;
	rove_fields fs;
} rove_record;

/* Op kinds. The engine treats every kind as a field write; the policy
 * module gives kinds their meaning (who may do what). */
enum rove_op_kind {
	ROVE_OP_CREATE = 1,
	ROVE_OP_UPDATE = 2,
	ROVE_OP_DELETE = 3,
	ROVE_OP_CLAIM = 4,    /* take a customer from the public pool */
	ROVE_OP_RELEASE = 5,  /* give an owned customer back to the pool */
	ROVE_OP_REASSIGN = 6, /* server-made: a manager or admin moved it */
	ROVE_OP_KIND_MAX = 6
};

/* "create", "update", ...; "unknown" out of range. */
const char *rove_op_kind_name(int kind);

/* A pushed op's seq when the replica holds it as accepted: it is sent
 * again (after a restore, docs/PROTOCOL.md "Runs") with the stamp the
 * server gave it, which the server takes as it is (engine.c, stamp_op). */
#define ROVE_SEQ_GIVEN 1u
/* A pushed op's seq from here up: the op is the replica's own, made after
 * it had pulled that stamp (an hlc), which the server gave. Re-stamped,
 * it goes past it: the server's clock may have gone back below it (a
 * restore) while the replica that wrote it after that stamp has not sent
 * it again yet (engine.c, stamp_op). */
#define ROVE_SEQ_SEEN_MIN 2u

typedef struct rove_op {
	rove_uuid op_id;
	uint8_t kind;
	uint8_t coll;
	rove_uuid rid;
	rove_stamp st;                  /* stamp of every field written */
	uint64_t seq;                   /* server sequence; 0 before acceptance;
					 * in a push, ROVE_SEQ_GIVEN for an op
					 * the server accepted before (sent again
					 * after a restore), or the newest stamp
					 * the replica had pulled (ROVE_SEQ_SEEN_MIN) */
	char author[ROVE_MAX_NAME + 1]; /* set by the server; "" before */
	rove_fields fs;                 /* field stamps all equal st */
} rove_op;

/* An op without its fields (rove_dec_op_head): a few dozen bytes where a
 * rove_op takes a record's room, for ops handled by their head alone (a
 * push's answers), many at a time. */
typedef struct rove_op_head {
	rove_uuid op_id;
	uint8_t kind;
	uint8_t coll;
	rove_uuid rid;
	rove_stamp st;
	uint64_t seq;
} rove_op_head;

static inline rove_value rove_vnull(void)
{
	return (rove_value){ROVE_V_NULL, 0, NULL, 0};
}
static inline rove_value rove_vint(int64_t i)
{
	return (rove_value){ROVE_V_INT, i, NULL, 0};
}
/* s need not be NUL-terminated; it is copied when set into fields. */
static inline rove_value rove_vstr(const char *s, uint32_t len)
{
	return (rove_value){ROVE_V_STR, 0, s, len};
}
rove_value rove_vcstr(const char *s);

void rove_fields_init(rove_fields *fs);
/* Sets name to v with stamp st (copying the string), replacing any value.
 * ROVE_ETOOBIG past ROVE_MAX_FIELDS/ROVE_MAX_STR/ROVE_MAX_RECORD_BYTES,
 * ROVE_EINVAL for an empty or too long name or a NUL inside the string;
 * on any error fs is unchanged. */
int rove_fields_set(rove_fields *fs, const char *name, rove_value v, rove_stamp st);
/* The same for a name fs does not have yet: ROVE_EEXIST if it has (and fs
 * is unchanged); one look-up where a check and a set take two. */
int rove_fields_add(rove_fields *fs, const char *name, rove_value v, rove_stamp st);
/* Removes field i (below fs->n); the others keep their order. */
void rove_fields_remove(rove_fields *fs, uint32_t i);
/* dst := a copy of src with its own strings. */
int rove_fields_copy(rove_fields *dst, const rove_fields *src);
/* The field or NULL; valid until fs changes. */
const rove_field *rove_fields_get(const rove_fields *fs, const char *name);
/* String value of name as a NUL-terminated string, or NULL if absent,
 * null or not a string. */
const char *rove_fields_str(const rove_fields *fs, const char *name);
bool rove_fields_int(const rove_fields *fs, const char *name, int64_t *out);
bool rove_value_eq(const rove_value *a, const rove_value *b);

/* dst := dst merged with src (later stamp wins per field).
 * *changed (optional) tells whether dst changed. */
int rove_merge(rove_fields *dst, const rove_fields *src, bool *changed);

/* Merges an op into a record (the record's coll/id are set from the op). */
int rove_record_apply(rove_record *rec, const rove_op *op, bool *changed);

/* A record is deleted when its "_deleted" field is a non-zero int. */
#define ROVE_FIELD_DELETED "_deleted"
bool rove_record_deleted(const rove_record *rec);

/* A record's database key, on the server and in a replica: collection
 * then id, so one collection's records are one key range in id order. */
#define ROVE_RECORD_KEY 17
void rove_record_key(uint8_t key[ROVE_RECORD_KEY], uint8_t coll, const rove_uuid *id);

/* Initialises op: new op id, no fields, stamp given. */
void rove_op_init(rove_op *op, uint8_t kind, uint8_t coll, const rove_uuid *rid, rove_stamp st);
/* The same with a given op id (no id is generated). */
void rove_op_init_id(rove_op *op, const rove_uuid *op_id, uint8_t kind, uint8_t coll, const rove_uuid *rid,
		     rove_stamp st);
/* Sets a field of the op under the op's stamp. */
int rove_op_set(rove_op *op, const char *name, rove_value v);
/* Changes the op's stamp and every field's with it. */
void rove_op_restamp(rove_op *op, rove_stamp st);

#endif
