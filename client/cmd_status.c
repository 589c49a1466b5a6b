#include "cli.h"
#include "err.h"
#include "out.h"

#include <inttypes.h>

static const char help[] =
	"usage: rove status [--json]\n"
	"\n"
	"Show the replica's user, role, server, pending ops, rejected changes,\n"
	"cursor and last sync.\n";

int cmd_status(rove_cli *cli, int argc, char **argv)
{
	rove_replica r;
	rove_replica_status s;
	char id[ROVE_UUID_STRLEN + 1], when[40] = "never";
	bool json = false;
	int rc, code;

	if (!cli_parse_json_flag(argc, argv, help, &json, &code))
		return code;
	rc = cli_open(cli, &r);
	if (rc != ROVE_OK)
		return cli_exit(rc);
	rc = rove_replica_status_get(&r, &s);
	if (rc != ROVE_OK) {
		rove_replica_close(&r);
		return cli_exit(rc);
	}
	rove_uuid_format(&r.id, id);
	if (s.last_sync_ms != 0)
		out_time(s.last_sync_ms, when, sizeof(when));
	if (json) {
		printf("{\"user\":");
		out_json_cstr(stdout, r.auth.user);
		printf(",\"role\":");
		out_json_cstr(stdout, r.role);
		printf(",\"server\":");
		out_json_cstr(stdout, r.server);
		printf(",\"replica\":\"%s\",\"pending\":%" PRIu64 ",\"rejected\":%" PRIu64
		       ",\"cursor\":%" PRIu64 ",\"last_sync\":",
		       id, s.pending, s.rejected, s.cursor);
		out_json_cstr(stdout, s.last_sync_ms != 0 ? when : NULL);
		printf("}\n");
	} else {
		printf("user:      %s (%s)\n", r.auth.user, r.role);
		printf("server:    %s\n", r.server);
		printf("replica:   %s\n", id);
		printf("pending:   %" PRIu64 " op(s)\n", s.pending);
		printf("rejected:  %" PRIu64 "\n", s.rejected);
		printf("cursor:    %" PRIu64 "\n", s.cursor);
		printf("last sync: %s\n", when);
	}
	rove_replica_close(&r);
	return ROVE_EXIT_OK;
}
