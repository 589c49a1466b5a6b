/*
 * ui_admin.c - the Admin pages of `rove ui`: the territory tree, the
 * users (list, show, disable, enable, a new token shown once), assign
 * and unassign, and reassigning a customer or a departed rep's
 * territory.
 *
 * Every change is the admin command a user would type, run through
 * cmd_admin (cmd_admin.c): the same argument checks, the same role check
 * before sending (rove_rules_may), and the server decides; what it
 * refuses comes back to the page in its words (ui_server.c's sink). The
 * pages show what the server answers and the territories this replica
 * holds (a manager's: his subtree). Every value is written with ui_esc:
 * a territory or a login is the server's data, not markup.
 */
#include "ui.h"
#include "err.h"
#include "log.h"
#include "out.h"
#include "rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T(k) ui_t(x->lang, (k))

/* Levels of the territory tree drawn: deeper ones (a data error, or a
 * parent loop a hostile server sent) are not followed. */
#define UI_TREE_DEPTH 16

bool ui_may(const rove_replica *r, int act, char *detail, size_t len)
{
	char why[ROVE_MAX_ERRMSG + 1];
	int role = rove_role_parse(r->role);

	if (role == 0)
		return true; /* before the first sync: the server decides */
	if (rove_rules_may(role, act, why, sizeof(why)) == ROVE_R_NONE)
		return true;
	if (detail != NULL)
		snprintf(detail, len, "%s", why);
	return false;
}

/* The role of this replica's user, read from the replica (closed again:
 * the admin commands open it themselves); false with an error page. */
static bool read_role(ui_ctx *x, rove_replica *out)
{
	rove_replica r;

	if (!ui_open_replica(x, &r))
		return false;
	memset(out, 0, sizeof(*out));
	snprintf(out->role, sizeof(out->role), "%s", r.role);
	snprintf(out->auth.user, sizeof(out->auth.user), "%s", r.auth.user);
	rove_replica_close(&r);
	return true;
}

/* A 403 page: what the role may not do, in the rules' words. */
static void forbidden(ui_ctx *x, const char *why)
{
	x->nerrors = 0;
	ui_page_error(x, 403, "Forbidden", why);
}

/* ---- the territory tree (from the replica) ---- */

typedef struct terr_node {
	char code[ROVE_MAX_NAME + 1], name[ROVE_MAX_STR + 1], parent[ROVE_MAX_NAME + 1];
	int recycle, warn;
	bool drawn;
} terr_node;

typedef struct terr_list {
	terr_node *v;
	size_t n, cap;
	bool failed;
} terr_list;

static int keep_territory(const rove_record *rec, void *arg)
{
	terr_list *l = arg;
	const char *code = rove_fields_str(&rec->fs, "code"), *name = rove_fields_str(&rec->fs, "name");
	const char *parent = rove_fields_str(&rec->fs, "parent");
	int64_t v = 0;
	terr_node *t;

	if (rove_record_deleted(rec) || code == NULL)
		return ROVE_OK;
	if (l->n == l->cap) {
		size_t cap = l->cap != 0 ? 2 * l->cap : 64;
		terr_node *p = realloc(l->v, cap * sizeof(*p));
		if (p == NULL) {
			l->failed = true;
			return ROVE_ENOMEM;
		}
		l->v = p;
		l->cap = cap;
	}
	t = &l->v[l->n++];
	memset(t, 0, sizeof(*t));
	snprintf(t->code, sizeof(t->code), "%s", code);
	snprintf(t->name, sizeof(t->name), "%s", name != NULL ? name : "");
	snprintf(t->parent, sizeof(t->parent), "%s", parent != NULL ? parent : "");
	if (rove_fields_int(&rec->fs, "recycle_days", &v))
		t->recycle = (int)v;
	v = 0;
	if (rove_fields_int(&rec->fs, "warn_days", &v))
		t->warn = (int)v;
	return ROVE_OK;
}

static int by_code(const void *a, const void *b)
{
	return strcmp(((const terr_node *)a)->code, ((const terr_node *)b)->code);
}

static bool held(const terr_list *l, const char *code)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].code, code) == 0)
			return true;
	return false;
}

