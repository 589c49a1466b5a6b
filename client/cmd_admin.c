/*
 * cmd_admin.c - `rove admin ...`: users (add, list, show, disable,
 * enable, new tokens), territories, assignments and reassignments. Sent to the server at once (needs the network); the
 * server checks who may do what.
 */
#include "cli.h"
#include "array.h"
#include "cli_opt.h"
#include "err.h"
#include "net.h"
#include "log.h"
#include "out.h"
#include "rove_assert.h"
#include "rules.h"
#include "schema.h"
#include "sync.h"
#include "text.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
	"usage: rove admin user add NAME --role ROLE [--territory CODE]...\n"
	"       rove admin user list [--json]\n"
	"       rove admin user show LOGIN [--json]\n"
	"       rove admin user disable LOGIN\n"
	"       rove admin user enable LOGIN\n"
	"       rove admin user token LOGIN\n"
	"       rove admin territory add CODE --name NAME [--parent CODE]\n"
	"       rove admin territory set CODE FIELD=VALUE...\n"
	"       rove admin assign USER CODE\n"
	"       rove admin unassign USER CODE\n"
	"       rove admin reassign --customer ID --to USER\n"
	"       rove admin reassign --territory CODE --from USER --to USER\n"
	"       rove admin import territories|users FILE.csv [--dry-run]\n"
	"\n"
	"Administration, sent to the server at once (needs the network).\n"
	"  user add        add a user (role: rep, manager, analyst or admin) and\n"
	"                  print the new user's token alone on stdout\n"
	"  user list|show  users: role, territories, disabled, last sync (admins:\n"
	"                  everyone; managers: the users of their territories)\n"
	"  user disable    refuse every request of a user (enable: allow again)\n"
	"  user token      print a new token for a user; the old one stops working\n"
	"  territory add   add a territory (codes like east.sh) under a parent\n"
	"  territory set   rename it or set its public-pool rules (公海规则)\n"
	"  assign          give a rep or manager a territory (unassign: take it)\n"
	"  reassign        move one customer, or all of a rep's customers in a\n"
	"                  territory together with the territory, to another user\n"
	"                  (admins anywhere, managers inside their territories)\n"
	"  import          add territories or users from a CSV file (users: their\n"
	"                  tokens printed as login,token CSV)\n"
	"Run 'rove admin COMMAND --help' for one command.\n";

static const char user_add_help[] =
	"usage: rove admin user add NAME --role ROLE [--territory CODE]...\n"
	"\n"
	"(admins) Add a user and print the new user's token alone on stdout.\n"
	"  NAME              the login: letters, digits and . _ - @, at most 64,\n"
	"                    beginning with a letter or digit\n"
	"  --role ROLE       rep, manager, analyst or admin\n"
	"  --territory CODE  a territory the user holds (repeat for more, at most 14;\n"
	"                    more with `rove admin assign` or `rove admin import users`)\n";

enum { OPT_ROLE = CLI_OPT_LONG, OPT_TERRITORY };

static const struct option user_add_opts[] = {
	{"role", required_argument, NULL, OPT_ROLE | CLI_OPT_REQUIRED},
	{"territory", required_argument, NULL, OPT_TERRITORY | CLI_OPT_REPEAT},
	{NULL, 0, NULL, 0},
};

static const char user_list_help[] =
	"usage: rove admin user list [--json] [--search TEXT] [--sort FIELD[:desc]] [--limit N]\n"
	"\n"
	"(admins, managers) The users: login, role, whether disabled, when they\n"
	"last synced (to the minute) and their territories. Admins see everyone;\n"
	"a manager sees himself and the users who hold a territory in his\n"
	"territories, and of their territories only those.\n"
	"  --search TEXT  users whose login, role or a territory holds TEXT\n"
	"  --sort FIELD   login (the default), role, disabled or last_sync;\n"
	"                 FIELD:desc the other way\n"
	"  --limit N      the first N\n"
	"JSON: [{\"login\":L,\"name\":L,\"role\":R,\"territories\":[CODE...],\n"
	"        \"disabled\":B,\"last_sync\":TIME|null}...]\n";

static const char user_show_help[] =
	"usage: rove admin user show LOGIN [--json]\n"
	"\n"
	"(admins, managers) One user, as 'rove admin user list' shows them; JSON:\n"
	"one object with the same fields.\n";

static const char user_disable_help[] =
	"usage: rove admin user disable LOGIN\n"
	"\n"
	"(admins) Refuse every request of user LOGIN from now on: their syncs\n"
	"fail (exit 1) and their pending changes stay on their replica; their\n"
	"customers stay theirs until reassigned ('rove admin reassign'). Nobody\n"
	"disables himself or the last enabled admin.\n";

static const char user_enable_help[] =
	"usage: rove admin user enable LOGIN\n"
	"\n"
	"(admins) Let a disabled user work again: their next sync sends their\n"
	"pending changes.\n";

static const char user_token_help[] =
	"usage: rove admin user token LOGIN\n"
	"\n"
	"(admins) Print a new token for user LOGIN alone on stdout; their old\n"
	"token stops working at once. They go on with 'rove config token NEW'.\n"
	"A new token of your own is this replica's at once (said on stderr).\n";

static const char territory_add_help[] =
	"usage: rove admin territory add CODE --name NAME [--parent CODE]\n"
	"\n"
	"(admins) Add a territory: CODE is letters, digits and . _ - (like\n"
	"east.sh), at most 64; --parent puts it under another territory.\n";

enum { OPT_NAME = CLI_OPT_LONG, OPT_PARENT };

static const struct option territory_add_opts[] = {
	{"name", required_argument, NULL, OPT_NAME | CLI_OPT_REQUIRED},
	{"parent", required_argument, NULL, OPT_PARENT},
	{NULL, 0, NULL, 0},
};

static const char territory_set_help[] =
	"usage: rove admin territory set CODE FIELD=VALUE...\n"
	"\n"
	"(admins) Rename a territory (name=TEXT) or set its public-pool rules\n"
	"(公海规则), 0 for none:\n"
	"  pool_limit=N       customers a rep may hold\n"
	"  claim_limit=N      claims a day\n"
	"  cooldown_days=N    before re-claiming one released\n"
	"  release_reason=1   a reason is required to release\n"
	"  recycle_days=N     idle customers go back to the pool\n"
	"  warn_days=N        owners are told this many days before\n";

