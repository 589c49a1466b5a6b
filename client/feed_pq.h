/*
 * feed_pq.h - libpq, loaded when `rove feed` runs and not before.
 *
 * Why at run time: the same `rove` binary goes on every rep's laptop,
 * where no PostgreSQL client library is installed and none is needed.
 * Linking libpq would make every `rove` command fail to start there; so
 * only the feed loads it (dlopen of libpq.so.5, the soname Debian's libpq5
 * has carried since PostgreSQL 8.2), and a machine without it gets a
 * clear error from `rove feed` alone. The types come from libpq-fe.h at
 * build time (Debian's libpq-dev, found by pkg-config).
 *
 * feed_pq_load fills the one table of functions, feed_pq, once per
 * process; the library stays loaded until the process exits.
 */
#ifndef ROVE_FEED_PQ_H
#define ROVE_FEED_PQ_H

#include <libpq-fe.h>
#include <stddef.h>

/* The functions of libpq the feed uses, by their libpq names. */
typedef struct feed_pq_api {
	PGconn *(*PQconnectdb)(const char *conninfo);
	ConnStatusType (*PQstatus)(const PGconn *conn);
	char *(*PQerrorMessage)(const PGconn *conn);
	void (*PQfinish)(PGconn *conn);
	PGresult *(*PQexec)(PGconn *conn, const char *query);
	PGresult *(*PQexecParams)(PGconn *conn, const char *command, int nParams, const Oid *paramTypes,
				  const char *const *paramValues, const int *paramLengths, const int *paramFormats,
				  int resultFormat);
	ExecStatusType (*PQresultStatus)(const PGresult *res);
	char *(*PQresultErrorMessage)(const PGresult *res);
	char *(*PQresultErrorField)(const PGresult *res, int fieldcode);
	void (*PQclear)(PGresult *res);
	int (*PQntuples)(const PGresult *res);
	char *(*PQgetvalue)(const PGresult *res, int tup_num, int field_num);
	int (*PQgetisnull)(const PGresult *res, int tup_num, int field_num);
	int (*PQputCopyData)(PGconn *conn, const char *buffer, int nbytes);
	int (*PQputCopyEnd)(PGconn *conn, const char *errormsg);
	PGresult *(*PQgetResult)(PGconn *conn);
	PQnoticeProcessor (*PQsetNoticeProcessor)(PGconn *conn, PQnoticeProcessor proc, void *arg);
	PQconninfoOption *(*PQconninfoParse)(const char *conninfo, char **errmsg);
	void (*PQconninfoFree)(PQconninfoOption *connOptions);
	void (*PQfreemem)(void *ptr);
	PGPing (*PQping)(const char *conninfo);
} feed_pq_api;

/* Filled by feed_pq_load; valid once it returned ROVE_OK. */
extern feed_pq_api feed_pq;

/* Loads libpq ($ROVE_LIBPQ, else libpq.so.5). ROVE_ENOTFOUND with why
 * ("cannot load libpq.so.5: ...") when it is not installed or lacks a
 * function. Loading again after success does nothing. */
int feed_pq_load(char *why, size_t whylen);

#endif
