#!/usr/bin/env bash
# Sync over TLS (tls+tcp:// through nng's mbedtls engine): a replica that
# trusts the server's CA syncs; one with another CA, or none, does not.
. "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null || fail "openssl is needed to make test certificates"

# A CA, and a server certificate it signs for 127.0.0.1 (or for the
# host names given).
mkcert "$T/pki"
mkcert "$T/other"
# A certificate the trusted CA signs, but for another host.
mkcert "$T/elsewhere" DNS:hq.example.com
openssl x509 -req -in "$T/elsewhere/server.csr" -CA "$T/pki/ca.pem" -CAkey "$T/pki/ca.key" \
	-CAcreateserial -days 2 -extfile "$T/elsewhere/ext" -out "$T/elsewhere/server.pem" 2>/dev/null

server_init

# roved checks its certificate and key before it serves: a key that is
# not the certificate's (clients would only see a failed handshake), a
# file that holds no certificate or no key, an encrypted key, a file it
# cannot read, a missing option - each is a usage error (exit 2) that
# names the files, and nothing listens.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/ec.key" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -aes256 -pass pass:secret \
	-out "$T/locked.key" 2>/dev/null
echo "not a PEM file" >"$T/garbage.pem"
mkdir "$T/adir"
# serve_refused TEXT ARGS...: roved serve over TLS with ARGS exits 2
# within 10 s, saying TEXT.
serve_refused() {
	local text=$1 port status
	shift
	port=$(free_port)
	set +e
	timeout 10 "$ROVED_BIN" serve "$T/srv" --listen "tls+tcp://127.0.0.1:$port" "$@" >/dev/null 2>"$T/err"
	status=$?
	set -e
	eq "$status" "2" "roved serve $* ($(head -n 1 "$T/err"))"
	grep -qF -- "$text" "$T/err" || fail "roved serve $*: unclear: $(cat "$T/err")"
	! server_listening "tcp://127.0.0.1:$port" || fail "roved serve $*: something listens"
}
cert=$T/pki/server.pem
serve_refused "the TLS key '$T/other/server.key' does not match the certificate '$cert'" \
	--tls-cert "$cert" --tls-key "$T/other/server.key"
serve_refused "the TLS key '$T/ec.key' does not match the certificate '$cert'" --tls-cert "$cert" --tls-key "$T/ec.key"
serve_refused "the TLS key '$T/garbage.pem' holds no private key" --tls-cert "$cert" --tls-key "$T/garbage.pem"
serve_refused "the TLS key '$cert' holds no private key" --tls-cert "$cert" --tls-key "$cert"
serve_refused "the TLS key '$T/locked.key' is encrypted" --tls-cert "$cert" --tls-key "$T/locked.key"
serve_refused "the TLS certificate '$T/garbage.pem' holds no certificate" \
	--tls-cert "$T/garbage.pem" --tls-key "$T/pki/server.key"
serve_refused "the TLS certificate '$T/pki/server.key' holds no certificate" \
	--tls-cert "$T/pki/server.key" --tls-key "$T/pki/server.key"
serve_refused "cannot read the TLS key '$T/none.key': No such file or directory" \
	--tls-cert "$cert" --tls-key "$T/none.key"
serve_refused "cannot read the TLS certificate '$T/adir': Is a directory" --tls-cert "$T/adir" --tls-key "$T/pki/server.key"
serve_refused "needs --tls-cert and --tls-key" --tls-cert "$cert"
# A FIFO would block the read for good (nothing written to it).
mkfifo "$T/fifo.pem"
serve_refused "the TLS certificate '$T/fifo.pem' is not a regular file" --tls-cert "$T/fifo.pem" \
	--tls-key "$T/pki/server.key"
# A certificate given for a plain URL would be left unused, and the
# server would run without TLS: refused too.
port=$(free_port)
set +e
timeout 10 "$ROVED_BIN" serve "$T/srv" --listen "tcp://127.0.0.1:$port" --tls-cert "$cert" \
	--tls-key "$T/pki/server.key" >/dev/null 2>"$T/err"
