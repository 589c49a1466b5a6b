/*
 * replica_outbox.c - local writes (replica.h): each op stamped, queued in
 * the outbox with its index by record (pending), and shown in the view -
 * the confirmed record with the pending ops on top, rebuilt when the
 * confirmed one or the ops under it change.
 */
#include "replica_int.h"

#include "array.h"
#include "db.h"
#include "err.h"
#include "hash.h"
#include "log.h"
#include "rove_assert.h"
#include "schema.h"
#include "text.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- outbox ---- */

#define OUTBOX_SUM_BASIS (ROVE_FNV_BASIS ^ 0x6f7574626f78ull) /* "outbox" */
#define OUTBOX_HEAD 8 /* acked seq */
#define OUTBOX_SUM 8

/* An entry's sum: FNV-1a of its key, acknowledgement and op, from a basis
 * of the outbox's own (a sum of zeroes is not zero). FNV-1a tells any one
 * byte changed, a bit flipped among them, for certain (each step is
 * one-to-one); more bytes changed, all but one time in 2^64. It is no
 * defence against someone who writes the file: they can write the sum. */
static uint64_t outbox_sum(const uint8_t key[8], const uint8_t head[OUTBOX_HEAD], const uint8_t *op, size_t len)
{
	uint64_t h = rove_fnv1a(OUTBOX_SUM_BASIS, key, 8);

	h = rove_fnv1a(h, head, OUTBOX_HEAD);
	return rove_fnv1a(h, op, len);
}

/* Each entry is read by its own layout, not by the replica's format
 * number alone: one whose sum holds is of format 5 (one of format 4 holds
 * one by chance once in 2^64), so that a format number damaged into 4
 * loses nothing (attack eighty-six: every pending change dropped); one
 * that does not is of format 4 in a replica of that format. */
bool rpl_outbox_summed(const MDB_val *k, const MDB_val *v)
{
	const uint8_t *p = v->mv_data;

	return k->mv_size == 8 && v->mv_size > OUTBOX_HEAD + OUTBOX_SUM &&
	       rove_be64_get(p + OUTBOX_HEAD) ==
		       outbox_sum(k->mv_data, p, p + OUTBOX_HEAD + OUTBOX_SUM, v->mv_size - OUTBOX_HEAD - OUTBOX_SUM);
}

int rpl_outbox_entry(const rove_replica *r, const MDB_val *k, const MDB_val *v, rpl_entry *e)
{
	const uint8_t *p = v->mv_data;
	size_t head = OUTBOX_HEAD + OUTBOX_SUM;

	if (k->mv_size != 8 || v->mv_size <= OUTBOX_HEAD)
		return ROVE_EPROTO;
	if (!rpl_outbox_summed(k, v)) {
		if (r->outbox_sums)
			return ROVE_EPROTO;
		head = OUTBOX_HEAD;
	}
	e->acked = rove_be64_get(p);
	e->op = p + head;
	e->len = v->mv_size - head;
	e->home = 0;
	return ROVE_OK;
}

int rpl_outbox_acked(const rove_replica *r, const MDB_val *k, const MDB_val *v, uint64_t *acked)
{
	rpl_entry e;
	int rc = rpl_outbox_entry(r, k, v, &e);

	if (rc == ROVE_OK)
		*acked = e.acked;
	return rc;
}

int rpl_outbox_decode(const rove_replica *r, const MDB_val *k, const MDB_val *v, uint64_t *acked, rove_op *op)
{
	rpl_entry e;
	int rc = rpl_outbox_entry(r, k, v, &e);

	if (rc == ROVE_OK)
		*acked = e.acked;
	return rc == ROVE_OK ? rove_dec_op(e.op, e.len, op) : rc;
}

int rpl_outbox_lay(const uint8_t key[8], uint64_t acked, const uint8_t *op, size_t len, rove_buf *out)
{
	uint8_t head[OUTBOX_HEAD + OUTBOX_SUM];
	int rc;

	rove_be64_put(head, acked);
	rove_be64_put(head + OUTBOX_HEAD, outbox_sum(key, head, op, len));
	rove_buf_reset(out);
	rc = rove_buf_append(out, head, sizeof(head));
	return rc == ROVE_OK ? rove_buf_append(out, op, len) : rc;
}

/* One step of a cursor on the outbox: *acked whether the entry it comes
 * to is acknowledged (one damaged is not: the sweep of the next sync
 * drops it, saying so, and until then it counts as pending, not sent);
 * *end at the table's end. */
static int outbox_step(const rove_replica *r, MDB_cursor *c, MDB_cursor_op how, bool *acked, bool *end)
{
	MDB_val k, v;
	uint64_t seq = 0;
	int mrc = mdb_cursor_get(c, &k, &v, how);

	*end = mrc == MDB_NOTFOUND;
	if (*end)
		return ROVE_OK;
	if (mrc != 0)
		return rove_db_err(mrc, "outbox");
	*acked = rpl_outbox_acked(r, &k, &v, &seq) == ROVE_OK && seq != 0;
	return ROVE_OK;
}

/* Whether number lseq is a change the server took and this replica
 * settled (its journal holds it): an index entry naming it is stale, no
 * change lost (attack ninety-one: five such, an old page of the index,
 * called lost). */
static bool settled(MDB_txn *txn, const rove_replica *r, const uint8_t lseq[8])
{
	MDB_val k = {8, (void *)lseq}, v;

	return mdb_get(txn, r->journal, &k, &v) == 0;
}

/* An outbox entry that decodes: its key (lseq) and its record's key
 * (what the pending index names it by). */
typedef struct sweep_sound {
	uint64_t lseq;
	uint8_t rec[ROVE_RECORD_KEY];
} sweep_sound;

/* Whether view (a copy of a record of c) holds a value made, with its
 * stamp, holds otherwise or not at all: a later value, not a later stamp
 * alone (a value the server re-stamped, its laptop's clock ahead, is the
 * same change), of a field c has (a name no change can set is the copy's
 * own damage: damage_hunt seed 94, "owner" read "owndr"). */
static bool view_holds_more(const rove_coll_def *c, const rove_fields *view, const rove_fields *made)
{
	for (uint32_t i = 0; i < view->n; i++) {
		const rove_field *vf = &view->f[i];
		const rove_field *mf = rove_fields_get(made, vf->name);
		if (c == NULL || rove_schema_field(c, vf->name) == NULL)
			continue;
		if (mf == NULL ? vf->v.type != ROVE_V_NULL
			       : rove_stamp_cmp(&vf->st, &mf->st) > 0 && !rove_value_eq(&vf->v, &mf->v))
			return true;
	}
	return false;
}

/* w->b.fs merged with the op of outbox entry lseq, when it reads whole
 * and is on record rec (*created: it is a create). */
static int view_change_merge(const rove_replica *r, MDB_txn *txn, const uint8_t rec[ROVE_RECORD_KEY], uint64_t lseq,
			     rpl_work *w, bool *created)
{
	uint8_t okey[8];
	MDB_val ok = {8, okey}, ov;
	uint64_t acked;
	int grc;

	rove_be64_put(okey, lseq);
	grc = mdb_get(txn, r->outbox, &ok, &ov);
	/* (one gone or damaged adds nothing: it is what is asked) */
	if (grc == 0 && rpl_outbox_decode(r, &ok, &ov, &acked, &w->op) == ROVE_OK && w->op.coll == rec[0] &&
	    memcmp(w->op.rid.b, rec + 1, sizeof(w->op.rid.b)) == 0) {
		*created = *created || w->op.kind == ROVE_OP_CREATE;
		return rove_merge(&w->b.fs, &w->op.fs, NULL);
	}
	return grc == 0 || grc == MDB_NOTFOUND ? ROVE_OK : rove_db_err(grc, "outbox");
}

/* Whether the view's copy of record rec holds a change the outbox no
 * longer has, in *lost: fields its base merged with the changes the
 * outbox holds whole on it (sound's nsound entries, as the outbox's walk
 * found them; NULL: as the index names them) do not make. With
 * no copy of a record the base holds, none was made here (every change
 * makes one: an index entry's damage named it, attack ninety-four); with
 * no copy at all, or one that does not read, one may have been (a
 * create's copy is its only one). read: only a copy that reads says a
 * change lost (a record whose changes the outbox holds whole: its copy
 * missing or damaged is the view's damage, which the sync makes anew;
 * damage_hunt seeds 12 and 68 under the check of every pending record's
 * copy called the changes of a lost view lost).
 * Attack ninety-one: index entries under numbers no change had, on a
 * record whose change was whole, were each called a change lost; one
 * whose record part was flipped named a record that never was. w:
 * scratch (its records and op). */
