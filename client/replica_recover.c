/*
 * replica_recover.c - the journal of this replica's accepted ops, and
 * recovering from a server whose history is not the one synced with (a
 * restore): the journal and the outbox sent again, and, when the journal
 * had forgotten older ops, the old data compared with the fresh snapshot
 * for own writes the server lacks (replica.h, rove_replica_history_lost).
 */
#include "replica_int.h"

#include "array.h"

#include "db.h"
#include "err.h"
#include "log.h"
#include "report.h"
#include "rules.h"
#include "schema.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the journal ---- */

/* How many ops the journal keeps: ROVE_REPLICA_JOURNAL_OPS, or fewer
 * when $ROVE_JOURNAL_OPS says so (tests of what a restore does beyond
 * the journal; docs/ENVIRONMENT.md). */
static size_t journal_cap(void)
{
	const char *env = getenv("ROVE_JOURNAL_OPS");
	long n = env != NULL ? strtol(env, NULL, 10) : 0;

	return n >= 1 && n <= (long)ROVE_REPLICA_JOURNAL_OPS ? (size_t)n : ROVE_REPLICA_JOURNAL_OPS;
}

/* Entries of the journal that do not decode (damage) are dropped, and
 * count as forgotten: meta "journal_floor" is raised to the stamp of the
 * first op that reads after the last of them (past every stamp when none
 * does), and the ops before it that read go too (but deletes, which a
 * comparison cannot find): a recovery then compares records for all of
 * them (attack sixty-five: a recovery after a restore, and the journal's
 * bound, failed on such an entry for good). *n: how many were dropped. */
/* Raises meta "journal_floor" to floor (never lowers it). */
static int journal_floor_raise(rove_replica *r, MDB_txn *txn, uint64_t floor)
{
	uint64_t old = 0;
	int rc = rpl_meta_u64(txn, r->meta, "journal_floor", &old);

	return rc == ROVE_OK && floor > old ? rove_db_put_u64(txn, r->meta, "journal_floor", floor) : rc;
}

static int journal_sweep(rove_replica *r, MDB_txn *txn, rpl_work *w, uint64_t *n)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t last_bad = 0, floor = 0;
	bool any = false, after = false;
	int mrc, rc = rove_db_err(mdb_cursor_open(txn, r->journal, &c), "cursor");

	*n = 0;
	if (rc != ROVE_OK)
		return rc;
	/* the last entry that does not decode; the first that does after it */
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0; mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		bool ok = rpl_journal_dec(&k, &v, &w->op) == ROVE_OK;
		if (!ok) {
			any = true;
			after = false;
			last_bad = k.mv_size == 8 ? rove_be64_get(k.mv_data) : last_bad;
			continue;
		}
		if (any && !after) {
			after = true;
			floor = w->op.st.hlc.v;
		}
	}
	if (mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, "journal");
	/* none reads after the damage: past every stamp */
	if (rc == ROVE_OK && any && !after)
		rc = rpl_clock_past_all(r, txn, w, &floor);
	/* drop the damaged, and what reads before the last of them: each
	 * found from the key after the last one dropped (a cursor's place
	 * moves under a delete) */
	for (mrc = rc == ROVE_OK && any ? mdb_cursor_get(c, &k, &v, MDB_FIRST) : MDB_NOTFOUND; rc == ROVE_OK && mrc == 0;) {
		bool ok = rpl_journal_dec(&k, &v, &w->op) == ROVE_OK;
		if (ok && (rove_be64_get(k.mv_data) > last_bad || w->op.kind == ROVE_OP_DELETE || w->op.st.hlc.v >= floor)) {
			mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
			continue;
		}
		rc = rove_db_del_next(c, &k, &v, &mrc, "journal");
		*n += !ok;
	}
	if (rc == ROVE_OK && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, "journal");
	mdb_cursor_close(c);
	if (rc == ROVE_OK && any)
		rc = journal_floor_raise(r, txn, floor);
	if (rc == ROVE_OK && any)
		rove_warn("%" PRIu64 " entr%s of this replica's journal of changes the server accepted did not decode "
			  "(damaged): dropped; should the server lack those changes (restored from a backup), this "
			  "replica's records are compared with the server's",
			  *n, *n == 1 ? "y" : "ies");
	return rc;
}

/* Keeps the journal to its latest journal_cap() ops: older ones are
 * forgotten, and meta "journal_floor" keeps a clock past the newest one
 * forgotten. This replica's writes stamped before it are no longer in the
 * journal; a recovery finds those the server lost by comparing records
 * (rpl_lost_requeue). Deletes are never forgotten: a deleted record leaves
 * the replica, so no comparison could find a delete the server lost (they
 * are few: only managers and admins delete). */
int rpl_journal_bound(rove_replica *r, MDB_txn *txn, rpl_work *w)
{
	MDB_stat ms;
	MDB_cursor *c;
	MDB_val k, v;
	size_t extra, cap = journal_cap();
	uint64_t floor = 0, dropped = 0;
	int rc = rove_db_err(mdb_stat(txn, r->journal, &ms), "journal");
	int mrc;

	if (rc != ROVE_OK || ms.ms_entries <= cap)
		return rc;
	rc = journal_sweep(r, txn, w, &dropped);
	if (rc == ROVE_OK && dropped > 0)
		rc = rove_db_err(mdb_stat(txn, r->journal, &ms), "journal");
	if (rc != ROVE_OK || ms.ms_entries <= cap)
		return rc;
	extra = ms.ms_entries - cap;
	rc = rove_db_err(mdb_cursor_open(txn, r->journal, &c), "cursor");
	if (rc != ROVE_OK)
		return rc;
	mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	while (rc == ROVE_OK && mrc == 0 && extra > 0) {
		if (rpl_journal_dec(&k, &v, &w->op) != ROVE_OK) {
			rove_error("corrupt entry in the replica's journal");
			rc = ROVE_EPROTO;
			break;
		}
		if (w->op.kind == ROVE_OP_DELETE) {
			mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
			continue;
		}
		if (w->op.st.hlc.v >= floor)
			floor = w->op.st.hlc.v + 1;
		if (k.mv_size != 8) {
			rc = ROVE_EPROTO;
			break;
		}
		rc = rove_db_del_next(c, &k, &v, &mrc, "journal");
		extra--;
	}
	if (rc == ROVE_OK && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, "journal");
	mdb_cursor_close(c);
	if (rc == ROVE_OK && floor != 0)
		rc = journal_floor_raise(r, txn, floor);
	return rc;
}

/* ---- what a restored server lost beyond the journal ---- */

/* A recovery sends the journal again, but the journal keeps only the
 * latest ops. When it had forgotten older ones (a "journal_floor"), the
 * recovery notes that floor ("recover_floor"), and when the fresh snapshot
 * replaces the base, the old base is compared with it: this replica's
 * writes stamped before the floor that the new base lacks (the record is
 * gone, or the field holds an older write) are queued again as new ops -
 * the record created anew from what the old base held of it, a field
 * written again with its own stamp, so that a later write by anyone else
 * still wins (deletes are never forgotten by the journal, and follow).
 * Fields the server sets (owner, times) are not sent, but for the owner
 * of a record created anew (lost_owner); records the server alone
 * writes, and those others deleted, are left. The server decides these
 * ops like any other. */
typedef struct lost_walk {
	rove_replica *r;
	MDB_txn *txn;
	uint64_t floor, lseq;
	uint64_t n;  /* ops queued (or, counting, that would be) */
	uint64_t refused; /* orphans kept as refused (someone else's customer) */
	bool count;  /* only count them */
	bool all;    /* every write the server lacks, whoever made it (orphans) */
	rpl_work *w; /* a: the old record, b: the new one */
	rpl_work *q; /* the op being queued, and the queue's scratch */
	enum lost_pass { LOST_DEALERS, LOST_REST, LOST_RELEASES } pass; /* lost_walks */
} lost_walk;

/* Whether f (of a record of c) is a write the server may have lost that
 * this replica sends again: its own stamped before the floor (later ones
 * are in the journal), or another's (lw->all: an orphan, below; its own
 * go as its journal sends them, and wait for the record when refused:
 * attack fifty-eight found them sent again by the orphans, a write
 * refused for good or dismissed by hand among them). */
static bool lost_field(const lost_walk *lw, const rove_field *f, const rove_coll_def *c)
{
	const rove_field_def *fd = rove_schema_field(c, f->name);

	if (fd == NULL || (fd->flags & ROVE_FF_SYSTEM))
		return false;
	return lw->all ? f->st.node != lw->r->node : f->st.node == lw->r->node && f->st.hlc.v < lw->floor;
}

/* A customer's owner as the old base knew it (a value, or null: the
 * pool); NULL when the record is no customer or holds none. A record
 * created anew keeps it (attacks forty-one and forty-three: left out, as
 * the server sets owners, each came back with its author's default
 * owner - a manager's, a rep's again after others released it). */
