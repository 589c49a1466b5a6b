#!/usr/bin/env bash
# roved compact DIR --keep-days N, while the server serves: drops the old
# ops (and their scopelog entries) but never the head; the database stays
# consistent (roved check); a replica whose cursor is behind the dropped
# ops gets a fresh snapshot at its next sync, keeping its pending
# changes, and converges; one that is current goes on incrementally.
. "$(dirname "$0")/lib.sh"

server_setup
territories east
users alice:rep:east mike:manager:east
sync_all admin alice mike

for i in $(seq 1 30); do r alice customer add --name "Cust $i" --territory east >/dev/null; done
r alice sync >/dev/null
r mike sync >/dev/null
# mike goes offline with a pending change; alice goes on editing.
mine=$(r mike customer add --name "Mike's own" --territory east)
first=$(r alice customer list --json | jq -r '.[0].id')
for i in 1 2 3 4 5; do r alice customer set "$first" "phone=1380000000$i" >/dev/null; r alice sync >/dev/null; done
head=$(r admin sync --json | jq .cursor)

# Nothing older than 30 days: nothing dropped.
"$ROVED_BIN" compact "$T/srv" --keep-days 30 2>"$T/err" || fail "compact: $(cat "$T/err")"
grep -q "dropped 0 op(s)" "$T/err" || fail "ops dropped at 30 days: $(cat "$T/err")"
# A machine whose clock reads 1970 (a dead clock battery, a cron job
# before NTP): "older than N days" counts from the server's own clock,
# which never goes back, so nothing is dropped.
need_faketime
for at in "@1970-01-01 00:00:00" "@1970-03-01 00:00:00"; do
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}$faketime_asan \
		LD_PRELOAD=$FAKETIME_LIB FAKETIME="$at" "$ROVED_BIN" compact "$T/srv" --keep-days 90 2>"$T/err" ||
		fail "compact with the clock at $at: $(cat "$T/err")"
	grep -q "dropped 0 op(s)" "$T/err" || fail "ops dropped with the clock at $at: $(cat "$T/err")"
done
# Everything older than now: all but the head.
"$ROVED_BIN" compact "$T/srv" --keep-days 0 2>"$T/err" || fail "compact: $(cat "$T/err")"
grep -q "dropped $((head - 1)) op(s) older than 0 day(s)" "$T/err" || fail "not all but the head: $(cat "$T/err")"
grep -q "the oplog holds ops $head to $head" "$T/err" || fail "the oplog: $(cat "$T/err")"
"$ROVED_BIN" check "$T/srv" >"$T/out" 2>&1 || fail "check after compaction: $(cat "$T/out")"

# mike, behind the dropped ops, syncs: his change goes out, and he takes
# a fresh copy of his scope.
out=$(r mike sync --json) || fail "mike's sync after compaction"
eq "$(jq .accepted <<<"$out")" "1" "mike's pending change was accepted"
r admin sync >/dev/null
want=$(r admin customer list --json | jq -c '[.[] | select(.territory == "east") | {id, name, phone}] | sort_by(.id)')
eq "$(r mike customer list --json | jq -c '[.[] | {id, name, phone}] | sort_by(.id)')" "$want" \
	"mike converged on the server's customers"
r mike customer show "$mine" >/dev/null || fail "mike's own customer is gone"
eq "$(r mike status --json | jq .pending)" "0" "nothing left pending"

# alice, current, syncs incrementally: new ops reach her.
r admin customer set "$first" "phone=13800000099" >/dev/null
r admin sync >/dev/null
r alice sync >/dev/null
eq "$(r alice customer show "$first" --json | jq -r .phone)" "13800000099" "alice sees the edit after compaction"

# Usage.
rc=0
"$ROVED_BIN" compact "$T/srv" 2>"$T/err" || rc=$?
eq "$rc" "2" "--keep-days is required"
rc=0
"$ROVED_BIN" compact "$T/srv" --keep-days -1 2>"$T/err" || rc=$?
eq "$rc" "2" "a negative --keep-days is a usage error"
rc=0
"$ROVED_BIN" compact "$T/none" --keep-days 1 2>"$T/err" || rc=$?
eq "$rc" "1" "no database: exit 1"

# A database with no op yet: its oplog is said to hold none (not "ops 1
# to 0").
"$ROVED_BIN" init "$T/empty" >/dev/null 2>&1
"$ROVED_BIN" compact "$T/empty" --keep-days 0 2>"$T/err" || fail "compact of an empty database: $(cat "$T/err")"
grep_q "dropped 0 op(s) older than 0 day(s) and 0 index entr(ies); the oplog holds no ops$" "$T/err" ||
	fail "the empty oplog: $(cat "$T/err")"
"$ROVED_BIN" check "$T/empty" >"$T/out" 2>&1 || fail "check after compacting nothing: $(cat "$T/out")"
echo "ok"
