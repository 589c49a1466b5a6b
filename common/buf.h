/*
 * buf.h - a growable byte buffer.
 *
 * What rove builds in memory before it goes on the wire or to disk (a
 * message, a stored op, a pull reply's items) is appended to a rove_buf.
 * A buffer never grows past ROVE_MAX_MSG_BYTES: everything built in one
 * is a message, a part of one or a stored form that must fit in one, so
 * the limit is checked where the bytes are appended, once.
 *
 * The buffer owns data; rove_buf_free releases it. rove_buf_reset keeps
 * the memory for the next use.
 */
#ifndef ROVE_BUF_H
#define ROVE_BUF_H

#include <stddef.h>

typedef struct rove_buf {
	char *data;
	size_t len;
	size_t cap;
} rove_buf;

/* An empty buffer holding no memory. */
void rove_buf_init(rove_buf *b);
/* Empties b, keeping its memory. */
void rove_buf_reset(rove_buf *b);
/* Releases b's memory and leaves it empty, ready for use again. */
void rove_buf_free(rove_buf *b);
/* Appends len bytes; ROVE_ETOOBIG past ROVE_MAX_MSG_BYTES, ROVE_ENOMEM;
 * on failure b is unchanged. */
int rove_buf_append(rove_buf *b, const void *data, size_t len);
/* Makes room for len more bytes after b->len (b->len unchanged), so that
 * they may be written in place; the same errors as rove_buf_append. */
int rove_buf_reserve(rove_buf *b, size_t len);

#endif
