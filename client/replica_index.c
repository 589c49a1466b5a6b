/*
 * replica_index.c - the replica's indexes: the records of each collection
 * with a parent by the record they belong to (a customer's contacts,
 * deals, contracts, activities, ownership history), and a few collections
 * in the order of one field (activities and notices by time, deals by
 * expected close). A customer's card and the Today page then read the
 * records they show, not whole collections (issue 15: every page of
 * `rove ui` in under 50 ms on a 100,000-customer replica).
 *
 * Each record store (base0, base1, view) has an index table (index0,
 * index1, indexv) that is a function of the records the store holds,
 * tombstones included; each record has at most RPL_IX_KEYS entries (no
 * value):
 *   IX_PARENT parent id(16) coll(1) id(16)   a record whose parent field
 *                                            holds an id
 *   IX_ORDER coll(1) slot(1) value(width) id(16)
 *                                            a record of an ordered
 *                                            collection, one per order
 *                                            (slot): the field's value
 *                                            NUL-padded, or all 0xff (it
 *                                            has none: those come last)
 *   IX_SEARCH coll(1) id(16) cut(1) text     a customer's searchable
 *                                            fields (search_key): a search
 *                                            of the customers page reads
 *                                            these, and only the records
 *                                            that match
 * Every write of a record (rpl_rec_put, rpl_rec_del, rpl_rec_merge in
 * replica.c) moves its entries in the same transaction, from the ones the
 * stored record had to the ones the new one has: a child moved to another
 * customer moves in the index. A store emptied (a snapshot's aside, the
 * view made anew) empties its index with it (rpl_store_drop).
 *
 * The view's index is always kept. A base's is kept from when it is built
 * (meta "indexed/0", "indexed/1": 1) until the base is emptied: a snapshot
 * is built aside without one, and the base it becomes gets its index when
 * a read first needs it (rpl_base_indexed: one write transaction, about a
 * second for 100,000 customers). Keeping it while a snapshot arrives
 * chunk by chunk would insert its entries in random order across every
 * chunk's transaction, rewriting most of the index each time: a bootstrap
 * took 1.7 times as long and 5 times the memory (docs/PERFORMANCE.md).
 * A replica opened read only whose base has no index is read by scans.
 *
 * Why per store: what the user sees of a record is the view's copy when
 * changes on it are pending, else the base's. Reads walk the base's index
 * and the view's together, in key order, and keep an entry only if the
 * record the user sees has it: a base entry of a record whose pending
 * change moved it (another customer, another date) is passed over, and
 * the view's entry is the one that counts.
 *
 * Cost: a write of a record of an indexed collection whose parent and
 * ordered field do not change writes nothing here; a new one writes one
 * or two small entries (a snapshot's records come whole, so their entries
 * are computed from the decoded record the reply carries).
 *
 * An older replica has none of the tables: they are built once at open,
 * in one write transaction, and meta "index" records the layout they have
 * (IX_LAYOUT: a different one is built anew the same way).
 */
#include "replica_int.h"

#include "array.h"
#include "db.h"
#include "err.h"
#include "ident.h"
#include "log.h"
#include "rove_assert.h"
#include "schema.h"
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The layout of the index tables (meta "index"); 0: none built. */
#define IX_LAYOUT 3
#define IX_PARENT 1
#define IX_ORDER 2
#define IX_SEARCH 3
#define IX_PARENT_KEY (1 + 16 + 1 + 16)
#define IX_ORDER_KEY(width) (1 + 1 + 1 + (width) + 16)
#define IX_SEARCH_HEAD (1 + 1 + 16 + 1)
_Static_assert(IX_ORDER_KEY(ROVE_MAX_NAME) <= RPL_IX_KEY_MAX && IX_PARENT_KEY <= RPL_IX_KEY_MAX, "index keys fit");

/* The ordered collections: what the Today page and the lists sorted by
 * these fields read newest or soonest first, each with its slot (the
 * key's byte after the collection). Each order is the order `list
 * --sort` gives (rec_view.c's print_sorted): dates and times as stored,
 * whole; texts by their first ROVE_MAX_NAME bytes in ASCII lower case
 * (folded), as print_sorted compares them; ties by id. */
typedef struct ix_order {
	uint8_t coll, slot;
	const char *field;
	size_t width;
	bool fold;
} ix_order;

static const ix_order ordered[] = {
	{ROVE_COLL_ACTIVITY, 0, "at", ROVE_REPLICA_ORDER_BYTES, false},
	{ROVE_COLL_NOTICE, 0, "at", ROVE_REPLICA_ORDER_BYTES, false},
	{ROVE_COLL_OPPORTUNITY, 0, "expected_close", ROVE_REPLICA_ORDER_BYTES, false},
	/* the sorts of the customers page of rove ui (issue 15) */
	{ROVE_COLL_CUSTOMER, 0, "name", ROVE_MAX_NAME, true},
	{ROVE_COLL_CUSTOMER, 1, "tier", ROVE_MAX_NAME, true},
	{ROVE_COLL_CUSTOMER, 2, "created_at", ROVE_REPLICA_ORDER_BYTES, false},
	{ROVE_COLL_CUSTOMER, 3, "last_activity_at", ROVE_REPLICA_ORDER_BYTES, false},
};
#define NORDERED (sizeof(ordered) / sizeof(ordered[0]))

/* The collections whose records' searchable text the index keeps
 * (IX_SEARCH): the customers page's search. */
static bool coll_searched(uint8_t coll)
{
	return coll == ROVE_COLL_CUSTOMER;
}

static const ix_order *order_of(uint8_t coll, const char *field)
{
	for (size_t i = 0; i < NORDERED; i++)
		if (ordered[i].coll == coll && strcmp(ordered[i].field, field) == 0)
			return &ordered[i];
	return NULL;
}

static const ix_order *order_slot(uint8_t coll, uint8_t slot)
{
	for (size_t i = 0; i < NORDERED; i++)
		if (ordered[i].coll == coll && ordered[i].slot == slot)
			return &ordered[i];
	return NULL;
}

/* Whether records of coll have entries at all. */
static bool coll_indexed(uint8_t coll)
{
	const rove_coll_def *c = rove_schema_coll(coll);

	return order_slot(coll, 0) != NULL || coll_searched(coll) || (c != NULL && c->parent != 0);
}

