#!/usr/bin/env bash
# rove sync --repair: a replica whose copies of the server's records are
# damaged (a stored record that does not decode, an index emptied, a
# pending record's local copy garbled) takes them all anew from the
# server and rebuilds its local copies of pending records from its
# outbox, keeping every change not yet sent. Before it a damaged replica
# had one way out, a new replica, which lost its pending changes (attack
# sixty-two: lists cut short or empty). A read that meets such damage
# says to repair.
. "$(dirname "$0")/lib.sh"
ROVE_CORRUPT=${ROVE_CORRUPT:?set ROVE_CORRUPT to the rove_corrupt binary}
ROVE_INDEX_CHECK=${ROVE_INDEX_CHECK:?set ROVE_INDEX_CHECK to the rove_index_check binary}

server_setup
territories east
users wang:rep:east mike:manager:east
sync_all admin wang mike
ids=()
for i in 1 2 3 4 5 6; do
	ids+=("$(r wang customer add --name "Repair $i" --phone "1370000100$i")")
done
for id in "${ids[@]:0:3}"; do
	r wang contact add --customer "$id" --name "Ann $i" >/dev/null
	r wang activity add --customer "$id" --kind visit --note "seen" >/dev/null
done
r wang sync >/dev/null
# The base's index is built at the first read that needs it (one
# customer's activities).
want_first=$(r wang activity list --customer "${ids[0]}" --json | jq -c '[.[] | .id]')
[ "$(r wang status --json | jq -r .pending)" = 0 ] || fail "wang's replica has changes pending"
cp -r "$T/wang" "$T/wang-good"
want_customers=$(r wang customer list --json | jq -c '[.[] | {id, name}] | sort_by(.id)')
want_activities=$(r wang activity list --json | jq -c '[.[] | .id] | sort')

# fresh COPY: wang's replica as synced, with one change pending (offline).
fresh() {
	rm -rf "$T/$1"
	cp -r "$T/wang-good" "$T/$1"
	r "$1" customer set "${ids[0]}" tier=loyal >/dev/null
}
# repaired COPY WHAT: rove sync --repair of COPY exits 0; then every
# customer and activity is listed, the pending change reached the
# server, and the replica's indexes are sound.
repaired() {
	local out rc=0
	out=$(r "$1" sync --repair --json 2>"$T/err") || rc=$?
	eq "$rc" 0 "$2: rove sync --repair ($(cat "$T/err"))"
	eq "$(jq -r .pushed <<<"$out")" "${3:-1}" "$2: the pending changes were sent"
	eq "$(r "$1" customer list --json | jq -c '[.[] | {id, name}] | sort_by(.id)')" "$want_customers" \
		"$2: every customer listed after the repair"
	eq "$(r "$1" activity list --json | jq -c '[.[] | .id] | sort')" "$want_activities" \
		"$2: every activity listed after the repair"
	eq "$(r "$1" activity list --customer "${ids[0]}" --json | jq -c '[.[] | .id]')" "$want_first" \
		"$2: a customer's activities listed after the repair"
	eq "$(r "$1" customer show "${ids[0]}" --json | jq -r .tier)" loyal "$2: the change kept"
	eq "$(r "$1" pending --json)" "[]" "$2: nothing left pending"
	"$ROVE_INDEX_CHECK" "$T/$1" || fail "$2: the replica's check found problems after the repair"
	if r "$1" status | grep_q "^repair:"; then fail "$2: rove status still says a repair is under way"; fi
}

# 1. A record of the server's garbled: reads fail, saying to repair.
fresh g
for b in base0 base1; do "$ROVE_CORRUPT" "$T/g" "$b" garble 2 >/dev/null 2>&1 || true; done
rc=0
r g customer list >/dev/null 2>"$T/err" || rc=$?
eq "$rc" 1 "a list over a garbled record"
grep_q "rove sync --repair" <"$T/err" || fail "a damaged record's read does not say to repair: $(cat "$T/err")"
repaired g "a garbled record"

