#include "db.h"
#include "db_int.h"

#include "err.h"
#include "lockfile.h"
#include "log.h"
#include "rove_assert.h"
#include "rove_limits.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* What mends a damaged file, said after LMDB's damage codes (NULL:
 * nothing; rove_db_damage_hint). */
static const char *damage_hint;

void rove_db_damage_hint(const char *hint)
{
	damage_hint = hint;
}

int rove_db_err(int rc, const char *what)
{
	switch (rc) {
	case MDB_SUCCESS:
		return ROVE_OK;
	case MDB_NOTFOUND:
		return ROVE_ENOTFOUND;
	case MDB_KEYEXIST:
		return ROVE_EEXIST;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
		/* Handled by growing the map and writing again (rove_db_grow_retry). */
		rove_debug("%s: %s", what, mdb_strerror(rc));
		return ROVE_EMAPFULL;
	case ENOMEM:
		return ROVE_ENOMEM;
	case ENOSPC:
	case EDQUOT:
		rove_error("%s: the disk is full; nothing was written", what);
		return ROVE_ENOSPC;
	case EACCES:
	case EPERM:
		rove_error("%s: %s", what, mdb_strerror(rc));
		return ROVE_EACCES;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_BAD_TXN: /* (what follows a page not found in the transaction) */
	case MDB_INCOMPATIBLE:
		/* LMDB met a page or record that cannot be: said as damage
		 * (attack eighty-seven: a bare "cursor: MDB_BAD_TXN") */
		rove_error("%s: %s: the database's file may be damaged%s", what, mdb_strerror(rc),
			   damage_hint != NULL ? damage_hint : "");
		return ROVE_EDB;
	default:
		rove_error("%s: %s", what, mdb_strerror(rc));
		return ROVE_EDB;
	}
}

/* Whether env's filesystem is (nearly) full: less than
 * ROVE_DISK_FULL_SLACK left to its users. */
static bool env_disk_full(MDB_env *env)
{
	const char *path = NULL;
	struct statvfs sv;

	if (mdb_env_get_path(env, &path) != 0 || path == NULL || statvfs(path, &sv) != 0)
		return false;
	return (uint64_t)sv.f_bavail * sv.f_frsize < ROVE_DISK_FULL_SLACK;
}

int rove_db_commit(MDB_txn *txn)
{
	MDB_env *env = mdb_txn_env(txn);
	int rc = mdb_txn_commit(txn);

	/* LMDB answers a short write with EIO, which is how a disk filling
	 * up during the commit shows: told apart by the space left. */
	if (rc == EIO && env != NULL && env_disk_full(env))
		rc = ENOSPC;
	return rove_db_err(rc, "commit");
}

/* LMDB's files in an environment's directory. */
#define DATA_FILE "data.mdb"
#define LOCK_FILE "lock.mdb"
#define DATA_PATH_MAX 4096

/* dir/name into path; false if it does not fit. */
static bool dir_file(const char *dir, const char *name, char path[DATA_PATH_MAX])
{
	int n = snprintf(path, DATA_PATH_MAX, "%s/%s", dir, name);

	return n >= 0 && n < DATA_PATH_MAX;
}

/* An environment's data file: its path, and what stat says of it.
 * ROVE_ENOTFOUND if there is none, ROVE_EIO if it cannot be read. */
static int data_file(const char *dir, char path[DATA_PATH_MAX], struct stat *st)
{
	if (!dir_file(dir, DATA_FILE, path))
		return ROVE_EINVAL;
	if (stat(path, st) == 0)
		return ROVE_OK;
	if (errno == ENOENT)
		return ROVE_ENOTFOUND;
	int err = errno;
	rove_error("cannot read '%s': %s", path, strerror(err));
	return rove_err_errno(err);
}

/* Where check_length's walk of the freelist goes back to when a page it
 * reads lies past the file's end. */
static sigjmp_buf past_end;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(past_end, 1);
}

/* Free pages numbered from first on (LMDB's freelist, its table 0: each
 * entry a count n, then n page numbers), into *n; false if a page of the
 * freelist itself lies past the file's end (a SIGBUS, caught). Called at
 * open, before any other thread uses the environment. */
