#!/usr/bin/env python3
"""rove's randomised model check (issue 10).

Random schedules of reps, managers, an admin and an analyst drive the real
`roved` and `rove` binaries; after every step the real system is compared
with a reference model of SPEC.md's rules (model.py). Faults are part of
the schedule: big families, killed syncs, server restarts, server restores
from a copy, compactions, laptop and server clock jumps, rule-breaking
clients.

  model_check.py [--seed S] [--steps N] [--faults LIST] [--keep] [-v]

  --seed S      the schedule's seed (env ROVE_SEED; default: random)
  --steps N     steps to run (env ROVE_MODEL_STEPS; default 200)
  --faults LIST fault classes, comma-separated: "all" (default), "none",
                names, or -name to leave one out ("all,-restore")
                (env ROVE_MODEL_FAULTS)
  --keep        keep the temporary directory (replicas, server, log)
  -v            print every step

Binaries: env ROVE_BIN, ROVED_BIN (and ROVE_PROBE for the delete class);
ROVE_DIE_META (librove_die_meta.so, built with the tests): half the killed
syncs die right after their 1st to 4th commit (a push's recorded answers,
before the pull) instead of after a random delay.
Exit status 0: every check held; 1: a check failed (the report says which
step, user, record, expected and got, and how to replay); 2: usage;
4: the harness itself failed.
"""

import argparse
import datetime
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from model import (CHILD_FIELDS, CLOSED_STAGES, CUSTOMER_FIELDS, Model, Refused, Uncertain, User,  # noqa: E402
                   phone_key)
from system import HarnessError, LossyLink, PgServer, Procs, Replica, Server, damage_said, pg_bindir  # noqa: E402

# The server's rate held a push (rove sync exits 1, saying when the rest
# can go): after roved started anew in place ("relisten"), each user's
# bucket starts empty (server/rate.h), and a push of 1,000 ops waits 20 s.
RATE_HELD = re.compile(r"too many changes from \S+ in a short time .* a sync in about (\d+) s")


def rate_wait(err):
    """Seconds to wait, as rove says, before a sync the rate held goes
    on (None: not held)."""
    m = RATE_HELD.search(err)
    return min(int(m.group(1)), 90) + 0.5 if m else None


FAULTS = {
    "bigfamily": "a customer with 4,100 contacts, then reassigned, released, claimed",
    "killsync": "rove sync SIGKILLed midway (small batches make syncs long)",
    "restart": "roved stopped (SIGTERM) or SIGKILLed between or during syncs",
    "restore": "roved's directory put back from a copy taken earlier",
    "compact": "roved compact --keep-days 0-2 while it serves (replicas behind take a fresh copy)",
    "clock": "a laptop's clock jumps (-40d, -3d, +2d, +4m) under libfaketime",
    "srvclock": "roved restarted under libfaketime, days forward and back",
    "scope": "assign/unassign, new sub-territories, territory reassignment, moves",
    "delete": "reps try to delete: customers, contacts, an update carrying _deleted (rove_probe)",
    "owner": "reps and managers try to change owner by an update (a customer's; reps a deal's too)",
    "foreign": "reassignments outside rule 7, creates outside one's territories, analysts writing",
    "dup": "the same customer created by two reps (phone reused)",
    "phonefmt": "a duplicate phone written another way (+86, 0086, spaces)",
    "disable": "the admin disables a rep or manager for a while, then enables them (their work waits)",
    "relisten": "bare connections stop roved's listener (nng bug 1518): it listens anew, restarts in place",
    "laptop": "a laptop lost after offline work: its replica gone with what it had not sent, a new one set up",
    "feed": "the analyst's replica fed to a real PostgreSQL at each checkpoint (rove feed postgres --once), "
            "the feed SIGKILLed midway at times (skipped without PostgreSQL's binaries)",
    "link": "a sync through a link that loses connections mid-request and mid-answer, or holds them past "
            "rove's --timeout (a push applied after rove gave up on it), run again until through",
}

TERRITORIES = [("n", None), ("n.a", "n"), ("n.b", "n"), ("s", None), ("s.a", "s")]
USERS = [("ann", "rep", ["n.a"]), ("ben", "rep", ["n.a"]), ("cat", "rep", ["n.b"]),
         ("dan", "rep", ["s.a", "n.b"]), ("max", "manager", ["n"]), ("mia", "manager", ["s"]),
         ("ana", "analyst", [])]
REPS = ["ann", "ben", "cat", "dan"]
MANAGERS = ["max", "mia"]
LAPTOP_CLOCKS = ["-40d", "-40d", "-3d", "+2d", "+4m", "+4m", None]
SERVER_CLOCKS = [("-2d", -2), ("+3d", 3), (None, 0)]
BIG = 4100


class Violation(Exception):
    """A check failed: a finding about rove."""

    def __init__(self, invariant, user, lines, records=()):
        super().__init__(invariant)
        self.invariant, self.user, self.lines, self.records = invariant, user, lines, records


def parse_faults(spec):
    on = set()
    for part in [p.strip() for p in spec.split(",") if p.strip()]:
        if part == "all":
            on |= set(FAULTS)
        elif part == "none":
            on = set()
        elif part in ("hostile", "-hostile"):  # the three rule-breaking classes
            group = {"delete", "owner", "foreign"}
            on = on - group if part[0] == "-" else on | group
        elif part.startswith("-") and part[1:] in FAULTS:
            on.discard(part[1:])
        elif part in FAULTS:
            on.add(part)
        else:
            raise ValueError("unknown fault class '%s' (%s)" % (part, ", ".join(sorted(FAULTS))))
    return on


