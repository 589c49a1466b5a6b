/*
 * test_cli_opt.c - the command line's option parser (client/cli_opt.c):
 * options by their whole names only, words in order, values after '=' or
 * as the next word, and unknown words and missing values said as such.
 */
#include "check.h"
#include "cli_opt.h"

#include <string.h>

enum { OPT_JSON = CLI_OPT_LONG, OPT_NAME, OPT_NAMES };

static const struct option table[] = {
	{"json", no_argument, NULL, OPT_JSON},
	{"name", required_argument, NULL, OPT_NAME},
	{"names", required_argument, NULL, OPT_NAMES},
	{"replica", required_argument, NULL, 'R'},
	{NULL, 0, NULL, 0},
};

/* What one parse gives, as text: "k:arg" per word, k an option's name,
 * W (word), U (unknown) or N (no value). */
static void parse(char **argv, int first, char *out, size_t len)
{
	cli_opt o;
	int argc = 0, k;
	size_t n = 0;

	while (argv[argc] != NULL)
		argc++;
	out[0] = '\0';
	cli_opt_init(&o, argc, argv, first, table);
	while ((k = cli_opt_next(&o)) != CLI_OPT_END && n < len) {
		const char *what = k == CLI_OPT_WORD      ? "W"
				   : k == CLI_OPT_UNKNOWN ? "U"
				   : k == CLI_OPT_NOVALUE ? "N"
				   : k == CLI_OPT_TWICE   ? "T"
				   : k == OPT_JSON        ? "json"
				   : k == OPT_NAME        ? "name"
				   : k == OPT_NAMES       ? "names"
				   : k == 'R'             ? "R"
				   : k == 'h'             ? "h"
							  : "?";
		n += (size_t)snprintf(out + n, len - n, "%s%s:%s", n ? " " : "", what, o.arg ? o.arg : "-");
	}
}

/* A hook for rove's own options: refuses the value "bad". */
static int hook_calls;
static bool hook(const char *name, const char *value, void *arg)
{
	(void)name;
	(void)arg;
	hook_calls++;
	return strcmp(value, "bad") != 0;
}

#define EXPECT(want, ...)                                                      \
	do {                                                                   \
		char *argv_[] = {"cmd", __VA_ARGS__, NULL};                    \
		char got_[512];                                                \
		parse(argv_, 1, got_, sizeof(got_));                           \
		CHECK(strcmp(got_, want) == 0);                                \
		if (strcmp(got_, want) != 0)                                   \
			fprintf(stderr, "  got '%s', want '%s'\n", got_, want); \
	} while (0)

