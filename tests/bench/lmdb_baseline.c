/*
 * lmdb_baseline - the floor the benchmarks compare against: the benchmark
 * data set's records, encoded as rove stores them (rove_enc_record, every
 * field with its stamp, the server's own fields and the ownership records
 * included), bulk-loaded straight into one LMDB environment by one process:
 * keys (collection, then time-ordered id) in order with MDB_APPEND, and
 * durable commits (LMDB's default: the data and meta pages are synced).
 *
 *   lmdb_baseline --dir DIR [--customers N] [--territories T] [--owners K]
 *                 [--contacts C] [--activities A] [--no-ownership]
 *                 [--txn-records N] [--scan]
 *
 * --txn-records N commits every N records (default: one transaction);
 * --scan then reads back and decodes every customer and activity (what a
 * report reads). Prints one JSON line of figures.
 */
#include "bench_data.h"

#include "err.h"
#include "hlc.h"
#include "proto.h"
#include "schema.h"

#include <errno.h>
#include <getopt.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char usage_text[] =
	"usage: lmdb_baseline --dir DIR [--customers N] [--territories T] [--owners K]\n"
	"                     [--lead] [--contacts C] [--activities A] [--no-ownership]\n"
	"                     [--txn-records N] [--scan]\n"
	"Bulk-loads the benchmark data set's records into a new LMDB environment in\n"
	"DIR (keys in order, MDB_APPEND, durable commits) and prints its figures.\n";

typedef struct baseline {
	MDB_env *env;
	MDB_dbi dbi;
	MDB_txn *txn;
	uint32_t txn_records;  /* 0: one transaction */
	uint32_t in_txn;
	uint64_t records, bytes, commits;
	uint64_t ms;           /* the ids' time part */
	rove_stamp st;
	rove_record *rec;
	rove_buf buf;
} baseline;

static void die(const char *what, int rc)
{
	fprintf(stderr, "lmdb_baseline: %s: %s\n", what, rc ? mdb_strerror(rc) : "failed");
	exit(1);
}

/* A time-ordered id like rove_uuid_new's, with a counter where the random
 * bits go, so that ids made in this order are in key order. */
static void make_id(const baseline *b, uint64_t counter, rove_uuid *id)
{
	for (int i = 0; i < 6; i++)
		id->b[i] = (uint8_t)(b->ms >> (40 - 8 * i));
	id->b[6] = 0x70;
	id->b[7] = 0;
	id->b[8] = 0x80;
	for (int i = 9; i < 16; i++)
		id->b[i] = (uint8_t)(counter >> (8 * (15 - i)));
}

static void begin(baseline *b)
{
	int rc = mdb_txn_begin(b->env, NULL, 0, &b->txn);

	if (rc != 0)
		die("begin", rc);
	b->in_txn = 0;
}

static void commit(baseline *b)
{
	int rc = mdb_txn_commit(b->txn);

	if (rc != 0)
		die("commit", rc);
	b->txn = NULL;
	b->commits++;
}

/* Stores b->rec (its coll and id set) at the end of the database. */
static void put(baseline *b)
{
	uint8_t key[17];
	MDB_val k = {sizeof(key), key}, v;
	int rc;

	if (b->txn == NULL)
		begin(b);
	rove_buf_reset(&b->buf);
	if (rove_enc_record(&b->buf, b->rec) != ROVE_OK)
		die("encode", 0);
	key[0] = b->rec->coll;
	memcpy(key + 1, b->rec->id.b, 16);
	v.mv_size = b->buf.len;
	v.mv_data = b->buf.data;
	rc = mdb_put(b->txn, b->dbi, &k, &v, MDB_APPEND);
	if (rc != 0)
		die("put", rc);
	b->records++;
	b->bytes += k.mv_size + v.mv_size;
	if (b->txn_records != 0 && ++b->in_txn == b->txn_records)
		commit(b);
}

static void start(baseline *b, uint8_t coll, uint64_t counter)
{
	b->rec->coll = coll;
	make_id(b, counter, &b->rec->id);
	rove_fields_init(&b->rec->fs);
}

static void check(int rc)
{
	if (rc != ROVE_OK)
		die("fields", 0);
}

static void load(baseline *b, const bench_shape *s, bool ownership)
{
	const char *by = "admin";
	char cid[ROVE_UUID_STRLEN + 1];
	rove_uuid id;

	for (uint32_t i = 0; i < s->customers; i++) {
		start(b, ROVE_COLL_CUSTOMER, i);
		check(bench_customer_fields(s, i, &b->rec->fs, b->st));
		check(bench_customer_server_fields(s, i, &b->rec->fs, b->st));
		put(b);
	}
	for (uint32_t i = 0; i < s->customers; i++) {
		make_id(b, i, &id);
		rove_uuid_format(&id, cid);
		for (uint32_t j = 0; j < s->contacts; j++) {
			start(b, ROVE_COLL_CONTACT, (uint64_t)i * s->contacts + j);
			check(bench_contact_fields(s, i, j, cid, &b->rec->fs, b->st));
			put(b);
		}
	}
	for (uint32_t i = 0; i < s->customers; i++) {
		make_id(b, i, &id);
		rove_uuid_format(&id, cid);
		for (uint32_t j = 0; j < s->activities; j++) {
			start(b, ROVE_COLL_ACTIVITY, (uint64_t)i * s->activities + j);
			check(bench_activity_fields(s, i, j, cid, &b->rec->fs, b->st));
			check(bench_activity_server_fields(by, &b->rec->fs, b->st));
			put(b);
		}
	}
	for (uint32_t t = 0; t < s->territories; t++) {
		char code[ROVE_MAX_NAME + 1], name[128];
		bench_territory_code(s, t, code, sizeof(code));
		snprintf(name, sizeof(name), "Bench territory %s", code);
		start(b, ROVE_COLL_TERRITORY, t);
		check(rove_fields_set(&b->rec->fs, "code", rove_vcstr(code), b->st));
		check(rove_fields_set(&b->rec->fs, "name", rove_vcstr(name), b->st));
		put(b);
	}
	for (uint32_t i = 0; ownership && i < s->customers; i++) {
		make_id(b, i, &id);
		rove_uuid_format(&id, cid);
		start(b, ROVE_COLL_OWNERSHIP, i);
		check(bench_ownership_fields(s, i, cid, by, &b->rec->fs, b->st));
		put(b);
	}
	if (b->txn != NULL)
		commit(b);
}

