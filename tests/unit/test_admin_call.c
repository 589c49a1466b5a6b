/*
 * test_admin_call.c - rove_admin_call (client/sync.c) against a fake
 * server: an nng rep0 socket in a thread of this process that answers as
 * an older or a newer roved would, and can lose a connection after a
 * request arrived (the server acted, its answer never reached rove).
 *
 * Checked: a request carries an id and, its connection lost, is sent
 * again with the same id; a server older than the id refuses it as
 * malformed, and the request is sent again without it, and then never
 * sent again after a lost connection (the server could not tell a
 * repeat from a new request). And a sync's PULL asks for records in
 * format 2; a server older than that element refuses it as malformed,
 * and the PULL is sent again without it (nor clock).
 */
#include "check.h"

#include "err.h"
#include "proto.h"
#include "replica.h"
#include "schema.h"
#include "sync.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum fake_mode {
	FAKE_NEW,      /* takes the id; loses the first answer (lose > 0) */
	FAKE_OLD,      /* refuses the id as malformed, as a roved before it */
	FAKE_OLD_LOSE, /* the same, and loses the first answer to the older form */
	FAKE_OLD_PULL, /* refuses a PULL with records as malformed, as a roved before it */
	FAKE_OLD_PUSH, /* gives proofs of its clock, then refuses a PUSH with one, as a roved
			* before proofs put back after an upgrade */
	FAKE_STALL,    /* takes the id; leaves the first requests unanswered (lose > 0), as a stalled
	                  server, then answers */
	FAKE_OLD_STALL, /* refuses the id; leaves the older form unanswered (lose > 0) */
};

#define FAKE_MAX_SEEN 8

typedef struct fake {
	char url[128];
	nng_socket sock;
	pthread_t thread;
	int mode;
	int lose;           /* answers still to lose (the connection closed instead) */
	atomic_bool stop;
	/* the requests seen, in order: with an id?, which */
	int nseen;
	bool with_id[FAKE_MAX_SEEN];
	rove_uuid id[FAKE_MAX_SEEN];
	/* the PULLs seen: their elements, the record format they ask */
	int npulls;
	uint8_t pull_elems[FAKE_MAX_SEEN], pull_records[FAKE_MAX_SEEN];
	/* the PUSHes seen: whether each carried a proof */
	int npushes;
	bool push_proof[FAKE_MAX_SEEN];
} fake;

/* A PUSH: refused with a proof (FAKE_OLD_PUSH), else each op accepted. */
static int fake_push(fake *f, rove_msg *m, rove_buf *out)
{
	rove_push_result res[4];
	rove_op *op = malloc(sizeof(*op));
	rove_uuid run = {{1}};
	uint32_t n = 0;
	int rc = op == NULL ? ROVE_ENOMEM : ROVE_OK;

	if (f->npushes < FAKE_MAX_SEEN)
		f->push_proof[f->npushes++] = m->u.push.seen.clock.hlc.v != 0;
	if (rc == ROVE_OK && m->u.push.seen.clock.hlc.v != 0) {
		free(op);
		return rove_enc_error(out, ROVE_EPROTO, "malformed request");
	}
	memset(res, 0, sizeof(res));
	while (rc == ROVE_OK && n < 4 && rove_msg_next_op(m, op) == ROVE_OK) {
		res[n].op_id = op->op_id;
		res[n].status = ROVE_PUSH_ACCEPTED;
		res[n].seq = 51 + n;
		res[n].st = op->st;
		n++;
	}
	free(op);
	return rc == ROVE_OK ? rove_enc_push_reply(out, 7, &run, res, n) : rc;
}

/* A PULL answered with a whole (empty) snapshot for a new replica, and
 * with no ops after it. */
