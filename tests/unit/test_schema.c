/*
 * test_schema.c - what a valid value is (SPEC rule 13) and how text is
 * decoded, checked and shown (common/text.c, common/schema.c).
 *
 * UTF-8 edge cases (overlong forms, surrogates, truncated sequences,
 * maximal ill-formed subparts), control characters, text lengths in
 * characters, money bounds, the date range, 统一社会信用代码 check
 * characters (examples computed apart from this code, real companies'
 * codes, and every one-character change of them), phone numbers that must
 * and must not compare equal, and rove_schema_clean_op.
 */
#include "check.h"

#include "bench_data.h"
#include "err.h"
#include "record.h"
#include "ident.h"
#include "schema.h"
#include "text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static rove_stamp stamp(uint64_t hlc, uint64_t node)
{
	rove_stamp st = {{hlc}, node};

	return st;
}

static const rove_field_def *field(uint8_t coll, const char *name)
{
	const rove_coll_def *c = rove_schema_coll(coll);
	const rove_field_def *fd = c != NULL ? rove_schema_field(c, name) : NULL;

	if (fd == NULL) {
		fprintf(stderr, "no field %s in collection %u\n", name, coll);
		abort(); /* the test itself is wrong */
	}
	return fd;
}

/* Checks a string value of len bytes; the message must contain want_msg
 * (if given), be UTF-8 and hold no control character. */
static void check_str(const rove_field_def *fd, const char *s, size_t len, int want, const char *want_msg)
{
	rove_value v = rove_vstr(s, (uint32_t)len);
	char why[256] = "";
	int rc = rove_schema_check_value(fd, &v, why, sizeof(why));

	if (rc != want || (want_msg != NULL && strstr(why, want_msg) == NULL))
		fprintf(stderr, "%s '%.*s': %d '%s', want %d '%s'\n", fd->name, (int)len, s, rc, why, want,
			want_msg ? want_msg : "");
	CHECK_EQ_INT(rc, want);
	if (want_msg != NULL)
		CHECK(strstr(why, want_msg) != NULL);
	if (want != ROVE_OK) {
		CHECK(why[0] != '\0');
		CHECK_EQ_INT(rove_text_check(why, strlen(why), 0, NULL, NULL), ROVE_TEXT_OK);
	}
}

static void check_cstr(const rove_field_def *fd, const char *s, int want, const char *want_msg)
{
	check_str(fd, s, strlen(s), want, want_msg);
}

/* ---- UTF-8 ---- */

/* Decodes all of s: the code points (ROVE_UTF8_BAD for each ill-formed
 * subpart) must be want[0..n). */
static void check_decode(const char *s, size_t len, const uint32_t *want, size_t n)
{
	size_t got = 0, i = 0;
	bool same = true;

	while (i < len) {
		uint32_t cp;
		size_t k = rove_utf8_next(s + i, len - i, &cp);
		CHECK(k >= 1 && k <= 4 && i + k <= len);
		if (k == 0)
			break;
		same = same && got < n && want[got] == cp;
		got++;
		i += k;
	}
	if (!same || got != n) {
		fprintf(stderr, "decoding");
		for (size_t j = 0; j < len; j++)
			fprintf(stderr, " %02x", (unsigned char)s[j]);
		fprintf(stderr, ": %zu code points, want %zu\n", got, n);
	}
	CHECK(same && got == n);
}

#define BAD ROVE_UTF8_BAD
#define DECODE(s, ...)                                                                     \
	do {                                                                               \
		static const uint32_t want_[] = {__VA_ARGS__};                             \
		check_decode(s, sizeof(s) - 1, want_, sizeof(want_) / sizeof(want_[0]));   \
	} while (0)

static void test_utf8(void)
{
	/* Well-formed: one to four bytes, the ends of each range. */
	DECODE("A", 'A');
	DECODE("\x7f", 0x7f);
	DECODE("\xc2\x80", 0x80);
	DECODE("\xdf\xbf", 0x7ff);
	DECODE("\xe0\xa0\x80", 0x800);
	DECODE("\xe4\xb8\x8a\xe6\xb5\xb7", 0x4e0a, 0x6d77); /* 上海 */
	DECODE("\xed\x9f\xbf", 0xd7ff);
	DECODE("\xee\x80\x80", 0xe000);
	DECODE("\xef\xbf\xbd", 0xfffd);
	DECODE("\xf0\x90\x80\x80", 0x10000);
	DECODE("\xf0\xa0\x80\x80", 0x20000); /* a CJK extension B character */
	DECODE("\xf4\x8f\xbf\xbf", 0x10ffff);
	/* Overlong forms: each byte ill-formed on its own (C0, C1 never
	 * start a character; E0 80 and F0 80 are no prefixes). */
	DECODE("\xc0\xaf", BAD, BAD);
	DECODE("\xc1\xbf", BAD, BAD);
	DECODE("\xe0\x80\xaf", BAD, BAD, BAD);
	DECODE("\xe0\x9f\xbf", BAD, BAD, BAD);
	DECODE("\xf0\x80\x80\xaf", BAD, BAD, BAD, BAD);
	DECODE("\xf0\x8f\xbf\xbf", BAD, BAD, BAD, BAD);
	/* Surrogates, halves and pairs. */
	DECODE("\xed\xa0\x80", BAD, BAD, BAD);
	DECODE("\xed\xbf\xbf", BAD, BAD, BAD);
	DECODE("\xed\xa0\xbd\xed\xb8\x80", BAD, BAD, BAD, BAD, BAD, BAD);
	/* Past U+10FFFF, and bytes that never occur. */
	DECODE("\xf4\x90\x80\x80", BAD, BAD, BAD, BAD);
	DECODE("\xf5\x80\x80\x80", BAD, BAD, BAD, BAD);
	DECODE("\xfe\xff", BAD, BAD);
	/* Truncated sequences: a maximal subpart is one U+FFFD. */
	DECODE("\xe4\xb8", BAD);
	DECODE("\xe4\xb8" "A", BAD, 'A');
	DECODE("\xf0\x9f\x98", BAD);
	DECODE("\xf0\x9f\x98" "\xe4\xb8\x8a", BAD, 0x4e0a);
	DECODE("\xc3", BAD);
	DECODE("A\xc3", 'A', BAD);
	/* Stray continuation bytes. */
	DECODE("\x80", BAD);
	DECODE("\xbf\x80" "A", BAD, BAD, 'A');
	/* NUL is a character (a control one). */
	DECODE("A\0B", 'A', 0, 'B');
}

/* ---- text to store ---- */

static void check_text(const char *s, size_t len, unsigned allow, int want, uint32_t want_bad)
{
	uint32_t bad = 0;
	int rc = rove_text_check(s, len, allow, &bad, NULL);

	if (rc != want || (want != ROVE_TEXT_OK && bad != want_bad))
		fprintf(stderr, "text check of %zu bytes: %d (U+%04X), want %d (U+%04X)\n", len, rc, (unsigned)bad,
			want, (unsigned)want_bad);
	CHECK_EQ_INT(rc, want);
	if (want != ROVE_TEXT_OK)
		CHECK_EQ_INT(bad, want_bad);
}

static void test_text_check(void)
{
	static const uint32_t controls[] = {0x80, 0x85, 0x9b, 0x9f, 0x61c, 0x200e, 0x200f, 0x2028, 0x2029,
					    0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069};
	static const uint32_t fine[] = {0xa0, 0x3000, 0x200b, 0x2010, 0x202f, 0x2070, 0xfeff, 0xfffd};
	size_t n = 0;
	char s[8];

	CHECK_EQ_INT(rove_text_check("上海钢铁 Steel", strlen("上海钢铁 Steel"), 0, NULL, &n), ROVE_TEXT_OK);
	CHECK_EQ_INT(n, 10);
	CHECK_EQ_INT(rove_text_check("", 0, 0, NULL, &n), ROVE_TEXT_OK);
	CHECK_EQ_INT(n, 0);
	/* Every C0 control and DEL; line feeds and tabs only where allowed,
	 * carriage returns never. */
	for (int c = 0; c < 0x20; c++) {
		s[0] = 'a', s[1] = (char)c, s[2] = 'b';
		check_text(s, 3, 0, c == '\n' ? ROVE_TEXT_LINE_BREAK : ROVE_TEXT_CONTROL, (uint32_t)c);
		check_text(s, 3, ROVE_TEXT_ALLOW_LINES, c == '\n' || c == '\t' ? ROVE_TEXT_OK : ROVE_TEXT_CONTROL,
			   (uint32_t)c);
	}
	check_text("a\x7f", 2, ROVE_TEXT_ALLOW_LINES, ROVE_TEXT_CONTROL, 0x7f);
	/* C1 controls, separators, bidirectional controls: encoded, then
	 * checked; and characters near them that are fine. */
	for (size_t i = 0; i < sizeof(controls) / sizeof(controls[0]); i++) {
		uint32_t cp = controls[i];
		size_t len;
		if (cp < 0x800) {
			s[0] = (char)(0xc0 | cp >> 6), s[1] = (char)(0x80 | (cp & 0x3f)), len = 2;
		} else {
			s[0] = (char)(0xe0 | cp >> 12), s[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
			s[2] = (char)(0x80 | (cp & 0x3f)), len = 3;
		}
		CHECK(rove_text_is_control(cp));
		check_text(s, len, ROVE_TEXT_ALLOW_LINES, ROVE_TEXT_CONTROL, cp);
	}
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++)
		CHECK(!rove_text_is_control(fine[i]));
	CHECK(!rove_text_is_control(' ') && !rove_text_is_control('~') && !rove_text_is_control(0x4e0a));
	/* Not UTF-8: the first bad byte is reported. */
	check_text("ok\xff", 3, 0, ROVE_TEXT_NOT_UTF8, 0xff);
	check_text("\xc0\xaf", 2, 0, ROVE_TEXT_NOT_UTF8, 0xc0);
	check_text("\xed\xa0\x80", 3, 0, ROVE_TEXT_NOT_UTF8, 0xed);
	check_text("\xe4\xb8", 2, ROVE_TEXT_ALLOW_LINES, ROVE_TEXT_NOT_UTF8, 0xe4);
	/* Long text is read eight bytes at a time while it is printable
	 * ASCII: every byte value at every place of 20 bytes is found, and
	 * characters are counted across the chunks. */
	for (int b = 0; b < 256; b++) {
		for (size_t at = 0; at < 20; at++) {
			char t[20];
			int want = b >= 0x20 && b < 0x7f ? ROVE_TEXT_OK
				   : b >= 0x80		   ? ROVE_TEXT_NOT_UTF8
				   : b == '\n'		   ? ROVE_TEXT_LINE_BREAK
							   : ROVE_TEXT_CONTROL;
			memset(t, 'a', sizeof(t));
			t[at] = (char)b;
			check_text(t, sizeof(t), 0, want, (uint32_t)b);
			if (want == ROVE_TEXT_OK) {
				CHECK_EQ_INT(rove_text_check(t, sizeof(t), 0, NULL, &n), ROVE_TEXT_OK);
				CHECK_EQ_INT(n, 20);
			}
		}
	}
	{
		const char *mixed = "Shanghai Steel Co., 上海钢铁有限公司 Ltd. (Pudong)";
		CHECK_EQ_INT(rove_text_check(mixed, strlen(mixed), 0, NULL, &n), ROVE_TEXT_OK);
		CHECK_EQ_INT(n, 42);
	}
}

