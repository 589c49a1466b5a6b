#include "lockfile.h"

#include "err.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
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
	rc = rove_lockfile_dir_trusted(dir, false);
	if (rc != ROVE_OK)
		return rc == ROVE_ENOTFOUND ? ROVE_ENOTFOUND : ROVE_EIO; /* EIO: said */
	/* Not what a link there points at: ELOOP, said below. */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
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

/* What rove_lockfile_dir_trusted refuses, said. */
static int untrusted(const char *path, const char *why)
{
	rove_error("as root, this command works only where root alone controls the way: %s '%s'; run it as the "
		   "directory's owner (sudo -u), or give the directories to root",
		   why, path);
	return ROVE_EPERM;
}

/* rove_lockfile_dir_trusted of the absolute path abs; depth counts the
 * links resolved on the way. Whatever cannot be told is refused. */
static int trusted(const char *abs, bool to_make, int depth)
{
	char path[PATH_MAX], real[PATH_MAX], why[64];
	struct stat st;
	size_t n = strlen(abs), at = 0;

	if (n >= sizeof(path) || depth > 40)
		return untrusted(abs, "cannot follow the way (too long, or too many links) to");
	memcpy(path, abs, n + 1);
	while (at < n) {
		char keep;
		bool last;
		/* the next prefix: "/", "/a", "/a/b", ... */
		at = at == 0 ? 1 : at + 1;
		while (at < n && path[at] != '/')
			at++;
		last = strspn(path + at, "/") == n - at; /* the directory worked in itself */
		keep = path[at];
		path[at] = '\0';
		if (lstat(path, &st) != 0) {
			if (errno != ENOENT)
				return untrusted(path, "cannot look at");
			/* Not there: to be made by this process, under a trusted
			 * parent (its mkdir fails when a parent is missing);
			 * else nothing to work in, said by the caller. */
			return to_make ? ROVE_OK : ROVE_ENOTFOUND;
		}
		if (S_ISLNK(st.st_mode)) {
			if (st.st_uid != 0) {
				snprintf(why, sizeof(why), "a symbolic link of uid %lu's is on the way:",
					 (unsigned long)st.st_uid);
				return untrusted(path, why);
			}
			/* root's link: what it leads to, then the rest */
			if (realpath(path, real) == NULL)
				return untrusted(path, "cannot follow the link");
			path[at] = keep;
			if (strlen(real) + strlen(path + at) >= sizeof(real))
				return untrusted(path, "cannot follow the way (too long) to");
			strcat(real, path + at);
			return trusted(real, to_make, depth + 1);
		}
		if (last && !S_ISDIR(st.st_mode))
			return untrusted(path, "not a directory:");
		if (S_ISDIR(st.st_mode) && st.st_uid != 0) {
			snprintf(why, sizeof(why), "uid %lu owns", (unsigned long)st.st_uid);
			return untrusted(path, why);
		}
		/* Others may write to it: on the way only if sticky (as /tmp:
		 * none may move or replace root's entries there); the
		 * directory worked in, never (what they put there would be
		 * opened: attack forty-nine). */
		if (S_ISDIR(st.st_mode) && (st.st_mode & 022) != 0 && (last || !(st.st_mode & S_ISVTX))) {
			snprintf(why, sizeof(why), "others may write (mode %04o) to", (unsigned)(st.st_mode & 07777));
			return untrusted(path, why);
		}
		path[at] = keep;
	}
	return ROVE_OK;
}

int rove_lockfile_dir_trusted(const char *dir, bool to_make)
{
	char abs[PATH_MAX];

	if (geteuid() != 0)
		return ROVE_OK;
	if (dir[0] == '/')
		return trusted(dir, to_make, 0);
	/* A current directory past PATH_MAX cannot be told: refused
	 * (attack forty-nine: the check was skipped). */
	if (getcwd(abs, sizeof(abs)) == NULL || strlen(abs) + 1 + strlen(dir) >= sizeof(abs))
		return untrusted(dir, "cannot tell the way (the current directory) to");
	strcat(abs, "/");
	strcat(abs, dir);
	return trusted(abs, to_make, 0);
}

int rove_lockfile_make_dir(const char *dir, bool *made)
{
	int rc;

	*made = false;
	rc = rove_lockfile_dir_trusted(dir, true);
	if (rc != ROVE_OK)
		return rc == ROVE_ENOTFOUND ? ROVE_EPERM : rc; /* not to_make's: cannot be; EPERM said */
	if (mkdir(dir, 0700) == 0) {
		*made = true;
	} else if (errno != EEXIST) {
		int err = errno;
		rove_error("cannot create '%s': %s%s", dir, strerror(err),
			   err == ENOENT ? " (a directory above it is missing: create it first)" : "");
		return rove_err_errno(err);
	}
	/* Again, now that it is there: another user may have made it, or a
	 * link there, in the moment between (attacks forty-nine, fifty). */
	if (rove_lockfile_dir_trusted(dir, false) != ROVE_OK) {
		rove_error("'%s' is not the directory this command made or found a moment ago: not used", dir);
		if (*made && rmdir(dir) != 0)
			rove_warn("cannot remove '%s': %s", dir, strerror(errno));
		*made = false;
		return ROVE_EPERM;
	}
	return ROVE_OK;
}
