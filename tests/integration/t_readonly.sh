#!/usr/bin/env bash
# A replica its user may only read: every read works (status, lists,
# shows, pending, rejected, notices, reports, export, config), opening
# LMDB read-only; every write (add, set, claim, import, sync, config
# VALUE) exits 1 saying the replica is read-only, and changes nothing.
#
# Two kinds of read-only, since root ignores file permissions:
#  - a read-only bind mount of the replica in a private mount namespace
#    (unshare -m; LMDB meets EROFS), skipped with a message where unshare
#    is not permitted;
#  - another user's replica, readable by all (run as nobody with setpriv
#    when the test runs as root; LMDB meets EACCES, lock file included).
. "$(dirname "$0")/lib.sh"

server_setup
territory east
users alice:rep:east
a=$(r alice customer add --name "Alpha Steel" --phone 13800001111 --address "1 Century Ave")
b=$(r alice customer add --name "Beta Coil" --phone 13800002222)
deal=$(r alice opportunity add --customer "$a" --title "Coil order" --amount 1000)
r alice sync >/dev/null
# A refusal kept under `rove rejected`: a duplicate phone made offline
# after the server has it from elsewhere.
rove -R "$T/admin" sync >/dev/null
rove -R "$T/admin" customer add --name "Gamma" --territory east --phone 13800003333 >/dev/null
rove -R "$T/admin" sync >/dev/null
r alice customer add --name "Gamma again" --phone 13800003333 >/dev/null
r alice sync >/dev/null
eq "$(r alice rejected --json | jq length)" "1" "a refusal to read back"
# Work not sent yet: pending.
r alice customer set "$b" address="2 Nanjing Rd" >/dev/null
r alice activity add --customer "$a" --kind call --note "called" >/dev/null
eq "$(r alice status --json | jq .pending)" "2" "pending work"
short=${b: -6} # an abbreviated id: the end of b's

# What every read shows on the writable replica, to compare with.
reads=(
	"status --json"
	"customer list --json"
	"customer list --search coil --json"
	"customer show $short --json"
	"contact list --json"
	"opportunity list --json"
	"activity list --json"
	"territory list --json"
	"pending --json"
	"rejected --json"
	"notices --json"
	"report pipeline --json"
	"export customers --json"
	"config --json"
)
mkdir -p "$T/want"
for i in "${!reads[@]}"; do
	# shellcheck disable=SC2086
	r alice ${reads[$i]} >"$T/want/$i"
done
sum_before=$(md5sum <"$T/alice/data.mdb")

# check_readonly RUN DIR: RUN DIR ARGS... runs rove on the replica DIR so
# that it is read-only.
check_readonly() {
	local run=$1 dir=$2 i status
	for i in "${!reads[@]}"; do
		# shellcheck disable=SC2086
		"$run" "$dir" ${reads[$i]} >"$T/got" 2>"$T/err" ||
			fail "$run: 'rove ${reads[$i]}' failed on a read-only replica: $(cat "$T/err")"
		[ ! -s "$T/err" ] || fail "$run: 'rove ${reads[$i]}' said: $(cat "$T/err")"
		cmp -s "$T/got" "$T/want/$i" || fail "$run: 'rove ${reads[$i]}' differs on a read-only replica:
$(diff "$T/want/$i" "$T/got" | head -5)"
	done
	"$run" "$dir" customer list | grep_q "Alpha Steel" || fail "$run: customer list (text)"
	"$run" "$dir" report pipeline --csv | grep_q "proposal\|lead" || fail "$run: report --csv"
	# Every write: exit 1, the reason, nothing changed.
	printf 'name,phone\nDelta,13800004444\n' >"$T/import.csv"
	chmod a+r "$T/import.csv"
	local writes=(
		"customer add --name Delta"
		"customer set $short tier=loyal"
		"customer release $a --reason moved"
		"activity add --customer $a --kind note --note hi"
		"opportunity stage $deal won"
		"import customers $T/import.csv"
		"config token $(printf 'b%.0s' $(seq 64))"
		"config server tcp://127.0.0.1:7411"
		"sync"
	)
	for w in "${writes[@]}"; do
		set +e
		# shellcheck disable=SC2086
		"$run" "$dir" $w >"$T/out" 2>"$T/err"
		status=$?
		set -e
		eq "$status" "1" "$run: 'rove $w' on a read-only replica"
		grep -q "the replica in '$dir' is read-only" "$T/err" ||
			fail "$run: 'rove $w': unclear error: $(cat "$T/err")"
		[ ! -s "$T/out" ] || fail "$run: 'rove $w' printed: $(cat "$T/out")"
	done
	"$run" "$dir" status --json >"$T/got"
	cmp -s "$T/got" "$T/want/0" || fail "$run: a refused write changed the status"
}

