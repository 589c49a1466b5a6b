/*
 * rec_precheck.c - what the command line refuses before it queues an op
 * (rec.h): the role-only rules of common/rules.c, and what the replica
 * knows of the others (territories, a release's reason, a dealer's kind,
 * duplicate tax ids and phones); docs/RULES.md. The server decides again.
 */
#include "rec.h"
#include "err.h"
#include "hlc.h"
#include "ident.h"
#include "log.h"
#include "rules.h"
#include "text.h"

#include <stdlib.h>
#include <string.h>

typedef struct code_find {
	const char *code;
	rove_record *rec;
	bool found;
	bool fold; /* codes compared without case */
} code_find;

static int territory_of_code(const rove_record *rec, void *arg)
{
	code_find *f = arg;
	const char *code = rove_fields_str(&rec->fs, "code");

	if (code == NULL || (f->fold ? !rove_name_same(code, strlen(code), f->code, strlen(f->code))
				     : strcmp(code, f->code) != 0))
		return ROVE_OK;
	f->rec->coll = rec->coll;
	f->rec->id = rec->id;
	f->found = true;
	/* Values point into their record's arena: copied, not assigned. */
	return rove_fields_copy(&f->rec->fs, &rec->fs) == ROVE_OK ? ROVE_EEXIST /* stops the walk */ : ROVE_ENOMEM;
}

/* The territory this replica holds with code; ROVE_ENOTFOUND if none. */
int rec_territory_by_code(rove_replica *r, const char *code, rove_record *rec)
{
	code_find f = {code, rec, false, false};
	int rc = rove_replica_each(r, ROVE_COLL_TERRITORY, territory_of_code, &f);

	if (f.found && rc == ROVE_EEXIST)
		return ROVE_OK;
	return rc == ROVE_OK ? ROVE_ENOTFOUND : rc;
}

int rec_territory_by_code_nocase(rove_replica *r, const char *code, rove_record *rec)
{
	code_find f = {code, rec, false, true};
	int rc = rec_territory_by_code(r, code, rec);

	if (rc != ROVE_ENOTFOUND)
		return rc;
	rc = rove_replica_each(r, ROVE_COLL_TERRITORY, territory_of_code, &f);
	if (f.found && rc == ROVE_EEXIST)
		return ROVE_OK;
	return rc == ROVE_OK ? ROVE_ENOTFOUND : rc;
}

int rec_owner_rule(int by, const rec_user *u, bool deal, bool closed, const char *terr, rec_parent_fn parent,
		   void *parg, char *detail, size_t len)
{
	const char *t = terr;
	bool holds = false;

	if (!rove_rules_role_may_own(u->role)) {
		snprintf(detail, len, "'%s' is %s; %s go to reps and managers", u->login, rove_role_with_article(u->role),
			 deal ? "deals" : "customers");
		return ROVE_R_INVALID;
	}
	if (deal && closed && by == ROVE_ROLE_ADMIN)
		return ROVE_R_NONE;
	if (u->disabled && !(deal && closed)) {
		snprintf(detail, len, "%s is disabled; enable them first, or choose another user", u->login);
		return ROVE_R_INVALID;
	}
	if (terr == NULL)
		return ROVE_R_NONE;
	/* A rep holds terr itself; a manager the territories under his. */
	for (size_t depth = 0; t != NULL && !holds && depth <= ROVE_MAX_TREE_DEPTH; depth++) {
		for (uint32_t i = 0; i < u->nterr && !holds; i++)
			holds = strcmp(u->terr[i], t) == 0;
		t = u->role == ROVE_ROLE_MANAGER ? parent(t, parg) : NULL;
	}
	if (holds)
		return ROVE_R_NONE;
	snprintf(detail, len, "%s does not work in %s", u->login, terr);
	return ROVE_R_NOT_IN_TERRITORY;
}

