/*
 * roved - the rove sync server.
 *
 *   roved init DIR [--admin NAME]    create a database, print the admin token
 *   roved serve DIR [--listen URL]   serve until SIGINT/SIGTERM
 */
#include "check.h"
#include "compact.h"
#include "engine.h"
#include "err.h"
#include "lockfile.h"
#include "log.h"
#include "metrics.h"
#include "net.h"
#include "policy.h"
#include "serve.h"
#include "store.h"
#include "text.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ROVED_DEFAULT_URL "tcp://127.0.0.1:7411"
/* The lock file in a server directory, held by serve and init. */
#define ROVED_LOCK_FILE "roved.lock"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

static const char usage_text[] =
	"usage: roved init DIR [--admin NAME]\n"
	"       roved serve DIR [--listen URL] [--tls-cert FILE --tls-key FILE]\n"
	"                       [--recycle-interval SECONDS] [--max-connections N]\n"
	"                       [--metrics HOST:PORT]\n"
	"       roved backup DIR DEST\n"
	"       roved check DIR\n"
	"       roved compact DIR --keep-days N\n"
	"       roved --version\n"
	"\n"
	"  init DIR        create a server database in DIR and print the admin's\n"
	"                  token alone on stdout (--admin NAME, default 'admin')\n"
	"  serve DIR       serve replicas (--listen URL, default " ROVED_DEFAULT_URL ");\n"
	"                  stops cleanly on SIGINT or SIGTERM; applies the pool\n"
	"                  recycling rules every --recycle-interval seconds\n"
	"                  (default 3600; 0 turns them off); serves at most\n"
	"                  --max-connections connections at once (default 4096,\n"
	"                  fewer if the descriptor limit is lower; when all are in\n"
	"                  use, one that never logged in makes room for a\n"
	"                  newcomer); serves Prometheus metrics at\n"
	"                  http://HOST:PORT/metrics with --metrics; one server per DIR\n"
	"  backup DIR DEST copy the database in DIR, as of one moment, into the new\n"
	"                  or empty directory DEST; works while a server serves DIR.\n"
	"                  To restore, stop the server and put DEST in DIR's place:\n"
	"                  replicas then send again what the copy lacks (see\n"
	"                  docs/OPERATIONS.md)\n"
	"  check DIR       check the database in DIR (also while a server serves\n"
	"                  it): lists each problem found on stdout, one a line;\n"
	"                  exit 0 when there is none, 1 when there are\n"
	"  compact DIR     drop the ops older than --keep-days N days (also while a\n"
	"                  server serves DIR); a replica that last synced before\n"
	"                  them takes a fresh copy of its data at its next sync,\n"
	"                  keeping its pending changes; in a database upgraded\n"
	"                  from format 4, also gives the scope index its copies\n"
	"                  of the records, once\n"
	"\n"
	"URLs are nng URLs: tcp://HOST:PORT, ipc:///path, or tls+tcp://HOST:PORT\n"
	"with --tls-cert and --tls-key (PEM files, the key without a passphrase)\n"
	"for TLS; a key that is not the certificate's is refused at start.\n"
	"Exit status: 0 ok, 1 failed, 2 usage (a bad option, or TLS files that do\n"
	"not serve).\n"
	"Set ROVE_LOG=info or debug for more output on stderr.\n";

static int usage(FILE *f, int code)
{
	fputs(usage_text, f);
	return code;
}

/* Takes DIR's lock for this process's lifetime (the kernel releases it at
 * exit): ROVE_OK, ROVE_ENOTFOUND if there is no DIR, else an error that
 * has been reported. */
static int lock_dir(const char *dir)
{
	static rove_lockfile lock;
	static rove_lockfile dirlock;
	long holder;
	int rc = rove_lockfile_take(&lock, dir, ROVED_LOCK_FILE, 0, &holder);

	if (rc == ROVE_ELOCKED && holder > 0)
		rove_error("'%s' is in use by another roved (pid %ld)", dir, holder);
	else if (rc == ROVE_ELOCKED)
		rove_error("'%s' is in use by another roved", dir);
	if (rc != ROVE_OK)
		return rc;
	/* The directory itself too: roved.lock, removed as "stale" after a
	 * crash while a server runs, would let a second one in. */
	rc = rove_lockfile_take_dir(&dirlock, dir);
	if (rc == ROVE_ELOCKED)
		rove_error("'%s' is in use by another roved (its %s was removed while it ran)", dir, ROVED_LOCK_FILE);
	return rc;
}

