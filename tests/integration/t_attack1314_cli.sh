#!/usr/bin/env bash
# The client-side findings of the black-box attack on issues 13 and 14,
# each held here: a secret printed once survives a stdout that cannot be
# written; dry runs and prechecks refuse what the server will refuse;
# list filters, --since dates and id forms say what is wrong.
. "$(dirname "$0")/lib.sh"

server_setup
territories east east/east.sh east/east.hz north
users wang:rep:east.sh li:rep:east.sh zhao:rep:north mgr:manager:east
sync_all admin wang li zhao mgr

# status_of ARGS...: rove ARGS' exit status, stdout to /dev/full, stderr
# kept in $T/err.
full() {
	local s=0
	"$@" >/dev/full 2>"$T/err" || s=$?
	echo "$s"
}

# --- 1. a secret shown once is never lost to a stdout that cannot be
# written: exit 1, and the token on stderr, once ---
eq "$(full r admin admin user token li)" 1 "user token > /dev/full: exit status ($(cat "$T/err"))"
grep -q "cannot write standard output" "$T/err" || fail "user token > /dev/full: no word: $(cat "$T/err")"
tok=$(grep -E '^[0-9a-f]{64}$' "$T/err" || true)
[ -n "$tok" ] || fail "user token > /dev/full: the new token is not on stderr: $(cat "$T/err")"
r li config token "$tok" >/dev/null
r li sync >/dev/null || fail "li cannot sync with the token shown on stderr"

eq "$(full r admin admin user add newrep --role rep --territory east.sh)" 1 "user add > /dev/full: exit status"
grep -qE '^[0-9a-f]{64}$' "$T/err" || fail "user add > /dev/full: no token on stderr: $(cat "$T/err")"

printf 'login,role,territories\nimp1,rep,east.sh\nimp2,rep,north\n' >"$T/u.csv"
eq "$(full r admin admin import users "$T/u.csv")" 1 "import users > /dev/full: exit status"
grep -qE '^imp1,[0-9a-f]{64}$' "$T/err" && grep -qE '^imp2,[0-9a-f]{64}$' "$T/err" ||
	fail "import users > /dev/full: the tokens are not on stderr: $(cat "$T/err")"

eq "$(full "$ROVED_BIN" init "$T/srv2")" 1 "roved init > /dev/full: exit status"
grep -qE '^[0-9a-f]{64}$' "$T/err" || fail "roved init > /dev/full: no token on stderr: $(cat "$T/err")"

# any command: a stdout that cannot be written is no success
eq "$(full r wang customer add --name "Full Disk")" 1 "customer add > /dev/full: exit status"
grep -q "cannot write standard output" "$T/err" || fail "customer add > /dev/full: $(cat "$T/err")"
eq "$(full r wang territory list)" 1 "territory list > /dev/full: exit status"

# --- 2. a users import's dry run refuses what the import would: every
# bad line named; a failed import prints no login,token header ---
printf 'login,role,territories\nwu,rep,nowhere\nLI,rep,east.sh\nqian,rep,east.sh;nowhere2\nok1,rep,east.sh\n' >"$T/bad.csv"
exits_as admin 1 admin import users "$T/bad.csv" --dry-run
for l in 2 3 4; do
	grep -q "bad.csv:$l: " "$T/err" || fail "dry run: line $l not named: $(cat "$T/err")"
done
grep -q "bad.csv:3: user 'LI' already exists as 'li'" "$T/err" || fail "dry run: the clash: $(cat "$T/err")"
grep -q "bad.csv:4: no territory 'nowhere2'" "$T/err" || fail "dry run: the list: $(cat "$T/err")"
grep -q "bad.csv:5" "$T/err" && fail "dry run: a good line named: $(cat "$T/err")"
exits_as admin 1 admin import users "$T/bad.csv"
# What only the server checked before (attack nineteen: the dry run said
# "would import" rows the import then refused): the server's own name,
# territories for an analyst or an admin.
printf 'login,role,territories\nhq,analyst,east.sh\nboss2,admin,east.sh\nRoved,rep,east.sh\nok2,analyst,\n' >"$T/bad2.csv"
exits_as admin 1 admin import users "$T/bad2.csv" --dry-run
grep -q "bad2.csv:2: hq is an analyst: territories are for reps and managers" "$T/err" ||
	fail "dry run: an analyst's territories: $(cat "$T/err")"
grep -q "bad2.csv:3: boss2 is an admin: territories are for reps and managers" "$T/err" ||
	fail "dry run: an admin's territories: $(cat "$T/err")"