/* The customer's territory a create or update puts it in. Every customer
 * has one. A territory this replica does not hold (a rep's holds exactly
 * their territories, a manager's his subtree) is most likely one the
 * server refuses, but not certainly: one assigned since the last sync is
 * not here yet, and a rep on the road must be able to work in it. The
 * change is queued with a warning; the server decides. */
static int territory_rule(rove_replica *r, int role, const rove_op *op, rove_record *scratch, char *detail,
			  size_t len)
{
	const char *terr = rove_fields_str(&op->fs, "territory");
	char shown[ROVE_MAX_NAME + 8];
	int rc;

	if (op->coll != ROVE_COLL_CUSTOMER)
		return ROVE_R_NONE;
	/* An admin's too, refused as the server refuses it (rule 13: "and by
	 * the CLI before it is sent"; before, queued and refused at sync). */
	/* (The add names the one territory a replica holds when it holds
	 * one: so here it holds none, or several, and the user must say.) */
	if (op->kind == ROVE_OP_CREATE && terr == NULL && role == ROVE_ROLE_ADMIN) {
		snprintf(detail, len, "a customer needs a territory: give --territory CODE");
		return ROVE_R_INVALID;
	}
	if (role != ROVE_ROLE_REP && role != ROVE_ROLE_MANAGER)
		return ROVE_R_NONE;
	if (op->kind == ROVE_OP_CREATE && terr == NULL) {
		snprintf(detail, len, "a customer needs a territory: give --territory CODE (see 'rove territory list')");
		return ROVE_R_NOT_IN_TERRITORY;
	}
	if (terr == NULL || (op->kind != ROVE_OP_CREATE && op->kind != ROVE_OP_UPDATE))
		return ROVE_R_NONE;
	rc = rec_territory_by_code(r, terr, scratch);
	if (rc == ROVE_ENOTFOUND) {
		rove_text_show(terr, strlen(terr), 0, shown, sizeof(shown));
		rove_warn("%s is not one of your territories as of this replica's last sync; the change is queued "
			  "and the server decides (see 'rove rejected' after 'rove sync')",
			  shown);
		return ROVE_R_NONE;
	}
	return rc == ROVE_OK ? ROVE_R_NONE : -rc; /* a failure to read, not a refusal */
}

/* A won or lost deal is closed for reps (the server's rule 14 too). */
static int closed_deal_rule(int role, const rove_op *op, const rove_record *cur, char *detail, size_t len)
{
	const char *was = cur != NULL ? rove_fields_str(&cur->fs, "stage") : NULL;

	if (op->coll != ROVE_COLL_OPPORTUNITY || role != ROVE_ROLE_REP || was == NULL ||
	    (strcmp(was, "won") != 0 && strcmp(was, "lost") != 0))
		return ROVE_R_NONE;
	snprintf(detail, len, "a %s deal is closed: managers and admins change it", was);
	return ROVE_R_FORBIDDEN;
}

/* A rep's deal closes the day the server hears of it (SPEC rule 13: the
 * server sets closed_on): a rep's closed_on other than today's (what
 * 'opportunity stage' sends) would be rewritten without a word. The words
 * of 'rove import opportunities'. */
static int rep_closed_on_rule(rove_replica *r, int role, const rove_op *op, char *detail, size_t len)
{
	const char *closed = rove_fields_str(&op->fs, "closed_on");
	char today[40];

	if (op->coll != ROVE_COLL_OPPORTUNITY || role != ROVE_ROLE_REP || closed == NULL || closed[0] == '\0')
		return ROVE_R_NONE;
	out_time(rove_replica_now_ms(r), today, sizeof(today));
	if (strncmp(closed, today, 10) == 0 && closed[10] == '\0')
		return ROVE_R_NONE;
	snprintf(detail, len, "closed_on: a rep's deal closes the day the server hears of it; managers and admins "
			      "import past deals with their day (leave closed_on empty)");
	return ROVE_R_FORBIDDEN;
}

