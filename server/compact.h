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
 * no word of it. Records, their tombstones and the answers kept for op
 * ids (which make a resent op harmless) are kept.
 */
#ifndef ROVE_COMPACT_H
#define ROVE_COMPACT_H

#include <stdint.h>

typedef struct rove_compact_stats {
	uint64_t ops;      /* ops dropped */
	uint64_t entries;  /* scopelog entries dropped */
	uint64_t floor;    /* the floor after */
	uint64_t head;     /* the head when it ended */
} rove_compact_stats;

/* Drops from the database in dir every op stamped before horizon_ms
 * (wall-clock milliseconds) that has no later op before it, never the
 * head. */
int rove_compact(const char *dir, uint64_t horizon_ms, rove_compact_stats *out);

#endif
