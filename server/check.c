/*
 * check.c - roved check (check.h): the driver, one read transaction over
 * every table, and the walks of the oplog, the scopelog, the answers,
 * the refusals, the users and the runs; the records and their index
 * entries are check_records.c's.
 */
#include "check.h"
#include "check_int.h"
#include "proof.h"
#include "rove_assert.h"

#include "array.h"
#include "db.h"
#include "err.h"
#include "hash.h"
#include "ident.h"
#include "log.h"
#include "policy.h"
#include "policy_store.h"
#include "proto.h"
#include "schema.h"
#include "store.h"
#include "text.h"

#include <ctype.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void check_problem(check *c, const char *fmt, ...)
{
	struct check_kind *k = NULL;
	char line[512];
	va_list ap;

	c->problems++;
	for (size_t i = 0; i < c->nkinds && k == NULL; i++)
		if (c->kinds[i].fmt == fmt)
			k = &c->kinds[i];
	if (k == NULL && c->nkinds < ROVE_CHECK_KINDS) {
		k = &c->kinds[c->nkinds++];
		k->fmt = fmt;
	}
	if (k != NULL && k->n++ >= ROVE_MAX_CHECK_SAME) {
		k->more++;
		return;
	}
	if (c->printed >= ROVE_MAX_CHECK_PROBLEMS)
		return;
	c->printed++;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(c->out, "%s\n", line);
	if (k != NULL && k->n == 1)
		snprintf(k->first, sizeof(k->first), "%.*s", (int)sizeof(k->first) - 1, line); /* (cut if longer) */
}

/* After the problems listed: how many of each kind were not, and of
 * the rest. */
static void say_unlisted(const check *c, FILE *out)
{
	uint64_t more = c->problems - c->printed;

	for (size_t i = 0; i < c->nkinds; i++) {
		if (c->kinds[i].more == 0)
			continue;
		fprintf(out, "... and %llu more like: %s\n", (unsigned long long)c->kinds[i].more, c->kinds[i].first);
		more -= c->kinds[i].more;
	}
	if (more > 0)
		fprintf(out, "... and %llu more\n", (unsigned long long)more);
}