/* ---- text shown ---- */

static void check_show(const char *s, size_t len, unsigned flags, const char *want)
{
	char out[256], again[256];
	size_t n = rove_text_show(s, len, flags, out, sizeof(out));

	if (strcmp(out, want) != 0)
		fprintf(stderr, "shown as '%s', want '%s'\n", out, want);
	CHECK(strcmp(out, want) == 0);
	CHECK_EQ_INT(n, strlen(want));
	/* Shown text is UTF-8 without controls (but kept lines), and showing
	 * it again changes nothing. */
	CHECK_EQ_INT(rove_text_check(out, n, (flags & ROVE_TEXT_SHOW_LINES) ? ROVE_TEXT_ALLOW_LINES : 0, NULL,
				     NULL),
		     ROVE_TEXT_OK);
	rove_text_show(out, n, flags, again, sizeof(again));
	CHECK(strcmp(out, again) == 0);
}

/* Whether f's contents are one JSON string: a quote, characters or
 * escapes, a closing quote at the very end; UTF-8 with no raw control
 * character. Its decoded value goes to value. */
static bool one_json_string(const char *s, size_t len, char *value, size_t vlen)
{
	size_t v = 0;

	if (len < 2 || s[0] != '"' || s[len - 1] != '"')
		return false;
	if (rove_text_check(s, len, 0, NULL, NULL) != ROVE_TEXT_OK)
		return false;
	for (size_t i = 1; i + 1 < len; i++) {
		char c = s[i];
		if (c == '"')
			return false; /* would end the string early */
		if (c == '\\') {
			if (++i + 1 >= len)
				return false;
			switch (s[i]) {
			case '"': c = '"'; break;
			case '\\': c = '\\'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u': {
				unsigned cp;
				if (i + 5 >= len || sscanf(s + i + 1, "%4x", &cp) != 1)
					return false;
				i += 4;
				c = cp < 0x80 ? (char)cp : '?'; /* enough for these tests */
				break;
			}
			default:
				return false;
			}
		}
		if (v + 1 < vlen)
			value[v++] = c;
	}
	value[v] = '\0';
	return true;
}

static void check_json(const char *s, size_t len, const char *want_value)
{
	char buf[512], value[256];
	FILE *f = tmpfile();
	size_t n;

	CHECK(f != NULL);
	if (f == NULL)
		return;
	rove_text_put_json(f, s, len);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (!one_json_string(buf, n, value, sizeof(value)) || strcmp(value, want_value) != 0)
		fprintf(stderr, "JSON '%s' (value '%s'), want value '%s'\n", buf, value, want_value);
	CHECK(one_json_string(buf, n, value, sizeof(value)));
	CHECK(strcmp(value, want_value) == 0);
}

