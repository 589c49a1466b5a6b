/* Each user's bucket of changes (server/rate.h): a burst at once, then a
 * rate; users apart; the table bounded. */
#include "check.h"
#include "err.h"
#include "rate.h"
#include "rove_limits.h"

#include <stdint.h>

static void test_bucket(void)
{
	rove_rate *r;
	uint64_t wait;

	CHECK_EQ_INT(rove_rate_new(&r, 3000, 50), ROVE_OK);
	CHECK(rove_rate_take(r, 7, 1000, 1000, &wait));
	CHECK(rove_rate_take(r, 7, 2000, 1000, &wait));
	CHECK_EQ_INT(wait, 0);
	/* empty: 1,000 more need 20 s at 50 a second */
	CHECK(!rove_rate_take(r, 7, 1000, 1000, &wait));
	CHECK_EQ_INT(wait, 20000);
	/* another user has a bucket of his own */
	CHECK(rove_rate_take(r, 8, 3000, 1000, &wait));
	/* 19.99 s later: 999.5 ops, not enough; nothing taken by asking */
	CHECK(!rove_rate_take(r, 7, 1000, 20990, &wait));
	CHECK_EQ_INT(wait, 10);
	CHECK(rove_rate_take(r, 7, 1000, 21000, &wait));
	CHECK(!rove_rate_take(r, 7, 1, 21000, &wait));
	CHECK_EQ_INT(wait, 20);
	/* refilled, never past the burst */
	CHECK(rove_rate_take(r, 7, 3000, 21000 + 3600000, &wait));
	CHECK(!rove_rate_take(r, 7, 1, 21000 + 3600000, &wait));
	rove_rate_free(r);
}

/* Users past the table's size: those refilled make room; when none can,
 * a newcomer passes unmetered. */
static void test_many(void)
{
	rove_rate *r;
	uint64_t wait;

	CHECK_EQ_INT(rove_rate_new(&r, ROVE_MAX_PUSH_OPS, 1), ROVE_OK);
	for (uint64_t u = 1; u <= ROVE_RATE_USERS; u++)
		CHECK(rove_rate_take(r, u * 0x9e3779b97f4a7c15ull | 1, ROVE_MAX_PUSH_OPS, 0, &wait));
	/* each of them empty: the next one finds no room, and passes */
	CHECK(!rove_rate_take(r, 1 * 0x9e3779b97f4a7c15ull | 1, 1, 0, &wait));
	CHECK(rove_rate_take(r, 12345, ROVE_MAX_PUSH_OPS, 0, &wait));
	CHECK(rove_rate_take(r, 12345, ROVE_MAX_PUSH_OPS, 0, &wait));
	/* once they have refilled, they are dropped to make room, and the
	 * newcomer is metered again */
	CHECK(rove_rate_take(r, 12345, ROVE_MAX_PUSH_OPS, 1000000, &wait));
	CHECK(!rove_rate_take(r, 12345, 1, 1000000, &wait));
	CHECK(rove_rate_take(r, 1 * 0x9e3779b97f4a7c15ull | 1, ROVE_MAX_PUSH_OPS, 1000000, &wait));
	rove_rate_free(r);
}

/* A charge past empty is a debt paid at the rate; after a start anew,
 * a new bucket holds what it would had it been emptied then. */
static void test_charge_and_empty(void)
{
	rove_rate *r;
	uint64_t wait;

	CHECK_EQ_INT(rove_rate_new(&r, 3000, 50), ROVE_OK);
	rove_rate_charge(r, 9, 5000, 1000); /* a reassignment of 5,000 */
	CHECK(!rove_rate_take(r, 9, 1, 1000, &wait));
	CHECK_EQ_INT(wait, 40020); /* 2,001 ops at 50 a second */
	CHECK(!rove_rate_take(r, 9, 1, 1000 + 40019, &wait));
	CHECK(rove_rate_take(r, 9, 1, 1000 + 40020, &wait));
	rove_rate_start_empty(r, 100000);
	CHECK(!rove_rate_take(r, 10, 1, 100000, &wait)); /* new since: empty */
	CHECK_EQ_INT(wait, 20);
	CHECK(!rove_rate_take(r, 11, 3000, 100000 + 59999, &wait));
	CHECK(rove_rate_take(r, 11, 3000, 100000 + 60000, &wait)); /* a minute on: full */
	rove_rate_free(r);
}

/* What is given back fills the bucket again, never past full; a debt
 * is paid by it first. */
static void test_refund(void)
{
	rove_rate *r;
	uint64_t wait;

	CHECK_EQ_INT(rove_rate_new(&r, 3000, 50), ROVE_OK);
	CHECK(rove_rate_take(r, 7, 3000, 1000, &wait));
	rove_rate_refund(r, 7, 1000, 1000); /* 1,000 of them answered before */
	CHECK(rove_rate_take(r, 7, 1000, 1000, &wait));
	CHECK(!rove_rate_take(r, 7, 1, 1000, &wait));
	rove_rate_refund(r, 7, 10000, 1000); /* never past full */
	CHECK(rove_rate_take(r, 7, 3000, 1000, &wait));
	CHECK(!rove_rate_take(r, 7, 1, 1000, &wait));
	rove_rate_refund(r, 7, UINT64_MAX, 1000); /* no overflow */
	CHECK(rove_rate_take(r, 7, 3000, 1000, &wait));
	rove_rate_charge(r, 8, 5000, 1000); /* 2,000 in debt */
	rove_rate_refund(r, 8, 2500, 1000);
	CHECK(rove_rate_take(r, 8, 500, 1000, &wait));
	CHECK(!rove_rate_take(r, 8, 1, 1000, &wait));
	rove_rate_free(r);
}

int main(void)
{
	test_refund();
	test_charge_and_empty();
	test_bucket();
	test_many();
	return check_done("test_rate");
}
