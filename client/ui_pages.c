/*
 * ui_pages.c - the pages of `rove ui` and the changes they make.
 *
 * Reads open the replica for the request and walk it with rec_view.c's
 * filters (rec_list_walk); every change runs the command-line verb that
 * makes it, with the same words a user would type (rec_add, rec_change,
 * opportunity_stage, customer_claim/release, rove rejected), so the UI
 * checks, prechecks and queues exactly as the commands do. What a verb
 * reports (rove_error) comes back to the page through ui_server.c's sink.
 * Every value from the replica is written with ui_esc.
 */
#include "ui.h"
#include "rec.h"
#include "err.h"
#include "hlc.h"
#include "log.h"
#include "out.h"
#include "rules.h"
#include "sync.h"
#include "text.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T(k) ui_t(x->lang, (k))
/* A list page asks for one row more than it shows: is there a next page. */
#define UI_PROBE_LIMIT (ROVE_UI_PAGE_ROWS + 1)

/* ---- the frame of every page ---- */

void ui_page_head(ui_ctx *x, const rove_replica *r, const char *title, const char *current)
{
	static const char *const nav[][2] = {
		{"./", "Today"}, {"customers", "Customers"}, {"deals", "Deals"}, {"reports", "Reports"},
		{"sync", "Sync"},
	};
	ui_buf *b = &x->out;

	ui_printf(b, "<!doctype html><html lang=\"%s\"><head><meta charset=\"utf-8\">"
		     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		     "<title>", x->lang == UI_ZH ? "zh-CN" : "en");
	ui_esc(b, T(title));
	ui_put(b, " - rove</title><base href=\"");
	ui_esc(b, x->base != NULL ? x->base : "/");
	ui_put(b, "\"><link rel=\"stylesheet\" href=\"static/app.css\">"
		  "<script src=\"static/app.js\"></script></head><body><header><span class=\"brand\">rove</span>"
		  "<nav aria-label=\"main\">");
	for (size_t i = 0; i < sizeof(nav) / sizeof(nav[0]); i++) {
		ui_printf(b, "<a href=\"%s\"%s>", nav[i][0],
			  strcmp(nav[i][1], current) == 0 ? " aria-current=\"page\"" : "");
		ui_esc(b, T(nav[i][1]));
		ui_put(b, "</a>");
	}
	if (r != NULL && (ui_may(r, ROVE_ACT_SEE_USERS, NULL, 0) || ui_may(r, ROVE_ACT_REASSIGN, NULL, 0))) {
		ui_printf(b, "<a href=\"admin\" id=\"nav-admin\"%s>",
			  strcmp(current, "Admin") == 0 ? " aria-current=\"page\"" : "");
		ui_esc(b, T("Admin"));
		ui_put(b, "</a>");
	}
	ui_put(b, "</nav><div class=\"who\">");
	if (r != NULL) {
		ui_esc(b, r->auth.user);
		ui_put(b, " · ");
		ui_esc(b, r->role);
	}
	ui_printf(b, "<form class=\"inline\" method=\"post\" action=\"lang\"><input type=\"hidden\" name=\"csrf\" "
		     "value=\"%s\"><input type=\"hidden\" name=\"back\" value=\"",
		  x->csrf);
	ui_esc(b, x->path);
	/* with the page's query (its filters, its sort), where it fits in a
	 * link back (ui_back_to's bound) */
	if (!x->post && x->query != NULL && x->query[0] != '\0' &&
	    strlen(x->path) + 1 + strlen(x->query) <= ROVE_UI_MAX_URL - 16 && strcspn(x->query, "\r\n") == strlen(x->query)) {
		ui_put(b, "?");
		ui_esc(b, x->query);
	}
	ui_printf(b, "\"><button class=\"quiet\" name=\"lang\" value=\"%s\" id=\"lang-switch\">%s</button></form>",
		  x->lang == UI_ZH ? "en" : "zh", x->lang == UI_ZH ? "English" : "中文");
	ui_put(b, "</div></header><main><h1>");
	ui_esc(b, T(title));
	ui_put(b, "</h1>");
	if (x->nerrors > 0) {
		ui_put(b, "<div class=\"banner bad\" role=\"alert\" id=\"error\"><b>");
		ui_esc(b, T(x->errors_title != NULL ? x->errors_title : "Not saved"));
		ui_put(b, ":</b> ");
		ui_escn(b, x->errors, x->nerrors);
		ui_put(b, "</div>");
	}
	if (ui_param_get(x, "saved") != NULL) {
		ui_put(b, "<div class=\"banner ok\" role=\"status\" id=\"saved\">");
		ui_esc(b, T("Saved; sent on the next sync."));
		ui_put(b, "</div>");
	}
	if (ui_param_get(x, "done") != NULL) {
		ui_put(b, "<div class=\"banner ok\" role=\"status\" id=\"done\">");
		ui_esc(b, T("Done on the server."));
		ui_put(b, "</div>");
	}
}

void ui_page_foot(ui_ctx *x)
{
	ui_put(&x->out, "</main></body></html>\n");
}

void ui_csrf_field(ui_ctx *x)
{
	ui_printf(&x->out, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">", x->csrf);
}

