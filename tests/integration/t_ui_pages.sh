#!/usr/bin/env bash
# rove ui's page contents (issue 15, an attacker's findings): Today's
# recent activities and closing deals name their customer with a link to
# its card, and a note's lines are lines; bad list parameters answer 400
# with a message, as the command line exits 2; the customers page's two
# owner filters have labels of their own in both languages; a manager
# asking for a user outside his reach gets 404, as for a missing user;
# the Sync page's retry of a refused change takes field edits, as
# `rove rejected retry OP FIELD=VALUE...` does; sorted and searched
# customer lists equal the command line's; a page that cannot read its
# replica's pending or refused changes says so ("No records." before).
source "$(dirname "$0")/lib.sh"

server_setup
territories east east/east.sh west
users alice:rep:east.sh bob:rep:east.sh carol:rep:west mike:manager:east
sync_all admin alice bob carol mike

month=$(date -u +%Y-%m)
cid=$(r alice customer add --name "Acme Trading" --phone 13800001111)
r alice customer add --name "beta Works" --phone 13800002222 >/dev/null
r alice customer add --name "Zeta Mills" >/dev/null
did=$(r alice opportunity add --customer "$cid" --title "Pumps" --amount 1200 --expected-close "$month-28")
r alice activity add --customer "$cid" --kind note --note "$(printf 'line one\nline <two>')" >/dev/null
# A refused change: alice's create loses to bob's with the same tax id.
r bob customer add --name "Steel A" --tax-id 91310000MA1BD00019 >/dev/null
r alice customer add --name "Steel B" --tax-id 91310000MA1BD00019 >/dev/null
r bob sync >/dev/null
r alice sync >/dev/null
eq "$(r alice rejected --json | jq length)" 1 "alice has one refused change"

# login_as NAME: the UI started as NAME (start_ui) logged in with the URL
# it printed (lib.sh's ui_login); sets base (the session's, /s/SECRET)
# and the cookie jar $T/NAME.jar.
login_as() {
	local url
	url=$(head -n 1 "$T/$1.out")
	base=$(ui_login "$T/$1.jar" "$url")
	jar=$T/$1.jar
}
get() { curl -s -b "$jar" "$@" "$base$path"; }
code() { curl -s -o /dev/null -w '%{http_code}' -b "$jar" "$base$1"; }

start_ui ui alice
login_as ui

# ---- Today: the customer of each row, linked; a note's lines ----
path=/ page=$(get)
eq "$(code /)" 200 "Today"
recent=$(sed -n 's/.*\(<table id="recent">.*\)/\1/p' <<<"$page" | sed 's#</table>.*##')
closing=$(sed -n 's/.*\(<table id="closing">.*\)/\1/p' <<<"$page" | sed 's#</table>.*##')
grep_q "<a href=\"customer/$cid\">Acme Trading</a>" <<<"$recent" || fail "recent activities lack the customer's link: $recent"
grep_q "<a href=\"customer/$cid\">Acme Trading</a>" <<<"$closing" || fail "closing deals lack the customer's link: $closing"
grep_q 'line one<br>line &lt;two&gt;' <<<"$recent" || fail "a note's line break is not a break: $recent"
grep_q 'line one\\n' <<<"$page" && fail "a note's line break shown as a literal \\n"
grep_q '<th scope="col">Customer</th>' <<<"$recent" || fail "recent activities have no customer column"
# the card's own lists name no customer (they are all its own)
path=/customer/$cid page=$(get)
grep_q '<th scope="col">Customer</th>' <<<"$page" && fail "a card's lists have a customer column"
grep_q 'line one<br>line &lt;two&gt;' <<<"$page" || fail "the card's timeline shows the note's lines"
# the Deals page too
path=/deals page=$(get)
grep_q "<a href=\"customer/$cid\">Acme Trading</a>" <<<"$page" || fail "the deals list lacks the customer's link"

# ---- bad list parameters: 400, saying which ----
for q in "sort=zzz|sort" "page=-1|page" "page=0|page" "page=abc|page" "page=99999999999|page" "tier=zzz|tier" \
	"f=zzz|f takes" "sort=name%3Cb%3E|sort"; do
	path="/customers?${q%%|*}" page=$(get -w '\n%{http_code}')
	eq "$(tail -n 1 <<<"$page")" 400 "/customers?${q%%|*}"
	grep_q "${q#*|}" <<<"$page" || fail "/customers?${q%%|*}: the page does not say what is wrong: $page"
	grep_q '<b>' <<<"$page" && fail "/customers?${q%%|*}: the parameter came back as markup"
done
for q in "stage=zzz" "page=-3"; do
	eq "$(code "/deals?$q")" 400 "/deals?$q"