class Harness:
    def __init__(self, seed, steps, faults, verbose, keep):
        self.seed, self.steps, self.faults = seed, steps, faults
        self.verbose, self.keep = verbose, keep
        self.rng = random.Random(seed)
        # ROVE_DIE_META (librove_die_meta.so): some killed syncs die right
        # after their Nth commit instead of after a random delay - between
        # a push's recorded answers and the pull, say, which the delay
        # rarely hits (attack seventy: a restore after such a kill left the
        # replica stuck). Its own generator: the schedule stays the seed's.
        self.die_meta = os.environ.get("ROVE_DIE_META")
        self.die_rng = random.Random(seed ^ 0x5EED)
        # The link fault: which syncs go first through a lossy link, and
        # where it cuts; its own generator too.
        self.link_rng = random.Random(seed ^ 0x11C)
        # The feed fault: when a feed is killed midway; its own generator.
        self.feed_rng = random.Random(seed ^ 0xFEED)
        self.pg = None
        self.rove = os.environ.get("ROVE_BIN")
        self.roved = os.environ.get("ROVED_BIN")
        self.probe = os.environ.get("ROVE_PROBE")
        self.index_check = os.environ.get("ROVE_INDEX_CHECK")  # optional
        if not self.rove or not self.roved:
            raise HarnessError("set ROVE_BIN and ROVED_BIN to the rove and roved binaries")
        self.tmp = tempfile.mkdtemp(prefix="rove-model.")
        self.procs = Procs()
        self.server = Server(self.roved, self.tmp, self.procs)
        self.m = Model()
        self.reps = {}
        self.tokens = {}
        self.pending = {}  # login -> ops made offline, in order
        self.synced_step = {}  # login -> the step of its last whole sync (all it could pull, pulled)
        # Dealers' moves as sent, and each user's last pull, on one count
        # (act_dealer: no move of a dealer over one its mover has not seen).
        self.ticks = 0
        self.dealer_moves_sent = {}  # dealer id -> [(login, tick)]
        self.pulled_at = {}  # login -> tick
        self.journal = {}  # login -> ops acknowledged since the copy
        self.replay = {}  # login -> acknowledged ops a restore took away
        # login -> ops refused for want of a record a restore took away,
        # sent again once the replica holds it (docs/OPERATIONS.md,
        # "Restore": refusals that wait for their record)
        self.waiting = {}
        self.view = {}  # login -> what the replica holds (model at its last sync)
        self.known = {}  # login -> {(record, field): wids seen}
        self.own = {}  # (login, record, field) -> wids the user wrote
        self.rejected_seen = {}  # login -> op ids already in `rove rejected`
        self.copy = None  # the model's server state when the copy was taken
        self.copy_dir = os.path.join(self.tmp, "srv.copy")
        self.restore_due = None
        self.hot = []  # (record, field, user) written lately
        self.hot_dealers = []  # dealers given to customers lately
        self.soon = []  # steps due next
        self.events = []  # (step, fault) for the report
        self.big = None  # the big family's customer
        self.big_plan = []
        self.counter = 0
        self.step_desc = ""
        self.stats = {"syncs": 0, "kills_rove": 0, "kills_roved": 0, "restarts": 0, "restores": 0, "compactions": 0,
                      "relistens": 0, "inplace": 0, "laptops": 0, "link_cuts": 0, "link_stalls": 0,
                      "ops": 0, "rejected": 0, "clock_jumps": 0, "admin": 0, "waited": 0,
                      "reports": 0, "feeds": 0, "feed_kills": 0}
        self.today = datetime.datetime.now(datetime.timezone.utc).date()

    # ---- helpers ----

    def next_id(self):
        self.counter += 1
        return self.counter

    def fresh_phone(self):
        return "139%08d" % (self.seed * 7919 % 10000 * 1000 + self.next_id())

    def event(self, text):
        self.events.append((self.m.step, text))
        self.log(text)

    def log(self, text):
        if self.verbose:
            print("  step %d: %s" % (self.m.step, text), flush=True)

    def replica(self, login):
        return self.reps[login]

    def user(self, login):
        return self.m.s.users[login]

    def on(self, fault):
        return fault in self.faults

    # ---- setup ----

    def setup(self):
        admin_token = self.server.init()
        if self.on("relisten"):
            self.server.extra_env["ROVE_RELISTENS"] = "2"
        self.server.start()
        self.tokens["admin"] = admin_token
        if self.on("feed"):
            bindir = pg_bindir()
            if bindir is None:
                print("model_check: no PostgreSQL server binaries: the feed class is left out", file=sys.stderr)
                self.faults.discard("feed")
            else:
                self.pg = PgServer(bindir, self.tmp, self.procs)
                self.pg.start()
        self.add_replica("admin", admin_token)
        self.m.s.users["admin"] = User("admin", "admin", [])
        for code, parent in TERRITORIES:
            args = ["admin", "territory", "add", code, "--name", "T " + code]
            if parent:
                args += ["--parent", parent]
            self.replica("admin").ok(*args)
            self.m.s.territories[code] = parent
        self.after_scope_change(MANAGERS)
        for login, role, terrs in USERS:
            args = ["admin", "user", "add", login, "--role", role]
            for t in terrs:
                args += ["--territory", t]
            token = self.replica("admin").ok(*args).out.strip()
            self.tokens[login] = token
            self.add_replica(login, token)
            self.m.s.users[login] = User(login, role, terrs)
        for login in self.reps:
            self.sync_step(login)
        # The first report builds a replica's sums; from then on every
        # write keeps them (client/report_agg.c), which each checkpoint
        # compares with a scan of the records.
        for login in self.reps:
            self.replica(login).ok("report", "pipeline", "--json")

    def add_replica(self, login, token):
        r = Replica(self.rove, self.tmp, login, self.procs)
        r.ok("init", "--server", self.server.url, "--user", login, "--token", token)
        self.reps[login] = r
        self.pending[login] = []
        self.synced_step[login] = -1
        self.journal[login] = []
        self.replay[login] = []
        self.waiting[login] = []
        self.view[login] = {"c": {}, "k": {}, "d": {}}
        self.known[login] = {}
        self.rejected_seen[login] = set()

    # ---- offline changes ----

    def queue(self, login, op, argv, may_refuse_locally=False, stdin=None):
        """Runs an offline change on login's replica and queues it in the
        model. A legitimate change must be taken (exit 0); an attempt that
        breaks a rule may also be refused by the CLI itself (exit 1)."""
        r = self.replica(login).run(*argv, input=stdin)
        if r.rc == 1 and may_refuse_locally:
            self.log("%s: %s refused locally (%s)" % (login, r.cmd(), r.err.strip()))
            self.last_refusal = r
            return None
        if r.rc != 0:
            raise Violation("(5) a legitimate offline change was refused by the CLI", login,
                            ["%s exited %d: %s" % (r.cmd(), r.rc, r.err.strip())])
        op["login"] = login
        op["step"] = self.m.step
        op["synced"] = self.synced_step.get(login, -1)  # what it was made after (model.py, op_release)
        op["desc"] = r.cmd()
        self.pending[login].append(op)
        self.stats["ops"] += 1
        self.log("%s (offline): %s" % (login, r.cmd()))
        return r

    def write_op(self, login, kind, rid, fields, coll=None):
        """An update of registers: remembers which writes its author saw.
        coll: a child's collection (set_child)."""
        wid = "w%d" % self.next_id()
        past = {}
        for f in fields:
            key = (rid, f)
            past[f] = set(self.known[login].get(key, set())) | set(self.own.get((login,) + key, []))
            self.own.setdefault((login,) + key, []).append(wid + ":" + f)
        op = {"kind": kind, "id": rid, "fields": fields, "wid": wid, "past": past}
        if coll is not None:
            op["coll"] = coll
        return op

    def writable(self, login):
        """Customers login's replica shows and login may write (by the
        replica's own knowledge)."""
        u = self.user(login)
        out = []
        for cid, c in self.view[login]["c"].items():
            if u.role == "admin" or c["owner"] == login or (
                    u.role == "manager" and self.m.in_reach(u, c["territory"])):
                out.append(cid)
        return sorted(out)

    def writable_kids(self, login, coll):
        """Children of coll login's replica shows under customers login
        may write."""
        writable = set(self.writable(login))
        return sorted(k for k, (c, cid) in self.view[login]["k"].items() if c == coll and cid in writable)

    def act_create_customer(self, login):
        u = self.user(login)
        terrs = u.terrs if u.role == "rep" else sorted(t for t in self.m.s.territories
                                                        if u.role == "admin" or self.m.in_reach(u, t))
        if not terrs:
            return
        terr = self.rng.choice(terrs)
        if self.on("foreign") and u.role == "rep" and self.rng.random() < 0.1:
            terr = self.rng.choice(sorted(self.m.s.territories))  # maybe not theirs
        phone, dup = self.fresh_phone(), False
        if (self.on("dup") or self.on("phonefmt")) and self.rng.random() < 0.2:
            phones = [c.regs["phone"].certain() for c in self.m.s.customers.values()
                      if not c.deleted and c.regs["phone"].certain()]
            phones += [op["fields"]["phone"] for ops in self.pending.values() for op in ops
                       if op["kind"] == "create_customer" and op["fields"].get("phone")]
            if phones:
                phone, dup = self.rng.choice(sorted(phones)), True
                if self.on("phonefmt") and (not self.on("dup") or self.rng.random() < 0.5):
                    d = phone_key(phone)
                    phone = self.rng.choice(["+86 %s-%s-%s" % (d[:3], d[3:7], d[7:]),
                                             "0086%s" % d, "%s %s %s" % (d[:3], d[3:7], d[7:])])
        name = "C%d-%s" % (self.counter + 1, login)
        fields = {"name": name, "phone": phone}
        argv = ["customer", "add", "--name", name, "--phone", phone, "--territory", terr]
        if self.rng.random() < 0.5:
            fields["tier"] = self.rng.choice(["prospect", "customer", "loyal"])
            argv += ["--tier", fields["tier"]]
        op = {"kind": "create_customer", "fields": fields, "territory": terr}
        r = self.queue(login, op, argv, may_refuse_locally=dup or terr not in terrs)
        if r is not None:
            op["id"] = r.out.strip()
            self.view[login]["c"][op["id"]] = {"owner": login, "territory": terr}

    def act_edit_customer(self, login):
        ids = self.writable(login)
        if not ids:
            return
        cid = self.rng.choice(ids)
        f = self.rng.choice(["tier", "tier", "address", "address", "name", "phone"])
        # Often a field someone else wrote lately: same-field edits, both
        # concurrent and causally ordered (rule 8).
        hot = [(r, g) for r, g, who in self.hot if r in ids and who != login]
        if hot and self.rng.random() < 0.6:
            cid, f = self.rng.choice(hot)
        if f == "tier":
            v = self.rng.choice(["prospect", "customer", "loyal"])
        elif f == "phone":
            v = self.fresh_phone()
        else:
            v = "%s-%d-%s" % (f, self.next_id(), login)
        op = self.write_op(login, "set_customer", cid, {f: v})
        if self.queue(login, op, ["customer", "set", cid, "%s=%s" % (f, v)]) and f != "phone":
            self.hot = (self.hot + [(cid, f, login)])[-20:]

    def act_dealer(self, login):
        """Rule 13 from both sides: a manager or admin makes, moves or
        deletes a dealer; a customer's writer gives it a dealer (one the
        replica holds) or none. Offline, so a dealer's delete or move races
        the customers' choices made elsewhere."""
        u = self.user(login)
        held = self.view[login]["d"]
        r = self.rng.random()
        if u.role in ("manager", "admin") and (r < 0.2 or not held):
            terrs = sorted(t for t in self.m.s.territories if u.role == "admin" or self.m.in_reach(u, t))
            t = self.rng.choice(terrs)
            res = self.queue(login, {"kind": "create_dealer", "territory": t},
                             ["dealer", "add", "--name", "Dealer %d" % self.next_id(), "--territory", t])
            if res is not None:
                did = res.out.strip()
                self.pending[login][-1]["id"] = did
                held[did] = t
            return
        if u.role in ("manager", "admin") and r < 0.45:
            # Often one someone chose for a customer lately, maybe not
            # yet synced: the delete or move races that choice.
            hot = sorted(set(self.hot_dealers) & set(held))
            did = self.rng.choice(hot if hot and self.rng.random() < 0.7 else sorted(held))
            if self.rng.random() < 0.5:
                # The CLI refuses at once where the replica holds a
                # customer naming it.
                if self.queue(login, {"kind": "delete_dealer", "id": did}, ["dealer", "delete", did],
                              may_refuse_locally=True):
                    del held[did]
                return
            # Two users' offline moves of one dealer race by stamps
            # (rule 8), which the model keeps only for customers' fields:
            # one at a time (a delete racing a move is a tombstone's, and
            # kept).
            # One unsent, or one sent since this user last pulled: neither
            # seen here.
            unsent = list(self.pending.items()) + list(self.replay.items())
            if any(op.get("kind") == "move_dealer" and op.get("id") == did
                   for other, ops in unsent if other != login for op in ops):
                return
            if any(other != login and at > self.pulled_at.get(login, -1)
                   for other, at in self.dealer_moves_sent.get(did, [])):
                return
            terrs = sorted(t for t in self.m.s.territories if u.role == "admin" or self.m.in_reach(u, t))
            t = self.rng.choice(terrs)
            # The CLI refuses at once a move out of the line of a customer
            # the replica holds.
            if self.queue(login, {"kind": "move_dealer", "id": did, "territory": t, "fields": {"territory": t}},
                          ["dealer", "set", did, "territory=%s" % t], may_refuse_locally=True):
                held[did] = t
            return
        ids = self.writable(login)
        if not ids:
            return
        cid = self.rng.choice(ids)
        did = self.rng.choice(sorted(held)) if held and self.rng.random() < 0.85 else None
        op = self.write_op(login, "set_customer", cid, {"dealer": did})
        if self.queue(login, op, ["customer", "set", cid, "dealer=%s" % (did or "")],
                      may_refuse_locally=did is not None) and did is not None:
            self.hot_dealers = (self.hot_dealers + [did])[-8:]
        elif did is not None and op not in self.pending[login]:
            self.dealer_refused(login, cid, did, op)

    def dealer_refused(self, login, cid, did, op):
        """Rule 13, by the CLI at once: a dealer outside the customer's
        territory's line as login's replica holds them (the customer, the
        dealer and the tree between) - refused so, and only so."""
        r = self.last_refusal
        for key in op["fields"]:
            own = self.own.get((login, op["id"], key), [])
            if own and own[-1].startswith(op["wid"] + ":"):
                own.pop()
        rep = self.replica(login)
        ct = rep.ok("customer", "show", cid, "--json").json().get("territory")
        dt = rep.ok("dealer", "show", did, "--json").json().get("territory")
        code, seen = ct, set()
        while code and code not in seen:
            if code == dt:
                raise Violation("(5) a legitimate offline change was refused by the CLI", login,
                                ["%s exited %d: %s" % (r.cmd(), r.rc, r.err.strip()),
                                 "the dealer's territory %s is at or above the customer's %s here" % (dt, ct)])
            seen.add(code)
            t = rep.run("territory", "show", code, "--json")
            code = t.json().get("parent") if t.rc == 0 else None
        if "is not a dealer of" not in r.err:
            raise Violation("(5) a legitimate offline change was refused by the CLI", login,
                            ["%s exited %d: %s" % (r.cmd(), r.rc, r.err.strip())])

    def act_claim(self, login):
        u = self.user(login)
        pool = sorted(cid for cid, c in self.view[login]["c"].items()
                      if c["owner"] is None and c["territory"] in u.terrs)
        if not pool:
            return
        cid = self.rng.choice(pool)
        if self.queue(login, {"kind": "claim", "id": cid}, ["customer", "claim", cid]):
            # Not the rep's until the server says so: no release or edit of
            # it before the next sync.
            self.view[login]["c"][cid]["owner"] = "?claimed"

    def act_release(self, login):
        mine = sorted(cid for cid, c in self.view[login]["c"].items() if c["owner"] == login)
        if not mine:
            return
        cid = self.rng.choice(mine)
        if self.queue(login, {"kind": "release", "id": cid}, ["customer", "release", cid]):
            self.view[login]["c"][cid]["owner"] = None

    def act_add_child(self, login):
        ids = self.writable(login)
        if not ids:
            return
        cid = self.rng.choice(ids)
        n = self.next_id()
        x = self.rng.random()
        if x < 0.25:
            # A deal (rule 14): its owner is the server's to set.
            stage = self.rng.choice(["lead", "qualified", "proposal", "won"])
            amount = self.rng.randint(1, 90000)
            fields = {"customer": cid, "title": "D%d" % n, "amount": amount * 100, "stage": stage}
            argv = ["opportunity", "add", "--customer", cid, "--title", fields["title"], "--amount", str(amount),
                    "--stage", stage]
            coll = "opportunity"
        elif x < 0.6:
            fields = {"customer": cid, "name": "P%d" % n, "title": self.rng.choice(["Buyer", "CFO", "Boss"])}
            argv = ["contact", "add", "--customer", cid, "--name", fields["name"], "--title", fields["title"]]
            coll = "contact"
        else:
            at = (self.today - datetime.timedelta(days=self.rng.randint(100, 200))).isoformat()
            fields = {"customer": cid, "kind": self.rng.choice(["visit", "call", "note"]), "at": at,
                      "note": "N%d" % n}
            argv = ["activity", "add", "--customer", cid, "--kind", fields["kind"], "--at", at,
                    "--note", fields["note"]]
            coll = "activity"
        op = {"kind": "create_child", "coll": coll, "fields": fields}
        r = self.queue(login, op, argv)
        if r is not None:
            op["id"] = r.out.strip()
            self.view[login]["k"][op["id"]] = (coll, cid)

    def act_edit_contact(self, login):
        kids = self.writable_kids(login, "contact")
        if not kids:
            return
        kid = self.rng.choice(kids)
        f = self.rng.choice(["title", "email", "name"])
        v = "%s%d" % (f, self.next_id()) if f != "email" else "x%d@example.com" % self.next_id()
        op = self.write_op(login, "set_child", kid, {f: v}, "contact")
        self.queue(login, op, ["contact", "set", kid, "%s=%s" % (f, v)])

    def act_deal(self, login):
        """A deal moves on (rule 13: closed_on follows), is reopened, or -
        by a rep, with the owner fault - is given to someone else by an
        update (rule 14: forbidden)."""
        u = self.user(login)
        deals = self.writable_kids(login, "opportunity")
        if not deals:
            return
        kid = self.rng.choice(deals)
        if u.role == "rep" and self.on("owner") and self.rng.random() < 0.15:
            other = self.rng.choice([x for x in REPS + MANAGERS if x != login])
            op = self.write_op(login, "set_child", kid, {"owner": other}, "opportunity")
            self.queue(login, op, ["opportunity", "set", kid, "owner=%s" % other], may_refuse_locally=True)
            return
        # A move to the stage the replica shows queues nothing (the CLI
        # says so): the schedule moves it elsewhere.
        shown = self.replica(login).run("opportunity", "show", kid, "--json")
        now = json.loads(shown.out).get("stage") if shown.rc == 0 else None
        stage = self.rng.choice([s for s in ["lead", "qualified", "proposal", "negotiation", "won", "lost"]
                                 if s != now])
        op = self.write_op(login, "set_child", kid, {"stage": stage}, "opportunity")
        # A rep's replica may refuse at once a change of a deal it shows
        # closed.
        self.queue(login, op, ["opportunity", "stage", kid, stage], may_refuse_locally=u.role == "rep")

    def act_delete(self, login):
        """Managers and admins delete; a rep's attempt must be refused."""
        u = self.user(login)
        rep = u.role == "rep"
        if rep and not self.on("delete"):
            return
        if self.rng.random() < 0.5:
            ids = sorted(self.view[login]["c"]) if rep else self.writable(login)
            ids = [i for i in ids if i != self.big]
            if not ids:
                return
            cid = self.rng.choice(ids)
            if self.queue(login, {"kind": "delete_customer", "id": cid}, ["customer", "delete", cid],
                          may_refuse_locally=rep):
                self.view[login]["c"].pop(cid, None)  # the replica shows it deleted until answered
        else:
            # (the replica hides the children of a customer it shows
            # deleted: its delete pending, rule 6)
            kids = sorted(k for k, (coll, cid) in self.view[login]["k"].items()
                          if coll == "contact" and cid in self.view[login]["c"])
            if not kids:
                return
            kid = self.rng.choice(kids)
            if self.queue(login, {"kind": "delete_child", "coll": "contact", "id": kid},
                          ["contact", "delete", kid], may_refuse_locally=rep):
                self.view[login]["k"].pop(kid, None)

    def act_hostile(self, login):
        """Rule-breaking attempts: an owner changed by an update, an analyst
        writing, a rep's update carrying _deleted (through rove_probe, as a
        modified client would send it)."""
        u = self.user(login)
        choice = self.rng.random()
        if u.disabled:
            return  # its probe would be refused before any rule
        ids = sorted(self.view[login]["c"])
        if not ids:
            return
        cid = self.rng.choice(ids)
        if u.role == "analyst" and not self.on("foreign"):
            return
        if u.role == "rep" and choice < 0.4:
            if not self.on("delete") or not self.probe or self.copy is not None:
                return
            mine = sorted(c for c in self.writable(login) if c != self.big)
            if not mine:
                return
            cid = self.rng.choice(mine)
            self.probe_push(login, "update", cid, ["_deleted=#1"], {"_deleted": 1})
            return
        if u.role != "analyst" and not self.on("owner"):
            return
        other = self.rng.choice([x for x in REPS + MANAGERS if x != login])
        op = self.write_op(login, "set_customer", cid, {"owner": other})
        self.queue(login, op, ["customer", "set", cid, "owner=%s" % other], may_refuse_locally=True)

    def probe_push(self, login, kind, cid, fields, model_fields):
        """An op sent straight to the server by a hand-made client; decided
        at once (it is online)."""
        op_id = str(uuid.uuid4())
        argv = [self.probe, self.server.url, login, self.tokens[login], "push", kind, "1", cid,
                "--op-id", op_id] + fields
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        self.log("%s (probe): %s %s %s -> %s" % (login, kind, cid, fields, r.stdout.strip()))
        try:
            got = json.loads(r.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise HarnessError("rove_probe printed no JSON: %r %r" % (r.stdout, r.stderr))
        op = self.write_op(login, "set_customer", cid, model_fields)
        op["login"], op["step"], op["desc"] = login, self.m.step, "probe push %s %s" % (kind, fields)
        expect = self.decide(login, op)
        accepted = got.get("status") == "accepted"
        if got.get("status") == "rejected":
            self.m.refused(login, op_id, got.get("reason"), refusal_size({"op": op_id, "fields": fields}))
        if expect is None and not accepted:
            raise Violation("(5) a legitimate change was refused", login,
                            ["%s: the model accepts it, the server said %s" % (op["desc"], got)], [cid])
        if expect is not None and accepted:
            raise Violation("(5) a rule-breaking change was accepted", login,
                            ["%s by %s on customer %s: accepted (seq %s); the model refuses it: %s" %
                             (op["desc"], login, cid, got.get("seq"), "/".join(sorted(expect.reasons)))],
                            [cid])
        if expect is not None and got.get("reason") not in expect.reasons:
            raise Violation("(2) refused for a reason the model does not agree with", login,
                            ["%s: reason %s, expected %s" % (op["desc"], got.get("reason"),
                                                             "/".join(sorted(expect.reasons)))], [cid])

    def act_big_family(self, login):
        """One import of 4,100 contacts on a customer the rep owns."""
        mine = sorted(cid for cid, c in self.view[login]["c"].items() if c["owner"] == login)
        if not mine:
            return
        cid = self.rng.choice(mine)
        path = os.path.join(self.tmp, "big.csv")
        base = self.next_id()
        with open(path, "w") as f:
            f.write("customer,name,title\n")
            for i in range(BIG):
                f.write("%s,B%d-%d,Clerk\n" % (cid, base, i))
        before = {c["id"] for c in self.replica(login).ok("contact", "list", "--customer", cid, "--json").json()}
        op = {"kind": "create_child", "coll": "contact", "bulk": True, "fields": {"customer": cid}}
        if self.queue(login, op, ["import", "contacts", path]) is None:
            return
        after = self.replica(login).ok("contact", "list", "--customer", cid, "--json").json()
        op["items"] = [(c["id"], {"customer": cid, "name": c["name"], "title": c["title"]})
                       for c in after if c["id"] not in before]
        if len(op["items"]) != BIG:
            raise Violation("(5) an import lost rows", login, ["imported %d of %d contacts" %
                                                               (len(op["items"]), BIG)], [cid])
        for kid, _ in op["items"]:
            self.view[login]["k"][kid] = ("contact", cid)
        self.big = cid
        # Then the family moves: reassigned, released, claimed.
        self.big_plan = ["sync", "reassign", "release", "claim", "reassign"]

    # ---- the model's side of a sync ----

    def decide(self, login, op):
        """Decides one op in the model; returns None, the Refused, or the
        Uncertain (the server's answer tells)."""
        try:
            self.m.decide(login, op)
            return None
        except (Refused, Uncertain) as r:
            return r

    def model_sync(self, login):
        """Decides login's re-sent ops (after a restore), then the pending
        ones, in order. Returns the refusals expected, as (op, Refused,
        re-sent), and the ops whose outcome the server's answer tells, as
        (op, Uncertain, re-sent)."""
        refused, uncertain = [], []
        todo = [(op, True) for op in self.replay[login]] + [(op, False) for op in self.pending[login]]
        self.replay[login] = []
        for op, resent in todo:
            if op["kind"] == "move_dealer":  # sent now (act_dealer)
                self.ticks += 1
                self.dealer_moves_sent.setdefault(op["id"], []).append((login, self.ticks))
            items = op["items"] if op.get("bulk") else [(op["id"], op.get("fields", {}))]
            any_ok = False
            for kid, fields in items:
                sub = op if not op.get("bulk") else dict(op, id=kid, fields=fields)
                if resent and op["kind"] == "release":
                    sub = dict(sub, resent=True)  # (accepted before: not checked as stale)
                if op["kind"] == "create_customer":
                    sub = dict(sub, server_offset=self.server.offset_days)
                r = self.decide(login, sub)
                if r is None:
                    any_ok = True
                elif isinstance(r, Uncertain):
                    uncertain.append((sub, r, resent))
                else:
                    refused.append((sub, r, resent))
            if any_ok and self.copy is not None:
                self.journal[login].append(op)
        self.pending[login] = []
        return refused, uncertain

    def needed_held(self, login, op):
        """Whether login's replica, after a whole sync, holds the record op
        changes and the customer it belongs to (None: op needs none, a
        customer's or dealer's create)."""
        kind = op["kind"]
        # a claim or a release is of the pool as it is when it arrives:
        # it never waits (attack fifty-eight)
        if kind in ("create_customer", "create_dealer", "claim", "release"):
            return None
        custs, kids, _ = self.m.scope(login)
        if kind == "create_child":
            return op["fields"]["customer"] in custs
        if kind in ("set_child", "delete_child"):
            ch = kids.get(op["id"])
            return ch is not None and ch.customer in custs
        if kind in ("delete_dealer", "move_dealer"):
            return op["id"] in self.m.dealers_seen(login)
        return op["id"] in custs

    def settle_waiting(self, login, matched, rj, unmatched, problems):
        """A change sent again after a restore (or by a recovery's sync)
        and refused not_owner for want of its record waits (`rove
        rejected` says "waiting"); once the replica holds what it needs,
        after a pull, the sync sends it again, once, as it was, and
        dismisses the refusal (client/replica_rejected.c). Which changes
        a recovery's sync sent the model cannot know (a replica that did
        not sync between the copy and the restore never learns of it), so
        it follows the entries: each one waiting is checked against the
        rules of waiting, each dismissed in this sync was sent again, and
        is decided here. matched: (op, entry, re-sent) of this sync's
        refusals; unmatched: entries not matched yet (a refused send's
        takes one). Returns (sent again, refused of them)."""
        by_op = {e["op"]: e for e in rj}
        due = []
        for op, e, resent in matched:
            held = self.needed_held(login, op)
            # (the model dismisses nothing by hand: dismissed is sent again)
            if e.get("waiting") or e.get("dismissed"):
                if e["reason"] != "not_owner" or held is None:
                    problems.append("%s: refused %s, yet it waits for a record" % (op["desc"], e["reason"]))
                    continue
                self.waiting[login].append((op, e["op"]))
            elif resent and e["reason"] == "not_owner" and held is False and not op.get("retried"):
                problems.append("%s (sent again after a restore): refused not_owner, its record missing "
                                "from the replica, but it does not wait for it" % op["desc"])
        still = []
        for op, op_id in self.waiting[login]:
            e = by_op.get(op_id)
            if e is not None and e.get("dismissed"):
                due.append(op)
            elif e is not None and e.get("waiting"):
                still.append((op, op_id))
        self.waiting[login] = still
        n = n_refused = 0
        for op in due:
            if not self.needed_held(login, op):
                problems.append("%s: sent again though the replica lacks its record" % op["desc"])
                continue
            op = dict(op, retried=True)
            n += 1
            self.stats["waited"] += 1
            r = self.decide(login, op)
            e = self.match_rejection(op, unmatched)
            self.log("%s: sent again, its record back: %s" % (op["desc"], "accepted" if r is None else r))
            if isinstance(r, Uncertain) and e is None:
                self.m.settle(self.user(login), op)
                r = None
            if r is None and e is not None and not isinstance(r, Uncertain):
                problems.append("%s, sent again: refused %s (%s), the model accepts it" %
                                (op["desc"], e["reason"], e.get("detail")))
                unmatched.remove(e)
            elif r is not None and e is None:
                problems.append("%s, sent again: the model refuses it (%s) but the server accepted it" %
                                (op["desc"], "/".join(sorted(r.reasons))))
            elif r is not None:
                unmatched.remove(e)
                n_refused += 1
                if e["reason"] not in r.reasons:
                    problems.append("%s, sent again: refused %s, the model says %s" %
                                    (op["desc"], e["reason"], "/".join(sorted(r.reasons))))
            if r is None and self.copy is not None:
                self.journal[login].append(op)
        return n, n_refused

    def after_pull(self, login):
        """What login's replica holds after a complete sync, and which
        writes its clock has now seen (rule 8)."""
        custs, kids, _ = self.m.scope(login)
        self.view[login] = {
            "c": {cid: {"owner": c.owner, "territory": c.territory} for cid, c in custs.items()},
            "k": {kid: (ch.coll, ch.customer) for kid, ch in kids.items()},
            "d": self.m.dealers_seen(login),
        }
        self.ticks += 1
        self.pulled_at[login] = self.ticks
        known = self.known[login]
        for rid, rec in list(custs.items()) + list(kids.items()):
            for f, reg in rec.regs.items():
                if reg.writes:
                    known.setdefault((rid, f), set()).update(reg.wids())

    # ---- a sync, with its faults ----

    def run_sync(self, login, env=None):
        r = self.replica(login)
        p = r.spawn_sync(env or {})
        out, err = p.communicate(timeout=300)
        self.procs.reap(p)
        if damage_said(err):
            raise Violation("(1) nothing lost is said lost", login, [damage_said(err)])
        return p.returncode, out, err

    def disabled_sync(self, login):
        """A disabled user's sync fails at once (exit 1, saying so) and
        sends nothing: their pending work stays on their replica."""
        rep = self.replica(login)
        n_pending = sum(len(op["items"]) if op.get("bulk") else 1 for op in self.pending[login])
        self.step_desc = "sync %s (disabled)" % login
        self.log(self.step_desc)
        rc, out, err = self.run_sync(login)
        if rc != 1 or "is disabled" not in err:
            raise Violation("(5) a disabled user's requests fail at once", login,
                            ["rove sync exited %d: %s" % (rc, err.strip())])
        st = rep.ok("status", "--json").json()
        if st.get("pending") != n_pending:
            raise Violation("(2) a disabled user's work waits on the replica", login,
                            ["status says %s op(s) pending, the model %d" % (st.get("pending"), n_pending)])
        self.stats["syncs"] += 1

    def act_disable(self):
        """The admin disables a rep or manager, or enables one again."""
        login = self.rng.choice(REPS + MANAGERS)
        u = self.user(login)
        verb = "enable" if u.disabled else "disable"
        self.admin_run("admin", ["user", verb, login], True, "%s %s" % (verb, login))
        u.disabled = not u.disabled
        self.event("%s %sd" % (login, verb))

    def sync_step(self, login, fault=None):
        if login in self.m.s.users and self.user(login).disabled:
            return self.disabled_sync(login)
        rep = self.replica(login)
        before = None
        if fault in ("killsync", "killserver"):
            before = {c["id"] for c in rep.ok("customer", "list", "--json").json()}
        pending_ids = {op["id"] for op in self.pending[login] if op.get("id") and
                       op["kind"] in ("create_customer",)}
        n_pending = sum(len(op["items"]) if op.get("bulk") else 1 for op in self.pending[login])
        resending = bool(self.replay[login])
        refused, uncertain = self.model_sync(login)
        desc = "sync %s" % login
        if fault == "killsync":
            env = {"ROVE_PULL_BATCH": "3", "ROVE_PUSH_BATCH": "2"}
            die = self.die_rng.randint(1, 4) if self.die_meta and self.die_rng.random() < 0.5 else 0
            if die:
                env.update({"LD_PRELOAD": self.die_meta, "ROVE_DIE_AFTER_META": str(die),
                            "ASAN_OPTIONS": "detect_leaks=0:verify_asan_link_order=0"})
            p = rep.spawn_sync(env)
            delay = self.rng.uniform(0.002, 0.06)  # (drawn either way: the schedule stays the seed's)
            if die:
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.send_signal(signal.SIGKILL)
            else:
                time.sleep(delay)
                if p.poll() is None:
                    p.send_signal(signal.SIGKILL)
            p.communicate()
            self.procs.reap(p)
            killed = p.returncode == -signal.SIGKILL
            if killed:
                self.stats["kills_rove"] += 1
            if die:
                desc += " (died after its commit %d)" % die if killed else " (ended before its commit %d)" % die
            else:
                desc += " (SIGKILLed after %.0f ms)" % (delay * 1000) if killed else " (finished before the kill)"
            if killed:
                self.check_after_kill(login, before, pending_ids)
            # A restore right after such a kill, now and then: the replica
            # then holds answered changes the pull never confirmed.
            if die and killed and self.copy is not None and self.die_rng.random() < 0.5:
                self.restore_due = self.m.step + 1
        elif fault == "killserver":
            p = rep.spawn_sync({"ROVE_PULL_BATCH": "3", "ROVE_PUSH_BATCH": "2"})
            delay = self.rng.uniform(0.005, 0.1)
            time.sleep(delay)
            self.server.stop(signal.SIGKILL)
            self.stats["kills_roved"] += 1
            p.communicate()
            self.procs.reap(p)
            self.server.start(self.server.offset, self.server.offset_days)
            desc += " (roved SIGKILLed after %.0f ms and restarted)" % (delay * 1000)
            self.check_after_kill(login, before, pending_ids)
        if fault is None and self.on("link") and self.link_rng.random() < 0.2:
            fault = "link"
            before = {c["id"] for c in rep.ok("customer", "list", "--json").json()}
            self.step_desc = desc + " (through a lossy link)"
            desc += " (%s)" % self.lossy_sync(login, before, pending_ids)
        self.step_desc = desc
        self.log(desc)
        res = None
        errors = []
        held = {"pushed": 0, "accepted": 0, "rejected": 0}  # by syncs the rate held
        attempt = 0
        # Waits the rate may ask for: a bucket refills at 50 ops a second,
        # and starts empty after roved started anew in place (seed 2601:
        # 4,107 ops pending after a big family, 82 s at that pace, were
        # more than twelve waits of 4 s).
        wait_budget, waited = 30 + 2 * n_pending / 50, 0.0
        while attempt < 3:
            rc, out, err = self.run_sync(login)
            # The server here is a real roved: a value the replica drops
            # as no sound server's (client/replica_sync.c) is one it
            # should never have stored or sent.
            if "no sound server holds" in err:
                raise Violation("(1) a replica keeps all a sound server sends", login, [err.strip()])
            if rc == 0:
                res = json.loads(out)
                for k in held:
                    res[k] = res.get(k, 0) + held[k]
                break
            errors.append("rove sync exited %d: %s" % (rc, err.strip()))
            wait = rate_wait(err) if rc == 1 else None
            if wait is not None and waited < wait_budget:
                # A user waits as told, and syncs again: what the held
                # sync did is in its JSON, counted with the rest.
                part = json.loads(out) if out.strip() else {}
                for k in held:
                    held[k] += part.get(k, 0)
                waited += wait
                self.log("%s: the rate held the push; syncing again in %.1f s" % (login, wait))
                time.sleep(wait)
                continue
            attempt += 1
            time.sleep(0.1)
        if res is None:
            raise Violation("(4) rove sync never gets stuck", login, errors +
                            ["the server is up; %d op(s) were pending" % n_pending])
        self.synced_step[login] = self.m.step
        self.stats["syncs"] += 1
        self.after_pull(login)
        n_more_refused, n_retried = self.check_rejections(login, refused, uncertain)
        n_refused = len(refused) + n_more_refused
        if fault is None and not resending:
            n_sent = n_pending + n_retried
            exp_acc = n_sent - n_refused
            got = (res.get("pushed"), res.get("accepted"), res.get("rejected"))
            if got != (n_sent, exp_acc, n_refused):
                raise Violation("(2) every change answered once", login,
                                ["rove sync --json said pushed/accepted/rejected = %s/%s/%s, "
                                 "the model expects %d/%d/%d" % (got + (n_sent, exp_acc, n_refused))])
        st = rep.ok("status", "--json").json()
        if st.get("pending") != 0:
            raise Violation("(4) a sync sends everything", login,
                            ["status says %s op(s) pending after a complete sync" % st.get("pending")])
        self.compare(login)
        return res

    def lossy_sync(self, login, before, pending_ids):
        """The link fault: login's sync, in small batches, through a link
        that cuts its first connections at random points; run again (a
        lost connection is exit 3) until one gets through, at most 8 runs.
        Whatever it did is checked as after a kill, and the sync that
        follows as any other's."""
        rep = self.replica(login)
        # Cut, or held past a short --timeout (a slow link: rove gives up
        # on a push the server then applies, and keeps a smaller size
        # for the next sync's requests; a pull answer comes too late).
        timeout_ms, stall = 20000, 0.0
        if self.link_rng.random() < 0.4:
            timeout_ms = 3000 if os.environ.get("ROVE_SANITIZED") == "1" else 1500
            stall = timeout_ms / 1000 + self.link_rng.uniform(0.3, 1.0)
            lossy = self.link_rng.randint(1, 3)
        else:
            lossy = self.link_rng.randint(1, 16)
        link = LossyLink(os.path.join(self.tmp, "link.sock"), self.server.sock, self.link_rng, lossy, stall)
        rep.ok("config", "server", "ipc://" + link.path)
        runs, codes = 0, []
        try:
            for runs in range(1, 9):
                p = rep.spawn_sync({"ROVE_PULL_BATCH": "3", "ROVE_PUSH_BATCH": "2"}, timeout_ms)
                out, err = p.communicate(timeout=300)
                self.procs.reap(p)
                if damage_said(err):
                    raise Violation("(1) nothing lost is said lost", login, [damage_said(err)])
                codes.append(p.returncode)
                if "no sound server holds" in err:
                    raise Violation("(1) a replica keeps all a sound server sends", login, [err.strip()])
                if p.returncode == 0:
                    break
                if p.returncode == 1 and rate_wait(err) is not None:
                    time.sleep(rate_wait(err))  # (the rate held it: rove_sync's loop above)
                    continue
                if p.returncode != 3:
                    raise Violation("(4) rove sync never gets stuck", login,
                                    ["through a lossy link rove sync exited %d (a lost connection is 3): %s" %
                                     (p.returncode, err.strip())])
        finally:
            link.close()
            rep.ok("config", "server", self.server.url)
        self.stats["link_cuts"] += link.cuts
        self.stats["link_stalls"] += link.stalls
        self.check_after_kill(login, before, pending_ids)
        return "through a link %s %d of its first %d connections: %d run(s), exits %s" % (
            "holding for %.1f s" % stall if stall > 0 else "cutting", link.stalls + link.cuts, lossy, runs,
            ",".join(str(c) for c in codes))

    def check_after_kill(self, login, before, pending_ids):
        """(3): a killed sync leaves a usable replica in a consistent state:
        what it showed and still may see is still there (a cut reset
        snapshot shows the previous state, not a fraction of the scope)."""
        r = self.replica(login).run("customer", "list", "--json")
        if r.rc != 0:
            raise Violation("(3) a killed sync leaves a usable replica", login,
                            ["%s exited %d: %s" % (r.cmd(), r.rc, r.err.strip())])
        got = {c["id"] for c in r.json()}
        self.check_replica(login, "after a killed sync")
        custs, _, _ = self.m.scope(login)
        must = (before & set(custs)) | (pending_ids & set(custs))
        lost = sorted(must - got)
        if lost:
            raise Violation("(3) a killed sync shows the previous state or a later one, never a fraction",
                            login, ["after the kill the replica shows %d customers; %d it showed before "
                                    "the sync (and still may see) are gone, e.g. %s" %
                                    (len(got), len(lost), ", ".join(lost[:3]))], lost[:3])

    def check_rejections(self, login, refused, uncertain=()):
        """(2): every change the model refuses is in `rove rejected` with a
        reason the model agrees with; nothing else is refused. An uncertain
        op is refused `forbidden` or accepted, and the model then applies
        it. Returns (how many uncertain ops and changes sent again were
        refused, how many changes were sent again: settle_waiting)."""
        # --all: a refusal sent again once its record came back is
        # dismissed in the same sync (settle_waiting)
        rj = self.replica(login).ok("rejected", "--all", "--json").json()
        new = [e for e in rj if e["op"] not in self.rejected_seen[login]]
        self.rejected_seen[login].update(e["op"] for e in rj)
        for e in new:  # in the order the server refused them
            self.m.refused(login, e["op"], e["reason"], refusal_size(e))
        self.stats["rejected"] += len(new)
        unmatched = list(new)
        problems = []
        matched = []  # (op, entry, re-sent): for the waiting ones
        n_uncertain_refused = 0
        for op, why, resent in uncertain:
            e = self.match_rejection(op, unmatched)
            if e is not None:
                matched.append((op, e, resent))
            if e is None:
                self.m.settle(self.user(login), op)
                self.log("%s: accepted (%s)" % (op["desc"], why))
                if self.copy is not None:
                    self.journal[login].append(op)
                continue
            unmatched.remove(e)
            n_uncertain_refused += 1
            self.log("%s: refused %s (%s)" % (op["desc"], e["reason"], why))
            if e["reason"] not in why.reasons:
                problems.append("%s (step %d): refused %s (%s), the model says %s or accepted (%s)" %
                                (op["desc"], op["step"], e["reason"], e.get("detail"),
                                 "/".join(sorted(why.reasons)), why))
        for op, why, resent in refused:
            e = self.match_rejection(op, unmatched)
            what = "%s (step %d%s)" % (op["desc"], op["step"], ", re-sent after a restore" if resent else "")
            if e is None:
                problems.append("%s: the model refuses it (%s) but it is not in `rove rejected`: "
                                "the server accepted it%s" % (what, "/".join(sorted(why.reasons)),
                                                               self.describe_record(op["id"])))
                continue
            unmatched.remove(e)
            matched.append((op, e, resent))
            if e["reason"] not in why.reasons:
                problems.append("%s: refused %s (%s), the model says %s" %
                                (what, e["reason"], e.get("detail"), "/".join(sorted(why.reasons))))
            elif why.detail and e["reason"] == "duplicate" and e.get("detail") != why.detail:
                problems.append("%s: duplicate of %s, the model says of %s" % (what, e.get("detail"), why.detail))
        n_retried, n_retry_refused = self.settle_waiting(login, matched, rj, unmatched, problems)
        for e in unmatched:
            problems.append("%s %s %s refused %s (%s), but the model accepts it%s" %
                            (e["kind"], e["collection"], e["id"], e["reason"], e.get("detail"),
                             self.describe_record(e["id"])))
        if problems:
            rule_break = any("server accepted it" in p for p in problems)
            inv = "(5) a rule-breaking change was accepted" if rule_break else \
                "(2)/(5) refusals agree with the rules"
            ids = [op["id"] for op, _, _ in refused] + [e["id"] for e in unmatched]
            raise Violation(inv, login, problems[:8], ids[:3])
        return n_uncertain_refused + n_retry_refused, n_retried

    @staticmethod
    def match_rejection(op, entries):
        kinds = {"create_customer": ("customer", "create"), "set_customer": ("customer", "update"),
                 "claim": ("customer", "claim"), "release": ("customer", "release"),
                 "delete_customer": ("customer", "delete"), "create_child": (op.get("coll"), "create"),
                 "set_child": (op.get("coll"), "update"), "delete_child": (op.get("coll"), "delete"),
                 "create_dealer": ("dealer", "create"), "delete_dealer": ("dealer", "delete"),
                 "move_dealer": ("dealer", "update")}
        coll, kind = kinds[op["kind"]]
        for e in entries:
            if e["collection"] != coll or e["id"] != op["id"]:
                continue
            if e["kind"] != kind and not (op["kind"].startswith("delete") and e["kind"] == "update"):
                continue
            if kind == "update" and any(str(e["fields"].get(f)) != str(v) for f, v in op["fields"].items()):
                continue
            return e
        return None

    def describe_record(self, rid):
        c = self.m.s.customers.get(rid) or self.m.s.children.get(rid) or self.m.s.dealers.get(rid)
        return "" if c is None else " (record %s)" % rid

    # ---- (1) the replica equals the model in its scope ----

    def compare(self, login):
        rep = self.replica(login)
        custs, kids, terrs = self.m.scope(login)
        problems, records = [], []
        got_c = {c["id"]: c for c in rep.ok("customer", "list", "--json").json()}
        for cid in sorted(set(custs) - set(got_c)):
            c = custs[cid]
            problems.append("customer %s (owner %s, territory %s) is missing" % (cid, c.owner, c.territory))
            records.append(cid)
        for cid in sorted(set(got_c) - set(custs)):
            c = self.m.s.customers.get(cid)
            why = "unknown to the model" if c is None else \
                "deleted" if c.deleted else "owner %s, territory %s" % (c.owner, c.territory)
            problems.append("customer %s is on the replica (owner %s) but out of scope (%s)" %
                            (cid, got_c[cid].get("owner"), why))
            records.append(cid)
        for cid in sorted(set(custs) & set(got_c)):
            c, g = custs[cid], got_c[cid]
            for f, exp in (("owner", c.owner), ("territory", c.territory)):
                if g.get(f) != exp:
                    problems.append("customer %s: %s is %r, expected %r" % (cid, f, g.get(f), exp))
                    records.append(cid)
            for f in CUSTOMER_FIELDS:
                reg = c.regs[f]
                if not reg.observe(g.get(f)):
                    why = reg.why()
                    problems.append("customer %s: %s is %r, expected %s%s" %
                                    (cid, f, g.get(f), " or ".join(repr(v) for v in sorted(reg.values(), key=str)),
                                     " (%s)" % why if why else ""))
                    records.append(cid)
            self.check_created_at(login, c, g, problems)
        for coll in ("contact", "activity", "opportunity"):
            # Children of a deleted customer: SPEC does not say whether
            # the tombstone hides them, so they are not compared.
            got_k = {k["id"]: k for k in rep.ok(coll, "list", "--json").json()
                     if not self.parent_deleted(k.get("customer"))}
            exp_k = {k: ch for k, ch in kids.items() if ch.coll == coll}
            missing = sorted(set(exp_k) - set(got_k))
            extra = sorted(set(got_k) - set(exp_k))
            if missing:
                problems.append("%d %s(s) missing, e.g. %s (of customer %s)" %
                                (len(missing), coll, missing[0], exp_k[missing[0]].customer))
                records += [missing[0], exp_k[missing[0]].customer]
            if extra:
                ch = self.m.s.children.get(extra[0])
                problems.append("%d %s(s) out of scope on the replica, e.g. %s (%s)" %
                                (len(extra), coll, extra[0], "unknown to the model" if ch is None else
                                 "deleted" if ch.deleted else "customer %s" % ch.customer))
                records.append(extra[0])
            for kid in sorted(set(exp_k) & set(got_k)):
                ch, g = exp_k[kid], got_k[kid]
                if g.get("customer") != ch.customer:
                    problems.append("%s %s: customer %r, expected %r" % (coll, kid, g.get("customer"), ch.customer))
                for f in CHILD_FIELDS[coll]:
                    if not ch.regs[f].observe(g.get(f)):
                        problems.append("%s %s: %s is %r, expected %s" % (coll, kid, f, g.get(f), " or ".join(
                            repr(v) for v in sorted(ch.regs[f].values(), key=str))))
                        records.append(kid)
                if coll == "opportunity":
                    self.check_deal(ch, g, problems, records)
        got_d = {d["id"]: d.get("territory") for d in rep.ok("dealer", "list", "--json").json()}
        exp_d = self.m.dealers_seen(login)
        if got_d != exp_d:
            diff = sorted(set(got_d.items()) ^ set(exp_d.items()), key=str)
            problems.append("dealers %s, expected %s (differing: %s)" % (
                sorted(got_d.items()), sorted(exp_d.items()), diff[:4]))
            records += [x[0] for x in diff[:2]]
        got_t = {t["code"] for t in rep.ok("territory", "list", "--json").json()}
        if got_t != terrs:
            problems.append("territories %s, expected %s" % (sorted(got_t), sorted(terrs)))
        if problems:
            raise Violation("(1) every replica equals the model in its user's scope", login,
                            problems[:10] + (["... and %d more" % (len(problems) - 10)] if len(problems) > 10 else []),
                            records[:3])

    @staticmethod
    def check_deal(ch, g, problems, records):
        """Rule 14: the deal's owner is the one the model gives it (of
        those it may have, the first a replica shows decides for the
        rest); rule 13: closed_on is set exactly while it is won or lost."""
        if g.get("owner") not in ch.owners:
            problems.append("opportunity %s (stage %s): owner is %r, expected %s" % (
                ch.id, g.get("stage"), g.get("owner"), " or ".join(repr(o) for o in sorted(ch.owners, key=str))))
            records += [ch.id, ch.customer]
        else:
            ch.owners = {g.get("owner")}
        if (g.get("stage") in CLOSED_STAGES) != bool(g.get("closed_on")):
            problems.append("opportunity %s: stage %s with closed_on %r (rule 13: set while won or lost only)" %
                            (ch.id, g.get("stage"), g.get("closed_on")))
            records.append(ch.id)

    def parent_deleted(self, cid):
        c = self.m.s.customers.get(cid)
        return c is not None and c.deleted

    def check_created_at(self, login, c, g, problems):
        """The server sets created_at from its clock, which follows a jump
        forward (a self-check of the faketime set-up) and never goes back
        (rule 8): not before the server's wall clock then, not after the
        furthest ahead it ever ran."""
        at = g.get("created_at")
        if not at or c.created_offset is None:
            return
        day = datetime.date.fromisoformat(at[:10])
        want = self.today + datetime.timedelta(days=c.created_offset)
        latest = self.today + datetime.timedelta(days=self.server.max_offset_days)
        if (day - want).days < -1 or (day - latest).days > 1:
            problems.append("customer %s: created_at %s, but roved's clock was %+d days (%s), and never "
                            "ahead of %s" % (c.id, at, c.created_offset, want, latest))
        c.created_offset = None  # checked once

    # ---- checkpoints: everyone syncs, then the server-side checks ----

    def checkpoint(self):
        self.step_desc = "checkpoint: everyone syncs twice"
        self.log(self.step_desc)
        for _ in range(2):
            for login in self.reps:
                self.sync_step(login)
        self.check_histories()
        self.check_conflicts()
        self.check_reports()
        if self.pg is not None:
            self.check_feed()

    FEED_KINDS = ("customer", "contact", "contract", "opportunity", "activity", "dealer", "target", "territory")

    def check_feed(self):
        """The analyst's replica fed to PostgreSQL (rove feed postgres
        --once), at times after a feed SIGKILLed midway: every table holds
        what `rove KIND list --json` prints, value for value, and the
        ownership table a sample of customers' histories."""
        ana = self.replica("ana")
        if self.feed_rng.random() < 0.4:
            p = self.procs.spawn([self.rove, "-R", ana.dir, "feed", "postgres", self.pg.conninfo, "--once"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ana.env())
            time.sleep(self.feed_rng.uniform(0, 0.4))
            p.kill()
            p.wait()
            self.procs.reap(p)
            self.event("feed SIGKILLed midway")
            self.stats["feed_kills"] += 1
        r = ana.run("feed", "postgres", self.pg.conninfo, "--once")
        if r.rc != 0:
            raise Violation("(1) the PostgreSQL feed holds what the replica holds", "ana",
                            ["rove feed postgres --once exited %d: %s" % (r.rc, r.err.strip()[-1500:])])
        for kind in self.FEED_KINDS:
            want = sorted((strip_pending(r) for r in ana.ok(kind, "list", "--json").json()), key=lambda r: r["id"])
            got = sorted(self.feed_rows(kind), key=lambda r: r["id"])
            if got != want:
                raise Violation("(1) the PostgreSQL feed holds what the replica holds", "ana",
                                ["table %s, where it and `rove %s list --json` differ:" % (kind, kind)] +
                                feed_diff(got, want), [])
        live = [c["id"] for c in ana.ok("customer", "list", "--json").json()]
        for cid in self.feed_rng.sample(live, min(10, len(live))):
            want = sorted((strip_pending(h) for h in ana.ok("customer", "history", cid, "--json").json()),
                          key=lambda r: r["id"])
            got = sorted(self.feed_rows("ownership", "WHERE t.customer = '%s' AND t.opportunity IS NULL" % cid),
                         key=lambda r: r["id"])
            if got != want:
                raise Violation("(1) the PostgreSQL feed holds what the replica holds", "ana",
                                ["table ownership, customer %s, where it and `rove customer history` differ:" % cid] +
                                feed_diff(got, want), [cid])
        self.stats["feeds"] += 1

    def feed_rows(self, kind, where=""):
        """KIND's table as rove prints its records: times in UTC with a Z,
        booleans as 0/1, without the feed's digest column."""
        out = self.pg.psql("hq", "SELECT coalesce(json_agg(t), '[]') FROM \"%s\" t %s" % (kind, where))
        rows = []
        for r in json.loads(out):
            r.pop("rove_digest", None)
            for k, v in list(r.items()):
                if isinstance(v, bool):
                    r[k] = int(v)
                elif isinstance(v, str) and FEED_TIME.match(v):
                    r[k] = v[:-len("+00:00")] + "Z"
            rows.append(r)
        return rows

    REPORTS = (("pipeline",), ("targets",), ("daily",))

    def check_reports(self):
        """The report sums each replica keeps as it writes equal a scan of
        its records (ROVE_REPORT_SCAN=1), after whatever the schedule did
        to it: kills, resets, reassignments, restores, compactions."""
        for login in sorted(self.reps):
            rep = self.replica(login)
            for args in self.REPORTS:
                for attempt in (1, 2):
                    got = rep.ok("report", *args, "--json").out
                    scan = rep.ok("report", *args, "--json", extra_env={"ROVE_REPORT_SCAN": "1"}).out
                    if got == scan:
                        self.stats["reports"] += 1
                        break
                    # (a day or month may have turned between the two)
                if got != scan:
                    raise Violation("(3) a replica's report sums equal a scan of its records", login,
                                    ["rove report %s --json, where the sums and the scan differ:" % " ".join(args)] +
                                    json_diff(json.loads(got), json.loads(scan)))

    def check_histories(self):
        """Rule 12 and (2): every change of owner is in the history once."""
        admin = self.replica("admin")
        live = sorted(cid for cid, c in self.m.s.customers.items() if not c.deleted)
        sample = self.rng.sample(live, min(12, len(live)))
        if self.big in live and self.big not in sample:
            sample.append(self.big)
        for cid in sample:
            c = self.m.s.customers[cid]
            got = admin.ok("customer", "history", cid, "--json").json()
            got_l = sorted(((h["event"], h.get("from"), h.get("to"), h.get("by")) for h in got), key=str)
            exp_l = sorted(c.history, key=str)
            if got_l != exp_l:
                raise Violation("(2) every change of owner is kept once (rule 12)", "admin",
                                ["customer %s: history %s" % (cid, got_l), "expected %s" % exp_l], [cid])

    def check_conflicts(self):
        """Rule 9: every refused change is kept on the server as well, but
        for what a restore lost and each author's oldest ones beyond the
        bounds the server keeps (docs/RULES.md; Model.refusals_kept), and
        the server says when it dropped some."""
        r = self.replica("admin").ok("conflicts", "--json")
        on_server = {e["op"] for e in r.json()}
        dropped = {who: int(n) for n, who in re.findall(r"dropped (\d+) older refused changes? by (\S+)", r.err)}
        for login in self.reps:
            kept, fewest, most = self.m.refusals_kept(login)
            lost = sorted(kept - on_server)
            if lost:
                raise Violation("(2) refused changes are kept on the server (rule 9)", login,
                                ["%d of %s's latest refused ops are not in `rove conflicts`, e.g. %s" %
                                 (len(lost), login, lost[0])])
            if not fewest <= dropped.get(login, 0) <= most:
                raise Violation("(2) refused changes are kept on the server (rule 9)", login,
                                ["`rove conflicts` says the server dropped %d of %s's older refused ops; "
                                 "the model expects %d to %d" % (dropped.get(login, 0), login, fewest, most)])

    # ---- administration (online) ----

    def admin_run(self, actor, args, expect, what, record=None):
        """Runs an admin command; expect True (must succeed), False (must be
        refused) or None (either). Returns whether it succeeded."""
        r = self.replica(actor).run("admin", *args)
        self.stats["admin"] += 1
        self.log("%s: %s -> %d %s %s" % (actor, r.cmd(), r.rc, r.out.strip(), r.err.strip()))
        ok = r.rc == 0
        if expect is True and not ok:
            raise Violation("(5) no reply refuses a legitimate action", actor,
                            ["%s: %s exited %d: %s" % (what, r.cmd(), r.rc, r.err.strip())],
                            [record] if record else [])
        if expect is False and ok:
            raise Violation("(5) no rule-breaking action is accepted", actor,
                            ["%s: %s was accepted; SPEC rule 7 refuses it" % (what, r.cmd())],
                            [record] if record else [])
        return ok

    def act_reassign(self, actor=None, cid=None, to=None):
        actor = actor or self.rng.choice(["admin", "max", "mia"])
        u = self.user(actor)
        if cid is None:
            if u.role == "manager" and self.on("foreign") and self.rng.random() < 0.3:
                pool = sorted(c for c in self.m.s.customers if not self.m.s.customers[c].deleted)
            else:
                pool = sorted(self.view[actor]["c"])
            if not pool:
                return
            # Often one with deals (rule 14: open ones move, closed stay).
            dealt = [x for x in pool if x in self.m.s.customers and any(
                self.m.s.children[k].coll == "opportunity" for k in self.m.s.customers[x].children)]
            if dealt and self.rng.random() < 0.6:
                pool = dealt
            cid = self.rng.choice(pool)
        c = self.m.s.customers.get(cid)
        if to is None:
            others = [x for x in REPS + MANAGERS if c is None or x != c.owner]
            legit = [x for x in others if self.m.reassign_customer(actor, cid, x)]
            if self.on("foreign") and self.rng.random() < 0.3:
                legit = others  # maybe to someone outside the rules
            if not legit:
                return
            to = self.rng.choice(legit)
        expect = self.m.reassign_customer(actor, cid, to)
        what = "%s reassigns customer %s (territory %s, owner %s) to %s" % (
            actor, cid, c.territory if c else None, c.owner if c else None, to)
        if self.admin_run(actor, ["reassign", "--customer", cid, "--to", to], expect, what, cid):
            self.m.apply_reassign(actor, cid, to)

    def act_reassign_territory(self):
        actor = self.rng.choice(["admin", "max", "mia"])
        u = self.user(actor)
        pairs = [(t, f) for f in REPS for t in self.user(f).terrs
                 if u.role == "admin" or self.m.in_reach(u, t)]
        if not pairs:
            return
        code, frm = self.rng.choice(sorted(pairs))
        to = self.rng.choice([x for x in REPS if x != frm and (u.role == "admin" or any(
            self.m.in_reach(u, t) for t in self.user(x).terrs))] or [None])
        if to is None:
            return
        expect = self.m.reassign_territory(actor, code, frm, to)
        what = "%s moves territory %s from %s to %s" % (actor, code, frm, to)
        if self.admin_run(actor, ["reassign", "--territory", code, "--from", frm, "--to", to], expect, what):
            self.m.apply_reassign_territory(actor, code, frm, to)
            self.after_scope_change([frm, to])

    def act_assignment(self):
        login = self.rng.choice(REPS + MANAGERS)
        u = self.user(login)
        if u.terrs and (len(u.terrs) > 1 and self.rng.random() < 0.5):
            code = self.rng.choice(u.terrs)
            self.admin_run("admin", ["unassign", login, code], True, "unassign")
            u.terrs.remove(code)
            self.after_scope_change([login])
        else:
            choices = sorted(set(self.m.s.territories) - set(u.terrs))
            if not choices:
                return
            code = self.rng.choice(choices)
            self.admin_run("admin", ["assign", login, code], True, "assign")
            u.terrs.append(code)
            self.after_scope_change([login])

    def act_new_territory(self):
        parent = self.rng.choice(["n.a", "n.b", "s.a", "n"])
        code = "%s.%d" % (parent, self.next_id())
        self.admin_run("admin", ["territory", "add", code, "--name", "T " + code, "--parent", parent],
                       True, "new sub-territory")
        self.m.s.territories[code] = parent
        self.after_scope_change(MANAGERS)
        # A rep of the parent gets it too sometimes: pools move with it.
        reps = [r for r in REPS if parent in self.user(r).terrs]
        if reps and self.rng.random() < 0.5:
            r = self.rng.choice(reps)
            self.admin_run("admin", ["assign", r, code], True, "assign")
            self.user(r).terrs.append(code)

    def act_move_territory(self):
        """A manager moves a customer to another territory of his subtree,
        online (synced before and after, so no one else wrote it since)."""
        mgr = self.rng.choice(["max", "mia", "admin"])
        if self.user(mgr).disabled:
            return  # decided online, and a disabled manager is not
        self.sync_step(mgr)
        ids = [c for c in self.writable(mgr) if c != self.big]
        if not ids:
            return
        cid = self.rng.choice(ids)
        u = self.user(mgr)
        terrs = sorted(t for t in self.m.s.territories if u.role == "admin" or self.m.in_reach(u, t))
        t = self.rng.choice(terrs)
        op = {"kind": "set_customer", "id": cid, "fields": {"territory": t}, "wid": "w%d" % self.next_id(),
              "past": {}}
        # Rule 13 by the CLI at once: its dealer must be of t or above
        # (seed 2601: a customer with a dealer of s.a moved to s).
        if self.queue(mgr, op, ["customer", "set", cid, "territory=%s" % t], may_refuse_locally=True) is None:
            r = self.last_refusal
            c = self.m.s.customers.get(cid)
            if "is not a dealer of" not in r.err or c is None or \
                    any(self.m.dealer_fits(v, t) for v in c.regs["dealer"].values()):
                raise Violation("(5) a legitimate offline change was refused by the CLI", mgr,
                                ["%s exited %d: %s" % (r.cmd(), r.rc, r.err.strip())])
        self.sync_step(mgr)

    # ---- faults outside syncs ----

    def act_laptop_clock(self):
        login = self.rng.choice(REPS + MANAGERS)
        offset = self.rng.choice(LAPTOP_CLOCKS)
        rep = self.replica(login)
        rep.offset = offset
        self.stats["clock_jumps"] += 1
        self.event("%s's laptop clock set to %s" % (login, offset or "real"))
        self.verify_laptop_clock(rep, offset)

    def verify_laptop_clock(self, rep, offset):
        """The jump must be seen by rove itself: an activity made without
        --at on a scratch replica carries the laptop's date."""
        scratch = Replica(self.rove, self.tmp, "clockcheck", self.procs)
        scratch.offset = offset
        shutil.rmtree(scratch.dir, ignore_errors=True)
        scratch.ok("init", "--server", self.server.url, "--user", "nobody", "--token", "0" * 64)
        cid = scratch.ok("customer", "add", "--name", "clock").out.strip()
        scratch.ok("activity", "add", "--customer", cid, "--kind", "note")
        at = scratch.ok("activity", "list", "--json").json()[0]["at"]
        shutil.rmtree(scratch.dir, ignore_errors=True)
        got = datetime.datetime.fromisoformat(at.replace("Z", "+00:00"))
        want = datetime.datetime.now(datetime.timezone.utc) + offset_delta(offset)
        if abs((got - want).total_seconds()) > 120:
            raise HarnessError("libfaketime offset %s not seen by rove: it made an activity at %s" % (offset, at))

    def act_server_restart(self, offset=None, days=None):
        sig = self.rng.choice([signal.SIGTERM, signal.SIGKILL])
        if offset is None and days is None:
            offset, days = self.server.offset, self.server.offset_days
        rc = self.server.stop(sig)
        if sig == signal.SIGTERM and rc != 0:
            raise Violation("roved stops cleanly on SIGTERM", "-",
                            ["roved exited %s; the end of its log:" % rc] +
                            ["  " + l for l in self.server.log_tail(40).splitlines()])
        self.stats["restarts"] += 1
        # While it is down a sync fails with status 3 and changes nothing.
        login = self.rng.choice(REPS)
        rc2, _, err = self.run_sync(login)
        if rc2 != 3:
            raise Violation("a sync without a server exits 3", login, ["exit %d: %s" % (rc2, err.strip())])
        self.server.start(offset, days or 0)
        # Right after a restart, often a reassignment of a customer made
        # lately (by a laptop whose clock is ahead, when there is one).
        recent = [c for c in self.m.s.customers.values() if not c.deleted]
        ahead = [c for c in recent if self.replica(c.created_by).offset in ("+4m", "+2d")]
        pick = (ahead or recent)[-1:] if self.copy is None and self.rng.random() < 0.6 else []
        for c in pick:
            self.soon.append(("reassign", self.act_reassign, ("admin", c.id)))
        self.event("roved restarted (%s) with clock %s" % ("SIGTERM" if sig == signal.SIGTERM else "SIGKILL",
                                                             offset or "real"))

    def act_relisten(self):
        """Bare connections to roved's socket, which can stop its accept
        loop (its transport still answers the SP header, so only a
        request would tell): its guard dials its listener when no
        connection came for 3 s, listens anew if that one never arrives,
        and every second time (ROVE_RELISTENS=2) starts anew in place
        instead. Then a sync, checked as every other: it gets through,
        and finds every acknowledged change."""
        n = self.rng.randint(1, 6)
        log = self.server.log_count
        before = (log("listening again"), log("starting roved anew in place"), log("serving on"))
        self.server.bare_closes(n)
        t0 = time.monotonic()
        # The guard's period and checks, 3-8 s (more on a loaded machine:
        # a CI run's seed 7 synced 10 s after a stopped accept loop, before
        # the guard had listened anew); a restart in place is over when
        # the new image serves.
        while time.monotonic() - t0 < 30:
            after = (log("listening again"), log("starting roved anew in place"), log("serving on"))
            if after[1] > before[1] and after[2] > before[2]:
                break
            if after[1] == before[1] and (after[0] > before[0] or time.monotonic() - t0 > 20):
                break
            time.sleep(0.05)
        else:
            raise Violation("(4) roved serves again after bare connections", "-",
                            ["it started anew in place and did not serve within 30 s; the end of its log:"] +
                            ["  " + l for l in self.server.log_tail(20).splitlines()])
        self.stats["relistens"] += after[0] - before[0]
        self.stats["inplace"] += after[1] - before[1]
        self.event("%d bare connection(s): roved listened anew %d, started anew in place %d time(s)" %
                   (n, after[0] - before[0], after[1] - before[1]))
        self.sync_step(self.rng.choice(list(self.reps)))

    def act_server_clock(self):
        offset, days = self.rng.choice(SERVER_CLOCKS)
        self.stats["clock_jumps"] += 1
        self.act_server_restart(offset, days)

    def act_compact(self):
        """Drops old ops while roved serves. Nothing acknowledged may be
        lost by it: a replica that last synced before the ops it drops
        takes a fresh copy at its next sync, keeping its pending changes."""
        days = self.rng.choice([0, 0, 1, 2])
        # Compaction drops from the front while ops are stamped before its
        # horizon, the later of its machine's clock and the stored one.
        # While the stored clock is ahead (roved's clock was set back, or
        # took a laptop's stamp a few minutes ahead) roved stamps at the
        # stored millisecond, so --keep-days 0 keeps those ops (and their
        # tombstones) until the machine's clock passes it.
        wall = time.time() * 1000 + (self.server.offset_days or 0) * 86400000
        clock_behind = self.server.stored_clock_ms() < wall
        rc, err = self.server.compact(days)
        if rc != 0:
            raise Violation("roved compact works while roved serves", "-",
                            ["roved compact --keep-days %d exited %d: %s" % (days, rc, err.strip())])
        self.stats["compactions"] += 1
        gone, kept, missing = self.m.forget_dropped(self.server.held_records())
        if missing:
            raise Violation("compaction drops no live record, nor a deleted customer", "-",
                            ["roved compact --keep-days %d dropped live record(s): %s" % (days, ", ".join(missing))],
                            missing)
        # --keep-days 0 then drops every op but the latest, so every
        # tombstone but one (the latest op's) goes.
        if days == 0 and clock_behind and len(kept) > 1:
            raise Violation("compaction drops deleted records with their deletes", "-",
                            ["roved compact --keep-days 0 kept %d deleted records: %s" % (len(kept), ", ".join(kept))],
                            kept)
        self.event("roved compact --keep-days %d while it serves (%d deleted records dropped)" % (days, len(gone)))

    def act_laptop_lost(self, login):
        """login works offline, and the laptop is lost: its replica goes
        with the changes it had not sent; login sets up a new one with
        their token and syncs. What the server acknowledged is all there
        and in the new replica's scope as the model has it; what was never
        sent is gone, and nothing else (a sync first: a killed one leaves
        changes the server may have taken, which the model cannot tell)."""
        if self.user(login).disabled:
            return self.offline(login)
        self.sync_step(login)
        for _ in range(self.rng.choice([1, 2, 3])):
            self.offline(login)
        lost = self.pending[login]
        n = sum(len(op["items"]) if op.get("bulk") else 1 for op in lost)
        lost_wids = {op["wid"] for op in lost if op.get("wid")}
        for key in [k for k in self.own if k[0] == login]:
            self.own[key] = [w for w in self.own[key] if w.split(":")[0] not in lost_wids]
        shutil.rmtree(self.replica(login).dir)
        self.add_replica(login, self.tokens[login])
        self.stats["laptops"] += 1
        self.event("%s's laptop lost with %d unsent op(s); a new replica" % (login, n))
        self.sync_step(login)

    def act_backup(self):
        self.server.stop(signal.SIGTERM)
        self.server.copy_to(self.copy_dir)
        self.server.start(self.server.offset, self.server.offset_days)
        self.copy = self.m.s.clone()
        for login in self.reps:
            self.journal[login] = []
        self.restore_due = self.m.step + self.rng.randint(4, 25)
        self.event("roved stopped, its directory copied, restarted (restore due at step %d)" % self.restore_due)

    def act_restore(self):
        self.server.stop(signal.SIGTERM)
        self.server.restore_from(self.copy_dir)
        self.server.start(self.server.offset, self.server.offset_days)
        self.stats["restores"] += 1
        self.m.s = self.copy
        self.copy = None
        self.restore_due = None
        lost = 0
        for login in self.reps:
            # The server's record of refusals made after the copy is gone
            # with it (self.m.s.refusals); the authors keep theirs.
            self.replay[login] = self.journal[login]
            lost += len(self.journal[login])
            self.journal[login] = []
        if self.big is not None and self.big not in self.m.s.customers:
            self.big = None
            self.big_plan = []
        self.event("roved stopped and put back from the copy (%d acknowledged ops to be re-sent)" % lost)

    # ---- the schedule ----

    def choose(self):
        """One step, drawn from the seed. Returns a description."""
        rng = self.rng
        if self.copy is not None and self.m.step >= self.restore_due:
            return "restore", self.act_restore, ()
        if self.soon:
            return self.soon.pop(0)
        if self.big_plan and rng.random() < 0.3:
            return self.big_step()
        menu = [(30, "offline", None), (28, "sync", None), (3, "reassign", None)]
        if self.on("killsync"):
            menu.append((5, "killsync", None))
        if self.on("restart"):
            menu += [(2, "restart", None), (2, "killserver", None)]
        if self.on("clock"):
            menu.append((3, "clock", None))
        if self.on("compact"):
            menu.append((2, "compact", None))
        if self.on("srvclock"):
            menu.append((1, "srvclock", None))
        if self.on("scope"):
            menu += [(2, "scope", None), (1, "move", None)]
        if self.on("restore") and self.copy is None and not any(self.replay.values()):
            menu.append((1, "backup", None))
        if self.on("bigfamily") and self.big is None:
            menu.append((3, "bigfamily", None))
        if self.on("disable"):
            menu.append((1, "disable", None))
        if self.on("relisten"):
            menu.append((1, "relisten", None))
        if self.on("laptop"):
            menu.append((1, "laptop", None))
        total = sum(w for w, _, _ in menu)
        x = rng.uniform(0, total)
        for w, name, _ in menu:
            x -= w
            if x <= 0:
                break
        if self.copy is not None and name in ("reassign", "scope", "move", "disable"):
            name = "offline"  # admin actions would be lost with the restore
        if name == "laptop" and (self.copy is not None or any(self.replay.values())):
            name = "offline"  # what a restore takes away is re-sent from the laptops
        if name == "offline":
            login = rng.choice(list(self.reps))
            return "offline", self.offline, (login,)
        if name == "sync":
            login = rng.choice(list(self.reps))
            return "sync", self.sync_step, (login,)
        if name == "killsync":
            login = rng.choice(REPS + MANAGERS)
            return "killsync", self.long_sync_killed, (login,)
        if name == "killserver":
            return "killserver", self.sync_step, (rng.choice(REPS + MANAGERS), "killserver")
        if name == "restart":
            return "restart", self.act_server_restart, ()
        if name == "clock":
            return "clock", self.act_laptop_clock, ()
        if name == "compact":
            return "compact", self.act_compact, ()
        if name == "srvclock":
            return "srvclock", self.act_server_clock, ()
        if name == "reassign":
            return "reassign", self.act_reassign, ()
        if name == "scope":
            return "scope", rng.choice([self.act_assignment, self.act_new_territory,
                                        self.act_reassign_territory]), ()
        if name == "move":
            return "move", self.act_move_territory, ()
        if name == "backup":
            return "backup", self.act_backup, ()
        if name == "disable":
            return "disable", self.act_disable, ()
        if name == "relisten":
            return "relisten", self.act_relisten, ()
        if name == "laptop":
            return "laptop", self.act_laptop_lost, (rng.choice(REPS + MANAGERS),)
        if name == "bigfamily":
            owner = rng.choice(REPS)
            return "bigfamily", self.big_family_start, (owner,)
        raise AssertionError(name)

    def long_sync_killed(self, login):
        """Many pending changes, then a sync in small batches, SIGKILLed."""
        if self.rng.random() < 0.5:
            for _ in range(3):
                self.offline(login)
        self.sync_step(login, "killsync")

    def after_scope_change(self, logins):
        """The next sync of a user whose scope changed is a reset snapshot:
        often kill it midway (killsync)."""
        if self.on("killsync"):
            self.soon += [("killsync", self.sync_step, (x, "killsync")) for x in logins
                          if self.rng.random() < 0.7]

    def big_family_start(self, login):
        self.act_big_family(login)
        if self.big is not None:
            self.sync_step(login)

    def big_step(self):
        what = self.big_plan.pop(0)
        c = self.m.s.customers.get(self.big)
        if c is None or c.deleted:
            self.big_plan = []
            return "sync", self.sync_step, (self.rng.choice(list(self.reps)),)
        if what == "sync":
            return "bigfamily", self.sync_step, (self.rng.choice(list(self.reps)),)
        if what == "reassign" and self.copy is None:
            to = sorted(r for r in REPS if r != c.owner and self.m.reassign_customer("admin", c.id, r))
            if to:
                return "bigfamily", self.act_reassign, ("admin", self.big, self.rng.choice(to))
        if what == "release" and c.owner in REPS and not self.user(c.owner).disabled:
            owner = c.owner

            def release():
                self.sync_step(owner)
                # The sync may have pushed a release of it queued earlier.
                now = self.m.s.customers.get(c.id)
                if now is None or now.owner != owner:
                    return
                if self.queue(owner, {"kind": "release", "id": c.id}, ["customer", "release", c.id]):
                    self.sync_step(owner)
            return "bigfamily", release, ()
        if what == "claim" and c.owner is None:
            reps = sorted(r for r in REPS if c.territory in self.user(r).terrs and not self.user(r).disabled)
            if reps:
                who = self.rng.choice(reps)

                def claim():
                    self.sync_step(who)
                    # The sync may have pushed a claim of it queued earlier.
                    if self.m.s.customers[c.id].owner is None and self.big in self.view[who]["c"]:
                        if self.queue(who, {"kind": "claim", "id": c.id}, ["customer", "claim", c.id]):
                            self.sync_step(who, "killsync" if self.on("killsync") else None)
                return "bigfamily", claim, ()
        return "sync", self.sync_step, (self.rng.choice(list(self.reps)),)

    def offline(self, login):
        """A burst of offline work by one user (a long offline period
        sometimes: many changes before the next sync)."""
        u = self.user(login)
        n = self.rng.choice([1, 1, 2, 3, 8]) if self.rng.random() > 0.1 else 25
        for _ in range(n):
            x = self.rng.random()
            if u.role == "analyst":
                self.act_hostile(login)
                return
            if u.role == "rep":
                acts = [(0.22, self.act_create_customer), (0.21, self.act_edit_customer),
                        (0.08, self.act_claim), (0.06, self.act_release), (0.19, self.act_add_child),
                        (0.07, self.act_edit_contact), (0.07, self.act_deal), (0.03, self.act_delete),
                        (0.03, self.act_hostile), (0.04, self.act_dealer)]
            else:
                acts = [(0.14, self.act_create_customer), (0.3, self.act_edit_customer),
                        (0.18, self.act_add_child), (0.09, self.act_edit_contact), (0.07, self.act_deal),
                        (0.07, self.act_delete), (0.05, self.act_hostile), (0.1, self.act_dealer)]
            for w, fn in acts:
                x -= w
                if x <= 0:
                    fn(login)
                    break

    def run(self):
        self.setup()
        for step in range(1, self.steps + 1):
            self.m.step = step
            kind, fn, args = self.choose()
            self.step_desc = "%s %s" % (kind, " ".join(str(a) for a in args if isinstance(a, str)))
            fn(*args)
            if step % 40 == 0:
                self.checkpoint()
        self.m.step = self.steps + 1
        if self.copy is not None:
            self.act_restore()
        self.checkpoint()
        self.check_server_db()
        for login in sorted(self.reps):
            self.check_replica(login, "at the end")

    def check_replica(self, login, when):
        """rove_index_check on a replica (when ROVE_INDEX_CHECK names it):
        its indexes agree with its records, and its outbox's acknowledged
        ops come first (what rove status counts on)."""
        if not self.index_check:
            return
        rep = self.replica(login)
        env = rep.env()
        # A check that runs past its time is stopped with SIGABRT, which
        # a sanitized build answers with its stack (it ran past 120 s
        # once in CI under the sanitizers, after a killed sync).
        env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":handle_abort=1").lstrip(":")
        p = subprocess.Popen([self.index_check, rep.dir], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env)
        try:
            out, err = p.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGABRT)
            try:
                out, err = p.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                out, err = p.communicate()
            raise Violation("(3) a replica's check ends (%s)" % when, login,
                            ["%s %s ran past 120 s; stopped with SIGABRT:" % (self.index_check, rep.dir)] +
                            (out + err).strip().splitlines()[:60])
        if p.returncode != 0:
            raise Violation("(3) a replica's indexes and outbox stay consistent (%s)" % when, login,
                            (out + err).strip().splitlines()[:20])

    def check_server_db(self):
        """roved check on the server's database at the end, while it
        serves: every index agrees with the records after all the faults
        (the scope index's copies of records among them)."""
        r = subprocess.run([self.roved, "check", self.server.dir], capture_output=True, text=True)
        if r.returncode != 0:
            raise Violation("roved check: the server's database is consistent", "-",
                            (r.stdout + r.stderr).strip().splitlines()[:20])

    def replay_command(self):
        return ("ROVE_BIN=%s ROVED_BIN=%s%s python3 %s --seed %d --steps %d --faults %s" %
                (self.rove, self.roved, " ROVE_PROBE=%s" % self.probe if self.probe else "",
                 (lambda r: r if not r.startswith("..") else os.path.abspath(__file__))(
                     os.path.relpath(os.path.abspath(__file__))), self.seed, self.m.step,
                 ",".join(sorted(self.faults)) or "none"))

    def report(self, v):
        out = sys.stderr
        print("\nmodel_check: FAILED at step %d of %d (seed %d)" % (self.m.step, self.steps, self.seed), file=out)
        print("  step:      %s" % self.step_desc, file=out)
        print("  invariant: %s" % v.invariant, file=out)
        print("  user:      %s" % v.user, file=out)
        for line in v.lines:
            print("  - %s" % line, file=out)
        for rid in v.records:
            events = self.m.log.get(rid)
            if events:
                print("  what the model saw of %s:" % rid, file=out)
                for step, text in events[-16:]:
                    print("    step %d: %s" % (step, text), file=out)
        if self.events:
            print("  faults so far:", file=out)
            for step, text in self.events[-6:]:
                print("    step %d: %s" % (step, text), file=out)
        clocks = {l: r.offset for l, r in self.reps.items() if r.offset}
        print("  clocks: laptops %s, roved %s" % (clocks or "real", self.server.offset or "real"), file=out)
        print("  replay: %s" % self.replay_command(), file=out)
        if self.keep:
            print("  files kept in %s" % self.tmp, file=out)

    def close(self):
        if self.pg is not None:
            self.pg.stop()
        self.procs.stop_all()
        if not self.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)


