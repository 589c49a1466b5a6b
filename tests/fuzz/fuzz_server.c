/*
 * fuzz_server.c - libFuzzer harness for the server's request handling, in
 * process: what serve.c does with a request body, against the engine and a
 * real LMDB database.
 *
 * The world. On the first run the harness creates a database in a
 * temporary directory (rove_engine_init, admin "admin") and fills it through
 * the engine itself with well-formed ADMIN and PUSH requests: territories
 * east, east.sh and east.bj (both under east) and west; users wang (rep,
 * east.sh), li (rep, east.sh and east.bj), zhao (manager, east), qian
 * (analyst) and mallory (rep, east.sh), whose tokens come from the
 * user.add replies; pool rules on east.sh and west; customers C1-C6 (an
 * owned one, pool ones, one reassigned from li to wang, one released by
 * wang), a contact, an opportunity, an activity, a dealer, a target, and
 * one refused op for the conflict list. Record ids are the fixed ones of fuzz_common.h. The
 * seeded database is kept in memory and written back (in one transaction)
 * before every run, or every N runs with ROVE_FUZZ_RESET_EVERY=N, so an
 * input always means the same and a crash replays on its own; the
 * database stays small.
 *
 * An input is up to 8 requests separated by the byte 0xc1. Each request is
 * a selector byte S and a body:
 *   S & 7   who sends it: 0 or 7 the message's own user and token; 1 admin,
 *           2 wang, 3 li, 4 zhao, 5 qian, 6 mallory (a rep) with a wrong
 *           token. The identity replaces the user and token the decoder
 *           read, so the rest of a mutated message gets past
 *           authentication.
 *   S & 8   0: the body is a whole message, decoded as serve.c does;
 *           1: the body describes a request, which the harness builds with
 *           the rove_enc_* encoders and then decodes (below).
 *   S >> 4  described requests only: 0-7 PUSH, 8-9 PULL, 10-11 CONFLICTS,
 *           12-14 ADMIN, 15 the periodic rules (rove_engine_tick).
 * Described bodies are read a byte at a time (missing bytes read as 0):
 *   PUSH       n, then n ops: kind coll rid op_id hlc nfields, then per
 *              field: name value (see build_push)
 *   PULL       cursor snap_seq snap_key(len, bytes) epoch max own
 *   CONFLICTS  after max
 *   ADMIN      command nargs, then per argument: kind, text
 *
 * The engine limits failed logins per user name and address, and per
 * address (auth.h). Requests sent as is come from another address than
 * the identities, so that fuzzing never locks the identities out; wrong
 * tokens are tried with mallory, a user no identity sends as.
 *
 * Handling is serve.c's: a body that does not decode gets an error reply,
 * a message that is not a request gets "not a request"; consecutive writes
 * (PUSH, ADMIN) go to rove_engine_write as one batch, as the writer thread
 * takes whatever is queued; reads (PULL, CONFLICTS) go to rove_engine_read.
 * Every reply the engine writes must decode, be an ERROR or the reply type
 * of the request, never report a storage or corruption error, and hold what
 * it says: a PUSH_REPLY answers every op in order, accepted ops have a
 * sequence number, refused ones a reason; conflicts come in increasing
 * numbers after the one asked for. After every input the database must
 * hold together: each record is exactly the merge of the oplog's ops on it
 * (what a replica pulling ops gets is what one taking a snapshot gets),
 * and the scope index lists each record under exactly the scopes the
 * policy puts it in (what scoped pulls send). And replication converges:
 * for one of wang, li, zhao and qian (picked by the input's bytes), a
 * replica (client/replica.c) that synced the seeded database pulls what
 * changed, in small chunks, and must then show exactly what a new replica
 * shows after a whole snapshot; both pulls must end. A broken rule aborts.
 */
#include "engine.h"
#include "err.h"
#include "fuzz_common.h"
#include "fuzz_db.h"
#include "log.h"
#include "policy.h"
#include "proto.h"
#include "replica.h"
#include "schema.h"
#include "store.h"

#include <sanitizer/common_interface_defs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail_cleanup(void);

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "fuzz_server: %s:%d: check failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                        \
			fail_cleanup();                                                        \
			abort();                                                               \
		}                                                                              \
	} while (0)

static void die(const char *what, int rc)
{
	fprintf(stderr, "fuzz_server: %s: %s\n", what, rove_strerror(rc));
	fail_cleanup();
	abort();
}

/* ---- the database ---- */

static rove_engine eng;
static bool ready;
static char dir[256];
static fz_snap tmpl; /* the seeded database */
static unsigned reset_every = 1;
static bool verbose; /* ROVE_FUZZ_VERBOSE=1: a line per reply on stderr */
static unsigned runs_since_reset;
static rove_auth creds[FZ_NIDENT];

static void engine_open(void)
{
	int rc = rove_engine_open(&eng, dir);

	if (rc != ROVE_OK)
		die("rove_engine_open", rc);
	/* Durability is not what is tested here: no fsync per commit. */
	mdb_env_set_flags(eng.st.env, MDB_NOSYNC, 1);
}

/* The store's tables (server/store.h) and the policy's (policy_store.h). */
static void store_dbis(MDB_dbi out[FZ_STORE_DBIS])
{
	const rove_store *st = &eng.st;
	const rove_pstore *ps = &eng.ps;
	const MDB_dbi d[FZ_STORE_DBIS] = {st->meta,     st->records, st->oplog,    st->opids,    st->users,
					  st->rejects,  st->rejidx,  st->scopelog, st->scoperec, st->children,
					  st->counters, st->runs,    ps->codes,    ps->uniq};

	memcpy(out, d, sizeof(d));
}

static void restore(void)
{
	MDB_dbi dbis[FZ_STORE_DBIS];

	store_dbis(dbis);
	fz_snap_restore(&tmpl, eng.st.env, dbis);
}

static void cleanup_viewers(void);

/* At exit: the databases closed, the temporary directory removed. */
static void cleanup(void)
{
	if (!ready)
		return;
	cleanup_viewers();
	rove_engine_close(&eng);
	fz_rm_tree(dir);
	fz_snap_free(&tmpl);
	ready = false;
}

