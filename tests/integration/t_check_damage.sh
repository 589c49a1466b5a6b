#!/usr/bin/env bash
# roved check of copies damaged at random (1 to 64 random bytes written
# over a random offset of data.mdb, seeded): each check ends with exit 0
# (the damage missed what it reads, or hit free pages) or exit 1 saying
# what is wrong - never a crash (attack forty-seven: 10 of 150 such
# copies died of SIGSEGV or SIGBUS), never "no database" for a database
# that is there (nor, for one without its format key, "run roved init").
# Under the sanitizers it is also a hunt for reads past what a damaged
# page holds.
. "$(dirname "$0")/lib.sh"
check_at_end=no # it damages databases on purpose

SEED=${ROVE_SEED:-$RANDOM}
echo "seed $SEED (replay with ROVE_SEED=$SEED)"
RANDOM=$SEED
# 60 copies in the optimised build (label release: 8 s), 10 under the
# sanitizers, where each check costs seconds (CI's whole run neared its
# 20 minutes with 25).
[ "${ROVE_SANITIZED:-0}" = 1 ] && copies=10 || copies=60

server_setup
territory east
users alice:rep:east
r admin sync >/dev/null
r alice sync >/dev/null
cp -r "$T/admin" "$T/admin-early" # its cursor before alice's customers
cp -r "$T/alice" "$T/alice-early" # the same, of a rep (a scoped pull)
many_customers alice 3000 40
"$ROVED_BIN" backup "$T/srv" "$T/good" 2>"$T/err" || fail "backup: $(cat "$T/err")"
"$ROVED_BIN" check "$T/good" >"$T/out" 2>&1 || fail "the copy before any damage: $(cat "$T/out")"
size=$(stat -c %s "$T/good/data.mdb")

# damage COPY OFFSET BYTES: COPY is the good copy with BYTES random bytes
# written at OFFSET.
damage() {
	rm -rf "$1"
	cp -r "$T/good" "$1"
	head -c "$3" /dev/urandom >"$T/bytes"
	dd if="$T/bytes" of="$1/data.mdb" bs=1 seek="$2" conv=notrunc status=none
}

# checked COPY WHAT: roved check of COPY exits 0 or 1, and 1 says why.
clean=0 damaged=0
checked() {
	local rc=0
	"$ROVED_BIN" check "$1" >"$T/out" 2>"$T/err" || rc=$?
	case $rc in
	0) clean=$((clean + 1)) ;;
	1)
		damaged=$((damaged + 1))
		[ -s "$T/out" ] || [ -s "$T/err" ] || fail "$2: exit 1 without a word"
		grep_q "no database in" "$T/err" && fail "$2: called no database: $(cat "$T/err")"
		;;
	*) fail "$2: exit $rc: $(tail -c 600 "$T/err")" ;;
	esac
	return 0
}

# The second meta page overwritten (attack forty-seven: SIGBUS).
damage "$T/d" 4136 8
checked "$T/d" "the second meta page"
# put FILE OFFSET BYTES: BYTES (printf's escapes) at OFFSET of FILE, in
# both meta pages (pages of 4,096: OFFSET and 4,096 + OFFSET).
put() {
	printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
	printf "$3" | dd of="$1" bs=1 seek="$((4096 + $2))" conv=notrunc status=none
}
# A page size of 0 in both meta pages (attack forty-eight: SIGFPE), and
# the main tree's root at page 1 (LMDB's assertion, SIGABRT): damage,
# said, exit 1.
rm -rf "$T/d" && cp -r "$T/good" "$T/d"
put "$T/d/data.mdb" 40 '\0\0\0\0'
checked "$T/d" "a page size of 0"
rm -rf "$T/d" && cp -r "$T/good" "$T/d"
put "$T/d/data.mdb" 128 '\1\0\0\0\0\0\0\0'
checked "$T/d" "the main tree's root at page 1"
grep_q "is damaged" "$T/err" || fail "the root at page 1 was not called damage: $(cat "$T/err")"
# So for a replica and rove (attack forty-eight: status, list, report and
# sync died with SIGABRT), and roved serve.
cp -r "$T/alice" "$T/ra"
put "$T/ra/data.mdb" 128 '\1\0\0\0\0\0\0\0'
for args in status "customer list" "report pipeline"; do
	rc=0
	# shellcheck disable=SC2086 # the words of args are the arguments
	rove -R "$T/ra" $args >/dev/null 2>"$T/err" || rc=$?
	eq "$rc" 1 "rove $args on a damaged replica ($(tail -c 300 "$T/err"))"
	grep_q "is damaged" "$T/err" || fail "rove $args: not called damage: $(cat "$T/err")"
