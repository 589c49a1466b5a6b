#!/usr/bin/env bash
# A record that moves between scopes while its reader sees it before and
# after (a manager moving a rep's customer between two of the rep's
# territories; a release or a claim seen by the territory's manager and
# by the rep who keeps seeing it in the pool) travels to that reader as
# its op, not as its whole family again (attack 102: 3,003 items for one
# move of a customer with 3,001 visits). Those who gain or lose it still
# get the family or its evicts, and every replica ends as the server's
# state restricted to its scope.
. "$(dirname "$0")/lib.sh"

server_setup
territories east east/east.sh east/east.hz
users alice:rep:east.sh,east.hz bob:rep:east.sh carl:rep:east.hz mike:manager:east
sync_all admin alice bob carl mike

k=$(r alice customer add --name "Key account" --territory east.sh)
{
	echo "customer,name"
	for i in $(seq 1 60); do echo "$k,Buyer $i"; done
} >"$T/contacts.csv"
r alice import contacts "$T/contacts.csv" >/dev/null
r alice sync >/dev/null
sync_all bob carl mike admin
eq "$(r mike contact list --customer "$k" --json | jq length)" "60" "the manager holds the family"

# pulled N of NAME's next sync (what came from the server).
pulled() { r "$1" sync --json | jq .pulled; }
# at_most N WHAT VALUE: VALUE is a number no greater than N.
at_most() {
	[[ $3 =~ ^[0-9]+$ ]] || fail "$2: not a count: '$3'"
	[ "$3" -le "$1" ] || fail "$2: $3 items pulled, at most $1 expected (the whole family travelled)"
}

# 1. The manager moves alice's customer to her other territory: she saw
# it before and after.
r mike customer set "$k" territory=east.hz >/dev/null
r mike sync >/dev/null
at_most 3 "alice, her customer moved between her territories" "$(pulled alice)"
eq "$(r alice customer show "$k" --json | jq -r .territory)" "east.hz" "alice's copy moved"
eq "$(r alice contact list --customer "$k" --json | jq length)" "60" "alice keeps the family"
# carl (east.hz) never sees alice's own customer; nor does bob.
holds_no_family carl contact "$k" "carl does not hold alice's customer"

# 2. Alice releases it to east.hz's pool: carl gains the family, the
# manager and alice keep seeing it.
r alice customer release "$k" >/dev/null
at_most 3 "alice, her own release" "$(r alice sync --json | jq .pulled)"
n=$(pulled carl)
[ "$n" -ge 61 ] || fail "carl gained the family: $n items pulled"
eq "$(r carl contact list --customer "$k" --json | jq length)" "60" "carl holds the pool customer's family"
at_most 3 "mike, a release in his subtree" "$(pulled mike)"
at_most 3 "alice, a release she made, pulled again" "$(pulled alice)"

# 3. Carl claims it: alice loses it (evicts), carl and mike keep it.
r carl customer claim "$k" >/dev/null
at_most 3 "carl, his own claim of a pool customer he saw" "$(r carl sync --json | jq .pulled)"
n=$(pulled alice)
[ "$n" -ge 61 ] || fail "alice's copy left whole: $n items pulled"
holds_no_family alice contact "$k" "alice's copy left with the claim"
at_most 3 "mike, a claim in his subtree" "$(pulled mike)"

# 4. Carl releases it, and the manager moves the pool customer to
# east.sh: alice sees it in both pools, bob gains it, carl loses it.
r carl customer release "$k" >/dev/null
r carl sync >/dev/null
n=$(pulled alice)
[ "$n" -ge 61 ] || fail "alice gained the family again: $n items pulled"
r mike customer set "$k" territory=east.sh >/dev/null
r mike sync >/dev/null
at_most 3 "alice, a pool customer moved between her territories" "$(pulled alice)"
eq "$(r alice customer show "$k" --json | jq -r .territory)" "east.sh" "alice's copy moved"
n=$(pulled bob)
[ "$n" -ge 61 ] || fail "bob gained the family: $n items pulled"
n=$(pulled carl)
[ "$n" -ge 61 ] || fail "carl's copy left whole: $n items pulled"
holds_no_family carl contact "$k" "carl's copy left with the move"

# 5. In and out of a reader's view six times while she is offline: her
# next sync's one reply brings the family once (its state now), not
# once for each time it came back (attack 103: a customer bounced 15
# times came in 8,660 items; here 930 before, about 95 since).
sync_all alice bob
for i in 1 2 3 4 5; do
	r admin admin reassign --customer "$k" --to bob >/dev/null
	r admin admin reassign --customer "$k" --to alice >/dev/null
done
r admin admin reassign --customer "$k" --to bob >/dev/null
r admin admin reassign --customer "$k" --to alice >/dev/null
at_most 120 "alice, her customer reassigned away and back six times" "$(pulled alice)"
eq "$(r alice contact list --customer "$k" --json | jq length)" "60" "alice holds the family"
eq "$(r alice customer show "$k" --json | jq -r .owner)" "alice" "hers again"
n=$(pulled bob)
[ "$n" -le 120 ] || fail "bob, the customer came and went six times: $n items pulled"
holds_no_family bob contact "$k" "bob's copy left"

# Every replica is the server's state restricted to its scope.
sync_all admin alice bob carl mike
all=$(r admin customer list --json)
eq "$(r alice customer list --json | jq -c .)" "$(scope_filter_rep alice east.sh east.hz <<<"$all")" "alice's scope"
eq "$(r bob customer list --json | jq -c .)" "$(scope_filter_rep bob east.sh <<<"$all")" "bob's scope"
eq "$(r carl customer list --json | jq -c .)" "$(scope_filter_rep carl east.hz <<<"$all")" "carl's scope"
eq "$(r alice contact list --customer "$k" --json | jq -c '[.[].name] | sort')" \
	"$(r admin contact list --customer "$k" --json | jq -c '[.[].name] | sort')" "alice's family equals the server's"
eq "$(r alice customer history "$k" --json | jq -c '[.[] | .to]')" \
	"$(r admin customer history "$k" --json | jq -c '[.[] | .to]')" "alice's ownership history equals the server's"
eq "$(r mike contact list --json | jq length)" "60" "the manager's replica is whole"
eq "$(r mike rejected --json)" "[]" "the manager's changes were all taken"
echo "ok"
