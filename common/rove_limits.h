/*
 * rove_limits.h - every limit rove enforces, in one place, with its reason.
 *
 * Decoders check counts and lengths against these before allocating; the
 * server refuses anything larger with ROVE_ETOOBIG or ROVE_EPROTO.
 */
#ifndef ROVE_LIMITS_H
#define ROVE_LIMITS_H

#include <stddef.h>

/* Wire protocol version; a message with another version is refused. */
#define ROVE_PROTO_VERSION 3

/* Largest message either side accepts (nng's recv max size is set to it).
 * Big enough for a full pull chunk, small enough to bound memory per ctx. */
#define ROVE_MAX_MSG_BYTES (8u * 1024u * 1024u)

/* Largest request the server accepts (its nng receive limit; a larger one
 * closes the connection as soon as its length arrives). Every connection,
 * before it has shown any credentials, may hold this much of a
 * half-received request: the bound on what connections cost the server
 * (docs/SECURITY.md) is this times ROVE_MAX_PIPES. Requests are small but
 * pushes, which rove sends in batches of at most this many bytes (1,000
 * ops of a few hundred bytes each fill a third of it; a batch of bigger
 * ops is halved until it fits). A plain number: tests read it. */
#define ROVE_MAX_REQUEST_BYTES 1048576

/* Elements of a message's outer array: the longest message (PULL with
 * its optional clock, records, proofs and snap_end, 19); a longer array
 * is refused before anything in it is read. */
#define ROVE_MAX_MSG_ARITY 19u

/* Ops in one push; a client with more pending ops sends several batches. */
#define ROVE_MAX_PUSH_OPS 1000u
/* Ops one user (other than an admin) may push at once, and how many more
 * a second after (server/rate.h): a rep's import of 50,000 customers
 * passes in one sync, and a flood of updates is held to 180,000 an hour
 * (one rep sent 779,000 in 20 s, which every replica in scope pulled).
 * Buckets of at most ROVE_RATE_USERS users are kept (5,000 reps fit). */
#define ROVE_USER_OPS_BURST 50000u
#define ROVE_USER_OPS_PER_S 50u
/* A push counts as many ops as it holds, or as its ops' bytes hold
 * ROVE_USER_RATE_OP_BYTES when that is more: the bucket meters bytes
 * too. Ops of 4 KB notes, within every limit, filled a server's disk at
 * 1.4 MB/s from one rep's token (attack one hundred: 54,250 in 90 s,
 * 1.3 GB); a customer, a contact or a visit of an honest rep is under
 * 1 KiB and counts one. */
#define ROVE_USER_RATE_OP_BYTES 1024u
/* What one op pushed writes into the oplog for its cost: itself and its
 * customer's ownership entry (a create, a claim, a release). What it
 * writes beyond (a claim's moves of the customer's open deals, with
 * their entries) is charged to its user once done, as a manager's
 * reassignment is (attack one hundred and two: a customer with 1,000
 * open deals claimed back and forth by two reps wrote 3,000 ops a
 * second, each claim charged as one op). */
#define ROVE_OP_WRITES_OWN 2u
#define ROVE_RATE_USERS 8192u

/* Items (ops or snapshot records) the server puts in one pull reply, and the
 * byte budget it fills before closing the chunk. */
#define ROVE_MAX_PULL_ITEMS 4000u
#define ROVE_PULL_CHUNK_BYTES (4u * 1024u * 1024u)
/* Families an ops reply remembers having sent whole or evicted: a later
 * op in the same reply on one of them sends the op alone, or nothing
 * (the family went as it is now). Past this many, families go again. */
#define ROVE_PULL_FAMILIES_MEMO 64u

/* Records in one snapshot chunk, and its byte budget: a replica applies
 * each chunk in its own durable transaction (so that a cut bootstrap
 * resumes after the last one), and an HQ bootstrap of 1,000,000 customers
 * in chunks of 4,000 paid 1,250 flushes; the bytes bind first (about
 * 12,000 records of the bench's size a chunk). The client holds one chunk
 * while it applies another, and a transaction's dirty pages are about a
 * chunk's bytes: ~3 budgets of its peak RSS. Also the most items any pull
 * reply may carry (ops replies stay at ROVE_MAX_PULL_ITEMS). */
#define ROVE_MAX_SNAPSHOT_ITEMS 32000u
#define ROVE_SNAPSHOT_CHUNK_BYTES (4u * 1024u * 1024u)

/* Fields in one record or op, the length of a field name, of one string
 * value, and of all string bytes of one record together. */
#define ROVE_MAX_FIELDS 32u
#define ROVE_MAX_FIELD_NAME 31u
#define ROVE_MAX_STR 4096u
#define ROVE_MAX_RECORD_BYTES 16384u

/* ---- valid data (SPEC rule 13; checked by common/schema.c) ---- */

/* Text fields, in characters (a Chinese character counts one and takes
 * three bytes). Four bytes per character, the most UTF-8 takes, still
 * fit ROVE_MAX_STR, and a record's fields together ROVE_MAX_RECORD_BYTES
 * (test_schema checks both). */
#define ROVE_LEN_NAME 200     /* a customer, contact, dealer or territory; a deal's title */
#define ROVE_LEN_TITLE 100    /* a contact's job title */
#define ROVE_LEN_NUMBER 64    /* a contract's number */
#define ROVE_LEN_ADDRESS 500  /* a postal address, lines included */
#define ROVE_LEN_NOTE 1000    /* an activity's note: a page of text */
#define ROVE_LEN_REASON 500   /* a release reason, a history entry's reason, a notice */
#define ROVE_LEN_LOCATION 200 /* where a visit took place: coordinates or a place */
#define ROVE_LEN_PHONE 32     /* a phone number as typed, punctuation included */
#define ROVE_LEN_EMAIL 254    /* the longest address SMTP carries (RFC 5321) */

/* Money, in cents: never negative (a refund is a contract of its own),
 * and at most 10^13 cents (100 billion yuan), more than any one deal;
 * a report sums 900,000 such amounts before int64 would overflow (and
 * saturates past that). */
#define ROVE_MAX_MONEY_CENTS 10000000000000ll

/* Dates and times must fall in this range: no CRM record predates 1980
 * (and 统一社会信用代码 came in 2015), and a year past 2099 is a typing
 * error (2206 for 2026), not a plan. Written as the ISO dates they are
 * compared with. */
#define ROVE_DATE_MIN "1980-01-01"
#define ROVE_DATE_MAX "2099-12-31"

/* Counts and day counts (a territory's pool rules): a million customers
 * or days is beyond any real rule, and a day count times 86,400,000 ms
 * stays far inside int64. */
#define ROVE_MAX_COUNT 1000000

