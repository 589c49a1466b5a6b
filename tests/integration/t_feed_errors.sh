#!/usr/bin/env bash
# rove feed postgres: what each failure to connect exits with, a database
# fed by another replica, a replica behind what it fed, and the log while
# PostgreSQL is down.
# - a CONNINFO that does not parse (garbage, an unknown option, empty) is
#   usage: exit 2, said before anything is tried;
# - a server that answered and refused (no such database, a wrong
#   password, SSL required of a server without it) is exit 1 with
#   PostgreSQL's (or libpq's) message; only a server not reached
#   (refused, no such host) is exit 3; left running, a refusal after
#   start stops the feed after ROVE_FEED_MAX_ATTEMPTS tries;
# - another replica (another id, another user) is refused with exit 1,
#   both named; a replica behind its own fed position does not roll
#   PostgreSQL back: --once exits 1, a running feed waits for it;
# - PostgreSQL down: said once with the reason, once when back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"

pg_start
server_setup
territories east east/east.sh
users alice:rep:east.sh ana:analyst
sync_all admin
a1=$(r alice customer add --name "Shanghai Steel")
sync_all alice ana admin
MAX=$(sed -n 's/^#define ROVE_FEED_MAX_ATTEMPTS \([0-9]*\)u\?$/\1/p' "$(dirname "$0")/../../common/rove_limits.h")
[ -n "$MAX" ] || fail "ROVE_FEED_MAX_ATTEMPTS not found in rove_limits.h"

# --- a CONNINFO that does not parse: usage ---
exits_as ana 2 feed postgres garbage --once
grep -q "garbage" "$T/err" || fail "the bad conninfo is quoted: $(cat "$T/err")"
exits_as ana 2 feed postgres "host=$PG_SOCK bogus=1" --once
grep -q "bogus" "$T/err" || fail "the unknown option is named: $(cat "$T/err")"
exits_as ana 2 feed postgres "" --once
exits_as ana 2 feed postgres "sslmode=sometimes host=$PG_SOCK port=$PG_PORT" --once
grep -q "sslmode" "$T/err" || fail "the invalid value is named: $(cat "$T/err")"
# a running feed too: not a loop on a conninfo that cannot work
set +e
timeout 10 "$ROVE_BIN" -R "$T/ana" feed postgres garbage 2>"$T/err"
st=$?
set -e
eq "$st" 2 "a running feed with a conninfo that does not parse"

r ana feed --help | grep -q "PGPASSFILE" || fail "feed --help points to a password file"
# --- a server that answered and refused: failed (1), not unreachable ---
exits_as ana 1 feed postgres "host=$PG_SOCK port=$PG_PORT user=rove dbname=nodb" --once
grep -q '"nodb" does not exist' "$T/err" || fail "PostgreSQL's message for a missing database: $(cat "$T/err")"
# a role that logs in with a password (scram), over TCP
psql_hq -c "SET password_encryption = 'scram-sha-256'; CREATE ROLE pwuser LOGIN PASSWORD 'right'" >/dev/null
{
	echo "host all pwuser 127.0.0.1/32 scram-sha-256"
	cat "$PG_SOCK/data/pg_hba.conf"
} >"$T/hba" && as_pg cp "$T/hba" "$PG_SOCK/data/pg_hba.conf"
psql_hq -c "SELECT pg_reload_conf()" >/dev/null
PWCONN="host=127.0.0.1 port=$PG_PORT user=pwuser dbname=hq"
exits_as ana 1 feed postgres "$PWCONN password=wrong" --once
grep -q "password authentication failed" "$T/err" || fail "the failed password is told: $(cat "$T/err")"
exits_as ana 1 feed postgres "$PWCONN password=right sslmode=require" --once
grep -q "SSL" "$T/err" || fail "SSL required of a server without it is told: $(cat "$T/err")"
# not reached: unreachable (3)
exits_as ana 3 feed postgres "host=127.0.0.1 port=$(free_port) user=rove dbname=hq" --once
exits_as ana 3 feed postgres "host=no-such-host.invalid port=$PG_PORT user=rove dbname=hq connect_timeout=2" --once

# --- a refusal after start is not retried for ever ---
psql_hq -c "GRANT USAGE, CREATE ON SCHEMA public TO pwuser" >/dev/null
r ana feed postgres "$PWCONN password=right" --once || fail "the feed as pwuser: $(cat "$T/err")"
psql_hq -c "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO pwuser" >/dev/null
"$ROVE_BIN" -R "$T/ana" feed postgres "$PWCONN password=right" --interval 0.1 2>"$T/feed.log" &
feed=$!
BG_PIDS+=("$feed")
sleep 1
# the password changes, and the feed's session is ended: it connects again
psql_hq -c "ALTER ROLE pwuser PASSWORD 'changed'" >/dev/null
psql_hq -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'pwuser'" >/dev/null
r alice customer add --name "Password Co" >/dev/null
sync_all alice ana
stopped() { ! kill -0 "$feed" 2>/dev/null; }
wait_for 20 "the feed to stop on a password that no longer works" stopped
set +e
wait "$feed"
st=$?
set -e
eq "$st" 1 "a running feed whose password stopped working ($(tail -n 1 "$T/feed.log"))"
eq "$(grep -c "password authentication failed" "$T/feed.log")" "$MAX" "tries before the feed stops"
psql_hq -c "ALTER ROLE pwuser PASSWORD 'right'" >/dev/null

