/*
 * rove_probe - a hand-crafted protocol client for tests: it speaks the real
 * protocol to a real roved but builds messages the way a hostile or buggy
 * client could (any op, any stamp, any user and token, raw bytes).
 *
 *   rove_probe URL USER TOKEN push KIND COLL ID [--hlc-ms MS] [FIELD=VALUE...]
 *       one op; prints {"status":..,"reason":..,"detail":..,"seq":..,"hlc_ms":..,
 *       "seen":..} (seen: the server had answered that op id before)
 *       KIND create|update|delete|claim|release|reassign; COLL a number;
 *       VALUE "null" for nil, "#123" for an integer, anything else a string
 *   rove_probe URL USER TOKEN pull [--cursor N] [--epoch N] [--run none]
 *       (the cursor is named with the server's current run, learnt first,
 *       unless --run none)
 *       every entry until done, one JSON object a line:
 *       {"tag":"op|record|evict","coll":N,"id":".."} then {"cursor":N,"resets":N}
 *       (resets: replies that restarted the pull with a snapshot)
 *   rove_probe URL USER TOKEN pull-request
 *       prints, as hex, the first request of a bootstrap pull (cursor 0)
 *       without connecting: for rove_raw send, a client that never reads
 *   rove_probe URL USER TOKEN raw HEX | raw-file PATH
 *       sends the bytes; prints the reply's type or error {"error":code,"text":..}
 *   push also takes --author NAME (an author claimed by the client),
 *   --seq N (a sequence number claimed by the client), --op-id UUID (the
 *   op's id, to send an op again) and --repeat N: N copies of the op, each
 *   with a new op id, in pushes of up to ROVE_PROBE_BATCH ops; then it
 *   prints {"accepted":a,"rejected":r,"seen":s} instead.
 * Exit status 0 when a reply came, 3 when the server could not be reached.
 */
#include "err.h"
#include "hlc.h"
#include "proto.h"
#include "text.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static nng_socket sock;

static int call(const rove_buf *req, nng_msg **reply)
{
	nng_msg *msg = NULL;
	int rv = nng_msg_alloc(&msg, 0);

	if (rv == 0)
		rv = nng_msg_append(msg, req->data, req->len);
	if (rv == 0 && (rv = nng_sendmsg(sock, msg, 0)) != 0)
		nng_msg_free(msg);
	if (rv == 0)
		rv = nng_recvmsg(sock, reply, 0);
	if (rv != 0) {
		fprintf(stderr, "rove_probe: %s\n", nng_strerror(rv));
		exit(3);
	}
	return 0;
}

/* Decodes a reply; prints and exits on an error reply. */
static void decode(nng_msg *reply, rove_msg *m)
{
	int rc = rove_msg_decode(nng_msg_body(reply), nng_msg_len(reply), m);

	if (rc == ROVE_EVERSION) {
		uint64_t v = 0;
		/* An answer in another protocol version (an ERROR keeps its
		 * layout in every version): its version and its bytes. */
		(void)rove_msg_version(nng_msg_body(reply), nng_msg_len(reply), &v);
		printf("{\"other_version\":%llu,\"hex\":\"", (unsigned long long)v);
		for (size_t i = 0; i < nng_msg_len(reply); i++)
			printf("%02x", ((const uint8_t *)nng_msg_body(reply))[i]);
		printf("\"}\n");
		exit(0);
	}
	if (rc != ROVE_OK) {
		printf("{\"malformed_reply\":%d}\n", rc);
		exit(1);
	}
	if (m->type == ROVE_MSG_ERROR) {
		printf("{\"error\":%d,\"name\":\"%s\",\"text\":", m->u.error.code, rove_err_name(m->u.error.code));
		rove_text_put_json(stdout, m->u.error.text, strlen(m->u.error.text));
		printf("}\n");
		exit(0);
	}
}

static int kind_of(const char *s)
{
	for (int k = ROVE_OP_CREATE; k <= ROVE_OP_KIND_MAX; k++)
		if (strcmp(rove_op_kind_name(k), s) == 0)
			return k;
	return 0;
}

/* Ops in one push of --repeat: well under the server's batch limit; and
 * its bytes, under the server's request size (ROVE_MAX_REQUEST_BYTES, 1
 * MiB) and small enough that a flood of refused ops commits often (a
 * transaction cannot reuse the pages it frees: t_refusals): big ops go
 * fewer at a time. */
#define ROVE_PROBE_BATCH 500u
#define ROVE_PROBE_BYTES (128u * 1024u)

