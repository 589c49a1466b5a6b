#include "store_int.h"
#include "rove_assert.h"

#include "array.h"
#include "db.h"
#include "err.h"
#include "lockfile.h"
#include "log.h"
#include "proof.h"
#include "schema.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_MAXDBS 32

/* users: role(1) flags(1) hash(32) epoch(8) synced(8) then codes, each
 * NUL-terminated (format 3: role(1) hash(32) epoch(8) then codes) */
#define USER_FIXED (1 + 1 + ROVE_HASH_BYTES + 8 + 8)
#define USER_FIXED_3 (1 + ROVE_HASH_BYTES + 8)
#define USER_DISABLED 0x01u

/* The store's tables, and the n more of its user (flags: MDB_CREATE to
 * create them). */
static int open_dbis(rove_store *st, MDB_txn *txn, const rove_db_table *more, size_t n, unsigned flags)
{
	const rove_db_table t[] = {
	    {"meta", &st->meta},         {"records", &st->records},   {"oplog", &st->oplog},
	    {"opids", &st->opids},       {"users", &st->users},       {"rejects", &st->rejects},
	    {"scopelog", &st->scopelog}, {"scoperec", &st->scoperec}, {"children", &st->children},
	    {"counters", &st->counters}, {"rejidx", &st->rejidx},     {"runs", &st->runs},
	};
	int rc = rove_db_open_tables(txn, t, sizeof(t) / sizeof(t[0]), flags);

	if (rc == ROVE_OK)
		rc = rove_db_open_tables(txn, more, n, flags);
	if (rc == ROVE_ENOTFOUND && !(flags & MDB_CREATE)) {
		/* The environment is there but a table is not: name it, rather
		 * than say there is no database. */
		for (size_t i = 0; i < sizeof(t) / sizeof(t[0]) + n; i++) {
			const rove_db_table *x = i < sizeof(t) / sizeof(t[0]) ? &t[i] : &more[i - sizeof(t) / sizeof(t[0])];
			MDB_dbi d;
			if (mdb_dbi_open(txn, x->name, 0, &d) == MDB_NOTFOUND) {
				rove_error("the database has no table '%s'", x->name);
				break;
			}
		}
		rc = ROVE_ENOTFOUND; /* the callers say it is damaged (lacks_roved) */
	}
	return rc;
}

/* A database file that opened, without a table or key every roved
 * database has: damaged (or another program's), never one to make with
 * 'roved init' (attack sixty-one: its message said so). */
static int lacks_roved(const char *dir)
{
	rove_error("'%s' is damaged, or not a server's: its database lacks tables or keys every roved database "
		   "has; restore a backup (OPERATIONS.md, \"Restore\")",
		   dir);
	return ROVE_EPROTO;
}

static int store_env(const char *dir, rove_store *st)
{
	memset(st, 0, sizeof(*st));
	return rove_db_open(dir, 0, STORE_MAXDBS, ROVE_SERVER_MAPSIZE, &st->env);
}

int rove_store_open_ro(const char *dir, rove_store *st, const rove_db_table *more, size_t nmore,
		       enum rove_db_access *access)
{
	MDB_txn *txn = NULL;
	uint64_t format = 0;
	int rc;

	memset(st, 0, sizeof(*st));
	rc = rove_db_open_any(dir, STORE_MAXDBS, ROVE_SERVER_MAPSIZE, &st->env, access);
	if (rc != ROVE_OK)
		return rc;
	rc = rove_db_err(mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn), "begin");
	if (rc == ROVE_OK)
		rc = open_dbis(st, txn, more, nmore, 0);
	if (rc == ROVE_OK) {
		/* The admin answers' tables, where a roved made them. */
		const rove_db_table t[] = {{"admreqs", &st->admreqs}, {"admage", &st->admage}};
		rc = rove_db_open_tables(txn, t, sizeof(t) / sizeof(t[0]), 0);
		st->has_admreqs = rc == ROVE_OK;
		if (rc == ROVE_ENOTFOUND)
			rc = ROVE_OK;
	}
	if (rc == ROVE_OK)
		rc = rove_db_get_u64(txn, st->meta, "format", &format);
	if (rc == ROVE_OK && format != ROVE_STORE_FORMAT)
		rc = ROVE_EVERSION;
	if (rc == ROVE_OK)
		rc = rove_db_get_u64(txn, st->meta, "node", &st->node);
	if (rc == ROVE_ENOTFOUND)
		rc = lacks_roved(dir); /* an environment without format or node */
	/* Committed, not aborted: the tables' handles outlive it only so. */
	if (rc == ROVE_OK)
		rc = rove_db_commit(txn);
	else
		rove_store_abort(txn);
	if (rc != ROVE_OK) {
		mdb_env_close(st->env);
		st->env = NULL;
	}
	return rc;
}

int rove_store_init(const char *dir, const rove_db_table *more, size_t nmore, const char *admin,
		    char token[ROVE_TOKEN_HEX + 1])
{
	char path[4096];
	struct stat sb;
	rove_store st;
	rove_db_made made;
	MDB_txn *txn = NULL;
	rove_user u;
	uint8_t hash[ROVE_HASH_BYTES], key[ROVE_PROOF_KEY];
	rove_uuid node;
	int rc;

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (stat(path, &sb) == 0)
		return ROVE_EEXIST;
	rc = rove_token_new(token);
	if (rc != ROVE_OK)
		return rc;
	memset(&st, 0, sizeof(st));
	rc = rove_db_create(dir, STORE_MAXDBS, ROVE_SERVER_MAPSIZE, &st.env, &made);
	if (rc != ROVE_OK)
		return rc;
	rc = rove_db_err(mdb_txn_begin(st.env, NULL, 0, &txn), "begin");
	if (rc == ROVE_OK)
		rc = open_dbis(&st, txn, more, nmore, MDB_CREATE);
	if (rc == ROVE_OK)
		rc = rove_db_put_u64(txn, st.meta, "format", ROVE_STORE_FORMAT);
	rove_uuid_new(&node);
	if (rc == ROVE_OK)
		rc = rove_db_put_u64(txn, st.meta, "node", rove_uuid_node(&node));
	if (rc == ROVE_OK) /* every scope entry it gets covers its record */
		rc = rove_db_put_u64(txn, st.meta, ROVE_STORE_COVERED, 1);
	memset(&u, 0, sizeof(u));
	snprintf(u.name, sizeof(u.name), "%s", admin);
	u.role = ROVE_ROLE_ADMIN;
	rove_token_hash(token, hash);
	if (rc == ROVE_OK)
		rc = rove_store_user_put(&st, txn, &u, hash);
	/* What a serving roved would make at its start, made now: a database
	 * no roved served yet is whole, and its first backup (which never
	 * writes its source) copies all of it. */
	if (rc == ROVE_OK) {
		const rove_db_table added[] = {{"admreqs", &st.admreqs}, {"admage", &st.admage}};
		rc = rove_db_open_tables(txn, added, sizeof(added) / sizeof(added[0]), MDB_CREATE);
	}
	if (rc == ROVE_OK)
		rc = rove_proof_key_new(key);
	if (rc == ROVE_OK)
		rc = rove_store_meta_bytes_put(&st, txn, ROVE_STORE_PROOF_KEY, key, ROVE_PROOF_KEY);
	if (rc == ROVE_OK)
		rc = rove_db_commit(txn);
	else if (txn != NULL)
		mdb_txn_abort(txn);
	mdb_env_close(st.env);
	if (rc != ROVE_OK) /* no half-made database in the way of the next try */
		rove_db_unmake(dir, &made);
	return rc;
}

