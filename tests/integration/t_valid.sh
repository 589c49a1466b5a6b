#!/usr/bin/env bash
# SPEC rules 13 and 3: no bad data gets in, and nothing bad comes out.
#  - the command line refuses a bad value before writing anything (exit 1,
#    the reason on stderr), and the server refuses it `invalid` whatever a
#    hand-made client sends: text that is not UTF-8 or holds control
#    characters, negative or huge money, implausible dates, tax ids that
#    are not 统一社会信用代码;
#  - tax ids and phones compare normalised, so cosmetic variants from two
#    reps are duplicates;
#  - JSON output stays valid JSON and valid UTF-8 and terminal output holds
#    no raw control characters, even for hostile field names and values
#    from an older client (rove_forge) or a hostile one (rove_probe).
# Every check reports and the test goes on, so one run shows every item.
. "$(dirname "$0")/lib.sh"
ROVE_FORGE=${ROVE_FORGE:?set ROVE_FORGE to the rove_forge binary}

# The server's zone, for times sent without one (an activity's `at`).
export TZ=Asia/Shanghai
server_setup
territories east east/east.sh
users alice:rep:east.sh bob:rep:east.sh mike:manager:east
sync_all admin alice bob mike

FAILS=0
bad() {
	echo "FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}
expect() { # expect WHAT GOT WANT
	[ "$2" == "$3" ] || bad "$1: got '$2', expected '$3'"
}
pending() { r "$1" status --json | jq .pending; }

# refused WHAT MESSAGE NAME ARGS...: rove as NAME exits 1 with MESSAGE on
# stderr and writes nothing.
refused() {
	local what=$1 msg=$2 who=$3 before rc=0
	shift 3
	before=$(pending "$who")
	r "$who" "$@" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" -eq 1 ] || bad "$what: exit status $rc, expected 1 ($(cat "$T/err"))"
	grep -qF -- "$msg" "$T/err" || bad "$what: no '$msg' in: $(cat "$T/err")"
	[ "$(pending "$who")" == "$before" ] || bad "$what: a change was written"
}

# invalid WHAT NAME PROBE-ARGS...: the server refuses a hand-made op `invalid`.
invalid() {
	local what=$1 res
	shift
	res=$(probe "$@")
	[ "$(jq -r .reason <<<"$res")" == "invalid" ] || bad "$what: the server answered $res"
}

n=0
next_id() {
	n=$((n + 1))
	ID=$(printf '0b0a1d00-0000-7000-8000-%012d' "$n")
}

# Byte-level properties of output files.
utf8_ok() { iconv -f UTF-8 -t UTF-8 "$1" >/dev/null 2>&1; }
# No C0 control (but the line feed), DEL or C1 control (UTF-8 C2 80..9F).
no_controls() { perl -ne 'exit 1 if /[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]/' "$1"; }
clean_text() { # clean_text WHAT FILE
	utf8_ok "$2" || bad "$1: not UTF-8"
	no_controls "$2" || bad "$1: raw control characters: $(od -c "$2" | head -5)"
}
clean_json() { # clean_json WHAT FILE
	utf8_ok "$2" || bad "$1: not UTF-8"
	jq -e . "$2" >/dev/null 2>&1 || bad "$1: not JSON: $(head -c 300 "$2")"
}

# 统一社会信用代码 with their check characters (GB 32100-2015), computed.
TAX_A=91310000MA1FL0001R
TAX_B=91330100MA2TEA001K
TAX_C=91310115MA1H700017
MONTH=$(date -u +%Y-%m)

base=$(r alice customer add --name "Base Co")
r alice sync >/dev/null

# ---- item 8: text is UTF-8 without control characters ----
refused "invalid UTF-8 in a name" "not valid UTF-8" alice customer add --name $'\xff\xfe x'
refused "an overlong encoding" "not valid UTF-8" alice customer add --name $'A\xc0\xaf'
refused "a surrogate" "not valid UTF-8" alice customer add --name $'A\xed\xa0\x80'
refused "a truncated sequence" "not valid UTF-8" alice customer add --name $'A\xe4\xb8'
refused "an escape sequence" "control character" alice customer add --name $'Evil\e[2J Co'
refused "a C1 control (CSI)" "control character" alice customer add --name $'Evil\xc2\x9b31m Co'
refused "a bidi override" "control character" alice customer add --name $'Abc\xe2\x80\xaegpj.exe'
refused "a newline in a name" "line break" alice customer add --name $'Two\nLines'
refused "a tab in a name" "control character" alice customer add --name $'Tab\tCo'
refused "a blank name" "blank" alice customer add --name "   "
refused "set with an escape" "control character" alice customer set "$base" name=$'X\e[31m'
refused "a newline in a contact title" "line break" alice contact add --customer "$base" --name Zhou --title $'A\nB'
refused "letters in a phone" "phone" alice customer add --name "Phone Co" --phone "call me"
r alice customer set "$base" address=$'88 Century Ave\nPudong, Shanghai' ||
	bad "an address may have line breaks"
r alice activity add --customer "$base" --kind note --note $'Met the buyer.\n\tNext: samples' >/dev/null ||
	bad "a note may have line breaks and tabs"
next_id
invalid "invalid UTF-8 by hand" alice push create 1 "$ID" name=$'\xff\xfe x' territory=east.sh
next_id
invalid "an escape sequence by hand" alice push create 1 "$ID" name=$'A\e]0;pwned\a' territory=east.sh
next_id
invalid "a newline in a name by hand" alice push create 1 "$ID" name=$'A\nB' territory=east.sh
invalid "a control character in an edit by hand" alice push update 1 "$base" name=$'A\x7f'

# ---- item 9: money is 0 to 10^13 cents ----
refused "a negative deal" "cannot be negative" alice opportunity add --customer "$base" --title Deal --amount -5
refused "a negative contract" "cannot be negative" alice contract add --customer "$base" --number HT-1 --amount -0.01
refused "a negative target" "cannot be negative" mike target set alice --period "$MONTH" --amount -100
refused "a deal over the limit" "more than" alice opportunity add --customer "$base" --title Big --amount 100000000000.01
big=$(r alice opportunity add --customer "$base" --title "Biggest" --amount 100000000000) ||
	bad "an amount of exactly 10^13 cents"
# Shown whole in a list (attack thirty-four: "100000000000.…").
r alice opportunity list | grep -q "  100000000000\.00  " || fail "the largest amount in a list: $(r alice opportunity list)"
refused "a negative amount set" "cannot be negative" alice opportunity set "$big" amount=-1
# "-0" is no number rove writes either (attack thirty-one: taken as 0)
refused "an amount of -0" "amount '-0' has a minus sign: write 0" alice opportunity add --customer "$base" --title Deal --amount -0
refused "an amount of -0.00" "has a minus sign" alice opportunity set "$big" amount=-0.00
refused "an amount past any number" "more than 100000000000.00" alice opportunity add --customer "$base" --title Deal \
	--amount 99999999999999999999
next_id
invalid "a negative deal by hand" alice push create 4 "$ID" customer="$base" title=X amount=#-500
next_id
invalid "a deal over the limit by hand" alice push create 4 "$ID" customer="$base" title=X amount=#10000000000001
next_id
invalid "a negative contract by hand" alice push create 3 "$ID" customer="$base" number=N amount=#-1
next_id
invalid "a negative target by hand" mike push create 7 "$ID" user=alice period="$MONTH" amount=#-1

# ---- item 10: dates and times are plausible ----
refused "an activity in 1900" "out of range" alice activity add --customer "$base" --kind visit --at 1900-01-01
refused "an activity in 2100" "out of range" alice activity add --customer "$base" --kind visit --at 2100-01-01T10:00Z
refused "a contract signed in 1979" "out of range" alice contract add --customer "$base" --number HT-2 --amount 1 \
	--signed-on 1979-12-31
refused "a deal closing in 2100" "out of range" alice opportunity add --customer "$base" --title Far \
	--expected-close 2100-01-01
refused "a target for 1979" "out of range" mike target set alice --period 1979-12 --amount 1
r alice contract add --customer "$base" --number HT-3 --amount 1 --signed-on 1980-01-01 >/dev/null ||
	bad "the first day of the range"
r alice opportunity add --customer "$base" --title Later --expected-close 2099-12-31 >/dev/null ||
	bad "the last day of the range"
next_id
invalid "an activity in 1900 by hand" alice push create 5 "$ID" customer="$base" kind=visit at=1900-01-01
next_id
invalid "an activity in 2100 by hand" alice push create 5 "$ID" customer="$base" kind=visit at=2100-01-01T00:00Z
next_id
invalid "a contract signed in 1979 by hand" alice push create 3 "$ID" customer="$base" number=N amount=#1 \
	signed_on=1979-12-31
next_id
invalid "a target for 2100 by hand" mike push create 7 "$ID" user=alice period=2100-01 amount=#1

# An activity's `at` is stored in one form, full UTC (YYYY-MM-DDTHH:MM:SSZ),
# however it was sent; without one it gets the server's time. A date or a
# time without a zone is local time where the op was made: here, for a
# hand-made op, the server's zone (TZ=Asia/Shanghai, UTC+8, for this one).
r alice sync >/dev/null
next_id
a_none=$ID
probe alice push create 5 "$ID" customer="$base" kind=visit >/dev/null
next_id
a_date=$ID
probe alice push create 5 "$ID" customer="$base" kind=visit at=2026-03-01 >/dev/null
next_id
a_local=$ID
probe alice push create 5 "$ID" customer="$base" kind=visit at=2026-03-01T09:30 >/dev/null
next_id
a_short=$ID
probe alice push create 5 "$ID" customer="$base" kind=visit at=2026-03-01T09:30Z >/dev/null
r alice activity add --customer "$base" --kind call --at 2026-03-02 >/dev/null
r alice sync >/dev/null
r alice activity list --customer "$base" --json >"$T/acts.json"
at_of() { jq -r --arg id "$1" '.[] | select(.id == $id) | .at' "$T/acts.json"; }
expect "no at: the server's time" "$(at_of "$a_none" | grep -cE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$')" "1"
expect "a bare date: its first minute, local (server's zone)" "$(at_of "$a_date")" "2026-02-28T16:00:00Z"
expect "a time without a zone: local" "$(at_of "$a_local")" "2026-03-01T01:30:00Z"
expect "a UTC time without seconds" "$(at_of "$a_short")" "2026-03-01T09:30:00Z"
expect "every activity in one form" \
	"$(jq -r '[.[].at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")] | all' "$T/acts.json")" "true"