void ui_read_failed(ui_ctx *x, int rc)
{
	if (rc == ROVE_OK)
		return;
	ui_put(&x->out, "<p class=\"banner bad\" role=\"alert\">");
	/* (What malformed data read from the replica means, and the way
	 * out: attack sixty-two saw a list stop at a damaged record.) */
	ui_esc(&x->out, rove_strerror(rc));
	if (rc == ROVE_EPROTO)
		ui_put(&x->out, ": this replica is damaged. 'rove sync --repair' takes the server's records anew "
				"(your pending changes are kept).");
	ui_put(&x->out, "</p>");
}

/* A page that could not be made: status and what went wrong. */
void ui_page_error(ui_ctx *x, int status, const char *title, const char *detail)
{
	x->status = status;
	ui_page_head(x, NULL, title, "");
	ui_put(&x->out, "<p>");
	ui_esc(&x->out, detail);
	ui_put(&x->out, "</p>");
	ui_page_foot(x);
}

/* Opens the replica for a page; false with an error page made. */
bool ui_open_replica(ui_ctx *x, rove_replica *r)
{
	if (cli_open(x->cli, r) == ROVE_OK)
		return true;
	x->nerrors = 0; /* the page says it; not a "not saved" */
	ui_page_error(x, 500, "Not found", "cannot open the replica");
	return false;
}

bool ui_open_record(ui_ctx *x, uint8_t coll, const char *ids, rove_replica *r, rove_record **rec, char *idstr)
{
	rove_uuid id;

	*rec = NULL;
	if (rove_uuid_parse(ids, &id) != ROVE_OK) {
		ui_page_error(x, 404, "Not found", "no such record");
		return false;
	}
	rove_uuid_format(&id, idstr);
	if ((*rec = malloc(sizeof(**rec))) == NULL) {
		x->out.failed = true;
		return false;
	}
	if (!ui_open_replica(x, r)) {
		free(*rec);
		*rec = NULL;
		return false;
	}
	if (rove_replica_get(r, coll, &id, *rec) != ROVE_OK) {
		rove_replica_close(r);
		free(*rec);
		*rec = NULL;
		x->nerrors = 0; /* the page says it */
		ui_page_error(x, 404, "Not found", "no such record in this replica");
		return false;
	}
	return true;
}

/* A value of a record as text, an enum's translated; the lines of a text
 * of lines (a note, an address) as lines. */
static void put_value(ui_ctx *x, const rove_field_def *fd, const rove_record *rec)
{
	const rove_field *f = rove_fields_get(&rec->fs, fd->name);
	rove_value null = rove_vnull();
	char text[ROVE_MAX_STR + 64];

	if (f != NULL && f->v.type == ROVE_V_STR && (fd->flags & ROVE_FF_LINES)) {
		/* Control characters escaped as the terminal shows them, but a
		 * line feed kept: a break here, not a literal \n. */
		const char *p = text, *nl;
		rove_text_show(f->v.s, f->v.len, ROVE_TEXT_SHOW_LINES, text, sizeof(text));
		while ((nl = strchr(p, '\n')) != NULL) {
			ui_escn(&x->out, p, (size_t)(nl - p));
			ui_put(&x->out, "<br>");
			p = nl + 1;
		}
		ui_esc(&x->out, p);
		return;
	}
	out_value_text(fd, f != NULL ? &f->v : &null, text, sizeof(text));
	if (strcmp(text, "-") == 0 && (f == NULL || f->v.type == ROVE_V_NULL)) {
		ui_put(&x->out, "<span class=\"muted\">-</span>");
		return;
	}
	ui_esc(&x->out, fd->type == ROVE_FT_ENUM ? T(text) : text);
}

static bool is_column(const rove_field_def *fd)
{
	return (fd->flags & ROVE_FF_LIST) && !(fd->flags & ROVE_FF_PARENT) && !(fd->flags & ROVE_FF_HIDDEN);
}

/* Whether a list of c's records has a column of their customer: a list
 * of records of many customers (not a card's). */
static bool customer_column(const rove_coll_def *c, const char *parent)
{
	return c->parent == ROVE_COLL_CUSTOMER && parent == NULL;
}

void ui_table_head(ui_ctx *x, const rove_coll_def *c, const char *id, const char *extra, bool customer)
{
	ui_printf(&x->out, "<table id=\"%s\"><thead><tr>", id);
	if (customer) {
		ui_put(&x->out, "<th scope=\"col\">");
		ui_esc(&x->out, T("Customer"));
		ui_put(&x->out, "</th>");
	}
	for (size_t i = 0; i < c->nfields; i++) {
		if (!is_column(&c->fields[i]))
			continue;
		ui_printf(&x->out, "<th scope=\"col\"%s>",
			  c->fields[i].type == ROVE_FT_MONEY ? " class=\"num\"" : "");
		ui_esc(&x->out, T(c->fields[i].name));
		ui_put(&x->out, "</th>");
	}
	if (extra != NULL) {
		ui_put(&x->out, "<th scope=\"col\">");
		ui_esc(&x->out, T(extra));
		ui_put(&x->out, "</th>");
	}
	ui_put(&x->out, "</tr></thead><tbody>");
}

void ui_table_foot(ui_ctx *x, const rec_list_ctx *lc, size_t cols)
{
	if (lc->n == 0) {
		ui_printf(&x->out, "<tr><td colspan=\"%zu\" class=\"muted\">", cols);
		ui_esc(&x->out, T("No records."));
		ui_put(&x->out, "</td></tr>");
	}
	ui_put(&x->out, "</tbody></table>");
}

