/*
 * store.h - the server's LMDB database: the sync engine's tables, and
 * the one place that reads and writes them.
 *
 * One environment, these named databases:
 *   meta     string key -> value   (format version, server node, clock;
 *                                    the policy keeps its own keys here)
 *   records  coll(1) id(16)       -> record (proto's record encoding)
 *   oplog    seq(8, big-endian)   -> op, with seq and author (appended in
 *                                    order, so MDB_APPEND applies)
 *   opids    op id(16)            -> the answer given to that op, so a push
 *                                    sent twice gets the same answer: an
 *                                    accepted op's for good, a refused
 *                                    op's while its refusal is kept
 *   users    login                -> role(1) flags(1: disabled) token
 *                                    hash(32) epoch(8) last sync(8, ms)
 *                                    territory codes, each NUL-terminated
 *   rejects  n(8)                 -> a refused op with author and reason
 *                                    (proto's rejection encoding)
 *   rejidx   scope NUL n(8)       -> refusals by the scopes that may list
 *                                    them: the policy's -> empty;
 *                                    "a:AUTHOR" (the store's) -> bytes(8)
 *                                    and the refusal's other scopes, each
 *                                    NUL-terminated
 *   scopelog scope NUL seq(8)     -> moved(1): ops by the scopes they touch
 *   scoperec scope NUL coll id    -> the record's bytes, exactly as records
 *                                    holds them (a covering index: a scope's
 *                                    snapshot reads nothing else), or empty
 *                                    (put by a roved before format 5: not
 *                                    covered, read records)
 *   children coll id coll id      -> (empty): records by the record they
 *                                    belong to (the schema's parent)
 *   counters name                 -> u64, named by their users (the
 *                                    policy's, e.g. a rep's claims on a day);
 *            "rejects:" AUTHOR    -> count(8) bytes(8) dropped(8) of the
 *                                    author's refusals kept and dropped
 *   runs     n(8)                 -> start seq(8) run id(16): one entry per
 *                                    start of the server (see rove_run)
 *   admreqs  request id(16) login -> time(8, ms) answer: admin requests
 *                                    answered, by who sent them, with the
 *                                    answer given (a whole message)
 *   admage   n(8)                 -> time(8) bytes(8) request id(16) login:
 *                                    admreqs in the order they were written,
 *                                    to drop the oldest; "admreqs:bytes" in
 *                                    counters sums their answers' bytes
 *                                    (made by a roved that knows them, on
 *                                    its first open: no format change)
 * and the tables of the store's user, opened with these (the policy's
 * own: policy_store.h). Scopes are short strings the policy chooses
 * (policy.h); to the store they are names of index ranges. The sequence
 * head is the oplog's last key: no second copy to drift.
 *
 * Only the store (store.c, store_index.c, store_reject.c, store_maint.c) and the
 * policy's own tables (policy_store.c) touch LMDB's tables; everything
 * else asks them. Every function takes the caller's transaction and
 * returns a rove error (ROVE_ENOTFOUND for what is absent). Values they
 * hand back are copies in their out-parameters, except an MDB_val raw:
 * bytes in the map, valid until the transaction ends or writes. Walks
 * call a function for each item in key order; it returns ROVE_OK to go
 * on, and any other code ends the walk and is returned (callers that
 * stop on a find use ROVE_EEXIST).
 */
#ifndef ROVE_STORE_H
#define ROVE_STORE_H

#include "auth.h"
#include "db.h"
#include "proof.h"
#include "proto.h"
#include "record.h"