const char *check_show(const void *p, size_t n, char *out, size_t outlen)
{
	const uint8_t *b = p;
	size_t o = 0;

	ROVE_ASSERT(outlen >= 5);
	for (size_t i = 0; i < n && o + 5 < outlen; i++) {
		if (isprint(b[i]) && b[i] != '\\')
			out[o++] = (char)b[i];
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", b[i]);
	}
	out[o] = '\0';
	return out;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

bool check_is_user(const check *c, const char *login)
{
	return bsearch(login, c->users, c->nusers, sizeof(c->users[0]), name_cmp) != NULL;
}

static size_t nw_slot(const check *c, const uint8_t key[ROVE_RECORD_KEY])
{
	return (size_t)rove_fnv1a(ROVE_FNV_BASIS, key, ROVE_RECORD_KEY) & (c->nwcap - 1);
}

/* Notes seq as the newest op on the record key (the walk goes up), and
 * hlc, its stamp, if the newest of them. */
static void nw_put(check *c, const uint8_t key[ROVE_RECORD_KEY], uint64_t seq, uint64_t hlc)
{
	size_t i = nw_slot(c, key);

	while (c->nw[i].key[0] != 0 && memcmp(c->nw[i].key, key, ROVE_RECORD_KEY) != 0)
		i = (i + 1) & (c->nwcap - 1);
	memcpy(c->nw[i].key, key, ROVE_RECORD_KEY);
	c->nw[i].seq = seq;
	if (hlc > c->nw[i].hlc)
		c->nw[i].hlc = hlc;
}

static const struct newest *nw_find(const check *c, const uint8_t key[ROVE_RECORD_KEY])
{
	size_t i = nw_slot(c, key);

	while (c->nw[i].key[0] != 0) {
		if (memcmp(c->nw[i].key, key, ROVE_RECORD_KEY) == 0)
			return &c->nw[i];
		i = (i + 1) & (c->nwcap - 1);
	}
	return NULL;
}

uint64_t check_nw_get(const check *c, const uint8_t key[ROVE_RECORD_KEY])
{
	const struct newest *n = nw_find(c, key);

	return n != NULL ? n->seq : 0;
}

uint64_t check_nw_hlc(const check *c, const uint8_t key[ROVE_RECORD_KEY])
{
	const struct newest *n = nw_find(c, key);

	return n != NULL ? n->hlc : 0;
}

/* ---- the oplog and what names its ops ---- */

static int check_op(uint64_t seq, const MDB_val *raw, void *arg)
{
	check *c = arg;

	if (seq != c->next_seq) {
		if (seq > c->next_seq)
			check_problem(c, "oplog %llu: ops %llu to %llu are missing", (unsigned long long)seq,
				(unsigned long long)c->next_seq, (unsigned long long)(seq - 1));
		else
			check_problem(c, "oplog %llu: at or below the compaction floor %llu", (unsigned long long)seq,
				(unsigned long long)c->floor);
	}
	c->next_seq = seq + 1;
	if (rove_dec_op(raw->mv_data, raw->mv_size, c->op) != ROVE_OK) {
		check_problem(c, "oplog %llu: the stored op does not decode", (unsigned long long)seq);
		return ROVE_OK;
	}
	if (c->op->seq != seq)
		check_problem(c, "oplog %llu: holds op %llu", (unsigned long long)seq, (unsigned long long)c->op->seq);
	{
		uint8_t key[ROVE_RECORD_KEY];
		char why[256], b[160];
		rove_record_key(key, c->op->coll, &c->op->rid);
		if (key[0] != 0 && c->nw != NULL)
			nw_put(c, key, seq, c->op->st.hlc.v);
		if (c->op->st.hlc.v > c->max_hlc)
			c->max_hlc = c->op->st.hlc.v;
		if (c->op->st.node != c->st.node)
			c->client_ops++;
		else
			c->server_ops++;
		if (!check_is_user(c, c->op->author) && strcmp(c->op->author, ROVE_SYSTEM_USER) != 0)
			check_problem(c, "oplog %llu: made by %s, who is not a user", (unsigned long long)seq,
				check_show(c->op->author, strlen(c->op->author), b, sizeof(b)));
		if (rove_schema_check_op(c->op, why, sizeof(why)) != ROVE_OK)
			check_problem(c, "oplog %llu: %s (the server takes no such op)", (unsigned long long)seq, why);
	}
	return ROVE_OK;
}

/* The op at seq, pushed by a replica, has its answer kept under its op
 * id (the second pass, when the counts differ: names which). */
static int check_answered(uint64_t seq, const MDB_val *raw, void *arg)
{
	check *c = arg;
	rove_push_result r;
	char id[ROVE_UUID_STRLEN + 1];
	int rc;

	if (rove_dec_op(raw->mv_data, raw->mv_size, c->op) != ROVE_OK || c->op->st.node == c->st.node)
		return ROVE_OK;
	rove_uuid_format(&c->op->op_id, id);
	rc = rove_store_opid_get(&c->st, c->txn, &c->op->op_id, &r);
	if (rc == ROVE_ENOTFOUND) {
		check_problem(c, "opids %s: missing (op %llu was pushed with that id; sent again it would be applied "
			   "twice)",
			id, (unsigned long long)seq);
		c->unanswered_one = c->unanswered == 0 || (c->unanswered_one && c->unanswered_node == c->op->st.node);
		c->unanswered_node = c->op->st.node;
		c->unanswered++;
	}
	else if (rc == ROVE_OK && (r.status != ROVE_PUSH_ACCEPTED || r.seq != seq))
		check_problem(c, "opids %s: not the answer to op %llu, which has that id", id, (unsigned long long)seq);
	else if (rc != ROVE_OK && rc != ROVE_EPROTO)
		return rc;
	return ROVE_OK;
}

/* Whether the oplog holds seq. */
static int op_held(check *c, uint64_t seq, bool *held)
{
	MDB_val v;
	int rc = rove_store_oplog_raw(&c->st, c->txn, seq, &v);

	*held = rc == ROVE_OK;
	return rc == ROVE_ENOTFOUND ? ROVE_OK : rc;
}

/* scopelog: scope NUL seq(8) -> kind(1). */
static int check_scopelog(const MDB_val *k, const MDB_val *v, void *arg)
{
	check *c = arg;
	const uint8_t *p = k->mv_data;
	const uint8_t *nul = memchr(p, 0, k->mv_size);
	char b[160];
	uint64_t seq;
	bool held;
	int rc;

	if (nul == NULL || k->mv_size - (size_t)(nul - p) - 1 != 8 || v->mv_size != 1) {
		check_problem(c, "scopelog %s: not a scope and a sequence number", check_show(p, k->mv_size, b, sizeof(b)));
		return ROVE_OK;
	}
	seq = rove_be64_get(nul + 1);
	if (*(const uint8_t *)v->mv_data > ROVE_SCOPELOG_LEFT)
		check_problem(c, "scopelog %s %llu: %u is no kind of entry", check_show(p, (size_t)(nul - p), b, sizeof(b)),
			      (unsigned long long)seq, *(const uint8_t *)v->mv_data);
	if ((size_t)(nul - p) > ROVE_MAX_SCOPE_LEN || (size_t)(nul - p) < 3 || p[1] != ':') {
		check_problem(c, "scopelog %s %llu: not a scope", check_show(p, (size_t)(nul - p), b, sizeof(b)),
			(unsigned long long)seq);
		return ROVE_OK;
	}
	if (strlen(c->last_scope) != (size_t)(nul - p) || memcmp(c->last_scope, p, (size_t)(nul - p)) != 0) {
		/* A new scope: what it names must exist (a user, a territory). */
		rove_uuid tid;
		memcpy(c->last_scope, p, (size_t)(nul - p));
		c->last_scope[nul - p] = '\0';
		if (p[0] == 'o') {
			c->last_scope_ok = check_is_user(c, c->last_scope + 2);
		} else if (p[0] == 'r' || p[0] == 't') {
			rc = rove_pstore_code_get(&c->ps, c->txn, c->last_scope + 2, &tid);
			if (rc != ROVE_OK && rc != ROVE_ENOTFOUND && rc != ROVE_EPROTO)
				return rc;
			/* (a code whose value is no id: said by the codes walk) */
			c->last_scope_ok = rc != ROVE_ENOTFOUND;
		} else {
			c->last_scope_ok = false;
		}
		if (!c->last_scope_ok)
			check_problem(c, "scopelog %s %llu: names no %s", check_show(p, (size_t)(nul - p), b, sizeof(b)),
				(unsigned long long)seq,
				p[0] == 'o' ? "user" : p[0] == 'r' || p[0] == 't' ? "territory" : "kind of scope");
	}
	if (seq <= c->floor)
		return ROVE_OK; /* compacted: left for the next compaction */
	if ((rc = op_held(c, seq, &held)) != ROVE_OK)
		return rc;
	if (!held)
		check_problem(c, "scopelog %s %llu: points at no op", check_show(p, (size_t)(nul - p), b, sizeof(b)),
			(unsigned long long)seq);
	return ROVE_OK;
}

/* opids: op id(16) -> its answer. */
static int check_opid(const MDB_val *k, const MDB_val *v, void *arg)
{
	check *c = arg;
	char id[ROVE_UUID_STRLEN + 1];
	rove_push_result r;
	rove_uuid u;
	int rc;

	(void)v;
	if (k->mv_size != 16) {
		char b[160];
		check_problem(c, "opids %s: not an op id", check_show(k->mv_data, k->mv_size, b, sizeof(b)));
		return ROVE_OK;
	}
	memcpy(u.b, k->mv_data, 16);
	rove_uuid_format(&u, id);
	rc = rove_store_opid_get(&c->st, c->txn, &u, &r);
	if (rc == ROVE_EPROTO) {
		check_problem(c, "opids %s: the stored answer does not decode", id);
		return ROVE_OK;
	}
	if (rc != ROVE_OK)
		return rc;
	if (r.status != ROVE_PUSH_ACCEPTED || r.seq <= c->floor)
		return ROVE_OK;
	if (r.seq > c->head) {
		check_problem(c, "opids %s: accepted as op %llu, after the head %llu", id, (unsigned long long)r.seq,
			(unsigned long long)c->head);
		return ROVE_OK;
	}
	{
		MDB_val ov;
		rc = rove_store_oplog_raw(&c->st, c->txn, r.seq, &ov);
		if (rc == ROVE_ENOTFOUND)
			return ROVE_OK; /* said by the oplog walk */
		if (rc != ROVE_OK)
			return rc;
		if (rove_dec_op(ov.mv_data, ov.mv_size, c->op) != ROVE_OK)
			return ROVE_OK; /* said by the oplog walk */
	}
	if (rove_uuid_cmp(&c->op->op_id, &u) != 0)
		check_problem(c, "opids %s: accepted as op %llu, which is another op", id, (unsigned long long)r.seq);
	else if (c->op->st.node != c->st.node)
		c->answered++;
	return ROVE_OK;
}

/* ---- refusals and users ---- */

/* Refusal n by author is listed under its author and under each scope
 * that entry names (attack sixty-four: a territory's entries deleted
 * went unseen, and its managers no longer saw the refusals). */
static int check_listed(check *c, const char *author, uint64_t n)
{
	rove_reject_scopes *ls = malloc(sizeof(*ls));
	char b[160], a[160];
	uint64_t bytes;
	int rc;

	if (ls == NULL)
		return ROVE_ENOMEM;
	rc = rove_store_reject_author_get(&c->st, c->txn, author, n, &bytes, ls);
	if (rc == ROVE_ENOTFOUND)
		check_problem(c, "rejidx a:%s %llu: missing (the refusal's entry under its author)",
			check_show(author, strlen(author), b, sizeof(b)), (unsigned long long)n);
	for (uint32_t i = 0; rc == ROVE_OK && i < ls->n; i++) {
		bool listed = false;
		rc = rove_store_reject_listed(&c->st, c->txn, ls->s[i], n, &listed);
		if (rc == ROVE_OK && !listed)
			check_problem(c, "rejidx %s %llu: missing (refusal %llu is listed under it by its author's entry, "
				      "%s:%s)",
				check_show(ls->s[i], strlen(ls->s[i]), b, sizeof(b)), (unsigned long long)n,
				(unsigned long long)n, ls->apart ? "x" : "a", check_show(author, strlen(author), a, sizeof(a)));
	}
	free(ls);
	/* (an entry that does not decode: said by the rejidx walk) */
	return rc == ROVE_ENOTFOUND || rc == ROVE_EPROTO ? ROVE_OK : rc;
}

/* Refusal n, listed under scope (not its author's), is one its author's
 * entry names. */
static int check_lister(check *c, const char *scope, uint64_t n)
{
	rove_rejection *rj = malloc(sizeof(*rj));
	rove_reject_scopes *ls = malloc(sizeof(*ls));
	uint8_t nb[8];
	MDB_val k = {8, nb}, v;
	uint64_t bytes;
	bool named = false;
	int rc = rj == NULL || ls == NULL ? ROVE_ENOMEM : ROVE_OK;

	rove_be64_put(nb, n);
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_get(c->txn, c->st.rejects, &k, &v), "rejects");
	if (rc == ROVE_OK && rove_dec_rejection(v.mv_data, v.mv_size, rj) != ROVE_OK)
		rc = ROVE_EPROTO; /* said by the rejects walk */
	if (rc == ROVE_OK)
		rc = rove_store_reject_author_get(&c->st, c->txn, rj->op.author, n, &bytes, ls);
	for (uint32_t i = 0; rc == ROVE_OK && !named && i < ls->n; i++)
		named = strcmp(ls->s[i], scope) == 0;
	if (rc == ROVE_OK && !named) {
		char b[160];
		check_problem(c, "rejidx %s %llu: its author's entry does not list this scope",
			check_show(scope, strlen(scope), b, sizeof(b)), (unsigned long long)n);
	}
	free(rj);
	free(ls);
	/* (what is missing or does not decode: said by the other walks) */
	return rc == ROVE_ENOTFOUND || rc == ROVE_EPROTO ? ROVE_OK : rc;
}