static const char assign_help[] =
	"usage: rove admin assign USER CODE\n"
	"\n"
	"(admins) Give a rep or manager territory CODE; their replica refetches\n"
	"its data on the next sync.\n";

static const char unassign_help[] =
	"usage: rove admin unassign USER CODE\n"
	"\n"
	"(admins) Take territory CODE from a user; their replica drops what it\n"
	"no longer may see on the next sync. A user who does not hold CODE is\n"
	"left as is (said on stderr).\n";

static const char reassign_help[] =
	"usage: rove admin reassign --customer ID --to USER\n"
	"       rove admin reassign --territory CODE --from USER --to USER\n"
	"\n"
	"(admins anywhere, managers inside their territories) Move one customer,\n"
	"or all of a user's customers in a territory together with the territory,\n"
	"to another user, with their contacts, contracts, open deals and\n"
	"activities. With --territory it prints how many customers moved, alone\n"
	"on stdout (0: the territory alone).\n";

enum { OPT_CUSTOMER = CLI_OPT_LONG, OPT_FROM_TERRITORY, OPT_FROM, OPT_TO };

static const struct option reassign_opts[] = {
	{"customer", required_argument, NULL, OPT_CUSTOMER},
	{"territory", required_argument, NULL, OPT_FROM_TERRITORY},
	{"from", required_argument, NULL, OPT_FROM},
	{"to", required_argument, NULL, OPT_TO | CLI_OPT_REQUIRED},
	{NULL, 0, NULL, 0},
};

/* Where print_line writes: stdout, or cmd_admin_to's file while it runs
 * (rove ui: one request at a time). */
static FILE *line_out;

/* A line of the server's answer (a token, an id), shown: the server is
 * not trusted to send only printable text. */
static void print_line(const char *s, uint32_t len, void *arg)
{
	FILE *f = line_out != NULL ? line_out : stdout;

	(void)arg;
	rove_text_put_shown(f, s, len, 0);
	fputc('\n', f);
}

/* Unassign's note, when the user did not hold the territory. */
static void print_note(const char *s, uint32_t len, void *arg)
{
	(void)arg;
	fputs("rove: note: ", stderr);
	rove_text_put_shown(stderr, s, len, 0);
	fputc('\n', stderr);
}

/* Sends command cmd; a role that may not run it (act: enum
 * rove_rules_act) is told at once, with the server's words. fn gets the
 * lines of the answer. why not NULL: an unreachable server is not
 * reported but said there (the caller goes on without the answer, saying
 * so); call_fn is this with why NULL. */
static int call_fn_why(rove_cli *cli, int act, const char *cmd, const char *const *args, uint32_t n,
		       rove_line_fn fn, void *arg, char *why, size_t whylen)
{
	rove_replica r;
	char err[ROVE_MAX_ERRMSG + 1], hint[ROVE_NET_HINT_BUF];
	int role, rc;

	for (uint32_t i = 0; i < n; i++) {
		if (strlen(args[i]) > ROVE_MAX_ADMIN_ARG) {
			rove_error("%s is longer than %u bytes, the most an administration request carries",
				   CLI_QUOTE(args[i]), ROVE_MAX_ADMIN_ARG);
			return ROVE_EXIT_FAIL;
		}
	}
	rc = cli_open(cli, &r);
	if (rc != ROVE_OK)
		return cli_exit(rc);
	role = rove_role_parse(r.role); /* 0 before the first sync: the server decides */
	if (role != 0 && rove_rules_may(role, act, err, sizeof(err)) != ROVE_R_NONE) {
		rove_error("not allowed: %s (you are %s)", err, rove_role_with_article(rove_role_parse(r.role)));
		rove_replica_close(&r);
		return ROVE_EXIT_FAIL;
	}
	rc = rove_admin_call(&r, cli->timeout_ms, cmd, args, n, fn, arg, err, sizeof(err));
	if (why != NULL && (rc == ROVE_ELOST || rove_err_unreached(rc)))
		snprintf(why, whylen, "the server at %s: %s", r.server, rc == ROVE_ELOST ? err : rove_strerror(rc));
	else if (why != NULL && rc != ROVE_OK) /* the caller says it, and goes on */
		snprintf(why, whylen, "%s", err[0] ? err : rove_strerror(rc));
	else if (rc == ROVE_ELOST && act != ROVE_ACT_SEE_USERS)
		/* lost while it waited for the answer, the request perhaps
		 * done (a change asked again is done once: the server knows
		 * its request id) */
		rove_error("the server at %s: %s: '%s' may or may not have been done; see 'rove admin user list' or "
			   "'rove territory list' after 'rove sync' before running it again",
			   r.server, err, cmd);
	else if (rc == ROVE_ELOST)
		rove_error("the server at %s: %s", r.server, err);
	else if (rc == ROVE_ETIMEDOUT && err[0] != '\0' && act != ROVE_ACT_SEE_USERS)
		/* sent, perhaps done, its answer not come (a stalled server, or
		 * one whose answer was lost): not "nothing happened" */
		rove_error("no answer from the server at %s within the timeout: '%s' may or may not have been "
			   "done; see 'rove admin user list' or 'rove territory list' after 'rove sync' before "
			   "running it again",
			   r.server, cmd);
	else if (rc == ROVE_ETIMEDOUT && err[0] != '\0')
		/* a read (the list of users): reached, and no answer in time,
		 * as a sync says it (attack eighty-two: "cannot reach") */
		rove_error("the server at %s was reached but did not answer within %d ms%s", r.server, cli->timeout_ms,
			   CLI_SLOW_LINK("admin user list"));
	else if (rove_err_unreached(rc))
		rove_error("cannot reach the server at %s (%s%s)", r.server, rove_strerror(rc),
			   rove_net_why_unreached(r.server, hint, sizeof(hint)));
	else if (rc != ROVE_OK)
		rove_error("%s", err[0] ? err : rove_strerror(rc));
	rove_replica_close(&r);
	return cli_exit(rc);
}

static int call_fn(rove_cli *cli, int act, const char *cmd, const char *const *args, uint32_t n, rove_line_fn fn,
		   void *arg)
{
	return call_fn_why(cli, act, cmd, args, n, fn, arg, NULL, 0);
}

