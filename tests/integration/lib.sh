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
	# ROVE_CHECK_AT_END=1 (scripts/test's release runs): a test that
	# passed ends with `roved check` of every server database it left, its
	# servers stopped - any scenario that leaves an index out of step with
	# its records fails, not only the tests that look. A test that damages
	# a database on purpose sets check_at_end=no.
	if [ $rc -eq 0 ] && [ "${ROVE_CHECK_AT_END:-0}" = 1 ] && [ "${check_at_end:-yes}" != no ]; then
		local lk db
		while IFS= read -r lk; do
			db=$(dirname "$lk")
			[ -f "$db/data.mdb" ] || continue
			if ! "$ROVED_BIN" check "$db" >"$T/.check-at-end" 2>&1; then
				echo "FAIL: roved check of $db at the end of the test:" >&2
				head -c 3000 "$T/.check-at-end" >&2
				rc=1
			fi
		done < <(find "$T" -name roved.lock 2>/dev/null)
	fi
	if [ $rc -ne 0 ]; then
		echo "--- test failed (status $rc); server log:" >&2
		tail -n 30 "$T/roved.log" >&2 2>/dev/null || true
	fi
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT
# Name the command that stopped a test, not just its status.
set -E
trap 's=$?; [[ $- == *e* ]] && echo "error: ${BASH_SOURCE[0]##*/}:$LINENO: $BASH_COMMAND (status $s)" >&2' ERR

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

# rove ARGS...: runs rove. Under the sanitizers (ROVE_SANITIZED=1)
# LeakSanitizer's check at a process's exit costs a short command about
# 30 ms of page faults, more than the command itself, and minutes across
# the suite. A leak matters where a process lives long and it grows:
# roved, rove ui and rove feed keep the check, as do the unit tests and
# the tests that set LEAKS_ONESHOT=1 before they source this file (the
# ones that run every command, and sync through faults). Other one-shot
# commands run without it.
rove() {
	local a
	if [ "${ROVE_SANITIZED:-0}" = 1 ] && [ "${LEAKS_ONESHOT:-0}" != 1 ]; then
		for a in "$@"; do
			case $a in ui | feed) "$ROVE_BIN" "$@"; return ;; esac
		done
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 "$ROVE_BIN" "$@"
		return
	fi
	"$ROVE_BIN" "$@"
}

