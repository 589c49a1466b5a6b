/*
 * replica.h - a rep's local LMDB replica.
 *
 * Databases in one environment:
 *   meta      settings and sync state (server, user, token, replica id,
 *             cursor, snapshot progress, clock (hlc; pulled_hlc: the
 *             latest stamp pulled; ack_floor: the latest stamp given an
 *             acknowledged op, the seen stamp of those to send;
 *             clock_proof: the newest proof of the server's clock
 *             given, sent back with each push), role,
 *             the server's run,
 *             which of base0/base1 is the base)
 *   base0/1   coll(1) id(16) -> record as the server confirmed it: one of
 *             the two is the base; the other is where a snapshot is built
 *             aside, to become the base in the transaction that applies
 *             its last chunk (a reset applies atomically)
 *   view      coll(1) id(16) -> record as the user sees it: base with the
 *             pending ops merged on top (kept materialised for fast reads)
 *   outbox    lseq(8) -> acked seq(8) sum(8) op: local ops in the order
 *             made; an op acked by the server stays until the cursor
 *             passes its seq; sum: FNV-1a of the lseq, acked seq and op
 *             (replica_outbox.c), so that a pending change damaged on the
 *             disk is found, not sent altered nor settled unsent
 *   pending   coll(1) id(16) lseq(8) -> (empty): outbox ops by record
 *   rejected  n(8) -> rejection (proto.h: time, reason, detail, op);
 *             meta "dismissed/" n(8) -> time(8): the user dealt with it
 *   journal   lseq(8) -> op: this replica's own ops the server accepted,
 *             the latest ROVE_REPLICA_JOURNAL_OPS, sent again if the
 *             server's history turns out not to hold them (a restore);
 *             meta journal_floor: the clock of the oldest one kept once
 *             older ones were forgotten, meta recover_floor: that floor
 *             while a recovery's fresh snapshot is built (own writes
 *             older than it are compared with the snapshot and sent
 *             again when it lacks them, replica_sync.c)
 *   index0/1/v the records of base0, base1 and view by parent, in the
 *             orders of a few fields, and customers' search text
 *             (replica_index.c): a customer's card, the Today page and
 *             the customers page's sorts and search read what they
 *             show, not whole collections;
 *             meta "index": the layout they were built with; meta
 *             "indexed/0", "indexed/1": 1 while a base's index is kept
 *
 * Beside them, the file last_sync: the time of the last finished sync,
 * advisory, written without touching LMDB.
 *
 * Merging is a join (see record.h), so view = base + pending ops is kept
 * by merging every new op into both, and rebuilt for a record only when
 * an op leaves the outbox. The cursor is written in the transaction that
 * writes the data it covers.
 */
#ifndef ROVE_REPLICA_H
#define ROVE_REPLICA_H

#include "db.h"
#include "proto.h"
#include "record.h"