/* The lines of the answer go to stdout (a token), or with notes to
 * stderr. */
static int call_to(rove_cli *cli, int act, const char *cmd, const char *const *args, uint32_t n, bool notes)
{
	return call_fn(cli, act, cmd, args, n, notes ? print_note : print_line, NULL);
}

static int call(rove_cli *cli, int act, const char *cmd, const char *const *args, uint32_t n)
{
	return call_to(cli, act, cmd, args, n, false);
}

static void print_secret(const char *s, uint32_t len, void *arg)
{
	cli_secret_line(arg, s, len);
}

/* The answer to user.token, passed on to fn and kept: the token. */
typedef struct token_answer {
	rove_line_fn fn;
	void *arg;
	char token[ROVE_TOKEN_HEX + 1];
	uint32_t lines;
} token_answer;

static void token_line(const char *s, uint32_t len, void *arg)
{
	token_answer *a = arg;

	if (a->lines++ == 0 && len == ROVE_TOKEN_HEX) {
		memcpy(a->token, s, len);
		a->token[len] = '\0';
	}
	a->fn(s, len, a->arg);
}

/* A new token for the replica's own user (an admin's own, from the CLI or
 * rove ui's user page) is this replica's from now on: the old one stops
 * working, and a replica that kept it was locked out; an only admin whose
 * printed token was lost could never get in again (attack seventy-two:
 * rove ui showed "no such user", and the token nowhere). */
static void keep_own_token(rove_cli *cli, const char *login, const token_answer *a)
{
	char token[ROVE_TOKEN_HEX + 1];
	rove_replica r;
	int rc = cli_open(cli, &r);

	if (rc != ROVE_OK) {
		rove_error("the new token may be your own, and this replica could not be opened to keep it (%s): if "
			   "it is, run 'rove config token NEW' with the token printed",
			   rove_strerror(rc));
		return;
	}
	if (strcmp(r.auth.user, login) == 0) {
		rc = a->lines == 1 && cli_token_ok(a->token, token) ? rove_replica_set(&r, ROVE_SET_TOKEN, token)
								     : ROVE_EPROTO;
		if (rc == ROVE_OK)
			fputs("rove: note: the new token is your own: this replica uses it from now on\n", stderr);
		else
			rove_error("the new token is your own, and this replica could not keep it (%s): run 'rove "
				   "config token NEW' with the token printed, or this replica cannot sync",
				   rove_strerror(rc));
	}
	rove_replica_close(&r);
}

/* A call whose answer is a new token, shown once: on stderr if stdout
 * cannot be written (the server made it all the same). login: the user
 * whose token it is, if it may be this replica's (NULL: a new user). */
static int call_token(rove_cli *cli, const char *cmd, const char *const *args, uint32_t n, const char *login)
{
	token_answer a = {print_line, NULL, {0}, 0};
	cli_secret sec;
	int status;

	if (line_out != NULL) { /* rove ui's page */
		status = call_fn(cli, ROVE_ACT_ADMINISTER, cmd, args, n, token_line, &a);
	} else {
		cli_secret_begin(&sec);
		a.fn = print_secret;
		a.arg = &sec;
		status = cli_secret_end(&sec, call_fn(cli, ROVE_ACT_ADMINISTER, cmd, args, n, token_line, &a),
					"the new token");
	}
	if (status == ROVE_EXIT_OK && login != NULL)
		keep_own_token(cli, login, &a);
	return status;
}

/* Where parse puts the value of option CLI_OPT_LONG + i: dest[i]. A
 * single value (a later one replaces it), or values (at most max). */
typedef struct opt_dest {
	const char **value;
	const char **values;
	uint32_t *nvalues;
	uint32_t max;
} opt_dest;

/* Parses argv[from..] by table: option values into dest, the other words
 * (those that do not start with --) into pos, in order. False on a usage
 * error: an unknown option, one without its value, too many values, a
 * required option left out (reported). */
static bool parse(int argc, char **argv, int from, const struct option *table, const opt_dest *dest, const char **pos,
		  uint32_t *npos, uint32_t maxpos)
{
	cli_opt o;
	int k;

	*npos = 0;
	cli_opt_init(&o, argc, argv, from, table);
	while ((k = cli_opt_next(&o)) != CLI_OPT_END) {
		if (k == CLI_OPT_WORD || (k == CLI_OPT_UNKNOWN && strncmp(o.arg, "--", 2) != 0)) {
			if (*npos >= maxpos) {
				cli_opt_unexpected(&o, CLI_OPT_WORD);
				return false;
			}
			pos[(*npos)++] = o.arg;
		} else if (k >= CLI_OPT_LONG && dest[k - CLI_OPT_LONG].value != NULL) {
			*dest[k - CLI_OPT_LONG].value = o.arg;
		} else if (k >= CLI_OPT_LONG) {
			const opt_dest *d = &dest[k - CLI_OPT_LONG];
			if (*d->nvalues >= d->max)
				return false;
			d->values[(*d->nvalues)++] = o.arg;
		} else {
			if (k == CLI_OPT_MISSING)
				cli_opt_missing_error(&o);
			else
				cli_opt_unexpected(&o, k);
			return false;
		}
	}
	return true;
}

