#!/usr/bin/env bash
# Scoped replication: every replica holds exactly what its user may see -
# reps their own customers and their territories' pool, managers their
# subtree, analysts everything - also when scopes change, and even to a
# hand-crafted client.
. "$(dirname "$0")/lib.sh"
# Tiny pull chunks: every snapshot and catch-up spans many pipelined
# requests (resume keys across scopes, resets mid-way).
export ROVE_PULL_BATCH=3

server_setup
territories east east/east.sh east/east.hz west west/west.cd
users alice:rep:east.sh bob:rep:east.sh carl:rep:east.hz
users mike:manager:east wendy:manager:west ana:analyst
everyone=(admin alice bob carl mike wendy ana)
sync_all "${everyone[@]}"

a1=$(r alice customer add --name "A1" --tax-id 91310000MA1A10001R)
a2=$(r alice customer add --name "A2")
p1=$(r alice customer add --name "P1 pool")
b1=$(r bob customer add --name "B1")
c1=$(r carl customer add --name "C1")
c2=$(r carl customer add --name "C2 pool")
r alice customer release "$p1"
r carl customer release "$c2"
sync_all alice bob carl admin

# Every replica equals the server's state restricted to its scope.
check_scopes() {
	local all
	sync_all "${everyone[@]}" # pushes
	sync_all "${everyone[@]}" # everybody has everybody's pushes
	all=$(r admin customer list --json)
	eq "$(r ana customer list --json)" "$all" "the analyst holds everything ($1)"
	eq "$(r alice customer list --json | jq -c .)" "$(scope_filter_rep alice "${@:2}" <<<"$all")" "alice's scope ($1)"
	eq "$(r bob customer list --json | jq -c .)" "$(scope_filter_rep bob east.sh <<<"$all")" "bob's scope ($1)"
	eq "$(r carl customer list --json | jq -c .)" "$(scope_filter_rep carl east.hz <<<"$all")" "carl's scope ($1)"
	eq "$(r mike customer list --json | jq -c .)" \
		"$(jq -c '[.[] | select(.territory | startswith("east"))]' <<<"$all")" "mike's subtree ($1)"
	eq "$(r wendy customer list --json)" "[]" "wendy sees nothing of east ($1)"
}
check_scopes "start" east.sh
eq "$(r alice customer list --json | jq -r '[.[].name] | join(",")')" "A1,A2,P1 pool" "alice's own and pool"
eq "$(r carl customer list --json | jq -r '[.[].name] | join(",")')" "C1,C2 pool" "carl's"
eq "$(r mike customer list --json | jq length)" "6" "the manager of east sees six"

# Reference data follows scope too.
eq "$(r alice territory list --json | jq -r '[.[].code] | join(",")')" "east.sh" "alice's territories"
eq "$(r mike territory list --json | jq -r '[.[].code] | sort | join(",")')" "east,east.hz,east.sh" "mike's territories"
eq "$(r ana territory list --json | jq length)" "5" "the analyst's territories"

# A hand-crafted full pull as bob returns nothing outside bob's scope.
probe bob pull >"$T/bob.pull"
for id in $a1 $a2 $c1 $c2; do
	if grep -q "$id" "$T/bob.pull"; then
		fail "bob's raw pull returned $id"
	fi
done
grep -q "$b1" "$T/bob.pull" || fail "bob's raw pull lacks his own customer"
grep -q "$p1" "$T/bob.pull" || fail "bob's raw pull lacks the pool customer"

# Scope changes: alice gets east.hz while she has pending work.
r alice customer set "$a1" tier=loyal
r admin admin assign alice east.hz
check_scopes "after assign" east.sh east.hz
eq "$(r alice customer show "$a1" --json | jq -r .tier)" "loyal" "pending work kept through the scope change"
grep -q "$c2" <<<"$(ids_of alice)" || fail "alice does not hold east.hz's pool customer"
eq "$(r alice status --json | jq .pending)" "0" "pending op pushed"

r admin admin unassign alice east.hz
check_scopes "after unassign" east.sh
if grep -q "$c2" <<<"$(ids_of alice)"; then fail "alice still holds east.hz's pool"; fi

# A customer moved away is evicted; moved in arrives with its history.
r admin admin reassign --customer "$b1" --to alice
check_scopes "after reassign" east.sh
grep -q "$b1" <<<"$(ids_of alice)" || fail "alice lacks the customer moved to her"
if grep -q "$b1" <<<"$(ids_of bob)"; then fail "bob still holds the customer moved away"; fi
eq "$(r alice customer history "$b1" --json | jq -r '[.[].event] | join(",")')" "create,reassign" \
	"the moved customer's history came along"

# Claiming moves a pool customer out of the other reps' replicas.
r bob customer claim "$p1"
check_scopes "after claim" east.sh
if grep -q "$p1" <<<"$(ids_of alice)"; then fail "alice still holds bob's claimed customer"; fi
echo "ok"
