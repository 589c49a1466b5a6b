/*
 * replica_int.h - what the replica's two parts share: replica.c (the
 * store: layout, records, meta, outbox, view, local writes and reads) and
 * replica_sync.c (applying the server's answers and pull replies, the
 * journal, recovering from a restored server). Not for use outside them;
 * the rest of the client uses replica.h.
 *
 * Every function takes the caller's transaction (begun with
 * rpl_txn_begin) and returns a rove error; values they hand back are
 * copies, never pointers into the map.
 */
#ifndef ROVE_REPLICA_INT_H
#define ROVE_REPLICA_INT_H

#include "replica.h"

#include <lmdb.h>
#include <stdbool.h>
#include <stdint.h>

/* pending: coll(1) id(16) lseq(8) */
#define RPL_PENDING_KEY (ROVE_RECORD_KEY + 8)
/* meta's key of the words a sync owes of pending changes it lost, kept
 * until said (replica_outbox.c) */
#define RPL_LOST_NOTE_KEY "lost_unsaid"

/* A scratch area for one transaction's work: records are large, so they
 * live on the heap (rpl_work_new, rpl_work_free). */
typedef struct rpl_work {
	rove_record a, b;
	rove_op op;
	rove_buf buf;
} rpl_work;

rpl_work *rpl_work_new(void);
void rpl_work_free(rpl_work *w);

/* Begins a transaction (flags 0 or MDB_RDONLY) and learns which base table
 * is the base in it: every transaction on a replica begins here. */
int rpl_txn_begin(rove_replica *r, unsigned flags, MDB_txn **txn);
/* Commits txn if rc is ROVE_OK, else aborts it; returns the outcome. */
int rpl_commit_or_abort(MDB_txn *txn, int rc);

/* Runs a write transaction `call` (assigning rc); a full map is grown and
 * the write run again (rove_db_grow_retry). */
#define RPL_WITH_GROWTH(r, call)                                   \
	do {                                                       \
		int grows_ = 0;                                    \
		do                                                 \
			rc = (call);                               \
		while (rove_db_grow_retry((r)->env, rc, &grows_)); \
	} while (0)

/* The newest proof of the server's clock held (meta clock_proof; hlc 0:
 * none; replica_sync.c keeps those the server gives). */
int rpl_proof_get(rove_replica *r, MDB_txn *txn, rove_proof *p);

/* How many refused changes the user dismissed (replica_rejected.c). */
int rpl_dismissed_count(MDB_txn *txn, rove_replica *r, uint64_t *n);

/* ---- the indexes of a record store (replica_index.c) ---- */

/* An index key: kind(1), then parent(16) coll(1) id(16), or coll(1)
 * slot(1) value(at most ROVE_MAX_NAME) id(16), or coll(1) id(16) cut(1)
 * text(at most ROVE_REPLICA_SEARCH_BYTES); LMDB takes keys up to 511. */
#define RPL_IX_KEY_MAX (1 + 1 + 16 + 1 + ROVE_REPLICA_SEARCH_BYTES)
_Static_assert(RPL_IX_KEY_MAX <= 511, "an index key is one LMDB takes");
/* The most entries one record has: a parent, four orders, its search
 * text (a customer: name, tier, created_at, last_activity_at, search). */
#define RPL_IX_KEYS 6

/* The index entries one record has (none for a record absent). */
typedef struct rpl_ikeys {
	uint32_t n;
	uint16_t len[RPL_IX_KEYS];
	uint8_t k[RPL_IX_KEYS][RPL_IX_KEY_MAX];
} rpl_ikeys;

/* The entries a record of coll/id with fields fs has (fs NULL: absent). */
void rpl_ikeys_of(uint8_t coll, const rove_uuid *id, const rove_fields *fs, rpl_ikeys *out);
/* Whether store's index is kept now (else writes leave it alone, and
 * need not work out entries). */
