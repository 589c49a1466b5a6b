/*
 * db_int.h - what the parts of the db module share (db.c: opening an
 * environment; db_pages.c: the walk of a file's pages): where LMDB's
 * meta page keeps its magic number and page size, and which page sizes
 * LMDB can use. Not for use outside them.
 */
#ifndef ROVE_DB_INT_H
#define ROVE_DB_INT_H

#include <stdbool.h>
#include <stdint.h>

/* LMDB's magic number at the start of each meta page's body (after the
 * 16 bytes of the page's header), and the page size there (its free
 * tree's md_pad). */
#define ROVE_LMDB_META_MAGIC 0xBEEFC0DEu
#define ROVE_LMDB_META_MAGIC_AT 16
#define ROVE_LMDB_META_PSIZE_AT 40

/* Whether LMDB can use page size psize: a power of two it supports.
 * LMDB divides by it and reads the second meta page at it unchecked. */
static inline bool rove_lmdb_psize_ok(uint32_t psize)
{
	return psize >= 512 && psize <= 65536 && (psize & (psize - 1)) == 0;
}

#endif