/* The children of parent (a code), each with its own below. */
static void draw_level(ui_ctx *x, terr_list *l, const char *parent, int depth)
{
	bool open = false;

	if (depth >= UI_TREE_DEPTH)
		return;
	for (size_t i = 0; i < l->n; i++) {
		terr_node *t = &l->v[i];
		bool root = t->parent[0] == '\0' || !held(l, t->parent);
		if (t->drawn || (parent == NULL ? !root : strcmp(t->parent, parent) != 0))
			continue;
		t->drawn = true;
		if (!open)
			ui_put(&x->out, "<ul>");
		open = true;
		ui_put(&x->out, "<li data-code=\"");
		ui_esc(&x->out, t->code);
		ui_put(&x->out, "\"><code>");
		ui_esc(&x->out, t->code);
		ui_put(&x->out, "</code> <span class=\"tname\">");
		ui_esc(&x->out, t->name);
		ui_put(&x->out, "</span>");
		if (t->recycle > 0) {
			ui_put(&x->out, " <span class=\"muted\">");
			ui_esc(&x->out, T("back to the pool after"));
			ui_printf(&x->out, " %d ", t->recycle);
			ui_esc(&x->out, T("days"));
			ui_put(&x->out, "</span>");
		}
		draw_level(x, l, t->code, depth + 1);
		ui_put(&x->out, "</li>");
	}
	if (open)
		ui_put(&x->out, "</ul>");
}

/* The territories r holds, sorted by code, into l; false with a banner. */
static bool read_territories(ui_ctx *x, rove_replica *r, terr_list *l)
{
	int rc = rove_replica_each(r, ROVE_COLL_TERRITORY, keep_territory, l);

	if (rc != ROVE_OK) {
		ui_put(&x->out, "<p class=\"banner bad\">");
		ui_esc(&x->out, rove_strerror(rc));
		ui_put(&x->out, "</p>");
		return false;
	}
	if (l->n > 0)
		qsort(l->v, l->n, sizeof(l->v[0]), by_code);
	return true;
}

static void territory_select(ui_ctx *x, const terr_list *l, const char *id, const char *name, const char *label)
{
	ui_printf(&x->out, "<label for=\"%s\">", id);
	ui_esc(&x->out, T(label));
	ui_printf(&x->out, "<select id=\"%s\" name=\"%s\">", id, name);
	for (size_t i = 0; i < l->n; i++) {
		ui_put(&x->out, "<option value=\"");
		ui_esc(&x->out, l->v[i].code);
		ui_put(&x->out, "\">");
		ui_esc(&x->out, l->v[i].code);
		ui_put(&x->out, " · ");
		ui_esc(&x->out, l->v[i].name);
		ui_put(&x->out, "</option>");
	}
	ui_put(&x->out, "</select></label>");
}

/* A text input for a login, offered the users of the datalist "users". */
static void login_input(ui_ctx *x, const char *id, const char *name, const char *label, const char *value)
{
	ui_printf(&x->out, "<label for=\"%s\">", id);
	ui_esc(&x->out, T(label));
	ui_printf(&x->out, "<input id=\"%s\" name=\"%s\" list=\"users\" autocomplete=\"off\" required value=\"", id,
		  name);
	ui_esc(&x->out, value != NULL ? value : "");
	ui_put(&x->out, "\"></label>");
}

static void form_open(ui_ctx *x, const char *action, const char *id, const char *back)
{
	ui_printf(&x->out, "<form class=\"stack\" method=\"post\" action=\"%s\" id=\"%s\">", action, id);
	ui_csrf_field(x);
	ui_put(&x->out, "<input type=\"hidden\" name=\"back\" value=\"");
	ui_esc(&x->out, back);
	ui_put(&x->out, "\">");
}

static void form_close(ui_ctx *x, const char *button_id, const char *label)
{
	ui_printf(&x->out, "<div><button id=\"%s\">", button_id);
	ui_esc(&x->out, T(label));
	ui_put(&x->out, "</button></div></form>");
}

/* ---- users (from the server) ---- */

typedef struct users_page {
	ui_ctx *x;
	ui_buf names; /* the datalist's options */
	size_t n;
	bool one;     /* a user's page, not the list */
} users_page;

static void user_when(const cli_admin_user *u, char *buf, size_t len)
{
	if (u->synced_ms != 0)
		out_time(u->synced_ms, buf, len);
	else
		snprintf(buf, len, "-");
}

