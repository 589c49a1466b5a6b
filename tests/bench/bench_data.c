#include "bench_data.h"

#include "err.h"
#include "hlc.h"
#include "ident.h"
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const tiers[] = {"prospect", "customer", "loyal"};
static const char *const kinds[] = {"visit", "call", "note"};
static const char *const titles[] = {"Purchasing Manager", "General Manager", "Plant Director",
				     "Finance Officer"};
static const char *const districts[] = {"Pudong", "Minhang", "Jiading", "Songjiang", "Baoshan"};

void bench_territory_code(const bench_shape *s, uint32_t t, char *out, size_t len)
{
	if (s->run != 0)
		snprintf(out, len, "r%ut%02u", s->run, t + 1);
	else
		snprintf(out, len, "t%02u", t + 1);
}

void bench_owner_login(const bench_shape *s, uint32_t t, uint32_t k, char *out, size_t len)
{
	if (s->run != 0)
		snprintf(out, len, "r%urep%02u-%u", s->run, t + 1, k + 1);
	else
		snprintf(out, len, "rep%02u-%u", t + 1, k + 1);
}

uint32_t bench_customer_territory(const bench_shape *s, uint32_t i)
{
	return i % s->territories;
}

uint32_t bench_customer_owner(const bench_shape *s, uint32_t i)
{
	if (s->lead && bench_customer_territory(s, i) == 0)
		return 0;
	return (i / s->territories) % s->owners;
}

static int set_str(rove_fields *fs, const char *name, const char *val, rove_stamp st)
{
	return rove_fields_set(fs, name, rove_vcstr(val), st);
}

int bench_customer_fields(const bench_shape *s, uint32_t i, rove_fields *fs, rove_stamp st)
{
	uint32_t t = bench_customer_territory(s, i);
	char buf[128], code[ROVE_MAX_NAME + 1], owner[ROVE_MAX_NAME + 1];
	int rc;

	bench_territory_code(s, t, code, sizeof(code));
	bench_owner_login(s, t, bench_customer_owner(s, i), owner, sizeof(owner));
	snprintf(buf, sizeof(buf), "Bench Trading %u-%07u Co., Ltd.", s->run, i);
	rc = set_str(fs, "name", buf, st);
	/* A 统一社会信用代码 unique per run and customer, its check character
	 * computed (17 multiplications: nothing next to the LMDB write). */
	snprintf(buf, sizeof(buf), "9131B%03u%09u", s->run % 1000, i);
	buf[ROVE_TAXID_LEN - 1] = rove_taxid_check_char(buf);
	buf[ROVE_TAXID_LEN] = '\0';
	if (rc == ROVE_OK)
		rc = set_str(fs, "tax_id", buf, st);
	snprintf(buf, sizeof(buf), "021-%03u-%07u", s->run % 1000, i);
	if (rc == ROVE_OK)
		rc = set_str(fs, "phone", buf, st);
	snprintf(buf, sizeof(buf), "No. %u Bench Road, %s District, Shanghai", i % 997 + 1, districts[i % 5]);
	if (rc == ROVE_OK)
		rc = set_str(fs, "address", buf, st);
	if (rc == ROVE_OK)
		rc = set_str(fs, "tier", tiers[i % 3], st);
	if (rc == ROVE_OK)
		rc = set_str(fs, "territory", code, st);
	if (rc == ROVE_OK)
		rc = set_str(fs, "owner", owner, st);
	return rc;
}

int bench_contact_fields(const bench_shape *s, uint32_t i, uint32_t j, const char *customer_id,
			 rove_fields *fs, rove_stamp st)
{
	char buf[128];
	int rc = set_str(fs, "customer", customer_id, st);

	snprintf(buf, sizeof(buf), "Contact %u of customer %u", j + 1, i);
	if (rc == ROVE_OK)
		rc = set_str(fs, "name", buf, st);
	snprintf(buf, sizeof(buf), "139%04u%04u", (i / 10000 + j * 7) % 10000, i % 10000);
	if (rc == ROVE_OK)
		rc = set_str(fs, "phone", buf, st);
	snprintf(buf, sizeof(buf), "contact%u.%u.%u@example.com", j + 1, s->run, i);
	if (rc == ROVE_OK)
		rc = set_str(fs, "email", buf, st);
	if (rc == ROVE_OK)
		rc = set_str(fs, "title", titles[(i + j) % 4], st);
	return rc;
}

void bench_activity_time(uint32_t i, uint32_t j, char out[32])
{
	time_t t = time(NULL) - (time_t)((i * 2593u + j * 7919u) % (30u * 86400u));
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int bench_activity_fields(const bench_shape *s, uint32_t i, uint32_t j, const char *customer_id,
			  rove_fields *fs, rove_stamp st)
{
	char buf[160], at[32];
	int rc = set_str(fs, "customer", customer_id, st);

	(void)s;
	bench_activity_time(i, j, at);
	if (rc == ROVE_OK)
		rc = set_str(fs, "kind", kinds[(i + j) % 3], st);
	if (rc == ROVE_OK)
		rc = set_str(fs, "at", at, st);
	snprintf(buf, sizeof(buf), "Visited the plant; discussed next quarter's order (%u units) and the "
		 "delivery schedule.", (i % 50 + 1) * 100);
	if (rc == ROVE_OK)
		rc = set_str(fs, "note", buf, st);
	return rc;
}

static void iso_now(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int bench_customer_server_fields(const bench_shape *s, uint32_t i, rove_fields *fs, rove_stamp st)
{
	char now[32], at[32];
	int rc;

	iso_now(now);
	rc = set_str(fs, "created_at", now, st);
	if (rc == ROVE_OK && s->activities > 0) {
		bench_activity_time(i, 0, at);
		rc = set_str(fs, "last_activity_at", at, st);
	}
	return rc;
}

int bench_activity_server_fields(const char *author, rove_fields *fs, rove_stamp st)
{
	return set_str(fs, "author", author, st);
}

int bench_ownership_fields(const bench_shape *s, uint32_t i, const char *customer_id, const char *by,
			   rove_fields *fs, rove_stamp st)
{
	char owner[ROVE_MAX_NAME + 1], now[32];
	int rc = set_str(fs, "customer", customer_id, st);

	bench_owner_login(s, bench_customer_territory(s, i), bench_customer_owner(s, i), owner, sizeof(owner));
	iso_now(now);
	if (rc == ROVE_OK)
		rc = set_str(fs, "event", "create", st);
	if (rc == ROVE_OK)
		rc = set_str(fs, "to", owner, st);
	if (rc == ROVE_OK)
		rc = set_str(fs, "by", by, st);
	if (rc == ROVE_OK)
		rc = set_str(fs, "at", now, st);
	return rc;
}

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void bench_sort(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
}

int bench_read_token(const char *path, char out[ROVE_TOKEN_HEX + 1])
{
	FILE *f = fopen(path, "r");
	int n;

	if (f == NULL)
		return -1;
	n = fscanf(f, "%64s", out);
	fclose(f);
	return n == 1 && strlen(out) == ROVE_TOKEN_HEX ? 0 : -1;
}
