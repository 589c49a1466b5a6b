/*
 * db_pages.c - rove_db_pages_check: a walk of an LMDB file's pages, read
 * from the file itself (never through LMDB's map), as one read
 * transaction's snapshot holds them.
 *
 * Why: LMDB trusts its pages. A free list naming a page still in use
 * reads clean through every cursor (attack forty-eight), and the next
 * writer hands that page out again and overwrites live data; a page
 * number past the file's end, or a node past its page, is followed
 * without a check. The walk reads each page once with pread, checks
 * what it holds before following it, and accounts for every page: each
 * page from 2 to the meta page's last one belongs to exactly one tree
 * (the main one, a named table in it, a table's duplicates) or is listed
 * once in the free list - the same sum LMDB's own debug audit makes.
 *
 * The layout read here is LMDB's on-disk format (0.9, 64-bit, little
 * endian), documented in its lmdb.h and mdb.c:
 *   page header (16 bytes): the page's number (8), a pad (2; a LEAF2
 *     page's key size), flags (2), then lower and upper (2 each; the end
 *     of the node offsets and the start of the nodes), or, for overflow
 *     pages, their count (4);
 *   node (8 bytes then the key and the value): the value's size, or in a
 *     branch the child's page number, in lo/hi (2 each) with flags (2;
 *     in a branch the page number's high bits), the key's size (2);
 *   a tree's header (48 bytes): pad, flags (2), depth (2), its branch,
 *     leaf and overflow pages, its entries and root (8 each);
 *   the meta page, after the header: magic, version (4 each), address,
 *     map size (8 each), the free list's tree header then the main one's,
 *     the last page in use and the transaction id (8 each).
 */
#include "db.h"
#include "db_int.h"
#include "err.h"
#include "log.h"
#include "rove_assert.h"
#include "rove_limits.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PG_HDR 16
#define PG_FLAGS_AT 10
#define PG_LOWER_AT 12
#define PG_UPPER_AT 14
#define PG_OVPAGES_AT 12
#define PG_BRANCH 0x01u
#define PG_LEAF 0x02u
#define PG_OVERFLOW 0x04u
#define PG_DIRTY 0x10u
#define PG_LEAF2 0x20u
#define PG_SUBP 0x40u

#define NODE_HDR 8
#define NODE_BIG 0x01u /* the value is on overflow pages */
#define NODE_SUB 0x02u /* the value is a tree's header */
#define NODE_DUP 0x04u /* the value holds duplicates */

#define TREE_SIZE 48
#define TREE_FLAGS_AT 4
#define TREE_DEPTH_AT 6
#define TREE_BRANCH_AT 8
#define TREE_LEAF_AT 16
#define TREE_OVERFLOW_AT 24
#define TREE_ENTRIES_AT 32
#define TREE_ROOT_AT 40
#define TREE_REVERSEKEY 0x02u
#define TREE_DUPSORT 0x04u
#define TREE_INTEGERKEY 0x08u
#define TREE_DUPFIXED 0x10u
#define TREE_INTEGERDUP 0x20u
#define TREE_REVERSEDUP 0x40u
#define TREE_FLAGS_KNOWN 0x7eu
#define NO_ROOT UINT64_MAX

#define META_AT PG_HDR
#define META_FREE_AT (META_AT + 24) /* its md_pad: the page size (db_int.h) */
#define META_MAIN_AT (META_FREE_AT + TREE_SIZE)
#define META_LAST_AT (META_MAIN_AT + TREE_SIZE)
#define META_TXNID_AT (META_LAST_AT + 8)
#define META_SIZE (META_TXNID_AT + 8)

/* Page buffers: a tree's levels, three trees deep (the main one, a named
 * table, a table's duplicates). */
#define LEVELS (3 * (ROVE_MAX_DB_DEPTH + 1))

enum tree_kind { KIND_MAIN, KIND_FREE, KIND_TABLE, KIND_DUPS };
/* How a tree's keys are ordered: bytes (shorter first on a tie), native
 * unsigned integers, or reversed (not checked). */
enum key_order { ORDER_MEMN, ORDER_INT, ORDER_NONE };

typedef struct pages {
	int fd;
	uint64_t psize, last, txnid, filepages;
	uint8_t *used, *freed; /* bitmaps of pages 0..last */
	uint8_t *buf[LEVELS];
	int table_flags; /* what every named table's header says; -1: any */
	bool in_free;    /* walking the free list's tree: its faults are the free list's */
	rove_db_page_fault_fn fn;
	void *arg;
	rove_db_entry_fn entry; /* a salvage: each entry of a named table read whole (NULL: none) */
	void *entry_arg;
	const char *const *only; /* the named tables walked (NULL-ended); NULL: all, and the free list */
	uint64_t *tiles;         /* nodes_tile's room: a map of a page, a bit per 2 bytes */
	uint16_t *places;        /* a salvage's room for the main tree's nodes' places (main_places) */
	int err; /* an I/O or memory error: the walk cannot go on */
} pages;

/* One tree being walked, and what its pages add up to. */
typedef struct tree {
	char name[ROVE_MAX_NAME * 4 + 1];
	enum tree_kind kind;
	unsigned depth;
	bool dupsort, dupfixed;
	enum key_order order;
	uint64_t branch, leaf, overflow, entries;
} tree;

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)le16(p) | ((uint32_t)le16(p + 2) << 16);
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | ((uint64_t)le32(p + 4) << 32);
}

static bool bit(const uint8_t *map, uint64_t n)
{
	return (map[n / 8] >> (n % 8)) & 1u;
}

static void set_bit(uint8_t *map, uint64_t n)
{
	map[n / 8] |= (uint8_t)(1u << (n % 8));
}

/* A fault on page pg (NO_PAGE: of the file, or of a tree, as a whole);
 * free_list: one of the free list alone (rove_db_page_fault_fn). */
#define NO_PAGE UINT64_MAX
static void vfault(pages *w, bool free_list, uint64_t pg, const char *fmt, va_list ap)
{
	char what[ROVE_MAX_ERRMSG];

	vsnprintf(what, sizeof(what), fmt, ap);
	w->fn(w->arg, pg == NO_PAGE ? NULL : &pg, free_list, what);
}