static const rove_field *lost_owner(const rove_record *old)
{
	return old->coll == ROVE_COLL_CUSTOMER ? rove_fields_get(&old->fs, "owner") : NULL;
}

static int lost_queue(lost_walk *lw)
{
	lw->n++;
	if (lw->count)
		return ROVE_OK;
	lw->q->op.seq = ROVE_SEQ_GIVEN; /* a stamp the server gave (the old base's) */
	return rpl_outbox_queue(lw->r, lw->txn, ++lw->lseq, &lw->q->op, MDB_NOOVERWRITE, lw->q);
}

/* Queues each write of old (a record of c) the server lacks - now, the
 * record in the new base, holds none of it or an older one - one op per
 * stamp (per op it came from), oldest first; after: up to first is sent
 * already (a create). */
static int lost_updates(lost_walk *lw, const rove_record *old, const rove_record *now, const rove_coll_def *c,
			rove_stamp first, bool after)
{
	int rc = ROVE_OK;

	for (bool have = after; rc == ROVE_OK;) {
		rove_stamp next = {{0}, 0};
		bool found = false;
		for (uint32_t i = 0; i < old->fs.n; i++) {
			const rove_field *f = &old->fs.f[i], *g = rove_fields_get(&now->fs, f->name);
			if (!lost_field(lw, f, c) || (g != NULL && rove_stamp_cmp(&g->st, &f->st) >= 0))
				continue; /* the server has it, or a later write */
			if (have && rove_stamp_cmp(&f->st, &first) <= 0)
				continue; /* sent already */
			if (!found || rove_stamp_cmp(&f->st, &next) < 0) {
				next = f->st;
				found = true;
			}
		}
		if (!found)
			break;
		rove_op_init(&lw->q->op, ROVE_OP_UPDATE, old->coll, &old->id, next);
		for (uint32_t i = 0; rc == ROVE_OK && i < old->fs.n; i++) {
			const rove_field *f = &old->fs.f[i];
			if (lost_field(lw, f, c) && rove_stamp_cmp(&f->st, &next) == 0)
				rc = rove_op_set(&lw->q->op, f->name, f->v);
		}
		if (rc == ROVE_OK)
			rc = lost_queue(lw);
		first = next;
		have = true;
	}
	return rc;
}

/* Queues old (a record of c) created anew as it is, stamped first: its
 * fields but those the server sets, and, named (a manager's or admin's
 * create names it, the pool too), a customer's owner. */
static int lost_create_op(lost_walk *lw, const rove_record *old, const rove_coll_def *c, rove_stamp first,
			  const rove_field *owner)
{
	int rc = ROVE_OK;

	rove_op_init(&lw->q->op, ROVE_OP_CREATE, old->coll, &old->id, first);
	for (uint32_t i = 0; rc == ROVE_OK && i < old->fs.n; i++) {
		const rove_field_def *fd = rove_schema_field(c, old->fs.f[i].name);
		/* an orphan's: others' writes alone (lost_field) */
		if (lw->all ? lost_field(lw, &old->fs.f[i], c) : fd != NULL && !(fd->flags & ROVE_FF_SYSTEM))
			rc = rove_op_set(&lw->q->op, old->fs.f[i].name, old->fs.f[i].v);
	}
	if (rc == ROVE_OK && owner != NULL)
		rc = rove_op_set(&lw->q->op, "owner", owner->v);
	return rc;
}

static int lost_create(lost_walk *lw, const rove_record *old, const rove_coll_def *c, rove_stamp first,
		       const rove_field *owner)
{
	int rc = lost_create_op(lw, old, c, first, owner);

	return rc == ROVE_OK ? lost_queue(lw) : rc;
}

/* Whether this replica made rec: its oldest write is this replica's (a
 * create writes every field it sets at its stamp, and a later write,
 * made after seeing the record, is stamped later). */
static bool made_here(const rove_replica *r, const rove_record *rec)
{
	const rove_field *oldest = NULL;

	for (uint32_t i = 0; i < rec->fs.n; i++)
		if (oldest == NULL || rove_stamp_cmp(&rec->fs.f[i].st, &oldest->st) < 0)
			oldest = &rec->fs.f[i];
	return oldest != NULL && oldest->st.node == r->node;
}

/* A rep's customer old that was in the pool (owner: null), created anew
 * (stamped first): the release, at the stamp of hers that put it there,
 * else just after. Queued by a second walk, after every record and what
 * belongs to them: her contacts, deals and notes of it, made before she
 * released it, would come after the release and be refused (the model
 * check with a journal of 3, seed 303). */
/* Queues the release of old (a customer) stamped at, with the reason the
 * old base holds. */
static int queue_release(lost_walk *lw, const rove_record *old, rove_stamp at)
{
	const rove_field *why = rove_fields_get(&old->fs, "release_reason");
	int rc;

	rove_op_init(&lw->q->op, ROVE_OP_RELEASE, old->coll, &old->id, at);
	rc = rove_op_set(&lw->q->op, "owner", rove_vnull());
	if (rc == ROVE_OK && why != NULL && why->v.type == ROVE_V_STR)
		rc = rove_op_set(&lw->q->op, "release_reason", why->v);
	return rc == ROVE_OK ? lost_queue(lw) : rc;
}

static int lost_release(lost_walk *lw, const rove_record *old, const rove_field *owner, rove_stamp first)
{
	rove_stamp at = {{first.hlc.v + 1}, first.node};

	/* hers, and the journal holds it: it goes from there (sent twice,
	 * the second came back refused, and with the numbers below the
	 * journal's first too few, every op found went after it all:
	 * the model check with a journal of 3, seed 1000) */
	if (owner->st.node == lw->r->node && owner->st.hlc.v >= lw->floor)
		return ROVE_OK;
	if (owner->st.node == lw->r->node && rove_stamp_cmp(&owner->st, &first) > 0)
		at = owner->st;
	return queue_release(lw, old, at);
}

/* A customer this user claimed (old: as the old base held it, its
 * owner this user's, written by this replica before the floor) that the
 * server holds in the pool (now): the claim again, at its stamp, before
 * the writes that followed it, which a rep may only make to a customer
 * she owns (the model check with a journal of 3, seed 1028: left out as
 * the server sets owners, her later edits came back refused). Someone
 * else's claim since comes first (SPEC rule 5): refused already_claimed,
 * as it would have been. */
/* Whether f (an owner) names this replica's user. */
static bool names_me(const rove_replica *r, const rove_field *f)
{
	return f != NULL && f->v.type == ROVE_V_STR && f->v.len == strlen(r->auth.user) &&
	       memcmp(f->v.s, r->auth.user, f->v.len) == 0;
}

static bool claimed_here(const lost_walk *lw, const rove_record *old)
{
	const rove_field *was = lost_owner(old);

	return names_me(lw->r, was) && was->st.node == lw->r->node && was->st.hlc.v < lw->floor;
}

/* A customer this user released (old: in the pool, by this replica's
 * write before the floor) that the server holds with an older owner
 * (now): the release again, at its stamp, with its reason - in the last
 * walk, after this user's writes of it and of what belongs to it (the
 * model check with a journal of 3, seed 1008: left out, the customer
 * stayed hers). */
static bool released_here(const lost_walk *lw, const rove_record *old)
{
	const rove_field *was = lost_owner(old);

	return was != NULL && was->v.type == ROVE_V_NULL && was->st.node == lw->r->node && was->st.hlc.v < lw->floor;
}

static int lost_release_again(lost_walk *lw, const rove_record *old, const rove_record *now)
{
	const rove_field *was = lost_owner(old), *is = lost_owner(now);

	if (!released_here(lw, old) || is == NULL || is->v.type == ROVE_V_NULL || rove_stamp_cmp(&is->st, &was->st) >= 0)
		return ROVE_OK;
	return queue_release(lw, old, was->st);
}

static int lost_claim(lost_walk *lw, const rove_record *old, const rove_record *now)
{
	const rove_field *was = lost_owner(old), *is = lost_owner(now);
	int rc;

	if (!claimed_here(lw, old) || is == NULL || is->v.type != ROVE_V_NULL || rove_stamp_cmp(&is->st, &was->st) >= 0)
		return ROVE_OK;
	rove_op_init(&lw->q->op, ROVE_OP_CLAIM, old->coll, &old->id, was->st);
	rc = rove_op_set(&lw->q->op, "owner", was->v);
	return rc == ROVE_OK ? lost_queue(lw) : rc;
}