grep -q "bad2.csv:4: 'Roved' is the server's own name" "$T/err" || fail "dry run: roved: $(cat "$T/err")"
grep -q "bad2.csv:5" "$T/err" && fail "dry run: a good line named: $(cat "$T/err")"
printf 'login,role,territories\nnew1,rep,nowhere\n' >"$T/bad1.csv"
exits_as admin 1 admin import users "$T/bad1.csv"
# the real import leaves territories to the server (a new one arrives
# with the next sync): every row the server refuses is named, not the
# first alone (import.check)
printf 'login,role,territories\nnew2,rep,nowhere3\nnew3,rep,east.sh\nnew4,rep,nowhere4\n' >"$T/bad2.csv"
exits_as admin 1 admin import users "$T/bad2.csv"
grep -q "bad2.csv:2: .*nowhere3" "$T/err" || fail "the server's first bad row: $(cat "$T/err")"
grep -q "bad2.csv:4: .*nowhere4" "$T/err" || fail "the server's second bad row: $(cat "$T/err")"
grep -q "bad2.csv:3" "$T/err" && fail "a good row named: $(cat "$T/err")"

# --- 3. a rep whose replica holds no territory imports into none ---
r admin admin unassign zhao north >/dev/null
r zhao sync >/dev/null
eq "$(r zhao territory list --json | jq length)" 0 "zhao holds no territory"
printf 'name,territory\nA,east.sh\nB,north\nC,no.such\n' >"$T/w.csv"
exits_as zhao 1 import customers "$T/w.csv"
eq "$(grep -c "w.csv:[234]: no territory" "$T/err")" 3 "every row named: $(cat "$T/err")"
eq "$(r zhao status --json | jq .pending)" 0 "nothing queued"

# --- 4. a rep's closed_on is refused at once (the server sets it), as
# the import refuses it ---
c=$(r li customer add --name "Deal Co" --territory east.sh)
exits_as li 1 opportunity add --customer "$c" --title backdated --amount 1000 --stage won --closed-on 2025-01-01
grep -q "forbidden: closed_on: a rep's deal closes the day the server hears of it" "$T/err" || fail "add: $(cat "$T/err")"
o=$(r li opportunity add --customer "$c" --title later --amount 1 --stage lead)
exits_as li 1 opportunity set "$o" stage=won closed_on=2025-01-01
grep -q "closed_on is the server's" "$T/err" || fail "set: $(cat "$T/err")"
# A manager's too: it was accepted and replaced by the day of the sync
# without a word (attack seventy-three).
exits_as mgr 1 opportunity set "$o" stage=won closed_on=2025-01-01
grep -q "closed_on is the server's" "$T/err" || fail "a manager's set: $(cat "$T/err")"
"$ROVE_BIN" opportunity set --help | grep_q "closed_on" && fail "set --help offers closed_on"
r li opportunity stage "$o" won >/dev/null # today's, as the command sends it
sync_all li mgr
r mgr opportunity add --customer "$c" --title "past deal" --amount 5 --stage won --closed-on 2025-01-01 >/dev/null ||
	fail "a manager records a past deal with its day"

# --- 5. a rep's child records under a pool customer: claim it first, at
# once, as 'rove import contacts' says ---
pc=$(r admin customer add --name "Pool Co" --territory east.sh)
sync_all admin li
eq "$(r li customer show "$pc" --json | jq -r '.owner // ""')" "" "the customer is in the pool"
exits_as li 1 contact add --customer "$pc" --name "Ms Pool"
grep -q "not_owner: customer $pc is in the public pool: claim it first" "$T/err" || fail "contact add: $(cat "$T/err")"
exits_as li 1 activity add --customer "$pc" --kind call --note hi
exits_as li 1 opportunity add --customer "$pc" --title t --amount 1
# The customer's own fields too (attack eleven: queued, then refused on
# sync), with nothing queued.
pend=$(r li status --json | jq .pending)
exits_as li 1 customer set "$pc" tier=loyal
grep -q "not_owner: customer $pc is in the public pool: claim it first" "$T/err" || fail "customer set: $(cat "$T/err")"
eq "$(r li status --json | jq .pending)" "$pend" "a refused set queued an op"
r li customer claim "$pc" >/dev/null
r li contact add --customer "$pc" --name "Ms Pool" >/dev/null || fail "contact add after the claim"
r li customer set "$pc" tier=loyal >/dev/null || fail "customer set after the claim"