static int view_lost_change(const rove_replica *r, MDB_txn *txn, const uint8_t rec[ROVE_RECORD_KEY], bool read,
			    const sweep_sound *sound, size_t nsound, rpl_work *w, bool *lost)
{
	uint8_t key[RPL_PENDING_KEY];
	MDB_cursor *c;
	MDB_val k = {RPL_PENDING_KEY, key}, v;
	rove_uuid id;
	bool nobase = false, created = false;
	int mrc, rc;

	*lost = !read;
	memcpy(id.b, rec + 1, sizeof(id.b));
	rc = rpl_rec_get(txn, r->view, rec[0], &id, &w->a);
	if (rc == ROVE_ENOTFOUND) {
		rc = rpl_rec_get(txn, r->base, rec[0], &id, &w->b);
		*lost = !read && rc != ROVE_OK;
		return rc == ROVE_ENOTFOUND || rc == ROVE_EPROTO ? ROVE_OK : rc;
	}
	if (rc == ROVE_OK) {
		rc = rpl_rec_get(txn, r->base, rec[0], &id, &w->b);
		nobase = rc == ROVE_ENOTFOUND;
		if (nobase) {
			w->b.coll = rec[0];
			w->b.id = id;
			rove_fields_init(&w->b.fs);
			rc = ROVE_OK;
		}
	}
	if (rc != ROVE_OK)
		return rc == ROVE_ENOTFOUND || rc == ROVE_EPROTO ? ROVE_OK : rc;
	/* The record's changes: as the outbox's walk found them whole (sound),
	 * or as the index names them (its damage may hide one: damage_hunt
	 * seed 94, a whole create called lost) */
	if (sound != NULL) {
		for (size_t i = 0; rc == ROVE_OK && i < nsound; i++)
			if (memcmp(sound[i].rec, rec, ROVE_RECORD_KEY) == 0)
				rc = view_change_merge(r, txn, rec, sound[i].lseq, w, &created);
	} else {
		rc = rove_db_err(mdb_cursor_open(txn, r->pending, &c), "cursor");
		if (rc != ROVE_OK)
			return rc;
		memcpy(key, rec, ROVE_RECORD_KEY);
		memset(key + ROVE_RECORD_KEY, 0, 8);
		for (mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == ROVE_OK && mrc == 0 &&
									k.mv_size == RPL_PENDING_KEY &&
									memcmp(k.mv_data, rec, ROVE_RECORD_KEY) == 0;
		     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
			rc = view_change_merge(r, txn, rec, rove_be64_get((uint8_t *)k.mv_data + ROVE_RECORD_KEY), w,
					       &created);
		if (rc == ROVE_OK && mrc != 0 && mrc != MDB_NOTFOUND)
			rc = rove_db_err(mrc, "pending");
		mdb_cursor_close(c);
	}
	/* (no base copy, and no create among its changes: the base's copy
	 * lost, as a repair loses records that the server sends again, not
	 * a change) */
	if (rc == ROVE_OK)
		*lost = view_holds_more(rove_schema_coll(rec[0]), &w->a.fs, &w->b.fs) && !(read && nobase && !created);
	return rc;
}

/* Of the records of sound's nsound changes (each once), those whose
 * view copy holds a change the outbox lacks (view_lost_change, a copy
 * that reads): *n of them, their keys into out (room for nsound; NULL:
 * counted only). */
static int views_unexplained(const rove_replica *r, MDB_txn *txn, const sweep_sound *sound, size_t nsound,
			     rpl_work *w, uint8_t (*out)[ROVE_RECORD_KEY], size_t *n)
{
	int rc = ROVE_OK;

	*n = 0;
	for (size_t i = 0; rc == ROVE_OK && i < nsound; i++) {
		bool seen = false, lost;
		for (size_t j = 0; j < i && !seen; j++)
			seen = memcmp(sound[j].rec, sound[i].rec, ROVE_RECORD_KEY) == 0;
		if (seen)
			continue;
		rc = view_lost_change(r, txn, sound[i].rec, true, sound, nsound, w, &lost);
		if (rc == ROVE_OK && lost && out != NULL)
			memcpy(out[*n], sound[i].rec, ROVE_RECORD_KEY);
		if (rc == ROVE_OK && lost)
			(*n)++;
	}
	return rc;
}

/* The changes the pending index names that the outbox lacks, the
 * journal does not hold settled and their record's view copy says are
 * missing (view_lost_change), in *gone: two counts when they agree
 * (each change has one index entry), a walk of the index when not. */
static int outbox_gone(MDB_txn *txn, rove_replica *r, uint64_t *gone)
{
	rpl_work *w = NULL;
	MDB_stat so, sp;
	MDB_cursor *c;
	MDB_val k, v;
	int mrc, rc = rove_db_err(mdb_stat(txn, r->outbox, &so), "outbox");

	*gone = 0;
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_stat(txn, r->pending, &sp), "pending");
	if (rc != ROVE_OK || sp.ms_entries <= so.ms_entries)
		return rc;
	/* (an entry of another size, or a stale one, is the index's damage:
	 * attack ninety-one was told of losses no sync then made) */
	rc = rove_db_err(mdb_cursor_open(txn, r->pending, &c), "cursor");
	if (rc != ROVE_OK)
		return rc;
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == ROVE_OK && mrc == 0;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		MDB_val ok = {8, (uint8_t *)k.mv_data + ROVE_RECORD_KEY}, ov;
		bool lost = false;
		if (k.mv_size == RPL_PENDING_KEY && mdb_get(txn, r->outbox, &ok, &ov) == MDB_NOTFOUND &&
		    !settled(txn, r, ok.mv_data)) {
			if (w == NULL)
				w = rpl_work_new();
			rc = w != NULL ? view_lost_change(r, txn, k.mv_data, false, NULL, 0, w, &lost) : ROVE_ENOMEM;
		}
		if (lost)
			(*gone)++;
	}
	if (rc == ROVE_OK && mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, "pending");
	mdb_cursor_close(c);
	rpl_work_free(w);
	return rc;
}

/* The highest number the server can have given an op of this replica:
 * its pull position, or the highest it acknowledged or snapshot past it.
 * A pending change's answer above it is its damage's, not an answer. */
static uint64_t answer_bound(const rove_pull_state *ps)
{
	uint64_t b = ps->cursor > ps->ack_seq ? ps->cursor : ps->ack_seq;

	return ps->snap_seq > b ? ps->snap_seq : b;
}

void rove_replica_say_gone(uint64_t gone)
{
	if (gone > 0)
		rove_warn("%" PRIu64 " or more pending changes of this replica are gone from its file (damaged): lost, "
			  "never to be sent; the next sync says so, naming their records",
			  gone);
}

int rpl_outbox_damage(MDB_txn *txn, rove_replica *r, rove_op *op, uint64_t *damaged, uint64_t *sent,
		      uint64_t *gone, bool *disorder)
{
	MDB_cursor *c;
	MDB_val k, v;
	rove_pull_state ps = {0};
	uint64_t bound, last = 0;
	int mrc, rc = outbox_gone(txn, r, gone);

	*damaged = *sent = 0;
	*disorder = false;
	/* (the highest number the server can have given: the sweep's; any,
	 * when the sync's state does not read, which the sync says) */
	bound = UINT64_MAX;
	if (rc == ROVE_OK && rpl_pull_state_get(r, txn, &ps) == ROVE_OK)
		bound = answer_bound(&ps);
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_cursor_open(txn, r->outbox, &c), "cursor");
	if (rc != ROVE_OK)
		return rc;
	/* (as the sweep will: mended ones are not damaged, and one whose
	 * op does not decode is) */
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0; mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		rpl_entry e;
		rove_op_head h;
		/* (attack ninety-one: keys out of order, status was silent
		 * about a sync that then refused) */
		if (k.mv_size != 8 || (last > 0 && rove_be64_get(k.mv_data) <= last))
			*disorder = true;
		else
			last = rove_be64_get(k.mv_data);
		if (rpl_outbox_read(r, &k, &v, &e, op) == ROVE_OK && rove_dec_op_head(e.op, e.len, &h) == ROVE_OK)
			continue;
		(*damaged)++;
		if (v.mv_size >= 8 && rove_be64_get(v.mv_data) != 0 && rove_be64_get(v.mv_data) <= bound)
			(*sent)++;
	}
	if (mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, "outbox");
	mdb_cursor_close(c);
	/* (its index's too: attack ninety-four, a key's byte damaged) */
	if (rc == ROVE_OK && !*disorder)
		rc = rove_db_err(mdb_cursor_open(txn, r->pending, &c), "cursor");
	if (rc == ROVE_OK && !*disorder) {
		uint8_t prev[RPL_PENDING_KEY];
		bool any = false;
		for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0 && !*disorder;
		     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			if (k.mv_size != RPL_PENDING_KEY || (any && memcmp(prev, k.mv_data, RPL_PENDING_KEY) >= 0))
				*disorder = true;
			else
				memcpy(prev, k.mv_data, RPL_PENDING_KEY);
			any = true;
		}
		if (mrc != 0 && mrc != MDB_NOTFOUND)
			rc = rove_db_err(mrc, "pending");
		mdb_cursor_close(c);
	}
	return rc;
}

int rpl_outbox_unexplained(MDB_txn *txn, rove_replica *r, uint64_t pending, uint64_t *n)
{
	sweep_sound *sound = NULL;
	size_t nsound = 0;
	rpl_work *w = NULL;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	int mrc = 0, rc = ROVE_OK;

	*n = 0;
	if (pending == 0 || pending > ROVE_SWEEP_VIEW_CHANGES)
		return ROVE_OK;
	sound = malloc(pending * sizeof(*sound));
	w = rpl_work_new();
	rc = sound != NULL && w != NULL ? ROVE_OK : ROVE_ENOMEM;
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_cursor_open(txn, r->outbox, &c), "cursor");
	/* (the changes that read whole, as the sweep's walk finds them) */
	for (mrc = rc == ROVE_OK ? mdb_cursor_get(c, &k, &v, MDB_FIRST) : MDB_NOTFOUND;
	     rc == ROVE_OK && mrc == 0 && nsound < pending; mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		rove_op_head h;
		rpl_entry e;
		if (k.mv_size != 8 || rpl_outbox_read(r, &k, &v, &e, &w->op) != ROVE_OK ||
		    rove_dec_op_head(e.op, e.len, &h) != ROVE_OK)
			continue; /* (counted damaged) */
		sound[nsound].lseq = rove_be64_get(k.mv_data);
		rove_record_key(sound[nsound].rec, h.coll, &h.rid);
		nsound++;
	}
	if (rc == ROVE_OK && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, "outbox");
	if (c != NULL)
		mdb_cursor_close(c);
	if (rc == ROVE_OK) {
		size_t lost = 0;
		rc = views_unexplained(r, txn, sound, nsound, w, NULL, &lost);
		*n = lost;
	}
	rpl_work_free(w);
	free(sound);
	return rc;
}

int rpl_outbox_sent(MDB_txn *txn, rove_replica *r, uint64_t pending, uint64_t *sent)
{
	MDB_cursor *front = NULL, *back = NULL;
	uint64_t nf = 0, nb = 0; /* acknowledged from the front, not from the back */
	bool acked = false, end = false;
	int rc = rove_db_err(mdb_cursor_open(txn, r->outbox, &front), "cursor");

	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_cursor_open(txn, r->outbox, &back), "cursor");
	/* A step from each end in turn, until one of them meets the other
	 * kind of entry or the table's end. */
	for (bool first = true; rc == ROVE_OK; first = false) {
		rc = outbox_step(r, front, first ? MDB_FIRST : MDB_NEXT, &acked, &end);
		if (rc != ROVE_OK || end || !acked) {
			*sent = nf;
			break;
		}
		nf++;
		rc = outbox_step(r, back, first ? MDB_LAST : MDB_PREV, &acked, &end);
		if (rc != ROVE_OK || end || acked) {
			*sent = pending > nb ? pending - nb : 0;
			break;
		}
		nb++;
	}
	if (front != NULL)
		mdb_cursor_close(front);
	if (back != NULL)
		mdb_cursor_close(back);
	return rc;
}

int rpl_outbox_check(MDB_txn *txn, rove_replica *r, uint64_t *problems)
{
	MDB_cursor *c;
	MDB_val k, v;
	bool unacked_seen = false;
	int mrc, rc = rove_db_err(mdb_cursor_open(txn, r->outbox, &c), "cursor");

	if (rc != ROVE_OK)
		return rc;
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0; mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		uint64_t acked = 0;
		if (rpl_outbox_acked(r, &k, &v, &acked) != ROVE_OK) {
			fprintf(stderr, "outbox problem: an entry (key of %zu bytes%s) does not read whole (damaged)\n",
				k.mv_size, k.mv_size == 8 ? ", its sum not its bytes'" : "");
			(*problems)++;
			continue;
		}
		if (acked != 0 && unacked_seen) {
			fprintf(stderr, "outbox problem: op %" PRIu64 " acknowledged after one that is not\n",
				rove_be64_get(k.mv_data));
			(*problems)++;
		}
		unacked_seen |= acked == 0;
	}
	if (mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, "outbox");
	mdb_cursor_close(c);
	return rc;
}

int rpl_outbox_put(MDB_txn *txn, rove_replica *r, uint64_t lseq, uint64_t acked, const rove_op *op,
		   rove_buf *scratch, unsigned flags)
{
	uint8_t key[8], head[OUTBOX_HEAD + OUTBOX_SUM], *p;
	size_t at = sizeof(head);
	MDB_val k = {8, key}, v;
	int rc;

	/* (a write transaction raised an older replica's format first:
	 * rpl_txn_begin) */
	ROVE_ASSERT(r->outbox_sums);
	/* (the op encoded after room for the head, whose sum is then made
	 * from the bytes in place: no second copy) */
	memset(head, 0, sizeof(head));
	rove_be64_put(key, lseq);
	rove_buf_reset(scratch);
	rc = rove_buf_append(scratch, head, at);
	if (rc == ROVE_OK)
		rc = rove_enc_op(scratch, op);
	if (rc != ROVE_OK)
		return rc;
	p = (uint8_t *)scratch->data;
	rove_be64_put(p, acked);
	rove_be64_put(p + OUTBOX_HEAD, outbox_sum(key, p, p + at, scratch->len - at));
	v.mv_size = scratch->len;
	v.mv_data = scratch->data;
	return rove_db_err(mdb_put(txn, r->outbox, &k, &v, flags), "outbox");
}

