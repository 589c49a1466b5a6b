#!/usr/bin/env bash
# A roved started anew in place whose metrics port another local process
# took in the moment between the two images serves syncs anyway, and the
# metrics once the port is free. It waited with syncs kept out until the
# port was free (attack seventy-five: a busy metrics port kept the
# reps' syncs down). The restart is forced as in t_restart_wait: silent
# connections hold the descriptors under `ulimit -n 64`. Such a restart,
# a client's doing, also gives no one a fresh burst of changes: the
# users' rate buckets start empty (attack seventy-eight: each forced
# restart refilled them).
. "$(dirname "$0")/lib.sh"

port=$(free_port)
mport=$(free_port)
URL="tcp://127.0.0.1:$port"
server_init
ROVED_ARGS="--metrics 127.0.0.1:$mport" server_start_limited 64 ROVE_FDS_SHORT_MS=2000 \
	ROVE_USER_OPS_BURST=1000 ROVE_USER_OPS_PER_S=1
pid=$ROVED_PID
admin_replica
territories east
users wang:rep:east
rove -R "$T/admin" sync >/dev/null
# (read whole first: grep -q leaving early would fail curl's write, and
# the pipe with it)
grep -q "^roved_" <<<"$(curl -sf "http://127.0.0.1:$mport/metrics")" || fail "no metrics before the restart"

# The squatter: binds the metrics port as soon as it is free, and holds
# it (accepting nothing) until $T/squat.stop appears.
python3 - "$mport" "$T/squat.ready" "$T/squat.stop" <<'PY' &
import os, socket, sys, time
port, ready, stop = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
while True:
    try:
        s.bind(('127.0.0.1', port))
        break
    except OSError:
        time.sleep(0.001)
s.listen(1)
open(ready, 'w').close()
while not os.path.exists(stop):
    time.sleep(0.05)
PY
squat=$!
BG_PIDS+=($squat)
silent_sockets "$port" 200 12 &
silent=$!
BG_PIDS+=($silent)
wait_for 40 "the squatter taking the metrics port at the restart" test -e "$T/squat.ready"
wait "$silent" 2>/dev/null || true

# Syncs are served, by the same process, while the port is held.
deadline=$((SECONDS + 30))
until r admin --timeout 3000 sync >/dev/null 2>"$T/err"; do
	[ $SECONDS -lt $deadline ] || fail "no sync while the metrics port was taken ($(cat "$T/err"); $(tail -3 "$T/roved.log"))"
	sleep 0.5
done
eq "$(kill -0 "$pid" 2>/dev/null && echo alive)" "alive" "the same roved process serves syncs"
# wang, who pushed nothing before, finds his bucket as if emptied at the
# restart: 1,000 ops (a whole burst) are refused.
probe wang push create 1 01a24b00-0000-7000-8000-000000000001 name=X --repeat 1000 >"$T/burst" || true
grep -q '"error":26' "$T/burst" || fail "a fresh burst after a forced restart: $(cat "$T/burst")"
grep -q "serving syncs without the metrics for now" "$T/roved.log" || fail "roved did not say why: $(tail -5 "$T/roved.log")"
[ -e "$T/squat.ready" ] && kill -0 "$squat" 2>/dev/null || fail "the squatter let go too early"

# The port free again: the metrics come back within a few tries.
touch "$T/squat.stop"
wait "$squat" 2>/dev/null || true
wait_for 30 "the metrics back after the port was freed" \
	bash -c "curl -sf http://127.0.0.1:$mport/metrics | grep -q '^roved_'"
r admin sync >/dev/null
server_stop
echo "ok"