size_t ui_ncolumns(const rove_coll_def *c)
{
	size_t n = 0;
	for (size_t i = 0; i < c->nfields; i++)
		n += is_column(&c->fields[i]);
	return n;
}

/* The stage form of a deal (its id, its stage now). */
void ui_stage_form(ui_ctx *x, const rove_record *rec)
{
	/* the schema's stages, in its order */
	const char *const *stages =
		rove_schema_field(rove_schema_coll(ROVE_COLL_OPPORTUNITY), "stage")->values;
	const char *now = rove_fields_str(&rec->fs, "stage");
	char id[ROVE_UUID_STRLEN + 1];

	rove_uuid_format(&rec->id, id);
	ui_printf(&x->out, "<form class=\"inline\" method=\"post\" action=\"deal/%s/stage\">", id);
	ui_csrf_field(x);
	ui_printf(&x->out, "<input type=\"hidden\" name=\"back\" value=\"");
	ui_esc(&x->out, x->path);
	ui_printf(&x->out, "\"><label class=\"sr\"><span hidden>%s</span><select name=\"stage\" aria-label=\"",
		  "stage");
	ui_esc(&x->out, T("Stage"));
	ui_printf(&x->out, "\" id=\"stage-%s\">", id);
	for (size_t i = 0; stages[i] != NULL; i++) {
		ui_printf(&x->out, "<option value=\"%s\"%s>", stages[i],
			  now != NULL && strcmp(now, stages[i]) == 0 ? " selected" : "");
		ui_esc(&x->out, T(stages[i]));
		ui_put(&x->out, "</option>");
	}
	ui_put(&x->out, "</select></label><button class=\"quiet\">");
	ui_esc(&x->out, T("Move"));
	ui_put(&x->out, "</button></form>");
}

/* The cell of rec's customer: its name linking to its card (its id if
 * the replica does not hold it). lc->r is the replica, open. */
static int customer_cell(ui_ctx *x, rec_list_ctx *lc, const rove_record *rec)
{
	const rove_field_def *pf = rove_schema_parent_field(lc->c);
	const char *ps = pf != NULL ? rove_fields_str(&rec->fs, pf->name) : NULL;
	const char *name = NULL;
	rove_record *cust = NULL;
	char cid[ROVE_UUID_STRLEN + 1];
	rove_uuid id;
	int rc = ROVE_OK;

	ui_put(&x->out, "<td>");
	if (ps == NULL || rove_uuid_parse(ps, &id) != ROVE_OK) {
		ui_put(&x->out, "<span class=\"muted\">-</span></td>");
		return ROVE_OK;
	}
	rove_uuid_format(&id, cid);
	if ((cust = malloc(sizeof(*cust))) == NULL)
		return ROVE_ENOMEM;
	if (lc->r != NULL) {
		rc = rove_replica_get(lc->r, ROVE_COLL_CUSTOMER, &id, cust);
		if (rc == ROVE_OK)
			name = rove_fields_str(&cust->fs, "name");
		else if (rc == ROVE_ENOTFOUND)
			rc = ROVE_OK;
	}
	ui_printf(&x->out, "<a href=\"customer/%s\">", cid);
	ui_esc(&x->out, name != NULL ? name : cid);
	ui_put(&x->out, "</a></td>");
	free(cust);
	return rc;
}

/* One row of a table of c's records; the name of a customer links to its
 * card, a deal has its stage form; a list of many customers' records has
 * their customer first. */
int ui_emit_row(rec_list_ctx *lc, const rove_record *rec, bool pending)
{
	ui_ctx *x = lc->arg;
	char id[ROVE_UUID_STRLEN + 1];
	int rc;

	if (lc->limit == UI_PROBE_LIMIT && lc->n >= ROVE_UI_PAGE_ROWS)
		return ROVE_OK; /* the probe for a next page: not shown */
	rove_uuid_format(&rec->id, id);
	ui_printf(&x->out, "<tr data-id=\"%s\">", id);
	if (customer_column(lc->c, lc->parent) && (rc = customer_cell(x, lc, rec)) != ROVE_OK)
		return rc;
	for (size_t i = 0; i < lc->c->nfields; i++) {
		const rove_field_def *fd = &lc->c->fields[i];
		if (!is_column(fd))
			continue;
		ui_printf(&x->out, "<td%s>", fd->type == ROVE_FT_MONEY ? " class=\"num\"" : "");
		if (lc->c->id == ROVE_COLL_CUSTOMER && strcmp(fd->name, "name") == 0) {
			ui_printf(&x->out, "<a href=\"customer/%s\">", id);
			put_value(x, fd, rec);
			ui_put(&x->out, "</a>");
		} else {
			put_value(x, fd, rec);
		}
		if (pending && strcmp(fd->name, lc->c->fields[0].flags & ROVE_FF_PARENT ? lc->c->fields[1].name
											: lc->c->fields[0].name) == 0)
			ui_put(&x->out, " <span class=\"pending\" title=\"pending\">●</span>");
		ui_put(&x->out, "</td>");
	}
	if (lc->c->id == ROVE_COLL_OPPORTUNITY) {
		ui_put(&x->out, "<td>");
		ui_stage_form(x, rec);
		ui_put(&x->out, "</td>");
	}
	ui_put(&x->out, "</tr>");
	return ROVE_OK;
}

