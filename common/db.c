#include "db.h"

#include "err.h"
#include "log.h"
#include "rove_limits.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int rove_db_err(int rc, const char *what)
{
	switch (rc) {
	case MDB_SUCCESS:
		return ROVE_OK;
	case MDB_NOTFOUND:
		return ROVE_ENOTFOUND;
	case MDB_KEYEXIST:
		return ROVE_EEXIST;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
		/* Handled by growing the map and writing again (rove_db_grow_retry). */
		rove_debug("%s: %s", what, mdb_strerror(rc));
		return ROVE_EMAPFULL;
	case ENOMEM:
		return ROVE_ENOMEM;
	case ENOSPC:
	case EDQUOT:
		rove_error("%s: the disk is full; nothing was written", what);
		return ROVE_EIO;
	default:
		rove_error("%s: %s", what, mdb_strerror(rc));
		return ROVE_EDB;
	}
}

/* A database file shorter than the pages its meta page says are in use
 * (a partial copy, a disk that filled during a restore) would be read
 * through the map past its end: a SIGBUS at the first such page, with no
 * word of why. Refused at open instead. */
static int check_length(MDB_env *env, const char *dir)
{
	MDB_envinfo info;
	MDB_stat ms;
	struct stat st;
	char path[4096];
	int rc = mdb_env_info(env, &info);

	if (rc == 0)
		rc = mdb_env_stat(env, &ms);
	if (rc != 0)
		return rove_db_err(rc, dir);
	if (snprintf(path, sizeof(path), "%s/data.mdb", dir) >= (int)sizeof(path))
		return ROVE_EINVAL;
	if (stat(path, &st) != 0) {
		rove_error("cannot read '%s': %s", path, strerror(errno));
		return ROVE_EIO;
	}
	if ((uint64_t)st.st_size / ms.ms_psize < (uint64_t)info.me_last_pgno + 1) {
		rove_error("'%s' is cut short: %lld bytes, where its pages need %llu (a partial copy, or a disk that "
			   "filled?); put back a whole copy or a backup",
			   path, (long long)st.st_size, ((unsigned long long)info.me_last_pgno + 1) * ms.ms_psize);
		return ROVE_EPROTO;
	}
	return ROVE_OK;
}

int rove_db_open(const char *dir, int create, unsigned maxdbs, size_t mapsize, MDB_env **envp)
{
	MDB_env *env = NULL;
	struct stat st;
	int rc;

	if (create) {
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			rove_error("cannot create '%s': %s", dir, strerror(errno));
			return ROVE_EIO;
		}
		/* Only its owner reads a database, also in a directory that was
		 * there before. */
		if (chmod(dir, 0700) != 0) {
			rove_error("cannot restrict '%s' to its owner: %s", dir, strerror(errno));
			return ROVE_EIO;
		}
	} else if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		return ROVE_ENOTFOUND;
	}
	/* $ROVE_MAPSIZE_MB starts with a smaller map (tests of map growth). */
	if (getenv("ROVE_MAPSIZE_MB") != NULL && atol(getenv("ROVE_MAPSIZE_MB")) > 0)
		mapsize = (size_t)atol(getenv("ROVE_MAPSIZE_MB")) << 20;
	rc = mdb_env_create(&env);
	if (rc == 0)
		rc = mdb_env_set_maxdbs(env, maxdbs);
	if (rc == 0)
		rc = mdb_env_set_mapsize(env, mapsize);
	if (rc == 0)
		rc = mdb_env_open(env, dir, MDB_NOTLS, 0600);
	if (rc != 0) {
		int err = rove_db_err(rc, dir);
		mdb_env_close(env);
		return err;
	}
	rc = check_length(env, dir);
	if (rc != ROVE_OK) {
		mdb_env_close(env);
		return rc;
	}
	*envp = env;
	return ROVE_OK;
}

int rove_db_get_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t *out)
{
	MDB_val k = {strlen(key), (void *)key}, v;
	int rc = mdb_get(txn, dbi, &k, &v);

	if (rc != 0)
		return rove_db_err(rc, key);
	if (v.mv_size != 8)
		return ROVE_EPROTO;
	*out = rove_be64_get(v.mv_data);
	return ROVE_OK;
}

int rove_db_put_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t val)
{
	uint8_t buf[8];
	MDB_val k = {strlen(key), (void *)key}, v = {8, buf};

	rove_be64_put(buf, val);
	return rove_db_err(mdb_put(txn, dbi, &k, &v, 0), key);
}

int rove_db_get_str(MDB_txn *txn, MDB_dbi dbi, const char *key, const char **out, size_t *len)
{
	MDB_val k = {strlen(key), (void *)key}, v;
	int rc = mdb_get(txn, dbi, &k, &v);

	if (rc != 0)
		return rove_db_err(rc, key);
	*out = v.mv_data;
	*len = v.mv_size;
	return ROVE_OK;
}

int rove_db_put_str(MDB_txn *txn, MDB_dbi dbi, const char *key, const char *val)
{
	MDB_val k = {strlen(key), (void *)key}, v = {strlen(val), (void *)val};

	return rove_db_err(mdb_put(txn, dbi, &k, &v, 0), key);
}

/* Doubles the map (up to ROVE_MAX_MAPSIZE). */
static int grow(MDB_env *env)
{
	MDB_envinfo info;
	size_t next;
	int rc = mdb_env_info(env, &info);

	if (rc != 0)
		return rove_db_err(rc, "env info");
	if (info.me_mapsize >= ROVE_MAX_MAPSIZE) {
		rove_error("the database reached its largest size (%zu MiB)", info.me_mapsize >> 20);
		return ROVE_EMAPFULL;
	}
	next = info.me_mapsize * 2 > ROVE_MAX_MAPSIZE ? ROVE_MAX_MAPSIZE : info.me_mapsize * 2;
	rc = mdb_env_set_mapsize(env, next);
	if (rc != 0)
		return rove_db_err(rc, "map resize");
	rove_info("database map grown to %zu MiB", next >> 20);
	return ROVE_OK;
}

bool rove_db_grow_retry(MDB_env *env, int rc, int *grows)
{
	if (rc != ROVE_EMAPFULL || *grows >= ROVE_MAX_MAP_GROWS)
		return false;
	(*grows)++;
	return grow(env) == ROVE_OK;
}

int rove_db_each(MDB_txn *txn, MDB_dbi dbi, const char *what, rove_db_fn fn, void *arg)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc = rove_db_err(mdb_cursor_open(txn, dbi, &c), "cursor");
	int mrc;

	if (rc != ROVE_OK)
		return rc;
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == ROVE_OK && mrc == 0;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
		rc = fn(&k, &v, arg);
	if (rc == ROVE_OK && mrc != MDB_NOTFOUND)
		rc = rove_db_err(mrc, what);
	mdb_cursor_close(c);
	return rc;
}

int rove_db_last_u64(MDB_txn *txn, MDB_dbi dbi, uint64_t *out)
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
		return rove_db_err(rc, "last key");
	if (k.mv_size != 8)
		return ROVE_EPROTO;
	*out = rove_be64_get(k.mv_data);
	return ROVE_OK;
}

int rove_db_open_tables(MDB_txn *txn, const rove_db_table *t, size_t n, unsigned flags)
{
	for (size_t i = 0; i < n; i++) {
		int rc = mdb_dbi_open(txn, t[i].name, flags, t[i].dbi);
		if (rc != 0)
			return rove_db_err(rc, t[i].name);
	}
	return ROVE_OK;
}