/* Reps write their own customers and under them only (rule 4): a
 * contact, deal, visit... under a public-pool customer, or a change to
 * the customer itself, waits for its claim, as 'rove import' says it.
 * scratch is for the customer. */
static int child_owner_rule(rove_replica *r, int role, const rove_op *op, const rove_record *cur,
			    rove_record *scratch, char *detail, size_t len)
{
	const rove_field_def *pf = rove_schema_parent_field(rove_schema_coll(op->coll));
	const char *cust, *owner;
	char canon[ROVE_UUID_STRLEN + 1];
	rove_uuid id;
	int rc;

	/* A customer's own update likewise: a pool customer's fields wait
	 * for its claim, as its children's do (the server says not_owner). */
	if (role == ROVE_ROLE_REP && op->coll == ROVE_COLL_CUSTOMER && op->kind == ROVE_OP_UPDATE && cur != NULL) {
		owner = rove_fields_str(&cur->fs, "owner");
		rove_uuid_format(&op->rid, canon);
		if (owner == NULL || owner[0] == '\0') {
			snprintf(detail, len, "customer %s is in the public pool: claim it first", canon);
			return ROVE_R_NOT_OWNER;
		}
		if (strcmp(owner, r->auth.user) != 0) {
			snprintf(detail, len, "customer %s belongs to someone else", canon);
			return ROVE_R_NOT_OWNER;
		}
		return ROVE_R_NONE;
	}
	if (role != ROVE_ROLE_REP || pf == NULL || strcmp(pf->name, "customer") != 0 ||
	    (op->kind != ROVE_OP_CREATE && op->kind != ROVE_OP_UPDATE))
		return ROVE_R_NONE;
	cust = rove_fields_str(&op->fs, "customer");
	if (cust == NULL && cur != NULL)
		cust = rove_fields_str(&cur->fs, "customer");
	if (cust == NULL || rove_uuid_parse(cust, &id) != ROVE_OK)
		return ROVE_R_NONE;
	rc = rove_replica_get(r, ROVE_COLL_CUSTOMER, &id, scratch);
	if (rc == ROVE_ENOTFOUND)
		return ROVE_R_NONE; /* the server decides */
	if (rc != ROVE_OK)
		return -rc;
	owner = rove_fields_str(&scratch->fs, "owner");
	rove_uuid_format(&id, canon);
	if (owner == NULL || owner[0] == '\0') {
		snprintf(detail, len, "customer %s is in the public pool: claim it first", canon);
		return ROVE_R_NOT_OWNER;
	}
	if (strcmp(owner, r->auth.user) != 0) {
		snprintf(detail, len, "customer %s belongs to someone else", canon);
		return ROVE_R_NOT_OWNER;
	}
	return ROVE_R_NONE;
}

/* A release from a territory that requires a reason (its pool rule). */
static int release_rule(rove_replica *r, const rove_op *op, const rove_record *cur, rove_record *scratch,
			char *detail, size_t len)
{
	const char *terr = cur != NULL ? rove_fields_str(&cur->fs, "territory") : NULL;
	const char *reason = rove_fields_str(&op->fs, "release_reason");
	int64_t required = 0;
	int rc;

	if (op->kind != ROVE_OP_RELEASE || terr == NULL || (reason != NULL && !rove_schema_blank(reason, strlen(reason))))
		return ROVE_R_NONE;
	rc = rec_territory_by_code(r, terr, scratch);
	if (rc == ROVE_ENOTFOUND)
		return ROVE_R_NONE;
	if (rc != ROVE_OK)
		return -rc;
	if (!rove_fields_int(&scratch->fs, "release_reason", &required) || required == 0)
		return ROVE_R_NONE;
	snprintf(detail, len, "a reason is required to release a customer in %s", terr);
	return ROVE_R_INVALID;
}

/* What a customer op's tax id and phone are compared by (normalised as
 * the server does), and the customers of the replica holding them. */
