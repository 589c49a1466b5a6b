/*
 * ui_today.c - on the Today page, the customers about to return to the
 * public pool and the days each has left.
 *
 * The server warns an owner (a recycle_warning notice) warn_days before a
 * customer with no follow-up goes back to the pool (server/policy_pool.c,
 * rule 11). The notice's text says the days left when it was made; the
 * page says them now: the territory's recycle_days less the days since
 * the customer's last follow-up (or its creation), by today's date on
 * this laptop. A customer followed up since then shows its new count; one
 * that is no longer the user's (recycled, reassigned, released) is not
 * shown.
 *
 * The page itself: notices, deals closing this month, recent activities,
 * pending changes and the last sync.
 */
#include "ui.h"
#include "rec.h"
#include "calendar.h"
#include "err.h"
#include "out.h"
#include "rules.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T(k) ui_t(x->lang, (k))

typedef struct at_risk {
	rove_uuid id;
	int64_t left;
	char name[ROVE_MAX_STR + 1];
	char last[ROVE_TIME_SIZE];
} at_risk;

typedef struct warn_walk {
	const char *user;
	rove_uuid ids[ROVE_UI_CARD_ROWS];
	size_t n;
} warn_walk;

/* The customers of the user's recycle warnings, each once. */
static int keep_warning(const rove_record *rec, void *arg)
{
	warn_walk *w = arg;
	const char *kind = rove_fields_str(&rec->fs, "kind"), *user = rove_fields_str(&rec->fs, "user");
	const char *cust = rove_fields_str(&rec->fs, "customer");
	rove_uuid id;

	if (rove_record_deleted(rec) || kind == NULL || strcmp(kind, "recycle_warning") != 0 || user == NULL ||
	    strcmp(user, w->user) != 0 || cust == NULL || rove_uuid_parse(cust, &id) != ROVE_OK)
		return ROVE_OK;
	for (size_t i = 0; i < w->n; i++)
		if (memcmp(&w->ids[i], &id, sizeof(id)) == 0)
			return ROVE_OK;
	if (w->n >= ROVE_UI_CARD_ROWS)
		return ROVE_EEXIST; /* enough for a page */
	w->ids[w->n++] = id;
	return ROVE_OK;
}

static int by_left(const void *a, const void *b)
{
	const at_risk *p = a, *q = b;
	return p->left < q->left ? -1 : p->left > q->left;
}

/* The days customer rec (the user's) has left, into *left; false when
 * no recycling rule applies to it any more. */
static bool days_left(rove_replica *r, const rove_record *rec, int64_t today, rove_record *scratch, int64_t *left,
		      const char **last)
{
	const char *terr = rove_fields_str(&rec->fs, "territory");
	int64_t ms, recycle = 0;
	bool zoned;

	*last = rove_fields_str(&rec->fs, "last_activity_at");
	if (*last == NULL)
		*last = rove_fields_str(&rec->fs, "created_at");
	if (*last == NULL || terr == NULL || !rove_cal_parse_time(*last, strlen(*last), &ms, &zoned))
		return false;
	if (rec_territory_by_code(r, terr, scratch) != ROVE_OK || !rove_fields_int(&scratch->fs, "recycle_days", &recycle) ||
	    recycle <= 0)
		return false;
	/* floor division: a day number, also before 1970 */
	*left = recycle - (today - (ms >= 0 ? ms / ROVE_DAY_MS : -((-ms + ROVE_DAY_MS - 1) / ROVE_DAY_MS)));
	return true;
}