/* Format 3 to 4: each user's entry gains its flags (none) and last sync
 * (never) after the role. Read first, then written: no cursor lives
 * through the writes. */
typedef struct old_users {
	struct old_user {
		char name[ROVE_MAX_NAME + 1];
		uint8_t v[USER_FIXED + ROVE_MAX_USER_TERRITORIES * (ROVE_MAX_NAME + 1)];
		size_t len;
	} * u;
	size_t n, cap;
} old_users;

static int collect_old_user(const MDB_val *k, const MDB_val *v, void *arg)
{
	old_users *all = arg;
	struct old_user *p;
	size_t len = v->mv_size;

	if (k->mv_size == 0 || k->mv_size > ROVE_MAX_NAME || len < USER_FIXED_3 ||
	    len - USER_FIXED_3 + USER_FIXED > sizeof(p->v))
		return ROVE_EPROTO;
	p = rove_array_room(all->u, all->n, &all->cap, sizeof(*p));
	if (p == NULL)
		return ROVE_ENOMEM;
	all->u = p;
	p = &all->u[all->n++];
	memcpy(p->name, k->mv_data, k->mv_size);
	p->name[k->mv_size] = '\0';
	/* role, flags 0, hash and epoch, last sync 0, codes */
	p->v[0] = ((const uint8_t *)v->mv_data)[0];
	p->v[1] = 0;
	memcpy(p->v + 2, (const uint8_t *)v->mv_data + 1, ROVE_HASH_BYTES + 8);
	memset(p->v + 2 + ROVE_HASH_BYTES + 8, 0, 8);
	memcpy(p->v + USER_FIXED, (const uint8_t *)v->mv_data + USER_FIXED_3, len - USER_FIXED_3);
	p->len = len - USER_FIXED_3 + USER_FIXED;
	return ROVE_OK;
}

static int upgrade_from_3(rove_store *st)
{
	old_users all = {NULL, 0, 0};
	MDB_txn *txn = NULL;
	int rc = rove_db_err(mdb_txn_begin(st->env, NULL, 0, &txn), "begin");

	if (rc == ROVE_OK)
		rc = rove_db_each(txn, st->users, "users", collect_old_user, &all);
	for (size_t i = 0; rc == ROVE_OK && i < all.n; i++) {
		MDB_val k = {strlen(all.u[i].name), all.u[i].name}, v = {all.u[i].len, all.u[i].v};
		rc = rove_db_err(mdb_put(txn, st->users, &k, &v, 0), "users");
	}
	if (rc == ROVE_OK)
		rc = rove_db_put_u64(txn, st->meta, "format", 4);
	if (rc == ROVE_OK)
		rc = rove_db_commit(txn);
	else if (txn != NULL)
		mdb_txn_abort(txn);
	free(all.u);
	if (rc == ROVE_OK)
		rove_info("brought the database to format 4: users can be disabled and have a last sync");
	return rc;
}

/* An upgrade that writes nothing but the format, to (what: what it
 * means, logged). */
static int format_only(rove_store *st, uint64_t to, const char *what)
{
	MDB_txn *txn = NULL;
	int rc = rove_db_err(mdb_txn_begin(st->env, NULL, 0, &txn), "begin");

	if (rc == ROVE_OK)
		rc = rove_db_put_u64(txn, st->meta, "format", to);
	if (rc == ROVE_OK)
		rc = rove_db_commit(txn);
	else if (txn != NULL)
		mdb_txn_abort(txn);
	if (rc == ROVE_OK)
		rove_info("brought the database to format %llu: %s", (unsigned long long)to, what);
	return rc;
}

/* Format 4 to 5: scoperec's entries, all empty, stay so: empty means "not
 * covered" (the records table holds the record), and each fills when its
 * record is next written. Only the format changes, so that an older roved
 * refuses the database rather than leave copies behind their records. */
static int upgrade_from_4(rove_store *st)
{
	return format_only(st, 5,
			   "scope entries hold their records, each filled when its record is next written");
}

/* Format 5 to 6: records already stored stay in record format 1, read as
 * they are; each is written in format 2 when it is next written. */
static int upgrade_from_5(rove_store *st)
{
	return format_only(st, 6, "records are written with one stamp for the fields that share it");
}

/* Format 6 to 7: the policy makes its index of customers by dealer
 * when it opens the database next (rove_pstore_open). */
static int upgrade_from_6(rove_store *st)
{
	return format_only(st, 7, "customers are indexed by the dealer they name (made next)");
}

/* upgrades[f - 3] brings format f to f + 1 (and writes f + 1). */
static int (*const upgrades[])(rove_store *st) = {upgrade_from_3, upgrade_from_4, upgrade_from_5, upgrade_from_6};
_Static_assert(sizeof(upgrades) / sizeof(upgrades[0]) == ROVE_STORE_FORMAT - 3,
	       "an upgrade for each format from 3 up to ROVE_STORE_FORMAT");

/* The tables a roved made before them lacks (store.h: admreqs, admage),
 * made where missing: an older roved leaves them alone, so no format
 * change is needed. */
static int open_added_tables(rove_store *st)
{
	const rove_db_table t[] = {{"admreqs", &st->admreqs}, {"admage", &st->admage}};
	MDB_txn *txn = NULL;
	int rc = rove_db_err(mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn), "begin");

	if (rc == ROVE_OK)
		rc = rove_db_open_tables(txn, t, sizeof(t) / sizeof(t[0]), 0);
	if (rc == ROVE_OK) {
		st->has_admreqs = true;
		return rove_db_commit(txn); /* the handles outlive it only so */
	}
	rove_store_abort(txn);
	txn = NULL;
	if (rc != ROVE_ENOTFOUND)
		return rc;
	rc = rove_db_err(mdb_txn_begin(st->env, NULL, 0, &txn), "begin");
	if (rc == ROVE_OK)
		rc = rove_db_open_tables(txn, t, sizeof(t) / sizeof(t[0]), MDB_CREATE);
	if (rc == ROVE_OK) {
		st->has_admreqs = true;
		return rove_db_commit(txn);
	}
	rove_store_abort(txn);
	return rc;
}