bool rpl_index_kept(const rove_replica *r, MDB_dbi store);
/* Moves a record's entries in the index of store (a base or the view)
 * from was to now, in the caller's transaction. */
int rpl_index_move(rove_replica *r, MDB_txn *txn, MDB_dbi store, const rpl_ikeys *was, const rpl_ikeys *now);
/* Empties store (a base or the view) and its index. */
int rpl_store_drop(rove_replica *r, MDB_txn *txn, MDB_dbi store);
/* Opens the index tables at open, making them first when this replica
 * has none yet (an older replica): in their own write transaction, once.
 * A replica opened read only is left without (reads scan). */
int rpl_index_open(rove_replica *r);
/* Reads which bases' indexes are kept (r->base_indexed), in every
 * transaction begun (rpl_txn_begin). */
int rpl_index_flags(rove_replica *r, MDB_txn *txn);
/* Creates the (empty) index tables of a new replica in txn. */
int rpl_index_create(rove_replica *r, MDB_txn *txn);
/* Empties both bases' indexes, marked not kept (built again when a read
 * needs one), in txn. */
int rpl_index_forget(rove_replica *r, MDB_txn *txn);
/* Says that a record the replica holds does not decode, and the way out
 * (for ROVE_EPROTO from a read of one); _damaged: that the replica is
 * damaged as what says, and the way out. */
void rpl_say_corrupt(void);
/* Says that meta key's value does not read, with the way out (repair,
 * 'rove config', or a new replica, by what it holds); ROVE_EPROTO. */
int rpl_meta_damaged(const char *key);
void rpl_say_damaged_key(const char *key);
void rpl_say_damaged(const char *what);

/* Records of a base or the view: ROVE_ENOTFOUND if absent (_or_empty:
 * an empty record of coll/id instead); merge creates the record. Every
 * write of a record goes through put, del or merge, which keep the
 * store's index in step: was is what the record's entries were (the
 * stored record's, rpl_ikeys_of; none if it was absent); rpl_rec_was
 * reads them (into tmp). */
int rpl_rec_get(MDB_txn *txn, MDB_dbi dbi, uint8_t coll, const rove_uuid *id, rove_record *rec);
/* rpl_rec_read: rpl_rec_get, but while r->damage_as_absent a record that
 * does not decode is ROVE_ENOTFOUND, counted (nothing said);
 * rpl_rec_decode: the same for a stored value v read by a walk. */
int rpl_rec_read(rove_replica *r, MDB_txn *txn, MDB_dbi dbi, uint8_t coll, const rove_uuid *id, rove_record *rec);
int rpl_rec_decode(rove_replica *r, const MDB_val *v, rove_record *rec);
/* A clock past every stamp this replica made or holds, in txn: the later
 * of the wall clock, its clock (if that reads) and its ops' stamps
 * (outbox and journal), plus one; w: scratch. */
int rpl_clock_past_all(rove_replica *r, MDB_txn *txn, rpl_work *w, uint64_t *v);
/* Warns of the damaged records a recovery passed over (r->damage_skipped),
 * if any, and counts anew. */
void rpl_say_passed_over(rove_replica *r);
int rpl_rec_get_or_empty(MDB_txn *txn, MDB_dbi dbi, uint8_t coll, const rove_uuid *id, rove_record *rec);
int rpl_rec_was(MDB_txn *txn, MDB_dbi dbi, uint8_t coll, const rove_uuid *id, rove_record *tmp, rpl_ikeys *was);
int rpl_rec_put(rove_replica *r, MDB_txn *txn, MDB_dbi dbi, const rove_record *rec, const rpl_ikeys *was,
		rove_buf *scratch);
int rpl_rec_del(rove_replica *r, MDB_txn *txn, MDB_dbi dbi, uint8_t coll, const rove_uuid *id,
		const rpl_ikeys *was);
int rpl_rec_merge(rove_replica *r, MDB_txn *txn, MDB_dbi dbi, uint8_t coll, const rove_uuid *id,
		  const rove_fields *fs, rove_record *tmp, rove_buf *scratch);
