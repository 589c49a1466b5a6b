#!/usr/bin/env bash
# roved compact drops deleted records (tombstones) whose delete it drops
# from the oplog: a deleted contact of a live customer, and a deleted
# customer's family (a contact, a deal), with every index entry for them
# (roved check stays clean); the deleted customer itself stays, with its
# two ownership records. What reads tombstones keeps working: a rep
# offline past the horizon who still holds the deleted customer and edits
# it, and adds a visit to it, is refused `deleted` as before compaction
# (SPEC rule 6; attack ninety-six: `not_owner` once the customer was
# dropped), the record does not come back, she loses it with the reset
# and keeps the rest of her pending work; the deleted customer's tax id
# is free; the analyst who held the family before converges on what a
# fresh analyst replica gets.
. "$(dirname "$0")/lib.sh"

command -v mdb_dump >/dev/null || fail "mdb_dump (lmdb-utils) is needed: run scripts/deps"
# held TABLE ID: how many keys of TABLE in the server's database name ID
# (mdb_dump: after the header, a key line then a value line).
held() {
	mdb_dump -s "$1" "$T/srv" | awk '/^HEADER=END/ {d = 1; next} d && ++n % 2 == 1' |
		grep -c "$(tr -d - <<<"$2")" || true
}

server_setup
territories east
users alice:rep:east bob:rep:east mike:manager:east ana:analyst
sync_all admin alice bob mike ana

gone=$(r alice customer add --name "Gone Co" --tax-id 91310000MA1FL0001R --territory east)
keep=$(r alice customer add --name "Kept Co" --territory east)
c_keep=$(r alice contact add --customer "$keep" --name "Kept buyer")
c_dead=$(r alice contact add --customer "$keep" --name "Dead buyer")
c_gone=$(r alice contact add --customer "$gone" --name "Gone buyer")
d_gone=$(r alice opportunity add --customer "$gone" --title "Gone deal" --amount 1000 --stage proposal)
sync_all alice mike ana

# alice goes offline past the horizon with pending work: an edit of the
# customer about to be deleted, a visit to it, and a customer of her own.
r alice customer set "$gone" phone=13800000001 >/dev/null
r alice activity add --customer "$gone" --kind visit --note "late visit" >/dev/null
mine=$(r alice customer add --name "Alice's own" --territory east)

# mike deletes the customer (its family with it) and one contact of the
# kept one; the analyst takes both deletes.
r mike customer delete "$gone" >/dev/null
r mike contact delete "$c_dead" >/dev/null
r mike customer set "$keep" phone=13800000002 >/dev/null # (the head stays)
r mike sync >/dev/null
r ana sync >/dev/null
eq "$(held records "$gone")" "1" "the deleted customer's tombstone before compaction"
eq "$(held records "$c_dead")" "1" "the deleted contact's tombstone before compaction"

"$ROVED_BIN" compact "$T/srv" --keep-days 0 2>"$T/err" || fail "compact: $(cat "$T/err")"
"$ROVED_BIN" check "$T/srv" >"$T/out" 2>&1 || fail "check after compaction: $(cat "$T/out")"
for id in "$c_dead" "$c_gone" "$d_gone"; do
	eq "$(held records "$id")" "0" "record $id dropped"
	eq "$(held children "$id")" "0" "children entries naming $id dropped"
	eq "$(held scoperec "$id")" "0" "scope entries naming $id dropped"
done
eq "$(held records "$gone")" "1" "the deleted customer is kept"
eq "$(held children "$gone")" "2" "its two ownership records are kept, the rest of its family dropped"
eq "$(held scoperec "$gone")" "0" "the deleted customer is in no scope"
eq "$(held records "$keep")" "1" "the live customer is kept"
eq "$(held records "$c_keep")" "1" "its live contact is kept"
grep -q "dropped 1 deleted record(s) and 2 of their families' record(s)" "$T/err" ||
	fail "compaction's account of deleted records: $(cat "$T/err" | tr "\n" "|")"
grep -q "kept 1 deleted customer(s) with their ownership history" "$T/err" ||
	fail "compaction's account of deleted customers kept: $(cat "$T/err" | tr "\n" "|")"

# alice comes back: her edit and her visit of the deleted customer are
# refused `deleted` (nothing brings it back), her own customer goes in,
# and the reset takes the deleted customer off her replica.
out=$(r alice sync --json) || fail "alice's sync after compaction"
eq "$(jq .accepted <<<"$out")" "1" "alice's own customer was accepted"
eq "$(r alice rejected --json | jq -r '[.[].reason] | join(",")')" "deleted,deleted" \
	"the edit and the visit of the deleted customer are refused as deleted"
exits_as alice 1 customer show "$gone"
r alice customer show "$mine" >/dev/null || fail "alice's own customer is gone"
eq "$(r alice status --json | jq .pending)" "0" "nothing left pending"
eq "$(r mike conflicts --json | jq -r '[.[] | select(.author == "alice") | .reason] | join(",")')" \
	"deleted,deleted" "the manager lists alice's refused changes"
eq "$(held records "$gone")" "1" "the deleted customer is kept"
eq "$(held children "$gone")" "2" "no visit came back to the deleted customer"
r admin sync >/dev/null
exits_as admin 1 customer show "$gone"
want=$(r admin customer list --json | jq -c '[.[] | select(.territory == "east") | .id] | sort')
eq "$(r alice customer list --json | jq -c '[.[].id] | sort')" "$want" "alice converged on the server's customers"
eq "$(r alice contact list --json | jq -c '[.[].id] | sort')" "[\"$c_keep\"]" "alice holds the live contact alone"

# The deleted customer's tax id is free.
new=$(r bob customer add --name "New Co" --tax-id 91310000MA1FL0001R --territory east)
out=$(r bob sync --json)
eq "$(jq .accepted <<<"$out")" "1" "the deleted customer's tax id is taken again"
r bob customer show "$new" >/dev/null || fail "bob's customer with the freed tax id"

# The analyst, current before compaction, converges on a fresh analyst's
# replica: the dropped family's live records leave hers too.
r ana sync >/dev/null
mkdir -p "$T/tokens"
rove -R "$T/ana2" init --server "$URL" --user ana --token "$(token_of ana)" 2>/dev/null
r ana2 sync >/dev/null
for kind in customer contact opportunity activity; do
	eq "$(r ana "$kind" list --json | jq -c '[.[].id] | sort')" "$(r ana2 "$kind" list --json | jq -c '[.[].id] | sort')" \
		"the analyst's ${kind}s equal a fresh replica's"
done
r ana contact show "$c_gone" >/dev/null 2>&1 && fail "the analyst still holds the dropped customer's contact"
"$ROVED_BIN" check "$T/srv" >"$T/out" 2>&1 || fail "check at the end: $(cat "$T/out")"
echo "ok"