__attribute__((format(printf, 3, 4))) static void fault(pages *w, uint64_t pg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfault(w, w->in_free, pg, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 3, 4))) static void free_fault(pages *w, uint64_t pg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfault(w, true, pg, fmt, ap);
	va_end(ap);
}

/* Reads n bytes of the file from byte at (within page pg, for what is
 * said) into out; false (said, or an error kept in w->err) when they are
 * not all there. */
static bool read_at(pages *w, uint64_t at, uint64_t pg, uint8_t *out, size_t n, const char *name)
{
	size_t done = 0;

	while (done < n) {
		ssize_t got = pread(w->fd, out + done, n - done, (off_t)(at + done));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int err = errno;
			rove_error("cannot read page %llu of the database: %s", (unsigned long long)pg, strerror(err));
			w->err = rove_err_errno(err);
			return false;
		}
		if (got == 0) {
			fault(w, pg, "%s: past the file's end", name);
			return false;
		}
		done += (size_t)got;
	}
	return true;
}

/* Page pg into the buffer of level, or NULL (said). */
static const uint8_t *read_page(pages *w, int level, uint64_t pg, const char *name)
{
	ROVE_ASSERT(level >= 0 && level < LEVELS);
	if (w->buf[level] == NULL && (w->buf[level] = malloc(w->psize)) == NULL) {
		w->err = ROVE_ENOMEM;
		return NULL;
	}
	return read_at(w, pg * w->psize, pg, w->buf[level], w->psize, name) ? w->buf[level] : NULL;
}

/* Claims pages pg..pg+n-1 for tree t; false when one cannot be its (said:
 * past the last page, or already another tree's). */
static bool claim(pages *w, const tree *t, uint64_t pg, uint64_t n)
{
	if (pg < 2) {
		fault(w, pg, "%s: names meta page %llu as one of its own", t->name, (unsigned long long)pg);
		return false;
	}
	if (pg > w->last || n > w->last - pg + 1) {
		fault(w, pg, "%s: names page %llu%s, past the last page in use (%llu)", t->name, (unsigned long long)pg,
		      n > 1 ? " and on" : "", (unsigned long long)w->last);
		return false;
	}
	for (uint64_t i = pg; i < pg + n; i++) {
		if (bit(w->used, i)) {
			fault(w, i, "%s: a page another tree holds too (or this one twice)", t->name);
			return false;
		}
		if (bit(w->freed, i))
			free_fault(w, i, "%s: in use, and in the free list (a writer would hand it out and overwrite it)",
			      t->name);
		set_bit(w->used, i);
	}
	return true;
}

/* Lists page pg as free (from the free list's entry of txn). */
static void list_free(pages *w, uint64_t txn, uint64_t pg)
{
	if (pg < 2) {
		free_fault(w, pg, "free list: entry %llu lists meta page %llu", (unsigned long long)txn, (unsigned long long)pg);
		return;
	}
	if (pg > w->last) {
		free_fault(w, pg, "free list: entry %llu lists page %llu, past the last page in use (%llu)",
		      (unsigned long long)txn, (unsigned long long)pg, (unsigned long long)w->last);
		return;
	}
	if (bit(w->freed, pg))
		free_fault(w, pg, "free list: listed twice");
	else if (bit(w->used, pg))
		free_fault(w, pg, "free list: lists a page in use (a writer would hand it out and overwrite it)");
	set_bit(w->freed, pg);
}

/* A free list entry: key txn, value an ID list (a count, then as many
 * page numbers). */
static void free_entry(pages *w, uint64_t txn, const uint8_t *v, uint64_t size)
{
	uint64_t n;
	bool disorder = false;

	if (txn > w->txnid)
		free_fault(w, NO_PAGE, "free list: an entry of transaction %llu, after the last one (%llu)",
		      (unsigned long long)txn, (unsigned long long)w->txnid);
	/* LMDB reserves an entry's room before it fills it: a count below
	 * what the room holds (0 in one reserved and left unused) is whole. */
	if (size < 8 || size % 8 != 0 || (n = le64(v)) > size / 8 - 1) {
		free_fault(w, NO_PAGE, "free list: entry %llu is not a list of pages (%llu bytes)", (unsigned long long)txn,
		      (unsigned long long)size);
		return;
	}
	/* LMDB's lists go from the largest page down; it merges them and
	 * looks for runs of pages on that order (attack fifty-two: an entry
	 * out of order checked clean). */
	for (uint64_t i = 1; i <= n; i++) {
		if (i > 1 && le64(v + 8 * i) >= le64(v + 8 * (i - 1)) && !disorder) {
			free_fault(w, NO_PAGE, "free list: entry %llu's pages are not in order (page %llu after %llu)",
			      (unsigned long long)txn, (unsigned long long)le64(v + 8 * i),
			      (unsigned long long)le64(v + 8 * (i - 1)));
			disorder = true;
		}
		list_free(w, txn, le64(v + 8 * i));
	}
}

static void walk_tree(pages *w, const char *name, enum tree_kind kind, const uint8_t *hdr, int level);

/* Entry (key, ksize bytes) of a named table read whole, its value of
 * size bytes at ov's pages: to the salvage (w->entry), read first. */
static void salvage_big(pages *w, const tree *t, const uint8_t *key, unsigned ksize, uint64_t size, uint64_t ov)
{
	uint8_t *v = malloc(size > 0 ? size : 1);
	int rc;

	if (v == NULL) {
		w->err = ROVE_ENOMEM;
		return;
	}
	if (read_at(w, ov * w->psize + PG_HDR, ov, v, size, t->name) &&
	    (rc = w->entry(w->entry_arg, t->name, key, ksize, v, size)) != ROVE_OK)
		w->err = rc;
	free(v);
}

/* A value of size bytes on the overflow pages from ov (node of page pg,
 * key the node's, of ksize bytes): claimed for t; for the free list,
 * read and listed; in a salvage, a named table's is read and given. */
