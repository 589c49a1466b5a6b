#!/usr/bin/env bash
# Reports on the replica, figure by figure: a fixed data set made through the
# real CLI and server, then the pipeline of a rep (her scope only), of her
# manager (the whole subtree) and of an analyst (everything), the targets of
# this month, a daily report over a fixed range, and the CSV forms.
. "$(dirname "$0")/lib.sh"

# Dates relative to today (UTC): customers are created today by the server,
# and the server closes a deal (closed_on) the day its stage becomes won or
# lost, whatever date the client sends.
TODAY=$(date -u +%F)
MONTH=${TODAY:0:7}
day() { date -u -d "$TODAY - $1 day" +%F; }
D1=$(day 1)
D2=$(day 2)
D3=$(day 3)
D4=$(day 4) # the day before the daily report's range D3..TODAY

# Every figure below assumes one date: a run that crosses midnight UTC
# cannot check them, and says so instead of failing.
fail() {
	if [ "$(date -u +%F)" != "$TODAY" ]; then
		echo "SKIP: the date changed while the test ran ($*)" >&2
		exit 0
	fi
	echo "FAIL: $*" >&2
	exit 1
}

server_setup
territories east east/east.sh east/east.hz
users alice:rep:east.sh bob:rep:east.hz mike:manager:east ana:analyst
sync_all admin alice bob mike ana

# norm JSON: compact with sorted keys, to compare documents.
norm() { jq -S -c . <<<"$1"; }
# report NAME ARGS...: NAME's report as normalised JSON.
report() {
	local name=$1
	shift
	norm "$(r "$name" report "$@" --json)"
}
# synced NAME: syncs NAME, failing on any refused change.
synced() {
	local out
	out=$(r "$1" sync --json)
	if [ "$(jq .rejected <<<"$out")" != "0" ]; then
		r "$1" rejected >&2
		fail "$1's sync had refused changes: $out"
	fi
}
opp() { r "$1" opportunity add --customer "$2" --title "$3" "${@:4}"; }
act() { r "$1" activity add --customer "$2" "${@:3}" >/dev/null; }

# --- alice (east.sh): two customers of hers and one she puts in the pool ---
a1=$(r alice customer add --name "Shanghai Steel")
a2=$(r alice customer add --name "浦东食品 Pudong Foods")
p1=$(r alice customer add --name "Minhang Pool Co")
opp alice "$a1" "Furnace" --amount 1000.50 >/dev/null # no stage: a lead
opp alice "$a1" "Rolling mill" --amount 2500 --stage proposal >/dev/null
o3=$(opp alice "$a1" "Crane" --amount 6000 --stage negotiation)
opp alice "$a2" "Cold store" --amount 800.25 --stage negotiation >/dev/null
opp alice "$a2" "Freezers" --stage qualified >/dev/null # no amount: counts 0
o6=$(opp alice "$a2" "Vans" --amount 300)
opp alice "$p1" "Office fit-out" --amount 150 --stage qualified >/dev/null
# A rep's closed_on is refused at once (the server sets it; its rewrite
# of one a client sends is test_policy's): without it, closed today.
if opp alice "$p1" "Printers" --amount 50 --stage won --closed-on "$D1" >/dev/null 2>&1; then
	fail "a rep's closed_on was taken"
fi
pr=$(opp alice "$p1" "Printers" --amount 50 --stage won) # alice's deal, after the release too
act alice "$a1" --kind visit --at "${D4}T09:00:00Z"
act alice "$a1" --kind call --at "${D3}T10:00:00Z"
act alice "$a2" --kind visit --at "${D3}T15:30:00Z" --note "tasting"
act alice "$p1" --kind call --at "${D1}T12:00:00Z"
synced alice
r alice opportunity stage "$o3" won # closed today
r alice opportunity stage "$o6" lost
r alice customer release "$p1"
synced alice

# --- bob (east.hz) ---
b1=$(r bob customer add --name "West Lake Tea")
b2=$(r bob customer add --name "Xiaoshan Textiles")
b3=$(r bob customer add --name "Short Lived Ltd")
opp bob "$b1" "Tea rooms" --amount 400 --stage lead >/dev/null
o9=$(opp bob "$b1" "Packaging" --amount 1200 --stage negotiation)
opp bob "$b2" "Looms" --amount 999.99 --stage proposal >/dev/null
o11=$(opp bob "$b2" "Old deal" --amount 5000)
opp bob "$b3" "Never counted" --amount 7777 --stage negotiation >/dev/null
act bob "$b1" --kind visit --at "${D2}T08:00:00Z"
act bob "$b1" --kind note # now
act bob "$b2" --kind visit --at "${TODAY}T00:00:00Z"
act bob "$b3" --kind visit --at "${D2}T09:00:00Z" # its customer is deleted below
synced bob
r bob opportunity stage "$o9" won
r bob opportunity set "$o11" stage=lost # lost: counts nowhere
synced bob

