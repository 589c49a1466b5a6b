/*
 * loader - fills a running roved with the benchmark data set through the
 * real protocol, as an admin: territories and users (ADMIN requests), then
 * customers with their contacts and activities as PUSH batches of up to
 * ROVE_MAX_PUSH_OPS create ops, several pushes in flight at once. Every op
 * goes through the server's whole write path (schema, rules, merge, oplog,
 * scope indexes, durable group commit), as a rep's would.
 *
 *   loader --url URL --token-file FILE [options]          fill a server
 *   loader --url URL --token-file FILE --update N --ids FILE [--owner LOGIN]
 *                                                          change N customers
 *
 * Prints one JSON line with what it made and how fast. See --help.
 */
#include "bench_data.h"

#include "err.h"
#include "hlc.h"
#include "proto.h"
#include "schema.h"

#include <errno.h>
#include <getopt.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char usage_text[] =
	"usage: loader --url URL --token-file FILE [--admin NAME] [options]\n"
	"\n"
	"Fills a running roved through the protocol, as its admin:\n"
	"  --customers N      customers (default 100000)\n"
	"  --territories T    territories t01..tT (default 50)\n"
	"  --owners K         reps per territory, each owning an equal share of its\n"
	"                     customers (default 1); logins rep01-1, rep01-2, ...\n"
	"  --lead             all of t01's customers to rep01-1 instead (one rep\n"
	"                     holding a whole territory, the others sharing theirs)\n"
	"  --contacts C       contacts per customer (default 2)\n"
	"  --activities A     activities per customer (default 1)\n"
	"  --analyst NAME     also create an analyst (reads everything)\n"
	"  --manager NAME     also create a manager over a root territory 'hq'\n"
	"                     that is the parent of every territory\n"
	"  --tokens DIR       write each new user's token to DIR/LOGIN.token (default .)\n"
	"  --ids FILE         write each customer's id, territory and owner, a line each\n"
	"  --jobs J           pushes in flight at once (default 2)\n"
	"  --run R            a number that makes names, tax ids and phones unique\n"
	"                     when several data sets go into one server (default 0)\n"
	"Or changes customers already loaded (address and tier, one update op each):\n"
	"  --update N --ids FILE [--owner LOGIN]   the first N customers of FILE\n"
	"                     (of LOGIN only, if given)\n"
	"Prints one JSON line: what was made, seconds, ops per second.\n";

typedef struct loader {
	const char *url;
	rove_auth auth;
	bench_shape shape;
	uint32_t per_batch;          /* customers in one push */
	uint32_t jobs;
	atomic_uint next;            /* next batch to take */
	rove_uuid *ids;              /* every customer's id */
	const uint32_t *upd;         /* update: customer indexes to change */
	uint32_t nupd;
	atomic_ullong ops, accepted, rejected;
	atomic_int failed;
	pthread_mutex_t mu;          /* reports */
} loader;

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "loader: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

static int dial(const char *url, nng_socket *s)
{
	int rv = nng_req0_open(s);

	if (rv == 0)
		rv = nng_dial(*s, url, NULL, 0);
	if (rv != 0) {
		fprintf(stderr, "loader: %s: %s\n", url, nng_strerror(rv));
		return -1;
	}
	nng_socket_set_ms(*s, NNG_OPT_RECVTIMEO, 60000);
	nng_socket_set_size(*s, NNG_OPT_RECVMAXSZ, ROVE_MAX_MSG_BYTES + 1024);
	return 0;
}

/* Sends req and decodes the reply into m (pointing into *reply). */
static int call(nng_socket s, const rove_buf *req, nng_msg **reply, rove_msg *m)
{
	nng_msg *msg = NULL;
	int rv = nng_msg_alloc(&msg, 0), rc;

	if (rv == 0)
		rv = nng_msg_append(msg, req->data, req->len);
	if (rv == 0 && (rv = nng_sendmsg(s, msg, 0)) != 0)
		nng_msg_free(msg);
	if (rv == 0)
		rv = nng_recvmsg(s, reply, 0);
	if (rv != 0) {
		fprintf(stderr, "loader: request: %s\n", nng_strerror(rv));
		return -1;
	}
	rc = rove_msg_decode(nng_msg_body(*reply), nng_msg_len(*reply), m);
	if (rc != ROVE_OK) {
		fprintf(stderr, "loader: malformed reply (%s)\n", rove_strerror(rc));
		nng_msg_free(*reply);
		return -1;
	}
	if (m->type == ROVE_MSG_ERROR) {
		fprintf(stderr, "loader: the server answered: %s (%s)\n", m->u.error.text,
			rove_strerror(m->u.error.code));
		nng_msg_free(*reply);
		return -1;
	}
	return 0;
}

