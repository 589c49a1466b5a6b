/*
 * policy_pool.c - the public pool's rules (公海规则, rule 11), set per
 * territory: how many customers a rep may hold, claims a day, a cooldown
 * before re-claiming one released, and recycling idle customers to the
 * pool with a warning first (rove_policy_periodic).
 */
#include "policy_int.h"

#include "err.h"
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The rules of territory code (all 0 if unset or no such territory). */
void rove_policy_memo_reset(rove_policy_memo *m)
{
	m->n = 0;
	/* (The keys depend on their values alone: forgotten only so that a
	 * batch begins with a memo it set itself.) */
	for (int i = 0; i < ROVE_UNIQ_KEYS; i++)
		m->uniq.f[i].vlen = 0;
}

const pool_rules *policy_memo_find(const pctx *pc, const char *code)
{
	if (pc->memo == NULL)
		return NULL;
	for (uint32_t i = 0; i < pc->memo->n; i++)
		if (strcmp(pc->memo->t[i].code, code) == 0)
			return &pc->memo->t[i].rules;
	return NULL;
}

/* Remembers that territory code exists, with rules p. */
static void memo_add(const pctx *pc, const char *code, const pool_rules *p)
{
	rove_policy_memo *m = pc->memo;

	if (m == NULL || strlen(code) > ROVE_MAX_NAME)
		return;
	if (m->n == ROVE_POLICY_MEMO_TERRITORIES)
		m->n = 0;
	strcpy(m->t[m->n].code, code);
	m->t[m->n].rules = *p;
	m->n++;
}

int policy_pool_rules_get(const pctx *pc, const char *code, pool_rules *p)
{
	const pool_rules *known;
	rove_record *rec;
	bool found;
	int rc;

	memset(p, 0, sizeof(*p));
	if (code == NULL)
		return ROVE_OK;
	if ((known = policy_memo_find(pc, code)) != NULL) {
		*p = *known;
		return ROVE_OK;
	}
	rec = malloc(sizeof(*rec));
	if (rec == NULL)
		return ROVE_ENOMEM;
	rc = policy_territory_get(pc, code, rec, &found);
	if (rc == ROVE_OK && found) {
		rove_fields_int(&rec->fs, "pool_limit", &p->limit);
		rove_fields_int(&rec->fs, "claim_limit", &p->claims);
		rove_fields_int(&rec->fs, "cooldown_days", &p->cooldown);
		rove_fields_int(&rec->fs, "release_reason", &p->reason);
		rove_fields_int(&rec->fs, "recycle_days", &p->recycle);
		rove_fields_int(&rec->fs, "warn_days", &p->warn);
		memo_add(pc, code, p);
	}
	free(rec);
	return rc;
}

/* ---- pool policies (公海规则) ---- */

/* The counter of u's claims on the server's today. */
void policy_claims_key(const pctx *pc, char *out, size_t len, const char *user)
{
	char day[ROVE_TIME_SIZE];

	policy_iso_now(pc, day, true);
	snprintf(out, len, "claims:%s:%s", user, day);
}

static int count_one(const rove_record *c, void *arg)
{
	(void)c;
	(*(uint64_t *)arg)++;
	return ROVE_OK;
}

/* *n: the customers u owns in territory code. */
static int held_in(const pctx *pc, const rove_user *u, const char *code, uint64_t *n)
{
	*n = 0;
	return rove_policy_each_owned(pc, u->name, code, count_one, n);
}

/* The last day a user released a customer, or the server recycled it
 * from him, from its history: the cooldown counts from either (a rep
 * does not take back at once a customer he let go idle). A release by
 * someone else (his manager) is not his: SPEC rule 11's wait is for "a
 * customer they released" (attack sixty-eight). */
typedef struct release_ctx {
	const rove_user *u;
	int64_t last;  /* day number, -1: none */
	bool recycled; /* that day's was a recycling */
} release_ctx;

