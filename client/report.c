/*
 * report.c - the figures of `rove report` (see report.h for why this is a
 * module of its own and the rules every report follows).
 *
 * rove_report_add keeps only small facts per record (a customer's id,
 * territory, owner and creation day; a deal's customer, stage, amount and
 * closing day; an activity's customer and day; a target), so a replica of
 * 100,000 customers and 300,000 child records fits in a few tens of MB.
 * Customers are looked up by id with a binary search; the replica hands
 * them over in id order, so they are sorted only when added out of order.
 */
#include "report.h"
#include "report_int.h"

#include "calendar.h"
#include "err.h"
#include "array.h"
#include "rove_assert.h"
#include "rove_limits.h"
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DATE_LEN RPT_DATE_LEN
#define MONTH_LEN RPT_MONTH_LEN
#define STAGE_WON RPT_STAGE_WON

typedef rpt_cust cust_fact;
typedef rpt_opp opp_fact;
typedef rpt_act act_fact;
typedef rpt_target target_fact;

/* A growable array of fixed-size items. */
typedef struct vec {
	void *v;
	size_t n, cap, size;
} vec;

struct rove_report_data {
	vec cust, opp, act, target;
	bool cust_sorted;
	const char *const *stages; /* the schema's stage names, NULL-terminated */
	/* Filled from the replica's aggregates instead (rpt_agg_load): no
	 * customers, deals nor activities, but the pipeline (owned), the won
	 * amounts by month and rep (rpt_won, in month then rep order), the
	 * figures by day (rpt_day, by day), and the targets as above. */
	bool agg;
	rove_report_pipeline pipe;
	vec won, day;
};

static void vec_init(vec *a, size_t size)
{
	a->v = NULL;
	a->n = 0;
	a->cap = 0;
	a->size = size;
}

/* A new zeroed item at the end; NULL when out of memory. */
static void *vec_push(vec *a)
{
	void *nv = rove_array_grow(a->v, &a->cap, a->n, 1, a->size, 64), *p;

	if (nv == NULL)
		return NULL;
	a->v = nv;
	p = (char *)a->v + a->n++ * a->size;
	memset(p, 0, a->size);
	return p;
}

/* ---- money ---- */

static int64_t sat_add(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	if (b < 0 && a < INT64_MIN - b)
		return INT64_MIN;
	return a + b;
}

static int64_t sat_sub(int64_t a, int64_t b)
{
	if (b < 0 && a > INT64_MAX + b)
		return INT64_MAX;
	if (b > 0 && a < INT64_MIN + b)
		return INT64_MIN;
	return a - b;
}

/* floor(won * 100 / target), 0 for a target <= 0, without overflow. */
static int64_t percent(int64_t won, int64_t target)
{
	int64_t q, r, frac;

	if (target <= 0)
		return 0;
	q = won / target;
	r = won % target;
	if (r < 0) { /* C truncates towards zero; floor goes down */
		q--;
		r += target;
	}
	/* now won = q * target + r with 0 <= r < target */
	if (q > INT64_MAX / 100)
		return INT64_MAX;
	if (q < INT64_MIN / 100)
		return INT64_MIN;
	if (r <= INT64_MAX / 100)
		frac = r * 100 / target;
	else /* targets beyond 92 trillion units: close enough */
		frac = (int64_t)((long double)r * 100.0L / (long double)target);
	return sat_add(q * 100, frac);
}

/* ---- dates (common/calendar.h) ---- */

_Static_assert(ROVE_REPORT_DATE_SIZE == ROVE_DATE_SIZE, "a report's date is the calendar's");

/* The day number of the date in the first 10 characters of s. */
static bool date_prefix(const char *s, int64_t *dn)
{
	return s != NULL && strnlen(s, DATE_LEN) == DATE_LEN && rove_cal_parse_date(s, DATE_LEN, dn);
}

bool rove_report_date_valid(const char *s)
{
	int64_t dn;

	return s != NULL && strlen(s) == DATE_LEN && date_prefix(s, &dn);
}

bool rove_report_month_valid(const char *s)
{
	int64_t dn;

	return s != NULL && strlen(s) == MONTH_LEN && rove_cal_parse_date(s, MONTH_LEN, &dn);
}