/* A table of the records lc selects (lc->c, lc->arg set here). */
int ui_list_table(ui_ctx *x, rove_replica *r, rec_list_ctx *lc, const char *id)
{
	int rc;

	bool customer = customer_column(lc->c, lc->parent);

	lc->emit = ui_emit_row;
	lc->arg = x;
	ui_table_head(x, lc->c, id, lc->c->id == ROVE_COLL_OPPORTUNITY ? "Change stage" : NULL, customer);
	rc = rec_list_walk(r, lc);
	ui_table_foot(x, lc, ui_ncolumns(lc->c) + (lc->c->id == ROVE_COLL_OPPORTUNITY) + customer);
	return rc;
}

/* ---- Customers ---- */

static void select_opt(ui_ctx *x, const char *value, const char *label, const char *now)
{
	ui_put(&x->out, "<option value=\"");
	ui_esc(&x->out, value);
	ui_put(&x->out, now != NULL && strcmp(now, value) == 0 ? "\" selected>" : "\">");
	ui_esc(&x->out, T(label));
	ui_put(&x->out, "</option>");
}

void ui_text_input(ui_ctx *x, const char *name, const char *label, const char *value)
{
	ui_printf(&x->out, "<label for=\"f-%s\">", name);
	ui_esc(&x->out, T(label));
	ui_printf(&x->out, "<input id=\"f-%s\" name=\"%s\" value=\"", name, name);
	ui_esc(&x->out, value != NULL ? value : "");
	ui_put(&x->out, "\"></label>");
}

/* A query string of the list's filters with page p, for the pager. */
static void list_link(ui_ctx *x, const char *base, unsigned long p)
{
	static const char *const keep[] = {"q", "f", "territory", "tier", "owner", "sort", "desc", "stage"};

	ui_printf(&x->out, "<a href=\"%s?page=%lu", base, p);
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		const char *v = ui_param_get(x, keep[i]);
		if (v == NULL || v[0] == '\0')
			continue;
		ui_printf(&x->out, "&amp;%s=", keep[i]);
		ui_urlenc(&x->out, v);
	}
	ui_put(&x->out, "\"");
}

/* The most pages a list goes to: past it, a page number is a typing
 * error (a million pages of ROVE_UI_PAGE_ROWS is more than any replica). */
#define UI_MAX_PAGE 1000000ul

/* The list's page number (1 if none) into *page; false with a 400 page
 * made if it is not a number from 1 to UI_MAX_PAGE. */
static bool page_number(ui_ctx *x, unsigned long *page)
{
	const char *p = ui_param_get(x, "page");
	char *end, why[128];
	unsigned long n;

	*page = 1;
	if (p == NULL || p[0] == '\0')
		return true;
	n = p[0] >= '0' && p[0] <= '9' ? strtoul(p, &end, 10) : 0;
	if (n >= 1 && n <= UI_MAX_PAGE && *end == '\0') {
		*page = n;
		return true;
	}
	snprintf(why, sizeof(why), "page takes a number from 1 to %lu ('%.40s')", UI_MAX_PAGE, p);
	ui_page_error(x, 400, "Bad request", why);
	return false;
}

/* Whether the list parameter name is absent, empty or one of allowed
 * (NULL-terminated); else false with a 400 page naming what it takes. */
static bool param_one_of(ui_ctx *x, const char *name, const char *const *allowed)
{
	const char *v = ui_param_get(x, name);
	char why[256];
	size_t at;

	if (v == NULL || v[0] == '\0')
		return true;
	for (const char *const *a = allowed; *a != NULL; a++)
		if (strcmp(v, *a) == 0)
			return true;
	at = (size_t)snprintf(why, sizeof(why), "%s takes ", name);
	for (const char *const *a = allowed; *a != NULL && at < sizeof(why); a++)
		at += (size_t)snprintf(why + at, sizeof(why) - at, "%s%s", *a,
				       a[1] == NULL ? "" : a[2] == NULL ? " or " : ", ");
	if (at < sizeof(why))
		snprintf(why + at, sizeof(why) - at, " ('%.40s')", v);
	ui_page_error(x, 400, "Bad request", why);
	return false;
}

static void pager(ui_ctx *x, const char *base, unsigned long page, bool more)
{
	ui_put(&x->out, "<div class=\"pager\">");
	if (page > 1) {
		list_link(x, base, page - 1);
		ui_put(&x->out, " id=\"prev\">");
		ui_esc(&x->out, T("Previous"));
		ui_put(&x->out, "</a>");
	}
	ui_printf(&x->out, "<span>%s %lu</span>", T("Page"), page);
	if (more) {
		list_link(x, base, page + 1);
		ui_put(&x->out, " id=\"next\">");
		ui_esc(&x->out, T("Next"));
		ui_put(&x->out, "</a>");
	}
	ui_put(&x->out, "</div>");
}

/* The sorts the customers page offers: the orders the replica keeps
 * (replica_index.c), so that a sorted page reads only its rows. */
static const char *const customer_sorts[] = {"name", "last_activity_at", "created_at", "tier", NULL};
static const char *const customer_shows[] = {"all", "mine", "pool", NULL};

