#!/usr/bin/env bash
# Listening anew must not leak roved's descriptors. nng 1.5.2 keeps, of a
# listener it closes, its descriptor and those of the connections that
# finished their handshake after its accept loop stopped: clients that
# connect and close at once, over and over, made roved listen anew every
# few seconds and leak a few descriptors each time, until none were left
# and every sync timed out for good (attack thirty-five: 56 times with
# 200 descriptors, over tcp:// and ipc://). After ROVE_RELISTENS (16;
# here 3) times roved now starts anew in place (the same pid), which
# frees them all. Checked: after the guard found the listener stopped 9
# times (3 of them restarts, the last one too; 6 and 2 under the
# sanitizers) roved holds no more than a
# few descriptors past what it held before, the same process serves,
# every sync gets through and every change made meanwhile is kept.
. "$(dirname "$0")/lib.sh"
ROVE_RAW=${ROVE_RAW:?set ROVE_RAW to the rove_raw binary}

export ROVE_RELISTENS=3
server_setup
territory east
user_replica alice rep east
r admin sync >/dev/null
r alice sync >/dev/null
pid=$ROVED_PID
cmdline_before=$(tr '\0' ' ' </proc/"$pid"/cmdline)
sleep 1
fds_before=$(ls /proc/"$pid"/fd | wc -l)

events() {
	grep -cE "listening again|starting roved anew in place" "$T/roved.log" || true
}
made=()
# Nine listens anew (three restarts); six (two) under the sanitizers
# (ROVE_SANITIZED=1), where each takes longer: the same paths.
want=9
[ "${ROVE_SANITIZED:-0}" != 1 ] || want=6
deadline=$((SECONDS + 150))
round=0
while [ "$(events)" -lt "$want" ]; do
	[ $SECONDS -lt $deadline ] || fail "only $(events) listens anew in 150 s (expected $want)"
	"$ROVE_RAW" "$URL" close 3 >/dev/null 2>&1 || true
	"$ROVE_RAW" "$URL" abort 2 >/dev/null 2>&1 || true
	round=$((round + 1))
	if [ $((round % 5)) -eq 0 ]; then
		made+=("$(r alice customer add --name "Customer $round" --phone "1390000$(printf %04d "$round")")")
		# It may be cut by a listen anew, or wait for one: sent again
		# by the next.
		rove -R "$T/alice" --timeout 20000 sync >/dev/null 2>&1 || true
	fi
	sleep 0.2
done

# The next syncs get through (within the guard's period), and nothing
# acknowledged or pending was lost.
r alice sync >/dev/null
r admin sync >/dev/null
eq "$(r alice status --json | jq .pending)" "0" "alice's changes all sent"
for id in "${made[@]}"; do
	eq "$(r admin customer show "$id" --json | jq -r .owner)" "alice" "customer $id on the server"
done
sleep 1
restarts=$(grep -c "starting roved anew in place" "$T/roved.log" || true)
fds_after=$(ls /proc/"$pid"/fd | wc -l)
echo "events: $(events) ($restarts restarts, ${#made[@]} customers made); descriptors: $fds_before before, $fds_after after" >&2
[ "$fds_after" -le $((fds_before + 4)) ] ||
	fail "roved holds $fds_after descriptors, $fds_before before $(events) listens anew: they leak"
eq "$(kill -0 "$pid" 2>/dev/null && echo alive)" "alive" "the same roved process serves"
# under its name (it was "exe" after a start anew: attack sixty)
eq "$(cat /proc/"$pid"/comm)" "$(basename "$ROVED_BIN" | cut -c1-15)" "roved's process name after $restarts starts anew"
# and its command line as it was given (not as getopt reordered it)
eq "$(tr '\0' ' ' </proc/"$pid"/cmdline)" "$cmdline_before" "roved's command line after $restarts starts anew"
# At every third listen anew at the latest (the guard also starts anew
# when nng's poll thread spins after one: t_ipc_stall).
run=$(awk '/listening again/ { n++; if (n > m) m = n } /starting roved anew in place/ { n = 0 } END { print m + 0 }' "$T/roved.log")
[ "$run" -le 2 ] || fail "roved listened anew $run times in a row (ROVE_RELISTENS=3)"
[ "$restarts" -ge "$((want / 3))" ] || fail "roved started anew $restarts times in $want listens anew"
server_stop
echo "ok"