TZ=UTC0 r alice activity add --customer "$base" --kind note --at 2026-03-03 >"$T/id"
expect "the command line: local time where it runs" \
	"$(r alice activity show "$(cat "$T/id")" --json | jq -r .at)" "2026-03-03T00:00:00Z"
# and its help says so (it said "a UTC time": attack sixty-one)
expect "activity add --help on --at" "$(rove activity add --help | grep -c "local time")" "1"
# A value past 4096 bytes is past its field's own limit too: said as that
# limit, as a shorter one over it is ("4096 bytes": attack sixty-two).
long=$(printf '街%.0s' $(seq 1400))
rc=0
r alice customer set "$base" address="$long" 2>"$T/err" || rc=$?
expect "an address of 1,400 characters: exit status" "$rc" "1"
expect "an address of 1,400 characters: the limit said" "$(grep -c "longer than 500 characters" "$T/err")" "1"
res=$(r alice sync --json)
expect "the good changes above are accepted" "$(jq .rejected <<<"$res")" "0"

# ---- item 11: tax ids are 统一社会信用代码; duplicates despite cosmetics ----
refused "a tax id that is no tax id" "统一社会信用代码" alice customer add --name X --tax-id abc
refused "a wrong check character" "check character" alice customer add --name X --tax-id 91310000MA1FL0002R
refused "a letter a tax id cannot have" "统一社会信用代码" alice customer add --name X --tax-id 91310000MA1FI0001R
refused "a tax id too long" "统一社会信用代码" alice customer add --name X --tax-id "${TAX_A}0"
next_id
invalid "a tax id that is no tax id by hand" alice push create 1 "$ID" name=X territory=east.sh tax_id=abc
next_id
invalid "a wrong check character by hand" alice push create 1 "$ID" name=X territory=east.sh \
	tax_id=91310000MA1FL0002R