# --- mike deletes bob's third customer and sets the targets ---
synced mike
r mike customer delete "$b3"
r mike target set alice --period "$MONTH" --amount 5000
r mike target set bob --period "$MONTH" --amount 3200 # 37.5%: floor, not rounding
r mike target set alice --period 2025-01 --amount 0.01
r mike target set bob --period 2025-01 --amount 0 # met by nothing: no percent
synced mike
sync_all alice bob mike ana admin
eq "$(r alice opportunity show "$pr" --json | jq -r .closed_on)" "$TODAY" "closed by the server, today"
eq "$(r bob opportunity show "$o11" --json | jq -r .closed_on)" "$TODAY" "a lost deal closes the day the server hears of it"

# --- pipeline: open deals only; a rep sees her scope ---
alice_pipeline=$(norm '{
 "total":{"count":5,"amount":445075},
 "by_stage":[{"stage":"lead","count":1,"amount":100050},{"stage":"qualified","count":2,"amount":15000},
  {"stage":"proposal","count":1,"amount":250000},{"stage":"negotiation","count":1,"amount":80025}],
 "by_territory":[{"territory":"east.sh","count":5,"amount":445075}],
 "by_rep":[{"rep":"alice","count":5,"amount":445075}]}')
eq "$(report alice pipeline)" "$alice_pipeline" "alice's pipeline"

east_pipeline=$(norm '{
 "total":{"count":7,"amount":585074},
 "by_stage":[{"stage":"lead","count":2,"amount":140050},{"stage":"qualified","count":2,"amount":15000},
  {"stage":"proposal","count":2,"amount":349999},{"stage":"negotiation","count":1,"amount":80025}],
 "by_territory":[{"territory":"east.hz","count":2,"amount":139999},
  {"territory":"east.sh","count":5,"amount":445075}],
 "by_rep":[{"rep":"alice","count":5,"amount":445075},{"rep":"bob","count":2,"amount":139999}]}')
eq "$(report mike pipeline)" "$east_pipeline" "mike's pipeline (east: both reps)"
eq "$(report ana pipeline)" "$east_pipeline" "ana's pipeline (everything, which is east here)"

eq "$(r mike report pipeline --csv)" "dimension,key,count,amount
stage,lead,2,140050
stage,qualified,2,15000
stage,proposal,2,349999
stage,negotiation,1,80025
territory,east.hz,2,139999
territory,east.sh,5,445075
rep,alice,5,445075
rep,bob,2,139999
total,,7,585074" "mike's pipeline as CSV"
r mike report pipeline >"$T/pipeline.txt"
grep -q "^TOTAL .* 7 .* 5850.74$" "$T/pipeline.txt" || fail "pipeline table: $(cat "$T/pipeline.txt")"
grep -q "^lead .*1400.50 .*#" "$T/pipeline.txt" || fail "pipeline funnel: $(cat "$T/pipeline.txt")"