static void test_text_show(void)
{
	char small[8];

	check_show("Acme 上海", strlen("Acme 上海"), 0, "Acme 上海");
	check_show("a\x1b[31mb", 7, 0, "a\\x1b[31mb");
	check_show("l1\nl2\tx\r", 8, 0, "l1\\nl2\\tx\\r");
	check_show("l1\nl2\tx\r", 8, ROVE_TEXT_SHOW_LINES, "l1\nl2\tx\\r");
	check_show("\x7f\x01", 2, 0, "\\x7f\\x01");
	check_show("A\0B", 3, 0, "A\\x00B");
	check_show("\xc2\x9b" "31m", 5, 0, "\\u009b31m");
	check_show("abc\xe2\x80\xae" "gpj", 9, 0, "abc\\u202egpj");
	check_show("\xff\xfe x", 4, 0, "\\xff\\xfe x");
	check_show("\xe4\xb8" "A", 3, 0, "\\xe4\\xb8A");
	check_show("C:\\path", 7, 0, "C:\\path"); /* backslashes stay */
	/* Cut before what does not fit, never inside a character or an
	 * escape; the return value is the whole length. */
	CHECK_EQ_INT(rove_text_show("ab\x1b" "cd", 5, 0, small, 5), 8);
	CHECK(strcmp(small, "ab") == 0);
	CHECK_EQ_INT(rove_text_show("上海钢铁", strlen("上海钢铁"), 0, small, sizeof(small)), 12);
	CHECK(strcmp(small, "上海") == 0);
	CHECK_EQ_INT(rove_text_show("", 0, 0, small, 1), 0);
	CHECK(small[0] == '\0');

	/* JSON: quotes and backslashes escaped, controls as escapes, bad bytes
	 * as U+FFFD; the forged-key name of issue 11 stays one string. */
	check_json("plain", 5, "plain");
	check_json("z\":0},\"author\":\"bj\",\"f\":{\"b", 27, "z\":0},\"author\":\"bj\",\"f\":{\"b");
	check_json("back\\slash", 10, "back\\slash");
	check_json("a\x1b[31m\n\t\r\x7f", 10, "a\x1b[31m\n\t\r\x7f");
	check_json("\xff\xfe x", 4, "\xef\xbf\xbd\xef\xbf\xbd x");
	check_json("\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	check_json("\xe2\x80\xa8", 3, "?"); /* U+2028 escaped */
	check_json("\xe4\xb8\x8a\xe6\xb5\xb7", 6, "上海");
	check_json("A\0B", 3, "A\x00" "B");
}

/* ---- lengths ---- */

/* Every text field fits the record model however it is written: its
 * characters at four bytes fit one string, and a record's fields together
 * one record. */
static void test_lengths(void)
{
	for (uint8_t id = 1; id < 255; id++) {
		const rove_coll_def *c = rove_schema_coll(id);
		size_t total = 0;

		if (c == NULL)
			continue;
		for (size_t i = 0; i < c->nfields; i++) {
			const rove_field_def *fd = &c->fields[i];
			size_t bytes = fd->maxlen * 4u + 1;
			if (fd->type == ROVE_FT_MONEY || fd->type == ROVE_FT_INT || fd->type == ROVE_FT_BOOL)
				continue;
			CHECK(fd->maxlen > 0);
			if (bytes > ROVE_MAX_STR + 1)
				fprintf(stderr, "%s.%s: %u characters do not fit a string\n", c->name, fd->name,
					fd->maxlen);
			CHECK(bytes <= ROVE_MAX_STR + 1);
			total += bytes;
		}
		if (total > ROVE_MAX_RECORD_BYTES)
			fprintf(stderr, "%s: %zu bytes of text do not fit a record\n", c->name, total);
		CHECK(total <= ROVE_MAX_RECORD_BYTES);
	}
}

static void test_text_fields(void)
{
	const rove_field_def *name = field(ROVE_COLL_CUSTOMER, "name");
	const rove_field_def *address = field(ROVE_COLL_CUSTOMER, "address");
	const rove_field_def *note = field(ROVE_COLL_ACTIVITY, "note");
	const rove_field_def *title = field(ROVE_COLL_CONTACT, "title");
	char buf[4 * ROVE_LEN_NAME + 8];

	check_cstr(name, "上海钢铁 Shanghai Steel Co., Ltd.", ROVE_OK, NULL);
	check_cstr(name, "\xff\xfe x", ROVE_EINVAL, "not valid UTF-8");
	check_cstr(name, "A\xc0\xaf", ROVE_EINVAL, "not valid UTF-8");
	check_cstr(name, "Evil\x1b[2J", ROVE_EINVAL, "control character (U+001B)");
	check_cstr(name, "Evil\xc2\x9b" "31m", ROVE_EINVAL, "control character (U+009B)");
	check_cstr(name, "Abc\xe2\x80\xae" "gpj", ROVE_EINVAL, "control character (U+202E)");
	check_cstr(name, "Two\nLines", ROVE_EINVAL, "line break");
	check_cstr(name, "Tab\tCo", ROVE_EINVAL, "control character (U+0009)");
	check_cstr(name, "CR\r", ROVE_EINVAL, "control character");
	check_cstr(name, "   ", ROVE_EINVAL, "blank");
	check_cstr(name, "\xe3\x80\x80", ROVE_EINVAL, "blank"); /* U+3000 */
	check_cstr(name, "", ROVE_EINVAL, "blank");
	/* invisible alone: zero-width space, byte order mark, no-break space */
	check_cstr(name, "\xe2\x80\x8b", ROVE_EINVAL, "blank");
	check_cstr(name, "\xef\xbb\xbf \xc2\xa0", ROVE_EINVAL, "blank");
	check_cstr(name, "\xe2\x80\x8b" "A", ROVE_OK, NULL);
	check_cstr(title, "", ROVE_OK, NULL); /* optional: empty is no value */
	check_cstr(title, "Buyer\nand more", ROVE_EINVAL, "line break");
	/* The message shows the value escaped, never raw. */
	check_cstr(name, "x\x1b]0;title\x07", ROVE_EINVAL, "'x\\x1b]0;title\\x07'");
	/* Notes and addresses: lines and tabs, but no other control. */
	check_cstr(address, "88 Century Ave\nPudong\tShanghai", ROVE_OK, NULL);
	check_cstr(note, "Met the buyer.\n\tNext: samples", ROVE_OK, NULL);
	check_cstr(note, "a\r\nb", ROVE_EINVAL, "control character (U+000D)");
	check_cstr(address, "a\x1b[1m", ROVE_EINVAL, "control character");
	/* Lengths count characters: 200 Chinese characters are 600 bytes. */
	buf[0] = '\0';
	for (int i = 0; i < ROVE_LEN_NAME; i++)
		strcat(buf, "汉");
	check_cstr(name, buf, ROVE_OK, NULL);
	strcat(buf, "汉");
	check_cstr(name, buf, ROVE_EINVAL, "longer than 200 characters");
	memset(buf, 'n', ROVE_LEN_NAME + 1);
	check_str(name, buf, ROVE_LEN_NAME, ROVE_OK, NULL);
	check_str(name, buf, ROVE_LEN_NAME + 1, ROVE_EINVAL, "longer than");
}

/* ---- money and counts ---- */

static void check_int(const rove_field_def *fd, int64_t i, int want, const char *want_msg)
{
	rove_value v = rove_vint(i);
	char why[256] = "";
	int rc = rove_schema_check_value(fd, &v, why, sizeof(why));

	if (rc != want)
		fprintf(stderr, "%s %lld: %d '%s', want %d\n", fd->name, (long long)i, rc, why, want);
	CHECK_EQ_INT(rc, want);
	if (want_msg != NULL)
		CHECK(strstr(why, want_msg) != NULL);
}

static void check_parse(const rove_field_def *fd, const char *text, int want, int64_t cents,
			const char *want_msg)
{
	rove_value v = rove_vnull();
	char why[256] = "";
	int rc = rove_schema_parse(fd, text, &v, why, sizeof(why));

	if (rc != want || (want == ROVE_OK && v.i != cents) || (want_msg != NULL && strstr(why, want_msg) == NULL))
		fprintf(stderr, "%s '%s': %d %lld '%s', want %d %lld '%s'\n", fd->name, text, rc, (long long)v.i,
			why, want, (long long)cents, want_msg ? want_msg : "");
	CHECK_EQ_INT(rc, want);
	if (want == ROVE_OK)
		CHECK(v.type == ROVE_V_INT && v.i == cents);
	if (want_msg != NULL)
		CHECK(strstr(why, want_msg) != NULL);
}

static void test_money(void)
{
	static const char *const bad_syntax[] = {"1.234", "abc", "12.", ".5", "-", "--1", "+1", "1,5", "1 ",
						 " 1", "1e3", "12.5x", "99999999999999999999x"};
	int nmoney = 0;

	/* Every money field of every collection: deals, contracts, targets. */
	for (uint8_t id = 1; id < 255; id++) {
		const rove_coll_def *c = rove_schema_coll(id);
		for (size_t i = 0; c != NULL && i < c->nfields; i++) {
			const rove_field_def *fd = &c->fields[i];
			if (fd->type != ROVE_FT_MONEY)
				continue;
			nmoney++;
			check_int(fd, 0, ROVE_OK, NULL);
			check_int(fd, 1, ROVE_OK, NULL);
			check_int(fd, ROVE_MAX_MONEY_CENTS, ROVE_OK, NULL);
			check_int(fd, ROVE_MAX_MONEY_CENTS + 1, ROVE_EINVAL, "more than 100000000000.00");
			check_int(fd, INT64_MAX, ROVE_EINVAL, "more than");
			check_int(fd, -1, ROVE_EINVAL, "cannot be negative");
			check_int(fd, INT64_MIN, ROVE_EINVAL, "cannot be negative");
			check_parse(fd, "12000.50", ROVE_OK, 1200050, NULL);
			check_parse(fd, "12.5", ROVE_OK, 1250, NULL);
			check_parse(fd, "0.05", ROVE_OK, 5, NULL);
			check_parse(fd, "007.10", ROVE_OK, 710, NULL);
			check_parse(fd, "0", ROVE_OK, 0, NULL);
			/* no sign, not even on 0 (said as a sign, not as a negative) */
			check_parse(fd, "-0", ROVE_EINVAL, 0, "'-0' has a minus sign: write 0");
			check_parse(fd, "-0.00", ROVE_EINVAL, 0, "has a minus sign");
			check_parse(fd, "-.", ROVE_EINVAL, 0, "cannot be negative");
			/* digits past any amount: too large, not "invalid" */
			check_parse(fd, "99999999999999999999", ROVE_EINVAL, 0, "more than 100000000000.00");
			check_parse(fd, "99999999999999999999.50", ROVE_EINVAL, 0, "more than");
			check_parse(fd, "99999999999999999999x", ROVE_EINVAL, 0, "write units");
			check_parse(fd, "99999999999999999999.", ROVE_EINVAL, 0, "write units");
			check_parse(fd, "100000000000", ROVE_OK, ROVE_MAX_MONEY_CENTS, NULL);
			check_parse(fd, "100000000000.01", ROVE_EINVAL, 0, "more than");
			check_parse(fd, "92233720368547", ROVE_EINVAL, 0, "more than");
			check_parse(fd, "-5", ROVE_EINVAL, 0, "cannot be negative");
			check_parse(fd, "-0.01", ROVE_EINVAL, 0, "cannot be negative");
			for (size_t k = 0; k < sizeof(bad_syntax) / sizeof(bad_syntax[0]); k++)
				check_parse(fd, bad_syntax[k], ROVE_EINVAL, 0, "write units");
		}
	}
	CHECK_EQ_INT(nmoney, 3); /* contract, opportunity and target amounts */

	/* Counts (pool rules) and flags. */
	{
		const rove_field_def *limit = field(ROVE_COLL_TERRITORY, "pool_limit");
		const rove_field_def *flag = field(ROVE_COLL_TERRITORY, "release_reason");
		rove_value v;
		char why[128];

		check_int(limit, 0, ROVE_OK, NULL);
		check_int(limit, ROVE_MAX_COUNT, ROVE_OK, NULL);
		check_int(limit, ROVE_MAX_COUNT + 1, ROVE_EINVAL, "more than");
		check_int(limit, -9, ROVE_EINVAL, "cannot be negative");
		check_int(flag, 1, ROVE_OK, NULL);
		check_int(flag, 2, ROVE_EINVAL, "0 or 1");
		CHECK_EQ_INT(rove_schema_parse(limit, "42", &v, why, sizeof(why)), ROVE_OK);
		CHECK(v.type == ROVE_V_INT && v.i == 42);
		CHECK_EQ_INT(rove_schema_parse(limit, "-9", &v, why, sizeof(why)), ROVE_EINVAL);
		CHECK_EQ_INT(rove_schema_parse(limit, "4x", &v, why, sizeof(why)), ROVE_EINVAL);
		CHECK_EQ_INT(rove_schema_parse(limit, "99999999999999999999", &v, why, sizeof(why)), ROVE_EINVAL);
		v = rove_vcstr("5");
		CHECK_EQ_INT(rove_schema_check_value(limit, &v, why, sizeof(why)), ROVE_EINVAL);
	}
}

/* ---- dates ---- */

static void test_dates(void)
{
	static const char *const good[] = {
		"2024-02-29", "2000-02-29", "2023-02-28", "2024-01-31", "2024-03-31", "2024-04-30",
		"2024-12-31", "2024-01-01", "1980-01-01", "2099-12-31", "2023-11-30", "1996-02-29",
	};
	static const char *const shape[] = {
		"2024-+1-01", "2024- 1-01", "2024-02-30", "2023-02-29", "2024-04-31", "2024-06-31", "2024-09-31",
		"2024-11-31", "2024-01-32", "2024-00-10", "2024-13-01", "2024-01-00", "0000-01-01", "2024-1-01",
		"2024-01-1",  "24-01-2024", "2024/01/01", "2024-01-01T", "+024-01-01", "-024-01-01", " 2024-01-01",
		"2024-01- 1", "2024-01-+1", "2024-01-1 ", "202a-01-01", "2024-0x-01", "2024--1-01", "2024-01-01 ",
	};
	/* Real dates, but not plausible ones (1900 and 2100 are no leap years:
	 * their 29 February is a shape error, not a range one). */
	static const char *const range[] = {
		"1979-12-31", "1900-01-01", "0001-01-01", "1000-06-15", "2100-01-01", "2206-01-01", "9999-12-31",
	};
	static const char *const good_times[] = {
		"2024-02-29T23:59", "2024-02-29T23:59Z", "2024-02-29T00:00:00", "2024-02-29T23:59:59Z",
		"1980-01-01T00:00:00Z", "2099-12-31T23:59:59Z", "2024-02-29T23:59+08:00", "2024-02-29T23:59:59-0530",
		"2024-02-29T10:00+14",
	};
	static const char *const shape_times[] = {
		"2023-02-29T10:00",      "2024-02-30T10:00",   "2024-+1-01T10:00",   "2024-02-29T24:00",
		"2024-02-29T23:60",      "2024-02-29T23:59:60", "2024-02-29 23:59",  "2024-02-29T+1:00",
		"2024-02-29T1:00",       "2024-02-29T10:00:0", "2024-02-29T10:00:00+", "2024-02-29T10:00X",
		"2024-02-29T10:0 ",      "2024-02-29T",        "2024-02-29T10:00:00ZZ", "2024-02-29T10:00+15:00",
		"2024-02-29T10:00+08:5", "2024-02-29T10:00+8",  "2024-02-29+08:00",   "2024-02-29T10:00Z+08:00",
		"2024-02-29T10:00+08:0x",
	};
	static const char *const range_times[] = {"1900-01-01T10:00", "1979-12-31T23:59:59Z", "2100-01-01T00:00Z",
						  "1980-01-01T07:59+08:00"};
	int nwhen = 0;

	for (uint8_t id = 1; id < 255; id++) {
		const rove_coll_def *c = rove_schema_coll(id);
		for (size_t i = 0; c != NULL && i < c->nfields; i++) {
			const rove_field_def *fd = &c->fields[i];
			rove_value v;
			char why[128];

			if (fd->type != ROVE_FT_DATE && fd->type != ROVE_FT_TIME)
				continue;
			nwhen++;
			for (size_t k = 0; k < sizeof(good) / sizeof(good[0]); k++)
				check_cstr(fd, good[k], ROVE_OK, NULL);
			for (size_t k = 0; k < sizeof(shape) / sizeof(shape[0]); k++)
				check_cstr(fd, shape[k], ROVE_EINVAL, "invalid");
			for (size_t k = 0; k < sizeof(range) / sizeof(range[0]); k++)
				check_cstr(fd, range[k], ROVE_EINVAL, "is out of range (1980-01-01 to 2099-12-31)");
			for (size_t k = 0; k < sizeof(good_times) / sizeof(good_times[0]); k++)
				check_cstr(fd, good_times[k], fd->type == ROVE_FT_TIME ? ROVE_OK : ROVE_EINVAL, NULL);
			for (size_t k = 0; k < sizeof(shape_times) / sizeof(shape_times[0]); k++)
				check_cstr(fd, shape_times[k], ROVE_EINVAL, "invalid");
			for (size_t k = 0; k < sizeof(range_times) / sizeof(range_times[0]); k++)
				check_cstr(fd, range_times[k], ROVE_EINVAL,
					   fd->type == ROVE_FT_TIME ? "out of range" : "invalid");
			/* A NUL among the digits; the value is exactly len bytes. */
			check_str(fd, "2024-01-0\0", 10, ROVE_EINVAL, NULL);
			check_str(fd, "2024\0001-01", 10, ROVE_EINVAL, NULL);
			check_str(fd, "2024-01-015", 10, ROVE_OK, NULL);
			/* Not a string; null (none is required). */
			v = rove_vint(20240101);
			CHECK_EQ_INT(rove_schema_check_value(fd, &v, why, sizeof(why)), ROVE_EINVAL);
			v = rove_vnull();
			CHECK_EQ_INT(rove_schema_check_value(fd, &v, why, sizeof(why)), ROVE_OK);
			/* Parsing from the command line applies the same rules. */
			CHECK_EQ_INT(rove_schema_parse(fd, "2024-02-29", &v, why, sizeof(why)), ROVE_OK);
			CHECK(v.type == ROVE_V_STR && v.len == 10);
			CHECK_EQ_INT(rove_schema_parse(fd, "1900-01-01", &v, why, sizeof(why)), ROVE_EINVAL);
			CHECK(strstr(why, "out of range") != NULL);
		}
	}
	CHECK_EQ_INT(nwhen, 8); /* 6 in records people write, 2 in the server's own */
	{
		const rove_field_def *period = field(ROVE_COLL_TARGET, "period");
		check_cstr(period, "2026-11", ROVE_OK, NULL);
		check_cstr(period, "1980-01", ROVE_OK, NULL);
		check_cstr(period, "2099-12", ROVE_OK, NULL);
		check_cstr(period, "1979-12", ROVE_EINVAL, "out of range (1980-01 to 2099-12)");
		check_cstr(period, "2100-01", ROVE_EINVAL, "out of range");
		check_cstr(period, "2026-13", ROVE_EINVAL, "expected YYYY-MM");
		check_cstr(period, "2026-11-01", ROVE_EINVAL, "expected YYYY-MM");
	}
}

/* ---- tax ids ---- */

/* 统一社会信用代码 with their check characters: the first five made up
 * for the fixtures and computed apart from this code (a short Python
 * script from GB 32100-2015's definition), the others real companies'
 * published codes. */
static const char *const taxids[] = {
	"91310000MA1FL0001R", "91330100MA2TEA001K", "91310115MA1H700017", "91440300MA5F00001A",
	"91310000MA1AC00022", "914403001922038216", "91330100799655058B", "91110108551385082Q",
	"9144030071526726XG", "91440300708461136T",
};

static void test_taxid(void)
{
	static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
	const rove_field_def *fd = field(ROVE_COLL_CUSTOMER, "tax_id");
	char why[128], out[64];
	int mutations = 0;

	CHECK_EQ_INT(strlen(alphabet), 31);
	for (size_t t = 0; t < sizeof(taxids) / sizeof(taxids[0]); t++) {
		const char *id = taxids[t];
		char m[ROVE_TAXID_LEN + 1];

		CHECK_EQ_INT(strlen(id), ROVE_TAXID_LEN);
		CHECK_EQ_INT(rove_taxid_check_char(id), id[ROVE_TAXID_LEN - 1]);
		CHECK(rove_taxid_valid(id, ROVE_TAXID_LEN, why, sizeof(why)));
		check_cstr(fd, id, ROVE_OK, NULL);
		/* Every change of one character to another of the alphabet is
		 * caught: weights 3^i mod 31 are never 0 mod 31, a prime. */
		for (int i = 0; i < ROVE_TAXID_LEN; i++) {
			for (int a = 0; a < 31; a++) {
				if (alphabet[a] == id[i])
					continue;
				memcpy(m, id, sizeof(m));
				m[i] = alphabet[a];
				mutations++;
				if (rove_taxid_valid(m, ROVE_TAXID_LEN, why, sizeof(why)))
					fprintf(stderr, "mutation %s of %s passes\n", m, id);
				CHECK(!rove_taxid_valid(m, ROVE_TAXID_LEN, why, sizeof(why)));
			}
		}
		/* Two neighbours swapped are caught too (among the first 17). */
		for (int i = 0; i + 1 < ROVE_TAXID_LEN - 1; i++) {
			if (id[i] == id[i + 1])
				continue;
			memcpy(m, id, sizeof(m));
			m[i] = id[i + 1], m[i + 1] = id[i];
			CHECK(!rove_taxid_valid(m, ROVE_TAXID_LEN, why, sizeof(why)));
		}
	}
	CHECK_EQ_INT(mutations, 10 * 18 * 30);
	CHECK_EQ_INT(rove_taxid_check_char("9131000MA1FL0001I"), '\0'); /* I is not of the alphabet */

	/* Why a value is not one; the check sees stored (normalised) values. */
	check_cstr(fd, "abc", ROVE_EINVAL, "统一社会信用代码: it has 3 characters, not 18");
	check_cstr(fd, "91310000MA1FL0001R0", ROVE_EINVAL, "19 characters");
	check_cstr(fd, "91310000MA1FL0002R", ROVE_EINVAL, "check character does not match");
	check_cstr(fd, "91310000MA1FI0001R", ROVE_EINVAL, "'I' is not one of its characters");
	check_cstr(fd, "91310000MA1FO0001R", ROVE_EINVAL, "'O' is not one");
	check_cstr(fd, "91310000ma1fl0001r", ROVE_EINVAL, "'m' is not one");
	check_cstr(fd, "9131 0000MA1FL0001R", ROVE_EINVAL, "19 characters");
	check_cstr(fd, "91310000MA1FL0001上", ROVE_EINVAL, "'上' is not one");
	check_cstr(fd, "9131000\x1b" "MA1FL0001R", ROVE_EINVAL, "control character");
	/* The all-zero placeholder's check character matches; its first
	 * character names no registering authority (attack sixty-eight). */
	CHECK_EQ_INT(rove_taxid_check_char("00000000000000000"), '0');
	check_cstr(fd, "000000000000000000", ROVE_EINVAL,
		   "is not a 统一社会信用代码: it starts with 0, no registering authority's code (leave it empty)");

	/* Normalised: spaces (U+3000 too), hyphens and dashes gone, upper
	 * case, full-width read as ASCII. */
	CHECK_EQ_INT(rove_taxid_normalise(" 9131 0000-ma1f l0001r ", 23, out, sizeof(out)), 18);
	CHECK(strcmp(out, "91310000MA1FL0001R") == 0);
	{
		static const char fw[] = "\xef\xbc\x99\xef\xbc\x91\xe3\x80\x80" "310000\xef\xbd\x8d" "a1fl0001\xef\xbc\xb2";
		static const char dash[] = "913100\xe2\x80\x94" "00MA1FL\xe2\x80\x90" "0001R";
		CHECK_EQ_INT(rove_taxid_normalise(fw, sizeof(fw) - 1, out, sizeof(out)), 18);
		CHECK(strcmp(out, "91310000MA1FL0001R") == 0);
		CHECK_EQ_INT(rove_taxid_normalise(dash, sizeof(dash) - 1, out, sizeof(out)), 18);
		CHECK(strcmp(out, "91310000MA1FL0001R") == 0);
	}
	/* What is no tax id stays so (the check says why); a small buffer
	 * is cut, the length tells. */
	CHECK_EQ_INT(rove_taxid_normalise("ab上c", strlen("ab上c"), out, sizeof(out)), 6);
	CHECK(strcmp(out, "AB上C") == 0);
	CHECK_EQ_INT(rove_taxid_normalise("9131-0000", 9, out, 5), 8);
	CHECK(strcmp(out, "9131") == 0);
	CHECK_EQ_INT(rove_taxid_normalise("ab上c", strlen("ab上c"), out, 4), 6);
	CHECK(strcmp(out, "AB") == 0);

	/* Parsing from the command line checks the normalised form and
	 * leaves the value as typed (rove_schema_clean_op normalises it). */
	{
		rove_value v;
		CHECK_EQ_INT(rove_schema_parse(fd, "9131-0000-ma1f-l0001r", &v, why, sizeof(why)), ROVE_OK);
		CHECK(v.type == ROVE_V_STR && v.len == 21);
		CHECK_EQ_INT(rove_schema_parse(fd, "abc", &v, why, sizeof(why)), ROVE_EINVAL);
		CHECK(strstr(why, "统一社会信用代码") != NULL);
		CHECK_EQ_INT(rove_schema_parse(fd, "9131-0000-ma1f-l0002r", &v, why, sizeof(why)), ROVE_EINVAL);
		CHECK(strstr(why, "check character") != NULL);
	}
}

/* ---- phones ---- */

static void check_norm(const char *in, const char *want)
{
	char out[64];

	memset(out, 'X', sizeof(out));
	rove_phone_normalise(in, out, sizeof(out));
	if (strcmp(out, want) != 0)
		fprintf(stderr, "phone '%s' -> '%s', want '%s'\n", in, out, want);
	CHECK(strcmp(out, want) == 0);
}

static void test_phone(void)
{
	/* Spellings of one phone, each group one normalised form. */
	static const char *const mobile[] = {
		"+86 138 0000 1111", "13800001111",     "0086-138-0000-1111", "86 138 0000 1111",
		"+86-13800001111",  "(+86) 138 0000 1111", "138.0000.1111",   "+86 (0) 138 0000 1111",
		"\xef\xbc\x8b\xef\xbc\x98\xef\xbc\x96 138 0000 1111", /* full-width +86 */
		("\xef\xbc\x91\xef\xbc\x93\xef\xbc\x98\xe3\x80\x80" "00001111"), /* full-width 138, U+3000 */
		/* Country prefixes in every form, repeated (rule 3: no dodging). */
		"+0086 13800001111", "+86 0086 138 0000 1111", "+86 86 138 0000 1111",
		"86 86 13800001111", "86 0086 13800001111", "+0086 86 13800001111", "+86 0 138 0000 1111",
		/* An extension: the same main number. */
		"13800001111 \xe8\xbd\xac 0", "138 0000 1111 ext 1", "+86 138 0000 1111 x 9",
	};
	static const char *const landline[] = {
		"021-5555-0101", "+86 21 5555 0101", "(021) 55550101", "0086 21 5555 0101", "+86 (0)21 5555 0101",
		"021 5555 0101", "021/55550101",     "+86-21-55550101",
		"+0086 021-5555-0101", "+86 0086 21 5555 0101", "+86 0086 (0)21 5555 0101",
		/* A switchboard with an extension is still the same company's number. */
		"021-5555-0101 \xe8\xbd\xac 0", ("021-5555-0101\xe8\xbd\xac" "23"), "+86 21 5555 0101 ext. 23",
		"021-5555-0101 \xe5\x88\x86\xe6\x9c\xba 23", "021-5555-0101 x23", "021-5555-0101#23",
	};
	static const char *const hangzhou[] = {"0571-8888 0001", "+86 571 8888 0001", "057188880001"};
	const rove_field_def *fd = field(ROVE_COLL_CUSTOMER, "phone");
	char small[4];

	for (size_t i = 0; i < sizeof(mobile) / sizeof(mobile[0]); i++)
		check_norm(mobile[i], "+8613800001111");
	for (size_t i = 0; i < sizeof(landline) / sizeof(landline[0]); i++)
		check_norm(landline[i], "+862155550101");
	for (size_t i = 0; i < sizeof(hangzhou) / sizeof(hangzhou[0]); i++)
		check_norm(hangzhou[i], "+8657188880001");
	/* Different phones stay different. */
	check_norm("13800001112", "+8613800001112");
	check_norm("010-5555-0101", "+861055550101");
	check_norm("5555-0101", "55550101"); /* no area code: a local number */
	check_norm("12345678901", "12345678901"); /* 1 then 2: no mobile */
	check_norm("+1 415 555 0100", "+14155550100");
	check_norm("001 415 555 0100", "+14155550100");
	check_norm("0049 30 1234567", "+49301234567");
	check_norm("  +44 20 7946 0958 ", "+442079460958");
	check_norm("555.010.9999", "5550109999");
	check_norm("400-820-8820", "4008208820"); /* a service number */
	check_norm("110", "110");
	/* A prefix is stripped only where it is one. */
	check_norm("+1 0086 138 0000 1111", "+1008613800001111");
	check_norm("86 1234 5678", "8612345678");     /* a local number that starts 86 */
	check_norm("86 86 1234 5678", "868612345678"); /* likewise: no mobile follows */
	check_norm("+86 86 1234 5678", "+868612345678"); /* after +86: a number, not a prefix */
	check_norm("0086", "+86");
	check_norm("+44 0086 20 7946 0958", "+4400862079460958");
	/* More digits than a phone field takes, normalised all the same. */
	check_norm("0086 0086 13800001111", "+8613800001111");
	check_norm("0086 0086 021 5555 0101", "+862155550101");
	check_norm("+86 86 86 86 13800001111", "+8613800001111");
	/* No digits, no phone; what is no phone keeps its digits. */
	check_norm("", "");
	check_norm("call me", "");
	check_norm("555+1", "5551");
	check_norm("++1", "+1");

	/* Cut to the buffer, always terminated. */
	memset(small, 'X', sizeof(small));
	rove_phone_normalise("123456", small, sizeof(small));
	CHECK(strcmp(small, "123") == 0);
	small[0] = 'X';
	rove_phone_normalise("123", small, 1);
	CHECK_EQ_INT(small[0], '\0');
	small[0] = 'X';
	rove_phone_normalise("123", small, 0);
	CHECK_EQ_INT(small[0], 'X');

	/* What a phone field takes. */
	for (size_t i = 0; i < sizeof(mobile) / sizeof(mobile[0]); i++)
		check_cstr(fd, mobile[i], ROVE_OK, NULL);
	for (size_t i = 0; i < sizeof(landline) / sizeof(landline[0]); i++)
		check_cstr(fd, landline[i], ROVE_OK, NULL);
	check_cstr(fd, "110", ROVE_OK, NULL);
	check_cstr(fd, "021-5555-0101转23", ROVE_OK, NULL);
	check_cstr(fd, "001 415 555 0100", ROVE_OK, NULL);
	check_cstr(fd, "call me", ROVE_EINVAL, "phone 'call me' is not a phone number: 'c' is not allowed");
	check_cstr(fd, "138-0000-1111 (mobile)", ROVE_EINVAL, "'m' is not allowed");
	check_cstr(fd, "12", ROVE_EINVAL, "fewer than 3 digits");
	check_cstr(fd, "123456789012345678", ROVE_EINVAL, "more than 17 digits");
	check_cstr(fd, "138+0000", ROVE_EINVAL, "a + goes only before the country code");
	check_cstr(fd, "021-5555-0101 ext", ROVE_EINVAL, "the extension has no digits");
	check_cstr(fd, "021-5555-0101转1234567", ROVE_EINVAL, "more than 6 digits");
	check_cstr(fd, "138\n0000", ROVE_EINVAL, "line break");
	check_cstr(fd, "+86 138 0000 1111 0000 0000 0000 0000", ROVE_EINVAL, "longer than 32 characters");
}

/* Rule 3's keys: the server's index and the command line's checks make
 * the same bytes of every spelling of one tax id or phone. */
static void test_uniq_keys(void)
{
	static rove_fields fs;
	rove_uniq_key k[ROVE_UNIQ_KEYS];

	rove_fields_init(&fs);
	CHECK_EQ_INT(rove_uniq_keys(&fs, k), 0);
	CHECK_EQ_INT(rove_fields_set(&fs, "phone", rove_vcstr("+86 138 0000 1111"), stamp(1, 1)), ROVE_OK);
	CHECK_EQ_INT(rove_uniq_keys(&fs, k), 1);
	CHECK(strcmp(k[0].field, "phone") == 0 && strcmp(k[0].key, "tel:+8613800001111") == 0 && k[0].len == 18);
	CHECK_EQ_INT(rove_fields_set(&fs, "tax_id", rove_vcstr("9131-0000-ma1f-l0001r"), stamp(1, 1)), ROVE_OK);
	CHECK_EQ_INT(rove_uniq_keys(&fs, k), 2);
	CHECK(strcmp(k[0].field, "tax_id") == 0 && strcmp(k[0].key, "tax:91310000MA1FL0001R") == 0);
	CHECK(strcmp(k[1].key, "tel:+8613800001111") == 0);
	/* A phone without digits and an empty tax id make none. */
	CHECK(!rove_uniq_key_make("phone", "ext.", &k[0]));
	CHECK(!rove_uniq_key_make("tax_id", "", &k[0]));
	CHECK(!rove_uniq_key_make("tax_id", NULL, &k[0]));
	CHECK(rove_uniq_key_make("phone", "021-5555-0101 \xe8\xbd\xac 8", &k[0]));
	CHECK_EQ_INT(strcmp(k[0].key, "tel:+862155550101"), 0);
}

/* Keys made through a memo are the keys made without one, whatever the
 * memo made before: the same values, others, none, a phone without
 * digits, a value too long to remember. */
static void test_uniq_memo(void)
{
	static const char *const taxes[] = {"9131-0000-ma1f-l0001r", "91310000MA1FL0001R", NULL, "91440300MA5DC0002Q",
					    "91440300MA5DC0002Q", ""};
	static const char *const phones[] = {"+86 138 0000 1111", "ext.", "ext.", "0086 (0)21 5555 0101",
					     "13800001111",
					     "1380000111100000000000000000000000000000000000000000000000000000000001"};
	static rove_fields fs;
	static rove_uniq_memo memo; /* zeroed: remembers nothing */
	rove_uniq_key a[ROVE_UNIQ_KEYS], b[ROVE_UNIQ_KEYS];

	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < sizeof(taxes) / sizeof(taxes[0]); i++) {
			int na, nb;
			rove_fields_init(&fs);
			if (taxes[i] != NULL)
				CHECK_EQ_INT(rove_fields_set(&fs, "tax_id", rove_vcstr(taxes[i]), stamp(1, 1)), ROVE_OK);
			CHECK_EQ_INT(rove_fields_set(&fs, "phone", rove_vcstr(phones[(i + (size_t)round) % 6]), stamp(1, 1)),
				     ROVE_OK);
			na = rove_uniq_keys(&fs, a);
			nb = rove_uniq_keys_memo(&fs, b, &memo);
			CHECK_EQ_INT(nb, na);
			for (int j = 0; j < na && j < nb; j++) {
				CHECK(strcmp(a[j].field, b[j].field) == 0);
				CHECK_EQ_INT(b[j].len, a[j].len);
				CHECK(strcmp(a[j].key, b[j].key) == 0);
			}
		}
	}
}

