#!/usr/bin/env python3
"""rove's randomised command-line hunt: hostile input on the CLI contract.

Random commands from SPEC.md's command-line contract, with random and
hostile values (empty, very long, control characters, bytes that are not
UTF-8, values that look like options, ids of others' records, abbreviated
ids, odd money and dates, fields that are not to be written), run by a
rep, a second rep, a manager, an analyst and the admin against a real
`roved`. After every command the contract is checked:

  - the exit status is 0, 1, 2 or 3, never a signal, and the sanitizers
    (in their build) said nothing;
  - a failed command says why on stderr, and changed nothing: the
    replica's data file is byte for byte the same (commands that reach
    the server are left out of this check: a sync may fail halfway);
  - a command that succeeded with --json printed one JSON document (a
    list command an array, a show command an object), with --csv a CSV
    table, and an `add` the new id alone on stdout.

Every few commands everyone syncs, twice, and then: each sync succeeds
with nothing left pending, the second has nothing to push, every record a
replica holds equals the admin's copy, and `roved check` is clean.

  cli_hunt.py [--seed S] [--commands N] [--keep] [-v]

Binaries: env ROVE_BIN, ROVED_BIN. Exit status 0: every check held; 1: a
check failed (the command, its output and the seed to replay); 2: usage;
4: the harness itself failed.
"""

import argparse
import csv
import hashlib
import io
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from system import HarnessError, Procs, Server  # noqa: E402

USERS = [("alice", "rep", ["e.sh"]), ("bob", "rep", ["e.sh", "e.hz"]), ("max", "manager", ["e"]),
         ("ana", "analyst", [])]
TERRITORIES = [("e", None), ("e.sh", "e"), ("e.hz", "e"), ("w", None)]
KINDS = ["customers", "contacts", "opportunities", "contracts", "activities", "dealers"]
LISTS = ["customer", "contact", "contract", "opportunity", "activity", "dealer"]
SANITIZER = re.compile(rb"AddressSanitizer|UndefinedBehaviorSanitizer|LeakSanitizer|runtime error:")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# Commands that talk to the server: a failure there may come after a part
# was done (a sync that pushed, then could not pull).
NETWORK = {"sync", "admin", "conflicts"}


class Finding(Exception):
    pass


