/*
 * log.h - leveled logging to stderr.
 *
 * The level comes from $ROVE_LOG (error, warn, info, debug; default warn
 * for the client, set by the caller with rove_log_set_level).
 *
 * A string that came from outside (a login name, anything a client sent)
 * goes into a log line only through rove_log_quote: quoted, with what
 * could end the line or drive a terminal escaped, so that it can neither
 * forge a line nor hide one.
 */
#ifndef ROVE_LOG_H
#define ROVE_LOG_H

#include "rove_limits.h"

#include <stddef.h>

enum rove_log_level { ROVE_LOG_ERROR, ROVE_LOG_WARN, ROVE_LOG_INFO, ROVE_LOG_DEBUG };

void rove_log_init(const char *prog, int default_level);
void rove_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A sink that also receives every line logged (level and text, before
 * escaping), e.g. `rove ui` showing a refusal's reason in the page that
 * asked; NULL to stop. The process's only sink: the caller serialises
 * the work whose lines it collects. */
typedef void (*rove_log_sink_fn)(int level, const char *line, void *arg);
void rove_log_set_sink(rove_log_sink_fn fn, void *arg);

/* Holds error lines back while first is set: they are neither printed
 * nor sunk, and the first one is kept in first (len bytes, "" if none
 * comes). For work whose failure is only advice (an owner checked
 * before a change is queued): its caller says the reason in its own
 * warning and goes on. rove_log_hold(NULL, 0) prints them again. Not
 * nested; the caller serialises, as for the sink. */
void rove_log_hold(char *first, size_t len);

#define rove_error(...) rove_log(ROVE_LOG_ERROR, __VA_ARGS__)
#define rove_warn(...) rove_log(ROVE_LOG_WARN, __VA_ARGS__)
#define rove_info(...) rove_log(ROVE_LOG_INFO, __VA_ARGS__)
#define rove_debug(...) rove_log(ROVE_LOG_DEBUG, __VA_ARGS__)

/* Room for the quoted form of a string of n bytes: each byte may become
 * four ("\x1b"), plus the two quotes and the NUL. */
#define ROVE_LOG_QUOTED(n) (4u * (n) + 3u)

/* Writes s into out (len bytes, at least 8) between single quotes, with
 * control characters (C0, DEL, C1), the line and paragraph separators
 * U+2028/U+2029, bytes that are not UTF-8, the quote and the backslash
 * escaped (\n, \r, \t, \', \\, else \xNN); valid UTF-8 is kept as it
 * is. If it does not fit, it is cut between two characters and "..."
 * follows the closing quote. Returns out. */
const char *rove_log_quote(char *out, size_t len, const char *s);

/* rove_log_quote of a name (up to ROVE_MAX_NAME bytes are shown whole)
 * into a buffer that lives until the end of the enclosing block:
 *   rove_warn("failed login for %s", ROVE_LOG_NAME(user)); */
#define ROVE_LOG_NAME(s)                                                                     \
	rove_log_quote((char[ROVE_LOG_QUOTED(ROVE_MAX_NAME)]){0}, ROVE_LOG_QUOTED(ROVE_MAX_NAME), \
		       (s))

#endif
