#!/usr/bin/env bash
# rove ui over HTTP with curl (tests/browser drives it in Chromium): the
# URL alone on stdout; no token, a foreign Host, a POST without the CSRF
# token or from another origin are refused; a hostile name is text; a
# form's change goes through the command's checks into the outbox and
# reaches another replica by the Sync button; SIGTERM stops it cleanly.
source "$(dirname "$0")/lib.sh"

# the recycling rules run often: Today's days left
ROVED_ARGS="--recycle-interval 0.3"
server_setup
territories east east/east.sh
users alice:rep:east.sh bob:rep:east.sh mike:manager:east ana:analyst
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

start_ui ui alice
UI_PID=$UI_STARTED
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
eq "$(code "$url")" 303 "the token's URL"
sb=$(ui_login "$T/jar" "$url") # the session's base URL, /s/SECRET
grep -q "rove_ui_" "$T/jar" || fail "no cookie set"
get() { curl -s -b "$T/jar" "$sb$1"; }
# A pool customer's card, for a rep: the claim, and no form the rules
# would refuse on save (attack twelve: an activity form that said
# not_owner); her own customer's card has them.
pcard=$(get "/customer/$hid")
grep -q 'id="claim"' <<<"$pcard" || fail "no claim on a pool customer's card"
grep -q 'id="claim-first"' <<<"$pcard" || fail "no word on claiming first"
if grep -q 'id="activity-form"\|id="edit-link"' <<<"$pcard"; then fail "a pool customer's card offers forms"; fi
grep -q 'id="activity-form"' <<<"$(get "/customer/$cid")" || fail "her own customer's card has no activity form"
eq "$(code -b "$T/jar" "$sb/")" 200 "a page with the cookie"
eq "$(code -b "$T/jar" -H 'Host: evil.example' "$sb/")" 403 "cookie but a foreign Host"
eq "$(code -b "$T/jar" -X OPTIONS "$sb/")" 405 "OPTIONS (no CORS)"
grep -qi "^Content-Security-Policy: default-src 'none'" <<<"$(curl -s -i -b "$T/jar" "$sb/")" || fail "no strict CSP"
grep -qi "Access-Control-Allow" <<<"$(curl -s -i -b "$T/jar" -H 'Origin: http://evil.example' "$sb/")" && fail "CORS answered"

# The hostile name is text, escaped by the server.
page=$(get "/customers?q=script")
grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' <<<"$page" || fail "the hostile name is not escaped: $page"
grep -q '<script>alert' <<<"$page" && fail "the hostile name is markup"
# Search finds a customer by phone in another format; assets are served.
grep -q "Acme Trading" <<<"$(get "/customers?q=%2B86%20138-0000-1111")" || fail "search by phone"
grep -q "Acme Trading" <<<"$(get "/customers?f=pool")" && fail "alice's customer listed in the pool"
grep -q "font" <<<"$(get "/static/app.css")" || fail "no stylesheet"
# An asset that is not there: a whole 404 (with its length), not an answer
# that never ends.
for missing in /static/nope.js /static/ /static/app.js/; do
	st=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -b "$T/jar" "$sb$missing") ||
		fail "a missing asset $missing: no whole answer within 5 s (curl exit $?)"
	eq "$st" 404 "a missing asset $missing"
done