#include <lmdb.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct rove_replica {
	MDB_env *env;
	MDB_dbi meta, view, outbox, pending, rejected, journal;
	MDB_dbi bases[2];
	MDB_dbi base, aside; /* bases[i] and bases[1 - i], as of the last
			      * transaction begun (another process may swap) */
	/* The report sums beside each base, while sums_open (report.h). */
	MDB_dbi sums[2];
	bool sums_open;
	/* Whether the base's sums are kept, as last read in the transaction
	 * sums_txn (its id sums_txnid, begun as the txn_gen'th, the base
	 * bases[sums_base]; sums_txn NULL: none): every record written asks
	 * (report_agg.c, base_kept). txn_gen counts rpl_txn_begin's. */
	MDB_txn *sums_txn;
	uint64_t sums_txnid, txn_gen, sums_gen;
	int sums_base;
	bool sums_kept;
	MDB_dbi index[3];    /* of bases[0], bases[1] and view */
	bool base_indexed[2]; /* whether bases[i]'s index is kept, as of the
			       * last transaction begun (replica_index.c) */
	bool indexed;        /* false only for an older replica opened read
			      * only: its index was never built (reads scan) */
	rove_uuid id;
	uint64_t node;
	char server[ROVE_MAX_URL + 1];
	char tls_ca[ROVE_MAX_URL + 1]; /* CA file for tls+tcp://, or "" */
	rove_auth auth;
	char role[ROVE_MAX_NAME + 1];
	/* Whether this process may write the replica (rove_db_open_any):
	 * read only, every write is refused (ROVE_EREADONLY, reported with
	 * dir); read without LMDB's lock file, read_txnid is the id of the
	 * first transaction, checked at close (rove_db_changed_since). */
	enum rove_db_access access;
	/* Whether the outbox's entries carry their sum (format 5 on), as of
	 * the transaction begun last; sums_known: seen so in one (a format is
	 * only ever raised), after which it is not read again (replica.c). */
	bool outbox_sums, sums_known;
	uint64_t read_txnid;
	/* While a recovery from a server's lost history runs: a record of a
	 * base or of the view that does not decode reads as absent (the
	 * fresh snapshot replaces it, the view is made anew from it),
	 * counted in damage_skipped (replica_recover.c). */
	bool damage_as_absent;
	uint64_t damage_skipped;
	/* When a sync walked the whole file and found it sound
	 * (rove_replica_pages_sound), kept in meta "pages_checked" by the
	 * sync's next pull, in its transaction (no commit of its own: the
	 * commits a killed sync makes stay where they were); 0: none. */
	uint64_t pages_walked_ms;
	/* A setting of 'rove config' that is damaged or missing: its name
	 * (static), read as empty; NULL when all read (rove_replica_open). */
	const char *bad_setting;
	/* What makes the replica itself (its "user" or "id") damaged or
	 * missing: its name (static); the replica opens read only, every
	 * write refused saying so (rove_replica_open). NULL when sound. */
	const char *bad_self;
	bool free_list_ok; /* its free list read whole, at the first write */
	/* Pending changes a repair's salvage said lost in this process
	 * (rove_replica_pages_fix's *lost): the sync's sweep then names
	 * those the index of them names without counting them again. */
	uint64_t lost_said;
	char dir[ROVE_REPLICA_DIR_MAX + 1];
} rove_replica;

typedef struct rove_replica_status {
	uint64_t cursor;
	uint64_t pending; /* pending changes that read whole (damaged: those that do not) */
	uint64_t sent; /* of pending: accepted by the server, to be confirmed by a pull */
	uint64_t rejected;
	uint64_t last_sync_ms; /* 0: never (or the last_sync file is unreadable) */
	uint64_t clock_ahead_ms; /* this laptop's clock ahead of the server's, as
				  * the last sync found it (rove_replica_clock_learned) */
	uint64_t clock_behind_ms; /* behind it, the same way (one of the two is 0) */
	uint64_t clock_held_ms; /* the lead learned before a restart: not applied
				 * (rove_replica_clock_held) */
	uint64_t clock_held_behind_ms; /* the lag, the same way */
	uint64_t orphans; /* others' records a restored server lacks, waiting
			   * (rove_replica_orphans_settle) */
	/* Damage the next sync says and drops (rove_replica_outbox_sweep):
	 * pending changes that do not read whole (their sum not their
	 * bytes'), and those gone from the file (named by the pending index,
	 * not in the outbox: at least this many). */
	uint64_t damaged, gone;
	uint64_t damaged_sent; /* of damaged: marked sent (the server may hold them) */
	/* With damaged or gone: a page of the tables a sync writes is
	 * damaged too; with sent (and a file a pull walks whole): a page of
	 * the file. A sync then refuses until 'rove sync --repair'. */
	bool pages_damaged;
	/* A sync cut short owes the words of changes it lost (said by the
	 * next sync: rove_replica_outbox_sweep). */
	bool lost_unsaid;
} rove_replica_status;

/* Creates a replica in dir; ROVE_EEXIST if one is there. tls_ca may be
 * NULL (the CA file that signs the server's TLS certificate). */
int rove_replica_create(const char *dir, const char *server, const char *user, const char *token,
			const char *tls_ca);
/* ROVE_ENOTFOUND if dir holds no replica. A replica this process may
 * only read (a read-only file system, another user's files) opens read
 * only: reads work, writes are refused (rove_replica_writable). */
int rove_replica_open(const char *dir, rove_replica *r);
/* ROVE_OK if r's settings (server, token, CA) all read; else says which
 * to set anew with 'rove config' and returns ROVE_EPROTO. Checked before
 * the server is called. */
