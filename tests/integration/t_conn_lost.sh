#!/usr/bin/env bash
# A server killed in the middle of a sync: the connection is gone, and
# `rove sync` says so at once (exit 3, "connection ... was lost") instead
# of waiting out its --timeout for an answer that cannot come. Nothing is
# lost or doubled: the next sync, with the server back, sends what was
# not confirmed, and every replica converges. A server back within 2 s
# is waited for: the sync goes on.
# Its one-shot commands keep LeakSanitizer's check (lib.sh, rove).
LEAKS_ONESHOT=1
. "$(dirname "$0")/lib.sh"

tcp_server
territory east
user_replica alice rep east

# A push of many requests (one op each: ROVE_PUSH_BATCH), so that the
# server can be stopped while it runs.
N=2000
customers_csv "$T/many.csv" "$N" Lost 1390
r alice import customers "$T/many.csv" >/dev/null
eq "$(r alice status --json | jq .pending)" "$N" "pending before the sync"

ROVE_PUSH_BATCH=1 "$ROVE_BIN" -R "$T/alice" --timeout 30000 sync >"$T/sync.out" 2>"$T/sync.err" &
spid=$!
BG_PIDS+=("$spid")
# (Ops stay pending until the pull brings them back; status counts those
# the server has.)
pushing() { r alice status | grep_q "of them sent"; }
wait_for 20 "the push to begin" pushing
# The server stops where it is, with the sync's next request on its way
# or waiting in its socket; then it is killed, and its connections with it.
kill -STOP "$ROVED_PID"
kill -0 "$spid" 2>/dev/null || fail "the sync ended before the server was stopped: $(cat "$T/sync.err")"
sleep 0.3
t0=$(date +%s%N)
kill -9 "$ROVED_PID"
wait "$ROVED_PID" 2>/dev/null || true
ROVED_PID=
set +e
wait "$spid"
status=$?
set -e
ms=$(elapsed_ms "$t0")
eq "$status" "3" "the sync whose server was killed ($(cat "$T/sync.err"))"
[ "$ms" -lt 5000 ] || fail "the sync took $ms ms to give up on a killed server (its --timeout is 30000)"
grep -q "the connection to the server at $URL was lost" "$T/sync.err" ||
	fail "no 'connection lost' message: $(cat "$T/sync.err")"
[ ! -s "$T/sync.out" ] || fail "the cut sync printed on stdout: $(cat "$T/sync.out")"
eq "$(r alice status --json | jq .pending)" "$N" "pending after the cut sync (some of them sent)"

# The server back: the next sync sends what the cut one left, and every
# customer is on the server exactly once.
server_start
out=$(r alice sync --json) || fail "the sync after the restart failed"
eq "$(r alice status --json | jq .pending)" "0" "nothing pending after the next sync"
r admin sync >/dev/null
all=$(r admin customer list --json)
eq "$(jq length <<<"$all")" "$N" "every customer on the server"
eq "$(jq '[.[].name] | unique | length' <<<"$all")" "$N" "no customer twice"
eq "$(r alice customer list --json | jq length)" "$N" "alice holds them all"
eq "$(r alice customer list --json | jq '[.[] | select(.pending)] | length')" "0" "none left pending"
echo "accepted by the sync after the restart: $(jq .accepted <<<"$out") of $N"

# A server restarted in the middle of a sync (killed, and back within a
# second, as a service manager does; or listening anew, as roved's guard
# does): the sync dials again while it is refused, for up to 2 s
# (ROVE_LOST_REDIAL_MS), and goes on to the end. Before, the first
# refused dial ended it (exit 3).
customers_csv "$T/more.csv" 500 Back 1391
r alice import customers "$T/more.csv" >/dev/null
ROVE_PUSH_BATCH=1 "$ROVE_BIN" -R "$T/alice" --timeout 30000 sync >"$T/sync.out" 2>"$T/sync.err" &
spid=$!
BG_PIDS+=("$spid")
wait_for 20 "the second push to begin" pushing
kill -9 "$ROVED_PID"
wait "$ROVED_PID" 2>/dev/null || true
ROVED_PID=
server_start
set +e
wait "$spid"
status=$?
set -e
eq "$status" "0" "a sync whose server was restarted under it ($(cat "$T/sync.err"))"
eq "$(r alice status --json | jq .pending)" "0" "nothing pending after a sync across a restart"
r admin sync >/dev/null
eq "$(r admin customer list --json | jq length)" "$((N + 500))" "every customer on the server once"

# Nothing listens any more: a new sync is unreachable (exit 3) at once,
# as before.
server_kill
r alice customer add --name "After the end" >/dev/null
exits_as alice 3 --timeout 30000 sync
grep -q "cannot reach the server" "$T/err" || fail "unclear: $(cat "$T/err")"
echo "ok"
