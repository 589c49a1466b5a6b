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
 */
#include "ui.h"
#include "rec.h"
#include "calendar.h"
#include "err.h"

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
