/*
 * cmd_rejected.c - `rove rejected` (this replica's refused changes: list,
 * dismiss, retry) and `rove conflicts` (refused changes kept on the
 * server, for managers and admins).
 */
#include "calendar.h"
#include "cli.h"
#include "cli_opt.h"
#include "err.h"
#include "net.h"
#include "array.h"
#include "log.h"
#include "rules.h"
#include "out.h"
#include "rec.h"
#include "sync.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char rejected_help[] =
	"usage: rove rejected [--reason R] [--since YYYY-MM-DD] [--all] [--json]\n"
	"       rove rejected dismiss OP|--all\n"
	"       rove rejected retry OP [FIELD=VALUE...]\n"
	"\n"
	"Changes from this replica that the server refused, with the reason code\n"
	"(duplicate, not_owner, not_in_territory, already_claimed, deleted,\n"
	"reassigned, forbidden, invalid, limit, cooldown) and the full change.\n"
	"Each is named by its op (the last characters of its id shown, or 6+\n"
	"characters of its start or end). One refused after a server restore\n"
	"because the record it needs was missing there waits for it (\"waiting\"\n"
	"in JSON): a sync sends it again, once, when the record is back.\n"
	"\n"
	"  --reason R          only those refused for reason R\n"
	"  --since YYYY-MM-DD  only those refused on that day (local time) or later\n"
	"  --all               the dismissed ones too\n"
	"  dismiss OP          hide a refusal you dealt with (kept on disk; --all:\n"
	"                      every one)\n"
	"  retry OP            make the refused change again as a new change, with\n"
	"                      FIELD=VALUE edits (a release's release_reason, say);\n"
	"                      prints the new op's id; 'rove sync' sends it. The\n"
	"                      refusal is dismissed.\n";

static const char dismiss_help[] =
	"usage: rove rejected dismiss OP|--all\n"
	"\n"
	"Hide a refused change you dealt with from 'rove rejected' and from the\n"
	"count in 'rove status'. It stays on disk: 'rove rejected --all' shows it.\n"
	"  --all   dismiss every refused change\n";

static const char retry_help[] =
	"usage: rove rejected retry OP [FIELD=VALUE...]\n"
	"\n"
	"Make a refused change again as a new change, optionally edited: the\n"
	"same kind of change to the same record, with each FIELD=VALUE given\n"
	"replacing or adding a field as 'set' would (and a release's\n"
	"release_reason, a new customer's owner as 'customer add --owner'\n"
	"names it). It is checked as a new\n"
	"change is, queued, and sent by the next 'rove sync'; its op id is\n"
	"printed alone on stdout. The refusal is dismissed: a dismissed one is\n"
	"not made again (a retry refused in turn has an op of its own).\n";

enum { OPT_USER = CLI_OPT_LONG, OPT_REASON, OPT_SINCE, OPT_JSON, OPT_ALL };

/* conflicts takes them all but --all */
static const struct option conflicts_opts[] = {
	{"user", required_argument, NULL, OPT_USER},
	{"reason", required_argument, NULL, OPT_REASON},
	{"since", required_argument, NULL, OPT_SINCE},
	{"json", no_argument, NULL, OPT_JSON},
	{NULL, 0, NULL, 0},
};

static const struct option rejected_opts[] = {
	{"reason", required_argument, NULL, OPT_REASON},
	{"since", required_argument, NULL, OPT_SINCE},
	{"all", no_argument, NULL, OPT_ALL},
	{"json", no_argument, NULL, OPT_JSON},
	{NULL, 0, NULL, 0},
};

static const struct option dismiss_opts[] = {
	{"all", no_argument, NULL, OPT_ALL},
	{NULL, 0, NULL, 0},
};

static const char conflicts_help[] =
	"usage: rove conflicts [--user LOGIN] [--reason R] [--since YYYY-MM-DD] [--json]\n"
	"\n"
	"(managers, admins) Changes the server refused from anyone in your reach:\n"
	"your reps' wherever they tried to write, and anyone's in your territories;\n"
	"kept with reason, author and full payload. Needs the network. Of each\n"
	"user the server keeps the latest refused changes, up to a limit for\n"
	"attempts at reach (forbidden, not_owner, not_in_territory, reassigned)\n"
	"and another for the others; a note on stderr says when older ones were\n"
	"dropped.\n"
	"\n"
	"  --user LOGIN        only those of LOGIN\n"
	"  --reason R          only those refused for reason R\n"
	"  --since YYYY-MM-DD  only those refused on that day (local time) or later\n";

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
	bool all;          /* rejected: the dismissed ones too */
	out_json j;
	size_t n;
	dropped_by *drops; /* conflicts only; owned, freed by the command */
	size_t ndrops, cap;
} rj_ctx;