/* What the user sees of coll/id: the view's record if there (*pending
 * true), else the base's. */
int rpl_visible_get(rove_replica *r, MDB_txn *txn, uint8_t coll, const rove_uuid *id, rove_record *rec,
		    bool *pending);

/* The children of customers a pending op deleted: the server deletes a
 * customer's family with it (rule 6), so until the sync says what became
 * of the delete the user sees none of its children either. A walk of a
 * child collection tests each record it passes on (rpl_hidden_test):
 * its customer's view entry, where it has one (the view holds only the
 * records with pending ops), its deletion read from the record's outline
 * once per run of children of the same customer; nothing at all when the
 * view holds no customer. The notices about such a customer are hidden
 * the same way, by their customer field, and so are those about a
 * customer the replica no longer holds (deleted, or moved out of scope,
 * since they came): nothing here could be done about them. */
typedef struct rpl_hidden {
	rove_replica *r;
	MDB_txn *txn;
	const char *field;   /* the customer's id field; NULL: nothing hidden */
	bool gone_hides;     /* a customer in neither view nor base hides too */
	rove_uuid last;      /* the customer tested last, and its answer */
	bool have_last, last_hidden;
} rpl_hidden;

/* Begins the tests of a walk of coll in txn (nothing to free: h holds no
 * memory of its own, and lives as long as txn). */
int rpl_hidden_begin(rove_replica *r, MDB_txn *txn, uint8_t coll, rpl_hidden *h);
/* *hidden: whether rec (of the collection h began for) belongs to a
 * customer a pending op deleted. */
int rpl_hidden_test(rpl_hidden *h, const rove_record *rec, bool *hidden);

/* meta values: a u64 (0 when absent); bytes (at most max; none: *len 0);
 * bytes set, or removed for len 0; a uuid (all zero when absent). */
int rpl_meta_u64(MDB_txn *txn, MDB_dbi meta, const char *key, uint64_t *out);
int rpl_meta_bytes(MDB_txn *txn, MDB_dbi meta, const char *key, void *out, uint32_t max, uint32_t *len);
int rpl_meta_bytes_put(MDB_txn *txn, MDB_dbi meta, const char *key, const void *data, uint32_t len);
int rpl_meta_uuid(MDB_txn *txn, MDB_dbi meta, const char *key, rove_uuid *id);
/* How many meta keys of keylen bytes begin with prefix (they run in a
 * row, counted until the first that does not). */
int rpl_meta_prefix_count(MDB_txn *txn, MDB_dbi meta, const char *prefix, size_t keylen, uint64_t *n);

/* The outbox: lseq(8) -> acked seq(8) sum(8) op (replica.h; a replica
 * of format 4 or older: no sum, until its first write adds them). An
 * entry's parts, read by rpl_outbox_entry: ROVE_EPROTO for a key or value
 * of the wrong size, or one whose sum is not its bytes' (damaged: the
 * sweep of the next sync drops it, saying so). */
typedef struct rpl_entry {
	uint64_t acked;    /* the server's number for the op; 0: not sent */
	const uint8_t *op; /* the op's bytes, in the value read */
	size_t len;
	uint64_t home; /* RPL_MEND_KEY: the number it was queued under, one bit from its key's; else 0 */
} rpl_entry;
int rpl_outbox_entry(const rove_replica *r, const MDB_val *k, const MDB_val *v, rpl_entry *e);
/* Whether outbox (or journal) entry k/v holds its sum: one of format 5,
 * read whole. */
bool rpl_outbox_summed(const MDB_val *k, const MDB_val *v);
/* An entry rpl_outbox_entry refused, read all the same where that is
 * sure (*e: the entry as it was written; scratch: room for a decode):
 * RPL_MEND_BIT, one bit flipped in its answer's number or its sum, the op
 * then read whole; RPL_MEND_KEY, one bit flipped in its key (e->home: the
 * number it was queued under, which the pending index names); RPL_MEND_OLDER, one of format 4 (no sum) in a replica
 * of format 5, written by an older rove that opened it before this one
 * raised its format; RPL_MEND_NONE: damaged. */