static int user_add(rove_cli *cli, int argc, char **argv)
{
	const char *role = NULL, *terr[ROVE_MAX_USER_TERRITORIES + 1], *pos[1];
	const char *args[ROVE_MAX_ADMIN_ARGS];
	uint32_t nterr = 0, npos, n = 0;
	const opt_dest dest[] = {
		[OPT_ROLE - CLI_OPT_LONG] = {&role, NULL, NULL, 0},
		[OPT_TERRITORY - CLI_OPT_LONG] = {NULL, terr, &nterr, ROVE_MAX_USER_TERRITORIES + 1},
	};

	if (!parse(argc, argv, 3, user_add_opts, dest, pos, &npos, 1) || role == NULL)
		return cli_usage(user_add_help, false);
	if (npos != 1) {
		rove_error("admin user add needs NAME, the new user's login");
		return cli_usage(user_add_help, false);
	}
	/* A territory named twice is held once (the server does the same). */
	for (uint32_t i = 0; i < nterr; i++) {
		bool again = false;
		for (uint32_t k = 0; k < n && !again; k++)
			again = strcmp(terr[k], terr[i]) == 0;
		if (!again)
			terr[n++] = terr[i];
	}
	nterr = n;
	if (nterr > ROVE_MAX_ADMIN_ARGS - 2) {
		rove_error("user add names at most %u territories (one request holds %u arguments); add the user with "
			   "some, then 'rove admin assign %s CODE' for each other, or use 'rove admin import users' "
			   "(up to %u a user, all or nothing)",
			   ROVE_MAX_ADMIN_ARGS - 2, ROVE_MAX_ADMIN_ARGS, pos[0], ROVE_MAX_USER_TERRITORIES);
		return ROVE_EXIT_USAGE;
	}
	if (rove_role_parse(role) == 0) {
		rove_error("invalid role '%s' (rep, manager, analyst or admin)", role);
		return ROVE_EXIT_FAIL; /* an invalid value, as an invalid tier */
	}
	/* What the server would refuse, in its words (and a login too long
	 * for a request is no "limit exceeded"). */
	if (!cli_login_ok(pos[0]))
		return ROVE_EXIT_FAIL;
	for (uint32_t i = 0; i < nterr; i++)
		if (!cli_code_ok(terr[i]))
			return ROVE_EXIT_FAIL;
	args[0] = pos[0];
	args[1] = role;
	for (uint32_t i = 0; i < nterr; i++)
		args[2 + i] = terr[i];
	return call_token(cli, "user.add", args, 2 + nterr, NULL);
}

/* ---- users: list, show, disable, enable, token ---- */

/* The answer's lines, kept (each NUL-terminated) to be checked whole
 * before anything is printed. */
typedef struct kept_lines {
	rove_buf text;
	uint32_t n;
	bool bad; /* a line held a NUL, or memory ran out */
} kept_lines;

static void keep_line(const char *s, uint32_t len, void *arg)
{
	kept_lines *k = arg;

	if (k->bad || memchr(s, '\0', len) != NULL || rove_buf_append(&k->text, s, len) != ROVE_OK ||
	    rove_buf_append(&k->text, "", 1) != ROVE_OK)
		k->bad = true;
	k->n++;
}

/* A user as the server describes them (server/admin.c): a line "LOGIN
 * ROLE enabled|disabled LAST_SYNC_MS N", then N lines of territory codes.
 * Pointers into the kept lines. */
typedef cli_admin_user user_row;

/* Reads the user whose first line is at line *i of k (p: its text),
 * advancing both; false if the lines are not one (the server is not
 * trusted: every name is checked as the server would take it). */
static bool next_user(const kept_lines *k, uint32_t *i, char **p, user_row *u)
{
	char *save = NULL, *f[6], *end;
	unsigned long long ms, n;
	int nf = 0;

	char *line = *p;

	if (*i >= k->n)
		return false;
	*p += strlen(line) + 1; /* before strtok_r cuts the line into words */
	(*i)++;
	for (char *w = strtok_r(line, " ", &save); w != NULL && nf < 6; w = strtok_r(NULL, " ", &save))
		f[nf++] = w;
	if (nf != 5 || !rove_login_valid(f[0], strlen(f[0])) || rove_role_parse(f[1]) == 0 ||
	    (strcmp(f[2], "enabled") != 0 && strcmp(f[2], "disabled") != 0))
		return false;
	errno = 0;
	ms = strtoull(f[3], &end, 10);
	if (errno != 0 || *end != '\0' || f[3][0] < '0' || f[3][0] > '9')
		return false;
	n = strtoull(f[4], &end, 10);
	if (errno != 0 || *end != '\0' || f[4][0] < '0' || f[4][0] > '9' || n > ROVE_MAX_USER_TERRITORIES ||
	    n > k->n - *i)
		return false;
	u->login = f[0];
	u->role = f[1];
	u->disabled = strcmp(f[2], "disabled") == 0;
	u->synced_ms = ms;
	u->nterr = (uint32_t)n;
	for (uint32_t t = 0; t < u->nterr; t++) {
		u->terr[t] = *p;
		if (!rove_code_valid(*p, strlen(*p)))
			return false;
		*p += strlen(*p) + 1;
		(*i)++;
	}
	return true;
}

static void user_json(out_json *j, const user_row *u)
{
	char when[40];

	if (u->synced_ms != 0)
		out_time(u->synced_ms, when, sizeof(when));
	out_json_begin_object(j);
	out_json_field_str(j, "login", u->login);
	out_json_field_str(j, "name", u->login); /* SPEC's user: "name (unique login)" */
	out_json_field_str(j, "role", u->role);
	out_json_key(j, "territories");
	out_json_begin_array(j);
	for (uint32_t t = 0; t < u->nterr; t++)
		out_json_cstr(j, u->terr[t]);
	out_json_end_array(j);
	out_json_field_bool(j, "disabled", u->disabled);
	out_json_field_str(j, "last_sync", u->synced_ms != 0 ? when : NULL);
	out_json_end_object(j);
}

/* The last sync as text: a time, or "never". */
static const char *synced_text(const user_row *u, char *buf, size_t len)
{
	if (u->synced_ms == 0)
		return "never";
	out_time(u->synced_ms, buf, len);
	return buf;
}

static void user_line(const user_row *u)
{
	char when[40];

	printf("%-16s %-8s %-9s %-*s", u->login, u->role, u->disabled ? "disabled" : "enabled", u->nterr > 0 ? 20 : 0,
	       synced_text(u, when, sizeof(when)));
	for (uint32_t t = 0; t < u->nterr; t++)
		printf("%s%s", t ? "," : " ", u->terr[t]);
	putchar('\n');
}

static void user_text(const user_row *u)
{
	char when[40];

	printf("login:       %s\nrole:        %s\nterritories: ", u->login, u->role);
	for (uint32_t t = 0; t < u->nterr; t++)
		printf("%s%s", t ? ", " : "", u->terr[t]);
	printf("%s\ndisabled:    %s\nlast sync:   %s\n", u->nterr == 0 ? "(none)" : "", u->disabled ? "yes" : "no",
	       synced_text(u, when, sizeof(when)));
}

/* Walks the users of k (reading a copy: next_user cuts the words), and
 * if out prints them: a list (a JSON array, or a table), or the one user
 * of a show. False if the lines are not users (or not one, for a show),
 * or memory ran out. */