typedef struct uniq_find {
	const rove_op *op;
	rove_uniq_key mine[ROVE_UNIQ_KEYS], theirs[ROVE_UNIQ_KEYS]; /* the op's; a record's (scratch) */
	int nmine;
	rove_uuid holder[ROVE_UNIQ_KEYS];
	char name[ROVE_UNIQ_KEYS][ROVE_MAX_NAME + 1];
	bool found[ROVE_UNIQ_KEYS];
} uniq_find;

static int uniq_one(const rove_record *rec, void *arg)
{
	uniq_find *u = arg;
	int ntheirs;

	if (rove_uuid_cmp(&rec->id, &u->op->rid) == 0)
		return ROVE_OK; /* its own */
	/* Keys as the server makes them: older records may hold a tax id as
	 * it was typed. */
	ntheirs = rove_uniq_keys(&rec->fs, u->theirs);
	for (int i = 0; i < u->nmine; i++) {
		for (int j = 0; j < ntheirs && !u->found[i]; j++) {
			if (u->mine[i].len != u->theirs[j].len ||
			    memcmp(u->mine[i].key, u->theirs[j].key, u->mine[i].len) != 0)
				continue;
			u->found[i] = true;
			u->holder[i] = rec->id;
			snprintf(u->name[i], sizeof(u->name[i]), "%s",
				 rove_fields_str(&rec->fs, "name") ? rove_fields_str(&rec->fs, "name") : "");
		}
	}
	return u->found[0] ? ROVE_EEXIST : ROVE_OK; /* the first key is reported first: stop */
}

/* A tax id or phone that another live customer of this replica holds
 * (pending ones included: the server decides them first), compared by
 * their uniqueness keys (rove_uniq_keys). The server compares against all
 * customers; this replica knows those it holds. */
static int duplicate_rule(rove_replica *r, const rove_op *op, char *detail, size_t len)
{
	uniq_find *u;
	int rc, reason = ROVE_R_NONE;

	if (op->coll != ROVE_COLL_CUSTOMER || (op->kind != ROVE_OP_CREATE && op->kind != ROVE_OP_UPDATE))
		return ROVE_R_NONE;
	u = calloc(1, sizeof(*u));
	if (u == NULL)
		return -ROVE_ENOMEM;
	u->op = op;
	u->nmine = rove_uniq_keys(&op->fs, u->mine);
	rc = u->nmine > 0 ? rove_replica_each(r, ROVE_COLL_CUSTOMER, uniq_one, u) : ROVE_OK;
	if (rc != ROVE_OK && rc != ROVE_EEXIST) {
		reason = -rc;
	} else {
		for (int i = 0; i < u->nmine && reason == ROVE_R_NONE; i++) {
			char ids[ROVE_UUID_STRLEN + 1], shown[ROVE_MAX_NAME + 8];
			if (!u->found[i])
				continue;
			rove_uuid_format(&u->holder[i], ids);
			rove_text_show(u->name[i], strlen(u->name[i]), 0, shown, sizeof(shown));
			snprintf(detail, len, "%s (customer '%s' has this %s)", ids, shown, u->mine[i].field);
			reason = ROVE_R_DUPLICATE;
		}
	}
	free(u);
	return reason;
}

/* A new dealer (or a renamed one) whose name another dealer of its
 * territory in this replica holds: not a rule (the server makes both),
 * but most likely typed twice (`rove import dealers` refuses a name
 * repeated in a territory).
 * Warned about; the dealer is made. */
typedef struct dealer_find {
	const rove_uuid *self;
	const char *terr, *name;
	rove_uuid found;
	bool has;
} dealer_find;

static int dealer_named(const rove_record *rec, void *arg)
{
	dealer_find *f = arg;
	const char *terr = rove_fields_str(&rec->fs, "territory"), *name = rove_fields_str(&rec->fs, "name");

	if (terr == NULL || name == NULL || rove_record_deleted(rec) || memcmp(&rec->id, f->self, sizeof(rec->id)) == 0 ||
	    strcmp(terr, f->terr) != 0 || strcmp(name, f->name) != 0)
		return ROVE_OK;
	f->found = rec->id;
	f->has = true;
	return ROVE_EEXIST; /* stops the walk */
}