static int lost_one(const MDB_val *k, const MDB_val *v, void *arg)
{
	lost_walk *lw = arg;
	rove_record *old = &lw->w->a, *now = &lw->w->b;
	const rove_coll_def *c;
	const rove_field *del;
	rove_stamp first = {{0}, 0};
	bool any = false;
	int rc;

	/* (a record's key starts with its collection) */
	if (k->mv_size < 1 || (lw->pass == LOST_DEALERS) != (((const uint8_t *)k->mv_data)[0] == ROVE_COLL_DEALER) ||
	    (lw->pass == LOST_RELEASES && ((const uint8_t *)k->mv_data)[0] != ROVE_COLL_CUSTOMER))
		return ROVE_OK;
	rc = rpl_rec_decode(lw->r, v, old);
	if (rc != ROVE_OK)
		return rc == ROVE_ENOTFOUND ? ROVE_OK : rc; /* damaged: its copy comes anew */
	c = rove_schema_coll(old->coll);
	/* (a target set again over a deleted one holds the mark at 0) */
	del = rove_record_deleted(old) ? rove_fields_get(&old->fs, ROVE_FIELD_DELETED) : NULL;
	/* Deleted by someone else: not brought back. */
	if (c == NULL || (c->flags & ROVE_CF_SERVER) || (del != NULL && del->st.node != lw->r->node))
		return ROVE_OK;
	for (uint32_t i = 0; i < old->fs.n; i++) {
		const rove_field *f = &old->fs.f[i];
		if (lost_field(lw, f, c) && (!any || rove_stamp_cmp(&f->st, &first) < 0)) {
			first = f->st;
			any = true;
		}
	}
	if (!any && (del != NULL || (lw->pass == LOST_REST ? !claimed_here(lw, old)
							   : lw->pass != LOST_RELEASES || !released_here(lw, old))))
		return ROVE_OK;
	rc = rpl_rec_get(lw->txn, lw->r->base, old->coll, &old->id, now);
	if (!any && rc == ROVE_OK) /* a claim or a release alone */
		return lw->pass == LOST_REST ? lost_claim(lw, old, now) : lost_release_again(lw, old, now);
	if (!any)
		return rc == ROVE_ENOTFOUND ? ROVE_OK : rc;
	/* Gone, and deleted here: not made anew. The server holds it deleted
	 * (a fresh copy leaves deleted records out), or it was made and
	 * deleted after the copy; the journal keeps the delete, which goes,
	 * or waits for the record, when someone else wrote it
	 * (delete_of_gone). Made anew, it came back refused "deleted" with
	 * its edits (the model check with a journal of 3, seed 1012). */
	if (rc == ROVE_ENOTFOUND && del != NULL)
		return ROVE_OK;
	if (rc == ROVE_ENOTFOUND) {
		/* Gone: created anew as the old base knew it, stamped as its
		 * oldest write by this replica. */
		const rove_field *owner = lost_owner(old);
		bool rep = strcmp(lw->r->role, "rep") == 0;
		bool pool = owner != NULL && owner->v.type == ROVE_V_NULL;
		/* Rule 2: a rep owns what she creates, and gives it up by a
		 * release; one someone else owns is not hers to make again. */
		if (rep && owner != NULL && !pool && !names_me(lw->r, owner))
			return ROVE_OK;
		/* One a rep did not make (her writes to a customer reassigned
		 * to her since the copy, say): her writes alone, as her journal
		 * would have sent them - refused while the server lacks the
		 * record or it is not hers there, they wait for it (the
		 * reassignment redone). Made anew, her create of another's
		 * customer came back refused, for good (attack sixty-seven). */
		if (rep && !made_here(lw->r, old)) {
			if (lw->pass == LOST_RELEASES)
				return ROVE_OK;
			rove_fields_init(&now->fs);
			return lost_updates(lw, old, now, c, first, false);
		}
		if (lw->pass == LOST_RELEASES)
			return rep && pool ? lost_release(lw, old, owner, first) : ROVE_OK;
		/* A manager's or admin's create names the owner (the pool too). */
		rc = lost_create(lw, old, c, first, rep ? NULL : owner);
		/* Its later writes again with their own stamps: the create
		 * holds them at its own, which an older write of another's
		 * would beat (attack sixty-six: a rep's acknowledged edit lost
		 * to a manager's earlier one). */
		if (rc == ROVE_OK) {
			rove_fields_init(&now->fs);
			rc = lost_updates(lw, old, now, c, first, true);
		}
		return rc;
	}
	if (rc != ROVE_OK || del != NULL)
		return rc; /* deleted here: the journal has the delete */
	if (lw->pass == LOST_RELEASES)
		return lost_release_again(lw, old, now);
	rc = lost_claim(lw, old, now);
	return rc == ROVE_OK ? lost_updates(lw, old, now, c, first, false) : rc;
}

/* ---- others' writes a restored server lacks: orphans ---- */

/* A manager's or an admin's replica may hold what others wrote that the
 * restored server lacks: a rep's laptop lost with the changes she alone
 * had synced (attack fifty-three), which SPEC's recovery "sends again
 * what it holds that the server lacks" asks for. Sent at once, they
 * would be this user's changes (rule 10: the server names the author),
 * decided under this user's rules, before their authors (whose laptops
 * are mostly not lost) send their own again: a restore's outcome would
 * hang on who synced first. So the recovery notes them (orphans: meta
 * "orphan/" + the record's key -> the record as the old base held it,
 * and "orphans_at" -> when, by the server's time), and each later sync,
 * after it pulled, settles them (rove_replica_orphans_settle): one whose
 * writes the server holds now (its author sent them) is forgotten; one
 * still lacking any ROVE_ORPHAN_WAIT_MS later (by the server's time, as
 * the sync measured it) is sent as this user's change, with the
 * stamps the server gave its writes, so that they merge where they did:
 * a record gone created anew (naming the owner it had, the pool too),
 * then a write for each later stamp of its fields. A rep's replica notes
 * none: a rep's create of another's customer would make it hers.
 *
 * An orphan seen on the server after the recovery and gone again was
 * deleted there since: forgotten ("orphon/", attack fifty-six: after a
 * compaction dropped its tombstone, a manager made it anew). An orphan
 * customer first seen there with another owner than this replica knew
 * was made under its id by someone else (attack fifty-seven: a rep who
 * knew the id of one the restore lost, with a modified client), or
 * claimed since its author sent it again: nothing of it, nor of what
 * belongs to it, is sent; each is kept in `rove rejected` as a create
 * refused, to be seen and settled by hand ("othown/" marks the
 * customer for its children). This
 * user's own changes the server refuses as it lacks their record (a
 * contact on an orphan customer) are refused as any change that came
 * before what it depends on (OPERATIONS.md): kept in `rove rejected`,
 * to be retried once the record is back (the model check holds them to
 * that).
 *
 * This user's own delete of a record the restored server lacks (made
 * after the copy, the delete too) forgets the record's orphan, and is
 * sent again like any change: refused as it came before the record, and
 * kept in `rove rejected` to be retried when its author sends the record
 * again (attack fifty-five found it dropped without a word; kept aside
 * and sent when the record came back, it went against the rules the
 * model check holds the replicas to, seed 855892871). */

#define ORPHAN_PREFIX "orphan/" /* not seen on the server since the recovery */
#define ORPHON_PREFIX "orphon/" /* seen there since: gone again, it was deleted */
#define TAKEN_PREFIX "othown/" /* an orphan customer found with another owner */
#define DELOTH_PREFIX "deloth/" /* this user deleted it, someone else wrote it (rpl_delete_note) */
#define ORPHAN_PLEN (sizeof(ORPHAN_PREFIX) - 1) /* all the same length */
#define ORPHAN_KEY (ORPHAN_PLEN + ROVE_RECORD_KEY)
_Static_assert(sizeof(ORPHAN_PREFIX) == sizeof(ORPHON_PREFIX) && sizeof(ORPHAN_PREFIX) == sizeof(TAKEN_PREFIX) &&
		       sizeof(ORPHAN_PREFIX) == sizeof(DELOTH_PREFIX),
	       "orphan prefixes");

/* The order orphans are sent in: what others refer to first (a
 * customer's dealer, a child's customer). */
static const uint8_t orphan_colls[] = {ROVE_COLL_DEALER,      ROVE_COLL_CUSTOMER, ROVE_COLL_CONTACT,
				       ROVE_COLL_CONTRACT,    ROVE_COLL_OPPORTUNITY, ROVE_COLL_ACTIVITY,
				       ROVE_COLL_TARGET};

static void orphan_key(uint8_t key[ORPHAN_KEY], const char *prefix, uint8_t coll, const rove_uuid *id)
{
	memcpy(key, prefix, ORPHAN_PLEN);
	rove_record_key(key + ORPHAN_PLEN, coll, id);
}

/* Whether meta holds prefix + the record's key. */
static int marked(rove_replica *r, MDB_txn *txn, const char *prefix, uint8_t coll, const rove_uuid *id, bool *yes)
{
	uint8_t key[ORPHAN_KEY];
	MDB_val k = {ORPHAN_KEY, key}, v;
	int mrc;

	orphan_key(key, prefix, coll, id);
	mrc = mdb_get(txn, r->meta, &k, &v);
	*yes = mrc == 0;
	return mrc == 0 || mrc == MDB_NOTFOUND ? ROVE_OK : rove_db_err(mrc, "meta");
}