static void walk_big(pages *w, tree *t, uint64_t pg, const uint8_t *key, unsigned ksize, uint64_t size, uint64_t ov,
		     int level)
{
	uint64_t need = (PG_HDR - 1 + size) / w->psize + 1, n;
	const uint8_t *p;
	uint8_t *v;

	if (ov < 2 || ov > w->last) {
		fault(w, pg, "%s: a value on page %llu, %s", t->name, (unsigned long long)ov,
		      ov < 2 ? "a meta page" : "past the last page in use");
		return;
	}
	if ((p = read_page(w, level, ov, t->name)) == NULL)
		return;
	n = le32(p + PG_OVPAGES_AT);
	if (le64(p) != ov || le16(p + PG_FLAGS_AT) != PG_OVERFLOW || n < need) {
		fault(w, ov, "%s: not the overflow pages a value of %llu bytes needs (page %llu's node says so)",
		      t->name, (unsigned long long)size, (unsigned long long)pg);
		return;
	}
	if (!claim(w, t, ov, n))
		return;
	t->overflow += n;
	if (t->kind == KIND_TABLE && w->entry != NULL)
		salvage_big(w, t, key, ksize, size, ov);
	if (t->kind != KIND_FREE)
		return;
	if (size < 8) {
		free_fault(w, pg, "free list: entry %llu is not a list of pages (%llu bytes)", (unsigned long long)le64(key),
		      (unsigned long long)size);
		return;
	}
	if ((v = malloc(size)) == NULL) {
		w->err = ROVE_ENOMEM;
		return;
	}
	if (read_at(w, ov * w->psize + PG_HDR, ov, v, size, t->name))
		free_entry(w, le64(key), v, size);
	free(v);
}

/* A key, or no bound (p NULL). */
typedef struct key {
	const uint8_t *p;
	size_t n;
} key;

/* Orders a and b as tree t's keys are ordered: <0, 0, >0. */
static int key_cmp(const tree *t, key a, key b)
{
	if (t->order == ORDER_INT) {
		/* native unsigned integers of one size (4 or 8 bytes) */
		uint64_t x = a.n == 8 ? le64(a.p) : le32(a.p), y = b.n == 8 ? le64(b.p) : le32(b.p);
		return x < y ? -1 : x > y;
	}
	int c = memcmp(a.p, b.p, a.n < b.n ? a.n : b.n);
	return c != 0 ? c : a.n < b.n ? -1 : a.n > b.n;
}

/* Whether k may come after prev (none: p NULL) and lie in [lo, hi) in
 * tree t (keys rise strictly; a key of an integer order has its size). */
static bool key_fits(const tree *t, key k, key prev, key lo, key hi)
{
	if (t->order == ORDER_NONE)
		return true;
	if (t->order == ORDER_INT && k.n != 4 && k.n != 8)
		return false;
	if (t->order == ORDER_INT && ((prev.p != NULL && prev.n != k.n) || (lo.p != NULL && lo.n != k.n) ||
				      (hi.p != NULL && hi.n != k.n)))
		return false;
	return (prev.p == NULL || key_cmp(t, prev, k) < 0) && (lo.p == NULL || key_cmp(t, lo, k) <= 0) &&
	       (hi.p == NULL || key_cmp(t, k, hi) < 0);
}

/* A leaf's node i at n (its key checked), value v of size lohi. */
static bool named_in(const char *const *names, const char *name)
{
	for (; *names != NULL; names++)
		if (strcmp(*names, name) == 0)
			return true;
	return false;
}

static void walk_node(pages *w, tree *t, uint64_t pg, unsigned i, const uint8_t *n, unsigned nflags, unsigned ksize,
		      uint64_t lohi, int level)
{
	const uint8_t *v = n + NODE_HDR + ksize;

	if (nflags & NODE_BIG) {
		walk_big(w, t, pg, n + NODE_HDR, ksize, lohi, le64(v), level + 1);
		t->entries++;
	} else if (t->kind == KIND_FREE) {
		free_entry(w, le64(n + NODE_HDR), v, lohi);
		t->entries++;
	} else if ((nflags & (NODE_SUB | NODE_DUP)) == (NODE_SUB | NODE_DUP)) {
		/* a key's duplicates in a tree of their own */
		walk_tree(w, t->name, KIND_DUPS, v, level + 1);
		t->entries += le64(v + TREE_ENTRIES_AT);
	} else if (nflags & NODE_SUB) {
		/* a named table (in the main tree only) */
		char nm[sizeof(t->name)];
		size_t o = 0;
		for (unsigned k = 0; k < ksize && o + 5 < sizeof(nm); k++) {
			uint8_t c = n[NODE_HDR + k];
			o += (size_t)snprintf(nm + o, sizeof(nm) - o, c >= 0x21 && c < 0x7f ? "%c" : "\\x%02x", c);
		}
		nm[o] = '\0';
		if (w->only != NULL && !named_in(w->only, nm)) {
			t->entries++;
			return;
		}
		if (w->entry != NULL) {
			/* the table itself, empty or not, first, with the
			 * count of entries its header says */
			uint64_t said = le64(v + TREE_ENTRIES_AT);
			if ((w->err = w->entry(w->entry_arg, nm, NULL, 0, &said, sizeof(said))) != ROVE_OK)
				return;
		}
		walk_tree(w, nm, KIND_TABLE, v, level + 1);
		t->entries++;
	} else if (nflags & NODE_DUP) {
		/* a key's few duplicates in a page within the node (LMDB leaves
		 * its dirty mark on such a page) */
		unsigned f = le16(v + PG_FLAGS_AT), lo = le16(v + PG_LOWER_AT), up = le16(v + PG_UPPER_AT);
		if ((f & (PG_LEAF | PG_SUBP)) != (PG_LEAF | PG_SUBP) || (f & ~(PG_LEAF | PG_SUBP | PG_LEAF2 | PG_DIRTY)) ||
		    lo < PG_HDR || lo > up || up > lohi || (lo - PG_HDR) % 2 != 0) {
			fault(w, pg, "%s: node %u's duplicates cannot be", t->name, i);
			return;
		}
		t->entries += (lo - PG_HDR) / 2u;
	} else {
		int rc;
		if (t->kind == KIND_TABLE && w->entry != NULL &&
		    (rc = w->entry(w->entry_arg, t->name, n + NODE_HDR, ksize, v, lohi)) != ROVE_OK)
			w->err = rc;
		t->entries++;
	}
}

