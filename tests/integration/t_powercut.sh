#!/usr/bin/env bash
# A power cut, not only a crash: the server's disk, and then a rep's
# laptop, lose every write the kernel had not made durable when the
# process died. t_crash kills processes, whose writes the kernel still
# holds; here tools/rove_powercut_trace records each write to data.mdb
# and each point the kernel made them durable, and tools/rove_powercut
# builds what the disk could hold had the power failed at the kill: the
# durable writes, and of the others any pages (a random choice, by seed).
# On that image: `roved check` is clean, every change the server
# acknowledged is there before any replica sends it again, and every
# customer whose `rove customer add` had returned is on the laptop.
. "$(dirname "$0")/lib.sh"
check_at_end=no # it damages databases on purpose

SEED=${ROVE_SEED:-$RANDOM}
echo "seed $SEED (replay with ROVE_SEED=$SEED)"
RANDOM=$SEED
tools=$(dirname "$ROVE_RAW")
trace_lib="$tools/librove_powercut_trace.so"
cut_tool="$tools/rove_powercut"
[ -f "$trace_lib" ] && [ -x "$cut_tool" ] || fail "no $trace_lib or $cut_tool (built with the tests)"
preload=(LD_PRELOAD="$trace_lib" ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0)
# rove's one-shot commands run without the leak check (lib.sh's rove).
laptop=(LD_PRELOAD="$trace_lib" ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0:detect_leaks=0
	ROVE_POWERCUT_FILE="$T/alice/data.mdb" ROVE_POWERCUT_TRACE="$T/trace")

server_setup
territory east
users alice:rep:east bob:rep:east ana:analyst
reps=(alice bob)

# traced_start: roved started with its data.mdb's writes traced from now,
# the file as it is kept as the base of the image.
traced_start() {
	cp "$T/srv/data.mdb" "$T/base.mdb"
	: >"$T/trace"
	server_start "${preload[@]}" ROVE_POWERCUT_FILE="$T/srv/data.mdb" ROVE_POWERCUT_TRACE="$T/trace"
}

# power_cut FILE SEED: FILE replaced by what its disk could hold
# (base.mdb and the trace).
power_cut() {
	"$cut_tool" "$T/base.mdb" "$T/trace" "$T/image" "$2" >"$T/cut.out" || fail "rove_powercut: $(cat "$T/cut.out")"
	echo "  $(cat "$T/cut.out")"
	mv "$T/image" "$1"
}

# writer NAME ROUND: adds customers and syncs until $T/stop; each name
# into NAME.added once added, into NAME.acked once a sync returned 0
# after it (the server acknowledged it).
writer() {
	local u=$1 round=$2 i=0 name
	local -a pend=()
	while [ ! -e "$T/stop" ]; do
		i=$((i + 1))
		name="$u-$round-$i"
		rove -R "$T/$u" customer add --name "$name" >/dev/null 2>>"$T/$u.err" || continue
		echo "$name" >>"$T/$u.added"
		pend+=("$name")
		if rove -R "$T/$u" --timeout 1000 sync >/dev/null 2>>"$T/$u.err"; then
			printf '%s\n' "${pend[@]}" >>"$T/$u.acked"
			pend=()
		fi
	done
}

# hq_names N: the customer names a fresh replica of the analyst pulls
# (nothing of it sent to the server), sorted.
hq_names() {
	rove -R "$T/hq$1" init --server "$URL" --user ana --token "$(token_of ana)" 2>/dev/null
	rove -R "$T/hq$1" sync >/dev/null
	rove -R "$T/hq$1" customer list --json | jq -r '.[].name' | sort
}

# sync_until_done NAME: NAME's sync, again until it returns 0.
sync_until_done() {
	for _ in $(seq 1 20); do
		rove -R "$T/$1" sync >/dev/null 2>>"$T/$1.err" && return 0
		sleep 0.2
	done
	fail "$1 could not sync: $(tail -n 3 "$T/$1.err")"
}

# 1. The server's disk.
for u in "${reps[@]}"; do : >"$T/$u.added" && : >"$T/$u.acked"; done
ROUNDS=3
for round in $(seq 1 $ROUNDS); do
	server_stop
	traced_start
	rm -f "$T/stop"
	pids=()
	for u in "${reps[@]}"; do
		writer "$u" "$round" &
		pids+=($!)
	done
	sleep "$((RANDOM % 2)).$((RANDOM % 10))5"
	kill -9 "$ROVED_PID"
	wait "$ROVED_PID" 2>/dev/null || true
	ROVED_PID=
	touch "$T/stop"
	wait "${pids[@]}"
	echo "round $round: $(cat "$T"/*.acked | wc -l) acknowledged, $(cat "$T"/*.added | wc -l) added"
	power_cut "$T/srv/data.mdb" "$((SEED + round))"
	"$ROVED_BIN" check "$T/srv" >"$T/check.out" 2>&1 || fail "roved check after the power cut: $(cat "$T/check.out")"
	server_start
	hq_names "$round" >"$T/hq.names"
	sort "$T"/*.acked >"$T/acked.names"
	lost=$(comm -23 "$T/acked.names" "$T/hq.names")
	[ -z "$lost" ] || fail "round $round: the server lost acknowledged customers: $(echo "$lost" | head -n 5 | tr '\n' ' ')"
	for u in "${reps[@]}"; do sync_until_done "$u"; done
	eq "$(hq_names "$round.b" | uniq -d)" "" "round $round: a customer twice"
	eq "$(hq_names "$round.c" | wc -l)" "$(cat "$T"/*.added | wc -l)" "round $round: customers on the server"
done

# 2. A rep's laptop: the power fails while rove writes to its replica.
: >"$T/local.acked"
server_stop
server_start
for round in 1 2 3; do
	cp "$T/alice/data.mdb" "$T/base.mdb"
	: >"$T/trace"
	rm -f "$T/stop" "$T/cur"
	(
		i=0
		while [ ! -e "$T/stop" ]; do
			i=$((i + 1))
			if [ $((i % 5)) = 0 ]; then
				env "${laptop[@]}" "$ROVE_BIN" -R "$T/alice" sync >/dev/null 2>&1 &
				echo $! >"$T/cur"
				wait $! || true
				continue
			fi
			env "${laptop[@]}" "$ROVE_BIN" -R "$T/alice" customer add --name "laptop-$round-$i" >/dev/null 2>&1 &
			echo $! >"$T/cur"
			wait $! && echo "laptop-$round-$i" >>"$T/local.acked"
		done
	) 2>/dev/null &
	loop=$!
	sleep "$((RANDOM % 2)).$((RANDOM % 10))5"
	touch "$T/stop"
	[ ! -s "$T/cur" ] || kill -9 "$(cat "$T/cur")" 2>/dev/null || true
	wait "$loop" || true
	echo "laptop round $round: $(wc -l <"$T/local.acked") adds returned"
	power_cut "$T/alice/data.mdb" "$((SEED + 100 + round))"
	"$ROVE_INDEX_CHECK" "$T/alice" || fail "laptop round $round: the index check found problems"
	r alice customer list --json | jq -r '.[].name' | sort >"$T/alice.names"
	lost=$(comm -23 <(sort "$T/local.acked") "$T/alice.names")
	[ -z "$lost" ] || fail "laptop round $round: customers added lost: $(echo "$lost" | head -n 5 | tr '\n' ' ')"
	sync_until_done alice
done
lost=$(comm -23 <(sort "$T/local.acked") <(hq_names laptop))
[ -z "$lost" ] || fail "the laptop's customers not on the server: $(echo "$lost" | head -n 5 | tr '\n' ' ')"
echo "ok"
