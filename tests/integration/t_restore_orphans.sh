#!/usr/bin/env bash
# What a manager's or admin's replica keeps after a restore ("orphans":
# others' writes the restored server lacks, sent as its own a day later,
# ROVE_ORPHAN_WAIT here; t_restore_others), against attack fifty-six:
# 1. a manager's delete of a customer made and deleted after the copy:
#    the admin's orphans made the customer again, alive; the delete, which
#    came before it, was refused, waited for it and deletes it;
# 2. an orphan seen on the server after the recovery, then deleted there
#    and its tombstone compacted away: made anew a day later;
# 3. the manager's own contact, deal and note on an orphan customer,
#    refused as the server lacked it when he sent them again, wait for it
#    and go again, on their own, once it is back (OPERATIONS.md,
#    "Restore"; the orphan hunt found them left refused);
# 4. an orphan customer sent before the dealer it names: refused (lee,
#    another manager, made both; his laptop is lost too);
# 5. targets left out (one set again holds the deletion mark at 0, which
#    was taken as deleted);
# 6. an open deal made anew with its old owner on a customer another rep
#    claimed since (rule 14: an open deal is its customer's owner's);
# 7. attack fifty-seven: li, a rep who knew the id of a customer of
#    wang's the restore lost, made one under it with a modified client
#    (rove_probe) before the orphans went; the managers' orphan creates
#    found it "made already" and said nothing. Now such a create, finding
#    a customer of another owner, is refused and kept where it is seen.
. "$(dirname "$0")/lib.sh"

server_setup
territories east
users wang:rep:east li:rep:east mike:manager:east lee:manager:east
k1=$(r wang customer add --name "Before the copy" --phone 13900000001)
pool=$(r mike customer add --name "In the pool" --territory east --owner "" --phone 13900000005)
sync_all wang li mike admin
server_stop
cp -a "$T/srv" "$T/copy"
server_start

# 1: wang's customer, deleted by mike; the admin last synced before that.
gone=$(r wang customer add --name "Deleted by mike" --phone 13900000002)
# 2: wang's edit of a customer the copy holds.
r wang customer set "$k1" address="Wang's address" >/dev/null
# 3: wang's customer, on which mike works.
c3=$(r wang customer add --name "Mike works on it" --phone 13900000003)
# 7: wang's customer whose id li knows.
c5=$(r wang customer add --name "Wang's, taken" --phone 13900000007)
k5=$(r wang contact add --customer "$c5" --name "Wang's contact on it")
# 6: wang claims the pool's customer and opens a deal on it.
r wang sync >/dev/null
r wang customer claim "$pool" >/dev/null
open_deal=$(r wang opportunity add --customer "$pool" --title "Wang's open deal" --amount 5 --stage proposal)
r wang sync >/dev/null
# 4: a dealer and a customer naming it, by lee.
dealer=$(r lee dealer add --name "Lee's dealer" --territory east)
c4=$(r lee customer add --name "With a dealer" --territory east --owner wang --phone 13900000004)
r lee customer set "$c4" dealer="$dealer" >/dev/null
# 5: lee's target for wang.
r lee target set wang --period 2026-12 --amount 9000 >/dev/null
r lee sync >/dev/null
sync_all mike admin
r mike customer delete "$gone" >/dev/null
r mike contact add --customer "$c3" --name "Mike's contact" >/dev/null
r mike activity add --customer "$c3" --kind note --note "Mike's note" >/dev/null
deal=$(r mike opportunity add --customer "$c3" --title "Mike's deal" --amount 10)
r mike sync >/dev/null
r mike opportunity stage "$deal" won >/dev/null
r mike sync >/dev/null