int rpl_orphan_taken(rove_replica *r, MDB_txn *txn, uint8_t coll, const rove_uuid *id, bool *taken)
{
	return marked(r, txn, TAKEN_PREFIX, coll, id, taken);
}

static int taken_mark(rove_replica *r, MDB_txn *txn, uint8_t coll, const rove_uuid *id)
{
	uint8_t key[ORPHAN_KEY];
	MDB_val k = {ORPHAN_KEY, key}, v = {1, (void *)"1"};

	orphan_key(key, TAKEN_PREFIX, coll, id);
	return rove_db_err(mdb_put(txn, r->meta, &k, &v, 0), "meta");
}

/* A delete of a record someone else wrote (or made) is noted when it is
 * made (meta DELOTH_PREFIX + the record's key), as a deleted record
 * leaves the replica: a recovery whose journal forgot older ops leaves
 * out a delete of a record the restored server lacks - its create, by
 * this replica, may be among those forgotten, and the delete would wait
 * for it in vain - but not one of another's record, which its author's
 * replica may send again (delete_of_gone). One entry per such delete,
 * kept as long as the journal keeps deletes. */
int rpl_delete_note(rove_replica *r, MDB_txn *txn, const rove_op *op, rove_record *scratch)
{
	const rove_coll_def *c = rove_schema_coll(op->coll);
	uint8_t key[ORPHAN_KEY];
	MDB_val k = {ORPHAN_KEY, key}, v = {1, (void *)"1"};
	bool others = false, pending;
	int rc;

	if (c == NULL || !rove_rules_deletes(op))
		return ROVE_OK;
	rc = rpl_visible_get(r, txn, op->coll, &op->rid, scratch, &pending);
	if (rc == ROVE_ENOTFOUND)
		return ROVE_OK;
	for (uint32_t i = 0; rc == ROVE_OK && i < scratch->fs.n && !others; i++) {
		const rove_field_def *fd = rove_schema_field(c, scratch->fs.f[i].name);
		others = fd != NULL && !(fd->flags & ROVE_FF_SYSTEM) && scratch->fs.f[i].st.node != r->node;
	}
	if (rc != ROVE_OK || !others)
		return rc;
	orphan_key(key, DELOTH_PREFIX, op->coll, &op->rid);
	return rove_db_err(mdb_put(txn, r->meta, &k, &v, 0), "meta");
}

static int deleted_others(rove_replica *r, MDB_txn *txn, uint8_t coll, const rove_uuid *id, bool *yes)
{
	return marked(r, txn, DELOTH_PREFIX, coll, id, yes);
}

/* Whether now (the server's record) is another's made under the id of
 * old (this replica's, a record of c) since the restore: a child under
 * another customer (a child never moves), or a record holding none of
 * old's writes and only writes newer than all of them (a version older
 * than this replica's holds older ones; attack fifty-nine: a rep who
 * knew a lost customer's id made one under it before a manager's
 * recovery, and his journal's changes went into hers). */
static bool squatted(const rove_record *old, const rove_record *now, const rove_coll_def *c)
{
	const rove_field_def *pf = rove_schema_parent_field(c);
	rove_stamp newest = {{0}, 0};
	bool any = false;

	if (pf != NULL) {
		const char *a = rove_fields_str(&old->fs, pf->name), *b = rove_fields_str(&now->fs, pf->name);
		if (a != NULL && b != NULL && strcmp(a, b) != 0)
			return true;
	}
	for (uint32_t i = 0; i < old->fs.n; i++) {
		const rove_field_def *fd = rove_schema_field(c, old->fs.f[i].name);
		if (fd != NULL && !(fd->flags & ROVE_FF_SYSTEM) && rove_stamp_cmp(&old->fs.f[i].st, &newest) > 0)
			newest = old->fs.f[i].st;
	}
	for (uint32_t i = 0; i < now->fs.n; i++) {
		const rove_field *g = &now->fs.f[i], *f = rove_fields_get(&old->fs, g->name);
		const rove_field_def *fd = rove_schema_field(c, g->name);
		if (fd == NULL || (fd->flags & ROVE_FF_SYSTEM))
			continue;
		if ((f != NULL && rove_stamp_cmp(&f->st, &g->st) == 0) || rove_stamp_cmp(&g->st, &newest) <= 0)
			return false;
		any = true;
	}
	return any;
}

/* Whether this replica's user may write others' records within reach,
 * naming any owner: a manager or an admin. */
static bool writes_for_others(const rove_replica *r)
{
	return strcmp(r->role, "manager") == 0 || strcmp(r->role, "admin") == 0;
}

/* How long the authors have to send their writes again: $ROVE_ORPHAN_WAIT
 * seconds (docs/ENVIRONMENT.md), else ROVE_ORPHAN_WAIT_MS. */
static uint64_t orphan_wait_ms(void)
{
	const char *env = getenv("ROVE_ORPHAN_WAIT");
	uint64_t sec = 0;

	if (env == NULL || *env == '\0')
		return ROVE_ORPHAN_WAIT_MS;
	for (const char *p = env; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || sec > (UINT64_MAX / 1000 - 9) / 10) {
			rove_warn("ROVE_ORPHAN_WAIT=%s is not a number of seconds: ignored", env);
			return ROVE_ORPHAN_WAIT_MS;
		}
		sec = sec * 10 + (uint64_t)(*p - '0');
	}
	return sec * 1000;
}

typedef struct orphan_walk {
	rove_replica *r;
	MDB_txn *txn;
	rpl_work *w;
	uint64_t n;
} orphan_walk;

/* One record of the old base (r->aside): noted when another's write of
 * it is missing from the new base (r->base). */
static int orphan_note_one(const MDB_val *k, const MDB_val *v, void *arg)
{
	orphan_walk *ow = arg;
	rove_record *old = &ow->w->a, *now = &ow->w->b;
	const rove_coll_def *c;
	uint8_t key[ORPHAN_KEY];
	MDB_val ok = {ORPHAN_KEY, key}, ov = *v;
	bool lacks = false;
	int rc;

	(void)k;
	rc = rpl_rec_decode(ow->r, v, old);
	if (rc != ROVE_OK)
		return rc == ROVE_ENOTFOUND ? ROVE_OK : rc; /* damaged: its copy comes anew */
	c = rove_schema_coll(old->coll);
	/* Deleted (by anyone): not brought back. (A target set again over a
	 * deleted one holds the mark at 0: attack fifty-six, targets were
	 * left out.) */
	if (c == NULL || (c->flags & ROVE_CF_SERVER) || rove_record_deleted(old))
		return ROVE_OK;
	rc = rpl_rec_get(ow->txn, ow->r->base, old->coll, &old->id, now);
	if (rc == ROVE_ENOTFOUND)
		rove_fields_init(&now->fs);
	else if (rc != ROVE_OK)
		return rc;
	/* made under its id by someone else since the restore: its own
	 * changes are not sent to it either (journal_op_back) */
	if (rc == ROVE_OK && !rove_record_deleted(now) && squatted(old, now, c)) {
		rc = taken_mark(ow->r, ow->txn, old->coll, &old->id);
		if (rc != ROVE_OK)
			return rc;
	}
	for (uint32_t i = 0; i < old->fs.n && !lacks; i++) {
		const rove_field *f = &old->fs.f[i], *g = rove_fields_get(&now->fs, f->name);
		const rove_field_def *fd = rove_schema_field(c, f->name);
		lacks = fd != NULL && !(fd->flags & ROVE_FF_SYSTEM) && f->st.node != ow->r->node &&
			(g == NULL || rove_stamp_cmp(&g->st, &f->st) < 0);
	}
	if (!lacks)
		return ROVE_OK;
	ow->n++;
	orphan_key(key, ORPHAN_PREFIX, old->coll, &old->id);
	return rove_db_err(mdb_put(ow->txn, ow->r->meta, &ok, &ov, 0), "meta");
}