/* On a failed check or a sanitizer's report: the directory removed (the
 * input is what libFuzzer keeps), the databases left as they are. */
static void fail_cleanup(void)
{
	if (dir[0] != '\0')
		fz_rm_tree(dir);
}

/* ---- one request through the engine, as serve.c handles it ---- */

typedef struct req {
	uint8_t *bytes; /* the request body, a heap copy of exactly its size */
	size_t len;
	const rove_request *rq; /* its row: the engine answers (NULL: the reply
				 * is rove_engine_accept's error) */
	bool engine;    /* rq != NULL */
	bool tick;
	rove_job job;
	rove_msg orig;  /* the decoded request before the engine ran */
} req;

static void req_init(req *r, const void *body, size_t len, unsigned ident)
{
	memset(r, 0, sizeof(*r));
	rove_buf_init(&r->job.reply);
	r->bytes = malloc(len ? len : 1);
	CHECK(r->bytes != NULL);
	if (len > 0)
		memcpy(r->bytes, body, len);
	r->len = len;
	r->rq = rove_engine_accept(&r->job, r->bytes, r->len);
	if (r->rq == NULL)
		return;
	ident %= FZ_NIDENT;
	/* The identities come from one address, requests with their own
	 * credentials from another: failed logins lock out their address
	 * (auth.h), never the identities'. */
	r->job.peer.len = 4;
	r->job.peer.b[0] = 127;
	r->job.peer.b[3] = 1;
	if (ident != FZ_AS_IS && ident != FZ_AS_IS2) {
		r->job.msg.auth = creds[ident];
	} else {
		r->job.peer.b[0] = 10;
	}
	r->orig = r->job.msg;
	r->engine = true;
}

static void req_free(req *r)
{
	rove_buf_free(&r->job.reply);
	free(r->bytes);
}

/* Errors that mean the engine broke or read back something it wrote. */
static bool internal_error(int code)
{
	return code == ROVE_EPROTO || code == ROVE_EDB || code == ROVE_EMAPFULL || code == ROVE_EIO ||
	       code == ROVE_ENOMEM || code == ROVE_EVERSION;
}

static void check_push_reply(const req *r, rove_msg *m)
{
	rove_msg q = r->orig; /* iterates the request's ops again */
	static rove_op op;
	rove_push_result res;

	CHECK(m->u.push_reply.n == q.u.push.n);
	for (uint32_t i = 0; i < m->u.push_reply.n; i++) {
		CHECK(rove_msg_next_op(&q, &op) == ROVE_OK);
		CHECK(rove_msg_next_result(m, &res) == ROVE_OK);
		CHECK(rove_uuid_cmp(&res.op_id, &op.op_id) == 0);
		if (res.status == ROVE_PUSH_ACCEPTED)
			CHECK(res.seq != 0 && res.reason == ROVE_R_NONE);
		else
			CHECK(res.reason != ROVE_R_NONE);
	}
}

/* One line about a request and its (decoded) reply. */
static void describe(const req *r, const rove_msg *reply)
{
	rove_msg m = *reply;
	rove_push_result res;

	fprintf(stderr, "fuzz_server: %s as '%s' -> %s", r->engine ? rove_msg_name(r->orig.type) : "(not a request)",
		r->engine ? r->orig.auth.user : "", rove_msg_name(reply->type));
	if (m.type == ROVE_MSG_ERROR)
		fprintf(stderr, " %s: %s", rove_strerror(m.u.error.code), m.u.error.text);
	else if (m.type == ROVE_MSG_PUSH_REPLY)
		while (rove_msg_next_result(&m, &res) == ROVE_OK)
			fprintf(stderr, " [%s%s seq %llu %s]", res.status ? "rejected " : "accepted",
				res.status ? rove_reason_name(res.reason) : "", (unsigned long long)res.seq,
				res.detail);
	else if (m.type == ROVE_MSG_PULL_REPLY)
		fprintf(stderr, " mode %u head %llu cursor %llu items %u more %d", m.u.pull_reply.mode,
			(unsigned long long)m.u.pull_reply.head, (unsigned long long)m.u.pull_reply.cursor,
			m.u.pull_reply.n, m.u.pull_reply.more);
	else if (m.type == ROVE_MSG_CONFLICTS_REPLY)
		fprintf(stderr, " %u conflicts", m.u.conflicts_reply.n);
	else if (m.type == ROVE_MSG_ADMIN_REPLY)
		fprintf(stderr, " %u lines", m.u.admin_reply.n);
	fputc('\n', stderr);
}

static void check_reply(const req *r)
{
	static rove_entry e;
	static rove_conflict c;
	const rove_buf *b = &r->job.reply;
	uint8_t *copy;
	rove_msg m;
	uint64_t last;
	const char *s;
	uint32_t len;
	int rc;

	CHECK(b->len > 0 && b->len <= ROVE_MAX_MSG_BYTES);
	copy = malloc(b->len);
	CHECK(copy != NULL);
	memcpy(copy, b->data, b->len);
	rc = rove_msg_decode(copy, b->len, &m);
	if (rc == ROVE_EVERSION) {
		/* A request in another protocol version is refused in that
		 * version, before the engine: an ERROR, [V, 1, 4, text]. */
		uint64_t v = 0;
		CHECK(rove_msg_version(copy, b->len, &v) == ROVE_OK && v != ROVE_PROTO_VERSION);
		CHECK(!r->engine && copy[0] == 0x94);
		free(copy);
		return;
	}
	if (rc != ROVE_OK)
		fprintf(stderr, "fuzz_server: the reply does not decode: %s\n", rove_strerror(rc));
	CHECK(rc == ROVE_OK);
	if (verbose)
		describe(r, &m);
	if (!r->engine) {
		CHECK(m.type == ROVE_MSG_ERROR);
		free(copy);
		return;
	}
	if (m.type == ROVE_MSG_ERROR) {
		if (internal_error(m.u.error.code))
			fprintf(stderr, "fuzz_server: engine error %s: %s\n", rove_strerror(m.u.error.code),
				m.u.error.text);
		CHECK(!internal_error(m.u.error.code));
		free(copy);
		return;
	}
	CHECK(m.type == r->orig.type + 1);
	switch (m.type) {
	case ROVE_MSG_PUSH_REPLY:
		check_push_reply(r, &m);
		break;
	case ROVE_MSG_PULL_REPLY:
		CHECK(m.u.pull_reply.role[0] != '\0');
		CHECK(m.u.pull_reply.cursor <= m.u.pull_reply.head && m.u.pull_reply.snap_seq <= m.u.pull_reply.head);
		for (uint32_t i = 0; i < m.u.pull_reply.n; i++)
			CHECK(rove_msg_next_entry(&m, &e) == ROVE_OK);
		break;
	case ROVE_MSG_CONFLICTS_REPLY:
		last = r->orig.u.conflicts.after;
		for (uint32_t i = 0; i < m.u.conflicts_reply.n; i++) {
			CHECK(rove_msg_next_conflict(&m, &c) == ROVE_OK);
			/* The client pages on these numbers: they must move on. */
			CHECK(c.n > last);
			last = c.n;
		}
		break;
	default:
		CHECK(m.type == ROVE_MSG_ADMIN_REPLY);
		for (uint32_t i = 0; i < m.u.admin_reply.n; i++)
			CHECK(rove_msg_next_str(&m, &s, &len) == ROVE_OK);
	}
	CHECK(m.left == 0);
	free(copy);
}

