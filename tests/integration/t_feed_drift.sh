#!/usr/bin/env bash
# rove feed postgres when PostgreSQL is not what the feed left: a column's
# type changed by hand (or by a newer rove's schema), a column dropped
# (with the views that used it), the digest column dropped - the feed
# puts the table back as its schema says, rebuilt from the replica in the
# round's own transaction, values exact; a column it may not change
# (another view depends on it) stops it with exit 1 naming the table, the
# column and what to do. Errors that retrying cannot mend (privileges
# revoked, a read-only database, a lock_timeout met each round) stop it
# with exit 1 and PostgreSQL's message: at once with --once, after
# ROVE_FEED_MAX_ATTEMPTS rounds in a row when it runs on; a lost
# connection is still waited out.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
export PGOPTIONS="-c client_min_messages=warning" # no notices of what a DROP cascades to

pg_start
server_setup
territories east east/east.sh
users alice:rep:east.sh mike:manager:east ana:analyst
sync_all admin

MONTH=$(date -u +%Y-%m)
a1=$(r alice customer add --name "Shanghai Steel" --phone 021-5555-0101 --tier customer)
r alice customer add --name "Pudong Foods" --phone 021-5555-0102 >/dev/null
r alice contact add --customer "$a1" --name "Ms Zhou" --phone 13911112222 >/dev/null
# 21,474,836.48 is 2^31 cents: past what an integer column holds
r alice contract add --customer "$a1" --number C-001 --amount 30000000.00 --signed-on 2026-01-15 >/dev/null
# 1,234,567.89 is 123456789 cents: a real (float4) keeps 7 digits of it
o1=$(r alice opportunity add --customer "$a1" --title "Coil order" --amount 1234567.89 --stage proposal)
r alice activity add --customer "$a1" --kind visit >/dev/null
sync_all alice
r mike target set alice --period "$MONTH" --amount 2000 >/dev/null
sync_all mike ana

feed_once() { r ana feed postgres "$PG_CONN" --once; }
col_type() {
	psql_hq -c "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = '$1'::regclass
		AND attname = '$2' AND NOT attisdropped"
}
# views_match: the views exist and agree with rove report
views_match() {
	local want got
	want=$(r ana report pipeline --json | jq -S -c '[.by_stage[] | select(.count > 0) | {stage, count, amount}]')
	got=$(psql_hq -c "SELECT json_agg(json_build_object('stage', stage, 'count', count, 'amount', amount) ORDER BY stage_order) FROM pipeline_by_stage" | jq -S -c .)
	eq "$got" "$want" "pipeline_by_stage against rove report pipeline"
	want=$(r ana report targets --json | jq -S -c '[.[] | {user, target}] | sort_by(.user)')
	got=$(psql_hq -c "SELECT json_agg(json_build_object('user', \"user\", 'target', target) ORDER BY \"user\") FROM targets_vs_won WHERE period = '$MONTH'" | jq -S -c .)
	eq "$got" "$want" "targets_vs_won against rove report targets"
}

feed_once
same_as_rove
views_match

# --- a column's type changed by hand: put back, the table rebuilt ---
# integer (in units, not cents): the next contract's cents do not fit
psql_hq -c "ALTER TABLE contract ALTER COLUMN amount TYPE integer USING (amount / 100)::integer" >/dev/null
# real: money silently rounded (the views must go first: deal reads o.*)
psql_hq -c "DROP VIEW deal CASCADE; ALTER TABLE opportunity ALTER COLUMN amount TYPE real" >/dev/null
# text where a date was
psql_hq -c "ALTER TABLE contract ALTER COLUMN signed_on TYPE text" >/dev/null
r alice contract add --customer "$a1" --number C-002 --amount 25000000.01 >/dev/null
r alice opportunity add --customer "$a1" --title "Second order" --amount 7654321.09 >/dev/null
sync_all alice ana
ROVE_LOG=info feed_once 2>"$T/err" || fail "the feed with changed column types: $(cat "$T/err")"
eq "$(col_type contract amount)" bigint "contract.amount's type put back"
eq "$(col_type opportunity amount)" bigint "opportunity.amount's type put back"
eq "$(col_type contract signed_on)" date "contract.signed_on's type put back"
grep -q "opportunity.*amount.*real" "$T/err" || fail "the change of type is told: $(cat "$T/err")"
same_as_rove
eq "$(psql_hq -c "SELECT amount FROM opportunity WHERE id = '$o1'")" 123456789 "money exact again"
views_match

