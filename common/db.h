/*
 * db.h - small helpers around LMDB shared by the server and the replica.
 *
 * Opening an environment (directory created mode 0700), converting LMDB
 * status codes to rove errors, and big-endian integer keys so that LMDB's
 * byte order is numeric order (and MDB_APPEND can be used).
 */
#ifndef ROVE_DB_H
#define ROVE_DB_H

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Opens (create != 0: creates) the environment in directory dir.
 * On success *env is the caller's, to close with mdb_env_close. */
int rove_db_open(const char *dir, int create, unsigned maxdbs, size_t mapsize, MDB_env **env);

/* What rove_db_create made, so that a creation that fails is taken back
 * whole (rove_db_unmake). */
typedef struct rove_db_made {
	bool dir;  /* the directory was not there before */
	bool lock; /* nor was LMDB's lock file */
} rove_db_made;

/* Creates a new environment in dir (made, mode 0700, if missing), which
 * must not hold one yet (else ROVE_EEXIST), and opens it into *env. On
 * failure what it made is removed again; when a later step of the
 * creation fails (the first transaction, on a full disk), the caller
 * closes *env and calls rove_db_unmake(dir, made): a failed command
 * leaves nothing behind that looks like a database, and nothing that
 * would stop the same command once the disk has room. */
int rove_db_create(const char *dir, unsigned maxdbs, size_t mapsize, MDB_env **env, rove_db_made *made);
/* Removes what rove_db_create made in dir: the data file, and the lock
 * file and the directory if they were not there before. Failures are
 * reported (warnings), not returned: it runs on a failure's way out. */
void rove_db_unmake(const char *dir, const rove_db_made *made);

/* How rove_db_open_any opened an environment. */
enum rove_db_access {
	ROVE_DB_WRITABLE = 0,
	/* Read only (MDB_RDONLY; write transactions fail): */
	ROVE_DB_READ_ROFS = 1,     /* on a read-only file system, without LMDB's lock file */
	ROVE_DB_READ_LOCKED = 2,   /* files this process may not write, but a lock file it may */
	ROVE_DB_READ_UNLOCKED = 3, /* files and lock file it may not write (MDB_NOLOCK) */
};

/* Opens the existing environment in dir for reading and writing, or,
 * when this process may not write it (a read-only file system, another
 * user's files), for reading only: *access says which. Read only and
 * without the lock file (ROVE_DB_READ_ROFS, ROVE_DB_READ_UNLOCKED), a
 * reader is unknown to the writers of other processes: a writer that
 * commits twice while it reads may reuse the pages it reads. Such a
 * reader notes the id of its first transaction (mdb_txn_id) and asks
 * rove_db_changed_since when it is done: true when what it read may have
 * been overwritten (read again, or say so). */
int rove_db_open_any(const char *dir, unsigned maxdbs, size_t mapsize, MDB_env **env, enum rove_db_access *access);
bool rove_db_changed_since(MDB_env *env, uint64_t txnid);
/* Opens the existing environment in dir to read, without LMDB's lock
 * file (MDB_NOLOCK): for a caller that keeps every other process out by
 * holding that file's first byte alone itself, as LMDB's users wait for
 * it (rove sync --repair's swap of a file). */
int rove_db_open_alone(const char *dir, unsigned maxdbs, size_t mapsize, MDB_env **env);
/* Opens the environment in dir as LMDB's first user while this process
 * holds the lock file's first byte alone (after rove_db_open_alone's
 * work): LMDB sets its lock file up anew for the data file as it is now,
 * then shares the byte, letting the processes that wait for it go on.
 * The lock file is not touched before (a close of it would drop the
 * caller's lock). */
int rove_db_open_first(const char *dir, unsigned maxdbs, size_t mapsize, MDB_env **env);

/* A named database and where its handle goes. */
typedef struct rove_db_table {
	const char *name;
	MDB_dbi *dbi;
} rove_db_table;

/* Opens the n named databases of a layout in txn (flags: MDB_CREATE to
 * create them). The handles stay valid once txn commits. */
int rove_db_open_tables(MDB_txn *txn, const rove_db_table *t, size_t n, unsigned flags);

/* After a write transaction that returned rc: whether to run it again,
 * whole, in a bigger map. Yes when rc is ROVE_EMAPFULL (a full map) and
 * the map was doubled (up to ROVE_MAX_MAPSIZE), at most
 * ROVE_MAX_MAP_GROWS times for one write (*grows counts them; start it
 * at 0). No transaction of this process may be open:
 *     int grows = 0;
 *     do rc = write_all(...); while (rove_db_grow_retry(env, rc, &grows)); */
bool rove_db_grow_retry(MDB_env *env, int rc, int *grows);

/* Maps an LMDB status to a rove error; logs unexpected ones with what,
 * and after LMDB's damage codes (a page or record that cannot be) the
 * hint set last, when one is. */
int rove_db_err(int mdb_rc, const char *what);
/* The words said after a damage code (a static string: "; 'rove sync
 * --repair' ..."), or NULL for none: what mends the file is the
 * program's to say (not thread-safe: set it before any thread). */
void rove_db_damage_hint(const char *hint);
/* Commits txn (it is gone either way): rove_db_err of the result, a
 * disk that filled up during the commit (LMDB: EIO) said to be full
 * (ROVE_ENOSPC) rather than failing. */
int rove_db_commit(MDB_txn *txn);

static inline void rove_be64_put(uint8_t out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		out[i] = (uint8_t)v;
		v >>= 8;
	}
}

static inline uint64_t rove_be64_get(const uint8_t in[8])
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | in[i];
	return v;
}