/* Runs reqs in order: writes in batches, reads one by one. */
static void run_reqs(req *reqs, size_t n)
{
	rove_job *batch[FZ_MAX_PARTS];
	req *breq[FZ_MAX_PARTS];
	size_t nb = 0;

	for (size_t i = 0; i <= n; i++) {
		bool write = i < n && reqs[i].engine && reqs[i].rq->write;
		if (nb > 0 && !write) {
			rove_engine_write(&eng, batch, nb);
			for (size_t k = 0; k < nb; k++)
				check_reply(breq[k]);
			nb = 0;
		}
		if (i == n)
			break;
		if (reqs[i].tick) {
			int rc = rove_engine_tick(&eng);
			if (rc != ROVE_OK)
				die("rove_engine_tick", rc);
		} else if (write) {
			breq[nb] = &reqs[i];
			batch[nb++] = &reqs[i].job;
		} else if (reqs[i].engine) {
			rove_engine_read(&eng, &reqs[i].job);
			check_reply(&reqs[i]);
		} else {
			check_reply(&reqs[i]);
		}
	}
}

/* ---- the database holds together ---- */

static bool fields_eq(const rove_fields *a, const rove_fields *b)
{
	if (a->n != b->n)
		return false;
	for (uint32_t i = 0; i < a->n; i++) {
		const rove_field *fa = &a->f[i], *fb = &b->f[i];
		if (strcmp(fa->name, fb->name) != 0 || !rove_value_eq(&fa->v, &fb->v) ||
		    rove_stamp_cmp(&fa->st, &fb->st) != 0)
			return false;
	}
	return true;
}

static void report_record(const char *what, uint8_t coll, const rove_uuid *id)
{
	char ids[ROVE_UUID_STRLEN + 1];

	rove_uuid_format(id, ids);
	fprintf(stderr, "fuzz_server: record %u/%s: %s\n", coll, ids, what);
}

/* Records = the oplog folded; scoperec = the records' scopes. */
static void check_store(void)
{
	static rove_op op;
	static rove_record rec;
	static rove_scopes scopes;
	rove_record **fold = NULL;
	size_t nfold = 0, cap = 0, nrec = 0, nindex = 0, want_index = 0;
	rove_store *st = &eng.st;
	rove_policy_ctx pc;
	MDB_cursor *c;
	MDB_val k, v;
	MDB_txn *txn;
	int mrc;

	CHECK(mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn) == 0);
	pc = (rove_policy_ctx){st, &eng.ps, txn, 0, NULL, false, {0}};
	CHECK(mdb_cursor_open(txn, st->oplog, &c) == 0);
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0; mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		size_t i;
		CHECK(rove_dec_op(v.mv_data, v.mv_size, &op) == ROVE_OK);
		for (i = 0; i < nfold; i++)
			if (fold[i]->coll == op.coll && rove_uuid_cmp(&fold[i]->id, &op.rid) == 0)
				break;
		if (i == nfold) {
			if (nfold == cap) {
				cap = cap ? 2 * cap : 64;
				fold = realloc(fold, cap * sizeof(*fold));
				CHECK(fold != NULL);
			}
			fold[nfold] = malloc(sizeof(rove_record));
			CHECK(fold[nfold] != NULL);
			rove_fields_init(&fold[nfold]->fs);
			nfold++;
		}
		CHECK(rove_record_apply(fold[i], &op, NULL) == ROVE_OK);
	}
	mdb_cursor_close(c);

	CHECK(mdb_cursor_open(txn, st->records, &c) == 0);
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0; mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		size_t i;
		CHECK(k.mv_size == ROVE_RECORD_KEY);
		CHECK(rove_dec_record(v.mv_data, v.mv_size, &rec) == ROVE_OK);
		nrec++;
		for (i = 0; i < nfold; i++)
			if (fold[i]->coll == rec.coll && rove_uuid_cmp(&fold[i]->id, &rec.id) == 0)
				break;
		if (i == nfold) {
			report_record("stored, but no op made it", rec.coll, &rec.id);
			CHECK(!"every record comes from ops");
		}
		if (!fields_eq(&fold[i]->fs, &rec.fs)) {
			report_record("differs from the merge of its ops", rec.coll, &rec.id);
			CHECK(!"records = the oplog folded");
		}
		/* The scope index has it under each of its scopes. */
		CHECK(rove_policy_scopes(&pc, &rec, NULL, &scopes) == ROVE_OK);
		for (uint32_t s = 0; s < scopes.n; s++) {
			bool listed = false;
			CHECK(rove_store_scoped_has(st, txn, scopes.s[s], k.mv_data, &listed) == ROVE_OK);
			if (!listed) {
				report_record(scopes.s[s], rec.coll, &rec.id);
				CHECK(!"the scope index lists every record under its scopes");
			}
			want_index++;
		}
	}
	mdb_cursor_close(c);
	if (nrec != nfold) {
		fprintf(stderr, "fuzz_server: %zu records, ops made %zu\n", nrec, nfold);
		CHECK(!"every op's record is stored");
	}
	/* ... and nothing more; each entry a copy of its record, in the
	 * scopes that keep copies (the policy's choice), empty elsewhere. */
	CHECK(mdb_cursor_open(txn, st->scoperec, &c) == 0);
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0; mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		MDB_val raw;
		CHECK(k.mv_size > ROVE_RECORD_KEY);
		CHECK(rove_store_record_raw(st, txn, (const uint8_t *)k.mv_data + k.mv_size - ROVE_RECORD_KEY, &raw) ==
		      ROVE_OK);
		if (!rove_policy_scope_copies(k.mv_data))
			CHECK(v.mv_size == 0 || !"a scope that keeps no copies holds one");
		else if (v.mv_size != raw.mv_size || memcmp(v.mv_data, raw.mv_data, raw.mv_size) != 0)
			CHECK(!"a scope entry holds its record's bytes, as stored");
		nindex++;
	}
	mdb_cursor_close(c);
	if (nindex != want_index) {
		fprintf(stderr, "fuzz_server: the scope index has %zu entries, the records' scopes %zu\n", nindex,
			want_index);
		CHECK(!"the scope index lists records only under their scopes");
	}
	mdb_txn_abort(txn);
	for (size_t i = 0; i < nfold; i++)
		free(fold[i]);
	free(fold);
}

