#!/usr/bin/env bash
# People: `rove admin user list|show|disable|enable|token`. Admins see
# everyone, managers the users of their territories, reps and analysts
# nobody. A disabled user's requests fail at once (their sync exits 1, not
# 3, and their pending work stays on their replica); their customers stay
# put until reassigned; enabled again, their pending change lands. A new
# token replaces the old one at once.
. "$(dirname "$0")/lib.sh"

server_setup
territories east east/east.sh west
users alice:rep:east.sh bob:rep:east.sh mike:manager:east walt:rep:west ana:analyst
sync_all admin alice bob mike walt

# status STATUS DESCRIPTION COMMAND...: runs COMMAND (stderr to $T/err),
# which must exit STATUS.
status() {
	local want=$1 what=$2 got=0
	shift 2
	"$@" >"$T/out" 2>"$T/err" || got=$?
	eq "$got" "$want" "$what (stderr: $(cat "$T/err"))"
}

# ---- list and show ----

list=$(r admin admin user list --json)
eq "$(jq -r '[.[].login] | join(",")' <<<"$list")" "admin,alice,ana,bob,mike,walt" "every user, by login"
eq "$(jq -c '.[] | select(.login == "alice") | [.role, .territories, .disabled]' <<<"$list")" \
	'["rep",["east.sh"],false]' "alice's role, territories and state"
eq "$(jq -c '.[] | select(.login == "mike") | [.role, .territories]' <<<"$list")" '["manager",["east"]]' \
	"mike's"
eq "$(jq -r '.[] | select(.login == "ana") | .last_sync' <<<"$list")" "null" "ana never synced"
alice_sync=$(jq -r '.[] | select(.login == "alice") | .last_sync' <<<"$list")
[[ $alice_sync =~ ^20[0-9][0-9]-[01][0-9]-[0-3][0-9]T ]] || fail "alice's last sync is no time: '$alice_sync'"
eq "$(jq -c '[.[] | keys] | unique' <<<"$list")" '[["disabled","last_sync","login","name","role","territories"]]' \
	"the same fields for everyone"
show=$(r admin admin user show alice --json)
eq "$(jq -c . <<<"$show")" "$(jq -c '.[] | select(.login == "alice")' <<<"$list")" \
	"show: the same object as in the list"
text=$(r admin admin user list)
grep -Eq '^alice +rep +enabled +20[0-9-]+T[0-9:.]+Z? +east\.sh$' <<<"$text" || fail "no line for alice in the text list: $text"
grep -q "never" <<<"$(grep '^ana ' <<<"$text")" || fail "ana's line does not say never: $text"
r admin admin user show walt | grep_q "^role: *rep" || fail "show walt as text: $(r admin admin user show walt)"

# ana syncs: the server notes it (read requests too, without a write).
r ana sync >/dev/null
[ "$(r admin admin user show ana --json | jq -r .last_sync)" != null ] || fail "ana's sync was not noted"

# A manager sees the users of his territories (himself too), and of their
# territories only those in his reach; reps and analysts see nobody.
eq "$(r mike admin user list --json | jq -r '[.[].login] | join(",")')" "alice,bob,mike" "mike's people"
status 1 "a manager shows a user outside his territories" r mike admin user show walt
grep -q "no user 'walt' in your territories" "$T/err" || fail "unclear: $(cat "$T/err")"
eq "$(r mike admin user show bob --json | jq -c .territories)" '["east.sh"]' "bob's territory, in mike's reach"
r admin admin assign bob west
eq "$(r mike admin user show bob --json | jq -c .territories)" '["east.sh"]' "west is not mike's to see"
eq "$(r admin admin user show bob --json | jq -c .territories)" '["east.sh","west"]' "the admin sees it"
r admin admin unassign bob west
for who in alice ana; do
	status 1 "$who lists users" r "$who" admin user list
	grep -q "not allowed: " "$T/err" || fail "unclear refusal for $who: $(cat "$T/err")"
	status 1 "$who shows a user" r "$who" admin user show bob
done

# ---- disable and enable ----

c1=$(r alice customer add --name "Alpha")
c2=$(r alice customer add --name "Beta")
r alice sync >/dev/null
r alice customer set "$c1" tier=loyal # pending while she is disabled

r admin admin user disable alice
eq "$(r admin admin user show alice --json | jq -r .disabled)" "true" "alice is disabled"
status 1 "disabling her again changes nothing" r admin admin user disable alice
grep -q "already disabled" "$T/err" || fail "unclear: $(cat "$T/err")"

