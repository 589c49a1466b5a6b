#include "cli.h"
#include "err.h"
#include "out.h"

#include <string.h>

static const char help[] =
	"usage: rove rejected [--json]\n"
	"\n"
	"Changes from this replica that the server refused, with the reason code\n"
	"(duplicate, not_owner, not_in_territory, already_claimed, deleted,\n"
	"reassigned, forbidden, invalid, limit, cooldown) and the full change.\n";

static const char *kind_name(int kind)
{
	switch (kind) {
	case ROVE_OP_CREATE: return "create";
	case ROVE_OP_UPDATE: return "update";
	case ROVE_OP_DELETE: return "delete";
	default: return "unknown";
	}
}

typedef struct rj_ctx {
	bool json;
	size_t n;
} rj_ctx;

static int print_one(const rove_rejection *rj, void *arg)
{
	rj_ctx *ctx = arg;
	const rove_coll_def *c = rove_schema_coll(rj->op.coll);
	char rid[ROVE_UUID_STRLEN + 1], opid[ROVE_UUID_STRLEN + 1], when[40];

	rove_uuid_format(&rj->op.rid, rid);
	rove_uuid_format(&rj->op.op_id, opid);
	out_time(rj->time_ms, when, sizeof(when));
	if (ctx->json) {
		fputs(ctx->n == 0 ? "[" : ",", stdout);
		printf("{\"op\":\"%s\",\"reason\":\"%s\",\"detail\":", opid, rove_reason_name(rj->reason));
		out_json_cstr(stdout, rj->detail);
		printf(",\"collection\":");
		out_json_cstr(stdout, c ? c->name : "unknown");
		printf(",\"kind\":\"%s\",\"id\":\"%s\",\"at\":\"%s\",\"fields\":{", kind_name(rj->op.kind),
		       rid, when);
		for (uint32_t i = 0; i < rj->op.fs.n; i++) {
			printf("%s\"%s\":", i ? "," : "", rj->op.fs.f[i].name);
			out_json_value(stdout, &rj->op.fs.f[i].v);
		}
		printf("}}");
	} else {
		printf("%s  %-16s %s %s %s", when, rove_reason_name(rj->reason), kind_name(rj->op.kind),
		       c ? c->name : "?", rid);
		if (rj->detail[0] != '\0')
			printf("  (%s)", rj->detail);
		putchar('\n');
		for (uint32_t i = 0; i < rj->op.fs.n; i++) {
			char text[256];
			out_value_text(c ? rove_schema_field(c, rj->op.fs.f[i].name) : NULL, &rj->op.fs.f[i].v,
				       text, sizeof(text));
			printf("    %s = %s\n", rj->op.fs.f[i].name, text);
		}
	}
	ctx->n++;
	return ROVE_OK;
}

int cmd_rejected(rove_cli *cli, int argc, char **argv)
{
	rj_ctx ctx = {false, 0};
	rove_replica r;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (cli_is_help(argv[i]))
			return cli_usage(help, true);
		if (strcmp(argv[i], "--json") == 0)
			ctx.json = true;
		else
			return cli_usage(help, false);
	}
	rc = cli_open(cli, &r);
	if (rc != ROVE_OK)
		return cli_exit(rc);
	rc = rove_replica_each_rejection(&r, print_one, &ctx);
	rove_replica_close(&r);
	if (ctx.json)
		puts(ctx.n == 0 ? "[]" : "]");
	else if (ctx.n == 0)
		printf("no rejected changes\n");
	return cli_exit(rc);
}