# A contact list reads each contact's customer for its name: one that
# does not decode fails the list (it printed the id, the error, exit 0).
fresh pn
for t in base0 base1; do "$ROVE_CORRUPT" "$T/pn" "$t" put "01$(tr -d - <<<"${ids[1]}")" 00ff >/dev/null; done
rc=0
r pn contact list >/dev/null 2>"$T/err" || rc=$?
eq "$rc" 1 "a contact list over a garbled customer"
grep_q "rove sync --repair" <"$T/err" || fail "the contact list does not say to repair: $(cat "$T/err")"

# 2. An index emptied: the activity list was empty, exit 0.
fresh ix
for t in index0 index1; do "$ROVE_CORRUPT" "$T/ix" "$t" delall - >/dev/null 2>&1 || true; done
[ "$(r ix activity list --customer "${ids[0]}" --json | jq -c '[.[] | .id]')" = "[]" ] ||
	fail "the emptied indexes left the customer's activities listed: no damage to repair"
if "$ROVE_INDEX_CHECK" "$T/ix" 2>/dev/null; then fail "the replica's check missed the emptied indexes"; fi
repaired ix "the indexes emptied"

# 3. The local copy of the record with the pending change garbled.
fresh v
"$ROVE_CORRUPT" "$T/v" view garble 0 >/dev/null
rc=0
r v customer list >/dev/null 2>"$T/err" || rc=$?
eq "$rc" 1 "a list over a garbled local copy"
repaired v "a garbled local copy"
# A sync that meets it says the replica is damaged, and does not blame
# the server ("pull: malformed reply from the server" followed: attack
# sixty-five).
fresh v2
"$ROVE_CORRUPT" "$T/v2" view garble 0 >/dev/null
r v2 sync >/dev/null 2>"$T/err" || true
if grep_q "malformed reply from the server" <"$T/err"; then fail "the replica's damage blamed on the server: $(cat "$T/err")"; fi

# 4. Offline, the repair changes nothing and says the server is
# unreachable (exit 3); the next one repairs.
fresh off
for b in base0 base1; do "$ROVE_CORRUPT" "$T/off" "$b" garble 2 >/dev/null 2>&1 || true; done
r off config server "ipc://$T/nothing.sock" >/dev/null
rc=0
r off --timeout 2000 sync --repair >/dev/null 2>&1 || rc=$?
eq "$rc" 3 "a repair with the server unreachable"
r off status | grep_q "^repair: *under way" || fail "rove status does not say a repair is under way: $(r off status)"
r off config server "$URL" >/dev/null
repaired off "a repair after one that could not reach the server"
# 5. A pending release (the server sets the owner: its answer is
# recorded in the record's local copy) on a record whose copies, the
# server's and the local one, are garbled (attack sixty-four: every sync
# failed "cannot record the server's answers", the release pending for
# good). The repair takes its snapshot before it pushes.
fresh rel
r rel customer release "${ids[5]}" --reason "moving away" >/dev/null
key=01$(tr -d - <<<"${ids[5]}")
for t in base0 base1 view; do "$ROVE_CORRUPT" "$T/rel" "$t" put "$key" 00ff >/dev/null; done
repaired rel "a pending release on garbled copies" 2
eq "$(r rel customer show "${ids[5]}" --json | jq -r '.owner // ""')" "" "the released customer is in the pool"

# 6. The first admin's replica (the server gives that user epoch 0).
r admin sync >/dev/null
r admin customer list >/dev/null
cp -r "$T/admin" "$T/admin-bad"
for b in base0 base1; do "$ROVE_CORRUPT" "$T/admin-bad" "$b" garble 1 >/dev/null 2>&1 || true; done
rc=0
r admin-bad customer list >/dev/null 2>&1 || rc=$?
eq "$rc" 1 "the admin's list over a garbled record"
r admin-bad sync --repair >/dev/null 2>"$T/err" || fail "the admin's repair: $(cat "$T/err")"
eq "$(r admin-bad customer list --json | jq -c '[.[] | {id, name}] | sort_by(.id)')" \
	"$(r admin customer list --json | jq -c '[.[] | {id, name}] | sort_by(.id)')" "the admin's customers after the repair"

