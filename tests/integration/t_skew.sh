#!/usr/bin/env bash
# Laptops with wrong clocks (SPEC rule 8): a replica's clock follows every
# stamp it receives, so a change made after seeing another orders after it
# however slow or fast the laptop's clock is. Runs rove under libfaketime.
. "$(dirname "$0")/lib.sh"

need_faketime

server_setup
territories east
users alice:rep:east mike:manager:east
sync_all admin alice mike
# The fake clock is really seen.
eq "$(LD_PRELOAD=$FAKETIME_LIB FAKETIME=-40d date -u +%F)" "$(date -u -d '-40 days' +%F)" "libfaketime works"
c=$(r alice customer add --name "Slow clock customer")
r alice sync >/dev/null

for off in -40d +3d -400d; do
	# The manager edits; the owner, whose laptop is OFF away, syncs, sees
	# the manager's value, and changes it again: the owner's later change
	# wins everywhere.
	r mike sync >/dev/null
	r mike customer set "$c" address="manager $off"
	r mike sync >/dev/null
	at "$off" alice sync >/dev/null
	eq "$(r alice customer show "$c" --json | jq -r .address)" "manager $off" "alice sees the manager's edit ($off)"
	at "$off" alice customer set "$c" address="owner after $off"
	at "$off" alice sync >/dev/null
	sync_all mike admin
	at "$off" alice sync >/dev/null
	for u in alice mike admin; do
		eq "$(r "$u" customer show "$c" --json | jq -r .address)" "owner after $off" \
			"$u: the owner's later edit wins with a clock $off"
	done
done
# Claims and releases are decided by the server in the order they arrive,
# whatever the laptop's clock says: a release from a laptop 40 days slow,
# made before it saw the customer come back to it, takes effect. (carol's
# replica never ran with a fast clock: its clock is only 40 days slow.)
users carol:rep:east dave:rep:east
sync_all carol dave
d=$(at -40d carol customer add --name "Carol's customer")
at -40d carol sync >/dev/null
r admin sync >/dev/null
r admin admin reassign --customer "$d" --to dave
r admin admin reassign --customer "$d" --to carol
at -40d carol customer release "$d"
out=$(at -40d carol sync --json)
eq "$(jq .rejected <<<"$out")" "0" "the owner's release is accepted"
r admin sync >/dev/null
eq "$(r admin customer show "$d" --json | jq -r .owner)" "null" "the customer is in the pool"
# A claim from a slow laptop takes it from the pool likewise.
at -40d dave sync >/dev/null
at -40d dave customer claim "$d"
at -40d dave sync >/dev/null
r admin sync >/dev/null
eq "$(r admin customer show "$d" --json | jq -r .owner)" "dave" "the claim took effect"
# What a rep does now is dated by the replica's clock when the laptop's is
# behind it (it follows every stamp pulled from the server): a laptop 40
# days slow, or one whose clock says 1970 (a flat battery), dates a visit
# and a won deal today, and the server takes them.
today=$(date -u +%F)
for off in -40d "@1970-01-02 10:00:00"; do
	at "$off" alice sync >/dev/null
	v=$(at "$off" alice activity add --customer "$c" --kind visit --note "clock $off")
	eq "$(r alice activity show "$v" --json | jq -r .at | cut -c1-10)" "$today" "a visit made with a clock $off"
	o=$(at "$off" alice opportunity add --customer "$c" --title "Deal $off" --amount 100 --stage proposal)
	at "$off" alice opportunity stage "$o" won
	eq "$(r alice opportunity show "$o" --json | jq -r .closed_on)" "$today" "a deal won with a clock $off"
	out=$(at "$off" alice sync --json)
	eq "$(jq .rejected <<<"$out")" "0" "the server takes them ($off)"
	eq "$(r alice status --json | jq -r .last_sync | cut -c1-10)" "$today" "the last sync is dated today ($off)"
done
# A laptop whose clock ran a day fast once, and is right again: its
# replica's clock went a day ahead with it, and every change made then
# would carry tomorrow's stamp, re-stamped on arrival with the server's
# time - so an edit made offline before someone else's later edit would
# win over it. A sync that leaves nothing pending brings the replica's
# clock back to the server's time: the later edit wins (SPEC rule 8).
users erin:rep:east
sync_all erin
e=$(r erin customer add --name "Erin's customer")
r erin sync >/dev/null
at +1d erin customer set "$e" address="from tomorrow"
at +1d erin sync >/dev/null
r erin customer set "$e" address="erin offline, earlier"
r mike sync >/dev/null
sleep 1.1
r mike customer set "$e" address="mike, later"
r mike sync >/dev/null
r erin sync >/dev/null
sync_all mike admin
for u in erin mike admin; do
	eq "$(r "$u" customer show "$e" --json | jq -r .address)" "mike, later" \
		"$u: the manager's later edit wins over erin's earlier one after her clock was a day fast"
done

# A claim or release takes the server's stamp when it arrives (rule 5:
# the first to reach the server wins), later than the changes its author
# made offline after it. Those keep their own stamps: a manager's change
# made after them wins (rule 8). Attack ninety-six: the push stamped
# every later op of its replica anew past the claim's stamp, and a rep's
# offline edit, made before the manager's, overwrote it everywhere. The
# same when the claim went in an earlier request of the sync (one op a
# request: the replica then sends the rest as seen after the claim).
p=$(r admin customer add --name "Pool customer" --territory east)
sync_all admin alice mike
for how in claim release claim1; do
	case $how in
	claim*) r alice customer claim "$p" ;;
	release) r alice customer release "$p" --reason "back to the pool" ;;
	esac
	r alice customer set "$c" address="alice offline, $how"
	sleep 0.05
	r mike customer set "$c" address="mike later, $how"
	r mike sync >/dev/null
	if [ "$how" = claim1 ]; then ROVE_PUSH_BATCH=1 r alice sync >/dev/null; else r alice sync >/dev/null; fi
	sync_all mike admin alice
	for u in alice mike admin; do
		eq "$(r "$u" customer show "$c" --json | jq -r .address)" "mike later, $how" \
			"$u: the manager's later edit wins over an edit made offline after a $how"
	done
done
echo "ok"
