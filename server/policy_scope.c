/*
 * policy_scope.c - who reaches what: the territory tree (a manager reaches
 * the subtree under his territories), the scopes a record is in and a
 * user reads (policy.h), and the walks of records through the store's
 * indexes that the other parts share.
 */
#include "policy_int.h"

#include "array.h"
#include "err.h"
#include "log.h"
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- territories ---- */

bool policy_user_has_territory(const rove_user *u, const char *code)
{
	for (uint32_t i = 0; i < u->nterr; i++)
		if (strcmp(u->terr[i], code) == 0)
			return true;
	return false;
}

/* The record of territory code into rec; *found false if there is none. */
int policy_territory_get(const pctx *pc, const char *code, rove_record *rec, bool *found)
{
	rove_uuid id;
	int rc = rove_pstore_code_get(pc->ps, pc->txn, code, &id);

	*found = false;
	if (rc == ROVE_ENOTFOUND)
		return ROVE_OK;
	if (rc == ROVE_OK)
		rc = rove_store_record_get(pc->st, pc->txn, ROVE_COLL_TERRITORY, &id, rec);
	if (rc == ROVE_ENOTFOUND) {
		rove_error("territory '%s' has a code but no record", code);
		return ROVE_EPROTO;
	}
	*found = rc == ROVE_OK;
	return rc;
}

int policy_check_territory(const pctx *pc, const char *code, rove_verdict *v)
{
	rove_uuid id;
	int rc;

	if (policy_memo_find(pc, code) != NULL)
		return ROVE_OK;
	rc = rove_pstore_code_get(pc->ps, pc->txn, code, &id);

	if (rc == ROVE_ENOTFOUND)
		return refuse(v, ROVE_R_INVALID, "no territory '%s'", code);
	return rc;
}

int policy_walk_up(const pctx *pc, const char *code, walk_fn at, void *arg)
{
	char cur[ROVE_MAX_NAME + 1];
	rove_record *rec;
	bool stop = false, found;
	int rc = ROVE_OK;

	if (code == NULL || code[0] == '\0')
		return ROVE_OK;
	rec = malloc(sizeof(*rec));
	if (rec == NULL)
		return ROVE_ENOMEM;
	snprintf(cur, sizeof(cur), "%s", code);
	for (int depth = 0; rc == ROVE_OK && depth < ROVE_MAX_TREE_DEPTH && cur[0] != '\0'; depth++) {
		rc = at(cur, arg, &stop);
		if (rc != ROVE_OK || stop)
			break;
		rc = policy_territory_get(pc, cur, rec, &found);
		if (rc != ROVE_OK || !found)
			break;
		snprintf(cur, sizeof(cur), "%s", str_or(rove_fields_str(&rec->fs, "parent"), ""));
	}
	free(rec);
	return rc;
}

int rove_policy_territory_levels(const pctx *pc, const char *code, unsigned *levels)
{
	char cur[ROVE_MAX_NAME + 1];
	rove_record *rec = malloc(sizeof(*rec));
	bool found;
	int rc = rec != NULL ? ROVE_OK : ROVE_ENOMEM;

	*levels = 0;
	snprintf(cur, sizeof(cur), "%s", code != NULL ? code : "");
	while (rc == ROVE_OK && cur[0] != '\0' && *levels <= ROVE_MAX_TREE_DEPTH) {
		rc = policy_territory_get(pc, cur, rec, &found);
		if (rc != ROVE_OK || !found)
			break;
		(*levels)++;
		snprintf(cur, sizeof(cur), "%s", str_or(rove_fields_str(&rec->fs, "parent"), ""));
	}
	free(rec);
	return rc;
}

typedef struct has_ctx {
	const rove_user *u;
	const char *code; /* or a code to find */
	bool found;
} has_ctx;

static int at_user_territory(const char *code, void *arg, bool *stop)
{
	has_ctx *h = arg;

	h->found = policy_user_has_territory(h->u, code);
	*stop = h->found;
	return ROVE_OK;
}

