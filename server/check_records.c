/*
 * check_records.c - roved check's walks of the records and of their
 * entries in the indexes (scoperec, children, uniq, codes): each live
 * record decodes, passes the server's checks, is indexed under its scopes
 * and its parent, holds its unique keys and has its newest op in the
 * scopelog; each entry points at a live record it belongs to, and a
 * scope entry's copy of its record is the record.
 */
#include "check_int.h"

#include "err.h"
#include "ident.h"
#include "policy.h"
#include "policy_store.h"
#include "proto.h"
#include "schema.h"
#include "store.h"
#include "uuid.h"

#include <stdio.h>
#include <string.h>

/* A record key as "customer/UUID" into out. */
static const char *show_rec(const uint8_t key[ROVE_RECORD_KEY], char out[64])
{
	const rove_coll_def *cd = rove_schema_coll(key[0]);
	char id[ROVE_UUID_STRLEN + 1];
	rove_uuid u;

	memcpy(u.b, key + 1, 16);
	rove_uuid_format(&u, id);
	if (cd != NULL)
		snprintf(out, 64, "%s/%s", cd->name, id);
	else
		snprintf(out, 64, "coll%u/%s", key[0], id);
	return out;
}

/* The record under key into rec, and its bytes as stored into *raw (NULL:
 * not wanted): ROVE_OK, ROVE_ENOTFOUND, or ROVE_EPROTO when it does not
 * decode (said by the records walk). */
static int get_record_raw(check *c, const uint8_t key[ROVE_RECORD_KEY], rove_record *rec, MDB_val *raw)
{
	MDB_val v;
	int rc = rove_store_record_raw(&c->st, c->txn, key, &v);

	if (rc != ROVE_OK)
		return rc;
	if (raw != NULL)
		*raw = v;
	if (rove_dec_record(v.mv_data, v.mv_size, rec) != ROVE_OK)
		return ROVE_EPROTO;
	return ROVE_OK;
}

static int get_record(check *c, const uint8_t key[ROVE_RECORD_KEY], rove_record *rec)
{
	return get_record_raw(c, key, rec, NULL);
}

static bool has_scope(const rove_scopes *s, const char *scope)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (strcmp(s->s[i], scope) == 0)
			return true;
	return false;
}

static rove_policy_ctx policy(check *c)
{
	rove_policy_ctx pc = {&c->st, &c->ps, c->txn, rove_wall_ms(), NULL, false, {0}};

	return pc;
}

/* Whether the scopelog holds the op at seq under scope. */
static int scopelog_has(check *c, const char *scope, uint64_t seq, bool *has)
{
	return rove_store_scopelog_has(&c->st, c->txn, scope, seq, has);
}

/* Every field of a record is one its collection has, with a value the
 * server would take on write (rule 13: no control characters in text). */
static void check_fields(check *c, const rove_record *rec, const char *name)
{
	const rove_coll_def *cd = rove_schema_coll(rec->coll);

	if (cd == NULL) {
		check_problem(c, "records %s: not a collection of the schema", name);
		return;
	}
	for (uint32_t i = 0; i < rec->fs.n; i++) {
		const rove_field *f = &rec->fs.f[i];
		const rove_field_def *fd;
		char why[256];

		if (f->st.hlc.v > c->max_hlc)
			c->max_hlc = f->st.hlc.v;
		if (strcmp(f->name, ROVE_FIELD_DELETED) == 0)
			continue;
		fd = rove_schema_field(cd, f->name);
		if (fd == NULL) {
			char b[160];
			check_problem(c, "records %s: field %s is not one of %s %s", name,
				check_show(f->name, strlen(f->name), b, sizeof(b)), rove_article(cd->name), cd->name);
		} else if (rove_schema_check_value(fd, &f->v, why, sizeof(why)) != ROVE_OK) {
			check_problem(c, "records %s: field %s: %s (the server takes no such value)", name, f->name, why);
		}
	}
}

/* The newest op on a live record, at seq, is in the scopelog under each
 * scope the record is in: the writer logs an op under the scopes its
 * record has after it (index_op), and a record changes only by its ops.
 * A child's scopes are its customer's, so the child's op is checked
 * only when the customer has not changed since (its moves are logged
 * with the customer's ops). */
