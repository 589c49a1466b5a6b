/*
 * rove - the rep's command line: a local replica that works offline and
 * syncs with roved. See `rove --help` and SPEC.md's command-line contract.
 */
#include "cli.h"
#include "cli_opt.h"
#include "db.h"
#include "err.h"
#include "log.h"
#include "sync.h"
#include "text.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STR_(x) #x
#define STR(x) STR_(x)

static const char usage_text[] =
	"usage: rove [-R DIR | --replica DIR] [--timeout MS] COMMAND [ARGS]\n"
	"       rove --list-commands | --version\n"
	"\n"
	"The replica directory is DIR, else $ROVE_REPLICA, else ./.rove. --timeout\n"
	"bounds every wait for the server: connecting, and each reply (default\n"
	STR(ROVE_DEFAULT_TIMEOUT_MS) " ms); a server that does not answer in time is unreachable (exit 3),\n"
	"as is one whose connection was lost and that does not answer again.\n"
	"Both may also follow the command (rove status -R DIR), each given once.\n"
	"\n"
	"commands:\n"
	"  init --server URL --user NAME --token TOKEN   create a replica (offline)\n"
	"  config [KEY [VALUE]]         the replica's server, token and CA file\n"
	"  sync [--json]                push local changes, then pull the server's\n"
	"  status [--json]              user, role, pending ops, cursor, last sync\n"
	"  customer add|list|show|set|claim|release|history|delete ...\n"
	"                               work with customers\n"
	"  contact|contract|opportunity|activity add|list|show|set --customer ID ...\n"
	"                               a customer's contacts, contracts, deals, visits\n"
	"  opportunity stage ID STAGE   move a deal through the funnel\n"
	"  dealer add|list|show|set     dealers (经销商) of a territory\n"
	"  target set USER --period YYYY-MM --amount A | target list   monthly targets\n"
	"  report pipeline|targets|daily [--json|--csv]   reports on this replica\n"
	"  import customers|contacts|opportunities|contracts|activities|dealers FILE.csv\n"
	"                               all rows or none; --dry-run to check first\n"
	"  export KIND [--csv|--json]   the kinds import takes, back as import reads them\n"
	"  notices [--json]             messages from the server (pool recycling)\n"
	"  territory list|show          the territories this replica holds\n"
	"  pending [--json]             changes not confirmed by the server yet\n"
	"  rejected [--json] | rejected dismiss|retry OP   changes the server refused\n"
	"  conflicts [--json]           (managers, admins) refused changes of others\n"
	"  admin user|territory|assign|unassign|reassign ...   administration\n"
	"  ui [--port N] [--open]       this replica in a browser, on 127.0.0.1\n"
	"  feed postgres CONNINFO [--once]   (analysts) keep PostgreSQL in step\n"
	"\n"
	"Run 'rove COMMAND --help' for a command's options; --list-commands prints\n"
	"every command and subcommand, one a line.\n"
	"Exit status: 0 ok, 1 failed (nothing changed), 2 usage, 3 server unreachable.\n";

enum { OPT_TIMEOUT = CLI_OPT_LONG, OPT_LIST_COMMANDS, OPT_VERSION };

static const struct option global_opts[] = {
	{"replica", required_argument, NULL, 'R'},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"list-commands", no_argument, NULL, OPT_LIST_COMMANDS},
	{"version", no_argument, NULL, OPT_VERSION},
	{NULL, 0, NULL, 0},
};

