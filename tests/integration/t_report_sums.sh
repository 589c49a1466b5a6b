#!/usr/bin/env bash
# The report sums a replica keeps (client/report_agg.c) against the scan of
# every record (ROVE_REPORT_SCAN=1): after a randomised workload through
# real roved and rove processes - customers made, moved, released,
# claimed, reassigned and deleted, deals made, staged, re-owned and
# deleted, activities, targets, and a reset (a rep's scope changed) - every
# report, in every format, on a rep's, a manager's, an analyst's and the
# admin's replica, with changes pending and after syncing, is the same
# byte for byte. Then a replica from before the sums gets them at open.
# SEED=N replays a run (each run prints its seed).
. "$(dirname "$0")/lib.sh"

SEED=${SEED:-$(($(date +%s) % 100000))}
echo "seed $SEED"
RANDOM=$SEED
TODAY=$(date -u +%F)
MONTH=${TODAY:0:7}
LAST_MONTH=$(date -u -d "${MONTH}-01 - 1 day" +%Y-%m)
day() { date -u -d "$TODAY - $1 day" +%F; }

server_setup
territories east east/east.sh east/east.hz west
users alice:rep:east.sh amy:rep:east.sh bob:rep:east.hz carl:rep:west mike:manager:east ana:analyst
REPS=(alice amy bob carl)
ALL=(alice amy bob carl mike ana admin)
sync_all "${ALL[@]}"