static void print_refusal(rj_ctx *ctx, const out_refusal *rf)
{
	if (ctx->json && ctx->n == 0)
		out_json_begin_list(&ctx->j, stdout);
	if (ctx->json)
		out_refusal_json(&ctx->j, rf);
	else
		out_refusal_text(stdout, rf);
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

static int print_rejection(const rove_rejection *rj, const rove_rejection_state *st, void *arg)
{
	rj_ctx *ctx = arg;
	out_refusal rf = {rj->time_ms, rj->reason, rj->detail, NULL, &rj->op, true, st->dismissed, st->waiting};

	if (wanted(ctx, rj->time_ms, rj->reason, NULL) && (ctx->all || !st->dismissed))
		print_refusal(ctx, &rf);
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
/* The first millisecond of day (YYYY-MM-DD, checked) in this process's
 * zone (TZ), as a date alone is read everywhere (docs/RULES.md); 0 for
 * a day before 1970 there. */
static uint64_t local_day_ms(const char *day)
{
	struct tm tm;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = atoi(day) - 1900;
	tm.tm_mon = atoi(day + 5) - 1;
	tm.tm_mday = atoi(day + 8);
	tm.tm_isdst = -1; /* whatever the zone's rules say for that day */
	t = mktime(&tm);
	return t == (time_t)-1 || t < 0 ? 0 : (uint64_t)t * 1000;
}

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
		case OPT_ALL:
			ctx->all = true;
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
			ctx->since_ms = local_day_ms(o.arg);
			break;
		case CLI_OPT_NOVALUE:
			rove_error("option '%s' needs a value", o.arg);
			return cli_usage(help_text, false);
		default:
			if (!cli_opt_said(k))
				cli_word_unexpected(o.arg);
			return cli_usage(help_text, false);
		}
	}
	return ROVE_EXIT_OK;
}

/* ---- the one refusal an OP names ---- */

typedef struct rj_find {
	rove_uuid whole; /* when OP is a whole id */
	bool is_whole;
	char want[33];   /* else its digits */
	size_t n;        /* matches */
	rove_op *op;     /* a copy of the first match's op (the caller's) */
	bool dismissed;  /* the first match's */
	bool waiting;    /* the first match's */
	char shown[ROVE_MAX_ID_CANDIDATES][ROVE_UUID_STRLEN + 64];
} rj_find;

static int find_one(const rove_rejection *rj, const rove_rejection_state *st, void *arg)
{
	bool dismissed = st->dismissed;
	rj_find *f = arg;
	char opid[ROVE_UUID_STRLEN + 1], rid[ROVE_UUID_STRLEN + 1];
	const rove_coll_def *c = rove_schema_coll(rj->op.coll);
	int rc;

	if (f->is_whole ? rove_uuid_cmp(&rj->op.op_id, &f->whole) != 0 : !cli_id_abbrev_matches(&rj->op.op_id, f->want))
		return ROVE_OK;
	if (f->n == 0) {
		f->dismissed = dismissed;
		f->waiting = st->waiting;
		rove_op_init_id(f->op, &rj->op.op_id, rj->op.kind, rj->op.coll, &rj->op.rid, rj->op.st);
		rc = rove_fields_copy(&f->op->fs, &rj->op.fs);
		if (rc != ROVE_OK)
			return rc;
	}
	if (f->n < ROVE_MAX_ID_CANDIDATES) {
		rove_uuid_format(&rj->op.op_id, opid);
		rove_uuid_format(&rj->op.rid, rid);
		snprintf(f->shown[f->n], sizeof(f->shown[f->n]), "%s  %s %s %.8s…%s", opid,
			 rove_op_kind_name(rj->op.kind), c != NULL ? c->name : "?", rid, dismissed ? " [dismissed]" : "");
	}
	f->n++;
	return ROVE_OK;
}

/* The refused change OP (arg: a whole op id, or 6+ characters of its
 * start or end) into *op (its id, kind, record and fields), whether it
 * is dismissed and whether it waits for its record (either may be NULL).
 * ROVE_OK; ROVE_ENOTFOUND or CLI_EUSAGE (reported). */
