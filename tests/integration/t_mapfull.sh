#!/usr/bin/env bash
# A full LMDB map is grown, on the server and on the replica alike, and
# nothing is lost: both start with a 1 MiB map here and take in far more.
# A database file cut short (a partial copy, a disk that filled) is refused
# with a message, never read past its end (a SIGBUS).
. "$(dirname "$0")/lib.sh"
check_at_end=no # it damages databases on purpose

export ROVE_MAPSIZE_MB=1
server_setup
territory east
user_replica alice rep east
r alice sync >/dev/null

N=4000
pad=$(printf 'x%.0s' $(seq 1 80))
{
	echo "name,phone,address"
	for i in $(seq 1 $N); do
		printf 'Customer %d,1370%07d,"%d Long Street, a district with a long name, %s"\n' $i $i $i "$pad"
	done
} >"$T/many.csv"
r alice import customers "$T/many.csv" >/dev/null
eq "$(r alice customer list --json | jq length)" "$N" "the replica grew its map for the import"
eq "$(r alice sync --json | jq .accepted)" "$N" "the server grew its map for the push"
r admin sync >/dev/null
eq "$(r admin customer list --json | jq length)" "$N" "all on the server"
size=$(stat -c %s "$T/srv/data.mdb")
[ "$size" -gt $((2 * 1024 * 1024)) ] || fail "the server's database did not grow ($size bytes)"
grep -q "map grown" "$T/roved.log" || fail "the server did not report growing its map"

# cut_short NAME CMD...: CMD exits 1 saying the file is cut short.
cut_short() {
	local name=$1 status
	shift
	set +e
	"$@" >/dev/null 2>"$T/err"
	status=$?
	set -e
	eq "$status" "1" "$name on a database cut short ($(cat "$T/err"))"
	grep -q "is cut short" "$T/err" || fail "$name: unclear error: $(cat "$T/err")"
}
cp -a "$T/alice" "$T/alice-cut"
truncate -s 8192 "$T/alice-cut/data.mdb"
cut_short "rove customer list" rove -R "$T/alice-cut" customer list
server_stop
cp -a "$T/srv" "$T/srv-cut"
truncate -s 65536 "$T/srv-cut/data.mdb"
cut_short "roved serve" "$ROVED_BIN" serve "$T/srv-cut" --listen "ipc://$T/cut.sock"
cut_short "roved backup" "$ROVED_BIN" backup "$T/srv-cut" "$T/cut-backup"
# An empty file (a copy that failed at once) is said so, and left as it is.
: >"$T/alice-cut/data.mdb"
set +e
rove -R "$T/alice-cut" customer list >/dev/null 2>"$T/err"
eq "$?" "1" "rove on an empty database file ($(cat "$T/err"))"
set -e
grep -q "is empty" "$T/err" || fail "unclear error: $(cat "$T/err")"
eq "$(stat -c %s "$T/alice-cut/data.mdb")" "0" "the empty file is left as it was"
echo "ok"