/* The value part of an order key: v NUL-padded (cut to the width; lower
 * case if folded), or all 0xff for none. */
static void order_value(uint8_t *out, const ix_order *o, const char *v)
{
	if (v == NULL) {
		memset(out, 0xff, o->width);
		return;
	}
	size_t len = strlen(v);
	if (len > o->width)
		len = o->width;
	memset(out, 0, o->width);
	memcpy(out, v, len);
	for (size_t i = 0; o->fold && i < len; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] = (uint8_t)(out[i] - 'A' + 'a');
}

/* Appends text (n bytes; in a search's form if fold: never longer) and a
 * NUL to a search key at *at; false if it does not fit. */
static bool search_put(uint8_t *k, size_t *at, const char *text, size_t n, bool fold)
{
	if (*at + n + 1 > IX_SEARCH_HEAD + ROVE_REPLICA_SEARCH_BYTES)
		return false;
	if (fold) {
		n = rove_text_fold_search(text, n, (char *)k + *at, n + 1);
	} else {
		memcpy(k + *at, text, n);
		k[*at + n] = '\0';
	}
	*at += n + 1;
	return true;
}

/* The digits of text into out (room for ROVE_MAX_STR + 1); their count. */
static size_t digits_of(const char *text, char *out)
{
	size_t n = 0;

	for (const char *p = text; *p != '\0' && n < ROVE_MAX_STR; p++)
		if (*p >= '0' && *p <= '9')
			out[n++] = *p;
	out[n] = '\0';
	return n;
}

/* The search entry of a record of c: the fields a search reads
 * (rove_schema_field_searched, as rec_view.c's) in a search's form
 * (rove_text_fold_search), and a phone's digits as typed and as rove_phone_normalise
 * writes them, each followed by a NUL: a search's every way to match is
 * a substring of this text (rove_search_fn). The flag byte says 1, and
 * the text is left out, when it does not fit (the record is then read
 * and checked whole). */
static void search_key(const rove_coll_def *c, const rove_uuid *id, const rove_fields *fs, uint8_t *k, uint16_t *len)
{
	size_t at = IX_SEARCH_HEAD;
	bool fits = true;

	k[0] = IX_SEARCH;
	k[1] = c->id;
	memcpy(k + 2, id->b, 16);
	for (uint32_t i = 0; fits && i < fs->n; i++) {
		const rove_field_def *fd = rove_schema_field(c, fs->f[i].name);
		const rove_value *v = &fs->f[i].v;
		if (fd == NULL || v->type != ROVE_V_STR || !rove_schema_field_searched(fd))
			continue;
		fits = search_put(k, &at, v->s, v->len, true);
		if (fits && fd->type == ROVE_FT_PHONE) {
			char norm[ROVE_MAX_STR + 1], d[ROVE_MAX_STR + 1];
			size_t n = digits_of(v->s, d);
			fits = search_put(k, &at, d, n, false);
			rove_phone_normalise(v->s, norm, sizeof(norm));
			n = digits_of(norm, d);
			if (fits)
				fits = search_put(k, &at, d, n, false);
		}
	}
	k[18] = !fits;
	*len = (uint16_t)(fits ? at : IX_SEARCH_HEAD);
}

void rpl_ikeys_of(uint8_t coll, const rove_uuid *id, const rove_fields *fs, rpl_ikeys *out)
{
	const rove_coll_def *c = rove_schema_coll(coll);

	out->n = 0;
	if (fs == NULL)
		return;
	if (c != NULL && c->parent != 0) {
		const rove_field_def *pf = rove_schema_parent_field(c);
		const char *ps = pf != NULL ? rove_fields_str(fs, pf->name) : NULL;
		rove_uuid parent;
		if (ps != NULL && rove_uuid_parse(ps, &parent) == ROVE_OK) {
			uint8_t *k = out->k[out->n];
			k[0] = IX_PARENT;
			memcpy(k + 1, parent.b, 16);
			k[17] = coll;
			memcpy(k + 18, id->b, 16);
			out->len[out->n++] = IX_PARENT_KEY;
		}
	}
	for (size_t i = 0; i < NORDERED; i++) {
		const ix_order *o = &ordered[i];
		uint8_t *k = out->k[out->n];
		if (o->coll != coll)
			continue;
		ROVE_ASSERT(out->n < RPL_IX_KEYS);
		k[0] = IX_ORDER;
		k[1] = coll;
		k[2] = o->slot;
		order_value(k + 3, o, rove_fields_str(fs, o->field));
		memcpy(k + 3 + o->width, id->b, 16);
		out->len[out->n++] = (uint16_t)IX_ORDER_KEY(o->width);
	}
	if (c != NULL && coll_searched(coll)) {
		ROVE_ASSERT(out->n < RPL_IX_KEYS);
		search_key(c, id, fs, out->k[out->n], &out->len[out->n]);
		out->n++;
	}
}

static bool ikeys_has(const rpl_ikeys *ks, const uint8_t *k, size_t len)
{
	for (uint32_t i = 0; i < ks->n; i++)
		if (ks->len[i] == len && memcmp(ks->k[i], k, len) == 0)
			return true;
	return false;
}

/* Which of the index tables is store's (a base or the view). */
static int index_no(const rove_replica *r, MDB_dbi store)
{
	if (store == r->bases[0])
		return 0;
	if (store == r->bases[1])
		return 1;
	ROVE_ASSERT(store == r->view);
	return 2;
}

/* The index of store, if it is kept (see above). */
static bool index_kept(const rove_replica *r, MDB_dbi store, MDB_dbi *ix)
{
	int i = index_no(r, store);

	ROVE_ASSERT(r->indexed);
	*ix = r->index[i];
	return i == 2 || r->base_indexed[i];
}

static const char *const kept_key[2] = {"indexed/0", "indexed/1"};

bool rpl_index_kept(const rove_replica *r, MDB_dbi store)
{
	MDB_dbi ix;

	/* (not yet open: tables made anew at open, the indexes after) */
	return r->indexed && index_kept(r, store, &ix);
}

