/*
 * report_agg.c - the sums behind `rove report`, kept by the replica as
 * its records are written (report.h, "the sums a replica keeps"), so that
 * a report reads a few hundred sums instead of decoding every record.
 *
 * A table of sums (report0, report1: one beside each base) holds, by key:
 *   g S stage(1)                -> open deals of the stage: count, amount
 *   g R territory               -> open deals by territory: count, amount
 *   g P rep                     -> open deals by rep: count, amount
 *   g W month(7) rep            -> won deals by closing month and credited
 *                                  rep (not the pool): count, amount
 *   g D date(10)                -> that day's new customers, activities,
 *                                  won deals (count, amount)
 *   g T month(7) user 0 amt(8)  -> targets of that month: count
 *   g X                         -> deals whose amount is outside
 *                                  0..ROVE_MAX_MONEY_CENTS: count
 * - the report's figures, over the live customers and their children -
 * and, per customer, what its children add to those figures:
 *   k id(16) o stage(1) owner   -> open deals: count, amount
 *   k id(16) w date(10) owner   -> won deals closed that day: count, amount
 *   k id(16) a date(10)         -> activities of the day: count
 * (owner: the deal's own, "" for one from before deals had owners). A
 * child's figures count only while its customer is live, and its
 * territory and (for a deal without an owner) its rep are the customer's:
 * when a customer changes, its children's sums move with it, found under
 * its k prefix, without reading a child.
 *
 * Every value is four int64s; a key whose values are all 0 is deleted, so
 * a territory or rep is listed exactly while a deal counts for it. A
 * record's write takes its old facts off and puts its new ones on (report
 * .c's rpt_*_of say what a record's facts are, for the scan too). Sums
 * wrap (unsigned) where a scan saturates, so they are exact only while no
 * sum can pass INT64_MAX: a load finds more deals in a sum than
 * EXACT_COUNT, or an amount out of range (g X), and reports scan instead.
 *
 * What the report filters take (a month, a date range of at most
 * ROVE_REPORT_MAX_DAYS) are ranges of these keys: nothing falls back to
 * the scan but a replica without its sums.
 *
 * A base's sums are kept (meta report_sums/N) from when a report first
 * reads them until the base is emptied; a snapshot is built aside
 * without them, and writes to a base whose sums are not kept skip them.
 * The first report then builds them in one write transaction
 * (build_base): one walk of the base in key order, its live customers in
 * memory for their children (cust_map), then the view over it.
 */
#include "report_int.h"
#include "replica_int.h"

#include "calendar.h"
#include "db.h"
#include "err.h"
#include "log.h"
#include "rove_assert.h"
#include "rove_limits.h"
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Meta keys: the sums of base0, base1 are kept (u64 1; report.h). */
static const char *const kept_key[2] = {"report_sums/0", "report_sums/1"};
/* Meta key of a replica from before them: both bases' sums kept (u64 1). */
#define SUMS_MARK "report_sums"

#define SUM_VALS 4
/* The longest key: k id kind date owner, or g T month user 0 amount. */
#define SUM_KEY_MAX (1 + 16 + 1 + RPT_DATE_LEN + ROVE_MAX_NAME + 8)
/* Amounts are at most ROVE_MAX_MONEY_CENTS: a sum of this many cannot
 * pass INT64_MAX, so it equals the scan's (which saturates). */
#define EXACT_COUNT (INT64_MAX / ROVE_MAX_MONEY_CENTS)

_Static_assert(SUM_KEY_MAX <= 511, "a sum's key fits LMDB's default key size");
_Static_assert(ROVE_COLL_CUSTOMER < ROVE_COLL_OPPORTUNITY && ROVE_COLL_CUSTOMER < ROVE_COLL_ACTIVITY,
	       "a table walked in key order gives the customers before their children (build_one)");

typedef struct sum_key {
	uint8_t b[SUM_KEY_MAX];
	size_t len;
} sum_key;

static void key_start(sum_key *k, char a, char b)
{
	k->b[0] = (uint8_t)a;
	k->b[1] = (uint8_t)b;
	k->len = 2;
}

static void key_bytes(sum_key *k, const void *p, size_t n)
{
	ROVE_ASSERT(k->len + n <= SUM_KEY_MAX);
	memcpy(k->b + k->len, p, n);
	k->len += n;
}

static void key_str(sum_key *k, const char *s)
{
	key_bytes(k, s, strlen(s));
}

typedef struct cust_map cust_map;

/* Where one write's sums go: the layer of records it changes (the view
 * over the base, or the aside alone) and the table of that layer's sums. */
typedef struct layer {
	rove_replica *r;
	MDB_txn *txn;
	bool has_top;      /* the view lies over bottom */
	MDB_dbi top, bottom, sums;
	rove_record *tmp;  /* for reading a customer */
	cust_map *map;     /* the base's live customers in memory (a build), or NULL */
} layer;

/* ---- sums ---- */

static int64_t wrap_add(int64_t a, int64_t b)
{
	return (int64_t)((uint64_t)a + (uint64_t)b);
}

/* Adds sign * d to the sums under k; a key left all 0 is deleted. */
static int sum_add(const layer *L, const sum_key *k, const int64_t d[SUM_VALS], int sign)
{
	MDB_val kv = {k->len, (void *)k->b}, v;
	int64_t s[SUM_VALS] = {0, 0, 0, 0};
	bool zero = true;
	int mrc = mdb_get(L->txn, L->sums, &kv, &v);

	if (mrc == 0) {
		if (v.mv_size != sizeof(s)) {
			rove_error("corrupt report sums in the replica");
			return ROVE_EPROTO;
		}
		memcpy(s, v.mv_data, sizeof(s));
	} else if (mrc != MDB_NOTFOUND) {
		return rove_db_err(mrc, "report sums");
	}
	for (int i = 0; i < SUM_VALS; i++) {
		s[i] = wrap_add(s[i], sign > 0 ? d[i] : (int64_t)(0 - (uint64_t)d[i]));
		zero = zero && s[i] == 0;
	}
	if (zero) {
		mrc = mdb_del(L->txn, L->sums, &kv, NULL);
		return mrc == 0 || mrc == MDB_NOTFOUND ? ROVE_OK : rove_db_err(mrc, "report sums");
	}
	v.mv_size = sizeof(s);
	v.mv_data = s;
	return rove_db_err(mdb_put(L->txn, L->sums, &kv, &v, 0), "report sums");
}