static int dealer_name_warning(rove_replica *r, const rove_op *op, const rove_record *cur)
{
	const char *name = rove_fields_str(&op->fs, "name");
	const char *terr = rove_fields_str(&op->fs, "territory");
	dealer_find f = {&op->rid, NULL, NULL, {{0}}, false};
	char id[ROVE_UUID_STRLEN + 1];
	int rc;

	if (op->coll != ROVE_COLL_DEALER || (op->kind != ROVE_OP_CREATE && op->kind != ROVE_OP_UPDATE) ||
	    (name == NULL && terr == NULL))
		return ROVE_OK;
	if (name == NULL && cur != NULL)
		name = rove_fields_str(&cur->fs, "name");
	if (terr == NULL && cur != NULL)
		terr = rove_fields_str(&cur->fs, "territory");
	if (name == NULL || terr == NULL)
		return ROVE_OK;
	f.terr = terr;
	f.name = name;
	rc = rove_replica_each(r, ROVE_COLL_DEALER, dealer_named, &f);
	if (rc != ROVE_OK && rc != ROVE_EEXIST)
		return rc;
	if (f.has) {
		rove_uuid_format(&f.found, id);
		rove_warn("dealer '%s' of %s is %s already; this makes another one", name, terr, id);
	}
	return ROVE_OK;
}

/* A rep's customers in one territory, as this replica holds them. */
typedef struct held_count {
	const char *me, *terr;
	size_t n;
} held_count;

static int held_one(const rove_record *rec, void *arg)
{
	held_count *h = arg;
	const char *owner = rove_fields_str(&rec->fs, "owner"), *terr = rove_fields_str(&rec->fs, "territory");

	if (owner != NULL && terr != NULL && !rove_record_deleted(rec) && strcmp(owner, h->me) == 0 &&
	    strcmp(terr, h->terr) == 0)
		h->n++;
	return ROVE_OK;
}

/* A rep's create or claim past the pool limit of its territory (rule 11),
 * as this replica knows it: said, as the import says it, and queued all
 * the same (the server decides: the limit may have been raised since the
 * last sync, and the refusal is kept). Attack ninety-three: the import
 * refused it, `customer add` queued it without a word. */
static int pool_limit_warning(rove_replica *r, int role, const rove_op *op, const rove_record *cur,
			      rove_record *scratch)
{
	const char *terr = rove_fields_str(&op->fs, "territory");
	held_count h = {r->auth.user, NULL, 0};
	int64_t limit = 0;
	int rc;

	if (role != ROVE_ROLE_REP || op->coll != ROVE_COLL_CUSTOMER ||
	    (op->kind != ROVE_OP_CREATE && op->kind != ROVE_OP_CLAIM))
		return ROVE_OK;
	if (terr == NULL && cur != NULL)
		terr = rove_fields_str(&cur->fs, "territory");
	if (terr == NULL)
		return ROVE_OK;
	rc = rec_territory_by_code(r, terr, scratch);
	if (rc == ROVE_ENOTFOUND)
		return ROVE_OK;
	if (rc != ROVE_OK)
		return rc;
	if (!rove_fields_int(&scratch->fs, "pool_limit", &limit) || limit <= 0)
		return ROVE_OK;
	h.terr = terr;
	rc = rove_replica_each(r, ROVE_COLL_CUSTOMER, held_one, &h);
	if (rc == ROVE_OK && h.n + 1 > (size_t)limit)
		rove_warn("limit: this would be your customer number %zu in %s, which allows %lld: the server will "
			  "refuse it (kept in 'rove rejected') unless the limit was raised",
			  h.n + 1, terr, (long long)limit);
	return rc;
}

