/*
 * cli.c - what every `rove` command shares (cli.h): usage and exit
 * statuses, ids on the command line, opening the replica, and the checks
 * of a replica's settings that `rove init` and `rove config` both make.
 */
#include "cli.h"
#include "cli_opt.h"
#include "err.h"
#include "log.h"
#include "net.h"
#include "rove_assert.h"
#include "text.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int cli_usage(const char *text, bool ok)
{
	fputs(text, ok ? stdout : stderr);
	return ok ? ROVE_EXIT_OK : ROVE_EXIT_USAGE;
}

/* Whether the failure to write stdout was said already. */
static bool stdout_said;

void cli_secret_begin(cli_secret *s)
{
	s->text = NULL;
	s->len = 0;
	s->copy = open_memstream(&s->text, &s->len); /* NULL: stdout alone */
}

void cli_secret_line(cli_secret *s, const char *line, uint32_t len)
{
	rove_text_put_shown(stdout, line, len, 0);
	putchar('\n');
	if (s->copy != NULL) {
		rove_text_put_shown(s->copy, line, len, 0);
		fputc('\n', s->copy);
	}
}

int cli_secret_end(cli_secret *s, int status, const char *what)
{
	bool copied = s->copy != NULL && fclose(s->copy) == 0;
	bool failed = fflush(stdout) != 0 || ferror(stdout);
	int e = errno;

	if (failed && copied && s->len > 0) {
		rove_error("cannot write standard output (%s): %s is shown here instead, once:", strerror(e), what);
		fwrite(s->text, 1, s->len, stderr);
	} else if (failed && s->len > 0) {
		rove_error("cannot write standard output (%s), and %s is lost: make a new one", strerror(e), what);
	} else if (failed) {
		rove_error("cannot write standard output (%s)", strerror(e));
	}
	stdout_said = stdout_said || failed;
	free(s->text);
	s->text = NULL;
	s->copy = NULL;
	return failed ? ROVE_EXIT_FAIL : status;
}

int cli_stdout_close(int status)
{
	errno = 0;
	if (fclose(stdout) == 0 && !stdout_said)
		return status;
	if (!stdout_said) /* a secret's command said it already */
		rove_error("cannot write standard output%s%s%s", errno != 0 ? " (" : "",
			   errno != 0 ? strerror(errno) : "", errno != 0 ? ")" : "");
	return status == ROVE_EXIT_OK ? ROVE_EXIT_FAIL : status;
}

bool cli_is_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

bool cli_parse_flags(int argc, char **argv, const char *help, const char *const *names, bool *given, int *status)
{
	struct option opts[CLI_MAX_FLAGS + 1];
	size_t n = 0;
	cli_opt o;
	int k;

	for (; names[n] != NULL; n++) {
		ROVE_ASSERT(n < CLI_MAX_FLAGS);
		opts[n] = (struct option){names[n], no_argument, NULL, CLI_OPT_LONG + (int)n};
	}
	opts[n] = (struct option){NULL, 0, NULL, 0};
	cli_opt_init(&o, argc, argv, 1, opts);
	while ((k = cli_opt_next(&o)) != CLI_OPT_END) {
		if (k == 'h') {
			*status = cli_usage(help, true);
			return false;
		}
		if (k < CLI_OPT_LONG || k >= CLI_OPT_LONG + (int)n) {
			cli_opt_unexpected(&o, k);
			*status = cli_usage(help, false);
			return false;
		}
		given[k - CLI_OPT_LONG] = true;
	}
	return true;
}

bool cli_parse_json_flag(int argc, char **argv, const char *help, bool *json, int *status)
{
	static const char *const names[] = {"json", NULL};

	return cli_parse_flags(argc, argv, help, names, json, status);
}

bool cli_open_json(const rove_cli *cli, int argc, char **argv, const char *help, bool *json, rove_replica *r,
		   int *status)
{
	int rc;

	if (!cli_parse_json_flag(argc, argv, help, json, status))
		return false;
	rc = cli_open(cli, r);
	*status = cli_exit(rc);
	return rc == ROVE_OK;
}

int cli_exit(int err)
{
	switch (err) {
	case ROVE_OK:
		return ROVE_EXIT_OK;
	case CLI_EUSAGE:
		return ROVE_EXIT_USAGE;
	case ROVE_EUNREACH:
	case ROVE_ETIMEDOUT:
	case ROVE_ELOST:
		return ROVE_EXIT_UNREACH;
	default:
		return ROVE_EXIT_FAIL;
	}
}

int cli_id_arg(const char *arg, const char *what, rove_uuid *id)
{
	if (rove_uuid_parse(arg, id) == ROVE_OK)
		return ROVE_OK;
	rove_error("invalid %s id '%s' (an id looks like 01a22c6e-96e5-747a-b509-23ce598eebfe)", what, arg);
	return CLI_EUSAGE;
}

