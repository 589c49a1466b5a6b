/*
 * ui_refused.c - rove ui's Sync page: the Sync button (run by
 * ui_sync.c) and the refused changes, each with its reason, a retry
 * (with edits, as `rove rejected retry OP FIELD=VALUE...`) and a
 * dismiss (`rove rejected dismiss OP`).
 */
#include "ui.h"
#include "rec.h"
#include "err.h"
#include "log.h"
#include "out.h"
#include "sync.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T(k) ui_t(x->lang, (k))

typedef struct rj_page {
	ui_ctx *x;
	size_t n;
} rj_page;

static int emit_rejection(const rove_rejection *rj, const rove_rejection_state *st, void *arg)
{
	rj_page *p = arg;
	ui_ctx *x = p->x;
	const rove_coll_def *c = rove_schema_coll(rj->op.coll);
	char op[ROVE_UUID_STRLEN + 1], rid[ROVE_UUID_STRLEN + 1], when[40];

	if (st->dismissed)
		return ROVE_OK;
	p->n++;
	rove_uuid_format(&rj->op.op_id, op);
	rove_uuid_format(&rj->op.rid, rid);
	out_time(rj->time_ms, when, sizeof(when));
	ui_printf(&x->out, "<tr data-op=\"%s\"><td>", op);
	ui_esc(&x->out, when);
	ui_put(&x->out, "</td><td><b class=\"reason\">");
	ui_esc(&x->out, rove_reason_name(rj->reason));
	ui_put(&x->out, "</b><br><span class=\"detail\">");
	ui_esc(&x->out, rj->detail);
	ui_put(&x->out, "</span>");
	if (st->waiting) {
		ui_put(&x->out, "<br><span class=\"waiting\">");
		ui_esc(&x->out, T("Waits for its record: sent again once it is back"));
		ui_put(&x->out, "</span>");
	}
	ui_put(&x->out, "</td><td>");
	ui_esc(&x->out, c != NULL ? T(c->name) : "?");
	ui_put(&x->out, " ");
	ui_esc(&x->out, rove_op_kind_name(rj->op.kind));
	ui_printf(&x->out, " <code>%s</code><br>", rid + ROVE_UUID_STRLEN - 12);
	for (uint32_t i = 0; i < rj->op.fs.n; i++) {
		const rove_field *f = &rj->op.fs.f[i];
		const rove_field_def *fd = c != NULL ? rove_schema_field(c, f->name) : NULL;
		char text[ROVE_MAX_STR + 64];
		if (fd == NULL || (fd->flags & ROVE_FF_HIDDEN))
			continue;
		out_value_text(fd, &f->v, text, sizeof(text));
		ui_esc(&x->out, f->name);
		ui_put(&x->out, " = ");
		ui_esc(&x->out, text);
		ui_put(&x->out, "<br>");
	}
	/* Retry, with optional edits as `rove rejected retry OP
	 * FIELD=VALUE...` takes them: one a line. */
	ui_printf(&x->out, "</td><td><form class=\"stack\" method=\"post\" action=\"rejected/%s/retry\">", op);
	ui_csrf_field(x);
	ui_put(&x->out, "<details><summary>");
	ui_esc(&x->out, T("Edit before retrying"));
	ui_printf(&x->out, "</summary><label for=\"edits-%s\">", op);
	ui_esc(&x->out, T("FIELD=VALUE, one a line"));
	ui_printf(&x->out, "<textarea id=\"edits-%s\" name=\"edits\" rows=\"2\" placeholder=\"name=…\"></textarea></label>"
		  "</details><div><button class=\"quiet\" id=\"retry-%s\">", op, op);
	ui_esc(&x->out, T("Retry"));
	ui_printf(&x->out, "</button></div></form> <form class=\"inline\" method=\"post\" action=\"rejected/%s/dismiss\">", op);
	ui_csrf_field(x);
	ui_put(&x->out, "<button class=\"quiet\">");
	ui_esc(&x->out, T("Dismiss"));
	ui_put(&x->out, "</button></form></td></tr>");
	return ROVE_OK;
}

