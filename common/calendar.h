/*
 * calendar.h - dates and times of the Gregorian calendar, in UTC.
 *
 * rove keeps dates and times as ISO 8601 text (YYYY-MM-DD, YYYY-MM,
 * YYYY-MM-DDTHH:MM[:SS][Z]) and reasons about them in days: whether a
 * date is a real one (valid data, rule 13), how long a customer has been
 * idle or since it was released (the pool rules), which day a deal was
 * won (the reports). This module is that arithmetic, once, for the server
 * and the command line alike, so that a date means the same to both.
 *
 * Pure: it reads no clock and knows no time zone (a local time is the
 * schema's to convert, rove_schema_clean_op). Years run from 1 to 9999,
 * the ones with four digits; a day number counts days from 1970-01-01
 * (day 0), negative before it.
 */
#ifndef ROVE_CALENDAR_H
#define ROVE_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Milliseconds in a day: UTC has no leap seconds that count. */
#define ROVE_DAY_MS 86400000ll

/* Bytes of a date YYYY-MM-DD and of a time YYYY-MM-DDTHH:MM:SSZ, with
 * their NUL. */
#define ROVE_DATE_SIZE 11
#define ROVE_TIME_SIZE 21

/* The day numbers of 0001-01-01 and 9999-12-31, the first and last day. */
#define ROVE_CAL_FIRST_DAY (-719162ll)
#define ROVE_CAL_LAST_DAY  2932896ll

bool rove_cal_leap(int64_t year);
/* Days in month (1 to 12) of year. */
int rove_cal_month_days(int64_t year, int month);

/* The day number of a real date of years 1 to 9999. */
int64_t rove_cal_day(int64_t year, int month, int day);

/* Reads the date at s: YYYY-MM-DD (len 10) or YYYY-MM (len 7, read as
 * its first day), digits and dashes where they go, a real day of years 1
 * to 9999; *day gets its day number. False for anything else (s holds
 * at least len bytes, and nothing after them is read). */
bool rove_cal_parse_date(const char *s, size_t len, int64_t *day);

/* Reads the time at s: a date YYYY-MM-DD (its first millisecond), or a
 * date and time YYYY-MM-DDTHH:MM, YYYY-MM-DDTHH:MMZ, YYYY-MM-DDTHH:MM:SS
 * or YYYY-MM-DDTHH:MM:SSZ (hours to 23, minutes and seconds to 59), read
 * as UTC: *ms gets milliseconds since 1970 (negative before), *zoned
 * whether it ends in Z (says it is UTC). False for anything else. */
bool rove_cal_parse_time(const char *s, size_t len, int64_t *ms, bool *zoned);

/* Writes the date of day number day as YYYY-MM-DD (a day outside years 1
 * to 9999 as the first or last one). */
void rove_cal_date(int64_t day, char out[ROVE_DATE_SIZE]);

/* Writes a time in milliseconds since 1970 as YYYY-MM-DDTHH:MM:SSZ (the
 * seconds cut, not rounded; a time after ROVE_MAX_WALL_MS as that one). */
void rove_cal_time(uint64_t ms, char out[ROVE_TIME_SIZE]);

#endif
