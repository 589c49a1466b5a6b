#!/usr/bin/env bash
# Idle SP connections from several addresses, each under the cap per
# address, fill the cap on connections in all, and the attacker connects
# again whenever one is cut. A rep's sync must still get in: with every
# connection in use, a newcomer takes the place of the one that waited
# longest without logging in; connections that logged in are kept.
. "$(dirname "$0")/lib.sh"

# syncs_in USER: of five syncs of USER's replica 0.3 s apart, how many got
# in (each failure said on stderr).
syncs_in() {
	local ok=0 n
	for n in 1 2 3 4 5; do
		if r "$1" --timeout 3000 sync >/dev/null 2>"$T/err"; then
			ok=$((ok + 1))
		else
			echo "$1's sync $n failed: $(cat "$T/err")" >&2
		fi
		sleep 0.3
	done
	echo "$ok"
}

port=$(free_port)
URL="tcp://127.0.0.1:$port"
server_init
ROVED_ARGS="--max-connections 16" server_start
admin_replica
territories east
users wang:rep:east
r wang sync >/dev/null
r admin sync >/dev/null

# The attacker: 40 connections from 127.0.0.2-5 (10 each) that finish the
# SP handshake and then send nothing, reconnecting whatever is cut, for
# 8 s, at most 500 connects a second; it prints how many it opened.
python3 - "$port" 40 8 >"$T/attack" 2>&1 <<'PY' &
import select, socket, sys, time
port, target, dur = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
HS = bytes.fromhex('0053500000300000')  # SP handshake, protocol REQ
ep = select.epoll(); socks = {}; k = 0; opened = 0; t0 = time.time()
while time.time() - t0 < dur:
    while len(socks) < target and opened < (time.time() - t0) * 500:  # <= 500 connects/s
        s = socket.socket(); s.setblocking(False)
        s.bind(('127.0.0.%d' % (2 + k % 4), 0)); k += 1
        try:
            s.connect(('127.0.0.1', port))
        except BlockingIOError:
            pass
        socks[s.fileno()] = s; opened += 1
        ep.register(s.fileno(), select.EPOLLOUT | select.EPOLLRDHUP)
    for fd, ev in ep.poll(0.02):
        s = socks.get(fd)
        if s is None:
            continue
        if ev & (select.EPOLLRDHUP | select.EPOLLHUP | select.EPOLLERR):
            ep.unregister(fd); socks.pop(fd).close(); continue
        if ev & select.EPOLLOUT:
            try:
                s.send(HS)
            except OSError:
                pass
            ep.modify(fd, select.EPOLLIN | select.EPOLLRDHUP)
        elif ev & select.EPOLLIN:
            try:
                s.recv(64)
            except OSError:
                pass
print('opened %d' % opened)
PY
attack=$!
BG_PIDS+=($attack)
sleep 2
# The cap is full (16 of the attacker's 40 get in, the rest are refused
# or cut and come back): syncs from another address still get in.
eq "$(syncs_in wang)" 5 "syncs that got in while idle connections filled the cap"
grep -q "make room" "$T/roved.log" || fail "the cap was never full: $(tail -n 3 "$T/roved.log")"
wait "$attack" || true
echo "attacker: $(cat "$T/attack"); roved: $(grep -c 'make room' "$T/roved.log") line(s) on making room" >&2

# One user's token on every connection (attack seventy-four: 20 of 20
# held by one rep, pulling every 0.5 s, and every other sync failed):
# a user holds at most a quarter of the connections (4 of 16 here), the
# least recently used of the rest cut; another user's syncs get in.
python3 - "$port" 16 8 "$(token_of wang)" >"$T/attack2" 2>&1 <<'PY' &
import socket, struct, sys, time
port, n, dur, token = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
def s(x):
    b = x.encode()
    return (bytes([0xa0 | len(b)]) if len(b) < 32 else b'\xd9' + bytes([len(b)])) + b
def bn(b):
    return b'\xc4' + bytes([len(b)]) + b
# a PULL (PROTOCOL.md) with wang's token
m = (b'\x9f\x03\x04' + s('wang') + s(token) + bn(b'\0' * 16) + b'\x00\x00' + bn(b'') + b'\x00\xcd\x03\xe8\x00' +
     bn(b'\0' * 16) + bn(b'\0' * 16) + b'\x00\xc2')
def frame(i):
    body = struct.pack('>I', 0x80000000 | i) + m
    return struct.pack('>Q', len(body)) + body
socks, k, cut = [], 1, 0
end = time.time() + dur
while time.time() < end:
    while len(socks) < n:  # the slots, taken again as they are cut
        try:
            c = socket.create_connection(('127.0.0.1', port), timeout=2)
            c.sendall(bytes.fromhex('0053500000300000'))
            c.setblocking(False)
            socks.append(c)
        except OSError:
            break
    for c in list(socks):
        try:
            c.send(frame(k))
            k += 1
            while c.recv(65536):
                pass
            cut += 1  # end of stream: cut
            socks.remove(c)
            c.close()
        except BlockingIOError:
            pass
        except OSError:
            cut += 1
            socks.remove(c)
            c.close()
    time.sleep(0.5)
print('cut', cut)
PY
attack=$!
BG_PIDS+=("$attack")
sleep 2
eq "$(syncs_in admin)" 5 "another user's syncs while one user's token held every connection"
grep -q "connection(s) of users holding too many at once" "$T/roved.log" || fail "no user's connections cut: $(tail -n 3 "$T/roved.log")"
wait "$attack" || true
echo "one user: $(cat "$T/attack2")" >&2
echo ok