/* One admin command; its first reply line (if any) into line. */
static void admin(nng_socket s, const rove_auth *a, const char *cmd, const char *const *args, uint32_t n,
		  char *line, size_t len)
{
	rove_buf req;
	nng_msg *reply = NULL;
	rove_msg m;
	const char *str;
	uint32_t slen;

	rove_buf_init(&req);
	if (rove_enc_admin(&req, a, cmd, args, n) != ROVE_OK || call(s, &req, &reply, &m) != 0)
		die("admin %s failed", cmd);
	if (m.type != ROVE_MSG_ADMIN_REPLY)
		die("admin %s: unexpected reply", cmd);
	if (line != NULL) {
		line[0] = '\0';
		if (rove_msg_next_str(&m, &str, &slen) == ROVE_OK)
			snprintf(line, len, "%.*s", (int)slen, str);
	}
	nng_msg_free(reply);
	rove_buf_free(&req);
}

static void write_token(const char *dir, const char *login, const char *token)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.token", dir, login);
	f = fopen(path, "w");
	if (f == NULL || fprintf(f, "%s\n", token) < 0 || fclose(f) != 0)
		die("cannot write %s", path);
}

static void add_user(nng_socket s, loader *l, const char *dir, const char *login, const char *role,
		     const char *terr)
{
	const char *args[3] = {login, role, terr};
	char token[ROVE_TOKEN_HEX + 1];

	admin(s, &l->auth, "user.add", args, terr != NULL ? 3 : 2, token, sizeof(token));
	if (strlen(token) != ROVE_TOKEN_HEX)
		die("user.add %s: no token in the reply", login);
	write_token(dir, login, token);
}

/* Territories and users. */
static void make_people(nng_socket s, loader *l, const char *dir, const char *analyst, const char *manager)
{
	const bench_shape *sh = &l->shape;
	char code[ROVE_MAX_NAME + 1], name[128], login[ROVE_MAX_NAME + 1];

	if (manager != NULL) {
		const char *args[2] = {"hq", "Headquarters"};
		admin(s, &l->auth, "territory.add", args, 2, NULL, 0);
	}
	for (uint32_t t = 0; t < sh->territories; t++) {
		const char *args[3] = {code, name, "hq"};
		bench_territory_code(sh, t, code, sizeof(code));
		snprintf(name, sizeof(name), "Bench territory %s", code);
		admin(s, &l->auth, "territory.add", args, manager != NULL ? 3 : 2, NULL, 0);
		for (uint32_t k = 0; k < sh->owners; k++) {
			bench_owner_login(sh, t, k, login, sizeof(login));
			add_user(s, l, dir, login, "rep", code);
		}
	}
	if (analyst != NULL)
		add_user(s, l, dir, analyst, "analyst", NULL);
	if (manager != NULL)
		add_user(s, l, dir, manager, "manager", "hq");
}

/* Pushes ops[0..n) and counts the answers. */
static int push(loader *l, nng_socket s, const rove_uuid *replica, rove_op *ops, uint32_t n, rove_buf *req)
{
	nng_msg *reply;
	rove_msg m;
	rove_push_result r;
	uint64_t acc = 0, rej = 0;

	rove_buf_reset(req);
	if (rove_enc_push(req, &l->auth, replica, NULL, ops, n) != ROVE_OK) {
		fprintf(stderr, "loader: cannot encode a push\n");
		return -1;
	}
	if (call(s, req, &reply, &m) != 0)
		return -1;
	if (m.type != ROVE_MSG_PUSH_REPLY || m.u.push_reply.n != n) {
		fprintf(stderr, "loader: unexpected push reply\n");
		nng_msg_free(reply);
		return -1;
	}
	while (rove_msg_next_result(&m, &r) == ROVE_OK) {
		if (r.status == ROVE_PUSH_ACCEPTED) {
			acc++;
			continue;
		}
		if (rej++ < 3) {
			pthread_mutex_lock(&l->mu);
			fprintf(stderr, "loader: rejected: %s %s\n", rove_reason_name(r.reason), r.detail);
			pthread_mutex_unlock(&l->mu);
		}
	}
	nng_msg_free(reply);
	atomic_fetch_add(&l->ops, n);
	atomic_fetch_add(&l->accepted, acc);
	atomic_fetch_add(&l->rejected, rej);
	return 0;
}

