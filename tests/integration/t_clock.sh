#!/usr/bin/env bash
# The server's clock never goes back, across restarts too (rule 8): a change
# stamped a few minutes ahead is accepted as stamped; after a restart, a
# reassignment still orders after it (the owner changes and the history
# says so), and the times the server writes are its own clock's.
. "$(dirname "$0")/lib.sh"

server_setup
territories east east/east.sh
users alice:rep:east.sh bob:rep:east.sh
sync_all admin alice bob

# alice's laptop is 4 minutes fast: her create keeps its stamp.
now_ms=$(($(date +%s) * 1000))
c=01a22000-0000-7000-8000-00000000c10c
res=$(probe alice push create 1 "$c" --hlc-ms $((now_ms + 4 * 60 * 1000)) name=Fast territory=east.sh)
eq "$(jq -r .status <<<"$res")" "accepted" "a create 4 minutes ahead"
[ "$(jq .hlc_ms <<<"$res")" -ge $((now_ms + 3 * 60 * 1000)) ] || fail "re-stamped although within the skew: $res"
# The times the server writes (created_at, closed_on, a history's at)
# are its wall clock's: one rep's stamp, however far ahead it may be,
# moves them for nobody (attack twenty-five: a rep pushing a few minutes
# ahead near midnight would move other reps' wins into the next month).
r admin sync >/dev/null
created=$(r admin customer show "$c" --json | jq -r .created_at)
[ "$(date -u -d "$created" +%s)" -le $(($(date +%s) + 60)) ] || fail "created_at follows alice's fast stamp: $created"
b1=$(r bob customer add --name "Bob's after")
r bob sync >/dev/null
created=$(r bob customer show "$b1" --json | jq -r .created_at)
[ "$(date -u -d "$created" +%s)" -le $(($(date +%s) + 60)) ] || fail "bob's created_at follows alice's stamp: $created"

# roved restarts; the admin moves the customer at once.
server_stop
server_start
# Nor across the restart: the clock stored holds alice's stamp, the
# server's time is the wall clock's (attack twenty-six: 5 minutes ahead
# after one restart, 10 after two).
b2=$(r bob customer add --name "Bob's after the restart")
r bob sync >/dev/null
created=$(r bob customer show "$b2" --json | jq -r .created_at)
[ "$(date -u -d "$created" +%s)" -le $(($(date +%s) + 60)) ] || fail "created_at after a restart: $created"
r admin admin reassign --customer "$c" --to bob
r admin sync >/dev/null
eq "$(r admin customer show "$c" --json | jq -r .owner)" "bob" "the reassignment took effect"
eq "$(r admin customer history "$c" --json | jq -r '[.[].event] | join(",")')" "create,reassign" "and is in the history"
# bob's later edit orders after alice's too.
r bob sync >/dev/null
r bob customer set "$c" tier=loyal
r bob sync >/dev/null
r admin sync >/dev/null
eq "$(r admin customer show "$c" --json | jq -r .tier)" "loyal" "a later edit after the restart"
echo "ok"
