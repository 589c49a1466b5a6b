/*
 * test_db.c - opening an LMDB environment (common/db.c): a file cut short
 * is refused with a message, not read to a SIGBUS; a whole one opens;
 * a reader without the lock file learns when writers may have reused its
 * pages.
 */
#include "check.h"

#include "db.h"
#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/rove-test-db.XXXXXX";

static off_t file_size(void)
{
	char path[sizeof(dir) + 16];
	struct stat st;

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void truncate_to(off_t len)
{
	char path[sizeof(dir) + 16];

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	CHECK_EQ_INT(truncate(path, len), 0);
}

/* A table of 50 values, then 5,000 more dropped again in one transaction:
 * pages in use and free ones. */
static void make_db(void)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	char big[100];
	uint8_t key[8];
	MDB_val k = {8, key}, v = {sizeof(big), big};
	MDB_envinfo info;
	MDB_stat ms;

	memset(big, 'x', sizeof(big));
	CHECK_EQ_INT(rove_db_open(dir, 1, 4, 64u << 20, &env), ROVE_OK);
	CHECK_EQ_INT(mdb_txn_begin(env, NULL, 0, &txn), 0);
	CHECK_EQ_INT(mdb_dbi_open(txn, "t", MDB_CREATE, &dbi), 0);
	for (uint64_t i = 0; i < 50; i++) {
		rove_be64_put(key, i);
		CHECK_EQ_INT(mdb_put(txn, dbi, &k, &v, 0), 0);
	}
	CHECK_EQ_INT(mdb_txn_commit(txn), 0);
	CHECK_EQ_INT(mdb_txn_begin(env, NULL, 0, &txn), 0);
	for (uint64_t i = 1000; i < 6000; i++) {
		rove_be64_put(key, i);
		CHECK_EQ_INT(mdb_put(txn, dbi, &k, &v, 0), 0);
	}
	CHECK_EQ_INT(mdb_drop(txn, dbi, 0), 0);
	CHECK_EQ_INT(mdb_txn_commit(txn), 0);
	CHECK_EQ_INT(mdb_env_info(env, &info), 0);
	CHECK_EQ_INT(mdb_env_stat(env, &ms), 0);
	CHECK(file_size() > 3 * (off_t)ms.ms_psize);
	CHECK(info.me_last_pgno > 3);
	mdb_env_close(env);
}

/* One committed write to table "t" of env. */
static void write_once(MDB_env *env)
{
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {1, "k"}, v = {1, "v"};

	CHECK_EQ_INT(mdb_txn_begin(env, NULL, 0, &txn), 0);
	CHECK_EQ_INT(mdb_dbi_open(txn, "t", 0, &dbi), 0);
	CHECK_EQ_INT(mdb_put(txn, dbi, &k, &v, 0), 0);
	CHECK_EQ_INT(mdb_txn_commit(txn), 0);
}

/* rove_db_changed_since: one commit after a reader's snapshot cannot
 * have overwritten its pages, two may. */
static void changed_since(void)
{
	MDB_env *env;
	enum rove_db_access access;
	MDB_txn *txn;
	uint64_t id;

	CHECK_EQ_INT(rove_db_open_any(dir, 4, 64u << 20, &env, &access), ROVE_OK);
	CHECK_EQ_INT(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	id = mdb_txn_id(txn);
	mdb_txn_abort(txn);
	CHECK(!rove_db_changed_since(env, id));
	write_once(env);
	CHECK(!rove_db_changed_since(env, id));
	write_once(env);
	CHECK(rove_db_changed_since(env, id));
	mdb_env_close(env);
}

int main(void)
{
	MDB_env *env;
	char cmd[sizeof(dir) + 16];

	if (mkdtemp(dir) == NULL)
		return 1;
	make_db();
	CHECK_EQ_INT(rove_db_open(dir, 0, 4, 64u << 20, &env), ROVE_OK);
	mdb_env_close(env);
	changed_since();
	/* Pages in use past the end (cut to its two meta pages and one
	 * more): refused, not a SIGBUS. */
	truncate_to(3 * 4096);
	CHECK_EQ_INT(rove_db_open(dir, 0, 4, 64u << 20, &env), ROVE_EPROTO);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_EQ_INT(system(cmd), 0);
	return check_done("test_db");
}