static void page_customers(ui_ctx *x)
{
	rec_list_ctx lc = {.c = rove_schema_coll(ROVE_COLL_CUSTOMER)};
	const char *q = ui_param_get(x, "q"), *f = ui_param_get(x, "f"), *terr = ui_param_get(x, "territory");
	const char *tier = ui_param_get(x, "tier"), *owner = ui_param_get(x, "owner"), *sort = ui_param_get(x, "sort");
	unsigned long page;
	char low[ROVE_MAX_STR + 1];
	rove_replica r;
	int rc;

	/* A parameter the page does not know is refused, as the command
	 * line refuses it (exit 2), not silently dropped. */
	if (!page_number(x, &page) || !param_one_of(x, "sort", customer_sorts) ||
	    !param_one_of(x, "f", customer_shows) ||
	    !param_one_of(x, "tier", rove_schema_field(lc.c, "tier")->values))
		return;
	if (!ui_open_replica(x, &r))
		return;
	ui_page_head(x, &r, "Customers", "Customers");
	ui_put(&x->out, "<form class=\"filters\" method=\"get\" action=\"customers\" role=\"search\">");
	ui_text_input(x, "q", "Search customers", q);
	ui_put(&x->out, "<label for=\"f-f\">");
	ui_esc(&x->out, T("Whose"));
	ui_put(&x->out, "<select id=\"f-f\" name=\"f\">");
	select_opt(x, "all", "All", f);
	select_opt(x, "mine", "Mine", f);
	select_opt(x, "pool", "Pool", f);
	ui_put(&x->out, "</select></label>");
	ui_text_input(x, "territory", "Territory", terr);
	ui_put(&x->out, "<label for=\"f-tier\">");
	ui_esc(&x->out, T("Tier"));
	ui_put(&x->out, "<select id=\"f-tier\" name=\"tier\">");
	select_opt(x, "", "All", tier);
	select_opt(x, "prospect", "prospect", tier);
	select_opt(x, "customer", "customer", tier);
	select_opt(x, "loyal", "loyal", tier);
	ui_put(&x->out, "</select></label>");
	ui_text_input(x, "owner", "Owner's login", owner);
	ui_put(&x->out, "<label for=\"f-sort\">");
	ui_esc(&x->out, T("Sort by"));
	ui_put(&x->out, "<select id=\"f-sort\" name=\"sort\">");
	select_opt(x, "", "-", sort);
	for (const char *const *o = customer_sorts; *o != NULL; o++)
		select_opt(x, *o, *o, sort);
	ui_put(&x->out, "</select></label><label for=\"f-desc\">");
	ui_esc(&x->out, T("Descending"));
	ui_printf(&x->out, "<input type=\"checkbox\" id=\"f-desc\" name=\"desc\" value=\"1\"%s></label><button id=\"search\">",
		  ui_param_get(x, "desc") != NULL ? " checked" : "");
	ui_esc(&x->out, T("Search"));
	ui_put(&x->out, "</button></form>");

	if (q != NULL && q[0] != '\0') {
		snprintf(low, sizeof(low), "%s", q);
		lc.search = low;
	}
	if (f != NULL && strcmp(f, "mine") == 0)
		lc.owner = r.auth.user;
	else if (f != NULL && strcmp(f, "pool") == 0)
		lc.pool = true;
	if (owner != NULL && owner[0] != '\0')
		lc.owner = owner;
	if (tier != NULL && tier[0] != '\0')
		lc.tier = tier;
	if (sort != NULL && sort[0] != '\0') {
		lc.sort = sort;
		lc.desc = ui_param_get(x, "desc") != NULL;
	}
	lc.offset = (page - 1) * ROVE_UI_PAGE_ROWS;
	lc.limit = UI_PROBE_LIMIT;
	rc = rec_list_filters(&r, &lc, terr != NULL && terr[0] != '\0' ? terr : NULL);
	if (rc == ROVE_OK) {
		rc = ui_list_table(x, &r, &lc, "customers");
	} else {
		free(lc.terrs);
	}
	ui_read_failed(x, rc);
	pager(x, "customers", page, lc.n > ROVE_UI_PAGE_ROWS);
	rove_replica_close(&r);
	ui_page_foot(x);
}

/* ---- the customer card ---- */

/* A section: a heading and the table of the customer's records of coll. */
static void card_list(ui_ctx *x, rove_replica *r, uint8_t coll, const char *cid, const char *title,
		      const char *id, bool history)
{
	rec_list_ctx lc = {.c = rove_schema_coll(coll), .parent = cid, .limit = ROVE_UI_CARD_ROWS};
	int rc;

	if (coll == ROVE_COLL_ACTIVITY) {
		lc.sort = "at";
		lc.desc = true;
	}
	if (history)
		lc.sort = "at"; /* in time order, as 'rove customer history' */
	lc.history = history;
	ui_put(&x->out, "<h2>");
	ui_esc(&x->out, T(title));
	ui_put(&x->out, "</h2>");
	rc = ui_list_table(x, r, &lc, id);
	ui_read_failed(x, rc);
}