int rove_store_open(const char *dir, rove_store *st, const rove_db_table *more, size_t nmore)
{
	MDB_txn *txn = NULL;
	uint64_t format = 0;
	int rc = store_env(dir, st);

	if (rc != ROVE_OK)
		return rc;
	rc = rove_db_err(mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn), "begin");
	if (rc == ROVE_OK)
		rc = open_dbis(st, txn, more, nmore, 0);
	if (rc == ROVE_OK)
		rc = rove_db_get_u64(txn, st->meta, "format", &format);
	/* Each older format brought to the next, in its own transaction. */
	while (rc == ROVE_OK && format >= 3 && format < ROVE_STORE_FORMAT) {
		rc = rove_db_commit(txn);
		txn = NULL;
		if (rc == ROVE_OK)
			rc = upgrades[format - 3](st);
		if (rc == ROVE_OK)
			rc = rove_db_err(mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn), "begin");
		format++;
	}
	if (rc == ROVE_OK && format != ROVE_STORE_FORMAT)
		rc = ROVE_EVERSION;
	if (rc == ROVE_OK)
		rc = rove_db_get_u64(txn, st->meta, "node", &st->node);
	if (rc == ROVE_OK)
		rc = rove_db_commit(txn);
	else if (txn != NULL)
		mdb_txn_abort(txn);
	if (rc == ROVE_OK)
		rc = open_added_tables(st);
	if (rc == ROVE_ENOTFOUND)
		rc = lacks_roved(dir);
	if (rc != ROVE_OK) {
		mdb_env_close(st->env);
		st->env = NULL;
	}
	return rc;
}

int rove_store_begin(rove_store *st, MDB_txn *parent, bool write, MDB_txn **txn)
{
	MDB_envinfo info;
	int rc;

	*txn = NULL;
	rc = rove_db_err(mdb_txn_begin(st->env, parent, write ? 0 : MDB_RDONLY, txn), "begin");
	/* A write follows the last commit (the lock file's), which the file's
	 * meta pages hold: unless a copy was written over the file. Nothing
	 * is written into it then (it would be damaged); rove_store_watch
	 * says so. */
	if (rc == ROVE_OK && write && parent == NULL && mdb_env_info(st->env, &info) == 0 &&
	    (uint64_t)info.me_last_txnid + 1 != (uint64_t)mdb_txn_id(*txn)) {
		mdb_txn_abort(*txn);
		*txn = NULL;
		atomic_store(&st->overwritten, true);
		rove_error("the database file changed under this process (a copy written over it): not written");
		return ROVE_EDB;
	}
	return rc;
}

int rove_store_commit(MDB_txn *txn)
{
	return rove_db_commit(txn);
}

void rove_store_abort(MDB_txn *txn)
{
	if (txn != NULL)
		mdb_txn_abort(txn);
}

void rove_store_close(rove_store *st)
{
	rove_buf_free(&st->enc);
	if (st->env != NULL)
		mdb_env_close(st->env);
	st->env = NULL;
}

int rove_store_user_get(rove_store *st, MDB_txn *txn, const char *name, rove_user *u,
			uint8_t hash[ROVE_HASH_BYTES])
{
	size_t len = strlen(name);
	MDB_val k = {len, (void *)name}, v;
	const uint8_t *p, *end;
	int rc;

	if (len == 0 || len > ROVE_MAX_NAME)
		return ROVE_ENOTFOUND;
	rc = mdb_get(txn, st->users, &k, &v);
	if (rc != 0)
		return rove_db_err(rc, "users");
	if (v.mv_size < USER_FIXED)
		return ROVE_EPROTO;
	p = v.mv_data;
	end = p + v.mv_size;
	if (p[0] < ROVE_ROLE_REP || p[0] > ROVE_ROLE_ADMIN)
		return ROVE_EPROTO;
	if ((p[1] & ~USER_DISABLED) != 0)
		return ROVE_EPROTO;
	memcpy(u->name, name, len + 1);
	u->role = p[0];
	u->disabled = (p[1] & USER_DISABLED) != 0;
	if (hash != NULL)
		memcpy(hash, p + 2, ROVE_HASH_BYTES);
	u->epoch = rove_be64_get(p + 2 + ROVE_HASH_BYTES);
	u->synced_ms = rove_be64_get(p + 2 + ROVE_HASH_BYTES + 8);
	u->nterr = 0;
	for (p += USER_FIXED; p < end;) {
		const uint8_t *nul = memchr(p, '\0', (size_t)(end - p));
		size_t clen;
		if (nul == NULL || u->nterr >= ROVE_MAX_USER_TERRITORIES)
			return ROVE_EPROTO;
		clen = (size_t)(nul - p);
		if (clen == 0 || clen > ROVE_MAX_NAME)
			return ROVE_EPROTO;
		memcpy(u->terr[u->nterr++], p, clen + 1);
		p = nul + 1;
	}
	return ROVE_OK;
}

int rove_store_user_put(rove_store *st, MDB_txn *txn, const rove_user *u,
			const uint8_t hash[ROVE_HASH_BYTES])
{
	uint8_t buf[USER_FIXED + ROVE_MAX_USER_TERRITORIES * (ROVE_MAX_NAME + 1)];
	size_t len = USER_FIXED;
	MDB_val k = {strlen(u->name), (void *)u->name}, v;

	if (u->nterr > ROVE_MAX_USER_TERRITORIES)
		return ROVE_ETOOBIG;
	buf[0] = (uint8_t)u->role;
	buf[1] = u->disabled ? USER_DISABLED : 0;
	memcpy(buf + 2, hash, ROVE_HASH_BYTES);
	rove_be64_put(buf + 2 + ROVE_HASH_BYTES, u->epoch);
	rove_be64_put(buf + 2 + ROVE_HASH_BYTES + 8, u->synced_ms);
	for (uint32_t i = 0; i < u->nterr; i++) {
		size_t clen = strnlen(u->terr[i], ROVE_MAX_NAME);
		memcpy(buf + len, u->terr[i], clen);
		buf[len + clen] = '\0';
		len += clen + 1;
	}
	v.mv_size = len;
	v.mv_data = buf;
	return rove_db_err(mdb_put(txn, st->users, &k, &v, 0), "users");
}

/* Users' logins and roles, as each_user collects them. */
typedef struct logins {
	struct login {
		char name[ROVE_MAX_NAME + 1];
		int role;
	} * v;
	size_t n, cap;
} logins;

