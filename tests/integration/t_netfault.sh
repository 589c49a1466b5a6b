#!/usr/bin/env bash
# Sync through a bad network: a loopback proxy delays every chunk and cuts
# connections at random. Syncs time out or fail cleanly (exit 3, nothing
# lost), resume, and every replica converges without duplicates.
# Its one-shot commands keep LeakSanitizer's check (lib.sh, rove).
LEAKS_ONESHOT=1
. "$(dirname "$0")/lib.sh"

SEED=${ROVE_SEED:-$RANDOM}
echo "seed $SEED (replay with ROVE_SEED=$SEED)"
tcp_server
territory east
reps=(alice bob carol)
for u in "${reps[@]}"; do user_replica "$u" rep east; done

# The reps reach the server only through the proxy.
proxy_start proxy.log --delay-ms 2 --cut-percent 15 --seed "$SEED"
for u in "${reps[@]}"; do
	rm -rf "$T/$u"
	rove -R "$T/$u" init --server "tcp://127.0.0.1:$PPORT" --user "$u" --token "$(token_of "$u")" 2>/dev/null
done

PER=40
k=0
for u in "${reps[@]}"; do
	k=$((k + 1))
	for i in $(seq 1 $PER); do r "$u" customer add --name "$u-$i" --phone "138$k$(printf %07d $i)" >/dev/null; done
done
failures=0
for u in "${reps[@]}"; do
	done_=0
	for _ in $(seq 1 100); do
		set +e
		ROVE_PUSH_BATCH=5 ROVE_PULL_BATCH=6 "$ROVE_BIN" -R "$T/$u" --timeout 400 sync >/dev/null 2>"$T/err"
		status=$?
		set -e
		if [ $status -eq 0 ]; then done_=1; break; fi
		[ $status -eq 3 ] || { cat "$T/err" >&2; fail "$u: sync exited $status, not 3"; }
		failures=$((failures + 1))
	done
	[ $done_ -eq 1 ] || fail "$u never got through"
	eq "$(r "$u" status --json | jq .pending)" "0" "$u: everything pushed"
done
# One more clean round so everyone has everything.
for u in "${reps[@]}"; do
	until ROVE_PUSH_BATCH=5 ROVE_PULL_BATCH=6 "$ROVE_BIN" -R "$T/$u" --timeout 400 sync >/dev/null 2>&1; do
		failures=$((failures + 1))
	done
done
r admin sync >/dev/null
all=$(r admin customer list --json)
eq "$(jq length <<<"$all")" "$((PER * ${#reps[@]}))" "every customer exactly once on the server"
eq "$(jq '[.[].name] | unique | length' <<<"$all")" "$((PER * ${#reps[@]}))" "no duplicates"
for u in "${reps[@]}"; do
	eq "$(r "$u" customer list --json | jq -c .)" "$(jq -c --arg u "$u" '[.[] | select(.owner == $u)]' <<<"$all")" \
		"$u converges"
done
kill -TERM "${BG_PIDS[0]}" 2>/dev/null || true
wait "${BG_PIDS[0]}" 2>/dev/null || true
BG_PIDS=()
echo "syncs cut by the network and retried: $failures; $(tail -n 1 "$T/proxy.log")"

# A server that takes the connection but never answers (a proxy that holds
# every byte for a minute): every wait of a command honours --timeout, the
# connection's handshake included, and the command exits 3.
hport=$(free_port)
"$ROVE_PROXY" --listen "$hport" --to "$SPORT" --delay-ms 60000 2>"$T/hold.log" &
BG_PIDS+=($!)
wait_listening "tcp://127.0.0.1:$hport" "$!" "the holding proxy"
rove -R "$T/held" init --server "tcp://127.0.0.1:$hport" --user alice --token "$(token_of alice)" 2>/dev/null
r held customer add --name "Held back" >/dev/null
for cmd in "sync" "conflicts" "admin assign alice east"; do
	t0=$(date +%s%N)
	set +e
	# shellcheck disable=SC2086
	"$ROVE_BIN" -R "$T/held" --timeout 500 $cmd >/dev/null 2>"$T/err"
	status=$?
	set -e
	ms=$(elapsed_ms "$t0")
	eq "$status" "3" "'rove --timeout 500 $cmd' against a server that never answers ($(cat "$T/err"))"
	[ "$ms" -lt 2500 ] || fail "'rove --timeout 500 $cmd' took $ms ms"
	grep -q "cannot reach the server" "$T/err" || fail "no clear message: $(cat "$T/err")"
done
eq "$(r held status --json | jq .pending)" "1" "nothing lost"
echo "ok"
