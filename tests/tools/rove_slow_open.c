/*
 * rove_slow_open - an LD_PRELOAD library that makes a process's opening
 * of an LMDB data.mdb slow and says, in order, what the process did
 * around it: a line "open data.mdb" at the first open of a data.mdb, a
 * line "listen" at each listen(2), appended to $ROVE_TRACE_FILE. The
 * first open of a data.mdb then sleeps $ROVE_SLOW_OPEN_MS milliseconds.
 *
 * That is a server whose database takes long to open (a big map on a
 * slow disk, LMDB's reader table being cleaned): whatever it listens on
 * before then, a client or a supervisor may meet, and take it for a
 * server that is up (t_serve_fail).
 */
#define _GNU_SOURCE /* RTLD_NEXT */

#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static void *next_sym(const char *name)
{
	void *sym = dlsym(RTLD_NEXT, name);

	if (sym == NULL)
		abort();
	return sym;
}

static void trace(const char *line)
{
	const char *file = getenv("ROVE_TRACE_FILE");
	int (*real_open)(const char *, int, ...);
	void *sym;
	int fd;

	if (file == NULL)
		return;
	sym = next_sym("open");
	memcpy(&real_open, &sym, sizeof(sym));
	fd = real_open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		abort();
	if (write(fd, line, strlen(line)) != (ssize_t)strlen(line))
		abort();
	close(fd);
}

static void seen_path(const char *path)
{
	static int opened;
	size_t len = strlen(path);
	const char *ms = getenv("ROVE_SLOW_OPEN_MS");
	struct timespec ts;

	if (opened || len < 8 || strcmp(path + len - 8, "data.mdb") != 0)
		return;
	opened = 1;
	trace("open data.mdb\n");
	if (ms != NULL) {
		long v = atol(ms);
		ts.tv_sec = v / 1000;
		ts.tv_nsec = (v % 1000) * 1000000L;
		while (nanosleep(&ts, &ts) != 0)
			;
	}
}

/* open, open64 and openat: whichever the C library and LMDB use. */
#define OPEN_MODE(flags, mode)                                                                     \
	do {                                                                                       \
		if ((flags) & (O_CREAT | O_TMPFILE)) {                                             \
			va_list ap;                                                                \
			va_start(ap, flags);                                                       \
			mode = (mode_t)va_arg(ap, int);                                            \
			va_end(ap);                                                                \
		}                                                                                  \
	} while (0)

/* The C library's open or open64 (sym), after noting path. */
static int next_open(const char *sym_name, const char *path, int flags, mode_t mode)
{
	int (*real)(const char *, int, ...);
	void *sym = next_sym(sym_name);

	memcpy(&real, &sym, sizeof(sym));
	seen_path(path);
	return real(path, flags, mode);
}

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	OPEN_MODE(flags, mode);
	return next_open("open", path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;

	OPEN_MODE(flags, mode);
	return next_open("open64", path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	int (*real)(int, const char *, int, ...);
	void *sym = next_sym("openat");
	mode_t mode = 0;

	OPEN_MODE(flags, mode);
	memcpy(&real, &sym, sizeof(sym));
	seen_path(path);
	return real(dirfd, path, flags, mode);
}

int listen(int fd, int backlog)
{
	int (*real)(int, int);
	void *sym = next_sym("listen");

	memcpy(&real, &sym, sizeof(sym));
	trace("listen\n");
	return real(fd, backlog);
}