FEED_TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\+00:00$")


def strip_pending(r):
    """A record as the feed has it: a list's pending mark is the replica's."""
    r = dict(r)
    r.pop("pending", None)
    return r


def feed_diff(got, want):
    """Records of a table and of the replica that differ, by id."""
    g, w = {r["id"]: r for r in got}, {r["id"]: r for r in want}
    out = []
    for rid in sorted(set(g) | set(w)):
        if rid not in g:
            out.append("%s: in the replica, not in the table: %s" % (rid, json.dumps(w[rid], sort_keys=True)))
        elif rid not in w:
            out.append("%s: in the table, not in the replica: %s" % (rid, json.dumps(g[rid], sort_keys=True)))
        elif g[rid] != w[rid]:
            out += [rid + line for line in json_diff(g[rid], w[rid], ("table", "replica"))]
    return out[:20]


def json_diff(a, b, names=("sums", "scan"), path="", out=None):
    """Where two JSON values differ: lines "PATH: sums X, scan Y" (names)."""
    out = [] if out is None else out
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            json_diff(a.get(k), b.get(k), names, "%s.%s" % (path, k), out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            json_diff(x, y, names, "%s[%d]" % (path, i), out)
    elif a != b:
        out.append("%s: %s %s, %s %s" % (path or ".", names[0], json.dumps(a), names[1], json.dumps(b)))
    return out[:20]


def refusal_size(entry):
    """At least the bytes the server counts for a refusal (docs/RULES.md:
    at most 1 MiB of an author's refusals): the stored op, whose
    MessagePack is shorter than its JSON here, its answer (a detail of at
    most 128 bytes) and index entries under the harness's short territory
    codes, within 512 bytes."""
    return len(json.dumps(entry)) + 512


def offset_delta(offset):
    if not offset:
        return datetime.timedelta(0)
    sign = -1 if offset[0] == "-" else 1
    n, unit = int(offset[1:-1]), offset[-1]
    return sign * {"d": datetime.timedelta(days=n), "m": datetime.timedelta(minutes=n),
                   "h": datetime.timedelta(hours=n)}[unit]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # ROVE_MODEL_DEFAULT_* are set by CTest, ROVE_SEED / ROVE_MODEL_STEPS by
    # whoever runs it, and win.
    env = os.environ.get
    ap.add_argument("--seed", type=int, default=int(env("ROVE_SEED") or env("ROVE_MODEL_DEFAULT_SEED") or
                                                    random.randrange(1, 10**6)))
    ap.add_argument("--steps", type=int, default=int(env("ROVE_MODEL_STEPS") or env("ROVE_MODEL_DEFAULT_STEPS") or 200))
    ap.add_argument("--faults", default=os.environ.get("ROVE_MODEL_FAULTS") or "all")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    # No laptop is lost here: every author sends her own writes again
    # after a restore. A manager's or admin's replica sends others' writes
    # the server still lacks only a day after its recovery (rove's
    # "orphans", t_restore_others), which a server clock moved days ahead
    # would make due at once; the model leaves that out.
    os.environ["ROVE_ORPHAN_WAIT"] = str(100 * 365 * 86400)
    try:
        faults = parse_faults(a.faults)
    except ValueError as e:
        ap.error(str(e))
    print("model_check: seed %d, %d steps, faults %s" % (a.seed, a.steps, ",".join(sorted(faults)) or "none"),
          flush=True)
    h = None
    t0 = time.monotonic()
    interrupted = []

    def on_signal(sig, frame):
        interrupted.append(sig)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        h = Harness(a.seed, a.steps, faults, a.verbose, a.keep)
        h.run()
    except Violation as v:
        h.report(v)
        return 1
    except HarnessError as e:
        print("model_check: harness error at step %d: %s" % (h.m.step if h else 0, e), file=sys.stderr)
        if h:
            print("  step: %s\n  replay: %s" % (h.step_desc, h.replay_command()), file=sys.stderr)
        return 4
    except KeyboardInterrupt:
        print("model_check: interrupted", file=sys.stderr)
        return 130
    finally:
        if h:
            h.close()
    s = h.stats
    print("model_check: ok, seed %d, %d steps in %.1f s: %d syncs, %d ops, %d refused as the rules say, "
          "%d admin actions, %d rove and %d roved kills, %d restarts, %d restores, %d compactions, "
          "%d clock jumps, %d listens anew, %d restarts in place, %d sent again when their record came back, "
          "%d laptops lost, %d connections cut by a lossy link and %d held past rove's timeout, "
          "%d report checks, %d feed rounds checked (%d after a feed killed)" %
          (a.seed, a.steps, time.monotonic() - t0, s["syncs"], s["ops"], s["rejected"], s["admin"],
           s["kills_rove"], s["kills_roved"], s["restarts"], s["restores"], s["compactions"],
           s["clock_jumps"], s["relistens"], s["inplace"], s["waited"], s["laptops"], s["link_cuts"],
           s["link_stalls"], s["reports"], s["feeds"], s["feed_kills"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