enum { RPL_MEND_NONE, RPL_MEND_BIT, RPL_MEND_OLDER, RPL_MEND_KEY };
int rpl_outbox_mend(const rove_replica *r, const MDB_val *k, const MDB_val *v, rpl_entry *e, rove_op *scratch);
/* Whether outbox entry k/v of format 5 holds its sum under a key one bit
 * from k's (its number damaged): that key's number in *home. */
bool rpl_outbox_home(const MDB_val *k, const MDB_val *v, uint64_t *home);
/* rpl_outbox_entry, or else rpl_outbox_mend: what lists show, and what
 * the sweep before each push keeps (and writes anew). */
int rpl_outbox_read(const rove_replica *r, const MDB_val *k, const MDB_val *v, rpl_entry *e, rove_op *scratch);
/* The entry decoded (rpl_outbox_entry, then the op). */
int rpl_outbox_decode(const rove_replica *r, const MDB_val *k, const MDB_val *v, uint64_t *acked, rove_op *op);
/* An outbox entry's acknowledgement alone (checked as rpl_outbox_entry). */
int rpl_outbox_acked(const rove_replica *r, const MDB_val *k, const MDB_val *v, uint64_t *acked);
/* The entry (lseq key, op bytes op/len, as rpl_outbox_entry gave them)
 * laid out in out as format 5 with acknowledgement acked, its sum made
 * anew. Entries are written only so: a write transaction raises an older
 * replica's format first (rpl_txn_begin). */
int rpl_outbox_lay(const uint8_t key[8], uint64_t acked, const uint8_t *op, size_t len, rove_buf *out);
/* A format-5 entry's value (len bytes at val, key lseq's) marked with
 * acknowledgement acked in place, its sum made anew. */
void rpl_outbox_mark(const uint8_t key[8], uint8_t *val, size_t len, uint64_t acked);
/* The outbox of a replica of format 4 or older given sums: every entry
 * laid out anew (one whose op does not decode is left as it is, which
 * then reads damaged, for the sweep to drop), in txn; w: scratch. */
int rpl_outbox_add_sums(rove_replica *r, MDB_txn *txn, rpl_work *w);
/* The outbox's damage in txn: *damaged entries that do not read whole
 * (nor would be mended), *sent of them marked sent (their first 8 bytes
 * not 0: the server may hold them), *gone changes the pending index names past the
 * outbox's count, *disorder whether its keys are not the ascending
 * numbers of 8 bytes they are (a damaged page: a sync refuses); op: room
 * for a decode. */
int rpl_outbox_damage(MDB_txn *txn, rove_replica *r, rove_op *op, uint64_t *damaged, uint64_t *sent,
		      uint64_t *gone, bool *disorder);
/* *n: of the records of the (at most ROVE_SWEEP_VIEW_CHANGES) pending
 * changes, those whose view copy holds a change the outbox lacks (lost
 * with its index entry, on a record with another change: what the next
 * sync says lost). */
int rpl_outbox_unexplained(MDB_txn *txn, rove_replica *r, uint64_t pending, uint64_t *n);
/* The pending index's key (rpl_pending_key) of entry k/v, which holds
 * its sum (rpl_outbox_summed), and its op's stamp: ROVE_EPROTO when it
 * does not, or when its op's head does not decode. */
int rpl_outbox_pending_key(const MDB_val *k, const MDB_val *v, uint8_t key[RPL_PENDING_KEY], rove_stamp *st);
/* A journal entry (lseq(8) -> the outbox's entry as it left it, sum
 * and all; or, kept before the outbox had sums, the op alone) decoded
 * into op: one whose sum does not hold is read as an op alone, which it
 * then is not (ROVE_EPROTO; so is a key not of 8 bytes): a damaged one
 * is never sent again altered after a restore. */
