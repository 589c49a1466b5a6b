/*
 * feed.h - keeps a PostgreSQL schema in step with a replica (`rove feed
 * postgres`): one table per record kind, named after it, its columns
 * named after the JSON fields (`rove KIND list --json`), typed; deleted
 * records removed; a few views for BI tools (docs/OPERATIONS.md).
 *
 * Exactly once, by state rather than by log: every row carries the
 * digest (rove_digest: FNV-1a of the record's stored encoding) of the
 * replica record it was made from. A round reads the replica's confirmed
 * records in one LMDB read transaction, compares each with the digest
 * PostgreSQL holds (kept in memory, in id order, loaded from PostgreSQL
 * at connect and after any failure), and in ONE PostgreSQL transaction
 * deletes the rows of records gone or changed, COPYs the rows of records
 * new or changed, and records the position (rove_feed_position: the
 * replica's version and pull cursor). A crash anywhere rolls that
 * transaction back whole; the next round compares again with what
 * PostgreSQL committed: nothing is missed, nothing written twice. A
 * round whose replica version did not move reads nothing.
 *
 * The schema is made and upgraded by the feed (rove_schema_version):
 * tables and columns follow common/schema.c, checked at every connect
 * and after every failed round. A table that lacks a column, or has one
 * of another type (a newer schema, or a change by hand), is rebuilt from
 * the replica: emptied, the column added or retyped, and its rows
 * written again by the next round in the same transaction, so readers
 * never see it half done. Views missing are made again; the position
 * table comes in numbered steps.
 */
#ifndef ROVE_FEED_H
#define ROVE_FEED_H

#include "replica.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rove_feed rove_feed;

typedef struct rove_feed_stats {
	bool idle;          /* the replica had not changed: nothing read */
	uint64_t version;   /* the replica state fed (rove_replica_version) */
	uint64_t cursor;    /* its pull cursor */
	uint64_t records;   /* records in PostgreSQL after the round */
	uint64_t written;   /* rows written (records new or changed) */
	uint64_t removed;   /* rows of records gone (deleted, out of the replica) */
	uint64_t bad;       /* values written as NULL: invalid for their column */
} rove_feed_stats;

/* Whether conninfo is one libpq can read (PQconninfoParse: no
 * connection made): ROVE_EINVAL (reported) for an empty one, words that
 * are not key=value, an unknown option; ROVE_ENOTFOUND (reported) when
 * libpq is missing. */
int rove_feed_check_conninfo(const char *conninfo);

/* Connects (conninfo: libpq's, a URI or key=value words), takes the
 * database's feed lock (one feed per database), creates or upgrades the
 * schema and loads what PostgreSQL holds. Errors: a server not reached
 * or a connection lost ROVE_EUNREACH, an error that may go by itself (a
 * deadlock, a serialization failure, a server full) ROVE_EBUSY - these
 * two are not logged but described in why (whylen bytes; may be NULL:
 * then logged), for the caller that waits them out to say when it sees
 * fit. Every other error is logged (the statement's table and
 * PostgreSQL's message): a server that answered but refused the login
 * (password, role, database) ROVE_EAUTH, an SSL or GSS negotiation
 * failed ROVE_ETLS, an option value libpq refuses ROVE_EINVAL, a schema
 * newer than this rove ROVE_EVERSION, another feed holding the database
 * ROVE_ELOCKED, libpq missing ROVE_ENOTFOUND, an error that retrying
 * will not mend (privileges, a full disk, a type, a constraint, a view
 * of someone else's on a column the feed must change) ROVE_EIO. *f is
 * the caller's, for rove_feed_free. */
int rove_feed_connect(const char *conninfo, char *why, size_t whylen, rove_feed **f);

/* One round: brings PostgreSQL in step with r's confirmed records (one
 * transaction). Errors as rove_feed_connect's, ROVE_EUNREACH meaning
 * connect again; and two of the position PostgreSQL holds: fed by
 * another replica (another id or user) ROVE_EPERM, logged with both
 * named - the feed never undoes another replica's work; fed by this one
 * further than it is now (restored from an older copy) ROVE_EHISTORY,
 * described in why like ROVE_EUNREACH: a sync brings it past. Any error
 * leaves PostgreSQL as it was before the round, and the next round
 * checks the schema again first. */
int rove_feed_round(rove_feed *f, rove_replica *r, rove_feed_stats *st, char *why, size_t whylen);

void rove_feed_free(rove_feed *f);

#endif