#include <lmdb.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* The layout of a server database; one made with another is refused at
 * open (ROVE_EVERSION). 2: refused ops in proto's rejection encoding.
 * 3: runs; refused ops indexed by scope and author (rejidx), and bounded.
 * 4: users can be disabled and have a last sync; a database of format 3
 * is brought to 4 when it is opened (its users enabled, never synced).
 * 5: scoperec's entries hold their records' bytes (in the scopes the
 * policy says keep copies), refreshed with every write of the record; a database of format 4 is brought to 5 when it is
 * opened, its entries left empty (not covered) until their records are
 * written again. An older roved must not write it: it would leave the
 * copies behind the records.
 * 6: records (and their copies) are written in record format 2
 * (proto.h, ROVE_RECORD_FORMAT); those of format 1 are read as they are
 * until written again. Only the number changes, so that an older roved,
 * which reads format 1 only, refuses the database.
 * 7: the policy keeps the live customers by the dealer they name
 * (policy_store.h, bydealer), made at the first start after the
 * upgrade. Only the number changes, so that an older roved, which
 * would write customers without it, refuses the database. */
#define ROVE_STORE_FORMAT 7
/* The meta key (u64 1) that says every scoperec entry of a scope that
 * keeps copies (rove_policy_scope_copies) covers its record:
 * set in a database made with format 5, and by the fill of an upgraded
 * one once it found nothing more to fill (rove_store_scoped_fill). */
#define ROVE_STORE_COVERED "scoperec_covered"
/* meta: the key of proofs of the server's clock (proof.h), made by the
 * engine once (ROVE_PROOF_KEY bytes). */
#define ROVE_STORE_PROOF_KEY "clock:proof-key"

/* The index scopes a refused op is listed under, chosen by the policy
 * (territories: "t:CODE"); the store adds its own by author ("a:LOGIN",
 * or "x:LOGIN" for a refusal kept apart). A refusal kept apart (the policy
 * says which: attempts at what the rules keep from the user) is bounded
 * apart from the author's others, so that others cannot push it out. */
typedef struct rove_reject_scopes {
	uint32_t n;
	char s[ROVE_MAX_REJECT_SCOPES][ROVE_MAX_SCOPE_LEN + 1];
	bool apart;
} rove_reject_scopes;

typedef struct rove_user {
	char name[ROVE_MAX_NAME + 1];
	int role;       /* enum rove_role */
	uint64_t epoch; /* bumped whenever what the user may see changes */
	bool disabled;  /* every request of theirs is refused */
	uint64_t synced_ms; /* when they last pushed or pulled (0: never), to
			     * within ROVE_SYNC_NOTE_MS */
	uint32_t nterr;
	char terr[ROVE_MAX_USER_TERRITORIES][ROVE_MAX_NAME + 1];
} rove_user;

/* A cursor the writer keeps on an index table for keys under prefix. */
typedef struct rove_store_cursor {
	MDB_cursor *c;
	MDB_dbi dbi;
	uint8_t len;
	uint8_t prefix[ROVE_MAX_SCOPE_LEN + 2];
} rove_store_cursor;

typedef struct rove_store {
	MDB_env *env;
	MDB_dbi meta, records, oplog, opids, users, rejects, rejidx;
	MDB_dbi scopelog, scoperec, children, counters, runs;
	MDB_dbi admreqs, admage; /* opened by rove_store_open; by _ro where they exist */
	bool has_admreqs;        /* they are open */
	uint64_t node; /* this server's node number, for its own stamps */
	/* The writer's: the transaction of rove_store_batch_begin (NULL:
	 * none) and its cursors on the index tables, oldest first. */
	MDB_txn *batch;
	uint32_t ncursors;
	rove_store_cursor cursors[ROVE_STORE_CURSORS];
	rove_buf enc; /* the batch's records are encoded here */
	/* Set when a write found the file older than the last commit (a
	 * copy written over it while open); read by rove_store_watch. */
	atomic_bool overwritten;
} rove_store;

/* A run: the stretch of the server's history written between one start
 * of the server and the next. Every start begins a new run with a random
 * id, at the sequence number after the head. A copy of the database
 * taken at any time and brought back later starts a run of its own, so a
 * replica that names a run and a sequence number in it can be told
 * whether this server's history up to there is the one it synced with:
 * the run must be here, and the number no later than where the run ends
 * here (the next run's start, or the head). */
