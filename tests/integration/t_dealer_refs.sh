#!/usr/bin/env bash
# A customer's dealer stays a live dealer of its territory or above
# (rule 13) also when the dealer changes, not only when the customer
# does (attack nineteen):
#  - a dealer some live customer names is not deleted: refused `invalid`
#    naming one such customer, by the CLI at once where the replica
#    holds them and by the server whatever a client sends, also from a
#    manager who deleted it offline while a rep chose it;
#  - a dealer is not moved to a territory that leaves one of its
#    customers outside its line;
#  - once no live customer names it (its customers' dealer changed, or
#    the customers deleted), it can be deleted and moved;
#  - a database that holds such a dangling reference (made before this
#    rule) is reported by `roved check`, and its index is made again on
#    open.
. "$(dirname "$0")/lib.sh"
ROVE_CORRUPT=${ROVE_CORRUPT:?set ROVE_CORRUPT to the rove_corrupt binary}

server_setup
territories east east/east.sh east/east.hz west
users mike:manager:east sun:rep:east.sh li:rep:east.hz
sync_all admin mike sun li

d=$(r mike dealer add --name "Suzhou Trading" --territory east)
dsh=$(r mike dealer add --name "Shanghai Parts" --territory east.sh)
r mike sync >/dev/null
sync_all sun li
c=$(r sun customer add --name "Acme" --territory east.sh)
r sun customer set "$c" dealer="$d"
c2=$(r li customer add --name "Hangzhou Mills" --territory east.hz)
r li customer set "$c2" dealer="$d"
out=$(r sun sync --json)
eq "$(jq -r .rejected <<<"$out")" "0" "the customer and its dealer ($(r sun rejected))"
r li sync >/dev/null
r mike sync >/dev/null

# A dealer of another territory's line is refused by the CLI at once
# where the replica holds the dealer (rule 13, attack sixty-eight: mike's
# set went, to come back refused), on a set of the dealer and on a move
# of the customer alike; nothing is queued.
before=$(r mike status --json | jq .pending)
exits_as mike 1 customer set "$c2" dealer="$dsh"
grep -q "invalid: $dsh is not a dealer of east.hz or above (it is east.sh's)" "$T/err" ||
	fail "a dealer out of line: $(cat "$T/err")"
r mike customer set "$c2" dealer="$d" >/dev/null # its own: fine
chk=$(r mike customer add --name "Line check" --territory east.sh)
r mike customer set "$chk" dealer="$dsh"
exits_as mike 1 customer set "$chk" territory=east.hz
grep -q "is not a dealer of east.hz or above" "$T/err" || fail "a move out of the dealer's line: $(cat "$T/err")"
printf 'name,territory,dealer\nOut of line,east.hz,%s\nIn line,east.hz,%s\n' "$dsh" "$d" >"$T/dl.csv"
exits_as mike 1 import customers "$T/dl.csv" --dry-run
grep -q "dl.csv:2: invalid: $dsh is not a dealer of east.hz or above (it is east.sh's)" "$T/err" ||
	fail "an import's dealer out of line: $(cat "$T/err")"
grep -q "dl.csv:3" "$T/err" && fail "a dealer in line refused: $(cat "$T/err")"
eq "$(r mike status --json | jq .pending)" "$((before + 3))" "the refused ones were not queued"
eq "$(r mike sync --json | jq .rejected)" "0" "what went is taken"

# An id typed in capitals is stored as ids are written, in lower case,
# from the CLI and from a hand-made op alike (the cli_hunt found one kept
# as typed: lists, the feed and the index's check compare ids as text).
r mike sync >/dev/null
r mike customer set "$c" dealer="${d^^}"
eq "$(r mike customer show "$c" --json | jq -r .dealer)" "$d" "a dealer's id typed in capitals, at once"
r mike sync >/dev/null
eq "$(probe mike push update 1 "$c2" dealer="${d^^}" | jq -r .status)" "accepted" "a hand-made one"
sync_all li mike sun
eq "$(r li customer show "$c2" --json | jq -r .dealer)" "$d" "a hand-made one in capitals, as stored"

