#!/usr/bin/env bash
# One of each at a time: a second server on the same directory exits 1
# naming the first.
. "$(dirname "$0")/lib.sh"

server_setup
territories east
users alice:rep:east

# A second server on the same directory (on another address) exits 1,
# naming the first; so does `roved init` there.
set +e
out=$(timeout 20 "$ROVED_BIN" serve "$T/srv" --listen "ipc://$T/second.sock" 2>&1)
rc=$?
set -e
eq "$rc" "1" "a second server on the same directory ($out)"
grep -qF "'$T/srv' is in use by another roved (pid $ROVED_PID)" <<<"$out" ||
	fail "unclear error for a directory in use: $out"
[ ! -e "$T/second.sock" ] || fail "the second server listened before it found the directory in use"
set +e
out=$("$ROVED_BIN" init "$T/srv" 2>&1 >/dev/null)
rc=$?
set -e
eq "$rc" "1" "roved init on a directory being served ($out)"
r admin sync >/dev/null
# The lock dies with its process: a SIGKILLed server restarts at once.
server_kill
server_start
r admin sync >/dev/null

echo "ok"