static int check_reject(const MDB_val *k, const MDB_val *v, void *arg)
{
	check *c = arg;
	rove_rejection *rj = malloc(sizeof(*rj));
	char b[160];

	if (rj == NULL)
		return ROVE_ENOMEM;
	if (k->mv_size != 8)
		check_problem(c, "rejects %s: not a number", check_show(k->mv_data, k->mv_size, b, sizeof(b)));
	else if (rove_dec_rejection(v->mv_data, v->mv_size, rj) != ROVE_OK)
		check_problem(c, "rejects %llu: the stored refusal does not decode",
			(unsigned long long)rove_be64_get(k->mv_data));
	else if (!check_is_user(c, rj->op.author))
		check_problem(c, "rejects %llu: made by %s, who is not a user", (unsigned long long)rove_be64_get(k->mv_data),
			check_show(rj->op.author, strlen(rj->op.author), b, sizeof(b)));
	else {
		size_t i = 0;
		int rc = check_listed(c, rj->op.author, rove_be64_get(k->mv_data));
		if (rc != ROVE_OK) {
			free(rj);
			return rc;
		}
		while (i < c->nrej && strcmp(c->rej[i].author, rj->op.author) != 0)
			i++;
		if (i == c->nrej) {
			struct rej_count *p = rove_array_room(c->rej, c->nrej, &c->rejcap, sizeof(*p));
			if (p == NULL) {
				free(rj);
				return ROVE_ENOMEM;
			}
			c->rej = p;
			snprintf(c->rej[i].author, sizeof(c->rej[i].author), "%s", rj->op.author);
			c->rej[c->nrej++].n = 0;
		}
		c->rej[i].n++;
	}
	free(rj);
	return ROVE_OK;
}

