/*
 * test_cover.c - the covering scope index (scoperec's values) on a real
 * server database: after every kind of write (create, edit, child,
 * release, claim, reassignment of a family, delete) each scope entry
 * holds exactly the bytes the records table holds for its record; a
 * scoped snapshot sends those records whatever the entries hold - their
 * copies, nothing (a database of format 4: read from the records table)
 * or a damaged copy (read from the records table too, never sent).
 */
#include "check.h"
#include "compact.h"
#include "srv.h"

enum { C = ROVE_COLL_CUSTOMER, CONTACT = ROVE_COLL_CONTACT, OPP = ROVE_COLL_OPPORTUNITY };

/* ---- every entry is a copy of its record ---- */

/* Walks scoperec: each entry of a scope that holds copies (the policy's
 * o: and r:) equals its record's bytes, each of another scope (t:) is
 * empty. *stale counts those that are not so, *copies the entries of
 * scopes that hold copies, *entries all of them. */
static void entries_copies(srv *s, uint64_t *entries, uint64_t *copies, uint64_t *stale, bool say)
{
	MDB_txn *txn = NULL;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	int mrc;

	*entries = *copies = *stale = 0;
	CHECK_EQ_INT(rove_store_begin(&s->e.st, NULL, false, &txn), ROVE_OK);
	CHECK_EQ_INT(mdb_cursor_open(txn, s->e.st.scoperec, &c), 0);
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0; mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		const uint8_t *key = (const uint8_t *)k.mv_data + k.mv_size - ROVE_RECORD_KEY;
		MDB_val raw;
		bool deleted = false;
		(*entries)++;
		CHECK_EQ_INT(rove_store_record_raw(&s->e.st, txn, key, &raw), ROVE_OK);
		/* scoperec lists live records only: a snapshot holds no tombstone */
		CHECK_EQ_INT(rove_record_raw_deleted(raw.mv_data, raw.mv_size, &deleted), ROVE_OK);
		if (deleted)
			fprintf(stderr, "scoperec %s: a deleted record\n", (const char *)k.mv_data);
		CHECK(!deleted);
		if (!rove_policy_scope_copies(k.mv_data)) {
			if (v.mv_size != 0) {
				if (say && *stale == 0)
					fprintf(stderr, "scoperec %s: a copy in a scope that keeps none\n",
						(const char *)k.mv_data);
				(*stale)++;
			}
			continue;
		}
		(*copies)++;
		if (v.mv_size != raw.mv_size || memcmp(v.mv_data, raw.mv_data, raw.mv_size) != 0) {
			if (say && *stale == 0)
				fprintf(stderr, "scoperec %s: a value of %zu bytes, the record %zu\n",
					(const char *)k.mv_data, v.mv_size, raw.mv_size);
			(*stale)++;
		}
	}
	CHECK_EQ_INT(mrc, MDB_NOTFOUND);
	mdb_cursor_close(c);
	rove_store_abort(txn);
}

static void entries_cover(srv *s, uint64_t *entries, uint64_t *stale, bool say)
{
	uint64_t copies;

	entries_copies(s, entries, &copies, stale, say);
	/* Both kinds of scope are there: o: and r: with copies, t: without. */
	CHECK(copies > 0 && copies < *entries);
}

static void check_covered(srv *s, const char *after)
{
	uint64_t entries, stale;

	entries_cover(s, &entries, &stale, true);
	if (stale != 0)
		fprintf(stderr, "after %s: %llu of %llu scope entries are not their record\n", after,
			(unsigned long long)stale, (unsigned long long)entries);
	CHECK(entries > 0);
	CHECK_EQ_INT(stale, 0);
}

/* What the tests below push: alice's customers a (with a contact and a
 * deal) and b, bob's c, each step checked. */
typedef struct company {
	rove_uuid a, b, c, contact, deal, gone;
} company;

