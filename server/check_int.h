/*
 * check_int.h - what the parts of roved check share (check.c: the
 * driver, the oplog, scopelog, answers, refusals, users and runs;
 * check_records.c: records and their entries in the indexes). Not for
 * use outside them.
 */
#ifndef ROVE_CHECK_INT_H
#define ROVE_CHECK_INT_H

#include "policy_store.h"
#include "record.h"
#include "store.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct check {
	rove_store st;
	rove_pstore ps;
	MDB_txn *txn;
	FILE *out;
	uint64_t problems; /* all found */
	uint64_t printed;  /* of them, listed */
	/* Each kind of problem (its message), the first listed of it and
	 * how many of it were not (ROVE_MAX_CHECK_SAME). */
	struct check_kind {
		const char *fmt;
		uint64_t n, more;
		char first[160];
	} kinds[ROVE_CHECK_KINDS];
	size_t nkinds;
	uint64_t head, floor;
	uint64_t next_seq;   /* the oplog walk's: the number expected next */
	rove_record *rec;    /* scratch, one record */
	rove_record *other;  /* scratch, another */
	rove_op *op;         /* scratch */
	/* Logins, in LMDB's (byte) order: what records and ops may name. */
	char (*users)[ROVE_MAX_NAME + 1];
	size_t nusers, userscap;
	/* Each record's newest op above the floor, and the newest stamp of
	 * its ops there (an open-addressed table filled by the oplog walk;
	 * cap a power of two, key[0] 0: empty). */
	struct newest {
		uint8_t key[ROVE_RECORD_KEY];
		uint64_t seq, hlc;
	} *nw;
	size_t nwcap;
	uint64_t max_hlc;        /* the newest stamp in ops and records */
	uint64_t client_ops;     /* ops above the floor pushed by replicas */
	uint64_t answered;       /* accepted answers naming one of those */
	uint64_t server_ops;     /* ops above the floor stamped by its node */
	/* Ops pushed without an answer kept (check_answered): how many, and
	 * their node while they all share one (unanswered_one). */
	uint64_t unanswered, unanswered_node;
	bool unanswered_one;
	/* Refusals kept, by author. */
	struct rej_count {
		char author[ROVE_MAX_NAME + 1];
		uint64_t n;
	} *rej;
	size_t nrej, rejcap;
	/* The scopelog walk's last scope, and whether it names what exists. */
	char last_scope[ROVE_MAX_SCOPE_LEN + 1];
	bool last_scope_ok;
} check;

/* Writes a problem's line to c->out (the first ROVE_MAX_CHECK_PROBLEMS;
 * all are counted). */
__attribute__((format(printf, 2, 3))) void check_problem(check *c, const char *fmt, ...);
/* Bytes as text for a problem's line: printable ASCII as is, the rest as
 * \xNN (a damaged key may hold anything); out. */
const char *check_show(const void *p, size_t n, char *out, size_t outlen);
/* Whether login is a user's. */
bool check_is_user(const check *c, const char *login);
/* The newest op on the record key above the floor, as the oplog walk
 * found it; 0 if none. */
uint64_t check_nw_get(const check *c, const uint8_t key[ROVE_RECORD_KEY]);
/* The newest stamp of the ops on the record key above the floor; 0 if
 * none. */
uint64_t check_nw_hlc(const check *c, const uint8_t key[ROVE_RECORD_KEY]);

/* The walks of the records and the indexes (check_records.c), each a
 * rove_db_fn over its table with c as arg. */
int check_record(const MDB_val *k, const MDB_val *v, void *arg);
int check_scoped(const MDB_val *k, const MDB_val *v, void *arg);
int check_child(const MDB_val *k, const MDB_val *v, void *arg);
int check_uniq(const MDB_val *k, const MDB_val *v, void *arg);
int check_code(const MDB_val *k, const MDB_val *v, void *arg);
int check_bydealer(const MDB_val *k, const MDB_val *v, void *arg);

#endif
