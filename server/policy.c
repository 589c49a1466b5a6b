#include "policy.h"

#include "db.h"
#include "err.h"
#include "log.h"
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- territories ---- */

/* The parent code of territory code into parent ("" at the top). */
static int territory_parent(rove_store *st, MDB_txn *txn, const char *code, char *parent, size_t len)
{
	rove_uuid id;
	rove_record *rec;
	const char *p;
	int rc = rove_store_code_get(st, txn, code, &id);

	if (rc != ROVE_OK)
		return rc;
	rec = malloc(sizeof(*rec));
	if (rec == NULL)
		return ROVE_ENOMEM;
	rc = rove_store_record_get(st, txn, ROVE_COLL_TERRITORY, &id, rec);
	if (rc == ROVE_OK) {
		p = rove_fields_str(&rec->fs, "parent");
		snprintf(parent, len, "%s", p != NULL ? p : "");
	}
	free(rec);
	return rc;
}

static bool user_has_territory(const rove_user *u, const char *code)
{
	for (uint32_t i = 0; i < u->nterr; i++)
		if (strcmp(u->terr[i], code) == 0)
			return true;
	return false;
}

bool rove_policy_in_reach(rove_store *st, MDB_txn *txn, const rove_user *u, const char *code)
{
	char cur[ROVE_MAX_NAME + 1];

	snprintf(cur, sizeof(cur), "%s", code);
	for (int depth = 0; depth < ROVE_MAX_TREE_DEPTH && cur[0] != '\0'; depth++) {
		char parent[ROVE_MAX_NAME + 1];
		if (user_has_territory(u, cur))
			return true;
		if (territory_parent(st, txn, cur, parent, sizeof(parent)) != ROVE_OK)
			return false;
		memcpy(cur, parent, sizeof(cur));
	}
	return false;
}

/* A territory's pool policies (公海规则); 0 = no such rule. */
typedef struct pool_rules {
	int64_t limit, claims, cooldown, reason, recycle, warn;
} pool_rules;

/* Loads the rules of territory code (all 0 if unset or no territory). */
static void pool_rules_get(rove_store *st, MDB_txn *txn, const char *code, pool_rules *p)
{
	rove_uuid id;
	rove_record *rec;

	memset(p, 0, sizeof(*p));
	if (code == NULL || rove_store_code_get(st, txn, code, &id) != ROVE_OK)
		return;
	rec = malloc(sizeof(*rec));
	if (rec == NULL)
		return;
	if (rove_store_record_get(st, txn, ROVE_COLL_TERRITORY, &id, rec) == ROVE_OK) {
		rove_fields_int(&rec->fs, "pool_limit", &p->limit);
		rove_fields_int(&rec->fs, "claim_limit", &p->claims);
		rove_fields_int(&rec->fs, "cooldown_days", &p->cooldown);
		rove_fields_int(&rec->fs, "release_reason", &p->reason);
		rove_fields_int(&rec->fs, "recycle_days", &p->recycle);
		rove_fields_int(&rec->fs, "warn_days", &p->warn);
	}
	free(rec);
}

/* Days since 1970-01-01 of an ISO date's first ten characters; -1 if bad. */
static int64_t day_number(const char *iso)
{
	struct tm tm;
	int y, m, d;

	if (iso == NULL || sscanf(iso, "%4d-%2d-%2d", &y, &m, &d) != 3)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	return (int64_t)(timegm(&tm) / 86400);
}

static int64_t today_number(void)
{
	return (int64_t)(rove_wall_ms() / 1000 / 86400);
}

