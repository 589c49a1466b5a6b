/*
 * ui_sync.h - rove ui's Sync button run in the background: POST
 * /sync/start begins a run, GET /sync/status tells its progress and, once
 * done, the page of its result.
 *
 * Why a module: the run outlives the request that starts it, and pages
 * keep being asked for while it runs; its state (a run at a time, its
 * figures) is kept here, apart from the HTTP layer (ui_server.c).
 *
 * The sync itself runs in a child process, `rove sync --json` (ui_sync.c
 * says why): pages are never held up by it.
 *
 * Ownership: the caller owns the ui_sync (ui_server.c's state); init
 * before the server starts, fini after it stopped.
 */
#ifndef ROVE_UI_SYNC_H
#define ROVE_UI_SYNC_H

#include "ui.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct ui_sync {
	rove_cli *cli;
	/* what GET /sync/status tells of the run in the background, and the
	 * pid of its rove sync (0: none); plock guards both and is held only
	 * briefly, so the status answers at once */
	pthread_mutex_t plock;
	struct ui_progress {
		bool running, done, snapshot;
		uint64_t pulled, cursor, head, chunks;
		char location[ROVE_UI_MAX_URL]; /* done: the result page */
		char error[ROVE_UI_MAX_ERRORS]; /* done without a location */
		size_t nerror;
	} prog;
	/* what the last run that succeeded said on stderr (a restored
	 * server's recovery, ...): its result page ("warned") shows it */
	char warn[ROVE_UI_MAX_ERRORS];
	size_t nwarn;
	pid_t child;
	/* the thread that waits for the run; only the request that sets
	 * prog.running starts (and joins the last) */
	pthread_t worker;
	bool worker_started;
} ui_sync;

/* Readies sy for cli's replica. */
void ui_sync_init(ui_sync *sy, rove_cli *cli);
/* Ends a run under way (its rove sync is stopped: the next resumes from
 * what it applied) and waits for it, then frees what init made. */
void ui_sync_fini(ui_sync *sy);
/* Whether the request is one of this module's (GET /sync/status, POST
 * /sync/start, POST /sync), answered without the request lock and
 * without the log's sink: none of them opens the replica or logs. */
bool ui_sync_unlocked(bool post, const char *path);
/* GET /sync/status: the run's figures, as JSON into x. */
void ui_sync_status(ui_sync *sy, ui_ctx *x);
/* POST /sync/start: a run begins in the background (202), or 409 while
 * one runs. */
void ui_sync_start(ui_sync *sy, ui_ctx *x);
/* POST /sync (the form without script): a run, waited for. True with
 * x->location its result page (or offline); false with x->status and
 * x->errors set: the Sync page (GET /sync, under the request lock) is to
 * show them. */
bool ui_sync_post(ui_sync *sy, ui_ctx *x);
/* The page a sync that returned rc leads to (its result, or offline)
 * into loc; false when rc is a failure to show instead. */
bool ui_sync_location(int rc, const rove_sync_stats *st, char *loc, size_t len);
/* GET /sync?...&warned=1 (a result page): what that run said beside its
 * result, into x->errors under its own title. */
void ui_sync_warnings(ui_sync *sy, ui_ctx *x);

#endif