static void emit_user(const cli_admin_user *u, void *arg)
{
	users_page *p = arg;
	ui_ctx *x = p->x;
	char when[40];

	p->n++;
	user_when(u, when, sizeof(when));
	ui_put(&p->names, "<option value=\"");
	ui_esc(&p->names, u->login);
	ui_put(&p->names, "\">");
	ui_put(&x->out, "<tr data-login=\"");
	ui_esc(&x->out, u->login);
	ui_put(&x->out, "\"><td><a href=\"admin/user?login=");
	ui_urlenc(&x->out, u->login);
	ui_put(&x->out, "\">");
	ui_esc(&x->out, u->login);
	ui_put(&x->out, "</a></td><td>");
	ui_esc(&x->out, T(u->role));
	ui_printf(&x->out, "</td><td class=\"%s\">", u->disabled ? "state bad" : "state");
	ui_esc(&x->out, T(u->disabled ? "disabled" : "enabled"));
	ui_put(&x->out, "</td><td>");
	ui_esc(&x->out, u->synced_ms != 0 ? when : T("never"));
	ui_put(&x->out, "</td><td>");
	for (uint32_t t = 0; t < u->nterr; t++) {
		if (t > 0)
			ui_put(&x->out, ", ");
		ui_put(&x->out, "<code>");
		ui_esc(&x->out, u->terr[t]);
		ui_put(&x->out, "</code>");
	}
	ui_put(&x->out, "</td></tr>");
}

/* The errors reported since mark, as a banner in the page (and no more
 * in the head's): what the server said to a read. */
static void errors_since(ui_ctx *x, size_t mark)
{
	bool offline;

	if (x->nerrors <= mark)
		return;
	offline = strstr(x->errors + mark, "cannot reach the server") != NULL;
	ui_printf(&x->out, "<div class=\"banner %s\" role=\"alert\" id=\"users-error\">", offline ? "off" : "bad");
	if (offline) {
		ui_esc(&x->out, T("Users are kept on the server; connect to see them."));
		ui_put(&x->out, " ");
	}
	ui_escn(&x->out, x->errors + mark, x->nerrors - mark);
	ui_put(&x->out, "</div>");
	x->nerrors = mark;
	x->errors[mark] = '\0';
}

static void users_table_head(ui_ctx *x, const char *id)
{
	static const char *const cols[] = {"User", "Role", "State", "Last sync", "Territories"};

	ui_printf(&x->out, "<table id=\"%s\"><thead><tr>", id);
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		ui_put(&x->out, "<th scope=\"col\">");
		ui_esc(&x->out, T(cols[i]));
		ui_put(&x->out, "</th>");
	}
	ui_put(&x->out, "</tr></thead><tbody>");
}