void ui_page_sync(ui_ctx *x)
{
	static const char *const counts[] = {"pushed", "accepted", "refused", "pulled"};
	rove_replica_status st;
	rj_page p = {x, 0};
	rove_replica r;
	uint64_t damaged = 0;
	int rc;

	if (!ui_open_replica(x, &r))
		return;
	ui_page_head(x, &r, "Sync", "Sync");
	if (ui_param_get(x, "offline") != NULL) {
		ui_put(&x->out, "<div class=\"banner off\" role=\"status\" id=\"sync-result\">");
		ui_esc(&x->out, T("Offline: the server cannot be reached. Your changes are kept."));
		ui_put(&x->out, "</div>");
	} else if (ui_param_get(x, "slow") != NULL) {
		ui_put(&x->out, "<div class=\"banner off\" role=\"status\" id=\"sync-result\">");
		ui_esc(&x->out, T("The server was reached but did not answer in time (a slow link?). Your changes are "
				  "kept, and the next sync goes on from there."));
		ui_put(&x->out, "</div>");
	} else if (ui_param_get(x, "pushed") != NULL) {
		ui_put(&x->out, "<div class=\"banner ok\" role=\"status\" id=\"sync-result\">");
		for (size_t i = 0; i < 4; i++) {
			const char *v = ui_param_get(x, counts[i]);
			ui_esc(&x->out, T(i == 0 ? "Pushed" : counts[i]));
			ui_put(&x->out, " <b>");
			ui_esc(&x->out, v != NULL ? v : "0");
			ui_put(&x->out, i < 3 ? "</b> · " : "</b>");
		}
		ui_put(&x->out, "</div>");
	}
	ui_last_sync(x, &r, &st);
	ui_put(&x->out, "<form method=\"post\" action=\"sync\" id=\"sync-form\">");
	ui_csrf_field(x);
	ui_printf(&x->out, "<button id=\"sync\" data-busy=\"%s…\">", T("Sync"));
	ui_esc(&x->out, T("Sync now"));
	ui_put(&x->out, "</button> <progress id=\"sync-progress\" hidden></progress><span id=\"sync-status\" "
		  "role=\"status\" aria-live=\"polite\"></span>");
	ui_printf(&x->out, "<span hidden id=\"sync-words\" data-pulling=\"%s\" data-of=\"%s\" data-items=\"%s\" "
		  "data-failed=\"%s\"></span></form><h2>", T("Pulling"), T("of"), T("items"), T("Sync failed"));
	ui_esc(&x->out, T("Refused changes"));
	ui_put(&x->out, "</h2><table id=\"refused\"><thead><tr><th scope=\"col\">");
	ui_esc(&x->out, T("Refused"));
	ui_put(&x->out, "</th><th scope=\"col\">");
	ui_esc(&x->out, T("Reason"));
	ui_put(&x->out, "</th><th scope=\"col\">");
	ui_esc(&x->out, T("Change"));
	ui_put(&x->out, "</th><th scope=\"col\"></th></tr></thead><tbody>");
	rc = rove_replica_each_rejection(&r, emit_rejection, &p, &damaged);
	/* (some that do not decode: shown as not read) */
	if (rc == ROVE_OK && damaged > 0)
		rc = ROVE_EPROTO;
	if (p.n == 0 && rc == ROVE_OK) {
		ui_put(&x->out, "<tr><td colspan=\"4\" class=\"muted\">");
		ui_esc(&x->out, T("No records."));
		ui_put(&x->out, "</td></tr>");
	}
	ui_put(&x->out, "</tbody></table>");
	ui_read_failed(x, rc);
	rove_replica_close(&r);
	ui_page_foot(x);
}

/* The most edits a retry's form takes: as many as a form has fields. */
#define UI_MAX_RETRY_EDITS ROVE_UI_MAX_PARAMS

/* POST /rejected/OP/dismiss|retry: `rove rejected dismiss|retry OP`, a
 * retry with the form's edits (FIELD=VALUE, one a line) after OP, as the
 * command takes them. */
void ui_do_rejected(ui_ctx *x, const char *op, const char *verb)
{
	char *argv[3 + UI_MAX_RETRY_EDITS + 1] = {"rejected", (char *)verb, (char *)op};
	const char *edits = strcmp(verb, "retry") == 0 ? ui_param_get(x, "edits") : NULL;
	char *copy = edits != NULL ? strdup(edits) : NULL;
	int argc = 3, status = ROVE_EXIT_USAGE;

	if (edits != NULL && copy == NULL) {
		x->out.failed = true;
		return;
	}
	for (char *line = copy, *next; line != NULL && *line != '\0'; line = next) {
		size_t n = strcspn(line, "\n");
		next = line[n] == '\n' ? line + n + 1 : line + n;
		line[n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (n == 0)
			continue;
		if (line[0] == '-') { /* an edit, never an option */
			rove_error("an edit is FIELD=VALUE, not %s", CLI_QUOTE(line));
			argc = -1;
			break;
		}
		if (argc == 3 + UI_MAX_RETRY_EDITS) {
			rove_error("at most %d edits in a retry", UI_MAX_RETRY_EDITS);
			argc = -1;
			break;
		}
		argv[argc++] = line;
	}
	if (argc >= 3) {
		argv[argc] = NULL;
		status = cmd_rejected(x->cli, argc, argv);
	}
	free(copy);
	if (status == ROVE_EXIT_OK) {
		ui_redirect_flag(x, "/sync", "saved");
		return;
	}
	if (x->nerrors == 0)
		rove_error("the change was not made");
	x->status = 422;
	ui_page_sync(x);
}

