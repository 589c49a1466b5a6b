/*
 * test_policy.c - the CRM rules as the server applies them to pushed ops,
 * on a real server database: reps delete nothing (rule 6), owner changes
 * only through create, claim, release, recycle and reassignment (rule 7),
 * refusals reach the right managers (rule 9) and say nothing about records
 * outside the user's scope, references and dates are valid and closed_on
 * is the server's (rule 13).
 */
#include "calendar.h"
#include "check.h"
#include "rules.h"
#include "srv.h"

#include <time.h>

enum { C = ROVE_COLL_CUSTOMER, CONTACT = ROVE_COLL_CONTACT, CONTRACT = ROVE_COLL_CONTRACT,
       OPP = ROVE_COLL_OPPORTUNITY, ACT = ROVE_COLL_ACTIVITY, DEALER = ROVE_COLL_DEALER };
enum { CREATE = ROVE_OP_CREATE, UPDATE = ROVE_OP_UPDATE, DELETE = ROVE_OP_DELETE, CLAIM = ROVE_OP_CLAIM,
       RELEASE = ROVE_OP_RELEASE };

static unsigned next_id = 0x100;

static rove_uuid new_id(void)
{
	return srv_id(next_id++);
}

/* east > east.sh, east.hz; north > north.bj; west; reps alice, bob
 * (east.sh), carl (east.hz), nick (north.bj); managers mike (east), tina
 * (east.sh), nora (north), wes (west); analyst ana. */
static srv *world(void)
{
	srv *s = srv_world_or_exit();

	CHECK_EQ_INT(srv_territory(s, "west", NULL), ROVE_OK);
	CHECK_EQ_INT(srv_user(s, "tina", "manager", "east.sh", NULL), ROVE_OK);
	CHECK_EQ_INT(srv_user(s, "wes", "manager", "west", NULL), ROVE_OK);
	CHECK_EQ_INT(srv_user(s, "ana", "analyst", NULL), ROVE_OK);
	return s;
}

static const char *field(srv *s, uint8_t coll, const rove_uuid *id, const char *name)
{
	static char out[ROVE_MAX_STR + 1];

	return srv_field(s, coll, id, name, out, sizeof(out));
}

static bool is_deleted(srv *s, uint8_t coll, const rove_uuid *id)
{
	rove_record *rec = malloc(sizeof(*rec));
	bool d = rec != NULL && srv_get(s, coll, id, rec) == ROVE_OK && rove_record_deleted(rec);

	free(rec);
	return d;
}

/* ---- D1: reps delete nothing, in any form ---- */