static int check_logged(check *c, const rove_record *rec, const uint8_t key[ROVE_RECORD_KEY], const rove_scopes *sc,
			const char *name)
{
	const rove_coll_def *cd = rove_schema_coll(rec->coll);
	const rove_field_def *pf = cd ? rove_schema_parent_field(cd) : NULL;
	uint64_t seq = check_nw_get(c, key);
	int rc;

	if (seq == 0)
		return ROVE_OK; /* its ops were compacted away */
	if (pf != NULL) {
		const char *pid = rove_fields_str(&rec->fs, pf->name);
		uint8_t pk[ROVE_RECORD_KEY];
		rove_uuid id;
		if (pid == NULL || rove_uuid_parse(pid, &id) != ROVE_OK)
			return ROVE_OK;
		rove_record_key(pk, cd->parent, &id);
		if (check_nw_get(c, pk) > seq)
			return ROVE_OK;
	}
	for (uint32_t i = 0; i < sc->n; i++) {
		bool has;
		if ((rc = scopelog_has(c, sc->s[i], seq, &has)) != ROVE_OK)
			return rc;
		if (!has)
			check_problem(c, "scopelog %s %llu: missing (op %llu, the newest on %s, is in that scope; replicas "
				   "reading it never get the op)",
				sc->s[i], (unsigned long long)seq, (unsigned long long)seq, name);
	}
	return ROVE_OK;
}

/* A record changes only by its ops, and each op stamps the fields it
 * writes with its own stamp: while nothing was compacted, the newest
 * stamp in a record is an op's on it. One past every op on it (or a
 * record with no op) says an op is gone: the oplog's newest, say, which
 * no gap in the numbers shows (attack sixty-two). Once compacted, a
 * dropped op may hold the newest stamp (a replica's op stamped late):
 * not checked then. */
static void check_made(check *c, const rove_record *rec, const uint8_t key[ROVE_RECORD_KEY], const char *name)
{
	uint64_t newest = 0, ops;

	if (c->floor != 0)
		return;
	for (uint32_t i = 0; i < rec->fs.n; i++)
		if (rec->fs.f[i].st.hlc.v > newest)
			newest = rec->fs.f[i].st.hlc.v;
	if (check_nw_get(c, key) == 0)
		check_problem(c, "records %s: no op in the oplog made it, and none was ever compacted (its ops are "
			      "missing)",
			name);
	else if (newest > (ops = check_nw_hlc(c, key)))
		check_problem(c, "records %s: a field stamped %llu, after its every op (the newest stamped %llu): an "
			      "op on it is missing",
			name, (unsigned long long)newest, (unsigned long long)ops);
}

/* ---- records, and their entries in the indexes ---- */

/* A live customer's dealer (rule 13): a live dealer of its territory or
 * above, and the customer listed under it in bydealer (where the
 * database has that index: a roved before it made none). */
static int check_dealer_named(check *c, const rove_record *rec, const char *name)
{
	rove_policy_ctx pc = policy(c);
	const char *d = rove_fields_str(&rec->fs, "dealer");
	rove_verdict v;
	rove_uuid did;
	bool listed = false;
	int rc;

	if (d == NULL)
		return ROVE_OK;
	rc = rove_policy_dealer_ref(&pc, rec, &v);
	if (rc == ROVE_EPROTO)
		return ROVE_OK; /* the dealer's record does not decode: said by the records walk */
	if (rc != ROVE_OK)
		return rc;
	if (v.reason != ROVE_R_NONE)
		check_problem(c, "records %s: %s", name, v.detail);
	if (!c->ps.has_bydealer || rove_uuid_parse(d, &did) != ROVE_OK)
		return ROVE_OK;
	rc = rove_pstore_named_has(&c->ps, c->txn, &did, &rec->id, &listed);
	if (rc == ROVE_OK && !listed)
		check_problem(c, "bydealer %s %s: missing (the customer names that dealer)", d, name);
	return rc;
}