/* With the bases just swapped by a recovery: notes the orphans (above). */
static int orphans_note(rove_replica *r, MDB_txn *txn, uint64_t now_ms)
{
	orphan_walk ow = {r, txn, rpl_work_new(), 0};
	int rc = ow.w != NULL ? ROVE_OK : ROVE_ENOMEM;

	if (rc == ROVE_OK)
		rc = rove_db_each(txn, r->aside, "base", orphan_note_one, &ow);
	/* a restore anew: its orphans wait from now (with those of an
	 * earlier one still waiting) */
	if (rc == ROVE_OK && ow.n > 0)
		rc = rove_db_put_u64(txn, r->meta, "orphans_at", now_ms != 0 ? now_ms : 1);
	if (rc == ROVE_OK && ow.n > 0) {
		/* in hours (rounded up), or seconds when shorter
		 * (ROVE_ORPHAN_WAIT): attack sixty-six saw "1 hours" for 2 s */
		uint64_t ms = orphan_wait_ms(), n = ms >= 3600000 ? (ms + 3599999) / 3600000 : (ms + 999) / 1000;
		const char *unit = ms >= 3600000 ? "hour" : "second";
		rove_warn("the server lacks %" PRIu64 " record%s others wrote that this replica holds: sent again "
			  "as yours by a sync %" PRIu64 " %s%s from now, unless their authors' replicas send them "
			  "first",
			  ow.n, ow.n == 1 ? "" : "s", n, unit, n == 1 ? "" : "s");
	}
	rpl_work_free(ow.w);
	return rc;
}

int rpl_orphan_forget(rove_replica *r, MDB_txn *txn, uint8_t coll, const rove_uuid *id)
{
	uint8_t key[ORPHAN_KEY];
	MDB_val k = {ORPHAN_KEY, key};
	int mrc;

	orphan_key(key, ORPHAN_PREFIX, coll, id);
	mrc = mdb_del(txn, r->meta, &k, NULL);
	if (mrc == 0 || mrc == MDB_NOTFOUND) {
		orphan_key(key, ORPHON_PREFIX, coll, id);
		mrc = mdb_del(txn, r->meta, &k, NULL);
	}
	return mrc == 0 || mrc == MDB_NOTFOUND ? ROVE_OK : rove_db_err(mrc, "meta");
}

/* Settles the orphan old (its meta entry just read): *done when it is to
 * be forgotten (the server holds it all, or it was queued now). */
/* Whether old is an open deal whose customer, as the server holds it now,
 * has another owner than the deal (attack fifty-six: made anew with its
 * old owner on a customer another rep had claimed since). */
static bool deal_follows(lost_walk *lw, const rove_record *old)
{
	const char *stage = rove_fields_str(&old->fs, "stage"), *owner = rove_fields_str(&old->fs, "owner");
	const char *cust = rove_fields_str(&old->fs, "customer"), *now;
	rove_uuid cid;

	if (old->coll != ROVE_COLL_OPPORTUNITY || owner == NULL || cust == NULL ||
	    (stage != NULL && (strcmp(stage, "won") == 0 || strcmp(stage, "lost") == 0)) ||
	    rove_uuid_parse(cust, &cid) != ROVE_OK ||
	    rpl_rec_get(lw->txn, lw->r->base, ROVE_COLL_CUSTOMER, &cid, &lw->q->b) != ROVE_OK)
		return false;
	now = rove_fields_str(&lw->q->b.fs, "owner"); /* (scratch: the queue's) */
	return now == NULL || strcmp(now, owner) != 0;
}

/* Whether a and b name the same owner (both none: the pool). */
static bool same_owner(const rove_record *a, const rove_record *b)
{
	const char *x = rove_fields_str(&a->fs, "owner"), *y = rove_fields_str(&b->fs, "owner");

	return x == NULL || y == NULL ? x == y : strcmp(x, y) == 0;
}

/* Whether now holds one of old's writes (a field of c with its stamp). */
static bool shares_a_write(const rove_record *old, const rove_record *now, const rove_coll_def *c)
{
	for (uint32_t i = 0; i < old->fs.n; i++) {
		const rove_field *f = &old->fs.f[i], *g = rove_fields_get(&now->fs, f->name);
		const rove_field_def *fd = rove_schema_field(c, f->name);
		if (fd != NULL && !(fd->flags & ROVE_FF_SYSTEM) && g != NULL && rove_stamp_cmp(&g->st, &f->st) == 0)
			return true;
	}
	return false;
}

/* Whether an orphan customer of the id old's field "customer" names was
 * found with another owner (TAKEN_PREFIX). */
static int parent_taken(lost_walk *lw, const rove_record *old, bool *taken)
{
	const char *cust = rove_fields_str(&old->fs, "customer");
	rove_uuid cid;

	*taken = false;
	if (cust == NULL || rove_uuid_parse(cust, &cid) != ROVE_OK)
		return ROVE_OK;
	return rpl_orphan_taken(lw->r, lw->txn, ROVE_COLL_CUSTOMER, &cid, taken);
}

/* Keeps the orphan old (a record of c) in `rove rejected` as its create
 * refused: someone else holds its customer (above). */
static int orphan_refused(lost_walk *lw, const rove_record *old, const rove_coll_def *c, rove_stamp first)
{
	int rc = lost_create_op(lw, old, c, first, lost_owner(old));

	if (rc == ROVE_OK)
		rc = rpl_rejected_add(lw->r, lw->txn, &lw->q->op, ROVE_R_INVALID, ROVE_DETAIL_EXISTS_OTHER, &lw->q->buf,
				      NULL);
	if (rc == ROVE_OK)
		lw->refused++;
	return rc;
}

static int orphan_settle_one(lost_walk *lw, rove_record *old, bool due, bool seen, bool *done, bool *present)
{
	rove_record *now = &lw->w->b;
	const rove_coll_def *c = rove_schema_coll(old->coll);
	rove_stamp first = {{0}, 0};
	bool any = false, gone;
	int rc;

	*done = true;
	*present = false;
	if (c == NULL)
		return ROVE_OK;
	rc = rpl_rec_get(lw->txn, lw->r->base, old->coll, &old->id, now);
	gone = rc == ROVE_ENOTFOUND;
	if (gone && seen)
		return ROVE_OK; /* deleted since it came back: not brought back */
	if (gone) {
		rove_fields_init(&now->fs);
		rc = ROVE_OK;
	} else if (rc != ROVE_OK)
		return rc;
	else if (rove_record_deleted(now))
		return ROVE_OK; /* deleted since: not brought back */
	*present = !gone;
	for (uint32_t i = 0; i < old->fs.n; i++) {
		const rove_field *f = &old->fs.f[i], *g = rove_fields_get(&now->fs, f->name);
		if (lost_field(lw, f, c) && (g == NULL || rove_stamp_cmp(&g->st, &f->st) < 0) &&
		    (!any || rove_stamp_cmp(&f->st, &first) < 0)) {
			first = f->st;
			any = true;
		}
	}
	/* First seen with another owner, and none of the writes this
	 * replica held (its author's, sent again, keep their stamps; a
	 * claim or reassignment since changes the owner alone): someone
	 * else's (above). */
	{
		bool marked = false; /* found made under its id at the recovery */
		if (!gone)
			rc = rpl_orphan_taken(lw->r, lw->txn, old->coll, &old->id, &marked);
		if (rc != ROVE_OK)
			return rc;
		if (!gone && (marked || (!seen && ((old->coll == ROVE_COLL_CUSTOMER && !same_owner(old, now) &&
						    !shares_a_write(old, now, c)) ||
						   squatted(old, now, c))))) {
			rc = taken_mark(lw->r, lw->txn, old->coll, &old->id);
			if (rc == ROVE_OK && !any)
				first = old->fs.n > 0 ? old->fs.f[0].st : first;
			return rc == ROVE_OK ? orphan_refused(lw, old, c, first) : rc;
		}
	}
	if (c->parent != 0) {
		bool taken;
		rc = parent_taken(lw, old, &taken);
		if (rc == ROVE_OK && taken && !any)
			first = old->fs.n > 0 ? old->fs.f[0].st : first;
		if (rc != ROVE_OK || taken)
			return rc == ROVE_OK ? orphan_refused(lw, old, c, first) : rc;
	}
	if (!any)
		return ROVE_OK; /* the server holds it all */
	if (!due) {
		*done = false;
		return ROVE_OK;
	}
	if (gone && deal_follows(lw, old)) {
		/* an open deal's owner is its customer's (rule 14), which may
		 * have changed since (claimed by another): left to the server */
		const rove_field *o = rove_fields_get(&old->fs, "owner");
		if (o != NULL)
			rove_fields_remove(&old->fs, (uint32_t)(o - old->fs.f));
	}
	if (gone)
		rc = lost_create(lw, old, c, first, lost_owner(old));
	if (rc == ROVE_OK)
		rc = lost_updates(lw, old, now, c, first, gone);
	return rc;
}

/* Settles every entry under prefix (ORPHAN_PREFIX or ORPHON_PREFIX) of
 * records of coll; *changed when it wrote anything. */