# --- columns dropped by hand, one with the views that used it ---
psql_hq -c "ALTER TABLE target DROP COLUMN amount CASCADE" >/dev/null
psql_hq -c "ALTER TABLE dealer DROP COLUMN rove_digest" >/dev/null
psql_hq -c "ALTER TABLE contact DROP COLUMN id" >/dev/null
feed_once 2>"$T/err" || fail "the feed with dropped columns: $(cat "$T/err")"
same_as_rove
views_match
eq "$(psql_hq -c "SELECT count(*) FROM pg_index WHERE indrelid = 'contact'::regclass AND indisprimary")" 1 \
	"contact's primary key made again"

# --- a column the feed may not change: stopped, told what to do ---
psql_hq -c "ALTER TABLE customer ALTER COLUMN phone TYPE varchar(40); CREATE VIEW bi_phones AS SELECT phone FROM customer" >/dev/null
exits_as ana 1 feed postgres "$PG_CONN" --once
grep -q "customer" "$T/err" && grep -q "phone" "$T/err" && grep -q "bi_phones" "$T/err" && grep -q "drop" "$T/err" ||
	fail "the column the feed cannot change is named, with what depends on it: $(cat "$T/err")"
eq "$(col_type customer phone)" "character varying(40)" "nothing changed by the refused feed"
eq "$(psql_hq -c "SELECT count(*) FROM pg_views WHERE viewname = 'deal'")" 1 "the views left in place"
psql_hq -c "DROP VIEW bi_phones" >/dev/null
feed_once
eq "$(col_type customer phone)" text "customer.phone put back once nothing depends on it"
same_as_rove

# --- a running feed meets a column dropped under it: it mends it ---
"$ROVE_BIN" -R "$T/ana" feed postgres "$PG_CONN" --interval 0.2 2>"$T/feed.log" &
feed=$!
BG_PIDS+=("$feed")
sleep 1
psql_hq -c "ALTER TABLE customer DROP COLUMN tier" >/dev/null
r alice customer set "$a1" tier=loyal >/dev/null
sync_all alice ana
tier_fed() { test "$(psql_hq -c "SELECT tier FROM customer WHERE id = '$a1'" 2>/dev/null)" = "$1"; }
wait_for 10 "the running feed to write the change" tier_fed loyal
kill -0 "$feed" || fail "the feed stopped on a dropped column: $(cat "$T/feed.log")"
kill -TERM "$feed"
wait "$feed" || fail "the feed did not stop cleanly: $(cat "$T/feed.log")"
same_as_rove

# --- privileges revoked: errors that retrying does not mend ---
psql_hq -c "CREATE ROLE feeder LOGIN; GRANT USAGE, CREATE ON SCHEMA public TO feeder;
	GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO feeder" >/dev/null
FEEDER="host=$PG_SOCK port=$PG_PORT user=feeder dbname=hq"
r ana feed postgres "$FEEDER" --once || fail "the feed as a role with the privileges it needs"
psql_hq -c "REVOKE INSERT ON contact FROM feeder" >/dev/null
r alice contact add --customer "$a1" --name "Mr Wang" >/dev/null
sync_all alice ana
exits_as ana 1 feed postgres "$FEEDER" --once
grep -q "permission denied for table contact" "$T/err" && grep -q "write rows into table contact" "$T/err" ||
	fail "--once names the table and PostgreSQL's message: $(cat "$T/err")"