/* Pushes n copies of op, each with a new op id; prints what came back. */
static int push_repeat(const rove_auth *a, const rove_uuid *replica, rove_op *op, uint32_t n)
{
	rove_op *ops = calloc(ROVE_PROBE_BATCH, sizeof(*ops));
	uint64_t accepted = 0, rejected = 0, seen = 0;
	rove_push_result res;
	rove_buf req;
	nng_msg *reply;
	rove_msg m;

	if (ops == NULL)
		return 1;
	rove_buf_init(&req);
	while (n > 0) {
		uint32_t k = n < ROVE_PROBE_BATCH ? n : ROVE_PROBE_BATCH;
		for (;;) {
			for (uint32_t i = 0; i < k; i++) {
				rove_op_init(&ops[i], op->kind, op->coll, &op->rid, op->st);
				snprintf(ops[i].author, sizeof(ops[i].author), "%s", op->author);
				if (rove_fields_copy(&ops[i].fs, &op->fs) != ROVE_OK)
					return 1;
			}
			rove_buf_reset(&req);
			if (rove_enc_push(&req, a, replica, NULL, ops, k) != ROVE_OK)
				return 2;
			if (req.len <= ROVE_PROBE_BYTES || k == 1)
				break;
			k = k / 2;
		}
		call(&req, &reply);
		decode(reply, &m);
		if (m.type != ROVE_MSG_PUSH_REPLY) {
			printf("{\"unexpected_reply\":%d}\n", m.type);
			return 1;
		}
		for (uint32_t i = 0; i < k; i++) {
			if (rove_msg_next_result(&m, &res) != ROVE_OK) {
				printf("{\"short_reply\":%u}\n", i);
				return 1;
			}
			seen += res.seen;
			if (res.status == ROVE_PUSH_ACCEPTED)
				accepted++;
			else
				rejected++;
		}
		nng_msg_free(reply);
		n -= k;
	}
	printf("{\"accepted\":%llu,\"rejected\":%llu,\"seen\":%llu}\n", (unsigned long long)accepted,
	       (unsigned long long)rejected, (unsigned long long)seen);
	rove_buf_free(&req);
	free(ops);
	free(op);
	return 0;
}

static int do_push(const rove_auth *a, int argc, char **argv)
{
	rove_op *op = calloc(1, sizeof(*op));
	rove_uuid rid, replica;
	rove_stamp st = {rove_hlc_from_ms(rove_wall_ms()), 1};
	rove_push_result res;
	rove_buf req;
	nng_msg *reply;
	rove_msg m;
	uint32_t repeat = 0;
	bool has_id = false;
	rove_uuid op_id;
	int kind;

	if (op == NULL || argc < 3 || (kind = kind_of(argv[0])) == 0 || rove_uuid_parse(argv[2], &rid) != ROVE_OK) {
		fprintf(stderr, "rove_probe: push KIND COLL ID [--hlc-ms MS] [FIELD=VALUE...]\n");
		return 2;
	}
	for (int i = 3; i + 1 < argc; i++)
		if (strcmp(argv[i], "--hlc-ms") == 0)
			st.hlc = rove_hlc_from_ms(strtoull(argv[i + 1], NULL, 10));
	rove_op_init(op, (uint8_t)kind, (uint8_t)atoi(argv[1]), &rid, st);
	for (int i = 3; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		rove_value v;
		if (strcmp(argv[i], "--hlc-ms") == 0) {
			i++;
			continue;
		}
		if (strcmp(argv[i], "--author") == 0 && i + 1 < argc) {
			snprintf(op->author, sizeof(op->author), "%s", argv[++i]);
			continue;
		}
		if (strcmp(argv[i], "--seq") == 0 && i + 1 < argc) {
			op->seq = strtoull(argv[++i], NULL, 10);
			continue;
		}
		if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
			repeat = (uint32_t)strtoul(argv[++i], NULL, 10);
			continue;
		}
		if (strcmp(argv[i], "--op-id") == 0 && i + 1 < argc) {
			if (rove_uuid_parse(argv[++i], &op_id) != ROVE_OK)
				return 2;
			has_id = true;
			continue;
		}
		if (eq == NULL)
			return 2;
		*eq = '\0';
		if (strcmp(eq + 1, "null") == 0)
			v = rove_vnull();
		else if (eq[1] == '#')
			v = rove_vint(strtoll(eq + 2, NULL, 10));
		else
			v = rove_vcstr(eq + 1);
		if (rove_op_set(op, argv[i], v) != ROVE_OK)
			return 2;
	}
	if (has_id)
		op->op_id = op_id;
	rove_uuid_new(&replica);
	if (repeat > 0)
		return push_repeat(a, &replica, op, repeat);
	rove_buf_init(&req);
	if (rove_enc_push(&req, a, &replica, NULL, op, 1) != ROVE_OK)
		return 2;
	call(&req, &reply);
	decode(reply, &m);
	if (m.type != ROVE_MSG_PUSH_REPLY || rove_msg_next_result(&m, &res) != ROVE_OK) {
		printf("{\"unexpected_reply\":%d}\n", m.type);
		return 1;
	}
	printf("{\"status\":\"%s\",\"reason\":\"%s\",\"detail\":",
	       res.status == ROVE_PUSH_ACCEPTED ? "accepted" : "rejected", rove_reason_name(res.reason));
	rove_text_put_json(stdout, res.detail, strlen(res.detail)); /* it quotes what was sent */
	printf(",\"seq\":%llu,\"hlc_ms\":%llu,\"seen\":%s}\n", (unsigned long long)res.seq,
	       (unsigned long long)rove_hlc_ms(res.st.hlc), res.seen ? "true" : "false");
	nng_msg_free(reply);
	rove_buf_free(&req);
	free(op);
	return 0;
}