/* Digits in a phone number: emergency and service numbers have 3; the
 * longest is an international number dialled from China, 00 and
 * E.164's 15 digits. An extension has at most 6. */
#define ROVE_PHONE_MIN_DIGITS 3
#define ROVE_PHONE_MAX_DIGITS 17
#define ROVE_PHONE_MAX_EXT 6

/* A 统一社会信用代码 (GB 32100-2015) has 18 characters. */
#define ROVE_TAXID_LEN 18

/* Login names, role names, territory codes, reason codes; the arguments
 * of one admin request, and each one's length; an error's text. */
#define ROVE_MAX_NAME 64u

/* An id may be abbreviated on the command line to its start or its end
 * (ids are time-ordered: records made the same minute share their start,
 * the end tells them apart), at least this many hex digits (SPEC.md); an
 * ambiguous one lists at most ROVE_MAX_ID_CANDIDATES of its matches. */
#define ROVE_MIN_ID_ABBREV 6
#define ROVE_MAX_ID_CANDIDATES 10
#define ROVE_MAX_ADMIN_ARGS 16u
#define ROVE_MAX_ADMIN_ARG 256u
#define ROVE_MAX_ERRMSG 256u

/* `rove admin import territories|users`: the rows of one import (a
 * company of 5,000 reps, with room), sent to the server a few at a time
 * (ROVE_ADMIN_IMPORT_ARITY arguments a row, within ROVE_MAX_ADMIN_ARGS
 * a request), staged there in memory and applied in one transaction,
 * all or nothing. At most ROVE_MAX_ADMIN_IMPORTS are staged at once (a
 * new one drops the oldest), each for at most ROVE_ADMIN_IMPORT_TTL_MS
 * after its last request and within ROVE_MAX_ADMIN_IMPORT_BYTES: what an
 * admin's unfinished imports may cost the server's memory. */
#define ROVE_MAX_ADMIN_IMPORT_ROWS 20000u
#define ROVE_ADMIN_IMPORT_ARITY 3u
#define ROVE_MAX_ADMIN_IMPORTS 4
#define ROVE_ADMIN_IMPORT_TTL_MS (10u * 60u * 1000u)
#define ROVE_MAX_ADMIN_IMPORT_BYTES (8u * 1024u * 1024u)
/* How often `rove admin import` stages its rows before it gives up, when
 * the server lost them (it started anew, or a newer import replaced
 * them) before the import was committed. */
#define ROVE_MAX_IMPORT_TRIES 4

/* Admin requests remembered: an ADMIN that carries a request id (one per
 * command a client runs) and changes something has its answer kept by the
 * server, written with the change, so that the same request sent again
 * after a lost connection gets that answer again instead of being done
 * twice (docs/PROTOCOL.md, "Admin commands"). A client sends it again at
 * once, at most ROVE_MAX_RESENDS times, each wait bounded by its timeout
 * (at most ROVE_MAX_TIMEOUT_MS): within hours at the very worst, seconds
 * in practice. Kept: the answers of the last ROVE_ADMIN_REQ_KEEP_MS (a
 * day, well past any resend), at most ROVE_MAX_ADMIN_REQS of them (more
 * admin changes than a company of 5,000 reps makes in a day) and
 * ROVE_MAX_ADMIN_REQ_BYTES of answers (the biggest, an import of 20,000
 * users' tokens, is ~2.6 MB: a dozen such imports), the oldest dropped
 * first as new ones are written. A request whose answer was dropped is
 * done again if it comes back (so a server cannot be made to hold more
 * than this by anyone). */
#define ROVE_ADMIN_REQ_KEEP_MS (24ull * 3600ull * 1000ull)
#define ROVE_MAX_ADMIN_REQS 10000u
#define ROVE_MAX_ADMIN_REQ_BYTES (64ull * 1024ull * 1024ull)

/* A refusal's detail (an existing customer's id, a short why): short, for
 * one line of `rove rejected`. */
#define ROVE_MAX_DETAIL 128u

/* Where a snapshot or a record's family resumes: a scope's index and a
 * record key (2 + 17 bytes) at most, with room to change. */
#define ROVE_MAX_SNAP_KEY 64u

/* A server's URL (tcp://HOST:PORT, tls+tcp://HOST:PORT, ipc:///PATH) and
 * a CA file's path, as a replica keeps them. */
#define ROVE_MAX_URL 512
/* What the local system tells of an unreachable URL (rove_net_why_unreached). */
#define ROVE_NET_HINT_BUF (ROVE_MAX_URL + 128)

/* Tokens are 32 random bytes, written as 64 hex characters. */
#define ROVE_TOKEN_BYTES 32u
#define ROVE_TOKEN_HEX (2u * ROVE_TOKEN_BYTES)

/* Failed logins: after this many for one user name from one address
 * within the window, the server answers further wrong tokens for it busy
 * until the window has passed (the right token always logs in). */
#define ROVE_AUTH_MAX_FAILURES 5u
#define ROVE_AUTH_WINDOW_MS 60000u
/* The (user name, address) pairs the server keeps failed-login counts for. */
#define ROVE_AUTH_TABLE 4096u

/* A stamp further ahead of the server's clock than this is re-stamped. */
#define ROVE_MAX_CLOCK_SKEW_MS (5u * 60u * 1000u)

/* How far a laptop's clock is ahead of the server's, as a sync measures
 * it (from the server's time in the first pull reply, against the middle
 * of the round trip), is stored in the replica only when it moved by more
 * than this: a measure wavers by a few ms from sync to sync, and a sync
 * with nothing new writes nothing to LMDB. */
#define ROVE_CLOCK_AHEAD_SLACK_MS 1000u
/* `rove status` says how far ahead the laptop's clock is from this on. */
#define ROVE_CLOCK_AHEAD_SHOWN_MS (60u * 1000u)

/* A stamp before this (1980-01-01T00:00:00Z, the first date rove takes,
 * ROVE_DATE_MIN) comes from a clock that was never set - 0, a laptop
 * back at 1970 after its battery died, 2^48 ms wrapped to 0 - and would
 * lose every merge: it is re-stamped with the server's clock too. */
#define ROVE_MIN_STAMP_MS 315532800000ull

/* An activity's time (`at`) may be this far past the server's time on
 * arrival when it is a date or a time without a zone: it may be local
 * time somewhere up to UTC+14. A UTC time gets ROVE_MAX_CLOCK_SKEW_MS.
 * (rove_schema_clean_op stores every time in UTC, so this applies only
 * to a time checked before it is cleaned.) */
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

/* The latest wall-clock time (ms since 1970) read back from a replica's
 * own files (the time of its last sync): 9999-12-31T23:59:59.999Z, the
 * last that prints with a four-digit year. */
