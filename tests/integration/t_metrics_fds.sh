#!/usr/bin/env bash
# /metrics answers while a flood of connections to the sync port has used
# up roved's file descriptors: the monitoring must see the attack, not go
# blind with it (attack thirty-eight: about half the scrapes failed).
. "$(dirname "$0")/lib.sh"

port=$(free_port)
URL="tcp://127.0.0.1:$port"
MPORT=$(free_port)
server_init
ROVED_ARGS="--metrics 127.0.0.1:$MPORT" server_start_limited 128 ROVE_LOG=info
wait_listening "tcp://127.0.0.1:$MPORT" "$ROVED_PID" "the metrics endpoint"
admin_replica
rove -R "$T/admin" sync >/dev/null
curl -s --max-time 5 "http://127.0.0.1:$MPORT/metrics" | grep_q '^roved_' || fail "no metrics before the flood"

# 200 connections that send nothing, held 8 s: more than the limit of
# 128 descriptors.
silent_sockets "$port" 200 8 &
flood=$!
BG_PIDS+=($flood)
wait_for 8 "the descriptors used up" grep -q "out of file descriptors" "$T/roved.log"
ok=0 tried=0
# Scrapes while the flood lasts (a slow machine fits fewer in).
while [ "$tried" -lt 12 ] && kill -0 "$flood" 2>/dev/null; do
	tried=$((tried + 1))
	if curl -s --max-time 2 "http://127.0.0.1:$MPORT/metrics" >"$T/scrape" && grep_q '^roved_' "$T/scrape"; then
		ok=$((ok + 1))
	fi
	sleep 0.2
done
echo "$ok of $tried scrapes answered while the descriptors were used up"
eq "$ok" "$tried" "scrapes answered during the flood"
[ "$tried" -ge 4 ] || fail "only $tried scrapes during the flood (a slow machine?)"
wait "$flood"
# Syncs work again (within nng's 10 s for a handshake).
rove -R "$T/admin" --timeout 15000 sync >/dev/null || fail "no sync after the flood"
echo ok
