/*
 * ui_sync.c - rove ui's Sync button (ui_sync.h): `rove sync --json` run
 * as a child process of this one.
 *
 * Why a child process and not a thread: a sync is a long writer, and the
 * pages must keep answering from the replica as it is while it runs. In
 * this process the pages run one at a time under the request lock (the
 * client's log sink and rove_sync_set_progress's watcher are global, and
 * LMDB wants one environment per file per process), so a sync here would
 * hold that lock for its whole length. In its own process it shares
 * nothing: the pages read while it writes (LMDB readers never wait for a
 * writer), and the replica's sync lock makes it and a `rove sync` typed
 * at the command line exclude each other, the second saying at once that
 * a sync is running (ROVE_UI_SYNC=1: cmd_sync.c waits for none).
 *
 * The child tells each pulled chunk on its stdout (ROVE_UI_SYNC=1: a line
 * "progress PULLED CURSOR HEAD SNAPSHOT"), then its figures as JSON; its
 * warnings and errors come on stderr, and its exit status says whether
 * it reached the server (3: offline).
 */
#define _GNU_SOURCE /* pipe2, posix_spawn_file_actions_addclosefrom_np */

#include "ui_sync.h"
#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* What one run of the child told. */
typedef struct ui_run {
	ui_sync *live;           /* progress and pid told to it; NULL: none */
	rove_sync_stats st;
	bool have_st;            /* the JSON of the figures came */
	char err[ROVE_UI_MAX_ERRORS];
	size_t nerr;
	/* the line being read of each stream: [0] stdout, [1] stderr */
	char line[2][ROVE_UI_SYNC_LINE];
	size_t len[2];
	bool over[2];            /* the line is longer than a line: passed over */
} ui_run;

void ui_sync_init(ui_sync *s, rove_cli *cli)
{
	memset(s, 0, sizeof(*s));
	s->cli = cli;
	pthread_mutex_init(&s->plock, NULL);
}

void ui_sync_fini(ui_sync *s)
{
	pthread_mutex_lock(&s->plock);
	/* A pull cut anywhere resumes from what was applied (sync.c): the
	 * server's stop is not held up by a long pull. */
	if (s->child > 0)
		kill(s->child, SIGTERM);
	pthread_mutex_unlock(&s->plock);
	if (s->worker_started)
		pthread_join(s->worker, NULL);
	pthread_mutex_destroy(&s->plock);
}

bool ui_sync_unlocked(bool post, const char *path)
{
	return post ? strcmp(path, "/sync/start") == 0 || strcmp(path, "/sync") == 0
		    : strcmp(path, "/sync/status") == 0;
}

bool ui_sync_location(int rc, const rove_sync_stats *st, char *loc, size_t len)
{
	if (rove_err_unreached(rc)) {
		/* offline is a state, not an error; nor is a slow link */
		snprintf(loc, len, st->reached ? "/sync?slow=1" : "/sync?offline=1");
		return true;
	}
	if (rc == ROVE_OK) {
		snprintf(loc, len, "/sync?pushed=%" PRIu64 "&accepted=%" PRIu64 "&refused=%" PRIu64 "&pulled=%" PRIu64,
			 st->pushed, st->accepted, st->rejected, st->pulled);
		return true;
	}
	return false;
}

/* ---- one run of the child ---- */

static void err_add(ui_run *u, const char *s, size_t n)
{
	if (u->nerr + n + 2 > sizeof(u->err))
		return; /* the first errors are the ones that say why */
	memcpy(u->err + u->nerr, s, n);
	u->nerr += n;
	u->err[u->nerr++] = '\n';
	u->err[u->nerr] = '\0';
}

/* The number after "NAME": in the JSON line j; false if it is not there. */
static bool json_u64(const char *j, const char *name, uint64_t *v)
{
	char key[32];
	const char *p;
	char *end;

	snprintf(key, sizeof(key), "\"%s\":", name);
	p = strstr(j, key);
	if (p == NULL)
		return false;
	p += strlen(key);
	if (*p < '0' || *p > '9')
		return false;
	errno = 0;
	*v = strtoull(p, &end, 10);
	return errno == 0 && (*end == ',' || *end == '}');
}