static void test_reps_delete_nothing(void)
{
	srv *s = world();
	rove_uuid c = new_id(), c2 = new_id(), pool = new_id(), ct = new_id(), k = new_id(), o = new_id();
	char ids[ROVE_UUID_STRLEN + 1], cust[64];

	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, C, &c, "name=Alpha", "phone=13900000001", NULL), ROVE_R_NONE);
	snprintf(cust, sizeof(cust), "customer=%s", srv_ids(&c, ids));
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, CONTACT, &ct, cust, "name=Ms Zhou", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, CONTRACT, &k, cust, "number=HT-1", "amount=#100", NULL),
		     ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, OPP, &o, cust, "title=Deal", NULL), ROVE_R_NONE);

	/* The deletion marker in an update, a create, a release, a claim. */
	CHECK_EQ_INT(srv_reason(s, "alice", UPDATE, C, &c, "_deleted=#1", NULL), ROVE_R_FORBIDDEN);
	CHECK(!is_deleted(s, C, &c));
	CHECK_EQ_INT(srv_reason(s, "alice", UPDATE, C, &c, "tier=loyal", "_deleted=#1", NULL), ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, C, &c2, "name=Beta", "_deleted=#1", NULL), ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(srv_reason(s, "alice", RELEASE, C, &c, "owner=null", "_deleted=#1", NULL), ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, C, &pool, "name=Pool", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "alice", RELEASE, C, &pool, "owner=null", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "bob", CLAIM, C, &pool, "owner=bob", "_deleted=#1", NULL), ROVE_R_FORBIDDEN);
	CHECK(!is_deleted(s, C, &pool));
	CHECK_EQ_INT(strcmp(field(s, C, &pool, "owner"), ""), 0);
	/* The customer's phone is still taken. */
	CHECK_EQ_INT(srv_reason(s, "bob", CREATE, C, &c2, "name=Copy", "phone=13900000001", NULL), ROVE_R_DUPLICATE);

	/* Deletes of child records, by a delete or by the marker. */
	CHECK_EQ_INT(srv_reason(s, "alice", DELETE, CONTACT, &ct, "_deleted=#1", NULL), ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(srv_reason(s, "alice", DELETE, CONTRACT, &k, "_deleted=#1", NULL), ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(srv_reason(s, "alice", DELETE, OPP, &o, "_deleted=#1", NULL), ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(srv_reason(s, "alice", UPDATE, OPP, &o, "_deleted=#1", NULL), ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(srv_reason(s, "alice", DELETE, C, &c, "_deleted=#1", NULL), ROVE_R_FORBIDDEN);
	CHECK(!is_deleted(s, CONTACT, &ct) && !is_deleted(s, CONTRACT, &k) && !is_deleted(s, OPP, &o));

	/* Managers delete, with a delete that carries the marker alone. */
	CHECK_EQ_INT(srv_reason(s, "mike", UPDATE, C, &c, "_deleted=#1", NULL), ROVE_R_INVALID);
	CHECK_EQ_INT(srv_reason(s, "mike", DELETE, C, &c, "_deleted=#1", "territory=east.hz", NULL), ROVE_R_INVALID);
	CHECK_EQ_INT(srv_reason(s, "mike", DELETE, C, &c, "name=x", NULL), ROVE_R_INVALID);
	CHECK(!is_deleted(s, C, &c));
	CHECK_EQ_INT(srv_reason(s, "mike", DELETE, CONTACT, &ct, "_deleted=#1", NULL), ROVE_R_NONE);
	CHECK(is_deleted(s, CONTACT, &ct));
	CHECK_EQ_INT(srv_reason(s, "mike", DELETE, C, &c, "_deleted=#1", NULL), ROVE_R_NONE);
	CHECK(is_deleted(s, C, &c));
	/* Now the phone is free. */
	CHECK_EQ_INT(srv_reason(s, "bob", CREATE, C, &c2, "name=Copy", "phone=13900000001", NULL), ROVE_R_NONE);
	srv_free(s);
}

/* ---- D2: owner changes only through create, claim, release, recycle,
 * reassignment; a named owner must be able to own the customer ---- */

static void test_owner_changes(void)
{
	srv *s = world();
	rove_uuid c = new_id(), m1 = new_id(), m2 = new_id(), m3 = new_id(), m4 = new_id(), m5 = new_id(),
		  m6 = new_id(), t1 = new_id(), a1 = new_id(), a2 = new_id(), a0 = new_id(), r1 = new_id(),
		  pool = new_id();

	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, C, &c, "name=Alpha", NULL), ROVE_R_NONE);
	/* An update touching owner: refused for everyone. */
	CHECK_EQ_INT(srv_reason(s, "mike", UPDATE, C, &c, "owner=admin", NULL), ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(srv_reason(s, "mike", UPDATE, C, &c, "owner=nosuchuser", NULL), ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(srv_reason(s, "mike", UPDATE, C, &c, "owner=nick", NULL), ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(srv_reason(s, "mike", UPDATE, C, &c, "owner=bob", NULL), ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(srv_reason(s, "admin", UPDATE, C, &c, "owner=bob", NULL), ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(srv_reason(s, "admin", UPDATE, C, &c, "owner=null", NULL), ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(srv_reason(s, "alice", UPDATE, C, &c, "owner=bob", NULL), ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(strcmp(field(s, C, &c, "owner"), "alice"), 0);

	/* A create naming an owner who could not be one. */
	CHECK_EQ_INT(srv_reason(s, "mike", CREATE, C, &m1, "name=M1", "territory=east.sh", "owner=nosuchuser", NULL),
		     ROVE_R_INVALID);
	CHECK(srv_reason(s, "mike", CREATE, C, &m1, "name=M1", "territory=east.sh", "owner=nick", NULL) !=
	      ROVE_R_NONE);
	CHECK(srv_reason(s, "mike", CREATE, C, &m1, "name=M1", "territory=east.sh", "owner=carl", NULL) !=
	      ROVE_R_NONE);
	CHECK(srv_reason(s, "mike", CREATE, C, &m1, "name=M1", "territory=east.sh", "owner=ana", NULL) !=
	      ROVE_R_NONE);
	CHECK(srv_reason(s, "tina", CREATE, C, &t1, "name=T1", "territory=east.sh", "owner=mike", NULL) !=
	      ROVE_R_NONE); /* mike is above tina, not inside her subtree */
	/* ... and ones who can. */
	CHECK_EQ_INT(srv_reason(s, "mike", CREATE, C, &m1, "name=M1", "territory=east.sh", "owner=bob", NULL),
		     ROVE_R_NONE);
	CHECK_EQ_INT(strcmp(field(s, C, &m1, "owner"), "bob"), 0);
	CHECK_EQ_INT(srv_reason(s, "mike", CREATE, C, &m2, "name=M2", "territory=east.sh", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(strcmp(field(s, C, &m2, "owner"), "mike"), 0);
	CHECK_EQ_INT(srv_reason(s, "mike", CREATE, C, &m3, "name=M3", "territory=east.sh", "owner=null", NULL),
		     ROVE_R_NONE);
	CHECK_EQ_INT(strcmp(field(s, C, &m3, "owner"), ""), 0);
	CHECK_EQ_INT(srv_reason(s, "mike", CREATE, C, &m4, "name=M4", "territory=east.sh", "owner=tina", NULL),
		     ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "mike", CREATE, C, &m5, "name=M5", "territory=east.hz", "owner=carl", NULL),
		     ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "mike", CREATE, C, &m6, "name=M6", "territory=east.sh", "owner=mike", NULL),
		     ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "admin", CREATE, C, &a1, "name=A1", "territory=north.bj", "owner=nick", NULL),
		     ROVE_R_NONE);
	CHECK_EQ_INT(strcmp(field(s, C, &a1, "owner"), "nick"), 0);
	/* An admin's own create goes to the pool: admins own nothing. */
	CHECK_EQ_INT(srv_reason(s, "admin", CREATE, C, &a2, "name=A2", "territory=east.sh", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(strcmp(field(s, C, &a2, "owner"), ""), 0);
	/* ... also when it names the admin (a replica before its first
	 * sync, which does not know its role, names its author) */
	CHECK_EQ_INT(srv_reason(s, "admin", CREATE, C, &a0, "name=A0", "territory=east.sh", "owner=admin", NULL),
		     ROVE_R_NONE);
	CHECK_EQ_INT(strcmp(field(s, C, &a0, "owner"), ""), 0);
	/* A rep's owner is the rep, whatever the op says (rule 2). */
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, C, &r1, "name=R1", "owner=bob", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(strcmp(field(s, C, &r1, "owner"), "alice"), 0);
	/* Admins and analysts claim nothing. */
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, C, &pool, "name=Pool", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "alice", RELEASE, C, &pool, "owner=null", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "admin", CLAIM, C, &pool, "owner=admin", NULL), ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(srv_reason(s, "ana", CLAIM, C, &pool, "owner=ana", NULL), ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(strcmp(field(s, C, &pool, "owner"), ""), 0);
	CHECK_EQ_INT(srv_reason(s, "tina", CLAIM, C, &pool, "owner=tina", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(strcmp(field(s, C, &pool, "owner"), "tina"), 0);
	srv_free(s);
}

/* ---- rule 6: managers and admins delete activities; nobody edits one ---- */

static void test_activity_deletes(void)
{
	srv *s = world();
	rove_uuid c = new_id(), a1 = new_id(), a2 = new_id(), a3 = new_id();
	char ids[ROVE_UUID_STRLEN + 1], cust[64];

	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, C, &c, "name=Alpha", NULL), ROVE_R_NONE);
	snprintf(cust, sizeof(cust), "customer=%s", srv_ids(&c, ids));
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, ACT, &a1, cust, "kind=visit", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, ACT, &a2, cust, "kind=call", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, ACT, &a3, cust, "kind=note", NULL), ROVE_R_NONE);
	/* Reps delete nothing, their own activities neither. */
	CHECK_EQ_INT(srv_reason(s, "alice", DELETE, ACT, &a1, "_deleted=#1", NULL), ROVE_R_FORBIDDEN);
	CHECK(!is_deleted(s, ACT, &a1));
	/* A manager outside the customer's subtree: not his. */
	CHECK_EQ_INT(srv_reason(s, "nora", DELETE, ACT, &a1, "_deleted=#1", NULL), ROVE_R_NOT_OWNER);
	CHECK(!is_deleted(s, ACT, &a1));
	/* Append-only forbids changes, for managers too... */
	CHECK_EQ_INT(srv_reason(s, "mike", UPDATE, ACT, &a1, "note=rewritten", NULL), ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(srv_reason(s, "mike", DELETE, ACT, &a1, "_deleted=#1", "note=x", NULL), ROVE_R_INVALID);
	/* ... not a manager's (within reach) or an admin's delete. */
	CHECK_EQ_INT(srv_reason(s, "mike", DELETE, ACT, &a1, "_deleted=#1", NULL), ROVE_R_NONE);
	CHECK(is_deleted(s, ACT, &a1));
	CHECK_EQ_INT(strcmp(field(s, ACT, &a1, "author"), "alice"), 0); /* a tombstone: nothing added */
	CHECK_EQ_INT(srv_reason(s, "tina", DELETE, ACT, &a2, "_deleted=#1", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "admin", DELETE, ACT, &a3, "_deleted=#1", NULL), ROVE_R_NONE);
	CHECK(is_deleted(s, ACT, &a2) && is_deleted(s, ACT, &a3));
	/* Deleted is deleted. */
	CHECK_EQ_INT(srv_reason(s, "mike", DELETE, ACT, &a1, "_deleted=#1", NULL), ROVE_R_DELETED);
	srv_free(s);
}

/* ---- rule 6: a deleted customer's children go with it ---- */

static void test_deleted_children(void)
{
	srv *s = world();
	rove_uuid c = new_id(), ct = new_id(), k = new_id(), o = new_id(), a = new_id();
	rove_uuid c2 = new_id(), o2 = new_id(), a2 = new_id();
	rove_record *rec = malloc(sizeof(*rec));
	char ids[ROVE_UUID_STRLEN + 1], cust[64];
	uint64_t form = 0, head = 0, head2 = 0;
	MDB_txn *txn = NULL;

	CHECK(rec != NULL);
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, C, &c, "name=Doomed", NULL), ROVE_R_NONE);
	snprintf(cust, sizeof(cust), "customer=%s", srv_ids(&c, ids));
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, CONTACT, &ct, cust, "name=Ms Zhou", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, CONTRACT, &k, cust, "number=HT-9", "amount=#100", NULL),
		     ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, OPP, &o, cust, "title=Deal", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, ACT, &a, cust, "kind=visit", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "mike", DELETE, C, &c, "_deleted=#1", NULL), ROVE_R_NONE);
	CHECK(is_deleted(s, CONTACT, &ct) && is_deleted(s, CONTRACT, &k) && is_deleted(s, OPP, &o) &&
	      is_deleted(s, ACT, &a));

	/* A database from before: a customer deleted with its children left
	 * live (written here without the policy), and not yet repaired. The
	 * next start deletes them, once. */
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, C, &c2, "name=Old Doomed", NULL), ROVE_R_NONE);
	snprintf(cust, sizeof(cust), "customer=%s", srv_ids(&c2, ids));
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, OPP, &o2, cust, "title=Old deal", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, ACT, &a2, cust, "kind=call", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_get(s, C, &c2, rec), ROVE_OK);
	CHECK_EQ_INT(rove_fields_set(&rec->fs, ROVE_FIELD_DELETED, rove_vint(1), rec->fs.f[0].st), ROVE_OK);
	CHECK_EQ_INT(rove_store_begin(&s->e.st, NULL, true, &txn), ROVE_OK);
	CHECK_EQ_INT(rove_store_record_put(&s->e.st, txn, rec, NULL), ROVE_OK);
	CHECK_EQ_INT(rove_store_meta_put(&s->e.st, txn, "policy:repaired", 0), ROVE_OK);
	CHECK_EQ_INT(rove_store_commit(txn), ROVE_OK);
	CHECK(is_deleted(s, C, &c2) && !is_deleted(s, OPP, &o2) && !is_deleted(s, ACT, &a2));
	CHECK_EQ_INT(srv_restart(s), ROVE_OK);
	CHECK(is_deleted(s, OPP, &o2) && is_deleted(s, ACT, &a2));
	CHECK_EQ_INT(rove_store_begin(&s->e.st, NULL, false, &txn), ROVE_OK);
	CHECK_EQ_INT(rove_store_meta_get(&s->e.st, txn, "policy:repaired", &form), ROVE_OK);
	CHECK_EQ_INT(rove_store_head(&s->e.st, txn, &head), ROVE_OK);
	rove_store_abort(txn);
	CHECK_EQ_INT((int)form, 1);
	/* Once: the next start writes nothing. */
	CHECK_EQ_INT(srv_restart(s), ROVE_OK);
	CHECK_EQ_INT(rove_store_begin(&s->e.st, NULL, false, &txn), ROVE_OK);
	CHECK_EQ_INT(rove_store_head(&s->e.st, txn, &head2), ROVE_OK);
	rove_store_abort(txn);
	CHECK_EQ_INT((int)head2, (int)head);
	free(rec);
	srv_free(s);
}

/* ---- rule 7: a customer moves only where its owner works ---- */

