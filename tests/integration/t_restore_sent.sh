#!/usr/bin/env bash
# A sync cut short after the server answered its push, before its pull
# confirmed the changes (kill -9, a lost laptop battery), then the server
# restored from a backup older than them: the replica sends them again.
# Its recovery marked them unanswered in place, and an entry whose new
# value changed size was written back under a key LMDB had moved with the
# page (a key read from the map): the outbox then held garbage keys, the
# next syncs said "malformed data", "named changes it does not hold
# (damaged)", then "cannot apply the server's changes: not found" for
# good (attack seventy). Now every change reaches the restored server
# and the replica syncs on, with one batch answered or several.
. "$(dirname "$0")/lib.sh"
ROVE_RAW=${ROVE_RAW:?set ROVE_RAW to the rove_raw binary}

server_setup
territory t1
users r1:rep:t1
r r1 sync >/dev/null
for i in 1 2 3 4 5; do r r1 customer add --name "Old $i" >/dev/null; done
r r1 sync >/dev/null
server_stop
cp -a "$T/srv" "$T/copy"
server_start
cp -a "$T/r1" "$T/r1.before"

for die in 1 3; do
	rm -rf "$T/r1"
	cp -a "$T/r1.before" "$T/r1"
	for i in $(seq 1 30); do r r1 customer add --name "New $die-$i" >/dev/null; done
	# Batches of 10: the push's answers are recorded batch by batch,
	# and the sync dies after the die-th commit.
	st=0
	ROVE_PUSH_BATCH=10 die_after_meta "$die" "$ROVE_BIN" -R "$T/r1" sync >/dev/null 2>&1 || st=$?
	eq "$st" "137" "die $die: the sync killed"
	r r1 status | grep_q "pending: *30 op(s), $((die * 10)) of them sent" ||
		fail "die $die: what was sent: $(r r1 status)"
	server_stop
	rm -rf "$T/srv"
	cp -a "$T/copy" "$T/srv"
	server_start
	r r1 sync >"$T/out" 2>"$T/err" || fail "die $die: the sync after the restore: $(cat "$T/err")"
	if grep -q "damaged\|malformed" "$T/err"; then fail "die $die: $(cat "$T/err")"; fi
	r r1 sync >/dev/null 2>"$T/err" || fail "die $die: the next sync: $(cat "$T/err")"
	eq "$(r r1 status --json | jq .pending)" "0" "die $die: nothing pending"
	"${ROVE_INDEX_CHECK:?}" "$T/r1" || fail "die $die: the replica's check"
	r admin sync >/dev/null
	eq "$(r admin customer list --json | jq '[.[] | select(.name | startswith("New '"$die"'-"))] | length')" "30" \
		"die $die: every new customer on the restored server"
	eq "$(r admin customer list --json | jq '[.[] | select(.name | startswith("Old"))] | length')" "5" \
		"die $die: and the old ones"
done
echo "ok"
