#!/usr/bin/env bash
# roved serve --metrics against a hostile network (issue 16): the metrics
# endpoint can never take the descriptors or memory the sync listener
# needs. Hundreds of slowloris connections (a request sent one header
# line at a time, never finished) and silent ones, against a roved with
# 128 descriptors: syncs still work, the slow connections are cut at the
# request deadline, and /metrics answers again once they are. Then only
# /metrics itself is served, and a non-loopback address is warned about.
. "$(dirname "$0")/lib.sh"

# The limits this test relies on, read from the header that names them.
LIMITS="$(dirname "$0")/../../common/rove_limits.h"
limit() { awk -v n="$1" '$1 == "#define" && $2 == n { print $3 + 0 }' "$LIMITS"; }
MAX_CONNS=$(limit ROVE_METRICS_MAX_CONNS)
DEADLINE_MS=$(limit ROVE_METRICS_REQUEST_MS)
[ -n "$MAX_CONNS" ] && [ -n "$DEADLINE_MS" ] || fail "no ROVE_METRICS_MAX_CONNS / ROVE_METRICS_REQUEST_MS"

server_init
MPORT=$(free_port)
MURL="http://127.0.0.1:$MPORT/metrics"
(
	ulimit -n 128
	exec "$ROVED_BIN" serve "$T/srv" --listen "$URL" --metrics "127.0.0.1:$MPORT"
) >>"$T/roved.log" 2>&1 &
ROVED_PID=$!
wait_listening "$URL" "$ROVED_PID" roved
wait_listening "tcp://127.0.0.1:$MPORT" "$ROVED_PID" "the metrics endpoint"
admin_replica
rove -R "$T/admin" sync >/dev/null
grep -q "no authentication" "$T/roved.log" && fail "warned about a loopback metrics address"

# status PATH [CURL ARGS]: the HTTP status of a request for PATH.
status() {
	local path=$1
	shift
	curl -s --path-as-is --max-time 5 -o /dev/null -w '%{http_code}' "$@" "http://127.0.0.1:$MPORT$path" || true
}

# 20 connections that send nothing; then 300 (more than roved has
# descriptors), each a request's first line and Host, then one header
# line a second. Held for the deadline and 3 s more.
hold=$((DEADLINE_MS / 1000 + 3))
python3 "$(dirname "$0")/../tools/slow_http.py" "$MPORT" 300 20 "$hold" /metrics "x" >"$T/slow" 2>&1 &
slow=$!
BG_PIDS+=($slow)
: >>"$T/slow"
wait_for 20 "the slow connections" grep -q '^open' "$T/slow"
echo "roved: $(ls /proc/$ROVED_PID/fd | wc -l) descriptors open under attack" >&2

# Syncs go on during the attack...
r admin admin territory add north --name North >/dev/null
r admin customer add --name "Acme" --territory north >/dev/null
rove -R "$T/admin" --timeout 3000 sync >/dev/null || fail "no sync while the metrics port is attacked"
kill -0 "$ROVED_PID" || fail "roved died"
# ... every slow or silent connection is cut by the deadline ...
wait "$slow" || fail "the attacker failed: $(cat "$T/slow")"
eq "$(awk '$1 == "alive" { print $2 }' "$T/slow")" "0" \
	"metrics connections alive past the ${DEADLINE_MS} ms deadline"
# ... and /metrics answers again.
eq "$(status /metrics)" "200" "/metrics after the attack"
grep -q "out of file descriptors" "$T/roved.log" && fail "roved ran out of descriptors"
refused=$(curl -s --max-time 5 "$MURL" | awk '$1 == "roved_metrics_connections_refused_total" { print $2 }')
[ "${refused:-0}" -gt 0 ] || fail "no refused metrics connection counted ($refused)"

# A request larger than the endpoint's buffer is refused and closed.
code=$(status "/metrics?$(head -c 20000 /dev/zero | tr '\0' a)")
case "$code" in 4*) ;; *) fail "a 20 KB request got $code" ;; esac

# Exactly /metrics: a query string is ignored, anything else is 404.
eq "$(status /metrics)" "200" "/metrics"
eq "$(status '/metrics?x=1')" "200" "/metrics?x=1 (the query ignored)"
eq "$(status /metrics/)" "404" "/metrics/"
eq "$(status /metrics%00)" "404" "/metrics%00"
eq "$(status /metrics%2F)" "404" "/metrics%2F"
eq "$(status /metricsx)" "404" "/metricsx"
eq "$(status /)" "404" "/"
eq "$(status /metrics/../metrics)" "404" "/metrics/../metrics"
eq "$(status /metrics -X POST)" "405" "POST /metrics"
eq "$(status /metrics -I)" "200" "HEAD /metrics"
eq "$(status /metrics/ -I)" "404" "HEAD /metrics/"
eq "$(status /metrics --http1.0)" "200" "HTTP/1.0"

# Not HTTP at all: an error, and the connection closed.
out=$(printf 'garbage\r\n\r\n' | timeout 5 python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(sys.stdin.buffer.read())
b = b""
while True:
    d = s.recv(4096)
    if not d: break
    b += d
print(b.split(b"\r\n")[0].decode())' "$MPORT") || fail "no answer to garbage"
eq "$out" "HTTP/1.1 400 Bad Request" "garbage"

# A metrics address other than loopback: one warning that it has no
# authentication.
server_stop
MPORT2=$(free_port)
ROVED_ARGS="--metrics 0.0.0.0:$MPORT2" server_start
wait_listening "tcp://127.0.0.1:$MPORT2" "$ROVED_PID" "the metrics endpoint"
eq "$(grep -c "no authentication" "$T/roved.log")" "1" "one warning for --metrics 0.0.0.0"
grep "no authentication" "$T/roved.log" | grep -q "0.0.0.0:$MPORT2" || fail "the warning names no address"
eq "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT2/metrics")" "200" \
	"/metrics on 0.0.0.0"
echo ok
