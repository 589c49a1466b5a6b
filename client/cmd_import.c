/*
 * cmd_import.c - `rove import`: customers, their contacts, contracts,
 * deals and activities, or dealers, from a CSV file.
 *
 * An import is checked whole before anything is written: every bad row is
 * reported with the line it starts on, and one bad row means nothing is
 * imported. The rows of a good file become create ops written in one
 * transaction, so the import is all or nothing on the replica too. That
 * transaction writes only onto the state the rows were checked against
 * (rove_replica_write_each_at): when another process wrote the replica
 * meanwhile (the same file imported twice at once, a sync), the kept rows
 * are checked again against what it holds now, and refused if they clash. The
 * server checks every create again on the next sync (duplicates among all
 * customers, territories), as it does for `rove customer add`.
 *
 * Memory: the file's rows are kept as text while they are checked, and the
 * ops are built from them only when every row is good.
 */
#include "cli.h"
#include "cli_opt.h"
#include "csv.h"
#include "import_ref.h"
#include "rec.h"
#include "out.h"
#include "ident.h"
#include "err.h"
#include "array.h"
#include "keyset.h"
#include "log.h"
#include "rove_assert.h"
#include "lockfile.h"
#include "rules.h"
#include "sync.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* A field managers and admins may give on create, which the server
 * decides for reps (an exported file's column, ignored for them): a
 * customer's owner (the server checks who may own it there), and a
 * deal's as soon as the schema has one (SPEC rule 14: who is credited
 * with it). */
static bool column_boss_only(const rove_field_def *fd)
{
	return fd != NULL && strcmp(fd->name, "owner") == 0;
}

/* A column of an exported file that import ignores, with a note: the id
 * (an import makes new records) and what the server sets. */
static bool column_exported(const char *name, const rove_field_def *fd)
{
	if (strcmp(name, "id") == 0)
		return true;
	return fd != NULL && (fd->flags & ROVE_FF_SYSTEM) && !(fd->flags & ROVE_FF_HIDDEN);
}

static bool column_importable(const rove_field_def *fd)
{
	return !(fd->flags & (ROVE_FF_SYSTEM | ROVE_FF_HIDDEN));
}

/* Bytes of s to show in a message: at most 60, cut between characters. */
static int shown(const char *s)
{
	size_t n = strlen(s);

	if (n <= 60)
		return (int)n;
	n = 60;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return (int)n;
}

/* The key of value under kind ('c' customer id, 'T' territory code)
 * into out; its length. A customer's tax id and phone are held under
 * their uniqueness keys (rove_uniq_key_make: "tax:", "tel:"). */
static size_t make_key(char out[ROVE_MAX_STR + 3], char kind, const char *value)
{
	size_t len = strnlen(value, ROVE_MAX_STR);

	out[0] = kind;
	out[1] = ':';
	memcpy(out + 2, value, len);
	return len + 2;
}

/* A dealer's key: its territory and name ("D:CODE\x1fNAME"); a name is
 * one per territory, so that a file imported twice makes no second one. */
static size_t dealer_key(char out[ROVE_MAX_STR + 3], const char *terr, const char *name)
{
	size_t t = strnlen(terr, ROVE_MAX_NAME), n = strnlen(name, ROVE_MAX_STR - ROVE_MAX_NAME - 1);

	out[0] = 'D';
	out[1] = ':';
	memcpy(out + 2, terr, t);
	out[2 + t] = '\x1f';
	memcpy(out + 3 + t, name, n);
	return 3 + t + n;
}

static bool key_has(const key_set *ks, char kind, const char *value)
{
	char key[ROVE_MAX_STR + 3];
	size_t len = make_key(key, kind, value);

	return key_find(ks, key, len, key_hash(key, len)) != NULL;
}

typedef struct import_row {
	size_t off;         /* its cells in the importer's text */
	unsigned long line; /* where it starts in the file */
} import_row;

/* A territory of the replica, for a rep's customers: its pool's limit on
 * the customers one rep holds there (0: none), how many the rep holds,
 * and how many rows of the file add. */
typedef struct import_terr {
	char code[ROVE_MAX_NAME + 1];
	int64_t limit;
	size_t held, rows;
} import_terr;

/* A territory of the replica and its parent ("" for a root), for the
 * territories above a customer's. */
typedef struct import_tree {
	char code[ROVE_MAX_NAME + 1], parent[ROVE_MAX_NAME + 1];
} import_tree;

/* A user the server showed (`rove admin user list`), for an owner column:
 * their territories one after another, each NUL-terminated. */
typedef struct import_user {
	char login[ROVE_MAX_NAME + 1];
	int role;
	bool disabled;
	uint32_t nterr;
	char *terrs;
} import_user;

typedef struct importer {
	const rove_coll_def *c;
	const char *file; /* as shown in messages */
	rove_replica *r;
	uint64_t version; /* the replica's, read before what rows are checked against */
	int role;         /* the replica's user's (0: not known before a first sync) */
	bool boss;        /* a manager or an admin */
	uint64_t now_ms;  /* the replica's time (rove_replica_now_ms) */
	char today[32]; /* its date (out_time): a deal closed without a day is closed today */
	ref_index refs;   /* the customers a child row may name */
	import_terr *terrs; /* a rep's territories with a pool limit */
	size_t nterrs, terrs_cap;
	import_tree *tree; /* the replica's territories; key "P:CODE" is line i + 1 */
	size_t ntree, tree_cap;
	/* An owner column of a manager's or admin's file is checked against
	 * the server's users (the replica holds none): whether a row names
	 * one, and the users once asked for (key "U:LOGIN" is line i + 1). */
	bool owners_named, users_known, users_nomem;
	import_user *users;
	size_t nusers, users_cap;
	key_set user_keys;
	rove_record *customer; /* a deal row's customer (row_deal_owner), or NULL */
	size_t ncols;
	size_t id_col; /* an export's id column, or ncols: none */
	const rove_field_def *col[ROVE_MAX_IMPORT_COLUMNS]; /* NULL: an ignored column */
	key_set keys;                                  /* see make_key; customers' rove_uniq_keys */
	key_set twin_taxes; /* a child import's: tax ids two customers of the replica hold (keys' form) */
	rove_uniq_key uniq[ROVE_UNIQ_KEYS];            /* scratch */
	size_t nterr;                                  /* territories the replica holds */
	char one_terr[ROVE_MAX_NAME + 1];              /* the first of them */
	bool row_bad;
	size_t shown;    /* problems reported (the first ROVE_MAX_IMPORT_SHOWN) */
	size_t bad_rows; /* data rows; a bad header stops the check */
	bool file_bad;   /* the header, or the file as a whole */
	char *text; /* the rows' cells, NUL-terminated, one after another */
	size_t text_len, text_cap;
	import_row *rows;
	size_t nrows, rows_cap;
	/* Child rows that repeat a record this replica holds, or a row
	 * before them, in every column the file has (content_key). */
	size_t repeats;
	unsigned long repeat_line; /* the first such row */
	unsigned long repeat_of;   /* the row it repeats, or 0: a record held */
	rove_uuid *custs;          /* the customers child rows name, once each */
	size_t ncusts, custs_cap;
} importer;

__attribute__((format(printf, 3, 4))) static void row_error(importer *im, unsigned long line, const char *fmt,
							     ...)
{
	char msg[ROVE_MAX_ERRMSG * 2];
	va_list ap;

	im->row_bad = true;
	if (im->shown++ >= ROVE_MAX_IMPORT_SHOWN)
		return; /* the summary says how many more */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rove_error("%s:%lu: %s", im->file, line, msg);
}

/* The territory code names among those with a pool limit, or NULL. */
static import_terr *terr_limited(importer *im, const char *code)
{
	for (size_t i = 0; code != NULL && i < im->nterrs; i++)
		if (strcmp(im->terrs[i].code, code) == 0)
			return &im->terrs[i];
	return NULL;
}

static int tree_add(importer *im, const char *code, const char *parent)
{
	char key[ROVE_MAX_STR + 3];
	const key_slot *dup;
	import_tree *t = rove_array_room(im->tree, im->ntree, &im->tree_cap, sizeof(*t));

	if (t == NULL)
		return ROVE_ENOMEM;
	im->tree = t;
	t = &im->tree[im->ntree];
	snprintf(t->code, sizeof(t->code), "%s", code);
	snprintf(t->parent, sizeof(t->parent), "%s", parent != NULL ? parent : "");
	im->ntree++;
	return key_put(&im->keys, key, make_key(key, 'P', code), im->ntree, NULL, &dup);
}