/* A whole line of the child's stdout: a progress line, or the figures. */
static void out_line(ui_run *u, const char *l)
{
	uint64_t pulled, cursor, head;
	int snap;

	if (sscanf(l, "progress %" SCNu64 " %" SCNu64 " %" SCNu64 " %d", &pulled, &cursor, &head, &snap) == 4) {
		if (u->live == NULL)
			return;
		pthread_mutex_lock(&u->live->plock);
		u->live->prog.pulled = pulled;
		u->live->prog.cursor = cursor;
		u->live->prog.head = head;
		u->live->prog.snapshot = snap != 0;
		u->live->prog.chunks++;
		pthread_mutex_unlock(&u->live->plock);
	} else if (l[0] == '{') {
		rove_sync_stats st = {0};
		u->have_st = json_u64(l, "pushed", &st.pushed) && json_u64(l, "accepted", &st.accepted) &&
			     json_u64(l, "rejected", &st.rejected) && json_u64(l, "pulled", &st.pulled) &&
			     json_u64(l, "cursor", &st.cursor);
		/* resent only when changes were sent again (cmd_sync.c) */
		if (u->have_st && strstr(l, "\"resent\":") != NULL)
			u->have_st = json_u64(l, "resent", &st.resent);
		if (u->have_st)
			u->st = st;
	}
}

/* A whole line of the child's stderr: its warnings and errors, without
 * the "rove: error: " the terminal shows (as the page's own are). */
static void err_line(ui_run *u, const char *l)
{
	static const char *const tags[] = {"error: ", "warning: ", "note: "}; /* a note: what to do */

	if (strncmp(l, "rove: ", 6) != 0)
		return; /* not a message of rove's (a sanitizer's report) */
	l += 6;
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if (strncmp(l, tags[i], strlen(tags[i])) == 0) {
			l += strlen(tags[i]);
			err_add(u, l, strlen(l));
			return;
		}
	if (strncmp(l, "assertion failed", 16) == 0)
		err_add(u, l, strlen(l));
}

/* Bytes read from stream i (0 stdout, 1 stderr), cut into lines. */
static void take(ui_run *u, int i, const char *b, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		if (b[k] != '\n') {
			if (u->len[i] + 1 < sizeof(u->line[i]))
				u->line[i][u->len[i]++] = b[k];
			else
				u->over[i] = true;
			continue;
		}
		u->line[i][u->len[i]] = '\0';
		if (!u->over[i])
			(i == 0 ? out_line : err_line)(u, u->line[i]);
		u->len[i] = 0;
		u->over[i] = false;
	}
}

/* The environment of the child: this one's, with ROVE_UI_SYNC=1. An
 * array of environ's own strings (freed by the caller: the array only);
 * NULL if out of memory. */
static char **child_env(void)
{
	static char ui_env[] = "ROVE_UI_SYNC=1";
	size_t n = 0, k = 0;
	char **env;

	while (environ[n] != NULL)
		n++;
	env = malloc((n + 2) * sizeof(*env));
	if (env == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "ROVE_UI_SYNC=", 13) != 0)
			env[k++] = environ[i];
	env[k++] = ui_env;
	env[k] = NULL;
	return env;
}

/* Starts `rove -R DIR --timeout MS sync --json` (this very binary), its
 * stdout and stderr the write ends of out and errp, stdin /dev/null, no
 * other descriptor of this process, the signals as a new process has
 * them. Returns an errno, 0 with *pid set. */
