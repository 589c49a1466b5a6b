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

# A laptop whose clock reads before 1970 (a reset clock in a zone west of
# UTC) reads as 1970, not as the end of time (attack one hundred and
# seven: every visit, won deal and the last sync refused as invalid).
users carl:rep:east
old="@1969-12-31 23:59:00"
at "$old" carl sync >/dev/null
cc=$(at "$old" carl customer add --name "Before 1970")
at "$old" carl activity add --customer "$cc" --kind visit --note "at 1969" >/dev/null ||
	fail "a visit made on a clock before 1970"
at "$old" carl sync >/dev/null 2>"$T/err"
[ ! -s "$T/err" ] || fail "a sync on a clock before 1970 warned: $(cat "$T/err")"
last=$(at "$old" carl status --json | jq -r .last_sync)
[ "$last" != null ] || fail "the last sync on a clock before 1970 is not noted"
case $cc in ffffffff*) fail "an id made on a clock before 1970 sorts as the newest: $cc" ;; esac

# A server that ran ahead and was put right: the sync that finds its clock
# behind the newest change it sent makes the replica forget the lag it
# measured then (attack one hundred and seven: visits dated days ahead,
# refused, until real time caught up).
server_stop
server_start_at +3d
r mike sync >/dev/null
r mike customer set "$c" address="while the server ran ahead"
r mike sync >/dev/null
at "-1m" alice sync >/dev/null
[ "$(at "-1m" alice status --json | jq '.clock_behind_ms // 0 | . / 86400000 | floor')" = 3 ] ||
	fail "the lag behind a server 3 days ahead is not measured: $(at "-1m" alice status --json)"
server_stop
server_start
at "-1m" alice sync >/dev/null 2>"$T/err"
grep_q "behind the newest change it sent" "$T/err" || fail "the server's clock put right is not said: $(cat "$T/err")"
eq "$(at "-1m" alice status --json | jq '.clock_behind_ms // 0')" "0" "the lag measured before is forgotten"
echo ok