static int find_rejection(rove_replica *r, const char *arg, rove_op *op, bool *dismissed, bool *waiting)
{
	rj_find *f = calloc(1, sizeof(*f));
	int rc;

	if (f == NULL) {
		rove_error("out of memory");
		return ROVE_ENOMEM;
	}
	f->op = op;
	f->is_whole = rove_uuid_parse(arg, &f->whole) == ROVE_OK;
	if (!f->is_whole && !cli_id_abbrev(arg, f->want) && !cli_id_short(arg)) {
		rove_error("invalid op '%s' (an op id, or at least %d characters of its start or its end, as "
			   "'rove rejected' shows them)",
			   arg, ROVE_MIN_ID_ABBREV);
		free(f);
		return CLI_EUSAGE;
	}
	rc = rove_replica_each_rejection(r, find_one, f, NULL);
	if (rc != ROVE_OK) {
		rove_error("cannot read the replica: %s", rove_strerror(rc));
	} else if (!f->is_whole && strlen(f->want) < ROVE_MIN_ID_ABBREV) {
		/* SPEC: a shorter one is a usage error listing the candidates
		 * (as for records: cli_id_find; attack one hundred and six) */
		rove_error("'%s' is shorter than %d characters: give at least %d of an op id's start or its end%s", arg,
			   ROVE_MIN_ID_ABBREV, ROVE_MIN_ID_ABBREV,
			   f->n == 0 ? " (no refused change's op id starts or ends so)" : "; the op ids it fits:");
		for (size_t i = 0; i < f->n && i < ROVE_MAX_ID_CANDIDATES; i++)
			fprintf(stderr, "  %s\n", f->shown[i]);
		rc = CLI_EUSAGE;
	} else if (f->n == 0) {
		rove_error("no refused change '%s' in this replica (see 'rove rejected --all')", arg);
		rc = ROVE_ENOTFOUND;
	} else if (f->n > 1) {
		rove_error("'%s' is the start or end of %zu refused changes' op ids; give more of it:", arg, f->n);
		for (size_t i = 0; i < f->n && i < ROVE_MAX_ID_CANDIDATES; i++)
			fprintf(stderr, "  %s\n", f->shown[i]);
		rc = CLI_EUSAGE;
	} else {
		if (dismissed != NULL)
			*dismissed = f->dismissed;
		if (waiting != NULL)
			*waiting = f->waiting;
	}
	free(f);
	return rc;
}

static int unknown_option(const char *arg, const char *help)
{
	rove_error("unknown option '%s'", arg);
	return cli_usage(help, false);
}

/* Whether arg can name an op (checked before the replica is opened, so
 * that a usage error is one wherever it is run); reported if not. */
static bool op_form_ok(const char *arg)
{
	rove_uuid id;
	char want[33];

	if (rove_uuid_parse(arg, &id) == ROVE_OK || cli_id_abbrev(arg, want) || cli_id_short(arg))
		return true;
	rove_error("invalid op '%s' (an op id, or at least %d characters of its start or its end, as "
		   "'rove rejected' shows them)",
		   arg, ROVE_MIN_ID_ABBREV);
	return false;
}

/* `rove rejected dismiss OP|--all` */
static int rejected_dismiss(rove_cli *cli, int argc, char **argv)
{
	const char *arg = NULL;
	bool all = false;
	rove_replica r;
	rove_op *op = NULL;
	uint64_t n = 0;
	cli_opt o;
	int k, rc;

	if (cli_opt_help(argc, argv, 2))
		return cli_usage(dismiss_help, true);
	cli_opt_init(&o, argc, argv, 2, dismiss_opts);
	while ((k = cli_opt_next(&o)) != CLI_OPT_END) {
		if (k == OPT_ALL)
			all = true;
		else if (arg == NULL && k == CLI_OPT_WORD)
			arg = o.arg;
		else if (k == CLI_OPT_UNKNOWN)
			return unknown_option(o.arg, dismiss_help);
		else {
			cli_opt_unexpected(&o, k);
			return cli_usage(dismiss_help, false);
		}
	}
	if ((arg == NULL) == !all) {
		rove_error(all ? "give OP or --all, not both" : "which refused change? give OP or --all");
		return cli_usage(dismiss_help, false);
	}
	if (arg != NULL && !op_form_ok(arg))
		return ROVE_EXIT_USAGE;
	rc = cli_open(cli, &r);
	if (rc != ROVE_OK)
		return cli_exit(rc);
	if (!all && (op = malloc(sizeof(*op))) == NULL)
		rc = ROVE_ENOMEM;
	if (rc == ROVE_OK && !all)
		rc = find_rejection(&r, arg, op, NULL, NULL);
	if (rc == ROVE_OK) {
		rc = rove_replica_dismiss(&r, all ? NULL : &op->op_id, &n);
		if (rc == ROVE_EEXIST)
			rove_error("refused change '%s' was dismissed already ('rove rejected --all' shows it)", arg);
		else if (rc != ROVE_OK && rc != ROVE_EREADONLY) /* that one is reported */
			rove_error("cannot dismiss: %s", rove_strerror(rc));
	} else if (rc == ROVE_ENOMEM) {
		rove_error("out of memory");
	}
	if (rc == ROVE_OK)
		fprintf(stderr, "rove: dismissed %" PRIu64 " refused change%s\n", n, n == 1 ? "" : "s");
	free(op);
	rove_replica_close(&r);
	return cli_exit(rc);
}