/* rejidx: scope NUL number(8) -> empty, or under the author's scope
 * what rove_store_reject_author_dec takes. */
static int check_rejidx(const MDB_val *k, const MDB_val *v, void *arg)
{
	check *c = arg;
	const uint8_t *p = k->mv_data;
	const uint8_t *nul = memchr(p, 0, k->mv_size);
	char b[160], scope[ROVE_MAX_SCOPE_LEN + 1];
	rove_reject_scopes *ls = NULL;
	uint64_t n, bytes;
	bool held = false, author, valued;
	int rc;

	if (nul == NULL || (size_t)(nul - p) > ROVE_MAX_SCOPE_LEN || k->mv_size - (size_t)(nul - p) - 1 != 8) {
		check_problem(c, "rejidx %s: not a scope and a number", check_show(p, k->mv_size, b, sizeof(b)));
		return ROVE_OK;
	}
	memcpy(scope, p, (size_t)(nul - p));
	scope[nul - p] = '\0';
	n = rove_be64_get(nul + 1);
	author = nul - p > 2 && (p[0] == 'a' || p[0] == 'x') && p[1] == ':';
	if (author && (ls = malloc(sizeof(*ls))) == NULL)
		return ROVE_ENOMEM;
	valued = author ? rove_store_reject_author_dec(v, &bytes, ls) == ROVE_OK : v->mv_size == 0;
	free(ls);
	if (!valued)
		check_problem(c, "rejidx %s %llu: a value of %zu byte(s), %s", check_show(scope, strlen(scope), b, sizeof(b)),
			(unsigned long long)n, v->mv_size,
			author ? "not a size and the scopes the refusal is listed under" : "where none is kept");
	if ((rc = rove_store_reject_has(&c->st, c->txn, n, &held)) != ROVE_OK)
		return rc;
	if (!held)
		check_problem(c, "rejidx %s %llu: points at no refusal", check_show(scope, strlen(scope), b, sizeof(b)),
			(unsigned long long)n);
	else if (!author)
		rc = check_lister(c, scope, n);
	return rc;
}

/* users: login -> the user. A user whose entry does not decode is still
 * one: what names them is not blamed for it (attack sixty-two: a garbled
 * user stopped the walk, and every op of the users after it was "made by
 * a user who is not"). */
static int check_user(const MDB_val *k, const MDB_val *v, void *arg)
{
	check *c = arg;
	rove_user u;
	uint8_t hash[ROVE_HASH_BYTES];
	char login[ROVE_MAX_NAME + 1], b[160];
	char (*p)[ROVE_MAX_NAME + 1];
	int rc;

	(void)v;
	if (k->mv_size == 0 || k->mv_size > ROVE_MAX_NAME || memchr(k->mv_data, 0, k->mv_size) != NULL) {
		check_problem(c, "users %s: not a login", check_show(k->mv_data, k->mv_size, b, sizeof(b)));
		return ROVE_OK;
	}
	memcpy(login, k->mv_data, k->mv_size);
	login[k->mv_size] = '\0';
	p = rove_array_room(c->users, c->nusers, &c->userscap, sizeof(*p));
	if (p == NULL)
		return ROVE_ENOMEM;
	c->users = p;
	snprintf(c->users[c->nusers++], ROVE_MAX_NAME + 1, "%s", login);
	rc = rove_store_user_get(&c->st, c->txn, login, &u, hash);
	if (rc == ROVE_EPROTO) {
		check_problem(c, "users %s: the stored user does not decode", check_show(login, strlen(login), b, sizeof(b)));
		return ROVE_OK;
	}
	return rc;
}

