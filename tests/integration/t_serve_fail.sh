#!/usr/bin/env bash
# roved serve that cannot serve changes nothing, and one directory has
# one server:
#  - on an address in use (here the running server's own), serve exits 1
#    before it opens the database: its data file is unchanged (before,
#    the start wrote a run record and the index into it); the same for
#    a --metrics address in use;
#  - roved.lock removed while a server runs (as "stale"), a second serve
#    on the same directory is still refused: the directory is locked too;
#  - the first start of a new database does not say it rebuilt an index;
#  - a stop signal during the start stops the server cleanly;
#  - nothing listens before the database is open: not the address, not
#    the --metrics one (a client or a supervisor that met a listener
#    there would take the server for up, and then meet nothing).
. "$(dirname "$0")/lib.sh"

server_setup
territory east
users alice:rep:east
r alice customer add --name "Steel" --phone 13800000001 >/dev/null
r alice sync >/dev/null
"$ROVED_BIN" backup "$T/srv" "$T/copy" 2>"$T/err" || fail "backup: $(cat "$T/err")"
sum=$(md5sum <"$T/copy/data.mdb")

rc=0
"$ROVED_BIN" serve "$T/copy" --listen "$URL" 2>"$T/err" || rc=$?
eq "$rc" "1" "serve on an address in use"
grep -q "cannot listen" "$T/err" || fail "the refusal names the address: $(cat "$T/err")"
eq "$(md5sum <"$T/copy/data.mdb")" "$sum" "the data file of a serve that failed"
# The same with --metrics on an address in use (a port held by a
# listener of this test's own), its --listen free.
mport=$(free_port)
python3 -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); print("up", flush=True); time.sleep(60)' "$mport" >"$T/holder" &
holder=$!
for _ in $(seq 100); do grep -q up "$T/holder" && break; sleep 0.05; done
rc=0
timeout 10 "$ROVED_BIN" serve "$T/copy" --listen "ipc://$T/metrics.sock" --metrics "127.0.0.1:$mport" 2>"$T/err" || rc=$?
eq "$rc" "1" "serve with --metrics on an address in use"
grep -q "cannot serve metrics" "$T/err" || fail "the refusal names the metrics address: $(cat "$T/err")"
eq "$(md5sum <"$T/copy/data.mdb")" "$sum" "the data file of a serve whose metrics could not listen"
# And a tcp:// --listen on that port: checked without listening on it (a
# client that met a listener would take the server for up), refused.
rc=0
timeout 10 "$ROVED_BIN" serve "$T/copy" --listen "tcp://127.0.0.1:$mport" 2>"$T/err" || rc=$?
kill "$holder"; wait "$holder" 2>/dev/null || true
eq "$rc" "1" "serve on a tcp:// address in use"
grep -q "cannot listen on 'tcp://127.0.0.1:$mport'" "$T/err" || fail "the refusal names the address: $(cat "$T/err")"
eq "$(md5sum <"$T/copy/data.mdb")" "$sum" "the data file of a serve whose tcp:// address was in use"

rm "$T/srv/roved.lock"
rc=0
timeout 10 "$ROVED_BIN" serve "$T/srv" --listen "ipc://$T/second.sock" 2>"$T/err" || rc=$?
eq "$rc" "1" "a second serve on the directory after its roved.lock was removed"
grep -q "in use by another roved" "$T/err" || fail "the refusal says why: $(cat "$T/err")"
r alice customer add --name "Iron" --phone 13800000002 >/dev/null
r alice sync >/dev/null || fail "the first server serves on"
! grep -q "rebuilt the index" "$T/roved.log" || fail "a new database's first start: $(cat "$T/roved.log")"
# A stop signal as soon as the address answers (serve listens there once
# before it opens the database, and a supervisor may take that for
# "started"): the server stops cleanly, exit 0, each time - before, it
# died of the signal in most of these tries. The test's own python, not
# a shell loop, polls for the socket within a fraction of a millisecond.
server_stop
python3 - "$ROVED_BIN" "$T/srv" "$T/early.sock" <<'PY' || fail "a stop signal during the start"
import os, signal, subprocess, sys, time
roved, d, sock = sys.argv[1:4]
bad = []
for i in range(20):
    p = subprocess.Popen([roved, "serve", d, "--listen", "ipc://" + sock], stderr=subprocess.PIPE)
    t0 = time.time()
    while not os.path.exists(sock) and p.poll() is None and time.time() - t0 < 20:
        time.sleep(0.0002)
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    if p.returncode != 0:
        bad.append("try %d: exit %d: %s" % (i, p.returncode, err.decode().strip()[-200:]))
    if os.path.exists(sock):
        os.unlink(sock)
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PY

# The database's open made slow (1.5 s, tests/tools/rove_slow_open): the
# serve's listen() calls all come after it, and a client that polls both
# ports every millisecond first gets in once the database is open. Before,
# serve listened on both once, and closed them, before the open.
slow="$(dirname "$ROVE_RAW")/librove_slow_open.so"
[ -f "$slow" ] || fail "no $slow"
lport=$(free_port)
mport=$(free_port)
LD_PRELOAD="$slow" ROVE_TRACE_FILE="$T/trace" ROVE_SLOW_OPEN_MS=1500 \
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
	"$ROVED_BIN" serve "$T/srv" --listen "tcp://127.0.0.1:$lport" --metrics "127.0.0.1:$mport" \
	>>"$T/roved.log" 2>&1 &
slow_pid=$!
python3 - "$lport" "$mport" "$T/trace" <<'PY' || fail "a port took connections before the database was open"
import socket, sys, time
ports, trace = [int(p) for p in sys.argv[1:3]], sys.argv[3]
t0 = time.time()
while time.time() - t0 < 60:
    for p in ports:
        s = socket.socket()
        try:
            s.connect(("127.0.0.1", p))
        except OSError:
            continue
        finally:
            s.close()
        seen = open(trace).read() if __import__("os").path.exists(trace) else ""
        if "open data.mdb" not in seen:
            sys.exit("port %d took a connection before the database was opened: %r" % (p, seen))
        sys.exit(0)
    time.sleep(0.001)
sys.exit("no port took a connection in 60 s")
PY
kill -TERM "$slow_pid"
rc=0
wait "$slow_pid" || rc=$?
eq "$rc" "0" "the slow-opening serve stopped"
eq "$(head -1 "$T/trace")" "open data.mdb" "what serve did first (then: $(tr '\n' ' ' <"$T/trace"))"
# (nng listens on its socket twice: 128, then 4096 connections queued.)
[ "$(grep -c '^listen$' "$T/trace")" -ge 2 ] || fail "serve listened on both addresses: $(tr '\n' ' ' <"$T/trace")"
echo "ok"
