#!/usr/bin/env bash
# roved check of a serving database by a user who may read it but not its
# lock file: LMDB then reads without the lock (MDB_NOLOCK), and a writer
# may reuse the pages being read. Each check must say the database is
# consistent, or that it changed while it was read (exit 1) - never print
# problems read from torn pages, never die on LMDB's assertions (attack
# forty-six: 12 of 14 such checks aborted, exit 134, several after
# hundreds of invented problems; an operator would restore a backup).
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || {
	echo "skipped: needs root, to read as another user"
	exit 0
}
server_setup
territory east
users alice:rep:east
many_customers alice 10000 40

# The reader: nobody, who may read the directory and data.mdb, not the
# lock file (roved's, 0600).
chmod a+x "$T"
chmod a+rx "$T/srv"
chmod a+r "$T/srv/data.mdb"
mkdir -p "$T/bin"
cp "$ROVED_BIN" "$T/bin/roved"
chmod -R a+rx "$T/bin"
check_as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$T/bin/roved" check "$T/srv"
}
check_as_nobody >"$T/out" 2>"$T/err" || fail "the idle database, read without its lock: $(cat "$T/out" "$T/err")"
grep_q "is consistent" "$T/err" || fail "no word of consistency: $(cat "$T/err")"

# A writer: alice imports 1,000 customers and syncs, again and again
# (pushes of 1,000 ops, each a write transaction on the server).
(
	n=10
	while [ ! -e "$T/stop" ] && [ "$n" -lt 99 ]; do
		n=$((n + 1))
		customers_csv "$T/more.csv" 1000 "Round $n" "13$n" 40
		rove -R "$T/alice" import customers "$T/more.csv" >/dev/null
		rove -R "$T/alice" sync >/dev/null 2>&1 || true
	done
) &
writer=$!
BG_PIDS+=($writer)

# 12 checks; 8 under the sanitizers (ROVE_SANITIZED=1), where the writer
# running as long as they do cost most of the test's 50 s of CPU.
[ "${ROVE_SANITIZED:-0}" = 1 ] && CHECKS=8 || CHECKS=12
consistent=0 changed=0
for i in $(seq 1 "$CHECKS"); do
	rc=0
	check_as_nobody >"$T/out" 2>"$T/err" || rc=$?
	if [ "$rc" = 0 ] && grep_q "is consistent" "$T/err"; then
		consistent=$((consistent + 1))
	elif [ "$rc" = 1 ] && grep_q "changed while it was read" "$T/err" && [ ! -s "$T/out" ] &&
		[ "$(wc -l <"$T/err")" = 1 ]; then
		# that alone: no error read from a writer's page before it, no
		# "input/output error" after it (attack forty-seven)
		changed=$((changed + 1))
	else
		fail "check $i while roved wrote: exit $rc; $(head -c 600 "$T/out"); $(head -c 600 "$T/err")"
	fi
done
touch "$T/stop"
wait "$writer" || true
echo "$CHECKS checks while roved wrote: $consistent consistent, $changed changed while read"
# The server's own user reads with the lock: consistent.
"$ROVED_BIN" check "$T/srv" >"$T/out" 2>&1 || fail "check by the server's user: $(cat "$T/out")"
echo ok