done
rc=0
timeout 20 "$ROVED_BIN" serve "$T/d" --listen "ipc://$T/d.sock" >/dev/null 2>"$T/err" || rc=$?
eq "$rc" 1 "roved serve of a damaged database ($(tail -c 300 "$T/err"))"
# A page size of 0 (attack forty-nine: SIGFPE in serve, backup, compact
# and rove; a backup's destination left behind) or past LMDB's largest:
# refused at open, saying so, exit 1.
for psize in '\0\0\0\0' '\0\0\0\200'; do
	rm -rf "$T/d" "$T/dbk" && cp -r "$T/good" "$T/d"
	put "$T/d/data.mdb" 40 "$psize"
	for args in "serve $T/d --listen ipc://$T/d.sock" "backup $T/d $T/dbk" "compact $T/d --keep-days 1"; do
		rc=0
		# shellcheck disable=SC2086 # the words of args are the arguments
		timeout 20 "$ROVED_BIN" $args >/dev/null 2>"$T/err" || rc=$?
		eq "$rc" 1 "roved ${args%% *} with a page size of $psize ($(tail -c 300 "$T/err"))"
		grep_q "gives a page size of" "$T/err" || fail "roved ${args%% *}: not said: $(cat "$T/err")"
	done
	[ ! -e "$T/dbk" ] || fail "the refused backup left its destination"
	rm -rf "$T/rb" && cp -r "$T/alice" "$T/rb"
	put "$T/rb/data.mdb" 40 "$psize"
	rc=0
	rove -R "$T/rb" status >/dev/null 2>"$T/err" || rc=$?
	eq "$rc" 1 "rove status with a page size of $psize ($(tail -c 300 "$T/err"))"
done
# A database without its format key: every command says it is damaged,
# none that it is missing and wants 'roved init' (attack sixty-one).
rm -rf "$T/nf"
cp -r "$T/good" "$T/nf"
"${ROVE_CORRUPT:?}" "$T/nf" meta delall "$(printf format | od -An -tx1 | tr -d ' \n')" >/dev/null
for cmd in "serve $T/nf --listen ipc://$T/nf.sock" "compact $T/nf --keep-days 1" "check $T/nf" "backup $T/nf $T/nf2"; do
	rc=0
	# shellcheck disable=SC2086 # the words of cmd
	"$ROVED_BIN" $cmd >"$T/out" 2>&1 || rc=$?
	eq "$rc" 1 "roved $cmd without the format key: exit status"
	grep_q "is damaged" <"$T/out" || fail "roved $cmd without the format key: $(cat "$T/out")"
	grep_q "roved init\|no database" <"$T/out" && fail "roved $cmd without the format key: $(cat "$T/out")"
done
# A replica's file in a server's directory: the same (it said "malformed
# data": attack sixty-two).
rm -rf "$T/rf"
mkdir "$T/rf"
cp "$T/admin/data.mdb" "$T/rf/"
rc=0
timeout 10 "$ROVED_BIN" serve "$T/rf" --listen "ipc://$T/rf.sock" >"$T/out" 2>&1 || rc=$?
eq "$rc" 1 "roved serve of a replica's file: exit status ($(cat "$T/out"))"
grep_q "is damaged, or not a server's" <"$T/out" || fail "roved serve of a replica's file: $(cat "$T/out")"
# A table emptied by damage: served, every login failed "authentication
# failed" (users), every pull gave nothing (records) or every replica
# was told its server's history had changed (oplog) (attack sixty-two).
for table in users records oplog; do
	rm -rf "$T/et"
	cp -r "$T/good" "$T/et"
	"$ROVE_CORRUPT" "$T/et" "$table" delall - >/dev/null
	rc=0
	timeout 10 "$ROVED_BIN" serve "$T/et" --listen "ipc://$T/et.sock" >"$T/out" 2>&1 || rc=$? # (it served: 124)
	eq "$rc" 1 "roved serve with its $table emptied: exit status ($(cat "$T/out"))"
	grep_q "is damaged" <"$T/out" || fail "roved serve with its $table emptied: $(cat "$T/out")"
