#!/usr/bin/env bash
# Three replicas edit offline - creates and conflicting field edits on the
# same customer - and sync in several orders; all end with the same list.
. "$(dirname "$0")/lib.sh"

server_init
server_start
admin_replica
user_replica alice rep
user_replica bob rep
user_replica carol manager

# A customer everybody knows.
id=$(r alice customer add --name "Shanghai Steel" --phone "021-5555-0101" --tier prospect)
r alice sync >/dev/null
r bob sync >/dev/null
r carol sync >/dev/null
eq "$(r bob customer show "$id" --json | jq -r .name)" "Shanghai Steel" "bob sees alice's customer"

# Offline: each creates customers and edits the shared one.
for i in 1 2 3; do
	r alice customer add --name "alice-$i" >/dev/null
	r bob customer add --name "bob-$i" --tier customer >/dev/null
	r carol customer add --name "carol-$i" --tier loyal >/dev/null
done
r alice customer set "$id" phone=021-1111 address="1 Alice Road"
sleep 0.05
r bob customer set "$id" tier=customer phone=021-2222
sleep 0.05
r carol customer set "$id" address="9 Carol Street"

# Each replica sees its own edits before syncing.
eq "$(r alice customer show "$id" --json | jq -r .phone)" "021-1111" "alice's pending edit visible"
eq "$(r alice status --json | jq .pending)" "4" "alice's pending ops"

# Sync in one order, then another, then once more for everyone.
r carol sync >/dev/null
r alice sync >/dev/null
r bob sync >/dev/null
r alice sync >/dev/null
r carol sync >/dev/null

a=$(r alice customer list --json)
b=$(r bob customer list --json)
c=$(r carol customer list --json)
eq "$b" "$a" "bob and alice converge"
eq "$c" "$a" "carol and alice converge"
eq "$(jq length <<<"$a")" "10" "all customers everywhere"

# Field by field: the later write of each field wins, others are kept.
shared=$(r alice customer show "$id" --json)
eq "$(jq -r .phone <<<"$shared")" "021-2222" "bob's later phone wins"
eq "$(jq -r .tier <<<"$shared")" "customer" "bob's tier kept"
eq "$(jq -r .address <<<"$shared")" "9 Carol Street" "carol's later address wins"
eq "$(jq -r .name <<<"$shared")" "Shanghai Steel" "untouched field kept"
eq "$(jq -r .owner <<<"$shared")" "alice" "owner set by the server"

# Nothing pending anywhere; every cursor at the server's head.
for u in alice bob carol; do
	eq "$(r $u status --json | jq .pending)" "0" "$u has nothing pending"
done
eq "$(r bob status --json | jq .cursor)" "$(r alice status --json | jq .cursor)" "same cursor"

# A fresh replica bootstraps from a snapshot and matches too.
user_replica dave rep
out=$(r dave sync --json)
eq "$(jq .pulled <<<"$out")" "10" "snapshot holds the 10 customers, not the history"
eq "$(r dave customer list --json)" "$a" "fresh replica converges"
echo "ok"
