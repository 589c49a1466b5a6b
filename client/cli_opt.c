/* cli_opt.c - getopt_long made strict, one word at a time (cli_opt.h). */
#include "cli_opt.h"

#include "log.h"
#include "rove_assert.h"

#include <stdio.h>
#include <string.h>

static bool short_form(int val)
{
	return (val >= 'a' && val <= 'z') || (val >= 'A' && val <= 'Z');
}

/* An entry's val without its CLI_OPT_REQUIRED and CLI_OPT_REPEAT marks. */
static int plain(int val)
{
	return val & ~(CLI_OPT_REQUIRED | CLI_OPT_REPEAT);
}

bool cli_opt_said(int k)
{
	return k == CLI_OPT_TWICE;
}

/* Whether the option of val raw (as the table has it, marks included),
 * just given a value, was given one before: said so. Noted otherwise. */
static bool given_twice(cli_opt *o, int raw, const char *word)
{
	int k = plain(raw);

	if (raw & CLI_OPT_REPEAT)
		return false;
	for (uint32_t i = 0; i < o->nseen; i++) {
		if (o->seen[i] == k) {
			const char *eq = strchr(word, '=');
			rove_error("%.*s is given twice: give it once", eq != NULL ? (int)(eq - word) : (int)strlen(word),
				   word);
			return true;
		}
	}
	if (o->nseen < CLI_OPT_MAX_SEEN)
		o->seen[o->nseen++] = k;
	return false;
}

/* Notes the required options of the table, one per val, in order. */
static void find_required(cli_opt *o)
{
	o->nreq = 0;
	o->given = 0;
	o->nseen = 0;
	for (const struct option *e = o->table; e->name != NULL; e++) {
		bool seen = false;
		if (!(e->val & CLI_OPT_REQUIRED))
			continue;
		for (uint32_t i = 0; i < o->nreq && !seen; i++)
			seen = o->req[i] == plain(e->val);
		if (seen)
			continue;
		ROVE_ASSERT(o->nreq < CLI_OPT_MAX_REQUIRED);
		o->req[o->nreq] = plain(e->val);
		o->req_name[o->nreq++] = e->name;
	}
}

void cli_opt_init(cli_opt *o, int argc, char **argv, int first, const struct option *table)
{
	size_t n = 0;

	ROVE_ASSERT(first >= 1);
	o->argc = argc;
	o->argv = argv;
	o->table = table;
	o->at = first;
	o->next = first;
	o->arg = NULL;
	o->opt = 0;
	o->first = first;
	o->words_only = false;
	find_required(o);
	/* "-": words that are no option come back in order, as 1; ":": a
	 * missing value comes back as ':', and getopt_long prints nothing. */
	o->shorts[n++] = '-';
	o->shorts[n++] = ':';
	for (const struct option *e = table; e->name != NULL; e++) {
		int val = plain(e->val);
		ROVE_ASSERT(e->flag == NULL && (short_form(val) || (val >= CLI_OPT_LONG && val < CLI_OPT_REQUIRED)) &&
			    val != 'h');
		if (!short_form(val))
			continue;
		ROVE_ASSERT(n + 3 <= sizeof(o->shorts));
		o->shorts[n++] = (char)val;
		if (e->has_arg == required_argument)
			o->shorts[n++] = ':';
	}
	o->shorts[n] = '\0';
}

/* Whether word (which starts with -) names an option of the table
 * exactly: --NAME or --NAME=VALUE, or -X for a short form X. */
static bool names_option(const cli_opt *o, const char *word)
{
	if (word[1] != '-')
		return word[2] == '\0' && strchr(o->shorts + 2, word[1]) != NULL && word[1] != ':';
	word += 2;
	for (const struct option *e = o->table; e->name != NULL; e++) {
		size_t len = strlen(e->name);
		if (len > 0 && strncmp(word, e->name, len) == 0 && (word[len] == '\0' || word[len] == '='))
			return true;
	}
	return false;
}

/* Once the words are over: the first required option none gave, marked
 * given so that the next call goes on; or the end. */
static int missing(cli_opt *o)
{
	for (uint32_t i = 0; i < o->nreq; i++) {
		if (o->given & (UINT64_C(1) << i))
			continue;
		o->given |= UINT64_C(1) << i;
		o->arg = o->req_name[i];
		o->opt = o->req[i];
		return CLI_OPT_MISSING;
	}
	return CLI_OPT_END;
}

/* Notes that the option of val k was given. */
static void note_given(cli_opt *o, int k)
{
	for (uint32_t i = 0; i < o->nreq; i++)
		if (o->req[i] == k)
			o->given |= UINT64_C(1) << i;
}

static cli_opt_global_fn global_fn;
static void *global_arg;

void cli_opt_globals(cli_opt_global_fn fn, void *arg)
{
	global_fn = fn;
	global_arg = arg;
}

/* word at o->at, if it is one of rove's own options: handed to
 * global_fn; *used the words it took. */
static bool take_global(cli_opt *o, const char *word, int *used)
{
	const char *value;

	*used = 1;
	value = strchr(word, '=');
	if (value != NULL) {
		value++;
	} else if (o->at + 1 >= o->argc) {
		rove_error("%s takes a value", word);
		return false;
	} else {
		value = o->argv[o->at + 1];
		*used = 2;
	}
	return global_fn(word, value, global_arg);
}

