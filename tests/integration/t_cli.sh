#!/usr/bin/env bash
# The command line's contract: ids alone on stdout, errors on stderr with a
# non-zero status, and a failed command changes nothing.
# Its one-shot commands keep LeakSanitizer's check (lib.sh, rove).
LEAKS_ONESHOT=1
. "$(dirname "$0")/lib.sh"

server_init
set +e
"$ROVED_BIN" init "$T/srv" >/dev/null 2>&1
eq "$?" "1" "roved init refuses an existing database"
set -e
server_start
admin_replica
territory east.sh
user_replica alice rep east.sh

# The time of the last sync: none before the first one, a time after it.
eq "$(r alice status --json | jq -c .last_sync)" "null" "last_sync before the first sync"
r alice status | grep_q -x "last sync: never" || fail "status before the first sync: $(r alice status)"
r alice sync >/dev/null # learns its role
when=$(r alice status --json | jq -r .last_sync)
[[ "$when" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]] || fail "last_sync after a sync: '$when'"
r alice status | grep_q -x "last sync: $when" || fail "status after a sync: $(r alice status)"
# It is kept in a file of its own beside the database, not in LMDB.
ms=$(cat "$T/alice/last_sync")
[[ "$ms" =~ ^[1-9][0-9]*$ ]] || fail "last_sync file holds '$ms'"
now=$(date +%s%3N)
[ $((now - ms)) -ge 0 ] && [ $((now - ms)) -lt 600000 ] || fail "last_sync $ms is not about now ($now)"
eq "$(date -u -d "@$((ms / 1000))" +%Y-%m-%dT%H:%M:%SZ)" "$when" "status shows the file's time"
eq "$(stat -c %a "$T/alice/last_sync")" "600" "last_sync file mode"
eq "$(find "$T/alice" -name 'last_sync.*' | wc -l)" "0" "no temporary file left"
# A sync with nothing new writes nothing to LMDB (only the file).
r alice sync >/dev/null
cp "$T/alice/data.mdb" "$T/data.before"
sleep 0.01
r alice sync >/dev/null
cmp -s "$T/alice/data.mdb" "$T/data.before" || fail "a no-op sync changed data.mdb"
[ "$(cat "$T/alice/last_sync")" -ge "$ms" ] || fail "last_sync went back"
# A replica path that is a file is not "no replica" (whose advice, rove
# init, fails there too); an init whose parent directory is missing
# ends with no "input/output error" after the reason (attack fifteen).
touch "$T/afile"
rc=0
rove -R "$T/afile" status 2>"$T/err" || rc=$?
eq "$rc" "1" "status on a file"
grep -q "is a file, not a replica's directory" "$T/err" || fail "status on a file: $(cat "$T/err")"
! grep -q "run 'rove init'" "$T/err" || fail "status on a file advises init: $(cat "$T/err")"
rc=0
rove -R "$T/no/such/dir" init --server "$URL" --user alice --token "$(printf 'a%.0s' $(seq 64))" 2>"$T/err" || rc=$?
eq "$rc" "1" "init under a missing directory"
grep -q "No such file or directory (a directory above it is missing: create it first)" "$T/err" ||
	fail "init under a missing directory: $(cat "$T/err")"
! grep -q "input/output error" "$T/err" || fail "init's last line misleads: $(cat "$T/err")"
# A file that is not a time reads as never, not as an error.
good=$(cat "$T/alice/last_sync")
for garbage in "" "abc" "12x" "-5" " 1700000000000" "1700000000000 " $'1700000000000\n' "0" "01700000000000" \
	"253402300800000" "18446744073709551615" "18446744073709551616" "123456789012345678901"; do
	printf '%s' "$garbage" >"$T/alice/last_sync"
	out=$(r alice status --json) || fail "status failed on last_sync '$garbage'"
	eq "$(jq -c .last_sync <<<"$out")" "null" "last_sync file '$garbage'"
	r alice status | grep_q -x "last sync: never" || fail "status text on last_sync '$garbage'"
done
# The range's ends.
printf '1' >"$T/alice/last_sync"
eq "$(r alice status --json | jq -r .last_sync)" "1970-01-01T00:00:00Z" "last_sync 1 ms"
printf '253402300799999' >"$T/alice/last_sync"
eq "$(r alice status --json | jq -r .last_sync)" "9999-12-31T23:59:59Z" "the latest last_sync"
printf '%s' "$good" >"$T/alice/last_sync"
eq "$(r alice status --json | jq -r .last_sync)" "$(date -u -d "@$((good / 1000))" +%Y-%m-%dT%H:%M:%SZ)" \
	"a good last_sync file reads again"
