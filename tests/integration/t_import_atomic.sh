#!/usr/bin/env bash
# rove import, all rows or none where the replica can tell: two imports of
# one file started at the same moment on one replica (the second refuses
# the rows the first made, as if run one after the other); a manager's
# owner column naming nobody, or a rep of other territories, refused
# before anything is written; a file 'rove export' wrote imports as it is
# (its export-only columns ignored with a note); a deal's owner column
# checked like a customer's; an import beside a sync that keeps writing;
# a refusal's article.
. "$(dirname "$0")/lib.sh"

server_setup
territories east east/east.sh east/east.hz
users wang:rep:east.sh li:rep:east.sh zhao:rep:east.hz mgr_sh:manager:east.sh
sync_all admin wang li zhao mgr_sh

# uscc_rows FILE N FROM: a customers file of N rows, each with its own
# 统一社会信用代码 (GB 32100-2015 check character) and phone.
uscc_rows() {
	awk -v n="$2" -v from="$3" 'BEGIN {
		a = "0123456789ABCDEFGHJKLMNPQRTUWXY"
		print "name,tax_id,phone"
		for (i = from; i < from + n; i++) {
			base = sprintf("91310000%09d", i); s = 0; w = 1
			for (k = 1; k <= 17; k++) { s += (index(a, substr(base, k, 1)) - 1) * w; w = w * 3 % 31 }
			printf "Firm %d,%s%s,1390%07d\n", i, base, substr(a, (31 - s % 31) % 31 + 1, 1), i
		}
	}' >"$1"
}

# ---- F4: the same file imported twice at the same moment. Each import
# checks its rows against the replica and writes them; the second must see
# the first's rows (one write transaction checks and writes), so exactly
# one succeeds and the replica holds each tax id once.
N=4000
uscc_rows "$T/c.csv" "$N" 1
for round in 1 2; do
	rm -rf "$T/wk"
	cp -a "$T/wang" "$T/wk"
	set +e
	rove -R "$T/wk" import customers "$T/c.csv" >"$T/i1.out" 2>"$T/i1.err" &
	p1=$!
	rove -R "$T/wk" import customers "$T/c.csv" >"$T/i2.out" 2>"$T/i2.err" &
	p2=$!
	wait "$p1"
	s1=$?
	wait "$p2"
	s2=$?
	set -e
	eq "$(printf '%s\n' "$s1" "$s2" | sort | tr '\n' ' ')" "0 1 " \
		"round $round: one import succeeds, the other is refused ($(cat "$T/i1.err" "$T/i2.err" | tail -n 3))"
	cat "$T/i1.out" "$T/i2.out" | grep_q "^imported $N customers$" || fail "round $round: no import said so"
	cat "$T/i1.err" "$T/i2.err" | grep_q "c.csv:2: duplicate: tax_id" || fail "round $round: the refusal names the duplicate"
	cat "$T/i1.err" "$T/i2.err" | grep_q "nothing imported" || fail "round $round: the refusal says nothing was imported"
	list=$(rove -R "$T/wk" customer list --json --limit 100000)
	eq "$(jq length <<<"$list")" "$N" "round $round: customers on the replica"
	eq "$(jq '[.[].tax_id] | unique | length' <<<"$list")" "$N" "round $round: distinct tax ids"
	eq "$(rove -R "$T/wk" status --json | jq .pending)" "$N" "round $round: pending ops"
done
rm -rf "$T/wk"