/* Takes back a directory a failed init made: its lock file, then the
 * directory (rove_store_init removed its database files). */
static void unmake_dir(const char *dir)
{
	char path[4096];

	if (snprintf(path, sizeof(path), "%s/%s", dir, ROVED_LOCK_FILE) < (int)sizeof(path) && unlink(path) != 0 &&
	    errno != ENOENT)
		rove_warn("cannot remove '%s': %s", path, strerror(errno));
	if (rmdir(dir) != 0)
		rove_warn("cannot remove '%s': %s", dir, strerror(errno));
}

/* Whether option c of opts (one that takes a value) was given before in
 * this command line: said so. Which of two values was meant (two admins,
 * two listen URLs) is not the parser's to guess. seen: one flag per c. */
static bool given_twice(const struct option *opts, bool seen[256], int c)
{
	if (c < 0 || c > 255 || !seen[c]) {
		if (c >= 0 && c <= 255)
			seen[c] = true;
		return false;
	}
	for (const struct option *o = opts; o->name != NULL; o++)
		if (o->val == c)
			rove_error("--%s is given twice: give it once", o->name);
	return true;
}

static int cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{"admin", required_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *admin = "admin";
	char token[ROVE_TOKEN_HEX + 1];
	bool made_dir = false, seen[256] = {false};
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c != 'h' && c != '?' && c != ':' && given_twice(opts, seen, c))
			return usage(stderr, EXIT_USAGE);
		if (c == 'a')
			admin = optarg;
		else if (c == 'h')
			return usage(stdout, EXIT_OK);
		else
			return usage(stderr, EXIT_USAGE);
	}
	if (optind + 1 != argc)
		return usage(stderr, EXIT_USAGE);
	/* The directory first, so that two inits meet at its lock. */
	if (rove_lockfile_make_dir(argv[optind], &made_dir) != ROVE_OK)
		return EXIT_FAIL; /* said */
	if (lock_dir(argv[optind]) != ROVE_OK)
		return EXIT_FAIL;
	rc = rove_engine_init(argv[optind], admin, token);
	/* A failed init leaves no directory it made (a full disk, say):
	 * nothing in the way of the same command later. */
	if (rc != ROVE_OK && made_dir)
		unmake_dir(argv[optind]);
	if (rc == ROVE_EEXIST) {
		rove_error("'%s' already holds a database", argv[optind]);
		return EXIT_FAIL;
	}
	if (rc == ROVE_EINVAL) {
		rove_error("invalid admin name '%s' (letters, digits and . _ - @, beginning with a letter or digit, at most %u; not '%s')", admin,
			   ROVE_MAX_NAME, ROVE_SYSTEM_USER);
		return EXIT_FAIL;
	}
	if (rc != ROVE_OK) {
		rove_error("cannot create database in '%s': %s", argv[optind], rove_strerror(rc));
		return EXIT_FAIL;
	}
	printf("%s\n", token);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		/* The database holds the token now: shown here, or lost. */
		rove_error("cannot write standard output (%s): the admin's token is shown here instead, once:",
			   strerror(errno));
		fprintf(stderr, "%s\n", token);
		fprintf(stderr, "roved: created database in %s; admin user '%s' (token above)\n", argv[optind], admin);
		return EXIT_FAIL;
	}
	fprintf(stderr, "roved: created database in %s; admin user '%s' (token above)\n",
		argv[optind], admin);
	return EXIT_OK;
}

/* Set in the environment of a roved started anew in place (start_anew),
 * and taken out of it at once by the new process. */
#define ROVED_ANEW_ENV "ROVED_STARTED_ANEW"

/* main's arguments as given, for `roved serve` to start anew in place
 * (a copy of the array: getopt reorders argv's; its strings are main's
 * and live as long as the process). */
