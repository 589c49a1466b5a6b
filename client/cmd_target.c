/*
 * cmd_target.c - `rove target set USER --period YYYY-MM --amount A`: one
 * target per user and month, under an id made from both, so that setting
 * it again anywhere replaces it.
 */
#include "rec.h"
#include "cli_opt.h"
#include "err.h"
#include "log.h"
#include "rules.h"
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
	"usage: rove target set USER --period YYYY-MM --amount A\n"
	"\n"
	"(managers, admins) Set a rep's target for a month; setting it again\n"
	"replaces it.\n";

enum { OPT_PERIOD = CLI_OPT_LONG, OPT_AMOUNT };

static const struct option opts[] = {
	{"period", required_argument, NULL, OPT_PERIOD | CLI_OPT_REQUIRED},
	{"amount", required_argument, NULL, OPT_AMOUNT | CLI_OPT_REQUIRED},
	{NULL, 0, NULL, 0},
};

/* A target for a user the server does not show a manager (one outside
 * his territories) or an admin (none) is refused at once, in the words
 * the server would refuse it with; the replica holds no users, so the
 * server is asked, as `opportunity set owner=` does. Offline, or with no
 * answer within the advice's wait: a warning, and the server decides on
 * sync. The exit status (ROVE_EXIT_OK: go on). */
static int target_user_check(rove_cli *cli, const char *user, int role)
{
	cli_user_found *f = calloc(1, sizeof(*f));
	char what[ROVE_MAX_NAME + 8];
	bool refused = false;

	if (f == NULL) {
		rove_error("out of memory");
		return ROVE_EXIT_FAIL;
	}
	f->login = user;
	snprintf(what, sizeof(what), "user %s", user);
	if (cmd_admin_users_advice(cli, cli_user_find, f, what,
				   "the server checks it on sync, and 'rove rejected' lists a refusal")) {
		int urole = rove_role_parse(f->role);
		refused = true;
		if (!f->found)
			rove_error("%s: no user '%s'%s", rove_reason_name(ROVE_R_INVALID), user,
				   role == ROVE_ROLE_ADMIN ? "" : " in your territories");
		else if (!rove_rules_role_may_own(urole))
			rove_error("%s: '%s' is %s; targets go to reps and managers", rove_reason_name(ROVE_R_INVALID),
				   user, rove_role_with_article(urole));
		else
			refused = false;
	}
	free(f);
	return refused ? cli_exit(ROVE_EPERM) : ROVE_EXIT_OK;
}

int target_set(rove_cli *cli, const rove_coll_def *c, int argc, char **argv)
{
	const char *user = NULL, *period = NULL, *amount = NULL;
	rove_replica r;
	rove_record *rec;
	rove_op *op;
	rove_uuid id;
	rove_stamp st0 = {{0}, 0};
	cli_opt o;
	int k, rc;

	cli_opt_init(&o, argc, argv, 2, opts);
	while ((k = cli_opt_next(&o)) != CLI_OPT_END) {
		if (k == 'h')
			return cli_usage(help, true);
		if (k == OPT_PERIOD)
			period = o.arg;
		else if (k == OPT_AMOUNT)
			amount = o.arg;
		else if (k == CLI_OPT_WORD && o.arg[0] != '-' && user == NULL)
			user = o.arg;
		else if (k == CLI_OPT_MISSING)
			break;
		else {
			cli_opt_unexpected(&o, k);
			return cli_usage(help, false);
		}
	}
	if (k == CLI_OPT_MISSING) {
		cli_opt_missing_error(&o);
		return cli_usage(help, false);
	}
	if (user == NULL || period == NULL || amount == NULL)
		return cli_usage(help, false);
	rec = malloc(sizeof(*rec));
	op = malloc(sizeof(*op));
	if (rec == NULL || op == NULL) {
		free(rec);
		free(op);
		return ROVE_EXIT_FAIL;
	}
	memset(&id, 0, sizeof(id));
	rove_op_init(op, ROVE_OP_CREATE, c->id, &id, st0);
	rc = rec_set_field(op, rove_schema_field(c, "user"), user);
	if (rc == ROVE_OK)
		rc = rec_set_field(op, rove_schema_field(c, "period"), period);
	if (rc == ROVE_OK)
		rc = rec_set_field(op, rove_schema_field(c, "amount"), amount);
	/* One target per user and month, the same id everywhere; one
	 * deleted is set again under it (the server makes it live again). */
	if (rc == ROVE_OK && (rove_fields_str(&op->fs, "user") == NULL || rove_fields_str(&op->fs, "period") == NULL)) {
		rove_error("a target needs a user and a month");
		rc = ROVE_EINVAL;
	}
	if (rc == ROVE_OK) {
		rove_target_id(rove_fields_str(&op->fs, "user"), rove_fields_str(&op->fs, "period"), &op->rid);
		rc = cli_open(cli, &r);
	}
	/* Managers and admins: the user as the server sees it (the replica
	 * closed while it is asked). Others are refused by the precheck. */
	if (rc == ROVE_OK) {
		int role = rove_role_parse(r.role);
		if (role == ROVE_ROLE_MANAGER || role == ROVE_ROLE_ADMIN) {
			int status;
			rove_replica_close(&r);
			status = target_user_check(cli, rove_fields_str(&op->fs, "user"), role);
			if (status != ROVE_EXIT_OK) {
				free(rec);
				free(op);
				return status;
			}
			rc = cli_open(cli, &r);
		}
	}
	if (rc == ROVE_OK) {
		bool exists = rove_replica_get(&r, c->id, &op->rid, rec) == ROVE_OK;
		op->kind = exists ? ROVE_OP_UPDATE : ROVE_OP_CREATE;
		rc = rec_write_op(&r, op, exists ? rec : NULL);
		rove_replica_close(&r);
	}
	free(rec);
	free(op);
	return cli_exit(rc);
}

int target_add(rove_cli *cli, const rove_coll_def *c, int argc, char **argv)
{
	(void)cli;
	(void)c;
	(void)argc;
	(void)argv;
	rove_error("use 'rove target set USER --period YYYY-MM --amount A'");
	return ROVE_EXIT_USAGE;
}