a=$(r alice customer add --name "Shanghai Steel" --tax-id " 9131 0000-ma1f l0001r" --phone "+86 138 0000 1111")
l=$(r alice customer add --name "Pudong Office" --phone "021-5555-0101")
expect "a tax id is stored normalised" "$(r alice customer show "$a" --json | jq -r .tax_id)" "$TAX_A"
expect "a phone is kept as typed" "$(r alice customer show "$a" --json | jq -r .phone)" "+86 138 0000 1111"
expect "alice's customers are accepted" "$(r alice sync --json | jq .rejected)" "0"
# Each synced alone: bob's replica refuses at once a phone another of its
# customers holds (t_precheck); these are alice's, which it does not hold.
b1=$(r bob customer add --name "Shanghai Steel (bob)" --tax-id "9131-0000-MA1F-L000-1R")
r bob sync >/dev/null
b2=$(r bob customer add --name "Steel mobile 1" --phone 13800001111)
r bob sync >/dev/null
b3=$(r bob customer add --name "Steel mobile 2" --phone 0086-138-0000-1111)
r bob sync >/dev/null
b4=$(r bob customer add --name "Steel mobile 3" --phone "86 138 0000 1111")
r bob sync >/dev/null
b5=$(r bob customer add --name "Pudong landline" --phone "+86 21 5555 0101")
r bob sync >/dev/null
b6=$(r bob customer add --name "Pudong landline 2" --phone "(021) 55550101")
r bob sync >/dev/null
for b in "$b1" "$b2" "$b3" "$b4" "$b5" "$b6"; do
	rj=$(r bob rejected --json | jq -c --arg id "$b" '[.[] | select(.id == $id)][0]')
	want=$a
	if [ "$b" == "$b5" ] || [ "$b" == "$b6" ]; then want=$l; fi
	expect "cosmetic variant $(jq -r .fields.name <<<"$rj")" "$(jq -r '"\(.reason) \(.detail)"' <<<"$rj")" \
		"duplicate $want"