/* The parent of territory code in the replica, or NULL (a root, or none). */
static const char *tree_parent(const importer *im, const char *code)
{
	char key[ROVE_MAX_STR + 3];
	size_t len = make_key(key, 'P', code);
	const key_slot *s = key_find(&im->keys, key, len, key_hash(key, len));

	if (s == NULL || im->tree[s->line - 1].parent[0] == '\0')
		return NULL;
	return im->tree[s->line - 1].parent;
}

static int load_record(const rove_record *rec, void *arg)
{
	importer *im = arg;
	char key[ROVE_MAX_STR + 3];
	const key_slot *dup;
	int rc = ROVE_OK;

	if (rec->coll == ROVE_COLL_TERRITORY) {
		const char *code = rove_fields_str(&rec->fs, "code");
		int64_t limit = 0;
		if (code == NULL || code[0] == '\0')
			return ROVE_OK;
		if (im->nterr++ == 0)
			snprintf(im->one_terr, sizeof(im->one_terr), "%s", code);
		rc = tree_add(im, code, rove_fields_str(&rec->fs, "parent"));
		if (rc != ROVE_OK)
			return rc;
		/* A rep's customers count against their pool's limit (rule 11). */
		if (im->role == ROVE_ROLE_REP && im->c->id == ROVE_COLL_CUSTOMER &&
		    rove_fields_int(&rec->fs, "pool_limit", &limit) && limit > 0) {
			import_terr *t = rove_array_room(im->terrs, im->nterrs, &im->terrs_cap, sizeof(*t));
			if (t == NULL)
				return ROVE_ENOMEM;
			im->terrs = t;
			t = &im->terrs[im->nterrs++];
			snprintf(t->code, sizeof(t->code), "%s", code);
			t->limit = limit;
			t->held = t->rows = 0;
		}
		return key_put(&im->keys, key, make_key(key, 'T', code), 0, &rec->id, &dup);
	}
	if (rec->coll == ROVE_COLL_DEALER) {
		const char *terr = rove_fields_str(&rec->fs, "territory"), *name = rove_fields_str(&rec->fs, "name");
		if (terr == NULL || name == NULL || rove_record_deleted(rec))
			return ROVE_OK;
		return key_put(&im->keys, key, dealer_key(key, terr, name), 0, &rec->id, &dup);
	}
	if (im->c->id == ROVE_COLL_CUSTOMER) {
		/* Its uniqueness keys, as a row's will be compared (older
		 * records may hold a tax id as it was typed). */
		rove_uniq_key *k = im->uniq;
		int n = rove_uniq_keys(&rec->fs, k);
		const char *owner = rove_fields_str(&rec->fs, "owner");
		import_terr *t = terr_limited(im, rove_fields_str(&rec->fs, "territory"));

		if (t != NULL && owner != NULL && strcmp(owner, im->r->auth.user) == 0)
			t->held++;
		for (int i = 0; rc == ROVE_OK && i < n; i++)
			rc = key_put(&im->keys, k[i].key, k[i].len, 0, &rec->id, &dup);
	} else {
		/* A child row names its customer by id, the start or end of
		 * one, or tax id (its key). Reps write under their own
		 * customers only (rule 4). */
		const char *owner = rove_fields_str(&rec->fs, "owner");
		uint8_t reach = REF_WRITABLE;
		if (im->role == ROVE_ROLE_REP)
			reach = owner == NULL ? REF_POOL : strcmp(owner, im->r->auth.user) == 0 ? REF_WRITABLE : REF_OTHERS;
		rc = ref_index_add(&im->refs, &rec->id, reach);
		if (rc == ROVE_OK && rove_uniq_key_make("tax_id", rove_fields_str(&rec->fs, "tax_id"), &im->uniq[0])) {
			dup = NULL;
			rc = key_put(&im->keys, im->uniq[0].key, im->uniq[0].len, 0, &rec->id, &dup);
			/* its own create the server is to refuse, and another's
			 * (attack 109: a row went under the first of the two) */
			if (rc == ROVE_OK && dup != NULL && dup->line == 0)
				rc = key_put(&im->twin_taxes, im->uniq[0].key, im->uniq[0].len, 0, &rec->id, &dup);
		}
	}
	return rc;
}

/* A record of the collection imported, by id ("I:ID"), for a file with an
 * id column. */
static int load_id(const rove_record *rec, void *arg)
{
	importer *im = arg;
	char key[ROVE_MAX_STR + 3], ids[ROVE_UUID_STRLEN + 1];
	const key_slot *dup;

	rove_uuid_format(&rec->id, ids);
	return key_put(&im->keys, key, make_key(key, 'I', ids), 0, &rec->id, &dup);
}

/* FNV-1a over len bytes at p, on from h. */
static uint64_t fnv_more(uint64_t h, const void *p, size_t len)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 1099511628211u;
	return h;
}

/* The key of what fs holds in the file's columns (but an id column):
 * "R:" and a 64-bit hash of each column's value in turn, so that a row
 * and a record are compared on what the file says. */
static size_t content_key(const importer *im, const rove_fields *fs, char out[ROVE_MAX_STR + 3])
{
	uint64_t h = 14695981039346656037u;

	for (size_t j = 0; j < im->ncols; j++) {
		const rove_field *f;
		char num[24];
		if (im->col[j] == NULL || j == im->id_col)
			continue;
		f = rove_fields_get(fs, im->col[j]->name);
		if (f != NULL && f->v.type == ROVE_V_STR)
			h = fnv_more(h, f->v.s, f->v.len);
		else if (f != NULL && f->v.type == ROVE_V_INT)
			h = fnv_more(h, num, (size_t)snprintf(num, sizeof(num), "#%" PRId64, f->v.i));
		h = fnv_more(h, "\x1f", 1);
	}
	return (size_t)snprintf(out, ROVE_MAX_STR + 3, "R:%016" PRIx64, h);
}

static int import_load_ids(importer *im)
{
	return im->id_col < im->ncols ? rove_replica_each(im->r, im->c->id, load_id, im) : ROVE_OK;
}

/* A child row that repeats a row before it, in every column the file
 * has: counted (said once the file is read: imported all the same, as
 * two visits or contacts alike may be meant); its key kept for
 * repeats_held, its customer noted ("K:" key, once). */
static int row_repeat(importer *im, const rove_op *op, unsigned long line)
{
	char key[ROVE_MAX_STR + 3];
	const char *cust = rove_fields_str(&op->fs, rove_schema_parent_field(im->c)->name);
	const key_slot *dup = NULL;
	rove_uuid id;
	int rc = key_put(&im->keys, key, content_key(im, &op->fs, key), line, NULL, &dup);

	if (rc == ROVE_OK && dup != NULL && im->repeats++ == 0) {
		im->repeat_line = line;
		im->repeat_of = dup->line;
	}
	if (rc == ROVE_OK && dup == NULL && cust != NULL && rove_uuid_parse(cust, &id) == ROVE_OK) {
		size_t len = make_key(key, 'K', cust);
		if (key_find(&im->keys, key, len, key_hash(key, len)) == NULL) {
			rove_uuid *c = rove_array_room(im->custs, im->ncusts, &im->custs_cap, sizeof(*c));
			if (c == NULL)
				return ROVE_ENOMEM;
			im->custs = c;
			im->custs[im->ncusts++] = id;
			rc = key_put(&im->keys, key, len, line, &id, &dup);
		}
	}
	return rc;
}

static int held_repeat(const rove_record *rec, bool pending, void *arg)
{
	importer *im = arg;
	char key[ROVE_MAX_STR + 3];
	size_t len = content_key(im, &rec->fs, key);
	key_slot *s = key_find(&im->keys, key, len, key_hash(key, len));

	(void)pending;
	if (s != NULL && s->line > 0) {
		if (im->repeats++ == 0 || im->repeat_of > 0) {
			im->repeat_line = s->line;
			im->repeat_of = 0;
		}
		s->line = 0; /* counted once */
	}
	return ROVE_OK;
}

/* Child rows that repeat a record this replica holds (a file imported
 * twice, attack sixty-eight: every contact made again, without a word):
 * the children of the file's customers alone, through the index. */
static int repeats_held(importer *im)
{
	int rc = ROVE_OK;

	for (size_t i = 0; rc == ROVE_OK && rove_schema_parent_field(im->c) != NULL && i < im->ncusts; i++)
		rc = rove_replica_each_child(im->r, im->c->id, &im->custs[i], held_repeat, im);
	return rc;
}

