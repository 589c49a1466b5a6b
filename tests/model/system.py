"""The real system: roved and rove processes, driven through their CLIs.

Every process started here is tracked and stopped by Procs.stop_all(),
which the harness calls on any exit (failure, Ctrl-C, success).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time

FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


class HarnessError(Exception):
    """The harness itself could not go on (not a finding about rove)."""


def faketime_sweep():
    """libfaketime 0.9.10 makes a shared memory object and a semaphore
    named after its process's pid, which a SIGKILLed process leaves behind;
    a later process given the same pid then fails to start ("shm_open
    failed: File exists"). Removes those of processes that are gone."""
    try:
        names = os.listdir("/dev/shm")
    except OSError:
        return
    for name in names:
        for prefix in ("faketime_shm_", "sem.faketime_sem_"):
            pid = name[len(prefix):]
            if name.startswith(prefix) and pid.isdigit() and not os.path.exists("/proc/" + pid):
                try:
                    os.unlink(os.path.join("/dev/shm", name))
                except OSError:
                    pass


def faketime_env(offset, base=None, server=False):
    """Environment that runs a binary offset from the real clock
    (libfaketime, e.g. "-40d", "+4m"); None for the real clock.
    A client's monotonic clocks stay true, as a laptop's do (rove's
    clock lead rests on CLOCK_BOOTTIME). A server's are moved too:
    with FAKETIME_DONT_FAKE_MONOTONIC libfaketime (0.9.10) ends every
    timed wait on a CLOCK_MONOTONIC condition variable at once, and a
    long-lived roved's timer threads would spin (tests/integration/
    lib.sh, server_start_at)."""
    env = dict(base if base is not None else os.environ)
    if not offset:
        return env
    faketime_sweep()
    if not os.path.exists(FAKETIME_LIB):
        raise HarnessError("libfaketime is missing (%s): install the Debian package "
                           "libfaketime (scripts/deps does)" % FAKETIME_LIB)
    env["LD_PRELOAD"] = FAKETIME_LIB
    env["FAKETIME"] = offset
    if server:
        env.pop("FAKETIME_DONT_FAKE_MONOTONIC", None)
    else:
        env["FAKETIME_DONT_FAKE_MONOTONIC"] = "1"
    # Under ASan the faketime library comes first in the link order.
    asan = env.get("ASAN_OPTIONS", "")
    # without the allocator's release to the OS, which reads the clock
    # under its lock: libfaketime's lookup there deadlocks (lib.sh,
    # faketime_asan)
    env["ASAN_OPTIONS"] = (asan + ":" if asan else "") + \
        "verify_asan_link_order=0:allocator_release_to_os_interval_ms=-1"
    return env


class Procs:
    """Every background process the harness started."""

    def __init__(self):
        self.live = set()

    def spawn(self, args, **kw):
        p = subprocess.Popen(args, **kw)
        self.live.add(p)
        return p

    def reap(self, p):
        self.live.discard(p)

    def stop_all(self):
        for p in list(self.live):
            if p.poll() is None:
                try:
                    p.send_signal(signal.SIGTERM)
                    p.wait(timeout=3)
                except Exception:
                    p.kill()
                    p.wait()
            self.live.discard(p)


class Server:
    """One roved: its database directory, its ipc:// socket, its clock."""

    def __init__(self, roved, tmp, procs):
        self.roved = roved
        self.dir = os.path.join(tmp, "srv")
        self.sock = os.path.join(tmp, "roved.sock")
        self.url = "ipc://" + self.sock
        self.log = os.path.join(tmp, "roved.log")
        self.procs = procs
        self.p = None
        self.offset = None  # faketime offset of the running roved
        self.offset_days = 0
        self.max_offset_days = 0  # the furthest ahead it ever ran
        self.extra_env = {}  # for every start (ROVE_RELISTENS with the relisten fault)

    def init(self):
        r = subprocess.run([self.roved, "init", self.dir, "--admin", "admin"],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0 or len(r.stdout.strip()) != 64:
            raise HarnessError("roved init failed: %s" % r.stderr.strip())
        return r.stdout.strip()

    def start(self, offset=None, days=0):
        assert self.p is None
        if os.path.exists(self.sock):
            os.unlink(self.sock)  # left behind by a SIGKILL
        self.offset, self.offset_days = offset, days
        self.max_offset_days = max(self.max_offset_days, days)
        logf = open(self.log, "ab")
        env = faketime_env(offset, server=True)
        env.update(self.extra_env)
        self.p = self.procs.spawn([self.roved, "serve", self.dir, "--listen", self.url],
                                  stdout=logf, stderr=logf, env=env)
        logf.close()
        for _ in range(200):
            # The socket's file appears when roved binds it, a moment
            # before it listens: a connection taken is the sign.
            if os.path.exists(self.sock) and self.accepts():
                return
            if self.p.poll() is not None:
                self.procs.reap(self.p)
                self.p = None
                raise HarnessError("roved exited at start (see %s)" % self.log)
            time.sleep(0.025)
        raise HarnessError("roved did not start listening")

    def accepts(self):
        """Whether roved takes a connection: a whole SP handshake (REQ to
        REP), then a close. A connection closed before the server's
        header arrives is what stops nng 1.5.2's accept loop (its bug
        1518, docs/SECURITY.md): the check must not be that."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as so:
            so.settimeout(5)
            try:
                so.connect(self.sock)
                so.sendall(b"\x00SP\x00\x00\x30\x00\x00")
                got = b""
                while len(got) < 8:
                    part = so.recv(8 - len(got))
                    if not part:
                        return False
                    got += part
                return got[:4] == b"\x00SP\x00"
            except OSError:
                return False

    def bare_closes(self, n):
        """n connections to roved's socket, each closed at once, having
        sent nothing: what can stop nng 1.5.2's accept loop for good
        (docs/SECURITY.md)."""
        for _ in range(n):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as so:
                try:
                    so.connect(self.sock)
                except OSError:
                    pass

    def log_count(self, text):
        """How many lines of roved's log hold text."""
        with open(self.log, "rb") as f:
            return sum(1 for line in f if text.encode() in line)

    def stop(self, sig=signal.SIGTERM):
        """Stops roved; returns its exit status (None after SIGKILL)."""
        if self.p is None:
            return 0
        self.p.send_signal(sig)
        try:
            rc = self.p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
        self.procs.reap(self.p)
        self.p = None
        return None if sig == signal.SIGKILL else rc

    def compact(self, keep_days):
        """roved compact while it serves, under the server's own clock;
        returns (exit status, stderr)."""
        r = subprocess.run([self.roved, "compact", self.dir, "--keep-days", str(keep_days)],
                           capture_output=True, text=True, timeout=120,
                           env=faketime_env(self.offset, server=True))
        return r.returncode, r.stderr

    def stored_clock_ms(self):
        """The milliseconds of the clock roved stores with its writes (meta
        "clock": a hybrid logical clock, 48 bits of milliseconds and a
        16-bit counter, big-endian), read with mdb_dump."""
        r = subprocess.run(["mdb_dump", "-s", "meta", self.dir], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise HarnessError("mdb_dump of meta failed (lmdb-utils: scripts/deps): %s" % r.stderr.strip())
        lines = [l.strip() for l in r.stdout.split("HEADER=END\n", 1)[-1].splitlines() if l.strip() != "DATA=END"]
        for k, v in zip(lines[0::2], lines[1::2]):
            if bytes.fromhex(k) == b"clock" and len(v) == 16:
                return int(v, 16) >> 16
        raise HarnessError("roved's database stores no clock")

    def held_records(self):
        """The ids (canonical UUID text) of every record in the database's
        records table, read with mdb_dump while roved serves. Its keys are
        a collection byte and the record's 16-byte id."""
        r = subprocess.run(["mdb_dump", "-s", "records", self.dir], capture_output=True, text=True,
                           timeout=120)
        if r.returncode != 0:
            raise HarnessError("mdb_dump of records failed (lmdb-utils: scripts/deps): %s" % r.stderr.strip())
        lines = r.stdout.split("HEADER=END\n", 1)[-1].splitlines()
        ids = set()
        for key in lines[0::2]:
            key = key.strip()
            if len(key) != 34:
                continue
            h = key[2:]
            ids.add("%s-%s-%s-%s-%s" % (h[0:8], h[8:12], h[12:16], h[16:20], h[20:32]))
        return ids

    def copy_to(self, dest):
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(self.dir, dest)

    def restore_from(self, src):
        shutil.rmtree(self.dir)
        shutil.copytree(src, self.dir)

    def log_tail(self, n=15):
        try:
            with open(self.log, "rb") as f:
                return b"".join(f.readlines()[-n:]).decode("utf-8", "replace")
        except OSError:
            return ""


def pg_bindir():
    """The newest PostgreSQL server's binaries (Debian's layout), or None."""
    try:
        vers = sorted(os.listdir("/usr/lib/postgresql"), key=lambda v: [int(x) for x in v.split(".") if x.isdigit()])
    except OSError:
        return None
    for v in reversed(vers):
        d = os.path.join("/usr/lib/postgresql", v, "bin")
        if os.access(os.path.join(d, "initdb"), os.X_OK):
            return d
    return None


class PgServer:
    """A real PostgreSQL for rove feed: its own cluster under tmp, on a
    unix socket only (no port), owned by nobody when the harness runs
    as root (PostgreSQL refuses root), fsync off."""

    def __init__(self, bindir, tmp, procs):
        self.bin = bindir
        self.dir = os.path.join(tmp, "pg")
        self.procs = procs
        self.p = None
        self.conninfo = "host=%s port=5432 user=rove dbname=hq" % self.dir

    def _as_pg(self, args):
        if os.geteuid() == 0:
            return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"] + args
        return args

    def start(self):
        os.makedirs(self.dir)
        if os.geteuid() == 0:
            os.chmod(os.path.dirname(self.dir), 0o711)  # nobody walks through to its own directory
            shutil.chown(self.dir, "nobody", "nogroup")
        r = subprocess.run(self._as_pg([os.path.join(self.bin, "initdb"), "-D", os.path.join(self.dir, "data"),
                                        "-U", "rove", "--auth=trust", "-E", "UTF8", "--no-locale"]),
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise HarnessError("initdb failed: %s" % (r.stdout + r.stderr).strip()[-1500:])
        log = open(os.path.join(self.dir, "pg.log"), "ab")
        self.p = self.procs.spawn(self._as_pg([
            os.path.join(self.bin, "postgres"), "-D", os.path.join(self.dir, "data"), "-p", "5432",
            "-k", self.dir, "-c", "listen_addresses=", "-c", "fsync=off", "-c", "full_page_writes=off",
            "-c", "shared_buffers=32MB"]), stdout=log, stderr=log)
        log.close()
        for _ in range(400):
            if subprocess.run([os.path.join(self.bin, "pg_isready"), "-q", "-h", self.dir, "-p", "5432"]).returncode == 0:
                break
            if self.p.poll() is not None:
                raise HarnessError("postgres exited at start: %s" % self.log_tail())
            time.sleep(0.05)
        else:
            raise HarnessError("postgres did not start: %s" % self.log_tail())
        self.psql("postgres", "CREATE DATABASE hq")

    def log_tail(self):
        try:
            with open(os.path.join(self.dir, "pg.log"), errors="replace") as f:
                return "".join(f.readlines()[-15:])
        except OSError:
            return ""

    def psql(self, db, sql):
        """One statement's result, unaligned, tuples only."""
        r = subprocess.run([os.path.join(self.bin, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-A", "-t",
                            "-h", self.dir, "-p", "5432", "-U", "rove", "-d", db, "-c", sql],
                           capture_output=True, text=True, timeout=120, env=dict(os.environ, PGTZ="UTC"))
        if r.returncode != 0:
            raise HarnessError("psql %s: %s" % (sql[:80], r.stderr.strip()))
        return r.stdout

    def stop(self):
        if self.p is not None and self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)  # a fast shutdown
            try:
                self.p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        if self.p is not None:
            self.procs.reap(self.p)
        self.p = None


class Result:
    def __init__(self, args, rc, out, err, secs):
        self.args, self.rc, self.out, self.err, self.secs = args, rc, out, err, secs

    def json(self):
        try:
            return json.loads(self.out)
        except ValueError:
            raise HarnessError("rove %s printed no JSON: %r / %r" %
                               (" ".join(self.args), self.out[:300], self.err[:300]))

    def cmd(self):
        return "rove " + " ".join(self.args)


class LossyLink:
    """An ipc:// proxy between a replica and roved that loses connections,
    as a phone's link does: each of the first `lossy` connections is cut
    (both ends closed) once the server sent it a number of bytes, or the
    client a number, drawn from rng (after the 8-byte SP greetings: a
    broken greeting is the relisten fault's). Later connections pass
    whole, so a sync that retries gets through. cuts: how many it cut.
    With `stall` seconds, each of those connections is instead held that
    long, once, before a chunk of the client's or the server's bytes goes
    on (a link too slow for rove's --timeout: a push the server applies
    after rove gave up on it, a pull answer that comes too late); stalls:
    how many it held."""

    GREETING = 8

    def __init__(self, path, target, rng, lossy, stall=0.0):
        self.path, self.target, self.rng, self.lossy = path, target, rng, lossy
        self.stall = stall
        self.stalls = 0
        self.cuts = 0
        self.n = 0
        self.stop = False
        self.lock = threading.Lock()
        if os.path.exists(path):
            os.unlink(path)
        self.ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.ls.bind(path)
        self.ls.listen(16)
        self.ls.settimeout(0.1)
        self.threads = [threading.Thread(target=self.serve, daemon=True)]
        self.threads[0].start()

    def plan(self):
        """(direction, bytes) for the next connection, or None: whole."""
        with self.lock:
            self.n += 1
            if self.n > self.lossy:
                return None
            k = self.rng.choice([self.rng.randint(0, 64), self.rng.randint(0, 2000), self.rng.randint(0, 40000)])
            return (self.rng.choice(["down", "down", "up"]), self.GREETING + k,
                    "stall" if self.stall > 0 else "cut")

    def serve(self):
        while not self.stop:
            try:
                c, _ = self.ls.accept()
            except (socket.timeout, OSError):
                continue
            t = threading.Thread(target=self.pump, args=(c, self.plan()), daemon=True)
            self.threads.append(t)
            t.start()

    def pump(self, c, plan):
        import select
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(self.target)
        except OSError:
            c.close()
            return
        sent = {"down": 0, "up": 0}
        try:
            while not self.stop:
                r, _, _ = select.select([c, s], [], [], 0.1)
                for src in r:
                    way, dst = ("up", s) if src is c else ("down", c)
                    data = src.recv(16384)
                    if not data:
                        return
                    if plan is not None and plan[0] == way and sent[way] + len(data) >= plan[1]:
                        if plan[2] == "stall":
                            # held once, then passed on (the other end
                            # may have given up meanwhile)
                            with self.lock:
                                self.stalls += 1
                            time.sleep(self.stall)
                            plan = None
                        else:
                            dst.sendall(data[:plan[1] - sent[way]])
                            with self.lock:
                                self.cuts += 1
                            return
                    dst.sendall(data)
                    sent[way] += len(data)
        except OSError:
            return
        finally:
            for x in (c, s):
                try:
                    x.close()
                except OSError:
                    pass

    def close(self):
        self.stop = True
        for t in self.threads:
            t.join(timeout=5)
        self.ls.close()
        if os.path.exists(self.path):
            os.unlink(self.path)


# What rove says of a replica file whose pending changes it finds damaged
# or lost. Where nothing damages a file (the model's and the orphan hunt's
# runs), any of it is a false alarm: a change called lost that was not
# (attack ninety-one) or a check of the view copies that misreads a sound
# replica.
DAMAGE_WORDS = ("(damaged)", "the change lost was to", "the changes lost were to")


def damage_said(err):
    """The first line of err saying a pending change was damaged or lost."""
    for line in err.splitlines():
        if any(w in line for w in DAMAGE_WORDS):
            return line
    return None


class Replica:
    """One user's laptop: a rove replica directory and its clock."""

    def __init__(self, rove, tmp, login, procs):
        self.rove = rove
        self.login = login
        self.dir = os.path.join(tmp, "r-" + login)
        self.procs = procs
        self.offset = None  # faketime offset of this laptop's clock
        self.offset_days = 0

    def env(self, extra=None):
        e = faketime_env(self.offset)
        if e.get("ROVE_SANITIZED") == "1":
            # One-shot commands run without LeakSanitizer's check at exit,
            # as in the integration tests (tests/integration/lib.sh, rove):
            # roved keeps it.
            asan = e.get("ASAN_OPTIONS", "")
            e["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "detect_leaks=0"
        if extra:
            e.update(extra)
        return e

    def run(self, *args, input=None, timeout=120, extra_env=None):
        argv = [self.rove, "-R", self.dir] + list(args)
        t0 = time.monotonic()
        r = subprocess.run(argv, capture_output=True, text=True, input=input,
                           timeout=timeout, env=self.env(extra_env))
        # rove's fault handler turns a SIGSEGV, SIGBUS or SIGABRT (an
        # assertion) into exit 1 with a word on the replica's damage:
        # nothing here damages a replica, so it is rove's own fault.
        if "rove: stopped on a fault" in r.stderr:
            raise HarnessError("rove %s (as %s) stopped on a fault: %s" % (
                " ".join(args), self.login, r.stderr.strip()[-1500:]))
        if damage_said(r.stderr):
            raise HarnessError("rove %s (as %s) said a sound replica damaged: %s" % (
                " ".join(args), self.login, damage_said(r.stderr)))
        return Result(list(args), r.returncode, r.stdout, r.stderr, time.monotonic() - t0)

    def ok(self, *args, **kw):
        r = self.run(*args, **kw)
        if r.rc != 0:
            raise HarnessError("%s (as %s) failed with %d: %s" % (r.cmd(), self.login, r.rc,
                                                                  r.err.strip()))
        return r

    def spawn_sync(self, extra_env, timeout_ms=20000):
        # A generous timeout: a loaded machine (CI runs tests side by side)
        # must not pass for a stuck sync.
        argv = [self.rove, "-R", self.dir, "--timeout", str(timeout_ms), "sync", "--json"]
        return self.procs.spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=self.env(extra_env))
