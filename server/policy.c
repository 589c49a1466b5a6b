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

static bool territory_exists(rove_store *st, MDB_txn *txn, const char *code)
{
	rove_uuid id;

	return rove_store_code_get(st, txn, code, &id) == ROVE_OK;
}

/* ---- scopes ---- */

static void scope_add(rove_scopes *out, char kind, const char *name)
{
	if (out->n < ROVE_MAX_SCOPES && name != NULL && name[0] != '\0')
		snprintf(out->s[out->n++], ROVE_SCOPE_MAX + 1, "%c:%s", kind, name);
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

int rove_policy_scopes(rove_store *st, MDB_txn *txn, const rove_record *rec, rove_scopes *out)
{
	const rove_coll_def *c = rove_schema_coll(rec->coll);
	const rove_field_def *pf;

	out->n = 0;
	if (c == NULL)
		return ROVE_OK;
	if (rec->coll == ROVE_COLL_CUSTOMER)
		return customer_scopes(rec, out);
	if (rec->coll == ROVE_COLL_TERRITORY) {
		const char *code = rove_fields_str(&rec->fs, "code");
		scope_add(out, 'r', code);
		scope_add(out, 't', code);
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
		parent = malloc(sizeof(*parent));
		if (parent == NULL)
			return ROVE_ENOMEM;
		rc = rove_store_record_get(st, txn, ROVE_COLL_CUSTOMER, &id, parent);
		if (rc == ROVE_OK)
			rc = customer_scopes(parent, out);
		else if (rc == ROVE_ENOTFOUND)
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

/* Whether u owned customer id before (its ownership history says so). */
static bool owned_before(rove_store *st, MDB_txn *txn, const rove_user *u, const rove_uuid *id)
{
	uint8_t key[2 * ROVE_RECORD_KEY];
	MDB_cursor *c;
	MDB_val k, v;
	rove_record *h = malloc(sizeof(*h));
	bool found = false;
	int mrc;

	if (h == NULL)
		return false;
	rove_store_record_key(key, ROVE_COLL_CUSTOMER, id);
	key[ROVE_RECORD_KEY] = ROVE_COLL_OWNERSHIP;
	if (mdb_cursor_open(txn, st->children, &c) != 0) {
		free(h);
		return false;
	}
	k.mv_size = ROVE_RECORD_KEY + 1;
	k.mv_data = key;
	mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (!found && mrc == 0 && k.mv_size == 2 * ROVE_RECORD_KEY &&
	       memcmp(k.mv_data, key, ROVE_RECORD_KEY + 1) == 0) {
		rove_uuid hid;
		memcpy(hid.b, (uint8_t *)k.mv_data + ROVE_RECORD_KEY + 1, 16);
		if (rove_store_record_get(st, txn, ROVE_COLL_OWNERSHIP, &hid, h) == ROVE_OK) {
			const char *from = rove_fields_str(&h->fs, "from");
			found = from != NULL && strcmp(from, u->name) == 0;
		}
		mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
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
	rc = find_duplicate(st, txn, op, detail, len);
	return rc;
}

static int check_claim_release(rove_store *st, MDB_txn *txn, const rove_user *u, rove_op *op,
			       const rove_record *cur, char *detail, size_t len)
{
	const char *owner = rove_fields_str(&cur->fs, "owner");
	const char *terr = rove_fields_str(&cur->fs, "territory");

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
		return rove_op_set(op, "owner", rove_vcstr(u->name)) == ROVE_OK ? ROVE_R_NONE : ROVE_R_INVALID;
	}
	if (owner == NULL) {
		snprintf(detail, len, "the customer is already in the pool");
		return ROVE_R_INVALID;
	}
	if (!may_write(st, txn, u, cur))
		return refuse_write(st, txn, u, cur, detail, len);
	return rove_op_set(op, "owner", rove_vnull()) == ROVE_OK ? ROVE_R_NONE : ROVE_R_INVALID;
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
	if (op->kind == ROVE_OP_CREATE && cur != NULL) {
		snprintf(detail, detail_len, "record already exists");
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
	if (op->coll != ROVE_COLL_CUSTOMER)
		return ROVE_R_NONE;

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

static const char *owner_event(const rove_op *op, const rove_record *before)
{
	if (before == NULL)
		return "create";
	switch (op->kind) {
	case ROVE_OP_CLAIM: return "claim";
	case ROVE_OP_RELEASE: return "release";
	default: return "reassign";
	}
}

int rove_policy_after(rove_store *st, MDB_txn *txn, const rove_user *u, const rove_op *op,
		      const rove_record *before, const rove_record *after, rove_op *follow,
		      bool *has_follow)
{
	const char *was, *now;
	char ids[ROVE_UUID_STRLEN + 1], when[32];
	rove_uuid hid;
	int rc;

	*has_follow = false;
	if (after->coll != ROVE_COLL_CUSTOMER)
		return ROVE_OK;
	rc = uniq_update(st, txn, before, after);
	if (rc != ROVE_OK)
		return rc;
	was = before ? rove_fields_str(&before->fs, "owner") : NULL;
	now = rove_fields_str(&after->fs, "owner");
	if (before != NULL && ((was == NULL && now == NULL) || (was && now && strcmp(was, now) == 0)))
		return ROVE_OK;
	/* The owner changed: keep it in the customer's ownership history. */
	rove_uuid_new(&hid);
	rove_op_init(follow, ROVE_OP_CREATE, ROVE_COLL_OWNERSHIP, &hid, op->st);
	rove_uuid_format(&after->id, ids);
	{
		time_t t = (time_t)(rove_hlc_ms(op->st.hlc) / 1000);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	rc = rove_op_set(follow, "customer", rove_vcstr(ids));
	if (rc == ROVE_OK)
		rc = rove_op_set(follow, "event", rove_vcstr(owner_event(op, before)));
	if (rc == ROVE_OK && was != NULL)
		rc = rove_op_set(follow, "from", rove_vcstr(was));
	if (rc == ROVE_OK && now != NULL)
		rc = rove_op_set(follow, "to", rove_vcstr(now));
	if (rc == ROVE_OK)
		rc = rove_op_set(follow, "by", rove_vcstr(u->name));
	if (rc == ROVE_OK)
		rc = rove_op_set(follow, "at", rove_vcstr(when));
	if (rc == ROVE_OK)
		*has_follow = true;
	return rc;
}
