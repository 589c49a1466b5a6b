/*
 * fuzz_db.h - a snapshot of an LMDB environment's named databases in
 * memory, and putting it back in one write transaction, for the server and
 * client harnesses: reopening the environment for every run would cost
 * more than the run (LMDB allocates megabytes on every open).
 */
#ifndef ROVE_FUZZ_DB_H
#define ROVE_FUZZ_DB_H

#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fz_kv {
	unsigned db; /* index into the snapshot's dbis */
	size_t klen, vlen;
	char *k, *v;
} fz_kv;

/* The named databases of a server (server/store.h and policy_store.h) and of a
 * replica (client/replica.h), as the harnesses list them. */
#define FZ_STORE_DBIS 14
#define FZ_REPLICA_DBIS 8

typedef struct fz_snap {
	unsigned ndbis;
	fz_kv *kv;
	size_t n, cap;
} fz_snap;

static inline void fz_snap_fail(const char *what, int rc)
{
	fprintf(stderr, "fuzz: snapshot: %s: %s\n", what, mdb_strerror(rc));
	abort();
}

/* Copies every key and value of the ndbis databases into s. */
static inline void fz_snap_take(fz_snap *s, MDB_env *env, const MDB_dbi *dbis, unsigned ndbis)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);

	if (rc != 0)
		fz_snap_fail("begin", rc);
	memset(s, 0, sizeof(*s));
	s->ndbis = ndbis;
	for (unsigned d = 0; d < ndbis; d++) {
		MDB_cursor *c;
		MDB_val k, v;
		int mrc;

		rc = mdb_cursor_open(txn, dbis[d], &c);
		if (rc != 0)
			fz_snap_fail("cursor", rc);
		for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0; mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			fz_kv *e;
			if (s->n == s->cap) {
				s->cap = s->cap ? 2 * s->cap : 256;
				s->kv = realloc(s->kv, s->cap * sizeof(*s->kv));
				if (s->kv == NULL)
					fz_snap_fail("out of memory", 0);
			}
			e = &s->kv[s->n++];
			e->db = d;
			e->klen = k.mv_size;
			e->vlen = v.mv_size;
			e->k = malloc(k.mv_size + v.mv_size + 1);
			if (e->k == NULL)
				fz_snap_fail("out of memory", 0);
			e->v = e->k + k.mv_size;
			memcpy(e->k, k.mv_data, k.mv_size);
			if (v.mv_size > 0)
				memcpy(e->v, v.mv_data, v.mv_size);
		}
		if (mrc != MDB_NOTFOUND)
			fz_snap_fail("cursor", mrc);
		mdb_cursor_close(c);
	}
	mdb_txn_abort(txn);
}

/* Empties the databases and writes the snapshot back, in one commit;
 * dbis are the handles of the same databases, in the same order, in env
 * (which may have been reopened since). */
static inline void fz_snap_restore(const fz_snap *s, MDB_env *env, const MDB_dbi *dbis)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(env, NULL, 0, &txn);

	if (rc != 0)
		fz_snap_fail("begin", rc);
	for (unsigned d = 0; d < s->ndbis && rc == 0; d++)
		rc = mdb_drop(txn, dbis[d], 0);
	for (size_t i = 0; i < s->n && rc == 0; i++) {
		MDB_val k = {s->kv[i].klen, s->kv[i].k}, v = {s->kv[i].vlen, s->kv[i].v};
		rc = mdb_put(txn, dbis[s->kv[i].db], &k, &v, MDB_APPEND);
	}
	if (rc != 0)
		fz_snap_fail("restore", rc);
	rc = mdb_txn_commit(txn);
	if (rc != 0)
		fz_snap_fail("commit", rc);
}

static inline void fz_snap_free(fz_snap *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->kv[i].k);
	free(s->kv);
	memset(s, 0, sizeof(*s));
}

#endif