status 1 "a disabled rep's sync" r alice sync
grep -q "user 'alice' is disabled; ask an admin" "$T/err" || fail "unclear: $(cat "$T/err")"
eq "$(r alice pending --json | jq length)" "1" "her pending change stays on her replica"
# A wrong token says nothing of the account's state.
cp -r "$T/alice" "$T/alice2"
r alice2 config token "$(printf '0%.0s' $(seq 64))" 2>/dev/null
status 1 "a wrong token for a disabled user" r alice2 sync
grep -q "authentication failed" "$T/err" || fail "unclear: $(cat "$T/err")"
if grep -q disabled "$T/err"; then fail "a wrong token is told the user is disabled"; fi
# A login in the wrong case is another login: the note says to check it,
# not only that the token may have been replaced (attack thirty-four).
rove -R "$T/alice-caps" init --server "$URL" --user Alice --token "$(token_of alice)" 2>/dev/null
status 1 "a login in the wrong case" r alice-caps sync
grep -q "login 'Alice' with its token. Check the login (case counts" "$T/err" || fail "the note: $(cat "$T/err")"

# Her customers stay hers until a manager moves them; nobody may give her
# more while she is disabled.
r admin sync >/dev/null
eq "$(r admin customer show "$c2" --json | jq -r .owner)" "alice" "her customers stay put"
r mike sync >/dev/null
r mike admin reassign --customer "$c2" --to bob
status 1 "a reassignment to a disabled user" r mike admin reassign --customer "$c2" --to alice
grep -q "alice is disabled" "$T/err" || fail "unclear: $(cat "$T/err")"

r admin admin user enable alice
status 1 "enabling her again changes nothing" r admin admin user enable alice
grep -q "not disabled" "$T/err" || fail "unclear: $(cat "$T/err")"
out=$(r alice sync --json)
eq "$(jq -c '[.pushed, .accepted]' <<<"$out")" "[1,1]" "her pending change lands"
eq "$(r alice pending --json | jq length)" "0" "nothing pending"
if grep -q "$c2" <<<"$(ids_of alice)"; then fail "alice still holds the customer moved away"; fi
r admin sync >/dev/null
eq "$(r admin customer show "$c1" --json | jq -r .tier)" "loyal" "the server has her change"

# Who may disable whom: admins only, never themselves nor the last admin.
status 1 "an admin disables himself" r admin admin user disable admin
grep -q "cannot disable yourself" "$T/err" || fail "unclear: $(cat "$T/err")"
status 1 "a manager disables" r mike admin user disable bob
grep -q "not allowed: " "$T/err" || fail "unclear: $(cat "$T/err")"
status 1 "a rep disables" r bob admin user disable alice
user_replica root admin
r admin admin user disable root
status 1 "a disabled admin" r root admin user enable root
grep -q "user 'root' is disabled; ask an admin" "$T/err" || fail "unclear: $(cat "$T/err")"
status 1 "a disabled admin's sync (a pull: nothing pending)" r root sync
grep -q "user 'root' is disabled; ask an admin" "$T/err" || fail "unclear: $(cat "$T/err")"
r admin admin user enable root
r root admin user disable admin
status 1 "the admin disabled by another admin" r admin admin user list
r root admin user enable admin

# ---- tokens ----

old=$(token_of bob)
tok=$(r admin admin user token bob)
[[ $tok =~ ^[0-9a-f]{64}$ ]] || fail "no token alone on stdout: '$tok'"
[ "$tok" != "$old" ] || fail "the same token again"
status 1 "the old token" r bob sync
grep -q "authentication failed" "$T/err" || fail "unclear: $(cat "$T/err")"
r bob config token "$tok" 2>/dev/null
r bob sync >/dev/null
status 1 "a manager makes a token" r mike admin user token bob
# An admin's own new token is the replica's too: the old one no longer
# works (the next sync failed; a lost printout locked an only admin out).
r admin sync >/dev/null
own=$(r admin admin user token admin 2>"$T/err")
[[ $own =~ ^[0-9a-f]{64}$ ]] || fail "no token alone on stdout: '$own'"
grep -q "this replica uses it" "$T/err" || fail "not said: $(cat "$T/err")"
r admin sync >/dev/null || fail "the admin's replica cannot sync after its own new token"
# The server keeps the answer (to answer the request again), but no token
# in the clear: not in its database, nor in a backup of it.
"$ROVED_BIN" backup "$T/srv" "$T/backup" >/dev/null 2>&1 || fail "roved backup"
for f in "$T/srv/data.mdb" "$T/backup/data.mdb"; do
	! grep -q -a "$tok" "$f" || fail "bob's new token is in $f"
	! grep -q -a "$(token_of mike)" "$f" || fail "mike's token (user add) is in $f"
done

# ---- what is not a user, or not a command ----