static int settle_prefix(lost_walk *lw, const char *prefix, uint8_t coll, bool due, uint64_t *waiting,
			 bool *changed)
{
	bool seen = strcmp(prefix, ORPHON_PREFIX) == 0;
	uint8_t key[ORPHAN_KEY];
	int rc = ROVE_OK;

	memcpy(key, prefix, ORPHAN_PLEN);
	memset(key + ORPHAN_PLEN, 0, ROVE_RECORD_KEY);
	key[ORPHAN_PLEN] = coll; /* a record key begins with its collection */
	for (bool more = true; rc == ROVE_OK && more;) {
		MDB_cursor *c;
		MDB_val k = {ORPHAN_KEY, key}, v;
		bool done, present = false;
		int mrc;
		rc = rove_db_err(mdb_cursor_open(lw->txn, lw->r->meta, &c), "cursor");
		if (rc != ROVE_OK)
			break;
		mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		mdb_cursor_close(c);
		if (mrc == MDB_NOTFOUND ||
		    (mrc == 0 && (k.mv_size <= ORPHAN_PLEN || memcmp(k.mv_data, prefix, ORPHAN_PLEN) != 0 ||
				  ((const uint8_t *)k.mv_data)[ORPHAN_PLEN] != coll)))
			break;
		rc = rove_db_err(mrc, "meta");
		if (rc == ROVE_OK && k.mv_size != ORPHAN_KEY) {
			rove_error("corrupt key in the replica's meta");
			rc = ROVE_EPROTO;
		}
		if (rc != ROVE_OK)
			break;
		memcpy(key, k.mv_data, ORPHAN_KEY);
		/* decoded into the walk's own memory before anything is written */
		rc = rpl_rec_decode(lw->r, &v, &lw->w->a);
		if (rc == ROVE_OK)
			rc = orphan_settle_one(lw, &lw->w->a, due, seen, &done, &present);
		/* An orphan waiting that the server holds now: seen (a copy of
		 * it under ORPHON_PREFIX, from the walk's memory) */
		if (rc == ROVE_OK && !done && present && !seen) {
			uint8_t seen_key[ORPHAN_KEY];
			MDB_val sk = {ORPHAN_KEY, seen_key}, sv;
			memcpy(seen_key, ORPHON_PREFIX, ORPHAN_PLEN);
			memcpy(seen_key + ORPHAN_PLEN, key + ORPHAN_PLEN, ROVE_RECORD_KEY);
			rove_buf_reset(&lw->q->buf);
			rc = rove_enc_record(&lw->q->buf, &lw->w->a);
			sv.mv_size = lw->q->buf.len;
			sv.mv_data = lw->q->buf.data;
			if (rc == ROVE_OK)
				rc = rove_db_err(mdb_put(lw->txn, lw->r->meta, &sk, &sv, 0), "meta");
			done = true; /* this entry goes */
			(*waiting)++;
		} else if (rc == ROVE_OK && !done) {
			(*waiting)++;
		}
		k.mv_size = ORPHAN_KEY;
		k.mv_data = key;
		if (rc == ROVE_OK && done) {
			rc = rove_db_err(mdb_del(lw->txn, lw->r->meta, &k, NULL), "meta");
			*changed = true;
		}
		/* on to the next key (none after the last possible one) */
		more = false;
		for (size_t i = ORPHAN_KEY; i > ORPHAN_PLEN && !more; i--)
			more = ++key[i - 1] != 0;
	}
	return rc;
}

static int orphans_settle_once(rove_replica *r, uint64_t now_ms, uint64_t *sent, uint64_t *waiting)
{
	MDB_txn *txn = NULL;
	lost_walk lw = {r, NULL, 0, 0, 0, 0, false, true, rpl_work_new(), rpl_work_new(), LOST_DEALERS};
	uint64_t at = 0, wait = orphan_wait_ms();
	bool due, changed = false;
	int rc = lw.w != NULL && lw.q != NULL ? ROVE_OK : ROVE_ENOMEM;

	*sent = *waiting = 0;
	if (rc == ROVE_OK)
		rc = rpl_txn_begin(r, 0, &txn);
	lw.txn = txn;
	if (rc == ROVE_OK)
		rc = rpl_meta_u64(txn, r->meta, "orphans_at", &at);
	if (rc == ROVE_OK && at != 0)
		rc = rpl_last_lseq(r, txn, &lw.lseq);
	/* now_ms 0: the server's time is not known, and nothing is due */
	due = now_ms != 0 && now_ms >= at && now_ms - at >= wait;
	for (size_t i = 0; rc == ROVE_OK && at != 0 && i < sizeof(orphan_colls); i++) {
		rc = settle_prefix(&lw, ORPHAN_PREFIX, orphan_colls[i], due, waiting, &changed);
		if (rc == ROVE_OK)
			rc = settle_prefix(&lw, ORPHON_PREFIX, orphan_colls[i], due, waiting, &changed);
	}
	if (rc == ROVE_OK && at != 0 && *waiting == 0) {
		rc = rove_db_put_u64(txn, r->meta, "orphans_at", 0);
		changed = true;
	}
	*sent = lw.n;
	if (rc == ROVE_OK && lw.refused > 0)
		rove_warn("the server holds %" PRIu64 " record%s others wrote, which it lacked after the restore, "
			  "under another owner now (made under their ids since, or claimed): not sent, kept in "
			  "'rove rejected'",
			  lw.refused, lw.refused == 1 ? "" : "s");
	/* most syncs settle nothing: no commit then */
	if (txn != NULL && rc == ROVE_OK && !changed && lw.n == 0)
		mdb_txn_abort(txn);
	else if (txn != NULL)
		rc = rpl_commit_or_abort(txn, rc);
	rpl_work_free(lw.w);
	rpl_work_free(lw.q);
	return rc;
}

int rpl_orphans_count(MDB_txn *txn, rove_replica *r, uint64_t *n)
{
	uint64_t seen = 0;
	int rc = rpl_meta_prefix_count(txn, r->meta, ORPHAN_PREFIX, ORPHAN_KEY, n);

	if (rc == ROVE_OK)
		rc = rpl_meta_prefix_count(txn, r->meta, ORPHON_PREFIX, ORPHAN_KEY, &seen);
	*n += seen;
	return rc;
}

static int meta_set(rove_replica *r, const char *key, bool *yes);

int rove_replica_orphans_settle(rove_replica *r, uint64_t now_ms, uint64_t *sent, uint64_t *waiting)
{
	bool any = false;
	int rc = meta_set(r, "orphans_at", &any); /* most syncs: a read */

	*sent = *waiting = 0;
	if (rc != ROVE_OK || !any)
		return rc;
	RPL_WITH_GROWTH(r, orphans_settle_once(r, now_ms, sent, waiting));
	return rc;
}

/* The old base's dealers (customers name them: a customer created anew
 * before its dealer came back refused, the model check with a journal
 * of 3, seed 1025), then its other records (a customer before what
 * belongs to it, in key order), then a rep's releases (lost_release). */
static int lost_walks(lost_walk *lw)
{
	int rc = ROVE_OK;

	for (lw->pass = LOST_DEALERS; rc == ROVE_OK && lw->pass <= LOST_RELEASES; lw->pass++)
		rc = rove_db_each(lw->txn, lw->r->aside, "base", lost_one, lw);
	return rc;
}

/* The journal's tail: the number *tail of its first op stamped at or
 * past floor (the ops it keeps by count), or of the outbox's first op
 * when that comes first (one a recovery before queued and nothing has
 * acknowledged yet: no number of it is taken), or none (UINT64_MAX);
 * and how many of the journal's ops come before it (*old: deletes, which
 * it never forgets, stamped before the floor). An op that does not
 * decode starts the tail (journal_op_back refuses it). */
static int journal_tail(rove_replica *r, MDB_txn *txn, uint64_t floor, rpl_work *w, uint64_t *tail, uint64_t *old)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t ofirst = 0;
	int mrc, rc = rove_db_first_u64(txn, r->outbox, &ofirst);

	*tail = ofirst != 0 ? ofirst : UINT64_MAX;
	*old = 0;
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_cursor_open(txn, r->journal, &c), "cursor");
	if (rc != ROVE_OK)
		return rc;
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0; mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		uint64_t key;
		if (k.mv_size != 8) {
			rc = ROVE_EPROTO;
			break;
		}
		key = rove_be64_get(k.mv_data);
		if (key >= *tail)
			break;
		if (rpl_journal_dec(&k, &v, &w->op) != ROVE_OK || w->op.st.hlc.v >= floor) {
			*tail = key;
			break;
		}
		(*old)++;
	}
	if (rc == ROVE_OK && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, "journal");
	mdb_cursor_close(c);
	return rc;
}

/* Walks the old base (r->aside, just swapped out) against the new one
 * (r->base), see above: first counting the ops, then queueing them with
 * the numbers (lseq) from 1, so that they go out before the journal's
 * ops, in the order of the walk (dealers, customers before what belongs
 * to them, releases): its deletes older than the floor take the numbers
 * next, below its tail and the outbox's first op (journal_tail,
 * rpl_journal_to_outbox). Those deletes, which it never forgets, held
 * its first number down, and the ops found went after everything, the
 * pending ones too (the model check with a journal of 3, seed 1008). */