static void test_territory_moves(void)
{
	srv *s = world();
	rove_uuid a = new_id(), p = new_id(), m = new_id(), t = new_id();

	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, C, &a, "name=Alpha", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "mike", CREATE, C, &m, "name=Mike's", "territory=east.sh", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "tina", CREATE, C, &t, "name=Tina's", "territory=east.sh", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "mike", CREATE, C, &p, "name=Pool", "territory=east.sh", "owner=null", NULL),
		     ROVE_R_NONE);
	/* alice works in east.sh only: her customer stays there. */
	CHECK_EQ_INT(srv_reason(s, "mike", UPDATE, C, &a, "territory=east.hz", NULL), ROVE_R_NOT_IN_TERRITORY);
	CHECK_EQ_INT(strcmp(s->line, "alice does not work in east.hz: reassign the customer first"), 0);
	CHECK_EQ_INT(srv_reason(s, "mike", UPDATE, C, &a, "territory=east", NULL), ROVE_R_NOT_IN_TERRITORY);
	CHECK_EQ_INT(srv_reason(s, "admin", UPDATE, C, &a, "territory=north.bj", NULL), ROVE_R_NOT_IN_TERRITORY);
	CHECK_EQ_INT(strcmp(field(s, C, &a, "territory"), "east.sh"), 0);
	CHECK_EQ_INT(srv_reason(s, "mike", UPDATE, C, &a, "territory=east.sh", "tier=loyal", NULL), ROVE_R_NONE);
	/* A manager owns customers anywhere in his subtree; tina's is east.sh. */
	CHECK_EQ_INT(srv_reason(s, "mike", UPDATE, C, &m, "territory=east.hz", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "mike", UPDATE, C, &t, "territory=east.hz", NULL), ROVE_R_NOT_IN_TERRITORY);
	CHECK_EQ_INT(srv_reason(s, "admin", UPDATE, C, &m, "territory=north.bj", NULL), ROVE_R_NOT_IN_TERRITORY);
	/* A pool customer has no owner to leave behind. */
	CHECK_EQ_INT(srv_reason(s, "mike", UPDATE, C, &p, "territory=east.hz", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "admin", UPDATE, C, &p, "territory=north.bj", NULL), ROVE_R_NONE);
	/* Reassigned first, it moves. */
	{
		char ids[ROVE_UUID_STRLEN + 1];
		CHECK_EQ_INT(srv_admin(s, "admin", "reassign.customer", srv_ids(&a, ids), "mike", NULL), ROVE_OK);
	}
	CHECK_EQ_INT(srv_reason(s, "mike", UPDATE, C, &a, "territory=east.hz", NULL), ROVE_R_NONE);
	srv_free(s);
}

/* ---- D3: who sees a refused change ---- */

static void test_conflicts_reach(void)
{
	srv *s = world();
	rove_uuid x = new_id(), e = new_id(), y = new_id();

	/* alice (east.sh) tries to create in north.bj. */
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, C, &x, "name=Far", "territory=north.bj", NULL),
		     ROVE_R_NOT_IN_TERRITORY);
	CHECK_EQ_INT(srv_conflicts_about(s, "admin", &x), 1);
	CHECK_EQ_INT(srv_conflicts_about(s, "mike", &x), 1); /* alice's manager, wherever she wrote */
	CHECK_EQ_INT(srv_conflicts_about(s, "tina", &x), 1); /* likewise, lower down */
	CHECK_EQ_INT(srv_conflicts_about(s, "nora", &x), 1); /* the record's territory */
	CHECK_EQ_INT(srv_conflicts_about(s, "wes", &x), 0);

	/* nick (north.bj) writes to an east customer. */
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, C, &e, "name=East", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "nick", UPDATE, C, &e, "tier=loyal", NULL), ROVE_R_NOT_OWNER);
	CHECK_EQ_INT(srv_conflicts_about(s, "mike", &e), 1);
	CHECK_EQ_INT(srv_conflicts_about(s, "nora", &e), 1);
	CHECK_EQ_INT(srv_conflicts_about(s, "wes", &e), 0);
	CHECK_EQ_INT(srv_conflicts_about(s, "admin", &e), 1);

	/* carl (east.hz) in west: east's manager, west's, not tina or north. */
	CHECK_EQ_INT(srv_reason(s, "carl", CREATE, C, &y, "name=W", "territory=west", NULL),
		     ROVE_R_NOT_IN_TERRITORY);
	CHECK_EQ_INT(srv_conflicts_about(s, "mike", &y), 1);
	CHECK_EQ_INT(srv_conflicts_about(s, "wes", &y), 1);
	CHECK_EQ_INT(srv_conflicts_about(s, "tina", &y), 0);
	CHECK_EQ_INT(srv_conflicts_about(s, "nora", &y), 0);

	/* Reps and analysts have no conflict list. */
	CHECK_EQ_INT(srv_conflicts_about(s, "alice", &x), -1);
	CHECK_EQ_INT(srv_conflicts_about(s, "ana", &x), -1);
	srv_free(s);
}

/* ---- D4: outside the user's scope, a refusal says only its reason ---- */

/* srv_reason, and the detail must be empty. */
#define CHECK_ALONE(reason, call)                                                                          \
	do {                                                                                               \
		CHECK_EQ_INT(call, reason);                                                                \
		CHECK_EQ_INT(strcmp(s->line, ""), 0);                                                      \
	} while (0)