static bool free_from(MDB_env *env, size_t first, size_t *n)
{
	struct sigaction sa, old;
	MDB_txn *volatile txn = NULL;
	MDB_cursor *volatile c = NULL;
	volatile size_t count = 0;
	volatile bool ok = true;
	MDB_val k, v;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigbus;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &old) != 0)
		return false;
	if (sigsetjmp(past_end, 1) == 0) {
		MDB_txn *t;
		MDB_cursor *cur;
		int rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &t);
		if (rc == 0) {
			txn = t;
			rc = mdb_cursor_open(t, 0, &cur);
		}
		if (rc == 0) {
			c = cur;
			for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
				const size_t *ids = v.mv_data;
				if (v.mv_size < sizeof(size_t) || v.mv_size / sizeof(size_t) - 1 < ids[0]) {
					ok = false;
					break;
				}
				for (size_t i = 1; i <= ids[0]; i++)
					if (ids[i] >= first)
						count++;
			}
		}
		if (rc != 0 && rc != MDB_NOTFOUND)
			ok = false;
	} else {
		ok = false; /* a page of the freelist is past the end */
	}
	sigaction(SIGBUS, &old, NULL);
	if (c != NULL)
		mdb_cursor_close(c);
	if (txn != NULL)
		mdb_txn_abort(txn);
	*n = count;
	return ok;
}

/* A database file cut short (a partial copy, a disk that filled during a
 * restore) would be read through the map past its end: a SIGBUS at the
 * first such page, with no word of why. Refused at open instead. A file
 * may end before the last page in use when the pages past its end are
 * free (LMDB does not write pages a transaction freed again): those must
 * all be in the freelist. */
static int check_length(MDB_env *env, const char *dir)
{
	MDB_envinfo info;
	MDB_stat ms;
	struct stat st;
	char path[DATA_PATH_MAX];
	size_t pages, need, nfree = 0;
	int rc = mdb_env_info(env, &info);

	if (rc == 0)
		rc = mdb_env_stat(env, &ms);
	if (rc != 0)
		return rove_db_err(rc, dir);
	rc = data_file(dir, path, &st);
	if (rc == ROVE_ENOTFOUND) /* it was opened: removed since */
		rove_error("'%s' was removed while it was being opened", path);
	if (rc != ROVE_OK)
		return rc == ROVE_ENOTFOUND ? ROVE_EIO : rc;
	pages = (size_t)st.st_size / ms.ms_psize;
	need = info.me_last_pgno + 1;
	if (pages >= need || (pages >= 2 && free_from(env, pages, &nfree) && nfree >= need - pages))
		return ROVE_OK;
	rove_error("'%s' is cut short: %lld bytes, where its pages need %llu (a partial copy, or a disk that "
		   "filled?); put back a whole copy or a backup",
		   path, (long long)st.st_size, (unsigned long long)need * ms.ms_psize);
	return ROVE_EPROTO;
}

/* Zeros into fd from byte from up to byte to, and synced: the blocks of
 * a file where posix_fallocate is not supported. 0 or an errno value. */
static int zero_fill(int fd, off_t from, off_t to)
{
	static const char zeros[ROVE_ZERO_FILL_CHUNK];

	if (from >= to)
		return 0;
	while (from < to) {
		size_t n = to - from < (off_t)sizeof(zeros) ? (size_t)(to - from) : sizeof(zeros);
		ssize_t w = pwrite(fd, zeros, n, from);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return errno;
		if (w == 0)
			return ENOSPC;
		from += w;
	}
	return fdatasync(fd) == 0 ? 0 : errno;
}

/* Gives dir's lock file its disk blocks before mdb_env_open maps it
 * (LMDB sizes a new one with ftruncate and writes it through the map: on
 * a full disk, a SIGBUS at the first touch), also to one that is there
 * but has holes (left by a process that died so). 0, or an errno value:
 * ENOSPC or EDQUOT when the disk has no room for it (a lock file made
 * here is removed again). A lock file this process may not open for
 * writing is left to LMDB, which reads without it or fails (db_open). */
