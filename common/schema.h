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

/* Parses a command-line value for a field into v. String values point into
 * text (or are NULL for an empty text, which clears the field); a tax id
 * is checked as rove_schema_clean_op will store it, but left as typed.
 * ROVE_EINVAL with a message in why. */
int rove_schema_parse(const rove_field_def *fd, const char *text, rove_value *v, char *why, size_t whylen);

/* Checks one stored or received value against its definition, as it is
 * (a tax id must be normalised already). */
int rove_schema_check_value(const rove_field_def *fd, const rove_value *v, char *why, size_t whylen);

/* Checks every field of an op for its collection: known names (or the
 * engine's "_deleted"), valid values, and on create the required ones. */
int rove_schema_check_op(const rove_op *op, char *why, size_t whylen);

/* The one check of an op, for the command line before it writes one and
 * for the server before its rules: normalises values in place (a tax id
 * to rove_taxid_normalise's form; a time to UTC with seconds,
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
 * letters, digits and . _ - @. The one rule for `roved init --admin`,
 * the admin's user.add and the schema's LOGIN fields. */
bool rove_login_valid(const char *s, size_t len);

/* Whether s (len bytes) is a territory code: 1 to ROVE_MAX_NAME ASCII
 * letters, digits and . _ - (territory.add and the schema's CODE fields). */
bool rove_code_valid(const char *s, size_t len);

/* Whether two names (logins, codes) are equal ignoring ASCII case: two
 * such are one name to a person, and refused as a new one. */
bool rove_name_same(const char *a, size_t alen, const char *b, size_t blen);

/* Roles of users; their names are part of the command-line contract. */
/* Stored in the server's users table: never renumber. */
enum rove_role { ROVE_ROLE_REP = 1, ROVE_ROLE_MANAGER = 2, ROVE_ROLE_ANALYST = 3, ROVE_ROLE_ADMIN = 4 };

/* "rep", "manager", ...; "unknown" for anything else. */
const char *rove_role_name(int role);
/* 0 if name is not a role. */
int rove_role_parse(const char *name);

/* A phone number in the form two spellings of one phone share (the key
 * rule 3's uniqueness compares), into out (cut to outlen - 1 bytes,
 * always terminated; nothing if outlen is 0): punctuation and spaces
 * dropped, full-width digits read as digits, every country prefix gone
 * however it is written or repeated (+86, 0086, +0086, +86 0086, 86
 * before a mobile number), and a mainland number with its country code:
 * "+86 138 0000 1111", "0086-138-0000-1111", "+0086 13800001111",
 * "86 13800001111" and "13800001111" all give "+8613800001111";
 * "021-5555-0101", "(021) 55550101" and "+86 21 5555 0101" give
 * "+862155550101". Other international numbers (+ or 00) give + and
 * their digits; anything else its digits. An extension (转, 分机, ext,
 * x or #, then digits) is left out: one switchboard, one company. Empty
 * when in has no digits. */
void rove_phone_normalise(const char *in, char *out, size_t outlen);

/* ---- rule 3: no two live customers share a tax id or a phone ---- */

/* A customer's uniqueness key: "tax:" and its tax id, or "tel:" and its
 * phone, each in the form that two spellings of one share
 * (rove_taxid_normalise, rove_phone_normalise). The server's index of
 * live customers holds these bytes (store format 3); the command line
 * compares the same keys among what its replica holds. */
#define ROVE_UNIQ_KEYS    2
#define ROVE_UNIQ_KEY_MAX (4 + ROVE_MAX_STR)
typedef struct rove_uniq_key {
	const char *field; /* the customer's field: "tax_id" or "phone" */
	size_t len;        /* of key, without its NUL */
	char key[ROVE_UNIQ_KEY_MAX + 1];
} rove_uniq_key;

/* The key of a customer's value of field ("tax_id" or "phone") into
 * *out; false if it makes none (no value, or a phone without digits). */
bool rove_uniq_key_make(const char *field, const char *value, rove_uniq_key *out);

/* The keys of a customer's fields, or of those an op sets (fs): its tax
 * id's, then its phone's, each if it makes one. Returns how many. */
int rove_uniq_keys(const rove_fields *fs, rove_uniq_key out[ROVE_UNIQ_KEYS]);

/* A tax id as it is stored and compared: spaces (also U+3000) and hyphens
 * dropped, letters upper-cased, full-width letters and digits read as
 * ASCII. Writes at most outlen - 1 bytes and a NUL (outlen > 0); returns
 * the normalised length, which may be more (then out was cut). Whether
 * the result is a 统一社会信用代码 is rove_taxid_valid's to say. */
size_t rove_taxid_normalise(const char *in, size_t len, char *out, size_t outlen);

/* The GB 32100-2015 check character for the first 17 characters of a
 * 统一社会信用代码, or '\0' if one is not of its alphabet. */
char rove_taxid_check_char(const char first17[ROVE_TAXID_LEN - 1]);

/* Whether s (len bytes, normalised) is a 统一社会信用代码: 18 characters of
 * 0-9 and ABCDEFGHJKLMNPQRTUWXY, the last its check character. If not,
 * why says which rule it breaks. */
bool rove_taxid_valid(const char *s, size_t len, char *why, size_t whylen);

#endif