/* Whether the nkeys nodes of page p (whose node offsets are in bounds
 * or not: checked here too) fill [upper, psize) exactly, one after the
 * other, each its size as LMDB makes it: the header, the key and, on a
 * leaf, the value on the page (a page number for one on overflow pages),
 * rounded up to an even size. LMDB keeps them so, and its writes rely
 * on it. Each node marks the 2-byte units it takes in a map of the page:
 * none taken twice, and as many taken as [upper, psize) holds, is that
 * (a sort of the nodes by place was most of a walk's time: 6 of a sync's
 * 61 million instructions). */
static bool nodes_tile(pages *w, const uint8_t *p, unsigned upper, unsigned nkeys, bool leaf)
{
	uint64_t psize = w->psize, taken = 0, words = psize / 128;
	uint64_t *map;

	/* (room for a page's map, made once) */
	if (w->tiles == NULL && (w->tiles = malloc((size_t)words * sizeof(*w->tiles))) == NULL) {
		w->err = ROVE_ENOMEM;
		return true;
	}
	map = w->tiles;
	if (nkeys > psize / 2 || upper % 2 != 0)
		return false;
	memset(map, 0, (size_t)words * sizeof(*map));
	for (unsigned i = 0; i < nkeys; i++) {
		unsigned off = le16(p + PG_HDR + 2 * i);
		uint64_t size, from, to;
		if (off < upper || off % 2 != 0 || off + NODE_HDR > psize)
			return false;
		size = NODE_HDR + (uint64_t)le16(p + off + 6);
		if (leaf)
			size += le16(p + off + 4) & NODE_BIG ? 8 : le32(p + off);
		size = (size + 1) & ~(uint64_t)1;
		if (off + size > psize)
			return false;
		/* units [from, to) of 2 bytes, a word of the map at a time */
		for (from = off / 2, to = (off + size) / 2; from < to;) {
			uint64_t n = 64 - from % 64 < to - from ? 64 - from % 64 : to - from;
			uint64_t mask = (n == 64 ? ~(uint64_t)0 : ((uint64_t)1 << n) - 1) << (from % 64);
			if (map[from / 64] & mask)
				return false;
			map[from / 64] |= mask;
			from += n;
		}
		taken += size;
	}
	return taken == psize - upper;
}

/* A salvage: page pg, in no tree and not free, read as a lost leaf of a
 * named table; each of its entries that reads whole (its value on the
 * page, or on overflow pages in no tree either) given under
 * ROVE_DB_LOST_PAGES. A page that is no such leaf is passed. */
static void salvage_lost(pages *w, uint64_t pg)
{
	tree t;
	const uint8_t *p;
	unsigned lower, upper, nkeys;

	memset(&t, 0, sizeof(t));
	snprintf(t.name, sizeof(t.name), "%s", ROVE_DB_LOST_PAGES);
	t.kind = KIND_TABLE;
	if ((p = read_page(w, 0, pg, t.name)) == NULL || le64(p) != pg || le16(p + PG_FLAGS_AT) != PG_LEAF)
		return;
	lower = le16(p + PG_LOWER_AT);
	upper = le16(p + PG_UPPER_AT);
	if (lower <= PG_HDR || lower > upper || upper > w->psize || (lower - PG_HDR) % 2 != 0)
		return;
	nkeys = (lower - PG_HDR) / 2;
	if (!nodes_tile(w, p, upper, nkeys, true))
		return;
	/* (the page begins: its number, as a table's header is given) */
	if ((w->err = w->entry(w->entry_arg, t.name, NULL, 0, &pg, sizeof(pg))) != ROVE_OK)
		return;
	for (unsigned i = 0; i < nkeys && w->err == ROVE_OK; i++) {
		const uint8_t *n = p + le16(p + PG_HDR + 2 * i); /* (in the page: nodes_tile) */
		unsigned nflags = le16(n + 4), ksize = le16(n + 6);
		uint64_t size = le32(n), ov;
		const uint8_t *q;
		int rc;

		if (nflags == 0) {
			if ((rc = w->entry(w->entry_arg, t.name, n + NODE_HDR, ksize, n + NODE_HDR + ksize, size)) != ROVE_OK)
				w->err = rc;
			continue;
		}
		if (nflags != NODE_BIG)
			continue;
		ov = le64(n + NODE_HDR + ksize);
		if (ov < 2 || ov > w->last || ov >= w->filepages || bit(w->used, ov) || bit(w->freed, ov) ||
		    (q = read_page(w, 1, ov, t.name)) == NULL)
			continue;
		if (le64(q) != ov || le16(q + PG_FLAGS_AT) != PG_OVERFLOW ||
		    le32(q + PG_OVPAGES_AT) < (PG_HDR - 1 + size) / w->psize + 1 ||
		    ov + le32(q + PG_OVPAGES_AT) > w->last + 1 || ov + le32(q + PG_OVPAGES_AT) > w->filepages)
			continue;
		salvage_big(w, &t, n + NODE_HDR, ksize, size, ov);
	}
}

/* Where the node at off on a page of psize bytes ends, as the places of
 * its nkeys nodes say: the next node's start, or the page's end; node
 * skip's place (one judged now) left out. */
static uint64_t node_room_end(uint64_t psize, const uint16_t *places, unsigned nkeys, unsigned skip, unsigned off)
{
	uint64_t next = psize;

	for (unsigned j = 0; j < nkeys; j++)
		if (j != skip && places[j] > off && places[j] < next)
			next = places[j];
	return next;
}

/* The size of a table's record node whose key is ksize bytes (LMDB keeps
 * nodes at even sizes). */
static uint64_t record_node_size(uint64_t ksize)
{
	return (NODE_HDR + ksize + TREE_SIZE + 1) & ~(uint64_t)1;
}

/* A salvage: the size of the key of main-tree node at off on a page of
 * nkeys nodes at places, from the room the page's nodes leave it, when
 * the size the node says is one bit from that (a bit flipped in it:
 * "outbox" read as "ou", meta's name as "met", the table's header then
 * read from the wrong bytes: the pending changes lost, or the replica's
 * own settings, attack eighty-seven's hunt of the main tree); else
 * ksize. */