int rove_report_date_add(const char *date, int days, char out[ROVE_REPORT_DATE_SIZE])
{
	int64_t dn;

	if (!rove_report_date_valid(date) || !date_prefix(date, &dn))
		return ROVE_EINVAL;
	dn += days;
	if (dn < ROVE_CAL_FIRST_DAY || dn > ROVE_CAL_LAST_DAY)
		return ROVE_EINVAL;
	rove_cal_date(dn, out);
	return ROVE_OK;
}

bool rove_report_in_years(const char *s)
{
	size_t n = strlen(s);

	return strncmp(s, ROVE_DATE_MIN, n) >= 0 && strncmp(s, ROVE_DATE_MAX, n) <= 0;
}

int rove_report_default_from(const char *to, char from[ROVE_REPORT_DATE_SIZE])
{
	int rc = rove_report_date_add(to, 1 - ROVE_REPORT_DEFAULT_DAYS, from);

	/* (valid dates compare as text) */
	if ((rc == ROVE_OK && strcmp(from, ROVE_DATE_MIN) < 0) ||
	    (rc == ROVE_EINVAL && rove_report_date_valid(to))) {
		snprintf(from, ROVE_REPORT_DATE_SIZE, "%s", ROVE_DATE_MIN);
		rc = ROVE_OK;
	}
	return rc;
}

void rove_report_today(uint64_t wall_ms, char out[ROVE_REPORT_DATE_SIZE])
{
	rove_cal_date((int64_t)(wall_ms / ROVE_DAY_MS), out);
}

/* The valid date in the first 10 characters of s into out, else "". */
static void copy_date(const char *s, char out[ROVE_REPORT_DATE_SIZE])
{
	int64_t dn;

	out[0] = '\0';
	if (date_prefix(s, &dn)) {
		memcpy(out, s, DATE_LEN);
		out[DATE_LEN] = '\0';
	}
}

/* ---- a record's facts (shared with report_agg.c) ---- */

const char *const *rpt_stages(void)
{
	static const char *const *stages;

	if (stages == NULL) {
		stages = rove_schema_field(rove_schema_coll(ROVE_COLL_OPPORTUNITY), "stage")->values;
		ROVE_ASSERT(strcmp(stages[STAGE_WON], "won") == 0 && strcmp(stages[STAGE_WON + 1], "lost") == 0);
	}
	return stages;
}

static void copy_name(const rove_fields *fs, const char *field, char out[ROVE_MAX_NAME + 1])
{
	const char *s = rove_fields_str(fs, field);

	snprintf(out, ROVE_MAX_NAME + 1, "%s", s != NULL ? s : "");
}

/* The customer a child record belongs to; false if it names none. */
static bool parent_of(const rove_record *rec, rove_uuid *id)
{
	const char *s = rove_fields_str(&rec->fs, "customer");

	return s != NULL && rove_uuid_parse(s, id) == ROVE_OK;
}

static unsigned stage_of(const rove_fields *fs)
{
	const char *const *stages = rpt_stages();
	const char *s = rove_fields_str(fs, "stage");

	for (unsigned i = 0; s != NULL && stages[i] != NULL; i++)
		if (strcmp(s, stages[i]) == 0)
			return i;
	return 0; /* a missing stage is a lead (the schema admits no other) */
}

bool rpt_cust_of(const rove_record *rec, rpt_cust *c)
{
	memset(c, 0, sizeof(*c));
	if (rec->coll != ROVE_COLL_CUSTOMER || rove_record_deleted(rec))
		return false;
	c->id = rec->id;
	copy_name(&rec->fs, "territory", c->territory);
	copy_name(&rec->fs, "owner", c->owner);
	copy_date(rove_fields_str(&rec->fs, "created_at"), c->created);
	return true;
}

/* A child record counts for its customer; one that names none, not. */
bool rpt_opp_of(const rove_record *rec, rpt_opp *o)
{
	memset(o, 0, sizeof(*o));
	if (rec->coll != ROVE_COLL_OPPORTUNITY || rove_record_deleted(rec) || !parent_of(rec, &o->customer))
		return false;
	copy_name(&rec->fs, "owner", o->owner);
	o->stage = stage_of(&rec->fs);
	if (!rove_fields_int(&rec->fs, "amount", &o->amount))
		o->amount = 0; /* a missing amount counts 0 */
	copy_date(rove_fields_str(&rec->fs, "closed_on"), o->closed);
	return true;
}

