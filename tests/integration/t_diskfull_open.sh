#!/usr/bin/env bash
# Opening, creating and backing up databases on a full disk (attack 5).
# LMDB makes a missing lock.mdb with ftruncate and writes it through its
# map: on a full disk, the first touch was a SIGBUS (exit 135) of
# `roved check`, `rove status`, `rove init` and `roved init`. They now
# fail with exit 1, say the disk is full and leave nothing behind; a
# `roved backup` onto a disk that fills up removes its partial copy (and
# DEST, when it made it) and keeps a DEST that was there. Once the disk
# has room, the same commands work. The disk is a small tmpfs mounted in
# a mount namespace of the test's own (unshare -m: nothing is mounted for
# anyone else).
. "$(dirname "$0")/lib.sh"

need_private_mounts
server_init
rove -R "$T/rep" init --server "$URL" --user admin --token "$ADMIN_TOKEN" 2>/dev/null
mkdir -p "$T/small"

# Everything on the small disk happens inside the namespace; each command
# leaves its status (NAME.rc), stderr (NAME.err) and what its directory
# holds afterwards (NAME.ls) in $T for the checks below.
cat >"$T/inside.sh" <<INNER
set -u
S="$T/small"
[ "\${ROVE_SANITIZED:-0}" = 1 ] && export ASAN_OPTIONS=\${ASAN_OPTIONS:+\$ASAN_OPTIONS:}detect_leaks=0
run() { # NAME DIR COMMAND...: runs it, notes its status, stderr and DIR
	local name=\$1 dir=\$2
	shift 2
	"\$@" >"$T/\$name.out" 2>"$T/\$name.err"
	echo \$? >"$T/\$name.rc"
	if [ -d "\$dir" ]; then ls -A "\$dir"; else echo "(absent)"; fi >"$T/\$name.ls"
}
fill() { # the disk's last page too
	dd if=/dev/zero of="\$S/fill.\$1" bs=64k 2>/dev/null
	dd if=/dev/zero of="\$S/fill.\$1.tail" bs=4k 2>/dev/null
}
mount -t tmpfs -o size=4m tmpfs "\$S" || exit 99
cp -a "$T/srv" "\$S/srv" && cp -a "$T/rep" "\$S/rep" || exit 98
rm -f "\$S/srv/lock.mdb" "\$S/srv/roved.lock" "\$S/rep/lock.mdb"
# 8 KiB left: a backup (20 KiB) starts and runs out.
dd if=/dev/zero of="\$S/reserve" bs=4k count=2 2>/dev/null
fill 1
rm "\$S/reserve"
run backup_new "\$S/bk" "$ROVED_BIN" backup "$T/srv" "\$S/bk"
mkdir "\$S/bk2"
run backup_empty "\$S/bk2" "$ROVED_BIN" backup "$T/srv" "\$S/bk2"
fill 2
run check "\$S/srv" "$ROVED_BIN" check "\$S/srv"
run status "\$S/rep" "$ROVE_BIN" -R "\$S/rep" status
run rove_init "\$S/rep2" "$ROVE_BIN" -R "\$S/rep2" init --server "$URL" --user admin --token "$ADMIN_TOKEN"
run roved_init "\$S/srv2" "$ROVED_BIN" init "\$S/srv2"
# A lock file with holes, as a process killed by that SIGBUS left it.
truncate -s 8192 "\$S/srv/lock.mdb"
run check_holes "\$S/srv" "$ROVED_BIN" check "\$S/srv"
rm -f "\$S"/fill.*
run room_backup "\$S/bk" "$ROVED_BIN" backup "$T/srv" "\$S/bk"
run room_check_backup "\$S/bk" "$ROVED_BIN" check "\$S/bk"
run room_check "\$S/srv" "$ROVED_BIN" check "\$S/srv"
stat -c '%s %b %B' "\$S/srv/lock.mdb" >"$T/lock.stat"
run room_status "\$S/rep" "$ROVE_BIN" -R "\$S/rep" status
run room_rove_init "\$S/rep2" "$ROVE_BIN" -R "\$S/rep2" init --server "$URL" --user admin --token "$ADMIN_TOKEN"
run room_roved_init "\$S/srv2" "$ROVED_BIN" init "\$S/srv2"
umount "\$S"
INNER
rc=0
unshare -m --propagation private bash "$T/inside.sh" || rc=$?
eq "$rc" 0 "the small filesystem mounted in a namespace of the test's own"

# full NAME WHAT: NAME failed as a full disk should make it fail.
# full NAME WHAT [LS]: NAME's command failed on the full disk (exit 1,
# saying so, no SIGBUS); with LS, what it left where it wrote (ls, or
# "(absent)") is that: nothing half made.
full() {
	local rc err
	rc=$(cat "$T/$1.rc")
	err=$(cat "$T/$1.err")
	[ "$rc" != 135 ] || fail "$2 died of SIGBUS on a full disk"
	eq "$rc" 1 "$2 on a full disk ($err)"
	grep -qE "no space left|disk is full" "$T/$1.err" || fail "$2: a full disk not said to be full: $err"
	[ $# -lt 3 ] || eq "$(cat "$T/$1.ls")" "$3" "what $2 left on a full disk"
}
full backup_new "roved backup into a new DEST" "(absent)"
full backup_empty "roved backup into an empty DEST" ""
full check "roved check" data.mdb
full status "rove status" data.mdb
full rove_init "rove init" "(absent)"
full roved_init "roved init" "(absent)"
full check_holes "roved check with a lock file full of holes"

# With room, the same commands work.
for n in room_backup room_check_backup room_check room_status room_rove_init room_roved_init; do
	eq "$(cat "$T/$n.rc")" 0 "$n with room ($(cat "$T/$n.err"))"
done
grep -q "is consistent" "$T/room_check_backup.err" || fail "the backup does not check clean"
[ "$(wc -c <"$T/room_roved_init.out")" -eq 65 ] || fail "roved init printed no token"
# The lock file has its blocks (size, blocks, block size).
read -r size blocks bsize <"$T/lock.stat"
[ $((blocks * bsize)) -ge "$size" ] || fail "lock.mdb has holes: $(cat "$T/lock.stat")"
echo "ok"
