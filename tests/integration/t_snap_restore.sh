#!/usr/bin/env bash
# A snapshot cut short across a restore (attack forty-one, suspected from
# the code): ana's first sync begins her snapshot, built aside in chunks
# of 5 customers, and is cut after the first; a backup is taken while
# the server serves; the admin reassigns the next 5 customers to bob (administration
# a restore loses); ana's next sync brings one more chunk, read now, with
# bob as their owner, and is cut again; the copy is put back. Her next
# sync resumed the snapshot, since the run and the number it began at
# are in the copy's history, and she kept bob as their owner for good
# while the server says alice's. A replica now has the server vouch for
# the history up to the head each chunk was read at (as for its
# acknowledged pushes): the restored server cannot, and she takes a
# fresh snapshot.
. "$(dirname "$0")/lib.sh"

tcp_server
territories east
users alice:rep:east bob:rep:east ana:analyst
ids=()
for i in $(seq 1 30); do ids+=("$(r alice customer add --name "Customer $i")"); done
r alice sync >/dev/null

# cut_sync USER LOG: USER's sync through a proxy that forwards one answer.
cut_sync() {
	proxy_start "$2" --stall-after 9
	r "$1" config server "tcp://127.0.0.1:$PPORT" >/dev/null
	eq "$(exit_status env ROVE_PULL_BATCH=5 "$ROVE_BIN" -R "$T/$1" --timeout 1500 sync)" "3" \
		"$1's sync, cut ($(cat "$T/err"))"
	kill -9 "$PROXY_PID"
	wait "$PROXY_PID" 2>/dev/null || true
}
cut_sync ana proxy1.log # customers 1-5, aside

# First, what must not change: a snapshot cut, then roved restarted (a
# new run of the same history), resumes where it was, not from the start
# (the reply's head it was read at is in the restarted server's history):
# ada's sync pulls 5 fewer than ida's whole first one.
users ada:analyst
cut_sync ada proxy0.log
server_stop
server_start
r ada config server "$URL" >/dev/null
total=$(ROVE_PULL_BATCH=200 r admin sync --json >/dev/null; r admin customer list --json | jq length)
got=$(ROVE_PULL_BATCH=5 r ada sync --json)
eq "$(jq -r '.resent // 0' <<<"$got")" "0" "nothing sent again after a restart"
users ida:analyst
whole=$(ROVE_PULL_BATCH=5 r ida sync --json | jq .pulled)
eq "$((whole - $(jq .pulled <<<"$got")))" "5" "the snapshot resumed after its first chunk of 5"
eq "$(r ada customer list --json | jq length)" "$total" "ada holds every customer"
"$ROVED_BIN" backup "$T/srv" "$T/copy" 2>>"$T/roved.log" # while it serves: the same run
r admin sync >/dev/null
for i in 5 6 7 8 9; do r admin admin reassign --customer "${ids[$i]}" --to bob >/dev/null; done
cut_sync ana proxy2.log # customers 6-10, bob's, aside

# The copy put back; ana syncs again, straight to the server.
server_stop
rm -rf "$T/srv"
cp -a "$T/copy" "$T/srv"
server_start
r ana config server "$URL" >/dev/null
ROVE_PULL_BATCH=5 r ana sync >/dev/null 2>&1 || ROVE_PULL_BATCH=5 r ana sync >/dev/null
r admin sync >/dev/null 2>&1 || r admin sync >/dev/null
owners() { r "$1" customer list --json | jq -r 'sort_by(.id) | .[].owner' | paste -sd' '; }
eq "$(owners admin)" "$(printf 'alice %.0s' $(seq 1 30) | sed 's/ $//')" "the restored server: every customer alice's"
eq "$(owners ana)" "$(owners admin)" "ana holds the owners the server holds"
echo "ok"
