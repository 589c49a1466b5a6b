/*
 * test_admin.c - administration requests on a real server database: scope
 * epochs bumped for every user concerned, and reassignment within the
 * rules (rule 7: the new owner must be able to own the customer there, and
 * a manager hands customers only to users inside his subtree).
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

/* ---- D2: reassignment reach ---- */

static srv *world(void)
{
	srv *s = srv_world();

	CHECK(s != NULL);
	if (s == NULL)
		exit(1);
	CHECK_EQ_INT(srv_user(s, "tina", "manager", "east.sh", NULL), ROVE_OK);
	CHECK_EQ_INT(srv_user(s, "ana", "analyst", NULL), ROVE_OK);
	return s;
}

static const char *owner_of(srv *s, const rove_uuid *c)
{
	static char owner[ROVE_MAX_NAME + 1];

	return srv_field(s, ROVE_COLL_CUSTOMER, c, "owner", owner, sizeof(owner));
}

/* A reassignment of customer c by user to `to` is refused, and c keeps
 * its owner and history. */
static void refused_to(srv *s, const char *user, const rove_uuid *c, const char *to)
{
	char ids[ROVE_UUID_STRLEN + 1], was[ROVE_MAX_NAME + 1];
	int before = srv_history(s, c, "reassign"), rc;

	snprintf(was, sizeof(was), "%s", owner_of(s, c));
	rc = srv_admin(s, user, "reassign.customer", srv_ids(c, ids), to, NULL);
	if (rc == ROVE_OK)
		fprintf(stderr, "%s could hand %s's customer to %s\n", user, was, to);
	CHECK(rc != ROVE_OK);
	CHECK_EQ_INT(strcmp(owner_of(s, c), was), 0);
	CHECK_EQ_INT(srv_history(s, c, "reassign"), before);
}

static void test_reassign_reach(void)
{
	srv *s = world();
	rove_uuid c = srv_id(0xd1), missing = srv_id(0xd2);
	char ids[ROVE_UUID_STRLEN + 1], err1[ROVE_MAX_ERRMSG + 1];
	int rc1, rc2;

	CHECK_EQ_INT(srv_reason(s, "alice", ROVE_OP_CREATE, ROVE_COLL_CUSTOMER, &c, "name=Alpha", NULL),
		     ROVE_R_NONE);
	srv_ids(&c, ids);

	/* Nobody outside the customer's territory, nobody who cannot own. */
	refused_to(s, "mike", &c, "nick");      /* a rep of north */
	refused_to(s, "mike", &c, "carl");      /* a rep of east, not of east.sh */
	refused_to(s, "admin", &c, "nick");
	refused_to(s, "admin", &c, "nora");     /* a manager whose subtree lacks east.sh */
	refused_to(s, "admin", &c, "admin");    /* admins own no customers */
	refused_to(s, "admin", &c, "ana");      /* nor analysts */
	refused_to(s, "admin", &c, "nobody");
	refused_to(s, "tina", &c, "mike");      /* above tina: not inside her subtree */
	refused_to(s, "nora", &c, "bob");       /* nora cannot reach the customer */
	refused_to(s, "alice", &c, "bob");      /* reps do not reassign */

	/* Outside a manager's reach, a customer that exists and one that
	 * does not get the same answer. */
	rc1 = srv_admin(s, "nora", "reassign.customer", ids, "nick", NULL);
	snprintf(err1, sizeof(err1), "%s", s->err);
	rc2 = srv_admin(s, "nora", "reassign.customer", srv_ids(&missing, ids), "nick", NULL);
	CHECK(rc1 != ROVE_OK);
	CHECK_EQ_INT(rc1, rc2);
	{
		/* the texts differ only by the id */
		char want[ROVE_MAX_ERRMSG + 1], cid[ROVE_UUID_STRLEN + 1], *p;
		snprintf(want, sizeof(want), "%s", err1);
		srv_ids(&c, cid);
		p = strstr(want, cid);
		if (p != NULL)
			memcpy(p, ids, ROVE_UUID_STRLEN);
		CHECK_EQ_INT(strcmp(want, s->err), 0);
	}
	srv_ids(&c, ids);

	/* Within the rules. */
	CHECK_EQ_INT(srv_admin(s, "mike", "reassign.customer", ids, "bob", NULL), ROVE_OK);
	CHECK_EQ_INT(strcmp(owner_of(s, &c), "bob"), 0);
	CHECK_EQ_INT(srv_admin(s, "mike", "reassign.customer", ids, "tina", NULL), ROVE_OK);
	CHECK_EQ_INT(strcmp(owner_of(s, &c), "tina"), 0);
	CHECK_EQ_INT(srv_admin(s, "tina", "reassign.customer", ids, "alice", NULL), ROVE_OK);
	CHECK_EQ_INT(srv_admin(s, "admin", "reassign.customer", ids, "mike", NULL), ROVE_OK);
	CHECK_EQ_INT(strcmp(owner_of(s, &c), "mike"), 0);
	CHECK_EQ_INT(srv_history(s, &c, "reassign"), 4);

	/* A whole territory: a manager hands it only inside his subtree. */
	CHECK_EQ_INT(srv_admin(s, "admin", "reassign.customer", ids, "alice", NULL), ROVE_OK);
	CHECK(srv_admin(s, "mike", "reassign.territory", "east.sh", "alice", "nick", NULL) != ROVE_OK);
	CHECK_EQ_INT(strcmp(owner_of(s, &c), "alice"), 0);
	CHECK(srv_admin(s, "nora", "reassign.territory", "east.sh", "alice", "nick", NULL) != ROVE_OK);
	/* alice does not hold east.hz, so no assignment moves to nick, who
	 * does not work there. */
	CHECK(srv_admin(s, "admin", "reassign.territory", "east.hz", "alice", "nick", NULL) != ROVE_OK);
	/* admin: anywhere, the assignment moving with the customers */
	CHECK_EQ_INT(srv_admin(s, "admin", "reassign.territory", "east.sh", "alice", "nick", NULL), ROVE_OK);
	CHECK_EQ_INT(strcmp(owner_of(s, &c), "nick"), 0);
	srv_free(s);
}

