/*
 * cmd_config.c - `rove config [KEY [VALUE]]`: a replica's settings, the
 * server's URL, the user's token and the CA file, as `rove init` stored
 * them; shown (the token masked), read one at a time, and changed.
 *
 * Needed when a token changes, as after a server restored from a copy
 * older than the user's account, whose admin added the user again with a
 * new token. The replica keeps its data and its pending and acknowledged
 * work; its next sync sends again what the server lacks.
 */
#include "cli.h"
#include "cli_opt.h"
#include "err.h"
#include "log.h"
#include "out.h"

#include <string.h>

static const char help[] =
	"usage: rove config [--json]\n"
	"       rove config KEY\n"
	"       rove config KEY VALUE\n"
	"\n"
	"This replica's settings, as 'rove init' stored them:\n"
	"  server   the server: tcp://HOST:PORT, tls+tcp://HOST:PORT or ipc:///PATH\n"
	"  token    your token, 64 hex characters (shown masked: all but its last 4)\n"
	"  ca       for tls+tcp:// servers, the CA certificate (PEM) that signed the\n"
	"           server's certificate; an empty VALUE removes it ($ROVE_TLS_CA\n"
	"           overrides it)\n"
	"With no KEY, print them; with KEY, print one; with KEY VALUE, change it.\n"
	"The replica keeps its data and its pending changes.\n"
	"\n"
	"When your token changes (an admin gave you a new one, or the server was\n"
	"restored from a backup older than your account and the admin added you\n"
	"again), set it: 'rove config token TOKEN', then 'rove sync' sends again\n"
	"what the server lacks.\n";

enum { OPT_JSON = CLI_OPT_LONG };

static const struct option opts[] = {
	{"json", no_argument, NULL, OPT_JSON},
	{NULL, 0, NULL, 0},
};

static const struct {
	const char *key;
	int which;
} keys[] = {
	{"server", ROVE_SET_SERVER},
	{"token", ROVE_SET_TOKEN},
	{"ca", ROVE_SET_CA},
};

/* The setting's value as shown: a token masked but for its last 4. */
static void shown_value(const rove_replica *r, int which, char out[ROVE_MAX_URL + 1])
{
	if (which == ROVE_SET_SERVER) {
		snprintf(out, ROVE_MAX_URL + 1, "%s", r->server);
	} else if (which == ROVE_SET_CA) {
		snprintf(out, ROVE_MAX_URL + 1, "%s", r->tls_ca);
	} else {
		size_t len = strlen(r->auth.token), keep = len < 4 ? len : 4;
		memset(out, '*', len - keep);
		memcpy(out + len - keep, r->auth.token + len - keep, keep + 1);
	}
}

static int show(rove_replica *r, bool json)
{
	char v[ROVE_MAX_URL + 1];
	out_json j;

	if (json) {
		out_json_init(&j, stdout);
		out_json_begin_object(&j);
	}
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		shown_value(r, keys[k].which, v);
		if (json) {
			out_json_field_str(&j, keys[k].key, v[0] != '\0' ? v : NULL);
		} else {
			printf("%s: ", keys[k].key);
			out_text(stdout, v[0] != '\0' ? v : "(none)");
			putchar('\n');
		}
	}
	if (json) {
		out_json_end_object(&j);
		out_json_finish(&j);
	}
	return fflush(stdout) == 0 ? ROVE_OK : ROVE_EIO;
}

/* Checks value for setting which into out (as stored); false, reported,
 * if it is not one. */
static bool checked(int which, const char *value, char out[ROVE_MAX_URL + 1])
{
	if (which == ROVE_SET_SERVER) {
		if (!cli_server_ok(value))
			return false;
		snprintf(out, ROVE_MAX_URL + 1, "%s", value);
		return true;
	}
	if (which == ROVE_SET_TOKEN)
		return cli_token_ok(value, out);
	return cli_ca_ok(value, out);
}

int cmd_config(rove_cli *cli, int argc, char **argv)
{
	const char *args[2] = {NULL, NULL};
	char value[ROVE_MAX_URL + 1];
	bool json = false;
	int nargs = 0, which = 0, got, rc;
	rove_replica r;
	cli_opt o;

	if (cli_opt_help(argc, argv, 1))
		return cli_usage(help, true);
	cli_opt_init(&o, argc, argv, 1, opts);
	while ((got = cli_opt_next(&o)) != CLI_OPT_END) {
		if (nargs == 1 && !cli_opt_said(got)) {
			/* VALUE as it is: it may start with - (but rove's own
			 * options, -R and --timeout, are taken as such anywhere) */
			args[nargs++] = argv[o.at];
		} else if (nargs == 0 && got == OPT_JSON) {
			json = true;
		} else if (nargs == 0 && got == CLI_OPT_WORD && o.arg[0] != '-') {
			args[nargs++] = o.arg;
		} else {
			if (!cli_opt_said(got))
				cli_word_unexpected(argv[o.at]);
			return cli_usage(help, false);
		}
	}
	if (json && nargs > 0)
		return cli_usage(help, false);
	if (nargs > 0) {
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (strcmp(args[0], keys[k].key) == 0)
				which = keys[k].which;
		if (which == 0) {
			rove_error("unknown setting %s (server, token or ca)", CLI_QUOTE(args[0]));
			return cli_usage(help, false);
		}
	}
	/* A value is checked before the replica is opened. */
	if (nargs == 2 && !checked(which, args[1], value))
		return ROVE_EXIT_USAGE;
	rc = cli_open(cli, &r);
	if (rc != ROVE_OK)
		return cli_exit(rc);
	if (nargs == 0) {
		rc = show(&r, json);
	} else if (nargs == 1) {
		shown_value(&r, which, value);
		if (value[0] != '\0') {
			out_text(stdout, value);
			putchar('\n');
		}
		rc = fflush(stdout) == 0 ? ROVE_OK : ROVE_EIO;
	} else {
		rc = rove_replica_set(&r, which, value);
		if (rc != ROVE_OK && rc != ROVE_EREADONLY) /* that one reported */
			rove_error("cannot change %s: %s", args[0], rove_strerror(rc));
	}
	if (rc == ROVE_EIO)
		rove_error("cannot write the output");
	rove_replica_close(&r);
	return cli_exit(rc);
}
