#!/usr/bin/env bash
# The browser test of rove ui (CTest: browser_ui): roved and real
# replicas as in tests/integration, rove ui on alice's, then ui_test.js in
# Debian's chromium; afterwards their manager's replica must hold what
# the browser did. Skips (77) with a message when Chromium or the npm
# packages are not there. ROVE_UI_SCREENSHOTS=DIR keeps screenshots.
source "$(dirname "$0")/../integration/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)

if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
	echo "SKIP: no chromium (scripts/deps installs Debian's)"
	exit 77
fi
if [ ! -d "$here/node_modules/puppeteer-core" ]; then
	echo "SKIP: no puppeteer-core (scripts/test runs npm ci in tests/browser)"
	exit 77
fi

server_setup
territories east east/east.sh
users alice:rep:east.sh bob:rep:east.sh mike:manager:east
r alice sync >/dev/null
r bob sync >/dev/null
cid=$(r alice customer add --name "Acme Trading" --phone 13800001111 --tier customer)
did=$(r alice opportunity add --customer "$cid" --title "Pumps" --amount 12000 --stage negotiation)
# a deal that stays open, for the Reports page's funnel
r alice opportunity add --customer "$cid" --title "Valves" --amount 3000 --stage proposal >/dev/null
hid=$(r bob customer add --name '<script>alert(1)</script>')
r bob sync >/dev/null
r bob customer release "$hid" --reason "not mine" >/dev/null
r bob sync >/dev/null
r alice sync >/dev/null
# A change the server refuses: alice claims the customer bob released,
# which bob takes back from the pool first.
r alice customer claim "$hid" >/dev/null
r bob customer claim "$hid" >/dev/null
r bob sync >/dev/null

# For the admin's pages: a territory with a hostile name, the admin's
# replica synced, and rove ui on it too.
r admin admin territory add evil.x --name '<img src=x onerror=alert(1)>' --parent east >/dev/null
r admin sync >/dev/null
start_ui ui2 admin
UI2_PID=$UI_STARTED
start_ui ui alice
UI_PID=$UI_STARTED
url=$(cat "$T/ui.out")
admin_url=$(cat "$T/ui2.out")
[ -n "$url" ] || fail "rove ui printed no URL: $(cat "$T/ui.err")"

ROVE_UI_URL=$url ROVE_ADMIN_URL=$admin_url ROVE_CID=$cid ROVE_DID=$did ROVE_IMG=${ROVE_UI_SCREENSHOTS:-} node "$here/ui_test.js" || {
	rc=$?
	[ $rc -eq 77 ] && exit 77
	echo "--- rove ui's stderr:" >&2
	cat "$T/ui.err" >&2
	exit $rc
}
r mike sync >/dev/null
eq "$(r mike activity list --customer "$cid" --json | jq -r '.[0].note')" "Met the buyer from the browser" \
	"the manager's replica has the browser's activity"
eq "$(r mike opportunity show "$did" --json | jq -r .stage)" won "the manager's replica has the deal won"
eq "$(r mike customer show "$cid" --json | jq -r .address)" "88 Century Ave, Pudong" "the manager's replica has the browser's edit"
r bob sync >/dev/null
eq "$(r bob customer show "$cid" --json | jq -r .owner)" bob "bob's replica has the customer the admin reassigned in the browser"
kill -TERM "$UI2_PID"
wait "$UI2_PID" || fail "the admin's rove ui did not stop cleanly"
kill -TERM "$UI_PID"
rc=0
wait "$UI_PID" || rc=$?
eq "$rc" 0 "rove ui stopped by SIGTERM"
echo "ok"