void ui_page_admin(ui_ctx *x)
{
	terr_list l = {0};
	users_page p = {x, {0}, 0, false};
	char why[ROVE_MAX_ERRMSG + 1];
	bool see, administer, reassign;
	rove_replica r;
	size_t mark;

	if (!ui_open_replica(x, &r))
		return;
	see = ui_may(&r, ROVE_ACT_SEE_USERS, why, sizeof(why));
	reassign = ui_may(&r, ROVE_ACT_REASSIGN, NULL, 0);
	administer = ui_may(&r, ROVE_ACT_ADMINISTER, NULL, 0);
	if (!see && !reassign) {
		rove_replica_close(&r);
		forbidden(x, why);
		return;
	}
	ui_page_head(x, &r, "Admin", "Admin");
	ui_put(&x->out, "<div class=\"grid2\"><section><h2>");
	ui_esc(&x->out, T("Territories"));
	ui_put(&x->out, "</h2><div class=\"tree\" id=\"territories\">");
	if (read_territories(x, &r, &l)) {
		draw_level(x, &l, NULL, 0);
		if (l.n == 0) {
			ui_put(&x->out, "<p class=\"muted\">");
			ui_esc(&x->out, T("No records."));
			ui_put(&x->out, "</p>");
		}
	}
	ui_put(&x->out, "</div></section><section>");
	/* the admin commands open the replica themselves */
	rove_replica_close(&r);

	if (administer) {
		ui_put(&x->out, "<h2>");
		ui_esc(&x->out, T("Assign a territory"));
		ui_put(&x->out, "</h2>");
		form_open(x, "admin/assign", "assign-form", "/admin");
		login_input(x, "as-user", "user", "User", NULL);
		territory_select(x, &l, "as-code", "territory", "Territory");
		ui_put(&x->out, "<div><button id=\"assign\" name=\"verb\" value=\"assign\">");
		ui_esc(&x->out, T("Assign"));
		ui_put(&x->out, "</button> <button class=\"quiet\" id=\"unassign\" name=\"verb\" value=\"unassign\">");
		ui_esc(&x->out, T("Unassign"));
		ui_put(&x->out, "</button></div></form>");
	}
	if (reassign) {
		ui_put(&x->out, "<h2>");
		ui_esc(&x->out, T("Reassign a customer"));
		ui_put(&x->out, "</h2>");
		form_open(x, "admin/reassign", "reassign-customer-form", "/admin");
		ui_text_input(x, "customer", "Customer (its id, or the start or end of it)", ui_param_get(x, "customer"));
		login_input(x, "rc-to", "to", "New owner", NULL);
		form_close(x, "reassign-customer", "Reassign");
		ui_put(&x->out, "<h2>");
		ui_esc(&x->out, T("Reassign a departed rep's territory"));
		ui_put(&x->out, "</h2>");
		form_open(x, "admin/reassign", "reassign-territory-form", "/admin");
		territory_select(x, &l, "rt-code", "territory", "Territory");
		login_input(x, "rt-from", "from", "From", NULL);
		login_input(x, "rt-to", "to", "To", NULL);
		form_close(x, "reassign-territory", "Reassign");
	}
	ui_put(&x->out, "</section></div>");

	if (see) {
		ui_put(&x->out, "<h2>");
		ui_esc(&x->out, T("Users"));
		ui_put(&x->out, "</h2>");
		users_table_head(x, "users");
		mark = x->nerrors;
		(void)cmd_admin_users(x->cli, NULL, emit_user, &p);
		if (p.n == 0) {
			ui_put(&x->out, "<tr><td colspan=\"5\" class=\"muted\">");
			ui_esc(&x->out, T("No records."));
			ui_put(&x->out, "</td></tr>");
		}
		ui_put(&x->out, "</tbody></table>");
		errors_since(x, mark);
	}
	ui_put(&x->out, "<datalist id=\"users\">");
	if (p.names.len > 0)
		ui_putn(&x->out, p.names.data, p.names.len);
	ui_put(&x->out, "</datalist>");
	if (p.names.failed)
		x->out.failed = true;
	ui_buf_free(&p.names);
	free(l.v);
	ui_page_foot(x);
}

/* ---- one user ---- */

typedef struct user_page {
	ui_ctx *x;
	bool found, disabled, administer;
	ui_buf terr; /* the unassign buttons */
} user_page;

static void emit_one(const cli_admin_user *u, void *arg)
{
	user_page *p = arg;
	ui_ctx *x = p->x;
	char when[40];

	p->found = true;
	p->disabled = u->disabled;
	user_when(u, when, sizeof(when));
	ui_put(&x->out, "<dl class=\"card\" id=\"user\"><dt>");
	ui_esc(&x->out, T("User"));
	ui_put(&x->out, "</dt><dd id=\"user-login\">");
	ui_esc(&x->out, u->login);
	ui_put(&x->out, "</dd><dt>");
	ui_esc(&x->out, T("Role"));
	ui_put(&x->out, "</dt><dd>");
	ui_esc(&x->out, T(u->role));
	ui_put(&x->out, "</dd><dt>");
	ui_esc(&x->out, T("State"));
	ui_put(&x->out, "</dt><dd id=\"user-state\">");
	ui_esc(&x->out, T(u->disabled ? "disabled" : "enabled"));
	ui_put(&x->out, "</dd><dt>");
	ui_esc(&x->out, T("Last sync"));
	ui_put(&x->out, "</dt><dd>");
	ui_esc(&x->out, u->synced_ms != 0 ? when : T("never"));
	ui_put(&x->out, "</dd><dt>");
	ui_esc(&x->out, T("Territories"));
	ui_put(&x->out, "</dt><dd><ul id=\"user-territories\">");
	for (uint32_t t = 0; t < u->nterr; t++) {
		ui_put(&x->out, "<li><code>");
		ui_esc(&x->out, u->terr[t]);
		ui_put(&x->out, "</code>");
		if (p->administer) {
			ui_put(&x->out, " <form class=\"inline\" method=\"post\" action=\"admin/assign\">");
			ui_csrf_field(x);
			ui_put(&x->out, "<input type=\"hidden\" name=\"user\" value=\"");
			ui_esc(&x->out, u->login);
			ui_put(&x->out, "\"><input type=\"hidden\" name=\"territory\" value=\"");
			ui_esc(&x->out, u->terr[t]);
			ui_put(&x->out, "\"><input type=\"hidden\" name=\"back\" value=\"/admin/user?login=");
			ui_urlenc(&x->out, u->login);
			ui_put(&x->out, "\"><button class=\"quiet\" name=\"verb\" value=\"unassign\">");
			ui_esc(&x->out, T("Unassign"));
			ui_put(&x->out, "</button></form>");
		}
		ui_put(&x->out, "</li>");
	}
	ui_put(&x->out, "</ul></dd></dl>");
}

