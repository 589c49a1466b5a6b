#!/usr/bin/env bash
# roved check: clean after a real workload (creates, children, edits,
# reassignments, releases and claims, deletes, a refusal), while the
# server serves and after it stopped; then each kind of damage, made on
# purpose through LMDB by rove_corrupt, is named (table and key) with
# exit 1.
. "$(dirname "$0")/lib.sh"
check_at_end=no # it damages databases on purpose

ROVE_CORRUPT=${ROVE_CORRUPT:?set ROVE_CORRUPT to the rove_corrupt binary}
server_setup
territories east west
users alice:rep:east bob:rep:east walt:rep:west mike:manager:east
sync_all admin alice bob walt mike

ids=()
for i in $(seq 1 12); do
	ids+=("$(r alice customer add --name "Cust $i" --phone "13800$(printf %06d "$i")")")
done
for id in "${ids[@]:0:6}"; do
	r alice contact add --customer "$id" --name "Ann $id" >/dev/null
	r alice opportunity add --customer "$id" --title "Deal" --amount 1000 >/dev/null
done
w=$(r walt customer add --name "West one" --phone 13900000777)
r alice sync >/dev/null
r walt sync >/dev/null
for i in 1 2 3; do r alice customer set "${ids[0]}" "phone=1390000000$i" >/dev/null; done
r alice customer release "${ids[2]}" >/dev/null
r alice sync >/dev/null
r bob sync >/dev/null
r bob customer claim "${ids[2]}" >/dev/null
r bob sync >/dev/null
r admin sync >/dev/null
r admin admin reassign --customer "${ids[3]}" --to bob >/dev/null
r admin admin reassign --territory east --from alice --to bob >/dev/null
r admin admin assign walt east >/dev/null
r admin customer delete "$w" >/dev/null
r admin customer delete "${ids[1]}" >/dev/null
r admin sync >/dev/null
# A refusal kept on the server: a duplicate phone.
r walt sync >/dev/null
r walt customer add --name "Dup" --phone 13800000005 --territory west >/dev/null 2>&1 || true
r walt sync >/dev/null 2>&1 || true
sync_all alice bob walt mike admin

"$ROVED_BIN" check "$T/srv" >"$T/out" 2>"$T/err" || fail "check of a served database: $(cat "$T/out" "$T/err")"
eq "$(cat "$T/out")" "" "no problem listed"
grep -q "is consistent" "$T/err" || fail "no word of success: $(cat "$T/err")"
server_stop
"$ROVED_BIN" check "$T/srv" >"$T/out" 2>&1 || fail "check of a stopped server's database: $(cat "$T/out")"

# expect_problem TABLE ACTION ARG... PATTERN: damages a copy of the
# database (rove_corrupt DIR TABLE ACTION ARG...) and checks that roved
# check exits 1 naming the table and the key.
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
n=0 not_like=
expect_problem() {
	local pattern=${*: -1} rc=0 key
	local -a what=("${@:1:$#-1}")
	n=$((n + 1))
	rm -rf "$T/bad$n"
	cp -a "$T/srv" "$T/bad$n"
	key=$("$ROVE_CORRUPT" "$T/bad$n" "${what[@]}") || fail "rove_corrupt ${what[*]}"
	"$ROVED_BIN" check "$T/bad$n" >"$T/out" 2>"$T/err" || rc=$?
	eq "$rc" "1" "check exits 1 after ${what[*]}"
	grep -qE "$pattern" "$T/out" || fail "${what[*]} (key $key): no line like '$pattern' in: $(cat "$T/out")"
	grep -qE "^roved: error: [0-9]+ problem\(s\) in" "$T/err" || fail "no count: $(cat "$T/err")"
	# Each walk goes on past what it cannot read, and blames its own
	# table only; nothing said twice; with not_like set, no line like it
	# (a problem that only follows from the damage).
	if [[ $pattern != *"walk stopped"* ]] && grep -q "the walk stopped" "$T/out"; then
		fail "${what[*]}: a walk stopped: $(cat "$T/out")"
	fi
	[ -z "$(sort "$T/err" | uniq -d)" ] || fail "${what[*]}: an error said again and again: $(cat "$T/err")"
	if [ -n "$not_like" ] && grep -qE "$not_like" "$T/out"; then
		fail "${what[*]}: a line like '$not_like': $(cat "$T/out")"
	fi
}
# A record's scope entry removed: the record is named as missing from it.
expect_problem scoperec del 0 '^scoperec [^ ]+ [a-z]+/[0-9a-f-]{36}: missing'
# A scope entry's copy of its record made stale (an edit the copy missed):
# the snapshots of the scope would send it.
expect_problem scoperec subst "$(hex 'Cust 12')" "$(hex 'Cust 99')" \
	'^scoperec [^ ]+ customer/[0-9a-f-]{36}: its copy of the record is not the record'
