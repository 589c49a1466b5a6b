#!/usr/bin/env bash
# A flood of local connections that close at once (some after sending
# the SP header) keeps nng's poll thread busy, with no client connection
# open: the guard took that for nng's spin on a connection it never
# handed over and started roved anew in place, again and again, cutting
# every client and freeing nothing (attack sixty). A spinning thread
# never waits for an event and hands no connection over; a flooded one
# waits thousands of times a second between connections. Checked over
# ipc://, one flood after the other (each sync'd through after): 4 s of
# one flood of connections closed at once beside one that closes after
# the SP header, then 4 s of two that close after the SP header; nothing
# starts anew. With the guard's count of waits taken out on purpose,
# the header floods were taken for the spin in 3 runs of 3. Under the
# sanitizers on a loaded CI machine full floods starved the thread until
# it waited 0-3 times a second and were taken for the spin (a limit,
# SECURITY.md): there the floods are lighter (below). A flood that
# finishes its handshakes is held by the count of connections as well,
# so it could not show the waits alone.
. "$(dirname "$0")/lib.sh"

server_setup
r admin sync >/dev/null
case $URL in ipc://*) sock=${URL#ipc://} ;; *) fail "expected an ipc:// server, got $URL" ;; esac
# Under the sanitizers (ROVE_SANITIZED=1, a CI stage that runs three
# tests at once on two cores) one flood a phase, at most ~2,000
# connections a second: the full floods there starved the poll thread
# until it hardly waited (twice in CI; SECURITY.md). The optimised
# build plays them whole (label release).
pause=0
[ "${ROVE_SANITIZED:-0}" != 1 ] || pause=0.0005
churn() {
	python3 - "$sock" "$1" "$pause" <<'PY'
import socket, sys, time
path, mode, pause = sys.argv[1], sys.argv[2], float(sys.argv[3])
end, n = time.time() + 4, 0
while time.time() < end:
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        if mode == "hdr":
            s.sendall(b"\x00SP\x00\x00\x30\x00\x00")
        s.close()
        n += 1
        if pause:
            time.sleep(pause)
    except OSError:
        time.sleep(0.01)
print(n)
PY
}
# phase: a name, then the floods to play at once
phase() {
	local name=$1 pids=() i=0
	shift
	for mode in "$@"; do
		churn "$mode" >"$T/$name.$i.n" &
		pids+=($!)
		BG_PIDS+=($!)
		i=$((i + 1))
	done
	wait "${pids[@]}"
	echo "$name: $(cat "$T/$name".*.n | awk '{ n += $1 } END { print n }') connections" >&2
	sleep 1.5 # one more guard period
	if grep -q "poll thread was busy" "$T/roved.log"; then
		fail "$name: a flood of connections was taken for nng's spin: $(grep -m1 "poll thread was busy" "$T/roved.log")"
	fi
	r admin sync >/dev/null
}
if [ "${ROVE_SANITIZED:-0}" = 1 ]; then
	phase closed close
	phase header hdr
else
	phase closed close hdr
	phase header hdr hdr
fi
server_stop
echo "ok"
