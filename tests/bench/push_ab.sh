#!/bin/bash
# push_ab.sh - case 4 of scripts/bench (50 reps x 1,000 new customers
# pushed at once), served in turn by several roved builds, for
# before/after ratios of the server's writer measured in one run.
#
#   tests/bench/push_ab.sh [--scale N] [--rounds R] [--dir DIR] [--in-place] BUILD...
#
# A BUILD is a roved binary (the replicas then use build/client/rove), or
# a directory holding both a `roved` and a `rove`: whole builds in turn,
# when the client changes too (each round's replicas sync with that
# build's rove, and the clients' CPU is theirs).
#
# The first use loads DIR (default /tmp/rove-push-ab-sN) through the
# protocol with the first ROVED (bench_loader: 100,000 N customers, the
# bench's data), syncs the 50 reps' replicas, and keeps it all. Each
# round then runs every ROVED in turn: a batch of 1,000 new customers
# imported into each replica, the server started on the database,
# bench_pushers, the server stopped. By default each run gets a fresh
# copy of the loaded database and replicas (the same starting point);
# --in-place pushes into the one database instead (for a large one,
# which is slow to copy; it grows by 50,000 customers a run).
# One line per run: ops/s, latency, the clients' CPU, the server's CPU
# and that of its busiest thread (the writer), in ms, what the server
# wrote (MB: its commits' pages, through write(2)), and the load
# average. Needs build/ (client/rove, tests/bench_loader, bench_pushers).
# Stops every server it started.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
scale=1 rounds=3 dir= inplace=0
while [ $# -gt 0 ]; do
	case $1 in
	--scale) scale=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--dir) dir=$2; shift 2 ;;
	--in-place) inplace=1; shift ;;
	-h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "push_ab.sh: unknown option '$1'" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || { echo "push_ab.sh: name at least one build" >&2; exit 2; }
dir=${dir:-/tmp/rove-push-ab-s$scale}
ROVE0=$root/build/client/rove LOADER=$root/build/tests/bench_loader PUSHERS=$root/build/tests/bench_pushers
spid=

# pick BUILD: sets bin (its roved) and ROVE (its rove).
pick() {
	if [ -d "$1" ]; then
		bin=$1/roved ROVE=$1/rove
	else
		bin=$1 ROVE=$ROVE0
	fi
	[ -x "$bin" ] && [ -x "$ROVE" ] || { echo "push_ab.sh: no roved and rove in '$1'" >&2; exit 2; }
}

cleanup() {
	if [ -n "$spid" ]; then
		kill -TERM "$spid" 2>/dev/null || true
		wait "$spid" 2>/dev/null || true
	fi
}
trap cleanup EXIT

# serve DB LOG: starts roved ($bin) on DB; sets spid.
serve() {
	"$bin" serve "$1" --listen "tcp://127.0.0.1:$port" --recycle-interval 0 >"$2" 2>&1 &
	spid=$!
	for _ in $(seq 1 400); do
		grep -q "serving on" "$2" 2>/dev/null && return 0
		kill -0 "$spid" 2>/dev/null || { cat "$2" >&2; exit 1; }
		sleep 0.05
	done
	echo "push_ab.sh: roved did not start" >&2
	exit 1
}
stop() { kill -TERM "$spid"; wait "$spid" || true; spid=; }

# batch RUN REPLICA_DIR: imports 1,000 new customers (unique to RUN) into
# each rep's replica, as scripts/bench's case 4 does.
batch() {
	local t
	for t in $(seq 1 50); do
		awk -v run="$1" -v rep="$t" -v n=1000 '
		function uscc(base,   a, s, w, i) {
			a = "0123456789ABCDEFGHJKLMNPQRTUWXY"
			w = 1
			for (i = 1; i <= 17; i++) {
				s += (index(a, substr(base, i, 1)) - 1) * w
				w = w * 3 % 31
			}
			return base substr(a, (31 - s % 31) % 31 + 1, 1)
		}
		BEGIN {
			print "name,tax_id,phone,address,tier,territory"
			for (i = 0; i < n; i++)
				printf "Pushed %d-%d-%d Ltd.,%s,0755-%03d%02d%05d,\"No. %d Push Road, Shenzhen\",prospect,t%02d\n",
					run, rep, i, uscc(sprintf("9144P%03d%02d%07d", run, rep, i)), run, rep, i, i, rep
		}' >"$dir/push.csv"
		"$ROVE" -R "$2/push_$t.rove" import customers "$dir/push.csv" >/dev/null
	done
}