# ---- F6: a file 'rove export' wrote imports as it is: id, created_at and
# last_activity_at are ignored with a note; owner is honoured for a
# manager, ignored (with a note) for a rep.
r wang customer add --name "Round, Trip Ltd" --phone "+86 21 5555 0101" --tier loyal >/dev/null
PLAIN=$(r wang customer add --name "Plain Co")
r wang sync >/dev/null
r wang export customers --csv >"$T/export.csv"
# Into the replica that holds them, an exported row would be a second
# copy (an edited export does not change the record): refused by its id.
eq "$(exit_status r wang import customers "$T/export.csv")" "1" "an export into its own replica"
grep_q "export.csv:3: id $PLAIN is a customer this replica holds" <"$T/err" || fail "the id's row: $(cat "$T/err")"
head -n 1 "$T/export.csv" | grep_q "^id,.*owner.*created_at" || fail "export header: $(head -n 1 "$T/export.csv")"
eq "$(exit_status r li import customers "$T/export.csv")" "0" "a rep imports an export as it is: $(cat "$T/err")"
eq "$(cat "$T/out")" "imported 2 customers" "the rep's import"
grep_q "export.csv: .*ignored" <"$T/err" || fail "a note on the ignored columns: $(cat "$T/err")"
for c in id created_at last_activity_at owner; do
	grep_q "$c" <"$T/err" || fail "the note names $c: $(cat "$T/err")"
done
eq "$(r li customer list --json | jq -c '[.[] | [.name, .phone, .tier, .owner]] | sort')" \
	'[["Plain Co",null,null,"li"],["Round, Trip Ltd","+86 21 5555 0101","loyal","li"]]' "the rep's round trip"
# A manager's replica holds the exported customers: once he deleted Plain
# Co, its row imports again, owned by wang as the file says.
grep -v "Round, Trip" "$T/export.csv" >"$T/export2.csv"
r mgr_sh sync >/dev/null
r mgr_sh customer delete "$PLAIN" >/dev/null
eq "$(exit_status r mgr_sh import customers "$T/export2.csv")" "0" "a manager imports an export: $(cat "$T/err")"
grep_q "owner" <"$T/err" && fail "a manager's owner column is honoured, not ignored: $(cat "$T/err")"
eq "$(r mgr_sh customer list --json | jq -r '[.[] | select(.name == "Plain Co") | .owner] | sort | join(",")')" \
	"wang" "the manager's copy keeps wang as the owner"
# export --help and import --help say the same of it.
rove export --help | grep_q "are refused" && fail "export --help: $(rove export --help)"
rove import --help | grep_q "are refused" && fail "import --help still refuses export columns"
rove import --help | grep_q "ignored" || fail "import --help says what is ignored"

# ---- F3: a manager's owner column is checked before anything is written:
# nobody called ghost, and zhao works in east.hz, not east.sh.
printf 'name,owner,territory\nForZhao,zhao,east.sh\nForLi,li,east.sh\nForGhost,ghost,east.sh\n' >"$T/m1.csv"
before=$(r mgr_sh customer list --json)
pending=$(r mgr_sh status --json | jq .pending)
for dry in --dry-run ""; do
	# shellcheck disable=SC2086
	eq "$(exit_status r mgr_sh import customers "$T/m1.csv" $dry)" "1" "owner check ${dry:-import}: $(cat "$T/err")"
	eq "$(cat "$T/out")" "" "a refused import prints nothing on stdout"
	# The server shows a manager the users of his territories only.
	grep_q "m1.csv:2: owner: no user 'zhao' in your territories" <"$T/err" || fail "zhao's row: $(cat "$T/err")"
	grep_q "m1.csv:4: .*no user 'ghost'" <"$T/err" || fail "ghost's row: $(cat "$T/err")"
	grep_q "m1.csv:3:" <"$T/err" && fail "li's row is good: $(cat "$T/err")"
	grep_q "2 bad rows; nothing imported" <"$T/err" || fail "the summary: $(cat "$T/err")"