static int lock_file_ready(MDB_env *env, const char *dir)
{
	char path[DATA_PATH_MAX];
	unsigned readers = 0;
	struct stat st;
	bool made = true;
	off_t need, len;
	int fd, rc = mdb_env_get_maxreaders(env, &readers);

	if (rc != 0)
		return rc;
	if (!dir_file(dir, LOCK_FILE, path))
		return ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST) {
		made = false;
		/* Not through a link: LMDB would write its table into what
		 * it points at (a root's file, for a root's command in a
		 * directory someone else owns). */
		fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd < 0)
		return errno == ENOSPC || errno == EDQUOT || errno == ELOOP ? errno : 0;
	need = (off_t)(readers + ROVE_LMDB_LOCK_HEADER_SLOTS) * ROVE_LMDB_LOCK_SLOT_BYTES;
	if (fstat(fd, &st) != 0) {
		rc = errno;
	} else if (st.st_size >= need && (off_t)st.st_blocks * 512 >= st.st_size) {
		rc = 0; /* blocks behind every byte: the usual case, nothing to write */
	} else {
		/* LMDB maps the whole file when it is larger. */
		len = st.st_size > need ? st.st_size : need;
		rc = posix_fallocate(fd, 0, len);
		if (rc == EOPNOTSUPP || rc == EINVAL)
			rc = zero_fill(fd, st.st_size, len);
	}
	if (rc != 0 && made && unlink(path) != 0)
		rove_warn("cannot remove '%s' again: %s", path, strerror(errno));
	if (close(fd) != 0 && rc == 0)
		rc = errno;
	return rc;
}

/* LMDB's assertion (a page that cannot be: a damaged file): said, and
 * exit 1 instead of LMDB's abort (attack forty-eight: rove status, list,
 * report and sync on a damaged replica, roved serve and compact on a
 * damaged database, died with SIGABRT and LMDB's words alone). roved
 * check says more (check.c sets its own). */
static void db_assert(MDB_env *env, const char *msg)
{
	const char *dir = NULL;

	if (mdb_env_get_path(env, &dir) != 0 || dir == NULL)
		dir = "?";
	rove_error("the database in '%s' is damaged: LMDB stopped at an impossible page (%s); a replica: 'rove "
		   "sync --repair' makes it anew from what of it reads whole (if it cannot: move its directory "
		   "aside and 'rove init' anew, its changes not synced lost); a server's: restore a backup",
		   dir, msg);
	fflush(stderr);
	_exit(1);
}

/* mdb_env_open of dir with flags, in a new environment into *envp; the
 * LMDB status (the environment is closed again on failure). */
static int env_open_as(const char *dir, unsigned maxdbs, size_t mapsize, unsigned flags, bool ready,
		       MDB_env **envp);

static int env_open(const char *dir, unsigned maxdbs, size_t mapsize, unsigned flags, MDB_env **envp)
{
	return env_open_as(dir, maxdbs, mapsize, flags, true, envp);
}

/* env_open; ready: give the lock file its blocks first (lock_file_ready,
 * which opens and closes it: a close drops every lock this process holds
 * on it). */
static int env_open_as(const char *dir, unsigned maxdbs, size_t mapsize, unsigned flags, bool ready,
		       MDB_env **envp)
{
	MDB_env *env = NULL;
	int rc = mdb_env_create(&env);

	if (rc == 0)
		(void)mdb_env_set_assert(env, db_assert);
	if (rc == 0)
		rc = mdb_env_set_maxdbs(env, maxdbs);
	if (rc == 0)
		rc = mdb_env_set_mapsize(env, mapsize);
	if (rc == 0 && (flags & MDB_NOLOCK) == 0 && ready)
		rc = lock_file_ready(env, dir);
	if (rc == 0)
		rc = mdb_env_open(env, dir, flags, 0600);
	if (rc != 0) {
		mdb_env_close(env);
		return rc;
	}
	*envp = env;
	return 0;
}

/* After EACCES: " (FILE is uid N's, mode M; this process runs as uid U)" for the
 * first of the database's files this process may not open as asked (for
 * writing too when write), else ""; in buf. Attack forty-six: a lock.mdb
 * of root's beside a data.mdb and directory of the service's, the error
 * named neither. */
static const char *denied_file(const char *dir, bool write, char *buf, size_t len)
{
	static const char *const files[] = {DATA_FILE, LOCK_FILE};
	char path[DATA_PATH_MAX];
	struct stat st;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (dir_file(dir, files[i], path) && stat(path, &st) == 0 &&
		    access(path, write ? R_OK | W_OK : R_OK) != 0) {
			snprintf(buf, len, " (%s is uid %lu's, mode %03o; this process runs as uid %lu)", files[i],
				 (unsigned long)st.st_uid, (unsigned)(st.st_mode & 0777), (unsigned long)geteuid());
			return buf;
		}
	return "";
}

