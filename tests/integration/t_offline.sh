#!/usr/bin/env bash
# With the server down, sync exits 3 and keeps every local change; once the
# server is back the same sync goes through.
. "$(dirname "$0")/lib.sh"

server_setup
territory east.sh
user_replica alice rep east.sh
r alice sync >/dev/null
server_stop

id=$(r alice customer add --name "Offline Co" --phone 13800000000)
r alice customer set "$id" tier=customer
before=$(r alice customer list --json)

set +e
r alice sync >"$T/out" 2>"$T/err"
status=$?
set -e
eq "$status" "3" "sync exit status with the server down"
grep -q "cannot reach the server" "$T/err" || fail "no clear message: $(cat "$T/err")"
eq "$(r alice customer list --json)" "$before" "local data untouched"
eq "$(r alice status --json | jq .pending)" "2" "pending ops kept"

# Also with a TCP address nobody listens on: at once, not after the
# timeout (a refused connection is an answer).
rove -R "$T/tcp" init --server tcp://127.0.0.1:1 --user alice --token "$ADMIN_TOKEN" 2>/dev/null
t0=$(date +%s%N)
set +e
rove -R "$T/tcp" --timeout 8000 sync 2>/dev/null
status=$?
set -e
eq "$status" "3" "sync exit status on a refused TCP connection"
[ "$(elapsed_ms "$t0")" -lt 4000 ] || fail "a refused connection took $(elapsed_ms "$t0") ms"

server_start
out=$(r alice sync --json)
eq "$(jq .accepted <<<"$out")" "2" "ops pushed once the server is back"
eq "$(r alice status --json | jq .pending)" "0" "outbox empty"
eq "$(r alice customer show "$id" --json | jq -r .tier)" "customer" "data kept"

# A batch too big for one request is halved until it fits, and the rest
# follows in the same sync: with requests held to 2,000 bytes, 60 offline
# creates go in several pushes and all arrive in one `rove sync`.
for i in $(seq 1 60); do r alice customer add --name "Batch $i" >/dev/null; done
out=$(ROVE_PUSH_BYTES=2000 "$ROVE_BIN" -R "$T/alice" sync --json)
eq "$(jq -c '[.pushed, .accepted]' <<<"$out")" "[60,60]" "a split push, all of it in one sync"
eq "$(r alice status --json | jq .pending)" "0" "outbox empty after the split push"
echo "ok"
