#!/usr/bin/env bash
# A reset snapshot (the user's scope changed) applies atomically: a sync
# killed in the middle of one leaves the replica showing what it showed
# before, never a fraction of the scope; the next sync resumes and
# finishes it.
. "$(dirname "$0")/lib.sh"

server_setup
territories east west north
users alice:rep:east
sync_all admin alice
{
	echo "name,phone"
	for i in $(seq 1 1500); do echo "Customer $i,1380000$(printf %04d "$i")"; done
} >"$T/customers.csv"
r alice import customers "$T/customers.csv" >/dev/null
r alice sync >/dev/null
before=$(ids_of alice)
eq "$(wc -l <<<"$before")" "1500" "alice holds her customers"

for cut in 0.02 0.05 0.1 0.15 0.25; do
	# A new territory: alice's replica must fetch her scope again.
	terr="t${cut#0.}"
	territory "$terr"
	r admin admin assign alice "$terr"
	ROVE_PULL_BATCH=5 "$ROVE_BIN" -R "$T/alice" sync >/dev/null 2>&1 &
	pid=$!
	sleep "$cut"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	eq "$(ids_of alice)" "$before" "after a sync killed at ${cut}s, alice sees all her customers"
	eq "$(r alice customer list --json | jq '[.[] | select(.owner != "alice")] | length')" "0" \
		"and nothing else"
done
r alice sync >/dev/null
eq "$(ids_of alice)" "$before" "the reset finished"
eq "$(r alice territory list --json | jq length)" "6" "with her new territories"
# The replicas' indexes match their records after all of it.
for u in alice; do
	"${ROVE_INDEX_CHECK:?set ROVE_INDEX_CHECK}" "$T/$u" || fail "$u: the index check found problems"
done
echo "ok"