int rove_policy_in_reach(const pctx *pc, const rove_user *u, const char *code, bool *out)
{
	has_ctx h = {u, NULL, false};
	int rc = policy_walk_up(pc, code, at_user_territory, &h);

	*out = rc == ROVE_OK && h.found;
	return rc;
}

static int at_code(const char *code, void *arg, bool *stop)
{
	has_ctx *h = arg;

	h->found = strcmp(code, h->code) == 0;
	*stop = h->found;
	return ROVE_OK;
}

/* *out: whether territory above is code or lies above it. */
int policy_territory_under(const pctx *pc, const char *code, const char *above, bool *out)
{
	has_ctx h = {NULL, above, false};
	int rc = policy_walk_up(pc, code, at_code, &h);

	*out = rc == ROVE_OK && h.found;
	return rc;
}

/* ---- scopes ---- */

/* Adds "KIND:NAME" (cut to ROVE_MAX_SCOPE_LEN bytes). Built by hand: this
 * runs for every op the writer applies, and snprintf was 3 % of it. */
static void scope_add(rove_scopes *out, char kind, const char *name)
{
	char *s;
	size_t len;

	if (out->n >= ROVE_MAX_RECORD_SCOPES || name == NULL || name[0] == '\0')
		return;
	s = out->s[out->n++];
	len = strnlen(name, ROVE_MAX_SCOPE_LEN - 2);
	s[0] = kind;
	s[1] = ':';
	memcpy(s + 2, name, len);
	s[2 + len] = '\0';
}

static int customer_scopes(const rove_record *c, rove_scopes *out)
{
	const char *owner = rove_fields_str(&c->fs, "owner");
	const char *terr = rove_fields_str(&c->fs, "territory");

	if (owner != NULL)
		scope_add(out, 'o', owner);
	else
		scope_add(out, 'r', terr);
	scope_add(out, 't', terr);
	return ROVE_OK;
}

/* The scopes of rec (rove_policy_scopes); with as_live, those it was in
 * before it (or its customer) was deleted. */
int policy_record_scopes(const pctx *pc, const rove_record *rec, const rove_record *hint, bool as_live,
			 rove_scopes *out)
{
	const rove_coll_def *c = rove_schema_coll(rec->coll);
	const rove_field_def *pf;

	out->n = 0;
	if (c == NULL || (!as_live && rove_record_deleted(rec)))
		return ROVE_OK;
	if (rec->coll == ROVE_COLL_CUSTOMER)
		return customer_scopes(rec, out);
	if (rec->coll == ROVE_COLL_TERRITORY || rec->coll == ROVE_COLL_DEALER) {
		const char *code = rove_fields_str(&rec->fs, rec->coll == ROVE_COLL_DEALER ? "territory" : "code");
		scope_add(out, 'r', code);
		scope_add(out, 't', code);
		return ROVE_OK;
	}
	if (rec->coll == ROVE_COLL_TARGET || rec->coll == ROVE_COLL_NOTICE) {
		scope_add(out, 'o', rove_fields_str(&rec->fs, "user"));
		if (rec->coll == ROVE_COLL_TARGET)
			scope_add(out, 't', rove_fields_str(&rec->fs, "territory"));
		return ROVE_OK;
	}
	pf = rove_schema_parent_field(c);
	if (pf != NULL) {
		const char *pid = rove_fields_str(&rec->fs, pf->name);
		rove_uuid id;
		rove_record *parent;
		int rc;

		if (pid == NULL || rove_uuid_parse(pid, &id) != ROVE_OK)
			return ROVE_OK;
		if (hint != NULL && hint->coll == ROVE_COLL_CUSTOMER && rove_uuid_cmp(&hint->id, &id) == 0)
			return !as_live && rove_record_deleted(hint) ? ROVE_OK : customer_scopes(hint, out);
		parent = malloc(sizeof(*parent));
		if (parent == NULL)
			return ROVE_ENOMEM;
		rc = rove_store_record_get(pc->st, pc->txn, ROVE_COLL_CUSTOMER, &id, parent);
		if (rc == ROVE_OK && (as_live || !rove_record_deleted(parent)))
			rc = customer_scopes(parent, out);
		else if (rc == ROVE_ENOTFOUND || rc == ROVE_OK)
			rc = ROVE_OK;
		free(parent);
		return rc;
	}
	return ROVE_OK;
}