/* Every command; a command with subcommands lists them from its own table. */
static const cli_cmd commands[] = {
	{"init", cmd_init, NULL},
	{"config", cmd_config, NULL},
	{"sync", cmd_sync, NULL},
	{"status", cmd_status, NULL},
	{"customer", cmd_record, cmd_record_subs},
	{"contact", cmd_record, cmd_record_subs},
	{"contract", cmd_record, cmd_record_subs},
	{"opportunity", cmd_record, cmd_record_subs},
	{"activity", cmd_record, cmd_record_subs},
	{"dealer", cmd_record, cmd_record_subs},
	{"target", cmd_record, cmd_record_subs},
	{"territory", cmd_record, cmd_record_subs},
	{"notices", cmd_notices, NULL},
	{"report", cmd_report, cmd_report_subs},
	{"import", cmd_import, NULL},
	{"export", cmd_export, NULL},
	{"pending", cmd_pending, NULL},
	{"rejected", cmd_rejected, cmd_rejected_subs},
	{"conflicts", cmd_conflicts, NULL},
	{"admin", cmd_admin, cmd_admin_subs},
	{"ui", cmd_ui, NULL},
	{"feed", cmd_feed, NULL},
};

/* `rove --list-commands`: every command, then each of its subcommands. */
static int list_commands(void)
{
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		printf("%s\n", commands[c].name);
		if (commands[c].subs != NULL)
			commands[c].subs(stdout, commands[c].name);
	}
	return fflush(stdout) == 0 ? ROVE_EXIT_OK : ROVE_EXIT_FAIL;
}

/* Applies --timeout's value; false if it is none (said). */
static bool set_timeout(rove_cli *cli, const char *arg)
{
	uint64_t ms;

	if (!rove_text_uint(arg, ROVE_MAX_TIMEOUT_MS, &ms) || ms == 0) {
		rove_error("invalid --timeout '%s': milliseconds, from 1 to %d (an hour)", arg, ROVE_MAX_TIMEOUT_MS);
		return false;
	}
	cli->timeout_ms = (int)ms;
	return true;
}

/* Applies -R's value; false if it is empty (said). */
static bool set_dir(rove_cli *cli, const char *value)
{
	if (value[0] == '\0') {
		rove_error("-R (--replica) needs a directory, not an empty word");
		return false;
	}
	cli->dir = value;
	return true;
}

/* rove's own options, as given so far: each at most once, before the
 * command's name or after it. */
typedef struct globals {
	rove_cli *cli;
	bool dir, timeout;
} globals;

/* rove's own options after the command's name (cli_opt_globals). */
static bool late_global(const char *name, const char *value, void *arg)
{
	globals *g = arg;
	bool dir = name[1] == 'R' || strncmp(name, "--replica", 9) == 0;
	bool *given = dir ? &g->dir : &g->timeout;

	if (*given) {
		int len = (int)strcspn(name, "=");
		rove_error("%.*s is given twice: give it once", len, name);
		return false;
	}
	*given = true;
	return dir ? set_dir(g->cli, value) : set_timeout(g->cli, value);
}

static int run(int argc, char **argv)
{
	rove_cli cli = {NULL, ROVE_DEFAULT_TIMEOUT_MS};
	globals g = {&cli, false, false};
	const char *env = getenv("ROVE_REPLICA");
	cli_opt o;
	int i, k;

	rove_log_init("rove", ROVE_LOG_WARN);
	/* (a bare LMDB damage code said no way out: attack eighty-eight) */
	rove_db_damage_hint("; 'rove sync --repair' makes it anew from what of it reads whole");
	cli.dir = env != NULL && env[0] != '\0' ? env : ".rove";
	/* The global options, up to the command's name. */
	cli_opt_init(&o, argc, argv, 1, global_opts);
	while ((k = cli_opt_next(&o)) != CLI_OPT_WORD) {
		switch (k) {
		case CLI_OPT_END:
			return cli_usage(usage_text, false);
		case 'h':
			return cli_usage(usage_text, true);
		case OPT_LIST_COMMANDS:
			return list_commands();
		case OPT_VERSION:
			/* what a bug report names; the protocol a server must speak */
			printf("rove %s (protocol %d)\n", ROVE_VERSION, ROVE_PROTO_VERSION);
			return ROVE_EXIT_OK;
		case 'R':
			if (!set_dir(&cli, o.arg))
				return ROVE_EXIT_USAGE;
			g.dir = true;
			break;
		case OPT_TIMEOUT:
			if (!set_timeout(&cli, o.arg))
				return ROVE_EXIT_USAGE;
			g.timeout = true;
			break;
		case CLI_OPT_NOVALUE: /* -R or --timeout without its value */
			rove_error("option '%s' needs a value", o.arg);
			return cli_usage(usage_text, false);
		default:
			if (!cli_opt_said(k))
				rove_error("unknown option '%s'", o.arg);
			return cli_usage(usage_text, false);
		}
	}
	i = o.at; /* the command's name */
	if (argv[i][0] == '-') { /* "-" */
		rove_error("unknown option '%s'", argv[i]);
		return cli_usage(usage_text, false);
	}
	if (strcmp(argv[i], "help") == 0)
		return cli_usage(usage_text, true);
	cli_opt_globals(late_global, &g);
	if (strcmp(argv[i], "ui") != 0)
		rove_sync_watchdog();
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		if (strcmp(argv[i], commands[c].name) == 0)
			return commands[c].fn(&cli, argc - i, argv + i);
	}
	rove_error("unknown command '%s'", argv[i]);
	return cli_usage(usage_text, false);
}