for cmd in show disable enable token; do
	status 1 "$cmd of an unknown login" r admin admin user "$cmd" nobody
	grep -q "no user 'nobody'" "$T/err" || fail "unclear: $(cat "$T/err")"
	status 2 "$cmd without a login" r admin admin user "$cmd"
	status 2 "$cmd with two logins" r admin admin user "$cmd" bob alice
	status 0 "$cmd --help" r admin admin user "$cmd" --help
	grep -q "^usage: rove admin user $cmd LOGIN" "$T/out" || fail "$cmd --help: $(cat "$T/out")"
done
status 2 "list with a login" r admin admin user list bob
status 2 "list with an unknown option" r admin admin user list --wide
# An option given twice is not "the last one wins" (attack eight: a script
# that appends its arguments made an admin of a rep).
status 2 "a role given twice" r admin admin user add zz --role rep --role admin
grep -q -- "--role is given twice" "$T/err" || fail "why: $(cat "$T/err")"
status 1 "no user made" r admin admin user show zz
status 2 "an amount given twice" r admin target set bob --period 2026-11 --amount 5 --amount 6
for cmd in list show disable enable token; do
	grep -qx "admin user $cmd" <<<"$(rove --list-commands)" || fail "--list-commands lacks admin user $cmd"
	grep -q "rove admin user $cmd" <<<"$(rove admin --help)" || fail "rove admin --help lacks user $cmd"
done

# ---- territories named twice, or too many for one request (an attack's
# findings: both territories were kept, and one unassign left one; 15
# gave a bare usage text; one bad row's error came once per code) ----

r admin admin user add twice --role rep --territory east --territory east --territory west >/dev/null
eq "$(r admin admin user show twice --json | jq -c .territories)" '["east","west"]' "a territory named twice, held once"
r admin admin unassign twice east >/dev/null
eq "$(r admin admin user show twice --json | jq -c .territories)" '["west"]' "one unassign takes it away"
many=()
for i in $(seq 1 15); do
	r admin admin territory add "m$i" --name "M $i" >/dev/null
	many+=(--territory "m$i")
done
status 2 "user add with 15 territories" r admin admin user add fifteen --role rep "${many[@]}"
grep -q "at most 14 territories" "$T/err" || fail "why 15 are refused: $(cat "$T/err")"
status 0 "user add with 14 territories" r admin admin user add fourteen --role rep "${many[@]:0:28}"
eq "$(r admin admin user show fourteen --json | jq '.territories | length')" "14" "fourteen's territories"
{
	echo "login,role,territories"
	echo "crowded,rep,$(seq -s';' -f 't%g' 1 80)"
} >"$T/crowded.csv"
status 1 "an import row with 80 territories" r admin admin import users "$T/crowded.csv"
eq "$(grep -c "at most 64 territories" "$T/err")" "1" "said once ($(head -c 300 "$T/err"))"
# A file that cannot be opened is said as such, the server not asked
# first (attack one hundred and six: exit 3 with the server down).
cp -a "$T/admin" "$T/admin-away"
"$ROVE_BIN" -R "$T/admin-away" config server tcp://127.0.0.1:1 >/dev/null
status 1 "an import of a missing file, the server away" "$ROVE_BIN" -R "$T/admin-away" admin import users "$T/nope.csv"
grep -q "cannot open $T/nope.csv" "$T/err" || fail "a missing file is not said: $(cat "$T/err")"

# A territory named 70 times in a row is held once, not "too many".
{
	echo "Login,Role,Territories" # a spreadsheet's capitals: the same columns
	echo "dupe,rep,$(yes east | head -n 70 | paste -sd';')"
} >"$T/dupe.csv"
status 0 "an import row naming one territory 70 times" r admin admin import users "$T/dupe.csv"
eq "$(r admin admin user show dupe --json | jq -c .territories)" '["east"]' "held once"

# Two imports by one admin at once (an attack's finding: the second's
# start dropped the first's staged rows, so one of them failed).
for k in 1 2; do
	{
		echo "login,role,territories"
		for i in $(seq 1 200); do echo "par${k}_$i,rep,east"; done
	} >"$T/par$k.csv"
done
r admin admin import users "$T/par1.csv" >"$T/par1.out" 2>"$T/par1.err" &
p1=$!
r admin admin import users "$T/par2.csv" >"$T/par2.out" 2>"$T/par2.err" &
p2=$!
s1=0 s2=0
wait "$p1" || s1=$?
wait "$p2" || s2=$?
eq "$s1,$s2" "0,0" "two imports at once ($(cat "$T/par1.err" "$T/par2.err"))"
eq "$(cat "$T/par1.out" "$T/par2.out" | grep -c '^par')" "400" "a token for each"
eq "$(r admin admin user list --json | jq '[.[] | select(.login | startswith("par"))] | length')" "400" \
	"every user made, once"
echo "ok"
