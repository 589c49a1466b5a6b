#!/usr/bin/env bash
# Every command answers --help with its usage on stdout and status 0, and a
# usage error with status 2.
. "$(dirname "$0")/lib.sh"

helps=(
	"--help" "help" "init --help" "config --help" "sync --help" "status --help" "customer --help"
	"customer add --help" "customer list --help" "customer show --help"
	"customer set --help" "customer delete --help" "customer claim --help"
	"customer release --help" "customer history --help" "territory --help"
	"territory list --help" "territory show --help" "activity delete --help" "rejected --help" "conflicts --help" "admin --help"
	"admin user add --help" "admin territory add --help" "admin territory set --help"
	"admin assign --help" "admin unassign --help" "admin reassign --help" "contact --help" "contact add --help" "contact list --help"
	"contract --help" "contract add --help" "opportunity --help" "opportunity add --help"
	"opportunity stage --help" "activity --help" "activity add --help" "dealer --help"
	"dealer add --help" "target --help" "target set --help" "target list --help"
	"notices --help" "report --help" "report pipeline --help" "report targets --help"
	"report daily --help" "import --help" "export --help"
)
for h in "${helps[@]}"; do
	# shellcheck disable=SC2086
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
	"config nosuchkey" "config server a b")
for u in "${usage_errors[@]}"; do
	set +e
	# shellcheck disable=SC2086
	"$ROVE_BIN" $u >/dev/null 2>&1
	status=$?
	set -e
	eq "$status" "2" "rove '$u' exit status"
done
set +e
"$ROVED_BIN" >/dev/null 2>&1
eq "$?" "2" "roved without a command"
set -e
echo "ok"
