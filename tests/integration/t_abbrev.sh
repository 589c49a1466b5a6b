#!/usr/bin/env bash
# Anywhere an id is taken, a unique abbreviation of at least 6 characters
# works: the id's start or its end, with or without dashes, in any case
# (SPEC.md, command line). Ids are time-ordered: records made the same
# minute share their start, and only the end tells them apart. A shorter
# or ambiguous one is a usage error (exit 2) listing the candidates; one
# that matches nothing here is exit 1.
. "$(dirname "$0")/lib.sh"

server_setup
territories east east/east.sh
users wang:rep:east.sh mike:manager:east
sync_all admin wang mike

a=$(r wang customer add --name "Alpha Co" --phone 13700000001)
b=$(r wang customer add --name "Beta Co" --phone 13700000002)
end_a=${a: -8}
# The end, the start with dashes, the end in capitals: all name Alpha.
eq "$(r wang customer show "$end_a" --json | jq -r .id)" "$a" "the end of an id"
eq "$(r wang customer show "${end_a^^}" --json | jq -r .id)" "$a" "the end of an id in capitals"
nodash=$(tr -d - <<<"$a")
eq "$(r wang customer show "${nodash:0:28}" --json | jq -r .id)" "$a" "the start of an id without its dashes"
eq "$(r wang customer show "${a:0:30}" --json | jq -r .id)" "$a" "the start of an id with its dashes"

# The start both share (ids of the same minute share at least 8
# characters): ambiguous, exit 2, both listed.
common=0
while [ "${a:$common:1}" = "${b:$common:1}" ]; do common=$((common + 1)); done
[ "$common" -ge 6 ] || fail "ids made a moment apart share only $common characters: $a $b"
set +e
out=$(r wang customer show "${a:0:$common}" 2>"$T/err")
status=$?
set -e
eq "$status" "2" "an ambiguous abbreviation"
eq "$out" "" "an ambiguous abbreviation printed on stdout"
grep -q "Alpha Co" "$T/err" && grep -q "Beta Co" "$T/err" && grep -q "$a" "$T/err" ||
	fail "the candidates are not listed: $(cat "$T/err")"
# Too short, or not hex: exit 2; nothing matching: exit 1.
for bad in "${end_a: -5}" "zzzzzzzz"; do
	set +e
	r wang customer show "$bad" >/dev/null 2>"$T/err"
	eq "$?" "2" "'$bad' as an id"
	set -e
done
# A shorter one lists the candidates too (SPEC): the start both share.
set +e
r wang customer show "${a:0:4}" >/dev/null 2>"$T/err"
eq "$?" "2" "a 4-character start as an id"
set -e
grep -q "Alpha Co" "$T/err" && grep -q "Beta Co" "$T/err" ||
	fail "a shorter abbreviation's candidates are not listed: $(cat "$T/err")"
set +e
r wang customer show "abcdef" >/dev/null 2>"$T/err"
eq "$?" "1" "an abbreviation that matches nothing"
set -e
grep -q "no customer 'abcdef'" "$T/err" || fail "unclear error: $(cat "$T/err")"

# Everywhere: set, the --customer of add and list, history, claim,
# release, a reassignment.
r wang customer set "$end_a" tier=loyal
eq "$(r wang customer show "$a" --json | jq -r .tier)" "loyal" "set by the end of an id"
c=$(r wang contact add --customer "$end_a" --name "Ann" --title Buyer)
eq "$(r wang contact show "$c" --json | jq -r .customer)" "$a" "add --customer by the end of an id"
eq "$(r wang contact list --customer "${end_a^^}" --json | jq -r '.[0].id')" "$c" "list --customer by the end of an id"
eq "$(r wang contact show "${c: -7}" --json | jq -r .name)" "Ann" "a contact by the end of its id"
r wang sync >/dev/null
r wang customer history "$end_a" --json | jq -e 'length >= 1' >/dev/null || fail "history by the end of an id"
r wang customer release "${b: -10}"
r wang sync >/dev/null
r mike sync >/dev/null
r mike customer claim "${b: -10}"
eq "$(r mike sync --json | jq .accepted)" "1" "a claim by the end of an id"
r mike admin reassign --customer "${b: -9}" --to wang
r wang sync >/dev/null
eq "$(r wang customer show "$b" --json | jq -r .owner)" "wang" "a reassignment by the end of an id"
echo "ok"