static bool money_odd(int64_t amount)
{
	return amount < 0 || amount > ROVE_MAX_MONEY_CENTS;
}

/* ---- what a customer's children add ---- */

/* A child's entry under its customer: kind o, w or a, the rest of its key
 * and its values. */
typedef struct entry {
	sum_key key; /* k id kind ... */
	int64_t v[SUM_VALS];
	bool odd;    /* an amount out of range */
} entry;

/* The entry of a child's facts; false when it adds nothing anywhere (a
 * lost deal, a won deal or activity without a date, ...). */
static bool opp_entry(const rpt_opp *o, entry *e)
{
	uint8_t stage = (uint8_t)o->stage;

	memset(e->v, 0, sizeof(e->v));
	e->key.len = 0;
	key_bytes(&e->key, "k", 1);
	key_bytes(&e->key, o->customer.b, 16);
	if (o->stage < ROVE_REPORT_OPEN_STAGES) {
		key_bytes(&e->key, "o", 1);
		key_bytes(&e->key, &stage, 1);
	} else if (o->stage == RPT_STAGE_WON && o->closed[0] != '\0') {
		key_bytes(&e->key, "w", 1);
		key_bytes(&e->key, o->closed, RPT_DATE_LEN);
	} else {
		return false;
	}
	key_str(&e->key, o->owner);
	e->v[0] = 1;
	e->v[1] = o->amount;
	e->odd = money_odd(o->amount);
	return true;
}

static bool act_entry(const rpt_act *a, entry *e)
{
	if (a->at[0] == '\0')
		return false;
	memset(e->v, 0, sizeof(e->v));
	e->key.len = 0;
	key_bytes(&e->key, "k", 1);
	key_bytes(&e->key, a->customer.b, 16);
	key_bytes(&e->key, "a", 1);
	key_bytes(&e->key, a->at, RPT_DATE_LEN);
	e->v[0] = 1;
	e->odd = false;
	return true;
}

/* The report's sums that entry e (key and values) of customer c adds
 * while c is live: sign +1 puts them on, -1 takes them off. */
static int entry_figures(const layer *L, const rpt_cust *c, const uint8_t *key, size_t len, const int64_t v[SUM_VALS],
			 int sign)
{
	const size_t head = 1 + 16 + 1; /* k id kind */
	char owner[ROVE_MAX_NAME + 1];
	int64_t d[SUM_VALS] = {0, 0, 0, 0};
	const char *rep;
	sum_key k;
	int rc;

	if (c == NULL)
		return ROVE_OK;
	ROVE_ASSERT(len >= head && key[0] == 'k');
	switch (key[17]) {
	case 'o': /* stage(1) owner */
		ROVE_ASSERT(len >= head + 1 && key[head] < ROVE_REPORT_OPEN_STAGES && len - head - 1 <= ROVE_MAX_NAME);
		memcpy(owner, key + head + 1, len - head - 1);
		owner[len - head - 1] = '\0';
		d[0] = v[0];
		d[1] = v[1];
		key_start(&k, 'g', 'S');
		key_bytes(&k, &key[head], 1);
		rc = sum_add(L, &k, d, sign);
		key_start(&k, 'g', 'R');
		key_str(&k, c->territory[0] ? c->territory : ROVE_REPORT_NO_TERRITORY);
		if (rc == ROVE_OK)
			rc = sum_add(L, &k, d, sign);
		rep = owner[0] ? owner : c->owner[0] ? c->owner : ROVE_REPORT_POOL;
		key_start(&k, 'g', 'P');
		key_str(&k, rep);
		return rc == ROVE_OK ? sum_add(L, &k, d, sign) : rc;
	case 'w': /* date(10) owner */
		ROVE_ASSERT(len >= head + RPT_DATE_LEN && len - head - RPT_DATE_LEN <= ROVE_MAX_NAME);
		memcpy(owner, key + head + RPT_DATE_LEN, len - head - RPT_DATE_LEN);
		owner[len - head - RPT_DATE_LEN] = '\0';
		d[2] = v[0];
		d[3] = v[1];
		key_start(&k, 'g', 'D');
		key_bytes(&k, key + head, RPT_DATE_LEN);
		rc = sum_add(L, &k, d, sign);
		rep = owner[0] ? owner : c->owner;
		if (rc != ROVE_OK || rep[0] == '\0')
			return rc;
		d[0] = v[0];
		d[1] = v[1];
		d[2] = d[3] = 0;
		key_start(&k, 'g', 'W');
		key_bytes(&k, key + head, RPT_MONTH_LEN);
		key_str(&k, rep);
		return sum_add(L, &k, d, sign);
	case 'a': /* date(10) */
		ROVE_ASSERT(len == head + RPT_DATE_LEN);
		d[1] = v[0];
		key_start(&k, 'g', 'D');
		key_bytes(&k, key + head, RPT_DATE_LEN);
		return sum_add(L, &k, d, sign);
	default:
		rove_error("corrupt report sums in the replica");
		return ROVE_EPROTO;
	}
}

/* ---- the base's customers, in memory (a build) ----
 *
 * A build walks the base in key order: every customer, then the
 * children, each of which needs its customer's territory and owner.
 * Reading the customer record back (and decoding it) for every child
 * reads pages all over the customer table; instead the build keeps the
 * live customers in memory, in key order, 20 bytes each (the id, and its
 * territory and owner as indexes into the names seen), and a child finds
 * its customer there. While the map is whole (every live customer of
 * the base is in it), a customer it does not hold is not live; past
 * ROVE_REPORT_SNAP_NAMES names or out of memory it is no longer whole
 * and such a customer is read from the base. */

#define FACTS_BLOCK 65536u   /* customers per block of the map */
#define FACTS_SLOTS 131072u  /* name hash slots: twice the names */
_Static_assert(ROVE_REPORT_SNAP_NAMES < FACTS_SLOTS && ROVE_REPORT_SNAP_NAMES <= UINT16_MAX,
	       "a name index fits a u16 and the hash keeps a free slot");

