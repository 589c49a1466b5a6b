#!/usr/bin/env bash
# Refused changes kept on the server are bounded per user (count and bytes,
# the oldest dropped first), so a hostile client cannot fill the server's
# disk with them; `rove conflicts` says when older ones were dropped; the
# conflict list reaches a rep's managers wherever the rep tried to write.
. "$(dirname "$0")/lib.sh"

server_setup
territories east east/east.sh north north/north.bj
users alice:rep:east.sh nick:rep:north.bj mike:manager:east nora:manager:north
sync_all admin alice mike nora

size() { stat -c %s "$T/srv/data.mdb"; }
junk=$(head -c 4000 /dev/zero | tr '\0' x)
# flood N: N refused creates of 16 KB each (fields the schema does not
# know): one, whose reason is printed, then N - 1 more in as few pushes as
# fit (rove_probe --repeat: a process for each, 200 in all, cost half a
# minute of CPU under the sanitizers), their count printed.
flood() {
	local id
	id=$(printf '01a22000-0000-7000-8000-%012x' $((RANDOM * 32768 + RANDOM)))
	probe alice push create 1 "$id" name=Junk j1="$junk" j2="$junk" j3="$junk" j4="$junk" | jq -r .reason
	probe alice push create 1 "$id" name=Junk j1="$junk" j2="$junk" j3="$junk" j4="$junk" --repeat $(($1 - 1)) |
		jq -r '"rejected=\(.rejected) accepted=\(.accepted)"'
}

eq "$(flood 80)" "$(printf 'invalid\nrejected=79 accepted=0')" "80 refused 16 KB creates"
first=$(size)
eq "$(flood 120)" "$(printf 'invalid\nrejected=119 accepted=0')" "120 more"
after=$(size)
echo "data.mdb: $first bytes after 1.3 MB of refused ops, $after after 3.2 MB"
# The server keeps at most 1 MiB of alice's refusals: the second flood
# reuses the pages of those it dropped.
[ "$after" -lt $((first + 512 * 1024)) ] || fail "data.mdb grew from $first to $after bytes"
[ "$after" -lt $((3 * 1024 * 1024)) ] || fail "data.mdb holds $after bytes"

# Her manager sees what is kept, and is told the rest was dropped.
kept=$(r mike conflicts --json 2>"$T/err" | jq length)
[ "$kept" -gt 10 ] && [ "$kept" -lt 100 ] || fail "mike lists $kept of alice's refusals"
grep -q "^rove: note: the server dropped $((200 - kept)) older refused changes by alice" "$T/err" ||
	fail "no note on what was dropped: $(cat "$T/err")"
r mike conflicts 2>&1 >/dev/null | grep_q "dropped" || fail "no note for a terminal either"

# alice tries to write in north (taken from her after her last sync, so
# her replica lets it through): her manager (east) and north's see it.
r admin admin assign alice north.bj
r alice sync >/dev/null
r admin admin unassign alice north.bj
x=$(r alice customer add --name "Far North" --territory north.bj)
r alice sync >/dev/null
r mike conflicts --json 2>/dev/null | jq -e --arg x "$x" 'any(.[]; .id == $x)' >/dev/null ||
	fail "mike does not see his rep's refused create in north"
r nora conflicts --json | jq -e --arg x "$x" 'any(.[]; .id == $x)' >/dev/null ||
	fail "nora does not see the refused create in her territory"
# The refusal says why, about the op's own territory (inside alice's scope).
eq "$(r alice rejected --json | jq -r --arg x "$x" '.[] | select(.id == $x) | .detail')" \
	"north.bj is not one of your territories" "the detail of a refusal about what alice wrote"
# ... but nothing about a record outside alice's scope.
n=$(r nora sync >/dev/null; probe nick push create 1 01a22000-0000-7000-8000-00000000bbbb name=N | jq -r .status)
eq "$n" "accepted" "nick's customer"
eq "$(probe alice push claim 1 01a22000-0000-7000-8000-00000000bbbb owner=alice | jq -c '[.reason, .detail]')" \
	'["not_owner",""]' "another rep's customer: not_owner alone"
eq "$(probe alice push update 1 01a22000-0000-7000-8000-00000000eeee tier=loyal | jq -c '[.reason, .detail]')" \
	'["not_owner",""]' "no such record: the same answer"

# Rule 9: no reason tells a rep of another region whether an id exists or
# what became of it. nick (north.bj) learns an east customer's id from a
# duplicate refusal, which must name it (rule 3), then probes it and
# others: owned, in the pool, deleted, none. Every answer is the same.
users ann:rep:east.sh
sync_all ann
owned=$(r ann customer add --name "Owned Co" --phone 13912345678)
pool=$(r ann customer add --name "Pool Co")
gone=$(r ann customer add --name "Deleted Co")
r ann sync >/dev/null
r ann customer release "$pool" >/dev/null
r ann sync >/dev/null
r mike sync >/dev/null
r mike customer delete "$gone"
r mike sync >/dev/null
dup=$(r nick customer add --name Probe --phone "+86 139 1234 5678")
r nick sync >/dev/null
eq "$(r nick rejected --json | jq -r --arg id "$dup" '.[] | select(.id == $id) | .reason + " " + .detail')" \
	"duplicate $owned" "a duplicate names the existing customer"
