#!/usr/bin/env bash
# A flood of local connections that close at once (some after sending
# the SP header) keeps nng's poll thread busy, with no client connection
# open: the guard took that for nng's spin on a connection it never
# handed over and started roved anew in place, again and again, cutting
# every client and freeing nothing (attack sixty). A spinning thread
# never waits for an event; a flooded one waits thousands of times a
# second between connections. Checked: 6 s of two such floods over
# ipc:// start nothing anew, and a sync gets through after.
. "$(dirname "$0")/lib.sh"

server_setup
r admin sync >/dev/null
case $URL in ipc://*) sock=${URL#ipc://} ;; *) fail "expected an ipc:// server, got $URL" ;; esac
churn() {
	python3 - "$sock" "$1" <<'PY'
import socket, sys, time
path, mode = sys.argv[1], sys.argv[2]
end, n = time.time() + 6, 0
while time.time() < end:
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        if mode == "hdr":
            s.sendall(b"\x00SP\x00\x00\x30\x00\x00")
        s.close()
        n += 1
    except OSError:
        time.sleep(0.01)
print(n)
PY
}
churn close >"$T/close.n" &
c1=$!
churn hdr >"$T/hdr.n" &
c2=$!
BG_PIDS+=($c1 $c2)
wait "$c1" "$c2"
echo "connections: $(cat "$T/close.n") closed at once, $(cat "$T/hdr.n") after the SP header" >&2
sleep 1.5 # one more guard period
if grep -q "poll thread was busy" "$T/roved.log"; then
	fail "a flood of connections was taken for nng's spin: $(grep -m1 "poll thread was busy" "$T/roved.log")"
fi
r admin sync >/dev/null
server_stop
echo "ok"
