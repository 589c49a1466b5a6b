#!/usr/bin/env bash
# Deal credit (SPEC rule 14): a deal has an owner, set by the server on
# create (the customer's owner, the author for a pool customer); managers
# and admins change it within reach; a reassigned customer's open deals
# move to the new owner while won and lost ones keep theirs, so past
# months' targets do not change when a rep leaves. Every change of a
# deal's owner is kept in its history.
. "$(dirname "$0")/lib.sh"

server_setup
territories east east/east.sh west
users wang:rep:east.sh li:rep:east.sh walt:rep:west mike:manager:east
sync_all admin wang li walt mike
MONTH=$(date -u +%Y-%m)

c=$(r wang customer add --name "Baosteel Coil")
open1=$(r wang opportunity add --customer "$c" --title "Open one" --amount 1000 --stage proposal)
open2=$(r wang opportunity add --customer "$c" --title "Open two" --amount 300 --stage lead)
won=$(r wang opportunity add --customer "$c" --title "Won one" --amount 5000 --stage negotiation)
lost=$(r wang opportunity add --customer "$c" --title "Lost one" --amount 700 --stage lead)
eq "$(r wang opportunity show "$open1" --json | jq -r .owner)" "wang" "the replica shows the customer's owner at once"
r wang sync >/dev/null
r wang opportunity stage "$won" won
r wang opportunity stage "$lost" lost
r wang sync >/dev/null
# A deal moved to the stage it is at: nothing queued (attack seventy-two:
# a change was, which would undo a colleague's move made meanwhile, and
# a won deal's closed_on would become today's).
r wang opportunity stage "$won" won 2>"$T/err"
grep -q "the deal is at won already: nothing changed" "$T/err" || fail "not said: $(cat "$T/err")"
eq "$(r wang status --json | jq .pending)" "0" "a move to the same stage queued a change"
for d in "$open1" "$won"; do
	eq "$(r wang opportunity show "$d" --json | jq -r .owner)" "wang" "the server made wang the owner"
done
eq "$(r wang opportunity list --owner wang --json | jq length)" "4" "opportunity list --owner"
# A rep names no owner, and changes none.
exits_as wang 1 opportunity add --customer "$c" --title "Mine" --owner li
exits_as wang 1 opportunity set "$open1" owner=li
out=$(probe wang push update 4 "$open1" owner=li)
eq "$(jq -r .reason <<<"$out")" "forbidden" "the server refuses a rep's change of owner ($out)"
r mike target set wang --period "$MONTH" --amount 10000
r mike target set li --period "$MONTH" --amount 10000
r mike sync >/dev/null
before=$(r mike report targets --json | jq -c '[.[] | {user, won}]')
eq "$before" '[{"user":"li","won":0},{"user":"wang","won":500000}]' "wang is credited with the won deal"

# wang leaves: his customer goes to li.
r admin admin reassign --customer "$c" --to li
sync_all mike li
eq "$(r li opportunity show "$open1" --json | jq -r .owner),$(r li opportunity show "$open2" --json | jq -r .owner)" \
	"li,li" "open deals moved to li"
eq "$(r li opportunity show "$won" --json | jq -r .owner),$(r li opportunity show "$lost" --json | jq -r .owner)" \
	"wang,wang" "won and lost deals kept wang"
eq "$(r mike report targets --json | jq -c '[.[] | {user, won}]')" "$before" "this month's credit unchanged"
eq "$(r mike report pipeline --json | jq -c '[.by_rep[] | {rep, amount}]')" '[{"rep":"li","amount":130000}]' \
	"the open pipeline is li's"
eq "$(r li opportunity history "$open1" --json | jq -r '[.[] | .event + ":" + (.from // "") + ">" + .to + ":" + .by] | join(",")')" \
	"create:>wang:wang,reassign:wang>li:admin" "the deal's history"