# 8. A damaged record of the sync's own state (a meta value of the wrong
# size): syncs failed blaming the outbox, the server or the token, or
# the replica would not open, repair or not (attack sixty-four). The key
# is named with the way out, and the repair sets it anew.
for key in cursor base hlc run ack_seq ack_floor epoch pulled_hlc server_id; do
	fresh "m-$key"
	"$ROVE_CORRUPT" "$T/m-$key" meta put "$(printf %s "$key" | od -An -tx1 | tr -d ' \n')" 00 >/dev/null
	rc=0
	r "m-$key" sync >/dev/null 2>"$T/err" || rc=$?
	eq "$rc" 1 "a sync with its '$key' damaged"
	grep_q "its record of '$key' does not read.*rove sync --repair" <"$T/err" ||
		fail "a sync with its '$key' damaged does not name it: $(cat "$T/err")"
	# (the pull reads pulled_hlc: that sync's push was through)
	[ "$key" = pulled_hlc ] && sent=0 || sent=1
	repaired "m-$key" "'$key' damaged" "$sent"
done
# The newest stamp pulled set far ahead (of the right size: nothing
# tells it from a server's clock set back): the warning blamed the
# server's clock alone (attack sixty-five); it names the repair too,
# which takes it anew.
fresh m-ahead
"$ROVE_CORRUPT" "$T/m-ahead" meta put "$(printf pulled_hlc | od -An -tx1 | tr -d ' \n')" 7fc1c1c1c1c1c1c1 >/dev/null
r m-ahead sync >/dev/null 2>"$T/err" || fail "a sync with the newest stamp pulled far ahead: $(cat "$T/err")"
grep_q "record of that change's time is damaged: 'rove sync --repair'" <"$T/err" || fail "pulled_hlc far ahead: $(cat "$T/err")"
repaired m-ahead "the newest stamp pulled far ahead" 0
r m-ahead sync >/dev/null 2>"$T/err"
if grep_q "behind the newest change" <"$T/err"; then fail "the repair left pulled_hlc far ahead: $(cat "$T/err")"; fi
# The base's number deleted: the replica showed the other, empty base,
# saying nothing (attack sixty-five).
fresh m-nobase
"$ROVE_CORRUPT" "$T/m-nobase" meta delall "$(printf base | od -An -tx1 | tr -d ' \n')" >/dev/null
rc=0
r m-nobase customer list >/dev/null 2>"$T/err" || rc=$?
eq "$rc" 1 "a list with the base's number deleted"
grep_q "its record of 'base' does not read.*rove sync --repair" <"$T/err" || fail "the base's number deleted: $(cat "$T/err")"
repaired m-nobase "the base's number deleted"
# A setting: read as empty, the server not called until it is set anew.
fresh m-token
"$ROVE_CORRUPT" "$T/m-token" meta put "$(printf token | od -An -tx1 | tr -d ' \n')" 00 >/dev/null
rc=0
r m-token sync >/dev/null 2>"$T/err" || rc=$?
eq "$rc" 1 "a sync with its token damaged"
grep_q "setting 'token' is damaged or missing: set it anew with 'rove config token" <"$T/err" ||
	fail "a sync with its token damaged: $(cat "$T/err")"
r m-token customer list >/dev/null || fail "a list with the token damaged"
r m-token config token "$(token_of wang)" >/dev/null
repaired m-token "the token damaged"
# The server's URL garbled: "invalid server URL" (attack sixty-six): the
# same way out.
fresh m-server
"$ROVE_CORRUPT" "$T/m-server" meta put "$(printf server | od -An -tx1 | tr -d ' \n')" c1c1c1 >/dev/null
rc=0
r m-server sync >/dev/null 2>"$T/err" || rc=$?
eq "$rc" 1 "a sync with its server's URL garbled"
grep_q "setting 'server' is damaged or missing: set it anew with 'rove config server" <"$T/err" ||
	fail "a sync with its server's URL garbled: $(cat "$T/err")"