int rpl_index_flags(rove_replica *r, MDB_txn *txn)
{
	int rc = ROVE_OK;

	for (int i = 0; rc == ROVE_OK && i < 2; i++) {
		uint64_t v = 0;
		/* one that does not read: not kept (built anew, the key
		 * with it) */
		rc = rove_db_get_u64(txn, r->meta, kept_key[i], &v);
		r->base_indexed[i] = rc == ROVE_OK && v == 1;
		if (rc == ROVE_ENOTFOUND || rc == ROVE_EPROTO)
			rc = ROVE_OK;
	}
	return rc;
}

int rpl_index_move(rove_replica *r, MDB_txn *txn, MDB_dbi store, const rpl_ikeys *was, const rpl_ikeys *now)
{
	MDB_dbi ix;
	int rc = ROVE_OK;

	if ((was->n == 0 && now->n == 0) || !index_kept(r, store, &ix))
		return ROVE_OK;
	for (uint32_t i = 0; rc == ROVE_OK && i < was->n; i++) {
		MDB_val k = {was->len[i], (void *)was->k[i]};
		int mrc;
		if (ikeys_has(now, was->k[i], was->len[i]))
			continue;
		mrc = mdb_del(txn, ix, &k, NULL);
		/* (Already gone: rove_replica_check_index would have said so.) */
		rc = mrc == MDB_NOTFOUND ? ROVE_OK : rove_db_err(mrc, "index");
	}
	for (uint32_t i = 0; rc == ROVE_OK && i < now->n; i++) {
		MDB_val k = {now->len[i], (void *)now->k[i]}, v = {0, NULL};
		if (!ikeys_has(was, now->k[i], now->len[i]))
			rc = rove_db_err(mdb_put(txn, ix, &k, &v, 0), "index");
	}
	return rc;
}

int rpl_store_drop(rove_replica *r, MDB_txn *txn, MDB_dbi store)
{
	int i = index_no(r, store);
	int rc = rove_db_err(mdb_drop(txn, store, 0), i == 2 ? "view" : "base");

	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_drop(txn, r->index[i], 0), "index");
	/* A base emptied is filled by a snapshot: its index waits for it. */
	if (rc == ROVE_OK && i < 2)
		rc = rove_db_put_u64(txn, r->meta, kept_key[i], 0);
	if (rc == ROVE_OK && i < 2)
		r->base_indexed[i] = false;
	return rc;
}

int rpl_index_forget(rove_replica *r, MDB_txn *txn)
{
	int rc = ROVE_OK;

	for (int i = 0; rc == ROVE_OK && r->indexed && i < 2; i++) {
		rc = rove_db_err(mdb_drop(txn, r->index[i], 0), "index");
		if (rc == ROVE_OK)
			rc = rove_db_put_u64(txn, r->meta, kept_key[i], 0);
		if (rc == ROVE_OK)
			r->base_indexed[i] = false;
	}
	return rc;
}

/* ---- opening, creating, building ---- */

static int open_tables(rove_replica *r, MDB_txn *txn, unsigned flags)
{
	const rove_db_table t[] = {
		{"index0", &r->index[0]},
		{"index1", &r->index[1]},
		{"indexv", &r->index[2]},
	};

	return rove_db_open_tables(txn, t, sizeof(t) / sizeof(t[0]), flags);
}

int rpl_index_create(rove_replica *r, MDB_txn *txn)
{
	int rc = open_tables(r, txn, MDB_CREATE);

	/* Both bases are empty, and so are their indexes. */
	for (int i = 0; rc == ROVE_OK && i < 2; i++)
		rc = rove_db_put_u64(txn, r->meta, kept_key[i], 1);
	if (rc == ROVE_OK)
		rc = rove_db_put_u64(txn, r->meta, "index", IX_LAYOUT);
	return rc;
}

/* A walk (rove_db_each) of a store's records that have index entries:
 * fn gets each decoded, with its entries. */
typedef struct ix_walk_ctx {
	MDB_txn *txn;
	MDB_dbi ix;
	rove_record *rec;
	int (*fn)(struct ix_walk_ctx *w, const rpl_ikeys *ks);
	void *arg;
} ix_walk_ctx;

static int ix_walk_one(const MDB_val *k, const MDB_val *v, void *arg)
{
	ix_walk_ctx *w = arg;
	rpl_ikeys ks;

	if (k->mv_size != ROVE_RECORD_KEY || !coll_indexed(((const uint8_t *)k->mv_data)[0]))
		return ROVE_OK; /* customers and the like: nothing to index, nothing decoded */
	if (rove_dec_record(v->mv_data, v->mv_size, w->rec) != ROVE_OK) {
		rpl_say_corrupt();
		return ROVE_EPROTO;
	}
	rpl_ikeys_of(w->rec->coll, &w->rec->id, &w->rec->fs, &ks);
	return w->fn(w, &ks);
}

static int ix_walk_records(ix_walk_ctx *w, MDB_dbi store)
{
	return rove_db_each(w->txn, store, "cursor", ix_walk_one, w);
}

static int build_put(ix_walk_ctx *w, const rpl_ikeys *ks)
{
	int rc = ROVE_OK;

	for (uint32_t i = 0; rc == ROVE_OK && i < ks->n; i++) {
		MDB_val ik = {ks->len[i], (void *)ks->k[i]}, iv = {0, NULL};
		rc = rove_db_err(mdb_put(w->txn, w->ix, &ik, &iv, 0), "index");
	}
	return rc;
}

/* Adds the entries of every record of store to its (empty) index. */
static int build_store(MDB_txn *txn, MDB_dbi store, MDB_dbi ix, rove_record *rec)
{
	ix_walk_ctx w = {txn, ix, rec, build_put, NULL};

	return ix_walk_records(&w, store);
}

/* The layout of the index tables; one that does not read is 0 (they are
 * built anew, the key with them). */
static int layout_get(rove_replica *r, MDB_txn *txn, uint64_t *layout)
{
	int rc = rove_db_get_u64(txn, r->meta, "index", layout);

	if (rc == ROVE_ENOTFOUND || rc == ROVE_EPROTO) {
		*layout = 0;
		rc = ROVE_OK;
	}
	return rc;
}

