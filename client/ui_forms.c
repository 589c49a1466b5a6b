/*
 * ui_forms.c - the edit forms of `rove ui`: a customer's details, its
 * contacts, contracts and deals (amounts, expected close dates).
 *
 * A form shows each field a user may set (`rove COLLECTION set` takes
 * it: not the server's, not hidden, not the parent) with its value now;
 * a POST compares what came back with the record as the replica holds it
 * then, and runs `rove COLLECTION set ID FIELD=VALUE...` (rec_change)
 * with the fields that differ alone: the same parsing, validation,
 * precheck and outbox as the command, and a field nobody touched is not
 * written (it would undo a colleague's concurrent change of it). A
 * refused form comes back with the user's values and the reason.
 */
#include "ui.h"
#include "rec.h"
#include "err.h"
#include "log.h"
#include "out.h"
#include "rules.h"
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T(k) ui_t(x->lang, (k))

static const struct {
	const char *name;
	uint8_t coll;
} editable[] = {
	{"customer", ROVE_COLL_CUSTOMER},
	{"contact", ROVE_COLL_CONTACT},
	{"contract", ROVE_COLL_CONTRACT},
	{"opportunity", ROVE_COLL_OPPORTUNITY},
};

/* Whether a form shows field fd of c: what `set` takes; a deal's stage
 * moves by its own verb (the stage form, the board). */
static bool in_form(const rove_coll_def *c, const rove_field_def *fd)
{
	if (fd->flags & (ROVE_FF_SYSTEM | ROVE_FF_HIDDEN | ROVE_FF_PARENT))
		return false;
	return !(c->id == ROVE_COLL_OPPORTUNITY && strcmp(fd->name, "stage") == 0);
}

/* Field fd of rec as a form holds it: "" when absent; text as stored; a
 * number, a date, money as the command line writes them. */
static void field_text(const rove_field_def *fd, const rove_record *rec, char *out, size_t len)
{
	const rove_field *f = rove_fields_get(&rec->fs, fd->name);

	if (f == NULL || f->v.type == ROVE_V_NULL) {
		out[0] = '\0';
	} else if (f->v.type == ROVE_V_STR) {
		snprintf(out, len, "%.*s", (int)f->v.len, f->v.s);
	} else {
		out_value_text(fd, &f->v, out, len);
	}
}

/* A browser sends a textarea's lines with CR LF: as typed, LF. */
static void strip_cr(char *s)
{
	char *w = s;

	for (const char *p = s; *p != '\0'; p++)
		if (*p != '\r')
			*w++ = *p;
	*w = '\0';
}

/* The name of the hidden field that carries field's value as the form
 * showed it, in out. */
static const char *was_name(const char *field, char *out, size_t len)
{
	snprintf(out, len, "was_%s", field);
	return out;
}

/* The form of record rec of c. refill: the values the user sent (a form
 * refused), not the record's. A field the rules let no user of role
 * change by an update (a rep's customer's territory, his deal's owner;
 * anyone's deal's closed_on) is shown, disabled, with the
 * rules' reason as its title: a browser sends nothing for it, and the
 * form is not refused on save for a field its user left alone. Role 0
 * (a replica not yet synced): every field; the server decides. */
