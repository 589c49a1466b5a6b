/*
 * check.h - roved check: an integrity check of a server database, in one
 * read transaction (so it runs beside a serving roved, which it never
 * blocks, and sees one moment of the database).
 *
 * What it checks: first the file's pages (rove_db_pages_check: every
 * tree whole, every page in one tree or free, the free list naming no
 * page in use); then every stored value decodes (records, ops, answers,
 * refusals, users); the oplog has no holes between the compaction floor
 * and the head; every index entry points at a live record it belongs to
 * (scoperec, children, uniq, codes, rejidx, scopelog) and every live
 * record is indexed (its scopes, its parent's children list, its unique
 * keys held by it or by another live customer); every accepted op's
 * answer (opids) names an op the oplog holds, unless compacted away, and
 * every op a replica pushed has one; the newest op on each live record is
 * in the scopelog under the record's scopes, and every scope there names
 * a user or a territory; owners and authors are users; refusal counters
 * match what is kept; a run exists once ops were written; the stored
 * clock is at or after every stamp; stored values pass the server's
 * checks on write. It opens the database read only (without the lock
 * file when that cannot be opened; then it fails if a writer changed
 * what it read).
 */
#ifndef ROVE_CHECK_H
#define ROVE_CHECK_H

#include <stdint.h>
#include <stdio.h>

/* Checks the database in dir, writing each problem found to out, one a
 * line ("TABLE KEY: what is wrong"), at most ROVE_MAX_CHECK_PROBLEMS (the
 * rest are counted); *problems says how many there were. Returns a rove
 * error if the check itself could not run (no database, I/O). */
int rove_check(const char *dir, FILE *out, uint64_t *problems);

#endif
