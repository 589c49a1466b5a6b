/*
 * cmd_record.c - the record commands: `rove customer ...` and the others
 * named after a collection of the schema. record_cmds below says which
 * verbs each accepts and gives its help; the verbs are in rec_*.c and
 * cmd_COLLECTION.c (rec.h).
 */
#include "rec.h"
#include "err.h"
#include "log.h"

#include <string.h>

static int activity_change(rove_cli *cli, const rove_coll_def *c, int argc, char **argv)
{
	(void)cli;
	(void)c;
	(void)argc;
	(void)argv;
	rove_error("activities are append-only: add a new one instead (managers and admins may delete one)");
	return ROVE_EXIT_FAIL;
}

static const rec_verb customer_verbs[] = {
	{"add", rec_add}, {"list", rec_list}, {"show", rec_show}, {"set", rec_set},
	{"claim", customer_claim}, {"release", customer_release}, {"history", customer_history},
	{"delete", rec_delete}, {NULL, NULL},
};
static const rec_verb editable_verbs[] = {
	{"add", rec_add}, {"list", rec_list}, {"show", rec_show}, {"set", rec_set},
	{"delete", rec_delete}, {NULL, NULL},
};
static const rec_verb opportunity_verbs[] = {
	{"add", rec_add}, {"list", rec_list}, {"show", rec_show}, {"set", rec_set},
	{"delete", rec_delete}, {"stage", opportunity_stage}, {"history", opportunity_history}, {NULL, NULL},
};
static const rec_verb activity_verbs[] = {
	{"add", rec_add}, {"list", rec_list}, {"show", rec_show}, {"delete", rec_delete}, {NULL, NULL},
};
static const rec_verb target_verbs[] = {
	{"set", target_set}, {"list", rec_list}, {"show", rec_show}, {"delete", rec_delete}, {NULL, NULL},
};
static const rec_verb read_only_verbs[] = {{"list", rec_list}, {"show", rec_show}, {NULL, NULL}};

/* Verbs that are no command of the collection, only a pointer to the one
 * to use instead (not in `rove --list-commands`). */
static const rec_verb activity_redirects[] = {{"set", activity_change}, {NULL, NULL}};
static const rec_verb target_redirects[] = {{"add", target_add}, {NULL, NULL}};

static const char customer_help[] =
	"usage: rove customer add --name N [--tax-id X] [--phone P] [--territory CODE] [--tier T]\n"
	"       rove customer list [--json]\n"
	"       rove customer show ID [--json]\n"
	"       rove customer set ID FIELD=VALUE...\n"
	"       rove customer claim ID | release ID\n"
	"       rove customer history ID [--json]\n"
	"       rove customer delete ID\n"
	"\n"
	"Customers (客户). Changes are made offline and sent on the next sync.\n"
	"Run 'rove customer add --help' for every field.\n";

static const char contact_help[] =
	"usage: rove contact add --customer ID --name N [--phone P] [--email E] [--title T]\n"
	"       rove contact list [--customer ID] [--json]\n"
	"       rove contact show ID [--json] | set ID FIELD=VALUE... | delete ID\n"
	"\n"
	"A customer's contacts (联系人); they follow their customer's owner.\n";

static const char contract_help[] =
	"usage: rove contract add --customer ID --number N --amount A [--signed-on DATE] [--status S]\n"
	"       rove contract list [--customer ID] [--json]\n"
	"       rove contract show ID [--json] | set ID FIELD=VALUE... | delete ID\n"
	"\n"
	"A customer's contracts (合同); amounts in currency units (12000.50).\n";

static const char opportunity_help[] =
	"usage: rove opportunity add --customer ID --title T [--amount A] [--stage S] [--expected-close DATE]\n"
	"       rove opportunity stage ID STAGE\n"
	"       rove opportunity list [--customer ID] [--json]\n"
	"       rove opportunity show ID [--json] | set ID FIELD=VALUE... | delete ID\n"
	"\n"
	"Sales opportunities (商机) through the funnel: lead, qualified, proposal,\n"
	"negotiation, then won or lost.\n";

static const char activity_help[] =
	"usage: rove activity add --customer ID --kind visit|call|note [--at TIME] [--note TEXT] [--location L]\n"
	"       rove activity list [--customer ID] [--json]\n"
	"       rove activity show ID [--json]\n"
	"       rove activity delete ID\n"
	"\n"
	"Follow-up records (跟进记录): visits, calls and notes. Append-only: never\n"
	"changed, and deleted only by managers and admins (one logged by mistake);\n"
	"reps delete nothing. A visit may carry a location. --at defaults to now.\n";