/* What `admin user list` keeps and in which order (SPEC: every list
 * takes --search, --sort, --limit): search NULL, sort NULL (the server's
 * order, by login) and limit 0 keep them all. */
typedef struct user_find {
	const char *search;
	char folded[ROVE_MAX_STR + 1]; /* search, full-width forms made ASCII (logins are ASCII) */
	char sort[16];
	bool desc;
	uint64_t limit;
} user_find;

/* The fields a list of users sorts by (its JSON's). */
static const char *const user_sort_fields[] = {"login", "name", "role", "disabled", "last_sync"};

/* Whether s holds what, letters of ASCII in either case (logins, roles
 * and codes are ASCII). */
static bool holds_fold(const char *s, const char *what)
{
	size_t n = strlen(what);

	for (; *s != '\0'; s++) {
		size_t i = 0;
		while (i < n && s[i] != '\0' && tolower((unsigned char)s[i]) == tolower((unsigned char)what[i]))
			i++;
		if (i == n)
			return true;
	}
	return n == 0;
}

static bool user_found(const user_row *u, const char *search)
{
	if (search == NULL || holds_fold(u->login, search) || holds_fold(u->role, search))
		return true;
	for (uint32_t t = 0; t < u->nterr; t++)
		if (holds_fold(u->terr[t], search))
			return true;
	return false;
}

/* One finding option of `admin user list` into f (what: 's' --search,
 * 'o' --sort, 'l' --limit); false on a bad value (said). */
static bool user_find_opt(user_find *f, char what, const char *arg)
{
	uint64_t n = 0;

	if (what == 's') {
		size_t len = strlen(arg);
		f->search = arg;
		if (len < sizeof(f->folded)) {
			rove_text_fold_width(arg, len, f->folded, sizeof(f->folded));
			f->search = f->folded;
		}
		return true;
	}
	if (what == 'l') {
		if (rove_text_uint(arg, ROVE_MAX_LIST_LIMIT, &n) && n > 0) {
			f->limit = n;
			return true;
		}
		rove_error("--limit takes a number of users, 1 to %u ('%s')", ROVE_MAX_LIST_LIMIT, arg);
		return false;
	}
	const char *colon = strchr(arg, ':');
	size_t len = colon != NULL ? (size_t)(colon - arg) : strlen(arg);
	f->desc = colon != NULL && strcmp(colon, ":desc") == 0;
	if (colon == NULL || f->desc || strcmp(colon, ":asc") == 0)
		for (size_t i = 0; i < sizeof(user_sort_fields) / sizeof(user_sort_fields[0]); i++)
			if (strlen(user_sort_fields[i]) == len && strncmp(user_sort_fields[i], arg, len) == 0) {
				snprintf(f->sort, sizeof(f->sort), "%s", user_sort_fields[i]);
				return true;
			}
	rove_error("--sort takes a field of a user (login, name, role, disabled, last_sync), then :desc if it goes "
		   "down ('%s')",
		   arg);
	return false;
}

static const user_find *user_order; /* qsort takes no context */

static int user_cmp(const void *pa, const void *pb)
{
	const user_row *a = pa, *b = pb;
	const char *f = user_order->sort;
	int c;

	if (strcmp(f, "last_sync") == 0 && (a->synced_ms == 0) != (b->synced_ms == 0))
		return a->synced_ms == 0 ? 1 : -1; /* never synced last, either way */
	if (strcmp(f, "role") == 0)
		c = strcmp(a->role, b->role);
	else if (strcmp(f, "disabled") == 0)
		c = (int)a->disabled - (int)b->disabled;
	else if (strcmp(f, "last_sync") == 0)
		c = a->synced_ms < b->synced_ms ? -1 : a->synced_ms > b->synced_ms;
	else
		c = 0;
	if (c == 0)
		c = strcmp(a->login, b->login);
	return user_order->desc ? -c : c;
}

/* Walks the users of k (one: exactly one), printing them when out (as
 * JSON or text; a list found, sorted and cut as f says). False when the
 * answer is malformed. */
static bool walk_users(const kept_lines *k, bool json, bool one, bool out, const user_find *f)
{
	user_row *u = malloc(sizeof(*u)), *rows = NULL;
	uint32_t i = 0, count = 0;
	size_t nrows = 0, cap = 0;
	bool ok = true;
	rove_buf copy;
	out_json j;
	char *p;

	rove_buf_init(&copy);
	if (u == NULL || k->bad || rove_buf_append(&copy, k->text.data, k->text.len) != ROVE_OK) {
		free(u);
		rove_buf_free(&copy);
		return false;
	}
	p = (char *)copy.data;
	while (i < k->n && next_user(k, &i, &p, u)) {
		count++;
		if (!out || !user_found(u, one ? NULL : f->search))
			continue;
		user_row *grown = rove_array_grow(rows, &cap, nrows, 1, sizeof(*rows), 16);
		if (grown == NULL) {
			ok = false;
			break;
		}
		rows = grown;
		rows[nrows++] = *u; /* its strings point into copy */
	}
	if (out && ok && !one && f->sort[0] != '\0' && nrows > 1) {
		user_order = f;
		qsort(rows, nrows, sizeof(*rows), user_cmp);
	}
	if (out && ok && !one && f->limit > 0 && nrows > f->limit)
		nrows = (size_t)f->limit;
	if (out && ok && json && !one) {
		out_json_init(&j, stdout);
		out_json_begin_array(&j);
	}
	for (size_t r = 0; out && ok && r < nrows; r++) {
		if (json && one) {
			out_json_init(&j, stdout);
			user_json(&j, &rows[r]);
			out_json_finish(&j);
		} else if (json) {
			user_json(&j, &rows[r]);
		} else if (one) {
			user_text(&rows[r]);
		} else {
			if (r == 0)
				printf("%-16s %-8s %-9s %-20s %s\n", "LOGIN", "ROLE", "STATE", "LAST SYNC", "TERRITORIES");
			user_line(&rows[r]);
		}
	}
	if (out && ok && json && !one) {
		out_json_end_array(&j);
		out_json_finish(&j);
	}
	free(rows);
	free(u);
	rove_buf_free(&copy);
	return ok && i == k->n && (!one || count == 1);
}

