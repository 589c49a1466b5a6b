#!/usr/bin/env bash
# Owners sent again after a restore that reaches past a replica's journal
# (attack forty-one): customers made after the copy, whose ops the
# replicas' journals (3 ops here, ROVE_JOURNAL_OPS) no longer hold, are
# created anew from what each replica held. The owner is the server's to
# set, so it was left out, and each got the default owner of its
# author: a manager's customer made for alice became the manager's, one
# he put in the pool too, an admin's made for alice went to the pool,
# and one alice released came back as hers, from where bob could claim
# the admin's. Attack forty-three: a manager's pool customer alice had
# claimed came back as his, one alice released and bob claimed and
# released again came back as hers, and one she released that mike moved
# to another territory came back as his. Now a customer created anew
# keeps the owner the replica knew: a manager's or admin's create names
# it (the pool too), and a rep's create of one in the pool is followed
# by its release.
. "$(dirname "$0")/lib.sh"

server_setup
territories east east/east.b
users alice:rep:east bob:rep:east mike:manager:east
sync_all admin alice bob mike
server_stop
cp -a "$T/srv" "$T/copy"
server_start

export ROVE_JOURNAL_OPS=3
m_alice=$(r mike customer add --name "Mike's, for alice" --territory east --owner alice)
m_pool=$(r mike customer add --name "Mike's, to the pool" --territory east --owner "")
m_own=$(r mike customer add --name "Mike's own" --territory east)
a_alice=$(r admin customer add --name "Admin's, for alice" --territory east --owner alice)
x_rel=$(r alice customer add --name "Alice's, released")
x_own=$(r alice customer add --name "Alice's own")
m_claimed=$(r mike customer add --name "Mike's pool, claimed" --territory east --owner "")
x_bob=$(r alice customer add --name "Alice's, bob's, pool")
x_moved=$(r alice customer add --name "Alice's, moved")
sync_all mike admin alice
r alice customer release "$x_rel" --reason "moved away" >/dev/null
r alice customer claim "$m_claimed" >/dev/null
r alice customer release "$x_bob" --reason "not for me" >/dev/null
r alice customer release "$x_moved" --reason "other side" >/dev/null
r alice sync >/dev/null
r bob sync >/dev/null
r bob customer claim "$x_bob" >/dev/null
r bob sync >/dev/null
r bob customer release "$x_bob" --reason "nor for me" >/dev/null
r bob sync >/dev/null
r mike sync >/dev/null
r mike customer set "$x_moved" territory=east.b >/dev/null
r mike sync >/dev/null
# Later work pushes those ops out of every journal.
for i in 1 2 3 4; do
	r mike customer add --name "M filler $i" --territory east >/dev/null
	r admin customer add --name "Ad filler $i" --territory east >/dev/null
	r alice customer add --name "A filler $i" >/dev/null
done
sync_all mike admin alice bob
owners() {
	local id
	for id in "$m_alice" "$m_pool" "$m_own" "$a_alice" "$x_rel" "$x_own" "$m_claimed" "$x_bob" "$x_moved"; do
		r "$1" customer show "$id" --json | jq -r '.owner // "(pool)"'
	done | paste -sd' '
}
want="alice (pool) mike alice (pool) alice alice (pool) (pool)"
eq "$(owners admin)" "$want" "the owners before the restore"

server_stop
rm -rf "$T/srv"
cp -a "$T/copy" "$T/srv"
server_start
for u in alice mike admin bob; do r "$u" sync >/dev/null 2>&1 || r "$u" sync >/dev/null; done
sync_all alice mike admin bob
eq "$(owners admin)" "$want" "the owners after the restore, as the replicas named them"
# bob, a rep of east, sees the pool's two and none of the others.
got=$(r bob customer list --json | jq -r '.[].id' | grep -xF -e "$m_alice" -e "$m_pool" -e "$m_own" -e "$a_alice" \
	-e "$x_rel" -e "$x_own" -e "$m_claimed" -e "$x_bob" -e "$x_moved" | sort | paste -sd' ')
eq "$got" "$(printf '%s\n' "$m_pool" "$x_rel" "$x_bob" | sort | paste -sd' ')" "bob sees east's pool only"
eq "$(r admin customer show "$x_moved" --json | jq -r .territory)" "east.b" "the moved one where mike moved it"
eq "$(r admin customer history "$x_rel" --json | jq -r '[.[] | select(.event == "release")] | last | .reason')" \
	"moved away" "the release's reason in the history"
# Nobody else may take what alice owns.
r bob customer claim "$a_alice" >/dev/null 2>&1 || true
r bob sync >/dev/null 2>&1 || true
r admin sync >/dev/null
eq "$(r admin customer show "$a_alice" --json | jq -r .owner)" "alice" "bob cannot claim alice's customer"
for u in alice mike admin; do
	eq "$(r "$u" rejected --json | jq length)" "0" "$u: nothing refused"
done
echo "ok"