# wang's and lee's laptops are lost; the server is restored from the copy.
rm -rf "$T/wang" "$T/lee"
server_stop
rm -rf "$T/srv"
cp -a "$T/copy" "$T/srv"
server_start
r mike sync >/dev/null 2>&1 || r mike sync >/dev/null
r admin sync >/dev/null 2>&1 || r admin sync >/dev/null
# 6: li claims it (the copy has it in the pool).
r li sync >/dev/null 2>&1 || r li sync >/dev/null
r li customer claim "$pool" >/dev/null
r li sync >/dev/null
# 7: li makes a customer under the id of wang's the restore lost.
probe li push create 1 "$c5" name=Taken >/dev/null
# 2: the admin deletes the customer wang edited; the tombstone goes.
r admin customer delete "$k1" >/dev/null
r admin sync >/dev/null
r admin customer add --name "After it" --territory east --owner mike >/dev/null
r admin sync >/dev/null
"$ROVED_BIN" compact "$T/srv" --keep-days 0 2>"$T/err" || fail "compact: $(cat "$T/err")"
# mike's day ends first, then the admin's; mike syncs after it.
ROVE_ORPHAN_WAIT=0 r mike sync >/dev/null
ROVE_ORPHAN_WAIT=0 r admin sync >/dev/null
ROVE_ORPHAN_WAIT=0 r mike sync >/dev/null
ROVE_ORPHAN_WAIT=0 r admin sync >/dev/null
r mike sync >/dev/null
# 1, 3: mike's delete, contact, note, deal and its stage, refused when
# they came before their customers, went again on their own, in order,
# once the orphans had made them: none is left refused.
eq "$(r mike rejected --json | jq -c '[.[] | select(.reason == "not_owner")]')" '[]' \
	"1, 3: mike's changes that came before their customers, sent again"
eq "$(r mike rejected --all --json | jq -c '[.[] | select(.reason == "not_owner") | "\(.kind) \(.collection) \(.dismissed)"]')" \
	'["delete customer true","create contact true","create activity true","create opportunity true","update opportunity true"]' \
	"1, 3: mike's refusals, dismissed as sent again"
r admin sync >/dev/null

r admin customer show "$gone" >/dev/null 2>&1 && fail "1: mike's delete undone: the customer is alive"
r admin customer show "$k1" >/dev/null 2>&1 && fail "2: the admin's delete undone: the customer is alive"
eq "$(r admin customer show "$c3" --json | jq -r .owner)" "wang" "3: wang's customer made again"
eq "$(r admin contact list --customer "$c3" --json | jq -r '.[].name')" "Mike's contact" "3: mike's contact on it"
eq "$(r admin activity list --customer "$c3" --json | jq -r '.[].note')" "Mike's note" "3: mike's note on it"
eq "$(r admin opportunity show "$deal" --json | jq -r .stage)" "won" "3: mike's deal on it, won"
eq "$(r admin dealer list --json | jq -r '.[].name')" "Lee's dealer" "4: lee's dealer"
eq "$(r admin target list --json | jq -c '[.[] | [.user, .amount]]')" '[["wang",900000]]' "5: lee's target"
eq "$(r admin opportunity show "$open_deal" --json | jq -r '"\(.title) \(.owner)"')" "Wang's open deal li" \
	"6: the open deal, its customer's owner's"
eq "$(r admin customer show "$c4" --json | jq -r .dealer)" "$dealer" "4: the customer with its dealer"
for u in mike admin; do
	eq "$(r "$u" rejected --json | jq -c '[.[] | select(.dismissed | not) | [.kind, .id, .detail]]')" \
		"[[\"create\",\"$c5\",\"record already exists, with another owner\"],[\"create\",\"$k5\",\"record already exists, with another owner\"]]" \
		"7: $u's wang's customer li took, and its contact, kept as refused; nothing else"
done
eq "$(r admin customer show "$c5" --json | jq -c '[.name, .owner, .phone]')" '["Taken","li",null]' \
	"7: nothing of wang's merged into li's"
r admin contact show "$k5" >/dev/null 2>&1 && fail "7: wang's contact made under li's customer"
for u in mike admin; do
	eq "$(r "$u" status --json | jq .pending)" "0" "$u: nothing pending"
done
echo "ok"
