#!/usr/bin/env bash
# rove ends its command even when closing its connection does not
# finish. CI once saw a sync that had timed out over a slow link hang in
# nng_close for seven minutes (the library's teardown waiting on a task
# that never ended): a laptop's sync, a script's cron job, stuck for
# good. Here every socket's shutdown() never returns
# (tests/tools/rove_stall_shutdown, preloaded): a sync that succeeded, a
# sync that timed out and an admin command must each end, in a few
# seconds more than their work, with their usual exit status and what
# they did kept.
. "$(dirname "$0")/lib.sh"

stall="$(dirname "$ROVE_RAW")/librove_stall_shutdown.so"
[ -f "$stall" ] || fail "no $stall (built with the tests)"

# stalled LIMIT_S COMMAND...: COMMAND with every socket's shutdown()
# stalled, killed after LIMIT_S seconds; its status in STATUS, its time
# in TOOK (ms), its stdout and stderr in $T/out and $T/err.
stalled() {
	local limit=$1 start
	shift
	start=$(date +%s%N)
	set +e
	LD_PRELOAD="$stall" ROVE_STALL_SHUTDOWN_S=600 \
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0:detect_leaks=0 \
		timeout -s KILL "$limit" "$@" >"$T/out" 2>"$T/err"
	STATUS=$?
	set -e
	TOOK=$(elapsed_ms "$start")
}

server_init
SPORT=$(free_port)
URL="tcp://127.0.0.1:$SPORT"
server_start
admin_replica
territory east
users qian:rep:east
r qian sync >/dev/null

# A sync that succeeds: its changes are taken and it says so.
r qian customer add --name "Stalled Close Ltd" --phone 13700001111 >/dev/null
stalled 30 "$ROVE_BIN" -R "$T/qian" sync --json
echo "a sync whose close stalls: exit $STATUS in $TOOK ms"
eq "$STATUS" 0 "the sync ended as it succeeded (stderr: $(tail -n 3 "$T/err"))"
eq "$(jq .accepted "$T/out")" 1 "the change was taken"
eq "$(r qian status --json | jq .pending)" 0 "nothing left pending"

# An admin command.
stalled 30 "$ROVE_BIN" -R "$T/admin" admin user add zhao --role rep --territory east
eq "$STATUS" 0 "the admin command ended as it succeeded (stderr: $(tail -n 3 "$T/err"))"

# A sync that times out: the server stops answering (SIGSTOP) once the
# connection is up.
r qian customer add --name "Timed Out Ltd" --phone 13700002222 >/dev/null
proxy_start proxy.log --stall-after 1
rove -R "$T/qian" config server "tcp://127.0.0.1:$PPORT" >/dev/null
stalled 30 "$ROVE_BIN" -R "$T/qian" --timeout 1000 sync
echo "a timed-out sync whose close stalls: exit $STATUS in $TOOK ms"
eq "$STATUS" 3 "the timed-out sync ended as one (stderr: $(tail -n 3 "$T/err"))"
eq "$(r qian status --json | jq .pending)" 1 "its change still pending"
rove -R "$T/qian" config server "$URL" >/dev/null
eq "$(r qian sync --json | jq .accepted)" 1 "and taken by the next sync"

# The same while connecting (attack eighty-four): a connection set up
# too slowly (a proxy holding it 3 s) times out, and nng closes the
# dialer's half-made connection inside the dial; and a server killed
# during a pull: the lost connection's dialer closed before dialling
# again. Each waited for the close: 21-103 s, an hour with the stall's
# default. A watchdog on the network's waits now ends the command
# (exit 3, said) a few seconds past its timeout.
proxy_start proxy2.log --delay-ms 3000
rove -R "$T/qian" config server "tcp://127.0.0.1:$PPORT" >/dev/null
r qian customer add --name "Slow Dial Ltd" --phone 13700003333 >/dev/null
stalled 30 "$ROVE_BIN" -R "$T/qian" --timeout 1000 sync
echo "a sync whose dial times out, its close stalled: exit $STATUS in $TOOK ms"
eq "$STATUS" 3 "the sync ended as unreachable (stderr: $(tail -n 3 "$T/err"))"
[ "$TOOK" -lt 15000 ] || fail "it took $TOOK ms"
# (what the watchdog says holds whether or not anything was saved:
# "what this command saved stays" read oddly when nothing was, attack 85)
grep_q "stopped; your changes are kept: what the server confirmed is recorded" "$T/err" ||
	fail "the watchdog's words: $(cat "$T/err")"
rove -R "$T/qian" config server "$URL" >/dev/null
eq "$(r qian sync --json | jq .accepted)" 1 "the change taken by the next sync"

users hq:analyst
many_customers qian 2000 200
LD_PRELOAD="$stall" ROVE_STALL_SHUTDOWN_S=100 ROVE_PULL_BATCH=1 \
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0:detect_leaks=0 \
	timeout -s KILL 60 "$ROVE_BIN" -R "$T/hq" --timeout 3000 sync --json >"$T/out" 2>"$T/err" &
pid=$!
start=$(date +%s%N)
sleep 0.3
server_kill
set +e
wait "$pid"
STATUS=$?
set -e
TOOK=$(elapsed_ms "$start")
echo "a pull whose server was killed, the close stalled: exit $STATUS in $TOOK ms"
eq "$STATUS" 3 "the pull ended as unreachable (stderr: $(tail -n 3 "$T/err"))"
[ "$TOOK" -lt 15000 ] || fail "it took $TOOK ms"
echo ok