/* Prints the users of k, checked whole first: a malformed answer prints
 * nothing. */
static int print_users(const kept_lines *k, bool json, bool one, const user_find *f)
{
	if (!walk_users(k, json, one, false, f)) {
		rove_error("malformed reply from the server");
		return ROVE_EXIT_FAIL;
	}
	if (!walk_users(k, json, one, true, f)) {
		rove_error("out of memory");
		return ROVE_EXIT_FAIL;
	}
	return fflush(stdout) == 0 ? ROVE_EXIT_OK : ROVE_EXIT_FAIL;
}

/* Parses `rove admin user VERB [LOGIN] [--json]` (argv[3..]): the login
 * (when want_login), and --json when json is not NULL. False on a usage
 * error or --help, *status the exit status. */
static bool parse_user_args(int argc, char **argv, const char *usage, bool want_login, const char **login, bool *json,
			    int *status, user_find *f)
{
	enum { OPT_JSON = CLI_OPT_LONG, OPT_SEARCH, OPT_SORT, OPT_LIMIT };
	static const struct option finding[] = {
		{"json", no_argument, NULL, OPT_JSON},
		{"search", required_argument, NULL, OPT_SEARCH},
		{"sort", required_argument, NULL, OPT_SORT},
		{"limit", required_argument, NULL, OPT_LIMIT},
		{NULL, 0, NULL, 0},
	};
	static const struct option only_json[] = {{"json", no_argument, NULL, OPT_JSON}, {NULL, 0, NULL, 0}};
	static const struct option none[] = {{NULL, 0, NULL, 0}};
	cli_opt o;
	int k, nwords = 0;

	cli_opt_init(&o, argc, argv, 3, json == NULL ? none : f != NULL ? finding : only_json);
	while ((k = cli_opt_next(&o)) != CLI_OPT_END) {
		if (k == 'h') {
			*status = cli_usage(usage, true);
			return false;
		}
		if (f != NULL && (k == OPT_SEARCH || k == OPT_SORT || k == OPT_LIMIT)) {
			if (!user_find_opt(f, k == OPT_SEARCH ? 's' : k == OPT_SORT ? 'o' : 'l', o.arg)) {
				*status = cli_usage(usage, false);
				return false;
			}
		} else if (k == OPT_JSON && json != NULL) {
			*json = true;
		} else if (k == CLI_OPT_WORD && want_login && nwords == 0) {
			*login = o.arg;
			nwords++;
		} else {
			if (k == CLI_OPT_UNKNOWN)
				rove_error("unknown option '%s'", o.arg);
			else if (k == CLI_OPT_WORD)
				cli_word_unexpected(o.arg);
			*status = cli_usage(usage, false);
			return false;
		}
	}
	if (want_login && nwords == 0) {
		rove_error("missing LOGIN");
		*status = cli_usage(usage, false);
		return false;
	}
	if (want_login && !cli_login_ok(*login)) {
		*status = ROVE_EXIT_FAIL;
		return false;
	}
	return true;
}

static int user_list_or_show(rove_cli *cli, int argc, char **argv)
{
	bool show = strcmp(argv[2], "show") == 0, json = false;
	const char *login = NULL;
	kept_lines k = {{0}, 0, false};
	user_find find = {.search = NULL};
	int status, rc;

	if (!parse_user_args(argc, argv, show ? user_show_help : user_list_help, show, &login, &json, &status,
			     show ? NULL : &find))
		return status;
	rove_buf_init(&k.text);
	rc = call_fn(cli, ROVE_ACT_SEE_USERS, show ? "user.show" : "user.list", &login, show ? 1 : 0, keep_line, &k);
	if (rc == ROVE_EXIT_OK)
		rc = print_users(&k, json, show, &find);
	rove_buf_free(&k.text);
	return rc;
}

void cli_user_find(const cli_admin_user *u, void *arg)
{
	cli_user_found *o = arg;

	if (o->found || strcmp(u->login, o->login) != 0)
		return;
	o->found = true;
	snprintf(o->role, sizeof(o->role), "%s", u->role);
	o->disabled = u->disabled;
	o->nterr = u->nterr < ROVE_MAX_USER_TERRITORIES ? u->nterr : ROVE_MAX_USER_TERRITORIES;
	for (uint32_t i = 0; i < o->nterr; i++)
		snprintf(o->terr[i], sizeof(o->terr[i]), "%s", u->terr[i]);
}

bool cmd_admin_users_advice(rove_cli *cli, cli_admin_user_fn fn, void *arg, const char *what, const char *then)
{
	char why[ROVE_MAX_ERRMSG + 256] = "", said[ROVE_MAX_ERRMSG + 256];
	rove_cli advice = cli_advice(cli);
	int status;

	/* Advice: what the asking says as an error (a TLS setup's reason)
	 * goes into the warning, with no error line of its own. */
	rove_log_hold(said, sizeof(said));
	status = cmd_admin_users_why(&advice, NULL, fn, arg, why, sizeof(why));
	rove_log_hold(NULL, 0);
	if (status == ROVE_EXIT_OK)
		return true;
	rove_warn("%s not checked (%s); %s", what,
		  said[0] != '\0' ? said
		  : why[0] != '\0' ? why
		  : "the server could not be asked for its users",
		  then);
	return false;
}

int cmd_admin_users(rove_cli *cli, const char *login, cli_admin_user_fn fn, void *arg)
{
	return cmd_admin_users_why(cli, login, fn, arg, NULL, 0);
}

int cmd_admin_users_why(rove_cli *cli, const char *login, cli_admin_user_fn fn, void *arg, char *why, size_t whylen)
{
	static const user_find no_find = {.search = NULL};
	kept_lines k = {{0}, 0, false};
	user_row *u;
	rove_buf copy;
	uint32_t i = 0;
	char *p;
	int rc;

	if (login != NULL && !cli_login_ok(login))
		return ROVE_EXIT_FAIL;
	rove_buf_init(&k.text);
	rove_buf_init(&copy);
	rc = call_fn_why(cli, ROVE_ACT_SEE_USERS, login != NULL ? "user.show" : "user.list", &login,
			 login != NULL ? 1 : 0, keep_line, &k, why, whylen);
	if (rc == ROVE_EXIT_OK && !walk_users(&k, false, login != NULL, false, &no_find)) {
		rove_error("malformed reply from the server");
		rc = ROVE_EXIT_FAIL;
	}
	u = rc == ROVE_EXIT_OK ? malloc(sizeof(*u)) : NULL;
	if (rc == ROVE_EXIT_OK && (u == NULL || rove_buf_append(&copy, k.text.data, k.text.len) != ROVE_OK)) {
		rove_error("out of memory");
		rc = ROVE_EXIT_FAIL;
	}
	if (rc == ROVE_EXIT_OK) {
		/* checked whole above: every user reads */
		p = (char *)copy.data;
		while (i < k.n && next_user(&k, &i, &p, u))
			fn(u, arg);
	}
	free(u);
	rove_buf_free(&copy);
	rove_buf_free(&k.text);
	return rc;
}

