/*
 * cli.h - what every `rove` command shares: global options, opening the
 * replica, exit codes, and the command table's entry type.
 *
 * To add a command: write cmd_NAME.c with `int cmd_NAME(rove_cli *, int,
 * char **)`, its options a struct option table next to its usage text
 * (cli_opt.h; those it cannot run without marked CLI_OPT_REQUIRED, which
 * t_cli checks against the usage line); declare it here; add a row to commands[] in main.c. `rove
 * --list-commands` then lists it and tests/integration/t_help.sh checks
 * its --help and a bad option. A command with subcommands gives its row
 * a lister that prints them from the command's own table
 * (cmd_report_subs). A verb of a record command is a row in cmd_record.c
 * (rec.h); a field of a record is a row in common/schema.c.
 */
#ifndef ROVE_CLI_H
#define ROVE_CLI_H

#include "log.h"
#include "replica.h"
#include "schema.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

enum rove_exit {
	ROVE_EXIT_OK = 0,
	ROVE_EXIT_FAIL = 1,    /* the command failed; nothing changed */
	ROVE_EXIT_USAGE = 2,   /* bad command line */
	ROVE_EXIT_UNREACH = 3, /* server unreachable; local data untouched */
};

/* A usage error found after the command line was parsed (an id that is
 * not one, an unknown field), already reported: cli_exit makes it exit
 * status 2. Returned only by client code, beside the rove errors, which
 * are never negative. */
#define CLI_EUSAGE (-1)

typedef struct rove_cli {
	const char *dir; /* replica directory */
	int timeout_ms;
} rove_cli;

/* A row of main.c's command table: `rove NAME ARGS...` runs fn with argv[0]
 * NAME. subs, when a command has subcommands, prints them one a line
 * ("NAME VERB", from the command's own table) for `rove --list-commands`. */
typedef struct cli_cmd {
	const char *name;
	int (*fn)(rove_cli *cli, int argc, char **argv);
	void (*subs)(FILE *f, const char *name);
} cli_cmd;

/* A command of words only (no options of its own: set, delete, stage,
 * assign, territory set, rejected retry): fn(cli, argc, argv, arg) on
 * argv without rove's own options (-R DIR, --timeout MS), which may stand
 * anywhere after the command's name argv[0..first - 1], taken by the
 * option parser's hook (cli_opt_globals). fn's exit status, or a usage
 * error's (one of rove's own refused, said) or out of memory's. */
typedef int (*cli_words_fn)(rove_cli *cli, int argc, char **argv, void *arg);
int cli_on_words(rove_cli *cli, int argc, char **argv, int first, cli_words_fn fn, void *arg);
/* cli with its timeout bounded for a check that is only advice
 * (ROVE_ADVICE_TIMEOUT_MS, or --timeout if shorter). */
rove_cli cli_advice(const rove_cli *cli);
/* Opens the replica, reporting a clear error; returns a rove error. */
int cli_open(const rove_cli *cli, rove_replica *r);
/* The exit status for a rove error or CLI_EUSAGE. */
int cli_exit(int rove_err);
/* What a command that reached the server and got no answer in time
 * (cmd: its words, for the example) adds: the answer may have been on
 * its way, and a longer --timeout gives it time. */
#define CLI_SLOW_LINK(cmd)                                                                                    \
	" (over a slow link an answer may still have been on its way: a longer --timeout gives it time, "     \
	"e.g. rove --timeout 120000 " cmd ")"
/* What "no customer 'X' in this replica" adds: the replica holds what
 * its last sync brought (a territory an admin just added on the server
 * is not in his replica until his next sync). */
#define CLI_NOT_HERE " (as of its last sync: 'rove sync' brings what was made elsewhere since)"
/* Parses an id given on the command line; a usage error (CLI_EUSAGE,
 * reported as "invalid WHAT id 'ARG'", what being "customer", say) if it
 * is not one. */
int cli_id_arg(const char *arg, const char *what, rove_uuid *id);
/* Whether arg is a whole id or could abbreviate one: at least
 * ROVE_MIN_ID_ABBREV hex digits, dashes allowed. */
bool cli_id_maybe(const char *arg);
/* The same, arg's hex digits (lower case, no dashes) into want. */
bool cli_id_abbrev(const char *arg, char want[33]);
/* Whether arg is hex digits (and dashes) too few to abbreviate an id:
 * cli_id_find then lists the ids it fits, as a usage error. */
bool cli_id_short(const char *arg);
/* Whether want (from cli_id_abbrev) is the start or the end of id's
 * digits. */
