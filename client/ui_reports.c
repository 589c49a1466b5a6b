/*
 * ui_reports.c - the Reports page of `rove ui`: the open pipeline's
 * funnel, reps against their targets and the daily trend, each drawn as
 * SVG written here (no script: the Content-Security-Policy allows none
 * inline, and a chart needs none) beside the table of its figures, and
 * each exported as `rove report NAME --csv` prints it.
 *
 * The figures are report.c's, as `rove report` computes them, over what
 * the replica holds: a rep's own, a manager's subtree, everything for
 * analysts and admins. Nothing is recomputed here; the charts only scale
 * them. The export runs the command itself (cmd_report_to), so its bytes
 * are the command's.
 *
 * The SVG uses presentation attributes (fill, stroke), never style
 * attributes, which the policy's style-src 'self' would block.
 */
#include "ui.h"
#include "err.h"
#include "hlc.h"
#include "out.h"
#include "report.h"
#include "rove_limits.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T(k) ui_t(x->lang, (k))

/* The charts' coordinate space (the viewBox; CSS scales it to the
 * column): its width, and the left column of a bar chart's labels. */
#define CHART_W 600
#define CHART_LABEL_W 140
/* Height of a bar chart's row. */
#define CHART_ROW_H 34
/* Targets: the bar's scale runs to the largest percent reached, at least
 * 100 and at most this (a rep at 900% does not squash the others). */
#define TARGET_SCALE_MAX 200
/* The trend's plot area inside its viewBox. */
#define TREND_H 236
#define TREND_LEFT 48
#define TREND_TOP 12
#define TREND_BOTTOM 190

static void money(ui_ctx *x, int64_t cents)
{
	char text[OUT_MONEY_TEXT];

	out_money(cents, text, sizeof(text));
	ui_esc(&x->out, text);
}

/* The largest of a and b, 0 floor. */
static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* v of max as a length of at most w (v, max >= 0; 0 when max is 0). */
static double scale(int64_t v, int64_t max, double w)
{
	if (max <= 0 || v <= 0)
		return 0;
	return (double)v * w / (double)max;
}

static void section_title(ui_ctx *x, const char *title, const char *csv_href, const char *csv_id)
{
	ui_put(&x->out, "<div class=\"report-head\"><h2>");
	ui_esc(&x->out, T(title));
	ui_put(&x->out, "</h2><a class=\"button quiet\" download href=\"");
	ui_esc(&x->out, csv_href);
	ui_printf(&x->out, "\" id=\"%s\">", csv_id);
	ui_esc(&x->out, T("Export CSV"));
	ui_put(&x->out, "</a></div>");
}

/* ---- pipeline ---- */

static void funnel_svg(ui_ctx *x, const rove_report_pipeline *p)
{
	const double area = CHART_W - CHART_LABEL_W - 10, mid = CHART_LABEL_W + area / 2;
	int64_t max = 0;
	bool by_amount = true;

	/* as rove report's funnel: by amount, or by count when none has one */
	for (int s = 0; s < ROVE_REPORT_OPEN_STAGES; s++)
		max = max64(max, p->stage[s].amount);
	if (max == 0) {
		by_amount = false;
		for (int s = 0; s < ROVE_REPORT_OPEN_STAGES; s++)
			max = max64(max, p->stage[s].count);
	}
	ui_printf(&x->out,
		  "<svg class=\"chart\" id=\"funnel\" viewBox=\"0 0 %d %d\" role=\"img\" aria-labelledby=\"funnel-title\">"
		  "<title id=\"funnel-title\">",
		  CHART_W, ROVE_REPORT_OPEN_STAGES * CHART_ROW_H + 8);
	ui_esc(&x->out, T("Open pipeline by stage"));
	ui_put(&x->out, "</title>");
	for (int s = 0; s < ROVE_REPORT_OPEN_STAGES; s++) {
		const rove_report_sum *v = &p->stage[s];
		double w = scale(by_amount ? v->amount : v->count, max, area);
		int y = 4 + s * CHART_ROW_H;
		if (w > 0 && w < 2)
			w = 2; /* a stage with deals is seen */
		ui_printf(&x->out, "<g data-stage=\"%s\"><text x=\"0\" y=\"%d\">", v->key, y + CHART_ROW_H / 2 + 4);
		ui_esc(&x->out, T(v->key));
		ui_printf(&x->out, " (%" PRId64 ")</text>", v->count);
		ui_printf(&x->out,
			  "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" rx=\"3\" fill=\"#b8d0f5\" "
			  "stroke=\"#1f5fbf\" stroke-width=\"1\"><title>",
			  mid - w / 2, y + 2, w, CHART_ROW_H - 6);
		ui_esc(&x->out, T(v->key));
		ui_printf(&x->out, ": %" PRId64 ", ", v->count);
		money(x, v->amount);
		ui_printf(&x->out, "</title></rect><text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", mid,
			  y + CHART_ROW_H / 2 + 4);
		money(x, v->amount);
		ui_put(&x->out, "</text></g>");
	}
	ui_put(&x->out, "</svg>");
}