/* A dealer some customer of this replica names is not deleted, nor moved
 * to a territory that leaves one of them outside its line (rule 13): the
 * server's words, naming the first such customer. A replica that may
 * change the dealer holds every customer of its territory and below. The
 * customers' territories are collected first (few: a dealer's customers
 * lie in its subtree), each with the first customer there, then each
 * walked up once. */
typedef struct dealer_user {
	rove_uuid dealer;
	bool moving; /* a move: the customers' territories are collected */
	bool found;  /* a delete: a customer names it (customer[0]) */
	size_t n;    /* a move: the territories collected */
	rove_uuid customer[ROVE_MAX_DEALER_LINES];
	char terr[ROVE_MAX_DEALER_LINES][ROVE_MAX_NAME + 1];
} dealer_user;

static int names_dealer(const rove_record *rec, void *arg)
{
	dealer_user *f = arg;
	const char *d = rove_fields_str(&rec->fs, "dealer"), *t;
	rove_uuid id;

	/* By value, as the server's index: an id stored in capitals before
	 * ids were written in lower case names the same dealer. */
	if (d == NULL || rove_uuid_parse(d, &id) != ROVE_OK || rove_uuid_cmp(&id, &f->dealer) != 0)
		return ROVE_OK;
	if (!f->moving) {
		f->customer[0] = rec->id;
		f->found = true;
		return ROVE_EEXIST; /* stops the walk */
	}
	t = rove_fields_str(&rec->fs, "territory");
	if (t == NULL)
		return ROVE_OK;
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->terr[i], t) == 0)
			return ROVE_OK;
	if (f->n == ROVE_MAX_DEALER_LINES)
		return ROVE_EEXIST; /* enough to tell: the server checks the rest */
	f->customer[f->n] = rec->id;
	snprintf(f->terr[f->n++], sizeof(f->terr[0]), "%s", t);
	return ROVE_OK;
}

/* Whether territory code lies at or below `above`, as r holds the tree:
 * ROVE_OK with *under, or ROVE_ENOTFOUND where the replica lacks a
 * territory on the way (the server's to say). */
static int territory_under(rove_replica *r, const char *code, const char *above, rove_record *scratch, bool *under)
{
	char cur[ROVE_MAX_NAME + 1];
	const char *p;
	int rc;

	*under = false;
	snprintf(cur, sizeof(cur), "%s", code);
	for (int depth = 0; depth <= ROVE_MAX_TREE_DEPTH; depth++) {
		if (strcmp(cur, above) == 0) {
			*under = true;
			return ROVE_OK;
		}
		rc = rec_territory_by_code(r, cur, scratch);
		if (rc != ROVE_OK)
			return rc;
		p = rove_fields_str(&scratch->fs, "parent");
		if (p == NULL || p[0] == '\0')
			return ROVE_OK; /* the top, not met */
		snprintf(cur, sizeof(cur), "%s", p);
	}
	return ROVE_ENOTFOUND; /* a loop: not this check's to judge */
}

/* A customer's dealer is a dealer of its territory or above (SPEC rule
 * 13, "and by the CLI before it is sent"): checked where the replica
 * holds the dealer and the tree between (attack sixty-eight: a manager's
 * 'customer set ID dealer=...' of another territory's dealer went, to
 * come back refused). An op that sets the dealer or the territory; what
 * the replica does not hold is the server's to judge, but for an admin's,
 * which holds every dealer as of its last sync (attack 108: an import of
 * another server's customers with their dealers' ids there went, and
 * the server refused every such row). Returns a reason, or minus a
 * storage error. */
