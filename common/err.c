#include "err.h"

#include <errno.h>
#include <stddef.h>

static const char *const err_text[ROVE_ERR_COUNT] = {
	[ROVE_OK] = "success",
	[ROVE_ENOMEM] = "out of memory",
	[ROVE_EINVAL] = "invalid argument",
	[ROVE_EPROTO] = "malformed data",
	[ROVE_EVERSION] = "unsupported version",
	[ROVE_ETOOBIG] = "limit exceeded",
	[ROVE_ENOTFOUND] = "not found",
	[ROVE_EEXIST] = "already exists",
	[ROVE_EDB] = "storage error",
	[ROVE_EMAPFULL] = "storage full",
	[ROVE_EIO] = "input/output error",
	[ROVE_EUNREACH] = "server unreachable",
	[ROVE_ETIMEDOUT] = "timed out",
	[ROVE_EAUTH] = "authentication failed",
	[ROVE_EPERM] = "permission denied",
	[ROVE_ESERVER] = "server error",
	[ROVE_EBUSY] = "too many failed attempts; try again in a minute",
	[ROVE_EHISTORY] = "the server's history differs from this replica's",
	[ROVE_ELOCKED] = "in use by another process",
	[ROVE_EWRONGSERVER] = "this replica belongs to another server",
	[ROVE_EREADONLY] = "read-only",
	[ROVE_ETLS] = "TLS handshake failed",
	[ROVE_ENOSPC] = "the disk is full",
	[ROVE_ELOST] = "connection lost",
	[ROVE_ECHANGED] = "changed by another process meanwhile",
	[ROVE_EACCES] = "permission denied by the file system",
	[ROVE_ERATE] = "too many changes in a short time; the next sync sends the rest",
};

static const char *const err_names[ROVE_ERR_COUNT] = {
	[ROVE_OK] = "ok",
	[ROVE_ENOMEM] = "nomem",
	[ROVE_EINVAL] = "inval",
	[ROVE_EPROTO] = "proto",
	[ROVE_EVERSION] = "version",
	[ROVE_ETOOBIG] = "toobig",
	[ROVE_ENOTFOUND] = "notfound",
	[ROVE_EEXIST] = "exist",
	[ROVE_EDB] = "db",
	[ROVE_EMAPFULL] = "mapfull",
	[ROVE_EIO] = "io",
	[ROVE_EUNREACH] = "unreach",
	[ROVE_ETIMEDOUT] = "timedout",
	[ROVE_EAUTH] = "auth",
	[ROVE_EPERM] = "perm",
	[ROVE_ESERVER] = "server",
	[ROVE_EBUSY] = "busy",
	[ROVE_EHISTORY] = "history",
	[ROVE_ELOCKED] = "locked",
	[ROVE_EWRONGSERVER] = "wrongserver",
	[ROVE_EREADONLY] = "readonly",
	[ROVE_ETLS] = "tls",
	[ROVE_ENOSPC] = "nospc",
	[ROVE_ELOST] = "lost",
	[ROVE_ECHANGED] = "changed",
	[ROVE_EACCES] = "access",
	[ROVE_ERATE] = "rate",
};

int rove_err_errno(int errnum)
{
	switch (errnum) {
	case EACCES:
	case EPERM:
		return ROVE_EACCES;
	case ENOSPC:
	case EDQUOT:
		return ROVE_ENOSPC;
	case ENOMEM:
		return ROVE_ENOMEM;
	default:
		return ROVE_EIO;
	}
}

bool rove_err_unreached(int err)
{
	return err == ROVE_EUNREACH || err == ROVE_ETIMEDOUT || err == ROVE_ELOST;
}

const char *rove_err_name(int err)
{
	if (err < 0 || err >= ROVE_ERR_COUNT || err_names[err] == NULL)
		return "unknown";
	return err_names[err];
}

const char *rove_strerror(int err)
{
	if (err < 0 || err >= ROVE_ERR_COUNT)
		return "unknown error";
	return err_text[err];
}

static const char *const reason_text[ROVE_R_COUNT] = {
	[ROVE_R_NONE] = "none",
	[ROVE_R_DUPLICATE] = "duplicate",
	[ROVE_R_NOT_OWNER] = "not_owner",
	[ROVE_R_NOT_IN_TERRITORY] = "not_in_territory",
	[ROVE_R_ALREADY_CLAIMED] = "already_claimed",
	[ROVE_R_DELETED] = "deleted",
	[ROVE_R_REASSIGNED] = "reassigned",
	[ROVE_R_FORBIDDEN] = "forbidden",
	[ROVE_R_INVALID] = "invalid",
	[ROVE_R_LIMIT] = "limit",
	[ROVE_R_COOLDOWN] = "cooldown",
};

const char *rove_reason_name(int reason)
{
	if (reason < 0 || reason >= ROVE_R_COUNT)
		return "unknown";
	return reason_text[reason];
}