static unsigned main_ksize(const pages *w, const uint16_t *places, unsigned nkeys, unsigned off, unsigned ksize)
{
	uint64_t room = node_room_end(w->psize, places, nkeys, nkeys, off) - off;

	for (uint64_t pad = 0; pad < 2; pad++) {
		uint64_t k;
		unsigned x;
		if (room < NODE_HDR + TREE_SIZE + 1 + pad)
			continue;
		k = room - NODE_HDR - TREE_SIZE - pad;
		x = (unsigned)k ^ ksize;
		if (k <= 0xffff && x != 0 && (x & (x - 1)) == 0 && record_node_size(k) == room)
			return (unsigned)k;
	}
	return ksize;
}

/* Whether a table's record, as LMDB lays one out (its flags, its
 * value's size, and a node of its key's size filling the room to the
 * next node's start), lies at off on main-tree page p for node i of the
 * nkeys at places: no other node's place is off. */
static bool main_record_at(const pages *w, const uint8_t *p, const uint16_t *places, unsigned nkeys, unsigned upper,
			   unsigned i, unsigned off)
{
	unsigned ksize;

	if (off < upper || off % 2 != 0 || off + NODE_HDR > w->psize)
		return false;
	for (unsigned j = 0; j < nkeys; j++)
		if (j != i && places[j] == off)
			return false;
	ksize = le16(p + off + 6);
	return le16(p + off + 4) == NODE_SUB && le32(p + off) == TREE_SIZE && ksize > 0 &&
	       record_node_size(ksize) == node_room_end(w->psize, places, nkeys, i, off) - off;
}

/* A salvage: the places of main-tree page p's nkeys nodes into places,
 * each as the page says, or, when no table's record lies there and one
 * does at a place one bit from it, that place (a bit of one node's place
 * flipped: its table read from another's bytes, the pages of others
 * claimed by it, and every pending change lost, attack eighty-nine). */
static void main_places(const pages *w, const uint8_t *p, unsigned nkeys, unsigned upper, uint16_t *places)
{
	for (unsigned i = 0; i < nkeys; i++)
		places[i] = le16(p + PG_HDR + 2 * i);
	for (unsigned i = 0; i < nkeys; i++) {
		unsigned off = places[i];
		if (main_record_at(w, p, places, nkeys, upper, i, off))
			continue;
		for (unsigned b = 1; b < 16; b++)
			if (main_record_at(w, p, places, nkeys, upper, i, off ^ (1u << b))) {
				places[i] = (uint16_t)(off ^ (1u << b));
				break;
			}
	}
}

