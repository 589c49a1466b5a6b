#!/usr/bin/env python3
"""lmdb_damage.py - damages an LMDB file on purpose, the way LMDB itself
would not notice, for the tests of roved check's walk of the pages (run
it while nothing writes to the file).

  lmdb_damage.py FILE inuse     the first page the free list lists becomes
                                the main tree's root (a page in use)
  lmdb_damage.py FILE twice     the first page listed becomes the second
                                one (listed twice, and one page lost)
  lmdb_damage.py FILE unsorted  an entry's first two pages swap places
                                (LMDB keeps them largest first)
  lmdb_damage.py FILE dirty     the main tree's root page marked dirty
                                (a mark LMDB keeps in memory only)
  lmdb_damage.py FILE dupsort   the first named table's header says its
                                keys hold sorted duplicates
  lmdb_damage.py FILE swapkeys  the main tree's root page's first two
                                keys swap places (out of order)
  lmdb_damage.py FILE rootpast  both meta pages name a main tree's root
                                past the last page in use
  lmdb_damage.py FILE count     a bit flipped in the count of a free-list
                                entry's pages (2^58 more: attack 69)
  lmdb_damage.py FILE swaptable the first named table with two keys or
                                more: its first leaf's first two keys
                                swap places (out of order)
  lmdb_damage.py FILE badnode TABLE  named table TABLE's first leaf:
                                its middle node's place points past the
                                page (what a bit flipped there does)
  lmdb_damage.py FILE keybyte TABLE  named table TABLE's first leaf:
                                its middle key's first byte becomes 0xfe
                                (out of order: keys after it hidden from
                                a walk of their prefix)
  lmdb_damage.py FILE dupflag TABLE  the main tree's record of TABLE
                                gets the "duplicates" node flag (one bit)
  lmdb_damage.py FILE namesize TABLE the size of TABLE's name in the main
                                tree with its bit 2 flipped ("view": 0)
  lmdb_damage.py FILE lowerbit  the main tree's root page's end of node
                                places (lower) with its bit 5 flipped
  lmdb_damage.py FILE freeroot  both meta pages name a free list's root
                                past the last page in use (every free
                                page then in no tree)
  lmdb_damage.py FILE kindbit   the main tree's root page loses its kind
                                (leaf or branch) flag: flags 0
  lmdb_damage.py FILE subflag TABLE  the main tree's record of TABLE
                                loses its "table" node flag (one bit: a
                                plain entry of 48 bytes then)
  lmdb_damage.py FILE upperlower the main tree's root page's start of
                                nodes (upper) with its bit 12 flipped and
                                its end of node places (lower) its bit 5
  lmdb_damage.py FILE keybit TABLE  named table TABLE's first leaf: its
                                last key's byte 6 with its bit 0 flipped
                                (a number 256 higher: the keys still in
                                order)
  lmdb_damage.py FILE keyclash TABLE  named table TABLE's first leaf: the
                                first key of 8 bytes one bit from the
                                next one's becomes that one (two entries
                                under one key)
  lmdb_damage.py FILE placebit TABLE  the place of TABLE's node on the
                                main tree's page with its bit 4 flipped
  lmdb_damage.py FILE rootbit TABLE  the root page's number in the main
                                tree's record of TABLE with its bit 30
                                flipped (past the file: the table's own
                                pages then held by no tree)

The layout is LMDB's on-disk format (64-bit, little endian): a page's
header of 16 bytes (number, pad, flags, lower, upper), nodes of 8 bytes
(value size or child page in lo/hi, flags, key size) then key and value,
and the meta pages 0 and 1 with the free list's and the main tree's
headers (48 bytes each: pad, flags, depth, branch, leaf and overflow
pages, entries, root). Prints the page it wrote to. Exit 0 when done, 1
when the file offers nothing to damage so, 2 on usage.
"""
import struct
import sys

BRANCH = 0x01
MODES = ("inuse", "twice", "unsorted", "dirty", "dupsort", "swapkeys", "rootpast", "count", "swaptable", "badnode",
         "keybyte", "dupflag", "namesize", "lowerbit", "rootbit", "freeroot", "subflag", "kindbit", "placebit", "upperlower", "keybit",
         "keyclash")
