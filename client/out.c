/* out.c - JSON documents and terminal text (out.h). */
#include "out.h"
#include "rove_assert.h"

#include "calendar.h"
#include "err.h"
#include "rove_limits.h"
#include "text.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- JSON ---- */

void out_json_init(out_json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
}

/* Before any value: its comma, and the checks that it belongs here. */
static void before_value(out_json *j)
{
	if (j->depth == 0) {
		ROVE_ASSERT(!j->begun); /* one value per document */
		j->begun = true;
		return;
	}
	if (j->open[j->depth - 1] == '{') {
		ROVE_ASSERT(j->keyed); /* an object's values follow their keys */
		j->keyed = false;
		return;
	}
	if (!j->first[j->depth - 1])
		fputc(',', j->f);
	j->first[j->depth - 1] = false;
}

static void begin(out_json *j, char open)
{
	before_value(j);
	ROVE_ASSERT(j->depth < OUT_JSON_DEPTH);
	j->open[j->depth] = open;
	j->first[j->depth] = true;
	j->depth++;
	fputc(open, j->f);
}

static void end(out_json *j, char open)
{
	ROVE_ASSERT(j->depth > 0 && j->open[j->depth - 1] == open && !j->keyed);
	j->depth--;
	fputc(open == '{' ? '}' : ']', j->f);
}

void out_json_begin_object(out_json *j)
{
	begin(j, '{');
}

void out_json_end_object(out_json *j)
{
	end(j, '{');
}

void out_json_begin_array(out_json *j)
{
	begin(j, '[');
}

void out_json_end_array(out_json *j)
{
	end(j, '[');
}

void out_json_key(out_json *j, const char *name)
{
	ROVE_ASSERT(j->depth > 0 && j->open[j->depth - 1] == '{' && !j->keyed);
	if (!j->first[j->depth - 1])
		fputc(',', j->f);
	j->first[j->depth - 1] = false;
	rove_text_put_json(j->f, name, strlen(name));
	fputc(':', j->f);
	j->keyed = true;
}

void out_json_str(out_json *j, const char *s, size_t len)
{
	before_value(j);
	rove_text_put_json(j->f, s, len);
}

void out_json_cstr(out_json *j, const char *s)
{
	if (s == NULL)
		out_json_null(j);
	else
		out_json_str(j, s, strlen(s));
}

void out_json_int(out_json *j, int64_t i)
{
	before_value(j);
	fprintf(j->f, "%" PRId64, i);
}

void out_json_uint(out_json *j, uint64_t u)
{
	before_value(j);
	fprintf(j->f, "%" PRIu64, u);
}

void out_json_bool(out_json *j, bool b)
{
	before_value(j);
	fputs(b ? "true" : "false", j->f);
}

void out_json_null(out_json *j)
{
	before_value(j);
	fputs("null", j->f);
}

void out_json_value(out_json *j, const rove_value *v)
{
	switch (v->type) {
	case ROVE_V_INT:
		out_json_int(j, v->i);
		break;
	case ROVE_V_STR:
		out_json_str(j, v->s, v->len);
		break;
	default:
		out_json_null(j);
	}
}

void out_json_finish(out_json *j)
{
	ROVE_ASSERT(j->depth == 0 && j->begun);
	fputc('\n', j->f);
}

void out_json_begin_list(out_json *j, FILE *f)
{
	out_json_init(j, f);
	out_json_begin_array(j);
}

void out_json_end_list(out_json *j)
{
	out_json_end_array(j);
	out_json_finish(j);
}

void out_json_field_str(out_json *j, const char *key, const char *s)
{
	out_json_key(j, key);
	out_json_cstr(j, s);
}

void out_json_field_int(out_json *j, const char *key, int64_t i)
{
	out_json_key(j, key);
	out_json_int(j, i);
}

void out_json_field_uint(out_json *j, const char *key, uint64_t u)
{
	out_json_key(j, key);
	out_json_uint(j, u);
}

void out_json_field_bool(out_json *j, const char *key, bool b)
{
	out_json_key(j, key);
	out_json_bool(j, b);
}

/* A record's object; mark: with "pending" (true or false). */
static void record_json(out_json *j, const rove_coll_def *c, const rove_record *rec, bool mark, bool pending)
{
	char id[ROVE_UUID_STRLEN + 1];

	rove_uuid_format(&rec->id, id);
	out_json_begin_object(j);
	out_json_field_str(j, "id", id);
	for (size_t i = 0; i < c->nfields; i++) {
		const rove_field *fld = rove_fields_get(&rec->fs, c->fields[i].name);
		rove_value null = rove_vnull();
		if (c->fields[i].flags & ROVE_FF_HIDDEN)
			continue;
		out_json_key(j, c->fields[i].name);
		out_json_value(j, fld != NULL ? &fld->v : &null);
	}
	if (mark)
		out_json_field_bool(j, "pending", pending);
	out_json_end_object(j);
}