/* Page pg of tree t, depth levels from its root, its keys in [lo, hi). */
static void walk_page(pages *w, tree *t, uint64_t pg, unsigned depth, int level, key lo, key hi)
{
	const uint8_t *p;
	unsigned flags, lower, upper, nkeys;
	bool leaf = depth == t->depth;
	key prev = {NULL, 0};

	if (w->err != ROVE_OK || !claim(w, t, pg, 1) || (p = read_page(w, level, pg, t->name)) == NULL)
		return;
	flags = le16(p + PG_FLAGS_AT);
	lower = le16(p + PG_LOWER_AT);
	upper = le16(p + PG_UPPER_AT);
	if (le64(p) != pg) {
		fault(w, pg, "%s: holds the header of page %llu", t->name, (unsigned long long)le64(p));
		return;
	}
	/* Exactly the flags a page at rest has: a mark LMDB keeps in memory
	 * only (dirty, loose, kept) makes it write into the map (attack
	 * fifty-two: a root page marked dirty checked clean, then roved
	 * serve died of SIGSEGV). */
	if (flags != (leaf ? (t->kind == KIND_DUPS && t->dupfixed ? PG_LEAF | PG_LEAF2 : PG_LEAF) : PG_BRANCH) &&
	    !(leaf && flags == PG_LEAF && t->kind == KIND_DUPS)) {
		fault(w, pg, "%s: not a %s page where the tree has one (flags 0x%x)", t->name, leaf ? "leaf" : "branch",
		      flags);
		/* A salvage reads a leaf where its tree's header says there
		 * are more levels (the header's depth damaged: LMDB goes by
		 * the pages, and read the replica's own state while the
		 * salvage lost it all: damage_hunt seed 30321). */
		if (w->entry != NULL && !leaf && (flags & ~(unsigned)PG_DIRTY) == PG_LEAF && t->kind != KIND_DUPS) {
			leaf = true;
			flags = PG_LEAF;
		}
		/* A salvage reads on past one flag bit more than the page's
		 * kind (the page is read here, never written): a mark LMDB
		 * keeps in memory only (attack eighty-three: a dirty mark on
		 * the main tree's root lost every table), or another bit
		 * flipped (damage_hunt seed 23926: the main tree's leaf marked
		 * an overflow page too, and the pending changes lost); or past
		 * its kind's bit lost (flags 0 on the main tree's page: every
		 * table lost, a new replica; attack eighty-seven's hunt, seed 1). */
		unsigned want = leaf ? PG_LEAF : PG_BRANCH, extra = flags ^ want;
		if (w->entry == NULL || t->kind == KIND_DUPS || (extra & (extra - 1)) != 0)
			return;
		flags = want;
	}
	if (lower < PG_HDR || lower > upper || upper > w->psize || (lower - PG_HDR) % 2 != 0 || lower == PG_HDR) {
		fault(w, pg, "%s: a page whose bounds cannot be (lower %u, upper %u)", t->name, lower, upper);
		/* A salvage counts the nodes' places itself, where the page's
		 * end of them is damaged: each lies past upper, in the page
		 * (one bit of the main tree's lower lost every table, and every
		 * command died of SIGBUS: attack eighty-seven). */
		if (w->entry == NULL || upper > w->psize || upper <= PG_HDR)
			return;
		for (lower = PG_HDR; lower + 2 <= upper && le16(p + lower) >= upper && (uint64_t)le16(p + lower) + NODE_HDR <= w->psize;)
			lower += 2;
		if (lower == PG_HDR)
			return;
	}
	nkeys = (lower - PG_HDR) / 2;
	if (leaf)
		t->leaf++;
	else
		t->branch++;
	if (flags & PG_LEAF2) {
		/* keys of one size, one after the other (duplicates of a fixed
		 * size) */
		unsigned ksize = le16(p + 8);
		if (ksize == 0 || PG_HDR + (uint64_t)nkeys * ksize > w->psize) {
			fault(w, pg, "%s: a page of fixed-size keys that cannot be", t->name);
			return;
		}
		for (unsigned i = 0; i < nkeys; i++) {
			key k = {p + PG_HDR + (size_t)i * ksize, ksize};
			if (!key_fits(t, k, prev, lo, hi)) {
				fault(w, pg, "%s: its keys are out of order (key %u)", t->name, i);
				return;
			}
			prev = k;
		}
		t->entries += nkeys;
		return;
	}
	bool tiled = nodes_tile(w, p, upper, nkeys, leaf), fixing;
	if (!tiled) {
		fault(w, pg, "%s: its nodes overlap, or leave room between them", t->name);
		/* LMDB moves a page's nodes by their sizes when it writes one
		 * (mdb_node_del): through such a page, past its buffer, into
		 * the heap (damage_hunt seed 20278). A salvage reads on. */
		if (w->entry == NULL)
			return;
	}
	/* (a salvage of the main tree's leaf: its nodes' places, each one bit
	 * from what it says read where a table's record lies) */
	fixing = w->entry != NULL && t->kind == KIND_MAIN && leaf && !tiled;
	if (fixing && w->places == NULL && (w->places = malloc((size_t)w->psize / 2 * sizeof(*w->places))) == NULL) {
		w->err = ROVE_ENOMEM;
		return;
	}
	if (fixing)
		main_places(w, p, nkeys, upper, w->places);
	for (unsigned i = 0; i < nkeys && w->err == ROVE_OK; i++) {
		unsigned off = fixing ? w->places[i] : le16(p + PG_HDR + 2 * i), nflags, ksize;
		uint64_t lohi;
		const uint8_t *n = p + off;
		key k;

		bool placed = off >= upper && off + NODE_HDR <= w->psize;
		ksize = placed ? le16(n + 6) : 0;
		if (placed && fixing) {
			unsigned was = ksize;
			if (off != le16(p + PG_HDR + 2 * i))
				fault(w, pg, "%s: node %u's place is %u, not %u", t->name, i, off, le16(p + PG_HDR + 2 * i));
			ksize = main_ksize(w, w->places, nkeys, off, ksize);
			if (ksize != was)
				fault(w, pg, "%s: node %u's key is %u bytes long, not %u", t->name, i, ksize, was);
		}
		if (!placed || off + NODE_HDR + ksize > w->psize) {
			fault(w, pg, "%s: node %u lies outside its page", t->name, i);
			if (w->entry != NULL)
				continue; /* a salvage: this node alone is lost */
			return;
		}
		lohi = le32(n);
		nflags = le16(n + 4);
		k.p = n + NODE_HDR;
		k.n = ksize;
		/* A branch's first key is no bound: its parent's is. */
		if (!(!leaf && i == 0) && !key_fits(t, k, prev, lo, hi)) {
			fault(w, pg, "%s: its keys are out of order (key %u)", t->name, i);
			/* a salvage reads on: its copy puts each key where it
			 * belongs */
			if (w->entry == NULL)
				return;
		}
		if (!leaf) {
			key clo = i == 0 ? lo : k, chi = hi;
			if (i + 1 < nkeys) {
				unsigned o2 = le16(p + PG_HDR + 2 * (i + 1));
				if (o2 < upper || o2 + NODE_HDR > w->psize || o2 + NODE_HDR + le16(p + o2 + 6) > w->psize) {
					fault(w, pg, "%s: node %u lies outside its page", t->name, i + 1);
					if (w->entry == NULL)
						return;
					chi = hi; /* a salvage: the next bound is unknown */
				} else {
					chi.p = p + o2 + NODE_HDR;
					chi.n = le16(p + o2 + 6);
				}
			}
			if (i > 0)
				prev = k;
			walk_page(w, t, lohi | ((uint64_t)nflags << 32), depth + 1, level + 1, clo, chi);
			continue;
		}
		prev = k;
		/* A salvage takes a named table's record whose size alone is
		 * wrong (a bit flipped in it) as the record it is: meta's 48
		 * read 112, the salvage lost meta and refused, and the pending
		 * changes were lost with the replica (damage_hunt seed 23232). */
		if (w->entry != NULL && t->kind == KIND_MAIN && nflags == NODE_SUB && lohi != TREE_SIZE &&
		    off + NODE_HDR + ksize + TREE_SIZE <= w->psize) {
			fault(w, pg, "%s: node %u's size is not a table's (%llu)", t->name, i, (unsigned long long)lohi);
			lohi = TREE_SIZE;
		}
		/* ... and one whose flags are one bit from a table's: one
		 * more ("duplicates": every command died of SIGSEGV, the repair
		 * too, attack eighty-seven; "on overflow pages": meta lost,
		 * a new replica, its hunt's seed 2864), or the table's own lost,
		 * a plain entry of a table record's size in a main tree of
		 * tables only (LMDB says MDB_INCOMPATIBLE, and the repair failed
		 * for good: its seed 3329) */
		unsigned extra = nflags ^ NODE_SUB;
		if (w->entry != NULL && t->kind == KIND_MAIN && extra != 0 && (extra & (extra - 1)) == 0 &&
		    lohi == TREE_SIZE && (nflags & NODE_SUB || w->table_flags >= 0) &&
		    off + NODE_HDR + ksize + TREE_SIZE <= w->psize) {
			fault(w, pg, "%s: node %u is of a kind this tree cannot hold (flags 0x%x)", t->name, i, nflags);
			nflags = NODE_SUB;
		}
		if ((nflags & NODE_BIG) ? off + NODE_HDR + ksize + 8 > w->psize || (nflags & (NODE_SUB | NODE_DUP))
					: off + NODE_HDR + ksize + lohi > w->psize) {
			fault(w, pg, "%s: node %u's value lies outside its page", t->name, i);
			if (w->entry != NULL)
				continue;
			return;
		}
		/* what each kind of tree may hold */
		if ((t->kind == KIND_FREE && (ksize != 8 || (nflags & ~NODE_BIG))) ||
		    (t->kind == KIND_DUPS && nflags != 0) || (t->kind == KIND_MAIN && nflags != 0 && nflags != NODE_SUB) ||
		    (t->kind == KIND_MAIN && w->table_flags >= 0 && nflags != NODE_SUB) ||
		    (t->kind == KIND_TABLE && (nflags & NODE_SUB) && !(nflags & NODE_DUP)) ||
		    (t->kind == KIND_TABLE && (nflags & NODE_DUP) && !t->dupsort) || (nflags & ~(NODE_BIG | NODE_SUB | NODE_DUP)) ||
		    ((nflags & NODE_SUB) && lohi != TREE_SIZE)) {
			fault(w, pg, "%s: node %u is of a kind this tree cannot hold (flags 0x%x)", t->name, i, nflags);
			/* A salvage takes a named table's entry whose flags alone
			 * are wrong (a bit flipped there) as the plain entry it
			 * was, its value on the page: LMDB reads an unknown flag
			 * past, and dies on a "duplicates" one in a table without
			 * them, while the entry may be what makes the replica
			 * itself (damage_hunt seeds 12514, 21249). */
			if (w->entry != NULL && t->kind == KIND_TABLE && !(nflags & NODE_BIG) &&
			    off + NODE_HDR + ksize + lohi <= w->psize)
				walk_node(w, t, pg, i, n, 0, ksize, lohi, level);
			if (w->entry != NULL)
				continue;
			return;
		}
		walk_node(w, t, pg, i, n, nflags, ksize, lohi, level);
	}
}

