#!/usr/bin/env bash
# rove ui against idle and half-sent connections (a hostile local
# program, or a browser's pile of them): with 128 descriptors, hundreds
# of silent connections and of requests sent a header line a second,
# never finished, do not keep a page from loading (at the cap the oldest
# idle one makes room); they are cut at the request deadline; a request
# larger than the cap is refused whole, and a form of the largest size
# the limits allow is taken.
source "$(dirname "$0")/lib.sh"

LIMITS="$(dirname "$0")/../../common/rove_limits.h"
# (the value of a #define, an integer expression such as (64u * 1024u))
limit() { local v; v=$(sed -n "s/^#define $1 \(.*\)$/\1/p" "$LIMITS" | sed 's/\([0-9]\)u/\1/g'); echo $((${v:-0})); }
MAX_CONNS=$(limit ROVE_UI_MAX_CONNS)
DEADLINE_MS=$(limit ROVE_UI_REQUEST_MS)
MAX_BODY=$(limit ROVE_UI_MAX_BODY)
MAX_HEAD=$(limit ROVE_UI_MAX_HEAD)
[ "$MAX_CONNS" -gt 0 ] && [ "$DEADLINE_MS" -gt 0 ] && [ "$MAX_BODY" -gt 0 ] && [ "$MAX_HEAD" -gt 0 ] ||
	fail "no ROVE_UI_MAX_CONNS / ROVE_UI_REQUEST_MS / ROVE_UI_MAX_BODY in rove_limits.h"

server_setup
territories east
users alice:rep:east
r alice sync >/dev/null
cid=$(r alice customer add --name "Acme Trading")

(
	ulimit -n 128
	exec "$ROVE_BIN" -R "$T/alice" ui
) >"$T/ui.out" 2>"$T/ui.err" &
BG_PIDS+=($!)
wait_for 5 "rove ui's URL" test -s "$T/ui.out"
url=$(cat "$T/ui.out")
port=$(sed 's|^http://127.0.0.1:\([0-9]*\)/.*|\1|' <<<"$url")
sb=$(ui_login "$T/jar" "$url")
eq "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" "$sb/customers")" 200 "a page before"

# page_loads JAR URL OUT TRIES: fetches URL (with JAR's session) until it
# answers the customers page, at most TRIES times, each bounded to 2 s;
# sets ok (1 if it did), st (the last status) and ms (the time it took).
page_loads() {
	local i t0
	ok= t0=$(date +%s%N)
	for ((i = 0; i < $4; i++)); do
		st=$(curl -s --max-time 2 -o "$3" -w '%{http_code}' -b "$1" "$2" || true)
		if [ "$st" = 200 ] && grep -q "Acme Trading" "$3"; then
			ok=1
			break
		fi
		sleep 0.2
	done
	ms=$((($(date +%s%N) - t0) / 1000000))
}

# 20 silent connections, then 300 that send a request's first line and
# Host, then a header line a second; held for the deadline and 3 s more.
hold=$((DEADLINE_MS / 1000 + 3))
python3 "$(dirname "$0")/../tools/slow_http.py" "$port" 300 20 "$hold" /customers "127.0.0.1:$port" >"$T/slow" 2>&1 &
slow=$!
BG_PIDS+=($slow)
wait_for 10 "the slow connections to open" grep_q '^open' "$T/slow"

# While they are held: a page loads within a few seconds (retried, in
# case a connection meets a moment when none could make room).
page_loads "$T/jar" "$sb/customers" "$T/page" 60
[ -n "$ok" ] || fail "no page while slow connections were held (last status '$st'); rove ui: $(tail -3 "$T/ui.err")"
[ "$ms" -le 3000 ] || fail "a page took $ms ms to load under slow connections"
echo "a page loaded in $ms ms under 320 slow connections"
# The slow ones were cut (made room for the pages, or at the deadline).
wait $slow
grep -q '^alive 0$' "$T/slow" || fail "slow connections outlived the request deadline: $(cat "$T/slow")"
kill -0 "${BG_PIDS[-2]}" 2>/dev/null || fail "rove ui died: $(tail -3 "$T/ui.err")"