static int collect_login(const MDB_val *k, const MDB_val *v, void *arg)
{
	logins *all = arg;
	struct login *p;

	if (k->mv_size == 0 || k->mv_size > ROVE_MAX_NAME || v->mv_size < USER_FIXED)
		return ROVE_EPROTO; /* rove_store_user_put writes none */
	p = rove_array_room(all->v, all->n, &all->cap, sizeof(*p));
	if (p == NULL)
		return ROVE_ENOMEM;
	all->v = p;
	memcpy(all->v[all->n].name, k->mv_data, k->mv_size);
	all->v[all->n].name[k->mv_size] = '\0';
	all->v[all->n].role = ((const uint8_t *)v->mv_data)[0];
	all->n++;
	return ROVE_OK;
}

int rove_store_each_user(rove_store *st, MDB_txn *txn, rove_user_fn fn, void *arg)
{
	logins all = {NULL, 0, 0};
	int rc;

	/* The logins first, in one walk, then fn on each: no cursor
	 * survives fn's writes, and a walk that stops and resumes is where
	 * users get skipped. */
	rc = rove_db_each(txn, st->users, "users", collect_login, &all);
	for (size_t i = 0; rc == ROVE_OK && i < all.n; i++)
		rc = fn(all.v[i].name, all.v[i].role, arg);
	free(all.v);
	return rc;
}

typedef struct like_ctx {
	const char *name;
	char *found;
} like_ctx;

static int login_like(const char *login, int role, void *arg)
{
	like_ctx *l = arg;

	(void)role;
	if (!rove_name_same(login, strlen(login), l->name, strlen(l->name)))
		return ROVE_OK;
	snprintf(l->found, ROVE_MAX_NAME + 1, "%s", login);
	return ROVE_EEXIST; /* found: stop */
}

int rove_store_user_like(rove_store *st, MDB_txn *txn, const char *name, char found[ROVE_MAX_NAME + 1])
{
	like_ctx l = {name, found};
	int rc;

	found[0] = '\0';
	rc = rove_store_each_user(st, txn, login_like, &l);
	return rc == ROVE_EEXIST ? ROVE_OK : rc;
}

int rove_store_oplog_get(rove_store *st, MDB_txn *txn, uint64_t seq, rove_op *op, MDB_val *raw)
{
	uint8_t key[8];
	MDB_val k = {8, key};
	int rc;

	rove_be64_put(key, seq);
	rc = mdb_get(txn, st->oplog, &k, raw);
	if (rc != 0)
		return rove_db_err(rc, "oplog");
	if (rove_dec_op(raw->mv_data, raw->mv_size, op) != ROVE_OK || op->seq != seq) {
		rove_error("corrupt op %llu in the oplog", (unsigned long long)seq);
		return ROVE_EPROTO;
	}
	return ROVE_OK;
}

void rove_store_reader_close(rove_store_reader *rd)
{
	if (rd->oplog != NULL)
		mdb_cursor_close(rd->oplog);
	for (unsigned i = 0; i < ROVE_STORE_READER_COLLS; i++)
		if (rd->records[i] != NULL)
			mdb_cursor_close(rd->records[i]);
	memset(rd, 0, sizeof(*rd));
}

/* The value of key in dbi through *c (opened on first use). */
static int reader_get(MDB_txn *txn, MDB_dbi dbi, MDB_cursor **c, MDB_val *k, MDB_val *v, const char *what)
{
	if (*c == NULL) {
		int rc = rove_db_err(mdb_cursor_open(txn, dbi, c), "cursor");
		if (rc != ROVE_OK)
			return rc;
	}
	return rove_db_err(mdb_cursor_get(*c, k, v, MDB_SET), what);
}

int rove_store_oplog_head(rove_store *st, MDB_txn *txn, rove_store_reader *rd, uint64_t seq, rove_op_head *op,
			  char author[ROVE_MAX_NAME + 1], MDB_val *raw)
{
	uint8_t key[8];
	MDB_val k = {8, key};
	int rc;

	rove_be64_put(key, seq);
	rc = reader_get(txn, st->oplog, &rd->oplog, &k, raw, "oplog");
	if (rc != ROVE_OK)
		return rc;
	if (rove_dec_op_head_author(raw->mv_data, raw->mv_size, op, author) != ROVE_OK || op->seq != seq) {
		rove_error("corrupt op %llu in the oplog", (unsigned long long)seq);
		return ROVE_EPROTO;
	}
	return ROVE_OK;
}

int rove_store_record_raw_at(rove_store *st, MDB_txn *txn, rove_store_reader *rd, const uint8_t key[ROVE_RECORD_KEY],
			     MDB_val *raw)
{
	MDB_val k = {ROVE_RECORD_KEY, (void *)key};

	return reader_get(txn, st->records, &rd->records[key[0] % ROVE_STORE_READER_COLLS], &k, raw, "records");
}

int rove_store_record_get(rove_store *st, MDB_txn *txn, uint8_t coll, const rove_uuid *id,
			  rove_record *rec)
{
	uint8_t key[ROVE_RECORD_KEY];
	MDB_val k = {sizeof(key), key}, v;
	int rc;

	rove_record_key(key, coll, id);
	rc = mdb_get(txn, st->records, &k, &v);
	if (rc != 0)
		return rove_db_err(rc, "records");
	rc = rove_dec_record(v.mv_data, v.mv_size, rec);
	if (rc != ROVE_OK || rec->coll != coll || rove_uuid_cmp(&rec->id, id) != 0) {
		rove_error("stored record is corrupt");
		return ROVE_EPROTO;
	}
	return ROVE_OK;
}

int rove_store_record_raw(rove_store *st, MDB_txn *txn, const uint8_t key[ROVE_RECORD_KEY], MDB_val *raw)
{
	MDB_val k = {ROVE_RECORD_KEY, (void *)key};

	return rove_db_err(mdb_get(txn, st->records, &k, raw), "records");
}

int rove_store_each_record(rove_store *st, MDB_txn *txn, const uint8_t *after, size_t after_len, rove_raw_fn fn,
			   void *arg)
{
	MDB_cursor *c;
	MDB_val k = {after_len, (void *)after}, v;
	int rc = rove_db_err(mdb_cursor_open(txn, st->records, &c), "cursor");
	int mrc;

	if (rc != ROVE_OK)
		return rc;
	if (after_len > 0) {
		mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		if (mrc == 0 && k.mv_size == after_len && memcmp(k.mv_data, after, after_len) == 0)
			mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	} else {
		mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	}
	for (; rc == ROVE_OK && mrc == 0; mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != ROVE_RECORD_KEY) {
			rove_error("corrupt key in the records table");
			rc = ROVE_EPROTO;
			break;
		}
		rc = fn(k.mv_data, &v, arg);
	}
	if (rc == ROVE_OK && mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, "records");
	mdb_cursor_close(c);
	return rc;
}

