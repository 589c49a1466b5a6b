#!/usr/bin/env bash
# The replica's indexes (client/replica_index.c: children by customer,
# activities, notices and deals by date) stay right through every kind of
# write: local changes, pending ones the server then refuses (a child
# moved to another customer), pulls, a manager deleting a customer's
# family, reset snapshots (one killed half way), an older replica that has
# none yet. After each step, on each replica: rove_index_check compares
# the indexes with the records, and every list read through an index
# (--customer, --sort by an ordered field) equals the same list made from
# a full scan.
. "$(dirname "$0")/lib.sh"
ROVE_INDEX_CHECK=${ROVE_INDEX_CHECK:?set ROVE_INDEX_CHECK to the rove_index_check binary}
ROVE_FORGE=${ROVE_FORGE:?set ROVE_FORGE to the rove_forge binary}

# same NAME: replica NAME's indexes match its records, and its lists read
# through them match full scans. Under the sanitizers (ROVE_SANITIZED=1)
# the lists are compared at every other call (each comparison is some
# forty commands and as many jq runs: this test was the suite's costliest
# there; CI runs it there alone); the index check runs at each. The
# release build's whole suite (scripts/test) compares them all.
sames=0
same() {
	local u=$1 c coll by scan
	"$ROVE_INDEX_CHECK" "$T/$u" || fail "$u: the index check found problems"
	sames=$((sames + 1))
	[ "${ROVE_SANITIZED:-0}" = 1 ] && [ $((sames % 2)) = 0 ] && return 0
	_same "$u"
	# (The lists built the base's index if a snapshot had left none.)
	"$ROVE_INDEX_CHECK" "$T/$u" || fail "$u: the index check found problems after the lists"
}
_same() {
	local u=$1 c coll by custs
	local -A scan # a customer's ids as the scan finds them, in JSON
	custs=$(r "$u" customer list --json | jq -r '.[].id')
	for coll in contact opportunity contract activity; do
		r "$u" "$coll" list --json >"$T/all.json"
		scan=()
		while IFS=$'\t' read -r c by; do
			scan[$c]=$by
		done < <(jq -r 'group_by(.customer)[] | "\(.[0].customer)\t\(map(.id) | tojson)"' "$T/all.json")
		for c in $custs $(jq -r '.[].customer' "$T/all.json" | sort -u); do
			by=$(r "$u" "$coll" list --customer "$c" --json | jq -c '[.[].id]')
			eq "$by" "${scan[$c]:-[]}" "$u: $coll list --customer $c"
		done
	done
	# The card's order: a customer's activities newest first.
	r "$u" activity list --json >"$T/all.json"
	scan=()
	while IFS=$'\t' read -r c by; do
		scan[$c]=$by
	done < <(jq -r 'group_by(.customer)[] | "\(.[0].customer)\t\(
		(map(select(.at != null)) | sort_by(.at, .id) | reverse) + (map(select(.at == null)) | sort_by(.id) | reverse) |
		map(.id) | tojson)"' "$T/all.json")
	for c in $custs; do
		by=$(r "$u" activity list --customer "$c" --sort at:desc --json | jq -c '[.[].id]')
		eq "$by" "${scan[$c]:-[]}" "$u: activity list --customer $c --sort at:desc"
	done
	# Whole collections in an ordered field's order, both ways; a page.
	r "$u" activity list --json >"$T/all.json"
	eq "$(r "$u" activity list --sort at:desc --json | jq -c '[.[].id]')" \
		"$(jq -c '(map(select(.at != null)) | sort_by(.at, .id) | reverse) + (map(select(.at == null)) | sort_by(.id) | reverse) | map(.id)' "$T/all.json")" \
		"$u: activity list --sort at:desc"
	eq "$(r "$u" activity list --sort at --limit 3 --json | jq -c '[.[].id]')" \
		"$(jq -c '(map(select(.at != null)) | sort_by(.at, .id)) + (map(select(.at == null)) | sort_by(.id)) | map(.id) | .[:3]' "$T/all.json")" \
		"$u: activity list --sort at --limit 3"
	r "$u" opportunity list --json >"$T/all.json"
	eq "$(r "$u" opportunity list --sort expected_close --json | jq -c '[.[].id]')" \
		"$(jq -c '(map(select(.expected_close != null)) | sort_by(.expected_close, .id)) + (map(select(.expected_close == null)) | sort_by(.id)) | map(.id)' "$T/all.json")" \
		"$u: opportunity list --sort expected_close"
	# Customers in the orders of rove ui's sorts (name and tier folded to
	# lower case, as --sort compares them), both ways, and a page; a
	# search read through the kept text equals the scan's.
	r "$u" customer list --json >"$T/all.json"
	local f w jqf
	for f in name tier created_at last_activity_at; do
		jqf="(.$f | if type == \"string\" then ascii_downcase else . end)"
		w=$(jq -c "(map(select(.$f != null)) | sort_by($jqf, .id)) + (map(select(.$f == null)) | sort_by(.id)) | map(.id)" "$T/all.json")
		eq "$(r "$u" customer list --sort "$f" --json | jq -c '[.[].id]')" "$w" "$u: customer list --sort $f"
		w=$(jq -c "(map(select(.$f != null)) | sort_by($jqf, .id) | reverse) + (map(select(.$f == null)) | sort_by(.id) | reverse) | map(.id)" "$T/all.json")
		eq "$(r "$u" customer list --sort "$f:desc" --json | jq -c '[.[].id]')" "$w" "$u: customer list --sort $f:desc"
	done
	eq "$(r "$u" customer list --sort name --limit 2 --json | jq -c '[.[].id]')" \
		"$(jq -c 'sort_by((.name | ascii_downcase), .id) | map(.id) | .[:2]' "$T/all.json")" "$u: customer list --sort name --limit 2"
	for f in al ALPHA "138 0000 0002" 8613800000001 zz; do
		w=$(jq -c --arg q "$f" '[.[] | select([.name, .phone, .address, .territory, .owner, .tier] | map(select(. != null) | ascii_downcase | gsub("[^0-9a-z]"; "")) | any(contains($q | ascii_downcase | gsub("[^0-9a-z]"; "") | ltrimstr("86")))) | .id]' "$T/all.json")
		eq "$(r "$u" customer list --search "$f" --json | jq -c '[.[].id]')" "$w" "$u: customer list --search '$f'"
	done
}