static void test_email(void)
{
	const rove_field_def *fd = field(ROVE_COLL_CONTACT, "email");

	check_cstr(fd, "zhou@silk.cn", ROVE_OK, NULL);
	check_cstr(fd, "li.wei+crm@example.com.cn", ROVE_OK, NULL);
	check_cstr(fd, "王伟@例子.中国", ROVE_OK, NULL);
	check_cstr(fd, "zhou", ROVE_EINVAL, "no @");
	check_cstr(fd, "@silk.cn", ROVE_EINVAL, "before the @");
	check_cstr(fd, "a@b@silk.cn", ROVE_EINVAL, "more than one @");
	check_cstr(fd, "a@localhost", ROVE_EINVAL, "not a domain");
	check_cstr(fd, "a@silk.cn.", ROVE_EINVAL, "not a domain");
	check_cstr(fd, "a b@silk.cn", ROVE_EINVAL, "a space");
	check_cstr(fd, "a@silk.cn\x1b[0m", ROVE_EINVAL, "control character");
}

/* ---- whole ops ---- */

static void customer_op(rove_op *op, uint8_t kind)
{
	rove_uuid rid;

	rove_uuid_new(&rid);
	rove_op_init(op, kind, ROVE_COLL_CUSTOMER, &rid, stamp(1, 1));
}