rm "$T/alice/last_sync"
eq "$(r alice status --json | jq -c .last_sync)" "null" "no last_sync file"
mkdir "$T/alice/last_sync"
eq "$(r alice status --json 2>/dev/null | jq -c .last_sync)" "null" "a directory named last_sync"
rmdir "$T/alice/last_sync"
r alice sync >/dev/null
[ "$(cat "$T/alice/last_sync")" -ge "$good" ] || fail "last_sync not written again"

# Databases are for their owner only.
eq "$(stat -c %a "$T/srv")" "700" "server directory mode"
eq "$(stat -c %a "$T/alice")" "700" "replica directory mode"
eq "$(stat -c %a "$T/alice/data.mdb")" "600" "replica file mode"
mkdir -m 755 "$T/existing"
rove -R "$T/existing" init --server "$URL" --user alice --token "$ADMIN_TOKEN" 2>/dev/null
eq "$(stat -c %a "$T/existing")" "700" "an existing directory is restricted too"

# Without a replica: a clear error.
set +e
err=$("$ROVE_BIN" -R "$T/none" customer list 2>&1 >/dev/null)
eq "$?" "1" "no replica"
set -e
grep -q "no replica" <<<"$err" || fail "unclear error: $err"

# init refuses to overwrite a replica.
set +e
r alice init --server "$URL" --user alice --token "$ADMIN_TOKEN" 2>/dev/null
eq "$?" "1" "second init"
set -e

# ROVE_REPLICA selects the replica.
id=$(ROVE_REPLICA="$T/alice" "$ROVE_BIN" customer add --name "Env Co" --tier loyal --phone "+86 10 1234")
[[ "$id" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]] ||
	fail "add printed '$id', not a UUID"
eq "$(r alice customer show "$id" --json | jq -r .tier)" "loyal" "added"

before=$(r alice customer list --json)
pending=$(r alice status --json | jq .pending)
bad=(
	"customer add"
	"customer add --tier loyal"
	"customer add --name X --tier gold"
	"customer add --name X --last-activity-at 2026-13-01"
	"customer set $id tier=gold"
	"customer set $id nosuchfield=1"
	"customer set $id owner=bob"
	"customer set 00000000-0000-7000-8000-000000000000 tier=loyal"
	"customer show not-an-id"
	"customer delete $id"
)
for b in "${bad[@]}"; do
	set +e
	# shellcheck disable=SC2086
	out=$(r alice $b 2>"$T/err")
	status=$?
	set -e
	[ "$status" -ne 0 ] || fail "'rove $b' succeeded"
	[ -z "$out" ] || fail "'rove $b' printed on stdout: $out"
	[ -s "$T/err" ] || fail "'rove $b' gave no message"
done
eq "$(r alice customer list --json)" "$before" "failed commands changed nothing"
eq "$(r alice status --json | jq .pending)" "$pending" "no op queued by a failed command"

# Exit status 2 for a usage error: a missing required option, an unknown
# option or field, a missing or extra argument, an id that is not an id.
# Exit 1 for a value that is not valid, or an id that names nothing here,
# with the reason. Either way: nothing on stdout, a message on stderr,
# nothing changed.
before=$(r alice customer list --json)
pending=$(r alice status --json | jq .pending)
none=00000000-0000-7000-8000-000000000000
usage=(
	"customer add"
	"customer add --tier loyal"
	"customer add --tier gold"
	"customer add --name X extra"
	"customer add --name X --dealer not-an-id"
	"contact add --name x"
	"contact add --customer $id"
	"contact add --customer not-an-id --name x"
	"opportunity add --customer $id"
	"contract add --customer $id --number 1"
	"activity add --customer $id"
	"dealer add --name D"
	"customer set $id nosuchfield=1"
	"customer set $id noequals"
	"customer set $none nosuchfield=1"
	"customer set $id dealer=not-an-id"
	"customer set $id"
	"customer set not-an-id tier=loyal"
	"customer show not-an-id"
	"customer show xyz"
	"customer show"
	"customer delete not-an-id"
	"customer claim not-an-id"
	"customer release not-an-id"
	"customer history not-an-id"
	"contact show not-an-id"
	"contact list --customer not-an-id"
	"contact list --customer"
	"opportunity stage not-an-id won"
	"territory show"
	"admin territory add"
	"admin territory add east.x"
	"admin territory set east.sh"
	"admin territory set east.sh bogus=1"
	"customer add --name --phone 13800000000"
	"customer list --search --mine"
	"customer list --mine --pool"
	"customer list --pool --owner alice"
	"opportunity list --mine --owner alice"
	"admin user add"
	"admin user add bob"
	"admin assign"
	"admin assign alice"
	"admin unassign alice"
	"admin reassign"
	"admin reassign --customer $id"
	"admin reassign --customer not-an-id --to alice"
	"admin reassign --territory east.sh --to alice"
	"admin frobnicate"
)
invalid=(
	"customer add --name X --tier gold"
	"customer add --name X --tax-id 91310000MA1FL0001X"
	"contract add --customer $id --number 1 --amount abc"
	"contract add --customer $id --number 1 --amount -5"
	"opportunity add --customer $id --title T --expected-close 2026-02-30"
	"customer set $id tier=gold"
	"customer set $id owner=bob"
	"customer show $none"
	"customer set $none tier=loyal"
	"contact add --customer $none --name x"
)
# exits STATUS ARGS...: rove ARGS on alice's replica exits STATUS, prints
# nothing on stdout and says why on stderr ($T/err).
exits() {
	local want=$1 out status
	shift
	set +e
	# shellcheck disable=SC2068
	out=$(r alice $@ 2>"$T/err")
	status=$?
	set -e
	eq "$status" "$want" "'rove $*' exit status ($(head -n 1 "$T/err"))"
	[ -z "$out" ] || fail "'rove $*' printed on stdout: $out"
	[ -s "$T/err" ] || fail "'rove $*' gave no message"
}
for u in "${usage[@]}"; do
	# shellcheck disable=SC2086
	exits 2 $u