bool rpt_act_of(const rove_record *rec, rpt_act *a)
{
	memset(a, 0, sizeof(*a));
	if (rec->coll != ROVE_COLL_ACTIVITY || rove_record_deleted(rec) || !parent_of(rec, &a->customer))
		return false;
	copy_date(rove_fields_str(&rec->fs, "at"), a->at);
	return true;
}

bool rpt_target_of(const rove_record *rec, rpt_target *t)
{
	const char *period = rove_fields_str(&rec->fs, "period");

	memset(t, 0, sizeof(*t));
	if (rec->coll != ROVE_COLL_TARGET || rove_record_deleted(rec) || period == NULL ||
	    !rove_report_month_valid(period))
		return false;
	copy_name(&rec->fs, "user", t->user);
	memcpy(t->period, period, ROVE_REPORT_MONTH_SIZE);
	if (!rove_fields_int(&rec->fs, "amount", &t->amount))
		t->amount = 0;
	return true;
}

/* ---- gathering facts ---- */

int rove_report_data_new(rove_report_data **d)
{
	*d = calloc(1, sizeof(**d));
	if (*d == NULL)
		return ROVE_ENOMEM;
	vec_init(&(*d)->cust, sizeof(cust_fact));
	vec_init(&(*d)->opp, sizeof(opp_fact));
	vec_init(&(*d)->act, sizeof(act_fact));
	vec_init(&(*d)->target, sizeof(target_fact));
	vec_init(&(*d)->won, sizeof(rpt_won));
	vec_init(&(*d)->day, sizeof(rpt_day));
	(*d)->cust_sorted = true;
	(*d)->stages = rpt_stages();
	return ROVE_OK;
}

void rove_report_data_free(rove_report_data *d)
{
	if (d == NULL)
		return;
	free(d->cust.v);
	free(d->opp.v);
	free(d->act.v);
	free(d->target.v);
	free(d->won.v);
	free(d->day.v);
	rove_report_pipeline_free(&d->pipe);
	free(d);
}

int rove_report_add(rove_report_data *d, const rove_record *rec)
{
	void *p;

	ROVE_ASSERT(!d->agg);
	switch (rec->coll) {
	case ROVE_COLL_CUSTOMER: {
		cust_fact c;
		if (!rpt_cust_of(rec, &c))
			return ROVE_OK;
		if ((p = vec_push(&d->cust)) == NULL)
			return ROVE_ENOMEM;
		memcpy(p, &c, sizeof(c));
		if (d->cust.n > 1 && rove_uuid_cmp(&((cust_fact *)p)[-1].id, &c.id) >= 0)
			d->cust_sorted = false;
		return ROVE_OK;
	}
	case ROVE_COLL_OPPORTUNITY: {
		opp_fact o;
		if (!rpt_opp_of(rec, &o))
			return ROVE_OK;
		if ((p = vec_push(&d->opp)) == NULL)
			return ROVE_ENOMEM;
		memcpy(p, &o, sizeof(o));
		return ROVE_OK;
	}
	case ROVE_COLL_ACTIVITY: {
		act_fact a;
		if (!rpt_act_of(rec, &a))
			return ROVE_OK;
		if ((p = vec_push(&d->act)) == NULL)
			return ROVE_ENOMEM;
		memcpy(p, &a, sizeof(a));
		return ROVE_OK;
	}
	case ROVE_COLL_TARGET: {
		target_fact t;
		if (!rpt_target_of(rec, &t))
			return ROVE_OK;
		return rpt_data_add_target(d, &t);
	}
	default:
		return ROVE_OK;
	}
}

/* ---- filled from the aggregates (report_agg.c) ---- */

static int push_copy(vec *a, const void *item)
{
	void *p = vec_push(a);

	if (p == NULL)
		return ROVE_ENOMEM;
	memcpy(p, item, a->size);
	return ROVE_OK;
}

void rpt_data_take_pipeline(rove_report_data *d, rove_report_pipeline *p)
{
	rove_report_pipeline_free(&d->pipe);
	d->pipe = *p;
	memset(p, 0, sizeof(*p));
	d->agg = true;
}

int rpt_data_add_won(rove_report_data *d, const rpt_won *w)
{
	d->agg = true;
	return push_copy(&d->won, w);
}

int rpt_data_add_day(rove_report_data *d, const rpt_day *day)
{
	d->agg = true;
	return push_copy(&d->day, day);
}

