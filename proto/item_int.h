/*
 * item_int.h - the items of messages, for proto/ alone.
 *
 * A message's last element is an array of items of one kind: ops (a
 * push), results (its reply), entries (a pull reply), conflicts, admin
 * arguments or reply lines. item.c reads and writes each kind; proto.c's
 * table of messages names the kind a message carries and reads its items
 * through rove_item_get. The stored forms of an op, a record and a
 * refused op (public: proto.h) are items too and live in item.c.
 */
#ifndef ROVE_ITEM_INT_H
#define ROVE_ITEM_INT_H

#include "mp_int.h"
#include "proto.h"

#include <stddef.h>
#include <stdint.h>

enum rove_item_kind {
	ROVE_ITEM_NONE = 0, /* a message without items */
	ROVE_ITEM_OP,       /* rove_op */
	ROVE_ITEM_RESULT,   /* rove_push_result */
	ROVE_ITEM_ENTRY,    /* rove_entry */
	ROVE_ITEM_CONFLICT, /* rove_conflict */
	ROVE_ITEM_ARG,      /* rove_str_item, up to ROVE_MAX_ADMIN_ARG bytes */
	ROVE_ITEM_LINE,     /* rove_str_item, up to ROVE_MAX_STR bytes */
	ROVE_ITEM_KINDS
};

/* A string item: in place in the message, not terminated, no NUL byte. */
typedef struct rove_str_item {
	const char *s;
	uint32_t len;
} rove_str_item;

/* Reads and validates one item of kind into out, the type the kind names
 * (rove_item_size bytes). ROVE_EPROTO for anything malformed, ROVE_ETOOBIG
 * over a limit. */
int rove_item_get(rove_mp_reader *r, int kind, void *out);
size_t rove_item_size(int kind);

/* The items the encoders write one by one (the others are written from
 * their stored encoding: rove_enc_entry_*, rove_enc_conflict_raw). */
void rove_item_put_op(rove_mp_writer *w, const rove_op *op);
void rove_item_put_result(rove_mp_writer *w, const rove_push_result *r);

#endif