# Random choices are drawn in this shell, never in a $(...) subshell, so
# that a seed replays the same run.
pick() { # pick WORD...: one of them, in $P
	local a=("$@")
	P=${a[RANDOM % ${#a[@]}]}
}
any_id() { # any_id NAME KIND: one of NAME's records of KIND in $ID, or ""
	local all n k=$RANDOM
	all=$(r "$1" "$2" list --json | jq -r '.[].id')
	ID=
	[ -n "$all" ] || return 0
	n=$(wc -l <<<"$all")
	ID=$(sed -n "$((k % n + 1))p" <<<"$all")
}

# same NAME WHEN: every report of NAME from the sums equals the scan's.
# In every format; under the sanitizers (ROVE_SANITIZED=1), where each
# rove command starts several times slower, in JSON only: the sums are
# compared there, the three formats' rendering in the release build.
FORMATS=("" --json --csv)
[ "${ROVE_SANITIZED:-0}" != 1 ] || FORMATS=(--json)
CHECKS=0
same() {
	local name=$1 when=$2 args fmt a b
	for args in "pipeline" "targets --period $MONTH" "targets --period $LAST_MONTH" \
		"daily --from $(day 20) --to $TODAY" "daily --to $(day 3)"; do
		for fmt in "${FORMATS[@]}"; do
			# shellcheck disable=SC2086
			a=$(r "$name" report $args $fmt)
			# shellcheck disable=SC2086
			b=$(ROVE_REPORT_SCAN=1 r "$name" report $args $fmt)
			[ "$a" == "$b" ] || {
				diff <(echo "$b") <(echo "$a") >&2 || true
				fail "$name's report $args $fmt $when: the sums (+) differ from the scan (-) (seed $SEED)"
			}
			CHECKS=$((CHECKS + 1))
		done
	done
}
same_all() {
	local n
	for n in "${ALL[@]}"; do same "$n" "$1"; done
}
# kept NAME: how many bases of NAME's replica have their sums kept (meta
# report_sums/0 and report_sums/1 set to 1), or "?" without mdb_dump.
kept() {
	if ! command -v mdb_dump >/dev/null; then
		echo "?"
		return
	fi
	mdb_dump -s meta "$T/$1" | awk -v k0="$(printf 'report_sums/0' | od -An -tx1 | tr -d ' \n')" \
		-v k1="$(printf 'report_sums/1' | od -An -tx1 | tr -d ' \n')" \
		'prev == " " k0 || prev == " " k1 { if ($0 == " 0000000000000001") n++ } { prev = $0 } END { print n + 0 }'
}
# kept_is NAME N WHEN: N bases of NAME's sums are kept (unless unknown).
kept_is() {
	local k
	k=$(kept "$1")
	[ "$k" == "?" ] || [ "$k" == "$2" ] || fail "$1's replica keeps the sums of $k bases $3, not $2"
}
# A snapshot's base keeps no sums until a report reads them.
for n in "${ALL[@]}"; do kept_is "$n" 0 "right after its bootstrap"; done

# One random change by someone; refusals by the server are part of the game.
step() {
	local who c o stage when
	pick "${REPS[@]}"
	who=$P
	case $((RANDOM % 14)) in
	0 | 1)
		r "$who" customer add --name "C$RANDOM $who" >/dev/null 2>&1 || true ;; # carl, in two territories, must name one
	2 | 3)
		any_id "$who" customer
		c=$ID
		pick lead qualified proposal negotiation won lost
		[ -n "$c" ] && r "$who" opportunity add --customer "$c" --title "D$RANDOM" \
			--amount "$((RANDOM % 5000)).$((RANDOM % 100))" --stage "$P" >/dev/null 2>&1 || true ;;
	4)
		any_id "$who" customer
		c=$ID
		when=$(day $((RANDOM % 40)))
		[ -n "$c" ] && r "$who" opportunity add --customer "$c" --title "W$RANDOM" --amount "$((RANDOM % 900))" \
			--stage won --closed-on "$when" >/dev/null 2>&1 || true ;;
	5 | 6)
		any_id "$who" opportunity
		o=$ID
		pick lead qualified proposal negotiation won lost
		[ -n "$o" ] && r "$who" opportunity stage "$o" "$P" >/dev/null 2>&1 || true ;;
	7)
		any_id "$who" opportunity
		o=$ID
		pick "${REPS[@]}"
		[ -n "$o" ] && r "$who" opportunity set "$o" amount="$((RANDOM % 3000))" owner="$P" >/dev/null 2>&1 || true ;;
	8)
		any_id "$who" customer
		c=$ID
		pick visit call note
		when=$(day $((RANDOM % 25)))
		[ -n "$c" ] && r "$who" activity add --customer "$c" --kind "$P" --at "${when}T10:00:00Z" \
			>/dev/null 2>&1 || true ;;
	9)
		any_id "$who" customer
		c=$ID
		if [ $((RANDOM % 2)) -eq 0 ]; then
			[ -n "$c" ] && r "$who" customer release "$c" --reason "moved away" >/dev/null 2>&1 || true
		else
			[ -n "$c" ] && r "$who" customer claim "$c" >/dev/null 2>&1 || true
		fi ;;
	10)
		any_id admin customer
		c=$ID
		pick "${REPS[@]}"
		[ -n "$c" ] && r admin admin reassign --customer "$c" --to "$P" >/dev/null 2>&1 || true ;;
	11)
		if [ $((RANDOM % 2)) -eq 0 ]; then
			any_id "$who" customer
			[ -n "$ID" ] && r "$who" customer delete "$ID" >/dev/null 2>&1 || true
		else
			any_id "$who" opportunity
			[ -n "$ID" ] && r "$who" opportunity delete "$ID" >/dev/null 2>&1 || true
		fi ;;
	12)
		pick alice amy bob
		who=$P
		pick "$MONTH" "$LAST_MONTH"
		r mike target set "$who" --period "$P" --amount "$((RANDOM % 4000))" >/dev/null 2>&1 || true ;;
	13)
		any_id mike customer
		c=$ID
		pick east east.sh east.hz
		[ -n "$c" ] && r mike customer set "$c" territory="$P" >/dev/null 2>&1 || true ;;
	esac
}

# Five rounds, a reset in the third; under the sanitizers (ROVE_SANITIZED=1),
# where each of the ~2,500 rove commands starts several times slower,
# two, the reset in the second (three cost 50 s of CPU there).
ROUNDS=5 RESET_ROUND=3
[ "${ROVE_SANITIZED:-0}" != 1 ] || ROUNDS=2 RESET_ROUND=2
for round in $(seq 1 $ROUNDS); do
	for _ in $(seq 1 18); do step; done
	same_all "with changes pending (round $round)"
	sync_all "${ALL[@]}"
	sync_all "${ALL[@]}" # what one's sync changed reaches the others
	same_all "after syncing (round $round)"
	if [ "$round" -eq "$RESET_ROUND" ]; then
		# A reset: carl's scope grows by east.hz, his replica fetches it
		# again as a snapshot that replaces his base whole.
		r admin admin assign carl east.hz || fail "cannot assign east.hz to carl"
		sync_all carl
		kept_is carl 0 "right after a reset snapshot"
		same carl "after a reset snapshot"
		kept_is carl 1 "after its first report"
		# A reset, then changes pulled and written, then the first report.
		r admin admin assign carl east.sh || fail "cannot assign east.sh to carl"
		sync_all carl
		kept_is carl 0 "right after a second reset"
		for _ in $(seq 1 12); do step; done
		sync_all "${ALL[@]}"
		kept_is carl 0 "after a pull, before a report"
		same carl "after a reset snapshot, then a pull"
		kept_is carl 1 "after its first report since"
		# What carl pushed in that sync_all (a claim, say) reached bob's
		# replica only in the next one: bob syncs before carl.
		sync_all "${ALL[@]}"
		pool='[.[] | select(.territory == "east.hz" and ((.owner // "") == ""))] | length'
		eq "$(r carl customer list --json | jq "$pool")" "$(r bob customer list --json | jq "$pool")" \
			"carl sees east.hz's pool"
	fi
