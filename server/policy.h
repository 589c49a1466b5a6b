/*
 * policy.h - the CRM's rules: who may write what, who sees what, who may
 * reassign and who sees which refused changes.
 *
 * The sync engine knows nothing of customers, owners or territories. For
 * every op it asks this module for a decision (and the module may adjust
 * the op: the server, not the client, sets a new customer's owner); for
 * every record it asks which scopes the record is in; for every user which
 * scopes they read. The admin requests ask it whether a reassignment is
 * allowed and which refused changes a user may list. All the ownership and
 * territory rules of SPEC.md live here and only here (the ones that need
 * no data - roles, fields, deletes - in common/rules.h, which the command
 * line applies too).
 *
 * Its parts (one concept each) are listed in policy_int.h; its own
 * tables are policy_store.h's.
 *
 * Errors and refusals are kept apart: every function returns a rove error
 * (ROVE_OK, or a storage or memory error, which aborts the request that
 * asked: nothing about its ops is stored and the client tries again
 * later). A refusal is an answer: ROVE_OK with a reason in a rove_verdict.
 *
 * Scopes (strings, at most ROVE_MAX_SCOPE_LEN bytes):
 *   o:LOGIN  customers a user owns, and their child records
 *   r:CODE   what every rep of a territory sees: its public-pool customers
 *            (and their children) and its reference data
 *   t:CODE   everything in a territory (what managers above it see)
 * Analysts and admins read everything.
 */
#ifndef ROVE_POLICY_H
#define ROVE_POLICY_H

#include "policy_store.h"
#include "record.h"
#include "rules.h"
#include "store.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct rove_scopes {
	uint32_t n;
	char s[ROVE_MAX_RECORD_SCOPES][ROVE_MAX_SCOPE_LEN + 1];
} rove_scopes;

typedef struct rove_user_scopes {
	bool all; /* everything: no scope filter */
	uint32_t n;
	char s[ROVE_MAX_USER_SCOPES][ROVE_MAX_SCOPE_LEN + 1]; /* sorted */
} rove_user_scopes;

/* A territory's pool policies (公海规则); 0 = no such rule. */
typedef struct rove_pool_rules {
	int64_t limit, claims, cooldown, reason, recycle, warn;
} rove_pool_rules;

/* What the policy remembers of the territories it read during one write
 * batch: those that exist, with their pool rules. The writer hands it
 * out in the batch's own transaction only, reset when the batch begins;
 * the policy forgets it whenever a territory record changes. */
typedef struct rove_policy_memo {
	uint32_t n;
	struct {
		char code[ROVE_MAX_NAME + 1];
		rove_pool_rules rules;
	} t[ROVE_POLICY_MEMO_TERRITORIES];
	rove_uniq_memo uniq; /* a create's keys, from its decision to its write */
} rove_policy_memo;

void rove_policy_memo_reset(rove_policy_memo *m);

/* What every question is asked in: the store, the policy's own tables,
 * the caller's transaction, and the server's time (the wall clock, which
 * never goes back: the engine's rove_engine_now_ms), for every date and
 * time a rule reads or writes. Questions of scope read no time. memo:
 * the writer's batch's (above), NULL elsewhere. */
typedef struct rove_policy_ctx {
	rove_store *st;
	const rove_pstore *ps;
	MDB_txn *txn;
	uint64_t now_ms;
	rove_policy_memo *memo;
	/* The op checked was accepted before, and is sent again after a
	 * restore: its stamp is one this server gave (rove_apply_op). */
	bool resent;
	/* The newest of this server's stamps its replica had seen when it
	 * made the op checked (its seen stamp; 0: not known). */
	rove_hlc seen;
} rove_policy_ctx;

/* An answer: ROVE_R_NONE (allowed), or a rove_reason and a short detail
 * for the user. */
typedef struct rove_verdict {
	int reason;
	char detail[ROVE_MAX_DETAIL + 1];
	/* Accepted, and decided by the server as things stand on arrival (a
	 * claim, a release): the op takes the server's stamp, so its effect
	 * holds whatever the client's clock said. */
	bool server_stamp;
} rove_verdict;

/* ---- the database ---- */

/* Brings the policy's own indexes to the form this server keeps them in,
 * when it opens a database (in the caller's write transaction, which the
 * caller commits: it opens ps's tables): the unique tax ids and phones
 * are rebuilt if they were made under other rules of comparison, the
 * customers by dealer made where a roved before them left none; each is
 * logged where the database held anything. */
int rove_policy_open(rove_pstore *ps, rove_store *st, MDB_txn *txn);

/* The user the server's own periodic ops are made by (ROVE_SYSTEM_USER,
 * an admin to the rules). */
void rove_policy_system_user(rove_user *out);

/* ---- ops ---- */

/* Whether op, accepted, took the server's stamp on arrival (its verdict's
 * server_stamp): its stamp orders none of its replica's later ops. */
bool rove_policy_stamped_on_arrival(const rove_op *op);