done
eq "$(r mgr_sh customer list --json)" "$before" "a refused import wrote nothing"
eq "$(r mgr_sh status --json | jq .pending)" "$pending" "a refused import queued nothing"
# An admin sees every user: zhao exists, but works in east.hz.
eq "$(exit_status r admin import customers "$T/m1.csv")" "1" "the admin's import: $(cat "$T/err")"
grep_q "m1.csv:2: owner: zhao does not work in east.sh" <"$T/err" || fail "zhao's row (admin): $(cat "$T/err")"
grep_q "m1.csv:4: owner: no user 'ghost'$" <"$T/err" || fail "ghost's row (admin): $(cat "$T/err")"
# An analyst cannot own customers; the server not answering refuses the
# import (exit 3, as sync), and a dry run goes on with a warning.
printf 'name,owner,territory\nForHq,hq,east.sh\n' >"$T/m3.csv"
users hq:analyst
eq "$(exit_status r admin import customers "$T/m3.csv")" "1" "an analyst as owner"
grep_q "m3.csv:2: owner: 'hq' is an analyst" <"$T/err" || fail "hq's row: $(cat "$T/err")"
# Offline, owners cannot be checked: the import goes on (imports work
# offline) with a warning, and the server checks each owner on sync, a
# bad one refused and kept under 'rove rejected'.
printf 'name,owner,territory\nForLi,li,east.sh\n' >"$T/m2.csv"
printf 'name,owner,territory\nForGhostOffline,ghost,east.sh\n' >"$T/m4.csv"
server_stop
eq "$(exit_status r mgr_sh import customers "$T/m2.csv" --dry-run)" "0" "a dry run offline: $(cat "$T/err")"
grep_q "owners not checked" <"$T/err" || fail "the dry run's warning: $(cat "$T/err")"
# A server that never answers (stopped): the same, after the check's own
# bound (3 s), not the whole --timeout (10 s by default).
server_start
kill -STOP "$ROVED_PID"
t0=$(date +%s%N)
eq "$(exit_status r mgr_sh import customers "$T/m2.csv" --dry-run)" "0" "a dry run, server stopped"
waited=$(elapsed_ms "$t0")
kill -CONT "$ROVED_PID"
grep_q "owners not checked (.*timed out)" <"$T/err" || fail "a stopped server's warning: $(cat "$T/err")"
[ "$waited" -lt 8000 ] || fail "the owners' check waited ${waited} ms for a stopped server"
server_stop
eq "$(exit_status r mgr_sh import customers "$T/m2.csv")" "0" "an import offline: $(cat "$T/err")"
grep_q "owners not checked" <"$T/err" || fail "the offline import's warning: $(cat "$T/err")"
eq "$(exit_status r mgr_sh import customers "$T/m4.csv")" "0" "an offline import naming nobody: $(cat "$T/err")"
eq "$(r mgr_sh status --json | jq .pending)" "$((pending + 2))" "both queued offline"
server_start
eq "$(r mgr_sh sync --json | jq -c '[.accepted, .rejected]')" "[$((pending + 1)),1]" "the server took li's, not ghost's"
eq "$(r mgr_sh customer list --json | jq -r '.[] | select(.name == "ForLi") | .owner')" "li" "owner as the file said"
eq "$(r mgr_sh rejected --json | jq '[.[] | select(.fields.name == "ForGhostOffline")] | length')" "1" \
	"the row naming nobody, kept under rove rejected"

# A deal's owner column is checked the same way (rule 14), against its
# customer's territory; a closed deal's may name one who left since.
CD=$(r mgr_sh customer add --name "Deal Corp" --territory east.sh)
r mgr_sh sync >/dev/null
r admin sync >/dev/null
users mgr_e:manager:east
printf 'customer,title,amount,stage,owner\n%s,Z,1,lead,zhao\n%s,L,1,lead,li\n%s,G,1,lead,ghost\n%s,H,1,won,hq\n%s,E,1,lead,mgr_e\n%s,A,1,lead,admin\n' \
	"$CD" "$CD" "$CD" "$CD" "$CD" "$CD" >"$T/d1.csv"
