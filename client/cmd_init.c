#include "cli.h"
#include "err.h"
#include "log.h"

#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
	"usage: rove init --server URL --user NAME --token TOKEN [--ca FILE]\n"
	"\n"
	"Create a replica in the replica directory (-R DIR). Works offline: the\n"
	"replica fills on the first 'rove sync'.\n"
	"  --server URL    the server, e.g. tcp://127.0.0.1:7411 or ipc:///path\n"
	"  --user NAME     your login\n"
	"  --token TOKEN   your token, as printed by 'roved init' or 'rove admin user add'\n"
	"  --ca FILE       for tls+tcp:// servers: the CA certificate (PEM) that signed\n"
	"                  the server's certificate ($ROVE_TLS_CA overrides it)\n";

int cmd_init(rove_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"server", required_argument, NULL, 's'},
		{"user", required_argument, NULL, 'u'},
		{"token", required_argument, NULL, 't'},
		{"ca", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *server = NULL, *user = NULL, *token = NULL, *ca = NULL;
	char ca_abs[PATH_MAX];
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': server = optarg; break;
		case 'u': user = optarg; break;
		case 't': token = optarg; break;
		case 'c': ca = optarg; break;
		case 'h': return cli_usage(help, true);
		default: return cli_usage(help, false);
		}
	}
	if (optind != argc || server == NULL || user == NULL || token == NULL)
		return cli_usage(help, false);
	if (strlen(server) > ROVE_MAX_URL || strstr(server, "://") == NULL) {
		rove_error("invalid server URL '%s'", server);
		return ROVE_EXIT_USAGE;
	}
	if (strlen(user) == 0 || strlen(user) > ROVE_MAX_NAME) {
		rove_error("invalid user name '%s'", user);
		return ROVE_EXIT_USAGE;
	}
	if (strlen(token) != ROVE_TOKEN_HEX) {
		rove_error("invalid token (expected %u hex characters)", ROVE_TOKEN_HEX);
		return ROVE_EXIT_USAGE;
	}
	if (ca != NULL) {
		if (realpath(ca, ca_abs) == NULL || strlen(ca_abs) > ROVE_MAX_URL) {
			rove_error("cannot find the CA file '%s'", ca);
			return ROVE_EXIT_USAGE;
		}
		ca = ca_abs;
	}
	rc = rove_replica_create(cli->dir, server, user, token, ca);
	if (rc == ROVE_EEXIST) {
		rove_error("'%s' already holds a replica", cli->dir);
		return ROVE_EXIT_FAIL;
	}
	if (rc != ROVE_OK) {
		rove_error("cannot create replica in '%s': %s", cli->dir, rove_strerror(rc));
		return ROVE_EXIT_FAIL;
	}
	fprintf(stderr, "rove: replica created in %s for %s; run 'rove sync' when online\n", cli->dir,
		user);
	return ROVE_EXIT_OK;
}