static void test_check_op(void)
{
	static rove_op op;
	char why[256];
	char dealer[ROVE_UUID_STRLEN + 1];
	rove_uuid d;

	rove_uuid_new(&d);
	rove_uuid_format(&d, dealer);

	customer_op(&op, ROVE_OP_CREATE);
	rove_op_set(&op, "name", rove_vcstr("上海钢铁 Shanghai Steel"));
	rove_op_set(&op, "tax_id", rove_vcstr("91310000MA1FL0001R"));
	rove_op_set(&op, "phone", rove_vcstr("+86 21 5555 0101"));
	rove_op_set(&op, "address", rove_vcstr("88 Century Ave\nPudong, Shanghai"));
	rove_op_set(&op, "tier", rove_vcstr("customer"));
	rove_op_set(&op, "territory", rove_vcstr("east.sh-1"));
	rove_op_set(&op, "owner", rove_vcstr("alice@example"));
	rove_op_set(&op, "dealer", rove_vcstr(dealer));
	rove_op_set(&op, "last_activity_at", rove_vcstr("2024-02-29"));
	why[0] = '\0';
	CHECK_EQ_INT(rove_schema_check_op(&op, why, sizeof(why)), ROVE_OK);
	if (why[0] != '\0')
		fprintf(stderr, "good create refused: %s\n", why);

	/* Optional fields may be null; _deleted may be set as an int. */
	rove_op_set(&op, "phone", rove_vnull());
	rove_op_set(&op, ROVE_FIELD_DELETED, rove_vint(0));
	CHECK_EQ_INT(rove_schema_check_op(&op, why, sizeof(why)), ROVE_OK);
	rove_op_set(&op, ROVE_FIELD_DELETED, rove_vcstr("yes"));
	CHECK_EQ_INT(rove_schema_check_op(&op, why, sizeof(why)), ROVE_EINVAL);
	rove_op_set(&op, ROVE_FIELD_DELETED, rove_vint(1));

	/* An unknown field, named to forge JSON: named in the message, which
	 * stays one line of text. */
	CHECK_EQ_INT(rove_op_set(&op, "z\":0},\"author\":\"bj\",\"f\":{\"b", rove_vcstr("x")), ROVE_OK);
	why[0] = '\0';
	CHECK_EQ_INT(rove_schema_check_op(&op, why, sizeof(why)), ROVE_EINVAL);
	CHECK(strstr(why, "unknown field 'z\":0},") != NULL);
	customer_op(&op, ROVE_OP_CREATE);
	rove_op_set(&op, "name", rove_vcstr("Acme"));
	rove_op_set(&op, "x\x1b[2J", rove_vcstr("x"));
	CHECK_EQ_INT(rove_schema_check_op(&op, why, sizeof(why)), ROVE_EINVAL);
	CHECK(strstr(why, "'x\\x1b[2J'") != NULL);

	/* Bad tier. */
	customer_op(&op, ROVE_OP_CREATE);
	rove_op_set(&op, "name", rove_vcstr("Acme"));
	rove_op_set(&op, "tier", rove_vcstr("gold"));
	why[0] = '\0';
	CHECK_EQ_INT(rove_schema_check_op(&op, why, sizeof(why)), ROVE_EINVAL);
	CHECK(strstr(why, "tier") != NULL);
	rove_op_set(&op, "tier", rove_vcstr("Loyal")); /* case matters */
	CHECK_EQ_INT(rove_schema_check_op(&op, why, sizeof(why)), ROVE_EINVAL);
	rove_op_set(&op, "tier", rove_vcstr("loyal "));
	CHECK_EQ_INT(rove_schema_check_op(&op, why, sizeof(why)), ROVE_EINVAL);
	rove_op_set(&op, "tier", rove_vint(2));
	CHECK_EQ_INT(rove_schema_check_op(&op, why, sizeof(why)), ROVE_EINVAL);
	rove_op_set(&op, "tier", rove_vcstr("loyal"));
	CHECK_EQ_INT(rove_schema_check_op(&op, why, sizeof(why)), ROVE_OK);

	/* Missing name on create; fine on update; never null or empty. */
	customer_op(&op, ROVE_OP_CREATE);
	rove_op_set(&op, "tier", rove_vcstr("prospect"));
	why[0] = '\0';
	CHECK_EQ_INT(rove_schema_check_op(&op, why, sizeof(why)), ROVE_EINVAL);
	CHECK(strstr(why, "name") != NULL);
	op.kind = ROVE_OP_UPDATE;
	CHECK_EQ_INT(rove_schema_check_op(&op, why, sizeof(why)), ROVE_OK);
	op.kind = ROVE_OP_CREATE;
	rove_op_set(&op, "name", rove_vnull());
	CHECK_EQ_INT(rove_schema_check_op(&op, why, sizeof(why)), ROVE_EINVAL);
	op.kind = ROVE_OP_UPDATE;
	CHECK_EQ_INT(rove_schema_check_op(&op, why, sizeof(why)), ROVE_EINVAL);
	op.kind = ROVE_OP_CREATE;
	rove_op_set(&op, "name", rove_vstr("", 0));
	CHECK_EQ_INT(rove_schema_check_op(&op, why, sizeof(why)), ROVE_EINVAL);
	rove_op_set(&op, "name", rove_vint(5));
	CHECK_EQ_INT(rove_schema_check_op(&op, why, sizeof(why)), ROVE_EINVAL);
	rove_op_set(&op, "name", rove_vcstr("Acme"));
	CHECK_EQ_INT(rove_schema_check_op(&op, why, sizeof(why)), ROVE_OK);

	/* Field types. */
	rove_op_set(&op, "dealer", rove_vcstr("not-a-uuid"));
	CHECK_EQ_INT(rove_schema_check_op(&op, why, sizeof(why)), ROVE_EINVAL);
	rove_op_set(&op, "dealer", rove_vcstr(dealer));
	CHECK_EQ_INT(rove_schema_check_op(&op, why, sizeof(why)), ROVE_OK);
	rove_op_set(&op, "territory", rove_vcstr("North Side"));
	CHECK_EQ_INT(rove_schema_check_op(&op, why, sizeof(why)), ROVE_EINVAL);
	rove_op_set(&op, "territory", rove_vstr("", 0));
	CHECK_EQ_INT(rove_schema_check_op(&op, why, sizeof(why)), ROVE_EINVAL);
	rove_op_set(&op, "territory", rove_vcstr("north_1"));
	CHECK_EQ_INT(rove_schema_check_op(&op, why, sizeof(why)), ROVE_OK);
	rove_op_set(&op, "phone", rove_vint(5550100));
	CHECK_EQ_INT(rove_schema_check_op(&op, why, sizeof(why)), ROVE_EINVAL);
	rove_op_set(&op, "phone", rove_vcstr("+15550100"));
	CHECK_EQ_INT(rove_schema_check_op(&op, why, sizeof(why)), ROVE_OK);

	/* Unknown collection (200 is unused; 9 is ownership, whose fields
	 * these are not) or kind. */
	op.coll = 200;
	why[0] = '\0';
	CHECK_EQ_INT(rove_schema_check_op(&op, why, sizeof(why)), ROVE_EINVAL);
	CHECK(strstr(why, "collection") != NULL);
	op.coll = 0;
	CHECK_EQ_INT(rove_schema_check_op(&op, why, sizeof(why)), ROVE_EINVAL);
	op.coll = ROVE_COLL_OWNERSHIP;
	why[0] = '\0';
	CHECK_EQ_INT(rove_schema_check_op(&op, why, sizeof(why)), ROVE_EINVAL);
	CHECK(strstr(why, "unknown field") != NULL);
	op.coll = ROVE_COLL_CUSTOMER;
	for (int k = ROVE_OP_CLAIM; k <= ROVE_OP_KIND_MAX; k++) {
		op.kind = (uint8_t)k;
		CHECK_EQ_INT(rove_schema_check_op(&op, why, sizeof(why)), ROVE_OK);
	}
	op.kind = 0;
	CHECK_EQ_INT(rove_schema_check_op(&op, why, sizeof(why)), ROVE_EINVAL);
	op.kind = ROVE_OP_KIND_MAX + 1;
	CHECK_EQ_INT(rove_schema_check_op(&op, why, sizeof(why)), ROVE_EINVAL);
}

