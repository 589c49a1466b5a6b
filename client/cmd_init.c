/*
 * cmd_init.c - `rove init`: a new replica, empty until its first sync.
 */
#include "cli.h"
#include "cli_opt.h"
#include "err.h"
#include "log.h"

static const char help[] =
	"usage: rove init --server URL --user NAME --token TOKEN [--ca FILE]\n"
	"\n"
	"Create a replica in the replica directory (-R DIR). Works offline: the\n"
	"replica fills on the first 'rove sync'.\n"
	"  --server URL    the server: tcp://HOST:PORT, tls+tcp://HOST:PORT or\n"
	"                  ipc:///PATH, e.g. tcp://127.0.0.1:7411\n"
	"  --user NAME     your login\n"
	"  --token TOKEN   your token (64 hex characters), as printed by 'roved init'\n"
	"                  or 'rove admin user add'\n"
	"  --ca FILE       for tls+tcp:// servers: the CA certificate (PEM) that signed\n"
	"                  the server's certificate ($ROVE_TLS_CA overrides it)\n"
	"'rove config' shows and changes these later.\n";

enum { OPT_SERVER = CLI_OPT_LONG, OPT_USER, OPT_TOKEN, OPT_CA };

static const struct option opts[] = {
	{"server", required_argument, NULL, OPT_SERVER | CLI_OPT_REQUIRED},
	{"user", required_argument, NULL, OPT_USER | CLI_OPT_REQUIRED},
	{"token", required_argument, NULL, OPT_TOKEN | CLI_OPT_REQUIRED},
	{"ca", required_argument, NULL, OPT_CA},
	{NULL, 0, NULL, 0},
};

int cmd_init(rove_cli *cli, int argc, char **argv)
{
	const char *server = NULL, *user = NULL, *token = NULL, *ca = NULL;
	char ca_abs[ROVE_MAX_URL + 1], tok[ROVE_TOKEN_HEX + 1];
	bool extra = false;
	cli_opt o;
	int k, rc;

	cli_opt_init(&o, argc, argv, 1, opts);
	while ((k = cli_opt_next(&o)) != CLI_OPT_END) {
		switch (k) {
		case OPT_SERVER: server = o.arg; break;
		case OPT_USER: user = o.arg; break;
		case OPT_TOKEN: token = o.arg; break;
		case OPT_CA: ca = o.arg; break;
		case 'h': return cli_usage(help, true);
		case CLI_OPT_WORD: extra = true; break; /* a usage error once every option is read */
		case CLI_OPT_NOVALUE:
			rove_error("option '%s' needs a value", o.arg);
			return cli_usage(help, false);
		case CLI_OPT_MISSING:
			cli_opt_missing_error(&o);
			return cli_usage(help, false);
		default:
			if (!cli_opt_said(k))
				rove_error("unknown option '%s'", o.arg);
			return cli_usage(help, false);
		}
	}
	if (extra || server == NULL || user == NULL || token == NULL)
		return cli_usage(help, false);
	if (!cli_server_ok(server) || !cli_login_ok(user) || !cli_token_ok(token, tok) ||
	    (ca != NULL && !cli_ca_ok(ca, ca_abs)))
		return ROVE_EXIT_USAGE;
	rc = rove_replica_create(cli->dir, server, user, tok, ca != NULL ? ca_abs : NULL);
	if (rc == ROVE_EEXIST) {
		rove_error("'%s' already holds a replica (change its settings with 'rove config')", cli->dir);
		return ROVE_EXIT_FAIL;
	}
	if (rc != ROVE_OK) {
		/* A system call's failure was said, with its reason, where it
		 * was met: "input/output error" would only mislead after it. */
		if (rc == ROVE_EIO)
			rove_error("cannot create replica in '%s'", cli->dir);
		else
			rove_error("cannot create replica in '%s': %s", cli->dir, rove_strerror(rc));
		return ROVE_EXIT_FAIL;
	}
	fprintf(stderr, "rove: replica created in %s for %s; run 'rove sync' when online\n", cli->dir,
		user);
	return ROVE_EXIT_OK;
}
