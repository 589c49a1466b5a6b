#!/usr/bin/env bash
# A restart in place must start roved anew even when nng cannot close its
# socket. On the way to a restart (the listener guard's, after listens
# anew or descriptors short too long) roved closes its nng socket, and
# nng 1.5.2 waits for ever on the connections a stopped listener took:
# after 5 s roved gave up and exited with status 0, which a supervisor
# with Restart=on-failure (docs/roved.service) never starts again, so the
# server stayed down for good; and that restart happens exactly when such
# connections exist (attack thirty-seven: at the 1st to 5th restart,
# within a minute). Now it starts anew in place there too. Checked, over
# TCP under `ulimit -n 64` with restarts made frequent (ROVE_RELISTENS=1,
# ROVE_FDS_SHORT_MS=4000): the close hung at least once, roved is the
# same process, serving, and the changes made before, during and after
# are all on the server. nng's hang comes under this attack on some
# machines within a minute and on others not in two (2026-12-06: not
# once in three runs, old and new builds alike): ROVE_CLOSE_HANG=1 makes
# every close hang as nng's does, so that the start anew is checked on
# every machine.
. "$(dirname "$0")/lib.sh"
ROVE_RAW=${ROVE_RAW:?set ROVE_RAW to the rove_raw binary}

port=$(free_port)
URL="tcp://127.0.0.1:$port"
server_init
server_start_limited 64 ROVE_RELISTENS=1 ROVE_FDS_SHORT_MS=4000 ROVE_CLOSE_HANG=1
admin_replica
territory east
user_replica alice rep east
r admin sync >/dev/null
r alice sync >/dev/null
pid=$ROVED_PID
made=("$(r alice customer add --name "Before" --phone 13900002000)")
r alice sync >/dev/null

# Handshakes broken off, connections held open with half a request, and
# floods, over and over (attack thirty-seven's mix), until nng's close
# has hung on the way to a restart and roved has served after it, for at
# most 120 s; alice adds and syncs meanwhile (a sync may be cut: sent
# again by the next).
attack() {
	set +e
	while :; do
		timeout 3 "$ROVE_RAW" "$URL" abort 2 >/dev/null 2>&1
		timeout 3 "$ROVE_RAW" "$URL" close 3 >/dev/null 2>&1
		pids=()
		for _ in $(seq 1 10); do
			timeout 4 "$ROVE_RAW" "$URL" hold 100000 >/dev/null 2>&1 &
			pids+=($!)
		done
		for _ in $(seq 1 4); do
			ROVE_PROBE_TIMEOUT_MS=3000 timeout 4 "$ROVE_RAW" "$URL" flood 100000 >/dev/null 2>&1 &
			pids+=($!)
		done
		sleep 0.3
		wait "${pids[@]}"
	done
}
attack &
atk=$!
BG_PIDS+=($atk)
hung() {
	grep -c "nng did not close every connection" "$T/roved.log" || true
}
deadline=$((SECONDS + 120))
round=0
while [ "$(hung)" -lt 1 ] || ! tail -n 3 "$T/roved.log" | grep -q "serving on"; do
	kill -0 "$pid" 2>/dev/null ||
		fail "roved exited ($(grep -E 'nng did not close|anew in place' "$T/roved.log" | tail -2))"
	[ $SECONDS -lt $deadline ] ||
		fail "nng's close never hung in 120 s ($(grep -c 'to start anew in place' "$T/roved.log") restarts): nothing checked"
	round=$((round + 1))
	made+=("$(r alice customer add --name "During $round" --phone "1390000$(printf %04d "$round")")")
	rove -R "$T/alice" --timeout 5000 sync >/dev/null 2>&1 || true
	sleep 1
done
kill "$atk" 2>/dev/null || true
wait "$atk" 2>/dev/null || true
eq "$(kill -0 "$pid" 2>/dev/null && echo alive)" "alive" "the same roved process serves"
grep -q "every change is on disk: starting anew in place" "$T/roved.log" ||
	fail "the hung close did not say it starts anew: $(grep 'nng did not close' "$T/roved.log")"

made+=("$(r alice customer add --name "After" --phone 13900002001)")
deadline=$((SECONDS + 60))
until rove -R "$T/alice" --timeout 5000 sync >/dev/null 2>"$T/err"; do
	[ $SECONDS -lt $deadline ] || fail "no sync got through in 60 s after the attack ($(cat "$T/err"))"
	sleep 1
done
r admin sync >/dev/null
eq "$(r alice status --json | jq .pending)" "0" "alice's changes all sent"
for id in "${made[@]}"; do
	eq "$(r admin customer show "$id" --json | jq -r .owner)" "alice" "customer $id on the server"
done
echo "hung closes: $(hung); restarts: $(grep -c 'to start anew in place' "$T/roved.log"); customers: ${#made[@]}" >&2
server_stop
echo "ok"