/* Whether the meta pages of the data file at path give a page size LMDB
 * can use: LMDB divides by it and reads the second meta page at it
 * unchecked (attack forty-nine: a page size of 0 killed serve, backup,
 * compact and rove with SIGFPE, a huge one with SIGBUS). A page without
 * LMDB's magic is left to LMDB, which refuses it. ROVE_OK, or
 * ROVE_EPROTO said. */
static int meta_sane(const char *path)
{
	uint32_t magic, psize[2] = {0, 0};
	uint8_t b[ROVE_LMDB_META_PSIZE_AT + 4];
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = ROVE_OK;

	if (fd < 0)
		return ROVE_OK; /* LMDB's open says why */
	for (int i = 0; i < 2 && rc == ROVE_OK; i++) {
		off_t at = i == 0 ? 0 : (off_t)psize[0];
		if (pread(fd, b, sizeof(b), at) != (ssize_t)sizeof(b))
			break; /* short: check_length's */
		memcpy(&magic, b + ROVE_LMDB_META_MAGIC_AT, 4);
		/* (LMDB refuses a file with either meta page unmarked: said so,
		 * with what to do, not "MDB_INVALID" three times and a repair
		 * that cannot be; attack eighty-eight) */
		if (magic != ROVE_LMDB_META_MAGIC) {
			/* (said once a process: a repair opens it three ways) */
			static char said[DATA_PATH_MAX];
			if (strcmp(said, path) != 0)
				rove_error("'%s' is not a whole database file: its meta page %d is not LMDB's (damaged, "
					   "or another file put there); restore a backup (a replica: move its directory "
					   "aside and 'rove init' anew, its pending changes lost)",
					   path, i);
			snprintf(said, sizeof(said), "%s", path);
			rc = ROVE_EPROTO;
			break;
		}
		memcpy(&psize[i], b + ROVE_LMDB_META_PSIZE_AT, 4);
		if (!rove_lmdb_psize_ok(psize[i]) || (i == 1 && psize[1] != psize[0])) {
			rove_error("'%s' is damaged: its meta page %d gives a page size of %lu; restore a backup (a "
				   "replica: move its directory aside and 'rove init' anew)",
				   path, i, (unsigned long)psize[i]);
			rc = ROVE_EPROTO;
		}
	}
	close(fd);
	return rc;
}

/* rove_db_open and rove_db_open_any: access NULL for read and write only. */
static int db_open(const char *dir, int create, unsigned maxdbs, size_t mapsize, MDB_env **envp,
		   enum rove_db_access *access)
{
	MDB_env *env = NULL;
	struct stat st;
	char path[DATA_PATH_MAX];
	int rc;