done
# Every option a list's usage names, it takes (opportunity list named
# --territory and --tier, and refused them: attack sixty-two).
for kind in customer contact contract opportunity activity dealer target; do
	opts=$(rove "$kind" list --help | sed -n '1,3p' | grep -oE -- '--[a-z]+( [A-Z]+)?' | sort -u)
	while read -r opt arg; do
		case $opt in --help | --wide | --json) continue ;; esac
		case $arg in
		"") set -- "$opt" ;;
		ID) set -- "$opt" "$id" ;;
		T) set -- "$opt" loyal ;;
		S) set -- "$opt" won ;;
		N) set -- "$opt" 3 ;;
		FIELD) set -- "$opt" id ;;
		CODE) set -- "$opt" east.sh ;;
		*) set -- "$opt" alice ;;
		esac
		rc=0
		r alice "$kind" list "$@" >/dev/null 2>"$T/err" || rc=$?
		[ "$rc" != 2 ] || fail "rove $kind list $*, named in its usage, is a usage error: $(cat "$T/err")"
	done <<<"$opts"
done
exits 2 opportunity list --pool
for b in "${invalid[@]}"; do
	# shellcheck disable=SC2086
	exits 1 $b
done
eq "$(r alice customer list --json)" "$before" "usage errors and invalid values changed nothing"
eq "$(r alice status --json | jq .pending)" "$pending" "no op queued by them"
# What is missing is named; an invalid value says why.
exits 2 customer add --tier loyal
grep -q -- "--name" "$T/err" || fail "missing --name not named: $(cat "$T/err")"
exits 2 contract add --customer "$id" --number 1
grep -q -- "--amount" "$T/err" || fail "missing --amount not named: $(cat "$T/err")"
exits 2 customer set "$id" nosuchfield=1
grep -q "nosuchfield" "$T/err" || fail "the unknown field is not named: $(cat "$T/err")"
exits 2 customer show xyz
grep -q "'xyz'" "$T/err" || fail "the bad id is not quoted: $(cat "$T/err")"
exits 1 contract add --customer "$id" --number 1 --amount abc
grep -q "amount" "$T/err" || fail "no reason for the bad amount: $(cat "$T/err")"
# Each admin command prints its own usage, not another's.
for u in "territory add" "territory set" "user add" "assign" "unassign" "reassign"; do
	set +e
	# shellcheck disable=SC2086
	r alice admin $u >/dev/null 2>"$T/err"
	status=$?
	set -e
	eq "$status" "2" "'rove admin $u' exit status"
	grep -q "^usage: rove admin $u" "$T/err" || fail "'rove admin $u' printed another usage: $(cat "$T/err")"
	# shellcheck disable=SC2086
	r alice admin $u --help | head -n 1 | grep_q "^usage: rove admin $u" ||
		fail "'rove admin $u --help' printed another usage"
