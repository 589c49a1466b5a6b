#!/usr/bin/env bash
# The ownership rules, enforced by the server whatever a client claims; every
# refused change kept with its reason on the rep's replica.
. "$(dirname "$0")/lib.sh"

server_setup
territories east east/east.sh east/east.hz west
users alice:rep:east.sh bob:rep:east.sh carl:rep:east.hz
users mike:manager:east wendy:manager:west ana:analyst
sync_all admin alice bob carl mike wendy ana

# rejected_reason NAME ID: the reason NAME's replica kept for record ID.
rejected_reason() {
	r "$1" rejected --json | jq -r --arg id "$2" '[.[] | select(.id == $id)][0].reason'
}

# --- create only in one's own territories (not_in_territory) ---
# The command line refuses at once what the replica knows (t_precheck); the
# server's rule holds when it does not: west is taken from alice after her
# last sync, so her replica still holds it.
r admin admin assign alice west
r alice sync >/dev/null
r admin admin unassign alice west
x=$(r alice customer add --name "Far West" --territory west)
out=$(r alice sync --json)
eq "$(jq .rejected <<<"$out")" "1" "create outside her territories refused"
eq "$(rejected_reason alice "$x")" "not_in_territory" "reason"
if grep -q "$x" <<<"$(ids_of alice)"; then fail "the refused customer is still listed"; fi
eq "$(r alice rejected --json | jq -r --arg id "$x" '.[] | select(.id == $id) | .fields.name')" "Far West" \
	"the refused change is kept with its payload"

# --- no collisions: two reps create the same customer offline ---
a=$(r alice customer add --name "Hangzhou Tea (alice)" --tax-id 91330100MA2TEA001K --phone "0571-8888 0001")
b=$(r bob customer add --name "Hangzhou Tea (bob)" --tax-id 91330100MA2TEA001K)
r alice sync >/dev/null
r bob sync >/dev/null
eq "$(rejected_reason bob "$b")" "duplicate" "the second to reach the server gets duplicate"
eq "$(r bob rejected --json | jq -r --arg id "$b" '.[] | select(.id == $id) | .detail')" "$a" \
	"the rejection names the existing customer"
eq "$(r bob rejected --json | jq -r --arg id "$b" '.[] | select(.id == $id) | .fields.name')" \
	"Hangzhou Tea (bob)" "bob still has his data"
# ... and in the other order, on the normalised phone.
b2=$(r bob customer add --name "Ningbo Port (bob)" --phone "+86 574 1234 5678")
a2=$(r alice customer add --name "Ningbo Port (alice)" --phone "+86-574-12345678")
r bob sync >/dev/null
r alice sync >/dev/null
eq "$(rejected_reason alice "$a2")" "duplicate" "phone duplicate, other order"
eq "$(r alice rejected --json | jq -r --arg id "$a2" '.[] | select(.id == $id) | .detail')" "$b2" "names bob's"
# A customer keeps its keys through an edit of another field (the writer
# leaves them in place), and a changed key frees the old one.
r alice customer set "$a" name="Hangzhou Tea Co." >/dev/null
r alice sync >/dev/null
b4=$(r bob customer add --name "Hangzhou Tea again" --tax-id 91330100MA2TEA001K)
r bob sync >/dev/null
eq "$(rejected_reason bob "$b4")" "duplicate" "the tax id is still alice's after her edit"
eq "$(r bob rejected --json | jq -r --arg id "$b4" '.[] | select(.id == $id) | .detail')" "$a" \
	"and names her customer"
r alice customer set "$a" phone="0571-8888 0002" >/dev/null
r alice sync >/dev/null
b5=$(r bob customer add --name "Hangzhou Phone" --phone "0571-8888 0001")
b6=$(r bob customer add --name "Hangzhou Phone 2" --phone "0571-8888 0002")
r bob sync >/dev/null
eq "$(r bob customer show "$b5" --json | jq -r .phone)" "0571-8888 0001" "the phone alice gave up is free"
eq "$(rejected_reason bob "$b6")" "duplicate" "the phone alice took is hers"
# Edits of tax_id or phone are checked too; the rejection reveals only an id.
a3=$(r alice customer add --name "Other Co")
r alice sync >/dev/null
r alice customer set "$a3" phone=+8657412345678
r alice sync >/dev/null
eq "$(r alice rejected --json | jq -r --arg id "$a3" '.[] | select(.id == $id) | .reason')" "duplicate" \
	"an edit to a taken phone"
eq "$(r alice customer show "$a3" --json | jq -r .phone)" "null" "the refused edit is undone on the replica"

# --- no stealing: bob cannot read, edit, claim or delete alice's customer ---
eq "$(r bob customer show "$a" 2>/dev/null; echo $?)" "1" "bob's replica does not hold alice's customer"
eq "$(probe bob push update 1 "$a" phone=110 | jq -r .reason)" "not_owner" "hand-crafted edit"
eq "$(probe bob push claim 1 "$a" owner=bob | jq -r .reason)" "not_owner" \
	"hand-crafted claim of a customer bob never saw: no more than another rep's customer"
