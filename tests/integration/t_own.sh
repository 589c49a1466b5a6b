#!/usr/bin/env bash
# One's own ops after a push (issue 17, push): the push answer says how
# the server kept each accepted op (its stamp, and the fields it set or
# changed), so the pull that follows names them by reference instead of
# sending them back whole. `rove sync --json` counts as pulled only what
# came from the server; what the server set (a customer's created_at, its
# ownership history) and others' writes still arrive, and the replica
# equals the server. A replica that lacks an op the server names as its own
# (copied back from an older copy) asks again and gets it whole.
. "$(dirname "$0")/lib.sh"

need_faketime

server_setup
territories east east/east.sh
users wang:rep:east.sh mike:manager:east
sync_all admin wang mike

# equal_server WHAT: wang's customers, and one customer's history, are the
# server's.
equal_server() {
	local all
	r admin sync >/dev/null
	all=$(r admin customer list --json)
	eq "$(r wang customer list --json | jq -c .)" "$(scope_filter_rep wang east.sh <<<"$all")" \
		"wang's replica equals the server ($1)"
	eq "$(r wang customer show "${own[0]}" --json | jq -c .)" \
		"$(r admin customer show "${own[0]}" --json | jq -c .)" "one customer, whole ($1)"
	eq "$(r wang pending --json)" "[]" "nothing pending ($1)"
}

# Three new customers, made on a laptop whose clock is two days behind:
# the server sets their created_at (and owner) by its own clock and adds
# an ownership record to each.
own=()
for i in 1 2 3; do
	own+=("$(at -2d wang customer add --name "Own $i" --phone "1370000000$i")")
done
out=$(r wang sync --json)
eq "$(jq .accepted <<<"$out")" "3" "three accepted"
eq "$(jq .pulled <<<"$out")" "3" "pulled: the server's three ownership records, not wang's own creates again"
equal_server "new customers"
r admin sync >/dev/null
ca=$(r admin customer show "${own[0]}" --json | jq -r .created_at)
[ "${ca:0:10}" == "$(date -u +%F)" ] || fail "the server's created_at is not today's: $ca"
eq "$(r wang customer show "${own[0]}" --json | jq -r .created_at)" "$ca" "the created_at the server kept"

# Wang's edit and the manager's concurrent one of the same customer: the
# manager's comes whole, wang's by reference, and the record holds both.
r mike sync >/dev/null
r mike customer set "${own[1]}" tier=customer
r mike sync >/dev/null
r wang customer set "${own[1]}" address="88 Century Ave"
out=$(r wang sync --json)
eq "$(jq .pulled <<<"$out")" "1" "pulled: the manager's edit alone"
eq "$(r wang customer show "${own[1]}" --json | jq -r '.tier + "/" + .address')" "customer/88 Century Ave" \
	"both edits"
equal_server "concurrent edits"

# Two ops on one record in one sync, the second queued before the first was
# answered: both by reference, one after the other.
r wang customer set "${own[2]}" tier=loyal
r wang customer set "${own[2]}" address="1 Bund Rd"
out=$(r wang sync --json)
eq "$(jq .pulled <<<"$out")" "0" "nothing pulled but wang's own two edits"
equal_server "two ops on one record"

# A replica copied back from an older copy: the server names an op of this
# replica (made after the copy) that the copy does not hold; the pull asks
# again for everything whole, and the copy catches up.
cp -a "$T/wang" "$T/wang.copy"
late=$(r wang customer add --name "Made after the copy" --phone 13700000099)
r wang sync >/dev/null
rm -rf "$T/wang"
mv "$T/wang.copy" "$T/wang"
r wang customer add --name "Made on the copy" --phone 13700000098 >/dev/null
out=$(r wang sync --json 2>"$T/err") || fail "the copy's sync failed: $(cat "$T/err")"
eq "$(jq .pulled <<<"$out")" "4" "pulled whole: the op the copy lacks, the copy's own, and their histories"
r wang customer show "$late" --json >/dev/null || fail "the copy lacks the customer made after it"
equal_server "a replica copied back"
echo "ok"
