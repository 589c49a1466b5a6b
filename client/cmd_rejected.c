/*
 * cmd_rejected.c - `rove rejected` (this replica's refused changes) and
 * `rove conflicts` (refused changes kept on the server, for managers and
 * admins).
 */
#include "cli.h"
#include "err.h"
#include "log.h"
#include "out.h"
#include "sync.h"

static const char rejected_help[] =
	"usage: rove rejected [--json]\n"
	"\n"
	"Changes from this replica that the server refused, with the reason code\n"
	"(duplicate, not_owner, not_in_territory, already_claimed, deleted,\n"
	"reassigned, forbidden, invalid, limit, cooldown) and the full change.\n";

static const char conflicts_help[] =
	"usage: rove conflicts [--json]\n"
	"\n"
	"(managers, admins) Changes the server refused from anyone in your reach,\n"
	"kept with reason, author and full payload. Needs the network.\n";

typedef struct rj_ctx {
	bool json;
	size_t n;
} rj_ctx;

static int print_rejection(const rove_rejection *rj, void *arg)
{
	rj_ctx *ctx = arg;

	if (ctx->json && ctx->n == 0)
		fputc('[', stdout);
	out_refusal(stdout, ctx->json, ctx->n == 0, rj->time_ms, rj->reason, rj->detail, NULL, &rj->op);
	ctx->n++;
	return ROVE_OK;
}

int cmd_rejected(rove_cli *cli, int argc, char **argv)
{
	rj_ctx ctx = {false, 0};
	rove_replica r;
	int rc, code;

	if (!cli_parse_json_flag(argc, argv, rejected_help, &ctx.json, &code))
		return code;
	rc = cli_open(cli, &r);
	if (rc != ROVE_OK)
		return cli_exit(rc);
	rc = rove_replica_each_rejection(&r, print_rejection, &ctx);
	rove_replica_close(&r);
	if (ctx.json)
		puts(ctx.n == 0 ? "[]" : "]");
	else if (ctx.n == 0)
		printf("no rejected changes\n");
	return cli_exit(rc);
}

static int print_conflict(const rove_conflict *c, void *arg)
{
	rj_ctx *ctx = arg;

	if (ctx->json && ctx->n == 0)
		fputc('[', stdout);
	out_refusal(stdout, ctx->json, ctx->n == 0, c->time_ms, c->reason, c->detail, c->op.author, &c->op);
	ctx->n++;
	return ROVE_OK;
}

int cmd_conflicts(rove_cli *cli, int argc, char **argv)
{
	rj_ctx ctx = {false, 0};
	rove_replica r;
	char err[ROVE_MAX_ERRMSG + 1];
	int rc, code;

	if (!cli_parse_json_flag(argc, argv, conflicts_help, &ctx.json, &code))
		return code;
	rc = cli_open(cli, &r);
	if (rc != ROVE_OK)
		return cli_exit(rc);
	rc = rove_conflicts_fetch(&r, cli->timeout_ms, print_conflict, &ctx, err, sizeof(err));
	if (rc == ROVE_EUNREACH || rc == ROVE_ETIMEDOUT)
		rove_error("cannot reach the server at %s (%s)", r.server, rove_strerror(rc));
	else if (rc != ROVE_OK)
		rove_error("%s", err[0] ? err : rove_strerror(rc));
	rove_replica_close(&r);
	if (rc != ROVE_OK) {
		if (ctx.json && ctx.n > 0)
			puts("]");
		return cli_exit(rc);
	}
	if (ctx.json)
		puts(ctx.n == 0 ? "[]" : "]");
	else if (ctx.n == 0)
		printf("no conflicts\n");
	return ROVE_EXIT_OK;
}