# server_init: creates the database; sets ADMIN_TOKEN.
server_init() {
	ADMIN_TOKEN=$("$ROVED_BIN" init "$T/srv" 2>/dev/null)
	[ ${#ADMIN_TOKEN} -eq 64 ] || fail "roved init printed no token"
}

# server_start [NAME=VALUE...]: starts roved on $URL, with these in its
# environment, and waits until it answers.
server_start() {
	# shellcheck disable=SC2086
	env "$@" "$ROVED_BIN" serve "$T/srv" --listen "$URL" ${ROVED_ARGS:-} >>"$T/roved.log" 2>&1 &
	ROVED_PID=$!
	wait_listening "$URL" "$ROVED_PID" roved
}

# server_start_limited LIMIT [NAME=VALUE...]: as server_start, under
# `ulimit -n LIMIT` (soft and hard), with these in roved's environment;
# its output to ${ROVED_LOG:-$T/roved.log}.
server_start_limited() {
	local limit=$1
	shift
	(
		ulimit -n "$limit"
		# shellcheck disable=SC2086
		exec env "$@" "$ROVED_BIN" serve "$T/srv" --listen "$URL" ${ROVED_ARGS:-}
	) >>"${ROVED_LOG:-$T/roved.log}" 2>&1 &
	ROVED_PID=$!
	wait_listening "$URL" "$ROVED_PID" roved
}

# silent_sockets PORT N SECS: N TCP connections to 127.0.0.1:PORT that
# send nothing, held SECS seconds, then closed (in the foreground).
silent_sockets() {
	python3 - "$@" <<'PY'
import socket, sys, time
port, n, hold = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
socks = []
for _ in range(n):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect(('127.0.0.1', port))
    except BlockingIOError:
        pass
    socks.append(s)
time.sleep(hold)
PY
}

# server_listening [URL]: whether something listens at URL (default $URL:
# ipc://, tcp:// or tls+tcp://).
server_listening() {
	local url=${1:-$URL} hp
	case "$url" in
	ipc://*)
		# The socket file appears at bind(), a moment before listen():
		# a client that comes in between is refused (rove exits 3,
		# "cannot reach the server"), and a loaded machine can stretch
		# that moment. Listening is what /proc/net/unix says (the flag
		# __SO_ACCEPTCON, 00010000, on the socket bound to the path); a
		# connection is not tried (to nng a handshake broken off). A
		# socket file left by a killed server is not listening either.
		if [ -r /proc/net/unix ]; then
			awk -v p="${url#ipc://}" '$4 == "00010000" && length($0) > length(p) &&
				substr($0, length($0) - length(p)) == " " p { f = 1 } END { exit !f }' /proc/net/unix
		else
			[ -S "${url#ipc://}" ]
		fi
		;;
	tcp://* | tls+tcp://*)
		hp=${url#*://}
		(exec 3<>"/dev/tcp/${hp%:*}/${hp##*:}") 2>/dev/null
		;;
	*) fail "server_listening: cannot check $url" ;;
	esac
}

# wait_listening URL PID WHAT: waits up to 5 s until URL listens; fails if
# PID exits first or it never does.
wait_listening() {
	for _ in $(seq 1 100); do
		server_listening "$1" && return 0
		kill -0 "$2" 2>/dev/null || fail "$3 exited at start"
		sleep 0.05
	done
	fail "$3 did not start"
}

# free_port: a TCP port on 127.0.0.1 nobody listens on (probably).
# A port nothing listens on, below the kernel's range for outgoing
# connections (32768 up by default), so that no client of another test can
# be given it between this check and the bind.
free_port() {
	local p lo
	lo=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
	[ "${lo:-0}" -gt 21000 ] || lo=32768
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % (lo - 20000)))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	fail "no free port"
}

# tcp_server: the server on a free TCP port of loopback (SPORT, URL) and
# the admin's replica, for tests that put a proxy (proxy_start) between
# replicas and the server.
tcp_server() {
	server_init
	SPORT=$(free_port)
	URL="tcp://127.0.0.1:$SPORT"
	server_start
	admin_replica
}

# proxy_start LOG ARGS...: rove_chaos_proxy from a free port (PPORT) to
# the server's (SPORT) with ARGS, its stderr in $T/LOG; sets PROXY_PID.
proxy_start() {
	local log=$1
	shift
	PPORT=$(free_port)
	"$ROVE_PROXY" --listen "$PPORT" --to "$SPORT" "$@" 2>"$T/$log" &
	PROXY_PID=$!
	BG_PIDS+=("$PROXY_PID")
	wait_listening "tcp://127.0.0.1:$PPORT" "$PROXY_PID" "the proxy"
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
	mkdir -p "$T/tokens"
	echo "$ADMIN_TOKEN" >"$T/tokens/admin"
	rove -R "$T/admin" init --server "$URL" --user admin --token "$ADMIN_TOKEN" 2>/dev/null
}

# server_setup: server_init, server_start and admin_replica, how most tests
# begin.
server_setup() {
	server_init
	server_start
	admin_replica
}

# territory CODE [PARENT]: the admin adds a territory.
territory() {
	rove -R "$T/admin" admin territory add "$1" --name "Territory $1" ${2:+--parent "$2"} >/dev/null
}