/* A table's start and head row: a first column, then numeric ones (NULL
 * ends the list); every title translated. */
static void table_head(ui_ctx *x, const char *id, const char *first, const char *const *nums)
{
	ui_printf(&x->out, "<table id=\"%s\"><thead><tr><th scope=\"col\">", id);
	ui_esc(&x->out, T(first));
	for (; *nums != NULL; nums++) {
		ui_put(&x->out, "</th><th scope=\"col\" class=\"num\">");
		ui_esc(&x->out, T(*nums));
	}
	ui_put(&x->out, "</th></tr></thead><tbody>");
}

/* A table of sums; dim names the data-dim of its rows (the tests'). */
static void sums_table(ui_ctx *x, const char *id, const char *dim, const char *head, const rove_report_sum *v,
		       size_t n, const rove_report_sum *total, bool translate)
{
	static const char *const nums[] = {"Deals", "Amount", NULL};

	table_head(x, id, head, nums);
	for (size_t i = 0; i < n; i++) {
		ui_printf(&x->out, "<tr data-dim=\"%s\" data-key=\"", dim);
		ui_esc(&x->out, v[i].key);
		ui_printf(&x->out, "\" data-count=\"%" PRId64 "\" data-amount=\"%" PRId64 "\"><td>", v[i].count,
			  v[i].amount);
		ui_esc(&x->out, translate ? T(v[i].key) : v[i].key);
		ui_printf(&x->out, "</td><td class=\"num\">%" PRId64 "</td><td class=\"num\">", v[i].count);
		money(x, v[i].amount);
		ui_put(&x->out, "</td></tr>");
	}
	if (n == 0) {
		ui_put(&x->out, "<tr><td colspan=\"3\" class=\"muted\">");
		ui_esc(&x->out, T("No records."));
		ui_put(&x->out, "</td></tr>");
	}
	ui_put(&x->out, "</tbody>");
	if (total != NULL) {
		ui_printf(&x->out,
			  "<tfoot><tr data-dim=\"total\" data-key=\"\" data-count=\"%" PRId64 "\" data-amount=\"%" PRId64
			  "\"><th scope=\"row\">",
			  total->count, total->amount);
		ui_esc(&x->out, T("Total"));
		ui_printf(&x->out, "</th><td class=\"num\">%" PRId64 "</td><td class=\"num\">", total->count);
		money(x, total->amount);
		ui_put(&x->out, "</td></tr></tfoot>");
	}
	ui_put(&x->out, "</table>");
}

static void pipeline_section(ui_ctx *x, rove_report_data *d)
{
	rove_report_pipeline p;
	int rc = rove_report_pipeline_get(d, &p);

	section_title(x, "Open pipeline", "reports/pipeline.csv", "csv-pipeline");
	if (rc != ROVE_OK) {
		ui_put(&x->out, "<p class=\"banner bad\">");
		ui_esc(&x->out, rove_strerror(rc));
		ui_put(&x->out, "</p>");
		return;
	}
	ui_put(&x->out, "<div class=\"grid2\"><section>");
	funnel_svg(x, &p);
	ui_put(&x->out, "</section><section>");
	sums_table(x, "pipeline-stage", "stage", "Stage", p.stage, ROVE_REPORT_OPEN_STAGES, &p.total, true);
	ui_put(&x->out, "</section></div><div class=\"grid2\"><section>");
	sums_table(x, "pipeline-territory", "territory", "Territory", p.territory, p.nterritory, NULL, false);
	ui_put(&x->out, "</section><section>");
	sums_table(x, "pipeline-rep", "rep", "Rep", p.rep, p.nrep, NULL, false);
	ui_put(&x->out, "</section></div>");
	rove_report_pipeline_free(&p);
}

