/* cmd_status.c - `rove status`: the replica's user, server, pending and refused work, last sync. */
#include "cli.h"
#include "err.h"
#include "log.h"
#include "out.h"

#include <inttypes.h>

static const char help[] =
	"usage: rove status [--json]\n"
	"\n"
	"Show the replica's user, role, server, pending ops, rejected changes,\n"
	"cursor and last sync. Pending ops the server has already accepted (a\n"
	"sync ended before it pulled them back) are counted as sent; the next\n"
	"sync confirms them ('rove pending' marks them). When the last sync\n"
	"found this computer's clock ahead of the server's or behind it, it\n"
	"says by how much: times made here (a visit's, a deal's closing day,\n"
	"the order of your changes against others') follow the server's clock\n"
	"(after a restart, only once a sync measures it again).\n"
	"After a restore of the server, a manager's or admin's replica says\n"
	"how many records others wrote that the server lacks it holds\n"
	"(orphans; \"orphans\" in JSON, only then). JSON has the clock's lead\n"
	"or lag only when the text shows it: \"clock_ahead_ms\" or\n"
	"\"clock_behind_ms\", and \"clock_held\":true when it is held since a\n"
	"restart.\n";

/* How far (out_span), which way ("ahead of", "behind"), then what
 * follows. */
static void print_ahead(uint64_t ms, const char *way, const char *then)
{
	char span[48];

	out_span(ms, span, sizeof(span));
	printf("clock:     %s %s the server's %s\n", span, way, then);
}

