/*
 * cmd_report.c - `rove report pipeline|targets|daily [--json|--csv]`:
 * the command line and the printing; the figures come from report.c.
 *
 * Reports run on the replica, offline, over what it holds: a rep's own
 * scope, a manager's subtree, everything for analysts and admins.
 */
#include "cli.h"
#include "cli_opt.h"
#include "csv.h"
#include "err.h"
#include "hlc.h"
#include "log.h"
#include "out.h"
#include "report.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

static const char report_help[] =
	"usage: rove report pipeline [--json|--csv]\n"
	"       rove report targets [--period YYYY-MM] [--json|--csv]\n"
	"       rove report daily [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--json|--csv]\n"
	"\n"
	"Reports computed on this replica, over the records it holds (a rep's own\n"
	"customers, a manager's subtree, everything for analysts and admins).\n"
	"Run 'rove report REPORT --help' for each report. Money is in currency\n"
	"units in tables and in integer cents in JSON and CSV. A CSV cell that\n"
	"starts with = + - @ (a login may) gets a single quote in front, so that\n"
	"a spreadsheet shows it as text instead of running it as a formula.\n";

static const char pipeline_help[] =
	"usage: rove report pipeline [--json|--csv]\n"
	"\n"
	"The open pipeline: deals not yet won or lost (a deal without a stage is\n"
	"a lead), counted and summed by stage (lead, qualified, proposal,\n"
	"negotiation), by territory (the customer's) and by rep (the deal's\n"
	"owner; \"(none)\" and \"(pool)\" when there is none), with a total.\n"
	"CSV columns: dimension,key,count,amount.\n";

/* Every report's options; each table below adds its own to these. */
enum { OPT_JSON = CLI_OPT_LONG, OPT_CSV, OPT_PERIOD, OPT_FROM, OPT_TO };
#define REPORT_OPTS {"json", no_argument, NULL, OPT_JSON}, {"csv", no_argument, NULL, OPT_CSV}

static const struct option pipeline_opts[] = {REPORT_OPTS, {NULL, 0, NULL, 0}};

static const char targets_help[] =
	"usage: rove report targets [--period YYYY-MM] [--json|--csv]\n"
	"\n"
	"Each target of the month (default: this month, UTC) against the deals\n"
	"the rep won that month (closed_on in it; a deal is credited to its\n"
	"owner, whoever owns the customer now), with the percent reached, and\n"
	"who is behind (a target of 0 has no percent: '-' here, 0 in JSON and\n"
	"CSV). CSV columns: user,period,target,won,percent,behind.\n"
	"A rep's replica holds only his customers and their deals (rule 1): a\n"
	"deal he won on a customer since given to another is credited to him in\n"
	"his manager's, an analyst's and an admin's report, not in his own.\n";

static const struct option targets_opts[] = {
	REPORT_OPTS,
	{"period", required_argument, NULL, OPT_PERIOD},
	{NULL, 0, NULL, 0},
};

static const char daily_help[] =
	"usage: rove report daily [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--json|--csv]\n"
	"\n"
	"Per day: new customers, activities (visits, calls, notes) and the amount\n"
	"of deals won, each with its change from the day before. The default is\n"
	"the last 14 days up to today (UTC); with only --from, up to today; with\n"
	"only --to, the 14 days ending then (from 1980 on). At most " STRINGIFY(ROVE_REPORT_MAX_DAYS) " days.\n";

static const struct option daily_opts[] = {
	REPORT_OPTS,
	{"from", required_argument, NULL, OPT_FROM},
	{"to", required_argument, NULL, OPT_TO},
	{NULL, 0, NULL, 0},
};

/* Width of the funnel's widest bar, in terminal columns. */
#define FUNNEL_WIDTH 30

/* Terminal columns of a key (stage, territory, user, date) in tables. */
#define KEY_WIDTH 16

/* Room for a change: an amount, a sign and brackets. */
#define CHANGE_TEXT (OUT_MONEY_TEXT + 3)

enum report_fmt { FMT_TABLE, FMT_JSON, FMT_CSV };