/* The tables of an older replica: made empty, the view's index built, the
 * bases' left for when a read needs them. */
static int build_once(rove_replica *r, bool anew)
{
	rove_record *rec = malloc(sizeof(*rec));
	uint64_t layout = 0;
	MDB_txn *txn;
	int rc;

	if (rec == NULL)
		return ROVE_ENOMEM;
	rc = rpl_txn_begin(r, 0, &txn);
	if (rc != ROVE_OK) {
		free(rec);
		return rc;
	}
	/* Another process may have built them since this one looked. */
	rc = layout_get(r, txn, &layout);
	if (rc == ROVE_OK)
		rc = open_tables(r, txn, MDB_CREATE);
	if (rc == ROVE_OK && (layout != IX_LAYOUT || anew)) {
		for (int i = 0; rc == ROVE_OK && i < 3; i++)
			rc = rove_db_err(mdb_drop(txn, r->index[i], 0), "index");
		for (int i = 0; rc == ROVE_OK && i < 2; i++)
			rc = rove_db_put_u64(txn, r->meta, kept_key[i], 0);
		if (rc == ROVE_OK)
			rc = build_store(txn, r->view, r->index[2], rec);
		if (rc == ROVE_OK)
			rc = rove_db_put_u64(txn, r->meta, "index", IX_LAYOUT);
	}
	rc = rpl_commit_or_abort(txn, rc);
	free(rec);
	return rc;
}

/* Builds the base's index, unless another process did. */
static int build_base(rove_replica *r)
{
	rove_record *rec = malloc(sizeof(*rec));
	MDB_txn *txn;
	int rc, i;

	if (rec == NULL)
		return ROVE_ENOMEM;
	rc = rpl_txn_begin(r, 0, &txn);
	if (rc != ROVE_OK) {
		free(rec);
		return rc;
	}
	i = index_no(r, r->base);
	if (!r->base_indexed[i]) {
		rove_info("indexing the replica's records (once after a snapshot)");
		rc = rove_db_err(mdb_drop(txn, r->index[i], 0), "index");
		if (rc == ROVE_OK)
			rc = build_store(txn, r->base, r->index[i], rec);
		if (rc == ROVE_OK)
			rc = rove_db_put_u64(txn, r->meta, kept_key[i], 1);
	}
	rc = rpl_commit_or_abort(txn, rc);
	free(rec);
	return rc;
}

/* Whether the base's index may be read in a transaction begun now: built
 * first if it is not and the replica may be written. */
static int base_ready(rove_replica *r, bool *ready)
{
	MDB_txn *txn;
	int rc;

	*ready = false;
	if (!r->indexed)
		return ROVE_OK;
	rc = rpl_txn_begin(r, MDB_RDONLY, &txn);
	if (rc != ROVE_OK)
		return rc;
	*ready = r->base_indexed[index_no(r, r->base)];
	mdb_txn_abort(txn);
	if (*ready || r->access != ROVE_DB_WRITABLE)
		return ROVE_OK;
	RPL_WITH_GROWTH(r, build_base(r));
	*ready = rc == ROVE_OK;
	if (rc == ROVE_ENOSPC) {
		/* Nothing was written: read by scanning, as a read-only replica
		 * is; the next read tries again. */
		rove_warn("the replica in '%s' is read without its index until the disk has room", r->dir);
		rc = ROVE_OK;
	}
	return rc;
}

int rpl_index_open(rove_replica *r)
{
	uint64_t layout = 0;
	bool anew = false;
	MDB_txn *txn;
	int rc = rpl_txn_begin(r, MDB_RDONLY, &txn);

	if (rc != ROVE_OK)
		return rc;
	rc = layout_get(r, txn, &layout);
	if (rc == ROVE_OK && layout == IX_LAYOUT) {
		rc = open_tables(r, txn, 0);
		/* Commit, not abort: dbi handles opened in an aborted txn are closed. */
		if (rc == ROVE_OK) {
			rc = rove_db_commit(txn);
			r->indexed = rc == ROVE_OK;
			return rc;
		}
		mdb_txn_abort(txn);
		if (rc != ROVE_ENOTFOUND)
			return rc;
		/* a table of them gone (damage): built anew, as when none
		 * were (attack sixty-five: "no replica", and 'rove init'
		 * refused the directory as holding one) */
		anew = true;
		rc = ROVE_OK;
	} else {
		mdb_txn_abort(txn);
	}
	if (rc != ROVE_OK)
		return rc;
	if (r->access != ROVE_DB_WRITABLE)
		return ROVE_OK; /* read only: read by scanning */
	r->indexed = true;
	RPL_WITH_GROWTH(r, build_once(r, anew));
	if (rc != ROVE_OK)
		r->indexed = false;
	return rc;
}

/* ---- reading ---- */

/* One index walked between two keys, one way. */
typedef struct ix_side {
	MDB_cursor *c;
	MDB_val k;
	bool live; /* positioned on a key in the range */
} ix_side;

typedef struct ix_range {
	uint8_t lo[RPL_IX_KEY_MAX], hi[RPL_IX_KEY_MAX]; /* lo <= key < hi */
	size_t len;                                      /* of lo, hi and every key */
	bool desc;
} ix_range;

static void side_check(ix_side *s, const ix_range *rg, int mrc)
{
	s->live = mrc == 0 && s->k.mv_size == rg->len && memcmp(s->k.mv_data, rg->lo, rg->len) >= 0 &&
		  memcmp(s->k.mv_data, rg->hi, rg->len) < 0;
}

static int side_first(ix_side *s, const ix_range *rg)
{
	MDB_val v;
	int mrc;

	s->k.mv_size = rg->len;
	s->k.mv_data = (void *)(rg->desc ? rg->hi : rg->lo);
	mrc = mdb_cursor_get(s->c, &s->k, &v, MDB_SET_RANGE);
	if (rg->desc) {
		/* The last key below hi: before the first at or after it. */
		mrc = mdb_cursor_get(s->c, &s->k, &v, mrc == 0 ? MDB_PREV : MDB_LAST);
	}
	if (mrc != 0 && mrc != MDB_NOTFOUND)
		return rove_db_err(mrc, "cursor");
	side_check(s, rg, mrc);
	return ROVE_OK;
}