/* Decides an op written by u. cur is the record as the server holds it,
 * or NULL if it does not exist. v->reason is ROVE_R_NONE to accept (op
 * possibly adjusted) or the reason to refuse. About a record outside u's
 * scope (one u's replica does not hold) the detail is empty, except for a
 * duplicate, which names the existing customer; about one u never held,
 * or one that does not exist, the reason is not_owner whatever the
 * record's state (docs/RULES.md, "What a refusal says"). */
int rove_policy_check(const rove_policy_ctx *pc, const rove_user *u, rove_op *op, const rove_record *cur,
		      rove_verdict *v);

/* Applies follow, an op the server makes, in the same transaction (the
 * engine's; it may change follow, which is the caller's scratch). */
typedef int (*rove_follow_fn)(void *arg, rove_op *follow);

/* After an op was applied (before is NULL for a new record): keeps the
 * policy's own indexes (unique tax ids and phones, claims per day) and
 * has the engine apply, through apply, the ops that follow from it as
 * the server's (ownership histories, a customer's last activity, the
 * open deals of a reassigned customer), each then followed up in turn,
 * at most ROVE_MAX_FOLLOW_DEPTH deep. Their ids derive from op's. */
int rove_policy_after(const rove_policy_ctx *pc, const rove_user *u, const rove_op *op,
		      const rove_record *before, const rove_record *after, rove_follow_fn apply, void *arg);

/* What a database from before a rule needs once, as ops apply makes the
 * server's own (rove_policy_system_user): the children of customers
 * deleted before they went with their customer (rule 6). *n: how many;
 * *changed: the policy wrote (the mark that it was done), to commit.
 * Nothing once done. */
int rove_policy_repairs(const rove_policy_ctx *pc, rove_follow_fn apply, void *arg, bool *changed, size_t *n);

/* Periodic rules (recycling idle customers to the pool, warning their
 * owners first): fills up to max ops for the engine to apply as the
 * server (rove_policy_system_user); *n says how many. */
int rove_policy_periodic(const rove_policy_ctx *pc, rove_op *ops, size_t max, size_t *n);

/* ---- scopes ---- */

/* The scopes a record is in (a child record: its customer's; a deleted
 * record: none). hint, if not NULL, is a customer the caller holds: used
 * instead of reading the parent when it is the one. */
int rove_policy_scopes(const rove_policy_ctx *pc, const rove_record *rec, const rove_record *hint, rove_scopes *out);

/* Whether the scope's index entries hold copies of their records (the
 * store's scoperec), so that its snapshots read nothing else: the scopes
 * reps read (o:, r:), whose many small snapshots would each read a cold
 * page of the records table per record. A manager's territory scopes
 * (t:) hold none: each copy is one more put for every write of every
 * record, and a manager's snapshot is rarer and larger. */
bool rove_policy_scope_copies(const char *scope);

/* The scopes u reads, sorted (or all). */
int rove_policy_user_scopes(const rove_policy_ctx *pc, const rove_user *u, rove_user_scopes *out);

/* Whether any scope of rec is one u reads. */
bool rove_policy_sees(const rove_user_scopes *us, const rove_scopes *rs);

/* *out: whether u reads one of the scopes rs (what rove_policy_sees says
 * of rove_policy_user_scopes, asked of a few scopes without listing all
 * of u's). */
int rove_policy_reads(const rove_policy_ctx *pc, const rove_user *u, const rove_scopes *rs, bool *out);

/* *levels: how many territories the tree holds from code up to its top,
 * code's own included (0: no such territory); counted up to
 * ROVE_MAX_TREE_DEPTH + 1, past which a walk up stops. A territory is
 * made only where it is at most ROVE_MAX_TREE_DEPTH levels deep: past
 * that its managers above would not reach it. */
int rove_policy_territory_levels(const rove_policy_ctx *pc, const char *code, unsigned *levels);

/* *out: whether territory code lies in the subtree of one of u's
 * territories. A code that is not a territory is in nobody's. */
int rove_policy_in_reach(const rove_policy_ctx *pc, const rove_user *u, const char *code, bool *out);

/* Refuses (v: invalid, with the words an op naming it gets) unless the
 * dealer customer c names, if any, is a live dealer of its territory or
 * above it (rule 13): for roved check, of the records as stored. */
int rove_policy_dealer_ref(const rove_policy_ctx *pc, const rove_record *c, rove_verdict *v);

/* Calls fn(c, arg) for each live customer that the user named owner owns
 * in territory code (a copy in scratch memory, valid during the call);
 * fn returns ROVE_OK to go on, and any other code ends the walk and is
 * returned. A customer that cannot be read is left out (and logged).
 * fn must not write customers. */
typedef int (*rove_policy_customer_fn)(const rove_record *c, void *arg);
int rove_policy_each_owned(const rove_policy_ctx *pc, const char *owner, const char *code, rove_policy_customer_fn fn,
			   void *arg);