static int fake_pull(fake *f, const rove_msg *m, rove_buf *out)
{
	rove_pull_reply h;

	if (f->npulls < FAKE_MAX_SEEN) {
		f->pull_elems[f->npulls] = m->elems;
		f->pull_records[f->npulls] = m->u.pull.records;
		f->npulls++;
	}
	if (f->mode == FAKE_OLD_PULL && m->u.pull.records >= 2)
		return rove_enc_error(out, ROVE_EPROTO, "malformed request");
	memset(&h, 0, sizeof(h));
	snprintf(h.role, sizeof(h.role), "rep");
	h.mode = m->u.pull.cursor == 0 ? ROVE_PULL_SNAPSHOT : ROVE_PULL_OPS;
	h.head = 50;
	h.snap_seq = m->u.pull.cursor == 0 ? 50 : 0;
	h.cursor = m->u.pull.cursor == 0 ? 0 : 50;
	h.epoch = 1;
	h.reset = m->u.pull.cursor == 0;
	h.server = 7;
	h.run.b[0] = 1;
	if (f->mode == FAKE_OLD_PUSH && m->u.pull.proofs) {
		h.time_ms = rove_wall_ms();
		h.clock.hlc = rove_hlc_from_ms(h.time_ms);
	}
	return rove_enc_pull_reply(out, &h, NULL);
}

/* Sends out (when encoded: rc) as the answer to req; frees both. */
static void fake_send(fake *f, nng_msg *req, rove_buf *out, int rc)
{
	nng_msg *rep = NULL;

	if (rc == ROVE_OK && nng_msg_alloc(&rep, 0) == 0 && nng_msg_append(rep, out->data, out->len) == 0 &&
	    nng_sendmsg(f->sock, rep, 0) == 0)
		rep = NULL;
	if (rep != NULL)
		nng_msg_free(rep);
	nng_msg_free(req);
	rove_buf_free(out);
}

static void fake_answer(fake *f, nng_msg *req)
{
	rove_msg m;
	rove_buf out;
	const char *line = "done";
	int rc = rove_msg_decode(nng_msg_body(req), nng_msg_len(req), &m);

	rove_buf_init(&out);
	if (rc == ROVE_OK && m.type == ROVE_MSG_PULL) {
		fake_send(f, req, &out, fake_pull(f, &m, &out));
		return;
	}
	if (rc == ROVE_OK && m.type == ROVE_MSG_PUSH) {
		fake_send(f, req, &out, fake_push(f, &m, &out));
		return;
	}
	if (rc == ROVE_OK && m.type == ROVE_MSG_ADMIN && f->nseen < FAKE_MAX_SEEN) {
		f->with_id[f->nseen] = m.u.admin.has_request;
		f->id[f->nseen] = m.u.admin.request;
		f->nseen++;
	}
	if (rc == ROVE_OK && m.type == ROVE_MSG_ADMIN && m.u.admin.has_request &&
	    (f->mode == FAKE_OLD || f->mode == FAKE_OLD_LOSE || f->mode == FAKE_OLD_STALL))
		rc = ROVE_EPROTO; /* what a roved before the id decodes it as */
	if (rc == ROVE_OK && f->lose > 0 && (f->mode == FAKE_STALL || f->mode == FAKE_OLD_STALL)) {
		/* no answer: the request is dropped, the connection kept */
		f->lose--;
		nng_msg_free(req);
		return;
	}
	if (rc == ROVE_OK && f->lose > 0 && (f->mode == FAKE_NEW || f->mode == FAKE_OLD_LOSE)) {
		/* done, then the connection is lost before the answer */
		f->lose--;
		nng_pipe_close(nng_msg_get_pipe(req));
		nng_msg_free(req);
		return;
	}
	if (rc == ROVE_OK)
		rc = rove_enc_admin_reply(&out, &line, 1);
	else
		rc = rove_enc_error(&out, rc, "malformed request");
	fake_send(f, req, &out, rc);
}

static void *fake_run(void *arg)
{
	fake *f = arg;

	while (!atomic_load(&f->stop)) {
		nng_msg *req = NULL;
		int rv = nng_recvmsg(f->sock, &req, 0);
		if (rv == NNG_ETIMEDOUT)
			continue;
		if (rv != 0)
			break;
		fake_answer(f, req);
	}
	return NULL;
}

