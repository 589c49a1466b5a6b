#include "engine_int.h"
#include "admin_import.h"
#include "rove_assert.h"

#include "db.h"
#include "err.h"
#include "hash.h"
#include "log.h"
#include "metrics.h"
#include "schema.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The meta key of the server's time as last stored (rove_engine_now_ms). */
#define TIME_KEY "time"

/* The clock starts where the database's left off, or at the wall clock
 * if that is later; so does the server's time (rove_engine_now_ms), from
 * the time stored with the last write (TIME_KEY: the wall clock's, never
 * a client's stamp), or in a database from before it, from the clock. */
static int clock_load(rove_engine *e)
{
	MDB_txn *txn = NULL;
	uint64_t time = 0;
	int rc = rove_store_begin(&e->st, NULL, false, &txn);

	if (rc == ROVE_OK)
		rc = rove_store_clock_get(&e->st, txn, &e->clock_saved);
	if (rc == ROVE_OK) {
		rc = rove_store_meta_get(&e->st, txn, TIME_KEY, &time);
		if (rc == ROVE_OK && time > ROVE_MAX_WALL_MS) { /* no time this server wrote: damage */
			rove_warn("the stored time (%llu ms) is past the year 9999: taken from the clock instead",
				  (unsigned long long)time);
			rc = ROVE_ENOTFOUND;
		}
		if (rc == ROVE_ENOTFOUND) {
			time = rove_hlc_ms(e->clock_saved);
			rc = ROVE_OK;
		}
	}
	rove_store_abort(txn);
	e->clock = e->clock_saved;
	rove_hlc_observe(&e->clock, e->clock_saved, rove_wall_ms());
	e->clock_start = e->clock;
	e->proven.v = 0;
	e->time_saved = time;
	atomic_store(&e->now_ms, time);
	/* The server's time never goes back (rove_engine_now_ms): a clock
	 * set back is not taken - nor, the same way, one put right after a
	 * run with a fast clock. Which one is wrong only the operator knows. */
	if (rc == ROVE_OK && time > rove_wall_ms() + ROVE_MAX_CLOCK_SKEW_MS)
		rove_warn("this machine's clock is %llu minute(s) behind the dates stored: roved keeps the later "
			  "time, and dates up to it are taken as not in the future. If the clock is right now, the "
			  "database ran under a clock that was ahead (OPERATIONS.md, \"Clocks\")",
			  (unsigned long long)((time - rove_wall_ms()) / 60000u));
	return rc;
}

/* The policy's indexes in the form this server keeps them (rebuilt once
 * after an upgrade that changed them), growing the map if they need it.
 * Committed even when nothing was written: the tables' handles live on
 * only so. */
static int policy_open_once(rove_engine *e)
{
	MDB_txn *txn = NULL;
	int rc = rove_store_begin(&e->st, NULL, true, &txn);

	if (rc == ROVE_OK)
		rc = rove_policy_open(&e->ps, &e->st, txn);
	if (rc == ROVE_OK)
		rc = rove_store_commit(txn);
	else
		rove_store_abort(txn);
	return rc;
}

static int policy_open(rove_engine *e)
{
	int grows = 0, rc;

	/* Nobody reads yet: the map grows without the lock. */
	do
		rc = policy_open_once(e);
	while (rove_db_grow_retry(e->st.env, rc, &grows));
	return rc;
}

int rove_engine_init(const char *dir, const char *admin, char token[ROVE_TOKEN_HEX + 1])
{
	rove_pstore ps;
	rove_db_table more[ROVE_PSTORE_TABLES];
	size_t nmore = rove_pstore_tables(&ps, more);

	/* The one rule for a login (user.add's too), and not the server's. */
	if (!rove_login_valid(admin, strlen(admin)) || rove_login_reserved(admin))
		return ROVE_EINVAL;
	return rove_store_init(dir, more, nmore, admin, token);
}

/* What a write transaction stores of the clocks (clock_save). */
typedef struct engine_saved {
	rove_hlc clock;
	uint64_t time;
} engine_saved;

static int clock_save(rove_engine *e, MDB_txn *txn, engine_saved *saved);
static void clock_saved(rove_engine *e, const engine_saved *saved);

/* What the policy's repairs apply (rove_follow_fn): an op of the server's. */
typedef struct repair_ctx {
	rove_engine *e;
	MDB_txn *txn;
	const rove_user *sys;
	rove_apply_work *w;
} repair_ctx;

static int repair_apply(void *arg, rove_op *op)
{
	repair_ctx *x = arg;
	rove_push_result r;
	int rc;

	memset(&r, 0, sizeof(r));
	rc = rove_apply_op(x->e, x->txn, x->sys, op, true, x->w, &r);
	if (rc == ROVE_OK && r.status != ROVE_PUSH_ACCEPTED)
		rc = ROVE_EINVAL; /* the server's own op does not fit a record: a defect */
	return rc;
}

/* What makes the server's own ops in system_ops_once: applies them (as
 * sys, with work w) in txn; *n: how many; *changed: txn is to be
 * committed (also with none: the policy wrote). */
typedef int (*system_ops_fn)(rove_engine *e, MDB_txn *txn, const rove_user *sys, rove_apply_work *w,
			     bool *changed, size_t *n);

/* The server's own ops of gen in one write transaction, the clock saved
 * with them; said ("what: N change(s)") when there are some. */
static int system_ops_once(rove_engine *e, system_ops_fn gen, const char *what)
{
	rove_user sys;
	rove_apply_work *w = rove_apply_work_new();
	MDB_txn *txn = NULL;
	engine_saved saved = {{0}, 0};
	bool changed = false;
	size_t n = 0;
	int rc = w != NULL ? ROVE_OK : ROVE_ENOMEM;

	rove_policy_system_user(&sys);
	if (rc == ROVE_OK)
		rc = rove_store_begin(&e->st, NULL, true, &txn);
	if (rc == ROVE_OK)
		rc = rove_store_head(&e->st, txn, &e->head);
	if (rc == ROVE_OK)
		rc = gen(e, txn, &sys, w, &changed, &n);
	if (rc == ROVE_OK && n > 0)
		rc = clock_save(e, txn, &saved);
	if (rc == ROVE_OK && (changed || n > 0)) {
		rc = rove_store_commit(txn);
		if (rc == ROVE_OK && n > 0)
			clock_saved(e, &saved);
	} else if (txn != NULL) {
		rove_store_abort(txn);
	}
	if (rc == ROVE_OK && n > 0)
		rove_info("%s: %zu change(s)", what, n);
	rove_apply_work_free(w);
	return rc;
}

/* The policy's repairs of a database from before one of its rules (once:
 * nothing to do afterwards). */
static int repair_ops(rove_engine *e, MDB_txn *txn, const rove_user *sys, rove_apply_work *w, bool *changed,
		      size_t *n)
{
	repair_ctx x = {e, txn, sys, w};
	rove_policy_ctx pc = rove_engine_policy(e, txn);

	return rove_policy_repairs(&pc, repair_apply, &x, changed, n);
}

static int repair(rove_engine *e)
{
	int grows = 0, rc;

	do
		rc = system_ops_once(e, repair_ops, "children of customers deleted before they went with them, deleted");
	while (rove_db_grow_retry(e->st.env, rc, &grows));
	return rc;
}

/* Admin answers kept by a roved before they were sealed (seal.h) may
 * hold tokens in the clear: dropped once (a request sent again after
 * the upgrade is done again, or refused as done). The pages they held
 * keep their bytes until reused; a `roved backup` copy has none. */
#define SEALED_KEY "admreqs:sealed"

/* The key of proofs of the clock (proof.h), made once and kept in the
 * database, so that a copy of it has it too. check.c reads it too. */
#define PROOF_KEY ROVE_STORE_PROOF_KEY

static int proof_key_load(rove_engine *e)
{
	MDB_txn *txn = NULL;
	int rc = rove_store_begin(&e->st, NULL, false, &txn);

	if (rc == ROVE_OK)
		rc = rove_store_proof_key_get(&e->st, txn, e->proof_key);
	rove_store_abort(txn);
	/* A damaged key costs only the proofs given under it: replaced, as
	 * a missing one is made, rather than no server at all (attack
	 * thirty-nine; roved check names it). */
	if (rc == ROVE_EPROTO)
		rove_warn("the key of proofs of the clock (meta %s) is damaged: a new one is made, and the proofs "
			  "replicas hold count for nothing after a restore until they sync again",
			  PROOF_KEY);
	else if (rc != ROVE_ENOTFOUND)
		return rc;
	rc = rove_proof_key_new(e->proof_key);
	if (rc == ROVE_OK)
		rc = rove_store_begin(&e->st, NULL, true, &txn);
	if (rc != ROVE_OK)
		return rc;
	rc = rove_store_meta_bytes_put(&e->st, txn, PROOF_KEY, e->proof_key, ROVE_PROOF_KEY);
	if (rc == ROVE_OK)
		return rove_store_commit(txn);
	rove_store_abort(txn);
	return rc;
}