# Once they are gone: pages at once.
eq "$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' -b "$T/jar" "$sb/customers")" 200 "a page after"

# A request over the caps: refused whole (413 or 431), the server fine.
big=$(head -c $((MAX_BODY + 4096)) /dev/zero | tr '\0' 'a')
st=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -b "$T/jar" --data "note=$big" "$sb/customer/$cid/activity" || true)
eq "$st" 413 "a body over ROVE_UI_MAX_BODY"
st=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -b "$T/jar" -H "X-Big: $(head -c $((MAX_HEAD + 100)) /dev/zero | tr '\0' 'b')" "$sb/customers" || true)
eq "$st" 431 "headers over the cap"
# A cookie bomb: another local site's page sets cookies on 127.0.0.1
# (sent to every port) until every request is over the cap. The answer,
# even to the printed URL, says so and clears them.
bomb=""
for i in 1 2 3 4 5 6 7 8 9; do bomb+="bomb$i=$(head -c 3900 /dev/zero | tr '\0' 'x'); "; done
eq "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -H "Cookie: $bomb" "$sb/customers")" 431 "a cookie bomb"
curl -s --max-time 5 -D "$T/bomb.h" -o "$T/bomb.html" -H "Cookie: $bomb" "$url" || true
grep_q -i '^Clear-Site-Data: "cookies"' "$T/bomb.h" || fail "a cookie bomb's answer does not clear cookies: $(cat "$T/bomb.h")"
grep_q -i '^Content-Type: text/html' "$T/bomb.h" || fail "a cookie bomb's answer is not a page"
grep_q '<title>rove: too many cookies</title>' "$T/bomb.html" || fail "a cookie bomb's page says nothing: $(head -c 300 "$T/bomb.html")"
grep_q 'Open the URL rove ui printed again' "$T/bomb.html" || fail "a cookie bomb's page does not say what to do"
# Cookies a browser keeps for other local sites, under the cap: taken.
ck=$(awk '$6 ~ /^rove_ui_/ {print $6 "=" $7}' "$T/jar")
eq "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $(head -c 20000 /dev/zero | tr '\0' 'c')=1; $ck" "$sb/customers")" 200 "20 KB of other sites' cookies"
# Requests that are not HTTP/1.x as taken: answered whole, and closed.
raw() {
	python3 - "$port" "$1" <<'PY'
import socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=5)
s.sendall(sys.argv[2].encode().decode('unicode_escape').encode('latin-1'))
d = b''
while True:
    b = s.recv(4096)
    if not b:
        break
    d += b
print(d.split(b'\r\n')[0].decode())
PY
}
h="Host: 127.0.0.1:$port\\r\\n"
eq "$(raw 'garbage\r\n\r\n')" "HTTP/1.1 400 Bad Request" "garbage"
eq "$(raw "GET / HTTP/2.0\\r\\n$h\\r\\n")" "HTTP/1.1 505 HTTP Version Not Supported" "HTTP/2.0"
eq "$(raw "POST /s/x/sync HTTP/1.1\\r\\n${h}Transfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n")" \
	"HTTP/1.1 411 Length Required" "a chunked body"
eq "$(raw "POST /s/x/sync HTTP/1.1\\r\\n${h}Content-Length: 1\\r\\nContent-Length: 2\\r\\n\\r\\nab")" \
	"HTTP/1.1 400 Bad Request" "two Content-Lengths"
eq "$(raw "GET / HTTP/1.1\\r\\n${h} folded\\r\\n\\r\\n")" "HTTP/1.1 400 Bad Request" "a folded header"
eq "$(raw "GET /\\x00 HTTP/1.1\\r\\n$h\\r\\n")" "HTTP/1.1 400 Bad Request" "a NUL"
eq "$(raw "GET / HTTP/1.1\\r\\n$h\\r\\n")" "HTTP/1.1 403 Forbidden" "no session, whole and closed"
# Two Host headers (RFC 9112: 400), the first ours; two Cookie headers
# (RFC 6265: a browser sends one), which one a check reads is ambiguous.
eq "$(raw "GET / HTTP/1.1\\r\\n${h}Host: evil.example\\r\\n\\r\\n")" "HTTP/1.1 400 Bad Request" "two Host headers"
eq "$(raw "GET / HTTP/1.1\\r\\n${h}host: 127.0.0.1:$port\\r\\n\\r\\n")" "HTTP/1.1 400 Bad Request" "two equal Host headers"
eq "$(raw "GET / HTTP/1.1\\r\\n${h}Cookie: a=1\\r\\nCookie: b=2\\r\\n\\r\\n")" "HTTP/1.1 400 Bad Request" "two Cookie headers"

