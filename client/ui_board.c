/*
 * ui_board.c - the deals as a board: a column per stage, a card per
 * deal. Moving a deal is its stage form (a select and a button: usable
 * with the keyboard, no dragging), which runs `rove opportunity stage`.
 */
#include "ui.h"
#include "rec.h"
#include "err.h"
#include "out.h"
#include "rove_assert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T(k) ui_t(x->lang, (k))

/* Stages of the schema's opportunity: lead ... won, lost. */
#define UI_BOARD_STAGES 8

typedef struct board {
	ui_ctx *x;
	const char *const *stages;
	size_t nstages;
	ui_buf col[UI_BOARD_STAGES];
	size_t count[UI_BOARD_STAGES];
	int64_t amount[UI_BOARD_STAGES];
} board;

static int emit_card(rec_list_ctx *lc, const rove_record *rec, bool pending)
{
	board *b = lc->arg;
	ui_ctx *x = b->x;
	const char *stage = rove_fields_str(&rec->fs, "stage"), *title = rove_fields_str(&rec->fs, "title");
	const char *cust = rove_fields_str(&rec->fs, "customer"), *close = rove_fields_str(&rec->fs, "expected_close");
	const char *owner = rove_fields_str(&rec->fs, "owner");
	const rove_field_def *money = rove_schema_field(lc->c, "amount");
	const rove_field *f = rove_fields_get(&rec->fs, "amount");
	char id[ROVE_UUID_STRLEN + 1], text[64];
	ui_buf *out;
	size_t k;
	ui_buf keep;

	for (k = 0; k < b->nstages; k++)
		if (stage != NULL && strcmp(stage, b->stages[k]) == 0)
			break;
	if (k == b->nstages)
		k = 0; /* no stage: a lead */
	b->count[k]++;
	if (f != NULL && f->v.type == ROVE_V_INT)
		b->amount[k] += f->v.i;
	if (b->count[k] > ROVE_UI_PAGE_ROWS)
		return ROVE_OK; /* counted, not drawn */
	rove_uuid_format(&rec->id, id);
	/* the card is written into its column's buffer: x->out for a moment */
	keep = x->out;
	x->out = b->col[k];
	out = &x->out;
	ui_printf(out, "<li class=\"deal\" data-id=\"%s\"><a href=\"customer/", id);
	ui_esc(out, cust != NULL ? cust : "");
	ui_put(out, "\">");
	ui_esc(out, title != NULL ? title : id);
	ui_put(out, "</a>");
	if (pending)
		ui_put(out, " <span class=\"pending\" title=\"pending\">●</span>");
	ui_put(out, "<div class=\"muted\">");
	if (f != NULL && f->v.type == ROVE_V_INT) {
		out_value_text(money, &f->v, text, sizeof(text));
		ui_esc(out, text);
	}
	if (close != NULL) {
		ui_put(out, " · ");
		ui_esc(out, close);
	}
	if (owner != NULL) {
		ui_put(out, " · ");
		ui_esc(out, owner);
	}
	ui_put(out, "</div>");
	ui_stage_form(x, rec);
	ui_put(out, "</li>");
	b->col[k] = x->out;
	x->out = keep;
	if (b->col[k].failed)
		x->out.failed = true;
	return ROVE_OK;
}

void ui_page_board(ui_ctx *x)
{
	rec_list_ctx lc = {.c = rove_schema_coll(ROVE_COLL_OPPORTUNITY), .sort = "expected_close"};
	const rove_field_def *sf = rove_schema_field(lc.c, "stage");
	board b = {.x = x, .stages = sf->values};
	rove_replica r;
	int rc;

	while (b.stages[b.nstages] != NULL)
		b.nstages++;
	ROVE_ASSERT(b.nstages <= UI_BOARD_STAGES);
	if (!ui_open_replica(x, &r))
		return;
	ui_page_head(x, &r, "Deals", "Deals");
	ui_put(&x->out, "<p><a href=\"deals\" id=\"table-link\">");
	ui_esc(&x->out, T("Table"));
	ui_put(&x->out, "</a></p>");
	lc.emit = emit_card;
	lc.arg = &b;
	rc = rec_list_walk(&r, &lc);
	rove_replica_close(&r);
	ui_read_failed(x, rc);
	ui_put(&x->out, "<div class=\"board\" id=\"board\">");
	for (size_t k = 0; k < b.nstages; k++) {
		char amount[64];
		rove_value v = rove_vint(b.amount[k]);
		out_value_text(rove_schema_field(lc.c, "amount"), &v, amount, sizeof(amount));
		ui_printf(&x->out, "<section class=\"column\" id=\"col-%s\" aria-labelledby=\"h-%s\"><h2 id=\"h-%s\">",
			  b.stages[k], b.stages[k], b.stages[k]);
		ui_esc(&x->out, T(b.stages[k]));
		ui_printf(&x->out, " <span class=\"count\">%zu</span></h2><p class=\"muted\">", b.count[k]);
		ui_esc(&x->out, amount);
		ui_put(&x->out, "</p><ul>");
		if (b.col[k].len > 0)
			ui_putn(&x->out, b.col[k].data, b.col[k].len);
		ui_put(&x->out, "</ul>");
		if (b.count[k] > ROVE_UI_PAGE_ROWS) {
			ui_printf(&x->out, "<p><a href=\"deals?stage=%s\">", b.stages[k]);
			ui_esc(&x->out, T("All"));
			ui_printf(&x->out, " (%zu)</a></p>", b.count[k]);
		}
		ui_put(&x->out, "</section>");
		ui_buf_free(&b.col[k]);
	}
	ui_put(&x->out, "</div>");
	ui_page_foot(x);
}