deals=$(r mgr_sh opportunity list --json)
eq "$(exit_status r mgr_sh import opportunities "$T/d1.csv")" "1" "a manager's deal owners: $(cat "$T/err")"
grep_q "d1.csv:2: owner: no user 'zhao' in your territories" <"$T/err" || fail "zhao's deal: $(cat "$T/err")"
grep_q "d1.csv:4: owner: no user 'ghost'" <"$T/err" || fail "ghost's deal: $(cat "$T/err")"
grep_q "d1.csv:3:" <"$T/err" && fail "li's deal is good: $(cat "$T/err")"
eq "$(r mgr_sh opportunity list --json)" "$deals" "a refused deal import wrote nothing"
eq "$(exit_status r admin import opportunities "$T/d1.csv")" "1" "the admin's deal owners: $(cat "$T/err")"
grep_q "d1.csv:2: owner: zhao does not work in east.sh" <"$T/err" || fail "zhao's deal (admin): $(cat "$T/err")"
grep_q "d1.csv:5: owner: 'hq' is an analyst" <"$T/err" || fail "hq's won deal (admin): $(cat "$T/err")"
# A manager of the territory above the customer's may be given its deal.
grep_q "d1.csv:6:" <"$T/err" && fail "mgr_e's deal is good: $(cat "$T/err")"
# An admin owns nothing, even his own import's deals.
grep_q "d1.csv:7: owner: 'admin' is an admin" <"$T/err" || fail "the admin as owner: $(cat "$T/err")"
printf 'customer,title,amount,stage,owner\n%s,L,1,lead,li\n' "$CD" >"$T/d2.csv"
eq "$(exit_status r mgr_sh import opportunities "$T/d2.csv")" "0" "a good deal owner: $(cat "$T/err")"
eq "$(r mgr_sh sync --json | jq -c '[.accepted, .rejected]')" "[1,0]" "the server takes the deal as checked"
eq "$(r mgr_sh opportunity list --json | jq -r '.[] | select(.title == "L") | .owner')" "li" "the deal's owner"

# ---- An import beside a sync that writes the replica chunk after chunk
# (each sooner than the file is checked again): the import waits for the
# sync's end rather than give up after its rounds of checks.
customers_csv "$T/pool.csv" 600 Pooled 1370
sed -i '1s/$/,territory/; 2,$ s/$/,east.hz/' "$T/pool.csv"
r admin import customers "$T/pool.csv" >/dev/null
r admin sync >/dev/null
customers_csv "$T/side.csv" 2000 Beside 1360
ROVE_PULL_BATCH=1 rove -R "$T/zhao" --timeout 60000 sync >/dev/null 2>"$T/side.err" &
side=$!
BG_PIDS+=($side)
named() { rove -R "$T/zhao" export customers --json | jq "[.[] | select(.name | startswith(\"$1\"))] | length"; }
pulling() { [ "$(named Pooled)" -gt 0 ]; }
wait_for 30 "the sync to start pulling" pulling
eq "$(exit_status r zhao import customers "$T/side.csv")" "0" "an import beside a sync: $(cat "$T/err")"
wait "$side" || fail "the sync beside the import: $(cat "$T/side.err")"
eq "$(named Beside)" "2000" "every row imported"
eq "$(named Pooled)" "600" "and everything pulled"

# ---- the article of a refusal built from a kind name.
C1=$(r wang customer add --name "Deal Home")
C2=$(r wang customer add --name "Deal Elsewhere")
O=$(r wang opportunity add --customer "$C1" --title "Big deal" --amount 100)
eq "$(exit_status r wang opportunity set "$O" customer="$C2")" "1" "a deal moved to another customer"
grep_q "an opportunity cannot move to another customer" <"$T/err" || fail "the article: $(cat "$T/err")"
# Built from the kind name elsewhere too: the help of 'add'.
rove activity add --help | grep_q "^Create an activity " || fail "activity add --help: $(rove activity add --help)"
rove contact add --help | grep_q "^Create a contact " || fail "contact add --help"
echo "ok"
