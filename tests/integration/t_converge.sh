#!/usr/bin/env bash
# Replicas edit offline - creates and conflicting field edits on the same
# customer by its owner, a manager and an admin - and sync in several
# orders; every replica ends equal to the server's state in its scope.
. "$(dirname "$0")/lib.sh"

server_setup
territories east east/east.sh
users alice:rep:east.sh bob:rep:east.sh carol:manager:east
for u in admin alice bob carol; do r $u sync >/dev/null; done

# A customer of alice's that carol (manager) and admin may also edit.
id=$(r alice customer add --name "Shanghai Steel" --phone "021-5555-0101" --tier prospect)
eq "$(r alice customer show "$id" --json | jq -r .territory)" "east.sh" "created in the rep's only territory"
r alice sync >/dev/null
r carol sync >/dev/null
r admin sync >/dev/null
eq "$(r carol customer show "$id" --json | jq -r .name)" "Shanghai Steel" "the manager sees alice's customer"

# Offline: everyone creates customers; three writers edit the shared one.
for i in 1 2 3; do
	r alice customer add --name "alice-$i" >/dev/null
	r bob customer add --name "bob-$i" --tier customer >/dev/null
	r carol customer add --name "carol-$i" --territory east.sh --tier loyal >/dev/null
done
r admin customer add --name "admin-1" --territory east.sh >/dev/null
r alice customer set "$id" phone=021-1111 address="1 Alice Road"
sleep 0.05
r carol customer set "$id" tier=customer phone=021-2222
sleep 0.05
r admin customer set "$id" address="9 Admin Street"

# Each replica sees its own edits before syncing.
eq "$(r alice customer show "$id" --json | jq -r .phone)" "021-1111" "alice's pending edit visible"
eq "$(r alice status --json | jq .pending)" "4" "alice's pending ops"

# Sync in one order, then another, then once more for everyone.
r carol sync >/dev/null
r alice sync >/dev/null
r bob sync >/dev/null
r admin sync >/dev/null
r alice sync >/dev/null
r carol sync >/dev/null
r bob sync >/dev/null

all=$(r admin customer list --json)
eq "$(jq length <<<"$all")" "11" "every customer on the server"
eq "$(r carol customer list --json)" "$all" "the manager of east holds all of east"
for u in alice bob; do
	want=$(jq -c --arg u $u '[.[] | select(.owner == $u or .owner == null)]' <<<"$all")
	eq "$(r $u customer list --json | jq -c .)" "$want" "$u holds exactly their own and the pool's"
done
eq "$(r bob customer list --json | jq length)" "4" "bob sees his three and the admin's, in the pool"
eq "$(jq -r '.[] | select(.name == "admin-1") | .owner' <<<"$all")" "null" "admins own no customers (rule 7)"

# Field by field: the later write of each field wins, others are kept.
shared=$(r alice customer show "$id" --json)
eq "$(jq -r .phone <<<"$shared")" "021-2222" "carol's later phone wins"
eq "$(jq -r .tier <<<"$shared")" "customer" "carol's tier kept"
eq "$(jq -r .address <<<"$shared")" "9 Admin Street" "the admin's later address wins"
eq "$(jq -r .name <<<"$shared")" "Shanghai Steel" "untouched field kept"
eq "$(jq -r .owner <<<"$shared")" "alice" "owner set by the server"
eq "$(r carol customer show "$id" --json)" "$shared" "carol's copy is the same"
eq "$(r admin customer show "$id" --json)" "$shared" "the admin's copy is the same"

# Nothing pending anywhere; every cursor at the server's head.
for u in admin alice bob carol; do
	eq "$(r $u status --json | jq .pending)" "0" "$u has nothing pending"
	eq "$(r $u status --json | jq .cursor)" "$(r admin status --json | jq .cursor)" "$u's cursor at the head"
done

# A fresh replica bootstraps from a snapshot and matches too.
user_replica dave analyst
out=$(r dave sync --json)
eq "$(r dave customer list --json)" "$all" "fresh analyst replica converges"
ops=$(r admin status --json | jq .cursor)
pulled=$(jq .pulled <<<"$out")
[ "$pulled" -lt "$ops" ] || fail "snapshot sent $pulled items for $ops ops: history replayed?"
echo "ok"
