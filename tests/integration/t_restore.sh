#!/usr/bin/env bash
# A server restored from a copy (a plain copy of the stopped server's
# directory, or `roved backup` while it serves): replicas tell that its
# history is not the one they synced with, send again what they hold that
# it lacks (validated like any change), take a fresh copy, keep their
# pending work; nothing is skipped silently.
. "$(dirname "$0")/lib.sh"

server_setup
territories east
users alice:rep:east bob:rep:east carol:rep:east mike:manager:east
sync_all admin alice bob carol mike

a1=$(r alice customer add --name "A1 before the copy" --phone 13900000001)
r alice sync >/dev/null
sync_all carol mike

restore_round() {
	local how=$1 phone=$2 out
	# The copy: a file copy of the stopped server, or a backup while it serves.
	if [ "$how" = copy ]; then
		server_stop
		rm -rf "$T/copy"
		cp -a "$T/srv" "$T/copy"
		server_start
	else
		rm -rf "$T/copy"
		"$ROVED_BIN" backup "$T/srv" "$T/copy" 2>>"$T/roved.log" || fail "roved backup failed"
	fi
	# Acknowledged work after the copy, which the copy lacks.
	# A phone of its own each round: phones are unique among live
	# customers, and the first round's A2 is still there.
	a2=$(r alice customer add --name "A2 after the $how" --phone "$phone")
	a3=$(r alice customer add --name "A3 after the $how")
	r alice customer set "$a1" address="edited after the $how"
	r alice sync >/dev/null
	m1=$(r mike customer add --name "M1 pool after the $how" --territory east)
	r mike sync >/dev/null
	# alice also has work pending that was never sent.
	a4=$(r alice customer add --name "A4 pending at the $how")

	server_stop
	rm -rf "$T/srv"
	cp -a "$T/copy" "$T/srv"
	server_start
	# Others work on, so the restored server's sequence passes alice's cursor.
	for i in 1 2 3 4 5 6 7 8; do r bob customer add --name "B$i $how" >/dev/null; done
	r bob sync >/dev/null

	if [ "$how" = backup ]; then
		# Killed once the replica has noted that it recovers (its
		# first commit), before it sent anything: the next sync goes on
		# with the recovery and says what it sent again.
		local rc=0
		die_after_meta 1 "$ROVE_BIN" -R "$T/alice" sync --json >"$T/out" 2>"$T/err" || rc=$?
		eq "$rc" "137" "alice's recovery killed after it was noted ($(cat "$T/err"))"
		grep -q "history is not the one" "$T/err" || fail "the killed sync had not found the restore: $(cat "$T/err")"
	fi
	out=$(r alice sync --json 2>"$T/err") || fail "alice's sync after the restore ($how) failed: $(cat "$T/err")"
	[ "$(jq .resent <<<"$out")" -ge 4 ] || fail "alice re-sent too little ($how): $out"
	eq "$(r alice status --json | jq .pending)" "0" "alice has nothing pending ($how)"
	r mike sync >/dev/null
	r admin sync >/dev/null
	all=$(r admin customer list --json)
	for id in "$a1" "$a2" "$a3" "$a4" "$m1"; do
		jq -e --arg id "$id" 'any(.[]; .id == $id)' <<<"$all" >/dev/null ||
			fail "customer $id is not on the restored server ($how)"
	done
	eq "$(r admin customer show "$a1" --json | jq -r .address)" "edited after the $how" "alice's edit is back ($how)"
	eq "$(r admin customer show "$a2" --json | jq -r .owner)" "alice" "and hers ($how)"
	# Everyone equals the server in their scope, whatever their cursor was.
	sync_all bob carol alice mike admin
	all=$(r admin customer list --json)
	for u in alice bob carol; do
		eq "$(r "$u" customer list --json | jq -c .)" "$(scope_filter_rep "$u" east <<<"$all")" \
			"$u's replica equals the server ($how)"
	done
	eq "$(r mike customer list --json)" "$all" "the manager's replica equals the server ($how)"
	eq "$(r alice rejected --json | jq length)" "0" "nothing of alice's was refused ($how)"
}

restore_round copy 13900001001
restore_round backup 13900001002

# Beyond the journal: a replica keeps only its latest accepted ops to send
# again (ROVE_JOURNAL_OPS lowers the 100,000 to 3 here). What the restored
# server lacks of older ones is found by comparing the old copy of the
# replica's data with the fresh one, and sent again too: created anew, or
# the field written again with its own stamp.
rm -rf "$T/copy"
"$ROVED_BIN" backup "$T/srv" "$T/copy" 2>>"$T/roved.log" || fail "roved backup failed"
old=()
for i in 1 2 3 4 5 6; do
	old+=("$(ROVE_JOURNAL_OPS=3 r carol customer add --name "C$i beyond the journal")")
	ROVE_JOURNAL_OPS=3 r carol sync >/dev/null
