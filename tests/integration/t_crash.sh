#!/usr/bin/env bash
# roved is killed with SIGKILL while clients push, then restarted: every op
# the server acknowledged is there, and the clients' retries finish without
# duplicates.
. "$(dirname "$0")/lib.sh"

PER_REP=${ROVE_CRASH_PER_REP:-120}
# Under the sanitizers (ROVE_SANITIZED=1) one round (the code it runs is
# the same at each; CI's time is short): the release build, where kills
# land at more moments, plays all three.
[ "${ROVE_SANITIZED:-0}" = 1 ] && rounds=1 || rounds=3
ROUNDS=${ROVE_CRASH_ROUNDS:-$rounds}
SEED=${ROVE_SEED:-$RANDOM}
echo "seed $SEED (replay with ROVE_SEED=$SEED)"
RANDOM=$SEED

server_setup
reps=(alice bob carol)
territory east.sh
for u in "${reps[@]}"; do
	user_replica "$u" rep east.sh
	: >"$T/$u.err"
done

# sync_until_done NAME: retries sync until it succeeds; small push and
# pull batches make a sync span many requests, so the kill lands in the
# middle of one. The first attempts wait 300 ms per request (the server
# is sometimes down longer); each failure doubles that, up to 4.8 s, so
# that a loaded machine (sanitizers, parallel tests) still lets a retry
# through instead of timing every one out.
sync_until_done() {
	local ms=300
	for _ in $(seq 1 200); do
		if ROVE_PUSH_BATCH=4 ROVE_PULL_BATCH=7 "$ROVE_BIN" -R "$T/$1" --timeout "$ms" sync >/dev/null \
			2>>"$T/$1.err"; then
			return 0
		fi
		echo "$1" >>"$T/retries"
		[ "$ms" -ge 4800 ] || ms=$((ms * 2))
		sleep 0.05
	done
	return 1
}

: >"$T/retries"
total=0
for round in $(seq 1 "$ROUNDS"); do
	# Offline work: each rep creates customers and edits one.
	for u in "${reps[@]}"; do
		for i in $(seq 1 "$PER_REP"); do
			r "$u" customer add --name "$u-r$round-$i" >/dev/null
		done
	done
	total=$((total + ${#reps[@]} * PER_REP))

	# All push at once; the server dies somewhere in the middle.
	BG_PIDS=()
	for u in "${reps[@]}"; do
		sync_until_done "$u" &
		BG_PIDS+=($!)
	done
	sleep "0.0$((RANDOM % 5))"
	server_kill
	sleep "0.$((1 + RANDOM % 6))" # sometimes past the clients' timeout
	server_start
	for p in "${BG_PIDS[@]}"; do
		if ! wait "$p"; then
			for u in "${reps[@]}"; do # what the failed attempts said
				echo "--- $u: $(wc -l <"$T/$u.err") lines of errors, the most frequent:" >&2
				sort "$T/$u.err" | uniq -c | sort -rn | head -n 5 >&2
			done
			fail "round $round: a client never finished its sync"
		fi
	done
	BG_PIDS=()

	# Every op acknowledged before the crash, and every retried one, is
	# there exactly once.
	for u in "${reps[@]}"; do
		sync_until_done "$u" || fail "final sync of $u"
		eq "$(r "$u" status --json | jq .pending)" "0" "$u: nothing left pending"
	done
	r admin sync >/dev/null
	list=$(r admin customer list --json)
	eq "$(jq length <<<"$list")" "$total" "round $round: customers on the server"
	eq "$(jq '[.[].name] | unique | length' <<<"$list")" "$total" "round $round: no duplicates"
	# One op per change, the server's history op per create, the territory.
	eq "$(r admin status --json | jq .cursor)" "$((2 * total + 1))" "round $round: one op per change in the oplog"
	for u in "${reps[@]}"; do
		want=$(jq -c --arg u "$u" '[.[] | select(.owner == $u)]' <<<"$list")
		eq "$(r "$u" customer list --json | jq -c .)" "$want" "round $round: $u converges"
		eq "$(jq length <<<"$want")" "$((round * PER_REP))" "round $round: $u owns its customers"
	done
	echo "round $round: $total customers, server killed once, nothing lost"
done
echo "syncs that failed on a kill and were run again: $(wc -l <"$T/retries")"
echo "ok"