done
# Whatever the seed did, one open deal and one recent visit more, so that
# the sums compared below are never all empty.
last=$(r alice customer add --name "Last $SEED") || fail "alice cannot add a customer"
r alice opportunity add --customer "$last" --title "Open $SEED" --amount 1234.56 --stage proposal >/dev/null ||
	fail "alice cannot add a deal"
r alice activity add --customer "$last" --kind visit --at "$(day 1)T10:00:00Z" >/dev/null ||
	fail "alice cannot add a visit"
same alice "with the last changes pending"
sync_all "${ALL[@]}"
same_all "after the last changes"
[ "$(r ana report pipeline --json | jq .total.count)" -gt 0 ] || fail "the workload made no open deal"
[ "$(r ana report daily --json --from "$(day 20)" --to "$TODAY" | jq '[.[].activities] | add')" -gt 0 ] ||
	fail "the workload made no activity"

# A second replica of ana's, bootstrapped now that the company holds
# the workload's records: its first report builds the sums from them.
rove -R "$T/ana2" init --server "$URL" --user ana --token "$(token_of ana)" 2>/dev/null ||
	fail "cannot make a second replica for ana"
sync_all ana2
kept_is ana2 0 "right after its bootstrap"
same ana2 "right after a bootstrap"
kept_is ana2 1 "after its first report"
[ "$(r ana2 report pipeline --json)" == "$(r ana report pipeline --json)" ] ||
	fail "ana's two replicas report different pipelines"

# A replica whose sums are not kept (meta report_sums/0 and /1 unset)
# gets them built by its next report; stale tables left beside it do not
# count. A planted sum shows first that the comparison sees one wrong
# figure.
plant() { # plant NAME TABLE: an open deal of territory "planted" in NAME's TABLE
	printf 'VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n %s\n %s\nDATA=END\n' \
		"$(printf 'gRplanted' | od -An -tx1 | tr -d ' \n')" \
		"0100000000000000$(printf '0%.0s' $(seq 1 48))" |
		mdb_load -s "$2" "$T/$1" || fail "cannot plant a sum in $1's $2"
}
unmark() {
	local key
	for key in report_sums/0 report_sums/1; do
		printf 'VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n %s\n 0000000000000000\nDATA=END\n' \
			"$(printf '%s' "$key" | od -An -tx1 | tr -d ' \n')" | mdb_load -s meta "$T/$1" ||
			fail "cannot unmark $1's sums"
	done
}
if command -v mdb_load >/dev/null; then
	kept_is ana 1 "after its reports"
	plant ana report0
	plant ana report1
	ROVE_REPORT_SCAN=0 r ana report pipeline --json | jq -e '.by_territory | any(.territory == "planted")' >/dev/null ||
		fail "a planted sum does not show: the comparison would not see a wrong one"
	unmark ana
	kept_is ana 0 "unmarked"
	# a pull and a local write on a base whose sums are not kept
	for _ in $(seq 1 6); do step; done
	sync_all "${ALL[@]}"
	r ana customer add --name "Ana $SEED" --territory east.sh >/dev/null 2>&1 || true
	same ana "built by a report"
	r ana report pipeline --json | jq -e '.by_territory | any(.territory == "planted") | not' >/dev/null ||
		fail "the sums built by a report kept a stale one"
	# and kept up to date from then on
	for _ in $(seq 1 10); do step; done
	sync_all "${ALL[@]}"
	same ana "built by a report, then synced"
else
	echo "note: no mdb_load (lmdb-utils): the build of unmarked sums is not checked here" >&2
fi

# A replica this user may only read keeps no sums of its own: it scans.
if [ "$(id -u)" -ne 0 ]; then
	chmod -R a-w "$T/bob"
	same bob "read only"
	chmod -R u+w "$T/bob"
fi
echo "ok: $CHECKS reports compared"