static int forget_clear_answers(rove_engine *e)
{
	MDB_txn *txn = NULL;
	uint64_t sealed = 0;
	int rc = rove_store_begin(&e->st, NULL, true, &txn);

	if (rc != ROVE_OK)
		return rc;
	rc = rove_store_meta_get(&e->st, txn, SEALED_KEY, &sealed);
	if (rc == ROVE_OK && sealed == 1) {
		rove_store_abort(txn); /* done before */
		return ROVE_OK;
	}
	if (rc == ROVE_ENOTFOUND)
		rc = rove_store_admreq_clear(&e->st, txn);
	if (rc == ROVE_OK)
		rc = rove_store_meta_put(&e->st, txn, SEALED_KEY, 1);
	if (rc == ROVE_OK)
		return rove_store_commit(txn);
	rove_store_abort(txn);
	return rc;
}

int rove_engine_open(rove_engine *e, const char *dir)
{
	rove_db_table more[ROVE_PSTORE_TABLES];
	size_t nmore = rove_pstore_tables(&e->ps, more);
	int rc = rove_store_open(dir, &e->st, more, nmore);

	e->runs = NULL;
	e->nruns = 0;
	e->seen = NULL;
	e->rate = NULL;
	atomic_init(&e->now_ms, 0);
	atomic_init(&e->said_damaged, false);
	e->time_saved = 0;
	if (rc == ROVE_OK)
		rc = rove_store_sound(&e->st, dir);
	if (rc == ROVE_OK)
		rc = policy_open(e);
	if (rc == ROVE_OK)
		rc = clock_load(e);
	if (rc == ROVE_OK)
		rc = rove_store_run_start(&e->st, &e->runs, &e->nruns);
	if (rc == ROVE_OK && (e->seen = rove_seen_new()) == NULL)
		rc = ROVE_ENOMEM;
	if (rc == ROVE_OK)
		rc = rove_engine_set_rate(e, ROVE_USER_OPS_BURST, ROVE_USER_OPS_PER_S);
	if (rc == ROVE_OK)
		rc = repair(e);
	if (rc == ROVE_OK)
		rc = forget_clear_answers(e);
	if (rc == ROVE_OK)
		rc = proof_key_load(e);
	if (rc != ROVE_OK) {
		rove_seen_free(e->seen);
		e->seen = NULL;
		rove_rate_free(e->rate);
		e->rate = NULL;
		rove_store_close(&e->st);
		free(e->runs);
		e->runs = NULL;
		return rc;
	}
	pthread_rwlock_init(&e->map, NULL);
	return ROVE_OK;
}

int rove_engine_set_rate(rove_engine *e, uint32_t burst, uint32_t per_s)
{
	rove_rate *r;
	int rc = rove_rate_new(&r, burst, per_s);

	if (rc != ROVE_OK)
		return rc;
	rove_rate_free(e->rate);
	e->rate = r;
	e->rate_burst = burst;
	e->rate_per_s = per_s;
	return ROVE_OK;
}

void rove_engine_close(rove_engine *e)
{
	int rc = rove_engine_flush(e);

	if (rc != ROVE_OK)
		rove_warn("the users' last syncs of the last minute were not stored: %s", rove_strerror(rc));
	rove_seen_free(e->seen);
	e->seen = NULL;
	rove_rate_free(e->rate);
	e->rate = NULL;
	rove_admin_import_forget(e);
	rove_store_close(&e->st);
	pthread_rwlock_destroy(&e->map);
	free(e->runs);
	e->runs = NULL;
	e->nruns = 0;
}

bool rove_engine_history_has(const rove_engine *e, const rove_uuid *run, uint64_t seq, uint64_t head)
{
	for (size_t i = 0; i < e->nruns; i++) {
		if (rove_uuid_cmp(&e->runs[i].id, run) != 0)
			continue;
		/* The run ends where the next began, or at the head. */
		return seq <= (i + 1 < e->nruns ? e->runs[i + 1].start - 1 : head);
	}
	return false;
}

/* Whether to run a write that returned rc again: the map was full and
 * grew, while no reader held a transaction (rove_db_grow_retry). */
static bool grow_retry(rove_engine *e, int rc, int *grows)
{
	bool again;

	if (rc != ROVE_EMAPFULL)
		return false;
	pthread_rwlock_wrlock(&e->map);
	again = rove_db_grow_retry(e->st.env, rc, grows);
	pthread_rwlock_unlock(&e->map);
	return again;
}

void rove_engine_error(rove_buf *out, int code, const char *text)
{
	rove_buf_reset(out);
	if (rove_enc_error(out, code, text) != ROVE_OK)
		rove_error("cannot encode an error reply");
}

/* A request that failed in the engine, answered with rc: what the
 * client shows. A stored record or op that does not decode (the
 * request itself was decoded before) is the database's damage, not the
 * client's: said so, on both sides (attack sixty-one: "pull: malformed
 * data", and in the log only "corrupt record in the store"). */
static void failed_reply(rove_engine *e, rove_buf *out, int rc)
{
	if (rc != ROVE_EPROTO) {
		rove_engine_error(out, rc, rove_strerror(rc));
		return;
	}
	if (!atomic_exchange(&e->said_damaged, true))
		rove_error("the database is damaged: a stored record or op does not decode, and requests that read "
			   "it fail; stop roved and run 'roved check' on its directory (OPERATIONS.md, \"Check\")");
	rove_engine_error(out, rc, "the server's database is damaged (its operator must run 'roved check'); your "
				   "changes are kept");
}

void rove_engine_verror(rove_buf *out, int code, const char *fmt, va_list ap)
{
	char text[ROVE_MAX_ERRMSG + 1];

	vsnprintf(text, sizeof(text), fmt, ap);
	rove_engine_error(out, code, text);
}

/* Failed logins are logged at most once per ROVE_LOGIN_LOG_PERIOD_MS,
 * the line saying how many were not: an unauthenticated client gets
 * thousands of answers a second (each under a new name, so never braked)
 * and must not fill the operator's log. Shared by every thread that
 * authenticates. */
static struct {
	pthread_mutex_t mu;
	uint64_t last_ms; /* when a line was last written (monotonic) */
	uint64_t unlogged;
} login_log = {PTHREAD_MUTEX_INITIALIZER, 0, 0};

static void log_failed_login(const char *user)
{
	struct timespec ts;
	uint64_t now, unlogged = 0;
	bool say;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u + ROVE_LOGIN_LOG_PERIOD_MS;
	pthread_mutex_lock(&login_log.mu);
	say = now - login_log.last_ms >= ROVE_LOGIN_LOG_PERIOD_MS;
	if (say) {
		login_log.last_ms = now;
		unlogged = login_log.unlogged;
		login_log.unlogged = 0;
	} else {
		login_log.unlogged++;
	}
	pthread_mutex_unlock(&login_log.mu);
	if (say && unlogged > 0)
		rove_warn("failed login for %s (and %llu more not logged since the last such line)", ROVE_LOG_NAME(user),
			  (unsigned long long)unlogged);
	else if (say)
		rove_warn("failed login for %s", ROVE_LOG_NAME(user));
}

static int authenticate(rove_engine *e, MDB_txn *txn, const rove_auth *a, const rove_peer *peer,
			rove_user *u)
{
	static const uint8_t zero[ROVE_HASH_BYTES];
	uint8_t hash[ROVE_HASH_BYTES];
	bool ok;
	int rc;

	rc = rove_store_user_get(&e->st, txn, a->user, u, hash);
	if (rc != ROVE_OK && rc != ROVE_ENOTFOUND)
		return rc;
	/* An unknown user costs the same work and gets the same answer as a
	 * wrong token. The right token always logs in: a name's failures are
	 * counted per address, and every client behind a proxy (or local)
	 * shares one, so refusing it would let anyone there keep the name's
	 * owner out. Past the limit, a wrong token is answered busy. */
	ok = rove_token_check(a->token, rc == ROVE_OK ? hash : zero) && rc == ROVE_OK;
	if (!ok) {
		bool limited = rove_auth_limited(a->user, peer, rove_wall_ms());
		if (!limited)
			rove_auth_failed(a->user, peer, rove_wall_ms());
		rove_metrics_login_failed();
		log_failed_login(a->user);
		return limited ? ROVE_EBUSY : ROVE_EAUTH;
	}
	/* Only who holds the token learns that the account is disabled. */
	return u->disabled ? ROVE_EPERM : ROVE_OK;
}

/* ---- users' last syncs ---- */

/* Stores the notes in txn: each user's last sync, if later than stored. */
static int store_notes(rove_engine *e, MDB_txn *txn, const rove_seen_note *notes, size_t n)
{
	uint8_t hash[ROVE_HASH_BYTES];
	rove_user u;
	int rc = ROVE_OK;

	for (size_t i = 0; rc == ROVE_OK && i < n; i++) {
		rc = rove_store_user_get(&e->st, txn, notes[i].login, &u, hash);
		if (rc == ROVE_ENOTFOUND || rc == ROVE_EPROTO) {
			/* No such user (any more), or an entry nobody can log in
			 * with: nothing to note, and no reason to fail a write. */
			rc = ROVE_OK;
			continue;
		}
		if (rc != ROVE_OK || notes[i].ms <= u.synced_ms)
			continue;
		u.synced_ms = notes[i].ms;
		rc = rove_store_user_put(&e->st, txn, &u, hash);
	}
	return rc;
}