#define ROVE_MAX_WALL_MS 253402300799999ull

/* A replica keeps its latest own ops the server accepted, to send them
 * again if the server is restored from a copy that lacks them: about a
 * year of a busy rep's work, a few MB. Older ones are forgotten. */
#define ROVE_REPLICA_JOURNAL_OPS 100000u
/* After a restore, how long a manager's or admin's replica waits before
 * it sends, as its own, others' writes the server still lacks (their
 * authors send their own first: replica_recover.c, "orphans"): a day,
 * as reps sync at least daily. */
#define ROVE_ORPHAN_WAIT_MS (24u * 3600u * 1000u)

/* Client: the longest replica directory (as given with -R): a path the
 * kernel takes (PATH_MAX 4096) with room for the names of the files in
 * it. */
#define ROVE_REPLICA_DIR_MAX 4000
/* The bytes of a field's value an ordered index of the replica keeps
 * (replica_index.c): a time as the schema stores it, 2026-11-30T09:15:00Z,
 * whole; longer values are ordered by these first bytes. */
#define ROVE_REPLICA_ORDER_BYTES 20
/* The bytes of a customer's searchable text (its text fields, each with
 * its type) the replica's index keeps so that a search reads no record
 * that does not match (replica_index.c): a customer's usual fields fit
 * whole; one with more is read and checked whole. Within LMDB's 511-byte
 * key with the entry's 19 bytes of kind, collection, id and flag. */
#define ROVE_REPLICA_SEARCH_BYTES 480

/* Client: default time to wait for one reply from the server, and the
 * longest --timeout: an hour; a longer wait is a typing error. */
#define ROVE_DEFAULT_TIMEOUT_MS 10000
#define ROVE_MAX_TIMEOUT_MS 3600000
/* Client: the longest wait of a check that is only advice, made before a
 * change is queued (a deal's owner, an import's owners, asked of the
 * server's users; the server decides on sync anyway): a server that takes
 * the connection and never answers (stopped, a captive portal) holds the
 * command this long, not the whole --timeout, before it goes on unchecked. */
#define ROVE_ADVICE_TIMEOUT_MS 3000
/* Client: a list's --limit at most (records): far past any replica, a
 * bound only so that the number stays a number. */
#define ROVE_MAX_LIST_LIMIT 1000000000u
/* Client: a connection reset while it is set up (a server's listener
 * reopened with connections in its queue) is dialled again, within the
 * timeout, up to this many attempts in all, the first again after
 * ROVE_DIAL_RETRY_MS and each later one after twice the wait before. A
 * refused connection (nothing listens) is not dialled again, but after a
 * lost one (ROVE_LOST_REDIAL_MS). */
#define ROVE_MAX_DIAL_ATTEMPTS 6
#define ROVE_DIAL_RETRY_MS 50
/* Client: a connection lost while a request waits for its answer (the
 * server killed or restarted, a network cut) is dialled again at once and
 * the request sent again - a push or a pull, never an admin command - up
 * to this many times for one request, not counting the times it was sent
 * smaller (a pull asking for fewer items, a push carrying fewer ops, down
 * to their minimums below: a link that drops big replies still makes
 * progress); a server that is not reached again ends the command, exit 3,
 * rather than a wait for the timeout. */
#define ROVE_MAX_RESENDS 3
/* Client: after a lost connection, the dialer's own new connection (nng
 * dials again from ROVE_DIAL_RETRY_MS on, each wait twice the one before
 * up to ROVE_REDIAL_MAX_MS: the server may be listening anew, or being
 * restarted, and roved's guard closes and reopens a listener that stopped
 * accepting) is waited for, looking every ROVE_REDIAL_POLL_MS, for at
 * most ROVE_LOST_REDIAL_MS; then one dial says why not (a killed server
 * ends the command within it). */
#define ROVE_LOST_REDIAL_MS 2000
/* Client: how long a command waits for its connection's close before it
 * leaves the close to finish by itself and ends (client/sync.c's
 * conn_close); a close normally takes a few milliseconds. */
#define ROVE_CLOSE_WAIT_MS 3000
/* Client: how often the watchdog on the network's waits looks at the
 * clock (rove_sync_watchdog): a wait stuck past its bound ends the
 * command within this much more. */
#define ROVE_WATCH_POLL_MS 100
/* Client: a sync walks the pages of the tables it writes besides the
 * bases and indexes every time, and the whole file's once in this long
 * (a day: bit rot at rest; an HQ replica of gigabytes takes seconds). */
#define ROVE_PAGES_CHECK_EVERY_MS (24ull * 3600 * 1000)
/* Client: a sync whose pull brings records walks the whole file first
 * (once a sync) when it is at most this big: a rep's replica of 2,000
 * customers is about 5 MB, walked in about 0.4 ms; a bigger one (an HQ
 * replica) is left to the walk of the day (damage_hunt seed 770: a base's
 * page damaged after that walk, written through by a pull, overflowed
 * the heap under ASan). */
#define ROVE_PAGES_CHECK_WHOLE_BYTES (32ull * 1024 * 1024)
/* How many pending changes lost to a damaged replica file a sync names
 * by their record (the rest counted): what the rep makes again. */
#define ROVE_LOST_CHANGES_NAMED 10u
/* A sync with at most this many pending changes checks each of their
 * records' view copies against what its base and its changes held whole
 * make (a few reads and merges a record, under a millisecond in all): a
 * change lost with its index entry on a record with another change was
 * lost without a word (attack ninety-four). More (a day's import) are
 * left to the checks that a damaged page trips. */
#define ROVE_SWEEP_VIEW_CHANGES 64u
/* The most bytes of the words a sync owes of changes it lost, kept in the
 * replica until said (a sync killed before it said them). */
#define ROVE_MAX_LOST_NOTE 4096u
/* A damaged pending change's op of at most this many bytes is tried one
 * bit at a time against its sum (8 tries a byte, each a hash of the rest:
 * about 8 M hash steps at this size, ~10 ms, for damaged entries only);
 * a longer one is dropped as damaged, said. */
#define ROVE_MEND_OP_BYTES 1024u
/* How many times `rove admin import` asks for its last step (commit)
 * while no answer comes, each within --timeout: the same request each
 * time, done once, so a server that stalled a while still gives the new
 * users' tokens. */
#define ROVE_ADMIN_COMMIT_ASKS 3u
#define ROVE_REDIAL_MAX_MS 400
#define ROVE_REDIAL_POLL_MS 5
/* Client: once a connection was lost during a pull, each request from
 * then on (the lost one sent again first) asks for at most this many
 * items, not a reply of the largest size, which a link that drops
 * connections now and then rarely carries whole; half as many after
 * each further loss, down to the minimum. */
