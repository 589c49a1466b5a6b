#!/usr/bin/env python3
"""rove's randomised hunt of damaged replica files.

A laptop's disk flips bits, a copy is cut, a crash tears a page: LMDB
keeps no checksum of its pages, so a replica's file can hold anything
(rove keeps one of each pending change, the outbox's sums). One rep's
replica, with customers synced and changes pending, is damaged at random
(1 to 40 bits flipped anywhere past the meta pages, a seed per trial),
and then the commands a rep runs are run on it, against a fresh copy of
the server each time: status, a search, pending, a report, sync, sync
--repair twice, status and a last sync. What must hold, whatever the
damage:

  (1) no command dies of a signal: rove's own fault handler turns a
      SIGSEGV, SIGBUS or SIGABRT (LMDB writing through a damaged page
      damages the heap, which malloc then finds) into exit 1 with a
      message naming 'rove sync --repair' (in a sanitized build, which
      has no such handler, a sanitizer's report of a fault reading the
      file counts so); none runs past its timeout, none reports another
      memory error to the sanitizers;
  (2) after the repairs the last sync succeeds, or says what the user
      must do: a setting to set anew ('rove config', done here, then
      the sync must succeed) or a new replica ('rove init': what makes
      the replica itself is gone);
  (3) once it succeeded: nothing is left pending, and each change that
      was pending reached the server with the values it was made with,
      or was refused (listed by 'rove rejected'), or was said lost
      ("could not be read", "did not decode"); the server holds no
      customer of the rep's that the rep never made (a change altered
      on the disk arrived under another id). Before the outbox's sums,
      a change whose stored bytes a flip altered could arrive altered,
      or be taken for answered and settled unsent, without a word; a
      record named as one whose change was lost is one the server lacks
      (unless the change was said sent before, maybe held there);
  (4) the replica then holds what the server holds for the rep: its
      customers are the server's customers owned by the rep.

The hunt found what the replica's own tests did not: see
docs/RELIABILITY.md, "Damaged replica files".

With --main-tree, each trial flips one bit of the main tree's page (the
file's list of tables: the page's header, its node places, each table's
node and record), which one bit can make lose a whole table; a pending
change lost, said or not, or a new replica, is then a failure too: one
bit there leaves every pending change's page whole.

  damage_hunt.py [--seed S] [--trials N] [--also S,S...] [--main-tree] [--keep] [-v]

Trial i damages with seed S + i; --also runs those seeds after them (the
seeds that once found something: CTest's list, env
ROVE_DAMAGE_HUNT_ALSO). Binaries: env ROVE_BIN, ROVED_BIN.
Exit status 0: every check held; 1: a check failed (the trial's seed to
replay); 2: usage; 4: the harness itself failed.
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from system import HarnessError, Procs, Server  # noqa: E402

PAGE = 4096
SYNCED = 150  # customers the rep synced before the damage
PENDING = 30  # customers the rep made since, pending
TIMEOUT = 90  # seconds a command may take
SANITIZER = re.compile(r"AddressSanitizer|UndefinedBehaviorSanitizer|LeakSanitizer|runtime error:")
# A fault reading the file, as the sanitizers' runtime reports it (rove's
# own handler is not installed in their build): LMDB is not instrumented.
SANITIZER_FAULT = re.compile(r"AddressSanitizer: (SEGV|BUS) on unknown address")
FAULT_SAID = "'rove sync --repair'"
LOST_SAID = [re.compile(r"about (\d+) pending change\S* of this replica could not be read"),
             re.compile(r"(\d+) pending change\S* of this replica did not decode"),
             re.compile(r"(\d+) pending change\S* of this replica (?:is|are) gone from its file")]
LOST_UNCOUNTED = "some pending changes of this replica may not have been read"
# The records of lost changes, named (each must be one the server lacks,
# unless one sent before the damage was said to be maybe there).
LOST_NAMED = re.compile(r"the changes? lost (?:was|were) to (.*?): see what this replica holds")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MAYBE_SENT = "had been sent before: the server may hold"
COMMANDS = [["status"], ["customer", "list", "--search", "x"], ["pending"], ["report", "pipeline"],
            ["sync"], ["sync", "--repair"], ["sync", "--repair"], ["status", "--json"]]


class Finding(Exception):
    pass


class Hunt:
    def __init__(self, verbose, keep):
        self.verbose, self.keep = verbose, keep
        self.rove = os.environ.get("ROVE_BIN")
        self.roved = os.environ.get("ROVED_BIN")
        if not self.rove or not self.roved:
            raise HarnessError("set ROVE_BIN and ROVED_BIN")
        self.sanitized = os.environ.get("ROVE_SANITIZED") == "1"
        self.tmp = tempfile.mkdtemp(prefix="rove-damage-hunt.")
        self.procs = Procs()
        self.srv = Server(self.roved, self.tmp, self.procs)
        self.trials = 0
        self.outcomes = {}
        self.main_tree = False

    def close(self, failed):
        self.procs.stop_all()
        if failed and self.keep:
            print("damage_hunt: kept %s" % self.tmp, file=sys.stderr)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def env(self):
        e = dict(os.environ)
        if self.sanitized:
            asan = e.get("ASAN_OPTIONS", "")
            e["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "detect_leaks=0"
        e["TZ"] = "UTC"
        return e

    def rdir(self, login):
        return os.path.join(self.tmp, "r-" + login)

    def run(self, login, args, stdin=None):
        argv = [self.rove, "-R", self.rdir(login)] + args
        try:
            r = subprocess.run(argv, capture_output=True, text=True, errors="replace", input=stdin,
                               timeout=TIMEOUT, env=self.env())
        except subprocess.TimeoutExpired:
            raise Finding("rove %s (as %s) ran past %d s" % (" ".join(args), login, TIMEOUT))
        if self.verbose:
            print("  %s: rove %s -> %d %s" % (login, " ".join(args), r.returncode,
                                            r.stderr.strip().replace("\n", " | ")[:3000]))
        return r.returncode, r.stdout, r.stderr

    def ok(self, login, args, stdin=None):
        rc, out, err = self.run(login, args, stdin)
        if rc != 0:
            raise HarnessError("rove %s (as %s) exited %d: %s" % (" ".join(args), login, rc, err.strip()))
        return out

    # -- the scene: a rep with customers synced and changes pending -------

    def setup(self):
        self.admin_token = self.srv.init()
        self.srv.start()
        self.ok("admin", ["init", "--server", self.srv.url, "--user", "admin", "--token", self.admin_token])
        self.ok("admin", ["admin", "territory", "add", "east", "--name", "East"])
        self.token = self.ok("admin", ["admin", "user", "add", "wang", "--role", "rep",
                                       "--territory", "east"]).strip()
        self.ok("wang", ["init", "--server", self.srv.url, "--user", "wang", "--token", self.token])
        rows = ["name,phone,tier"] + ["Synced %03d,1380000%04d,loyal" % (i, i) for i in range(SYNCED)]
        path = os.path.join(self.tmp, "synced.csv")
        with open(path, "w") as f:
            f.write("\n".join(rows) + "\n")
        self.ok("wang", ["import", "customers", path])
        self.ok("wang", ["sync"])
        self.synced_ids = {c["id"] for c in json.loads(self.ok("wang", ["customer", "list", "--json", "--limit",
                                                                         "100000"]))}
        rows = ["name,phone,tier"] + ["Pending %03d,1390000%04d,prospect" % (i, i) for i in range(PENDING)]
        path = os.path.join(self.tmp, "pending.csv")
        with open(path, "w") as f:
            f.write("\n".join(rows) + "\n")
        self.ok("wang", ["import", "customers", path])
        pending = json.loads(self.ok("wang", ["pending", "--json"]))
        self.pending_ids = {p["id"] for p in pending}
        if len(pending) != PENDING or len(self.pending_ids) != PENDING:
            raise HarnessError("the scene: %d changes pending, %d records" % (len(pending),
                                                                               len(self.pending_ids)))
        self.ok("admin", ["sync"])
        made = json.loads(self.ok("wang", ["customer", "list", "--json", "--limit", "100000"]))
        self.made = {c["id"]: values(c) for c in made if c["id"] in self.pending_ids}
        if len(self.made) != PENDING:
            raise HarnessError("the scene: %d of %d pending customers listed" % (len(self.made), PENDING))
        self.srv.stop()
        self.srv_base = os.path.join(self.tmp, "srv.base")
        self.srv.copy_to(self.srv_base)
        self.wang_base = os.path.join(self.tmp, "wang.base")
        shutil.copytree(self.rdir("wang"), self.wang_base)
        self.admin_base = os.path.join(self.tmp, "admin.base")
        shutil.copytree(self.rdir("admin"), self.admin_base)

    # -- one trial ---------------------------------------------------------

    def main_tree_bits(self, data):
        """(offset, bit) of each bit that says something on the main
        tree's root page (the latest meta page's): the page's flags,
        lower and upper, each node's place, header and table record."""
        best = None
        for m in (0, 1):
            dbs = m * PAGE + 16 + 24
            root, txnid = struct.unpack_from("<Q", data, dbs + 48 + 40)[0], struct.unpack_from("<Q", data, dbs + 104)[0]
            if best is None or txnid > best[0]:
                best = (txnid, root)
        po = best[1] * PAGE
        bits = [(po + 10 + b // 8, b % 8) for b in range(48)]
        lower = struct.unpack_from("<H", data, po + 12)[0]
        for i in range((lower - 16) // 2):
            bits += [(po + 16 + 2 * i + b // 8, b % 8) for b in range(16)]
            node = po + struct.unpack_from("<H", data, po + 16 + 2 * i)[0]
            ksize = struct.unpack_from("<H", data, node + 6)[0]
            bits += [(node + b // 8, b % 8) for b in range(64)]
            bits += [(node + 8 + ksize + b // 8, b % 8) for b in range(48 * 8)]
        return bits

    def damage(self, seed):
        rng = random.Random(seed)
        path = os.path.join(self.rdir("wang"), "data.mdb")
        if self.main_tree:
            with open(path, "r+b") as f:
                data = bytearray(f.read())
                off, bit = rng.choice(self.main_tree_bits(data))
                data[off] ^= 1 << bit
                f.seek(0)
                f.write(data)
            return 1
        with open(path, "r+b") as f:
            data = bytearray(f.read())
            pages = len(data) // PAGE
            flips = rng.randint(1, 40)
            for _ in range(flips):
                off = rng.randrange(2, pages) * PAGE + rng.randrange(PAGE)
                data[off] ^= 1 << rng.randrange(8)
            f.seek(0)
            f.write(data)
        return flips

    def checked(self, args):
        """Runs args on wang's replica; (1) for it."""
        rc, out, err = self.run("wang", args)
        if SANITIZER.search(err) and not (SANITIZER_FAULT.search(err) and rc != 0):
            raise Finding("rove %s: the sanitizers reported:\n%s" % (" ".join(args), err[-3000:]))
        if rc < 0:
            raise Finding("rove %s died of signal %d:\n%s" % (" ".join(args), -rc, err[-2000:]))
        if rc not in (0, 1, 2, 3):
            raise Finding("rove %s exited %d:\n%s" % (" ".join(args), rc, err[-2000:]))
        if "stopped on a fault" in err and FAULT_SAID not in err:
            raise Finding("rove %s: a fault without the way out:\n%s" % (" ".join(args), err[-2000:]))
        return rc, out, err

    def trial(self, seed):
        self.srv.restore_from(self.srv_base)
        for login, base in (("wang", self.wang_base), ("admin", self.admin_base)):
            shutil.rmtree(self.rdir(login))
            shutil.copytree(base, self.rdir(login))
        flips = self.damage(seed)
        self.srv.start()
        try:
            said = ""
            for args in COMMANDS:
                _, _, err = self.checked(args)
                said += err
            rc, out, err = self.checked(["sync", "--json"])
            said += err
            outcome = "synced"
            # (an altered server URL that still reads: the user sees
            # another address named, and sets it anew)
            if rc != 0 and ("rove config" in err or (rc == 3 and self.srv.url not in err)):
                # (2) a setting to set anew: the user does, and syncs
                self.ok("wang", ["config", "server", self.srv.url])
                self.ok("wang", ["config", "token", self.token])
                rc, out, err = self.checked(["sync", "--json"])
                said += err
                outcome = "settings set anew"
            if rc != 0 and "rove init" in err and self.main_tree:
                raise Finding("one bit of the main tree's page made a new replica, its pending changes lost:\n%s"
                              % said[-3000:])
            if rc != 0 and "rove init" in err:
                self.outcomes["a new replica"] = self.outcomes.get("a new replica", 0) + 1
                return "a new replica"
            if rc != 0:
                raise Finding("the last sync failed (exit %d), without a way out:\n%s" % (rc, err[-2000:]))
            self.settled(said)
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
            return "%s (%d bits)" % (outcome, flips)
        finally:
            self.srv.stop()

    def settled(self, said):
        """(3) and (4), after a sync that succeeded."""
        status = json.loads(self.ok("wang", ["status", "--json"]))
        if status.get("pending") != 0:
            raise Finding("after the sync %s change(s) still pending" % status.get("pending"))
        self.ok("admin", ["sync"])
        server = {c["id"]: values(c) for c in json.loads(self.ok("admin", [
            "customer", "list", "--owner", "wang", "--json", "--limit", "100000"]))}
        held = set(server)
        mine = {c["id"] for c in json.loads(self.ok("wang", ["customer", "list", "--json", "--limit",
                                                             "100000"]))}
        if mine != held:
            raise Finding("the replica holds %d customers the server does not give wang (%s), and lacks %d "
                          "(%s)" % (len(mine - held), sorted(mine - held)[:3], len(held - mine),
                                    sorted(held - mine)[:3]))
        never = held - self.pending_ids - self.synced_ids
        if never:
            raise Finding("the server holds %d customer(s) of wang's that wang never made (a change altered on "
                          "the disk, sent): %s" % (len(never), [server[i] for i in sorted(never)[:3]]))
        altered = [(self.made[i], server[i]) for i in sorted(held & self.pending_ids) if server[i] != self.made[i]]
        if altered:
            raise Finding("%d pending change(s) reached the server altered (made, held): %s" % (
                len(altered), altered[:3]))
        missing = self.pending_ids - held
        named = {i for m in LOST_NAMED.finditer(said) for i in UUID.findall(m.group(1))}
        if named - missing and MAYBE_SENT not in said:
            raise Finding("%d change(s) named lost reached the server, or were never pending: %s\n%s" % (
                len(named - missing), sorted(named - missing)[:3], said[-3000:]))
        # (one bit of the list of tables leaves every pending change's
        # page whole: none may be lost, said or not)
        if missing and self.main_tree:
            raise Finding("one bit of the main tree's page lost %d pending change(s): %s\n%s" % (
                len(missing), sorted(missing)[:3], said[-3000:]))
        if not missing or LOST_UNCOUNTED in said:
            return
        rejected = json.loads(self.ok("wang", ["rejected", "--json"]))
        lost = sum(int(m.group(1)) for rx in LOST_SAID for m in rx.finditer(said))
        if len(missing) > lost + len(rejected):
            raise Finding("%d pending change(s) neither reached the server nor were refused or said lost (%d "
                          "said lost, %d refused): %s" % (len(missing), lost, len(rejected), sorted(missing)[:3]))


def values(c):
    """A customer's values the scene made (name, phone, tier)."""
    return (c.get("name"), c.get("phone"), c.get("tier"))


def main():
    ap = argparse.ArgumentParser(description="rove's randomised hunt of damaged replica files")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("ROVE_SEED") or
                                                    os.environ.get("ROVE_DAMAGE_HUNT_DEFAULT_SEED") or
                                                    random.randrange(10**7)))
    ap.add_argument("--trials", type=int, default=int(os.environ.get("ROVE_DAMAGE_HUNT_TRIALS") or 20))
    ap.add_argument("--also", default=os.environ.get("ROVE_DAMAGE_HUNT_ALSO") or "")
    ap.add_argument("--main-tree", action="store_true", dest="main_tree")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("-v", action="store_true", dest="verbose")
    a = ap.parse_args()
    h = Hunt(a.verbose, a.keep)
    h.main_tree = a.main_tree
    failed = True
    seed = a.seed

    def on_signal(sig, frame):
        h.close(True)
        sys.exit(4)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        h.setup()
        try:
            also = [int(s) for s in a.also.split(",") if s.strip()]
        except ValueError:
            print("damage_hunt: --also takes seeds, comma-separated: %r" % a.also, file=sys.stderr)
            return 2
        for seed in [a.seed + i for i in range(a.trials)] + also:
            what = h.trial(seed)
            if a.verbose:
                print("damage_hunt: seed %d: %s" % (seed, what))
        failed = False
        print("damage_hunt: seeds %d-%d%s, every check held (%s)" % (
            a.seed, a.seed + a.trials - 1, " and " + ",".join(map(str, also)) if also else "",
            ", ".join("%s: %d" % kv for kv in sorted(h.outcomes.items()))))
        return 0
    except Finding as f:
        print("damage_hunt: FAILED: %s\nreplay: damage_hunt.py --seed %d --trials 1" % (f, seed), file=sys.stderr)
        print("roved's log, last lines:\n" + h.srv.log_tail(), file=sys.stderr)
        return 1
    except HarnessError as e:
        print("damage_hunt: the harness failed: %s (seed %d)" % (e, seed), file=sys.stderr)
        return 4
    finally:
        h.close(failed)


if __name__ == "__main__":
    sys.exit(main())