int rpl_journal_dec(const MDB_val *k, const MDB_val *v, rove_op *op)
{
	const uint8_t *p = v->mv_data;

	if (k->mv_size != 8)
		return ROVE_EPROTO;
	if (rpl_outbox_summed(k, v))
		return rove_dec_op(p + OUTBOX_HEAD + OUTBOX_SUM, v->mv_size - OUTBOX_HEAD - OUTBOX_SUM, op);
	return rove_dec_op(p, v->mv_size, op);
}

int rpl_outbox_pending_key(const MDB_val *k, const MDB_val *v, uint8_t key[RPL_PENDING_KEY], rove_stamp *st)
{
	const uint8_t *p = v->mv_data;
	rove_op_head h;

	if (!rpl_outbox_summed(k, v) ||
	    rove_dec_op_head(p + OUTBOX_HEAD + OUTBOX_SUM, v->mv_size - OUTBOX_HEAD - OUTBOX_SUM, &h) != ROVE_OK)
		return ROVE_EPROTO;
	rpl_pending_key(key, h.coll, &h.rid, rove_be64_get(k->mv_data));
	*st = h.st;
	return ROVE_OK;
}

MDB_val rpl_journal_val(const MDB_val *v, const rpl_entry *e)
{
	/* (one with its sum: kept whole under the same key, the sum holds;
	 * an older rove's, without: its op alone, as before) */
	if (e->op == (const uint8_t *)v->mv_data + OUTBOX_HEAD + OUTBOX_SUM)
		return *v;
	return (MDB_val){e->len, (void *)e->op};
}

void rpl_outbox_mark(const uint8_t key[8], uint8_t *val, size_t len, uint64_t acked)
{
	size_t at = OUTBOX_HEAD + OUTBOX_SUM;

	ROVE_ASSERT(len > at);
	rove_be64_put(val, acked);
	rove_be64_put(val + OUTBOX_HEAD, outbox_sum(key, val, val + at, len - at));
}

int rpl_outbox_add_sums(rove_replica *r, MDB_txn *txn, rpl_work *w)
{
	rove_buf *scratch = &w->buf;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	int mrc, rc = rove_db_err(mdb_cursor_open(txn, r->outbox, &c), "cursor");

	ROVE_ASSERT(!r->outbox_sums);
	for (mrc = rc == ROVE_OK ? mdb_cursor_get(c, &k, &v, MDB_FIRST) : MDB_NOTFOUND; rc == ROVE_OK && mrc == 0;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		uint8_t key[8];
		rpl_entry e;
		MDB_val nv;
		/* (one that does not decode whole is left without its sum: the
		 * sweep's to drop, as it would have been; a sum vouches for an
		 * op that reads) */
		if (rpl_outbox_entry(r, &k, &v, &e) != ROVE_OK || rove_dec_op(e.op, e.len, &w->op) != ROVE_OK)
			continue;
		/* (one with its sum already: a replica whose format number was
		 * damaged into an older one's) */
		if (rpl_outbox_summed(&k, &v))
			continue;
		memcpy(key, k.mv_data, 8);
		rc = rpl_outbox_lay(key, e.acked, e.op, e.len, scratch);
		nv.mv_size = scratch->len;
		nv.mv_data = scratch->data;
		/* (the key copied out of the page: a value of another size
		 * moves what the page holds; attack seventy) */
		k.mv_size = 8;
		k.mv_data = key;
		if (rc == ROVE_OK)
			rc = rove_db_err(mdb_cursor_put(c, &k, &nv, MDB_CURRENT), "outbox");
	}
	if (rc == ROVE_OK && mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, "outbox");
	if (c != NULL)
		mdb_cursor_close(c);
	return rc;
}

void rpl_pending_key(uint8_t key[RPL_PENDING_KEY], uint8_t coll, const rove_uuid *id, uint64_t lseq)
{
	rove_record_key(key, coll, id);
	rove_be64_put(key + ROVE_RECORD_KEY, lseq);
}

rpl_work *rpl_work_new(void)
{
	rpl_work *w = malloc(sizeof(*w));

	if (w != NULL)
		rove_buf_init(&w->buf);
	return w;
}

void rpl_work_free(rpl_work *w)
{
	if (w == NULL)
		return;
	rove_buf_free(&w->buf);
	free(w);
}

int rpl_pending_each(rove_replica *r, MDB_txn *txn, uint8_t coll, const rove_uuid *id, rpl_pending_fn fn,
			void *arg)
{
	uint8_t key[RPL_PENDING_KEY];
	MDB_cursor *c;
	MDB_val k = {RPL_PENDING_KEY, key}, v;
	int rc = rove_db_err(mdb_cursor_open(txn, r->pending, &c), "cursor");
	int mrc;

	if (rc != ROVE_OK)
		return rc;
	rpl_pending_key(key, coll, id, 0);
	mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == ROVE_OK && mrc == 0 && k.mv_size == RPL_PENDING_KEY &&
	       memcmp(k.mv_data, key, ROVE_RECORD_KEY) == 0) {
		uint8_t okey[8];
		MDB_val ok = {8, okey}, ov;

		memcpy(okey, (uint8_t *)k.mv_data + ROVE_RECORD_KEY, 8);
		mrc = mdb_get(txn, r->outbox, &ok, &ov);
		if (mrc == MDB_NOTFOUND)
			rc = ROVE_EPROTO;
		else if (mrc != 0)
			rc = rove_db_err(mrc, "outbox");
		else
			rc = fn(&ok, &ov, arg);
		if (rc == ROVE_OK)
			mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (rc == ROVE_OK && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, "pending");
	return rc;
}

typedef struct rebuild_ctx {
	const rove_replica *r;
	rpl_work *w;
	bool any;
} rebuild_ctx;

static int rebuild_one(const MDB_val *ok, const MDB_val *ov, void *arg)
{
	rebuild_ctx *b = arg;
	uint64_t acked;
	int rc = rpl_outbox_decode(b->r, ok, ov, &acked, &b->w->op);

	if (rc == ROVE_OK)
		rc = rove_merge(&b->w->a.fs, &b->w->op.fs, NULL);
	b->any = true;
	return rc;
}

/* view[coll/id] := base[coll/id] merged with every outbox op on it, or
 * no view entry at all when no op is pending on the record. */
int rpl_view_rebuild(rove_replica *r, MDB_txn *txn, uint8_t coll, const rove_uuid *id, rpl_work *w)
{
	rebuild_ctx b = {r, w, false};
	const rove_uuid rid = *id; /* id may point into w, which the walk reuses */
	rpl_ikeys was = {0};
	/* The view's entry as it was, for its index entries; then the base's.
	 * (Damaged, read as absent while r->damage_as_absent: a repair's.) */
	int rc = rpl_rec_read(r, txn, r->view, coll, &rid, &w->a);

	if (rc == ROVE_OK)
		rpl_ikeys_of(coll, &rid, &w->a.fs, &was);
	if (rc == ROVE_OK || rc == ROVE_ENOTFOUND)
		rc = rpl_rec_read(r, txn, r->base, coll, &rid, &w->a);
	if (rc == ROVE_ENOTFOUND) {
		w->a.coll = coll;
		w->a.id = rid;
		rove_fields_init(&w->a.fs);
		rc = ROVE_OK;
	}
	if (rc == ROVE_OK)
		rc = rpl_pending_each(r, txn, coll, &rid, rebuild_one, &b);
	if (rc != ROVE_OK)
		return rc;
	if (!b.any)
		return rpl_rec_del(r, txn, r->view, coll, &rid, &was);
	return rpl_rec_put(r, txn, r->view, &w->a, &was, &w->buf);
}

/* Merges fs into the view entry of coll/id, creating it from base first:
 * for a record that now has a pending op. */
int rpl_view_merge_pending(rove_replica *r, MDB_txn *txn, uint8_t coll, const rove_uuid *id,
			      const rove_fields *fs, rpl_work *w)
{
	rpl_ikeys was = {0};
	int rc = rpl_rec_read(r, txn, r->view, coll, id, &w->a);

	if (rc == ROVE_OK)
		rpl_ikeys_of(coll, id, &w->a.fs, &was);
	else if (rc == ROVE_ENOTFOUND)
		rc = rpl_rec_read(r, txn, r->base, coll, id, &w->a);
	if (rc == ROVE_ENOTFOUND) {
		w->a.coll = coll;
		w->a.id = *id;
		rove_fields_init(&w->a.fs);
		rc = ROVE_OK;
	}
	if (rc == ROVE_OK)
		rc = rove_merge(&w->a.fs, fs, NULL);
	if (rc == ROVE_OK)
		rc = rpl_rec_put(r, txn, r->view, &w->a, &was, &w->buf);
	return rc;
}

/* Removes outbox entry lseq (holding op) and its index entry. */
int rpl_outbox_remove(rove_replica *r, MDB_txn *txn, uint64_t lseq, const rove_op *op)
{
	uint8_t key[8], pkey[RPL_PENDING_KEY];
	MDB_val k = {8, key}, pk = {RPL_PENDING_KEY, pkey};
	int rc;

	rove_be64_put(key, lseq);
	rpl_pending_key(pkey, op->coll, &op->rid, lseq);
	rc = rove_db_err(mdb_del(txn, r->outbox, &k, NULL), "outbox");
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_del(txn, r->pending, &pk, NULL), "pending");
	/* The index lacks the op (its entry damaged, or the op's stored
	 * bytes, which name the record): what the removal is for holds
	 * already. Failing here failed every sync for good (attack
	 * eighty-three: "cannot record the server's answers: not found"). */
	if (rc == ROVE_ENOTFOUND) {
		rove_debug("pending change %" PRIu64 " had no entry in the index of pending changes", lseq);
		rc = ROVE_OK;
	}
	return rc;
}

/* Queues one op in txn: stamp, outbox, index, view. */
int rpl_last_lseq(rove_replica *r, MDB_txn *txn, uint64_t *lseq)
{
	uint64_t jseq = 0;
	int rc = rove_db_last_u64(txn, r->outbox, lseq);

	if (rc == ROVE_OK)
		rc = rove_db_last_u64(txn, r->journal, &jseq);
	if (rc == ROVE_OK && jseq > *lseq)
		*lseq = jseq;
	return rc;
}

int rpl_outbox_queue(rove_replica *r, MDB_txn *txn, uint64_t lseq, const rove_op *op, unsigned flags, rpl_work *w)
{
	uint8_t pkey[RPL_PENDING_KEY];
	MDB_val pk = {RPL_PENDING_KEY, pkey}, pv = {0, ""};
	int rc = rpl_outbox_put(txn, r, lseq, 0, op, &w->buf, flags);

	rpl_pending_key(pkey, op->coll, &op->rid, lseq);
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_put(txn, r->pending, &pk, &pv, 0), "pending");
	/* the record has a pending op now: view := (view or base) merged with it */
	if (rc == ROVE_OK)
		rc = rpl_view_merge_pending(r, txn, op->coll, &op->rid, &op->fs, w);
	return rc;
}

/* Queues one local op in txn, stamped by the replica's clock (moved to
 * now, the server's time as this laptop's clocks tell it: rpl_now_ms),
 * with the newest stamp pulled or proof of the server's clock (seen, 0:
 * none) as its seq: what it was made after, which a stamp the server
 * gives it goes past (ROVE_SEQ_SEEN_MIN). */