static int spawn(const rove_cli *cli, int out[2], int errp[2], pid_t *pid)
{
	char timeout[16];
	char *argv[] = {"rove", "-R", (char *)cli->dir, "--timeout", timeout, "sync", "--json", NULL};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, deflt;
	char **env = child_env();
	int e;

	if (env == NULL)
		return ENOMEM;
	snprintf(timeout, sizeof(timeout), "%d", cli->timeout_ms);
	sigemptyset(&none);
	sigemptyset(&deflt);
	sigaddset(&deflt, SIGPIPE); /* rove ui ignores it */
	sigaddset(&deflt, SIGINT);
	sigaddset(&deflt, SIGTERM);
	e = posix_spawn_file_actions_init(&fa);
	if (e != 0) {
		free(env);
		return e;
	}
	e = posix_spawnattr_init(&at);
	if (e == 0) {
		e = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
		if (e == 0)
			e = posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
		if (e == 0)
			e = posix_spawn_file_actions_adddup2(&fa, errp[1], STDERR_FILENO);
		if (e == 0)
			e = posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
		if (e == 0)
			e = posix_spawnattr_setsigmask(&at, &none);
		if (e == 0)
			e = posix_spawnattr_setsigdefault(&at, &deflt);
		if (e == 0)
			e = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
		if (e == 0)
			e = posix_spawn(pid, "/proc/self/exe", &fa, &at, argv, env);
		posix_spawnattr_destroy(&at);
	}
	posix_spawn_file_actions_destroy(&fa);
	free(env);
	return e;
}

/* Reads the child's two streams until both end. */
static void read_child(ui_run *u, int out, int errp)
{
	struct pollfd fds[2] = {{out, POLLIN, 0}, {errp, POLLIN, 0}};
	char b[4096];
	int open_ = 2;

	while (open_ > 0) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			err_add(u, "cannot read the sync's output", 29);
			return;
		}
		for (int i = 0; i < 2; i++) {
			ssize_t n;
			if (fds[i].fd < 0 || fds[i].revents == 0)
				continue;
			n = read(fds[i].fd, b, sizeof(b));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				fds[i].fd = -1; /* poll passes it over */
				open_--;
				continue;
			}
			take(u, i, b, (size_t)n);
		}
	}
}

/* Waits for the child; its pid leaves u->live before it is reaped (so
 * that ui_sync_fini never signals a pid reused). Returns how it ended as
 * waitpid's status, or -1. */
static int reap(ui_run *u, pid_t pid)
{
	siginfo_t info;
	int status = -1;

	while (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT) < 0 && errno == EINTR)
		;
	if (u->live != NULL) {
		pthread_mutex_lock(&u->live->plock);
		u->live->child = 0;
		pthread_mutex_unlock(&u->live->plock);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return status;
}

/* Runs the sync in a child process; u's figures and errors filled.
 * Returns ROVE_OK, ROVE_EUNREACH (offline) or another rove error (u->err
 * says why). Logs nothing: this runs beside the pages, which own the
 * log's sink. */
static int run_child(const rove_cli *cli, ui_run *u)
{
	int out[2] = {-1, -1}, errp[2] = {-1, -1};
	char msg[96];
	pid_t pid;
	int e, status;

	if (pipe2(out, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
		snprintf(msg, sizeof(msg), "cannot make a pipe for the sync: %s", strerror(errno));
		err_add(u, msg, strlen(msg));
		for (int i = 0; i < 2; i++) {
			if (out[i] >= 0)
				close(out[i]);
		}
		return ROVE_EIO;
	}
	if (u->live != NULL)
		pthread_mutex_lock(&u->live->plock);
	e = spawn(cli, out, errp, &pid);
	if (e == 0 && u->live != NULL)
		u->live->child = pid;
	if (u->live != NULL)
		pthread_mutex_unlock(&u->live->plock);
	close(out[1]);
	close(errp[1]);
	if (e != 0) {
		close(out[0]);
		close(errp[0]);
		snprintf(msg, sizeof(msg), "cannot start the sync: %s", strerror(e));
		err_add(u, msg, strlen(msg));
		return ROVE_EIO;
	}
	read_child(u, out[0], errp[0]);
	close(out[0]);
	close(errp[0]);
	status = reap(u, pid);
	if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == ROVE_EXIT_OK && u->have_st)
		return ROVE_OK;
	if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == ROVE_EXIT_UNREACH) {
		/* Reached, and no answer in time (a slow link): not offline
		 * (attack eighty-one: a push that timed out showed "Offline",
		 * and not what the next sync does). cmd_sync.c's words. */
		u->st.reached = strstr(u->err, "was reached but did not answer") != NULL ||
				strstr(u->err, "stopped answering during the sync") != NULL;
		return ROVE_EUNREACH;
	}
	if (u->nerr == 0) {
		if (status >= 0 && WIFSIGNALED(status))
			snprintf(msg, sizeof(msg), "the sync was ended by signal %d", WTERMSIG(status));
		else if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == ROVE_EXIT_OK)
			snprintf(msg, sizeof(msg), "the sync's figures could not be read");
		else if (status >= 0 && WIFEXITED(status))
			snprintf(msg, sizeof(msg), "the sync failed (exit status %d)", WEXITSTATUS(status));
		else
			snprintf(msg, sizeof(msg), "cannot wait for the sync: %s", strerror(errno));
		err_add(u, msg, strlen(msg));
	}
	return ROVE_EIO;
}