static void build(srv *s, company *co)
{
	char ids[ROVE_UUID_STRLEN + 1], cust[64];

	co->a = srv_id(101);
	co->b = srv_id(102);
	co->c = srv_id(103);
	co->contact = srv_id(104);
	co->deal = srv_id(105);
	co->gone = srv_id(106);
	CHECK_EQ_INT(srv_reason(s, "alice", ROVE_OP_CREATE, C, &co->a, "name=Acme", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "alice", ROVE_OP_CREATE, C, &co->b, "name=Bolt", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "bob", ROVE_OP_CREATE, C, &co->c, "name=Crane", NULL), ROVE_R_NONE);
	check_covered(s, "creates");
	snprintf(cust, sizeof(cust), "customer=%s", srv_ids(&co->a, ids));
	CHECK_EQ_INT(srv_reason(s, "alice", ROVE_OP_CREATE, CONTACT, &co->contact, cust, "name=Ann", NULL),
		     ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "alice", ROVE_OP_CREATE, OPP, &co->deal, cust, "title=Deal", "amount=#1000", NULL),
		     ROVE_R_NONE);
	check_covered(s, "children");
	/* A child deleted: its entries go, and stay gone when its family
	 * moves (below). */
	CHECK_EQ_INT(srv_reason(s, "alice", ROVE_OP_CREATE, CONTACT, &co->gone, cust, "name=Gone", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "admin", ROVE_OP_DELETE, CONTACT, &co->gone, "_deleted=#1", NULL), ROVE_R_NONE);
	check_covered(s, "a child's delete");
	/* Edits change the record under scopes it stays in: each copy too. */
	CHECK_EQ_INT(srv_reason(s, "alice", ROVE_OP_UPDATE, C, &co->a, "name=Acme Ltd", NULL), ROVE_R_NONE);
	CHECK_EQ_INT(srv_reason(s, "alice", ROVE_OP_UPDATE, CONTACT, &co->contact, "name=Ann Lee", NULL),
		     ROVE_R_NONE);
	check_covered(s, "edits");
	/* Released to the pool, claimed by bob: the record moves. */
	CHECK_EQ_INT(srv_reason(s, "alice", ROVE_OP_RELEASE, C, &co->b, "owner=null", NULL), ROVE_R_NONE);
	check_covered(s, "a release");
	CHECK_EQ_INT(srv_reason(s, "bob", ROVE_OP_CLAIM, C, &co->b, "owner=bob", NULL), ROVE_R_NONE);
	check_covered(s, "a claim");
	/* Reassigned: the family moves, each child with its own bytes. */
	CHECK_EQ_INT(srv_admin(s, "admin", "reassign.customer", srv_ids(&co->a, ids), "bob", NULL), ROVE_OK);
	check_covered(s, "a reassignment");
	CHECK_EQ_INT(srv_reason(s, "bob", ROVE_OP_UPDATE, OPP, &co->deal, "amount=#2000", NULL), ROVE_R_NONE);
	check_covered(s, "an edit of a moved child");
	/* A delete leaves the scopes; what stays is still covered. */
	CHECK_EQ_INT(srv_reason(s, "admin", ROVE_OP_DELETE, C, &co->c, "_deleted=#1", NULL), ROVE_R_NONE);
	check_covered(s, "a delete");
}

static void test_every_write_refreshes(void)
{
	srv *s = srv_world_or_exit();
	company co;

	build(s, &co);
	srv_free(s);
}

/* ---- the snapshot ---- */

/* The records of user's whole snapshot, pulled chunk by chunk (two
 * records a chunk: resumes in and between scopes), each as raw bytes
 * appended to out with its length before it; *n counts them. Every
 * record sent must be its stored bytes. */
static int snapshot_records = ROVE_RECORD_FORMAT; /* what the puller reads */