void ui_today_days_left(ui_ctx *x, rove_replica *r)
{
	warn_walk *w = malloc(sizeof(*w));
	at_risk *v = malloc(ROVE_UI_CARD_ROWS * sizeof(*v));
	rove_record *rec = malloc(sizeof(*rec)), *scratch = malloc(sizeof(*scratch));
	int64_t today = (int64_t)(rove_replica_now_ms(r) / ROVE_DAY_MS);
	size_t n = 0;
	int rc;

	if (w == NULL || v == NULL || rec == NULL || scratch == NULL) {
		x->out.failed = true;
		goto out;
	}
	w->user = r->auth.user;
	w->n = 0;
	rc = rove_replica_each(r, ROVE_COLL_NOTICE, keep_warning, w);
	/* then the customers: one read at a time, after the walk */
	for (size_t i = 0; (rc == ROVE_OK || rc == ROVE_EEXIST) && i < w->n; i++) {
		const char *owner, *name, *last;
		int64_t left;
		if (rove_replica_get(r, ROVE_COLL_CUSTOMER, &w->ids[i], rec) != ROVE_OK || rove_record_deleted(rec))
			continue;
		owner = rove_fields_str(&rec->fs, "owner");
		if (owner == NULL || strcmp(owner, r->auth.user) != 0 || !days_left(r, rec, today, scratch, &left, &last))
			continue;
		name = rove_fields_str(&rec->fs, "name");
		v[n].id = w->ids[i];
		v[n].left = left;
		snprintf(v[n].name, sizeof(v[n].name), "%s", name != NULL ? name : "");
		snprintf(v[n].last, sizeof(v[n].last), "%s", last);
		n++;
	}
	ui_put(&x->out, "<h2>");
	ui_esc(&x->out, T("Returning to the public pool"));
	ui_put(&x->out, "</h2><table id=\"days-left\"><thead><tr><th scope=\"col\">");
	ui_esc(&x->out, T("Customer"));
	ui_put(&x->out, "</th><th scope=\"col\" class=\"num\">");
	ui_esc(&x->out, T("Days left"));
	ui_put(&x->out, "</th><th scope=\"col\">");
	ui_esc(&x->out, T("Last follow-up"));
	ui_put(&x->out, "</th></tr></thead><tbody>");
	if (n > 0)
		qsort(v, n, sizeof(v[0]), by_left);
	for (size_t i = 0; i < n; i++) {
		char id[ROVE_UUID_STRLEN + 1];
		rove_uuid_format(&v[i].id, id);
		ui_printf(&x->out, "<tr data-id=\"%s\" data-days=\"%lld\"><td><a href=\"customer/%s\">", id,
			  (long long)v[i].left, id);
		ui_esc(&x->out, v[i].name[0] != '\0' ? v[i].name : id);
		ui_printf(&x->out, "</a></td><td class=\"num%s\"><b>", v[i].left <= 3 ? " bad" : "");
		if (v[i].left <= 0) {
			ui_esc(&x->out, T("today"));
		} else {
			ui_printf(&x->out, "%lld", (long long)v[i].left);
			ui_put(&x->out, " ");
			ui_esc(&x->out, T(v[i].left == 1 ? "day" : "days"));
		}
		ui_put(&x->out, "</b></td><td>");
		ui_esc(&x->out, v[i].last);
		ui_put(&x->out, "</td></tr>");
	}
	if (n == 0) {
		ui_put(&x->out, "<tr><td colspan=\"3\" class=\"muted\">");
		ui_esc(&x->out, T("No records."));
		ui_put(&x->out, "</td></tr>");
	}
	ui_put(&x->out, "</tbody></table>");
out:
	free(w);
	free(v);
	free(rec);
	free(scratch);
}

/* ---- the page ---- */

typedef struct today_ctx {
	ui_ctx *x;
	char month[8]; /* YYYY-MM */
	const char *user;
	size_t n;
} today_ctx;

/* Deals of this month not closed: a row of the table. */
static int emit_closing(rec_list_ctx *lc, const rove_record *rec, bool pending)
{
	today_ctx *t = lc->arg;
	const char *close = rove_fields_str(&rec->fs, "expected_close");
	const char *stage = rove_fields_str(&rec->fs, "stage");
	rec_list_ctx row = *lc;

	if (close == NULL || strncmp(close, t->month, 7) != 0 ||
	    rove_rules_deal_closed(stage) || t->n >= ROVE_UI_CARD_ROWS)
		return ROVE_OK;
	t->n++;
	row.arg = t->x;
	return ui_emit_row(&row, rec, pending);
}

/* The same, read in order of expected close from the month's first:
 * stops when the table is full. */
static int closing_one(const rove_record *rec, bool pending, void *arg)
{
	rec_list_ctx *lc = arg;
	const today_ctx *t = lc->arg;

	return t->n >= ROVE_UI_CARD_ROWS ? ROVE_EEXIST /* enough */ : emit_closing(lc, rec, pending);
}

/* The month after month (YYYY-MM) into next: YYYY-MM, in room for what
 * any two ints print (the compiler cannot see the checks). */
#define MONTH_AFTER_SIZE 24
static void month_after(const char *month, char next[MONTH_AFTER_SIZE])
{
	int y = 0, m = 0;

	if (sscanf(month, "%4d-%2d", &y, &m) != 2 || m < 1 || m > 12 || y < 1 || y > 9998) {
		snprintf(next, MONTH_AFTER_SIZE, "9999-99");
		return;
	}
	snprintf(next, MONTH_AFTER_SIZE, "%04d-%02d", m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1);
}

static int emit_pending(const rove_op *op, bool sent, void *arg)
{
	today_ctx *t = arg;
	const rove_coll_def *c = rove_schema_coll(op->coll);
	char rid[ROVE_UUID_STRLEN + 1];

	if (t->n >= ROVE_UI_CARD_ROWS)
		return ROVE_EEXIST; /* enough: the count is in the header */
	t->n++;
	rove_uuid_format(&op->rid, rid);
	ui_put(&t->x->out, "<tr><td>");
	ui_esc(&t->x->out, c != NULL ? ui_t(t->x->lang, c->name) : "?");
	ui_put(&t->x->out, "</td><td>");
	ui_esc(&t->x->out, rove_op_kind_name(op->kind));
	ui_printf(&t->x->out, "</td><td><code>%s</code></td><td>%s</td></tr>", rid + ROVE_UUID_STRLEN - 12,
		  sent ? "sent" : "");
	return ROVE_OK;
}