/* What the replica holds that rows are checked against: territories
 * (a customer's or dealer's, a deal owner's), then customers (their tax ids and phones,
 * or those child rows may name). */
static int import_load(importer *im)
{
	bool top = rove_schema_parent_field(im->c) == NULL;
	int rc = rove_replica_version(im->r, &im->version);

	if (rc != ROVE_OK)
		return rc;
	im->role = rove_role_parse(im->r->role);
	im->boss = im->role == ROVE_ROLE_MANAGER || im->role == ROVE_ROLE_ADMIN;
	im->now_ms = rove_replica_now_ms(im->r);
	out_time(im->now_ms, im->today, sizeof(im->today));
	/* A deal's owner, a manager, may hold a territory above its
	 * customer's (row_owner walks the tree up). */
	if (top || (im->boss && im->c->id == ROVE_COLL_OPPORTUNITY))
		rc = rove_replica_each(im->r, ROVE_COLL_TERRITORY, load_record, im);
	if (rc == ROVE_OK && im->c->id != ROVE_COLL_DEALER)
		rc = rove_replica_each(im->r, ROVE_COLL_CUSTOMER, load_record, im);
	if (rc == ROVE_OK && im->c->id == ROVE_COLL_DEALER)
		rc = rove_replica_each(im->r, ROVE_COLL_DEALER, load_record, im);
	if (rc == ROVE_OK && !top)
		rc = ref_index_sort(&im->refs);
	if (rc == ROVE_OK)
		rc = import_load_ids(im); /* once the header is read */
	return rc;
}

static void importable_columns(const rove_coll_def *c, char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < c->nfields; i++) {
		int k;
		if (!column_importable(&c->fields[i]))
			continue;
		k = snprintf(out + n, len - n, "%s%s", n ? ", " : "", c->fields[i].name);
		if (k < 0 || (size_t)k >= len - n)
			break;
		n += (size_t)k;
	}
}

/* Maps the header's columns to fields; reports every problem. */
static int import_header(importer *im, rove_csv *csv)
{
	char names[ROVE_MAX_IMPORT_COLUMNS][ROVE_MAX_FIELD_NAME + 1];
	unsigned long line = rove_csv_line(csv);
	char exported[256] = "", boss[64] = ""; /* the columns ignored, for the note */

	im->ncols = im->id_col = rove_csv_ncells(csv);
	for (size_t j = 0; j < im->ncols; j++) {
		const char *cell = rove_csv_cell(csv, j);
		const rove_field_def *fd;
		size_t len;

		/* Spaces around a column name are a spreadsheet's, not part of it. */
		while (*cell == ' ' || *cell == '\t')
			cell++;
		for (len = strlen(cell); len > 0 && (cell[len - 1] == ' ' || cell[len - 1] == '\t'); len--)
			;
		names[j][0] = '\0';
		im->col[j] = NULL;
		if (len == 0) {
			row_error(im, line, "column %zu has no name", j + 1);
			continue;
		}
		if (len > ROVE_MAX_FIELD_NAME) {
			row_error(im, line, "unknown column '%.*s'", shown(cell), cell);
			continue;
		}
		/* Field names are lower case; a spreadsheet's "Name" is name
		 * (attack seventy-three: an unknown column). */
		for (size_t k = 0; k < len; k++)
			names[j][k] = (char)(cell[k] >= 'A' && cell[k] <= 'Z' ? cell[k] - 'A' + 'a' : cell[k]);
		names[j][len] = '\0';
		for (size_t k = 0; k < j; k++) {
			if (strcmp(names[k], names[j]) == 0) {
				row_error(im, line, "column '%s' appears twice (columns %zu and %zu)", names[j], k + 1,
					  j + 1);
				break;
			}
		}
		fd = rove_schema_field(im->c, names[j]);
		if (column_boss_only(fd)) {
			im->col[j] = im->boss ? fd : NULL;
			if (!im->boss)
				snprintf(boss, sizeof(boss), "%s", fd->name);
			continue;
		}
		if (column_exported(names[j], fd)) {
			/* A file 'rove export' wrote imports as it is; said on
			 * stderr, so that nobody takes the ids as kept. */
			size_t n = strlen(exported);
			if (fd == NULL)
				im->id_col = j;
			snprintf(exported + n, sizeof(exported) - n, "%s%s", n > 0 ? ", " : "", fd != NULL ? fd->name : "id");
			continue;
		}
		if (fd == NULL) {
			char cols[256];
			importable_columns(im->c, cols, sizeof(cols));
			row_error(im, line, "unknown column '%s' (%s columns: %s)", names[j], im->c->name, cols);
		} else if (!column_importable(fd)) {
			row_error(im, line, "column '%s' cannot be imported: the server sets it", names[j]);
		} else {
			im->col[j] = fd;
		}
	}
	if (exported[0] != '\0' && !im->row_bad)
		rove_warn("%s: column%s %s ignored (an import makes new records, with new ids: a row whose id is a "
			  "record this replica holds is refused, as a second copy; the server sets the rest)",
			  im->file, strchr(exported, ',') != NULL ? "s" : "", exported);
	if (boss[0] != '\0' && !im->row_bad)
		rove_warn("%s: column %s ignored (%s)", im->file, boss,
			  im->role == 0 ? "the server decides it for a replica not synced yet"
					: "a rep's records are the rep's: managers and admins name the owner");
	for (size_t i = 0; i < im->c->nfields; i++) {
		const rove_field_def *fd = &im->c->fields[i];
		bool found = false;
		if (!(fd->flags & ROVE_FF_REQUIRED))
			continue;
		for (size_t j = 0; j < im->ncols && !found; j++)
			found = strcmp(names[j], fd->name) == 0;
		if (!found)
			row_error(im, line, "missing column '%s' (it is required)", fd->name);
	}
	return im->row_bad ? ROVE_EINVAL : ROVE_OK;
}

/* The territory a customer row leaves empty: the replica's only one. */
static int row_territory(importer *im, unsigned long line, rove_op *op)
{
	const char *terr = rove_fields_str(&op->fs, "territory");

	if (terr != NULL) {
		/* Before the first sync the replica knows nothing: the
		 * server decides. After it, a replica holding no territory
		 * holds none of the file's either. */
		if (im->role != 0 && !key_has(&im->keys, 'T', terr))
			row_error(im, line,
				  "no territory '%s' in this replica (one assigned since the last sync arrives with "
				  "'rove sync')",
				  terr);
		return ROVE_OK;
	}
	if (im->nterr == 1)
		return rove_op_set(op, "territory", rove_vcstr(im->one_terr));
	/* The server puts a rep's create in their only territory; with
	 * several, someone has to choose; with none (all taken away), the
	 * server refuses it, as `customer add` does at once. */
	if (im->role != 0 && im->nterr != 1 && (strcmp(im->r->role, "rep") == 0 || strcmp(im->r->role, "manager") == 0))
		row_error(im, line, "territory is empty, and this replica holds %zu territories%s", im->nterr,
			  im->nterr == 0 ? ": a customer needs one" : "");
	return ROVE_OK;
}

/* A customer cell "tax_id:XXXX": the id of the customer this replica
 * holds with that tax id (compared normalised) into canon; false, with
 * the row's error reported, if there is none or XXXX is no tax id. */
static bool customer_by_tax_id(importer *im, unsigned long line, const char *fname, const char *text,
			       char canon[ROVE_UUID_STRLEN + 1])
{
	const char *tax = text + strlen(REF_TAX_PREFIX);
	char norm[ROVE_MAX_STR + 1], why[ROVE_MAX_ERRMSG];
	size_t n = rove_taxid_normalise(tax, strlen(tax), norm, sizeof(norm));
	const key_slot *s = NULL;

	if (n == 0) {
		row_error(im, line, "%s '%.*s' names no tax id", fname, shown(text), text);
		return false;
	}
	if (n >= sizeof(norm) || !rove_taxid_valid(norm, n, why, sizeof(why))) {
		row_error(im, line, "%s: tax_id '%.*s' is not a 统一社会信用代码%s%s", fname, shown(tax), tax,
			  n < sizeof(norm) ? ": " : "", n < sizeof(norm) ? why : "");
		return false;
	}
	if (rove_uniq_key_make("tax_id", norm, &im->uniq[0]))
		s = key_find(&im->keys, im->uniq[0].key, im->uniq[0].len, key_hash(im->uniq[0].key, im->uniq[0].len));
	if (s == NULL || s->line != 0) {
		row_error(im, line, "no customer with tax_id '%s' in this replica", norm);
		return false;
	}
	if (key_find(&im->twin_taxes, im->uniq[0].key, im->uniq[0].len, key_hash(im->uniq[0].key, im->uniq[0].len)) != NULL) {
		row_error(im, line,
			  "two customers in this replica hold tax_id '%s', one the server has not confirmed ('rove "
			  "sync' first: the server refuses one of the two as a duplicate)",
			  norm);
		return false;
	}
	rove_uuid_format(&s->id, canon);
	return true;
}