static int write_op(rove_replica *r, MDB_txn *txn, rove_hlc *clock, uint64_t now, uint64_t seen, uint64_t *lseq,
		    rove_op *op, rpl_work *w)
{
	rove_stamp st;
	int rc;

	st.hlc = rove_hlc_tick(clock, now);
	st.node = r->node;
	rove_op_restamp(op, st);
	op->seq = seen >= ROVE_SEQ_SEEN_MIN ? seen : 0;
	rc = rpl_delete_note(r, txn, op, &w->a);
	return rc == ROVE_OK ? rpl_outbox_queue(r, txn, ++*lseq, op, MDB_APPEND, w) : rc;
}

/* The replica's clock for a new local change, from the stored one in
 * *clock: brought back to the later of now (the laptop's clock, as the
 * server's time: rpl_now_ms) and seen (the
 * newest stamp pulled from the server, or proof of its clock, which
 * bound every stamp the replica holds) when it is more than
 * ROVE_MAX_CLOCK_SKEW_MS ahead of both and nothing is pending. Such a
 * clock is one a laptop's clock that ran ahead once left behind: every
 * change stamped by it would be re-stamped on arrival with the server's
 * time and win over others' later changes (SPEC rule 8). With changes
 * pending it stays, so that they and the new one keep their order. */
static int clock_settle(rove_replica *r, MDB_txn *txn, uint64_t seen, uint64_t now, rove_hlc *clock)
{
	uint64_t ref = rove_hlc_ms((rove_hlc){seen});
	MDB_stat st;
	int rc;

	if (now > ref)
		ref = now;
	if (rove_hlc_ms(*clock) <= ref + ROVE_MAX_CLOCK_SKEW_MS)
		return ROVE_OK;
	rc = rove_db_err(mdb_stat(txn, r->pending, &st), "pending");
	if (rc == ROVE_OK && st.ms_entries == 0) {
		rove_hlc back = rove_hlc_from_ms(ref);
		if (back.v < seen)
			back.v = seen;
		*clock = back;
	}
	return rc;
}

/* version 0: onto whatever the replica holds. */
static int write_each_once(rove_replica *r, uint64_t version, size_t n, rove_op_fill_fn fill, void *arg)
{
	MDB_txn *txn = NULL;
	uint64_t last_hlc = 0, lseq = 0, pulled = 0, seen;
	rove_hlc clock;
	rove_proof proof;
	rpl_work *w = rpl_work_new();
	int rc;

	if (w == NULL)
		return ROVE_ENOMEM;
	rc = rpl_txn_begin(r, 0, &txn);
	if (rc != ROVE_OK) {
		rpl_work_free(w);
		return rc;
	}
	/* A write transaction is numbered one past the last one committed. */
	if (version != 0 && (uint64_t)mdb_txn_id(txn) != version + 1) {
		mdb_txn_abort(txn);
		rpl_work_free(w);
		return ROVE_ECHANGED;
	}
	rc = rpl_meta_u64(txn, r->meta, "hlc", &last_hlc);
	if (rc == ROVE_OK)
		rc = rpl_meta_u64(txn, r->meta, "pulled_hlc", &pulled);
	seen = pulled;
	/* What the change was made after: the newest stamp pulled, or the
	 * newest proof of the server's clock, when later. A snapshot taken
	 * anew from a restored copy starts the newest pulled anew, but the
	 * changes made after it were made after all this replica had seen
	 * (attack thirty-six: a manager's change, made after seeing a rep's,
	 * went before it). */
	if (rc == ROVE_OK)
		rc = rpl_proof_get(r, txn, &proof);
	if (rc == ROVE_OK && proof.hlc.v > seen)
		seen = proof.hlc.v;
	clock.v = last_hlc;
	/* (a laptop's clock, fast or slow, as the server's: a change made
	 * after another in the server's time orders after it, seen or not;
	 * SPEC rule 8, attack one hundred and one) */
	uint64_t now = rc == ROVE_OK ? rpl_now_ms(r, txn) : 0;
	if (rc == ROVE_OK)
		rc = clock_settle(r, txn, seen, now, &clock);
	if (rc == ROVE_OK)
		rc = rpl_last_lseq(r, txn, &lseq);
	for (size_t i = 0; rc == ROVE_OK && i < n; i++) {
		rc = fill(&w->op, i, arg);
		if (rc == ROVE_OK)
			rc = write_op(r, txn, &clock, now, seen, &lseq, &w->op, w);
	}
	if (rc == ROVE_OK)
		rc = rove_db_put_u64(txn, r->meta, "hlc", clock.v);
	rc = rpl_commit_or_abort(txn, rc);
	rpl_work_free(w);
	return rc;
}

int rove_replica_write_each(rove_replica *r, size_t n, rove_op_fill_fn fill, void *arg)
{
	int rc;

	RPL_WITH_GROWTH(r, write_each_once(r, 0, n, fill, arg));
	return rc;
}

int rove_replica_write_each_at(rove_replica *r, uint64_t version, size_t n, rove_op_fill_fn fill, void *arg)
{
	int rc;

	ROVE_ASSERT(version != 0); /* rove_replica_version's: a replica has committed once */
	RPL_WITH_GROWTH(r, write_each_once(r, version, n, fill, arg));
	return rc;
}

/* Copies ops[i] in (the caller's ops keep their own stamps). */
static int fill_from_array(rove_op *op, size_t i, void *arg)
{
	const rove_op *ops = arg;

	op->op_id = ops[i].op_id;
	op->kind = ops[i].kind;
	op->coll = ops[i].coll;
	op->rid = ops[i].rid;
	op->st = ops[i].st;
	op->seq = 0;
	op->author[0] = '\0';
	return rove_fields_copy(&op->fs, &ops[i].fs);
}

int rove_replica_write_many(rove_replica *r, rove_op *ops, size_t n)
{
	return rove_replica_write_each(r, n, fill_from_array, ops);
}

int rove_replica_write(rove_replica *r, rove_op *op)
{
	return rove_replica_write_many(r, op, 1);
}

int rove_replica_write_at(rove_replica *r, uint64_t version, rove_op *op)
{
	return rove_replica_write_each_at(r, version, 1, fill_from_array, op);
}

typedef struct pending_walk {
	const rove_replica *r;
	rove_pending_fn fn;
	void *arg;
	rove_op *op;
	uint64_t damaged; /* entries that do not decode, passed over */
} pending_walk;

static int pending_one(const MDB_val *k, const MDB_val *v, void *arg)
{
	pending_walk *pw = arg;
	rpl_entry e;
	/* (one the sweep mends is shown as it will be sent: attack
	 * eighty-six, told to make it again, the rep sent it twice) */
	int rc = rpl_outbox_read(pw->r, k, v, &e, pw->op);

	if (rc == ROVE_OK)
		rc = rove_dec_op(e.op, e.len, pw->op);
	/* one that does not decode: counted, the rest shown (the next sync
	 * drops it, saying so: rove_replica_outbox_sweep) */
	if (rc != ROVE_OK) {
		pw->damaged++;
		return ROVE_OK;
	}
	return pw->fn(pw->op, e.acked != 0, pw->arg);
}

/* ---- pending changes that do not decode ---- */

/* The op of a pending change mended by op_bit: e->op points here until the
 * next mend in this thread (each caller uses the entry before that). */
static _Thread_local uint8_t mend_op[ROVE_MEND_OP_BYTES];

/* Whether entry k/v of format 5 holds its sum with one bit of its op
 * flipped back: *e then the entry with that op (in mend_op). Each byte's
 * hash state before it is kept, so a try hashes only the rest. */
static bool op_bit(const MDB_val *k, const MDB_val *v, rpl_entry *e)
{
	const uint8_t *p = v->mv_data;
	size_t len;
	uint64_t got, before;

	if (k->mv_size != 8 || v->mv_size <= OUTBOX_HEAD + OUTBOX_SUM)
		return false;
	len = v->mv_size - OUTBOX_HEAD - OUTBOX_SUM;
	if (len > sizeof(mend_op))
		return false;
	got = rove_be64_get(p + OUTBOX_HEAD);
	memcpy(mend_op, p + OUTBOX_HEAD + OUTBOX_SUM, len);
	before = rove_fnv1a(OUTBOX_SUM_BASIS, k->mv_data, 8);
	before = rove_fnv1a(before, p, OUTBOX_HEAD);
	for (size_t i = 0; i < len; i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			uint8_t b = (uint8_t)(mend_op[i] ^ (1u << bit));
			uint64_t h = rove_fnv1a(rove_fnv1a(before, &b, 1), mend_op + i + 1, len - i - 1);
			if (h == got) {
				mend_op[i] = b;
				e->acked = rove_be64_get(p);
				e->op = mend_op;
				e->len = len;
				e->home = 0;
				return true;
			}
		}
		before = rove_fnv1a(before, mend_op + i, 1);
	}
	return false;
}

/* (rpl_outbox_mend: a number of the server's damaged settled a pending
 * change unsent, or kept one from ever going (attack eighty-three, flip
 * 8), and that damage alone need not cost the change.) */
