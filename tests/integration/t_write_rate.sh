#!/usr/bin/env bash
# One user's flood of changes is held to a rate: one rep sent 779,000
# updates of one customer in 20 s, which every replica in scope pulled
# (attack seventy-four). Each user but an admin pushes at most
# ROVE_USER_OPS_BURST ops at once, then ROVE_USER_OPS_PER_S a second
# (here 3,000 and 50). A sync over it is refused with the reason, keeps
# the rest pending, still pulls what others changed, and exits 1; a later
# sync sends the rest, nothing lost. Another rep and the admin are not
# held by it; a manager's reassignments are.
. "$(dirname "$0")/lib.sh"

server_init
server_start ROVE_USER_OPS_BURST=3000 ROVE_USER_OPS_PER_S=50
admin_replica
territories east
users wang:rep:east li:rep:east zhao:rep:east mike:manager:east
r wang sync >/dev/null
r li sync >/dev/null

# The admin gives wang a customer he has not pulled yet.
x=$(r admin customer add --name "Given Co" --phone 13900000001 --territory east)
r admin sync >/dev/null
r admin admin reassign --customer "$x" --to wang >/dev/null

# wang imports 3,500 customers: 3,000 pass, 500 wait.
customers_csv "$T/wang.csv" 3500 Wang 1380
r wang import customers "$T/wang.csv" >/dev/null
code=0
was=$(r wang status --json | jq -r .last_sync)
sleep 1 # last_sync is to the second
r wang sync --json >"$T/out" 2>"$T/err" || code=$?
eq "$code" 1 "a sync over the rate fails (stdout: $(cat "$T/out"); stderr: $(cat "$T/err"))"
grep -q "too many changes from wang in a short time" "$T/err" || fail "why it failed: $(cat "$T/err")"
r wang customer show "$x" >/dev/null || fail "the held sync pulled nothing: $(cat "$T/err")"
eq "$(r wang status --json | jq .pending)" 500 "the rest is pending"
# What it did is said as a sync's (attack seventy-eight: no JSON, and
# "last sync" not moved though the pull went through).
eq "$(jq -c '[.pushed, .accepted, .rejected, .held]' "$T/out" 2>&1)" "[3000,3000,0,500]" "the held sync's JSON"
[ "$(jq .pulled "$T/out")" -ge 1 ] || fail "the held sync's JSON says nothing pulled: $(cat "$T/out")"
grep -q "500 change(s) of this replica still pending in all" "$T/err" || fail "how many wait: $(cat "$T/err")"
now=$(r wang status --json | jq -r .last_sync)
[ "$now" != "$was" ] || fail "the held sync's pull is not its last sync ($was)"

# Another rep, and the admin, are not held by wang's rate.
customers_csv "$T/li.csv" 10 Li 1370
r li import customers "$T/li.csv" >/dev/null
eq "$(r li sync --json | jq .accepted)" 10 "li's changes pass"
# Big changes count by their bytes too (attack one hundred: visits with
# notes of 1,000 characters, 3-4 KB each, filled a server's disk at 1.4
# MB/s from one rep's token, every op within the op rate): zhao's 1,500
# visits of 3 KB each are 4.5 MB, which the bucket of 3,000 (a change
# per KiB of a big one) cannot hold: the first push passes (as many as
# a request holds), the rest wait.
c=$(r zhao customer add --name "Zhao's customer" --territory east)
r zhao sync >/dev/null
note=$(printf '访%.0s' $(seq 1 990))
awk -v c="$c" -v n="$note" 'BEGIN { print "customer,kind,note"; for (i = 1; i <= 1500; i++) printf "%s,visit,%d %s\n", c, i, n }' \
	>"$T/visits.csv"
r zhao import activities "$T/visits.csv" >/dev/null
code=0
r zhao sync --json >"$T/out" 2>"$T/err" || code=$?
eq "$code" 1 "a sync of big changes over the rate fails (stdout: $(cat "$T/out"); stderr: $(cat "$T/err"))"
read -r pushed accepted held < <(jq -r '"\(.pushed) \(.accepted) \(.held)"' "$T/out")
[ "$accepted" = "$pushed" ] && [ "$held" -gt 0 ] && [ $((accepted + held)) -eq 1500 ] ||
	fail "the big changes' held sync: $(cat "$T/out")"
eq "$(r zhao status --json | jq .pending)" "$held" "the big changes held are pending"
grep -q "too many changes from zhao in a short time (3000 at once, then 50 a second; one per 1 KiB of a big one)" \
	"$T/err" || fail "why the big changes were held: $(cat "$T/err")"
awk 'BEGIN { print "name,phone,territory"; for (i = 1; i <= 4000; i++) printf "Admin %d,1360%07d,east\n", i, i }' \
	>"$T/admin.csv"
r admin import customers "$T/admin.csv" >/dev/null
eq "$(r admin sync --json | jq .accepted)" 4000 "an admin's load is not held"

# The rest goes once the bucket holds it again (500 at 50 a second).
deadline=$((SECONDS + 40))
until r wang sync >/dev/null 2>"$T/err"; do
	[ $SECONDS -lt $deadline ] || fail "wang's last changes never went: $(cat "$T/err")"
	grep -q "too many changes from wang" "$T/err" || fail "another failure: $(cat "$T/err")"
	sleep 2
done
eq "$(r wang status --json | jq .pending)" 0 "nothing pending"
r admin sync >/dev/null
eq "$(r admin customer list --json | jq '[.[] | select(.name | startswith("Wang "))] | length')" 3500 \
	"every one of wang's customers reached the server"
# A manager's reassignments are held to his rate too (attack
# seventy-eight: 156,000 ops in 5 s, moving 2,000 customers back and
# forth): the first passes and leaves him in debt for what it wrote; the
# next is refused, saying why.
r mike sync >/dev/null
r mike admin reassign --territory east --from wang --to li >/dev/null
code=0
r mike admin reassign --territory east --from li --to zhao >"$T/out" 2>"$T/err" || code=$?
eq "$code" 1 "a second reassignment past the rate (stdout: $(cat "$T/out"))"
grep -q "too many changes from mike in a short time" "$T/err" || fail "why: $(cat "$T/err")"
r admin sync >/dev/null
eq "$(r admin customer list --owner li --json | jq '[.[] | select(.name | startswith("Wang "))] | length')" 3500 \
	"the first reassignment moved them all, the second none"
echo ok