int check_record(const MDB_val *k, const MDB_val *v, void *arg)
{
	check *c = arg;
	rove_record *rec = c->rec;
	rove_policy_ctx pc = policy(c);
	char name[64];
	rove_scopes sc;
	uint8_t key[ROVE_RECORD_KEY];
	int rc;

	if (k->mv_size != ROVE_RECORD_KEY) {
		char b[160];
		check_problem(c, "records %s: a key of %zu bytes, not a record key", check_show(k->mv_data, k->mv_size, b, sizeof(b)),
			k->mv_size);
		return ROVE_OK;
	}
	memcpy(key, k->mv_data, sizeof(key));
	show_rec(key, name);
	if (rove_dec_record(v->mv_data, v->mv_size, rec) != ROVE_OK) {
		check_problem(c, "records %s: the stored record does not decode", name);
		return ROVE_OK;
	}
	rove_record_key(key, rec->coll, &rec->id);
	if (memcmp(key, k->mv_data, sizeof(key)) != 0) {
		char other[64];
		check_problem(c, "records %s: holds the record %s", name, show_rec(key, other));
		return ROVE_OK;
	}
	check_fields(c, rec, name);
	check_made(c, rec, key, name);
	if (rove_record_deleted(rec))
		return ROVE_OK;
	if (rec->coll == ROVE_COLL_CUSTOMER) {
		const char *owner = rove_fields_str(&rec->fs, "owner");
		if (owner != NULL && !check_is_user(c, owner)) {
			char b[160];
			check_problem(c, "records %s: owned by %s, who is not a user", name,
				check_show(owner, strlen(owner), b, sizeof(b)));
		}
	}
	/* Listed in each scope it is in. */
	rc = rove_policy_scopes(&pc, rec, NULL, &sc);
	if (rc == ROVE_EPROTO || rc == ROVE_ENOTFOUND) {
		check_problem(c, "records %s: its scopes cannot be told (its parent or territory is missing)", name);
		return ROVE_OK;
	}
	if (rc != ROVE_OK)
		return rc;
	for (uint32_t i = 0; i < sc.n; i++) {
		bool in = false;
		if ((rc = rove_store_scoped_has(&c->st, c->txn, sc.s[i], key, &in)) != ROVE_OK)
			return rc;
		if (!in)
			check_problem(c, "scoperec %s %s: missing (the record is in that scope)", sc.s[i], name);
	}
	if ((rc = check_logged(c, rec, key, &sc, name)) != ROVE_OK)
		return rc;
	/* Listed under its parent. */
	{
		const rove_coll_def *cd = rove_schema_coll(rec->coll);
		const rove_field_def *pf = cd ? rove_schema_parent_field(cd) : NULL;
		const char *pid = pf ? rove_fields_str(&rec->fs, pf->name) : NULL;
		rove_uuid id;
		if (pid != NULL && rove_uuid_parse(pid, &id) == ROVE_OK) {
			uint8_t parent[ROVE_RECORD_KEY];
			bool listed = false;
			rove_record_key(parent, cd->parent, &id);
			if ((rc = rove_store_child_has(&c->st, c->txn, parent, key, &listed)) != ROVE_OK)
				return rc;
			if (!listed) {
				char pn[64];
				check_problem(c, "children %s %s: missing (the record belongs to it)", show_rec(parent, pn), name);
			}
		}
	}
	/* A live territory's code names it in codes: else the server takes
	 * a second territory with that code (attack sixty-four). */
	if (rec->coll == ROVE_COLL_TERRITORY) {
		const char *code = rove_fields_str(&rec->fs, "code");
		rove_uuid holder;
		char b[160], other[64];
		rc = code != NULL ? rove_pstore_code_get(&c->ps, c->txn, code, &holder) : ROVE_OK;
		if (code != NULL && rc == ROVE_ENOTFOUND) {
			check_problem(c, "codes %s: missing (%s has that code; the server would take another territory "
				      "with it)",
				check_show(code, strlen(code), b, sizeof(b)), name);
		} else if (code != NULL && rc == ROVE_OK && rove_uuid_cmp(&holder, &rec->id) != 0) {
			uint8_t hk[ROVE_RECORD_KEY];
			rove_record_key(hk, ROVE_COLL_TERRITORY, &holder);
			check_problem(c, "codes %s: names %s, not %s, which has that code",
				check_show(code, strlen(code), b, sizeof(b)), show_rec(hk, other), name);
		} else if (rc != ROVE_OK && rc != ROVE_ENOTFOUND && rc != ROVE_EPROTO) {
			return rc; /* (a value that is no id: said by the codes walk) */
		}
	}
	/* A live customer's unique keys are held: by it, or by another live
	 * customer (the uniq walk checks the holder). */
	if (rec->coll == ROVE_COLL_CUSTOMER) {
		rove_uniq_key uk[ROVE_UNIQ_KEYS];
		int n = rove_uniq_keys(&rec->fs, uk);
		for (int i = 0; i < n; i++) {
			rove_uuid holder;
			rc = rove_pstore_uniq_get(&c->ps, c->txn, &uk[i], &holder);
			if (rc == ROVE_ENOTFOUND) {
				char b[160];
				check_problem(c, "uniq %s: missing (held by %s)", check_show(uk[i].key, uk[i].len, b, sizeof(b)), name);
			} else if (rc != ROVE_OK && rc != ROVE_EPROTO) {
				return rc; /* (a value that is no id: said by the uniq walk) */
			}
		}
		if ((rc = check_dealer_named(c, rec, name)) != ROVE_OK)
			return rc;
	}
	return ROVE_OK;
}