bool cli_id_abbrev_matches(const rove_uuid *id, const char *want);
/* How many of an id's last characters a list shows (its short form). */
#define CLI_SHORT_ID_LEN 12
/* The record of coll in r whose id arg is (any case) or abbreviates: at
 * least ROVE_MIN_ID_ABBREV hex digits of its start or of its end, with or
 * without the dashes. ROVE_OK with *id; ROVE_ENOTFOUND when none matches
 * (reported: "no WHAT 'ARG' in this replica"); CLI_EUSAGE when arg cannot
 * be one, is found only inside ids (said so), or matches several
 * (reported, the candidates listed with their names); another rove error if the replica cannot be read (reported). */
int cli_id_find(rove_replica *r, uint8_t coll, const char *arg, const char *what, rove_uuid *id);
/* Prints text to stdout for --help (status 0) or to stderr (status 2). */
int cli_usage(const char *text, bool ok);
/* Secrets shown once (tokens) on stdout, kept until the command knows
 * they were written: were stdout not writable (a full disk, a closed
 * pipe), the server changed them all the same, so they go to stderr. */
typedef struct cli_secret {
	FILE *copy; /* the lines as shown; NULL if it could not be made */
	char *text;
	size_t len;
} cli_secret;
void cli_secret_begin(cli_secret *s);
/* A line of the server's answer, shown (the server is not trusted to send
 * only text), on stdout and in s. */
void cli_secret_line(cli_secret *s, const char *line, uint32_t len);
/* Flushes stdout; if it could not be written, says so and shows s's lines
 * (what they are: "the new token") on stderr once. Frees s. Returns
 * status, or ROVE_EXIT_FAIL once stdout failed. */
int cli_secret_end(cli_secret *s, int status, const char *what);
/* main's last word: stdout flushed and closed; a failure is said and is
 * no success (ROVE_EXIT_FAIL for ROVE_EXIT_OK; status otherwise). */
int cli_stdout_close(int status);
/* True if arg is -h or --help. */
bool cli_is_help(const char *arg);
/* Parses argv[1..] of a command whose options are flags, no value: names
 * (NULL-ended, at most CLI_MAX_FLAGS; "json" for --json), given[i] set
 * when names[i] is given. False when the command is over: help printed
 * (for -h or --help anywhere before an unknown argument) or a usage
 * error reported, and *status is the exit status. */
#define CLI_MAX_FLAGS 4
bool cli_parse_flags(int argc, char **argv, const char *help, const char *const *names, bool *given, int *status);
/* Parses argv[1..] of a command whose only option is --json, setting *json
 * when it is given. False when the command is over: help printed (for -h or
 * --help anywhere before an unknown argument) or a usage error reported, and
 * *status is the exit status. */
bool cli_parse_json_flag(int argc, char **argv, const char *help, bool *json, int *status);
/* The start of a command whose only option is --json: cli_parse_json_flag,
 * then cli_open. False when the command is over (*status its exit
 * status); true with r open, for the caller to close. */
bool cli_open_json(const rove_cli *cli, int argc, char **argv, const char *help, bool *json, rove_replica *r,
		   int *status);

/* Checks of what a command line names, each reporting what is wrong: a
 * server URL a client can dial (rove_net_url_valid); a token of
 * ROVE_TOKEN_HEX hex digits, into out in lower case; a CA file that
 * exists, into out as an absolute path ("" stays "": none); a login and a
 * territory code as the server takes them (rove_login_valid,
 * rove_code_valid). */
bool cli_server_ok(const char *url);
bool cli_token_ok(const char *token, char out[ROVE_TOKEN_HEX + 1]);
bool cli_ca_ok(const char *ca, char out[ROVE_MAX_URL + 1]);
bool cli_login_ok(const char *login);
bool cli_code_ok(const char *code);
/* A command-line argument quoted for a message (rove_log_quote: escapes
 * shown, cut after about 70 bytes) into a buffer that lives until the end
 * of the enclosing block. */
#define CLI_QUOTE_MAX 80
#define CLI_QUOTE(s) rove_log_quote((char[CLI_QUOTE_MAX]){0}, CLI_QUOTE_MAX, (s))

/* The collection KIND names in `rove import KIND` and `rove export KIND`:
 * customers, contacts, opportunities, contracts, activities or dealers
 * (or the singular); NULL for anything else. */
