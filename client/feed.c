/* feed.c - a PostgreSQL schema kept in step with a replica (see feed.h). */
#include "feed.h"

#include "buf.h"
#include "err.h"
#include "feed_pq.h"
#include "hash.h"
#include "log.h"
#include "proto.h"
#include "rove_assert.h"
#include "schema.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The record kinds fed, one table each, in the order a round walks them
 * (collection order: SPEC.md's names). Notices are one user's messages,
 * not HQ's data. */
static const uint8_t kinds[] = {
	ROVE_COLL_CUSTOMER, ROVE_COLL_CONTACT, ROVE_COLL_CONTRACT, ROVE_COLL_OPPORTUNITY, ROVE_COLL_ACTIVITY,
	ROVE_COLL_DEALER,   ROVE_COLL_TARGET,  ROVE_COLL_TERRITORY, ROVE_COLL_OWNERSHIP,
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

/* The schema's version this rove makes: the steps below, 1..this. */
#define FEED_SCHEMA_VERSION 2

/* pg_advisory_lock's key for "a feed writes this database": any fixed
 * number no other program picks; this one spells "rovefeed". */
#define FEED_LOCK_KEY "8245937502958945636"

/* What PostgreSQL holds of one record: its id, the digest of the replica
 * record its row was made from, and whether there is a row (a deleted
 * record has none; its digest is kept so it is not read again). */
typedef struct feed_ent {
	rove_uuid id;
	uint64_t digest;
	bool row;
} feed_ent;

/* One kind's entries in id order (the order of the replica's keys and of
 * PostgreSQL's uuid comparison alike). */
typedef struct feed_set {
	feed_ent *v;
	size_t n, cap;
} feed_set;

struct rove_feed {
	PGconn *pg;
	bool valid;       /* have[] is what PostgreSQL committed; the schema is made */
	bool tx_open;     /* make_schema left its transaction to the round */
	uint64_t version; /* the replica version fed last (valid) */
	feed_set have[NKINDS];
	rove_record *rec; /* scratch for decoding */
	/* The position PostgreSQL holds (rove_feed_position; valid): which
	 * replica fed it, and how far. */
	bool fed;
	rove_uuid fed_replica;
	char fed_user[ROVE_MAX_NAME + 1];
	uint64_t fed_cursor;
	/* Where an error the caller waits out goes instead of the log (the
	 * call's why, whylen; see rove_feed_connect). */
	char *why;
	size_t whylen;
};

/* Reports an error: logged, or, when it is one the caller waits out
 * (ROVE_EUNREACH, ROVE_EBUSY, ROVE_EHISTORY), written into f->why for
 * the caller to say when it sees fit (a feed waiting out an outage says
 * so once, not every interval). */
static void say(rove_feed *f, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(rove_feed *f, int rc, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if ((rc == ROVE_EUNREACH || rc == ROVE_EBUSY || rc == ROVE_EHISTORY) && f->why != NULL && f->whylen > 0)
		snprintf(f->why, f->whylen, "%s", line);
	else
		rove_error("%s", line);
}

/* ---- PostgreSQL ---- */

/* Ignores the server's notices ("relation already exists, skipping"). */
static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* What to do about an error that retrying will not mend, by SQLSTATE
 * (NULL: PostgreSQL's message says it all). */
static const char *pg_hint(const char *state)
{
	if (strcmp(state, "42501") == 0)
		return "grant the feed's role SELECT, INSERT, UPDATE and DELETE on the feed's tables and CREATE on "
		       "their schema (docs/OPERATIONS.md)";
	if (strcmp(state, "25006") == 0)
		return "the database is read-only (a standby, or default_transaction_read_only): point the feed "
		       "at a writable server";
	if (strcmp(state, "53100") == 0)
		return "PostgreSQL's disk is full: free space there";
	if (strcmp(state, "57014") == 0 || strcmp(state, "55P03") == 0)
		return "a statement_timeout or lock_timeout may have cut the round short: raise it for the feed's role";
	if (strcmp(state, "0A000") == 0 || strcmp(state, "2BP01") == 0)
		return "drop what depends on it (or drop the table: the feed rebuilds it), then start the feed again";
	return NULL;
}

/* Whether an error (SQLSTATE) goes by itself: the connection or the
 * server going away, or a conflict with another session that the next
 * try does not meet. Anything else (privileges, a full disk, a type, a
 * constraint, a missing table) may come back however often the round is
 * tried - a cancelled statement and a lock not granted too, which a
 * statement_timeout or lock_timeout of the feed's role makes again each
 * time, and memory that a round of the same size lacks again. */
static bool pg_transient(const char *state)
{
	static const char *const states[] = {
		"40001", /* serialization_failure */
		"40P01", /* deadlock_detected */
		"57P01", /* admin_shutdown */
		"57P02", /* crash_shutdown */
		"57P03", /* cannot_connect_now */
		"53300", /* too_many_connections */
	};

	if (strncmp(state, "08", 2) == 0) /* connection_exception */
		return true;
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (strcmp(state, states[i]) == 0)
			return true;
	return false;
}

/* The error of a failed statement (what: what was being done, naming
 * its table), reported with PostgreSQL's message, its detail and what to
 * do. ROVE_EUNREACH when the connection is gone, ROVE_EBUSY when the
 * error may go by itself (pg_transient), ROVE_EIO when it will not. */
static int pg_fail(rove_feed *f, const PGresult *res, const char *what)
{
	const char *state = res != NULL ? feed_pq.PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res != NULL ? feed_pq.PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail = res != NULL ? feed_pq.PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	const char *hint = NULL;
	char line[512], more[512] = "";
	int rc;

	if (msg == NULL || msg[0] == '\0')
		msg = feed_pq.PQerrorMessage(f->pg);
	snprintf(line, sizeof(line), "%s", msg != NULL && msg[0] != '\0' ? msg : "unknown error");
	line[strcspn(line, "\n")] = '\0';
	if (feed_pq.PQstatus(f->pg) == CONNECTION_BAD || state == NULL) {
		rc = ROVE_EUNREACH;
	} else if (pg_transient(state)) {
		rc = strncmp(state, "57P0", 4) == 0 || strncmp(state, "08", 2) == 0 ? ROVE_EUNREACH : ROVE_EBUSY;
	} else {
		rc = ROVE_EIO;
		hint = pg_hint(state);
	}
	if (detail != NULL && detail[0] != '\0')
		snprintf(more, sizeof(more), " (%.*s)", (int)strcspn(detail, "\n"), detail);
	say(f, rc, "postgresql: %s: %s%s%s%s", what, line, more, hint != NULL ? "; " : "", hint != NULL ? hint : "");
	return rc;
}

/* Runs a statement that returns no rows (want PGRES_COMMAND_OK) or rows
 * (PGRES_TUPLES_OK: *out gets the result, the caller's to PQclear). */
static int pg_run(rove_feed *f, const char *sql, int nparams, const char *const *params, PGresult **out,
		  const char *what)
{
	PGresult *res = nparams > 0 ? feed_pq.PQexecParams(f->pg, sql, nparams, NULL, params, NULL, NULL, 0)
				    : feed_pq.PQexec(f->pg, sql);
	ExecStatusType s = res != NULL ? feed_pq.PQresultStatus(res) : PGRES_FATAL_ERROR;
	int rc = ROVE_OK;

	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
		rc = pg_fail(f, res, what);
	if (rc == ROVE_OK && out != NULL) {
		*out = res;
		return ROVE_OK;
	}
	if (res != NULL)
		feed_pq.PQclear(res);
	return rc;
}

static int pg_exec(rove_feed *f, const char *sql, const char *what)
{
	return pg_run(f, sql, 0, NULL, NULL, what);
}

/* Ends a transaction that failed, if the connection still stands. */
static void pg_rollback(rove_feed *f)
{
	if (feed_pq.PQstatus(f->pg) == CONNECTION_OK) {
		PGresult *res = feed_pq.PQexec(f->pg, "ROLLBACK");
		if (res != NULL)
			feed_pq.PQclear(res);
	}
}

/* COPY tbl (cols) FROM STDIN with the rows in data (COPY's text form). */
static int pg_copy(rove_feed *f, const char *copy_sql, const rove_buf *data, const char *what)
{
	PGresult *res = feed_pq.PQexec(f->pg, copy_sql);
	int rc = ROVE_OK;

	if (res == NULL || feed_pq.PQresultStatus(res) != PGRES_COPY_IN) {
		rc = pg_fail(f, res, what);
		if (res != NULL)
			feed_pq.PQclear(res);
		return rc;
	}
	feed_pq.PQclear(res);
	ROVE_ASSERT(data->len <= (size_t)INT32_MAX);
	if (feed_pq.PQputCopyData(f->pg, data->data, (int)data->len) != 1 ||
	    feed_pq.PQputCopyEnd(f->pg, NULL) != 1)
		rc = pg_fail(f, NULL, what);
	/* Every result of the COPY, the last one NULL. */
	while ((res = feed_pq.PQgetResult(f->pg)) != NULL) {
		if (rc == ROVE_OK && feed_pq.PQresultStatus(res) != PGRES_COMMAND_OK)
			rc = pg_fail(f, res, what);
		feed_pq.PQclear(res);
	}
	return rc;
}

/* ---- the tables, from the schema ---- */

/* A field's column type, as PostgreSQL's format_type() spells it (which
 * is valid in DDL too): what make_tables compares with the table's. */
static const char *sql_type(const rove_field_def *fd)
{
	switch (fd->type) {
	case ROVE_FT_MONEY:
	case ROVE_FT_INT:
		return "bigint";
	case ROVE_FT_DATE:
		return "date";
	case ROVE_FT_TIME:
		return "timestamp with time zone";
	case ROVE_FT_REF:
		return "uuid";
	case ROVE_FT_BOOL:
		return "boolean";
	case ROVE_FT_STR:
	case ROVE_FT_ENUM:
	case ROVE_FT_CODE:
	case ROVE_FT_LOGIN:
	case ROVE_FT_MONTH:
	case ROVE_FT_TAXID:
	case ROVE_FT_PHONE:
	case ROVE_FT_EMAIL:
		return "text";
	}
	ROVE_ASSERT(!"a field type without a column type");
	return "text";
}

/* Whether a field is a column: what JSON shows (hidden fields are not). */
static bool is_column(const rove_field_def *fd)
{
	return (fd->flags & ROVE_FF_HIDDEN) == 0;
}

/* Appends a NUL-terminated string to b (kept NUL-terminated). */
static int put(rove_buf *b, const char *s)
{
	int rc = rove_buf_append(b, s, strlen(s) + 1);

	if (rc == ROVE_OK)
		b->len--; /* the NUL stays after the end */
	return rc;
}

/* Column i of a kind's table, 0 <= i < nfields + 2: id, the fields that
 * are columns, rove_digest. False for a hidden field (no column). The
 * constraint is what a column added to the table gets. */
static bool table_column(const rove_coll_def *c, size_t i, const char **name, const char **type,
			 const char **constraint)
{
	*constraint = "";
	if (i == 0) {
		*name = "id";
		*type = "uuid";
		*constraint = " PRIMARY KEY";
	} else if (i == c->nfields + 1) {
		*name = "rove_digest";
		*type = "bigint";
		*constraint = " NOT NULL";
	} else {
		if (!is_column(&c->fields[i - 1]))
			return false;
		*name = c->fields[i - 1].name;
		*type = sql_type(&c->fields[i - 1]);
	}
	return true;
}

/* The views, in the order they are made (each reads those before it).
 * They read the open deals as `rove report pipeline` does: stages lead
 * to negotiation (no stage is a lead), of live customers; a deal is
 * credited to its owner, else (a deal from before deals had owners) to
 * its customer's owner (rule 14). */
static const struct {
	const char *name;
	const char *sql; /* AS ... */
} views[] = {
	{"deal", "SELECT o.*, coalesce(o.stage, 'lead') AS funnel_stage,"
		 "  coalesce(o.stage, 'lead') IN ('lead', 'qualified', 'proposal', 'negotiation') AS open,"
		 "  coalesce(nullif(o.owner, ''), c.owner) AS rep, c.territory AS territory"
		 " FROM opportunity o JOIN customer c ON c.id = o.customer"},
	{"pipeline_by_stage",
	 "SELECT funnel_stage AS stage,"
	 "  array_position(ARRAY['lead','qualified','proposal','negotiation']::text[], funnel_stage) AS stage_order,"
	 "  count(*) AS count, coalesce(sum(amount), 0)::bigint AS amount"
	 " FROM deal WHERE open GROUP BY funnel_stage"},
	{"pipeline_by_owner",
	 "SELECT coalesce(rep, '(pool)') AS rep, count(*) AS count, coalesce(sum(amount), 0)::bigint AS amount"
	 " FROM deal WHERE open GROUP BY coalesce(rep, '(pool)')"},
	{"pipeline_by_territory", "SELECT coalesce(territory, '(none)') AS territory, count(*) AS count,"
				  "  coalesce(sum(amount), 0)::bigint AS amount"
				  " FROM deal WHERE open GROUP BY coalesce(territory, '(none)')"},
	{"pipeline_by_month", "SELECT date_trunc('month', expected_close)::date AS month, funnel_stage AS stage,"
			      "  count(*) AS count, coalesce(sum(amount), 0)::bigint AS amount"
			      " FROM deal WHERE open GROUP BY 1, 2"},
	{"won_by_month", "SELECT date_trunc('month', closed_on)::date AS month, rep, count(*) AS count,"
			 "  coalesce(sum(amount), 0)::bigint AS amount"
			 " FROM deal WHERE stage = 'won' AND closed_on IS NOT NULL GROUP BY 1, 2"},
	{"targets_vs_won",
	 "SELECT t.\"user\", t.period, t.amount AS target, coalesce(w.amount, 0)::bigint AS won,"
	 /* (held at the largest bigint, as rove report targets holds it: a
	  * deal's won amount and a target of a cent passed it, and the view
	  * failed for every reader; attack one hundred and five) */
	 "  CASE WHEN t.amount > 0 THEN"
	 "   least(floor(coalesce(w.amount, 0)::numeric * 100 / t.amount), 9223372036854775807)::bigint"
	 "   ELSE 0 END AS percent,"
	 "  coalesce(w.amount, 0) < t.amount AS behind"
	 " FROM target t LEFT JOIN won_by_month w"
	 "  ON w.rep = t.\"user\" AND to_char(w.month, 'YYYY-MM') = t.period"},
};
#define NVIEWS (sizeof(views) / sizeof(views[0]))

/* Whether relation name exists in the schema the tables go to. */
static int relation_exists(rove_feed *f, const char *name, bool *exists)
{
	const char *p[1] = {name};
	char what[96];
	PGresult *res;
	int rc;

	snprintf(what, sizeof(what), "look for %s", name);
	rc = pg_run(f,
		    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
		    " WHERE c.relname = $1 AND n.nspname = current_schema()",
		    1, p, &res, what);
	if (rc != ROVE_OK)
		return rc;
	*exists = strcmp(feed_pq.PQgetvalue(res, 0, 0), "0") != 0;
	feed_pq.PQclear(res);
	return ROVE_OK;
}

/* Drops the feed's views (a column they read cannot change type under
 * them); make_views makes them again in the same transaction. A view of
 * someone else's that reads one of them makes this fail: said, with what
 * to do. */
static int drop_views(rove_feed *f, const char *why)
{
	char sql[96], what[384];
	int rc = ROVE_OK;

	for (size_t i = NVIEWS; i-- > 0 && rc == ROVE_OK;) {
		snprintf(sql, sizeof(sql), "DROP VIEW IF EXISTS \"%s\"", views[i].name);
		snprintf(what, sizeof(what), "drop view %s to %s", views[i].name, why);
		rc = pg_exec(f, sql, what);
	}
	return rc;
}

/* Makes the views that are missing (a database just made, or views
 * dropped by hand or by drop_views). */
static int make_views(rove_feed *f)
{
	rove_buf sql;
	char what[96];
	int rc = ROVE_OK;

	rove_buf_init(&sql);
	for (size_t i = 0; i < NVIEWS && rc == ROVE_OK; i++) {
		bool exists = false;
		rc = relation_exists(f, views[i].name, &exists);
		if (rc != ROVE_OK || exists)
			continue;
		rove_buf_reset(&sql);
		rc = put(&sql, "CREATE VIEW \"");
		if (rc == ROVE_OK)
			rc = put(&sql, views[i].name);
		if (rc == ROVE_OK)
			rc = put(&sql, "\" AS ");
		if (rc == ROVE_OK)
			rc = put(&sql, views[i].sql);
		snprintf(what, sizeof(what), "create view %s", views[i].name);
		if (rc == ROVE_OK)
			rc = pg_exec(f, sql.data, what);
	}
	rove_buf_free(&sql);
	return rc;
}

/* The columns a table has: their names and types (format_type). */
static int read_columns(rove_feed *f, const char *table, PGresult **res)
{
	const char *p[1] = {table};
	char what[96];

	snprintf(what, sizeof(what), "read the columns of table %s", table);
	return pg_run(f,
		      "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a"
		      " JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
		      " WHERE c.relname = $1 AND n.nspname = current_schema() AND a.attnum > 0"
		      " AND NOT a.attisdropped",
		      1, p, res, what);
}

/* Makes every kind's table as the schema says. A table that lacks a
 * column, or has one of another type (changed by hand, or made by a rove
 * whose schema differed), is rebuilt: its rows deleted, the column added
 * or its type set (no value is converted: there are none left), and the
 * round that follows writes every record again - in this transaction,
 * which make_schema leaves open for it (*rebuilt), so that no reader
 * ever sees the table empty or half written. Columns the schema does
 * not know are left alone. */
static int make_tables(rove_feed *f, bool *rebuilt)
{
	char sql[512], what[256];
	bool views_dropped = false;
	int rc = ROVE_OK;

	*rebuilt = false;
	for (size_t k = 0; k < NKINDS && rc == ROVE_OK; k++) {
		const rove_coll_def *c = rove_schema_coll(kinds[k]);
		PGresult *res = NULL;
		bool emptied = false, fresh = false;
		ROVE_ASSERT(c != NULL);
		rc = relation_exists(f, c->name, &fresh);
		fresh = !fresh; /* made now: its columns are added, quietly */
		snprintf(sql, sizeof(sql),
			 "CREATE TABLE IF NOT EXISTS \"%s\" (id uuid PRIMARY KEY, rove_digest bigint NOT NULL)",
			 c->name);
		snprintf(what, sizeof(what), "create table %s", c->name);
		if (rc == ROVE_OK)
			rc = pg_exec(f, sql, what);
		if (rc == ROVE_OK)
			rc = read_columns(f, c->name, &res);
		for (size_t i = 0; i < c->nfields + 2 && rc == ROVE_OK; i++) {
			const char *name, *type, *constraint, *have = NULL;
			if (!table_column(c, i, &name, &type, &constraint))
				continue;
			for (int t = 0; t < feed_pq.PQntuples(res) && have == NULL; t++)
				if (strcmp(feed_pq.PQgetvalue(res, t, 0), name) == 0)
					have = feed_pq.PQgetvalue(res, t, 1);
			if (have != NULL && strcmp(have, type) == 0)
				continue;
			if (fresh)
				emptied = true; /* nothing to empty, nothing to say */
			else if (have == NULL)
				rove_warn("postgresql: table %s lacks column %s: adding it, and writing the table's "
					  "rows again",
					  c->name, name);
			else
				rove_warn("postgresql: table %s: column %s is %s, not %s: changing it, and writing the "
					  "table's rows again",
					  c->name, name, have, type);
			if (!emptied) {
				snprintf(sql, sizeof(sql), "DELETE FROM \"%s\"", c->name);
				snprintf(what, sizeof(what), "empty table %s to rebuild it", c->name);
				rc = pg_exec(f, sql, what);
				emptied = true;
			}
			if (rc == ROVE_OK && have != NULL && !views_dropped) {
				snprintf(what, sizeof(what), "change the type of column %s.%s", c->name, name);
				rc = drop_views(f, what);
				views_dropped = true;
			}
			if (have == NULL) {
				snprintf(sql, sizeof(sql), "ALTER TABLE \"%s\" ADD COLUMN \"%s\" %s%s", c->name, name, type,
					 constraint);
				snprintf(what, sizeof(what), "add column %s to table %s", name, c->name);
			} else {
				snprintf(sql, sizeof(sql), "ALTER TABLE \"%s\" ALTER COLUMN \"%s\" TYPE %s USING NULL",
					 c->name, name, type);
				snprintf(what, sizeof(what), "change column %s.%s from %s to %s", c->name, name, have,
					 type);
			}
			if (rc == ROVE_OK)
				rc = pg_exec(f, sql, what);
		}
		if (res != NULL)
			feed_pq.PQclear(res);
		*rebuilt = *rebuilt || (emptied && !fresh);
	}
	return rc;
}

/* The steps of the schema, step i making version i + 1 from version i.
 * The views are not among them: make_views makes whichever is missing;
 * a step drops one whose definition changed. */
static const char *const steps[] = {
	/* 1 */
	"CREATE TABLE rove_feed_position ("
	" replica uuid NOT NULL, replica_user text NOT NULL, server_cursor bigint NOT NULL,"
	" replica_version bigint NOT NULL, records bigint NOT NULL, fed_at timestamptz NOT NULL)",
	/* 2: targets_vs_won's percent held at the largest bigint */
	"DROP VIEW IF EXISTS targets_vs_won",
};
_Static_assert(sizeof(steps) / sizeof(steps[0]) == FEED_SCHEMA_VERSION, "a step per version");

/* Creates or upgrades the schema, in one transaction: committed when no
 * table had to be rebuilt; else left open (f->tx_open) for the round
 * that writes the rebuilt tables' rows. */
static int make_schema(rove_feed *f)
{
	PGresult *res;
	long have = 0;
	bool rebuilt = false;
	int rc;

	ROVE_ASSERT(!f->tx_open);
	rc = pg_exec(f, "BEGIN", "begin");
	if (rc == ROVE_OK)
		rc = pg_exec(f, "CREATE TABLE IF NOT EXISTS rove_schema_version (version integer NOT NULL)",
			     "create table rove_schema_version");
	if (rc == ROVE_OK)
		rc = pg_run(f, "SELECT max(version) FROM rove_schema_version", 0, NULL, &res,
			    "read the schema's version from table rove_schema_version");
	if (rc == ROVE_OK) {
		if (!feed_pq.PQgetisnull(res, 0, 0))
			have = strtol(feed_pq.PQgetvalue(res, 0, 0), NULL, 10);
		feed_pq.PQclear(res);
		if (have > FEED_SCHEMA_VERSION) {
			rove_error("the database holds a feed's schema of version %ld, newer than this rove's (%d): "
				   "feed it with a newer rove",
				   have, FEED_SCHEMA_VERSION);
			rc = ROVE_EVERSION;
		}
	}
	if (rc == ROVE_OK)
		rc = make_tables(f, &rebuilt);
	for (long v = have; v < FEED_SCHEMA_VERSION && rc == ROVE_OK; v++)
		rc = pg_exec(f, steps[v], "upgrade the schema");
	if (rc == ROVE_OK && have < FEED_SCHEMA_VERSION) {
		char sql[128];
		snprintf(sql, sizeof(sql), "DELETE FROM rove_schema_version; INSERT INTO rove_schema_version VALUES (%d)",
			 FEED_SCHEMA_VERSION);
		rc = pg_exec(f, sql, "record the schema's version in table rove_schema_version");
	}
	if (rc == ROVE_OK)
		rc = make_views(f);
	if (rc == ROVE_OK && rebuilt)
		f->tx_open = true;
	else if (rc == ROVE_OK)
		rc = pg_exec(f, "COMMIT", "commit the schema");
	else
		pg_rollback(f);
	return rc;
}

/* ---- what PostgreSQL holds ---- */

static void set_free(feed_set *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int set_push(feed_set *s, const rove_uuid *id, uint64_t digest, bool row)
{
	if (s->n == s->cap) {
		size_t cap = s->cap == 0 ? 1024 : s->cap * 2;
		feed_ent *v = realloc(s->v, cap * sizeof(*v));
		if (v == NULL)
			return ROVE_ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n].id = *id;
	s->v[s->n].digest = digest;
	s->v[s->n].row = row;
	s->n++;
	return ROVE_OK;
}

static int ent_cmp(const void *a, const void *b)
{
	return memcmp(((const feed_ent *)a)->id.b, ((const feed_ent *)b)->id.b, sizeof(rove_uuid));
}

/* f->fed* := the position PostgreSQL holds: which replica fed it, and
 * how far (its pull cursor). More than one row (written by hand): the
 * furthest. */
static int load_position(rove_feed *f)
{
	PGresult *res;
	int rc = pg_run(f, "SELECT replica, replica_user, server_cursor FROM rove_feed_position"
			   " ORDER BY server_cursor DESC LIMIT 1",
			0, NULL, &res, "read the position from table rove_feed_position");

	f->fed = false;
	if (rc != ROVE_OK)
		return rc;
	if (feed_pq.PQntuples(res) == 1) {
		const char *user = feed_pq.PQgetvalue(res, 0, 1);
		if (rove_uuid_parse(feed_pq.PQgetvalue(res, 0, 0), &f->fed_replica) != ROVE_OK ||
		    strlen(user) > ROVE_MAX_NAME) {
			rove_error("postgresql: table rove_feed_position holds a replica or a user that no replica has: "
				   "delete its row to feed this database again");
			rc = ROVE_EPROTO;
		} else {
			memcpy(f->fed_user, user, strlen(user) + 1);
			f->fed_cursor = (uint64_t)strtoull(feed_pq.PQgetvalue(res, 0, 2), NULL, 10);
			f->fed = true;
		}
	}
	feed_pq.PQclear(res);
	return rc;
}

/* have[] := the ids and digests of PostgreSQL's rows; f->fed* := the
 * position. */
static int load_state(rove_feed *f)
{
	int rc = ROVE_OK;

	for (size_t k = 0; k < NKINDS; k++)
		set_free(&f->have[k]);
	f->valid = false;
	for (size_t k = 0; k < NKINDS && rc == ROVE_OK; k++) {
		const rove_coll_def *c = rove_schema_coll(kinds[k]);
		char sql[128], what[96];
		PGresult *res;
		int n;
		snprintf(sql, sizeof(sql), "SELECT id, rove_digest FROM \"%s\"", c->name);
		snprintf(what, sizeof(what), "read what was fed from table %s", c->name);
		rc = pg_run(f, sql, 0, NULL, &res, what);
		if (rc != ROVE_OK)
			break;
		n = feed_pq.PQntuples(res);
		for (int i = 0; i < n && rc == ROVE_OK; i++) {
			rove_uuid id;
			if (rove_uuid_parse(feed_pq.PQgetvalue(res, i, 0), &id) != ROVE_OK) {
				rove_error("postgresql: table %s holds an id that is no uuid", c->name);
				rc = ROVE_EPROTO;
				break;
			}
			rc = set_push(&f->have[k], &id, (uint64_t)strtoll(feed_pq.PQgetvalue(res, i, 1), NULL, 10),
				      true);
		}
		feed_pq.PQclear(res);
		if (rc == ROVE_OK && f->have[k].n > 1)
			qsort(f->have[k].v, f->have[k].n, sizeof(feed_ent), ent_cmp);
	}
	if (rc == ROVE_OK)
		rc = load_position(f);
	if (rc == ROVE_OK)
		f->valid = true;
	return rc;
}

/* Makes or mends the schema, then reads what PostgreSQL holds (in the
 * transaction make_schema left open, if it did). */
static int prepare(rove_feed *f)
{
	int rc = make_schema(f);

	if (rc == ROVE_OK)
		rc = load_state(f);
	if (rc != ROVE_OK && f->tx_open) {
		pg_rollback(f);
		f->tx_open = false;
	}
	return rc;
}

int rove_feed_check_conninfo(const char *conninfo)
{
	char why[512], *err = NULL;
	PQconninfoOption *opts;
	int rc = feed_pq_load(why, sizeof(why));

	if (rc != ROVE_OK) {
		rove_error("%s", why);
		return rc;
	}
	if (conninfo[strspn(conninfo, " \t\n\r")] == '\0') {
		/* libpq would take it for "every default": not what anyone
		 * means who wrote the argument */
		rove_error("empty CONNINFO: where PostgreSQL is (e.g. 'host=localhost dbname=hq')");
		return ROVE_EINVAL;
	}
	opts = feed_pq.PQconninfoParse(conninfo, &err);
	if (opts == NULL) {
		if (err == NULL)
			return ROVE_ENOMEM; /* libpq's only other reason */
		snprintf(why, sizeof(why), "%s", err);
		why[strcspn(why, "\n")] = '\0';
		feed_pq.PQfreemem(err);
		rove_error("invalid CONNINFO: %s", why);
		return ROVE_EINVAL;
	}
	feed_pq.PQconninfoFree(opts);
	return ROVE_OK;
}

/* Whether a libpq message (C locale: rove never sets LC_MESSAGES, so
 * it is libpq's English text) contains one of words. */
static bool says(const char *msg, const char *const *words, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strstr(msg, words[i]) != NULL)
			return true;
	return false;
}

/* What a failed connect means (msg: libpq's message). libpq gives no
 * SQLSTATE for it, but PQping tells, from the SQLSTATE of the server's
 * answer, whether a server answered at all - without reading any
 * message, which the server may write in its own language:
 * - it answered (PQPING_OK: it asked for a password, or refused the
 *   database, the role or the address) - an error that comes back on
 *   every try: ROVE_EAUTH; unless it said it is full (an English
 *   server's "too many clients/connections"), which passes: ROVE_EBUSY;
 * - it answered that it is starting or stopping (PQPING_REJECT):
 *   ROVE_EUNREACH, waited out;
 * - the options are not valid (a value libpq does not take):
 *   ROVE_EINVAL;
 * - no server answered (PQPING_NO_RESPONSE): unreachable (refused, no
 *   such host, a timeout) - ROVE_EUNREACH - unless libpq itself gave
 *   up in the SSL or GSS negotiation or on a certificate with a server
 *   that did answer (sslmode=require of a server without SSL), which
 *   no retry mends: ROVE_ETLS.
 * PQping connects the same way again (same server, same password, same
 * sslmode): it sends nothing the failed connect did not. */
static int connect_failure(const char *conninfo, const char *msg)
{
	static const char *const full[] = {"too many clients", "too many connections"};
	static const char *const tls[] = {"SSL", "GSS", "certificate", "channel binding"};

	switch (feed_pq.PQping(conninfo)) {
	case PQPING_OK:
		return says(msg, full, sizeof(full) / sizeof(full[0])) ? ROVE_EBUSY : ROVE_EAUTH;
	case PQPING_REJECT:
		return ROVE_EUNREACH;
	case PQPING_NO_ATTEMPT:
		return ROVE_EINVAL;
	case PQPING_NO_RESPONSE:
		break;
	}
	return says(msg, tls, sizeof(tls) / sizeof(tls[0])) ? ROVE_ETLS : ROVE_EUNREACH;
}

int rove_feed_connect(const char *conninfo, char *why, size_t whylen, rove_feed **out)
{
	char line[512];
	rove_feed *f;
	int rc = feed_pq_load(line, sizeof(line));

	*out = NULL;
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (rc != ROVE_OK) {
		rove_error("%s", line);
		return rc;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return ROVE_ENOMEM;
	f->why = why;
	f->whylen = whylen;
	f->rec = malloc(sizeof(*f->rec));
	f->pg = feed_pq.PQconnectdb(conninfo);
	if (f->rec == NULL || f->pg == NULL) {
		rove_feed_free(f);
		return ROVE_ENOMEM;
	}
	if (feed_pq.PQstatus(f->pg) != CONNECTION_OK) {
		snprintf(line, sizeof(line), "%s", feed_pq.PQerrorMessage(f->pg));
		line[strcspn(line, "\n")] = '\0';
		rc = connect_failure(conninfo, line);
		if (rc == ROVE_EAUTH) {
			/* The server answers now, but it may have been starting
			 * or stopping at the connect ("the database system is
			 * starting up"): what lasts fails a second time too. */
			feed_pq.PQfinish(f->pg);
			f->pg = feed_pq.PQconnectdb(conninfo);
			if (f->pg == NULL) {
				rove_feed_free(f);
				return ROVE_ENOMEM;
			}
			if (feed_pq.PQstatus(f->pg) == CONNECTION_OK) {
				rc = ROVE_OK;
			} else {
				snprintf(line, sizeof(line), "%s", feed_pq.PQerrorMessage(f->pg));
				line[strcspn(line, "\n")] = '\0';
				rc = connect_failure(conninfo, line);
			}
		}
	}
	if (rc != ROVE_OK) {
		if (rc == ROVE_EINVAL)
			say(f, rc, "invalid CONNINFO: %s", line);
		else
			say(f, rc, "cannot connect to postgresql: %s", line);
		rove_feed_free(f);
		return rc;
	}
	feed_pq.PQsetNoticeProcessor(f->pg, quiet, NULL);
	rc = pg_exec(f, "SET TIME ZONE 'UTC'; SET client_encoding TO 'UTF8'", "set up the session");
	/* One feed per database: a second would undo the first's rounds. A
	 * feed killed a moment ago may still hold it until PostgreSQL sees
	 * its socket closed. The wait is bounded here only: then the
	 * lock_timeout of the feed's role, if it has one, is its again. */
	if (rc == ROVE_OK) {
		char sql[160];
		snprintf(sql, sizeof(sql), "SET lock_timeout = %u; SELECT pg_advisory_lock(%s); RESET lock_timeout",
			 ROVE_FEED_LOCK_WAIT_MS, FEED_LOCK_KEY);
		PGresult *res = feed_pq.PQexec(f->pg, sql);
		const char *state = res != NULL ? feed_pq.PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
		if (res != NULL && state != NULL && strcmp(state, "55P03") == 0) {
			rove_error("another rove feed is writing to this database");
			rc = ROVE_ELOCKED;
		} else if (res == NULL || feed_pq.PQresultStatus(res) != PGRES_COMMAND_OK) {
			rc = pg_fail(f, res, "lock the database for the feed");
		}
		if (res != NULL)
			feed_pq.PQclear(res);
	}
	if (rc == ROVE_OK)
		rc = prepare(f);
	if (rc != ROVE_OK) {
		rove_feed_free(f);
		return rc;
	}
	f->why = NULL;
	*out = f;
	return ROVE_OK;
}

void rove_feed_free(rove_feed *f)
{
	if (f == NULL)
		return;
	if (f->pg != NULL)
		feed_pq.PQfinish(f->pg);
	for (size_t k = 0; k < NKINDS; k++)
		set_free(&f->have[k]);
	free(f->rec);
	free(f);
}

/* ---- a round ---- */

/* A round's work: the walk's place, the sets it builds, and the rows and
 * deletions waiting to be sent. */
typedef struct round {
	rove_feed *f;
	size_t k;        /* the kind walked now (index into kinds) */
	size_t pos;      /* the next entry of f->have[k] not yet met */
	feed_set next[NKINDS];
	rove_buf rows;   /* COPY text of rows to write */
	rove_buf dels;   /* '{id,id,...' of rows to delete */
	size_t ndels;
	rove_feed_stats *st;
	bool warned;
} round;

/* Appends s (len bytes) escaped for COPY's text form. */
static int put_copy_text(rove_buf *b, const char *s, size_t len)
{
	int rc = ROVE_OK;
	size_t from = 0;

	for (size_t i = 0; i < len && rc == ROVE_OK; i++) {
		const char *esc = s[i] == '\\' ? "\\\\" : s[i] == '\n' ? "\\n" : s[i] == '\r' ? "\\r" : s[i] == '\t' ? "\\t" : NULL;
		if (esc == NULL)
			continue;
		rc = rove_buf_append(b, s + from, i - from);
		if (rc == ROVE_OK)
			rc = rove_buf_append(b, esc, 2);
		from = i + 1;
	}
	if (rc == ROVE_OK)
		rc = rove_buf_append(b, s + from, len - from);
	return rc;
}

/* Appends one value of a row: \N when absent or not valid for its column
 * (counted, and said once a round). */
static int put_value(round *rd, const rove_record *rec, const rove_field_def *fd)
{
	const rove_field *fld = rove_fields_get(&rec->fs, fd->name);
	rove_buf *b = &rd->rows;
	char why[160], num[32];

	if (fld == NULL || fld->v.type == ROVE_V_NULL)
		return rove_buf_append(b, "\\N", 2);
	if (rove_schema_check_value(fd, &fld->v, why, sizeof(why)) != ROVE_OK ||
	    (fld->v.type == ROVE_V_INT) != (fd->type == ROVE_FT_MONEY || fd->type == ROVE_FT_INT || fd->type == ROVE_FT_BOOL)) {
		char id[ROVE_UUID_STRLEN + 1];
		rd->st->bad++;
		if (!rd->warned) {
			rove_uuid_format(&rec->id, id);
			rove_warn("%s %s: field %s is not valid (%s): fed as NULL", rove_schema_coll(rec->coll)->name, id,
				  fd->name, fld->v.type == ROVE_V_INT ? "a number" : why);
			rd->warned = true;
		}
		return rove_buf_append(b, "\\N", 2);
	}
	if (fld->v.type == ROVE_V_INT) {
		if (fd->type == ROVE_FT_BOOL)
			return rove_buf_append(b, fld->v.i != 0 ? "t" : "f", 1);
		snprintf(num, sizeof(num), "%" PRId64, fld->v.i);
		return rove_buf_append(b, num, strlen(num));
	}
	return put_copy_text(b, fld->v.s, fld->v.len);
}

static int put_row(round *rd, const rove_record *rec, uint64_t digest)
{
	const rove_coll_def *c = rove_schema_coll(rec->coll);
	char id[ROVE_UUID_STRLEN + 1], num[32];
	int rc;

	rove_uuid_format(&rec->id, id);
	rc = rove_buf_append(&rd->rows, id, strlen(id));
	for (size_t i = 0; i < c->nfields && rc == ROVE_OK; i++) {
		if (!is_column(&c->fields[i]))
			continue;
		rc = rove_buf_append(&rd->rows, "\t", 1);
		if (rc == ROVE_OK)
			rc = put_value(rd, rec, &c->fields[i]);
	}
	snprintf(num, sizeof(num), "\t%" PRId64 "\n", (int64_t)digest);
	if (rc == ROVE_OK)
		rc = rove_buf_append(&rd->rows, num, strlen(num));
	return rc;
}

/* Sends the waiting deletions, then the waiting rows, of kind rd->k:
 * deletions first, since a changed record's old row is among them. */
static int flush(round *rd)
{
	const rove_coll_def *c = rove_schema_coll(kinds[rd->k]);
	rove_buf sql;
	char what[96];
	int rc = ROVE_OK;

	if (rd->ndels > 0) {
		char stmt[128];
		const char *p[1];
		rc = rove_buf_append(&rd->dels, "}", 2); /* and a NUL */
		snprintf(stmt, sizeof(stmt), "DELETE FROM \"%s\" WHERE id = ANY($1::uuid[])", c->name);
		p[0] = rd->dels.data;
		snprintf(what, sizeof(what), "delete rows from table %s", c->name);
		if (rc == ROVE_OK)
			rc = pg_run(rd->f, stmt, 1, p, NULL, what);
		rove_buf_reset(&rd->dels);
		rd->ndels = 0;
	}
	if (rc != ROVE_OK || rd->rows.len == 0)
		return rc;
	rove_buf_init(&sql);
	rc = put(&sql, "COPY \"");
	if (rc == ROVE_OK)
		rc = put(&sql, c->name);
	if (rc == ROVE_OK)
		rc = put(&sql, "\" (id");
	for (size_t i = 0; i < c->nfields && rc == ROVE_OK; i++) {
		if (!is_column(&c->fields[i]))
			continue;
		rc = put(&sql, ", \"");
		if (rc == ROVE_OK)
			rc = put(&sql, c->fields[i].name);
		if (rc == ROVE_OK)
			rc = put(&sql, "\"");
	}
	if (rc == ROVE_OK)
		rc = put(&sql, ", rove_digest) FROM STDIN");
	snprintf(what, sizeof(what), "write rows into table %s", c->name);
	if (rc == ROVE_OK)
		rc = pg_copy(rd->f, sql.data, &rd->rows, what);
	rove_buf_free(&sql);
	rove_buf_reset(&rd->rows);
	return rc;
}

static int delete_row(round *rd, const rove_uuid *id)
{
	char s[ROVE_UUID_STRLEN + 1];
	int rc;

	rove_uuid_format(id, s);
	rc = rove_buf_append(&rd->dels, rd->ndels == 0 ? "{" : ",", 1);
	if (rc == ROVE_OK)
		rc = rove_buf_append(&rd->dels, s, strlen(s));
	if (rc == ROVE_OK && ++rd->ndels >= ROVE_FEED_DELETE_CHUNK)
		rc = flush(rd);
	return rc;
}

/* The entries of the kind walked now that the walk passed without
 * meeting (up to id, or all with id NULL): records no longer in the
 * replica; their rows go. */
static int pass_gone(round *rd, const rove_uuid *id)
{
	feed_set *have = &rd->f->have[rd->k];
	int rc = ROVE_OK;

	while (rc == ROVE_OK && rd->pos < have->n &&
	       (id == NULL || memcmp(have->v[rd->pos].id.b, id->b, sizeof(id->b)) < 0)) {
		if (have->v[rd->pos].row) {
			rc = delete_row(rd, &have->v[rd->pos].id);
			rd->st->removed++;
		}
		rd->pos++;
	}
	return rc;
}

/* Ends the kind walked now and moves to the next. */
static int next_kind(round *rd)
{
	int rc = pass_gone(rd, NULL);

	if (rc == ROVE_OK)
		rc = flush(rd);
	rd->k++;
	rd->pos = 0;
	return rc;
}

static int on_record(uint8_t coll, const rove_uuid *id, const void *raw, size_t len, void *arg)
{
	round *rd = arg;
	rove_feed *f = rd->f;
	uint64_t digest = rove_fnv1a(ROVE_FNV_BASIS, raw, len);
	const feed_ent *old = NULL;
	bool live;
	int rc = ROVE_OK;

	while (rc == ROVE_OK && kinds[rd->k] != coll) {
		rc = next_kind(rd);
		ROVE_ASSERT(rd->k < NKINDS); /* the walk visits kinds[] in order */
	}
	if (rc == ROVE_OK)
		rc = pass_gone(rd, id);
	if (rc != ROVE_OK)
		return rc;
	if (rd->pos < f->have[rd->k].n && memcmp(f->have[rd->k].v[rd->pos].id.b, id->b, sizeof(id->b)) == 0)
		old = &f->have[rd->k].v[rd->pos++];
	if (old != NULL && old->digest == digest) {
		if (old->row)
			rd->st->records++;
		return set_push(&rd->next[rd->k], id, digest, old->row);
	}
	if (rove_dec_record(raw, len, f->rec) != ROVE_OK || f->rec->coll != coll ||
	    memcmp(f->rec->id.b, id->b, sizeof(id->b)) != 0) {
		char s[ROVE_UUID_STRLEN + 1];
		rove_uuid_format(id, s);
		rove_error("corrupt record %s in the replica", s);
		return ROVE_EPROTO;
	}
	live = !rove_record_deleted(f->rec);
	if (old != NULL && old->row) {
		rc = delete_row(rd, id);
		if (!live)
			rd->st->removed++;
	}
	if (rc == ROVE_OK && live) {
		rc = put_row(rd, f->rec, digest);
		rd->st->written++;
		rd->st->records++;
		if (rc == ROVE_OK && rd->rows.len >= ROVE_FEED_COPY_CHUNK_BYTES)
			rc = flush(rd);
	}
	if (rc == ROVE_OK)
		rc = set_push(&rd->next[rd->k], id, digest, live);
	return rc;
}

/* Records the position in the round's transaction. */
static int put_position(rove_feed *f, rove_replica *r, const rove_feed_stats *st)
{
	char replica[ROVE_UUID_STRLEN + 1], cursor[24], version[24], records[24];
	const char *p[5] = {replica, r->auth.user, cursor, version, records};

	rove_uuid_format(&r->id, replica);
	snprintf(cursor, sizeof(cursor), "%" PRIu64, st->cursor);
	snprintf(version, sizeof(version), "%" PRIu64, st->version);
	snprintf(records, sizeof(records), "%" PRIu64, st->records);
	int rc = pg_exec(f, "DELETE FROM rove_feed_position", "record the position in table rove_feed_position");
	if (rc == ROVE_OK)
		rc = pg_run(f,
			    "INSERT INTO rove_feed_position (replica, replica_user, server_cursor, replica_version,"
			    " records, fed_at) VALUES ($1, $2, $3, $4, $5, now())",
			    5, p, NULL, "record the position in table rove_feed_position");
	return rc;
}

/* Whether r may feed what PostgreSQL holds (f->fed*): the replica that
 * fed it, at or past the position it fed. Another replica (another id,
 * or another user) would roll back whatever the two do not share - a
 * laptop's copy set up again, a rep's replica, a test one: ROVE_EPERM,
 * said with both named. The same replica behind its position (restored
 * from an old copy, its syncs since lost) would roll PostgreSQL back to
 * an older state: ROVE_EHISTORY (waited out: its next sync brings it
 * past). cursor: the replica's pull cursor. */
static int may_feed(rove_feed *f, const rove_replica *r, uint64_t cursor)
{
	char fed[ROVE_UUID_STRLEN + 1], mine[ROVE_UUID_STRLEN + 1];

	if (!f->fed)
		return ROVE_OK;
	rove_uuid_format(&f->fed_replica, fed);
	rove_uuid_format(&r->id, mine);
	if (memcmp(f->fed_replica.b, r->id.b, sizeof(r->id.b)) != 0 || strcmp(f->fed_user, r->auth.user) != 0) {
		rove_error("postgresql: this database is fed from replica %s of %s, not from this one (replica %s of "
			   "%s): a second replica would undo what the first writes; feed another database, or drop "
			   "the feed's tables (or DELETE FROM rove_feed_position) to feed this one from here",
			   fed, ROVE_LOG_NAME(f->fed_user), mine, ROVE_LOG_NAME(r->auth.user));
		return ROVE_EPERM;
	}
	if (cursor < f->fed_cursor) {
		say(f, ROVE_EHISTORY,
		    "the replica is behind what postgresql holds (its cursor %" PRIu64 ", fed %" PRIu64
		    "; restored from an older copy?): feeding it would roll postgresql back; run 'rove sync' to "
		    "bring it past",
		    cursor, f->fed_cursor);
		return ROVE_EHISTORY;
	}
	return ROVE_OK;
}

int rove_feed_round(rove_feed *f, rove_replica *r, rove_feed_stats *st, char *why, size_t whylen)
{
	rove_replica_state rs;
	rove_pull_state ps;
	round rd;
	uint64_t version;
	int rc;

	memset(st, 0, sizeof(*st));
	f->why = why;
	f->whylen = whylen;
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	rc = rove_replica_version(r, &version);
	if (rc != ROVE_OK)
		goto out;
	if (f->valid && !f->tx_open && version == f->version) {
		st->idle = true;
		st->version = version;
		goto out;
	}
	if (!f->valid) {
		/* after a failed round: what failed may have been the schema
		 * (a column dropped under the feed); it is checked again */
		rc = prepare(f);
		if (rc != ROVE_OK)
			goto out;
	}
	/* before any work; checked again with the cursor the walk read */
	rc = rove_replica_pull_state(r, &ps);
	if (rc == ROVE_OK)
		rc = may_feed(f, r, ps.cursor);
	if (rc != ROVE_OK) {
		if (f->tx_open) {
			pg_rollback(f);
			f->tx_open = false;
			f->valid = false;
		}
		goto out;
	}
	memset(&rd, 0, sizeof(rd));
	rd.f = f;
	rd.st = st;
	rove_buf_init(&rd.rows);
	rove_buf_init(&rd.dels);
	rc = f->tx_open ? ROVE_OK : pg_exec(f, "BEGIN", "begin a round");
	f->tx_open = false; /* the round's now: committed or rolled back below */
	if (rc == ROVE_OK)
		rc = rove_replica_each_confirmed(r, kinds, NKINDS, on_record, &rd, &rs);
	while (rc == ROVE_OK && rd.k < NKINDS)
		rc = next_kind(&rd);
	if (rc == ROVE_OK)
		rc = may_feed(f, r, rs.cursor);
	if (rc == ROVE_OK) {
		st->version = rs.version;
		st->cursor = rs.cursor;
		rc = put_position(f, r, st);
	}
	if (rc == ROVE_OK)
		rc = pg_exec(f, "COMMIT", "commit a round");
	if (rc == ROVE_OK) {
		for (size_t k = 0; k < NKINDS; k++) {
			set_free(&f->have[k]);
			f->have[k] = rd.next[k];
		}
		f->version = rs.version;
		f->fed = true;
		f->fed_replica = r->id;
		memcpy(f->fed_user, r->auth.user, sizeof(f->fed_user));
		f->fed_cursor = rs.cursor;
	} else {
		/* Whether a failed COMMIT committed is not known: what
		 * PostgreSQL holds is read again before the next round. */
		pg_rollback(f);
		f->valid = false;
		for (size_t k = 0; k < NKINDS; k++)
			set_free(&rd.next[k]);
	}
	rove_buf_free(&rd.rows);
	rove_buf_free(&rd.dels);
out:
	f->why = NULL;
	return rc;
}