int rpl_journal_dec(const MDB_val *k, const MDB_val *v, rove_op *op);
/* The value the journal keeps for outbox entry v (e: as read from it). */
MDB_val rpl_journal_val(const MDB_val *v, const rpl_entry *e);
/* How many of the outbox's pending entries the server acknowledged.
 * They come first: a push sends the unacknowledged ops in outbox order,
 * its answers acknowledge (or remove) them from the first one sent on,
 * new ops take higher lseqs, and a recovery marks them all
 * unacknowledged (rove_replica_check_index says where that fails). So
 * the count is where the run of acknowledged entries ends, found from
 * both ends at once: about twice the smaller of the two counts in steps,
 * not a walk of the whole table. */
int rpl_outbox_sent(MDB_txn *txn, rove_replica *r, uint64_t pending, uint64_t *sent);
/* Counts in *problems (each said on stderr) the acknowledged entries that
 * follow one not acknowledged: what rpl_outbox_sent assumes never is. */
int rpl_outbox_check(MDB_txn *txn, rove_replica *r, uint64_t *problems);
int rpl_outbox_put(MDB_txn *txn, rove_replica *r, uint64_t lseq, uint64_t acked, const rove_op *op,
		   rove_buf *scratch, unsigned flags);
/* Removes outbox entry lseq (holding op) and its pending entry. */
int rpl_outbox_remove(rove_replica *r, MDB_txn *txn, uint64_t lseq, const rove_op *op);
void rpl_pending_key(uint8_t key[RPL_PENDING_KEY], uint8_t coll, const rove_uuid *id, uint64_t lseq);

/* The last local sequence number used: local sequence numbers name an op
 * in the outbox and the journal alike. */
int rpl_last_lseq(rove_replica *r, MDB_txn *txn, uint64_t *lseq);
/* Queues op (stamped already) in the outbox under lseq (flags: MDB_APPEND
 * after the last, MDB_NOOVERWRITE elsewhere), indexes it and merges it
 * into the record's view. */
int rpl_outbox_queue(rove_replica *r, MDB_txn *txn, uint64_t lseq, const rove_op *op, unsigned flags,
		     rpl_work *w);

/* Calls fn(outbox key, stored outbox value, arg) for each outbox op pending on
 * coll/id, in outbox order (through the pending index). fn returns
 * ROVE_OK to go on; any other code ends the walk and is returned. An index
 * entry without its outbox op is a corrupt replica: ROVE_EPROTO. */
typedef int (*rpl_pending_fn)(const MDB_val *ok, const MDB_val *ov, void *arg);
int rpl_pending_each(rove_replica *r, MDB_txn *txn, uint8_t coll, const rove_uuid *id, rpl_pending_fn fn,
		     void *arg);

/* view[coll/id] := base merged with every outbox op on the record, or no
 * view entry when none is pending. */
int rpl_view_rebuild(rove_replica *r, MDB_txn *txn, uint8_t coll, const rove_uuid *id, rpl_work *w);
/* Merges fs into the view entry of coll/id, making it from base first. */
int rpl_view_merge_pending(rove_replica *r, MDB_txn *txn, uint8_t coll, const rove_uuid *id,
			   const rove_fields *fs, rpl_work *w);

/* ---- the pull position, the journal, recovery (replica_sync.c,
 * replica_recover.c) ---- */

/* The pull position as stored; and stored anew (prev: what was read). */
int rpl_pull_state_get(rove_replica *r, MDB_txn *txn, rove_pull_state *ps);
int rpl_pull_state_put(rove_replica *r, MDB_txn *txn, const rove_pull_state *prev, const rove_pull_state *next);
/* Keeps snap_end with the position it holds for (rove_pull_state): what
 * writes the cursor, the highest acknowledged number or the epoch
 * without it (an older rove) makes it read as not kept. */