static int child_op(loader *l, rove_op *op, uint8_t coll, uint32_t i, uint32_t j, const char *cid, rove_stamp st)
{
	rove_uuid id;

	rove_uuid_new(&id);
	rove_op_init(op, ROVE_OP_CREATE, coll, &id, st);
	if (coll == ROVE_COLL_CONTACT)
		return bench_contact_fields(&l->shape, i, j, cid, &op->fs, st);
	return bench_activity_fields(&l->shape, i, j, cid, &op->fs, st);
}

/* Fills ops with creates for customers first..; returns the op count and
 * sets *end to the customer after the last one taken. */
static uint32_t build_creates(loader *l, rove_op *ops, uint32_t first, uint32_t *end, rove_stamp st)
{
	const bench_shape *sh = &l->shape;
	uint32_t n = 0, i;

	for (i = first; i < sh->customers && i < first + l->per_batch; i++) {
		char cid[ROVE_UUID_STRLEN + 1];

		rove_uuid_new(&l->ids[i]);
		rove_uuid_format(&l->ids[i], cid);
		rove_op_init(&ops[n], ROVE_OP_CREATE, ROVE_COLL_CUSTOMER, &l->ids[i], st);
		if (bench_customer_fields(sh, i, &ops[n].fs, st) != ROVE_OK)
			return 0;
		n++;
		for (uint32_t j = 0; j < sh->contacts; j++)
			if (child_op(l, &ops[n++], ROVE_COLL_CONTACT, i, j, cid, st) != ROVE_OK)
				return 0;
		for (uint32_t j = 0; j < sh->activities; j++)
			if (child_op(l, &ops[n++], ROVE_COLL_ACTIVITY, i, j, cid, st) != ROVE_OK)
				return 0;
	}
	*end = i;
	return n;
}

static uint32_t build_updates(loader *l, rove_op *ops, uint32_t first, uint32_t *end, rove_stamp st)
{
	static const char *const tiers[] = {"prospect", "customer", "loyal"};
	uint32_t n = 0, i;

	for (i = first; i < l->nupd && n < ROVE_MAX_PUSH_OPS; i++) {
		uint32_t c = l->upd[i];
		char addr[128];

		rove_op_init(&ops[n], ROVE_OP_UPDATE, ROVE_COLL_CUSTOMER, &l->ids[c], st);
		snprintf(addr, sizeof(addr), "No. %u Changed Road, updated at %llu", c,
			 (unsigned long long)rove_hlc_ms(st.hlc));
		if (rove_op_set(&ops[n], "address", rove_vcstr(addr)) != ROVE_OK ||
		    rove_op_set(&ops[n], "tier", rove_vcstr(tiers[(c + rove_hlc_ms(st.hlc)) % 3])) != ROVE_OK)
			return 0;
		n++;
	}
	*end = i;
	return n;
}

static void *worker(void *arg)
{
	loader *l = arg;
	rove_op *ops = malloc(ROVE_MAX_PUSH_OPS * sizeof(*ops));
	rove_uuid replica;
	rove_buf req;
	nng_socket s;
	uint64_t node;

	rove_buf_init(&req);
	rove_uuid_new(&replica);
	node = rove_uuid_node(&replica);
	if (ops == NULL || dial(l->url, &s) != 0) {
		atomic_store(&l->failed, 1);
		free(ops);
		return NULL;
	}
	while (!atomic_load(&l->failed)) {
		unsigned b = atomic_fetch_add(&l->next, 1);
		rove_stamp st = {rove_hlc_from_ms(rove_wall_ms()), node};
		uint32_t n, first, end;

		if (l->upd != NULL) {
			first = b * ROVE_MAX_PUSH_OPS;
			if (first >= l->nupd)
				break;
			n = build_updates(l, ops, first, &end, st);
		} else {
			first = b * l->per_batch;
			if (first >= l->shape.customers)
				break;
			n = build_creates(l, ops, first, &end, st);
		}
		if (n == 0 || push(l, s, &replica, ops, n, &req) != 0)
			atomic_store(&l->failed, 1);
	}
	nng_close(s);
	rove_buf_free(&req);
	free(ops);
	return NULL;
}