	rc = rove_lockfile_dir_trusted(dir, false);
	if (rc != ROVE_OK)
		return rc == ROVE_ENOTFOUND ? ROVE_ENOTFOUND : ROVE_EPERM; /* EPERM: said */
	if (create) {
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			int err = errno;
			rove_error("cannot create '%s': %s%s", dir, strerror(err),
			   err == ENOENT ? " (a directory above it is missing: create it first)" : "");
			return rove_err_errno(err);
		}
		/* Only its owner reads a database, also in a directory that was
		 * there before. */
		if (chmod(dir, 0700) != 0) {
			int err = errno;
			rove_error("cannot restrict '%s' to its owner: %s", dir, strerror(err));
			return rove_err_errno(err);
		}
	} else if (stat(dir, &st) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return ROVE_ENOTFOUND;
		/* There, perhaps, but not for this user: not "no database". */
		int err = errno;
		rove_error("cannot read '%s': %s", dir, strerror(err));
		return rove_err_errno(err);
	} else if (!S_ISDIR(st.st_mode)) {
		return ROVE_ENOTFOUND;
	} else {
		/* An existing database only: LMDB would make a new one in place
		 * of a missing or empty file (a failed copy), and a failed
		 * command changes nothing. */
		rc = data_file(dir, path, &st);
		if (rc != ROVE_OK)
			return rc;
		if (st.st_size == 0) {
			rove_error("'%s' is empty (a failed copy?); put back a whole copy or a backup", path);
			return ROVE_EPROTO;
		}
		rc = meta_sane(path);
		if (rc != ROVE_OK)
			return rc;
	}
	/* $ROVE_MAPSIZE_MB starts with a smaller map (tests of map growth). */
	if (getenv("ROVE_MAPSIZE_MB") != NULL && atol(getenv("ROVE_MAPSIZE_MB")) > 0)
		mapsize = (size_t)atol(getenv("ROVE_MAPSIZE_MB")) << 20;
	rc = env_open(dir, maxdbs, mapsize, MDB_NOTLS, &env);
	if (access != NULL)
		*access = ROVE_DB_WRITABLE;
	if (access != NULL && (rc == EROFS || rc == EACCES)) {
		/* Read only: on a read-only file system LMDB reads without its
		 * lock file (it cannot be opened for writing); else with it
		 * when it may be written (its readers' table), else without
		 * (MDB_NOLOCK). Without it, writers do not see this reader
		 * (rove_db_changed_since). */
		*access = rc == EROFS ? ROVE_DB_READ_ROFS : ROVE_DB_READ_LOCKED;
		rc = env_open(dir, maxdbs, mapsize, MDB_NOTLS | MDB_RDONLY, &env);
		if (rc == EACCES) {
			*access = ROVE_DB_READ_UNLOCKED;
			rc = env_open(dir, maxdbs, mapsize, MDB_NOTLS | MDB_RDONLY | MDB_NOLOCK, &env);
		}
	}
	if (rc == ENOSPC || rc == EDQUOT) {
		rove_error("no space left on the disk holding '%s': its database files cannot be set up there; "
			   "free some space and try again",
			   dir);
		return ROVE_ENOSPC;
	}
	if (rc == ELOOP) {
		rove_error("'%s/%s' is a symbolic link: not written through; remove it (LMDB makes the file anew)", dir,
			   LOCK_FILE);
		return ROVE_EACCES;
	}
	if (rc == EACCES || rc == EPERM) {
		/* The files are another user's (roved's, say): said with what
		 * was asked of them, and which file it is. */
		rove_error("cannot open the database in '%s' for %s: %s%s", dir, access != NULL ? "reading" : "writing",
			   strerror(rc), denied_file(dir, access == NULL, path, sizeof(path)));
		return ROVE_EACCES;
	}
	if (rc != 0)
		return rove_db_err(rc, dir);
	rc = check_length(env, dir);
	if (rc != ROVE_OK) {
		mdb_env_close(env);
		return rc;
	}
	*envp = env;
	return ROVE_OK;
}

int rove_db_open(const char *dir, int create, unsigned maxdbs, size_t mapsize, MDB_env **envp)
{
	return db_open(dir, create, maxdbs, mapsize, envp, NULL);
}

/* Removes dir/name; a failure is reported, not returned (a cleanup). */
static void remove_file(const char *dir, const char *name)
{
	char path[DATA_PATH_MAX];

	if (dir_file(dir, name, path) && unlink(path) != 0 && errno != ENOENT)
		rove_warn("cannot remove '%s': %s", path, strerror(errno));
}

int rove_db_create(const char *dir, unsigned maxdbs, size_t mapsize, MDB_env **envp, rove_db_made *made)
{
	char path[DATA_PATH_MAX];
	struct stat st;
	int rc;

	made->dir = false;
	made->lock = false;
	if (rove_lockfile_dir_trusted(dir, true) != ROVE_OK)
		return ROVE_EPERM; /* said */
	rc = data_file(dir, path, &st);
	if (rc == ROVE_OK)
		return ROVE_EEXIST;
	if (rc != ROVE_ENOTFOUND)
		return rc;
	/* A link there that leads nowhere: LMDB would make its target. */
	if (dir_file(dir, DATA_FILE, path) && lstat(path, &st) == 0) {
		rove_error("'%s' is there and is no database (a symbolic link?): not made through it", path);
		return ROVE_EINVAL;
	}
	rc = rove_lockfile_make_dir(dir, &made->dir);
	if (rc != ROVE_OK)
		return rc; /* said; a directory it made is gone again */
	rc = ROVE_ENOTFOUND; /* no data file: made next */
	if (!dir_file(dir, LOCK_FILE, path))
		rc = ROVE_EINVAL;
	else
		made->lock = stat(path, &st) != 0 && errno == ENOENT;
	if (rc == ROVE_ENOTFOUND)
		rc = db_open(dir, 1, maxdbs, mapsize, envp, NULL);
	if (rc != ROVE_OK)
		rove_db_unmake(dir, made);
	return rc;
}

