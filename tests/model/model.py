"""The reference model: rove's server state as SPEC.md says it must be.

Everything here is pure Python and knows nothing of processes. Each rule
cites the SPEC rule it implements; a reviewer should be able to hold this
file next to SPEC.md ("Ownership and territory rules") and check it line by
line. Where SPEC.md is silent the model follows docs/RULES.md, and where the
two leave an outcome open the model accepts every reading (a set of
reasons, or "either accepted or refused").

The model decides ops in the order they reach the server, which the
harness controls (one sync at a time), so ownership, deletes, claims and
duplicates are exact. Field values written by two allowed writers are
registers (rule 8): a write that its author made after seeing another
write of the same field must win over it; writes neither of whose authors
saw the other may win either way, and the first replica that shows one
decides it for the rest of the run (all replicas must agree).
"""

import copy
import re
import time

ROLES = ("rep", "manager", "analyst", "admin")

# Editable fields with last-writer-wins registers (rule 8).
CUSTOMER_FIELDS = ("name", "phone", "address", "tier", "dealer")
CHILD_FIELDS = {
    "contact": ("name", "phone", "email", "title"),
    "activity": ("kind", "at", "note", "author"),  # append-only: never edited
    "opportunity": ("title", "amount", "stage"),  # a deal; its owner is not a register (rule 14)
}

# Ops on dealers (reference data that managers and admins keep).
DEALER_OPS = ("create_dealer", "delete_dealer", "move_dealer")

# Rule 13/14: a won or lost deal is closed.
CLOSED_STAGES = ("won", "lost")


def phone_key(phone):
    """Rule 3 (docs/RULES.md, "Phones"): phones compare normalised; a
    country prefix in any form (+86, 0086, +0086, repeated, 86 before a
    mobile), punctuation and an extension do not make a different phone."""
    if phone is None:
        return None
    main = re.split(r"转|分机|ext|x|#", phone, maxsplit=1, flags=re.IGNORECASE)[0]
    digits = re.sub(r"[^0-9]", "", main)
    intl = main.strip().startswith("+")
    while len(digits) > 2:
        if digits.startswith("00"):
            digits, intl = digits[2:], True
        elif digits.startswith("86") and (intl or re.fullmatch(r"(86|00)*1[3-9][0-9]{9}", digits[2:])):
            digits, intl = digits[2:], False
        else:
            break
    if not intl and digits.startswith("0") and not digits.startswith("00"):
        digits = digits[1:]  # the trunk 0 of a mainland landline
    return digits or None


def at_form(at):
    """Rule 13 (docs/RULES.md, "Dates and times"): an activity's time is
    stored as full UTC; a time without a zone, or a date (its first
    minute), is local time where the op was made - the harness runs rove
    in its own zone."""
    if at is None or at.endswith("Z"):
        return at if at is None or len(at) == 20 else at[:-1] + ":00Z"
    fmt = {10: "%Y-%m-%d", 16: "%Y-%m-%dT%H:%M", 19: "%Y-%m-%dT%H:%M:%S"}[len(at)]
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.mktime(time.strptime(at, fmt))))


class Refused(Exception):
    """An op refused by the rules; reasons is the set SPEC allows. by_role:
    refused by the author's role and the op alone, whatever the record
    (docs/RULES.md: common/rules.c), so the answer tells nothing of it."""

    def __init__(self, reasons, detail=None, by_role=False):
        super().__init__("/".join(sorted(reasons)))
        self.reasons = frozenset(reasons)
        self.detail = detail
        self.by_role = by_role


class Uncertain(Exception):
    """SPEC decides the op by a value the model cannot know yet: a rule
    that reads a register whose candidates disagree (two writes neither
    of whose authors saw the other). The harness learns the outcome from
    the server's answer and then applies it (Model.settle). reasons: what
    a refusal of it may say."""

    def __init__(self, text, reasons=("forbidden",)):
        super().__init__(text)
        self.reasons = frozenset(reasons)


class Write:
    """One accepted write of one field (rule 8)."""

    def __init__(self, wid, value, author, past, step=None):
        self.wid = wid  # unique per write, kept across a server restore
        self.value = value
        self.author = author
        self.past = past  # wids of writes of this field its author had seen
        self.step = step  # the harness step that made it


