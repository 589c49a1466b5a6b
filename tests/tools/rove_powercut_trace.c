/*
 * rove_powercut_trace - an LD_PRELOAD library that records every write to
 * one file ($ROVE_POWERCUT_FILE, an absolute path: an LMDB data.mdb) and
 * every point where the kernel made those writes durable, appending them
 * to $ROVE_POWERCUT_TRACE, so that tools/rove_powercut.c can build what
 * the disk could hold had the power failed when the process was killed.
 *
 * Records (native byte order):
 *   'W' u64 offset, u32 length, the bytes - written to the file (the
 *       record is appended before the write is made: a process killed in
 *       between leaves a write that never happened, which the image treats
 *       as one the disk may not hold, as it would a real one);
 *   'D' - the write just recorded is durable (made through a descriptor
 *       opened O_SYNC or O_DSYNC, as LMDB writes its meta pages);
 *   'S' - every write recorded before is durable (fsync or fdatasync of
 *       the file returned 0).
 * One lock covers a record and the call it records, so that a process's
 * threads cannot interleave them. Writes through a memory map cannot be
 * seen: an msync of any map, an 'M' record, tells the image builder to
 * refuse the trace rather than call an image complete.
 */
#define _GNU_SOURCE /* RTLD_NEXT */

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int trace_fd = -1;

static void *real(const char *name)
{
	void *sym = dlsym(RTLD_NEXT, name);

	if (sym == NULL)
		abort();
	return sym;
}

/* Whether fd is the traced file. */
static int traced(int fd)
{
	const char *want = getenv("ROVE_POWERCUT_FILE");
	char link[64], path[PATH_MAX];
	ssize_t n;

	if (want == NULL || getenv("ROVE_POWERCUT_TRACE") == NULL)
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 0)
		return 0;
	path[n] = '\0';
	return strcmp(path, want) == 0;
}

/* Appends len bytes to the trace, whole, or aborts: a trace with a hole
 * would let the image builder call a lost write durable. */
static void put(const void *p, size_t len)
{
	static ssize_t (*wr)(int, const void *, size_t);
	const char *b = p;

	if (wr == NULL) {
		void *sym = real("write");
		memcpy(&wr, &sym, sizeof(sym));
	}
	if (trace_fd < 0) {
		trace_fd = open(getenv("ROVE_POWERCUT_TRACE"), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (trace_fd < 0)
			abort();
	}
	while (len > 0) {
		ssize_t w = wr(trace_fd, b, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			abort();
		b += w;
		len -= (size_t)w;
	}
}

static void put_mark(char type)
{
	put(&type, 1);
}

/* A 'W' record for the iovecs, written at off. One buffer: a record is
 * appended by one write, so that a kill leaves at most its tail cut. */
static void put_write(const struct iovec *iov, int n, off_t off)
{
	uint64_t o = (uint64_t)off;
	uint32_t len = 0;
	size_t at = 13;
	char *rec;

	for (int i = 0; i < n; i++)
		len += (uint32_t)iov[i].iov_len;
	rec = malloc(13 + (size_t)len);
	if (rec == NULL)
		abort();
	rec[0] = 'W';
	memcpy(rec + 1, &o, 8);
	memcpy(rec + 9, &len, 4);
	for (int i = 0; i < n; i++) {
		memcpy(rec + at, iov[i].iov_base, iov[i].iov_len);
		at += iov[i].iov_len;
	}
	put(rec, at);
	free(rec);
}

static int sync_fd(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && (fl & (O_SYNC | O_DSYNC)) != 0;
}

/* A write of iov at off (-1: at the descriptor's offset) by do_write,
 * recorded when fd is the traced file. */
static ssize_t trace_write(int fd, const struct iovec *iov, int n, off_t off,
			   ssize_t (*do_write)(int, const struct iovec *, int, off_t))
{
	ssize_t r;

	if (!traced(fd))
		return do_write(fd, iov, n, off);
	pthread_mutex_lock(&mu);
	put_write(iov, n, off >= 0 ? off : lseek(fd, 0, SEEK_CUR));
	r = do_write(fd, iov, n, off);
	if (r >= 0 && sync_fd(fd))
		put_mark('D');
	pthread_mutex_unlock(&mu);
	return r;
}

static ssize_t via_pwritev(int fd, const struct iovec *iov, int n, off_t off)
{
	static ssize_t (*f)(int, const struct iovec *, int, off_t);

	if (f == NULL) {
		void *sym = real("pwritev");
		memcpy(&f, &sym, sizeof(sym));
	}
	return f(fd, iov, n, off);
}

static ssize_t via_writev(int fd, const struct iovec *iov, int n, off_t off)
{
	static ssize_t (*f)(int, const struct iovec *, int);

	(void)off;
	if (f == NULL) {
		void *sym = real("writev");
		memcpy(&f, &sym, sizeof(sym));
	}
	return f(fd, iov, n);
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t off)
{
	struct iovec v = {(void *)buf, count};

	return trace_write(fd, &v, 1, off, via_pwritev);
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off_t off)
{
	return pwrite(fd, buf, count, off);
}

ssize_t pwritev(int fd, const struct iovec *iov, int n, off_t off)
{
	return trace_write(fd, iov, n, off, via_pwritev);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int n, off_t off)
{
	return pwritev(fd, iov, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int n)
{
	return trace_write(fd, iov, n, -1, via_writev);
}

ssize_t write(int fd, const void *buf, size_t count)
{
	struct iovec v = {(void *)buf, count};

	return trace_write(fd, &v, 1, -1, via_writev);
}

static int trace_sync(int fd, const char *name)
{
	int (*f)(int);
	void *sym = real(name);
	int r;

	memcpy(&f, &sym, sizeof(sym));
	if (!traced(fd))
		return f(fd);
	pthread_mutex_lock(&mu);
	r = f(fd);
	if (r == 0)
		put_mark('S');
	pthread_mutex_unlock(&mu);
	return r;
}

int fsync(int fd)
{
	return trace_sync(fd, "fsync");
}

int fdatasync(int fd)
{
	return trace_sync(fd, "fdatasync");
}

int msync(void *addr, size_t len, int flags)
{
	int (*f)(void *, size_t, int);
	void *sym = real("msync");

	memcpy(&f, &sym, sizeof(sym));
	if (getenv("ROVE_POWERCUT_TRACE") != NULL) {
		pthread_mutex_lock(&mu);
		put_mark('M');
		pthread_mutex_unlock(&mu);
	}
	return f(addr, len, flags);
}