#define ROVE_CLIENT_PULL_ITEMS_LOST 1000u
#define ROVE_CLIENT_PULL_ITEMS_MIN 50u
/* A pull reply at least this big measures the link: rove then asks for
 * as many items as come in a third of its --timeout (client/sync.c,
 * pull_pace). */
#define ROVE_CLIENT_PACE_BYTES (64u * 1024u)
/* The same for a push: ops in each request once a connection was lost
 * (a request of 1,000 ops may take 1 MB). */
#define ROVE_CLIENT_PUSH_OPS_LOST 100u
#define ROVE_CLIENT_PUSH_OPS_MIN 10u

/* Client: rows in one `rove import` file (checked in memory, written in
 * one transaction; a bigger list is split into several files), and its
 * columns (every field of a collection, with room to spare). */
#define ROVE_MAX_IMPORT_ROWS 100000u
#define ROVE_MAX_IMPORT_COLUMNS 64u
/* Client: how many times a local write checked against the replica (a
 * command's duplicates and references, an import's rows) is checked again
 * when another process wrote the replica between the check and the write
 * (a sync, another command): then it gives up, nothing written. Each
 * round re-reads what the check needs (a whole import: seconds); an
 * import checks again only once it holds the sync lock (a sync running
 * writes chunk after chunk: its end is waited for, up to the timeout). */
#define ROVE_MAX_WRITE_RECHECKS 8u

/* Client: the longest date range of `rove report daily`: ten years of
 * rows is already more than anyone reads; a longer one is a mistake on
 * the command line. */
#define ROVE_REPORT_MAX_DAYS 3660
/* Client: the days `rove report daily` (and rove ui's Reports page)
 * shows when no --from is given: two weeks, ending with --to. */
#define ROVE_REPORT_DEFAULT_DAYS 14

/* While the report sums of a base are built, each customer's territory
 * and owner are kept in memory (client/report_agg.c), as two indexes
 * into the names seen: a u16 each, so at most this many names (500
 * territories and 5,000 reps are issue 17's); past it the children read
 * their customer from the replica. */
#define ROVE_REPORT_SNAP_NAMES 65535u

/* Client: rove feed (the PostgreSQL feed). Rows go to PostgreSQL by
 * COPY in chunks of about this many bytes: big enough that a chunk's
 * round trip costs little beside its rows, small enough that a million
 * changed records never sit in memory at once. */
#define ROVE_FEED_COPY_CHUNK_BYTES (1024u * 1024u)
/* Rows deleted by one statement (their ids are one array parameter of
 * 37 bytes an id). */
#define ROVE_FEED_DELETE_CHUNK 8192u
/* --interval: the longest wait between two looks at the replica, in ms
 * (a change wakes the feed at once when the file system tells it). */
#define ROVE_FEED_MIN_INTERVAL_MS 10u
#define ROVE_FEED_MAX_INTERVAL_MS 3600000u
/* How long the feed waits for another feed's hold on the database to go
 * (a feed killed a moment ago: PostgreSQL ends its session when it sees
 * the socket closed). */
#define ROVE_FEED_LOCK_WAIT_MS 3000u
/* Rounds in a row PostgreSQL may refuse with an error that waiting does
 * not mend (privileges, a full disk, a type or a constraint) before a
 * running feed stops (exit 1). More than one: each new try connects
 * again and mends the schema first, which puts right a table changed
 * under the feed; few, so that a feed that cannot work says so in
 * seconds instead of retrying for ever. A lost connection is not
 * counted: it is waited out. */
#define ROVE_FEED_MAX_ATTEMPTS 3u
/* A running feed waiting for PostgreSQL (or for its replica to catch
 * up) says so when the wait begins and ends, and in between at most this
 * often, in ms: an outage of an hour is a dozen lines, not thousands. */
#define ROVE_FEED_WAIT_REPORT_MS (5u * 60u * 1000u)

/* LMDB map sizes (sparse files; grown on demand later). */
#define ROVE_SERVER_MAPSIZE ((size_t)64 << 30)
#define ROVE_REPLICA_MAPSIZE ((size_t)16 << 30)
/* A full map is doubled (rove_db_grow_retry) up to this size. */
#define ROVE_MAX_MAPSIZE ((size_t)1 << 40)
/* How many times one write may grow the map before giving up. */
#define ROVE_MAX_MAP_GROWS 12
/* A commit that fails with EIO (LMDB's answer to a short write) while
 * less than this is left on the filesystem is a full disk, reported as
 * such: more than the largest transaction a sync writes (a snapshot chunk
 * of ROVE_SNAPSHOT_CHUNK_BYTES with its indexes and copied pages). */
#define ROVE_DISK_FULL_SLACK (64ull << 20)
/* LMDB's lock file (lock.mdb): a header, then one slot per reader, each
 * slot a cache line (LMDB 0.9: MDB_txninfo is two header lines and the
 * first slot, then maxreaders - 1 more slots). LMDB makes the file with
 * ftruncate and writes it through its map: on a full disk the first touch
 * of a page with no block behind it is a SIGBUS. rove gives the file its
 * blocks first (posix_fallocate), this many bytes per slot for
 * maxreaders + ROVE_LMDB_LOCK_HEADER_SLOTS slots; unit_db checks that
 * this covers the file LMDB makes itself. */
#define ROVE_LMDB_LOCK_SLOT_BYTES 64u
#define ROVE_LMDB_LOCK_HEADER_SLOTS 2u
/* Where posix_fallocate is not supported, zeros are written instead, this
 * many bytes at a time. */
#define ROVE_ZERO_FILL_CHUNK 4096u

/* ---- the server (roved) ---- */

/* Territories one user holds, kept in their entry of the users table
 * (at most 64 codes of ROVE_MAX_NAME bytes); more than any rep or
 * manager works in, and bounded so a user's entry stays small. */
#define ROVE_MAX_USER_TERRITORIES 64

/* When each user last synced (pushed or pulled), as `rove admin user
 * list` shows it: noted only when it moved by more than this, so that a
 * sync with nothing to do (a pull, a read) writes nothing; the notes of
 * reads wait in memory for the writer, which stores them at its next
 * write transaction or after this long at the latest. */
#define ROVE_SYNC_NOTE_MS 60000u
/* Users whose sync waits in memory to be noted (about 80 bytes each):
 * more than sync in one ROVE_SYNC_NOTE_MS at the company's size (5,000
 * reps); a note that finds no room is taken at the user's next sync. */
#define ROVE_MAX_SYNC_NOTES 16384u

/* A scope's name ("o:LOGIN", "r:CODE", "t:CODE": a letter, a colon and
 * a login or a code), in bytes. */
