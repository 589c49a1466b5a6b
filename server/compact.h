/*
 * compact.h - roved compact: bounded disk. Drops the ops older than a
 * horizon from the front of the oplog (and the scopelog's entries for
 * them), raising the store's floor (rove_store_floor): a replica whose
 * cursor is behind the floor is sent a fresh snapshot (a reset) at its
 * next pull, and keeps its pending changes, as after a change of its
 * scope.
 *
 * It runs in its own process beside a serving roved, as a second writer
 * of the same LMDB environment: LMDB's writer lock makes the two take
 * turns, and each of compaction's transactions is short
 * (ROVE_COMPACT_BATCH ops) so the server's group commits wait little.
 * The server reads the floor in each pull's own transaction, so it needs
 * no word of it.
 *
 * A delete dropped from the oplog takes its tombstone with it, in the
 * same transaction: the deleted record, its whole family (its children,
 * live or not: a deleted customer's contacts, deals and visits) and their
 * index entries. No replica needs them: one past the floor has had the
 * delete, one behind it takes a snapshot, which holds no tombstone. A
 * late op about such a record finds no record, as for an id never used,
 * and is refused as such; it brings nothing back. A deleted customer
 * itself stays, with its ownership history (its territory and who held
 * it): a late change of it, or a child added to it, is refused `deleted`
 * to those who held it, as before (SPEC rule 6). The history stays live
 * records in no scope, which users who read everything hold, as they
 * hold a deleted customer's family before compaction. Users who read everything
 * hold records in no scope (a deleted customer's children), which no op
 * takes off their replicas: when such records go, their scope epochs
 * move, so they take a new snapshot too. The answers kept for op ids
 * (which make a resent op harmless) are kept.
 *
 * Last, the scope entries that do not cover their record yet (a
 * database upgraded from format 4, store.h) are given its bytes, in
 * batches of ROVE_COMPACT_BATCH: its scoped snapshots then read no
 * records table. Once all are filled, the store's meta says so and
 * later runs skip this.
 */
#ifndef ROVE_COMPACT_H
#define ROVE_COMPACT_H

#include <stdint.h>

typedef struct rove_compact_stats {
	uint64_t ops;      /* ops dropped */
	uint64_t entries;  /* scopelog entries dropped */
	uint64_t floor;    /* the floor after */
	uint64_t head;     /* the head when it ended */
	uint64_t tombstones; /* deleted records dropped with their deletes */
	uint64_t family;   /* their families' records dropped with them */
	uint64_t kept;     /* deleted customers kept, their families dropped */
	uint64_t resets;   /* epochs moved of users who read everything */
	uint64_t filled;   /* scope entries given their record's bytes (put
			    * before format 5: not covering their record) */
} rove_compact_stats;

/* Drops from the database in dir every op stamped more than keep_ms
 * before now that has no later op before it, never the head. Now is the
 * later of this machine's clock and the server's stored clock (which
 * never goes back), so a clock reset to 1970 drops nothing. */
int rove_compact(const char *dir, uint64_t keep_ms, rove_compact_stats *out);

#endif