r m-server config server "$URL" >/dev/null
repaired m-server "the server's URL garbled"
# What makes the replica itself (its user, its id): named, a new replica
# the way out, and it reads still, read only, so that the pending changes
# can be seen to be made again (attack sixty-five: every command failed,
# 'rove pending' too).
for key in user id; do
	fresh "m-$key"
	"$ROVE_CORRUPT" "$T/m-$key" meta put "$(printf %s "$key" | od -An -tx1 | tr -d ' \n')" 00 >/dev/null
	out=$(r "m-$key" pending --json 2>"$T/err") || fail "rove pending with its $key damaged: $(cat "$T/err")"
	eq "$(jq length <<<"$out")" 1 "the pending change listed with its $key damaged"
	grep_q "its '$key' does not read): it is read only; set up a new replica" <"$T/err" ||
		fail "its $key damaged: $(cat "$T/err")"
	for w in "customer add --name Not-taken" "customer release ${ids[1]}" "customer set ${ids[1]} tier=loyal"; do
		rc=0
		r "m-$key" $w >/dev/null 2>"$T/err" || rc=$?
		eq "$rc" 1 "$w with its $key damaged"
		grep_q "its '$key' does not read): nothing was changed" <"$T/err" || fail "$w with its $key damaged: $(cat "$T/err")"
	done
	rc=0
	r "m-$key" sync >/dev/null 2>"$T/err" || rc=$?
	eq "$rc" 1 "a sync with its $key damaged"
done
# What is made anew from the records (the marks of the report sums kept,
# the indexes'): read as not kept, made anew; nothing to repair.
for key in report_sums report_sums/0 report_sums/1 index indexed/0 indexed/1; do
	fresh m-sums
	r m-sums report pipeline >/dev/null
	want=$(r m-sums report pipeline --json)
	"$ROVE_CORRUPT" "$T/m-sums" meta put "$(printf %s "$key" | od -An -tx1 | tr -d ' \n')" 00 >/dev/null
	eq "$(r m-sums report pipeline --json)" "$want" "the pipeline report with its '$key' damaged"
	eq "$(r m-sums activity list --customer "${ids[0]}" --json | jq -c '[.[] | .id]')" "$want_first" \
		"a customer's activities with its '$key' damaged"
	"$ROVE_INDEX_CHECK" "$T/m-sums" || fail "the replica's check after its '$key' was damaged"
done
# A table of the indexes gone: "no replica", and 'rove init' refused the
# directory as holding one (attack sixty-five). Built anew.
for t in index0 index1 indexv; do
	fresh "ix-$t"
	"$ROVE_CORRUPT" "$T/ix-$t" "$t" drop - >/dev/null
	eq "$(r "ix-$t" activity list --customer "${ids[0]}" --json | jq -c '[.[] | .id]')" "$want_first" \
		"a customer's activities with the table $t gone"
	"$ROVE_INDEX_CHECK" "$T/ix-$t" || fail "the replica's check with the table $t gone"
done
# A table made from others (the view, the pending index) or kept for
# the user (the journal, the refusals) gone: every command said "set up
# a new replica", which loses the pending changes (attack sixty-five).
# Made anew, said; the pending change still goes.
for t in view pending journal rejected; do
	fresh "tb-$t"
	"$ROVE_CORRUPT" "$T/tb-$t" "$t" drop - >/dev/null
	out=$(r "tb-$t" pending --json 2>"$T/err") || fail "rove pending with the table $t gone: $(cat "$T/err")"
	eq "$(jq length <<<"$out")" 1 "the pending change listed with the table $t gone"
	grep_q "table '$t' was gone (damaged): made anew" <"$T/err" || fail "the table $t made anew unsaid: $(cat "$T/err")"
	repaired "tb-$t" "the table $t gone"
done
# A refusal kept that does not decode: 'rove rejected' said "no rejected
# changes" ([] in JSON) though others were kept, and 'dismiss --all'
# failed (attack sixty-five). The rest are shown, the damaged counted;
# dismiss --all drops it.
fresh rj
r mike customer add --name "Mike's twin one" --phone 13700009001 >/dev/null
r mike customer add --name "Mike's twin two" --phone 13700009002 >/dev/null
r mike sync >/dev/null
r rj customer add --name "Twin one" --phone 13700009001 >/dev/null
r rj customer add --name "Twin two" --phone 13700009002 >/dev/null
r rj sync >/dev/null 2>&1 || true
eq "$(r rj rejected --json | jq length)" 2 "the refusals kept"
"$ROVE_CORRUPT" "$T/rj" rejected garble 0 >/dev/null
out=$(r rj rejected --json 2>"$T/err") || fail "rove rejected over a garbled refusal: $(cat "$T/err")"
eq "$(jq length <<<"$out")" 1 "the refusal that reads is shown"
grep_q "1 refused change kept by this replica does not decode" <"$T/err" || fail "rove rejected: $(cat "$T/err")"
r rj rejected dismiss --all >/dev/null || fail "dismiss --all over a garbled refusal"
r rj rejected --json 2>"$T/err" >/dev/null
if grep_q "does not decode" <"$T/err"; then fail "the garbled refusal left after dismiss --all"; fi