int rove_replica_settings_ok(const rove_replica *r);
/* How many times this process has said that a replica is damaged (a
 * read met a value that does not decode): a caller that gets
 * ROVE_EPROTO tells the replica's damage from a peer's malformed data. */
unsigned long rove_replica_damage_said(void);
/* Before 'rove sync --repair' opens the replica in dir: every meta value
 * of the sync's own state that does not read (the wrong size) is set
 * anew, each said (the pull's position dropped, clocks past every stamp
 * made, the base the one that holds records). Nothing there, or not
 * writable: ROVE_OK, left to the open to say. */
int rove_replica_meta_fix(const char *dir);
/* Before 'rove sync --repair' opens the replica in dir: a walk of its
 * file's pages (roved check's); a free list found damaged (the next write
 * would crash on it or overwrite pages in use) is made anew by a
 * compacting copy of the records, swapped in for the file (*fixed), said
 * on stderr. ROVE_EBUSY, said, while another process has the replica
 * open. A damaged tree is read by a salvage; *lost: the pending changes
 * it said lost (0 if none or not said by a count). */
int rove_replica_pages_fix(const char *dir, bool *fixed, uint64_t *lost);
/* Whether the replica may be written: rove_replica_writable, and its free
 * list and main tree read whole (checked once a process, said when not:
 * ROVE_EREADONLY). Every write transaction asks; a sync asks before it
 * sends, so that what the server takes is recorded (attack ninety: the
 * push went, its answers could not be written). */
int rove_replica_writes_ok(rove_replica *r);
/* Whether the pages of the small tables a sync writes (meta, the
 * pending changes and their index, the local copies, refusals) read
 * whole (rove_db_pages_check_tables), and once every
 * ROVE_PAGES_CHECK_EVERY_MS those of the whole file: a damaged page
 * written through LMDB corrupts the process's heap. ROVE_EPROTO, said
 * with the way out ('rove sync --repair'), when one does not. */
int rove_replica_pages_sound(rove_replica *r);
/* Before a pull's records are written: the whole file's pages, when it
 * is at most ROVE_PAGES_CHECK_WHOLE_BYTES and no walk of it was made
 * since this sync began (rove_replica_apply_pull calls it). */
int rove_replica_pages_sound_pull(rove_replica *r);
/* ROVE_OK if r may be written; else ROVE_EREADONLY, reported ("the
 * replica in DIR is read-only: why"). Every write checks it; a command
 * that would write checks it first, before any other work. */
int rove_replica_writable(const rove_replica *r);

/* The settings rove_replica_create stored, changed (`rove config`). */
enum rove_replica_setting {
	ROVE_SET_SERVER = 1, /* r->server: the server's URL */
	ROVE_SET_TOKEN = 2,  /* r->auth.token */
	ROVE_SET_CA = 3,     /* r->tls_ca: the CA file, or "" for none */
};
/* Stores value (checked by the caller; at most ROVE_MAX_URL bytes, a
 * token ROVE_TOKEN_HEX) as setting which, and in r. ROVE_EINVAL for an
 * unknown setting or a value too long. */
int rove_replica_set(rove_replica *r, int which, const char *value);
/* Closes r. A replica read without LMDB's lock file that another process
 * changed while it was read is said (a warning: what was read may mix two
 * states). */
void rove_replica_close(rove_replica *r);

/* Records a local op: stamps it with the replica's clock, queues it in the
 * outbox and merges it into the view, in one transaction. */
int rove_replica_write(rove_replica *r, rove_op *op);

/* Records n local ops atomically: all or none. */
int rove_replica_write_many(rove_replica *r, rove_op *ops, size_t n);
/* The same for ops made one at a time: fill(op, i, arg) builds the i-th
 * into one reused op, so memory does not grow with n (a CSV import). fill
 * may be called again from i = 0 if the write is retried. */
typedef int (*rove_op_fill_fn)(rove_op *op, size_t i, void *arg);
int rove_replica_write_each(rove_replica *r, size_t n, rove_op_fill_fn fill, void *arg);
/* A write checked against the replica as it was: rove_replica_version
 * read before the check (what it read then was that version or later).
 * The write happens only if no other transaction committed since, in the
 * one write transaction that LMDB lets run at a time; otherwise
 * ROVE_ECHANGED and nothing is written: check again and retry. So two
 * processes that each check for duplicates and then write cannot both
 * write what the other made meanwhile. */
