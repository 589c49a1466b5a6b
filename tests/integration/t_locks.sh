#!/usr/bin/env bash
# One of each at a time: a second server on the same ipc:// path fails
# without disturbing the first; a second server on the same directory
# exits 1 naming the first; a second `rove sync` on one replica waits for
# the first or exits 1 saying so, and nothing is lost or sent twice.
. "$(dirname "$0")/lib.sh"

server_setup
territories east
users alice:rep:east

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# A second server, on another directory, on the same ipc:// path.
"$ROVED_BIN" init "$T/other" >/dev/null 2>&1
set +e
out=$(timeout 20 "$ROVED_BIN" serve "$T/other" --listen "$URL" 2>&1)
rc=$?
set -e
eq "$rc" "1" "a second server on the same ipc:// path ($out)"
t0=$(date +%s%N)
# Undisturbed: at once, not after the guard has had to listen again.
r admin --timeout 1500 sync >/dev/null || fail "the first server stopped answering after a second one tried its path"
echo "the first server answered in $(elapsed_ms "$t0") ms" >&2
c0=$(cpu_ticks "$ROVED_PID")
sleep 2
c1=$(cpu_ticks "$ROVED_PID")
[ $((c1 - c0)) -lt "$(getconf CLK_TCK)" ] || fail "the idle first server used $((c1 - c0)) ticks of CPU in 2 s"
grep -qF "another server is listening on '$URL'" <<<"$out" || fail "unclear error for a busy ipc:// path: $out"
server_listening || fail "the first server's socket file is gone"

# A second server on the same directory (on another address) exits 1,
# naming the first; so does `roved init` there.
set +e
out=$(timeout 20 "$ROVED_BIN" serve "$T/srv" --listen "ipc://$T/second.sock" 2>&1)
rc=$?
set -e
eq "$rc" "1" "a second server on the same directory ($out)"
grep -qF "'$T/srv' is in use by another roved (pid $ROVED_PID)" <<<"$out" ||
	fail "unclear error for a directory in use: $out"
[ ! -e "$T/second.sock" ] || fail "the second server listened before it found the directory in use"
set +e
out=$("$ROVED_BIN" init "$T/srv" 2>&1 >/dev/null)
rc=$?
set -e
eq "$rc" "1" "roved init on a directory being served ($out)"
r admin sync >/dev/null
# The lock dies with its process: a SIGKILLed server restarts at once.
server_kill
server_start
r admin sync >/dev/null

# Two syncs of one replica at once. Alice has 300 changes to push, one
# per request, so that her sync lasts; a first sync is frozen (SIGSTOP)
# as soon as it holds the replica's sync lock (or, without a lock, once
# it has connected to the server), so the second meets it for certain.
{
	echo "name,phone,territory"
	for i in $(seq 1 300); do echo "Queued $i,1390000$(printf %04d "$i"),east"; done
} >"$T/queued.csv"
r alice import customers "$T/queued.csv" >/dev/null
lock_held() { ! flock -n "$T/alice/sync.lock" true 2>/dev/null; }
holds_lock() { [ "$(cat "$T/alice/sync.lock" 2>/dev/null)" == "$1" ] && lock_held; }
connected() { ls -l "/proc/$1/fd" 2>/dev/null | grep_q 'socket:'; }
in_sync() { holds_lock "$1" || connected "$1"; }
ROVE_PUSH_BATCH=1 "$ROVE_BIN" -R "$T/alice" --timeout 60000 sync --json >"$T/sync1" 2>"$T/sync1.err" &
first=$!
BG_PIDS+=("$first")
wait_for 60 "the first sync to start" in_sync "$first"
kill -STOP "$first"
state() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null; }
stopped() {
	case "$(state "$1")" in
	T) return 0 ;;
	Z | "") fail "the first sync ended before it could be frozen (300 round trips in under 50 ms?)" ;;
	*) return 1 ;;
	esac
}
wait_for 30 "the first sync to stop" stopped "$first"
set +e
out=$(ROVE_PUSH_BATCH=1 timeout 60 "$ROVE_BIN" -R "$T/alice" --timeout 1000 sync 2>&1)
rc=$?
set -e
eq "$rc" "1" "a second sync while the first runs ($out)"
grep -qF "a sync is already running on this replica (pid $first)" <<<"$out" ||
	fail "unclear error for a second sync: $out"
# A third, with time to wait, waits for the first and then syncs.
ROVE_PUSH_BATCH=1 "$ROVE_BIN" -R "$T/alice" --timeout 60000 sync --json >"$T/sync3" 2>"$T/sync3.err" &
third=$!
BG_PIDS+=("$third")
kill -CONT "$first"
wait "$first" || fail "the first sync failed: $(cat "$T/sync1.err")"
wait "$third" || fail "the sync that waited failed: $(cat "$T/sync3.err")"
eq "$(jq .pushed "$T/sync1")" "300" "the first sync pushed everything"
eq "$(jq .pushed "$T/sync3")" "0" "the sync that waited had nothing left to push"
eq "$(r alice status --json | jq .pending)" "0" "nothing pending"
eq "$(r alice rejected --json | jq length)" "0" "nothing refused"
r admin sync >/dev/null
eq "$(r admin customer list --json | jq '[.[] | select(.name | startswith("Queued "))] | length')" "300" \
	"every queued customer is on the server once"
eq "$(ids_of alice | wc -l)" "300" "alice holds her 300 customers"
echo "ok"
