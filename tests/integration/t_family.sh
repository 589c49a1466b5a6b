#!/usr/bin/env bash
# Families of any size move between scopes: a key account with 4,100
# contacts is reassigned, released and claimed; every sync of everyone who
# sees it (old owner, new owner, the territory's reps, the manager) keeps
# working, each reply stays within the limits, and the records arrive and
# leave whole. A deleted child travels only as an evict: a replica that
# held it from before the family left its scope drops it.
. "$(dirname "$0")/lib.sh"

server_setup
territories east east/east.sh
users alice:rep:east.sh bob:rep:east.sh mike:manager:east
sync_all admin alice bob mike

big=$(r alice customer add --name "Key account")
small=$(r alice customer add --name "Small account")
{
	echo "customer,name"
	for i in $(seq 1 4100); do echo "$big,Buyer $i"; done
	echo "$small,Only buyer"
} >"$T/contacts.csv"
r alice import contacts "$T/contacts.csv" >/dev/null
r alice sync >/dev/null
sync_all mike admin
eq "$(r mike contact list --json | jq length)" "4101" "the manager holds the whole family"

# The manager deletes one contact of the family: it must not travel.
gone=$(r mike contact list --customer "$big" --json | jq -r '.[7].id')
r mike contact delete "$gone"
r mike sync >/dev/null

# Moved to bob: his scope gains the family, alice's loses it.
bob_cursor=$(r bob status --json | jq .cursor)
r admin admin reassign --customer "$big" --to bob
# (what bob's next sync gets: his epoch is 1, his territories never changed)
probe bob pull --cursor "$bob_cursor" --epoch 1 >"$T/bob-pull"
eq "$(tail -n 1 "$T/bob-pull" | jq .resets)" "0" "bob's pull continues from his cursor"
if grep "$gone" "$T/bob-pull" | grep_q -v '"evict"'; then fail "the deleted contact travelled whole with its customer"; fi
for u in alice bob mike admin; do
	r "$u" sync >/dev/null || fail "$u cannot sync after the big family moved"
done
eq "$(r bob contact list --customer "$big" --json | jq length)" "4099" "bob holds the family (without the deleted contact)"
holds_no_family alice contact "$big" "alice holds none of it"
eq "$(r alice contact list --json | jq length)" "1" "alice keeps her small account's contact"

# Released to the pool: the territory's reps see it again; then claimed.
r bob customer release "$big"
r bob sync >/dev/null
for u in alice bob mike; do
	ROVE_PULL_BATCH=700 r "$u" sync >/dev/null || fail "$u cannot sync after the release"
done
eq "$(r alice contact list --customer "$big" --json | jq length)" "4099" "alice sees the pool customer's family"
r alice customer claim "$big"
r alice sync >/dev/null
sync_all bob mike
holds_no_family bob contact "$big" "bob's copy left with the claim"
eq "$(r alice contact list --customer "$big" --json | jq length)" "4099" "alice holds it again"
eq "$(r mike contact list --json | jq length)" "4100" "the manager's replica is whole"
# A fresh replica of the new owner bootstraps it too.
rove -R "$T/alice2" init --server "$URL" --user alice --token "$(token_of alice)" 2>/dev/null
r alice2 sync >/dev/null
eq "$(r alice2 contact list --customer "$big" --json | jq length)" "4099" "a fresh replica gets the family"

# A family leaves a rep's scope and comes back while she is offline; a
# child deleted meanwhile (out of her sight) must not stay on her replica.
r alice sync >/dev/null
back=$(r alice customer add --name "Comes back")
kept=$(r alice contact add --customer "$back" --name "Stays")
dropped=$(r alice contact add --customer "$back" --name "Goes")
r alice sync >/dev/null
sync_all mike bob
r admin admin reassign --customer "$back" --to bob
r mike sync >/dev/null
r mike contact delete "$dropped"
r mike sync >/dev/null
r bob sync >/dev/null
r bob customer release "$back"
r bob sync >/dev/null
r alice sync >/dev/null
eq "$(r alice contact list --customer "$back" --json | jq -r '[.[].id] | sort | join(",")')" "$kept" \
	"the contact deleted while the family was away is gone from alice's replica"
# The replicas' indexes match their records after all of it.
for u in alice alice2 bob mike; do
	"${ROVE_INDEX_CHECK:?set ROVE_INDEX_CHECK}" "$T/$u" || fail "$u: the index check found problems"
done
echo "ok"