typedef struct rove_run {
	uint64_t start; /* the first sequence number it wrote (or would have) */
	rove_uuid id;
} rove_run;

/* Creates a new database in dir (refusing an existing one) with the
 * store's tables, the nmore tables of more, and one admin user named
 * admin (a valid login: the caller's to check); writes the admin's token
 * into token. */
int rove_store_init(const char *dir, const rove_db_table *more, size_t nmore, const char *admin,
		    char token[ROVE_TOKEN_HEX + 1]);
/* Opens the database in dir, and the nmore tables of more in it; one of
 * the format before this one is brought to this one first (durably). */
int rove_store_open(const char *dir, rove_store *st, const rove_db_table *more, size_t nmore);
/* Opens the database in dir for reading only, as rove_db_open_any does
 * (writable when it may be, else read only, without the lock file when
 * that cannot be written: *access says which); one of another format is
 * refused (ROVE_EVERSION), never brought up to date. */
int rove_store_open_ro(const char *dir, rove_store *st, const rove_db_table *more, size_t nmore,
		       enum rove_db_access *access);
void rove_store_close(rove_store *st);

/* Transactions, each the caller's to end: a write one, or a read-only
 * one (nested in parent, or NULL). rove_store_commit ends it whatever it
 * returns; rove_store_abort takes NULL too. */
int rove_store_begin(rove_store *st, MDB_txn *parent, bool write, MDB_txn **txn);
int rove_store_commit(MDB_txn *txn);
void rove_store_abort(MDB_txn *txn);

/* Puts into the index tables (scopelog, scoperec, children) in txn, a
 * write transaction, go through cursors kept per key prefix until
 * rove_store_batch_end, which must come before txn ends: a put next to
 * the last one under its prefix (an op's seq, a rep's new records) is
 * found without a search from the root. Puts in any other transaction
 * (a nested one) are unaffected. For the thread that writes only. */
void rove_store_batch_begin(rove_store *st, MDB_txn *txn);
void rove_store_batch_end(rove_store *st);

/* Begins a new run (durably) and loads every run, oldest first, into
 * *runs (the caller frees it); *n is at least 1, the last being the new
 * one. */
int rove_store_run_start(rove_store *st, rove_run **runs, size_t *n);
/* What a database to serve must hold, checked at once when it opens
 * (roved check reads it all): users, and records exactly when it has
 * ops (compaction keeps the latest op and its record). ROVE_EPROTO,
 * said, for a table emptied by damage; a served one would answer every
 * login "authentication failed", or every pull with nothing. */
int rove_store_sound(rove_store *st, const char *dir);

/* Copies the database, consistent as of one moment, into the directory
 * dest (created, or empty), while servers may be writing to it. */
int rove_store_backup(const char *dir, const char *dest);
/* The pages of st's file (in dir, for the words), walked as roved check
 * walks them, before a command follows them: damage in a tree is said
 * and ROVE_EPROTO; damage to the free list alone is said and, for a
 * backup (whose compacting copy writes a new free list), let through,
 * else ROVE_EPROTO (compaction would write where the free list says).
 * Read without the lock file (unlocked; txnid the read's first), faults
 * met while a writer committed are said as a torn read (ROVE_EIO). */
int rove_store_pages_sound(rove_store *st, const char *dir, bool backup, bool unlocked, uint64_t txnid);
/* The same for the database in dir, opened alone (no table read, nothing
 * written: a command that writes walks first). */
int rove_store_pages_sound_dir(const char *dir, bool backup);

/* What rove_store_watch saw of the database file last (zeroed at
 * first): LMDB's file never goes back or shrinks while it is open. */
typedef struct rove_store_watched {
	uint64_t txnid; /* its latest transaction, as its meta pages say */
	uint64_t size;  /* its size in bytes */
} rove_store_watched;