static void snapshot(srv *s, const char *user, rove_buf *out, uint32_t *n)
{
	rove_pull_req q;
	rove_auth a;

	memset(&q, 0, sizeof(q));
	q.records = (uint8_t)snapshot_records;
	rove_uuid_new(&q.replica);
	q.max_items = 2;
	srv_auth(s, user, &a);
	rove_buf_reset(out);
	*n = 0;
	for (int chunks = 0; chunks < 1000; chunks++) {
		rove_buf req, reply;
		rove_msg m;
		rove_entry *en = malloc(sizeof(*en));
		const rove_pull_reply *h;
		int rc;

		rove_buf_init(&req);
		rove_buf_init(&reply);
		CHECK(en != NULL);
		CHECK_EQ_INT(rove_enc_pull(&req, &a, &q), ROVE_OK);
		rc = srv_call(s, &req, &reply, &m);
		CHECK_EQ_INT(rc, ROVE_OK);
		if (rc != ROVE_OK || m.type != ROVE_MSG_PULL_REPLY) {
			fprintf(stderr, "pull by %s: %s\n", user, s->err);
			CHECK(m.type == ROVE_MSG_PULL_REPLY);
			free(en);
			rove_buf_free(&req);
			rove_buf_free(&reply);
			return;
		}
		h = &m.u.pull_reply;
		CHECK_EQ_INT(h->mode, ROVE_PULL_SNAPSHOT);
		for (uint32_t i = 0; i < h->n; i++) {
			uint32_t len;
			CHECK_EQ_INT(rove_msg_next_entry(&m, en), ROVE_OK);
			CHECK_EQ_INT(en->tag, ROVE_ENTRY_RECORD);
			len = (uint32_t)en->rawlen;
			CHECK_EQ_INT(rove_buf_append(out, &len, sizeof(len)), ROVE_OK);
			CHECK_EQ_INT(rove_buf_append(out, en->raw, en->rawlen), ROVE_OK);
			(*n)++;
		}
		q.epoch = h->epoch;
		q.run = h->run;
		q.snap_seq = h->snap_seq;
		q.snap_keylen = h->snap_keylen;
		memcpy(q.snap_key, h->snap_key, h->snap_keylen);
		free(en);
		rove_buf_free(&req);
		rove_buf_free(&reply);
		if (!h->more)
			return;
	}
	CHECK(!"a snapshot of more than 1000 chunks");
}

/* Whether every record in snap (as snapshot() lays them out) is the
 * records table's, live. */
static void snapshot_is_records(srv *s, const rove_buf *snap)
{
	MDB_txn *txn = NULL;
	size_t at = 0;

	CHECK_EQ_INT(rove_store_begin(&s->e.st, NULL, false, &txn), ROVE_OK);
	while (at < snap->len) {
		const uint8_t *p = (const uint8_t *)snap->data + at;
		uint32_t len;
		rove_record *rec = malloc(sizeof(*rec));
		uint8_t key[ROVE_RECORD_KEY];
		MDB_val raw;

		memcpy(&len, p, sizeof(len));
		CHECK(rec != NULL);
		CHECK_EQ_INT(rove_dec_record(p + sizeof(len), len, rec), ROVE_OK);
		CHECK(!rove_record_deleted(rec));
		rove_record_key(key, rec->coll, &rec->id);
		CHECK_EQ_INT(rove_store_record_raw(&s->e.st, txn, key, &raw), ROVE_OK);
		CHECK(raw.mv_size == len && memcmp(raw.mv_data, p + sizeof(len), len) == 0);
		at += sizeof(len) + len;
		free(rec);
	}
	rove_store_abort(txn);
}

/* Sets the value of every scoperec entry (that of `only`, a record key,
 * when not NULL) to value: what a database of format 4 holds (empty), or
 * a damaged copy. */
