/*
 * ui.h - `rove ui`: the replica in a browser, served from this laptop.
 *
 * Why a module: reps, managers and HQ are not terminal users. `rove ui`
 * serves the user's own replica on 127.0.0.1 with nng's HTTP server, so
 * it works offline and answers at LMDB speed. It re-implements no rule:
 * lists go through rec_view.c's filters (rec_list_walk), every change
 * runs the very command-line verb that makes it (rec_add, rec_change,
 * opportunity_stage, customer_claim ...: validation, precheck, outbox),
 * and sync is `rove sync` itself, run as a child process (ui_sync.c).
 *
 * The parts: ui_server.c (the HTTP server and its security: token, then
 * cookie; the Host header; POST with a CSRF token; headers), ui_pages.c
 * (the pages, HTML written on the server, every value escaped),
 * ui_html.c (the page buffer and escaping), ui_text.c (English and
 * Chinese), ui_sync.c (the Sync button), ui_assets.c (generated at
 * build time from client/ui/).
 *
 * Ownership: a request's ui_ctx lives on the handler's stack; its out
 * buffer is handed to nng's response (copied) and freed by the handler.
 * One request at a time (a mutex): the verbs open and close the replica
 * themselves, and LMDB wants one environment per file per process.
 */
#ifndef ROVE_UI_H
#define ROVE_UI_H

#include "cli.h"
#include "rec.h"
#include "sync.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* ---- the page buffer (ui_html.c) ---- */

/* Text being built; failed is sticky (out of memory, over
 * ROVE_UI_MAX_PAGE): the request then answers 500. */
typedef struct ui_buf {
	char *data;
	size_t len, cap;
	bool failed;
} ui_buf;

