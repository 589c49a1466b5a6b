/* cmd_sync.c - `rove sync`: push, then pull, one sync at a time per replica. */
#include "cli.h"
#include "db.h"
#include "err.h"
#include "net.h"
#include "lockfile.h"
#include "log.h"
#include "out.h"
#include "sync.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char help[] =
	"usage: rove sync [--json] [--repair]\n"
	"\n"
	"Push this replica's pending changes, then pull the server's changes.\n"
	"Changes made while a sync runs wait for the next one.\n"
	"Exit status 3 if the server cannot be reached, or the connection to it is\n"
	"lost and it does not answer again (a server stopped or killed during the\n"
	"sync), or lost again and again while waiting for one answer (a lossy\n"
	"link); local data is untouched, and the next sync sends what the server\n"
	"did not confirm.\n"
	"One sync at a time per replica: a second waits for the first (up to\n"
	"the global --timeout MS: rove --timeout 10000 sync, or rove sync --timeout\n"
	"10000), then syncs, or exits 1 saying that a sync is running.\n"
	"The server takes at most 50,000 changes from one user at once, then 50\n"
	"a second (admins are not held): past that the sync still pulls, prints\n"
	"what it did as usual (JSON too), then exits 1 saying when the rest can\n"
	"go and how many wait; they stay pending until then.\n"
	"JSON: {\"pushed\":N,\"accepted\":N,\"rejected\":N,\"pulled\":N,\"cursor\":N}, and\n"
	"\"resent\":N after them when changes were sent again (below), and\n"
	"\"confirmed\":N when changes an earlier sync (or connection) sent, cut\n"
	"short before it heard back, were found taken (not after a restore); it\n"
	"is not a further count: those this sync sent again are in pushed and\n"
	"accepted too, those its pull found taken in neither; and \"held\":N,\n"
	"last, when the server's rate held changes (all still pending).\n"
	"pulled counts the changes that came from the server; this replica's own\n"
	"accepted ones (counted in accepted) come back by reference, with what\n"
	"the server set on them.\n"
	"\n"
	"If the server was restored from a backup that lacks some of what this\n"
	"replica holds, the replica sends its changes again (resent: how many;\n"
	"the server decides those it lacks anew, and any it refuses show in\n"
	"'rove rejected'), then takes a fresh copy of its data.\n"
	"\n"
	"--repair: take every record of this replica's scope anew from the\n"
	"server, as a first sync does, and make the local copies of records with\n"
	"pending changes anew from them and those changes (which are kept, and\n"
	"sent once the new copies are in): the way out when a read says the\n"
	"replica is damaged. What of the sync's own records does not read (a\n"
	"command names it) is set anew first. A repair cut short (the server\n"
	"unreachable) goes on at the next sync; 'rove status' says so meanwhile.\n"
	"\n"
	"A long pull (a first sync) shows its progress on stderr when stderr is a\n"
	"terminal; ROVE_PROGRESS=1 shows it anyway (a line a second), 0 never.\n";

/* Whether to show a long pull's progress (on stderr, so also with --json:
 * stdout stays what scripts read): ROVE_PROGRESS=1 or 0 decides, else
 * whether stderr is a terminal. */
static bool want_progress(void)
{
	const char *v = getenv("ROVE_PROGRESS");

	if (v != NULL && strcmp(v, "1") == 0)
		return true;
	if (v != NULL && strcmp(v, "0") == 0)
		return false;
	return isatty(STDERR_FILENO) != 0;
}

/* Whether this sync is rove ui's (ROVE_UI_SYNC=1, set by ui_sync.c for
 * the `rove sync --json` it runs): it waits for no sync already running
 * (the page says so at once), and tells each pulled chunk on stdout, a
 * line "progress PULLED CURSOR HEAD SNAPSHOT" before the JSON. */
static bool for_ui(void)
{
	const char *v = getenv("ROVE_UI_SYNC");

	return v != NULL && strcmp(v, "1") == 0;
}

static void ui_progress(uint64_t pulled, uint64_t cursor, uint64_t head, bool snapshot, void *arg)
{
	(void)arg;
	printf("progress %" PRIu64 " %" PRIu64 " %" PRIu64 " %d\n", pulled, cursor, head, snapshot ? 1 : 0);
	fflush(stdout);
}

/* Takes the replica's sync lock, waiting (if wait) up to timeout_ms for a
 * sync already running (said on a terminal). Returns a rove error,
 * reported. */
static int lock_sync(const rove_cli *cli, bool wait, rove_lockfile *lock)
{
	long holder;
	int rc = rove_lockfile_take(lock, cli->dir, ROVE_SYNC_LOCK_FILE, 0, &holder);

	if (rc == ROVE_ELOCKED && wait && cli->timeout_ms > 0) {
		if (isatty(STDERR_FILENO))
			fprintf(stderr, "rove: waiting for the sync already running on this replica (pid %ld)\n",
				holder);
		rc = rove_lockfile_take(lock, cli->dir, ROVE_SYNC_LOCK_FILE, cli->timeout_ms, &holder);
	}
	if (rc == ROVE_ELOCKED && holder > 0)
		rove_error("a sync is already running on this replica (pid %ld); try again when it ends",
			   holder);
	else if (rc == ROVE_ELOCKED)
		rove_error("a sync is already running on this replica; try again when it ends");
	else if (rc != ROVE_OK)
		rove_error("cannot lock replica '%s' for a sync: %s", cli->dir, rove_strerror(rc));
	return rc;
}

