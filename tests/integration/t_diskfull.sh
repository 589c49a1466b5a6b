#!/usr/bin/env bash
# A disk that fills up during a sync is said to be full, and nothing of
# the failed write is kept: LMDB answers a write cut short by a full disk
# with EIO, which was shown as "Input/output error" (attack on issue 17).
# The replica lives on a small tmpfs mounted in a mount namespace of the
# test's own (unshare -m: nothing is mounted for anyone else); when the
# filesystem grows, the same replica syncs whole. A read that would build
# the replica's index on a full disk reads by scanning instead.
. "$(dirname "$0")/lib.sh"

need_private_mounts
server_setup
territory east
users alice:rep:east ana:analyst
r alice sync >/dev/null

N=4000
many_customers alice $N 300

mkdir -p "$T/small"
cat >"$T/inside.sh" <<INNER
set -u
mount -t tmpfs -o size=1m tmpfs "$T/small" || exit 99
"$ROVE_BIN" -R "$T/small/ana" init --server "$URL" --user ana --token "$(token_of ana)" 2>/dev/null || exit 98
"$ROVE_BIN" -R "$T/small/ana" sync --json >"$T/full.out" 2>"$T/full.err"
echo \$? >"$T/full.rc"
mount -o remount,size=64m "$T/small" || exit 97
"$ROVE_BIN" -R "$T/small/ana" sync --json >"$T/room.out" 2>"$T/room.err"
echo \$? >"$T/room.rc"
dd if=/dev/zero of="$T/small/filler" bs=64k 2>/dev/null
"$ROVE_BIN" -R "$T/small/ana" customer list --sort name --json >"$T/list.out" 2>"$T/list.err"
echo \$? >"$T/list.rc"
INNER
rc=0
unshare -m --propagation private bash "$T/inside.sh" || rc=$?
eq "$rc" 0 "the small filesystem mounted in a namespace of the test's own"
eq "$(cat "$T/full.rc")" 1 "a sync onto a full disk fails ($(cat "$T/full.err"))"
grep -q "the disk is full" "$T/full.err" || fail "a full disk not said to be full: $(cat "$T/full.err")"
grep -qi "input/output error" "$T/full.err" && fail "a full disk shown as an I/O error: $(cat "$T/full.err")"
eq "$(cat "$T/room.rc")" 0 "with room, the same replica syncs ($(cat "$T/room.err"))"
# The first list after a snapshot builds the replica's index, on a disk
# now full again: it reads by scanning instead, and says so.
eq "$(cat "$T/list.rc")" 0 "a list on a full disk ($(cat "$T/list.err"))"
eq "$(jq length "$T/list.out")" "$N" "every customer listed"
grep -q "without its index until the disk has room" "$T/list.err" ||
	fail "the list on a full disk did not say it read without the index: $(cat "$T/list.err")"

# The server's disk fills up during alice's push: she is told it is the
# server's disk, not hers, and that her changes are kept (attack
# twenty-eight: "push: the disk is full" sent reps to clean their own
# laptops). The server runs from a copy on a small tmpfs in the test's
# own mount namespace; the test ends there (the copy goes with it).
customers_csv "$T/more.csv" 3000 Later 1390 300
r alice import customers "$T/more.csv" >/dev/null
server_stop
size=$(( $(du -sk "$T/srv" | cut -f1) + 256 ))
cat >"$T/server_full.sh" <<INNER
set -u
mkdir -p "$T/small2"
mount -t tmpfs -o size=${size}k tmpfs "$T/small2" || exit 99
cp -a "$T/srv" "$T/small2/srv" || exit 98
rm -f "$T/small2/srv/roved.lock"
"$ROVED_BIN" serve "$T/small2/srv" --listen "$URL" >>"$T/roved.log" 2>&1 &
pid=\$!
for _ in \$(seq 1 100); do [ -S "${URL#ipc://}" ] && break; sleep 0.1; done
"$ROVE_BIN" -R "$T/alice" sync >"$T/sfull.out" 2>"$T/sfull.err"
echo \$? >"$T/sfull.rc"
kill -TERM \$pid
wait \$pid
exit 0
INNER
rc=0
unshare -m --propagation private bash "$T/server_full.sh" || rc=$?
eq "$rc" 0 "the server's copy on a small filesystem, in a namespace of the test's own"
eq "$(cat "$T/sfull.rc")" 1 "a push onto the server's full disk fails ($(cat "$T/sfull.err"))"
grep -q "the server's disk is full" "$T/sfull.err" || fail "whose disk is full is not said: $(cat "$T/sfull.err")"
grep -q "your changes are kept" "$T/sfull.err" || fail "the rep is not told her changes are kept: $(cat "$T/sfull.err")"
echo "ok"