# The CLI refuses at once: mike's replica holds both customers.
exits_as mike 1 dealer delete "$d"
grep -q "invalid: the dealer of customer $c; change its dealer first" "$T/err" || fail "unclear refusal: $(cat "$T/err")"
eq "$(r mike pending --json | jq length)" "0" "nothing queued by the refused delete"

# The server refuses it, whatever a client sends.
eq "$(probe mike push delete 6 "$d" _deleted=#1 | jq -r '"\(.reason) \(.detail)"')" "invalid the dealer of customer $c; change its dealer first" "a hand-made delete of a dealer customers name"
eq "$(probe admin push delete 6 "$d" _deleted=#1 | jq -r .reason)" "invalid" "the admin's hand-made delete"
# Moved where one of its customers falls outside its line: east.sh's
# Acme names it, so it may not go to east.hz (nor west).
eq "$(probe mike push update 6 "$dsh" territory=east | jq -r .status)" "accepted" \
	"a dealer nobody names moves up"
eq "$(probe mike push update 6 "$d" territory=east.hz | jq -r '"\(.reason) \(.detail)"')" \
	"invalid the dealer of customer $c of east.sh, not east.hz or below it" \
	"a dealer moved below one of its customers' territories"
eq "$(probe admin push update 6 "$d" territory=west | jq -r '.detail | test("^the dealer of customer .* not west or below it$")')" "true" \
	"a dealer moved to another branch"
# The CLI refuses such a move at once where its replica holds the
# customer (mike's holds both).
exits_as mike 1 dealer set "$d" territory=east.hz
grep -q "invalid: the dealer of customer $c of east.sh, not east.hz or below it" "$T/err" ||
	fail "the CLI's refusal of a move: $(cat "$T/err")"
exits_as mike 1 dealer set "$d" territory=west
eq "$(r mike pending --json | jq length)" "0" "nothing queued by the refused moves"

# Once no live customer names it, it goes, from the CLI too.
r sun customer set "$c" dealer="$dsh"
r li customer set "$c2" dealer="$dsh"
sync_all sun li mike
r mike dealer delete "$d" >/dev/null 2>"$T/err" || fail "the delete of a dealer nobody names: $(cat "$T/err")"
out=$(r mike sync --json)
eq "$(jq -r .rejected <<<"$out")" "0" "the delete once nobody names it ($(r mike rejected))"

# A delete made offline, before a rep's choice of that dealer reached
# the server, and sent after it: refused, and the dealer stays on every
# replica, the customer's choice with it.
d4=$(r mike dealer add --name "Ningbo Supply" --territory east)
sync_all mike sun
r mike dealer delete "$d4"
r sun customer set "$c" dealer="$d4"
r sun sync >/dev/null
r mike sync >/dev/null
eq "$(r mike rejected --json | jq -r '.[0].reason')" "invalid" "the offline delete of a dealer since chosen"
eq "$(r mike dealer show "$d4" --json | jq -r .name)" "Ningbo Supply" "the dealer is back on mike's replica"
sync_all sun
eq "$(r sun customer show "$c" --json | jq -r .dealer)" "$d4" "the customer keeps its dealer"