static void record_form(ui_ctx *x, const rove_coll_def *c, const rove_record *rec, bool refill, int role)
{
	char id[ROVE_UUID_STRLEN + 1], wn[ROVE_MAX_FIELD_NAME + 8], why[ROVE_MAX_ERRMSG + 1];
	const char *off;
	char *text = malloc(ROVE_MAX_STR + 64);

	if (text == NULL) {
		x->out.failed = true;
		return;
	}
	rove_uuid_format(&rec->id, id);
	ui_printf(&x->out, "<form class=\"stack edit\" method=\"post\" action=\"edit/%s/%s\" id=\"edit-%s\">", c->name,
		  id, id);
	ui_csrf_field(x);
	ui_printf(&x->out, "<input type=\"hidden\" name=\"rid\" value=\"%s\">", id);
	for (size_t i = 0; i < c->nfields; i++) {
		const rove_field_def *fd = &c->fields[i];
		const char *now;
		if (!in_form(c, fd))
			continue;
		field_text(fd, rec, text, ROVE_MAX_STR + 64);
		off = role != 0 && rove_rules_may_set(role, c->id, fd->name, why, sizeof(why)) != ROVE_R_NONE ? " disabled"
														: "";
		if (off[0] == '\0') {
			/* the value the user saw: a POST writes what the user
			 * changed, not what a colleague changed since the form
			 * was made */
			ui_printf(&x->out, "<input type=\"hidden\" name=\"was_%s\" value=\"", fd->name);
			ui_esc(&x->out, refill && ui_param_get(x, was_name(fd->name, wn, sizeof(wn))) != NULL
					     ? ui_param_get(x, wn)
					     : text);
			ui_put(&x->out, "\">");
		}
		now = refill && off[0] == '\0' && ui_param_get(x, fd->name) != NULL ? ui_param_get(x, fd->name) : text;
		ui_printf(&x->out, "<label for=\"e-%s-%s\"%s", id, fd->name, (fd->flags & ROVE_FF_LINES) ? " class=\"wide\"" : "");
		if (off[0] != '\0') {
			ui_put(&x->out, " title=\"");
			ui_esc(&x->out, why);
			ui_put(&x->out, "\"");
		}
		ui_put(&x->out, ">");
		ui_esc(&x->out, T(fd->name));
		if (fd->type == ROVE_FT_ENUM) {
			ui_printf(&x->out, "<select id=\"e-%s-%s\" name=\"%s\"%s><option value=\"\"></option>", id,
				  fd->name, fd->name, off);
			for (const char *const *v = fd->values; *v != NULL; v++) {
				ui_printf(&x->out, "<option value=\"%s\"%s>", *v, strcmp(now, *v) == 0 ? " selected" : "");
				ui_esc(&x->out, T(*v));
				ui_put(&x->out, "</option>");
			}
			ui_put(&x->out, "</select>");
		} else if (fd->flags & ROVE_FF_LINES) {
			ui_printf(&x->out, "<textarea id=\"e-%s-%s\" name=\"%s\"%s>", id, fd->name, fd->name, off);
			ui_esc(&x->out, now);
			ui_put(&x->out, "</textarea>");
		} else {
			const char *type = fd->type == ROVE_FT_DATE ? "date" : fd->type == ROVE_FT_EMAIL ? "email" : "text";
			ui_printf(&x->out, "<input type=\"%s\" id=\"e-%s-%s\" name=\"%s\"%s%s value=\"", type, id, fd->name,
				  fd->name, fd->type == ROVE_FT_MONEY ? " inputmode=\"decimal\"" : "", off);
			ui_esc(&x->out, now);
			ui_put(&x->out, "\">");
		}
		ui_put(&x->out, "</label>");
	}
	ui_printf(&x->out, "<div><button id=\"save-%s\">", id);
	ui_esc(&x->out, T("Save"));
	ui_put(&x->out, "</button></div></form>");
	free(text);
}

typedef struct forms_ctx {
	ui_ctx *x;
	const char *refill; /* the id of the record whose form was refused */
	int role;           /* the replica's (enum rove_role; 0: not known yet) */
} forms_ctx;

static int emit_form(rec_list_ctx *lc, const rove_record *rec, bool pending)
{
	forms_ctx *f = lc->arg;
	char id[ROVE_UUID_STRLEN + 1];

	(void)pending;
	rove_uuid_format(&rec->id, id);
	ui_put(&f->x->out, "<h3>");
	ui_esc(&f->x->out, rove_fields_str(&rec->fs, lc->c->fields[1].name) != NULL
				   ? rove_fields_str(&rec->fs, lc->c->fields[1].name)
				   : id);
	ui_put(&f->x->out, "</h3>");
	record_form(f->x, lc->c, rec, f->refill != NULL && strcmp(f->refill, id) == 0, f->role);
	return ROVE_OK;
}