/* Whether the database st has open is still the one in its directory:
 * ROVE_OK, or ROVE_EIO with *why saying what changed under it - its file
 * removed or another put in its place, or it shrunk or went back to an
 * older transaction (a copy written over it; a write by the server since
 * may hide the latter). What cannot be looked at counts as unchanged. */
int rove_store_watch(rove_store *st, rove_store_watched *w, const char **why);

/* ---- admin requests remembered ---- */

/* The answer given to admin request `request` of user login, copied into
 * reply (reset first); ROVE_ENOTFOUND when none is kept. */
int rove_store_admreq_get(rove_store *st, MDB_txn *txn, const rove_uuid *request, const char *login,
			  rove_buf *reply);
/* Keeps answer (len bytes: a whole message) as the one given to request
 * of login at now_ms, and drops the oldest kept answers past the bounds
 * (ROVE_ADMIN_REQ_KEEP_MS, ROVE_MAX_ADMIN_REQS, ROVE_MAX_ADMIN_REQ_BYTES);
 * never this one. ROVE_EEXIST if one is kept already. */
int rove_store_admreq_put(rove_store *st, MDB_txn *txn, const rove_uuid *request, const char *login,
			  uint64_t now_ms, const void *answer, size_t len);
/* Drops every kept answer. */
int rove_store_admreq_clear(rove_store *st, MDB_txn *txn);
/* How many answers are kept (admage's entries), and the count of their
 * bytes. */
int rove_store_admreq_usage(rove_store *st, MDB_txn *txn, uint64_t *count, uint64_t *bytes);
/* Calls fn for each kept answer in admage's order: its number there, the
 * answer's size admage says, and the size admreqs holds (-1: none there;
 * ROVE_ADMREQ_DAMAGED: the entry is not one, size 0, and the walk goes
 * on). None for a database from before the tables. */
#define ROVE_ADMREQ_DAMAGED (-2)
typedef int (*rove_admreq_fn)(uint64_t n, uint64_t size, int64_t held, void *arg);
int rove_store_admreq_each(rove_store *st, MDB_txn *txn, rove_admreq_fn fn, void *arg);

/* ---- meta and counters ---- */

/* A u64 under key in meta. */
int rove_store_meta_get(rove_store *st, MDB_txn *txn, const char *key, uint64_t *v);
int rove_store_meta_put(rove_store *st, MDB_txn *txn, const char *key, uint64_t v);
/* len bytes under key in meta: ROVE_ENOTFOUND when there are none,
 * ROVE_EPROTO when what is there is not len bytes. */
int rove_store_meta_bytes_get(rove_store *st, MDB_txn *txn, const char *key, void *out, size_t len);
/* The key of proofs of the clock (meta ROVE_STORE_PROOF_KEY, proof.h)
 * into key: ROVE_OK, ROVE_ENOTFOUND (none), ROVE_EPROTO (damaged: the
 * wrong size, or zeros), or the store's error. */
int rove_store_proof_key_get(rove_store *st, MDB_txn *txn, uint8_t key[ROVE_PROOF_KEY]);
int rove_store_meta_bytes_put(rove_store *st, MDB_txn *txn, const char *key, const void *v, size_t len);
/* A named counter: 0 until it is put. */
int rove_store_counter_get(rove_store *st, MDB_txn *txn, const char *name, uint64_t *v);
int rove_store_counter_put(rove_store *st, MDB_txn *txn, const char *name, uint64_t v);

/* ---- users ---- */

int rove_store_user_get(rove_store *st, MDB_txn *txn, const char *name, rove_user *u,
			uint8_t hash[ROVE_HASH_BYTES]);
int rove_store_user_put(rove_store *st, MDB_txn *txn, const rove_user *u,
			const uint8_t hash[ROVE_HASH_BYTES]);