typedef struct report_args {
	enum report_fmt fmt;
	const char *period, *from, *to;
	FILE *out; /* where the report goes */
} report_args;

typedef struct report_def {
	const char *name;
	const char *help;
	const struct option *opts;
	int (*run)(rove_report_data *d, const report_args *a);
} report_def;

/* A change with its sign, in brackets: "(+3)", "(-1)", "(0)"; money as
 * units. */
static void change(int64_t v, bool is_money, char *out, size_t len)
{
	char text[OUT_MONEY_TEXT];

	if (is_money)
		out_money(v, text, sizeof(text));
	else
		snprintf(text, sizeof(text), "%" PRId64, v);
	/* "(" sign text ")" always fits CHANGE_TEXT; copy bounded anyway. */
	if (len < 4)
		return;
	{
		size_t at = 0;
		out[at++] = '(';
		if (v > 0)
			out[at++] = '+';
		for (size_t i = 0; text[i] != '\0' && at + 2 < len; i++)
			out[at++] = text[i];
		out[at++] = ')';
		out[at] = '\0';
	}
}

/* ---- rows as JSON and CSV ---- */

/* A column of a report that is a list of rows (targets, daily): its name,
 * the JSON key and the CSV header, and where and as what a row holds it.
 * TEXT is a char array, INT an int64_t, BOOL a bool. */
typedef struct report_col {
	const char *name;
	size_t off;
	enum { COL_TEXT, COL_INT, COL_BOOL } type;
} report_col;

#define COL(type, field, as) {#field, offsetof(type, field), as}

/* The value of column col in row, as JSON (a key and its value). */
static void json_cell(out_json *j, const report_col *col, const char *row)
{
	int64_t i;
	bool b;

	switch (col->type) {
	case COL_TEXT:
		out_json_field_str(j, col->name, row + col->off);
		break;
	case COL_INT:
		memcpy(&i, row + col->off, sizeof(i));
		out_json_field_int(j, col->name, i);
		break;
	case COL_BOOL:
		memcpy(&b, row + col->off, sizeof(b));
		out_json_field_bool(j, col->name, b);
		break;
	}
}

/* The value of column col in row, as a CSV cell. */
static void csv_cell(FILE *out, const report_col *col, const char *row)
{
	int64_t i;
	bool b;

	switch (col->type) {
	case COL_TEXT:
		rove_csv_put(out, row + col->off, strlen(row + col->off));
		break;
	case COL_INT:
		memcpy(&i, row + col->off, sizeof(i));
		fprintf(out, "%" PRId64, i);
		break;
	case COL_BOOL:
		memcpy(&b, row + col->off, sizeof(b));
		fputs(b ? "true" : "false", out);
		break;
	}
}

/* n rows of size bytes: a JSON array of objects, or CSV (a header of the
 * column names, then a line per row). */
static void print_rows(FILE *out, enum report_fmt fmt, const report_col *cols, size_t ncols, const void *rows,
		       size_t n, size_t size)
{
	const char *row = rows;
	out_json j;

	if (fmt == FMT_JSON) {
		out_json_begin_list(&j, out);
		for (size_t i = 0; i < n; i++, row += size) {
			out_json_begin_object(&j);
			for (size_t c = 0; c < ncols; c++)
				json_cell(&j, &cols[c], row);
			out_json_end_object(&j);
		}
		out_json_end_list(&j);
		return;
	}
	for (size_t c = 0; c < ncols; c++)
		fprintf(out, "%s%s", c ? "," : "", cols[c].name);
	fputc('\n', out);
	for (size_t i = 0; i < n; i++, row += size) {
		for (size_t c = 0; c < ncols; c++) {
			if (c > 0)
				fputc(',', out);
			csv_cell(out, &cols[c], row);
		}
		fputc('\n', out);
	}
}

/* ---- pipeline ---- */

static void json_sum(out_json *j, const char *keyname, const rove_report_sum *v)
{
	out_json_begin_object(j);
	if (keyname != NULL)
		out_json_field_str(j, keyname, v->key);
	out_json_field_int(j, "count", v->count);
	out_json_field_int(j, "amount", v->amount);
	out_json_end_object(j);
}