done
ROVE_JOURNAL_OPS=3 r carol customer set "${old[0]}" address="C1's address, edited"
ROVE_JOURNAL_OPS=3 r carol customer set "${old[1]}" tier=loyal
# C3: mike (on a second laptop, offline) writes its tier, then carol
# writes it after him, acknowledged; mike's write reaches the restored
# server after carol's is sent again, which must keep its own stamp and
# win (attack sixty-six: the create sent again held every field at the
# create's stamp, and mike's earlier write won).
ROVE_JOURNAL_OPS=3 r carol sync >/dev/null
rove -R "$T/mike2" init --server "$URL" --user mike --token "$(token_of mike)" 2>/dev/null
r mike2 sync >/dev/null
r mike2 customer set "${old[2]}" tier=customer
ROVE_JOURNAL_OPS=3 r carol customer set "${old[2]}" tier=loyal
ROVE_JOURNAL_OPS=3 r carol sync >/dev/null
for i in 1 2 3 4; do
	ROVE_JOURNAL_OPS=3 r carol customer add --name "C-late$i" >/dev/null
	ROVE_JOURNAL_OPS=3 r carol sync >/dev/null
done
# Mike edits C2's tier after carol did, on the copy-less server: his later
# write must win over the one carol sends again.
r mike sync >/dev/null
r mike customer set "${old[1]}" tier=customer
r mike sync >/dev/null
# Mike deletes A1 (on the copy too) first: however many ops follow, the
# journal keeps a delete (a deleted record leaves the replica, so nothing
# else could tell that the restored server lacks the delete).
ROVE_JOURNAL_OPS=3 r mike sync >/dev/null
ROVE_JOURNAL_OPS=3 r mike customer delete "$a1"
ROVE_JOURNAL_OPS=3 r mike sync >/dev/null
# Mike's creates fall out of his journal of 3, and then he deletes one of
# them: the delete, in the journal, must follow the create sent again.
gone=$(ROVE_JOURNAL_OPS=3 r mike customer add --name "M created, deleted later" --territory east)
ROVE_JOURNAL_OPS=3 r mike sync >/dev/null
kept=$(ROVE_JOURNAL_OPS=3 r mike customer add --name "M kept" --territory east)
ROVE_JOURNAL_OPS=3 r mike sync >/dev/null
for i in 1 2 3; do
	ROVE_JOURNAL_OPS=3 r mike customer add --name "M-late$i" --territory east >/dev/null
	ROVE_JOURNAL_OPS=3 r mike sync >/dev/null
done
ROVE_JOURNAL_OPS=3 r mike customer delete "$gone"
ROVE_JOURNAL_OPS=3 r mike sync >/dev/null
server_stop
rm -rf "$T/srv"
cp -a "$T/copy" "$T/srv"
server_start
r mike customer set "${old[1]}" tier=prospect # pending on mike's replica: written after carol's
out=$(ROVE_JOURNAL_OPS=3 r carol sync --json 2>"$T/err") || fail "carol's sync after the restore failed: $(cat "$T/err")"
grep -q "older change" "$T/err" || fail "carol was not told of changes found beyond the journal: $(cat "$T/err")"
[ "$(jq .resent <<<"$out")" -ge 10 ] || fail "carol re-sent too little: $out ($(cat "$T/err"))"
eq "$(r carol status --json | jq .pending)" "0" "carol has nothing pending"
eq "$(r carol rejected --json | jq length)" "0" "nothing of carol's was refused"
r mike sync >/dev/null
r admin sync >/dev/null
for id in "${old[@]}"; do
	eq "$(r admin customer show "$id" --json | jq -r .owner)" "carol" "carol's customer $id is on the restored server"
done
r mike2 sync >/dev/null
r admin sync >/dev/null
eq "$(r admin customer show "${old[2]}" --json | jq -r .tier)" "loyal" "carol's later write sent again with its own stamp"
eq "$(r admin customer show "${old[0]}" --json | jq -r .address)" "C1's address, edited" "carol's old edit is back"
eq "$(r admin customer show "${old[1]}" --json | jq -r .tier)" "prospect" "mike's later edit still wins"
ROVE_JOURNAL_OPS=3 r mike sync >/dev/null 2>&1
eq "$(r mike rejected --json | jq length)" "0" "nothing of mike's was refused"
r admin sync >/dev/null
eq "$(r admin customer show "$kept" --json | jq -r .name)" "M kept" "mike's customer older than his journal is back"
r admin customer list --json | jq -e --arg id "$gone" 'all(.[]; .id != $id)' >/dev/null ||
	fail "mike's deleted customer came back"