#define ROVE_MAX_SCOPE_LEN (ROVE_MAX_NAME + 2)

/* Scopes one record is in: the policy puts a record in two (its owner's
 * or its territory's pool, and its territory's); room for two more. A
 * record's scopes are compared on every write, so they stay few. */
#define ROVE_MAX_RECORD_SCOPES 4

/* Cursors the writer keeps open on the index tables during one batch's
 * transaction, one per key prefix (a scope, and in scoperec the
 * collection too): a request touches about seven (a rep's two scopes
 * in scopelog, those times two collections in scoperec, the children),
 * a batch a few requests. A put next to the last one under its prefix
 * skips LMDB's descent from the root; past this many, the oldest is
 * closed. LMDB walks a table's cursors on every put, so they stay few. */
#define ROVE_STORE_CURSORS 16

/* Territories the policy remembers during one write batch (whether
 * each exists, its pool rules), so that a request's thousand creates in
 * one territory read it once; a batch's requests touch a few. Past this
 * many the memo starts over. */
#define ROVE_POLICY_MEMO_TERRITORIES 16

/* The longest tax id or phone whose uniqueness key the server's writer
 * remembers from a create's decision for its write (rove_uniq_memo): a
 * valid one is far shorter (18 characters, 20 or so digits); a longer
 * value's key is made each time. */
#define ROVE_UNIQ_MEMO_VALUE 64u

/* Scopes one user reads: their own and one per territory they hold (a
 * manager: each territory of their subtree). A pull merges that many
 * index ranges, so this bounds its cost; past it, the rest are left out
 * with a warning in the log. */
#define ROVE_MAX_USER_SCOPES 256

/* Scopes one refused op is listed under: the territories of its author
 * and the few its op and its record name. */
#define ROVE_MAX_REJECT_SCOPES (ROVE_MAX_USER_TERRITORIES + 4)

/* Levels of the territory tree (region, area, territory: 3 in use). A
 * walk up the tree stops after this many, so a loop of parents cannot
 * hang the server. */
#define ROVE_MAX_TREE_DEPTH 16

/* `rove dealer set D territory=T` checks at once the territories of the
 * customers its replica holds that name D (rule 13), this many distinct
 * ones at most; the server checks every customer. */
#define ROVE_MAX_DEALER_LINES 64

/* Changes one run of the periodic rules (recycling, its notices) makes:
 * one write transaction, short enough that pushes queued behind it wait
 * little; what is left is done on the next run. */
#define ROVE_MAX_TICK_OPS 256

/* Requests the server handles at once: its nng contexts, each a receive,
 * handle, send state machine. */
#define ROVE_MAX_CONTEXTS 64
/* Requests in one group commit (one durable write transaction). */
#define ROVE_MAX_BATCH_REQUESTS 64
/* Ops per group commit: the writer stops taking queued requests once it
 * has this many (always at least one request). Fifty clients' pushes
 * queued at once then commit a few at a time (two of 1,000 ops), and
 * their senders apply the answers and go on while the writer does,
 * instead of all waiting for one transaction of all of them. */
#define ROVE_MAX_BATCH_OPS 2000u
/* A context keeps a reply buffer up to this size for its next request;
 * a larger one (a full pull chunk) is freed once sent. */
#define ROVE_MAX_KEPT_REPLY_BUF (256u * 1024u)

/* What one connection and one address may hold (docs/SECURITY.md):
 * nng 1.5.2 has one receive limit for all the connections of a listener,
 * fixed when they are accepted (a pipe's options cannot be set), and the
 * SP protocol knows nothing of logins: no smaller limit can apply before
 * a client has authenticated. A connection may therefore hold up to
 * ROVE_MAX_REQUEST_BYTES of a half-received request, for at most
 * ROVE_MAX_IDLE_MS; the caps below bound how many connections
 * do: 32 x 1 MiB = 32 MiB from one address, 4,096 x 1 MiB = 4 GiB in
 * all (lower it with roved serve --max-connections). */

/* A reply that cannot start within this time (the connection is still
 * sending an earlier one: its client does not read) is dropped, its
 * context freed and the connection cut. rove sends one request at a
 * time and reads each reply whole before the next, so its replies never
 * wait but for nng to notice the previous one went out; the time covers
 * a slow, loaded machine. It is how long a client that does not read
 * holds the contexts of its requests in flight. */
#define ROVE_MAX_SEND_WAIT_MS 2000
/* A connection with nothing in flight that has not delivered a whole
 * request within this time of connecting or of its last reply is cut:
 * an idle or vanished client, one holding half a message, or one not
 * reading its last reply. Generous for a slow link (a 1 MiB push needs
 * 300 kbit/s), and three times rove's default wait for one reply. */
#define ROVE_MAX_IDLE_MS 30000
/* ... where a reply on its way counts as progress while the client's end
 * acknowledges at least this many bytes a second of it (TCP and TLS:
 * the socket's count; ipc:// has none): a slow mobile link (GPRS carries
 * 5,000 and more) gets its reply however long it takes, a client that
 * stops reading is cut as before (server/gate.h, rove_gate_acked). */
#define ROVE_MIN_READ_BYTES_PER_S 1000u
/* ... sampled by one walk of roved's descriptors at most this often. */
#define ROVE_PROBE_PERIOD_MS 250
/* Requests of one connection in flight (being answered, or answered and
 * waiting to be sent). rove has one at a time (nng's req0 may resend
 * one); more are dropped unanswered: a client piling up requests holds
 * at most this many contexts. */
#define ROVE_MAX_PIPE_INFLIGHT 4
/* Requests in flight from one address (other than this machine's); more
 * are dropped unanswered. One per connection its cap allows, so that no
 * client of ours behind a NAT ever meets it, while one machine never
 * holds more than half of the ROVE_MAX_CONTEXTS contexts. */
#define ROVE_MAX_ADDR_INFLIGHT 32
/* Open connections from one address (other than this machine's). A rep's
 * sync holds one for a second or so; 32 reps behind one NAT syncing at
 * the same instant fit, and a 33rd is closed at once, its nng dialer
 * retrying every 100 ms until one ends. */
#define ROVE_MAX_PIPES_PER_ADDR 32
/* Open connections in all: four times the thousand replicas the product
 * plans to sync at once (SPEC.md, speed). roved raises its descriptor
 * limit to the hard limit, and lowers the cap to fit if that is below
 * this plus ROVE_SPARE_FDS. */
#define ROVE_MAX_PIPES 4096
/* Connections one user may hold open authenticated: one more marks that
 * user's least recently used one to be cut (attack seventy-four: one
 * rep's token held every slot, and 300 connections each with two pulls
 * unread held 1.6 GB). A user runs a sync, a UI's, a feed: a few. */