static int flush_once(rove_engine *e, const rove_seen_note *notes, size_t n)
{
	MDB_txn *txn = NULL;
	int rc = rove_store_begin(&e->st, NULL, true, &txn);

	if (rc == ROVE_OK)
		rc = store_notes(e, txn, notes, n);
	if (rc == ROVE_OK)
		rc = rove_store_commit(txn);
	else
		rove_store_abort(txn);
	return rc;
}

int rove_engine_flush(rove_engine *e)
{
	rove_seen_note *notes = NULL;
	size_t n = 0;
	int grows = 0, rc = rove_seen_take(e->seen, &notes, &n);

	if (rc != ROVE_OK || n == 0)
		return rc;
	do
		rc = flush_once(e, notes, n);
	while (grow_retry(e, rc, &grows));
	if (rc != ROVE_OK)
		rove_seen_give_back(e->seen, notes, n);
	free(notes);
	return rc;
}

rove_apply_work *rove_apply_work_new(void)
{
	rove_apply_work *w = malloc(sizeof(*w));

	if (w != NULL) {
		rove_buf_init(&w->scratch);
		w->newer_than.v = 0;
		w->pushed = NULL;
		w->next = NULL;
	}
	return w;
}

void rove_apply_work_free(rove_apply_work *w)
{
	while (w != NULL) {
		rove_apply_work *next = w->next;
		rove_buf_free(&w->scratch);
		free(w);
		w = next;
	}
}

rove_stamp rove_engine_stamp(rove_engine *e)
{
	rove_stamp st = {rove_hlc_tick(&e->clock, rove_wall_ms()), e->st.node};

	return st;
}

/* The wall clock, never before a time given before, in this run or (as
 * stored: clock_save) an earlier one: a clock set back does not take the
 * dates back. Not the clock: it follows the stamps accepted, up to the
 * skew ahead, and one rep's fast stamp would move every date the server
 * writes for everyone (a win near midnight into the next month: attacks
 * twenty-five and twenty-six, the second across restarts). */
uint64_t rove_engine_now_ms(rove_engine *e)
{
	uint64_t now = rove_wall_ms(), last = atomic_load(&e->now_ms);

	while (now > last && !atomic_compare_exchange_weak(&e->now_ms, &last, now))
		;
	return now > last ? now : last;
}

/* Stores the clock, and the server's time, in txn where they moved since
 * they were last stored (once per write transaction); *saved gets the
 * values to remember once txn commits (clock_saved). Every date written
 * in txn is at or below the time stored with it. */
static int clock_save(rove_engine *e, MDB_txn *txn, engine_saved *saved)
{
	int rc = ROVE_OK;

	saved->clock = e->clock;
	saved->time = atomic_load(&e->now_ms);
	if (e->clock.v != e->clock_saved.v)
		rc = rove_store_clock_put(&e->st, txn, e->clock);
	if (rc == ROVE_OK && saved->time > e->time_saved)
		rc = rove_store_meta_put(&e->st, txn, TIME_KEY, saved->time);
	return rc;
}

/* What clock_save stored, once its transaction committed. */
static void clock_saved(rove_engine *e, const engine_saved *saved)
{
	e->clock_saved = saved->clock;
	if (saved->time > e->time_saved)
		e->time_saved = saved->time;
}

/* A client's stamp too far ahead of the server's time is replaced by the
 * server's clock; otherwise the server's clock moves past it. given: the
 * op is one the server accepted before, sent again after a restore with
 * the stamp the server gave it (ROVE_SEQ_GIVEN). "Ahead" is
 * measured against the wall clock or, if that is behind, the clock as it
 * was when the server started (the stamps it had given, which a replica
 * sends again after a restore), never against the clock now: else each
 * accepted stamp would let the next one go further. A stamp from a clock
 * that was never set (before ROVE_MIN_STAMP_MS) is replaced too: it
 * would lose every merge, so the change would have no effect. */
static void stamp_op(rove_engine *e, rove_op *op, bool given, rove_hlc seen, rove_hlc after)
{
	/* now: the server's time, the wall clock's and never back (a wall
	 * clock set back does not take it back; no client's stamp moves
	 * it). Measured against the wall alone, the stamps the server gave
	 * while its wall ran days ahead counted as a client's days ahead
	 * once the wall was set back, and after a restore a change made
	 * after one of them was stamped anew below it (seed 944408420). */
	uint64_t wall = rove_wall_ms(), now = rove_engine_now_ms(e), start = rove_hlc_ms(e->clock_start);
	uint64_t base = start > now ? start : now, ms = rove_hlc_ms(op->st.hlc);
	uint64_t seen_ms = rove_hlc_ms(seen);
	/* Up to here a stamp is one this server's clock reached before: the
	 * clock it started with, or the newest proof of it a replica sent
	 * back (take_proof). A restored copy's clock may be hours behind the
	 * stamps it gave after the copy was taken, which the replicas that
	 * hold them send again (attack thirty-six). */
	uint64_t known = start > rove_hlc_ms(e->proven) ? start : rove_hlc_ms(e->proven);
	bool seen_ok;

	/* The clock it started with may hold a client's stamp up to the
	 * skew ahead: taken whole, each restart would let the next client
	 * go a skew further (a rep's laptop a few minutes fast, restart
	 * after restart). So the start counts up to the skew past the
	 * server's time. */
	if (base > now + ROVE_MAX_CLOCK_SKEW_MS)
		base = now + ROVE_MAX_CLOCK_SKEW_MS;
	/* A seen stamp counts within the bound a client's own stamp has (so
	 * that it takes the clock no further than a stamp could). One at or
	 * below the clock's starting millisecond counts too, as a given stamp
	 * does: while that clock is ahead of the wall, the stamps given after
	 * a restored copy share its millisecond, and it moves the millisecond
	 * nowhere. */
	seen_ok = seen_ms >= ROVE_MIN_STAMP_MS && (seen_ms <= base + ROVE_MAX_CLOCK_SKEW_MS || seen_ms <= known);

	/* A stamp at or below the clock it started with moves that clock
	 * nowhere: one the server gave or took before (a replica sends its
	 * acknowledged ops again after a restore), taken as it is however
	 * far the wall clock was set back since, so that it orders where it
	 * did (rule 8; RULES.md, "The server's time"). Past it, a stamp more
	 * than the skew ahead is a client's clock, and stamped anew.
	 *
	 * One the replica marks as given (an op accepted before, sent again
	 * after a restore with the stamp it was given) counts by its
	 * millisecond alone: while the server's clock ran ahead of the wall,
	 * the stamps it gave after the restored copy share the copy clock's
	 * millisecond with higher counters. Re-stamped in the order the
	 * replicas send them again, an earlier write could land after a
	 * later one that had seen it. A mark moves the clock's millisecond
	 * nowhere, so no client walks it forward with marks, restart after
	 * restart. */
	if (given && ms >= ROVE_MIN_STAMP_MS && ms <= known) {
		rove_hlc_observe(&e->clock, op->st.hlc, wall);
		return;
	}
	if ((ms > base + ROVE_MAX_CLOCK_SKEW_MS && op->st.hlc.v > e->clock_start.v) || ms < ROVE_MIN_STAMP_MS) {
		rove_stamp st;
		/* Stamped anew past the newest stamp the replica had pulled
		 * when it made the change: after a restore the clock may be
		 * behind a stamp the server gave, until the replica holding it
		 * sends it again, and the change made after it would land
		 * before it (rule 8). */
		if (seen_ok)
			rove_hlc_observe(&e->clock, seen, wall);
		st = (rove_stamp){rove_hlc_tick(&e->clock, wall), op->st.node};
		rove_op_restamp(op, st);
		return; /* past the clock, and so past every stamp kept */
	}
	rove_hlc_observe(&e->clock, op->st.hlc, wall);
	/* A change at or below what it was made after is stamped anew past
	 * it (rule 8): its replica's earlier changes that the server stamped
	 * past the replica's clock - the seen stamp, which a replica raises
	 * to the newest stamp the server gave its acknowledged ops, or an
	 * earlier op of the same push (push_floor), whose answer was lost.
	 * A replica's own seen stamp is below its change's (its clock
	 * follows what it pulls), so this takes only those. Not one marked
	 * given: it keeps the stamp it was given, which others may have
	 * seen, wherever it comes in the push (a release took the server's
	 * stamp, below its author's edit before it). */
	if (given)
		return;
	if (seen_ok && seen.v > after.v)
		after = seen;
	if (op->st.hlc.v <= after.v) {
		rove_hlc_observe(&e->clock, after, wall);
		rove_op_restamp(op, (rove_stamp){rove_hlc_tick(&e->clock, wall), op->st.node});
	}
}

/* ---- scope index ---- */

static bool scopes_have(const rove_scopes *s, const char *scope)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (strcmp(s->s[i], scope) == 0)
			return true;
	return false;
}

static bool scopes_equal(const rove_scopes *a, const rove_scopes *b)
{
	if (a->n != b->n)
		return false;
	for (uint32_t i = 0; i < a->n; i++)
		if (!scopes_have(b, a->s[i]))
			return false;
	return true;
}