int rpl_outbox_mend(const rove_replica *r, const MDB_val *k, const MDB_val *v, rpl_entry *e, rove_op *scratch)
{
	const uint8_t *p = v->mv_data;
	uint8_t head[OUTBOX_HEAD];
	uint64_t got, diff;

	if (k->mv_size != 8 || v->mv_size <= OUTBOX_HEAD)
		return RPL_MEND_NONE;
	/* An entry of format 4 in a replica of format 5: written by an older
	 * rove that opened the replica before this one raised its format
	 * (attack eighty-six: its changes, "saved", then dropped). Its bytes
	 * past the answer's number decode whole as an op, which damage to
	 * one of format 5 (its sum first) does not make. Its answer's number
	 * has no sum to vouch for it: it goes as not sent (the server answers
	 * one it has as before), not settled on its word (attack eighty-seven:
	 * a flipped one settled it unsent). */
	e->acked = 0;
	e->op = p + OUTBOX_HEAD;
	e->len = v->mv_size - OUTBOX_HEAD;
	e->home = 0;
	if (r->outbox_sums && rove_dec_op(e->op, e->len, scratch) == ROVE_OK)
		return RPL_MEND_OLDER;
	if (v->mv_size <= OUTBOX_HEAD + OUTBOX_SUM)
		return RPL_MEND_NONE;
	e->op = p + OUTBOX_HEAD + OUTBOX_SUM;
	e->len = v->mv_size - OUTBOX_HEAD - OUTBOX_SUM;
	e->acked = rove_be64_get(p);
	got = rove_be64_get(p + OUTBOX_HEAD);
	memcpy(head, p, OUTBOX_HEAD);
	diff = got ^ outbox_sum(k->mv_data, head, e->op, e->len);
	if (diff != 0 && (diff & (diff - 1)) == 0)
		return RPL_MEND_BIT; /* the sum's own bit */
	for (unsigned bit = 0; bit < 8 * OUTBOX_HEAD; bit++) {
		head[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (outbox_sum(k->mv_data, head, e->op, e->len) == got) {
			e->acked = rove_be64_get(head);
			return RPL_MEND_BIT;
		}
		head[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	/* One bit of its key, its number (the sum covers it: the entry was
	 * dropped whole, said lost twice and unnamed; attack eighty-nine):
	 * it belongs under the number it was queued with. */
	if (rpl_outbox_home(k, v, &e->home))
		return RPL_MEND_KEY;
	/* One bit of its op (four flips in five of an outbox page's fall
	 * there: a change lost, attack ninety). */
	return op_bit(k, v, e) ? RPL_MEND_BIT : RPL_MEND_NONE;
}

bool rpl_outbox_home(const MDB_val *k, const MDB_val *v, uint64_t *home)
{
	const uint8_t *p = v->mv_data;
	uint64_t got;

	if (k->mv_size != 8 || v->mv_size <= OUTBOX_HEAD + OUTBOX_SUM)
		return false;
	got = rove_be64_get(p + OUTBOX_HEAD);
	for (unsigned bit = 0; bit < 64; bit++) {
		uint8_t key[8];
		memcpy(key, k->mv_data, 8);
		key[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (rove_be64_get(key) != 0 && outbox_sum(key, p, p + OUTBOX_HEAD + OUTBOX_SUM,
							  v->mv_size - OUTBOX_HEAD - OUTBOX_SUM) == got) {
			*home = rove_be64_get(key);
			return true;
		}
	}
	return false;
}

int rpl_outbox_read(const rove_replica *r, const MDB_val *k, const MDB_val *v, rpl_entry *e, rove_op *scratch)
{
	rove_op_head h;

	/* (read as one of format 4 where the format number says so, its op
	 * must read too: one of format 5 with a bit flipped, in a replica
	 * whose number was damaged into 4, is mended; attack eighty-seven) */
	if (rpl_outbox_entry(r, k, v, e) == ROVE_OK && rove_dec_op_head(e->op, e->len, &h) == ROVE_OK)
		return ROVE_OK;
	return rpl_outbox_mend(r, k, v, e, scratch) != RPL_MEND_NONE ? ROVE_OK : ROVE_EPROTO;
}

/* The outbox entries that do not decode, by key (8 bytes each, or none
 * for a key of another size: all of those are dropped); while sound is
 * not NULL, those that do, in the outbox's order (by lseq). */
typedef struct sweep_ctx {
	const rove_replica *r;
	rpl_work *w;
	uint64_t *bad;
	size_t n, cap;
	size_t bad_sent; /* of bad: marked sent (the server may hold them) */
	bool odd_keys;
	sweep_sound *sound;
	size_t nsound, capsound;
	bool collect;          /* the walk lists sound entries in sound (the read's walk) */
	/* Of sound, those whose index entry was missing and put back (the
	 * index damaged: its entry under another key is one of its strays,
	 * not a change lost), each taken once by such a stray (its record's
	 * key here, the lseq unused). */
	sweep_sound *back;
	size_t nback, capback;
	/* The view holds a record with no change pending on it: a change
	 * lost with its index entry (attack ninety: lost without a word, the
	 * list still marking the record pending). */
	bool viewless;
	size_t index_recs;                 /* the records the index names (its walk's count) */
	uint8_t last_rec[ROVE_RECORD_KEY]; /* the last of them */
	/* The highest number the server can have given an op of this
	 * replica (its pull position, or the highest it acknowledged past
	 * it), and the entries to write anew: those that say the server
	 * gave them a higher one (their record of its answer is damaged:
	 * sent again; nfar of them), and those rpl_outbox_mend read all the
	 * same (nmended a bit flipped, nolder an older rove's). */
	uint64_t bound;
	struct sweep_fix {
		uint64_t lseq, acked;
		uint64_t home; /* one whose key had a bit flipped: the number it goes back under; else 0 */
	} *fix;
	size_t nfar, nmended, nolder, capfix;
	size_t nmoved;         /* of nmended, those put back under their number */
	bool sound_unsorted;   /* sound holds a number out of the outbox's order (one put back) */
	size_t moved_lost;     /* put back where another change is: dropped */
	size_t gone; /* index entries whose change the outbox lacks: changes lost */
	size_t index_odd; /* index entries naming a change the outbox holds on another record */
	/* Of bad, those named by an index entry on a record the view holds
	 * (the rest, each one of the view's records with no change left on
	 * it: not counted again there) */
	size_t bad_named;
	/* Records with sound changes whose view copies those changes and
	 * their base do not make (a change lost with its index entry), as
	 * the read found them (at most ROVE_SWEEP_VIEW_CHANGES) */
	uint8_t (*unexplained)[ROVE_RECORD_KEY];
	size_t nunexplained;
	/* The records of the changes lost (dropped or gone), as the index
	 * names them, each once: what the rep may make again. */
	struct sweep_named {
		uint8_t rec[ROVE_RECORD_KEY];
		char title[2 * ROVE_TEXT_QUOTE_BUF]; /* its name as this replica showed it, quoted, or "" */
	} named[ROVE_LOST_CHANGES_NAMED];
	size_t nnamed, unnamed;
} sweep_ctx;

/* Whether entry e's op reads, its record's key into rec. With a sum
 * that holds, its bytes are those rove wrote, and the op's head is
 * enough (the whole op of every pending change decoded at each sync was
 * 6 % of a 1,000-op sync's CPU, issue 17); without sums, the whole op. */
static bool sweep_reads(const sweep_ctx *x, const rpl_entry *e, uint8_t rec[ROVE_RECORD_KEY])
{
	rove_op_head h;

	if (x->r->outbox_sums) {
		if (rove_dec_op_head(e->op, e->len, &h) != ROVE_OK)
			return false;
		rove_record_key(rec, h.coll, &h.rid);
		return true;
	}
	if (rove_dec_op(e->op, e->len, &x->w->op) != ROVE_OK)
		return false;
	rove_record_key(rec, x->w->op.coll, &x->w->op.rid);
	return true;
}

static int sweep_one(const MDB_val *k, const MDB_val *v, void *arg)
{
	sweep_ctx *x = arg;
	uint64_t acked, *more;
	rpl_entry e;
	uint8_t rec[ROVE_RECORD_KEY];
	bool whole;
	int mended = RPL_MEND_NONE;

	if (k->mv_size != 8) {
		x->odd_keys = true;
		return ROVE_OK;
	}
	/* (no change is given lseq 0, they start at 1: an entry there has a
	 * damaged key, and stayed pending for ever, its answers never
	 * found; attack eighty-six) */
	whole = rove_be64_get(k->mv_data) != 0 && rpl_outbox_entry(x->r, k, v, &e) == ROVE_OK && sweep_reads(x, &e, rec);
	/* (one read as of format 4 whose op does not read may be of format 5
	 * with a bit flipped, in a replica whose format number was damaged
	 * into 4: mended, not dropped; attack eighty-seven) */
	if (!whole && rove_be64_get(k->mv_data) != 0) {
		mended = rpl_outbox_mend(x->r, k, v, &e, &x->w->op);
		if (mended != RPL_MEND_NONE && !sweep_reads(x, &e, rec))
			mended = RPL_MEND_NONE;
	}
	if (whole || mended != RPL_MEND_NONE) {
		sweep_sound *s;
		acked = e.acked;
		if (!x->collect)
			return ROVE_OK;
		if (acked > x->bound || mended != RPL_MEND_NONE) {
			size_t nfix = x->nfar + x->nmended + x->nolder;
			struct sweep_fix *f = rove_array_room(x->fix, nfix, &x->capfix, sizeof(*x->fix));
			if (f == NULL)
				return ROVE_ENOMEM;
			x->fix = f;
			f = &x->fix[nfix];
			f->lseq = rove_be64_get(k->mv_data);
			f->acked = acked > x->bound ? 0 : acked;
			f->home = mended == RPL_MEND_KEY ? e.home : 0;
			if (acked > x->bound)
				x->nfar++;
			else if (mended == RPL_MEND_BIT || mended == RPL_MEND_KEY)
				x->nmended++;
			else
				x->nolder++;
			if (mended == RPL_MEND_KEY)
				x->nmoved++;
		}
		s = rove_array_room(x->sound, x->nsound, &x->capsound, sizeof(*x->sound));
		if (s == NULL)
			return ROVE_ENOMEM;
		x->sound = s;
		s = &x->sound[x->nsound++];
		s->lseq = mended == RPL_MEND_KEY ? e.home : rove_be64_get(k->mv_data);
		if (mended == RPL_MEND_KEY)
			x->sound_unsorted = true;
		memcpy(s->rec, rec, ROVE_RECORD_KEY);
		return ROVE_OK;
	}
	more = rove_array_room(x->bad, x->n, &x->cap, sizeof(*x->bad));
	if (more == NULL)
		return ROVE_ENOMEM;
	x->bad = more;
	x->bad[x->n++] = rove_be64_get(k->mv_data);
	/* (a number the server cannot have given is the damage's, not an
	 * answer: attack ninety was told "sent" of one never sent) */
	if (v->mv_size >= 8 && rove_be64_get(v->mv_data) != 0 && rove_be64_get(v->mv_data) <= x->bound)
		x->bad_sent++;
	return ROVE_OK;
}

/* Whether the pending index's entry at (a key of RPL_PENDING_KEY bytes)
 * names an op of the outbox on its record (lk: the op's key, ov: room). */
static bool pending_sound(MDB_txn *txn, rove_replica *r, const uint8_t *at, MDB_val *lk, MDB_val *ov)
{
	rove_op_head h;
	rpl_entry e;

	return mdb_get(txn, r->outbox, lk, ov) == 0 && rpl_outbox_entry(r, lk, ov, &e) == ROVE_OK &&
	       rove_dec_op_head(e.op, e.len, &h) == ROVE_OK && h.coll == at[0] &&
	       memcmp(h.rid.b, at + 1, 16) == 0;
}

/* Whether an entry of the pending index (key k) names a sound entry of
 * the outbox (x's list, by lseq) on its record; ROVE_EEXIST if not. */
static int stray_one(const MDB_val *k, const MDB_val *v, void *arg)
{
	sweep_ctx *x = arg;
	const uint8_t *key = k->mv_data;
	uint64_t lseq;
	size_t lo = 0, hi = x->nsound;

	(void)v;
	/* (a key of another size is the index's damage: damage_hunt seed
	 * 75, a node read one byte off, hid the entry it had been, and a
	 * change whole was said lost) */
	if (k->mv_size != RPL_PENDING_KEY)
		return ROVE_EEXIST;
	/* (the index is in its records' order: each new one counted) */
	if (x->index_recs == 0 || memcmp(x->last_rec, key, ROVE_RECORD_KEY) != 0) {
		x->index_recs++;
		memcpy(x->last_rec, key, ROVE_RECORD_KEY);
	}
	lseq = rove_be64_get(key + ROVE_RECORD_KEY);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (x->sound[mid].lseq < lseq)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < x->nsound && x->sound[lo].lseq == lseq && memcmp(x->sound[lo].rec, key, ROVE_RECORD_KEY) == 0)
		return ROVE_OK;
	return ROVE_EEXIST; /* one is enough */
}

/* Whether the pending index holds an entry that names no op of the
 * outbox on its record (attack sixty-six: every sync then failed for
 * good, blaming the server), found in x's list of the outbox's sound
 * entries, which the walk just made: a search in memory, not a read of
 * the outbox and a decode for each (3 % of a 1,000-op sync, issue 17). */
static int sound_cmp(const void *a, const void *b)
{
	const sweep_sound *x = a, *y = b;

	return x->lseq < y->lseq ? -1 : x->lseq > y->lseq;
}

static int pending_stray(rove_replica *r, MDB_txn *txn, sweep_ctx *x, bool *any)
{
	int rc;

	/* (one put back under its number is listed where its key was) */
	if (x->sound_unsorted)
		qsort(x->sound, x->nsound, sizeof(*x->sound), sound_cmp);
	rc = rove_db_each(txn, r->pending, "pending", stray_one, x);

	*any = rc == ROVE_EEXIST;
	return *any ? ROVE_OK : rc;
}

/* Whether lseq is among x's entries dropped (x->bad, in key order). */
static bool is_dropped(const sweep_ctx *x, uint64_t lseq)
{
	size_t lo = 0, hi = x->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (x->bad[mid] < lseq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < x->n && x->bad[lo] == lseq;
}

/* Adds record key rec to x's records of changes lost, once, with its
 * name as the view shows it (in txn, before the view is made anew
 * without the change): what the rep knows it by. */
static void sweep_name(rove_replica *r, MDB_txn *txn, sweep_ctx *x, const uint8_t rec[ROVE_RECORD_KEY])
{
	static const char *const titles[] = {"name", "title", "number"};
	struct sweep_named *n;
	const rove_field *f;
	rove_uuid id;

	for (size_t i = 0; i < x->nnamed; i++)
		if (memcmp(x->named[i].rec, rec, ROVE_RECORD_KEY) == 0)
			return;
	if (x->nnamed == ROVE_LOST_CHANGES_NAMED) {
		x->unnamed++;
		return;
	}
	n = &x->named[x->nnamed++];
	memcpy(n->rec, rec, ROVE_RECORD_KEY);
	n->title[0] = '\0';
	memcpy(id.b, rec + 1, sizeof(id.b));
	/* (a view's record that does not read names nothing: the id does;
	 * a deal is known by its title, a contract by its number) */
	if (rpl_rec_get(txn, r->view, rec[0], &id, &x->w->a) != ROVE_OK)
		return;
	for (size_t i = 0; i < sizeof(titles) / sizeof(titles[0]); i++) {
		char q[ROVE_TEXT_QUOTE_BUF];
		size_t at = 0;
		f = rove_fields_get(&x->w->a.fs, titles[i]);
		if (f == NULL || f->v.type != ROVE_V_STR || f->v.len == 0)
			continue;
		rove_text_quote(f->v.s, f->v.len, q);
		/* (in quotes: its own quotes and backslashes escaped) */
		for (const char *c = q; *c != '\0' && at + 2 < sizeof(n->title); c++) {
			if (*c == '"' || *c == '\\')
				n->title[at++] = '\\';
			n->title[at++] = *c;
		}
		n->title[at] = '\0';
		return;
	}
}

/* A line of what a sweep says of changes lost, added to note (printf's
 * fmt): kept in meta "lost_unsaid" in the transaction that loses them,
 * said after, then dropped (attack ninety: a sync killed between its
 * commit and its words lost a change without a word, for good). */
__attribute__((format(printf, 2, 3))) static int note_line(rove_buf *note, const char *fmt, ...)
{
	char line[ROVE_MAX_LOST_NOTE];
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return ROVE_EINVAL;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	if (note->len + (size_t)n + 1 > ROVE_MAX_LOST_NOTE)
		return ROVE_OK; /* (the first lines, the counts, are kept) */
	rc = rove_buf_append(note, line, (size_t)n);
	return rc == ROVE_OK ? rove_buf_append(note, "\n", 1) : rc;
}

/* Says each line of a note (len bytes), escaped (read from the file: its
 * bytes are not trusted), after head when not NULL. */
static void note_say(const char *head, const char *s, size_t len)
{
	if (len > 0 && head != NULL)
		rove_warn("%s", head);
	while (len > 0) {
		const char *nl = memchr(s, '\n', len);
		size_t n = nl != NULL ? (size_t)(nl - s) : len;
		char shown[ROVE_MAX_LOST_NOTE];
		rove_text_show(s, n, 0, shown, sizeof(shown));
		rove_warn("%s", shown);
		s += n + (nl != NULL);
		len -= n + (nl != NULL);
	}
}

/* Which records x's lost changes were to, and what the rep may do: a
 * line of note. */
static int sweep_named_line(const sweep_ctx *x, rove_buf *note)
{
	char line[ROVE_LOST_CHANGES_NAMED * (ROVE_UUID_STRLEN + 2 * ROVE_TEXT_QUOTE_BUF + 32) + 64];
	size_t at = 0;

	if (x->nnamed == 0)
		return ROVE_OK;
	for (size_t i = 0; i < x->nnamed; i++) {
		const struct sweep_named *e = &x->named[i];
		const rove_coll_def *c = rove_schema_coll(e->rec[0]);
		char id[ROVE_UUID_STRLEN + 1];
		rove_uuid u;
		int n;
		memcpy(u.b, e->rec + 1, sizeof(u.b));
		rove_uuid_format(&u, id);
		if (e->title[0] != '\0')
			n = snprintf(line + at, sizeof(line) - at, "%s%s \"%s\" (%s)", i == 0 ? "" : ", ",
				     c != NULL ? c->name : "record", e->title, id);
		else
			n = snprintf(line + at, sizeof(line) - at, "%s%s %s", i == 0 ? "" : ", ",
				     c != NULL ? c->name : "record", id);
		ROVE_ASSERT(n > 0 && (size_t)n < sizeof(line) - at);
		at += (size_t)n;
	}
	if (x->unnamed > 0)
		snprintf(line + at, sizeof(line) - at, " and %zu more", x->unnamed);
	/* (attack ninety: a change whose sync was cut short before the
	 * server's answer came was on the server, told "make it again") */
	return note_line(note,
			 "the change%s lost %s to %s: see what this replica holds of %s after this sync (the server "
			 "has %s if an earlier sync sent %s), and make %s again only if %s missing",
			 x->nnamed + x->unnamed == 1 ? "" : "s", x->nnamed + x->unnamed == 1 ? "was" : "were", line,
			 x->nnamed + x->unnamed == 1 ? "it" : "them", x->nnamed + x->unnamed == 1 ? "it" : "them",
			 x->nnamed + x->unnamed == 1 ? "it" : "them",
			 x->nnamed + x->unnamed == 1 ? "the change" : "them",
			 x->nnamed + x->unnamed == 1 ? "it is" : "they are");
}

/* The index entries of x's sound changes that the index lacks, put
 * back in txn, each listed in x->back (its record's view copy is made
 * anew by sweep_drop): a bit of such an entry's key flipped left it
 * under another, a stray of the index that is no change lost
 * (damage_hunt seed 36: such a change was sent, and said lost). */
static int sweep_put_back(rove_replica *r, MDB_txn *txn, sweep_ctx *x)
{
	int rc = ROVE_OK;

	for (size_t i = 0; rc == ROVE_OK && i < x->nsound; i++) {
		uint8_t pkey[RPL_PENDING_KEY];
		MDB_val pk = {RPL_PENDING_KEY, pkey}, pv = {0, ""};
		sweep_sound *b;
		int mrc;
		memcpy(pkey, x->sound[i].rec, ROVE_RECORD_KEY);
		rove_be64_put(pkey + ROVE_RECORD_KEY, x->sound[i].lseq);
		mrc = mdb_get(txn, r->pending, &pk, &pv);
		if (mrc != MDB_NOTFOUND) {
			rc = rove_db_err(mrc, "pending");
			continue;
		}
		pv = (MDB_val){0, ""};
		if ((b = rove_array_room(x->back, x->nback, &x->capback, sizeof(*x->back))) == NULL)
			return ROVE_ENOMEM;
		x->back = b;
		x->back[x->nback++] = x->sound[i];
		rc = rove_db_err(mdb_put(txn, r->pending, &pk, &pv, 0), "pending");
	}
	return rc;
}

/* Whether one of x's entries put back (sweep_put_back) is on record rec,
 * not yet taken: taken now. */
static bool put_back_take(sweep_ctx *x, const uint8_t rec[ROVE_RECORD_KEY])
{
	for (size_t i = 0; i < x->nback; i++)
		if (x->back[i].lseq != 0 && memcmp(x->back[i].rec, rec, ROVE_RECORD_KEY) == 0) {
			x->back[i].lseq = 0;
			return true;
		}
	return false;
}

/* Whether the view (in txn) holds more records than the index names
 * (x->index_recs, after a whole walk of it): one with no change pending
 * on it, whose change and index entry were both lost. */
static int view_has_more(rove_replica *r, MDB_txn *txn, const sweep_ctx *x, bool *more)
{
	MDB_stat sv;
	int rc = rove_db_err(mdb_stat(txn, r->view, &sv), "view");

	*more = rc == ROVE_OK && sv.ms_entries > x->index_recs;
	return rc;
}

/* Record key rec added to the list of records whose view copies sweep_drop
 * makes anew (*n of them in *list, room for *cap). */
static int redo_add(uint8_t (**list)[ROVE_RECORD_KEY], size_t *n, size_t *cap, const uint8_t *rec)
{
	uint8_t (*more)[ROVE_RECORD_KEY] = rove_array_room(*list, *n, cap, sizeof(**list));

	if (more == NULL)
		return ROVE_ENOMEM;
	*list = more;
	memcpy((*list)[(*n)++], rec, ROVE_RECORD_KEY);
	return ROVE_OK;
}

/* Whether one of x's sound changes is on record rec (its index entry lost
 * and not put back: no change lost). */
static bool has_sound(const sweep_ctx *x, const uint8_t *rec)
{
	for (size_t i = 0; i < x->nsound; i++)
		if (memcmp(x->sound[i].rec, rec, ROVE_RECORD_KEY) == 0)
			return true;
	return false;
}

static bool in_redo(uint8_t (*redo)[ROVE_RECORD_KEY], size_t n, const uint8_t *rec)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(redo[i], rec, ROVE_RECORD_KEY) == 0)
			return true;
	return false;
}

/* The view's records with no change pending on them (x->viewless): each
 * a change lost, said and named, its view copy made anew (*redo). */
static int sweep_viewless(rove_replica *r, MDB_txn *txn, sweep_ctx *x, uint8_t (**redo)[ROVE_RECORD_KEY],
			  size_t *nredo, size_t *capredo)
{
	MDB_cursor *vc, *pc;
	MDB_val k, v;
	int mrc, rc = rove_db_err(mdb_cursor_open(txn, r->view, &vc), "cursor");

	if (rc != ROVE_OK)
		return rc;
	rc = rove_db_err(mdb_cursor_open(txn, r->pending, &pc), "cursor");
	if (rc != ROVE_OK) {
		mdb_cursor_close(vc);
		return rc;
	}
	for (mrc = mdb_cursor_get(vc, &k, &v, MDB_FIRST); rc == ROVE_OK && mrc == 0;
	     mrc = mdb_cursor_get(vc, &k, &v, MDB_NEXT)) {
		uint8_t rec[ROVE_RECORD_KEY], pkey[RPL_PENDING_KEY];
		MDB_val pk = {RPL_PENDING_KEY, pkey}, pv;
		int prc;
		if (k.mv_size != ROVE_RECORD_KEY)
			continue;
		memcpy(rec, k.mv_data, ROVE_RECORD_KEY);
		memcpy(pkey, rec, ROVE_RECORD_KEY);
		memset(pkey + ROVE_RECORD_KEY, 0, 8);
		prc = mdb_cursor_get(pc, &pk, &pv, MDB_SET_RANGE);
		if (prc == 0 && pk.mv_size == RPL_PENDING_KEY && memcmp(pk.mv_data, rec, ROVE_RECORD_KEY) == 0)
			continue;
		if (prc != 0 && prc != MDB_NOTFOUND) {
			rc = rove_db_err(prc, "pending");
			break;
		}
		/* (one whose change this sweep dropped, or whose index entry it
		 * found gone: said already; one that does not decode is a
		 * damaged copy, no sign of a change, which a recovery passes
		 * over: t_repair) */
		if (in_redo(*redo, *nredo, rec) || has_sound(x, rec))
			continue;
		{
			rove_uuid id;
			memcpy(id.b, rec + 1, sizeof(id.b));
			prc = rpl_rec_get(txn, r->view, rec[0], &id, &x->w->a);
			if (prc == ROVE_EPROTO || prc == ROVE_ENOTFOUND)
				continue;
			if (prc != ROVE_OK) {
				rc = prc;
				break;
			}
		}
		/* (a copy its base makes is no change lost: made anew; one of
		 * a change dropped above whose index entry named no record the
		 * view holds is that change, counted already) */
		{
			bool lost;
			rc = view_lost_change(r, txn, rec, false, x->sound, x->nsound, x->w, &lost);
			if (rc != ROVE_OK)
				break;
			if (lost && x->bad_named < x->n)
				x->bad_named++;
			else if (lost)
				x->gone++;
			if (lost)
				sweep_name(r, txn, x, rec);
		}
		rc = redo_add(redo, nredo, capredo, rec);
	}
	if (rc == ROVE_OK && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, "view");
	mdb_cursor_close(pc);
	mdb_cursor_close(vc);
	return rc;
}

/* sweep_drop's work before the view copies: the records to make anew
 * listed in *redo. */
static int sweep_drop_entries(rove_replica *r, MDB_txn *txn, sweep_ctx *x, bool stray,
			      uint8_t (**redo)[ROVE_RECORD_KEY], size_t *nredo, size_t *capredo)
{
	MDB_cursor *c;
	MDB_val k, v;
	int mrc, rc = ROVE_OK;

	for (size_t i = 0; rc == ROVE_OK && i < x->n; i++) {
		uint8_t key[8];
		MDB_val lk = {8, key};
		rove_be64_put(key, x->bad[i]);
		rc = rove_db_err(mdb_del(txn, r->outbox, &lk, NULL), "outbox");
	}
	/* keys of another size: not an entry the outbox ever held */
	if (rc == ROVE_OK && x->odd_keys) {
		rc = rove_db_err(mdb_cursor_open(txn, r->outbox, &c), "cursor");
		if (rc != ROVE_OK)
			return rc;
		for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == ROVE_OK && mrc == 0;
		     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
			if (k.mv_size != 8)
				rc = rove_db_err(mdb_cursor_del(c, 0), "outbox");
		mdb_cursor_close(c);
	}
	if (rc == ROVE_OK && stray)
		rc = sweep_put_back(r, txn, x);
	for (size_t i = 0; rc == ROVE_OK && i < x->nback; i++)
		rc = redo_add(redo, nredo, capredo, x->back[i].rec);
	/* the pending index's entries of those: found by their lseq (the
	 * op that named the record is gone) */
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_cursor_open(txn, r->pending, &c), "cursor");
	if (rc != ROVE_OK)
		return rc;
	/* (each found from the key after the last one dropped: a cursor's
	 * place moves under writes) */
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == ROVE_OK && mrc == 0;) {
		uint8_t ok[8], at[RPL_PENDING_KEY];
		MDB_val lk = {8, ok}, ov, pk = {RPL_PENDING_KEY, at};
		if (k.mv_size != RPL_PENDING_KEY) {
			/* (no entry the index ever held: dropped, said with the
			 * index's damage) */
			x->index_odd++;
			rc = rove_db_err(mdb_cursor_del(c, 0), "pending");
			if (rc == ROVE_OK) /* (after a delete, the next entry) */
				mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
			continue;
		}
		memcpy(at, k.mv_data, RPL_PENDING_KEY);
		memcpy(ok, at + ROVE_RECORD_KEY, 8);
		if (pending_sound(txn, r, at, &lk, &ov)) {
			mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
			continue; /* its op is there */
		}
		/* No change at all where the index names one, and not one
		 * dropped above: a change lost from the outbox (its entry or
		 * page damaged), to be said (attack eighty-four: lost without a
		 * word but "index ... made anew"). */
		/* (an entry on a record the view lacks, or whose copy its base
		 * and whole changes make, is the index's damage: attack
		 * ninety-one, a record that never was named, a change whole
		 * said lost) */
		if (is_dropped(x, rove_be64_get(ok))) {
			MDB_val vk = {ROVE_RECORD_KEY, at}, vv;
			int vrc = mdb_get(txn, r->view, &vk, &vv);
			bool lost = false;
			/* (a copy its base and whole changes make: the entry's
			 * record part damaged onto another record; attack
			 * ninety-four, a whole change named lost) */
			if (vrc == 0)
				rc = view_lost_change(r, txn, at, false, x->sound, x->nsound, x->w, &lost);
			else if (vrc != MDB_NOTFOUND)
				rc = rove_db_err(vrc, "view");
			if (rc == ROVE_OK && lost) {
				sweep_name(r, txn, x, at);
				x->bad_named++;
			} else if (rc == ROVE_OK) {
				x->index_odd++;
			}
		} else if (mdb_get(txn, r->outbox, &lk, &ov) == MDB_NOTFOUND && !put_back_take(x, at) &&
			   !settled(txn, r, ok)) {
			bool lost;
			rc = view_lost_change(r, txn, at, false, x->sound, x->nsound, x->w, &lost);
			if (rc == ROVE_OK && lost) {
				x->gone++;
				sweep_name(r, txn, x, at);
			} else {
				x->index_odd++;
			}
		} else {
			x->index_odd++;
		}
		if (rc != ROVE_OK)
			break;
		rc = rove_db_err(mdb_del(txn, r->pending, &pk, NULL), "pending");
		if (rc == ROVE_OK)
			rc = redo_add(redo, nredo, capredo, at);
		k = pk;
		if (rc == ROVE_OK)
			mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	}
	if (rc == ROVE_OK && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, "pending");
	mdb_cursor_close(c);
	if (rc == ROVE_OK && x->viewless)
		rc = sweep_viewless(r, txn, x, redo, nredo, capredo);
	/* records with changes whose view copy holds one lost (once the
	 * index is whole again), each said and named once */
	for (size_t i = 0; rc == ROVE_OK && i < x->nunexplained; i++) {
		const uint8_t *rec = x->unexplained[i];
		bool lost;
		if (in_redo(*redo, *nredo, rec))
			continue;
		rc = view_lost_change(r, txn, rec, true, x->sound, x->nsound, x->w, &lost);
		if (rc != ROVE_OK || !lost)
			continue;
		if (x->bad_named < x->n)
			x->bad_named++;
		else
			x->gone++;
		sweep_name(r, txn, x, rec);
		rc = redo_add(redo, nredo, capredo, rec);
	}
	/* An entry gone from under the number its index entry names while a
	 * change dropped as damaged was named by no index entry: the same
	 * change, its key damaged (attack ninety-four: one byte of a key,
	 * said lost twice, "lost": 2). Each such pair is counted once, as
	 * dropped, and named by the index entry's record. */
	if (rc == ROVE_OK && x->n > x->bad_named) {
		size_t pair = x->gone < x->n - x->bad_named ? x->gone : x->n - x->bad_named;
		x->gone -= pair;
		x->bad_named += pair;
	}
	return rc;
}

