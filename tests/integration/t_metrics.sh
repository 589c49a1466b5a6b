#!/usr/bin/env bash
# roved serve --metrics: Prometheus' text format at /metrics, read by a
# real parser (python3-prometheus-client), its counters moving with what
# the server does: an accepted op, a refused one by its reason, a failed
# login, pulls, commits, connections, the oplog head.
. "$(dirname "$0")/lib.sh"

server_init
MPORT=$(free_port)
MURL="http://127.0.0.1:$MPORT/metrics"
ROVED_ARGS="--metrics 127.0.0.1:$MPORT" server_start
admin_replica
# Debian's python3, which python3-prometheus-client installs into (not
# whatever python3 comes first in PATH).
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
scrape() { "$PY" "$(dirname "$0")/scrape.py" "$MURL"; }
# metric NAME{LABELS}: its value (a float, as the parser gives it), or
# "absent".
metric() { scrape | awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print "absent" }'; }
int() { printf '%.0f' "$1"; }

first=$(scrape) || fail "the parser refused the metrics"
for name in 'roved_ops_accepted_total' 'roved_ops_refused_total{reason="invalid"}' \
	'roved_ops_refused_total{reason="cooldown"}' 'roved_login_failures_total' \
	'roved_request_duration_seconds_count{type="push"}' 'roved_pull_entries_total' \
	'roved_pull_bytes_total' 'roved_commit_requests_count' 'roved_connections' \
	'roved_connections_total' 'roved_oplog_head' 'roved_db_file_bytes' 'roved_db_used_bytes' \
	'roved_db_map_bytes' 'roved_request_duration_seconds_bucket{le="+Inf",type="pull"}'; do
	grep -qF "$name " <<<"$first" || fail "no $name in the metrics"
done
eq "$(metric roved_ops_accepted_total)" "0.0" "no op accepted yet"
eq "$(int "$(metric roved_db_file_bytes)")" "$(stat -c %s "$T/srv/data.mdb")" "the file's size"

territories east
users alice:rep:east
sync_all admin alice
pulls=$(int "$(metric 'roved_request_duration_seconds_count{type="pull"}')")
[ "$pulls" -ge 2 ] || fail "$pulls pulls counted after two syncs"
[ "$(int "$(metric roved_pull_entries_total)")" -ge 2 ] || fail "pull entries not counted"
[ "$(int "$(metric roved_pull_bytes_total)")" -ge 100 ] || fail "pull bytes not counted"
[ "$(int "$(metric 'roved_request_duration_seconds_count{type="admin"}')")" -ge 2 ] || fail "admin requests not counted"

# One op accepted...
r alice customer add --name "Acme" --territory east >/dev/null
r alice sync >/dev/null
eq "$(metric roved_ops_accepted_total)" "1.0" "alice's create accepted"
eq "$(metric 'roved_request_duration_seconds_count{type="push"}')" "1.0" "one push"
[ "$(int "$(metric roved_commit_requests_count)")" -ge 3 ] || fail "group commits not counted"
eq "$(metric roved_commit_ops_sum)" "1.0" "one op pushed in the commits"
eq "$(metric roved_oplog_head)" "$(r admin sync --json | jq .cursor).0" "the oplog head"
# ... then one refused, named by its reason (the probe gives each op a
# new op id: a second is counted too).
id=01a22000-0000-7000-8000-00000000abcd
eq "$(probe alice push create 1 "$id" name=Junk unknown_field=x | jq -r .reason)" "invalid" "a refused create"
eq "$(metric 'roved_ops_refused_total{reason="invalid"}')" "1.0" "counted as invalid"
eq "$(metric 'roved_ops_refused_total{reason="duplicate"}')" "0.0" "and nothing else"
probe alice push create 1 "$id" name=Junk unknown_field=x >/dev/null
eq "$(metric 'roved_ops_refused_total{reason="invalid"}')" "2.0" "a second refusal"
eq "$(metric roved_ops_accepted_total)" "1.0" "and still one accepted"

# A failed login.
eq "$(metric roved_login_failures_total)" "0.0" "no failed login yet"
rove -R "$T/mallory" init --server "$URL" --user alice --token "$(printf '0%.0s' $(seq 64))" 2>/dev/null
rove -R "$T/mallory" sync >/dev/null 2>&1 && fail "a wrong token synced"
eq "$(metric roved_login_failures_total)" "1.0" "the failed login counted"
[ "$(int "$(metric roved_connections_total)")" -ge 5 ] || fail "connections not counted"
# An idle server: its listener guard dials itself about every 3 s, and
# counts none of that among the clients' connections (attack thirty-five:
# an idle roved counted one a second).
conns=$(int "$(metric roved_connections_total)")
sleep 8
eq "$(int "$(metric roved_connections_total)")" "$conns" "connections while idle (the guard's own not counted)"

# The options.
server_stop
rc=0
"$ROVED_BIN" serve "$T/srv" --listen "$URL" --metrics nohost >/dev/null 2>"$T/err" || rc=$?
eq "$rc" "2" "--metrics without a port: exit 2"
grep -q "invalid --metrics 'nohost'" "$T/err" || fail "no clear error: $(cat "$T/err")"
# The sync port given to the metrics too: a usage error (exit 1 was
# restarted by a service manager into the same clash for ever).
sp=$(free_port)
rc=0
"$ROVED_BIN" serve "$T/srv" --listen "tcp://0.0.0.0:$sp" --metrics "127.0.0.1:$sp" >/dev/null 2>"$T/err" || rc=$?
eq "$rc" "2" "--metrics on the sync port: exit 2"
grep -q "are one address" "$T/err" || fail "no clear error: $(cat "$T/err")"
"$PY" -c 'import socket,time,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(); time.sleep(5)' "$MPORT" &
holder=$!
sleep 0.3
rc=0
timeout 10 "$ROVED_BIN" serve "$T/srv" --listen "$URL" --metrics "127.0.0.1:$MPORT" >/dev/null 2>"$T/err" || rc=$?
kill "$holder"; wait "$holder" 2>/dev/null || true
eq "$rc" "1" "a metrics port in use: exit 1"
grep -q "cannot serve metrics on 127.0.0.1:$MPORT" "$T/err" || fail "no clear error: $(cat "$T/err")"
echo "ok"
