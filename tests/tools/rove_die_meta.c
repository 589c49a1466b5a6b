/*
 * rove_die_meta - an LD_PRELOAD library that kills the process loading it
 * (SIGKILL, as kill -9 would) right after its Nth write to the meta pages
 * of an LMDB data.mdb (the first two pages), N from $ROVE_DIE_AFTER_META.
 *
 * That is a writer dead between writing a commit's meta page and telling
 * the environment's readers of it (in the lock file): on disk the commit
 * is there, while a reader that starts a transaction sees the one before
 * until the next writer takes up the dead one's lock. A kill -9 of
 * roved compact lands there now and then; this lands there every time.
 *
 * With $ROVE_FAULT_AFTER_WRITES=N instead, the Nth write() to a data.mdb
 * raises SIGBUS in the writing thread: a fault in the middle of LMDB's
 * copy (roved backup's), as a source cut or written over, or a page a
 * writer reused under a read without the lock file, makes it.
 */
#define _GNU_SOURCE /* RTLD_NEXT */

#include <dlfcn.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* Whether fd is open on a file named data.mdb (an LMDB data file). */
static int is_data_file(int fd)
{
	char link[64], path[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 8)
		return 0;
	path[n] = '\0';
	return strcmp(path + n - 8, "data.mdb") == 0;
}

/* The next definition of the libc function name (the one interposed). */
static void *next_fn(const char *name)
{
	void *sym = dlsym(RTLD_NEXT, name);

	if (sym == NULL)
		abort();
	return sym;
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t off)
{
	static ssize_t (*real)(int, const void *, size_t, off_t);
	static int writes;
	const char *after = getenv("ROVE_DIE_AFTER_META");
	ssize_t r;

	if (real == NULL) {
		void *sym = next_fn("pwrite");
		memcpy(&real, &sym, sizeof(sym));
	}
	r = real(fd, buf, count, off);
	/* LMDB's meta pages are its first two, of the OS page size. */
	if (r >= 0 && after != NULL && off < 2 * sysconf(_SC_PAGESIZE) && is_data_file(fd) && ++writes >= atoi(after))
		raise(SIGKILL);
	return r;
}

ssize_t write(int fd, const void *buf, size_t count)
{
	static ssize_t (*real)(int, const void *, size_t);
	static int writes;
	const char *after = getenv("ROVE_FAULT_AFTER_WRITES");

	if (real == NULL) {
		void *sym = next_fn("write");
		memcpy(&real, &sym, sizeof(sym));
	}
	if (after != NULL && fd > 2 && is_data_file(fd) && __atomic_add_fetch(&writes, 1, __ATOMIC_SEQ_CST) >= atoi(after))
		raise(SIGBUS);
	return real(fd, buf, count);
}