/* scoperec: scope NUL record key -> the record's bytes as stored (a copy
 * the scope's snapshot sends instead of the record), or empty (a scope
 * that holds no copies, rove_policy_scope_copies; or not filled yet: put
 * before format 5). */
int check_scoped(const MDB_val *k, const MDB_val *v, void *arg)
{
	check *c = arg;
	const uint8_t *p = k->mv_data;
	const uint8_t *nul = memchr(p, 0, k->mv_size);
	rove_policy_ctx pc = policy(c);
	char b[160], name[64], scope[ROVE_MAX_SCOPE_LEN + 1];
	rove_scopes sc;
	MDB_val raw = {0, NULL};
	int rc;

	if (nul == NULL || (size_t)(nul - p) > ROVE_MAX_SCOPE_LEN || k->mv_size - (size_t)(nul - p) - 1 != ROVE_RECORD_KEY) {
		check_problem(c, "scoperec %s: not a scope and a record key", check_show(p, k->mv_size, b, sizeof(b)));
		return ROVE_OK;
	}
	memcpy(scope, p, (size_t)(nul - p));
	scope[nul - p] = '\0';
	show_rec(nul + 1, name);
	rc = get_record_raw(c, nul + 1, c->rec, &raw);
	if (rc == ROVE_ENOTFOUND) {
		check_problem(c, "scoperec %s %s: points at no record", check_show(scope, strlen(scope), b, sizeof(b)), name);
		return ROVE_OK;
	}
	if ((rc == ROVE_OK || rc == ROVE_EPROTO) && v->mv_size > 0 &&
	    (v->mv_size != raw.mv_size || memcmp(v->mv_data, raw.mv_data, raw.mv_size) != 0))
		check_problem(c, "scoperec %s %s: its copy of the record is not the record (stale or damaged; a "
			      "stale one goes out in the scope's snapshots until its record is written again)",
			check_show(scope, strlen(scope), b, sizeof(b)), name);
	if (v->mv_size > 0 && !rove_policy_scope_copies(scope))
		check_problem(c, "scoperec %s %s: holds a copy of the record, which this scope's entries do not keep "
			      "(it would go stale)",
			check_show(scope, strlen(scope), b, sizeof(b)), name);
	if (rc == ROVE_EPROTO)
		return ROVE_OK; /* said by the records walk */
	if (rc != ROVE_OK)
		return rc;
	if (rove_record_deleted(c->rec)) {
		check_problem(c, "scoperec %s %s: points at a deleted record", check_show(scope, strlen(scope), b, sizeof(b)), name);
		return ROVE_OK;
	}
	rc = rove_policy_scopes(&pc, c->rec, NULL, &sc);
	if (rc == ROVE_EPROTO || rc == ROVE_ENOTFOUND)
		return ROVE_OK; /* said by the records walk */
	if (rc != ROVE_OK)
		return rc;
	if (!has_scope(&sc, scope))
		check_problem(c, "scoperec %s %s: the record is not in that scope", check_show(scope, strlen(scope), b, sizeof(b)),
			name);
	return ROVE_OK;
}

/* children: parent key, child key -> empty. */
int check_child(const MDB_val *k, const MDB_val *v, void *arg)
{
	check *c = arg;
	const uint8_t *p = k->mv_data;
	char b[160], pn[64], cn[64];
	int rc;

	if (k->mv_size != 2 * ROVE_RECORD_KEY) {
		check_problem(c, "children %s: not two record keys", check_show(p, k->mv_size, b, sizeof(b)));
		return ROVE_OK;
	}
	show_rec(p, pn);
	show_rec(p + ROVE_RECORD_KEY, cn);
	if (v->mv_size != 0)
		check_problem(c, "children %s %s: a value of %zu byte(s), where none is kept", pn, cn, v->mv_size);
	for (int i = 0; i < 2; i++) {
		rc = get_record(c, p + i * ROVE_RECORD_KEY, c->rec);
		if (rc == ROVE_ENOTFOUND)
			check_problem(c, "children %s %s: points at no record %s", pn, cn, i == 0 ? pn : cn);
		else if (rc != ROVE_OK && rc != ROVE_EPROTO)
			return rc;
	}
	return ROVE_OK;
}

/* The customer id an index entry names, read into c->rec, its name
 * ("customer/ID") into name; *not_live: why it is no live customer ("no
 * record", "deleted"), NULL if it is one. ROVE_EPROTO when it does not
 * decode (said by the records walk). */
