/*
 * report.h - the figures behind `rove report`: the open pipeline, targets
 * against won deals, and daily activity, computed on what a replica holds.
 *
 * Why a module of its own: the reports are arithmetic over records (which
 * deals are open, whose customer a deal belongs to, which day a date falls
 * on), and that arithmetic is what users check against their own sums. It
 * lives here, apart from the replica and from printing, so it can be fed
 * records directly and its results checked figure by figure; cmd_report.c
 * only parses the command line and prints these results as a table, JSON
 * or CSV.
 *
 * Use: rove_report_data_init, then rove_report_add for each record (or
 * rove_report_load for everything a replica holds), then any of the
 * reports, then the matching _free and rove_report_data_free.
 *
 * A replica keeps the reports' sums up to date as records are written
 * (report_agg.c, the hooks at the end of this header), so that
 * rove_report_load reads a few hundred sums instead of every record; a
 * replica that keeps none (read only since they came in) is scanned.
 *
 * Rules shared by every report:
 *   - money is integer cents; sums saturate rather than overflow;
 *   - a date is the first 10 characters of a field (YYYY-MM-DD); a record
 *     whose date is missing or malformed does not count for that date;
 *   - a child record (opportunity, activity) counts only while its
 *     customer is live in the data: deleted records are never handed in
 *     (rove_replica_each skips them), and a deal follows its customer;
 *   - a deal's territory is its customer's; its rep is its owner, who is
 *     credited with it (rule 14), or for a deal from before deals had
 *     owners its customer's owner.
 */
#ifndef ROVE_REPORT_H
#define ROVE_REPORT_H

#include "record.h"
#include "replica.h"
#include "rove_limits.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of a date YYYY-MM-DD and of a month YYYY-MM, with their NUL. */
#define ROVE_REPORT_DATE_SIZE 11
#define ROVE_REPORT_MONTH_SIZE 8

/* The open stages of the funnel, in order; won and lost are closed. */
#define ROVE_REPORT_OPEN_STAGES 4

/* Keys of the pipeline's rows when the customer has no territory or no
 * owner (a public-pool customer). */
#define ROVE_REPORT_NO_TERRITORY "(none)"
#define ROVE_REPORT_POOL "(pool)"

/* Set to 1 in the environment, rove_report_load scans every record even
 * where the replica keeps the sums: how tests check the ones kept. */
#define ROVE_REPORT_SCAN_ENV "ROVE_REPORT_SCAN"

/* Facts gathered from the records; opaque to callers. */
typedef struct rove_report_data rove_report_data;

int rove_report_data_new(rove_report_data **d);
void rove_report_data_free(rove_report_data *d);
/* Takes the facts the reports need from one live record of any
 * collection (others are ignored). */
int rove_report_add(rove_report_data *d, const rove_record *rec);
/* The figures of the replica's live customers, opportunities, activities
 * and targets: from the sums the replica keeps, else rove_report_add for
 * every one of them. */
int rove_report_load(rove_replica *r, rove_report_data *d);

/* ---- pipeline: open deals by stage, territory and rep ---- */

typedef struct rove_report_sum {
	char key[ROVE_MAX_NAME + 1];
	int64_t count;
	int64_t amount;
} rove_report_sum;

typedef struct rove_report_pipeline {
	rove_report_sum total;                            /* key "" */
	rove_report_sum stage[ROVE_REPORT_OPEN_STAGES];   /* funnel order */
	rove_report_sum *territory;                       /* sorted by key */
	size_t nterritory;
	rove_report_sum *rep;                             /* sorted by key */
	size_t nrep;
} rove_report_pipeline;

int rove_report_pipeline_get(rove_report_data *d, rove_report_pipeline *p);
void rove_report_pipeline_free(rove_report_pipeline *p);

/* ---- targets: each target of a month against the rep's won deals ---- */

typedef struct rove_report_target {
	char user[ROVE_MAX_NAME + 1];
	char period[ROVE_REPORT_MONTH_SIZE]; /* YYYY-MM */
	int64_t target;
	int64_t won;
	int64_t percent; /* floor(won * 100 / target); 0 when target <= 0 */
	bool behind;     /* won < target */
} rove_report_target;