/* scopelog: the op at seq under every scope it touched. */
static int index_op(rove_engine *e, MDB_txn *txn, uint64_t seq, const rove_scopes *before,
		    const rove_scopes *after, bool moved)
{
	int rc = ROVE_OK;

	for (uint32_t i = 0; rc == ROVE_OK && i < after->n; i++)
		rc = rove_store_scopelog_put(&e->st, txn, after->s[i], seq,
					     moved && !scopes_have(before, after->s[i]) ? ROVE_SCOPELOG_ENTERED
											: ROVE_SCOPELOG_IN);
	for (uint32_t i = 0; rc == ROVE_OK && i < before->n; i++)
		if (!scopes_have(after, before->s[i]))
			rc = rove_store_scopelog_put(&e->st, txn, before->s[i], seq, ROVE_SCOPELOG_LEFT);
	return rc;
}

/* scoperec: drops a record's entries from the scopes it left, and puts
 * its entries under the scopes it is in after: with bytes (the record as
 * stored) under those that hold copies (the policy's choice), under every
 * one of them when the record was just written (refresh: a copy is put
 * again with each write of its record), under the ones it entered when it
 * was not (a moved family's child: its copies elsewhere are current). */
static int index_record(rove_engine *e, MDB_txn *txn, const uint8_t reckey[ROVE_RECORD_KEY],
			const rove_scopes *before, const rove_scopes *after, const MDB_val *bytes, bool refresh)
{
	int rc = ROVE_OK;

	for (uint32_t i = 0; rc == ROVE_OK && i < before->n; i++)
		if (!scopes_have(after, before->s[i]))
			rc = rove_store_scoped_del(&e->st, txn, before->s[i], reckey);
	for (uint32_t i = 0; rc == ROVE_OK && i < after->n; i++) {
		bool entered = !scopes_have(before, after->s[i]);
		bool copy = rove_policy_scope_copies(after->s[i]);
		if (entered || (refresh && copy))
			rc = rove_store_scoped_put(&e->st, txn, after->s[i], reckey, copy ? bytes : NULL);
	}
	return rc;
}

/* A record that moved takes its live children along, each with its bytes
 * (copied: LMDB's are valid only until the next write). A deleted child
 * (a tombstone: in no scope) stays out of every one. */
typedef struct move_ctx {
	rove_engine *e;
	MDB_txn *txn;
	const rove_scopes *before, *after;
	rove_buf bytes;
} move_ctx;

static int move_child(const uint8_t child[ROVE_RECORD_KEY], void *arg)
{
	move_ctx *m = arg;
	static const rove_scopes none = {0};
	MDB_val raw;
	bool deleted = false;
	int rc = rove_store_record_raw(&m->e->st, m->txn, child, &raw);

	if (rc == ROVE_OK && rove_record_raw_deleted(raw.mv_data, raw.mv_size, &deleted) != ROVE_OK) {
		rove_error("corrupt record in the store");
		return ROVE_EPROTO;
	}
	if (rc == ROVE_ENOTFOUND || deleted) /* gone, or listed but not there */
		return index_record(m->e, m->txn, child, m->before, &none, NULL, false);
	rove_buf_reset(&m->bytes);
	if (rc == ROVE_OK)
		rc = rove_buf_append(&m->bytes, raw.mv_data, raw.mv_size);
	if (rc != ROVE_OK)
		return rc;
	raw.mv_data = m->bytes.data;
	return index_record(m->e, m->txn, child, m->before, m->after, &raw, false);
}

static int index_children(rove_engine *e, MDB_txn *txn, const uint8_t parent[ROVE_RECORD_KEY],
			  const rove_scopes *before, const rove_scopes *after)
{
	move_ctx m = {.e = e, .txn = txn, .before = before, .after = after};
	int rc;

	rove_buf_init(&m.bytes);
	rc = rove_store_each_child(&e->st, txn, parent, 0, move_child, &m);
	rove_buf_free(&m.bytes);
	return rc;
}

/* A new record of a collection that belongs to another (the schema's
 * parent) is listed under its parent record. */
static int index_child_of(rove_engine *e, MDB_txn *txn, const rove_record *rec)
{
	const rove_coll_def *c = rove_schema_coll(rec->coll);
	const rove_field_def *pf = c ? rove_schema_parent_field(c) : NULL;
	const char *pid = pf ? rove_fields_str(&rec->fs, pf->name) : NULL;
	uint8_t parent[ROVE_RECORD_KEY], child[ROVE_RECORD_KEY];
	rove_uuid id;

	if (pid == NULL || rove_uuid_parse(pid, &id) != ROVE_OK)
		return ROVE_OK;
	rove_record_key(parent, c->parent, &id);
	rove_record_key(child, rec->coll, &rec->id);
	return rove_store_child_put(&e->st, txn, parent, child);
}

/* ---- applying ops ---- */

/* snprintf(dst, size, "%s", src) without the format's cost: the author
 * and the detail of every applied op. */