eq "$(r li opportunity history "$won" --json | jq -r '[.[].event] | join(",")')" "create" "a won deal's history"
# Its finding options, as every record list's (attack fifty-three: refused).
eq "$(r li opportunity history "$open1" --sort at:desc --limit 1 --json | jq -r '.[].event')" "reassign" \
	"the deal's history, newest first, one"
eq "$(r li opportunity history "$open1" --search admin --json | jq -r '[.[].event] | join(",")')" "reassign" \
	"the deal's history searched"
eq "$(r li customer history "$c" --json | jq -r '[.[].event] | join(",")')" "create,reassign" \
	"the customer's history holds the customer's owners only"

# A manager gives a deal to another rep of his, not to one outside. His
# replica holds no users: the command asks the server who works where,
# and refuses at once what the server would refuse (exit 1, nothing
# queued); the server refuses it too.
r mike sync >/dev/null
r mike opportunity set "$open2" owner=wang
out=$(r mike sync --json)
eq "$(jq .rejected <<<"$out")" "0" "mike's change accepted ($out)"
users eve:rep:east # his, but not of the customer's east.sh
exits_as mike 1 opportunity set "$open1" owner=eve
grep -q "not_in_territory: owner: eve does not work in east.sh" "$T/err" || fail "why eve is refused: $(cat "$T/err")"
exits_as mike 1 opportunity set "$open1" owner=walt # outside his reach: no user to him
grep -q "no user 'walt' in your territories" "$T/err" || fail "why walt is refused: $(cat "$T/err")"
exits_as mike 1 opportunity set "$open1" owner=nobody
grep -q "no user 'nobody' in your territories" "$T/err" || fail "why nobody is refused: $(cat "$T/err")"
exits_as mike 1 opportunity set "$open1" owner=
grep -q "a deal needs an owner" "$T/err" || fail "why no owner is refused: $(cat "$T/err")"
# One field twice is a usage error, not "the last one wins" (attack seven).
exits_as mike 2 opportunity set "$open1" owner=wang owner=walt
grep -q "owner is given twice" "$T/err" || fail "why two owners are refused: $(cat "$T/err")"
exits_as mike 2 opportunity set "$open1" expected-close=2027-01-01 expected_close=2027-02-01
grep -q "expected_close is given twice" "$T/err" || fail "why one field twice is refused: $(cat "$T/err")"
exits_as mike 2 opportunity add --customer "$c" --title One --title Two
grep -q -- "--title is given twice" "$T/err" || fail "why an option twice is refused: $(cat "$T/err")"
eq "$(r mike pending --json | jq length)" "0" "nothing queued"
out=$(probe mike push update 4 "$open1" owner=walt)
# In the words it uses for nobody: to mike, walt is no user (attack
# nineteen: not_in_territory told him walt exists).
eq "$(jq -r '"\(.reason) \(.detail)"' <<<"$out")" "invalid no user 'walt' in your territories" \
	"the server refuses a rep outside ($out)"
out=$(probe mike push update 4 "$open1" owner=nobody)
eq "$(jq -r .reason <<<"$out")" "invalid" "the server refuses nobody ($out)"
sync_all li
eq "$(r li opportunity show "$open2" --json | jq -r .owner)" "wang" "mike gave the deal to wang"
eq "$(r li opportunity history "$open2" --json | jq -r '.[-1] | .from + ">" + .to + ":" + .by')" "li>wang:mike" \
	"and the history says so"