int rove_store_record_put(rove_store *st, MDB_txn *txn, const rove_record *rec, MDB_val *stored)
{
	uint8_t key[ROVE_RECORD_KEY];
	MDB_val k = {sizeof(key), key}, v;
	int rc;

	/* Only records of the schema, checked on the way in, are written. */
	ROVE_ASSERT(rove_schema_coll(rec->coll) != NULL && rec->fs.n <= ROVE_MAX_FIELDS);

	/* Encoded into the store's buffer, kept: one write transaction at a
	 * time (LMDB's), so one writer uses it at a time; the caller puts the
	 * same bytes into the scope index (*stored). */
	rove_buf_reset(&st->enc);
	rove_record_key(key, rec->coll, &rec->id);
	rc = rove_enc_record(&st->enc, rec);
	if (rc == ROVE_OK) {
		v.mv_size = st->enc.len;
		v.mv_data = st->enc.data;
		/* by collection: a rep's new records of one come in order */
		rc = store_put(st, txn, st->records, "records", &k, 1, &v, 0);
	}
	if (rc == ROVE_OK && stored != NULL)
		*stored = v;
	return rc;
}

int rove_store_record_del(rove_store *st, MDB_txn *txn, const uint8_t key[ROVE_RECORD_KEY])
{
	MDB_val k = {ROVE_RECORD_KEY, (void *)key};
	int rc;

	store_del_first(st, txn, st->records);
	rc = mdb_del(txn, st->records, &k, NULL);

	return rc == MDB_NOTFOUND ? ROVE_OK : rove_db_err(rc, "records");
}

int rove_store_head(rove_store *st, MDB_txn *txn, uint64_t *head)
{
	return rove_db_last_u64(txn, st->oplog, head);
}

int rove_store_floor(rove_store *st, MDB_txn *txn, uint64_t *floor)
{
	int rc = rove_db_get_u64(txn, st->meta, "floor", floor);

	if (rc == ROVE_ENOTFOUND) {
		*floor = 0;
		rc = ROVE_OK;
	}
	return rc;
}

int rove_store_each_op(rove_store *st, MDB_txn *txn, uint64_t after, rove_raw_op_fn fn, void *arg)
{
	return store_each_num(txn, st->oplog, "oplog", after, fn, arg);
}

int rove_store_meta_get(rove_store *st, MDB_txn *txn, const char *key, uint64_t *v)
{
	return rove_db_get_u64(txn, st->meta, key, v);
}

int rove_store_meta_put(rove_store *st, MDB_txn *txn, const char *key, uint64_t v)
{
	return rove_db_put_u64(txn, st->meta, key, v);
}

int rove_store_meta_bytes_get(rove_store *st, MDB_txn *txn, const char *key, void *out, size_t len)
{
	MDB_val k = {strlen(key), (void *)key}, v;
	int rc = mdb_get(txn, st->meta, &k, &v);

	if (rc != 0)
		return rove_db_err(rc, key);
	if (v.mv_size != len)
		return ROVE_EPROTO;
	memcpy(out, v.mv_data, len);
	return ROVE_OK;
}

int rove_store_proof_key_get(rove_store *st, MDB_txn *txn, uint8_t key[ROVE_PROOF_KEY])
{
	int rc = rove_store_meta_bytes_get(st, txn, ROVE_STORE_PROOF_KEY, key, ROVE_PROOF_KEY);

	return rc == ROVE_OK && !rove_proof_key_sound(key) ? ROVE_EPROTO : rc;
}

int rove_store_meta_bytes_put(rove_store *st, MDB_txn *txn, const char *key, const void *v, size_t len)
{
	MDB_val k = {strlen(key), (void *)key}, d = {len, (void *)v};

	return rove_db_err(mdb_put(txn, st->meta, &k, &d, 0), key);
}

int rove_store_counter_get(rove_store *st, MDB_txn *txn, const char *name, uint64_t *v)
{
	int rc = rove_db_get_u64(txn, st->counters, name, v);

	if (rc == ROVE_ENOTFOUND) {
		*v = 0;
		rc = ROVE_OK;
	}
	return rc;
}

int rove_store_counter_put(rove_store *st, MDB_txn *txn, const char *name, uint64_t v)
{
	return rove_db_put_u64(txn, st->counters, name, v);
}

int rove_store_clock_get(rove_store *st, MDB_txn *txn, rove_hlc *clock)
{
	int rc = rove_db_get_u64(txn, st->meta, "clock", &clock->v);

	if (rc == ROVE_ENOTFOUND) {
		clock->v = 0;
		rc = ROVE_OK;
	}
	return rc;
}

int rove_store_clock_put(rove_store *st, MDB_txn *txn, rove_hlc clock)
{
	return rove_db_put_u64(txn, st->meta, "clock", clock.v);
}

int rove_store_oplog_append(rove_store *st, MDB_txn *txn, rove_op *op, uint64_t *head, rove_buf *scratch)
{
	uint8_t key[8];
	MDB_val k = {8, key}, v;
	int rc;

	ROVE_ASSERT(op->kind >= ROVE_OP_CREATE && op->kind <= ROVE_OP_KIND_MAX);
	op->seq = *head + 1;
	rove_buf_reset(scratch);
	rc = rove_enc_op(scratch, op);
	if (rc != ROVE_OK)
		return rc;
	rove_be64_put(key, op->seq);
	v.mv_size = scratch->len;
	v.mv_data = scratch->data;
	rc = rove_db_err(mdb_put(txn, st->oplog, &k, &v, MDB_APPEND), "oplog");
	if (rc == ROVE_OK)
		*head = op->seq;
	return rc;
}

/* opids: status(1) reason(1) seq(8) hlc(8) node(8) detail(rest) */
#define OPID_FIXED 26

int rove_store_opid_get(rove_store *st, MDB_txn *txn, const rove_uuid *op_id, rove_push_result *r)
{
	MDB_val k = {16, (void *)op_id->b}, v;
	const uint8_t *p;
	size_t dlen;
	int rc = mdb_get(txn, st->opids, &k, &v);

	if (rc != 0)
		return rove_db_err(rc, "opids");
	p = v.mv_data;
	if (v.mv_size < OPID_FIXED || v.mv_size > OPID_FIXED + ROVE_MAX_DETAIL ||
	    p[0] > ROVE_PUSH_REJECTED || p[1] >= ROVE_R_COUNT)
		return ROVE_EPROTO;
	r->op_id = *op_id;
	r->status = p[0];
	r->reason = p[1];
	r->seq = rove_be64_get(p + 2);
	r->st.hlc.v = rove_be64_get(p + 10);
	r->st.node = rove_be64_get(p + 18);
	dlen = v.mv_size - OPID_FIXED;
	memcpy(r->detail, p + OPID_FIXED, dlen);
	r->detail[dlen] = '\0';
	return ROVE_OK;
}