/* ---- replication converges ---- */

/* Replicas of the users whose views are compared: one that synced the
 * seeded database (inc), one that never synced (fresh). */
enum { NVIEWERS = 4 };
static const unsigned viewers[NVIEWERS] = {FZ_WANG, FZ_LI, FZ_ZHAO, FZ_QIAN};

typedef struct viewer {
	char dir[2][320];
	rove_replica r[2]; /* 0: inc, 1: fresh */
	fz_snap tmpl[2];
} viewer;

static viewer views[NVIEWERS];

#define PULL_MAX_ITEMS 5 /* small chunks: resumed snapshots, more */
#define PULL_MAX_ROUNDS 200

static void replica_dbis(const rove_replica *r, MDB_dbi out[FZ_REPLICA_DBIS])
{
	const MDB_dbi d[FZ_REPLICA_DBIS] = {r->meta, r->bases[0], r->bases[1], r->view, r->outbox, r->pending, r->rejected,
					    r->journal};

	memcpy(out, d, sizeof(d));
}

/* Pulls until the server has nothing more, as sync.c does. */
static void pull_all(rove_replica *r, unsigned ident)
{
	int round;

	for (round = 0; round < PULL_MAX_ROUNDS; round++) {
		rove_pull_state ps;
		rove_pull_req q;
		rove_buf b;
		req rq;
		rove_msg m;
		uint8_t *copy;
		uint32_t items;
		bool more;
		int rc;

		CHECK(rove_replica_pull_state(r, &ps) == ROVE_OK);
		rove_pull_state_request(&ps, &r->id, PULL_MAX_ITEMS, &q);
		rove_buf_init(&b);
		CHECK(rove_enc_pull(&b, &creds[ident], &q) == ROVE_OK);
		req_init(&rq, b.data, b.len, ident);
		rove_buf_free(&b);
		CHECK(rq.engine);
		rove_engine_read(&eng, &rq.job);
		check_reply(&rq);
		copy = malloc(rq.job.reply.len);
		CHECK(copy != NULL);
		memcpy(copy, rq.job.reply.data, rq.job.reply.len);
		CHECK(rove_msg_decode(copy, rq.job.reply.len, &m) == ROVE_OK);
		if (m.type == ROVE_MSG_ERROR)
			fprintf(stderr, "fuzz_server: %s pulls: %s\n", creds[ident].user, m.u.error.text);
		CHECK(m.type == ROVE_MSG_PULL_REPLY);
		more = m.u.pull_reply.more;
		rc = rove_replica_apply_pull(r, &m, &items);
		if (rc != ROVE_OK)
			die("the replica cannot apply a pull reply", rc);
		free(copy);
		req_free(&rq);
		if (!more)
			break;
	}
	if (round == PULL_MAX_ROUNDS)
		fprintf(stderr, "fuzz_server: %s: the pull does not end\n", creds[ident].user);
	CHECK(round < PULL_MAX_ROUNDS);
}

/* What a replica shows: every visible record, encoded, in key order. */
typedef struct shown {
	rove_buf recs;  /* the records' encodings, one after the other */
	size_t *ends;   /* where each ends in recs */
	uint32_t n, cap;
} shown;

static int show_one(const rove_record *rec, void *arg)
{
	shown *sh = arg;
	int rc = rove_enc_record(&sh->recs, rec);

	if (rc != ROVE_OK)
		return rc;
	if (sh->n == sh->cap) {
		sh->cap = sh->cap ? 2 * sh->cap : 64;
		sh->ends = realloc(sh->ends, sh->cap * sizeof(*sh->ends));
		CHECK(sh->ends != NULL);
	}
	sh->ends[sh->n++] = sh->recs.len;
	return ROVE_OK;
}

static void show(rove_replica *r, shown *sh)
{
	memset(sh, 0, sizeof(*sh));
	rove_buf_init(&sh->recs);
	/* The schema's collections (the server refuses others) and some. */
	for (unsigned coll = 0; coll < 16; coll++)
		CHECK(rove_replica_each(r, (uint8_t)coll, show_one, sh) == ROVE_OK);
}

static void show_free(shown *sh)
{
	rove_buf_free(&sh->recs);
	free(sh->ends);
}

static bool shown_eq(const shown *a, const shown *b)
{
	return a->n == b->n && a->recs.len == b->recs.len &&
	       (a->recs.len == 0 || memcmp(a->recs.data, b->recs.data, a->recs.len) == 0);
}