# A record removed under its index entries: they point at nothing.
expect_problem records del 3 '^(scoperec|children|uniq|codes) .*(points at no record|points at [a-z]+/[0-9a-f-]{36}, no record)'
# A record that does not decode.
expect_problem records garble 0 '^records [a-z]+/[0-9a-f-]{36}: the stored record does not decode'
# An index entry for a record that does not exist.
expect_problem scoperec put "$(printf 'terr:east' | od -An -tx1 | tr -d ' \n')0001$(printf '%032x' 7)" - \
	'^scoperec terr:east customer/00000000-0000-0000-0000-000000000007: points at no record'
# A child listed under its parent removed.
expect_problem children del 0 '^children [a-z]+/[0-9a-f-]{36} [a-z]+/[0-9a-f-]{36}: missing'
# A hole in the oplog.
expect_problem oplog del 5 '^oplog [0-9]+: ops 6 to 6 are missing'
# An op that does not decode.
expect_problem oplog garble 2 '^oplog 3: the stored op does not decode'
# A unique phone removed, and one for nobody.
expect_problem uniq del 0 '^uniq [^ ]+: missing \(held by customer/'
expect_problem uniq put "$(printf 'tel:123' | od -An -tx1 | tr -d ' \n')" "$(printf '%032x' 9)" \
	'^uniq tel:123: points at customer/00000000-0000-0000-0000-000000000009, no record'
# An op's answer that does not decode.
expect_problem opids garble 0 '^opids [0-9a-f-]{36}: the stored answer does not decode'
# A refusal's index entry without its refusal, and one that does not decode.
expect_problem rejects del 0 '^rejidx [^ ]+ 1: points at no refusal'
expect_problem rejects garble 0 '^rejects 1: the stored refusal does not decode'
# A scopelog entry for an op that is not there.
expect_problem scopelog put "$(hex 't:east')00$(printf '%016x' 999999)" 00 \
	'^scopelog t:east 999999: points at no op'
# The key of proofs of the clock cut short (attack thirty-nine: roved
# serve refused to start with "malformed data", and check said nothing).
expect_problem meta put "$(hex 'clock:proof-key')" 01020304 '^meta clock:proof-key: not a key of 32 random bytes'
# A user's scope log gone: their replica would never pull those ops.
expect_problem scopelog delall "$(hex 'o:bob')00" '^scopelog o:bob [0-9]+: missing \(op [0-9]+, the newest on customer/'
# One bit flipped in a scope's name: entries under a user who is not.
expect_problem scopelog rename "$(hex 'o:bob')00" "$(hex "o:bo'")00" "^scopelog o:bo' [0-9]+: names no user"
# The answers kept for pushed ops gone: a resent push would apply twice.
expect_problem opids delall - '^opids [0-9a-f-]{36}: missing \(op [0-9]+ was pushed'
# A user who owns customers and made ops, gone.
expect_problem users delall "$(hex bob)" '^records customer/[0-9a-f-]{36}: owned by bob, who is not a user'
expect_problem users delall "$(hex bob)" '^oplog [0-9]+: made by bob, who is not a user'
# A value garbled in an index, or in a table of users: named there, and
# the walks that read it on the way go on (attack sixty-two: a garbled
# uniq value stopped the records walk, blamed for it; a garbled code the
# scopelog's; a garbled user the users', and every op of every user after
# it was "made by a user who is not").
expect_problem uniq garble 0 '^uniq [^ ]+: a value of 8 bytes, not a record id'
expect_problem codes garble 0 '^codes [^ ]+: a value of 8 bytes, not a record id'
not_like='who is not a user'
expect_problem users garble 0 '^users [^ ]+: the stored user does not decode'
not_like=
# A refusal's entries under its scopes gone, or under its author, or
# the author's entry garbled: the managers of those scopes no longer saw
# it (attack sixty-four: checked clean).
expect_problem rejidx delall "$(hex 't:')" '^rejidx t:[^ ]+ [0-9]+: missing \(refusal [0-9]+ is listed under it'
expect_problem rejidx delall "$(hex 'a:')" '^rejidx a:walt [0-9]+: missing \(the refusal.s entry under its author'
expect_problem rejidx garble 0 '^rejidx [^ ]+ [0-9]+: its author.s entry does not list this scope'
# A territory's code gone from codes: the server then took a second
# territory with that code (attack sixty-four: only the scope log's
# entries were named).
expect_problem codes del 0 '^codes [^ ]+: missing \(territory/[0-9a-f-]{36} has that code'
# A value where an index keeps none (attack sixty-two: not seen).
expect_problem children set 0 01 '^children [a-z]+/[0-9a-f-]{36} [a-z]+/[0-9a-f-]{36}: a value of 1 byte'
expect_problem rejidx set 0 01 '^rejidx [^ ]+ [0-9]+: a value of 1 byte'
# The newest op gone (attack sixty-two: not seen), and the clock.
expect_problem oplog del -1 '^records [a-z]+/[0-9a-f-]{36}: (a field stamped [0-9]+, after its every op|no op in the oplog made it)'
expect_problem meta delall "$(hex clock)" '^meta clock: missing'
# The server's node garbled: every op it made looks pushed without its
# answer. One kind of problem is listed 20 times, then counted (attack
# sixty-four: 15,062 lines of it hid the rest).
expect_problem meta put "$(hex node)" 0102030405060708 '^\.\.\. and [0-9]+ more like: opids [0-9a-f-]{36}: missing'
[ "$(grep -c '^opids ' "$T/out")" = 20 ] || fail "not 20 lines of one kind: $(grep -c '^opids ' "$T/out")"
# ... and the node named as their likely cause (attack sixty-four: not).
grep_q "^meta node: 0102030405060708, which no op carries, while the [0-9]* ops without an answer all carry" <"$T/out" ||
	fail "the garbled node not named: $(grep -v '^opids' "$T/out")"