# territories PATH...: the admin adds a territory for each PATH in turn,
# its last code under the one before it: `territories east east/east.sh`.
territories() {
	local t parent
	for t in "$@"; do
		parent=
		if [[ $t == */* ]]; then
			parent=${t%/*}
			parent=${parent##*/}
		fi
		territory "${t##*/}" "$parent"
	done
}

# user_replica NAME ROLE [CODE...]: adds the user with those territories
# (through the admin replica) and creates the replica "$T/NAME".
user_replica() {
	local name=$1 role=$2 token
	shift 2
	local opts=() code
	for code in "$@"; do
		opts+=(--territory "$code")
	done
	token=$(rove -R "$T/admin" admin user add "$name" --role "$role" "${opts[@]}")
	mkdir -p "$T/tokens"
	echo "$token" >"$T/tokens/$name"
	rove -R "$T/$name" init --server "$URL" --user "$name" --token "$token" 2>/dev/null
}

# users NAME:ROLE[:CODE[,CODE...]]...: user_replica for each in turn:
# `users alice:rep:east.sh mike:manager:east,west ana:analyst`.
users() {
	local u name role csv
	local -a codes
	for u in "$@"; do
		IFS=: read -r name role csv <<<"$u"
		IFS=, read -r -a codes <<<"$csv"
		user_replica "$name" "$role" "${codes[@]}"
	done
}

# ids_of NAME: the sorted customer ids on NAME's replica, one a line.
ids_of() {
	r "$1" customer list --json | jq -r '.[].id' | sort
}

# r NAME ARGS...: runs rove on the replica of NAME.
r() {
	local name=$1
	shift
	rove -R "$T/$name" "$@"
}

json_field() { jq -r ".$2" <<<"$1"; }

ROVE_PROBE=${ROVE_PROBE:-}

# probe NAME ARGS...: the hand-crafted client, as user NAME with NAME's
# token (read from NAME's replica status is not possible: tokens are kept
# in $T/tokens/NAME by user_replica).
probe() {
	local name=$1
	shift
	"$ROVE_PROBE" "$URL" "$name" "$(cat "$T/tokens/$name")" "$@"
}

# token_of NAME
token_of() { cat "$T/tokens/$1"; }

# need_private_mounts: the test goes on only where a tmpfs can be mounted
# in a mount namespace of its own (unshare -m: nothing is mounted for
# anyone else); elsewhere it says so and passes (exit 0).
need_private_mounts() {
	command -v unshare >/dev/null || fail "no unshare (util-linux)"
	if ! unshare -m --propagation private bash -c "mount -t tmpfs -o size=1m tmpfs '$T'" 2>/dev/null; then
		echo "skipped: a tmpfs in a mount namespace of the test's own (unshare -m is not permitted here)"
		exit 0
	fi
}

# need_faketime: libfaketime's library in FAKETIME_LIB, or the test fails.
# faketime_asan: what a sanitized process under libfaketime needs in
# ASAN_OPTIONS. ASan's allocator reads the monotonic clock the first time
# it fills a size class, holding its lock; libfaketime's clock_gettime
# looks its own symbols up then, which allocates: a deadlock (seen on
# 2026-12-05: every sanitized roved under libfaketime, `roved --help`
# too, hung at start). Without the periodic release of memory to the OS
# the allocator reads no clock.
faketime_asan="verify_asan_link_order=0:allocator_release_to_os_interval_ms=-1"
need_faketime() {
	FAKETIME_LIB=${FAKETIME_LIB:-/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1}
	[ -f "$FAKETIME_LIB" ] || fail "libfaketime is missing (scripts/deps installs the faketime package)"
}
# restore_scene: the start of the tests of a restore under a clock ahead
# (t_restore_wall, t_restore_gap): roved's clock 3 days ahead, rep cat
# (her laptop as fast) and manager max of territory east; cat adds a
# customer (its id in $c) and syncs, max syncs; then roved is stopped
# and its database copied to $T/copy. need_faketime and server_init first.
restore_scene() {
	server_start_at +3d
	admin_replica
	territories east
	users cat:rep:east max:manager:east
	sync_all admin cat max
	c=$(at +3d cat customer add --name "C1" --phone 13900000001)
	at +3d cat sync >/dev/null
	r max sync >/dev/null
	server_stop
	cp -a "$T/srv" "$T/copy"
}
# server_start_at OFFSET: roved started on $URL with its clock moved by
# OFFSET (libfaketime syntax, e.g. +4d; after server_stop); need_faketime
# first. Its monotonic clock is moved too: with FAKETIME_DONT_FAKE_MONOTONIC
# libfaketime (0.9.10) ends every timed wait on a CLOCK_MONOTONIC condition
# variable at once, and roved's and nng's timer threads then spin on both
# cores, starving the other processes (an admin command's connection was
# cut). Checked: the idle roved uses under a quarter of a core.
server_start_at() {
	local t0 t1
	server_start ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}$faketime_asan" \
		LD_PRELOAD="$FAKETIME_LIB" FAKETIME="$1"
	t0=$(cpu_ticks "$ROVED_PID")
	sleep 0.5
	t1=$(cpu_ticks "$ROVED_PID")
	[ $((t1 - t0)) -lt $(($(getconf CLK_TCK) / 8)) ] ||
		fail "roved under libfaketime $1 spins: $((t1 - t0)) clock ticks of CPU in 0.5 s idle"
}
# cpu_ticks PID: the CPU time PID used so far, in clock ticks.
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
# at OFFSET NAME ARGS...: rove on NAME's replica with its clock moved by
# OFFSET (libfaketime syntax, e.g. -40d); need_faketime first. Its
# monotonic clocks stay true, as a laptop's do when its wall clock is
# wrong or put right (rove's clock lead rests on CLOCK_BOOTTIME); the
# spinning this makes (server_start_at) lasts one short command.
at() {
	local off=$1
	shift
	LD_PRELOAD=$FAKETIME_LIB FAKETIME="$off" FAKETIME_DONT_FAKE_MONOTONIC=1 \
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}$faketime_asan r "$@"
}
# customers_csv FILE N NAME PHONE [PAD]: a CSV of N customers named
# "NAME i", their phones PHONE then i in 7 digits (lists with distinct
# PHONEs never share one: phones are unique among live customers), and
# with PAD an address padded with PAD x's.
customers_csv() {
	local file=$1 n=$2 name=$3 phone=$4 pad=${5:-}
	[ -z "$pad" ] || pad=$(printf "%${pad}s" "" | tr ' ' x)
	awk -v n="$n" -v name="$name" -v phone="$phone" -v pad="$pad" 'BEGIN {
		print pad == "" ? "name,phone" : "name,phone,address"
		for (i = 1; i <= n; i++)
			if (pad == "")
				printf "%s %d,%s%07d\n", name, i, phone, i
			else
				printf "%s %d,%s%07d,\"%d Long Street, %s\"\n", name, i, phone, i, i, pad
	}' >"$file"
}