int rove_store_opid_put(rove_store *st, MDB_txn *txn, const rove_push_result *r)
{
	uint8_t buf[OPID_FIXED + ROVE_MAX_DETAIL];
	size_t dlen = strnlen(r->detail, ROVE_MAX_DETAIL);
	MDB_val k = {16, (void *)r->op_id.b}, v = {OPID_FIXED + dlen, buf};

	buf[0] = r->status;
	buf[1] = r->reason;
	rove_be64_put(buf + 2, r->seq);
	rove_be64_put(buf + 10, r->st.hlc.v);
	rove_be64_put(buf + 18, r->st.node);
	memcpy(buf + OPID_FIXED, r->detail, dlen);
	return store_put(st, txn, st->opids, "opids", &k, 0, &v, MDB_NOOVERWRITE);
}

int store_opid_forget_refused(rove_store *st, MDB_txn *txn, const rove_uuid *op_id)
{
	MDB_val k = {16, (void *)op_id->b}, v;
	int rc = mdb_get(txn, st->opids, &k, &v);

	if (rc == MDB_NOTFOUND)
		return ROVE_OK;
	if (rc != 0)
		return rove_db_err(rc, "opids");
	if (v.mv_size < OPID_FIXED || ((const uint8_t *)v.mv_data)[0] != ROVE_PUSH_REJECTED)
		return ROVE_OK;
	store_del_first(st, txn, st->opids);
	return rove_db_err(mdb_del(txn, st->opids, &k, NULL), "opids");
}

/* runs: n(8) -> start(8) id(16) */
#define RUN_VALUE 24

typedef struct run_list {
	rove_run *v;
	size_t n, cap;
} run_list;

static int load_run(uint64_t n, const MDB_val *v, void *arg)
{
	run_list *all = arg;
	const uint8_t *p = v->mv_data;
	rove_run *q;

	(void)n;
	if (v->mv_size != RUN_VALUE || (all->n > 0 && rove_be64_get(p) < all->v[all->n - 1].start)) {
		rove_error("corrupt entry in the runs table");
		return ROVE_EPROTO;
	}
	q = rove_array_room(all->v, all->n, &all->cap, sizeof(*q));
	if (q == NULL)
		return ROVE_ENOMEM;
	all->v = q;
	all->v[all->n].start = rove_be64_get(p);
	memcpy(all->v[all->n].id.b, p + 8, 16);
	all->n++;
	return ROVE_OK;
}

/* Every run, oldest first, into *out (the caller frees it). */
static int runs_load(rove_store *st, MDB_txn *txn, rove_run **out, size_t *n)
{
	run_list all = {NULL, 0, 0};
	int rc = store_each_num(txn, st->runs, "runs", 0, load_run, &all);

	if (rc != ROVE_OK) {
		free(all.v);
		return rc;
	}
	*out = all.v;
	*n = all.n;
	return ROVE_OK;
}

int rove_store_sound(rove_store *st, const char *dir)
{
	MDB_txn *txn = NULL;
	MDB_stat users, records;
	uint64_t head = 0;
	int rc = rove_db_err(mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn), "begin");

	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_stat(txn, st->users, &users), "users");
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_stat(txn, st->records, &records), "records");
	if (rc == ROVE_OK)
		rc = rove_store_head(st, txn, &head);
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (rc != ROVE_OK)
		return rc;
	if (users.ms_entries == 0 || (head == 0) != (records.ms_entries == 0)) {
		rove_error("'%s' is damaged: %s; restore a backup (OPERATIONS.md, \"Restore\")", dir,
			   users.ms_entries == 0 ? "it holds no user, not even its admin"
			   : head == 0		 ? "it holds records but no op"
						 : "it holds ops but no record");
		return ROVE_EPROTO;
	}
	return ROVE_OK;
}

int rove_store_run_start(rove_store *st, rove_run **runs, size_t *n)
{
	MDB_txn *txn = NULL;
	uint8_t key[8], val[RUN_VALUE];
	MDB_val k = {8, key}, v = {RUN_VALUE, val};
	uint64_t head = 0, last = 0;
	rove_uuid id;
	int rc = rove_db_err(mdb_txn_begin(st->env, NULL, 0, &txn), "begin");

	*runs = NULL;
	*n = 0;
	if (rc == ROVE_OK)
		rc = rove_store_head(st, txn, &head);
	if (rc == ROVE_OK)
		rc = rove_db_last_u64(txn, st->runs, &last);
	if (rc == ROVE_OK) {
		rove_uuid_new(&id);
		rove_be64_put(key, last + 1);
		rove_be64_put(val, head + 1);
		memcpy(val + 8, id.b, 16);
		rc = rove_db_err(mdb_put(txn, st->runs, &k, &v, MDB_APPEND), "runs");
	}
	if (rc == ROVE_OK)
		rc = runs_load(st, txn, runs, n);
	if (rc == ROVE_OK)
		rc = rove_db_commit(txn);
	else if (txn != NULL)
		mdb_txn_abort(txn);
	if (rc != ROVE_OK) {
		free(*runs);
		*runs = NULL;
		*n = 0;
	}
	return rc;
}

/* A fault inside LMDB's copy: a page read past the file's end (SIGBUS:
 * the file cut or written over meanwhile) or a page number that leads
 * nowhere (SIGSEGV: a page a writer reused under a read without the lock
 * file; attack fifty-four: 2 of 70 such backups died so, leaving a
 * partial data.mdb that looked like a backup). What the backup made is
 * removed and the words set before the copy said, exit 1. Only LMDB's
 * read of the map runs when it happens; unlink, rmdir and write are
 * async-signal-safe. */
static struct {
	char file[4096]; /* the partial copy ("" until made) */
	char dir[4096];  /* DEST, when this backup made it */
	char said[9000]; /* the words */
} copying;

static void copy_fault(int sig)
{
	ssize_t w;

	(void)sig;
	if (copying.file[0] != '\0')
		(void)unlink(copying.file);
	if (copying.dir[0] != '\0')
		(void)rmdir(copying.dir);
	w = write(STDERR_FILENO, copying.said, strlen(copying.said));
	(void)w;
	_exit(1);
}

/* Copies st's database into the new file dest/data.mdb (made here, so
 * nothing that was there is overwritten): LMDB's compacting copy, then
 * synced. 0 or an LMDB status (an errno value for the file's own
 * errors); *made says whether the file was made. */
static int backup_copy(rove_store *st, const char *dest, bool *made)
{
	char path[4096];
	int fd, rc;

	*made = false;
	if (snprintf(path, sizeof(path), "%s/data.mdb", dest) >= (int)sizeof(path))
		return ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno;
	*made = true;
	memcpy(copying.file, path, sizeof(path));
	/* One read transaction inside: a consistent copy while writers go on;
	 * compacted, so free pages are left behind. */
	rc = mdb_env_copyfd2(st->env, fd, MDB_CP_COMPACT);
	if (rc == 0 && fsync(fd) != 0)
		rc = errno;
	if (close(fd) != 0 && rc == 0)
		rc = errno;
	return rc;
}

