#!/usr/bin/env bash
# The same push sent twice is applied once: a copy of a replica taken
# before its sync (same replica id, same outbox) pushes the same ops again.
. "$(dirname "$0")/lib.sh"

server_setup
territory east.sh
user_replica alice rep east.sh

for i in 1 2 3 4 5; do
	r alice customer add --name "cust-$i" >/dev/null
done
id=$(r alice customer list --json | jq -r '.[0].id')
r alice customer set "$id" tier=loyal
cp -a "$T/alice" "$T/alice-copy"

first=$(r alice sync --json)
eq "$(jq .accepted <<<"$first")" "6" "first push accepted"
eq "$(jq .cursor <<<"$first")" "12" "a territory, six ops and five history entries in the oplog"

# The copy sends the very same ops: the server answers as the first time.
again=$("$ROVE_BIN" -R "$T/alice-copy" sync --json)
eq "$(jq .pushed <<<"$again")" "6" "copy pushed its six ops"
eq "$(jq .accepted <<<"$again")" "6" "answered as accepted (already seen)"
eq "$(jq .cursor <<<"$again")" "12" "no new op in the oplog"

admin_list=$(r admin sync >/dev/null && r admin customer list --json)
eq "$(jq length <<<"$admin_list")" "5" "five customers, none twice"
eq "$("$ROVE_BIN" -R "$T/alice-copy" customer list --json)" "$admin_list" "copy converges"
eq "$(r admin status --json | jq .cursor)" "12" "server head unchanged"
echo "ok"