eq "$(psql_hq -c "SELECT count(*) FROM contact WHERE name = 'Mr Wang'")" 0 "a refused round wrote nothing"
# running: a few rounds, then exit 1 (not a loop for ever)
MAX=$(sed -n 's/^#define ROVE_FEED_MAX_ATTEMPTS \([0-9]*\)u\?$/\1/p' "$(dirname "$0")/../../common/rove_limits.h")
[ -n "$MAX" ] || fail "ROVE_FEED_MAX_ATTEMPTS not found in rove_limits.h"
start=$(date +%s%N)
set +e
timeout 30 "$ROVE_BIN" -R "$T/ana" feed postgres "$FEEDER" --interval 0.2 2>"$T/err"
st=$?
set -e
eq "$st" 1 "a running feed refused the same way, round after round ($(tail -n 1 "$T/err"))"
echo "stopped after $(elapsed_ms "$start") ms" >&2
eq "$(grep -c "permission denied for table contact" "$T/err")" "$MAX" "attempts before the feed stops"
tail -n 1 "$T/err" | grep_q "stops" || fail "the last line says the feed stops: $(cat "$T/err")"
psql_hq -c "GRANT INSERT ON contact TO feeder" >/dev/null
r ana feed postgres "$FEEDER" --once
same_as_rove

# --- a lock_timeout of the feed's role, a table held by another session:
# the same timeout each round, not a passing conflict ---
psql_hq -c "ALTER ROLE feeder SET lock_timeout = '200ms'" >/dev/null
since=$(psql_hq -c "SELECT now()")
"$ROVE_BIN" -R "$T/ana" feed postgres "$FEEDER" --interval 0.2 2>"$T/feed.log" &
feed=$!
BG_PIDS+=("$feed")
first_round() { test "$(psql_hq -c "SELECT count(*) FROM rove_feed_position WHERE fed_at > '$since'")" = 1; }
wait_for 10 "the feed's first round" first_round
"$PG_BIN/psql" -X -q -h "$PG_SOCK" -p "$PG_PORT" -U rove -d hq -c "BEGIN" \
	-c "LOCK TABLE contact IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
holder=$!
BG_PIDS+=("$holder")
contact_locked() {
	test "$(psql_hq -c "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
		WHERE c.relname = 'contact' AND l.mode = 'AccessExclusiveLock' AND l.granted")" = 1
}
wait_for 10 "another session to hold table contact" contact_locked
r alice contact add --customer "$a1" --name "Mr Zhao" >/dev/null
sync_all alice ana
stopped() { ! kill -0 "$feed" 2>/dev/null; }
wait_for 20 "the feed to stop on the lock timeout" stopped
set +e
wait "$feed"
st=$?
set -e
psql_hq -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()" >/dev/null
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true
eq "$st" 1 "a feed whose every round meets the lock_timeout ($(tail -n 1 "$T/feed.log"))"
eq "$(grep -c "contact.*lock timeout" "$T/feed.log")" "$MAX" "rounds that met the lock timeout"
psql_hq -c "ALTER ROLE feeder RESET lock_timeout" >/dev/null
r ana feed postgres "$FEEDER" --once
same_as_rove

# --- a database made read-only under a running feed ---
"$ROVE_BIN" -R "$T/ana" feed postgres "$FEEDER" --interval 0.2 2>"$T/feed.log" &
feed=$!
BG_PIDS+=("$feed")
sleep 1
psql_hq -c "ALTER DATABASE hq SET default_transaction_read_only = on" >/dev/null
# its session ends (as a failover would end it); the next change finds
# it gone, and the feed connects again
psql_hq -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'feeder'" >/dev/null
r alice customer add --name "Read Only Co" >/dev/null
sync_all alice ana
wait_for 20 "the feed to stop on a read-only database" stopped
set +e
wait "$feed"
st=$?
set -e
eq "$st" 1 "a feed of a read-only database"
grep -q "read-only" "$T/feed.log" && grep -q "rove_schema_version" "$T/feed.log" ||
	fail "the read-only database is told: $(cat "$T/feed.log")"
grep -q "waits for postgresql" "$T/feed.log" || fail "the lost session was waited out first: $(cat "$T/feed.log")"
PGOPTIONS="$PGOPTIONS -c default_transaction_read_only=off" psql_hq -c "ALTER DATABASE hq RESET default_transaction_read_only" >/dev/null
r ana feed postgres "$FEEDER" --once
same_as_rove
pg_stop
