#include "cli.h"
#include "err.h"
#include "log.h"
#include "sync.h"

#include <string.h>

static const char help[] =
	"usage: rove admin user add NAME --role ROLE\n"
	"\n"
	"Administration, sent to the server at once (needs the network).\n"
	"  user add NAME --role ROLE   add a user (role: rep, manager, analyst or\n"
	"                              admin) and print the new user's token alone\n";

static void print_line(const char *s, uint32_t len, void *arg)
{
	(void)arg;
	printf("%.*s\n", (int)len, s);
}

static int call(rove_cli *cli, const char *cmd, const char *const *args, uint32_t n)
{
	rove_replica r;
	char err[ROVE_MAX_ERRMSG + 1];
	int rc = cli_open(cli, &r);

	if (rc != ROVE_OK)
		return cli_exit(rc);
	rc = rove_admin_call(&r, cli->timeout_ms, cmd, args, n, print_line, NULL, err, sizeof(err));
	if (rc == ROVE_EUNREACH || rc == ROVE_ETIMEDOUT)
		rove_error("cannot reach the server at %s (%s)", r.server, rove_strerror(rc));
	else if (rc != ROVE_OK)
		rove_error("%s", err[0] ? err : rove_strerror(rc));
	rove_replica_close(&r);
	return cli_exit(rc);
}

static int user_add(rove_cli *cli, int argc, char **argv)
{
	const char *name = NULL, *role = NULL;
	const char *args[2];

	for (int i = 3; i < argc; i++) {
		if (cli_is_help(argv[i]))
			return cli_usage(help, true);
		if (strcmp(argv[i], "--role") == 0 && i + 1 < argc)
			role = argv[++i];
		else if (strncmp(argv[i], "--role=", 7) == 0)
			role = argv[i] + 7;
		else if (argv[i][0] != '-' && name == NULL)
			name = argv[i];
		else
			return cli_usage(help, false);
	}
	if (name == NULL || role == NULL)
		return cli_usage(help, false);
	if (rove_role_parse(role) == 0) {
		rove_error("invalid role '%s' (rep, manager, analyst or admin)", role);
		return ROVE_EXIT_USAGE;
	}
	args[0] = name;
	args[1] = role;
	return call(cli, "user.add", args, 2);
}

int cmd_admin(rove_cli *cli, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage(help, false);
	if (cli_is_help(argv[1]))
		return cli_usage(help, true);
	if (argc >= 3 && strcmp(argv[1], "user") == 0 && strcmp(argv[2], "add") == 0)
		return user_add(cli, argc, argv);
	if (argc == 3 && strcmp(argv[1], "user") == 0 && cli_is_help(argv[2]))
		return cli_usage(help, true);
	rove_error("unknown admin command");
	return cli_usage(help, false);
}