/* ---- the Sync button's run in the background ---- */

/* A run that ended with the result page loc (ui_sync_location): what
 * it said on stderr is kept for that page, which is told so. Under
 * s->plock. */
static void keep_warnings(ui_sync *s, int rc, const ui_run *u, char *loc, size_t len)
{
	size_t n = strlen(loc);

	s->nwarn = 0;
	s->warn[0] = '\0';
	if ((rc != ROVE_OK && !(rove_err_unreached(rc) && u->st.reached)) || u->nerr == 0 ||
	    n + sizeof("&warned=1") > len)
		return; /* offline is said by its page; a slow link's words are kept */
	memcpy(s->warn, u->err, u->nerr + 1);
	s->nwarn = u->nerr;
	memcpy(loc + n, "&warned=1", sizeof("&warned=1"));
}

void ui_sync_warnings(ui_sync *s, ui_ctx *x)
{
	pthread_mutex_lock(&s->plock);
	if (s->nwarn > 0 && s->nwarn < sizeof(x->errors)) {
		memcpy(x->errors, s->warn, s->nwarn + 1);
		x->nerrors = s->nwarn;
		x->errors_title = "Said by the sync";
	}
	pthread_mutex_unlock(&s->plock);
}

static void *sync_worker(void *arg)
{
	ui_sync *s = arg;
	ui_run *u = calloc(1, sizeof(*u));
	char loc[ROVE_UI_MAX_URL];
	bool shown = false;
	int rc;

	if (u != NULL) {
		u->live = s;
		rc = run_child(s->cli, u);
		shown = ui_sync_location(rc, &u->st, loc, sizeof(loc));
	}
	pthread_mutex_lock(&s->plock);
	if (u == NULL) {
		snprintf(s->prog.error, sizeof(s->prog.error), "out of memory\n");
		s->prog.nerror = strlen(s->prog.error);
	} else if (shown) {
		s->prog.pulled = u->st.pulled;
		keep_warnings(s, rc, u, loc, sizeof(loc));
	} else {
		memcpy(s->prog.error, u->err, u->nerr + 1);
		s->prog.nerror = u->nerr;
	}
	snprintf(s->prog.location, sizeof(s->prog.location), "%s", shown ? loc : "");
	s->prog.running = false;
	s->prog.done = true;
	pthread_mutex_unlock(&s->plock);
	free(u);
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
	/* Only the request that set running gets here: the last run, ended,
	 * is joined by it alone. */
	if (s->worker_started)
		pthread_join(s->worker, NULL);
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

bool ui_sync_post(ui_sync *s, ui_ctx *x)
{
	ui_run *u = calloc(1, sizeof(*u));
	int rc;

	if (u == NULL) {
		x->status = 500;
		snprintf(x->errors, sizeof(x->errors), "out of memory\n");
		x->nerrors = strlen(x->errors);
		return false;
	}
	rc = run_child(s->cli, u);
	if (ui_sync_location(rc, &u->st, x->location, sizeof(x->location))) {
		pthread_mutex_lock(&s->plock);
		keep_warnings(s, rc, u, x->location, sizeof(x->location));
		pthread_mutex_unlock(&s->plock);
		free(u);
		return true;
	}
	x->status = 502;
	x->errors_title = "Sync failed"; /* nothing was to be saved: the Sync page says so */
	memcpy(x->errors, u->err, u->nerr + 1);
	x->nerrors = u->nerr;
	free(u);
	return false;
}