/* ---- targets ---- */

static void targets_svg(ui_ctx *x, const rove_report_target *t, size_t n)
{
	const double area = CHART_W - CHART_LABEL_W - 60;
	int64_t top = 100;
	double full;

	for (size_t i = 0; i < n; i++)
		top = max64(top, t[i].percent);
	if (top > TARGET_SCALE_MAX)
		top = TARGET_SCALE_MAX;
	full = scale(100, top, area);
	ui_printf(&x->out,
		  "<svg class=\"chart\" id=\"targets-chart\" viewBox=\"0 0 %d %zu\" role=\"img\" "
		  "aria-labelledby=\"targets-title\"><title id=\"targets-title\">",
		  CHART_W, n * CHART_ROW_H + 8);
	ui_esc(&x->out, T("Reps against targets"));
	ui_put(&x->out, "</title>");
	for (size_t i = 0; i < n; i++) {
		size_t y = 4 + i * CHART_ROW_H;
		double w = scale(t[i].percent > top ? top : t[i].percent, top, area);
		ui_printf(&x->out, "<g><text x=\"0\" y=\"%zu\">", y + CHART_ROW_H / 2 + 4);
		ui_esc(&x->out, t[i].user);
		/* the track is the target (100%); the bar what was won */
		ui_printf(&x->out,
			  "</text><rect x=\"%d\" y=\"%zu\" width=\"%.1f\" height=\"%d\" fill=\"#eef1f5\" stroke=\"#b9c1cf\"/>"
			  "<rect x=\"%d\" y=\"%zu\" width=\"%.1f\" height=\"%d\" fill=\"%s\"><title>",
			  CHART_LABEL_W, y + 4, full, CHART_ROW_H - 10, CHART_LABEL_W, y + 4, w, CHART_ROW_H - 10,
			  t[i].behind ? "#e8a29c" : "#8fcfa3");
		ui_esc(&x->out, t[i].user);
		ui_put(&x->out, ": ");
		money(x, t[i].won);
		ui_put(&x->out, " / ");
		money(x, t[i].target);
		ui_printf(&x->out, "</title></rect><text x=\"%.1f\" y=\"%zu\">%" PRId64 "%%</text></g>",
			  CHART_LABEL_W + (w > full ? w : full) + 6, y + CHART_ROW_H / 2 + 4, t[i].percent);
	}
	ui_put(&x->out, "</svg>");
}

static void targets_section(ui_ctx *x, rove_report_data *d, const char *period)
{
	rove_report_target *t = NULL;
	size_t n = 0;
	char href[64];
	int rc = rove_report_targets_get(d, period, &t, &n);

	snprintf(href, sizeof(href), "reports/targets.csv?period=%s", period);
	section_title(x, "Reps against targets", href, "csv-targets");
	ui_printf(&x->out, "<p class=\"muted\" id=\"targets-period\">%s</p>", period);
	if (rc != ROVE_OK) {
		ui_put(&x->out, "<p class=\"banner bad\">");
		ui_esc(&x->out, rove_strerror(rc));
		ui_put(&x->out, "</p>");
		return;
	}
	ui_put(&x->out, "<div class=\"grid2\"><section>");
	if (n > 0)
		targets_svg(x, t, n);
	ui_put(&x->out, "</section><section>");
	table_head(x, "targets", "Rep", (const char *const[]){"Target", "Won", "Reached", NULL});
	for (size_t i = 0; i < n; i++) {
		ui_put(&x->out, "<tr data-user=\"");
		ui_esc(&x->out, t[i].user);
		ui_printf(&x->out,
			  "\" data-target=\"%" PRId64 "\" data-won=\"%" PRId64 "\" data-percent=\"%" PRId64 "\"%s><td>",
			  t[i].target, t[i].won, t[i].percent, t[i].behind ? " class=\"behind\"" : "");
		ui_esc(&x->out, t[i].user);
		ui_put(&x->out, "</td><td class=\"num\">");
		money(x, t[i].target);
		ui_put(&x->out, "</td><td class=\"num\">");
		money(x, t[i].won);
		ui_printf(&x->out, "</td><td class=\"num\">%" PRId64 "%%</td></tr>", t[i].percent);
	}
	if (n == 0) {
		ui_put(&x->out, "<tr><td colspan=\"4\" class=\"muted\">");
		ui_esc(&x->out, T("No targets for this month."));
		ui_put(&x->out, "</td></tr>");
	}
	ui_put(&x->out, "</tbody></table></section></div>");
	free(t);
}

