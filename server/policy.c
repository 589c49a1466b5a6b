#include "policy.h"
#include "policy_store.h"

#include "calendar.h"
#include "err.h"
#include "log.h"
#include "rules.h"
#include "schema.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Conventions: every function returns a rove error; a rule that says no
 * writes its reason into a rove_verdict and returns ROVE_OK, and the
 * caller goes on only while the verdict says nothing (REFUSED). Questions
 * answered yes or no take a bool *out and return an error too, so that a
 * storage error never reads as "no".
 */
typedef rove_policy_ctx pctx;

#define REFUSED(v) ((v)->reason != ROVE_R_NONE)

static int refuse(rove_verdict *v, int reason, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int refuse(rove_verdict *v, int reason, const char *fmt, ...)
{
	va_list ap;

	v->reason = reason;
	va_start(ap, fmt);
	vsnprintf(v->detail, sizeof(v->detail), fmt, ap);
	va_end(ap);
	return ROVE_OK;
}

static void verdict_clear(rove_verdict *v)
{
	v->reason = ROVE_R_NONE;
	v->detail[0] = '\0';
	v->server_stamp = false;
}

/* Sets a field of an op the policy adjusts: an op that cannot take one
 * more field is refused, not an error. */
static int op_put(rove_op *op, const char *name, rove_value val, rove_verdict *v)
{
	int rc = rove_op_set(op, name, val);

	if (rc == ROVE_ETOOBIG)
		return refuse(v, ROVE_R_INVALID, "the change is too large to take %s", name);
	return rc;
}

static bool touches(const rove_op *op, const char *field)
{
	return rove_fields_get(&op->fs, field) != NULL;
}

static const char *str_or(const char *s, const char *dflt)
{
	return s != NULL ? s : dflt;
}

/* ---- times: always the server's (pc->now_ms), never the wall clock ---- */

/* The day number (common/calendar.h) of a schema time or date; -1 if it
 * is none. */
static int64_t day_number(const char *iso)
{
	uint64_t ms;
	bool zoned;

	return iso != NULL && rove_schema_time_ms(iso, &ms, &zoned) ? (int64_t)(ms / ROVE_DAY_MS) : -1;
}

static int64_t today_number(const pctx *pc)
{
	return (int64_t)(pc->now_ms / ROVE_DAY_MS);
}

/* The server's time as ISO 8601: date and time (UTC), or the date alone. */
static void iso_now(const pctx *pc, char out[ROVE_TIME_SIZE], bool date_only)
{
	if (date_only)
		rove_cal_date(today_number(pc), out);
	else
		rove_cal_time(pc->now_ms, out);
}

/* ---- territories ---- */

static bool user_has_territory(const rove_user *u, const char *code)
{
	for (uint32_t i = 0; i < u->nterr; i++)
		if (strcmp(u->terr[i], code) == 0)
			return true;
	return false;
}

/* The record of territory code into rec; *found false if there is none. */
static int territory_get(const pctx *pc, const char *code, rove_record *rec, bool *found)
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

static int territory_exists(const pctx *pc, const char *code, bool *out)
{
	rove_uuid id;
	int rc = rove_pstore_code_get(pc->ps, pc->txn, code, &id);

	*out = rc == ROVE_OK;
	return rc == ROVE_ENOTFOUND ? ROVE_OK : rc;
}

/* Calls at(code, arg) for code and each territory above it, nearest
 * first, until it sets *stop; a code that is no territory ends the walk. */
typedef int (*walk_fn)(const char *code, void *arg, bool *stop);

static int walk_up(const pctx *pc, const char *code, walk_fn at, void *arg)
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
		rc = territory_get(pc, cur, rec, &found);
		if (rc != ROVE_OK || !found)
			break;
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

	h->found = user_has_territory(h->u, code);
	*stop = h->found;
	return ROVE_OK;
}

int rove_policy_in_reach(const pctx *pc, const rove_user *u, const char *code, bool *out)
{
	has_ctx h = {u, NULL, false};
	int rc = walk_up(pc, code, at_user_territory, &h);

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
static int territory_under(const pctx *pc, const char *code, const char *above, bool *out)
{
	has_ctx h = {NULL, above, false};
	int rc = walk_up(pc, code, at_code, &h);

	*out = rc == ROVE_OK && h.found;
	return rc;
}

/* A territory's pool policies (公海规则); 0 = no such rule. */
typedef struct pool_rules {
	int64_t limit, claims, cooldown, reason, recycle, warn;
} pool_rules;

/* The rules of territory code (all 0 if unset or no such territory). */
static int pool_rules_get(const pctx *pc, const char *code, pool_rules *p)
{
	rove_record *rec;
	bool found;
	int rc;

	memset(p, 0, sizeof(*p));
	if (code == NULL)
		return ROVE_OK;
	rec = malloc(sizeof(*rec));
	if (rec == NULL)
		return ROVE_ENOMEM;
	rc = territory_get(pc, code, rec, &found);
	if (rc == ROVE_OK && found) {
		rove_fields_int(&rec->fs, "pool_limit", &p->limit);
		rove_fields_int(&rec->fs, "claim_limit", &p->claims);
		rove_fields_int(&rec->fs, "cooldown_days", &p->cooldown);
		rove_fields_int(&rec->fs, "release_reason", &p->reason);
		rove_fields_int(&rec->fs, "recycle_days", &p->recycle);
		rove_fields_int(&rec->fs, "warn_days", &p->warn);
	}
	free(rec);
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
static int record_scopes(const pctx *pc, const rove_record *rec, const rove_record *hint, bool as_live,
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
	return record_scopes(pc, rec, hint, false, out);
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
		case 'o':
			*out = strcmp(name, u->name) == 0;
			break;
		case 'r':
			*out = u->role == ROVE_ROLE_REP && user_has_territory(u, name);
			break;
		case 't':
			if (u->role != ROVE_ROLE_MANAGER)
				break;
			rc = rove_policy_in_reach(pc, u, name, out);
			if (rc != ROVE_OK)
				return rc;
			break;
		default:
			break;
		}
	}
	return ROVE_OK;
}

/* ---- unique tax ids and phones among live customers ---- */

/* Another live customer holding the op's tax id or phone, if any: refused
 * as a duplicate naming that customer's id, and nothing else about it. */
static int find_duplicate(const pctx *pc, const rove_op *op, rove_verdict *v)
{
	rove_uniq_key keys[ROVE_UNIQ_KEYS];
	int n = rove_uniq_keys(&op->fs, keys);

	for (int i = 0; i < n; i++) {
		rove_uuid other;
		char ids[ROVE_UUID_STRLEN + 1];
		int rc = rove_pstore_uniq_get(pc->ps, pc->txn, &keys[i], &other);

		if (rc == ROVE_ENOTFOUND)
			continue;
		if (rc != ROVE_OK)
			return rc;
		if (rove_uuid_cmp(&other, &op->rid) != 0) {
			rove_uuid_format(&other, ids);
			return refuse(v, ROVE_R_DUPLICATE, "%s", ids);
		}
	}
	return ROVE_OK;
}