static void copy_cut(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	ROVE_ASSERT(size > 0);
	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

rove_policy_ctx rove_engine_policy(rove_engine *e, MDB_txn *txn)
{
	rove_policy_ctx pc = {&e->st, &e->ps, txn, rove_engine_now_ms(e), txn == e->st.batch ? &e->memo : NULL, false, {0}};

	return pc;
}

rove_policy_ctx rove_engine_policy_read(rove_engine *e, MDB_txn *txn)
{
	rove_policy_ctx pc = {&e->st, &e->ps, txn, rove_wall_ms(), NULL, false, {0}};

	return pc;
}

/* Answers op with a refusal (r->detail already written) and keeps it,
 * listed where the policy says who may see it. */
static int reject(rove_engine *e, MDB_txn *txn, const rove_user *u, rove_op *op, const rove_record *cur,
		  int reason, rove_apply_work *w, rove_push_result *r)
{
	rove_policy_ctx pc = rove_engine_policy(e, txn);
	int rc;

	ROVE_ASSERT(reason > ROVE_R_NONE && reason < ROVE_R_COUNT);
	r->status = ROVE_PUSH_REJECTED;
	r->reason = (uint8_t)reason;
	rc = rove_policy_refusal_scopes(&pc, u, op, cur, &w->rscopes);
	w->rscopes.apart = rove_policy_refusal_apart(reason);
	/* Kept as sent: the fields pushed, not the ones the rules added or
	 * changed before refusing it (listed above by the op as adjusted,
	 * which names its territory where the server filled it in). */
	if (rc == ROVE_OK && w->pushed != NULL)
		rc = rove_fields_copy(&op->fs, w->pushed);
	if (rc == ROVE_OK)
		rc = rove_store_reject_put(&e->st, txn, op, reason, r->detail, pc.now_ms, &w->rscopes, &w->scratch);
	return rc;
}

/* Applies one op that passed (or skipped) the decision. */
static int apply_accepted(rove_engine *e, MDB_txn *txn, const rove_user *u, rove_op *op, bool exists,
			  const rove_record *hint, rove_apply_work *w, rove_push_result *r)
{
	rove_policy_ctx pc = rove_engine_policy(e, txn);
	uint8_t reckey[ROVE_RECORD_KEY];
	MDB_val stored;
	bool moved;
	int rc;

	w->before.n = 0;
	if (exists) {
		rc = rove_policy_scopes(&pc, &w->cur, hint, &w->before);
		if (rc != ROVE_OK)
			return rc;
		rc = rove_fields_copy(&w->rec.fs, &w->cur.fs);
		if (rc != ROVE_OK)
			return rc;
	} else {
		rove_fields_init(&w->rec.fs);
	}
	rc = rove_record_apply(&w->rec, op, NULL);
	if (rc == ROVE_ETOOBIG) {
		snprintf(r->detail, sizeof(r->detail), "the record would exceed its size limit");
		return reject(e, txn, u, op, exists ? &w->cur : NULL, ROVE_R_INVALID, w, r);
	}
	if (rc != ROVE_OK)
		return rc;
	rc = rove_policy_scopes(&pc, &w->rec, hint, &w->after);
	if (rc != ROVE_OK)
		return rc;
	moved = exists && !scopes_equal(&w->before, &w->after);
	rove_record_key(reckey, w->rec.coll, &w->rec.id);
	rc = rove_store_record_put(&e->st, txn, &w->rec, &stored);
	if (rc == ROVE_OK)
		rc = rove_store_oplog_append(&e->st, txn, op, &e->head, &w->scratch);
	if (rc == ROVE_OK)
		rc = index_op(e, txn, op->seq, &w->before, &w->after, moved);
	if (rc == ROVE_OK)
		rc = index_record(e, txn, reckey, &w->before, &w->after, &stored, true);
	if (rc == ROVE_OK && moved)
		rc = index_children(e, txn, reckey, &w->before, &w->after);
	if (rc == ROVE_OK && !exists)
		rc = index_child_of(e, txn, &w->rec);
	if (rc != ROVE_OK)
		return rc;
	r->status = ROVE_PUSH_ACCEPTED;
	r->detail[0] = '\0';
	r->seq = op->seq;
	r->st = op->st;
	return ROVE_OK;
}

/* What applies the policy's follow-up ops of one op (rove_follow_fn). */
typedef struct follow_ctx {
	rove_engine *e;
	MDB_txn *txn;
	const rove_user *u;
	const rove_record *parent; /* the record the op wrote: maybe their parent */
	rove_apply_work *w;        /* the level above's: w->next is theirs */
	int depth;                 /* theirs */
} follow_ctx;

static int follow_up(rove_engine *e, MDB_txn *txn, const rove_user *u, const rove_op *op,
		     const rove_record *before, rove_apply_work *w, int depth);

/* Applies one follow-up op as the server (its own, final: no decision),
 * then its own follow-ups. Its id derives from the op it follows (the
 * policy's), so the op's retry makes the same. */
static int apply_follow(void *arg, rove_op *f)
{
	follow_ctx *fc = arg;
	rove_apply_work *w;
	rove_push_result fr;
	bool exists;
	int rc;

	/* A follow-up of a follow-up of ... : the policy's own bound. */
	ROVE_ASSERT(fc->depth <= ROVE_MAX_FOLLOW_DEPTH);
	if (fc->w->next == NULL && (fc->w->next = rove_apply_work_new()) == NULL)
		return ROVE_ENOMEM;
	w = fc->w->next;
	memset(&fr, 0, sizeof(fr));
	copy_cut(f->author, sizeof(f->author), fc->u->name);
	f->seq = 0;
	rove_op_restamp(f, rove_engine_stamp(fc->e));
	rc = rove_store_record_get(&fc->e->st, fc->txn, f->coll, &f->rid, &w->cur);
	if (rc != ROVE_OK && rc != ROVE_ENOTFOUND)
		return rc;
	exists = rc == ROVE_OK;
	w->rec.coll = f->coll;
	w->rec.id = f->rid;
	rc = apply_accepted(fc->e, fc->txn, fc->u, f, exists, fc->parent, w, &fr);
	if (rc == ROVE_OK && fr.status != ROVE_PUSH_ACCEPTED)
		rc = ROVE_EINVAL; /* the server's own op does not fit a record: a defect */
	if (rc == ROVE_OK)
		rc = follow_up(fc->e, fc->txn, fc->u, f, exists ? &w->cur : NULL, w, fc->depth);
	return rc;
}

/* The policy's follow-ups of op (which w applied: w->rec is the record
 * after it, before the one before; op is at depth: 0 for one pushed or
 * the server's own, 1 for a follow-up of it...), applied at depth + 1. */
static int follow_up(rove_engine *e, MDB_txn *txn, const rove_user *u, const rove_op *op,
		     const rove_record *before, rove_apply_work *w, int depth)
{
	rove_policy_ctx pc = rove_engine_policy(e, txn);
	follow_ctx fc = {e, txn, u, &w->rec, w, depth + 1};

	return rove_policy_after(&pc, u, op, before, &w->rec, apply_follow, &fc);
}

/* Whether cur (a record op would create, held already) has the owner op
 * names - true of all but customers, and of a create naming none (a
 * rep's own: the owner may have changed since by the rules). */
static bool same_owner(const rove_op *op, const rove_record *cur)
{
	const char *held = rove_fields_str(&cur->fs, "owner"), *named;

	if (op->coll != ROVE_COLL_CUSTOMER || rove_fields_get(&op->fs, "owner") == NULL)
		return true;
	named = rove_fields_str(&op->fs, "owner"); /* NULL: the pool */
	return held == NULL || named == NULL ? held == named : strcmp(held, named) == 0;
}

/* Whether a field of rec holds the write stamped st. */
static bool holds_stamp(const rove_record *rec, rove_stamp st)
{
	for (uint32_t i = 0; i < rec->fs.n; i++)
		if (rove_stamp_cmp(&rec->fs.f[i].st, &st) == 0)
			return true;
	return false;
}

int rove_apply_op(rove_engine *e, MDB_txn *txn, const rove_user *u, rove_op *op, bool system,
		  rove_apply_work *w, rove_push_result *r)
{
	rove_policy_ctx pc;
	bool exists;
	int reason = ROVE_R_NONE;
	bool given = op->seq == ROVE_SEQ_GIVEN;
	rove_hlc seen = {op->seq >= ROVE_SEQ_SEEN_MIN ? op->seq : 0};
	int rc;

	copy_cut(op->author, sizeof(op->author), u->name);
	op->seq = 0;
	if (system)
		rove_op_restamp(op, rove_engine_stamp(e)); /* the server's own op */
	else
		stamp_op(e, op, given, seen, w->newer_than);
	pc = rove_engine_policy(e, txn);
	pc.resent = given;
	pc.seen = seen;
	rc = rove_store_record_get(&e->st, txn, op->coll, &op->rid, &w->cur);
	if (rc != ROVE_OK && rc != ROVE_ENOTFOUND)
		return rc;
	exists = rc == ROVE_OK;
	w->rec.coll = op->coll;
	w->rec.id = op->rid;
	if (!system) {
		if (rove_schema_clean_op(op, r->detail, sizeof(r->detail)) != ROVE_OK) {
			reason = ROVE_R_INVALID;
		} else {
			/* A storage error here aborts the request: it is not an
			 * answer, and nothing about the op is kept. */
			rc = rove_policy_check(&pc, u, op, exists ? &w->cur : NULL, &w->verdict);
			if (rc != ROVE_OK)
				return rc;
			reason = w->verdict.reason;
			copy_cut(r->detail, sizeof(r->detail), w->verdict.detail);
			if (reason == ROVE_R_NONE && w->verdict.server_stamp) {
				rove_stamp st = {rove_engine_stamp(e).hlc, op->st.node};
				rove_op_restamp(op, st);
			}
		}
		/* A create sent again after a restore (given) of a record made
		 * already - another replica holding it sent it first - is done:
		 * its replica drops the answer, and no refusal is kept. Not a
		 * customer held by another owner than the create names and
		 * with no field of the create's write (its author's create
		 * sent again keeps its stamp; a claim since changes the owner
		 * alone): someone else made one under its id since the restore
		 * (attack fifty-seven: a rep who knew the id of a customer the
		 * restore lost took it so), which is said and kept. */
		if (reason == ROVE_R_INVALID && given && op->kind == ROVE_OP_CREATE && exists &&
		    strcmp(r->detail, ROVE_DETAIL_EXISTS) == 0) {
			if (!same_owner(op, &w->cur) && !holds_stamp(&w->cur, op->st)) {
				copy_cut(r->detail, sizeof(r->detail), ROVE_DETAIL_EXISTS_OTHER);
				return reject(e, txn, u, op, &w->cur, reason, w, r);
			}
			r->status = ROVE_PUSH_REJECTED;
			r->reason = (uint8_t)reason;
			return ROVE_OK;
		}
		if (reason != ROVE_R_NONE)
			return reject(e, txn, u, op, exists ? &w->cur : NULL, reason, w, r);
	}
	rc = apply_accepted(e, txn, u, op, exists, NULL, w, r);
	if (rc != ROVE_OK || r->status != ROVE_PUSH_ACCEPTED)
		return rc;
	return follow_up(e, txn, u, op, exists ? &w->cur : NULL, w, 0);
}

/* What one push's answers say of how their ops were kept: the lists
 * (rove_enc_kept) one after another in buf, each answer's at its offset
 * (the buffer moves as it grows: pointed at once it is whole). */
typedef struct push_kept {
	rove_buf buf;
	rove_fields *pushed; /* the op as pushed, before the rules adjust it */
	size_t *at;
} push_kept;

/* Notes in k how the server kept accepted op i (as kept, against pushed):
 * what the replica needs to hold it as the oplog does, so that its pulls
 * may send it by reference (rove_enc_entry_mine). */
static int kept_note(push_kept *k, uint32_t i, const rove_fields *kept, rove_push_result *r)
{
	size_t at = k->buf.len;
	int rc = rove_enc_kept(&k->buf, k->pushed, kept, &r->kept_known);

	k->at[i] = at;
	r->keptlen = (uint32_t)(k->buf.len - at);
	return rc;
}

/* A push's ops come in the order their replica made them, and each must
 * order after the ones before it (rule 8), whatever stamp the server gave
 * those: one stamped anew past the replica's clock, whose answer was lost
 * (roved killed after the commit), comes again in the same push as the
 * changes made after it. *floor: the newest stamp an earlier op of the
 * push has; a later one at or below it is stamped anew past it
 * (stamp_op's after). Not an op the policy stamps on arrival: that stamp
 * says when it came (rove_policy_stamped_on_arrival). */
static void push_floor(rove_hlc *floor, rove_hlc st)
{
	if (st.v > floor->v)
		*floor = st;
}

/* A proof of this server's clock a replica sent back (proof.h): past the
 * newest one taken, and made under this database's key, it is where the
 * clock was before, which a restored copy's clock may be far behind:
 * stamps up to it are taken as this server's (stamp_op). The clock
 * itself is not moved: the stamps the replicas send again move it. One
 * that does not check (a copy from before the keys, a forgery) is
 * ignored. */
static void take_proof(rove_engine *e, const rove_proof *p)
{
	uint64_t ms = rove_hlc_ms(p->hlc);

	if (p->hlc.v <= e->proven.v || p->hlc.v <= e->clock_start.v)
		return; /* nothing new: the MAC is not computed */
	ROVE_ASSERT(ms < ROVE_MAX_WALL_MS); /* the decoder refuses one at or past it */
	if (ms < ROVE_MIN_STAMP_MS || !rove_proof_valid(e->proof_key, e->st.node, p)) {
		rove_debug("a proof of the clock that does not check, ignored");
		return;
	}
	e->proven = p->hlc;
}

/* Decides, stores and answers one pushed op (the i-th), once per op id. */
static int push_one(rove_engine *e, MDB_txn *txn, const rove_user *u, rove_op *op, rove_apply_work *w,
		    push_kept *k, rove_hlc *floor, uint32_t i, rove_push_result *r)
{
	int rc;

	memset(r, 0, sizeof(*r));
	r->op_id = op->op_id;
	rc = rove_store_opid_get(&e->st, txn, &op->op_id, r);
	if (rc == ROVE_OK) {
		r->seen = true;
		if (r->status != ROVE_PUSH_ACCEPTED)
			return ROVE_OK;
		/* Answered before: how it was kept, from the oplog (unless
		 * compaction dropped it: then no pull sends it again). */
		MDB_val raw;
		rove_hlc kept = r->st.hlc;
		rc = rove_fields_copy(k->pushed, &op->fs);
		if (rc == ROVE_OK)
			rc = rove_store_oplog_get(&e->st, txn, r->seq, op, &raw);
		/* The replica's ops after it in this push were made after it
		 * (push_floor). */
		if ((rc == ROVE_OK && strcmp(op->author, u->name) == 0 && !rove_policy_stamped_on_arrival(op)) ||
		    rc == ROVE_ENOTFOUND)
			push_floor(floor, kept);
		if (rc == ROVE_ENOTFOUND)
			return ROVE_OK;
		if (rc == ROVE_OK && strcmp(op->author, u->name) != 0) {
			/* Another user's op id: that op's answer (its place,
			 * stamp and values) is not this user's to learn, and
			 * this op is not done. */
			rove_uuid id = r->op_id;
			rove_info("push by %s: the id of another user's op, refused", ROVE_LOG_NAME(u->name));
			memset(r, 0, sizeof(*r));
			r->op_id = id;
			r->status = ROVE_PUSH_REJECTED;
			r->reason = ROVE_R_FORBIDDEN;
			return ROVE_OK;
		}
		return rc == ROVE_OK ? kept_note(k, i, &op->fs, r) : rc;
	}
	if (rc != ROVE_ENOTFOUND)
		return rc;
	rc = rove_fields_copy(k->pushed, &op->fs);
	w->newer_than = *floor;
	w->pushed = k->pushed;
	if (rc == ROVE_OK)
		rc = rove_apply_op(e, txn, u, op, false, w, r);
	w->newer_than.v = 0;
	w->pushed = NULL;
	if (rc == ROVE_OK && r->status == ROVE_PUSH_ACCEPTED && !rove_policy_stamped_on_arrival(op))
		push_floor(floor, r->st.hlc);
	if (rc == ROVE_OK)
		rc = rove_store_opid_put(&e->st, txn, r);
	if (rc == ROVE_OK && r->status == ROVE_PUSH_ACCEPTED)
		rc = kept_note(k, i, &op->fs, r);
	return rc;
}

/* Milliseconds of a clock that never goes back, for the rate's
 * buckets: the server's own time (rove_engine_now_ms) stands still after
 * the wall clock was set back, and so would their refill (attack
 * seventy-eight). */
static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A user as the gate and the rate know them: a hash of the login, never
 * 0. */
static uint64_t user_key(const rove_user *u)
{
	return rove_fnv1a(ROVE_FNV_BASIS, u->name, strlen(u->name)) | 1;
}

/* What a cost takes from a bucket: no more than a whole one (a push of
 * big ops may cost more than a test's small bucket: it passes once the
 * bucket is full, or never would). */
static uint32_t cost_taken(const rove_engine *e, uint32_t cost)
{
	return cost < e->rate_burst ? cost : e->rate_burst;
}

bool rove_engine_rate_take(rove_engine *e, const rove_user *u, uint32_t n, uint32_t ops, rove_buf *reply)
{
	/* (at most ROVE_MAX_ERRMSG bytes go out: a login of 64 fits) */
	char text[2 * ROVE_MAX_ERRMSG + 1];
	uint64_t wait_ms;

	n = cost_taken(e, n);
	if (u->role == ROVE_ROLE_ADMIN || n == 0 || rove_rate_take(e->rate, user_key(u), n, mono_ms(), &wait_ms))
		return true;
	if (ops == 1)
		snprintf(text, sizeof(text),
			 "too many changes from %s in a short time (%u at once, then %u a second; a reassignment "
			 "counts each change it makes): refused; try again in about %llu s",
			 u->name, e->rate_burst, e->rate_per_s, (unsigned long long)(wait_ms + 999) / 1000);
	else
		snprintf(text, sizeof(text),
			 "too many changes from %s in a short time (%u at once, then %u a second; one per %u KiB of a "
			 "big one): none of these %u was taken; they stay pending, and a sync in about %llu s sends "
			 "them",
			 u->name, e->rate_burst, e->rate_per_s, ROVE_USER_RATE_OP_BYTES / 1024u, ops,
			 (unsigned long long)(wait_ms + 999) / 1000);
	rove_engine_error(reply, ROVE_ERATE, text);
	return false;
}

void rove_engine_rate_start_empty(rove_engine *e)
{
	rove_rate_start_empty(e->rate, mono_ms());
}

/* Gives n ops back to u's bucket (rate.h, rove_rate_refund). */
static void rate_refund(rove_engine *e, const rove_user *u, uint64_t n)
{
	if (u->role != ROVE_ROLE_ADMIN && n > 0)
		rove_rate_refund(e->rate, user_key(u), n, mono_ms());
}

void rove_engine_rate_charge(rove_engine *e, const rove_user *u, uint64_t n)
{
	if (u->role != ROVE_ROLE_ADMIN && n > 0)
		rove_rate_charge(e->rate, user_key(u), n, mono_ms());
}

/* The bytes of a push's ops, before any is read. */
static uint64_t push_bytes(const rove_msg *m)
{
	ROVE_ASSERT(m->left == m->u.push.n); /* no op read yet */
	return (uint64_t)(m->end - m->items);
}

/* What k ops of bytes in all cost their user's bucket (rove_limits.h,
 * ROVE_USER_RATE_OP_BYTES): k, or their bytes in units when more. Each
 * op's own bytes count: a share by the push's average let ops answered
 * before (refunded) carry big new ones (attack one hundred and one). */
static uint32_t push_cost(uint32_t k, uint64_t bytes)
{
	uint64_t units = (bytes + ROVE_USER_RATE_OP_BYTES - 1) / ROVE_USER_RATE_OP_BYTES;

	if (k == 0)
		return 0;
	return units > k ? (uint32_t)units : k; /* a message holds at most 8 MiB: fits */
}

/* How many of a push's ops (m's, not yet read) this server has not
 * answered before, and their bytes; all of them when one does not decode
 * (the push then fails as it would have). */
static uint32_t push_fresh(rove_engine *e, MDB_txn *txn, const rove_msg *m, uint64_t *bytes)
{
	rove_msg probe = *m; /* read from a copy: m's ops are read again */
	rove_op *op = malloc(sizeof(*op));
	rove_push_result r;
	uint32_t fresh = 0;
	int rc = op != NULL ? ROVE_OK : ROVE_ENOMEM;

	*bytes = 0;
	for (uint32_t i = 0; rc == ROVE_OK && i < m->u.push.n; i++) {
		const uint8_t *at = probe.items;
		rc = rove_msg_next_op(&probe, op);
		if (rc == ROVE_OK) {
			int got = rove_store_opid_get(&e->st, txn, &op->op_id, &r);
			if (got == ROVE_ENOTFOUND) {
				fresh++;
				*bytes += (uint64_t)(probe.items - at);
			} else if (got != ROVE_OK) {
				rc = got;
			}
		}
	}
	free(op);
	if (rc != ROVE_OK)
		*bytes = push_bytes(m);
	return rc == ROVE_OK ? fresh : m->u.push.n;
}

/* A push's ops taken from its user's rate (rate.h): true, with *charged
 * what they cost (push_cost), or false with the refusal in reply. A push
 * the bucket cannot hold whole is looked at again for the ops this
 * server answered before (sent again because their answer was lost:
 * attack seventy-eight found them charged again): those cost nothing. */
static bool push_rate_take(rove_engine *e, MDB_txn *txn, const rove_user *u, const rove_msg *m, rove_buf *reply,
			   uint32_t *charged)
{
	uint32_t n = m->u.push.n, fresh;
	uint64_t bytes = push_bytes(m);

	*charged = 0;
	if (u->role == ROVE_ROLE_ADMIN || n == 0)
		return true;
	if (rove_engine_rate_take(e, u, push_cost(n, bytes), n, reply)) {
		*charged = cost_taken(e, push_cost(n, bytes));
		return true;
	}
	fresh = push_fresh(e, txn, m, &bytes);
	if (fresh < n && (fresh == 0 || rove_engine_rate_take(e, u, push_cost(fresh, bytes), n, reply))) {
		rove_buf_reset(reply); /* the refusal written above */
		*charged = cost_taken(e, push_cost(fresh, bytes));
		return true;
	}
	return false;
}

static int handle_push(rove_engine *e, MDB_txn *txn, const rove_user *u, rove_job *job)
{
	rove_msg *m = &job->msg;
	const rove_seen *seen = &m->u.push.seen;
	rove_push_result *res = NULL;
	rove_op *op;
	rove_apply_work *w;
	push_kept k;
	rove_hlc floor = {0}; /* the newest stamp of an earlier op of this push */
	rove_proof clock = {{0}, {0}};
	uint32_t n = m->u.push.n, charged = 0, again = 0; /* again: ops answered before */
	uint64_t bytes = push_bytes(m), again_bytes = 0, beside = 0;
	int rc = ROVE_OK;

	/* The decoder let through only a push within its limits. */
	ROVE_ASSERT(m->type == ROVE_MSG_PUSH && n <= ROVE_MAX_PUSH_OPS);
	if (seen->server != 0 && seen->server != e->st.node) {
		rove_engine_error(&job->reply, ROVE_EWRONGSERVER,
				  "this replica syncs with another server; nothing was changed");
		return ROVE_OK;
	}
	/* A replica's pending ops follow what it has seen: pushed onto a
	 * history that lacks it (a restored copy), they could refer to what
	 * is not there. The replica sends its acknowledged ops first. */
	if ((seen->seq != 0 && !rove_engine_history_has(e, &seen->run, seen->seq, e->head)) ||
	    (seen->ack_seq != 0 && !rove_engine_history_has(e, &seen->ack_run, seen->ack_seq, e->head))) {
		rove_engine_error(&job->reply, ROVE_EHISTORY,
				  "this server's history is not the one the replica synced with");
		return ROVE_OK;
	}
	/* A user's changes in a while (rate.h): admins load data. */
	if (!push_rate_take(e, txn, u, m, &job->reply, &charged))
		return ROVE_OK;
	take_proof(e, &seen->clock);
	op = malloc(sizeof(*op));
	w = rove_apply_work_new();
	rove_buf_init(&k.buf);
	k.pushed = malloc(sizeof(*k.pushed));
	k.at = NULL;

	if (op == NULL || w == NULL || k.pushed == NULL)
		rc = ROVE_ENOMEM;
	if (rc == ROVE_OK && n > 0) {
		res = calloc(n, sizeof(*res));
		k.at = calloc(n, sizeof(*k.at));
		if (res == NULL || k.at == NULL)
			rc = ROVE_ENOMEM;
	}
	for (uint32_t i = 0; rc == ROVE_OK && i < n; i++) {
		const uint8_t *at = m->items;
		uint64_t head = e->head;
		rc = rove_msg_next_op(m, op);
		if (rc == ROVE_OK)
			rc = push_one(e, txn, u, op, w, &k, &floor, i, &res[i]);
		if (rc == ROVE_OK && res[i].seen) /* answered before: its bytes go back below */
			again_bytes += (uint64_t)(m->items - at);
		/* an op writes itself and its ownership entry (a create, a
		 * claim, a release); more is written beside it */
		if (rc == ROVE_OK && e->head - head > ROVE_OP_WRITES_OWN)
			beside += e->head - head - ROVE_OP_WRITES_OWN;
	}
	for (uint32_t i = 0; rc == ROVE_OK && i < n; i++)
		res[i].kept = res[i].kept_known ? (const uint8_t *)k.buf.data + k.at[i] : NULL;
	/* A push that sent a proof gets one: the clock past every stamp it
	 * was given, or the proof taken when later (its own, which it
	 * checked), so that the answer's is below the one sent only when
	 * that one did not check: the replica then keeps this server's
	 * instead (attack forty: one made under a key since replaced, or
	 * given by a faulty server, was kept for good). */
	if (rc == ROVE_OK && seen->clock.hlc.v != 0)
		rc = rove_proof_make(e->proof_key, e->st.node, e->proven.v > e->clock.v ? e->proven : e->clock, &clock);
	if (rc == ROVE_OK) {
		rove_buf_reset(&job->reply);
		rc = rove_enc_push_reply_proof(&job->reply, e->st.node, &e->runs[e->nruns - 1].id, &clock, res, n);
	}
	for (uint32_t i = 0; rc == ROVE_OK && i < n; i++) {
		if (!res[i].seen)
			job->ops[res[i].reason]++;
		else
			again++;
	}
	/* What the ops wrote beside themselves (a claim moves the
	 * customer's open deals, and each move is pulled by every replica
	 * in scope) is charged once done, as a reassignment's is: attack
	 * one hundred and two passed a customer with 1,000 open deals back
	 * and forth by claims and releases, 3,000 ops a second for a claim
	 * charged as one. */
	if (rc == ROVE_OK && beside > 0)
		rove_engine_rate_charge(e, u, beside);
	/* Ops answered before (sent again after a lost answer) wrote
	 * nothing: what was taken for them goes back; the new ones cost
	 * what they would alone. */
	if (rc == ROVE_OK) {
		uint32_t cost = cost_taken(e, push_cost(n - again, bytes - again_bytes));
		if (charged > cost)
			rate_refund(e, u, charged - cost);
	}
	free(res);
	free(op);
	free(k.pushed);
	free(k.at);
	rove_buf_free(&k.buf);
	rove_apply_work_free(w);
	return rc;
}

/* ---- requests ---- */

static int handle_pull(rove_engine *e, MDB_txn *txn, const rove_user *u, rove_job *job)
{
	return rove_pull(e, txn, u, &job->msg.u.pull, job->lean, &job->reply);
}

static int handle_admin(rove_engine *e, MDB_txn *txn, const rove_user *u, rove_job *job)
{
	return rove_admin(e, txn, u, &job->msg, &job->reply);
}

static int handle_conflicts(rove_engine *e, MDB_txn *txn, const rove_user *u, rove_job *job)
{
	return rove_conflicts(e, txn, u, &job->msg.u.conflicts, job->lean, &job->reply);
}

/* Every request the server answers, by type (proto.h's table says which
 * types are requests; test_engine checks that each has a row here). */
static const rove_request requests[ROVE_MSG_TYPE_MAX + 1] = {
	/* write, auth, act, handle, sync */
	[ROVE_MSG_PUSH] = {true, true, 0, handle_push, true},
	[ROVE_MSG_PULL] = {false, true, 0, handle_pull, true},
	[ROVE_MSG_ADMIN] = {true, true, 0, handle_admin, false},
	[ROVE_MSG_CONFLICTS] = {false, true, ROVE_ACT_CONFLICTS, handle_conflicts, false},
};

const rove_request *rove_engine_request(int type)
{
	if (type < 0 || type > ROVE_MSG_TYPE_MAX || requests[type].handle == NULL)
		return NULL;
	return &requests[type];
}

const rove_request *rove_engine_accept(rove_job *job, const void *data, size_t len)
{
	const rove_request *rq;
	uint64_t version;
	int rc = rove_msg_decode(data, len, &job->msg);

	if (rc == ROVE_EVERSION && rove_msg_version(data, len, &version) == ROVE_OK) {
		/* Said in the client's own version, so that an older or newer
		 * rove can show why. */
		char text[ROVE_MAX_ERRMSG + 1];
		snprintf(text, sizeof(text),
			 "unsupported protocol version %llu: this server speaks protocol %u; install the rove "
			 "that goes with this roved",
			 (unsigned long long)version, (unsigned)ROVE_PROTO_VERSION);
		rove_buf_reset(&job->reply);
		if (rove_enc_error_in(&job->reply, version, ROVE_EVERSION, text) != ROVE_OK)
			rove_engine_error(&job->reply, ROVE_EVERSION, "unsupported protocol version");
		return NULL;
	}
	if (rc != ROVE_OK) {
		rove_engine_error(&job->reply, rc,
				  rc == ROVE_EVERSION ? "unsupported protocol version" : "malformed request");
		return NULL;
	}
	rq = rove_engine_request(job->msg.type);
	if (rq == NULL)
		rove_engine_error(&job->reply, ROVE_EPROTO, "not a request");
	return rq;
}

/* Runs job's request in txn: what its row asks for first - the user's
 * credentials, the role's right - then its handler. A refusal of the
 * role is the answer (ROVE_EPERM), not a failure. *ran: whether the
 * handler ran (before it, nothing is written). */
static int run_request(rove_engine *e, MDB_txn *txn, const rove_request *rq, rove_job *job, bool *ran)
{
	rove_user u, *user = NULL;
	rove_verdict v;
	int rc;

	if (rq->auth && rove_admin_replay(e, txn, &job->msg, &job->reply) == ROVE_OK)
		return ROVE_OK; /* done once already: its kept answer */
	if (rq->auth) {
		rc = authenticate(e, txn, &job->msg.auth, &job->peer, &u);
		if (rc == ROVE_EPERM) {
			char text[ROVE_MAX_ERRMSG + 1];
			snprintf(text, sizeof(text), "user '%s' is disabled; ask an admin", u.name);
			rove_engine_error(&job->reply, ROVE_EPERM, text);
			return ROVE_OK;
		}
		if (rc != ROVE_OK)
			return rc;
		job->authed = true;
		job->user = user_key(&u);
		user = &u;
		if (!job->lean && job->lean_for != NULL)
			job->lean = job->lean_for(job->lean_arg, job->user);
		/* Once a minute at most per user: a sync with nothing to do
		 * writes nothing (the writer stores the note later). */
		if (rq->sync) {
			uint64_t now = rove_wall_ms();
			if (now > u.synced_ms + ROVE_SYNC_NOTE_MS)
				rove_seen_note_sync(e->seen, u.name, now);
		}
	}
	if (rq->act != 0) {
		ROVE_ASSERT(user != NULL);
		rc = rove_policy_may(user, rq->act, &v);
		if (rc != ROVE_OK)
			return rc;
		if (v.reason != ROVE_R_NONE) {
			rove_engine_error(&job->reply, ROVE_EPERM, v.detail);
			return ROVE_OK;
		}
	}
	*ran = true;
	return rq->handle(e, txn, user, job);
}

/* One attempt at a batch. ROVE_EMAPFULL (nothing written) if the map
 * filled up anywhere; other failures are in the jobs' replies.
 *
 * A request that fails is undone, the others kept. With nested, each
 * request runs in a nested transaction of its own, the way to undo one;
 * but a nested transaction copies every page it writes that the batch
 * had written already, and merges its list of pages into the batch's:
 * about 5 % of the writer's time under a push load. So a batch runs
 * first without (nested false), each request straight in the batch's
 * transaction: a request that fails before its handler ran has written
 * nothing and is simply answered, while one that fails in its handler
 * undoes the whole batch and sets *again, for the caller to run it once
 * more with nested, as rare as a storage error. early[i]: job i's failure
 * before its handler, kept from the first attempt and answered again
 * without running it (its failed login counted once); 0 for none. */
static int write_once(rove_engine *e, rove_job *const *jobs, size_t n, const rove_seen_note *notes,
		      size_t nnotes, bool nested, int *early, bool *again)
{
	MDB_txn *txn = NULL;
	engine_saved saved;
	int rc = rove_store_begin(&e->st, NULL, true, &txn);
	bool batch = rc == ROVE_OK;

	/* The requests' index puts keep their cursors until the loop ends
	 * (a nested request's go to its own transaction, as usual). */
	if (batch) {
		rove_store_batch_begin(&e->st, txn);
		rove_policy_memo_reset(&e->memo);
	}
	if (rc == ROVE_OK)
		rc = rove_store_head(&e->st, txn, &e->head);
	/* The syncs noted since the last write, first: what the requests
	 * read of users (an admin's list) is up to date. */
	if (rc == ROVE_OK)
		rc = store_notes(e, txn, notes, nnotes);
	*again = false;
	for (size_t i = 0; rc == ROVE_OK && i < n; i++) {
		rove_job *job = jobs[i];
		const rove_request *rq = rove_engine_request(job->msg.type);
		MDB_txn *child = NULL;
		uint64_t head = e->head; /* back to it if this request is undone */
		int jrc = rq != NULL && rq->write ? ROVE_OK : ROVE_EINVAL;
		bool ran = false;

		memset(job->ops, 0, sizeof(job->ops));
		if (early[i] != ROVE_OK)
			continue; /* answered in the first attempt */
		if (jrc == ROVE_OK && nested)
			jrc = rove_db_err(mdb_txn_begin(e->st.env, txn, 0, &child), "begin nested");
		if (jrc == ROVE_OK)
			jrc = run_request(e, nested ? child : txn, rq, job, &ran);
		if (jrc == ROVE_OK && nested)
			jrc = rove_db_err(mdb_txn_commit(child), "commit nested");
		else if (child != NULL)
			mdb_txn_abort(child);
		if (jrc != ROVE_OK) {
			e->head = head;
			memset(job->ops, 0, sizeof(job->ops));
		}
		if (jrc == ROVE_EMAPFULL) {
			rc = ROVE_EMAPFULL; /* the whole batch again, in a bigger map */
		} else if (jrc != ROVE_OK && !nested && ran) {
			*again = true; /* what it wrote is in txn: undo the batch */
			break;
		} else if (jrc != ROVE_OK) {
			if (!ran)
				early[i] = jrc;
			failed_reply(e, &job->reply, jrc);
		}
	}
	if (batch)
		rove_store_batch_end(&e->st);
	if (rc == ROVE_OK && *again) {
		mdb_txn_abort(txn);
		return ROVE_OK;
	}
	if (rc == ROVE_OK)
		rc = clock_save(e, txn, &saved);
	if (rc == ROVE_OK) {
		rc = rove_db_commit(txn);
		if (rc == ROVE_OK)
			clock_saved(e, &saved);
		for (size_t i = 0; rc == ROVE_OK && i < n; i++)
			if (jobs[i]->msg.type == ROVE_MSG_PUSH)
				rove_metrics_ops(jobs[i]->ops);
	} else if (txn != NULL) {
		mdb_txn_abort(txn);
	}
	if (rc != ROVE_OK && rc != ROVE_EMAPFULL) {
		for (size_t i = 0; i < n; i++)
			failed_reply(e, &jobs[i]->reply, rc);
	}
	return rc;
}

void rove_engine_write(rove_engine *e, rove_job *const *jobs, size_t n)
{
	rove_msg *start = malloc(n * sizeof(*start));
	int *early = calloc(n, sizeof(*early));
	rove_seen_note *notes = NULL;
	size_t nnotes = 0;
	int grows = 0, rc;
	bool nested = false, again = false;

	if (start == NULL || early == NULL) {
		free(start);
		free(early);
		for (size_t i = 0; i < n; i++)
			rove_engine_error(&jobs[i]->reply, ROVE_ENOMEM, rove_strerror(ROVE_ENOMEM));
		return;
	}
	for (size_t i = 0; i < n; i++)
		start[i] = jobs[i]->msg; /* the items are read again after a growth */
	if (rove_seen_take(e->seen, &notes, &nnotes) != ROVE_OK)
		nnotes = 0; /* out of memory: the notes wait for the next write */
	rc = write_once(e, jobs, n, notes, nnotes, nested, early, &again);
	while (again || grow_retry(e, rc, &grows)) {
		if (again)
			nested = true; /* a request failed in its handler */
		for (size_t i = 0; i < n; i++)
			jobs[i]->msg = start[i];
		rc = write_once(e, jobs, n, notes, nnotes, nested, early, &again);
	}
	if (rc != ROVE_OK)
		rove_seen_give_back(e->seen, notes, nnotes);
	if (rc == ROVE_EMAPFULL) {
		for (size_t i = 0; i < n; i++)
			rove_engine_error(&jobs[i]->reply, rc, "the server's storage is full");
	}
	free(notes);
	free(early);
	free(start);
}

void rove_engine_read(rove_engine *e, rove_job *job)
{
	const rove_request *rq = rove_engine_request(job->msg.type);
	MDB_txn *txn = NULL;
	int rc = rq != NULL && !rq->write ? ROVE_OK : ROVE_EINVAL;

	pthread_rwlock_rdlock(&e->map);
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_txn_begin(e->st.env, NULL, MDB_RDONLY, &txn), "begin");
	if (rc == ROVE_OK) {
		bool ran = false;
		rc = run_request(e, txn, rq, job, &ran);
		mdb_txn_abort(txn);
	}
	pthread_rwlock_unlock(&e->map);
	if (rc != ROVE_OK)
		failed_reply(e, &job->reply, rc);
}

