#!/usr/bin/env bash
# Commands an operator types in a root shell on the service's database
# (roved check of a backup, a start, a backup into the service's
# directory) leave no file of root's there: the service user could not
# open it, and the service would fail to start after the restore
# (attack forty-six: a lock.mdb of root's, copied with a checked backup
# into place; the error named neither the file nor its owner). A file
# of root's that is there anyway is named in the refusal.
. "$(dirname "$0")/lib.sh"

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
# owners DIR: the files of DIR not the service user's, or nothing.
not_svc() { find "$1" -mindepth 1 ! -uid 65534 -printf '%f(uid %U) '; }

token=$(as_svc "$T/bin/roved" init "$T/svc/db" 2>"$T/err") || fail "init as the service user: $(cat "$T/err")"
as_svc "$T/bin/roved" backup "$T/svc/db" "$T/svc/b1" 2>"$T/err" || fail "backup as the service user: $(cat "$T/err")"
eq "$(not_svc "$T/svc")" "" "files of another user after the service user's own commands"

# 1. root checks the backup (LMDB makes its lock file there).
"$ROVED_BIN" check "$T/svc/b1" >"$T/out" 2>&1 || fail "root's check: $(cat "$T/out")"
eq "$(not_svc "$T/svc/b1")" "" "files of root's after root's check of the backup"

# 2. root starts the server on it (the Restore's last line in a root
# shell), then stops it; the service starts after.
URL="ipc://$T/svc/root.sock"
"$ROVED_BIN" serve "$T/svc/b1" --listen "$URL" >>"$T/roved.log" 2>&1 &
ROVED_PID=$!
wait_listening "$URL" "$ROVED_PID" roved
server_stop
rm -f "$T/svc/root.sock"
eq "$(not_svc "$T/svc/b1")" "" "files of root's after root's start"
URL="ipc://$T/svc/svc.sock"
setpriv --reuid=65534 --regid=65534 --clear-groups "$T/bin/roved" serve "$T/svc/b1" --listen "$URL" \
	>>"$T/roved.log" 2>&1 &
ROVED_PID=$!
wait_listening "$URL" "$ROVED_PID" "roved as the service user"
server_stop

# 3. root backs up into a directory of the service's.
mkdir "$T/svc/b2"
chown 65534:65534 "$T/svc/b2"
"$ROVED_BIN" backup "$T/svc/b1" "$T/svc/b2" 2>"$T/err" || fail "root's backup: $(cat "$T/err")"
eq "$(not_svc "$T/svc/b2")" "" "files of root's after root's backup into the service's directory"
# ... and into a directory it makes there, and an init there.
"$ROVED_BIN" backup "$T/svc/b1" "$T/svc/b4" 2>"$T/err" || fail "root's backup: $(cat "$T/err")"
"$ROVED_BIN" init "$T/svc/db2" >/dev/null 2>"$T/err" || fail "root's init: $(cat "$T/err")"
eq "$(stat -c %u "$T/svc/b4" "$T/svc/db2" | tr '\n' ' ')$(not_svc "$T/svc/b4")$(not_svc "$T/svc/db2")" \
	"65534 65534 " "what root's backup and init made in the service's directory"
# A data.mdb that is a link leading nowhere: no init makes its target.
as_svc mkdir "$T/svc/db3"
as_svc ln -s "$T/made-by-root" "$T/svc/db3/data.mdb"
rc=0
"$ROVED_BIN" init "$T/svc/db3" >/dev/null 2>"$T/err" || rc=$?
eq "$rc" 1 "root's init beside a data.mdb that is a dangling link"
[ ! -e "$T/made-by-root" ] || fail "root's init made the link's target"

# 4. A lock file of root's there anyway (an older roved): the refusal
# names it and its owner.
chown 0:0 "$T/svc/b1/lock.mdb"
rc=0
as_svc "$T/bin/roved" serve "$T/svc/b1" --listen "$URL" 2>"$T/err" || rc=$?
eq "$rc" 1 "the service's start beside a lock file of root's"
grep_q "lock.mdb is uid 0's" "$T/err" || fail "the refusal does not name the file: $(cat "$T/err")"

# 5. Links the directory's owner put there: root's commands neither
# write through them nor give away what they point at.
printf 'root only\n' >"$T/secret"
chmod 600 "$T/secret"
sum=$(md5sum <"$T/secret")
as_svc "$T/bin/roved" backup "$T/svc/db" "$T/svc/b3" 2>"$T/err" || fail "backup as the service user: $(cat "$T/err")"
as_svc ln -s "$T/secret" "$T/svc/b3/lock.mdb"
rc=0
"$ROVED_BIN" check "$T/svc/b3" >"$T/out" 2>&1 || rc=$?
eq "$rc" 1 "root's check beside a lock.mdb that is a link"
grep_q "lock.mdb' is a symbolic link" "$T/out" || fail "the refusal does not say why: $(cat "$T/out")"
as_svc rm "$T/svc/b3/lock.mdb"
as_svc ln -s "$T/secret" "$T/svc/b3/roved.lock"
rc=0
"$ROVED_BIN" serve "$T/svc/b3" --listen "ipc://$T/svc/b3.sock" >"$T/out" 2>&1 || rc=$?
eq "$rc" 1 "root's start beside a roved.lock that is a link"
eq "$(md5sum <"$T/secret") $(stat -c %u "$T/secret")" "$sum 0" "the file the links pointed at"

# 6. A user who may not connect to roved's ipc socket is told so, not
# only "server unreachable" (attack forty-six); none there, that too.
mkdir -m 755 "$T/rootsock"
URL="ipc://$T/rootsock/s.sock"
"$ROVED_BIN" serve "$T/svc/db" --listen "$URL" >>"$T/roved.log" 2>&1 &
ROVED_PID=$!
wait_listening "$URL" "$ROVED_PID" roved
as_svc "$T/bin/rove" -R "$T/svc/r" init --server "$URL" --user admin --token "$token" 2>/dev/null
rc=0
as_svc "$T/bin/rove" -R "$T/svc/r" sync 2>"$T/err" || rc=$?
eq "$rc" 3 "a sync through a socket this user may not connect to"
grep_q "the socket $T/rootsock/s.sock is uid 0's, mode 755: uid 65534 may not connect to it" "$T/err" ||
	fail "the sync's error does not say why: $(cat "$T/err")"
# root's sync of that user's replica leaves no file of root's in it.
"$ROVE_BIN" -R "$T/svc/r" sync >/dev/null 2>"$T/err" || fail "root's sync: $(cat "$T/err")"
eq "$(not_svc "$T/svc/r")" "" "files of root's after root's sync of another user's replica"
server_stop
rc=0
as_svc "$T/bin/rove" -R "$T/svc/r" sync 2>"$T/err" || rc=$?
eq "$rc" 3 "a sync with no server"
grep_q "no socket at $T/rootsock/s.sock" "$T/err" || fail "the sync's error does not say why: $(cat "$T/err")"
echo ok