/* One row per target record of period (YYYY-MM), sorted by user; the won
 * amount is the sum of won deals closed in that month whose customer the
 * user owns. *rows is malloc'd (NULL when *n is 0). */
int rove_report_targets_get(rove_report_data *d, const char *period, rove_report_target **rows,
			    size_t *n);

/* ---- daily: new customers, activities and won amounts per day ---- */

typedef struct rove_report_day {
	char date[ROVE_REPORT_DATE_SIZE]; /* YYYY-MM-DD */
	int64_t new_customers;
	int64_t activities;
	int64_t won_amount;
	/* each minus the day before's (for the first day, the day before the
	 * range, computed from the data as well) */
	int64_t new_customers_change;
	int64_t activities_change;
	int64_t won_amount_change;
} rove_report_day;

/* One row per day from..to (YYYY-MM-DD, inclusive). ROVE_EINVAL for a bad
 * date or from after to, ROVE_ETOOBIG past ROVE_REPORT_MAX_DAYS. *rows is
 * malloc'd. */
int rove_report_daily_get(rove_report_data *d, const char *from, const char *to, rove_report_day **rows,
			  size_t *n);

/* ---- dates ---- */

/* True if s is a real date YYYY-MM-DD (exactly, nothing after). */
bool rove_report_date_valid(const char *s);
/* True if s is a real month YYYY-MM (exactly). */
bool rove_report_month_valid(const char *s);
/* The date days after (or before, if negative) date into out;
 * ROVE_EINVAL if date is not valid. */
int rove_report_date_add(const char *date, int days, char out[ROVE_REPORT_DATE_SIZE]);
/* True if a valid date or month (above) lies in the years rove keeps
 * dates of (ROVE_DATE_MIN to ROVE_DATE_MAX): no record holds one outside,
 * so a report asked for one is a typing mistake. */
bool rove_report_in_years(const char *s);
/* The start of a daily report ending on to that is given none: the
 * ROVE_REPORT_DEFAULT_DAYS days up to to, but not before ROVE_DATE_MIN.
 * ROVE_EINVAL if to is not a valid date. */
int rove_report_default_from(const char *to, char from[ROVE_REPORT_DATE_SIZE]);
/* Today's date in UTC from Unix milliseconds into out. */
void rove_report_today(uint64_t wall_ms, char out[ROVE_REPORT_DATE_SIZE]);

/* ---- the sums a replica keeps (report_agg.c) ----
 *
 * Each base of the replica has a table of sums beside it (report0 beside
 * base0, report1 beside base1): the base's sums are those of what the
 * user sees (base with the view on top). The replica calls the hooks
 * below in the transaction of every write of a record, so the sums change
 * with the records or not at all, while they are kept: meta
 * "report_sums/0", "report_sums/1" 1 while base0's, base1's are. A
 * snapshot is built aside without them (keeping them chunk by chunk cost
 * a bootstrap half its CPU again); the base it becomes, and a replica
 * from before them, get them when a report first reads them (one write
 * transaction); until then writes keep none, and a replica opened read
 * only scans. */

/* At open, after the replica's own tables: opens the tables of sums, on
 * a writable replica that has none yet made empty (not kept). */
int rove_report_sums_attach(rove_replica *r);

/* Before record rec is put into table dbi (a base or the view) of r's
 * environment, in txn: its old value is read from the table. */
int rove_report_sums_put(MDB_txn *txn, MDB_dbi dbi, const rove_record *rec);
/* After rec was put into dbi where it had no value. */
int rove_report_sums_added(MDB_txn *txn, MDB_dbi dbi, const rove_record *rec);
/* Before record coll/id is deleted from dbi. */
int rove_report_sums_del(MDB_txn *txn, MDB_dbi dbi, uint8_t coll, const rove_uuid *id);
/* After base dbi was emptied (mdb_drop). */
int rove_report_sums_dropped(MDB_txn *txn, MDB_dbi dbi);
/* Before the view is emptied (mdb_drop) while nothing is pending: each
 * of its records gives way to the base's, as rove_report_sums_del. */
int rove_report_sums_view_dropped(MDB_txn *txn);

#endif
