#include "replica.h"

#include "db.h"
#include "err.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The layout of a replica; one made with another is refused at open
 * (ROVE_EVERSION). 2: refused ops in proto's rejection encoding, the
 * last sync time in a file. 3: two bases, the journal, the server's run. */
#define REPLICA_FORMAT 3
#define REPLICA_MAXDBS 16
#define PENDING_KEY (ROVE_RECORD_KEY + 8) /* coll(1) id(16) lseq(8) */
/* The time of the last sync: a file beside the database (see synced). */
#define LAST_SYNC_FILE "last_sync"
#define LAST_SYNC_MAX_CHARS 20 /* the digits of UINT64_MAX */
#define REPLICA_PATH_MAX 4096

/* dir/name into out; ROVE_EINVAL if it does not fit. */
static int replica_path(const char *dir, const char *name, char out[REPLICA_PATH_MAX])
{
	int n = snprintf(out, REPLICA_PATH_MAX, "%s/%s", dir, name);

	if (n < 0 || n >= REPLICA_PATH_MAX) {
		rove_error("replica path too long: '%s'", dir);
		return ROVE_EINVAL;
	}
	return ROVE_OK;
}

static int open_dbis(rove_replica *r, MDB_txn *txn, unsigned flags)
{
	const rove_db_table t[] = {
		{"meta", &r->meta},         {"base0", &r->bases[0]},  {"base1", &r->bases[1]},
		{"view", &r->view},         {"outbox", &r->outbox},   {"pending", &r->pending},
		{"rejected", &r->rejected}, {"journal", &r->journal},
	};

	return rove_db_open_tables(txn, t, sizeof(t) / sizeof(t[0]), flags);
}

/* Which of the two bases is the base: meta "base", 0 (or absent) or 1. */
static int bases_get(rove_replica *r, MDB_txn *txn)
{
	uint64_t i = 0;
	int rc = rove_db_get_u64(txn, r->meta, "base", &i);

	if (rc == ROVE_ENOTFOUND) {
		i = 0;
		rc = ROVE_OK;
	}
	if (rc == ROVE_OK && i > 1)
		rc = ROVE_EPROTO;
	if (rc == ROVE_OK) {
		r->base = r->bases[i];
		r->aside = r->bases[1 - i];
	}
	return rc;
}

/* Begins a transaction (flags: 0 or MDB_RDONLY) and learns which base is
 * the base in it: every transaction on the replica begins here. */
static int txn_begin(rove_replica *r, unsigned flags, MDB_txn **txn)
{
	int rc = rove_db_err(mdb_txn_begin(r->env, NULL, flags, txn), "begin");

	if (rc == ROVE_OK) {
		rc = bases_get(r, *txn);
		if (rc != ROVE_OK) {
			mdb_txn_abort(*txn);
			*txn = NULL;
		}
	}
	return rc;
}

int rove_replica_create(const char *dir, const char *server, const char *user, const char *token,
			const char *tls_ca)
{
	char path[4096];
	struct stat sb;
	rove_replica r;
	MDB_txn *txn = NULL;
	MDB_val k, v;
	int rc;

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (stat(path, &sb) == 0)
		return ROVE_EEXIST;
	/* A new replica has never synced, whatever an old one left here. */
	rc = replica_path(dir, LAST_SYNC_FILE, path);
	if (rc != ROVE_OK)
		return rc;
	if (unlink(path) != 0 && errno != ENOENT && errno != ENOTDIR) {
		rove_error("cannot remove '%s': %s", path, strerror(errno));
		return ROVE_EIO;
	}
	memset(&r, 0, sizeof(r));
	rc = rove_db_open(dir, 1, REPLICA_MAXDBS, ROVE_REPLICA_MAPSIZE, &r.env);
	if (rc != ROVE_OK)
		return rc;
	rove_uuid_new(&r.id);
	rc = rove_db_err(mdb_txn_begin(r.env, NULL, 0, &txn), "begin");
	if (rc == ROVE_OK)
		rc = open_dbis(&r, txn, MDB_CREATE);
	if (rc == ROVE_OK)
		rc = rove_db_put_u64(txn, r.meta, "format", REPLICA_FORMAT);
	if (rc == ROVE_OK)
		rc = rove_db_put_str(txn, r.meta, "server", server);
	if (rc == ROVE_OK)
		rc = rove_db_put_str(txn, r.meta, "user", user);
	if (rc == ROVE_OK)
		rc = rove_db_put_str(txn, r.meta, "token", token);
	if (rc == ROVE_OK)
		rc = rove_db_put_str(txn, r.meta, "role", "unknown");
	if (rc == ROVE_OK)
		rc = rove_db_put_str(txn, r.meta, "tls_ca", tls_ca != NULL ? tls_ca : "");
	if (rc == ROVE_OK) {
		k.mv_size = 2;
		k.mv_data = "id";
		v.mv_size = 16;
		v.mv_data = r.id.b;
		rc = rove_db_err(mdb_put(txn, r.meta, &k, &v, 0), "meta");
	}
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_txn_commit(txn), "commit");
	else if (txn != NULL)
		mdb_txn_abort(txn);
	mdb_env_close(r.env);
	return rc;
}

static int meta_str(MDB_txn *txn, MDB_dbi dbi, const char *key, char *out, size_t max)
{
	const char *s;
	size_t len;
	int rc = rove_db_get_str(txn, dbi, key, &s, &len);

	if (rc != ROVE_OK)
		return rc;
	if (len > max || memchr(s, '\0', len) != NULL)
		return ROVE_EPROTO;
	memcpy(out, s, len);
	out[len] = '\0';
	return ROVE_OK;
}

int rove_replica_open(const char *dir, rove_replica *r)
{
	char path[4096];
	struct stat sb;
	MDB_txn *txn = NULL;
	MDB_val k = {2, "id"}, v;
	uint64_t format = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (stat(path, &sb) != 0)
		return ROVE_ENOTFOUND;
	rc = rove_db_open(dir, 0, REPLICA_MAXDBS, ROVE_REPLICA_MAPSIZE, &r->env);
	if (rc != ROVE_OK)
		return rc;
	rc = rove_db_err(mdb_txn_begin(r->env, NULL, MDB_RDONLY, &txn), "begin");
	if (rc == ROVE_OK)
		rc = open_dbis(r, txn, 0);
	if (rc == ROVE_OK)
		rc = rove_db_get_u64(txn, r->meta, "format", &format);
	if (rc == ROVE_OK && format != REPLICA_FORMAT)
		rc = ROVE_EVERSION;
	if (rc == ROVE_OK)
		rc = bases_get(r, txn);
	if (rc == ROVE_OK)
		rc = meta_str(txn, r->meta, "server", r->server, ROVE_MAX_URL);
	if (rc == ROVE_OK)
		rc = meta_str(txn, r->meta, "user", r->auth.user, ROVE_MAX_NAME);
	if (rc == ROVE_OK)
		rc = meta_str(txn, r->meta, "token", r->auth.token, ROVE_TOKEN_HEX);
	if (rc == ROVE_OK)
		rc = meta_str(txn, r->meta, "role", r->role, ROVE_MAX_NAME);
	if (rc == ROVE_OK)
		rc = meta_str(txn, r->meta, "tls_ca", r->tls_ca, ROVE_MAX_URL);
	if (rc == ROVE_OK) {
		rc = rove_db_err(mdb_get(txn, r->meta, &k, &v), "meta id");
		if (rc == ROVE_OK && v.mv_size != 16)
			rc = ROVE_EPROTO;
		if (rc == ROVE_OK)
			memcpy(r->id.b, v.mv_data, 16);
	}
	/* Commit, not abort: dbi handles opened in an aborted txn are closed. */
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_txn_commit(txn), "commit");
	else if (txn != NULL)
		mdb_txn_abort(txn);
	if (rc != ROVE_OK) {
		mdb_env_close(r->env);
		r->env = NULL;
		return rc;
	}
	r->node = rove_uuid_node(&r->id);
	return ROVE_OK;
}

