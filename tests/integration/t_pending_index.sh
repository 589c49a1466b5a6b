#!/usr/bin/env bash
# A replica whose index of pending changes lacks one of them (its page
# damaged: attack eighty-three flipped bits in a laptop's file) still
# syncs. When the server refused such a change, removing it from the
# index failed with "not found", and every later sync, --repair or not,
# ended "push: cannot record the server's answers: not found": the rep
# could not sync again. What the removal is for holds already; the
# refusal is recorded as any other.
. "$(dirname "$0")/lib.sh"

server_setup
territories east east/east.sh
users wang:rep:east.sh li:rep:east.sh
sync_all admin wang li

# A duplicate: li's create loses to wang's, with li's index entry gone.
r wang customer add --name "Steel A" --tax-id 91310000MA1BD00019 >/dev/null
r li customer add --name "Steel B" --tax-id 91310000MA1BD00019 >/dev/null
r wang sync >/dev/null
eq "$(r li status --json | jq .pending)" 1 "li's create pending"
"$ROVE_CORRUPT" "$T/li" pending del 0 >/dev/null
for i in 1 2; do
	code=0
	r li sync >"$T/out" 2>"$T/err" || code=$?
	eq "$code" 0 "sync $i with an index entry missing (stderr: $(cat "$T/err"))"
done
eq "$(r li rejected --json | jq -r '[.[].reason] | join(",")')" "duplicate" "the refusal recorded"
eq "$(r li status --json | jq .pending)" 0 "nothing left pending"
eq "$(r li customer list --json | jq length)" 0 "the refused create is gone from li's view"
echo ok