int main(void)
{
	/* Options by name, values after = or as the next word, in order. */
	EXPECT("json:- W:a name:x names:y W:b", "--json", "a", "--name", "x", "--names=y", "b");
	EXPECT("name:", "--name=");
	/* A value is the next word, unless it names one of the options
	 * (a value forgotten, attack fifty-three: a customer named
	 * "--phone"): then the option has none; after '=' it is the value. */
	EXPECT("N:--name json:- W:z", "--name", "--json", "z");
	EXPECT("name:--json W:z", "--name=--json", "z");
	EXPECT("name:--jso W:z", "--name", "--jso", "z");
	EXPECT("name:-x", "--name", "-x");
	EXPECT("N:--name W:z", "--name", "--", "z"); /* attack fifty-four: a customer named "--" */
	EXPECT("name:--", "--name=--");
	EXPECT("R:dir h:-", "-R", "dir", "-h"); /* -h and --help are every table's */
	EXPECT("h:- W:x", "--help", "x");
	EXPECT("U:--help=1 U:--hel", "--help=1", "--hel");
	EXPECT("R:-", "--replica=-");
	/* Abbreviations, bundles, attached short values: unknown. */
	EXPECT("U:--jso", "--jso");
	EXPECT("U:--nam", "--nam");
	EXPECT("U:-hx", "-hx");
	EXPECT("U:-Rdir", "-Rdir");
	EXPECT("U:-x", "-x");
	EXPECT("U:--bogus=1", "--bogus=1");
	EXPECT("U:--json=1 json:-", "--json=1", "--json");
	/* "--" ends the options: what follows is words, "-h" too. */
	EXPECT("W:a", "--", "a");
	EXPECT("json:- W:--name W:-h", "--json", "--", "--name", "-h");
	/* "-" is a word (standard input, say). */
	EXPECT("W:- json:-", "-", "--json");
	/* A missing value. */
	EXPECT("W:a N:--name", "a", "--name");
	EXPECT("N:-R", "-R");
	/* An option that takes a value, given twice (as the next word or
	 * after '='): said, not the last one taken; its value is skipped.
	 * A flag twice is harmless. */
	EXPECT("name:x T:--name=y W:z", "--name", "x", "--name=y", "z");
	EXPECT("R:a T:-R", "-R", "a", "-R", "b");
	EXPECT("R:a T:--replica", "-R", "a", "--replica", "b"); /* one option, two names */
	EXPECT("name:x names:y", "--name", "x", "--names", "y");
	EXPECT("json:- json:-", "--json", "--json");
	CHECK(cli_opt_said(CLI_OPT_TWICE) && !cli_opt_said(CLI_OPT_UNKNOWN));
	/* ... unless marked as one that repeats. */
	{
		enum { OPT_T = CLI_OPT_LONG };
		static const struct option rep[] = {
			{"territory", required_argument, NULL, OPT_T | CLI_OPT_REPEAT},
			{NULL, 0, NULL, 0},
		};
		char *argv[] = {"add", "--territory", "a", "--territory=b", NULL};
		cli_opt o;
		cli_opt_init(&o, 4, argv, 1, rep);
		CHECK_EQ_INT(cli_opt_next(&o), OPT_T);
		CHECK(strcmp(o.arg, "a") == 0);
		CHECK_EQ_INT(cli_opt_next(&o), OPT_T);
		CHECK(strcmp(o.arg, "b") == 0);
		CHECK_EQ_INT(cli_opt_next(&o), CLI_OPT_END);
	}
	/* Words from first on; one parse after another starts afresh. */
	{
		char *argv[] = {"rove", "-R", "d", "customer", "add", "--name", "n", NULL};
		char got[256];
		parse(argv, 1, got, sizeof(got));
		CHECK(strcmp(got, "R:d W:customer W:add name:n") == 0);
		parse(argv, 5, got, sizeof(got));
		CHECK(strcmp(got, "name:n") == 0);
		parse(argv, 7, got, sizeof(got));
		CHECK(strcmp(got, "") == 0);
	}
	/* What a missing value names, and where each word was. */
	{
		char *argv[] = {"rove", "x", "--replica", NULL};
		cli_opt o;
		cli_opt_init(&o, 3, argv, 1, table);
		CHECK_EQ_INT(cli_opt_next(&o), CLI_OPT_WORD);
		CHECK_EQ_INT(o.at, 1);
		CHECK_EQ_INT(cli_opt_next(&o), CLI_OPT_NOVALUE);
		CHECK_EQ_INT(o.opt, 'R');
		CHECK_EQ_INT(o.at, 2);
		CHECK_EQ_INT(cli_opt_next(&o), CLI_OPT_END);
	}
	/* Required options: once the words are over, each one none gave
	 * (entries with one val are one option), in table order, its val
	 * without the mark; then the end. */
	{
		enum { OPT_TO = CLI_OPT_LONG, OPT_FROM, OPT_TAX };
		static const struct option req[] = {
			{"to", required_argument, NULL, OPT_TO | CLI_OPT_REQUIRED},
			{"from", required_argument, NULL, OPT_FROM},
			{"tax-id", required_argument, NULL, OPT_TAX | CLI_OPT_REQUIRED},
			{"tax_id", required_argument, NULL, OPT_TAX | CLI_OPT_REQUIRED},
			{"replica", required_argument, NULL, 'R' | CLI_OPT_REQUIRED},
			{NULL, 0, NULL, 0},
		};
		char *argv[] = {"admin", "reassign", "--from", "a", "--tax_id", "1", "w", "--to", NULL};
		cli_opt o;
		cli_opt_init(&o, 8, argv, 2, req);
		CHECK_EQ_INT(cli_opt_next(&o), OPT_FROM);
		CHECK_EQ_INT(cli_opt_next(&o), OPT_TAX);
		CHECK_EQ_INT(o.opt, OPT_TAX);
		CHECK_EQ_INT(cli_opt_next(&o), CLI_OPT_WORD);
		CHECK_EQ_INT(cli_opt_next(&o), CLI_OPT_NOVALUE);
		CHECK_EQ_INT(o.opt, OPT_TO);
		CHECK_EQ_INT(cli_opt_next(&o), CLI_OPT_MISSING);
		CHECK(strcmp(o.arg, "to") == 0);
		CHECK_EQ_INT(o.opt, OPT_TO);
		CHECK_EQ_INT(cli_opt_next(&o), CLI_OPT_MISSING);
		CHECK(strcmp(o.arg, "replica") == 0);
		CHECK_EQ_INT(o.opt, 'R');
		CHECK_EQ_INT(cli_opt_next(&o), CLI_OPT_END);
		CHECK_EQ_INT(cli_opt_next(&o), CLI_OPT_END);
		/* Given, by either name; a short form is the option too. */
		char *all[] = {"admin", "reassign", "-R", "d", "--to=b", "--tax-id", "1", NULL};
		cli_opt_init(&o, 7, all, 2, req);
		CHECK_EQ_INT(cli_opt_next(&o), 'R');
		CHECK_EQ_INT(cli_opt_next(&o), OPT_TO);
		CHECK_EQ_INT(cli_opt_next(&o), OPT_TAX);
		CHECK_EQ_INT(cli_opt_next(&o), CLI_OPT_END);
	}
	/* rove's own options after a command's name, through the hook: taken
	 * where an option could stand, skipped; one the hook refuses (a bad
	 * value, or given twice: said by the hook) is CLI_OPT_TWICE, said. */
	{
		static const struct option none[] = {{NULL, 0, NULL, 0}};
		char *argv[] = {"x", "a", "--timeout", "5", "b", "--timeout=bad", "-R", "d", NULL};
		cli_opt o;
		int k;

		hook_calls = 0;
		cli_opt_globals(hook, NULL);
		cli_opt_init(&o, 8, argv, 1, none);
		CHECK_EQ_INT(cli_opt_next(&o), CLI_OPT_WORD);
		CHECK(strcmp(o.arg, "a") == 0);
		CHECK_EQ_INT(cli_opt_next(&o), CLI_OPT_WORD);
		CHECK(strcmp(o.arg, "b") == 0);
		k = cli_opt_next(&o);
		CHECK_EQ_INT(k, CLI_OPT_TWICE);
		CHECK(cli_opt_said(k));
		CHECK(strcmp(o.arg, "--timeout=bad") == 0);
		CHECK_EQ_INT(cli_opt_next(&o), CLI_OPT_END);
		CHECK_EQ_INT(hook_calls, 3);
		cli_opt_globals(NULL, NULL);
	}
	/* Help anywhere. */
	{
		char *argv[] = {"x", "a", "--name", "-h", NULL};
		CHECK(cli_opt_help(4, argv, 1));
		CHECK(!cli_opt_help(4, argv, 4));
		CHECK(!cli_opt_help(3, argv, 1));
	}
	/* ... but after "--", which ends the options (attack fifty-four:
	 * `config -- --help` printed help where `status -- --help` refused). */
	{
		char *argv[] = {"x", "a", "--", "--help", NULL};
		CHECK(!cli_opt_help(4, argv, 1));
	}
	return check_done("cli_opt");
}