void rove_replica_close(rove_replica *r)
{
	if (r->env != NULL)
		mdb_env_close(r->env);
	r->env = NULL;
}

/* ---- records ---- */

static int rec_get(MDB_txn *txn, MDB_dbi dbi, uint8_t coll, const rove_uuid *id, rove_record *rec)
{
	uint8_t key[ROVE_RECORD_KEY];
	MDB_val k = {ROVE_RECORD_KEY, key}, v;
	int rc;

	rove_record_key(key, coll, id);
	rc = mdb_get(txn, dbi, &k, &v);
	if (rc != 0)
		return rove_db_err(rc, "record");
	rc = rove_dec_record(v.mv_data, v.mv_size, rec);
	if (rc != ROVE_OK || rec->coll != coll || rove_uuid_cmp(&rec->id, id) != 0) {
		rove_error("corrupt record in the replica");
		return ROVE_EPROTO;
	}
	return ROVE_OK;
}

/* Gets a record or an empty one for coll/id. */
static int rec_get_or_empty(MDB_txn *txn, MDB_dbi dbi, uint8_t coll, const rove_uuid *id, rove_record *rec)
{
	int rc = rec_get(txn, dbi, coll, id, rec);

	if (rc == ROVE_ENOTFOUND) {
		rec->coll = coll;
		rec->id = *id;
		rove_fields_init(&rec->fs);
		return ROVE_OK;
	}
	return rc;
}

static int rec_put(MDB_txn *txn, MDB_dbi dbi, const rove_record *rec, rove_buf *scratch)
{
	uint8_t key[ROVE_RECORD_KEY];
	MDB_val k = {ROVE_RECORD_KEY, key}, v;
	int rc;

	rove_record_key(key, rec->coll, &rec->id);
	rove_buf_reset(scratch);
	rc = rove_enc_record(scratch, rec);
	if (rc != ROVE_OK)
		return rc;
	v.mv_size = scratch->len;
	v.mv_data = scratch->data;
	return rove_db_err(mdb_put(txn, dbi, &k, &v, 0), "record");
}

static int rec_del(MDB_txn *txn, MDB_dbi dbi, uint8_t coll, const rove_uuid *id)
{
	uint8_t key[ROVE_RECORD_KEY];
	MDB_val k = {ROVE_RECORD_KEY, key};
	int rc;

	rove_record_key(key, coll, id);
	rc = mdb_del(txn, dbi, &k, NULL);
	return rc == MDB_NOTFOUND ? ROVE_OK : rove_db_err(rc, "record");
}

/* Merges fields fs into the record coll/id stored at dbi (creating it). */
static int rec_merge(MDB_txn *txn, MDB_dbi dbi, uint8_t coll, const rove_uuid *id, const rove_fields *fs,
		     rove_record *tmp, rove_buf *scratch)
{
	bool changed = false;
	int rc = rec_get_or_empty(txn, dbi, coll, id, tmp);

	if (rc == ROVE_OK)
		rc = rove_merge(&tmp->fs, fs, &changed);
	if (rc == ROVE_OK && (changed || tmp->fs.n == 0))
		rc = rec_put(txn, dbi, tmp, scratch);
	return rc;
}

/* ---- meta ---- */

/* A u64 of meta, 0 when absent. */
static int meta_u64(MDB_txn *txn, MDB_dbi meta, const char *key, uint64_t *out)
{
	int rc = rove_db_get_u64(txn, meta, key, out);

	if (rc == ROVE_ENOTFOUND) {
		*out = 0;
		rc = ROVE_OK;
	}
	return rc;
}

/* Bytes of meta (at most max; absent: none, *len 0). */
static int meta_bytes(MDB_txn *txn, MDB_dbi meta, const char *key, void *out, uint32_t max, uint32_t *len)
{
	MDB_val k = {strlen(key), (void *)key}, v;
	int mrc = mdb_get(txn, meta, &k, &v);

	*len = 0;
	if (mrc == MDB_NOTFOUND)
		return ROVE_OK;
	if (mrc != 0)
		return rove_db_err(mrc, "meta");
	if (v.mv_size > max)
		return ROVE_EPROTO;
	memcpy(out, v.mv_data, v.mv_size);
	*len = (uint32_t)v.mv_size;
	return ROVE_OK;
}

/* Sets bytes of meta, or removes the key for none. */
static int meta_bytes_put(MDB_txn *txn, MDB_dbi meta, const char *key, const void *data, uint32_t len)
{
	MDB_val k = {strlen(key), (void *)key}, v = {len, (void *)data};
	int rc;

	if (len > 0)
		return rove_db_err(mdb_put(txn, meta, &k, &v, 0), "meta");
	rc = mdb_del(txn, meta, &k, NULL);
	return rc == 0 || rc == MDB_NOTFOUND ? ROVE_OK : rove_db_err(rc, "meta");
}

static int meta_uuid(MDB_txn *txn, MDB_dbi meta, const char *key, rove_uuid *id)
{
	uint32_t len;
	int rc = meta_bytes(txn, meta, key, id->b, sizeof(id->b), &len);

	if (rc == ROVE_OK && len != 0 && len != sizeof(id->b))
		rc = ROVE_EPROTO;
	if (rc == ROVE_OK && len == 0)
		memset(id->b, 0, sizeof(id->b));
	return rc;
}

/* ---- outbox ---- */

static int outbox_decode(const MDB_val *v, uint64_t *acked, rove_op *op)
{
	if (v->mv_size < 8)
		return ROVE_EPROTO;
	*acked = rove_be64_get(v->mv_data);
	return rove_dec_op((const uint8_t *)v->mv_data + 8, v->mv_size - 8, op);
}

static int outbox_put(MDB_txn *txn, rove_replica *r, uint64_t lseq, uint64_t acked, const rove_op *op,
		      rove_buf *scratch, unsigned flags)
{
	uint8_t key[8], head[8];
	MDB_val k = {8, key}, v;
	int rc;

	rove_be64_put(key, lseq);
	rove_be64_put(head, acked);
	rove_buf_reset(scratch);
	rc = rove_buf_append(scratch, head, 8);
	if (rc == ROVE_OK)
		rc = rove_enc_op(scratch, op);
	if (rc != ROVE_OK)
		return rc;
	v.mv_size = scratch->len;
	v.mv_data = scratch->data;
	return rove_db_err(mdb_put(txn, r->outbox, &k, &v, flags), "outbox");
}

static void pending_key(uint8_t key[PENDING_KEY], uint8_t coll, const rove_uuid *id, uint64_t lseq)
{
	rove_record_key(key, coll, id);
	rove_be64_put(key + ROVE_RECORD_KEY, lseq);
}

static int last_u64_key(MDB_txn *txn, MDB_dbi dbi, uint64_t *out)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc = rove_db_err(mdb_cursor_open(txn, dbi, &c), "cursor");

	if (rc != ROVE_OK)
		return rc;
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND) {
		*out = 0;
		return ROVE_OK;
	}
	if (rc != 0)
		return rove_db_err(rc, "cursor");
	if (k.mv_size != 8)
		return ROVE_EPROTO;
	*out = rove_be64_get(k.mv_data);
	return ROVE_OK;
}

/* A scratch area for one transaction's work: records are large, so they
 * live on the heap. */
typedef struct work {
	rove_record a, b;
	rove_op op;
	rove_buf buf;
} work;

static work *work_new(void)
{
	work *w = malloc(sizeof(*w));

	if (w != NULL)
		rove_buf_init(&w->buf);
	return w;
}

static void work_free(work *w)
{
	if (w == NULL)
		return;
	rove_buf_free(&w->buf);
	free(w);
}

