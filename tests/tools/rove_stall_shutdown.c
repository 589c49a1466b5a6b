/*
 * rove_stall_shutdown - an LD_PRELOAD library under which a process's
 * shutdown(2) of a socket does not return for $ROVE_STALL_SHUTDOWN_S
 * seconds (default 3600): closing a connection that never finishes.
 *
 * nng closes a connection's socket with shutdown() on the thread that
 * tears the connection down, and nng_close() waits for that teardown. A
 * teardown stuck in nng (once seen in CI: a timed-out sync over a slow
 * link hung in nng_close for minutes) looks the same to rove: a close
 * that does not come back. rove must still end its command, with what
 * it did kept (t_close_stall).
 */
#define _GNU_SOURCE /* RTLD_NEXT */

#include <dlfcn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

int shutdown(int fd, int how)
{
	int (*real_shutdown)(int, int);
	const char *s = getenv("ROVE_STALL_SHUTDOWN_S");
	struct stat st;
	struct timespec ts;
	void *sym;

	if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode)) {
		ts.tv_sec = s != NULL ? atol(s) : 3600;
		ts.tv_nsec = 0;
		while (nanosleep(&ts, &ts) != 0)
			;
	}
	sym = dlsym(RTLD_NEXT, "shutdown");
	if (sym == NULL)
		abort();
	*(void **)&real_shutdown = sym;
	return real_shutdown(fd, how);
}
