/*
 * fuzz_common.h - what the fuzz harnesses and the corpus generator share:
 * the seeded world (users, territories, fixed record ids), the way an input
 * is cut into requests or replies, and a byte reader for the inputs that
 * describe a request instead of holding one.
 *
 * Inputs of the server and client harnesses may carry several messages,
 * separated by FZ_SEP (0xc1), a byte that is neither valid MessagePack nor
 * valid UTF-8: it never occurs in a message except inside binary ids and
 * integers, and the seeded ids and stamps avoid it.
 */
#ifndef ROVE_FUZZ_COMMON_H
#define ROVE_FUZZ_COMMON_H

#include "proto.h"
#include "record.h"
#include "schema.h"
#include "uuid.h"

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FZ_SEP 0xc1u
#define FZ_MAX_PARTS 8

/* ---- the seeded world ------------------------------------------------- */

/* Users of the server harness's database, by identity number (the low
 * three bits of a request's first byte; see fuzz_server.c). */
enum fz_ident {
	FZ_AS_IS = 0,   /* the message's own user and token */
	FZ_ADMIN = 1,   /* "admin", admin */
	FZ_WANG = 2,    /* rep in east.sh */
	FZ_LI = 3,      /* rep in east.sh and east.bj */
	FZ_ZHAO = 4,    /* manager of east (so east.sh and east.bj too) */
	FZ_QIAN = 5,    /* analyst */
	FZ_BAD = 6,     /* mallory (a rep) with a wrong token */
	FZ_AS_IS2 = 7,  /* as FZ_AS_IS */
	FZ_NIDENT = 8
};

static inline const char *fz_ident_name(unsigned ident)
{
	static const char *const names[FZ_NIDENT] = {"", "admin", "wang", "li", "zhao", "qian", "mallory", ""};

	return names[ident % FZ_NIDENT];
}

#define FZ_BAD_TOKEN "0000000000000000000000000000000000000000000000000000000000000000"

/* Fixed record ids: customers, children, reference data. Every byte of
 * an id is below 0xc0, so never FZ_SEP - but the target's, which its
 * user and month make (rove_target_id: wang's of 2024-05, checked to
 * hold no FZ_SEP). */
enum fz_id {
	FZ_ID_C1 = 1,     /* customer of wang in east.sh (tax id, phone) */
	FZ_ID_C2 = 2,     /* pool customer in east.sh */
	FZ_ID_C3 = 3,     /* created by li in east.bj, reassigned to wang */
	FZ_ID_C4 = 4,     /* pool customer in west */
	FZ_ID_C5 = 5,     /* customer of zhao in east */
	FZ_ID_C6 = 6,     /* released by wang to the pool of east.sh */
	FZ_ID_CONTACT = 7,
	FZ_ID_OPP = 8,
	FZ_ID_ACT = 9,
	FZ_ID_DEALER = 10,
	FZ_ID_TARGET = 11,
	FZ_NIDS = 12
};

#define FZ_TARGET_USER "wang"
#define FZ_TARGET_PERIOD "2024-05"

static inline void fz_id(rove_uuid *id, unsigned n)
{
	if (n % 12 == FZ_ID_TARGET) {
		rove_target_id(FZ_TARGET_USER, FZ_TARGET_PERIOD, id);
		for (unsigned i = 0; i < 16; i++)
			if (id->b[i] == FZ_SEP)
				abort(); /* the corpus could not carry it */
		return;
	}
	for (unsigned i = 0; i < 16; i++)
		id->b[i] = (uint8_t)(((n % 12) << 4) | i);
	id->b[6] = (uint8_t)(0x70 | (n % 12));
	id->b[8] = (uint8_t)(0x80 | (n % 12));
}

static inline void fz_id_str(char out[ROVE_UUID_STRLEN + 1], unsigned n)
{
	rove_uuid id;

	fz_id(&id, n);
	rove_uuid_format(&id, out);
}

/* The op ids of the ops the server harness seeds its database with, in
 * order (0-15), so that an input can push one again. */
static inline void fz_seed_opid(rove_uuid *id, unsigned n)
{
	for (unsigned i = 0; i < 16; i++)
		id->b[i] = (uint8_t)(0x50 + i);
	id->b[15] = (uint8_t)(n % 16);
}

/* The op ids of the client harness's queued local ops (0-3). */
static inline void fz_client_opid(rove_uuid *id, unsigned n)
{
	for (unsigned i = 0; i < 16; i++)
		id->b[i] = (uint8_t)(0x60 + i);
	id->b[15] = (uint8_t)(n % 16);
}

/* A stamp in the past with no byte 0xc1 (2024-05-02 in ms, shifted), so
 * the corpus is the same on every run. */
#define FZ_HLC ((uint64_t)0x018f3a5b2c00ull << 16)
#define FZ_NODE 0x1122334455667788ull

/* ---- values a described request picks from ---------------------------- */

#define FZ_NFIELDS 43u

/* Field names: every name of the schema, the engine's own, and one
 * unknown. */