int rove_policy_open(const pctx *pc, bool *rebuilt)
{
	return rove_pstore_open(pc->ps, pc->st, pc->txn, rebuilt);
}

void rove_policy_system_user(rove_user *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", ROVE_SYSTEM_USER);
	out->role = ROVE_ROLE_ADMIN;
}

bool rove_policy_name_reserved(const char *login)
{
	return rove_name_same(login, strlen(login), ROVE_SYSTEM_USER, strlen(ROVE_SYSTEM_USER));
}

/* ---- a customer's children and history ---- */

/* Walks of records found through an index: each one is loaded into
 * scratch and handed to fn(rec, arg), which returns ROVE_OK to go on
 * (callers that stop on a find return ROVE_EEXIST). A record that is gone
 * or cannot be read is skipped (the store logs it): one bad record must
 * not block every write to its customer, nor the rules on the others;
 * any other error ends the walk and is returned. */
typedef int (*record_fn)(const rove_record *rec, void *arg);

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
static int each_child_record(const pctx *pc, const rove_uuid *id, uint8_t coll, record_fn fn, void *arg)
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
static int each_customer_in(const pctx *pc, char kind, const char *name, record_fn fn, void *arg)
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

	return each_customer_in(pc, 'o', owner, owned_one, &o);
}

/* A user's entries in a customer's ownership history. */
typedef struct history_ctx {
	const rove_user *u;
	int64_t last_release; /* day number, -1: none */
} history_ctx;

static int history_from_user(const rove_record *h, void *arg)
{
	const history_ctx *hc = arg;
	const char *from = rove_fields_str(&h->fs, "from");

	return from != NULL && strcmp(from, hc->u->name) == 0 ? ROVE_EEXIST : ROVE_OK;
}

/* *out: whether u owned customer id before (its history says so). */
static int owned_before(const pctx *pc, const rove_user *u, const rove_uuid *id, bool *out)
{
	history_ctx hc = {u, -1};
	int rc = each_child_record(pc, id, ROVE_COLL_OWNERSHIP, history_from_user, &hc);

	*out = rc == ROVE_EEXIST;
	return rc == ROVE_EEXIST ? ROVE_OK : rc;
}

static int history_release(const rove_record *h, void *arg)
{
	history_ctx *hc = arg;
	const char *ev = rove_fields_str(&h->fs, "event");
	const char *from = rove_fields_str(&h->fs, "from");

	if (ev != NULL && from != NULL && strcmp(from, hc->u->name) == 0 &&
	    (strcmp(ev, "release") == 0 || strcmp(ev, "recycle") == 0)) {
		int64_t d = day_number(rove_fields_str(&h->fs, "at"));
		if (d > hc->last_release)
			hc->last_release = d;
	}
	return ROVE_OK;
}

/* *day: the last day u released customer id (from its history), or -1. */
static int released_on(const pctx *pc, const rove_user *u, const rove_uuid *id, int64_t *day)
{
	history_ctx hc = {u, -1};
	int rc = each_child_record(pc, id, ROVE_COLL_OWNERSHIP, history_release, &hc);

	*day = hc.last_release;
	return rc;
}

/* ---- who writes a customer ---- */

/* *out: whether u may write customer c: its owner, a manager above its
 * territory, an admin. */
static int may_write(const pctx *pc, const rove_user *u, const rove_record *c, bool *out)
{
	const char *owner = rove_fields_str(&c->fs, "owner");
	const char *terr = rove_fields_str(&c->fs, "territory");

	*out = u->role == ROVE_ROLE_ADMIN || (owner != NULL && strcmp(owner, u->name) == 0);
	if (*out || u->role != ROVE_ROLE_MANAGER || terr == NULL)
		return ROVE_OK;
	return rove_policy_in_reach(pc, u, terr, out);
}

static int refuse_write(const pctx *pc, const rove_user *u, const rove_record *c, rove_verdict *v)
{
	const char *owner = rove_fields_str(&c->fs, "owner");
	bool before;
	int rc = owned_before(pc, u, &c->id, &before);

	if (rc != ROVE_OK)
		return rc;
	/* A pool customer is written by managers and admins (rule 4); its
	 * reps may claim it. */
	if (before && owner == NULL)
		return refuse(v, ROVE_R_REASSIGNED, "the customer went back to the public pool: claim it first");
	if (before)
		return refuse(v, ROVE_R_REASSIGNED, "the customer was reassigned to %s", owner);
	if (owner == NULL)
		return refuse(v, ROVE_R_NOT_OWNER, "the customer is in the public pool: claim it first");
	return refuse(v, ROVE_R_NOT_OWNER, "the customer belongs to someone else");
}

/* Refuses unless u may write customer c. */
static int check_writer(const pctx *pc, const rove_user *u, const rove_record *c, rove_verdict *v)
{
	bool ok;
	int rc = may_write(pc, u, c, &ok);

	if (rc != ROVE_OK || ok)
		return rc;
	return refuse_write(pc, u, c, v);
}

/* ---- who owns a customer (rule 7) ---- */

/* Whether the user t holds territory terr: a rep as one of theirs, a
 * manager in their subtree; and, when author is a manager, through a
 * territory inside the author's subtree (so a manager hands customers
 * only to his people, never to a manager above him). */
typedef struct hold_ctx {
	const pctx *pc;
	const rove_user *t, *author;
	bool holds, inside;
} hold_ctx;

static int at_held(const char *code, void *arg, bool *stop)
{
	hold_ctx *h = arg;
	bool in = true;
	int rc = ROVE_OK;

	if (!user_has_territory(h->t, code))
		return ROVE_OK;
	h->holds = true;
	if (h->author->role == ROVE_ROLE_MANAGER)
		rc = rove_policy_in_reach(h->pc, h->author, code, &in);
	h->inside = h->inside || in;
	*stop = h->inside || h->t->role == ROVE_ROLE_REP; /* a rep holds terr itself or not at all */
	return rc;
}

/* Whether the user named login may own a customer of territory terr when
 * author gives it to them (rule 7): an existing rep or manager holding
 * terr, inside the author's subtree if the author is a manager. Users
 * cannot be disabled yet; when they can, a disabled one is refused here. */
static int check_owner(const pctx *pc, const rove_user *author, const char *login, const char *terr,
		       rove_verdict *v)
{
	rove_user *t;
	hold_ctx h;
	int rc;

	if (terr == NULL)
		return refuse(v, ROVE_R_INVALID, "a customer without a territory has no owner");
	t = malloc(sizeof(*t));
	if (t == NULL)
		return ROVE_ENOMEM;
	rc = rove_store_user_get(pc->st, pc->txn, login, t, NULL);
	if (rc == ROVE_ENOTFOUND) {
		rc = refuse(v, ROVE_R_INVALID, "no user '%s'", login);
	} else if (rc == ROVE_OK && !rove_rules_role_may_own(t->role)) {
		rc = refuse(v, ROVE_R_INVALID, "'%s' is an %s; customers go to reps and managers", login,
			    rove_role_name(t->role));
	} else if (rc == ROVE_OK) {
		h = (hold_ctx){pc, t, author, false, false};
		if (t->role == ROVE_ROLE_REP)
			rc = at_held(terr, &h, &(bool){false});
		else
			rc = walk_up(pc, terr, at_held, &h);
		if (rc == ROVE_OK && !h.holds)
			rc = refuse(v, ROVE_R_NOT_IN_TERRITORY, "%s does not work in %s", login, terr);
		else if (rc == ROVE_OK && !h.inside)
			rc = refuse(v, ROVE_R_NOT_IN_TERRITORY, "%s works outside your territories", login);
	}
	free(t);
	return rc;
}

