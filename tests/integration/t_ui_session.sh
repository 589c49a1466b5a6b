#!/usr/bin/env bash
# rove ui's session: the printed token is exchanged for a session whose
# credential is a secret in the path (/s/SECRET/, which other ports never
# see) plus a cookie distinct from the token (which a browser sends to
# every port of 127.0.0.1). A program on another local port that the
# browser visits gets the cookie but not the path secret: the cookie alone
# opens nothing, nor the path alone, nor the token as a cookie.
source "$(dirname "$0")/lib.sh"

server_setup
territories east
users alice:rep:east
r alice sync >/dev/null
cid=$(r alice customer add --name "Acme Trading" --phone 13800001111)

start_ui ui alice
url=$(cat "$T/ui.out")
[[ $url =~ ^http://127\.0\.0\.1:[0-9]+/\?token=([0-9a-f]{64})$ ]] || fail "not a URL with a token alone on stdout: '$url'"
token=${BASH_REMATCH[1]}
base=${url%%/\?token=*}
port=${base##*:}
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

# The token's URL: a 303 to the session's path, and a session cookie.
curl -s -o /dev/null -D "$T/login.h" "$url"
grep -q '^HTTP/1.1 303' "$T/login.h" || fail "the token's URL is not a redirect: $(head -1 "$T/login.h")"
loc=$(grep -i '^Location:' "$T/login.h" | tr -d '\r' | sed 's/^[^:]*: *//')
[[ $loc =~ ^/s/([0-9a-f]{64})/$ ]] || fail "the token's URL does not lead to a session path: '$loc'"
secret=${BASH_REMATCH[1]}
setc=$(grep -i '^Set-Cookie: rove_ui_' "$T/login.h" | tr -d '\r')
[[ $setc =~ rove_ui_$port=([0-9a-f]+) ]] || fail "no session cookie: '$setc'"
cookie=${BASH_REMATCH[1]}
[ "$cookie" != "$token" ] || fail "the session cookie is the access token"
[ "$cookie" != "$secret" ] || fail "the session cookie is the path secret"
[ "$secret" != "$token" ] || fail "the path secret is the access token"
grep -qi 'HttpOnly' <<<"$setc" || fail "the session cookie is not HttpOnly: $setc"
grep -qi 'SameSite=Strict' <<<"$setc" || fail "the session cookie is not SameSite=Strict: $setc"
# (same-origin, not no-referrer: another port is another origin, so the
# path never reaches it, and a browser sends Origin: null with a POST
# under no-referrer, which the Origin check must refuse)
grep -qi '^Referrer-Policy: same-origin' "$T/login.h" || fail "the token's redirect may leak a referrer"
sess=$base/s/$secret
ck="rove_ui_$port=$cookie"

# Both: the pages, with the base every relative link resolves against.
page=$(curl -s -D "$T/page.h" -H "Cookie: $ck" "$sess/customers")
grep -q "Acme Trading" <<<"$page" || fail "the session does not open the customers: $page"
grep -q "<base href=\"/s/$secret/\">" <<<"$page" || fail "no <base> of the session's path"
links=$(sed 's/<base href="[^"]*">//' <<<"$page")
grep -qE '(href|action|src)="/' <<<"$links" && fail "an absolute link, outside the session's path: $(grep -oE '(href|action|src)="/[^"]*"' <<<"$links" | head -3)"
for p in / "/customer/$cid" "/customer/$cid/edit" /deals /deals/board /reports /sync; do
	links=$(curl -s -H "Cookie: $ck" "$sess$p" | sed 's/<base href="[^"]*">//')
	grep -q '<form' <<<"$links" || fail "no page at $p"
	grep -qE '(href|action|src)="/' <<<"$links" && fail "an absolute link on $p: $(grep -oE '(href|action|src)="/[^"]*"' <<<"$links" | head -3)"
done
grep -qi '^Referrer-Policy: same-origin' "$T/page.h" || fail "the page's Referrer-Policy is not same-origin"
eq "$(code -H "Cookie: $ck" "$sess/static/app.css")" 200 "an asset in the session"
eq "$(code -H "Cookie: $ck" "$sess")" 303 "the session's path without its slash"

# What another port could replay: the cookie without the path secret, or
# with a wrong one. Refused, and no data.
for p in / /customers "/customer/$cid" /sync/status /reports/pipeline.csv; do
	out=$(curl -s -w '\n%{http_code}' -H "Cookie: $ck" "$base$p")
	eq "$(tail -1 <<<"$out")" 403 "the cookie alone on $p"
	grep -q "Acme" <<<"$out" && fail "the cookie alone on $p shows data"
done
wrong=${secret:0:63}$([ "${secret:63}" = 0 ] && echo 1 || echo 0)
eq "$(code -H "Cookie: $ck" "$base/s/$wrong/customers")" 403 "the cookie with a wrong path secret"
eq "$(code -H "Cookie: $ck" "$base/s//customers")" 403 "the cookie with an empty path secret"
eq "$(code -H "Cookie: $ck" "$base/s/$token/customers")" 403 "the cookie with the token as path secret"
# The path secret without the cookie, with a wrong one, with the token.
eq "$(code "$sess/customers")" 403 "the path secret without the cookie"
wrongc=${cookie:0:${#cookie}-1}$([ "${cookie: -1}" = 0 ] && echo 1 || echo 0)
eq "$(code -H "Cookie: rove_ui_$port=$wrongc" "$sess/customers")" 403 "the path secret with a wrong cookie"
eq "$(code -H "Cookie: rove_ui_$port=$token" "$sess/customers")" 403 "the path secret with the token as cookie"
# Without its cookie (evicted by another local site's many cookies), the
# session's path says so in a page, in the user's language, with no data.
curl -s -D "$T/gone.h" -o "$T/gone.html" "$sess/customers"
grep_q -i '^Content-Type: text/html' "$T/gone.h" || fail "a session without its cookie is not a page"
grep_q '<title>rove: session gone</title>' "$T/gone.html" || fail "no page for a session without its cookie: $(head -c 200 "$T/gone.html")"
grep_q 'shared by every local site' "$T/gone.html" || fail "the session-gone page does not say why"
grep_q 'Open the URL rove ui printed again' "$T/gone.html" || fail "the session-gone page does not say what to do"
grep_q 'Acme' "$T/gone.html" && fail "the session-gone page shows data"
curl -s -o "$T/gone.zh" -H 'Accept-Language: zh-CN,zh;q=0.9' -H "Cookie: rove_ui_$port=$wrongc" "$sess/customers"
grep_q '会话' "$T/gone.zh" || fail "the session-gone page is not in Chinese for zh: $(head -c 200 "$T/gone.zh")"
eq "$(code -H "Cookie: rove_ui_$port=$token" "$base/customers")" 403 "the token as cookie, the old way"
# A foreign Host still refused, even with both.
eq "$(code -H "Cookie: $ck" -H 'Host: evil.example' "$sess/customers")" 403 "both, but a foreign Host"

# A form: its CSRF token belongs to the session; the redirect stays in it.
csrf=$(curl -s -H "Cookie: $ck" "$sess/customer/$cid" | grep -o 'name="csrf" value="[0-9a-f]*"' | head -1 | sed 's/.*value="//; s/"//')
[ ${#csrf} -eq 64 ] || fail "no CSRF token in the card's forms"
curl -s -o /dev/null -D "$T/post.h" -H "Cookie: $ck" --data "csrf=$csrf&kind=visit&note=from+the+session" "$sess/customer/$cid/activity"
grep -q '^HTTP/1.1 303' "$T/post.h" || fail "the form was not taken: $(head -1 "$T/post.h")"
grep -qi "^Location: /s/$secret/customer/$cid" "$T/post.h" || fail "the form's redirect leaves the session: $(grep -i '^Location' "$T/post.h")"
eq "$(r alice activity list --customer "$cid" --json | jq length)" 1 "the form's activity"
eq "$(code -H "Cookie: $ck" --data "csrf=$csrf&kind=visit&note=x" "$base/customer/$cid/activity")" 403 "a form posted outside the session"

# The token's URL logs in again (another tab, another browser): another
# session; the first goes on working.
curl -s -o /dev/null -D "$T/login2.h" "$url"
loc2=$(grep -i '^Location:' "$T/login2.h" | tr -d '\r' | sed 's/^[^:]*: *//')
[[ $loc2 =~ ^/s/([0-9a-f]{64})/$ ]] || fail "the second login has no session path: '$loc2'"
secret2=${BASH_REMATCH[1]}
[ "$secret2" != "$secret" ] || fail "two logins share a path secret"
cookie2=$(grep -i '^Set-Cookie: rove_ui_' "$T/login2.h" | tr -d '\r' | sed "s/.*rove_ui_$port=\([0-9a-f]*\).*/\1/")
eq "$(code -H "Cookie: rove_ui_$port=$cookie2" "$base/s/$secret2/customers")" 200 "the second session"
eq "$(code -H "Cookie: $ck" "$sess/customers")" 200 "the first session, still"
# One session's cookie does not open the other's path.
eq "$(code -H "Cookie: rove_ui_$port=$cookie2" "$sess/customers")" 403 "a session's cookie on another's path"
# A wrong token opens nothing.
eq "$(code "$base/?token=${wrong}")" 403 "a wrong token"
# Sixteen more logins: the least recently used session (the second) is
# closed to make room, and its page says that this may be why (attack
# seventy-two: it said only that the cookie was gone).
eq "$(code -H "Cookie: $ck" "$sess/customers")" 200 "the first session, used last"
for _ in $(seq 1 16); do eq "$(code "$url")" 303 "another login"; done
curl -s -o "$T/gone2.html" -H "Cookie: rove_ui_$port=$cookie2" "$base/s/$secret2/customers"
grep_q '<title>rove: session gone</title>' "$T/gone2.html" || fail "the closed session has no page: $(head -c 200 "$T/gone2.html")"
grep_q 'opened in 16 more tabs or browsers' "$T/gone2.html" || fail "the page does not say sessions make room"

# --open: the token is in no argv (/proc/PID/cmdline is readable by every
# local user); xdg-open gets the path of a page, mode 0600, that leads to
# the URL, removed when rove ui stops.
mkdir -p "$T/bin" "$T/run" && chmod 700 "$T/run"
cat >"$T/bin/xdg-open" <<EOF
#!/bin/sh
printf '%s\n' "\$0" "\$@" >"$T/xdg.argv"
stat -c %a "\$1" >"$T/xdg.mode"
cat "\$1" >"$T/xdg.page"
EOF
chmod +x "$T/bin/xdg-open"
PATH="$T/bin:$PATH" XDG_RUNTIME_DIR="$T/run" "$ROVE_BIN" -R "$T/alice" ui --open >"$T/open.out" 2>"$T/open.err" &
opid=$!
BG_PIDS+=("$opid")
wait_for 5 "xdg-open's page" test -s "$T/xdg.page"
ourl=$(cat "$T/open.out")
otoken=${ourl##*token=}
[ ${#otoken} -eq 64 ] || fail "rove ui --open printed no URL: $ourl"
grep_q "$otoken" "$T/xdg.argv" && fail "the token is in xdg-open's argv: $(cat "$T/xdg.argv")"
opage=$(sed -n 2p "$T/xdg.argv")
[[ $opage == "$T/run/"* ]] || fail "xdg-open was not given a page in XDG_RUNTIME_DIR: $opage"
eq "$(cat "$T/xdg.mode")" 600 "the page's mode"
grep_q "url=$ourl\"" "$T/xdg.page" || fail "the page does not lead to the URL: $(cat "$T/xdg.page")"
kill -TERM "$opid"
wait "$opid" || true
[ -e "$opage" ] && fail "the page outlives rove ui"
echo "ok"