/* ---- daily ---- */

/* One series of the trend as a polyline; off is the field's offset in a
 * day. */
static void trend_line(ui_ctx *x, const rove_report_day *days, size_t n, size_t off, int64_t max,
		       const char *colour, const char *name)
{
	const double w = CHART_W - TREND_LEFT - 10, h = TREND_BOTTOM - TREND_TOP;

	ui_printf(&x->out, "<polyline data-series=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", name,
		  colour);
	for (size_t i = 0; i < n; i++) {
		int64_t v;
		memcpy(&v, (const char *)&days[i] + off, sizeof(v));
		ui_printf(&x->out, "%s%.1f,%.1f", i > 0 ? " " : "",
			  TREND_LEFT + (n > 1 ? (double)i * w / (double)(n - 1) : w / 2), TREND_BOTTOM - scale(v, max, h));
	}
	ui_put(&x->out, "\"/>");
}

static void trend_svg(ui_ctx *x, const rove_report_day *days, size_t n)
{
	int64_t max = 1;

	for (size_t i = 0; i < n; i++)
		max = max64(max, max64(days[i].activities, days[i].new_customers));
	ui_printf(&x->out,
		  "<svg class=\"chart\" id=\"trend\" viewBox=\"0 0 %d %d\" role=\"img\" aria-labelledby=\"trend-title\">"
		  "<title id=\"trend-title\">",
		  CHART_W, TREND_H);
	ui_esc(&x->out, T("Daily activity"));
	ui_printf(&x->out,
		  "</title><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#b9c1cf\"/>"
		  "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#b9c1cf\"/>"
		  "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%" PRId64 "</text>"
		  "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>",
		  TREND_LEFT, TREND_TOP, TREND_LEFT, TREND_BOTTOM, TREND_LEFT, TREND_BOTTOM, CHART_W - 10, TREND_BOTTOM,
		  TREND_LEFT - 6, TREND_TOP + 8, max, TREND_LEFT - 6, TREND_BOTTOM);
	trend_line(x, days, n, offsetof(rove_report_day, activities), max, "#1f5fbf", "activities");
	trend_line(x, days, n, offsetof(rove_report_day, new_customers), max, "#1b7f3b", "new_customers");
	if (n > 0)
		ui_printf(&x->out,
			  "<text x=\"%d\" y=\"%d\">%s</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>",
			  TREND_LEFT, TREND_BOTTOM + 16, days[0].date, CHART_W - 10, TREND_BOTTOM + 16, days[n - 1].date);
	/* the legend */
	ui_printf(&x->out, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"4\" fill=\"#1f5fbf\"/><text x=\"%d\" y=\"%d\">",
		  TREND_LEFT, TREND_H - 10, TREND_LEFT + 16, TREND_H - 5);
	ui_esc(&x->out, T("Activities"));
	ui_printf(&x->out, "</text><rect x=\"%d\" y=\"%d\" width=\"12\" height=\"4\" fill=\"#1b7f3b\"/><text x=\"%d\" y=\"%d\">",
		  TREND_LEFT + 160, TREND_H - 10, TREND_LEFT + 176, TREND_H - 5);
	ui_esc(&x->out, T("New customers"));
	ui_put(&x->out, "</text></svg>");
}

