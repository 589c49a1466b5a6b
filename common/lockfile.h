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

#include <stdbool.h>

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

/* Whether this process may work in dir (a database's, a replica's, a
 * backup's destination): any process but root may; root only where root
 * alone controls the way - every directory from / to dir, and dir as far
 * as it exists, owned by root and writable by nobody else (a sticky one,
 * as /tmp, aside), no symbolic link of another user's on the way. A
 * command run as root in a directory another user owns would follow
 * what that user puts there or swaps in meanwhile (links to root's
 * files, a directory renamed under it: attacks forty-seven and
 * forty-eight) and leave files that user could not open (attack
 * forty-six); LMDB opens paths, so no open here can be pinned. dir
 * must be there, a directory, unless to_make (about to be made: then
 * its parent must be; check again once it is made, as another user may
 * make it or a link there in the moment between, attack fifty). ROVE_OK;
 * ROVE_ENOTFOUND, not said, when dir (or a parent) is not there and not
 * to_make; or ROVE_EPERM said (naming the directory and its owner, and
 * to run the command as that user). */
int rove_lockfile_dir_trusted(const char *dir, bool to_make);
/* Makes the directory dir (mode 0700) unless it is there, where this
 * process may work: rove_lockfile_dir_trusted before the mkdir (to_make)
 * and again once it is there, when a directory it made is removed again.
 * *made: whether it made dir (and kept it). ROVE_OK, or an error said
 * (ROVE_EPERM: not where root alone controls the way). */
int rove_lockfile_make_dir(const char *dir, bool *made);

#endif
