/*
 * out.h - printing records and values as JSON or as terminal tables.
 *
 * JSON follows SPEC.md: records are named by "id", users by login, money
 * is integer cents, absent fields are null.
 */
#ifndef ROVE_OUT_H
#define ROVE_OUT_H

#include "record.h"
#include "schema.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

void out_json_str(FILE *f, const char *s, size_t len);
void out_json_cstr(FILE *f, const char *s); /* NULL prints null */
void out_json_value(FILE *f, const rove_value *v);
/* {"id": ..., one key per schema field} */
void out_record_json(FILE *f, const rove_coll_def *c, const rove_record *rec);
/* ISO 8601 UTC time of Unix milliseconds into out (at least 32 bytes). */
void out_time(uint64_t ms, char *out, size_t len);
/* A value as plain text for tables and `show` (money as units). */
void out_value_text(const rove_field_def *fd, const rove_value *v, char *out, size_t len);

/* Prints s padded (or cut, with an ellipsis) to width terminal columns;
 * CJK characters take two columns. */
void out_cell(FILE *f, const char *s, int width);

/* A refused change: one JSON object (first: no leading comma) or a few
 * lines of text. author may be NULL (the replica's own changes). */
void out_refusal(FILE *f, bool json, bool first, uint64_t time_ms, int reason, const char *detail,
		 const char *author, const rove_op *op);

#endif
