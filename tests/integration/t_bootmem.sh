#!/usr/bin/env bash
# A bootstrap's memory follows a chunk, not the replica: an analyst pulls
# a replica many times larger than the chunks it comes in, and the peak
# resident size of that `rove sync` stays near a sync that pulls nothing
# (issue 17: 185 MB at 1,000,000 customers, most of it the replica's
# pages left mapped in the process). And the progress of a pull goes to
# stderr, only on a terminal or when asked (ROVE_PROGRESS=1): stdout, which
# scripts read, stays the JSON alone.
. "$(dirname "$0")/lib.sh"

server_setup
territory east
users alice:rep:east ana:analyst
r alice sync >/dev/null

N=20000
many_customers alice $N 300

# peak_kb CMD...: runs CMD (its stdout to $T/out, stderr to $T/err) and
# prints its peak resident size in KiB (ru_maxrss, what /usr/bin/time -v
# shows).
peak_kb() {
	python3 - "$@" <<'EOF'
import os, resource, subprocess, sys
t = os.environ["T"]
with open(t + "/out", "wb") as out, open(t + "/err", "wb") as err:
    rc = subprocess.run(sys.argv[1:], stdout=out, stderr=err).returncode
if rc != 0:
    sys.exit("command failed with status %d" % rc)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
EOF
}
export T

# Small chunks: many write transactions, each of which used to leave more
# of the replica's pages mapped.
boot=$(ROVE_PULL_BATCH=40 peak_kb "$ROVE_BIN" -R "$T/ana" sync --json)
eq "$(jq .pulled "$T/out")" "$((2 * N + 1))" "the analyst pulled every customer, its history and the territory"
[ ! -s "$T/err" ] || fail "progress on stderr that is not a terminal, unasked: $(head -c 200 "$T/err")"
idle=$(ROVE_PULL_BATCH=40 peak_kb "$ROVE_BIN" -R "$T/ana" sync --json)
eq "$(jq .pulled "$T/out")" "0" "a second sync pulls nothing"
file_kb=$(($(stat -c %s "$T/ana/data.mdb") / 1024))
echo "bootstrap peak ${boot} KiB, idle sync ${idle} KiB, replica file ${file_kb} KiB"
# What the bootstrap adds to an idle sync must stay a small part of the
# replica (a few chunks' pages, the reply buffers). Not under
# AddressSanitizer, whose quarantine of freed memory and shadow pages
# make the heap grow with what was allocated.
asan=$(ASAN_OPTIONS=help=1 "$ROVE_BIN" help 2>&1 || true)
if [[ $asan == *"flags for AddressSanitizer"* ]]; then
	echo "built with AddressSanitizer: the peak RSS is not checked"
elif [ $((boot - idle)) -ge $((file_kb / 5)) ]; then
	fail "the bootstrap's peak RSS grows with the replica: ${boot} KiB against ${idle} KiB idle, replica ${file_kb} KiB"
fi

# Progress, asked for: on stderr, one line each (not a terminal), while
# stdout is the JSON alone.
rm -rf "$T/ana2"
rove -R "$T/ana2" init --server "$URL" --user ana --token "$(token_of ana)" 2>/dev/null
ROVE_PROGRESS=1 ROVE_PULL_BATCH=4000 rove -R "$T/ana2" sync --json >"$T/out" 2>"$T/err"
eq "$(jq -c 'keys' "$T/out")" '["accepted","cursor","pulled","pushed","rejected"]' "stdout is the JSON alone"
grep -q '^snapshot: [0-9,]* records' "$T/err" || fail "no progress on stderr: $(cat "$T/err")"
if grep -q $'\r' "$T/err"; then
	fail "progress redrawn in place on stderr that is not a terminal"
fi
# On a terminal it is drawn in place, also with --json.
if command -v script >/dev/null; then
	rm -rf "$T/ana3"
	rove -R "$T/ana3" init --server "$URL" --user ana --token "$(token_of ana)" 2>/dev/null
	ROVE_PULL_BATCH=4000 script -qec "$ROVE_BIN -R $T/ana3 sync --json 2>&1 >$T/out3" /dev/null >"$T/tty" </dev/null
	grep -q $'\rsnapshot: [0-9,]* records' "$T/tty" || fail "no progress on a terminal: $(head -c 300 "$T/tty")"
	eq "$(jq .pulled "$T/out3")" "$((2 * N + 1))" "the terminal's sync pulled everything"
fi
ROVE_PROGRESS=0 ROVE_PULL_BATCH=4000 rove -R "$T/ana2" sync --json >"$T/out" 2>"$T/err"
[ ! -s "$T/err" ] || fail "progress with ROVE_PROGRESS=0: $(cat "$T/err")"
echo "ok"
