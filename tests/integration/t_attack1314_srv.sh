#!/usr/bin/env bash
# Server-side findings of the black-box attack on issues 13 and 14, with
# real processes. Recycling (rule 11): a migration with years-old visits,
# or a recycling rule set on old customers, warns the owner first and
# recycles only warn_days later (roved restarted under libfaketime days
# ahead); a claim or a new activity starts the warning over.
. "$(dirname "$0")/lib.sh"

ROVED_ARGS="--recycle-interval 0.3"
server_setup
territories east east/east.sh east/east.hz north
users li:rep:east.sh wang:rep:east.sh mgr:manager:east zhao:rep:north
sync_all admin li wang mgr zhao

need_faketime
# server_ahead OFFSET: roved restarted with its clock OFFSET ahead (+4d).
server_ahead() {
	server_stop
	server_start_at "$1"
}
# passes: lets the recycler run a few passes.
passes() { sleep 1.2; }
kinds() { r "$1" notices --json | jq -r --arg id "$2" '[.[] | select(.customer == $id)] | sort_by(.at) | map(.kind) | join(",")'; }
owner() { r admin customer show "$1" --json | jq -r '.owner // "pool"'; }

# uscc BASE17: a 统一社会信用代码 (GB 32100-2015 check character).
uscc() {
	awk -v base="$1" 'BEGIN {
		a = "0123456789ABCDEFGHJKLMNPQRTUWXY"; w = 1
		for (i = 1; i <= 17; i++) { s += (index(a, substr(base, i, 1)) - 1) * w; w = w * 3 % 31 }
		print base substr(a, (31 - s % 31) % 31 + 1, 1)
	}'
}

# ---- #3: a deal an admin makes on a pool customer ----
# Admins own nothing: the deal has no owner until someone claims (or is
# given) the customer; then its open deals are theirs, and the win too.
tp=$(uscc 91310000MA1FL0200)
r admin customer add --name "Pool Co" --tax-id "$tp" --territory east.sh >/dev/null
printf 'customer,title,amount,stage\ntax_id:%s,Pool deal,66,proposal\n' "$tp" >"$T/o.csv"
r admin import opportunities "$T/o.csv" >/dev/null
r admin sync >/dev/null
deal=$(r admin opportunity list --json | jq -r '.[] | select(.title == "Pool deal") | .id')
eq "$(r admin opportunity show "$deal" --json | jq -r '.owner // "none"')" "none" "an admin's deal on a pool customer has no owner"
# The pipeline shows it under "(pool)" the same in text, JSON and CSV.
r admin report pipeline | grep_q '(pool)' || fail "pipeline text: $(r admin report pipeline)"
eq "$(r admin report pipeline --json | jq -c '[.. | objects | select(.key? == "(pool)" or .rep? == "(pool)")] | length > 0')" \
	"true" "pipeline JSON: $(r admin report pipeline --json | head -c 600)"
r admin report pipeline --csv | grep_q '^rep,(pool),1,66' || fail "pipeline CSV: $(r admin report pipeline --csv)"
# The same made with `opportunity add` (attack ten): the replica named
# the admin its owner, and the server refused the deal as invalid.
pc=$(r admin customer list --json | jq -r '.[] | select(.name == "Pool Co") | .id')
deal2=$(r admin opportunity add --customer "$pc" --title "Pool deal two" --amount 5 --stage lead)
eq "$(r admin opportunity show "$deal2" --json | jq -r '.owner // "none"')" "none" "the admin's replica names no owner"
out=$(r admin sync --json)
eq "$(jq .rejected <<<"$out")" "0" "an admin's deal on a pool customer is taken ($out; $(r admin rejected 2>&1))"
eq "$(r admin opportunity show "$deal2" --json | jq -r '.owner // "none"')" "none" "and has no owner"
r li sync >/dev/null
pc=$(r admin customer list --json | jq -r '.[] | select(.name == "Pool Co") | .id')
r li customer claim "$pc" >/dev/null
r li sync >/dev/null
eq "$(r li opportunity show "$deal" --json | jq -r .owner)" "li" "li's claim makes the open deal hers"
r li opportunity stage "$deal" won >/dev/null
r li sync >/dev/null
period=$(r li opportunity show "$deal" --json | jq -r '.closed_on[0:7]')
r mgr target set li --period "$period" --amount 100 >/dev/null
r mgr sync >/dev/null
eq "$(r mgr report targets --period "$period" --json | jq -r '.[] | select(.user == "li") | .won')" "6600" \
	"li is credited with the win"
r admin sync >/dev/null
eq "$(r admin opportunity history "$deal" --json | jq -r '[.[] | (.from // "-") + ">" + .to] | join(",")')" "->li" \
	"the deal's history: given to li"

# ---- #7: a new territory re-sends nobody's scope ----
# Scopes are computed at each pull and a new territory is empty: a
# manager outside it pulls nothing, one above it the territory record
# alone (and later what goes into it), never a new snapshot.
{
	echo "name,territory"
	for i in $(seq 1 40); do echo "Hz $i,east.hz"; done
} >"$T/hz.csv"
r admin import customers "$T/hz.csv" >/dev/null
sync_all admin mgr zhao li
eq "$(r mgr sync --json | jq .pulled)" "0" "nothing new for mgr"
r admin admin territory add north.tj --name TJ --parent north >/dev/null
eq "$(r mgr sync --json | jq .pulled)" "0" "a territory outside mgr's subtree: nothing pulled"
eq "$(r li sync --json | jq .pulled)" "0" "nor by a rep"
r admin admin territory add east.nb --name NB --parent east >/dev/null
eq "$(r mgr sync --json | jq .pulled)" "1" "a territory in mgr's subtree: its record alone"
r mgr territory list | grep_q "east.nb" || fail "mgr does not see east.nb: $(r mgr territory list)"
eq "$(r li sync --json | jq .pulled)" "0" "nothing for a rep of east.sh"
nb=$(r admin customer add --name "Ningbo Co" --territory east.nb)
r admin sync >/dev/null
eq "$(r mgr sync --json | jq .pulled)" "2" "a customer of the new territory reaches mgr (and its history entry)"
r mgr customer show "$nb" >/dev/null || fail "mgr lacks the new territory's customer"
eq "$(r mgr customer list --json | jq length)" "$(r admin customer list --json |
	jq '[.[] | select(.territory | startswith("east"))] | length')" "mgr holds his whole subtree"