/* Applies FIELD=VALUE (checked by the caller: it has a '=' and names a
 * field of c) to op as `set` would: no field the server keeps, but a
 * release's reason and a new customer's owner; a deal's owner not by a
 * rep. */
static int retry_edit(const rove_replica *r, const rove_coll_def *c, const rove_op *orig, rove_op *op,
		      const char *arg)
{
	const char *eq = strchr(arg, '=');
	const rove_field_def *fd = rec_field_arg(c, arg, (size_t)(eq - arg));
	rove_field_def open;

	if ((fd->flags & ROVE_FF_SYSTEM) && orig->kind == ROVE_OP_RELEASE && strcmp(fd->name, "release_reason") == 0) {
		open = *fd;
		open.flags &= ~ROVE_FF_SYSTEM;
		fd = &open;
	}
	if (c->id == ROVE_COLL_OPPORTUNITY && strcmp(fd->name, "owner") == 0 &&
	    rove_role_parse(r->role) == ROVE_ROLE_REP) {
		rove_error("a deal's owner is its customer's owner; managers and admins name another");
		return ROVE_EPERM;
	}
	/* A new customer's owner, as `customer add --owner` names it (""
	 * for the pool): a refused create is made again with another. */
	if (c->id == ROVE_COLL_CUSTOMER && orig->kind == ROVE_OP_CREATE && strcmp(fd->name, "owner") == 0)
		return rec_set_new_owner(op, fd, eq + 1, rove_role_parse(r->role), r->auth.user);
	return rec_set_field(op, fd, eq + 1);
}

/* Whether the record op (a create of c) names as its parent is in r;
 * scratch is room for it. Says why not. */
static int parent_held(rove_replica *r, const rove_coll_def *c, const rove_op *op, rove_record *scratch)
{
	const rove_field_def *pf = rove_schema_parent_field(c);
	const rove_coll_def *pc;
	const char *ps;
	rove_uuid pid;
	int rc;

	if (pf == NULL || (ps = rove_fields_str(&op->fs, pf->name)) == NULL || rove_uuid_parse(ps, &pid) != ROVE_OK)
		return ROVE_OK; /* none, or not an id: the precheck and the server say */
	pc = rove_schema_coll(ROVE_COLL_CUSTOMER);
	rc = rove_replica_get(r, pc->id, &pid, scratch);
	if (rc == ROVE_ENOTFOUND)
		rove_error("%s %s is not in this replica any more (reassigned, deleted or out of your reach): the %s "
			   "would be refused again ('rove rejected dismiss' it)",
			   pc->name, ps, c->name);
	else if (rc != ROVE_OK)
		rove_error("cannot read the replica: %s", rove_strerror(rc));
	return rc;
}