int rove_replica_write_each_at(rove_replica *r, uint64_t version, size_t n, rove_op_fill_fn fill, void *arg);
int rove_replica_write_at(rove_replica *r, uint64_t version, rove_op *op);

/* The visible record; ROVE_ENOTFOUND if absent or deleted. */
int rove_replica_get(rove_replica *r, uint8_t coll, const rove_uuid *id, rove_record *rec);
/* Why rove_replica_get found no record id of coll: */
enum rove_gone {
	ROVE_GONE_ABSENT,                /* this replica holds none */
	ROVE_GONE_DELETED,               /* it holds it deleted (synced) */
	ROVE_GONE_DELETED_HERE,          /* deleted by a change not synced yet */
	ROVE_GONE_CUSTOMER_DELETED_HERE, /* its customer is, so: hidden */
};
int rove_replica_why_gone(rove_replica *r, uint8_t coll, const rove_uuid *id, enum rove_gone *why);

/* Calls fn for each visible, non-deleted record of coll in id order;
 * stops early and returns fn's value if it is non-zero. */
typedef int (*rove_record_fn)(const rove_record *rec, void *arg);
int rove_replica_each(rove_replica *r, uint8_t coll, rove_record_fn fn, void *arg);
/* The same walk, telling each record's changes are pending: it has ops in
 * the outbox (lists mark it). */
typedef int (*rove_record_pending_fn)(const rove_record *rec, bool pending, void *arg);
int rove_replica_each_marked(rove_replica *r, uint8_t coll, rove_record_pending_fn fn, void *arg);

/* ---- reading through the indexes (replica_index.c) ---- */

/* Calls fn for each visible, non-deleted record of coll whose parent
 * field (the schema's ROVE_FF_PARENT) names parent, in id order, as
 * rove_replica_each_marked would pass them; stops early and returns fn's
 * value if it is not ROVE_OK. */
int rove_replica_each_child(rove_replica *r, uint8_t coll, const rove_uuid *parent, rove_record_pending_fn fn,
			    void *arg);
/* Whether the replica keeps coll's records in the order of field (so
 * that rove_replica_each_ordered reads only what it passes on). */
bool rove_replica_ordered(const rove_replica *r, uint8_t coll, const char *field);
/* Calls fn for each visible, non-deleted record of coll in the order of
 * field's value (bytes; ties by id), descending with desc; the records
 * without a value come last (either way). from and to (NULL: open) keep
 * the values v with from <= v < to, none without a value. Stops early and
 * returns fn's value if it is not ROVE_OK. A field rove_replica_ordered
 * does not know: ROVE_EINVAL. Where the order cannot be read (an older
 * replica opened read only) the records are scanned and sorted. The first
 * read after a snapshot builds the base's indexes (a write). */
int rove_replica_each_ordered(rove_replica *r, uint8_t coll, const char *field, bool desc, const char *from,
			      const char *to, rove_record_pending_fn fn, void *arg);
/* Whether the replica keeps the searchable text of coll's records (its
 * text fields, each with its type) for rove_replica_each_search. */
bool rove_replica_searched(const rove_replica *r, uint8_t coll);
/* A search's test of a record's kept text (len bytes): the fields a
 * search reads in ASCII lower case, and each phone's digits as typed and
 * as rove_phone_normalise writes them, each followed by a NUL. True: the
 * record may match (it is then read and passed on, to be checked). */
typedef bool (*rove_search_fn)(const uint8_t *fields, size_t len, void *arg);
/* Calls fn for each visible, non-deleted record of coll whose kept text
 * match accepts (and each whose text was too long to keep: fn checks
 * it), in id order as rove_replica_each_marked would pass them; records
 * match refuses are never read. Stops early and returns fn's value if it
 * is not ROVE_OK. A collection rove_replica_searched does not know:
 * ROVE_EINVAL; an older replica opened read only: every record to fn. */
int rove_replica_each_search(rove_replica *r, uint8_t coll, rove_search_fn match, void *marg,
			     rove_record_pending_fn fn, void *arg);
