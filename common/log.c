#include "log.h"

#include "text.h"

#include <stdarg.h>
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
	/* Messages quote what users and servers sent: shown, so that no
	 * control character reaches a terminal or splits a log line. */
	fprintf(stderr, "%s: %s", log_prog, tags[level]);
	rove_text_put_shown(stderr, line, strlen(line), 0);
	fputc('\n', stderr);
}