done
next_id
res=$(probe bob push create 1 "$ID" name=X territory=east.sh tax_id="9131 0000 MA1F-L000 1r")
expect "the server normalises a hand-made tax id" "$(jq -r '"\(.reason) \(.detail)"' <<<"$res")" "duplicate $a"
next_id
res=$(probe bob push create 1 "$ID" name=Y territory=east.sh tax_id=" ${TAX_B,,}")
expect "a new tax id by hand" "$(jq -r .status <<<"$res")" "accepted"
r bob sync >/dev/null
expect "... is stored normalised" "$(r bob customer show "$ID" --json | jq -r .tax_id)" "$TAX_B"
# An import compares normalised too, and checks the tax id.
printf 'name,tax_id,phone\nCSV One,9131-0000-ma1f-l0001r,\nCSV Two,,+8613800001111\nCSV Bad,abc,\nCSV Good,%s,\n' \
	"$TAX_C" >"$T/dup.csv"
refused "an import with cosmetic duplicates" "dup.csv:2: duplicate: tax_id" alice import customers "$T/dup.csv"
grep -qF "belongs to customer $a" "$T/err" || bad "import: the tax id's customer not named: $(cat "$T/err")"
grep -qF "dup.csv:3: duplicate: phone" "$T/err" || bad "import: the phone duplicate not found: $(cat "$T/err")"
grep -qF "dup.csv:4: " "$T/err" || bad "import: the bad tax id not found: $(cat "$T/err")"
if grep -qF "dup.csv:5" "$T/err"; then bad "import: the good row refused: $(cat "$T/err")"; fi

# ---- item 5: output escaped ----
# A field name built to close the JSON object and forge an author.
hostile='z":0},"author":"bj","f":{"b'
next_id
h1=$ID
res=$(probe bob push create 1 "$h1" "$hostile=x" name=Hostile territory=east.sh)
expect "a hostile field name is refused" "$(jq -r .reason <<<"$res")" "invalid"
next_id
h2=$ID
probe bob push create 1 "$h2" name=$'\e[31mRED\e]0;title\a\xff\xfe' territory=east.sh >/dev/null
# An older client left the same in alice's outbox, with a deal under it.
next_id
f1=$ID
"$ROVE_FORGE" "$T/alice" create 1 "$f1" name=$'Old\xff\xfe client\e[31m\nnext line' territory=$'east\e[2J\xff' \
	"$hostile=1" address=$'a\e]0;t\a'
next_id
"$ROVE_FORGE" "$T/alice" create 4 "$ID" customer="$f1" title=$'Deal\e[1m' amount=#100 stage=lead
r alice customer list --json >"$T/list.json"
clean_json "customer list --json" "$T/list.json"
expect "invalid bytes become U+FFFD" "$(jq -r --arg id "$f1" '.[] | select(.id == $id) | .name' "$T/list.json")" \
	$'Old\xef\xbf\xbd\xef\xbf\xbd client\e[31m\nnext line'
