#!/usr/bin/env bash
# A rep's pending changes cross a slow uplink (a mobile network in a
# poor area) within --timeout. rove pushed 1,000 changes a request
# whatever the link: when one request took longer than --timeout to go
# up, every sync timed out and sent the same request again, and the
# changes never got through (attack eighty). Now a push that timed out
# leaves a hint in the replica: the next sync sends a quarter as many,
# and each push's answer sizes the next one to a third of --timeout.
. "$(dirname "$0")/lib.sh"

server_init
SPORT=$(free_port)
URL="tcp://127.0.0.1:$SPORT"
server_start
admin_replica
territory east
user_replica alice rep east
N=1500
customers_csv "$T/many.csv" "$N" Customer 1380 200
r alice import customers "$T/many.csv" >/dev/null
eq "$(r alice status --json | jq .pending)" "$N" "the changes wait"

proxy_start proxy.log --up-rate 100000
rove -R "$T/alice" config server "tcp://127.0.0.1:$PPORT" >/dev/null
pending() { r alice status --json | jq .pending; }
syncs=0 timeouts=0
while [ "$(pending)" -gt 0 ] && [ "$syncs" -lt 6 ]; do
	code=0
	ROVE_LOG=debug "$ROVE_BIN" -R "$T/alice" --timeout 1500 sync >"$T/out.$syncs" 2>"$T/err.$syncs" || code=$?
	syncs=$((syncs + 1))
	case $code in
	0) ;;
	3) timeouts=$((timeouts + 1)) ;;
	*) fail "sync $syncs: exit $code: $(grep -v debug "$T/err.$((syncs - 1))" | tail -n 3)" ;;
	esac
	echo "sync $syncs: exit $code, $(pending) pending"
done
eq "$(pending)" 0 "every change went up the slow link in $syncs syncs"
[ "$timeouts" -ge 1 ] || fail "no push timed out: the link was not slow (the test proves nothing)"
[ "$timeouts" -le 1 ] || fail "$timeouts syncs timed out: the hint did not hold"
grep_q "the next sync sends at most 250 changes a request" "$T/err.0" ||
	fail "the timed-out sync did not say what the next one does: $(grep -v debug "$T/err.0")"
grep -o "push: [0-9]* ops in a request" "$T/err.$((syncs - 1))" | awk '{ print $2 }' >"$T/sizes"
echo "requests of the last sync: $(tr '\n' ' ' <"$T/sizes")"
[ "$(sort -n "$T/sizes" | tail -n 1)" -le 250 ] || fail "the sync after the timeout sent more than 250 ops at once"
eq "$(r admin sync --json >/dev/null && r admin customer list --json | jq length)" "$N" "the server has every customer"

# Back on a fast link, the bound grows back to none within the sync, and
# the next sync starts without it.
kill -TERM "$PROXY_PID"
wait "$PROXY_PID" 2>/dev/null || true
rove -R "$T/alice" config server "$URL" >/dev/null
customers_csv "$T/more.csv" 3000 Later 1390 200
r alice import customers "$T/more.csv" >/dev/null
ROVE_LOG=debug "$ROVE_BIN" -R "$T/alice" sync >/dev/null 2>"$T/err.fast" || fail "the sync on a fast link: $(tail -n 3 "$T/err.fast")"
grep -o "push: [0-9]* ops in a request" "$T/err.fast" | awk '{ print $2 }' >"$T/sizes"
echo "requests on the fast link: $(tr '\n' ' ' <"$T/sizes")"
eq "$(sort -n "$T/sizes" | tail -n 1)" 1000 "on the fast link, requests of the most ops again"
customers_csv "$T/last.csv" 1000 Last 1400 200
r alice import customers "$T/last.csv" >/dev/null
ROVE_LOG=debug "$ROVE_BIN" -R "$T/alice" sync >/dev/null 2>"$T/err.next" || fail "the next sync: $(tail -n 3 "$T/err.next")"
eq "$(grep -o "push: [0-9]* ops in a request" "$T/err.next" | awk '{ print $2 }' | tr '\n' ' ')" "1000 " \
	"the next sync sent its 1,000 changes in one request"
echo "ok"