static void page_customer(ui_ctx *x, const char *ids)
{
	const rove_coll_def *c = rove_schema_coll(ROVE_COLL_CUSTOMER);
	rove_record *rec;
	rove_replica r;
	char cid[ROVE_UUID_STRLEN + 1];
	const char *owner, *name;

	if (!ui_open_record(x, ROVE_COLL_CUSTOMER, ids, &r, &rec, cid))
		return;
	owner = rove_fields_str(&rec->fs, "owner");
	name = rove_fields_str(&rec->fs, "name");
	ui_page_head(x, &r, "Customer", "Customers");
	ui_put(&x->out, "<h2 id=\"customer-name\">");
	ui_esc(&x->out, name != NULL ? name : cid);
	ui_put(&x->out, "</h2><div class=\"grid2\"><section><dl class=\"card\" id=\"details\">");
	for (size_t i = 0; i < c->nfields; i++) {
		const rove_field_def *fd = &c->fields[i];
		if (fd->flags & ROVE_FF_HIDDEN)
			continue;
		ui_put(&x->out, "<dt>");
		ui_esc(&x->out, T(fd->name));
		ui_put(&x->out, "</dt><dd>");
		put_value(x, fd, rec);
		ui_put(&x->out, "</dd>");
	}
	ui_put(&x->out, "</dl><p>");
	/* What the role writes: an analyst nothing, an admin owns no
	 * customer (the rules; role 0, not synced yet: the server decides). */
	int role = rove_role_parse(r.role);
	bool writes = role == 0 || rove_rules_role_writes(role);
	/* Claim (a pool customer) or release (one's own), as the policy
	 * asks: a reason to release. */
	if (owner == NULL && (role == 0 || rove_rules_role_may_own(role))) {
		ui_printf(&x->out, "<form class=\"inline\" method=\"post\" action=\"customer/%s/claim\">", cid);
		ui_csrf_field(x);
		ui_put(&x->out, "<button id=\"claim\">");
		ui_esc(&x->out, T("Claim"));
		ui_put(&x->out, "</button></form>");
	} else if (owner != NULL && strcmp(owner, r.auth.user) == 0) {
		ui_printf(&x->out, "<form class=\"inline\" method=\"post\" action=\"customer/%s/release\">", cid);
		ui_csrf_field(x);
		ui_put(&x->out, "<label for=\"release-reason\">");
		ui_esc(&x->out, T("Reason"));
		ui_put(&x->out, "<input id=\"release-reason\" name=\"reason\"></label><button class=\"quiet\" id=\"release\">");
		ui_esc(&x->out, T("Release"));
		ui_put(&x->out, "</button></form>");
	}
	/* A rep writes a pool customer, and under it, once it is his
	 * (rule 4): the card offers the claim, not forms refused on save. */
	bool pool_rep = owner == NULL && role == ROVE_ROLE_REP;
	if (!pool_rep && writes) {
		ui_printf(&x->out, " <a class=\"button quiet\" id=\"edit-link\" href=\"customer/%s/edit\">", cid);
		ui_esc(&x->out, T("Edit"));
		ui_put(&x->out, "</a>");
	}
	ui_card_reassign(x, &r, cid);
	if (!writes) {
		char why[ROVE_MAX_ERRMSG + 1];
		rove_rules_may_set(role, ROVE_COLL_ACTIVITY, "note", why, sizeof(why));
		ui_put(&x->out, "</p><p class=\"muted\" id=\"read-only\">");
		ui_esc(&x->out, T(why));
		ui_put(&x->out, "</p></section></div>");
		goto lists;
	}
	ui_put(&x->out, "</p></section><section><h2>");
	ui_esc(&x->out, T("Add an activity"));
	if (pool_rep) {
		ui_put(&x->out, "</h2><p class=\"muted\" id=\"claim-first\">");
		ui_esc(&x->out, T("Claim this customer to add activities and edit it."));
		ui_put(&x->out, "</p></section></div>");
		goto lists;
	}
	ui_printf(&x->out, "</h2><form class=\"stack\" method=\"post\" action=\"customer/%s/activity\" id=\"activity-form\">",
		  cid);
	ui_csrf_field(x);
	ui_put(&x->out, "<label for=\"a-kind\">");
	ui_esc(&x->out, T("Kind"));
	ui_put(&x->out, "<select id=\"a-kind\" name=\"kind\">");
	select_opt(x, "visit", "visit", NULL);
	select_opt(x, "call", "call", NULL);
	select_opt(x, "note", "note", NULL);
	ui_put(&x->out, "</select></label><label for=\"a-location\">");
	ui_esc(&x->out, T("Location (optional)"));
	ui_put(&x->out, "<input id=\"a-location\" name=\"location\"></label><label class=\"wide\" for=\"a-note\">");
	ui_esc(&x->out, T("Note"));
	ui_put(&x->out, "<textarea id=\"a-note\" name=\"note\" required></textarea></label><div><button id=\"add-activity\">");
	ui_esc(&x->out, T("Save"));
	ui_put(&x->out, "</button></div></form></section></div>");
lists:
	card_list(x, &r, ROVE_COLL_OPPORTUNITY, cid, "Deals", "deals", false);
	card_list(x, &r, ROVE_COLL_ACTIVITY, cid, "Activities", "activities", false);
	card_list(x, &r, ROVE_COLL_CONTACT, cid, "Contacts", "contacts", false);
	card_list(x, &r, ROVE_COLL_CONTRACT, cid, "Contracts", "contracts", false);
	card_list(x, &r, ROVE_COLL_OWNERSHIP, cid, "Ownership history", "ownership", true);
	rove_replica_close(&r);
	free(rec);
	ui_page_foot(x);
}

/* ---- Deals ---- */

