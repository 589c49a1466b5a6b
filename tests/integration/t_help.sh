#!/usr/bin/env bash
# Every command answers --help with its usage on stdout and status 0, and a
# usage error with status 2; the usage names the command. The commands are those `rove --list-commands`
# prints from the command tables themselves, so a command added to a table
# is checked here without anyone adding it to a list.
# Its commands run as lib.sh's rove runs one-shot commands (no LeakSanitizer
# check at exit, which doubled the cost of some 300 --help and usage runs).
. "$(dirname "$0")/lib.sh"

mapfile -t commands < <("$ROVE_BIN" --list-commands)
[ "${#commands[@]}" -ge 60 ] || fail "rove --list-commands printed ${#commands[@]} lines"
# What a bug report names (attack seventy-three: there was no --version).
[[ $("$ROVE_BIN" --version) =~ ^rove\ [0-9]+\.[0-9]+\.[0-9]+\ \(protocol\ [0-9]+\)$ ]] || fail "rove --version: $("$ROVE_BIN" --version 2>&1)"
[[ $("$ROVED_BIN" --version) =~ ^roved\ [0-9]+\.[0-9]+\.[0-9]+\ \(protocol\ [0-9]+\)$ ]] || fail "roved --version: $("$ROVED_BIN" --version 2>&1)"
for c in init config sync status "customer add" "customer claim" "contact list" "opportunity stage" \
	"target set" "territory show" notices "report daily" import export rejected conflicts \
	"admin user add" "admin territory set" "admin reassign"; do
	printf '%s\n' "${commands[@]}" | grep_q -x "$c" || fail "rove --list-commands lacks '$c'"
done
eq "$(printf '%s\n' "${commands[@]}" | sort | uniq -d)" "" "commands listed twice"

for c in "${commands[@]}"; do
	# shellcheck disable=SC2086
	out=$(rove $c --help) || fail "rove $c --help exited $?"
	grep -q "usage:" <<<"$out" || fail "rove $c --help printed no usage"
	# naming the command itself (delete and set said "rove RECORD")
	grep -qF "rove $c" <<<"$(grep -m1 "usage:" <<<"$out")" || fail "rove $c --help: $(head -n 1 <<<"$out")"
	# shellcheck disable=SC2086
	out=$(rove $c -h) || fail "rove $c -h exited $?"
	grep -q "usage:" <<<"$out" || fail "rove $c -h printed no usage"
	# An option no command has, with a value and without (it is no id or
	# territory code either).
	for bad in --no-such-option=1 --no-such-option; do
		set +e
		# shellcheck disable=SC2086
		out=$(rove $c $bad 2>"$T/err")
		status=$?
		set -e
		eq "$status" "2" "rove $c $bad exit status"
		eq "$out" "" "rove $c $bad printed on stdout"
		[ -s "$T/err" ] || fail "rove $c $bad said nothing on stderr"
	done
done
# A usage error names what was not expected, or what is missing (attack
# ninety-seven: "rove customer claim ID --reason x" and "rove sync --json
# extra" printed the usage alone; so did "customer show --x" and every
# command that takes an ID given none), then prints the usage.
for args in "status extra:unexpected argument 'extra'" "sync --json extra:unexpected argument 'extra'" \
	"status --bogus:unknown option '--bogus'" "admin user add bob --role rep extra:unexpected argument 'extra'" \
	"customer claim 01a22c6e-96e5-747a-b509-23ce598eebfe --reason x:unknown option '--reason'" \
	"customer show --x:unknown option '--x'" "contact show:missing the contact's ID" \
	"territory show:missing the territory's CODE or ID" "import customers:missing the file to import" \
	"export:missing what to export" "report:missing which report" "admin territory:missing an admin territory command" \
	"admin assign bob:missing the territory" "rejected retry:missing which refused change" \
	"--timeout:option '--timeout' needs a value" \
	"customer history 01a22c6e a:unexpected argument 'a'" "customer delete:missing the customer's ID" \
	"opportunity stage 01a22c6e:missing the STAGE" "customer set 01a22c6e:missing FIELD=VALUE" \
	"customer:missing a customer command" "customer list extra:unexpected argument 'extra' for customer list" \
	"contact list --bogus:unknown option '--bogus' for contact list" "activity list --limit:option '--limit' needs a value"; do
	set +e
	# shellcheck disable=SC2086
	rove -R "$T/none" ${args%%:*} >/dev/null 2>"$T/err"
	status=$?
	set -e
	eq "$status" "2" "rove ${args%%:*}"
	grep_q -F "rove: error: ${args#*:}" <"$T/err" || fail "rove ${args%%:*} does not say what: $(cat "$T/err")"
	# then the usage (attack 101: "customer list extra" said what alone)
	grep_q "^usage: " <"$T/err" || fail "rove ${args%%:*} prints no usage: $(cat "$T/err")"
done
# set --help lists what may be changed and the values each takes.
"$ROVE_BIN" customer set --help | grep_q "tier: one of prospect customer loyal" ||
	fail "customer set --help does not list the tiers"
"$ROVE_BIN" customer set --help | grep_q "territory: " || fail "customer set --help does not name territory"
"$ROVE_BIN" contract set --help | grep_q "status: one of draft active completed terminated" ||
	fail "contract set --help does not list the statuses"
"$ROVE_BIN" contact set --help | grep_q "customer:" && fail "contact set --help offers to move it to another customer"
for h in "--help" "-h" "help"; do
	out=$("$ROVE_BIN" $h) || fail "rove $h exited $?"
	grep -q "usage:" <<<"$out" || fail "rove $h printed no usage"
done
for h in "--help" "init --help" "serve --help"; do
	# shellcheck disable=SC2086
	out=$("$ROVED_BIN" $h) || fail "roved $h exited $?"
	grep -q "usage:" <<<"$out" || fail "roved $h printed no usage"
done

usage_errors=("" "nosuchcommand" "customer" "customer frobnicate" "sync --bogus" "init --server"
	"report" "report nosuch" "import" "export nosuch" "target set" "opportunity stage"
	"customer add" "customer show xyz" "admin" "admin user" "admin territory add" "admin reassign"
	"config nosuchkey" "config server a b" "--bogus" "--list-commands=1" "export customers --csv --json"
	"report pipeline --json --csv")
for u in "${usage_errors[@]}"; do
	set +e
	# shellcheck disable=SC2086
	rove $u >/dev/null 2>&1
	status=$?
	set -e
	eq "$status" "2" "rove '$u' exit status"
done
set +e
"$ROVED_BIN" >/dev/null 2>&1
eq "$?" "2" "roved without a command"
set -e

# The scripts too: --help says what each does and does nothing else (the
# demo ran itself, building and serving, on --help); an argument it does
# not take is a usage error, said before anything runs.
scripts=$(cd "$(dirname "$0")/../../scripts" && pwd)
for s in "$scripts"/*; do
	name=scripts/$(basename "$s")
	out=$(timeout 10 "$s" --help 2>"$T/err") || fail "$name --help exited $?: $(cat "$T/err")"
	[ -n "$out" ] || fail "$name --help printed nothing"
	[ "$(wc -l <<<"$out")" -le 60 ] || fail "$name --help printed more than a usage"
	set +e
	timeout 10 "$s" --no-such-option >/dev/null 2>"$T/err"
	status=$?
	set -e
	eq "$status" "2" "$name --no-such-option exit status"
	grep_q "no-such-option" "$T/err" || fail "$name --no-such-option does not name it"
done
echo "ok"