csrf=$(get "/customer/$cid" | grep -o 'name="csrf" value="[0-9a-f]*"' | head -1 | sed 's/.*value="//; s/"//')
[ ${#csrf} -eq 64 ] || fail "no CSRF token in the card's forms"
post() { curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" "$@"; }
# Cross-site: no CSRF token, a wrong one, another Origin.
eq "$(post --data "kind=visit&note=x" "$sb/customer/$cid/activity")" 403 "POST without the CSRF token"
bad=${csrf:0:63}$([ "${csrf:63}" = 0 ] && echo 1 || echo 0) # one digit differs
eq "$(post --data "csrf=$bad&kind=visit&note=x" "$sb/customer/$cid/activity")" 403 "a wrong CSRF token"
eq "$(post -H 'Origin: http://evil.example' --data "csrf=$csrf&kind=visit&note=x" "$sb/customer/$cid/activity")" 403 "another origin"
eq "$(post --data "csrf=$csrf&kind=visit&note=x" "$sb/customer/$cid/activity" -G)" 404 "a GET changes nothing"
eq "$(r alice activity list --customer "$cid" --json | jq length)" 0 "refused requests changed nothing"

# A form's change: the command's checks first (a bad kind is refused with its reason)...
out=$(curl -s -b "$T/jar" --data "csrf=$csrf&kind=party&note=x" "$sb/customer/$cid/activity")
grep -q 'id="error"' <<<"$out" || fail "an invalid kind was not refused on the page"
grep -q "kind" <<<"$out" || fail "the refusal does not say why"
# A field the form does not send is refused, not dropped (attack
# seventy-two: an activity's `at` was ignored and the time was now's).
out=$(curl -s -b "$T/jar" --data "csrf=$csrf&kind=visit&note=x&at=2020-01-01" "$sb/customer/$cid/activity")
grep -q "unknown field &#39;at&#39;\|unknown field 'at'" <<<"$out" || fail "an unknown field was not refused: $(grep -o 'id="error".\{0,200\}' <<<"$out")"
eq "$(r alice activity list --customer "$cid" --json | jq length)" 0 "a refused form added an activity"
eq "$(post --data-urlencode "csrf=$csrf" --data-urlencode "kind=visit" --data-urlencode "note=Met the buyer <b>" \
	--data-urlencode "location=Shanghai" "$sb/customer/$cid/activity")" 303 "add an activity"
eq "$(r alice activity list --customer "$cid" --json | jq -r '.[0].note')" "Met the buyer <b>" "the activity's note"
eq "$(r alice activity list --customer "$cid" --json | jq -r '.[0].pending')" true "the activity waits in the outbox"
eq "$(post --data "csrf=$csrf&stage=won&back=/customer/$cid" "$sb/deal/$did/stage")" 303 "move the deal to won"
eq "$(r alice opportunity show "$did" --json | jq -r .stage)" won "the deal's stage"
# Moved to the stage it is at: nothing queued, and no "saved" said.
loc=$(curl -s -o /dev/null -w '%{redirect_url}' -b "$T/jar" --data "csrf=$csrf&stage=won&back=/customer/$cid" "$sb/deal/$did/stage")
[[ $loc == */customer/$cid ]] || fail "a move to the same stage said: '$loc'"
# ... then Sync, and their manager's replica has them.
eq "$(post --data "csrf=$csrf" "$sb/sync")" 303 "sync"
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
eq "$(post --data "csrf=$csrf" "$sb/sync")" 303 "sync for the target"
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
curl -s -b "$T/jar" -D "$T/csv.h" -o "$T/pipeline.csv" "$sb/reports/pipeline.csv"
r alice report pipeline --csv >"$T/pipeline.cli.csv"
cmp -s "$T/pipeline.csv" "$T/pipeline.cli.csv" || fail "the page's CSV differs from rove report pipeline --csv"
grep -qi '^Content-Disposition: attachment; filename="rove-pipeline.csv"' "$T/csv.h" || fail "the CSV is not an attachment"
grep -qi '^Content-Type: text/csv' "$T/csv.h" || fail "the CSV is not text/csv"
period=$(date -u +%Y-%m)
cmp -s <(get "/reports/targets.csv?period=$period") <(r alice report targets --csv --period "$period") ||
	fail "the targets CSV differs from the command's"
cmp -s <(get "/reports/daily.csv?from=2020-01-01&to=2020-01-03") <(r alice report daily --csv --from 2020-01-01 --to 2020-01-03) ||
	fail "the daily CSV differs from the command's"
eq "$(code -b "$T/jar" "$sb/reports/daily.csv?from=2020-01-05&to=2020-01-03")" 400 "a range backwards"
eq "$(code -b "$T/jar" "$sb/reports?period=2020-13")" 400 "a month that is not one"
# Outside the years rove keeps: refused as rove report refuses it, not an
# empty month whose own CSV link then fails (attack thirty-four).
for q in "period=2100-01" "period=1979-12" "from=1970-01-01" "to=2100-01-01"; do
	eq "$(curl -s -b "$T/jar" -o "$T/years.html" -w "%{http_code}" "$sb/reports?$q")" 400 "reports?$q"
	grep -q "is outside the years rove keeps" "$T/years.html" || fail "reports?$q: $(grep -o 'id="error">[^<]*' "$T/years.html")"
done
get "/reports?to=1980-01-05" | grep -q 'id="daily-range">1980-01-01 – 1980-01-05<' ||
	fail "the default range near rove's first day: $(get "/reports?to=1980-01-05" | grep -o 'id="daily-range">[^<]*')"
eq "$(code -b "$T/jar" "$sb/reports/nosuch.csv")" 404 "no such report"

# Edit forms: `rove customer|contact|opportunity set` with the fields
# that changed alone; a refusal comes back with its reason and the values.
vid=$(r alice opportunity list --json | jq -r '.[] | select(.title == "Valves") | .id')
ctid=$(r alice contact add --customer "$cid" --name "Wang Li" --phone 13900002222)
edit=$(get "/customer/$cid/edit")
for f in "edit-$cid" "edit-$ctid" "edit-$vid"; do
	grep -q "id=\"$f\"" <<<"$edit" || fail "no form $f on the edit page"
done
grep -q "name=\"stage\"" <<<"$edit" && fail "the deal's stage is in the edit form (it has its own verb)"
# What the rules let no rep change is shown, disabled, with the reason
# (attack seventy-two: the form offered them and was refused on save):
# her customer's territory, her deal's owner and closed_on.
for f in "e-$cid-territory" "e-$vid-owner" "e-$vid-closed_on"; do
	grep -q "id=\"$f\" name=\"[a-z_]*\" disabled\|id=\"$f\" name=\"[a-z_]*\"[^>]* disabled" <<<"$edit" ||
		fail "$f is not disabled in a rep's form: $(grep -o "id=\"$f\"[^>]*>" <<<"$edit")"
done
grep -q 'title="reps cannot move a customer to another territory"' <<<"$edit" || fail "no reason for the territory"
grep -q "name=\"was_owner\"" <<<"$edit" && fail "a disabled field's value is sent back"
for f in "e-$cid-name" "e-$cid-phone" "e-$vid-amount" "e-$ctid-phone"; do
	grep -q "id=\"$f\"[^>]*disabled" <<<"$edit" && fail "$f is disabled in a rep's form"
	grep -q "id=\"$f\"" <<<"$edit" || fail "$f is not in the form"
done
eq "$(post --data-urlencode "csrf=$csrf" --data-urlencode "rid=$cid" --data-urlencode "name=Acme Trading" \
	--data-urlencode "phone=021-6666-1234" --data-urlencode "address=1 Bund Rd" "$sb/edit/customer/$cid")" 303 "edit the details"
eq "$(r alice customer show "$cid" --json | jq -r '.phone + "|" + .address + "|" + .name')" "021-6666-1234|1 Bund Rd|Acme Trading" \
	"the details changed"
out=$(curl -s -b "$T/jar" --data-urlencode "csrf=$csrf" --data-urlencode "rid=$ctid" --data-urlencode "email=not-an-email" \
	"$sb/edit/contact/$ctid")
grep -q 'id="error"' <<<"$out" || fail "an invalid e-mail was not refused on the page"
grep -q 'value="not-an-email"' <<<"$out" || fail "the refused form lost the user's value"
eq "$(r alice contact show "$ctid" --json | jq -r '.email')" null "the refused e-mail was not saved"
eq "$(post --data-urlencode "csrf=$csrf" --data-urlencode "rid=$vid" --data-urlencode "amount=950.50" \
	--data-urlencode "expected_close=2031-06-30" "$sb/edit/opportunity/$vid")" 303 "edit the deal's amount and close date"
eq "$(r alice opportunity show "$vid" --json | jq -r '"\(.amount) \(.expected_close)"')" "95050 2031-06-30" "the deal changed (cents)"
eq "$(post --data "csrf=$csrf&rid=$did&amount=1" "$sb/edit/opportunity/$did")" 422 "a won deal is closed to its rep"
eq "$(post --data "csrf=$csrf" "$sb/sync")" 303 "sync the edits"
r mike sync >/dev/null
eq "$(r mike customer show "$cid" --json | jq -r .phone)" "021-6666-1234" "the edit reached the manager's replica"
eq "$(r mike opportunity show "$vid" --json | jq -r .expected_close)" "2031-06-30" "the deal's edit reached the manager"
# A form made before a colleague's edit sends what the user changed
# alone: the manager's new phone survives alice's edit of the name in a
# form that still shows the old phone.
form=$(get "/customer/$cid/edit")
grep -q 'name="was_phone" value="021-6666-1234"' <<<"$form" || fail "the form does not carry the phone it showed"
r mike customer set "$cid" phone=021-7777-0000 >/dev/null || fail "the manager cannot set the phone"
r mike sync >/dev/null
eq "$(post --data "csrf=$csrf" "$sb/sync")" 303 "alice syncs the manager's edit"
eq "$(post --data-urlencode "csrf=$csrf" --data-urlencode "rid=$cid" --data-urlencode "name=Acme Trading Ltd" \
	--data-urlencode "was_name=Acme Trading" --data-urlencode "phone=021-6666-1234" --data-urlencode "was_phone=021-6666-1234" \
	--data-urlencode "address=1 Bund Rd" --data-urlencode "was_address=1 Bund Rd" "$sb/edit/customer/$cid")" 303 \
	"edit the name in a form made before the manager's edit"
eq "$(r alice customer show "$cid" --json | jq -r '.phone + "|" + .name')" "021-7777-0000|Acme Trading Ltd" \
	"the manager's phone kept, alice's name saved"
# A field the form does not offer is refused, not silently dropped.
eq "$(post --data "csrf=$csrf&rid=$cid&owner=bob" "$sb/edit/customer/$cid")" 422 "an owner sent through the form"
# So is a field no customer has, which `set` refuses (attack forty-five:
# dropped without a word, the edit seemingly saved).
pending=$(r alice status --json | jq .pending)
eq "$(post --data "csrf=$csrf&rid=$cid&was_deleted=&deleted=true&phone=021-8888-0000" "$sb/edit/customer/$cid")" 422 \
	"a field no customer has sent through the form"
curl -s -b "$T/jar" --data "csrf=$csrf&rid=$cid&deleted=true" "$sb/edit/customer/$cid" |
	grep_q "unknown customer field &#39;deleted&#39;" || fail "the form's refusal does not name the field"
eq "$(r alice status --json | jq .pending)" "$pending" "changes queued by refused forms"

# The deals board: a column per stage, moved by a select and a button.
board=$(get "/deals/board")
grep -q 'id="col-proposal"' <<<"$board" || fail "no proposal column"
grep -A0 -o "<section class=\"column\" id=\"col-proposal\".*</section><section class=\"column\" id=\"col-negotiation\"" <<<"$board" |
	grep -q "data-id=\"$vid\"" || fail "the open deal is not in its stage's column"
grep -q "id=\"stage-$vid\"" <<<"$board" || fail "no stage select on the deal's card"
eq "$(curl -s -o /dev/null -w '%{redirect_url}' -b "$T/jar" --data "csrf=$csrf&stage=negotiation&back=/deals/board" \
	"$sb/deal/$vid/stage")" "$sb/deals/board?saved=1" "move on the board, back to the board"
eq "$(r alice opportunity show "$vid" --json | jq -r .stage)" negotiation "the deal moved"

# A rep has no admin page, and a POST to one is refused even with the
# CSRF token.
eq "$(code -b "$T/jar" "$sb/admin")" 403 "a rep's admin page"
grep -q 'href="/admin"' <<<"$(get /)" && fail "a rep is shown the admin link"
eq "$(post --data "csrf=$csrf&customer=$cid&to=bob" "$sb/admin/reassign")" 403 "a rep's reassign"
eq "$(post --data "customer=$cid&to=bob" "$sb/admin/reassign")" 403 "a reassign without the CSRF token"
eq "$(post --data "csrf=$csrf&verb=disable&login=bob" "$sb/admin/user")" 403 "a rep's disable"
eq "$(r admin admin user show bob --json | jq .disabled)" false "bob still enabled"

# Today: the days left before a customer returns to the pool.
r admin admin territory set east.sh recycle_days=30 warn_days=5 >/dev/null
sid=$(r alice customer add --name "Soon Idle Co")
r alice activity add --customer "$sid" --kind call --at "$(date -u -d '-27 days' +%Y-%m-%d)" >/dev/null
r alice sync >/dev/null
for _ in $(seq 1 50); do
	[ "$(r alice notices --json | jq '[.[] | select(.kind == "recycle_warning")] | length')" -ge 1 ] && break
	sleep 0.1
	r alice sync >/dev/null
done
today=$(get "/")
grep -q "<tr data-id=\"$sid\" data-days=\"3\">" <<<"$today" || fail "no 3 days left for the idle customer: $(grep -o 'id="days-left".*' <<<"$today" | head -c 600)"
r alice activity add --customer "$sid" --kind visit --note "back again" >/dev/null
r alice sync >/dev/null # the server sets last_activity_at
grep -q "<tr data-id=\"$sid\" data-days=\"30\">" <<<"$(get "/")" || fail "a follow-up does not reset the days left"

# The admin's pages (a second rove ui, on the admin's replica): the
# territory tree with a hostile name as text, the users, and changes the
# server makes at once.
r admin admin territory add evil.x --name '<img src=x onerror=alert(1)>' --parent east >/dev/null
for i in 1 2 3 4 5 6; do r bob customer add --name "Bulk $i" >/dev/null; done
r bob sync >/dev/null
ROVE_PULL_BATCH=2 start_ui ui2 admin
UI2_PID=$UI_STARTED
url2=$(cat "$T/ui2.out")
eq "$(code "$url2")" 303 "the admin's URL"
sb2=$(ui_login "$T/jar2" "$url2")
get2() { curl -s -b "$T/jar2" "$sb2$1"; }
post2() { curl -s -o /dev/null -w '%{http_code}' -b "$T/jar2" "$@"; }
csrf2=$(get2 "/sync" | grep -o 'name="csrf" value="[0-9a-f]*"' | head -1 | sed 's/.*value="//; s/"//')
# Sync with its progress: started in the background, polled, then done.
eq "$(post2 --data "csrf=$csrf2" "$sb2/sync/start")" 202 "the sync starts"
for _ in $(seq 1 200); do
	st=$(get2 "/sync/status")
	[ "$(jq .done <<<"$st")" = true ] && break
	sleep 0.05
done
eq "$(jq .done <<<"$st")" true "the sync ended: $st"
[[ $(jq -r .location <<<"$st") == /sync\?pushed=* ]] || fail "no result page: $st"
[ "$(jq .pulled <<<"$st")" -ge 6 ] || fail "the status did not count what was pulled: $st"
[ "$(jq .chunks <<<"$st")" -ge 3 ] || fail "the progress was not told chunk by chunk: $st"
[ "$(jq .cursor <<<"$st")" -eq "$(jq .head <<<"$st")" ] || fail "the pull did not reach the server's head: $st"
eq "$(post2 --data "csrf=wrong" "$sb2/sync/start")" 403 "a sync start without the CSRF token"

adm=$(get2 "/admin")
grep -q 'data-code="east.sh"' <<<"$adm" || fail "no territory tree"
grep -q '&lt;img src=x onerror=alert(1)&gt;' <<<"$adm" || fail "the hostile territory name is not escaped"
grep -q '<img src=x' <<<"$adm" && fail "the hostile territory name is markup"
grep -q 'data-login="alice"' <<<"$adm" || fail "no users table"
# Reassign a customer through the page; bob's replica sees it his.
eq "$(curl -s -o /dev/null -w '%{redirect_url}' -b "$T/jar2" --data "csrf=$csrf2&customer=$cid&to=bob&back=/admin" \
	"$sb2/admin/reassign")" "$sb2/admin?done=1" "reassign the customer"
r bob sync >/dev/null
eq "$(r bob customer show "$cid" --json | jq -r .owner)" bob "bob's replica has the customer, his"
# A refusal is shown with the server's reason.
out=$(curl -s -w '\n%{http_code}' -b "$T/jar2" --data "csrf=$csrf2&customer=$cid&to=nosuch" "$sb2/admin/reassign")
eq "$(tail -1 <<<"$out")" 422 "a reassign to nobody"
grep -q 'id="error"' <<<"$out" && grep -q 'nosuch' <<<"$out" || fail "the refusal does not say why: $out"
# A departed rep's territory: bob's customers in east.sh to alice.
eq "$(post2 --data "csrf=$csrf2&territory=east.sh&from=bob&to=alice" "$sb2/admin/reassign")" 303 "reassign the territory"
r alice sync >/dev/null
eq "$(r alice customer show "$cid" --json | jq -r .owner)" alice "the territory's customers went to alice"
# Admins own no customers: no claim on a pool customer's card; the edit
# link and the activity form are there (admins write).
acard=$(get2 "/customer/$hid")
grep -q 'id="claim"' <<<"$acard" && fail "an admin's card offers the claim (admins own no customers)"
grep -q 'id="edit-link"' <<<"$acard" || fail "no edit link on an admin's card"
# Users: disable, enable, a new token shown once; assign, unassign.
user=$(get2 "/admin/user?login=bob")
grep -q 'id="user-login">bob<' <<<"$user" || fail "no user page"
grep -q 'id="disable"' <<<"$user" || fail "no disable button for bob"
# Nobody disables himself (the server refuses it): no button for it.
own=$(get2 "/admin/user?login=admin")
grep -q 'id="new-token-button"' <<<"$own" || fail "no new token on the admin's own page"
grep -q 'id="disable"' <<<"$own" && fail "a disable button on the admin's own page"
eq "$(post2 --data "csrf=$csrf2&verb=disable&login=bob" "$sb2/admin/user")" 303 "disable bob"
eq "$(r admin admin user show bob --json | jq .disabled)" true "bob disabled"
grep -q 'id="enable"' <<<"$(get2 "/admin/user?login=bob")" || fail "no enable button for a disabled user"
eq "$(post2 --data "csrf=$csrf2&verb=enable&login=bob" "$sb2/admin/user")" 303 "enable bob"
eq "$(r admin admin user show bob --json | jq .disabled)" false "bob enabled"
tok=$(curl -s -b "$T/jar2" --data "csrf=$csrf2&verb=token&login=bob" "$sb2/admin/user" |
	grep -o 'id="new-token">[^<]*<' | sed 's/.*>//; s/<$//')
[ -n "$tok" ] || fail "no new token shown"
exits_as bob 1 sync
r bob config token "$tok" >/dev/null
r bob sync >/dev/null || fail "the new token does not work"
# The admin's own new token: shown, and this replica's from now on (it
# showed "no such user", the token nowhere, and the only admin was out).
tok=$(curl -s -b "$T/jar2" --data "csrf=$csrf2&verb=token&login=admin" "$sb2/admin/user" |
	grep -o 'id="new-token">[^<]*<' | sed 's/.*>//; s/<$//')
[[ $tok =~ ^[0-9a-f]{64}$ ]] || fail "the admin's own new token not shown: '$tok'"
eq "$(r admin config token)" "$(printf '%060d' 0 | tr 0 '*')${tok:60}" "the replica keeps the admin's new token"
r admin sync >/dev/null || fail "the admin's replica cannot sync after its own new token"
eq "$(post2 --data "csrf=$csrf2&verb=assign&user=bob&territory=evil.x" "$sb2/admin/assign")" 303 "assign a territory"
eq "$(r admin admin user show bob --json | jq -c .territories)" '["evil.x"]' "bob holds evil.x (east.sh went with his customers)"
eq "$(post2 --data "csrf=$csrf2&verb=unassign&user=bob&territory=evil.x&back=/admin/user?login=bob" "$sb2/admin/assign")" 303 "unassign it"
eq "$(r admin admin user show bob --json | jq -c .territories)" '[]' "bob no longer holds evil.x"
eq "$(post2 --data "csrf=$csrf2&verb=assign&user=-x&territory=evil.x" "$sb2/admin/assign")" 422 "a login like an option"
kill -TERM "$UI2_PID"
wait "$UI2_PID" || fail "the admin's rove ui did not stop cleanly"

# An analyst reads: no claim, edit or activity form on a card, the reason
# instead; the edit page is forbidden, in the rules' words.
r ana sync >/dev/null
start_ui ui3 ana
UI3_PID=$UI_STARTED
sb3=$(ui_login "$T/jar3" "$(cat "$T/ui3.out")")
card3=$(curl -s -b "$T/jar3" "$sb3/customer/$hid")
grep -q 'id="customer-name"' <<<"$card3" || fail "no card for the analyst"
if grep -q 'id="claim"\|id="edit-link"\|id="activity-form"' <<<"$card3"; then fail "an analyst's card offers forms"; fi
grep -q 'id="read-only">analysts are read-only<' <<<"$card3" || fail "the analyst's card does not say why"
eq "$(code -b "$T/jar3" "$sb3/customer/$hid/edit")" 403 "an analyst's edit page"
kill -TERM "$UI3_PID"
wait "$UI3_PID" || fail "the analyst's rove ui did not stop cleanly"

# A sync the server refuses for the login says what to do, as the
# command line's does (attack seventy-two: the page had the error alone).
r alice config token "$(printf '%064d' 7)" >/dev/null
curl -s -b "$T/jar" -L --data "csrf=$csrf" "$sb/sync" >"$T/authfail.html"
grep -q "rove config token NEW" "$T/authfail.html" || fail "the failed sync's page does not say what to do: $(grep -o 'id="error".\{0,300\}' "$T/authfail.html")"
r alice config token "$(token_of alice)" >/dev/null

# Offline is a state: the server stopped, Sync says offline, nothing lost.
server_stop
curl -s -b "$T/jar" --data "csrf=$csrf&kind=call&note=offline" "$sb/customer/$cid/activity" >/dev/null
loc=$(curl -s -o /dev/null -w '%{redirect_url}' -b "$T/jar" --data "csrf=$csrf" "$sb/sync")
[[ $loc == *offline=1* ]] || fail "sync offline did not say offline: '$loc'"
eq "$(r alice pending --json | jq length)" 1 "the offline change is kept"

kill -TERM "$UI_PID"
rc=0; wait "$UI_PID" || rc=$?
eq "$rc" 0 "rove ui stopped by SIGTERM: exit status ($(cat "$T/ui.err"))"
echo "ok"
