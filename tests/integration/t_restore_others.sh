#!/usr/bin/env bash
# A restore reaching past changes whose author's laptop is gone (attack
# fifty-three): zhao made customers after the copy was taken, released
# one to the pool, added a contact, changed an older customer's phone,
# and synced; wang (a rep of the territory), mike (its manager), the
# admin and the analyst pulled them. Then zhao's laptop was lost and the
# server restored from the copy. Each replica sent again only its own
# writes, so what zhao alone had written was gone from every replica,
# though four of them held it. SPEC: a replica "sends again what it
# holds that the server lacks (validated like any change)": a manager's
# or an admin's replica, whose writes may name any owner within reach,
# now notes others' records and fields the restored server lacks, and
# when their authors have not sent them again within a day
# (ROVE_ORPHAN_WAIT, in seconds, here), sends them as its own change
# with the stamps the server gave; a rep's does not (a rep's create
# would make her the owner: rule 2).
. "$(dirname "$0")/lib.sh"

server_setup
territories east
users zhao:rep:east wang:rep:east mike:manager:east lee:manager:east ana:analyst
old=$(r zhao customer add --name "Old customer" --phone 13900000001)
# lee's own, before the copy and none after: his journal sends it again
# after the fresh copy, the server answers it as accepted before, at a
# number the copy passed, and no pull brings it again (the model check,
# seed 11: such ops stayed pending for good).
r lee customer add --name "Lee's, before" --territory east >/dev/null
sync_all zhao admin wang mike lee ana
server_stop
cp -a "$T/srv" "$T/copy"
server_start

pool=$(r zhao customer add --name "Zhao's, to the pool" --phone 13900000002)
own=$(r zhao customer add --name "Zhao's own" --phone 13900000003)
r zhao sync >/dev/null
r zhao customer release "$pool" --reason "too far" >/dev/null
r zhao contact add --customer "$own" --name "Li Lei" --phone 13900000004 >/dev/null
r zhao customer set "$old" phone=13900000009 >/dev/null
r zhao sync >/dev/null
# mike's own writes: a customer for zhao, which zhao then fills in, and
# an edit of zhao's own customer (his journal sends them again, and the
# records others made must be there first); one more he has not synced.
made=$(r mike customer add --name "Mike's, for zhao" --territory east --owner zhao)
r mike sync >/dev/null
r mike customer set "$own" tier=loyal >/dev/null
r mike sync >/dev/null
r zhao sync >/dev/null
r zhao customer set "$made" phone=13900000005 >/dev/null
r zhao sync >/dev/null
# wang's customer after the copy, which mike deletes: after the restore
# mike recovers before wang sends it again; his delete, which came before
# the customer, is refused, waits for it and deletes it once wang's
# replica has sent it again (attack fifty-five: dropped without a word,
# the customer came back alive; then kept refused until retried by hand).
gone=$(r wang customer add --name "Wang's, deleted" --phone 13900000006)
r wang sync >/dev/null
r mike sync >/dev/null
r mike customer delete "$gone" >/dev/null
r mike sync >/dev/null
sync_all wang mike admin ana
r mike customer set "$old" address="No. 1 Road" >/dev/null
eq "$(r admin customer show "$own" --json | jq -r .owner)" "zhao" "the admin holds zhao's customer"

# zhao's laptop is lost; the server is restored from the copy.
rm -rf "$T/zhao"
cp -a "$T/mike" "$T/mike2" # for the race below
cp -a "$T/admin" "$T/admin2"
server_stop
rm -rf "$T/srv"
cp -a "$T/copy" "$T/srv"
server_start
for u in mike ana admin wang; do r "$u" sync >/dev/null 2>&1 || r "$u" sync >/dev/null; done
sync_all mike ana admin wang
r admin sync >/dev/null
r mike sync >/dev/null
r admin sync >/dev/null
eq "$(r mike rejected --all --json | jq -c --arg id "$gone" '[.[] | select(.id == $id) | [.kind, .reason, .dismissed]]')" \
	'[["delete","not_owner",true]]' "mike's delete of wang's customer: refused, then sent again"
r admin customer show "$gone" >/dev/null 2>&1 && fail "mike's delete, sent again, left wang's customer alive"
# A laptop's clock set days ahead does not end the day.
need_faketime
at +3d admin sync 2>"$T/ahead.err" >/dev/null
grep_q "records others wrote" "$T/ahead.err" && fail "a laptop clock ahead sent them: $(cat "$T/ahead.err")"
r lee sync >/dev/null 2>&1 || r lee sync >/dev/null
eq "$(r lee status --json | jq .pending)" "0" "lee: nothing pending after the recovery"
# Within the day the authors have: nothing sent for them; status says
# what waits.
eq "$(r admin status --json | jq .orphans)" "5" "the admin's orphans waiting"
r admin status | grep_q "^orphans:   5 record" || fail "status does not say what waits: $(r admin status)"
eq "$(r wang status --json | jq .orphans)" "null" "a rep's: none (left out)"
eq "$(r admin customer show "$own" --json 2>/dev/null | jq -r .owner)" "" "zhao's customer waits for zhao's laptop"
r admin sync 2>"$T/wait.err" >/dev/null
grep_q "records others wrote" "$T/wait.err" && fail "the admin sent them before the day was out"
ROVE_ORPHAN_WAIT=-0 r admin sync 2>"$T/bad.err" >/dev/null
grep_q "ROVE_ORPHAN_WAIT=-0 is not a number of seconds" "$T/bad.err" || fail "a bad ROVE_ORPHAN_WAIT passed: $(cat "$T/bad.err")"
eq "$(r admin status --json | jq .orphans)" "5" "nothing sent by a bad ROVE_ORPHAN_WAIT"
# The day is out: the admin's replica sends them (and mike's, later,
# finds them there).
ROVE_ORPHAN_WAIT=0 r admin sync 2>"$T/sent.err" >/dev/null
grep_q "sending [0-9]* changes of them again as yours" "$T/sent.err" || fail "no word of what was sent: $(cat "$T/sent.err")"
ROVE_ORPHAN_WAIT=0 r mike sync >/dev/null
sync_all wang ana mike admin wang ana mike
eq "$(r admin status --json | jq .orphans)" "null" "the admin's orphans sent"