done
# A required option left out is a usage error (exit 2) whose message names
# it, followed by the command's usage. Every command rove lists is walked:
# an option its usage line shows outside brackets is required by that
# line, so each is left out in turn, the line's other required options
# given (their values are never read: what is missing is told first).
mapfile -t commands < <(r alice --list-commands)
nreq=0
for c in "${commands[@]}"; do
	# shellcheck disable=SC2086
	r alice $c --help | sed -n '/^usage: /,/^$/p' | sed -E 's/^(usage:)? +//' >"$T/usage"
	while IFS= read -r line; do
		# A line of a subcommand (`rove customer --help` shows `rove
		# customer add ...`) is walked with the subcommand.
		[[ "$line" == "rove $c" || "$line" == "rove $c "* ]] || continue
		sub=0
		for d in "${commands[@]}"; do
			[[ "$d" != "$c" && "$d" == "$c "* && ("$line" == "rove $d" || "$line" == "rove $d "*) ]] && sub=1
		done
		[ "$sub" = 0 ] || continue
		bare=$(sed -E ':a; s/\[[^][]*\]//g; ta' <<<"$line")
		mapfile -t req < <(grep -oE -- ' --[a-z][a-z-]*' <<<"$bare" | sed 's/^ //')
		for miss in "${req[@]}"; do
			args=()
			for o in "${req[@]}"; do
				[ "$o" = "$miss" ] || args+=("$o" x)
			done
			# shellcheck disable=SC2086
			exits 2 $c "${args[@]}"
			grep -q -- "^rove: error: .*$miss\b" "$T/err" ||
				fail "'rove $c ${args[*]}' does not name $miss: $(head -n 1 "$T/err")"
			sed -n 2p "$T/err" | grep_q "^usage: rove $c" ||
				fail "'rove $c ${args[*]}': no usage after the message: $(head -n 3 "$T/err")"
			nreq=$((nreq + 1))
		done
	done <"$T/usage"
done
[ "$nreq" -ge 20 ] || fail "only $nreq required options found in the commands' usage"

