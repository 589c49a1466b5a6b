/*
 * cmd_opportunity.c - `rove opportunity stage ID STAGE`: a deal through the
 * funnel, a `set` of its stage and closing day; `rove opportunity history
 * ID`: who owned the deal (who is credited with it), when and by whom.
 */
#include "rec.h"
#include "err.h"
#include "cli_opt.h"
#include "hlc.h"
#include "rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int opportunity_stage(rove_cli *cli, const rove_coll_def *c, int argc, char **argv)
{
	static const char help[] =
		"usage: rove opportunity stage ID STAGE\n"
		"\n"
		"Move a deal: lead -> qualified -> proposal -> negotiation -> won / lost.\n"
		"Won and lost deals are closed today (closed_on).\n";
	char *args[8];
	char stage[64], closed[40];
	int n = 0;

	if (cli_opt_help(argc, argv, 2))
		return cli_usage(help, true);
	if (argc != 4)
		return cli_usage(help, false);
	snprintf(stage, sizeof(stage), "stage=%s", argv[3]);
	args[n++] = argv[0];
	args[n++] = "set";
	args[n++] = argv[2];
	args[n++] = stage;
	if (rove_rules_deal_closed(argv[3])) {
		char today[40];
		rove_replica r;
		uint64_t now = rove_wall_ms();
		/* today by the replica's clock (rove_replica_now_ms); a replica
		 * that does not open is said so by rec_change below */
		if (rove_replica_open(cli->dir, &r) == ROVE_OK) {
			now = rove_replica_now_ms(&r);
			rove_replica_close(&r);
		}
		out_time(now, today, sizeof(today));
		snprintf(closed, sizeof(closed), "closed_on=%.10s", today);
		args[n++] = closed;
	} else {
		snprintf(closed, sizeof(closed), "closed_on=");
		args[n++] = closed;
	}
	args[n] = NULL;
	return rec_change(cli, c, n, args, false);
}

int opportunity_history(rove_cli *cli, const rove_coll_def *c, int argc, char **argv)
{
	static const char help[] = "usage: rove opportunity history ID [--json]\n"
				   "\n"
				   "The deal's owners (who is credited with it): its create and every\n"
				   "change of owner - a manager's, or its customer's reassignment - with\n"
				   "who, when and by whom.\n";
	rec_list_ctx lc = {.c = rove_schema_coll(ROVE_COLL_OWNERSHIP), .history = true, .sort = "at"};
	char deal[ROVE_UUID_STRLEN + 1], customer[ROVE_UUID_STRLEN + 1];
	const char *cid;
	rove_replica r;
	rove_record *rec;
	int rc;

	switch (rec_id_args(argc, argv, &lc.deal, &lc.json)) {
	case REC_ARGS_HELP:
		return cli_usage(help, true);
	case REC_ARGS_USAGE:
		return cli_usage(help, false);
	}
	rec = malloc(sizeof(*rec));
	if (rec == NULL)
		return ROVE_EXIT_FAIL;
	rc = rec_load(cli, c, lc.deal, &r, rec);
	if (rc == ROVE_OK) {
		rove_uuid_format(&rec->id, deal);
		cid = rove_fields_str(&rec->fs, "customer");
		snprintf(customer, sizeof(customer), "%s", cid != NULL ? cid : "");
	}
	free(rec);
	if (rc != ROVE_OK)
		return cli_exit(rc);
	lc.deal = deal;
	lc.parent = customer;
	return rec_list_print(&r, &lc);
}
