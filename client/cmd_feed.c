/*
 * cmd_feed.c - `rove feed postgres CONNINFO [--once] [--interval SECONDS]`:
 * keeps a PostgreSQL schema in step with this replica (feed.h), once or
 * until SIGINT/SIGTERM.
 */
#include "cli.h"
#include "cli_opt.h"
#include "err.h"
#include "feed.h"
#include "log.h"
#include "text.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

static const char help[] =
	"usage: rove feed postgres CONNINFO [--once] [--interval SECONDS]\n"
	"\n"
	"Keep a PostgreSQL schema in step with this replica: one table per record\n"
	"kind (customer, contact, contract, opportunity, activity, dealer, target,\n"
	"territory, ownership), columns named after the JSON fields, typed (money\n"
	"bigint cents, dates date, times timestamptz, ids uuid); deleted records are\n"
	"removed; views for BI tools (pipeline_by_stage, pipeline_by_owner,\n"
	"pipeline_by_territory, pipeline_by_month, won_by_month, targets_vs_won).\n"
	"The feed writes what the server confirmed, in one transaction a round with\n"
	"its position: stopped or killed at any moment, it goes on where PostgreSQL\n"
	"says, missing nothing and writing nothing twice. It makes and upgrades\n"
	"the schema itself.\n"
	"\n"
	"CONNINFO is libpq's: 'host=db dbname=hq user=rove' or postgresql://...;\n"
	"options=-csearch_path=NAME puts the tables in schema NAME. Keep the password\n"
	"out of it (any user sees the command line in ps): put it in ~/.pgpass or the\n"
	"file $PGPASSFILE names; PGHOST, PGUSER, PGDATABASE... fill what CONNINFO omits.\n"
	"  --once                one round, then exit\n"
	"  --interval SECONDS    the longest wait between looks at the replica\n"
	"                        (default 1; a change to the replica wakes the feed\n"
	"                        at once); 0.01 to 3600\n"
	"\n"
	"Only an analyst's or an admin's replica holds every record: others are\n"
	"refused. Needs libpq (Debian: libpq5), loaded when the feed starts.\n"
	"A table changed under the feed (a column dropped or of another type) is\n"
	"rebuilt from the replica. PostgreSQL lost is waited for (said once, then\n"
	"every 5 minutes); an error it will keep giving (a login refused, privileges,\n"
	"a read-only database, a full disk) stops the feed: with --once at once, else\n"
	"after 3 rounds refused in a row. A database fed from another replica is\n"
	"refused; a replica behind what it fed waits for its next sync.\n"
	"Exit status: 0 stopped by SIGINT/SIGTERM (or --once done), 1 failed,\n"
	"2 usage (a CONNINFO libpq cannot read), 3 PostgreSQL unreachable at start\n"
	"(later it is tried again).\n";

_Static_assert(ROVE_FEED_MAX_ATTEMPTS == 3, "the help above says 3 rounds");
_Static_assert(ROVE_FEED_WAIT_REPORT_MS == 5u * 60u * 1000u, "the help above says every 5 minutes");

enum { OPT_ONCE = CLI_OPT_LONG, OPT_INTERVAL };

static const struct option opts[] = {
	{"once", no_argument, NULL, OPT_ONCE},
	{"interval", required_argument, NULL, OPT_INTERVAL},
	{NULL, 0, NULL, 0},
};

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

/* --interval SECONDS (a fraction allowed) as milliseconds; false if it
 * is not a number of seconds within the limits. */
static bool parse_interval(const char *s, unsigned *ms)
{
	uint64_t v;

	if (!rove_text_seconds_ms(s, ROVE_FEED_MAX_INTERVAL_MS, &v) || v < ROVE_FEED_MIN_INTERVAL_MS)
		return false;
	*ms = (unsigned)v;
	return true;
}

/* Waits up to ms for a change in the replica's directory (watch: an
 * inotify descriptor, or -1 to just sleep) or a signal. */
static void wait_change(int watch, unsigned ms)
{
	struct pollfd p = {watch, POLLIN, 0};
	char events[4096];

	if (watch < 0) {
		struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
		return;
	}
	if (poll(&p, 1, (int)ms) > 0)
		while (read(watch, events, sizeof(events)) > 0)
			; /* drained: the round reads the replica itself */
}

/* Whether the replica's user may feed: analysts and admins hold every
 * record; a manager's or a rep's replica holds a part, and a warehouse fed
 * from it would look whole while it is not. */