# An entry of the pending index naming no change the outbox holds (or
# another record's): every sync and repair failed "malformed reply from
# the server" for good, the change made after never sent (attack
# sixty-six). The index is made anew, said.
for how in none other; do
	fresh "px-$how"
	# none: no such change; other: the pending change of another record
	if [ "$how" = none ]; then
		key="01$(tr -d - <<<"${ids[0]}")0000000000000063"
	else
		key="01$(tr -d - <<<"${ids[1]}")$(mdb_dump -s pending "$T/px-$how" | sed -n '/HEADER=END/{n;p}' | tr -d ' ' | tail -c 17)"
	fi
	lseq=$how
	"$ROVE_CORRUPT" "$T/px-$how" pending put "$key" "" >/dev/null
	rc=0
	r "px-$lseq" sync >/dev/null 2>"$T/err" || rc=$?
	eq "$rc" 0 "a sync with a stray pending index entry ($(cat "$T/err"))"
	# (the index made anew; none: a change the index names and the
	# outbox lacks on a record whose view copy its base and whole
	# change make is no change lost, attack ninety-one: it was said
	# lost, named to be made again, and t_pending_index has one whose
	# copy says it lost)
	grep_q "index of pending changes named changes it does not hold" <"$T/err" ||
		fail "the stray entry unsaid: $(cat "$T/err")"
	if grep_q "lost" <"$T/err"; then fail "a whole change said lost: $(cat "$T/err")"; fi
	r "px-$lseq" customer set "${ids[1]}" tier=customer >/dev/null
	r "px-$lseq" sync >/dev/null || fail "the sync after a stray pending index entry"
	eq "$(r "px-$lseq" pending --json)" "[]" "nothing left pending after a stray index entry"
	"$ROVE_INDEX_CHECK" "$T/px-$lseq" || fail "the replica's check after a stray pending index entry"
done

# 9. A pending change that does not decode: 'rove pending' showed
# nothing (exit 1), a sync pushed the rest and dropped it without a word,
# then every sync and repair failed "malformed reply from the server"
# for good, later changes never sent (attack sixty-five). It is dropped,
# said; the rest go, and so do later changes.
fresh ob
before=$(r ob pending --json | jq length)
lost=$(r ob customer add --name "Lost to damage" --phone 13700003001)
kept=$(r ob customer add --name "Kept" --phone 13700003002)
n=$(r ob pending --json | jq length)
"$ROVE_CORRUPT" "$T/ob" outbox garble $((n - 2)) >/dev/null
out=$(r ob pending --json 2>"$T/err") || fail "rove pending over a garbled change: $(cat "$T/err")"
eq "$(jq length <<<"$out")" "$((n - 1))" "rove pending shows the changes that still read"
grep_q "1 pending change of this replica does not decode" <"$T/err" || fail "rove pending: $(cat "$T/err")"
rc=0
r ob sync >/dev/null 2>"$T/err" || rc=$?
eq "$rc" 0 "a sync over a garbled pending change ($(cat "$T/err"))"
grep_q "did not decode (damaged): dropped, never to be sent (lost)" <"$T/err" || fail "the dropped change unsaid: $(cat "$T/err")"
later=$(r ob customer add --name "Made after" --phone 13700003003)
r ob sync >/dev/null || fail "the sync after"
eq "$(r ob pending --json)" "[]" "nothing left pending after the drop"
"$ROVE_INDEX_CHECK" "$T/ob" || fail "the replica's check after the drop"
r admin sync >/dev/null
for id in "$kept" "$later"; do r admin customer show "$id" >/dev/null || fail "a change sent after the drop: $id"; done
if r ob customer show "$lost" >/dev/null 2>&1; then fail "the dropped change's record still shown"; fi
[ "$before" = 1 ] || fail "fresh: $before pending"

