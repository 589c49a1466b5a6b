#!/usr/bin/env bash
# A crowd connecting at once: roved's TCP listening socket queues up to
# ROVE_LISTEN_BACKLOG (4096) connections not yet accepted, or the kernel's
# net.core.somaxconn if lower, not the 128 nng 1.5.2 asks for. With 128, a
# thousand replicas connecting at once overflowed the queue and the
# overflow waited for the kernel's SYN retry, 1 s and more
# (tests/bench/crowd.c, docs/PERFORMANCE.md). The queue's length is what
# `ss -ltn` shows as Send-Q of a listening socket.
. "$(dirname "$0")/lib.sh"

command -v ss >/dev/null || fail "this test reads the listen queue with ss (apt-get install iproute2)"
somax=$(cat /proc/sys/net/core/somaxconn)
want=$((somax < 4096 ? somax : 4096))
[ "$want" -gt 128 ] || fail "net.core.somaxconn is $somax: no queue longer than nng's 128 can be checked"

backlog() { ss -Hltn "sport = :$1" | awk '{print $3}' | head -n 1; }

server_init
PORT=$(free_port)
URL=tcp://127.0.0.1:$PORT
server_start
eq "$(backlog "$PORT")" "$want" "the listen queue of $URL"
admin_replica
rove -R "$T/admin" sync >/dev/null || fail "a sync through the lengthened queue failed"

# Bound to every address too (0.0.0.0).
server_stop
PORT=$(free_port)
URL=tcp://0.0.0.0:$PORT
server_start
eq "$(backlog "$PORT")" "$want" "the listen queue of $URL"
echo "ok: listen queue $want"
