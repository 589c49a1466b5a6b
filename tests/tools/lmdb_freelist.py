#!/usr/bin/env python3
"""lmdb_freelist.py - damages the free list of an LMDB file on purpose, for
the tests of roved check's walk of the pages (run it while nothing
writes to the file).

  lmdb_freelist.py FILE inuse   the first page the free list lists becomes
                                the main tree's root (a page in use)
  lmdb_freelist.py FILE twice   the first page listed becomes the second
                                one (listed twice, and one page lost)

The layout is LMDB's on-disk format (64-bit, little endian): a page's
header of 16 bytes (number, pad, flags, lower, upper), nodes of 8 bytes
(value size or child page in lo/hi, flags, key size) then key and value,
and the meta pages 0 and 1 with the free list's and the main tree's
headers (48 bytes each: pad, flags, depth, branch, leaf and overflow
pages, entries, root). Prints the page it wrote to. Exit 0 when done, 1
when the free list lists no page inline, 2 on usage.
"""
import struct
import sys

BRANCH, LEAF = 0x01, 0x02


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ("inuse", "twice"):
        sys.stderr.write("usage: lmdb_freelist.py FILE inuse|twice\n")
        return 2
    with open(sys.argv[1], "r+b") as f:
        data = bytearray(f.read())
        psize = struct.unpack_from("<I", data, 16 + 24)[0]
        metas = []
        for i in (0, 1):
            base = i * psize + 16
            free_root = struct.unpack_from("<Q", data, base + 24 + 40)[0]
            main_root = struct.unpack_from("<Q", data, base + 24 + 48 + 40)[0]
            txnid = struct.unpack_from("<Q", data, base + 24 + 96 + 8)[0]
            metas.append((txnid, free_root, main_root))
        _, pg, main_root = max(metas)
        while True:
            off = pg * psize
            flags, lower = struct.unpack_from("<HH", data, off + 10)
            nkeys = (lower - 16) // 2
            if flags & BRANCH:
                node = off + struct.unpack_from("<H", data, off + 16)[0]
                lo, hi, nflags = struct.unpack_from("<HHH", data, node)
                pg = lo | (hi << 16) | (nflags << 32)
                continue
            break
        for i in range(nkeys):
            node = off + struct.unpack_from("<H", data, off + 16 + 2 * i)[0]
            lo, hi, nflags, ksize = struct.unpack_from("<HHHH", data, node)
            size = lo | (hi << 16)
            val = node + 8 + ksize
            if nflags != 0 or size < 24:
                continue
            count = struct.unpack_from("<Q", data, val)[0]
            if count < 2:
                continue
            new = main_root if sys.argv[2] == "inuse" else struct.unpack_from("<Q", data, val + 16)[0]
            struct.pack_into("<Q", data, val + 8, new)
            f.seek(0)
            f.write(data)
            print(pg)
            return 0
    sys.stderr.write("lmdb_freelist.py: no entry of the free list lists two pages inline\n")
    return 1


sys.exit(main())