const rove_coll_def *cli_io_coll(const char *what);
/* The plural a collection is named by there ("opportunities"). */
const char *cli_io_plural(const rove_coll_def *c);

int cmd_init(rove_cli *cli, int argc, char **argv);
int cmd_config(rove_cli *cli, int argc, char **argv);
int cmd_sync(rove_cli *cli, int argc, char **argv);
int cmd_status(rove_cli *cli, int argc, char **argv);
/* customer, contact, contract, opportunity, activity, dealer, target and
 * territory: argv[0] names the collection (cmd_record.c). */
int cmd_record(rove_cli *cli, int argc, char **argv);
void cmd_record_subs(FILE *f, const char *name);
int cmd_notices(rove_cli *cli, int argc, char **argv);  /* cmd_record.c */
int cmd_report(rove_cli *cli, int argc, char **argv);
/* cmd_report with the report written to out instead of stdout (rove ui's
 * CSV export: the very bytes `rove report X --csv` prints). */
int cmd_report_to(rove_cli *cli, int argc, char **argv, FILE *out);
void cmd_report_subs(FILE *f, const char *name);
int cmd_import(rove_cli *cli, int argc, char **argv);
int cmd_export(rove_cli *cli, int argc, char **argv);
int cmd_rejected(rove_cli *cli, int argc, char **argv);
void cmd_rejected_subs(FILE *f, const char *name);
int cmd_pending(rove_cli *cli, int argc, char **argv);
/* Set while `rove sync --repair` makes the replica's file anew
 * (cmd_sync.c): a fault then is the repair's own, on a file it cannot
 * read, and main's fault handler says so instead of naming the repair
 * again (attack eighty-nine: a crash loop). */
extern volatile sig_atomic_t cli_repairing;
int cmd_conflicts(rove_cli *cli, int argc, char **argv);
int cmd_admin(rove_cli *cli, int argc, char **argv);
int cmd_feed(rove_cli *cli, int argc, char **argv);
/* `rove admin import territories|users FILE` (cmd_admin_import.c): argv[0]
 * is "admin", argv[1] "import". */
int cmd_admin_import(rove_cli *cli, int argc, char **argv);
extern const char cmd_admin_import_help[];
void cmd_admin_subs(FILE *f, const char *name);
/* For rove ui (cmd_admin.c): cmd_admin with the lines of the server's
 * answer it prints (a new token) written to out instead of stdout. */
int cmd_admin_to(rove_cli *cli, int argc, char **argv, FILE *out);
/* A user as `rove admin user list|show` reads them from the server;
 * pointers into the answer, valid during the callback. */
typedef struct cli_admin_user {
	const char *login, *role;
	bool disabled;
	uint64_t synced_ms;
	uint32_t nterr;
	const char *terr[ROVE_MAX_USER_TERRITORIES];
} cli_admin_user;
typedef void (*cli_admin_user_fn)(const cli_admin_user *u, void *arg);
/* `rove admin user list` (login NULL) or `rove admin user show LOGIN`:
 * the same request and checks, each user to fn once the whole answer is
 * checked. The exit status; what failed is reported (rove_error). */
int cmd_admin_users(rove_cli *cli, const char *login, cli_admin_user_fn fn, void *arg);
/* The same for a command that goes on without the answer whenever it
 * cannot be had: why (the server unreachable, or refusing the request: a
 * token it does not know, a disabled user) is written into why, not
 * reported; the exit status as above. */
int cmd_admin_users_why(rove_cli *cli, const char *login, cli_admin_user_fn fn, void *arg, char *why, size_t whylen);
/* One user looked for by login in such an answer (cli_user_find as the
 * callback, with login set and the rest zeroed): found, and as shown. */
typedef struct cli_user_found {
	const char *login;
	bool found;
	char role[ROVE_MAX_NAME + 1];
	bool disabled;
	uint32_t nterr;
	char terr[ROVE_MAX_USER_TERRITORIES][ROVE_MAX_NAME + 1];
} cli_user_found;
void cli_user_find(const cli_admin_user *u, void *arg);
/* The users this replica's user may see, asked of the server as advice
 * before a change is queued (cli_advice's wait), each to fn: true if the
 * server answered. Else the warning "WHAT not checked (why); THEN" is
 * said (nothing as an error: the command goes on, the server decides on
 * sync) and false returned. */
bool cmd_admin_users_advice(rove_cli *cli, cli_admin_user_fn fn, void *arg, const char *what, const char *then);
int cmd_ui(rove_cli *cli, int argc, char **argv); /* ui_server.c */

#endif