static char **roved_argv;

/* Blocks SIGINT and SIGTERM in this thread and the threads it starts. */
static void block_stop_signals(void)
{
	sigset_t sigs;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
}

/* Marks every descriptor past stderr close-on-exec. */
static void cloexec_all(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *ent;

	if (d == NULL) {
		rove_warn("cannot list this process's descriptors (%s): some may stay open past the restart",
			  strerror(errno));
		return;
	}
	while ((ent = readdir(d)) != NULL) {
		char *end;
		long fd = strtol(ent->d_name, &end, 10);
		if (*end == '\0' && end != ent->d_name && fd > 2 && fd != dirfd(d))
			(void)fcntl((int)fd, F_SETFD, FD_CLOEXEC);
	}
	closedir(d);
}

/* Starts roved anew in place, returning only if it cannot (said). The
 * same process anew: its pid, its output and its blocked stop signals
 * (until its sigwait) stay; every other descriptor closes (the
 * directory's locks, taken again, and what nng leaked: not all of nng's
 * are close-on-exec). */
static void start_anew(void)
{
	cloexec_all();
	if (setenv(ROVED_ANEW_ENV, "1", 1) != 0)
		rove_warn("cannot mark the start anew in place (%s): a failure to serve then ends roved",
			  strerror(errno));
	execv("/proc/self/exe", roved_argv);
	rove_error("cannot start roved anew in place: %s; stopping", strerror(errno));
}

/* Whether roved may serve now as so says: its TLS files match, and
 * nothing else serves its addresses (each failure said). *usage: the
 * failure is the command line's (the TLS files). */
static bool may_serve(const rove_serve_opts *so, bool *usage)
{
	*usage = rove_net_is_tls(so->url) && rove_net_tls_files_check(so->tls_cert, so->tls_key) != ROVE_OK;
	return !*usage && rove_serve_probe(so) == ROVE_OK;
}

/* Started anew in place (the listener guard's restart, not the
 * operator's), roved waits out what a fresh start refuses for good: TLS
 * files caught mid-renewal, a port another process took in the moment
 * between the two processes. Exiting, it was never started again
 * (status 2 under RestartPreventExitStatus) or started into the taken
 * port over and over (attack thirty-eight). Tries again after 1 s,
 * doubling up to ROVE_MAX_ANEW_WAIT_MS, until it may serve (true) or a
 * stop signal comes (false; they are blocked, as across the exec). */
static bool wait_to_serve(const rove_serve_opts *so)
{
	uint32_t wait_ms = 1000;
	sigset_t sigs;
	bool usage;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	for (;;) {
		struct timespec ts = {(time_t)(wait_ms / 1000), (long)(wait_ms % 1000) * 1000000L};
		rove_warn("started anew in place and cannot serve yet (above): trying again in %u s", wait_ms / 1000);
		int sig = sigtimedwait(&sigs, NULL, &ts);
		if (sig >= 0) {
			rove_info("stopping on signal %d", sig);
			return false;
		}
		if (may_serve(so, &usage))
			return true;
		wait_ms = wait_ms * 2 > ROVE_MAX_ANEW_WAIT_MS ? ROVE_MAX_ANEW_WAIT_MS : wait_ms * 2;
	}
}

/* rove_serve's restart_now: nng could not close its socket on the way
 * to a restart (nothing else runs any more). */
static void close_and_start_anew(void *engine)
{
	rove_engine_close(engine);
	start_anew();
}

