/*
 * cmd_target.c - `rove target set USER --period YYYY-MM --amount A`: one
 * target per user and month, under an id made from both, so that setting
 * it again anywhere replaces it.
 */
#include "rec.h"
#include "err.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int target_set(rove_cli *cli, const rove_coll_def *c, int argc, char **argv)
{
	static const char help[] =
		"usage: rove target set USER --period YYYY-MM --amount A\n"
		"\n"
		"(managers, admins) Set a rep's target for a month; setting it again\n"
		"replaces it.\n";
	const char *user = NULL, *period = NULL, *amount = NULL;
	char name[128];
	rove_replica r;
	rove_record *rec;
	rove_op *op;
	rove_uuid id;
	rove_stamp st0 = {{0}, 0};
	int rc;

	for (int i = 2; i < argc; i++) {
		if (cli_is_help(argv[i]))
			return cli_usage(help, true);
		if (strcmp(argv[i], "--period") == 0 && i + 1 < argc)
			period = argv[++i];
		else if (strcmp(argv[i], "--amount") == 0 && i + 1 < argc)
			amount = argv[++i];
		else if (argv[i][0] != '-' && user == NULL)
			user = argv[i];
		else
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
	/* One target per user and month, the same id everywhere. */
	snprintf(name, sizeof(name), "target:%s:%s", user, period);
	rove_uuid_from_name(&id, name);
	rc = cli_open(cli, &r);
	if (rc == ROVE_OK) {
		bool exists = rove_replica_get(&r, c->id, &id, rec) == ROVE_OK;
		rove_op_init(op, exists ? ROVE_OP_UPDATE : ROVE_OP_CREATE, c->id, &id, st0);
		rc = rec_set_field(op, rove_schema_field(c, "user"), user);
		if (rc == ROVE_OK)
			rc = rec_set_field(op, rove_schema_field(c, "period"), period);
		if (rc == ROVE_OK)
			rc = rec_set_field(op, rove_schema_field(c, "amount"), amount);
		if (rc == ROVE_OK)
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