# --- another replica feeding the same database ---
r ana feed postgres "$PG_CONN" --once
eq "$(psql_hq -c "SELECT count(*) FROM customer")" 2 "fed by ana"
# the same user on another replica (a new laptop): another replica id
rove -R "$T/ana2" init --server "$URL" --user ana --token "$(token_of ana)" >/dev/null 2>&1
r ana2 sync >/dev/null
exits_as ana2 1 feed postgres "$PG_CONN" --once
ana_id=$(psql_hq -c "SELECT replica FROM rove_feed_position")
ana2_id=$(r ana2 status --json | jq -r '.replica // empty')
grep -q "$ana_id" "$T/err" || fail "the feeding replica is named: $(cat "$T/err")"
[ -z "$ana2_id" ] || grep -q "$ana2_id" "$T/err" || fail "this replica is named: $(cat "$T/err")"
grep -q "rove_feed_position" "$T/err" || fail "what to do is said: $(cat "$T/err")"
# another user (an admin: holds every record too)
exits_as admin 1 feed postgres "$PG_CONN" --once
grep -q "'ana'" "$T/err" && grep -q "'admin'" "$T/err" || fail "both users are named: $(cat "$T/err")"
# nothing of ana's was changed by the refused feeds
eq "$(psql_hq -c "SELECT replica || ' ' || replica_user FROM rove_feed_position")" "$ana_id ana" "the position kept"
# said so explicitly (the position row deleted): the other replica takes over
psql_hq -c "DELETE FROM rove_feed_position" >/dev/null
FEED_REPLICA=ana2
r ana2 feed postgres "$PG_CONN" --once
same_as_rove customer
eq "$(psql_hq -c "SELECT replica_user FROM rove_feed_position")" ana "the position is ana2's"
psql_hq -c "DELETE FROM rove_feed_position" >/dev/null
FEED_REPLICA=ana
r ana feed postgres "$PG_CONN" --once

# --- a replica behind its own fed position (restored from an old copy) ---
cp -a "$T/ana" "$T/ana.old"
r alice customer add --name "Newer Co" >/dev/null
sync_all alice ana
r ana feed postgres "$PG_CONN" --once
eq "$(psql_hq -c "SELECT count(*) FROM customer")" 3 "fed the newer state"
rm -rf "$T/ana" && mv "$T/ana.old" "$T/ana"
exits_as ana 1 feed postgres "$PG_CONN" --once
grep -q "behind" "$T/err" && grep -q "rove sync" "$T/err" || fail "a replica behind is told to sync: $(cat "$T/err")"
eq "$(psql_hq -c "SELECT count(*) FROM customer")" 3 "PostgreSQL not rolled back"
# running: it waits (said once) until a sync brings the replica past it
"$ROVE_BIN" -R "$T/ana" feed postgres "$PG_CONN" --interval 0.1 2>"$T/feed.log" &
feed=$!
BG_PIDS+=("$feed")
sleep 1.5
kill -0 "$feed" || fail "the feed of a replica behind stopped: $(cat "$T/feed.log")"
eq "$(grep -c "behind" "$T/feed.log")" 1 "a replica behind is said once"
eq "$(psql_hq -c "SELECT count(*) FROM customer")" 3 "PostgreSQL not rolled back by the running feed"
r alice customer add --name "Newest Co" >/dev/null
sync_all alice ana
four() { test "$(psql_hq -c "SELECT count(*) FROM customer")" = 4; }
wait_for 10 "the feed to go on once the replica caught up" four
same_as_rove customer

# --- PostgreSQL down: said once, not every interval; said when back ---
: >"$T/feed.log.mark"
lines0=$(wc -l <"$T/feed.log")
pg_stop
r alice customer add --name "During Outage Co" >/dev/null
sync_all alice ana
sleep 3 # 30 intervals of trying
down=$(($(wc -l <"$T/feed.log") - lines0))
[ "$down" -le 2 ] || fail "$down lines in 3 s while PostgreSQL is down: $(tail -n +$((lines0 + 1)) "$T/feed.log")"
tail -n +$((lines0 + 1)) "$T/feed.log" | grep -q "waits for postgresql" ||
	fail "the wait is said: $(tail -n +$((lines0 + 1)) "$T/feed.log")"
tail -n +$((lines0 + 1)) "$T/feed.log" | grep -q "postgresql:.*\(terminat\|connect\|closed\|No such file\)" ||
	fail "the reason is said: $(tail -n +$((lines0 + 1)) "$T/feed.log")"
pg_run
five() { test "$(psql_hq -c "SELECT count(*) FROM customer")" = 5; }
wait_for 10 "the feed to go on once PostgreSQL is back" five
back() { tail -n +$((lines0 + 1)) "$T/feed.log" | grep -q "postgresql is back"; }
wait_for 5 "the feed to say PostgreSQL is back" back
kill -TERM "$feed"
wait "$feed" || fail "the feed did not stop cleanly: $(cat "$T/feed.log")"
eq "$(tail -n +$((lines0 + 1)) "$T/feed.log" | wc -l)" 2 "lines for the outage: down, back ($(cat "$T/feed.log"))"
same_as_rove customer
pg_stop