static int user_state_or_token(rove_cli *cli, int argc, char **argv)
{
	static const struct {
		const char *verb, *cmd, *usage;
	} verbs[] = {
		{"disable", "user.disable", user_disable_help},
		{"enable", "user.enable", user_enable_help},
		{"token", "user.token", user_token_help},
	};
	const char *login = NULL;
	int status;

	for (size_t v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++) {
		if (strcmp(argv[2], verbs[v].verb) != 0)
			continue;
		if (!parse_user_args(argc, argv, verbs[v].usage, true, &login, NULL, &status, NULL))
			return status;
		/* token: the new token alone on stdout */
		if (strcmp(verbs[v].verb, "token") == 0)
			return call_token(cli, verbs[v].cmd, &login, 1, login);
		return call(cli, ROVE_ACT_ADMINISTER, verbs[v].cmd, &login, 1);
	}
	ROVE_ASSERT(!"a user verb without its row");
	return ROVE_EXIT_FAIL;
}

static int territory_add(rove_cli *cli, int argc, char **argv)
{
	const char *name = NULL, *parent = NULL, *pos[1];
	const char *args[3];
	uint32_t npos;
	const opt_dest dest[] = {
		[OPT_NAME - CLI_OPT_LONG] = {&name, NULL, NULL, 0},
		[OPT_PARENT - CLI_OPT_LONG] = {&parent, NULL, NULL, 0},
	};

	if (!parse(argc, argv, 3, territory_add_opts, dest, pos, &npos, 1) || npos != 1 || name == NULL)
		return cli_usage(territory_add_help, false);
	if (!cli_code_ok(pos[0]) || (parent != NULL && parent[0] != '\0' && !cli_code_ok(parent)))
		return ROVE_EXIT_FAIL;
	args[0] = pos[0];
	args[1] = name;
	args[2] = parent;
	return call(cli, ROVE_ACT_ADMINISTER, "territory.add", args, parent != NULL ? 3 : 2);
}

static int territory_set_words(rove_cli *cli, int argc, char **argv, void *unused)
{
	(void)unused;
	if (argc < 5 || (uint32_t)(argc - 3) > ROVE_MAX_ADMIN_ARGS)
		return cli_usage(territory_set_help, false);
	for (int i = 3; i < argc; i++) {
		if (argv[i][0] == '-' || (i > 3 && strchr(argv[i], '=') == NULL)) {
			rove_error("expected FIELD=VALUE, got '%s'", argv[i]);
			return cli_usage(territory_set_help, false);
		}
		/* an unknown field: a usage error, as `customer set`'s (the
		 * server refuses it too; before, exit 1 from its refusal) */
		if (i > 3) {
			size_t len = (size_t)(strchr(argv[i], '=') - argv[i]);
			char name[ROVE_MAX_FIELD_NAME + 1];
			const rove_field_def *fd = NULL;
			if (len <= ROVE_MAX_FIELD_NAME) {
				memcpy(name, argv[i], len);
				name[len] = '\0';
				fd = rove_schema_field(rove_schema_coll(ROVE_COLL_TERRITORY), name);
			}
			if (fd == NULL || strcmp(fd->name, "code") == 0 || strcmp(fd->name, "parent") == 0) {
				rove_error("unknown territory field '%.*s' (territory fields: name, pool_limit, "
					   "claim_limit, cooldown_days, release_reason, recycle_days, warn_days)",
					   (int)(len < 64 ? len : 64), argv[i]);
				return cli_usage(territory_set_help, false);
			}
		}
		/* a field given twice: which value was meant is not ours to guess */
		for (int j = 4; j < i; j++) {
			size_t len = (size_t)(strchr(argv[i], '=') - argv[i]);
			if (strncmp(argv[j], argv[i], len + 1) == 0) {
				rove_error("%.*s is given twice: give each field once", (int)len, argv[i]);
				return cli_usage(territory_set_help, false);
			}
		}
	}
	if (!cli_code_ok(argv[3]))
		return ROVE_EXIT_FAIL;
	return call(cli, ROVE_ACT_ADMINISTER, "territory.set", (const char *const *)argv + 3, (uint32_t)(argc - 3));
}

static int territory_set(rove_cli *cli, int argc, char **argv)
{
	return cli_on_words(cli, argc, argv, 3, territory_set_words, NULL);
}

static int assign_words(rove_cli *cli, int argc, char **argv, void *unused)
{
	bool un = strcmp(argv[1], "unassign") == 0;
	const char *args[2];

	(void)unused;
	if (argc != 4 || argv[2][0] == '-' || argv[3][0] == '-') {
		if (argc > 4)
			cli_word_unexpected(argv[4]);
		else if (argc < 4)
			rove_error(argc < 3 ? "missing the user and the territory" : "missing the territory");
		else
			rove_error("unknown option '%s'", argv[2][0] == '-' ? argv[2] : argv[3]);
		return cli_usage(un ? unassign_help : assign_help, false);
	}
	if (!cli_login_ok(argv[2]) || !cli_code_ok(argv[3]))
		return ROVE_EXIT_FAIL;
	args[0] = argv[2];
	args[1] = argv[3];
	/* The server says when there was nothing to take: a note. */
	return call_to(cli, ROVE_ACT_ADMINISTER, argv[1], args, 2, un);
}

static int assign(rove_cli *cli, int argc, char **argv)
{
	return cli_on_words(cli, argc, argv, 2, assign_words, NULL);
}