# many_customers USER N PAD: USER imports N customers (a name, a phone,
# an address padded with PAD x's; the CSV is $T/many.csv) and syncs them.
many_customers() {
	local user=$1 n=$2
	customers_csv "$T/many.csv" "$n" Customer 1380 "$3"
	r "$user" import customers "$T/many.csv" >/dev/null
	eq "$(r "$user" sync --json | jq .accepted)" "$n" "the customers reached the server"
}

# holds_no_family NAME COLL CUSTOMER WHAT: NAME's replica holds neither
# the customer nor any COLL record of it: `COLL list --customer` says so
# (exit 1, "no customer ... in this replica").
holds_no_family() {
	local code=0
	r "$1" "$2" list --customer "$3" --json >"$T/none.out" 2>"$T/none.err" || code=$?
	eq "$code" "1" "$4 (the list printed: $(cat "$T/none.out"))"
	grep -q "no customer '$3' in this replica" "$T/none.err" || fail "$4: $(cat "$T/none.err")"
}

# sync_all NAME...: syncs each replica in turn, quietly.
sync_all() {
	local u
	for u in "$@"; do
		r "$u" sync >/dev/null
	done
}

# visible_to NAME: the admin's (server's) customers NAME should hold, as
# compact JSON (call after the admin synced). Reps: their own and their
# territories' pool; managers: their territories' subtree (pass the
# territory codes as further arguments).
scope_filter_rep() {
	local user=$1
	shift
	local codes
	codes=$(printf '%s\n' "$@" | jq -R . | jq -sc .)
	jq -c --arg u "$user" --argjson t "$codes" \
		'[.[] | select(.owner == $u or (.owner == null and (.territory as $x | $t | index($x))))]'
}