static int history_release(const rove_record *h, void *arg)
{
	release_ctx *r = arg;
	const char *ev = rove_fields_str(&h->fs, "event");
	const char *from = rove_fields_str(&h->fs, "from");
	const char *by = rove_fields_str(&h->fs, "by");

	if (ev != NULL && from != NULL && strcmp(from, r->u->name) == 0 &&
	    ((strcmp(ev, "release") == 0 && by != NULL && strcmp(by, from) == 0) || strcmp(ev, "recycle") == 0)) {
		int64_t d = policy_day_number(rove_fields_str(&h->fs, "at"));
		if (d > r->last || (d == r->last && strcmp(ev, "recycle") != 0)) {
			r->last = d;
			r->recycled = strcmp(ev, "recycle") == 0;
		}
	}
	return ROVE_OK;
}

/* *day: the last day u released customer id or it was recycled from him
 * (from its history), or -1; *recycled: that day's was a recycling. */
static int released_on(const pctx *pc, const rove_user *u, const rove_uuid *id, int64_t *day, bool *recycled)
{
	release_ctx r = {u, -1, false};
	int rc = policy_each_child(pc, id, ROVE_COLL_OWNERSHIP, history_release, &r);

	*day = r.last;
	*recycled = r.recycled;
	return rc;
}

/* The pool rules of the customer's territory for a claim (or a create). */
int policy_check_pool_take(const pctx *pc, const rove_user *u, const char *terr, const rove_record *cur,
			   rove_verdict *v)
{
	char key[ROVE_MAX_NAME + 48];
	pool_rules rules;
	uint64_t n;
	int rc;

	if (u->role != ROVE_ROLE_REP)
		return ROVE_OK;
	rc = policy_pool_rules_get(pc, terr, &rules);
	if (rc == ROVE_OK && rules.limit > 0)
		rc = held_in(pc, u, terr, &n);
	if (rc != ROVE_OK)
		return rc;
	/* (An admin's reassignment may have given him more than the cap.) */
	if (rules.limit > 0 && n == (uint64_t)rules.limit)
		return refuse(v, ROVE_R_LIMIT, "you hold %llu customers in %s, the most allowed", (unsigned long long)n,
			      terr);
	if (rules.limit > 0 && n > (uint64_t)rules.limit)
		return refuse(v, ROVE_R_LIMIT, "you hold %llu customers in %s, more than the %lld allowed",
			      (unsigned long long)n, terr, (long long)rules.limit);
	if (cur == NULL)
		return ROVE_OK; /* the rest is about claims */
	if (rules.claims > 0) {
		policy_claims_key(pc, key, sizeof(key), u->name);
		rc = rove_store_counter_get(pc->st, pc->txn, key, &n);
		if (rc != ROVE_OK)
			return rc;
		if (n >= (uint64_t)rules.claims)
			return refuse(v, ROVE_R_LIMIT, "at most %lld claims a day in %s", (long long)rules.claims,
				      terr);
	}
	if (rules.cooldown > 0) {
		int64_t last;
		bool recycled;
		rc = released_on(pc, u, &cur->id, &last, &recycled);
		if (rc != ROVE_OK)
			return rc;
		if (last >= 0 && today_number(pc) - last < rules.cooldown)
			return refuse(v, ROVE_R_COOLDOWN, "%s less than %lld days ago",
				      recycled ? "it was recycled from you for lack of follow-up" : "you released it",
				      (long long)rules.cooldown);
	}
	return ROVE_OK;
}

/* ---- periodic rules: recycling idle customers to the pool ---- */

static int opportunity_won(const rove_record *o, void *arg)
{
	const char *stage = rove_fields_str(&o->fs, "stage");

	(void)arg;
	return !rove_record_deleted(o) && stage != NULL && strcmp(stage, "won") == 0 ? ROVE_EEXIST : ROVE_OK;
}

/* *out: whether a customer is won (exempt from recycling): a customer or
 * loyal tier, or a won opportunity. */
static int customer_won(const pctx *pc, const rove_record *c, bool *out)
{
	const char *tier = rove_fields_str(&c->fs, "tier");
	int rc;

	*out = tier != NULL && (strcmp(tier, "customer") == 0 || strcmp(tier, "loyal") == 0);
	if (*out)
		return ROVE_OK;
	rc = policy_each_child(pc, &c->id, ROVE_COLL_OPPORTUNITY, opportunity_won, NULL);
	*out = rc == ROVE_EEXIST;
	return rc == ROVE_EEXIST ? ROVE_OK : rc;
}

/* A notice to user about customer c, once (its id derives from name):
 * *made says whether op was filled. Stamped by the engine. */
