/*
 * err.h - rove's error codes and the reason codes of rejected changes.
 *
 * Every fallible function returns an int: 0 (ROVE_OK) or a ROVE_E* code.
 * LMDB, nng and msgpack errors are converted where they are met.
 * Reason codes (rove_reason) say why the server refused a change; their
 * names are part of the command-line and JSON contract.
 */
#ifndef ROVE_ERR_H
#define ROVE_ERR_H

enum rove_err {
	ROVE_OK = 0,
	ROVE_ENOMEM,    /* out of memory */
	ROVE_EINVAL,    /* invalid argument or value */
	ROVE_EPROTO,    /* malformed message or stored value */
	ROVE_EVERSION,  /* unsupported protocol or format version */
	ROVE_ETOOBIG,   /* a limit of limits.h was exceeded */
	ROVE_ENOTFOUND, /* no such record, user or file */
	ROVE_EEXIST,    /* already exists */
	ROVE_EDB,       /* storage error (LMDB) */
	ROVE_EMAPFULL,  /* storage full */
	ROVE_EIO,       /* file or OS error */
	ROVE_EUNREACH,  /* server unreachable or connection lost */
	ROVE_ETIMEDOUT, /* no answer in time */
	ROVE_EAUTH,     /* authentication failed */
	ROVE_EPERM,     /* not allowed for this user */
	ROVE_ESERVER,   /* server reported an error */
	ROVE_EBUSY,     /* too many attempts; try again later */
	ROVE_ERR_COUNT
};

const char *rove_strerror(int err);

enum rove_reason {
	ROVE_R_NONE = 0,
	ROVE_R_DUPLICATE,
	ROVE_R_NOT_OWNER,
	ROVE_R_NOT_IN_TERRITORY,
	ROVE_R_ALREADY_CLAIMED,
	ROVE_R_DELETED,
	ROVE_R_REASSIGNED,
	ROVE_R_FORBIDDEN,
	ROVE_R_INVALID,
	ROVE_R_LIMIT,
	ROVE_R_COOLDOWN,
	ROVE_R_COUNT
};

/* The reason's JSON name ("duplicate", ...); "none" for ROVE_R_NONE and
 * "unknown" for a value out of range. */
const char *rove_reason_name(int reason);

#endif