# --- targets of this month: won deals closed this month, credited to their
# owner: alice's Printers too, won on a customer she released since ---
targets=$(norm "[
 {\"user\":\"alice\",\"period\":\"$MONTH\",\"target\":500000,\"won\":605000,\"percent\":121,\"behind\":false},
 {\"user\":\"bob\",\"period\":\"$MONTH\",\"target\":320000,\"won\":120000,\"percent\":37,\"behind\":true}]")
eq "$(report mike targets)" "$targets" "targets of this month (the default)"
eq "$(report ana targets --period "$MONTH")" "$targets" "targets with --period"
eq "$(report mike targets --period 2025-01)" \
	'[{"behind":true,"percent":0,"period":"2025-01","target":1,"user":"alice","won":0},{"behind":false,"percent":0,"period":"2025-01","target":0,"user":"bob","won":0}]' "another month"
r mike report targets --period 2025-01 >"$T/targets0.txt"
grep -q "^bob .* 0.00 .* 0.00  *-$" "$T/targets0.txt" || fail "a target of 0 reads no percent: $(cat "$T/targets0.txt")"
eq "$(r mike report targets --csv)" "user,period,target,won,percent,behind
alice,$MONTH,500000,605000,121,false
bob,$MONTH,320000,120000,37,true" "targets as CSV"
r mike report targets >"$T/targets.txt"
grep -q "^bob .*37%  BEHIND by 2000.00$" "$T/targets.txt" || fail "targets table: $(cat "$T/targets.txt")"
grep -q "^Behind target (1): bob (37%)$" "$T/targets.txt" || fail "who is behind: $(cat "$T/targets.txt")"

# --- daily over D3..today; D3's change is against D4, from the data ---
row() { # DATE NEW ACT WON NEW_CHANGE ACT_CHANGE WON_CHANGE
	printf '{"date":"%s","new_customers":%s,"activities":%s,"won_amount":%s,' "$1" "$2" "$3" "$4"
	printf '"new_customers_change":%s,"activities_change":%s,"won_amount_change":%s}' "$5" "$6" "$7"
}
daily=$(norm "[$(row "$D3" 0 2 0 0 1 0),$(row "$D2" 0 1 0 0 -1 0),$(row "$D1" 0 1 0 0 0 0),
 $(row "$TODAY" 5 2 725000 5 1 725000)]")
eq "$(report mike daily --from "$D3" --to "$TODAY")" "$daily" "mike's daily report"
eq "$(report ana daily --from "$D3" --to "$TODAY")" "$daily" "ana's daily report"
alice_daily=$(norm "[$(row "$D3" 0 2 0 0 1 0),$(row "$D2" 0 0 0 0 -2 0),$(row "$D1" 0 1 0 0 1 0),
 $(row "$TODAY" 3 0 605000 3 -1 605000)]")
eq "$(report alice daily --from "$D3" --to "$TODAY")" "$alice_daily" "alice's daily report"
eq "$(r mike report daily --from "$D1" --to "$TODAY" --csv)" \
	"date,new_customers,activities,won_amount,new_customers_change,activities_change,won_amount_change
$D1,0,1,0,0,0,0
$TODAY,5,2,725000,5,1,725000" "daily as CSV"
eq "$(r mike report daily --json | jq length)" "14" "the default range is 14 days"
eq "$(r mike report daily --json | jq -r '.[-1].date')" "$TODAY" "ending today"
r mike report daily --from "$D3" | grep_q "^$TODAY .*7250.00" || fail "daily table"

# --- the command line ---
for h in "report --help" "report pipeline --help" "report targets --help" "report daily --help"; do
	# shellcheck disable=SC2086
	out=$(r mike $h) || fail "rove $h exited $?"
	grep -q "^usage:" <<<"$out" || fail "rove $h printed no usage"
done
for u in "report" "report frobnicate" "report pipeline --json --csv" "report pipeline --period 2026-01" \
	"report targets --period 2026-13" "report targets --period" "report daily --from 2026-02-30" \
	"report daily --from $TODAY --to $D1" "report daily --from 2000-01-01 --to 2020-01-01" \
	"report daily extra"; do
	set +e
	# shellcheck disable=SC2086
	r mike $u >/dev/null 2>&1
	status=$?
	set -e
	eq "$status" "2" "rove $u exit status"
done
# Outside the years rove keeps dates of (attack thirty-one: an empty
# report, as if there were nothing that month).
for u in "targets --period 1979-12" "targets --period 2100-01" "daily --from 1979-12-31 --to 1980-01-02" \
	"daily --from 2099-12-30 --to 2100-01-01"; do
	status=0
	# shellcheck disable=SC2086
	r mike report $u >/dev/null 2>"$T/err" || status=$?
	eq "$status" "2" "rove report $u exit status"
	grep -Eq "is outside the years rove keeps \((1980-01-01 to 2099-12-31|1980-01 to 2099-12)\)$" "$T/err" ||
		fail "rove report $u: $(cat "$T/err")"
done
eq "$(r mike report targets --period 1980-01 --json)" "[]" "the first month rove keeps"
# Without --from, the two weeks up to --to start no earlier than rove's
# first day (attack thirty-four: days of 1979 shown, which --from refuses).
eq "$(r mike report daily --to 1980-01-05 --json | jq -c '[.[0].date, length]')" '["1980-01-01",5]' \
	"the default range near the first day"
eq "$(r mike report daily --to 1980-01-20 --json | jq -c '[.[0].date, length]')" '["1980-01-07",14]' \
	"the default range"
echo "ok"
