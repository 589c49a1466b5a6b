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
		out_json j;
		out_json_init(&j, stdout);
		out_json_begin_object(&j);
		out_json_key(&j, "user");
		out_json_cstr(&j, r.auth.user);
		out_json_key(&j, "role");
		out_json_cstr(&j, r.role);
		out_json_key(&j, "server");
		out_json_cstr(&j, r.server);
		out_json_key(&j, "replica");
		out_json_cstr(&j, id);
		out_json_key(&j, "pending");
		out_json_uint(&j, s.pending);
		out_json_key(&j, "rejected");
		out_json_uint(&j, s.rejected);
		out_json_key(&j, "cursor");
		out_json_uint(&j, s.cursor);
		out_json_key(&j, "last_sync");
		out_json_cstr(&j, s.last_sync_ms != 0 ? when : NULL);
		out_json_end_object(&j);
		out_json_finish(&j);
	} else {
		fputs("user:      ", stdout);
		out_text(stdout, r.auth.user);
		fputs(" (", stdout);
		out_text(stdout, r.role);
		fputs(")\nserver:    ", stdout);
		out_text(stdout, r.server);
		printf("\nreplica:   %s\n", id);
		printf("pending:   %" PRIu64 " op(s)\n", s.pending);
		printf("rejected:  %" PRIu64 "\n", s.rejected);
		printf("cursor:    %" PRIu64 "\n", s.cursor);
		printf("last sync: %s\n", when);
	}
	rove_replica_close(&r);
	return ROVE_EXIT_OK;
}
