# lib.sh - shared helpers for rove's integration tests.
#
# Each test sources this file, gets its own temporary directory ($T), an
# ipc:// address inside it ($URL), and a trap that stops every process it
# started. Binaries come from $ROVE_BIN / $ROVED_BIN (set by CTest).
set -euo pipefail

ROVE_BIN=${ROVE_BIN:?set ROVE_BIN to the rove binary}
ROVED_BIN=${ROVED_BIN:?set ROVED_BIN to the roved binary}
T=$(mktemp -d "${TMPDIR:-/tmp}/rove-test.XXXXXX")
URL="ipc://$T/roved.sock"
ROVED_PID=
declare -a BG_PIDS=()

cleanup() {
	local rc=$?
	for p in "${BG_PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null || true
	done
	if [ -n "$ROVED_PID" ]; then
		kill -TERM "$ROVED_PID" 2>/dev/null || true
		for _ in $(seq 1 40); do
			kill -0 "$ROVED_PID" 2>/dev/null || break
			sleep 0.05
		done
		kill -9 "$ROVED_PID" 2>/dev/null || true
	fi
	wait 2>/dev/null || true
	if [ $rc -ne 0 ]; then
		echo "--- test failed (status $rc); server log:" >&2
		tail -n 30 "$T/roved.log" 2>/dev/null >&2 || true
	fi
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# check DESCRIPTION CONDITION...: runs the condition, fails with the text.
check() {
	local what=$1
	shift
	"$@" || fail "$what"
}

eq() {
	[ "$1" == "$2" ] || fail "${3:-values differ}: got '$1', expected '$2'"
}

rove() { "$ROVE_BIN" "$@"; }

# server_init: creates the database; sets ADMIN_TOKEN.
server_init() {
	ADMIN_TOKEN=$("$ROVED_BIN" init "$T/srv" 2>/dev/null)
	[ ${#ADMIN_TOKEN} -eq 64 ] || fail "roved init printed no token"
}

# server_start: starts roved on $URL and waits until it answers.
server_start() {
	"$ROVED_BIN" serve "$T/srv" --listen "$URL" >>"$T/roved.log" 2>&1 &
	ROVED_PID=$!
	for _ in $(seq 1 100); do
		[ -S "$T/roved.sock" ] && return 0
		sleep 0.05
	done
	fail "roved did not start"
}

server_stop() {
	[ -n "$ROVED_PID" ] || return 0
	kill -TERM "$ROVED_PID"
	wait "$ROVED_PID" || fail "roved did not stop cleanly on SIGTERM"
	ROVED_PID=
}

server_kill() {
	[ -n "$ROVED_PID" ] || return 0
	kill -9 "$ROVED_PID" 2>/dev/null || true
	wait "$ROVED_PID" 2>/dev/null || true
	ROVED_PID=
	rm -f "$T/roved.sock"
}

# admin_replica: a replica "$T/admin" for the admin user.
admin_replica() {
	rove -R "$T/admin" init --server "$URL" --user admin --token "$ADMIN_TOKEN" 2>/dev/null
}

# user_replica NAME ROLE: adds the user (through the admin replica) and
# creates the replica "$T/NAME".
user_replica() {
	local token
	token=$(rove -R "$T/admin" admin user add "$1" --role "$2")
	rove -R "$T/$1" init --server "$URL" --user "$1" --token "$token" 2>/dev/null
}

# r NAME ARGS...: runs rove on the replica of NAME.
r() {
	local name=$1
	shift
	"$ROVE_BIN" -R "$T/$name" "$@"
}

json_field() { jq -r ".$2" <<<"$1"; }
