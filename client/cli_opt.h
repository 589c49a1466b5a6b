/*
 * cli_opt.h - the one option parser of rove's commands: getopt_long over
 * a command's table of options, which sits next to the command's usage
 * text.
 *
 * Why a wrapper: getopt_long alone takes an abbreviation for a whole name
 * (--jso for --json), bundles short options (-hx), reorders the words of
 * a command line and prints messages of its own. rove's options are
 * whole names and one option a word, words are read in order, and every
 * message is rove's. cli_opt_next hands getopt_long one word at a time,
 * once it has checked that the word names an option of the table
 * exactly, and says what the word was; the command decides what an
 * unknown word or a missing value means (a usage error, exit 2, for
 * most; some commands take any word as an id).
 *
 * A table is getopt_long's: struct option entries with flag NULL, ended
 * by a zeroed entry, listing a command's own options. -h and --help are
 * every command's: cli_opt_next returns 'h' for them, and no table lists
 * them. An entry whose val is another ASCII letter has that letter as
 * its short form too (-R for --replica); options without a short form
 * take vals from CLI_OPT_LONG up. An option that takes a value
 * (required_argument) takes it after '=' or as the next word, whatever
 * that word is. An option the command cannot run without has its val
 * marked CLI_OPT_REQUIRED in the table: when the words are over and none
 * gave it, cli_opt_next says so (CLI_OPT_MISSING), and
 * cli_opt_missing_error reports it the same way for every command.
 *
 * Use:
 *	cli_opt o;
 *	cli_opt_init(&o, argc, argv, 2, table);
 *	while ((k = cli_opt_next(&o)) != CLI_OPT_END)
 *		switch (k) { case OPT_JSON: ...; case CLI_OPT_WORD: o.arg ...
 *		case CLI_OPT_MISSING: cli_opt_missing_error(&o); return usage... }
 *
 * Nothing is allocated; o.arg points into argv (CLI_OPT_MISSING: into the
 * table).
 */
#ifndef ROVE_CLI_OPT_H
#define ROVE_CLI_OPT_H

#include "rove_limits.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

/* The first val of an option without a short form: past every char. */
#define CLI_OPT_LONG 256
/* The mark of a required option in a table: {"to", required_argument,
 * NULL, OPT_TO | CLI_OPT_REQUIRED}. cli_opt_next returns the val without
 * it. Entries with the same val are one option (--tax-id and --tax_id):
 * either gives it. */
#define CLI_OPT_REQUIRED (1 << 16)
/* The mark of an option that may be given more than once, each time a
 * value (--territory of admin user add). Any other option that takes a
 * value, given twice, is CLI_OPT_TWICE: which of the two was meant is
 * not the parser's to guess. */
#define CLI_OPT_REPEAT (1 << 17)
/* Options that take a value, told apart for CLI_OPT_TWICE (past these,
 * a repeat goes unnoticed). */
#define CLI_OPT_MAX_SEEN 64
/* Required options in a table: record add's fields are the most. */
#define CLI_OPT_MAX_REQUIRED ROVE_MAX_FIELDS
_Static_assert(CLI_OPT_MAX_REQUIRED <= 64, "cli_opt.given holds a bit for each required option");

/* What cli_opt_next read, besides an option of the table (its val). */
enum cli_opt_kind {
	CLI_OPT_END = -1,      /* no word left */
	CLI_OPT_WORD = 1,      /* a word that is no option, "-" too: o.arg */
	CLI_OPT_UNKNOWN = '?', /* a word that starts with - and names no option of the table exactly (or
	                          gives a value to one that takes none); "--" is one too: o.arg */
	CLI_OPT_NOVALUE = ':', /* an option that takes a value, last on the line: o.arg as written, o.opt its val */
	CLI_OPT_TWICE = '2',   /* an option that takes a value (not marked CLI_OPT_REPEAT), given again, or one
	                          of rove's own refused (cli_opt_globals): said already ("--role is given
	                          twice"); o.arg the word, o.opt its val (0 for rove's own) */
	CLI_OPT_MISSING = '!', /* the words are over and none gave a required option: o.arg its name in the table
	                          (no --), o.opt its val; one for each such option, in table order, then the end */
};

/* getopt_long's short options: "-:" and each letter with its ':'. */
#define CLI_OPT_SHORTS (2 + 2 * 52 + 1)

typedef struct cli_opt {
	int argc;
	char **argv;
	const struct option *table;
	char shorts[CLI_OPT_SHORTS];
	int at;          /* index in argv of the word just read */
	int next;        /* index in argv of the word to read next */
	const char *arg; /* the value of the option read, or the word (see enum cli_opt_kind) */
	int opt;         /* the val of the option read (CLI_OPT_NOVALUE: of the option without its value) */
	int first;       /* argv[0..first - 1] name the command ("admin reassign") */
	uint32_t nreq;   /* the required options: their vals and names, and which were given */
	int req[CLI_OPT_MAX_REQUIRED];
	const char *req_name[CLI_OPT_MAX_REQUIRED];
	uint64_t given;
	uint32_t nseen; /* the options given a value so far */
	int seen[CLI_OPT_MAX_SEEN];
	bool words_only; /* after "--": every word is a word, none an option */
} cli_opt;

/* Reads argv[first..argc - 1] (first >= 1) by table. */
void cli_opt_init(cli_opt *o, int argc, char **argv, int first, const struct option *table);

/* The next word: 'h' for -h or --help, the val of an option of the table
 * (o.arg its value, or NULL), or an enum cli_opt_kind. */
int cli_opt_next(cli_opt *o);

/* Reports o's CLI_OPT_MISSING as a usage error's message, "CMD needs
 * --NAME" (CMD: argv[0..first - 1], e.g. "admin reassign"); the caller
 * then prints the command's usage and exits 2. */
void cli_opt_missing_error(const cli_opt *o);

/* Says what word k (cli_opt_next's) was not expected, before a usage
 * error's usage text: "unknown option '--x'", "unexpected argument 'x'",
 * "option '--x' needs a value" (CLI_OPT_TWICE was said already). */
void cli_opt_unexpected(const cli_opt *o, int k);
/* The same for a word a command read without cli_opt: "unexpected
 * argument 'x'". */
void cli_word_unexpected(const char *word);
/* The same naming the command (cmd: "customer add"): "unknown option
 * '--x' for customer add", "unexpected argument 'x' for customer add",
 * "option '--x' needs a value", and CLI_OPT_MISSING as
 * cli_opt_missing_error says it (CLI_OPT_TWICE was said already). */
void cli_opt_unexpected_in(const cli_opt *o, int k, const char *cmd);

/* rove's own options after a command's name ('rove status -R DIR'):
 * once set, cli_opt_next gives fn each of -R, --replica and --timeout
 * (with its value: the next word, or after '=') that a command's table
 * does not name, where an option of the table could stand (a word taken
 * as another option's value is that value), and goes on with the next
 * word. fn returns false when the value is bad or the option was given
 * already (it said so), and a missing value is said: either way the word
 * is then CLI_OPT_TWICE, an error said already (cli_opt_said). */
typedef bool (*cli_opt_global_fn)(const char *name, const char *value, void *arg);
void cli_opt_globals(cli_opt_global_fn fn, void *arg);

/* True for what cli_opt_next said already (CLI_OPT_TWICE): the command
 * prints its usage and exits 2 without a message of its own. */
bool cli_opt_said(int k);
/* True if -h or --help is among argv[first..argc - 1]: the commands that
 * print their help whatever else their line holds ask this first. */
bool cli_opt_help(int argc, char **argv, int first);

#endif
