#!/usr/bin/env bash
# The journal keeps each change the server took (to send it again if the
# server is restored from a backup older than it) as the outbox entry it
# left, sum and all. A byte of one damaged on the disk: before, it was
# sent again altered after a restore, without a word (a customer the rep
# never named so); now it reads damaged, is said, and is not sent: the
# recovery finds the change in the replica's copy of the record, which
# the restored server lacks, and sends that.
. "$(dirname "$0")/lib.sh"

server_setup
territory t1
users r1:rep:t1
r r1 sync >/dev/null
server_stop
cp -a "$T/srv" "$T/copy"
server_start
r r1 customer add --name "Journal Qx" >/dev/null
r r1 customer add --name "Kept Ok" >/dev/null
r r1 sync >/dev/null
r r1 sync >/dev/null
eq "$(r r1 status --json | jq .pending)" 0 "both confirmed, in the journal"
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
"${ROVE_CORRUPT:?}" "$T/r1" journal subst "$(hex "Journal Qx")" "$(hex "Journal Qy")" >/dev/null ||
	fail "no journal entry holds the name"
server_stop
rm -rf "$T/srv"
cp -a "$T/copy" "$T/srv"
server_start
r r1 sync >"$T/out" 2>"$T/err" || fail "the sync after the restore: $(cat "$T/err")"
r r1 sync >/dev/null 2>>"$T/err" || fail "the next sync: $(cat "$T/err")"
r admin sync >/dev/null
names=$(r admin customer list --json | jq -r '[.[].name] | sort | join(",")')
case "$names" in *"Journal Qy"*) fail "the altered change reached the restored server: $names" ;; esac
eq "$names" "Journal Qx,Kept Ok" "both changes on the restored server, as made"
grep_q "damaged" "$T/err" || fail "the damaged entry not said: $(cat "$T/err")"
echo "ok"