# An admin imports an old deal won by someone who left (disabled): kept;
# an open one cannot go to them.
users gone:rep:east.sh
r admin admin user disable gone >/dev/null
r admin sync >/dev/null
old=$(r admin opportunity add --customer "$c" --title "Old win" --amount 900 --stage won --owner gone)
exits_as admin 1 opportunity add --customer "$c" --title "Open for gone" --amount 1 --stage lead --owner gone
grep -q "gone is disabled" "$T/err" || fail "why gone is refused an open deal: $(cat "$T/err")"
server_stop # offline, not checked: the server refuses it
bad=$(r admin opportunity add --customer "$c" --title "Open for gone" --amount 1 --stage lead --owner gone 2>/dev/null)
server_start
out=$(r admin sync --json)
eq "$(jq .rejected <<<"$out")" "1" "the open deal for a disabled rep refused ($out)"
eq "$(r admin opportunity show "$old" --json | jq -r .owner)" "gone" "the old won deal keeps its owner"
r admin rejected --json | jq -e --arg b "$bad" '.[] | select(.id == $b)' >/dev/null || fail "the refusal is kept"
# A closed deal is frozen for reps: li now owns the customer, but neither
# reopens wang's win, nor changes its amount (his credit of a past month).
exits_as li 1 opportunity stage "$won" proposal
exits_as li 1 opportunity set "$won" amount=0.01
out=$(probe li push update 4 "$won" stage=proposal)
eq "$(jq -r .reason <<<"$out")" "forbidden" "the server refuses a rep's reopening ($out)"
# A manager hands a closed deal's credit only to his people: not to a rep
# of another territory, nor to a manager elsewhere. Offline the command
# cannot ask: it says so and queues the change, and the server refuses.
users wendy:rep:west nora:manager:west
r mike sync >/dev/null
exits_as mike 1 opportunity set "$won" owner=wendy
grep -q "no user 'wendy' in your territories" "$T/err" || fail "why wendy is refused: $(cat "$T/err")"
server_stop
r mike opportunity set "$won" owner=wendy 2>"$T/err"
grep -q "owner wendy not checked (the server at .*: server unreachable)" "$T/err" ||
	fail "offline, the owner is said to be unchecked, and why: $(cat "$T/err")"
! grep -q "error:" "$T/err" || fail "a command that goes on says no error: $(cat "$T/err")"
server_start
# A server that refuses the asker (a token it does not know): the same
# warning, with the server's reason, and no "error:" on a command that
# goes on (attack nine). On a copy of mike's replica, never synced.
cp -r "$T/mike" "$T/mike2"
rove -R "$T/mike2" config token "$(printf 'a%.0s' $(seq 64))"
rove -R "$T/mike2" opportunity set "$won" owner=wendy 2>"$T/err" || fail "a refused asker's change: $(cat "$T/err")"
grep -q "owner wendy not checked (authentication failed)" "$T/err" || fail "why not checked: $(cat "$T/err")"
! grep -q "error:" "$T/err" || fail "a refused asker's command goes on, with no error: $(cat "$T/err")"
# A server URL that TLS cannot reach (tls+tcp:// with no CA file): the
# TLS layer's reason goes into the same warning, with no "error:" line.
cp -r "$T/mike" "$T/mike3"
rove -R "$T/mike3" config server "tls+tcp://127.0.0.1:$(free_port)" >/dev/null
rove -R "$T/mike3" opportunity set "$won" owner=wendy 2>"$T/err" || fail "a TLS-less asker's change: $(cat "$T/err")"
grep -q "owner wendy not checked (.*CA certificate" "$T/err" || fail "why not checked over TLS: $(cat "$T/err")"
! grep -q "error:" "$T/err" || fail "a TLS-less asker's command goes on, with no error: $(cat "$T/err")"
# A server that takes the connection and never answers (stopped; a
# captive portal): the check is advice, so it gives up after its own
# bound (3 s), not the sync's --timeout (10 s by default), and queues.
kill -STOP "$ROVED_PID"
t0=$(date +%s%N)
r mike opportunity set "$won" owner=wendy 2>"$T/err"
waited=$(elapsed_ms "$t0")
kill -CONT "$ROVED_PID"
grep -q "owner wendy not checked (.*timed out)" "$T/err" || fail "a stopped server, the owner unchecked: $(cat "$T/err")"
[ "$waited" -lt 6000 ] || fail "the owner check waited ${waited} ms for a stopped server"
server_stop
r mike opportunity set "$lost" owner=nora 2>/dev/null
server_start
out=$(r mike sync --json)
eq "$(jq .rejected <<<"$out")" "3" "a closed deal's credit outside mike's reach, each time: refused ($out)"
eq "$(r mike report targets --json | jq -c '[.[] | {user, won}]')" "$before" "credit unchanged"
# A deal made without --owner on a replica that has not seen the
# customer's latest owner: the server credits the customer's owner as it
# stands (rule 14), not the one the replica showed (the model check's
# first deals found a manager's and an admin's guess taken as named).
sync_all admin li mike
c3=$(r li customer add --name "Stale Steel")
sync_all li mike admin
r admin admin reassign --customer "$c3" --to wang
d_mike=$(r mike opportunity add --customer "$c3" --title "Mike's" --amount 10 --stage lead)
r mike sync >/dev/null
eq "$(r mike opportunity show "$d_mike" --json | jq -r .owner)" "wang" "a manager's stale deal goes to the owner now"
r wang sync >/dev/null
r wang customer release "$c3"
r wang sync >/dev/null
d_admin=$(r admin opportunity add --customer "$c3" --title "Admin's" --amount 10 --stage lead)
r admin sync >/dev/null
eq "$(r admin opportunity show "$d_admin" --json | jq -r '.owner // "none"')" "none" \
	"an admin's stale deal on what is now a pool customer has no owner"
