#!/usr/bin/env bash
# roved backup never writes its source. Before: the first backup of a
# database no roved had served yet added the tables a serving roved
# makes (and warned that it held no key of proofs of the clock, which
# roved init did not make), and a backup of a database of an older
# format upgraded the source in place before copying it - the backup an
# operator takes before an upgrade was of the upgraded database.
. "$(dirname "$0")/lib.sh"

# A database just made: its first backup leaves it byte for byte as it
# was, without a warning, and the copy checks clean.
server_init
sum=$(md5sum <"$T/srv/data.mdb")
"$ROVED_BIN" backup "$T/srv" "$T/bk1" 2>"$T/err" || fail "backup of a new database: $(cat "$T/err")"
eq "$(md5sum <"$T/srv/data.mdb")" "$sum" "a new database after its first backup"
grep_q "warning" "$T/err" && fail "the first backup of a new database warned: $(cat "$T/err")"
"$ROVED_BIN" check "$T/bk1" >"$T/out" 2>&1 || fail "check of the copy: $(cat "$T/out")"

# A served one, put back to format 6 (the format before this one's:
# 6 to 7 writes the format, then the start indexes customers by dealer).
server_start
admin_replica
territory east
users alice:rep:east
r alice customer add --name "Old One" --phone 13800000001 >/dev/null
r alice sync >/dev/null
server_stop
"$ROVE_CORRUPT" "$T/srv" meta put "$(printf format | od -An -tx1 | tr -d ' \n')" 0000000000000006 >/dev/null ||
	fail "the format could not be set"
sum=$(md5sum <"$T/srv/data.mdb")
"$ROVED_BIN" backup "$T/srv" "$T/bk2" 2>"$T/err" || fail "backup of an older format: $(cat "$T/err")"
eq "$(md5sum <"$T/srv/data.mdb")" "$sum" "the source of format 6 after its backup"
grep_q "copied as it is" "$T/err" || fail "the other format is not said: $(cat "$T/err")"
# The copy is of format 6: a server restored from it upgrades it, and
# serves alice's customer.
eq "$(mdb_dump -s meta "$T/bk2" | grep -A1 "$(printf format | od -An -tx1 | tr -d ' \n')$" | tail -1 | tr -d ' ')" \
	0000000000000006 "the copy's format"
rm -rf "$T/srv"
cp -r "$T/bk2" "$T/srv"
server_start
r alice sync >/dev/null
eq "$(r alice customer list --json | jq length)" 1 "alice's customers from the restored old copy"
server_stop
"$ROVED_BIN" check "$T/srv" >"$T/out" 2>&1 || fail "check after the upgrade: $(cat "$T/out")"

# A fault in the middle of LMDB's copy (a source cut or written over, or
# a page a writer reused under a read without the lock file; attack
# fifty-four: SIGSEGV, exit 139, a partial data.mdb left that looked
# like a backup): raised here at the copy's first write. Said, exit 1,
# nothing left in DEST.
die="$(dirname "$ROVE_RAW")/librove_die_meta.so"
[ -f "$die" ] || fail "no $die (built with the tests)"
rc=0
LD_PRELOAD="$die" ROVE_FAULT_AFTER_WRITES=1 ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
	"$ROVED_BIN" backup "$T/srv" "$T/bk3" 2>"$T/err" || rc=$?
eq "$rc" 1 "a backup whose copy faulted ($(cat "$T/err"))"
grep_q "faulted during the copy" "$T/err" || fail "not said: $(cat "$T/err")"
[ ! -e "$T/bk3" ] || fail "the faulted backup left $(ls -la "$T/bk3")"
echo ok
