#!/usr/bin/env bash
# A laptop whose clock is consistently fast (SPEC rules 8 and 13): at each
# sync the replica learns how far its clock is ahead of the server's, and
# the "now" it gives what the server checks against its own clock - a
# visit's time, a won deal's day, an import's visits - is the server's,
# not a time the server would refuse as in the future. A time the user
# gives is kept as given. rove runs under libfaketime for the replica's
# whole life (init, sync, add, sync), the server on the real clock.
. "$(dirname "$0")/lib.sh"

need_faketime

server_setup
territories east
users mike:manager:east
sync_all admin mike

# secs_from_now TIME: how many seconds TIME is after the real clock's now.
secs_from_now() { echo $(($(date -u -d "$1" +%s) - $(date +%s))); }
# near_now WHAT TIME: TIME is within 2 minutes of the real clock's now.
near_now() {
	local d
	d=$(secs_from_now "$2")
	[ "${d#-}" -le 120 ] || fail "$1: $2 is ${d} s from now"
}

today=$(date -u +%F)
for u in alice:+10m:"10 minutes" bob:+2d:"2 days"; do
	IFS=: read -r name off says <<<"$u"
	token=$(r admin admin user add "$name" --role rep --territory east)
	echo "$token" >"$T/tokens/$name"
	at "$off" "$name" init --server "$URL" --user "$name" --token "$token" 2>/dev/null
	at "$off" "$name" sync >/dev/null
	c=$(at "$off" "$name" customer add --name "Customer of $name")

	# A visit dated now: the server's now, which it takes.
	v=$(at "$off" "$name" activity add --customer "$c" --kind visit --note "clock $off")
	near_now "$name's visit ($off), as made" "$(r "$name" activity show "$v" --json | jq -r .at)"
	# An import's visits likewise.
	printf 'customer,kind,note\n%s,call,imported\n' "$c" >"$T/visits.csv"
	at "$off" "$name" import activities "$T/visits.csv" >/dev/null
	# A time the user gives is kept as given.
	given=$(date -u -d '-1 hour' +%FT%H:%M:%SZ)
	g=$(at "$off" "$name" activity add --customer "$c" --kind call --at "$given")
	eq "$(r "$name" activity show "$g" --json | jq -r .at)" "$given" "$name: a given time is kept"
	# A won deal closes on the server's day.
	o=$(at "$off" "$name" opportunity add --customer "$c" --title "Deal $off" --amount 100 --stage proposal)
	at "$off" "$name" opportunity stage "$o" won
	eq "$(r "$name" opportunity show "$o" --json | jq -r .closed_on)" "$today" "$name: a deal won ($off)"

	out=$(at "$off" "$name" sync --json)
	eq "$(jq .rejected <<<"$out")" "0" "the server takes every change from a clock $off ($(at "$off" "$name" rejected))"
	eq "$(jq .accepted <<<"$out")" "6" "all of $name's changes"
	near_now "$name's visit ($off), as kept" "$(r "$name" activity show "$v" --json | jq -r .at)"
	eq "$(r "$name" activity list --customer "$c" --json | jq '[.[] | select(.note == "imported")] | length')" "1" \
		"$name's imported visit"
	near_now "$name's last sync ($off)" "$(r "$name" status --json | jq -r .last_sync)"
	# rove status says how far ahead the clock is; JSON too, in a field
	# of its own that only a lead shown adds (attack ninety-seven: the
	# text alone said it).
	at "$off" "$name" status | grep_q -F "clock:     $says ahead of the server's" ||
		fail "$name: status does not say the clock is $says ahead: $(at "$off" "$name" status)"
	st=$(at "$off" "$name" status --json)
	eq "$(jq -c keys <<<"$st")" '["clock_ahead_ms","cursor","last_sync","pending","rejected","replica","role","server","user"]' \
		"status --json: its fields and the lead"
	lead=$(jq .clock_ahead_ms <<<"$st")
	case $off in +10m) want=600000 ;; +2d) want=172800000 ;; esac
	[ $((lead - want)) -lt 60000 ] && [ $((want - lead)) -lt 60000 ] ||
		fail "$name: status --json says a lead of $lead ms for a clock $off"
done

# The laptop restarts with its clock still 2 days fast (a copy of bob's
# replica whose clock anchor names another boot): the lead learned before
# is not applied (the clock may have been put right meanwhile), so a visit
# made now takes the laptop's time, which the server refuses. rove says so
# when the visit is made, and status says the lead it holds (attack
# ninety-five: not a word until the sync's refusal).
cp -r "$T/bob" "$T/bobr"
python3 -c 'import os, time
print("636c6f636b5f616e63686f72", (os.urandom(16) + (1000).to_bytes(8, "big") +
      int((time.time() + 2 * 86400) * 1000).to_bytes(8, "big")).hex())' >"$T/anchor"