void ui_page_edit(ui_ctx *x, const char *ids)
{
	static const struct {
		uint8_t coll;
		const char *title;
	} kids[] = {
		{ROVE_COLL_CONTACT, "Contacts"},
		{ROVE_COLL_CONTRACT, "Contracts"},
		{ROVE_COLL_OPPORTUNITY, "Deals"},
	};
	const rove_coll_def *c = rove_schema_coll(ROVE_COLL_CUSTOMER);
	forms_ctx f = {x, NULL, 0};
	rove_record *rec;
	rove_replica r;
	char cid[ROVE_UUID_STRLEN + 1];
	const char *name;

	if (x->post)
		f.refill = ui_param_get(x, "rid");
	if (!ui_open_record(x, ROVE_COLL_CUSTOMER, ids, &r, &rec, cid))
		return;
	f.role = rove_role_parse(r.role);
	if (f.role != 0 && !rove_rules_role_writes(f.role)) {
		/* an analyst's: every form would be refused */
		char why[ROVE_MAX_ERRMSG + 1];
		rove_rules_may_set(f.role, ROVE_COLL_CUSTOMER, "name", why, sizeof(why));
		rove_replica_close(&r);
		free(rec);
		x->nerrors = 0;
		ui_page_error(x, 403, "Forbidden", why);
		return;
	}
	name = rove_fields_str(&rec->fs, "name");
	ui_page_head(x, &r, "Edit", "Customers");
	ui_printf(&x->out, "<h2 id=\"customer-name\"><a href=\"customer/%s\">", cid);
	ui_esc(&x->out, name != NULL ? name : cid);
	ui_put(&x->out, "</a></h2><h3>");
	ui_esc(&x->out, T("Details"));
	ui_put(&x->out, "</h3>");
	record_form(x, c, rec, f.refill != NULL && strcmp(f.refill, cid) == 0, f.role);
	for (size_t k = 0; k < sizeof(kids) / sizeof(kids[0]); k++) {
		rec_list_ctx lc = {.c = rove_schema_coll(kids[k].coll), .parent = cid, .limit = ROVE_UI_CARD_ROWS};
		int rc;
		lc.emit = emit_form;
		lc.arg = &f;
		ui_printf(&x->out, "<h2 id=\"edit-%s\">", lc.c->name);
		ui_esc(&x->out, T(kids[k].title));
		ui_put(&x->out, "</h2>");
		rc = rec_list_walk(&r, &lc);
		if (rc != ROVE_OK) {
			ui_put(&x->out, "<p class=\"banner bad\">");
			ui_esc(&x->out, rove_strerror(rc));
			ui_put(&x->out, "</p>");
		} else if (lc.n == 0) {
			ui_put(&x->out, "<p class=\"muted\">");
			ui_esc(&x->out, T("No records."));
			ui_put(&x->out, "</p>");
		}
	}
	rove_replica_close(&r);
	free(rec);
	ui_page_foot(x);
}

/* The FIELD=VALUE words of the fields the user changed into argv from
 * argv[*argc] (each malloc'd; the caller frees them): a field differs
 * from the value the form showed (its was_ field), or, from a form
 * without them, from rec as the replica holds it now. A field of c the
 * form does not offer (the owner, the parent, the server's) is refused
 * as `set` refuses it: ROVE_EINVAL, reported. */
/* Whether the edit form of c could have sent a parameter so named: its
 * CSRF token, the record's id, a field of c or the value it showed
 * (was_FIELD). Any other is refused, as `set` refuses an unknown field
 * (attack forty-five: it was dropped without a word). */
static bool form_param(const rove_coll_def *c, const char *name)
{
	if (strcmp(name, "csrf") == 0 || strcmp(name, "rid") == 0)
		return true;
	if (strncmp(name, "was_", 4) == 0)
		name += 4;
	return rove_schema_field(c, name) != NULL;
}

