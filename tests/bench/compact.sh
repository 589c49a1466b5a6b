#!/usr/bin/env bash
# Compaction's figures (docs/PERFORMANCE.md): N customers (default
# 100,000 in 10 territories; no contacts or activities) loaded through
# the protocol, and two replicas synced: a rep's (rep01-1: one territory)
# and an analyst's (hq: everything). They go offline (the rep with a new
# customer pending) while every customer is edited ten times; then
#   - data.mdb's size and a compacting copy's (roved backup) before and
#     after `roved compact --keep-days 0`, and the time the compaction
#     took, while the server serves;
#   - each offline replica converging: its `rove sync` (its pending
#     change pushed, then a new snapshot: its cursor is behind the
#     floor), timed against the `rove sync` of a fresh replica of the
#     same user, as the ratio of the medians of RUNS runs (each run on a
#     copy of the offline replica). Both end with the same customers.
# Prints the figures, then one JSON line of them (for scripts/bench).
#   tests/bench/compact.sh [N [RUNS]]     (after a release build in build/)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-100000}
runs=${2:-3}
B=$PWD/build
ROVE=$B/client/rove
RUN=$B/tests/bench_run
T=$(mktemp -d /tmp/rove-compact.XXXXXX)
pid=
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$T"' EXIT
port=$((20000 + RANDOM % 10000))
url=tcp://127.0.0.1:$port
"$B/server/roved" init "$T/srv" >"$T/admin.token" 2>/dev/null
"$B/server/roved" serve "$T/srv" --listen "$url" --recycle-interval 0 2>"$T/roved.log" &
pid=$!
for _ in $(seq 1 100); do
	grep -q "serving on" "$T/roved.log" 2>/dev/null && break
	sleep 0.05
done
"$B/tests/bench_loader" --url "$url" --token-file "$T/admin.token" --customers "$n" --territories 10 \
	--contacts 0 --activities 0 --analyst hq --tokens "$T" --ids "$T/ids" >/dev/null

# replica DIR USER: a new replica of USER (not synced).
replica() {
	rm -rf "$1"
	"$ROVE" -R "$1" init --server "$url" --user "$2" --token "$(cat "$T/$2.token")" 2>/dev/null
}
replica "$T/rep01-1.off" rep01-1
replica "$T/hq.off" hq
"$ROVE" -R "$T/rep01-1.off" sync >/dev/null
"$ROVE" -R "$T/hq.off" sync >/dev/null
"$ROVE" -R "$T/rep01-1.off" customer add --name "Made offline" --territory t01 >/dev/null

for i in $(seq 1 10); do
	"$B/tests/bench_loader" --url "$url" --token-file "$T/admin.token" --update "$n" --ids "$T/ids" >/dev/null
done
size() { stat -c %s "$1/data.mdb"; }
copy() { rm -rf "$T/copy"; "$B/server/roved" backup "$T/srv" "$T/copy" 2>/dev/null; size "$T/copy"; }
before=$(size "$T/srv") before_copy=$(copy)
t0=$(date +%s%N)
"$B/server/roved" compact "$T/srv" --keep-days 0 2>"$T/compact.log"
compact_ms=$((($(date +%s%N) - t0) / 1000000))
after=$(size "$T/srv") after_copy=$(copy)
"$B/server/roved" check "$T/srv" >/dev/null 2>&1 || { echo "check failed after compaction" >&2; exit 1; }

# converge USER: the offline replica's sync against a fresh one's (medians
# of $runs runs); sets off_ms, fresh_ms; checks they hold the same.
converge() {
	local u=$1 off=$T/$1.off
	"$RUN" --repeat "$runs" --before "rm -rf $T/$u.run && cp -a $off $T/$u.run" \
		-- "$ROVE" -R "$T/$u.run" sync >"$T/$u.off.runs"
	"$RUN" --repeat "$runs" --before "rm -rf $T/$u.fresh && $ROVE -R $T/$u.fresh init --server $url --user $u --token $(cat "$T/$u.token") 2>/dev/null" \
		-- "$ROVE" -R "$T/$u.fresh" sync >"$T/$u.fresh.runs"
	off_ms=$(tail -n 1 "$T/$u.off.runs" | jq .median_ms)
	fresh_ms=$(tail -n 1 "$T/$u.fresh.runs" | jq .median_ms)
	# the fresh replica syncs again: it may have started before the
	# offline one's pending customer went in
	"$ROVE" -R "$T/$u.fresh" sync >/dev/null
	if ! cmp -s <("$ROVE" -R "$T/$u.run" customer list --json | jq -r '.[].id' | sort) \
		<("$ROVE" -R "$T/$u.fresh" customer list --json | jq -r '.[].id' | sort); then
		echo "the offline replica of $u did not converge on a fresh one's customers" >&2
		exit 1
	fi
	[ "$("$ROVE" -R "$T/$u.run" status --json | jq .pending)" = 0 ] ||
		{ echo "the offline replica of $u kept pending changes" >&2; exit 1; }
}
converge rep01-1
rep_off=$off_ms rep_fresh=$fresh_ms
rep_n=$("$ROVE" -R "$T/rep01-1.run" customer list --json | jq length)
"$ROVE" -R "$T/rep01-1.run" customer list --json | jq -e 'any(.name == "Made offline")' >/dev/null ||
	{ echo "the rep's pending customer is lost" >&2; exit 1; }
converge hq
hq_off=$off_ms hq_fresh=$fresh_ms
hq_n=$("$ROVE" -R "$T/hq.run" customer list --json | jq length)

ratio() { awk "BEGIN {printf \"%.2f\", $1 / $2}"; }
echo "customers: $n, edited 10 times each ($(paste -sd' ' "$T/compact.log"))"
echo "data.mdb: $before bytes before, $after after compaction (the file does not shrink)"
echo "compacting copy: $before_copy bytes before, $after_copy after"
echo "compaction took $compact_ms ms while serving"
echo "rep01-1 ($rep_n customers) offline past the horizon: sync $rep_off ms, fresh replica $rep_fresh ms: $(ratio "$rep_off" "$rep_fresh")x"
echo "hq ($hq_n customers) offline past the horizon: sync $hq_off ms, fresh replica $hq_fresh ms: $(ratio "$hq_off" "$hq_fresh")x"
jq -nc --argjson n "$n" --argjson before "$before" --argjson after "$after" --argjson before_copy "$before_copy" \
	--argjson after_copy "$after_copy" --argjson compact_ms "$compact_ms" --argjson rep_n "$rep_n" \
	--argjson rep_off "$rep_off" --argjson rep_fresh "$rep_fresh" --argjson hq_n "$hq_n" \
	--argjson hq_off "$hq_off" --argjson hq_fresh "$hq_fresh" \
	'{customers: $n, data_before: $before, data_after: $after, copy_before: $before_copy, copy_after: $after_copy,
	  compact_ms: $compact_ms, rep_customers: $rep_n, rep_offline_ms: $rep_off, rep_fresh_ms: $rep_fresh,
	  hq_customers: $hq_n, hq_offline_ms: $hq_off, hq_fresh_ms: $hq_fresh}'