# thread_cpu PID: "TID ticks" for each of its threads.
thread_cpu() {
	local t
	for t in /proc/"$1"/task/*; do
		echo "${t##*/} $(awk '{print $14 + $15}' "$t/stat")"
	done | sort
}

if [ ! -f "$dir/ready" ]; then
	pick "$1"
	rm -rf "$dir"
	mkdir -p "$dir/rep"
	port=$((20000 + RANDOM % 40000))
	echo "$port" >"$dir/port"
	"$bin" init "$dir/db" >"$dir/admin.token" 2>/dev/null
	serve "$dir/db" "$dir/load.log"
	"$LOADER" --url "tcp://127.0.0.1:$port" --token-file "$dir/admin.token" --customers $((100000 * scale)) \
		--territories $((50 * scale)) --owners "$scale" --contacts 2 --activities 1 --analyst hq \
		--tokens "$dir/tokens" --ids "$dir/ids" >"$dir/load.json"
	echo "loaded: $(cat "$dir/load.json")" >&2
	for t in $(seq 1 50); do
		login=$(printf 'rep%02d-1' "$t")
		"$ROVE" -R "$dir/rep/push_$t.rove" init --server "tcp://127.0.0.1:$port" --user "$login" \
			--token "$(cat "$dir/tokens/$login.token")" 2>/dev/null
		"$ROVE" -R "$dir/rep/push_$t.rove" sync >/dev/null
	done
	stop
	echo 1 >"$dir/run"
	touch "$dir/ready"
fi
port=$(cat "$dir/port")
tick_ms=$((1000 / $(getconf CLK_TCK)))
for r in $(seq 1 "$rounds"); do
	for build in "$@"; do
		pick "$build"
		run=$(cat "$dir/run")
		if [ $inplace = 1 ]; then
			db=$dir/db reps=$dir/rep
			batch "$run" "$reps"
			echo $((run + 1)) >"$dir/run"
		else
			rm -rf "$dir/work"
			mkdir -p "$dir/work"
			cp -a "$dir/db" "$dir/rep" "$dir/work/"
			db=$dir/work/db reps=$dir/work/rep
			batch "$run" "$reps"
		fi
		sync
		sleep 1
		serve "$db" "$dir/serve.log"
		t0=$(thread_cpu "$spid")
		c0=$(awk '{print $14 + $15}' "/proc/$spid/stat")
		w0=$(awk '/^wchar/ {print $2}' "/proc/$spid/io")
		"$PUSHERS" "$ROVE" "$reps"/push_*.rove >"$dir/push.json"
		c1=$(awk '{print $14 + $15}' "/proc/$spid/stat")
		w1=$(awk '/^wchar/ {print $2}' "/proc/$spid/io")
		t1=$(thread_cpu "$spid")
		writer=$(join <(echo "$t0") <(echo "$t1") | awk -v k="$tick_ms" '{d = $3 - $2; if (d > m) m = d} END {print m * k}')
		stop
		printf '%s round %d run %d: %s server_cpu_ms %d writer_cpu_ms %d server_written_mb %d load %s\n' \
			"$build" "$r" "$run" \
			"$(jq -c '{ops_per_s, p50_ms, p99_ms, clients_cpu_ms, accepted, failed}' "$dir/push.json")" \
			$(((c1 - c0) * tick_ms)) "$writer" $(((w1 - w0) / 1048576)) "$(cut -d' ' -f1 /proc/loadavg)"
	done
done
