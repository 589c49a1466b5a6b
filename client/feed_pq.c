/* feed_pq.c - libpq loaded at run time (see feed_pq.h). */
#include "feed_pq.h"

#include "err.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

feed_pq_api feed_pq;

/* The soname of libpq 8.2 and later (Debian's libpq5). */
#define FEED_PQ_SONAME "libpq.so.5"

static bool loaded;

/* Where each function of feed_pq_api goes, by name. */
#define PQ_SYM(name) {#name, (void **)&feed_pq.name}
static const struct {
	const char *name;
	void **slot;
} syms[] = {
	PQ_SYM(PQconnectdb),   PQ_SYM(PQstatus),	  PQ_SYM(PQerrorMessage),       PQ_SYM(PQfinish),
	PQ_SYM(PQexec),	       PQ_SYM(PQexecParams),	  PQ_SYM(PQresultStatus),       PQ_SYM(PQresultErrorMessage),
	PQ_SYM(PQresultErrorField), PQ_SYM(PQclear),	  PQ_SYM(PQntuples),	        PQ_SYM(PQgetvalue),
	PQ_SYM(PQgetisnull),   PQ_SYM(PQputCopyData),	  PQ_SYM(PQputCopyEnd),	        PQ_SYM(PQgetResult),
	PQ_SYM(PQsetNoticeProcessor), PQ_SYM(PQconninfoParse), PQ_SYM(PQconninfoFree), PQ_SYM(PQfreemem),
	PQ_SYM(PQping),
};

int feed_pq_load(char *why, size_t whylen)
{
	const char *path = getenv("ROVE_LIBPQ");
	void *lib;

	if (loaded)
		return ROVE_OK;
	if (path == NULL || path[0] == '\0')
		path = FEED_PQ_SONAME;
	lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL) {
		const char *e = dlerror();
		snprintf(why, whylen, "cannot load %s (PostgreSQL's client library; Debian: apt-get install libpq5): %s",
			 path, e != NULL ? e : "unknown error");
		return ROVE_ENOTFOUND;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		/* POSIX: a function pointer may be read through a void * slot */
		*syms[i].slot = dlsym(lib, syms[i].name);
		if (*syms[i].slot == NULL) {
			snprintf(why, whylen, "%s lacks %s: too old a libpq", path, syms[i].name);
			memset(&feed_pq, 0, sizeof(feed_pq));
			dlclose(lib);
			return ROVE_ENOTFOUND;
		}
	}
	loaded = true; /* lib stays loaded until the process exits */
	return ROVE_OK;
}
