#include "log.h"
#include "rove_assert.h"

#include "text.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *log_prog = "rove";
static int log_level = ROVE_LOG_WARN;
static rove_log_sink_fn log_sink;
static void *log_sink_arg;
static char *log_held;
static size_t log_held_len;

void rove_log_hold(char *first, size_t len)
{
	ROVE_ASSERT(first == NULL || len > 0);
	log_held = first;
	log_held_len = len;
	if (first != NULL)
		first[0] = '\0';
}

void rove_log_set_sink(rove_log_sink_fn fn, void *arg)
{
	log_sink = fn;
	log_sink_arg = arg;
}

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

	if (level > log_level && (log_sink == NULL || level > ROVE_LOG_WARN))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (level == ROVE_LOG_ERROR && log_held != NULL) {
		if (log_held[0] == '\0')
			snprintf(log_held, log_held_len, "%s", line);
		return;
	}
	if (log_sink != NULL)
		log_sink(level, line, log_sink_arg);
	if (level > log_level)
		return;
	/* Messages quote what users and servers sent: shown, so that no
	 * control character reaches a terminal or splits a log line. */
	fprintf(stderr, "%s: %s", log_prog, tags[level]);
	rove_text_put_shown(stderr, line, strlen(line), 0);
	fputc('\n', stderr);
}

/* The escaped form of the character at s into unit (at most 16 bytes);
 * returns its length and sets *n to the bytes of s it stands for. A
 * character is kept as it is unless it is a control (text.h's idea of
 * one), ill-formed, a quote or a backslash. */
static size_t quote_unit(const unsigned char *s, char unit[16], size_t *n)
{
	static const char hex[] = "0123456789abcdef";
	uint32_t cp;
	size_t u = 0, len = rove_utf8_next((const char *)s, strlen((const char *)s), &cp);
	int escape = cp == ROVE_UTF8_BAD || rove_text_is_control(cp);

	*n = len;
	for (size_t i = 0; i < *n; i++) {
		unsigned char c = s[i];
		if (!escape && c != '\'' && c != '\\') {
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

	ROVE_ASSERT(len >= 8);
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

void rove_assert_fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "%s: assertion failed: %s (%s:%d)\n", log_prog, what, file, line);
	abort();
}