static void set_entries(srv *s, const uint8_t *only, const MDB_val *value)
{
	MDB_txn *txn = NULL;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	int mrc, n = 0;

	CHECK_EQ_INT(rove_store_begin(&s->e.st, NULL, true, &txn), ROVE_OK);
	CHECK_EQ_INT(mdb_cursor_open(txn, s->e.st.scoperec, &c), 0);
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0; mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (only != NULL &&
		    memcmp((const uint8_t *)k.mv_data + k.mv_size - ROVE_RECORD_KEY, only, ROVE_RECORD_KEY) != 0)
			continue;
		uint8_t kb[512]; /* the key in the page moves as the value does */
		MDB_val kc = {k.mv_size, kb};
		CHECK(k.mv_size <= sizeof(kb));
		memcpy(kb, k.mv_data, k.mv_size);
		CHECK_EQ_INT(mdb_cursor_put(c, &kc, (MDB_val *)value, MDB_CURRENT), 0);
		n++;
	}
	CHECK(n > 0);
	mdb_cursor_close(c);
	CHECK_EQ_INT(rove_store_commit(txn), ROVE_OK);
}

static void test_snapshot_reads_covered_or_not(void)
{
	static const char *const users[] = {"alice", "bob", "mike", "carl"};
	srv *s = srv_world_or_exit();
	company co;
	rove_buf want[4], got;
	uint32_t nwant[4], ngot;
	uint8_t key[ROVE_RECORD_KEY], other[ROVE_RECORD_KEY];
	MDB_txn *txn = NULL;
	MDB_val empty = {0, ""}, raw, damaged;
	rove_buf copy;

	build(s, &co);
	rove_buf_init(&got);
	rove_buf_init(&copy);
	for (int i = 0; i < 4; i++) {
		rove_buf_init(&want[i]);
		snapshot(s, users[i], &want[i], &nwant[i]);
		snapshot_is_records(s, &want[i]);
	}
	/* bob: a, its contact and deal, b, and more (his territory, his
	 * notices); mike (east): those too. */
	CHECK(nwant[1] >= 4);
	CHECK(nwant[2] >= nwant[1]);

	/* Another record's bytes under a's entries: damaged, caught, and a's
	 * own sent instead. */
	rove_record_key(key, C, &co.a);
	rove_record_key(other, C, &co.b);
	CHECK_EQ_INT(rove_store_begin(&s->e.st, NULL, false, &txn), ROVE_OK);
	CHECK_EQ_INT(rove_store_record_raw(&s->e.st, txn, other, &raw), ROVE_OK);
	CHECK_EQ_INT(rove_buf_append(&copy, raw.mv_data, raw.mv_size), ROVE_OK);
	rove_store_abort(txn);
	damaged.mv_size = copy.len;
	damaged.mv_data = copy.data;
	set_entries(s, key, &damaged);
	for (int i = 0; i < 4; i++) {
		snapshot(s, users[i], &got, &ngot);
		CHECK_EQ_INT(ngot, nwant[i]);
		CHECK(got.len == want[i].len && memcmp(got.data, want[i].data, got.len) == 0);
	}
	/* Bytes that are no record: the same. */
	damaged.mv_size = 3;
	damaged.mv_data = "\x93\xc1\x00";
	set_entries(s, key, &damaged);
	snapshot(s, "bob", &got, &ngot);
	CHECK_EQ_INT(ngot, nwant[1]);
	CHECK(got.len == want[1].len && memcmp(got.data, want[1].data, got.len) == 0);

	/* A database of format 4: no entry covers its record; the same
	 * snapshots, from the records table. */
	set_entries(s, NULL, &empty);
	for (int i = 0; i < 4; i++) {
		snapshot(s, users[i], &got, &ngot);
		CHECK_EQ_INT(ngot, nwant[i]);
		CHECK(got.len == want[i].len && memcmp(got.data, want[i].data, got.len) == 0);
	}
	/* Entries fill as their records are written again. */
	CHECK_EQ_INT(srv_reason(s, "bob", ROVE_OP_UPDATE, C, &co.a, "name=Acme Group", NULL), ROVE_R_NONE);
	{
		uint64_t entries, copies, stale;
		entries_copies(s, &entries, &copies, &stale, false);
		/* a's entry in o:bob filled (t:east keeps no copy), the rest empty */
		CHECK(stale > 0 && stale < copies);
		CHECK_EQ_INT(copies - stale, 1);
	}
	snapshot(s, "bob", &got, &ngot);
	snapshot_is_records(s, &got);
	CHECK_EQ_INT(ngot, nwant[1]);

	for (int i = 0; i < 4; i++)
		rove_buf_free(&want[i]);
	rove_buf_free(&got);
	rove_buf_free(&copy);
	srv_free(s);
}