static void test_clean_op(void)
{
	static rove_op op;
	char why[ROVE_MAX_ERRMSG], tiny[24];
	const char *tax;

	/* A tax id is stored normalised; the other fields are left alone. */
	customer_op(&op, ROVE_OP_CREATE);
	rove_op_set(&op, "name", rove_vcstr(" Acme "));
	rove_op_set(&op, "tax_id", rove_vcstr(" 9131 0000-ma1f l0001r"));
	rove_op_set(&op, "phone", rove_vcstr("+86 138 0000 1111"));
	CHECK_EQ_INT(rove_schema_clean_op(&op, why, sizeof(why)), ROVE_OK);
	tax = rove_fields_str(&op.fs, "tax_id");
	CHECK(tax != NULL && strcmp(tax, "91310000MA1FL0001R") == 0);
	CHECK(strcmp(rove_fields_str(&op.fs, "name"), " Acme ") == 0);
	CHECK(strcmp(rove_fields_str(&op.fs, "phone"), "+86 138 0000 1111") == 0);
	CHECK_EQ_INT(op.fs.n, 3);
	CHECK(rove_fields_get(&op.fs, "tax_id")->st.hlc.v == 1);
	/* Again: nothing to do. */
	CHECK_EQ_INT(rove_schema_clean_op(&op, why, sizeof(why)), ROVE_OK);
	CHECK(strcmp(rove_fields_str(&op.fs, "tax_id"), "91310000MA1FL0001R") == 0);
	/* What normalising cannot mend is refused, and nothing else breaks. */
	rove_op_set(&op, "tax_id", rove_vcstr("abc"));
	why[0] = '\0';
	CHECK_EQ_INT(rove_schema_clean_op(&op, why, sizeof(why)), ROVE_EINVAL);
	CHECK(strstr(why, "tax_id 'ABC' is not a 统一社会信用代码") != NULL);
	rove_op_set(&op, "tax_id", rove_vnull());
	CHECK_EQ_INT(rove_schema_clean_op(&op, why, sizeof(why)), ROVE_OK);
	/* The other rules, as rove_schema_check_op has them. */
	rove_op_set(&op, "name", rove_vcstr("\xff\xfe x"));
	CHECK_EQ_INT(rove_schema_clean_op(&op, why, sizeof(why)), ROVE_EINVAL);
	CHECK(strstr(why, "not valid UTF-8") != NULL);
	/* A message cut short by a small buffer ends between characters. */
	rove_op_set(&op, "name", rove_vcstr("Acme"));
	rove_op_set(&op, "tax_id", rove_vcstr("abc"));
	memset(tiny, 'X', sizeof(tiny));
	CHECK_EQ_INT(rove_schema_clean_op(&op, tiny, sizeof(tiny)), ROVE_EINVAL);
	CHECK(strlen(tiny) < sizeof(tiny));
	CHECK_EQ_INT(rove_text_check(tiny, strlen(tiny), 0, NULL, NULL), ROVE_TEXT_OK);
	for (size_t len = 1; len < sizeof(why); len++) {
		CHECK_EQ_INT(rove_schema_clean_op(&op, why, len), ROVE_EINVAL);
		CHECK_EQ_INT(rove_text_check(why, strlen(why), 0, NULL, NULL), ROVE_TEXT_OK);
	}
	/* Money and dates through the one entry point. */
	rove_op_init(&op, ROVE_OP_CREATE, ROVE_COLL_OPPORTUNITY, &op.rid, stamp(1, 1));
	rove_op_set(&op, "customer", rove_vcstr("01a22000-0000-7000-8000-000000000001"));
	rove_op_set(&op, "title", rove_vcstr("Deal"));
	rove_op_set(&op, "amount", rove_vint(-500));
	CHECK_EQ_INT(rove_schema_clean_op(&op, why, sizeof(why)), ROVE_EINVAL);
	CHECK(strstr(why, "amount cannot be negative") != NULL);
	rove_op_set(&op, "amount", rove_vint(500));
	rove_op_set(&op, "expected_close", rove_vcstr("2100-01-01"));
	CHECK_EQ_INT(rove_schema_clean_op(&op, why, sizeof(why)), ROVE_EINVAL);
	CHECK(strstr(why, "out of range") != NULL);
	rove_op_set(&op, "expected_close", rove_vcstr("2099-12-31"));
	CHECK_EQ_INT(rove_schema_clean_op(&op, why, sizeof(why)), ROVE_OK);
	/* The nil UUID is no record's id, and no reference. */
	rove_op_set(&op, "customer", rove_vcstr("00000000-0000-0000-0000-000000000000"));
	CHECK_EQ_INT(rove_schema_clean_op(&op, why, sizeof(why)), ROVE_EINVAL);
	CHECK(strstr(why, "customer") != NULL);
	rove_op_set(&op, "customer", rove_vcstr("01a22000-0000-7000-8000-000000000001"));
	memset(&op.rid, 0, sizeof(op.rid));
	CHECK_EQ_INT(rove_schema_clean_op(&op, why, sizeof(why)), ROVE_EINVAL);
	CHECK(strstr(why, "nil") != NULL);
}