static void json_sums(out_json *j, const char *name, const char *keyname, const rove_report_sum *v, size_t n)
{
	out_json_key(j, name);
	out_json_begin_array(j);
	for (size_t i = 0; i < n; i++)
		json_sum(j, keyname, &v[i]);
	out_json_end_array(j);
}

static void csv_sums(FILE *out, const char *dimension, const rove_report_sum *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%s,", dimension);
		rove_csv_put(out, v[i].key, strlen(v[i].key));
		fprintf(out, ",%" PRId64 ",%" PRId64 "\n", v[i].count, v[i].amount);
	}
}

static void table_row(FILE *out, const char *key, int64_t count, int64_t amount)
{
	char text[OUT_MONEY_TEXT];

	out_money(amount, text, sizeof(text));
	out_cell(out, key, KEY_WIDTH);
	fprintf(out, " %8" PRId64 " %18s", count, text);
}

static void table_sums(FILE *out, const char *title, const rove_report_sum *v, size_t n)
{
	fprintf(out, "\n");
	out_cell(out, title, KEY_WIDTH);
	fprintf(out, " %8s %18s\n", "DEALS", "AMOUNT");
	for (size_t i = 0; i < n; i++) {
		table_row(out, v[i].key, v[i].count, v[i].amount);
		fputc('\n', out);
	}
}

/* The funnel: each stage's bar, centred, as long as its share of the
 * largest stage's amount (or count, when no stage has an amount). */
static void table_funnel(FILE *out, const rove_report_pipeline *p)
{
	int64_t max = 0;
	bool by_amount = true;

	for (int s = 0; s < ROVE_REPORT_OPEN_STAGES; s++)
		if (p->stage[s].amount > max)
			max = p->stage[s].amount;
	if (max == 0) {
		by_amount = false;
		for (int s = 0; s < ROVE_REPORT_OPEN_STAGES; s++)
			if (p->stage[s].count > max)
				max = p->stage[s].count;
	}
	out_cell(out, "STAGE", KEY_WIDTH);
	fprintf(out, " %8s %18s\n", "DEALS", "AMOUNT");
	for (int s = 0; s < ROVE_REPORT_OPEN_STAGES; s++) {
		int64_t v = by_amount ? p->stage[s].amount : p->stage[s].count;
		int w = 0;
		table_row(out, p->stage[s].key, p->stage[s].count, p->stage[s].amount);
		if (max > 0 && v > 0) {
			/* v <= max, so v / max * width fits; never less than one mark */
			w = (int)((long double)v * FUNNEL_WIDTH / (long double)max);
			if (w < 1)
				w = 1;
		}
		fprintf(out, "  %*s", (FUNNEL_WIDTH - w) / 2, "");
		for (int i = 0; i < w; i++)
			fputc('#', out);
		fputc('\n', out);
	}
}

static int run_pipeline(rove_report_data *d, const report_args *a)
{
	FILE *out = a->out;
	rove_report_pipeline p;
	char text[OUT_MONEY_TEXT];
	int rc = rove_report_pipeline_get(d, &p);

	if (rc != ROVE_OK)
		return rc;
	if (a->fmt == FMT_JSON) {
		out_json j;
		out_json_init(&j, out);
		out_json_begin_object(&j);
		out_json_key(&j, "total");
		json_sum(&j, NULL, &p.total);
		json_sums(&j, "by_stage", "stage", p.stage, ROVE_REPORT_OPEN_STAGES);
		json_sums(&j, "by_territory", "territory", p.territory, p.nterritory);
		json_sums(&j, "by_rep", "rep", p.rep, p.nrep);
		out_json_end_object(&j);
		out_json_finish(&j);
	} else if (a->fmt == FMT_CSV) {
		fprintf(out, "dimension,key,count,amount\n");
		csv_sums(a->out, "stage", p.stage, ROVE_REPORT_OPEN_STAGES);
		csv_sums(a->out, "territory", p.territory, p.nterritory);
		csv_sums(a->out, "rep", p.rep, p.nrep);
		fprintf(out, "total,,%" PRId64 ",%" PRId64 "\n", p.total.count, p.total.amount);
	} else {
		out_money(p.total.amount, text, sizeof(text));
		fprintf(out, "Open pipeline: %" PRId64 " deal%s, %s\n\n", p.total.count, p.total.count == 1 ? "" : "s",
		       text);
		table_funnel(a->out, &p);
		table_sums(out, "TERRITORY", p.territory, p.nterritory);
		table_sums(out, "REP", p.rep, p.nrep);
		fprintf(out, "\n");
		table_row(out, "TOTAL", p.total.count, p.total.amount);
		fputc('\n', out);
	}
	rove_report_pipeline_free(&p);
	return ROVE_OK;
}

