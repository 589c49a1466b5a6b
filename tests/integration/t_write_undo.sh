#!/usr/bin/env bash
# A request that fails inside the writer (here a stored record that does
# not read back) leaves nothing behind: the ops of the same push applied
# before the failure are not kept, the push is answered with an error,
# and the next requests are served and kept as usual.
. "$(dirname "$0")/lib.sh"
check_at_end=no # it damages databases on purpose

ROVE_CORRUPT=${ROVE_CORRUPT:?set ROVE_CORRUPT to the rove_corrupt binary}
server_setup
territories east
users alice:rep:east bob:rep:east
sync_all admin alice bob

bad=$(r alice customer add --name "Stored Badly")
r alice sync >/dev/null
# The stored record of "Stored Badly" now names another id: reading it
# fails (the store calls it corrupt), as a damaged database would.
server_stop
hex=$(tr -d '-' <<<"$bad")
"$ROVE_CORRUPT" "$T/srv" records subst "$hex" "$(printf '%032x' 7)" >/dev/null || fail "rove_corrupt subst"
server_start

# One push: a new customer first, then an edit of the damaged one.
new=$(r alice customer add --name "Pushed Before The Failure")
r alice customer set "$bad" tier=customer >/dev/null
rc=0
r alice sync >"$T/out" 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "the push that failed inside the writer was reported a success: $(cat "$T/out")"
grep -q "the server.s database is damaged" "$T/out" || fail "not the store's error: $(cat "$T/out")"
if probe admin pull | grep_q "$new"; then fail "an op of the failed push was kept"; fi

# The server goes on: bob's push in a batch of its own is kept.
b=$(r bob customer add --name "Bob After")
r bob sync >/dev/null || fail "bob's sync after the failure"
probe admin pull | grep_q "$b" || fail "bob's customer is not on the server"
# Alice's new customer alone is accepted once the damaged edit is gone.
if probe admin pull | grep_q "$new"; then fail "alice's customer arrived from nowhere"; fi
eq "$(probe alice push create 1 "$new" name="Pushed Again" territory=east | jq -r .status)" "accepted" \
	"the op id of the undone op is free"
echo "t_write_undo: ok"
