/*
 * test_engine.c - the engine on a real server database: the server's clock
 * never goes back across restarts.
 */
#include "check.h"
#include "srv.h"


/* A world most tests start from: east > east.sh, east.hz; north > north.bj;
 * reps alice, bob (east.sh), carl (east.hz), nick (north.bj); managers
 * mike (east), nora (north). */
static srv *world(void)
{
	srv *s = srv_new();

	CHECK(s != NULL);
	if (s == NULL)
		exit(1);
	CHECK_EQ_INT(srv_territory(s, "east", NULL), ROVE_OK);
	CHECK_EQ_INT(srv_territory(s, "east.sh", "east"), ROVE_OK);
	CHECK_EQ_INT(srv_territory(s, "east.hz", "east"), ROVE_OK);
	CHECK_EQ_INT(srv_territory(s, "north", NULL), ROVE_OK);
	CHECK_EQ_INT(srv_territory(s, "north.bj", "north"), ROVE_OK);
	CHECK_EQ_INT(srv_user(s, "alice", "rep", "east.sh", NULL), ROVE_OK);
	CHECK_EQ_INT(srv_user(s, "bob", "rep", "east.sh", NULL), ROVE_OK);
	CHECK_EQ_INT(srv_user(s, "carl", "rep", "east.hz", NULL), ROVE_OK);
	CHECK_EQ_INT(srv_user(s, "nick", "rep", "north.bj", NULL), ROVE_OK);
	CHECK_EQ_INT(srv_user(s, "mike", "manager", "east", NULL), ROVE_OK);
	CHECK_EQ_INT(srv_user(s, "nora", "manager", "north", NULL), ROVE_OK);
	return s;
}

/* ---- B: the server's clock never goes back ---- */

static void test_clock_survives_restart(void)
{
	srv *s = world();
	rove_op *op = malloc(sizeof(*op));
	rove_uuid c = srv_id(0xb1);
	rove_push_result r;
	uint64_t ahead = rove_wall_ms() + 4 * 60 * 1000;
	char owner[ROVE_MAX_NAME + 1], ids[ROVE_UUID_STRLEN + 1];
	rove_stamp st;

	CHECK(op != NULL);
	/* alice's laptop is 4 minutes fast: accepted with its stamp. */
	CHECK_EQ_INT(srv_op(op, ROVE_OP_CREATE, ROVE_COLL_CUSTOMER, &c, "name=Fast", NULL), ROVE_OK);
	st = (rove_stamp){rove_hlc_from_ms(ahead), 7};
	rove_op_restamp(op, st);
	CHECK_EQ_INT(srv_push(s, "alice", op, &r), ROVE_OK);
	CHECK_EQ_INT(r.status, ROVE_PUSH_ACCEPTED);
	CHECK_EQ_INT(rove_hlc_ms(r.st.hlc), ahead);

	/* roved restarts; the admin moves the customer to bob at once. */
	CHECK_EQ_INT(srv_restart(s), ROVE_OK);
	CHECK_EQ_INT(srv_admin(s, "admin", "reassign.customer", srv_ids(&c, ids), "bob", NULL), ROVE_OK);
	CHECK_EQ_INT(strcmp(srv_field(s, ROVE_COLL_CUSTOMER, &c, "owner", owner, sizeof(owner)), "bob"), 0);
	/* ... and it is in the customer's history. */
	CHECK_EQ_INT(srv_history(s, &c, "reassign"), 1);
	/* Every later stamp of the server is past the fast one. */
	CHECK_EQ_INT(srv_restart(s), ROVE_OK);
	CHECK_EQ_INT(srv_op(op, ROVE_OP_UPDATE, ROVE_COLL_CUSTOMER, &c, "tier=loyal", NULL), ROVE_OK);
	op->st.hlc = rove_hlc_from_ms(ahead + ROVE_MAX_CLOCK_SKEW_MS + 60000); /* re-stamped by the server */
	rove_op_restamp(op, op->st);
	CHECK_EQ_INT(srv_push(s, "bob", op, &r), ROVE_OK);
	CHECK_EQ_INT(r.status, ROVE_PUSH_ACCEPTED);
	CHECK(rove_hlc_ms(r.st.hlc) >= ahead);
	free(op);
	srv_free(s);
}

int main(void)
{
	test_clock_survives_restart();
	return check_done("test_engine");
}