void ui_buf_free(ui_buf *b);
void ui_putn(ui_buf *b, const char *s, size_t n);
/* Trusted text: markup this program wrote. */
void ui_put(ui_buf *b, const char *s);
void ui_printf(ui_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Untrusted text (any record's value, anything a request carried): & < >
 * " ' written as entities, so that it is text in an element or a quoted
 * attribute, never markup. */
void ui_esc(ui_buf *b, const char *s);
void ui_escn(ui_buf *b, const char *s, size_t n);
/* s percent-encoded for a URL's query or path segment. */
void ui_urlenc(ui_buf *b, const char *s);

/* ---- languages (ui_text.c) ---- */

enum ui_lang { UI_EN = 0, UI_ZH = 1 };

/* The text with key in lang (the key itself, English, when there is no
 * translation: keys are English phrases). */
const char *ui_t(int lang, const char *key);
/* The language an Accept-Language header asks for first (zh or en;
 * NULL: en). */
int ui_lang_from_header(const char *accept);

/* ---- a request (ui_server.c fills it; ui_pages.c answers it) ---- */

typedef struct ui_param {
	const char *name, *value; /* decoded, in ui_ctx's arena */
} ui_param;

typedef struct ui_ctx {
	rove_cli *cli;
	bool post;
	const char *path;         /* decoded path, no query */
	const char *query;        /* the query as it came, still encoded ("": none) */
	int lang;
	const char *csrf;         /* the token every form carries */
	const char *base;         /* the session's path, "/s/SECRET/": the
				   * <base> every relative link resolves to */
	ui_param params[ROVE_UI_MAX_PARAMS];
	size_t nparams;
	/* the answer */
	int status;               /* 200 unless set */
	const char *type;         /* Content-Type; NULL: HTML */
	char location[ROVE_UI_MAX_URL]; /* set: a 303 to it */
	char lang_cookie[8];      /* set: the language chosen, as a cookie */
	char filename[64];        /* set: a download (Content-Disposition) */
	ui_buf out;
	/* what rove_error said while this request ran (ui_server.c's sink) */
	char errors[ROVE_UI_MAX_ERRORS];
	size_t nerrors;
	const char *errors_title; /* what the errors' banner says they are;
				   * NULL: "Not saved" (a form's) */
} ui_ctx;

/* A parameter of the query or the form body; NULL if absent. */
const char *ui_param_get(const ui_ctx *x, const char *name);

/* Answers x (GET pages and POST actions, after ui_server.c's checks). */
void ui_route(ui_ctx *x);

/* ---- what every page shares (ui_pages.c) ---- */

/* The page's head, header and navigation up to its <h1>title</h1>, and
 * the request's errors or "saved" banner; r (NULL: none) names the user.
 * current is the navigation entry to mark. */
void ui_page_head(ui_ctx *x, const rove_replica *r, const char *title, const char *current);
void ui_page_foot(ui_ctx *x);
/* A whole page saying what went wrong, with status. */
void ui_page_error(ui_ctx *x, int status, const char *title, const char *detail);
/* When rc is an error: a banner in the page saying it (what a part of
 * the page could not read is never shown as nothing to show). */
void ui_read_failed(ui_ctx *x, int rc);
/* Opens the replica for a page; false with an error page made. */
bool ui_open_replica(ui_ctx *x, rove_replica *r);
/* The record of collection coll whose id is the text ids, for a page:
 * the replica opened in *r and the record read into *rec (allocated;
 * the caller frees it and closes *r), the id's canonical text in idstr
 * (ROVE_UUID_STRLEN + 1 bytes). False with an error page made (a bad
 * or unknown id: 404) and nothing left open. */
bool ui_open_record(ui_ctx *x, uint8_t coll, const char *ids, rove_replica *r, rove_record **rec, char *idstr);
/* The hidden CSRF field every form carries. */
void ui_csrf_field(ui_ctx *x);

/* The lists of ui_pages.c, for the pages elsewhere: a table's head for
 * collection c (id: the table's id; extra: a last column's label or
 * NULL; customer: a column naming each row's customer), its foot (an
 * empty table says so; cols: its columns), its columns, one row (a
 * rec_list_ctx emit; lc->arg is the ui_ctx), and a whole table of lc's
 * records. */
void ui_table_head(ui_ctx *x, const rove_coll_def *c, const char *id, const char *extra, bool customer);
void ui_table_foot(ui_ctx *x, const rec_list_ctx *lc, size_t cols);
size_t ui_ncolumns(const rove_coll_def *c);
int ui_emit_row(rec_list_ctx *lc, const rove_record *rec, bool pending);
int ui_list_table(ui_ctx *x, rove_replica *r, rec_list_ctx *lc, const char *id);

/* The stage form of a deal: a select of the stages and a Move button
 * (POST /deal/ID/stage, back to this page). */
void ui_stage_form(ui_ctx *x, const rove_record *rec);
/* The page a form came from (its "back" field), if it is one of ours;
 * fallback otherwise. */
const char *ui_back_to(const ui_ctx *x, const char *fallback);
/* The answer to a change made: a 303 to page to with flag=1 added
 * ("saved": queued for the next sync; "done": made on the server). */
void ui_redirect_flag(ui_ctx *x, const char *to, const char *flag);
/* A form's field: a label and a text input named name (id f-NAME). */
void ui_text_input(ui_ctx *x, const char *name, const char *label, const char *value);

/* ---- Admin (ui_admin.c): the admin commands (cmd_admin.c) ---- */

/* Whether the replica's role may do act (enum rove_rules_act) as
 * rove_rules_may says; a replica that never synced knows no role yet:
 * the server decides. detail (NULL: not wanted) gets why not. */
bool ui_may(const rove_replica *r, int act, char *detail, size_t len);
/* GET /admin: the territory tree, the users, assign and reassign. */
void ui_page_admin(ui_ctx *x);
/* GET /admin/user?login=L: one user, disable/enable, a new token. */
void ui_page_admin_user(ui_ctx *x);
/* POST /admin/ACTION (user, assign, unassign, reassign). */
void ui_admin_post(ui_ctx *x, const char *action);
/* On a customer's card, for those who may reassign: the form. */
void ui_card_reassign(ui_ctx *x, const rove_replica *r, const char *cid);

/* ---- edit forms (ui_forms.c): `rove COLLECTION set` ---- */

/* GET /customer/ID/edit: a form for the customer's details and one for
 * each of its contacts, contracts and deals. */
void ui_page_edit(ui_ctx *x, const char *cid);
/* POST /edit/COLLECTION/ID: the fields that changed, as `rove
 * COLLECTION set ID FIELD=VALUE...`. */
void ui_edit_post(ui_ctx *x, const char *coll, const char *id);

/* ---- the deals board (ui_board.c) ---- */

/* GET /deals/board: a column per stage, a card per deal with its stage
 * form. */
void ui_page_board(ui_ctx *x);

/* ---- Today (ui_today.c) ---- */

/* GET /: notices, days left, deals closing this month, recent
 * activities, pending changes, the last sync. */
void ui_page_today(ui_ctx *x);
/* The last sync, pending and refused counts (Today's and Sync's). */
void ui_last_sync(ui_ctx *x, rove_replica *r, rove_replica_status *st);

/* The recycle warnings of r's user with the days left before each
 * customer returns to the public pool, computed now. */
void ui_today_days_left(ui_ctx *x, rove_replica *r);

/* ---- Sync and refused changes (ui_refused.c) ---- */

/* GET /sync: the Sync button, the last sync, the refused changes. */
void ui_page_sync(ui_ctx *x);
/* POST /rejected/OP/dismiss|retry (a retry with the form's edits). */
void ui_do_rejected(ui_ctx *x, const char *op, const char *verb);

/* ---- Reports (ui_reports.c) ---- */

/* GET /reports: the funnel, targets and daily trend as SVG with their
 * tables, over report.c's figures. */
void ui_page_reports(ui_ctx *x);
/* GET /reports/NAME.csv: `rove report NAME --csv`'s bytes, as a file. */
void ui_report_csv(ui_ctx *x, const char *name);

/* ---- embedded assets (ui_assets.c, generated) ---- */

typedef struct ui_asset {
	const char *name; /* "app.css" */
	const unsigned char *data;
	size_t len;
} ui_asset;

extern const ui_asset ui_assets[];
extern const size_t ui_nassets;

#endif