/* The counters of each user's refusals say how many are kept. */
static int check_reject_counts(check *c)
{
	for (size_t i = 0; i < c->nusers; i++) {
		rove_reject_usage u;
		uint64_t kept = 0;
		int rc = rove_store_reject_usage(&c->st, c->txn, c->users[i], &u);
		if (rc == ROVE_EPROTO) {
			check_problem(c, "counters rejects:%s: does not decode", c->users[i]);
			continue;
		}
		if (rc != ROVE_OK)
			return rc;
		for (size_t j = 0; j < c->nrej; j++)
			if (strcmp(c->rej[j].author, c->users[i]) == 0)
				kept = c->rej[j].n;
		if (u.count != kept)
			check_problem(c, "counters rejects:%s: %llu refusal(s) counted, %llu kept (the bound on them is off)",
				c->users[i], (unsigned long long)u.count, (unsigned long long)kept);
	}
	return ROVE_OK;
}

/* runs: n(8) -> start(8) id(16), starts rising, none past the head's
 * next; and at least one once the server wrote ops (replicas name runs
 * to tell this history from a restored copy's). */
typedef struct runs_walk {
	check *c;
	uint64_t n, last_start;
} runs_walk;

static int check_run(const MDB_val *k, const MDB_val *v, void *arg)
{
	runs_walk *w = arg;
	check *c = w->c;
	char b[160];
	uint64_t start;

	if (k->mv_size != 8 || v->mv_size != 24) {
		check_problem(c, "runs %s: not a run", check_show(k->mv_data, k->mv_size, b, sizeof(b)));
		return ROVE_OK;
	}
	start = rove_be64_get(v->mv_data);
	if (start < w->last_start || start > c->head + 1)
		check_problem(c, "runs %llu: starts at %llu, %s", (unsigned long long)rove_be64_get(k->mv_data),
			(unsigned long long)start, start > c->head + 1 ? "after the head" : "before the run before it");
	w->last_start = start;
	w->n++;
	return ROVE_OK;
}

/* The admin answers kept (store_admreq.c): each entry of their order
 * (admage) has its answer in admreqs, of the size it says; both hold as
 * many; the counter of their bytes is the sum. */
typedef struct adm_walk {
	check *c;
	uint64_t n, bytes;
} adm_walk;

static int check_admreq(uint64_t n, uint64_t size, int64_t held, void *arg)
{
	adm_walk *w = arg;

	w->n++;
	w->bytes += size;
	if (held == ROVE_ADMREQ_DAMAGED)
		check_problem(w->c, "admage %llu: does not decode", (unsigned long long)n);
	else if (held < 0)
		check_problem(w->c, "admage %llu: its answer is not in admreqs", (unsigned long long)n);
	else if ((uint64_t)held != size)
		check_problem(w->c, "admreqs: an answer of %lld bytes, admage %llu says %llu", (long long)held,
			(unsigned long long)n, (unsigned long long)size);
	return ROVE_OK;
}

static int check_admin_answers(check *c)
{
	adm_walk w = {c, 0, 0};
	MDB_stat ms;
	uint64_t listed = 0, counted = 0;
	int rc;

	if (!c->st.has_admreqs)
		return ROVE_OK; /* made by a roved from before them */
	rc = rove_store_admreq_each(&c->st, c->txn, check_admreq, &w);
	if (rc == ROVE_OK)
		rc = rove_db_err(mdb_stat(c->txn, c->st.admreqs, &ms), "admreqs");
	if (rc == ROVE_OK && ms.ms_entries != w.n)
		check_problem(c, "admreqs: %llu answer(s), admage lists %llu", (unsigned long long)ms.ms_entries,
			(unsigned long long)w.n);
	if (rc == ROVE_OK)
		rc = rove_store_admreq_usage(&c->st, c->txn, &listed, &counted);
	if (rc == ROVE_EPROTO || rc == ROVE_EDB) {
		check_problem(c, "counters admreqs:bytes: does not decode");
		rc = ROVE_OK;
	} else if (rc == ROVE_OK && counted != w.bytes) {
		check_problem(c, "counters admreqs:bytes: %llu byte(s) counted, %llu kept (the bound on them is off)",
			(unsigned long long)counted, (unsigned long long)w.bytes);
	}
	return rc;
}

/* A fault in the file's pages (rove_db_pages_check), as a problem. */
static void page_fault(void *arg, const uint64_t *page, bool free_list, const char *what)
{
	(void)free_list; /* damage either way: a writer hands out what the free list says */
	if (page == NULL)
		check_problem(arg, "pages: %s", what);
	else
		check_problem(arg, "pages %llu: %s", (unsigned long long)*page, what);
}

/* The file's pages, walked from c->txn's meta page before LMDB follows
 * them: a free list naming a page in use (which LMDB reads clean and a
 * writer then overwrites), pages two trees hold, and pages lost. The
 * walk may renew c->txn (a writer committed twice as it began): *txnid
 * follows it. */
