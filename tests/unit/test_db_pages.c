/*
 * test_db_pages.c - rove_db_pages_check (common/db_pages.c), the walk of
 * an LMDB file's pages roved check makes.
 *
 * A seeded random workload (ROVE_SEED replays one) over tables of every
 * kind LMDB has (plain, integer keys, duplicates in sub-pages and in
 * trees of their own, duplicates of a fixed size), with values on
 * overflow pages, aborted transactions and a reader held across commits
 * (a long free list): after every commit the walk finds no fault and
 * accounts for every page. A file that ends before its last page in use
 * (pages freed in the transaction that took them, never written): clean;
 * cut shorter: found. A writer committing twice after a read began:
 * the read renewed and walked. Then copies damaged at random: the walk ends (under the
 * sanitizers: without reading past what it read), and damage to the
 * free list is found.
 */
#include "check.h"

#include "db.h"
#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/rove-test-pages.XXXXXX";
static uint64_t rng;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned below(unsigned n)
{
	return (unsigned)(next() % n);
}

typedef struct faults {
	unsigned n;
	bool freelist; /* one of them about the free list */
	char first[256];
} faults;

static void on_fault(void *arg, const uint64_t *page, bool free_list, const char *what)
{
	faults *f = arg;

	/* said as the free list's exactly when it names it (or the space) */
	CHECK_EQ_INT(free_list, strncmp(what, "free list", 9) == 0 || strstr(what, "in the free list") != NULL);

	if (f->n++ == 0)
		snprintf(f->first, sizeof(f->first), "page %lld: %s", page != NULL ? (long long)*page : -1LL, what);
	if (strstr(what, "free list") != NULL)
		f->freelist = true;
}

