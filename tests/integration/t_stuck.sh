#!/usr/bin/env bash
# A flood that nng 1.5.2 cannot survive: 60 unauthenticated connections
# send the SP header and thousands of small requests, never read a reply,
# and close after 4 s. Closing a connection while a reply is still being
# written to it hangs nng's reaper for good (SECURITY.md): from then on no
# connection's descriptor was ever freed, and at the limit every sync
# timed out (an outside tester's finding). Now, within a bounded time,
# either every descriptor is freed again or roved, saying why, starts
# anew in place (the same process, exec'd: every descriptor freed); it
# exited with status 1 for a service manager to start it anew, and
# without one the server was gone - after as little as one connection's
# few pipelined requests closed unread (attack seventy-four: the second
# flood below). Either way it serves again and nothing stored is lost.
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


# Freed, or roved started anew with its reason, within the guard's
# bound (a cut connection may linger ROVE_CUT_LINGER_MS, after the idle
# cut).
anew() { grep -c "has stopped releasing connections" "$T/roved.log" || true; }
settled() {
	[ "$(anew)" -gt "$1" ] || [ "$(fds)" -le $((before + 4)) ]
}
# outcome N: once the guard's bound has passed (the flood ended at
# flood_end), the same roved serves, started anew if nng hung (the
# N+1-th time), and the data is whole.
served_since() { [ "$(grep -c "serving on" "$T/roved.log")" -gt "$1" ]; }
outcome() {
	local until=$((flood_end + IDLE_S + LINGER_S + 10)) served
	served=$(grep -c "serving on" "$T/roved.log")
	while [ "$(anew)" -le "$1" ] && [ "$SECONDS" -lt "$until" ]; do
		kill -0 "$ROVED_PID" 2>/dev/null || fail "roved exited: $(tail -n 5 "$T/roved.log")"
		sleep 0.2
	done
	kill -0 "$ROVED_PID" 2>/dev/null || fail "roved exited: $(tail -n 5 "$T/roved.log")"
	if [ "$(anew)" -gt "$1" ]; then
		grep -q "starting roved anew in place" "$T/roved.log" || fail "nng hung, and roved did not say it starts anew"
		# Without service meanwhile: it waited 10 s for the connections
		# cut long ago and 5 s for nng's close, neither of which can end
		# once nng hangs (attack seventy-five); 1 s each now.
		local t0
		t0=$(date +%s%N)
		wait_for 30 "roved to serve after starting anew" served_since "$served"
		echo "nng hung; roved started anew in place and served $(elapsed_ms "$t0") ms later" >&2
		[ "$(elapsed_ms "$t0")" -lt 8000 ] || fail "a start anew took $(elapsed_ms "$t0") ms without service"
	else
		echo "nng did not hang this time; every descriptor was freed" >&2
	fi
	# The guard may be listening anew just then (the flood's broken
	# handshakes stop nng's accept loop, bug 1518): a dial refused
	# meanwhile is not tried again when it is a sync's first (exit 3 at
	# once), so the sync waits for the listener.
	wait_for 30 "roved to listen again after the flood" server_listening
	eq "$(rove -R "$T/admin" --timeout 20000 sync --json | jq .pushed)" "0" "a sync after the flood"
	eq "$(rove -R "$T/admin" customer show "$id" --json | jq -r .name)" "Before the flood" "nothing lost"
}

# One connection: the SP header and eight pull requests with a wrong
# token, closed without reading a reply (attack seventy-four: roved
# exited 95 s later, on every try on an idle server).
python3 - "$SPORT" <<'EOF'
import socket, struct, sys
def s(x):
    b = x.encode()
    return (bytes([0xa0 | len(b)]) if len(b) < 32 else b'\xd9' + bytes([len(b)])) + b
def bn(b):
    return b'\xc4' + bytes([len(b)]) + b
# [3, PULL, user, token, replica, cursor, ..., limit 1000, ...] (PROTOCOL.md)
m = (b'\x9f\x03\x04' + s('wang') + s('x' * 64) + bn(b'\0' * 16) + b'\x00\x00' + bn(b'') + b'\x00\xcd\x03\xe8\x00' +
     bn(b'\0' * 16) + bn(b'\0' * 16) + b'\x00\xc2')
body = struct.pack('>I', 0x80000001) + m
c = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=3)
c.sendall(b'\0SP\0\x00\x30\x00\x00' + (struct.pack('>Q', len(body)) + body) * 8)
c.close()
EOF
flood_end=$SECONDS
wait_for 150 "roved to free the connection's descriptor or start anew" settled 0
outcome 0
pid=$ROVED_PID
n=$(anew)

# The flood.
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
wait_for 150 "roved to free the flood's descriptors or start anew" settled "$n"
# Freed descriptors do not say nng is well: its reaper can hang with the
# sockets closed and the connections never released (seen in CI), and
# roved says so only once a cut connection outlives the linger bound.
# So the outcome is known only past that bound: the flood's connections
# are cut an idle time after their last request (roved may still read
# buffered ones for seconds after the flood closed them), then may
# linger; the guard looks once a second. The wait ends early when roved
# starts anew, the usual outcome.
outcome "$n"
eq "$ROVED_PID" "$pid" "the same roved process"
"$ROVED_BIN" check "$T/srv" >/dev/null || fail "roved check after the floods"
echo "ok"