# A table's columns line up whatever the names: wide (CJK) characters
# take two columns, a combining mark none (attack seventy-three: a name
# with e and U+0301 came out a column short).
r alice customer add --name "上海东方贸易有限公司" >/dev/null
r alice customer add --name "$(printf 'Cafe\xcc\x81 Ame\xcc\x81lie')" >/dev/null
r alice customer add --name "Plain Trading" >/dev/null
r alice customer list >"$T/table"
python3 - "$T/table" <<'PY' || fail "the table's lines differ in width: $(cat "$T/table")"
import sys, unicodedata
def width(line):
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)
lines = [l.rstrip("\n") for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
ws = {width(l) for l in lines}
sys.exit(0 if len(lines) >= 3 and len(ws) == 1 else 1)
PY

# Territories are named by code (and by id).
eq "$(r alice territory show east.sh --json | jq -r .code)" "east.sh" "territory show CODE"
r alice territory show east.sh | grep_q "^code: *east.sh$" || fail "territory show CODE as text"
tid=$(r alice territory list --json | jq -r '.[0].id')
eq "$(r alice territory show "$tid" --json | jq -r .code)" "east.sh" "territory show ID"
exits 1 territory show west.cd
grep -q "no territory 'west.cd' in this replica" "$T/err" || fail "unknown code: $(cat "$T/err")"
# ... and by an abbreviation of its id, as anywhere an id is taken (attack
# one hundred and six: "no territory"): its end as lists show it, its
# start; a start that several share is a usage error naming them.
eq "$(r alice territory show "${tid: -12}" --json | jq -r .code)" "east.sh" "territory show END-OF-ID"
eq "$(r alice territory show "${tid:0:13}" --json | jq -r .code)" "east.sh" "territory show START-OF-ID"
shared=$(r alice territory list --json | jq -r '.[].id' | python3 -c '
import os, sys
ids = sys.stdin.read().split()
print(os.path.commonprefix(ids).replace("-", "")[:12] if len(ids) > 1 else "")')
if [ ${#shared} -ge 6 ]; then
	exits 2 territory show "${shared:0:6}"
	grep_q "east.sh" "$T/err" || fail "the candidates are not listed: $(cat "$T/err")"
fi
# One the admin just added is not in his replica before his next sync:
# said, and a sync brings it (a new admin's "no territory" alone).
r admin admin territory add east.nb --name Ningbo >/dev/null
set +e
r admin territory show east.nb >/dev/null 2>"$T/err"
eq "$?" "1" "a territory added since the last sync"
set -e
grep_q -F "no territory 'east.nb' in this replica (as of its last sync: 'rove sync' brings what was made" "$T/err" ||
	fail "not said why: $(cat "$T/err")"
r admin sync >/dev/null
eq "$(r admin territory show east.nb --json | jq -r .name)" "Ningbo" "the sync brought it"
exits 2 territory show "Not a code!"
# A missing login is said as such (attack one hundred and six: usage alone).
exits 2 admin user add --role rep
grep_q "needs NAME" "$T/err" || fail "a missing login is not said: $(cat "$T/err")"

# Clearing a field with an empty value, and JSON escaping.
r alice customer set "$id" phone= "address=Room 5, \"East\" Tower"
show=$(r alice customer show "$id" --json)
eq "$(jq -r .phone <<<"$show")" "null" "phone cleared"
eq "$(jq -r .address <<<"$show")" "Room 5, \"East\" Tower" "quoted address"

# Admin commands: reps may not add users; duplicate users refused.
r alice sync >/dev/null
set +e
r alice admin user add mallory --role admin >/dev/null 2>"$T/err"
eq "$?" "1" "a rep adding a user"
grep -q "admin" "$T/err" || fail "unclear refusal: $(cat "$T/err")"
r admin admin user add alice --role rep >/dev/null 2>"$T/err"
eq "$?" "1" "adding an existing user"
r admin admin user add "bad name" --role rep >/dev/null 2>&1
eq "$?" "1" "invalid user name"
r admin admin user add boss1 --role boss >/dev/null 2>"$T/err"
eq "$?" "1" "an invalid role is an invalid value, as an invalid tier is"
grep -q "invalid role 'boss'" "$T/err" || fail "unclear error: $(cat "$T/err")"
r admin admin user add boss1 >/dev/null 2>&1
eq "$?" "2" "a missing --role is a usage error"
set -e
# A login or code past its 64 characters gets the naming rule's message,
# however long it is.
for n in 65 300; do
	long=$(printf 'a%.0s' $(seq 1 "$n"))
	for cmd in "user add $long --role rep" "assign $long east.sh" "unassign $long east.sh" \
		"reassign --customer $id --to $long"; do
		set +e
		# shellcheck disable=SC2086
		out=$(r admin admin $cmd 2>"$T/err")
		status=$?
		set -e
		eq "$status" "1" "'admin ${cmd:0:20}...' with a $n-character login"
		eq "$out" "" "'admin ${cmd:0:20}...' printed on stdout"
		grep -q "invalid user name '.*(letters, digits and . _ - @, beginning with a letter or digit, at most 64)" "$T/err" ||
			fail "a $n-character login: $(cat "$T/err")"
	done
	set +e
	r admin admin territory add "$long" --name Long >/dev/null 2>"$T/err"
	eq "$?" "1" "a $n-character territory code"
	set -e
	grep -q "invalid territory code '.*(letters, digits and . _ -, beginning with a letter or digit, at most 64)" "$T/err" ||
		fail "a $n-character code: $(cat "$T/err")"
done
# A login or a code that would read as an option cannot be made: every
# command naming it must be able to.
for bad in "user add -dash --role rep" "user add .dot --role rep" "territory add -east --name E"; do
	# shellcheck disable=SC2086
	exits_as admin 1 admin $bad
done
# An assignment that changes nothing fails saying so: unassigning a
# territory the user does not hold, assigning one held already.
territory east.hz
exits_as admin 1 admin unassign alice east.hz
grep -q "alice does not hold east.hz; nothing changed" "$T/err" || fail "unassign of a territory not held: $(cat "$T/err")"
exits_as admin 1 admin unassign alice nowhere
grep -q "no territory 'nowhere'" "$T/err" || fail "unassign of no territory: $(cat "$T/err")"
r admin admin assign alice east.hz
exits_as admin 1 admin assign alice east.hz
grep -q "alice already holds east.hz; nothing changed" "$T/err" || fail "assign of a territory held: $(cat "$T/err")"
out=$(r admin admin unassign alice east.hz 2>"$T/err")
eq "$out$(cat "$T/err")" "" "unassign of a territory held says nothing"

# A wrong token is refused and nothing is lost.
rove -R "$T/eve" init --server "$URL" --user alice --token "$(printf 'f%.0s' $(seq 64))" 2>/dev/null
rove -R "$T/eve" customer add --name "Eve Corp" >/dev/null
set +e
rove -R "$T/eve" sync 2>"$T/err"
eq "$?" "1" "sync with a wrong token"
set -e
grep -q "authentication failed" "$T/err" || fail "unclear auth error: $(cat "$T/err")"
eq "$(rove -R "$T/eve" status --json | jq .pending)" "1" "eve's op kept"
# --timeout takes 1 to 3,600,000 ms, and a refusal names the range.
for v in 0 -5 abc 1e3 0x10 3600001 2147483648 ""; do
	exits_as alice 2 --timeout "$v" status
	grep -q "from 1 to 3600000" "$T/err" || fail "--timeout '$v': the range is not named: $(cat "$T/err")"
done
eq "$(r alice --timeout 3600000 status --json | jq -r .user)" "alice" "the longest --timeout"
# A number on the command line is digits only, in rove and roved alike:
# no sign, no space before or after it (strtol and strtod skip leading
# spaces and take '+'; strtod also hex, exponents, "nan"), nothing past
# its range. Each refusal is a usage error (exit 2).
nonumbers=(" 100" $'\t100' "+100" "100 " "1 00" "-0" "0x64" "1e2" "" "99999999999999999999999")
for v in "${nonumbers[@]}"; do
	exits_as alice 2 --timeout "$v" status
	grep -q "from 1 to 3600000" "$T/err" || fail "--timeout '$v': the range is not named: $(cat "$T/err")"
	exits_as alice 2 customer list --limit "$v"
	# Whatever is taken would serve (rove ui) or dial (rove feed): bounded.
	set +e
	timeout 10 "$ROVE_BIN" -R "$T/alice" ui --port "$v" >/dev/null 2>"$T/err"
	eq "$?" "2" "rove ui --port '$v' ($(head -n 1 "$T/err"))"
	timeout 10 "$ROVE_BIN" -R "$T/admin" feed postgres "host=$T/nopg" --once --interval "$v" >/dev/null 2>"$T/err"
	eq "$?" "2" "rove feed --interval '$v' ($(head -n 1 "$T/err"))"
	# roved: a value taken would meet the running server's lock (exit 1).
	timeout 10 "$ROVED_BIN" serve "$T/srv" --listen "ipc://$T/other.sock" --recycle-interval "$v" \
		>/dev/null 2>"$T/err"
	eq "$?" "2" "roved serve --recycle-interval '$v' ($(head -n 1 "$T/err"))"
	timeout 10 "$ROVED_BIN" serve "$T/srv" --listen "ipc://$T/other.sock" --max-connections "$v" \
		>/dev/null 2>"$T/err"
	eq "$?" "2" "roved serve --max-connections '$v' ($(head -n 1 "$T/err"))"
	"$ROVED_BIN" compact "$T/srv" --keep-days "$v" >/dev/null 2>"$T/err"
	eq "$?" "2" "roved compact --keep-days '$v' ($(head -n 1 "$T/err"))"
	set -e
done
# Seconds take a fraction, digits on both sides of the point.
for v in ".5" "5." "0.5.1" "nan" "inf" "0,5"; do
	set +e
	timeout 10 "$ROVE_BIN" -R "$T/admin" feed postgres "host=$T/nopg" --once --interval "$v" >/dev/null 2>"$T/err"
	eq "$?" "2" "rove feed --interval '$v' ($(head -n 1 "$T/err"))"
	timeout 10 "$ROVED_BIN" serve "$T/srv" --listen "ipc://$T/other.sock" --recycle-interval "$v" \
		>/dev/null 2>"$T/err"
	eq "$?" "2" "roved serve --recycle-interval '$v' ($(head -n 1 "$T/err"))"
	set -e
done
# roved --listen takes what a replica can dial (rove init's rules): a
# port from 1 to 65535 (not 0: a port chosen at random), a host, and
# tcp://, tls+tcp:// or ipc://; "*" or no host listens on every address.
for u in "tcp://127.0.0.1" "tcp://127.0.0.1:0" "tcp://127.0.0.1:+7411" "ws://127.0.0.1:7411" \
	"tcp://127.0.0.1:70000" "tcp://bad_host:7411" "tcp://127.0.0.1:7411/x" "ipc://" "" "ipc://rel.sock"; do
	set +e
	timeout 10 "$ROVED_BIN" serve "$T/srv" --listen "$u" >/dev/null 2>"$T/err"
	eq "$?" "2" "roved serve --listen '$u' ($(head -n 1 "$T/err"))"
	set -e
	grep -qF "invalid --listen '$u'" "$T/err" || fail "roved serve --listen '$u': unclear: $(cat "$T/err")"
done
for u in "tcp://*:7411" "tcp://:7411" "tcp://[::1]:7411" "tcp://0.0.0.0:7411" "tcp://[::]:7411"; do
	set +e
	timeout 10 "$ROVED_BIN" serve "$T/srv" --listen "$u" >/dev/null 2>"$T/err"
	eq "$?" "1" "roved serve --listen '$u' meets the running server's lock ($(head -n 1 "$T/err"))"
	set -e
done
# roved's options that take a value, given twice, are a usage error that
# names the option, as rove's are: which of two admins or listen URLs was
# meant is not the parser's to guess (before, the last one won).
set +e
"$ROVED_BIN" init "$T/twice" --admin a1 --admin a2 >"$T/out" 2>"$T/err"
eq "$?" "2" "roved init --admin twice ($(head -n 1 "$T/err"))"
grep -q "admin is given twice" "$T/err" || fail "roved init --admin twice: $(head -n 1 "$T/err")"
[ ! -e "$T/twice" ] || fail "roved init --admin twice made a directory"
eq "$(cat "$T/out")" "" "roved init --admin twice printed a token"
timeout 10 "$ROVED_BIN" serve "$T/srv" --listen "ipc://$T/a.sock" --listen="ipc://$T/b.sock" >/dev/null 2>"$T/err"
eq "$?" "2" "roved serve --listen twice ($(head -n 1 "$T/err"))"
grep -q "listen is given twice" "$T/err" || fail "roved serve --listen twice: $(head -n 1 "$T/err")"
timeout 10 "$ROVED_BIN" serve "$T/srv" --max-connections 5 --max-connections 6 >/dev/null 2>"$T/err"
eq "$?" "2" "roved serve --max-connections twice ($(head -n 1 "$T/err"))"
"$ROVED_BIN" compact "$T/srv" --keep-days 1 --keep-days 2 >/dev/null 2>"$T/err"
eq "$?" "2" "roved compact --keep-days twice ($(head -n 1 "$T/err"))"
set -e
# Past the maximum however little, digits past milliseconds too (they
# are not dropped before the range is checked).
for v in 3600.001 3600.0000001 3600.000000000000000000001; do
	set +e
	timeout 10 "$ROVE_BIN" -R "$T/admin" feed postgres "host=$T/nopg" --once --interval "$v" >/dev/null 2>"$T/err"
	eq "$?" "2" "rove feed --interval '$v' ($(head -n 1 "$T/err"))"
	set -e
done
for v in 604800.001 604800.00000000001; do
	set +e
	timeout 10 "$ROVED_BIN" serve "$T/srv" --listen "ipc://$T/other.sock" --recycle-interval "$v" \
		>/dev/null 2>"$T/err"
	eq "$?" "2" "roved serve --recycle-interval '$v' ($(head -n 1 "$T/err"))"
	set -e
done
# rove's own options after the command's name, as before it (an
# attack's finding: 'rove status -R DIR' was a bare usage text).
eq "$(rove status -R "$T/alice" --json | jq -r .user)" "alice" "status -R DIR"
eq "$(rove status --json --replica="$T/alice" | jq -r .user)" "alice" "status --replica=DIR"
eq "$(rove customer list --timeout 4000 -R "$T/alice" --limit 1 --json | jq length)" "1" "--timeout and -R after"
set +e
rove status -R >/dev/null 2>"$T/err"
eq "$?" "2" "status -R without its value"
grep -q -- "-R takes a value" "$T/err" || fail "status -R: $(cat "$T/err")"
rove -R "$T/alice" status --timeout 0 >/dev/null 2>"$T/err"
eq "$?" "2" "status --timeout 0"
# An empty -R is a usage error too, not "no replica in ''" (attack nine).
rove -R "" status >/dev/null 2>"$T/err"
eq "$?" "2" "-R ''"
rove status --replica= >/dev/null 2>"$T/err"
eq "$?" "2" "status --replica="
grep -q "needs a directory" "$T/err" || fail "--replica=: $(cat "$T/err")"
set -e
# A word another option takes as its value is that value, whatever it
# looks like.
id=$(r alice customer add --name -R --territory east.sh)
eq "$(r alice customer show "$id" --json | jq -r .name)" "-R" "--name -R: the name"
eq "$(r alice customer list --search -R --json | jq -r '.[0].name')" "-R" "--search -R: the text"
# set and delete take them too, after the fields or before the id
# (attack eight: "expected FIELD=VALUE, got '-R'").
rove customer set "$id" name=Dash -R "$T/alice"
rove customer set -R "$T/alice" "$id" address="1 Dash Rd" --timeout 4000
eq "$(r alice customer show "$id" --json | jq -c '[.name, .address]')" '["Dash","1 Dash Rd"]' "set with -R after"
# So does opportunity stage; and each of them once, before the command or
# after it: the last of two was taken silently (which replica was meant
# is not rove's to guess).
deal=$(r alice opportunity add --customer "$id" --title "Dash deal" --amount 1 --stage lead)
rove opportunity stage "$deal" qualified -R "$T/alice" --timeout 4000
eq "$(r alice opportunity show "$deal" --json | jq -r .stage)" "qualified" "stage with -R after"
for args in "-R $T/alice status -R $T/alice" "status -R $T/alice --replica=$T/alice" \
	"-R $T/alice --timeout 4000 customer list --timeout=4000" "-R $T/alice customer set $id name=X -R $T/x" \
	"-R $T/alice opportunity stage $deal won --timeout 1 --timeout 2"; do
	set +e
	# shellcheck disable=SC2086
	"$ROVE_BIN" $args >/dev/null 2>"$T/err"
	status=$?
	set -e
	eq "$status" "2" "rove $args"
	grep -q -- "is given twice: give it once" "$T/err" || fail "rove $args: $(cat "$T/err")"
	eq "$(grep -c "error:" "$T/err")" "1" "rove $args: one error ($(cat "$T/err"))"
done
eq "$(r alice customer show "$id" --json | jq -r .name)" "Dash" "nothing set"
eq "$(r alice opportunity show "$deal" --json | jq -r .stage)" "qualified" "nothing staged"
# The commands of words only take them after their words too (attack
# nine: assign, territory set and rejected retry refused them there).
territory west
rove admin assign alice west -R "$T/admin" --timeout 4000 >/dev/null
rove admin territory set west -R "$T/admin" pool_limit=7 >/dev/null
rove admin unassign -R "$T/admin" alice west >/dev/null
r admin sync >/dev/null
eq "$(r admin territory show west --json | jq -c '[.pool_limit, .name]')" '[7,"Territory west"]' "territory set, -R between"
eq "$(r admin admin user show alice --json | jq -c .territories)" '["east.sh"]' "assigned and unassigned, -R after"
rove config server "$URL" -R "$T/alice"
eq "$(rove config server --replica="$T/alice")" "$URL" "config KEY VALUE -R"
set +e
rove rejected retry 0123456789ab name=Z -R "$T/alice" --timeout 4000 >/dev/null 2>"$T/err"
eq "$?" "1" "rejected retry with -R after: read, and no such refusal ($(cat "$T/err"))"
rove admin assign alice west -R "$T/admin" -R "$T/admin" >/dev/null 2>"$T/err"
eq "$?" "2" "admin assign, -R twice"
rove config server "$URL" -R "$T/alice" extra >/dev/null 2>"$T/err"
eq "$?" "2" "config KEY VALUE and a word more"
set -e
grep -q "unexpected argument 'extra'" "$T/err" || fail "config's extra word: $(cat "$T/err")"
# Good numbers still pass: leading zeros are digits too.
eq "$(r alice --timeout 05000 status --json | jq -r .user)" "alice" "--timeout 05000"
eq "$(r alice customer list --limit 01 --json | jq length)" "1" "--limit 01"
set +e
"$ROVED_BIN" serve "$T/srv" --listen "ipc://$T/other.sock" --recycle-interval 0.25 --max-connections 16 \
	>/dev/null 2>"$T/err"
eq "$?" "1" "roved serve with good numbers gets as far as the lock"
grep -q "in use by another roved" "$T/err" || fail "roved serve with good numbers: $(cat "$T/err")"
"$ROVED_BIN" serve "$T/srv" --listen "ipc://$T/other.sock" --recycle-interval 604800.000000000000 \
	>/dev/null 2>"$T/err"
eq "$?" "1" "roved serve --recycle-interval at its maximum, with zeros past milliseconds"
set -e

# A record this replica deleted itself, not synced yet, is said so - not
# "as of its last sync: 'rove sync' brings..." (attack one hundred and
# five): the record, and a deal of a customer deleted so.
gc=$(r admin customer add --name "Gone Co" --territory east.sh)
gd=$(r admin opportunity add --customer "$gc" --title "Gone deal")
r admin customer delete "$gc" >/dev/null
set +e
r admin opportunity stage "$gd" won >/dev/null 2>"$T/err"
eq "$?" "1" "stage of a deal whose customer was deleted here"
set -e
grep_q "gone with its customer, deleted in this replica by a change not synced yet" "$T/err" ||
	fail "a deal gone with its customer is not said so: $(cat "$T/err")"
set +e
r admin customer show "$gc" >/dev/null 2>"$T/err"
eq "$?" "1" "show of a customer deleted here"
set -e
grep_q "is deleted in this replica, by a change not synced yet" "$T/err" ||
	fail "a customer deleted here is not said so: $(cat "$T/err")"
echo "ok"