typedef struct fact {
	uint8_t id[16];
	uint16_t territory, owner; /* indexes into names */
} fact;

struct cust_map {
	bool whole;            /* holds every live customer of the base */
	fact **block;          /* FACTS_BLOCK each, in key order */
	size_t nblock, n;
	char (*name)[ROVE_MAX_NAME + 1];
	size_t nname, cname;
	uint32_t *slot;        /* name index + 1; 0: free */
};

static void facts_clear(cust_map *f)
{
	for (size_t i = 0; i < f->nblock; i++)
		free(f->block[i]);
	free(f->block);
	free(f->name);
	free(f->slot);
	memset(f, 0, sizeof(*f));
}

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

/* The index of name s, added if new; false when full or out of memory. */
static bool facts_name(cust_map *f, const char *s, uint16_t *out)
{
	uint32_t i;

	if (f->slot == NULL && (f->slot = calloc(FACTS_SLOTS, sizeof(*f->slot))) == NULL)
		return false;
	for (i = name_hash(s) % FACTS_SLOTS; f->slot[i] != 0; i = (i + 1) % FACTS_SLOTS) {
		if (strcmp(f->name[f->slot[i] - 1], s) == 0) {
			*out = (uint16_t)(f->slot[i] - 1);
			return true;
		}
	}
	if (f->nname == ROVE_REPORT_SNAP_NAMES)
		return false;
	if (f->nname == f->cname) {
		size_t cap = f->cname ? f->cname * 2 : 64;
		void *p = realloc(f->name, cap * sizeof(*f->name));
		if (p == NULL)
			return false;
		f->name = p;
		f->cname = cap;
	}
	ROVE_ASSERT(strlen(s) <= ROVE_MAX_NAME);
	strcpy(f->name[f->nname], s);
	f->slot[i] = (uint32_t)(++f->nname);
	*out = (uint16_t)(f->nname - 1);
	return true;
}

/* Live customer c of the base, after the ones before it in key order;
 * the map is no longer whole when it cannot hold it. */
static void facts_add(cust_map *f, const rpt_cust *c)
{
	fact *x;

	if (!f->whole)
		return;
	if (f->n > 0) {
		const fact *last = &f->block[(f->n - 1) / FACTS_BLOCK][(f->n - 1) % FACTS_BLOCK];
		/* A table walked in key order gives ids in order, unless the
		 * file is damaged (a record's id is not its key's, keys out of
		 * order): then the map is not used, rather than an abort on
		 * bytes from the disk (attack eighty-two). */
		if (memcmp(c->id.b, last->id, 16) <= 0) {
			f->whole = false;
			return;
		}
	}
	if (f->n == f->nblock * FACTS_BLOCK) {
		fact **b = realloc(f->block, (f->nblock + 1) * sizeof(*b));
		if (b != NULL)
			f->block = b;
		if (b == NULL || (b[f->nblock] = malloc(FACTS_BLOCK * sizeof(fact))) == NULL) {
			f->whole = false;
			return;
		}
		f->nblock++;
	}
	x = &f->block[f->n / FACTS_BLOCK][f->n % FACTS_BLOCK];
	memcpy(x->id, c->id.b, 16);
	if (!facts_name(f, c->territory, &x->territory) || !facts_name(f, c->owner, &x->owner)) {
		f->whole = false;
		return;
	}
	f->n++;
}