int rove_policy_scopes(const pctx *pc, const rove_record *rec, const rove_record *hint, rove_scopes *out)
{
	return policy_record_scopes(pc, rec, hint, false, out);
}

bool rove_policy_scope_copies(const char *scope)
{
	return (scope[0] == 'o' || scope[0] == 'r') && scope[1] == ':';
}

static int scope_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void user_scope_add(rove_user_scopes *out, char kind, const char *name)
{
	if (out->n < ROVE_MAX_USER_SCOPES)
		snprintf(out->s[out->n++], ROVE_MAX_SCOPE_LEN + 1, "%c:%s", kind, name);
	else
		rove_warn("user reads more than %u scopes; the rest are left out", ROVE_MAX_USER_SCOPES);
}

typedef struct reach_ctx {
	const pctx *pc;
	const rove_user *u;
	rove_user_scopes *out;
} reach_ctx;

static int add_in_reach(const char *code, void *arg)
{
	const reach_ctx *r = arg;
	bool in;
	int rc = rove_policy_in_reach(r->pc, r->u, code, &in);

	if (rc == ROVE_OK && in)
		user_scope_add(r->out, 't', code);
	return rc;
}

int rove_policy_user_scopes(const pctx *pc, const rove_user *u, rove_user_scopes *out)
{
	out->all = u->role == ROVE_ROLE_ANALYST || u->role == ROVE_ROLE_ADMIN;
	out->n = 0;
	if (out->all)
		return ROVE_OK;
	user_scope_add(out, 'o', u->name);
	if (u->role == ROVE_ROLE_REP) {
		for (uint32_t i = 0; i < u->nterr; i++)
			user_scope_add(out, 'r', u->terr[i]);
	} else {
		/* A manager reads every territory under theirs. */
		reach_ctx r = {pc, u, out};
		int rc = rove_pstore_each_code(pc->ps, pc->txn, add_in_reach, &r);

		if (rc != ROVE_OK)
			return rc;
	}
	qsort(out->s, out->n, sizeof(out->s[0]), scope_cmp);
	return ROVE_OK;
}

bool rove_policy_sees(const rove_user_scopes *us, const rove_scopes *rs)
{
	if (us->all)
		return true;
	for (uint32_t i = 0; i < rs->n; i++)
		if (bsearch(rs->s[i], us->s, us->n, sizeof(us->s[0]), scope_cmp) != NULL)
			return true;
	return false;
}

int rove_policy_reads(const pctx *pc, const rove_user *u, const rove_scopes *rs, bool *out)
{
	*out = u->role == ROVE_ROLE_ANALYST || u->role == ROVE_ROLE_ADMIN;
	for (uint32_t i = 0; !*out && i < rs->n; i++) {
		const char *name = rs->s[i] + 2;
		int rc;

		switch (rs->s[i][0]) {
		case 'o': *out = strcmp(name, u->name) == 0; break;
		case 'r': *out = u->role == ROVE_ROLE_REP && policy_user_has_territory(u, name); break;
		case 't':
			if (u->role != ROVE_ROLE_MANAGER)
				break;
			rc = rove_policy_in_reach(pc, u, name, out);
			if (rc != ROVE_OK)
				return rc;
			break;
		default: break;
		}
	}
	return ROVE_OK;
}

/* ---- walks of records (policy_int.h) ---- */

typedef struct record_walk {
	const pctx *pc;
	uint8_t coll; /* only records of it (0: all) */
	rove_record *rec;
	record_fn fn;
	void *arg;
} record_walk;