/* What a wait that ran out may be, said after it. */
#define SLOW_LINK CLI_SLOW_LINK("sync")

volatile sig_atomic_t cli_repairing;

int cmd_sync(rove_cli *cli, int argc, char **argv)
{
	rove_replica r;
	rove_lockfile lock;
	rove_sync_stats st = {0};
	/* the changes pending before and after (the confirmed ones) */
	struct {
		uint64_t pending;
	} before = {0}, after = {0};
	uint64_t confirmed = 0, lost_said = 0;
	char hint[ROVE_NET_HINT_BUF];
	static const char *const flags[] = {"json", "repair", NULL};
	bool given[2] = {false, false}, json, repair, ui = for_ui(), got_after;
	int rc, code;

	if (!cli_parse_flags(argc, argv, help, flags, given, &code))
		return code;
	json = given[0];
	repair = given[1];
	if (repair)
		rove_db_damage_hint(NULL); /* (the repair says its own way on) */
	/* A free list damaged first (a write would crash on it, or write over
	 * pending changes: attack sixty-nine), made anew from the records. */
	if (repair) {
		bool fixed;
		cli_repairing = 1;
		rc = rove_replica_pages_fix(cli->dir, &fixed, &lost_said);
		cli_repairing = 0;
		if (rc != ROVE_OK)
			return cli_exit(rc);
	}
	/* What of the sync's own state does not read is set anew first: the
	 * repair takes it from the server (attack sixty-four: a damaged base
	 * number left the replica unopenable, repair or not). */
	rc = repair ? rove_replica_meta_fix(cli->dir) : ROVE_OK;
	if (rc != ROVE_OK) {
		rove_error("cannot repair the replica's records of its sync: %s", rove_strerror(rc));
		return cli_exit(rc);
	}
	rc = cli_open(cli, &r);
	if (rc != ROVE_OK)
		return cli_exit(rc);
	r.lost_said = lost_said;
	/* A replica that cannot record what the server answers sends nothing. */
	rc = rove_replica_writable(&r);
	if (rc != ROVE_OK) {
		rove_replica_close(&r);
		return cli_exit(rc);
	}
	/* After opening (which only reads), so that a missing or foreign
	 * replica is reported as such and no lock file is left in it. */
	rc = lock_sync(cli, !ui, &lock);
	if (rc != ROVE_OK) {
		rove_replica_close(&r);
		return cli_exit(rc);
	}
	if (ui)
		rove_sync_set_progress(ui_progress, NULL);
	/* (Under the sync lock: no sync meanwhile takes the old epoch.) */
	rc = repair ? rove_replica_repair(&r) : ROVE_OK;
	if (rc != ROVE_OK)
		rove_error("cannot mark the replica for repair: %s", rove_strerror(rc));
	else
		rc = rove_replica_pending_count(&r, &before.pending);
	if (rc == ROVE_OK)
		rc = rove_sync(&r, cli->timeout_ms, !ui && want_progress(), &st);
	/* The changes an earlier sync sent and this one found confirmed (a
	 * sync killed after its push, attack sixty-eight: "pushed 0, accepted
	 * 0" where 6,000 were confirmed): those its pull settled beyond its
	 * own answers (changes made meanwhile by another command only make it
	 * fewer), and those the server answered it had already. None after a
	 * restore: its changes sent again say so (resent). */
	/* (held by the rate, what still waits is said from it below) */
	got_after = (rc == ROVE_OK || rc == ROVE_ERATE) && rove_replica_pending_count(&r, &after.pending) == ROVE_OK;
	if (got_after && st.resent == 0) {
		confirmed = st.taken + st.taken_again;
		/* (those dropped as damaged are not: attack eighty-six saw
		 * 100,003 "confirmed" that were lost) */
		if (before.pending > after.pending + st.accepted + st.rejected + st.dropped)
			confirmed += before.pending - after.pending - st.accepted - st.rejected - st.dropped;
	}
	if (rc == ROVE_ELOST)
		rove_error("the connection to the server at %s was lost%s; your changes are kept: what it confirmed "
			   "is recorded, and the next sync sends the rest",
			   r.server, st.lost[0] != '\0' ? st.lost : " during the sync, and the server does not answer again");
	else if (rove_err_unreached(rc) && st.pushed + st.pulled > 0)
		/* It answered, then stopped: not "cannot reach". */
		rove_error("the server at %s stopped answering during the sync (%s); your changes are kept: what it "
			   "answered is recorded (%llu change(s) sent, %llu item(s) pulled), and the next sync goes on "
			   "from there%s",
			   r.server, rove_strerror(rc), (unsigned long long)st.pushed, (unsigned long long)st.pulled,
			   rc == ROVE_ETIMEDOUT ? SLOW_LINK : "");
	else if (rc == ROVE_ETIMEDOUT && st.reached)
		/* Connected, and no answer in time: a slow link as likely as a
		 * server that hangs (attack seventy-nine: "cannot reach" while
		 * a reply was arriving at 160 kbit/s). */
		rove_error("the server at %s was reached but did not answer within %d ms; your changes are kept%s",
			   r.server, cli->timeout_ms, SLOW_LINK);
	else if (rove_err_unreached(rc))
		rove_error("cannot reach the server at %s (%s%s); your changes are kept", r.server,
			   rove_strerror(rc), rove_net_why_unreached(r.server, hint, sizeof(hint)));
	else if (rc == ROVE_EAUTH || rc == ROVE_EBUSY) /* said as it failed; what to do: */
		/* (A disabled user with the right token is told so; a wrong
		 * token learns nothing of the account. Past the failed-login
		 * limit only wrong tokens are answered busy: the right one
		 * always logs in, so waiting is not the way out.) */
		fprintf(stderr,
			"rove: note: the server does not take this replica's login '%s' with its token. Check "
			"the login (case counts: it was given at 'rove init'); or an admin may have replaced the "
			"token: ask them for the new one, then 'rove config token NEW'. Your changes are kept.\n",
			r.auth.user);
	if (st.pull_paced != 0)
		fprintf(stderr,
			"rove: note: a request for the server's changes was not answered within %d ms; the next sync "
			"asks for at most %u items a request\n",
			cli->timeout_ms, st.pull_paced);
	if (st.push_floor != 0)
		fprintf(stderr,
			"rove: note: a request of only %u change%s was not answered within %d ms: only a longer "
			"--timeout gets them through (e.g. rove --timeout 120000 sync)\n",
			st.push_floor, st.push_floor == 1 ? "" : "s", cli->timeout_ms);
	else if (st.push_paced != 0)
		fprintf(stderr,
			"rove: note: a request of changes was not answered within %d ms; the next sync sends at most "
			"%u changes a request\n",
			cli->timeout_ms, st.push_paced);
	if (rc == ROVE_ERATE && got_after)
		/* The server's text names the batch it refused; the rest waits too. */
		fprintf(stderr,
			"rove: note: %" PRIu64 " change(s) of this replica still pending in all; what this sync pulled "
			"is recorded, and later syncs send them as the server's rate allows\n",
			after.pending);
	rove_replica_close(&r);
	rove_lockfile_release(&lock);
	/* Held by the server's rate, the sync still did what it says (its
	 * pull went through): said, then it fails (exit 1, why on stderr). */
	if (rc != ROVE_OK && rc != ROVE_ERATE)
		return cli_exit(rc);
	if (json) {
		out_json j;
		out_json_init(&j, stdout);
		out_json_begin_object(&j);
		out_json_field_uint(&j, "pushed", st.pushed);
		out_json_field_uint(&j, "accepted", st.accepted);
		out_json_field_uint(&j, "rejected", st.rejected);
		out_json_field_uint(&j, "pulled", st.pulled);
		out_json_field_uint(&j, "cursor", st.cursor);
		/* Only when there is something to say (SPEC.md's five fields
		 * otherwise): a server restored from a backup. */
		if (st.resent > 0)
			out_json_field_uint(&j, "resent", st.resent);
		if (confirmed > 0)
			out_json_field_uint(&j, "confirmed", confirmed);
		/* pending changes lost to a damaged file, said on stderr (attack
		 * ninety: no JSON carried them) */
		if (st.changes_lost > 0)
			out_json_field_uint(&j, "lost", st.changes_lost);
		/* held by the server's rate: the changes still waiting, in all */
		if (rc == ROVE_ERATE && got_after)
			out_json_field_uint(&j, "held", after.pending);
		out_json_end_object(&j);
		out_json_finish(&j);
	} else {
		printf("pushed %" PRIu64 " (accepted %" PRIu64 ", rejected %" PRIu64 "), pulled %" PRIu64
		       ", cursor %" PRIu64 "\n",
		       st.pushed, st.accepted, st.rejected, st.pulled, st.cursor);
		if (st.resent > 0)
			printf("%" PRIu64 " change(s) sent again to a server restored from a backup\n", st.resent);
		/* (attack ninety-six: this sync's own, sent again on a new
		 * connection, were said to be an earlier sync's) */
		if (st.taken_again > 0)
			printf("%" PRIu64 " change(s) this sync sent on a connection lost before the answer were "
			       "found taken when sent again\n",
			       st.taken_again);
		if (confirmed > st.taken_again)
			printf("%" PRIu64 " change(s) sent by an earlier sync confirmed now\n",
			       confirmed - st.taken_again);
		if (st.rejected > 0)
			printf("%" PRIu64 " change(s) refused: see 'rove rejected'\n", st.rejected);
		if (rc == ROVE_ERATE && got_after)
			printf("%" PRIu64 " change(s) held by the server's rate: still pending\n", after.pending);
	}
	return rc == ROVE_OK ? ROVE_EXIT_OK : cli_exit(rc);
}