eq "$(probe bob push delete 1 "$a" _deleted=#1 | jq -r .reason)" "forbidden" "hand-crafted delete"
eq "$(probe bob push release 1 "$a" owner=null | jq -r .reason)" "not_owner" "hand-crafted release"
if probe bob pull | grep_q "$a"; then fail "bob's pull returned alice's customer"; fi
# ... nor can a rep set owner or territory, nor create in someone's name.
eq "$(probe alice push update 1 "$a" owner=bob | jq -r .reason)" "forbidden" "a rep setting the owner"
eq "$(probe alice push update 1 "$a" territory=east.hz | jq -r .reason)" "forbidden" "a rep moving territory"
n=$(probe alice push create 1 01a22000-0000-7000-8000-000000000001 name=Mine owner=bob territory=east.sh)
eq "$(jq -r .status <<<"$n")" "accepted" "create with a client-supplied owner"
r admin sync >/dev/null
eq "$(r admin customer show 01a22000-0000-7000-8000-000000000001 --json | jq -r .owner)" "alice" \
	"the server set the owner, ignoring the client's"
# ... nor write the server's own records.
eq "$(probe alice push create 8 01a22000-0000-7000-8000-000000000002 code=x name=X | jq -r .reason)" \
	"forbidden" "a rep creating a territory"
# One user's token with another user's name is refused.
eq "$("$ROVE_PROBE" "$URL" bob "$(token_of alice)" pull | jq -r .name)" "auth" "alice's token as bob"

# --- public pool: two reps claim one customer offline, exactly one wins ---
r alice customer release "$a"
r alice sync >/dev/null
sync_all bob mike
r alice customer claim "$a"
r bob customer claim "$a"
eq "$(r bob customer show "$a" --json | jq -r .owner)" "bob" "bob's claim shows offline"
r bob sync >/dev/null
r alice sync >/dev/null
eq "$(rejected_reason alice "$a")" "already_claimed" "the later claim loses"
eq "$(r bob customer show "$a" --json | jq -r .owner)" "bob" "the first claim wins"
if grep -q "$a" <<<"$(ids_of alice)"; then fail "alice still holds the customer bob claimed"; fi
eq "$(r bob customer history "$a" --json | jq -r '[.[].event] | join(",")')" "create,release,claim" \
	"ownership history"
# A rep cannot claim outside their territories.
c=$(r carl customer add --name "HZ pool")
r carl customer release "$c"
r carl sync >/dev/null
eq "$(probe alice push claim 1 "$c" owner=alice | jq -r .reason)" "not_owner" \
	"claim elsewhere: outside her scope, the one answer"

# --- no deleting by reps; tombstones reject later writes ---
set +e
r bob customer delete "$a" 2>/dev/null
eq "$?" "1" "the client refuses a rep's delete"
set -e
r bob customer set "$a" tier=loyal # offline, before the manager's delete
r mike sync >/dev/null
r mike customer delete "$a"
r mike sync >/dev/null
r bob sync >/dev/null
eq "$(rejected_reason bob "$a")" "deleted" "a write after the tombstone"
if grep -q "$a" <<<"$(ids_of bob)"; then fail "the deleted customer is still listed"; fi
eq "$(probe bob push update 1 "$a" tier=loyal | jq -r .reason)" "deleted" "hand-crafted write to a tombstone"
# The tax id is free again once its customer is deleted.
d=$(r bob customer add --name "Hangzhou Tea again" --tax-id 91330100MA2TEA001K)
eq "$(r bob sync --json | jq .accepted)" "1" "tax id free after deletion"

# --- a deleted customer's children go with it, on every replica ---
# HQ replicas (analysts, admins) hold every record: the customer's
# contacts, contracts, deals and activities are deleted with it, not left
# listed (and out of the reports) there.
k=$(r bob customer add --name "Doomed Co")
kd=$(r bob opportunity add --customer "$k" --title "Doomed deal" --amount 3000 --stage negotiation)
r bob contact add --customer "$k" --name "Doomed contact" >/dev/null
r bob contract add --customer "$k" --number "D-1" --amount 500 >/dev/null
r bob activity add --customer "$k" --kind call --note "doomed call" >/dev/null
sync_all bob mike ana admin
eq "$(r ana opportunity list --customer "$k" --json | jq length)" "1" "the analyst holds the deal first"
r mike customer delete "$k"
sync_all mike bob ana admin
rove -R "$T/ana_fresh" init --server "$URL" --user ana --token "$(token_of ana)" 2>/dev/null
r ana_fresh sync >/dev/null
for who in ana admin ana_fresh mike bob; do
	for kind in opportunity contact contract activity; do
		eq "$({ r "$who" "$kind" list --json || echo '[]'; } | jq --arg k "$k" '[.[] | select(.customer == $k)] | length')" \
			"0" "$who: the deleted customer's ${kind}s"
	done
	if r "$who" opportunity show "$kd" >/dev/null 2>&1; then fail "$who still shows the deleted customer's deal"; fi