# A contact made with such a customer offline is refused too, saying no
# more (rule 9); the replica says why from what it holds itself (attack
# sixty-eight: "not_owner" and nothing, which read as someone else's).
users pia:rep:north.bj
sync_all pia
dup2=$(r pia customer add --name Probe2 --phone "139 1234 5678")
kid=$(r pia contact add --customer "$dup2" --name "Ms Probe")
r pia sync >/dev/null
eq "$(r pia rejected --json | jq -r --arg id "$kid" '.[] | select(.id == $id) | .reason + ": " + .detail')" \
	"not_owner: its customer $dup2 is not in this replica (its creation refused? see 'rove rejected')" \
	"a contact of a customer refused as a duplicate"
none=01a22000-0000-7000-8000-00000000dddd
answers() { # answers USER ID: the reasons and details of four ops about ID
	local u=$1 id=$2
	echo "$(probe "$u" push update 1 "$id" name=x | jq -c '[.reason, .detail]')" \
		"$(probe "$u" push claim 1 "$id" | jq -c '[.reason, .detail]')" \
		"$(probe "$u" push release 1 "$id" | jq -c '[.reason, .detail]')" \
		"$(probe "$u" push create 2 "$(printf '01a22000-0000-7000-8000-%012x' $((RANDOM * 32768 + RANDOM)))" \
			customer="$id" name=Spy |
			jq -c '[.reason, .detail]')"
}
want='["not_owner",""] ["not_owner",""] ["not_owner",""] ["not_owner",""]'
for what in owned pool gone none; do
	eq "$(answers nick "${!what}")" "$want" "nick's probes of the $what customer"
	eq "$(answers nora "${!what}")" "$want" "nora's (north's manager) probes of the $what customer"
	eq "$(probe nick push delete 1 "${!what}" _deleted=#1 | jq -r .reason)" "forbidden" \
		"a rep's delete: refused by his role, whatever the record"
	eq "$(probe nora push delete 1 "${!what}" _deleted=#1 | jq -c '[.reason, .detail]')" '["not_owner",""]' \
		"a manager's delete outside his subtree"
done
for what in owned pool gone; do
	eq "$(probe nick push create 1 "${!what}" name=x territory=north.bj | jq -c '[.reason, .detail]')" \
		'["not_owner",""]' "a create with the $what customer's id"
done
eq "$(probe nick push create 1 "$none" name=x territory=north.bj | jq -r .status)" "accepted" \
	"a create with an id nobody holds"
# Records the user held keep their reasons: ann's own deleted customer.
eq "$(probe ann push update 1 "$gone" name=x | jq -r .reason)" "deleted" "ann's deleted customer"

# rove rejected filters by reason and by day (nick gets a second reason:
# a create in a territory he does not hold, queued with a warning).
r nick customer add --name "Elsewhere" --territory east.sh >/dev/null 2>&1
r nick sync >/dev/null
all=$(r nick rejected --json)
[ "$(jq length <<<"$all")" -ge 2 ] || fail "nick has too few refusals to filter: $all"
for reason in $(jq -r '[.[].reason] | unique | .[]' <<<"$all"); do
	eq "$(r nick rejected --reason "$reason" --json | jq -c .)" \
		"$(jq -c --arg r "$reason" 'map(select(.reason == $r))' <<<"$all")" "--reason $reason"
done
eq "$(r nick rejected --since "$(date -u +%F)" --json | jq length)" "$(jq length <<<"$all")" "--since today"
eq "$(r nick rejected --since "$(date -u -d tomorrow +%F)" --json)" "[]" "--since tomorrow"
# rove conflicts filters too, by author as well.
r admin sync >/dev/null
cf=$(r admin conflicts --json 2>/dev/null)
for u in nick alice; do
	eq "$(r admin conflicts --user "$u" --json 2>/dev/null | jq -c .)" \
		"$(jq -c --arg u "$u" 'map(select(.author == $u))' <<<"$cf")" "conflicts --user $u"
done
eq "$(r admin conflicts --reason duplicate --json 2>/dev/null | jq -c .)" \
	"$(jq -c 'map(select(.reason == "duplicate"))' <<<"$cf")" "conflicts --reason duplicate"
eq "$(r admin conflicts --since "$(date -u -d tomorrow +%F)" --json 2>/dev/null)" "[]" "conflicts --since tomorrow"
for bad in "--reason nope" "--since 2026-13-01" "--since yesterday" "--reason"; do
	set +e
	# shellcheck disable=SC2086
	r nick rejected $bad >/dev/null 2>&1
	eq "$?" "2" "rove rejected $bad"
	set -e
done

# A refused change is kept on the server as it was sent (rule 9), not
# with what the server had added to it before it refused (attack
# twenty-seven: a duplicate create kept with the server's created_at and
# owner; a claim kept without the owner it carried).
c1=$(r alice customer add --name "Kept as sent" --phone 13900000717)
r alice sync >/dev/null
dup=01a22000-0000-7000-8000-0000000d0717
eq "$(probe alice push create 1 "$dup" name=Again phone=13900000717 territory=east.sh | jq -r .reason)" \
	"duplicate" "a duplicate create"
r mike sync >/dev/null
eq "$(r mike conflicts --json | jq -c --arg id "$dup" '[.[] | select(.id == $id) | .fields | keys]')" \
	'[["name","phone","territory"]]' "the duplicate as sent"
echo "ok"