class Hunt:
    def __init__(self, seed, commands, verbose, keep):
        self.seed, self.n, self.verbose, self.keep = seed, commands, verbose, keep
        self.rng = random.Random(seed)
        self.rove = os.environ.get("ROVE_BIN")
        self.roved = os.environ.get("ROVED_BIN")
        if not self.rove or not self.roved:
            raise HarnessError("set ROVE_BIN and ROVED_BIN")
        self.tmp = tempfile.mkdtemp(prefix="rove-cli-hunt.")
        self.procs = Procs()
        self.srv = Server(self.roved, self.tmp, self.procs)
        self.tokens = {}
        self.ids = {}  # login -> ids of records that login made or saw
        self.ops = {}  # login -> rejected op ids seen
        self.held = {}  # (login, kind) -> ids of that kind the login's replica held at the last sync
        self.done = 0
        self.counts = {}
        self.wild = False  # this command's values may be hostile

    # -- running ---------------------------------------------------------

    def env(self):
        e = dict(os.environ)
        if e.get("ROVE_SANITIZED") == "1":
            asan = e.get("ASAN_OPTIONS", "")
            e["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "detect_leaks=0"
        e["TZ"] = "UTC"
        return e

    def rdir(self, login):
        return os.path.join(self.tmp, "r-" + login)

    def run(self, login, args, stdin=None, timeout=120, extra_env=None):
        argv = [os.fsencode(self.rove), b"-R", os.fsencode(self.rdir(login))]
        argv += [a if isinstance(a, bytes) else os.fsencode(a) for a in args]
        env = self.env()
        env.update(extra_env or {})
        t0 = time.monotonic()
        try:
            r = subprocess.run(argv, capture_output=True, input=stdin, timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            raise Finding("rove %s (as %s) ran past %d s" % (show_args(args), login, timeout))
        return r.returncode, r.stdout, r.stderr, time.monotonic() - t0

    def ok(self, login, args, stdin=None):
        rc, out, err, _ = self.run(login, args, stdin)
        if rc != 0:
            raise HarnessError("rove %s (as %s) exited %d: %s" % (show_args(args), login, rc,
                                                                 err.decode("utf-8", "replace").strip()))
        return out.decode("utf-8", "replace")

    def json_of(self, login, args):
        out = self.ok(login, args)
        try:
            return json.loads(out)
        except ValueError as e:
            raise Finding("rove %s (as %s) printed no JSON document (%s): %r" % (
                show_args(args), login, e, out[:1000]))

    def data_file(self, login):
        with open(os.path.join(self.rdir(login), "data.mdb"), "rb") as f:
            return f.read()

    def data_changed(self, login, before):
        """Whether the replica holds anything else than its data file's
        bytes before (a copy is compared table by table when the bytes
        differ)."""
        if self.data_file(login) == before:
            return False
        d = os.path.join(self.tmp, "before")
        shutil.rmtree(d, ignore_errors=True)
        os.mkdir(d)
        with open(os.path.join(d, "data.mdb"), "wb") as f:
            f.write(before)
        return self.data_sum(d) != self.data_sum(self.rdir(login))

    def data_sum(self, d):
        """A digest of what the replica in directory d holds, by table
        (mdb_dump). The tables a read builds from the others when it first
        needs them (the indexes of a base, the report sums) and their marks
        in meta are left out: a failed command may have read."""
        r = subprocess.run(["mdb_dump", "-l", d], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise HarnessError("mdb_dump -l %s: %s (lmdb-utils: scripts/deps)" % (d, r.stderr.strip()))
        h = hashlib.sha256()
        for name in sorted(r.stdout.split()):
            if name.startswith(("index", "report")):
                continue
            t = subprocess.run(["mdb_dump", "-s", name, d], capture_output=True, timeout=60)
            if t.returncode != 0:
                raise HarnessError("mdb_dump -s %s %s failed" % (name, d))
            lines = t.stdout.split(b"HEADER=END\n", 1)[-1].splitlines()
            pairs = zip(lines[0::2], lines[1::2])
            if name == "meta":
                pairs = [(k, v) for k, v in pairs
                         if not bytes.fromhex(k.strip().decode()).startswith((b"indexed/", b"report"))]
            h.update(name.encode() + b"\0")
            for k, v in pairs:
                h.update(k + b"=" + v + b"\n")
        return h.hexdigest()

    # -- setup -----------------------------------------------------------

    def setup(self):
        admin_token = self.srv.init()
        self.srv.start()
        self.tokens["admin"] = admin_token
        self.ok("admin", ["init", "--server", self.srv.url, "--user", "admin", "--token", admin_token])
        for code, parent in TERRITORIES:
            self.ok("admin", ["admin", "territory", "add", code, "--name", "T " + code] +
                    (["--parent", parent] if parent else []))
        for login, role, terrs in USERS:
            args = ["admin", "user", "add", login, "--role", role]
            for t in terrs:
                args += ["--territory", t]
            tok = self.ok("admin", args).strip()
            self.tokens[login] = tok
            self.ok(login, ["init", "--server", self.srv.url, "--user", login, "--token", tok])
        for login in self.logins():
            self.ids[login] = []
            self.ops[login] = []
        # A few records to aim at.
        for login, terr in (("alice", "e.sh"), ("bob", "e.hz"), ("max", "e.sh")):
            for i in range(3):
                cid = self.ok(login, ["customer", "add", "--name", "Seed %s %d" % (login, i),
                                      "--territory", terr]).strip()
                self.ids[login].append(cid)
                self.ids[login].append(self.ok(login, ["contact", "add", "--customer", cid,
                                                       "--name", "Contact %d" % i]).strip())
                self.ids[login].append(self.ok(login, ["opportunity", "add", "--customer", cid,
                                                       "--title", "Deal %d" % i, "--amount", "100"]).strip())
        self.ok("admin", ["dealer", "add", "--name", "Dealer", "--territory", "e"])
        self.sync_round()

    def logins(self):
        return ["admin"] + [u[0] for u in USERS]

    # -- values ----------------------------------------------------------

    def hostile(self, p):
        """Whether this value is a hostile one: in a hostile command, with
        probability p; in a plain one (most), never."""
        return self.wild and self.rng.random() < p

    def pick(self, sane, bad):
        return self.rng.choice(bad if self.hostile(0.6) else sane)

    def any_id(self, login):
        pool = [i for ids in self.ids.values() for i in ids]
        r = self.rng.random()
        if not pool or self.hostile(0.15):
            return self.rng.choice(["", "abc", "00000000-0000-0000-0000-000000000000", "-1",
                                    "ffffffff-ffff-7fff-bfff-ffffffffffff", "x" * 300, "%s"])
        i = self.rng.choice(self.ids[login] if self.ids[login] and (r < 0.6 or not self.wild) else pool)
        r = self.rng.random()
        if r < 0.15:
            return i[-self.rng.randint(1 if self.wild else 6, 12):]  # the end, maybe too short
        if r < 0.25:
            return i[:self.rng.randint(1 if self.wild else 6, 12)]
        if r < 0.3:
            return i.upper()
        return i

    def text(self):
        if not self.hostile(0.7):
            return self.rng.choice(["Acme", "钢铁有限公司", "O'Brien & Sons", "a,b", 'q"uote', "Zoë",
                                    "back\\slash", "=cmd()", "-lead", "x" * 200, "字" * 200,
                                    "😀", "%s"]) + (" %d" % self.rng.randrange(1000) if self.maybe(0.5) else "")
        opts = [
            "", " ", "-", "--", "-x", "--name", "--json", "=", "a=b", "\t", "line\nbreak", "cr\rlf",
            "\x01ctl", "\x7f", "\u200b", "\u202eevil", "\ufeffbom", "😀" * 3, "x" * 199, "x" * 200,
            "x" * 201, "字" * 200, "字" * 201, "y" * 5000, "%s%n", "\\", "null", "NaN", "0", "-0",
            "nul\\u0000", "𝔘nicode",
        ]
        v = self.rng.choice(opts)
        if self.rng.random() < 0.1:
            return b"bad\xff\xfeutf8" if self.rng.random() < 0.5 else b"\xc3"
        return v

    def money(self):
        if not self.hostile(0.7):
            return self.rng.choice(["0", "1", "12000.50", "0.01", "100000000000", "99.9"])
        return self.rng.choice(["0", "1", "12000.50", "0.01", "0.001", "-1", "-0", "1e3", "100000000000",
                                "100000000000.01", "99999999999.99", "1,000", " 5", "5 ", "", "abc",
                                "NaN", "inf", "0x10", "1.", ".5", "18446744073709551616"])

    def date(self):
        if not self.hostile(0.7):
            return self.rng.choice(["2026-11-01", "1980-01-01", "2099-12-31", "2026-11-01T10:00:00Z"])
        return self.rng.choice(["2026-11-01", "2026-02-30", "1979-12-31", "1980-01-01", "2099-12-31",
                                "2100-01-01", "", "2026-1-1", "2026-11-01T10:00", "2026-11-01T25:00",
                                "2026-11-01T10:00:00Z", "9999-99-99", "-2026-01-01", "today"])

    def phone(self):
        if not self.hostile(0.7):
            return self.rng.choice(["13800000%03d" % self.rng.randint(0, 999),
                                    "+86 138 0000 %04d" % self.rng.randint(0, 9999), "021-5555 %04d" % self.rng.randint(0, 9999)])
        return self.rng.choice(["13800000%03d" % self.rng.randint(0, 999), "+86 138 0000 %04d" % self.rng.randint(0, 9999),
                                "0086-13800000001", "1", "", "123转45", "++", "(0)", "1" * 40, "+8613800000001x9",
                                "abc", "13800000001 13800000002"])

    def field_value(self, field):
        f = {
            "name": self.text, "address": self.text, "note": self.text, "title": self.text,
            "location": self.text, "number": self.text, "phone": self.phone,
            "amount": self.money, "signed_on": self.date, "expected_close": self.date,
            "closed_on": self.date, "at": self.date,
        }.get(field)
        if f is not None:
            return f()
        if field == "tier":
            return self.pick(["prospect", "customer", "loyal"], ["", "vip", "LOYAL"])
        if field == "territory":
            return self.pick(["e", "e.sh", "e.hz", "w"], ["", "nowhere", "E.SH", "e."])
        if field == "tax_id":
            if not self.hostile(0.6):
                return tax_id(self.rng.randrange(40))  # a few: duplicates come up
            return self.rng.choice([tax_id(1).lower(), "-".join(tax_id(2)[i:i + 6] for i in (0, 6, 12)),
                                    "123", "", tax_id(3)[:-1] + "I"])
        if field in ("owner", "author"):
            return self.pick(["alice", "bob", "max", "ana", "admin"], ["", "nobody", "-"])
        if field == "stage":
            return self.pick(["lead", "qualified", "proposal", "negotiation", "won", "lost"], ["", "dead"])
        if field == "status":
            return self.pick(["draft", "active", "completed", "terminated"], ["", "void"])
        if field == "kind":
            return self.pick(["visit", "call", "note"], ["", "email"])
        if field in ("dealer", "customer"):
            return self.any_id("admin")
        if field == "email":
            return self.pick(["a@b.cn", "li.wang+crm@example.com"], ["", "not-an-email", "a@b", "@", "x" * 300 + "@b.cn"])
        return self.text()

    def maybe(self, p=0.5):
        return self.rng.random() < p

    def assignments(self, fields, extra=("owner", "id", "_deleted", "deleted", "created_at", "version",
                                         "nope", "")):
        args = []
        for _ in range(self.rng.randint(0 if self.wild else 1, 3)):
            f = self.rng.choice(list(fields) + list(extra) if self.maybe(0.2) else list(fields))
            v = self.field_value(f)
            if isinstance(v, bytes):
                args.append(f.encode() + b"=" + v)
            else:
                args.append("%s=%s" % (f, v) if self.maybe(0.95) else f)
        return args

    def opt(self, name, value):
        return [name, value] if not self.hostile(0.3) else ([name] if self.maybe(0.5) else [])

    # -- commands --------------------------------------------------------

    def command(self, login):
        """A random command: (args, stdin, kind) where kind is how to check
        its output on success: 'add', 'json-list', 'json-object', 'csv',
        or None."""
        rng = self.rng
        c = rng.randrange(34)
        if c >= 30:
            return self.dealer_ref_command(login)
        fmt_all = rng.choice(["", "--json", "--csv", "--wide", "--json --csv"]).split()

        def fmt(*allowed):
            return fmt_all if self.wild else list(rng.choice(((),) + tuple((a,) for a in allowed)))
        if c < 4:
            args = ["customer", "add"] + self.opt("--name", self.field_value("name"))
            for o, f in (("--phone", "phone"), ("--tax-id", "tax_id"), ("--territory", "territory"),
                         ("--tier", "tier"), ("--address", "address"), ("--dealer", "dealer"),
                         ("--owner", "owner")):
                if self.maybe(0.8 if f == "territory" else 0.1 if f in ("dealer", "owner") else 0.3):
                    args += self.opt(o, self.field_value(f))
            return args, None, "add"
        if c < 7:
            return (["customer", "set", self.any_id(login)] +
                    self.assignments(["name", "phone", "tax_id", "tier", "territory", "address", "dealer"]),
                    None, None)
        if c < 9:
            coll = rng.choice(["contact", "contract", "opportunity", "activity"])
            args = [coll, "add"] + self.opt("--customer", self.any_id(login))
            req = {"contact": ["name"], "contract": ["number", "amount"], "opportunity": ["title"],
                   "activity": ["kind"]}[coll]
            more = {"contact": ["phone", "email", "title"], "contract": ["signed_on", "status"],
                    "opportunity": ["amount", "stage", "expected_close", "closed_on", "owner"],
                    "activity": ["at", "note", "location"]}[coll]
            for f in req:
                args += self.opt("--" + f.replace("_", "-"), self.field_value(f))
            for f in more:
                if self.maybe(0.4):
                    args += self.opt("--" + f.replace("_", "-"), self.field_value(f))
            return args, None, "add"
        if c < 11:
            coll = rng.choice(["contact", "contract", "opportunity"] + (["activity"] if self.wild else []))
            fields = {"contact": ["name", "phone", "email", "title"],
                      "contract": ["number", "amount", "signed_on", "status"],
                      "opportunity": ["title", "amount", "stage", "expected_close", "owner"],
                      "activity": ["kind", "at", "note", "location"]}[coll]
            return [coll, "set", self.any_id(login)] + self.assignments(fields), None, None
        if c < 13:
            what = rng.choice(LISTS)
            f = fmt("--json", "--wide")
            args = [what, "list"] + f
            if what != "customer" and what != "dealer" and self.maybe(0.5):
                args += self.opt("--customer", self.any_id(login))
            if self.maybe(0.3):
                args += self.opt("--search", self.text())
            if self.maybe(0.3):
                args += self.opt("--sort", rng.choice(["name", "name:desc", "phone", "nope", "", ":desc",
                                                        "amount:asc", "created_at"]))
            if self.maybe(0.3):
                args += self.opt("--limit", rng.choice(["0", "1", "-1", "abc", "99999999999999999999", ""]))
            if what == "customer" and self.maybe(0.4):
                args += rng.choice([["--mine"], ["--pool"], ["--owner", self.field_value("owner")],
                                    ["--territory", self.field_value("territory")],
                                    ["--tier", self.field_value("tier")], ["--mine", "--pool"]])
            if what == "opportunity" and self.maybe(0.3):
                args += rng.choice([["--stage", self.field_value("stage")],
                                    ["--owner", self.field_value("owner")]])
            return args, None, "json-list" if "--json" in f else ("csv" if "--csv" in f else None)
        if c < 14:
            what = rng.choice(LISTS)
            f = fmt("--json")
            args = [what, "show", self.any_id(login)] + f
            return args, None, "json-object" if "--json" in f else None
        if c < 16:
            cid = self.any_id(login)
            return rng.choice([
                ["customer", "claim", cid],
                ["customer", "release", cid] + (self.opt("--reason", self.text()) if self.maybe() else []),
                ["customer", "delete", cid],
                ["customer", "history", cid] + fmt("--json"),
                ["opportunity", "stage", cid, self.field_value("stage")],
                [rng.choice(["contact", "contract", "opportunity", "activity", "dealer"]), "delete", cid],
            ]), None, None
        if c < 17:
            args = ["dealer", "add"] + self.opt("--name", self.text()) + \
                self.opt("--territory", self.field_value("territory"))
            if self.maybe(0.3):
                args += self.opt("--phone", self.phone())
            return args, None, "add"
        if c < 18:
            return (["target", "set", self.field_value("owner")] + self.opt("--period", rng.choice(
                ["2026-11", "2026-13", "", "2026-1", "1979-12", "2026-11-01"])) +
                self.opt("--amount", self.money()), None, None)
        if c < 19:
            f = fmt("--json")
            return ["target", "list"] + f, None, "json-list" if "--json" in f else None
        if c < 21:
            r = rng.randrange(4)
            if r == 0:
                f = fmt("--json")
                args = ["rejected"] + f
                if self.maybe(0.3):
                    args += self.opt("--reason", rng.choice(["invalid", "duplicate", "nope", ""]))
                if self.maybe(0.3):
                    args += self.opt("--since", self.date())
                return args, None, "json-list" if "--json" in f else None
            ops = self.ops[login] or ["abcdef"]
            op = rng.choice(ops + ["", "abc", "zzzzzz"])
            if r == 1:
                return ["rejected", "dismiss", op if self.maybe(0.8) else "--all"], None, None
            return (["rejected", "retry", op] + self.assignments(["name", "phone", "tier", "title", "amount"]),
                    None, None)
        if c < 22:
            what = rng.choice(["status", "pending"])
            f = fmt("--json")
            json_out = f[:1] == ["--json"] and "--csv" not in f
            return [what] + f, None, (None if not json_out else
                                        "json-object" if what == "status" else "json-list")
        if c < 23:
            rep = rng.choice(["pipeline", "targets", "daily", "nope"])
            args = ["report", rep] + fmt("--json", "--csv")
            if rep == "targets" and self.maybe(0.4):
                args += self.opt("--period", rng.choice(["2026-11", "2026-13", "x"]))
            if rep == "daily" and self.maybe(0.4):
                args += self.opt(rng.choice(["--from", "--to"]), self.date())
            return args, None, None
        if c < 24:
            args = ["export", rng.choice(KINDS + ["nope", ""])] + rng.choice([[], ["--csv"], ["--json"], ["--bom"],
                                                                              ["--csv", "--json"]])
            kind = "json-list" if "--json" in args and "--csv" not in args else "csv"
            return args, None, kind
        if c < 26:
            return self.import_command(login)
        if c < 27:
            return ["territory", rng.choice(["list", "show"])] + \
                ([self.field_value("territory")] if self.maybe(0.5) else []) + fmt("--json"), None, None
        if c < 28:
            key = rng.choice(["server", "token", "ca", "nope", ""])
            args = ["config"] + ([key] if self.maybe(0.8) else [])
            # Reading only: a changed server or token would end the hunt's
            # syncs, not find anything.
            return args, None, None
        if c < 29:
            return [rng.choice(["customer", "contact", "nope", "--help", "-x", ""]),
                    rng.choice(["", "list", "--help", "show", "bogus"]), self.text()], None, None
        return self.admin_command(login)

    def dealer_ref_command(self, login):
        """Well-formed changes of the references between customers and
        dealers (rule 13: a customer's dealer is a live dealer of its
        territory or above, from either side): a customer given a dealer
        or none, a dealer deleted or moved, each by whoever runs it, on
        what their replica held at the last sync. Between two syncs the
        users work offline, so a dealer's delete or move races the
        customers' choices; the syncs' checks (roved check among them)
        find a customer left naming a dealer gone or out of its line."""
        rng = self.rng
        dealers = self.held.get((login, "dealers")) or self.held.get(("admin", "dealers")) or ["abcdef"]
        customers = self.held.get((login, "customers")) or ["abcdef"]
        r = rng.randrange(10)
        if r < 5:
            return ["customer", "set", rng.choice(customers), "dealer=" + rng.choice(dealers)], None, None
        if r < 6:
            return ["customer", "set", rng.choice(customers),
                    rng.choice(["dealer=", "territory=" + rng.choice([t[0] for t in TERRITORIES])])], None, None
        if r < 8:
            return ["dealer", "delete", rng.choice(dealers)], None, None
        if r < 9:
            return ["dealer", "set", rng.choice(dealers), "territory=" + rng.choice([t[0] for t in TERRITORIES])], \
                None, None
        return ["dealer", "add", "--name", "D%d" % rng.randrange(1000), "--territory",
                rng.choice([t[0] for t in TERRITORIES])], None, "add"

    def import_command(self, login):
        rng = self.rng
        kind = rng.choice(KINDS)
        cols = {"customers": ["name", "tax_id", "phone", "address", "tier", "territory", "owner", "dealer"],
                "contacts": ["customer", "name", "phone", "email", "title"],
                "opportunities": ["customer", "title", "amount", "stage", "expected_close", "owner"],
                "contracts": ["customer", "number", "amount", "signed_on", "status"],
                "activities": ["customer", "kind", "at", "note", "location"],
                "dealers": ["name", "territory", "phone"]}[kind]
        head = [c for c in cols if c in ("name", "customer", "title", "kind", "number", "territory") or self.maybe(0.5)]
        if self.maybe(0.1):
            head.append(rng.choice(["nope", "id", "name", ""]))
        rows = []
        for _ in range(rng.randint(0, 6)):
            row = []
            for h in head:
                v = self.field_value(h) if h else "x"
                if isinstance(v, bytes):
                    v = v.decode("latin-1")
                if h == "customer" and self.maybe(0.3):
                    v = "tax_id:" + rng.choice(["91310000MA1FL8XQ30", "", "x"])
                row.append(v)
            if self.maybe(0.1):
                row = row[:-1] if self.maybe() else row + ["extra"]
            rows.append(row)
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator=rng.choice(["\r\n", "\n"]))
        w.writerow(head)
        w.writerows(rows)
        data = buf.getvalue().encode("utf-8", "surrogateescape")
        if self.maybe(0.1):
            data = b"\xef\xbb\xbf" + data
        if self.maybe(0.05):
            data = data + b'"unterminated'
        path = os.path.join(self.tmp, "in.csv")
        with open(path, "wb") as f:
            f.write(data)
        args = ["import", kind, path if self.maybe(0.8) else "-"]
        if self.maybe(0.3):
            args.append("--dry-run")
        return args, (data if args[2] == "-" else None), None

    def admin_command(self, login):
        rng = self.rng
        who = rng.choice(["alice", "bob", "max", "ana", "nobody", "", "admin"])
        terr = self.field_value("territory")
        r = rng.randrange(8)
        if r == 0:
            return ["admin", "user", rng.choice(["list", "show"])] + ([who] if self.maybe() else []) + \
                (["--json"] if self.maybe() else []), None, None
        if r == 1:
            return ["admin", "reassign", "--customer", self.any_id(login), "--to", who], None, None
        if r == 2:
            return ["admin", "reassign", "--territory", terr, "--from", who,
                    "--to", rng.choice(["alice", "bob", "max"])], None, None
        if r == 3:
            return ["admin", "territory", "set", terr] + rng.choice([
                ["name=" + str(self.text())], ["pool_limit=" + rng.choice(["0", "5", "-1", "x", ""])],
                ["claim_limit=" + rng.choice(["1", "100", "-1"])], ["cooldown_days=" + rng.choice(["0", "2", "x"])],
                ["release_reason=" + rng.choice(["0", "1", "yes"])], ["nope=1"], []]), None, None
        if r == 4:
            return ["admin", "territory", "add", rng.choice(["e.new", "", "w", "x" * 100, "-x", "a b"]),
                    "--name", "New"] + (["--parent", terr] if self.maybe() else []), None, None
        if r == 5:
            return ["admin", rng.choice(["assign", "unassign"]), who, terr], None, None
        if r == 6:
            return ["conflicts"] + (["--json"] if self.maybe() else []), None, \
                None
        return ["admin", "user", "add", rng.choice(["zed", "", "a b", "x" * 100, "-z", "ALICE", "alice"]),
                "--role", rng.choice(["rep", "manager", "analyst", "admin", "boss", ""])] + \
            (["--territory", terr] if self.maybe() else []), None, None

    # -- checks ----------------------------------------------------------

    def step(self, login):
        self.wild = self.maybe(0.35)
        args, stdin, kind = self.command(login)
        if args and args[0] in ("admin", "conflicts") and login not in ("admin", "max") and self.maybe(0.7):
            login = self.rng.choice(["admin", "max"])
        net = bool(args) and args[0] in NETWORK
        before = self.data_file(login)
        rc, out, err, secs = self.run(login, args, stdin)
        self.done += 1
        self.counts[rc] = self.counts.get(rc, 0) + 1
        text = out.decode("utf-8", "replace")
        etext = err.decode("utf-8", "replace")
        where = "rove %s (as %s) exited %d\n  stdout: %r\n  stderr: %r" % (
            show_args(args), login, rc, text[:600], etext[:600])
        if self.verbose:
            print("%4d %-5s rc=%d %s%s" % (self.done, login, rc, show_args(args)[:160],
                                           "\n       " + etext.strip().splitlines()[0][:150]
                                           if rc and etext.strip() else ""))
        if rc < 0:
            raise Finding("died of signal %d: %s" % (-rc, where))
        if rc not in (0, 1, 2, 3):
            raise Finding("an exit status outside the contract: %s" % where)
        if SANITIZER.search(err):
            raise Finding("the sanitizers reported: %s" % where)
        # rove's fault handler (not in the sanitizers' build) turns a
        # SIGSEGV into exit 1 with a word on the replica's damage: nothing
        # here damages a replica, so a fault is rove's own.
        if b"stopped on a fault" in err:
            raise Finding("a fault (rove's handler said it): %s" % where)
        if rc != 0:
            if not etext.strip():
                raise Finding("failed without a word on stderr: %s" % where)
            if not net and self.data_changed(login, before):
                raise Finding("a failed command changed what the replica holds (its data file as it was "
                              "is in %s): %s" % (os.path.join(self.tmp, "before"), where))
            if rc == 3 and not net:
                raise Finding("exit 3 (unreachable) from a command that works offline: %s" % where)
            return
        if kind == "add" and args[1:2] == ["add"] and "--help" not in args:
            line = text.strip()
            if not UUID.match(line) or text.count("\n") != 1:
                raise Finding("an add printed something other than its new id alone: %s" % where)
            self.ids[login].append(line)
        elif kind in ("json-list", "json-object") and "--help" not in args:
            try:
                doc = json.loads(text)
            except ValueError as e:
                raise Finding("--json printed no JSON document (%s): %s" % (e, where))
            want = list if kind == "json-list" else dict
            if not isinstance(doc, want):
                raise Finding("--json printed a %s, not a%s: %s" % (
                    type(doc).__name__, "n array" if want is list else "n object", where))
            if kind == "json-list" and args[1:2] == ["list"]:
                self.check_list(login, args, doc, where)
            if args[:1] == ["rejected"]:
                for r in doc:
                    if isinstance(r, dict) and isinstance(r.get("op"), str):
                        self.ops[login].append(r["op"])
        elif kind == "csv" and "--help" not in args and "--json" not in args[:4]:
            body = text[1:] if text.startswith("\ufeff") else text
            try:
                rows = list(csv.reader(io.StringIO(body, newline="")))
            except csv.Error as e:
                raise Finding("--csv printed no CSV table (%s): %s" % (e, where))
            if rows and any(len(r) != len(rows[0]) for r in rows):
                raise Finding("a CSV table with rows of different widths: %s" % where)

    def check_list(self, login, args, doc, where):
        """What a list's filters, sort and limit promise (rove RECORD list
        --help), of the list it printed."""
        opts, i = {}, 2
        while i < len(args):
            a = args[i] if isinstance(args[i], str) else ""
            if a in ("--mine", "--pool", "--json", "--wide"):
                opts[a] = True
            elif a.startswith("--") and i + 1 < len(args):
                opts[a] = args[i + 1]
                i += 1
            i += 1

        def bad(what):
            raise Finding("a list that is not what its options say (%s): %s" % (what, where))
        if "--limit" in opts and len(doc) > int(opts["--limit"]):
            bad("%d records, --limit %s" % (len(doc), opts["--limit"]))
        for rec in doc:
            if "--mine" in opts and rec.get("owner") != login:
                bad("--mine: %s is %s's" % (rec.get("id"), rec.get("owner")))
            if "--pool" in opts and rec.get("owner") is not None:
                bad("--pool: %s is %s's" % (rec.get("id"), rec.get("owner")))
            if "--owner" in opts and rec.get("owner") != opts["--owner"]:
                bad("--owner %s: %s is %s's" % (opts["--owner"], rec.get("id"), rec.get("owner")))
            for o, f in (("--tier", "tier"), ("--stage", "stage")):
                got = rec.get(f)
                if o == "--stage" and got is None:
                    got = "lead"  # a deal without a stage is a lead (list --help, the pipeline report)
                if o in opts and str(got).lower() != str(opts[o]).lower():
                    bad("%s %s: %s has %s" % (o, opts[o], rec.get("id"), rec.get(f)))
        if "--territory" in opts and doc:
            terrs = {t["code"]: t["parent"] for t in self.json_of(login, ["territory", "list", "--json"])}
            code = opts["--territory"]
            for rec in doc:
                t = rec.get("territory")
                seen = set()
                while t is not None and t != code and t not in seen:
                    seen.add(t)
                    t = terrs.get(t)
                if t != code:
                    bad("--territory %s: %s is in %s" % (code, rec.get("id"), rec.get("territory")))
        if "--search" in opts and not re.search(r"[0-9+()]", str(opts["--search"])):
            want = str(opts["--search"]).lower()
            for rec in doc:
                if not any(isinstance(v, str) and want in v.lower() for v in rec.values()):
                    bad("--search %r: %s holds it nowhere" % (opts["--search"], rec.get("id")))
        if opts.get("--sort") in ("name", "name:desc"):
            def fold(v):
                return "".join(c.lower() if c.isascii() else c for c in (v or ""))
            names = [fold(r.get("name")) for r in doc]
            want = sorted(names, reverse=opts["--sort"] == "name:desc")
            if names != want:
                bad("--sort %s: %s" % (opts["--sort"], names))

    def sums_match(self):
        """Each replica's report sums, kept as records are written, equal
        a scan of its records (ROVE_REPORT_SCAN=1) after whatever the
        commands did: edits, imports, deletes, refusals, rejected retries."""
        for login in self.logins():
            for args in (["report", "pipeline", "--json"], ["report", "targets", "--json"],
                         ["report", "daily", "--json"]):
                for attempt in (1, 2):
                    sums = self.ok(login, args)
                    rc, scan, err, _ = self.run(login, args, extra_env={"ROVE_REPORT_SCAN": "1"})
                    if rc != 0:
                        raise Finding("rove %s (as %s, scanning) exited %d: %s" % (
                            show_args(args), login, rc, err.decode("utf-8", "replace").strip()))
                    if sums == scan.decode("utf-8", "replace"):
                        break
                    # (a day or month may have turned between the two)
                else:
                    raise Finding("rove %s (as %s): the report sums differ from a scan of the records:\n"
                                  "  sums: %s\n  scan: %s" % (show_args(args), login, sums.strip()[:1500],
                                                              scan.decode("utf-8", "replace").strip()[:1500]))

    def sync_round(self):
        logins = self.logins()
        for rnd in range(2):
            self.rng.shuffle(logins)
            for login in logins:
                rc, out, err, _ = self.run(login, ["sync", "--json"])
                where = "sync (as %s, round %d) exited %d: %r / %r" % (
                    login, rnd, rc, out.decode("utf-8", "replace")[:300], err.decode("utf-8", "replace")[:600])
                if rc != 0 or SANITIZER.search(err):
                    raise Finding(where)
                try:
                    doc = json.loads(out)
                except ValueError:
                    raise Finding("sync --json printed no JSON: " + where)
                if rnd == 1 and doc.get("pushed") not in (0, None):
                    raise Finding("a second sync in a row pushed again: " + where)
        for login in self.logins():
            st = self.json_of(login, ["status", "--json"])
            if st.get("pending") not in (0, None):
                raise Finding("%s has %s changes pending after two syncs: %s" % (
                    login, st.get("pending"), self.ok(login, ["pending"])))
        self.converged()
        self.sums_match()
        for login in self.logins():
            held = []
            for kind in KINDS:
                self.held[(login, kind)] = [r["id"] for r in self.json_of(login, ["export", kind, "--json"])]
                held += self.held[(login, kind)]
            self.ids[login] = held
            self.ops[login] = [r["op"] for r in self.json_of(login, ["rejected", "--json"])]
        r = subprocess.run([self.roved, "check", self.srv.dir], capture_output=True, text=True, timeout=300,
                           env=self.env())
        if r.returncode != 0:
            raise Finding("roved check found problems: %s%s" % (r.stdout[-1500:], r.stderr[-1500:]))

    def converged(self):
        """Every record a replica holds equals the admin's copy of it."""
        def table(login, kind):
            return {r["id"]: r for r in self.json_of(login, ["export", kind, "--json"])}
        for kind in KINDS:
            ref = table("admin", kind)
            for login in self.logins()[1:]:
                for rid, rec in table(login, kind).items():
                    if rid not in ref:
                        raise Finding("%s holds %s %s, which the admin's replica does not: %s" % (
                            login, kind, rid, rec))
                    a = {k: v for k, v in ref[rid].items() if k != "pending"}
                    b = {k: v for k, v in rec.items() if k != "pending"}
                    if a != b:
                        diff = {k: (a.get(k), b.get(k)) for k in set(a) | set(b) if a.get(k) != b.get(k)}
                        raise Finding("%s's copy of %s %s differs from the admin's (admin, %s): %s" % (
                            login, kind, rid, login, diff))

    def run_all(self):
        self.setup()
        users = ["alice", "bob", "max", "admin"] * 3 + ["ana"]  # the analyst only reads
        for i in range(self.n):
            self.step(self.rng.choice(users))
            if (i + 1) % 40 == 0:
                self.sync_round()
        self.sync_round()

    def close(self, failed):
        self.procs.stop_all()
        if self.keep or failed:
            print("kept: %s" % self.tmp, file=sys.stderr)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


TAX_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
TAX_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def tax_id(n):
    """The nth of a set of valid 统一社会信用代码 (GB 32100-2015: 17
    characters and a check character)."""
    body = "91310000MA%07d" % n
    check = (31 - sum(TAX_CHARS.index(ch) * w for ch, w in zip(body, TAX_WEIGHTS)) % 31) % 31
    return body + TAX_CHARS[check]


def show_args(args):
    out = []
    for a in args:
        if isinstance(a, bytes):
            a = a.decode("utf-8", "backslashreplace")
        a = a if len(a) <= 60 else a[:40] + "...(%d chars)" % len(a)
        out.append(repr(a) if (not a or re.search(r"[\s'\"\\]|[^\x21-\x7e]", a)) else a)
    return " ".join(out)


def main():
    ap = argparse.ArgumentParser(description="rove's randomised command-line hunt")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("ROVE_SEED") or
                                                    os.environ.get("ROVE_CLI_HUNT_DEFAULT_SEED") or
                                                    random.randrange(10**7)))
    ap.add_argument("--commands", type=int, default=int(os.environ.get("ROVE_CLI_HUNT_COMMANDS") or 300))
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("-v", action="store_true", dest="verbose")
    a = ap.parse_args()
    h = Hunt(a.seed, a.commands, a.verbose, a.keep)
    failed = True

    def on_signal(sig, frame):
        h.close(True)
        sys.exit(4)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        h.run_all()
        failed = False
        print("cli_hunt: seed %d, %d commands (exit statuses %s), every check held" % (
            a.seed, h.done, ", ".join("%d: %d" % kv for kv in sorted(h.counts.items()))))
        return 0
    except Finding as f:
        print("cli_hunt: FAILED after %d commands: %s\nreplay: cli_hunt.py --seed %d --commands %d" % (
            h.done, f, a.seed, a.commands), file=sys.stderr)
        print("roved's log, last lines:\n" + h.srv.log_tail(), file=sys.stderr)
        return 1
    except HarnessError as e:
        print("cli_hunt: the harness failed: %s (seed %d)" % (e, a.seed), file=sys.stderr)
        return 4
    finally:
        h.close(failed)


if __name__ == "__main__":
    sys.exit(main())