static int dealer_reach_rule(rove_replica *r, int role, const rove_op *op, const rove_record *cur,
			     rove_record *scratch, char *detail, size_t len)
{
	const char *dealer = rove_fields_str(&op->fs, "dealer"), *terr = rove_fields_str(&op->fs, "territory");
	char dterr[ROVE_MAX_NAME + 1], cterr[ROVE_MAX_NAME + 1];
	rove_uuid id;
	bool under;
	int rc;

	if (op->coll != ROVE_COLL_CUSTOMER || (dealer == NULL && terr == NULL))
		return ROVE_R_NONE;
	if (dealer == NULL && cur != NULL && rove_fields_get(&op->fs, "dealer") == NULL)
		dealer = rove_fields_str(&cur->fs, "dealer");
	if (terr == NULL && cur != NULL)
		terr = rove_fields_str(&cur->fs, "territory");
	if (dealer == NULL || dealer[0] == '\0' || terr == NULL || rove_uuid_parse(dealer, &id) != ROVE_OK)
		return ROVE_R_NONE;
	snprintf(cterr, sizeof(cterr), "%s", terr);
	rc = rove_replica_get(r, ROVE_COLL_DEALER, &id, scratch);
	if (rc == ROVE_ENOTFOUND && role == ROVE_ROLE_ADMIN) {
		snprintf(detail, len, "no dealer %s in this replica (as of its last sync: 'rove sync' if it is new)",
			 dealer);
		return ROVE_R_INVALID;
	}
	if (rc == ROVE_ENOTFOUND)
		return ROVE_R_NONE;
	if (rc != ROVE_OK)
		return -rc;
	if (rove_record_deleted(scratch) || rove_fields_str(&scratch->fs, "territory") == NULL)
		return ROVE_R_NONE;
	snprintf(dterr, sizeof(dterr), "%s", rove_fields_str(&scratch->fs, "territory"));
	rc = territory_under(r, cterr, dterr, scratch, &under);
	if (rc == ROVE_ENOTFOUND || (rc == ROVE_OK && under))
		return ROVE_R_NONE;
	if (rc != ROVE_OK)
		return -rc;
	snprintf(detail, len, "%s is not a dealer of %s or above (it is %s's)", dealer, cterr, dterr);
	return ROVE_R_INVALID;
}

static int dealer_delete_rule(rove_replica *r, const rove_op *op, rove_record *scratch, char *detail, size_t len)
{
	const char *to = rove_fields_str(&op->fs, "territory");
	dealer_user *f;
	char ids[ROVE_UUID_STRLEN + 1];
	int reason = ROVE_R_NONE, rc;

	if (op->coll != ROVE_COLL_DEALER ||
	    !(op->kind == ROVE_OP_DELETE || (op->kind == ROVE_OP_UPDATE && to != NULL && to[0] != '\0')))
		return ROVE_R_NONE;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -ROVE_ENOMEM;
	f->dealer = op->rid;
	f->moving = op->kind != ROVE_OP_DELETE;
	rc = rove_replica_each(r, ROVE_COLL_CUSTOMER, names_dealer, f);
	if (rc == ROVE_EEXIST)
		rc = ROVE_OK;
	if (rc == ROVE_OK && f->found) {
		rove_uuid_format(&f->customer[0], ids);
		snprintf(detail, len, "the dealer of customer %s; change its dealer first", ids);
		reason = ROVE_R_INVALID;
	}
	for (size_t i = 0; rc == ROVE_OK && reason == ROVE_R_NONE && i < f->n; i++) {
		bool under;
		rc = territory_under(r, f->terr[i], to, scratch, &under);
		if (rc == ROVE_ENOTFOUND) {
			rc = ROVE_OK;
			continue;
		}
		if (rc == ROVE_OK && !under) {
			rove_uuid_format(&f->customer[i], ids);
			snprintf(detail, len, "the dealer of customer %s of %s, not %s or below it", ids, f->terr[i],
				 to);
			reason = ROVE_R_INVALID;
		}
	}
	free(f);
	return rc != ROVE_OK ? -rc : reason;
}

