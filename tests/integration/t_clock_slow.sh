#!/usr/bin/env bash
# A laptop whose clock is slow (SPEC rule 8): its changes made after
# another's, in the server's time, win, though it had not seen that one;
# what it dates (a visit's time, the last sync) is the server's time.
# The last sync measures how far the laptop is behind the server's clock,
# and within the same boot the time since (CLOCK_BOOTTIME, which no one
# sets) added to the server's then is "now" on this replica, whatever
# the wall clock says or is set to meanwhile. A laptop behind by minutes
# or hours lost with a later edit before, and said it last synced hours
# ago (attack one hundred and one). Runs rove under libfaketime.
. "$(dirname "$0")/lib.sh"

need_faketime

server_setup
territories east
users alice:rep:east mike:manager:east
sync_all admin mike

for off in -3h -12m; do
	c=$(at "$off" alice customer add --name "Slow clock $off")
	at "$off" alice sync >/dev/null
	r mike sync >/dev/null
	# The manager edits, then the owner, offline and without having seen
	# it, edits the same field a moment later (real time).
	r mike customer set "$c" address="manager first $off"
	r mike sync >/dev/null
	sleep 1.1
	at "$off" alice customer set "$c" address="owner later $off"
	at "$off" alice sync >/dev/null
	sync_all mike admin
	at "$off" alice sync >/dev/null
	for u in alice mike admin; do
		eq "$(r "$u" customer show "$c" --json | jq -r .address)" "owner later $off" \
			"$u: the owner's later edit wins with a laptop clock $off"
	done
	# The last sync, and a visit made now, are dated by the server's time.
	last=$(at "$off" alice status --json | jq -r .last_sync)
	diff=$(($(date -u +%s) - $(date -u -d "$last" +%s)))
	[ "${diff#-}" -le 120 ] || fail "the last sync is dated $last, $diff s from now (clock $off)"
	at "$off" alice activity add --customer "$c" --kind call --note "now" >/dev/null
	at "$off" alice sync >/dev/null
	r admin sync >/dev/null
	when=$(r admin activity list --customer "$c" --json | jq -r 'map(select(.note == "now")) | .[0].at')
	[ "$when" != null ] || fail "the visit is not on the server"
	diff=$(($(date -u +%s) - $(date -u -d "$when" +%s)))
	[ "${diff#-}" -le 120 ] || fail "a visit made now is dated $when, $diff s from now (clock $off)"
done
# The status says how far behind the laptop is, as it says ahead.
at -3h alice status | grep_q "behind" || fail "the status does not say the clock is behind: $(at -3h alice status)"
behind=$(at -3h alice status --json | jq '.clock_behind_ms / 60000 | floor')
[ "$behind" -ge 178 ] && [ "$behind" -le 181 ] || fail "clock_behind_ms says $behind minutes, not 180"
echo ok
