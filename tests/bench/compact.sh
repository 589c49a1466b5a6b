#!/usr/bin/env bash
# Compaction's figures (docs/PERFORMANCE.md): N customers (default
# 100,000; no contacts or activities) loaded through the protocol, each
# then edited ten times; data.mdb's size and a compacting copy's (roved
# backup) before and after `roved compact --keep-days 0`, and the time
# the compaction took, while the server serves.
#   tests/bench/compact.sh [N]     (after a release build in build/)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-100000}
B=$PWD/build
T=$(mktemp -d /tmp/rove-compact.XXXXXX)
trap 'kill $pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$T"' EXIT
port=$((20000 + RANDOM % 10000))
url=tcp://127.0.0.1:$port
"$B/server/roved" init "$T/srv" >"$T/admin.token" 2>/dev/null
"$B/server/roved" serve "$T/srv" --listen "$url" 2>"$T/roved.log" &
pid=$!
sleep 0.5
"$B/tests/bench_loader" --url "$url" --token-file "$T/admin.token" --customers "$n" --territories 10 \
	--contacts 0 --activities 0 --tokens "$T" --ids "$T/ids" >/dev/null
for i in $(seq 1 10); do
	"$B/tests/bench_loader" --url "$url" --token-file "$T/admin.token" --update "$n" --ids "$T/ids" >/dev/null
done
size() { stat -c %s "$1/data.mdb"; }
copy() { rm -rf "$T/copy"; "$B/server/roved" backup "$T/srv" "$T/copy" 2>/dev/null; size "$T/copy"; }
before=$(size "$T/srv") before_copy=$(copy)
t0=$(date +%s.%N)
"$B/server/roved" compact "$T/srv" --keep-days 0 2>"$T/compact.log"
t1=$(date +%s.%N)
after=$(size "$T/srv") after_copy=$(copy)
"$B/server/roved" check "$T/srv" >/dev/null 2>&1 || { echo "check failed after compaction" >&2; exit 1; }
echo "customers: $n, edited 10 times each ($(cat "$T/compact.log"))"
echo "data.mdb: $before bytes before, $after after compaction (the file does not shrink)"
echo "compacting copy: $before_copy bytes before, $after_copy after"
echo "compaction took $(echo "$t1 - $t0" | bc) s while serving"