/* Calls fn with every user's login and role (enum rove_role), in login
 * order; the logins are read first, so fn may write users. */
typedef int (*rove_user_fn)(const char *login, int role, void *arg);
int rove_store_each_user(rove_store *st, MDB_txn *txn, rove_user_fn fn, void *arg);
/* The login of a user whose login is name but for ASCII case, into found
 * (empty if none): logins are unique ignoring case, and exact otherwise.
 * A walk of the users (administration and refusals are rare). */
int rove_store_user_like(rove_store *st, MDB_txn *txn, const char *name, char found[ROVE_MAX_NAME + 1]);

/* ---- records ---- */

int rove_store_record_get(rove_store *st, MDB_txn *txn, uint8_t coll, const rove_uuid *id, rove_record *rec);
/* Puts rec; *stored (NULL: not wanted) gets its bytes as stored, in the
 * store's buffer: valid until the next record put or the store closes. */
int rove_store_record_put(rove_store *st, MDB_txn *txn, const rove_record *rec, MDB_val *stored);
/* Forgets a record (compaction's, for tombstones nothing needs): the
 * caller drops its index entries. ROVE_OK also when it is absent. */
int rove_store_record_del(rove_store *st, MDB_txn *txn, const uint8_t key[ROVE_RECORD_KEY]);
/* A record's bytes as stored (proto's record encoding), by record key. */
int rove_store_record_raw(rove_store *st, MDB_txn *txn, const uint8_t key[ROVE_RECORD_KEY], MDB_val *raw);
/* Calls fn with the key and bytes of each record whose key comes after
 * the after_len bytes at after (all of them for after_len 0). */
typedef int (*rove_raw_fn)(const uint8_t key[ROVE_RECORD_KEY], const MDB_val *raw, void *arg);
int rove_store_each_record(rove_store *st, MDB_txn *txn, const uint8_t *after, size_t after_len, rove_raw_fn fn,
			   void *arg);

/* ---- the indexes (store_index.c) ---- */

/* A record key (of a record, or of an index entry's record): fn's
 * argument in the walks of the indexes, a copy. */
typedef int (*rove_key_fn)(const uint8_t key[ROVE_RECORD_KEY], void *arg);

/* children: child is listed under parent (both record keys). */
int rove_store_child_put(rove_store *st, MDB_txn *txn, const uint8_t parent[ROVE_RECORD_KEY],
			 const uint8_t child[ROVE_RECORD_KEY]);
/* children: child is no longer listed under parent (absent or not). */
int rove_store_child_del(rove_store *st, MDB_txn *txn, const uint8_t parent[ROVE_RECORD_KEY],
			 const uint8_t child[ROVE_RECORD_KEY]);
/* Calls fn with the record key of each child of parent, in key order:
 * those of collection coll, or all of them when coll is 0. fn may write
 * to other tables. */
int rove_store_each_child(rove_store *st, MDB_txn *txn, const uint8_t parent[ROVE_RECORD_KEY], uint8_t coll,
			  rove_key_fn fn, void *arg);

/* scoperec: record rec is in scope (put), is not (del: absent or not),
 * *out whether it is (has). put's bytes, if not NULL, are the record's as
 * the records table holds them (rove_store_record_put's *stored, or
 * rove_store_record_raw's): the entry covers the record, and must be put
 * again whenever the record is. NULL: an entry without a copy (the
 * caller's choice of scope; its snapshot reads the records table). */
int rove_store_scoped_put(rove_store *st, MDB_txn *txn, const char *scope, const uint8_t rec[ROVE_RECORD_KEY],
			  const MDB_val *bytes);
int rove_store_scoped_del(rove_store *st, MDB_txn *txn, const char *scope, const uint8_t rec[ROVE_RECORD_KEY]);
int rove_store_scoped_has(rove_store *st, MDB_txn *txn, const char *scope, const uint8_t rec[ROVE_RECORD_KEY],
			  bool *out);