/* A fault rove_db_pages_check found: the page it is on (NULL: the file,
 * or a tree, as a whole), whether it is the free list's alone (its tree,
 * its entries, pages in it that a tree holds, pages in neither: a
 * compacting copy, which writes a new free list from the trees, leaves it
 * behind), and what is wrong, one line without the page's number. */
typedef void (*rove_db_page_fault_fn)(void *arg, const uint64_t *page, bool free_list, const char *what);
/* Walks the pages of env's file as read transaction txn's snapshot holds
 * them, reading the file (not the map) and checking each page before it
 * follows it: every tree's pages (the main one, the named tables, their
 * duplicates) are whole, hold only the flags a page at rest has, keep
 * their keys in order and are held by that tree alone; their headers'
 * counts are what the pages hold; every named table's header says the
 * LMDB flags table_flags (its program opens every table so, and keeps
 * nothing but tables in the main tree; -1: any, and plain entries there
 * too);
 * and every page to the last in use is in exactly one tree or listed
 * once, in order, in the free list (a free list naming a page in use
 * reads clean through LMDB, and the next writer overwrites it). Each
 * fault goes to fn; *npages says how many pages the file holds in use or
 * free. When txn's meta page is no longer in the file (a writer
 * committed twice since txn began), txn is renewed (a later snapshot:
 * mdb_txn_id tells which was walked), up to ROVE_PAGE_WALK_TRIES times,
 * then ROVE_ECHANGED; a rove error when the walk could not run (I/O,
 * memory). */
int rove_db_pages_check(MDB_env *env, MDB_txn *txn, int table_flags, rove_db_page_fault_fn fn, void *arg,
			uint64_t *npages);

/* rove_db_pages_check of the main tree and the named tables in tables
 * (a NULL-ended list) alone: no free list, and no sum of every page
 * (the other trees are not walked). What a writer checks, cheaply, of
 * the small tables it is about to write: LMDB trusts a page's nodes, and
 * a damaged one written corrupts the process's heap. */
int rove_db_pages_check_tables(MDB_env *env, MDB_txn *txn, int table_flags, const char *const *tables,
			       rove_db_page_fault_fn fn, void *arg);

/* An entry of a named table (its name as rove_db_pages_check's faults
 * write it; key of klen bytes, value of vlen) read whole from the file,
 * or (key NULL) the table itself, before its entries, val then the
 * count of entries its header says (a uint64_t); anything but ROVE_OK
 * stops the walk with that error. */
typedef int (*rove_db_entry_fn)(void *arg, const char *table, const void *key, size_t klen, const void *val,
				size_t vlen);
/* rove_db_pages_check's walk, which also gives entry every entry of a
 * named table whose page, and value's pages, check whole (a salvage of
 * a damaged file: what a fault keeps the walk from reading is not
 * given; an entry before the fault on its page is). Then, when pages
 * are in no tree nor in the free list (a tree lost them: its root's
 * number or its record in the main tree damaged), the entries of each
 * such page that reads whole as a leaf, under table ROVE_DB_LOST_PAGES
 * (a name no walk gives: it escapes a space), each page's after a call
 * without a key whose value is the page's number (a uint64_t): what
 * they were is the entry fn's to judge, by their bytes alone. */
#define ROVE_DB_LOST_PAGES "pages of no tree"
int rove_db_pages_salvage(MDB_env *env, MDB_txn *txn, int table_flags, rove_db_page_fault_fn fn, void *arg,
			  rove_db_entry_fn entry, void *entry_arg, uint64_t *npages);

/* Whether the free list of env reads whole, as a read transaction of
 * its own sees it (LMDB reads it in no write transaction; a writer calls
 * this before it begins): each entry a count then
 * that many page numbers, largest first, each past the meta pages and
 * not past the last page in use. LMDB trusts it: a count damaged on the
 * disk made the next writer read past its entry and crash (attack
 * sixty-nine). A walk of the list alone, not of the pages it names (a
 * page in use listed as free takes rove_db_pages_check). ROVE_OK;
 * ROVE_EPROTO with what is wrong in why; or a storage error. */
int rove_db_free_list_ok(MDB_env *env, char *why, size_t len);

/* Get/put a uint64 value under a string key in a meta database. */
int rove_db_get_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t *out);
int rove_db_put_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t v);
/* Calls fn(k, v, arg) for each entry of dbi, in key order (k and v point
 * into the map: valid until the txn ends or writes); fn returns ROVE_OK
 * to go on, and any other code ends the walk and is returned. what names
 * the table in errors. */
typedef int (*rove_db_fn)(const MDB_val *k, const MDB_val *v, void *arg);
int rove_db_each(MDB_txn *txn, MDB_dbi dbi, const char *what, rove_db_fn fn, void *arg);

/* Deletes the entry cursor c is on and puts c on the one after it (found
 * again from the deleted key: a cursor's place moves under a delete),
 * into k and v; *mrc: the cursor's answer (MDB_NOTFOUND past the last).
 * Keys of up to ROVE_DB_MAX_KEY bytes: a longer one (a damaged file's)
 * is ROVE_EPROTO, nothing deleted; what names the table in errors. */
#define ROVE_DB_MAX_KEY 511u /* LMDB's default key size limit */
int rove_db_del_next(MDB_cursor *c, MDB_val *k, MDB_val *v, int *mrc, const char *what);

/* The last and the first key of a table keyed by big-endian u64s (0 when
 * it is empty). */
int rove_db_last_u64(MDB_txn *txn, MDB_dbi dbi, uint64_t *out);
int rove_db_first_u64(MDB_txn *txn, MDB_dbi dbi, uint64_t *out);
/* String values: *out points into the map, valid until the txn ends. */
int rove_db_get_str(MDB_txn *txn, MDB_dbi dbi, const char *key, const char **out, size_t *len);
int rove_db_put_str(MDB_txn *txn, MDB_dbi dbi, const char *key, const char *v);

#endif
