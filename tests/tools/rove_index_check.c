/*
 * rove_index_check - compares a replica's indexes with its records
 * (rove_replica_check_index), as roved check does for a server, and
 * checks that its outbox's acknowledged ops come first: for the tests
 * that the indexes stay right through every kind of write.
 *
 *   rove_index_check DIR           checks; each problem on stderr
 *   rove_index_check DIR --forget  removes the index tables and their
 *                                  mark, as a replica made by an older
 *                                  rove has none (the next open builds
 *                                  them)
 *
 * Exit 0 when clean (or forgotten), 1 with problems or when the replica
 * cannot be read, 2 on usage.
 */
#include "db.h"
#include "err.h"
#include "replica.h"

#include <lmdb.h>
#include <stdio.h>
#include <string.h>

/* Drops the three index tables and meta "index" in one transaction. */
static int forget(rove_replica *r)
{
	static const char *const names[] = {"index0", "index1", "indexv"};
	MDB_val k = {5, "index"};
	MDB_txn *txn;
	int rc = rove_db_err(mdb_txn_begin(r->env, NULL, 0, &txn), "begin");

	for (size_t i = 0; rc == ROVE_OK && i < sizeof(names) / sizeof(names[0]); i++) {
		MDB_dbi dbi;
		rc = rove_db_err(mdb_dbi_open(txn, names[i], 0, &dbi), "index");
		if (rc == ROVE_OK)
			rc = rove_db_err(mdb_drop(txn, dbi, 1), "index");
	}
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_del(txn, r->meta, &k, NULL), "meta");
	if (rc == ROVE_OK)
		return rove_db_err(mdb_txn_commit(txn), "commit");
	mdb_txn_abort(txn);
	return rc;
}

int main(int argc, char **argv)
{
	rove_replica r;
	uint64_t problems = 0;
	int rc;

	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "--forget") != 0)) {
		fprintf(stderr, "usage: rove_index_check DIR [--forget]\n");
		return 2;
	}
	rc = rove_replica_open(argv[1], &r);
	if (rc != ROVE_OK) {
		fprintf(stderr, "rove_index_check: cannot open the replica in '%s': %s\n", argv[1], rove_strerror(rc));
		return 1;
	}
	if (argc == 3) {
		rc = forget(&r);
		rove_replica_close(&r);
		if (rc != ROVE_OK)
			fprintf(stderr, "rove_index_check: cannot forget the index: %s\n", rove_strerror(rc));
		return rc == ROVE_OK ? 0 : 1;
	}
	rc = rove_replica_check_index(&r, &problems);
	rove_replica_close(&r);
	if (rc != ROVE_OK) {
		fprintf(stderr, "rove_index_check: cannot read the replica: %s\n", rove_strerror(rc));
		return 1;
	}
	if (problems != 0) {
		fprintf(stderr, "rove_index_check: %llu problems in '%s'\n", (unsigned long long)problems, argv[1]);
		return 1;
	}
	return 0;
}