r alice customer list >"$T/list.txt"
clean_text "customer list" "$T/list.txt"
expect "one line per customer" "$(wc -l <"$T/list.txt")" "$(($(jq length "$T/list.json") + 1))"
grep -qF 'Old\xff\xfe client\x1b[31m' "$T/list.txt" || bad "control characters are not shown: $(cat "$T/list.txt")"
r alice customer show "$f1" >"$T/show.txt"
clean_text "customer show" "$T/show.txt"
grep -qF 'Old\xff\xfe client\x1b[31m\nnext line' "$T/show.txt" || bad "show hides a value: $(cat "$T/show.txt")"
r alice customer show "$base" >"$T/show2.txt"
grep -q '^ *Pudong, Shanghai$' "$T/show2.txt" || bad "an address's second line: $(cat "$T/show2.txt")"
r alice customer show "$f1" --json >"$T/show.json"
clean_json "customer show --json" "$T/show.json"
r alice export customers >"$T/export.csv"
utf8_ok "$T/export.csv" || bad "export: not UTF-8"
r alice export customers --json >"$T/export.json"
clean_json "export --json" "$T/export.json"
for fmt in "" --json --csv; do
	r alice report pipeline $fmt >"$T/report"
	utf8_ok "$T/report" || bad "report pipeline $fmt: not UTF-8"
	[ "$fmt" == --json ] && clean_json "report pipeline --json" "$T/report"
	[ "$fmt" == "" ] && clean_text "report pipeline" "$T/report"
done
r alice sync >/dev/null
r alice rejected --json >"$T/rejected.json"
clean_json "rejected --json" "$T/rejected.json"
expect "the hostile field name is one key" \
	"$(jq -r --arg id "$f1" --arg k "$hostile" '.[] | select(.id == $id) | .fields | has($k)' "$T/rejected.json")" "true"
expect "no forged key" "$(jq -r --arg id "$f1" '.[] | select(.id == $id) | has("f")' "$T/rejected.json")" "false"
r alice rejected >"$T/rejected.txt"
clean_text "rejected" "$T/rejected.txt"
r mike sync >/dev/null
r mike conflicts --json >"$T/conflicts.json"
clean_json "conflicts --json" "$T/conflicts.json"
expect "the author is not forged" \
	"$(jq -r --arg id "$h1" '.[] | select(.id == $id) | .author' "$T/conflicts.json")" "bob"
expect "the hostile field name is kept whole" \
	"$(jq -r --arg id "$h1" --arg k "$hostile" '.[] | select(.id == $id) | .fields[$k]' "$T/conflicts.json")" "x"
r mike conflicts >"$T/conflicts.txt"
clean_text "conflicts" "$T/conflicts.txt"
r mike customer list --json >"$T/mike.json"
clean_json "the manager's list" "$T/mike.json"
r mike customer list >"$T/mike.txt"
clean_text "the manager's table" "$T/mike.txt"

# Territories are records too: their names are valid data (the server
# checks what an admin sends).
refused "a territory's name with an escape sequence" "name" admin admin territory add t.esc --name $'North\e[31m'
refused "a territory's name of invalid UTF-8" "name" admin admin territory add t.utf --name $'\xff\xfe'
r admin admin territory add t.ok --name "华北 North" >/dev/null || bad "a good territory name is refused"

# A refusal by the rules of the op alone (a delete that is not one) keeps
# its detail whoever's record it names: the detail is about the op, which
# its author wrote, so it tells nothing of a record out of his reach (a
# refusal about the record itself says not_owner alone there).
territories west
users wu:rep:west
sync_all wu
far=$(r wu customer add --name "Far West Co")
r wu sync >/dev/null
"$ROVE_FORGE" "$T/mike" delete 1 "$far" >/dev/null || bad "rove_forge wrote no delete"
"$ROVE_FORGE" "$T/mike" delete 1 "$far" _deleted=#1 >/dev/null || bad "rove_forge wrote no delete"
r mike sync >/dev/null
r mike rejected --json >"$T/far.json"
expect "a malformed delete and a delete out of reach" \
	"$(jq -c --arg id "$far" '[.[] | select(.id == $id) | [.reason, .detail]] | sort' "$T/far.json")" \
	'[["invalid","a delete carries the deletion marker and nothing else"],["not_owner",""]]'
expect "the customer out of reach stays" "$(r wu customer show "$far" --json | jq -r .name)" "Far West Co"

[ "$FAILS" -eq 0 ] || fail "$FAILS check(s) failed"
echo "ok"