TABLE_MODES = ("badnode", "keybyte", "dupflag", "namesize", "rootbit", "subflag", "placebit", "keybit",
               "keyclash")
SUBDATA = 0x02


def node_at(data, off, i):
    return off + struct.unpack_from("<H", data, off + 16 + 2 * i)[0]


def first_leaf(data, psize, pg):
    while True:
        off = pg * psize
        flags, lower = struct.unpack_from("<HH", data, off + 10)
        if not flags & BRANCH:
            return pg, off, (lower - 16) // 2
        lo, hi, nflags = struct.unpack_from("<HHH", data, node_at(data, off, 0))
        pg = lo | (hi << 16) | (nflags << 32)


def table_root(data, psize, main_root, name):
    """The root page of named table name, or None."""
    pg, off, nkeys = first_leaf(data, psize, main_root)
    for i in range(nkeys):
        node = node_at(data, off, i)
        lo, hi, nflags, ksize = struct.unpack_from("<HHHH", data, node)
        if nflags & SUBDATA and bytes(data[node + 8:node + 8 + ksize]) == name.encode():
            root = struct.unpack_from("<Q", data, node + 8 + ksize + 40)[0]
            return None if root == 0xFFFFFFFFFFFFFFFF else root
    return None


def xor(data, fmt, at, mask):
    """The field of struct format fmt at byte at XORed with mask."""
    struct.pack_into(fmt, data, at, struct.unpack_from(fmt, data, at)[0] ^ mask)