# The customer's owner disabled (a rep who left, his customers not yet
# reassigned): a new open deal made without --owner would go to someone
# who cannot work it; refused, as it is with --owner (attack sixteen).
# A closed one (the past, imported) may still be credited to him.
c4=$(r wang customer add --name "Left Behind")
sync_all wang mike
r admin admin user disable wang >/dev/null
d_open=$(r mike opportunity add --customer "$c4" --title "Open for a leaver" --amount 3 --stage lead)
d_won=$(r mike opportunity add --customer "$c4" --title "Won by the leaver" --amount 3 --stage won --closed-on 2026-10-01)
out=$(r mike sync --json)
eq "$(jq .rejected <<<"$out")" "1" "an open deal for a disabled owner refused ($out)"
eq "$(r mike rejected --json | jq -r --arg d "$d_open" '.[] | select(.id == $d) | .reason')" "invalid" \
	"refused invalid"
eq "$(r mike opportunity show "$d_won" --json | jq -r .owner)" "wang" "a closed deal keeps the leaver's credit"
r admin admin user enable wang >/dev/null
# A claim or release names its owner as the server would, or none: a
# hand-made claim for someone else, or a release to someone, is refused
# (it was accepted with the owner replaced).
c5=$(r li customer add --name "Pool Five")
r li customer release "$c5" >/dev/null
r li sync >/dev/null
out=$(probe li push claim 1 "$c5" owner=wang)
eq "$(jq -r .reason <<<"$out")" "invalid" "a claim for another ($out)"
out=$(probe li push claim 1 "$c5" owner=li)
eq "$(jq -r .status <<<"$out")" "accepted" "a claim for oneself ($out)"
out=$(probe li push release 1 "$c5" owner=wang)
eq "$(jq -r .reason <<<"$out")" "invalid" "a release to another ($out)"
# A closed deal reopened after its customer changed hands is open again:
# it goes to the customer's owner now (as an open deal does when the
# customer is reassigned), unless the reopening names another. wang's win
# on li's Baosteel, reopened by mike, is li's; the history says so.
sync_all mike li
eq "$(r mike customer show "$c" --json | jq -r .owner)" "li" "(Baosteel is li's)"
r mike opportunity stage "$won" proposal
out=$(r mike sync --json)
eq "$(jq .rejected <<<"$out")" "0" "the reopening ($(r mike rejected))"
eq "$(r mike opportunity show "$won" --json | jq -r '"\(.owner) \(.stage) \(.closed_on)"')" "li proposal null" \
	"a deal reopened goes to the customer's owner"