static bool role_may_feed(const rove_replica *r)
{
	if (strcmp(r->role, "analyst") == 0 || strcmp(r->role, "admin") == 0)
		return true;
	if (strcmp(r->role, "unknown") == 0 || r->role[0] == '\0')
		rove_error("the replica has not synced yet: run 'rove sync' first, then the feed");
	else
		rove_error("the feed needs an analyst's or an admin's replica, which holds every record: %s is %s "
			   "(a part of the company only)",
			   ROVE_LOG_NAME(r->auth.user), rove_role_with_article(rove_role_parse(r->role)));
	return false;
}

static void report_round(const rove_feed_stats *st, bool once)
{
	if (st->idle)
		return;
	(void)once;
	rove_info("fed %" PRIu64 " records (cursor %" PRIu64 "): %" PRIu64 " written, %" PRIu64 " removed",
		  st->records, st->cursor, st->written, st->removed);
}

/* What a running feed waits for, said once when it begins, then every
 * ROVE_FEED_WAIT_REPORT_MS at most, and once when it ends - not every
 * interval: an outage of an hour would otherwise be thousands of lines. */
enum { WAIT_NONE, WAIT_PG, WAIT_REPLICA };
typedef struct feed_wait {
	int kind;
	time_t since;     /* wall clock, for the reader of the log */
	uint64_t said_ms; /* monotonic: when it was last said */
} feed_wait;

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static const char *wait_what(int kind)
{
	return kind == WAIT_PG ? "postgresql" : "the replica to catch up";
}

/* A round could not be done for a reason that passes (why: what
 * happened); says so if it is news. */
static void wait_begins(feed_wait *w, int kind, const char *why, unsigned interval_ms)
{
	uint64_t now = mono_ms();

	if (why[0] == '\0')
		why = "no reason given";
	if (w->kind != kind) {
		w->kind = kind;
		w->since = time(NULL);
		w->said_ms = now;
		rove_warn("%s; the feed waits for %s, looking again every %u ms", why, wait_what(kind), interval_ms);
	} else if (now - w->said_ms >= ROVE_FEED_WAIT_REPORT_MS) {
		char at[16] = "?";
		struct tm tm;
		w->said_ms = now;
		if (localtime_r(&w->since, &tm) != NULL)
			strftime(at, sizeof(at), "%H:%M", &tm);
		rove_warn("the feed still waits for %s, since %s: %s", wait_what(kind), at, why);
	}
}

/* A round was done: ends the wait, if there was one, saying so. */
static void wait_ends(feed_wait *w)
{
	long s;

	if (w->kind == WAIT_NONE)
		return;
	s = (long)difftime(time(NULL), w->since);
	if (w->kind == WAIT_PG)
		rove_warn("postgresql is back after %ld s: the feed goes on", s);
	else
		rove_warn("the replica caught up after %ld s: the feed goes on", s);
	w->kind = WAIT_NONE;
}

