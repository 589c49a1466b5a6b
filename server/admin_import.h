/*
 * admin_import.h - `rove admin import territories|users` on the server:
 * an import arrives in pieces of a few rows (an admin request carries at
 * most ROVE_MAX_ADMIN_ARGS arguments), is staged in memory, and is
 * committed whole in one request's transaction, all or nothing. The
 * commands (import.begin, import.rows, import.check, import.commit,
 * import.end) are
 * described in admin_import.c.
 */
#ifndef ROVE_ADMIN_IMPORT_H
#define ROVE_ADMIN_IMPORT_H

#include "engine_int.h"

/* Runs import command cmd (one of the five; admin.c has checked that u
 * is an admin) with its arguments, in txn; the answer or a refusal in
 * reply. Returns an error only when the request fails as a whole. */
int rove_admin_import(rove_engine *e, MDB_txn *txn, const rove_user *u, const char *cmd,
		      char (*args)[ROVE_MAX_ADMIN_ARG + 1], uint32_t nargs, rove_buf *reply);

/* Forgets the imports staged on e (when it closes). */
void rove_admin_import_forget(const rove_engine *e);

#endif