/* Customer id from the map into c: false if it does not hold it. */
static bool facts_find(const cust_map *f, const rove_uuid *id, rpt_cust *c)
{
	size_t lo = 0, hi = f->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const fact *x = &f->block[mid / FACTS_BLOCK][mid % FACTS_BLOCK];
		int cmp = memcmp(id->b, x->id, 16);
		if (cmp == 0) {
			c->id = *id;
			memcpy(c->territory, f->name[x->territory], sizeof(c->territory));
			memcpy(c->owner, f->name[x->owner], sizeof(c->owner));
			c->created[0] = '\0'; /* a child needs none */
			return true;
		}
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

/* ---- reading records of a layer ---- */

/* The record coll/id as the layer shows it, into rec: ROVE_ENOTFOUND if
 * there is none. */
static int layer_get(const layer *L, uint8_t coll, const rove_uuid *id, rove_record *rec)
{
	int rc = ROVE_ENOTFOUND;

	if (L->has_top)
		rc = rpl_rec_get(L->txn, L->top, coll, id, rec);
	if (rc == ROVE_ENOTFOUND)
		rc = rpl_rec_get(L->txn, L->bottom, coll, id, rec);
	return rc;
}

/* Customer id's facts into c; *live false if it is not live here. */
static int customer_facts(const layer *L, const rove_uuid *id, rpt_cust *c, bool *live)
{
	int rc;

	if (L->map != NULL && facts_find(L->map, id, c)) {
		*live = true;
		return ROVE_OK;
	}
	if (L->map != NULL && L->map->whole) {
		*live = false;
		return ROVE_OK;
	}
	rc = layer_get(L, ROVE_COLL_CUSTOMER, id, L->tmp);
	*live = false;
	if (rc == ROVE_ENOTFOUND)
		return ROVE_OK;
	if (rc == ROVE_OK)
		*live = rpt_cust_of(L->tmp, c);
	return rc;
}

/* ---- one record's change ---- */

/* Takes off (sign -1) or puts on (+1) child entry e. */
static int child_apply(const layer *L, const entry *e, int sign)
{
	rove_uuid cid;
	rpt_cust c;
	bool live;
	int64_t one[SUM_VALS] = {1, 0, 0, 0};
	sum_key x;
	int rc = sum_add(L, &e->key, e->v, sign);

	memcpy(cid.b, e->key.b + 1, 16);
	if (rc == ROVE_OK)
		rc = customer_facts(L, &cid, &c, &live);
	if (rc == ROVE_OK && live)
		rc = entry_figures(L, &c, e->key.b, e->key.len, e->v, sign);
	if (rc == ROVE_OK && e->odd) {
		key_start(&x, 'g', 'X');
		rc = sum_add(L, &x, one, sign);
	}
	return rc;
}

static bool child_entry(const rove_record *rec, entry *e)
{
	rpt_opp o;
	rpt_act a;

	if (rec == NULL)
		return false;
	if (rec->coll == ROVE_COLL_OPPORTUNITY)
		return rpt_opp_of(rec, &o) && opp_entry(&o, e);
	return rpt_act_of(rec, &a) && act_entry(&a, e);
}

static int child_change(const layer *L, const rove_record *old, const rove_record *now)
{
	entry eo, en;
	bool ho = child_entry(old, &eo), hn = child_entry(now, &en);
	int rc = ROVE_OK;

	if (ho && hn && eo.key.len == en.key.len && memcmp(eo.key.b, en.key.b, eo.key.len) == 0 &&
	    memcmp(eo.v, en.v, sizeof(eo.v)) == 0)
		return ROVE_OK; /* a change of nothing the reports show */
	if (ho)
		rc = child_apply(L, &eo, -1);
	if (rc == ROVE_OK && hn)
		rc = child_apply(L, &en, +1);
	return rc;
}

/* A customer's children's entries, read before any is written. */
typedef struct entries {
	uint8_t (*key)[SUM_KEY_MAX];
	size_t *len;
	int64_t (*v)[SUM_VALS];
	size_t n, cap;
} entries;

static void entries_free(entries *es)
{
	free(es->key);
	free(es->len);
	free(es->v);
}

static int entries_push(entries *es, const MDB_val *k, const MDB_val *v)
{
	if (k->mv_size > SUM_KEY_MAX || v->mv_size != sizeof(es->v[0])) {
		rove_error("corrupt report sums in the replica");
		return ROVE_EPROTO;
	}
	if (es->n == es->cap) {
		size_t cap = es->cap ? es->cap * 2 : 16;
		void *a = realloc(es->key, cap * sizeof(es->key[0]));
		if (a != NULL)
			es->key = a;
		void *b = a != NULL ? realloc(es->len, cap * sizeof(es->len[0])) : NULL;
		if (b != NULL)
			es->len = b;
		void *c = b != NULL ? realloc(es->v, cap * sizeof(es->v[0])) : NULL;
		if (c == NULL)
			return ROVE_ENOMEM;
		es->v = c;
		es->cap = cap;
	}
	memcpy(es->key[es->n], k->mv_data, k->mv_size);
	es->len[es->n] = k->mv_size;
	memcpy(es->v[es->n], v->mv_data, v->mv_size);
	es->n++;
	return ROVE_OK;
}

static int entries_of(const layer *L, const rove_uuid *id, entries *es)
{
	uint8_t pre[17] = {'k'};
	MDB_val k = {sizeof(pre), pre}, v;
	MDB_cursor *c;
	int rc = rove_db_err(mdb_cursor_open(L->txn, L->sums, &c), "cursor");
	int mrc;

	if (rc != ROVE_OK)
		return rc;
	memcpy(pre + 1, id->b, 16);
	mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == ROVE_OK && mrc == 0 && k.mv_size > sizeof(pre) && memcmp(k.mv_data, pre, sizeof(pre)) == 0) {
		rc = entries_push(es, &k, &v);
		if (rc == ROVE_OK)
			mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (rc == ROVE_OK && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, "report sums");
	return rc;
}

static bool cust_same(const rpt_cust *a, const rpt_cust *b)
{
	return strcmp(a->territory, b->territory) == 0 && strcmp(a->owner, b->owner) == 0 &&
	       strcmp(a->created, b->created) == 0;
}

/* A customer's own figure: a new customer on the day it was created. */
static int cust_own(const layer *L, const rpt_cust *c, int sign)
{
	int64_t one[SUM_VALS] = {1, 0, 0, 0};
	sum_key k;

	if (c->created[0] == '\0')
		return ROVE_OK;
	key_start(&k, 'g', 'D');
	key_bytes(&k, c->created, RPT_DATE_LEN);
	return sum_add(L, &k, one, sign);
}

static int cust_change(const layer *L, const rove_uuid *id, const rove_record *old, const rove_record *now)
{
	rpt_cust co, cn;
	bool lo = old != NULL && rpt_cust_of(old, &co), ln = now != NULL && rpt_cust_of(now, &cn);
	entries es = {NULL, NULL, NULL, 0, 0};
	int rc = ROVE_OK;

	if ((!lo && !ln) || (lo && ln && cust_same(&co, &cn)))
		return ROVE_OK; /* its figures and its children's stay */
	if (lo)
		rc = cust_own(L, &co, -1);
	if (rc == ROVE_OK && ln)
		rc = cust_own(L, &cn, +1);
	if (rc == ROVE_OK)
		rc = entries_of(L, id, &es);
	for (size_t i = 0; rc == ROVE_OK && i < es.n; i++) {
		rc = entry_figures(L, lo ? &co : NULL, es.key[i], es.len[i], es.v[i], -1);
		if (rc == ROVE_OK)
			rc = entry_figures(L, ln ? &cn : NULL, es.key[i], es.len[i], es.v[i], +1);
	}
	entries_free(&es);
	return rc;
}

static int target_change(const layer *L, const rove_record *old, const rove_record *now)
{
	int64_t one[SUM_VALS] = {1, 0, 0, 0};
	const rove_record *recs[2] = {old, now};
	sum_key k[2];
	bool has[2];
	int rc = ROVE_OK;

	for (int i = 0; i < 2; i++) {
		rpt_target t;
		uint8_t amount[8];
		has[i] = recs[i] != NULL && rpt_target_of(recs[i], &t);
		if (!has[i])
			continue;
		/* sign flipped, big-endian: amounts in numeric order */
		rove_be64_put(amount, (uint64_t)t.amount ^ (UINT64_C(1) << 63));
		key_start(&k[i], 'g', 'T');
		key_bytes(&k[i], t.period, RPT_MONTH_LEN);
		key_bytes(&k[i], t.user, strlen(t.user) + 1);
		key_bytes(&k[i], amount, sizeof(amount));
	}
	if (has[0] && has[1] && k[0].len == k[1].len && memcmp(k[0].b, k[1].b, k[0].len) == 0)
		return ROVE_OK;
	if (has[0])
		rc = sum_add(L, &k[0], one, -1);
	if (rc == ROVE_OK && has[1])
		rc = sum_add(L, &k[1], one, +1);
	return rc;
}

static bool counted(uint8_t coll)
{
	return coll == ROVE_COLL_CUSTOMER || coll == ROVE_COLL_OPPORTUNITY || coll == ROVE_COLL_ACTIVITY ||
	       coll == ROVE_COLL_TARGET;
}

/* The layer shows record coll/id as old (NULL: none) and now as now. */
static int record_change(const layer *L, uint8_t coll, const rove_uuid *id, const rove_record *old,
			 const rove_record *now)
{
	switch (coll) {
	case ROVE_COLL_CUSTOMER:
		return cust_change(L, id, old, now);
	case ROVE_COLL_OPPORTUNITY:
	case ROVE_COLL_ACTIVITY:
		return child_change(L, old, now);
	case ROVE_COLL_TARGET:
		return target_change(L, old, now);
	default:
		return ROVE_OK;
	}
}

/* ---- the hooks ---- */

static int sums_index(const rove_replica *r, MDB_dbi base)
{
	return base == r->bases[1] ? 1 : 0;
}

/* The layer a write to dbi changes: the view and the base show the user's
 * records (the base's sums); the aside shows the snapshot alone. */
static void layer_of(rove_replica *r, MDB_txn *txn, MDB_dbi dbi, layer *L)
{
	memset(L, 0, sizeof(*L));
	L->r = r;
	L->txn = txn;
	if (dbi == r->aside) {
		L->bottom = r->aside;
		L->sums = r->sums[sums_index(r, r->aside)];
		return;
	}
	ROVE_ASSERT(dbi == r->view || dbi == r->base);
	L->has_top = true;
	L->top = r->view;
	L->bottom = r->base;
	L->sums = r->sums[sums_index(r, r->base)];
}

static rove_replica *replica_of(MDB_txn *txn)
{
	rove_replica *r = mdb_env_get_userctx(mdb_txn_env(txn));

	ROVE_ASSERT(r != NULL); /* rove_report_sums_attach at open */
	return r;
}

/* A mark of sums kept: 1 kept, 0 absent, MARK_DAMAGED a value that does
 * not read (the sums are then not trusted: not kept, the mark dropped). */
#define MARK_DAMAGED UINT64_MAX
static int mark_get(MDB_txn *txn, MDB_dbi meta, const char *key, uint64_t *mark)
{
	int rc = rove_db_get_u64(txn, meta, key, mark);

	if (rc == ROVE_ENOTFOUND || rc == ROVE_EPROTO) {
		*mark = rc == ROVE_EPROTO ? MARK_DAMAGED : 0;
		rc = ROVE_OK;
	}
	return rc;
}

/* Whether the base's sums are kept in txn (report.h). A replica from
 * before the marks by base (meta SUMS_MARK 1) kept both bases' sums:
 * read only, its base's are read as kept; writable, it was moved to the
 * marks by base at open (rove_report_sums_attach). */
static int base_kept(rove_replica *r, MDB_txn *txn, bool *kept)
{
	int i = sums_index(r, r->base);
	uint64_t mark = 0;
	int rc;

	/* Read once a transaction (and base): every record written asks,
	 * and two reads of meta were 3 % of a 1,000-op sync (issue 17).
	 * Every write of a mark forgets it (marks_changed). */
	if (r->sums_txn == txn && r->sums_txnid == mdb_txn_id(txn) && r->sums_gen == r->txn_gen &&
	    r->sums_base == i) {
		*kept = r->sums_kept;
		return ROVE_OK;
	}
	rc = mark_get(txn, r->meta, kept_key[i], &mark);
	if (rc == ROVE_OK && mark == 0)
		rc = mark_get(txn, r->meta, SUMS_MARK, &mark);
	*kept = rc == ROVE_OK && mark == 1;
	if (rc == ROVE_OK) {
		r->sums_txn = txn;
		r->sums_txnid = mdb_txn_id(txn);
		r->sums_gen = r->txn_gen;
		r->sums_base = i;
		r->sums_kept = *kept;
	}
	return rc;
}

/* Writes a mark: on, 1; else none. base_kept reads the marks anew. */
static int mark_put(rove_replica *r, MDB_txn *txn, const char *key, bool on)
{
	r->sums_txn = NULL;
	return on ? rove_db_put_u64(txn, r->meta, key, 1) : rpl_meta_bytes_put(txn, r->meta, key, NULL, 0);
}

/* A process that could not open the tables of sums (rove_report_sums_attach
 * warned) writes without them: sums another process keeps are out of date
 * once this write commits, so they are no longer kept. */
static int sums_forget(rove_replica *r, MDB_txn *txn)
{
	const char *const keys[3] = {kept_key[0], kept_key[1], SUMS_MARK};
	int rc = ROVE_OK;

	for (int i = 0; rc == ROVE_OK && i < 3; i++) {
		uint64_t mark = 0;
		rc = mark_get(txn, r->meta, keys[i], &mark);
		if (rc == ROVE_OK && mark != 0)
			rc = mark_put(r, txn, keys[i], false);
	}
	return rc;
}

/* Whether coll/id has a view entry (which then hides the base's). */
static int in_view(rove_replica *r, MDB_txn *txn, uint8_t coll, const rove_uuid *id, bool *yes)
{
	uint8_t key[ROVE_RECORD_KEY];
	MDB_val k = {ROVE_RECORD_KEY, key}, v;
	int mrc;

	rove_record_key(key, coll, id);
	mrc = mdb_get(txn, r->view, &k, &v);
	*yes = mrc == 0;
	return mrc == 0 || mrc == MDB_NOTFOUND ? ROVE_OK : rove_db_err(mrc, "view");
}

/* What a hook does: the record coll/id of dbi becomes now (NULL: it is
 * deleted); had_old: it may have had a value there (read it). */
static int hook(MDB_txn *txn, MDB_dbi dbi, uint8_t coll, const rove_uuid *id, const rove_record *now, bool had_old)
{
	rove_replica *r;
	rove_record *old = NULL, *below = NULL;
	bool hidden = false, has_old = false, kept = false;
	layer L;
	int rc;

	if (!counted(coll))
		return ROVE_OK;
	r = replica_of(txn);
	if (!r->sums_open)
		return sums_forget(r, txn);
	/* A snapshot built aside keeps no sums: the base it becomes gets
	 * them when a report first reads them (build_base). */
	if (dbi == r->aside)
		return ROVE_OK;
	rc = base_kept(r, txn, &kept);
	if (rc != ROVE_OK || !kept)
		return rc;
	layer_of(r, txn, dbi, &L);
	if (dbi == r->base) {
		rc = in_view(r, txn, coll, id, &hidden);
		if (rc != ROVE_OK || hidden)
			return rc; /* the user sees the view's record: no change */
	}
	old = malloc(sizeof(*old));
	L.tmp = malloc(sizeof(*L.tmp));
	if (dbi == r->view && now == NULL)
		below = malloc(sizeof(*below));
	rc = old == NULL || L.tmp == NULL || (dbi == r->view && now == NULL && below == NULL) ? ROVE_ENOMEM : ROVE_OK;
	if (rc == ROVE_OK && had_old) {
		/* what the layer showed: the view's, else the base's */
		rc = layer_get(&L, coll, id, old);
		has_old = rc == ROVE_OK;
		if (rc == ROVE_ENOTFOUND)
			rc = ROVE_OK;
	}
	/* A view entry deleted: the base's record shows again. */
	if (rc == ROVE_OK && below != NULL) {
		rc = rpl_rec_get(txn, r->base, coll, id, below);
		if (rc == ROVE_OK)
			now = below;
		else if (rc == ROVE_ENOTFOUND)
			rc = ROVE_OK;
	}
	/* A record there that does not decode (said): the sums cannot
	 * follow it, and are made anew when a report next reads them; the
	 * write goes on (it failed a repair's every sync: damage_hunt seed
	 * 2276). */
	if (rc == ROVE_EPROTO)
		rc = sums_forget(r, txn);
	else if (rc == ROVE_OK)
		rc = record_change(&L, coll, id, has_old ? old : NULL, now);
	free(old);
	free(below);
	free(L.tmp);
	return rc;
}

int rove_report_sums_put(MDB_txn *txn, MDB_dbi dbi, const rove_record *rec)
{
	return hook(txn, dbi, rec->coll, &rec->id, rec, true);
}

int rove_report_sums_added(MDB_txn *txn, MDB_dbi dbi, const rove_record *rec)
{
	return hook(txn, dbi, rec->coll, &rec->id, rec, false);
}

int rove_report_sums_del(MDB_txn *txn, MDB_dbi dbi, uint8_t coll, const rove_uuid *id)
{
	return hook(txn, dbi, coll, id, NULL, true);
}

/* One entry of the view, as if deleted alone (rove_db_fn; arg: the txn):
 * the base's record shows again. The hooks write the sums only, so the
 * walk's cursor on the view stays valid. */
static int view_entry_dropped(const MDB_val *k, const MDB_val *v, void *arg)
{
	MDB_txn *txn = arg;
	rove_uuid id;

	(void)v;
	if (k->mv_size != ROVE_RECORD_KEY)
		return ROVE_EPROTO;
	memcpy(id.b, (const uint8_t *)k->mv_data + 1, 16);
	return hook(txn, replica_of(txn)->view, *(const uint8_t *)k->mv_data, &id, NULL, true);
}

int rove_report_sums_view_dropped(MDB_txn *txn)
{
	rove_replica *r = replica_of(txn);
	bool kept = false;
	int rc;

	if (!r->sums_open)
		return sums_forget(r, txn);
	rc = base_kept(r, txn, &kept);
	if (rc != ROVE_OK || !kept)
		return rc;
	return rove_db_each(txn, r->view, "view", view_entry_dropped, txn);
}

int rove_report_sums_dropped(MDB_txn *txn, MDB_dbi dbi)
{
	rove_replica *r = replica_of(txn);
	int i, rc;

	if (!r->sums_open)
		return sums_forget(r, txn);
	ROVE_ASSERT(dbi == r->bases[0] || dbi == r->bases[1]);
	i = sums_index(r, dbi);
	rc = mark_put(r, txn, kept_key[i], false);
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_drop(txn, r->sums[i], 0), "report sums");
	return rc;
}