done
for q in "sort=name&desc=1&page=1" "tier=loyal" "f=pool" "f=mine&sort=tier" "page=2" "q=acme&sort=name"; do
	eq "$(code "/customers?$q")" 200 "/customers?$q"
done
eq "$(code "/deals?stage=lead&page=1")" 200 "/deals?stage=lead"

# ---- sorted and searched lists: the command line's order ----
names() { get | grep -o '<a href="customer/[^"]*">[^<]*</a>' | sed 's/.*">//; s#</a>##' | paste -sd, -; }
cli_names() { r alice customer list "$@" --json | jq -r '[.[].name] | join(",")'; }
path="/customers?sort=name"
eq "$(names)" "$(cli_names --sort name)" "sorted by name"
path="/customers?sort=name&desc=1"
eq "$(names)" "$(cli_names --sort name:desc)" "sorted by name, descending"
eq "$(names)" "Zeta Mills,beta Works,Acme Trading" "by name, case folded, descending"
path="/customers?sort=created_at&desc=1"
eq "$(names)" "$(cli_names --sort created_at:desc)" "sorted by created_at"
path="/customers?q=%2B86%20138-0000-2222"
eq "$(names)" "beta Works" "a search by phone in another format"
path="/customers?q=WORKS&sort=name"
eq "$(names)" "beta Works" "a search, case ignored, sorted"
# Bytes that are not UTF-8 in the query are echoed in the search box as
# U+FFFD, not as they came, in a page said to be UTF-8 (attack
# eighty-two); the page decodes whole.
path="/customers?q=a%FF%FEb%C0%BC%ED%A0%80"
get >"$T/bad.html"
python3 - "$T/bad.html" <<'PY' || fail "the page with a query not UTF-8: $(grep -ao 'name="q"[^>]*' "$T/bad.html")"
import re, sys
page = open(sys.argv[1], "rb").read().decode("utf-8")  # raises if not UTF-8
m = re.search(r'name="q" value="([^"]*)"', page)
sys.exit(0 if m and m.group(1).startswith("a\ufffd") and m.group(1).endswith("b" + "\ufffd" * 5) else 1)
PY

# ---- the owner filters' labels, both languages ----
for lang in en zh-CN; do
	path=/customers page=$(get -H "Accept-Language: $lang")
	l1=$(grep -o '<label for="f-f">[^<]*' <<<"$page" | sed 's/.*>//')
	l2=$(grep -o '<label for="f-owner">[^<]*' <<<"$page" | sed 's/.*>//')
	[ -n "$l1" ] && [ -n "$l2" ] || fail "$lang: the owner filters have no labels ('$l1', '$l2')"
	[ "$l1" != "$l2" ] || fail "$lang: both owner filters are labelled '$l1'"
done
grep_q '<label for="f-owner">负责人账号' <<<"$page" || fail "zh: the owner's login label"

# ---- the language switch keeps the page's filters ----
path='/customers?tier=loyal&q=%E5%8C%97' page=$(get)
back=$(grep -o 'name="back" value="[^"]*"' <<<"$page" | head -1 | sed 's/.*value="//; s/"$//; s/&amp;/\&/g')
eq "$back" "/customers?tier=loyal&q=%E5%8C%97" "the language switch's way back"
csrf=$(grep -o 'name="csrf" value="[0-9a-f]*"' <<<"$page" | head -1 | sed 's/.*value="//; s/"//')
loc=$(curl -s -o /dev/null -w '%{redirect_url}' -b "$jar" --data-urlencode "csrf=$csrf" --data-urlencode "lang=zh" \
	--data-urlencode "back=$back" "$base/lang")
case "$loc" in
*"/customers?tier=loyal&q=%E5%8C%97") ;;
*) fail "the language switch went to '$loc', not back to the filtered list" ;;
esac

# ---- the Sync page's retry, with field edits ----
op=$(r alice rejected --json | jq -r '.[0].op')
path=/sync page=$(get)
grep_q "<label for=\"edits-$op\">" <<<"$page" || fail "the retry form has no labelled edits field"
csrf=$(grep -o 'name="csrf" value="[0-9a-f]*"' <<<"$page" | head -1 | sed 's/.*value="//; s/"//')
# an edit the command refuses comes back with its reason, nothing made
st=$(curl -s -o "$T/out" -w '%{http_code}' -b "$jar" --data-urlencode "csrf=$csrf" --data-urlencode "edits=colour=red" \
	"$base/rejected/$op/retry")
eq "$st" 422 "a retry with an unknown field"
grep_q 'colour' "$T/out" || fail "the refusal does not name the field: $(cat "$T/out")"
eq "$(r alice rejected --json | jq length)" 1 "the refused retry made nothing"
# a line that would be an option is not one
st=$(curl -s -o "$T/out" -w '%{http_code}' -b "$jar" --data-urlencode "csrf=$csrf" --data-urlencode "edits=--help" \
	"$base/rejected/$op/retry")
