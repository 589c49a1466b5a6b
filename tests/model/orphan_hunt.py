#!/usr/bin/env python3
"""rove's randomised hunt of restores that lose laptops (orphans).

A server is restored from a copy while some reps' laptops are lost with
everything they alone held; managers' and admins' replicas keep what
others wrote that the restored server lacks, and send it a day later
(OPERATIONS.md, "Restore", item 4). model_check.py does not lose laptops
(its reference model cannot say who sends what first), so this hunt
checks what must hold whatever the order, on random schedules:

  (1) nothing a surviving manager's or admin's replica held, and nothing
      a surviving rep held of their own, is missing once everyone has
      synced past the day;
  (2) each field of such a record, and a customer's owner, is one of the
      values a survivor held (none made up, none from a lost laptop
      alone), when nobody wrote the record after the restore;
  (3) every replica equals a fresh copy of the same user's scope, and
      nothing stays pending;
  (4) a rep's own changes are never refused, and roved check is clean;
  (5) nothing a manager or the admin deleted is alive;
  (6) a customer a rep made with a modified client under the id of one
      a lost laptop's rep had made holds nothing of it (attacks 57, 58).

Syncs are SIGKILLed now and then (then run whole), before and after the
restore and while the orphans go.

  orphan_hunt.py [--seed S] [--steps N] [--keep] [-v]

  --seed S   the schedule's seed (env ROVE_SEED, else ROVE_ORPHAN_DEFAULT_SEED;
             default: random)
  --steps N  its length (env ROVE_ORPHAN_STEPS; default 120)

Binaries: env ROVE_BIN, ROVED_BIN (ROVE_PROBE, if set, for (6)). Exit status 0: every check held; 1: a
check failed (what, and how to replay); 2: usage; 4: the harness failed.
"""

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from system import HarnessError, Procs, Replica, Server  # noqa: E402

TERRITORIES = [("n", None), ("n.a", "n"), ("n.b", "n"), ("s", None), ("s.a", "s")]
USERS = [("ann", "rep", ["n.a"]), ("ben", "rep", ["n.a"]), ("cat", "rep", ["n.b"]),
         ("dan", "rep", ["s.a", "n.b"]), ("max", "manager", ["n"]), ("mia", "manager", ["s"]),
         ("ana", "analyst", [])]
REPS = ["ann", "ben", "cat", "dan"]
WRITERS = REPS + ["max", "mia", "admin"]
SENDERS = ["max", "mia", "admin"]  # replicas that keep and send orphans
COLLS = ["customer", "contact", "activity", "opportunity"]
FIELDS = {
    "customer": ["name", "phone", "tier", "address", "territory", "owner"],
    "contact": ["customer", "name", "title", "email"],
    "activity": ["customer", "kind", "at", "note"],
    "opportunity": ["customer", "title", "amount", "stage"],
}
DAY_PASSED = {"ROVE_ORPHAN_WAIT": "0"}


class Finding(Exception):
    def __init__(self, check, lines):
        super().__init__(check)
        self.check, self.lines = check, lines


