#!/usr/bin/env bash
# Rule 8 after a restore under a wall clock set back: roved's wall clock
# runs 3 days ahead; a copy of its database is taken; cat (laptop also
# +3d) writes an address, acknowledged; max pulls it. The wall clock is
# set back (-2d) and the copy put back; max writes the address after
# having seen cat's write, and cat sends its acknowledged write again.
# Max's write must win. Until 2026-12-04 roved measured "too far ahead"
# against its wall clock alone: it took max's stamp (seconds past cat's)
# for a laptop's 3 days ahead and stamped it anew with the restored
# copy's clock, below cat's, which won when sent again (model check seed
# 944408420). It now measures against the server's time, which a wall
# clock set back does not take back (server/engine.c, stamp_op). A copy
# more than 5 minutes of server time older than the stamps given after
# it (attack thirty-six) needs the proofs of the clock: t_restore_gap.
. "$(dirname "$0")/lib.sh"
need_faketime
server_init
restore_scene # the copy taken at +3d
# Then work the copy lacks.
server_start_at +3d
sleep 1
at +3d cat customer set "$c" address=address-cat
at +3d cat sync >/dev/null
r max sync >/dev/null
eq "$(r max customer show "$c" --json | jq -r .address)" "address-cat" "max has seen cat's write"

# Wall clock set back two days, the copy put back.
server_stop
rm -rf "$T/srv"
cp -a "$T/copy" "$T/srv"
server_start_at -2d
r max sync >/dev/null 2>&1
r max customer set "$c" address=address-max # made after seeing cat's write
r max sync >/dev/null
at +3d cat sync >/dev/null 2>&1 # sends its acknowledged write again
sync_all admin cat max
got=$(r admin customer show "$c" --json | jq -r .address)
eq "$got" "address-max" "rule 8: max's write, made after seeing cat's, wins"
echo "ok: max's later write wins"