/* An activity's time in one form, UTC (rule 13): tz the zone the op is
 * made in (a POSIX TZ string, no zone files needed). */
static void check_at(const char *tz, const char *in, int want, const char *out)
{
	static rove_op op;
	char why[ROVE_MAX_ERRMSG] = "";
	const char *got;
	rove_uuid id;
	int rc;

	setenv("TZ", tz, 1);
	tzset();
	rove_uuid_parse("01a22000-0000-7000-8000-000000000002", &id);
	rove_op_init(&op, ROVE_OP_CREATE, ROVE_COLL_ACTIVITY, &id, stamp(1, 1));
	rove_op_set(&op, "customer", rove_vcstr("01a22000-0000-7000-8000-000000000001"));
	rove_op_set(&op, "kind", rove_vcstr("visit"));
	rove_op_set(&op, "at", rove_vcstr(in));
	rc = rove_schema_clean_op(&op, why, sizeof(why));
	got = rove_fields_str(&op.fs, "at");
	if (rc != want || (out != NULL && (got == NULL || strcmp(got, out) != 0)))
		fprintf(stderr, "TZ=%s at '%s': %d '%s' '%s', want %d '%s'\n", tz, in, rc, got ? got : "(null)", why,
			want, out ? out : "");
	CHECK_EQ_INT(rc, want);
	if (out != NULL)
		CHECK(got != NULL && strcmp(got, out) == 0);
	if (want != ROVE_OK)
		CHECK(strstr(why, in) != NULL); /* quoted as written */
}

static void test_times(void)
{
	const char *tz = getenv("TZ");
	char *saved = tz != NULL ? strdup(tz) : NULL;

	/* UTC stays, in full. */
	check_at("CST-8", "2026-11-01T09:30:00Z", ROVE_OK, "2026-11-01T09:30:00Z");
	check_at("CST-8", "2026-11-01T09:30Z", ROVE_OK, "2026-11-01T09:30:00Z");
	/* Without a zone it is local time where the op is made (China: UTC+8). */
	check_at("CST-8", "2026-11-01T09:30", ROVE_OK, "2026-11-01T01:30:00Z");
	check_at("CST-8", "2026-11-01T09:30:15", ROVE_OK, "2026-11-01T01:30:15Z");
	check_at("CST-8", "2026-11-01T03:00", ROVE_OK, "2026-10-31T19:00:00Z");
	/* A date alone: the start of that day, local time. */
	check_at("CST-8", "2026-11-01", ROVE_OK, "2026-10-31T16:00:00Z");
	check_at("UTC0", "2026-11-01", ROVE_OK, "2026-11-01T00:00:00Z");
	check_at("UTC0", "2026-11-01T09:30", ROVE_OK, "2026-11-01T09:30:00Z");
	check_at("EST5", "2026-11-01T21:00", ROVE_OK, "2026-11-02T02:00:00Z");
	check_at("CST-8", "2024-02-29", ROVE_OK, "2024-02-28T16:00:00Z");
	/* What is no time is refused as it was written. */
	check_at("CST-8", "2026-13-01", ROVE_EINVAL, NULL);
	check_at("CST-8", "2026-11-01 09:30", ROVE_EINVAL, NULL);
	check_at("CST-8", "1979-12-31", ROVE_EINVAL, NULL);
	/* ... and so is a local time that is out of range in UTC. */
	check_at("CST-8", "1980-01-01T07:59", ROVE_EINVAL, NULL);
	check_at("CST-8", "1980-01-01T08:00", ROVE_OK, "1980-01-01T00:00:00Z");
	check_at("EST5", "2099-12-31T20:00", ROVE_EINVAL, NULL);
	/* With its offset from UTC (ISO 8601), whatever the zone here
	 * (attack sixty-eight: refused as no time). */
	check_at("EST5", "2026-12-05T10:00+08:00", ROVE_OK, "2026-12-05T02:00:00Z");
	check_at("UTC0", "2026-12-05T10:00:30-05:30", ROVE_OK, "2026-12-05T15:30:30Z");
	check_at("UTC0", "2026-12-05T10:00+0800", ROVE_OK, "2026-12-05T02:00:00Z");
	check_at("UTC0", "2026-12-05T01:00+08", ROVE_OK, "2026-12-04T17:00:00Z");
	check_at("UTC0", "2026-12-05T10:00+15:00", ROVE_EINVAL, NULL);
	check_at("UTC0", "2026-12-05T10:00+14:01", ROVE_EINVAL, NULL); /* (attack seventy) */
	check_at("UTC0", "2026-12-05T10:00+14:00", ROVE_OK, "2026-12-04T20:00:00Z");
	check_at("UTC0", "2026-12-05T10:00+08:60", ROVE_EINVAL, NULL);
	check_at("UTC0", "2026-12-05T10:00+8:00", ROVE_EINVAL, NULL);
	check_at("UTC0", "2026-12-05+08:00", ROVE_EINVAL, NULL);
	check_at("UTC0", "2026-12-05T10:00Z+08:00", ROVE_EINVAL, NULL);
	check_at("UTC0", "1980-01-01T07:59+08:00", ROVE_EINVAL, NULL);
	check_at("UTC0", "2099-12-31T20:00-05:00", ROVE_EINVAL, NULL);
	if (saved != NULL)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
}

