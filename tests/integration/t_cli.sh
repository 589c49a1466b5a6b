#!/usr/bin/env bash
# The command line's contract: ids alone on stdout, errors on stderr with a
# non-zero status, and a failed command changes nothing.
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
r alice sync >/dev/null # learns its role

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
	"customer add --name X --owner bob"
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
set -e

# A wrong token is refused and nothing is lost.
rove -R "$T/eve" init --server "$URL" --user alice --token "$(printf 'f%.0s' $(seq 64))" 2>/dev/null
rove -R "$T/eve" customer add --name "Eve Corp" >/dev/null
set +e
rove -R "$T/eve" sync 2>"$T/err"
eq "$?" "1" "sync with a wrong token"
set -e
grep -q "authentication failed" "$T/err" || fail "unclear auth error: $(cat "$T/err")"
eq "$(rove -R "$T/eve" status --json | jq .pending)" "1" "eve's op kept"
echo "ok"