int rpt_data_add_target(rove_report_data *d, const rpt_target *t)
{
	return push_copy(&d->target, t);
}

static int add_one(const rove_record *rec, void *arg)
{
	return rove_report_add(arg, rec);
}

int rove_report_load(rove_replica *r, rove_report_data *d)
{
	static const uint8_t colls[] = {ROVE_COLL_CUSTOMER, ROVE_COLL_OPPORTUNITY, ROVE_COLL_ACTIVITY,
					ROVE_COLL_TARGET};
	const char *scan = getenv(ROVE_REPORT_SCAN_ENV);
	bool used = false;
	int rc = ROVE_OK;

	ROVE_ASSERT(d->cust.n == 0 && d->opp.n == 0 && d->act.n == 0 && d->target.n == 0 && !d->agg);
	if (scan == NULL || strcmp(scan, "1") != 0)
		rc = rpt_agg_load(r, d, &used);
	if (rc != ROVE_OK || used)
		return rc;
	/* no sums, or ones a scan could disagree with: what was read of them goes */
	d->agg = false;
	d->won.n = d->day.n = d->target.n = 0;

	for (size_t i = 0; i < sizeof(colls) / sizeof(colls[0]) && rc == ROVE_OK; i++)
		rc = rove_replica_each(r, colls[i], add_one, d);
	return rc;
}

static int cust_cmp(const void *a, const void *b)
{
	return rove_uuid_cmp(&((const cust_fact *)a)->id, &((const cust_fact *)b)->id);
}

/* The live customer with that id, or NULL. */
static const cust_fact *customer(rove_report_data *d, const rove_uuid *id)
{
	cust_fact key;

	if (!d->cust_sorted) {
		qsort(d->cust.v, d->cust.n, sizeof(cust_fact), cust_cmp);
		d->cust_sorted = true;
	}
	key.id = *id;
	return d->cust.n ? bsearch(&key, d->cust.v, d->cust.n, sizeof(cust_fact), cust_cmp) : NULL;
}

/* ---- pipeline ---- */

/* Sums by key, kept sorted by key. The keys (territories, reps) are few,
 * so inserting in place is cheap. */
typedef struct tally {
	rove_report_sum *v;
	size_t n, cap;
} tally;

/* True if key is in t at *pos; else *pos is where it would go. */
static bool tally_find(const tally *t, const char *key, size_t *pos)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(t->v[mid].key, key);
		if (c == 0) {
			*pos = mid;
			return true;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*pos = lo;
	return false;
}

static int tally_add(tally *t, const char *key, int64_t amount)
{
	rove_report_sum *nv;
	size_t lo;

	if (tally_find(t, key, &lo)) {
		t->v[lo].count++;
		t->v[lo].amount = sat_add(t->v[lo].amount, amount);
		return ROVE_OK;
	}
	nv = rove_array_grow(t->v, &t->cap, t->n, 1, sizeof(*nv), 16);
	if (nv == NULL)
		return ROVE_ENOMEM;
	t->v = nv;
	memmove(&t->v[lo + 1], &t->v[lo], (t->n - lo) * sizeof(t->v[0]));
	t->n++;
	snprintf(t->v[lo].key, sizeof(t->v[lo].key), "%s", key);
	t->v[lo].count = 1;
	t->v[lo].amount = amount;
	return ROVE_OK;
}

/* The amount summed under key, 0 if none. */
static int64_t tally_get(const tally *t, const char *key)
{
	size_t pos;

	return tally_find(t, key, &pos) ? t->v[pos].amount : 0;
}

/* Who a deal is credited to: its owner, or for a deal from before deals
 * had owners its customer's ("" for a pool customer's). */
static const char *deal_owner(const opp_fact *o, const cust_fact *c)
{
	return o->owner[0] != '\0' ? o->owner : c->owner;
}

/* A copy of the sums in n rows of v into *out (NULL for none). */
static int sums_copy(const rove_report_sum *v, size_t n, rove_report_sum **out)
{
	*out = NULL;
	if (n == 0)
		return ROVE_OK;
	*out = malloc(n * sizeof(*v));
	if (*out == NULL)
		return ROVE_ENOMEM;
	memcpy(*out, v, n * sizeof(*v));
	return ROVE_OK;
}