/* Calls fn(lseq, stored outbox value, arg) for each outbox op pending on
 * coll/id, in outbox order (through the pending index). fn returns
 * ROVE_OK to go on; any other code ends the walk and is returned. An index
 * entry without its outbox op is a corrupt replica: ROVE_EPROTO. */
typedef int (*pending_fn)(uint64_t lseq, const MDB_val *ov, void *arg);

static int pending_each(rove_replica *r, MDB_txn *txn, uint8_t coll, const rove_uuid *id, pending_fn fn,
			void *arg)
{
	uint8_t key[PENDING_KEY];
	MDB_cursor *c;
	MDB_val k = {PENDING_KEY, key}, v;
	int rc = rove_db_err(mdb_cursor_open(txn, r->pending, &c), "cursor");
	int mrc;

	if (rc != ROVE_OK)
		return rc;
	pending_key(key, coll, id, 0);
	mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == ROVE_OK && mrc == 0 && k.mv_size == PENDING_KEY &&
	       memcmp(k.mv_data, key, ROVE_RECORD_KEY) == 0) {
		uint8_t okey[8];
		MDB_val ok = {8, okey}, ov;

		memcpy(okey, (uint8_t *)k.mv_data + ROVE_RECORD_KEY, 8);
		mrc = mdb_get(txn, r->outbox, &ok, &ov);
		if (mrc == MDB_NOTFOUND)
			rc = ROVE_EPROTO;
		else if (mrc != 0)
			rc = rove_db_err(mrc, "outbox");
		else
			rc = fn(rove_be64_get(okey), &ov, arg);
		if (rc == ROVE_OK)
			mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (rc == ROVE_OK && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, "pending");
	return rc;
}

typedef struct rebuild_ctx {
	work *w;
	bool any;
} rebuild_ctx;

static int rebuild_one(uint64_t lseq, const MDB_val *ov, void *arg)
{
	rebuild_ctx *b = arg;
	uint64_t acked;
	int rc = outbox_decode(ov, &acked, &b->w->op);

	(void)lseq;
	if (rc == ROVE_OK)
		rc = rove_merge(&b->w->a.fs, &b->w->op.fs, NULL);
	b->any = true;
	return rc;
}

/* view[coll/id] := base[coll/id] merged with every outbox op on it, or
 * no view entry at all when no op is pending on the record. */
static int view_rebuild(rove_replica *r, MDB_txn *txn, uint8_t coll, const rove_uuid *id, work *w)
{
	rebuild_ctx b = {w, false};
	int rc = rec_get_or_empty(txn, r->base, coll, id, &w->a);

	if (rc == ROVE_OK)
		rc = pending_each(r, txn, coll, id, rebuild_one, &b);
	if (rc != ROVE_OK)
		return rc;
	if (!b.any)
		return rec_del(txn, r->view, coll, id);
	return rec_put(txn, r->view, &w->a, &w->buf);
}

/* Merges fs into the view entry of coll/id, creating it from base first:
 * for a record that now has a pending op. */
static int view_merge_pending(rove_replica *r, MDB_txn *txn, uint8_t coll, const rove_uuid *id,
			      const rove_fields *fs, work *w)
{
	int rc = rec_get(txn, r->view, coll, id, &w->a);

	if (rc == ROVE_ENOTFOUND)
		rc = rec_get_or_empty(txn, r->base, coll, id, &w->a);
	if (rc == ROVE_OK)
		rc = rove_merge(&w->a.fs, fs, NULL);
	if (rc == ROVE_OK)
		rc = rec_put(txn, r->view, &w->a, &w->buf);
	return rc;
}

/* What the user sees of coll/id: view[k] if there, else base[k]. */
static int visible_get(rove_replica *r, MDB_txn *txn, uint8_t coll, const rove_uuid *id, rove_record *rec)
{
	int rc = rec_get(txn, r->view, coll, id, rec);

	if (rc == ROVE_ENOTFOUND)
		rc = rec_get(txn, r->base, coll, id, rec);
	return rc;
}

/* Removes outbox entry lseq (holding op) and its index entry. */
static int outbox_remove(rove_replica *r, MDB_txn *txn, uint64_t lseq, const rove_op *op)
{
	uint8_t key[8], pkey[PENDING_KEY];
	MDB_val k = {8, key}, pk = {PENDING_KEY, pkey};
	int rc;

	rove_be64_put(key, lseq);
	pending_key(pkey, op->coll, &op->rid, lseq);
	rc = rove_db_err(mdb_del(txn, r->outbox, &k, NULL), "outbox");
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_del(txn, r->pending, &pk, NULL), "pending");
	return rc;
}

static int commit_or_abort(MDB_txn *txn, int rc)
{
	if (rc == ROVE_OK)
		return rove_db_err(mdb_txn_commit(txn), "commit");
	mdb_txn_abort(txn);
	return rc;
}

/* Queues one op in txn: stamp, outbox, index, view. */
static int write_op(rove_replica *r, MDB_txn *txn, rove_hlc *clock, uint64_t *lseq, rove_op *op, work *w)
{
	uint8_t pkey[PENDING_KEY];
	MDB_val pk = {PENDING_KEY, pkey}, pv = {0, ""};
	rove_stamp st;
	int rc;

	st.hlc = rove_hlc_tick(clock, rove_wall_ms());
	st.node = r->node;
	rove_op_restamp(op, st);
	(*lseq)++;
	rc = outbox_put(txn, r, *lseq, 0, op, &w->buf, MDB_APPEND);
	pending_key(pkey, op->coll, &op->rid, *lseq);
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_put(txn, r->pending, &pk, &pv, 0), "pending");
	/* the record has a pending op now: view := (view or base) merged with it */
	if (rc == ROVE_OK)
		rc = view_merge_pending(r, txn, op->coll, &op->rid, &op->fs, w);
	return rc;
}

static int write_each_once(rove_replica *r, size_t n, rove_op_fill_fn fill, void *arg)
{
	MDB_txn *txn = NULL;
	uint64_t last_hlc = 0, lseq = 0, jseq = 0;
	rove_hlc clock;
	work *w = work_new();
	int rc;

	if (w == NULL)
		return ROVE_ENOMEM;
	rc = txn_begin(r, 0, &txn);
	if (rc != ROVE_OK) {
		work_free(w);
		return rc;
	}
	rc = rove_db_get_u64(txn, r->meta, "hlc", &last_hlc);
	if (rc == ROVE_ENOTFOUND)
		rc = ROVE_OK;
	clock.v = last_hlc;
	/* Local sequence numbers name an op in the outbox and the journal
	 * alike: after the last of either. */
	if (rc == ROVE_OK)
		rc = last_u64_key(txn, r->outbox, &lseq);
	if (rc == ROVE_OK)
		rc = last_u64_key(txn, r->journal, &jseq);
	if (rc == ROVE_OK && jseq > lseq)
		lseq = jseq;
	for (size_t i = 0; rc == ROVE_OK && i < n; i++) {
		rc = fill(&w->op, i, arg);
		if (rc == ROVE_OK)
			rc = write_op(r, txn, &clock, &lseq, &w->op, w);
	}
	if (rc == ROVE_OK)
		rc = rove_db_put_u64(txn, r->meta, "hlc", clock.v);
	rc = commit_or_abort(txn, rc);
	work_free(w);
	return rc;
}

/* Runs a write; a full map is grown and the write run again. */
#define WITH_GROWTH(r, call)                                                         \
	do {                                                                         \
		rc = (call);                                                         \
		for (int grow_ = 0; rc == ROVE_EMAPFULL && grow_ < ROVE_MAX_MAP_GROWS; grow_++) { \
			if (rove_db_grow((r)->env) != ROVE_OK)                       \
				break;                                               \
			rc = (call);                                                 \
		}                                                                    \
	} while (0)