static int record_load(const uint8_t key[ROVE_RECORD_KEY], void *arg)
{
	const record_walk *w = arg;
	rove_uuid id;
	int rc;

	if (w->coll != 0 && key[0] != w->coll)
		return ROVE_OK;
	memcpy(id.b, key + 1, sizeof(id.b));
	rc = rove_store_record_get(w->pc->st, w->pc->txn, key[0], &id, w->rec);
	if (rc == ROVE_ENOTFOUND || rc == ROVE_EPROTO)
		return ROVE_OK;
	return rc == ROVE_OK ? w->fn(w->rec, w->arg) : rc;
}

/* Each child record of customer id in collection coll (0: all). */
int policy_each_child(const pctx *pc, const rove_uuid *id, uint8_t coll, record_fn fn, void *arg)
{
	record_walk w = {pc, 0, malloc(sizeof(rove_record)), fn, arg};
	uint8_t key[ROVE_RECORD_KEY];
	int rc;

	if (w.rec == NULL)
		return ROVE_ENOMEM;
	rove_record_key(key, ROVE_COLL_CUSTOMER, id);
	rc = rove_store_each_child(pc->st, pc->txn, key, coll, record_load, &w);
	free(w.rec);
	return rc;
}

/* Each customer in scope "KIND:NAME" (its owner's, or its territory's). */
int policy_each_customer_in(const pctx *pc, char kind, const char *name, record_fn fn, void *arg)
{
	record_walk w = {pc, ROVE_COLL_CUSTOMER, NULL, fn, arg};
	rove_scopes one = {0};
	int rc;

	scope_add(&one, kind, name);
	if (one.n == 0)
		return ROVE_OK;
	w.rec = malloc(sizeof(*w.rec));
	if (w.rec == NULL)
		return ROVE_ENOMEM;
	rc = rove_store_each_scoped(pc->st, pc->txn, one.s[0], NULL, record_load, &w);
	free(w.rec);
	return rc;
}

typedef struct owned_ctx {
	const char *code;
	record_fn fn;
	void *arg;
} owned_ctx;

static int owned_one(const rove_record *c, void *arg)
{
	const owned_ctx *o = arg;
	const char *terr = rove_fields_str(&c->fs, "territory");

	if (rove_record_deleted(c) || terr == NULL || strcmp(terr, o->code) != 0)
		return ROVE_OK;
	return o->fn(c, o->arg);
}

int rove_policy_each_owned(const pctx *pc, const char *owner, const char *code, rove_policy_customer_fn fn, void *arg)
{
	owned_ctx o = {code, fn, arg};

	return policy_each_customer_in(pc, 'o', owner, owned_one, &o);
}

/* What a handover of a territory asks of its holder's customers below it
 * (rove_policy_owned_below). */
typedef struct below_ctx {
	const pctx *pc;
	const char *code;
	const rove_user *from, *to; /* as they will be: without code, with it */
	const rove_user *had;       /* from with code: as he was, or before his unassign */
	rove_policy_below_fn fn;
	void *arg;
} below_ctx;

/* Whether u (as given: not looked up) may own customers of terr. */
static int may_own_in(const pctx *pc, const rove_user *u, const char *terr, bool *out)
{
	*out = false;
	if (u->role == ROVE_ROLE_REP)
		*out = policy_user_has_territory(u, terr);
	else if (u->role == ROVE_ROLE_MANAGER)
		return rove_policy_in_reach(pc, u, terr, out);
	return ROVE_OK;
}

static int owned_below_one(const rove_record *c, void *arg)
{
	const below_ctx *b = arg;
	const char *terr = rove_fields_str(&c->fs, "territory");
	bool under = false, by_code = false, still = false, to_may = false;
	int rc;

	if (rove_record_deleted(c) || terr == NULL || strcmp(terr, b->code) == 0)
		return ROVE_OK;
	rc = policy_territory_under(b->pc, terr, b->code, &under);
	/* Only those he owns by code: a manager's, whom code reaches (a
	 * rep's below it are his by their own territories, or by none since
	 * an unassign: their own handover moves them). */
	if (rc == ROVE_OK && under)
		rc = may_own_in(b->pc, b->had, terr, &by_code);
	if (rc == ROVE_OK && by_code)
		rc = may_own_in(b->pc, b->from, terr, &still);
	if (rc != ROVE_OK || !under || !by_code || still)
		return rc;
	rc = may_own_in(b->pc, b->to, terr, &to_may);
	return rc == ROVE_OK ? b->fn(c, to_may, b->arg) : rc;
}