static void test_refusal_details(void)
{
	srv *s = world();
	rove_uuid a = new_id(), p = new_id(), missing = new_id(), dup = new_id(), mine = new_id(), z = new_id();
	rove_uuid owned = new_id(), pool = new_id(), gone = new_id(), race = new_id(), pooled = new_id();
	rove_uuid act = new_id(), act2 = new_id();
	char ids[ROVE_UUID_STRLEN + 1], cust[64];

	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, C, &a, "name=Alpha", "phone=13900000002", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "nick", CREATE, C, &p, "name=North pool", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "nick", RELEASE, C, &p, "owner=null", NULL), ROVE_R_NONE);

	/* Another rep's customer, a pool customer elsewhere, no record: one
	 * answer, so that it tells nothing of the record. */
	CHECK_ALONE(ROVE_R_NOT_OWNER, srv_reason(s, "bob", CLAIM, C, &a, "owner=bob", NULL));
	CHECK_ALONE(ROVE_R_NOT_OWNER, srv_reason(s, "bob", UPDATE, C, &a, "tier=loyal", NULL));
	CHECK_ALONE(ROVE_R_NOT_OWNER, srv_reason(s, "alice", CLAIM, C, &p, "owner=alice", NULL));
	CHECK_ALONE(ROVE_R_NOT_OWNER, srv_reason(s, "alice", UPDATE, C, &missing, "tier=loyal", NULL));
	CHECK_ALONE(ROVE_R_NOT_OWNER, srv_reason(s, "alice", CLAIM, C, &missing, "owner=alice", NULL));
	CHECK_ALONE(ROVE_R_NOT_OWNER, srv_reason(s, "wes", UPDATE, C, &a, "tier=loyal", NULL));
	CHECK_ALONE(ROVE_R_NOT_OWNER, srv_reason(s, "wes", DELETE, C, &missing, "_deleted=#1", NULL));
	/* A duplicate names the existing customer, whoever asks. */
	CHECK_EQ_INT(srv_reason(s, "nick", CREATE, C, &dup, "name=Copy", "phone=139-0000-0002", NULL),
		     ROVE_R_DUPLICATE);
	CHECK_EQ_INT(strcmp(s->line, srv_ids(&a, ids)), 0);

	/* The tester's oracle: a rep of the north probes east's customers by
	 * id - owned, in the pool, deleted, none - and learns nothing. */
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, C, &owned, "name=Owned", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, C, &pool, "name=Pooled", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "alice", RELEASE, C, &pool, "owner=null", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, C, &gone, "name=Gone", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "mike", DELETE, C, &gone, "_deleted=#1", NULL), ROVE_R_NONE);
	{
		const rove_uuid *probes[] = {&owned, &pool, &gone, &missing};
		for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
			rove_uuid kid = new_id();
			snprintf(cust, sizeof(cust), "customer=%s", srv_ids(probes[i], ids));
			CHECK_ALONE(ROVE_R_NOT_OWNER, srv_reason(s, "nick", UPDATE, C, probes[i], "name=x", NULL));
			CHECK_ALONE(ROVE_R_NOT_OWNER, srv_reason(s, "nick", CLAIM, C, probes[i], "owner=nick", NULL));
			CHECK_ALONE(ROVE_R_NOT_OWNER, srv_reason(s, "nick", RELEASE, C, probes[i], "owner=null", NULL));
			CHECK_ALONE(ROVE_R_NOT_OWNER, srv_reason(s, "nick", CREATE, CONTACT, &kid, cust, "name=Spy", NULL));
			CHECK_ALONE(ROVE_R_NOT_OWNER, srv_reason(s, "nora", DELETE, C, probes[i], "_deleted=#1", NULL));
			CHECK_ALONE(ROVE_R_NOT_OWNER, srv_reason(s, "nora", UPDATE, C, probes[i], "tier=loyal", NULL));
			/* A rep's delete: refused by the role alone, the same for
			 * all, with the rule's own words (about the op, not the
			 * record). */
			CHECK_EQ_INT(srv_reason(s, "nick", DELETE, C, probes[i], "_deleted=#1", NULL), ROVE_R_FORBIDDEN);
			CHECK_EQ_INT(strcmp(s->line, "reps delete nothing"), 0);
			if (probes[i] != &missing) /* a create with an existing id */
				CHECK_ALONE(ROVE_R_NOT_OWNER, srv_reason(s, "nick", CREATE, C, probes[i], "name=x",
									 "territory=north.bj", NULL));
		}
		/* ... and one that does not exist is simply created. */
		CHECK_EQ_INT(srv_reason(s, "nick", CREATE, C, &missing, "name=x", "territory=north.bj", NULL),
			     ROVE_R_NONE);
	}
	/* Records the user held keep their reasons: a deleted customer of
	 * one's own, with its detail; a pool customer of one's territory
	 * claimed first by another, the reason alone (rule 5). */
	CHECK_EQ_INT(srv_reason(s, "alice", UPDATE, C, &gone, "tier=loyal", NULL), ROVE_R_DELETED);
	CHECK(s->line[0] != '\0');
	CHECK_EQ_INT(srv_reason(s, "mike", UPDATE, C, &gone, "tier=loyal", NULL), ROVE_R_DELETED);
	CHECK_EQ_INT(srv_reason(s, "bob", CLAIM, C, &pool, "owner=bob", NULL), ROVE_R_NONE);
	CHECK_ALONE(ROVE_R_ALREADY_CLAIMED, srv_reason(s, "alice", CLAIM, C, &pool, "owner=alice", NULL));
	CHECK_EQ_INT(srv_reason(s, "carl", CREATE, C, &race, "name=Race", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "carl", RELEASE, C, &race, "owner=null", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "mike", CLAIM, C, &race, "owner=mike", NULL), ROVE_R_NONE);
	CHECK_ALONE(ROVE_R_NOT_OWNER, srv_reason(s, "alice", CLAIM, C, &race, "owner=alice", NULL)); /* east.hz */
	CHECK_EQ_INT(srv_reason(s, "mike", CREATE, C, &pooled, "name=Pooled", "territory=east.sh", "owner=null", NULL),
		     ROVE_R_NONE);
	/* A pool customer of one's territory takes no visit: the reason says
	 * why (rule 4: pool customers are written by managers and admins). */
	snprintf(cust, sizeof(cust), "customer=%s", srv_ids(&pooled, ids));
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, ACT, &act, cust, "kind=visit", NULL), ROVE_R_NOT_OWNER);
	CHECK_EQ_INT(strcmp(s->line, "the customer is in the public pool: claim it first"), 0);
	CHECK_EQ_INT(srv_reason(s, "mike", CREATE, ACT, &act, cust, "kind=visit", NULL), ROVE_R_NONE);
	/* Claimed by bob first, alice (who never owned it) learns it was
	 * claimed: her replica held it in the pool (rule 5). */
	CHECK_EQ_INT(srv_reason(s, "bob", CLAIM, C, &pooled, "owner=bob", NULL), ROVE_R_NONE);
	CHECK_ALONE(ROVE_R_ALREADY_CLAIMED, srv_reason(s, "alice", CLAIM, C, &pooled, "owner=alice", NULL));
	CHECK_ALONE(ROVE_R_NOT_OWNER, srv_reason(s, "nick", CLAIM, C, &pooled, "owner=nick", NULL));
	/* One who released it, or saw it recycled, is told so. */
	CHECK_EQ_INT(srv_reason(s, "bob", RELEASE, C, &pool, "owner=null", NULL), ROVE_R_NONE);
	snprintf(cust, sizeof(cust), "customer=%s", srv_ids(&pool, ids));
	CHECK_EQ_INT(srv_reason(s, "bob", CREATE, ACT, &act2, cust, "kind=visit", NULL), ROVE_R_REASSIGNED);
	CHECK_EQ_INT(strcmp(s->line, "the customer went back to the public pool: claim it first"), 0);

	/* Inside the scope the detail helps. */
	CHECK_EQ_INT(srv_admin(s, "admin", "territory.set", "east.sh", "release_reason=1", NULL), ROVE_OK);
	CHECK_EQ_INT(srv_reason(s, "alice", RELEASE, C, &a, "owner=null", NULL), ROVE_R_INVALID);
	CHECK(strstr(s->line, "reason") != NULL);
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, C, &mine, "name=Far", "territory=north.bj", NULL),
		     ROVE_R_NOT_IN_TERRITORY);
	CHECK(strstr(s->line, "north.bj") != NULL); /* about what the op itself says */
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, C, &mine, "name=Far", "territory=nowhere", NULL),
		     ROVE_R_NOT_IN_TERRITORY); /* whether a territory exists is not said either */
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, C, &a, "name=Again", NULL), ROVE_R_INVALID);
	CHECK(strstr(s->line, "exists") != NULL);

	/* Once reassigned away, the customer is outside alice's scope. */
	CHECK_EQ_INT(srv_admin(s, "admin", "reassign.customer", srv_ids(&a, ids), "bob", NULL), ROVE_OK);
	CHECK_ALONE(ROVE_R_REASSIGNED, srv_reason(s, "alice", UPDATE, C, &a, "tier=loyal", NULL));
	/* A child of someone else's customer. */
	snprintf(cust, sizeof(cust), "customer=%s", ids);
	CHECK_ALONE(ROVE_R_NOT_OWNER, srv_reason(s, "nick", CREATE, CONTACT, &z, cust, "name=Spy", NULL));
	srv_free(s);
}

/* ---- rule 3: a phone written another way is the same phone ---- */