static int fake_start(fake *f, const char *dir, int mode, int lose)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->url, sizeof(f->url), "ipc://%s/fake.sock", dir);
	f->mode = mode;
	f->lose = lose;
	atomic_init(&f->stop, false);
	if (nng_rep0_open(&f->sock) != 0)
		return -1;
	if (nng_socket_set_ms(f->sock, NNG_OPT_RECVTIMEO, 50) != 0 || nng_listen(f->sock, f->url, NULL, 0) != 0 ||
	    pthread_create(&f->thread, NULL, fake_run, f) != 0) {
		nng_close(f->sock);
		return -1;
	}
	return 0;
}

static void fake_stop(fake *f)
{
	atomic_store(&f->stop, true);
	pthread_join(f->thread, NULL);
	nng_close(f->sock);
}

typedef struct got {
	int lines;
	char first[64];
} got;

static void take(const char *s, uint32_t len, void *arg)
{
	got *g = arg;

	if (g->lines++ == 0)
		snprintf(g->first, sizeof(g->first), "%.*s", (int)len, s);
}

/* rove user.add through a replica of the fake server at f's URL, asked
 * up to asks times, each waiting timeout_ms. */
static int call_asks(const char *dir, const fake *f, int timeout_ms, uint32_t asks, got *g, char *err, size_t errlen)
{
	const char *args[2] = {"bob", "rep"};
	char rdir[256];
	rove_replica r;
	int rc;

	snprintf(rdir, sizeof(rdir), "%s/replica-%d-%d", dir, f->mode, f->lose);
	memset(g, 0, sizeof(*g));
	rc = rove_replica_create(rdir, f->url, "admin",
				 "0000000000000000000000000000000000000000000000000000000000000000", NULL);
	if (rc == ROVE_OK)
		rc = rove_replica_open(rdir, &r);
	if (rc != ROVE_OK)
		return rc;
	rc = asks == 1 ? rove_admin_call(&r, timeout_ms, "user.add", args, 2, take, g, err, errlen)
		       : rove_admin_call_asks(&r, timeout_ms, asks, "user.add", args, 2, take, g, err, errlen);
	rove_replica_close(&r);
	return rc;
}

static int call(const char *dir, const fake *f, got *g, char *err, size_t errlen)
{
	return call_asks(dir, f, 3000, 1, g, err, errlen);
}

/* A sync of a new replica with the fake server at f's URL. */
/* A new replica syncs with f; then, given one (not NULL), it writes op
 * and syncs again: *pushed gets how many ops that sync pushed. */
static int sync_fake_op(const char *dir, const fake *f, rove_op *op, uint32_t *pushed)
{
	char rdir[256];
	rove_replica r;
	rove_sync_stats st;
	int rc;

	snprintf(rdir, sizeof(rdir), "%s/sync-%d", dir, f->mode);
	rc = rove_replica_create(rdir, f->url, "wang",
				 "0000000000000000000000000000000000000000000000000000000000000000", NULL);
	if (rc == ROVE_OK)
		rc = rove_replica_open(rdir, &r);
	if (rc != ROVE_OK)
		return rc;
	memset(&st, 0, sizeof(st));
	rc = rove_sync(&r, 3000, false, &st);
	if (rc == ROVE_OK && op != NULL) {
		rc = rove_replica_write(&r, op);
		memset(&st, 0, sizeof(st));
		if (rc == ROVE_OK)
			rc = rove_sync(&r, 3000, false, &st);
		*pushed = st.accepted;
	}
	rove_replica_close(&r);
	return rc;
}

static int sync_fake(const char *dir, const fake *f)
{
	return sync_fake_op(dir, f, NULL, NULL);
}

