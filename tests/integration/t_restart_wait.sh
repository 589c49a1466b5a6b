#!/usr/bin/env bash
# A roved started anew in place by its own guard must wait out what a
# fresh start refuses, not exit. The restart is a client's doing (here:
# silent connections holding the descriptors), so it can fall in the
# middle of a certificate renewal (the new key written, its certificate
# not yet), or in the moment another local process takes the port.
# roved exited with status 2 then (never restarted under
# RestartPreventExitStatus=2) or 1 (restarted into the taken port over
# and over) (attack thirty-eight). Now it says so and tries again, 1 s,
# 2 s, 4 s ... apart; a stop signal still stops it. Checked over
# tls+tcp:// under `ulimit -n 64`: with the key of another certificate
# in place at the restart it waits (same pid); with the right key back
# and the port held by another socket it still waits; once the port is
# free it serves, and a sync gets through.
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || fail "openssl is needed to make test certificates"

pki=$T/pki
mkcert "$pki" IP:127.0.0.1,DNS:127.0.0.1
cp "$pki/server.key" "$pki/good.key"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$pki/other.key" 2>/dev/null

port=$(free_port)
URL="tls+tcp://127.0.0.1:$port"
server_init
ROVED_ARGS="--tls-cert $pki/server.pem --tls-key $pki/server.key" server_start_limited 64 ROVE_FDS_SHORT_MS=2000
pid=$ROVED_PID
rove -R "$T/admin" init --server "$URL" --user admin --token "$ADMIN_TOKEN" --ca "$pki/ca.pem" >/dev/null
rove -R "$T/admin" sync >/dev/null

# Renewal, step 1 of 2: the new key, its certificate not yet. Then 200
# silent connections hold the descriptors until roved starts anew.
cp "$pki/other.key" "$pki/server.key"
silent_sockets "$port" 200 12 &
silent=$!
BG_PIDS+=($silent)
wait_for 40 "roved waiting after its restart" grep -q "started anew in place and cannot serve yet" "$T/roved.log"
wait "$silent" 2>/dev/null || true # they close after their 12 s
grep -q "does not match the certificate" "$T/roved.log" || fail "why it waits: $(tail -3 "$T/roved.log")"
sleep 2
eq "$(kill -0 "$pid" 2>/dev/null && echo alive)" "alive" "roved waits, the same process, with the key of another certificate"

# Renewal done, but another process holds the port: still waiting.
python3 - "$port" "$T/squat.ready" <<'PY' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT, as nng binds
s.bind(('127.0.0.1', int(sys.argv[1])))
s.listen(1)
open(sys.argv[2], 'w').close()
time.sleep(600)
PY
squat=$!
BG_PIDS+=($squat)
wait_for 10 "the port taken" test -e "$T/squat.ready"
cp "$pki/good.key" "$pki/server.key"
n_waits=$(grep -c "cannot serve yet" "$T/roved.log")
tried_again() {
	[ "$(grep -c 'cannot serve yet' "$T/roved.log")" -gt "$n_waits" ]
}
wait_for 40 "roved trying the taken port" tried_again
eq "$(kill -0 "$pid" 2>/dev/null && echo alive)" "alive" "roved waits while the port is taken"
kill "$squat" 2>/dev/null || true
wait "$squat" 2>/dev/null || true

# The port free again: roved serves within its next try (at most 16 s
# apart by now), and a sync gets through.
deadline=$((SECONDS + 60))
until rove -R "$T/admin" --timeout 5000 sync >/dev/null 2>"$T/err"; do
	[ $SECONDS -lt $deadline ] || fail "no sync in 60 s after the port was free ($(cat "$T/err"); $(tail -3 "$T/roved.log"))"
	sleep 1
done
eq "$(kill -0 "$pid" 2>/dev/null && echo alive)" "alive" "the same roved process serves"
server_stop
echo "ok"
