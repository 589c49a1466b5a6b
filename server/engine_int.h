/*
 * engine_int.h - what the engine's parts share: engine.c (opening, the
 * clock, applying ops, the write and read batches), pull.c (the read
 * path) and admin.c (administration requests and the conflict list).
 * Not for use outside them.
 */
#ifndef ROVE_ENGINE_INT_H
#define ROVE_ENGINE_INT_H

#include "engine.h"
#include "policy.h"

/* Scratch space for applying ops: records are large, so it lives on the
 * heap, one per request. */
typedef struct rove_apply_work {
	rove_record cur, rec;
	rove_scopes before, after;
	rove_verdict verdict;
	rove_reject_scopes rscopes; /* where a refusal is listed */
	rove_buf scratch;
	/* For a pushed op: the newest stamp of an earlier op of the same
	 * push (engine.c's push_floor): one at or below it, not marked
	 * given, is stamped anew past it. {0}: none. */
	rove_hlc newer_than;
	/* For a pushed op: its fields as pushed, before the rules adjusted
	 * them (engine.c's push_kept); a refusal keeps them, so that the op
	 * is kept as sent (rule 9). NULL: the op's own. */
	const rove_fields *pushed;
	/* The work of the follow-up ops of the op this one applies (made
	 * when first needed, freed with it): one level of follow-ups runs
	 * at a time, each on the level below. */
	struct rove_apply_work *next;
} rove_apply_work;

rove_apply_work *rove_apply_work_new(void);
void rove_apply_work_free(rove_apply_work *w);

/* What the policy is asked in: e's store and tables, txn, and the
 * server's time. rove_engine_policy is the writer's (its clock);
 * readers, who ask no rule of time, take the _read one (the wall
 * clock: they may not read the writer's). */
rove_policy_ctx rove_engine_policy(rove_engine *e, MDB_txn *txn);
rove_policy_ctx rove_engine_policy_read(rove_engine *e, MDB_txn *txn);

/* A new stamp of the server's clock, for an op the server makes. */
rove_stamp rove_engine_stamp(rove_engine *e);
/* The server's time, for the dates it writes and the rules read: the
 * wall clock, never before the clock it started with, never going back.
 * Not its clock now, which follows clients' stamps. Thread-safe. */
uint64_t rove_engine_now_ms(rove_engine *e);

/* Decides (unless system), applies, indexes and logs one op by u; fills r
 * with the answer. Returns an error only for storage failures. System ops
 * are made by the server itself (admin commands, recycling) and skip the
 * policy's decision, not its bookkeeping; they, and the follow-up ops the
 * policy asks for (history), are stamped with the server's clock. */
int rove_apply_op(rove_engine *e, MDB_txn *txn, const rove_user *u, rove_op *op, bool system,
		  rove_apply_work *w, rove_push_result *r);

/* Whether this server's history holds the one a replica synced with up
 * to seq, seq coming from run (see rove_run); head is the oplog's. */
bool rove_engine_history_has(const rove_engine *e, const rove_uuid *run, uint64_t seq, uint64_t head);

/* Each user's changes in a while (rate.h; admins are not held): whether
 * u may write n ops now (what a request of ops changes costs: a push of
 * big ones more, rove_limits.h's ROVE_USER_RATE_OP_BYTES), taken if so;
 * else reply holds the ROVE_ERATE error saying when. And n ops u wrote,
 * charged once known (a manager's reassignment), below empty if need
 * be. */
bool rove_engine_rate_take(rove_engine *e, const rove_user *u, uint32_t n, uint32_t ops, rove_buf *reply);
void rove_engine_rate_charge(rove_engine *e, const rove_user *u, uint64_t n);

/* Read path (pull.c). lean: the reply holds at most ROVE_LEAN_CHUNK_BYTES
 * of items (the server sheds: rove_job.lean). */
int rove_pull(rove_engine *e, MDB_txn *txn, const rove_user *u, const rove_pull_req *q, bool lean,
	      rove_buf *reply);

/* Admin commands and conflicts (admin.c): the handlers of ADMIN and
 * CONFLICTS requests (engine.c's requests[], which has checked that u
 * may list conflicts at all: ROVE_ACT_CONFLICTS). */
int rove_admin(rove_engine *e, MDB_txn *txn, const rove_user *u, rove_msg *m, rove_buf *reply);
/* An ADMIN request whose answer is kept (sent again: its answer was
 * lost), answered from it before its token is checked: ROVE_OK, reply
 * set; else ROVE_ENOTFOUND, reply empty. The kept answer opens only with
 * the token the request came with and what it asked (seal.h), so this
 * answers whoever holds that token the same request's answer again: a
 * user who renewed his own token, the answer lost, would otherwise be
 * refused with the token he sent, the new one never learnt (attack
 * eighty-three: a sole admin locked out). */
int rove_admin_replay(rove_engine *e, MDB_txn *txn, const rove_msg *m, rove_buf *reply);
/* lean: the reply holds at most ROVE_LEAN_CHUNK_BYTES of items, as a
 * pull's (rove_job.lean). */
int rove_conflicts(rove_engine *e, MDB_txn *txn, const rove_user *u, const rove_conflicts_req *q, bool lean,
		   rove_buf *reply);

#endif