#define ROVE_MAX_USER_PIPES 32
/* Replies in nng's hands (handed to it, not yet written to a socket) in
 * all, past which roved sheds (gate.h): nng writes a reply whole from
 * memory, and a connection that never reads keeps its last one there
 * until it is cut (attack seventy-five: one token's connections, churned
 * past ROVE_MAX_USER_PIPES, took roved to 2.2 GB). Past it, pull replies
 * hold at most ROVE_LEAN_CHUNK_BYTES (every client still makes progress,
 * in more round trips), and a connection whose replies have waited
 * ROVE_MAX_QUEUED_WAIT_MS without one being written is cut. What nng
 * has written is read from its statistics at most every
 * ROVE_WRITTEN_POLL_MS, and every guard period while a quarter of the
 * cap or more is queued. */
#define ROVE_MAX_QUEUED_REPLY_BYTES (256u * 1024u * 1024u)
/* ... of which one user's connections may hold 1 / this (32 MiB: eight
 * full replies; a user runs a sync, a UI, a feed) before that user's
 * replies are lean and its waiting connections cut: one token's hoard
 * then slows itself, not every bootstrap (gate.h). */
#define ROVE_USER_QUEUED_SHARE 8u
#define ROVE_LEAN_CHUNK_BYTES (64u * 1024u)
#define ROVE_MAX_QUEUED_WAIT_MS 10000
#define ROVE_WRITTEN_POLL_MS 100
/* ... and only from this many bytes queued: below it, a reply counts
 * until its connection closes (serve.c, poll_written). */
#define ROVE_WRITTEN_POLL_FROM_BYTES (ROVE_MAX_QUEUED_REPLY_BYTES / 4)
/* Once the replies queued have reached this and fallen to a quarter of
 * it, roved gives the memory freed back to the system (serve.c). */
#define ROVE_TRIM_AFTER_BYTES (16u * 1024u * 1024u)
/* ... in that guard period and the next ones, this many in all. */
#define ROVE_TRIM_PERIODS 5u
/* The listening socket's queue of connections the kernel has set up and
 * roved has not yet accepted. nng 1.5.2 listens with a fixed 128: when a
 * thousand replicas connect at once (the Monday 9:00 of SPEC.md), the
 * rest overflow it and their SYNs are dropped, each client retrying after
 * the kernel's 1 s timeout (tests/bench/crowd.c: p99 1.2 s, of which
 * 1.1 s is connecting). One per connection the cap allows; the kernel
 * cuts it to net.core.somaxconn (4096 by default since Linux 5.4). */
#define ROVE_LISTEN_BACKLOG ROVE_MAX_PIPES
/* Connections evicted to make room for newcomers (the cap in all is
 * reached; gate.h) that may still be open at once: they count beyond the
 * cap until the guard has cut them, so this bounds how far past it the
 * connections go. The guard cuts within its period. */
#define ROVE_MAX_EVICTING 64
/* Descriptors kept for other uses than connections: the database's
 * files, the listener, the log, the guard's own dials. */
#define ROVE_SPARE_FDS 64
/* Descriptors the guard wants free before it trusts a dial of its own
 * listener that did not arrive (the dial and its accept take two, nng's
 * resolver and timers a few more): with fewer, accepts fail for want of
 * them, which is no sign of a stopped accept loop. */
#define ROVE_MIN_FREE_FDS 16
/* Failed logins are logged at most once in this period, with a count of
 * those that were not: one line a second is ~9 MB a day at worst, where
 * one per failure was ~0.6 MB a second from one connection. */
#define ROVE_LOGIN_LOG_PERIOD_MS 1000
/* The guard's period: idle connections are cut at most this late, and
 * a stopped accept loop is noticed within it. */
#define ROVE_GUARD_PERIOD_MS 1000
/* When every connection is cut at once (to stop, or to listen again),
 * how long they are given to end by themselves before nng closes what is
 * left (cut.h). A cut connection ends once nng has read what was queued
 * on it, which is bounded, but on a loaded machine a flood's queue took
 * more than 2 s: closed while still reading, nng 1.5.2 hung for good
 * (seen in t_hostile under the sanitizers). The wait ends as soon as
 * every connection has; meanwhile the listener is stopped anyway (to
 * listen again) or the server is stopping. */
#define ROVE_MAX_CUT_WAIT_MS 10000
/* On the way to a start anew because nng stopped releasing connections
 * (ROVE_MAX_CUT_LINGER_MS), the wait for the connections cut then and
 * for nng's close, each: neither can end, and each second of them is a
 * second without service (attack seventy-five: 5 s, a client can force
 * such a restart). */
#define ROVE_HUNG_STOP_WAIT_MS 1000u
/* A connection the guard cut that is still open this long after: nng
 * 1.5.2's reaper has hung (it closed a connection while a reply was being
 * written to it) and will never release a connection or descriptor
 * again; roved starts anew in place (SECURITY.md). A cut connection
 * normally ends within seconds. */
#define ROVE_MAX_CUT_LINGER_MS 60000
/* A connection to a tls+tcp:// listener that has not become a pipe this
 * long after the guard first saw it has not finished its TLS handshake
 * (nng 1.5.2 sets no time on it, only on the SP header after it: 10 s,
 * the same bound here): the guard shuts its socket down, and nng closes
 * it (attack seventy-four: 500 connections that sent 11 bytes of a
 * ClientHello were held for good and took every descriptor). */
#define ROVE_MAX_TLS_SETUP_MS 10000
/* The least a test may lower the two bounds above to, through roved's
 * environment (ROVE_IDLE_MS, ROVE_CUT_LINGER_MS: docs/ENVIRONMENT.md). */
#define ROVE_MIN_TEST_KNOB_MS 1000u
/* The guard dials its own listener to see whether it still accepts; a
 * connection it does not see arrive within this time means it does not. */
#define ROVE_MAX_SELFCHECK_WAIT_MS 2000
/* After a failed TLS handshake the client looks for a plain SP server at
 * the same address (it sends its header as soon as a connection opens),
 * and after a plain handshake broken off, for an SP server over TLS (it
 * sends its header once the TLS handshake is done); nothing within this
 * time means it is not one. */
#define ROVE_MAX_PLAIN_PROBE_MS 1000

/* How long roved's stop waits for nng to close its socket before it ends
 * the process itself (close_or_leave in server/serve.c: nng 1.5.2 can
 * wait for ever after a stalled listener was replaced). */
#define ROVE_MAX_CLOSE_WAIT_MS 5000u

/* How deep the server's follow-up ops of an accepted op go: a customer
 * reassigned moves its open deals (1), each deal's new owner goes into
 * its history (2). A policy that needs more is a defect (asserted). */