/* ---- targets ---- */

static const report_col target_cols[] = {
	COL(rove_report_target, user, COL_TEXT),   COL(rove_report_target, period, COL_TEXT),
	COL(rove_report_target, target, COL_INT),  COL(rove_report_target, won, COL_INT),
	COL(rove_report_target, percent, COL_INT), COL(rove_report_target, behind, COL_BOOL),
};

static int run_targets(rove_report_data *d, const report_args *a)
{
	FILE *out = a->out;
	rove_report_target *t;
	size_t n, behind = 0;
	int rc = rove_report_targets_get(d, a->period, &t, &n);

	if (rc != ROVE_OK)
		return rc;
	if (a->fmt != FMT_TABLE) {
		print_rows(a->out, a->fmt, target_cols, sizeof(target_cols) / sizeof(target_cols[0]), t, n, sizeof(*t));
	} else if (n == 0) {
		fprintf(out, "No targets for %s on this replica.\n", a->period);
	} else {
		char tt[OUT_MONEY_TEXT], wt[OUT_MONEY_TEXT], gap[OUT_MONEY_TEXT];
		fprintf(out, "Targets for %s\n\n", a->period);
		out_cell(out, "USER", KEY_WIDTH);
		fprintf(out, " %18s %18s %7s\n", "TARGET", "WON", "REACHED");
		for (size_t i = 0; i < n; i++) {
			out_money(t[i].target, tt, sizeof(tt));
			out_money(t[i].won, wt, sizeof(wt));
			out_cell(out, t[i].user, KEY_WIDTH);
			if (t[i].target > 0)
				fprintf(out, " %18s %18s %6" PRId64 "%%", tt, wt, t[i].percent);
			else /* a target of nothing: no share of it (JSON: percent 0) */
				fprintf(out, " %18s %18s %7s", tt, wt, "-");
			if (t[i].behind) {
				out_money(t[i].target - t[i].won, gap, sizeof(gap));
				fprintf(out, "  BEHIND by %s", gap);
				behind++;
			}
			fputc('\n', out);
		}
		fputc('\n', out);
		if (behind == 0) {
			fprintf(out, "Nobody is behind target.\n");
		} else {
			fprintf(out, "Behind target (%zu):", behind);
			for (size_t i = 0; i < n; i++) {
				if (!t[i].behind)
					continue;
				fputc(' ', out);
				out_text(out, t[i].user);
				fprintf(out, " (%" PRId64 "%%)", t[i].percent);
			}
			fputc('\n', out);
		}
	}
	free(t);
	return ROVE_OK;
}

/* ---- daily ---- */

static const report_col day_cols[] = {
	COL(rove_report_day, date, COL_TEXT),
	COL(rove_report_day, new_customers, COL_INT),
	COL(rove_report_day, activities, COL_INT),
	COL(rove_report_day, won_amount, COL_INT),
	COL(rove_report_day, new_customers_change, COL_INT),
	COL(rove_report_day, activities_change, COL_INT),
	COL(rove_report_day, won_amount_change, COL_INT),
};