static bool is_global(const char *word)
{
	return strcmp(word, "-R") == 0 || strcmp(word, "--replica") == 0 || strcmp(word, "--timeout") == 0 ||
	       strncmp(word, "--replica=", 10) == 0 || strncmp(word, "--timeout=", 10) == 0;
}

int cli_opt_next(cli_opt *o)
{
	const char *word;
	int at = o->next, k, used;

	o->arg = NULL;
	o->opt = 0;
	o->at = at;
	if (at >= o->argc)
		return missing(o);
	word = o->argv[at];
	/* "--" ends the options: the words after it are words, whatever
	 * they start with (an id, a name, "-h") */
	if (o->words_only) {
		o->next = at + 1;
		o->arg = word;
		return CLI_OPT_WORD;
	}
	if (strcmp(word, "--") == 0) {
		o->words_only = true;
		o->next = at + 1;
		return cli_opt_next(o);
	}
	if (strcmp(word, "-h") == 0 || strcmp(word, "--help") == 0) {
		o->next = at + 1;
		o->opt = 'h';
		return 'h';
	}
	if (global_fn != NULL && is_global(word) && !names_option(o, word)) {
		if (!take_global(o, word, &used)) {
			o->arg = word;
			o->next = at + used;
			return CLI_OPT_TWICE; /* said */
		}
		o->next = at + used;
		return cli_opt_next(o);
	}
	if (word[0] == '-' && word[1] != '\0' && !names_option(o, word)) {
		o->arg = word;
		o->next = at + 1;
		return CLI_OPT_UNKNOWN;
	}
	/* getopt_long afresh (optind 0) on the words from argv[at - 1], so
	 * that the one to read is its first: whatever state an earlier parse
	 * left is gone, and what it consumed is optind - 1. */
	optind = 0;
	opterr = 0;
	k = getopt_long(o->argc - at + 1, o->argv + at - 1, o->shorts, o->table, NULL);
	o->next = at + (optind > 1 ? optind - 1 : 1);
	if (k == 1) {
		o->arg = optarg;
		return CLI_OPT_WORD;
	}
	if (k == ':') {
		o->arg = word;
		o->opt = plain(optopt);
		return CLI_OPT_NOVALUE;
	}
	if (k == '?' || k == -1) { /* -1: not reached, "--" and the end are taken above */
		o->arg = word;
		o->next = at + 1;
		return CLI_OPT_UNKNOWN;
	}
	/* A value taken from the next word that is itself one of this
	 * command's options (`--name --phone 138...`: a value forgotten), or
	 * the end of the options ("--"), is no value: said as missing
	 * (attack fifty-three: a customer named "--phone"; fifty-four: one
	 * named "--"). --name=--phone gives that text. */
	if (optarg != NULL && strchr(word, '=') == NULL && optarg == o->argv[at + 1] && optarg[0] == '-' &&
	    optarg[1] == '-' && (optarg[2] == '\0' || names_option(o, optarg))) {
		o->arg = word;
		o->opt = plain(k);
		o->next = at + 1;
		return CLI_OPT_NOVALUE;
	}
	if (optarg != NULL && given_twice(o, k, word)) {
		o->arg = word;
		o->opt = plain(k);
		return CLI_OPT_TWICE;
	}
	k = plain(k);
	note_given(o, k);
	o->arg = optarg;
	o->opt = k;
	return k;
}

void cli_opt_unexpected(const cli_opt *o, int k)
{
	if (k == CLI_OPT_UNKNOWN)
		rove_error("unknown option '%s'", o->arg);
	else if (k == CLI_OPT_NOVALUE)
		rove_error("option '%s' needs a value", o->arg);
	else if (k == CLI_OPT_WORD || k >= CLI_OPT_LONG)
		cli_word_unexpected(o->argv[o->at]);
}

void cli_word_unexpected(const char *word)
{
	rove_error("unexpected argument '%s'", word);
}

void cli_opt_unexpected_in(const cli_opt *o, int k, const char *cmd)
{
	if (cli_opt_said(k))
		return;
	if (k == CLI_OPT_NOVALUE)
		rove_error("option '%s' needs a value", o->arg);
	else if (k == CLI_OPT_MISSING)
		cli_opt_missing_error(o);
	else if (k == CLI_OPT_UNKNOWN && strncmp(o->arg, "--", 2) == 0)
		rove_error("unknown option '%s' for %s", o->arg, cmd);
	else
		rove_error("unexpected argument '%s' for %s", o->arg, cmd);
}

void cli_opt_missing_error(const cli_opt *o)
{
	char cmd[128];
	size_t n = 0;

	cmd[0] = '\0';
	for (int i = 0; i < o->first && i < o->argc; i++) {
		int w = snprintf(cmd + n, sizeof(cmd) - n, "%s%s", i ? " " : "", o->argv[i]);
		if (w < 0 || (size_t)w >= sizeof(cmd) - n)
			break;
		n += (size_t)w;
	}
	rove_error("%s needs --%s", cmd, o->arg);
}

bool cli_opt_help(int argc, char **argv, int first)
{
	/* up to "--": what follows it is words (attack fifty-four) */
	for (int i = first; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}