void out_record_json(out_json *j, const rove_coll_def *c, const rove_record *rec)
{
	record_json(j, c, rec, false, false);
}

void out_record_json_marked(out_json *j, const rove_coll_def *c, const rove_record *rec, bool pending)
{
	record_json(j, c, rec, true, pending);
}

void out_refusal_json(out_json *j, const out_refusal *rf)
{
	const rove_op *op = rf->op;
	const rove_coll_def *c = rove_schema_coll(op->coll);
	char rid[ROVE_UUID_STRLEN + 1], opid[ROVE_UUID_STRLEN + 1], when[40];

	rove_uuid_format(&op->rid, rid);
	rove_uuid_format(&op->op_id, opid);
	out_time(rf->time_ms, when, sizeof(when));
	out_json_begin_object(j);
	out_json_field_str(j, "op", opid);
	out_json_field_str(j, "reason", rove_reason_name(rf->reason));
	out_json_field_str(j, "detail", rf->detail);
	if (rf->author != NULL)
		out_json_field_str(j, "author", rf->author);
	out_json_field_str(j, "collection", c != NULL ? c->name : "unknown");
	out_json_field_str(j, "kind", rove_op_kind_name(op->kind));
	out_json_field_str(j, "id", rid);
	out_json_field_str(j, "at", when);
	if (rf->mine)
		out_json_field_bool(j, "dismissed", rf->dismissed);
	if (rf->mine)
		out_json_field_bool(j, "waiting", rf->waiting);
	out_op_fields_json(j, op);
	out_json_end_object(j);
}

void out_op_fields_json(out_json *j, const rove_op *op)
{
	out_json_key(j, "fields");
	out_json_begin_object(j);
	for (uint32_t i = 0; i < op->fs.n; i++) {
		out_json_key(j, op->fs.f[i].name);
		out_json_value(j, &op->fs.f[i].v);
	}
	out_json_end_object(j);
}

/* ---- text ---- */

void out_span(uint64_t ms, char *out, size_t len)
{
	static const struct {
		uint64_t ms;
		const char *name;
	} units[] = {{24u * 3600u * 1000u, "day"}, {3600u * 1000u, "hour"}, {60u * 1000u, "minute"}};
	size_t i = 0;
	uint64_t n;

	while (i + 1 < sizeof(units) / sizeof(units[0]) && (ms + units[i].ms / 2) / units[i].ms < 2)
		i++;
	n = (ms + units[i].ms / 2) / units[i].ms;
	snprintf(out, len, "%" PRIu64 " %s%s", n, units[i].name, n == 1 ? "" : "s");
}

void out_time(uint64_t ms, char *out, size_t len)
{
	char t[ROVE_TIME_SIZE];

	/* A time from the server is not trusted to be in range: one past
	 * year 9999 prints as ms. */
	if (len == 0)
		return;
	if (ms > ROVE_MAX_WALL_MS) {
		snprintf(out, len, "%" PRIu64 "ms", ms);
		return;
	}
	rove_cal_time(ms, t);
	snprintf(out, len, "%s", t);
}

void out_money(int64_t cents, char *out, size_t len)
{
	uint64_t a = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;

	snprintf(out, len, "%s%" PRIu64 ".%02" PRIu64, cents < 0 ? "-" : "", a / 100, a % 100);
}

void out_value_text(const rove_field_def *fd, const rove_value *v, char *out, size_t len)
{
	if (len == 0)
		return;
	switch (v->type) {
	case ROVE_V_INT:
		if (fd != NULL && fd->type == ROVE_FT_MONEY)
			out_money(v->i, out, len);
		else
			snprintf(out, len, "%" PRId64, v->i);
		break;
	case ROVE_V_STR:
		rove_text_show(v->s, v->len, 0, out, len);
		break;
	default:
		snprintf(out, len, "-");
	}
}

void out_text(FILE *f, const char *s)
{
	if (s != NULL)
		rove_text_put_shown(f, s, strlen(s), 0);
}

void out_show_value(FILE *f, const rove_field_def *fd, const rove_value *v, int indent)
{
	char text[64];

	if (v->type != ROVE_V_STR) {
		out_value_text(fd, v, text, sizeof(text));
		fputs(text, f);
		return;
	}
	if (fd == NULL || !(fd->flags & ROVE_FF_LINES)) {
		rove_text_put_shown(f, v->s, v->len, 0);
		return;
	}
	/* Line by line; a line's tabs are kept, anything else escaped. */
	for (size_t at = 0;;) {
		const char *nl = memchr(v->s + at, '\n', v->len - at);
		size_t n = nl != NULL ? (size_t)(nl - (v->s + at)) : v->len - at;
		rove_text_put_shown(f, v->s + at, n, ROVE_TEXT_SHOW_LINES);
		if (nl == NULL)
			break;
		fprintf(f, "\n%*s", indent, "");
		at += n + 1;
	}
}