/* ---- building them: once for each base, when first read ---- */

typedef struct build_ctx {
	layer L;
	rove_record *rec, *old;
	bool view; /* walking the view: each entry replaces the base's record */
} build_ctx;

static int build_one(const MDB_val *k, const MDB_val *v, void *arg)
{
	build_ctx *b = arg;
	bool has_old = false;
	rpt_cust c;
	int rc;

	if (k->mv_size != ROVE_RECORD_KEY)
		return ROVE_EPROTO;
	if (!counted(((const uint8_t *)k->mv_data)[0]))
		return ROVE_OK;
	rc = rove_dec_record(v->mv_data, v->mv_size, b->rec);
	if (rc != ROVE_OK) {
		rpl_say_corrupt();
		return ROVE_EPROTO;
	}
	if (b->view) {
		rc = rpl_rec_get(b->L.txn, b->L.bottom, b->rec->coll, &b->rec->id, b->old);
		has_old = rc == ROVE_OK;
		if (rc != ROVE_ENOTFOUND && rc != ROVE_OK)
			return rc;
	} else if (b->rec->coll == ROVE_COLL_CUSTOMER) {
		/* The base in key order: no child of it was walked yet (none
		 * to move), and its children find it in the map. */
		if (!rpt_cust_of(b->rec, &c))
			return ROVE_OK;
		facts_add(b->L.map, &c);
		return cust_own(&b->L, &c, +1);
	}
	/* The table is whole already: a child finds its customer as it is,
	 * a view's customer the children walked before it; the sums come
	 * out as if written one by one. */
	return record_change(&b->L, b->rec->coll, &b->rec->id, has_old ? b->old : NULL, b->rec);
}