static void run_workers(loader *l)
{
	pthread_t th[64];

	for (uint32_t j = 0; j < l->jobs; j++)
		if (pthread_create(&th[j], NULL, worker, l) != 0)
			die("cannot start %s", "a thread");
	for (uint32_t j = 0; j < l->jobs; j++)
		pthread_join(th[j], NULL);
	if (atomic_load(&l->failed))
		die("%s", "failed");
}

static void write_ids(const loader *l, const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		die("cannot write %s", path);
	for (uint32_t i = 0; i < l->shape.customers; i++) {
		char ids[ROVE_UUID_STRLEN + 1], code[ROVE_MAX_NAME + 1], owner[ROVE_MAX_NAME + 1];
		uint32_t t = bench_customer_territory(&l->shape, i);
		rove_uuid_format(&l->ids[i], ids);
		bench_territory_code(&l->shape, t, code, sizeof(code));
		bench_owner_login(&l->shape, t, bench_customer_owner(&l->shape, i), owner, sizeof(owner));
		fprintf(f, "%s %s %s\n", ids, code, owner);
	}
	if (fclose(f) != 0)
		die("cannot write %s", path);
}

/* Reads an ids file; picks the first n customers (of owner, if given). */
static void read_ids(loader *l, const char *path, const char *owner, uint32_t n)
{
	FILE *f = fopen(path, "r");
	char line[512];
	uint32_t cap = 1024, count = 0, *upd = malloc(n * sizeof(*upd));

	l->ids = malloc(cap * sizeof(*l->ids));
	if (f == NULL || upd == NULL || l->ids == NULL)
		die("cannot read %s", path);
	l->nupd = 0;
	while (fgets(line, sizeof(line), f) != NULL && l->nupd < n) {
		char id[64], code[ROVE_MAX_NAME + 1], who[ROVE_MAX_NAME + 1];
		if (sscanf(line, "%63s %64s %64s", id, code, who) != 3)
			die("bad line in %s", path);
		if (owner != NULL && strcmp(owner, who) != 0)
			continue;
		if (count == cap) {
			cap *= 2;
			l->ids = realloc(l->ids, cap * sizeof(*l->ids));
			if (l->ids == NULL)
				die("%s", "out of memory");
		}
		if (rove_uuid_parse(id, &l->ids[count]) != ROVE_OK)
			die("bad id in %s", path);
		upd[l->nupd++] = count++;
	}
	fclose(f);
	if (l->nupd < n)
		die("%s lists fewer customers than asked for", path);
	l->upd = upd;
}