# The largest note a form may carry, percent-encoded at its worst, fits.
csrf=$(curl -s -b "$T/jar" "$sb/customer/$cid" | grep -o 'name="csrf" value="[0-9a-f]*"' | head -1 | sed 's/.*value="//; s/"//')
note=$(python3 -c 'print("中" * 1000)')
eq "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" --data-urlencode "csrf=$csrf" --data-urlencode "kind=note" \
	--data-urlencode "note=$note" "$sb/customer/$cid/activity")" 303 "a long note through the form"
eq "$(r alice activity list --customer "$cid" --json | jq -r '.[0].note | length')" 1000 "the long note, whole"

# A field given twice (a form of ours never does): refused whole, not
# one of the two values taken as a guess; in the query and the body too.
n0=$(r alice activity list --customer "$cid" --json | jq length)
eq "$(curl -s -o "$T/twice" -w '%{http_code}' -b "$T/jar" --data-urlencode "csrf=$csrf" --data-urlencode "kind=note" \
	--data-urlencode "note=first" --data-urlencode "note=second" "$sb/customer/$cid/activity")" 400 "a field given twice"
grep -q "parameter 'note' given twice" "$T/twice" || fail "the refusal does not name the field: $(cat "$T/twice")"
eq "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" --data-urlencode "csrf=$csrf" --data-urlencode "kind=note" \
	--data-urlencode "note=third" "$sb/customer/$cid/activity?kind=call")" 400 "a field in the query and the form"
eq "$(r alice activity list --customer "$cid" --json | jq length)" "$n0" "activities after the fields given twice"
# A textarea's line breaks as a browser sends them (CRLF) are the note's
# lines (attack twelve: refused as a control character); a CR alone is one.
eq "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" --data "csrf=$csrf&kind=note&note=line%20one%0D%0Aline%20two" \
	"$sb/customer/$cid/activity")" 303 "a note with CRLF"
eq "$(r alice activity list --customer "$cid" --json | jq -r '.[0].note')" $'line one\nline two' "the note's lines"
eq "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" --data "csrf=$csrf&kind=note&note=a%0Db" \
	"$sb/customer/$cid/activity")" 422 "a note with a CR alone"

# With few descriptors (ulimit -n 40), silent connections do not shut
# the user out: the cap is sized from RLIMIT_NOFILE, so that at the cap
# a newcomer can still be accepted and take the oldest idle one's place.
(
	ulimit -n 40
	exec "$ROVE_BIN" -R "$T/alice" ui
) >"$T/ui40.out" 2>"$T/ui40.err" &
BG_PIDS+=($!)
wait_for 5 "rove ui's URL (40 descriptors)" test -s "$T/ui40.out"
url40=$(cat "$T/ui40.out")
port40=$(sed 's|^http://127.0.0.1:\([0-9]*\)/.*|\1|' <<<"$url40")
sb40=$(ui_login "$T/jar40" "$url40")
python3 "$(dirname "$0")/../tools/slow_http.py" "$port40" 0 65 8 / "127.0.0.1:$port40" >"$T/silent40" 2>&1 &
silent40=$!
BG_PIDS+=($silent40)
wait_for 10 "the silent connections to open" grep_q '^open' "$T/silent40"
page_loads "$T/jar40" "$sb40/customers" "$T/page40" 10
[ -n "$ok" ] || fail "no page with 40 descriptors and 65 silent connections (last status '$st'); rove ui: $(tail -3 "$T/ui40.err")"
[ "$ms" -le 3000 ] || fail "a page took $ms ms to load with 40 descriptors and 65 silent connections"
kill "$silent40" 2>/dev/null || true
echo ok