# Deleting the customer frees the dealer.
r mike customer delete "$c"
r mike sync >/dev/null
out=$(probe mike push delete 6 "$d4" _deleted=#1)
eq "$(jq -r .status <<<"$out")" "accepted" "a dealer whose customer was deleted ($out; $(r mike rejected))"

# Two fields merged one by one (rule 8) still pair up (attack twenty-one):
# mike, offline, moves a customer to east.sh with east.sh's dealer; the
# admin, later, moves it to east.hz. The admin's territory is the later
# one and would stand beside mike's dealer: mike's change is refused.
dsh_sh=$(r mike dealer add --name "Pudong Parts" --territory east.sh)
d_e=$(r mike dealer add --name "East Wholesale" --territory east)
c5=$(r mike customer add --name "Merge Works" --territory east)
r mike sync >/dev/null
r admin sync >/dev/null
r mike customer set "$c5" territory=east.sh dealer="$dsh_sh"
sleep 0.05
r admin customer set "$c5" territory=east.hz
r admin sync >/dev/null
out=$(r mike sync --json)
eq "$(jq .rejected <<<"$out")" "1" "an older move beside a later one, with a dealer of its own ($out)"
sync_all admin mike
eq "$(r admin customer show "$c5" --json | jq -r '"\(.territory) \(.dealer)"')" "east.hz null" "the customer after the merge"
# Where the pair fits, both stand: mike, offline, moves it back to east
# and clears its dealer; the admin, later, gives it east's dealer.
r mike customer set "$c5" territory=east dealer=
sleep 0.05
r admin customer set "$c5" dealer="$d_e"
r admin sync >/dev/null
r mike sync >/dev/null
sync_all admin
eq "$(r admin customer show "$c5" --json | jq -r '"\(.territory) \(.dealer)"')" "east $d_e" "a later dealer beside an older move"

# From the dealer's side too, the move as merged: an older move that
# loses to a later one moves nothing, so its other fields stand
# (attack twenty-two: a rename was refused with its losing move).
d6=$(r mike dealer add --name "Minhang Parts" --territory east.sh)
r mike sync >/dev/null
eq "$(probe mike push update 1 "$c5" territory=east.sh dealer="$d6" | jq -r .status)" "accepted" "(a customer of it)"
sleep 0.05
t_old=$(date +%s%3N)
sleep 0.05
eq "$(probe admin push update 6 "$d6" territory=east | jq -r .status)" "accepted" "(moved up, later)"
out=$(probe mike push update 6 "$d6" --hlc-ms "$t_old" territory=east.hz name=Renamed)
eq "$(jq -r .status <<<"$out")" "accepted" "an older move and rename beside a later move ($out)"
sync_all admin
eq "$(r admin dealer show "$d6" --json | jq -r '"\(.name) \(.territory)"')" "Renamed east" "the rename stands, the move not"

# The index, checked and made again: an entry removed is reported by
# roved check; a database without the index (made by an older roved)
# gets it on open, and the rule holds on it.
server_stop
"$ROVED_BIN" check "$T/srv" >"$T/check" 2>&1 || fail "roved check: $(cat "$T/check")"
"$ROVE_CORRUPT" "$T/srv" bydealer del 0 >/dev/null || fail "no entry in the index of customers by dealer"
"$ROVED_BIN" check "$T/srv" >"$T/check" 2>&1 && fail "roved check misses an entry removed from bydealer"
grep -q "bydealer" "$T/check" || fail "roved check does not say which index: $(cat "$T/check")"
# An entry naming a customer the database does not hold.
"$ROVE_CORRUPT" "$T/srv" bydealer put "$(printf '%s' "${dsh//-/}" "01a2000000007000800000000000c0de")" - >/dev/null ||
	fail "could not add an entry to bydealer"
"$ROVED_BIN" check "$T/srv" >"$T/check" 2>&1 && fail "roved check misses an entry naming no customer"
grep -q "bydealer $dsh customer/01a20000-0000-7000-8000-00000000c0de: no record" "$T/check" ||
	fail "roved check does not say the entry names no record: $(cat "$T/check")"
"$ROVE_CORRUPT" "$T/srv" bydealer drop - >/dev/null || fail "could not drop bydealer"
# Dropped, its mark kept (damage): reported, and made again on open.
"$ROVED_BIN" check "$T/srv" >"$T/check" 2>&1 && fail "roved check misses bydealer dropped"
grep -q "bydealer: missing" "$T/check" || fail "roved check does not say bydealer is missing: $(cat "$T/check")"
server_start
eq "$(probe mike push delete 6 "$dsh" _deleted=#1 | jq -r .reason)" "invalid" "the rule on an index dropped, made again"
server_stop
"$ROVED_BIN" check "$T/srv" >"$T/check" 2>&1 || fail "roved check after bydealer was made again: $(cat "$T/check")"
"$ROVE_CORRUPT" "$T/srv" bydealer drop - >/dev/null || fail "could not drop bydealer"
"$ROVE_CORRUPT" "$T/srv" meta delall "$(printf bydealer_form | od -An -tx1 | tr -d ' \n')" >/dev/null ||
	fail "could not remove the index's mark"
server_start
eq "$(probe mike push delete 6 "$dsh" _deleted=#1 | jq -r .reason)" "invalid" "the rule on an index made again on open"
server_stop
"$ROVED_BIN" check "$T/srv" >"$T/check" 2>&1 || fail "roved check after the index was made again: $(cat "$T/check")"
echo "ok"
