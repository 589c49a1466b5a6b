/*
 * rove_corrupt - damages a server database on purpose, through LMDB, for
 * the tests of roved check (run it while no roved writes to DIR).
 *
 *   rove_corrupt DIR TABLE del N       deletes the Nth entry (from 0) of
 *                                      TABLE
 *   rove_corrupt DIR TABLE garble N    replaces the Nth entry's value with
 *                                      bytes that decode as nothing
 *   rove_corrupt DIR TABLE put KEY VAL adds an entry (KEY and VAL in hex;
 *                                      "-" for an empty value)
 *
 * Prints the key of the entry it changed, in hex, on stdout. Exit 0 when
 * done, 1 when it could not (no such table or entry), 2 on usage.
 */
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unhex(const char *s, unsigned char *out, size_t max, size_t *len)
{
	size_t n = strlen(s);

	if (strcmp(s, "-") == 0) {
		*len = 0;
		return 0;
	}
	if (n % 2 != 0 || n / 2 > max)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	*len = n / 2;
	return 0;
}

static void print_hex(const MDB_val *k)
{
	for (size_t i = 0; i < k->mv_size; i++)
		printf("%02x", ((const unsigned char *)k->mv_data)[i]);
	putchar('\n');
}

static int fail(const char *what, int rc)
{
	fprintf(stderr, "rove_corrupt: %s: %s\n", what, mdb_strerror(rc));
	return 1;
}

int main(int argc, char **argv)
{
	static unsigned char key[511], val[4096];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	if (argc < 5 || (strcmp(argv[3], "put") == 0 ? argc != 6 : argc != 5)) {
		fputs("usage: rove_corrupt DIR TABLE del|garble N | put KEY VAL\n", stderr);
		return 2;
	}
	if ((rc = mdb_env_create(&env)) != 0 || (rc = mdb_env_set_maxdbs(env, 64)) != 0 ||
	    (rc = mdb_env_open(env, argv[1], 0, 0600)) != 0)
		return fail("open", rc);
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
		return fail("begin", rc);
	if ((rc = mdb_dbi_open(txn, argv[2], 0, &dbi)) != 0)
		return fail(argv[2], rc);
	if (strcmp(argv[3], "put") == 0) {
		size_t kl, vl;
		if (unhex(argv[4], key, sizeof(key), &kl) != 0 || kl == 0 || unhex(argv[5], val, sizeof(val), &vl) != 0) {
			fputs("rove_corrupt: KEY and VAL are hex\n", stderr);
			return 2;
		}
		k.mv_size = kl;
		k.mv_data = key;
		v.mv_size = vl;
		v.mv_data = val;
		if ((rc = mdb_put(txn, dbi, &k, &v, 0)) != 0)
			return fail("put", rc);
	} else {
		long n = strtol(argv[4], NULL, 10);
		int garble = strcmp(argv[3], "garble") == 0;
		if (!garble && strcmp(argv[3], "del") != 0) {
			fprintf(stderr, "rove_corrupt: unknown action '%s'\n", argv[3]);
			return 2;
		}
		if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
			return fail("cursor", rc);
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
		for (long i = 0; rc == 0 && i < n; i++)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		if (rc != 0)
			return fail("no such entry", rc);
		memcpy(key, k.mv_data, k.mv_size);
		k.mv_data = key;
		if (garble) {
			/* 0xc1: a byte MessagePack never uses. */
			memset(val, 0xc1, 8);
			v.mv_size = 8;
			v.mv_data = val;
			rc = mdb_cursor_put(cur, &k, &v, MDB_CURRENT);
		} else {
			rc = mdb_cursor_del(cur, 0);
		}
		if (rc != 0)
			return fail(argv[3], rc);
		mdb_cursor_close(cur);
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		return fail("commit", rc);
	mdb_env_close(env);
	print_hex(&k);
	return 0;
}