int rpl_snap_end_put(rove_replica *r, MDB_txn *txn, uint64_t snap_end, uint64_t cursor, uint64_t ack_seq,
		     uint64_t epoch);

/* Keeps the journal to its latest ops (ROVE_REPLICA_JOURNAL_OPS, or
 * $ROVE_JOURNAL_OPS), noting meta journal_floor when it forgets some. */
int rpl_journal_bound(rove_replica *r, MDB_txn *txn, rpl_work *w);
/* Puts the journal's ops back into the outbox at their lseqs and empties
 * it; known: the base is a fresh snapshot of the server, and, when the
 * journal had forgotten ops (floor above 1), deletes of records it lacks
 * that nothing queued creates again are left out, and its old deletes
 * (those below below) take the numbers past found (rpl_lost_requeue's). */
int rpl_journal_to_outbox(rove_replica *r, MDB_txn *txn, rpl_work *w, bool known, uint64_t floor, uint64_t found,
			  uint64_t below);
/* With the bases just swapped (the old one in r->aside): queues again this
 * replica's writes stamped before floor that the new base lacks, with the
 * numbers from 1 (*found: the last one, and *below: the first number
 * the journal keeps, the old deletes' renumbered below it; both 0 when
 * none were found, or when they went after everything, there being too
 * few numbers). */
int rpl_lost_requeue(rove_replica *r, MDB_txn *txn, uint64_t floor, uint64_t now_ms, uint64_t *found,
		     uint64_t *below);

/* rove_replica_now_ms, inside txn (a transaction begun meanwhile would
 * read the bases' places as last committed). */
uint64_t rpl_now_ms(rove_replica *r, MDB_txn *txn);
/* Keeps op as refused (reason, detail) in the rejected table
 * (replica_rejected.c); scratch: its encoding; *n (if not NULL): its
 * number there. */
int rpl_rejected_add(rove_replica *r, MDB_txn *txn, const rove_op *op, int reason, const char *detail,
		     rove_buf *scratch, uint64_t *n);
/* After rpl_rejected_add of op as refusal n: a change sent again after a
 * restore, refused not_owner, whose record or customer may be what the
 * restored server lacks, waits for it (rove_replica_waiting_settle). */
int rpl_rejected_waits(rove_replica *r, MDB_txn *txn, const rove_op *op, int reason, uint64_t n);
/* op_id was answered: accepted, it was no waiting refusal's send. */
int rpl_rejected_answered(rove_replica *r, MDB_txn *txn, const rove_uuid *op_id);
/* How many orphans wait to be sent (replica_recover.c). */
int rpl_orphans_count(MDB_txn *txn, rove_replica *r, uint64_t *n);
/* Whether the record (coll, id) this replica held was found on the server
 * made under its id by someone else since a restore (replica_recover.c:
 * under another owner holding none of the writes held, newer writes
 * alone, or a child under another customer). */
int rpl_orphan_taken(rove_replica *r, MDB_txn *txn, uint8_t coll, const rove_uuid *id, bool *taken);
/* After a recovery's swap and its orphans noted: the outbox's changes of
 * records someone else made under their ids since the restore (or of
 * what belongs to them) are not sent but kept refused (replica_recover.c,
 * attack fifty-nine). */
int rpl_taken_held_back(rove_replica *r, MDB_txn *txn, rpl_work *w);
/* Forgets the orphan of a record, if any (replica_recover.c): this user
 * deleted it. */
int rpl_orphan_forget(rove_replica *r, MDB_txn *txn, uint8_t coll, const rove_uuid *id);
/* rpl_delete_note: a local op that deletes a record someone else wrote,
 * noted (with the view as it was) for a recovery (replica_recover.c);
 * scratch is overwritten. */
int rpl_delete_note(rove_replica *r, MDB_txn *txn, const rove_op *op, rove_record *scratch);

#endif