static void daily_section(ui_ctx *x, rove_report_data *d, const char *from, const char *to)
{
	rove_report_day *days = NULL;
	size_t n = 0;
	char href[80];
	int rc = rove_report_daily_get(d, from, to, &days, &n);

	snprintf(href, sizeof(href), "reports/daily.csv?from=%s&to=%s", from, to);
	section_title(x, "Daily activity", href, "csv-daily");
	ui_printf(&x->out, "<p class=\"muted\" id=\"daily-range\">%s – %s</p>", from, to);
	if (rc != ROVE_OK) {
		ui_put(&x->out, "<p class=\"banner bad\" id=\"daily-error\">");
		/* (valid dates, checked above, compare as text) */
		bool after = rc == ROVE_EINVAL && strcmp(from, to) > 0;
		ui_esc(&x->out, rc == ROVE_ETOOBIG ? T("The range is too long.")
				: after		   ? T("From is after To.")
						   : rove_strerror(rc));
		ui_put(&x->out, "</p>");
		if (after)
			x->status = 400;
		return;
	}
	ui_put(&x->out, "<div class=\"grid2\"><section>");
	trend_svg(x, days, n);
	ui_put(&x->out, "</section><section>");
	table_head(x, "daily", "Date", (const char *const[]){"New customers", "Activities", "Won", NULL});
	for (size_t i = n; i-- > 0;) { /* the latest first */
		const rove_report_day *r = &days[i];
		ui_printf(&x->out,
			  "<tr data-date=\"%s\" data-new=\"%" PRId64 "\" data-activities=\"%" PRId64
			  "\" data-won=\"%" PRId64 "\"><td>%s</td><td class=\"num\">%" PRId64
			  "</td><td class=\"num\">%" PRId64 "</td><td class=\"num\">",
			  r->date, r->new_customers, r->activities, r->won_amount, r->date, r->new_customers,
			  r->activities);
		money(x, r->won_amount);
		ui_put(&x->out, "</td></tr>");
	}
	ui_put(&x->out, "</tbody></table></section></div>");
	free(days);
}

/* ---- the page ---- */

/* A parameter that must pass valid (NULL or "": the default, def);
 * a bad one is said on the page and the default used. */
static const char *checked(ui_ctx *x, const char *name, bool (*valid)(const char *), const char *def,
			   const char *expected)
{
	const char *v = ui_param_get(x, name);

	if (v == NULL || v[0] == '\0')
		return def;
	if (valid(v) && rove_report_in_years(v))
		return v;
	x->status = 400;
	ui_put(&x->out, "<p class=\"banner bad\" role=\"alert\" id=\"error\">");
	if (valid(v)) {
		/* as rove report says it */
		ui_printf(&x->out, "%s %s ", name, v);
		ui_esc(&x->out, T("is outside the years rove keeps"));
		ui_printf(&x->out, " (%.*s – %.*s)</p>", (int)strlen(v), ROVE_DATE_MIN, (int)strlen(v), ROVE_DATE_MAX);
		return def;
	}
	ui_esc(&x->out, T("invalid"));
	ui_printf(&x->out, " %s '", name);
	ui_esc(&x->out, v);
	ui_printf(&x->out, "' (%s)</p>", expected);
	return def;
}

