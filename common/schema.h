/*
 * schema.h - the CRM's collections and their fields, as data, and what a
 * valid value is (SPEC rule 13).
 *
 * The sync engine moves records of any collection; this table tells the
 * command line how to parse and print fields and tells the server what a
 * valid record looks like. Adding a collection or field means adding a row
 * here, nothing in the engine.
 *
 * Every op passes rove_schema_clean_op: on the command line before it is
 * written to the replica, on the server before the rules decide on it.
 * The limits it applies are named in rove_limits.h; docs/RULES.md lists
 * them per field.
 */
#ifndef ROVE_SCHEMA_H
#define ROVE_SCHEMA_H

#include "record.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rove_ftype {
	ROVE_FT_STR,   /* text: UTF-8, no control characters, up to maxlen characters */
	ROVE_FT_ENUM,  /* one of values[] */
	ROVE_FT_DATE,  /* ISO 8601 date YYYY-MM-DD */
	ROVE_FT_MONEY, /* integer cents; written as units on the command line */
	ROVE_FT_INT,
	ROVE_FT_REF,   /* id of another record, as a UUID string */
	ROVE_FT_CODE,  /* territory code: [a-z0-9._-]+ */
	ROVE_FT_LOGIN, /* user login name */
	ROVE_FT_TIME,  /* ISO 8601 date or date and time: YYYY-MM-DD[THH:MM[:SS][Z]] */
	ROVE_FT_MONTH, /* YYYY-MM */
	ROVE_FT_BOOL,  /* 0 or 1 */
	ROVE_FT_TAXID, /* 统一社会信用代码, stored normalised (rove_taxid_normalise) */
	ROVE_FT_PHONE, /* a phone number as typed; compared by rove_phone_normalise */
	ROVE_FT_EMAIL, /* an e-mail address: one @, a dot in the domain, no spaces */
};

enum rove_fflag {
	ROVE_FF_REQUIRED = 1, /* must be set on create */
	ROVE_FF_SYSTEM = 2,   /* set by the server or by dedicated commands */
	ROVE_FF_LIST = 4,     /* shown as a column by `list` on a terminal */
	ROVE_FF_PARENT = 8,   /* the id of the record this one belongs to (rove_coll_def's parent) */
	ROVE_FF_HIDDEN = 16,  /* kept and synced, but not shown by list/show/JSON */
	ROVE_FF_LINES = 32,   /* text that may hold line feeds and tabs (notes, addresses) */
};

typedef struct rove_field_def {
	const char *name;
	enum rove_ftype type;
	unsigned flags;
	uint32_t maxlen;           /* text: characters; other strings: bytes */
	const char *const *values; /* ROVE_FT_ENUM: NULL-terminated */
} rove_field_def;

enum rove_coll_flag {
	ROVE_CF_SERVER = 1,      /* written only by the server (admin commands) */
	ROVE_CF_APPEND_ONLY = 2, /* records are never changed once created */
};

typedef struct rove_coll_def {
	uint8_t id;
	const char *name;
	unsigned flags;
	const rove_field_def *fields;
	size_t nfields;
	/* The collection whose records this one's belong to (their
	 * ROVE_FF_PARENT field names one by id), or 0 for a top-level
	 * collection. */
	uint8_t parent;
} rove_coll_def;

enum rove_coll_id {
	ROVE_COLL_CUSTOMER = 1,
	ROVE_COLL_CONTACT = 2,
	ROVE_COLL_CONTRACT = 3,
	ROVE_COLL_OPPORTUNITY = 4,
	ROVE_COLL_ACTIVITY = 5,
	ROVE_COLL_DEALER = 6,
	ROVE_COLL_TARGET = 7,
	ROVE_COLL_TERRITORY = 8,
	ROVE_COLL_OWNERSHIP = 9, /* ownership history of a customer */
	ROVE_COLL_NOTICE = 10,   /* a message from the server to one user */
};

/* The field naming a record's parent (a record of c->parent), or NULL
 * for a top-level collection. */
const rove_field_def *rove_schema_parent_field(const rove_coll_def *c);

const rove_coll_def *rove_schema_coll(uint8_t id);
const rove_coll_def *rove_schema_coll_by_name(const char *name);
const rove_field_def *rove_schema_field(const rove_coll_def *c, const char *name);
/* Whether a search (`--search`) reads fd's values: words - text people
 * write (names, addresses, notes, titles), phones, tax ids, e-mail
 * addresses, logins, territory codes, a list's fixed values (a stage, an
 * event) - not hidden fields, references, dates, times, numbers or
 * amounts, which lists filter and sort by (attack eighty-two: "z",
 * "t1" or "2026" found every customer, by its created_at). */