class Hunt:
    def __init__(self, seed, steps, verbose, keep):
        self.seed, self.steps, self.verbose, self.keep = seed, steps, verbose, keep
        self.rng = random.Random(seed)
        self.rove = os.environ.get("ROVE_BIN")
        self.roved = os.environ.get("ROVED_BIN")
        self.probe = os.environ.get("ROVE_PROBE")  # optional: the hijacks
        if not self.rove or not self.roved:
            raise HarnessError("set ROVE_BIN and ROVED_BIN")
        self.tmp = tempfile.mkdtemp(prefix="rove-orphans-")
        self.procs = Procs()
        self.server = Server(self.roved, self.tmp, self.procs)
        self.reps, self.tokens = {}, {}
        self.counter = 0
        self.events = []
        self.touched = set()  # ids written after the restore
        self.written = {}  # (id, field) -> values written after the restore
        self.deleted = {}  # id -> who deleted it (a manager or the admin)
        self.kills = 0
        self.parent = {}  # a child made here -> its customer
        self.kept_refused = 0  # changes never accepted that came before their record
        self.hijacked = {}  # a lost customer's id -> (the rep who made one under it, its children and values held)
        self.lost = []
        self.phase = "before the copy"
        self.env_now = {}  # a sync's environment now (the day passed)

    def log(self, text):
        self.events.append("[%s] %s" % (self.phase, text))
        if self.verbose:
            print(self.events[-1], flush=True)

    def next_id(self):
        self.counter += 1
        return self.counter

    # ---- the system ----

    def replica(self, login, fresh_dir=None):
        r = Replica(self.rove, self.tmp, login, self.procs)
        if fresh_dir:
            r.dir = os.path.join(self.tmp, fresh_dir)
        r.ok("init", "--server", self.server.url, "--user", login, "--token", self.tokens[login])
        return r

    def setup(self):
        self.tokens["admin"] = self.server.init()
        self.server.start()
        self.reps["admin"] = self.replica("admin")
        adm = self.reps["admin"]
        for code, parent in TERRITORIES:
            args = ["admin", "territory", "add", code, "--name", "T " + code]
            if parent:
                args += ["--parent", parent]
            adm.ok(*args)
        for login, role, terrs in USERS:
            args = ["admin", "user", "add", login, "--role", role]
            for t in terrs:
                args += ["--territory", t]
            self.tokens[login] = adm.ok(*args).out.strip()
            self.reps[login] = self.replica(login)
        for login in self.reps:
            self.sync(login)

    def sync(self, login, env=None, must=True):
        r = self.reps[login].run("--timeout", "20000", "sync", "--json", extra_env=env)
        self.log("sync %s%s: %s" % (login, " (a day later)" if env else "",
                                     r.out.strip() or r.err.strip()))
        if r.rc != 0 and must:
            raise Finding("(3) rove sync never fails against a running server",
                          ["%s: rove sync exited %d: %s" % (login, r.rc, r.err.strip())])
        return r

    def listing(self, login, rep=None):
        rep = rep or self.reps[login]
        out = {}
        for coll in COLLS:
            for rec in rep.ok(coll, "list", "--json").json():
                rec = dict(rec)
                rec["_pending"] = rec.pop("pending", None)
                rec["_coll"] = coll
                out[rec["id"]] = rec
        return out

    # ---- offline work ----

    def writable(self, login):
        """The customers login's replica shows that login may write (a
        rep: their own; a manager: within their territories; the admin:
        all)."""
        recs = self.listing(login)
        custs = [r for r in recs.values() if r["_coll"] == "customer"]
        if login in REPS:
            custs = [c for c in custs if c.get("owner") == login]
        elif login in ("max", "mia"):
            root = "n" if login == "max" else "s"
            custs = [c for c in custs if c.get("territory") == root or
                     (c.get("territory") or "").startswith(root + ".")]
        return custs, recs

    def run_op(self, login, argv):
        r = self.reps[login].run(*argv)
        self.log("%s: rove %s -> %d %s" % (login, " ".join(argv), r.rc, (r.out + r.err).strip()[:120]))
        if r.rc != 0:
            raise Finding("(4) a legitimate offline change is taken",
                          ["%s: rove %s exited %d: %s" % (login, " ".join(argv), r.rc, r.err.strip())])
        return r.out.strip()

    def act_create(self, login):
        if login in REPS:
            terr = self.rng.choice(dict((u, t) for u, _, t in USERS)[login])
        elif login == "max":
            terr = self.rng.choice(["n", "n.a", "n.b"])
        elif login == "mia":
            terr = self.rng.choice(["s", "s.a"])
        else:
            terr = self.rng.choice([t for t, _ in TERRITORIES])
        n = self.next_id()
        argv = ["customer", "add", "--name", "C%d-%s" % (n, login),
                "--phone", "139%08d" % (self.seed % 1000 * 100000 + n), "--territory", terr]
        if self.rng.random() < 0.5:
            argv += ["--tier", self.rng.choice(["prospect", "customer", "loyal"])]
        cid = self.run_op(login, argv)
        if self.phase != "before the copy" and self.phase != "after the copy":
            self.touched.add(cid)

    def act_child(self, login):
        custs, _ = self.writable(login)
        if not custs:
            return self.act_create(login)
        cid = self.rng.choice(sorted(c["id"] for c in custs))
        n = self.next_id()
        x = self.rng.random()
        if x < 0.3:
            argv = ["opportunity", "add", "--customer", cid, "--title", "D%d" % n,
                    "--amount", str(self.rng.randint(1, 90000)),
                    "--stage", self.rng.choice(["lead", "qualified", "proposal"])]
        elif x < 0.65:
            argv = ["contact", "add", "--customer", cid, "--name", "P%d" % n,
                    "--title", self.rng.choice(["Buyer", "CFO", "Boss"])]
        else:
            argv = ["activity", "add", "--customer", cid, "--kind",
                    self.rng.choice(["visit", "call", "note"]), "--note", "N%d" % n]
        kid = self.run_op(login, argv)
        self.parent[kid] = cid
        if self.phase not in ("before the copy", "after the copy"):
            self.touched.update([kid, cid])

    def act_edit(self, login):
        custs, recs = self.writable(login)
        if not custs:
            return self.act_create(login)
        ids = {c["id"] for c in custs}
        kids = sorted(r["id"] for r in recs.values() if r["_coll"] in ("contact", "opportunity") and
                      r.get("customer") in ids)
        if kids and self.rng.random() < 0.4:
            kid = self.rng.choice(kids)
            coll = recs[kid]["_coll"]
            if coll == "opportunity":
                f, v = "stage", self.rng.choice(["qualified", "proposal", "negotiation"])
                argv = ["opportunity", "stage", kid, v]
            else:
                f, v = "title", "T%d" % self.next_id()
                argv = ["contact", "set", kid, "%s=%s" % (f, v)]
            rid = kid
        else:
            rid = self.rng.choice(sorted(ids))
            f = self.rng.choice(["tier", "address", "address", "name"])
            v = self.rng.choice(["prospect", "customer", "loyal"]) if f == "tier" else \
                "%s-%d-%s" % (f, self.next_id(), login)
            argv = ["customer", "set", rid, "%s=%s" % (f, v)]
        self.run_op(login, argv)
        if self.phase not in ("before the copy", "after the copy"):
            self.touched.add(rid)
            self.written.setdefault((rid, f), set()).add(v)

    def act_delete(self, login):
        """A manager or the admin deletes a customer or a contact they may
        write (reps delete nothing: rule 6)."""
        custs, recs = self.writable(login)
        ids = {c["id"] for c in custs}
        kids = sorted(r["id"] for r in recs.values() if r["_coll"] == "contact" and r.get("customer") in ids)
        if kids and self.rng.random() < 0.5:
            rid, argv = self.rng.choice(kids), ["contact", "delete"]
        elif ids:
            rid, argv = self.rng.choice(sorted(ids)), ["customer", "delete"]
        else:
            return
        self.run_op(login, argv + [rid])
        self.deleted[rid] = login
        if rid in ids:
            for r in recs.values():
                if r.get("customer") == rid:
                    self.deleted.setdefault(r["id"], login)

    def hijack(self, held, lost):
        """Attacks fifty-seven and fifty-eight: a surviving rep who knows
        the id of a customer a lost laptop's rep made makes one under it
        with a modified client (rove_probe) before anyone sends it again."""
        on_server = self.server.held_records()
        made_by_lost = sorted({rid for recs in held.values() for rid, rec in recs.items()
                               if rec["_coll"] == "customer" and rec.get("owner") in lost and
                               rid not in self.deleted and rid not in on_server})
        reps = [u for u in REPS if u not in lost]
        if not made_by_lost or not reps:
            return
        rid, rep = self.rng.choice(made_by_lost), self.rng.choice(reps)
        terr = dict((u, t) for u, _, t in USERS)[rep][0]
        r = subprocess.run([self.probe, self.server.url, rep, self.tokens[rep], "push", "create", "1", rid,
                            "name=Bait-%s" % rep, "territory=%s" % terr], capture_output=True, text=True,
                           timeout=60)
        self.log("%s makes a customer under %s's id %s: %s" % (rep, "a lost laptop", rid, r.stdout.strip()))
        if '"accepted"' in r.stdout:
            # the lost customer's children, and its values, as the
            # survivors held them
            kids = {k for recs in held.values() for k, rec in recs.items() if rec.get("customer") == rid}
            values = {(f, recs[rid].get(f)) for recs in held.values() if rid in recs
                      for f in ("name", "phone", "address", "tier") if recs[rid].get(f) is not None}
            self.hijacked[rid] = (rep, kids, values)

    def killed_sync(self, login):
        """A sync SIGKILLed midway (small batches make it long), then one
        that ends."""
        p = self.reps[login].spawn_sync(dict(self.env_now, ROVE_PULL_BATCH="3", ROVE_PUSH_BATCH="2"))
        time.sleep(self.rng.uniform(0.002, 0.08))
        killed = p.poll() is None
        if killed:
            p.send_signal(signal.SIGKILL)
            self.kills += 1
        p.communicate()
        self.procs.reap(p)
        self.log("sync %s SIGKILLed%s" % (login, "" if killed else " (it had ended)"))

    def step(self, who, allow_sync=True):
        login = self.rng.choice(who)
        x = self.rng.random()
        if allow_sync and x < 0.05:
            self.killed_sync(login)
            self.sync(login, self.env_now or None)
        elif allow_sync and x < 0.35:
            self.sync(login, self.env_now or None)
        elif login == "ana":
            self.sync(login, self.env_now or None)
        elif login in ("max", "mia", "admin") and x < 0.4:
            self.act_delete(login)
        elif x < 0.55:
            self.act_create(login)
        elif x < 0.8:
            self.act_child(login)
        else:
            self.act_edit(login)

    # ---- the scenario ----

    def run(self):
        self.setup()
        everyone = list(self.reps)
        writers = [u for u in everyone if u != "ana"] + ["ana"]
        n1 = max(5, self.steps // 4)
        for _ in range(n1):
            self.step(writers)
        # One restore, now and then two (the second while the first's
        # refusals may still wait).
        rounds = 2 if self.rng.random() < 0.3 else 1
        for i in range(rounds):
            held = self.restore_round(everyone, writers, i + 1, rounds)
        self.check(held)

    def restore_round(self, everyone, writers, i, rounds):
        """A copy, work, lost laptops, the restore, the day; returns what
        the survivors held at the restore."""
        for login in everyone:
            if self.rng.random() < 0.7:
                self.sync(login, self.env_now or None)
        copy_dir = os.path.join(self.tmp, "copy")
        self.server.stop(signal.SIGTERM)
        self.server.copy_to(copy_dir)
        self.server.start()
        self.env_now = {}
        self.phase = "after the copy"
        self.log("roved's directory copied (restore %d of %d)" % (i, rounds))
        for _ in range(max(5, self.steps // (2 * rounds))):
            self.step(writers)
        # Some laptops are lost: one or two reps, after syncing or not.
        lost = self.rng.sample(REPS, self.rng.choice([1, 1, 2]))
        self.lost += lost
        for login in lost:
            if self.rng.random() < 0.7:
                self.sync(login)
        # Some others sync last, some do not.
        for login in everyone:
            if login not in lost and self.rng.random() < 0.5:
                self.sync(login)
        held = {login: self.listing(login) for login in everyone if login not in lost}
        self.log("held at the restore: %s" % ", ".join("%s %d" % (k, len(v)) for k, v in sorted(held.items())))
        # The restore; the lost laptops are replaced by new ones.
        self.server.stop(signal.SIGTERM)
        self.server.restore_from(copy_dir)
        self.server.start()
        self.phase = "after the restore"
        self.log("roved put back from the copy; laptops lost: %s" % ", ".join(lost))
        for login in lost:
            shutil.rmtree(self.reps[login].dir)
            self.reps[login] = self.replica(login)
        if self.probe and self.rng.random() < 0.4:
            self.hijack(held, lost)
        # The day: everyone but an absent rep or two syncs, and works.
        away = [u for u in REPS if u not in lost and self.rng.random() < 0.2]
        present = [u for u in everyone if u not in away]
        order = present[:]
        self.rng.shuffle(order)
        for login in order:
            self.sync(login)
            for _ in range(self.rng.randint(0, 2)):
                self.step([login], allow_sync=False)
        for _ in range(max(3, self.steps // 8)):
            self.step(present)
        # A day later: the orphans are due; everyone syncs, three rounds.
        self.phase = "a day after the restore"
        self.log("a day passes (away: %s)" % (", ".join(away) or "nobody"))
        self.env_now = DAY_PASSED
        for _ in range(max(2, self.steps // 10)):
            self.step(everyone)
        for _ in range(3):
            order = everyone[:]
            self.rng.shuffle(order)
            for login in order:
                if self.rng.random() < 0.1:
                    self.killed_sync(login)
                self.sync(login, DAY_PASSED)
        return held

    # ---- the checks ----

    def check(self, held):
        fresh_admin = self.replica("admin", "final-admin")
        r = fresh_admin.run("--timeout", "20000", "sync", "--json")
        if r.rc != 0:
            raise HarnessError("a fresh admin replica did not sync: %s" % r.err.strip())
        final = self.listing("admin", fresh_admin)
        problems = []
        refused = {}
        for login in sorted(self.reps):
            for e in self.reps[login].ok("rejected", "--json").json():
                refused.setdefault(e.get("id"), []).append("%s %s refused %s" % (login, e.get("kind"), e.get("reason")))
        # (1) and (2)
        expected = {}
        for login, recs in held.items():
            if login in REPS:
                recs = {k: v for k, v in recs.items() if self.owned_by(v, login, recs)}
            elif login not in SENDERS:
                continue
            for rid, rec in recs.items():
                expected.setdefault(rid, []).append((login, rec))
        for rid, who in sorted(self.deleted.items()):
            if rid in final:
                problems.append("(5) %s %s, deleted by %s, is alive" % (final[rid]["_coll"], rid, who))
        for rid, (rep, lost_kids, lost_values) in sorted(self.hijacked.items()):
            # nothing of the lost customer, nor anything under it, in hers
            # (what she wrote since is hers)
            got = final.get(rid)
            for f, v in sorted(lost_values, key=str):
                if got is not None and got.get("owner") == rep and got.get(f) == v and \
                        v not in self.written.get((rid, f), set()):
                    problems.append("(6) customer %s, made by %s under a lost one's id: its %s is the lost "
                                    "one's %r" % (rid, rep, f, v))
            for k in final.values():
                if k["id"] in lost_kids and k.get("customer") == rid and got is not None and \
                        got.get("owner") == rep:
                    problems.append("(6) %s %s of the lost customer written under %s's customer %s "
                                    "(made under its id)" % (k["_coll"], k["id"], rep, rid))
        for rid, holders in sorted(expected.items()):
            coll = holders[0][1]["_coll"]
            if rid in self.deleted or holders[0][1].get("customer") in self.deleted:
                continue
            if rid in self.hijacked or holders[0][1].get("customer") in self.hijacked:
                continue  # its id taken: (6)
            if rid not in final and all(rec["_pending"] for _, rec in holders) and \
                    any(x.endswith("refused not_owner") for x in refused.get(rid, [])):
                # a change never accepted, made before the restore, that
                # came before its record: refused, kept (OPERATIONS.md,
                # "Restore"; a refusal waits only for a change accepted
                # before)
                self.kept_refused += 1
                continue
            if rid not in final:
                problems.append("(1) %s %s held by %s is gone%s" % (
                    coll, rid, ", ".join(sorted({h for h, _ in holders})),
                    " (%s)" % ", ".join(refused[rid]) if rid in refused else ""))
                continue
            for f in FIELDS[coll]:
                # what a survivor held, or what someone wrote since; a
                # record made or given a child since: its fields as
                # held or written, its owner and deals' owners as the
                # rules set them then
                if rid in self.touched and (rid, f) not in self.written and f in ("owner", "stage"):
                    continue
                values = {rec.get(f) for _, rec in holders} | self.written.get((rid, f), set())
                if coll == "opportunity" and f == "stage":
                    pass
                if final[rid].get(f) not in values:
                    problems.append("(2) %s %s: %s is %r, held: %s" % (
                        coll, rid, f, final[rid].get(f),
                        "; ".join("%s %r" % (h, rec.get(f)) for h, rec in holders)))
        # (3)
        for login in sorted(self.reps):
            st = self.reps[login].ok("status", "--json").json()
            if st.get("pending") != 0:
                problems.append("(3) %s: %s op(s) still pending" % (login, st.get("pending")))
            fresh = self.replica(login, "fresh-" + login)
            r = fresh.run("--timeout", "20000", "sync", "--json")
            if r.rc != 0:
                raise HarnessError("a fresh replica of %s did not sync: %s" % (login, r.err.strip()))
            mine, theirs = self.listing(login), self.listing(login, fresh)
            for rid in sorted(set(mine) | set(theirs)):
                if mine.get(rid) != theirs.get(rid):
                    problems.append("(3) %s's replica differs from a fresh one on %s: %r / %r" % (
                        login, rid, mine.get(rid), theirs.get(rid)))
            rej = self.reps[login].ok("rejected", "--json").json()
            if rej:
                self.log("%s: %d refused: %s" % (login, len(rej), "; ".join(
                    "%s %s %s" % (e.get("kind", e.get("op")), e.get("id"), e.get("reason")) for e in rej)[:600]))
            # a rep's change of a customer a manager deleted: refused
            # deleted (and a change of a child whose create that refused:
            # not_owner, of a record that never was)
            rej = [e for e in rej if e.get("reason") != "deleted" and
                   not self.gone_with_a_delete(e.get("id"))]
            if rej and login in REPS:
                problems.append("(4) %s's own changes refused: %s" % (login, rej[:3]))
        rc = self.server_check()
        if rc:
            problems.append("(4) roved check: %s" % rc)
        if problems:
            raise Finding("after the restore and the day", problems)

    def gone_with_a_delete(self, rid):
        """Whether rid, or the customer it belongs to, was deleted."""
        return rid in self.deleted or self.parent.get(rid) in self.deleted

    @staticmethod
    def owned_by(rec, login, recs):
        if rec["_coll"] == "customer":
            return rec.get("owner") == login
        parent = recs.get(rec.get("customer"))
        return parent is not None and parent.get("owner") == login

    def server_check(self):
        r = subprocess.run([self.roved, "check", self.server.dir], capture_output=True, text=True)
        return None if r.returncode == 0 else (r.stdout + r.stderr).strip()[:800]

    def close(self):
        self.procs.stop_all()
        if self.keep:
            print("kept: %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description="rove's hunt of restores that lose laptops")
    env = os.environ.get
    ap.add_argument("--seed", type=int, default=int(env("ROVE_SEED") or env("ROVE_ORPHAN_DEFAULT_SEED") or 0) or None)
    ap.add_argument("--steps", type=int, default=int(env("ROVE_ORPHAN_STEPS") or 120))
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("-v", action="store_true")
    a = ap.parse_args()
    if a.seed is None:
        a.seed = random.SystemRandom().randrange(1, 1 << 31)
    if a.steps < 4:
        ap.error("--steps must be at least 4")
    print("orphan_hunt: seed %d, %d steps" % (a.seed, a.steps), flush=True)
    h = None
    try:
        h = Hunt(a.seed, a.steps, a.v, a.keep)
        t0 = time.monotonic()
        h.run()
        print("orphan_hunt: every check held (seed %d, laptops lost: %s, %d deleted, %d syncs killed, "
              "%d unsent changes refused as before their record, %.0f s)" %
              (a.seed, ", ".join(h.lost), len(h.deleted), h.kills, h.kept_refused, time.monotonic() - t0))
        return 0
    except Finding as f:
        print("FINDING %s" % f.check)
        for line in f.lines[:20]:
            print("  " + line)
        print("  last events:")
        for e in h.events[-25:]:
            print("    " + e)
        print("replay: ROVE_BIN=%s ROVED_BIN=%s python3 %s --seed %d --steps %d" %
              (h.rove, h.roved, os.path.abspath(__file__), a.seed, a.steps))
        return 1
    except HarnessError as e:
        print("orphan_hunt: the harness failed: %s" % e, file=sys.stderr)
        return 4
    finally:
        if h is not None:
            h.close()


if __name__ == "__main__":
    sys.exit(main())