/* Builds the base's sums from its records and the view's, unless
 * another process did: one write transaction. */
static int build_base(rove_replica *r)
{
	build_ctx b;
	cust_map map;
	MDB_txn *txn = NULL;
	bool kept = false;
	int i, rc = rpl_txn_begin(r, 0, &txn);

	memset(&b, 0, sizeof(b));
	memset(&map, 0, sizeof(map));
	if (rc != ROVE_OK)
		return rc;
	rc = base_kept(r, txn, &kept);
	if (rc != ROVE_OK || kept)
		return rpl_commit_or_abort(txn, rc);
	rove_info("adding up the replica's report figures (once after a snapshot)");
	i = sums_index(r, r->base);
	b.rec = malloc(sizeof(*b.rec));
	b.old = malloc(sizeof(*b.old));
	b.L.tmp = malloc(sizeof(*b.L.tmp));
	if (b.rec == NULL || b.old == NULL || b.L.tmp == NULL)
		rc = ROVE_ENOMEM;
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_drop(txn, r->sums[i], 0), "report sums");
	/* the base alone, its customers in the map; then the view over it */
	if (rc == ROVE_OK) {
		map.whole = true;
		b.L.r = r;
		b.L.txn = txn;
		b.L.bottom = r->base;
		b.L.sums = r->sums[i];
		b.L.map = &map;
		rc = rove_db_each(txn, r->base, "base", build_one, &b);
	}
	if (rc == ROVE_OK) {
		rove_record *tmp = b.L.tmp;
		layer_of(r, txn, r->view, &b.L);
		b.L.tmp = tmp;
		b.view = true;
		rc = rove_db_each(txn, r->view, "view", build_one, &b);
	}
	if (rc == ROVE_OK)
		rc = mark_put(r, txn, kept_key[i], true);
	rc = rpl_commit_or_abort(txn, rc);
	facts_clear(&map);
	free(b.rec);
	free(b.old);
	free(b.L.tmp);
	return rc;
}

