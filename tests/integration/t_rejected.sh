#!/usr/bin/env bash
# rove rejected dismiss hides refusals the user dealt with (kept on disk,
# --all shows them, status stops counting them); rove rejected retry makes
# a refused change again as a new change, edited: a duplicate made again
# under another name, a release refused for want of a reason released
# again with one. Ops are named by their id's start or end.
. "$(dirname "$0")/lib.sh"

server_setup
territories east east/east.sh
users wang:rep:east.sh li:rep:east.sh
sync_all admin wang li

# A duplicate: li's create loses to wang's.
r wang customer add --name "Steel A" --tax-id 91310000MA1BD00019 >/dev/null
r li customer add --name "Steel B" --tax-id 91310000MA1BD00019 >/dev/null
r wang sync >/dev/null
r li sync >/dev/null
# A release refused: the territory requires a reason since li's last sync.
c=$(r li customer add --name "Quiet Co" --phone 13700000021)
r li sync >/dev/null
r admin admin territory set east.sh release_reason=1
r li customer release "$c" >/dev/null
r li sync >/dev/null
out=$(r li rejected --json)
eq "$(jq -r '[.[].reason] | join(",")' <<<"$out")" "duplicate,invalid" "two refusals"
eq "$(jq -r '[.[].dismissed] | join(",")' <<<"$out")" "false,false" "none dismissed"
dup=$(jq -r '.[0].op' <<<"$out")
rel=$(jq -r '.[1].op' <<<"$out")
eq "$(r li status --json | jq .rejected)" "2" "status counts them"
r li rejected | grep_q "op ${dup: -12}" || fail "the text list names each op by its id's end: $(r li rejected)"

# Retry with edits: the new change is queued, the refusal dismissed.
new=$(r li rejected retry "${dup: -8}" tax_id= name="Steel B Branch")
[ ${#new} -eq 36 ] || fail "retry prints the new op's id: '$new'"
[ "$new" != "$dup" ] || fail "a retry is a new change"
eq "$(r li pending --json | jq -r '.[0].fields.name')" "Steel B Branch" "the edited change is pending"
eq "$(r li rejected --json | jq -r '[.[].op] | join(",")')" "$rel" "the retried refusal is dismissed"
eq "$(r li status --json | jq .rejected)" "1" "and no longer counted"
# A system field the change did not write cannot be given; nor a field
# the record does not have; a retry of a create whose record exists now
# is refused.
exits_as li 1 rejected retry "$rel" owner=wang
exits_as li 2 rejected retry "$rel" colour=red
exits_as li 2 rejected retry "$rel" noequals
exits_as li 2 rejected retry
# The release again, with the reason the territory wants.
r li rejected retry "${rel:0:13}" release_reason="moved away" >/dev/null
out=$(r li sync --json)
eq "$(jq .accepted <<<"$out"),$(jq .rejected <<<"$out")" "2,0" "both retried changes accepted ($out)"
eq "$(r li customer list --json | jq -r '.[] | select(.name == "Steel B Branch") | .owner')" "li" "the new customer is li's"
r admin sync >/dev/null
eq "$(r admin customer show "$c" --json | jq -r '.owner // "pool"')" "pool" "the customer was released"
eq "$(r li rejected --json)" "[]" "nothing left to deal with"
eq "$(r li rejected)" "no rejected changes" "said so"
# --all shows the dismissed ones, marked.
eq "$(r li rejected --all --json | jq -r '[.[].dismissed] | join(",")')" "true,true" "--all shows the dismissed"
r li rejected --all | grep_q "\[dismissed\]" || fail "the text list marks dismissed ones: $(r li rejected --all)"
exits_as li 1 rejected retry "$dup" tax_id=
grep -q "was dismissed" "$T/err" || fail "a dismissed refusal is not made again: $(cat "$T/err")"
exits_as li 1 rejected dismiss "$dup"

# A refused activity whose customer has left the replica (reassigned to
# li meanwhile): a retry would only be refused again (attack
# seventy-two: it was queued). Said, nothing queued, the refusal kept.
gone=$(r wang customer add --name "Moving Co" --phone 13700000077)
r wang sync >/dev/null
r wang activity add --customer "$gone" --kind call --note "offline call" >/dev/null
r admin sync >/dev/null
r admin admin reassign --customer "$gone" --to li >/dev/null
r wang sync >/dev/null || true
act=$(r wang rejected --json | jq -r '.[] | select(.collection == "activity") | .op')
[ -n "$act" ] || fail "the activity was not refused: $(r wang rejected --json)"
exits_as wang 1 rejected retry "$act"
grep -q "customer $gone is not in this replica any more" "$T/err" || fail "not said: $(cat "$T/err")"
eq "$(r wang status --json | jq .pending)" "0" "a retry of an activity whose customer left was queued"
eq "$(r wang rejected --json | jq length)" "1" "the refusal is kept"

# dismiss OP and dismiss --all.
r wang customer add --name "Wang C" --tax-id 91310000MA1BD0002C >/dev/null
r wang customer add --name "Wang D" --tax-id 91310000MA1BD0003F >/dev/null
r wang sync >/dev/null
r li customer add --name "Steel C" --tax-id 91310000MA1BD0002C >/dev/null
r li customer add --name "Steel D" --tax-id 91310000MA1BD0003F >/dev/null
r li sync >/dev/null
out=$(r li rejected --json)
eq "$(jq length <<<"$out")" "2" "two more"
exits_as li 2 rejected dismiss "$(jq -r '.[0].op' <<<"$out" | cut -c1-8)"
grep -q "give more of it" "$T/err" || fail "an ambiguous op lists the candidates: $(cat "$T/err")"
# Shorter than 6 characters: a usage error listing the ones it fits, as
# for a record's id (attack one hundred and six: "invalid op" alone).
op0=$(jq -r '.[0].op' <<<"$out")
exits_as li 2 rejected dismiss "${op0:0:5}"
grep -q "shorter than 6" "$T/err" && grep -q "$op0" "$T/err" || fail "a short op does not list its candidates: $(cat "$T/err")"
exits_as li 2 rejected retry "${op0:0:5}"
grep -q "$op0" "$T/err" || fail "retry: a short op does not list its candidates: $(cat "$T/err")"
r li rejected dismiss "$(jq -r '.[0].op' <<<"$out")"
eq "$(r li rejected --json | jq length)" "1" "one dismissed"
r li rejected dismiss --all
eq "$(r li rejected --json | jq length),$(r li status --json | jq .rejected)" "0,0" "all dismissed"
eq "$(r li rejected --all --json | jq length)" "4" "all kept on disk"
exits_as li 2 rejected dismiss
exits_as li 2 rejected dismiss x1
exits_as li 1 rejected dismiss abcdef
exits_as li 2 rejected dismiss "$dup" --all
"$ROVE_BIN" --list-commands | grep_q -x "rejected dismiss" || fail "--list-commands lacks rejected dismiss"
"$ROVE_BIN" --list-commands | grep_q -x "rejected retry" || fail "--list-commands lacks rejected retry"
echo "ok"
