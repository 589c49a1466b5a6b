/*
 * test_admin.c - administration requests on a real server database: scope
 * epochs bumped only for users whose scope changed, and reassignment within the
 * rules (rule 7: the new owner must be able to own the customer there, and
 * a manager hands customers only to users inside his subtree); who sees,
 * disables and gives new tokens to which users, and their last syncs; the
 * server's time in a pull reply that asks for it.
 */
#include "check.h"
#include "srv.h"

/* ---- C: a new sub-territory bumps no epoch: the managers above it
 * read one more scope, computed at each pull, and it is empty ---- */

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
		if (u->epoch != epoch[i]) {
			moved++;
			fprintf(stderr, "%s: epoch %llu -> %llu\n", name, (unsigned long long)epoch[i],
				(unsigned long long)u->epoch);
		}
	}
	CHECK_EQ_INT(moved, 0);
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
	srv *s = srv_world_or_exit();

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

/* ---- users: who sees whom, who disables whom, last syncs ---- */

/* A pull by user (a fresh replica's first request); its error's text in
 * s->err. */
static int pull_as(srv *s, const char *user)
{
	rove_pull_req q;
	rove_buf req, reply;
	rove_auth a;
	rove_msg m;
	int rc;

	memset(&q, 0, sizeof(q));
	rove_uuid_new(&q.replica);
	q.max_items = 10;
	srv_auth(s, user, &a);
	rove_buf_init(&req);
	rove_buf_init(&reply);
	rc = rove_enc_pull(&req, &a, &q);
	if (rc == ROVE_OK)
		rc = srv_call(s, &req, &reply, &m);
	rove_buf_free(&req);
	rove_buf_free(&reply);
	return rc;
}

/* A pull that asks for the server's time (clock) gets its wall clock in
 * the reply; one that does not - an older rove's - gets the reply in the
 * form it knows, without it. */
static void test_pull_time(void)
{
	srv *s = srv_world();

	CHECK(s != NULL);
	for (int clock = 0; clock <= 1; clock++) {
		rove_pull_req q;
		rove_buf req, reply;
		rove_auth a;
		rove_msg m;
		uint64_t before, after;
		memset(&q, 0, sizeof(q));
		rove_uuid_new(&q.replica);
		q.clock = clock == 1;
		srv_auth(s, "alice", &a);
		rove_buf_init(&req);
		rove_buf_init(&reply);
		CHECK_EQ_INT(rove_enc_pull(&req, &a, &q), ROVE_OK);
		before = rove_wall_ms();
		CHECK_EQ_INT(srv_call(s, &req, &reply, &m), ROVE_OK);
		after = rove_wall_ms();
		CHECK_EQ_INT(m.type, ROVE_MSG_PULL_REPLY);
		CHECK_EQ_INT(m.elems, clock ? 15 : 14);
		if (clock)
			CHECK(m.u.pull_reply.time_ms >= before && m.u.pull_reply.time_ms <= after);
		else
			CHECK_EQ_INT(m.u.pull_reply.time_ms, 0);
		rove_buf_free(&req);
		rove_buf_free(&reply);
	}
	srv_free(s);
}

/* Asks the policy in a read transaction whether u may see t. */
static void view_of(srv *s, const char *viewer, const char *login, bool *visible, rove_user *view)
{
	rove_user u, t;
	MDB_txn *txn = NULL;

	CHECK_EQ_INT(srv_user_get(s, viewer, &u), ROVE_OK);
	CHECK_EQ_INT(srv_user_get(s, login, &t), ROVE_OK);
	CHECK_EQ_INT(rove_store_begin(&s->e.st, NULL, false, &txn), ROVE_OK);
	{
		rove_policy_ctx pc = rove_engine_policy_read(&s->e, txn);
		CHECK_EQ_INT(rove_policy_user_view(&pc, &u, &t, visible, view), ROVE_OK);
	}
	rove_store_abort(txn);
}