int rpl_lost_requeue(rove_replica *r, MDB_txn *txn, uint64_t floor, uint64_t now_ms, uint64_t *found,
		     uint64_t *below)
{
	lost_walk lw = {r, txn, floor, 0, 0, 0, true, false, rpl_work_new(), rpl_work_new(), LOST_DEALERS};
	uint64_t tail = 0, old = 0;
	int rc = lw.w != NULL && lw.q != NULL ? ROVE_OK : ROVE_ENOMEM;

	*found = *below = 0;
	if (rc == ROVE_OK)
		rc = lost_walks(&lw);
	if (rc == ROVE_OK && lw.n > 0)
		rc = journal_tail(r, txn, floor, lw.q, &tail, &old);
	if (rc == ROVE_OK && lw.n > 0) {
		/* The numbers below the tail are those of the ops the journal
		 * forgot and of its old deletes (renumbered after the ops
		 * found): as many as both but for releases made up
		 * (lost_release). */
		if (tail > old + lw.n)
			lw.lseq = 0;
		else
			rc = rpl_last_lseq(r, txn, &lw.lseq); /* not expected: after all */
		*found = tail > old + lw.n ? lw.n : 0;
		*below = tail > old + lw.n ? tail : 0;
		lw.count = false;
		lw.n = 0;
		if (rc == ROVE_OK)
			rc = lost_walks(&lw);
	}
	if (rc == ROVE_OK && lw.n > 0)
		rove_warn("the server lacked %" PRIu64 " older change%s of this replica (beyond its journal): "
			  "sent again",
			  lw.n, lw.n == 1 ? "" : "s");
	if (rc == ROVE_OK && writes_for_others(r))
		rc = orphans_note(r, txn, now_ms);
	rpl_work_free(lw.w);
	rpl_work_free(lw.q);
	return rc;
}

/* ---- a server whose history is not the one synced with ---- */

typedef struct journal_back {
	rove_replica *r;
	MDB_txn *txn;
	rpl_work *w;
	bool known; /* the base is the server's now (a recovery's fresh snapshot) */
	bool drop;  /* deletes of records gone are left out (delete_of_gone) */
	uint64_t first; /* (when drop) the journal's tail (journal_tail; 0: none found), */
	uint64_t renum; /* ... and the last number given to an old delete */
} journal_back;

static int any_pending(const MDB_val *ok, const MDB_val *ov, void *arg)
{
	(void)ok;
	(void)ov;
	*(bool *)arg = true;
	return ROVE_EEXIST; /* one is enough */
}

/* Whether op deletes a record the server does not hold (not in the fresh
 * base) and nothing queued creates again: a delete that would only come
 * back refused, its record already gone - left out when the journal had
 * forgotten older ops (jb->drop: its create may be among them), unless
 * someone else wrote the record (rpl_delete_note): its author's replica
 * may send it again, and the delete, refused meanwhile, waits for it
 * (attack sixty-six: left out, the record came back). An orphan of the
 * record is forgotten: this user deleted it. */
static int delete_of_gone(journal_back *jb, const rove_op *op, bool *gone)
{
	bool queued = false, others = false;
	int rc;

	*gone = false;
	if (!jb->known || op->kind != ROVE_OP_DELETE)
		return ROVE_OK;
	rc = rpl_rec_get(jb->txn, jb->r->base, op->coll, &op->rid, &jb->w->b);
	if (rc != ROVE_ENOTFOUND)
		return rc;
	rc = rpl_orphan_forget(jb->r, jb->txn, op->coll, &op->rid);
	if (rc == ROVE_OK)
		rc = rpl_pending_each(jb->r, jb->txn, op->coll, &op->rid, any_pending, &queued);
	if (rc == ROVE_EEXIST)
		rc = ROVE_OK;
	if (rc != ROVE_OK || queued || !jb->drop)
		return rc;
	rc = deleted_others(jb->r, jb->txn, op->coll, &op->rid, &others);
	*gone = rc == ROVE_OK && !others;
	return rc;
}

static int below(const MDB_val *ok, const MDB_val *ov, void *arg)
{
	journal_back *jb = arg;

	(void)ov;
	return rove_be64_get(ok->mv_data) < jb->first ? ROVE_EEXIST : ROVE_OK;
}

/* Whether op, a claim or (not a rep's) a release, is of a record the
 * server does not hold that the comparison made anew (rpl_lost_requeue:
 * its ops go just below the journal's tail): made with the owner the
 * old base knew, after the journal's ops, it needs none of them - a
 * claim would come back already_claimed, a manager's release "already in
 * the pool" (the model check with a journal of 3, seed 1008). A rep's
 * creates make her the owner: her release in the journal goes
 * (lost_release leaves it to the journal). */
static int owner_op_done(journal_back *jb, const rove_op *op, bool *done)
{
	int rc;

	*done = false;
	if (!jb->known || !jb->drop ||
	    !(op->kind == ROVE_OP_CLAIM || (op->kind == ROVE_OP_RELEASE && strcmp(jb->r->role, "rep") != 0)))
		return ROVE_OK;
	rc = rpl_rec_get(jb->txn, jb->r->base, op->coll, &op->rid, &jb->w->b);
	if (rc != ROVE_ENOTFOUND)
		return rc;
	rc = rpl_pending_each(jb->r, jb->txn, op->coll, &op->rid, below, jb);
	*done = rc == ROVE_EEXIST;
	return rc == ROVE_EEXIST ? ROVE_OK : rc;
}

static int journal_op_back(const MDB_val *k, const MDB_val *v, void *arg)
{
	journal_back *jb = arg;
	uint64_t lseq;
	bool gone;
	int rc;

	if (k->mv_size != 8 || rpl_journal_dec(k, v, &jb->w->op) != ROVE_OK) {
		rove_error("corrupt entry in the replica's journal");
		return ROVE_EPROTO;
	}
	rc = delete_of_gone(jb, &jb->w->op, &gone);
	if (rc == ROVE_OK && !gone)
		rc = owner_op_done(jb, &jb->w->op, &gone);
	if (rc != ROVE_OK || gone)
		return rc;

	lseq = rove_be64_get(k->mv_data);
	/* an old delete: after the ops found (rpl_lost_requeue) */
	if (jb->drop && jb->first != 0 && lseq < jb->first)
		lseq = ++jb->renum;
	jb->w->op.seq = ROVE_SEQ_GIVEN; /* accepted: its stamp is the server's */
	return rpl_outbox_queue(jb->r, jb->txn, lseq, &jb->w->op, MDB_NOOVERWRITE, jb->w);
}

/* Puts every journal op back into the outbox, where it was (its lseq), as
 * not acknowledged; the journal is emptied. known: the base is a fresh
 * snapshot of the server (a recovery that waited for it): a delete of a
 * record it lacks, which nothing queued creates again, is left out
 * (delete_of_gone), and with floor past 1 (the journal forgot ops) so is
 * a claim or release owner_op_done finds done, and its old deletes take
 * the numbers past found (rpl_lost_requeue's ops). The walk only reads
 * the journal: the writes go to other tables. */
int rpl_journal_to_outbox(rove_replica *r, MDB_txn *txn, rpl_work *w, bool known, uint64_t floor, uint64_t found,
			  uint64_t below)
{
	/* floor 1: none of the journal forgotten (a recovery that compares
	 * for orphans alone): its deletes go as they would have */
	journal_back jb = {r, txn, w, known, floor > 1, below, found};
	int rc = rove_db_each(txn, r->journal, "journal", journal_op_back, &jb);


	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_drop(txn, r->journal, 0), "journal");
	return rc;
}

/* Whether op changes a record that someone else made under its id since
 * the restore (rpl_orphan_taken), or belongs to such a customer: the
 * record as this replica held it (r->aside, the old base) names it. */
static int op_taken(rove_replica *r, MDB_txn *txn, const rove_op *op, rove_record *scratch, bool *taken)
{
	const rove_coll_def *c = rove_schema_coll(op->coll);
	const rove_field_def *pf = c != NULL ? rove_schema_parent_field(c) : NULL;
	const char *parent = NULL;
	rove_uuid pid;
	int rc = rpl_orphan_taken(r, txn, op->coll, &op->rid, taken);

	if (rc != ROVE_OK || *taken || pf == NULL)
		return rc;
	parent = rove_fields_str(&op->fs, pf->name);
	if (parent == NULL) {
		rc = rpl_rec_read(r, txn, r->aside, op->coll, &op->rid, scratch);
		if (rc == ROVE_ENOTFOUND)
			return ROVE_OK;
		if (rc != ROVE_OK)
			return rc;
		parent = rove_fields_str(&scratch->fs, pf->name);
	}
	if (parent == NULL || rove_uuid_parse(parent, &pid) != ROVE_OK)
		return ROVE_OK;
	return rpl_orphan_taken(r, txn, c->parent, &pid, taken);
}