static int side_next(ix_side *s, const ix_range *rg)
{
	MDB_val v;
	int mrc = mdb_cursor_get(s->c, &s->k, &v, rg->desc ? MDB_PREV : MDB_NEXT);

	if (mrc != 0 && mrc != MDB_NOTFOUND)
		return rove_db_err(mrc, "cursor");
	side_check(s, rg, mrc);
	return ROVE_OK;
}

int rpl_visible_get(rove_replica *r, MDB_txn *txn, uint8_t coll, const rove_uuid *id, rove_record *rec,
		    bool *pending)
{
	int rc = rpl_rec_get(txn, r->view, coll, id, rec);

	*pending = rc == ROVE_OK;
	if (rc == ROVE_ENOTFOUND)
		rc = rpl_rec_get(txn, r->base, coll, id, rec);
	return rc;
}

int rpl_hidden_begin(rove_replica *r, MDB_txn *txn, uint8_t coll, rpl_hidden *h)
{
	const rove_coll_def *cd = rove_schema_coll(coll);
	const rove_field_def *f = NULL;
	uint8_t first = ROVE_COLL_CUSTOMER;
	MDB_val k = {1, &first}, v;
	MDB_cursor *c;
	int mrc, rc;

	memset(h, 0, sizeof(*h));
	h->r = r;
	h->txn = txn;
	/* A customer's children, and the notices about one (not its
	 * children: the server writes them to its owner, not with it). */
	if (cd != NULL && cd->parent == ROVE_COLL_CUSTOMER)
		f = rove_schema_parent_field(cd);
	else if (coll == ROVE_COLL_NOTICE)
		f = rove_schema_field(cd, "customer");
	if (f == NULL)
		return ROVE_OK;
	if (coll == ROVE_COLL_NOTICE) {
		h->field = f->name;
		h->gone_hides = true;
		return ROVE_OK;
	}
	/* Whether the view holds a customer at all: else none is deleted. */
	rc = rove_db_err(mdb_cursor_open(txn, r->view, &c), "cursor");
	if (rc != ROVE_OK)
		return rc;
	mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	mdb_cursor_close(c);
	if (mrc != 0 && mrc != MDB_NOTFOUND)
		return rove_db_err(mrc, "cursor");
	if (mrc != 0 || k.mv_size != ROVE_RECORD_KEY || ((uint8_t *)k.mv_data)[0] != first)
		return ROVE_OK;
	h->field = f->name;
	return ROVE_OK;
}

int rpl_hidden_test(rpl_hidden *h, const rove_record *rec, bool *hidden)
{
	uint8_t key[ROVE_RECORD_KEY];
	MDB_val k = {sizeof(key), key}, v;
	const char *pid;
	rove_uuid id;
	int mrc, rc;

	*hidden = false;
	if (h->field == NULL)
		return ROVE_OK;
	pid = rove_fields_str(&rec->fs, h->field);
	if (pid == NULL || rove_uuid_parse(pid, &id) != ROVE_OK)
		return ROVE_OK;
	if (h->have_last && rove_uuid_cmp(&id, &h->last) == 0) {
		*hidden = h->last_hidden;
		return ROVE_OK;
	}
	/* The view's entry, if the customer has pending ops: whether it is
	 * deleted, read from its outline (the replica wrote it, checked). */
	rove_record_key(key, ROVE_COLL_CUSTOMER, &id);
	mrc = mdb_get(h->txn, h->r->view, &k, &v);
	if (mrc == MDB_NOTFOUND && h->gone_hides) {
		mrc = mdb_get(h->txn, h->r->base, &k, &v);
		*hidden = mrc == MDB_NOTFOUND;
	}
	if (mrc == MDB_NOTFOUND)
		rc = ROVE_OK;
	else if (mrc != 0)
		rc = rove_db_err(mrc, "replica");
	else if ((rc = rove_record_raw_deleted(v.mv_data, v.mv_size, hidden)) != ROVE_OK)
		rpl_say_corrupt();
	if (rc == ROVE_OK) {
		h->last = id;
		h->have_last = true;
		h->last_hidden = *hidden;
	}
	return rc;
}

/* Walks the entries of rg in the base's index and the view's together,
 * and calls fn with each record the user sees that has the entry (coll:
 * the records'; id: a key's last 16 bytes). */
static int ix_walk(rove_replica *r, MDB_txn *txn, uint8_t coll, const ix_range *rg, rove_record *rec,
		   rove_record_pending_fn fn, void *arg)
{
	ix_side b = {NULL, {0, NULL}, false}, v = b;
	MDB_dbi bix = r->index[index_no(r, r->base)], vix = r->index[2];
	rpl_hidden h;
	int rc = rpl_hidden_begin(r, txn, coll, &h);

	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_cursor_open(txn, bix, &b.c), "cursor");
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_cursor_open(txn, vix, &v.c), "cursor");
	if (rc == ROVE_OK)
		rc = side_first(&b, rg);
	if (rc == ROVE_OK)
		rc = side_first(&v, rg);
	while (rc == ROVE_OK && (b.live || v.live)) {
		int cmp = !b.live ? 1 : !v.live ? -1 : memcmp(b.k.mv_data, v.k.mv_data, rg->len);
		bool take_b, pending;
		uint8_t key[RPL_IX_KEY_MAX];
		rove_uuid id;
		rpl_ikeys ks;

		if (rg->desc && b.live && v.live)
			cmp = -cmp; /* the higher key first */
		take_b = cmp <= 0;
		memcpy(key, take_b ? b.k.mv_data : v.k.mv_data, rg->len);
		memcpy(id.b, key + rg->len - 16, 16);
		rc = rpl_visible_get(r, txn, coll, &id, rec, &pending);
		if (rc == ROVE_ENOTFOUND) {
			rpl_say_damaged("its index names a record it does not hold");
			rc = ROVE_EPROTO;
			break;
		}
		if (rc != ROVE_OK)
			break;
		rpl_ikeys_of(coll, &id, &rec->fs, &ks);
		if (!rove_record_deleted(rec) && ikeys_has(&ks, key, rg->len)) {
			bool hidden;
			rc = rpl_hidden_test(&h, rec, &hidden);
			if (rc == ROVE_OK && !hidden)
				rc = fn(rec, pending, arg);
		}
		if (rc == ROVE_OK && cmp <= 0)
			rc = side_next(&b, rg);
		if (rc == ROVE_OK && cmp >= 0)
			rc = side_next(&v, rg);
	}
	if (b.c != NULL)
		mdb_cursor_close(b.c);
	if (v.c != NULL)
		mdb_cursor_close(v.c);
	return rc;
}