/* backup_copy of dir's st with a fault inside LMDB's copy said and what
 * the backup made removed (copy_fault), not a crash that leaves a partial
 * copy behind. */
static int backup_copy_guarded(rove_store *st, const char *dir, const char *dest, bool unlocked, bool *made)
{
	struct sigaction fault, old_segv, old_bus;
	int rc;

	snprintf(copying.said, sizeof(copying.said),
		 unlocked ? "roved: error: '%s' changed while it was copied without its lock file (this user may not "
			    "write it): the copy read a page a writer reused, and is removed; back up as the server's "
			    "user\n"
			  : "roved: error: reading '%s' faulted during the copy (its file damaged, cut or written over "
			    "meanwhile): the copy is removed; roved check '%s'\n",
		 dir, dir);
	memset(&fault, 0, sizeof(fault));
	fault.sa_handler = copy_fault;
	sigemptyset(&fault.sa_mask);
	fault.sa_flags = SA_RESETHAND;
	(void)sigaction(SIGSEGV, &fault, &old_segv);
	(void)sigaction(SIGBUS, &fault, &old_bus);
	rc = backup_copy(st, dest, made);
	(void)sigaction(SIGSEGV, &old_segv, NULL);
	(void)sigaction(SIGBUS, &old_bus, NULL);
	copying.file[0] = '\0';
	return rc;
}

/* The id of the latest transaction committed in st. */
static int store_txnid(rove_store *st, uint64_t *txnid)
{
	MDB_txn *txn = NULL;
	int rc = rove_db_err(mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn), "begin");

	if (rc == ROVE_OK) {
		*txnid = (uint64_t)mdb_txn_id(txn);
		mdb_txn_abort(txn);
	}
	return rc;
}

/* backup_copy's status as a rove status, the error said. */
static int copy_status(int rc, const char *dest)
{
	if (rc == 0)
		return ROVE_OK;
	if (rc == EEXIST)
		return ROVE_EEXIST;
	if (rc == ENOSPC || rc == EDQUOT) {
		rove_error("no space left on the disk holding '%s' for the copy", dest);
		return ROVE_ENOSPC;
	}
	rove_error("cannot copy the database to '%s': %s", dest, mdb_strerror(rc));
	return ROVE_EIO;
}

/* A copy holds the key of proofs of the clock as it was: a damaged one
 * (roved serve replaces it, check names it) or none is said, since a
 * server restored from the copy makes a new one and replicas' proofs
 * from before count for nothing (attacks forty, forty-three: backed up
 * without a word). */
static void backup_key_said(rove_store *st, const char *dir)
{
	uint8_t key[ROVE_PROOF_KEY];
	MDB_txn *txn = NULL;
	int rc = rove_store_begin(st, NULL, false, &txn);

	if (rc == ROVE_OK)
		rc = rove_store_proof_key_get(st, txn, key);
	rove_store_abort(txn);
	if (rc == ROVE_ENOTFOUND)
		rove_warn("'%s' holds no key of proofs of the clock (meta %s; a database roved has not served since "
			  "2026-12-04, or the key removed): a server restored from the copy makes one, and the proofs "
			  "replicas hold count for nothing until they sync again",
			  dir, ROVE_STORE_PROOF_KEY);
	if (rc == ROVE_EPROTO)
		rove_warn("the key of proofs of the clock (meta %s) is damaged in '%s' and so in the copy: a server "
			  "restored from it makes a new one, and the proofs replicas hold count for nothing until they "
			  "sync again (roved check names it)",
			  ROVE_STORE_PROOF_KEY, dir);
}

/* What the walk of a backup's source found: faults in the trees, and in
 * the free list alone; the first of each, for the words. */
typedef struct backup_faults {
	uint64_t tree, free_list;
	char first_tree[ROVE_MAX_ERRMSG], first_free[ROVE_MAX_ERRMSG];
} backup_faults;

static void backup_fault(void *arg, const uint64_t *page, bool free_list, const char *what)
{
	backup_faults *f = arg;
	char *first = free_list ? f->first_free : f->first_tree;

	if ((free_list ? f->free_list++ : f->tree++) == 0) {
		if (page != NULL)
			snprintf(first, ROVE_MAX_ERRMSG, "page %llu: %s", (unsigned long long)*page, what);
		else
			snprintf(first, ROVE_MAX_ERRMSG, "%s", what);
	}
}

int rove_store_pages_sound(rove_store *st, const char *dir, bool backup, bool unlocked, uint64_t txnid)
{
	backup_faults f;
	MDB_txn *txn = NULL;
	uint64_t npages = 0;
	int rc = rove_db_err(mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn), "begin");

	memset(&f, 0, sizeof(f));
	if (rc != ROVE_OK)
		return rc;
	rc = rove_db_pages_check(st->env, txn, 0 /* roved's tables: plain */, backup_fault, &f, &npages);
	mdb_txn_abort(txn);
	if (rc == ROVE_ECHANGED) {
		rove_warn("the pages of '%s' were not walked first: a server committed while each of %d walks began; "
			  "roved check it",
			  dir, ROVE_PAGE_WALK_TRIES);
		return ROVE_OK;
	}
	if (rc != ROVE_OK)
		return rc;
	if (f.tree + f.free_list > 0 && unlocked && rove_db_changed_since(st->env, txnid)) {
		rove_error("'%s' changed while it was read without its lock file (this user may not write it): back up "
			   "as the server's user",
			   dir);
		return ROVE_EIO;
	}
	if (f.tree > 0) {
		rove_error("'%s' is damaged (%s%s): not %s; 'roved check %s' lists all of it; restore an earlier backup",
			   dir, f.first_tree, f.tree > 1 ? "; and more" : "",
			   backup ? "backed up, as the copy would carry it" : "compacted", dir);
		return ROVE_EPROTO;
	}
	if (f.free_list > 0 && !backup) {
		rove_error("'%s': its free list is damaged (%s%s): not compacted, as compaction would write over pages "
			   "in use; back it up (the copy's free list is made anew) and serve the copy",
			   dir, f.first_free, f.free_list > 1 ? "; and more" : "");
		return ROVE_EPROTO;
	}
	if (f.free_list > 0)
		rove_warn("'%s': its free list is damaged (%s%s), which a server writing to it would act on, "
			  "overwriting pages in use; the copy, whose free list is made anew, is whole: serve the copy, "
			  "not this database",
			  dir, f.first_free, f.free_list > 1 ? "; and more" : "");
	return ROVE_OK;
}

