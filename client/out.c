#include "out.h"

#include "err.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

void out_json_str(FILE *f, const char *s, size_t len)
{
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (c < 0x20)
				fprintf(f, "\\u%04x", c);
			else
				fputc(c, f);
		}
	}
	fputc('"', f);
}

void out_json_cstr(FILE *f, const char *s)
{
	if (s == NULL)
		fputs("null", f);
	else
		out_json_str(f, s, strlen(s));
}

void out_json_value(FILE *f, const rove_value *v)
{
	switch (v->type) {
	case ROVE_V_INT:
		fprintf(f, "%" PRId64, v->i);
		break;
	case ROVE_V_STR:
		out_json_str(f, v->s, v->len);
		break;
	default:
		fputs("null", f);
	}
}

void out_record_json(FILE *f, const rove_coll_def *c, const rove_record *rec)
{
	char id[ROVE_UUID_STRLEN + 1];

	rove_uuid_format(&rec->id, id);
	fprintf(f, "{\"id\":\"%s\"", id);
	for (size_t i = 0; i < c->nfields; i++) {
		const rove_field *fld = rove_fields_get(&rec->fs, c->fields[i].name);
		rove_value null = rove_vnull();
		if (c->fields[i].flags & ROVE_FF_HIDDEN)
			continue;
		fprintf(f, ",\"%s\":", c->fields[i].name);
		out_json_value(f, fld != NULL ? &fld->v : &null);
	}
	fputc('}', f);
}

void out_time(uint64_t ms, char *out, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	/* A time from the server is not trusted to be in range: one gmtime_r
	 * cannot represent, or past year 9999, prints as ms. */
	if (len == 0)
		return;
	if (ms / 1000 > (uint64_t)253402300799 || gmtime_r(&t, &tm) == NULL ||
	    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, len, "%" PRIu64 "ms", ms);
}

void out_value_text(const rove_field_def *fd, const rove_value *v, char *out, size_t len)
{
	switch (v->type) {
	case ROVE_V_INT:
		if (fd != NULL && fd->type == ROVE_FT_MONEY) {
			int64_t a = v->i < 0 ? -v->i : v->i;
			snprintf(out, len, "%s%" PRId64 ".%02" PRId64, v->i < 0 ? "-" : "", a / 100, a % 100);
		} else {
			snprintf(out, len, "%" PRId64, v->i);
		}
		break;
	case ROVE_V_STR:
		snprintf(out, len, "%.*s", (int)v->len, v->s);
		break;
	default:
		snprintf(out, len, "-");
	}
}

void out_refusal(FILE *f, bool json, bool first, uint64_t time_ms, int reason, const char *detail,
		 const char *author, const rove_op *op)
{
	const rove_coll_def *c = rove_schema_coll(op->coll);
	char rid[ROVE_UUID_STRLEN + 1], opid[ROVE_UUID_STRLEN + 1], when[40];

	rove_uuid_format(&op->rid, rid);
	rove_uuid_format(&op->op_id, opid);
	out_time(time_ms, when, sizeof(when));
	if (json) {
		fputs(first ? "{" : ",{", f);
		fprintf(f, "\"op\":\"%s\",\"reason\":\"%s\",\"detail\":", opid, rove_reason_name(reason));
		out_json_cstr(f, detail);
		if (author != NULL) {
			fputs(",\"author\":", f);
			out_json_cstr(f, author);
		}
		fputs(",\"collection\":", f);
		out_json_cstr(f, c ? c->name : "unknown");
		fprintf(f, ",\"kind\":\"%s\",\"id\":\"%s\",\"at\":\"%s\",\"fields\":{",
			rove_op_kind_name(op->kind), rid, when);
		for (uint32_t i = 0; i < op->fs.n; i++) {
			fprintf(f, "%s\"%s\":", i ? "," : "", op->fs.f[i].name);
			out_json_value(f, &op->fs.f[i].v);
		}
		fputs("}}", f);
		return;
	}
	fprintf(f, "%s  %-16s %s%s%s %s %s", when, rove_reason_name(reason), author ? author : "",
		author ? " " : "", rove_op_kind_name(op->kind), c ? c->name : "?", rid);
	if (detail != NULL && detail[0] != '\0')
		fprintf(f, "  (%s)", detail);
	fputc('\n', f);
	for (uint32_t i = 0; i < op->fs.n; i++) {
		char text[256];
		out_value_text(c ? rove_schema_field(c, op->fs.f[i].name) : NULL, &op->fs.f[i].v, text,
			       sizeof(text));
		fprintf(f, "    %s = %s\n", op->fs.f[i].name, text);
	}
}

/* Decodes one UTF-8 character at s; returns its length (1 for bad bytes). */
static int utf8_next(const unsigned char *s, uint32_t *cp)
{
	int n = s[0] < 0x80 ? 1 : (s[0] >> 5) == 6 ? 2 : (s[0] >> 4) == 14 ? 3 : (s[0] >> 3) == 30 ? 4 : 0;

	if (n == 0) {
		*cp = 0xfffd;
		return 1;
	}
	*cp = n == 1 ? s[0] : (uint32_t)(s[0] & (0x7f >> n));
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = 0xfffd;
			return i;
		}
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	return n;
}

static int cp_width(uint32_t cp)
{
	if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
	    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
	    (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
	    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1faff) ||
	    (cp >= 0x20000 && cp <= 0x3fffd))
		return 2;
	return 1;
}

void out_cell(FILE *f, const char *s, int width)
{
	const unsigned char *p = (const unsigned char *)s;
	int used = 0, total = 0;

	for (const unsigned char *q = p; *q != '\0';) {
		uint32_t cp;
		q += utf8_next(q, &cp);
		total += cp_width(cp);
	}
	while (*p != '\0') {
		uint32_t cp;
		int len = utf8_next(p, &cp), w = cp_width(cp);
		if (total > width && used + w > width - 1) {
			fputs("…", f);
			used++;
			break;
		}
		if (used + w > width)
			break;
		fwrite(p, 1, (size_t)len, f);
		used += w;
		p += len;
	}
	for (; used < width; used++)
		fputc(' ', f);
}
