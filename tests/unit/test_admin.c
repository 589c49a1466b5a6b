/*
 * test_admin.c - administration requests on a real server database: scope
 * epochs bumped for every user concerned.
 */
#include "check.h"
#include "srv.h"

/* ---- C: a new sub-territory bumps every manager's epoch ---- */

static void test_epochs_of_many_managers(void)
{
	enum { MANAGERS = 300 };
	srv *s = srv_new();
	uint64_t *epoch = malloc(MANAGERS * sizeof(*epoch));
	rove_user *u = malloc(sizeof(*u));
	uint64_t rep_epoch = 0;
	char name[32];
	int moved = 0;

	CHECK(s != NULL && epoch != NULL && u != NULL);
	CHECK_EQ_INT(srv_territory(s, "cn", NULL), ROVE_OK);
	CHECK_EQ_INT(srv_user(s, "rex", "rep", "cn", NULL), ROVE_OK);
	for (int i = 0; i < MANAGERS; i++) {
		snprintf(name, sizeof(name), "m%03d", i);
		CHECK_EQ_INT(srv_user(s, name, "manager", "cn", NULL), ROVE_OK);
	}
	for (int i = 0; i < MANAGERS; i++) {
		snprintf(name, sizeof(name), "m%03d", i);
		CHECK_EQ_INT(srv_user_get(s, name, u), ROVE_OK);
		epoch[i] = u->epoch;
	}
	CHECK_EQ_INT(srv_user_get(s, "rex", u), ROVE_OK);
	rep_epoch = u->epoch;

	CHECK_EQ_INT(srv_territory(s, "cn.sh", "cn"), ROVE_OK);
	for (int i = 0; i < MANAGERS; i++) {
		snprintf(name, sizeof(name), "m%03d", i);
		CHECK_EQ_INT(srv_user_get(s, name, u), ROVE_OK);
		if (u->epoch == epoch[i] + 1)
			moved++;
		else
			fprintf(stderr, "%s: epoch %llu -> %llu\n", name, (unsigned long long)epoch[i],
				(unsigned long long)u->epoch);
	}
	CHECK_EQ_INT(moved, MANAGERS);
	/* A rep's scope did not change. */
	CHECK_EQ_INT(srv_user_get(s, "rex", u), ROVE_OK);
	CHECK_EQ_INT(u->epoch, rep_epoch);
	free(epoch);
	free(u);
	srv_free(s);
}

int main(void)
{
	test_epochs_of_many_managers();
	return check_done("test_admin");
}