void ui_page_reports(ui_ctx *x)
{
	char today[ROVE_REPORT_DATE_SIZE], month[ROVE_REPORT_MONTH_SIZE], back[ROVE_REPORT_DATE_SIZE];
	const char *period, *from, *to;
	rove_report_data *d = NULL;
	rove_replica r;
	int rc;

	if (!ui_open_replica(x, &r))
		return;
	ui_page_head(x, &r, "Reports", "Reports");
	/* the defaults of rove report: this month, the last 14 days (UTC) */
	rove_report_today(rove_wall_ms(), today);
	snprintf(month, sizeof(month), "%.7s", today);
	/* a parameter it does not take (month= for period=) is said, not
	 * passed over: the page would show what was not asked for */
	for (size_t i = 0; i < x->nparams; i++) {
		const char *n = x->params[i].name;
		if (strcmp(n, "period") != 0 && strcmp(n, "from") != 0 && strcmp(n, "to") != 0) {
			x->status = 400;
			ui_put(&x->out, "<p class=\"banner bad\" role=\"alert\" id=\"error\">");
			ui_esc(&x->out, T("unknown parameter"));
			ui_put(&x->out, " '");
			ui_esc(&x->out, n);
			ui_put(&x->out, "' (period, from, to)</p>");
			break;
		}
	}
	period = checked(x, "period", rove_report_month_valid, month, "YYYY-MM");
	to = checked(x, "to", rove_report_date_valid, today, "YYYY-MM-DD");
	from = checked(x, "from", rove_report_date_valid, NULL, "YYYY-MM-DD");
	if (from == NULL) {
		if (rove_report_default_from(to, back) != ROVE_OK)
			snprintf(back, sizeof(back), "%s", to);
		from = back;
	}
	ui_put(&x->out, "<form class=\"filters\" method=\"get\" action=\"reports\"><label for=\"f-period\">");
	ui_esc(&x->out, T("Month of the targets"));
	ui_printf(&x->out, "<input type=\"month\" id=\"f-period\" name=\"period\" value=\"%s\"></label>"
			   "<label for=\"f-from\">", period);
	ui_esc(&x->out, T("From"));
	ui_printf(&x->out, "<input type=\"date\" id=\"f-from\" name=\"from\" value=\"%s\"></label><label for=\"f-to\">",
		  from);
	ui_esc(&x->out, T("To"));
	ui_printf(&x->out, "<input type=\"date\" id=\"f-to\" name=\"to\" value=\"%s\"></label><button id=\"show\">", to);
	ui_esc(&x->out, T("Show"));
	ui_put(&x->out, "</button></form>");

	rc = rove_report_data_new(&d);
	if (rc == ROVE_OK)
		rc = rove_report_load(&r, d);
	rove_replica_close(&r);
	if (rc != ROVE_OK) {
		x->status = 500;
		ui_put(&x->out, "<p class=\"banner bad\">");
		ui_esc(&x->out, rove_strerror(rc));
		ui_put(&x->out, "</p>");
	} else {
		pipeline_section(x, d);
		targets_section(x, d, period);
		daily_section(x, d, from, to);
	}
	rove_report_data_free(d);
	ui_page_foot(x);
}

/* GET /reports/NAME.csv: the command's own CSV, into the answer. */
void ui_report_csv(ui_ctx *x, const char *name)
{
	static const char *const names[] = {"pipeline", "targets", "daily"};
	char *argv[10], *data = NULL;
	size_t len = 0;
	int argc = 0, status;
	FILE *f;
	const char *report = NULL;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = strlen(names[i]);
		if (strncmp(name, names[i], n) == 0 && strcmp(name + n, ".csv") == 0)
			report = names[i];
	}
	if (report == NULL) {
		ui_page_error(x, 404, "Not found", x->path);
		return;
	}
	argv[argc++] = "report";
	argv[argc++] = (char *)report;
	argv[argc++] = "--csv";
	/* only the options the report takes, each checked as the page does */
	if (strcmp(report, "targets") == 0) {
		const char *p = ui_param_get(x, "period");
		if (p != NULL && p[0] != '\0') {
			if (!rove_report_month_valid(p)) {
				ui_page_error(x, 400, "Reports", "invalid period (expected YYYY-MM)");
				return;
			}
			argv[argc++] = "--period";
			argv[argc++] = (char *)p;
		}
	} else if (strcmp(report, "daily") == 0) {
		static const char *const opts[] = {"from", "to"};
		for (size_t i = 0; i < 2; i++) {
			const char *v = ui_param_get(x, opts[i]);
			if (v == NULL || v[0] == '\0')
				continue;
			if (!rove_report_date_valid(v)) {
				ui_page_error(x, 400, "Reports", "invalid date (expected YYYY-MM-DD)");
				return;
			}
			argv[argc++] = i == 0 ? "--from" : "--to";
			argv[argc++] = (char *)v;
		}
	}
	argv[argc] = NULL;
	f = open_memstream(&data, &len);
	if (f == NULL) {
		x->out.failed = true;
		return;
	}
	status = cmd_report_to(x->cli, argc, argv, f);
	if (fclose(f) != 0 && status == ROVE_EXIT_OK)
		status = ROVE_EXIT_FAIL;
	if (status != ROVE_EXIT_OK) {
		char why[ROVE_UI_MAX_ERRORS + 1];
		snprintf(why, sizeof(why), "%s", x->nerrors > 0 ? x->errors : "the report failed");
		x->nerrors = 0; /* said once, as the page's text */
		ui_page_error(x, status == ROVE_EXIT_USAGE ? 400 : 500, "Reports", why);
		free(data);
		return;
	}
	x->type = "text/csv; charset=utf-8";
	snprintf(x->filename, sizeof(x->filename), "rove-%s.csv", report);
	ui_putn(&x->out, data, len);
	free(data);
}