r admin customer list --json | jq -e --arg id "$a1" 'all(.[]; .id != $id)' >/dev/null ||
	fail "mike's delete of a customer the copy holds was lost beyond his journal"
sync_all carol mike admin
eq "$(r carol customer list --json | jq length)" "$(r admin customer list --json | jq '[.[] | select(.owner == "carol")] | length')" \
	"carol's replica holds her customers"

# A replica that synced before the copy and never after goes on as usual.
out=$(r carol sync --json)
eq "$(jq -c 'has("resent")' <<<"$out")" "false" "carol has nothing to send again"

# A user added after the copy is unknown to the restored server. The admin
# adds them again, with a new token, which they give their replica with
# 'rove config token': their acknowledged work is sent again, nothing lost.
rm -rf "$T/copy"
"$ROVED_BIN" backup "$T/srv" "$T/copy" 2>>"$T/roved.log" || fail "roved backup failed"
user_replica sun rep east
r sun sync >/dev/null
s1=$(r sun customer add --name "Sun's customer, after the copy")
eq "$(r sun sync --json | jq .accepted)" "1" "sun's customer acknowledged"
s2=$(r sun customer add --name "Sun's pending customer")
server_stop
rm -rf "$T/srv"
cp -a "$T/copy" "$T/srv"
server_start
set +e
r sun sync >/dev/null 2>"$T/err"
status=$?
set -e
eq "$status" "1" "sun's sync against a server that does not know sun"
grep -q "authentication failed" "$T/err" || fail "unclear error: $(cat "$T/err")"
token=$(r admin admin user add sun --role rep --territory east)
r sun config token "$token"
out=$(r sun sync --json 2>"$T/err") || fail "sun's sync with the new token failed: $(cat "$T/err")"
eq "$(jq .resent <<<"$out")" "2" "sun's acknowledged and pending customers sent again"
r admin sync >/dev/null
for id in "$s1" "$s2"; do
	eq "$(r admin customer show "$id" --json | jq -r .owner)" "sun" "sun's customer $id is on the restored server"
done

# A replica pointed at another server (another database, even one that
# knows the user) refuses it before changing anything: it never takes
# that server for a restore of its own and pours its data into it.
ROVED_PID_A=$ROVED_PID
URL_A=$URL
URL="ipc://$T/other.sock"
mkdir -p "$T/other"
other_token=$("$ROVED_BIN" init "$T/other/srv" 2>/dev/null)
"$ROVED_BIN" serve "$T/other/srv" --listen "$URL" >>"$T/roved.log" 2>&1 &
OTHER_PID=$!
BG_PIDS+=("$OTHER_PID")
wait_listening "$URL" "$OTHER_PID" "the other roved"
rove -R "$T/other/admin" init --server "$URL" --user admin --token "$other_token" 2>/dev/null
rove -R "$T/other/admin" admin territory add east --name East >/dev/null
alice_there=$(rove -R "$T/other/admin" admin user add alice --role rep --territory east)
pending_before=$(r alice status --json | jq .pending)
r alice customer add --name "Pending when pointed elsewhere" >/dev/null
r alice config server "$URL"
r alice config token "$alice_there"
set +e
r alice sync 2>"$T/err" >/dev/null
status=$?
set -e
eq "$status" "1" "a sync with another server fails"
grep -q "another server" "$T/err" || fail "unclear error: $(cat "$T/err")"
eq "$(r alice status --json | jq .pending)" "$((pending_before + 1))" "nothing of alice's was sent there"
eq "$(rove -R "$T/other/admin" customer list --json | jq length)" "0" "the other server got nothing"
URL=$URL_A
ROVED_PID=$ROVED_PID_A
# The replicas' indexes match their records after all of it.
for u in admin alice bob carol mike sun; do
	"${ROVE_INDEX_CHECK:?set ROVE_INDEX_CHECK}" "$T/$u" || fail "$u: the index check found problems"
done
# A DEST that holds other files is refused, and left as it was.
mkdir -p "$T/busy"
echo "keep me" >"$T/busy/notes.txt"
set +e
"$ROVED_BIN" backup "$T/srv" "$T/busy" 2>"$T/err"
st=$?
set -e
eq "$st" "1" "a backup into a directory holding other files ($(cat "$T/err"))"
grep_q "is not empty" <"$T/err" || fail "unclear: $(cat "$T/err")"
eq "$(ls "$T/busy")" "notes.txt" "the directory is left as it was"
echo "ok"
