#!/usr/bin/env bash
# Every environment variable a rove program, test or script reads is in
# docs/ENVIRONMENT.md. The names come from the sources: a "ROVE_X" string
# in C (only ever a variable's name), a default or a demand (":-", ":?")
# in shell, env("X") and environ in Python, process.env.X in JavaScript;
# a variable added without its line in the doc fails here.
. "$(dirname "$0")/lib.sh"

src=$(cd "$(dirname "$0")/../.." && pwd)
doc=$src/docs/ENVIRONMENT.md
[ -f "$doc" ] || fail "no $doc"
cd "$src"
{
	grep -rhoE '"ROVE_[A-Z0-9_]+"' client common server proto tests/tools tests/bench tests/fuzz tests/unit |
		tr -d '"'
	grep -rhoE '\$\{[A-Z][A-Z0-9_]*:[-?=]' scripts tests --include='*.sh' --exclude-dir=node_modules | sed -E 's/^\$\{//; s/:.$//'
	grep -hoE '\$\{[A-Z][A-Z0-9_]*:[-?=]' scripts/* | sed -E 's/^\$\{//; s/:.$//'
	grep -rhoE '(env|environ\.get)\("[A-Z][A-Z0-9_]*"' tests --include='*.py' --exclude-dir=node_modules | sed -E 's/.*"(.*)"/\1/'
	grep -rhoE 'process\.env\.[A-Z][A-Z0-9_]*' tests --include='*.js' --exclude-dir=node_modules | sed 's/process\.env\.//'
} | sort -u >"$T/names"
# Shell variables the tests set for themselves, not read from outside.
grep -v -x -e FEED_REPLICA -e ROVED_ARGS -e ROVED_LOG "$T/names" >"$T/read" || true
n=$(wc -l <"$T/read")
[ "$n" -ge 30 ] || fail "only $n variable names found in the sources: $(tr '\n' ' ' <"$T/read")"
missing=
while IFS= read -r v; do
	grep -q "\`$v\`" "$doc" || missing="$missing $v"
done <"$T/read"
[ -z "$missing" ] || fail "read by the code but not in docs/ENVIRONMENT.md:$missing"
echo "ok ($n variables)"