static void page_deals(ui_ctx *x)
{
	rec_list_ctx lc = {.c = rove_schema_coll(ROVE_COLL_OPPORTUNITY)};
	const char *stage = ui_param_get(x, "stage");
	unsigned long page;
	rove_replica r;
	int rc;

	if (!page_number(x, &page) || !param_one_of(x, "stage", rove_schema_field(lc.c, "stage")->values))
		return;
	if (!ui_open_replica(x, &r))
		return;
	ui_page_head(x, &r, "Deals", "Deals");
	ui_put(&x->out, "<form class=\"filters\" method=\"get\" action=\"deals\"><label for=\"f-stage\">");
	ui_esc(&x->out, T("Stage"));
	ui_put(&x->out, "<select id=\"f-stage\" name=\"stage\">");
	select_opt(x, "", "All", stage);
	for (const char *const *s = rove_schema_field(lc.c, "stage")->values; *s != NULL; s++)
		select_opt(x, *s, *s, stage);
	ui_put(&x->out, "</select></label><button>");
	ui_esc(&x->out, T("Search"));
	ui_put(&x->out, "</button> <a href=\"deals/board\" id=\"board-link\">");
	ui_esc(&x->out, T("Board"));
	ui_put(&x->out, "</a></form>");
	if (stage != NULL && stage[0] != '\0')
		lc.stage = stage;
	lc.sort = "expected_close";
	lc.offset = (page - 1) * ROVE_UI_PAGE_ROWS;
	lc.limit = UI_PROBE_LIMIT;
	rc = ui_list_table(x, &r, &lc, "deals");
	ui_read_failed(x, rc);
	pager(x, "deals", page, lc.n > ROVE_UI_PAGE_ROWS);
	rove_replica_close(&r);
	ui_page_foot(x);
}

/* ---- the changes: each the command a user would type ---- */

/* The page a form came from, if it is one of ours. */
const char *ui_back_to(const ui_ctx *x, const char *fallback)
{
	const char *b = ui_param_get(x, "back");

	if (b == NULL || b[0] != '/' || b[1] == '/' || b[1] == '\\' || strcspn(b, "\r\n") != strlen(b) ||
	    strlen(b) > ROVE_UI_MAX_URL - 16)
		return fallback;
	return b;
}

void ui_redirect_flag(ui_ctx *x, const char *to, const char *flag)
{
	int n = snprintf(x->location, sizeof(x->location), "%s%s%s=1", to, strchr(to, '?') != NULL ? "&" : "?", flag);

	if (n < 0 || (size_t)n >= sizeof(x->location))
		snprintf(x->location, sizeof(x->location), "/?%s=1", flag);
}

static void redirect_saved(ui_ctx *x, const char *to)
{
	ui_redirect_flag(x, to, "saved");
}

static const char *param_or_empty(const ui_ctx *x, const char *name)
{
	const char *v = ui_param_get(x, name);
	return v != NULL ? v : "";
}

/* Whether every parameter of the POST is one of names (NULL-ended) or
 * the CSRF token; says which is not (attack seventy-two: an activity's
 * `at` was dropped without a word, as the edit form's unknown fields
 * were before attack forty-five). */
static bool params_known(ui_ctx *x, const char *const *names)
{
	char q[ROVE_TEXT_QUOTE_BUF];

	for (size_t i = 0; i < x->nparams; i++) {
		const char *p = x->params[i].name;
		bool known = strcmp(p, "csrf") == 0;
		for (const char *const *n = names; !known && *n != NULL; n++)
			known = strcmp(p, *n) == 0;
		if (!known) {
			rove_error("unknown field '%s' (this form sends no such field)", rove_text_quote(p, strlen(p), q));
			return false;
		}
	}
	return true;
}

/* POST /customer/ID/VERB */
static void do_customer(ui_ctx *x, const char *cid, const char *verb)
{
	static const char *const activity_params[] = {"kind", "note", "location", "back", NULL};
	static const char *const claim_params[] = {"back", NULL};
	static const char *const release_params[] = {"reason", "back", NULL};
	char to[ROVE_UUID_STRLEN + 16];
	char *argv[16];
	int argc = 0, status;

	const char *const *known = strcmp(verb, "activity") == 0 ? activity_params
				   : strcmp(verb, "release") == 0  ? release_params
				   : strcmp(verb, "claim") == 0    ? claim_params
								   : NULL;

	snprintf(to, sizeof(to), "/customer/%s", cid);
	if (known != NULL && !params_known(x, known)) {
		status = ROVE_EXIT_USAGE;
	} else if (strcmp(verb, "activity") == 0) {
		const char *loc = param_or_empty(x, "location");
		argv[argc++] = "activity";
		argv[argc++] = "add";
		argv[argc++] = "--customer";
		argv[argc++] = (char *)cid;
		argv[argc++] = "--kind";
		argv[argc++] = (char *)param_or_empty(x, "kind");
		argv[argc++] = "--note";
		argv[argc++] = (char *)param_or_empty(x, "note");
		if (loc[0] != '\0') {
			argv[argc++] = "--location";
			argv[argc++] = (char *)loc;
		}
		argv[argc] = NULL;
		status = rec_add(x->cli, rove_schema_coll(ROVE_COLL_ACTIVITY), argc, argv);
	} else if (strcmp(verb, "claim") == 0 || strcmp(verb, "release") == 0) {
		const char *reason = param_or_empty(x, "reason");
		argv[argc++] = "customer";
		argv[argc++] = (char *)verb;
		argv[argc++] = (char *)cid;
		if (verb[0] == 'r' && reason[0] != '\0') {
			argv[argc++] = "--reason";
			argv[argc++] = (char *)reason;
		}
		argv[argc] = NULL;
		status = verb[0] == 'c' ? customer_claim(x->cli, rove_schema_coll(ROVE_COLL_CUSTOMER), argc, argv)
					: customer_release(x->cli, rove_schema_coll(ROVE_COLL_CUSTOMER), argc, argv);
	} else {
		ui_page_error(x, 404, "Not found", "no such action");
		return;
	}
	if (status == ROVE_EXIT_OK) {
		redirect_saved(x, to);
		return;
	}
	if (x->nerrors == 0)
		rove_error("the change was not made");
	x->status = 422;
	x->post = false;
	page_customer(x, cid);
}