static int check_pages(check *c, uint64_t *txnid)
{
	uint64_t npages = 0;
	int rc = rove_db_pages_check(c->st.env, c->txn, 0 /* roved's tables: plain */, page_fault, c, &npages);

	*txnid = (uint64_t)mdb_txn_id(c->txn);
	if (rc == ROVE_ECHANGED) {
		rove_warn("the pages of the database were not walked: a server committed while each of %d walks began",
			  ROVE_PAGE_WALK_TRIES);
		rc = ROVE_OK;
	}
	return rc;
}

/* The pages of the database in dir, which the store could not open: its
 * environment opened alone, its pages walked, the faults said as
 * problems (what could not be opened is the caller's to say). */
static void walk_unopened(const char *dir, check *c)
{
	enum rove_db_access access;
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	uint64_t npages = 0;

	if (rove_db_open_any(dir, 0, ROVE_SERVER_MAPSIZE, &env, &access) != ROVE_OK)
		return;
	if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) == 0) {
		int rc = rove_db_pages_check(env, txn, 0, page_fault, c, &npages);
		if (rc != ROVE_OK && rc != ROVE_ECHANGED)
			check_problem(c, "pages: not walked: %s", rove_strerror(rc));
		mdb_txn_abort(txn);
	}
	mdb_env_close(env);
}

/* Walks the store's table (rove_store_walk_raw), or with table NULL the
 * policy's dbi (its own storage), raw: a damaged table is a problem. */
static int walk(check *c, const char *table, MDB_dbi dbi, const char *what, rove_db_fn fn)
{
	int rc = table != NULL ? rove_store_walk_raw(&c->st, c->txn, table, fn, c)
			       : rove_db_each(c->txn, dbi, what, fn, c);

	if (rc == ROVE_EPROTO) {
		check_problem(c, "%s: damaged; the walk stopped", what);
		rc = ROVE_OK;
	}
	return rc;
}

/* ---- a database read without its lock file ----
 * Without LMDB's lock file (a user who may read the files but not it, or
 * a read-only mount) this reader is in no readers' table: a server
 * writing meanwhile may reuse the pages being read. What such a read
 * finds wrong may be a writer's new pages, not damage (attack
 * forty-six: hundreds of invented problems, then LMDB's assertions,
 * exit 134, on a healthy serving database): the problems are held until
 * the end and said only if nothing changed meanwhile; an error, and an
 * assertion of LMDB's, are said as the change when there was one. */
static struct {
	const char *dir;
	MDB_env *env;
	uint64_t txnid; /* the read transaction's; 0: none yet */
	bool unlocked;
	FILE *held, *out; /* held: the problems not yet said, to go to out */
	char **buf;
	size_t *len;
} reading;

static void say_changed(const char *dir)
{
	rove_error("'%s' changed while it was read without its lock file (a server writing to it): what was read "
		   "may be torn; check it as the server's user, or check a backup",
		   dir);
}

/* Whether what was read may be torn: read without the lock file while a
 * writer committed past the read's snapshot (rove_db_changed_since). */
static bool torn(void)
{
	return reading.env != NULL && reading.unlocked && reading.txnid != 0 &&
	       rove_db_changed_since(reading.env, reading.txnid);
}

/* The problems held, to out (and the hold ended). */
static void release_held(void)
{
	if (reading.held == NULL)
		return;
	if (fclose(reading.held) == 0 && *reading.len > 0)
		fwrite(*reading.buf, 1, *reading.len, reading.out);
	reading.held = NULL;
}

/* The end of a check that cannot go on: after a writer's change read
 * without the lock, that is said; else the problems found so far, then
 * that the database is damaged (what stopped it: what), and exit 1. */
static void stop_damaged(const char *what)
{
	rove_log_hold(NULL, 0);
	if (torn()) {
		say_changed(reading.dir);
	} else {
		release_held();
		fflush(reading.out);
		rove_error("'%s' is damaged: %s; restore a backup", reading.dir, what);
	}
	fflush(stderr);
	_exit(1);
}

/* LMDB's assertion (a page that cannot be): instead of its abort. */
static void check_assert(MDB_env *env, const char *msg)
{
	char what[ROVE_MAX_ERRMSG];

	(void)env;
	snprintf(what, sizeof(what), "LMDB stopped at an impossible page (%s)", msg);
	stop_damaged(what);
}

/* A fault reading the map: LMDB follows a damaged page's numbers without
 * checking them all (attack forty-seven: 10 of 150 copies with random
 * bytes written over died of SIGSEGV or SIGBUS). Only the map is read
 * when it happens, so saying it and exiting is safe enough. */
static void check_fault(int sig)
{
	stop_damaged(sig == SIGBUS   ? "reading it faulted past the file's end (SIGBUS)"
		     : sig == SIGFPE ? "a meta page gives a page size of 0 (SIGFPE)"
				     : "reading it faulted on a damaged page (SIGSEGV)");
}