#define ROVE_MAX_FOLLOW_DEPTH 2

/* How much of a CA file `rove config ca` / `rove init --ca` reads to find
 * a PEM certificate in it (a bundle's first one comes early). */
#define ROVE_MAX_CA_SCAN (1024 * 1024)

/* The problems of a bad CSV file `rove import` lists, one a line; the
 * rest are counted (a file of 3,000 bad rows is one mistake, not 6,000
 * lines on a terminal). */
#define ROVE_MAX_IMPORT_SHOWN 100u
/* When no connection was handed over for this long, the guard dials its
 * own listener: nng 1.5.2's accept loop can stop for good (bug 1518). A
 * client waits about this long at most for it to listen again; an idle
 * server makes one local connection this often. */
#define ROVE_LISTEN_CHECK_PERIOD_MS 3000
/* After listening anew this many times, roved starts anew in place
 * instead (an exec of itself, after a clean stop): each listener nng
 * 1.5.2 closes keeps its descriptor and those of connections it never
 * handed over, a few at a time (server/serve.c, check_listener). */
#define ROVE_MAX_RELISTENS 16u
/* After a listen anew (or with its accept loop stopped), nng 1.5.2's poll
 * thread can spin on a connection it never handed over (its client gone:
 * EPOLLHUP without end), a core whole until roved starts anew. The guard
 * starts roved anew in place when that thread used at least this share
 * (percent) of the time since its last look, after a listen anew or with
 * no connection open (server/serve.c, check_spin). */
#define ROVE_MAX_POLL_BUSY_PCT 50u
/* ... and waited for events at most this many times a second meanwhile:
 * a spinning thread waits only when another of nng's threads holds a
 * lock it needs (0-12 times a second seen), one busy with a flood of
 * connections waits between them (thousands of times a second; 96
 * under the sanitizers on a loaded machine). */
#define ROVE_MAX_POLL_SPIN_WAITS 30u
/* ... but not within this long of a flood: the guard saw the descriptors
 * short, or a quarter of them open, or their count move by more than
 * ROVE_SPIN_FDS_SLACK between two looks, or its own probe refused for a
 * full backlog. On a machine short of CPU a flooded poll thread hardly
 * waits either (0-3 times a second, CI 2026-12-05), while a spin is on
 * one stray connection and needs no descriptors. */
#define ROVE_SPIN_AFTER_FLOOD_MS 3000u
/* ... the descriptors' count may move this much between two of the
 * guard's looks in a spin (its own probe, a metrics scrape): more is
 * connections coming and going. nng draining 18,000 connections of a
 * flood that had used up the descriptors kept its poll thread busy with
 * none handed over, and was taken for a spin (CI, 2026-12-05). */
#define ROVE_SPIN_FDS_SLACK 8u
/* When the descriptors stay short this long and no connection is handed
 * over meanwhile, roved starts anew in place too: the guard cannot dial
 * its listener without a descriptor to spare, and connections a stopped
 * accept loop took are never freed, so the server would stay out of
 * them, and out of reach, for good. Twice ROVE_MAX_IDLE_MS: by then
 * every idle connection was cut, and a server merely full of clients
 * has handed new ones over. */
#define ROVE_MAX_FDS_SHORT_MS (2u * ROVE_MAX_IDLE_MS)
/* A roved started anew in place that cannot serve yet (its TLS files
 * mid-renewal, its port taken meanwhile) tries again after 1 s, then
 * twice as long each time, up to this. */
#define ROVE_MAX_ANEW_WAIT_MS 60000u
/* Started anew and the metrics' address taken, roved serves syncs and
 * tries the metrics again after this, then twice as long each time, up to
 * ROVE_MAX_ANEW_WAIT_MS. */
#define ROVE_METRICS_RETRY_MS 2000u

/* ---- how the limits relate (checked when compiling) ---- */

/* The largest item a reply can carry: a whole record (its strings, and per
 * field its name and an encoded value and stamp), with room for framing. */
#define ROVE_MAX_ITEM_BYTES (ROVE_MAX_RECORD_BYTES + ROVE_MAX_FIELDS * (ROVE_MAX_FIELD_NAME + 64u) + 256u)

_Static_assert(ROVE_DISK_FULL_SLACK >= 4ull * ROVE_SNAPSHOT_CHUNK_BYTES,
	       "a chunk's commit must fit in what a full disk is said to have left");
_Static_assert(ROVE_SNAPSHOT_CHUNK_BYTES + ROVE_MAX_ITEM_BYTES <= ROVE_MAX_MSG_BYTES,
	       "a full snapshot chunk plus one item must fit in a message");
_Static_assert(ROVE_MAX_SNAPSHOT_ITEMS >= ROVE_MAX_PULL_ITEMS, "a pull reply's limit holds an ops reply");
_Static_assert(ROVE_LEN_NAME + 100 <= ROVE_LEN_REASON, "a pool notice holds a customer's whole name and its words");
/* A pull reply closes once it holds ROVE_PULL_CHUNK_BYTES: one more item
 * must still fit in a message. */
_Static_assert(ROVE_PULL_CHUNK_BYTES + ROVE_MAX_ITEM_BYTES <= ROVE_MAX_MSG_BYTES,
	       "a full pull chunk plus one item must fit in a message");
/* A push of the most ops, each at its largest, is split by the client to
 * fit; one op alone must always fit. */
_Static_assert(ROVE_MAX_ITEM_BYTES < ROVE_MAX_MSG_BYTES / 2, "one op must fit in half a message");
_Static_assert(ROVE_MAX_ITEM_BYTES + 4096 < ROVE_MAX_REQUEST_BYTES / 2,
	       "a push of one op, with the credentials and replica id around it, fits a request with room");
_Static_assert(ROVE_MAX_REQUEST_BYTES <= ROVE_MAX_MSG_BYTES, "a request is a message");
_Static_assert(ROVE_MAX_STR <= ROVE_MAX_RECORD_BYTES, "a string fits in a record");
_Static_assert(ROVE_MAX_DETAIL < ROVE_MAX_ERRMSG, "a refusal's detail fits in an error message");
_Static_assert(ROVE_MAX_NAME < ROVE_MAX_ADMIN_ARG, "a name fits in an admin argument");
_Static_assert(ROVE_MAX_ADMIN_IMPORT_ROWS * (ROVE_MAX_NAME + ROVE_TOKEN_HEX + 8u) < ROVE_MAX_MSG_BYTES / 2,
	       "the answer to an import of users (a login and a token a line) fits a message");