static int run_daily(rove_report_data *d, const report_args *a)
{
	FILE *out = a->out;
	rove_report_day *days;
	size_t n;
	int rc = rove_report_daily_get(d, a->from, a->to, &days, &n);

	if (rc != ROVE_OK)
		return rc;
	if (a->fmt != FMT_TABLE) {
		print_rows(a->out, a->fmt, day_cols, sizeof(day_cols) / sizeof(day_cols[0]), days, n, sizeof(*days));
	} else {
		char v[OUT_MONEY_TEXT], c1[CHANGE_TEXT], c2[CHANGE_TEXT], c3[CHANGE_TEXT];
		fprintf(out, "Daily activity, %s to %s (change from the day before in brackets)\n\n", a->from, a->to);
		fprintf(out, "%-10s  %-16s  %-16s  %15s\n", "DATE", "NEW CUSTOMERS", "ACTIVITIES", "WON");
		for (size_t i = 0; i < n; i++) {
			const rove_report_day *r = &days[i];
			change(r->new_customers_change, false, c1, sizeof(c1));
			change(r->activities_change, false, c2, sizeof(c2));
			change(r->won_amount_change, true, c3, sizeof(c3));
			out_money(r->won_amount, v, sizeof(v));
			fprintf(out, "%-10s  %6" PRId64 " %-9s  %6" PRId64 " %-9s  %15s %s\n", r->date, r->new_customers,
			       c1, r->activities, c2, v, c3);
		}
	}
	free(days);
	return ROVE_OK;
}

static const report_def reports[] = {
	{"pipeline", pipeline_help, pipeline_opts, run_pipeline},
	{"targets", targets_help, targets_opts, run_targets},
	{"daily", daily_help, daily_opts, run_daily},
};

void cmd_report_subs(FILE *f, const char *name)
{
	for (size_t i = 0; i < sizeof(reports) / sizeof(reports[0]); i++)
		fprintf(f, "%s %s\n", name, reports[i].name);
}

/* Parses argv[2..] for report def into a. False when the command is
 * over: help printed or a usage error reported, *status the exit status. */
static bool parse_args(const report_def *def, int argc, char **argv, report_args *a, int *status)
{
	bool json = false, csv = false;
	cli_opt o;
	int k;

	if (cli_opt_help(argc, argv, 2)) {
		*status = cli_usage(def->help, true);
		return false;
	}
	cli_opt_init(&o, argc, argv, 2, def->opts);
	while ((k = cli_opt_next(&o)) != CLI_OPT_END) {
		switch (k) {
		case OPT_JSON: json = true; break;
		case OPT_CSV: csv = true; break;
		case OPT_PERIOD: a->period = o.arg; break;
		case OPT_FROM: a->from = o.arg; break;
		case OPT_TO: a->to = o.arg; break;
		case CLI_OPT_NOVALUE:
			rove_error("option '%s' needs a value", o.arg);
			*status = cli_usage(def->help, false);
			return false;
		default:
			if (!cli_opt_said(k))
				rove_error("unexpected argument '%s' for report %s", o.arg, def->name);
			*status = cli_usage(def->help, false);
			return false;
		}
	}
	if (json && csv) {
		rove_error("--json and --csv cannot be used together");
		*status = cli_usage(def->help, false);
		return false;
	}
	a->fmt = json ? FMT_JSON : csv ? FMT_CSV : FMT_TABLE;
	return true;
}

/* Whether def takes option val. */
static bool takes(const report_def *def, int val)
{
	for (const struct option *e = def->opts; e->name != NULL; e++)
		if (e->val == val)
			return true;
	return false;
}

/* Whether a date or month (valid) lies in the years rove keeps dates of
 * (ROVE_DATE_MIN to ROVE_DATE_MAX): no record holds one outside, so a
 * report asked for one is a typing mistake, said so. */
static bool in_years(const char *s, const char *opt)
{
	size_t n = strlen(s);

	if (rove_report_in_years(s))
		return true;
	rove_error("%s %s is outside the years rove keeps (%.*s to %.*s)", opt, s, (int)n, ROVE_DATE_MIN, (int)n,
		   ROVE_DATE_MAX);
	return false;
}

/* Fills in the default dates and checks them; false (reported) on a bad
 * one. The buffers hold the defaults a points to. */