def damage(data, mode, arg=None):
    psize = struct.unpack_from("<I", data, 16 + 24)[0]
    metas = []
    for i in (0, 1):
        base = i * psize + 16
        free_root = struct.unpack_from("<Q", data, base + 24 + 40)[0]
        main_root = struct.unpack_from("<Q", data, base + 24 + 48 + 40)[0]
        txnid = struct.unpack_from("<Q", data, base + 24 + 96 + 8)[0]
        metas.append((txnid, free_root, main_root))
    _, free_root, main_root = max(metas)
    if mode in ("rootpast", "freeroot"):
        for i in (0, 1):
            base = i * psize + 16
            last = struct.unpack_from("<Q", data, base + 24 + 96)[0]
            struct.pack_into("<Q", data, base + 24 + (48 if mode == "rootpast" else 0) + 40, last + 5)
        return last + 5
    if mode in ("upperlower", "lowerbit", "kindbit"):
        off = main_root * psize
        if mode == "upperlower":
            xor(data, "<H", off + 14, 0x1000)
        if mode in ("upperlower", "lowerbit"):
            xor(data, "<H", off + 12, 0x20)
        else:
            xor(data, "<H", off + 10, struct.unpack_from("<H", data, off + 10)[0] & 0x03)
        return main_root
    if mode in ("dupflag", "namesize", "rootbit", "subflag", "placebit"):
        # the main tree's record of table arg
        pg, off, nkeys = first_leaf(data, psize, main_root)
        for i in range(nkeys):
            node = node_at(data, off, i)
            nflags, ksize = struct.unpack_from("<HH", data, node + 4)
            if not nflags & SUBDATA or bytes(data[node + 8:node + 8 + ksize]) != arg.encode():
                continue
            if mode == "dupflag":
                struct.pack_into("<H", data, node + 4, nflags | 0x04)
            elif mode == "subflag":
                xor(data, "<H", node + 4, SUBDATA)
            elif mode == "rootbit":
                xor(data, "<Q", node + 8 + ksize + 40, 1 << 30)
            elif mode == "placebit":
                xor(data, "<H", off + 16 + 2 * i, 0x10)
            else:
                xor(data, "<H", node + 6, 0x04)
            return pg
        return None
    if mode == "dirty":
        off = main_root * psize
        struct.pack_into("<H", data, off + 10, struct.unpack_from("<H", data, off + 10)[0] | 0x10)
        return main_root
    if mode == "keyclash":
        # named table arg's first leaf: the first key of 8 bytes one bit
        # from the next one's, made that one's (two entries under one
        # number: a pending change's number flipped onto another's)
        root = table_root(data, psize, main_root, arg)
        if root is None:
            return None
        pg, off, nkeys = first_leaf(data, psize, root)
        for i in range(nkeys - 1):
            a, b = node_at(data, off, i), node_at(data, off, i + 1)
            if struct.unpack_from("<H", data, a + 6)[0] != 8 or struct.unpack_from("<H", data, b + 6)[0] != 8:
                continue
            x = int.from_bytes(data[a + 8:a + 16], "big") ^ int.from_bytes(data[b + 8:b + 16], "big")
            if x != 0 and x & (x - 1) == 0:
                data[a + 8:a + 16] = data[b + 8:b + 16]
                return pg
        return None
    if mode in ("badnode", "keybyte", "keybit"):
        # named table arg's first leaf: its middle node, or its last key
        root = table_root(data, psize, main_root, arg)
        if root is None:
            return None
        pg, off, nkeys = first_leaf(data, psize, root)
        if nkeys < (1 if mode == "keybit" else 3):
            return None
        if mode == "keybit":
            node = node_at(data, off, nkeys - 1)
            if struct.unpack_from("<H", data, node + 6)[0] != 8:
                return None
            data[node + 8 + 6] ^= 0x01
        elif mode == "badnode":
            struct.pack_into("<H", data, off + 16 + 2 * (nkeys // 2), psize - 4)
        else:
            data[node_at(data, off, nkeys // 2) + 8] = 0xFE
        return pg
    if mode == "swaptable":
        pg, off, nkeys = first_leaf(data, psize, main_root)
        for i in range(nkeys):
            node = node_at(data, off, i)
            lo, hi, nflags, ksize = struct.unpack_from("<HHHH", data, node)
            if not nflags & SUBDATA or (lo | (hi << 16)) != 48:
                continue
            root = struct.unpack_from("<Q", data, node + 8 + ksize + 40)[0]
            if root == 0xFFFFFFFFFFFFFFFF:
                continue  # an empty table
            tpg, toff, tkeys = first_leaf(data, psize, root)
            if tkeys >= 2:
                a, b = struct.unpack_from("<HH", data, toff + 16)
                struct.pack_into("<HH", data, toff + 16, b, a)
                return tpg
        return None
    if mode in ("dupsort", "swapkeys"):
        pg, off, nkeys = first_leaf(data, psize, main_root)
        if nkeys < 2:
            return None
        if mode == "swapkeys":
            a, b = struct.unpack_from("<HH", data, off + 16)
            struct.pack_into("<HH", data, off + 16, b, a)
            return pg
        node = node_at(data, off, 0)
        ksize = struct.unpack_from("<H", data, node + 6)[0]
        struct.pack_into("<H", data, node + 8 + ksize + 4, 0x04)
        return pg
    pg, off, nkeys = first_leaf(data, psize, free_root)
    for i in range(nkeys):
        node = node_at(data, off, i)
        lo, hi, nflags, ksize = struct.unpack_from("<HHHH", data, node)
        size = lo | (hi << 16)
        val = node + 8 + ksize
        if nflags != 0 or size < 24 or struct.unpack_from("<Q", data, val)[0] < 2:
            continue
        first, second = struct.unpack_from("<QQ", data, val + 8)
        if mode == "count":
            struct.pack_into("<Q", data, val, struct.unpack_from("<Q", data, val)[0] | (1 << 58))
        elif mode == "inuse":
            struct.pack_into("<Q", data, val + 8, main_root)
        elif mode == "twice":
            struct.pack_into("<Q", data, val + 8, second)
        else:
            struct.pack_into("<QQ", data, val + 8, second, first)
        return pg
    return None


def main():
    if len(sys.argv) not in (3, 4) or sys.argv[2] not in MODES or (len(sys.argv) == 4) != (sys.argv[2] in TABLE_MODES):
        sys.stderr.write("usage: lmdb_damage.py FILE " + "|".join(MODES) + " [TABLE]\n")
        return 2
    with open(sys.argv[1], "r+b") as f:
        data = bytearray(f.read())
        pg = damage(data, sys.argv[2], sys.argv[3] if len(sys.argv) == 4 else None)
        if pg is None:
            sys.stderr.write("lmdb_damage.py: nothing to damage so in this file\n")
            return 1
        f.seek(0)
        f.write(data)
        print(pg)
    return 0


sys.exit(main())
