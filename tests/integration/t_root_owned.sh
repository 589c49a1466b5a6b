#!/usr/bin/env bash
# Commands run as root work only where root alone controls the way: in a
# directory another user owns (the service's), that user could put links
# to root's files there, or swap the directory meanwhile, and root's
# command would write through them (attacks forty-seven and forty-eight:
# LMDB's readers' table written into a root file, root's other database
# rewritten, a root directory made 0700), or leave files of root's that
# lock the service out (attack forty-six). So roved and rove refuse as
# root there, saying whose it is and to run as that user; nothing is
# made or changed. The service user's own commands, and root's in root's
# directories, are as before; a refusal to open names the file and its
# owner; rove through an ipc:// socket it may not open says so.
. "$(dirname "$0")/lib.sh"
check_at_end=no # it damages databases on purpose

[ "$(id -u)" = 0 ] || {
	echo "skipped: needs root"
	exit 0
}
chmod a+x "$T"
mkdir -p "$T/bin" "$T/svc"
cp "$ROVED_BIN" "$T/bin/roved"
cp "$ROVE_BIN" "$T/bin/rove"
chmod -R a+rx "$T/bin"
chown 65534:65534 "$T/svc"
as_svc() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
# listing DIR: what is in DIR, with owners and sizes (to see nothing changed).
listing() { find "$1" -printf '%P %U %s\n' | sort; }

token=$(as_svc "$T/bin/roved" init "$T/svc/db" 2>"$T/err") || fail "init as the service user: $(cat "$T/err")"
as_svc "$T/bin/roved" backup "$T/svc/db" "$T/svc/b1" 2>"$T/err" || fail "backup as the service user: $(cat "$T/err")"
as_svc "$T/bin/roved" check "$T/svc/b1" >"$T/out" 2>&1 || fail "check as the service user: $(cat "$T/out")"

"$ROVED_BIN" init "$T/srvroot" >/dev/null 2>"$T/err" || fail "root's init in root's directory: $(cat "$T/err")"

# refused_as_root WHAT ARGS...: roved or rove (ARGS) as root exits 1,
# saying whose the directory is, and nothing in $T/svc changed.
refused_as_root() {
	local what=$1 before rc=0
	shift
	before=$(listing "$T/svc")
	timeout 20 "$@" >"$T/out" 2>"$T/err" || rc=$?
	eq "$rc" 1 "$what as root in the service's directory"
	grep_q "${refusal:-uid 65534 owns}" "$T/err" || fail "$what: the refusal does not say why: $(cat "$T/err")"
	eq "$(listing "$T/svc")" "$before" "the service's directory after root's $what"
}
refused_as_root "check of a backup" "$ROVED_BIN" check "$T/svc/b1"
refused_as_root "serve" "$ROVED_BIN" serve "$T/svc/b1" --listen "ipc://$T/root.sock"
refused_as_root "compact" "$ROVED_BIN" compact "$T/svc/b1" --keep-days 1
refused_as_root "backup from it" "$ROVED_BIN" backup "$T/svc/b1" "$T/rootcopy"
refused_as_root "backup into it" "$ROVED_BIN" backup "$T/srvroot" "$T/svc/b2"
refused_as_root "init" "$ROVED_BIN" init "$T/svc/db2"
# A link of the service user's on the way to a directory of root's: the
# same (attack forty-eight: `ln -s /etc SVC/newdb; roved init SVC/newdb`
# made /etc 0700 and wrote into it).
mkdir -m 755 "$T/rootdir"
as_svc ln -s "$T/rootdir" "$T/svc/newdb"
refused_as_root "init through a link" "$ROVED_BIN" init "$T/svc/newdb"
eq "$(stat -c %a "$T/rootdir") $(ls -A "$T/rootdir" | wc -l)" "755 0" "root's directory behind the link"

