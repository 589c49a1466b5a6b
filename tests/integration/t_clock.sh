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

# roved restarts; the admin moves the customer at once.
server_stop
server_start
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