/* The page of user login; token (NULL: none) a new token to show once. */
static void user_page_of(ui_ctx *x, const char *login, const char *token)
{
	user_page p = {x, false, false, false, {0}};
	char why[ROVE_MAX_ERRMSG + 1], back[ROVE_UI_MAX_URL];
	terr_list l = {0};
	rove_replica r;
	size_t mark, said;
	ui_buf enc = {0}, page, user = {0};
	int status;

	if (!ui_open_replica(x, &r))
		return;
	if (!ui_may(&r, ROVE_ACT_SEE_USERS, why, sizeof(why))) {
		rove_replica_close(&r);
		forbidden(x, why);
		return;
	}
	p.administer = ui_may(&r, ROVE_ACT_ADMINISTER, NULL, 0);
	rove_replica_close(&r); /* (the command opens it) */
	/* The user first, into a buffer of its own: one the server does not
	 * show this user (none such, or outside a manager's reach) is not
	 * found, a 404 whichever it is, not a page without him. */
	mark = x->nerrors;
	page = x->out;
	x->out = (ui_buf){0};
	status = cmd_admin_users(x->cli, login, emit_one, &p);
	user = x->out;
	x->out = page;
	if (!p.found && status != ROVE_EXIT_UNREACH) {
		ui_buf_free(&user);
		x->nerrors = mark; /* the page says it */
		x->errors[mark] = '\0';
		ui_page_error(x, 404, "Not found", "no such user");
		return;
	}
	if (!ui_open_replica(x, &r)) { /* (its page made) */
		ui_buf_free(&user);
		return;
	}
	said = x->nerrors;
	x->nerrors = mark; /* said below the user, not as "not saved" */
	/* nobody disables himself (the server's rule): no button for it */
	bool self = strcmp(login, r.auth.user) == 0;
	ui_page_head(x, &r, "User", "Admin");
	(void)read_territories(x, &r, &l);
	rove_replica_close(&r);
	if (token != NULL) {
		ui_put(&x->out, "<div class=\"banner ok\" role=\"status\"><p>");
		ui_esc(&x->out, T("The new token, shown this once (the old one no longer works):"));
		ui_put(&x->out, "</p><p><code id=\"new-token\">");
		ui_esc(&x->out, token);
		ui_put(&x->out, "</code></p><p>");
		ui_esc(&x->out, T("The user runs: rove config token NEW"));
		ui_put(&x->out, "</p></div>");
	}
	x->nerrors = said;
	if (user.failed)
		x->out.failed = true;
	else if (user.len > 0)
		ui_putn(&x->out, user.data, user.len);
	ui_buf_free(&user);
	errors_since(x, mark);
	ui_urlenc(&enc, login);
	snprintf(back, sizeof(back), "/admin/user?login=%s", enc.data != NULL && !enc.failed ? enc.data : "");
	ui_buf_free(&enc);
	if (p.found && p.administer) {
		ui_put(&x->out, "<div class=\"actions\">");
		if (!self) {
			ui_put(&x->out, "<form class=\"inline\" method=\"post\" action=\"admin/user\" id=\"state-form\">");
			ui_csrf_field(x);
			ui_put(&x->out, "<input type=\"hidden\" name=\"login\" value=\"");
			ui_esc(&x->out, login);
			ui_printf(&x->out, "\"><button id=\"%s\" name=\"verb\" value=\"%s\">",
				  p.disabled ? "enable" : "disable", p.disabled ? "enable" : "disable");
			ui_esc(&x->out, T(p.disabled ? "Enable" : "Disable"));
			ui_put(&x->out, "</button></form> ");
		}
		ui_put(&x->out, "<form class=\"inline\" method=\"post\" action=\"admin/user\" "
				"id=\"token-form\" data-confirm=\"");
		ui_esc(&x->out, T("Make a new token? The old one stops working at once."));
		ui_put(&x->out, "\">");
		ui_csrf_field(x);
		ui_put(&x->out, "<input type=\"hidden\" name=\"login\" value=\"");
		ui_esc(&x->out, login);
		ui_put(&x->out, "\"><button class=\"quiet\" id=\"new-token-button\" name=\"verb\" value=\"token\">");
		ui_esc(&x->out, T("New token"));
		ui_put(&x->out, "</button></form></div><h2>");
		ui_esc(&x->out, T("Assign a territory"));
		ui_put(&x->out, "</h2>");
		form_open(x, "admin/assign", "assign-form", back);
		ui_put(&x->out, "<input type=\"hidden\" name=\"user\" value=\"");
		ui_esc(&x->out, login);
		ui_put(&x->out, "\">");
		territory_select(x, &l, "as-code", "territory", "Territory");
		ui_put(&x->out, "<div><button id=\"assign\" name=\"verb\" value=\"assign\">");
		ui_esc(&x->out, T("Assign"));
		ui_put(&x->out, "</button></div></form>");
	}
	ui_put(&x->out, "<p><a href=\"admin\">");
	ui_esc(&x->out, T("Admin"));
	ui_put(&x->out, "</a></p>");
	free(l.v);
	ui_page_foot(x);
}