# die_after_meta N COMMAND...: runs COMMAND with tests/tools/rove_die_meta
# preloaded, which kills it (SIGKILL) right after its Nth write to an LMDB
# file's meta pages; COMMAND's status (137 when it was killed).
die_after_meta() {
	local n=$1 die
	shift
	die="$(dirname "$ROVE_RAW")/librove_die_meta.so"
	[ -f "$die" ] || fail "no $die (built with the tests)"
	LD_PRELOAD="$die" ROVE_DIE_AFTER_META=$n ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 "$@"
}

# wait_for SECONDS WHAT COMMAND...: runs COMMAND every 0.05 s until it
# succeeds; fails naming WHAT after SECONDS.
# start_ui NAME USER: `rove ui` on USER's replica in the background, its
# stdout in $T/NAME.out and stderr in $T/NAME.err, stopped with the test;
# UI_STARTED is its pid. Waits up to 5 s for the URL (callers check it).
start_ui() {
	local i
	"$ROVE_BIN" -R "$T/$2" ui >"$T/$1.out" 2>"$T/$1.err" &
	UI_STARTED=$!
	BG_PIDS+=("$UI_STARTED")
	for ((i = 0; i < 100; i++)); do
		[ -s "$T/$1.out" ] && return 0
		sleep 0.05
	done
}

# mkcert DIR [NAMES]: a test CA (DIR/ca.pem) and a server certificate it
# signs (DIR/server.pem, DIR/server.key) for NAMES, subjectAltName entries
# (default IP:127.0.0.1,DNS:127.0.0.1,DNS:localhost; the common name is
# the last one's). Needs openssl.
mkcert() {
	local dir=$1 names=${2:-IP:127.0.0.1,DNS:127.0.0.1,DNS:localhost}
	command -v openssl >/dev/null || fail "openssl is needed to make test certificates"
	mkdir -p "$dir"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=rove test CA" \
		-keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj "/CN=${names##*:}" \
		-keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
	# mbedtls matches the host against DNS names only, so 127.0.0.1 is one too.
	printf 'subjectAltName=%s\n' "$names" >"$dir/ext"
	openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
		-CAcreateserial -days 2 -extfile "$dir/ext" -out "$dir/server.pem" 2>/dev/null
}

# ui_login JAR URL: opens the URL rove ui printed with curl, keeping the
# session's cookie in JAR; prints the session's base URL
# (http://127.0.0.1:PORT/s/SECRET, pages below it).
ui_login() {
	local loc
	loc=$(curl -s -o /dev/null -c "$1" -w '%{redirect_url}' "$2")
	[[ $loc =~ ^http://127\.0\.0\.1:[0-9]+/s/[0-9a-f]{64}/$ ]] || fail "the URL rove ui printed led to '$loc'"
	echo "${loc%/}"
}

# grep_q ARGS...: grep -q for the end of a pipe. grep -q exits at its first
# match, and under pipefail the writer, still writing, then dies of
# SIGPIPE and fails the pipeline; this reads its input to the end.
grep_q() {
	grep "$@" >/dev/null
}

wait_for() {
	local secs=$1 what=$2 end
	shift 2
	end=$((SECONDS + secs)) # a deadline: a slow command counts too
	while :; do
		"$@" && return 0
		[ "$SECONDS" -lt "$end" ] || break
		sleep 0.05
	done
	fail "timed out after ${secs} s waiting for $what"
}

# exit_status CMD...: the exit status of a command, printed; its stdout
# in $T/out, its stderr in $T/err.
exit_status() {
	set +e
	"$@" >"$T/out" 2>"$T/err"
	local s=$?
	set -e
	echo "$s"
}

# exits_as USER STATUS ARGS...: rove ARGS on USER's replica exits STATUS,
# prints nothing on stdout and says why on stderr (kept in $T/err).
exits_as() {
	local user=$1 want=$2 out status
	shift 2
	set +e
	out=$(r "$user" "$@" 2>"$T/err")
	status=$?
	set -e
	eq "$status" "$want" "'rove $*' exit status ($(head -n 1 "$T/err"))"
	[ -z "$out" ] || fail "'rove $*' printed on stdout: $out"
	[ -s "$T/err" ] || fail "'rove $*' gave no message"
}

# elapsed_ms START_NS: milliseconds since START_NS (from date +%s%N).
elapsed_ms() { echo $((($(date +%s%N) - $1) / 1000000)); }