/* Begins the read transaction of a walk through the indexes: *txn NULL
 * when the base's index cannot be read (an older replica opened read
 * only; a base another process just replaced): the caller scans. */
static int begin_indexed(rove_replica *r, MDB_txn **txn)
{
	bool ready;
	int rc = base_ready(r, &ready);

	*txn = NULL;
	if (rc != ROVE_OK || !ready)
		return rc;
	rc = rpl_txn_begin(r, MDB_RDONLY, txn);
	if (rc == ROVE_OK && !r->base_indexed[index_no(r, r->base)]) {
		mdb_txn_abort(*txn);
		*txn = NULL;
	}
	return rc;
}

/* rove_replica_each_child without an index: every record of coll. */
typedef struct child_filter {
	const char *field;
	const rove_uuid *parent;
	rove_record_pending_fn fn;
	void *arg;
} child_filter;

static int child_or_skip(const rove_record *rec, bool pending, void *arg)
{
	const child_filter *f = arg;
	const char *ps = rove_fields_str(&rec->fs, f->field);
	rove_uuid p;

	if (ps == NULL || rove_uuid_parse(ps, &p) != ROVE_OK || rove_uuid_cmp(&p, f->parent) != 0)
		return ROVE_OK;
	return f->fn(rec, pending, f->arg);
}

int rove_replica_each_child(rove_replica *r, uint8_t coll, const rove_uuid *parent, rove_record_pending_fn fn,
			    void *arg)
{
	const rove_coll_def *c = rove_schema_coll(coll);
	const rove_field_def *pf = c != NULL ? rove_schema_parent_field(c) : NULL;
	rove_record *rec;
	ix_range rg;
	MDB_txn *txn;
	int rc;

	if (pf == NULL)
		return ROVE_EINVAL;
	rc = begin_indexed(r, &txn);
	if (rc != ROVE_OK)
		return rc;
	if (txn == NULL) {
		child_filter f = {pf->name, parent, fn, arg};
		return rove_replica_each_marked(r, coll, child_or_skip, &f);
	}
	rg.len = IX_PARENT_KEY;
	rg.desc = false;
	memset(rg.lo, 0, sizeof(rg.lo));
	rg.lo[0] = IX_PARENT;
	memcpy(rg.lo + 1, parent->b, 16);
	rg.lo[17] = coll;
	memcpy(rg.hi, rg.lo, sizeof(rg.hi));
	ROVE_ASSERT(coll < 0xff);
	rg.hi[17] = (uint8_t)(coll + 1);
	rec = malloc(sizeof(*rec));
	rc = rec != NULL ? ix_walk(r, txn, coll, &rg, rec, fn, arg) : ROVE_ENOMEM;
	mdb_txn_abort(txn);
	free(rec);
	return rc;
}

bool rove_replica_ordered(const rove_replica *r, uint8_t coll, const char *field)
{
	return r->indexed && order_of(coll, field) != NULL;
}

/* The range of an order walk: the keys of order o from value a (NULL:
 * the lowest) to before value b (NULL: the order's last key). */
static void order_range(ix_range *rg, const ix_order *o, const char *a, const char *b, bool desc)
{
	rg->len = IX_ORDER_KEY(o->width);
	rg->desc = desc;
	memset(rg->lo, 0, sizeof(rg->lo));
	rg->lo[0] = IX_ORDER;
	rg->lo[1] = o->coll;
	rg->lo[2] = o->slot;
	memcpy(rg->hi, rg->lo, sizeof(rg->hi));
	if (a != NULL)
		order_value(rg->lo + 3, o, a);
	if (b != NULL) {
		order_value(rg->hi + 3, o, b);
	} else {
		ROVE_ASSERT(o->slot < 0xff);
		rg->hi[2] = (uint8_t)(o->slot + 1);
	}
}

/* ---- rove_replica_each_ordered without an index: a scan, then a sort ---- */

typedef struct scan_key {
	rove_uuid id;
	bool pending, has;
	uint8_t v[ROVE_MAX_NAME];
} scan_key;

typedef struct scan_ctx {
	const ix_order *o;
	const char *from, *to;
	scan_key *keys;
	size_t n, cap;
} scan_ctx;

static int scan_collect(const rove_record *rec, bool pending, void *arg)
{
	scan_ctx *sc = arg;
	const char *v = rove_fields_str(&rec->fs, sc->o->field);
	uint8_t kv[ROVE_MAX_NAME], bound[ROVE_MAX_NAME];
	size_t w = sc->o->width;
	scan_key *k;

	if ((sc->from != NULL || sc->to != NULL) && v == NULL)
		return ROVE_OK;
	order_value(kv, sc->o, v);
	if (v != NULL && sc->from != NULL) {
		order_value(bound, sc->o, sc->from);
		if (memcmp(kv, bound, w) < 0)
			return ROVE_OK;
	}
	if (v != NULL && sc->to != NULL) {
		order_value(bound, sc->o, sc->to);
		if (memcmp(kv, bound, w) >= 0)
			return ROVE_OK;
	}
	k = rove_array_grow(sc->keys, &sc->cap, sc->n, 1, sizeof(*k), 256);
	if (k == NULL)
		return ROVE_ENOMEM;
	sc->keys = k;
	k = &sc->keys[sc->n++];
	k->id = rec->id;
	k->pending = pending;
	k->has = v != NULL;
	memcpy(k->v, kv, w);
	return ROVE_OK;
}

/* qsort takes no context: the width of the values being sorted. */
static size_t scan_width;

/* Those with a value first, by value then id. */
static int scan_cmp_asc(const void *pa, const void *pb)
{
	const scan_key *a = pa, *b = pb;
	int c;

	if (a->has != b->has)
		return a->has ? -1 : 1;
	c = memcmp(a->v, b->v, scan_width);
	return c != 0 ? c : rove_uuid_cmp(&a->id, &b->id);
}