static inline const char *fz_field(unsigned i)
{
	static const char *const names[] = {
		"name", "tax_id", "phone", "address", "tier", "territory", "owner", "dealer",
		"last_activity_at", "created_at", "release_reason", "customer", "email", "title",
		"number", "amount", "signed_on", "status", "stage", "expected_close", "closed_on",
		"kind", "at", "note", "location", "author", "user", "period", "code", "parent",
		"pool_limit", "claim_limit", "cooldown_days", "recycle_days", "warn_days", "event",
		"from", "to", "by", "reason", "text", ROVE_FIELD_DELETED, "bogus",
	};
	_Static_assert(sizeof(names) / sizeof(names[0]) == FZ_NFIELDS, "FZ_NFIELDS");

	return names[i % FZ_NFIELDS];
}

/* String values and admin arguments: territory codes, logins, the fixed
 * record ids (as text), dates, enum values, policy settings, phone
 * numbers, odd text. Index FZ_STR_ID + n is the id fz_id(n) as text. */
#define FZ_STR_ID 64u
#define FZ_NSTRS (FZ_STR_ID + FZ_NIDS)

static inline const char *fz_str(unsigned i, char buf[ROVE_UUID_STRLEN + 1])
{
	static const char *const strs[] = {
		"east", "east.sh", "east.bj", "west", "", "nowhere", "admin", "wang", "li", "zhao",
		"qian", "roved", "nobody", "rep", "manager", "analyst", "2024-05-01", "2024-02-30",
		"2024-05-01T10:00:00Z", "2099-12-31T23:59", "2024-05", "prospect", "customer",
		"loyal", "lead", "won", "lost", "visit", "call", "note", "active", "create", "claim",
		"name=Renamed", "pool_limit=1", "claim_limit=1", "cooldown_days=30",
		"release_reason=1", "recycle_days=1", "warn_days=400", "code=x", "parent=west",
		"pool_limit=-1", "name=", "13800138000", "+86 138-0013-8000", "91310000MA1FL0001R",
		"Acme", "\xe4\xb8\x8a\xe6\xb5\xb7\xe5\x85\xac\xe5\x8f\xb8", "a,b\"c\n", "0", "1",
		"-1", "9223372036854775807", "12000.50", "user.add", "territory.add", "assign",
		"reassign.customer", "reassign.territory", "x=y=z", "=", "t:east", "o:wang",
	};

	_Static_assert(sizeof(strs) / sizeof(strs[0]) == FZ_STR_ID, "FZ_STR_ID");

	i %= FZ_NSTRS;
	if (i >= FZ_STR_ID) {
		fz_id_str(buf, i - FZ_STR_ID);
		return buf;
	}
	return strs[i];
}

/* The index of s in the string table (for the corpus generator). */
static inline unsigned fz_str_index(const char *s)
{
	char buf[ROVE_UUID_STRLEN + 1];

	for (unsigned i = 0; i < FZ_NSTRS; i++)
		if (strcmp(fz_str(i, buf), s) == 0)
			return i;
	return 0;
}

static inline unsigned fz_field_index(const char *s)
{
	for (unsigned i = 0; i < FZ_NFIELDS; i++)
		if (strcmp(fz_field(i), s) == 0)
			return i;
	return 0;
}

static inline const char *fz_admin_cmd(unsigned i)
{
	static const char *const cmds[] = {"user.add", "territory.add", "territory.set", "assign", "unassign",
					   "reassign.customer", "reassign.territory", "bogus"};

	return cmds[i % (sizeof(cmds) / sizeof(cmds[0]))];
}

/* ---- temporary directories -------------------------------------------- */

/* Removes a directory and what is in it (a harness's databases: files and
 * directories of files). Safe to call while they are open, as a crashing
 * harness does, so that a crash does not leave them behind. */
static inline void fz_rm_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;

	if (d != NULL) {
		while ((de = readdir(d)) != NULL) {
			char sub[1024];
			struct stat sb;
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
			if (lstat(sub, &sb) == 0 && S_ISDIR(sb.st_mode))
				fz_rm_tree(sub);
			else
				unlink(sub);
		}
		closedir(d);
	}
	rmdir(path);
}

/* ---- cutting inputs ------------------------------------------------- */

typedef struct fz_part {
	const uint8_t *p;
	size_t len;
} fz_part;

/* Splits data at FZ_SEP into at most FZ_MAX_PARTS parts (the last one
 * keeps any further separators); returns the number of parts. */
static inline size_t fz_split(const uint8_t *data, size_t len, fz_part parts[FZ_MAX_PARTS])
{
	size_t n = 0, start = 0;

	for (size_t i = 0; i < len && n + 1 < FZ_MAX_PARTS; i++) {
		if (data[i] == FZ_SEP) {
			parts[n].p = data + start;
			parts[n].len = i - start;
			n++;
			start = i + 1;
		}
	}
	parts[n].p = data + start;
	parts[n].len = len - start;
	return n + 1;
}

/* ---- reading bytes that describe something ---------------------------- */

typedef struct fz_rd {
	const uint8_t *p;
	size_t left;
} fz_rd;

/* The next byte, 0 once the input is used up. */
static inline uint8_t fz_u8(fz_rd *r)
{
	if (r->left == 0)
		return 0;
	r->left--;
	return *r->p++;
}

static inline uint64_t fz_u64(fz_rd *r)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | fz_u8(r);
	return v;
}

/* Up to max raw bytes (their number from the next byte). */
static inline size_t fz_bytes(fz_rd *r, const uint8_t **out, size_t max)
{
	size_t n = fz_u8(r) % (max + 1);

	if (n > r->left)
		n = r->left;
	*out = r->p;
	r->p += n;
	r->left -= n;
	return n;
}

#endif
