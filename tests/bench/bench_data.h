/*
 * bench_data.h - the benchmark data set, shared by the loader (which sends
 * it to a server as ops) and the LMDB baseline (which stores the same
 * records straight into LMDB), so both handle records of the same shape
 * and encoded size.
 *
 * Customer i lives in territory i % T and belongs to owner (i / T) % K of
 * that territory, except with `lead`: then all of the first territory's
 * customers belong to its first owner (rep01-1), so that one rep holds a
 * whole territory's customers (2,000 at any scale) while the others share
 * theirs. Each customer has `contacts` contacts and `activities`
 * activities. The server adds to every customer an ownership record (its
 * creation) and the fields it keeps itself (created_at, last_activity_at,
 * an activity's author); bench_data's *_server functions add the same, for
 * the baseline.
 */
#ifndef ROVE_BENCH_DATA_H
#define ROVE_BENCH_DATA_H

#include "record.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bench_shape {
	uint32_t customers;
	uint32_t territories; /* T */
	uint32_t owners;      /* K per territory */
	uint32_t contacts;    /* per customer */
	uint32_t activities;  /* per customer */
	uint32_t run;         /* makes names, tax ids and phones unique per load */
	bool lead;            /* territory 0's customers all to its owner 0 */
} bench_shape;

/* Territory t's code ("t07" or with a run, "r2t07"), and the login of its
 * k-th owner ("rep07-1"; with a run "r2rep07-1"). */
void bench_territory_code(const bench_shape *s, uint32_t t, char *out, size_t len);
void bench_owner_login(const bench_shape *s, uint32_t t, uint32_t k, char *out, size_t len);
/* Which territory and owner customer i has. */
uint32_t bench_customer_territory(const bench_shape *s, uint32_t i);
uint32_t bench_customer_owner(const bench_shape *s, uint32_t i);

/* The fields a client sends, set into fs under stamp st. */
int bench_customer_fields(const bench_shape *s, uint32_t i, rove_fields *fs, rove_stamp st);
int bench_contact_fields(const bench_shape *s, uint32_t i, uint32_t j, const char *customer_id,
			 rove_fields *fs, rove_stamp st);
int bench_activity_fields(const bench_shape *s, uint32_t i, uint32_t j, const char *customer_id,
			  rove_fields *fs, rove_stamp st);

/* The fields the server adds, for records stored as the server keeps them. */
int bench_customer_server_fields(const bench_shape *s, uint32_t i, rove_fields *fs, rove_stamp st);
int bench_activity_server_fields(const char *author, rove_fields *fs, rove_stamp st);
int bench_ownership_fields(const bench_shape *s, uint32_t i, const char *customer_id, const char *by,
			   rove_fields *fs, rove_stamp st);

/* An activity's time "at": within the last 30 days, so reports see it. */
void bench_activity_time(uint32_t i, uint32_t j, char out[32]);

/* Seconds on the monotonic clock. */
double bench_now(void);

/* Sorts v ascending (for medians and percentiles). */
void bench_sort(double *v, size_t n);

/* Reads a token (ROVE_TOKEN_HEX characters) from the first word of the
 * file at path; -1 if it cannot. */
int bench_read_token(const char *path, char out[ROVE_TOKEN_HEX + 1]);

#endif