void out_refusal_text(FILE *f, const out_refusal *rf)
{
	const rove_op *op = rf->op;
	const rove_coll_def *c = rove_schema_coll(op->coll);
	char rid[ROVE_UUID_STRLEN + 1], opid[ROVE_UUID_STRLEN + 1], when[40];

	rove_uuid_format(&op->rid, rid);
	rove_uuid_format(&op->op_id, opid);
	out_time(rf->time_ms, when, sizeof(when));
	fprintf(f, "%s  op %s  %-16s ", when, opid + ROVE_UUID_STRLEN - 12, rove_reason_name(rf->reason));
	if (rf->author != NULL) {
		out_text(f, rf->author);
		fputc(' ', f);
	}
	fprintf(f, "%s %s %s", rove_op_kind_name(op->kind), c ? c->name : "?", rid);
	if (rf->detail != NULL && rf->detail[0] != '\0') {
		fputs("  (", f);
		out_text(f, rf->detail);
		fputc(')', f);
	}
	if (rf->mine && rf->dismissed)
		fputs("  [dismissed]", f);
	else if (rf->mine && rf->waiting)
		fputs("  [waits for its record: sent again once it is back]", f);
	fputc('\n', f);
	out_op_fields_text(f, op);
}

void out_op_fields_text(FILE *f, const rove_op *op)
{
	const rove_coll_def *c = rove_schema_coll(op->coll);

	for (uint32_t i = 0; i < op->fs.n; i++) {
		char text[256];
		out_value_text(c ? rove_schema_field(c, op->fs.f[i].name) : NULL, &op->fs.f[i].v, text,
			       sizeof(text));
		fputs("    ", f);
		out_text(f, op->fs.f[i].name);
		fprintf(f, " = %s\n", text);
	}
}

static int cp_width(uint32_t cp)
{
	/* Marks that combine with the character before, joiners, variation
	 * selectors and tags take no column of their own (attack
	 * seventy-three: a row of "e" and U+0301 came out short). */
	if ((cp >= 0x0300 && cp <= 0x036f) || (cp >= 0x1ab0 && cp <= 0x1aff) || (cp >= 0x1dc0 && cp <= 0x1dff) ||
	    (cp >= 0x200b && cp <= 0x200d) || (cp >= 0x20d0 && cp <= 0x20ff) || (cp >= 0xfe00 && cp <= 0xfe0f) ||
	    (cp >= 0xfe20 && cp <= 0xfe2f) || cp == 0xfeff || (cp >= 0xe0000 && cp <= 0xe01ef))
		return 0;
	if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
	    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
	    (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
	    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1faff) ||
	    (cp >= 0x20000 && cp <= 0x3fffd))
		return 2;
	return 1;
}

/* Widest cell, in bytes of shown text: columns are far narrower. */
#define CELL_MAX 1024

void out_cell_whole(FILE *f, const char *s, int width)
{
	char one[1];
	size_t len = strlen(s), cap = rove_text_show(s, len, 0, one, sizeof(one)) + 1;
	char *shown = malloc(cap);
	int used = 0;
	uint32_t cp;

	if (shown == NULL) {
		out_cell(f, s, width); /* cut rather than nothing */
		return;
	}
	len = rove_text_show(s, len, 0, shown, cap);
	ROVE_ASSERT(len < cap);
	for (size_t i = 0, k; i < len; i += k) {
		k = rove_utf8_next(shown + i, len - i, &cp);
		used += cp_width(cp);
	}
	fwrite(shown, 1, len, f);
	for (; used < width; used++)
		fputc(' ', f);
	free(shown);
}

void out_cell(FILE *f, const char *s, int width)
{
	char shown[CELL_MAX];
	size_t len = rove_text_show(s, strlen(s), 0, shown, sizeof(shown));
	int used = 0, total = 0;
	uint32_t cp;

	/* Shown text is UTF-8 with no control character; a cut one may have
	 * lost its end, which the ellipsis then stands for. */
	if (len >= sizeof(shown))
		len = strlen(shown), total = width + 1;
	for (size_t i = 0, k; i < len; i += k) {
		k = rove_utf8_next(shown + i, len - i, &cp);
		total += cp_width(cp);
	}
	for (size_t i = 0, k; i < len; i += k) {
		int w;
		k = rove_utf8_next(shown + i, len - i, &cp);
		w = cp_width(cp);
		if (total > width && used + w > width - 1) {
			fputs("…", f);
			used++;
			break;
		}
		if (used + w > width)
			break;
		fwrite(shown + i, 1, k, f);
		used += w;
	}
	for (; used < width; used++)
		fputc(' ', f);
}
