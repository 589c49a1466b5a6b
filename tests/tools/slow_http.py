#!/usr/bin/env python3
"""slow_http.py PORT N SILENT HOLD PATH HOST: a slowloris on 127.0.0.1:PORT.

SILENT connections that send nothing, then N that send a request's first
line (GET PATH) and Host, then a header line a second, all held HOLD
seconds. Prints 'silent K' once the silent ones are open, 'open K' once
all are (a server out of descriptors stops completing connections: the
count says how many), and at the end 'alive K': how many the server has
not closed. Used by t_ui_hostile and t_metrics_hostile.
"""
import resource
import socket
import sys
import time

resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
port, n, silent, hold = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
first = b'GET %s HTTP/1.1\r\nHost: %s\r\n' % (sys.argv[5].encode(), sys.argv[6].encode())
socks = []
for i in range(n + silent):
    if i == silent:
        print('silent', len(socks), flush=True)
    try:
        s = socket.create_connection(('127.0.0.1', port), timeout=1)
        if i >= silent:
            s.sendall(first)
    except OSError:
        break
    s.setblocking(False)
    socks.append(s)
print('open', len(socks), flush=True)


def alive(s):
    """Not closed by the server (what it said before closing aside)."""
    try:
        while s.recv(65536) != b'':
            pass
        return False
    except BlockingIOError:
        return True
    except OSError:
        return False


t0 = time.time()
while time.time() - t0 < hold:
    time.sleep(1)
    for s in socks[silent:]:
        try:
            s.send(b'X-a: b\r\n')
        except OSError:
            pass
print('alive', sum(alive(s) for s in socks), flush=True)