done
eq "$(r bob status --json | jq .rejected)" "$(r bob rejected --json | jq length)" "nothing new refused for bob"
# Its ownership history stays (rule 12), and a replica that holds it
# shows it by the customer's whole id, in any case (attack fifteen: "no
# customer" once it was deleted).
for who in admin ana ana_fresh; do
	eq "$(r "$who" customer history "$k" --json | jq -r '[.[].event] | join(",")')" "create" \
		"$who: the deleted customer's history"
	eq "$(r "$who" customer history "${k^^}" --json | jq length)" "1" "$who: by the id in capitals"
done
rc=0
r admin customer history 01a23abe-0000-7000-8000-000000000000 2>"$T/err" || rc=$?
eq "$rc" "1" "the history of a customer nobody holds"
grep -q "no customer" "$T/err" || fail "why: $(cat "$T/err")"

# --- managers: their subtree; analysts: read only ---
r carl sync >/dev/null
r mike sync >/dev/null
r mike customer set "$c" tier=customer
eq "$(r mike sync --json | jq .accepted)" "1" "the manager edits in his subtree"
eq "$(probe wendy push update 1 "$c" tier=loyal | jq -r .reason)" "not_owner" "another subtree's manager"
r ana sync >/dev/null
set +e
r ana customer add --name "Analyst Co" --territory east.sh >/dev/null 2>"$T/err"
eq "$?" "1" "an analyst's create, refused at once"
set -e
eq "$(cat "$T/err")" "rove: error: forbidden: analysts are read-only" "with the server's reason"
eq "$(r ana status --json | jq .pending)" "0" "nothing queued"
eq "$(probe ana push update 1 "$c" tier=loyal | jq -r .reason)" "forbidden" "hand-crafted analyst edit"

# --- a stamp far in the future is re-stamped with the server's clock ---
now_ms=$(($(date +%s) * 1000))
res=$(probe bob push update 1 "$d" --hlc-ms $((now_ms + 3600 * 1000)) tier=loyal)
eq "$(jq -r .status <<<"$res")" "accepted" "future-stamped edit accepted"
[ "$(jq .hlc_ms <<<"$res")" -lt $((now_ms + 60 * 1000)) ] || fail "stamp not re-stamped: $res"
r bob customer set "$d" tier=customer # a normal later edit must win
r bob sync >/dev/null
r admin sync >/dev/null
eq "$(r admin customer show "$d" --json | jq -r .tier)" "customer" "a wrong clock does not win every conflict"
# ... and so is a stamp from a clock never set (0, or 2^48 ms, which wraps
# to 0): the change takes effect instead of losing every merge.
for ms in 0 281474976710656; do
	res=$(probe bob push update 1 "$d" --hlc-ms "$ms" address="stamp $ms")
	eq "$(jq -r .status <<<"$res")" "accepted" "a change stamped $ms ms"
	[ "$(jq .hlc_ms <<<"$res")" -ge "$now_ms" ] || fail "stamp $ms not re-stamped: $res"
	r admin sync >/dev/null
	eq "$(r admin customer show "$d" --json | jq -r .address)" "stamp $ms" "a change stamped $ms ms takes effect"
done
# The nil UUID is no record's id.
eq "$(probe alice push create 1 00000000-0000-0000-0000-000000000000 name=Nil | jq -r .reason)" "invalid" \
	"the nil UUID as an id"
set +e
r alice contact add --customer 00000000-0000-0000-0000-000000000000 --name X >/dev/null 2>&1
eq "$?" "1" "the command line refuses it too"
set -e

# --- nothing lost: the server keeps every refusal for managers and admins ---
r admin conflicts --json >"$T/conflicts.admin"
r mike conflicts --json >"$T/conflicts.mike"
for id in "$x" "$b" "$a2" "$a3"; do
	grep -q "$id" "$T/conflicts.admin" || fail "admin's conflicts lack $id"
done
for id in "$b" "$a2" "$a3"; do
	grep -q "$id" "$T/conflicts.mike" || fail "mike's conflicts lack $id"
done
# alice's attempt to create in west concerns west's manager, and east's
# too: he manages alice, wherever she tried to write (rule 9).
grep -q "$x" "$T/conflicts.mike" || fail "mike's conflicts lack his rep's create in west"
r wendy conflicts --json | grep_q "$x" || fail "wendy's conflicts lack the create in west"
eq "$(jq -r --arg id "$b" '.[] | select(.id == $id) | .author' "$T/conflicts.admin")" "bob" "author kept"
eq "$(jq -r --arg id "$b" '.[] | select(.id == $id) | .fields.name' "$T/conflicts.admin")" \
	"Hangzhou Tea (bob)" "payload kept"
if r wendy conflicts --json | grep_q "$b"; then fail "wendy sees east's conflicts"; fi
r mike conflicts | grep_q "duplicate" || fail "no table of conflicts for a terminal"
set +e
r alice conflicts >/dev/null 2>&1
eq "$?" "1" "a rep cannot list conflicts"
set -e
echo "ok"
