/*
 * out.h - everything `rove` prints from data: JSON, and text for a
 * terminal.
 *
 * JSON follows SPEC.md: records are named by "id", users by login, money
 * is integer cents, absent fields are null. Every JSON document goes
 * through one writer (out_json): it escapes every key and string
 * (rove_text_put_json), so whatever bytes a record, a refused op or a
 * server's reply holds, the output is valid JSON and valid UTF-8 (bytes
 * that are not UTF-8 become U+FFFD), and it places every comma, so that
 * no caller can forge or break the structure.
 *
 * Text shows every control character and every byte that is not UTF-8 as
 * an escape (rove_text_show: "\n", "\x1b", "\u202e"): tables stay one
 * line per record and nothing reaches the terminal as a command. Only
 * `show` keeps the lines of notes and addresses, indented under their
 * label.
 */
#ifndef ROVE_OUT_H
#define ROVE_OUT_H

#include "record.h"
#include "schema.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* ---- JSON ---- */

/* Nesting a document may have: records in an array in an object. */
#define OUT_JSON_DEPTH 8

/* A JSON document being written to f. Values follow a key inside an
 * object, stand alone in an array, or are the document. Misuse (a value
 * without its key, unbalanced ends, too deep) is a programming error and
 * asserts. */
typedef struct out_json {
	FILE *f;
	int depth;
	char open[OUT_JSON_DEPTH]; /* '{' or '[' per level */
	bool first[OUT_JSON_DEPTH]; /* nothing in this level yet */
	bool keyed;                 /* a key was written; its value is next */
	bool begun;                 /* the document has its value (or began it) */
} out_json;

void out_json_init(out_json *j, FILE *f);
void out_json_begin_object(out_json *j);
void out_json_end_object(out_json *j);
void out_json_begin_array(out_json *j);
void out_json_end_array(out_json *j);
void out_json_key(out_json *j, const char *name);
void out_json_str(out_json *j, const char *s, size_t len);
void out_json_cstr(out_json *j, const char *s); /* NULL writes null */
void out_json_int(out_json *j, int64_t i);
void out_json_uint(out_json *j, uint64_t u);
void out_json_bool(out_json *j, bool b);
void out_json_null(out_json *j);
void out_json_value(out_json *j, const rove_value *v);
/* Ends the document (all closed) with a line feed. */
void out_json_finish(out_json *j);

/* A document that is one array, as lists print: out_json_init and [;
 * then its values; then ] and the line feed. */
void out_json_begin_list(out_json *j, FILE *f);
void out_json_end_list(out_json *j);

/* A key and its value, inside an object: out_json_key, then the value
 * (out_json_field_str writes null for NULL). */
void out_json_field_str(out_json *j, const char *key, const char *s);
void out_json_field_int(out_json *j, const char *key, int64_t i);
void out_json_field_uint(out_json *j, const char *key, uint64_t u);
void out_json_field_bool(out_json *j, const char *key, bool b);

/* {"id": ..., one key per shown schema field} */
void out_record_json(out_json *j, const rove_coll_def *c, const rove_record *rec);
/* The same, with "pending": true when pending, false when not (a list's
 * mark of a record with changes the server has not confirmed; a script
 * reads .pending as a boolean in every object). */
void out_record_json_marked(out_json *j, const rove_coll_def *c, const rove_record *rec, bool pending);

/* A refused change, as printed. */
typedef struct out_refusal {
	uint64_t time_ms;
	int reason;
	const char *detail;
	const char *author;   /* NULL: the replica's own change */
	const rove_op *op;
	bool mine;            /* the replica's own: it says if it is dismissed */
	bool dismissed;
	bool waiting;         /* waits for its record (rove_rejection_state) */
} out_refusal;

/* A refused change as one object. */
void out_refusal_json(out_json *j, const out_refusal *rf);
/* An op's fields as the key "fields" and an object of them. */
void out_op_fields_json(out_json *j, const rove_op *op);

/* ---- text ---- */

/* ISO 8601 UTC time of Unix milliseconds into out (at least 32 bytes). */
void out_time(uint64_t ms, char *out, size_t len);

/* A span of milliseconds as people say it, rounded, in the largest unit
 * of which that makes two or more (minutes up to two hours, hours up to
 * two days): "10 minutes", "2 days", "1 minute". */
void out_span(uint64_t ms, char *out, size_t len);

/* Room for out_money's text: "-92233720368547758.08" and its NUL. */
#define OUT_MONEY_TEXT 32

/* Integer cents as currency units, as tables and messages show money:
 * 1200050 -> "12000.50", -5 -> "-0.05". */
void out_money(int64_t cents, char *out, size_t len);

/* A value as one line of text for tables and messages (money as units),
 * shown (controls escaped) and cut to len. */
void out_value_text(const rove_field_def *fd, const rove_value *v, char *out, size_t len);

/* Writes s shown (controls escaped). NULL writes nothing. */
void out_text(FILE *f, const char *s);

/* A field's value for `show`, in full: the lines of a multi-line field
 * (notes, addresses) each on its own line, indented by indent columns
 * after the first; any other value on one line. */
void out_show_value(FILE *f, const rove_field_def *fd, const rove_value *v, int indent);

/* Prints s shown, padded (or cut, with an ellipsis) to width terminal
 * columns; CJK characters take two columns. */
void out_cell(FILE *f, const char *s, int width);
/* The same, never cut: a longer text takes the room it needs. */
void out_cell_whole(FILE *f, const char *s, int width);

/* A refused change as a few lines of text; its op named by the last
 * group of its id (what `rove rejected dismiss|retry` take). */
void out_refusal_text(FILE *f, const out_refusal *rf);
/* An op's fields, a line each ("    name = value"). */
void out_op_fields_text(FILE *f, const rove_op *op);

#endif