class Register:
    """A field's value under field-level last-writer-wins (rule 8)."""

    def __init__(self, value):
        self.initial = value  # the create's value: every later writer saw it
        self.writes = []
        self.losers = set()  # writes known to carry a smaller stamp

    def add(self, w):
        self.writes.append(w)

    def candidates(self):
        """The writes that may hold the greatest stamp."""
        dominated = set(self.losers)
        for w in self.writes:
            dominated |= w.past
        return [w for w in self.writes if w.wid not in dominated]

    def values(self):
        c = self.candidates()
        return {w.value for w in c} if c else {self.initial}

    def certain(self):
        v = self.values()
        return next(iter(v)) if len(v) == 1 else None

    def observe(self, value):
        """A replica showed value: it must be a candidate's; the others lose."""
        c = self.candidates()
        if not c:
            return value == self.initial
        if value not in {w.value for w in c}:
            return False
        for w in c:
            if w.value != value:
                self.losers.add(w.wid)
        return True

    def wids(self):
        return {w.wid for w in self.writes}

    def why(self):
        """Why the candidates win: which writes their authors had seen."""
        by = {w.wid: w for w in self.writes}
        out = []
        for w in self.candidates():
            seen = [by[x] for x in w.past if x in by]
            if seen:
                out.append("%s's write of step %s was made after %s had seen %s (rule 8: it must win)" % (
                    w.author, w.step, w.author, ", ".join("%s's %r of step %s" % (x.author, x.value, x.step)
                                                           for x in seen)))
        return "; ".join(out)


class User:
    def __init__(self, name, role, terrs):
        self.name = name
        self.role = role
        self.terrs = list(terrs)
        self.disabled = False  # rove admin user disable: every request refused, nothing handed to them


class Customer:
    def __init__(self, cid, fields, territory, owner, created_by, created_offset):
        self.id = cid
        self.regs = {f: Register(fields.get(f)) for f in CUSTOMER_FIELDS}
        self.territory = territory
        self.owner = owner
        self.deleted = False
        self.history = []  # (event, from, to, by): rule 12
        self.changes = [(0, owner, created_by)]  # (step, owner after, by) of each change of owner
        self.children = set()
        self.created_by = created_by
        self.created_offset = created_offset  # the server's clock offset, days

    def previous_owners(self):
        return {h[1] for h in self.history if h[1] is not None}


class Child:
    def __init__(self, coll, cid, customer, fields):
        self.coll = coll
        self.id = cid
        self.customer = customer
        self.regs = {f: Register(fields.get(f)) for f in CHILD_FIELDS[coll]}
        self.deleted = False
        # A deal's owners ever (rule 14): those it surely had (its owner
        # set was one of them alone), and those it may have had. The
        # server writes an ownership record under the customer for each
        # owner a deal gets, and a refusal tells one named in any of them
        # what it tells a past owner of the customer (docs/RULES.md,
        # "What a refusal says").
        self.owned_surely, self.owned_maybe = set(), set()
        self.owners = set()  # a deal's: the owners it may have (rule 14), one once a replica showed it

    @property
    def owners(self):
        return self._owners

    @owners.setter
    def owners(self, value):
        self._owners = set(value)
        self.owned_maybe |= self._owners
        if len(self._owners) == 1:
            self.owned_surely |= self._owners

    def closed(self):
        """A deal's stage: True (closed), False (open) or None (the
        register's candidates disagree)."""
        vals = {v in CLOSED_STAGES for v in self.regs["stage"].values()}
        return next(iter(vals)) if len(vals) == 1 else None


class Dealer:
    def __init__(self, did, territory):
        self.id = did
        self.territory = territory
        self.deleted = False


class ServerState:
    """Everything the server holds; copied whole for a restore."""

    def __init__(self):
        self.territories = {}  # code -> parent
        self.users = {}  # login -> User
        self.customers = {}  # id -> Customer
        self.children = {}  # id -> Child
        self.dealers = {}  # id -> Dealer
        self.refusals = {}  # author -> class -> [(op id, bytes at most)], oldest first

    def clone(self):
        return copy.deepcopy(self)