/* *any: whether the user named login owns a live customer of code or of
 * a territory below it, or an open deal there where he no longer works
 * (what `admin reassign --territory CODE --from LOGIN` would move): a
 * manager reaching code sees him by it, though he holds no territory. */
int rove_policy_has_left(const rove_policy_ctx *pc, const char *login, const char *code, bool *any);

/* Before territory code is handed over from user `from` to user `to`
 * (`admin reassign --territory`): calls fn(c, to_may, arg) for each live
 * customer from owns in a territory below code (not code itself) that he
 * reaches by code and will not reach without it (a manager's; also one
 * unassigned from code before; never a rep's, who works where he is
 * assigned, not below), with whether `to` may own it then (holding code too if
 * to_gets_code: from held it). fn must not write customers. */
typedef int (*rove_policy_below_fn)(const rove_record *c, bool to_may, void *arg);
int rove_policy_owned_below(const rove_policy_ctx *pc, const rove_user *from, const char *code, const rove_user *to,
			    bool to_gets_code, rove_policy_below_fn fn, void *arg);

/* After territory code was handed over from user `from` to user `to`
 * (`admin reassign --territory`): calls fn(deal, owner, arg) for each
 * live open deal that from owns on a customer of code or of a territory
 * below it, where from no longer works (a deal a manager named him the
 * owner of, or one of a customer he left behind), with the owner it goes
 * to: `to` if he works there, else the customer's owner if he can work
 * it, else NULL (nobody), as for a customer moved. fn may write deals
 * (called after the walks). */
typedef int (*rove_policy_deal_fn)(const rove_uuid *deal, const char *owner, void *arg);
int rove_policy_deals_left(const rove_policy_ctx *pc, const char *from, const char *code, const char *to,
			   rove_policy_deal_fn fn, void *arg);

/* ---- administration ---- */

/* Whether u's role may do act (enum rove_rules_act, common/rules.h) at
 * all; what they may do it to is decided by the functions below. */
int rove_policy_may(const rove_user *u, int act, rove_verdict *v);

/* Whether u may move customer c (NULL: no such live customer) to the user
 * named to (rule 7): c within u's reach, to an enabled rep or manager whose
 * territories hold c's territory, and for a manager one inside his
 * subtree. Outside u's reach, a customer that exists and one that does
 * not get the same answer. */
int rove_policy_reassign(const rove_policy_ctx *pc, const rove_user *u, const rove_record *c, const char *to,
			 rove_verdict *v);

/* Whether u may move every customer `from` owns in territory code to the
 * user named to, with the territory's assignment if from holds it: code
 * within u's reach and to able to own customers there afterwards (inside
 * u's subtree for a manager). */
int rove_policy_reassign_territory(const rove_policy_ctx *pc, const rove_user *u, const char *code,
				   const rove_user *from, const char *to, rove_verdict *v);

/* Whether u may see user t (`rove admin user list|show`), into *visible,
 * and t as u sees it into *view: admins see everyone as they are; a
 * manager sees himself and the users holding a territory in his subtree,
 * and of their territories only those in his subtree (whether a territory
 * outside one's own exists is not said); reps and analysts see nobody. */
int rove_policy_user_view(const rove_policy_ctx *pc, const rove_user *u, const rove_user *t, bool *visible,
			  rove_user *view);

/* Whether u may disable (disable) or enable user t: admins only, and
 * nobody disables himself or the last enabled admin (so that somebody
 * can always administer). Whether t is already so is the caller's. */
int rove_policy_user_disable(const rove_policy_ctx *pc, const rove_user *u, const rove_user *t, bool disable,
			     rove_verdict *v);

/* Whether the pool rules of territory cur, as op (an update of it) would
 * leave them, hang together: the owner's warning comes before the
 * recycling (warn_days < recycle_days, when both are set). */
int rove_policy_territory_rules(const rove_record *cur, const rove_op *op, rove_verdict *v);

/* ---- refused changes ---- */

/* The index scopes a refusal of op by u is kept under, for the managers
 * who may list it (rule 9): "t:CODE" for the territory the op names, the
 * record's (or its customer's) territory, and each of u's territories
 * (so that u's managers see it wherever u tried to write). */
int rove_policy_refusal_scopes(const rove_policy_ctx *pc, const rove_user *u, const rove_op *op,
			       const rove_record *cur, rove_reject_scopes *out);

/* Whether a refusal for reason is kept apart from the author's others
 * (rove_reject_scopes): an attempt at what the rules keep from the user
 * (forbidden, not_owner, not_in_territory, reassigned), so that no user
 * can push one out of the managers' sight with harmless refusals - only
 * with as many more attempts, which they see. */
bool rove_policy_refusal_apart(int reason);

/* The index scopes of the refusals u may list (all for admins); u must be
 * allowed ROVE_ACT_CONFLICTS. */
int rove_policy_conflict_scopes(const rove_policy_ctx *pc, const rove_user *u, rove_user_scopes *out);

#endif
