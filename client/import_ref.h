/*
 * import_ref.h - the customers a `rove import` of child records may name,
 * and finding the one a row's `customer` cell names.
 *
 * Why: a file of 100,000 deals or visits names its customers by id, or
 * by the start or end of an id (at least ROVE_MIN_ID_ABBREV hex digits,
 * as everywhere on the command line: cli_id_find), and every row must be
 * resolved against every customer of the replica. Two sorted arrays (the
 * ids' hex digits, and the same digits reversed for their ends) answer
 * each row with two binary searches instead of a walk of the replica.
 *
 * The index owns its memory: ref_index_free releases it. Entries are
 * added in any order, then ref_index_sort is called once before any
 * ref_index_find.
 */
#ifndef ROVE_IMPORT_REF_H
#define ROVE_IMPORT_REF_H

#include "uuid.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A customer cell that names its customer by tax id instead of id
 * ("tax_id:91310000MA1FL0001R"): what `rove import` reads on any server
 * and `rove export --portable` writes (SPEC). */
#define REF_TAX_PREFIX "tax_id:"

/* Whether the importing user may add records under a customer. */
enum ref_reach {
	REF_WRITABLE = 0, /* theirs, or in their reach (managers, admins) */
	REF_POOL = 1,     /* a public-pool customer a rep must claim first */
	REF_OTHERS = 2,   /* another rep's */
};

typedef struct ref_entry {
	rove_uuid id;
	char hex[32];  /* the id's hex digits, lower case, no dashes */
	uint8_t reach; /* enum ref_reach */
} ref_entry;

/* An entry's digits last first, for finding the end of an id. */
typedef struct ref_end {
	char rev[32];
	uint32_t i; /* the entry, in ref_index's e */
} ref_end;

typedef struct ref_index {
	ref_entry *e;    /* sorted by hex once ref_index_sort ran */
	ref_end *by_end; /* sorted by rev */
	size_t n, cap;
} ref_index;

/* Adds a customer; ROVE_ENOMEM. */
int ref_index_add(ref_index *x, const rove_uuid *id, uint8_t reach);
/* Sorts the entries for ref_index_find; ROVE_ENOMEM. */
int ref_index_sort(ref_index *x);
void ref_index_free(ref_index *x);

/* What a cell names: ROVE_OK with *out (valid until the index changes)
 * when one customer matches text - a whole id (any case, with or without
 * dashes) or the start or end of one; ROVE_ENOTFOUND when none does;
 * ROVE_EEXIST when several do (*nmatch of them, at least 2); ROVE_EINVAL
 * when text cannot be an id or the start or end of one. */
int ref_index_find(const ref_index *x, const char *text, const ref_entry **out, size_t *nmatch);

#endif
