#include "lockfile.h"

#include "err.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The pid written in a lock file, or 0. */
static long holder_of(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	char *end;
	long pid;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	pid = strtol(buf, &end, 10);
	return pid > 0 && (*end == '\n' || *end == '\0') ? pid : 0;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* An exclusive flock on fd (path names it in errors), tried again for up
 * to wait_ms: ROVE_OK, ROVE_ELOCKED, or ROVE_EIO (logged). */
static int flock_wait(int fd, const char *path, int wait_ms)
{
	int waited = 0;

	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			rove_error("cannot lock '%s': %s", path, strerror(errno));
			return ROVE_EIO;
		}
		if (waited >= wait_ms)
			return ROVE_ELOCKED;
		sleep_ms(ROVE_LOCKFILE_POLL_MS);
		waited += ROVE_LOCKFILE_POLL_MS;
	}
	return ROVE_OK;
}

int rove_lockfile_take(rove_lockfile *l, const char *dir, const char *name, int wait_ms, long *holder)
{
	char path[PATH_MAX], pid[32];
	int fd, n, rc;

	l->fd = -1;
	*holder = 0;
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
		rove_error("path too long: '%s/%s'", dir, name);
		return ROVE_EIO;
	}
	/* Made here (O_EXCL: a link there is not followed), or opened. */
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0)
		rove_lockfile_follow_dir(dir, fd, path);
	else if (errno == EEXIST)
		fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW); /* not what a link there points at */
	if (fd < 0 && errno == ENOENT)
		return ROVE_ENOTFOUND;
	if (fd < 0) {
		rove_error("cannot open '%s': %s", path, strerror(errno));
		return ROVE_EIO;
	}
	rc = flock_wait(fd, path, wait_ms);
	if (rc != ROVE_OK) {
		if (rc == ROVE_ELOCKED)
			*holder = holder_of(fd);
		close(fd);
		return rc;
	}
	/* The pid only names the holder in others' messages: failing to
	 * write it (a full disk) is said, and the lock is kept. */
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		rove_warn("cannot write the pid into '%s': %s", path, strerror(errno));
	l->fd = fd;
	return ROVE_OK;
}

int rove_lockfile_take_dir(rove_lockfile *l, const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	l->fd = -1;
	if (fd < 0) {
		rove_error("cannot open '%s': %s", dir, strerror(errno));
		return ROVE_EIO;
	}
	rc = flock_wait(fd, dir, 0);
	if (rc != ROVE_OK) {
		close(fd);
		return rc;
	}
	l->fd = fd;
	return ROVE_OK;
}

void rove_lockfile_release(rove_lockfile *l)
{
	if (l->fd < 0)
		return;
	/* Closing the only descriptor releases the flock; the file stays
	 * (removing it would race with a process opening it to wait). */
	close(l->fd);
	l->fd = -1;
}

void rove_lockfile_follow_dir(const char *dir, int fd, const char *path)
{
	struct stat d, f;

	if (geteuid() != 0 || stat(dir, &d) != 0 || d.st_uid == 0 || fstat(fd, &f) != 0 || f.st_uid != 0 ||
	    !((S_ISREG(f.st_mode) && f.st_nlink == 1) || S_ISDIR(f.st_mode)))
		return;
	if (fchown(fd, d.st_uid, d.st_gid) != 0)
		rove_warn("cannot give '%s' to the owner of '%s' (uid %lu): %s", path, dir, (unsigned long)d.st_uid,
			  strerror(errno));
}

void rove_lockfile_made_dir(const char *path)
{
	char parent[PATH_MAX];
	size_t n = strlen(path);
	int fd;

	if (geteuid() != 0 || n == 0 || n >= sizeof(parent))
		return;
	memcpy(parent, path, n + 1);
	while (n > 1 && parent[n - 1] == '/')
		parent[--n] = '\0'; /* "db/" is db */
	while (n > 0 && parent[n - 1] != '/')
		n--;
	if (n == 0)
		snprintf(parent, sizeof(parent), ".");
	else
		parent[n > 1 ? n - 1 : 1] = '\0'; /* "/db": "/" */
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	rove_lockfile_follow_dir(parent, fd, path);
	close(fd);
}
