/*
 * seen.h - when users last synced, noted without a write on every sync.
 *
 * A sync with nothing to do is one pull: a read, answered on nng's
 * threads in a read transaction, which cannot write. So a request notes
 * "user synced at ms" here, in memory, when the user's stored last sync
 * is more than ROVE_SYNC_NOTE_MS old (rarely: once a minute per user at
 * most), and the writer takes the notes and stores them in its next write
 * transaction (rove_seen_take), giving back those it could not store
 * (rove_seen_give_back). A user's notes are one entry, the latest kept.
 *
 * Bounded: at most ROVE_MAX_SYNC_NOTES users wait at once; a note that
 * finds no room is dropped, and taken again at the user's next sync (its
 * stored value is still old). Thread-safe.
 */
#ifndef ROVE_SEEN_H
#define ROVE_SEEN_H

#include "rove_limits.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rove_seen rove_seen;

typedef struct rove_seen_note {
	char login[ROVE_MAX_NAME + 1];
	uint64_t ms;
} rove_seen_note;

/* NULL when out of memory. */
rove_seen *rove_seen_new(void);
void rove_seen_free(rove_seen *s);

/* Notes that login (a user's, at most ROVE_MAX_NAME bytes) synced at ms;
 * false if there was no room (nothing kept). */
bool rove_seen_note_sync(rove_seen *s, const char *login, uint64_t ms);

/* Moves every note into *out (the caller frees it; NULL when there are
 * none) and says how many in *n. ROVE_ENOMEM leaves the notes where they
 * are. */
int rove_seen_take(rove_seen *s, rove_seen_note **out, size_t *n);

/* Puts back the n notes taken (when storing them failed): each kept
 * unless a later one came meanwhile, or there is no room. */
void rove_seen_give_back(rove_seen *s, const rove_seen_note *notes, size_t n);

#endif