/* Reports the first record where a and b differ. */
static void show_diff(const char *user, const shown *a, const shown *b)
{
	static rove_record rec;
	char ids[ROVE_UUID_STRLEN + 1];

	fprintf(stderr, "fuzz_server: %s: a replica that pulled the changes shows %u records, a new one %u\n", user,
		a->n, b->n);
	for (uint32_t i = 0; i < a->n || i < b->n; i++) {
		size_t sa = i > 0 && i <= a->n ? a->ends[i - 1] : 0, sb = i > 0 && i <= b->n ? b->ends[i - 1] : 0;
		size_t la = i < a->n ? a->ends[i] - sa : 0, lb = i < b->n ? b->ends[i] - sb : 0;
		const shown *x = i < a->n ? a : b;
		size_t sx = x == a ? sa : sb, lx = x == a ? la : lb;

		if (la == lb && la > 0 && memcmp(a->recs.data + sa, b->recs.data + sb, la) == 0)
			continue;
		CHECK(rove_dec_record(x->recs.data + sx, lx, &rec) == ROVE_OK);
		rove_uuid_format(&rec.id, ids);
		fprintf(stderr, "fuzz_server: the first difference: record %u/%s (%s: %u fields)\n", rec.coll, ids,
			x == a ? "pulled" : "new", rec.fs.n);
		return;
	}
}

static void check_converges(const uint8_t *data, size_t size)
{
	unsigned sum = 0, k;
	viewer *v;
	shown inc, fresh;
	MDB_dbi dbis[FZ_REPLICA_DBIS];

	for (size_t i = 0; i < size; i++)
		sum += data[i];
	k = sum % NVIEWERS;
	v = &views[k];
	for (int i = 0; i < 2; i++) {
		replica_dbis(&v->r[i], dbis);
		fz_snap_restore(&v->tmpl[i], v->r[i].env, dbis);
		pull_all(&v->r[i], viewers[k]);
	}
	show(&v->r[0], &inc);
	show(&v->r[1], &fresh);
	if (!shown_eq(&inc, &fresh)) {
		show_diff(creds[viewers[k]].user, &inc, &fresh);
		CHECK(!"replication converges");
	}
	show_free(&inc);
	show_free(&fresh);
}

/* The viewers' replicas: created, the first synced with the seeded
 * database; both kept as they are then. */
static void setup_viewers(void)
{
	MDB_dbi dbis[FZ_REPLICA_DBIS];

	for (unsigned k = 0; k < NVIEWERS; k++) {
		viewer *v = &views[k];
		for (int i = 0; i < 2; i++) {
			int rc;
			snprintf(v->dir[i], sizeof(v->dir[i]), "%s/%s-%d", dir, creds[viewers[k]].user, i);
			rc = rove_replica_create(v->dir[i], "tcp://127.0.0.1:1", creds[viewers[k]].user,
						 creds[viewers[k]].token, NULL);
			if (rc == ROVE_OK)
				rc = rove_replica_open(v->dir[i], &v->r[i]);
			if (rc != ROVE_OK)
				die("a viewer's replica", rc);
			mdb_env_set_flags(v->r[i].env, MDB_NOSYNC, 1);
			if (i == 0)
				pull_all(&v->r[i], viewers[k]);
			replica_dbis(&v->r[i], dbis);
			fz_snap_take(&v->tmpl[i], v->r[i].env, dbis, FZ_REPLICA_DBIS);
		}
	}
}

/* Closes the viewers' replicas (their directories are inside dir). */
static void cleanup_viewers(void)
{
	for (unsigned k = 0; k < NVIEWERS; k++) {
		for (int i = 0; i < 2; i++) {
			viewer *v = &views[k];
			if (v->r[i].env == NULL)
				continue;
			rove_replica_close(&v->r[i]);
			fz_snap_free(&v->tmpl[i]);
		}
	}
}

/* ---- seeding ---- */

static rove_hlc seed_clock;

/* Sends one encoded request as ident and returns a heap copy of the
 * decoded reply's bytes in *reply (for the caller to free). */
static void seed_call(unsigned ident, const rove_buf *msg, rove_msg *reply, uint8_t **reply_bytes)
{
	req r;

	req_init(&r, msg->data, msg->len, ident);
	CHECK(r.engine);
	run_reqs(&r, 1);
	*reply_bytes = malloc(r.job.reply.len);
	CHECK(*reply_bytes != NULL);
	memcpy(*reply_bytes, r.job.reply.data, r.job.reply.len);
	CHECK(rove_msg_decode(*reply_bytes, r.job.reply.len, reply) == ROVE_OK);
	if (reply->type == ROVE_MSG_ERROR) {
		fprintf(stderr, "fuzz_server: seeding: %s\n", reply->u.error.text);
		fail_cleanup();
		abort();
	}
	req_free(&r);
}

/* An admin command; the first reply line (if any) into line. */
static void seed_admin(const char *cmd, const char *const *args, uint32_t nargs, char *line,
		       size_t linelen)
{
	rove_buf b;
	rove_msg m;
	uint8_t *rb;
	const char *s;
	uint32_t len;

	rove_buf_init(&b);
	CHECK(rove_enc_admin(&b, &creds[FZ_ADMIN], cmd, args, nargs) == ROVE_OK);
	seed_call(FZ_ADMIN, &b, &m, &rb);
	CHECK(m.type == ROVE_MSG_ADMIN_REPLY);
	if (line != NULL) {
		CHECK(rove_msg_next_str(&m, &s, &len) == ROVE_OK && len < linelen);
		memcpy(line, s, len);
		line[len] = '\0';
	}
	free(rb);
	rove_buf_free(&b);
}

static void seed_op(rove_op *op, unsigned seq, uint8_t kind, uint8_t coll, unsigned id)
{
	rove_uuid rid;
	rove_stamp st;

	fz_id(&rid, id);
	st.hlc = rove_hlc_tick(&seed_clock, 0);
	st.node = FZ_NODE;
	rove_op_init(op, kind, coll, &rid, st);
	fz_seed_opid(&op->op_id, seq);
}

static void seed_set(rove_op *op, const char *name, const char *value)
{
	CHECK(rove_op_set(op, name, value ? rove_vcstr(value) : rove_vnull()) == ROVE_OK);
}

