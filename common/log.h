/*
 * log.h - leveled logging to stderr.
 *
 * The level comes from $ROVE_LOG (error, warn, info, debug; default warn
 * for the client, set by the caller with rove_log_set_level).
 */
#ifndef ROVE_LOG_H
#define ROVE_LOG_H

enum rove_log_level { ROVE_LOG_ERROR, ROVE_LOG_WARN, ROVE_LOG_INFO, ROVE_LOG_DEBUG };

void rove_log_init(const char *prog, int default_level);
void rove_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define rove_error(...) rove_log(ROVE_LOG_ERROR, __VA_ARGS__)
#define rove_warn(...) rove_log(ROVE_LOG_WARN, __VA_ARGS__)
#define rove_info(...) rove_log(ROVE_LOG_INFO, __VA_ARGS__)
#define rove_debug(...) rove_log(ROVE_LOG_DEBUG, __VA_ARGS__)

#endif