void ui_page_admin_user(ui_ctx *x)
{
	const char *login = ui_param_get(x, "login");

	if (login == NULL || login[0] == '\0') {
		ui_page_error(x, 404, "Not found", "no such user");
		return;
	}
	user_page_of(x, login, NULL);
}

/* ---- the changes ---- */

/* A form's value for an argument of an admin command: present, and not
 * one the command line would read as an option. NULL (said) if not. */
static const char *arg_of(ui_ctx *x, const char *name)
{
	const char *v = ui_param_get(x, name);

	if (v == NULL || v[0] == '\0') {
		rove_error("missing %s", name);
		return NULL;
	}
	if (v[0] == '-') {
		rove_error("invalid %s %s", name, CLI_QUOTE(v));
		return NULL;
	}
	return v;
}

/* After a refused change: the page it came from again, with the reason. */
static void refused(ui_ctx *x, int status)
{
	const char *back = ui_back_to(x, "/admin");

	if (x->nerrors == 0)
		rove_error("the change was not made");
	x->status = status;
	x->post = false;
	if (strncmp(back, "/admin/user?login=", 18) == 0) {
		const char *login = ui_param_get(x, "login");
		if (login == NULL)
			login = ui_param_get(x, "user");
		if (login != NULL) {
			user_page_of(x, login, NULL);
			return;
		}
	}
	ui_page_admin(x);
}

/* POST /admin/user: verb disable, enable or token, of login. */
static void post_user(ui_ctx *x)
{
	const char *verb = ui_param_get(x, "verb"), *login = arg_of(x, "login");
	char *argv[5] = {"admin", "user", NULL, (char *)login, NULL};
	char back[ROVE_UI_MAX_URL];
	char *token = NULL;
	size_t tlen = 0;
	FILE *f;
	int status;
	ui_buf enc = {0};

	if (login == NULL) {
		refused(x, 422);
		return;
	}
	if (verb == NULL || (strcmp(verb, "disable") != 0 && strcmp(verb, "enable") != 0 && strcmp(verb, "token") != 0)) {
		ui_page_error(x, 404, "Not found", "no such action");
		return;
	}
	argv[2] = (char *)verb;
	if (strcmp(verb, "token") != 0) {
		status = cmd_admin(x->cli, 4, argv);
		if (status != ROVE_EXIT_OK) {
			refused(x, 422);
			return;
		}
		ui_urlenc(&enc, login);
		snprintf(back, sizeof(back), "/admin/user?login=%s", enc.data != NULL && !enc.failed ? enc.data : "");
		ui_buf_free(&enc);
		ui_redirect_flag(x, back, "done");
		return;
	}
	/* The new token: shown once, in this answer (never in a URL). */
	f = open_memstream(&token, &tlen);
	if (f == NULL) {
		x->out.failed = true;
		return;
	}
	status = cmd_admin_to(x->cli, 4, argv, f);
	if (fclose(f) != 0 && status == ROVE_EXIT_OK) {
		rove_error("cannot keep the new token: out of memory");
		status = ROVE_EXIT_FAIL;
	}
	if (status != ROVE_EXIT_OK) {
		free(token);
		refused(x, 422);
		return;
	}
	tlen = strcspn(token, "\n");
	token[tlen] = '\0';
	x->post = false;
	user_page_of(x, login, token);
	free(token);
}