/* Walks the tree whose header is hdr, then checks its header's counts
 * against what its pages hold. */
static void walk_tree(pages *w, const char *name, enum tree_kind kind, const uint8_t *hdr, int level)
{
	tree t;
	uint64_t root = le64(hdr + TREE_ROOT_AT);
	unsigned flags = le16(hdr + TREE_FLAGS_AT);
	key none = {NULL, 0};

	memset(&t, 0, sizeof(t));
	snprintf(t.name, sizeof(t.name), "%s", name);
	t.kind = kind;
	t.depth = le16(hdr + TREE_DEPTH_AT);
	/* the free list's flags hold the environment's too: only its
	 * integer keys matter here */
	if (kind == KIND_FREE)
		flags = TREE_INTEGERKEY;
	if (kind == KIND_TABLE && w->table_flags >= 0 && flags != (unsigned)w->table_flags) {
		/* a table whose flags say duplicates (or integer keys) where its
		 * program opens it without: LMDB would take its entries for
		 * what they are not (attack fifty-two: duplicate records) */
		fault(w, NO_PAGE, "%s: its header says LMDB flags 0x%x, where its tables have 0x%x", t.name, flags,
		      (unsigned)w->table_flags);
		return;
	}
	if ((kind == KIND_MAIN && flags != 0) || (flags & ~TREE_FLAGS_KNOWN)) {
		fault(w, NO_PAGE, "%s: its header says LMDB flags 0x%x", t.name, flags);
		return;
	}
	t.dupsort = (flags & TREE_DUPSORT) != 0;
	if (kind == KIND_DUPS) {
		t.dupfixed = (flags & TREE_DUPFIXED) != 0;
		t.order = flags & TREE_REVERSEDUP ? ORDER_NONE : flags & TREE_INTEGERDUP ? ORDER_INT : ORDER_MEMN;
	} else {
		t.order = flags & TREE_REVERSEKEY ? ORDER_NONE : flags & TREE_INTEGERKEY ? ORDER_INT : ORDER_MEMN;
	}
	if (level + (int)t.depth >= LEVELS || t.depth > ROVE_MAX_DB_DEPTH) {
		fault(w, NO_PAGE, "%s: a tree %u levels deep", t.name, t.depth);
		/* A salvage goes by the pages (a leaf where a branch is said is
		 * read as one): meta's depth with one bit flipped, 1025, lost
		 * the replica's own state, and the repair failed for good
		 * (attack eighty-seven's hunt, seed 200057). */
		if (w->entry == NULL || root == NO_ROOT)
			return;
		t.depth = ROVE_MAX_DB_DEPTH < LEVELS - 1 - level ? ROVE_MAX_DB_DEPTH : (unsigned)(LEVELS - 1 - level);
	}
	if (root == NO_ROOT) {
		if (t.depth != 0 || le64(hdr + TREE_ENTRIES_AT) != 0)
			fault(w, NO_PAGE, "%s: no pages, yet its header says %llu entries %u levels deep", t.name,
			      (unsigned long long)le64(hdr + TREE_ENTRIES_AT), t.depth);
		return;
	}
	if (t.depth == 0) {
		fault(w, root, "%s: a root page in a tree of no levels", t.name);
		if (w->entry == NULL)
			return;
		t.depth = ROVE_MAX_DB_DEPTH < LEVELS - 1 - level ? ROVE_MAX_DB_DEPTH : (unsigned)(LEVELS - 1 - level);
	}
	walk_page(w, &t, root, 1, level, none, none);
	if (w->err != ROVE_OK)
		return;
	if (t.branch != le64(hdr + TREE_BRANCH_AT) || t.leaf != le64(hdr + TREE_LEAF_AT) ||
	    t.overflow != le64(hdr + TREE_OVERFLOW_AT) || t.entries != le64(hdr + TREE_ENTRIES_AT))
		fault(w, NO_PAGE,
		      "%s: its pages hold %llu branch, %llu leaf and %llu overflow page(s) and %llu entries; its "
		      "header says %llu, %llu, %llu and %llu",
		      t.name, (unsigned long long)t.branch, (unsigned long long)t.leaf, (unsigned long long)t.overflow,
		      (unsigned long long)t.entries, (unsigned long long)le64(hdr + TREE_BRANCH_AT),
		      (unsigned long long)le64(hdr + TREE_LEAF_AT), (unsigned long long)le64(hdr + TREE_OVERFLOW_AT),
		      (unsigned long long)le64(hdr + TREE_ENTRIES_AT));
}

/* Reads meta page i (its first META_SIZE bytes) into out. */
static int read_meta(pages *w, int i, uint8_t out[META_SIZE])
{
	ssize_t got;

	do
		got = pread(w->fd, out, META_SIZE, (off_t)(i * w->psize));
	while (got < 0 && errno == EINTR);
	if (got < 0) {
		int err = errno;
		rove_error("cannot read the database's meta page %d: %s", i, strerror(err));
		return rove_err_errno(err);
	}
	if (got != META_SIZE || le32(out + ROVE_LMDB_META_MAGIC_AT) != ROVE_LMDB_META_MAGIC)
		return ROVE_EPROTO;
	return ROVE_OK;
}