# The mark of the uniq index's form garbled: serve refused the database
# ("malformed data") and check said it was consistent (attack
# sixty-four). Check names it; serve makes the index anew (below).
expect_problem meta put "$(hex uniq_form)" 01 '^meta uniq_form: not a number of 8 bytes'
cp -r "$T/bad$n" "$T/uf"
# No run, though the server served.
expect_problem runs delall - '^runs: none, yet the server wrote'
# The clock set back below the stamps it gave.
expect_problem meta put "$(hex clock)" 0000000000000000 '^meta clock: 0, before the newest stamp held'
# A stored name with a control character (rule 13).
expect_problem records subst "$(hex 'Cust 1')" "$(hex 'Cus')1b$(hex ' 1')" \
	'^records customer/[0-9a-f-]{36}: field name: .*the server takes no such value'
# A refusal counter that is not what is kept.
expect_problem counters put "$(hex rejects:walt)" "$(printf 'ff%.0s' $(seq 24))" \
	'^counters rejects:walt: [0-9]+ refusal\(s\) counted, 1 kept'
# The admin answers kept (a lost answer is given again from them): an
# answer gone from under its entry in the order, an entry gone from the
# order, the count of their bytes off.
expect_problem admreqs del 0 '^admage [0-9]+: its answer is not in admreqs'
expect_problem admage del 0 '^admreqs: [0-9]+ answer\(s\), admage lists [0-9]+'
# An entry of the order garbled: named, the walk goes on (attack
# sixty-four: "admage: damaged; the walk stopped").
expect_problem admage garble 0 '^admage [0-9]+: does not decode'
expect_problem counters put "$(hex admreqs:bytes)" 0000000000000001 \
	'^counters admreqs:bytes: 1 byte\(s\) counted, [0-9]+ kept'
"$ROVED_BIN" serve "$T/uf" --listen "ipc://$T/uf.sock" >"$T/uf.log" 2>&1 &
BG_PIDS+=($!)
wait_for 10 "a database with its uniq form garbled served" grep_q "serving on" "$T/uf.log"
kill "${BG_PIDS[-1]}"
wait "${BG_PIDS[-1]}" 2>/dev/null || true
"$ROVED_BIN" check "$T/uf" >"$T/out" 2>&1 || fail "after serve made the uniq index anew: $(cat "$T/out")"
# A table gone: named.
rm -rf "$T/notable"
cp -a "$T/srv" "$T/notable"
"$ROVE_CORRUPT" "$T/notable" scopelog drop - >/dev/null || fail "rove_corrupt drop"
rc=0
"$ROVED_BIN" check "$T/notable" >/dev/null 2>"$T/err" || rc=$?
eq "$rc" "1" "a table missing: exit 1"
grep -q "no table 'scopelog'" "$T/err" || fail "missing table not named: $(cat "$T/err")"

rc=0
"$ROVED_BIN" check "$T/nothing" >/dev/null 2>"$T/err" || rc=$?
eq "$rc" "1" "no database: exit 1"
grep -q "no database in" "$T/err" || fail "no clear error: $(cat "$T/err")"
rc=0
"$ROVED_BIN" check >/dev/null 2>&1 || rc=$?
eq "$rc" "2" "no DIR: usage, exit 2"
echo "ok"
