#!/usr/bin/env bash
# roved backup of a database its user may only read: a read-only
# snapshot mount, and a backup user who may read the files but not write
# them (lock file included). Both copy, as roved check reads both; the
# copy checks clean and serves the same customers. A copy read without
# the lock file while the database changes is refused as maybe torn
# (said, not tested here: it needs a commit to land inside the copy). A
# directory that holds a data.mdb is refused, naming roved check.
. "$(dirname "$0")/lib.sh"

server_setup
territory east
users alice:rep:east
for i in 1 2 3; do r alice customer add --name "Steel $i" --phone "1380000000$i" >/dev/null; done
r alice sync >/dev/null
"$ROVED_BIN" backup "$T/srv" "$T/snap" 2>"$T/err" || fail "a backup to read from: $(cat "$T/err")"
sum=$(md5sum <"$T/snap/data.mdb")
# Into a directory that holds a data.mdb (a backup, or one a kill cut
# short): refused, naming the check that tells which.
rc=0
"$ROVED_BIN" backup "$T/srv" "$T/snap" 2>"$T/err" || rc=$?
eq "$rc" "1" "a backup into a directory holding one"
grep -q "roved check" "$T/err" || fail "the refusal says how to tell a whole copy: $(cat "$T/err")"
eq "$(md5sum <"$T/snap/data.mdb")" "$sum" "the copy there is kept"

# copied DIR: checks clean, and a server on it holds alice's customers.
copied() {
	"$ROVED_BIN" check "$1" >"$T/out" 2>&1 || fail "check of the copy $1: $(cat "$T/out")"
	eq "$(mdb_stat -s uniq "$1" | awk '/Entries:/ {print $2}')" "3" "$1: the three customers' phones"
}

# 1. A read-only bind mount in a private mount namespace (EROFS).
if unshare -m bash -c "mount --make-rprivate / && mount --bind -o ro '$T/snap' '$T/snap'" 2>/dev/null; then
	unshare -m bash -c 'mount --make-rprivate / && mount --bind -o ro "$1" "$1" && exec "$2" backup "$1" "$3"' \
		_ "$T/snap" "$ROVED_BIN" "$T/copy1" 2>"$T/err" || fail "backup of a read-only mount: $(cat "$T/err")"
	copied "$T/copy1"
else
	echo "skipped: read-only bind mount (unshare -m is not permitted here)"
fi

# 2. A user who may read the database but not write it (EACCES on the
# lock file too): run as nobody where the test runs as root.
if [ "$(id -u)" = 0 ]; then
	chmod -R a+rX,a-w "$T/snap"
	chmod a+x "$T"
	mkdir -p "$T/bin" "$T/nb"
	cp "$ROVED_BIN" "$T/bin/roved"
	chmod -R a+rx "$T/bin"
	chown 65534:65534 "$T/nb"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$T/bin/roved" backup "$T/snap" "$T/nb/copy" 2>"$T/err" ||
		fail "backup by a user who may only read: $(cat "$T/err")"
	# (checked by root in a copy of root's: root works only where root
	# alone controls the way, t_root_owned)
	cp -r "$T/nb/copy" "$T/nbcopy"
	copied "$T/nbcopy"
	eq "$(md5sum <"$T/snap/data.mdb")" "$sum" "the database read is unchanged"
	# A database this user may not read at all, and a backup directory
	# it may not make: refused, and the last line says why (not
	# "input/output error" or "storage error" after "Permission denied").
	mkdir "$T/closed"
	cp "$T/snap/data.mdb" "$T/closed/"
	chmod 700 "$T/closed"
	chmod 600 "$T/snap/data.mdb"
	for args in "check $T/closed" "backup $T/closed $T/nb/copy2" "check $T/snap" "backup $T/snap $T/nb/copy3" \
		"backup $T/nb/copy $T/closed/copy"; do
		rc=0
		# shellcheck disable=SC2086 # the words of args are the arguments
		setpriv --reuid=65534 --regid=65534 --clear-groups "$T/bin/roved" $args 2>"$T/err" || rc=$?
		eq "$rc" "1" "roved $args as a user without the permission"
		last=$(tail -n 1 "$T/err")
		case "$last" in
		*": permission denied by the file system") ;;
		*) fail "roved $args: the last line does not say why: $(cat "$T/err")" ;;
		esac
	done
	chmod 444 "$T/snap/data.mdb"
	# Compaction as that user: the first line says what was opened and
	# for what, not "DIR: Permission denied" alone.
	rc=0
	setpriv --reuid=65534 --regid=65534 --clear-groups "$T/bin/roved" compact "$T/snap" --keep-days 1 2>"$T/err" || rc=$?
	eq "$rc" "1" "roved compact as a user who may only read"
	grep -q "cannot open the database in '$T/snap' for writing: Permission denied" "$T/err" ||
		fail "roved compact: the refusal does not say what was opened: $(cat "$T/err")"
else
	echo "skipped: another user's database (the test does not run as root)"
fi
echo "ok"
