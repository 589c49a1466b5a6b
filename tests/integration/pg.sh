# pg.sh - a real PostgreSQL server for a test (source after lib.sh).
#
# pg_start: initdb in $T/pg as an unprivileged user (nobody when the test
# runs as root, as CI does: PostgreSQL refuses to run as root), then the
# server on a free port of 127.0.0.1 and a unix socket in $T/pg; sets
# PG_PID, PG_PORT, PG_SOCK and PG_CONN (a libpq conninfo for database
# hq). pg_stop stops it (fast shutdown); pg_kill kills it (-9); pg_run
# starts it again on the same data. psql_hq runs psql on hq, unaligned,
# tuples only. A test without PostgreSQL's binaries is skipped (exit 0
# with a note) unless ROVE_NEED_PG is set.

pg_bindir() {
	local d
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		[ -x "$d/initdb" ] && {
			echo "$d"
			return 0
		}
	done
	return 1
}

PG_BIN=$(pg_bindir || true)
if [ -z "$PG_BIN" ]; then
	[ -z "${ROVE_NEED_PG:-}" ] || fail "PostgreSQL's server binaries are missing (scripts/deps installs postgresql)"
	echo "SKIP: no PostgreSQL server binaries (apt-get install postgresql)" >&2
	exit 0
fi
PG_PID=
PG_SOCK="$T/pg"

# as_pg CMD...: runs CMD as the unprivileged user that owns the data.
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
	else
		"$@"
	fi
}

pg_run() {
	local -a cmd=("$PG_BIN/postgres" -D "$PG_SOCK/data" -p "$PG_PORT" -k "$PG_SOCK"
		-c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off
		-c max_wal_size=1GB -c shared_buffers=64MB)
	# started directly (no function, no subshell), so that PG_PID is the
	# postmaster's own
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid=nobody --regid=nogroup --clear-groups -- "${cmd[@]}" >>"$T/pg.log" 2>&1 &
	else
		"${cmd[@]}" >>"$T/pg.log" 2>&1 &
	fi
	PG_PID=$!
	BG_PIDS+=("$PG_PID")
	local i
	for ((i = 0; i < 200; i++)); do
		"$PG_BIN/pg_isready" -q -h "$PG_SOCK" -p "$PG_PORT" && return 0
		kill -0 "$PG_PID" 2>/dev/null || {
			tail -n 20 "$T/pg.log" >&2
			fail "postgres exited at start"
		}
		sleep 0.05
	done
	fail "postgres did not start"
}

pg_start() {
	mkdir -p "$PG_SOCK"
	if [ "$(id -u)" -eq 0 ]; then
		chmod o+x "$T" # nobody walks through to its own directory
		chown nobody:nogroup "$PG_SOCK"
	fi
	as_pg "$PG_BIN/initdb" -D "$PG_SOCK/data" -U rove --auth=trust -E UTF8 --no-locale >"$T/initdb.log" 2>&1 ||
		{
			cat "$T/initdb.log" >&2
			fail "initdb failed"
		}
	PG_PORT=$(free_port)
	pg_run
	PG_CONN="host=$PG_SOCK port=$PG_PORT user=rove dbname=hq"
	psql_on postgres -c "CREATE DATABASE hq" >/dev/null
}

pg_stop() {
	[ -n "$PG_PID" ] || return 0
	kill -INT "$PG_PID" 2>/dev/null || true
	wait "$PG_PID" 2>/dev/null || true
	PG_PID=
}

pg_kill() {
	[ -n "$PG_PID" ] || return 0
	# the whole server at once, as a crash of its machine would
	local kids p i
	kids=$(pgrep -P "$PG_PID" || true)
	# shellcheck disable=SC2086
	kill -9 "$PG_PID" $kids 2>/dev/null || true
	wait "$PG_PID" 2>/dev/null || true
	for p in $kids; do
		for ((i = 0; i < 100; i++)); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.02
		done
	done
	PG_PID=
}

psql_on() {
	local db=$1
	shift
	"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U rove -d "$db" "$@"
}

psql_hq() { psql_on hq -A -t "$@"; }

# ---- comparing a fed database with a replica (rove feed's tests) ----

# sql_json KIND: the rows of KIND's table as rove prints them: ids and
# dates as text, times as ISO 8601 in UTC with a Z, without the digest.
# Ownership: of live customers, the ones 'rove customer history' shows.
sql_json() {
	local where=
	[ "$1" != ownership ] || where="WHERE t.customer IN (SELECT id FROM customer)"
	PGTZ=UTC psql_hq -c "SELECT coalesce(json_agg(t ORDER BY t.id), '[]') FROM \"$1\" t $where" |
		jq -S -c '[.[] | del(.rove_digest) | with_entries(
			if (.value | type) == "string" and (.value | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\+00:00$"))
			then .value |= sub("\\+00:00$"; "Z") else . end)
			| with_entries(if (.value | type) == "boolean" then .value |= (if . then 1 else 0 end) else . end)]'
}
# rove_json KIND: what FEED_REPLICA's rove prints (default ana), in the same order.
rove_json() {
	if [ "$1" = ownership ]; then
		local id
		{
			for id in $(r "${FEED_REPLICA:-ana}" customer list --json | jq -r '.[].id'); do
				r "${FEED_REPLICA:-ana}" customer history "$id" --json
			done
			for id in $(r "${FEED_REPLICA:-ana}" opportunity list --json | jq -r '.[].id'); do
				r "${FEED_REPLICA:-ana}" opportunity history "$id" --json
			done
		} | jq -s -S -c --slurpfile live <(r "${FEED_REPLICA:-ana}" customer list --json | jq -c 'map(.id)') \
			'add | unique_by(.id) | map(select(.customer as $c | $live[0] | index($c)) | del(.pending))'
	else
		# a list's pending mark is the replica's, not a column of the feed
		r "${FEED_REPLICA:-ana}" "$1" list --json | jq -S -c 'map(del(.pending)) | sort_by(.id)'
	fi
}
KINDS="customer contact contract opportunity activity dealer target territory ownership"
# same_as_rove [KIND...]: every table (or those named) equals the replica's records.
same_as_rove() {
	local k want got
	for k in ${*:-$KINDS}; do
		want=$(rove_json "$k")
		got=$(sql_json "$k")
		[ "$got" == "$want" ] || fail "table $k differs from 'rove $k list --json':
  rove: $want
  sql:  $got"
	done
}