static int live_customer(check *c, const rove_uuid *id, char name[64], const char **not_live)
{
	uint8_t key[ROVE_RECORD_KEY];
	int rc;

	rove_record_key(key, ROVE_COLL_CUSTOMER, id);
	show_rec(key, name);
	*not_live = NULL;
	rc = get_record(c, key, c->rec);
	if (rc == ROVE_ENOTFOUND) {
		*not_live = "no record";
		return ROVE_OK;
	}
	if (rc == ROVE_OK && rove_record_deleted(c->rec))
		*not_live = "deleted";
	return rc;
}

/* uniq: key -> the customer's id(16): a live customer with that key. */
int check_uniq(const MDB_val *k, const MDB_val *v, void *arg)
{
	check *c = arg;
	rove_uniq_key uk[ROVE_UNIQ_KEYS];
	rove_uuid id;
	char b[160], name[64];
	const char *live;
	bool found = false;
	int rc, n;

	check_show(k->mv_data, k->mv_size, b, sizeof(b));
	if (v->mv_size != 16) {
		check_problem(c, "uniq %s: a value of %zu bytes, not a record id", b, v->mv_size);
		return ROVE_OK;
	}
	memcpy(id.b, v->mv_data, 16);
	rc = live_customer(c, &id, name, &live);
	if (rc == ROVE_OK && live != NULL)
		check_problem(c, "uniq %s: points at %s, %s", b, name, live);
	if (rc != ROVE_OK || live != NULL)
		return rc == ROVE_EPROTO ? ROVE_OK : rc;
	n = rove_uniq_keys(&c->rec->fs, uk);
	for (int i = 0; i < n; i++)
		found |= uk[i].len == k->mv_size && memcmp(uk[i].key, k->mv_data, k->mv_size) == 0;
	if (!found)
		check_problem(c, "uniq %s: points at %s, which does not hold that key", b, name);
	return ROVE_OK;
}

/* codes: territory code -> its record's id(16). */
int check_code(const MDB_val *k, const MDB_val *v, void *arg)
{
	check *c = arg;
	uint8_t key[ROVE_RECORD_KEY];
	rove_uuid id;
	char b[160], name[64];
	int rc;

	check_show(k->mv_data, k->mv_size, b, sizeof(b));
	if (v->mv_size != 16) {
		check_problem(c, "codes %s: a value of %zu bytes, not a record id", b, v->mv_size);
		return ROVE_OK;
	}
	memcpy(id.b, v->mv_data, 16);
	rove_record_key(key, ROVE_COLL_TERRITORY, &id);
	rc = get_record(c, key, c->rec);
	if (rc == ROVE_ENOTFOUND)
		check_problem(c, "codes %s: points at no record %s", b, show_rec(key, name));
	else if (rc != ROVE_OK && rc != ROVE_EPROTO)
		return rc;
	if (rc == ROVE_OK) {
		const char *code = rove_fields_str(&c->rec->fs, "code");
		if (code == NULL || strlen(code) != k->mv_size || memcmp(code, k->mv_data, k->mv_size) != 0)
			check_problem(c, "codes %s: points at %s, whose code is %s", b, show_rec(key, name),
				code != NULL ? "another" : "none");
	}
	return ROVE_OK;
}

/* bydealer: dealer id(16) customer id(16) -> (empty): a live customer
 * naming that dealer. */
int check_bydealer(const MDB_val *k, const MDB_val *v, void *arg)
{
	check *c = arg;
	char b[160], dn[ROVE_UUID_STRLEN + 1], name[64];
	const char *d, *live;
	rove_uuid id;
	int rc;

	if (k->mv_size != 32) {
		check_problem(c, "bydealer %s: not two record ids", check_show(k->mv_data, k->mv_size, b, sizeof(b)));
		return ROVE_OK;
	}
	memcpy(id.b, k->mv_data, 16);
	rove_uuid_format(&id, dn);
	memcpy(id.b, (const uint8_t *)k->mv_data + 16, 16);
	rc = live_customer(c, &id, name, &live);
	if (v->mv_size != 0)
		check_problem(c, "bydealer %s %s: a value of %zu byte(s), where none is kept", dn, name, v->mv_size);
	if (rc == ROVE_OK && live != NULL)
		check_problem(c, "bydealer %s %s: %s", dn, name, live);
	if (rc != ROVE_OK || live != NULL)
		return rc == ROVE_EPROTO ? ROVE_OK : rc;
	d = rove_fields_str(&c->rec->fs, "dealer");
	if (d == NULL || rove_uuid_parse(d, &id) != ROVE_OK || memcmp(id.b, k->mv_data, 16) != 0)
		check_problem(c, "bydealer %s %s: the customer names %s", dn, name, d != NULL ? "another dealer" : "none");
	return ROVE_OK;
}
