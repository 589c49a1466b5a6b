#!/usr/bin/env bash
# roved_oplog_floor after roved compact is killed mid-run (issue 16): a
# compaction killed right after it wrote a commit, before LMDB told the
# environment's readers of it, leaves the server's read transactions on
# the commit before. The gauge must say the floor on disk all the same,
# at the next scrape, with nothing written to the server in between.
. "$(dirname "$0")/lib.sh"

command -v mdb_dump >/dev/null || fail "no mdb_dump (lmdb-utils; scripts/deps)"

server_init
MPORT=$(free_port)
ROVED_ARGS="--metrics 127.0.0.1:$MPORT" server_start
admin_replica
territories east
users alice:rep:east
sync_all admin alice
# More ops than three compaction batches (ROVE_COMPACT_BATCH, 2,000).
{
	echo "name,territory"
	for i in $(seq 1 4000); do echo "Cust $i,east"; done
} >"$T/c.csv"
r alice import customers "$T/c.csv" >/dev/null
r alice sync >/dev/null

# floor_metric: roved_oplog_floor as scraped.
floor_metric() {
	curl -s --max-time 5 "http://127.0.0.1:$MPORT/metrics" | awk '$1 == "roved_oplog_floor" { print $2 }'
}
# floor_disk: the floor in the newest commit of the file, read from a
# copy of it (a new environment, whose readers start from that commit).
floor_disk() {
	local hex
	rm -rf "$T/copy"
	mkdir "$T/copy"
	cp "$T/srv/data.mdb" "$T/copy/"
	hex=$(mdb_dump -s meta "$T/copy" | awk 'want { print $1; exit } $1 == "666c6f6f72" { want = 1 }')
	echo $((16#${hex:-0}))
}
eq "$(floor_metric)" "0" "the floor before compaction"

# The compaction dies right after its second commit's meta page.
rc=0
die_after_meta 2 "$ROVED_BIN" compact "$T/srv" --keep-days 0 2>"$T/err" || rc=$?
eq "$rc" "137" "the compaction killed ($(cat "$T/err"))"
disk=$(floor_disk)
[ "$disk" -gt 0 ] || fail "the killed compaction raised no floor on disk"
eq "$(floor_metric)" "$disk" "roved_oplog_floor after a killed compaction"
# And the server goes on: a sync, then a full compaction.
r alice customer add --name "After" --territory east >/dev/null
r alice sync >/dev/null || fail "no sync after the killed compaction"
"$ROVED_BIN" compact "$T/srv" --keep-days 0 2>"$T/err" || fail "compact: $(cat "$T/err")"
eq "$(floor_metric)" "$(floor_disk)" "roved_oplog_floor after a full compaction"
"$ROVED_BIN" check "$T/srv" >"$T/out" 2>&1 || fail "check: $(cat "$T/out")"
echo ok