/* *out: whether the user named login may own customers of territory
 * terr as things stand: a rep holding it, a manager whose subtree holds
 * it (no such user: no). */
static int owner_works_in(const pctx *pc, const char *login, const char *terr, bool *out)
{
	rove_user *t = malloc(sizeof(*t));
	int rc;

	*out = false;
	if (t == NULL)
		return ROVE_ENOMEM;
	rc = rove_store_user_get(pc->st, pc->txn, login, t, NULL);
	if (rc == ROVE_ENOTFOUND)
		rc = ROVE_OK;
	else if (rc == ROVE_OK && t->role == ROVE_ROLE_REP)
		*out = user_has_territory(t, terr);
	else if (rc == ROVE_OK && t->role == ROVE_ROLE_MANAGER)
		rc = rove_policy_in_reach(pc, t, terr, out);
	free(t);
	return rc;
}

/* ---- customers ---- */

/* A customer's dealer: a live dealer of its territory or above it. */
static int check_dealer_ref(const pctx *pc, const char *dealer, const char *terr, rove_verdict *v)
{
	rove_record *d;
	rove_uuid id;
	const char *dterr;
	bool ok = false;
	int rc;

	if (dealer == NULL)
		return ROVE_OK;
	if (rove_uuid_parse(dealer, &id) != ROVE_OK)
		return refuse(v, ROVE_R_INVALID, "invalid dealer '%.40s'", dealer);
	d = malloc(sizeof(*d));
	if (d == NULL)
		return ROVE_ENOMEM;
	rc = rove_store_record_get(pc->st, pc->txn, ROVE_COLL_DEALER, &id, d);
	if (rc == ROVE_OK && !rove_record_deleted(d) && terr != NULL &&
	    (dterr = rove_fields_str(&d->fs, "territory")) != NULL)
		rc = territory_under(pc, terr, dterr, &ok);
	else if (rc == ROVE_ENOTFOUND)
		rc = ROVE_OK;
	free(d);
	if (rc == ROVE_OK && !ok)
		rc = refuse(v, ROVE_R_INVALID, "%s is not a dealer of %s or above", dealer, str_or(terr, "its territory"));
	return rc;
}

/* The op's value of field if it sets it, else the record's. */
static const char *after_str(const rove_op *op, const rove_record *cur, const char *field)
{
	if (touches(op, field) || cur == NULL)
		return rove_fields_str(&op->fs, field);
	return rove_fields_str(&cur->fs, field);
}

static int check_pool_take(const pctx *pc, const rove_user *u, const char *terr, const rove_record *cur,
			   rove_verdict *v);

static int check_create(const pctx *pc, const rove_user *u, rove_op *op, rove_verdict *v)
{
	/* Copies: the op's strings may move as the op is adjusted below. */
	char terr[ROVE_MAX_NAME + 1], owner[ROVE_MAX_NAME + 1];
	const char *t = rove_fields_str(&op->fs, "territory");
	const char *named = rove_fields_str(&op->fs, "owner");
	bool ok;
	int rc;

	if (u->role == ROVE_ROLE_REP && t == NULL && u->nterr == 1)
		t = u->terr[0]; /* a rep with one territory creates in it */
	if (t == NULL)
		return refuse(v, u->role == ROVE_ROLE_ADMIN ? ROVE_R_INVALID : ROVE_R_NOT_IN_TERRITORY,
			      "a customer needs a territory");
	if (strlen(t) > ROVE_MAX_NAME || (named != NULL && strlen(named) > ROVE_MAX_NAME))
		return refuse(v, ROVE_R_INVALID, "a territory or owner name is too long"); /* schema's limits */
	snprintf(terr, sizeof(terr), "%s", t);
	if (named != NULL)
		named = strcpy(owner, named);
	rc = op_put(op, "territory", rove_vcstr(terr), v);
	if (rc != ROVE_OK || REFUSED(v))
		return rc;
	/* The author's territories first: whether a code someone else works
	 * in exists is none of a rep's business (rule 9). */
	if (u->role == ROVE_ROLE_REP && !user_has_territory(u, terr))
		return refuse(v, ROVE_R_NOT_IN_TERRITORY, "%s is not one of your territories", terr);
	if (u->role == ROVE_ROLE_MANAGER) {
		rc = rove_policy_in_reach(pc, u, terr, &ok); /* a code that is no territory is in none */
		if (rc != ROVE_OK)
			return rc;
		if (!ok)
			return refuse(v, ROVE_R_NOT_IN_TERRITORY, "%s is outside your territories", terr);
	}
	rc = territory_exists(pc, terr, &ok);
	if (rc != ROVE_OK)
		return rc;
	if (!ok)
		return refuse(v, ROVE_R_INVALID, "no territory '%s'", terr);
	/* The server sets the owner (rule 2, rule 7): a rep owns what they
	 * create, whatever the op says; a manager or admin may name an owner
	 * who may own it there, or the pool (owner null); by default the
	 * author owns it if they can (a manager), else it goes to the pool. */
	if (u->role == ROVE_ROLE_REP) {
		named = u->name;
	} else if (named != NULL) {
		rc = check_owner(pc, u, named, terr, v);
		if (rc != ROVE_OK || REFUSED(v))
			return rc;
	} else if (!touches(op, "owner") && rove_rules_role_may_own(u->role)) {
		named = u->name;
	}
	rc = op_put(op, "owner", named != NULL ? rove_vcstr(named) : rove_vnull(), v);
	if (rc == ROVE_OK && !REFUSED(v)) {
		char now[ROVE_TIME_SIZE];
		iso_now(pc, now, false);
		rc = op_put(op, "created_at", rove_vcstr(now), v);
	}
	if (rc == ROVE_OK && !REFUSED(v))
		rc = check_dealer_ref(pc, rove_fields_str(&op->fs, "dealer"), terr, v);
	if (rc == ROVE_OK && !REFUSED(v))
		rc = find_duplicate(pc, op, v);
	if (rc == ROVE_OK && !REFUSED(v) && named != NULL && strcmp(named, u->name) == 0)
		rc = check_pool_take(pc, u, terr, NULL, v);
	return rc;
}