static void iso_now(char *out, size_t len)
{
	time_t t = (time_t)(rove_wall_ms() / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static bool territory_exists(rove_store *st, MDB_txn *txn, const char *code)
{
	rove_uuid id;

	return rove_store_code_get(st, txn, code, &id) == ROVE_OK;
}

/* ---- scopes ---- */

/* Adds "KIND:NAME" (cut to ROVE_SCOPE_MAX bytes). Built by hand: this
 * runs for every op the writer applies, and snprintf was 3 % of it. */
static void scope_add(rove_scopes *out, char kind, const char *name)
{
	char *s;
	size_t len;

	if (out->n >= ROVE_MAX_SCOPES || name == NULL || name[0] == '\0')
		return;
	s = out->s[out->n++];
	len = strnlen(name, ROVE_SCOPE_MAX - 2);
	s[0] = kind;
	s[1] = ':';
	memcpy(s + 2, name, len);
	s[2 + len] = '\0';
}

static int customer_scopes(const rove_record *c, rove_scopes *out)
{
	const char *owner = rove_fields_str(&c->fs, "owner");
	const char *terr = rove_fields_str(&c->fs, "territory");

	if (owner != NULL)
		scope_add(out, 'o', owner);
	else
		scope_add(out, 'r', terr);
	scope_add(out, 't', terr);
	return ROVE_OK;
}

int rove_policy_scopes(rove_store *st, MDB_txn *txn, const rove_record *rec, const rove_record *hint,
		       rove_scopes *out)
{
	const rove_coll_def *c = rove_schema_coll(rec->coll);
	const rove_field_def *pf;

	out->n = 0;
	if (c == NULL || rove_record_deleted(rec))
		return ROVE_OK;
	if (rec->coll == ROVE_COLL_CUSTOMER)
		return customer_scopes(rec, out);
	if (rec->coll == ROVE_COLL_TERRITORY || rec->coll == ROVE_COLL_DEALER) {
		const char *code = rove_fields_str(&rec->fs, rec->coll == ROVE_COLL_DEALER ? "territory" : "code");
		scope_add(out, 'r', code);
		scope_add(out, 't', code);
		return ROVE_OK;
	}
	if (rec->coll == ROVE_COLL_TARGET || rec->coll == ROVE_COLL_NOTICE) {
		scope_add(out, 'o', rove_fields_str(&rec->fs, "user"));
		if (rec->coll == ROVE_COLL_TARGET)
			scope_add(out, 't', rove_fields_str(&rec->fs, "territory"));
		return ROVE_OK;
	}
	pf = rove_schema_parent_field(c);
	if (pf != NULL) {
		const char *pid = rove_fields_str(&rec->fs, pf->name);
		rove_uuid id;
		rove_record *parent;
		int rc;

		if (pid == NULL || rove_uuid_parse(pid, &id) != ROVE_OK)
			return ROVE_OK;
		if (hint != NULL && hint->coll == ROVE_COLL_CUSTOMER && rove_uuid_cmp(&hint->id, &id) == 0)
			return rove_record_deleted(hint) ? ROVE_OK : customer_scopes(hint, out);
		parent = malloc(sizeof(*parent));
		if (parent == NULL)
			return ROVE_ENOMEM;
		rc = rove_store_record_get(st, txn, ROVE_COLL_CUSTOMER, &id, parent);
		if (rc == ROVE_OK && !rove_record_deleted(parent))
			rc = customer_scopes(parent, out);
		else if (rc == ROVE_ENOTFOUND || rc == ROVE_OK)
			rc = ROVE_OK;
		free(parent);
		return rc;
	}
	return ROVE_OK;
}

static int scope_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void user_scope_add(rove_user_scopes *out, char kind, const char *name)
{
	if (out->n < ROVE_MAX_USER_SCOPES)
		snprintf(out->s[out->n++], ROVE_SCOPE_MAX + 1, "%c:%s", kind, name);
	else
		rove_warn("user reads more than %u scopes; the rest are left out", ROVE_MAX_USER_SCOPES);
}

int rove_policy_user_scopes(rove_store *st, MDB_txn *txn, const rove_user *u, rove_user_scopes *out)
{
	out->all = u->role == ROVE_ROLE_ANALYST || u->role == ROVE_ROLE_ADMIN;
	out->n = 0;
	if (out->all)
		return ROVE_OK;
	user_scope_add(out, 'o', u->name);
	if (u->role == ROVE_ROLE_REP) {
		for (uint32_t i = 0; i < u->nterr; i++)
			user_scope_add(out, 'r', u->terr[i]);
	} else {
		/* A manager reads every territory under theirs. */
		MDB_cursor *c;
		MDB_val k, v;
		int rc = rove_db_err(mdb_cursor_open(txn, st->codes, &c), "cursor");
		int mrc;

		if (rc != ROVE_OK)
			return rc;
		mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
		while (mrc == 0) {
			char code[ROVE_MAX_NAME + 1];
			if (k.mv_size > 0 && k.mv_size <= ROVE_MAX_NAME) {
				memcpy(code, k.mv_data, k.mv_size);
				code[k.mv_size] = '\0';
				if (rove_policy_in_reach(st, txn, u, code))
					user_scope_add(out, 't', code);
			}
			mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
		}
		mdb_cursor_close(c);
	}
	qsort(out->s, out->n, sizeof(out->s[0]), scope_cmp);
	return ROVE_OK;
}

bool rove_policy_sees(const rove_user_scopes *us, const rove_scopes *rs)
{
	if (us->all)
		return true;
	for (uint32_t i = 0; i < rs->n; i++)
		if (bsearch(rs->s[i], us->s, us->n, sizeof(us->s[0]), scope_cmp) != NULL)
			return true;
	return false;
}

/* ---- unique tax ids and phones among live customers ---- */

#define UNIQ_KEY_MAX (8 + ROVE_MAX_STR)

static size_t uniq_key(uint8_t *out, const char *kind, const char *value)
{
	size_t kl = strlen(kind), vl = strnlen(value, ROVE_MAX_STR);

	memcpy(out, kind, kl);
	memcpy(out + kl, value, vl);
	return kl + vl;
}

/* The uniq keys of a live customer: up to two. */
static int customer_uniq_keys(const rove_record *c, uint8_t keys[2][UNIQ_KEY_MAX], size_t lens[2])
{
	const char *tax = rove_fields_str(&c->fs, "tax_id");
	const char *phone = rove_fields_str(&c->fs, "phone");
	int n = 0;

	if (c == NULL || rove_record_deleted(c))
		return 0;
	if (tax != NULL && tax[0] != '\0')
		lens[n] = uniq_key(keys[n], "tax:", tax), n++;
	if (phone != NULL) {
		char norm[64];
		rove_phone_normalise(phone, norm, sizeof(norm));
		if (norm[0] != '\0')
			lens[n] = uniq_key(keys[n], "tel:", norm), n++;
	}
	return n;
}

/* Another live customer holding the op's tax id or phone, if any. */
static int find_duplicate(rove_store *st, MDB_txn *txn, const rove_op *op, char *detail, size_t len)
{
	const char *fields[] = {"tax_id", "phone"};

	for (int i = 0; i < 2; i++) {
		const char *val = rove_fields_str(&op->fs, fields[i]);
		uint8_t key[UNIQ_KEY_MAX];
		MDB_val k, v;
		int rc;

		if (val == NULL || val[0] == '\0')
			continue;
		if (i == 1) {
			char norm[64];
			rove_phone_normalise(val, norm, sizeof(norm));
			if (norm[0] == '\0')
				continue;
			k.mv_size = uniq_key(key, "tel:", norm);
		} else {
			k.mv_size = uniq_key(key, "tax:", val);
		}
		k.mv_data = key;
		rc = mdb_get(txn, st->uniq, &k, &v);
		if (rc == MDB_NOTFOUND)
			continue;
		if (rc != 0)
			return rove_db_err(rc, "uniq");
		if (v.mv_size == 16 && memcmp(v.mv_data, op->rid.b, 16) != 0) {
			rove_uuid other;
			char ids[ROVE_UUID_STRLEN + 1];
			memcpy(other.b, v.mv_data, 16);
			rove_uuid_format(&other, ids);
			snprintf(detail, len, "%s", ids);
			return ROVE_R_DUPLICATE;
		}
	}
	return ROVE_R_NONE;
}

static int uniq_update(rove_store *st, MDB_txn *txn, const rove_record *before, const rove_record *after)
{
	uint8_t old[2][UNIQ_KEY_MAX], neu[2][UNIQ_KEY_MAX];
	size_t olen[2], nlen[2];
	int no = before ? customer_uniq_keys(before, old, olen) : 0;
	int nn = customer_uniq_keys(after, neu, nlen);

	for (int i = 0; i < no; i++) {
		MDB_val k = {olen[i], old[i]}, v;
		int rc = mdb_get(txn, st->uniq, &k, &v);
		/* Only remove what this customer holds. */
		if (rc == 0 && v.mv_size == 16 && memcmp(v.mv_data, after->id.b, 16) == 0) {
			rc = mdb_del(txn, st->uniq, &k, NULL);
			if (rc != 0)
				return rove_db_err(rc, "uniq");
		}
	}
	for (int i = 0; i < nn; i++) {
		MDB_val k = {nlen[i], neu[i]}, v = {16, (void *)after->id.b}, cur;
		int rc = mdb_get(txn, st->uniq, &k, &cur);
		if (rc == MDB_NOTFOUND) {
			rc = mdb_put(txn, st->uniq, &k, &v, 0);
			if (rc != 0)
				return rove_db_err(rc, "uniq");
		} else if (rc != 0) {
			return rove_db_err(rc, "uniq");
		}
	}
	return ROVE_OK;
}

/* ---- decisions ---- */

static bool touches(const rove_op *op, const char *field)
{
	return rove_fields_get(&op->fs, field) != NULL;
}

/* Whether u may write customer c: its owner, a manager above its
 * territory, an admin. */
static bool may_write(rove_store *st, MDB_txn *txn, const rove_user *u, const rove_record *c)
{
	const char *owner = rove_fields_str(&c->fs, "owner");
	const char *terr = rove_fields_str(&c->fs, "territory");

	if (u->role == ROVE_ROLE_ADMIN)
		return true;
	if (owner != NULL && strcmp(owner, u->name) == 0)
		return true;
	return u->role == ROVE_ROLE_MANAGER && terr != NULL && rove_policy_in_reach(st, txn, u, terr);
}

/* Calls fn(rec, arg) on each child record of customer id in collection
 * coll, loaded into scratch, skipping any that cannot be read; ends as
 * rove_store_each_child does. A storage error is logged here, since the
 * policy's questions answer yes or no. */
typedef struct child_walk {
	rove_store *st;
	MDB_txn *txn;
	rove_record *rec;
	int (*fn)(const rove_record *rec, void *arg);
	void *arg;
} child_walk;

static int child_load(const uint8_t child[ROVE_RECORD_KEY], void *arg)
{
	const child_walk *w = arg;
	rove_uuid id;
	int rc;

	memcpy(id.b, child + 1, sizeof(id.b));
	rc = rove_store_record_get(w->st, w->txn, child[0], &id, w->rec);
	if (rc == ROVE_ENOTFOUND || rc == ROVE_EPROTO)
		return ROVE_OK; /* gone, or unreadable (logged): the others still count */
	return rc == ROVE_OK ? w->fn(w->rec, w->arg) : rc;
}

static int each_child_record(rove_store *st, MDB_txn *txn, const rove_uuid *id, uint8_t coll,
			     rove_record *scratch, int (*fn)(const rove_record *rec, void *arg), void *arg)
{
	child_walk w = {st, txn, scratch, fn, arg};
	uint8_t key[ROVE_RECORD_KEY];
	int rc;

	rove_record_key(key, ROVE_COLL_CUSTOMER, id);
	rc = rove_store_each_child(st, txn, key, coll, child_load, &w);
	if (rc != ROVE_OK && rc != ROVE_EEXIST)
		rove_error("cannot read a customer's records: %s", rove_strerror(rc));
	return rc;
}

/* A user's entries in a customer's ownership history. */
typedef struct history_ctx {
	const rove_user *u;
	int64_t last_release; /* day number, -1: none */
} history_ctx;

static int history_from_user(const rove_record *h, void *arg)
{
	const history_ctx *hc = arg;
	const char *from = rove_fields_str(&h->fs, "from");

	return from != NULL && strcmp(from, hc->u->name) == 0 ? ROVE_EEXIST : ROVE_OK;
}

/* Whether u owned customer id before (its ownership history says so). */
static bool owned_before(rove_store *st, MDB_txn *txn, const rove_user *u, const rove_uuid *id)
{
	rove_record *h = malloc(sizeof(*h));
	history_ctx hc = {u, -1};
	bool found;

	if (h == NULL)
		return false;
	found = each_child_record(st, txn, id, ROVE_COLL_OWNERSHIP, h, history_from_user, &hc) == ROVE_EEXIST;
	free(h);
	return found;
}

static int refuse_write(rove_store *st, MDB_txn *txn, const rove_user *u, const rove_record *c, char *detail,
			size_t len)
{
	if (owned_before(st, txn, u, &c->id)) {
		snprintf(detail, len, "the customer was reassigned to %s",
			 rove_fields_str(&c->fs, "owner") ? rove_fields_str(&c->fs, "owner") : "the pool");
		return ROVE_R_REASSIGNED;
	}
	snprintf(detail, len, "the customer belongs to someone else");
	return ROVE_R_NOT_OWNER;
}

static int check_pool_take(rove_store *st, MDB_txn *txn, const rove_user *u, const char *terr,
			   const rove_record *cur, char *detail, size_t len);

static int check_create(rove_store *st, MDB_txn *txn, const rove_user *u, rove_op *op, char *detail, size_t len)
{
	const char *terr = rove_fields_str(&op->fs, "territory");
	int rc;

	if (u->role == ROVE_ROLE_REP && terr == NULL && u->nterr == 1) {
		/* A rep with one territory creates in it. */
		if (rove_op_set(op, "territory", rove_vcstr(u->terr[0])) != ROVE_OK)
			return ROVE_R_INVALID;
		terr = rove_fields_str(&op->fs, "territory");
	}
	if (terr != NULL && !territory_exists(st, txn, terr)) {
		snprintf(detail, len, "no territory '%s'", terr);
		return ROVE_R_INVALID;
	}
	if (u->role == ROVE_ROLE_REP && (terr == NULL || !user_has_territory(u, terr))) {
		snprintf(detail, len, "%s is not one of your territories", terr ? terr : "(none)");
		return ROVE_R_NOT_IN_TERRITORY;
	}
	if (u->role == ROVE_ROLE_MANAGER && (terr == NULL || !rove_policy_in_reach(st, txn, u, terr))) {
		snprintf(detail, len, "%s is outside your territories", terr ? terr : "(none)");
		return ROVE_R_NOT_IN_TERRITORY;
	}
	/* The server sets the owner: a rep owns what they create; a manager
	 * or admin may name an owner or leave it to the pool. */
	if (u->role == ROVE_ROLE_REP || !touches(op, "owner")) {
		if (rove_op_set(op, "owner", rove_vcstr(u->name)) != ROVE_OK)
			return ROVE_R_INVALID;
	}
	{
		char now[32];
		iso_now(now, sizeof(now));
		if (rove_op_set(op, "created_at", rove_vcstr(now)) != ROVE_OK)
			return ROVE_R_INVALID;
	}
	rc = find_duplicate(st, txn, op, detail, len);
	if (rc == ROVE_R_NONE && terr != NULL)
		rc = check_pool_take(st, txn, u, terr, NULL, detail, len);
	return rc;
}

static int check_claim_release(rove_store *st, MDB_txn *txn, const rove_user *u, rove_op *op,
			       const rove_record *cur, char *detail, size_t len)
{
	const char *owner = rove_fields_str(&cur->fs, "owner");
	const char *terr = rove_fields_str(&cur->fs, "territory");

	char reason[ROVE_MAX_DETAIL + 1] = "";
	const char *given = rove_fields_str(&op->fs, "release_reason");
	pool_rules rules;
	int r;

	if (given != NULL)
		snprintf(reason, sizeof(reason), "%s", given);
	rove_fields_init(&op->fs);
	if (op->kind == ROVE_OP_CLAIM) {
		if (owner != NULL) {
			snprintf(detail, len, "already owned by %s", owner);
			return ROVE_R_ALREADY_CLAIMED;
		}
		if (u->role == ROVE_ROLE_REP ? terr == NULL || !user_has_territory(u, terr)
					     : u->role != ROVE_ROLE_ADMIN &&
						       (terr == NULL || !rove_policy_in_reach(st, txn, u, terr))) {
			snprintf(detail, len, "%s is not one of your territories", terr ? terr : "(none)");
			return ROVE_R_NOT_IN_TERRITORY;
		}
		r = check_pool_take(st, txn, u, terr, cur, detail, len);
		if (r != ROVE_R_NONE)
			return r;
		return rove_op_set(op, "owner", rove_vcstr(u->name)) == ROVE_OK ? ROVE_R_NONE : ROVE_R_INVALID;
	}
	if (owner == NULL) {
		snprintf(detail, len, "the customer is already in the pool");
		return ROVE_R_INVALID;
	}
	if (!may_write(st, txn, u, cur))
		return refuse_write(st, txn, u, cur, detail, len);
	pool_rules_get(st, txn, terr, &rules);
	if (reason[0] == '\0' && rules.reason != 0) {
		snprintf(detail, len, "a reason is required to release a customer in %s", terr);
		return ROVE_R_INVALID;
	}
	if (rove_op_set(op, "owner", rove_vnull()) != ROVE_OK ||
	    rove_op_set(op, "release_reason", reason[0] ? rove_vcstr(reason) : rove_vnull()) != ROVE_OK)
		return ROVE_R_INVALID;
	return ROVE_R_NONE;
}

/* ---- pool policies (公海规则) ---- */

static int counter_get(rove_store *st, MDB_txn *txn, const char *name, uint64_t *v)
{
	int rc = rove_db_get_u64(txn, st->counters, name, v);

	if (rc == ROVE_ENOTFOUND) {
		*v = 0;
		rc = ROVE_OK;
	}
	return rc;
}

static void claims_key(char *out, size_t len, const char *user)
{
	char day[32];

	iso_now(day, sizeof(day));
	snprintf(out, len, "claims:%s:%.10s", user, day);
}

/* Customers u owns in territory code (walking u's own scope). */
static uint64_t held_in(rove_store *st, MDB_txn *txn, const rove_user *u, const char *code)
{
	uint8_t key[ROVE_INDEX_KEY_MAX];
	char scope[ROVE_SCOPE_MAX + 1];
	rove_record *rec = malloc(sizeof(*rec));
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t n = 0;
	size_t plen;
	int mrc;

	if (rec == NULL)
		return 0;
	snprintf(scope, sizeof(scope), "o:%s", u->name);
	plen = rove_store_scope_key(key, scope, NULL, 0);
	if (mdb_cursor_open(txn, st->scoperec, &c) != 0) {
		free(rec);
		return 0;
	}
	k.mv_size = plen;
	k.mv_data = key;
	mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (mrc == 0 && k.mv_size == plen + ROVE_RECORD_KEY && memcmp(k.mv_data, key, plen) == 0) {
		const uint8_t *rk = (const uint8_t *)k.mv_data + plen;
		rove_uuid id;
		memcpy(id.b, rk + 1, 16);
		if (rk[0] == ROVE_COLL_CUSTOMER &&
		    rove_store_record_get(st, txn, ROVE_COLL_CUSTOMER, &id, rec) == ROVE_OK &&
		    !rove_record_deleted(rec) && rove_fields_str(&rec->fs, "territory") != NULL &&
		    strcmp(rove_fields_str(&rec->fs, "territory"), code) == 0)
			n++;
		mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	free(rec);
	return n;
}

static int history_release(const rove_record *h, void *arg)
{
	history_ctx *hc = arg;
	const char *ev = rove_fields_str(&h->fs, "event");
	const char *from = rove_fields_str(&h->fs, "from");

	if (ev != NULL && from != NULL && strcmp(from, hc->u->name) == 0 &&
	    (strcmp(ev, "release") == 0 || strcmp(ev, "recycle") == 0)) {
		int64_t d = day_number(rove_fields_str(&h->fs, "at"));
		if (d > hc->last_release)
			hc->last_release = d;
	}
	return ROVE_OK;
}

/* The last day u released customer id (from its history), or -1. */
static int64_t released_on(rove_store *st, MDB_txn *txn, const rove_user *u, const rove_uuid *id)
{
	rove_record *h = malloc(sizeof(*h));
	history_ctx hc = {u, -1};
	int rc;

	if (h == NULL)
		return -1;
	rc = each_child_record(st, txn, id, ROVE_COLL_OWNERSHIP, h, history_release, &hc);
	free(h);
	return rc == ROVE_OK ? hc.last_release : -1;
}

/* The pool rules of the customer's territory for a claim (or a create). */
static int check_pool_take(rove_store *st, MDB_txn *txn, const rove_user *u, const char *terr,
			   const rove_record *cur, char *detail, size_t len)
{
	char key[ROVE_MAX_NAME + 48];
	pool_rules rules;
	int64_t cap, daily, cool;
	uint64_t n;

	if (u->role != ROVE_ROLE_REP)
		return ROVE_R_NONE;
	pool_rules_get(st, txn, terr, &rules);
	cap = rules.limit;
	daily = rules.claims;
	cool = rules.cooldown;
	if (cap > 0 && held_in(st, txn, u, terr) >= (uint64_t)cap) {
		snprintf(detail, len, "you hold %lld customers in %s, the most allowed", (long long)cap, terr);
		return ROVE_R_LIMIT;
	}
	if (cur == NULL)
		return ROVE_R_NONE; /* the rest is about claims */
	claims_key(key, sizeof(key), u->name);
	if (daily > 0 && counter_get(st, txn, key, &n) == ROVE_OK && n >= (uint64_t)daily) {
		snprintf(detail, len, "at most %lld claims a day in %s", (long long)daily, terr);
		return ROVE_R_LIMIT;
	}
	if (cool > 0) {
		int64_t last = released_on(st, txn, u, &cur->id);
		if (last >= 0 && today_number() - last < cool) {
			snprintf(detail, len, "you released it less than %lld days ago", (long long)cool);
			return ROVE_R_COOLDOWN;
		}
	}
	return ROVE_R_NONE;
}

/* ---- child records, dealers, targets ---- */

static int check_child(rove_store *st, MDB_txn *txn, const rove_user *u, rove_op *op, const rove_coll_def *c,
		       const rove_record *cur, char *detail, size_t len)
{
	const rove_field_def *pf = rove_schema_parent_field(c);
	const char *pid = rove_fields_str(cur != NULL ? &cur->fs : &op->fs, pf->name);
	rove_record *parent;
	rove_uuid id;
	int reason = ROVE_R_NONE;

	if (cur != NULL && touches(op, pf->name)) {
		snprintf(detail, len, "a %s cannot move to another customer", c->name);
		return ROVE_R_FORBIDDEN;
	}
	if ((c->flags & ROVE_CF_APPEND_ONLY) && op->kind != ROVE_OP_CREATE) {
		snprintf(detail, len, "%s records are append-only", c->name);
		return ROVE_R_FORBIDDEN;
	}
	if (pid == NULL || rove_uuid_parse(pid, &id) != ROVE_OK) {
		snprintf(detail, len, "no customer given");
		return ROVE_R_INVALID;
	}
	parent = malloc(sizeof(*parent));
	if (parent == NULL)
		return ROVE_R_INVALID;
	if (rove_store_record_get(st, txn, ROVE_COLL_CUSTOMER, &id, parent) != ROVE_OK) {
		snprintf(detail, len, "no customer %s", pid);
		reason = ROVE_R_INVALID;
	} else if (rove_record_deleted(parent)) {
		snprintf(detail, len, "the customer was deleted");
		reason = ROVE_R_DELETED;
	} else if (!may_write(st, txn, u, parent)) {
		reason = refuse_write(st, txn, u, parent, detail, len);
	}
	free(parent);
	if (reason == ROVE_R_NONE && c->id == ROVE_COLL_ACTIVITY) {
		/* The server names the author. */
		if (rove_op_set(op, "author", rove_vcstr(u->name)) != ROVE_OK)
			reason = ROVE_R_INVALID;
	}
	return reason;
}

/* Dealers: reference data a manager (in reach) or admin maintains. */
static int check_dealer(rove_store *st, MDB_txn *txn, const rove_user *u, const rove_op *op,
			const rove_record *cur, char *detail, size_t len)
{
	const char *terr = rove_fields_str(&op->fs, "territory");
	const char *was = cur ? rove_fields_str(&cur->fs, "territory") : NULL;

	if (u->role == ROVE_ROLE_REP) {
		snprintf(detail, len, "dealers are kept by managers and admins");
		return ROVE_R_FORBIDDEN;
	}
	if (terr != NULL && !territory_exists(st, txn, terr)) {
		snprintf(detail, len, "no territory '%s'", terr);
		return ROVE_R_INVALID;
	}
	if (u->role == ROVE_ROLE_MANAGER &&
	    ((terr != NULL && !rove_policy_in_reach(st, txn, u, terr)) ||
	     (was != NULL && !rove_policy_in_reach(st, txn, u, was)))) {
		snprintf(detail, len, "outside your territories");
		return ROVE_R_NOT_IN_TERRITORY;
	}
	return ROVE_R_NONE;
}

/* Targets: set by managers for users in their reach, and by admins. */
static int check_target(rove_store *st, MDB_txn *txn, const rove_user *u, rove_op *op,
			const rove_record *cur, char *detail, size_t len)
{
	const char *login = rove_fields_str(cur != NULL ? &cur->fs : &op->fs, "user");
	rove_user *t;
	const char *terr = NULL;
	int reason = ROVE_R_NONE;

	if (u->role == ROVE_ROLE_REP) {
		snprintf(detail, len, "targets are set by managers and admins");
		return ROVE_R_FORBIDDEN;
	}
	if (cur != NULL && touches(op, "user") && strcmp(rove_fields_str(&op->fs, "user"), login) != 0) {
		snprintf(detail, len, "a target cannot move to another user");
		return ROVE_R_FORBIDDEN;
	}
	t = malloc(sizeof(*t));
	if (t == NULL)
		return ROVE_R_INVALID;
	if (login == NULL || rove_store_user_get(st, txn, login, t, NULL) != ROVE_OK) {
		snprintf(detail, len, "no user '%s'", login ? login : "");
		reason = ROVE_R_INVALID;
	} else {
		for (uint32_t i = 0; i < t->nterr && terr == NULL; i++)
			if (u->role == ROVE_ROLE_ADMIN || rove_policy_in_reach(st, txn, u, t->terr[i]))
				terr = t->terr[i];
		if (terr == NULL && u->role == ROVE_ROLE_MANAGER) {
			snprintf(detail, len, "%s works outside your territories", login);
			reason = ROVE_R_NOT_IN_TERRITORY;
		} else if (terr != NULL && rove_op_set(op, "territory", rove_vcstr(terr)) != ROVE_OK) {
			reason = ROVE_R_INVALID;
		}
	}
	free(t);
	return reason;
}

int rove_policy_check(rove_store *st, MDB_txn *txn, const rove_user *u, rove_op *op,
		      const rove_record *cur, char *detail, size_t detail_len)
{
	const rove_coll_def *c = rove_schema_coll(op->coll);

	if (u->role == ROVE_ROLE_ANALYST) {
		snprintf(detail, detail_len, "analysts are read-only");
		return ROVE_R_FORBIDDEN;
	}
	if (c == NULL || (c->flags & ROVE_CF_SERVER) || op->kind == ROVE_OP_REASSIGN) {
		snprintf(detail, detail_len, "only the server writes %s records this way",
			 c ? c->name : "these");
		return ROVE_R_FORBIDDEN;
	}
	if (op->kind == ROVE_OP_CREATE && cur != NULL && op->coll == ROVE_COLL_TARGET &&
	    !rove_record_deleted(cur))
		op->kind = ROVE_OP_UPDATE; /* one target per user and month: set again */
	if (op->kind == ROVE_OP_CREATE && cur != NULL) {
		snprintf(detail, detail_len, "record already exists");
		return ROVE_R_INVALID;
	}
	if ((op->kind == ROVE_OP_CLAIM || op->kind == ROVE_OP_RELEASE) && op->coll != ROVE_COLL_CUSTOMER) {
		snprintf(detail, detail_len, "only customers are claimed and released");
		return ROVE_R_INVALID;
	}
	if (op->kind != ROVE_OP_CREATE && cur == NULL) {
		snprintf(detail, detail_len, "no such record");
		return ROVE_R_INVALID;
	}
	if (cur != NULL && rove_record_deleted(cur)) {
		snprintf(detail, detail_len, "the record was deleted");
		return ROVE_R_DELETED;
	}
	if (op->coll == ROVE_COLL_DEALER)
		return check_dealer(st, txn, u, op, cur, detail, detail_len);
	if (op->coll == ROVE_COLL_TARGET)
		return check_target(st, txn, u, op, cur, detail, detail_len);
	if (rove_schema_parent_field(c) != NULL)
		return check_child(st, txn, u, op, c, cur, detail, detail_len);
	if (op->coll != ROVE_COLL_CUSTOMER)
		return ROVE_R_NONE;
	if (touches(op, "last_activity_at") || touches(op, "created_at") ||
	    (touches(op, "release_reason") && op->kind != ROVE_OP_RELEASE)) {
		snprintf(detail, detail_len, "the server keeps last_activity_at and created_at");
		return ROVE_R_FORBIDDEN;
	}

	switch (op->kind) {
	case ROVE_OP_CREATE:
		return check_create(st, txn, u, op, detail, detail_len);
	case ROVE_OP_CLAIM:
	case ROVE_OP_RELEASE:
		return check_claim_release(st, txn, u, op, cur, detail, detail_len);
	case ROVE_OP_DELETE:
		if (u->role == ROVE_ROLE_REP) {
			snprintf(detail, detail_len, "reps cannot delete customers");
			return ROVE_R_FORBIDDEN;
		}
		if (!may_write(st, txn, u, cur))
			return refuse_write(st, txn, u, cur, detail, detail_len);
		return ROVE_R_NONE;
	default: /* update */
		if (!may_write(st, txn, u, cur))
			return refuse_write(st, txn, u, cur, detail, detail_len);
		if (u->role == ROVE_ROLE_REP && (touches(op, "owner") || touches(op, "territory"))) {
			snprintf(detail, detail_len, "reps cannot change owner or territory");
			return ROVE_R_FORBIDDEN;
		}
		if (touches(op, "territory")) {
			const char *t = rove_fields_str(&op->fs, "territory");
			if (t == NULL || !territory_exists(st, txn, t)) {
				snprintf(detail, detail_len, "no territory '%s'", t ? t : "");
				return ROVE_R_INVALID;
			}
			if (u->role == ROVE_ROLE_MANAGER && !rove_policy_in_reach(st, txn, u, t)) {
				snprintf(detail, detail_len, "%s is outside your territories", t);
				return ROVE_R_NOT_IN_TERRITORY;
			}
		}
		return find_duplicate(st, txn, op, detail, detail_len);
	}
}

/* ---- after an op ---- */

static const char *owner_event(const rove_user *u, const rove_op *op, const rove_record *before)
{
	if (before == NULL)
		return "create";
	switch (op->kind) {
	case ROVE_OP_CLAIM: return "claim";
	case ROVE_OP_RELEASE: return strcmp(u->name, ROVE_SYSTEM_USER) == 0 ? "recycle" : "release";
	default: return "reassign";
	}
}

/* An activity moves its customer's last_activity_at forward. */
static int after_activity(rove_store *st, MDB_txn *txn, const rove_op *op, rove_op *follow, bool *has_follow)
{
	const char *cid = rove_fields_str(&op->fs, "customer");
	const char *at = rove_fields_str(&op->fs, "at");
	const char *last;
	rove_record *c;
	rove_uuid id;
	int rc;

	if (cid == NULL || at == NULL || rove_uuid_parse(cid, &id) != ROVE_OK)
		return ROVE_OK;
	c = malloc(sizeof(*c));
	if (c == NULL)
		return ROVE_ENOMEM;
	rc = rove_store_record_get(st, txn, ROVE_COLL_CUSTOMER, &id, c);
	last = rc == ROVE_OK ? rove_fields_str(&c->fs, "last_activity_at") : NULL;
	if (rc == ROVE_OK && (last == NULL || strcmp(last, at) < 0)) {
		rove_uuid fid;
		rove_uuid_derive(&fid, &op->op_id, "last-activity-op");
		rove_op_init_id(follow, &fid, ROVE_OP_UPDATE, ROVE_COLL_CUSTOMER, &id, op->st);
		rc = rove_op_set(follow, "last_activity_at", rove_vcstr(at));
		*has_follow = rc == ROVE_OK;
	} else if (rc == ROVE_ENOTFOUND) {
		rc = ROVE_OK;
	}
	free(c);
	return rc;
}

int rove_policy_after(rove_store *st, MDB_txn *txn, const rove_user *u, const rove_op *op,
		      const rove_record *before, const rove_record *after, rove_op *follow,
		      bool *has_follow)
{
	const char *was, *now, *why;
	char ids[ROVE_UUID_STRLEN + 1], when[32];
	rove_uuid hid;
	int rc;

	*has_follow = false;
	if (after->coll == ROVE_COLL_ACTIVITY && before == NULL)
		return after_activity(st, txn, op, follow, has_follow);
	if (after->coll != ROVE_COLL_CUSTOMER)
		return ROVE_OK;
	rc = uniq_update(st, txn, before, after);
	if (rc != ROVE_OK)
		return rc;
	if (op->kind == ROVE_OP_CLAIM && u->role == ROVE_ROLE_REP) {
		char key[ROVE_MAX_NAME + 48];
		uint64_t n;
		claims_key(key, sizeof(key), u->name);
		rc = counter_get(st, txn, key, &n);
		if (rc == ROVE_OK)
			rc = rove_db_put_u64(txn, st->counters, key, n + 1);
		if (rc != ROVE_OK)
			return rc;
	}
	was = before ? rove_fields_str(&before->fs, "owner") : NULL;
	now = rove_fields_str(&after->fs, "owner");
	if (before != NULL && ((was == NULL && now == NULL) || (was && now && strcmp(was, now) == 0)))
		return ROVE_OK;
	/* The owner changed: keep it in the customer's ownership history. Its
	 * ids derive from the op's: no random numbers needed, and a retry
	 * makes the same entry. */
	{
		rove_uuid fid;
		rove_uuid_derive(&hid, &op->op_id, "ownership");
		rove_uuid_derive(&fid, &op->op_id, "ownership-op");
		rove_op_init_id(follow, &fid, ROVE_OP_CREATE, ROVE_COLL_OWNERSHIP, &hid, op->st);
	}
	rove_uuid_format(&after->id, ids);
	iso_now(when, sizeof(when));
	why = op->kind == ROVE_OP_RELEASE ? rove_fields_str(&op->fs, "release_reason") : NULL;
	rc = rove_op_set(follow, "customer", rove_vcstr(ids));
	if (rc == ROVE_OK)
		rc = rove_op_set(follow, "event", rove_vcstr(owner_event(u, op, before)));
	if (rc == ROVE_OK && was != NULL)
		rc = rove_op_set(follow, "from", rove_vcstr(was));
	if (rc == ROVE_OK && now != NULL)
		rc = rove_op_set(follow, "to", rove_vcstr(now));
	if (rc == ROVE_OK)
		rc = rove_op_set(follow, "by", rove_vcstr(u->name));
	if (rc == ROVE_OK && why != NULL)
		rc = rove_op_set(follow, "reason", rove_vcstr(why));
	if (rc == ROVE_OK)
		rc = rove_op_set(follow, "at", rove_vcstr(when));
	if (rc == ROVE_OK)
		*has_follow = true;
	return rc;
}

/* ---- periodic rules: recycling idle customers to the pool ---- */

static int opportunity_won(const rove_record *o, void *arg)
{
	const char *stage = rove_fields_str(&o->fs, "stage");

	(void)arg;
	return !rove_record_deleted(o) && stage != NULL && strcmp(stage, "won") == 0 ? ROVE_EEXIST : ROVE_OK;
}

/* Whether a customer is won (exempt from recycling): a customer or loyal
 * tier, or a won opportunity. */
static bool customer_won(rove_store *st, MDB_txn *txn, const rove_record *c, rove_record *scratch)
{
	const char *tier = rove_fields_str(&c->fs, "tier");

	if (tier != NULL && (strcmp(tier, "customer") == 0 || strcmp(tier, "loyal") == 0))
		return true;
	return each_child_record(st, txn, &c->id, ROVE_COLL_OPPORTUNITY, scratch, opportunity_won, NULL) ==
	       ROVE_EEXIST;
}

static int notice_op(rove_store *st, MDB_txn *txn, rove_op *op, const char *user, const rove_record *c,
		     const char *kind, const char *text, const char *name, bool *made)
{
	rove_uuid id;
	rove_stamp now = {rove_hlc_from_ms(rove_wall_ms()), st->node};
	rove_record *tmp;
	char ids[ROVE_UUID_STRLEN + 1], when[32];
	int rc;

	*made = false;
	rove_uuid_from_name(&id, name);
	tmp = malloc(sizeof(*tmp));
	if (tmp == NULL)
		return ROVE_ENOMEM;
	rc = rove_store_record_get(st, txn, ROVE_COLL_NOTICE, &id, tmp);
	free(tmp);
	if (rc == ROVE_OK)
		return ROVE_OK; /* told already */
	if (rc != ROVE_ENOTFOUND)
		return rc;
	rove_op_init(op, ROVE_OP_CREATE, ROVE_COLL_NOTICE, &id, now);
	rove_uuid_format(&c->id, ids);
	iso_now(when, sizeof(when));
	rc = rove_op_set(op, "user", rove_vcstr(user));
	if (rc == ROVE_OK)
		rc = rove_op_set(op, "customer", rove_vcstr(ids));
	if (rc == ROVE_OK)
		rc = rove_op_set(op, "kind", rove_vcstr(kind));
	if (rc == ROVE_OK)
		rc = rove_op_set(op, "text", rove_vcstr(text));
	if (rc == ROVE_OK)
		rc = rove_op_set(op, "at", rove_vcstr(when));
	*made = rc == ROVE_OK;
	return rc;
}

/* Recycling of one customer: a release by the server and a notice, or a
 * warning notice ahead of it. Adds at most two ops. */
static int recycle_one(rove_store *st, MDB_txn *txn, const rove_record *c, int64_t days, int64_t warn,
		       rove_op *ops, size_t max, size_t *n, rove_record *scratch)
{
	const char *owner = rove_fields_str(&c->fs, "owner");
	const char *name = rove_fields_str(&c->fs, "name");
	const char *last = rove_fields_str(&c->fs, "last_activity_at");
	char text[ROVE_MAX_DETAIL + 1], nname[160];
	int64_t idle;
	bool made;
	int rc;

	if (owner == NULL || rove_record_deleted(c) || *n + 2 > max)
		return ROVE_OK;
	if (last == NULL)
		last = rove_fields_str(&c->fs, "created_at");
	if (last == NULL || day_number(last) < 0 || customer_won(st, txn, c, scratch))
		return ROVE_OK;
	idle = today_number() - day_number(last);
	if (idle >= days) {
		rove_stamp now = {rove_hlc_from_ms(rove_wall_ms()), st->node};
		rove_op *op = &ops[(*n)++];
		rove_op_init(op, ROVE_OP_RELEASE, ROVE_COLL_CUSTOMER, &c->id, now);
		snprintf(text, sizeof(text), "no follow-up for %lld days", (long long)idle);
		rc = rove_op_set(op, "owner", rove_vnull());
		if (rc == ROVE_OK)
			rc = rove_op_set(op, "release_reason", rove_vcstr(text));
		if (rc != ROVE_OK)
			return rc;
		snprintf(text, sizeof(text), "%s returned to the public pool: no follow-up for %lld days",
			 name ? name : "a customer", (long long)idle);
		{
			char ids[ROVE_UUID_STRLEN + 1];
			rove_uuid_format(&c->id, ids);
			snprintf(nname, sizeof(nname), "notice:recycled:%s:%s:%s", owner, ids, last);
		}
		rc = notice_op(st, txn, &ops[*n], owner, c, "recycled", text, nname, &made);
		if (made)
			(*n)++;
		return rc;
	}
	if (warn > 0 && idle >= days - warn) {
		char ids[ROVE_UUID_STRLEN + 1];
		rove_uuid_format(&c->id, ids);
		snprintf(text, sizeof(text), "%s returns to the public pool in %lld day(s) without a follow-up",
			 name ? name : "a customer", (long long)(days - idle));
		snprintf(nname, sizeof(nname), "notice:warn:%s:%s:%s", owner, ids, last);
		rc = notice_op(st, txn, &ops[*n], owner, c, "recycle_warning", text, nname, &made);
		if (made)
			(*n)++;
		return rc;
	}
	return ROVE_OK;
}

int rove_policy_periodic(rove_store *st, MDB_txn *txn, rove_op *ops, size_t max, size_t *n)
{
	MDB_cursor *codes;
	MDB_val ck, cv;
	rove_record *c = malloc(sizeof(*c)), *scratch = malloc(sizeof(*scratch));
	int rc = ROVE_OK, mrc;

	*n = 0;
	if (c == NULL || scratch == NULL) {
		free(c);
		free(scratch);
		return ROVE_ENOMEM;
	}
	rc = rove_db_err(mdb_cursor_open(txn, st->codes, &codes), "cursor");
	if (rc != ROVE_OK) {
		free(c);
		free(scratch);
		return rc;
	}
	mrc = mdb_cursor_get(codes, &ck, &cv, MDB_FIRST);
	while (rc == ROVE_OK && mrc == 0 && *n + 2 <= max) {
		char code[ROVE_MAX_NAME + 1], scope[ROVE_SCOPE_MAX + 1];
		uint8_t key[ROVE_INDEX_KEY_MAX];
		int64_t days, warn;
		MDB_cursor *rc_cur;
		MDB_val k, v;
		size_t plen;
		int m2;

		if (ck.mv_size == 0 || ck.mv_size > ROVE_MAX_NAME)
			break;
		memcpy(code, ck.mv_data, ck.mv_size);
		code[ck.mv_size] = '\0';
		mrc = mdb_cursor_get(codes, &ck, &cv, MDB_NEXT);
		{
			pool_rules rules;
			pool_rules_get(st, txn, code, &rules);
			days = rules.recycle;
			warn = rules.warn;
		}
		if (days <= 0)
			continue;
		snprintf(scope, sizeof(scope), "t:%s", code);
		plen = rove_store_scope_key(key, scope, NULL, 0);
		rc = rove_db_err(mdb_cursor_open(txn, st->scoperec, &rc_cur), "cursor");
		if (rc != ROVE_OK)
			break;
		k.mv_size = plen;
		k.mv_data = key;
		m2 = mdb_cursor_get(rc_cur, &k, &v, MDB_SET_RANGE);
		while (rc == ROVE_OK && m2 == 0 && k.mv_size == plen + ROVE_RECORD_KEY &&
		       memcmp(k.mv_data, key, plen) == 0 && *n + 2 <= max) {
			const uint8_t *rk = (const uint8_t *)k.mv_data + plen;
			rove_uuid id;
			memcpy(id.b, rk + 1, 16);
			if (rk[0] == ROVE_COLL_CUSTOMER &&
			    rove_store_record_get(st, txn, ROVE_COLL_CUSTOMER, &id, c) == ROVE_OK)
				rc = recycle_one(st, txn, c, days, warn, ops, max, n, scratch);
			m2 = mdb_cursor_get(rc_cur, &k, &v, MDB_NEXT);
		}
		mdb_cursor_close(rc_cur);
	}
	mdb_cursor_close(codes);
	free(c);
	free(scratch);
	return rc;
}