static int reassign(rove_cli *cli, int argc, char **argv)
{
	const char *customer = NULL, *territory = NULL, *from = NULL, *to = NULL, *pos[1];
	char customer_id[ROVE_UUID_STRLEN + 1];
	uint32_t npos;
	const opt_dest dest[] = {
		[OPT_CUSTOMER - CLI_OPT_LONG] = {&customer, NULL, NULL, 0},
		[OPT_FROM_TERRITORY - CLI_OPT_LONG] = {&territory, NULL, NULL, 0},
		[OPT_FROM - CLI_OPT_LONG] = {&from, NULL, NULL, 0},
		[OPT_TO - CLI_OPT_LONG] = {&to, NULL, NULL, 0},
	};

	if (!parse(argc, argv, 2, reassign_opts, dest, pos, &npos, 0))
		return cli_usage(reassign_help, false);
	/* Which of the two forms: what the one the line started is missing
	 * is named. */
	if (customer == NULL && territory == NULL) {
		rove_error(from != NULL ? "admin reassign needs --territory (with --from)"
					: "admin reassign needs --customer or --territory");
		return cli_usage(reassign_help, false);
	}
	if (territory != NULL && from == NULL) {
		rove_error("admin reassign needs --from (with --territory)");
		return cli_usage(reassign_help, false);
	}
	if (customer != NULL && (territory != NULL || from != NULL)) {
		rove_error("admin reassign takes --customer, or --territory with --from, not both");
		return cli_usage(reassign_help, false);
	}
	if (customer != NULL && !cli_id_maybe(customer))
		return cli_exit(cli_id_arg(customer, "customer", &(rove_uuid){{0}}));
	if (customer != NULL) {
		/* The start or end of an id names the customer this replica
		 * holds with it. */
		rove_replica r;
		rove_uuid id;
		int rc = cli_open(cli, &r);
		if (rc == ROVE_OK) {
			rc = cli_id_find(&r, ROVE_COLL_CUSTOMER, customer, "customer", &id);
			rove_replica_close(&r);
		}
		if (rc != ROVE_OK)
			return cli_exit(rc);
		rove_uuid_format(&id, customer_id);
		customer = customer_id;
	}
	if (!cli_login_ok(to) || (from != NULL && !cli_login_ok(from)) || (territory != NULL && !cli_code_ok(territory)))
		return ROVE_EXIT_FAIL;
	if (customer != NULL && territory == NULL && from == NULL) {
		const char *args[2] = {customer, to};
		return call(cli, ROVE_ACT_REASSIGN, "reassign.customer", args, 2);
	}
	if (territory != NULL && from != NULL && customer == NULL) {
		const char *args[3] = {territory, from, to};
		return call(cli, ROVE_ACT_REASSIGN, "reassign.territory", args, 3);
	}
	return cli_usage(reassign_help, false);
}

/* The admin commands: `rove admin WORDS...` with their own usage. */
static const struct admin_cmd {
	const char *word1, *word2; /* word2 NULL: one word */
	const char *help;
	int (*fn)(rove_cli *cli, int argc, char **argv);
} admin_cmds[] = {
	{"user", "add", user_add_help, user_add},
	{"user", "list", user_list_help, user_list_or_show},
	{"user", "show", user_show_help, user_list_or_show},
	{"user", "disable", user_disable_help, user_state_or_token},
	{"user", "enable", user_enable_help, user_state_or_token},
	{"user", "token", user_token_help, user_state_or_token},
	{"territory", "add", territory_add_help, territory_add},
	{"territory", "set", territory_set_help, territory_set},
	{"assign", NULL, assign_help, assign},
	{"unassign", NULL, unassign_help, assign},
	{"reassign", NULL, reassign_help, reassign},
	{"import", NULL, cmd_admin_import_help, cmd_admin_import},
};

void cmd_admin_subs(FILE *f, const char *name)
{
	for (size_t k = 0; k < sizeof(admin_cmds) / sizeof(admin_cmds[0]); k++) {
		const struct admin_cmd *a = &admin_cmds[k];
		fprintf(f, "%s %s%s%s\n", name, a->word1, a->word2 != NULL ? " " : "", a->word2 != NULL ? a->word2 : "");
	}
}

int cmd_admin_to(rove_cli *cli, int argc, char **argv, FILE *out)
{
	int status;

	line_out = out;
	status = cmd_admin(cli, argc, argv);
	line_out = NULL;
	return status;
}

int cmd_admin(rove_cli *cli, int argc, char **argv)
{
	const struct admin_cmd *cmd = NULL;
	bool group = false; /* argv[1] names commands, but not which */
	char usage[1024];
	size_t n = 0;

	for (size_t k = 0; argc > 1 && k < sizeof(admin_cmds) / sizeof(admin_cmds[0]); k++) {
		const struct admin_cmd *a = &admin_cmds[k];
		if (strcmp(argv[1], a->word1) != 0)
			continue;
		group = true;
		if (a->word2 == NULL || (argc > 2 && strcmp(argv[2], a->word2) == 0)) {
			cmd = a;
			break;
		}
	}
	if (cli_opt_help(argc, argv, 1))
		return cli_usage(cmd != NULL ? cmd->help : help, true);
	if (cmd != NULL)
		return cmd->fn(cli, argc, argv);
	if (!group) {
		if (argc > 1)
			rove_error("unknown admin command '%s'", argv[1]);
		else
			rove_error("missing an admin command");
		return cli_usage(help, false);
	}
	/* `rove admin territory`: the usage lines of its commands. */
	if (argc > 2)
		rove_error("unknown admin %s command '%s'", argv[1], argv[2]);
	else
		rove_error("missing an admin %s command", argv[1]);
	usage[0] = '\0';
	for (size_t k = 0; k < sizeof(admin_cmds) / sizeof(admin_cmds[0]); k++) {
		const struct admin_cmd *a = &admin_cmds[k];
		const char *nl = strchr(a->help, '\n');
		int w;
		if (strcmp(argv[1], a->word1) != 0 || nl == NULL)
			continue;
		w = snprintf(usage + n, sizeof(usage) - n, "%s%.*s\n", n ? "       " : "", (int)(nl - a->help) - (n ? 7 : 0),
			     a->help + (n ? 7 : 0));
		if (w < 0 || (size_t)w >= sizeof(usage) - n)
			break;
		n += (size_t)w;
	}
	return cli_usage(usage, false);
}