/* Calls fn with the record key of each record in scope, in key order
 * after the record key after (from the first for NULL). fn must not
 * write to the index. */
int rove_store_each_scoped(rove_store *st, MDB_txn *txn, const char *scope, const uint8_t *after, rove_key_fn fn,
			   void *arg);
/* The same walk, fn given each entry's value too: the record's bytes as
 * put (valid while fn runs; not checked here), or empty for an entry that
 * does not cover its record (put before format 5: the records table holds
 * it). */
int rove_store_each_scoped_raw(rove_store *st, MDB_txn *txn, const char *scope, const uint8_t *after,
			       rove_raw_fn fn, void *arg);

/* scopelog: the op at seq touched scope, its record being of one of
 * these kinds towards it. */
enum {
	ROVE_SCOPELOG_IN = 0, /* in the scope before the op and after, or made
			       * by it (a create: the op itself brings it) */
	ROVE_SCOPELOG_MOVED = 1, /* entered or left it (written before 2026-12: which is not known) */
	ROVE_SCOPELOG_ENTERED = 2, /* not in it before, in it after */
	ROVE_SCOPELOG_LEFT = 3, /* in it before, not after */
};
int rove_store_scopelog_put(rove_store *st, MDB_txn *txn, const char *scope, uint64_t seq, uint8_t kind);
/* How an op moved its record for a reader of some scopes. */
enum rove_scope_move {
	ROVE_MOVE_NONE = 0,   /* in the same ones of them before and after */
	ROVE_MOVE_WITHIN = 1, /* from one of them to another: in view before and after */
	ROVE_MOVE_ACROSS = 2, /* into them or out of them (or not known which:
			       * an entry of ROVE_SCOPELOG_MOVED) */
};
/* Calls fn once for each op after `after` that touched one of the n
 * scopes, in sequence order, with how it moved its record for a reader
 * of them. A merge of the scopes' ranges, which costs what it returns. */
typedef int (*rove_scopelog_fn)(uint64_t seq, enum rove_scope_move move, void *arg);
int rove_store_scopelog_each(rove_store *st, MDB_txn *txn, const char (*scopes)[ROVE_MAX_SCOPE_LEN + 1], uint32_t n,
			     uint64_t after, rove_scopelog_fn fn, void *arg);

/* ---- the oplog, its answers, the clock ---- */

int rove_store_head(rove_store *st, MDB_txn *txn, uint64_t *head);
/* The latest op compaction dropped (0: none yet): the oplog holds every
 * op after it, up to the head; a replica behind it needs a new
 * snapshot. */
int rove_store_floor(rove_store *st, MDB_txn *txn, uint64_t *floor);

/* The server's clock as last stored (zero in a database that never stored
 * it): every stamp the database holds is at or before it. Written in the
 * transaction of the ops it covers. */
int rove_store_clock_get(rove_store *st, MDB_txn *txn, rove_hlc *clock);
int rove_store_clock_put(rove_store *st, MDB_txn *txn, rove_hlc clock);
/* Sets op->seq to *head + 1, appends op to the oplog and advances *head
 * (the caller keeps the head of its transaction: rove_store_head). */
int rove_store_oplog_append(rove_store *st, MDB_txn *txn, rove_op *op, uint64_t *head, rove_buf *scratch);

/* The stored answer to an op id; ROVE_ENOTFOUND if never seen. */
int rove_store_opid_get(rove_store *st, MDB_txn *txn, const rove_uuid *op_id, rove_push_result *r);
int rove_store_opid_put(rove_store *st, MDB_txn *txn, const rove_push_result *r);

/* A stored op by sequence number (decoded into op) and its raw bytes. */
int rove_store_oplog_get(rove_store *st, MDB_txn *txn, uint64_t seq, rove_op *op, MDB_val *raw);

