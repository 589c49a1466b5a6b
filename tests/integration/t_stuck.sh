#!/usr/bin/env bash
# A flood that nng 1.5.2 cannot survive: 60 unauthenticated connections
# send the SP header and thousands of small requests, never read a reply,
# and close after 4 s. Closing a connection while a reply is still being
# written to it hangs nng's reaper for good (SECURITY.md): from then on no
# connection's descriptor was ever freed, and at the limit every sync
# timed out (an outside tester's finding). Now, within a bounded time,
# either every descriptor is freed again or roved exits with status 1,
# saying why, for its service manager to start it anew; restarted, it
# serves, and nothing stored is lost.
. "$(dirname "$0")/lib.sh"

# The guard's bounds, lowered (test knobs, docs/ENVIRONMENT.md): the idle
# cut from 30 s, and how long a cut connection may stay open before roved
# takes nng for hung from 60 s. Either outcome below is checked.
IDLE_S=3 LINGER_S=6
export ROVE_IDLE_MS=$((IDLE_S * 1000)) ROVE_CUT_LINGER_MS=$((LINGER_S * 1000))
tcp_server
territory east
rove -R "$T/admin" sync >/dev/null
id=$(rove -R "$T/admin" customer add --name "Before the flood" --territory east)
rove -R "$T/admin" sync >/dev/null
fds() { find "/proc/$ROVED_PID/fd" -mindepth 1 2>/dev/null | wc -l; }
before=$(fds)

python3 - "$SPORT" <<'EOF'
import os, socket, struct, sys, time
port = int(sys.argv[1])
socks = []
msg = b'\x80\x00\x00\x01' + os.urandom(20)
frame = struct.pack('>Q', len(msg)) + msg
for _ in range(60):
    s = socket.create_connection(('127.0.0.1', port))
    s.send(b'\x00SP\x00\x00\x30\x00\x00')  # a REQ peer's header
    s.setblocking(False)
    try:
        for _ in range(100000):
            s.send(frame * 100)
    except (BlockingIOError, OSError):
        pass
    socks.append(s)
time.sleep(4)
for s in socks:
    s.close()
EOF
flood_end=$SECONDS

# Freed, or roved gone with its reason, within the guard's bound (a cut
# connection may linger ROVE_CUT_LINGER_MS, after the idle cut).
settled() {
	! kill -0 "$ROVED_PID" 2>/dev/null || [ "$(fds)" -le $((before + 4)) ]
}
wait_for 150 "roved to free the flood's descriptors or exit" settled
# Freed descriptors do not say nng is well: its reaper can hang with the
# sockets closed and the connections never released (seen in CI), and
# roved says so only once a cut connection outlives the linger bound.
# So the outcome is known only past that bound: the flood's connections
# are cut an idle time after their last request (roved may still read
# buffered ones for seconds after the flood closed them), then may
# linger; the guard looks once a second. The wait ends early when roved
# exits, the usual outcome.
until=$((flood_end + IDLE_S + LINGER_S + 10))
while kill -0 "$ROVED_PID" 2>/dev/null && [ "$SECONDS" -lt "$until" ]; do
	sleep 0.2
done
if ! kill -0 "$ROVED_PID" 2>/dev/null; then
	set +e
	wait "$ROVED_PID"
	status=$?
	set -e
	eq "$status" "1" "roved's exit status once nng stopped releasing connections"
	grep -q "nng (1.5.2) has stopped releasing connections" "$T/roved.log" ||
		fail "roved exited without saying why: $(tail -n 5 "$T/roved.log")"
	echo "nng hung; roved exited and starts anew" >&2
	ROVED_PID=
	server_start
else
	echo "nng did not hang this time; every descriptor was freed" >&2
fi
# The guard may be listening anew just then (the flood's broken
# handshakes stop nng's accept loop, bug 1518): a dial refused meanwhile
# is not tried again when it is a sync's first (exit 3 at once), so the
# sync waits for the listener.
wait_for 20 "roved to listen again after the flood" server_listening
eq "$(rove -R "$T/admin" --timeout 20000 sync --json | jq .pushed)" "0" "a sync after the flood"
eq "$(rove -R "$T/admin" customer show "$id" --json | jq -r .name)" "Before the flood" "nothing lost"
"$ROVED_BIN" check "$T/srv" >/dev/null || fail "roved check after the flood"
echo "ok"