static int changed_fields(ui_ctx *x, const rove_coll_def *c, const rove_record *rec, char **argv, int *argc, int max)
{
	char *now;
	char wn[ROVE_MAX_FIELD_NAME + 8], q[ROVE_TEXT_QUOTE_BUF];

	for (size_t i = 0; i < x->nparams; i++)
		if (!form_param(c, x->params[i].name)) {
			rove_error("unknown %s field '%s'", c->name,
				   rove_text_quote(x->params[i].name, strlen(x->params[i].name), q));
			return ROVE_EINVAL;
		}
	now = malloc(ROVE_MAX_STR + 64);
	if (now == NULL)
		return ROVE_ENOMEM;
	for (size_t i = 0; i < c->nfields; i++) {
		const rove_field_def *fd = &c->fields[i];
		const char *sent = ui_param_get(x, fd->name), *was = ui_param_get(x, was_name(fd->name, wn, sizeof(wn)));
		char *word, *v;
		size_t n;
		if (sent != NULL && !in_form(c, fd)) {
			rove_error("%s cannot be set here", fd->name);
			free(now);
			return ROVE_EINVAL;
		}
		if (sent == NULL)
			continue;
		if (was != NULL)
			snprintf(now, ROVE_MAX_STR + 64, "%s", was);
		else
			field_text(fd, rec, now, ROVE_MAX_STR + 64);
		n = strlen(fd->name) + 1 + strlen(sent) + 1;
		word = malloc(n);
		if (word == NULL || *argc >= max) {
			free(word);
			free(now);
			return ROVE_ENOMEM;
		}
		snprintf(word, n, "%s=%s", fd->name, sent);
		v = word + strlen(fd->name) + 1;
		/* a browser sends a textarea's lines with CR LF; elsewhere a CR
		 * is the user's, and validation refuses it */
		if (fd->flags & ROVE_FF_LINES) {
			strip_cr(v);
			strip_cr(now);
		}
		if (strcmp(v, now) == 0) {
			free(word);
			continue;
		}
		argv[(*argc)++] = word;
	}
	free(now);
	return ROVE_OK;
}

void ui_edit_post(ui_ctx *x, const char *coll, const char *ids)
{
	const rove_coll_def *c = NULL;
	char *argv[4 + 32];
	int argc = 0, status = ROVE_EXIT_FAIL, rc;
	char cid[ROVE_UUID_STRLEN + 1], rid[ROVE_UUID_STRLEN + 1], to[ROVE_UUID_STRLEN + 16];
	rove_record *rec;
	rove_replica r;

	for (size_t k = 0; k < sizeof(editable) / sizeof(editable[0]); k++)
		if (strcmp(coll, editable[k].name) == 0)
			c = rove_schema_coll(editable[k].coll);
	if (c == NULL) {
		ui_page_error(x, 404, "Not found", x->path);
		return;
	}
	if (!ui_open_record(x, c->id, ids, &r, &rec, rid))
		return;
	rove_replica_close(&r);
	snprintf(cid, sizeof(cid), "%s",
		 c->id == ROVE_COLL_CUSTOMER ? rid
					     : (rove_fields_str(&rec->fs, "customer") != NULL ? rove_fields_str(&rec->fs, "customer") : ""));
	argv[argc++] = (char *)c->name;
	argv[argc++] = "set";
	argv[argc++] = rid;
	rc = changed_fields(x, c, rec, argv, &argc, (int)(sizeof(argv) / sizeof(argv[0])) - 1);
	free(rec);
	argv[argc] = NULL;
	snprintf(to, sizeof(to), "/customer/%s", cid);
	if (rc != ROVE_OK) {
		if (rc != ROVE_EINVAL) /* reported */
			rove_error("cannot read the form: %s", rove_strerror(rc));
	} else if (argc == 3) {
		/* nothing changed: nothing to queue */
		snprintf(x->location, sizeof(x->location), "%s", to);
		status = ROVE_EXIT_OK;
	} else {
		status = rec_change(x->cli, c, argc, argv, false);
		if (status == ROVE_EXIT_OK)
			ui_redirect_flag(x, to, "saved");
	}
	for (int i = 3; i < argc; i++)
		free(argv[i]);
	if (status == ROVE_EXIT_OK)
		return;
	if (x->nerrors == 0)
		rove_error("the change was not made");
	x->status = 422;
	ui_page_edit(x, cid);
}