/* Opens the tables of sums, made if missing, and moves a replica from
 * before the marks by base to them: the base's sums were kept, the
 * aside's are not (a snapshot is built aside without them). */
static int attach_write(rove_replica *r)
{
	const rove_db_table t[] = {{"report0", &r->sums[0]}, {"report1", &r->sums[1]}};
	MDB_txn *txn = NULL;
	uint64_t mark = 0;
	int rc = rpl_txn_begin(r, 0, &txn);

	if (rc != ROVE_OK)
		return rc;
	rc = rove_db_open_tables(txn, t, 2, MDB_CREATE);
	if (rc == ROVE_OK)
		rc = mark_get(txn, r->meta, SUMS_MARK, &mark);
	/* damaged: neither base's sums trusted */
	if (rc == ROVE_OK && mark == MARK_DAMAGED) {
		rc = sums_forget(r, txn);
		for (int i = 0; rc == ROVE_OK && i < 2; i++)
			rc = rove_db_err(mdb_drop(txn, r->sums[i], 0), "report sums");
	} else if (rc == ROVE_OK && mark != 0) {
		rc = mark_put(r, txn, kept_key[sums_index(r, r->base)], true);
		if (rc == ROVE_OK)
			rc = mark_put(r, txn, kept_key[sums_index(r, r->aside)], false);
		if (rc == ROVE_OK)
			rc = rove_db_err(mdb_drop(txn, r->sums[sums_index(r, r->aside)], 0), "report sums");
		if (rc == ROVE_OK)
			rc = mark_put(r, txn, SUMS_MARK, false);
	}
	return rpl_commit_or_abort(txn, rc);
}

int rove_report_sums_attach(rove_replica *r)
{
	const rove_db_table t[] = {{"report0", &r->sums[0]}, {"report1", &r->sums[1]}};
	MDB_txn *txn;
	uint64_t mark = 0;
	int rc;

	r->sums_open = false;
	mdb_env_set_userctx(r->env, r);
	rc = rpl_txn_begin(r, MDB_RDONLY, &txn);
	if (rc != ROVE_OK)
		return rc;
	rc = mark_get(txn, r->meta, SUMS_MARK, &mark);
	if (rc == ROVE_OK && (mark == 0 || r->access != ROVE_DB_WRITABLE)) {
		rc = rove_db_open_tables(txn, t, 2, 0);
		if (rc == ROVE_OK) {
			/* Commit, not abort: dbi handles opened in an aborted txn are closed. */
			rc = rpl_commit_or_abort(txn, rc);
			r->sums_open = rc == ROVE_OK;
			return rc;
		}
		if (rc != ROVE_ENOTFOUND) {
			mdb_txn_abort(txn);
			return rc;
		}
		rc = ROVE_OK;
	}
	mdb_txn_abort(txn);
	if (rc != ROVE_OK || r->access != ROVE_DB_WRITABLE)
		return rc; /* read only without the tables: reports scan */
	RPL_WITH_GROWTH(r, attach_write(r));
	r->sums_open = rc == ROVE_OK;
	if (rc != ROVE_OK)
		rove_warn("cannot open the report sums of the replica in '%s': %s", r->dir, rove_strerror(rc));
	return ROVE_OK;
}

/* ---- reading them: rove_report_load ---- */

typedef struct load_ctx {
	rove_report_data *d;
	rove_report_pipeline p;
	rove_report_sum *terr, *rep;
	size_t nterr, crep, cterr, nrep;
	bool exact;
} load_ctx;

static int sum_push(rove_report_sum **v, size_t *n, size_t *cap, const char *key, size_t len, const int64_t s[SUM_VALS])
{
	if (len > ROVE_MAX_NAME)
		return ROVE_EPROTO;
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		rove_report_sum *nv = realloc(*v, nc * sizeof(**v));
		if (nv == NULL)
			return ROVE_ENOMEM;
		*v = nv;
		*cap = nc;
	}
	memcpy((*v)[*n].key, key, len);
	(*v)[*n].key[len] = '\0';
	(*v)[*n].count = s[0];
	(*v)[*n].amount = s[1];
	(*n)++;
	return ROVE_OK;
}