int rove_replica_write_each(rove_replica *r, size_t n, rove_op_fill_fn fill, void *arg)
{
	int rc;

	WITH_GROWTH(r, write_each_once(r, n, fill, arg));
	return rc;
}

/* Copies ops[i] in (the caller's ops keep their own stamps). */
static int fill_from_array(rove_op *op, size_t i, void *arg)
{
	const rove_op *ops = arg;

	op->op_id = ops[i].op_id;
	op->kind = ops[i].kind;
	op->coll = ops[i].coll;
	op->rid = ops[i].rid;
	op->st = ops[i].st;
	op->seq = 0;
	op->author[0] = '\0';
	return rove_fields_copy(&op->fs, &ops[i].fs);
}

int rove_replica_write_many(rove_replica *r, rove_op *ops, size_t n)
{
	return rove_replica_write_each(r, n, fill_from_array, ops);
}

int rove_replica_write(rove_replica *r, rove_op *op)
{
	return rove_replica_write_many(r, op, 1);
}

int rove_replica_get(rove_replica *r, uint8_t coll, const rove_uuid *id, rove_record *rec)
{
	MDB_txn *txn;
	int rc = txn_begin(r, MDB_RDONLY, &txn);

	if (rc != ROVE_OK)
		return rc;
	rc = visible_get(r, txn, coll, id, rec);
	mdb_txn_abort(txn);
	if (rc == ROVE_OK && rove_record_deleted(rec))
		rc = ROVE_ENOTFOUND;
	return rc;
}

/* One side of the merged walk over base and view. */
typedef struct side {
	MDB_cursor *c;
	MDB_val k, v;
	bool live; /* positioned on a record of the collection */
} side;

static int side_step(side *sd, uint8_t coll, MDB_cursor_op op)
{
	int mrc = mdb_cursor_get(sd->c, &sd->k, &sd->v, op);

	sd->live = mrc == 0 && sd->k.mv_size == ROVE_RECORD_KEY && ((uint8_t *)sd->k.mv_data)[0] == coll;
	if (mrc != 0 && mrc != MDB_NOTFOUND)
		return rove_db_err(mrc, "cursor");
	return ROVE_OK;
}

int rove_replica_each(rove_replica *r, uint8_t coll, rove_record_fn fn, void *arg)
{
	MDB_txn *txn;
	side base = {NULL, {0, NULL}, {0, NULL}, false}, view = base;
	rove_record *rec = malloc(sizeof(*rec));
	int rc;

	if (rec == NULL)
		return ROVE_ENOMEM;
	rc = txn_begin(r, MDB_RDONLY, &txn);
	if (rc != ROVE_OK) {
		free(rec);
		return rc;
	}
	rc = rove_db_err(mdb_cursor_open(txn, r->base, &base.c), "cursor");
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_cursor_open(txn, r->view, &view.c), "cursor");
	base.k.mv_size = view.k.mv_size = 1;
	base.k.mv_data = view.k.mv_data = &coll;
	if (rc == ROVE_OK)
		rc = side_step(&base, coll, MDB_SET_RANGE);
	if (rc == ROVE_OK)
		rc = side_step(&view, coll, MDB_SET_RANGE);
	/* Both in key order: the view's entry wins where both have one. */
	while (rc == ROVE_OK && (base.live || view.live)) {
		int cmp = !base.live ? 1 : !view.live ? -1 : memcmp(base.k.mv_data, view.k.mv_data, ROVE_RECORD_KEY);
		const MDB_val *v = cmp < 0 ? &base.v : &view.v;

		if (rove_dec_record(v->mv_data, v->mv_size, rec) != ROVE_OK) {
			rove_error("corrupt record in the replica");
			rc = ROVE_EPROTO;
			break;
		}
		if (!rove_record_deleted(rec))
			rc = fn(rec, arg);
		if (rc == ROVE_OK && cmp <= 0)
			rc = side_step(&base, coll, MDB_NEXT);
		if (rc == ROVE_OK && cmp >= 0)
			rc = side_step(&view, coll, MDB_NEXT);
	}
	if (base.c != NULL)
		mdb_cursor_close(base.c);
	if (view.c != NULL)
		mdb_cursor_close(view.c);
	mdb_txn_abort(txn);
	free(rec);
	return rc;
}

/* ---- last sync ----
 * The time of the last finished sync is shown by `rove status` and used
 * for nothing else, so it is kept outside LMDB, where writing it costs no
 * transaction: the file last_sync in the replica's directory holds the
 * time in ms as decimal digits. It is rewritten in place, without a
 * flush: after a power failure or a torn write it may be older, empty,
 * garbled or missing, and then reads as an older sync or none. */

/* The time in the last_sync file; 0 (never) when the file is missing or
 * holds anything but 1 to 20 digits, no leading zero, a time from 1 ms
 * to ROVE_MAX_WALL_MS. */
static uint64_t last_sync_read(rove_replica *r)
{
	char path[REPLICA_PATH_MAX], text[LAST_SYNC_MAX_CHARS + 1];
	const char *dir;
	size_t len = 0;
	uint64_t v = 0;
	ssize_t n = 0;
	int fd;

	if (mdb_env_get_path(r->env, &dir) != 0 || replica_path(dir, LAST_SYNC_FILE, path) != ROVE_OK)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			rove_warn("cannot read '%s': %s", path, strerror(errno));
		return 0;
	}
	/* One byte more than allowed: a longer file is refused, not cut. */
	while (len < sizeof(text)) {
		n = read(fd, text + len, sizeof(text) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rove_warn("cannot read '%s': %s", path, strerror(errno));
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (n < 0 || len == 0 || len > LAST_SYNC_MAX_CHARS || text[0] == '0')
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9' || v > (ROVE_MAX_WALL_MS - (uint64_t)(text[i] - '0')) / 10)
			return 0;
		v = v * 10 + (uint64_t)(text[i] - '0');
	}
	return v;
}

int rove_replica_status_get(rove_replica *r, rove_replica_status *s)
{
	MDB_txn *txn;
	MDB_stat ms;
	int rc = txn_begin(r, MDB_RDONLY, &txn);

	if (rc != ROVE_OK)
		return rc;
	memset(s, 0, sizeof(*s));
	rc = rove_db_get_u64(txn, r->meta, "cursor", &s->cursor);
	if (rc == ROVE_ENOTFOUND)
		rc = ROVE_OK;
	if (rc == ROVE_OK && mdb_stat(txn, r->outbox, &ms) == 0)
		s->pending = ms.ms_entries;
	if (rc == ROVE_OK && mdb_stat(txn, r->rejected, &ms) == 0)
		s->rejected = ms.ms_entries;
	mdb_txn_abort(txn);
	if (rc == ROVE_OK)
		s->last_sync_ms = last_sync_read(r);
	return rc;
}

int rove_replica_each_rejection(rove_replica *r, rove_rejection_fn fn, void *arg)
{
	MDB_txn *txn = NULL;
	MDB_cursor *c;
	MDB_val k, v;
	rove_rejection *rj = malloc(sizeof(*rj));
	int rc, mrc;

	if (rj == NULL)
		return ROVE_ENOMEM;
	rc = txn_begin(r, MDB_RDONLY, &txn);
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_cursor_open(txn, r->rejected, &c), "cursor");
	if (rc == ROVE_OK) {
		mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
		while (rc == ROVE_OK && mrc == 0) {
			if (k.mv_size != 8 || rove_dec_rejection(v.mv_data, v.mv_size, rj) != ROVE_OK) {
				rove_error("corrupt entry in the replica's rejected table");
				rc = ROVE_EPROTO;
				break;
			}
			rc = fn(rj, arg);
			if (rc == ROVE_OK)
				mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
		}
		if (rc == ROVE_OK && mrc != 0 && mrc != MDB_NOTFOUND)
			rc = rove_db_err(mrc, "rejected");
		mdb_cursor_close(c);
	}
	if (txn != NULL)
		mdb_txn_abort(txn);
	free(rj);
	return rc;
}