void ui_last_sync(ui_ctx *x, rove_replica *r, rove_replica_status *st)
{
	char when[40];

	if (rove_replica_status_get(r, st) != ROVE_OK)
		memset(st, 0, sizeof(*st));
	ui_put(&x->out, "<div><span class=\"stat\" id=\"last-sync\">");
	ui_esc(&x->out, T("Last sync"));
	if (st->last_sync_ms != 0)
		out_time(st->last_sync_ms, when, sizeof(when));
	ui_put(&x->out, "<b>");
	ui_esc(&x->out, st->last_sync_ms != 0 ? when : T("never"));
	ui_put(&x->out, "</b></span><span class=\"stat\" id=\"pending-count\">");
	ui_esc(&x->out, T("Pending changes"));
	ui_printf(&x->out, "<b>%" PRIu64 "</b></span><span class=\"stat\" id=\"refused-count\">", st->pending);
	ui_esc(&x->out, T("Refused changes"));
	ui_printf(&x->out, "<b>%" PRIu64 "</b></span></div>", st->rejected);
}

void ui_page_today(ui_ctx *x)
{
	rec_list_ctx lc = {.c = rove_schema_coll(ROVE_COLL_NOTICE), .limit = ROVE_UI_CARD_ROWS};
	rove_replica_status st;
	today_ctx t = {x, "", NULL, 0};
	char now[40];
	rove_replica r;
	uint64_t damaged = 0;
	int rc = ROVE_OK;

	if (!ui_open_replica(x, &r))
		return;
	ui_page_head(x, &r, "Today", "Today");
	ui_last_sync(x, &r, &st);
	ui_put(&x->out, "<h2>");
	ui_esc(&x->out, T("My notices"));
	ui_put(&x->out, "</h2>");
	lc.sort = "at";
	lc.desc = true;
	ui_read_failed(x, ui_list_table(x, &r, &lc, "notices"));
	ui_today_days_left(x, &r);

	out_time(rove_replica_now_ms(&r), now, sizeof(now));
	snprintf(t.month, sizeof(t.month), "%.7s", now);
	t.user = r.auth.user;
	lc = (rec_list_ctx){.c = rove_schema_coll(ROVE_COLL_OPPORTUNITY), .sort = "expected_close"};
	ui_put(&x->out, "<h2>");
	ui_esc(&x->out, T("Deals expected to close this month"));
	ui_put(&x->out, "</h2>");
	ui_table_head(x, lc.c, "closing", "Change stage", true);
	lc.emit = emit_closing;
	lc.arg = &t;
	lc.r = &r; /* (the rows read their customer's name) */
	/* Only this month's deals, in the replica's order of expected close. */
	{
		char next[MONTH_AFTER_SIZE];
		month_after(t.month, next);
		rc = rove_replica_each_ordered(&r, lc.c->id, "expected_close", false, t.month, next, closing_one,
					       &lc);
		if (rc == ROVE_EEXIST)
			rc = ROVE_OK; /* the table is full */
	}
	lc.n = t.n;
	ui_table_foot(x, &lc, ui_ncolumns(lc.c) + 2);
	ui_read_failed(x, rc);

	lc = (rec_list_ctx){.c = rove_schema_coll(ROVE_COLL_ACTIVITY), .sort = "at", .desc = true, .limit = 10};
	ui_put(&x->out, "<h2>");
	ui_esc(&x->out, T("Recent activities"));
	ui_put(&x->out, "</h2>");
	ui_read_failed(x, ui_list_table(x, &r, &lc, "recent"));

	ui_put(&x->out, "<h2>");
	ui_esc(&x->out, T("Pending changes"));
	ui_put(&x->out, "</h2><table id=\"pending\"><tbody>");
	t.n = 0;
	rc = rove_replica_each_pending(&r, emit_pending, &t, &damaged);
	if (rc == ROVE_EEXIST)
		rc = ROVE_OK; /* the table is full */
	/* (some that do not decode: shown as not read) */
	if (rc == ROVE_OK && damaged > 0)
		rc = ROVE_EPROTO;
	if (t.n == 0 && rc == ROVE_OK) {
		ui_put(&x->out, "<tr><td class=\"muted\">");
		ui_esc(&x->out, T("No records."));
		ui_put(&x->out, "</td></tr>");
	}
	ui_put(&x->out, "</tbody></table>");
	ui_read_failed(x, rc);
	rove_replica_close(&r);
	ui_page_foot(x);
}

