/*
 * cmd_rejected.c - `rove rejected` (this replica's refused changes) and
 * `rove conflicts` (refused changes kept on the server, for managers and
 * admins).
 */
#include "cli.h"
#include "err.h"
#include "array.h"
#include "log.h"
#include "rules.h"
#include "out.h"
#include "sync.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char rejected_help[] =
	"usage: rove rejected [--json]\n"
	"\n"
	"Changes from this replica that the server refused, with the reason code\n"
	"(duplicate, not_owner, not_in_territory, already_claimed, deleted,\n"
	"reassigned, forbidden, invalid, limit, cooldown) and the full change.\n";

static const char conflicts_help[] =
	"usage: rove conflicts [--json]\n"
	"\n"
	"(managers, admins) Changes the server refused from anyone in your reach:\n"
	"your reps' wherever they tried to write, and anyone's in your territories;\n"
	"kept with reason, author and full payload. Needs the network. The server\n"
	"keeps each user's latest refused changes (up to a limit); a note on\n"
	"stderr says when older ones were dropped.\n";

/* An author whose older refused changes the server dropped. */
typedef struct dropped_by {
	char author[ROVE_MAX_NAME + 1];
	uint64_t n;
} dropped_by;

/* The list being printed: an array with --json (begun at the first
 * refusal, so that a command failing before any prints nothing). */
typedef struct rj_ctx {
	bool json;
	out_json j;
	size_t n;
	dropped_by *drops; /* conflicts only; owned, freed by the command */
	size_t ndrops, cap;
} rj_ctx;

static void print_refusal(rj_ctx *ctx, uint64_t time_ms, int reason, const char *detail, const char *author,
			  const rove_op *op)
{
	if (ctx->json && ctx->n == 0)
		out_json_begin_list(&ctx->j, stdout);
	if (ctx->json)
		out_refusal_json(&ctx->j, time_ms, reason, detail, author, op);
	else
		out_refusal_text(stdout, time_ms, reason, detail, author, op);
	ctx->n++;
}

/* Ends the array (an empty one if nothing was printed). */
static void print_end(rj_ctx *ctx)
{
	if (!ctx->json)
		return;
	if (ctx->n == 0)
		out_json_begin_list(&ctx->j, stdout);
	out_json_end_list(&ctx->j);
}

static int print_rejection(const rove_rejection *rj, void *arg)
{
	print_refusal(arg, rj->time_ms, rj->reason, rj->detail, NULL, &rj->op);
	return ROVE_OK;
}

int cmd_rejected(rove_cli *cli, int argc, char **argv)
{
	rj_ctx ctx = {.json = false};
	rove_replica r;
	int rc, code;

	if (!cli_open_json(cli, argc, argv, rejected_help, &ctx.json, &r, &code))
		return code;
	rc = rove_replica_each_rejection(&r, print_rejection, &ctx);
	rove_replica_close(&r);
	if (ctx.json)
		print_end(&ctx);
	else if (ctx.n == 0)
		printf("no rejected changes\n");
	return cli_exit(rc);
}

/* Remembers how many of c's author's refusals were dropped (the latest
 * count the server gave). */
static int note_dropped(rj_ctx *ctx, const rove_conflict *c)
{
	size_t i;

	if (c->dropped == 0)
		return ROVE_OK;
	for (i = 0; i < ctx->ndrops && strcmp(ctx->drops[i].author, c->op.author) != 0; i++)
		;
	if (i == ctx->ndrops) {
		dropped_by *p = rove_array_grow(ctx->drops, &ctx->cap, ctx->ndrops, 1, sizeof(*p), 8);
		if (p == NULL)
			return ROVE_ENOMEM;
		ctx->drops = p;
		snprintf(ctx->drops[i].author, sizeof(ctx->drops[i].author), "%s", c->op.author);
		ctx->drops[i].n = 0;
		ctx->ndrops++;
	}
	if (c->dropped > ctx->drops[i].n)
		ctx->drops[i].n = c->dropped;
	return ROVE_OK;
}

static int print_conflict(const rove_conflict *c, void *arg)
{
	print_refusal(arg, c->time_ms, c->reason, c->detail, c->op.author, &c->op);
	return note_dropped(arg, c);
}

/* On stderr, so that --json's stdout stays one array. */
static void print_dropped(const rj_ctx *ctx)
{
	for (size_t i = 0; i < ctx->ndrops; i++)
		fprintf(stderr,
			"rove: note: the server dropped %" PRIu64 " older refused change%s by %s (it keeps each "
			"user's latest %u, at most %u KiB)\n",
			ctx->drops[i].n, ctx->drops[i].n == 1 ? "" : "s", ctx->drops[i].author, ROVE_MAX_USER_REJECTS,
			ROVE_MAX_USER_REJECT_BYTES / 1024);
}

int cmd_conflicts(rove_cli *cli, int argc, char **argv)
{
	rj_ctx ctx = {.json = false};
	rove_replica r;
	char err[ROVE_MAX_ERRMSG + 1];
	int rc, code;

	if (!cli_open_json(cli, argc, argv, conflicts_help, &ctx.json, &r, &code))
		return code;
	/* A role that has no conflict list is told at once (before the
	 * first sync the replica does not know its role: the server says). */
	if (rove_role_parse(r.role) != 0 &&
	    rove_rules_may(rove_role_parse(r.role), ROVE_ACT_CONFLICTS, err, sizeof(err)) != ROVE_R_NONE) {
		rove_error("%s", err);
		rove_replica_close(&r);
		return ROVE_EXIT_FAIL;
	}
	rc = rove_conflicts_fetch(&r, cli->timeout_ms, print_conflict, &ctx, err, sizeof(err));
	if (rc == ROVE_EUNREACH || rc == ROVE_ETIMEDOUT)
		rove_error("cannot reach the server at %s (%s)", r.server, rove_strerror(rc));
	else if (rc != ROVE_OK)
		rove_error("%s", err[0] ? err : rove_strerror(rc));
	rove_replica_close(&r);
	if (rc != ROVE_OK) {
		if (ctx.json && ctx.n > 0)
			print_end(&ctx); /* what came stays JSON */
		free(ctx.drops);
		return cli_exit(rc);
	}
	if (ctx.json)
		print_end(&ctx);
	else if (ctx.n == 0)
		printf("no conflicts\n");
	print_dropped(&ctx);
	free(ctx.drops);
	return ROVE_EXIT_OK;
}