/* The periodic rules (rove_policy_periodic): at most ROVE_MAX_TICK_OPS. */
static int periodic_ops(rove_engine *e, MDB_txn *txn, const rove_user *sys, rove_apply_work *w, bool *changed,
			size_t *n)
{
	const size_t max = ROVE_MAX_TICK_OPS;
	rove_op *ops = malloc(max * sizeof(*ops));
	int rc = ops != NULL ? ROVE_OK : ROVE_ENOMEM;

	*changed = false;
	if (rc == ROVE_OK) {
		rove_policy_ctx pc = rove_engine_policy(e, txn);
		rc = rove_policy_periodic(&pc, ops, max, n);
	}
	for (size_t i = 0; rc == ROVE_OK && i < *n; i++) {
		rove_push_result r;
		memset(&r, 0, sizeof(r));
		rc = rove_apply_op(e, txn, sys, &ops[i], true, w, &r);
	}
	free(ops);
	return rc;
}

int rove_engine_watch(rove_engine *e, rove_store_watched *w, const char **why)
{
	int rc;

	pthread_rwlock_rdlock(&e->map); /* a reader, as any */
	rc = rove_store_watch(&e->st, w, why);
	pthread_rwlock_unlock(&e->map);
	return rc;
}

int rove_engine_tick(rove_engine *e)
{
	int grows = 0, rc;

	do
		rc = system_ops_once(e, periodic_ops, "periodic rules");
	while (grow_retry(e, rc, &grows));
	return rc;
}