/* A child row's customer cell: an id, the start or end of one, or
 * tax_id:XXXX; the customer's whole id into canon, or false with the
 * row's error reported. Reps add records only under their own customers
 * (rule 4): one of the pool or another rep's is refused here, as the
 * server would. */
static bool row_customer(importer *im, unsigned long line, const char *fname, const char *text,
			 char canon[ROVE_UUID_STRLEN + 1])
{
	const ref_entry *e = NULL;
	size_t n;
	int rc;

	if (strncmp(text, REF_TAX_PREFIX, strlen(REF_TAX_PREFIX)) == 0) {
		if (!customer_by_tax_id(im, line, fname, text, canon))
			return false;
		rc = ref_index_find(&im->refs, canon, &e, &n);
		ROVE_ASSERT(rc == ROVE_OK); /* the customers' tax ids and ids were loaded together */
	} else {
		rc = ref_index_find(&im->refs, text, &e, &n);
		if (rc == ROVE_EINVAL) {
			row_error(im, line,
				  "%s '%.*s' is no customer id (an id, at least %d characters of its start or end, or "
				  "tax_id:XXXX)",
				  fname, shown(text), text, ROVE_MIN_ID_ABBREV);
			return false;
		}
		if (rc == ROVE_ENOTFOUND) {
			row_error(im, line, "no customer '%.*s' in this replica", shown(text), text);
			return false;
		}
		if (rc == ROVE_EEXIST) {
			row_error(im, line, "%s '%.*s' is the start or end of %zu customer ids; give more of it", fname,
				  shown(text), text, n);
			return false;
		}
		rove_uuid_format(&e->id, canon);
	}
	if (e->reach == REF_POOL) {
		row_error(im, line, "not_owner: customer %s is in the public pool: claim it first", canon);
		return false;
	}
	if (e->reach == REF_OTHERS) {
		row_error(im, line, "not_owner: customer %s belongs to someone else", canon);
		return false;
	}
	return true;
}

/* What a row's op must be beyond its values, as the server will judge it
 * (the replica's part of it): the role's rules, a dealer's territory, an
 * activity's time and a deal's closed_on. */
static int row_rules(importer *im, unsigned long line, rove_op *op)
{
	char detail[ROVE_MAX_ERRMSG];
	int reason;

	if (im->c->id == ROVE_COLL_DEALER) {
		const char *terr = rove_fields_str(&op->fs, "territory");
		if (terr != NULL && im->role != 0 && !key_has(&im->keys, 'T', terr))
			row_error(im, line, "no territory '%s' in this replica (%s)", terr,
				  im->role == ROVE_ROLE_MANAGER ? "a manager keeps the dealers of his territories"
								: "one added since the last sync arrives with 'rove sync'");
	}
	if (im->c->id == ROVE_COLL_ACTIVITY) {
		const char *at = rove_fields_str(&op->fs, "at");
		int rc = ROVE_OK;
		if (at != NULL && rove_rules_check_at(at, im->now_ms, detail, sizeof(detail)) != ROVE_R_NONE)
			row_error(im, line, "%s", detail);
		if (at == NULL) /* as 'activity add': now, by this replica's clock */
			rc = rove_op_set(op, "at", rove_vcstr(im->today));
		if (rc == ROVE_OK) /* the server names the author; until then, the view */
			rc = rove_op_set(op, "author", rove_vcstr(im->r->auth.user));
		if (rc != ROVE_OK)
			return rc;
	}
	if (im->c->id == ROVE_COLL_OPPORTUNITY && rove_fields_str(&op->fs, "stage") == NULL) {
		/* as 'opportunity add': a deal without a stage is a lead */
		int rc = rove_op_set(op, "stage", rove_vcstr("lead"));
		if (rc != ROVE_OK)
			return rc;
	}
	if (im->c->id == ROVE_COLL_OPPORTUNITY) {
		const char *stage = rove_fields_str(&op->fs, "stage");
		const char *closed = rove_fields_str(&op->fs, "closed_on");
		bool is_closed = rove_rules_deal_closed(stage);
		if (closed != NULL && !is_closed)
			row_error(im, line, "closed_on is for won or lost deals (stage is %s)", stage ? stage : "empty");
		else if (closed != NULL && im->role == ROVE_ROLE_REP)
			row_error(im, line, "closed_on: a rep's deal closes the day the server hears of it; managers "
					    "and admins import past deals with their day (leave closed_on empty)");
		else if (closed != NULL &&
			 rove_rules_check_closed_on(closed, im->now_ms, detail, sizeof(detail)) != ROVE_R_NONE)
			row_error(im, line, "%s", detail);
		else if (closed == NULL && is_closed) /* as 'opportunity stage': closed today */
			return rove_op_set(op, "closed_on", rove_vstr(im->today, 10));
	}
	reason = im->role != 0 ? rove_rules_check_op(im->role, op, detail, sizeof(detail)) : ROVE_R_NONE;
	if (reason != ROVE_R_NONE)
		row_error(im, line, "%s: %s", rove_reason_name(reason), detail);
	return ROVE_OK;
}

/* Builds the create op of one row into op, reporting every bad value.
 * Returns a rove error only for a failure that is not the row's. */
static int row_op(importer *im, const char *const *cells, unsigned long line, rove_op *op)
{
	rove_stamp st0 = {{0}, 0};
	rove_uuid id;
	char why[ROVE_MAX_ERRMSG];
	int rc;

	rove_uuid_new(&id);
	rove_op_init(op, ROVE_OP_CREATE, im->c->id, &id, st0);
	for (size_t j = 0; j < im->ncols; j++) {
		const rove_field_def *fd = im->col[j];
		const char *text = cells[j];
		char canon[ROVE_UUID_STRLEN + 1];
		rove_uuid ref;
		rove_value v;

		if (fd == NULL)
			continue;
		if (text[0] == '\0') {
			if (fd->flags & ROVE_FF_REQUIRED)
				row_error(im, line, "%s is empty (it is required)", fd->name);
			continue;
		}
		if (fd->flags & ROVE_FF_PARENT) {
			if (!row_customer(im, line, fd->name, text, canon))
				continue;
			text = canon;
		} else if (fd->type == ROVE_FT_REF && rove_uuid_parse(text, &ref) == ROVE_OK) {
			rove_uuid_format(&ref, canon); /* ids are lower case everywhere */
			text = canon;
		}
		if (rove_schema_parse(fd, text, &v, why, sizeof(why)) != ROVE_OK) {
			row_error(im, line, "%s", why);
			continue;
		}
		rc = rove_op_set(op, fd->name, v);
		if (rc == ROVE_ENOMEM)
			return rc;
		if (rc != ROVE_OK)
			row_error(im, line, "%s: %s", fd->name, rove_strerror(rc));
	}
	if (im->c->id == ROVE_COLL_CUSTOMER) {
		/* As `customer add` does (unless a manager or admin names
		 * the owner); the server decides. */
		rc = rove_rules_role_may_own(im->role) && rove_fields_get(&op->fs, "owner") == NULL
			     ? rove_op_set(op, "owner", rove_vcstr(im->r->auth.user))
			     : ROVE_OK;
		if (rc == ROVE_OK)
			rc = row_territory(im, line, op);
		if (rc != ROVE_OK)
			return rc;
	}
	/* The one check the command line and the server make: values
	 * normalised (the tax id row_unique compares, times in UTC), then
	 * checked; then the rules. */
	if (!im->row_bad && rove_schema_clean_op(op, why, sizeof(why)) != ROVE_OK)
		row_error(im, line, "%s", why);
	if (!im->row_bad)
		return row_rules(im, line, op);
	return ROVE_OK;
}

/* A rep's customer row counts against the pool limit of its territory
 * (rule 11: the customers one rep may hold there), with those the rep
 * holds and the rows before it. */