/* ---- sync ---- */

int rove_replica_unacked(rove_replica *r, rove_op *ops, uint32_t max, uint32_t *n)
{
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	int rc, mrc;

	*n = 0;
	rc = txn_begin(r, MDB_RDONLY, &txn);
	if (rc != ROVE_OK)
		return rc;
	rc = rove_db_err(mdb_cursor_open(txn, r->outbox, &c), "cursor");
	if (rc == ROVE_OK) {
		mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
		while (mrc == 0 && *n < max) {
			uint64_t acked;
			if (v.mv_size < 8) {
				rc = ROVE_EPROTO;
				break;
			}
			/* Acknowledged ops wait for the cursor: not decoded. */
			if (rove_be64_get(v.mv_data) == 0) {
				rc = outbox_decode(&v, &acked, &ops[*n]);
				if (rc != ROVE_OK)
					break;
				(*n)++;
			}
			mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
		}
		mdb_cursor_close(c);
	}
	mdb_txn_abort(txn);
	return rc;
}

typedef struct find_ctx {
	const rove_op *want;
	uint64_t *lseq, *acked;
	rove_op *op;
} find_ctx;

static int find_one(uint64_t lseq, const MDB_val *ov, void *arg)
{
	const find_ctx *f = arg;
	const uint8_t *p = ov->mv_data;
	int rc;

	/* The op id sits at a fixed place: after acked(8), the array tag (1)
	 * and the bin header (2); the whole op is decoded only on a match. */
	if (ov->mv_size <= 27 || memcmp(p + 11, f->want->op_id.b, 16) != 0)
		return ROVE_OK;
	rc = outbox_decode(ov, f->acked, f->op);
	if (rc == ROVE_OK && rove_uuid_cmp(&f->op->op_id, &f->want->op_id) != 0)
		rc = ROVE_EPROTO;
	if (rc == ROVE_OK) {
		*f->lseq = lseq;
		rc = ROVE_EEXIST; /* found: stop */
	}
	return rc;
}

/* Finds the outbox entry of op (its id, collection and record): through
 * the pending index, so only the record's own queued ops are looked at. */
static int outbox_find(rove_replica *r, MDB_txn *txn, const rove_op *want, uint64_t *lseq, uint64_t *acked,
		       rove_op *op)
{
	find_ctx f = {want, lseq, acked, op};
	int rc = pending_each(r, txn, want->coll, &want->rid, find_one, &f);

	if (rc == ROVE_EEXIST)
		return ROVE_OK;
	return rc == ROVE_OK ? ROVE_ENOTFOUND : rc;
}

static int reject_put(rove_replica *r, MDB_txn *txn, const rove_op *op, const rove_push_result *res,
		      rove_buf *scratch)
{
	uint8_t key[8];
	uint64_t last;
	MDB_val k = {8, key}, v;
	int rc = last_u64_key(txn, r->rejected, &last);

	if (rc != ROVE_OK)
		return rc;
	rove_buf_reset(scratch);
	rc = rove_enc_rejection(scratch, rove_wall_ms(), res->reason, res->detail, op);
	if (rc != ROVE_OK)
		return rc;
	rove_be64_put(key, last + 1);
	v.mv_size = scratch->len;
	v.mv_data = scratch->data;
	return rove_db_err(mdb_put(txn, r->rejected, &k, &v, MDB_APPEND), "rejected");
}

static int push_results_once(rove_replica *r, const rove_uuid *run, const rove_op *ops,
			     const rove_push_result *res, uint32_t n, uint32_t *accepted, uint32_t *rejected)
{
	MDB_txn *txn = NULL;
	work *w = work_new();
	uint64_t ack_seq = 0;
	int rc;

	*accepted = 0;
	*rejected = 0;
	if (w == NULL)
		return ROVE_ENOMEM;
	rc = txn_begin(r, 0, &txn);
	if (rc == ROVE_OK)
		rc = meta_u64(txn, r->meta, "ack_seq", &ack_seq);
	for (uint32_t i = 0; rc == ROVE_OK && i < n; i++) {
		uint64_t lseq = 0, acked = 0;

		if (rove_uuid_cmp(&res[i].op_id, &ops[i].op_id) != 0) {
			rove_error("server answered for another op");
			rc = ROVE_EPROTO;
			break;
		}
		rc = outbox_find(r, txn, &ops[i], &lseq, &acked, &w->op);
		if (rc == ROVE_ENOTFOUND) {
			rc = ROVE_OK; /* answered already by an earlier sync */
			continue;
		}
		if (rc != ROVE_OK)
			break;
		if (res[i].status == ROVE_PUSH_ACCEPTED) {
			if (res[i].seq == 0) {
				rc = ROVE_EPROTO;
				break;
			}
			rc = outbox_put(txn, r, lseq, res[i].seq, &w->op, &w->buf, 0);
			if (res[i].seq > ack_seq)
				ack_seq = res[i].seq;
			(*accepted)++;
		} else {
			rc = reject_put(r, txn, &w->op, &res[i], &w->buf);
			if (rc == ROVE_OK)
				rc = outbox_remove(r, txn, lseq, &w->op);
			if (rc == ROVE_OK)
				rc = view_rebuild(r, txn, w->op.coll, &w->op.rid, w);
			(*rejected)++;
		}
	}
	/* What the next pull asks the server to vouch for: the highest
	 * acknowledged number, with the run that acknowledged it last (a
	 * later run of the same history holds the earlier ones). */
	if (rc == ROVE_OK && *accepted > 0)
		rc = meta_bytes_put(txn, r->meta, "ack_run", run->b, sizeof(run->b));
	if (rc == ROVE_OK && *accepted > 0)
		rc = rove_db_put_u64(txn, r->meta, "ack_seq", ack_seq);
	if (txn != NULL)
		rc = commit_or_abort(txn, rc);
	work_free(w);
	return rc;
}

/* The pull position as stored in meta, read in txn. */
static int pull_state_get(rove_replica *r, MDB_txn *txn, rove_pull_state *ps)
{
	int rc;

	memset(ps, 0, sizeof(*ps));
	rc = meta_u64(txn, r->meta, "cursor", &ps->cursor);
	if (rc == ROVE_OK)
		rc = meta_u64(txn, r->meta, "snap_seq", &ps->snap_seq);
	if (rc == ROVE_OK)
		rc = meta_u64(txn, r->meta, "epoch", &ps->epoch);
	if (rc == ROVE_OK)
		rc = meta_bytes(txn, r->meta, "snap_key", ps->snap_key, ROVE_MAX_SNAP_KEY, &ps->snap_keylen);
	if (rc == ROVE_OK)
		rc = meta_uuid(txn, r->meta, "run", &ps->run);
	if (rc == ROVE_OK)
		rc = meta_uuid(txn, r->meta, "ack_run", &ps->ack_run);
	if (rc == ROVE_OK)
		rc = meta_u64(txn, r->meta, "ack_seq", &ps->ack_seq);
	return rc;
}

