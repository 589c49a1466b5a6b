#!/usr/bin/env bash
# roved check walks the pages of the file, not only what LMDB's cursors
# read (attack forty-eight): a free list that lists a page a tree holds
# reads clean through every cursor, and the next writer hands that page
# out and overwrites live data. Such a free list, and one listing a page
# twice (another page lost), are found and said: exit 1, the page named.
# So is what attack fifty-two found checking clean: a free list entry out
# of order, a page marked dirty (roved serve then died of SIGSEGV), a
# table whose header says duplicates (roved then kept two versions of a
# record), and keys out of order in a page. A main tree's root past the
# file, where LMDB cannot open the tables: the pages name it. roved
# backup refuses each damage to a tree, and copies a database whose free
# list alone is damaged into a whole copy; roved compact refuses both.
. "$(dirname "$0")/lib.sh"
check_at_end=no # it damages databases on purpose

edit="$(dirname "$0")/../tools/lmdb_damage.py"
server_setup
territory east
users alice:rep:east
many_customers alice 2000 40
# Edits make free pages: the free list has entries to damage.
for i in $(seq 1 20); do
	r alice customer add --name "Edit $i" >/dev/null
	r alice sync >/dev/null
done
server_stop
"$ROVED_BIN" check "$T/srv" >"$T/out" 2>&1 || fail "before any damage: $(cat "$T/out")"

for how in inuse twice unsorted dirty dupsort swapkeys rootpast; do
	rm -rf "$T/d" && cp -r "$T/srv" "$T/d"
	page=$(python3 "$edit" "$T/d/data.mdb" "$how") || fail "$how: the file could not be edited"
	rc=0
	"$ROVED_BIN" check "$T/d" >"$T/out" 2>"$T/err" || rc=$?
	eq "$rc" 1 "check of a file damaged ($how, page $page): $(cat "$T/out" "$T/err")"
	case $how in
	inuse) said="pages [0-9]*: free list: lists a page in use" ;;
	twice) said="pages [0-9]*: free list: listed twice" ;;
	unsorted) said="pages: free list: entry [0-9]*'s pages are not in order" ;;
	dirty) said="pages $page: main: not a .* page where the tree has one (flags 0x1[0-9a-f])" ;;
	dupsort) said="pages: [a-z]*: its header says LMDB flags 0x4, where its tables have 0x0" ;;
	swapkeys) said="pages $page: main: its keys are out of order" ;;
	rootpast) said="pages $page: main: names page $page, past the last page in use" ;;
	esac
	grep -q "^$said" "$T/out" || fail "$how: not said as '$said': $(cat "$T/out" "$T/err")"
	[ "$how" != twice ] || grep_q "neither in a tree nor in the free list" "$T/out" ||
		fail "twice: the lost page: $(cat "$T/out")"
	# roved backup walks the pages too: damage in a tree is not copied
	# (before, it was, or LMDB's copy died on it); a free list damaged
	# alone is said and copied, since the copy's free list is made anew.
	rc=0
	"$ROVED_BIN" backup "$T/d" "$T/bk-$how" 2>"$T/err" || rc=$?
	case $how in
	inuse | twice | unsorted)
		eq "$rc" 0 "backup of a copy whose free list alone is damaged ($how): $(cat "$T/err")"
		grep_q "its free list is damaged" "$T/err" || fail "$how: the backup did not say so: $(cat "$T/err")"
		"$ROVED_BIN" check "$T/bk-$how" >"$T/out" 2>&1 || fail "$how: the backup's copy: $(cat "$T/out")"
		;;
	*)
		eq "$rc" 1 "backup of a damaged copy ($how): $(cat "$T/err")"
		[ ! -e "$T/bk-$how" ] || fail "$how: the refused backup left its destination"
		grep_q "is damaged (.*): not backed up" "$T/err" || fail "$how: not said: $(cat "$T/err")"
		;;
	esac
	# roved compact writes where the free list says: any of it refused
	# (before, each compacted, exit 0, writing over pages in use).
	sum=$(md5sum <"$T/d/data.mdb")
	rc=0
	"$ROVED_BIN" compact "$T/d" --keep-days 3650 >/dev/null 2>"$T/err" || rc=$?
	eq "$rc" 1 "compaction of a damaged copy ($how): $(cat "$T/err")"
	eq "$(md5sum <"$T/d/data.mdb")" "$sum" "$how: the refused compaction wrote nothing"
done
echo ok