/* `rove rejected retry OP [FIELD=VALUE...]` */
static int retry_words(rove_cli *cli, int argc, char **argv, void *unused)
{
	rove_stamp st0 = {{0}, 0};
	const rove_coll_def *c;
	rove_replica r;
	rove_op *orig = malloc(sizeof(*orig)), *op = malloc(sizeof(*op));
	rove_record *cur = malloc(sizeof(*cur));
	char opid[ROVE_UUID_STRLEN + 1];
	bool dismissed = false, waiting = false;
	uint64_t n;
	int rc = ROVE_OK;

	(void)unused;

	if (orig == NULL || op == NULL || cur == NULL) {
		rove_error("out of memory");
		rc = ROVE_ENOMEM;
	} else if (cli_opt_help(argc, argv, 2)) {
		rc = cli_usage(retry_help, true) == ROVE_EXIT_OK ? ROVE_OK : CLI_EUSAGE;
		goto out;
	} else if (argc < 3) {
		rc = CLI_EUSAGE;
		rove_error("missing which refused change (OP, as 'rove rejected' shows it)");
		cli_usage(retry_help, false);
	} else if (argv[2][0] == '-') {
		rc = CLI_EUSAGE;
		unknown_option(argv[2], retry_help);
	} else if (!op_form_ok(argv[2])) {
		rc = CLI_EUSAGE;
	}
	for (int i = 3; rc == ROVE_OK && i < argc; i++) {
		if (strchr(argv[i], '=') == NULL || argv[i] == strchr(argv[i], '=')) {
			rove_error("expected FIELD=VALUE, got '%s'", argv[i]);
			rc = CLI_EUSAGE;
		}
	}
	if (rc != ROVE_OK)
		goto out;
	rc = cli_open(cli, &r);
	if (rc != ROVE_OK)
		goto out;
	rc = find_rejection(&r, argv[2], orig, &dismissed, &waiting);
	/* made again now, it would only come back refused (attack
	 * fifty-eight: a waiting create retried by hand went for good) */
	if (rc == ROVE_OK && waiting && !dismissed) {
		rove_error("refused change '%s' waits for its record, which the server lacks since it was restored: "
			   "a sync sends it again on its own once the record is back ('rove rejected dismiss' it if "
			   "you no longer want it)",
			   argv[2]);
		rc = ROVE_EEXIST;
	} else if (rc == ROVE_OK && dismissed) {
		rove_error("refused change '%s' was dismissed (retried already, or dealt with): it is not made "
			   "again; its retry, if refused, has an op of its own",
			   argv[2]);
		rc = ROVE_EEXIST;
	}
	c = rc == ROVE_OK ? rove_schema_coll(orig->coll) : NULL;
	if (rc == ROVE_OK && (c == NULL || orig->kind == ROVE_OP_REASSIGN || orig->kind == 0 ||
			      orig->kind > ROVE_OP_KIND_MAX)) {
		rove_error("this refused change cannot be made again from here");
		rc = ROVE_EINVAL;
	}
	for (int i = 3; rc == ROVE_OK && i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		if (rec_field_arg(c, argv[i], (size_t)(eq - argv[i])) == NULL) {
			rove_error("unknown %s field '%.*s' (see 'rove %s set --help')", c->name, (int)(eq - argv[i]),
				   argv[i], c->name);
			rc = CLI_EUSAGE;
		} else if (rec_field_repeated(c, argv, 3, i)) {
			rove_error("%.*s is given twice: give each field once", (int)(eq - argv[i]), argv[i]);
			rc = CLI_EUSAGE;
		}
	}
	/* The record as it is now: a create makes it again, anything else
	 * changes the one this replica holds. */
	if (rc == ROVE_OK && orig->kind != ROVE_OP_CREATE) {
		rc = rove_replica_get(&r, orig->coll, &orig->rid, cur);
		if (rc == ROVE_ENOTFOUND) {
			char rid[ROVE_UUID_STRLEN + 1];
			rove_uuid_format(&orig->rid, rid);
			rove_error("%s %s is not in this replica any more (deleted, or out of your reach): nothing "
				   "to change",
				   c->name, rid);
		} else if (rc != ROVE_OK) {
			rove_error("cannot read the replica: %s", rove_strerror(rc));
		}
	} else if (rc == ROVE_OK && rove_replica_get(&r, orig->coll, &orig->rid, cur) == ROVE_OK) {
		if (c->flags & ROVE_CF_APPEND_ONLY)
			rove_error("the %s this change created exists now", c->name);
		else
			rove_error("the %s this change created exists now: change it with 'rove %s set'", c->name,
				   c->name);
		rc = ROVE_EEXIST;
	}
	if (rc == ROVE_OK) {
		rove_op_init(op, orig->kind, orig->coll, &orig->rid, st0);
		rc = rove_fields_copy(&op->fs, &orig->fs);
		if (rc != ROVE_OK)
			rove_error("cannot copy the change: %s", rove_strerror(rc));
	}
	for (int i = 3; rc == ROVE_OK && i < argc; i++)
		rc = retry_edit(&r, c, orig, op, argv[i]);
	/* A record created under a customer the replica no longer holds
	 * (reassigned away, deleted): the server would refuse it again
	 * (attack seventy-two: it was queued). */
	if (rc == ROVE_OK && op->kind == ROVE_OP_CREATE)
		rc = parent_held(&r, c, op, cur);
	if (rc == ROVE_OK)
		rc = rec_write_op(&r, op, orig->kind == ROVE_OP_CREATE ? NULL : cur);
	if (rc == ROVE_OK) {
		rove_uuid_format(&op->op_id, opid);
		printf("%s\n", opid);
		/* Dealt with: the refusal is dismissed (a failure here loses
		 * nothing: the new change is queued). */
		int drc = rove_replica_dismiss(&r, &orig->op_id, &n);
		if (drc != ROVE_OK && drc != ROVE_EEXIST)
			rove_warn("the new change is queued, but the refusal could not be dismissed: %s",
				  rove_strerror(drc));
		fprintf(stderr, "rove: queued again as a new change; 'rove sync' sends it\n");
	}
	rove_replica_close(&r);
out:
	free(orig);
	free(op);
	free(cur);
	return cli_exit(rc);
}