static void row_pool_limit(importer *im, const rove_op *op, unsigned long line)
{
	import_terr *t = terr_limited(im, rove_fields_str(&op->fs, "territory"));

	if (t == NULL || im->role != ROVE_ROLE_REP)
		return;
	if (t->held + ++t->rows > (size_t)t->limit)
		row_error(im, line, "limit: this would be your customer number %zu in %s, which allows %lld",
			  t->held + t->rows, t->code, (long long)t->limit);
}

/* A customer row's tax id and phone: unique in the file and among the
 * customers the replica holds. */
static int row_unique(importer *im, const rove_op *op, unsigned long line)
{
	rove_uniq_key *k = im->uniq;
	int n = rove_uniq_keys(&op->fs, k);

	for (int i = 0; i < n; i++) {
		const char *val = rove_fields_str(&op->fs, k[i].field);
		char ids[ROVE_UUID_STRLEN + 1];
		const key_slot *dup;
		int rc = key_put(&im->keys, k[i].key, k[i].len, line, NULL, &dup);

		if (rc != ROVE_OK)
			return rc;
		if (dup == NULL)
			continue;
		if (dup->line == 0) {
			rove_uuid_format(&dup->id, ids);
			row_error(im, line, "duplicate: %s '%.*s' belongs to customer %s", k[i].field, shown(val), val,
				  ids);
		} else {
			row_error(im, line, "%s '%.*s' is also on line %lu", k[i].field, shown(val), val, dup->line);
		}
	}
	return ROVE_OK;
}

/* Keeps a user of the server's answer (cmd_admin_users). */
static void keep_user(const cli_admin_user *u, void *arg)
{
	importer *im = arg;
	char key[ROVE_MAX_STR + 3];
	const key_slot *dup;
	import_user *t;
	size_t len = 0;

	if (im->users_nomem)
		return;
	t = rove_array_room(im->users, im->nusers, &im->users_cap, sizeof(*t));
	if (t == NULL) {
		im->users_nomem = true;
		return;
	}
	im->users = t;
	t = &im->users[im->nusers];
	snprintf(t->login, sizeof(t->login), "%s", u->login);
	t->role = rove_role_parse(u->role);
	t->disabled = u->disabled;
	t->nterr = u->nterr;
	for (uint32_t i = 0; i < u->nterr; i++)
		len += strlen(u->terr[i]) + 1;
	t->terrs = malloc(len + 1);
	if (t->terrs == NULL) {
		im->users_nomem = true;
		return;
	}
	len = 0;
	for (uint32_t i = 0; i < u->nterr; i++) {
		size_t n = strlen(u->terr[i]) + 1;
		memcpy(t->terrs + len, u->terr[i], n);
		len += n;
	}
	im->nusers++;
	if (key_put(&im->user_keys, key, make_key(key, 'U', t->login), im->nusers, NULL, &dup) != ROVE_OK)
		im->users_nomem = true;
}

static void users_free(importer *im)
{
	for (size_t i = 0; i < im->nusers; i++)
		free(im->users[i].terrs);
	free(im->users);
	key_set_free(&im->user_keys);
}

static const char *import_parent(const char *code, void *arg)
{
	return tree_parent(arg, code);
}

/* A row's owner, named by a manager or an admin, as the server checks it
 * on sync (rec_owner_rule), with a customer's territory or a deal's
 * customer's. A manager's own name is his to check (the default); an
 * admin owns nothing. */
static void row_owner(importer *im, unsigned long line, const char *owner, const char *terr, bool closed)
{
	char key[ROVE_MAX_STR + 3], detail[ROVE_MAX_ERRMSG];
	size_t len;
	const key_slot *s;
	const import_user *iu;
	rec_user u;
	const char *p;

	if (owner == NULL || (strcmp(owner, im->r->auth.user) == 0 && rove_rules_role_may_own(im->role)))
		return;
	if (!im->users_known) {
		im->owners_named = true;
		return;
	}
	len = make_key(key, 'U', owner);
	s = key_find(&im->user_keys, key, len, key_hash(key, len));
	if (s == NULL) {
		row_error(im, line, "owner: no user '%.*s'%s", shown(owner), owner,
			  im->role == ROVE_ROLE_ADMIN ? "" : " in your territories");
		return;
	}
	iu = &im->users[s->line - 1];
	u = (rec_user){iu->login, iu->role, iu->disabled,
		       iu->nterr < ROVE_MAX_USER_TERRITORIES ? iu->nterr : ROVE_MAX_USER_TERRITORIES, {NULL}};
	p = iu->terrs;
	for (uint32_t i = 0; i < iu->nterr && i < ROVE_MAX_USER_TERRITORIES; i++, p += strlen(p) + 1)
		u.terr[i] = p;
	if (rec_owner_rule(im->role, &u, im->c->id != ROVE_COLL_CUSTOMER, closed, terr, import_parent, im, detail,
			   sizeof(detail)) != ROVE_R_NONE)
		row_error(im, line, "owner: %s", detail);
}

/* A deal row's owner (row_owner), against its customer's territory as
 * this replica holds it. */
static int row_deal_owner(importer *im, const rove_op *op, unsigned long line)
{
	const char *owner = rove_fields_str(&op->fs, "owner"), *stage = rove_fields_str(&op->fs, "stage");
	const char *cid = rove_fields_str(&op->fs, "customer");
	bool closed = rove_rules_deal_closed(stage);
	rove_uuid id;
	int rc;

	if (owner == NULL || cid == NULL || rove_uuid_parse(cid, &id) != ROVE_OK)
		return ROVE_OK; /* the default, or reported */
	if (im->customer == NULL && (im->customer = malloc(sizeof(*im->customer))) == NULL)
		return ROVE_ENOMEM;
	rc = rove_replica_get(im->r, ROVE_COLL_CUSTOMER, &id, im->customer);
	if (rc == ROVE_ENOTFOUND) /* found by row_customer: gone since, the server's to say */
		return ROVE_OK;
	if (rc != ROVE_OK)
		return rc;
	row_owner(im, line, owner, rove_fields_str(&im->customer->fs, "territory"), closed);
	return ROVE_OK;
}

/* A dealer row's name: one per territory, in the file and among the
 * dealers the replica holds. */
static int row_dealer_unique(importer *im, const rove_op *op, unsigned long line)
{
	const char *terr = rove_fields_str(&op->fs, "territory"), *name = rove_fields_str(&op->fs, "name");
	char key[ROVE_MAX_STR + 3], ids[ROVE_UUID_STRLEN + 1];
	const key_slot *dup;
	int rc;

	if (terr == NULL || name == NULL)
		return ROVE_OK; /* reported as missing */
	rc = key_put(&im->keys, key, dealer_key(key, terr, name), line, NULL, &dup);
	if (rc != ROVE_OK || dup == NULL)
		return rc;
	if (dup->line == 0) {
		rove_uuid_format(&dup->id, ids);
		row_error(im, line, "duplicate: dealer '%.*s' of %s is %s already", shown(name), name, terr, ids);
	} else {
		row_error(im, line, "dealer '%.*s' of %s is also on line %lu", shown(name), name, terr, dup->line);
	}
	return ROVE_OK;
}

/* Keeps a row's cells for writing. */
static int keep_row(importer *im, const char *const *cells, unsigned long line)
{
	size_t need = 0;
	import_row *rows;
	char *text;

	for (size_t j = 0; j < im->ncols; j++)
		need += strlen(cells[j]) + 1;
	text = rove_array_grow(im->text, &im->text_cap, im->text_len, need, 1, 1u << 20);
	if (text == NULL)
		return ROVE_ENOMEM;
	im->text = text;
	rows = rove_array_grow(im->rows, &im->rows_cap, im->nrows, 1, sizeof(*rows), 1024);
	if (rows == NULL)
		return ROVE_ENOMEM;
	im->rows = rows;
	im->rows[im->nrows].off = im->text_len;
	im->rows[im->nrows].line = line;
	im->nrows++;
	for (size_t j = 0; j < im->ncols; j++) {
		size_t len = strlen(cells[j]) + 1;
		memcpy(im->text + im->text_len, cells[j], len);
		im->text_len += len;
	}
	return ROVE_OK;
}