# 7. A server restored from an older backup, and replicas whose copies of
# the records written since are garbled: the recovery (changes sent
# again, a fresh copy taken) read them and every sync, repair or not,
# failed "cannot prepare this replica's changes to be sent again"
# (attack sixty-four). The copies that do not decode are passed over,
# said; the fresh copy replaces them. A rep (changes put back at once)
# and a manager (the old copy compared with the fresh one).
r wang sync >/dev/null
r mike sync >/dev/null
server_stop
cp -a "$T/srv" "$T/older"
server_start
nw=$(r wang customer add --name "After the backup" --phone 13700002001)
r wang contact add --customer "$nw" --name "Bo" >/dev/null
r wang sync >/dev/null
nm=$(r mike customer add --name "Mike's after the backup" --phone 13700002002)
r mike customer set "${ids[2]}" tier=customer >/dev/null
r mike sync >/dev/null
server_stop
rm -rf "$T/srv"
cp -a "$T/older" "$T/srv"
server_start
for u in wang:$nw mike:$nm mike:${ids[2]}; do
	for t in base0 base1 view; do "$ROVE_CORRUPT" "$T/${u%%:*}" "$t" put "01$(tr -d - <<<"${u#*:}")" 00ff >/dev/null; done
done
for u in wang mike; do
	rc=0
	r "$u" sync >/dev/null 2>"$T/err" || rc=$?
	eq "$rc" 0 "$u: a sync after the restore over garbled copies ($(cat "$T/err"))"
	grep_q "did not decode: taken anew" <"$T/err" || fail "$u: the garbled copies passed over unsaid: $(cat "$T/err")"
	"$ROVE_INDEX_CHECK" "$T/$u" || fail "$u: the replica's check found problems after the recovery"
done
sync_all admin wang
eq "$(r admin customer show "$nw" --json | jq -r .name)" "After the backup" "wang's customer sent again"
eq "$(r admin contact list --customer "$nw" --json | jq -r '.[].name')" "Bo" "wang's contact sent again"
eq "$(r admin customer show "$nm" --json | jq -r .name)" "Mike's after the backup" "mike's customer sent again"
eq "$(r admin customer show "${ids[2]}" --json | jq -r .tier)" customer "mike's change sent again"
# (mike's customers are his, not in wang's reach)
for u in wang:mike mike:; do
	eq "$(r "${u%%:*}" customer list --json | jq -c '[.[] | {id, name}] | sort_by(.id)')" \
		"$(r admin customer list --json | jq -c --arg no "${u#*:}" '[.[] | select(.owner != $no) | {id, name}] | sort_by(.id)')" \
		"${u%%:*}: the customers after the recovery"
done
# 7b. The same with an entry of the journal (the changes the server
# accepted, kept to be sent again after a restore) garbled: every sync
# and repair failed "corrupt entry in the replica's journal" for good
# (attack sixty-five). It counts as forgotten: the records are compared.
r wang sync >/dev/null
server_stop
rm -rf "$T/older"
cp -a "$T/srv" "$T/older"
server_start
j1=$(r wang customer add --name "Journal one" --phone 13700004001)
j2=$(r wang customer add --name "Journal two" --phone 13700004002)
r wang sync >/dev/null
server_stop
rm -rf "$T/srv"
cp -a "$T/older" "$T/srv"
server_start
"$ROVE_CORRUPT" "$T/wang" journal garble -2 >/dev/null
rc=0
r wang sync >/dev/null 2>"$T/err" || rc=$?
eq "$rc" 0 "a sync after a restore over a garbled journal entry ($(cat "$T/err"))"
grep_q "journal of changes the server accepted did not decode" <"$T/err" || fail "the garbled journal entry unsaid: $(cat "$T/err")"
r admin sync >/dev/null
for id in "$j1" "$j2"; do r admin customer show "$id" >/dev/null || fail "a change lost with the journal's damage: $id"; done
"$ROVE_INDEX_CHECK" "$T/wang" || fail "wang's replica after the journal's damage"
echo "ok"
