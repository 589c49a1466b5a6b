#!/usr/bin/env bash
# Changes sent again because their answer was lost cost nothing of the
# sender's write rate: the server had applied them and answers them as
# before, writing nothing. They were charged again (attack seventy-
# eight): a rep on a link that loses answers was held back sooner, and a
# resend near the end of his bucket was refused though it wrote nothing,
# leaving changes the server had taken shown as pending.
. "$(dirname "$0")/lib.sh"

server_init
SPORT=$(free_port)
URL="tcp://127.0.0.1:$SPORT"
# A bucket of 3,000 that refills at one a second: what the syncs below
# take is what the test says.
server_start ROVE_USER_OPS_BURST=3000 ROVE_USER_OPS_PER_S=1
admin_replica
territory east
users qian:rep:east
r qian sync >/dev/null

# sync_answer_lost NAME WHAT: qian syncs through a proxy that loses the
# server's first answer; the sync must succeed with nothing left pending,
# and an answer must have been lost (else the test proves nothing).
sync_answer_lost() {
	local code=0
	proxy_start "proxy.$1.log" --cut-replies 1
	rove -R "$T/qian" config server "tcp://127.0.0.1:$PPORT" >/dev/null
	r qian sync --json >"$T/out.$1" 2>"$T/err.$1" || code=$?
	eq "$code" 0 "$2 (stderr: $(cat "$T/err.$1"))"
	eq "$(r qian status --json | jq .pending)" 0 "$2: nothing pending"
	kill -TERM "$PROXY_PID"
	wait "$PROXY_PID" 2>/dev/null || true
	grep_q " 1 cut" "$T/proxy.$1.log" || fail "$2: no answer was lost ($(cat "$T/proxy.$1.log"))"
	rove -R "$T/qian" config server "$URL" >/dev/null
}

# 2,500 changes, the first answer lost: 1,000 + 1,000 + 500 are taken,
# the 1,000 sent again (answered as before) give theirs back. Before,
# 3,500 were asked for, and the last 500 refused.
customers_csv "$T/a.csv" 2500 Qian 1380
r qian import customers "$T/a.csv" >/dev/null
sync_answer_lost a "a sync whose first answer was lost"

# 400 more with 500 left: 400 taken, the answer lost, and sent again
# when only 100 are left. The server looks at the push again: all 400
# were answered before, so it passes (before: refused, and 400 changes
# the server had shown as pending).
customers_csv "$T/b.csv" 400 Later 1390
r qian import customers "$T/b.csv" >/dev/null
sync_answer_lost b "a resend near the end of the bucket"

# The rate still holds: 200 new changes find about 100 left.
customers_csv "$T/c.csv" 200 Last 1400
r qian import customers "$T/c.csv" >/dev/null
code=0
r qian sync >/dev/null 2>"$T/err3" || code=$?
eq "$code" 1 "new changes past the bucket are still refused"
grep_q "too many changes from qian in a short time" "$T/err3" || fail "why: $(cat "$T/err3")"
r admin sync >/dev/null
eq "$(r admin customer list --json | jq '[.[] | select(.name | test("^(Qian|Later) "))] | length')" 2900 \
	"the server holds each change once"
echo ok