/* Compares the indexes with the records they index (a consistency
 * check, as roved check does on the server), and that the outbox's
 * acknowledged ops come first (rove status counts on it): each problem is said on
 * stderr and counted in *problems. ROVE_OK when it could read them all,
 * whatever it found. */
int rove_replica_check_index(rove_replica *r, uint64_t *problems);

int rove_replica_status_get(rove_replica *r, rove_replica_status *s);
/* How many changes are pending (the outbox's entries, damaged or not):
 * status_get's pending alone, without its walk of the outbox for damage
 * (a sync counts its changes before and after). */
int rove_replica_pending_count(rove_replica *r, uint64_t *pending);

/* The time of what the user does now, in Unix ms - what a visit's `at`,
 * a won deal's day, an import's "today", a change's stamp are made of,
 * which the server checks against its own clock: the wall clock, less how
 * far it was ahead of the server's when the last sync measured it (a
 * laptop whose clock is fast), plus how far it was behind (slow) within
 * the boot that measured it, or the latest stamp pulled from the server
 * when that is later (a laptop whose clock is slow, or says 1970; the
 * server bounds every stamp it keeps by its own clock, a laptop's earlier
 * fast clock included). A replica that cannot be read: the wall clock. */
uint64_t rove_replica_now_ms(rove_replica *r);
/* How far the last sync found this laptop's clock ahead of the server's,
 * in ms, when rove_replica_now_ms does not take it off (it was learned
 * before the laptop restarted: the clock may have been put right since);
 * 0 otherwise. */
uint64_t rove_replica_clock_held(rove_replica *r);
/* The time of the latest stamp pulled from the server, Unix ms (0: none,
 * or the replica cannot be read). */
uint64_t rove_replica_pulled_ms(rove_replica *r);
/* Notes how far this laptop's clock is ahead of the server's (lead_ms >
 * 0) or behind it (< 0), as a sync measured it; rove_replica_now_ms, and
 * the stamps of changes made here, follow the server's time from then on
 * (a lag only within the boot it was learned in: replica.c, lead_state).
 * Written only when it moved by more than ROVE_CLOCK_AHEAD_SLACK_MS, so
 * that a sync with nothing new still writes nothing to LMDB. */
int rove_replica_clock_learned(rove_replica *r, int64_t lead_ms);

/* The changes the server refused, oldest first (rove_rejection is in
 * proto.h; rj and what it points to are valid during the call only);
 * dismissed: the user said they dealt with it; waiting: refused after a
 * restore for want of its record, to be sent again once it is back
 * (replica_rejected.c). */
typedef struct rove_rejection_state {
	bool dismissed;
	bool waiting;
} rove_rejection_state;
typedef int (*rove_rejection_fn)(const rove_rejection *rj, const rove_rejection_state *st, void *arg);
/* Entries that do not decode (damage) are passed over: counted in
 * *damaged, or, damaged NULL, said (as for rove_replica_each_pending). */
int rove_replica_each_rejection(rove_replica *r, rove_rejection_fn fn, void *arg, uint64_t *damaged);
/* Marks the refused change whose op id is op_id (NULL: every one) as
 * dismissed: kept, but no longer counted by status nor listed by default.
 * *n: how many were newly dismissed. ROVE_ENOTFOUND if op_id names no
 * refused change; ROVE_EEXIST if it was dismissed already. */
int rove_replica_dismiss(rove_replica *r, const rove_uuid *op_id, uint64_t *n);

/* This replica's changes not yet in its confirmed data (the outbox), in
 * the order they were made; sent says whether the server has accepted it
 * (it then waits for the pull that brings it back). op is valid during
 * the call only. */
typedef int (*rove_pending_fn)(const rove_op *op, bool sent, void *arg);
/* Entries that do not decode (damage) are passed over: counted in
 * *damaged, or, damaged NULL, said (a warning; the next sync drops them). */
int rove_replica_each_pending(rove_replica *r, rove_pending_fn fn, void *arg, uint64_t *damaged);
/* Says (a warning) that gone pending changes were lost from the file,
 * as rove_replica_status found them (nothing when 0). */
