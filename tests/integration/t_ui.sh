#!/usr/bin/env bash
# rove ui over HTTP with curl (tests/browser drives it in Chromium): the
# URL alone on stdout; no token, a foreign Host, a POST without the CSRF
# token or from another origin are refused; a hostile name is text; a
# form's change goes through the command's checks into the outbox and
# reaches another replica by the Sync button; SIGTERM stops it cleanly.
source "$(dirname "$0")/lib.sh"

server_setup
territories east east/east.sh
users alice:rep:east.sh bob:rep:east.sh mike:manager:east
r alice sync >/dev/null
r bob sync >/dev/null
cid=$(r alice customer add --name "Acme Trading" --phone 13800001111)
did=$(r alice opportunity add --customer "$cid" --title "Pumps" --amount 1200)
# bob's hostile name, released to the pool alice sees
hid=$(r bob customer add --name '<script>alert(1)</script>')
r bob sync >/dev/null
r bob customer release "$hid" --reason "not mine" >/dev/null
r bob sync >/dev/null
r alice sync >/dev/null

"$ROVE_BIN" -R "$T/alice" ui >"$T/ui.out" 2>"$T/ui.err" &
UI_PID=$!
BG_PIDS+=("$UI_PID")
for _ in $(seq 1 100); do
	[ -s "$T/ui.out" ] && break
	sleep 0.05