void rove_db_unmake(const char *dir, const rove_db_made *made)
{
	remove_file(dir, DATA_FILE);
	if (made->lock)
		remove_file(dir, LOCK_FILE);
	if (made->dir && rmdir(dir) != 0 && errno != ENOENT)
		rove_warn("cannot remove '%s': %s", dir, strerror(errno));
}

int rove_db_open_any(const char *dir, unsigned maxdbs, size_t mapsize, MDB_env **envp, enum rove_db_access *access)
{
	return db_open(dir, 0, maxdbs, mapsize, envp, access);
}

int rove_db_open_alone(const char *dir, unsigned maxdbs, size_t mapsize, MDB_env **env)
{
	int rc = env_open(dir, maxdbs, mapsize, MDB_NOTLS | MDB_RDONLY | MDB_NOLOCK, env);

	return rc == 0 ? ROVE_OK : rove_db_err(rc, "open");
}

int rove_db_open_first(const char *dir, unsigned maxdbs, size_t mapsize, MDB_env **env)
{
	int rc = env_open_as(dir, maxdbs, mapsize, MDB_NOTLS, false, env);

	return rc == 0 ? ROVE_OK : rove_db_err(rc, "open");
}

bool rove_db_changed_since(MDB_env *env, uint64_t txnid)
{
	MDB_envinfo info;

	/* A write transaction reuses the pages that transaction txnid + 1
	 * freed from txnid's tree only from txnid + 3 on, and writes them
	 * before it commits: once the last committed one is past txnid + 1,
	 * they may have been overwritten. */
	return mdb_env_info(env, &info) != 0 || (uint64_t)info.me_last_txnid > txnid + 1;
}

int rove_db_get_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t *out)
{
	MDB_val k = {strlen(key), (void *)key}, v;
	int rc = mdb_get(txn, dbi, &k, &v);

	if (rc != 0)
		return rove_db_err(rc, key);
	if (v.mv_size != 8)
		return ROVE_EPROTO;
	*out = rove_be64_get(v.mv_data);
	return ROVE_OK;
}

int rove_db_put_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t val)
{
	uint8_t buf[8];
	MDB_val k = {strlen(key), (void *)key}, v = {8, buf};

	rove_be64_put(buf, val);
	return rove_db_err(mdb_put(txn, dbi, &k, &v, 0), key);
}

int rove_db_get_str(MDB_txn *txn, MDB_dbi dbi, const char *key, const char **out, size_t *len)
{
	MDB_val k = {strlen(key), (void *)key}, v;
	int rc = mdb_get(txn, dbi, &k, &v);

	if (rc != 0)
		return rove_db_err(rc, key);
	*out = v.mv_data;
	*len = v.mv_size;
	return ROVE_OK;
}

int rove_db_put_str(MDB_txn *txn, MDB_dbi dbi, const char *key, const char *val)
{
	MDB_val k = {strlen(key), (void *)key}, v = {strlen(val), (void *)val};

	return rove_db_err(mdb_put(txn, dbi, &k, &v, 0), key);
}

/* Doubles the map (up to ROVE_MAX_MAPSIZE). */
static int grow(MDB_env *env)
{
	MDB_envinfo info;
	size_t next;
	int rc = mdb_env_info(env, &info);

	if (rc != 0)
		return rove_db_err(rc, "env info");
	if (info.me_mapsize >= ROVE_MAX_MAPSIZE) {
		rove_error("the database reached its largest size (%zu MiB)", info.me_mapsize >> 20);
		return ROVE_EMAPFULL;
	}
	next = info.me_mapsize * 2 > ROVE_MAX_MAPSIZE ? ROVE_MAX_MAPSIZE : info.me_mapsize * 2;
	rc = mdb_env_set_mapsize(env, next);
	if (rc != 0)
		return rove_db_err(rc, "map resize");
	rove_info("database map grown to %zu MiB", next >> 20);
	return ROVE_OK;
}

bool rove_db_grow_retry(MDB_env *env, int rc, int *grows)
{
	if (rc != ROVE_EMAPFULL || *grows >= ROVE_MAX_MAP_GROWS)
		return false;
	(*grows)++;
	return grow(env) == ROVE_OK;
}