# A directory of root's that others may write to, sticky as /tmp: fine
# on the way, never as the one worked in (attack forty-nine: root's
# check wrote its table into the user's lock.mdb there, root's init its
# pid into the user's roved.lock).
mkdir -m 1777 "$T/svc/../sticky"
cp -r "$T/srvroot" "$T/sticky/db"
rm -f "$T/sticky/db/lock.mdb" "$T/sticky/db/roved.lock"
chmod 1777 "$T/sticky/db"
as_svc touch "$T/sticky/db/lock.mdb"
refusal="others may write (mode 1777) to '$T/sticky/db'" refused_as_root "check of a sticky directory" \
	"$ROVED_BIN" check "$T/sticky/db"
eq "$(stat -c '%s %U' "$T/sticky/db/lock.mdb")" "0 nobody" "the user's lock.mdb in the sticky directory"
chmod 700 "$T/sticky/db"
rm "$T/sticky/db/lock.mdb"
"$ROVED_BIN" check "$T/sticky/db" >"$T/out" 2>&1 || fail "root's check of its directory in a sticky one: $(cat "$T/out")"
# A current directory past PATH_MAX, a relative path: what cannot be
# told is refused (attack forty-nine: the check was skipped).
deep=$(cd "$T" && python3 -c '
import os
for i in range(25):
    d = "d%d" % i + "x" * 200
    os.mkdir(d)
    os.chdir(d)
print(i)')
[ -n "$deep" ] || fail "no deep directory"
rc=0
(
	cd "$T"
	for d in d*; do :; done
	python3 - "$ROVED_BIN" <<'PY' >"$T/out" 2>"$T/err" || rc=$?
import os, subprocess, sys
while True:
    subs = [d for d in os.listdir(".") if d.startswith("d")]
    if not subs:
        break
    os.chdir(subs[0])
sys.exit(subprocess.call([sys.argv[1], "init", "deepdb"], stdout=subprocess.DEVNULL))
PY
	exit "$rc"
) || rc=$?
eq "$rc" 1 "root's init with a current directory past PATH_MAX"
grep_q "cannot tell the way" "$T/err" || fail "the deep init's refusal does not say why: $(cat "$T/err")"

# An ipc:// socket path: nng removes what is there by path when nothing
# answers, and at the end (attack fifty: root's serve deleted a root file
# through a socket path in the user's directory). A regular file there
# is refused and kept; as root, the socket's directory too must be
# root's alone.
echo keep >"$T/notsock"
rc=0
timeout 20 "$ROVED_BIN" serve "$T/srvroot" --listen "ipc://$T/notsock" >/dev/null 2>"$T/err" || rc=$?
eq "$rc" 1 "serve on a socket path that is a regular file ($(cat "$T/err"))"
eq "$(cat "$T/notsock")" keep "the regular file at the socket path"
refused_as_root "serve on a socket in the user's directory" "$ROVED_BIN" serve "$T/srvroot" \
	--listen "ipc://$T/svc/root.sock"

# Root's own directories, and a link of root's to one: as before.
ln -s "$T/srvroot" "$T/srvlink"
"$ROVED_BIN" check "$T/srvlink" >"$T/out" 2>&1 || fail "root's check through root's link: $(cat "$T/out")"

# Lock files are not opened through links (a roved.lock linked to a
# file: refused, the file as it was).
echo keep >"$T/lockvictim"
ln -s "$T/lockvictim" "$T/srvroot/roved.lock.new" && mv -f "$T/srvroot/roved.lock.new" "$T/srvroot/roved.lock"
rc=0
timeout 20 "$ROVED_BIN" serve "$T/srvroot" --listen "ipc://$T/lk.sock" >/dev/null 2>"$T/err" || rc=$?
eq "$rc" 1 "serve beside a roved.lock that is a link ($(cat "$T/err"))"
eq "$(cat "$T/lockvictim")" keep "the file roved.lock linked to"
rm "$T/srvroot/roved.lock"

# A data.mdb that is a link leading nowhere: no init makes its target.
mkdir "$T/db3"
ln -s "$T/made-by-init" "$T/db3/data.mdb"
rc=0
"$ROVED_BIN" init "$T/db3" >/dev/null 2>"$T/err" || rc=$?
eq "$rc" 1 "init beside a data.mdb that is a dangling link"
[ ! -e "$T/made-by-init" ] || fail "init made the link's target"

# A lock file of root's in the service's directory (an older roved, or
# root's commands before this rule): the service's start names it.
as_svc cp "$T/svc/db/lock.mdb" "$T/svc/b1/lock.mdb" 2>/dev/null || true
as_svc "$T/bin/roved" check "$T/svc/b1" >/dev/null 2>&1
chown 0:0 "$T/svc/b1/lock.mdb"
URL="ipc://$T/svc/svc.sock"
rc=0
as_svc "$T/bin/roved" serve "$T/svc/b1" --listen "$URL" 2>"$T/err" || rc=$?
eq "$rc" 1 "the service's start beside a lock file of root's"
grep_q "lock.mdb is uid 0's" "$T/err" || fail "the refusal does not name the file: $(cat "$T/err")"
chown 65534:65534 "$T/svc/b1/lock.mdb"

# The service user's server, and its replica: root's sync of that
# replica is refused like the rest; a user who may not connect to
# root's ipc socket is told so, not only "server unreachable" (attack
# forty-six); none there, that too.
URL="ipc://$T/svc/svc.sock"
setpriv --reuid=65534 --regid=65534 --clear-groups "$T/bin/roved" serve "$T/svc/db" --listen "$URL" \
	>>"$T/roved.log" 2>&1 &
ROVED_PID=$!
wait_listening "$URL" "$ROVED_PID" "roved as the service user"
as_svc "$T/bin/rove" -R "$T/svc/r" init --server "$URL" --user admin --token "$token" 2>/dev/null
as_svc "$T/bin/rove" -R "$T/svc/r" sync >/dev/null 2>"$T/err" || fail "the service user's sync: $(cat "$T/err")"
refused_as_root "sync of the service user's replica" "$ROVE_BIN" -R "$T/svc/r" sync
refused_as_root "status of the service user's replica" "$ROVE_BIN" -R "$T/svc/r" status
server_stop
mkdir -m 755 "$T/rootsock"
URL="ipc://$T/rootsock/s.sock"
"$ROVED_BIN" serve "$T/srvroot" --listen "$URL" >>"$T/roved.log" 2>&1 &
ROVED_PID=$!
wait_listening "$URL" "$ROVED_PID" roved
as_svc "$T/bin/rove" -R "$T/svc/r2" init --server "$URL" --user admin --token "$token" 2>/dev/null
rc=0
as_svc "$T/bin/rove" -R "$T/svc/r2" sync 2>"$T/err" || rc=$?
eq "$rc" 3 "a sync through a socket this user may not connect to"
grep_q "the socket $T/rootsock/s.sock is uid 0's, mode 755: uid 65534 may not connect to it" "$T/err" ||
	fail "the sync's error does not say why: $(cat "$T/err")"
server_stop
rc=0
as_svc "$T/bin/rove" -R "$T/svc/r2" sync 2>"$T/err" || rc=$?
eq "$rc" 3 "a sync with no server"
grep_q "no socket at $T/rootsock/s.sock" "$T/err" || fail "the sync's error does not say why: $(cat "$T/err")"

# A FIFO the replica's owner put as last_sync: rove neither waits on it
# nor writes through it (attack forty-eight: status and sync hung).
as_svc mkfifo "$T/svc/r/last_sync.fifo"
as_svc rm -f "$T/svc/r/last_sync"
as_svc mv "$T/svc/r/last_sync.fifo" "$T/svc/r/last_sync"
rc=0
timeout 10 setpriv --reuid=65534 --regid=65534 --clear-groups "$T/bin/rove" -R "$T/svc/r" status >/dev/null 2>&1 ||
	rc=$?
[ "$rc" != 124 ] || fail "rove status waited on a FIFO as last_sync"
echo ok