/* A customer row's dealer is a dealer of its territory or above (rule
 * 13): checked where the replica holds the dealer and the tree between,
 * as 'customer add' does (attack seventy: a dry run said "would import",
 * the server then refused it); on an admin's replica, which holds every
 * dealer as of its last sync, a dealer it does not hold is none (attack
 * 108: another server's dealer ids in an export imported, and the server
 * refused those rows, the rest of the file accepted). */
static int row_dealer_reach(importer *im, const rove_op *op, unsigned long line)
{
	const char *dealer = rove_fields_str(&op->fs, "dealer"), *terr = rove_fields_str(&op->fs, "territory");
	char dterr[ROVE_MAX_NAME + 1];
	const char *at;
	rove_uuid id;
	int rc;

	if (dealer == NULL || terr == NULL || rove_uuid_parse(dealer, &id) != ROVE_OK)
		return ROVE_OK;
	if (im->customer == NULL && (im->customer = malloc(sizeof(*im->customer))) == NULL)
		return ROVE_ENOMEM;
	rc = rove_replica_get(im->r, ROVE_COLL_DEALER, &id, im->customer);
	if (rc == ROVE_ENOTFOUND && im->role == ROVE_ROLE_ADMIN) {
		row_error(im, line, "invalid: no dealer %s in this replica (as of its last sync: 'rove sync' if it is new)",
			  dealer);
		return ROVE_OK;
	}
	if (rc == ROVE_ENOTFOUND || (rc == ROVE_OK && rove_fields_str(&im->customer->fs, "territory") == NULL))
		return ROVE_OK; /* the server's to say */
	if (rc != ROVE_OK)
		return rc;
	snprintf(dterr, sizeof(dterr), "%s", rove_fields_str(&im->customer->fs, "territory"));
	at = terr;
	for (int depth = 0; at != NULL && depth <= ROVE_MAX_TREE_DEPTH; depth++, at = tree_parent(im, at))
		if (strcmp(at, dterr) == 0)
			return ROVE_OK;
	/* (a territory the replica does not hold: the server's to say) */
	if (!key_has(&im->keys, 'T', terr))
		return ROVE_OK;
	row_error(im, line, "invalid: %s is not a dealer of %s or above (it is %s's)", dealer, terr, dterr);
	return ROVE_OK;
}

/* Checks the cells of one row (op is scratch space), against the file's
 * rows before it and what the replica holds. */
static int row_check(importer *im, const char *const *cells, unsigned long line, rove_op *op)
{
	int rc = row_op(im, cells, line, op);
	rove_uuid id;

	/* An exported row edited to change the record would make a second
	 * one: the id of a record this replica holds is refused. */
	if (im->id_col < im->ncols && rove_uuid_parse(cells[im->id_col], &id) == ROVE_OK) {
		char key[ROVE_MAX_STR + 3], ids[ROVE_UUID_STRLEN + 1];
		size_t len;
		rove_uuid_format(&id, ids);
		len = make_key(key, 'I', ids);
		/* (Activities are append-only: nothing changes one.) */
		if (key_find(&im->keys, key, len, key_hash(key, len)) != NULL &&
		    (im->c->flags & ROVE_CF_APPEND_ONLY))
			row_error(im, line, "id %s is %s %s this replica holds: an import makes new records",
				  ids, rove_article(im->c->name), im->c->name);
		else if (key_find(&im->keys, key, len, key_hash(key, len)) != NULL)
			row_error(im, line,
				  "id %s is %s %s this replica holds: an import makes new records (change it with "
				  "'rove %s set')",
				  ids, rove_article(im->c->name), im->c->name, im->c->name);
	}
	if (rc == ROVE_OK && im->c->id == ROVE_COLL_CUSTOMER) {
		rc = row_unique(im, op, line);
		if (rc == ROVE_OK && !im->row_bad)
			row_pool_limit(im, op, line);
		if (rc == ROVE_OK && !im->row_bad && im->boss)
			row_owner(im, line, rove_fields_str(&op->fs, "owner"), rove_fields_str(&op->fs, "territory"),
				  false);
		if (rc == ROVE_OK && !im->row_bad)
			rc = row_dealer_reach(im, op, line);
	}
	if (rc == ROVE_OK && im->c->id == ROVE_COLL_OPPORTUNITY && !im->row_bad && im->boss)
		rc = row_deal_owner(im, op, line);
	if (rc == ROVE_OK && im->c->id == ROVE_COLL_DEALER)
		rc = row_dealer_unique(im, op, line);
	if (rc == ROVE_OK && !im->row_bad && rove_schema_parent_field(im->c) != NULL)
		rc = row_repeat(im, op, line);
	return rc;
}

/* Checks one data row (op is scratch space) and keeps it. */
static int import_row_check(importer *im, const rove_csv *csv, rove_op *op)
{
	const char *cells[ROVE_MAX_IMPORT_COLUMNS];
	unsigned long line = rove_csv_line(csv);
	size_t n = rove_csv_ncells(csv);
	int rc;

	if (n != im->ncols) {
		row_error(im, line, "%zu cells, but the header has %zu columns", n, im->ncols);
		return ROVE_OK;
	}
	/* A spreadsheet's guard against formulas is not part of the value. */
	for (size_t j = 0; j < n; j++)
		cells[j] = rove_csv_unguard(rove_csv_cell(csv, j));
	rc = row_check(im, cells, line, op);
	if (rc == ROVE_OK && !im->row_bad)
		rc = keep_row(im, cells, line);
	return rc;
}

/* The cells of kept row i. */
static void kept_cells(const importer *im, size_t i, const char *cells[ROVE_MAX_IMPORT_COLUMNS])
{
	const char *p = im->text + im->rows[i].off;

	for (size_t j = 0; j < im->ncols; j++) {
		cells[j] = p;
		p += strlen(p) + 1;
	}
}

/* Reads and checks the whole file. ROVE_EINVAL once it is reported bad. */
static int import_read(importer *im, FILE *f)
{
	/* A cell can hold no longer a string than a field; a row no more
	 * text than a record. */
	rove_csv_limits lim = {ROVE_MAX_IMPORT_COLUMNS, ROVE_MAX_STR, ROVE_MAX_RECORD_BYTES};
	rove_csv *csv;
	rove_op *op = malloc(sizeof(*op));
	bool header = false, stop = false;
	size_t rows = 0;
	int rc;

	if (op == NULL)
		return ROVE_ENOMEM;
	/* 'rove export --json' fed back: said as such, not as a bad CSV
	 * cell (attack one hundred and six) */
	int first = getc(f);
	if (first == '[' || first == '{') {
		rove_error("%s: this looks like JSON; rove import reads CSV ('rove export KIND --csv' writes it)",
			   im->file);
		im->file_bad = true;
		free(op);
		return ROVE_EINVAL;
	}
	if (first != EOF && ungetc(first, f) == EOF) { /* (one is always taken back) */
		rove_error("cannot read %s", im->file);
		free(op);
		return ROVE_EIO;
	}
	rc = rove_csv_open(f, &lim, &csv);
	if (rc != ROVE_OK) {
		free(op);
		return rc;
	}
	while (rc == ROVE_OK && !stop) {
		im->row_bad = false;
		rc = rove_csv_next_data(csv);
		if (rc == ROVE_ENOTFOUND) {
			rc = ROVE_OK;
			break;
		}
		if (rc == ROVE_EIO) {
			rove_error("cannot read %s: %s", im->file, strerror(errno));
			break;
		}
		if (rc == ROVE_EINVAL) {
			rc = ROVE_OK;
			row_error(im, rove_csv_line(csv), "%s", rove_csv_error(csv));
			stop = im->file_bad = !header; /* no columns to check rows against */
		} else if (!header) {
			header = true;
			stop = im->file_bad = import_header(im, csv) != ROVE_OK;
			if (!stop)
				rc = import_load_ids(im);
		} else if (++rows > ROVE_MAX_IMPORT_ROWS) {
			row_error(im, rove_csv_line(csv), "more than %u rows: split the file", ROVE_MAX_IMPORT_ROWS);
			stop = im->file_bad = true;
		} else {
			rc = import_row_check(im, csv, op);
		}
		if (im->row_bad && !stop)
			im->bad_rows++;
	}
	if (rc == ROVE_OK && !header && !im->file_bad) {
		rove_error("%s: the file is empty (it needs a header row)", im->file);
		im->file_bad = true;
	}
	rove_csv_close(csv);
	free(op);
	if (rc == ROVE_OK && (im->bad_rows > 0 || im->file_bad))
		rc = ROVE_EINVAL;
	return rc;
}