/* Stores the fields of next that differ from prev, in txn. */
static int pull_state_put(rove_replica *r, MDB_txn *txn, const rove_pull_state *prev, const rove_pull_state *next)
{
	int rc = ROVE_OK;

	if (next->cursor != prev->cursor)
		rc = rove_db_put_u64(txn, r->meta, "cursor", next->cursor);
	if (rc == ROVE_OK && next->epoch != prev->epoch)
		rc = rove_db_put_u64(txn, r->meta, "epoch", next->epoch);
	if (rc == ROVE_OK && next->snap_seq != prev->snap_seq)
		rc = rove_db_put_u64(txn, r->meta, "snap_seq", next->snap_seq);
	if (rc == ROVE_OK && (next->snap_keylen != prev->snap_keylen ||
			      memcmp(next->snap_key, prev->snap_key, next->snap_keylen) != 0))
		rc = meta_bytes_put(txn, r->meta, "snap_key", next->snap_key, next->snap_keylen);
	if (rc == ROVE_OK && rove_uuid_cmp(&next->run, &prev->run) != 0)
		rc = meta_bytes_put(txn, r->meta, "run", next->run.b, sizeof(next->run.b));
	if (rc == ROVE_OK && rove_uuid_cmp(&next->ack_run, &prev->ack_run) != 0)
		rc = meta_bytes_put(txn, r->meta, "ack_run", next->ack_run.b, sizeof(next->ack_run.b));
	if (rc == ROVE_OK && next->ack_seq != prev->ack_seq)
		rc = rove_db_put_u64(txn, r->meta, "ack_seq", next->ack_seq);
	return rc;
}

int rove_replica_pull_state(rove_replica *r, rove_pull_state *ps)
{
	MDB_txn *txn;
	int rc = txn_begin(r, MDB_RDONLY, &txn);

	if (rc != ROVE_OK)
		return rc;
	rc = pull_state_get(r, txn, ps);
	mdb_txn_abort(txn);
	return rc;
}

/* Keeps the journal to its latest ROVE_REPLICA_JOURNAL_OPS ops: older
 * ones are forgotten, oldest first. */
static int journal_bound(rove_replica *r, MDB_txn *txn)
{
	MDB_stat ms;
	MDB_cursor *c;
	MDB_val k, v;
	size_t extra;
	int rc = rove_db_err(mdb_stat(txn, r->journal, &ms), "journal");

	if (rc != ROVE_OK || ms.ms_entries <= ROVE_REPLICA_JOURNAL_OPS)
		return rc;
	extra = ms.ms_entries - ROVE_REPLICA_JOURNAL_OPS;
	rc = rove_db_err(mdb_cursor_open(txn, r->journal, &c), "cursor");
	if (rc != ROVE_OK)
		return rc;
	for (size_t i = 0; rc == ROVE_OK && i < extra; i++) {
		rc = rove_db_err(mdb_cursor_get(c, &k, &v, MDB_FIRST), "journal");
		if (rc == ROVE_OK)
			rc = rove_db_err(mdb_cursor_del(c, 0), "journal");
	}
	mdb_cursor_close(c);
	return rc;
}

/* Drops acknowledged ops the cursor has passed; their effect is now in
 * base (or out of scope), and the view is rebuilt without them. They
 * move to the journal. */
static int outbox_trim(rove_replica *r, MDB_txn *txn, uint64_t cursor, work *w)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t *done = NULL;
	size_t ndone = 0, cap = 0;
	int rc = rove_db_err(mdb_cursor_open(txn, r->outbox, &c), "cursor");
	int mrc;

	if (rc != ROVE_OK)
		return rc;
	/* First collect, then delete: no cursor survives our own writes. */
	mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	while (mrc == 0) {
		uint64_t acked;
		if (k.mv_size != 8 || v.mv_size < 8) {
			rc = ROVE_EPROTO;
			break;
		}
		acked = rove_be64_get(v.mv_data);
		if (acked != 0 && acked <= cursor) {
			if (ndone == cap) {
				size_t ncap = cap ? cap * 2 : 64;
				uint64_t *p = realloc(done, ncap * sizeof(*p));
				if (p == NULL) {
					rc = ROVE_ENOMEM;
					break;
				}
				done = p;
				cap = ncap;
			}
			done[ndone++] = rove_be64_get(k.mv_data);
		}
		mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	for (size_t i = 0; rc == ROVE_OK && i < ndone; i++) {
		uint8_t key[8];
		MDB_val ok = {8, key}, ov;
		uint64_t acked;

		rove_be64_put(key, done[i]);
		rc = rove_db_err(mdb_get(txn, r->outbox, &ok, &ov), "outbox");
		if (rc == ROVE_OK)
			rc = outbox_decode(&ov, &acked, &w->op);
		if (rc == ROVE_OK) {
			/* Kept in the journal, as it was sent (see journal_bound). */
			MDB_val jv = {ov.mv_size - 8, (uint8_t *)ov.mv_data + 8};
			rc = rove_db_err(mdb_put(txn, r->journal, &ok, &jv, 0), "journal");
		}
		if (rc == ROVE_OK)
			rc = outbox_remove(r, txn, done[i], &w->op);
		if (rc == ROVE_OK) {
			uint8_t coll = w->op.coll;
			rove_uuid rid = w->op.rid;
			rc = view_rebuild(r, txn, coll, &rid, w);
		}
	}
	if (rc == ROVE_OK && ndone > 0)
		rc = journal_bound(r, txn);
	free(done);
	return rc;
}

/* The view anew: emptied, then every pending op merged onto the base. */
static int view_reset(rove_replica *r, MDB_txn *txn, work *w)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc = rove_db_err(mdb_drop(txn, r->view, 0), "view");
	int mrc;

	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_cursor_open(txn, r->outbox, &c), "cursor");
	if (rc != ROVE_OK)
		return rc;
	mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	while (rc == ROVE_OK && mrc == 0) {
		uint64_t acked;
		rc = outbox_decode(&v, &acked, &w->op);
		if (rc == ROVE_OK)
			rc = view_merge_pending(r, txn, w->op.coll, &w->op.rid, &w->op.fs, w);
		if (rc == ROVE_OK)
			mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	if (rc == ROVE_OK && mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, "outbox");
	mdb_cursor_close(c);
	return rc;
}

/* A snapshot built aside is complete: it becomes the base, the old base
 * is emptied (the next snapshot is built there) and the view is made
 * anew from the new base and the pending ops. In the transaction of the
 * snapshot's last chunk: until it commits, the replica shows what it
 * showed before. */
static int bases_swap(rove_replica *r, MDB_txn *txn, work *w)
{
	MDB_dbi old = r->base;
	uint64_t next = r->aside == r->bases[1] ? 1 : 0;
	int rc = rove_db_put_u64(txn, r->meta, "base", next);

	if (rc != ROVE_OK)
		return rc;
	/* (If this transaction aborts, the next one reads meta again.) */
	r->base = r->aside;
	r->aside = old;
	rc = rove_db_err(mdb_drop(txn, r->aside, 0), "base");
	if (rc == ROVE_OK)
		rc = view_reset(r, txn, w);
	return rc;
}

/* Applies one entry of a pull reply: an op or evict to base and view; a
 * snapshot's record (aside) to the snapshot being built. */
static int apply_entry(rove_replica *r, MDB_txn *txn, rove_entry *e, rove_hlc *clock, bool aside,
		       work *w)
{
	MDB_dbi base = aside ? r->aside : r->base;
	uint8_t key[ROVE_RECORD_KEY];
	const rove_fields *fs;
	int rc;

	if (e->tag == ROVE_ENTRY_EVICT) {
		/* Out of this user's scope now: gone from the replica, except
		 * for what its own pending ops still say. */
		rc = rec_del(txn, r->base, e->coll, &e->id);
		if (rc == ROVE_OK)
			rc = view_rebuild(r, txn, e->coll, &e->id, w);
		return rc;
	}
	fs = e->tag == ROVE_ENTRY_OP ? &e->op.fs : &e->rec.fs;
	for (uint32_t i = 0; i < fs->n; i++) {
		/* The clock follows every later stamp (the wall clock joins once
		 * per reply): a change made after seeing this one orders after
		 * it, however wrong this laptop's clock is. The server bounds
		 * the stamps it keeps by its own clock. */
		rove_hlc seen = fs->f[i].st.hlc;
		if (seen.v > clock->v)
			clock->v = seen.v;
	}
	rove_record_key(key, e->coll, &e->id);
	if (e->tag == ROVE_ENTRY_RECORD && e->raw != NULL) {
		/* A whole record the replica does not have yet (a snapshot):
		 * stored as it came, no decoding and encoding again. */
		MDB_val k = {ROVE_RECORD_KEY, key}, v = {e->rawlen, (void *)e->raw};
		int mrc = mdb_put(txn, base, &k, &v, MDB_NOOVERWRITE);
		if (mrc == 0)
			goto view;
		if (mrc != MDB_KEYEXIST)
			return rove_db_err(mrc, "base");
	}
	rc = rec_merge(txn, base, e->coll, &e->id, fs, &w->a, &w->buf);
	if (rc != ROVE_OK)
		return rc;
view:
	if (aside)
		return ROVE_OK; /* the view is made anew when the snapshot is whole */
	/* Records with pending ops keep their view up to date too. */
	{
		MDB_val k = {ROVE_RECORD_KEY, key}, v;
		int mrc = mdb_get(txn, r->view, &k, &v);
		if (mrc == MDB_NOTFOUND)
			return ROVE_OK;
		if (mrc != 0)
			return rove_db_err(mrc, "view");
	}
	return rec_merge(txn, r->view, e->coll, &e->id, fs, &w->a, &w->buf);
}

