#!/usr/bin/env bash
# rove feed under kill -9: while reps work and an analyst's replica syncs,
# the feed, roved or PostgreSQL is killed at a random moment, round after
# round, and started again. At the end the fed tables equal the replica,
# record for record (nothing lost, nothing doubled: ids are keys, and
# every value is compared). ROVE_FEED_ROUNDS (default 8, 37 s of CPU at
# 12 in CI's optimised run; 3 under the sanitizers) and ROVE_SEED set the
# rounds and the randomness (scripts/faults feed runs many).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"

[ "${ROVE_SANITIZED:-0}" = 1 ] && rounds=3 || rounds=8
ROUNDS=${ROVE_FEED_ROUNDS:-$rounds}
SEED=${ROVE_SEED:-$$}
RANDOM=$SEED
echo "t_feed_crash: seed $SEED, $ROUNDS rounds" >&2

pg_start
server_setup
territories east east/east.sh
users alice:rep:east.sh ana:analyst

# A start worth killing the first round in: a few thousand customers.
{
	echo "name,phone,territory,tier"
	for i in $(seq 1 3000); do
		echo "Start Co $i,1390000$(printf %04d "$i"),east.sh,prospect"
	done
} >"$T/start.csv"
r alice import customers "$T/start.csv" >/dev/null
sync_all alice ana

# The work going on meanwhile: alice adds and edits customers, the admin
# deletes some, both sync, and so does ana; any of them may find roved
# down (then it waits for the next turn).
work() {
	set +e
	local i=0 id
	while [ ! -e "$T/stop" ]; do
		i=$((i + 1))
		id=$(r alice customer add --name "Work Co $i" 2>/dev/null)
		if [ -n "$id" ]; then
			echo "$id" >>"$T/made"
			r alice contact add --customer "$id" --name "Contact $i" >/dev/null 2>&1
		fi
		if [ $((i % 3)) -eq 0 ] && [ -s "$T/made" ]; then
			r alice customer set "$(shuf -n 1 "$T/made")" tier=loyal >/dev/null 2>&1
		fi
		r alice sync >/dev/null 2>&1
		if [ $((i % 4)) -eq 0 ] && [ -s "$T/made" ]; then
			r admin sync >/dev/null 2>&1
			r admin customer delete "$(shuf -n 1 "$T/made")" >/dev/null 2>&1
			r admin sync >/dev/null 2>&1
		fi
		r ana sync >/dev/null 2>&1
	done
}
work &
WORK_PID=$!
BG_PIDS+=("$WORK_PID")

FEED_PID=
feed_start() {
	"$ROVE_BIN" -R "$T/ana" feed postgres "$PG_CONN" --interval 0.05 2>>"$T/feed.log" &
	FEED_PID=$!
	BG_PIDS+=("$FEED_PID")
}
feed_start

kills=(0 0 0)
for ((n = 1; n <= ROUNDS; n++)); do
	sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
	what=$((RANDOM % 3))
	kills[what]=$((kills[what] + 1))
	case $what in
	0)
		kill -9 "$FEED_PID" 2>/dev/null || true
		wait "$FEED_PID" 2>/dev/null || true
		feed_start
		;;
	1)
		server_kill
		sleep "0.$((RANDOM % 5))"
		server_start
		;;
	2)
		pg_kill
		sleep "0.$((RANDOM % 5))"
		pg_run
		;;
	esac
	# a feed that found PostgreSQL down as it started has exited (3)
	if ! kill -0 "$FEED_PID" 2>/dev/null; then
		wait "$FEED_PID" 2>/dev/null || true
		feed_start
	fi
done
echo "killed the feed ${kills[0]}, roved ${kills[1]}, postgres ${kills[2]} times" >&2

touch "$T/stop"
wait "$WORK_PID" || true
sync_all admin alice ana
sync_all ana
# The running feed catches up by itself.
want=$(r ana customer list --json | jq length)
wait_for 30 "the running feed to catch up ($want customers)" \
	test "$(psql_hq -c "SELECT count(*) FROM customer")" = "$want"
kill -TERM "$FEED_PID"
wait "$FEED_PID" || fail "the feed did not stop cleanly on SIGTERM"
same_as_rove customer contact territory
eq "$(psql_hq -c "SELECT count(*) - count(DISTINCT id) FROM customer")" 0 "doubled customers"
[ "$(psql_hq -c "SELECT count(*) FROM customer")" -gt 3000 ] || fail "the work made no customers"
# And a feed started afresh finds nothing to do.
out=$(ROVE_LOG=info "$ROVE_BIN" -R "$T/ana" feed postgres "$PG_CONN" --once 2>&1)
[[ $out == *" 0 written, 0 removed"* ]] || fail "a fresh feed after the crashes still had work: $out"
pg_stop
