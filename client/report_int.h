/*
 * report_int.h - what the report module's two parts share: report.c (the
 * figures, and the scan that gathers facts from every record) and
 * report_agg.c (the aggregates a replica keeps up to date as records are
 * written). Not for use outside them; the rest of the client uses
 * report.h.
 *
 * Both take a record's facts with the same functions below, so that a
 * figure kept up to date and the same figure computed by a scan cannot
 * disagree on what a record says.
 */
#ifndef ROVE_REPORT_INT_H
#define ROVE_REPORT_INT_H

#include "report.h"

#include <stdbool.h>
#include <stdint.h>

#define RPT_DATE_LEN (ROVE_REPORT_DATE_SIZE - 1)   /* YYYY-MM-DD */
#define RPT_MONTH_LEN (ROVE_REPORT_MONTH_SIZE - 1) /* YYYY-MM */

/* A deal's stage is an index into the values of the schema's stage field,
 * in funnel order: the first ROVE_REPORT_OPEN_STAGES are open, won comes
 * next, then lost (rove_report_data_new checks). */
#define RPT_STAGE_WON ROVE_REPORT_OPEN_STAGES

typedef struct rpt_cust {
	rove_uuid id;
	char territory[ROVE_MAX_NAME + 1];   /* "" if none */
	char owner[ROVE_MAX_NAME + 1];       /* "" if in the pool */
	char created[ROVE_REPORT_DATE_SIZE]; /* "" if unknown */
} rpt_cust;

typedef struct rpt_opp {
	rove_uuid customer;
	char owner[ROVE_MAX_NAME + 1]; /* who is credited; "" if none (a deal
					* from before deals had owners: its
					* customer's owner then) */
	unsigned stage;                /* index into the stage field's values */
	int64_t amount;
	char closed[ROVE_REPORT_DATE_SIZE];
} rpt_opp;

typedef struct rpt_act {
	rove_uuid customer;
	char at[ROVE_REPORT_DATE_SIZE];
} rpt_act;

typedef struct rpt_target {
	char user[ROVE_MAX_NAME + 1];
	char period[ROVE_REPORT_MONTH_SIZE];
	int64_t amount;
} rpt_target;

/* The schema's stage names, NULL-terminated, in funnel order. */
const char *const *rpt_stages(void);

/* The facts of a record of each collection that counts, into out; false
 * when it counts for nothing: deleted, a child naming no customer, a
 * target without a valid period. */
bool rpt_cust_of(const rove_record *rec, rpt_cust *out);
bool rpt_opp_of(const rove_record *rec, rpt_opp *out);
bool rpt_act_of(const rove_record *rec, rpt_act *out);
bool rpt_target_of(const rove_record *rec, rpt_target *out);

/* Fills d from the aggregates the replica keeps: *used false (d left
 * empty) when it keeps none (a replica that could not be written since
 * they came in) or when their sums could differ from a scan's (money
 * past what int64 holds exactly, see report_agg.c). */
int rpt_agg_load(rove_replica *r, rove_report_data *d, bool *used);

/* What rpt_agg_load fills in d (report.c's struct holds them). */
typedef struct rpt_won {
	char month[ROVE_REPORT_MONTH_SIZE];
	char rep[ROVE_MAX_NAME + 1];
	int64_t amount;
} rpt_won;

typedef struct rpt_day {
	int64_t day; /* day number (calendar.h) */
	int64_t new_customers, activities, won_amount;
} rpt_day;

/* Takes p's rows (p is left empty). */
void rpt_data_take_pipeline(rove_report_data *d, rove_report_pipeline *p);
int rpt_data_add_won(rove_report_data *d, const rpt_won *w);
int rpt_data_add_day(rove_report_data *d, const rpt_day *day);
int rpt_data_add_target(rove_report_data *d, const rpt_target *t);

#endif