/* Whether resume key a comes after b (byte order, a prefix first). */
static bool snap_key_after(const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	return c > 0 || (c == 0 && alen > blen);
}

/* Whether reply h may follow a replica at prev: an ops chunk moves the
 * cursor up (the last one may leave it), or moves on inside the family of
 * the op after the cursor (its resume key grows), a snapshot chunk continues the
 * snapshot in progress past its resume key, and a reset starts a snapshot
 * only on a fresh replica or for a new scope epoch. Anything else would
 * let a faulty server move a replica back, or keep a sync going forever. */
static bool pull_reply_follows(const rove_pull_state *prev, const rove_pull_reply *h)
{
	if (h->mode == ROVE_PULL_OPS && prev->snap_seq != 0)
		return false;
	if (h->mode == ROVE_PULL_OPS && h->cursor > prev->cursor)
		return true;
	if (h->mode == ROVE_PULL_OPS && h->cursor == prev->cursor) {
		/* Nothing new, or more of the family in progress. */
		if (!h->more)
			return h->snap_keylen == 0 && prev->snap_keylen == 0;
		return h->snap_keylen == ROVE_RECORD_KEY &&
		       (prev->snap_keylen == 0 ||
			snap_key_after(h->snap_key, h->snap_keylen, prev->snap_key, prev->snap_keylen));
	}
	if (h->mode == ROVE_PULL_OPS)
		return false;
	if (h->reset)
		return (prev->cursor == 0 && prev->snap_seq == 0) || h->epoch != prev->epoch;
	return prev->snap_seq != 0 && h->snap_seq == prev->snap_seq && h->epoch == prev->epoch &&
	       (!h->more || snap_key_after(h->snap_key, h->snap_keylen, prev->snap_key, prev->snap_keylen));
}

static int apply_pull_once(rove_replica *r, rove_msg *reply, uint32_t *items)
{
	uint64_t now_ms = rove_wall_ms();
	const rove_pull_reply *h = &reply->u.pull_reply;
	MDB_txn *txn = NULL;
	rove_pull_state prev, next;
	uint64_t last_hlc = 0;
	rove_hlc clock;
	rove_entry *e = malloc(sizeof(*e));
	work *w = work_new();
	MDB_dbi base, aside;
	int rc;

	*items = 0;
	if (w == NULL || e == NULL) {
		free(e);
		work_free(w);
		return ROVE_ENOMEM;
	}
	rc = txn_begin(r, 0, &txn);
	if (rc != ROVE_OK) {
		free(e);
		work_free(w);
		return rc;
	}
	base = r->base;
	aside = r->aside;
	rc = rove_db_get_u64(txn, r->meta, "hlc", &last_hlc);
	if (rc == ROVE_ENOTFOUND)
		rc = ROVE_OK;
	clock.v = last_hlc;
	/* Where this reply leaves the replica: the one rule the sync also
	 * uses to ask for the next chunk before this one is applied. */
	if (rc == ROVE_OK)
		rc = pull_state_get(r, txn, &prev);
	if (rc == ROVE_OK && !pull_reply_follows(&prev, h)) {
		rove_error("the server's reply does not follow where this replica is");
		rc = ROVE_EINVAL; /* well formed, but not a next step */
	}
	if (rc == ROVE_OK)
		rove_pull_state_next(&prev, h, &next);
	/* A snapshot is built aside and becomes the base with its last
	 * chunk; a reset starts a new one. */
	if (rc == ROVE_OK && h->mode == ROVE_PULL_SNAPSHOT && h->reset)
		rc = rove_db_err(mdb_drop(txn, r->aside, 0), "base");
	while (rc == ROVE_OK) {
		rc = rove_msg_next_entry(reply, e);
		if (rc == ROVE_ENOTFOUND) {
			/* The reply may have been decoded lazily: it must end
			 * right after its last item. */
			rc = rove_msg_items_end(reply);
			break;
		}
		if (rc == ROVE_OK)
			rc = apply_entry(r, txn, e, &clock, h->mode == ROVE_PULL_SNAPSHOT, w);
		(*items)++;
	}
	if (rc == ROVE_OK && h->mode == ROVE_PULL_SNAPSHOT && !h->more)
		rc = bases_swap(r, txn, w);
	rove_hlc_observe(&clock, clock, now_ms);
	if (rc == ROVE_OK)
		rc = rove_db_put_u64(txn, r->meta, "hlc", clock.v);
	if (rc == ROVE_OK)
		rc = pull_state_put(r, txn, &prev, &next);
	/* Past a snapshot, acknowledged ops the cursor passed are done. */
	if (rc == ROVE_OK && next.snap_seq == 0 && next.cursor != 0)
		rc = outbox_trim(r, txn, next.cursor, w);
	if (rc == ROVE_OK && strcmp(r->role, h->role) != 0) {
		snprintf(r->role, sizeof(r->role), "%s", h->role);
		rc = rove_db_put_str(txn, r->meta, "role", r->role);
	}
	rc = commit_or_abort(txn, rc);
	if (rc != ROVE_OK) {
		/* A swap of the bases was undone with the transaction. */
		r->base = base;
		r->aside = aside;
	}
	free(e);
	work_free(w);
	return rc;
}

int rove_replica_push_results(rove_replica *r, const rove_uuid *run, const rove_op *ops,
			      const rove_push_result *res, uint32_t n, uint32_t *accepted, uint32_t *rejected)
{
	int rc;

	WITH_GROWTH(r, push_results_once(r, run, ops, res, n, accepted, rejected));
	return rc;
}

void rove_pull_state_next(const rove_pull_state *prev, const rove_pull_reply *h, rove_pull_state *next)
{
	rove_pull_state n;

	/* A reset snapshot zeroes the cursor; a snapshot chunk brings its
	 * epoch and the resume position, or at its end the cursor; an ops
	 * chunk brings its cursor. */
	memset(&n, 0, sizeof(n));
	n.cursor = prev->cursor;
	n.epoch = prev->epoch;
	n.run = h->run;
	n.ack_run = prev->ack_run;
	n.ack_seq = prev->ack_seq;
	if (h->mode == ROVE_PULL_SNAPSHOT) {
		if (h->reset)
			n.cursor = 0;
		n.epoch = h->epoch;
		if (h->more) {
			n.snap_seq = h->snap_seq;
			n.snap_keylen = h->snap_keylen;
			memcpy(n.snap_key, h->snap_key, h->snap_keylen);
		} else {
			n.cursor = h->snap_seq;
		}
	} else {
		n.cursor = h->cursor;
		if (h->more && h->snap_keylen > 0) {
			/* A family cut short: the next chunk resumes after it. */
			n.snap_keylen = h->snap_keylen;
			memcpy(n.snap_key, h->snap_key, h->snap_keylen);
		}
	}
	/* Acknowledged ops the cursor has passed are vouched for by it. */
	if (n.snap_seq == 0 && n.cursor >= n.ack_seq)
		n.ack_seq = 0;
	*next = n;
}

