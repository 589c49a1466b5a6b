#!/usr/bin/env bash
# A connection reset while it is being set up is not a server that is
# away: when roved's listener has to be opened again (nng 1.5.2 bug 1518,
# server/serve.c check_listener) the connections waiting in its queue are
# reset, and a crowd's `rove sync` met that as "server unreachable". A
# sync dials again within its timeout; a server that refuses (nothing
# listens) is still unreachable at once.
# Its one-shot commands keep LeakSanitizer's check (lib.sh, rove).
LEAKS_ONESHOT=1
. "$(dirname "$0")/lib.sh"

tcp_server
territory east
user_replica alice rep east

# alice reaches the server through a proxy that resets her first three
# connections as soon as they arrive.
proxy_start proxy.log --reset-first 3
proxy=$PROXY_PID
r alice config server "tcp://127.0.0.1:$PPORT" >/dev/null
c=$(r alice customer add --name "Through resets")
out=$(r alice sync --json) || fail "a sync whose first connections were reset failed (exit $?)"
eq "$(jq .accepted <<<"$out")" "1" "the change got through"
r admin sync >/dev/null
eq "$(r admin customer show "$c" --json | jq -r .name)" "Through resets" "the server has it"

# Nothing listens: unreachable (exit 3) at once, not after the timeout.
kill -TERM "$proxy"
wait "$proxy" 2>/dev/null || true
t0=$(date +%s%N)
set +e
ROVE_LOG=debug "$ROVE_BIN" -R "$T/alice" --timeout 20000 sync >/dev/null 2>"$T/err"
status=$?
set -e
ms=$((($(date +%s%N) - t0) / 1000000))
eq "$status" "3" "a sync with nothing listening is unreachable"
grep -q "cannot reach the server" "$T/err" || fail "no 'cannot reach' message: $(cat "$T/err")"
! grep -q "dialling again" "$T/err" || fail "a refused connection was dialled again: $(cat "$T/err")"
[ "$ms" -lt 10000 ] || fail "a refused connection was dialled again for ${ms} ms"
echo "ok"