int rove_store_pages_sound_dir(const char *dir, bool backup)
{
	enum rove_db_access access = ROVE_DB_WRITABLE;
	uint64_t txnid = 0;
	rove_store st;
	bool unlocked;
	int rc;

	memset(&st, 0, sizeof(st));
	rc = rove_db_open_any(dir, STORE_MAXDBS, ROVE_SERVER_MAPSIZE, &st.env, &access);
	if (rc != ROVE_OK)
		return rc;
	unlocked = access == ROVE_DB_READ_ROFS || access == ROVE_DB_READ_UNLOCKED;
	if (unlocked)
		rc = store_txnid(&st, &txnid);
	if (rc == ROVE_OK)
		rc = rove_store_pages_sound(&st, dir, backup, unlocked, txnid);
	mdb_env_close(st.env);
	return rc;
}

/* Copies the database in dir into the new file dest/data.mdb (*made_file
 * says whether it was made). */
static int backup_open_copy(const char *dir, const char *dest, bool *made_file)
{
	enum rove_db_access access = ROVE_DB_WRITABLE;
	uint64_t txnid = 0;
	rove_store st;
	bool unlocked, other_format = false;
	int rc;

	/* Read only, always: a backup never writes its source. Before, a
	 * user who could write it opened it as the server does, which brought
	 * an older format to this roved's (the backup taken before an upgrade
	 * was of the upgraded database, its source upgraded in place) and
	 * added the tables a serving roved makes. A database of another
	 * format is copied as it is: a server restored from the copy brings
	 * it to its own. */
	rc = rove_store_open_ro(dir, &st, NULL, 0, &access);
	if (rc == ROVE_EDB) {
		/* LMDB failed on the tables: the pages say where, as for every
		 * other damage (attack fifty-four: only "storage error") */
		int prc = rove_store_pages_sound_dir(dir, true);
		return prc != ROVE_OK ? prc : rc;
	}
	if (rc == ROVE_EVERSION) {
		memset(&st, 0, sizeof(st));
		rc = rove_db_open_any(dir, STORE_MAXDBS, ROVE_SERVER_MAPSIZE, &st.env, &access);
		other_format = rc == ROVE_OK;
	}
	if (rc != ROVE_OK)
		return rc;
	unlocked = access == ROVE_DB_READ_ROFS || access == ROVE_DB_READ_UNLOCKED;
	if (unlocked && (rc = store_txnid(&st, &txnid)) != ROVE_OK) {
		rove_store_close(&st);
		return rc;
	}
	rc = rove_store_pages_sound(&st, dir, true, unlocked, txnid);
	if (rc == ROVE_OK) {
		int mrc = backup_copy_guarded(&st, dir, dest, unlocked, made_file);
		/* Read without the lock file, the copy's reader is one no
		 * writer sees: once a server commits twice it may reuse pages
		 * the copy reads. A database that changed meanwhile may be
		 * copied torn, and LMDB's error on such a read (MDB_PAGE_NOTFOUND,
		 * say) is that change. */
		if (unlocked && rove_db_changed_since(st.env, txnid)) {
			rove_error("'%s' changed while it was copied without its lock file (this user may not write it), "
				   "so the copy may be torn%s%s%s: back up as the server's user",
				   dir, mrc != 0 ? " (" : "", mrc != 0 ? mdb_strerror(mrc) : "", mrc != 0 ? ")" : "");
			rc = ROVE_EIO;
		} else {
			rc = copy_status(mrc, dest);
		}
	}
	if (rc == ROVE_OK && other_format)
		rove_info("'%s' is of another format than this roved's: copied as it is (the roved that serves the "
			  "copy brings it to its own)",
			  dir);
	else if (rc == ROVE_OK)
		backup_key_said(&st, dir);
	rove_store_close(&st);
	return rc;
}

int rove_store_backup(const char *dir, const char *dest)
{
	bool made_dir = false, made_file = false;
	char path[4096];
	int rc;

	/* The source's way before DEST is made (it is checked again at its
	 * open, attack forty-nine). */
	rc = rove_lockfile_dir_trusted(dir, false);
	if (rc == ROVE_OK)
		rc = rove_lockfile_make_dir(dest, &made_dir);
	if (rc != ROVE_OK)
		return rc; /* ROVE_ENOTFOUND: no source; the others said */
	copying.file[0] = '\0';
	snprintf(copying.dir, sizeof(copying.dir), "%s", made_dir ? dest : "");
	rc = backup_open_copy(dir, dest, &made_file);
	/* A failed backup leaves nothing that looks like one: what it made
	 * goes, and only that (DEST is new or empty; a data.mdb there before
	 * is refused, EEXIST, and kept). */
	if (rc != ROVE_OK && made_file) {
		snprintf(path, sizeof(path), "%s/data.mdb", dest);
		if (unlink(path) != 0)
			rove_warn("cannot remove the partial copy '%s': %s", path, strerror(errno));
	}
	if (rc != ROVE_OK && made_dir && rmdir(dest) != 0)
		rove_warn("cannot remove '%s': %s", dest, strerror(errno));
	return rc;
}

int rove_store_watch(rove_store *st, rove_store_watched *w, const char **why)
{
	const char *dir = NULL;
	char path[4096];
	struct stat open_now, there;
	MDB_envinfo info;
	mdb_filehandle_t fd;

	*why = NULL;
	if (mdb_env_get_path(st->env, &dir) != 0 || mdb_env_get_fd(st->env, &fd) != 0 || fstat(fd, &open_now) != 0 ||
	    snprintf(path, sizeof(path), "%s/data.mdb", dir) >= (int)sizeof(path))
		return ROVE_OK;
	if (stat(path, &there) != 0 ? errno == ENOENT
				    : there.st_dev != open_now.st_dev || there.st_ino != open_now.st_ino) {
		*why = "its data.mdb was removed or another file put in its place";
		return ROVE_EIO;
	}
	if (atomic_load(&st->overwritten)) {
		*why = "its data.mdb went back to an older state (a copy written over it)";
		return ROVE_EIO;
	}
	if ((uint64_t)open_now.st_size < w->size) {
		*why = "its data.mdb shrank (a copy written over it)";
		return ROVE_EIO;
	}
	w->size = (uint64_t)open_now.st_size;
	/* The meta pages' own, as the file holds them now (a read
	 * transaction would take the lock file's, which a copy leaves). */
	if (mdb_env_info(st->env, &info) != 0)
		return ROVE_OK;
	if ((uint64_t)info.me_last_txnid < w->txnid) {
		*why = "its data.mdb went back to an older state (a copy written over it)";
		return ROVE_EIO;
	}
	w->txnid = (uint64_t)info.me_last_txnid;
	return ROVE_OK;
}