/* Decodes every record of the collections a report reads. */
static uint64_t scan(baseline *b)
{
	static const uint8_t colls[] = {ROVE_COLL_CUSTOMER, ROVE_COLL_OPPORTUNITY, ROVE_COLL_ACTIVITY,
					ROVE_COLL_TARGET};
	MDB_txn *txn;
	MDB_cursor *c;
	uint64_t n = 0;
	int rc = mdb_txn_begin(b->env, NULL, MDB_RDONLY, &txn);

	if (rc == 0)
		rc = mdb_cursor_open(txn, b->dbi, &c);
	if (rc != 0)
		die("scan", rc);
	for (size_t i = 0; i < sizeof(colls); i++) {
		uint8_t key[1] = {colls[i]};
		MDB_val k = {1, key}, v;
		int mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		while (mrc == 0 && ((const uint8_t *)k.mv_data)[0] == colls[i]) {
			if (rove_dec_record(v.mv_data, v.mv_size, b->rec) != ROVE_OK)
				die("decode", 0);
			n++;
			mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
		}
	}
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	return n;
}

static uint32_t num(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > 100000000ul) {
		fprintf(stderr, "lmdb_baseline: invalid number '%s'\n", s);
		exit(2);
	}
	return (uint32_t)v;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'},        {"customers", required_argument, NULL, 'c'},
		{"territories", required_argument, NULL, 't'}, {"owners", required_argument, NULL, 'o'},
		{"contacts", required_argument, NULL, 'C'},   {"activities", required_argument, NULL, 'A'},
		{"no-ownership", no_argument, NULL, 'n'},     {"txn-records", required_argument, NULL, 'x'},
		{"scan", no_argument, NULL, 's'},             {"help", no_argument, NULL, 'h'},
		{"lead", no_argument, NULL, 'L'},             {NULL, 0, NULL, 0},
	};
	bench_shape s = {100000, 50, 1, 2, 1, 0, false};
	baseline b;
	const char *dir = NULL;
	bool ownership = true, do_scan = false;
	uint64_t scanned = 0;
	double t0, t1, t2 = 0, t3 = 0;
	MDB_txn *txn;
	int c, rc;

	memset(&b, 0, sizeof(b));
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'c': s.customers = num(optarg); break;
		case 't': s.territories = num(optarg); break;
		case 'o': s.owners = num(optarg); break;
		case 'L': s.lead = true; break;
		case 'C': s.contacts = num(optarg); break;
		case 'A': s.activities = num(optarg); break;
		case 'n': ownership = false; break;
		case 'x': b.txn_records = num(optarg); break;
		case 's': do_scan = true; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: fputs(usage_text, stderr); return 2;
		}
	}
	if (optind != argc || dir == NULL || s.territories == 0 || s.owners == 0) {
		fputs(usage_text, stderr);
		return 2;
	}
	b.rec = malloc(sizeof(*b.rec));
	if (b.rec == NULL)
		die("memory", 0);
	rove_buf_init(&b.buf);
	b.ms = rove_wall_ms();
	b.st = (rove_stamp){rove_hlc_from_ms(b.ms), 0x1234567890abcdefull};
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		die("mkdir", errno);

	t0 = bench_now();
	rc = mdb_env_create(&b.env);
	if (rc == 0)
		rc = mdb_env_set_maxdbs(b.env, 4);
	if (rc == 0)
		rc = mdb_env_set_mapsize(b.env, ROVE_REPLICA_MAPSIZE);
	if (rc == 0)
		rc = mdb_env_open(b.env, dir, MDB_NOTLS, 0600);
	if (rc == 0)
		rc = mdb_txn_begin(b.env, NULL, 0, &txn);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "records", MDB_CREATE, &b.dbi);
	if (rc == 0)
		rc = mdb_txn_commit(txn);
	if (rc != 0)
		die(dir, rc);
	load(&b, &s, ownership);
	t1 = bench_now();
	if (do_scan) {
		t2 = bench_now();
		scanned = scan(&b);
		t3 = bench_now();
	}
	mdb_env_close(b.env);
	printf("{\"records\":%llu,\"bytes\":%llu,\"commits\":%llu,\"seconds\":%.4f,\"records_per_s\":%.0f",
	       (unsigned long long)b.records, (unsigned long long)b.bytes, (unsigned long long)b.commits,
	       t1 - t0, (double)b.records / (t1 - t0));
	if (do_scan)
		printf(",\"scan_records\":%llu,\"scan_seconds\":%.4f", (unsigned long long)scanned, t3 - t2);
	printf("}\n");
	rove_buf_free(&b.buf);
	free(b.rec);
	return 0;
}