#ifndef ROVE_SANITIZED_BUILD
/* A fault: LMDB follows a damaged page of the replica's file as it is (a
 * bit flipped on the disk: attack eighty-two saw SIGSEGV in a search, a
 * sync, a list). Said, with what mends it, then exit 1: LMDB's
 * transaction in progress is never committed (what the command saved
 * before stays). Not in a sanitized build, whose runtime reports the
 * fault itself. */
static void on_fault(int sig)
{
	static const char segv[] = "rove: stopped on a fault (SIGSEGV) reading the replica: its file may be damaged; "
				   "what was saved before stays; 'rove sync --repair' checks it and makes it anew from "
				   "what of it reads whole\n";
	static const char bus[] = "rove: stopped on a fault (SIGBUS) reading the replica: its file may be damaged or "
				  "cut short; what was saved before stays; 'rove sync --repair' checks it and makes "
				  "it anew from what of it reads whole\n";
	/* LMDB writing through a damaged page (its node sizes taken as they
	 * are) damages the process's memory, which the C library then finds
	 * and aborts on (damage_hunt seed 5286); an assertion aborts too. */
	static const char abrt[] = "rove: stopped on a fault (SIGABRT: damaged memory, or a failed check, said above): "
				   "what the command had saved stays, the rest of it was not done; if the replica's file is "
				   "damaged, 'rove sync --repair' checks it and makes it anew from what of it reads whole\n";
	static const char repair[] = "rove: the repair stopped on a fault reading the damaged file: it cannot make it "
				     "anew, and its changes still pending cannot be read; move the directory aside (keep "
				     "it: its changes may still be recovered from it), set up a new replica with 'rove "
				     "init', and sync\n";
	const char *m = sig == SIGBUS ? bus : sig == SIGABRT ? abrt : segv;
	size_t n = sig == SIGBUS ? sizeof(bus) - 1 : sig == SIGABRT ? sizeof(abrt) - 1 : sizeof(segv) - 1;

	if (cli_repairing) {
		m = repair;
		n = sizeof(repair) - 1;
	}

	if (write(STDERR_FILENO, m, n) < 0) {
		/* nothing more can be said */
	}
	_exit(ROVE_EXIT_FAIL);
}
#endif

int main(int argc, char **argv)
{
#ifndef ROVE_SANITIZED_BUILD
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fault;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESETHAND; /* a fault in it: the default */
	(void)sigaction(SIGSEGV, &sa, NULL);
	(void)sigaction(SIGBUS, &sa, NULL);
	(void)sigaction(SIGABRT, &sa, NULL);
#endif
	return cli_stdout_close(run(argc, argv));
}