int main(void)
{
	char dir[] = "/tmp/rove-test-admin-call.XXXXXX";
	char err[ROVE_MAX_ERRMSG + 1], cmd[64];
	fake f;
	got g;

	CHECK(mkdtemp(dir) != NULL);

	/* A newer server: the request carries an id; the connection lost
	 * after the server acted, it is sent again with the same id, and the
	 * answer comes. */
	CHECK_EQ_INT(fake_start(&f, dir, FAKE_NEW, 1), 0);
	CHECK_EQ_INT(call(dir, &f, &g, err, sizeof(err)), ROVE_OK);
	fake_stop(&f);
	CHECK_EQ_INT(f.nseen, 2);
	CHECK(f.with_id[0] && f.with_id[1]);
	CHECK(memcmp(f.id[0].b, f.id[1].b, 16) == 0);
	CHECK(!rove_uuid_is_nil(&f.id[0]));
	CHECK(g.lines == 1 && strcmp(g.first, "done") == 0);

	/* Lost more often than it may be sent again: ROVE_ELOST. */
	CHECK_EQ_INT(fake_start(&f, dir, FAKE_NEW, 1 + ROVE_MAX_RESENDS), 0);
	CHECK_EQ_INT(call(dir, &f, &g, err, sizeof(err)), ROVE_ELOST);
	fake_stop(&f);
	CHECK_EQ_INT(f.nseen, 1 + ROVE_MAX_RESENDS);
	CHECK_EQ_INT(g.lines, 0);

	/* An older server refuses the id: the request is sent again
	 * without it, and answered. */
	CHECK_EQ_INT(fake_start(&f, dir, FAKE_OLD, 0), 0);
	CHECK_EQ_INT(call(dir, &f, &g, err, sizeof(err)), ROVE_OK);
	fake_stop(&f);
	CHECK_EQ_INT(f.nseen, 2);
	CHECK(f.with_id[0] && !f.with_id[1]);
	CHECK(g.lines == 1 && strcmp(g.first, "done") == 0);

	/* ... and when the connection is then lost before the answer, it is
	 * not sent again (it may have been done): ROVE_ELOST, saying so. */
	CHECK_EQ_INT(fake_start(&f, dir, FAKE_OLD_LOSE, 1), 0);
	CHECK_EQ_INT(call(dir, &f, &g, err, sizeof(err)), ROVE_ELOST);
	usleep(200 * 1000); /* a request sent again would arrive meanwhile */
	fake_stop(&f);
	CHECK_EQ_INT(f.nseen, 2);
	CHECK(f.with_id[0] && !f.with_id[1]);
	CHECK(strstr(err, "may or may not have been done") != NULL);
	CHECK_EQ_INT(g.lines, 0);

	/* A stalled server: one ask gives up after its timeout ... */
	CHECK_EQ_INT(fake_start(&f, dir, FAKE_STALL, 1), 0);
	CHECK_EQ_INT(call_asks(dir, &f, 300, 1, &g, err, sizeof(err)), ROVE_ETIMEDOUT);
	fake_stop(&f);
	CHECK_EQ_INT(f.nseen, 1);
	CHECK_EQ_INT(g.lines, 0);
	/* ... asked up to three times, the same request is asked again,
	 * and the answer comes on the third. */
	CHECK_EQ_INT(fake_start(&f, dir, FAKE_STALL, 2), 0);
	CHECK_EQ_INT(call_asks(dir, &f, 300, 3, &g, err, sizeof(err)), ROVE_OK);
	fake_stop(&f);
	CHECK_EQ_INT(f.nseen, 3);
	CHECK(f.with_id[0] && f.with_id[1] && f.with_id[2]);
	CHECK(memcmp(f.id[0].b, f.id[1].b, 16) == 0 && memcmp(f.id[0].b, f.id[2].b, 16) == 0);
	CHECK(g.lines == 1 && strcmp(g.first, "done") == 0);
	/* ... and no more than three times. */
	CHECK_EQ_INT(fake_start(&f, dir, FAKE_STALL, 3), 0);
	CHECK_EQ_INT(call_asks(dir, &f, 300, 3, &g, err, sizeof(err)), ROVE_ETIMEDOUT);
	usleep(200 * 1000); /* a fourth ask would arrive meanwhile */
	fake_stop(&f);
	CHECK_EQ_INT(f.nseen, 3);
	CHECK_EQ_INT(g.lines, 0);
	/* A server too old for the id cannot tell an ask again from a new
	 * request: it is asked once. */
	CHECK_EQ_INT(fake_start(&f, dir, FAKE_OLD_STALL, 1), 0);
	CHECK_EQ_INT(call_asks(dir, &f, 300, 3, &g, err, sizeof(err)), ROVE_ETIMEDOUT);
	usleep(200 * 1000);
	fake_stop(&f);
	CHECK_EQ_INT(f.nseen, 2);
	CHECK(f.with_id[0] && !f.with_id[1]);

	/* No server at all (refused at once): each ask still gets its time
	 * (a server restarting is back by the next), so three asks of 200 ms
	 * wait two of them out. */
	{
		struct timespec t0, t1;
		fake none;
		long ms;
		memset(&none, 0, sizeof(none));
		snprintf(none.url, sizeof(none.url), "ipc://%s/nobody.sock", dir);
		none.mode = 99;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		CHECK(rove_err_unreached(call_asks(dir, &none, 200, 3, &g, err, sizeof(err))));
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		CHECK(ms >= 390);
		CHECK(ms < 3000);
	}

	/* A sync asks for records in format 2 (with clock before it), for
	 * proofs of the clock after it, and says its snapshot's end. */
	CHECK_EQ_INT(fake_start(&f, dir, FAKE_NEW, 0), 0);
	CHECK_EQ_INT(sync_fake(dir, &f), ROVE_OK);
	fake_stop(&f);
	CHECK_EQ_INT(f.npulls, 2); /* the snapshot, then the ops after it */
	CHECK_EQ_INT(f.pull_elems[0], 19);
	CHECK_EQ_INT(f.pull_records[0], ROVE_RECORD_FORMAT);
	CHECK_EQ_INT(f.pull_elems[1], 19);
	CHECK_EQ_INT(f.pull_records[1], ROVE_RECORD_FORMAT);

	/* A server older than the element refuses the PULL as malformed:
	 * it is sent again without it, and the sync goes on. */
	CHECK_EQ_INT(fake_start(&f, dir, FAKE_OLD_PULL, 0), 0);
	CHECK_EQ_INT(sync_fake(dir, &f), ROVE_OK);
	fake_stop(&f);
	CHECK_EQ_INT(f.npulls, 3);
	CHECK_EQ_INT(f.pull_elems[0], 19);
	CHECK_EQ_INT(f.pull_elems[1], 15);
	CHECK_EQ_INT(f.pull_records[1], 1);
	CHECK_EQ_INT(f.pull_elems[2], 15);

	/* A roved from before proofs put back after an upgrade: the replica
	 * holds a proof of the clock, its push is refused as malformed with
	 * it, and goes again without it. */
	{
		rove_op *op = malloc(sizeof(*op));
		rove_uuid cid = {{9}};
		uint32_t pushed = 0;
		CHECK(op != NULL);
		rove_op_init(op, ROVE_OP_CREATE, ROVE_COLL_CUSTOMER, &cid, (rove_stamp){{0}, 0});
		CHECK_EQ_INT(rove_op_set(op, "name", rove_vcstr("Kept")), ROVE_OK);
		CHECK_EQ_INT(fake_start(&f, dir, FAKE_OLD_PUSH, 0), 0);
		CHECK_EQ_INT(sync_fake_op(dir, &f, op, &pushed), ROVE_OK);
		fake_stop(&f);
		CHECK_EQ_INT(pushed, 1);
		CHECK_EQ_INT(f.npushes, 2);
		CHECK(f.push_proof[0] && !f.push_proof[1]);
		free(op);
	}

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
	/* nng frees closed sockets' parts on its reaper thread; waited for
	 * here, so that what the sanitizer finds at exit is not those. */
	nng_fini();
	return check_done("test_admin_call");
}
