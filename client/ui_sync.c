/*
 * ui_sync.c - rove ui's Sync button run in the background (ui_sync.h).
 */
#include "ui_sync.h"
#include "err.h"
#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void ui_sync_init(ui_sync *s, rove_cli *cli, pthread_mutex_t *lock)
{
	memset(s, 0, sizeof(*s));
	s->cli = cli;
	s->lock = lock;
	pthread_mutex_init(&s->plock, NULL);
}

void ui_sync_fini(ui_sync *s)
{
	if (s->worker_started)
		pthread_join(s->worker, NULL);
	pthread_mutex_destroy(&s->plock);
}

static void on_progress(uint64_t pulled, uint64_t cursor, uint64_t head, bool snapshot, void *arg)
{
	ui_sync *s = arg;

	pthread_mutex_lock(&s->plock);
	s->prog.pulled = pulled;
	s->prog.cursor = cursor;
	s->prog.head = head;
	s->prog.snapshot = snapshot;
	s->prog.chunks++;
	pthread_mutex_unlock(&s->plock);
}

static void worker_sink(int level, const char *line, void *arg)
{
	ui_sync *s = arg;
	size_t n = strlen(line);

	if (level > ROVE_LOG_WARN)
		return;
	pthread_mutex_lock(&s->plock);
	if (s->prog.nerror + n + 2 <= sizeof(s->prog.error)) {
		memcpy(s->prog.error + s->prog.nerror, line, n);
		s->prog.nerror += n;
		s->prog.error[s->prog.nerror++] = '\n';
		s->prog.error[s->prog.nerror] = '\0';
	}
	pthread_mutex_unlock(&s->plock);
}

static void *sync_worker(void *arg)
{
	ui_sync *s = arg;
	rove_sync_stats st;
	char loc[ROVE_UI_MAX_URL];
	bool shown;
	int rc;

	pthread_mutex_lock(s->lock); /* one request at a time: this is one */
	rove_log_set_sink(worker_sink, s);
	rove_sync_set_progress(on_progress, s);
	rc = ui_sync_run(s->cli, &st);
	rove_sync_set_progress(NULL, NULL);
	rove_log_set_sink(NULL, NULL);
	shown = ui_sync_location(rc, &st, loc, sizeof(loc));
	if (!shown && s->prog.nerror == 0)
		worker_sink(ROVE_LOG_ERROR, rove_strerror(rc), s);
	pthread_mutex_lock(&s->plock);
	s->prog.pulled = st.pulled;
	snprintf(s->prog.location, sizeof(s->prog.location), "%s", shown ? loc : "");
	s->prog.running = false;
	s->prog.done = true;
	pthread_mutex_unlock(&s->plock);
	pthread_mutex_unlock(s->lock);
	return NULL;
}

/* A JSON string of s (quotes, backslashes and controls escaped). */
static void json_str(ui_buf *b, const char *s)
{
	ui_put(b, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			ui_printf(b, "\\%c", *p);
		else if (*p < 0x20 || *p == '<' || *p == '>' || *p == '&')
			ui_printf(b, "\\u%04x", *p);
		else
			ui_putn(b, (const char *)p, 1);
	}
	ui_put(b, "\"");
}

/* GET /sync/status: the run's figures, as JSON (answered without the
 * request lock: the run holds it). */
void ui_sync_status(ui_sync *s, ui_ctx *x)
{
	struct ui_progress p;

	pthread_mutex_lock(&s->plock);
	p = s->prog;
	pthread_mutex_unlock(&s->plock);
	x->type = "application/json";
	ui_printf(&x->out,
		  "{\"running\":%s,\"done\":%s,\"snapshot\":%s,\"pulled\":%" PRIu64 ",\"cursor\":%" PRIu64
		  ",\"head\":%" PRIu64 ",\"chunks\":%" PRIu64 ",\"location\":",
		  p.running ? "true" : "false", p.done ? "true" : "false", p.snapshot ? "true" : "false", p.pulled,
		  p.cursor, p.head, p.chunks);
	json_str(&x->out, p.location);
	ui_put(&x->out, ",\"error\":");
	json_str(&x->out, p.error);
	ui_put(&x->out, "}\n");
}

/* POST /sync/start (under the request lock): the run begins once this
 * request ends. 409 while one runs. */
void ui_sync_start(ui_sync *s, ui_ctx *x)
{
	bool running;

	x->type = "application/json";
	pthread_mutex_lock(&s->plock);
	running = s->prog.running;
	if (!running) {
		memset(&s->prog, 0, sizeof(s->prog));
		s->prog.running = true;
	}
	pthread_mutex_unlock(&s->plock);
	if (running) {
		x->status = 409;
		ui_put(&x->out, "{\"error\":\"a sync is already running\"}\n");
		return;
	}
	if (s->worker_started)
		pthread_join(s->worker, NULL); /* the last run, ended */
	s->worker_started = pthread_create(&s->worker, NULL, sync_worker, s) == 0;
	if (!s->worker_started) {
		pthread_mutex_lock(&s->plock);
		s->prog.running = false;
		pthread_mutex_unlock(&s->plock);
		x->status = 500;
		ui_put(&x->out, "{\"error\":\"cannot start a thread\"}\n");
		return;
	}
	x->status = 202;
	ui_put(&x->out, "{\"started\":true}\n");
}