static int notice_op(const pctx *pc, rove_op *op, const char *user, const rove_record *c, const char *kind,
		     const char *text, const char *name, bool *made)
{
	rove_stamp unstamped = {{0}, 0};
	rove_record *tmp;
	rove_uuid id;
	char ids[ROVE_UUID_STRLEN + 1], when[ROVE_TIME_SIZE];
	int rc;

	*made = false;
	rove_uuid_from_name(&id, name);
	tmp = malloc(sizeof(*tmp));
	if (tmp == NULL)
		return ROVE_ENOMEM;
	rc = rove_store_record_get(pc->st, pc->txn, ROVE_COLL_NOTICE, &id, tmp);
	free(tmp);
	if (rc == ROVE_OK)
		return ROVE_OK; /* told already */
	if (rc != ROVE_ENOTFOUND)
		return rc;
	rove_op_init(op, ROVE_OP_CREATE, ROVE_COLL_NOTICE, &id, unstamped);
	rove_uuid_format(&c->id, ids);
	policy_iso_now(pc, when, false);
	rc = rove_op_set(op, "user", rove_vcstr(user));
	if (rc == ROVE_OK)
		rc = rove_op_set(op, "customer", rove_vcstr(ids));
	if (rc == ROVE_OK)
		rc = rove_op_set(op, "kind", rove_vcstr(kind));
	if (rc == ROVE_OK)
		rc = rove_op_set(op, "text", rove_vcstr(text));
	if (rc == ROVE_OK)
		rc = rove_op_set(op, "at", rove_vcstr(when));
	*made = rc == ROVE_OK;
	return rc;
}

/* An owner is always warned ahead of a recycling: without warn_days, a
 * day ahead (SPEC rule 11, "announced to the owner in advance"). */
#define POOL_DEFAULT_WARN_DAYS 1

/* The time the customer's owner got it: the latest entry of its own
 * ownership history (not a deal's) that gave it to them. */
typedef struct owned_since_ctx {
	const char *owner;
	char at[ROVE_TIME_SIZE]; /* "" if none */
} owned_since_ctx;

static int owned_since_each(const rove_record *h, void *arg)
{
	owned_since_ctx *o = arg;
	const char *to = rove_fields_str(&h->fs, "to");
	const char *at = rove_fields_str(&h->fs, "at");

	if (rove_record_deleted(h) || rove_fields_get(&h->fs, "opportunity") != NULL || to == NULL || at == NULL ||
	    strcmp(to, o->owner) != 0 || strlen(at) >= sizeof(o->at))
		return ROVE_OK;
	if (strcmp(at, o->at) > 0)
		snprintf(o->at, sizeof(o->at), "%s", at);
	return ROVE_OK;
}

/* *day: the day the warning named nname was given, or -1 if it was not. */
static int warned_on(const pctx *pc, const char *nname, int64_t *day)
{
	rove_record *rec = malloc(sizeof(*rec));
	rove_uuid id;
	int rc;

	*day = -1;
	if (rec == NULL)
		return ROVE_ENOMEM;
	rove_uuid_from_name(&id, nname);
	rc = rove_store_record_get(pc->st, pc->txn, ROVE_COLL_NOTICE, &id, rec);
	if (rc == ROVE_OK) {
		*day = policy_day_number(rove_fields_str(&rec->fs, "at"));
		if (*day < 0)
			*day = today_number(pc); /* a warning without a time: from now */
	} else if (rc == ROVE_ENOTFOUND) {
		rc = ROVE_OK;
	}
	free(rec);
	return rc;
}

/* Recycling of one customer: a warning notice when it enters the warning
 * window (or when a pass first finds it past due), and a release by the
 * server with a notice once it is due and its owner was warned at least
 * warn days before. A warning belongs to the owner, the customer's last
 * activity and the time the owner got it: an activity, a claim or a
 * reassignment makes a new key, so the old warning no longer counts.
 * Adds at most two ops. */
