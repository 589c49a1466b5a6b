#!/usr/bin/env bash
# A bootstrap comes in few, large chunks, each still its own durable
# transaction (issue 17): an analyst's snapshot of 40,001 records takes a
# handful of pull replies, bounded by their bytes (ROVE_SNAPSHOT_CHUNK_BYTES,
# 4 MiB), not 4,000 records each as before; a rep's ops pulls keep their
# 4,000. A bootstrap killed after a chunk's commit resumes after it, and
# the replica ends whole: every customer once.
. "$(dirname "$0")/lib.sh"

server_init
MPORT=$(free_port)
MURL="http://127.0.0.1:$MPORT/metrics"
ROVED_ARGS="--metrics 127.0.0.1:$MPORT" server_start
admin_replica
territory east
users alice:rep:east ana:analyst
r alice sync >/dev/null

# pulls: how many pull requests the server has answered so far.
pulls() {
	curl -s "$MURL" | awk '$1 == "roved_request_duration_seconds_count{type=\"pull\"}" { printf "%.0f\n", $2; f = 1 }
		END { if (!f) print "absent" }'
}

N=20000
many_customers alice $N 200
records=$((2 * N + 1)) # each customer, its ownership history, the territory

# The analyst's bootstrap: a first chunk of 1,000 records (quick to come),
# then chunks of up to 4 MiB. About 16 MB here: 5 or 6 pulls; chunks of
# 4,000 records took 1 + 10.
before=$(pulls)
[ "$before" != absent ] || fail "no pull count in the metrics"
eq "$(r ana sync --json | jq .pulled)" "$records" "the analyst pulled everything"
n=$(($(pulls) - before))
echo "bootstrap of $records records: $n pulls"
[ "$n" -ge 2 ] || fail "the bootstrap came in $n pull(s): the test's data is too small to cut"
[ "$n" -le 6 ] || fail "the bootstrap took $n pulls: its chunks are not larger than 4,000 records"
eq "$(r ana customer list --json | jq length)" "$N" "every customer on the analyst's replica"

# Ops after it still come 4,000 at most a reply: 6,000 changes, 2 pulls
# or more.
customers_csv "$T/later.csv" 6000 Later 1390
r alice import customers "$T/later.csv" >/dev/null
eq "$(r alice sync --json | jq .accepted)" "6000" "more customers reached the server"
before=$(pulls)
eq "$(r ana sync --json | jq .pulled)" "12000" "the analyst pulled the new customers and their histories"
n=$(($(pulls) - before))
[ "$n" -ge 3 ] || fail "12,000 ops came in $n pulls: an ops reply holds 4,000 at most"

# Killed right after its second chunk's commit (its meta page written;
# the first write is the sync's own bookkeeping): the next
# sync resumes from that chunk, not from the start, and ends whole.
records=$((records + 12000))
rove -R "$T/ana2" init --server "$URL" --user ana --token "$(token_of ana)" 2>/dev/null
rc=0
die_after_meta 3 "$ROVE_BIN" -R "$T/ana2" sync --json >"$T/out" 2>"$T/err" || rc=$?
eq "$rc" "137" "the bootstrap killed after its second chunk ($(cat "$T/err"))"
# Meanwhile a customer changes: the resuming sync finishes the snapshot
# (as of the head it started from) and then pulls what came after it,
# in the same sync, as an uninterrupted one does (attack on issue 17).
cid=$(r alice customer list --limit 1 --json | jq -r '.[0].id')
r alice customer set "$cid" address="moved after the first attempt" >/dev/null
r alice sync >/dev/null
left=$(r ana2 sync --json | jq .pulled)
echo "after the kill, the next sync pulled $left of $records"
[ "$left" -gt 0 ] && [ "$left" -lt $((records - 1000)) ] ||
	fail "the killed bootstrap did not resume after its committed chunks: $left of $records pulled again"
eq "$(r ana2 customer show "$cid" --json | jq -r .address)" "moved after the first attempt" \
	"the change made while the bootstrap was cut, in the one sync that resumed it"
eq "$(r ana2 customer list --json | jq length)" "$((N + 6000))" "every customer on the resumed replica"
eq "$(r ana2 customer list --json | jq -r '.[].id' | sort -u | wc -l)" "$((N + 6000))" "each once"
echo "ok"
