/*
 * test_calendar.c - the calendar (common/calendar.h) against the C
 * library's gmtime, over every day of years 1 to 9999, and its readers'
 * edges.
 */
#include "calendar.h"
#include "check.h"
#include "rove_limits.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Every day: the day number and the date agree with gmtime's, and read
 * back to the same day number. */
static void test_every_day(void)
{
	int64_t want = ROVE_CAL_FIRST_DAY;
	int bad = 0;

	for (int64_t day = ROVE_CAL_FIRST_DAY; day <= ROVE_CAL_LAST_DAY; day++) {
		char got[ROVE_DATE_SIZE], lib[32];
		time_t t = (time_t)(day * 86400);
		struct tm tm;
		int64_t back = 0;

		rove_cal_date(day, got);
		if (gmtime_r(&t, &tm) == NULL || strftime(lib, sizeof(lib), "%Y-%m-%d", &tm) == 0)
			snprintf(lib, sizeof(lib), "?");
		/* glibc writes years before 1000 without leading zeros. */
		if (tm.tm_year + 1900 < 1000)
			snprintf(lib, sizeof(lib), "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
		if ((strcmp(got, lib) != 0 || !rove_cal_parse_date(got, 10, &back) || back != day) && bad++ < 5)
			fprintf(stderr, "day %lld: %s, gmtime %s, read back %lld\n", (long long)day, got, lib,
				(long long)back);
		want++;
	}
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(want, ROVE_CAL_LAST_DAY + 1);
	CHECK_EQ_INT(rove_cal_day(1970, 1, 1), 0);
	CHECK_EQ_INT(rove_cal_day(1, 1, 1), ROVE_CAL_FIRST_DAY);
	CHECK_EQ_INT(rove_cal_day(9999, 12, 31), ROVE_CAL_LAST_DAY);
}

static void test_dates(void)
{
	char out[ROVE_DATE_SIZE];
	int64_t day = 0;

	CHECK(rove_cal_parse_date("2024-02-29", 10, &day) && day == rove_cal_day(2024, 2, 29));
	CHECK(!rove_cal_parse_date("2023-02-29", 10, &day)); /* not a leap year */
	CHECK(!rove_cal_parse_date("1900-02-29", 10, &day)); /* a century's */
	CHECK(rove_cal_parse_date("2000-02-29", 10, &day));  /* a fourth century's */
	CHECK(!rove_cal_parse_date("2026-04-31", 10, &day));
	CHECK(!rove_cal_parse_date("2026-13-01", 10, &day));
	CHECK(!rove_cal_parse_date("2026-00-10", 10, &day));
	CHECK(!rove_cal_parse_date("0000-01-01", 10, &day));
	CHECK(!rove_cal_parse_date("2026/01/01", 10, &day));
	CHECK(!rove_cal_parse_date("2026-1-01x", 10, &day));
	CHECK(!rove_cal_parse_date("2026-01-01", 9, &day));
	CHECK(rove_cal_parse_date("2026-11", 7, &day) && day == rove_cal_day(2026, 11, 1));
	CHECK(!rove_cal_parse_date("2026-1x", 7, &day));
	/* Out of range days are written as the first or last one. */
	rove_cal_date(ROVE_CAL_FIRST_DAY - 1, out);
	CHECK_EQ_INT(strcmp(out, "0001-01-01"), 0);
	rove_cal_date(ROVE_CAL_LAST_DAY + 1, out);
	CHECK_EQ_INT(strcmp(out, "9999-12-31"), 0);
}

static void test_times(void)
{
	static const char *const bad[] = {
	    "2026-12-01T",
	    "2026-12-01T12",
	    "2026-12-01T24:00",
	    "2026-12-01T12:60",
	    "2026-12-01T12:00:60",
	    "2026-12-01 12:00",
	    "2026-12-01T12:00:00+08",
	    "2026-12-01T12:00Z0",
	    "2026-12-01T12:00:0Z",
	    "2026-12-32T12:00:00Z",
	    "yesterday",
	    "",
	};
	char out[ROVE_TIME_SIZE];
	int64_t ms = 0;
	bool zoned = true;

	CHECK(rove_cal_parse_time("2026-12-01T12:20:00Z", 20, &ms, &zoned) && zoned);
	CHECK_EQ_INT(ms, (rove_cal_day(2026, 12, 1) * 24 * 60 + 12 * 60 + 20) * 60000);
	CHECK(rove_cal_parse_time("2026-12-01T12:20Z", 17, &ms, &zoned) && zoned);
	CHECK(rove_cal_parse_time("2026-12-01T12:20:07", 19, &ms, &zoned) && !zoned);
	CHECK_EQ_INT(ms % 60000, 7000);
	CHECK(rove_cal_parse_time("2026-12-01T12:20", 16, &ms, &zoned) && !zoned);
	CHECK(rove_cal_parse_time("2026-12-01", 10, &ms, &zoned) && !zoned);
	CHECK_EQ_INT(ms, rove_cal_day(2026, 12, 1) * ROVE_DAY_MS);
	CHECK(rove_cal_parse_time("1969-12-31T23:59:59Z", 20, &ms, &zoned) && ms == -1000);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (rove_cal_parse_time(bad[i], strlen(bad[i]), &ms, &zoned))
			fprintf(stderr, "'%s' read as a time\n", bad[i]);
		CHECK(!rove_cal_parse_time(bad[i], strlen(bad[i]), &ms, &zoned));
	}

	rove_cal_time(0, out);
	CHECK_EQ_INT(strcmp(out, "1970-01-01T00:00:00Z"), 0);
	rove_cal_time(1764591607999ull, out); /* the milliseconds are cut */
	CHECK_EQ_INT(strcmp(out, "2025-12-01T12:20:07Z"), 0);
	rove_cal_time(ROVE_MAX_WALL_MS, out);
	CHECK_EQ_INT(strcmp(out, "9999-12-31T23:59:59Z"), 0);
	rove_cal_time(UINT64_MAX, out);
	CHECK_EQ_INT(strcmp(out, "9999-12-31T23:59:59Z"), 0);
	/* What it writes, it reads back. */
	CHECK(rove_cal_parse_time(out, strlen(out), &ms, &zoned) && zoned && ms == (int64_t)ROVE_MAX_WALL_MS - 999);
}

int main(void)
{
	test_every_day();
	test_dates();
	test_times();
	return check_done("test_calendar");
}
