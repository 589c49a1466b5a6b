#!/usr/bin/env bash
# The PostgreSQL feed's figures (docs/PERFORMANCE.md): a server loaded
# through the protocol with N customers (default 100,000), two contacts
# and one activity each (with their ownership history: 5 records a
# customer, 500,000 in all), an analyst's replica synced, then
#   - the initial load: `rove feed postgres --once` into an empty
#     database (COPY), records per second;
#   - the lag: the feed left running (default --interval 1); an edit is
#     synced by the admin, then by the analyst, and the time from the end
#     of the analyst's sync to the row changed in PostgreSQL is measured,
#     ten times (median and worst).
#   tests/bench/feed.sh [N]     (after a release build in build/)
# scripts/bench measures the same as its case 10, on its HQ replica; this
# script stays for a feed alone at a size of one's choosing.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-100000}
export ROVE_BIN=$PWD/build/client/rove ROVED_BIN=$PWD/build/server/roved
. tests/integration/lib.sh
. tests/integration/pg.sh
ROVE_NEED_PG=1

server_init
server_start
"$PWD/build/tests/bench_loader" --url "$URL" --token-file <(echo "$ADMIN_TOKEN") --customers "$n" \
	--territories 10 --contacts 2 --activities 1 --tokens "$T" --ids "$T/ids" >/dev/null
admin_replica
r admin sync >/dev/null
token=$(r admin admin user add hq --role analyst)
rove -R "$T/hq" init --server "$URL" --user hq --token "$token" 2>/dev/null
r hq sync >/dev/null
records=$(for k in customer contact activity; do r hq $k list --json | jq length; done | paste -sd+ | bc)
pg_start

t0=$(date +%s%N)
ROVE_LOG=info r hq feed postgres "$PG_CONN" --once 2>"$T/load.log"
ms=$(elapsed_ms "$t0")
rows=$(psql_hq -c "SELECT (SELECT count(*) FROM customer) + (SELECT count(*) FROM contact) +
	(SELECT count(*) FROM activity) + (SELECT count(*) FROM ownership) + (SELECT count(*) FROM territory)")
echo "initial load: $rows rows in $ms ms: $((rows * 1000 / ms)) rows/s ($(cat "$T/load.log"))"
echo "(customers, contacts and activities by rove list: $records)"

"$ROVE_BIN" -R "$T/hq" feed postgres "$PG_CONN" 2>"$T/feed.log" &
BG_PIDS+=("$!")
sleep 2
id=$(head -n 1 "$T/ids" | cut -d" " -f1 | cut -d, -f1)
lags=()
for i in $(seq 1 10); do
	r admin customer set "$id" address="Lag street $i" >/dev/null
	r admin sync >/dev/null
	r hq sync >/dev/null
	t0=$(date +%s%N)
	until [ "$(psql_hq -c "SELECT address FROM customer WHERE id = '$id'")" = "Lag street $i" ]; do
		sleep 0.01
	done
	lags+=("$(elapsed_ms "$t0")")
done
sorted=$(printf '%s\n' "${lags[@]}" | sort -n)
echo "lag behind a sync (ms, 10 edits): median $(sed -n 5p <<<"$sorted"), worst $(tail -n 1 <<<"$sorted"); all: ${lags[*]}"
pg_stop