/* Those with a value first, by value then id, both descending. */
static int scan_cmp_desc(const void *pa, const void *pb)
{
	const scan_key *a = pa, *b = pb;

	if (a->has != b->has)
		return a->has ? -1 : 1;
	return -scan_cmp_asc(pa, pb);
}

static int ordered_by_scan(rove_replica *r, const ix_order *o, bool desc, const char *from, const char *to,
			   rove_record_pending_fn fn, void *arg)
{
	scan_ctx sc = {o, from, to, NULL, 0, 0};
	rove_record *rec = malloc(sizeof(*rec));
	int rc = rec != NULL ? rove_replica_each_marked(r, o->coll, scan_collect, &sc) : ROVE_ENOMEM;

	if (rc == ROVE_OK && sc.n > 0) {
		scan_width = o->width;
		qsort(sc.keys, sc.n, sizeof(*sc.keys), desc ? scan_cmp_desc : scan_cmp_asc);
	}
	for (size_t i = 0; rc == ROVE_OK && i < sc.n; i++) {
		rc = rove_replica_get(r, o->coll, &sc.keys[i].id, rec);
		if (rc == ROVE_OK)
			rc = fn(rec, sc.keys[i].pending, arg);
	}
	free(sc.keys);
	free(rec);
	return rc;
}

int rove_replica_each_ordered(rove_replica *r, uint8_t coll, const char *field, bool desc, const char *from,
			      const char *to, rove_record_pending_fn fn, void *arg)
{
	const ix_order *o = order_of(coll, field);
	uint8_t none[ROVE_MAX_NAME + 1];
	rove_record *rec;
	ix_range rg;
	MDB_txn *txn;
	int rc;

	if (!rove_replica_ordered(r, coll, field))
		return ROVE_EINVAL;
	rc = begin_indexed(r, &txn);
	if (rc != ROVE_OK)
		return rc;
	if (txn == NULL)
		return ordered_by_scan(r, o, desc, from, to, fn, arg);
	/* The value of records without one: all 0xff, past every text. */
	memset(none, 0xff, o->width);
	none[o->width] = '\0';
	rec = malloc(sizeof(*rec));
	if (rec == NULL) {
		mdb_txn_abort(txn);
		return ROVE_ENOMEM;
	}
	if (from != NULL || to != NULL) {
		order_range(&rg, o, from, to != NULL ? to : (const char *)none, desc);
		rc = ix_walk(r, txn, coll, &rg, rec, fn, arg);
	} else {
		/* Those with a value, either way, then those without. */
		order_range(&rg, o, NULL, (const char *)none, desc);
		rc = ix_walk(r, txn, coll, &rg, rec, fn, arg);
		order_range(&rg, o, (const char *)none, NULL, desc);
		if (rc == ROVE_OK)
			rc = ix_walk(r, txn, coll, &rg, rec, fn, arg);
	}
	mdb_txn_abort(txn);
	free(rec);
	return rc;
}

/* ---- searching through the kept text ---- */

bool rove_replica_searched(const rove_replica *r, uint8_t coll)
{
	return r->indexed && coll_searched(coll);
}

/* One side (a base's index or the view's) of a search walk: on a search
 * key of coll, or not live. */
static int search_step(ix_side *s, uint8_t coll, MDB_cursor_op op)
{
	MDB_val v;
	int mrc = mdb_cursor_get(s->c, &s->k, &v, op);
	const uint8_t *kb = s->k.mv_data;

	if (mrc != 0 && mrc != MDB_NOTFOUND)
		return rove_db_err(mrc, "cursor");
	s->live = mrc == 0 && s->k.mv_size >= IX_SEARCH_HEAD && kb[0] == IX_SEARCH && kb[1] == coll;
	return ROVE_OK;
}

int rove_replica_each_search(rove_replica *r, uint8_t coll, rove_search_fn match, void *marg,
			     rove_record_pending_fn fn, void *arg)
{
	ix_side b = {NULL, {0, NULL}, false}, v = b;
	uint8_t lo[2] = {IX_SEARCH, coll};
	rove_record *rec;
	MDB_txn *txn;
	int rc;

	if (!rove_replica_searched(r, coll))
		return ROVE_EINVAL;
	rc = begin_indexed(r, &txn);
	if (rc != ROVE_OK)
		return rc;
	if (txn == NULL)
		return rove_replica_each_marked(r, coll, fn, arg); /* fn checks each */
	rec = malloc(sizeof(*rec));
	rc = rec != NULL ? ROVE_OK : ROVE_ENOMEM;
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_cursor_open(txn, r->index[index_no(r, r->base)], &b.c), "cursor");
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_cursor_open(txn, r->index[2], &v.c), "cursor");
	b.k = (MDB_val){sizeof(lo), lo};
	v.k = b.k;
	if (rc == ROVE_OK)
		rc = search_step(&b, coll, MDB_SET_RANGE);
	if (rc == ROVE_OK)
		rc = search_step(&v, coll, MDB_SET_RANGE);
	/* Both in id order, as rove_replica_each_marked reads the records:
	 * the view's text is the one the user sees where both have one
	 * (every record a store holds has its search entry). */
	while (rc == ROVE_OK && (b.live || v.live)) {
		int cmp = !b.live ? 1 : !v.live ? -1 : memcmp((uint8_t *)b.k.mv_data + 2, (uint8_t *)v.k.mv_data + 2, 16);
		const MDB_val *k = cmp < 0 ? &b.k : &v.k;
		const uint8_t *kb = k->mv_data;
		bool pending;
		rove_uuid id;

		if (kb[18] != 0 || match(kb + IX_SEARCH_HEAD, k->mv_size - IX_SEARCH_HEAD, marg)) {
			memcpy(id.b, kb + 2, 16);
			rc = rpl_visible_get(r, txn, coll, &id, rec, &pending);
			if (rc == ROVE_ENOTFOUND) {
				rpl_say_damaged("its index names a record it does not hold");
				rc = ROVE_EPROTO;
				break;
			}
			if (rc == ROVE_OK && !rove_record_deleted(rec))
				rc = fn(rec, pending, arg);
		}
		if (rc == ROVE_OK && cmp <= 0)
			rc = search_step(&b, coll, MDB_NEXT);
		if (rc == ROVE_OK && cmp >= 0)
			rc = search_step(&v, coll, MDB_NEXT);
	}
	if (b.c != NULL)
		mdb_cursor_close(b.c);
	if (v.c != NULL)
		mdb_cursor_close(v.c);
	mdb_txn_abort(txn);
	free(rec);
	return rc;
}