# 1. A read-only bind mount in a private mount namespace.
ro_mount() {
	local dir=$1
	shift
	unshare -m bash -c 'mount --make-rprivate / && mount --bind -o ro "$1" "$1" && shift && exec "$@"' \
		_ "$dir" "$ROVE_BIN" -R "$dir" "$@"
}
if unshare -m bash -c "mount --make-rprivate / && mount --bind -o ro '$T/alice' '$T/alice'" 2>/dev/null; then
	check_readonly ro_mount "$T/alice"
	eq "$(md5sum <"$T/alice/data.mdb")" "$sum_before" "the read-only mount's data file"
else
	echo "skipped: read-only bind mount (unshare -m is not permitted here)"
fi

# 2. Another user's replica, readable by all: its files, lock file
# included, belong to someone else and are not writable.
cp -a "$T/alice" "$T/shared"
chmod -R a+rX,a-w "$T/shared"
chmod a+x "$T" # the path to it
if [ "$(id -u)" = 0 ]; then
	mkdir -p "$T/bin"
	cp "$ROVE_BIN" "$T/bin/rove" # wherever the build is, nobody can run this copy
	chmod -R a+rx "$T/bin"
	as_other() {
		local dir=$1
		shift
		setpriv --reuid=65534 --regid=65534 --clear-groups "$T/bin/rove" -R "$dir" "$@"
	}
else
	as_other() {
		local dir=$1
		shift
		rove -R "$dir" "$@"
	}
fi
sum_before=$(md5sum <"$T/shared/data.mdb")
lock_before=$(md5sum <"$T/shared/lock.mdb")
check_readonly as_other "$T/shared"
eq "$(md5sum <"$T/shared/data.mdb")" "$sum_before" "the other user's data file"
eq "$(md5sum <"$T/shared/lock.mdb")" "$lock_before" "the other user's lock file"

# Nothing of the refused sync reached the server: the pending address
# change is not there.
rove -R "$T/admin" sync >/dev/null
eq "$(rove -R "$T/admin" customer show "$b" --json | jq -r '.address // ""')" "" "a refused sync sent nothing"
# 2b. A table made from the others gone (the view): a writer makes it
# anew; read only, it said "set up a new replica" (attack sixty-six),
# losing the pending changes. It says who makes it anew.
if [ "$(id -u)" = 0 ]; then
	cp -a "$T/alice" "$T/noview"
	"${ROVE_CORRUPT:?}" "$T/noview" view drop - >/dev/null
	chmod -R a+rX,a-w "$T/noview"
	rc=0
	as_other "$T/noview" customer list >/dev/null 2>"$T/err" || rc=$?
	eq "$rc" "1" "a read-only replica's list with its view gone"
	grep -q "a rove command by a user who may write it makes it anew" "$T/err" ||
		fail "a read-only replica with its view gone: $(cat "$T/err")"
	r noview customer list >/dev/null 2>&1 || fail "its owner's list with the view gone"
fi
# 3. A replica this user may not read at all is not "no replica" (whose
# advice, rove init, would then fail on files it did not make).
if [ "$(id -u)" = 0 ]; then
	cp -a "$T/alice" "$T/private"
	chmod 700 "$T/private"
	rc=0
	as_other "$T/private" status >/dev/null 2>"$T/err" || rc=$?
	eq "$rc" "1" "status of a replica this user may not read"
	grep -q "Permission denied" "$T/err" || fail "the refusal says why: $(cat "$T/err")"
	! grep -q "no replica" "$T/err" || fail "an unreadable replica called missing: $(cat "$T/err")"
fi
echo "ok"