# ---- analysts hold no territory: they read everything, own nothing ----
set +e
r admin admin user add hq2 --role analyst --territory east 2>"$T/err" >/dev/null
eq "$?" "1" "an analyst with a territory is refused"
grep_q "hq2 is an analyst: territories are for reps and managers" <"$T/err" || fail "reason: $(cat "$T/err")"
printf 'login,role,territories\nhq3,analyst,east\n' >"$T/u.csv"
r admin admin import users "$T/u.csv" >/dev/null 2>"$T/err"
eq "$?" "1" "an imported analyst with a territory is refused"
set -e
grep_q "u.csv:2: hq3 is an analyst: territories are for reps and managers" <"$T/err" || fail "reason: $(cat "$T/err")"

# ---- 14b: a rule set on a territory whose customers are long idle ----
quiet=$(r li customer add --name "Quiet Co")
r li activity add --customer "$quiet" --kind visit --at 2026-06-01 --note "last visit" >/dev/null
r li sync >/dev/null
r admin admin territory set east.sh recycle_days=90 warn_days=5 >/dev/null
# ---- 14: a migration with history under the recycling rule ----
t1=$(uscc 91310000MA1FL0011)
t2=$(uscc 91310000MA1FL0012)
printf 'name,tax_id,territory,owner\nOld Friend,%s,east.sh,li\nNew Friend,%s,east.sh,li\n' "$t1" "$t2" >"$T/c.csv"
printf 'customer,kind,at,note\ntax_id:%s,visit,2019-05-01T10:00Z,visited in 2019\n' "$t1" >"$T/a.csv"
r admin import customers "$T/c.csv" >/dev/null
r admin import activities "$T/a.csv" >/dev/null
r admin sync >/dev/null
old=$(r admin customer list --json | jq -r '.[] | select(.name == "Old Friend") | .id')
new=$(r admin customer list --json | jq -r '.[] | select(.name == "New Friend") | .id')
passes
r admin sync >/dev/null
r li sync >/dev/null
eq "$(owner "$old")" "li" "an imported customer with a 2019 visit stays li's at once"
eq "$(kinds li "$old")" "recycle_warning" "li is warned first"
r li notices --json | jq -r --arg id "$old" '.[] | select(.customer == $id) | .text' |
	grep_q "Old Friend returns to the public pool in 5 day(s)" || fail "the warning: $(r li notices --json)"
eq "$(owner "$new")" "li" "a new one stays li's"
eq "$(kinds li "$new")" "" "and draws no warning"
eq "$(owner "$quiet")" "li" "a customer idle since June stays li's when the rule is set"
eq "$(kinds li "$quiet")" "recycle_warning" "li is warned about it first"

# Four days on: warned, not yet recycled.
server_ahead +4d
passes
r admin sync >/dev/null
eq "$(owner "$old")" "li" "4 days after the warning: still li's"
# A reassignment starts the warning over: wang's customer, idle since
# 2019, is warned to wang, then handed to li.
t3=$(uscc 91310000MA1FL0013)
printf 'name,tax_id,territory,owner\nOld Pal,%s,east.sh,wang\n' "$t3" >"$T/c3.csv"
printf 'customer,kind,at,note\ntax_id:%s,visit,2019-05-01T10:00Z,visited in 2019\n' "$t3" >"$T/a3.csv"
r admin import customers "$T/c3.csv" >/dev/null
r admin import activities "$T/a3.csv" >/dev/null
r admin sync >/dev/null
pal=$(r admin customer list --json | jq -r '.[] | select(.name == "Old Pal") | .id')
passes
r wang sync >/dev/null
eq "$(kinds wang "$pal")" "recycle_warning" "wang is warned about Old Pal"

# Six days on: Old Friend was warned 6 days ago, so it goes back.
server_ahead +6d
passes
r admin sync >/dev/null
r li sync >/dev/null
eq "$(owner "$old")" "pool" "6 days after the warning: recycled"
eq "$(kinds li "$old")" "recycle_warning,recycled" "li was warned, then told"
eq "$(r admin customer history "$old" --json | jq -r '.[-1].event + " by " + .[-1].by')" "recycle by roved" "history"
eq "$(owner "$new")" "li" "New Friend stays"
eq "$(owner "$quiet")" "pool" "Quiet Co too, after its warning"
# Old Pal was warned 2 days ago (on wang's watch): li claims it and is
# warned anew; 6 more days and it returns.
r li sync >/dev/null
eq "$(owner "$pal")" "wang" "Old Pal still wang's"
r admin admin reassign --customer "$pal" --to li >/dev/null
r admin sync >/dev/null
passes
r li sync >/dev/null
eq "$(owner "$pal")" "li" "a reassigned customer is not recycled on the old warning"
eq "$(kinds li "$pal")" "recycle_warning" "li is warned about Old Pal"
server_ahead +12d
passes
r admin sync >/dev/null
eq "$(owner "$pal")" "pool" "li's warning served its 5 days"
echo "ok"