static void seed_seti(rove_op *op, const char *name, int64_t v)
{
	CHECK(rove_op_set(op, name, rove_vint(v)) == ROVE_OK);
}

/* Pushes ops as ident; every op must get status want. */
static void seed_push(unsigned ident, rove_op *ops, uint32_t n, int want)
{
	rove_buf b;
	rove_msg m;
	rove_uuid replica;
	rove_push_result res;
	uint8_t *rb;

	fz_id(&replica, 0);
	rove_buf_init(&b);
	CHECK(rove_enc_push(&b, &creds[ident], &replica, NULL, ops, n) == ROVE_OK);
	seed_call(ident, &b, &m, &rb);
	CHECK(m.type == ROVE_MSG_PUSH_REPLY && m.u.push_reply.n == n);
	for (uint32_t i = 0; i < n; i++) {
		CHECK(rove_msg_next_result(&m, &res) == ROVE_OK);
		if (res.status != want) {
			fprintf(stderr, "fuzz_server: seeding: op %u: %s %s\n", i, rove_reason_name(res.reason),
				res.detail);
			fail_cleanup();
			abort();
		}
	}
	free(rb);
	rove_buf_free(&b);
}

static void seed(void)
{
	static rove_op ops[8];
	char c1[ROVE_UUID_STRLEN + 1], c3[ROVE_UUID_STRLEN + 1];
	unsigned seq = 0;

	/* Seeded ops are stamped an hour before FZ_HLC, so that the corpus's
	 * ops (stamped FZ_HLC and after) win their fields. */
	seed_clock.v = FZ_HLC - rove_hlc_from_ms(3600 * 1000).v;
	{
		const char *a1[] = {"east", "East"};
		const char *a2[] = {"east.sh", "Shanghai", "east"};
		const char *a3[] = {"east.bj", "Beijing", "east"};
		const char *a4[] = {"west", "West"};
		seed_admin("territory.add", a1, 2, NULL, 0);
		seed_admin("territory.add", a2, 3, NULL, 0);
		seed_admin("territory.add", a3, 3, NULL, 0);
		seed_admin("territory.add", a4, 2, NULL, 0);
	}
	{
		const char *wang[] = {"wang", "rep", "east.sh"};
		const char *li[] = {"li", "rep", "east.sh", "east.bj"};
		const char *zhao[] = {"zhao", "manager", "east"};
		const char *qian[] = {"qian", "analyst"};
		const char *mallory[] = {"mallory", "rep", "east.sh"};
		char token[ROVE_TOKEN_HEX + 1];
		seed_admin("user.add", wang, 3, creds[FZ_WANG].token, sizeof(creds[FZ_WANG].token));
		seed_admin("user.add", li, 4, creds[FZ_LI].token, sizeof(creds[FZ_LI].token));
		seed_admin("user.add", zhao, 3, creds[FZ_ZHAO].token, sizeof(creds[FZ_ZHAO].token));
		seed_admin("user.add", qian, 2, creds[FZ_QIAN].token, sizeof(creds[FZ_QIAN].token));
		seed_admin("user.add", mallory, 3, token, sizeof(token)); /* then never used */
	}
	{
		const char *sh[] = {"east.sh", "pool_limit=20", "claim_limit=5", "cooldown_days=1",
				    "release_reason=1"};
		const char *west[] = {"west", "recycle_days=30", "warn_days=5"};
		seed_admin("territory.set", sh, 5, NULL, 0);
		seed_admin("territory.set", west, 3, NULL, 0);
	}
	fz_id_str(c1, FZ_ID_C1);
	fz_id_str(c3, FZ_ID_C3);

	/* wang: a customer with its children, and one released to the pool. */
	seed_op(&ops[0], seq++, ROVE_OP_CREATE, ROVE_COLL_CUSTOMER, FZ_ID_C1);
	seed_set(&ops[0], "name", "Acme");
	seed_set(&ops[0], "tax_id", "91310000MA1FL0001R");
	seed_set(&ops[0], "phone", "+86 21 5555 0101");
	seed_set(&ops[0], "tier", "prospect");
	seed_op(&ops[1], seq++, ROVE_OP_CREATE, ROVE_COLL_CUSTOMER, FZ_ID_C6);
	seed_set(&ops[1], "name", "Released Co");
	seed_op(&ops[2], seq++, ROVE_OP_CREATE, ROVE_COLL_CONTACT, FZ_ID_CONTACT);
	seed_set(&ops[2], "customer", c1);
	seed_set(&ops[2], "name", "Chen Jing");
	seed_set(&ops[2], "phone", "13800138000");
	seed_op(&ops[3], seq++, ROVE_OP_CREATE, ROVE_COLL_OPPORTUNITY, FZ_ID_OPP);
	seed_set(&ops[3], "customer", c1);
	seed_set(&ops[3], "title", "Forklifts");
	seed_seti(&ops[3], "amount", 1200050);
	seed_set(&ops[3], "stage", "lead");
	seed_op(&ops[4], seq++, ROVE_OP_CREATE, ROVE_COLL_ACTIVITY, FZ_ID_ACT);
	seed_set(&ops[4], "customer", c1);
	seed_set(&ops[4], "kind", "visit");
	seed_set(&ops[4], "at", "2024-05-01T10:00:00Z");
	seed_op(&ops[5], seq++, ROVE_OP_RELEASE, ROVE_COLL_CUSTOMER, FZ_ID_C6);
	seed_set(&ops[5], "release_reason", "no budget");
	seed_push(FZ_WANG, ops, 6, ROVE_PUSH_ACCEPTED);

	/* admin: pool customers in east.sh and west. */
	seed_op(&ops[0], seq++, ROVE_OP_CREATE, ROVE_COLL_CUSTOMER, FZ_ID_C2);
	seed_set(&ops[0], "name", "Pool Co");
	seed_set(&ops[0], "territory", "east.sh");
	seed_set(&ops[0], "owner", NULL);
	seed_op(&ops[1], seq++, ROVE_OP_CREATE, ROVE_COLL_CUSTOMER, FZ_ID_C4);
	seed_set(&ops[1], "name", "West Inc");
	seed_set(&ops[1], "territory", "west");
	seed_set(&ops[1], "owner", NULL);
	seed_push(FZ_ADMIN, ops, 2, ROVE_PUSH_ACCEPTED);

	/* li: a customer in east.sh, which wang works in too (a reassignment
	 * goes to someone who holds the customer's territory). */
	seed_op(&ops[0], seq++, ROVE_OP_CREATE, ROVE_COLL_CUSTOMER, FZ_ID_C3);
	seed_set(&ops[0], "name", "Beijing Ltd");
	seed_set(&ops[0], "territory", "east.sh");
	seed_push(FZ_LI, ops, 1, ROVE_PUSH_ACCEPTED);

	/* zhao: a customer of his own, a dealer, a target for wang. */
	seed_op(&ops[0], seq++, ROVE_OP_CREATE, ROVE_COLL_CUSTOMER, FZ_ID_C5);
	seed_set(&ops[0], "name", "Zhao Corp");
	seed_set(&ops[0], "territory", "east");
	seed_op(&ops[1], seq++, ROVE_OP_CREATE, ROVE_COLL_DEALER, FZ_ID_DEALER);
	seed_set(&ops[1], "name", "Dealer One");
	seed_set(&ops[1], "territory", "east.sh");
	seed_op(&ops[2], seq++, ROVE_OP_CREATE, ROVE_COLL_TARGET, FZ_ID_TARGET);
	seed_set(&ops[2], "user", FZ_TARGET_USER);
	seed_set(&ops[2], "period", FZ_TARGET_PERIOD);
	seed_seti(&ops[2], "amount", 5000000);
	seed_push(FZ_ZHAO, ops, 3, ROVE_PUSH_ACCEPTED);

	{
		const char *args[] = {c3, "wang"};
		seed_admin("reassign.customer", args, 2, NULL, 0);
	}

	/* A refused op, for the conflict list. */
	seed_op(&ops[0], seq++, ROVE_OP_UPDATE, ROVE_COLL_CUSTOMER, FZ_ID_C4);
	seed_set(&ops[0], "phone", "020 5555 0199");
	seed_push(FZ_WANG, ops, 1, ROVE_PUSH_REJECTED);
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");
	const char *every = getenv("ROVE_FUZZ_RESET_EVERY");
	const char *v = getenv("ROVE_FUZZ_VERBOSE");
	int rc;

	/* Quiet (the replies are checked), unless $ROVE_LOG says otherwise. */
	rove_log_init("fuzz_server", -1);
	if (every != NULL && atoi(every) > 0)
		reset_every = (unsigned)atoi(every);
	snprintf(dir, sizeof(dir), "%s/rove-fuzz-server.XXXXXX", tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	CHECK(mkdtemp(dir) != NULL);
	rc = rove_engine_init(dir, "admin", creds[FZ_ADMIN].token);
	if (rc != ROVE_OK)
		die("rove_engine_init", rc);
	for (unsigned i = 0; i < FZ_NIDENT; i++)
		snprintf(creds[i].user, sizeof(creds[i].user), "%s", fz_ident_name(i));
	snprintf(creds[FZ_BAD].token, sizeof(creds[FZ_BAD].token), "%s", FZ_BAD_TOKEN);
	engine_open();
	ready = true;
	atexit(cleanup);
	__sanitizer_set_death_callback(fail_cleanup);
	seed();
	check_store();
	{
		MDB_dbi dbis[FZ_STORE_DBIS];
		store_dbis(dbis);
		fz_snap_take(&tmpl, eng.st.env, dbis, FZ_STORE_DBIS);
	}
	setup_viewers();
	verbose = v != NULL && v[0] == '1';
}

/* ---- described requests ---- */

static unsigned fresh_n; /* per run: fresh ids are the same on every run */

static void fresh_id(rove_uuid *id)
{
	fresh_n++;
	memset(id->b, 0xd0, sizeof(id->b));
	id->b[14] = (uint8_t)(fresh_n >> 8);
	id->b[15] = (uint8_t)fresh_n;
}

static uint64_t pick_hlc(fz_rd *r)
{
	uint64_t now = rove_hlc_from_ms(rove_wall_ms()).v;

	switch (fz_u8(r) % 8) {
	case 0: return FZ_HLC;
	case 1: return now;
	case 2: return now + rove_hlc_from_ms(10 * 60 * 1000).v; /* past the skew limit */
	case 3: return 0;
	case 4: return UINT64_MAX;
	case 5: return fz_u64(r);
	case 6: return now - rove_hlc_from_ms(86400000).v;
	default: return FZ_HLC + fz_u8(r);
	}
}

static void pick_value(fz_rd *r, rove_value *v, char *buf, size_t buflen, char idbuf[ROVE_UUID_STRLEN + 1])
{
	const uint8_t *raw;
	size_t n;

	switch (fz_u8(r) % 8) {
	case 0:
		*v = rove_vnull();
		break;
	case 1:
		*v = rove_vint((int8_t)fz_u8(r));
		break;
	case 2:
		*v = rove_vint((int64_t)fz_u64(r));
		break;
	case 6:
		n = fz_bytes(r, &raw, 64);
		memcpy(buf, raw, n);
		*v = rove_vstr(buf, (uint32_t)n);
		break;
	case 7:
		n = (size_t)fz_u8(r) * 24;
		if (n >= buflen)
			n = buflen - 1;
		memset(buf, 'x', n);
		*v = rove_vstr(buf, (uint32_t)n);
		break;
	default:
		*v = rove_vcstr(fz_str(fz_u8(r), idbuf));
	}
}

/* PUSH: up to 8 ops; each op: kind, collection (0 and 11 unknown), record
 * (fresh, fixed id 1-11, or 16 bytes), op id (fresh, the previous op's, or
 * a seeded op's), stamp, up to 8 fields from the tables. */
static int build_push(fz_rd *r, const rove_auth *a, rove_buf *out)
{
	static rove_op ops[8];
	static char buf[ROVE_MAX_STR + 64];
	char idbuf[ROVE_UUID_STRLEN + 1];
	rove_uuid replica;
	uint32_t n = fz_u8(r) % 8 + 1;

	fz_id(&replica, 0);
	for (uint32_t i = 0; i < n; i++) {
		rove_op *op = &ops[i];
		uint8_t kind = (uint8_t)(fz_u8(r) % ROVE_OP_KIND_MAX + 1);
		uint8_t coll = (uint8_t)(fz_u8(r) % 12);
		unsigned sel = fz_u8(r) % 16;
		rove_uuid rid;
		rove_stamp st;
		uint32_t nf;

		if (sel == 0) {
			fresh_id(&rid);
		} else if (sel < FZ_NIDS) {
			fz_id(&rid, sel);
		} else {
			for (int k = 0; k < 16; k++)
				rid.b[k] = fz_u8(r);
		}
		st.hlc.v = pick_hlc(r);
		st.node = FZ_NODE;
		rove_op_init(op, kind, coll, &rid, st);
		sel = fz_u8(r) % 8;
		if (sel == 0 && i > 0)
			op->op_id = ops[i - 1].op_id;
		else if (sel == 1)
			fz_seed_opid(&op->op_id, fz_u8(r) % 16);
		else
			fresh_id(&op->op_id);
		nf = fz_u8(r) % 9;
		for (uint32_t f = 0; f < nf; f++) {
			const char *name = fz_field(fz_u8(r));
			rove_value v;
			pick_value(r, &v, buf, sizeof(buf), idbuf);
			(void)rove_op_set(op, name, v); /* a refused value is left out */
		}
	}
	return rove_enc_push(out, a, &replica, NULL, ops, n);
}

static uint64_t pick_seq(fz_rd *r)
{
	uint8_t b = fz_u8(r);

	return b == 255 ? fz_u64(r) : b % 48;
}

static int build_pull(fz_rd *r, const rove_auth *a, rove_buf *out)
{
	rove_pull_req q;
	const uint8_t *key;
	size_t n;

	memset(&q, 0, sizeof(q));
	fz_id(&q.replica, 0);
	q.cursor = pick_seq(r);
	q.snap_seq = pick_seq(r);
	n = fz_bytes(r, &key, 24);
	memcpy(q.snap_key, key, n);
	q.snap_keylen = (uint32_t)n;
	q.epoch = fz_u8(r) % 4;
	q.max_items = fz_u8(r) % 8;
	q.own = (fz_u8(r) & 1) != 0; /* one's own ops by reference (protocol 3) */
	q.records = fz_u8(r) % 4;      /* record formats: 1 only, or 2 and 3 */
	return rove_enc_pull(out, a, &q);
}

static int build_conflicts(fz_rd *r, const rove_auth *a, rove_buf *out)
{
	rove_conflicts_req q;

	q.after = pick_seq(r);
	q.max = fz_u8(r) % 4;
	return rove_enc_conflicts(out, a, &q);
}

static int build_admin(fz_rd *r, const rove_auth *a, rove_buf *out)
{
	static char args[6][ROVE_MAX_ADMIN_ARG + 1];
	const char *argv[6];
	char idbuf[ROVE_UUID_STRLEN + 1];
	const char *cmd = fz_admin_cmd(fz_u8(r));
	uint32_t n = fz_u8(r) % 6;
	rove_uuid request;
	uint8_t k;

	for (uint32_t i = 0; i < n; i++) {
		if (fz_u8(r) % 4 == 3) {
			const uint8_t *raw;
			size_t len = fz_bytes(r, &raw, 64);
			memcpy(args[i], raw, len);
			args[i][len] = '\0'; /* a NUL inside cuts it short */
		} else {
			snprintf(args[i], sizeof(args[i]), "%s", fz_str(fz_u8(r), idbuf));
		}
		argv[i] = args[i];
	}
	/* A request id from three (repeats are answered from what the
	 * server remembers), or none (as an older client sends). */
	k = fz_u8(r) % 4;
	memset(request.b, k, sizeof(request.b));
	return rove_enc_admin_req(out, a, cmd, k != 0 ? &request : NULL, argv, n);
}

/* ---- the input ---- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const rove_auth nobody;
	fz_part parts[FZ_MAX_PARTS];
	req reqs[FZ_MAX_PARTS];
	size_t n, nreq = 0;

	if (!ready)
		setup();
	if (++runs_since_reset >= reset_every) {
		restore();
		runs_since_reset = 0;
	}
	fresh_n = 0;
	n = fz_split(data, size, parts);
	for (size_t i = 0; i < n; i++) {
		uint8_t sel;
		unsigned ident, kind;

		if (parts[i].len == 0)
			continue;
		sel = parts[i].p[0];
		ident = sel & 7u;
		if (!(sel & 8u)) {
			req_init(&reqs[nreq++], parts[i].p + 1, parts[i].len - 1, ident);
			continue;
		}
		kind = sel >> 4;
		if (kind == 15) {
			memset(&reqs[nreq], 0, sizeof(reqs[nreq]));
			rove_buf_init(&reqs[nreq].job.reply);
			reqs[nreq++].tick = true;
		} else {
			const rove_auth *a = ident == FZ_AS_IS || ident == FZ_AS_IS2 ? &nobody : &creds[ident];
			fz_rd r = {parts[i].p + 1, parts[i].len - 1};
			rove_buf b;
			int rc;

			rove_buf_init(&b);
			if (kind < 8)
				rc = build_push(&r, a, &b);
			else if (kind < 10)
				rc = build_pull(&r, a, &b);
			else if (kind < 12)
				rc = build_conflicts(&r, a, &b);
			else
				rc = build_admin(&r, a, &b);
			if (rc == ROVE_OK) {
				req_init(&reqs[nreq], b.data, b.len, ident);
				/* What the encoders write, the engine takes. */
				CHECK(reqs[nreq].engine);
				nreq++;
			}
			rove_buf_free(&b);
		}
	}
	run_reqs(reqs, nreq);
	for (size_t i = 0; i < nreq; i++)
		req_free(&reqs[i]);
	check_store();
	check_converges(data, size);
	return 0;
}
