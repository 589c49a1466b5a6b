#!/usr/bin/env bash
# Rule 8 after a restore from a copy taken long before the stamps given
# after it (attack thirty-six): roved's wall clock runs 3 days ahead, a
# copy of its database is taken, then 2 more hours pass (the wall 3 days
# and 2 hours ahead); cat (her laptop's clock as fast) writes an address,
# acknowledged, and max pulls it. The copy is put back under the right
# clock; max writes the address after having seen cat's write, then cat
# sends her acknowledged write again. Max's write must win.
# Until 2026-12-04 it did not: the restored server's clock was the
# copy's, and the stamp it had given cat's write, 2 hours past it, looked
# like a laptop's clock far ahead: stamped anew past max's. Now each push
# and pull answer carries the server's clock with a MAC under a key kept
# in the database (docs/PROTOCOL.md, "Proofs of the clock"); a replica
# sends back the newest it holds, and the restored server takes its own
# clock back from it, so the stamps it gave order where they did.
# t_restore_wall covers a copy within 5 minutes of the stamps after it.
. "$(dirname "$0")/lib.sh"
ROVE_CORRUPT=${ROVE_CORRUPT:?set ROVE_CORRUPT to the rove_corrupt binary}
need_faketime
server_init
restore_scene # the copy taken at +3d
# put_back COPY: roved stopped, its database replaced by COPY's (not
# started again). damage_key HEX: its proof key replaced by those bytes.
put_back() {
	server_stop
	rm -rf "$T/srv"
	cp -a "$1" "$T/srv"
}
KEY_HEX=$(printf 'clock:proof-key' | od -An -tx1 | tr -d ' \n')
damage_key() {
	"$ROVE_CORRUPT" "$T/srv" meta put "$KEY_HEX" "$1" >/dev/null
}
# Then two hours on, work the copy lacks.
server_start_at +74h
at +74h cat customer set "$c" address=address-cat
at +74h cat sync >/dev/null
r max sync >/dev/null
eq "$(r max customer show "$c" --json | jq -r .address)" "address-cat" "max has seen cat's write"

# The copy put back under the right clock.
put_back "$T/copy"
server_start
r max sync >/dev/null 2>&1 || true
r max customer set "$c" address=address-max # made after seeing cat's write
r max sync >/dev/null
at +74h cat sync >/dev/null 2>&1 || true # sends its acknowledged write again
sync_all admin cat max
got=$(r admin customer show "$c" --json | jq -r .address)
eq "$got" "address-max" "rule 8: max's write, made after seeing cat's, wins"
eq "$(r cat customer show "$c" --json | jq -r .address)" "address-max" "cat holds max's write"

# A damaged key (cut short) costs only the proofs given under it: roved
# says so and serves with a new one (attack thirty-nine: it refused to
# start, "malformed data"); a sync after it gets through.
server_stop
damage_key 01020304
# A backup of it copies it as it is, saying so (attack forty: silent).
"$ROVED_BIN" backup "$T/srv" "$T/dmg" 2>"$T/backup.err" || fail "backup: $(cat "$T/backup.err")"
grep -q "the key of proofs of the clock (meta clock:proof-key) is damaged" "$T/backup.err" ||
	fail "backup said nothing of the damaged key: $(cat "$T/backup.err")"
# A key of zeros is one anyone can know: damaged too (attack forty-three);
# and a copy with none is said as well.
damage_key "$(printf '00%.0s' $(seq 1 32))"
"$ROVED_BIN" backup "$T/srv" "$T/zero" 2>"$T/backup.err" || fail "backup: $(cat "$T/backup.err")"
grep -q "is damaged" "$T/backup.err" || fail "backup said nothing of a key of zeros: $(cat "$T/backup.err")"
eq "$(exit_status "$ROVED_BIN" check "$T/srv")" "1" "roved check of a key of zeros"
grep -q "clock:proof-key" "$T/out" || fail "check did not name the key: $(cat "$T/out")"
"$ROVE_CORRUPT" "$T/srv" meta delall "$KEY_HEX" >/dev/null
"$ROVED_BIN" backup "$T/srv" "$T/none" 2>"$T/backup.err" || fail "backup: $(cat "$T/backup.err")"
grep -q "holds no key of proofs of the clock" "$T/backup.err" ||
	fail "backup said nothing of a missing key: $(cat "$T/backup.err")"
damage_key 01020304
server_start
grep -q "the key of proofs of the clock (meta clock:proof-key) is damaged: a new one is made" "$T/roved.log" ||
	fail "no word of the damaged key: $(cat "$T/roved.log")"
r max customer set "$c" address=address-max-2
r max sync >/dev/null
r admin sync >/dev/null
eq "$(r admin customer show "$c" --json | jq -r .address)" "address-max-2" "a sync with a new key"

# Two restores, the first from a copy whose key is damaged (as a backup
# from before the keys): the replicas hold proofs under the old key,
# which the restored server cannot check, days past its clock. They
# kept them, dropping every lower proof of the new key, so that at the
# second restore (copy B, made under the new key) what max had seen
# could not be checked and his change lost to cat's again (attack forty).
# Now a push answer's proof replaces the one sent when that one did not
# check, and a recovery sends its proof even with nothing to push.
put_back "$T/copy"
damage_key 0102
server_start
for u in admin cat max; do r "$u" sync >/dev/null 2>&1 || r "$u" sync >/dev/null; done
server_stop
cp -a "$T/srv" "$T/copyB"
server_start
sleep 1
for i in 1 2 3 4 5; do r cat customer add --name "Other $i" >/dev/null; done
r cat sync >/dev/null
r cat customer set "$c" address=address-cat-b
r cat sync >/dev/null
r max sync >/dev/null
eq "$(r max customer show "$c" --json | jq -r .address)" "address-cat-b" "max has seen cat's write on copy A's server"
put_back "$T/copyB"
server_start
r max sync >/dev/null 2>&1 || true
r max customer set "$c" address=address-max-b # made after seeing cat's write
r max sync >/dev/null
r cat sync >/dev/null 2>&1 || true # sends its acknowledged write again
sync_all admin cat max
for u in admin cat max; do
	eq "$(r "$u" customer show "$c" --json | jq -r .address)" "address-max-b" "rule 8 after two restores, on $u's replica"
done
echo "ok: max's later write wins after a restore 2 hours back, and after two restores"