int rove_policy_owned_below(const pctx *pc, const rove_user *from, const char *code, const rove_user *to,
			    bool to_gets_code, rove_policy_below_fn fn, void *arg)
{
	rove_user *u = malloc(3 * sizeof(*u)); /* from without code, to with it, from with it */
	below_ctx b = {pc, code, u, u + 1, u + 2, fn, arg};
	uint32_t n = 0;
	int rc;

	if (u == NULL)
		return ROVE_ENOMEM;
	u[0] = *from;
	for (uint32_t i = 0; i < from->nterr; i++)
		if (strcmp(from->terr[i], code) != 0)
			memcpy(u[0].terr[n++], from->terr[i], sizeof(u[0].terr[0]));
	u[0].nterr = n;
	u[1] = *to;
	if (to_gets_code && !policy_user_has_territory(to, code) && to->nterr < ROVE_MAX_USER_TERRITORIES)
		snprintf(u[1].terr[u[1].nterr++], sizeof(u[1].terr[0]), "%s", code);
	u[2] = *from;
	if (!policy_user_has_territory(from, code) && from->nterr < ROVE_MAX_USER_TERRITORIES)
		snprintf(u[2].terr[u[2].nterr++], sizeof(u[2].terr[0]), "%s", code);
	rc = policy_each_customer_in(pc, 'o', from->name, owned_below_one, &b);
	free(u);
	return rc;
}

/* A live customer owned at or below code ends the walk (ROVE_EEXIST:
 * rove_policy_has_left). */
typedef struct under_ctx {
	const pctx *pc;
	const char *code;
} under_ctx;

static int owned_under_one(const rove_record *c, void *arg)
{
	const under_ctx *o = arg;
	const char *terr = rove_fields_str(&c->fs, "territory");
	bool under = false;
	int rc;

	if (rove_record_deleted(c) || terr == NULL)
		return ROVE_OK;
	rc = policy_territory_under(o->pc, terr, o->code, &under);
	if (rc == ROVE_OK && under)
		rc = ROVE_EEXIST; /* one is enough */
	return rc;
}

static int deal_found(const rove_uuid *deal, const char *owner, void *arg)
{
	(void)deal;
	(void)owner;
	*(bool *)arg = true;
	return ROVE_EEXIST;
}

int rove_policy_has_left(const pctx *pc, const char *login, const char *code, bool *any)
{
	under_ctx o = {pc, code};
	int rc = policy_each_customer_in(pc, 'o', login, owned_under_one, &o);

	*any = rc == ROVE_EEXIST;
	if (rc == ROVE_OK)
		rc = rove_policy_deals_left(pc, login, code, login, deal_found, any);
	return rc == ROVE_EEXIST ? ROVE_OK : rc;
}

/* The deals a handover leaves (rove_policy_deals_left), with where each
 * goes; listed first, since giving them away writes to the index walked. */
typedef struct deal_move {
	rove_uuid id;
	bool nobody;
	char to[ROVE_MAX_NAME + 1];
} deal_move;

typedef struct deals_ctx {
	const pctx *pc;
	const char *from, *to, *code; /* code: the root of the subtree */
	const char *terr;             /* the territory walked now */
	bool to_able;                 /* whether `to` works in terr */
	rove_record *customer;
	deal_move *moves;
	size_t n, cap;
	/* the territories of the subtree */
	char (*codes)[ROVE_MAX_NAME + 1];
	size_t ncodes, codes_cap;
} deals_ctx;

static int subtree_code(const char *code, void *arg)
{
	deals_ctx *d = arg;
	char (*p)[ROVE_MAX_NAME + 1];
	bool under = false;
	int rc = policy_territory_under(d->pc, code, d->code, &under);

	if (rc != ROVE_OK || !under)
		return rc;
	p = rove_array_grow(d->codes, &d->codes_cap, d->ncodes, 1, sizeof(*p), 8);
	if (p == NULL)
		return ROVE_ENOMEM;
	d->codes = p;
	snprintf(d->codes[d->ncodes++], sizeof(d->codes[0]), "%s", code);
	return ROVE_OK;
}