static bool resolve_dates(const report_def *def, report_args *a, char today[ROVE_REPORT_DATE_SIZE],
			  char period[ROVE_REPORT_MONTH_SIZE], char from[ROVE_REPORT_DATE_SIZE])
{
	char last[ROVE_REPORT_DATE_SIZE];

	rove_report_today(rove_wall_ms(), today);
	if (takes(def, OPT_PERIOD)) {
		if (a->period == NULL) {
			memcpy(period, today, ROVE_REPORT_MONTH_SIZE - 1);
			period[ROVE_REPORT_MONTH_SIZE - 1] = '\0';
			a->period = period;
		} else if (!rove_report_month_valid(a->period)) {
			rove_error("invalid --period '%s' (expected YYYY-MM)", a->period);
			return false;
		} else if (!in_years(a->period, "--period")) {
			return false;
		}
	}
	if (!takes(def, OPT_FROM))
		return true;
	if (a->from != NULL && !rove_report_date_valid(a->from)) {
		rove_error("invalid --from '%s' (expected YYYY-MM-DD)", a->from);
		return false;
	}
	if (a->to != NULL && !rove_report_date_valid(a->to)) {
		rove_error("invalid --to '%s' (expected YYYY-MM-DD)", a->to);
		return false;
	}
	if ((a->from != NULL && !in_years(a->from, "--from")) || (a->to != NULL && !in_years(a->to, "--to")))
		return false;
	if (a->to == NULL)
		a->to = today;
	if (a->from == NULL) {
		if (rove_report_default_from(a->to, from) != ROVE_OK) {
			rove_error("no %d days end on %s", ROVE_REPORT_DEFAULT_DAYS, a->to);
			return false;
		}
		a->from = from;
	}
	if (strcmp(a->from, a->to) > 0) {
		rove_error("--from %s is after --to %s", a->from, a->to);
		return false;
	}
	if (rove_report_date_add(a->from, ROVE_REPORT_MAX_DAYS - 1, last) == ROVE_OK && strcmp(a->to, last) > 0) {
		rove_error("the range %s to %s is longer than %d days", a->from, a->to, ROVE_REPORT_MAX_DAYS);
		return false;
	}
	return true;
}

int cmd_report(rove_cli *cli, int argc, char **argv)
{
	return cmd_report_to(cli, argc, argv, stdout);
}

int cmd_report_to(rove_cli *cli, int argc, char **argv, FILE *out)
{
	const report_def *def = NULL;
	report_args a = {FMT_TABLE, NULL, NULL, NULL, out};
	char today[ROVE_REPORT_DATE_SIZE], period[ROVE_REPORT_MONTH_SIZE];
	char from[ROVE_REPORT_DATE_SIZE];
	rove_report_data *d = NULL;
	rove_replica r;
	int rc, status;

	if (argc < 2) {
		rove_error("missing which report (pipeline, targets or daily)");
		return cli_usage(report_help, false);
	}
	if (cli_is_help(argv[1]))
		return cli_usage(report_help, true);
	for (size_t i = 0; i < sizeof(reports) / sizeof(reports[0]); i++)
		if (strcmp(argv[1], reports[i].name) == 0)
			def = &reports[i];
	if (def == NULL) {
		rove_error("unknown report '%s'", argv[1]);
		return cli_usage(report_help, false);
	}
	if (!parse_args(def, argc, argv, &a, &status))
		return status;
	if (!resolve_dates(def, &a, today, period, from))
		return ROVE_EXIT_USAGE;

	rc = cli_open(cli, &r);
	if (rc != ROVE_OK)
		return cli_exit(rc);
	rc = rove_report_data_new(&d);
	if (rc == ROVE_OK)
		rc = rove_report_load(&r, d);
	rove_replica_close(&r);
	if (rc == ROVE_OK)
		rc = def->run(d, &a);
	rove_report_data_free(d);
	if (rc != ROVE_OK) {
		rove_error("report %s: %s", def->name, rove_strerror(rc));
		return cli_exit(rc);
	}
	if (fflush(out) != 0 || ferror(out)) {
		rove_error("report %s: cannot write the output", def->name);
		return ROVE_EXIT_FAIL;
	}
	return ROVE_EXIT_OK;
}