server_setup
territories east west
users alice:rep:east bob:rep:east mike:manager:east
sync_all admin alice bob mike

# Local writes, pending: the view's index.
a=$(r alice customer add --name "Alpha" --phone 13800000001)
b=$(r alice customer add --name "Beta" --phone 13800000002)
c1=$(r alice contact add --customer "$a" --name "Ann")
c2=$(r alice contact add --customer "$a" --name "Andy")
c3=$(r alice contact add --customer "$b" --name "Ben")
month=$(date -u +%Y-%m)
d1=$(r alice opportunity add --customer "$a" --title "Pumps" --amount 1000 --expected-close "$month-20")
d2=$(r alice opportunity add --customer "$b" --title "Valves" --amount 500 --expected-close 2031-01-05)
d3=$(r alice opportunity add --customer "$b" --title "Someday")
r alice contract add --customer "$a" --number "C-1" --amount 900 --signed-on 2026-01-02 >/dev/null
for i in 1 2 3; do
	r alice activity add --customer "$a" --kind visit --at "2026-0$i-1${i}T09:00:00Z" --note "visit $i" >/dev/null
done
r alice activity add --customer "$b" --kind note --note "no time" >/dev/null
r alice activity add --customer "$b" --kind call --at 2026-02-11T09:00:00Z --note "same time as a visit" >/dev/null
same alice
eq "$(r alice contact list --customer "$a" --json | jq length)" "2" "Alpha has two contacts"

# Pushed and pulled: the base's index, on alice's and on the others'.
r alice sync >/dev/null
sync_all bob mike
for u in alice mike; do same "$u"; done

# Edits pending on top of the base: a deal's date changes (it moves in
# the order), a contact is renamed (its entries stay).
r alice opportunity set "$d2" expected_close="$month-02"
r alice contact set "$c1" name="Ann Lee"
same alice
eq "$(r alice opportunity list --sort expected_close --limit 1 --json | jq -r '.[0].id')" "$d2" \
	"the deal moved up while its change is pending"

# A child moved to another customer: the command line refuses it (the
# server would), an older rove could have queued it. While pending, it is
# Beta's on alice's replica; the server refuses it and it is Alpha's again.
"$ROVE_FORGE" "$T/alice" update 2 "$c2" customer="$b"
same alice
eq "$(r alice contact list --customer "$a" --json | jq -c '[.[].id]')" "[\"$c1\"]" "the moved contact left Alpha's list"
eq "$(r alice contact list --customer "$b" --json | jq -r '[.[].id] | sort | join(" ")')" \
	"$(printf '%s\n' "$c2" "$c3" | sort | tr '\n' ' ' | sed 's/ $//')" "and is on Beta's"