static int deal_left(const rove_record *deal, void *arg)
{
	deals_ctx *d = arg;
	const char *owner = rove_fields_str(&deal->fs, "owner");
	const char *cid = rove_fields_str(&deal->fs, "customer");
	const char *cowner = NULL;
	deal_move *m;
	rove_uuid id;
	bool able = d->to_able;
	int rc = ROVE_OK;

	if (rove_record_deleted(deal) || owner == NULL || strcmp(owner, d->from) != 0 ||
	    rove_rules_deal_closed(rove_fields_str(&deal->fs, "stage")))
		return ROVE_OK;
	if (cid != NULL && rove_uuid_parse(cid, &id) == ROVE_OK) {
		rc = rove_store_record_get(d->pc->st, d->pc->txn, ROVE_COLL_CUSTOMER, &id, d->customer);
		if (rc == ROVE_OK)
			cowner = rove_fields_str(&d->customer->fs, "owner");
		else if (rc == ROVE_ENOTFOUND)
			rc = ROVE_OK;
	}
	/* A customer from still owns keeps its deals: they go with it when
	 * it is reassigned (rule 14). */
	if (rc != ROVE_OK || (cowner != NULL && strcmp(cowner, d->from) == 0))
		return rc;
	/* to if he works there, else the customer's owner if he can work it,
	 * else nobody, as for a customer moved (policy_after.c) */
	if (!able && cowner != NULL)
		rc = policy_deal_owner_able(d->pc, cowner, d->terr, &able);
	if (rc != ROVE_OK)
		return rc;
	m = rove_array_grow(d->moves, &d->cap, d->n, 1, sizeof(*m), 16);
	if (m == NULL)
		return ROVE_ENOMEM;
	d->moves = m;
	m = &d->moves[d->n++];
	memset(m, 0, sizeof(*m));
	m->id = deal->id;
	m->nobody = !able;
	if (able)
		snprintf(m->to, sizeof(m->to), "%s", d->to_able ? d->to : cowner);
	return ROVE_OK;
}

int rove_policy_deals_left(const pctx *pc, const char *from, const char *code, const char *to,
			   rove_policy_deal_fn fn, void *arg)
{
	deals_ctx d = {.pc = pc, .from = from, .to = to, .code = code, .customer = malloc(sizeof(rove_record))};
	record_walk w = {pc, ROVE_COLL_OPPORTUNITY, malloc(sizeof(rove_record)), deal_left, &d};
	int rc = d.customer != NULL && w.rec != NULL ? ROVE_OK : ROVE_ENOMEM;

	if (rc == ROVE_OK)
		rc = rove_pstore_each_code(pc->ps, pc->txn, subtree_code, &d);
	for (size_t i = 0; rc == ROVE_OK && i < d.ncodes; i++) {
		rove_scopes one = {0};
		bool still = false;
		d.terr = d.codes[i];
		/* A deal stays with from where he still works (a manager
		 * reaching it through another territory of his). */
		rc = policy_deal_owner_able(pc, from, d.terr, &still);
		if (rc == ROVE_OK && !still)
			rc = policy_deal_owner_able(pc, to, d.terr, &d.to_able);
		if (rc != ROVE_OK || still)
			continue;
		/* A deal is in its customer's scopes: t:CODE holds the deals
		 * of the territory's customers, whoever owns them. */
		scope_add(&one, 't', d.terr);
		if (one.n == 1)
			rc = rove_store_each_scoped(pc->st, pc->txn, one.s[0], NULL, record_load, &w);
	}
	for (size_t i = 0; rc == ROVE_OK && i < d.n; i++)
		rc = fn(&d.moves[i].id, d.moves[i].nobody ? NULL : d.moves[i].to, arg);
	free(d.moves);
	free(d.codes);
	free(d.customer);
	free(w.rec);
	return rc;
}
