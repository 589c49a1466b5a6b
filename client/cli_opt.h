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
 * that word is.
 *
 * Use:
 *	cli_opt o;
 *	cli_opt_init(&o, argc, argv, 2, table);
 *	while ((k = cli_opt_next(&o)) != CLI_OPT_END)
 *		switch (k) { case OPT_JSON: ...; case CLI_OPT_WORD: o.arg ... }
 *
 * Nothing is allocated; o.arg points into argv.
 */
#ifndef ROVE_CLI_OPT_H
#define ROVE_CLI_OPT_H

#include <getopt.h>
#include <stdbool.h>

/* The first val of an option without a short form: past every char. */
#define CLI_OPT_LONG 256

/* What cli_opt_next read, besides an option of the table (its val). */
enum cli_opt_kind {
	CLI_OPT_END = -1,      /* no word left */
	CLI_OPT_WORD = 1,      /* a word that is no option, "-" too: o.arg */
	CLI_OPT_UNKNOWN = '?', /* a word that starts with - and names no option of the table exactly (or
	                          gives a value to one that takes none); "--" is one too: o.arg */
	CLI_OPT_NOVALUE = ':', /* an option that takes a value, last on the line: o.arg as written, o.opt its val */
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
} cli_opt;

/* Reads argv[first..argc - 1] (first >= 1) by table. */
void cli_opt_init(cli_opt *o, int argc, char **argv, int first, const struct option *table);

/* The next word: 'h' for -h or --help, the val of an option of the table
 * (o.arg its value, or NULL), or an enum cli_opt_kind. */
int cli_opt_next(cli_opt *o);

/* True if -h or --help is among argv[first..argc - 1]: the commands that
 * print their help whatever else their line holds ask this first. */
bool cli_opt_help(int argc, char **argv, int first);

#endif