/* POST /admin/assign: verb assign or unassign, user, territory. */
static void post_assign(ui_ctx *x)
{
	const char *verb = ui_param_get(x, "verb"), *user = arg_of(x, "user"), *code = NULL;
	char *argv[5];
	int status;

	if (user != NULL)
		code = arg_of(x, "territory");
	if (user == NULL || code == NULL) {
		refused(x, 422);
		return;
	}
	argv[0] = "admin";
	argv[1] = verb != NULL && strcmp(verb, "unassign") == 0 ? "unassign" : "assign";
	argv[2] = (char *)user;
	argv[3] = (char *)code;
	argv[4] = NULL;
	status = cmd_admin(x->cli, 4, argv);
	if (status != ROVE_EXIT_OK) {
		refused(x, 422);
		return;
	}
	ui_redirect_flag(x, ui_back_to(x, "/admin"), "done");
}

/* POST /admin/reassign: customer and to, or territory, from and to. */
static void post_reassign(ui_ctx *x)
{
	const char *customer = ui_param_get(x, "customer"), *to = arg_of(x, "to"), *terr = NULL, *from = NULL;
	char *argv[9];
	int argc = 0, status;

	if (to == NULL) {
		refused(x, 422);
		return;
	}
	argv[argc++] = "admin";
	argv[argc++] = "reassign";
	if (customer != NULL) {
		if ((customer = arg_of(x, "customer")) == NULL) {
			refused(x, 422);
			return;
		}
		argv[argc++] = "--customer";
		argv[argc++] = (char *)customer;
	} else {
		terr = arg_of(x, "territory");
		if (terr != NULL)
			from = arg_of(x, "from");
		if (terr == NULL || from == NULL) {
			refused(x, 422);
			return;
		}
		argv[argc++] = "--territory";
		argv[argc++] = (char *)terr;
		argv[argc++] = "--from";
		argv[argc++] = (char *)from;
	}
	argv[argc++] = "--to";
	argv[argc++] = (char *)to;
	argv[argc] = NULL;
	status = cmd_admin(x->cli, argc, argv);
	if (status != ROVE_EXIT_OK) {
		refused(x, 422);
		return;
	}
	ui_redirect_flag(x, ui_back_to(x, "/admin"), "done");
}

void ui_admin_post(ui_ctx *x, const char *action)
{
	char why[ROVE_MAX_ERRMSG + 1];
	rove_replica who;
	int act = strcmp(action, "reassign") == 0 ? ROVE_ACT_REASSIGN : ROVE_ACT_ADMINISTER;

	if (strcmp(action, "user") != 0 && strcmp(action, "assign") != 0 && strcmp(action, "reassign") != 0) {
		ui_page_error(x, 404, "Not found", x->path);
		return;
	}
	/* The command checks the role too; here the answer is a 403 page. */
	if (!read_role(x, &who))
		return;
	if (!ui_may(&who, act, why, sizeof(why))) {
		forbidden(x, why);
		return;
	}
	if (strcmp(action, "user") == 0)
		post_user(x);
	else if (strcmp(action, "assign") == 0)
		post_assign(x);
	else
		post_reassign(x);
}

/* ---- on the card ---- */

void ui_card_reassign(ui_ctx *x, const rove_replica *r, const char *cid)
{
	char back[ROVE_UUID_STRLEN + 16];

	if (!ui_may(r, ROVE_ACT_REASSIGN, NULL, 0) || rove_role_parse(r->role) == 0)
		return;
	snprintf(back, sizeof(back), "/customer/%s", cid);
	ui_put(&x->out, "</p><form class=\"inline\" method=\"post\" action=\"admin/reassign\" id=\"card-reassign\">");
	ui_csrf_field(x);
	ui_printf(&x->out, "<input type=\"hidden\" name=\"customer\" value=\"%s\">"
			   "<input type=\"hidden\" name=\"back\" value=\"%s\"><label for=\"card-to\">",
		  cid, back);
	ui_esc(&x->out, T("New owner"));
	ui_put(&x->out, "<input id=\"card-to\" name=\"to\" required></label><button class=\"quiet\" id=\"card-reassign-button\">");
	ui_esc(&x->out, T("Reassign"));
	ui_put(&x->out, "</button></form><p>");
}
