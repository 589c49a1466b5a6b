/*
 * err.h - rove's error codes and the reason codes of rejected changes.
 *
 * Every fallible function returns an int: 0 (ROVE_OK) or a ROVE_E* code.
 * Both enums go on the wire and to disk: their numbers are fixed.
 * LMDB, nng and msgpack errors are converted where they are met.
 * Reason codes (rove_reason) say why the server refused a change; their
 * names are part of the command-line and JSON contract.
 */
#ifndef ROVE_ERR_H
#define ROVE_ERR_H

#include <stdbool.h>

enum rove_err {
	ROVE_OK = 0,
	ROVE_ENOMEM = 1,      /* out of memory */
	ROVE_EINVAL = 2,      /* invalid argument or value */
	ROVE_EPROTO = 3,      /* malformed message or stored value */
	ROVE_EVERSION = 4,    /* unsupported protocol or format version */
	ROVE_ETOOBIG = 5,     /* a limit of limits.h was exceeded */
	ROVE_ENOTFOUND = 6,   /* no such record, user or file */
	ROVE_EEXIST = 7,      /* already exists */
	ROVE_EDB = 8,         /* storage error (LMDB) */
	ROVE_EMAPFULL = 9,    /* storage full */
	ROVE_EIO = 10,        /* file or OS error */
	ROVE_EUNREACH = 11,   /* server unreachable */
	ROVE_ETIMEDOUT = 12,  /* no answer in time */
	ROVE_EAUTH = 13,      /* authentication failed */
	ROVE_EPERM = 14,      /* not allowed for this user */
	ROVE_ESERVER = 15,    /* server reported an error */
	ROVE_EBUSY = 16,      /* too many attempts; try again later */
	ROVE_EHISTORY = 17,   /* the server's history is not the one a replica synced with */
	ROVE_ELOCKED = 18,    /* in use by another process */
	ROVE_EWRONGSERVER = 19, /* a replica reached a server other than its own */
	ROVE_EREADONLY = 20,  /* a replica this process may read but not write */
	ROVE_ETLS = 21,       /* the TLS handshake failed: the certificate is not trusted */
	ROVE_ENOSPC = 22,     /* the disk is full */
	ROVE_ELOST = 23,      /* the connection was lost waiting for an answer, and the server is not reached again */
	ROVE_ECHANGED = 24,   /* a replica changed since what a write was checked against was read */
	ROVE_EACCES = 25,     /* a file or directory this user may not read or write */
	ROVE_ERATE = 26,      /* too many changes from one user in a while; sent again later */
	ROVE_ERR_COUNT /* one past the last; never renumber the codes above */
};

/* Whether err says that the server was not reached, did not answer in
 * time, or was lost and not reached again (ROVE_EUNREACH, ROVE_ETIMEDOUT,
 * ROVE_ELOST): nothing was lost, and trying again later may work (a
 * command's exit status 3). */
bool rove_err_unreached(int err);

/* The code for a failed system call's errno: ROVE_EACCES for EACCES and
 * EPERM, ROVE_ENOSPC for ENOSPC and EDQUOT, ROVE_ENOMEM for ENOMEM, else
 * ROVE_EIO. */
int rove_err_errno(int errnum);

/* The message for err ("authentication failed"); "unknown error" for a
 * number out of range. */
const char *rove_strerror(int err);
/* The short name of err ("auth", "history"): what tests and tools print
 * and compare, rather than numbers; "unknown" out of range. */
const char *rove_err_name(int err);

enum rove_reason {
	ROVE_R_NONE = 0,
	ROVE_R_DUPLICATE = 1,
	ROVE_R_NOT_OWNER = 2,
	ROVE_R_NOT_IN_TERRITORY = 3,
	ROVE_R_ALREADY_CLAIMED = 4,
	ROVE_R_DELETED = 5,
	ROVE_R_REASSIGNED = 6,
	ROVE_R_FORBIDDEN = 7,
	ROVE_R_INVALID = 8,
	ROVE_R_LIMIT = 9,
	ROVE_R_COOLDOWN = 10,
	ROVE_R_COUNT /* one past the last; never renumber the reasons above */
};

/* The detail of an `invalid` refusal of a create whose record the server
 * holds: a replica tells by it that another got there first with a
 * record both sent again after a restore (replica_sync.c). */
#define ROVE_DETAIL_EXISTS "record already exists"
/* ... held by another owner than the create names: kept as a refusal. */
#define ROVE_DETAIL_EXISTS_OTHER "record already exists, with another owner"

/* The reason's JSON name ("duplicate", ...); "none" for ROVE_R_NONE and
 * "unknown" for a value out of range. */
const char *rove_reason_name(int reason);

#endif