static const char dealer_help[] =
	"usage: rove dealer add --name N --territory CODE [--phone P]\n"
	"       rove dealer list [--json]\n"
	"       rove dealer show ID [--json] | set ID FIELD=VALUE... | delete ID\n"
	"\n"
	"Dealers (经销商) of a territory; managers and admins maintain them.\n";

static const char target_help[] =
	"usage: rove target set USER --period YYYY-MM --amount A\n"
	"       rove target list [--json]\n"
	"       rove target show ID [--json] | delete ID\n"
	"\n"
	"Monthly sales targets per rep (目标), set by managers and admins.\n";

static const char territory_help[] =
	"usage: rove territory list [--json]\n"
	"       rove territory show CODE|ID [--json]\n"
	"\n"
	"The territories this replica holds (admins add them with\n"
	"'rove admin territory add').\n";

/* The record commands: each is named after its schema collection and
 * accepts exactly the verbs listed (collections the server alone writes
 * list no add, set or delete), and its redirects. */
static const struct record_cmd {
	uint8_t coll;
	const char *help;
	const rec_verb *verbs;
	const rec_verb *redirects; /* NULL: none */
} record_cmds[] = {
	{ROVE_COLL_CUSTOMER, customer_help, customer_verbs, NULL},
	{ROVE_COLL_CONTACT, contact_help, editable_verbs, NULL},
	{ROVE_COLL_CONTRACT, contract_help, editable_verbs, NULL},
	{ROVE_COLL_OPPORTUNITY, opportunity_help, opportunity_verbs, NULL},
	{ROVE_COLL_ACTIVITY, activity_help, activity_verbs, activity_redirects},
	{ROVE_COLL_DEALER, dealer_help, editable_verbs, NULL},
	{ROVE_COLL_TARGET, target_help, target_verbs, target_redirects},
	{ROVE_COLL_TERRITORY, territory_help, read_only_verbs, NULL},
};

/* The row of record_cmds for command name; NULL if none. */
static const struct record_cmd *record_cmd(const char *name)
{
	for (size_t k = 0; k < sizeof(record_cmds) / sizeof(record_cmds[0]); k++)
		if (strcmp(name, rove_schema_coll(record_cmds[k].coll)->name) == 0)
			return &record_cmds[k];
	return NULL;
}

void cmd_record_subs(FILE *f, const char *name)
{
	const struct record_cmd *rc = record_cmd(name);

	for (const rec_verb *v = rc != NULL ? rc->verbs : NULL; v != NULL && v->name != NULL; v++)
		fprintf(f, "%s %s\n", name, v->name);
}

int cmd_record(rove_cli *cli, int argc, char **argv)
{
	const struct record_cmd *rc = record_cmd(argv[0]);
	const char *sub = argc > 1 ? argv[1] : NULL;
	const rove_coll_def *c;

	if (rc == NULL) {
		rove_error("'%s' is not a record command", argv[0]); /* main.c's table is wrong */
		return ROVE_EXIT_FAIL;
	}
	c = rove_schema_coll(rc->coll);
	if (sub == NULL) {
		rove_error("missing a %s command", c->name);
		return cli_usage(rc->help, false);
	}
	if (cli_is_help(sub))
		return cli_usage(rc->help, true);
	for (const rec_verb *v = rc->verbs; v->name != NULL; v++) {
		if (strcmp(sub, v->name) == 0)
			return v->fn(cli, c, argc, argv);
	}
	for (const rec_verb *v = rc->redirects; v != NULL && v->name != NULL; v++) {
		if (strcmp(sub, v->name) == 0)
			return v->fn(cli, c, argc, argv);
	}
	rove_error("unknown %s command '%s'", c->name, sub);
	return cli_usage(rc->help, false);
}

int cmd_notices(rove_cli *cli, int argc, char **argv)
{
	static const char help[] =
		"usage: rove notices [--json]\n"
		"\n"
		"Messages from the server to you, such as customers about to return to\n"
		"the public pool for lack of follow-up, oldest first.\n";
	/* In the order they were given (ties by id), read through the
	 * replica's order of notices by time. */
	char *args[6] = {argv[0], "list", "--sort", "at", "--json", NULL};
	bool json = false;
	int status;

	if (!cli_parse_json_flag(argc, argv, help, &json, &status))
		return status;
	return rec_list(cli, rove_schema_coll(ROVE_COLL_NOTICE), json ? 5 : 4, args);
}
