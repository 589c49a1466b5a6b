/*
 * limits.h - every limit rove enforces, in one place, with its reason.
 *
 * Decoders check counts and lengths against these before allocating; the
 * server refuses anything larger with ROVE_ETOOBIG or ROVE_EPROTO.
 */
#ifndef ROVE_LIMITS_H
#define ROVE_LIMITS_H

/* Wire protocol version; a message with another version is refused. */
#define ROVE_PROTO_VERSION 1

/* Largest message either side accepts (nng's recv max size is set to it).
 * Big enough for a full pull chunk, small enough to bound memory per ctx. */
#define ROVE_MAX_MSG_BYTES (8u * 1024u * 1024u)

/* Ops in one push; a client with more pending ops sends several batches. */
#define ROVE_MAX_PUSH_OPS 1000u

/* Items (ops or snapshot records) the server puts in one pull reply, and the
 * byte budget it fills before closing the chunk. */
#define ROVE_MAX_PULL_ITEMS 4000u
#define ROVE_PULL_CHUNK_BYTES (4u * 1024u * 1024u)

/* Fields in one record or op, the length of a field name, of one string
 * value, and of all string bytes of one record together. */
#define ROVE_MAX_FIELDS 32u
#define ROVE_MAX_FIELD_NAME 31u
#define ROVE_MAX_STR 4096u
#define ROVE_MAX_RECORD_BYTES 16384u

/* Login names, role names, territory codes, reason codes, admin args. */
#define ROVE_MAX_NAME 64u
#define ROVE_MAX_ADMIN_ARGS 16u
#define ROVE_MAX_ERRMSG 256u

/* Tokens are 32 random bytes, written as 64 hex characters. */
#define ROVE_TOKEN_BYTES 32u
#define ROVE_TOKEN_HEX (2u * ROVE_TOKEN_BYTES)

/* Failed logins: after this many for one user name within the window,
 * the server refuses that name until the window has passed. */
#define ROVE_AUTH_MAX_FAILURES 5u
#define ROVE_AUTH_WINDOW_MS 60000u
/* The (user name, address) pairs the server keeps failed-login counts for. */
#define ROVE_AUTH_TABLE 4096u

/* A stamp further ahead of the server's clock than this is re-stamped. */
#define ROVE_MAX_CLOCK_SKEW_MS (5u * 60u * 1000u)

/* An activity's time (`at`) may be this far past the server's time on
 * arrival when it is a date or a time without a zone: it may be local
 * time somewhere up to UTC+14. A UTC time gets ROVE_MAX_CLOCK_SKEW_MS. */
#define ROVE_MAX_TZ_AHEAD_MS (14u * 3600u * 1000u)

/* Refused ops the server keeps per author, and their bytes (the stored op
 * with its reason and index entries): the oldest are dropped first, and
 * `rove conflicts` says how many were. Enough for weeks of a rep's
 * offline mistakes (a refusal is ~300 bytes), small enough that all reps'
 * together stay a fraction of the database: a hostile client cannot fill
 * the disk with refused ops (ops are up to ~17 KB, so at least 60 of the
 * biggest fit). */
#define ROVE_MAX_USER_REJECTS 1000u
#define ROVE_MAX_USER_REJECT_BYTES (1024u * 1024u)

/* A replica's clock follows the stamps it pulls (so that a laptop whose
 * clock is slow still stamps its edits after what it has seen), except
 * stamps this far ahead of its own clock: garbage, not a slow clock. */
#define ROVE_MAX_PEER_AHEAD_MS (30ull * 24u * 3600u * 1000u)

/* The latest wall-clock time (ms since 1970) read back from a replica's
 * own files (the time of its last sync): 9999-12-31T23:59:59.999Z, the
 * last that prints with a four-digit year. */
#define ROVE_MAX_WALL_MS 253402300799999ull

/* Client: default time to wait for one reply from the server. */
#define ROVE_DEFAULT_TIMEOUT_MS 10000

/* LMDB map sizes (sparse files; grown on demand later). */
#define ROVE_SERVER_MAPSIZE ((size_t)64 << 30)
#define ROVE_REPLICA_MAPSIZE ((size_t)16 << 30)
/* A full map is doubled (rove_db_grow) up to this size. */
#define ROVE_MAX_MAPSIZE ((size_t)1 << 40)
/* How many times one write may grow the map before giving up. */
#define ROVE_MAX_MAP_GROWS 12

#endif