static int feed_loop(rove_cli *cli, const char *conninfo, bool once, unsigned interval_ms)
{
	rove_replica r;
	rove_feed *f = NULL;
	rove_feed_stats st;
	struct sigaction sa;
	feed_wait w = {WAIT_NONE, 0, 0};
	char why[512] = "";
	unsigned refused = 0; /* rounds refused in a row (ROVE_EIO) */
	int watch = -1, rc;

	rc = cli_open(cli, &r);
	if (rc != ROVE_OK)
		return cli_exit(rc);
	if (!role_may_feed(&r)) {
		rove_replica_close(&r);
		return ROVE_EXIT_FAIL;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop; /* no SA_RESTART: a wait ends at once */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	rc = rove_feed_connect(conninfo, why, sizeof(why), &f);
	if (rc != ROVE_OK) {
		/* at start, every error is said: nothing is waited out yet */
		if (why[0] != '\0')
			rove_error("%s", why);
		rove_replica_close(&r);
		return rc == ROVE_EINVAL ? ROVE_EXIT_USAGE : cli_exit(rc);
	}
	if (!once) {
		/* LMDB writes its file with pwrite: every commit is a
		 * modification the directory's watch sees. */
		watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (watch >= 0 && inotify_add_watch(watch, cli->dir, IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
			close(watch);
			watch = -1;
		}
		if (watch < 0)
			rove_info("cannot watch '%s' (%s): looking every %u ms", cli->dir, strerror(errno), interval_ms);
	}
	while (rc == ROVE_OK && !stopping) {
		why[0] = '\0';
		rc = f != NULL ? ROVE_OK : rove_feed_connect(conninfo, why, sizeof(why), &f);
		if (rc == ROVE_OK)
			rc = rove_feed_round(f, &r, &st, why, sizeof(why));
		if (rc == ROVE_OK) {
			refused = 0;
			if (!st.idle)
				wait_ends(&w);
			report_round(&st, once);
			if (once)
				break;
		} else if (once) {
			if (why[0] != '\0')
				rove_error("%s", why);
		} else if (rc == ROVE_EUNREACH || rc == ROVE_EBUSY) {
			/* PostgreSQL went away (or restarts, or the round met
			 * another session): connect again; what it committed is
			 * read anew. */
			wait_begins(&w, WAIT_PG, why, interval_ms);
			rove_feed_free(f);
			f = NULL;
			rc = ROVE_OK;
		} else if (rc == ROVE_EHISTORY) {
			/* the replica is behind what was fed: its next sync
			 * brings it past */
			wait_begins(&w, WAIT_REPLICA, why, interval_ms);
			rc = ROVE_OK;
		} else if ((rc == ROVE_EIO || rc == ROVE_EAUTH || rc == ROVE_ETLS) &&
			   ++refused < ROVE_FEED_MAX_ATTEMPTS) {
			/* An error that waiting does not mend (a password
			 * changed, privileges), unless it was the schema
			 * changed under the feed: connecting again mends that
			 * first. */
			rove_warn("the feed tries again in %u ms (attempt %u of %u)", interval_ms, refused + 1,
				  ROVE_FEED_MAX_ATTEMPTS);
			rove_feed_free(f);
			f = NULL;
			rc = ROVE_OK;
		} else if (rc == ROVE_EIO || rc == ROVE_EAUTH || rc == ROVE_ETLS) {
			rove_error("the feed stops: postgresql refused %u rounds in a row, as said above; put that "
				   "right and start the feed again",
				   refused);
		} else if (rc == ROVE_EDB) {
			/* The replica's map grew in another process: open it
			 * again. */
			rove_replica_close(&r);
			rc = cli_open(cli, &r);
			if (rc != ROVE_OK) {
				rove_feed_free(f);
				return cli_exit(rc);
			}
			continue;
		}
		if (rc == ROVE_OK && !stopping)
			wait_change(f != NULL ? watch : -1, interval_ms);
	}
	if (watch >= 0)
		close(watch);
	rove_feed_free(f);
	rove_replica_close(&r);
	return cli_exit(rc);
}

int cmd_feed(rove_cli *cli, int argc, char **argv)
{
	const char *conninfo = NULL;
	bool once = false, target = false;
	unsigned interval_ms = 1000;
	cli_opt o;
	int k;

	cli_opt_init(&o, argc, argv, 1, opts);
	while ((k = cli_opt_next(&o)) != CLI_OPT_END) {
		switch (k) {
		case 'h':
			return cli_usage(help, true);
		case OPT_ONCE:
			once = true;
			break;
		case OPT_INTERVAL:
			if (!parse_interval(o.arg, &interval_ms)) {
				rove_error("invalid --interval '%s' (seconds, 0.01 to 3600)", o.arg);
				return ROVE_EXIT_USAGE;
			}
			break;
		case CLI_OPT_WORD:
			if (!target) {
				if (strcmp(o.arg, "postgres") != 0) {
					rove_error("unknown feed target '%s' (the feed writes to 'postgres')", o.arg);
					return cli_usage(help, false);
				}
				target = true;
			} else if (conninfo == NULL) {
				conninfo = o.arg;
			} else {
				cli_word_unexpected(o.arg);
				return cli_usage(help, false);
			}
			break;
		case CLI_OPT_NOVALUE:
			rove_error("option '%s' needs a value", o.arg);
			return cli_usage(help, false);
		default:
			if (!cli_opt_said(k))
				rove_error("unknown option '%s'", o.arg);
			return cli_usage(help, false);
		}
	}
	if (!target || conninfo == NULL) {
		rove_error(!target ? "missing the feed's target: rove feed postgres CONNINFO"
				   : "missing CONNINFO: where PostgreSQL is (e.g. 'host=localhost dbname=hq')");
		return cli_usage(help, false);
	}
	switch (rove_feed_check_conninfo(conninfo)) {
	case ROVE_OK:
		break;
	case ROVE_EINVAL:
		return cli_usage(help, false);
	default:
		return ROVE_EXIT_FAIL;
	}
	return feed_loop(cli, conninfo, once, interval_ms);
}