static int check_claim_release(const pctx *pc, const rove_user *u, rove_op *op, const rove_record *cur,
			       rove_verdict *v)
{
	const char *owner = rove_fields_str(&cur->fs, "owner");
	const char *terr = rove_fields_str(&cur->fs, "territory");
	char reason[ROVE_MAX_DETAIL + 1] = "";
	const char *given = rove_fields_str(&op->fs, "release_reason");
	pool_rules rules;
	bool ok;
	int rc;

	/* The op carries what the server writes, nothing else. */
	if (given != NULL)
		snprintf(reason, sizeof(reason), "%s", given);
	rove_fields_init(&op->fs);
	if (op->kind == ROVE_OP_CLAIM) {
		if (owner != NULL)
			return refuse(v, ROVE_R_ALREADY_CLAIMED, "already owned by %s", owner);
		if (terr == NULL)
			ok = false;
		else if (u->role == ROVE_ROLE_REP)
			ok = user_has_territory(u, terr);
		else if ((rc = rove_policy_in_reach(pc, u, terr, &ok)) != ROVE_OK)
			return rc;
		if (!ok)
			return refuse(v, ROVE_R_NOT_IN_TERRITORY, "%s is not one of your territories", str_or(terr, "(none)"));
		rc = check_pool_take(pc, u, terr, cur, v);
		if (rc != ROVE_OK || REFUSED(v))
			return rc;
		return op_put(op, "owner", rove_vcstr(u->name), v);
	}
	if (owner == NULL)
		return refuse(v, ROVE_R_INVALID, "the customer is already in the pool");
	rc = check_writer(pc, u, cur, v);
	if (rc == ROVE_OK && !REFUSED(v))
		rc = pool_rules_get(pc, terr, &rules);
	if (rc != ROVE_OK || REFUSED(v))
		return rc;
	if (reason[0] == '\0' && rules.reason != 0)
		return refuse(v, ROVE_R_INVALID, "a reason is required to release a customer in %s", terr);
	rc = op_put(op, "owner", rove_vnull(), v);
	if (rc == ROVE_OK && !REFUSED(v))
		rc = op_put(op, "release_reason", reason[0] ? rove_vcstr(reason) : rove_vnull(), v);
	return rc;
}

static int check_customer_update(const pctx *pc, const rove_user *u, const rove_op *op, const rove_record *cur,
				 rove_verdict *v)
{
	const char *t = rove_fields_str(&op->fs, "territory"), *owner;
	bool ok;
	int rc = check_writer(pc, u, cur, v);

	if (rc != ROVE_OK || REFUSED(v))
		return rc;
	if (touches(op, "territory")) {
		if (t == NULL)
			return refuse(v, ROVE_R_INVALID, "a customer needs a territory");
		if (u->role == ROVE_ROLE_MANAGER) {
			rc = rove_policy_in_reach(pc, u, t, &ok);
			if (rc != ROVE_OK)
				return rc;
			if (!ok)
				return refuse(v, ROVE_R_NOT_IN_TERRITORY, "%s is outside your territories", t);
		}
		rc = territory_exists(pc, t, &ok);
		if (rc != ROVE_OK)
			return rc;
		if (!ok)
			return refuse(v, ROVE_R_INVALID, "no territory '%s'", t);
		/* The owner must work where the customer is (rule 7): an owned
		 * customer moves with a reassignment first, a pool customer
		 * freely. */
		owner = rove_fields_str(&cur->fs, "owner");
		if (owner != NULL) {
			rc = owner_works_in(pc, owner, t, &ok);
			if (rc != ROVE_OK)
				return rc;
			if (!ok)
				return refuse(v, ROVE_R_NOT_IN_TERRITORY, "%s does not work in %s: reassign the customer first",
					      owner, t);
		}
	}
	if (touches(op, "territory") || touches(op, "dealer")) {
		rc = check_dealer_ref(pc, after_str(op, cur, "dealer"), after_str(op, cur, "territory"), v);
		if (rc != ROVE_OK || REFUSED(v))
			return rc;
	}
	return find_duplicate(pc, op, v);
}

/* ---- pool policies (公海规则) ---- */