read -r key val <"$T/anchor"
"$ROVE_CORRUPT" "$T/bobr" meta put "$key" "$val" >/dev/null
at +2d bobr status | grep_q -F "clock:     2 days ahead of the server's at the last sync, before this computer restarted" ||
	fail "status after a restart does not say the lead held: $(at +2d bobr status)"
eq "$(at +2d bobr status --json | jq -c '[.clock_held, (.clock_ahead_ms / 3600000 | round)]')" '[true,48]' \
	"status --json after a restart: the lead held"
at +2d bobr activity add --customer "$(r bobr customer list --json | jq -r '.[0].id')" --kind visit >/dev/null 2>"$T/err"
grep_q "clock 2 days ahead of the server's, before it restarted: if it still is, the server refuses" "$T/err" ||
	fail "a visit after a restart with a fast clock: $(cat "$T/err")"
eq "$(at +2d bobr sync --json | jq .rejected)" "1" "the visit is refused (the warning was true)"
r bob activity add --customer "$(r bob customer list --json | jq -r '.[0].id')" --kind call >/dev/null 2>"$T/err"
[ -s "$T/err" ] && fail "a visit within the boot that learned the lead warns: $(cat "$T/err")"

# A time given that the server would refuse (the laptop's own now, 10
# minutes past the server's) is refused at once, as the server would.
c=$(r alice customer list --json | jq -r '.[0].id')
set +e
out=$(at +10m alice activity add --customer "$c" --kind visit --at "$(date -u -d '+10 min' +%FT%H:%M:%SZ)" 2>"$T/err")
st=$?
set -e
eq "$st" "1" "a given time 10 minutes ahead of the server's (${out:-$(cat "$T/err")})"
grep_q "in the future" "$T/err" || fail "not said why: $(cat "$T/err")"

# The clock is put right while the laptop is offline, after a sync that
# found it 2 days fast (bob's last): the lead learned then is no longer
# the laptop's. Visits are dated by the time since that sync (the boot's
# clock, which no one sets), not back to the sync, and status says
# nothing of a lead. A few seconds pass, for the difference to show.
sleep 5
v=$(r bob activity add --customer "$(r bob customer list --json | jq -r '.[0].id')" --kind visit)
d=$(secs_from_now "$(r bob activity show "$v" --json | jq -r .at)")
[ "$d" -ge -2 ] || fail "a visit after the clock was put right, offline: dated ${d} s from now (back to the sync)"
r bob status | grep_q "ahead of the server" && fail "status still says the clock is ahead: $(r bob status)"
eq "$(r bob status --json | jq 'has("clock_ahead_ms")')" "false" "status --json still has a lead: $(r bob status --json)"

# The clock is put right: the next sync learns it; status says nothing
# of it and a visit is dated now.
r alice sync >/dev/null
if r alice status | grep -q "ahead of the server"; then
	fail "status still says the clock is ahead: $(r alice status)"
fi
eq "$(r alice status --json | jq 'has("clock_ahead_ms")')" "false" "status --json still has a lead: $(r alice status --json)"
v=$(r alice activity add --customer "$c" --kind visit)
near_now "a visit after the clock was put right" "$(r alice activity show "$v" --json | jq -r .at)"
r alice sync >/dev/null

# The server's clock is set 2 years back: its time, behind the changes it
# stamped itself, is not taken (the laptop would be "730 days ahead", and
# every visit dated at the newest stamp pulled).
server_stop
server_start_at -730d
grep_q "this machine's clock is .* minute(s) behind the dates stored" "$T/roved.log" ||
	fail "roved does not say its clock is behind the stored changes: $(cat "$T/roved.log")"
r alice sync >/dev/null 2>"$T/err"
grep_q "the server's clock is .* behind the newest change it sent" "$T/err" ||
	fail "a server clock 2 years back is not said: $(cat "$T/err")"
if r alice status | grep -q "ahead of the server"; then
	fail "a server clock 2 years back is taken: $(r alice status)"
fi
sleep 2
v=$(r alice activity add --customer "$c" --kind visit)
d=$(secs_from_now "$(r alice activity show "$v" --json | jq -r .at)")
[ "$d" -ge -1 ] || fail "a visit after a sync with a server 2 years back: dated ${d} s from now"
echo "ok"