static void test_user_view(void)
{
	static const char *const all[] = {"admin", "alice", "bob", "carl", "nick", "mike", "nora"};
	srv *s = srv_world();
	rove_user *view = malloc(sizeof(*view));
	bool visible;

	CHECK(s != NULL && view != NULL);
	/* mike (east) sees himself and the users of east's subtree. */
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		bool want = strcmp(all[i], "alice") == 0 || strcmp(all[i], "bob") == 0 || strcmp(all[i], "carl") == 0 ||
			    strcmp(all[i], "mike") == 0;
		view_of(s, "mike", all[i], &visible, view);
		if (visible != want)
			fprintf(stderr, "mike sees %s: %d\n", all[i], visible);
		CHECK(visible == want);
		view_of(s, "admin", all[i], &visible, view); /* the admin: everyone */
		CHECK(visible);
		view_of(s, "alice", all[i], &visible, view); /* a rep: nobody */
		CHECK(!visible);
	}
	/* Of alice's territories, mike sees those in his reach only. */
	CHECK_EQ_INT(srv_admin(s, "admin", "assign", "alice", "north.bj", NULL), ROVE_OK);
	view_of(s, "mike", "alice", &visible, view);
	CHECK(visible && view->nterr == 1 && strcmp(view->terr[0], "east.sh") == 0);
	view_of(s, "admin", "alice", &visible, view);
	CHECK(visible && view->nterr == 2);
	/* Through the request: a manager's show of a user outside his reach
	 * reads as no such user; list is refused to reps. */
	CHECK_EQ_INT(srv_admin(s, "mike", "user.show", "nick", NULL), ROVE_ENOTFOUND);
	CHECK(strcmp(s->err, "no user 'nick' in your territories") == 0);
	CHECK_EQ_INT(srv_admin(s, "mike", "user.show", "nobody", NULL), ROVE_ENOTFOUND);
	CHECK(strcmp(s->err, "no user 'nobody' in your territories") == 0);
	CHECK_EQ_INT(srv_admin(s, "mike", "user.show", "carl", NULL), ROVE_OK);
	CHECK(strncmp(s->line, "carl rep enabled 0 1", 20) == 0);
	CHECK_EQ_INT(srv_admin(s, "alice", "user.list", NULL), ROVE_EPERM);
	CHECK_EQ_INT(srv_admin(s, "alice", "user.show", "alice", NULL), ROVE_EPERM);
	free(view);
	srv_free(s);
}

/* Asks the policy whether actor (a user, or the server's own) may
 * disable t. */
static int may_disable(srv *s, const rove_user *actor, const char *login, bool disable)
{
	rove_user t;
	rove_verdict v;
	MDB_txn *txn = NULL;

	CHECK_EQ_INT(srv_user_get(s, login, &t), ROVE_OK);
	CHECK_EQ_INT(rove_store_begin(&s->e.st, NULL, false, &txn), ROVE_OK);
	memset(&v, 0, sizeof(v));
	{
		rove_policy_ctx pc = rove_engine_policy_read(&s->e, txn);
		CHECK_EQ_INT(rove_policy_user_disable(&pc, actor, &t, disable, &v), ROVE_OK);
	}
	rove_store_abort(txn);
	return v.reason;
}

