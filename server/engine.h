/*
 * engine.h - the server's sync engine: answers every request (push,
 * pull, admin, conflicts) against the store.
 *
 * Generic: it validates, orders and stores ops of any collection and asks
 * the policy module for every decision about users and customers. One
 * table (rove_request) says how each type of request is served. Writes
 * (push, admin) run in batches: every request of a batch in one LMDB
 * write transaction with one durable commit (group commit), each request
 * in a nested transaction so that one failing request does not undo the
 * others. Reads (pull, conflicts) run in read transactions, concurrently.
 */
#ifndef ROVE_ENGINE_H
#define ROVE_ENGINE_H

#include "auth.h"
#include "err.h"
#include "policy.h"
#include "policy_store.h"
#include "proof.h"
#include "proto.h"
#include "rate.h"
#include "seen.h"
#include "store.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>

/* The server's clock (e->clock) stamps the server's own ops and follows
 * every stamp it accepts; it never goes back, across restarts too: it is
 * stored with the ops of each write transaction and starts from the
 * larger of the wall clock and the stored value. */
typedef struct rove_engine {
	rove_store st;
	rove_pstore ps;         /* the policy's own tables, in st's database */
	rove_policy_memo memo;  /* the writer's, for its batch (policy.h) */
	rove_hlc clock;         /* touched only by the (single) writer */
	rove_hlc clock_saved;   /* the value the database holds */
	rove_hlc clock_start;   /* the clock when this server started: what a
				 * client's stamp may be ahead of (stamp_op) */
	rove_hlc proven;        /* the writer's: the newest proof of this
				 * server's clock a replica sent back (after a
				 * restore, past clock_start; stamp_op) */
	uint8_t proof_key[ROVE_PROOF_KEY]; /* proof.h; fixed after open */
	_Atomic uint64_t now_ms; /* the latest rove_engine_now_ms: it never
				  * goes back, the wall clock set back too */
	uint64_t time_saved;    /* the writer's: the time the database holds */
	uint64_t head;          /* the writer's: the oplog head in its txn */
	pthread_rwlock_t map;   /* readers hold it shared; growing the map
				 * (no transaction may be open) takes it alone */
	rove_run *runs;         /* every run of this server's history, the
				 * last being this one; fixed after open */
	size_t nruns;
	rove_seen *seen;        /* users' syncs not stored yet (seen.h) */
	rove_rate *rate;        /* each user's changes in a while (rate.h) */
	uint32_t rate_burst, rate_per_s; /* its bounds (rove_engine_set_rate) */
	atomic_bool said_damaged; /* a request failed on stored data that does
				   * not decode: logged once */
} rove_engine;

/* One request: the decoded message (its bytes owned by the caller and
 * alive until the reply is sent), where it came from (for the limit on
 * failed logins; zeroed when unknown) and the reply the engine writes. */
typedef struct rove_job {
	rove_msg msg;
	rove_peer peer;
	rove_buf reply;
	bool authed; /* its credentials were checked, and good */
	uint64_t user; /* then, a hash of the user's login (never 0), for the gate */
	bool lean;     /* set by the caller: the server sheds, pull replies are
			* cut to ROVE_LEAN_CHUNK_BYTES (gate.h) */
	/* If set, asked once the user is known (lean not set): whether
	 * that user's replies are to be lean (gate.h, rove_gate_user_over). */
	bool (*lean_for)(void *arg, uint64_t user);
	void *lean_arg;
	uint32_t ops[ROVE_R_COUNT]; /* a push's new ops: accepted ([0]) and
				     * refused by reason, for the metrics */
} rove_job;

/* Creates a new server database in dir (refusing an existing one) with
 * one admin user, admin (a valid login, not the server's own name:
 * ROVE_EINVAL); writes the admin's token into token. */
int rove_engine_init(const char *dir, const char *admin, char token[ROVE_TOKEN_HEX + 1]);
/* Opens the database in dir and begins a new run of its history. */
int rove_engine_open(rove_engine *e, const char *dir);
/* Each user (but admins) pushes at most burst ops at once, then per_s a
 * second (rate.h; ROVE_USER_OPS_BURST and ROVE_USER_OPS_PER_S unless
 * set: a test's setting). Before serving. ROVE_ENOMEM. */
int rove_engine_set_rate(rove_engine *e, uint32_t burst, uint32_t per_s);
/* Started anew in place: every user's bucket starts as if emptied now
 * (rate.h, rove_rate_start_empty), so that a restart a client forces
 * gives no one a fresh burst (attack seventy-eight). */
void rove_engine_rate_start_empty(rove_engine *e);
/* Stores the users' syncs noted in memory (rove_engine_flush), then
 * closes. */
void rove_engine_close(rove_engine *e);

/* How the server answers one type of request: a row of engine.c's
 * requests[]. What a row asks for is checked once, before its handler
 * runs: the user's credentials and, where one type has one rule for
 * everybody, the user's role (the right to do act). The handler then
 * answers in txn, filling job->reply; it returns an error only when the
 * request fails as a whole (the caller answers ERROR with it), a refusal
 * being an answer. Requests run through rove_engine_write and
 * rove_engine_read, never by calling a handler. */
typedef struct rove_request {
	bool write; /* queued to the writer and run in its group commit, in a
		     * nested write transaction; else answered at once on
		     * the receiving thread, in a read transaction */
	bool auth;  /* needs an authenticated user (else the handler gets NULL) */
	int act;    /* rove_rules_act the user's role must allow; 0: the
		     * handler decides (per admin command, per op) */
	int (*handle)(rove_engine *e, MDB_txn *txn, const rove_user *u, rove_job *job);
	bool sync;  /* a sync (push, pull): noted as the user's last sync */
} rove_request;

/* The row for a request of type; NULL for a type the server does not
 * answer (a reply, a number that is no type). */
const rove_request *rove_engine_request(int type);
/* Decodes a request's bytes (which must outlive the job) into job->msg
 * and returns its row; NULL when job->reply holds the answer already
 * (malformed bytes, another version, not a request). */
const rove_request *rove_engine_accept(rove_job *job, const void *data, size_t len);
/* Runs write requests (rows with write set) in one transaction; fills
 * every job's reply. */
void rove_engine_write(rove_engine *e, rove_job *const *jobs, size_t n);
/* Answers a read request (a row without write); fills job->reply. */
void rove_engine_read(rove_engine *e, rove_job *job);
/* Runs the periodic rules (pool recycling) in one write transaction, at
 * most ROVE_MAX_TICK_OPS changes. Call from the writer thread only. */
int rove_engine_tick(rove_engine *e);
/* Stores the users' syncs noted in memory since the last write (every
 * write transaction stores them too): call from the writer thread at
 * least every ROVE_SYNC_NOTE_MS. Writes nothing when there are none. */
int rove_engine_flush(rove_engine *e);

/* Whether the database is still the one opened (rove_store_watch):
 * for the guard, which stops the server when it is not. */
int rove_engine_watch(rove_engine *e, rove_store_watched *w, const char **why);

/* Replaces out's contents with an error message. */
void rove_engine_error(rove_buf *out, int code, const char *text);
/* The same with the text made by vprintf (cut at ROVE_MAX_ERRMSG); for
 * the refusals of request handlers, which then answer ROVE_OK. */
void rove_engine_verror(rove_buf *out, int code, const char *fmt, va_list ap);

#endif