status=$?
set -e
eq "$status" "2" "roved serve tcp:// with --tls-cert ($(head -n 1 "$T/err"))"
grep -qF "serve TLS only" "$T/err" || fail "roved serve tcp:// with --tls-cert: unclear: $(cat "$T/err")"
! server_listening "tcp://127.0.0.1:$port" || fail "roved serve tcp:// with --tls-cert: something listens"

# A free port: try a few random ones.
for _ in $(seq 1 20); do
	port=$((20000 + RANDOM % 12000)) # below the ports of outgoing connections
	URL="tls+tcp://127.0.0.1:$port"
	server_listening && continue # another process's: it would answer for ours
	"$ROVED_BIN" serve "$T/srv" --listen "$URL" --tls-cert "$T/pki/server.pem" \
		--tls-key "$T/pki/server.key" >>"$T/roved.log" 2>&1 &
	ROVED_PID=$!
	for _ in $(seq 1 100); do # listening, or gone (the port was taken)
		server_listening && break
		kill -0 "$ROVED_PID" 2>/dev/null || break
		sleep 0.05
	done
	server_listening && kill -0 "$ROVED_PID" 2>/dev/null && break
	kill "$ROVED_PID" 2>/dev/null || true
	ROVED_PID=
done
[ -n "$ROVED_PID" ] || fail "roved did not start with TLS"

rove -R "$T/admin" init --server "$URL" --user admin --token "$ADMIN_TOKEN" --ca "$T/pki/ca.pem" 2>/dev/null
rove -R "$T/admin" admin territory add east --name East >/dev/null
token=$(rove -R "$T/admin" admin user add alice --role rep --territory east)
rove -R "$T/alice" init --server "$URL" --user alice --token "$token" --ca "$T/pki/ca.pem" 2>/dev/null
id=$(rove -R "$T/alice" customer add --name "Over TLS Ltd")
eq "$(rove -R "$T/alice" sync --json | jq .accepted)" "1" "push over TLS"
rove -R "$T/admin" sync >/dev/null
eq "$(rove -R "$T/admin" customer show "$id" --json | jq -r .name)" "Over TLS Ltd" "pull over TLS"

# The wrong CA: the server is not trusted, nothing is sent, and it is
# said: a certificate problem (exit 1), not an unreachable server (3).
rove -R "$T/mallory" init --server "$URL" --user alice --token "$token" --ca "$T/other/ca.pem" 2>/dev/null
rove -R "$T/mallory" customer add --name "Never sent" >/dev/null
set +e
rove -R "$T/mallory" --timeout 5000 sync >/dev/null 2>"$T/err"
status=$?
set -e
eq "$status" "1" "sync against a certificate another CA signed"
grep -q "certificate is not trusted by the CA file '$T/other/ca.pem'" "$T/err" ||
	fail "unclear error for an untrusted certificate: $(cat "$T/err")"
grep -q "unreachable\|cannot reach" "$T/err" && fail "an untrusted certificate called unreachable: $(cat "$T/err")"
eq "$(rove -R "$T/mallory" status --json | jq .pending)" "1" "the untrusted sync kept the change"
# No CA at all: refused before connecting.
rove -R "$T/noca" init --server "$URL" --user alice --token "$token" 2>/dev/null
set +e
rove -R "$T/noca" sync 2>"$T/err"
eq "$?" "1" "tls without a CA"
set -e
grep -q "CA" "$T/err" || fail "unclear error: $(cat "$T/err")"
# $ROVE_TLS_CA supplies one.
eq "$(ROVE_TLS_CA="$T/pki/ca.pem" rove -R "$T/noca" sync --json | jq .pulled)" "3" "CA from the environment (territory, customer, history)"

# sync_to URL MS WANT WHAT: alice syncs with the server at URL, waiting
# at most MS; her exit status must be WANT; stderr is in $T/err.
sync_to() {
	local status
	rove -R "$T/alice" config server "$1" >/dev/null
	set +e
	rove -R "$T/alice" --timeout "$2" sync >/dev/null 2>"$T/err"
	status=$?
	set -e
	eq "$status" "$3" "$4"
}
# A certificate the CA signs for another host: exit 1, naming the host.
"$ROVED_BIN" init "$T/srv2" >/dev/null 2>&1
port2=$(free_port)
"$ROVED_BIN" serve "$T/srv2" --listen "tls+tcp://127.0.0.1:$port2" --tls-cert "$T/elsewhere/server.pem" \
	--tls-key "$T/elsewhere/server.key" >>"$T/roved.log" 2>&1 &