static int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{"listen", required_argument, NULL, 'l'},
		{"recycle-interval", required_argument, NULL, 'r'},
		{"max-connections", required_argument, NULL, 'm'},
		{"tls-cert", required_argument, NULL, 'c'},
		{"tls-key", required_argument, NULL, 'k'},
		{"metrics", required_argument, NULL, 'M'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	rove_serve_opts so = {.url = ROVED_DEFAULT_URL, .tick_ms = 3600 * 1000};
	rove_engine e;
	bool seen[256] = {false}, restart = false, anew, tls_bad = false;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c != 'h' && c != '?' && c != ':' && given_twice(opts, seen, c))
			return usage(stderr, EXIT_USAGE);
		if (c == 'l') {
			char why[128];
			/* What a replica can dial (rove init refuses the rest): no
			 * port 0 (a random one), no other transport. */
			if (!rove_net_listen_url_valid(optarg, why, sizeof(why))) {
				rove_error("invalid --listen '%s': %s", optarg, why);
				return EXIT_USAGE;
			}
			so.url = optarg;
		} else if (c == 'c') {
			so.tls_cert = optarg;
		} else if (c == 'k') {
			so.tls_key = optarg;
		} else if (c == 'M') {
			if (!rove_metrics_addr_valid(optarg)) {
				rove_error("invalid --metrics '%s' (HOST:PORT)", optarg);
				return EXIT_USAGE;
			}
			so.metrics = optarg;
		} else if (c == 'r') {
			if (!rove_text_seconds_ms(optarg, ROVE_MAX_RECYCLE_INTERVAL_MS, &so.tick_ms)) {
				rove_error("invalid --recycle-interval '%s' (seconds, 0 to %u)", optarg,
					   ROVE_MAX_RECYCLE_INTERVAL_MS / 1000u);
				return EXIT_USAGE;
			}
		} else if (c == 'm') {
			uint64_t n;
			if (!rove_text_uint(optarg, ROVE_MAX_PIPES, &n) || n == 0) {
				rove_error("invalid --max-connections '%s' (1 to %u)", optarg, ROVE_MAX_PIPES);
				return EXIT_USAGE;
			}
			so.max_pipes = (uint32_t)n;
		} else if (c == 'h')
			return usage(stdout, EXIT_OK);
		else
			return usage(stderr, EXIT_USAGE);
	}
	if (optind + 1 != argc)
		return usage(stderr, EXIT_USAGE);
	if (so.metrics != NULL && rove_net_same_port(so.url, so.metrics)) {
		/* it would fail to listen, exit 1, and be started again into
		 * the same clash for ever (attack seventy-eight) */
		rove_error("--metrics %s and --listen %s are one address: give the metrics a port of their own",
			   so.metrics, so.url);
		return EXIT_USAGE;
	}
	anew = getenv(ROVED_ANEW_ENV) != NULL;
	(void)unsetenv(ROVED_ANEW_ENV);
	/* Started through /proc/self/exe, the process is named "exe":
	 * `pgrep -x roved`, `pidof` and `ps -C roved` found it no more
	 * (attack sixty). Its name again, as it was started. */
	if (anew && roved_argv != NULL && roved_argv[0] != NULL) {
		const char *slash = strrchr(roved_argv[0], '/');
		(void)prctl(PR_SET_NAME, slash != NULL ? slash + 1 : roved_argv[0], 0, 0, 0);
	}
	/* The certificate and key are checked before anything starts: nng
	 * takes a key of another certificate, and clients would only see
	 * their handshakes fail. What is wrong is the command line's. */
	if (!anew && rove_net_is_tls(so.url) && rove_net_tls_files_check(so.tls_cert, so.tls_key) != ROVE_OK)
		return EXIT_USAGE;
	/* Files given for a plain URL would be left unused: the server would
	 * run without the TLS its operator asked for. */
	if (!rove_net_is_tls(so.url) && (so.tls_cert != NULL || so.tls_key != NULL)) {
		rove_error("--tls-cert and --tls-key serve TLS only, and '%s' is not a TLS URL: listen on "
			   "tls+tcp://HOST:PORT",
			   so.url);
		return EXIT_USAGE;
	}
	rove_net_tune_malloc();
	/* From here a stop signal waits for the server to be up and then
	 * stops it cleanly (rove_serve's sigwait takes it): the address is
	 * listened on once below, before the database is opened, and a
	 * supervisor that takes that for "started" may stop it at once. */
	block_stop_signals();
	rc = lock_dir(argv[optind]);
	if (rc != ROVE_OK && rc != ROVE_ENOTFOUND)
		return EXIT_FAIL;
	/* Started anew, syncs come before the metrics (a port taken in
	 * the moment between kept syncs out too: attack seventy-five). */
	so.anew = anew;
	if (rc == ROVE_OK && !may_serve(&so, &tls_bad)) {
		if (!anew)
			return tls_bad ? EXIT_USAGE : EXIT_FAIL;
		if (!wait_to_serve(&so))
			return EXIT_OK;
	}
	rc = rove_engine_open(&e, argv[optind]);
	if (rc != ROVE_OK) {
		rove_error("cannot open database in '%s': %s%s", argv[optind],
			   rc == ROVE_EVERSION ? "it was made by another version of roved" : rove_strerror(rc),
			   rc == ROVE_ENOTFOUND ? " (run 'roved init' first)" : "");
		return EXIT_FAIL;
	}
	so.restart_now = close_and_start_anew;
	so.restart_arg = &e;
	rc = rove_serve(&e, &so, &restart);
	rove_engine_close(&e);
	if (rc == ROVE_OK && restart) {
		start_anew();
		return EXIT_FAIL;
	}
	return rc == ROVE_OK ? EXIT_OK : EXIT_FAIL;
}