/* Builds the op of kept row i (for rove_replica_write_each). */
static int fill_row(rove_op *op, size_t i, void *arg)
{
	importer *im = arg;
	const char *cells[ROVE_MAX_IMPORT_COLUMNS];
	int rc;

	kept_cells(im, i, cells);
	im->row_bad = false;
	rc = row_op(im, cells, im->rows[i].line, op);
	if (rc == ROVE_OK && im->row_bad)
		rc = ROVE_EINVAL; /* it was good a moment ago */
	return rc;
}

/* Checks the kept rows again, against what the replica holds now (it
 * changed since they were checked). ROVE_EINVAL once reported bad. */
static int import_recheck(importer *im)
{
	rove_op *op = malloc(sizeof(*op));
	int rc = op != NULL ? ROVE_OK : ROVE_ENOMEM;

	key_set_free(&im->keys);
	key_set_free(&im->twin_taxes);
	ref_index_free(&im->refs);
	im->nterrs = im->nterr = im->ntree = 0;
	im->shown = im->bad_rows = im->repeats = im->ncusts = 0;
	if (rc == ROVE_OK)
		rc = import_load(im);
	for (size_t i = 0; rc == ROVE_OK && i < im->nrows; i++) {
		const char *cells[ROVE_MAX_IMPORT_COLUMNS];
		kept_cells(im, i, cells);
		im->row_bad = false;
		rc = row_check(im, cells, im->rows[i].line, op);
		if (im->row_bad)
			im->bad_rows++;
	}
	free(op);
	if (rc == ROVE_OK && im->bad_rows > 0)
		rc = ROVE_EINVAL;
	return rc;
}

/* Writes the kept rows in one transaction, one op in memory at a time,
 * onto the state of the replica they were checked against: checked
 * again first if it changed. ROVE_EINVAL once reported bad. */
static int import_write(importer *im, const rove_cli *cli)
{
	rove_lockfile lock = {-1};
	int rc = ROVE_OK;

	if (im->nrows == 0)
		return ROVE_OK;
	for (unsigned tries = 0;; tries++) {
		rc = rove_replica_write_each_at(im->r, im->version, im->nrows, fill_row, im);
		if (rc != ROVE_ECHANGED)
			break;
		if (tries == ROVE_MAX_WRITE_RECHECKS) {
			rove_error("%s: the replica kept changing while the file was checked (another rove writing "
				   "it); nothing imported: run the import again",
				   im->file);
			break;
		}
		/* A sync writes the replica chunk after chunk, each sooner
		 * than a long file is checked again: its end is waited for
		 * (up to the timeout), and no other starts, before that. */
		if (lock.fd < 0) {
			long holder = 0;
			int lrc = rove_lockfile_take(&lock, cli->dir, ROVE_SYNC_LOCK_FILE,
						     cli->timeout_ms > 0 ? cli->timeout_ms : 0, &holder);
			if (lrc != ROVE_OK)
				rove_debug("%s: checked again beside a sync (%s)", im->file, rove_strerror(lrc));
		}
		rove_debug("%s: the replica changed since the file was checked: checking it again", im->file);
		rc = import_recheck(im);
		if (rc != ROVE_OK)
			break;
	}
	rove_lockfile_release(&lock);
	return rc;
}

/* Asks the server for the users this one may see, for the owners a
 * manager's or admin's file names (the replica holds no users). Offline
 * (or refused) the import goes on without them, with a warning: imports
 * work offline, and the server checks every owner on sync, a refused row
 * kept under 'rove rejected'. */
static int import_ask_users(rove_cli *cli, importer *im)
{
	char what[PATH_MAX + 16];

	snprintf(what, sizeof(what), "%s: owners", im->file);
	if (!cmd_admin_users_advice(cli, keep_user, im, what,
				    "the server checks them on sync, and 'rove rejected' lists a row it refuses"))
		return ROVE_OK;
	if (im->users_nomem) {
		rove_error("out of memory");
		return ROVE_ENOMEM;
	}
	im->users_known = true;
	return ROVE_OK;
}

/* Reports why the file is refused (rc ROVE_EINVAL), or another failure
 * not reported yet. */
static void import_report(const importer *im, int rc)
{
	if (rc == ROVE_EINVAL && im->file_bad)
		rove_error("%s: nothing imported", im->file);
	else if (rc == ROVE_EINVAL && im->shown > ROVE_MAX_IMPORT_SHOWN)
		rove_error("%s: %zu bad rows (the first %u problems shown, %zu more not); nothing imported", im->file,
			   im->bad_rows, ROVE_MAX_IMPORT_SHOWN, im->shown - ROVE_MAX_IMPORT_SHOWN);
	else if (rc == ROVE_EINVAL)
		rove_error("%s: %zu bad row%s; nothing imported", im->file, im->bad_rows, im->bad_rows == 1 ? "" : "s");
	else if (rc != ROVE_OK && rc != ROVE_EIO && rc != ROVE_EREADONLY && rc != ROVE_EPERM && rc != ROVE_ECHANGED &&
		 !rove_err_unreached(rc)) /* reported */
		rove_error("cannot import %s: %s; nothing imported", im->file, rove_strerror(rc));
}

static const char import_usage[] =
	"usage: rove import customers|contacts|opportunities|contracts|activities|dealers FILE.csv [--dry-run]\n";

enum { OPT_DRY_RUN = CLI_OPT_LONG };

static const struct option import_opts[] = {
	{"dry-run", no_argument, NULL, OPT_DRY_RUN},
	{NULL, 0, NULL, 0},
};