void rove_replica_say_gone(uint64_t gone);
/* Drops the pending changes that do not decode (damage: they can never
 * be sent, and a sync that met one failed for good), with their index
 * entries; their records' local copies are made anew from the rest.
 * *dropped: how many; *lost: those and the changes found gone from the
 * file (each said, with the records they were to). Most calls only read. */
int rove_replica_outbox_sweep(rove_replica *r, uint64_t *dropped, uint64_t *lost);

/* ---- for a reader that keeps another store in step (rove feed;
 * replica_read.c) ---- */

/* The id of the replica's last committed write transaction: it changes
 * whenever the replica does (a sync, a local write), so an unchanged id
 * means nothing needs reading again. Costs no transaction. */
int rove_replica_version(rove_replica *r, uint64_t *version);

/* What rove_replica_each_confirmed read: the state's version (as
 * rove_replica_version) and its pull cursor. */
typedef struct rove_replica_state {
	uint64_t version;
	uint64_t cursor;
} rove_replica_state;

/* Calls fn for each record the server confirmed (the base: pending local
 * changes are left out), of each collection of colls in turn, in id
 * order, deleted ones too, all in one read transaction (one consistent
 * state, described in *st). raw is the stored encoding (rove_dec_record
 * decodes it), valid during the call only. fn returns ROVE_OK to go on;
 * any other code ends the walk and is returned. */
typedef int (*rove_raw_record_fn)(uint8_t coll, const rove_uuid *id, const void *raw, size_t len, void *arg);
int rove_replica_each_confirmed(rove_replica *r, const uint8_t *colls, size_t ncolls, rove_raw_record_fn fn,
				void *arg, rove_replica_state *st);

/* ---- for the sync module ---- */

/* Up to max unacknowledged ops from the outbox, in order; *n set. */
int rove_replica_unacked(rove_replica *r, rove_op *ops, uint32_t max, uint32_t *n);
/* The same for a push, which sends the ops as stored: their encodings
 * are appended to raw (after what it holds: the push's head), op i's from
 * at[i] to at[i + 1] (at has room for max + 1), and ops[i] gets its head. */
int rove_replica_unacked_raw(rove_replica *r, rove_op_head *ops, rove_buf *raw, size_t *at, uint32_t max,
			     uint32_t *n);
/* Applies the server's answers to a push (from the server's run): acks
 * and rejections; keeps clock, the reply's proof of the server's clock
 * (NULL or hlc 0: none), in place of the one held, which it answers
 * (rove_replica_seen sends it). */
int rove_replica_push_results(rove_replica *r, uint64_t server, const rove_uuid *run, const rove_proof *clock,
			      const rove_op_head *ops, const rove_push_result *res, uint32_t n, uint32_t *accepted,
			      uint32_t *rejected);

/* The ops a push request carries (pull: the items a pull request asks
 * for) at most on this replica's link, 0: no bound (kept in meta: a
 * request that timed out on a slow link leaves a smaller one for the
 * next sync). _set writes only a change; a value of ROVE_MAX_PUSH_OPS
 * (pull: ROVE_MAX_SNAPSHOT_ITEMS) or more is stored as 0. */
int rove_replica_pace(rove_replica *r, bool pull, uint32_t *n);
int rove_replica_pace_set(rove_replica *r, bool pull, uint32_t n);

/* Where a replica's pull stands: after the op at cursor; inside a
 * snapshot (snap_seq != 0) after snap_key; or, with snap_seq 0 and a
 * snap_key, inside the family of the op after the cursor (a record moved
 * into or out of scope with more children than one reply holds). */
typedef struct rove_pull_state {
	uint64_t cursor;
	uint64_t epoch;
	uint64_t snap_seq;
	uint32_t snap_keylen;
	uint8_t snap_key[ROVE_MAX_SNAP_KEY];
	uint64_t server;   /* the server this replica syncs with (0: not known) */
	rove_uuid run;     /* the server's run the position came from */
	rove_uuid ack_run; /* the run of the latest acknowledged push, and */
	uint64_t ack_seq;  /* the highest acknowledged sequence number (0:
			    * none the cursor has not passed) */
	uint64_t snap_end; /* the server's head when the last snapshot's
			    * last chunk was read: ops up to it that moved a
			    * record within this user's scopes come whole,
			    * since the snapshot may lack it (0: none the
			    * cursor has not passed) */
	bool snap_end_kept; /* the replica keeps snap_end for this position
			     * (one from before it does not, nor one an
			     * older rove synced since: its highest
			     * acknowledged number stands for it until it
			     * is written) */
} rove_pull_state;

