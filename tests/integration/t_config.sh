#!/usr/bin/env bash
# rove config [KEY [VALUE]]: a replica's server, token and CA file, shown
# (the token masked but for its last 4 characters), read one at a time,
# and changed; server URLs and tokens are checked, by rove init too.
. "$(dirname "$0")/lib.sh"

server_setup
territory east.sh
user_replica alice rep east.sh
r alice sync >/dev/null
tok=$(token_of alice)

# status_is STATUS ARGS...: rove ARGS exits STATUS; stderr in $T/err,
# stdout in $T/out.
status_is() {
	local want=$1 status
	shift
	set +e
	rove "$@" >"$T/out" 2>"$T/err"
	status=$?
	set -e
	eq "$status" "$want" "'rove $*' exit status ($(cat "$T/err"))"
}

# --- rove init checks the server URL and the token ---
bad_urls=("" "hq.example:7411" "http://hq.example:7411" "tcp://hq.example" "tcp://:7411" "tcp://hq.example:"
	"tcp://hq.example:0" "tcp://hq.example:65536" "tcp://hq.example:74x1" "tcp://hq example:7411"
	"tcp://hq.example:7411/path" "tls+tcp://hq.example" "ipc://" "tcp://[::1:7411"
	"ipc:///$(printf 'p%.0s' $(seq 1 120))" "ipc://rove.sock" "ipc://run/rove.sock" "tcp://0.0.0.0:7411"
	"tls+tcp://0.0.0.0:7411" "tcp://0:7411" "tcp://[::]:7411" "tcp://[0:0::0]:7411")
for u in "${bad_urls[@]}"; do
	status_is 2 -R "$T/bad" init --server "$u" --user alice --token "$tok"
	grep -q "server URL" "$T/err" || fail "init --server '$u': unclear error: $(cat "$T/err")"
	[ ! -e "$T/bad/data.mdb" ] || fail "init --server '$u' created a replica"
done
for t in "short" "$(printf 'g%.0s' $(seq 1 64))" "${tok}0" " ${tok:1}"; do
	status_is 2 -R "$T/bad" init --server "$URL" --user alice --token "$t"
	grep -q "64 hex" "$T/err" || fail "init --token '$t': unclear error: $(cat "$T/err")"
done
[ ! -e "$T/bad/data.mdb" ] || fail "a bad init created a replica"
for u in "tcp://127.0.0.1:7411" "tcp://hq.example.com:1" "tls+tcp://hq.example:65535" "tcp://[::1]:7411" \
	"ipc:///run/rove.sock"; do
	rm -rf "$T/good"
	status_is 0 -R "$T/good" init --server "$u" --user alice --token "$tok"
done

# --- show ---
status_is 0 -R "$T/alice" config
masked="$(printf '*%.0s' $(seq 1 60))${tok: -4}"
eq "$(cat "$T/out")" "server: $URL
token: $masked
ca: (none)" "rove config"
if grep -q "${tok:0:20}" "$T/out"; then fail "the token is shown"; fi
status_is 0 -R "$T/alice" config --json
eq "$(jq -c . "$T/out")" "{\"server\":\"$URL\",\"token\":\"$masked\",\"ca\":null}" "rove config --json"
status_is 0 -R "$T/alice" config server
eq "$(cat "$T/out")" "$URL" "rove config server"
status_is 0 -R "$T/alice" config token
eq "$(cat "$T/out")" "$masked" "rove config token"
status_is 0 -R "$T/alice" config ca
eq "$(cat "$T/out")" "" "rove config ca (none)"

# --- usage errors and bad values change nothing ---
status_is 2 -R "$T/alice" config user
status_is 2 -R "$T/alice" config server tcp://a:1 extra
status_is 2 -R "$T/alice" config server "http://hq.example:7411"
grep -q "server URL" "$T/err" || fail "unclear error: $(cat "$T/err")"
status_is 2 -R "$T/alice" config token "$(printf 'g%.0s' $(seq 1 64))"
grep -q "64 hex" "$T/err" || fail "unclear error: $(cat "$T/err")"
status_is 2 -R "$T/alice" config ca "$T/no-such.pem"
status_is 1 -R "$T/none" config
grep -q "no replica" "$T/err" || fail "unclear error: $(cat "$T/err")"
eq "$(rove -R "$T/alice" config server)" "$URL" "the server is unchanged"
r alice sync >/dev/null # and the token

# --- change: a wrong token fails the sync; the right one again works ---
r alice customer add --name "Made with the old token" >/dev/null
status_is 0 -R "$T/alice" config token "$(printf 'f%.0s' $(seq 1 64))"
eq "$(rove -R "$T/alice" config token)" "$(printf '*%.0s' $(seq 1 60))ffff" "the new token"
status_is 1 -R "$T/alice" sync
grep -q "authentication failed" "$T/err" || fail "sync with a wrong token: $(cat "$T/err")"
status_is 0 -R "$T/alice" config token "${tok^^}"
eq "$(rove -R "$T/alice" sync --json | jq .accepted)" "1" "synced with the token set again (upper case)"
# The server: another address of the same server.
status_is 0 -R "$T/alice" config server "tcp://127.0.0.1:1"
status_is 3 -R "$T/alice" sync
status_is 0 -R "$T/alice" config server "$URL"
r alice sync >/dev/null
# The CA file: kept as an absolute path; cleared with an empty value.
printf -- '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' >"$T/ca.pem"
status_is 2 -R "$T/alice" config ca /etc/passwd
grep -q "holds no PEM certificate" "$T/err" || fail "a file that is no CA: $(cat "$T/err")"
# A directory is said to be one (as roved says of its TLS files), by
# rove config and rove init alike.
mkdir "$T/cadir"
status_is 2 -R "$T/alice" config ca "$T/cadir"
grep_q -F "cannot read the CA file '$T/cadir': Is a directory" "$T/err" || fail "a directory as the CA file: $(cat "$T/err")"
status_is 2 -R "$T/cadir-replica" init --server "$URL" --user alice --token "$tok" --ca "$T/cadir"
grep_q -F "cannot read the CA file '$T/cadir': Is a directory" "$T/err" || fail "init --ca DIR: $(cat "$T/err")"
[ ! -e "$T/cadir-replica" ] || fail "init --ca DIR made a replica"
(cd "$T" && rove -R "$T/alice" config ca ca.pem)
eq "$(rove -R "$T/alice" config ca)" "$T/ca.pem" "the CA file, absolute"
status_is 0 -R "$T/alice" config ca ""
eq "$(rove -R "$T/alice" config ca)" "" "the CA file cleared"
r alice sync >/dev/null
echo "ok"
