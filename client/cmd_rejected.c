/*
 * cmd_rejected.c - `rove rejected` (this replica's refused changes) and
 * `rove conflicts` (refused changes kept on the server, for managers and
 * admins).
 */
#include "calendar.h"
#include "cli.h"
#include "cli_opt.h"
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
	"usage: rove rejected [--reason R] [--since YYYY-MM-DD] [--json]\n"
	"\n"
	"Changes from this replica that the server refused, with the reason code\n"
	"(duplicate, not_owner, not_in_territory, already_claimed, deleted,\n"
	"reassigned, forbidden, invalid, limit, cooldown) and the full change.\n"
	"\n"
	"  --reason R          only those refused for reason R\n"
	"  --since YYYY-MM-DD  only those refused on that day (UTC) or later\n";

enum { OPT_USER = CLI_OPT_LONG, OPT_REASON, OPT_SINCE, OPT_JSON };

/* conflicts takes them all; rejected (conflicts_opts + 1) all but --user */
static const struct option conflicts_opts[] = {
	{"user", required_argument, NULL, OPT_USER},
	{"reason", required_argument, NULL, OPT_REASON},
	{"since", required_argument, NULL, OPT_SINCE},
	{"json", no_argument, NULL, OPT_JSON},
	{NULL, 0, NULL, 0},
};

static const char conflicts_help[] =
	"usage: rove conflicts [--user LOGIN] [--reason R] [--since YYYY-MM-DD] [--json]\n"
	"\n"
	"(managers, admins) Changes the server refused from anyone in your reach:\n"
	"your reps' wherever they tried to write, and anyone's in your territories;\n"
	"kept with reason, author and full payload. Needs the network. The server\n"
	"keeps each user's latest refused changes (up to a limit); a note on\n"
	"stderr says when older ones were dropped.\n"
	"\n"
	"  --user LOGIN        only those of LOGIN\n"
	"  --reason R          only those refused for reason R\n"
	"  --since YYYY-MM-DD  only those refused on that day (UTC) or later\n";

/* An author whose older refused changes the server dropped. */
typedef struct dropped_by {
	char author[ROVE_MAX_NAME + 1];
	uint64_t n;
} dropped_by;

/* The list being printed: an array with --json (begun at the first
 * refusal, so that a command failing before any prints nothing). */
typedef struct rj_ctx {
	bool json;
	const char *user;  /* only this author's (NULL: all) */
	int reason;        /* only this one (0: all) */
	uint64_t since_ms; /* only those refused at or after it */
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

/* Whether a refusal passes the filters of ctx. */
static bool wanted(const rj_ctx *ctx, uint64_t time_ms, int reason, const char *author)
{
	return (ctx->reason == 0 || reason == ctx->reason) && time_ms >= ctx->since_ms &&
	       (ctx->user == NULL || (author != NULL && strcmp(author, ctx->user) == 0));
}

static int print_rejection(const rove_rejection *rj, void *arg)
{
	if (wanted(arg, rj->time_ms, rj->reason, NULL))
		print_refusal(arg, rj->time_ms, rj->reason, rj->detail, NULL, &rj->op);
	return ROVE_OK;
}

/* A reason code by its name; 0 if it is none. */
static int reason_by_name(const char *name)
{
	for (int i = 1; i < ROVE_R_COUNT; i++)
		if (strcmp(rove_reason_name(i), name) == 0)
			return i;
	return 0;
}

/* The options of `rejected` or `conflicts` (help, and the table: with
 * --user or without) into ctx: ROVE_EXIT_OK, or the status of a usage
 * error (reported) or of --help. */
static int refusal_options(int argc, char **argv, const char *help_text, const struct option *table, rj_ctx *ctx,
			   bool *help)
{
	cli_opt o;
	int64_t day;
	int k;

	*help = false;
	cli_opt_init(&o, argc, argv, 1, table);
	while ((k = cli_opt_next(&o)) != CLI_OPT_END) {
		switch (k) {
		case 'h':
			*help = true;
			return cli_usage(help_text, true);
		case OPT_JSON:
			ctx->json = true;
			break;
		case OPT_USER:
			if (!cli_login_ok(o.arg))
				return ROVE_EXIT_USAGE;
			ctx->user = o.arg;
			break;
		case OPT_REASON:
			ctx->reason = reason_by_name(o.arg);
			if (ctx->reason == 0) {
				rove_error("unknown reason '%s' (see rove rejected --help)", o.arg);
				return ROVE_EXIT_USAGE;
			}
			break;
		case OPT_SINCE:
			if (strlen(o.arg) != 10 || !rove_cal_parse_date(o.arg, 10, &day) || day < 0) {
				rove_error("invalid date '%s' for --since (YYYY-MM-DD)", o.arg);
				return ROVE_EXIT_USAGE;
			}
			ctx->since_ms = (uint64_t)day * ROVE_DAY_MS;
			break;
		case CLI_OPT_NOVALUE:
			rove_error("option '%s' needs a value", o.arg);
			return cli_usage(help_text, false);
		default:
			rove_error("unexpected argument '%s'", o.arg);
			return cli_usage(help_text, false);
		}
	}
	return ROVE_EXIT_OK;
}

int cmd_rejected(rove_cli *cli, int argc, char **argv)
{
	rj_ctx ctx = {.json = false};
	rove_replica r;
	bool help;
	int rc, code = refusal_options(argc, argv, rejected_help, conflicts_opts + 1, &ctx, &help);

	if (help || code != ROVE_EXIT_OK)
		return code;
	rc = cli_open(cli, &r);
	if (rc != ROVE_OK)
		return cli_exit(rc);
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
	if (!wanted(arg, c->time_ms, c->reason, c->op.author))
		return ROVE_OK;
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
	bool help;
	int rc, code = refusal_options(argc, argv, conflicts_help, conflicts_opts, &ctx, &help);

	if (help || code != ROVE_EXIT_OK)
		return code;
	rc = cli_open(cli, &r);
	if (rc != ROVE_OK)
		return cli_exit(rc);
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