/* A copy of from, which the caller frees (rove_report_pipeline_free). */
static int pipeline_copy(const rove_report_pipeline *from, rove_report_pipeline *p)
{
	int rc;

	*p = *from;
	p->territory = p->rep = NULL;
	rc = sums_copy(from->territory, from->nterritory, &p->territory);
	if (rc == ROVE_OK)
		rc = sums_copy(from->rep, from->nrep, &p->rep);
	if (rc != ROVE_OK) {
		rove_report_pipeline_free(p);
		memset(p, 0, sizeof(*p));
	}
	return rc;
}

int rove_report_pipeline_get(rove_report_data *d, rove_report_pipeline *p)
{
	const opp_fact *opps = d->opp.v;
	tally terr = {NULL, 0, 0}, rep = {NULL, 0, 0};
	int rc = ROVE_OK;

	if (d->agg)
		return pipeline_copy(&d->pipe, p);
	memset(p, 0, sizeof(*p));
	for (unsigned s = 0; s < ROVE_REPORT_OPEN_STAGES; s++)
		snprintf(p->stage[s].key, sizeof(p->stage[s].key), "%s", d->stages[s]);
	for (size_t i = 0; i < d->opp.n && rc == ROVE_OK; i++) {
		const opp_fact *o = &opps[i];
		const cust_fact *c;
		if (o->stage >= ROVE_REPORT_OPEN_STAGES)
			continue;
		c = customer(d, &o->customer);
		if (c == NULL)
			continue; /* a deal follows its customer */
		p->total.count++;
		p->total.amount = sat_add(p->total.amount, o->amount);
		p->stage[o->stage].count++;
		p->stage[o->stage].amount = sat_add(p->stage[o->stage].amount, o->amount);
		rc = tally_add(&terr, c->territory[0] ? c->territory : ROVE_REPORT_NO_TERRITORY, o->amount);
		if (rc == ROVE_OK)
			rc = tally_add(&rep, deal_owner(o, c)[0] ? deal_owner(o, c) : ROVE_REPORT_POOL, o->amount);
	}
	if (rc != ROVE_OK) {
		free(terr.v);
		free(rep.v);
		memset(p, 0, sizeof(*p));
		return rc;
	}
	p->territory = terr.v;
	p->nterritory = terr.n;
	p->rep = rep.v;
	p->nrep = rep.n;
	return ROVE_OK;
}

void rove_report_pipeline_free(rove_report_pipeline *p)
{
	free(p->territory);
	free(p->rep);
	p->territory = p->rep = NULL;
	p->nterritory = p->nrep = 0;
}

/* ---- targets ---- */

static int target_cmp(const void *a, const void *b)
{
	const rove_report_target *x = a, *y = b;
	int c = strcmp(x->user, y->user);

	if (c != 0)
		return c;
	return x->target < y->target ? -1 : x->target > y->target;
}

int rove_report_targets_get(rove_report_data *d, const char *period, rove_report_target **rows,
			    size_t *n)
{
	const target_fact *targets = d->target.v;
	const opp_fact *opps = d->opp.v;
	tally won = {NULL, 0, 0};
	rove_report_target *out = NULL;
	size_t k = 0;
	int rc = ROVE_OK;

	*rows = NULL;
	*n = 0;
	if (!rove_report_month_valid(period))
		return ROVE_EINVAL;
	/* Won this month, by the deal's owner (rule 14: whoever it is
	 * credited to, whoever owns the customer now). */
	for (size_t i = 0; i < d->opp.n && rc == ROVE_OK; i++) {
		const cust_fact *c;
		if (opps[i].stage != STAGE_WON || strncmp(opps[i].closed, period, MONTH_LEN) != 0)
			continue;
		c = customer(d, &opps[i].customer);
		if (c != NULL && deal_owner(&opps[i], c)[0] != '\0')
			rc = tally_add(&won, deal_owner(&opps[i], c), opps[i].amount);
	}
	/* Kept by the replica, already summed by month and rep. */
	for (size_t i = 0; i < d->won.n && rc == ROVE_OK; i++) {
		const rpt_won *w = (const rpt_won *)d->won.v + i;
		if (strcmp(w->month, period) == 0)
			rc = tally_add(&won, w->rep, w->amount);
	}
	if (rc == ROVE_OK && d->target.n > 0) {
		out = calloc(d->target.n, sizeof(*out));
		if (out == NULL)
			rc = ROVE_ENOMEM;
	}
	for (size_t i = 0; i < d->target.n && rc == ROVE_OK; i++) {
		rove_report_target *t = &out[k];
		if (strcmp(targets[i].period, period) != 0)
			continue;
		snprintf(t->user, sizeof(t->user), "%s", targets[i].user);
		memcpy(t->period, period, ROVE_REPORT_MONTH_SIZE);
		t->target = targets[i].amount;
		t->won = tally_get(&won, t->user);
		t->percent = percent(t->won, t->target);
		t->behind = t->won < t->target;
		k++;
	}
	free(won.v);
	if (rc != ROVE_OK) {
		free(out);
		return rc;
	}
	if (k == 0) {
		free(out);
		out = NULL;
	}
	if (k > 1)
		qsort(out, k, sizeof(*out), target_cmp);
	*rows = out;
	*n = k;
	return ROVE_OK;
}

