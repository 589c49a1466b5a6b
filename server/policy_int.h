/*
 * policy_int.h - what the policy's parts share; not for use outside
 * them. The parts, one concept each:
 *   policy.c         the decision on an op (rove_policy_check): who may
 *                    write what, and how the server adjusts it
 *   policy_after.c   what follows an accepted op: the policy's indexes,
 *                    ownership history, a customer's last activity
 *   policy_scope.c   the territory tree, who reaches what, the scopes
 *                    records are in and users read; walks of records
 *   policy_pool.c    the public pool's rules (公海规则): limits,
 *                    cooldowns, claims a day, recycling idle customers
 *   policy_refusal.c what a refusal may say, and who may list it (rule 9)
 *   policy_admin.c   decisions on administration (reassignment,
 *                    territories, who sees and disables which users,
 *                    the server's own user)
 *   policy_store.c   the policy's own tables
 *
 * Conventions: every function returns a rove error; a rule that says no
 * writes its reason into a rove_verdict and returns ROVE_OK, and the
 * caller goes on only while the verdict says nothing (REFUSED). Questions
 * answered yes or no take a bool *out and return an error too, so that a
 * storage error never reads as "no".
 */
#ifndef ROVE_POLICY_INT_H
#define ROVE_POLICY_INT_H

#include "calendar.h"
#include "err.h"
#include "policy.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef rove_policy_ctx pctx;

#define REFUSED(v) ((v)->reason != ROVE_R_NONE)

/* Refuses with reason and a detail for the user; returns ROVE_OK. */
static inline int refuse(rove_verdict *v, int reason, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static inline int refuse(rove_verdict *v, int reason, const char *fmt, ...)
{
	va_list ap;

	v->reason = reason;
	va_start(ap, fmt);
	vsnprintf(v->detail, sizeof(v->detail), fmt, ap);
	va_end(ap);
	return ROVE_OK;
}

static inline void verdict_clear(rove_verdict *v)
{
	v->reason = ROVE_R_NONE;
	v->detail[0] = '\0';
	v->server_stamp = false;
}

/* Whether op sets field. */
static inline bool touches(const rove_op *op, const char *field)
{
	return rove_fields_get(&op->fs, field) != NULL;
}

static inline const char *str_or(const char *s, const char *dflt)
{
	return s != NULL ? s : dflt;
}

/* ---- times: always the server's (pc->now_ms), never the wall clock ---- */

/* The day number of the server's today. */
static inline int64_t today_number(const pctx *pc)
{
	return (int64_t)(pc->now_ms / ROVE_DAY_MS);
}

/* The day number (common/calendar.h) of a schema time or date; -1 if it
 * is none. */
static inline int64_t policy_day_number(const char *iso)
{
	uint64_t ms;
	bool zoned;

	return iso != NULL && rove_schema_time_ms(iso, &ms, &zoned) ? (int64_t)(ms / ROVE_DAY_MS) : -1;
}

/* The server's time as ISO 8601: date and time (UTC), or the date alone. */
static inline void policy_iso_now(const pctx *pc, char out[ROVE_TIME_SIZE], bool date_only)
{
	if (date_only)
		rove_cal_date(today_number(pc), out);
	else
		rove_cal_time(pc->now_ms, out);
}

/* ---- territories and walks (policy_scope.c) ---- */

bool policy_user_has_territory(const rove_user *u, const char *code);
int policy_territory_get(const pctx *pc, const char *code, rove_record *rec, bool *found);
/* Refuses (invalid) unless territory code exists. */
int policy_check_territory(const pctx *pc, const char *code, rove_verdict *v);
/* Calls at(code, arg) for code and each territory above it, nearest
 * first, until it sets *stop; a code that is no territory ends the walk. */
typedef int (*walk_fn)(const char *code, void *arg, bool *stop);
int policy_walk_up(const pctx *pc, const char *code, walk_fn at, void *arg);
int policy_territory_under(const pctx *pc, const char *code, const char *above, bool *out);
/* The scopes of rec (rove_policy_scopes); with as_live, those it was in
 * before it (or its customer) was deleted. */
int policy_record_scopes(const pctx *pc, const rove_record *rec, const rove_record *hint, bool as_live,
			 rove_scopes *out);

/* Walks of records found through an index: each one is loaded into
 * scratch and handed to fn(rec, arg), which returns ROVE_OK to go on
 * (callers that stop on a find return ROVE_EEXIST). A record that is gone
 * or cannot be read is skipped (the store logs it): one bad record must
 * not block every write to its customer, nor the rules on the others;
 * any other error ends the walk and is returned. */
typedef int (*record_fn)(const rove_record *rec, void *arg);
/* Each child record of customer id in collection coll (0: all). */
int policy_each_child(const pctx *pc, const rove_uuid *id, uint8_t coll, record_fn fn, void *arg);
/* Each customer in scope "KIND:NAME" (its owner's, or its territory's). */
int policy_each_customer_in(const pctx *pc, char kind, const char *name, record_fn fn, void *arg);

/* ---- ownership (policy.c) ---- */

/* The user named login into t; refuses (invalid) if there is none. */
int policy_user_get(const pctx *pc, const char *login, rove_user *t, rove_verdict *v);
/* The same for a user who is to own customers: refuses, too, one whose
 * role owns none, and one who is disabled. */
int policy_owner_get(const pctx *pc, const char *login, rove_user *t, rove_verdict *v);
/* Whether the user named login may own a customer of territory terr
 * when author gives it to them (rule 7). */
int policy_check_owner(const pctx *pc, const rove_user *author, const char *login, const char *terr, rove_verdict *v);
/* *able: whether login can work an open deal of a customer of territory
 * terr: enabled, a rep holding terr or a manager reaching it. */
int policy_deal_owner_able(const pctx *pc, const char *login, const char *terr, bool *able);

/* ---- the pool (policy_pool.c) ---- */

typedef rove_pool_rules pool_rules;
/* The writer's memo of territory code (its pool rules), NULL if none. */
const pool_rules *policy_memo_find(const pctx *pc, const char *code);
int policy_pool_rules_get(const pctx *pc, const char *code, pool_rules *p);
/* The counter of user's claims on the server's today. */
void policy_claims_key(const pctx *pc, char *out, size_t len, const char *user);
/* The pool rules of the customer's territory for a claim (cur) or a
 * create (cur NULL). */
int policy_check_pool_take(const pctx *pc, const rove_user *u, const char *terr, const rove_record *cur,
			   rove_verdict *v);

/* ---- refusals (policy_refusal.c) ---- */

/* Cuts a refusal down to what u may know (rule 9). */
int policy_say_only_what_u_knows(const pctx *pc, const rove_user *u, const rove_op *op, const rove_record *cur,
				 bool by_role, rove_verdict *v);

#endif