class Model:
    def __init__(self):
        self.s = ServerState()
        self.log = {}  # record id -> [(step, text)], for failure reports
        self.step = 0

    # ---- refused changes kept on the server (rule 9, docs/RULES.md) ----

    # docs/RULES.md, "Refused changes kept on the server": per author, the
    # latest 1,000 refused changes and at most 1 MiB of them, the oldest
    # dropped first; attempts at what the rules keep from the user are kept
    # apart, "within the same bounds of their own".
    REFUSALS_KEPT = 1000
    REFUSAL_BYTES_KEPT = 1024 * 1024
    REFUSALS_APART = frozenset(("forbidden", "not_owner", "not_in_territory", "reassigned"))

    @classmethod
    def refusal_class(cls, reason):
        return "apart" if reason in cls.REFUSALS_APART else "other"

    def refused(self, author, op_id, reason, size):
        """The server kept a refusal of op_id for reason; size is at least
        the bytes the server counts for it (the harness's upper bound)."""
        by = self.s.refusals.setdefault(author, {})
        by.setdefault(self.refusal_class(reason), []).append((op_id, size))

    def refusals_kept(self, author):
        """(the op ids the server must still keep, the fewest and the most
        of the author's refusals it may have dropped): per class the
        newest ones, up to the count and within the bytes."""
        kept, fewest, total = set(), 0, 0
        for entries in self.s.refusals.get(author, {}).values():
            n = size_kept = 0
            for op_id, size in reversed(entries):
                if n == self.REFUSALS_KEPT or size_kept + size > self.REFUSAL_BYTES_KEPT:
                    break
                kept.add(op_id)
                n += 1
                size_kept += size
            fewest += max(0, len(entries) - self.REFUSALS_KEPT)
            total += len(entries)
        return kept, fewest, total - len(kept)

    # ---- compaction (docs/OPERATIONS.md, "Compaction") ----

    def forget_dropped(self, held):
        """roved compact dropped deleted records with their deletes: a
        deleted customer's family (the customer stays, with its
        ownership history, so that a late change of it is refused
        `deleted`), a deleted child of a live customer, and one of a
        deleted customer the server still keeps (compaction drops each
        tombstone with the delete that made it).
        held: the record ids the server's database still holds. The model
        forgets what is gone (a late change of it is then refused as of an
        id the server never held); returns (the ids forgotten,
        the deleted records still held, a deleted customer counted once,
        the live records missing)."""
        gone, kept, missing = [], [], []
        for cid, c in list(self.s.customers.items()):
            if not c.deleted:
                if cid not in held:
                    missing.append(cid)
                continue
            if cid not in held:
                # compact.c keeps a deleted customer with its ownership
                # history: a late change of it is refused `deleted`.
                missing.append(cid)
                continue
            # Its family goes when its delete does (the customer stays,
            # so it is not counted among the tombstones kept).
            dropped = [chid for chid in c.children if chid not in held]
            for chid in dropped:
                c.children.discard(chid)
                if self.s.children.pop(chid, None) is not None:
                    gone.append(chid)
            if dropped:
                self.note(cid, "its family dropped by roved compact (%d records); kept deleted" % len(dropped))
        for did, d in list(self.s.dealers.items()):
            if d.deleted and did not in held:
                del self.s.dealers[did]
                gone.append(did)
                self.note(did, "dropped by roved compact")
        for chid, ch in list(self.s.children.items()):
            c = self.s.customers.get(ch.customer)
            if not ch.deleted:
                if chid not in held:
                    missing.append(chid)
                continue
            if c is not None and c.deleted and chid in held:
                continue  # counted with its customer, goes with its family
            # Else gone with its own delete (compact.c drops a tombstone
            # with the op that made it), whatever its customer's state.
            if chid in held:
                kept.append(chid)
                continue
            del self.s.children[chid]
            if c is not None:
                c.children.discard(chid)
            gone.append(chid)
            self.note(chid, "dropped by roved compact")
        return gone, kept, missing

    def note(self, rid, text):
        self.log.setdefault(rid, []).append((self.step, text))

    # ---- territories and reach ----

    def ancestors(self, code):
        """code and every territory above it."""
        out = []
        while code is not None and code not in out:
            out.append(code)
            code = self.s.territories.get(code)
        return out

    def in_reach(self, user, code):
        """A manager's reach: territories at or under one of theirs."""
        return code is not None and any(t in user.terrs for t in self.ancestors(code))

    def works_in(self, user, code):
        """Rule 7: user may own customers of code now (a rep holding it, a
        manager whose subtree holds it)."""
        if user is None:
            return False
        if user.role == "rep":
            return code in user.terrs
        return user.role == "manager" and self.in_reach(user, code)

    def subtree(self, code):
        return {t for t in self.s.territories if code in self.ancestors(t)}

    # ---- rule 1: scopes ----

    def sees_customer(self, u, c, as_live=False):
        """Rule 1; as_live: as it was before it was deleted."""
        if c.deleted and not as_live:
            return False
        if u.role in ("analyst", "admin"):
            return True
        if c.owner == u.name:
            return True
        if u.role == "rep":
            return c.owner is None and c.territory in u.terrs
        return self.in_reach(u, c.territory)  # manager: the whole subtree

    def scope(self, login):
        """(customers, children, territory codes) user login may hold."""
        u = self.s.users[login]
        custs = {cid: c for cid, c in self.s.customers.items() if self.sees_customer(u, c)}
        kids = {}
        for cid in custs:
            for kid in self.s.customers[cid].children:
                ch = self.s.children[kid]
                if not ch.deleted:
                    kids[kid] = ch
        if u.role in ("analyst", "admin"):
            terrs = set(self.s.territories)
        elif u.role == "rep":
            terrs = {t for t in u.terrs if t in self.s.territories}
        else:
            terrs = {t for t in self.s.territories if self.in_reach(u, t)}
        return custs, kids, terrs

    def dealers_seen(self, login):
        """Rule 1: the live dealers login's replica holds, id -> territory:
        those of the territories it holds (a rep's own, a manager's
        subtree, all for analysts and admins)."""
        _, _, terrs = self.scope(login)
        return {d.id: d.territory for d in self.s.dealers.values() if not d.deleted and d.territory in terrs}

    # ---- rule 13: a customer's dealer ----

    def dealer_fits(self, did, terr):
        """A live dealer of terr or of a territory above it (None: none)."""
        if did is None:
            return True
        d = self.s.dealers.get(did)
        return d is not None and not d.deleted and terr is not None and d.territory in self.ancestors(terr)

    def naming(self, did):
        """The live customers whose dealer is (True) or may be (None: its
        register's candidates disagree) dealer did."""
        out = []
        for c in self.s.customers.values():
            vals = c.regs["dealer"].values()
            if c.deleted or did not in vals:
                continue
            out.append((c, True if vals == {did} else None))
        return out

    # ---- rule 4: who writes a customer ----

    def may_write(self, u, c):
        if u.role == "admin":
            return True
        if c.owner == u.name:
            return True
        return u.role == "manager" and self.in_reach(u, c.territory)

    def refuse_write(self, u, c):
        # Rule 7: a previous owner gets `reassigned`, anyone else `not_owner`.
        if u.name in c.previous_owners():
            raise Refused({"reassigned"})
        raise Refused({"not_owner"})

    def live_phone_holder(self, phone, exclude=None):
        """Rule 3: the live customer holding this phone (normalised), if any.
        Only registers whose value is certain count; the harness never
        reuses a phone whose current holder is uncertain."""
        key = phone_key(phone)
        if key is None:
            return None
        for c in self.s.customers.values():
            if c.deleted or c.id == exclude:
                continue
            if key in {phone_key(v) for v in c.regs["phone"].values()}:
                return c.id
        return None

    # ---- rule 9: what a refusal may say ----

    def about(self, op):
        """The customer a refusal of op is about (a child's customer), or
        None for a new customer (about what its op says) or nothing."""
        if op["kind"] == "create_customer":
            return None
        if op["kind"] == "create_child":
            return self.s.customers.get(op["fields"].get("customer"))
        if op["kind"] in ("set_child", "delete_child"):
            ch = self.s.children.get(op["id"])
            return self.s.customers.get(ch.customer) if ch is not None else None
        return self.s.customers.get(op["id"])

    def knows(self, u, c):
        """docs/RULES.md "What a refusal says": whether u held customer c -
        it is (or was until deleted) in u's scope, u owned it (or one of
        its deals) once, or it was in the public pool of a territory the
        rep holds; None if the model cannot tell (a deal's owner not
        known for sure)."""
        if self.sees_customer(u, c, as_live=True):
            return True
        if any(u.name in (h[1], h[2]) for h in c.history):
            return True
        deals = [self.s.children[k] for k in c.children if self.s.children[k].coll == "opportunity"]
        if any(u.name in ch.owned_surely for ch in deals):
            return True  # it owned a deal of the customer: named in its ownership history
        if any(u.name in ch.owned_maybe for ch in deals):
            return None  # it may have (the deal's owner is not known for sure)
        return u.role == "rep" and c.territory in u.terrs and any(h[2] is None for h in c.history)

    # ---- ops pushed by replicas ----

    def decide(self, login, op):
        """Decides op by login under the rules as they stand and applies it.
        Returns None when accepted; raises Refused otherwise. Rule 9: a
        refusal about a customer the author never held, or none, says
        not_owner, whatever the record's state (a duplicate and the rules
        of the role alone keep theirs)."""
        u = self.s.users[login]
        if u.role == "analyst":
            raise Refused({"forbidden"}, by_role=True)  # analysts are read-only (rule 1)
        kind = op["kind"]
        fn = getattr(self, "op_" + kind)
        try:
            fn(u, op)
        except Refused as r:
            if r.by_role or "duplicate" in r.reasons or op["kind"] in ("create_customer",) + DEALER_OPS:
                raise
            c = self.about(op)
            knows = self.knows(u, c) if c is not None else False
            if knows is None:
                raise Uncertain("customer %s: whether %s ever owned one of its deals" % (c.id, u.name),
                                r.reasons | {"not_owner"})
            if not knows:
                raise Refused({"not_owner"})
            raise

    def _customer(self, cid, kinds=("invalid",)):
        c = self.s.customers.get(cid)
        if c is None:
            raise Refused(set(kinds))  # a change of a missing record
        if c.deleted:
            raise Refused({"deleted"})  # rule 6: a tombstone takes no changes
        return c

    def op_create_customer(self, u, op):
        terr = op.get("territory")
        if terr is None and u.role == "rep" and len(u.terrs) == 1:
            terr = u.terrs[0]  # a rep with one territory creates in it
        # Rule 2: a rep creates only in an assigned territory (a manager in
        # their subtree); whether another territory exists is not said
        # (rule 9), so this comes first.
        if u.role == "rep" and terr not in u.terrs:
            raise Refused({"not_in_territory"})
        if u.role == "manager" and not self.in_reach(u, terr):
            raise Refused({"not_in_territory"})
        if terr is not None and terr not in self.s.territories:
            raise Refused({"invalid"})
        # Rule 3: tax id and phone unique among live customers.
        holder = self.live_phone_holder(op["fields"].get("phone"))
        if holder is not None:
            raise Refused({"duplicate"}, detail=holder)
        # Rule 2: the server sets the owner: the creator, if they may own
        # customers (rule 7: reps and managers); an admin's goes to the pool.
        owner = u.name if u.role in ("rep", "manager") else None
        c = Customer(op["id"], op["fields"], terr, owner, u.name, op.get("server_offset", 0))
        c.history.append(("create", None, owner, u.name))  # rule 12
        c.changes = [(self.step, owner, u.name)]
        self.s.customers[c.id] = c
        self.note(c.id, "created by %s in %s, owner %s, %s" % (u.name, terr, owner, op["fields"]))

    def op_set_customer(self, u, op):
        fields = op["fields"]
        # What the author's role and the op alone forbid is refused before
        # anything about the record (docs/RULES.md: common/rules.c).
        # Rule 7: owner changes only through create, claim, release,
        # recycle and reassignment, never by an update (anyone's).
        if "owner" in fields:
            raise Refused({"forbidden"}, by_role=True)
        # Rule 6: reps never mark a record deleted, in any form.
        if "_deleted" in fields and u.role == "rep":
            raise Refused({"forbidden"}, by_role=True)
        if "territory" in fields and u.role == "rep":
            raise Refused({"forbidden"}, by_role=True)  # rule 4
        c = self._customer(op["id"])
        if not self.may_write(u, c):
            self.refuse_write(u, c)  # rule 4
        if "territory" in fields:
            t = fields["territory"]
            if u.role == "manager" and not self.in_reach(u, t):
                raise Refused({"not_in_territory"})
            if t not in self.s.territories:
                raise Refused({"invalid"})
            # Rule 7: an owned customer moves only where its owner works
            # (reassigned first); a pool customer moves freely.
            if c.owner is not None and not self.works_in(self.s.users.get(c.owner), t):
                raise Refused({"not_in_territory"})
        if fields.get("phone"):
            holder = self.live_phone_holder(fields["phone"], exclude=c.id)
            if holder is not None:
                raise Refused({"duplicate"}, detail=holder)  # rule 3 (and 12)
        if "territory" in fields or "dealer" in fields:
            # Rule 13: a live dealer of its territory or above, checked
            # when either changes (docs/RULES.md).
            # The record as merged (rule 8, field by field): the op's
            # dealer beside the candidates its author had not seen, any
            # of which may hold the later stamp and stand instead.
            terr = fields.get("territory", c.territory)
            vals = c.regs["dealer"].values()
            if "dealer" in fields:
                unseen = {w.value for w in c.regs["dealer"].candidates()
                          if w.wid not in op["past"].get("dealer", set())}
                vals = {fields["dealer"]} | unseen
            fits = {self.dealer_fits(v, terr) for v in vals}
            if fits == {False}:
                raise Refused({"invalid"})
            if len(fits) > 1:
                raise Uncertain("customer %s: its dealer by stamps the model does not know" % c.id, {"invalid"})
        self.apply_set_customer(u, op)

    def apply_set_customer(self, u, op):
        fields = op["fields"]
        c = self.s.customers[op["id"]]
        if "territory" in fields and fields["territory"] != c.territory:
            c.territory = fields["territory"]  # decided online, see the harness
            # Rule 14 (docs/RULES.md): its open deals whose owners cannot
            # work them there go to its owner if he can (else, and a pool
            # customer's, to nobody).
            for kid in c.children:
                ch = self.s.children[kid]
                if ch.coll != "opportunity" or ch.deleted or ch.closed() is True:
                    continue
                to = c.owner if c.owner is not None and self.deal_owner_able(c.owner, c.territory) else None
                new = set()
                for o in ch.owners:
                    stays = o == to or (o is not None and self.deal_owner_able(o, c.territory))
                    new.add(o if stays else to)
                    if ch.closed() is None:
                        new.add(o)
                ch.owners = new
                self.note(ch.id, "customer moved to %s: deal owner %s" % (c.territory, sorted(new, key=str)))
        for f, v in fields.items():
            if f in c.regs:
                c.regs[f].add(Write(op["wid"] + ":" + f, v, u.name, op["past"].get(f, set()), op.get("step")))
        self.note(c.id, "%s set %s" % (u.name, fields))

    def op_claim(self, u, op):
        c = self._customer(op["id"])
        # Rule 5: first claim to reach the server wins.
        if c.owner is not None:
            raise Refused({"already_claimed"})
        if u.role == "rep" and c.territory not in u.terrs:
            raise Refused({"not_in_territory"})
        if u.role == "manager" and not self.in_reach(u, c.territory):
            raise Refused({"not_in_territory"})
        c.owner = u.name
        c.history.append(("claim", None, u.name, u.name))
        c.changes.append((self.step, u.name, u.name))
        self.note(c.id, "claimed by %s" % u.name)
        self.move_open_deals(c, u.name)

    def move_open_deals(self, c, to):
        """Rule 14: a customer's open deals go with it to its new owner (by
        a claim or a reassignment); won and lost deals keep theirs. A deal
        whose stage the model cannot tell may have either."""
        for kid in c.children:
            ch = self.s.children[kid]
            if ch.coll != "opportunity" or ch.deleted:
                continue
            closed = ch.closed()
            if closed is False:
                ch.owners = {to}
            elif closed is None:
                ch.owners = ch.owners | {to}
            self.note(ch.id, "customer %s now %s's: deal owner %s" % (c.id, to, sorted(ch.owners, key=str)))

    def op_release(self, u, op):
        c = self._customer(op["id"])
        if not self.may_write(u, c):
            self.refuse_write(u, c)  # a previous owner: reassigned (attack ninety-six)
        if c.owner is None:
            raise Refused({"invalid"})  # already in the pool
        # Rule 7: one made for another owner than the customer's now (the
        # owner its author's replica knew: what it had pulled, then its
        # own changes) is refused reassigned. It knew at least what its
        # last whole sync pulled, at most what was done before it was
        # made; the server tells when the two disagree. One sent again
        # after a restore did what it did.
        if not op.get("resent"):
            stale = {self.known_owner(c, u.name, k) != c.owner for k in (op.get("synced", -1), op.get("step", 0))}
            if stale == {True}:
                raise Refused({"reassigned"})
            if len(stale) > 1:
                raise Uncertain("customer %s: whether %s's release knew its owner %s" % (c.id, u.name, c.owner),
                                {"reassigned"})
        self.apply_release(u, op)

    @staticmethod
    def known_owner(c, login, step):
        """c's owner as login's replica knew it having seen the changes
        made up to step, then its own since."""
        seen = [ch for ch in c.changes if ch[0] <= step]
        own = [ch for ch in c.changes if ch[0] > step and ch[2] == login]
        if own:
            return own[-1][1]
        return seen[-1][1] if seen else c.owner

    def apply_release(self, u, op):
        c = self.s.customers[op["id"]]
        c.history.append(("release", c.owner, None, u.name))
        c.changes.append((self.step, None, u.name))
        self.note(c.id, "released by %s (was %s's)" % (u.name, c.owner))
        c.owner = None

    def op_delete_customer(self, u, op):
        if u.role == "rep":
            raise Refused({"forbidden"}, by_role=True)  # rule 6, before anything about the record
        c = self._customer(op["id"])
        if not self.may_write(u, c):
            self.refuse_write(u, c)
        c.deleted = True
        self.note(c.id, "deleted by %s" % u.name)

    def op_create_child(self, u, op):
        c = self._customer(op["fields"]["customer"])
        if not self.may_write(u, c):
            self.refuse_write(u, c)  # rule 4: child records follow their customer
        fields = dict(op["fields"])
        if op["coll"] == "activity":
            fields["author"] = u.name  # the server names the author (rule 10)
            fields["at"] = at_form(fields.get("at"))
        if op["coll"] == "opportunity" and c.owner is not None and c.owner != u.name and \
                self.s.users[c.owner].disabled and fields.get("stage") not in CLOSED_STAGES:
            # Rule 14 (docs/RULES.md): an open deal goes to one who can
            # work it, not to a disabled owner.
            raise Refused({"invalid"})
        ch = Child(op["coll"], op["id"], c.id, fields)
        if op["coll"] == "opportunity":
            # Rule 14: the customer's owner; a pool customer's, its author
            # if the author may own customers (an admin's has none).
            ch.owners = {c.owner if c.owner is not None else u.name if u.role in ("rep", "manager") else None}
        self.s.children[ch.id] = ch
        c.children.add(ch.id)
        if op.get("bulk") is None:
            self.note(c.id, "%s added %s %s" % (u.name, op["coll"], ch.id))
            self.note(ch.id, "%s created by %s: %s" % (op["coll"], u.name, fields))

    def op_set_child(self, u, op):
        ch = self.s.children.get(op["id"])
        if ch is None:
            raise Refused({"invalid"})
        if ch.deleted:
            raise Refused({"deleted"})
        c = self._customer(ch.customer)
        if not self.may_write(u, c):
            self.refuse_write(u, c)
        if ch.coll == "opportunity" and u.role == "rep":
            # Rule 14 (docs/RULES.md): a closed deal's credit is settled, a
            # rep changes it no more; and a rep never changes a deal's owner.
            if "owner" in op["fields"] or ch.closed() is True:
                raise Refused({"forbidden"})
            if ch.closed() is None:
                raise Uncertain("deal %s: won/lost or open, by stamps the model does not know" % ch.id)
        was_closed = ch.closed() if ch.coll == "opportunity" else False
        stage = op["fields"].get("stage")
        target = None
        if was_closed is not False and stage is not None and stage not in CLOSED_STAGES and \
                "owner" not in op["fields"]:
            # docs/RULES.md, rule 14: a closed deal reopened (if the
            # reopening wins over the close: by stamps the model does not
            # always know) goes to its customer's owner if he can work
            # it; else it keeps its own if that one can; else refused.
            if c.owner is not None and self.deal_owner_able(c.owner, c.territory):
                target = c.owner
            else:
                able = {(o is None and c.owner is None) or (o is not None and self.deal_owner_able(o, c.territory))
                        for o in ch.owners}
                wins = was_closed is True and all(w.wid in op["past"].get("stage", set())
                                                  for w in ch.regs["stage"].candidates())
                if able == {False} and wins:
                    raise Refused({"invalid"})
                if False in able:
                    raise Uncertain("deal %s: reopened, by stamps the model does not know, with an owner who "
                                    "cannot work it" % ch.id, {"invalid"})
        self.settle(u, op)
        if target is not None:
            ch.owners = ch.owners | {target}
            self.note(ch.id, "reopened by %s: deal owner %s" % (u.name, sorted(ch.owners, key=str)))

    def deal_owner_able(self, login, code):
        """Rule 14: login can work an open deal of a customer of code:
        enabled, a rep holding code or a manager reaching it."""
        t = self.s.users.get(login)
        return t is not None and not t.disabled and self.works_in(t, code)

    def settle(self, u, op):
        """Applies an accepted update of a child (op_set_child's, or one
        the server was seen to accept after Uncertain), or another op the
        server was seen to accept after Uncertain."""
        if op["kind"] == "set_customer":
            return self.apply_set_customer(u, op)
        if op["kind"] == "delete_dealer":
            return self.apply_delete_dealer(u, op)
        if op["kind"] == "move_dealer":
            return self.apply_move_dealer(u, op)
        if op["kind"] == "release":
            return self.apply_release(u, op)
        ch = self.s.children[op["id"]]
        for f, v in op["fields"].items():
            ch.regs[f].add(Write(op["wid"] + ":" + f, v, u.name, op["past"].get(f, set()), op.get("step")))
        self.note(ch.id, "%s set %s" % (u.name, op["fields"]))

    def op_delete_child(self, u, op):
        if u.role == "rep":
            raise Refused({"forbidden"}, by_role=True)  # rule 6, before anything about the record
        ch = self.s.children.get(op["id"])
        if ch is None:
            raise Refused({"invalid"})
        if ch.deleted:
            raise Refused({"deleted"})
        c = self.s.customers[ch.customer]
        if c.deleted:
            raise Refused({"deleted"})
        if not self.may_write(u, c):
            self.refuse_write(u, c)
        ch.deleted = True
        self.note(ch.id, "deleted by %s" % u.name)

    # ---- dealers (rule 13; docs/RULES.md) ----

    def _dealer(self, u, did):
        """The dealer an update or delete of did by u is about; refusals as
        the server words them to u (rule 9: about a dealer u's replica
        does not hold, or never did, only not_owner)."""
        if u.role == "rep":
            raise Refused({"forbidden"}, by_role=True)  # dealers are kept by managers and admins
        d = self.s.dealers.get(did)
        if d is None:
            raise Refused({"not_owner"})
        sees = u.role == "admin" or self.in_reach(u, d.territory)
        if d.deleted:
            raise Refused({"deleted"} if sees else {"not_owner"})
        if not sees:
            raise Refused({"not_owner"})
        return d

    def op_create_dealer(self, u, op):
        if u.role == "rep":
            raise Refused({"forbidden"}, by_role=True)
        t = op["territory"]
        if t not in self.s.territories:
            raise Refused({"invalid"})
        if u.role == "manager" and not self.in_reach(u, t):
            raise Refused({"not_in_territory"})
        self.s.dealers[op["id"]] = Dealer(op["id"], t)
        self.note(op["id"], "dealer made by %s in %s" % (u.name, t))

    def check_named(self, d, terr):
        """A dealer's delete (terr None) or move to terr: refused while a
        live customer names it that would lose it; Uncertain where one
        may."""
        maybe = False
        for c, sure in self.naming(d.id):
            if terr is not None and c.territory is not None and terr in self.ancestors(c.territory):
                continue
            if sure:
                raise Refused({"invalid"})
            maybe = True
        if maybe:
            raise Uncertain("dealer %s: whether a customer names it, by stamps the model does not know" % d.id,
                            {"invalid"})

    def op_delete_dealer(self, u, op):
        d = self._dealer(u, op["id"])
        self.check_named(d, None)
        self.apply_delete_dealer(u, op)

    def apply_delete_dealer(self, u, op):
        self.s.dealers[op["id"]].deleted = True
        self.note(op["id"], "dealer deleted by %s" % u.name)

    def op_move_dealer(self, u, op):
        d = self._dealer(u, op["id"])
        t = op["territory"]
        if t not in self.s.territories:
            raise Refused({"invalid"})
        if u.role == "manager" and not self.in_reach(u, t):
            raise Refused({"not_in_territory"})
        self.check_named(d, t)
        self.apply_move_dealer(u, op)

    def apply_move_dealer(self, u, op):
        self.s.dealers[op["id"]].territory = op["territory"]
        self.note(op["id"], "dealer moved to %s by %s" % (op["territory"], u.name))

    # ---- administration (online, rule 7) ----

    def target_holds(self, t, code):
        """Rule 7: the new owner's territories hold the customer's territory.
        Returns True, False, or None when SPEC leaves it open (a rep whose
        territory is above the customer's)."""
        if code in t.terrs:
            return True
        if self.in_reach(t, code):
            return True if t.role == "manager" else None
        return False

    def inside_subtree(self, mgr, t):
        """Rule 7: a manager hands customers only to users inside his subtree."""
        return any(self.in_reach(mgr, x) for x in t.terrs)

    def reassign_customer(self, actor, cid, to):
        """Returns True (must be accepted), False (must be refused) or None
        (either); applies it when accepted is decided by the caller."""
        a = self.s.users[actor]
        c = self.s.customers.get(cid)
        t = self.s.users.get(to)
        if a.role not in ("admin", "manager") or c is None or c.deleted or t is None:
            return False
        if t.role not in ("rep", "manager") or a.disabled or t.disabled:
            return False  # rule 7: a disabled user is handed nothing (docs/RULES.md)
        if a.role == "manager" and not self.in_reach(a, c.territory):
            return False  # outside his subtree
        if a.role == "manager" and not self.inside_through(a, t, c.territory):
            return False
        return self.target_holds(t, c.territory)

    def inside_through(self, mgr, t, code):
        """Rule 7 (docs/RULES.md): the territory through which t holds
        code (code itself for a rep, it or one above it for a manager)
        lies in mgr's subtree."""
        codes = [code] if t.role == "rep" else self.ancestors(code)
        return any(x in t.terrs and self.in_reach(mgr, x) for x in codes)

    def apply_reassign(self, actor, cid, to):
        c = self.s.customers[cid]
        if c.owner == to:
            return
        c.history.append(("reassign", c.owner, to, actor))
        c.changes.append((self.step, to, actor))
        self.note(cid, "reassigned by %s from %s to %s" % (actor, c.owner, to))
        c.owner = to
        self.move_open_deals(c, to)

    def reassign_territory(self, actor, code, frm, to):
        a = self.s.users[actor]
        t = self.s.users.get(to)
        if code not in self.s.territories or frm not in self.s.users or t is None:
            return False
        if t.role not in ("rep", "manager") or a.disabled or t.disabled:
            return False
        if a.role == "manager" and not self.in_reach(a, code):
            return False
        if a.role == "manager" and not (self.inside_subtree(a, t) or code in t.terrs):
            return None
        return True

    def apply_reassign_territory(self, actor, code, frm, to):
        moved = [c.id for c in self.s.customers.values()
                 if not c.deleted and c.owner == frm and c.territory == code]
        for cid in moved:
            self.apply_reassign(actor, cid, to)
        f, t = self.s.users[frm], self.s.users[to]
        if code in f.terrs:  # the territory's assignment moves with them
            f.terrs.remove(code)
            if code not in t.terrs:
                t.terrs.append(code)
        # frm's open deals on others' customers of code and below go where
        # he no longer works (docs/RULES.md, rule 14): to `to` if he works
        # there, else to the customer's owner if he can, else to nobody.
        # A customer frm still owns keeps its deals.
        for c in self.s.customers.values():
            if c.deleted or c.territory is None or code not in self.ancestors(c.territory):
                continue
            if c.owner == frm or self.deal_owner_able(frm, c.territory):
                continue
            if self.deal_owner_able(to, c.territory):
                new = to
            elif c.owner is not None and self.deal_owner_able(c.owner, c.territory):
                new = c.owner
            else:
                new = None
            for kid in c.children:
                ch = self.s.children[kid]
                if ch.coll != "opportunity" or ch.deleted or frm not in ch.owners:
                    continue
                closed = ch.closed()
                if closed is False:
                    ch.owners = (ch.owners - {frm}) | {new}
                elif closed is None:
                    ch.owners = ch.owners | {new}
                self.note(ch.id, "%s handed %s: deal owner %s" % (frm, code, sorted(ch.owners, key=str)))
        return moved
