#!/usr/bin/env bash
# A copy restored while roved serves (attack forty-one): its data.mdb
# written over by an older copy, or another directory put in its place.
# roved went on serving: from the file written over, refusing every
# login as if the rep's token were wrong, or from the old file, gone from
# the directory, where what it acknowledged would be lost at its next
# start. Now its guard sees the database change under it within a few
# seconds and roved exits 1, saying so, for its service manager to start
# it anew on what is there; the replicas then send again what it lacks.
. "$(dirname "$0")/lib.sh"

server_setup
territories east
users alice:rep:east
sync_all admin alice
server_stop
cp -a "$T/srv" "$T/copy"
server_start
c1=$(r alice customer add --name "After the copy")
customers_csv "$T/many.csv" 400 Grown 1381 40 # the file grows past the copy's size
r alice import customers "$T/many.csv" >/dev/null
r alice sync >/dev/null

# waits_exit WHAT: roved exits 1 within 10 s, saying what changed.
roved_gone() { ! kill -0 "$ROVED_PID" 2>/dev/null; }
waits_exit() {
	local rc=0
	wait_for 10 "roved to exit after $1" roved_gone
	wait "$ROVED_PID" || rc=$?
	ROVED_PID=
	eq "$rc" "1" "roved's exit status after $1"
	grep -Eq "the database changed under roved: $2" "$T/roved.log" ||
		fail "roved did not say why after $1: $(tail -n 3 "$T/roved.log")"
}

# 1. The copy's data.mdb written over the one roved serves.
cp "$T/copy/data.mdb" "$T/srv/data.mdb"
r alice sync >/dev/null 2>&1 || true
waits_exit "a copy written over its data.mdb" "its data.mdb (shrank|went back)"
# Started anew on the copy: alice sends again what it lacks.
server_start
r alice sync >/dev/null 2>&1 || r alice sync >/dev/null
r admin sync >/dev/null
eq "$(r admin customer show "$c1" --json | jq -r .name)" "After the copy" "alice's customer sent again"

# 2. Another directory put in the place of the one roved serves.
c2=$(r alice customer add --name "Before the swap")
r alice sync >/dev/null
mv "$T/srv" "$T/srv.old"
cp -a "$T/copy" "$T/srv"
waits_exit "another directory put in its place" "its data.mdb was removed or another file put in its place"
server_start
r alice sync >/dev/null 2>&1 || r alice sync >/dev/null
r admin sync >/dev/null
eq "$(r admin customer show "$c2" --json | jq -r .name)" "Before the swap" "alice's second customer sent again"
"$ROVED_BIN" check "$T/srv" >/dev/null || fail "the database does not check clean"
echo "ok"