/* One g key of the sums into the data. */
static int load_one(load_ctx *x, const uint8_t *k, size_t len, const int64_t s[SUM_VALS])
{
	const char *rest = (const char *)k + 2;
	size_t rlen = len - 2;

	switch (k[1]) {
	case 'S':
		if (rlen != 1 || k[2] >= ROVE_REPORT_OPEN_STAGES)
			return ROVE_EPROTO;
		x->p.stage[k[2]].count = s[0];
		x->p.stage[k[2]].amount = s[1];
		x->exact = x->exact && s[0] <= EXACT_COUNT;
		return ROVE_OK;
	case 'R':
		x->exact = x->exact && s[0] <= EXACT_COUNT;
		return sum_push(&x->terr, &x->nterr, &x->cterr, rest, rlen, s);
	case 'P':
		x->exact = x->exact && s[0] <= EXACT_COUNT;
		return sum_push(&x->rep, &x->nrep, &x->crep, rest, rlen, s);
	case 'W': {
		rpt_won w;
		if (rlen < RPT_MONTH_LEN || rlen - RPT_MONTH_LEN > ROVE_MAX_NAME)
			return ROVE_EPROTO;
		memcpy(w.month, rest, RPT_MONTH_LEN);
		w.month[RPT_MONTH_LEN] = '\0';
		memcpy(w.rep, rest + RPT_MONTH_LEN, rlen - RPT_MONTH_LEN);
		w.rep[rlen - RPT_MONTH_LEN] = '\0';
		w.amount = s[1];
		x->exact = x->exact && s[0] <= EXACT_COUNT;
		return rpt_data_add_won(x->d, &w);
	}
	case 'D': {
		rpt_day day;
		if (rlen != RPT_DATE_LEN || !rove_cal_parse_date(rest, RPT_DATE_LEN, &day.day))
			return ROVE_EPROTO;
		day.new_customers = s[0];
		day.activities = s[1];
		day.won_amount = s[3];
		x->exact = x->exact && s[2] <= EXACT_COUNT;
		return rpt_data_add_day(x->d, &day);
	}
	case 'T': {
		rpt_target t;
		const char *nul = memchr(rest, '\0', rlen);
		size_t ulen = nul != NULL ? (size_t)(nul - rest) : 0;
		if (rlen < RPT_MONTH_LEN + 9 || nul == NULL || ulen < RPT_MONTH_LEN || ulen - RPT_MONTH_LEN > ROVE_MAX_NAME ||
		    rlen != ulen + 9 || s[0] <= 0)
			return ROVE_EPROTO;
		memcpy(t.period, rest, RPT_MONTH_LEN);
		t.period[RPT_MONTH_LEN] = '\0';
		memcpy(t.user, rest + RPT_MONTH_LEN, ulen - RPT_MONTH_LEN);
		t.user[ulen - RPT_MONTH_LEN] = '\0';
		t.amount = (int64_t)(rove_be64_get((const uint8_t *)nul + 1) ^ (UINT64_C(1) << 63));
		for (int64_t i = 0; i < s[0]; i++) {
			int rc = rpt_data_add_target(x->d, &t);
			if (rc != ROVE_OK)
				return rc;
		}
		return ROVE_OK;
	}
	case 'X':
		x->exact = x->exact && s[0] == 0;
		return ROVE_OK;
	default:
		return ROVE_EPROTO;
	}
}

int rpt_agg_load(rove_replica *r, rove_report_data *d, bool *used)
{
	const char *const *stages = rpt_stages();
	load_ctx x;
	MDB_txn *txn = NULL;
	MDB_cursor *c = NULL;
	MDB_val k = {1, "g"}, v;
	bool kept = false;
	int rc, mrc;

	*used = false;
	if (!r->sums_open)
		return ROVE_OK;
	memset(&x, 0, sizeof(x));
	x.d = d;
	x.exact = true;
	rc = rpl_txn_begin(r, MDB_RDONLY, &txn);
	if (rc == ROVE_OK)
		rc = base_kept(r, txn, &kept);
	if (rc == ROVE_OK && !kept && r->access == ROVE_DB_WRITABLE) {
		/* A base from a snapshot: its sums are built now, once. */
		mdb_txn_abort(txn);
		txn = NULL;
		RPL_WITH_GROWTH(r, build_base(r));
		if (rc != ROVE_OK) {
			rove_warn("cannot add up the report figures of the replica in '%s': %s", r->dir,
				  rove_strerror(rc));
			return ROVE_OK; /* the report scans; the next one tries again */
		}
		rc = rpl_txn_begin(r, MDB_RDONLY, &txn);
		if (rc == ROVE_OK)
			rc = base_kept(r, txn, &kept);
	}
	if (rc != ROVE_OK || !kept) { /* read only, or replaced meanwhile: the scan */
		if (txn != NULL)
			mdb_txn_abort(txn);
		return rc;
	}
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_cursor_open(txn, r->sums[sums_index(r, r->base)], &c), "cursor");
	if (rc == ROVE_OK)
		mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == ROVE_OK && mrc == 0 && k.mv_size >= 2 && ((const uint8_t *)k.mv_data)[0] == 'g') {
		int64_t s[SUM_VALS];
		if (v.mv_size != sizeof(s)) {
			rc = ROVE_EPROTO;
			break;
		}
		memcpy(s, v.mv_data, sizeof(s));
		rc = load_one(&x, k.mv_data, k.mv_size, s);
		if (rc == ROVE_OK)
			mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	if (rc == ROVE_OK && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, "report sums");
	if (c != NULL)
		mdb_cursor_close(c);
	mdb_txn_abort(txn);
	if (rc == ROVE_EPROTO)
		rove_error("corrupt report sums in the replica");
	for (unsigned s = 0; s < ROVE_REPORT_OPEN_STAGES; s++) {
		snprintf(x.p.stage[s].key, sizeof(x.p.stage[s].key), "%s", stages[s]);
		x.p.total.count += x.p.stage[s].count;
		x.p.total.amount = wrap_add(x.p.total.amount, x.p.stage[s].amount);
	}
	x.exact = x.exact && x.p.total.count <= EXACT_COUNT;
	x.p.territory = x.terr;
	x.p.nterritory = x.nterr;
	x.p.rep = x.rep;
	x.p.nrep = x.nrep;
	if (rc == ROVE_OK && x.exact) {
		rpt_data_take_pipeline(d, &x.p);
		*used = true;
	}
	rove_report_pipeline_free(&x.p);
	return rc;
}