static int do_pull(const rove_auth *a, int argc, char **argv)
{
	static const char *const tags[] = {"op", "record", "evict"};
	unsigned resets = 0;
	bool run_none = false;
	rove_pull_req q;
	rove_entry *e = malloc(sizeof(*e));
	rove_buf req;

	memset(&q, 0, sizeof(q));
	rove_uuid_new(&q.replica);
	for (int i = 0; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--cursor") == 0)
			q.cursor = strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--epoch") == 0)
			q.epoch = strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--run") == 0 && strcmp(argv[i + 1], "none") == 0)
			run_none = true;
	}
	rove_buf_init(&req);
	if (q.cursor != 0 && !run_none) {
		/* A position is named with the server's run: learn it. */
		nng_msg *reply;
		rove_msg m;
		rove_pull_req first = q;

		first.cursor = 0;
		first.max_items = 1;
		if (rove_enc_pull(&req, a, &first) != ROVE_OK)
			return 2;
		call(&req, &reply);
		decode(reply, &m);
		q.run = m.u.pull_reply.run;
		nng_msg_free(reply);
	}
	for (;;) {
		nng_msg *reply;
		rove_msg m;
		char ids[ROVE_UUID_STRLEN + 1];

		rove_buf_reset(&req);
		if (rove_enc_pull(&req, a, &q) != ROVE_OK)
			return 2;
		call(&req, &reply);
		decode(reply, &m);
		resets += m.u.pull_reply.reset;
		q.run = m.u.pull_reply.run;
		while (rove_msg_next_entry(&m, e) == ROVE_OK) {
			rove_uuid_format(&e->id, ids);
			printf("{\"tag\":\"%s\",\"coll\":%u,\"id\":\"%s\"}\n", tags[e->tag], e->coll, ids);
		}
		if (m.u.pull_reply.mode == ROVE_PULL_SNAPSHOT) {
			q.epoch = m.u.pull_reply.epoch;
			q.snap_seq = m.u.pull_reply.more ? m.u.pull_reply.snap_seq : 0;
			q.snap_keylen = m.u.pull_reply.more ? m.u.pull_reply.snap_keylen : 0;
			memcpy(q.snap_key, m.u.pull_reply.snap_key, q.snap_keylen);
			if (!m.u.pull_reply.more)
				q.cursor = m.u.pull_reply.snap_seq;
		} else {
			q.cursor = m.u.pull_reply.cursor;
			/* inside a family cut short: resume after its last member */
			q.snap_keylen = m.u.pull_reply.more ? m.u.pull_reply.snap_keylen : 0;
			memcpy(q.snap_key, m.u.pull_reply.snap_key, q.snap_keylen);
		}
		nng_msg_free(reply);
		if (!m.u.pull_reply.more && (m.u.pull_reply.mode == ROVE_PULL_OPS || q.cursor == 0))
			break;
		if (!m.u.pull_reply.more && m.u.pull_reply.mode == ROVE_PULL_SNAPSHOT)
			continue; /* now the ops after the snapshot */
	}
	printf("{\"cursor\":%llu,\"resets\":%u}\n", (unsigned long long)q.cursor, resets);
	rove_buf_free(&req);
	free(e);
	return 0;
}