static int recycle_one(const pctx *pc, const rove_record *c, int64_t days, int64_t warn, rove_op *ops, size_t max,
		       size_t *n)
{
	const char *owner = rove_fields_str(&c->fs, "owner");
	const char *name = rove_fields_str(&c->fs, "name");
	const char *last = rove_fields_str(&c->fs, "last_activity_at");
	/* A notice's text holds the customer's whole name (never cut inside
	 * a character): ROVE_LEN_NAME characters and the words around it fit
	 * in ROVE_LEN_REASON. */
	char text[ROVE_LEN_REASON * 4 + 1], nname[ROVE_MAX_NAME + 160], ids[ROVE_UUID_STRLEN + 1];
	rove_stamp unstamped = {{0}, 0};
	owned_since_ctx since;
	int64_t idle, warned;
	bool made, won;
	int rc;

	if (owner == NULL || rove_record_deleted(c) || *n + 2 > max)
		return ROVE_OK;
	if (last == NULL)
		last = rove_fields_str(&c->fs, "created_at");
	if (last == NULL || policy_day_number(last) < 0)
		return ROVE_OK;
	if (warn <= 0)
		warn = POOL_DEFAULT_WARN_DAYS;
	idle = today_number(pc) - policy_day_number(last);
	if (idle < days - warn)
		return ROVE_OK;
	rc = customer_won(pc, c, &won);
	if (rc != ROVE_OK || won)
		return rc;
	since.owner = owner;
	since.at[0] = '\0';
	rc = policy_each_child(pc, &c->id, ROVE_COLL_OWNERSHIP, owned_since_each, &since);
	if (rc != ROVE_OK)
		return rc;
	rove_uuid_format(&c->id, ids);
	snprintf(nname, sizeof(nname), "notice:warn:%s:%s:%s:%s", owner, ids, last, since.at);
	rc = warned_on(pc, nname, &warned);
	if (rc != ROVE_OK)
		return rc;
	if (warned < 0) {
		int64_t left = days - idle > warn ? days - idle : warn;
		snprintf(text, sizeof(text), "%s returns to the public pool in %lld day(s) without a follow-up",
			 str_or(name, "a customer"), (long long)left);
		rc = notice_op(pc, &ops[*n], owner, c, "recycle_warning", text, nname, &made);
		if (made)
			(*n)++;
		return rc;
	}
	if (idle >= days && today_number(pc) - warned >= warn) {
		rove_op *op = &ops[(*n)++];
		rove_op_init(op, ROVE_OP_RELEASE, ROVE_COLL_CUSTOMER, &c->id, unstamped); /* stamped by the engine */
		snprintf(text, sizeof(text), "no follow-up for %lld days", (long long)idle);
		rc = rove_op_set(op, "owner", rove_vnull());
		if (rc == ROVE_OK)
			rc = rove_op_set(op, "release_reason", rove_vcstr(text));
		if (rc != ROVE_OK)
			return rc;
		snprintf(text, sizeof(text), "%s returned to the public pool: no follow-up for %lld days",
			 str_or(name, "a customer"), (long long)idle);
		snprintf(nname, sizeof(nname), "notice:recycled:%s:%s:%s:%s", owner, ids, last, since.at);
		rc = notice_op(pc, &ops[*n], owner, c, "recycled", text, nname, &made);
		if (made)
			(*n)++;
		return rc;
	}
	return ROVE_OK;
}

typedef struct recycle_ctx {
	const pctx *pc;
	int64_t days, warn;
	rove_op *ops;
	size_t max, *n;
} recycle_ctx;

static int recycle_each(const rove_record *c, void *arg)
{
	const recycle_ctx *r = arg;

	if (*r->n + 2 > r->max)
		return ROVE_EEXIST; /* full: the rest on the next run */
	return recycle_one(r->pc, c, r->days, r->warn, r->ops, r->max, r->n);
}

/* A territory's customers, by its pool rules. */
static int recycle_territory(const char *code, void *arg)
{
	recycle_ctx *r = arg;
	pool_rules rules;
	int rc = policy_pool_rules_get(r->pc, code, &rules);

	if (rc != ROVE_OK || rules.recycle <= 0)
		return rc;
	r->days = rules.recycle;
	r->warn = rules.warn;
	return policy_each_customer_in(r->pc, 't', code, recycle_each, r);
}

int rove_policy_periodic(const pctx *pc, rove_op *ops, size_t max, size_t *n)
{
	recycle_ctx r = {pc, 0, 0, ops, max, n};
	int rc;

	*n = 0;
	rc = rove_pstore_each_code(pc->ps, pc->txn, recycle_territory, &r);
	return rc == ROVE_EEXIST ? ROVE_OK : rc;
}