int rove_check(const char *dir, FILE *out, uint64_t *problems)
{
	rove_db_table more[ROVE_PSTORE_TABLES];
	enum rove_db_access access;
	bool lost = false;
	char *held = NULL, first_err[ROVE_MAX_ERRMSG] = "";
	size_t nheld = 0;
	struct sigaction fault, old_segv, old_bus, old_fpe;
	check c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.out = out;
	*problems = 0;
	memset(&reading, 0, sizeof(reading));
	reading.dir = dir;
	reading.out = out;
	reading.buf = &held;
	reading.len = &nheld;
	memset(&fault, 0, sizeof(fault));
	fault.sa_handler = check_fault;
	sigemptyset(&fault.sa_mask);
	fault.sa_flags = SA_RESETHAND; /* a fault in the handler: the default */
	(void)sigaction(SIGSEGV, &fault, &old_segv);
	(void)sigaction(SIGBUS, &fault, &old_bus);
	(void)sigaction(SIGFPE, &fault, &old_fpe);
	/* Read only: a copy the user may not write is checked all the same. */
	rc = rove_store_open_ro(dir, &c.st, more, rove_pstore_tables(&c.ps, more), &access);
	if (rc == ROVE_EDB) {
		/* LMDB failed on the tables themselves: the pages say where
		 * (attack fifty-two: a main tree's root past the file gave only
		 * "storage error") */
		walk_unopened(dir, &c);
		*problems = c.problems;
	}
	if (rc != ROVE_OK) {
		(void)sigaction(SIGSEGV, &old_segv, NULL);
		(void)sigaction(SIGBUS, &old_bus, NULL);
		(void)sigaction(SIGFPE, &old_fpe, NULL);
		return rc;
	}
	reading.env = c.st.env;
	reading.unlocked = access == ROVE_DB_READ_ROFS || access == ROVE_DB_READ_UNLOCKED;
	(void)mdb_env_set_assert(c.st.env, check_assert);
	if (reading.unlocked && (reading.held = open_memstream(&held, &nheld)) != NULL)
		c.out = reading.held;
	/* The errors the store logs on the way (a damaged record, read again
	 * by each walk that meets it: attack sixty-two saw one said 15 times)
	 * are held: the problems say what is damaged, once each. Read
	 * without the lock, a writer's page may fail to decode too. */
	rove_log_hold(first_err, sizeof(first_err));
	c.rec = malloc(sizeof(*c.rec));
	c.other = malloc(sizeof(*c.other));
	c.op = malloc(sizeof(*c.op));
	if (c.rec == NULL || c.other == NULL || c.op == NULL || (reading.unlocked && reading.held == NULL))
		rc = ROVE_ENOMEM;
	if (rc == ROVE_OK)
		rc = rove_store_begin(&c.st, NULL, false, &c.txn);
	if (rc == ROVE_OK)
		reading.txnid = (uint64_t)mdb_txn_id(c.txn);
	if (rc == ROVE_OK)
		rc = check_pages(&c, &reading.txnid);
	if (rc == ROVE_OK)
		rc = rove_pstore_open_ro(&c.ps, &c.st, c.txn, &lost);
	if (rc == ROVE_OK && lost)
		check_problem(&c, "bydealer: missing, though meta says it is whole (roved serve makes it again)");
	/* The marks of the indexes' forms: one that is no number is made
	 * anew with its index when roved serve opens the database. */
	for (size_t i = 0; rc == ROVE_OK && i < 2; i++) {
		const char *key = i == 0 ? ROVE_PSTORE_UNIQ_FORM_KEY : ROVE_PSTORE_BYDEALER_FORM_KEY;
		uint64_t v;
		if (rove_store_meta_get(&c.st, c.txn, key, &v) == ROVE_EPROTO)
			check_problem(&c, "meta %s: not a number of 8 bytes (roved serve makes its index anew)", key);
	}
	if (rc == ROVE_OK)
		rc = walk(&c, "users", 0, "users", check_user);
	if (rc == ROVE_OK) {
		uint64_t nops = 0;
		rc = rove_store_oplog_count(&c.st, c.txn, &nops);
		for (c.nwcap = 64; rc == ROVE_OK && c.nwcap < 2 * nops + 2;)
			c.nwcap *= 2;
		if (rc == ROVE_OK && (c.nw = calloc(c.nwcap, sizeof(*c.nw))) == NULL)
			rc = ROVE_ENOMEM;
	}
	if (rc == ROVE_OK)
		rc = rove_store_head(&c.st, c.txn, &c.head);
	if (rc == ROVE_OK)
		rc = rove_store_floor(&c.st, c.txn, &c.floor);
	if (rc == ROVE_OK && c.floor > c.head)
		check_problem(&c, "meta floor: %llu, after the head %llu", (unsigned long long)c.floor,
			(unsigned long long)c.head);
	c.next_seq = c.floor + 1;
	if (rc == ROVE_OK) {
		rc = rove_store_each_op(&c.st, c.txn, 0, check_op, &c);
		if (rc == ROVE_EPROTO) {
			check_problem(&c, "oplog: damaged; the walk stopped");
			rc = ROVE_OK;
		}
	}
	if (rc == ROVE_OK)
		rc = walk(&c, "records", 0, "records", check_record);
	/* Every stamp held is at or before the stored clock: else the server
	 * would stamp new ops before old ones, and they would lose. */
	if (rc == ROVE_OK) {
		rove_hlc clock;
		uint64_t v = 0;
		bool missing = rove_store_meta_get(&c.st, c.txn, "clock", &v) == ROVE_ENOTFOUND;
		if (missing && c.max_hlc > 0)
			check_problem(&c, "meta clock: missing, yet stamps up to %llu are held (new ops would be stamped "
				    "by the wall clock alone, before old ones if it is behind)",
				(unsigned long long)c.max_hlc);
		rc = rove_store_clock_get(&c.st, c.txn, &clock);
		if (rc == ROVE_OK && !missing && clock.v < c.max_hlc)
			check_problem(&c, "meta clock: %llu, before the newest stamp held %llu (new ops would be stamped "
				    "before old ones)",
				(unsigned long long)clock.v, (unsigned long long)c.max_hlc);
		if (rc == ROVE_EPROTO || rc == ROVE_EDB) {
			check_problem(&c, "meta clock: does not decode");
			rc = ROVE_OK;
		}
	}
	/* The key of proofs of the clock: absent (roved serve makes it) or
	 * whole; a damaged one is replaced at the next start. */
	if (rc == ROVE_OK) {
		uint8_t key[ROVE_PROOF_KEY];
		rc = rove_store_proof_key_get(&c.st, c.txn, key);
		if (rc == ROVE_EPROTO)
			check_problem(&c,
				      "meta %s: not a key of %d random bytes (the wrong size, or zeros; roved serve makes "
				      "a new one; proofs of the clock given before count for nothing)",
				      ROVE_STORE_PROOF_KEY, ROVE_PROOF_KEY);
		if (rc == ROVE_EPROTO || rc == ROVE_ENOTFOUND)
			rc = ROVE_OK;
	}
	if (rc == ROVE_OK)
		rc = walk(&c, "scoperec", 0, "scoperec", check_scoped);
	if (rc == ROVE_OK)
		rc = walk(&c, "children", 0, "children", check_child);
	if (rc == ROVE_OK)
		rc = walk(&c, NULL, c.ps.uniq, "uniq", check_uniq);
	if (rc == ROVE_OK)
		rc = walk(&c, NULL, c.ps.codes, "codes", check_code);
	if (rc == ROVE_OK && c.ps.has_bydealer)
		rc = walk(&c, NULL, c.ps.bydealer, "bydealer", check_bydealer);
	if (rc == ROVE_OK)
		rc = walk(&c, "scopelog", 0, "scopelog", check_scopelog);
	if (rc == ROVE_OK)
		rc = walk(&c, "opids", 0, "opids", check_opid);
	if (rc == ROVE_OK && c.answered != c.client_ops)
		rc = rove_store_each_op(&c.st, c.txn, c.floor, check_answered, &c);
	if (rc == ROVE_EPROTO)
		rc = ROVE_OK; /* said by the oplog walk */
	/* The server's own ops (stamped with its node) have no answers: a
	 * node no op carries, while every op without one shares another,
	 * is most likely the node damaged (attack sixty-four: only the
	 * opids were named). */
	if (rc == ROVE_OK && c.server_ops == 0 && c.unanswered > 1 && c.unanswered_one)
		check_problem(&c,
			      "meta node: %016llx, which no op carries, while the %llu ops without an answer all carry "
			      "%016llx: if the server made them, its node is damaged",
			      (unsigned long long)c.st.node, (unsigned long long)c.unanswered,
			      (unsigned long long)c.unanswered_node);
	if (rc == ROVE_OK)
		rc = walk(&c, "rejects", 0, "rejects", check_reject);
	if (rc == ROVE_OK)
		rc = walk(&c, "rejidx", 0, "rejidx", check_rejidx);
	if (rc == ROVE_OK)
		rc = check_reject_counts(&c);
	if (rc == ROVE_OK)
		rc = check_admin_answers(&c);
	if (rc == ROVE_OK) {
		runs_walk rw = {&c, 0, 0};
		rc = rove_store_walk_raw(&c.st, c.txn, "runs", check_run, &rw);
		if (rc == ROVE_EPROTO) {
			check_problem(&c, "runs: damaged; the walk stopped");
			rc = ROVE_OK;
		} else if (rc == ROVE_OK && rw.n == 0 && c.head > 0) {
			check_problem(&c, "runs: none, yet the server wrote %llu op(s) (replicas could not tell this history "
				    "from a restored copy's)",
				(unsigned long long)c.head);
		}
	}
	/* Whatever was found, a torn read is said as such (its problems and
	 * errors may be a writer's pages). */
	rove_log_hold(NULL, 0);
	if (torn()) {
		say_changed(dir);
		c.problems = 0;
		rc = ROVE_ECHANGED;
	} else {
		/* An error held: said when the check failed; a problem when
		 * no walk named what it met (never "consistent" after one). */
		if (first_err[0] != '\0' && rc != ROVE_OK)
			rove_error("%s", first_err);
		else if (first_err[0] != '\0' && c.problems == 0)
			check_problem(&c, "met on the way, in no walk's table: %s", first_err);
		release_held();
	}
	(void)sigaction(SIGSEGV, &old_segv, NULL);
	(void)sigaction(SIGBUS, &old_bus, NULL);
	(void)sigaction(SIGFPE, &old_fpe, NULL);
	/* A table or record that the database's own pages point at and that
	 * is not there: damage, not "no database" (attack forty-seven). */
	if (rc == ROVE_ENOTFOUND)
		rc = ROVE_EPROTO;
	if (reading.held != NULL) {
		fclose(reading.held);
		reading.held = NULL;
	}
	free(held);
	if (rc == ROVE_OK)
		say_unlisted(&c, out);
	rove_store_abort(c.txn);
	rove_store_close(&c.st);
	free(c.rec);
	free(c.other);
	free(c.op);
	free(c.users);
	free(c.nw);
	free(c.rej);
	*problems = c.problems;
	return rc;
}