/* Whether dir exists and holds something other than a database (a
 * data.mdb there is the backup's own refusal, "already holds"). */
static bool holds_other_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool other = false;

	if (d == NULL)
		return false;
	while (!other && (e = readdir(d)) != NULL)
		other = strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
			strcmp(e->d_name, "data.mdb") != 0 && strcmp(e->d_name, "lock.mdb") != 0;
	closedir(d);
	return other;
}

static int cmd_backup(int argc, char **argv)
{
	static const char help[] = "usage: roved backup DIR DEST\n";
	int rc;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return usage(stdout, EXIT_OK);
	if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-') {
		fputs(help, stderr);
		return EXIT_USAGE;
	}
	/* A new or empty directory: a backup among other files would be
	 * mistaken for them, or they for part of it. */
	if (holds_other_files(argv[2])) {
		rove_error("'%s' is not empty: roved backup copies into a new or empty directory", argv[2]);
		return EXIT_FAIL;
	}
	rc = rove_store_backup(argv[1], argv[2]);
	if (rc == ROVE_ENOTFOUND) {
		rove_error("no database in '%s'", argv[1]);
		return EXIT_FAIL;
	}
	if (rc == ROVE_EEXIST) {
		/* A backup killed midway leaves its copy cut short: said as a
		 * possibility, since a whole one is kept as well. */
		rove_error("'%s' already holds a data.mdb (a backup, or one cut short by a kill: roved check '%s' "
			   "says which); back up into a new or empty directory",
			   argv[2], argv[2]);
		return EXIT_FAIL;
	}
	if (rc != ROVE_OK) {
		rove_error("cannot back up '%s' to '%s': %s", argv[1], argv[2], rove_strerror(rc));
		return EXIT_FAIL;
	}
	fprintf(stderr, "roved: backed up %s to %s\n", argv[1], argv[2]);
	return EXIT_OK;
}

static int cmd_check(int argc, char **argv)
{
	uint64_t problems = 0;
	int rc;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return usage(stdout, EXIT_OK);
	if (argc != 2 || argv[1][0] == '-') {
		fputs("usage: roved check DIR\n", stderr);
		return EXIT_USAGE;
	}
	rc = rove_check(argv[1], stdout, &problems);
	fflush(stdout);
	if (rc == ROVE_ENOTFOUND) {
		rove_error("no database in '%s'", argv[1]);
		return EXIT_FAIL;
	}
	if (rc == ROVE_ECHANGED)
		return EXIT_FAIL; /* said: it changed while it was read */
	if (rc != ROVE_OK) {
		rove_error("cannot check '%s': %s%s", argv[1],
			   rc == ROVE_EVERSION ? "it was made by another version of roved" : rove_strerror(rc),
			   problems > 0 ? " (the problems found before are listed)" : "");
		return EXIT_FAIL;
	}
	if (problems > 0) {
		rove_error("%llu problem(s) in '%s'", (unsigned long long)problems, argv[1]);
		return EXIT_FAIL;
	}
	fprintf(stderr, "roved: %s is consistent\n", argv[1]);
	return EXIT_OK;
}

