/*
 * rove_corrupt - damages a server database on purpose, through LMDB, for
 * the tests of roved check (run it while no roved writes to DIR).
 *
 *   rove_corrupt DIR TABLE del N       deletes the Nth entry (from 0) of
 *                                      TABLE (from the end when N is
 *                                      negative: -1 is the last)
 *   rove_corrupt DIR TABLE garble N    replaces the Nth entry's value with
 *                                      bytes that decode as nothing
 *   rove_corrupt DIR TABLE set N VAL   replaces the Nth entry's value with
 *                                      VAL (hex)
 *   rove_corrupt DIR TABLE put KEY VAL adds an entry (KEY and VAL in hex;
 *                                      "-" for an empty value)
 *   rove_corrupt DIR TABLE delall PRE  deletes every entry whose key starts
 *                                      with PRE (hex; "-": all of them)
 *   rove_corrupt DIR TABLE rename PRE NEW  moves every entry whose key
 *                                      starts with PRE to one starting
 *                                      with NEW instead (a damaged key)
 *   rove_corrupt DIR TABLE drop -      deletes the table itself
 *   rove_corrupt DIR TABLE subst OLD NEW  replaces the bytes OLD with NEW
 *                                      (as long) in the first value that
 *                                      holds them
 *
 * Prints the key of the entry it changed, in hex, on stdout. Exit 0 when
 * done, 1 when it could not (no such table or entry), 2 on usage.
 */
#include <errno.h>
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

/* delall, rename and subst: the keys that match are listed first, then
 * changed one by one (a cursor's tree moves under writes). *last: the
 * last key changed. Returns 0, or 1 when nothing matched. */
static int each(MDB_txn *txn, MDB_dbi dbi, const char *action, const unsigned char *a, size_t al,
		const unsigned char *b, size_t bl, MDB_val *last)
{
	static unsigned char kb[511], vb[65536];
	struct key {
		size_t n;
		unsigned char b[511];
	} *keys = NULL;
	size_t nkeys = 0, cap = 0;
	int subst = strcmp(action, "subst") == 0;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return fail("cursor", rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		int match = 0;
		if (subst) {
			for (size_t i = 0; !match && i + al <= v.mv_size; i++)
				match = memcmp((const unsigned char *)v.mv_data + i, a, al) == 0;
		} else {
			match = k.mv_size >= al && memcmp(k.mv_data, a, al) == 0;
		}
		if (!match)
			continue;
		if (nkeys == cap) { /* doubled: one realloc per key was quadratic (40 s under ASan) */
			cap = cap ? 2 * cap : 64;
			keys = realloc(keys, cap * sizeof(*keys));
			if (keys == NULL)
				return fail("memory", ENOMEM);
		}
		keys[nkeys].n = k.mv_size;
		memcpy(keys[nkeys++].b, k.mv_data, k.mv_size);
		if (subst)
			break;
	}
	mdb_cursor_close(cur);
	for (size_t j = 0; j < nkeys; j++) {
		k.mv_size = keys[j].n;
		k.mv_data = keys[j].b;
		if ((rc = mdb_get(txn, dbi, &k, &v)) != 0 || v.mv_size > sizeof(vb))
			return fail("get", rc);
		memcpy(vb, v.mv_data, v.mv_size);
		v.mv_data = vb;
		if (subst) {
			for (size_t i = 0; i + al <= v.mv_size; i++)
				if (memcmp(vb + i, a, al) == 0) {
					memcpy(vb + i, b, bl);
					break;
				}
			rc = mdb_put(txn, dbi, &k, &v, 0);
		} else {
			rc = mdb_del(txn, dbi, &k, NULL);
			if (rc == 0 && strcmp(action, "rename") == 0) {
				memcpy(kb, b, bl);
				memcpy(kb + bl, keys[j].b + al, keys[j].n - al);
				k.mv_size = bl + keys[j].n - al;
				k.mv_data = kb;
				rc = mdb_put(txn, dbi, &k, &v, 0);
			}
		}
		if (rc != 0)
			return fail(action, rc);
		memcpy(kb, k.mv_data, k.mv_size);
		last->mv_size = k.mv_size;
		last->mv_data = kb;
	}
	free(keys);
	return nkeys > 0 ? 0 : 1;
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

	int two = argc > 3 && (strcmp(argv[3], "put") == 0 || strcmp(argv[3], "rename") == 0 ||
			       strcmp(argv[3], "subst") == 0 || strcmp(argv[3], "set") == 0);

	if (argc < 5 || (two ? argc != 6 : argc != 5)) {
		fputs("usage: rove_corrupt DIR TABLE del|garble N | set N VAL | delall PRE | put KEY VAL | rename PRE "
		      "NEW | subst OLD NEW\n",
		      stderr);
		return 2;
	}
	if ((rc = mdb_env_create(&env)) != 0 || (rc = mdb_env_set_maxdbs(env, 64)) != 0 ||
	    (rc = mdb_env_open(env, argv[1], 0, 0600)) != 0)
		return fail("open", rc);
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
		return fail("begin", rc);
	if ((rc = mdb_dbi_open(txn, argv[2], 0, &dbi)) != 0)
		return fail(argv[2], rc);
	if (strcmp(argv[3], "drop") == 0) {
		if ((rc = mdb_drop(txn, dbi, 1)) != 0)
			return fail("drop", rc);
		k.mv_size = strlen(argv[2]);
		k.mv_data = argv[2];
	} else if (strcmp(argv[3], "delall") == 0 || strcmp(argv[3], "rename") == 0 || strcmp(argv[3], "subst") == 0) {
		static unsigned char a[511], b[511];
		size_t al, bl = 0;
		if (unhex(argv[4], a, sizeof(a), &al) != 0 || (argc == 6 && unhex(argv[5], b, sizeof(b), &bl) != 0) ||
		    (strcmp(argv[3], "subst") == 0 && (al != bl || al == 0))) {
			fputs("rove_corrupt: PRE, NEW, OLD are hex (OLD and NEW as long)\n", stderr);
			return 2;
		}
		if (each(txn, dbi, argv[3], a, al, b, bl, &k) != 0) {
			fputs("rove_corrupt: no entry matched\n", stderr);
			return 1;
		}
	} else if (strcmp(argv[3], "put") == 0) {
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
		int set = strcmp(argv[3], "set") == 0;
		int garble = set || strcmp(argv[3], "garble") == 0;
		size_t vl = 8;
		if (!garble && strcmp(argv[3], "del") != 0) {
			fprintf(stderr, "rove_corrupt: unknown action '%s'\n", argv[3]);
			return 2;
		}
		if (set && unhex(argv[5], val, sizeof(val), &vl) != 0) {
			fputs("rove_corrupt: VAL is hex\n", stderr);
			return 2;
		}
		if (!set)
			memset(val, 0xc1, 8); /* 0xc1: a byte MessagePack never uses */
		if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
			return fail("cursor", rc);
		/* N from the end when negative: -1 the last entry. */
		rc = mdb_cursor_get(cur, &k, &v, n < 0 ? MDB_LAST : MDB_FIRST);
		for (long i = 0; rc == 0 && i < (n < 0 ? -n - 1 : n); i++)
			rc = mdb_cursor_get(cur, &k, &v, n < 0 ? MDB_PREV : MDB_NEXT);
		if (rc != 0)
			return fail("no such entry", rc);
		memcpy(key, k.mv_data, k.mv_size);
		k.mv_data = key;
		if (garble) {
			v.mv_size = vl;
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
