#!/usr/bin/env bash
# Fault injection: reps and a manager run random workloads (creates, edits,
# claims, releases, reassignments, activities, offline periods) while the
# harness SIGKILLs roved and rove processes at random moments. After every
# round: every acknowledged change is on the server, nothing is applied
# twice, every replica equals the server's state in its scope, and every
# refused change is kept on both sides.
#
#   ROVE_FAULT_ROUNDS=N (default 3; scripts/faults runs a long mode)
#   ROVE_SEED=S         replays a run
. "$(dirname "$0")/lib.sh"

ROUNDS=${ROVE_FAULT_ROUNDS:-3}
SEED=${ROVE_SEED:-$RANDOM}
echo "seed $SEED rounds $ROUNDS (replay with ROVE_SEED=$SEED ROVE_FAULT_ROUNDS=$ROUNDS)"
RANDOM=$SEED

server_setup
territories east east/east.sh east/east.hz
reps=(ann ben cat dan)
declare -A terr=([ann]=east.sh [ben]=east.sh [cat]=east.hz [dan]=east.hz)
for u in "${reps[@]}"; do user_replica "$u" rep "${terr[$u]}"; done
user_replica max manager east
actors=("${reps[@]}" max)
sync_all admin "${actors[@]}"
kills_server=0
kills_client=0
mkdir -p "$T/made"

pick() { local a=("$@"); echo "${a[RANDOM % ${#a[@]}]}"; }

# One random action by $1 on its own replica (offline).
act() {
	local u=$1 ids id n
	case $((RANDOM % 7)) in
	0 | 1)
		n="$u-$((++made_count))-$SEED"
		r "$u" customer add --name "$n" --phone "139$((RANDOM % 10))$(printf %07d $made_count)" >/dev/null &&
			echo "$n" >>"$T/made/$u"
		;;
	2)
		ids=$(r "$u" customer list --json | jq -r --arg u "$u" '.[] | select(.owner == $u) | .id')
		[ -n "$ids" ] && r "$u" customer set "$(pick $ids)" tier="$(pick prospect customer loyal)" \
			address="addr $RANDOM"
		;;
	3)
		ids=$(r "$u" customer list --json | jq -r '.[] | select(.owner == null) | .id')
		[ -n "$ids" ] && r "$u" customer claim "$(pick $ids)" 2>/dev/null
		;;
	4)
		ids=$(r "$u" customer list --json | jq -r --arg u "$u" '.[] | select(.owner == $u) | .id')
		[ -n "$ids" ] && r "$u" customer release "$(pick $ids)" 2>/dev/null
		;;
	5)
		ids=$(r "$u" customer list --json | jq -r '.[].id')
		[ -n "$ids" ] && r "$u" activity add --customer "$(pick $ids)" --kind call --note "n$RANDOM" >/dev/null
		;;
	6)
		if [ "$u" = max ]; then
			ids=$(r max customer list --json | jq -r '.[].id')
			[ -n "$ids" ] && r max admin reassign --customer "$(pick $ids)" --to "$(pick "${reps[@]}")" \
				>/dev/null 2>&1
		fi
		;;
	esac
	return 0
}

sync_retry() {
	for _ in $(seq 1 100); do
		"$ROVE_BIN" -R "$T/$1" --timeout 1500 sync >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

made_count=0
for round in $(seq 1 "$ROUNDS"); do
	# Offline work.
	for _ in $(seq 1 12); do
		# An action may be refused (say, reassigning a customer the
		# server has not seen yet): that is part of the workload.
		act "$(pick "${actors[@]}")" || true
	done
	# Some go online; meanwhile roved and some clients are killed.
	pids=()
	for u in "${actors[@]}"; do
		if [ $((RANDOM % 4)) -ne 0 ]; then
			ROVE_PUSH_BATCH=2 ROVE_PULL_BATCH=3 "$ROVE_BIN" -R "$T/$u" --timeout 1500 sync >/dev/null 2>&1 &
			pids+=($!)
		fi
	done
	sleep "0.0$((RANDOM % 6))"
	if [ $((RANDOM % 2)) -eq 0 ] && [ ${#pids[@]} -gt 0 ]; then
		victim=$(pick "${pids[@]}")
		if kill -9 "$victim" 2>/dev/null; then
			kills_client=$((kills_client + 1))
		fi
	fi
	if [ $((RANDOM % 3)) -ne 0 ]; then
		server_kill
		kills_server=$((kills_server + 1))
		sleep "0.$((RANDOM % 3))"
		server_start
	fi
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done

	# Everyone online until nothing is pending, twice so all see all.
	for pass in 1 2; do
		for u in admin "${actors[@]}"; do sync_retry "$u" || fail "round $round: $u cannot sync"; done
	done
	all=$(r admin customer list --json)
	r admin conflicts --json >"$T/conflicts"

	# Every acknowledged create is on the server, every refused one kept.
	for u in "${reps[@]}" max; do
		eq "$(r "$u" status --json | jq .pending)" "0" "round $round: $u has nothing pending"
		[ -f "$T/made/$u" ] || continue
		while read -r n; do
			if ! jq -e --arg n "$n" 'any(.[]; .name == $n)' <<<"$all" >/dev/null; then
				r "$u" rejected --json | jq -e --arg n "$n" 'any(.[]; .fields.name == $n)' >/dev/null ||
					fail "round $round: $u's customer '$n' is neither on the server nor rejected"
			fi
		done <"$T/made/$u"
		# Refusals are kept on both sides.
		for op in $(r "$u" rejected --json | jq -r '.[].op'); do
			grep -q "$op" "$T/conflicts" || fail "round $round: $u's refused op $op is not on the server"
		done
	done
	# Nothing applied twice: names are unique, one create in each history.
	eq "$(jq '[.[].name] | unique | length' <<<"$all")" "$(jq length <<<"$all")" "round $round: no duplicates"
	# Every replica equals the server's state restricted to its scope.
	for u in "${reps[@]}"; do
		eq "$(r "$u" customer list --json | jq -c .)" "$(scope_filter_rep "$u" "${terr[$u]}" <<<"$all")" \
			"round $round: $u's replica"
	done
	eq "$(r max customer list --json)" "$all" "round $round: the manager's replica"
	echo "round $round: $(jq length <<<"$all") customers; kills so far: roved $kills_server, rove $kills_client"
done
echo "ok"
