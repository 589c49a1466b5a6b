#include "calendar.h"

#include "rove_assert.h"
#include "rove_limits.h"

/* Days from 0001-01-01 to the first of January of year (1 or later):
 * a leap day every fourth year, but not in a century's unless it is a
 * fourth century's. */
static int64_t days_before_year(int64_t year)
{
	int64_t y = year - 1;

	return y * 365 + y / 4 - y / 100 + y / 400;
}

/* 0001-01-01 counted from 1970-01-01 is ROVE_CAL_FIRST_DAY. */
#define DAYS_TO_1970 719162

bool rove_cal_leap(int64_t year)
{
	return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

int rove_cal_month_days(int64_t year, int month)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	ROVE_ASSERT(month >= 1 && month <= 12);
	return month == 2 && rove_cal_leap(year) ? 29 : days[month - 1];
}

int64_t rove_cal_day(int64_t year, int month, int day)
{
	static const int before[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};

	ROVE_ASSERT(year >= 1 && year <= 9999 && month >= 1 && month <= 12 && day >= 1 &&
		    day <= rove_cal_month_days(year, month));
	return days_before_year(year) + before[month - 1] + (month > 2 && rove_cal_leap(year)) + day - 1 - DAYS_TO_1970;
}

/* The n digits at s as a number, or -1 if one is not a digit. */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

bool rove_cal_parse_date(const char *s, size_t len, int64_t *day)
{
	int y, m, d = 1;

	if (len != 7 && len != 10)
		return false;
	if (s[4] != '-' || (len == 10 && s[7] != '-'))
		return false;
	y = digits(s, 4);
	m = digits(s + 5, 2);
	if (len == 10)
		d = digits(s + 8, 2);
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > rove_cal_month_days(y, m))
		return false;
	*day = rove_cal_day(y, m, d);
	return true;
}

bool rove_cal_parse_time(const char *s, size_t len, int64_t *ms, bool *zoned)
{
	/* The shape of the longest form; YYYY-MM-DDTHH:MMZ puts its Z at 16. */
	static const char shape[] = "DDDD-DD-DDTDD:DD:DDZ";
	int64_t day;
	int h = 0, mi = 0, sec = 0;

	if (len != 10 && len != 16 && len != 17 && len != 19 && len != 20)
		return false;
	if (!rove_cal_parse_date(s, 10, &day))
		return false;
	for (size_t i = 10; i < len; i++) {
		char want = len == 17 && i == 16 ? 'Z' : shape[i];
		if (want == 'D' ? s[i] < '0' || s[i] > '9' : s[i] != want)
			return false;
	}
	if (len >= 16) {
		h = digits(s + 11, 2);
		mi = digits(s + 14, 2);
	}
	if (len >= 19)
		sec = digits(s + 17, 2);
	if (h > 23 || mi > 59 || sec > 59)
		return false;
	*ms = ((day * 24 + h) * 60 + mi) * 60000 + sec * 1000;
	*zoned = s[len - 1] == 'Z';
	return true;
}

/* Writes v as width decimal digits at out. */
static void put_digits(char *out, int width, int64_t v)
{
	for (int i = width - 1; i >= 0; i--, v /= 10)
		out[i] = (char)('0' + v % 10);
}

void rove_cal_date(int64_t day, char out[ROVE_DATE_SIZE])
{
	int64_t n, y;
	int m = 1;

	if (day < ROVE_CAL_FIRST_DAY)
		day = ROVE_CAL_FIRST_DAY;
	if (day > ROVE_CAL_LAST_DAY)
		day = ROVE_CAL_LAST_DAY;
	n = day + DAYS_TO_1970; /* days since 0001-01-01 */
	/* 146097 days in 400 years: a guess one year off at most. */
	y = n * 400 / 146097 + 1;
	while (y > 1 && days_before_year(y) > n)
		y--;
	while (days_before_year(y + 1) <= n)
		y++;
	n -= days_before_year(y);
	while (n >= rove_cal_month_days(y, m))
		n -= rove_cal_month_days(y, m++);
	put_digits(out, 4, y);
	out[4] = '-';
	put_digits(out + 5, 2, m);
	out[7] = '-';
	put_digits(out + 8, 2, n + 1);
	out[10] = '\0';
}

void rove_cal_time(uint64_t ms, char out[ROVE_TIME_SIZE])
{
	uint64_t sec;

	if (ms > ROVE_MAX_WALL_MS)
		ms = ROVE_MAX_WALL_MS;
	rove_cal_date((int64_t)(ms / ROVE_DAY_MS), out);
	sec = ms % ROVE_DAY_MS / 1000;
	out[10] = 'T';
	put_digits(out + 11, 2, (int64_t)(sec / 3600));
	out[13] = ':';
	put_digits(out + 14, 2, (int64_t)(sec / 60 % 60));
	out[16] = ':';
	put_digits(out + 17, 2, (int64_t)(sec % 60));
	out[19] = 'Z';
	out[20] = '\0';
}