/* The counter of u's claims on the server's today. */
static void claims_key(const pctx *pc, char *out, size_t len, const char *user)
{
	char day[ROVE_TIME_SIZE];

	iso_now(pc, day, true);
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

/* The pool rules of the customer's territory for a claim (or a create). */
static int check_pool_take(const pctx *pc, const rove_user *u, const char *terr, const rove_record *cur,
			   rove_verdict *v)
{
	char key[ROVE_MAX_NAME + 48];
	pool_rules rules;
	uint64_t n;
	int rc;

	if (u->role != ROVE_ROLE_REP)
		return ROVE_OK;
	rc = pool_rules_get(pc, terr, &rules);
	if (rc == ROVE_OK && rules.limit > 0)
		rc = held_in(pc, u, terr, &n);
	if (rc != ROVE_OK)
		return rc;
	if (rules.limit > 0 && n >= (uint64_t)rules.limit)
		return refuse(v, ROVE_R_LIMIT, "you hold %lld customers in %s, the most allowed", (long long)rules.limit,
			      terr);
	if (cur == NULL)
		return ROVE_OK; /* the rest is about claims */
	if (rules.claims > 0) {
		claims_key(pc, key, sizeof(key), u->name);
		rc = rove_store_counter_get(pc->st, pc->txn, key, &n);
		if (rc != ROVE_OK)
			return rc;
		if (n >= (uint64_t)rules.claims)
			return refuse(v, ROVE_R_LIMIT, "at most %lld claims a day in %s", (long long)rules.claims, terr);
	}
	if (rules.cooldown > 0) {
		int64_t last;
		rc = released_on(pc, u, &cur->id, &last);
		if (rc != ROVE_OK)
			return rc;
		if (last >= 0 && today_number(pc) - last < rules.cooldown)
			return refuse(v, ROVE_R_COOLDOWN, "you released it less than %lld days ago",
				      (long long)rules.cooldown);
	}
	return ROVE_OK;
}

/* ---- child records, dealers, targets ---- */

/* closed_on follows the stage: the server's date when a deal becomes won
 * or lost (kept while it stays so), cleared when it is reopened. */
static int set_closed_on(const pctx *pc, rove_op *op, const rove_record *cur, rove_verdict *v)
{
	const char *stage = rove_fields_str(&op->fs, "stage");
	const char *was = cur != NULL ? rove_fields_str(&cur->fs, "stage") : NULL;
	const char *kept = cur != NULL ? rove_fields_str(&cur->fs, "closed_on") : NULL;
	bool closed = stage != NULL && (strcmp(stage, "won") == 0 || strcmp(stage, "lost") == 0);
	char today[ROVE_TIME_SIZE];

	if (!touches(op, "stage"))
		return ROVE_OK;
	if (!closed)
		return op_put(op, "closed_on", rove_vnull(), v);
	if (was != NULL && strcmp(was, stage) == 0 && kept != NULL)
		return op_put(op, "closed_on", rove_vcstr(kept), v);
	iso_now(pc, today, true);
	return op_put(op, "closed_on", rove_vcstr(today), v);
}

static int check_child(const pctx *pc, const rove_user *u, rove_op *op, const rove_coll_def *c,
		       const rove_record *cur, rove_verdict *v)
{
	const rove_field_def *pf = rove_schema_parent_field(c);
	const char *pid = rove_fields_str(cur != NULL ? &cur->fs : &op->fs, pf->name);
	rove_record *parent;
	rove_uuid id;
	int rc;

	if (pid == NULL || rove_uuid_parse(pid, &id) != ROVE_OK)
		return refuse(v, ROVE_R_INVALID, "no customer given");
	parent = malloc(sizeof(*parent));
	if (parent == NULL)
		return ROVE_ENOMEM;
	rc = rove_store_record_get(pc->st, pc->txn, ROVE_COLL_CUSTOMER, &id, parent);
	if (rc == ROVE_ENOTFOUND)
		rc = refuse(v, ROVE_R_INVALID, "no customer %s", pid);
	else if (rc == ROVE_OK && rove_record_deleted(parent))
		rc = refuse(v, ROVE_R_DELETED, "the customer was deleted");
	else if (rc == ROVE_OK)
		rc = check_writer(pc, u, parent, v);
	free(parent);
	if (rc != ROVE_OK || REFUSED(v))
		return rc;
	if (c->id == ROVE_COLL_ACTIVITY && op->kind == ROVE_OP_CREATE) {
		const char *at = rove_fields_str(&op->fs, "at");
		char now[ROVE_TIME_SIZE];
		if (at != NULL) {
			/* Stored in one form already (rove_schema_clean_op). */
			v->reason = rove_rules_check_at(at, pc->now_ms, v->detail, sizeof(v->detail));
			if (REFUSED(v))
				return ROVE_OK;
		} else {
			iso_now(pc, now, false); /* every activity has a time: by default, its arrival */
			rc = op_put(op, "at", rove_vcstr(now), v);
			if (rc != ROVE_OK || REFUSED(v))
				return rc;
		}
		return op_put(op, "author", rove_vcstr(u->name), v); /* the server names the author */
	}
	if (c->id == ROVE_COLL_OPPORTUNITY)
		return set_closed_on(pc, op, cur, v);
	return ROVE_OK;
}

/* Dealers: reference data a manager (in reach) or admin maintains. */
static int check_dealer(const pctx *pc, const rove_user *u, const rove_op *op, const rove_record *cur,
			rove_verdict *v)
{
	const char *terr = rove_fields_str(&op->fs, "territory");
	const char *was = cur ? rove_fields_str(&cur->fs, "territory") : NULL;
	bool ok = true, was_ok = true;
	int rc = ROVE_OK;

	if (terr != NULL) {
		rc = territory_exists(pc, terr, &ok);
		if (rc != ROVE_OK)
			return rc;
		if (!ok)
			return refuse(v, ROVE_R_INVALID, "no territory '%s'", terr);
	}
	if (u->role != ROVE_ROLE_MANAGER)
		return ROVE_OK;
	if (terr != NULL)
		rc = rove_policy_in_reach(pc, u, terr, &ok);
	if (rc == ROVE_OK && was != NULL)
		rc = rove_policy_in_reach(pc, u, was, &was_ok);
	if (rc == ROVE_OK && (!ok || !was_ok))
		rc = refuse(v, ROVE_R_NOT_IN_TERRITORY, "outside your territories");
	return rc;
}

/* Targets: set by managers for users in their reach, and by admins. */
static int check_target(const pctx *pc, const rove_user *u, rove_op *op, const rove_record *cur,
			rove_verdict *v)
{
	const char *login = rove_fields_str(cur != NULL ? &cur->fs : &op->fs, "user");
	const char *terr = NULL;
	rove_user *t;
	int rc;

	if (cur != NULL && touches(op, "user") && (rove_fields_str(&op->fs, "user") == NULL || login == NULL ||
						    strcmp(rove_fields_str(&op->fs, "user"), login) != 0))
		return refuse(v, ROVE_R_FORBIDDEN, "a target cannot move to another user");
	if (login == NULL)
		return refuse(v, ROVE_R_INVALID, "a target needs a user");
	t = malloc(sizeof(*t));
	if (t == NULL)
		return ROVE_ENOMEM;
	rc = rove_store_user_get(pc->st, pc->txn, login, t, NULL);
	if (rc == ROVE_ENOTFOUND)
		rc = refuse(v, ROVE_R_INVALID, "no user '%s'", login);
	for (uint32_t i = 0; rc == ROVE_OK && !REFUSED(v) && i < t->nterr && terr == NULL; i++) {
		bool in = u->role == ROVE_ROLE_ADMIN;
		if (!in)
			rc = rove_policy_in_reach(pc, u, t->terr[i], &in);
		if (in)
			terr = t->terr[i];
	}
	if (rc == ROVE_OK && !REFUSED(v)) {
		if (terr == NULL && u->role == ROVE_ROLE_MANAGER)
			rc = refuse(v, ROVE_R_NOT_IN_TERRITORY, "%s works outside your territories", login);
		else if (terr != NULL)
			rc = op_put(op, "territory", rove_vcstr(terr), v);
	}
	free(t);
	return rc;
}

/* ---- the decision ---- */

/* What u may know of the record a refusal is about (rule 9). */
enum known {
	KNOWN_SCOPE, /* u's replica holds it, or did until it was deleted: the reason and its detail */
	KNOWN_PAST,  /* u owned it once, or it was in the public pool of u's territory: the reason alone */
	KNOWN_NOT,   /* anything else, and what does not exist: not_owner alone */
};

typedef struct known_ctx {
	const rove_user *u;
	bool pool_is_theirs; /* the customer's territory is one of u's (a rep's) */
} known_ctx;

static int history_knows(const rove_record *h, void *arg)
{
	const known_ctx *k = arg;
	const char *from = rove_fields_str(&h->fs, "from"), *to = rove_fields_str(&h->fs, "to");

	if ((from != NULL && strcmp(from, k->u->name) == 0) || (to != NULL && strcmp(to, k->u->name) == 0))
		return ROVE_EEXIST; /* u owned it */
	if (to == NULL && k->pool_is_theirs)
		return ROVE_EEXIST; /* released, recycled or created into u's pool: u's replica held it */
	return ROVE_OK;
}

/* *known: what u may know of the record a refusal of op is about: a
 * child record's customer, else the record itself; a create of a
 * top-level record that does not exist is about nothing but what its op
 * says, which u wrote. */
static int what_u_knows(const pctx *pc, const rove_user *u, const rove_op *op, const rove_record *cur,
			enum known *known)
{
	const rove_coll_def *c = rove_schema_coll(op->coll);
	const rove_field_def *pf = c != NULL ? rove_schema_parent_field(c) : NULL;
	const rove_record *about = cur;
	rove_record *parent = NULL;
	const char *pid, *terr;
	rove_scopes rs;
	rove_uuid id;
	known_ctx kc = {u, false};
	bool sees = false;
	int rc = ROVE_OK;

	*known = KNOWN_NOT;
	if (pf == NULL && cur == NULL) {
		if (op->kind == ROVE_OP_CREATE)
			*known = KNOWN_SCOPE;
		return ROVE_OK;
	}
	if (pf != NULL) {
		pid = rove_fields_str(cur != NULL ? &cur->fs : &op->fs, pf->name);
		if (pid == NULL || rove_uuid_parse(pid, &id) != ROVE_OK)
			return ROVE_OK;
		parent = malloc(sizeof(*parent));
		if (parent == NULL)
			return ROVE_ENOMEM;
		rc = rove_store_record_get(pc->st, pc->txn, ROVE_COLL_CUSTOMER, &id, parent);
		if (rc == ROVE_ENOTFOUND) {
			free(parent);
			return ROVE_OK;
		}
		about = parent;
	}
	if (rc == ROVE_OK)
		rc = record_scopes(pc, about, NULL, true, &rs);
	if (rc == ROVE_OK)
		rc = rove_policy_reads(pc, u, &rs, &sees);
	if (rc == ROVE_OK && sees) {
		*known = KNOWN_SCOPE;
	} else if (rc == ROVE_OK && about->coll == ROVE_COLL_CUSTOMER) {
		terr = rove_fields_str(&about->fs, "territory");
		kc.pool_is_theirs = u->role == ROVE_ROLE_REP && terr != NULL && user_has_territory(u, terr);
		rc = each_child_record(pc, &about->id, ROVE_COLL_OWNERSHIP, history_knows, &kc);
		if (rc == ROVE_EEXIST) {
			*known = KNOWN_PAST;
			rc = ROVE_OK;
		}
	}
	free(parent);
	return rc;
}

/* A refusal says no more than u may know (rule 9): about a record u's
 * replica holds (or held until it was deleted), its reason and detail;
 * about one u owned once, or saw in the pool of their territory, its
 * reason alone; about any other record - another rep's, another
 * region's, a deleted one u never held, one that does not exist - the
 * one answer not_owner, with nothing else, so that no reason tells
 * whether an id exists, who holds it or what became of it. A duplicate
 * names the existing customer whoever asks (rule 3); a refusal by the
 * rules of the role and the op alone (rules.c) is the same for every
 * record and keeps its reason. */
static int say_only_what_u_knows(const pctx *pc, const rove_user *u, const rove_op *op, const rove_record *cur,
				 bool by_role, rove_verdict *v)
{
	enum known known;
	int rc;

	if (!REFUSED(v) || v->reason == ROVE_R_DUPLICATE)
		return ROVE_OK;
	rc = what_u_knows(pc, u, op, cur, &known);
	if (rc != ROVE_OK)
		return rc;
	if (known == KNOWN_NOT && !by_role)
		v->reason = ROVE_R_NOT_OWNER;
	if (known != KNOWN_SCOPE)
		v->detail[0] = '\0';
	return ROVE_OK;
}

static int decide(const pctx *pc, const rove_user *u, rove_op *op, const rove_record *cur, rove_verdict *v)
{
	const rove_coll_def *c = rove_schema_coll(op->coll);

	if (c == NULL)
		return refuse(v, ROVE_R_INVALID, "unknown collection"); /* rules refuse it first */
	if (op->kind == ROVE_OP_CREATE && cur != NULL && op->coll == ROVE_COLL_TARGET && !rove_record_deleted(cur))
		op->kind = ROVE_OP_UPDATE; /* one target per user and month: set again */
	if (op->kind == ROVE_OP_CREATE && cur != NULL)
		return refuse(v, ROVE_R_INVALID, "record already exists");
	if (op->kind != ROVE_OP_CREATE && cur == NULL)
		return refuse(v, ROVE_R_INVALID, "no such record");
	if (cur != NULL && rove_record_deleted(cur))
		return refuse(v, ROVE_R_DELETED, "the record was deleted");
	if (op->coll == ROVE_COLL_DEALER)
		return check_dealer(pc, u, op, cur, v);
	if (op->coll == ROVE_COLL_TARGET)
		return check_target(pc, u, op, cur, v);
	if (rove_schema_parent_field(c) != NULL)
		return check_child(pc, u, op, c, cur, v);
	if (op->coll != ROVE_COLL_CUSTOMER)
		return refuse(v, ROVE_R_FORBIDDEN, "only the server writes %s records", c->name);
	switch (op->kind) {
	case ROVE_OP_CREATE:
		return check_create(pc, u, op, v);
	case ROVE_OP_CLAIM:
	case ROVE_OP_RELEASE:
		return check_claim_release(pc, u, op, cur, v);
	case ROVE_OP_DELETE:
		return check_writer(pc, u, cur, v);
	default:
		return check_customer_update(pc, u, op, cur, v);
	}
}

int rove_policy_check(const pctx *pc, const rove_user *u, rove_op *op, const rove_record *cur, rove_verdict *v)
{
	bool by_role;
	int rc;

	verdict_clear(v);
	/* The rules of the role and the op first, then those of the data. */
	v->reason = rove_rules_check_op(u->role, op, v->detail, sizeof(v->detail));
	by_role = REFUSED(v);
	rc = by_role ? ROVE_OK : decide(pc, u, op, cur, v);
	if (rc == ROVE_OK)
		rc = say_only_what_u_knows(pc, u, op, cur, by_role, v);
	/* Who owns a customer is decided here, in the order ops arrive: a
	 * claim's or release's owner must not lose to an older value by the
	 * client's clock (rule 5: first to reach the server wins). */
	if (rc == ROVE_OK && !REFUSED(v) && (op->kind == ROVE_OP_CLAIM || op->kind == ROVE_OP_RELEASE))
		v->server_stamp = true;
	return rc;
}

/* ---- after an op ---- */

static const char *owner_event(const rove_user *u, const rove_op *op, const rove_record *before)
{
	if (before == NULL)
		return "create";
	switch (op->kind) {
	case ROVE_OP_CLAIM: return "claim";
	case ROVE_OP_RELEASE: return strcmp(u->name, ROVE_SYSTEM_USER) == 0 ? "recycle" : "release";
	default: return "reassign";
	}
}

/* An activity moves its customer's last_activity_at forward. */
static int after_activity(const pctx *pc, const rove_op *op, rove_op *follow, bool *has_follow)
{
	const char *cid = rove_fields_str(&op->fs, "customer");
	const char *at = rove_fields_str(&op->fs, "at");
	const char *last;
	rove_record *c;
	rove_uuid id;
	int rc;

	if (cid == NULL || at == NULL || rove_uuid_parse(cid, &id) != ROVE_OK)
		return ROVE_OK;
	c = malloc(sizeof(*c));
	if (c == NULL)
		return ROVE_ENOMEM;
	rc = rove_store_record_get(pc->st, pc->txn, ROVE_COLL_CUSTOMER, &id, c);
	last = rc == ROVE_OK ? rove_fields_str(&c->fs, "last_activity_at") : NULL;
	if (rc == ROVE_OK && (last == NULL || strcmp(last, at) < 0)) {
		rove_uuid fid;
		rove_uuid_derive(&fid, &op->op_id, "last-activity-op");
		/* stamped by the engine with the server's clock */
		rove_op_init_id(follow, &fid, ROVE_OP_UPDATE, ROVE_COLL_CUSTOMER, &id, op->st);
		rc = rove_op_set(follow, "last_activity_at", rove_vcstr(at));
		*has_follow = rc == ROVE_OK;
	} else if (rc == ROVE_ENOTFOUND) {
		rc = ROVE_OK;
	}
	free(c);
	return rc;
}

int rove_policy_after(const pctx *pc, const rove_user *u, const rove_op *op, const rove_record *before,
		      const rove_record *after, rove_op *follow, bool *has_follow)
{
	const char *was, *now, *why;
	char ids[ROVE_UUID_STRLEN + 1], when[ROVE_TIME_SIZE];
	rove_uuid hid, fid;
	int rc;

	*has_follow = false;
	if (after->coll == ROVE_COLL_ACTIVITY && before == NULL)
		return after_activity(pc, op, follow, has_follow);
	if (after->coll != ROVE_COLL_CUSTOMER)
		return ROVE_OK;
	rc = rove_pstore_uniq_update(pc->ps, pc->txn, before, after);
	if (rc != ROVE_OK)
		return rc;
	if (op->kind == ROVE_OP_CLAIM && u->role == ROVE_ROLE_REP) {
		char key[ROVE_MAX_NAME + 48];
		uint64_t n;
		claims_key(pc, key, sizeof(key), u->name);
		rc = rove_store_counter_get(pc->st, pc->txn, key, &n);
		if (rc == ROVE_OK)
			rc = rove_store_counter_put(pc->st, pc->txn, key, n + 1);
		if (rc != ROVE_OK)
			return rc;
	}
	was = before ? rove_fields_str(&before->fs, "owner") : NULL;
	now = rove_fields_str(&after->fs, "owner");
	if (before != NULL && ((was == NULL && now == NULL) || (was && now && strcmp(was, now) == 0)))
		return ROVE_OK;
	/* The owner changed: keep it in the customer's ownership history, who
	 * by, when (the server's time) and why. Its ids derive from the op's:
	 * a retry makes the same entry. */
	rove_uuid_derive(&hid, &op->op_id, "ownership");
	rove_uuid_derive(&fid, &op->op_id, "ownership-op");
	rove_op_init_id(follow, &fid, ROVE_OP_CREATE, ROVE_COLL_OWNERSHIP, &hid, op->st);
	rove_uuid_format(&after->id, ids);
	iso_now(pc, when, false);
	why = op->kind == ROVE_OP_RELEASE ? rove_fields_str(&op->fs, "release_reason") : NULL;
	rc = rove_op_set(follow, "customer", rove_vcstr(ids));
	if (rc == ROVE_OK)
		rc = rove_op_set(follow, "event", rove_vcstr(owner_event(u, op, before)));
	if (rc == ROVE_OK && was != NULL)
		rc = rove_op_set(follow, "from", rove_vcstr(was));
	if (rc == ROVE_OK && now != NULL)
		rc = rove_op_set(follow, "to", rove_vcstr(now));
	if (rc == ROVE_OK)
		rc = rove_op_set(follow, "by", rove_vcstr(u->name));
	if (rc == ROVE_OK && why != NULL)
		rc = rove_op_set(follow, "reason", rove_vcstr(why));
	if (rc == ROVE_OK)
		rc = rove_op_set(follow, "at", rove_vcstr(when));
	if (rc == ROVE_OK)
		*has_follow = true;
	return rc;
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
	rc = each_child_record(pc, &c->id, ROVE_COLL_OPPORTUNITY, opportunity_won, NULL);
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
	iso_now(pc, when, false);
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

/* Recycling of one customer: a release by the server and a notice, or a
 * warning notice ahead of it. Adds at most two ops. */
static int recycle_one(const pctx *pc, const rove_record *c, int64_t days, int64_t warn, rove_op *ops, size_t max,
		       size_t *n)
{
	const char *owner = rove_fields_str(&c->fs, "owner");
	const char *name = rove_fields_str(&c->fs, "name");
	const char *last = rove_fields_str(&c->fs, "last_activity_at");
	char text[ROVE_MAX_DETAIL + 1], nname[160], ids[ROVE_UUID_STRLEN + 1];
	rove_stamp unstamped = {{0}, 0};
	int64_t idle;
	bool made, won;
	int rc;

	if (owner == NULL || rove_record_deleted(c) || *n + 2 > max)
		return ROVE_OK;
	if (last == NULL)
		last = rove_fields_str(&c->fs, "created_at");
	if (last == NULL || day_number(last) < 0)
		return ROVE_OK;
	rc = customer_won(pc, c, &won);
	if (rc != ROVE_OK || won)
		return rc;
	idle = today_number(pc) - day_number(last);
	rove_uuid_format(&c->id, ids);
	if (idle >= days) {
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
		snprintf(nname, sizeof(nname), "notice:recycled:%s:%s:%s", owner, ids, last);
		rc = notice_op(pc, &ops[*n], owner, c, "recycled", text, nname, &made);
		if (made)
			(*n)++;
		return rc;
	}
	if (warn > 0 && idle >= days - warn) {
		snprintf(text, sizeof(text), "%s returns to the public pool in %lld day(s) without a follow-up",
			 str_or(name, "a customer"), (long long)(days - idle));
		snprintf(nname, sizeof(nname), "notice:warn:%s:%s:%s", owner, ids, last);
		rc = notice_op(pc, &ops[*n], owner, c, "recycle_warning", text, nname, &made);
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
	int rc = pool_rules_get(r->pc, code, &rules);

	if (rc != ROVE_OK || rules.recycle <= 0)
		return rc;
	r->days = rules.recycle;
	r->warn = rules.warn;
	return each_customer_in(r->pc, 't', code, recycle_each, r);
}

int rove_policy_periodic(const pctx *pc, rove_op *ops, size_t max, size_t *n)
{
	recycle_ctx r = {pc, 0, 0, ops, max, n};
	int rc;

	*n = 0;
	rc = rove_pstore_each_code(pc->ps, pc->txn, recycle_territory, &r);
	return rc == ROVE_EEXIST ? ROVE_OK : rc;
}

/* ---- administration ---- */

int rove_policy_may(const rove_user *u, int act, rove_verdict *v)
{
	v->reason = rove_rules_may(u->role, act, v->detail, sizeof(v->detail));
	return ROVE_OK;
}

int rove_policy_reassign(const pctx *pc, const rove_user *u, const rove_record *c, const char *to,
			 rove_verdict *v)
{
	const char *terr;
	bool in = true;
	int rc = rove_policy_may(u, ROVE_ACT_REASSIGN, v);

	if (rc != ROVE_OK || REFUSED(v))
		return rc;
	if (c == NULL || rove_record_deleted(c))
		return refuse(v, ROVE_R_INVALID, "no such customer%s",
			      u->role == ROVE_ROLE_ADMIN ? "" : " in your territories");
	terr = rove_fields_str(&c->fs, "territory");
	if (u->role == ROVE_ROLE_MANAGER) {
		in = false;
		if (terr != NULL && (rc = rove_policy_in_reach(pc, u, terr, &in)) != ROVE_OK)
			return rc;
	}
	if (!in) /* the same answer as for no customer at all */
		return refuse(v, ROVE_R_INVALID, "no such customer in your territories");
	return check_owner(pc, u, to, terr, v);
}

/* A count the op sets, else the record's (0: not set). */
static int64_t after_int(const rove_op *op, const rove_record *cur, const char *field)
{
	int64_t n = 0;

	if (touches(op, field))
		rove_fields_int(&op->fs, field, &n);
	else if (cur != NULL)
		rove_fields_int(&cur->fs, field, &n);
	return n;
}

int rove_policy_territory_rules(const rove_record *cur, const rove_op *op, rove_verdict *v)
{
	int64_t recycle = after_int(op, cur, "recycle_days"), warn = after_int(op, cur, "warn_days");

	verdict_clear(v);
	if (recycle > 0 && warn > 0 && warn >= recycle)
		return refuse(v, ROVE_R_INVALID,
			      "warn_days (%lld) must be less than recycle_days (%lld): the warning comes before the recycling",
			      (long long)warn, (long long)recycle);
	return ROVE_OK;
}

static int bump_manager(const char *login, int role, void *arg)
{
	const pctx *pc = arg;
	uint8_t hash[ROVE_HASH_BYTES];
	rove_user u;
	int rc;

	if (role != ROVE_ROLE_MANAGER)
		return ROVE_OK;
	rc = rove_store_user_get(pc->st, pc->txn, login, &u, hash);
	if (rc != ROVE_OK)
		return rc;
	u.epoch++;
	return rove_store_user_put(pc->st, pc->txn, &u, hash);
}

int rove_policy_territory_added(const pctx *pc, const char *code, const char *parent)
{
	(void)code;
	/* A top-level territory is in no manager's reach until assigned. */
	return parent != NULL ? rove_store_each_user(pc->st, pc->txn, bump_manager, (void *)pc) : ROVE_OK;
}

/* *out: whether one of t's territories lies in u's subtree. */
static int user_inside(const pctx *pc, const rove_user *u, const rove_user *t, bool *out)
{
	int rc = ROVE_OK;

	*out = false;
	for (uint32_t i = 0; rc == ROVE_OK && !*out && i < t->nterr; i++)
		rc = rove_policy_in_reach(pc, u, t->terr[i], out);
	return rc;
}

int rove_policy_reassign_territory(const pctx *pc, const rove_user *u, const char *code, const rove_user *from,
				   const char *to, rove_verdict *v)
{
	rove_user *t;
	bool ok;
	int rc = rove_policy_may(u, ROVE_ACT_REASSIGN, v);

	if (rc != ROVE_OK || REFUSED(v))
		return rc;
	rc = territory_exists(pc, code, &ok);
	if (rc != ROVE_OK)
		return rc;
	if (!ok)
		return refuse(v, ROVE_R_INVALID, "no territory '%s'", code);
	if (u->role == ROVE_ROLE_MANAGER) {
		rc = rove_policy_in_reach(pc, u, code, &ok);
		if (rc != ROVE_OK)
			return rc;
		if (!ok)
			return refuse(v, ROVE_R_NOT_IN_TERRITORY, "territory '%s' is outside your territories", code);
	}
	if (!user_has_territory(from, code)) /* nothing to hand over: to must work there already */
		return check_owner(pc, u, to, code, v);
	/* from's assignment moves to `to`, who will then hold code: enough for
	 * an admin; a manager hands it only to one of his people. */
	t = malloc(sizeof(*t));
	if (t == NULL)
		return ROVE_ENOMEM;
	rc = rove_store_user_get(pc->st, pc->txn, to, t, NULL);
	if (rc == ROVE_ENOTFOUND)
		rc = refuse(v, ROVE_R_INVALID, "no user '%s'", to);
	else if (rc == ROVE_OK && !rove_rules_role_may_own(t->role))
		rc = refuse(v, ROVE_R_INVALID, "'%s' is an %s; customers go to reps and managers", to,
			    rove_role_name(t->role));
	else if (rc == ROVE_OK && u->role == ROVE_ROLE_MANAGER) {
		rc = user_inside(pc, u, t, &ok);
		if (rc == ROVE_OK && !ok)
			rc = refuse(v, ROVE_R_NOT_IN_TERRITORY, "%s works outside your territories", to);
	}
	free(t);
	return rc;
}

/* ---- refused changes ---- */

static void reject_scope_add(rove_reject_scopes *out, const char *code)
{
	char s[ROVE_MAX_SCOPE_LEN + 1];

	if (code == NULL || code[0] == '\0' || strlen(code) > ROVE_MAX_NAME)
		return;
	snprintf(s, sizeof(s), "t:%s", code);
	for (uint32_t i = 0; i < out->n; i++)
		if (strcmp(out->s[i], s) == 0)
			return;
	if (out->n < ROVE_MAX_REJECT_SCOPES)
		memcpy(out->s[out->n++], s, sizeof(s));
}

int rove_policy_refusal_scopes(const pctx *pc, const rove_user *u, const rove_op *op, const rove_record *cur,
			       rove_reject_scopes *out)
{
	const rove_coll_def *c = rove_schema_coll(op->coll);
	const rove_field_def *pf = c != NULL ? rove_schema_parent_field(c) : NULL;
	int rc = ROVE_OK;

	out->n = 0;
	/* The territory the op names, and the record's now. */
	reject_scope_add(out, rove_fields_str(&op->fs, op->coll == ROVE_COLL_TERRITORY ? "code" : "territory"));
	if (cur != NULL)
		reject_scope_add(out,
				 rove_fields_str(&cur->fs, cur->coll == ROVE_COLL_TERRITORY ? "code" : "territory"));
	/* A child record's: its customer's. */
	if (pf != NULL) {
		const char *pid = rove_fields_str(cur != NULL ? &cur->fs : &op->fs, pf->name);
		rove_uuid id;
		if (pid != NULL && rove_uuid_parse(pid, &id) == ROVE_OK) {
			rove_record *parent = malloc(sizeof(*parent));
			if (parent == NULL)
				return ROVE_ENOMEM;
			rc = rove_store_record_get(pc->st, pc->txn, ROVE_COLL_CUSTOMER, &id, parent);
			if (rc == ROVE_OK)
				reject_scope_add(out, rove_fields_str(&parent->fs, "territory"));
			else if (rc == ROVE_ENOTFOUND)
				rc = ROVE_OK;
			free(parent);
		}
	}
	/* The author's: their managers see it wherever they tried to write. */
	for (uint32_t i = 0; i < u->nterr; i++)
		reject_scope_add(out, u->terr[i]);
	return rc;
}

int rove_policy_conflict_scopes(const pctx *pc, const rove_user *u, rove_user_scopes *out)
{
	uint32_t k = 0;
	int rc;

	out->all = u->role == ROVE_ROLE_ADMIN;
	out->n = 0;
	if (out->all || u->role != ROVE_ROLE_MANAGER)
		return ROVE_OK;
	/* A manager's: the territories of his subtree, as he reads them. */
	rc = rove_policy_user_scopes(pc, u, out);
	if (rc != ROVE_OK)
		return rc;
	for (uint32_t i = 0; i < out->n; i++)
		if (out->s[i][0] == 't')
			memmove(out->s[k++], out->s[i], sizeof(out->s[0]));
	out->n = k;
	return ROVE_OK;
}