/* The help, written with the columns each collection takes. */
static void import_help(FILE *f)
{
	static const uint8_t ids[] = {ROVE_COLL_CUSTOMER, ROVE_COLL_CONTACT, ROVE_COLL_OPPORTUNITY,
				      ROVE_COLL_CONTRACT, ROVE_COLL_ACTIVITY, ROVE_COLL_DEALER};

	fputs(import_usage, f);
	fputs("\n"
	      "Create records from a CSV file (RFC 4180, UTF-8; FILE '-' reads\n"
	      "standard input). The first row names the columns with the JSON field\n"
	      "names, in any order:\n",
	      f);
	for (size_t k = 0; k < sizeof(ids); k++) {
		const rove_coll_def *c = rove_schema_coll(ids[k]);
		const char *sep = "";
		fprintf(f, "  %-15s", cli_io_plural(c));
		for (size_t i = 0; i < c->nfields; i++) {
			const rove_field_def *fd = &c->fields[i];
			if (!column_importable(fd) && !column_boss_only(fd))
				continue; /* the server's */
			fprintf(f, "%s%s%s%s", sep, fd->name, (fd->flags & ROVE_FF_REQUIRED) ? " (required)" : "",
				column_boss_only(fd) ? " (managers, admins)" : "");
			sep = ", ";
		}
		fputc('\n', f);
	}
	fputs("The customer of a contact, deal, contract or activity is its id, the\n"
	      "start or end of its id (6 characters or more, as anywhere an id is\n"
	      "taken), or tax_id:XXXX for the customer this replica holds with that\n"
	      "tax id, however written; customers imported or added before and not\n"
	      "yet synced count. A customer's dealer is an id; a dealer's territory a\n"
	      "code. A file 'rove export' wrote imports as it is: its columns id,\n"
	      "last_activity_at, created_at and author are ignored, with a note on\n"
	      "stderr (an import makes new records, with new ids; the server sets the\n"
	      "rest), but a row whose id is a record this replica holds is bad: it\n"
	      "would be a second copy ('rove customer set' changes one). owner is\n"
	      "ignored (with a note) but for managers and admins, who name the rep a\n"
	      "customer or a deal goes to: before anything is imported the\n"
	      "server is asked for its users (offline, the import goes on with a\n"
	      "warning and the server checks each owner on sync), and a row is\n"
	      "bad when its owner is no user of your territories, not a rep or\n"
	      "manager, disabled, or does not work in the row's territory - a\n"
	      "deal's: its customer's (empty: a manager's own, an admin's the\n"
	      "public pool; a deal's, its customer's owner). A won or lost deal's\n"
	      "owner may have left since (disabled); an admin's need only be a rep\n"
	      "or a manager. An empty cell leaves a\n"
	      "field unset; values are written as on the command line (money in\n"
	      "units, dates as 2024-03-15, times as 2024-03-15T09:30 local or\n"
	      "2024-03-15T01:30Z). Quoted cells may hold\n"
	      "commas, doubled quotes and line breaks; a byte order mark and CRLF\n"
	      "line ends are fine, and blank lines are skipped. A single quote that\n"
	      "'rove export' put before a cell starting with = + - @ or a tab (so\n"
	      "that a spreadsheet does not run it as a formula) is taken off: a cell\n"
	      "'+86 21 5555 0101 reads as +86 21 5555 0101.\n"
	      "\n"
	      "Past records keep their dates: a contract's signed_on, an activity's\n"
	      "at (not in the future; empty: now), and a won or lost deal's closed_on\n"
	      "(not in the future; empty: today) when a manager or admin imports it.\n"
	      "closed_on is only for won or lost deals, and a rep's deals close the\n"
	      "day the server hears of them (no rep credits a win to a past month).\n"
	      "\n"
	      "Every row is checked before anything is written, and every bad row is\n"
	      "reported as FILE:LINE (the line where the row starts; the header is\n"
	      "line 1). If any row is bad, nothing is imported. A row is bad when a\n"
	      "value is invalid or a required one is empty, when it has the wrong\n"
	      "number of cells, when its tax_id or phone repeats an earlier row's or\n"
	      "belongs to a customer this replica holds (compared as the server\n"
	      "compares them: a tax id without spaces and hyphens, in capitals; a\n"
	      "phone without punctuation and with +86 where it belongs), when its\n"
	      "customer or territory is not in this replica, or when the server would\n"
	      "certainly refuse it as far as this replica can tell: a rep's row under\n"
	      "a customer of the pool or of another rep (not_owner), a rep's customer\n"
	      "past the pool limit of its territory (limit), a role's rules\n"
	      "(forbidden: reps keep no dealers). Tax ids are stored normalised and\n"
	      "must be 统一社会信用代码 (their check character too).\n",
	      f);
	fprintf(f, "At most %u rows per file, %u bytes per cell and %u per row.\n", ROVE_MAX_IMPORT_ROWS,
		ROVE_MAX_STR, ROVE_MAX_RECORD_BYTES);
	fputs("\n"
	      "All rows or none is this replica's: a good file is written in one\n"
	      "transaction, or nothing is; an import that another command overtakes\n"
	      "(the same file imported twice at once, a sync) is checked again\n"
	      "against what that one wrote. The records are made offline and sent on\n"
	      "the next sync in one go, and the server checks each one again, against\n"
	      "what this replica cannot see (every customer, for duplicates; users and\n"
	      "territories as they are by then): a row it refuses is kept with its\n"
	      "reason and whole row under 'rove rejected' (fix it there with 'rove\n"
	      "rejected retry'), and the other rows stand. A rep's imported customers\n"
	      "are the rep's.\n"
	      "A contact, deal, contract or activity row that repeats, in every column\n"
	      "the file has, a row above it or one this replica holds of its customer\n"
	      "is imported all the same, and said on stderr (a file imported twice?).\n"
	      "\n"
	      "  --dry-run   check the file and report what would be refused, but\n"
	      "              import nothing (works on a read-only replica)\n",
	      f);
}

/* The rules of the user's role on any create of the collection, before
 * a row is read: a rep's file of dealers is refused once, not row by row.
 * ROVE_EPERM, reported. */
static int import_allowed(importer *im)
{
	rove_stamp st0 = {{0}, 0};
	char detail[ROVE_MAX_ERRMSG];
	rove_op *op;
	rove_uuid id;
	int reason;

	if (im->role == 0)
		return ROVE_OK; /* never synced: the server decides */
	op = malloc(sizeof(*op));
	if (op == NULL)
		return ROVE_ENOMEM;
	rove_uuid_new(&id);
	rove_op_init(op, ROVE_OP_CREATE, im->c->id, &id, st0);
	reason = rove_rules_check_op(im->role, op, detail, sizeof(detail));
	free(op);
	if (reason == ROVE_R_NONE)
		return ROVE_OK;
	rove_error("%s: %s: nothing imported", rove_reason_name(reason), detail);
	return ROVE_EPERM;
}

int cmd_import(rove_cli *cli, int argc, char **argv)
{
	importer *im;
	rove_replica r;
	const char *what = NULL, *path = NULL;
	bool dry_run = false, opened;
	cli_opt o;
	FILE *f;
	int k, rc;

	if (cli_opt_help(argc, argv, 1)) {
		import_help(stdout);
		return ROVE_EXIT_OK;
	}
	cli_opt_init(&o, argc, argv, 1, import_opts);
	while ((k = cli_opt_next(&o)) != CLI_OPT_END) {
		if (k == OPT_DRY_RUN) {
			dry_run = true;
		} else if (k != CLI_OPT_WORD) {
			if (!cli_opt_said(k))
				rove_error("unknown option '%s'", o.arg);
			return cli_usage(import_usage, false);
		} else if (what == NULL) {
			what = o.arg;
		} else if (path == NULL) {
			path = o.arg; /* "-": standard input */
		} else {
			cli_word_unexpected(o.arg);
			return cli_usage(import_usage, false);
		}
	}
	if (what == NULL || path == NULL || cli_io_coll(what) == NULL) {
		if (what != NULL && cli_io_coll(what) == NULL)
			rove_error("cannot import '%s' (import customers, contacts, opportunities, contracts, "
				   "activities or dealers)",
				   what);
		else if (what == NULL)
			rove_error("missing what to import, and the file");
		else
			rove_error("missing the file to import (FILE.csv, or - for standard input)");
		return cli_usage(import_usage, false);
	}
	im = calloc(1, sizeof(*im));
	if (im == NULL)
		return ROVE_EXIT_FAIL;
	im->c = cli_io_coll(what);
	im->file = strcmp(path, "-") == 0 ? "stdin" : path;
	if (strcmp(path, "-") == 0) {
		f = stdin;
	} else {
		f = fopen(path, "rb");
		if (f == NULL) {
			rove_error("cannot open %s: %s", path, strerror(errno));
			free(im);
			return ROVE_EXIT_FAIL;
		}
	}
	rc = cli_open(cli, &r);
	opened = rc == ROVE_OK;
	if (rc == ROVE_OK) {
		im->r = &r;
		/* A dry run only reads: it works on a read-only replica. */
		rc = dry_run ? ROVE_OK : rove_replica_writable(&r);
		if (rc == ROVE_OK)
			rc = import_load(im);
		if (rc == ROVE_OK)
			rc = import_allowed(im);
		if (rc == ROVE_OK)
			rc = import_read(im, f);
		if (rc == ROVE_OK && im->owners_named) {
			/* The server's users, asked with the replica closed
			 * (the request opens it), then every row again. */
			rove_replica_close(&r);
			rc = import_ask_users(cli, im);
			if (rc == ROVE_OK) {
				rc = cli_open(cli, &r);
				opened = rc == ROVE_OK;
			} else {
				opened = false;
			}
			if (rc == ROVE_OK && im->users_known)
				rc = import_recheck(im);
		}
		if (rc == ROVE_OK)
			rc = repeats_held(im);
		if (rc == ROVE_OK && !dry_run)
			rc = import_write(im, cli);
		import_report(im, rc);
		if (rc == ROVE_OK && im->repeats > 0 && im->repeat_of > 0)
			rove_warn("%s: %zu row(s) repeat what a row above them or a record held says in every column "
				  "(line %lu repeats line %lu): %s all the same",
				  im->file, im->repeats, im->repeat_line, im->repeat_of,
				  dry_run ? "they would be imported" : "imported");
		else if (rc == ROVE_OK && im->repeats > 0)
			rove_warn("%s: %zu row(s) repeat what a row above them or a record held says in every column "
				  "(line %lu repeats %s %s this replica holds: was the file imported before?): %s all "
				  "the same",
				  im->file, im->repeats, im->repeat_line, rove_article(im->c->name), im->c->name,
				  dry_run ? "they would be imported" : "imported");
		if (rc == ROVE_OK)
			printf("%s %zu %s\n", dry_run ? "would import" : "imported", im->nrows,
			       im->nrows == 1 ? im->c->name : cli_io_plural(im->c));
		if (opened)
			rove_replica_close(&r);
	}
	if (f != stdin)
		fclose(f);
	key_set_free(&im->keys);
	key_set_free(&im->twin_taxes);
	ref_index_free(&im->refs);
	users_free(im);
	free(im->customer);
	free(im->tree);
	free(im->terrs);
	free(im->text);
	free(im->rows);
	free(im->custs);
	free(im);
	return cli_exit(rc);
}
