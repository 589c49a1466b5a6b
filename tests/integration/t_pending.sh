#!/usr/bin/env bash
# rove pending lists the changes the server has not confirmed yet, oldest
# first: what, which record, when, its fields; after a sync, nothing.
. "$(dirname "$0")/lib.sh"

server_setup
territories east east/east.sh
users wang:rep:east.sh
sync_all admin wang

eq "$(r wang pending --json)" "[]" "nothing pending on a synced replica"
eq "$(r wang pending)" "nothing pending" "said so on a terminal"
a=$(r wang customer add --name "Offline Co" --phone 13700000011)
r wang customer set "$a" tier=loyal
c=$(r wang contact add --customer "$a" --name "Ann" --title Buyer)
out=$(r wang pending --json)
eq "$(jq length <<<"$out")" "3" "three changes pending"
eq "$(jq -r '[.[].kind] | join(",")' <<<"$out")" "create,update,create" "in the order made"
eq "$(jq -r '[.[].collection] | join(",")' <<<"$out")" "customer,customer,contact" "of which records"
eq "$(jq -r '.[0].id' <<<"$out")" "$a" "the customer's id"
eq "$(jq -r '.[2].id' <<<"$out")" "$c" "the contact's id"
eq "$(jq -r '.[1].fields.tier' <<<"$out")" "loyal" "with its fields"
eq "$(jq -r '[.[].sent] | all(. == false)' <<<"$out")" "true" "none sent yet"
jq -e '.[0].at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")' <<<"$out" >/dev/null ||
	fail "a time in the one JSON format: $(jq -r '.[0].at' <<<"$out")"
eq "$(jq length <<<"$out")" "$(r wang status --json | jq .pending)" "as many as rove status counts"
r wang pending | grep_q "create  customer $a" || fail "text output: $(r wang pending)"
r wang pending | grep_q "tier = loyal" || fail "text output has no fields: $(r wang pending)"
# Lists mark records with pending changes.
eq "$(r wang customer list --json | jq -r --arg a "$a" '.[] | select(.id == $a) | .pending')" "true" \
	"a customer with pending changes is marked"
r wang customer list | grep_q "^${a: -12}\*" || fail "not marked on a terminal: $(r wang customer list)"
# A sync killed right after the server accepted the changes (its first
# commit marks them): still pending until a pull confirms them, shown as
# sent, and rove status says how many of them the server has.
rc=0
die_after_meta 1 r wang sync >/dev/null 2>&1 || rc=$?
eq "$rc" "137" "the sync killed after its first commit"
eq "$(r wang pending --json | jq -c '[.[].sent]')" "[true,true,true]" "the accepted changes are sent"
r wang pending | grep_q "create  customer $a  (sent)" || fail "sent not shown: $(r wang pending)"
eq "$(r wang status --json | jq .pending)" "3" "sent changes are still pending"
r wang status | grep_q -x "pending:   3 op(s), 3 of them sent: the next sync confirms them" ||
	fail "rove status does not say they were sent: $(r wang status)"
# Changes made after them wait behind the sent ones: the count of those
# sent (read from both ends of the outbox, not by a walk of it all).
r wang customer set "$a" tier=prospect
r wang customer add --name "After the cut" >/dev/null
eq "$(r wang status --json | jq .pending)" "5" "two more made after the cut sync"
r wang status | grep_q -x "pending:   5 op(s), 3 of them sent: the next sync confirms them" ||
	fail "rove status with sent and unsent changes: $(r wang status)"
eq "$(r wang pending --json | jq -c '[.[].sent]')" "[true,true,true,false,false]" "the sent ones first"
"${ROVE_INDEX_CHECK:?}" "$T/wang" || fail "the replica's check found problems"
# The check says when an acknowledged op follows one that is not (what
# the count counts on): an entry put at the outbox's end on purpose, in
# a copy of the replica, with its sum (replica.h: FNV-1a of key, answer
# and op, from the outbox's basis), made here apart from rove's code.
cp -r "$T/wang" "$T/wang-broken"
entry=$(python3 -c '
import sys
k, head, op = bytes.fromhex("ffffffffffffffff"), bytes.fromhex("0000000000000001"), bytes.fromhex("c0")
h = 14695981039346656037 ^ 0x6f7574626f78
for b in k + head + op:
    h = ((h ^ b) * 1099511628211) % 2**64
print((head + h.to_bytes(8, "big") + op).hex())')
"${ROVE_CORRUPT:?}" "$T/wang-broken" outbox put ffffffffffffffff "$entry" >/dev/null
if "$ROVE_INDEX_CHECK" "$T/wang-broken" 2>"$T/check.err"; then fail "the check missed an outbox out of order"; fi
grep_q "acknowledged after one that is not" <"$T/check.err" || fail "what the check said: $(cat "$T/check.err")"
# ... and when an entry's sum is not its bytes' (the same, one bit off).
cp -r "$T/wang" "$T/wang-broken2"
"$ROVE_CORRUPT" "$T/wang-broken2" outbox put ffffffffffffffff "${entry%?}$(printf '%x' $(( 0x${entry: -1} ^ 1 )))" >/dev/null
if "$ROVE_INDEX_CHECK" "$T/wang-broken2" 2>"$T/check.err"; then fail "the check missed a damaged entry"; fi
grep_q "does not read whole (damaged)" <"$T/check.err" || fail "what the check said: $(cat "$T/check.err")"
# The sync says how many the cut one sent were found taken, beside its own
# (attack sixty-eight: "pushed 0, accepted 0" for thousands confirmed).
cp -r "$T/wang" "$T/wang-text"
eq "$(r wang sync --json | jq -c '[.pushed, .accepted, .confirmed]')" "[2,2,3]" "the sent ones confirmed, said"
rove -R "$T/wang-text" sync >"$T/text"; grep_q -x "5 change(s) sent by an earlier sync confirmed now" <"$T/text" ||
	fail "the text: $(cat "$T/text")"
eq "$(r wang sync --json | jq .confirmed)" "null" "none the next time"
eq "$(r wang pending --json)" "[]" "nothing pending after a sync"
r wang status | grep_q -x "pending:   0 op(s)" || fail "rove status after the sync: $(r wang status)"
eq "$(r wang customer list --json | jq '[.[] | select(.pending != false)] | length')" "0" \
	"pending false in every object once confirmed"
# A replica whose meta table was emptied: "no replica (run 'rove init'
# first)", and rove init then refused the directory as holding one
# (attack sixty-two). It is said to be damaged, with the way out.
cp -r "$T/wang" "$T/wang-nometa"
"$ROVE_CORRUPT" "$T/wang-nometa" meta delall - >/dev/null
rc=0
rove -R "$T/wang-nometa" status >/dev/null 2>"$T/err" || rc=$?
eq "$rc" 1 "status of a replica without its meta: exit status ($(cat "$T/err"))"
grep_q "is damaged" <"$T/err" || fail "status of a replica without its meta: $(cat "$T/err")"
grep_q "run 'rove init' first" <"$T/err" && fail "status of a replica without its meta: $(cat "$T/err")"
echo "ok"