r alice sync >/dev/null 2>&1 || true
same alice
eq "$(r alice contact list --customer "$a" --json | jq length)" "2" "refused: the contact is Alpha's again"

# Bob (same territory, the pool is not his) adds nothing; the manager
# deletes a deal, an activity, then Alpha and its whole family.
sync_all mike
act=$(r mike activity list --customer "$b" --json | jq -r '.[0].id')
r mike activity delete "$act"
r mike opportunity delete "$d3"
r mike sync >/dev/null
sync_all alice bob
for u in alice mike; do same "$u"; done
r mike customer delete "$a"
same mike
# Until the sync, the replica shows the server's state with the delete
# on top: the server deletes the family with the customer (rule 6), so
# its children are in no list, export or card either (attack thirty-one:
# the reports left them out, the lists and exports did not).
holds_no_family mike contact "$a" "a customer deleted, not yet sent"
for coll in contact:contacts opportunity:opportunities activity:activities; do
	eq "$(r mike "${coll%%:*}" list --json | jq --arg a "$a" '[.[] | select(.customer == $a)] | length')" "0" \
		"${coll%%:*} list after the delete of their customer"
	eq "$(r mike export "${coll#*:}" --json | jq --arg a "$a" '[.[] | select(.customer == $a)] | length')" \
		"0" "$coll export after the delete of their customer"
done
exits_as mike 1 contact show "$c1"
grep -q "is gone with its customer, deleted in this replica by a change not synced yet" "$T/err" ||
	fail "a deleted customer's contact shown, or not said why: $(cat "$T/err")"
r mike sync >/dev/null
sync_all alice bob mike
for u in alice mike; do same "$u"; done
holds_no_family alice contact "$a" "Alpha's family is gone"

# Reset snapshots: a new territory makes alice's scope change. One sync
# is killed half way through the snapshot (built aside), then finished;
# her pending change rides on top of the new base.
west1=$(r mike customer add --name "Gamma" --phone 13800000003)
r mike contact add --customer "$west1" --name "Gus" >/dev/null
r mike sync >/dev/null
r alice contact set "$c3" name="Ben Pending"
territory south
r admin admin assign alice south
ROVE_PULL_BATCH=2 "$ROVE_BIN" -R "$T/alice" sync >/dev/null 2>&1 &
pid=$!
sleep 0.1
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
same alice
ROVE_PULL_BATCH=3 r alice sync >/dev/null
same alice
eq "$(r alice contact show "$c3" --json | jq -r .name)" "Ben Pending" "the pending change survived the reset"

# A fresh replica bootstraps (a snapshot becomes its base).
rove -R "$T/alice2" init --server "$URL" --user alice --token "$(token_of alice)" 2>/dev/null
ROVE_PULL_BATCH=3 r alice2 sync >/dev/null
same alice2

# An older replica (made before the indexes): built once when opened.
"$ROVE_INDEX_CHECK" "$T/mike" --forget
r mike contact list --customer "$b" --json >/dev/null
same mike

# A damaged index is caught, both ways: an entry missing, one left over.
for t in index0 index1; do "$ROVE_CORRUPT" "$T/mike" "$t" del 0 >/dev/null 2>&1 && break; done
if "$ROVE_INDEX_CHECK" "$T/mike" 2>"$T/check.err"; then fail "the check missed a missing index entry"; fi
grep -q "missing entry" "$T/check.err" || fail "the check did not say what it found: $(cat "$T/check.err")"
"$ROVE_INDEX_CHECK" "$T/bob" --forget
r bob status >/dev/null
"$ROVE_INDEX_CHECK" "$T/bob" || fail "bob: an index made anew is not right"
"$ROVE_CORRUPT" "$T/bob" indexv put "01$(printf '%032d' 0)02$(printf '%032d' 0)" - >/dev/null
if "$ROVE_INDEX_CHECK" "$T/bob" 2>"$T/check.err"; then fail "the check missed a stray index entry"; fi
grep -q "entry of no record" "$T/check.err" || fail "the check did not say what it found: $(cat "$T/check.err")"
echo "ok"