r li sync >/dev/null
eq "$(r li opportunity history "$won" --json | jq -r '[.[] | "\(.event):\(.from // "")>\(.to)"] | join(",")')" \
	"create:>wang,reassign:wang>li" "the reopened deal's history"
# Named by the one who reopens it, within his reach: that one.
r mike opportunity stage "$won" won
r mike sync >/dev/null
r mike opportunity set "$won" stage=lead owner=wang
r mike sync >/dev/null
eq "$(r mike opportunity show "$won" --json | jq -r .owner)" "wang" "a reopening that names the owner"
# The owner is checked on the deal as it will be merged (rule 8, field
# by field; attack twenty-two). An older "won, credited to walt" arriving
# after a later move of the deal on: its stage loses, its owner would
# stand on an open deal, which walt (west) may not own: refused, as the
# admin naming walt on the open deal is.
w1=$(r li opportunity add --customer "$c" --title "Merge one" --amount 50 --stage proposal)
r li sync >/dev/null
sleep 0.05
t_old=$(date +%s%3N)
sleep 0.05
eq "$(probe mike push update 4 "$w1" stage=negotiation | jq -r .status)" "accepted" "(a later move on)"
out=$(probe admin push update 4 "$w1" --hlc-ms "$t_old" stage=won owner=walt)
eq "$(jq -r .reason <<<"$out")" "not_in_territory" "an older close beside a later move, with its credit ($out)"
# A reopening beside a later correction of the closed deal's credit: the
# reopening would give the deal to li, the correction keeps walt, and
# the deal would be open with walt: refused.
w2=$(r li opportunity add --customer "$c" --title "Merge two" --amount 50 --stage negotiation)
r li sync >/dev/null
eq "$(probe mike push update 4 "$w2" stage=won | jq -r .status)" "accepted" "(won)"
t_reopen=$(date +%s%3N)
sleep 0.05
eq "$(probe admin push update 4 "$w2" owner=walt | jq -r .status)" "accepted" "(its credit corrected to walt)"
out=$(probe mike push update 4 "$w2" --hlc-ms "$t_reopen" stage=proposal)
eq "$(jq -r '"\(.reason) \(.detail)"' <<<"$out")" \
	"invalid the deal's owner is walt since, who cannot work it open: name its owner" \
	"a reopening older than a correction of its credit ($out)"
sync_all admin li
for d in "$w1" "$w2"; do
	eq "$(r admin opportunity show "$d" --json | jq -r '"\(.stage) \(.owner)"')" \
		"$([ "$d" = "$w1" ] && echo "negotiation li" || echo "won walt")" "deal $d after the merges"
done
# Attack twenty-three. A reopened deal goes to one who can work it: a pool
# customer's won deal credited to walt (west) since is not reopened with
# walt; named, it is.
c6=$(r li customer add --name "Reopen Pool")
w3=$(r li opportunity add --customer "$c6" --title "Pool win" --amount 70 --stage negotiation)
r li sync >/dev/null
r li opportunity stage "$w3" won
r li sync >/dev/null
r admin sync >/dev/null
r admin opportunity set "$w3" owner=walt
r admin sync >/dev/null
r li customer release "$c6"
r li sync >/dev/null
r mike sync >/dev/null
r mike opportunity stage "$w3" proposal
out=$(r mike sync --json)
eq "$(jq .rejected <<<"$out")" "1" "a reopening that would leave walt an open deal in east.sh ($out)"
eq "$(r mike rejected --json | jq -r --arg d "$w3" '[.[] | select(.id == $d)][0].detail')" \
	"reopened, its owner walt cannot work it open: name its owner" "why"
r mike opportunity set "$w3" stage=proposal owner=li
out=$(r mike sync --json)
eq "$(jq .rejected <<<"$out")" "0" "reopened, named ($out)"
eq "$(r mike opportunity show "$w3" --json | jq -r '"\(.stage) \(.owner)"')" "proposal li" "the named reopening"
# An owner named that loses the merge to one written later is refused:
# its author meant that one.
t_named=$(date +%s%3N)
sleep 0.05
r admin sync >/dev/null
r admin opportunity set "$w3" owner=wang
r admin sync >/dev/null
out=$(probe mike push update 4 "$w3" --hlc-ms "$t_named" owner=li amount=#8000)
eq "$(jq -r '"\(.reason) \(.detail)"' <<<"$out")" "invalid the deal's owner was set to wang since: name its owner again" \
	"a named owner older than another ($out)"
# A customer moved where the owner of one of its open deals cannot work
# it: the deal goes to the customer's owner.
c7=$(r mike customer add --name "Moving Mills" --territory east.sh)
w4=$(r mike opportunity add --customer "$c7" --title "Moves along" --amount 90 --stage lead --owner li)
r mike sync >/dev/null
eq "$(r mike opportunity show "$w4" --json | jq -r .owner)" "li" "(li's deal on mike's customer)"
r mike customer set "$c7" territory=east
r mike sync >/dev/null
r mike sync >/dev/null
eq "$(r mike opportunity show "$w4" --json | jq -r .owner)" "mike" "a deal moved with its customer out of li's territory"
# A move that loses the merge moves nothing, and the op's other fields
# stand: an older move of li's customer to east (where li does not work)
# with a phone, beside the admin's later write of its territory.
t_old=$(date +%s%3N)
sleep 0.05
eq "$(probe admin push update 1 "$c" territory=east.sh | jq -r .status)" "accepted" "(its territory written, later)"
out=$(probe mike push update 1 "$c" --hlc-ms "$t_old" territory=east phone=13900000077)
eq "$(jq -r .status <<<"$out")" "accepted" "an older move beside a later one, with a phone ($out)"
r mike sync >/dev/null
eq "$(r mike customer show "$c" --json | jq -r '"\(.territory) \(.phone)"')" "east.sh 13900000077" "the phone stands, the move not"
# Attack twenty-four. A pool customer moved where its deal's owner cannot
# work it: the deal goes to nobody, and its history says so.
c8=$(r li customer add --name "Pool Mover")
w5=$(r li opportunity add --customer "$c8" --title "Left open" --amount 30 --stage lead)
r li sync >/dev/null
r li customer release "$c8"
r li sync >/dev/null
r mike sync >/dev/null
r mike customer set "$c8" territory=east
r mike sync >/dev/null
r mike sync >/dev/null
eq "$(r mike opportunity show "$w5" --json | jq -r '.owner // "none"')" "none" "a pool customer's deal moved away"
eq "$(r mike opportunity history "$w5" --json | jq -r '[.[] | "\(.event):\(.from // "")>\(.to // "")"] | join(",")')" \
	"create:>li,reassign:li>" "the deal's history"
# Its owner disabled (left, his customers not yet reassigned): a customer
# moved takes its open deals to nobody, not to him.
r admin admin assign wang east >/dev/null
c9=$(r wang customer add --name "Leaver Moves" --territory east.sh)
r wang sync >/dev/null
r mike sync >/dev/null
w6=$(r mike opportunity add --customer "$c9" --title "Li's on wang's" --amount 40 --stage lead --owner li)
r mike sync >/dev/null
r admin admin user disable wang >/dev/null
r admin sync >/dev/null
r admin customer set "$c9" territory=east
r admin sync >/dev/null
r admin sync >/dev/null
eq "$(r admin opportunity show "$w6" --json | jq -r '.owner // "none"')" "none" "a deal not handed to a disabled owner"
r admin admin user enable wang >/dev/null
r admin admin unassign wang east >/dev/null
# Histories in time order, whatever the ids.
eq "$(r li opportunity history "$open2" --json | jq -r '[.[].at] | . == sort')" "true" "history in time order"
echo "ok"