/* POST /deal/ID/stage */
static void do_stage(ui_ctx *x, const char *did)
{
	char *argv[] = {"opportunity", "stage", (char *)did, (char *)param_or_empty(x, "stage"), NULL};
	size_t said = x->nerrors;
	int status = opportunity_stage(x->cli, rove_schema_coll(ROVE_COLL_OPPORTUNITY), 4, argv);

	if (status == ROVE_EXIT_OK && x->nerrors > said) {
		/* "at that stage already: nothing changed": no "saved" */
		snprintf(x->location, sizeof(x->location), "%s", ui_back_to(x, "/deals"));
		return;
	}
	if (status == ROVE_EXIT_OK) {
		redirect_saved(x, ui_back_to(x, "/deals"));
		return;
	}
	if (x->nerrors == 0)
		rove_error("the change was not made");
	x->status = 422;
	page_deals(x);
}

/* ---- routes ---- */

/* path is PREFIX ID [/ REST]: the id into id (at most a UUID's length),
 * the rest (after the slash, "" if none) returned; NULL if not so. */
static const char *path_id(const char *path, const char *prefix, char id[ROVE_UUID_STRLEN + 1])
{
	size_t pl = strlen(prefix), n;
	const char *p;

	if (strncmp(path, prefix, pl) != 0)
		return NULL;
	p = path + pl;
	n = strcspn(p, "/");
	if (n == 0 || n > ROVE_UUID_STRLEN)
		return NULL;
	memcpy(id, p, n);
	id[n] = '\0';
	return p[n] == '/' ? p + n + 1 : p + n;
}

void ui_route(ui_ctx *x)
{
	char id[ROVE_UUID_STRLEN + 1];
	const char *rest;

	if (!x->post) {
		if (strcmp(x->path, "/") == 0)
			ui_page_today(x);
		else if (strcmp(x->path, "/customers") == 0)
			page_customers(x);
		else if ((rest = path_id(x->path, "/customer/", id)) != NULL && rest[0] == '\0')
			page_customer(x, id);
		else if ((rest = path_id(x->path, "/customer/", id)) != NULL && strcmp(rest, "edit") == 0)
			ui_page_edit(x, id);
		else if (strcmp(x->path, "/deals/board") == 0)
			ui_page_board(x);
		else if (strcmp(x->path, "/admin") == 0)
			ui_page_admin(x);
		else if (strcmp(x->path, "/admin/user") == 0)
			ui_page_admin_user(x);
		else if (strcmp(x->path, "/deals") == 0)
			page_deals(x);
		else if (strcmp(x->path, "/sync") == 0)
			ui_page_sync(x);
		else if (strcmp(x->path, "/reports") == 0)
			ui_page_reports(x);
		else if (strncmp(x->path, "/reports/", 9) == 0)
			ui_report_csv(x, x->path + 9);
		else
			ui_page_error(x, 404, "Not found", x->path);
		return;
	}
	if (strcmp(x->path, "/lang") == 0) {
		const char *l = param_or_empty(x, "lang");
		snprintf(x->lang_cookie, sizeof(x->lang_cookie), "%s", strcmp(l, "zh") == 0 ? "zh" : "en");
		snprintf(x->location, sizeof(x->location), "%s", ui_back_to(x, "/"));
	} else if ((rest = path_id(x->path, "/customer/", id)) != NULL && rest[0] != '\0') {
		do_customer(x, id, rest);
	} else if ((rest = path_id(x->path, "/deal/", id)) != NULL && strcmp(rest, "stage") == 0) {
		do_stage(x, id);
	} else if (strncmp(x->path, "/admin/", 7) == 0) {
		ui_admin_post(x, x->path + 7);
	} else if (strncmp(x->path, "/edit/", 6) == 0 && (rest = strchr(x->path + 6, '/')) != NULL) {
		char coll[16];
		size_t n = (size_t)(rest - (x->path + 6));
		if (n >= sizeof(coll)) {
			ui_page_error(x, 404, "Not found", x->path);
			return;
		}
		memcpy(coll, x->path + 6, n);
		coll[n] = '\0';
		ui_edit_post(x, coll, rest + 1);
	} else if ((rest = path_id(x->path, "/rejected/", id)) != NULL &&
		   (strcmp(rest, "dismiss") == 0 || strcmp(rest, "retry") == 0)) {
		ui_do_rejected(x, id, rest);
	} else {
		ui_page_error(x, 404, "Not found", x->path);
	}
}
