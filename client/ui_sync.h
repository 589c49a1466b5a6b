/*
 * ui_sync.h - rove ui's Sync button run in the background: POST
 * /sync/start begins a run, GET /sync/status tells its progress and, once
 * done, the page of its result.
 *
 * Why a module: the run outlives the request that starts it, and pages
 * keep being asked for while it runs; its state (a run at a time, its
 * figures) is kept here, apart from the HTTP layer (ui_server.c).
 *
 * Ownership: the caller owns the ui_sync (ui_server.c's state); init
 * before the server starts, fini after it stopped (a run under way ends
 * first).
 */
#ifndef ROVE_UI_SYNC_H
#define ROVE_UI_SYNC_H

#include "ui.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct ui_sync {
	rove_cli *cli;
	pthread_mutex_t *lock; /* the server's request lock (ui.h) */
	/* what GET /sync/status tells of a run; prog has its own lock, so
	 * the status answers at once */
	pthread_mutex_t plock;
	struct ui_progress {
		bool running, done, snapshot;
		uint64_t pulled, cursor, head, chunks;
		char location[ROVE_UI_MAX_URL]; /* done: the result page */
		char error[ROVE_UI_MAX_ERRORS]; /* done without a location */
		size_t nerror;
	} prog;
	pthread_t worker;
	bool worker_started;
} ui_sync;

/* Readies sy for cli's replica; lock is the server's request lock. */
void ui_sync_init(ui_sync *sy, rove_cli *cli, pthread_mutex_t *lock);
/* Waits for a run under way, then frees what init made. */
void ui_sync_fini(ui_sync *sy);
/* GET /sync/status: the run's figures, as JSON into x. */
void ui_sync_status(ui_sync *sy, ui_ctx *x);
/* POST /sync/start: a run begins (202), or 409 while one runs. */
void ui_sync_start(ui_sync *sy, ui_ctx *x);

#endif
