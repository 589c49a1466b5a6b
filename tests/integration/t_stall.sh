#!/usr/bin/env bash
# A server that answers, then stops answering in the middle of a sync
# (rove_chaos_proxy --stall-after): `rove sync` waits out its --timeout,
# exits 3, and says the server stopped answering, with what it answered,
# rather than that it cannot be reached. What was answered is recorded;
# the next sync sends the rest, once each.
. "$(dirname "$0")/lib.sh"

tcp_server
territory east
user_replica alice rep east
N=30
customers_csv "$T/c.csv" "$N" Stall 1391
r alice import customers "$T/c.csv" >/dev/null

# The proxy forwards the SP handshake (8 bytes) and the first answer,
# then nothing: pushes of 10 ops each, so the second waits for good.
proxy_start proxy.log --stall-after 9
r alice config server "tcp://127.0.0.1:$PPORT" >/dev/null
set +e
ROVE_PUSH_BATCH=10 "$ROVE_BIN" -R "$T/alice" --timeout 1500 sync >/dev/null 2>"$T/err"
status=$?
set -e
eq "$status" "3" "a sync whose server stopped answering ($(cat "$T/err"))"
grep_q "stopped answering during the sync" <"$T/err" || fail "unclear: $(cat "$T/err")"
grep_q "10 change(s) sent" <"$T/err" || fail "what was answered is not said: $(cat "$T/err")"
if grep_q "cannot reach" <"$T/err"; then fail "called unreachable: $(cat "$T/err")"; fi
r alice status | grep_q "10 of them sent" || fail "the answered push is not recorded: $(r alice status)"

# Nothing answered at all: still "cannot reach".
kill -9 "$PROXY_PID"
wait "$PROXY_PID" 2>/dev/null || true
proxy_start proxy2.log --stall-after 0
r alice config server "tcp://127.0.0.1:$PPORT" >/dev/null
set +e
"$ROVE_BIN" -R "$T/alice" --timeout 1000 sync >/dev/null 2>"$T/err"
status=$?
set -e
eq "$status" "3" "a sync whose server never answered ($(cat "$T/err"))"
grep_q "cannot reach the server" <"$T/err" || fail "unclear: $(cat "$T/err")"

# An admin change sent on a connection, its answer never come: it may
# have been done, and is said so, not "cannot reach" (attack eight: a
# user made, and the command said the server was unreachable).
kill -9 "$PROXY_PID"
wait "$PROXY_PID" 2>/dev/null || true
proxy_start proxy3.log --stall-after 8
rove -R "$T/admin2" init --server "tcp://127.0.0.1:$PPORT" --user admin --token "$ADMIN_TOKEN" 2>/dev/null
set +e
"$ROVE_BIN" -R "$T/admin2" --timeout 1000 admin territory add west --name West >/dev/null 2>"$T/err"
status=$?
set -e
eq "$status" "3" "an admin change with no answer ($(cat "$T/err"))"
grep_q "may or may not have been done" <"$T/err" || fail "unclear: $(cat "$T/err")"
if grep_q "cannot reach" <"$T/err"; then fail "called unreachable: $(cat "$T/err")"; fi

# Straight to the server: the rest goes, once each.
r alice config server "$URL" >/dev/null
r alice sync >/dev/null
r admin sync >/dev/null
eq "$(r admin customer list --json | jq '[.[] | select(.name | startswith("Stall "))] | length')" "$N" \
	"every customer on the server once"
eq "$(r alice status --json | jq .pending)" "0" "nothing left pending"
echo "ok"