/* Drops the entries of x from the outbox in txn, with their pending
 * index entries, puts back those the index lacks (when stray), and
 * makes the view copies of their records anew once the index is whole
 * again (one made before then met an entry of the index on its record
 * naming a change the outbox lacks). */
static int sweep_drop(rove_replica *r, MDB_txn *txn, sweep_ctx *x, bool stray)
{
	uint8_t (*redo)[ROVE_RECORD_KEY] = NULL;
	size_t nredo = 0, capredo = 0;
	int rc = sweep_drop_entries(r, txn, x, stray, &redo, &nredo, &capredo);

	for (size_t i = 0; rc == ROVE_OK && i < nredo; i++) {
		rove_uuid id;
		memcpy(id.b, redo[i] + 1, sizeof(id.b));
		rc = rpl_view_rebuild(r, txn, redo[i][0], &id, x->w);
	}
	free(redo);
	return rc;
}

/* The entries of x.fix written anew, in txn: those of x.far marked not
 * sent (their answer's number zeroed: sent again, the server answers them
 * as it did, or takes them; attack eighty-three, flip 8: one stayed
 * "sent" for good, never sent nor settled; a bit flipped in an unsent
 * one's would have kept it from the server for good), those mended with
 * the number they had, and a sum that is theirs. */
static int sweep_rewrite(rove_replica *r, MDB_txn *txn, sweep_ctx *x)
{
	int rc = ROVE_OK;

	for (size_t i = 0; rc == ROVE_OK && i < x->nfar + x->nmended + x->nolder; i++) {
		uint8_t key[8];
		MDB_val lk = {8, key}, ov;
		rpl_entry e;
		rove_be64_put(key, x->fix[i].lseq);
		rc = rove_db_err(mdb_get(txn, r->outbox, &lk, &ov), "outbox");
		if (rc == ROVE_OK && rpl_outbox_read(r, &lk, &ov, &e, &x->w->op) == ROVE_OK) {
			uint8_t home[8];
			MDB_val hk = {8, home};
			int mrc;
			rove_be64_put(home, x->fix[i].home != 0 ? x->fix[i].home : x->fix[i].lseq);
			rc = rpl_outbox_lay(home, x->fix[i].acked, e.op, e.len, &x->w->buf);
			ov.mv_size = x->w->buf.len;
			ov.mv_data = x->w->buf.data;
			if (rc != ROVE_OK)
				break;
			if (x->fix[i].home == 0) {
				rc = rove_db_err(mdb_put(txn, r->outbox, &lk, &ov, 0), "outbox");
				continue;
			}
			/* put back under its number, the damaged key gone (where
			 * another change is already: dropped, said) */
			mrc = mdb_put(txn, r->outbox, &hk, &ov, MDB_NOOVERWRITE);
			if (mrc == MDB_KEYEXIST)
				x->moved_lost++;
			else
				rc = rove_db_err(mrc, "outbox");
			if (rc == ROVE_OK)
				rc = rove_db_err(mdb_del(txn, r->outbox, &lk, NULL), "outbox");
		}
	}
	return rc;
}

