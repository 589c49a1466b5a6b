/*
 * mp_int.h - MessagePack primitives, for proto/ alone.
 *
 * Two halves: a writer that packs values into a rove_buf, in place (the
 * bytes msgpack-c would write), and the strict reader that every decoder
 * is built on. The reader walks the bytes in place and allocates
 * nothing: every read checks the type byte and that the bytes it needs
 * are there, and a container's count or a string's length is checked
 * against the caller's limit and against the bytes left before anything
 * else is read, so no input makes a decoder allocate by what a header
 * claims.
 *
 * item.c builds the items and the stored forms on these, proto.c the
 * messages; nothing outside proto/ includes this header.
 */
#ifndef ROVE_MP_INT_H
#define ROVE_MP_INT_H

#include "buf.h"
#include "record.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- writing ---- */

/* Packs into a rove_buf. A failed put keeps the first error and the later
 * ones write nothing; rove_mp_writer_done reports it once. */
typedef struct rove_mp_writer {
	rove_buf *out;
	size_t start; /* out's length when the writer began */
	int err;      /* the first error, a rove error */
} rove_mp_writer;

/* Begins writing at the end of out. */
void rove_mp_writer_init(rove_mp_writer *w, rove_buf *out);
/* Makes the writing fail with err (unless it failed already). */
void rove_mp_writer_fail(rove_mp_writer *w, int err);
/* ROVE_OK, or the first error (ROVE_ETOOBIG past a message's size,
 * ROVE_ENOMEM) with out cut back to what it was before the writer began. */
int rove_mp_writer_done(rove_mp_writer *w);

void rove_mp_put_u64(rove_mp_writer *w, uint64_t v);
void rove_mp_put_i64(rove_mp_writer *w, int64_t v);
void rove_mp_put_bool(rove_mp_writer *w, bool v);
void rove_mp_put_nil(rove_mp_writer *w);
/* An array header: n elements follow. */
void rove_mp_put_array(rove_mp_writer *w, uint32_t n);
void rove_mp_put_strn(rove_mp_writer *w, const char *s, size_t len);
void rove_mp_put_str(rove_mp_writer *w, const char *s);
/* At most the first max bytes of s. */
void rove_mp_put_str_max(rove_mp_writer *w, const char *s, size_t max);
void rove_mp_put_bin(rove_mp_writer *w, const void *p, size_t len);
/* A field's value: nil, an integer or a string. */
void rove_mp_put_value(rove_mp_writer *w, const rove_value *v);
/* Bytes that are MessagePack already (a stored op, a reply's items). */
void rove_mp_put_raw(rove_mp_writer *w, const void *p, size_t len);

/* ---- reading ---- */

/* The bytes not read yet: p up to end. */
typedef struct rove_mp_reader {
	const uint8_t *p;
	const uint8_t *end;
} rove_mp_reader;

/* Reads len bytes at data, which must outlive whatever points into them. */
void rove_mp_reader_init(rove_mp_reader *r, const void *data, size_t len);
/* Whether every byte has been read. */
bool rove_mp_reader_at_end(const rove_mp_reader *r);

/* Each get returns ROVE_OK and moves past what it read; ROVE_EPROTO for
 * another type or bytes missing; ROVE_ETOOBIG over the limit given. */
int rove_mp_get_u64(rove_mp_reader *r, uint64_t *out);
/* An unsigned integer of at most max (more: ROVE_EPROTO). */
int rove_mp_get_u64_max(rove_mp_reader *r, uint64_t max, uint64_t *out);
int rove_mp_get_bool(rove_mp_reader *r, bool *out);
/* An array header of at most max elements, into *out; the elements are
 * the caller's to read. */
int rove_mp_get_array(rove_mp_reader *r, uint32_t max, uint32_t *out);
/* An array header of exactly want elements (any other count: ROVE_EPROTO). */
int rove_mp_get_exact_array(rove_mp_reader *r, uint32_t want);
/* A string or a binary of at most max bytes, in place: *s and *p point
 * into the reader's bytes. */
int rove_mp_get_str(rove_mp_reader *r, uint32_t max, const char **s, uint32_t *len);
int rove_mp_get_bin(rove_mp_reader *r, uint32_t max, const uint8_t **p, uint32_t *len);
/* A string without a NUL byte, in place. */
int rove_mp_get_text(rove_mp_reader *r, uint32_t max, const char **s, uint32_t *len);
/* The same, copied into out (max + 1 bytes) and terminated. */
int rove_mp_get_cstr(rove_mp_reader *r, char *out, uint32_t max);
/* A binary of exactly 16 bytes (any other length: ROVE_EPROTO). */
int rove_mp_get_uuid(rove_mp_reader *r, rove_uuid *id);
/* A field's value: nil, a string of at most ROVE_MAX_STR bytes (in place)
 * or an integer that fits int64. */
int rove_mp_get_value(rove_mp_reader *r, rove_value *v);

#endif