bool cli_id_abbrev(const char *arg, char out[33])
{
	size_t n = 0;

	for (const char *p = arg; *p != '\0'; p++) {
		if (*p == '-')
			continue;
		if (!isxdigit((unsigned char)*p) || n == 32)
			return false;
		out[n++] = (char)tolower((unsigned char)*p);
	}
	out[n] = '\0';
	return n >= ROVE_MIN_ID_ABBREV;
}

bool cli_id_maybe(const char *arg)
{
	char d[33];

	return cli_id_abbrev(arg, d);
}

bool cli_id_short(const char *arg)
{
	char d[33];

	return !cli_id_abbrev(arg, d) && d[0] != '\0' && strlen(d) < ROVE_MIN_ID_ABBREV &&
	       strspn(arg, "0123456789abcdefABCDEF-") == strlen(arg);
}

bool cli_id_abbrev_matches(const rove_uuid *id, const char *want)
{
	char ids[ROVE_UUID_STRLEN + 1], d[33];
	size_t k = 0, len = strlen(want);

	rove_uuid_format(id, ids);
	for (const char *p = ids; *p != '\0'; p++)
		if (*p != '-')
			d[k++] = *p;
	d[k] = '\0';
	return len <= k && (strncmp(d, want, len) == 0 || strcmp(d + k - len, want) == 0);
}

typedef struct id_match {
	char want[33];
	size_t n;      /* matches */
	size_t inside; /* ids with want in their middle: no match, but said */
	rove_uuid first;
	char shown[ROVE_MAX_ID_CANDIDATES][ROVE_UUID_STRLEN + ROVE_MAX_NAME + 8];
} id_match;

static int id_match_one(const rove_record *rec, void *arg)
{
	id_match *m = arg;
	char ids[ROVE_UUID_STRLEN + 1];
	const char *name = rove_fields_str(&rec->fs, "name");

	rove_uuid_format(&rec->id, ids);
	if (!cli_id_abbrev_matches(&rec->id, m->want)) {
		char d[33];
		size_t k = 0;
		for (const char *p = ids; *p != '\0'; p++)
			if (*p != '-')
				d[k++] = *p;
		d[k] = '\0';
		if (strstr(d, m->want) != NULL)
			m->inside++;
		return ROVE_OK;
	}
	if (m->n == 0)
		m->first = rec->id;
	if (m->n < ROVE_MAX_ID_CANDIDATES) {
		char shown[ROVE_MAX_NAME + 4];
		rove_text_show(name != NULL ? name : "", name != NULL ? strlen(name) : 0, 0, shown, sizeof(shown));
		snprintf(m->shown[m->n], sizeof(m->shown[m->n]), "%s  %s", ids, shown);
	}
	m->n++;
	return ROVE_OK;
}

int cli_id_find(rove_replica *r, uint8_t coll, const char *arg, const char *what, rove_uuid *id)
{
	id_match *m;
	int rc;

	if (rove_uuid_parse(arg, id) == ROVE_OK)
		return ROVE_OK;
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		rove_error("out of memory");
		return ROVE_ENOMEM;
	}
	if (!cli_id_abbrev(arg, m->want) && !cli_id_short(arg)) {
		rove_error("invalid %s id '%s' (an id, or at least %d characters of its start or its end)", what, arg,
			   ROVE_MIN_ID_ABBREV);
		free(m);
		return CLI_EUSAGE;
	}
	rc = rove_replica_each(r, coll, id_match_one, m);
	if (rc != ROVE_OK) {
		rove_error("cannot read the replica: %s", rove_strerror(rc));
	} else if (strlen(m->want) < ROVE_MIN_ID_ABBREV) {
		/* SPEC: a shorter one is a usage error listing the candidates. */
		if (m->n == 0)
			rove_error("'%s' is shorter than %d characters: give at least %d of an id's start or its end "
				   "(no %s id starts or ends so)",
				   arg, ROVE_MIN_ID_ABBREV, ROVE_MIN_ID_ABBREV, what);
		else
			rove_error("'%s' is shorter than %d characters: give at least %d of an id's start or its end; "
				   "%s %zu %s id(s) it fits:",
				   arg, ROVE_MIN_ID_ABBREV, ROVE_MIN_ID_ABBREV,
				   m->n > ROVE_MAX_ID_CANDIDATES ? "some of the" : "the", m->n, what);
		for (size_t i = 0; i < m->n && i < ROVE_MAX_ID_CANDIDATES; i++)
			fprintf(stderr, "  %s\n", m->shown[i]);
		rc = CLI_EUSAGE;
	} else if (m->n == 0 && m->inside > 0) {
		/* SPEC: an id's start or its end; a list's short form is its
		 * end, and a user who typed the start of that is told so. */
		rove_error("'%s' is in the middle of %s %s id: give its start or its end (lists show the last %d "
			   "characters)",
			   arg, m->inside == 1 ? "a" : "more than one", what, CLI_SHORT_ID_LEN);
		rc = CLI_EUSAGE;
	} else if (m->n == 0) {
		rove_error("no %s '%s' in this replica" CLI_NOT_HERE, what, arg);
		rc = ROVE_ENOTFOUND;
	} else if (m->n > 1) {
		rove_error("'%s' is the start or end of %zu %s ids; give more of it:", arg, m->n, what);
		for (size_t i = 0; i < m->n && i < ROVE_MAX_ID_CANDIDATES; i++)
			fprintf(stderr, "  %s\n", m->shown[i]);
		rc = CLI_EUSAGE;
	} else {
		*id = m->first;
	}
	free(m);
	return rc;
}