bool rove_schema_field_searched(const rove_field_def *fd);

/* Parses a command-line value for a field into v. String values point into
 * text (or are NULL for an empty text, which clears the field); a tax id
 * is checked as rove_schema_clean_op will store it, but left as typed.
 * ROVE_EINVAL with a message in why. */
int rove_schema_parse(const rove_field_def *fd, const char *text, rove_value *v, char *why, size_t whylen);

/* Whether text s (len bytes of UTF-8) shows nothing: empty, or spaces
 * and invisible characters alone. */
bool rove_schema_blank(const char *s, size_t len);

/* Checks one stored or received value against its definition, as it is
 * (a tax id must be normalised already). */
int rove_schema_check_value(const rove_field_def *fd, const rove_value *v, char *why, size_t whylen);

/* Checks every field of an op for its collection: known names (or the
 * engine's "_deleted"), valid values, and on create the required ones. */
int rove_schema_check_op(const rove_op *op, char *why, size_t whylen);

/* The one check of an op, for the command line before it writes one and
 * for the server before its rules: normalises values in place (a tax id
 * to rove_taxid_normalise's form; a reference, a record's id, to lower
 * case as rove_uuid_format writes it; a time to UTC with seconds,
 * YYYY-MM-DDTHH:MM:SSZ, reading a time without a zone or a date alone -
 * its first minute - as local time in this process's zone, TZ), then
 * rove_schema_check_op. ROVE_EINVAL with the first problem in why
 * (lowercase; values quoted and shown with rove_text_show, so why is safe
 * to print); ROVE_ETOOBIG if a normalised value no longer fits the op (a
 * time grows by up to 10 bytes). */
int rove_schema_clean_op(rove_op *op, char *why, size_t whylen);

/* A time of the schema (ROVE_FT_TIME: a date, or a date and time, within
 * ROVE_DATE_MIN..ROVE_DATE_MAX) as milliseconds since 1970, read as UTC;
 * *zoned says whether it said so (a Z). False if it is not such a time. */
bool rove_schema_time_ms(const char *iso, uint64_t *ms, bool *zoned);

/* Whether s (len bytes) is a login name: 1 to ROVE_MAX_NAME ASCII
 * letters, digits and . _ - @, the first a letter or digit. The one rule for `roved init --admin`,
 * the admin's user.add and the schema's LOGIN fields. */
bool rove_login_valid(const char *s, size_t len);

/* The name the server acts under for its own periodic work (recycling):
 * no user may take it, in any case. */
#define ROVE_SYSTEM_USER "roved"

/* Whether login is ROVE_SYSTEM_USER, ignoring ASCII case: no user's. */
bool rove_login_reserved(const char *login);

/* Whether s (len bytes) is a territory code: 1 to ROVE_MAX_NAME ASCII
 * letters, digits and . _ -, the first a letter or digit (territory.add and the schema's CODE fields). */
bool rove_code_valid(const char *s, size_t len);

/* Whether two names (logins, codes) are equal ignoring ASCII case: two
 * such are one name to a person, and refused as a new one. */
bool rove_name_same(const char *a, size_t alen, const char *b, size_t blen);

/* The id of user's target for period (YYYY-MM), as the op's fields hold
 * them: one target per user and month, under the same id on every
 * replica and the server (which refuses a target made under another). */
void rove_target_id(const char *user, const char *period, rove_uuid *out);

/* Roles of users; their names are part of the command-line contract. */
/* Stored in the server's users table: never renumber. */
enum rove_role { ROVE_ROLE_REP = 1, ROVE_ROLE_MANAGER = 2, ROVE_ROLE_ANALYST = 3, ROVE_ROLE_ADMIN = 4 };

/* "rep", "manager", ...; "unknown" for anything else. */
const char *rove_role_name(int role);
/* "a rep", "a manager", "an analyst", "an admin": a role in a sentence. */
const char *rove_role_with_article(int role);
/* 0 if name is not a role. */
int rove_role_parse(const char *name);
/* "a" or "an", as said before noun (a kind or field name of the schema,
 * English, lower case): "an opportunity", "an activity", "a contact". */
const char *rove_article(const char *noun);

#endif