void rove_pull_state_request(const rove_pull_state *ps, const rove_uuid *replica, uint32_t max,
			     rove_pull_req *q)
{
	memset(q, 0, sizeof(*q));
	q->replica = *replica;
	q->cursor = ps->cursor;
	q->snap_seq = ps->snap_seq;
	q->epoch = ps->epoch;
	q->snap_keylen = ps->snap_keylen;
	memcpy(q->snap_key, ps->snap_key, ps->snap_keylen);
	q->max_items = max;
	q->run = ps->run;
	/* Acknowledged ops past the cursor: the server vouches for them too. */
	if (ps->ack_seq > ps->cursor) {
		q->ack_run = ps->ack_run;
		q->ack_seq = ps->ack_seq;
	}
}

int rove_replica_apply_pull(rove_replica *r, rove_msg *reply, uint32_t *items)
{
	rove_msg start = *reply; /* to read the items again after a growth */
	const rove_pull_reply *h = &reply->u.pull_reply;
	int rc;

	/* Nothing new (the common sync): no write, no disk flush. */
	if (h->n == 0 && rove_msg_items_end(reply) != ROVE_OK)
		return ROVE_EPROTO;
	if (h->mode == ROVE_PULL_OPS && h->n == 0 && !h->more && strcmp(r->role, h->role) == 0) {
		rove_pull_state ps;
		rc = rove_replica_pull_state(r, &ps);
		if (rc == ROVE_OK && ps.cursor == h->cursor && ps.snap_seq == 0 && ps.snap_keylen == 0) {
			*items = 0;
			return ROVE_OK;
		}
	}

	WITH_GROWTH(r, (*reply = start, apply_pull_once(r, reply, items)));
	return rc;
}

/* ---- a server whose history is not the one synced with ---- */

/* Puts every journal op back into the outbox, where it was (its lseq), as
 * not acknowledged; the journal is emptied. */
static int journal_to_outbox(rove_replica *r, MDB_txn *txn, work *w)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc = rove_db_err(mdb_cursor_open(txn, r->journal, &c), "cursor");
	int mrc;

	if (rc != ROVE_OK)
		return rc;
	/* The cursor is only read: the writes go to other tables. */
	mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	while (rc == ROVE_OK && mrc == 0) {
		uint8_t pkey[PENDING_KEY];
		MDB_val pk = {PENDING_KEY, pkey}, pv = {0, ""};
		uint64_t lseq;

		if (k.mv_size != 8 || rove_dec_op(v.mv_data, v.mv_size, &w->op) != ROVE_OK) {
			rove_error("corrupt entry in the replica's journal");
			rc = ROVE_EPROTO;
			break;
		}
		lseq = rove_be64_get(k.mv_data);
		rc = outbox_put(txn, r, lseq, 0, &w->op, &w->buf, MDB_NOOVERWRITE);
		pending_key(pkey, w->op.coll, &w->op.rid, lseq);
		if (rc == ROVE_OK)
			rc = rove_db_err(mdb_put(txn, r->pending, &pk, &pv, 0), "pending");
		if (rc == ROVE_OK)
			rc = view_merge_pending(r, txn, w->op.coll, &w->op.rid, &w->op.fs, w);
		if (rc == ROVE_OK)
			mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	if (rc == ROVE_OK && mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, "journal");
	mdb_cursor_close(c);
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_drop(txn, r->journal, 0), "journal");
	return rc;
}

/* Marks every outbox op as not acknowledged; counts them. */
static int outbox_unack(rove_replica *r, MDB_txn *txn, uint64_t *n, rove_buf *scratch)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc = rove_db_err(mdb_cursor_open(txn, r->outbox, &c), "cursor");
	int mrc;

	*n = 0;
	if (rc != ROVE_OK)
		return rc;
	mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	while (rc == ROVE_OK && mrc == 0) {
		if (v.mv_size < 8) {
			rc = ROVE_EPROTO;
			break;
		}
		if (rove_be64_get(v.mv_data) != 0) {
			static const uint8_t none[8];
			MDB_val nv;
			rove_buf_reset(scratch);
			rc = rove_buf_append(scratch, none, 8);
			if (rc == ROVE_OK)
				rc = rove_buf_append(scratch, (const uint8_t *)v.mv_data + 8, v.mv_size - 8);
			nv.mv_size = scratch->len;
			nv.mv_data = scratch->data;
			if (rc == ROVE_OK)
				rc = rove_db_err(mdb_cursor_put(c, &k, &nv, MDB_CURRENT), "outbox");
		}
		(*n)++;
		if (rc == ROVE_OK)
			mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	if (rc == ROVE_OK && mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, "outbox");
	mdb_cursor_close(c);
	return rc;
}

static int history_lost_once(rove_replica *r, uint64_t *resend)
{
	MDB_txn *txn = NULL;
	rove_pull_state prev, none;
	work *w = work_new();
	int rc;

	if (w == NULL)
		return ROVE_ENOMEM;
	rc = txn_begin(r, 0, &txn);
	if (rc == ROVE_OK)
		rc = pull_state_get(r, txn, &prev);
	if (rc == ROVE_OK)
		rc = journal_to_outbox(r, txn, w);
	if (rc == ROVE_OK)
		rc = outbox_unack(r, txn, resend, &w->buf);
	/* A fresh start (a snapshot half built aside is dropped); the base
	 * is shown until the new snapshot replaces it whole. */
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_drop(txn, r->aside, 0), "base");
	memset(&none, 0, sizeof(none));
	if (rc == ROVE_OK)
		rc = pull_state_put(r, txn, &prev, &none);
	if (txn != NULL)
		rc = commit_or_abort(txn, rc);
	work_free(w);
	return rc;
}

int rove_replica_history_lost(rove_replica *r, uint64_t *resend)
{
	int rc;

	WITH_GROWTH(r, history_lost_once(r, resend));
	return rc;
}

/* Writes all of p at offset 0 of fd; -1 with errno set on failure. */
static int pwrite_all(int fd, const char *p, size_t len)
{
	off_t off = 0;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			errno = EIO; /* no progress: give up with a reason */
		if (n <= 0)
			return -1;
		p += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

int rove_replica_synced(rove_replica *r, uint64_t wall_ms)
{
	char path[REPLICA_PATH_MAX], text[LAST_SYNC_MAX_CHARS + 1];
	const char *dir;
	int fd, len, err = 0, rc;

	if (wall_ms == 0 || wall_ms > ROVE_MAX_WALL_MS)
		return ROVE_EINVAL; /* it could not be read back */
	rc = rove_db_err(mdb_env_get_path(r->env, &dir), "env path");
	if (rc == ROVE_OK)
		rc = replica_path(dir, LAST_SYNC_FILE, path);
	if (rc != ROVE_OK)
		return rc;
	/* Rewritten in place: a rename over it would make ext4 start writing
	 * the file out at once (its replace-by-rename safeguard), which every
	 * no-op sync would pay for. */
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		rove_error("cannot write '%s': %s", path, strerror(errno));
		return ROVE_EIO;
	}
	len = snprintf(text, sizeof(text), "%" PRIu64, wall_ms);
	if (pwrite_all(fd, text, (size_t)len) != 0)
		err = errno;
	if (err == 0 && ftruncate(fd, len) != 0)
		err = errno;
	if (close(fd) != 0 && err == 0)
		err = errno;
	if (err != 0) {
		rove_error("cannot write '%s': %s", path, strerror(err));
		return ROVE_EIO;
	}
	return ROVE_OK;
}