int rove_replica_pull_state(rove_replica *r, rove_pull_state *ps);
/* Marks the replica to take every record of its scope anew at its next
 * pull (a snapshot, built aside and swapped in: its local copies of
 * pending records made anew from it and the outbox, which is kept), and
 * drops its bases' indexes (built again at the next read): the way out
 * of damage to what it holds of the server's (`rove sync --repair`). */
int rove_replica_repair(rove_replica *r);
/* Whether the replica is marked so and its snapshot not yet whole: a
 * sync then pulls before it pushes (the answers to its pushes are
 * recorded in local copies made anew from the snapshot, not in damaged
 * ones). */
int rove_replica_repairing(rove_replica *r, bool *yes);
/* What this replica has seen of the server's history, for a push. */
int rove_replica_seen(rove_replica *r, rove_seen *seen);
/* The request that asks for what comes after ps (at most max items). */
void rove_pull_state_request(const rove_pull_state *ps, const rove_uuid *replica, uint32_t max,
			     rove_pull_req *q);
/* The pull state that applying reply h leaves behind a replica in state
 * prev: rove_replica_apply_pull stores exactly this, and the sync uses it
 * to ask for the next chunk before applying this one. */
void rove_pull_state_next(const rove_pull_state *prev, const rove_pull_reply *h, rove_pull_state *next);
/* Applies one pull reply (ops or snapshot records) and the new pull state
 * in one transaction; *items gets the number applied. The reply may be
 * decoded with rove_msg_decode_lazy: each item is validated as it is
 * applied, and a malformed one (ROVE_EPROTO) leaves the replica as it
 * was; so does a reply that does not move it forward (ROVE_EINVAL: an
 * ops cursor going back, a snapshot chunk not past the last one). */
int rove_replica_apply_pull(rove_replica *r, rove_msg *reply, uint32_t *items);
/* The server's history is not the one this replica synced with (it was
 * restored from a copy, or is another server): every op of the journal
 * goes back into the outbox, every outbox op is marked not acknowledged
 * (*resend: how many there are now), and the pull starts afresh with a
 * snapshot (built aside: the replica shows what it held until the
 * snapshot is whole). The next push sends them all again; the server
 * answers those it has as before and decides the others anew. */
int rove_replica_history_lost(rove_replica *r, uint64_t *resend);
/* Whether a recovery (above) has begun and no sync has ended whole since:
 * what the next sync pushes is sent again (also after a killed one). */
int rove_replica_resending(rove_replica *r, bool *yes);
/* Others' writes a restored server lacked that this replica held (a
 * manager's or an admin's: replica_recover.c, "orphans"), settled after a
 * pull: those the server holds now are forgotten, those it still lacks
 * ROVE_ORPHAN_WAIT_MS after the recovery by now_ms
 * (the server's time; 0: not known, nothing is due) are queued as this
 * user's changes (*sent: ops queued; *waiting: entries left). */
int rove_replica_orphans_settle(rove_replica *r, uint64_t now_ms, uint64_t *sent, uint64_t *waiting);
/* Changes sent again after a restore and refused because the restored
 * server lacked their record (or its customer) that this replica's base
 * holds now, settled after a pull: each sent again once, as it was
 * (replica_rejected.c; *sent: ops queued). */
int rove_replica_waiting_settle(rove_replica *r, uint64_t *sent);
/* The recovery's sends are over (a sync ended whole after it). */
int rove_replica_resent(rove_replica *r);
/* Whether a recovery (above) waits for its fresh snapshot before anything
 * is pushed: the journal had forgotten older ops, and those of them the
 * server lacks are found, and queued before the journal's, when the
 * snapshot is whole. Until then a sync pulls first. */
int rove_replica_recovering(rove_replica *r, bool *yes);
/* Records the time of a finished sync in the last_sync file (no LMDB
 * write). ROVE_EINVAL for a time outside 1..ROVE_MAX_WALL_MS, ROVE_EIO
 * if the file cannot be written. */
int rove_replica_synced(rove_replica *r, uint64_t wall_ms);

#endif