/* A database of format 4 is brought to 5 when opened, its entries kept
 * (empty: not covered) and its snapshots the same. */
static void test_format_4_upgraded(void)
{
	srv *s = srv_world_or_exit();
	company co;
	rove_buf want, got;
	uint32_t nwant, ngot;
	MDB_txn *txn = NULL;
	MDB_val empty = {0, ""};
	uint64_t format = 0;

	build(s, &co);
	rove_buf_init(&want);
	rove_buf_init(&got);
	snapshot(s, "bob", &want, &nwant);
	set_entries(s, NULL, &empty);
	CHECK_EQ_INT(rove_store_begin(&s->e.st, NULL, true, &txn), ROVE_OK);
	CHECK_EQ_INT(rove_store_meta_put(&s->e.st, txn, "format", 4), ROVE_OK);
	CHECK_EQ_INT(rove_store_commit(txn), ROVE_OK);
	CHECK_EQ_INT(srv_restart(s), ROVE_OK);
	CHECK_EQ_INT(rove_store_begin(&s->e.st, NULL, false, &txn), ROVE_OK);
	CHECK_EQ_INT(rove_store_meta_get(&s->e.st, txn, "format", &format), ROVE_OK);
	rove_store_abort(txn);
	CHECK_EQ_INT(format, ROVE_STORE_FORMAT);
	CHECK_EQ_INT(ROVE_STORE_FORMAT, 7);
	snapshot(s, "bob", &got, &ngot);
	CHECK_EQ_INT(ngot, nwant);
	CHECK(got.len == want.len && memcmp(got.data, want.data, got.len) == 0);
	/* A newer format than this roved's is refused. */
	CHECK_EQ_INT(rove_store_begin(&s->e.st, NULL, true, &txn), ROVE_OK);
	CHECK_EQ_INT(rove_store_meta_put(&s->e.st, txn, "format", ROVE_STORE_FORMAT + 1), ROVE_OK);
	CHECK_EQ_INT(rove_store_commit(txn), ROVE_OK);
	CHECK_EQ_INT(srv_restart(s), ROVE_EVERSION);
	rove_buf_free(&want);
	rove_buf_free(&got);
	srv_free(s);
}

/* roved compact gives every entry that does not cover its record (an
 * upgraded database's) its record's bytes, in batches, and then leaves
 * them be. */
/* A replica of an older rove (its PULL without records: format 1 only)
 * is sent the same records in format 1, each written anew; a current one
 * the stored bytes. */