static int cmd_compact(int argc, char **argv)
{
	static const struct option opts[] = {
		{"keep-days", required_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	rove_compact_stats cs;
	char held[64]; /* "ops N to M": two numbers of 20 digits at most */
	uint64_t days = 0;
	bool have_days = false, seen[256] = {false};
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c != 'h' && c != '?' && c != ':' && given_twice(opts, seen, c))
			return usage(stderr, EXIT_USAGE);
		if (c == 'k') {
			if (!rove_text_uint(optarg, ROVE_MAX_KEEP_DAYS, &days)) {
				rove_error("invalid --keep-days '%s' (0 to %u)", optarg, ROVE_MAX_KEEP_DAYS);
				return EXIT_USAGE;
			}
			have_days = true;
		} else if (c == 'h') {
			return usage(stdout, EXIT_OK);
		} else {
			return usage(stderr, EXIT_USAGE);
		}
	}
	if (optind + 1 != argc || !have_days) {
		if (!have_days)
			rove_error("missing --keep-days N");
		fputs("usage: roved compact DIR --keep-days N\n", stderr);
		return EXIT_USAGE;
	}
	rc = rove_compact(argv[optind], days * 86400000u, &cs);
	if (rc == ROVE_ENOTFOUND) {
		rove_error("no database in '%s'", argv[optind]);
		return EXIT_FAIL;
	}
	if (rc != ROVE_OK) {
		rove_error("cannot compact '%s': %s (what was dropped before stays dropped)", argv[optind],
			   rc == ROVE_EVERSION ? "it was made by another version of roved" : rove_strerror(rc));
		return EXIT_FAIL;
	}
	/* The head is never dropped: an oplog past its floor is empty only
	 * in a database that never had an op. */
	if (cs.head > cs.floor)
		snprintf(held, sizeof(held), "ops %llu to %llu", (unsigned long long)cs.floor + 1,
			 (unsigned long long)cs.head);
	else
		snprintf(held, sizeof(held), "no ops");
	fprintf(stderr,
		"roved: dropped %llu op(s) older than %llu day(s) and %llu index entr(ies); the oplog holds %s\n"
		"roved: dropped %llu deleted record(s) and %llu of their families' record(s)%s\n",
		(unsigned long long)cs.ops, (unsigned long long)days, (unsigned long long)cs.entries, held,
		(unsigned long long)cs.tombstones, (unsigned long long)cs.family,
		cs.resets > 0 ? "; the replicas of the users who read everything take a new copy at their next sync" : "");
	if (cs.kept > 0)
		fprintf(stderr,
			"roved: kept %llu deleted customer(s) with their ownership history (their other records went): "
			"a late change of one is refused 'deleted'\n",
			(unsigned long long)cs.kept);
	if (cs.filled > 0)
		fprintf(stderr, "roved: gave %llu scope entr(ies) a copy of their record (written before format 5)\n",
			(unsigned long long)cs.filled);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	rove_log_init("roved", ROVE_LOG_INFO);
	roved_argv = malloc(((size_t)argc + 1) * sizeof(*roved_argv));
	if (roved_argv != NULL)
		memcpy(roved_argv, argv, ((size_t)argc + 1) * sizeof(*roved_argv));
	else
		roved_argv = argv; /* reordered by then, but the same */
	if (argc < 2)
		return usage(stderr, EXIT_USAGE);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0)
		return usage(stdout, EXIT_OK);
	if (strcmp(argv[1], "--version") == 0 && argc == 2) {
		printf("roved %s (protocol %d)\n", ROVE_VERSION, ROVE_PROTO_VERSION);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "init") == 0)
		return cmd_init(argc - 1, argv + 1);
	if (strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	if (strcmp(argv[1], "backup") == 0)
		return cmd_backup(argc - 1, argv + 1);
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "compact") == 0)
		return cmd_compact(argc - 1, argv + 1);
	rove_error("unknown command '%s'", argv[1]);
	return usage(stderr, EXIT_USAGE);
}
