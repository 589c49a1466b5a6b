/*
 * fuzz_pages.c - libFuzzer harness for the walk of an LMDB file's pages
 * (common/db_pages.c): rove_db_pages_check, which every sync, `rove sync
 * --repair`, `roved check` and `roved backup` run on a file that may be
 * damaged, and rove_db_pages_salvage, which reads the entries of a
 * damaged file that LMDB would crash on (its trees, then the pages no
 * tree holds). Both read bytes from the disk and trust none of them.
 *
 * A small file is made once: two named tables (one of 400 short entries,
 * one of 40 values on overflow pages) and a plain table, over a few
 * commits so that the free list holds pages. Each input is a list of
 * 5-byte patches, an offset (4 bytes, little endian, taken modulo the
 * size of the pages past the two meta pages) and a byte XORed there; the
 * file is the made one with those patches, written under the open
 * environment (the walk reads the file with pread, never through LMDB's
 * map; the meta pages are left whole, so a read transaction begins).
 * Checked:
 *   - both walks end, with ROVE_OK or an error, never a crash or a read
 *     outside their buffers (the sanitizers');
 *   - with no patch, the check finds no fault;
 *   - every entry the salvage gives lies whole in memory (each byte is
 *     read) and its key is at most a page long;
 *   - each fault has its words.
 */
#include "db.h"
#include "err.h"
#include "log.h"

#include <lmdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                   \
	do {                                                                                          \
		if (!(cond)) {                                                                        \
			fprintf(stderr, "fuzz_pages: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                      \
		}                                                                                     \
	} while (0)

static MDB_env *env;
static int fd;
static uint8_t *made; /* the file as made */
static size_t made_len, psize;
static uint64_t faults, touched;

static void made_fail(const char *what, int rc)
{
	fprintf(stderr, "fuzz_pages: making the file: %s: %s\n", what, mdb_strerror(rc));
	abort();
}

/* The file: tables "a" (short entries), "b" (values on overflow pages),
 * "c" (duplicates), over commits that free pages. */
static void make(const char *dir)
{
	MDB_txn *txn;
	MDB_dbi a, b, c;
	char key[32], val[6000];
	int rc;

	if ((rc = mdb_env_create(&env)) != 0 || (rc = mdb_env_set_maxdbs(env, 4)) != 0 ||
	    (rc = mdb_env_set_mapsize(env, 16u << 20)) != 0 || (rc = mdb_env_open(env, dir, MDB_NOTLS, 0600)) != 0)
		made_fail("open", rc);
	memset(val, 'v', sizeof(val));
	for (int round = 0; round < 3; round++) {
		if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0 || (rc = mdb_dbi_open(txn, "a", MDB_CREATE, &a)) != 0 ||
		    (rc = mdb_dbi_open(txn, "b", MDB_CREATE, &b)) != 0 ||
		    (rc = mdb_dbi_open(txn, "c", MDB_CREATE | MDB_DUPSORT, &c)) != 0)
			made_fail("begin", rc);
		for (int i = 0; i < 400; i++) {
			MDB_val k = {(size_t)snprintf(key, sizeof(key), "key-%05d", i * 7 % 400), key};
			MDB_val v = {(size_t)(8 + (i + round) % 40), val};
			if ((rc = mdb_put(txn, a, &k, &v, 0)) != 0)
				made_fail("put a", rc);
		}
		for (int i = 0; i < 40; i++) {
			MDB_val k = {(size_t)snprintf(key, sizeof(key), "big-%03d", i), key};
			MDB_val v = {(size_t)(2000 + 100 * ((i + round) % 30)), val};
			if ((rc = mdb_put(txn, b, &k, &v, 0)) != 0)
				made_fail("put b", rc);
		}
		for (int i = 0; i < 30; i++) {
			MDB_val k = {(size_t)snprintf(key, sizeof(key), "dup-%02d", i % 5), key};
			MDB_val v = {(size_t)snprintf(val + 100, 32, "d%03d-%d", i, round), val + 100};
			if ((rc = mdb_put(txn, c, &k, &v, 0)) != 0)
				made_fail("put c", rc);
		}
		if ((rc = mdb_txn_commit(txn)) != 0)
			made_fail("commit", rc);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/rove-fuzz-pages.XXXXXX", path[64];
	struct stat st;
	MDB_stat ms;

	(void)argc;
	(void)argv;
	rove_log_init("fuzz_pages", -1); /* (the walks' words are not wanted) */
	CHECK(mkdtemp(dir) != NULL);
	make(dir);
	CHECK(mdb_env_get_fd(env, &fd) == 0);
	CHECK(mdb_env_stat(env, &ms) == 0);
	psize = ms.ms_psize;
	CHECK(fstat(fd, &st) == 0 && (size_t)st.st_size > 4 * psize);
	made_len = (size_t)st.st_size;
	CHECK((made = malloc(made_len)) != NULL);
	CHECK(pread(fd, made, made_len, 0) == (ssize_t)made_len);
	/* (the files go; the environment keeps its open descriptor) */
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	(void)unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	(void)unlink(path);
	(void)rmdir(dir);
	return 0;
}

static void on_fault(void *arg, const uint64_t *page, bool free_list, const char *what)
{
	(void)arg;
	(void)free_list;
	(void)page;
	CHECK(what != NULL && what[0] != '\0');
	faults++;
}

static int on_entry(void *arg, const char *table, const void *key, size_t klen, const void *val, size_t vlen)
{
	const uint8_t *k = key, *v = val;
	uint64_t sum = 0;

	(void)arg;
	CHECK(table != NULL);
	CHECK(key != NULL || klen == 0);
	CHECK(klen <= psize);
	for (size_t i = 0; i < klen; i++)
		sum += k[i];
	for (size_t i = 0; i < vlen; i++)
		sum += v[i];
	touched += sum;
	return ROVE_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *file;
	size_t body = made_len - 2 * psize;
	MDB_txn *txn;
	uint64_t npages = 0;
	int rc;

	if (file == NULL)
		CHECK((file = malloc(made_len)) != NULL);
	memcpy(file, made, made_len);
	for (size_t i = 0; i + 5 <= size && i < 5 * 64; i += 5) {
		uint32_t at = (uint32_t)data[i] | (uint32_t)data[i + 1] << 8 | (uint32_t)data[i + 2] << 16 |
			      (uint32_t)data[i + 3] << 24;
		file[2 * psize + at % body] ^= data[i + 4];
	}
	CHECK(pwrite(fd, file + 2 * psize, body, (off_t)(2 * psize)) == (ssize_t)body);
	faults = 0;
	CHECK(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) == 0);
	rc = rove_db_pages_check(env, txn, -1, on_fault, NULL, &npages);
	CHECK(rc == ROVE_OK || rc == ROVE_ENOMEM || rc == ROVE_EPROTO || rc == ROVE_ECHANGED);
	if (size < 5)
		CHECK(rc == ROVE_OK && faults == 0);
	rc = rove_db_pages_salvage(env, txn, -1, on_fault, NULL, on_entry, NULL, &npages);
	CHECK(rc == ROVE_OK || rc == ROVE_ENOMEM || rc == ROVE_EPROTO || rc == ROVE_ECHANGED);
	/* tables of plain flags only, as rove and roved keep them: the main
	 * tree's plain entries and the table of duplicates are faults then */
	rc = rove_db_pages_salvage(env, txn, 0, on_fault, NULL, on_entry, NULL, &npages);
	CHECK(rc == ROVE_OK || rc == ROVE_ENOMEM || rc == ROVE_EPROTO || rc == ROVE_ECHANGED);
	mdb_txn_abort(txn);
	return 0;
}