int rpl_taken_held_back(rove_replica *r, MDB_txn *txn, rpl_work *w)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t *lseqs = NULL;
	size_t n = 0, cap = 0;
	int mrc, rc = rove_db_err(mdb_cursor_open(txn, r->outbox, &c), "cursor");

	if (rc != ROVE_OK)
		return rc;
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == ROVE_OK && mrc == 0;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		uint64_t acked, *more;
		bool taken = false;
		if (k.mv_size != 8) {
			rc = ROVE_EPROTO;
			break;
		}
		rc = rpl_outbox_decode(r, &k, &v, &acked, &w->op);
		if (rc == ROVE_OK)
			rc = op_taken(r, txn, &w->op, &w->a, &taken);
		if (rc != ROVE_OK || !taken)
			continue;
		more = rove_array_room(lseqs, n, &cap, sizeof(*lseqs));
		if (more == NULL) {
			rc = ROVE_ENOMEM;
			break;
		}
		lseqs = more;
		lseqs[n++] = rove_be64_get(k.mv_data);
	}
	if (rc == ROVE_OK && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, "outbox");
	mdb_cursor_close(c);
	for (size_t i = 0; rc == ROVE_OK && i < n; i++) {
		uint8_t key[8];
		MDB_val lk = {8, key};
		uint64_t acked;
		rove_be64_put(key, lseqs[i]);
		rc = rove_db_err(mdb_get(txn, r->outbox, &lk, &v), "outbox");
		if (rc == ROVE_OK)
			rc = rpl_outbox_decode(r, &lk, &v, &acked, &w->op);
		if (rc == ROVE_OK)
			rc = rpl_rejected_add(r, txn, &w->op, ROVE_R_INVALID, ROVE_DETAIL_EXISTS_OTHER, &w->buf, NULL);
		if (rc == ROVE_OK)
			rc = rpl_outbox_remove(r, txn, lseqs[i], &w->op);
	}
	if (rc == ROVE_OK && n > 0)
		rove_warn("%zu change%s of records someone else made under their ids since the restore: not sent, "
			  "kept in 'rove rejected'",
			  n, n == 1 ? "" : "s");
	free(lseqs);
	return rc;
}

/* Marks every outbox op as not acknowledged; counts them. One that was
 * goes again marked as accepted before (ROVE_SEQ_GIVEN): it holds the
 * stamp the server gave it, which the server then takes as it is. */
static int outbox_unack(rove_replica *r, MDB_txn *txn, uint64_t *n, rpl_work *w)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t *acked_ones = NULL;
	size_t nacked = 0, cap = 0;
	int rc = rove_db_err(mdb_cursor_open(txn, r->outbox, &c), "cursor");
	int mrc;

	*n = 0;
	if (rc != ROVE_OK)
		return rc;
	/* First collected, then written (by key, not through the cursor: a
	 * value of another size is a node removed and added again, which
	 * moves what the page holds; attack seventy: garbage keys, the
	 * outbox stuck). */
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == ROVE_OK && mrc == 0;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		uint64_t acked = 0, *more;
		(*n)++;
		/* (one damaged: the sweep drops it, saying so) */
		if (rpl_outbox_acked(r, &k, &v, &acked) != ROVE_OK || acked == 0)
			continue;
		more = rove_array_room(acked_ones, nacked, &cap, sizeof(*acked_ones));
		if (more == NULL) {
			rc = ROVE_ENOMEM;
			break;
		}
		acked_ones = more;
		acked_ones[nacked++] = rove_be64_get(k.mv_data);
	}
	if (rc == ROVE_OK && mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, "outbox");
	mdb_cursor_close(c);
	for (size_t i = 0; rc == ROVE_OK && i < nacked; i++) {
		uint8_t kb[8];
		MDB_val kk = {sizeof(kb), kb};
		uint64_t acked;
		rove_be64_put(kb, acked_ones[i]);
		rc = rove_db_err(mdb_get(txn, r->outbox, &kk, &v), "outbox");
		if (rc == ROVE_OK)
			rc = rpl_outbox_decode(r, &kk, &v, &acked, &w->op);
		if (rc == ROVE_OK) {
			w->op.seq = ROVE_SEQ_GIVEN;
			rc = rpl_outbox_put(txn, r, acked_ones[i], 0, &w->op, &w->buf, 0);
		}
	}
	free(acked_ones);
	return rc;
}

static int history_lost_once(rove_replica *r, uint64_t *resend)
{
	MDB_txn *txn = NULL;
	rove_pull_state prev, none;
	rpl_work *w = rpl_work_new();
	uint64_t floor = 0, dropped = 0;
	int rc;

	if (w == NULL)
		return ROVE_ENOMEM;
	/* The records this replica holds go anew with the fresh snapshot:
	 * one that does not decode is passed over, not a recovery stopped
	 * for good (attack sixty-four). */
	r->damage_as_absent = true;
	r->damage_skipped = 0;
	rc = rpl_txn_begin(r, 0, &txn);
	if (rc == ROVE_OK)
		rc = rpl_pull_state_get(r, txn, &prev);
	/* (damaged entries count as forgotten) */
	if (rc == ROVE_OK)
		rc = journal_sweep(r, txn, w, &dropped);
	/* When the journal has forgotten older ops, own writes older than it
	 * are found when the fresh snapshot replaces the base (rpl_lost_requeue),
	 * and must reach the server before the journal's later ops on the
	 * same records: the journal goes back to the outbox then, after them,
	 * and the sync pulls before it pushes (rove_replica_recovering). */
	if (rc == ROVE_OK)
		rc = rpl_meta_u64(txn, r->meta, "journal_floor", &floor);
	/* 1: none of its own forgotten, others' writes compared (orphans) */
	if (rc == ROVE_OK && (floor != 0 || writes_for_others(r)))
		rc = rove_db_put_u64(txn, r->meta, "recover_floor", floor != 0 ? floor : 1);
	else if (rc == ROVE_OK)
		rc = rpl_journal_to_outbox(r, txn, w, false, 0, 0, 0);
	if (rc == ROVE_OK)
		rc = outbox_unack(r, txn, resend, w);
	/* Until a sync ends whole, its pushes are sends again (a killed
	 * recovery's next sync says so too). */
	if (rc == ROVE_OK)
		rc = rove_db_put_u64(txn, r->meta, "resending", 1);
	/* A fresh start (a snapshot half built aside is dropped); the base
	 * is shown until the new snapshot replaces it whole. */
	if (rc == ROVE_OK)
		rc = rpl_store_drop(r, txn, r->aside);
	if (rc == ROVE_OK)
		rc = rove_report_sums_dropped(txn, r->aside);
	memset(&none, 0, sizeof(none));
	if (rc == ROVE_OK)
		rc = rpl_pull_state_put(r, txn, &prev, &none);

	if (txn != NULL)
		rc = rpl_commit_or_abort(txn, rc);
	r->damage_as_absent = false;
	if (rc == ROVE_OK)
		rpl_say_passed_over(r);
	rpl_work_free(w);
	return rc;
}

void rpl_say_passed_over(rove_replica *r)
{
	if (r->damage_skipped > 0)
		rove_warn("%" PRIu64 " damaged record%s of this replica did not decode: taken anew from the server "
			  "(what only %s held is lost)",
			  r->damage_skipped, r->damage_skipped == 1 ? "" : "s", r->damage_skipped == 1 ? "it" : "they");
	r->damage_skipped = 0;
}

int rove_replica_history_lost(rove_replica *r, uint64_t *resend)
{
	int rc;

	RPL_WITH_GROWTH(r, history_lost_once(r, resend));
	return rc;
}

/* *yes: whether meta key holds something other than 0 (absent: 0). */
static int meta_set(rove_replica *r, const char *key, bool *yes)
{
	MDB_txn *txn;
	uint64_t v = 0;
	int rc = rpl_txn_begin(r, MDB_RDONLY, &txn);

	*yes = false;
	if (rc != ROVE_OK)
		return rc;
	rc = rpl_meta_u64(txn, r->meta, key, &v);
	mdb_txn_abort(txn);
	*yes = rc == ROVE_OK && v != 0;
	return rc;
}

int rove_replica_resending(rove_replica *r, bool *yes)
{
	return meta_set(r, "resending", yes);
}

static int resent_once(rove_replica *r)
{
	MDB_txn *txn;
	int rc = rpl_txn_begin(r, 0, &txn);

	if (rc != ROVE_OK)
		return rc;
	rc = rove_db_put_u64(txn, r->meta, "resending", 0);
	return rpl_commit_or_abort(txn, rc);
}

int rove_replica_resent(rove_replica *r)
{
	int rc;

	RPL_WITH_GROWTH(r, resent_once(r));
	return rc;
}

int rove_replica_recovering(rove_replica *r, bool *yes)
{
	return meta_set(r, "recover_floor", yes);
}