/* The lines a sweep says of the changes it lost (dropped: how many it
 * dropped), in note. */
static int sweep_note(const rove_replica *r, const sweep_ctx *x, uint64_t dropped, rove_buf *note)
{
	int rc = ROVE_OK;

	if (dropped > 0)
		rc = note_line(note,
			       "%" PRIu64 " pending change%s of this replica did not decode (damaged): dropped, never to "
			       "be sent (lost); the others are sent",
			       dropped, dropped == 1 ? "" : "s");
	if (rc == ROVE_OK && x->moved_lost > 0)
		rc = note_line(note,
			       "%zu pending change%s of this replica had a bit of %s number flipped onto another's: "
			       "lost, never to be sent",
			       x->moved_lost, x->moved_lost == 1 ? "" : "s", x->moved_lost == 1 ? "its" : "their");
	/* (one a repair's salvage said lost already is named, not counted
	 * again: attack eighty-nine) */
	if (rc == ROVE_OK && x->gone > r->lost_said)
		rc = note_line(note,
			       "%zu pending change%s of this replica %s gone from its file (damaged): lost, never to be "
			       "sent; the others are sent",
			       x->gone, x->gone == 1 ? "" : "s", x->gone == 1 ? "is" : "are");
	if (rc == ROVE_OK)
		rc = sweep_named_line(x, note);
	/* (attack eighty-six: one sent before the damage, said "never to be
	 * sent (lost)", was on the server; made again, twice) */
	if (rc == ROVE_OK && x->bad_sent > 0)
		rc = note_line(note,
			       "%zu of the pending changes dropped as damaged had been sent before: the server may hold "
			       "%s; look for %s before making %s again",
			       x->bad_sent, x->bad_sent == 1 ? "it" : "them", x->bad_sent == 1 ? "it" : "them",
			       x->bad_sent == 1 ? "it" : "them");
	return rc;
}

