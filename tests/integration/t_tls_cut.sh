#!/usr/bin/env bash
# A TLS roved outlives clients that end without TLS's goodbye. nng 1.5.2's
# TLS layer reads the socket ahead of nng; a peer's end of stream met
# there closes the socket but fails no read, and the connection's next
# read then waits for ever: the guard's cut (shutdown of the reading side)
# cannot reach it, and roved took it for nng's reaper hung and exited 1
# (hunt after attack forty-six: 3-7 % of the syncs of a replica that names
# the wrong host - it checks once more and closes at once - and syncs
# killed mid-way; roved exited about 90 s later, plain tcp:// never).
# Such a connection is now closed through nng once its cut has had time,
# and roved stays up.
. "$(dirname "$0")/lib.sh"

mkcert "$T/pki" IP:127.0.0.1,DNS:127.0.0.1

port=$(free_port)
URL="tls+tcp://127.0.0.1:$port"
server_init
# The idle cut after 2 s, a cut connection taken for stuck after 6 s.
ROVED_ARGS="--tls-cert $T/pki/server.pem --tls-key $T/pki/server.key" \
	server_start ROVE_IDLE_MS=2000 ROVE_CUT_LINGER_MS=6000 ROVE_LOG=info
# A replica that names the server by another name its certificate lacks.
rove -R "$T/wrong" init --server "tls+tcp://localhost:$port" --user admin --token "$ADMIN_TOKEN" \
	--ca "$T/pki/ca.pem" 2>/dev/null
refused=0
for i in $(seq 1 60); do
	rc=0
	rove -R "$T/wrong" sync >/dev/null 2>"$T/err" || rc=$?
	[ "$rc" = 1 ] && grep_q "does not name" "$T/err" && refused=$((refused + 1))
done
eq "$refused" 60 "syncs to a wrong host name refused"
# Past the idle cut and the linger twice over: roved still serves.
sleep 14
kill -0 "$ROVED_PID" 2>/dev/null || fail "roved exited: $(tail -n 3 "$T/roved.log")"
rove -R "$T/right" init --server "$URL" --user admin --token "$ADMIN_TOKEN" --ca "$T/pki/ca.pem" 2>/dev/null
rove -R "$T/right" sync >/dev/null || fail "no sync after the refused ones"
# Every connection was released (the listeners' and the process's own
# descriptors only: nothing left of the 60).
socks=$(find "/proc/$ROVED_PID/fd" -lname 'socket:*' | wc -l)
[ "$socks" -le 8 ] || fail "$socks sockets still open in roved"
# (Most runs meet the case: about 1 in 20 such syncs leaves one.)
echo "closed through nng: $(grep -o 'closed [0-9]* TLS' "$T/roved.log" | awk '{n += $2} END {print n + 0}')"
echo ok