/* ---- logins and territory codes: one rule, and no two alike but for case ---- */

static void test_names(void)
{
	static const char *const bad[] = {"bad name", "", "a/b", "x\ty", "wang\n", "\xe7\x8e\x8b",
					  "0123456789012345678901234567890123456789012345678901234567890123456789"};
	srv *s = world();
	char dir[64], token[ROVE_TOKEN_HEX + 1];

	/* A login differing only in case from an existing one is refused,
	 * naming the one it collides with; so is a code. */
	CHECK_EQ_INT(srv_user(s, "ALICE", "rep", "east.sh", NULL), ROVE_EEXIST);
	CHECK(strstr(s->err, "'alice'") != NULL);
	CHECK_EQ_INT(srv_user(s, "Bob", "rep", NULL), ROVE_EEXIST);
	CHECK(strstr(s->err, "'bob'") != NULL);
	CHECK_EQ_INT(srv_user(s, "Admin", "admin", NULL), ROVE_EEXIST);
	CHECK_EQ_INT(srv_user(s, "ROVED", "rep", NULL), ROVE_EEXIST); /* the server's own name, in any case */
	CHECK_EQ_INT(srv_territory(s, "East.SH", "east"), ROVE_EEXIST);
	CHECK(strstr(s->err, "'east.sh'") != NULL);
	CHECK_EQ_INT(srv_territory(s, "NORTH", NULL), ROVE_EEXIST);
	CHECK(strstr(s->err, "'north'") != NULL);
	/* Different names are still welcome. */
	CHECK_EQ_INT(srv_user(s, "alice2", "rep", "east.sh", NULL), ROVE_OK);
	CHECK_EQ_INT(srv_user(s, "li.wei@east", "rep", "east.sh", NULL), ROVE_OK);
	CHECK_EQ_INT(srv_territory(s, "east.sz", "east"), ROVE_OK);
	/* One rule for a login, for user.add and roved init alike. */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ_INT(srv_user(s, bad[i], "rep", NULL), ROVE_EINVAL);
		snprintf(dir, sizeof(dir), "/tmp/rove-test-init.XXXXXX");
		CHECK(mkdtemp(dir) != NULL);
		CHECK_EQ_INT(rove_engine_init(dir, bad[i], token), ROVE_EINVAL);
		rmdir(dir);
	}
	snprintf(dir, sizeof(dir), "/tmp/rove-test-init.XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	CHECK_EQ_INT(rove_engine_init(dir, "roved", token), ROVE_EINVAL);
	CHECK_EQ_INT(rove_engine_init(dir, "hq.admin@corp", token), ROVE_OK);
	{
		char cmd[96];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		CHECK_EQ_INT(system(cmd), 0);
	}
	srv_free(s);
}

/* ---- pool rules: a warning comes before the recycling ---- */

static void test_pool_rules(void)
{
	srv *s = world();

	CHECK_EQ_INT(srv_admin(s, "admin", "territory.set", "east.sh", "recycle_days=30", "warn_days=400", NULL),
		     ROVE_EINVAL);
	CHECK(strstr(s->err, "warn_days") != NULL && strstr(s->err, "recycle_days") != NULL);
	CHECK_EQ_INT(srv_admin(s, "admin", "territory.set", "east.sh", "recycle_days=30", "warn_days=30", NULL),
		     ROVE_EINVAL);
	CHECK_EQ_INT(srv_admin(s, "admin", "territory.set", "east.sh", "recycle_days=30", "warn_days=5", NULL), ROVE_OK);
	/* Against what is set already, too. */
	CHECK_EQ_INT(srv_admin(s, "admin", "territory.set", "east.sh", "warn_days=400", NULL), ROVE_EINVAL);
	CHECK_EQ_INT(srv_admin(s, "admin", "territory.set", "east.sh", "recycle_days=5", NULL), ROVE_EINVAL);
	CHECK_EQ_INT(srv_admin(s, "admin", "territory.set", "east.sh", "recycle_days=6", NULL), ROVE_OK);
	/* With either rule off (0 or unset), any value of the other. */
	CHECK_EQ_INT(srv_admin(s, "admin", "territory.set", "east.sh", "recycle_days=0", NULL), ROVE_OK);
	CHECK_EQ_INT(srv_admin(s, "admin", "territory.set", "east.sh", "warn_days=400", NULL), ROVE_OK);
	CHECK_EQ_INT(srv_admin(s, "admin", "territory.set", "east.hz", "warn_days=400", NULL), ROVE_OK);
	CHECK_EQ_INT(srv_admin(s, "admin", "territory.set", "east.hz", "warn_days=0", "recycle_days=3", NULL), ROVE_OK);
	srv_free(s);
}

int main(void)
{
	test_epochs_of_many_managers();
	test_reassign_reach();
	test_names();
	test_pool_rules();
	return check_done("test_admin");
}