static uint32_t num(const char *s, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > 100000000ul)
		die("invalid %s", what);
	return (uint32_t)v;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"url", required_argument, NULL, 'u'},      {"token-file", required_argument, NULL, 'T'},
		{"admin", required_argument, NULL, 'a'},    {"customers", required_argument, NULL, 'c'},
		{"territories", required_argument, NULL, 't'}, {"owners", required_argument, NULL, 'o'},
		{"contacts", required_argument, NULL, 'C'}, {"activities", required_argument, NULL, 'A'},
		{"analyst", required_argument, NULL, 'y'},  {"manager", required_argument, NULL, 'm'},
		{"tokens", required_argument, NULL, 'd'},   {"ids", required_argument, NULL, 'i'},
		{"jobs", required_argument, NULL, 'j'},     {"run", required_argument, NULL, 'r'},
		{"update", required_argument, NULL, 'U'},   {"owner", required_argument, NULL, 'O'},
		{"lead", no_argument, NULL, 'L'},           {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	loader l;
	const char *token_file = NULL, *analyst = NULL, *manager = NULL, *dir = ".", *ids_path = NULL;
	const char *owner = NULL;
	uint32_t update = 0;
	nng_socket s;
	double t0, t1, t2;
	int c;

	memset(&l, 0, sizeof(l));
	pthread_mutex_init(&l.mu, NULL);
	snprintf(l.auth.user, sizeof(l.auth.user), "admin");
	l.shape = (bench_shape){100000, 50, 1, 2, 1, 0, false};
	l.jobs = 2;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'u': l.url = optarg; break;
		case 'T': token_file = optarg; break;
		case 'a': snprintf(l.auth.user, sizeof(l.auth.user), "%s", optarg); break;
		case 'c': l.shape.customers = num(optarg, "--customers"); break;
		case 't': l.shape.territories = num(optarg, "--territories"); break;
		case 'o': l.shape.owners = num(optarg, "--owners"); break;
		case 'C': l.shape.contacts = num(optarg, "--contacts"); break;
		case 'A': l.shape.activities = num(optarg, "--activities"); break;
		case 'y': analyst = optarg; break;
		case 'm': manager = optarg; break;
		case 'd': dir = optarg; break;
		case 'i': ids_path = optarg; break;
		case 'j': l.jobs = num(optarg, "--jobs"); break;
		case 'r': l.shape.run = num(optarg, "--run"); break;
		case 'U': update = num(optarg, "--update"); break;
		case 'O': owner = optarg; break;
		case 'L': l.shape.lead = true; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: fputs(usage_text, stderr); return 2;
		}
	}
	if (optind != argc || l.url == NULL || token_file == NULL || l.shape.territories == 0 ||
	    l.shape.owners == 0 || l.jobs == 0 || l.jobs > 64 || (update > 0 && ids_path == NULL) ||
	    1 + l.shape.contacts + l.shape.activities > ROVE_MAX_PUSH_OPS) {
		fputs(usage_text, stderr);
		return 2;
	}
	if (bench_read_token(token_file, l.auth.token) != 0)
		die("cannot read a token from %s", token_file);
	l.per_batch = ROVE_MAX_PUSH_OPS / (1 + l.shape.contacts + l.shape.activities);

	if (update > 0) {
		read_ids(&l, ids_path, owner, update);
		t0 = bench_now();
		run_workers(&l);
		t1 = bench_now();
		printf("{\"updated\":%u,\"ops\":%llu,\"accepted\":%llu,\"rejected\":%llu,\"seconds\":%.3f,"
		       "\"ops_per_s\":%.0f}\n",
		       l.nupd, (unsigned long long)l.ops, (unsigned long long)l.accepted,
		       (unsigned long long)l.rejected, t1 - t0, (double)l.ops / (t1 - t0));
		return l.rejected == 0 ? 0 : 1;
	}

	mkdir(dir, 0700);
	l.ids = calloc(l.shape.customers ? l.shape.customers : 1, sizeof(*l.ids));
	if (l.ids == NULL)
		die("%s", "out of memory");
	if (dial(l.url, &s) != 0)
		return 3;
	t0 = bench_now();
	make_people(s, &l, dir, analyst, manager);
	nng_close(s);
	t1 = bench_now();
	run_workers(&l);
	t2 = bench_now();
	if (ids_path != NULL)
		write_ids(&l, ids_path);
	printf("{\"territories\":%u,\"reps\":%u,\"customers\":%u,\"contacts\":%llu,\"activities\":%llu,"
	       "\"ops\":%llu,\"accepted\":%llu,\"rejected\":%llu,\"admin_seconds\":%.3f,\"seconds\":%.3f,"
	       "\"ops_per_s\":%.0f}\n",
	       l.shape.territories, l.shape.territories * l.shape.owners, l.shape.customers,
	       (unsigned long long)l.shape.customers * l.shape.contacts,
	       (unsigned long long)l.shape.customers * l.shape.activities, (unsigned long long)l.ops,
	       (unsigned long long)l.accepted, (unsigned long long)l.rejected, t1 - t0, t2 - t1,
	       (double)l.ops / (t2 - t1));
	return l.rejected == 0 ? 0 : 1;
}