/* The records of x's sound changes whose view copy their base and
 * whole changes do not make, into x->unexplained (read's txn). */
static int sweep_views(rove_replica *r, MDB_txn *txn, sweep_ctx *x)
{
	x->unexplained = malloc(x->nsound * sizeof(*x->unexplained));
	if (x->unexplained == NULL)
		return ROVE_ENOMEM;
	return views_unexplained(r, txn, x->sound, x->nsound, x->w, x->unexplained, &x->nunexplained);
}

static int sweep_once(rove_replica *r, uint64_t *dropped, uint64_t *lost)
{
	sweep_ctx x = {.r = r, .w = rpl_work_new()};
	rove_buf note, earlier; /* what this sweep says of changes lost; what one cut short did not */
	uint64_t earlier_lost = 0; /* how many changes that one lost */
	MDB_txn *txn = NULL;
	rove_pull_state ps;
	bool stray = false, repairing = false, write;
	int rc = x.w != NULL ? ROVE_OK : ROVE_ENOMEM;

	*dropped = *lost = 0;
	rove_buf_init(&note);
	rove_buf_init(&earlier);
	/* Read first: most syncs find nothing, and write nothing. */
	if (rc == ROVE_OK) {
		x.sound = malloc(sizeof(*x.sound));
		x.capsound = 1;
		x.collect = true;
		rc = x.sound != NULL ? rpl_txn_begin(r, MDB_RDONLY, &txn) : ROVE_ENOMEM;
	}
	if (rc == ROVE_OK) {
		rc = rpl_pull_state_get(r, txn, &ps);
		if (rc == ROVE_OK) {
			x.bound = answer_bound(&ps);
			rc = rove_db_each(txn, r->outbox, "outbox", sweep_one, &x);
		}
		if (rc == ROVE_OK)
			rc = pending_stray(r, txn, &x, &stray);
		if (rc == ROVE_OK) {
			MDB_val nk = {strlen(RPL_LOST_NOTE_KEY), RPL_LOST_NOTE_KEY}, nv;
			int mrc = mdb_get(txn, r->meta, &nk, &nv);
			/* (its count of changes lost, then its words) */
			if (mrc == 0 && nv.mv_size > 8) {
				earlier_lost = rove_be64_get(nv.mv_data);
				if (earlier_lost > 2 * ROVE_MAX_LOST_NOTE) /* (damaged: no count) */
					earlier_lost = 0;
				rc = rove_buf_append(&earlier, (const uint8_t *)nv.mv_data + 8,
						     nv.mv_size - 8 < 2 * ROVE_MAX_LOST_NOTE ? nv.mv_size - 8
											     : 2 * ROVE_MAX_LOST_NOTE);
			} else if (mrc != 0 && mrc != MDB_NOTFOUND) {
				rc = rove_db_err(mrc, "meta");
			}
		}
		/* (a stray stops the index's walk short of its count: the view
		 * is walked in the writing then) */
		if (rc == ROVE_OK && !stray)
			rc = view_has_more(r, txn, &x, &x.viewless);
		x.viewless = x.viewless || stray;
		if (rc == ROVE_OK && x.nsound > 0 && x.nsound <= ROVE_SWEEP_VIEW_CHANGES)
			rc = sweep_views(r, txn, &x);
		/* (fewer index entries than sound changes: some lack theirs) */
		if (rc == ROVE_OK && !stray) {
			MDB_stat sp;
			rc = rove_db_err(mdb_stat(txn, r->pending, &sp), "pending");
			stray = rc == ROVE_OK && sp.ms_entries < x.nsound;
		}
		mdb_txn_abort(txn);
		txn = NULL;
	}
	x.collect = false;
	if (rc == ROVE_OK && x.nfar > 0)
		rove_warn("%zu pending change%s of this replica record%s an answer the server cannot have given "
			  "(damaged): sent again",
			  x.nfar, x.nfar == 1 ? "" : "s", x.nfar == 1 ? "s" : "");
	/* (one line each: attack ninety read "in its record of the server's
	 * answer, or its sum" then "1 of them in its number") */
	if (rc == ROVE_OK && x.nmended > x.nmoved)
		rove_warn("%zu pending change%s of this replica had a bit flipped on the disk (in %s record of the "
			  "server's answer, %s sum or %s op): mended by %s sum, the change as it was made",
			  x.nmended - x.nmoved, x.nmended - x.nmoved == 1 ? "" : "s",
			  x.nmended - x.nmoved == 1 ? "its" : "their", x.nmended - x.nmoved == 1 ? "its" : "their",
			  x.nmended - x.nmoved == 1 ? "its" : "their", x.nmended - x.nmoved == 1 ? "its" : "their");
	if (rc == ROVE_OK && x.nmoved > 0)
		rove_warn("%zu pending change%s of this replica had a bit of %s number flipped on the disk: put back "
			  "under the number %s had, the change itself read whole",
			  x.nmoved, x.nmoved == 1 ? "" : "s", x.nmoved == 1 ? "its" : "their", x.nmoved == 1 ? "it" : "they");
	if (rc == ROVE_OK && x.nolder > 0)
		rove_warn("%zu pending change%s of this replica %s written by an older rove (its format before this "
			  "rove's) after this one had upgraded it: kept, and sent; use one rove on a replica",
			  x.nolder, x.nolder == 1 ? "" : "s", x.nolder == 1 ? "was" : "were");
	/* A repair's: the local copies of records made anew here may not
	 * decode either (the repair's snapshot brings the server's); read as
	 * absent, counted and said, rather than failing every repair
	 * (damage_hunt seed 7099). */
	write = x.n > 0 || x.odd_keys || stray || x.nfar + x.nmended + x.nolder > 0 || earlier.len > 0 || x.viewless ||
		x.nunexplained > 0;
	if (rc == ROVE_OK && write)
		rc = rove_replica_repairing(r, &repairing);
	if (rc == ROVE_OK && write) {
		x.n = 0;
		x.bad_named = 0;
		x.bad_sent = 0;
		x.odd_keys = false;
		r->damage_as_absent = repairing;
		r->damage_skipped = 0;
		rc = rpl_txn_begin(r, 0, &txn);
		/* (the mended first: the drop keeps the index entries of
		 * changes that read whole) */
		if (rc == ROVE_OK)
			rc = sweep_rewrite(r, txn, &x);
		if (rc == ROVE_OK)
			rc = rove_db_each(txn, r->outbox, "outbox", sweep_one, &x);
		if (rc == ROVE_OK)
			rc = sweep_drop(r, txn, &x, stray);
		if (rc == ROVE_OK)
			/* (an entry of a key of another size is one whose index
			 * entry is then counted gone: attack ninety, said twice) */
			*dropped = x.n + (x.odd_keys && x.gone == 0 ? 1 : 0);
		if (rc == ROVE_OK)
			rc = sweep_note(r, &x, *dropped, &note);
		/* (one that had its answer is on the server: not lost; attack
		 * ninety-one counted it) */
		if (rc == ROVE_OK)
			*lost = *dropped - (x.bad_sent < *dropped ? x.bad_sent : *dropped) + x.gone + x.moved_lost;
		/* (a note owed already kept with this one's, until both are
		 * said) */
		if (rc == ROVE_OK && note.len > 0) {
			MDB_val nk = {strlen(RPL_LOST_NOTE_KEY), RPL_LOST_NOTE_KEY}, nv;
			/* (too long together: this one's alone; the other is said
			 * below all the same, and a kill before loses its words) */
			size_t e = earlier.len + note.len <= 2 * ROVE_MAX_LOST_NOTE ? earlier.len : 0;
			uint8_t *v = malloc(8 + e + note.len);
			rc = v != NULL ? ROVE_OK : ROVE_ENOMEM;
			if (rc == ROVE_OK) {
				rove_be64_put(v, *lost + (e > 0 ? earlier_lost : 0));
				if (e > 0)
					memcpy(v + 8, earlier.data, e);
				memcpy(v + 8 + e, note.data, note.len);
				nv = (MDB_val){8 + e + note.len, v};
				rc = rove_db_err(mdb_put(txn, r->meta, &nk, &nv, 0), "meta");
			}
			free(v);
		}
		/* (and what a sync cut short lost: attack ninety-one saw it said
		 * and not counted) */
		if (rc == ROVE_OK)
			*lost += earlier_lost;
		rc = rpl_commit_or_abort(txn, rc);
		if (rc == ROVE_OK && x.index_odd + x.nback > 0)
			rove_warn("the replica's index of pending changes named changes it does not hold, or lacked "
				  "some (damaged): made anew");
		if (rc == ROVE_OK) {
			note_say("a sync cut short before it said so dropped pending changes of this replica as damaged:",
				 (const char *)earlier.data, earlier.len);
			note_say(NULL, (const char *)note.data, note.len);
		}
		/* (said: the note goes; a kill before leaves it to be said
		 * again by the next sync) */
		if (rc == ROVE_OK && note.len + earlier.len > 0) {
			MDB_val nk = {strlen(RPL_LOST_NOTE_KEY), RPL_LOST_NOTE_KEY};
			rc = rpl_txn_begin(r, 0, &txn);
			if (rc == ROVE_OK) {
				int mrc = mdb_del(txn, r->meta, &nk, NULL);
				rc = mrc == MDB_NOTFOUND ? ROVE_OK : rove_db_err(mrc, "meta");
			}
			rc = rpl_commit_or_abort(txn, rc);
		}
		r->damage_as_absent = false;
		if (rc == ROVE_OK)
			rpl_say_passed_over(r);
		r->damage_skipped = 0;
	}
	free(x.fix);
	free(x.bad);
	free(x.sound);
	free(x.unexplained);
	free(x.back);
	rove_buf_free(&note);
	rove_buf_free(&earlier);
	rpl_work_free(x.w);
	return rc;
}

int rove_replica_outbox_sweep(rove_replica *r, uint64_t *dropped, uint64_t *lost)
{
	int rc;

	RPL_WITH_GROWTH(r, sweep_once(r, dropped, lost));
	return rc;
}

int rove_replica_each_pending(rove_replica *r, rove_pending_fn fn, void *arg, uint64_t *damaged)
{
	pending_walk pw = {r, fn, arg, malloc(sizeof(rove_op)), 0};
	MDB_txn *txn;
	uint64_t gone = 0;
	int rc = pw.op != NULL ? rpl_txn_begin(r, MDB_RDONLY, &txn) : ROVE_ENOMEM;

	if (rc == ROVE_OK) {
		rc = rove_db_each(txn, r->outbox, "outbox", pending_one, &pw);
		if (rc == ROVE_OK && damaged == NULL)
			rc = outbox_gone(txn, r, &gone);
		mdb_txn_abort(txn);
	}
	if (rc == ROVE_OK)
		rove_replica_say_gone(gone);
	if (damaged != NULL)
		*damaged = pw.damaged;
	else if (rc == ROVE_OK && pw.damaged > 0)
		rove_warn("%" PRIu64 " pending change%s of this replica do%s not decode (damaged): not shown; the next "
			  "sync drops %s, saying so",
			  pw.damaged, pw.damaged == 1 ? "" : "s", pw.damaged == 1 ? "es" : "", pw.damaged == 1 ? "it" : "them");
	free(pw.op);
	return rc;
}