_Static_assert(ROVE_ADMIN_IMPORT_ARITY + 2u <= ROVE_MAX_ADMIN_ARGS, "a request carries a row");
_Static_assert(ROVE_MAX_CLOCK_SKEW_MS < ROVE_MAX_TZ_AHEAD_MS, "a zoned time is allowed less skew than a local one");
_Static_assert(ROVE_MAX_ADDR_INFLIGHT * 2 <= ROVE_MAX_CONTEXTS,
	       "one address holds at most half of the server's contexts");
/* LMDB's deepest tree (its cursors' stack): roved check's walk of the
 * pages (rove_db_pages_check) takes a deeper one for damage. */
#define ROVE_MAX_DB_DEPTH 32
/* The walk of a file's pages (roved check, backup, compact) starts from
 * its read's meta page, which a writer committing twice meanwhile
 * rewrites: the read is renewed and the walk begun again, this many
 * times at most. */
#define ROVE_PAGE_WALK_TRIES 5

/* roved check lists at most this many problems, then counts the rest: a
 * damaged index can make one per record, and the first thousand say
 * what is wrong as well as a million would. */
#define ROVE_MAX_CHECK_PROBLEMS 1000u
/* ... and at most this many of one kind (one message), then counts the
 * rest of that kind: one damaged key can make a problem per op (a server
 * node garbled: every op "missing" its answer; attack sixty-four saw
 * 15,062 such lines hide the key itself), and kinds past the first few
 * would not be seen. The kinds told apart: at most ROVE_CHECK_KINDS. */
#define ROVE_MAX_CHECK_SAME 20u
#define ROVE_CHECK_KINDS 128u

/* roved compact drops at most this many ops (and their scopelog entries)
 * per write transaction: a serving roved's writer waits for each, so each
 * stays short (tens of milliseconds), and an interrupted compaction keeps
 * what it did. */
#define ROVE_COMPACT_BATCH 2000u

/* How deep roved compact follows a dropped tombstone's family (its
 * children, theirs...): the schema nests one level (a customer and its
 * records), so a deeper one is a damaged index, refused rather than
 * walked without bound. */
#define ROVE_COMPACT_FAMILY_DEPTH 4u
/* roved compact --keep-days at most: a hundred years, so that the
 * horizon stays after the epoch. */
#define ROVE_MAX_KEEP_DAYS 36500u
/* roved serve --recycle-interval at most: a week, in milliseconds (the
 * pool rules run at least that often unless turned off with 0). */
#define ROVE_MAX_RECYCLE_INTERVAL_MS (7u * 86400u * 1000u)

_Static_assert(ROVE_SERVER_MAPSIZE <= ROVE_MAX_MAPSIZE && ROVE_REPLICA_MAPSIZE <= ROVE_MAX_MAPSIZE,
	       "maps start within the largest size");

/* ---- rove ui (client/ui*.c): a local web server, a browser its only client ---- */

/* A form's body: the largest form (a note of ROVE_LEN_NOTE characters,
 * percent-encoded, and a few short fields) fits with room. */
#define ROVE_UI_MAX_BODY (64u * 1024u)
/* Parameters of one request (query or form); more are refused. */
#define ROVE_UI_MAX_PARAMS 32
/* A URL the server writes or a path it reads. */
#define ROVE_UI_MAX_URL 512
/* The error lines one request collects for its page. */
#define ROVE_UI_MAX_ERRORS 2048
/* A page: a list page shows at most ROVE_UI_PAGE_ROWS rows of at most
 * about a record each, escaped (x6 at worst). */
#define ROVE_UI_MAX_PAGE (8u * 1024u * 1024u)
/* Rows of a list page (customers, deals): a page, not the replica. */
#define ROVE_UI_PAGE_ROWS 50
/* Rows of the card's and the Today page's lists. */
#define ROVE_UI_CARD_ROWS 100
/* A line the `rove sync --json` rove ui runs (ui_sync.c) writes on stdout:
 * a progress line (four numbers) or the JSON of its figures (six), with
 * room; a longer one is not rove sync's and is passed over. */
#define ROVE_UI_SYNC_LINE 512
/* rove ui's sessions at once: each visit of the printed URL (a tab, a
 * browser) makes one; one more forgets the least recently used, whose
 * user opens the printed URL again. A user has a few browsers, not
 * more: the table stays small and is searched whole. */
#define ROVE_UI_MAX_SESSIONS 16
/* rove ui's connections open at once; one more is answered 503 and
 * closed at once. A browser opens six or so to one host; the cap keeps
 * idle or half-sent connections of a hostile local program from taking
 * every descriptor (each holds one, and up to ROVE_UI_MAX_HEAD +
 * ROVE_UI_MAX_BODY of memory). */
#define ROVE_UI_MAX_CONNS 32
/* Descriptors rove ui keeps aside from its connections, past those open
 * when it starts: the replica a page opens (LMDB's data and lock files),
 * the Sync button's child and its pipes, the browser page of --open, with
 * room. Under a low RLIMIT_NOFILE the connection cap is lowered to what
 * is left, so that a newcomer at the cap is accepted (and takes an idle
 * one's place) rather than failing accept() with EMFILE. */
#define ROVE_UI_FD_RESERVE 16
/* From accept to a whole request (head and body): a browser sends its
 * request at once; a connection still idle or half-sent at this is cut,
 * so that it holds its slot no longer. */
#define ROVE_UI_REQUEST_MS 10000
/* From the answer made to the answer written: a browser reads at once;
 * one that does not read is cut at this. */
#define ROVE_UI_REPLY_MS 30000
/* A request's head (request line and headers): a browser's are one or
 * two KB, cookies included; the room past that is for the cookies other
 * local sites set on 127.0.0.1 (sent to every port). A longer one is
 * answered 431 with a page that clears the cookies (ui_server.c). */
#define ROVE_UI_MAX_HEAD (32u * 1024u)

/* ---- roved serve --metrics (server/metrics.c): a scraper's endpoint ---- */

/* Metrics connections open at once; one more is answered 503 and closed
 * at once. A scraper needs one or two; the cap keeps a flood of them
 * from taking the descriptors and memory the sync listener needs (the
 * endpoint holds at most this many plus its listener and a pipe:
 * ROVE_METRICS_FDS). */
#define ROVE_METRICS_MAX_CONNS 16
#define ROVE_METRICS_FDS (ROVE_METRICS_MAX_CONNS + 3)
/* A metrics connection's whole life, from accept to close: the request
 * sent, the reply read. A scrape takes milliseconds; a slow or silent
 * client is cut at this, so that it holds a slot for no longer. */
#define ROVE_METRICS_REQUEST_MS 5000
/* A metrics request, its headers included: a scraper's (Prometheus,
 * curl) are a few hundred bytes. A longer one is answered 431. Each
 * connection holds one such buffer. */
#define ROVE_METRICS_REQUEST_BYTES 4096u

#endif