static void test_format_1_puller(void)
{
	srv *s = srv_world_or_exit();
	company co;
	rove_buf now, old;
	uint32_t nnow, nold;
	size_t a = 0, b = 0;
	rove_record *r1 = malloc(sizeof(*r1)), *r2 = malloc(sizeof(*r2));

	CHECK(r1 != NULL && r2 != NULL);
	build(s, &co);
	rove_buf_init(&now);
	rove_buf_init(&old);
	snapshot(s, "mike", &now, &nnow);
	snapshot_is_records(s, &now);
	snapshot_records = 1;
	snapshot(s, "mike", &old, &nold);
	snapshot_records = ROVE_RECORD_FORMAT;
	CHECK_EQ_INT(nold, nnow);
	CHECK(nnow >= 4);
	while (a < now.len && b < old.len && r1 != NULL && r2 != NULL) {
		uint32_t la, lb;
		const uint8_t *pa = (const uint8_t *)now.data + a, *pb = (const uint8_t *)old.data + b;
		memcpy(&la, pa, sizeof(la));
		memcpy(&lb, pb, sizeof(lb));
		CHECK_EQ_INT(pa[sizeof(la)], 0x95); /* [coll, id, hlc, node, fields] */
		CHECK_EQ_INT(pb[sizeof(lb)], 0x93); /* [coll, id, fields] */
		CHECK(lb >= la);                    /* a stamp for every field */
		CHECK_EQ_INT(rove_dec_record(pa + sizeof(la), la, r1), ROVE_OK);
		CHECK_EQ_INT(rove_dec_record(pb + sizeof(lb), lb, r2), ROVE_OK);
		CHECK(r1->coll == r2->coll && rove_uuid_cmp(&r1->id, &r2->id) == 0 && r1->fs.n == r2->fs.n);
		for (uint32_t i = 0; i < r1->fs.n && i < r2->fs.n; i++)
			CHECK(strcmp(r1->fs.f[i].name, r2->fs.f[i].name) == 0 &&
			      rove_value_eq(&r1->fs.f[i].v, &r2->fs.f[i].v) &&
			      r1->fs.f[i].st.hlc.v == r2->fs.f[i].st.hlc.v && r1->fs.f[i].st.node == r2->fs.f[i].st.node);
		a += sizeof(la) + la;
		b += sizeof(lb) + lb;
	}
	CHECK(a == now.len && b == old.len);
	rove_buf_free(&now);
	rove_buf_free(&old);
	free(r1);
	free(r2);
	srv_free(s);
}

static void test_compact_fills(void)
{
	srv *s = srv_world_or_exit();
	company co;
	rove_compact_stats cs;
	uint64_t entries, copies, stale, covered = 0;
	MDB_val empty = {0, ""};
	MDB_txn *txn = NULL;

	build(s, &co);
	for (unsigned i = 0; i < 2 * ROVE_COMPACT_BATCH / 3 + 5; i++) {
		rove_uuid id = srv_id(1000 + i);
		CHECK_EQ_INT(srv_reason(s, "carl", ROVE_OP_CREATE, C, &id, "name=Many", NULL), ROVE_R_NONE);
	}
	/* A database of format 4, upgraded. */
	set_entries(s, NULL, &empty);
	CHECK_EQ_INT(rove_store_begin(&s->e.st, NULL, true, &txn), ROVE_OK);
	CHECK_EQ_INT(rove_store_meta_put(&s->e.st, txn, "format", 4), ROVE_OK);
	CHECK_EQ_INT(rove_store_meta_put(&s->e.st, txn, ROVE_STORE_COVERED, 0), ROVE_OK);
	CHECK_EQ_INT(rove_store_commit(txn), ROVE_OK);
	CHECK_EQ_INT(srv_restart(s), ROVE_OK);
	entries_copies(s, &entries, &copies, &stale, false);
	CHECK(copies > ROVE_COMPACT_BATCH); /* more than one batch */
	CHECK_EQ_INT(stale, copies);
	rove_engine_close(&s->e);
	s->open = false;
	CHECK_EQ_INT(rove_compact(s->dir, 365ull * 86400000u, &cs), ROVE_OK);
	CHECK_EQ_INT(cs.filled, copies);
	CHECK_EQ_INT(rove_compact(s->dir, 365ull * 86400000u, &cs), ROVE_OK);
	CHECK_EQ_INT(cs.filled, 0);
	CHECK_EQ_INT(srv_restart(s), ROVE_OK);
	check_covered(s, "compact");
	CHECK_EQ_INT(rove_store_begin(&s->e.st, NULL, false, &txn), ROVE_OK);
	CHECK_EQ_INT(rove_store_meta_get(&s->e.st, txn, ROVE_STORE_COVERED, &covered), ROVE_OK);
	rove_store_abort(txn);
	CHECK_EQ_INT(covered, 1);
	srv_free(s);
}

int main(void)
{
	test_every_write_refreshes();
	test_snapshot_reads_covered_or_not();
	test_format_4_upgraded();
	test_format_1_puller();
	test_compact_fills();
	return check_done("test_cover");
}
