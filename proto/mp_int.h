/*
 * mp_int.h - MessagePack primitives, for proto/ alone.
 *
 * Two halves: a writer that packs values with msgpack-c into a rove_buf,
 * and the strict reader that every decoder is built on. The reader walks
 * the bytes in place and allocates nothing: every read checks the type
 * byte and that the bytes it needs are there, and a container's count or
 * a string's length is checked against the caller's limit and against
 * the bytes left before anything else is read, so no input makes a
 * decoder allocate by what a header claims.
 *
 * proto.c builds the messages, their items and the stored forms on these;
 * nothing outside proto/ includes this header.
 */
#ifndef ROVE_MP_INT_H
#define ROVE_MP_INT_H

#include "buf.h"
#include "record.h"

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- writing ---- */

/* Packs into a rove_buf. A failed put sets err and the later ones are
 * harmless; rove_mp_writer_done reports it once. */
typedef struct rove_mp_writer {
	msgpack_packer pk;
	int err;
} rove_mp_writer;

void rove_mp_writer_init(rove_mp_writer *e, rove_buf *out);
void rove_mp_put_u64(rove_mp_writer *e, uint64_t v);
void rove_mp_put_i64(rove_mp_writer *e, int64_t v);
void rove_mp_put_bool(rove_mp_writer *e, bool v);
/* An array header: n elements follow. */
void rove_mp_put_array(rove_mp_writer *e, uint32_t n);
void rove_mp_put_strn(rove_mp_writer *e, const char *s, size_t len);
void rove_mp_put_str(rove_mp_writer *e, const char *s);
void rove_mp_put_bin(rove_mp_writer *e, const void *p, size_t len);
/* A field's value: nil, an integer or a string. */
void rove_mp_put_value(rove_mp_writer *e, const rove_value *v);
/* ROVE_OK, or ROVE_ETOOBIG with out cut back to start (its length before
 * the writer began). */
int rove_mp_writer_done(rove_mp_writer *e, rove_buf *out, size_t start);

/* ---- reading ---- */

/* The bytes not read yet: p up to end. */
typedef struct rove_mp_reader {
	const uint8_t *p;
	const uint8_t *end;
} rove_mp_reader;

/* Each returns ROVE_OK and moves past what it read, or ROVE_EPROTO for
 * another type or bytes missing, or ROVE_ETOOBIG over the limit given. */
int rove_mp_get_u64(rove_mp_reader *r, uint64_t *out);
/* An unsigned integer of at most max (more: ROVE_EPROTO). */
int rove_mp_get_u64_max(rove_mp_reader *r, uint64_t max, uint64_t *out);
int rove_mp_get_bool(rove_mp_reader *r, bool *out);
/* An array header of at most max elements, into *out; the elements are
 * the caller's to read. */
int rove_mp_get_array(rove_mp_reader *r, uint32_t max, uint32_t *out);
/* An array header of exactly want elements (any other count: ROVE_EPROTO). */
int rove_mp_get_exact_array(rove_mp_reader *r, uint32_t want);
/* A string (bin false) or a binary (bin true) of at most max bytes, in
 * place: *s points into the reader's bytes. */
int rove_mp_get_raw(rove_mp_reader *r, bool bin, uint32_t max, const char **s, uint32_t *len);
/* A string of at most max bytes and no NUL byte, copied into out (max + 1
 * bytes) and terminated. */
int rove_mp_get_cstr(rove_mp_reader *r, char *out, uint32_t max);
/* A binary of exactly 16 bytes (any other length: ROVE_EPROTO). */
int rove_mp_get_uuid(rove_mp_reader *r, rove_uuid *id);
/* A field's value: nil, a string of at most ROVE_MAX_STR bytes (in place)
 * or an integer that fits int64. */
int rove_mp_get_value(rove_mp_reader *r, rove_value *v);

#endif