/* The benchmarks' data passes the server's check as it is (bench_data.c
 * is what the loader and pushers send). */
static void test_bench_data(void)
{
	static const uint32_t some[] = {0, 1, 6, 99, 12345, 999999, 999999999};
	static rove_op op;
	bench_shape shape = {1000000, 7, 3, 2, 2, 3, false};
	char why[ROVE_MAX_ERRMSG], prev[ROVE_TAXID_LEN + 1] = "";
	const char *cust = "01a22000-0000-7000-8000-000000000001";

	rove_uuid_new(&op.rid); /* any but the nil UUID */
	for (size_t k = 0; k < sizeof(some) / sizeof(some[0]); k++) {
		uint32_t i = some[k];
		const char *tax;

		rove_op_init(&op, ROVE_OP_CREATE, ROVE_COLL_CUSTOMER, &op.rid, stamp(1, 1));
		CHECK_EQ_INT(bench_customer_fields(&shape, i, &op.fs, op.st), ROVE_OK);
		CHECK_EQ_INT(rove_schema_clean_op(&op, why, sizeof(why)), ROVE_OK);
		if (rove_schema_check_op(&op, why, sizeof(why)) != ROVE_OK)
			fprintf(stderr, "bench customer %u: %s\n", i, why);
		tax = rove_fields_str(&op.fs, "tax_id");
		CHECK(tax != NULL && strlen(tax) == ROVE_TAXID_LEN && strcmp(tax, prev) != 0);
		if (tax != NULL)
			snprintf(prev, sizeof(prev), "%s", tax);
		for (uint32_t j = 0; j < 2; j++) {
			rove_op_init(&op, ROVE_OP_CREATE, ROVE_COLL_CONTACT, &op.rid, stamp(1, 1));
			CHECK_EQ_INT(bench_contact_fields(&shape, i, j, cust, &op.fs, op.st), ROVE_OK);
			CHECK_EQ_INT(rove_schema_clean_op(&op, why, sizeof(why)), ROVE_OK);
			rove_op_init(&op, ROVE_OP_CREATE, ROVE_COLL_ACTIVITY, &op.rid, stamp(1, 1));
			CHECK_EQ_INT(bench_activity_fields(&shape, i, j, cust, &op.fs, op.st), ROVE_OK);
			CHECK_EQ_INT(rove_schema_clean_op(&op, why, sizeof(why)), ROVE_OK);
		}
	}
}

/* Numbers of the command line: digits only, within their range. */
static void test_numbers(void)
{
	static const char *const bad[] = {"", " 5", "\t5", "5 ", "+5", "-5", "-0", "5x", "0x10", "1e3", "nan",
					  "inf", "1 0", "5\n", "18446744073709551616", "99999999999999999999999"};
	static const char *const bad_secs[] = {".5", "5.", "0.5.1", "0,5", "1.2e3", " 0.5", "0.5 ", "+0.5", "-0.5"};
	uint64_t v = 7;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(!rove_text_uint(bad[i], UINT64_MAX, &v));
		CHECK(!rove_text_seconds_ms(bad[i], UINT64_MAX, &v));
	}
	for (size_t i = 0; i < sizeof(bad_secs) / sizeof(bad_secs[0]); i++)
		CHECK(!rove_text_seconds_ms(bad_secs[i], UINT64_MAX, &v));
	CHECK_EQ_INT(v, 7); /* untouched by a refusal */
	CHECK(rove_text_uint("0", 10, &v) && v == 0);
	CHECK(rove_text_uint("010", 10, &v) && v == 10);
	CHECK(!rove_text_uint("11", 10, &v));
	CHECK(!rove_text_uint("5", 0, &v) && rove_text_uint("0", 0, &v) && v == 0);
	CHECK(rove_text_uint("18446744073709551615", UINT64_MAX, &v) && v == UINT64_MAX);
	CHECK(rove_text_uint("3600000", 3600000, &v) && v == 3600000 && !rove_text_uint("3600001", 3600000, &v));
	CHECK(rove_text_seconds_ms("0", 1000, &v) && v == 0);
	CHECK(rove_text_seconds_ms("0.25", 1000, &v) && v == 250);
	CHECK(rove_text_seconds_ms("1.0", 1000, &v) && v == 1000);
	CHECK(!rove_text_seconds_ms("1.001", 1000, &v) && !rove_text_seconds_ms("2", 1000, &v));
	CHECK(rove_text_seconds_ms("0.0999", 1000, &v) && v == 99); /* past milliseconds: dropped */
	CHECK(rove_text_seconds_ms("3600", 3600000, &v) && v == 3600000);
	CHECK(!rove_text_seconds_ms("3600.5", 3600000, &v) && !rove_text_seconds_ms("18446744073709552", UINT64_MAX, &v));
	CHECK(rove_text_seconds_ms("18446744073709551.615", UINT64_MAX, &v) && v == UINT64_MAX);
	CHECK(!rove_text_seconds_ms("18446744073709551.616", UINT64_MAX, &v));
	/* Past the maximum however little: the digits past milliseconds
	 * count there (they are dropped below it). */
	CHECK(!rove_text_seconds_ms("1.0001", 1000, &v) && !rove_text_seconds_ms("1.000000000000000000001", 1000, &v));
	CHECK(!rove_text_seconds_ms("3600.0000001", 3600000, &v));
	CHECK(!rove_text_seconds_ms("604800.00000000001", 604800000, &v));
	CHECK(!rove_text_seconds_ms("18446744073709551.6151", UINT64_MAX, &v));
	CHECK(rove_text_seconds_ms("1.000000000000", 1000, &v) && v == 1000); /* zeros add nothing */
	CHECK(rove_text_seconds_ms("0.9999999", 1000, &v) && v == 999);
	CHECK(rove_text_seconds_ms("18446744073709551.6150", UINT64_MAX, &v) && v == UINT64_MAX);
}

/* Full-width ASCII forms and the ideographic space made ASCII; the rest,
 * ill-formed bytes too, kept as they are. */
static void test_fold_width(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"ＡＣＭＥ", "ACME"},
		{"１３８　００００", "138 0000"},
		{"！～", "!~"},                    /* U+FF01 and U+FF5E, the ends */
		{"\xef\xbc\x80\xef\xbd\x9f", "\xef\xbc\x80\xef\xbd\x9f"}, /* U+FF00 and U+FF5F: outside */
		{"钢铁 Steel", "钢铁 Steel"},
		{"a\xef\xbc", "a\xef\xbc"}, /* truncated: kept */
		{"", ""},
	};
	char out[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = rove_text_fold_width(cases[i].in, strlen(cases[i].in), out, sizeof(out));
		CHECK_EQ_INT(n, strlen(cases[i].out));
		CHECK(strcmp(out, cases[i].out) == 0);
	}
}

/* A search's form: full-width made ASCII, letters of the folded scripts
 * in lower case, never longer, the rest (and bad bytes) as they are. */
static void test_fold_search(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"ＡＣＭＥ Trading", "acme trading"},
		{"１３８　００００", "138 0000"},
		{"Émile ÀÞ × ß", "émile àþ × ß"},       /* U+00D7 and U+00DF: no pair */
		{"ŁÓDŹ Ĳssel Ŋ Ÿ", "łódź ĳssel ŋ ÿ"},   /* Latin Extended-A's runs, U+0178 */
		{"İSTANBUL", "istanbul"},                /* İ: i, one byte */
		{"ı ĸ ŉ ſ", "ı ĸ ŉ ſ"},                 /* no pair: as they are */
		{"ҐАНОК ҚАЗАҚ Ӏ Ӂ Ԁ", "ґанок қазақ ӏ ӂ ԁ"}, /* Cyrillic beyond Russian's */
		{"ΟΔΟΣ οδος Ά Ώ", "οδοσ οδοσ ά ώ"},     /* final sigma as any other */
		{"МОСКВА Ёж Ђ", "москва ёж ђ"},
		{"钢铁 Steel（集团）", "钢铁 steel(集团)"},
		{"a\xef\xbc", "a\xef\xbc"}, /* truncated: kept */
		{"\xc3\x28", "\xc3\x28"},   /* ill-formed: kept */
		{"", ""},
	};
	char out[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = rove_text_fold_search(cases[i].in, strlen(cases[i].in), out, sizeof(out));
		CHECK_EQ_INT(n, strlen(cases[i].out));
		CHECK(strcmp(out, cases[i].out) == 0);
		CHECK(n <= strlen(cases[i].in));
	}
	/* Every two-byte character folds to one character of two bytes (İ's
	 * i one), and folding again changes nothing: U+0080 to U+07FF. */
	for (uint32_t cp = 0x80; cp < 0x800; cp++) {
		char in[3] = {(char)(0xc0 | (cp >> 6)), (char)(0x80 | (cp & 0x3f)), 0};
		uint32_t back;
		size_t n = rove_text_fold_search(in, 2, out, sizeof(out));
		CHECK_EQ_INT(n, cp == 0x130 ? 1 : 2);
		CHECK_EQ_INT(rove_utf8_next(out, n, &back), n);
		CHECK(back != ROVE_UTF8_BAD);
		char again[3];
		CHECK_EQ_INT(rove_text_fold_search(out, n, again, sizeof(again)), n);
		CHECK(memcmp(again, out, n) == 0);
	}
}

int main(void)
{
	test_fold_width();
	test_fold_search();
	test_numbers();
	test_utf8();
	test_text_check();
	test_text_show();
	test_lengths();
	test_text_fields();
	test_money();
	test_dates();
	test_taxid();
	test_phone();
	test_uniq_keys();
	test_uniq_memo();
	test_email();
	test_check_op();
	test_clean_op();
	test_times();
	test_bench_data();
	return check_done("test_schema");
}