/* ---- daily ---- */

/* Adds to the day at dn if it falls in [first, first + n). */
static int64_t *day_slot(int64_t *col, int64_t first, size_t n, const char *date)
{
	int64_t dn;

	if (date[0] == '\0' || !date_prefix(date, &dn) || dn < first || dn - first >= (int64_t)n)
		return NULL;
	return &col[dn - first];
}

int rove_report_daily_get(rove_report_data *d, const char *from, const char *to, rove_report_day **rows,
			  size_t *n)
{
	const cust_fact *custs = d->cust.v;
	const opp_fact *opps = d->opp.v;
	const act_fact *acts = d->act.v;
	int64_t first, last, *cnew, *cact, *cwon, *slot;
	rove_report_day *out;
	size_t days;

	*rows = NULL;
	*n = 0;
	if (!rove_report_date_valid(from) || !rove_report_date_valid(to) || !date_prefix(from, &first) ||
	    !date_prefix(to, &last) || first > last)
		return ROVE_EINVAL;
	if (last - first + 1 > ROVE_REPORT_MAX_DAYS)
		return ROVE_ETOOBIG;
	if (first == ROVE_CAL_FIRST_DAY)
		return ROVE_EINVAL; /* no day before 0001-01-01 to compare with */
	/* Slot 0 is the day before the range, for the first day's change. */
	days = (size_t)(last - first + 1);
	first--;
	cnew = calloc(3 * (days + 1), sizeof(int64_t));
	out = calloc(days, sizeof(*out));
	if (cnew == NULL || out == NULL) {
		free(cnew);
		free(out);
		return ROVE_ENOMEM;
	}
	cact = cnew + days + 1;
	cwon = cact + days + 1;
	for (size_t i = 0; i < d->cust.n; i++)
		if ((slot = day_slot(cnew, first, days + 1, custs[i].created)) != NULL)
			(*slot)++;
	for (size_t i = 0; i < d->act.n; i++)
		if ((slot = day_slot(cact, first, days + 1, acts[i].at)) != NULL &&
		    customer(d, &acts[i].customer) != NULL)
			(*slot)++;
	for (size_t i = 0; i < d->opp.n; i++)
		if (opps[i].stage == STAGE_WON && (slot = day_slot(cwon, first, days + 1, opps[i].closed)) != NULL &&
		    customer(d, &opps[i].customer) != NULL)
			*slot = sat_add(*slot, opps[i].amount);
	/* Kept by the replica, already summed by day. */
	for (size_t i = 0; i < d->day.n; i++) {
		const rpt_day *k = (const rpt_day *)d->day.v + i;
		if (k->day < first || k->day - first > (int64_t)days)
			continue;
		cnew[k->day - first] = k->new_customers;
		cact[k->day - first] = k->activities;
		cwon[k->day - first] = k->won_amount;
	}
	for (size_t i = 0; i < days; i++) {
		rove_report_day *r = &out[i];
		rove_cal_date(first + 1 + (int64_t)i, r->date);
		r->new_customers = cnew[i + 1];
		r->activities = cact[i + 1];
		r->won_amount = cwon[i + 1];
		r->new_customers_change = sat_sub(cnew[i + 1], cnew[i]);
		r->activities_change = sat_sub(cact[i + 1], cact[i]);
		r->won_amount_change = sat_sub(cwon[i + 1], cwon[i]);
	}
	free(cnew);
	*rows = out;
	*n = days;
	return ROVE_OK;
}