# --- 6. an import ignores an export's id, created_at, last_activity_at
# columns (with a note), but a row whose id names a customer the replica
# holds is refused: an edited export would make a second customer ---
orig=$(r wang customer add --name "Original" --territory east.sh)
printf 'id,name,territory,created_at,last_activity_at\n%s,Original (edited),east.sh,2020-01-01T00:00:00Z,2020-01-01T00:00:00Z\n' \
	"$orig" >"$T/x.csv"
exits_as wang 1 import customers "$T/x.csv"
grep -q "x.csv: columns id, created_at, last_activity_at ignored" "$T/err" || fail "the note: $(cat "$T/err")"
grep -q "x.csv:2: id $orig is a customer this replica holds" "$T/err" || fail "the id's row: $(cat "$T/err")"
eq "$(r wang customer list --json | jq '[.[] | select(.name | startswith("Original"))] | length')" 1 \
	"no second customer"

# --- 7. a filter's value outside its field's values is a usage error
# naming them, as --sort nosuch is ---
exits_as li 2 customer list --tier vip
grep -q -- "--tier takes one of .*'vip'" "$T/err" || fail "--tier: $(cat "$T/err")"
exits_as li 2 opportunity list --stage closed
grep -q -- "--stage takes one of lead, .*won, lost ('closed')" "$T/err" || fail "--stage: $(cat "$T/err")"
r li opportunity list --stage won >/dev/null || fail "--stage won"

# --- 8. --since DATE is a local date, as a date alone is everywhere ---
r wang customer add --name "Phone One" --phone "+86 21 5555 0101" --territory east.sh >/dev/null
r li customer add --name "Phone Two" --phone "+86 21 5555 0101" --territory east.sh >/dev/null
sync_all wang li mgr
eq "$(r li rejected --json | jq '[.[] | select(.reason == "duplicate")] | length')" 1 "li's duplicate refused"
# since_count ZONE WHO CMD DAY-OFFSET: how many refusals CMD lists since
# that day (today + DAY-OFFSET in ZONE).
since_count() {
	local day
	day=$(TZ=$1 date -d "$4 day" +%F)
	TZ=$1 "$ROVE_BIN" -R "$T/$2" "$3" --since "$day" --json | jq length
}
for z in Asia/Shanghai Pacific/Kiritimati Etc/GMT+12; do
	for cmd in li:rejected mgr:conflicts; do
		[ "$(since_count "$z" "${cmd%%:*}" "${cmd#*:}" 0)" -ge 1 ] ||
			fail "TZ=$z ${cmd#*:} --since today (local) misses today's refusal"
		eq "$(since_count "$z" "${cmd%%:*}" "${cmd#*:}" +1)" 0 "TZ=$z ${cmd#*:} --since tomorrow (local)"
	done
done

# --- 9. the start of a list's short form (an id's middle) is said so ---
acme=$(r li customer add --name "Acme Middle" --territory east.sh)
digits=${acme//-/}
short=$(r li customer list | grep "Acme Middle" | awk '{print $1}' | tr -d '*')
eq "$short" "${digits: -12}" "a list's short form is the id's last 12 characters"
exits_as li 2 customer show "${short:0:8}"
grep -q "'${short:0:8}' is in the middle of a customer id: give its start or its end" "$T/err" ||
	fail "the middle of an id: $(cat "$T/err")"
r li customer show "${short: -8}" >/dev/null || fail "the end of an id"
exits_as li 1 customer show 0123456789ab

# --- 10. a token replaced: sync says what to do; codes without case ---
r admin admin user token wang >/dev/null
set +e
r wang sync >/dev/null 2>"$T/err"
eq "$?" "1" "sync with a replaced token"
set -e
grep -q "authentication failed" "$T/err" || fail "sync: $(cat "$T/err")"
grep -q "rove config token" "$T/err" || fail "sync: no hint: $(cat "$T/err")"
# ... also once her tries pass the failed-login limit (5 a minute): the
# right token is the way out, not waiting (attack twenty-six's note)
for _ in 1 2 3 4 5 6; do r wang sync >/dev/null 2>"$T/err" || true; done
grep -q "too many failed attempts" "$T/err" || fail "past the limit: $(cat "$T/err")"
grep -q "rove config token" "$T/err" || fail "past the limit, no hint: $(cat "$T/err")"
eq "$(r li territory show EAST.SH --json | jq -r .code)" "east.sh" "territory show EAST.SH"

echo "ok"