/* Refuses at once (ROVE_EPERM: exit 1) what the server would certainly
 * refuse, with its reason code and words: the rules that need only the
 * user's role and the op (common/rules.h), an activity's time in the
 * future, a dealer that this replica knows is another kind of record, a
 * dealer's delete, or move out of its line, while a customer of the
 * replica names it, and
 * what the replica knows of the rules on the server's data: a customer
 * without a territory, a release without the reason its territory
 * requires, a tax id or phone another customer of the replica holds. A
 * territory the replica does not hold is only warned about (above). A replica that never synced does
 * not know its role (nor holds anything) yet: the server decides. */
int rec_precheck(rove_replica *r, const rove_op *op, const rove_record *cur)
{
	static const uint8_t not_dealers[] = {ROVE_COLL_CUSTOMER, ROVE_COLL_CONTACT, ROVE_COLL_CONTRACT,
					      ROVE_COLL_OPPORTUNITY, ROVE_COLL_ACTIVITY, ROVE_COLL_TARGET,
					      ROVE_COLL_TERRITORY};
	char detail[ROVE_MAX_ERRMSG];
	int role = rove_role_parse(r->role);
	int reason = ROVE_R_NONE;
	const char *at = rove_fields_str(&op->fs, "at");
	const char *dealer = rove_fields_str(&op->fs, "dealer");
	rove_record *rec;

	if (role == 0)
		return ROVE_OK;
	rec = malloc(sizeof(*rec));
	if (rec == NULL)
		return ROVE_ENOMEM;
	reason = rove_rules_check_op(role, op, detail, sizeof(detail));
	if (reason == ROVE_R_NONE)
		reason = closed_deal_rule(role, op, cur, detail, sizeof(detail));
	if (reason == ROVE_R_NONE)
		reason = rep_closed_on_rule(r, role, op, detail, sizeof(detail));
	if (reason == ROVE_R_NONE)
		reason = child_owner_rule(r, role, op, cur, rec, detail, sizeof(detail));
	if (reason == ROVE_R_NONE && op->coll == ROVE_COLL_ACTIVITY && at != NULL)
		reason = rove_rules_check_at(at, rove_replica_now_ms(r), detail, sizeof(detail));
	if (reason == ROVE_R_NONE)
		reason = territory_rule(r, role, op, rec, detail, sizeof(detail));
	if (reason == ROVE_R_NONE)
		reason = release_rule(r, op, cur, rec, detail, sizeof(detail));
	if (reason == ROVE_R_NONE && op->coll == ROVE_COLL_CUSTOMER && dealer != NULL) {
		rove_uuid id;
		for (size_t i = 0; i < sizeof(not_dealers) && rove_uuid_parse(dealer, &id) == ROVE_OK; i++) {
			if (rove_replica_get(r, not_dealers[i], &id, rec) == ROVE_OK) {
				snprintf(detail, sizeof(detail), "%s is not a dealer of %s or above", dealer,
					 rove_fields_str(&op->fs, "territory") ? rove_fields_str(&op->fs, "territory")
									       : "its territory");
				reason = ROVE_R_INVALID;
				break;
			}
		}
	}
	if (reason == ROVE_R_NONE)
		reason = dealer_reach_rule(r, role, op, cur, rec, detail, sizeof(detail));
	if (reason == ROVE_R_NONE)
		reason = dealer_delete_rule(r, op, rec, detail, sizeof(detail));
	if (reason == ROVE_R_NONE)
		reason = duplicate_rule(r, op, detail, sizeof(detail));
	if (reason == ROVE_R_NONE) {
		int rc = dealer_name_warning(r, op, cur);
		if (rc == ROVE_OK)
			rc = pool_limit_warning(r, role, op, cur, rec);
		if (rc != ROVE_OK)
			reason = -rc;
	}
	free(rec);
	if (reason < 0) {
		rove_error("cannot read the replica: %s", rove_strerror(-reason));
		return -reason;
	}
	if (reason == ROVE_R_NONE)
		return ROVE_OK;
	rove_error("%s: %s", rove_reason_name(reason), detail);
	return ROVE_EPERM;
}