done
# Ops lost from the middle of the oplog: served, a pull of every op
# skipped them with exit 0 and the replica kept what they changed, and a
# compaction then dropped the ops around the gap, hiding it for good
# (attack sixty-two). The pull now says the server's database is
# damaged; the compaction stops at the gap.
# serve_damaged NAME: roved serving $T/NAME (a damaged copy) on
# ipc://$T/NAME.sock, its log in $T/NAME.log; its pid in SERVED.
serve_damaged() {
	"$ROVED_BIN" serve "$T/$1" --listen "ipc://$T/$1.sock" 2>"$T/$1.log" &
	SERVED=$!
	BG_PIDS+=("$SERVED")
	wait_for 10 "the damaged copy $1 served" grep_q "serving on" "$T/$1.log"
}
# sync_says REPLICA WHAT TEXT: rove sync of REPLICA exits 1 saying TEXT.
sync_says() {
	local rc=0
	rove -R "$T/$1" sync >/dev/null 2>"$T/err" || rc=$?
	eq "$rc" 1 "$2: exit status ($(cat "$T/err"))"
	grep_q "$3" <"$T/err" || fail "what $2 said: $(cat "$T/err")"
}
rm -rf "$T/hole"
cp -r "$T/good" "$T/hole"
"$ROVE_CORRUPT" "$T/hole" oplog del 1000 >/dev/null
serve_damaged hole
rove -R "$T/admin-early" config server "ipc://$T/hole.sock" >/dev/null
sync_says admin-early "a pull across a gap in the oplog" "the server's database is damaged"
# A rep's pull reads the ops its scopes' log names: the same (attack
# sixty-two: not seen).
rove -R "$T/alice-early" config server "ipc://$T/hole.sock" >/dev/null
sync_says alice-early "a rep's pull across a gap in the oplog" "the server's database is damaged"
kill "$SERVED"
wait "$SERVED" 2>/dev/null || true
rc=0
"$ROVED_BIN" compact "$T/hole" --keep-days 0 >"$T/out" 2>&1 || rc=$?
eq "$rc" 1 "roved compact across a gap in the oplog: exit status ($(cat "$T/out"))"
grep_q "the oplog lacks ops" <"$T/out" || fail "what roved compact said: $(cat "$T/out")"
# A record that does not decode, served: a sync that reads it said only
# "pull: malformed data", and roved's log "corrupt record in the store"
# (attack sixty-one). Both now say the server's database is damaged.
rm -rf "$T/gr"
cp -r "$T/good" "$T/gr"
gkey=$("$ROVE_CORRUPT" "$T/gr" records garble 3)
serve_damaged gr
rove -R "$T/gr-admin" init --server "ipc://$T/gr.sock" --user admin --token "$ADMIN_TOKEN" 2>/dev/null
sync_says gr-admin "a sync that reads a damaged record" "the server's database is damaged"
grep_q "the database is damaged" <"$T/gr.log" || fail "what roved said: $(cat "$T/gr.log")"
# A push that changes that record: the same ("push: malformed data").
gid=${gkey: -32}
gid="${gid:0:8}-${gid:8:4}-${gid:12:4}-${gid:16:4}-${gid:20:12}"
r admin sync >/dev/null
cp -r "$T/admin" "$T/gr-admin2"
rove -R "$T/gr-admin2" config server "ipc://$T/gr.sock" >/dev/null
rove -R "$T/gr-admin2" customer set "$gid" tier=loyal >/dev/null
sync_says gr-admin2 "a push that changes a damaged record" "push: the server's database is damaged"
kill "$SERVED"
wait "$SERVED" 2>/dev/null || true
for i in $(seq 1 "$copies"); do
	# $RANDOM is 15 bits: two make an offset anywhere in the file.
	off=$(((RANDOM * 32768 + RANDOM) % size))
	n=$((RANDOM % 64 + 1))
	damage "$T/d" "$off" "$n"
	checked "$T/d" "copy $i ($n bytes at $off)"
done
echo "$((copies + 3)) damaged copies: $clean checked clean, $damaged found damaged"
echo ok