/* Walks env as a new read transaction sees it; the faults into *f. */
static int walk(MDB_env *env, faults *f, uint64_t *npages)
{
	MDB_txn *txn;
	int rc;

	memset(f, 0, sizeof(*f));
	CHECK_EQ_INT(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	rc = rove_db_pages_check(env, txn, -1, on_fault, f, npages);
	mdb_txn_abort(txn);
	return rc;
}

enum { PLAIN, INTS, DUPS, FIXED, NTABLES };

static void one_txn(MDB_env *env, MDB_dbi *dbi)
{
	static char val[2000 + 3 * 4096];
	MDB_txn *txn;
	unsigned ops = 1 + below(300);

	CHECK_EQ_INT(mdb_txn_begin(env, NULL, 0, &txn), 0);
	for (unsigned i = 0; i < ops; i++) {
		unsigned t = below(NTABLES), kn = below(t == INTS ? 5000 : 800);
		uint64_t ik = kn;
		char key[32];
		MDB_val k, v;
		int rc;

		if (t == INTS) {
			k.mv_size = sizeof(ik);
			k.mv_data = &ik;
		} else {
			k.mv_size = (size_t)snprintf(key, sizeof(key), "key-%u", kn);
			k.mv_data = key;
		}
		memset(val, 'a' + (int)below(26), sizeof(val));
		switch (t) {
		case PLAIN:
		case INTS:
			/* a few values on overflow pages */
			v.mv_size = below(10) == 0 ? 2000 + below(3 * 4096) : below(300);
			break;
		case DUPS:
			v.mv_size = 1 + below(200);
			val[0] = (char)below(256); /* distinct duplicates */
			val[1] = (char)below(256);
			break;
		default:
			v.mv_size = 16;
			val[0] = (char)below(256);
			val[1] = (char)below(256);
		}
		v.mv_data = val;
		if (below(4) == 0) {
			rc = mdb_del(txn, dbi[t], &k, NULL);
			CHECK(rc == 0 || rc == MDB_NOTFOUND);
		} else {
			rc = mdb_put(txn, dbi[t], &k, &v, 0);
			CHECK(rc == 0 || rc == MDB_KEYEXIST);
		}
	}
	if (below(10) == 0)
		mdb_txn_abort(txn);
	else
		CHECK_EQ_INT(mdb_txn_commit(txn), 0);
}

/* The random workload: every commit walked clean. */
static void clean_walks(MDB_env *env, unsigned txns)
{
	MDB_dbi dbi[NTABLES];
	MDB_txn *txn, *reader = NULL;
	MDB_envinfo info;
	faults f;
	uint64_t npages;
	static const unsigned flags[NTABLES] = {0, MDB_INTEGERKEY, MDB_DUPSORT, MDB_DUPSORT | MDB_DUPFIXED};
	static const char *const names[NTABLES] = {"plain", "ints", "dups", "fixed"};

	CHECK_EQ_INT(mdb_txn_begin(env, NULL, 0, &txn), 0);
	for (int t = 0; t < NTABLES; t++)
		CHECK_EQ_INT(mdb_dbi_open(txn, names[t], MDB_CREATE | flags[t], &dbi[t]), 0);
	CHECK_EQ_INT(mdb_txn_commit(txn), 0);
	for (unsigned i = 0; i < txns; i++) {
		/* a reader held over a stretch of commits: their pages wait in
		 * the free list */
		if (reader == NULL && below(20) == 0)
			CHECK_EQ_INT(mdb_txn_begin(env, NULL, MDB_RDONLY, &reader), 0);
		else if (reader != NULL && below(10) == 0) {
			mdb_txn_abort(reader);
			reader = NULL;
		}
		one_txn(env, dbi);
		CHECK_EQ_INT(walk(env, &f, &npages), ROVE_OK);
		CHECK_EQ_INT(mdb_env_info(env, &info), 0);
		CHECK_EQ_INT(npages, (uint64_t)info.me_last_pgno + 1);
		if (f.n > 0) {
			fprintf(stderr, "after transaction %u: %u fault(s), the first %s\n", i, f.n, f.first);
			CHECK_EQ_INT(f.n, 0);
			break;
		}
	}
	if (reader != NULL)
		mdb_txn_abort(reader);
}

/* Pages a transaction took and freed again are never written: when they
 * are the last ones, the file ends before the meta page's last page in
 * use. LMDB's own file, healthy (rove_db_open allows it): the walk finds
 * no fault. (Found by the seeded workload above, seed 1796474636.) */
static void freed_tail(void)
{
	static char val[40000];
	char sub[sizeof(dir) + 16], key[16];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_envinfo info;
	MDB_stat ms;
	MDB_val k, v = {sizeof(val), val};
	struct stat st;
	faults f;
	uint64_t npages;

	snprintf(sub, sizeof(sub), "%s/tail", dir);
	CHECK_EQ_INT(mkdir(sub, 0700), 0);
	CHECK_EQ_INT(mdb_env_create(&env), 0);
	CHECK_EQ_INT(mdb_env_set_mapsize(env, 64u << 20), 0);
	CHECK_EQ_INT(mdb_env_open(env, sub, MDB_NOTLS, 0600), 0);
	k.mv_data = key;
	k.mv_size = (size_t)snprintf(key, sizeof(key), "kept");
	/* three commits: the pages the second one freed are free for the
	 * next writer, which reads them from the free list */
	for (int round = 0; round < 3; round++) {
		CHECK_EQ_INT(mdb_txn_begin(env, NULL, 0, &txn), 0);
		CHECK_EQ_INT(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
		CHECK_EQ_INT(mdb_put(txn, dbi, &k, &(MDB_val){4 + (size_t)round, "kept!"}, 0), 0);
		CHECK_EQ_INT(mdb_txn_commit(txn), 0);
	}
	/* values on overflow pages, past the end of the file (the free list
	 * has no run that long), freed again in the same transaction */
	CHECK_EQ_INT(mdb_txn_begin(env, NULL, 0, &txn), 0);
	for (int i = 0; i < 20; i++) {
		k.mv_size = (size_t)snprintf(key, sizeof(key), "gone-%02d", i);
		CHECK_EQ_INT(mdb_put(txn, dbi, &k, &v, 0), 0);
	}
	for (int i = 0; i < 20; i++) {
		k.mv_size = (size_t)snprintf(key, sizeof(key), "gone-%02d", i);
		CHECK_EQ_INT(mdb_del(txn, dbi, &k, NULL), 0);
	}
	CHECK_EQ_INT(mdb_txn_commit(txn), 0);
	CHECK_EQ_INT(mdb_env_info(env, &info), 0);
	CHECK_EQ_INT(mdb_env_stat(env, &ms), 0);
	snprintf(sub, sizeof(sub), "%s/tail/data.mdb", dir);
	CHECK_EQ_INT(stat(sub, &st), 0);
	/* the case itself: the file ends before the last page in use */
	CHECK((uint64_t)st.st_size < ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize);
	CHECK_EQ_INT(walk(env, &f, &npages), ROVE_OK);
	CHECK_EQ_INT(f.n, 0);
	if (f.n > 0)
		fprintf(stderr, "a freed tail: %s\n", f.first);
	CHECK_EQ_INT(npages, (uint64_t)info.me_last_pgno + 1);
	/* cut short where the trees' pages are: found */
	CHECK_EQ_INT(truncate(sub, 3 * (off_t)ms.ms_psize), 0);
	CHECK_EQ_INT(walk(env, &f, &npages), ROVE_OK);
	CHECK(f.n > 0);
	mdb_env_close(env);
}

/* A read that began before two commits: its meta page is gone; the walk
 * renews it and walks the latest snapshot, every page accounted for. */
static void changed(MDB_env *env)
{
	MDB_txn *txn, *w;
	MDB_dbi dbi;
	MDB_val k = {1, "z"}, v = {1, "z"};
	MDB_envinfo info;
	faults f;
	uint64_t npages, before;

	CHECK_EQ_INT(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	before = (uint64_t)mdb_txn_id(txn);
	for (int i = 0; i < 2; i++) {
		CHECK_EQ_INT(mdb_txn_begin(env, NULL, 0, &w), 0);
		CHECK_EQ_INT(mdb_dbi_open(w, "plain", 0, &dbi), 0);
		CHECK_EQ_INT(mdb_put(w, dbi, &k, &v, 0), 0);
		CHECK_EQ_INT(mdb_txn_commit(w), 0);
	}
	memset(&f, 0, sizeof(f));
	CHECK_EQ_INT(rove_db_pages_check(env, txn, -1, on_fault, &f, &npages), ROVE_OK);
	CHECK_EQ_INT(f.n, 0);
	CHECK_EQ_INT((uint64_t)mdb_txn_id(txn), before + 2);
	CHECK_EQ_INT(mdb_env_info(env, &info), 0);
	CHECK_EQ_INT(npages, (uint64_t)info.me_last_pgno + 1);
	mdb_txn_abort(txn);
}

/* Walks a copy of dir's file with n bytes from at written over (random
 * ones, or those of bytes); *f the faults. */
static void walk_copy(long at, unsigned n, const uint8_t *bytes, faults *f)
{
	char src[sizeof(dir) + 16], cpy[sizeof(dir) + 16], cmd[4 * sizeof(dir) + 128], path[sizeof(cpy) + 16];
	MDB_env *env;
	uint64_t npages;
	FILE *fp;

	snprintf(src, sizeof(src), "%s/data.mdb", dir);
	snprintf(cpy, sizeof(cpy), "%s/d", dir);
	snprintf(cmd, sizeof(cmd), "rm -rf %s && mkdir %s && cp %s %s/", cpy, cpy, src, cpy);
	CHECK_EQ_INT(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/data.mdb", cpy);
	fp = fopen(path, "r+b");
	CHECK(fp != NULL);
	if (fp == NULL)
		return;
	CHECK_EQ_INT(fseek(fp, at, SEEK_SET), 0);
	for (unsigned i = 0; i < n; i++)
		fputc(bytes != NULL ? bytes[i] : (int)below(256), fp);
	CHECK_EQ_INT(fclose(fp), 0);
	CHECK_EQ_INT(mdb_env_create(&env), 0);
	CHECK_EQ_INT(mdb_env_set_maxdbs(env, 8), 0);
	CHECK_EQ_INT(mdb_env_open(env, cpy, MDB_RDONLY | MDB_NOLOCK, 0600), 0);
	CHECK_EQ_INT(walk(env, f, &npages), ROVE_OK);
	mdb_env_close(env);
}

/* Damaged copies: random bytes over the start of pages past the meta
 * ones (headers and node offsets; most pages are free or a value's, so
 * what is found varies: every walk ends, which the sanitizers watch);
 * the main tree's root page saying another page's number: found. */
static void damaged_walks(unsigned copies)
{
	char src[sizeof(dir) + 16];
	struct stat st;
	unsigned found = 0, freelist = 0;
	uint8_t meta[4096 * 2], junk[8] = {7, 7, 7, 7, 7, 7, 7, 7};
	uint64_t root = 0, txn[2] = {0, 0};
	faults f;
	FILE *fp;

	snprintf(src, sizeof(src), "%s/data.mdb", dir);
	CHECK_EQ_INT(stat(src, &st), 0);
	for (unsigned c = 0; c < copies; c++) {
		walk_copy((long)(2 + next() % (uint64_t)(st.st_size / 4096 - 2)) * 4096 + (long)below(48),
			  1 + below(16), NULL, &f);
		found += f.n > 0;
		freelist += f.freelist;
	}
	printf("%u damaged copies: %u with faults found (%u in the free list)\n", copies, found, freelist);
	/* the newer meta page's main root (meta: after the page header, 24
	 * bytes, the free list's tree header; root at 40 in a header) */
	fp = fopen(src, "rb");
	CHECK(fp != NULL);
	if (fp == NULL)
		return;
	CHECK_EQ_INT(fread(meta, 1, sizeof(meta), fp), sizeof(meta));
	fclose(fp);
	for (int i = 0; i < 2; i++)
		memcpy(&txn[i], meta + i * 4096 + 16 + 24 + 96 + 8, 8);
	memcpy(&root, meta + (txn[1] > txn[0] ? 4096 : 0) + 16 + 24 + 48 + 40, 8);
	walk_copy((long)root * 4096, 8, junk, &f);
	CHECK(f.n > 0);
	CHECK(strstr(f.first, "holds the header of page") != NULL);
}

int main(void)
{
	MDB_env *env;
	char cmd[sizeof(dir) + 16];
	const char *seed = getenv("ROVE_SEED");

	rng = seed != NULL ? strtoull(seed, NULL, 10) : (uint64_t)time(NULL);
	printf("seed %llu (replay with ROVE_SEED=%llu)\n", (unsigned long long)rng, (unsigned long long)rng);
	rng = rng * 2654435761u + 1;
	if (mkdtemp(dir) == NULL)
		return 1;
	CHECK_EQ_INT(mdb_env_create(&env), 0);
	CHECK_EQ_INT(mdb_env_set_maxdbs(env, 8), 0);
	CHECK_EQ_INT(mdb_env_set_mapsize(env, 256u << 20), 0);
	CHECK_EQ_INT(mdb_env_open(env, dir, MDB_NOTLS, 0600), 0);
	freed_tail();
	clean_walks(env, 400);
	changed(env);
	mdb_env_close(env);
	damaged_walks(60);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_EQ_INT(system(cmd), 0);
	return check_done("test_db_pages");
}