/* ---- the consistency check ---- */

typedef struct check_ctx {
	uint64_t problems;
	const char *name; /* the index's */
} check_ctx;

static void say_key(check_ctx *cx, const char *what, const uint8_t *k, size_t len)
{
	char hex[2 * RPL_IX_KEY_MAX + 1];

	for (size_t i = 0; i < len && i < RPL_IX_KEY_MAX; i++)
		snprintf(hex + 2 * i, 3, "%02x", k[i]);
	hex[2 * (len < RPL_IX_KEY_MAX ? len : RPL_IX_KEY_MAX)] = '\0';
	fprintf(stderr, "index problem: %s: %s %s\n", cx->name, what, hex);
	cx->problems++;
}

static int check_has(ix_walk_ctx *w, const rpl_ikeys *ks)
{
	for (uint32_t i = 0; i < ks->n; i++) {
		MDB_val ik = {ks->len[i], (void *)ks->k[i]}, iv;
		int grc = mdb_get(w->txn, w->ix, &ik, &iv);
		if (grc == MDB_NOTFOUND)
			say_key(w->arg, "missing entry", ks->k[i], ks->len[i]);
		else if (grc != 0)
			return rove_db_err(grc, "index");
	}
	return ROVE_OK;
}

/* Every record's entries are in the index. */
static int check_records(MDB_txn *txn, MDB_dbi store, MDB_dbi ix, rove_record *rec, check_ctx *cx)
{
	ix_walk_ctx w = {txn, ix, rec, check_has, cx};

	return ix_walk_records(&w, store);
}

typedef struct entries_ctx {
	MDB_txn *txn;
	MDB_dbi store;
	rove_record *rec;
	check_ctx *cx;
} entries_ctx;

static int check_entry(const MDB_val *k, const MDB_val *v, void *arg)
{
	entries_ctx *e = arg;
	const uint8_t *kb = k->mv_data;
	uint8_t coll;
	rove_uuid id;
	rpl_ikeys ks;
	int rc;

	(void)v;
	if (k->mv_size == IX_PARENT_KEY && kb[0] == IX_PARENT) {
		coll = kb[17];
		memcpy(id.b, kb + 18, 16);
	} else if (k->mv_size > 3 && kb[0] == IX_ORDER && order_slot(kb[1], kb[2]) != NULL &&
		   k->mv_size == IX_ORDER_KEY(order_slot(kb[1], kb[2])->width)) {
		coll = kb[1];
		memcpy(id.b, kb + k->mv_size - 16, 16);
	} else if (k->mv_size >= IX_SEARCH_HEAD && kb[0] == IX_SEARCH && coll_searched(kb[1])) {
		coll = kb[1];
		memcpy(id.b, kb + 2, 16);
	} else {
		say_key(e->cx, "malformed entry", kb, k->mv_size);
		return ROVE_OK;
	}
	rc = rpl_rec_get(e->txn, e->store, coll, &id, e->rec);
	if (rc == ROVE_ENOTFOUND) {
		say_key(e->cx, "entry of no record", kb, k->mv_size);
		return ROVE_OK;
	}
	if (rc != ROVE_OK)
		return rc;
	rpl_ikeys_of(coll, &id, &e->rec->fs, &ks);
	if (!ikeys_has(&ks, kb, k->mv_size))
		say_key(e->cx, "stale entry", kb, k->mv_size);
	return ROVE_OK;
}

/* Every entry of the index is one its record has. */
static int check_entries(MDB_txn *txn, MDB_dbi store, MDB_dbi ix, rove_record *rec, check_ctx *cx)
{
	entries_ctx e = {txn, store, rec, cx};

	return rove_db_each(txn, ix, "cursor", check_entry, &e);
}

int rove_replica_check_index(rove_replica *r, uint64_t *problems)
{
	static const char *const names[3] = {"index0", "index1", "indexv"};
	MDB_dbi stores[3] = {r->bases[0], r->bases[1], r->view};
	check_ctx cx = {0, NULL};
	rove_record *rec;
	MDB_txn *txn;
	int rc;

	*problems = 0;
	if (!r->indexed) {
		rove_error("the replica in '%s' has no index (an older replica opened read only)", r->dir);
		return ROVE_ENOTFOUND;
	}
	rec = malloc(sizeof(*rec));
	if (rec == NULL)
		return ROVE_ENOMEM;
	rc = rpl_txn_begin(r, MDB_RDONLY, &txn);
	if (rc != ROVE_OK) {
		free(rec);
		return rc;
	}
	/* Both ways: each record's entries are there, and each entry is
	 * one its record has (so none is left over). */
	for (int i = 0; rc == ROVE_OK && i < 3; i++) {
		cx.name = names[i];
		if (i < 2 && !r->base_indexed[i]) {
			/* Not kept (a snapshot's, a base not read yet): empty. */
			MDB_stat ms;
			rc = rove_db_err(mdb_stat(txn, r->index[i], &ms), "index");
			if (rc == ROVE_OK && ms.ms_entries != 0) {
				fprintf(stderr, "index problem: %s: %zu entries in an index not kept\n", cx.name,
					ms.ms_entries);
				cx.problems++;
			}
			continue;
		}
		rc = check_records(txn, stores[i], r->index[i], rec, &cx);
		if (rc == ROVE_OK)
			rc = check_entries(txn, stores[i], r->index[i], rec, &cx);
	}
	/* And the outbox's order, which rove status counts on. */
	if (rc == ROVE_OK)
		rc = rpl_outbox_check(txn, r, &cx.problems);
	mdb_txn_abort(txn);
	free(rec);
	*problems = cx.problems;
	return rc;
}
