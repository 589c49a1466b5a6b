/*
 * lockfile.h - one process at a time on a directory (or on one job in
 * it): flock(2) on a file in the directory, which the kernel releases
 * when the process ends, however it ends, so a SIGKILLed holder leaves
 * nothing to clean up and its successor can start at once.
 *
 * roved serve and roved init hold DIR/roved.lock: two servers writing one
 * database would each believe it owns the oplog. rove sync holds
 * REPLICA/sync.lock: two syncs of one replica would push the same outbox
 * twice and apply each other's pulls out of order. The lock is advisory:
 * only those who take it exclude each other, so readers (roved backup,
 * roved check, rove status) never wait for it.
 *
 * The file holds the holder's pid, so that a refusal can name it.
 */
#ifndef ROVE_LOCKFILE_H
#define ROVE_LOCKFILE_H

/* How often a waiting process tries the lock again: short enough that a
 * second `rove sync` starts promptly after the first ends, long enough to
 * cost nothing while it waits. */
#define ROVE_LOCKFILE_POLL_MS 20

typedef struct rove_lockfile {
	int fd; /* -1 when not held */
} rove_lockfile;

/* Takes the lock DIR/NAME (creating the file, mode 0600), trying again
 * for up to wait_ms if another process holds it. Returns ROVE_OK (release
 * it with rove_lockfile_release, or let the process end), ROVE_ELOCKED
 * with the holder's pid in *holder (0 if it cannot be read),
 * ROVE_ENOTFOUND if DIR does not exist, or ROVE_EIO (logged). */
int rove_lockfile_take(rove_lockfile *l, const char *dir, const char *name, int wait_ms, long *holder);

/* Takes the lock on DIR itself, without waiting: a lock file removed by
 * hand (as "stale") while its holder runs lets the next process take a
 * new one, while a directory holding a database is not removed under
 * it. ROVE_OK, ROVE_ELOCKED, or ROVE_EIO (logged). roved serve and init
 * take it after DIR/roved.lock. */
int rove_lockfile_take_dir(rove_lockfile *l, const char *dir);

/* Releases a lock taken by rove_lockfile_take or rove_lockfile_take_dir;
 * nothing if not held. */
void rove_lockfile_release(rove_lockfile *l);

/* A file this process has just created (O_CREAT | O_EXCL: never one a
 * symlink led to) and holds open (fd, at path), in a directory another
 * user owns (the service's): given to the directory's owner when this
 * process is root, so that a command run as root (roved check of a
 * backup, a start typed in a root shell) does not leave a lock file that
 * locks the service out (attack forty-six). Nothing for a process not
 * root, a directory of root's, or a file of another user's; a failure is
 * warned about. Never call it for a file opened that was there: the
 * directory's owner may have put a link to root's files there. */
void rove_lockfile_follow_dir(const char *dir, int fd, const char *path);
/* The same for the directory path this process has just made (mkdir):
 * given to the owner of the directory it is in. */
void rove_lockfile_made_dir(const char *path);

#endif