static int pages_walk(MDB_env *env, MDB_txn *txn, int table_flags, const char *const *only, rove_db_page_fault_fn fn,
		      void *arg, rove_db_entry_fn entry, void *entry_arg, uint64_t *npages)
{
	pages w;
	uint8_t meta[2][META_SIZE], *m = NULL;
	struct stat st;
	MDB_envinfo info;
	uint64_t lost = 0, cut = 0;
	int rc, fd;

	memset(&w, 0, sizeof(w));
	w.fn = fn;
	w.arg = arg;
	w.entry = entry;
	w.entry_arg = entry_arg;
	w.table_flags = table_flags;
	w.only = only;
	w.txnid = (uint64_t)mdb_txn_id(txn);
	*npages = 0;
	if ((rc = mdb_env_get_fd(env, &fd)) != 0)
		return rove_db_err(rc, "the database's file");
	w.fd = fd;
	/* The page size, from meta page 0 (rove_db_open checked both's) */
	{
		uint8_t b[ROVE_LMDB_META_PSIZE_AT + 4];
		if (pread(fd, b, sizeof(b), 0) != (ssize_t)sizeof(b))
			return ROVE_EPROTO;
		w.psize = le32(b + ROVE_LMDB_META_PSIZE_AT);
		if (!rove_lmdb_psize_ok((uint32_t)w.psize))
			return ROVE_EPROTO;
	}
	/* txn's meta page: gone when a writer committed twice since txn
	 * began (its slot rewritten); txn renewed then, a few times. */
	for (int tries = 1; m == NULL; tries++) {
		for (int i = 0; i < 2; i++) {
			rc = read_meta(&w, i, meta[i]);
			if (rc == ROVE_OK && le64(meta[i] + META_TXNID_AT) == w.txnid)
				m = meta[i];
			else if (rc != ROVE_OK && rc != ROVE_EPROTO)
				return rc;
		}
		if (m == NULL && tries == ROVE_PAGE_WALK_TRIES)
			return ROVE_ECHANGED;
		if (m == NULL) {
			mdb_txn_reset(txn);
			if ((rc = mdb_txn_renew(txn)) != 0)
				return rove_db_err(rc, "begin");
			w.txnid = (uint64_t)mdb_txn_id(txn);
		}
	}
	if (fstat(fd, &st) != 0) {
		int err = errno;
		rove_error("cannot read the database's file: %s", strerror(err));
		return rove_err_errno(err);
	}
	if ((rc = mdb_env_info(env, &info)) != 0)
		return rove_db_err(rc, "the database's file");
	w.last = le64(m + META_LAST_AT);
	w.filepages = (uint64_t)st.st_size / w.psize;
	/* The file may end before the last page in use: pages a transaction
	 * took and freed again are never written. Those past the end must be
	 * free; a tree's page there is a fault when the walk reads it. */
	if (w.last < 1 || w.last >= (uint64_t)info.me_mapsize / w.psize) {
		char what[120];
		snprintf(what, sizeof(what), "meta: its last page in use, %llu, is not in the map (%llu pages)",
			 (unsigned long long)w.last, (unsigned long long)(info.me_mapsize / w.psize));
		fn(arg, NULL, false, what);
		return ROVE_OK;
	}
	w.used = calloc(w.last / 8 + 1, 1);
	w.freed = calloc(w.last / 8 + 1, 1);
	if (w.used == NULL || w.freed == NULL) {
		rc = ROVE_ENOMEM;
		goto out;
	}
	set_bit(w.used, 0);
	set_bit(w.used, 1);
	walk_tree(&w, "main", KIND_MAIN, m + META_MAIN_AT, 0);
	/* Some tables only: no sum of every page (the others unwalked). */
	if (only != NULL) {
		rc = w.err;
		goto out;
	}
	if (w.err == ROVE_OK) {
		w.in_free = true;
		walk_tree(&w, "free list", KIND_FREE, m + META_FREE_AT, 0);
		w.in_free = false;
	}
	rc = w.err;
	if (rc != ROVE_OK)
		goto out;
	for (uint64_t i = 2; i <= w.last && w.err == ROVE_OK; i++) {
		if (bit(w.used, i) || bit(w.freed, i))
			continue;
		if (i >= w.filepages) {
			cut++;
			continue;
		}
		lost++;
		if (entry != NULL)
			salvage_lost(&w, i);
	}
	rc = w.err;
	if (rc != ROVE_OK)
		goto out;
	if (cut > 0) {
		char what[160];
		snprintf(what, sizeof(what),
			 "meta: %llu page(s) past the file's end (%llu pages) are neither in a tree nor free: the "
			 "file was cut short?",
			 (unsigned long long)cut, (unsigned long long)w.filepages);
		fn(arg, NULL, false, what);
	}
	if (lost > 0) {
		char what[160];
		snprintf(what, sizeof(what),
			 "%llu page(s) neither in a tree nor in the free list (of %llu; space lost, or pages a tree "
			 "lost)",
			 (unsigned long long)lost, (unsigned long long)w.last + 1);
		fn(arg, NULL, true, what); /* the space's accounting: a new free list mends it */
	}
	*npages = w.last + 1;
out:
	free(w.tiles);
	free(w.places);
	for (int i = 0; i < LEVELS; i++)
		free(w.buf[i]);
	free(w.used);
	free(w.freed);
	return rc;
}

int rove_db_pages_check(MDB_env *env, MDB_txn *txn, int table_flags, rove_db_page_fault_fn fn, void *arg,
			uint64_t *npages)
{
	return pages_walk(env, txn, table_flags, NULL, fn, arg, NULL, NULL, npages);
}

int rove_db_pages_check_tables(MDB_env *env, MDB_txn *txn, int table_flags, const char *const *tables,
			       rove_db_page_fault_fn fn, void *arg)
{
	uint64_t npages;

	return pages_walk(env, txn, table_flags, tables, fn, arg, NULL, NULL, &npages);
}

int rove_db_pages_salvage(MDB_env *env, MDB_txn *txn, int table_flags, rove_db_page_fault_fn fn, void *arg,
			  rove_db_entry_fn entry, void *entry_arg, uint64_t *npages)
{
	return pages_walk(env, txn, table_flags, NULL, fn, arg, entry, entry_arg, npages);
}