/* Sends raw bytes: hex text, or a whole file (any size: nng_msg, not rove_buf). */
static int do_raw(const char *hex, const char *path)
{
	rove_buf req;
	nng_msg *reply, *msg = NULL;
	rove_msg m;
	int rv;

	rove_buf_init(&req);
	if (nng_msg_alloc(&msg, 0) != 0)
		return 2;
	if (path != NULL) {
		FILE *f = fopen(path, "rb");
		char chunk[65536];
		size_t got;
		if (f == NULL)
			return 2;
		while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
			if (nng_msg_append(msg, chunk, got) != 0)
				return 2;
		fclose(f);
	} else {
		for (size_t i = 0; i < strlen(hex) / 2; i++) {
			unsigned b;
			uint8_t c;
			if (sscanf(hex + 2 * i, "%2x", &b) != 1)
				return 2;
			c = (uint8_t)b;
			if (nng_msg_append(msg, &c, 1) != 0)
				return 2;
		}
	}
	if ((rv = nng_sendmsg(sock, msg, 0)) != 0 || (rv = nng_recvmsg(sock, &reply, 0)) != 0) {
		fprintf(stderr, "rove_probe: %s\n", nng_strerror(rv));
		return 3;
	}
	decode(reply, &m);
	printf("{\"type\":%u}\n", m.type);
	nng_msg_free(reply);
	rove_buf_free(&req);
	return 0;
}

int main(int argc, char **argv)
{
	rove_auth a;
	int rv;

	if (argc < 5) {
		fprintf(stderr, "usage: rove_probe URL USER TOKEN push|pull|raw ...\n");
		return 2;
	}
	snprintf(a.user, sizeof(a.user), "%s", argv[2]);
	snprintf(a.token, sizeof(a.token), "%s", argv[3]);
	if (strcmp(argv[4], "pull-request") == 0 && argc == 5) {
		rove_pull_req q;
		rove_buf req;

		memset(&q, 0, sizeof(q));
		rove_uuid_new(&q.replica);
		rove_buf_init(&req);
		if (rove_enc_pull(&req, &a, &q) != ROVE_OK)
			return 2;
		for (size_t i = 0; i < req.len; i++)
			printf("%02x", (unsigned char)req.data[i]);
		printf("\n");
		rove_buf_free(&req);
		return 0;
	}
	if ((rv = nng_req0_open(&sock)) != 0) {
		fprintf(stderr, "rove_probe: %s\n", nng_strerror(rv));
		return 3;
	}
	/* Both ways bounded: a message the server drops (too big) must not
	 * leave the probe waiting forever for a connection to send on. */
	{
		int ms = getenv("ROVE_PROBE_TIMEOUT_MS") ? atoi(getenv("ROVE_PROBE_TIMEOUT_MS")) : 10000;
		nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO, ms);
		nng_socket_set_ms(sock, NNG_OPT_SENDTIMEO, ms);
	}
	/* $ROVE_PROBE_SOURCE=A.B.C.D: connect from that local IPv4 address
	 * (another 127.x address: "another machine" for the server's limit
	 * on failed logins). */
	{
		const char *src = getenv("ROVE_PROBE_SOURCE");
		nng_dialer d;
		rv = nng_dialer_create(&d, sock, argv[1]);
		if (rv == 0 && src != NULL && src[0] != '\0') {
			nng_sockaddr sa;
			struct in_addr in;
			memset(&sa, 0, sizeof(sa));
			if (inet_pton(AF_INET, src, &in) != 1) {
				fprintf(stderr, "rove_probe: bad ROVE_PROBE_SOURCE '%s'\n", src);
				return 2;
			}
			sa.s_in.sa_family = NNG_AF_INET;
			sa.s_in.sa_addr = in.s_addr;
			sa.s_in.sa_port = 0;
			rv = nng_dialer_set_addr(d, NNG_OPT_LOCADDR, &sa);
		}
		if (rv == 0)
			rv = nng_dialer_start(d, 0);
	}
	if (rv != 0) {
		fprintf(stderr, "rove_probe: %s\n", nng_strerror(rv));
		return 3;
	}
	nng_socket_set_size(sock, NNG_OPT_RECVMAXSZ, ROVE_MAX_MSG_BYTES + 1024);
	if (strcmp(argv[4], "push") == 0)
		rv = do_push(&a, argc - 5, argv + 5);
	else if (strcmp(argv[4], "pull") == 0)
		rv = do_pull(&a, argc - 5, argv + 5);
	else if (strcmp(argv[4], "raw") == 0 && argc == 6)
		rv = do_raw(argv[5], NULL);
	else if (strcmp(argv[4], "raw-file") == 0 && argc == 6)
		rv = do_raw(NULL, argv[5]);
	else
		rv = 2;
	nng_close(sock);
	return rv;
}