static void test_phone_dodges(void)
{
	static const char *const mobile[] = {"phone=+0086 13800001111", "phone=+86 0086 138 0000 1111",
					     "phone=13800001111 \xe8\xbd\xac 0", "phone=138 0000 1111 ext 1",
					     "phone=86 86 13800001111"};
	static const char *const landline[] = {"phone=+0086 021-5555-0101", "phone=021-5555-0101 \xe8\xbd\xac 0",
					       "phone=+86 21 5555 0101"};
	srv *s = world();
	rove_uuid m = new_id(), l = new_id(), x = new_id(), ext = new_id();
	char mids[ROVE_UUID_STRLEN + 1], lids[ROVE_UUID_STRLEN + 1], ids[ROVE_UUID_STRLEN + 1];

	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, C, &m, "name=Mobile", "phone=13800001111", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, C, &l, "name=Board", "phone=021-5555-0101", NULL), ROVE_R_NONE);
	srv_ids(&m, mids);
	srv_ids(&l, lids);
	for (size_t i = 0; i < sizeof(mobile) / sizeof(mobile[0]); i++) {
		CHECK_EQ_INT(srv_reason(s, "nick", CREATE, C, &x, "name=Copy", mobile[i], NULL), ROVE_R_DUPLICATE);
		CHECK_EQ_INT(strcmp(s->line, mids), 0);
	}
	for (size_t i = 0; i < sizeof(landline) / sizeof(landline[0]); i++) {
		CHECK_EQ_INT(srv_reason(s, "bob", CREATE, C, &x, "name=Copy", landline[i], NULL), ROVE_R_DUPLICATE);
		CHECK_EQ_INT(strcmp(s->line, lids), 0);
	}
	/* Kept as typed. */
	CHECK_EQ_INT(srv_reason(s, "alice", UPDATE, C, &l, "phone=021-5555-0101 \xe8\xbd\xac 8", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(strcmp(field(s, C, &l, "phone"), "021-5555-0101 \xe8\xbd\xac 8"), 0);
	CHECK_EQ_INT(srv_reason(s, "bob", CREATE, C, &x, "name=Copy", "phone=02155550101", NULL), ROVE_R_DUPLICATE);

	/* A database whose index was made under the old rules (an extension
	 * was another phone): rebuilt when the server opens it. */
	CHECK_EQ_INT(srv_reason(s, "carl", CREATE, C, &ext, "name=Ext", "phone=0571-8888-0001 x 12", NULL),
		     ROVE_R_NONE);
	{
		static const char old_key[] = "tel:+8657188880001;ext=12", new_key[] = "tel:+8657188880001";
		MDB_txn *txn;
		MDB_val k = {sizeof(new_key) - 1, (void *)new_key}, v = {16, ext.b};
		CHECK(mdb_txn_begin(s->e.st.env, NULL, 0, &txn) == 0);
		CHECK(mdb_del(txn, s->e.ps.uniq, &k, NULL) == 0);
		k = (MDB_val){sizeof(old_key) - 1, (void *)old_key};
		CHECK(mdb_put(txn, s->e.ps.uniq, &k, &v, 0) == 0);
		k = (MDB_val){strlen("uniq_form"), "uniq_form"};
		CHECK(mdb_del(txn, s->e.st.meta, &k, NULL) == 0);
		CHECK(mdb_txn_commit(txn) == 0);
	}
	CHECK_EQ_INT(srv_restart(s), ROVE_OK);
	CHECK_EQ_INT(srv_reason(s, "carl", CREATE, C, &x, "name=Copy", "phone=0571 8888 0001", NULL), ROVE_R_DUPLICATE);
	CHECK_EQ_INT(strcmp(s->line, srv_ids(&ext, ids)), 0);
	CHECK_EQ_INT(srv_reason(s, "nick", CREATE, C, &x, "name=Copy", "phone=+86 138 0000 1111", NULL),
		     ROVE_R_DUPLICATE);
	CHECK_EQ_INT(strcmp(s->line, mids), 0);
	srv_free(s);
}

/* ---- F: valid references and times, closed deals ---- */

static void iso(uint64_t ms, char *out, size_t len, bool date_only)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, len, date_only ? "%Y-%m-%d" : "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void test_valid_data(void)
{
	srv *s = world();
	rove_uuid c = new_id(), d_east = new_id(), d_sh = new_id(), d_bj = new_id(), d_gone = new_id();
	rove_uuid c2 = new_id(), o = new_id(), o2 = new_id(), o3 = new_id(), o4 = new_id(), o5 = new_id();
	char ids[ROVE_UUID_STRLEN + 1], cust[64], ref[128], at[64], today[16];
	uint64_t now = rove_wall_ms();

	iso(now, today, sizeof(today), true);
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, C, &c, "name=Alpha", NULL), ROVE_R_NONE);
	snprintf(cust, sizeof(cust), "customer=%s", srv_ids(&c, ids));

	/* An activity's time: not later than the server's (plus the skew). */
	{
		rove_uuid a1 = new_id(), a2 = new_id(), a3 = new_id(), a4 = new_id(), a5 = new_id();
		CHECK_EQ_INT(srv_reason(s, "alice", CREATE, ACT, &a1, cust, "kind=visit", "at=2099-01-01", NULL),
			     ROVE_R_INVALID);
		iso(now + 20 * 60 * 1000, at, sizeof(at), false);
		snprintf(ref, sizeof(ref), "at=%s", at);
		CHECK_EQ_INT(srv_reason(s, "alice", CREATE, ACT, &a2, cust, "kind=call", ref, NULL), ROVE_R_INVALID);
		CHECK_EQ_INT(strcmp(field(s, C, &c, "last_activity_at"), ""), 0);
		iso(now + 2 * 60 * 1000, at, sizeof(at), false);
		snprintf(ref, sizeof(ref), "at=%s", at);
		CHECK_EQ_INT(srv_reason(s, "alice", CREATE, ACT, &a3, cust, "kind=call", ref, NULL), ROVE_R_NONE);
		iso(now - 86400000, at, sizeof(at), true);
		snprintf(ref, sizeof(ref), "at=%s", at);
		CHECK_EQ_INT(srv_reason(s, "alice", CREATE, ACT, &a4, cust, "kind=note", ref, NULL), ROVE_R_NONE);
		snprintf(ref, sizeof(ref), "at=%s", today);
		CHECK_EQ_INT(srv_reason(s, "alice", CREATE, ACT, &a5, cust, "kind=note", ref, NULL), ROVE_R_NONE);
	}
	/* Every activity has a time, stored in one form: full UTC. Without
	 * one, the server's time on arrival. */
	{
		rove_uuid a6 = new_id(), a7 = new_id(), a8 = new_id();
		uint64_t ms = 0;
		bool zoned;
		const char *got;
		CHECK_EQ_INT(srv_reason(s, "alice", CREATE, ACT, &a6, cust, "kind=visit", NULL), ROVE_R_NONE);
		got = field(s, ACT, &a6, "at");
		CHECK(strlen(got) == 20 && rove_schema_time_ms(got, &ms, &zoned) && zoned);
		CHECK(ms + 5000 >= now && ms <= rove_wall_ms() + 1000);
		CHECK_EQ_INT(srv_reason(s, "alice", CREATE, ACT, &a7, cust, "kind=visit", "at=null", NULL), ROVE_R_NONE);
		CHECK_EQ_INT(strlen(field(s, ACT, &a7, "at")), 20);
		CHECK_EQ_INT(srv_reason(s, "alice", CREATE, ACT, &a8, cust, "kind=visit", "at=2026-11-01T08:15Z", NULL),
			     ROVE_R_NONE);
		CHECK_EQ_INT(strcmp(field(s, ACT, &a8, "at"), "2026-11-01T08:15:00Z"), 0);
		CHECK_EQ_INT(strcmp(field(s, C, &c, "last_activity_at"), field(s, ACT, &a6, "at")), 0);
	}

	/* A customer's dealer: a live dealer of its territory or above. */
	CHECK_EQ_INT(srv_reason(s, "admin", CREATE, DEALER, &d_east, "name=DE", "territory=east", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "mike", CREATE, DEALER, &d_sh, "name=DS", "territory=east.sh", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "nora", CREATE, DEALER, &d_bj, "name=DB", "territory=north.bj", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "mike", CREATE, DEALER, &d_gone, "name=DG", "territory=east.sh", NULL),
		     ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "mike", DELETE, DEALER, &d_gone, "_deleted=#1", NULL), ROVE_R_NONE);
	snprintf(ref, sizeof(ref), "dealer=%s", srv_ids(&c, ids));
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, C, &c2, "name=B", ref, NULL), ROVE_R_INVALID);
	snprintf(ref, sizeof(ref), "dealer=%s", srv_ids(&d_bj, ids));
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, C, &c2, "name=B", ref, NULL), ROVE_R_INVALID);
	snprintf(ref, sizeof(ref), "dealer=%s", srv_ids(&d_gone, ids));
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, C, &c2, "name=B", ref, NULL), ROVE_R_INVALID);
	snprintf(ref, sizeof(ref), "dealer=%s", srv_ids(&o, ids)); /* nothing */
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, C, &c2, "name=B", ref, NULL), ROVE_R_INVALID);
	snprintf(ref, sizeof(ref), "dealer=%s", srv_ids(&d_east, ids));
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, C, &c2, "name=B", ref, NULL), ROVE_R_NONE);
	snprintf(ref, sizeof(ref), "dealer=%s", srv_ids(&d_sh, ids));
	CHECK_EQ_INT(srv_reason(s, "alice", UPDATE, C, &c2, ref, NULL), ROVE_R_NONE);
	snprintf(ref, sizeof(ref), "dealer=%s", srv_ids(&d_bj, ids));
	CHECK_EQ_INT(srv_reason(s, "alice", UPDATE, C, &c2, ref, NULL), ROVE_R_INVALID);
	CHECK_EQ_INT(strcmp(field(s, C, &c2, "dealer"), srv_ids(&d_sh, ids)), 0);
	/* Moving the customer where its dealer is not: refused too (in the
	 * pool: an owned one moves only where its owner works). */
	CHECK_EQ_INT(srv_reason(s, "alice", RELEASE, C, &c2, "owner=null", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "mike", UPDATE, C, &c2, "territory=east.hz", NULL), ROVE_R_INVALID);
	CHECK_EQ_INT(srv_reason(s, "mike", UPDATE, C, &c2, "territory=east.hz", "dealer=null", NULL), ROVE_R_NONE);

	/* closed_on is the server's: set when a deal is won or lost, however
	 * it is changed, cleared when it is reopened. */
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, OPP, &o, cust, "title=Deal", "stage=proposal", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(strcmp(field(s, OPP, &o, "closed_on"), ""), 0);
	CHECK_EQ_INT(srv_reason(s, "alice", UPDATE, OPP, &o, "stage=won", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(strcmp(field(s, OPP, &o, "closed_on"), today), 0);
	/* closed: the rep reopens it no more (rule 14), her manager may */
	CHECK_EQ_INT(srv_reason(s, "alice", UPDATE, OPP, &o, "stage=negotiation", NULL), ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(srv_reason(s, "alice", UPDATE, OPP, &o, "title=Other", NULL), ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(srv_reason(s, "mike", UPDATE, OPP, &o, "stage=negotiation", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(strcmp(field(s, OPP, &o, "closed_on"), ""), 0);
	CHECK_EQ_INT(srv_reason(s, "alice", UPDATE, OPP, &o, "stage=lost", "closed_on=2020-01-01", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(strcmp(field(s, OPP, &o, "closed_on"), today), 0);
	CHECK_EQ_INT(srv_reason(s, "alice", UPDATE, OPP, &o, "closed_on=2020-01-01", NULL), ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(strcmp(field(s, OPP, &o, "closed_on"), today), 0);
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, OPP, &o2, cust, "title=Won", "stage=won", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(strcmp(field(s, OPP, &o2, "closed_on"), today), 0);
	/* A deal a manager or admin creates closed (a past one, imported)
	 * keeps its day, which cannot be in the future; a rep's closes
	 * today; an open one created with a day has none. */
	CHECK_EQ_INT(srv_reason(s, "mike", CREATE, OPP, &o3, cust, "title=Old", "stage=won", "closed_on=2024-03-15",
				NULL), ROVE_R_NONE);
	CHECK_EQ_INT(strcmp(field(s, OPP, &o3, "closed_on"), "2024-03-15"), 0);
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, OPP, &o5, cust, "title=Mine", "stage=won", "closed_on=2024-03-15",
				NULL), ROVE_R_NONE);
	CHECK_EQ_INT(strcmp(field(s, OPP, &o5, "closed_on"), today), 0);
	CHECK_EQ_INT(srv_reason(s, "admin", CREATE, OPP, &o4, cust, "title=Soon", "stage=lost", "closed_on=2098-01-01",
				NULL), ROVE_R_INVALID);
	CHECK_EQ_INT(srv_reason(s, "mike", CREATE, OPP, &o4, cust, "title=Open", "stage=lead", "closed_on=2024-03-15",
				NULL), ROVE_R_NONE);
	CHECK_EQ_INT(strcmp(field(s, OPP, &o4, "closed_on"), ""), 0);
	srv_free(s);
}

/* ---- the policy's questions, asked directly ---- */

/* rove_policy_reads answers what rove_policy_sees says of the user's whole
 * list of scopes, for every user and every record of a world. */
static void test_reads_is_sees(void)
{
	static const char *const users[] = {"alice", "bob", "carl", "nick", "mike", "tina", "nora", "wes", "ana",
					    "admin"};
	srv *s = world();
	rove_uuid c1 = new_id(), c2 = new_id(), c3 = new_id(), ct = new_id(), d = new_id();
	rove_record *rec = malloc(sizeof(*rec));
	rove_user_scopes *us = malloc(sizeof(*us));
	char ids[ROVE_UUID_STRLEN + 1], cust[64];
	rove_policy_ctx pc;
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	int compared = 0, mrc;

	CHECK(rec != NULL && us != NULL);
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, C, &c1, "name=A", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "carl", CREATE, C, &c2, "name=C", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "carl", RELEASE, C, &c2, "owner=null", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "nora", CREATE, C, &c3, "name=N", "territory=north.bj", NULL), ROVE_R_NONE);
	snprintf(cust, sizeof(cust), "customer=%s", srv_ids(&c1, ids));
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, CONTACT, &ct, cust, "name=X", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "mike", CREATE, DEALER, &d, "name=D", "territory=east.hz", NULL), ROVE_R_NONE);
	CHECK(mdb_txn_begin(s->e.st.env, NULL, MDB_RDONLY, &txn) == 0);
	pc = (rove_policy_ctx){&s->e.st, &s->e.ps, txn, 0, NULL, false, {0}};
	for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		rove_user u;
		CHECK_EQ_INT(rove_store_user_get(&s->e.st, txn, users[i], &u, NULL), ROVE_OK);
		CHECK_EQ_INT(rove_policy_user_scopes(&pc, &u, us), ROVE_OK);
		CHECK(mdb_cursor_open(txn, s->e.st.records, &cur) == 0);
		for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			rove_scopes rs;
			bool reads = false;
			CHECK(rove_dec_record(v.mv_data, v.mv_size, rec) == ROVE_OK);
			CHECK_EQ_INT(rove_policy_scopes(&pc, rec, NULL, &rs), ROVE_OK);
			CHECK_EQ_INT(rove_policy_reads(&pc, &u, &rs, &reads), ROVE_OK);
			if (reads != rove_policy_sees(us, &rs))
				fprintf(stderr, "%s: reads %d, sees %d a record of %u\n", users[i], reads,
					rove_policy_sees(us, &rs), rec->coll);
			CHECK(reads == rove_policy_sees(us, &rs));
			compared++;
		}
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
	CHECK(compared > 100);
	free(rec);
	free(us);
	srv_free(s);
}

/* Yes and no are answers; a storage error is neither. */
static void test_in_reach(void)
{
	srv *s = world();
	rove_user mike, alice;
	rove_policy_ctx pc;
	MDB_txn *txn;
	MDB_dbi saved;
	bool in = true;

	CHECK_EQ_INT(srv_user_get(s, "mike", &mike), ROVE_OK);
	CHECK_EQ_INT(srv_user_get(s, "alice", &alice), ROVE_OK);
	CHECK(mdb_txn_begin(s->e.st.env, NULL, MDB_RDONLY, &txn) == 0);
	pc = (rove_policy_ctx){&s->e.st, &s->e.ps, txn, 0, NULL, false, {0}};
	CHECK_EQ_INT(rove_policy_in_reach(&pc, &mike, "east.sh", &in), ROVE_OK);
	CHECK(in);
	CHECK_EQ_INT(rove_policy_in_reach(&pc, &mike, "east", &in), ROVE_OK);
	CHECK(in);
	CHECK_EQ_INT(rove_policy_in_reach(&pc, &mike, "north.bj", &in), ROVE_OK);
	CHECK(!in);
	CHECK_EQ_INT(rove_policy_in_reach(&pc, &mike, "nowhere", &in), ROVE_OK);
	CHECK(!in);
	CHECK_EQ_INT(rove_policy_in_reach(&pc, &alice, "east", &in), ROVE_OK);
	CHECK(!in); /* east.sh's rep: not above her territory */
	saved = s->e.ps.codes;
	s->e.ps.codes = 250;
	CHECK_EQ_INT(rove_policy_in_reach(&pc, &mike, "east.sh", &in), ROVE_EDB);
	s->e.ps.codes = saved;
	mdb_txn_abort(txn);
	srv_free(s);
}

/* The rules without data, as the command line applies them too. */
static void test_rules(void)
{
	char detail[ROVE_MAX_DETAIL + 1];
	rove_op *op = malloc(sizeof(*op));
	rove_uuid id = new_id();
	uint64_t ms, now = 1796127600000ull; /* 2026-12-01T12:20:00Z */
	bool zoned;

	CHECK(op != NULL);
	CHECK(rove_schema_time_ms("2026-12-01T12:20:00Z", &ms, &zoned) && ms == now && zoned);
	CHECK(rove_schema_time_ms("2026-12-01", &ms, &zoned) && ms == now - (12 * 60 + 20) * 60000ull && !zoned);
	CHECK(rove_schema_time_ms("1980-01-01T00:00", &ms, &zoned) && ms == 315532800000ull && !zoned);
	CHECK(!rove_schema_time_ms("1970-01-01T00:00", &ms, &zoned)); /* before the plausible range */
	CHECK(!rove_schema_time_ms("2026-13-01", &ms, &zoned));
	CHECK(!rove_schema_time_ms("yesterday", &ms, &zoned));
	CHECK_EQ_INT(rove_rules_check_at("2026-12-01T12:24:59Z", now, detail, sizeof(detail)), ROVE_R_NONE);
	CHECK_EQ_INT(rove_rules_check_at("2026-12-01T12:25:01Z", now, detail, sizeof(detail)), ROVE_R_INVALID);
	CHECK_EQ_INT(rove_rules_check_at("2026-12-02", now, detail, sizeof(detail)), ROVE_R_NONE); /* UTC+14 */
	CHECK_EQ_INT(rove_rules_check_at("2026-12-03", now, detail, sizeof(detail)), ROVE_R_INVALID);
	CHECK_EQ_INT(rove_rules_check_at("2099-01-01", now, detail, sizeof(detail)), ROVE_R_INVALID);

	CHECK_EQ_INT(srv_op(op, DELETE, CONTACT, &id, "_deleted=#1", NULL), ROVE_OK);
	CHECK_EQ_INT(rove_rules_check_op(ROVE_ROLE_REP, op, detail, sizeof(detail)), ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(strcmp(detail, "reps delete nothing"), 0);
	CHECK_EQ_INT(rove_rules_check_op(ROVE_ROLE_MANAGER, op, detail, sizeof(detail)), ROVE_R_NONE);
	/* Activities are append-only: no changes, but a manager's delete. */
	CHECK_EQ_INT(srv_op(op, DELETE, ACT, &id, "_deleted=#1", NULL), ROVE_OK);
	CHECK_EQ_INT(rove_rules_check_op(ROVE_ROLE_MANAGER, op, detail, sizeof(detail)), ROVE_R_NONE);
	CHECK_EQ_INT(rove_rules_check_op(ROVE_ROLE_ADMIN, op, detail, sizeof(detail)), ROVE_R_NONE);
	CHECK_EQ_INT(rove_rules_check_op(ROVE_ROLE_REP, op, detail, sizeof(detail)), ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(srv_op(op, UPDATE, ACT, &id, "note=x", NULL), ROVE_OK);
	CHECK_EQ_INT(rove_rules_check_op(ROVE_ROLE_MANAGER, op, detail, sizeof(detail)), ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(srv_op(op, DELETE, CONTACT, &id, "_deleted=#2", NULL), ROVE_OK);
	CHECK_EQ_INT(rove_rules_check_op(ROVE_ROLE_MANAGER, op, detail, sizeof(detail)), ROVE_R_INVALID);
	CHECK_EQ_INT(srv_op(op, CREATE, C, &id, "name=X", "_deleted=#0", NULL), ROVE_OK);
	CHECK_EQ_INT(rove_rules_check_op(ROVE_ROLE_REP, op, detail, sizeof(detail)), ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(rove_rules_check_op(ROVE_ROLE_ADMIN, op, detail, sizeof(detail)), ROVE_R_INVALID);
	CHECK_EQ_INT(srv_op(op, UPDATE, C, &id, "owner=bob", NULL), ROVE_OK);
	CHECK_EQ_INT(rove_rules_check_op(ROVE_ROLE_ADMIN, op, detail, sizeof(detail)), ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(srv_op(op, UPDATE, C, &id, "territory=east.hz", NULL), ROVE_OK);
	CHECK_EQ_INT(rove_rules_check_op(ROVE_ROLE_REP, op, detail, sizeof(detail)), ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(rove_rules_check_op(ROVE_ROLE_MANAGER, op, detail, sizeof(detail)), ROVE_R_NONE);
	CHECK_EQ_INT(srv_op(op, CREATE, DEALER, &id, "name=D", "territory=east", NULL), ROVE_OK);
	CHECK_EQ_INT(rove_rules_check_op(ROVE_ROLE_REP, op, detail, sizeof(detail)), ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(rove_rules_check_op(ROVE_ROLE_ANALYST, op, detail, sizeof(detail)), ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(srv_op(op, UPDATE, OPP, &id, "closed_on=2026-01-01", NULL), ROVE_OK);
	CHECK_EQ_INT(rove_rules_check_op(ROVE_ROLE_MANAGER, op, detail, sizeof(detail)), ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(srv_op(op, CLAIM, C, &id, "owner=admin", NULL), ROVE_OK);
	CHECK_EQ_INT(rove_rules_check_op(ROVE_ROLE_ADMIN, op, detail, sizeof(detail)), ROVE_R_FORBIDDEN);
	/* What an edit form offers: the same rules on one field. */
	CHECK_EQ_INT(rove_rules_may_set(ROVE_ROLE_REP, ROVE_COLL_CUSTOMER, "territory", detail, sizeof(detail)),
		     ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(strcmp(detail, "reps cannot move a customer to another territory"), 0);
	CHECK_EQ_INT(rove_rules_may_set(ROVE_ROLE_MANAGER, ROVE_COLL_CUSTOMER, "territory", detail, sizeof(detail)),
		     ROVE_R_NONE);
	CHECK_EQ_INT(rove_rules_may_set(ROVE_ROLE_REP, ROVE_COLL_CUSTOMER, "phone", detail, sizeof(detail)), ROVE_R_NONE);
	CHECK_EQ_INT(rove_rules_may_set(ROVE_ROLE_REP, ROVE_COLL_OPPORTUNITY, "owner", detail, sizeof(detail)),
		     ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(rove_rules_may_set(ROVE_ROLE_MANAGER, ROVE_COLL_OPPORTUNITY, "owner", detail, sizeof(detail)),
		     ROVE_R_NONE);
	CHECK_EQ_INT(rove_rules_may_set(ROVE_ROLE_ADMIN, ROVE_COLL_OPPORTUNITY, "closed_on", detail, sizeof(detail)),
		     ROVE_R_FORBIDDEN);
	CHECK_EQ_INT(rove_rules_may_set(ROVE_ROLE_ANALYST, ROVE_COLL_CONTACT, "phone", detail, sizeof(detail)),
		     ROVE_R_FORBIDDEN);
	CHECK(!rove_rules_role_writes(ROVE_ROLE_ANALYST) && rove_rules_role_writes(ROVE_ROLE_REP));
	free(op);
}

/* ---- rule 11: an owner is warned warn_days before a recycling ---- */

/* How many notices of this kind customer c's owner was given. */
static int notices_of(srv *s, const rove_uuid *c, const char *kind)
{
	return srv_records_named(s, ROVE_COLL_NOTICE, c, "kind", kind);
}

/* The recycler's pass with the server's clock moved to day `day` after
 * the test began (the clock never goes back: days only grow). */
static void tick_on(srv *s, uint64_t start, int day)
{
	rove_hlc at = rove_hlc_from_ms(start + (uint64_t)day * ROVE_DAY_MS);

	if (at.v > s->e.clock.v)
		s->e.clock = at;
	if (rove_hlc_ms(at) > atomic_load(&s->e.now_ms))
		atomic_store(&s->e.now_ms, rove_hlc_ms(at)); /* the server's time: days later */
	CHECK_EQ_INT(rove_engine_tick(&s->e), ROVE_OK);
}

static void old_visit(srv *s, const char *user, const rove_uuid *c, const char *at)
{
	rove_uuid a = new_id();
	char ids[ROVE_UUID_STRLEN + 1], cust[64], when[64];

	snprintf(cust, sizeof(cust), "customer=%s", srv_ids(c, ids));
	snprintf(when, sizeof(when), "at=%s", at);
	CHECK_EQ_INT(srv_reason(s, user, CREATE, ACT, &a, cust, "kind=visit", when, NULL), ROVE_R_NONE);
}

static bool owned_by(srv *s, const rove_uuid *c, const char *who)
{
	return strcmp(field(s, C, c, "owner"), who) == 0;
}

static void test_recycle_warns_first(void)
{
	srv *s = world();
	uint64_t t0 = rove_wall_ms();
	rove_uuid x = new_id(), y = new_id(), z = new_id(), q = new_id(), fresh = new_id();
	char ids[ROVE_UUID_STRLEN + 1];

	/* A migration: customers with visits of 2019, then the rule (or the
	 * rule, then the import: the same). */
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, C, &x, "name=Old Friend", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, C, &y, "name=Old Pal", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, C, &z, "name=Old Mate", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, C, &fresh, "name=New Friend", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "carl", CREATE, C, &q, "name=Quiet Co", NULL), ROVE_R_NONE);
	old_visit(s, "alice", &x, "2019-05-01T10:00:00Z");
	old_visit(s, "alice", &y, "2019-05-01T10:00:00Z");
	old_visit(s, "alice", &z, "2019-05-01T10:00:00Z");
	old_visit(s, "carl", &q, "2019-05-01T10:00:00Z");
	CHECK_EQ_INT(srv_admin(s, "admin", "territory.set", "east.sh", "recycle_days=90", "warn_days=5", NULL), ROVE_OK);
	CHECK_EQ_INT(srv_admin(s, "admin", "territory.set", "east.hz", "recycle_days=30", NULL), ROVE_OK);

	/* The first pass finds them past due: a warning, no recycling. */
	tick_on(s, t0, 0);
	CHECK(owned_by(s, &x, "alice") && owned_by(s, &y, "alice") && owned_by(s, &z, "alice"));
	CHECK_EQ_INT(notices_of(s, &x, "recycle_warning"), 1);
	CHECK_EQ_INT(notices_of(s, &x, "recycled"), 0);
	CHECK_EQ_INT(notices_of(s, &fresh, "recycle_warning"), 0);
	/* Without warn_days, the owner still has a day's warning. */
	CHECK(owned_by(s, &q, "carl"));
	CHECK_EQ_INT(notices_of(s, &q, "recycle_warning"), 1);
	tick_on(s, t0, 0);
	CHECK(owned_by(s, &x, "alice") && owned_by(s, &q, "carl"));
	CHECK_EQ_INT(notices_of(s, &x, "recycle_warning"), 1); /* once */

	/* Day 1: carl's warned a day ago, recycled. */
	tick_on(s, t0, 1);
	CHECK(owned_by(s, &q, ""));
	CHECK_EQ_INT(notices_of(s, &q, "recycled"), 1);

	/* Day 3: a (late-logged, still old) visit clears y's warning; mike
	 * reassigns z to bob, which clears z's. */
	tick_on(s, t0, 3);
	old_visit(s, "alice", &y, "2019-06-01T10:00:00Z");
	CHECK_EQ_INT(srv_admin(s, "mike", "reassign.customer", srv_ids(&z, ids), "bob", NULL), ROVE_OK);
	tick_on(s, t0, 4);
	CHECK(owned_by(s, &x, "alice") && owned_by(s, &y, "alice") && owned_by(s, &z, "bob"));
	CHECK_EQ_INT(notices_of(s, &y, "recycle_warning"), 2);
	CHECK_EQ_INT(notices_of(s, &z, "recycle_warning"), 2); /* alice's, then bob's */

	/* Day 5: x's owner was warned 5 days ago: recycled. */
	tick_on(s, t0, 5);
	CHECK(owned_by(s, &x, ""));
	CHECK_EQ_INT(notices_of(s, &x, "recycled"), 1);
	CHECK_EQ_INT(srv_history(s, &x, "recycle"), 1);
	CHECK(owned_by(s, &y, "alice") && owned_by(s, &z, "bob"));

	/* A claim clears it too: alice takes x back, and is warned anew. */
	CHECK_EQ_INT(srv_reason(s, "alice", CLAIM, C, &x, "owner=alice", NULL), ROVE_R_NONE);
	tick_on(s, t0, 5);
	CHECK(owned_by(s, &x, "alice"));
	CHECK_EQ_INT(notices_of(s, &x, "recycle_warning"), 2);
	tick_on(s, t0, 8);
	CHECK(owned_by(s, &x, "alice") && owned_by(s, &y, "alice") && owned_by(s, &z, "bob"));
	tick_on(s, t0, 9);
	CHECK(owned_by(s, &y, "") && owned_by(s, &z, "") && owned_by(s, &x, "alice"));
	tick_on(s, t0, 10);
	CHECK(owned_by(s, &x, ""));
	CHECK_EQ_INT(notices_of(s, &x, "recycled"), 2);
	CHECK(owned_by(s, &fresh, "alice"));
	srv_free(s);
}

/* ---- rule 14: a pool customer's deal by one who owns nothing ---- */

static void test_pool_deal_owner(void)
{
	srv *s = world();
	rove_uuid p = new_id(), d = new_id(), m = new_id(), l = new_id();
	char ids[ROVE_UUID_STRLEN + 1], cust[64];
	int reassigns;

	/* An admin's customer goes to the pool; the admin's deal on it has
	 * no owner (admins own nothing), a manager's is his. */
	CHECK_EQ_INT(srv_reason(s, "admin", CREATE, C, &p, "name=Pool Co", "territory=east.sh", NULL), ROVE_R_NONE);
	CHECK(owned_by(s, &p, ""));
	snprintf(cust, sizeof(cust), "customer=%s", srv_ids(&p, ids));
	CHECK_EQ_INT(srv_reason(s, "admin", CREATE, OPP, &d, cust, "title=Pool deal", "stage=proposal", NULL),
		     ROVE_R_NONE);
	CHECK_EQ_INT(strcmp(field(s, OPP, &d, "owner"), ""), 0);
	CHECK_EQ_INT(srv_reason(s, "mike", CREATE, OPP, &m, cust, "title=Mike's", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(strcmp(field(s, OPP, &m, "owner"), "mike"), 0);
	CHECK_EQ_INT(srv_reason(s, "admin", CREATE, OPP, &l, cust, "title=Old", "stage=lost", "closed_on=2025-01-10",
				"owner=bob", NULL),
		     ROVE_R_NONE);
	/* The admin still cannot be named. */
	CHECK_EQ_INT(srv_reason(s, "admin", UPDATE, OPP, &d, "owner=admin", NULL), ROVE_R_INVALID);

	/* alice claims the customer: its open deals become hers, the lost
	 * one keeps its owner; each move is in the history. */
	reassigns = srv_history(s, &p, "reassign");
	CHECK_EQ_INT(srv_reason(s, "alice", CLAIM, C, &p, "owner=alice", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(strcmp(field(s, OPP, &d, "owner"), "alice"), 0);
	CHECK_EQ_INT(strcmp(field(s, OPP, &m, "owner"), "alice"), 0);
	CHECK_EQ_INT(strcmp(field(s, OPP, &l, "owner"), "bob"), 0);
	CHECK_EQ_INT(srv_history(s, &p, "reassign"), reassigns + 2);
	/* She wins it: hers. A release moves no deal. */
	CHECK_EQ_INT(srv_reason(s, "alice", UPDATE, OPP, &d, "stage=won", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "alice", RELEASE, C, &p, "owner=null", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(strcmp(field(s, OPP, &d, "owner"), "alice"), 0);
	CHECK_EQ_INT(strcmp(field(s, OPP, &m, "owner"), "alice"), 0);
	/* bob claims it: the open deal follows, the won one stays alice's. */
	CHECK_EQ_INT(srv_reason(s, "bob", CLAIM, C, &p, "owner=bob", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(strcmp(field(s, OPP, &m, "owner"), "bob"), 0);
	CHECK_EQ_INT(strcmp(field(s, OPP, &d, "owner"), "alice"), 0);
	srv_free(s);
}

/* Rule 13 from the dealer's side, where a roved before the rule left a
 * customer out of its dealer's line (the dealer moved below it): the
 * dealer's delete is refused to the manager of its territory now without
 * naming the customer, which lies outside his reach; the admin is told
 * which (attack twenty-two). */
static void test_dealer_named_outside(void)
{
	srv *s = world();
	rove_uuid d = new_id(), c = new_id();
	rove_record *rec = malloc(sizeof(*rec));
	char ds[ROVE_UUID_STRLEN + 1], dealer[64], want[160];
	MDB_txn *txn = NULL;

	CHECK(rec != NULL);
	rove_uuid_format(&d, ds);
	snprintf(dealer, sizeof(dealer), "dealer=%s", ds);
	CHECK_EQ_INT(srv_user(s, "hank", "manager", "east.hz", NULL), ROVE_OK);
	CHECK_EQ_INT(srv_reason(s, "mike", CREATE, DEALER, &d, "name=Parts", "territory=east.sh", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "alice", CREATE, C, &c, "name=Named", "territory=east.sh", dealer, NULL), ROVE_R_NONE);
	/* The old roved's move, past the rules. */
	CHECK_EQ_INT(rove_store_begin(&s->e.st, NULL, true, &txn), ROVE_OK);
	CHECK_EQ_INT(rove_store_record_get(&s->e.st, txn, DEALER, &d, rec), ROVE_OK);
	CHECK_EQ_INT(rove_fields_set(&rec->fs, "territory", rove_vcstr("east.hz"), srv_client_stamp()), ROVE_OK);
	CHECK_EQ_INT(rove_store_record_put(&s->e.st, txn, rec, NULL), ROVE_OK);
	CHECK_EQ_INT(rove_store_commit(txn), ROVE_OK);
	CHECK_EQ_INT(srv_reason(s, "hank", DELETE, DEALER, &d, "_deleted=#1", NULL), ROVE_R_INVALID);
	CHECK_EQ_INT(strcmp(s->line, "the dealer of a customer outside your territories"), 0);
	CHECK_EQ_INT(srv_reason(s, "admin", DELETE, DEALER, &d, "_deleted=#1", NULL), ROVE_R_INVALID);
	rove_uuid_format(&c, ds);
	snprintf(want, sizeof(want), "the dealer of customer %s; change its dealer first", ds);
	CHECK_EQ_INT(strcmp(s->line, want), 0);
	free(rec);
	srv_free(s);
}

/* Targets go to reps and managers: one for an analyst is refused, but
 * one a roved before the rule took (planted here as the server's own op,
 * which skips the decision) can still be deleted, not edited. */
static void test_target_of_one_who_owns_nothing(void)
{
	srv *s = world();
	rove_apply_work *w = rove_apply_work_new();
	rove_op *op = malloc(sizeof(*op));
	rove_user sys;
	rove_push_result r;
	rove_uuid tid;
	MDB_txn *txn = NULL;

	CHECK(w != NULL && op != NULL);
	rove_target_id("ana", "2026-10", &tid);
	CHECK_EQ_INT(srv_reason(s, "admin", CREATE, ROVE_COLL_TARGET, &tid, "user=ana", "period=2026-10", "amount=#500",
				NULL),
		     ROVE_R_INVALID);
	rove_policy_system_user(&sys);
	CHECK_EQ_INT(srv_op(op, CREATE, ROVE_COLL_TARGET, &tid, "user=ana", "period=2026-10", "amount=#500", NULL),
		     ROVE_OK);
	CHECK_EQ_INT(rove_store_begin(&s->e.st, NULL, true, &txn), ROVE_OK);
	CHECK_EQ_INT(rove_apply_op(&s->e, txn, &sys, op, true, w, &r), ROVE_OK);
	CHECK_EQ_INT(r.status, ROVE_PUSH_ACCEPTED);
	CHECK_EQ_INT(rove_store_commit(txn), ROVE_OK);
	CHECK(!is_deleted(s, ROVE_COLL_TARGET, &tid));
	CHECK_EQ_INT(srv_reason(s, "admin", UPDATE, ROVE_COLL_TARGET, &tid, "amount=#600", NULL), ROVE_R_INVALID);
	CHECK_EQ_INT(srv_reason(s, "admin", DELETE, ROVE_COLL_TARGET, &tid, "_deleted=#1", NULL), ROVE_R_NONE);
	CHECK(is_deleted(s, ROVE_COLL_TARGET, &tid));
	rove_apply_work_free(w);
	free(op);
	srv_free(s);
}

/* The server's time stored with each write is read back checked: one
 * past the year 9999 (damage) is not taken as the floor of every date. */
static void test_stored_time_checked(void)
{
	srv *s = world();
	MDB_txn *txn = NULL;

	CHECK_EQ_INT(rove_store_begin(&s->e.st, NULL, true, &txn), ROVE_OK);
	CHECK_EQ_INT(rove_store_meta_put(&s->e.st, txn, "time", UINT64_MAX - 5), ROVE_OK);
	CHECK_EQ_INT(rove_store_commit(txn), ROVE_OK);
	CHECK_EQ_INT(srv_restart(s), ROVE_OK);
	CHECK(rove_engine_now_ms(&s->e) <= rove_wall_ms() + ROVE_DAY_MS);
	srv_free(s);
}

int main(void)
{
	test_reps_delete_nothing();
	test_owner_changes();
	test_territory_moves();
	test_activity_deletes();
	test_deleted_children();
	test_conflicts_reach();
	test_refusal_details();
	test_phone_dodges();
	test_valid_data();
	test_reads_is_sees();
	test_in_reach();
	test_rules();
	test_recycle_warns_first();
	test_target_of_one_who_owns_nothing();
	test_stored_time_checked();
	test_pool_deal_owner();
	test_dealer_named_outside();
	return check_done("test_policy");
}