int rove_db_del_next(MDB_cursor *c, MDB_val *k, MDB_val *v, int *mrc, const char *what)
{
	uint8_t at[ROVE_DB_MAX_KEY];
	int rc;

	/* Longer than LMDB takes: a damaged file's (a node's size). */
	if (k->mv_size > sizeof(at)) {
		rove_error("%s: a key of %zu bytes (damaged)", what, k->mv_size);
		*mrc = MDB_NOTFOUND;
		return ROVE_EPROTO;
	}
	memcpy(at, k->mv_data, k->mv_size);
	k->mv_data = at;
	rc = rove_db_err(mdb_cursor_del(c, 0), what);
	*mrc = rc == ROVE_OK ? mdb_cursor_get(c, k, v, MDB_SET_RANGE) : MDB_NOTFOUND;
	return rc;
}

int rove_db_free_list_ok(MDB_env *env, char *why, size_t len)
{
	MDB_envinfo info;
	MDB_txn *txn = NULL;
	MDB_cursor *c;
	MDB_val k, v;
	int mrc, rc = rove_db_err(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), "begin");

	/* (the last page in use as of the snapshot: read after it began) */
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_env_info(env, &info), "env info");
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_cursor_open(txn, 0 /* FREE_DBI */, &c), "free list cursor");
	if (rc != ROVE_OK) {
		if (txn != NULL)
			mdb_txn_abort(txn);
		return rc;
	}
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == ROVE_OK && mrc == 0;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		const uint8_t *p = v.mv_data;
		uint64_t n, prev = UINT64_MAX;
		if (v.mv_size < sizeof(uint64_t) || v.mv_size % sizeof(uint64_t) != 0) {
			snprintf(why, len, "an entry of %zu bytes, not a count and page numbers", v.mv_size);
			rc = ROVE_EPROTO;
			break;
		}
		memcpy(&n, p, sizeof(n));
		if (n != v.mv_size / sizeof(uint64_t) - 1) {
			snprintf(why, len, "an entry counts %llu pages and holds %zu", (unsigned long long)n,
				 v.mv_size / sizeof(uint64_t) - 1);
			rc = ROVE_EPROTO;
			break;
		}
		for (uint64_t i = 1; i <= n; i++) {
			uint64_t pg;
			memcpy(&pg, p + i * sizeof(uint64_t), sizeof(pg));
			if (pg < 2 || pg > info.me_last_pgno || pg >= prev) {
				snprintf(why, len, "an entry lists page %llu (%s)", (unsigned long long)pg,
					 pg < 2		       ? "a meta page"
					 : pg > info.me_last_pgno ? "past the last page in use"
								  : "out of order");
				rc = ROVE_EPROTO;
				break;
			}
			prev = pg;
		}
	}
	if (rc == ROVE_OK && mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, "free list");
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	return rc;
}

int rove_db_each(MDB_txn *txn, MDB_dbi dbi, const char *what, rove_db_fn fn, void *arg)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc = rove_db_err(mdb_cursor_open(txn, dbi, &c), "cursor");
	int mrc;

	if (rc != ROVE_OK)
		return rc;
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == ROVE_OK && mrc == 0;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
		rc = fn(&k, &v, arg);
	if (rc == ROVE_OK && mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, what);
	mdb_cursor_close(c);
	return rc;
}

static int edge_u64(MDB_txn *txn, MDB_dbi dbi, MDB_cursor_op op, uint64_t *out)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc = rove_db_err(mdb_cursor_open(txn, dbi, &c), "cursor");

	if (rc != ROVE_OK)
		return rc;
	rc = mdb_cursor_get(c, &k, &v, op);
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND) {
		*out = 0;
		return ROVE_OK;
	}
	if (rc != 0)
		return rove_db_err(rc, op == MDB_LAST ? "last key" : "first key");
	if (k.mv_size != 8)
		return ROVE_EPROTO;
	*out = rove_be64_get(k.mv_data);
	return ROVE_OK;
}

int rove_db_last_u64(MDB_txn *txn, MDB_dbi dbi, uint64_t *out)
{
	return edge_u64(txn, dbi, MDB_LAST, out);
}

int rove_db_first_u64(MDB_txn *txn, MDB_dbi dbi, uint64_t *out)
{
	return edge_u64(txn, dbi, MDB_FIRST, out);
}

int rove_db_open_tables(MDB_txn *txn, const rove_db_table *t, size_t n, unsigned flags)
{
	for (size_t i = 0; i < n; i++) {
		int rc = mdb_dbi_open(txn, t[i].name, flags, t[i].dbi);
		if (rc != 0)
			return rove_db_err(rc, t[i].name);
	}
	return ROVE_OK;
}