static void test_user_disable(void)
{
	srv *s = srv_world();
	rove_user admin, mike, sys;
	rove_op op;
	rove_push_result r;
	rove_uuid id;

	CHECK(s != NULL);
	CHECK_EQ_INT(srv_user_get(s, "admin", &admin), ROVE_OK);
	CHECK_EQ_INT(srv_user_get(s, "mike", &mike), ROVE_OK);
	rove_policy_system_user(&sys);
	/* Nobody disables himself, nor the last enabled admin; managers
	 * disable nobody; enabling is an admin's too. */
	CHECK_EQ_INT(may_disable(s, &admin, "admin", true), ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(may_disable(s, &sys, "admin", true), ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(may_disable(s, &admin, "alice", true), ROVE_R_NONE);
	CHECK_EQ_INT(may_disable(s, &mike, "alice", true), ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(may_disable(s, &mike, "alice", false), ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(srv_user(s, "root", "admin", NULL), ROVE_OK);
	CHECK_EQ_INT(may_disable(s, &sys, "admin", true), ROVE_R_NONE); /* root is left */
	CHECK_EQ_INT(srv_admin(s, "admin", "user.disable", "root", NULL), ROVE_OK);
	CHECK_EQ_INT(may_disable(s, &sys, "admin", true), ROVE_R_FORBIDDEN); /* root is disabled */
	CHECK_EQ_INT(srv_admin(s, "admin", "user.disable", "root", NULL), ROVE_EEXIST);
	CHECK(strcmp(s->err, "user 'root' is already disabled; nothing changed") == 0);

	/* A disabled user's requests, with the right token, are refused
	 * saying so; with a wrong one, as any wrong token. */
	CHECK_EQ_INT(srv_admin(s, "admin", "user.disable", "alice", NULL), ROVE_OK);
	rove_uuid_new(&id);
	CHECK_EQ_INT(srv_op(&op, ROVE_OP_CREATE, ROVE_COLL_CUSTOMER, &id, "name=Alpha", "territory=east.sh", NULL),
		     ROVE_OK);
	CHECK_EQ_INT(srv_push(s, "alice", &op, &r), ROVE_EPERM);
	CHECK(strcmp(s->err, "user 'alice' is disabled; ask an admin") == 0);
	CHECK_EQ_INT(pull_as(s, "alice"), ROVE_EPERM);
	CHECK_EQ_INT(srv_admin(s, "root", "user.enable", "root", NULL), ROVE_EPERM);
	CHECK_EQ_INT(pull_as(s, "ghost"), ROVE_EAUTH); /* srv_token: zeros */
	CHECK(strstr(s->err, "disabled") == NULL);
	{
		rove_pull_req q;
		rove_buf req, reply;
		rove_auth a;
		rove_msg m;
		memset(&q, 0, sizeof(q));
		rove_uuid_new(&q.replica);
		srv_auth(s, "alice", &a);
		a.token[0] = a.token[0] == 'a' ? 'b' : 'a';
		rove_buf_init(&req);
		rove_buf_init(&reply);
		CHECK_EQ_INT(rove_enc_pull(&req, &a, &q), ROVE_OK);
		CHECK_EQ_INT(srv_call(s, &req, &reply, &m), ROVE_EAUTH);
		CHECK(strstr(s->err, "disabled") == NULL);
		rove_buf_free(&req);
		rove_buf_free(&reply);
	}
	/* Nobody hands a disabled user customers (rule 7). */
	CHECK_EQ_INT(srv_push(s, "bob", &op, &r), ROVE_OK);
	CHECK_EQ_INT(r.status, ROVE_PUSH_ACCEPTED);
	{
		char ids[ROVE_UUID_STRLEN + 1];
		CHECK_EQ_INT(srv_admin(s, "mike", "reassign.customer", srv_ids(&id, ids), "alice", NULL), ROVE_EINVAL);
		CHECK(strstr(s->err, "alice is disabled") != NULL);
	}
	CHECK_EQ_INT(srv_admin(s, "admin", "user.enable", "alice", NULL), ROVE_OK);
	CHECK_EQ_INT(srv_admin(s, "admin", "user.enable", "alice", NULL), ROVE_EEXIST);
	CHECK_EQ_INT(pull_as(s, "alice"), ROVE_OK);
	srv_free(s);
}

static void test_user_token(void)
{
	srv *s = srv_world();
	char old[ROVE_TOKEN_HEX + 1];

	CHECK(s != NULL);
	snprintf(old, sizeof(old), "%s", srv_token(s, "bob"));
	CHECK_EQ_INT(srv_admin(s, "admin", "user.token", "bob", NULL), ROVE_OK);
	CHECK(strlen(s->line) == ROVE_TOKEN_HEX && strcmp(s->line, old) != 0);
	CHECK_EQ_INT(pull_as(s, "bob"), ROVE_EAUTH); /* the old token */
	for (uint32_t i = 0; i < s->nusers; i++) /* the new token replaces the old */
		if (strcmp(s->names[i], "bob") == 0)
			snprintf(s->tokens[i], sizeof(s->tokens[i]), "%.*s", (int)ROVE_TOKEN_HEX, s->line);
	CHECK_EQ_INT(pull_as(s, "bob"), ROVE_OK);
	CHECK_EQ_INT(srv_admin(s, "admin", "user.token", "nobody", NULL), ROVE_ENOTFOUND);
	CHECK_EQ_INT(srv_admin(s, "mike", "user.token", "bob", NULL), ROVE_EPERM);
	srv_free(s);
}

/* A pull notes the user's sync without writing; the next write stores
 * it; a pull within the minute after notes nothing. */
static void test_last_sync(void)
{
	srv *s = srv_world();
	rove_user u;
	rove_seen_note *notes = NULL;
	size_t n = 0;
	uint64_t before = rove_wall_ms();

	CHECK(s != NULL);
	CHECK_EQ_INT(srv_user_get(s, "carl", &u), ROVE_OK);
	CHECK_EQ_INT(u.synced_ms, 0);
	CHECK_EQ_INT(pull_as(s, "carl"), ROVE_OK);
	CHECK_EQ_INT(srv_user_get(s, "carl", &u), ROVE_OK);
	CHECK_EQ_INT(u.synced_ms, 0); /* noted, not written by a read */
	CHECK_EQ_INT(srv_admin(s, "admin", "user.show", "carl", NULL), ROVE_OK); /* a write stores it */
	CHECK_EQ_INT(srv_user_get(s, "carl", &u), ROVE_OK);
	CHECK(u.synced_ms >= before && u.synced_ms <= rove_wall_ms());
	CHECK(strncmp(s->line, "carl rep enabled ", 17) == 0 && strtoull(s->line + 17, NULL, 10) == u.synced_ms);
	/* Within the minute: nothing noted, nothing to write. */
	CHECK_EQ_INT(pull_as(s, "carl"), ROVE_OK);
	CHECK_EQ_INT(rove_seen_take(s->e.seen, &notes, &n), ROVE_OK);
	CHECK_EQ_INT(n, 0);
	free(notes);
	/* Noted by a pull, stored on close (what a stop of roved does). */
	CHECK_EQ_INT(pull_as(s, "nick"), ROVE_OK);
	CHECK_EQ_INT(srv_restart(s), ROVE_OK);
	CHECK_EQ_INT(srv_user_get(s, "nick", &u), ROVE_OK);
	CHECK(u.synced_ms >= before);
	CHECK_EQ_INT(rove_engine_flush(&s->e), ROVE_OK); /* nothing to store */
	srv_free(s);
}

/* A database of format 3 (users without flags or last sync) is brought
 * to format 4 when opened; its users keep their roles, territories and
 * tokens. */
static void test_upgrade_from_3(void)
{
	srv *s = srv_world();
	MDB_txn *txn = NULL;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	rove_user u;
	uint64_t format = 0;
	int mrc;

	CHECK(s != NULL);
	/* Rewrite every user in the old layout: role, hash, epoch, codes
	 * (read first, then written: keys and values point into the map). */
	enum { MAXU = 16 };
	struct {
		char name[ROVE_MAX_NAME + 1];
		uint8_t v[512];
		size_t len;
	} old[MAXU];
	size_t n = 0;

	CHECK_EQ_INT(rove_store_begin(&s->e.st, NULL, true, &txn), ROVE_OK);
	CHECK_EQ_INT(mdb_cursor_open(txn, s->e.st.users, &c), 0);
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0 && n < MAXU;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT), n++) {
		const uint8_t *p = v.mv_data;
		CHECK(v.mv_size >= 50 && v.mv_size - 9 <= sizeof(old[n].v) && k.mv_size <= ROVE_MAX_NAME);
		snprintf(old[n].name, sizeof(old[n].name), "%.*s", (int)k.mv_size, (const char *)k.mv_data);
		old[n].len = v.mv_size - 9;
		old[n].v[0] = p[0];
		memcpy(old[n].v + 1, p + 2, 32 + 8);
		memcpy(old[n].v + 41, p + 50, v.mv_size - 50);
	}
	CHECK_EQ_INT(mrc, MDB_NOTFOUND);
	mdb_cursor_close(c);
	for (size_t i = 0; i < n; i++) {
		MDB_val ok = {strlen(old[i].name), old[i].name}, ov = {old[i].len, old[i].v};
		CHECK_EQ_INT(mdb_put(txn, s->e.st.users, &ok, &ov, 0), 0);
	}
	CHECK_EQ_INT(rove_store_meta_put(&s->e.st, txn, "format", 3), ROVE_OK);
	CHECK_EQ_INT(rove_store_commit(txn), ROVE_OK);

	CHECK_EQ_INT(srv_restart(s), ROVE_OK);
	CHECK_EQ_INT(rove_store_begin(&s->e.st, NULL, false, &txn), ROVE_OK);
	CHECK_EQ_INT(rove_store_meta_get(&s->e.st, txn, "format", &format), ROVE_OK);
	rove_store_abort(txn);
	CHECK_EQ_INT(format, ROVE_STORE_FORMAT);
	CHECK_EQ_INT(srv_user_get(s, "mike", &u), ROVE_OK);
	CHECK(u.role == ROVE_ROLE_MANAGER && u.nterr == 1 && strcmp(u.terr[0], "east") == 0 && !u.disabled &&
	      u.synced_ms == 0);
	CHECK_EQ_INT(pull_as(s, "alice"), ROVE_OK); /* her token still works */
	CHECK_EQ_INT(srv_admin(s, "admin", "user.disable", "bob", NULL), ROVE_OK);
	CHECK_EQ_INT(pull_as(s, "bob"), ROVE_EPERM);
	srv_free(s);
}

/* ---- analysts and admins hold no territory (they read everything and
 * own nothing): refused on assign, on user add, and on import ---- */

static void test_no_territories_for_analysts(void)
{
	srv *s = srv_world();
	rove_user *u = malloc(sizeof(*u));

	CHECK(s != NULL && u != NULL);
	CHECK_EQ_INT(srv_user(s, "ana", "analyst", NULL), ROVE_OK);
	CHECK_EQ_INT(srv_admin(s, "admin", "assign", "ana", "east", NULL), ROVE_EINVAL);
	CHECK(strstr(s->err, "territories are for reps and managers") != NULL);
	CHECK_EQ_INT(srv_user(s, "ana2", "analyst", "east", NULL), ROVE_EINVAL);
	CHECK(strstr(s->err, "territories are for reps and managers") != NULL);
	CHECK_EQ_INT(srv_user_get(s, "ana2", u), ROVE_ENOTFOUND);
	CHECK_EQ_INT(srv_user(s, "adm2", "admin", "east", NULL), ROVE_EINVAL);
	CHECK_EQ_INT(srv_user(s, "ana3", "analyst", NULL), ROVE_OK);
	CHECK_EQ_INT(srv_user_get(s, "ana3", u), ROVE_OK);
	CHECK_EQ_INT(u->nterr, 0);
	free(u);
	srv_free(s);
}

/* ---- a territory named twice is held once; unassign takes it away
 * (an attack's finding: user.add kept both, and one unassign left one) ---- */

static void test_territory_named_twice(void)
{
	srv *s = srv_world();
	rove_user *u = malloc(sizeof(*u));

	CHECK(s != NULL && u != NULL);
	CHECK_EQ_INT(srv_user(s, "twice", "rep", "east", "east", "north", "east", NULL), ROVE_OK);
	CHECK_EQ_INT(srv_user_get(s, "twice", u), ROVE_OK);
	CHECK_EQ_INT(u->nterr, 2);
	CHECK_EQ_INT(srv_admin(s, "admin", "unassign", "twice", "east", NULL), ROVE_OK);
	CHECK_EQ_INT(srv_user_get(s, "twice", u), ROVE_OK);
	CHECK_EQ_INT(u->nterr, 1);
	CHECK(u->nterr == 1 && strcmp(u->terr[0], "north") == 0);
	free(u);
	srv_free(s);
}

/* ---- an import refused: every bad row is listed (import.check) ---- */

/* An admin request's reply lines into out (at most max); their count. */
static int admin_lines(srv *s, const char *cmd, const char *const *args, uint32_t n, char (*out)[ROVE_MAX_ERRMSG],
		       uint32_t max)
{
	rove_buf req, reply;
	rove_auth a;
	rove_msg m;
	const char *l;
	uint32_t len;
	int got = 0, rc;

	srv_auth(s, "admin", &a);
	rove_buf_init(&req);
	rove_buf_init(&reply);
	rc = rove_enc_admin(&req, &a, cmd, args, n);
	if (rc == ROVE_OK)
		rc = srv_call(s, &req, &reply, &m);
	if (rc == ROVE_OK && m.type != ROVE_MSG_ADMIN_REPLY)
		rc = ROVE_EPROTO;
	while (rc == ROVE_OK && rove_msg_next_str(&m, &l, &len) == ROVE_OK) {
		if ((uint32_t)got < max)
			snprintf(out[got], ROVE_MAX_ERRMSG, "%.*s", (int)len, l);
		got++;
	}
	rove_buf_free(&req);
	rove_buf_free(&reply);
	return rc == ROVE_OK ? got : -rc;
}

/* Stages rows (3 cells each) as a users import; its id in id. */
static void stage_users(srv *s, const char *const *cells, uint32_t rows, char *id, size_t idlen)
{
	const uint32_t per = (ROVE_MAX_ADMIN_ARGS - 2) / ROVE_ADMIN_IMPORT_ARITY;
	const char *args[ROVE_MAX_ADMIN_ARGS];
	char first[16];

	CHECK_EQ_INT(srv_admin(s, "admin", "import.begin", "users", NULL), ROVE_OK);
	CHECK(strlen(s->line) < idlen);
	memcpy(id, s->line, strlen(s->line) < idlen ? strlen(s->line) + 1 : 1);
	id[idlen - 1] = '\0';
	for (uint32_t i = 0; i < rows; i += per) {
		uint32_t n = 2;
		snprintf(first, sizeof(first), "%u", i);
		args[0] = id;
		args[1] = first;
		for (uint32_t k = i; k < rows && k < i + per; k++)
			for (uint32_t c = 0; c < 3; c++)
				args[n++] = cells[k * 3 + c];
		CHECK_EQ_INT(srv_adminv(s, "admin", "import.rows", args, n), ROVE_OK);
	}
}

static void test_import_every_bad_row(void)
{
	static char lines[ROVE_MAX_IMPORT_SHOWN + 8][ROVE_MAX_ERRMSG];
	static const char *const cells[] = {
		"wu", "rep", "nowhere",                /* 1: no such territory */
		"ALICE", "rep", "east.sh",             /* 2: alice exists */
		"qian", "rep", "east.sh;nowhere2",     /* 3 */
		"ok1", "rep", "east.sh",               /* 4: good */
		"bad name", "rep", "",                 /* 5 */
		"ana9", "analyst", "east",             /* 6 */
		"OK1", "manager", "east",              /* 7: row 4's */
		"x", "boss", "",                       /* 8 */
	};
	srv *s = srv_world();
	const char *args[1];
	char id[64];
	int n;

	CHECK(s != NULL);
	stage_users(s, cells, 8, id, sizeof(id));
	args[0] = id;
	n = admin_lines(s, "import.check", args, 1, lines, ROVE_MAX_IMPORT_SHOWN + 8);
	CHECK_EQ_INT(n, 7);
	CHECK(strcmp(lines[0], "row 1: no territory 'nowhere'") == 0);
	CHECK(strncmp(lines[1], "row 2: user 'ALICE' already exists", 34) == 0);
	CHECK(strcmp(lines[2], "row 3: no territory 'nowhere2'") == 0);
	CHECK(strcmp(lines[3], "row 5: invalid user name 'bad name'") == 0);
	CHECK(strcmp(lines[4], "row 6: ana9 is an analyst: territories are for reps and managers") == 0);
	CHECK(strcmp(lines[5], "row 7: user 'OK1' is also on row 4") == 0);
	CHECK(strncmp(lines[6], "row 8: invalid role 'boss'", 26) == 0);
	/* The commit is refused with the first, and writes nothing. */
	CHECK_EQ_INT(srv_admin(s, "admin", "import.commit", id, NULL), ROVE_ENOTFOUND);
	CHECK(strcmp(s->err, "row 1: no territory 'nowhere'") == 0);
	CHECK_EQ_INT(srv_admin(s, "admin", "import.end", id, NULL), ROVE_OK);

	/* 150 bad rows: the first 100 in order, then how many more. */
	{
		static const char *many[150 * 3];
		static char names[150][16];
		for (int i = 0; i < 150; i++) {
			snprintf(names[i], sizeof(names[i]), "u%d!", i + 1);
			many[i * 3] = names[i];
			many[i * 3 + 1] = "rep";
			many[i * 3 + 2] = "";
		}
		stage_users(s, many, 150, id, sizeof(id));
		n = admin_lines(s, "import.check", args, 1, lines, ROVE_MAX_IMPORT_SHOWN + 8);
		CHECK_EQ_INT(n, ROVE_MAX_IMPORT_SHOWN + 1);
		CHECK(strcmp(lines[0], "row 1: invalid user name 'u1!'") == 0);
		CHECK(strcmp(lines[ROVE_MAX_IMPORT_SHOWN - 1], "row 100: invalid user name 'u100!'") == 0);
		CHECK(strcmp(lines[ROVE_MAX_IMPORT_SHOWN], "50 more bad rows") == 0);
	}
	/* Good rows: no line, and the commit makes them. */
	{
		static const char *const good[] = {"zed", "rep", "east.sh", "yan", "manager", "east"};
		stage_users(s, good, 2, id, sizeof(id));
		CHECK_EQ_INT(admin_lines(s, "import.check", args, 1, lines, 8), 0);
		CHECK_EQ_INT(srv_admin(s, "admin", "import.commit", id, NULL), ROVE_OK);
		CHECK(strncmp(s->line, "zed,", 4) == 0);
	}
	srv_free(s);
}

/* ---- admin requests with an id: answered again, done once ---- */

static bool same_bytes(const rove_buf *a, const rove_buf *b)
{
	return a->len == b->len && a->len > 0 && memcmp(a->data, b->data, a->len) == 0;
}

static void admreq_usage(srv *s, uint64_t *count, uint64_t *bytes)
{
	MDB_txn *txn = NULL;

	*count = *bytes = 0;
	CHECK_EQ_INT(rove_store_begin(&s->e.st, NULL, false, &txn), ROVE_OK);
	CHECK_EQ_INT(rove_store_admreq_usage(&s->e.st, txn, count, bytes), ROVE_OK);
	rove_store_abort(txn);
}

static void test_request_ids(void)
{
	const char *add[3] = {"wu", "rep", "east.sh"}, *who[1] = {"wu"}, *assign[2] = {"wu", "east.hz"};
	srv *s = srv_world();
	rove_buf first, again;
	rove_uuid id1, id2, id3, id4;
	rove_user *u = malloc(sizeof(*u));
	uint64_t count, bytes, count0, bytes0;

	CHECK(s != NULL && u != NULL);
	rove_buf_init(&first);
	rove_buf_init(&again);
	rove_uuid_new(&id1);
	rove_uuid_new(&id2);
	rove_uuid_new(&id3);
	rove_uuid_new(&id4);
	admreq_usage(s, &count0, &bytes0);

	/* Done once: the same request again gets the same answer (the same
	 * token), across a restart too; nothing is done again. */
	CHECK_EQ_INT(srv_admin_req(s, "admin", &id1, "user.add", add, 3, &first), ROVE_OK);
	CHECK_EQ_INT(srv_admin_req(s, "admin", &id1, "user.add", add, 3, &again), ROVE_OK);
	CHECK(same_bytes(&first, &again));
	CHECK_EQ_INT(srv_restart(s), ROVE_OK);
	CHECK_EQ_INT(srv_admin_req(s, "admin", &id1, "user.add", add, 3, &again), ROVE_OK);
	CHECK(same_bytes(&first, &again));
	/* Without an id, or with another, it is another request: refused. */
	CHECK_EQ_INT(srv_admin_req(s, "admin", NULL, "user.add", add, 3, &again), ROVE_EEXIST);
	CHECK_EQ_INT(srv_admin_req(s, "admin", &id2, "user.add", add, 3, &again), ROVE_EEXIST);
	admreq_usage(s, &count, &bytes);
	CHECK_EQ_INT(count, count0 + 2); /* the add and the refusal of id2 */
	/* The answer is bound to what was asked (seal.h): id1 with another
	 * command, or other arguments, is refused, and nothing is done
	 * (attack seventy-four: it got id1's answer, as if done). */
	CHECK_EQ_INT(srv_admin_req(s, "admin", &id1, "user.disable", who, 1, &again), ROVE_EPERM);
	CHECK(strstr(s->err, "for another command or arguments") != NULL);
	CHECK(!same_bytes(&first, &again));
	CHECK_EQ_INT(srv_user_get(s, "wu", u), ROVE_OK);
	CHECK(!u->disabled);
	{
		const char *other[3] = {"wu", "manager", "east.sh"};
		CHECK_EQ_INT(srv_admin_req(s, "admin", &id1, "user.add", other, 3, &again), ROVE_EPERM);
		CHECK_EQ_INT(srv_user_get(s, "wu", u), ROVE_OK);
		CHECK_EQ_INT(u->role, ROVE_ROLE_REP);
	}
	/* ... and the same request still gets its answer */
	CHECK_EQ_INT(srv_admin_req(s, "admin", &id1, "user.add", add, 3, &again), ROVE_OK);
	CHECK(same_bytes(&first, &again));

	/* A refusal is answered again as given, even once what it refused
	 * is no longer so. */
	CHECK_EQ_INT(srv_admin_req(s, "admin", &id3, "assign", assign, 2, &first), ROVE_OK);
	CHECK_EQ_INT(srv_admin_req(s, "admin", &id4, "assign", assign, 2, &first), ROVE_EEXIST);
	CHECK_EQ_INT(srv_admin(s, "admin", "unassign", "wu", "east.hz", NULL), ROVE_OK);
	CHECK_EQ_INT(srv_admin_req(s, "admin", &id4, "assign", assign, 2, &again), ROVE_EEXIST);
	CHECK(same_bytes(&first, &again));
	CHECK_EQ_INT(srv_user_get(s, "wu", u), ROVE_OK);
	CHECK_EQ_INT(u->nterr, 1); /* east.sh alone: id4 did nothing */

	/* Another user's request of the same id is another request: it
	 * never gets the first one's answer (a token). */
	CHECK_EQ_INT(srv_user(s, "root2", "admin", NULL), ROVE_OK);
	CHECK_EQ_INT(srv_admin_req(s, "admin", &id1, "user.add", add, 3, &first), ROVE_OK);
	CHECK_EQ_INT(srv_admin_req(s, "root2", &id1, "user.add", add, 3, &again), ROVE_EEXIST);
	CHECK(!same_bytes(&first, &again));
	/* The answer is kept for the token the request came with (seal.h):
	 * once the user has another, the same request is refused, not
	 * answered (nor done again). */
	{
		const char *add2[3] = {"wu2", "rep", "east.sh"}, *root2[1] = {"root2"};
		rove_uuid id5;
		rove_uuid_new(&id5);
		CHECK_EQ_INT(srv_admin_req(s, "root2", &id5, "user.add", add2, 3, &first), ROVE_OK);
		CHECK_EQ_INT(srv_adminv(s, "admin", "user.token", root2, 1), ROVE_OK);
		srv_remember(s, "root2", s->line);
		CHECK_EQ_INT(srv_admin_req(s, "root2", &id5, "user.add", add2, 3, &again), ROVE_EPERM);
		CHECK(strstr(s->err, "with another token") != NULL);
	}
	/* A user who renews his own token and loses the answer sends the
	 * request again with the token he had: its kept answer opened with
	 * it (the new token), not a failed login (attack eighty-three: a
	 * sole admin locked out). Only that request, with that token: the
	 * old token logs in for nothing else. */
	{
		const char *me[1] = {"root2"};
		rove_buf tok1, tok2;
		rove_uuid id6, id7;
		rove_buf_init(&tok1);
		rove_buf_init(&tok2);
		rove_uuid_new(&id6);
		rove_uuid_new(&id7);
		CHECK_EQ_INT(srv_admin_req(s, "root2", &id6, "user.token", me, 1, &tok1), ROVE_OK);
		/* (the harness still sends root2's old token) */
		CHECK_EQ_INT(srv_admin_req(s, "root2", &id6, "user.token", me, 1, &tok2), ROVE_OK);
		CHECK(same_bytes(&tok1, &tok2));
		CHECK_EQ_INT(srv_admin_req(s, "root2", &id7, "user.list", NULL, 0, &again), ROVE_EAUTH);
		CHECK_EQ_INT(srv_admin_req(s, "root2", &id6, "user.disable", me, 1, &again), ROVE_EAUTH);
		rove_buf_free(&tok1);
		rove_buf_free(&tok2);
	}
	/* A manager's request of a command he may not run is refused and
	 * not kept; reads are not kept. */
	admreq_usage(s, &count0, &bytes0);
	CHECK_EQ_INT(srv_admin_req(s, "mike", &id2, "user.add", add, 3, &again), ROVE_EPERM);
	rove_uuid_new(&id2);
	CHECK_EQ_INT(srv_admin_req(s, "admin", &id2, "user.list", NULL, 0, &again), ROVE_OK);
	CHECK_EQ_INT(srv_admin_req(s, "admin", &id2, "user.show", who, 1, &again), ROVE_OK);
	admreq_usage(s, &count, &bytes);
	CHECK_EQ_INT(count, count0);
	CHECK(bytes == bytes0 && bytes > 0);

	rove_buf_free(&first);
	rove_buf_free(&again);
	free(u);
	srv_free(s);
}

/* What is kept stays within its bounds: the oldest go first, by age, by
 * count and by bytes; the newest always stays. */
static void test_request_ids_bounded(void)
{
	srv *s = srv_new();
	static uint8_t big[4u * 1024u * 1024u];
	MDB_txn *txn = NULL;
	rove_buf raw;
	rove_uuid id;
	uint64_t count, bytes, t0 = 1800000000000ull;
	int rc = ROVE_OK;

	CHECK(s != NULL);
	rove_buf_init(&raw);
	memset(big, 'x', sizeof(big));
	CHECK_EQ_INT(rove_store_begin(&s->e.st, NULL, true, &txn), ROVE_OK);
	/* By count: one past the bound drops the first. */
	for (uint32_t i = 0; rc == ROVE_OK && i <= ROVE_MAX_ADMIN_REQS; i++) {
		memset(id.b, 0, sizeof(id.b));
		memcpy(id.b, &i, sizeof(i));
		id.b[15] = 1;
		rc = rove_store_admreq_put(&s->e.st, txn, &id, "admin", t0 + i, "abc", 3);
	}
	CHECK_EQ_INT(rc, ROVE_OK);
	CHECK_EQ_INT(rove_store_admreq_usage(&s->e.st, txn, &count, &bytes), ROVE_OK);
	CHECK_EQ_INT(count, ROVE_MAX_ADMIN_REQS);
	CHECK_EQ_INT(bytes, 3ull * ROVE_MAX_ADMIN_REQS);
	memset(id.b, 0, sizeof(id.b));
	id.b[15] = 1;
	CHECK_EQ_INT(rove_store_admreq_get(&s->e.st, txn, &id, "admin", &raw), ROVE_ENOTFOUND); /* the first */
	id.b[0] = 1;
	CHECK_EQ_INT(rove_store_admreq_get(&s->e.st, txn, &id, "admin", &raw), ROVE_OK); /* the second */
	CHECK(raw.len == 3 && memcmp(raw.data, "abc", 3) == 0);
	CHECK_EQ_INT(rove_store_admreq_get(&s->e.st, txn, &id, "bob", &raw), ROVE_ENOTFOUND);
	CHECK_EQ_INT(rove_store_admreq_put(&s->e.st, txn, &id, "admin", t0, "abc", 3), ROVE_EEXIST);
	/* By age: one a day later leaves it alone. */
	memset(id.b, 0xee, sizeof(id.b));
	CHECK_EQ_INT(rove_store_admreq_put(&s->e.st, txn, &id, "admin", t0 + ROVE_ADMIN_REQ_KEEP_MS + 2 * ROVE_MAX_ADMIN_REQS,
					   "new", 3),
		     ROVE_OK);
	CHECK_EQ_INT(rove_store_admreq_usage(&s->e.st, txn, &count, &bytes), ROVE_OK);
	CHECK_EQ_INT(count, 1);
	CHECK_EQ_INT(bytes, 3);
	/* By bytes: answers of 4 MiB, up to the bound and one more. */
	for (uint32_t i = 0; rc == ROVE_OK && i <= ROVE_MAX_ADMIN_REQ_BYTES / sizeof(big); i++) {
		memset(id.b, 0, sizeof(id.b));
		memcpy(id.b, &i, sizeof(i));
		id.b[15] = 2;
		rc = rove_store_admreq_put(&s->e.st, txn, &id, "admin", t0 + ROVE_ADMIN_REQ_KEEP_MS + 3 * ROVE_MAX_ADMIN_REQS,
					   big, sizeof(big));
	}
	CHECK_EQ_INT(rc, ROVE_OK);
	CHECK_EQ_INT(rove_store_admreq_usage(&s->e.st, txn, &count, &bytes), ROVE_OK);
	CHECK(bytes <= ROVE_MAX_ADMIN_REQ_BYTES);
	CHECK_EQ_INT(count, ROVE_MAX_ADMIN_REQ_BYTES / sizeof(big));
	CHECK_EQ_INT(rove_store_admreq_get(&s->e.st, txn, &id, "admin", &raw), ROVE_OK); /* the newest */
	CHECK_EQ_INT(raw.len, sizeof(big));
	rove_store_abort(txn);
	rove_buf_free(&raw);
	srv_free(s);
}

int main(void)
{
	test_epochs_of_many_managers();
	test_reassign_reach();
	test_names();
	test_pool_rules();
	test_user_view();
	test_user_disable();
	test_user_token();
	test_last_sync();
	test_pull_time();
	test_upgrade_from_3();
	test_no_territories_for_analysts();
	test_territory_named_twice();
	test_import_every_bad_row();
	test_request_ids();
	test_request_ids_bounded();
	return check_done("test_admin");
}