eq "$st" 422 "a retry edit that looks like an option"
st=$(curl -s -o /dev/null -w '%{http_code}' -b "$jar" --data-urlencode "csrf=$csrf" \
	--data-urlencode "edits=$(printf 'tax_id=\r\n\r\nname=Steel B Branch\r\n')" "$base/rejected/$op/retry")
eq "$st" 303 "the retry with edits"
eq "$(r alice rejected --json | jq length)" 0 "the retried refusal is dismissed"
out=$(r alice sync --json)
eq "$(jq .accepted <<<"$out"),$(jq .rejected <<<"$out")" "1,0" "the edited retry accepted ($out)"
eq "$(r alice customer list --search "Steel B Branch" --json | jq -r '.[0].tax_id')" null "the edits made: a new name, no tax id"

# ---- a manager's admin pages: a user outside his reach is not found ----
alice_base=$base alice_jar=$jar
start_ui mui mike
login_as mui
eq "$(code "/admin/user?login=alice")" 200 "mike's rep alice"
eq "$(code "/admin/user?login=carol")" 404 "carol, outside mike's reach"
eq "$(code "/admin/user?login=ghost")" 404 "a user that does not exist"

# ---- a customer whose text is too long for the index's search text ----
# (replica_index.c keeps a mark instead: the record is read and checked)
base=$alice_base jar=$alice_jar
long=$(printf 'x%.0s' $(seq 1 470))
r alice customer add --name "Longaddr Co" --address "$long Needle Street" >/dev/null
path="/customers?q=NEEDLE%20street"
eq "$(names)" "Longaddr Co" "a search in a text too long to keep"
path="/customers?q=needle&sort=name&desc=1"
eq "$(names)" "Longaddr Co" "the same, sorted"

# ---- each column named once; reports take no unknown parameter ----
path=/ page=$(get)
closing=$(sed -n 's/.*\(<table id="closing">.*\)/\1/p' <<<"$page" | sed 's#</table>.*##')
heads=$(grep -o '<th scope="col"[^>]*>[^<]*' <<<"$closing" | sed 's/.*>//' | tr 'A-Z' 'a-z' | sort | uniq -d)
[ -z "$heads" ] || fail "Today's closing deals name a column twice: $heads"
path=/deals page=$(get)
heads=$(sed -n 's/.*\(<thead>.*\)/\1/p' <<<"$page" | sed 's#</thead>.*##' | grep -o '<th scope="col"[^>]*>[^<]*' | sed 's/.*>//' | tr 'A-Z' 'a-z' | sort | uniq -d)
[ -z "$heads" ] || fail "the deals list names a column twice: $heads"
eq "$(code '/reports?month=9999-99')" 400 "reports with an unknown parameter"
eq "$(code '/reports?period=2020-01&from=2020-01-01&to=2020-01-02')" 200 "reports with their own parameters"
# From after To: said in those words (attack twelve: "invalid argument").
eq "$(code '/reports?from=2020-02-01&to=2020-01-01')" 400 "reports from after to"
path='/reports?from=2020-02-01&to=2020-01-01' page=$(get)
grep_q "From is after To." <<<"$page" || fail "the reports page does not say from is after to"
path='/reports?month=9999-99' page=$(get)
grep_q "month" <<<"$page" || fail "the reports page does not name the unknown parameter"

# ---- what cannot be read is said, never shown as nothing ----
# Today's pending changes from an outbox whose entries cannot be read (a
# damaged copy): "No records." was shown.
r alice customer add --name "Pending Co" >/dev/null
n=0
while "${ROVE_CORRUPT:?}" "$T/alice" outbox garble "$n" >/dev/null 2>&1; do n=$((n + 1)); done
[ "$n" -gt 0 ] || fail "no outbox entry to damage"
# (rove pending shows what reads, counting the rest: t_repair)
path=/ page=$(get)
pending=$(sed -n 's/.*\(<table id="pending">.*\)/\1/p' <<<"$page")
grep_q "No records." <<<"${pending%%</table>*}" && fail "Today shows no pending change where it could not read them"
grep_q 'class="banner bad" role="alert"' <<<"$pending" || fail "Today does not say it could not read the pending changes: $pending"
# the Sync page's refused changes, likewise
"$ROVE_CORRUPT" "$T/alice" rejected garble 0 >/dev/null || fail "no refused change to damage"
path=/sync page=$(get)
refused=$(sed -n 's/.*\(<table id="refused">.*\)/\1/p' <<<"$page")
grep_q "No records." <<<"${refused%%</table>*}" && fail "the Sync page shows no refused change where it could not read them"
grep_q 'class="banner bad" role="alert"' <<<"$refused" || fail "the Sync page does not say it could not read the refused changes: $refused"
echo "t_ui_pages: ok"
