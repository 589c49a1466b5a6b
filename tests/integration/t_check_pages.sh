#!/usr/bin/env bash
# roved check walks the pages of the file, not only what LMDB's cursors
# read (attack forty-eight): a free list that lists a page a tree holds
# reads clean through every cursor, and the next writer hands that page
# out and overwrites live data. Such a free list, and one listing a page
# twice (another page lost), are found and said: exit 1, the page named.
. "$(dirname "$0")/lib.sh"

edit="$(dirname "$0")/../tools/lmdb_freelist.py"
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

for how in inuse twice; do
	rm -rf "$T/d" && cp -r "$T/srv" "$T/d"
	page=$(python3 "$edit" "$T/d/data.mdb" "$how") || fail "$how: the free list could not be edited"
	rc=0
	"$ROVED_BIN" check "$T/d" >"$T/out" 2>"$T/err" || rc=$?
	eq "$rc" 1 "check of a free list damaged ($how, page $page): $(cat "$T/out" "$T/err")"
	case $how in
	inuse) grep_q "free list: lists a page in use" "$T/out" || fail "inuse: not said: $(cat "$T/out")" ;;
	twice)
		grep_q "free list: listed twice" "$T/out" || fail "twice: not said: $(cat "$T/out")"
		grep_q "neither in a tree nor in the free list" "$T/out" || fail "twice: the lost page: $(cat "$T/out")"
		;;
	esac
done
echo ok
