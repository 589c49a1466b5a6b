/*
 * schema.h - the CRM's collections and their fields, as data.
 *
 * The sync engine moves records of any collection; this table tells the
 * command line how to parse and print fields and tells the server what a
 * valid record looks like. Adding a collection or field means adding a row
 * here, nothing in the engine.
 */
#ifndef ROVE_SCHEMA_H
#define ROVE_SCHEMA_H

#include "record.h"

#include <stddef.h>
#include <stdint.h>

enum rove_ftype {
	ROVE_FT_STR,   /* free text up to maxlen bytes */
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
};

enum rove_fflag {
	ROVE_FF_REQUIRED = 1, /* must be set on create */
	ROVE_FF_SYSTEM = 2,   /* set by the server or by dedicated commands */
	ROVE_FF_LIST = 4,     /* shown as a column by `list` on a terminal */
	ROVE_FF_PARENT = 8,   /* the id of the customer this record belongs to */
	ROVE_FF_HIDDEN = 16,  /* kept and synced, but not shown by list/show/JSON */
};

typedef struct rove_field_def {
	const char *name;
	enum rove_ftype type;
	unsigned flags;
	uint32_t maxlen;
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

/* The field naming a record's parent customer, or NULL for a top-level
 * collection. */
const rove_field_def *rove_schema_parent_field(const rove_coll_def *c);

const rove_coll_def *rove_schema_coll(uint8_t id);
const rove_coll_def *rove_schema_coll_by_name(const char *name);
const rove_field_def *rove_schema_field(const rove_coll_def *c, const char *name);

/* Parses a command-line value for a field into v. String values point into
 * text (or are NULL for an empty text, which clears the field).
 * ROVE_EINVAL with a message in why. */
int rove_schema_parse(const rove_field_def *fd, const char *text, rove_value *v, char *why, size_t whylen);

/* Checks one stored or received value against its definition. */
int rove_schema_check_value(const rove_field_def *fd, const rove_value *v, char *why, size_t whylen);

/* Checks every field of an op for its collection: known names (or the
 * engine's "_deleted"), valid values, and on create the required ones. */
int rove_schema_check_op(const rove_op *op, char *why, size_t whylen);

/* Roles of users; their names are part of the command-line contract. */
/* Stored in the server's users table: never renumber. */
enum rove_role { ROVE_ROLE_REP = 1, ROVE_ROLE_MANAGER = 2, ROVE_ROLE_ANALYST = 3, ROVE_ROLE_ADMIN = 4 };

/* "rep", "manager", ...; "unknown" for anything else. */
const char *rove_role_name(int role);
/* 0 if name is not a role. */
int rove_role_parse(const char *name);

/* Normalises a phone number to its digits (a leading + kept) into out. */
void rove_phone_normalise(const char *in, char *out, size_t outlen);

#endif