/* argv's words without rove's own options, taken by the option
 * parser's hook, the others kept in order in *out (*n of them, then
 * NULL; the caller frees it). ROVE_OK; CLI_EUSAGE if one of rove's own
 * was refused, ROVE_ENOMEM: said. */
static int cli_words(int argc, char **argv, int first, char ***out, int *n)
{
	static const struct option none[] = {{NULL, 0, NULL, 0}};
	char **words = calloc((size_t)argc + 1, sizeof(*words));
	cli_opt o;
	int k;

	*out = NULL;
	*n = 0;
	if (words == NULL) {
		rove_error("out of memory");
		return ROVE_ENOMEM;
	}
	for (*n = 0; *n < first; (*n)++)
		words[*n] = argv[*n];
	cli_opt_init(&o, argc, argv, first, none);
	while ((k = cli_opt_next(&o)) != CLI_OPT_END) {
		if (cli_opt_said(k)) { /* one of rove's own, refused */
			free(words);
			*n = 0;
			return CLI_EUSAGE;
		}
		words[(*n)++] = o.arg != NULL ? (char *)o.arg : argv[o.at]; /* 'h' and the rest: as they were */
	}
	*out = words;
	return ROVE_OK;
}

int cli_on_words(rove_cli *cli, int argc, char **argv, int first, cli_words_fn fn, void *arg)
{
	char **words;
	int n, rc = cli_words(argc, argv, first, &words, &n), status;

	if (rc != ROVE_OK)
		return cli_exit(rc);
	status = fn(cli, n, words, arg);
	free(words);
	return status;
}

rove_cli cli_advice(const rove_cli *cli)
{
	rove_cli c = *cli;

	/* The timeout bounds the connection and the answer each: half the
	 * advice's wait for each, so that the two together stay within it
	 * (attack twenty-nine: a slow server held the command 6 s). */
	if (c.timeout_ms > ROVE_ADVICE_TIMEOUT_MS / 2)
		c.timeout_ms = ROVE_ADVICE_TIMEOUT_MS / 2;
	return c;
}

int cli_open(const rove_cli *cli, rove_replica *r)
{
	int rc = rove_replica_open(cli->dir, r);

	if (rc == ROVE_ENOTFOUND)
		rove_error("no replica in '%s' (run 'rove init' first, or pass -R DIR)", cli->dir);
	else if (rc == ROVE_EVERSION)
		rove_error("cannot open replica '%s': it was made by another version of rove; if no other was used on "
			   "it, its record of its format is damaged: 'rove sync --repair' sets it anew where its pending "
			   "changes show it",
			   cli->dir);
	else if (rc == ROVE_EINVAL || rc == ROVE_EIO || rc == ROVE_EREADONLY) /* said where it was met, with why */
		/* (read-only: a write the open needs was refused, saying why;
		 * "cannot open replica: read-only" read as a file permission,
		 * attack eighty-seven) */
		rove_error("cannot open replica '%s'", cli->dir);
	else if (rc == ROVE_EDB) /* LMDB cannot read its own pages: damage */
		rove_error("cannot open replica '%s': %s; its file may be damaged: 'rove sync --repair' makes it anew "
			   "from what of it reads whole; if it cannot, set up a new replica in another directory with "
			   "'rove init', and sync",
			   cli->dir, rove_strerror(rc));
	else if (rc != ROVE_OK)
		rove_error("cannot open replica '%s': %s", cli->dir, rove_strerror(rc));
	return rc;
}

bool cli_server_ok(const char *url)
{
	char why[ROVE_MAX_ERRMSG];

	if (rove_net_url_valid(url, why, sizeof(why)))
		return true;
	rove_error("invalid server URL %s: %s", CLI_QUOTE(url), why);
	return false;
}