static int rejected_retry(rove_cli *cli, int argc, char **argv)
{
	return cli_on_words(cli, argc, argv, 2, retry_words, NULL);
}

void cmd_rejected_subs(FILE *f, const char *name)
{
	fprintf(f, "%s dismiss\n%s retry\n", name, name);
}

int cmd_rejected(rove_cli *cli, int argc, char **argv)
{
	rj_ctx ctx = {.json = false};
	rove_replica r;
	bool help;
	int rc, code;

	if (argc >= 2 && strcmp(argv[1], "dismiss") == 0)
		return rejected_dismiss(cli, argc, argv);
	if (argc >= 2 && strcmp(argv[1], "retry") == 0)
		return rejected_retry(cli, argc, argv);
	code = refusal_options(argc, argv, rejected_help, rejected_opts, &ctx, &help);

	if (help || code != ROVE_EXIT_OK)
		return code;
	rc = cli_open(cli, &r);
	if (rc != ROVE_OK)
		return cli_exit(rc);
	rc = rove_replica_each_rejection(&r, print_rejection, &ctx, NULL);
	rove_replica_close(&r);
	/* (a list cut short says nothing of "none", and its JSON is left
	 * unclosed: attack eighty-nine, "no rejected changes" and "[]" with
	 * exit 1 on a damaged replica) */
	if (rc != ROVE_OK) {
		if (ctx.json && ctx.n == 0)
			out_json_begin_list(&ctx.j, stdout);
		fflush(stdout);
		rove_error("cannot read the replica's refused changes: %s", rove_strerror(rc));
	} else if (ctx.json) {
		print_end(&ctx);
	} else if (ctx.n == 0) {
		printf("no rejected changes\n");
	}
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
	out_refusal rf = {c->time_ms, c->reason, c->detail, c->op.author, &c->op, false, false, false};

	if (!wanted(arg, c->time_ms, c->reason, c->op.author))
		return ROVE_OK;
	print_refusal(arg, &rf);
	return note_dropped(arg, c);
}

/* On stderr, so that --json's stdout stays one array. */
static void print_dropped(const rj_ctx *ctx)
{
	for (size_t i = 0; i < ctx->ndrops; i++)
		fprintf(stderr,
			"rove: note: the server dropped %" PRIu64 " older refused change%s by %s (of each user it "
			"keeps the latest %u forbidden, not_owner, not_in_territory or reassigned and the latest %u "
			"others, at most %u KiB of each)\n",
			ctx->drops[i].n, ctx->drops[i].n == 1 ? "" : "s", ctx->drops[i].author, ROVE_MAX_USER_REJECTS,
			ROVE_MAX_USER_REJECTS, ROVE_MAX_USER_REJECT_BYTES / 1024);
}

int cmd_conflicts(rove_cli *cli, int argc, char **argv)
{
	rj_ctx ctx = {.json = false};
	rove_replica r;
	char err[ROVE_MAX_ERRMSG + 1], hint[ROVE_NET_HINT_BUF];
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
	if (rc == ROVE_ELOST)
		rove_error("the server at %s: %s", r.server, err);
	else if (rc == ROVE_ETIMEDOUT && err[0] != '\0')
		rove_error("the server at %s was reached but did not answer within %d ms%s", r.server, cli->timeout_ms,
			   CLI_SLOW_LINK("conflicts"));
	else if (rove_err_unreached(rc))
		rove_error("cannot reach the server at %s (%s%s)", r.server, rove_strerror(rc),
			   rove_net_why_unreached(r.server, hint, sizeof(hint)));
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