/* A reader's cursors, for many look-ups in one transaction that go about
 * in key order (a pull's ops and their records): each look-up starts
 * from the page the last one of its table ended on, where LMDB finds a
 * key close by without searching from the root. Records have a cursor
 * per collection (a customer's op and its history entry's alternate
 * between two ranges). Zeroed to start; cursors open on first use;
 * rove_store_reader_close before the transaction ends. */
#define ROVE_STORE_READER_COLLS 16
typedef struct rove_store_reader {
	MDB_cursor *oplog;
	MDB_cursor *records[ROVE_STORE_READER_COLLS];
} rove_store_reader;
void rove_store_reader_close(rove_store_reader *rd);
/* A stored op's head and author (rove_dec_op_head_author: its fields
 * are not read) and its raw bytes, by sequence number. */
int rove_store_oplog_head(rove_store *st, MDB_txn *txn, rove_store_reader *rd, uint64_t seq, rove_op_head *op,
			  char author[ROVE_MAX_NAME + 1], MDB_val *raw);
/* rove_store_record_raw through rd's cursor for the key's collection. */
int rove_store_record_raw_at(rove_store *st, MDB_txn *txn, rove_store_reader *rd, const uint8_t key[ROVE_RECORD_KEY],
			     MDB_val *raw);
/* Calls fn with the sequence number and bytes (proto's op encoding) of
 * each op after `after`. */
typedef int (*rove_raw_op_fn)(uint64_t seq, const MDB_val *raw, void *arg);
int rove_store_each_op(rove_store *st, MDB_txn *txn, uint64_t after, rove_raw_op_fn fn, void *arg);

/* ---- refused ops (store_reject.c) ---- */

/* Keeps op (its author set) refused with reason and detail at time_ms,
 * listed under each of scopes and under its author. Then drops the
 * author's oldest refusals of its class (kept apart or not) while they are
 * more than ROVE_MAX_USER_REJECTS or ROVE_MAX_USER_REJECT_BYTES (never the
 * one just kept), with the
 * answers kept for their ops (opids; counted in the bytes), so that no
 * user can fill the disk with refused ops. Refusals are numbered in the
 * order they are kept; a number is never used again. */
int rove_store_reject_put(rove_store *st, MDB_txn *txn, const rove_op *op, int reason, const char *detail,
			  uint64_t time_ms, const rove_reject_scopes *scopes, rove_buf *scratch);

/* What is kept of an author's refusals, and how many were dropped. */
typedef struct rove_reject_usage {
	uint64_t count, bytes, dropped;
} rove_reject_usage;
int rove_store_reject_usage(rove_store *st, MDB_txn *txn, const char *author, rove_reject_usage *u);

/* Calls fn for each refusal numbered after `after`, in number order: all
 * of them (scopes NULL), or each one listed under one of the n scopes,
 * once (a merge of the scopes' index ranges: the walk costs what it
 * returns). v is the stored refusal (proto's rejection encoding,
 * rove_dec_rejection). */
typedef int (*rove_reject_fn)(uint64_t n, const MDB_val *v, void *arg);
int rove_store_reject_each(rove_store *st, MDB_txn *txn, const char (*scopes)[ROVE_MAX_SCOPE_LEN + 1], uint32_t n,
			   uint64_t after, rove_reject_fn fn, void *arg);

/* ---- for the tools beside the server: roved check and compact
 * (store_maint.c) ---- */

/* A write transaction of a process beside the server: a map the server
 * grew meanwhile is taken up first. */
int rove_store_begin_beside(rove_store *st, MDB_txn **txn);
/* Whether an entry is there (*out; ROVE_OK either way): child under
 * parent in children, the op at seq under scope in scopelog, refusal n
 * under scope in rejidx, refusal n. */
int rove_store_child_has(rove_store *st, MDB_txn *txn, const uint8_t parent[ROVE_RECORD_KEY],
			 const uint8_t child[ROVE_RECORD_KEY], bool *out);