done
url=$(cat "$T/ui.out")
[[ $url =~ ^http://127\.0\.0\.1:[0-9]+/\?token=[0-9a-f]{64}$ ]] || fail "not a URL with a token alone on stdout: '$url'"
eq "$(wc -l <"$T/ui.out")" 1 "lines on stdout"
base=${url%%/\?token=*}
hostport=${base#http://}
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

# Without the token, with a wrong one, with a foreign Host: refused.
eq "$(code "$base/")" 403 "no token"
eq "$(code "$base/customers")" 403 "no token"
eq "$(code "$base/?token=0000000000000000000000000000000000000000000000000000000000000000")" 403 "wrong token"
eq "$(code -H 'Host: evil.example' "$url")" 403 "foreign Host (DNS rebinding)"
eq "$(code -H "Host: localhost:${hostport#*:}" "$url")" 403 "another name for this host"
# The token once, then the cookie.
eq "$(code -c "$T/jar" "$url")" 303 "the token's URL"
grep -q "rove_ui_" "$T/jar" || fail "no cookie set"
get() { curl -s -b "$T/jar" "$base$1"; }
eq "$(code -b "$T/jar" "$base/")" 200 "a page with the cookie"
eq "$(code -b "$T/jar" -H 'Host: evil.example' "$base/")" 403 "cookie but a foreign Host"
eq "$(code -b "$T/jar" -X OPTIONS "$base/")" 405 "OPTIONS (no CORS)"
grep -qi "^Content-Security-Policy: default-src 'none'" <<<"$(curl -s -i -b "$T/jar" "$base/")" || fail "no strict CSP"
grep -qi "Access-Control-Allow" <<<"$(curl -s -i -b "$T/jar" -H 'Origin: http://evil.example' "$base/")" && fail "CORS answered"

# The hostile name is text, escaped by the server.
page=$(get "/customers?q=script")
grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' <<<"$page" || fail "the hostile name is not escaped: $page"
grep -q '<script>alert' <<<"$page" && fail "the hostile name is markup"
# Search finds a customer by phone in another format; assets are served.
grep -q "Acme Trading" <<<"$(get "/customers?q=%2B86%20138-0000-1111")" || fail "search by phone"
grep -q "Acme Trading" <<<"$(get "/customers?f=pool")" && fail "alice's customer listed in the pool"
grep -q "font" <<<"$(get "/static/app.css")" || fail "no stylesheet"

csrf=$(get "/customer/$cid" | grep -o 'name="csrf" value="[0-9a-f]*"' | head -1 | sed 's/.*value="//; s/"//')
[ ${#csrf} -eq 64 ] || fail "no CSRF token in the card's forms"
post() { curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" "$@"; }
# Cross-site: no CSRF token, a wrong one, another Origin.
eq "$(post --data "kind=visit&note=x" "$base/customer/$cid/activity")" 403 "POST without the CSRF token"
bad=${csrf:0:63}$([ "${csrf:63}" = 0 ] && echo 1 || echo 0) # one digit differs
eq "$(post --data "csrf=$bad&kind=visit&note=x" "$base/customer/$cid/activity")" 403 "a wrong CSRF token"
eq "$(post -H 'Origin: http://evil.example' --data "csrf=$csrf&kind=visit&note=x" "$base/customer/$cid/activity")" 403 "another origin"
eq "$(post --data "csrf=$csrf&kind=visit&note=x" "$base/customer/$cid/activity" -G)" 404 "a GET changes nothing"
eq "$(r alice activity list --customer "$cid" --json | jq length)" 0 "refused requests changed nothing"

# A form's change: the command's checks first (a bad kind is refused with its reason)...
out=$(curl -s -b "$T/jar" --data "csrf=$csrf&kind=party&note=x" "$base/customer/$cid/activity")
grep -q 'id="error"' <<<"$out" || fail "an invalid kind was not refused on the page"
grep -q "kind" <<<"$out" || fail "the refusal does not say why"
eq "$(post --data-urlencode "csrf=$csrf" --data-urlencode "kind=visit" --data-urlencode "note=Met the buyer <b>" \
	--data-urlencode "location=Shanghai" "$base/customer/$cid/activity")" 303 "add an activity"
eq "$(r alice activity list --customer "$cid" --json | jq -r '.[0].note')" "Met the buyer <b>" "the activity's note"
eq "$(r alice activity list --customer "$cid" --json | jq -r '.[0].pending')" true "the activity waits in the outbox"
eq "$(post --data "csrf=$csrf&stage=won&back=/customer/$cid" "$base/deal/$did/stage")" 303 "move the deal to won"
eq "$(r alice opportunity show "$did" --json | jq -r .stage)" won "the deal's stage"
# ... then Sync, and their manager's replica has them.
eq "$(post --data "csrf=$csrf" "$base/sync")" 303 "sync"
grep -q 'id="sync-result"' <<<"$(get "/sync?pushed=1")" || fail "no sync result"
r mike sync >/dev/null
eq "$(r mike activity list --customer "$cid" --json | jq -r '.[0].location')" Shanghai "the manager sees the activity"
eq "$(r mike opportunity show "$did" --json | jq -r .stage)" won "the manager sees the deal won"

# Reports: the figures of rove report, drawn as SVG beside their tables,
# and the CSV the command prints. A second deal, still open, and a target
# set by the manager, so that every chart has something to draw.
r alice opportunity add --customer "$cid" --title "Valves" --amount 800 --stage proposal >/dev/null
r mike sync >/dev/null
r mike target set alice --period "$(date -u +%Y-%m)" --amount 2000 >/dev/null
r mike sync >/dev/null
eq "$(post --data "csrf=$csrf" "$base/sync")" 303 "sync for the target"
rep=$(get "/reports")
for chart in funnel targets-chart trend; do
	grep -q "<svg class=\"chart\" id=\"$chart\"" <<<"$rep" || fail "no SVG $chart on the reports page"
done
grep -q '<script>' <<<"$rep" && fail "an inline script on the reports page"
# every figure of the pipeline's tables is the command's, key by key
json=$(r alice report pipeline --json)
want=$(jq -r '(.by_stage[] | "stage \(.stage) \(.count) \(.amount)"), (.by_territory[] | "territory \(.territory) \(.count) \(.amount)"),
	(.by_rep[] | "rep \(.rep) \(.count) \(.amount)"), "total  \(.total.count) \(.total.amount)"' <<<"$json" | sort)
got=$(grep -o 'data-dim="[a-z]*" data-key="[^"]*" data-count="[0-9-]*" data-amount="[0-9-]*"' <<<"$rep" |
	sed 's/data-dim="\([^"]*\)" data-key="\([^"]*\)" data-count="\([^"]*\)" data-amount="\([^"]*\)"/\1 \2 \3 \4/' | sort)
eq "$got" "$want" "the pipeline on the page against rove report pipeline --json"
eq "$(jq .total.amount <<<"$json")" 80000 "the open pipeline: the proposal alone"
want=$(r alice report targets --json | jq -r '.[] | "\(.user) \(.target) \(.won) \(.percent)"')
got=$(grep -o 'data-user="[^"]*" data-target="[0-9-]*" data-won="[0-9-]*" data-percent="[0-9-]*"' <<<"$rep" |
	sed 's/data-user="\([^"]*\)" data-target="\([^"]*\)" data-won="\([^"]*\)" data-percent="\([^"]*\)"/\1 \2 \3 \4/')
eq "$got" "$want" "the targets on the page against rove report targets --json"
eq "$got" "alice 200000 120000 60" "alice reached 60% of her target"
want=$(r alice report daily --json | jq -r 'reverse | .[] | "\(.date) \(.new_customers) \(.activities) \(.won_amount)"')
got=$(grep -o 'data-date="[^"]*" data-new="[0-9-]*" data-activities="[0-9-]*" data-won="[0-9-]*"' <<<"$rep" |
	sed 's/data-date="\([^"]*\)" data-new="\([^"]*\)" data-activities="\([^"]*\)" data-won="\([^"]*\)"/\1 \2 \3 \4/')
eq "$got" "$want" "the daily trend on the page against rove report daily --json"
grep -q 'polyline data-series="activities"' <<<"$rep" || fail "no line of the daily trend"
# the CSV export: the command's bytes, as an attachment
curl -s -b "$T/jar" -D "$T/csv.h" -o "$T/pipeline.csv" "$base/reports/pipeline.csv"
r alice report pipeline --csv >"$T/pipeline.cli.csv"
cmp -s "$T/pipeline.csv" "$T/pipeline.cli.csv" || fail "the page's CSV differs from rove report pipeline --csv"
grep -qi '^Content-Disposition: attachment; filename="rove-pipeline.csv"' "$T/csv.h" || fail "the CSV is not an attachment"
grep -qi '^Content-Type: text/csv' "$T/csv.h" || fail "the CSV is not text/csv"
period=$(date -u +%Y-%m)
cmp -s <(get "/reports/targets.csv?period=$period") <(r alice report targets --csv --period "$period") ||
	fail "the targets CSV differs from the command's"
cmp -s <(get "/reports/daily.csv?from=2020-01-01&to=2020-01-03") <(r alice report daily --csv --from 2020-01-01 --to 2020-01-03) ||
	fail "the daily CSV differs from the command's"
eq "$(code -b "$T/jar" "$base/reports/daily.csv?from=2020-01-05&to=2020-01-03")" 400 "a range backwards"
eq "$(code -b "$T/jar" "$base/reports?period=2020-13")" 400 "a month that is not one"
eq "$(code -b "$T/jar" "$base/reports/nosuch.csv")" 404 "no such report"

# Offline is a state: the server stopped, Sync says offline, nothing lost.
server_stop
curl -s -b "$T/jar" --data "csrf=$csrf&kind=call&note=offline" "$base/customer/$cid/activity" >/dev/null
loc=$(curl -s -o /dev/null -w '%{redirect_url}' -b "$T/jar" --data "csrf=$csrf" "$base/sync")
[[ $loc == *offline=1* ]] || fail "sync offline did not say offline: '$loc'"
eq "$(r alice pending --json | jq length)" 1 "the offline change is kept"

kill -TERM "$UI_PID"
rc=0; wait "$UI_PID" || rc=$?
eq "$rc" 0 "rove ui stopped by SIGTERM: exit status ($(cat "$T/ui.err"))"
echo "ok"