bool cli_token_ok(const char *token, char out[ROVE_TOKEN_HEX + 1])
{
	size_t len = strlen(token);

	for (size_t i = 0; i < len && len == ROVE_TOKEN_HEX; i++) {
		if (!isxdigit((unsigned char)token[i]))
			len = 0;
	}
	if (len != ROVE_TOKEN_HEX) {
		rove_error("invalid token (expected %u hex characters, as 'roved init' or 'rove admin user add' "
			   "print it)",
			   ROVE_TOKEN_HEX);
		return false;
	}
	/* Tokens are printed in lower case; the server compares them exactly. */
	for (size_t i = 0; i <= len; i++)
		out[i] = (char)tolower((unsigned char)token[i]);
	return true;
}

/* Whether the file at path holds a PEM certificate in its first
 * ROVE_MAX_CA_SCAN bytes, in *yes: 0, or the errno of why it cannot be
 * read (EISDIR for a directory, which fopen opens). */
static int pem_has_certificate(const char *path, bool *yes)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	char *buf = malloc(ROVE_MAX_CA_SCAN + 1);
	struct stat st;
	FILE *f;
	size_t n;
	int err = 0;

	*yes = false;
	if (buf == NULL)
		return ENOMEM;
	f = fopen(path, "rb");
	if (f == NULL) {
		err = errno;
		free(buf);
		return err;
	}
	if (fstat(fileno(f), &st) != 0)
		err = errno;
	else if (S_ISDIR(st.st_mode))
		err = EISDIR;
	if (err == 0) {
		n = fread(buf, 1, ROVE_MAX_CA_SCAN, f);
		if (ferror(f))
			err = errno != 0 ? errno : EIO;
		buf[n] = '\0';
		for (size_t i = 0; err == 0 && i + sizeof(begin) - 1 <= n && !*yes; i++)
			*yes = memcmp(buf + i, begin, sizeof(begin) - 1) == 0;
	}
	fclose(f);
	free(buf);
	return err;
}

bool cli_ca_ok(const char *ca, char out[ROVE_MAX_URL + 1])
{
	char abs[PATH_MAX];
	bool pem = false;
	int err;

	if (ca[0] == '\0') {
		out[0] = '\0';
		return true;
	}
	/* abs holds nothing to read when realpath fails. */
	if (realpath(ca, abs) == NULL) {
		rove_error("cannot find the CA file %s: %s", CLI_QUOTE(ca), strerror(errno));
		return false;
	}
	if (strlen(abs) > ROVE_MAX_URL) {
		rove_error("cannot keep the CA file %s: its full path is longer than %u bytes", CLI_QUOTE(ca),
			   (unsigned)ROVE_MAX_URL);
		return false;
	}
	err = pem_has_certificate(abs, &pem);
	if (err != 0) {
		rove_error("cannot read the CA file %s: %s", CLI_QUOTE(ca), strerror(err));
		return false;
	}
	if (!pem) {
		rove_error("the CA file %s holds no PEM certificate (-----BEGIN CERTIFICATE-----): give the file "
			   "of the CA that signed the server's certificate",
			   CLI_QUOTE(ca));
		return false;
	}
	memcpy(out, abs, strlen(abs) + 1);
	return true;
}

bool cli_login_ok(const char *login)
{
	if (rove_login_valid(login, strlen(login)))
		return true;
	rove_error("invalid user name %s (letters, digits and . _ - @, beginning with a letter or digit, at most %u)", CLI_QUOTE(login), ROVE_MAX_NAME);
	return false;
}

bool cli_code_ok(const char *code)
{
	if (rove_code_valid(code, strlen(code)))
		return true;
	rove_error("invalid territory code %s (letters, digits and . _ -, beginning with a letter or digit, at most %u)", CLI_QUOTE(code), ROVE_MAX_NAME);
	return false;
}

/* The collections rove import and export take, by their plural. */
static const struct {
	uint8_t coll;
	const char *plural;
} io_colls[] = {
	{ROVE_COLL_CUSTOMER, "customers"},   {ROVE_COLL_CONTACT, "contacts"},
	{ROVE_COLL_OPPORTUNITY, "opportunities"}, {ROVE_COLL_CONTRACT, "contracts"},
	{ROVE_COLL_ACTIVITY, "activities"},  {ROVE_COLL_DEALER, "dealers"},
};

const rove_coll_def *cli_io_coll(const char *what)
{
	for (size_t i = 0; i < sizeof(io_colls) / sizeof(io_colls[0]); i++) {
		const rove_coll_def *c = rove_schema_coll(io_colls[i].coll);
		if (strcmp(what, io_colls[i].plural) == 0 || strcmp(what, c->name) == 0)
			return c;
	}
	return NULL;
}

const char *cli_io_plural(const rove_coll_def *c)
{
	for (size_t i = 0; i < sizeof(io_colls) / sizeof(io_colls[0]); i++)
		if (io_colls[i].coll == c->id)
			return io_colls[i].plural;
	return c->name;
}
