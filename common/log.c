#include "log.h"

#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *log_prog = "rove";
static int log_level = ROVE_LOG_WARN;

void rove_log_init(const char *prog, int default_level)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	const char *env = getenv("ROVE_LOG");

	log_prog = prog;
	log_level = default_level;
	if (env == NULL)
		return;
	for (int i = 0; i < 4; i++)
		if (strcmp(env, names[i]) == 0)
			log_level = i;
}

void rove_log(int level, const char *fmt, ...)
{
	static const char *const tags[] = {"error: ", "warning: ", "", "debug: "};
	char line[1024];
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s%s\n", log_prog, tags[level], line);
}

/* The length of the UTF-8 sequence at s (1 to 4), or 0 if s does not
 * start a valid, shortest-form sequence of a scalar value. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

/* Whether the valid sequence of n bytes at s is one to escape: a C1
 * control (U+0080-U+009F) or U+2028/U+2029. */
static int utf8_escaped(const unsigned char *s, size_t n)
{
	return (n == 2 && s[0] == 0xc2 && s[1] <= 0x9f) ||
	       (n == 3 && s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9));
}

/* The escaped form of the character at s into unit (at most 16 bytes);
 * returns its length and sets *n to the bytes of s it stands for. */
static size_t quote_unit(const unsigned char *s, char unit[16], size_t *n)
{
	static const char hex[] = "0123456789abcdef";
	size_t u = 0, len = utf8_len(s);
	int escape = len == 0 || utf8_escaped(s, len);

	*n = len == 0 ? 1 : len;
	for (size_t i = 0; i < *n; i++) {
		unsigned char c = s[i];
		if (!escape && c >= 0x20 && c != 0x7f && c != '\'' && c != '\\') {
			unit[u++] = (char)c;
		} else if (c == '\n' || c == '\r' || c == '\t' || c == '\'' || c == '\\') {
			unit[u++] = '\\';
			unit[u++] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : (char)c;
		} else {
			unit[u++] = '\\';
			unit[u++] = 'x';
			unit[u++] = hex[c >> 4];
			unit[u++] = hex[c & 15];
		}
	}
	return u;
}

const char *rove_log_quote(char *out, size_t len, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	char unit[16];
	size_t o = 0, n, total = 2;
	int whole;

	assert(len >= 8);
	for (const unsigned char *p = s; *p != '\0'; p += n)
		total += quote_unit(p, unit, &n);
	whole = total + 1 <= len;
	out[o++] = '\'';
	for (; *s != '\0'; s += n) {
		size_t u = quote_unit(s, unit, &n);
		/* Cut: room is kept for the closing quote, "..." and the NUL. */
		if (!whole && o + u + 5 > len) {
			out[o++] = '\'';
			memcpy(out + o, "...", 4);
			return out;
		}
		memcpy(out + o, unit, u);
		o += u;
	}
	out[o++] = '\'';
	out[o] = '\0';
	return out;
}