for u in admin mike ana; do
	eq "$(r "$u" customer show "$own" --json 2>/dev/null | jq -r .owner)" "zhao" "$u: zhao's customer, still zhao's"
	eq "$(r "$u" customer show "$pool" --json 2>/dev/null | jq -r '.owner // "(pool)"')" "(pool)" \
		"$u: zhao's released customer, in the pool"
	eq "$(r "$u" customer show "$old" --json | jq -r .phone)" "13900000009" "$u: zhao's change of the phone"
	eq "$(r "$u" contact list --customer "$own" --json 2>/dev/null | jq -r '.[].name')" "Li Lei" "$u: zhao's contact"
	eq "$(r "$u" customer show "$own" --json 2>/dev/null | jq -r .tier)" "loyal" "$u: mike's edit of zhao's customer"
	eq "$(r "$u" customer show "$made" --json 2>/dev/null | jq -r '"\(.owner) \(.phone)"')" "zhao 13900000005" \
		"$u: mike's customer for zhao, with zhao's phone"
	eq "$(r "$u" customer show "$old" --json | jq -r .address)" "No. 1 Road" "$u: mike's unsynced edit"
done
eq "$(r wang customer show "$pool" --json 2>/dev/null | jq -r .name)" "Zhao's, to the pool" "wang sees the pool one"
eq "$(r wang customer list --mine --json | jq length)" "0" "wang took nothing by the recovery"
# Its history says who sent it again: the admin, whose day was out (the
# server names the author of every change: rule 10).
eq "$(r admin customer history "$pool" --json | jq -r '.[] | "\(.event) \(.by) \(.to)"')" "create admin null" \
	"the pool one's history: made again by the admin"
for u in wang admin; do
	eq "$(r "$u" rejected --json | jq length)" "0" "$u: nothing refused"
done
# mike's edit of zhao's customer, sent again before the customer was
# back, was refused, and went again once the admin's orphans had made it.
eq "$(r mike rejected --json | jq length)" "0" "mike: nothing refused left"
eq "$(r mike rejected --all --json | jq -c '[.[] | [.kind, .id, .reason, .dismissed]]')" \
	"[[\"update\",\"$own\",\"not_owner\",true],[\"delete\",\"$gone\",\"not_owner\",true]]" \
	"mike: his delete and edit that came before their customers, sent again"
# Two replicas that may write for others recovering at once: both took
# the fresh copy before either sent anything, and both send zhao's
# customers again. The second finds them made: not a refusal to show
# (its creates are another replica's stamps, sent again).
server_stop
rm -rf "$T/srv"
cp -a "$T/copy" "$T/srv"
server_start
queued=
for n in $(seq 1 40); do
	rm -rf "$T/mike3"
	cp -a "$T/mike2" "$T/mike3"
	ROVE_ORPHAN_WAIT=0 die_after_meta "$n" rove -R "$T/mike3" sync >/dev/null 2>&1 || true
	if r mike3 pending --json | jq -e --arg id "$pool" 'any(.[]; .id == $id and .kind == "create")' >/dev/null; then
		queued=$n
		break
	fi
done
[ -n "$queued" ] || fail "mike's recovery never stopped with zhao's customer queued"
export ROVE_ORPHAN_WAIT=0
r admin2 sync >/dev/null 2>&1 || r admin2 sync >/dev/null
out=$(r mike3 sync --json)
eq "$(jq -r .rejected <<<"$out")" "0" "the second to send them: nothing refused"
sync_all mike3 admin2
eq "$(r mike3 rejected --json | jq -c '[.[] | .kind]')" '["delete"]' \
	"mike's second replica: his delete of wang's customer, which nobody sends again, alone refused (his edit went once zhao's customer was back)"
eq "$(r admin2 conflicts --json | jq -c '[.[] | select(.detail == "record already exists") | .id]')" "[]" \
	"nor on the server (attack fifty-six: listed in rove conflicts)"
eq "$(r mike3 customer show "$own" --json | jq -r '"\(.owner) \(.tier)"')" "zhao loyal" "zhao's customer, once"
eq "$(r admin2 customer list --json | jq --arg n "Zhao's own" '[.[] | select(.name == $n)] | length')" "1" \
	"one customer of that name"

# A new laptop for zhao receives them.
rove -R "$T/zhao" init --server "$URL" --user zhao --token "$(token_of zhao)" 2>/dev/null
r zhao sync >/dev/null
eq "$(r zhao customer list --mine --json | jq -r '.[].name' | sort | paste -sd,)" "Mike's, for zhao,Old customer,Zhao's own" \
	"zhao's new laptop holds hers"
echo "ok"
