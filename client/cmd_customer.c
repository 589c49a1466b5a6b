/*
 * cmd_customer.c - the verbs only customers have: claim and release
 * through the public pool (公海), and the ownership history.
 */
#include "rec.h"
#include "cli_opt.h"
#include "err.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

static const char claim_help[] =
	"usage: rove customer claim ID\n"
	"\n"
	"Claim a customer from your territory's public pool. When several reps\n"
	"claim one customer, the first to reach the server wins.\n";

static const char release_help[] =
	"usage: rove customer release ID [--reason TEXT]\n"
	"\n"
	"Give a customer you own back to the public pool of its territory.\n"
	"Some territories require a reason.\n";

enum { OPT_REASON = CLI_OPT_LONG };

/* release's options; claim has only --help (pool_opts + 1). */
static const struct option pool_opts[] = {
	{"reason", required_argument, NULL, OPT_REASON},
	{NULL, 0, NULL, 0},
};

/* claim / release: through the public pool (公海). */
static int customer_pool(rove_cli *cli, const rove_coll_def *c, int argc, char **argv, bool claim)
{
	const char *help = claim ? claim_help : release_help;
	rove_stamp st0 = {{0}, 0};
	const char *owner, *id = NULL, *reason = NULL;
	rec_edit ch;
	cli_opt o;
	int k, rc;

	if (cli_opt_help(argc, argv, 2))
		return cli_usage(help, true);
	cli_opt_init(&o, argc, argv, 2, claim ? pool_opts + 1 : pool_opts);
	while ((k = cli_opt_next(&o)) != CLI_OPT_END) {
		if (k == OPT_REASON)
			reason = o.arg;
		else if (id == NULL && (k == CLI_OPT_WORD || k == CLI_OPT_UNKNOWN))
			id = o.arg; /* any word but an option: an id that is not one is said so */
		else {
			cli_opt_unexpected(&o, k);
			return cli_usage(help, false);
		}
	}
	if (id == NULL) {
		rove_error("missing the customer's ID");
		return cli_usage(help, false);
	}
	if (reason != NULL && reason[0] == '\0') {
		rove_error("--reason needs a text (leave it out for no reason)");
		return ROVE_EXIT_USAGE;
	}
	rc = rec_edit_open(cli, c, id, &ch);
	if (rc != ROVE_OK)
		return cli_exit(rc);
	owner = rove_fields_str(&ch.rec->fs, "owner");
	if (claim && owner != NULL) {
		rove_error("customer is already owned by %s", owner);
		rc = ROVE_EPERM;
	} else if (!claim && (owner == NULL || strcmp(owner, ch.r.auth.user) != 0) && strcmp(ch.r.role, "rep") == 0) {
		rove_error("you do not own this customer");
		rc = ROVE_EPERM;
	} else if (!claim && owner == NULL) {
		rove_error("customer is already in the pool");
		rc = ROVE_EINVAL;
	}
	if (rc == ROVE_OK) {
		rove_op_init(ch.op, claim ? ROVE_OP_CLAIM : ROVE_OP_RELEASE, c->id, &ch.rec->id, st0);
		rc = rove_op_set(ch.op, "owner", claim ? rove_vcstr(ch.r.auth.user) : rove_vnull());
		if (rc == ROVE_OK && reason != NULL)
			rc = rove_op_set(ch.op, "release_reason", rove_vcstr(reason));
		if (rc != ROVE_OK)
			rove_error("cannot save: %s", rove_strerror(rc));
	}
	return rec_edit_close(&ch, rc);
}

int customer_claim(rove_cli *cli, const rove_coll_def *c, int argc, char **argv)
{
	return customer_pool(cli, c, argc, argv, true);
}

int customer_release(rove_cli *cli, const rove_coll_def *c, int argc, char **argv)
{
	return customer_pool(cli, c, argc, argv, false);
}

static const char history_help[] =
	"usage: rove customer history ID [--json] [--search TEXT] [--sort FIELD[:desc]] [--limit N]\n"
	"\n"
	"The customer's ownership history: every create, claim, release,\n"
	"recycle and reassignment, with who, when and why; in time order\n"
	"unless --sort names another field of its entries.\n";

/* The history of the customer with the whole id given, also one this
 * replica no longer shows (deleted: rule 12 keeps its history, and the
 * replica of an admin or analyst holds it). The exit status. */
static int whole_id_history(rove_cli *cli, rec_list_ctx *lc, const rove_uuid *id)
{
	char idtext[ROVE_UUID_STRLEN + 1];
	rove_replica r;
	int rc = cli_open(cli, &r);

	if (rc != ROVE_OK)
		return cli_exit(rc);
	rove_uuid_format(id, idtext); /* as stored, whatever case it was typed in */
	lc->parent = idtext;
	rc = rec_customer_named(&r, lc->c, lc->history, id, idtext);
	if (rc == ROVE_OK)
		return rec_list_print(&r, lc);
	rove_replica_close(&r);
	return cli_exit(rc);
}

int customer_history(rove_cli *cli, const rove_coll_def *c, int argc, char **argv)
{
	const rove_coll_def *hc = rove_schema_coll(ROVE_COLL_OWNERSHIP);
	rec_list_ctx lc = {.c = hc, .history = true, .sort = "at"}; /* the customer's own, in time order */
	rove_replica r;
	rove_record *rec;
	char id[ROVE_UUID_STRLEN + 1]; /* as stored, whatever case it was typed in */
	char sortf[ROVE_MAX_FIELD_NAME + 1];
	rove_uuid whole;
	int rc;

	switch (rec_history_args(&lc, argc, argv, sortf)) {
	case REC_ARGS_HELP:
		return cli_usage(history_help, true);
	case REC_ARGS_USAGE:
		return cli_usage(history_help, false);
	}
	(void)rec_list_filters(NULL, &lc, NULL); /* the search's forms; no territory: no replica read */
	if (rove_uuid_parse(lc.parent, &whole) == ROVE_OK)
		return whole_id_history(cli, &lc, &whole);
	rec = malloc(sizeof(*rec));
	if (rec == NULL)
		return ROVE_EXIT_FAIL;
	rc = rec_load(cli, c, lc.parent, &r, rec);
	if (rc == ROVE_OK)
		rove_uuid_format(&rec->id, id);
	free(rec);
	if (rc != ROVE_OK)
		return cli_exit(rc);
	lc.parent = id;
	return rec_list_print(&r, &lc);
}