int cmd_status(rove_cli *cli, int argc, char **argv)
{
	rove_replica r;
	rove_replica_status s;
	char id[ROVE_UUID_STRLEN + 1], when[40] = "never";
	const char *drops;
	bool json = false;
	int rc, code;

	if (!cli_open_json(cli, argc, argv, help, &json, &r, &code))
		return code;
	rc = rove_replica_status_get(&r, &s);
	if (rc != ROVE_OK) {
		rove_replica_close(&r);
		return cli_exit(rc);
	}
	rove_uuid_format(&r.id, id);
	if (s.last_sync_ms != 0)
		out_time(s.last_sync_ms, when, sizeof(when));
	if (json) {
		out_json j;
		out_json_init(&j, stdout);
		out_json_begin_object(&j);
		out_json_field_str(&j, "user", r.auth.user);
		out_json_field_str(&j, "role", r.role);
		out_json_field_str(&j, "server", r.server);
		out_json_field_str(&j, "replica", id);
		out_json_field_uint(&j, "pending", s.pending);
		out_json_field_uint(&j, "rejected", s.rejected);
		out_json_field_uint(&j, "cursor", s.cursor);
		out_json_field_str(&j, "last_sync", s.last_sync_ms != 0 ? when : NULL);
		if (s.orphans > 0) /* only after a restore */
			out_json_field_uint(&j, "orphans", s.orphans);
		/* only when the text says it: the lead applied, or held */
		if (s.clock_ahead_ms >= ROVE_CLOCK_AHEAD_SHOWN_MS) {
			out_json_field_uint(&j, "clock_ahead_ms", s.clock_ahead_ms);
		} else if (s.clock_behind_ms >= ROVE_CLOCK_AHEAD_SHOWN_MS) {
			out_json_field_uint(&j, "clock_behind_ms", s.clock_behind_ms);
		} else if (s.clock_held_ms >= ROVE_CLOCK_AHEAD_SHOWN_MS) {
			out_json_field_uint(&j, "clock_ahead_ms", s.clock_held_ms);
			out_json_field_bool(&j, "clock_held", true);
		} else if (s.clock_held_behind_ms >= ROVE_CLOCK_AHEAD_SHOWN_MS) {
			out_json_field_uint(&j, "clock_behind_ms", s.clock_held_behind_ms);
			out_json_field_bool(&j, "clock_held", true);
		}
		out_json_end_object(&j);
		out_json_finish(&j);
	} else {
		fputs("user:      ", stdout);
		out_text(stdout, r.auth.user);
		fputs(" (", stdout);
		out_text(stdout, r.role);
		fputs(")\nserver:    ", stdout);
		out_text(stdout, r.server);
		printf("\nreplica:   %s\n", id);
		printf("pending:   %" PRIu64 " op(s)", s.pending);
		if (s.sent > 0)
			printf(", %" PRIu64 " of them sent: %s", s.sent,
			       s.pages_damaged ? "a sync confirms them once 'rove sync --repair' has made the file anew"
					       : "the next sync confirms them");
		putchar('\n');
		printf("rejected:  %" PRIu64 "\n", s.rejected);
		printf("cursor:    %" PRIu64 "\n", s.cursor);
		printf("last sync: %s\n", when);
		if (s.orphans > 0)
			printf("orphans:   %" PRIu64 " record(s) others wrote that the restored server lacks: sent as "
			       "yours a day after the recovery unless their authors send them first\n",
			       s.orphans);
		if (s.clock_ahead_ms >= ROVE_CLOCK_AHEAD_SHOWN_MS)
			print_ahead(s.clock_ahead_ms, "ahead of", "(times made here follow the server's)");
		else if (s.clock_behind_ms >= ROVE_CLOCK_AHEAD_SHOWN_MS)
			print_ahead(s.clock_behind_ms, "behind", "(times made here follow the server's)");
		else if (s.clock_held_ms >= ROVE_CLOCK_AHEAD_SHOWN_MS || s.clock_held_behind_ms >= ROVE_CLOCK_AHEAD_SHOWN_MS)
			print_ahead(s.clock_held_ms ? s.clock_held_ms : s.clock_held_behind_ms,
				    s.clock_held_ms ? "ahead of" : "behind",
				    "at the last sync, before this computer restarted: times made here "
				    "follow this computer's clock until a sync measures it again");
	}
	/* (before a sync, which drops them and says so: attack eighty-four
	 * found changes lost with no word of it until then; or the repair,
	 * where the pages that hold them are damaged too) */
	drops = s.pages_damaged ? "'rove sync --repair'" : "the next sync";
	if (s.damaged > s.damaged_sent)
		rove_warn("%" PRIu64 " pending change%s of this replica do%s not read whole (damaged on the disk): %s "
			  "drops %s and names %s: look for %s after that, and make %s again only if %s missing",
			  s.damaged - s.damaged_sent, s.damaged - s.damaged_sent == 1 ? "" : "s",
			  s.damaged - s.damaged_sent == 1 ? "es" : "", drops, s.damaged - s.damaged_sent == 1 ? "it" : "them",
			  s.damaged - s.damaged_sent == 1 ? "its record" : "their records",
			  s.damaged - s.damaged_sent == 1 ? "it" : "them", s.damaged - s.damaged_sent == 1 ? "it" : "them",
			  s.damaged - s.damaged_sent == 1 ? "it is" : "they are");
	/* (one marked sent may be on the server: made again, it was twice,
	 * attack eighty-six) */
	if (s.damaged_sent > 0)
		rove_warn("%" PRIu64 " pending change%s of this replica that %s sent do%s not read whole (damaged on "
			  "the disk): %s drops %s; the server may hold %s: look after the sync before making %s again",
			  s.damaged_sent, s.damaged_sent == 1 ? "" : "s", s.damaged_sent == 1 ? "was" : "were",
			  s.damaged_sent == 1 ? "es" : "", drops, s.damaged_sent == 1 ? "it" : "them",
			  s.damaged_sent == 1 ? "it" : "them", s.damaged_sent == 1 ? "it" : "them");
	rove_replica_say_gone(s.gone);
	if (s.lost_unsaid)
		rove_warn("a sync cut short before it said so dropped pending changes of this replica as damaged: the "
			  "next sync says which");
	if (s.pages_damaged)
		rove_warn("the replica's file is damaged: a sync refuses until 'rove sync --repair' makes it anew from "
			  "what of it reads whole");
	if (!json) {
		bool repairing = false;
		/* (a repair cut short: attack sixty-four found no sign of it) */
		rc = rove_replica_repairing(&r, &repairing);
		if (rc == ROVE_OK && repairing)
			puts("repair:    under way: the next sync takes the server's records anew");
	}
	rove_replica_close(&r);
	/* (a damaged record of the sync's state, said as it was read) */
	return rc == ROVE_OK ? ROVE_EXIT_OK : cli_exit(rc);
}