BG_PIDS+=($!)
wait_listening "tls+tcp://127.0.0.1:$port2" "$!" "the second roved"
sync_to "tls+tcp://127.0.0.1:$port2" 5000 1 "sync against a certificate for another host"
grep -q "certificate does not name the host '127.0.0.1'" "$T/err" ||
	fail "unclear error for a certificate of another host: $(cat "$T/err")"
grep -q "give the server a certificate with DNS:127.0.0.1 beside IP:127.0.0.1" "$T/err" ||
	fail "no way out given for a host by IP: $(cat "$T/err")"
# A plain tcp:// server dialled over TLS: exit 1, saying it speaks no TLS.
"$ROVED_BIN" init "$T/srv3" >/dev/null 2>&1
port3=$(free_port)
"$ROVED_BIN" serve "$T/srv3" --listen "tcp://127.0.0.1:$port3" >>"$T/roved.log" 2>&1 &
BG_PIDS+=($!)
wait_listening "tcp://127.0.0.1:$port3" "$!" "the plain roved"
sync_to "tls+tcp://127.0.0.1:$port3" 5000 1 "sync over TLS with a plain server"
grep -q "does not speak TLS" "$T/err" || fail "unclear error for a plain server: $(cat "$T/err")"
# The other way round: the TLS server dialled over plain tcp:// is no
# unreachable server either (exit 1, like the case above), said at once,
# with the URL to use.
t0=$(date +%s%N)
sync_to "tcp://127.0.0.1:$port" 5000 1 "sync over plain tcp:// with a TLS server"
ms=$(elapsed_ms "$t0")
grep -q "the server at tcp://127.0.0.1:$port speaks TLS: use tls+tcp://127.0.0.1:$port" "$T/err" ||
	fail "unclear error for a TLS server dialled over tcp://: $(cat "$T/err")"
grep -q "unreachable\|cannot reach" "$T/err" && fail "a TLS server called unreachable: $(cat "$T/err")"
[ "$ms" -lt 1000 ] || fail "a TLS server dialled over tcp:// took $ms ms to be told"
# A server of another protocol (HTTP) dialled over TLS: exit 1, saying the
# handshake never completes, not blaming the CA file.
port4=$(free_port)
mkdir -p "$T/www"
(cd "$T/www" && exec python3 -m http.server "$port4" --bind 127.0.0.1 >/dev/null 2>&1) &
BG_PIDS+=($!)
wait_for 20 "the HTTP server" bash -c "exec 2>/dev/null; exec 3<>/dev/tcp/127.0.0.1/$port4"
sync_to "tls+tcp://127.0.0.1:$port4" 5000 1 "sync over TLS with an HTTP server"
grep -q "does not complete a TLS handshake" "$T/err" || fail "unclear error for an HTTP server: $(cat "$T/err")"
grep -q "CA file" "$T/err" && fail "an HTTP server blamed on the CA file: $(cat "$T/err")"
# Nobody there at all: unreachable, exit 3.
sync_to "tls+tcp://127.0.0.1:$(free_port)" 2000 3 "sync with nobody listening"
grep -q "cannot reach" "$T/err" || fail "unclear error for an unreachable server: $(cat "$T/err")"
rove -R "$T/alice" config server "$URL" >/dev/null

# Clients that break off before the TLS handshake (a FIN, then a reset)
# do not stop the server from accepting (nng 1.5.2 bug 1518).
ROVE_PROBE_SOURCE=127.0.0.5 "$ROVE_RAW" "tcp://127.0.0.1:$port" abort 50 >/dev/null
rove -R "$T/alice" sync >/dev/null || fail "the TLS server stopped accepting after broken handshakes"
echo "ok"