int rove_store_scopelog_has(rove_store *st, MDB_txn *txn, const char *scope, uint64_t seq, bool *out);
int rove_store_reject_listed(rove_store *st, MDB_txn *txn, const char *scope, uint64_t n, bool *out);
int rove_store_reject_has(rove_store *st, MDB_txn *txn, uint64_t n, bool *out);
/* The value rejidx keeps under a refusal's author ("a:" or "x:" LOGIN)
 * decoded: the bytes it was counted for and the scopes it is listed
 * under (out->apart unset). ROVE_EPROTO if it is not one. */
int rove_store_reject_author_dec(const MDB_val *v, uint64_t *bytes, rove_reject_scopes *out);
/* Refusal n's entry under its author: ROVE_ENOTFOUND if neither "a:" nor
 * "x:" holds one, ROVE_EPROTO if it does not decode. */
int rove_store_reject_author_get(rove_store *st, MDB_txn *txn, const char *author, uint64_t n, uint64_t *bytes,
				 rove_reject_scopes *out);
/* The bytes of the op at seq as stored (not decoded: the check says
 * what does not decode); ROVE_ENOTFOUND if the oplog lacks it. */
int rove_store_oplog_raw(rove_store *st, MDB_txn *txn, uint64_t seq, MDB_val *raw);
/* How many ops the oplog holds. */
int rove_store_oplog_count(rove_store *st, MDB_txn *txn, uint64_t *n);
/* Calls fn with every key and value of the store's table named table
 * ("records", "oplog", "opids", "rejects", "rejidx", "scopelog",
 * "scoperec", "children" or "runs"), as stored, however damaged:
 * rove_db_each's walk (ROVE_EPROTO where the table cannot be read on). */
int rove_store_walk_raw(rove_store *st, MDB_txn *txn, const char *table, rove_db_fn fn, void *arg);
/* Drops ops from the front of the oplog, at most max (*n says how many):
 * fn sees each in turn and returns ROVE_OK to drop it and go on, or
 * ROVE_EEXIST to keep it and end the drop (ROVE_OK is returned); any
 * other code ends it and is returned. fn may write to other tables. */
int rove_store_oplog_drop_front(rove_store *st, MDB_txn *txn, uint64_t max, rove_raw_op_fn fn, void *arg,
				uint64_t *n);
/* Drops scopelog entries for ops at or below upto, from the key at
 * resume (*resume_len bytes; 0: the first), each scope's range from its
 * first entry to its first kept one: at most max dropped (*n) and
 * max_seen looked at, then resume holds where to go on; *done once the
 * walk reached the end. */
#define ROVE_STORE_RESUME_MAX (ROVE_MAX_SCOPE_LEN + 1 + 8)
int rove_store_scopelog_drop(rove_store *st, MDB_txn *txn, uint64_t upto, uint64_t max_seen, uint64_t max,
			     uint8_t resume[ROVE_STORE_RESUME_MAX], size_t *resume_len, uint64_t *n, bool *done);

/* Fills scoperec entries that do not cover their record (empty: put
 * before format 5) of the scopes copies(scope) names with the record's
 * bytes, from the key after the one
 * at resume (*resume_len bytes; 0: from the first): at most max filled
 * (*n) and max_seen looked at, then resume holds where to go on; *done
 * once the walk reached the end. An entry whose record is gone is left
 * as it is (roved check names it). */
#define ROVE_STORE_FILL_RESUME_MAX (ROVE_MAX_SCOPE_LEN + 1 + ROVE_RECORD_KEY)
int rove_store_scoped_fill(rove_store *st, MDB_txn *txn, bool (*copies)(const char *scope), uint64_t max_seen,
			   uint64_t max, uint8_t resume[ROVE_STORE_FILL_RESUME_MAX], size_t *resume_len, uint64_t *n,
			   bool *done);

#endif
