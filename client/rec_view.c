#define _GNU_SOURCE /* memmem: a search of the replica's kept text */
/*
 * rec_view.c - `rove COLLECTION list` and `show`: records as a table, as
 * labelled lines, or as JSON (out.h).
 */
#include "rec.h"
#include "ident.h"
#include "calendar.h"
#include "array.h"
#include "cli_opt.h"
#include "err.h"
#include "log.h"
#include "text.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>

/* Terminal columns of a field in `list` tables. */
static int column_width(const rove_field_def *fd)
{
	if (strcmp(fd->name, "name") == 0)
		return 28;
	if (fd->type == ROVE_FT_STR && fd->maxlen > 32)
		return 20;
	if (fd->type == ROVE_FT_TIME)
		return ROVE_TIME_SIZE - 1; /* whole: 2026-11-30T09:15:00Z */
	if (fd->type == ROVE_FT_REF && (fd->flags & ROVE_FF_PARENT))
		return 28; /* the customer's name */
	if (fd->type == ROVE_FT_MONEY)
		return 15; /* the largest amount, ROVE_MAX_MONEY_CENTS: 100000000000.00 */
	return fd->type == ROVE_FT_DATE ? 10 : 14;
}

/* A list's JSON array around rove_replica_each's walk: begun before,
 * ended after (also after a failed walk, so the output stays JSON). */
static void rec_list_begin(rec_list_ctx *lc)
{
	if (lc->json)
		out_json_begin_list(&lc->j, stdout);
}

static void rec_list_end(rec_list_ctx *lc)
{
	if (lc->json)
		out_json_end_list(&lc->j);
}

/* Whether text v, in a search's form (rove_text_fold_search), holds
 * needle (in that form already; "" is in every text). */
static bool text_has(const char *v, const char *needle)
{
	char folded[ROVE_MAX_STR + 1];
	size_t len = strlen(v), n = strlen(needle);

	if (len > ROVE_MAX_STR) /* (no stored value is longer) */
		len = ROVE_MAX_STR;
	len = rove_text_fold_search(v, len, folded, sizeof(folded));
	return memmem(folded, len, needle, n) != NULL;
}

/* The digits of a phone in the form all its spellings share (+86 138...,
 * 0086-138..., 138...: rove_phone_normalise) into out (room for
 * ROVE_MAX_STR + 1). */
static void phone_digits(const char *phone, char *out)
{
	char norm[ROVE_MAX_STR + 1];
	size_t k = 0;

	rove_phone_normalise(phone, norm, sizeof(norm));
	for (const char *p = norm; *p != '\0'; p++)
		if (isdigit((unsigned char)*p))
			out[k++] = *p;
	out[k] = '\0';
}

/* Whether a text value v of a field of type holds lc->search (case and
 * full-width forms ignored: rove_text_fold_search), a phone holds its
 * digits whatever the punctuation or country prefix, or a tax id holds it
 * written with spaces, hyphens or small letters. */
static bool value_match(const rec_list_ctx *lc, int type, const char *v)
{
	if (text_has(v, lc->search_low))
		return true;
	if (type == ROVE_FT_PHONE && strlen(lc->search_digits) >= 3) {
		char d[ROVE_MAX_STR + 1];
		size_t k = 0;
		for (const char *p = v; *p != '\0' && k < ROVE_MAX_STR; p++)
			if (isdigit((unsigned char)*p))
				d[k++] = *p;
		d[k] = '\0';
		if (strstr(d, lc->search_digits) != NULL)
			return true;
		phone_digits(v, d);
		if (lc->search_phone[0] != '\0' && strstr(d, lc->search_phone) != NULL)
			return true;
	}
	return type == ROVE_FT_TAXID && lc->search_tax[0] != '\0' && strstr(v, lc->search_tax) != NULL;
}

/* Whether a text field of rec holds lc->search (value_match). */
static bool search_match(const rec_list_ctx *lc, const rove_record *rec)
{
	for (uint32_t i = 0; i < rec->fs.n; i++) {
		const rove_field_def *fd = rove_schema_field(lc->c, rec->fs.f[i].name);
		const char *v = rec->fs.f[i].v.type == ROVE_V_STR ? rec->fs.f[i].v.s : NULL;
		if (fd == NULL || v == NULL || !rove_schema_field_searched(fd))
			continue;
		if (value_match(lc, fd->type, v))
			return true;
	}
	return false;
}

/* Whether needle (NUL-terminated; "" is in every text) is in hay's len
 * bytes, unless skip (an earlier needle the same). */
static bool bytes_have(const uint8_t *hay, size_t len, const char *needle, const char *skip)
{
	return (skip == NULL || strcmp(needle, skip) != 0) && memmem(hay, len, needle, strlen(needle)) != NULL;
}

/* A first test on the text the replica keeps for a search
 * (rove_search_fn): whether one of the ways value_match matches is a
 * substring of it (all it passes is then checked whole by wanted). A
 * needle the same as one before (digits alone: the text, its digits and
 * its phone form) is looked for once. */
static bool kept_match(const uint8_t *fields, size_t len, void *arg)
{
	const rec_list_ctx *lc = arg;

	return bytes_have(fields, len, lc->search_low, NULL) ||
	       (strlen(lc->search_digits) >= 3 && bytes_have(fields, len, lc->search_digits, lc->search_low)) ||
	       (lc->search_phone[0] != '\0' && bytes_have(fields, len, lc->search_phone, lc->search_digits)) ||
	       (lc->search_tax_low[0] != '\0' && bytes_have(fields, len, lc->search_tax_low, lc->search_low));
}

static bool field_is(const rove_record *rec, const char *name, const char *want)
{
	const char *v = rove_fields_str(&rec->fs, name);

	return v != NULL && strcmp(v, want) == 0;
}

/* Whether rec passes the list's filters. */
static bool wanted(const rec_list_ctx *lc, const rove_record *rec)
{
	const char *owner = rove_fields_str(&rec->fs, "owner");
	const char *terr = rove_fields_str(&rec->fs, "territory");
	bool in = lc->terrs == NULL;

	if (lc->parent != NULL) {
		const rove_field_def *pf = rove_schema_parent_field(lc->c);
		if (pf == NULL || !field_is(rec, pf->name, lc->parent))
			return false;
	}
	if (lc->history) {
		const char *deal = rove_fields_str(&rec->fs, "opportunity");
		if (lc->deal == NULL ? deal != NULL : (deal == NULL || strcmp(deal, lc->deal) != 0))
			return false;
	}
	if ((lc->owner != NULL && (owner == NULL || strcmp(owner, lc->owner) != 0)) || (lc->pool && owner != NULL))
		return false;
	/* A deal with no stage (made by an older rove, or imported with the
	 * cell empty) is a lead, as the pipeline report and the board count
	 * it. */
	if ((lc->tier != NULL && !field_is(rec, "tier", lc->tier)) ||
	    (lc->stage != NULL && !field_is(rec, "stage", lc->stage) &&
	     !(strcmp(lc->stage, "lead") == 0 && rove_fields_str(&rec->fs, "stage") == NULL)))
		return false;
	for (size_t i = 0; !in && terr != NULL && i < lc->nterrs; i++)
		in = strcmp(terr, lc->terrs[i]) == 0;
	return in && (lc->search == NULL || search_match(lc, rec));
}

/* Whether a field is a column of a terminal list: those marked so, and
 * the customer of a child record in a list of every customer's. */
static bool shown_column(const rec_list_ctx *lc, const rove_field_def *fd)
{
	return (fd->flags & ROVE_FF_LIST) || ((fd->flags & ROVE_FF_PARENT) && lc->parent == NULL);
}

/* The name of the customer f (a parent field) names, or its id if this
 * replica does not hold it. */
static int parent_name(rec_list_ctx *lc, const rove_field *f, char *out, size_t len)
{
	const char *ids = f->v.type == ROVE_V_STR ? f->v.s : NULL;
	rove_uuid id;
	const char *name;
	int rc;

	snprintf(out, len, "%.*s", ids != NULL ? (int)f->v.len : 1, ids != NULL ? ids : "-");
	if (ids == NULL || lc->scratch == NULL || rove_uuid_parse(out, &id) != ROVE_OK)
		return ROVE_OK;
	/* One this replica does not hold keeps its id; one it cannot read
	 * (damage, said) fails the list (attack sixty-four: exit 0 after
	 * the error). */
	rc = rove_replica_get(lc->r, ROVE_COLL_CUSTOMER, &id, lc->scratch);
	if (rc != ROVE_OK)
		return rc == ROVE_ENOTFOUND ? ROVE_OK : rc;
	name = rove_fields_str(&lc->scratch->fs, "name");
	if (name != NULL)
		snprintf(out, len, "%s", name);
	return ROVE_OK;
}

/* A table's id column: the whole id with --wide, else its last group,
 * which tells records apart (ids made the same minute share their start)
 * and which every command taking an id accepts. */
#define SHORT_ID_LEN CLI_SHORT_ID_LEN

static int print_one(rec_list_ctx *lc, const rove_record *rec, bool pending)
{
	char id[ROVE_UUID_STRLEN + 1];

	if (lc->emit != NULL) {
		int rc = lc->emit(lc, rec, pending);
		lc->n++;
		return rc;
	}
	if (lc->json) {
		out_record_json_marked(&lc->j, lc->c, rec, pending);
	} else {
		rove_uuid_format(&rec->id, id);
		printf("%-*s%c", lc->wide ? ROVE_UUID_STRLEN : SHORT_ID_LEN,
		       lc->wide ? id : id + ROVE_UUID_STRLEN - SHORT_ID_LEN, pending ? '*' : ' ');
		for (size_t i = 0; i < lc->c->nfields; i++) {
			const rove_field_def *fd = &lc->c->fields[i];
			const rove_field *f;
			char text[ROVE_MAX_STR + 64];
			rove_value null = rove_vnull();
			if (!shown_column(lc, fd))
				continue;
			f = rove_fields_get(&rec->fs, fd->name);
			if ((fd->flags & ROVE_FF_PARENT) && f != NULL && lc->r != NULL) {
				/* a name says more than an id */
				int rc = parent_name(lc, f, text, sizeof(text));
				if (rc != ROVE_OK) {
					putchar('\n');
					return rc;
				}
			} else
				out_value_text(fd, f ? &f->v : &null, text, sizeof(text));
			fputs("  ", stdout);
			/* (a number is never cut: a cut one reads as another) */
			if (lc->wide || fd->type == ROVE_FT_MONEY || fd->type == ROVE_FT_INT)
				out_cell_whole(stdout, text, column_width(fd));
			else
				out_cell(stdout, text, column_width(fd));
		}
		putchar('\n');
	}
	lc->n++;
	return ROVE_OK;
}

static int rec_list_one(const rove_record *rec, bool pending, void *arg)
{
	rec_list_ctx *lc = arg;
	int rc;

	if (!wanted(lc, rec))
		return ROVE_OK;
	if (lc->offset > 0) {
		lc->offset--;
		return ROVE_OK;
	}
	rc = print_one(lc, rec, pending);
	if (rc != ROVE_OK)
		return rc;
	return lc->limit != 0 && lc->n >= lc->limit ? ROVE_EEXIST /* enough: stops the walk */ : ROVE_OK;
}

/* ---- --sort: the records' keys collected, sorted, then each printed ---- */

typedef struct sort_key {
	rove_uuid id;
	bool pending, null;
	int64_t num;                 /* numbers, money, booleans */
	char text[ROVE_MAX_NAME + 1]; /* text: its first bytes, lower case */
	rove_stamp st;               /* the value's stamp: equal values in the order they were written */
} sort_key;

typedef struct sort_ctx {
	rec_list_ctx *lc;
	const rove_field_def *fd;
	sort_key *keys;
	size_t n, cap;
} sort_ctx;

static int collect_key(const rove_record *rec, bool pending, void *arg)
{
	sort_ctx *sc = arg;
	sort_key *k;
	const rove_field *f;

	if (!wanted(sc->lc, rec))
		return ROVE_OK;
	k = rove_array_grow(sc->keys, &sc->cap, sc->n, 1, sizeof(*k), 256);
	if (k == NULL)
		return ROVE_ENOMEM;
	sc->keys = k;
	k = &sc->keys[sc->n++];
	memset(k, 0, sizeof(*k));
	k->id = rec->id;
	k->pending = pending;
	if (sc->fd == NULL) {
		/* --sort pending: confirmed first (false < true); --sort id: by
		 * the id alone (key_cmp's last word) */
		k->num = strcmp(sc->lc->sort, "pending") == 0 && pending;
		return ROVE_OK;
	}
	f = rove_fields_get(&rec->fs, sc->fd->name);
	k->null = f == NULL || f->v.type == ROVE_V_NULL;
	if (f != NULL)
		k->st = f->st;
	if (!k->null && f->v.type == ROVE_V_INT)
		k->num = f->v.i;
	else if (!k->null && f->v.type == ROVE_V_STR) {
		size_t len = f->v.len < ROVE_MAX_NAME ? f->v.len : ROVE_MAX_NAME;
		for (size_t i = 0; i < len; i++)
			k->text[i] = (char)tolower((unsigned char)f->v.s[i]);
	}
	return ROVE_OK;
}

static bool sort_desc;

static int key_cmp(const void *pa, const void *pb)
{
	const sort_key *a = pa, *b = pb;
	int c;

	if (a->null != b->null)
		return a->null ? 1 : -1; /* no value last, either way */
	c = a->num < b->num ? -1 : a->num > b->num ? 1 : strcmp(a->text, b->text);
	/* Equal values: the one written first first (two history entries
	 * the server dated alike, its clock held back, are in the order it
	 * made them), then by id. */
	if (c == 0)
		c = rove_stamp_cmp(&a->st, &b->st);
	if (c == 0)
		c = rove_uuid_cmp(&a->id, &b->id);
	return sort_desc ? -c : c;
}

/* The records a list reads: one customer's (--customer, a card's lists)
 * through the replica's index of children, else every record of the
 * collection. */
static int list_each(rove_replica *r, rec_list_ctx *lc, rove_record_pending_fn fn, void *arg)
{
	rove_uuid pid;

	if (lc->parent != NULL && rove_uuid_parse(lc->parent, &pid) == ROVE_OK)
		return rove_replica_each_child(r, lc->c->id, &pid, fn, arg);
	/* A search reads only the records whose kept text holds it. */
	if (lc->parent == NULL && lc->search != NULL && rove_replica_searched(r, lc->c->id))
		return rove_replica_each_search(r, lc->c->id, kept_match, lc, fn, arg);
	return rove_replica_each_marked(r, lc->c->id, fn, arg);
}

static int print_sorted(rove_replica *r, rec_list_ctx *lc)
{
	sort_ctx sc = {lc, rove_schema_field(lc->c, lc->sort), NULL, 0, 0};
	rove_record *rec = malloc(sizeof(*rec));
	int rc = rec != NULL ? list_each(r, lc, collect_key, &sc) : ROVE_ENOMEM;

	if (rc == ROVE_OK && sc.n > 0) {
		sort_desc = lc->desc; /* qsort takes no context */
		qsort(sc.keys, sc.n, sizeof(*sc.keys), key_cmp);
	}
	for (size_t i = lc->offset; rc == ROVE_OK && i < sc.n && (lc->limit == 0 || i - lc->offset < lc->limit); i++) {
		rc = rove_replica_get(r, lc->c->id, &sc.keys[i].id, rec);
		if (rc == ROVE_OK)
			rc = print_one(lc, rec, sc.keys[i].pending);
	}
	free(sc.keys);
	free(rec);
	return rc;
}

static void rec_print_header(const rec_list_ctx *lc)
{
	const rove_coll_def *c = lc->c;

	printf("%-*s", (lc->wide ? ROVE_UUID_STRLEN : SHORT_ID_LEN) + 1, "ID");
	for (size_t i = 0; i < c->nfields; i++) {
		char up[ROVE_MAX_FIELD_NAME + 1];
		size_t k;
		if (!shown_column(lc, &c->fields[i]))
			continue;
		for (k = 0; c->fields[i].name[k]; k++)
			up[k] = (char)toupper((unsigned char)c->fields[i].name[k]);
		up[k] = '\0';
		fputs("  ", stdout);
		out_cell(stdout, up, column_width(&c->fields[i]));
	}
	putchar('\n');
}

enum {
	OPT_CUSTOMER = CLI_OPT_LONG,
	OPT_JSON,
	OPT_SEARCH,
	OPT_SORT,
	OPT_LIMIT,
	OPT_MINE,
	OPT_POOL,
	OPT_OWNER,
	OPT_TERRITORY,
	OPT_TIER,
	OPT_STAGE,
	OPT_WIDE,
};

/* The options of `list` (its usage is in list_usage); a collection without
 * a parent field has no --customer (list_opts + 1). */
static const struct option list_opts[] = {
	{"customer", required_argument, NULL, OPT_CUSTOMER},
	{"json", no_argument, NULL, OPT_JSON},
	{"search", required_argument, NULL, OPT_SEARCH},
	{"sort", required_argument, NULL, OPT_SORT},
	{"limit", required_argument, NULL, OPT_LIMIT},
	{"mine", no_argument, NULL, OPT_MINE},
	{"pool", no_argument, NULL, OPT_POOL},
	{"owner", required_argument, NULL, OPT_OWNER},
	{"territory", required_argument, NULL, OPT_TERRITORY},
	{"tier", required_argument, NULL, OPT_TIER},
	{"stage", required_argument, NULL, OPT_STAGE},
	{"wide", no_argument, NULL, OPT_WIDE},
	{NULL, 0, NULL, 0},
};

/* `show` and `history` take only --json. */
static const struct option show_opts[] = {
	{"json", no_argument, NULL, OPT_JSON},
	{NULL, 0, NULL, 0},
};

int rec_list_walk(rove_replica *r, rec_list_ctx *lc)
{
	int rc;

	lc->r = r;
	lc->scratch = lc->json || lc->emit != NULL ? NULL : malloc(sizeof(*lc->scratch));
	/* Sorted by a field the replica keeps the collection in order of
	 * (activities and notices by time, deals by expected close): read in
	 * that order, so --limit (a page) stops the walk; the order is
	 * print_sorted's, ties by id and records without a value last. A
	 * search the replica keeps the text for reads the matches alone,
	 * then sorts them. */
	if (lc->sort != NULL && lc->parent == NULL && (lc->search == NULL || !rove_replica_searched(r, lc->c->id)) &&
	    rove_replica_ordered(r, lc->c->id, lc->sort))
		rc = rove_replica_each_ordered(r, lc->c->id, lc->sort, lc->desc, NULL, NULL, rec_list_one, lc);
	else if (lc->sort != NULL)
		rc = print_sorted(r, lc);
	else
		rc = list_each(r, lc, rec_list_one, lc);
	if (rc == ROVE_EEXIST)
		rc = ROVE_OK; /* --limit reached */
	free(lc->terrs);
	free(lc->scratch);
	lc->terrs = NULL;
	lc->scratch = NULL;
	lc->r = NULL;
	return rc;
}

int rec_list_print(rove_replica *r, rec_list_ctx *lc)
{
	int rc;

	if (!lc->json)
		rec_print_header(lc);
	rec_list_begin(lc);
	rc = rec_list_walk(r, lc);
	rove_replica_close(r);
	/* A walk that failed half-way leaves its JSON unclosed: what a
	 * script reads does not pass for the whole list (attack
	 * eighty-five: a damaged replica's export a valid array of 100). */
	if (rc == ROVE_OK)
		rec_list_end(lc);
	else if (lc->json)
		putchar('\n');
	if (rc != ROVE_OK)
		rove_error("cannot read the replica: %s", rove_strerror(rc));
	return cli_exit(rc);
}

static void list_usage(const rove_coll_def *c, FILE *f)
{
	const rove_field_def *pf = rove_schema_parent_field(c);
	size_t len = strlen(c->name);
	bool ies = len > 1 && c->name[len - 1] == 'y'; /* territory: territories */

	fprintf(f, "usage: rove %s list%s [--search TEXT] [--sort FIELD[:desc]] [--limit N] [--wide|--json]\n",
		c->name, pf ? " [--customer ID]" : "");
	/* the options its fields take (has_field, list_parse) */
	if (rove_schema_field(c, "owner") != NULL || rove_schema_field(c, "stage") != NULL ||
	    rove_schema_field(c, "territory") != NULL || rove_schema_field(c, "tier") != NULL) {
		fputs("        ", f);
		if (rove_schema_field(c, "owner") != NULL)
			fputs(rove_schema_field(c, "territory") != NULL ? " [--mine | --pool | --owner LOGIN]"
									: " [--mine | --owner LOGIN]",
			      f);
		if (rove_schema_field(c, "territory") != NULL)
			fputs(" [--territory CODE]", f);
		if (rove_schema_field(c, "tier") != NULL)
			fputs(" [--tier T]", f);
		if (rove_schema_field(c, "stage") != NULL)
			fputs(" [--stage S]", f);
		fputc('\n', f);
	}
	fprintf(f, "\nList the %.*s%s this replica holds (a * marks changes not confirmed yet).\n"
		   "  --search TEXT   a text field holds TEXT (case ignored, also of accented,\n"
		   "                  Greek and Cyrillic letters; a phone in any format, when\n"
		   "                  TEXT is digits and + - ( ) . only; full-width letters,\n"
		   "                  digits and signs match their ASCII either way)\n"
		   "  --sort FIELD    sorted by a field (FIELD:desc: descending)\n"
		   "  --limit N       at most N\n"
		   "  --wide          whole ids (else the last %d characters, which any\n"
		   "                  command taking an id accepts) and no cell cut short\n",
		(int)(strlen(c->name) - (ies ? 1 : 0)), c->name, ies ? "ies" : "s", SHORT_ID_LEN);
	if (rove_schema_field(c, "owner") != NULL && rove_schema_field(c, "territory") != NULL)
		fprintf(f, "  --mine, --pool, --owner LOGIN   yours, the pool's, LOGIN's\n"
			   "  --territory CODE                in CODE or a territory under it\n");
	else if (rove_schema_field(c, "owner") != NULL)
		fprintf(f, "  --mine, --owner LOGIN           yours, LOGIN's\n");
	else if (rove_schema_field(c, "territory") != NULL)
		fprintf(f, "  --territory CODE                in CODE or a territory under it\n");
	/* The enum filters, with their values (attack sixty-eight: --tier
	 * was in the usage line alone). */
	for (size_t i = 0; i < 2; i++) {
		const char *name = i == 0 ? "tier" : "stage";
		const rove_field_def *fd = rove_schema_field(c, name);
		if (fd == NULL || fd->type != ROVE_FT_ENUM)
			continue;
		fprintf(f, "  --%s %c%*s", name, i == 0 ? 'T' : 'S', (int)(28 - strlen(name)), "");
		for (const char *const *e = fd->values; *e; e++)
			fprintf(f, "%s%s", e == fd->values ? "" : e[1] == NULL ? " or " : ", ", *e);
		fputc('\n', f);
	}
}

/* Whether c has the field an option filters by; reported if not. */
static bool has_field(const rove_coll_def *c, const char *field, const char *opt)
{
	if (rove_schema_field(c, field) != NULL)
		return true;
	rove_error("%s is not an option of %s list", opt, c->name);
	return false;
}

/* A filter's login (or, code: territory code): one no user or territory
 * can have - empty (a script's unset variable), a space in it - is a
 * usage error, not a list that is always empty. */
static bool name_value(const char *opt, const char *value, bool code, uint8_t coll)
{
	size_t len = strlen(value);

	if (code ? rove_code_valid(value, len) : rove_login_valid(value, len))
		return true;
	rove_error("%s takes a %s ('%s')%s", opt, code ? "territory code" : "login", value,
		   !code && coll == ROVE_COLL_CUSTOMER ? "; --pool lists the customers without an owner" : "");
	return false;
}

/* A filter's value of field: one of the values an enum field takes,
 * else a usage error naming them (a list it can never match is no
 * answer). */
static bool enum_value(const rove_coll_def *c, const char *field, const char *opt, const char *value)
{
	const rove_field_def *fd = rove_schema_field(c, field);
	char allowed[256];
	size_t n = 0;

	if (fd == NULL || fd->type != ROVE_FT_ENUM || fd->values == NULL)
		return true;
	allowed[0] = '\0';
	for (const char *const *v = fd->values; *v != NULL; v++) {
		int k;
		if (strcmp(*v, value) == 0)
			return true;
		k = snprintf(allowed + n, sizeof(allowed) - n, "%s%s", n > 0 ? ", " : "", *v);
		if (k > 0 && (size_t)k < sizeof(allowed) - n)
			n += (size_t)k;
	}
	rove_error("%s takes one of %s ('%s')", opt, allowed, value);
	return false;
}

typedef struct terr_walk {
	char (*codes)[ROVE_MAX_NAME + 1];
	char (*parents)[ROVE_MAX_NAME + 1];
	size_t n, cap;
} terr_walk;

static int collect_terr(const rove_record *rec, void *arg)
{
	terr_walk *tw = arg;
	const char *code = rove_fields_str(&rec->fs, "code"), *parent = rove_fields_str(&rec->fs, "parent");
	void *p;
	size_t cap = tw->cap;

	if (code == NULL)
		return ROVE_OK;
	p = rove_array_grow(tw->codes, &cap, tw->n, 1, sizeof(*tw->codes), 64);
	if (p == NULL)
		return ROVE_ENOMEM;
	tw->codes = p;
	cap = tw->cap;
	p = rove_array_grow(tw->parents, &cap, tw->n, 1, sizeof(*tw->parents), 64);
	if (p == NULL)
		return ROVE_ENOMEM;
	tw->parents = p;
	tw->cap = cap;
	snprintf(tw->codes[tw->n], sizeof(tw->codes[0]), "%s", code);
	snprintf(tw->parents[tw->n], sizeof(tw->parents[0]), "%s", parent != NULL ? parent : "");
	tw->n++;
	return ROVE_OK;
}

/* lc->terrs := code and every territory under it that r holds. */
static int territory_subtree(rove_replica *r, const char *code, rec_list_ctx *lc)
{
	terr_walk tw = {NULL, NULL, 0, 0};
	int rc = rove_replica_each(r, ROVE_COLL_TERRITORY, collect_terr, &tw);

	lc->terrs = calloc(tw.n + 1, sizeof(*lc->terrs));
	if (rc == ROVE_OK && lc->terrs == NULL)
		rc = ROVE_ENOMEM;
	if (rc == ROVE_OK) {
		snprintf(lc->terrs[0], sizeof(lc->terrs[0]), "%s", code);
		lc->nterrs = 1;
		/* Children of what is in, until nothing more comes in. */
		for (bool more = true; more;) {
			more = false;
			for (size_t i = 0; i < tw.n; i++) {
				bool in = false, parent_in = false;
				for (size_t j = 0; j < lc->nterrs; j++) {
					in = in || strcmp(lc->terrs[j], tw.codes[i]) == 0;
					parent_in = parent_in || strcmp(lc->terrs[j], tw.parents[i]) == 0;
				}
				if (!in && parent_in && lc->nterrs < tw.n + 1) {
					snprintf(lc->terrs[lc->nterrs++], sizeof(lc->terrs[0]), "%s", tw.codes[i]);
					more = true;
				}
			}
		}
	}
	free(tw.codes);
	free(tw.parents);
	return rc;
}

/* A --territory this replica does not hold lists nothing: a typo is said
 * on stderr, the list (and its exit status) left as asked, since the
 * territory may be new since the last sync. */
static int warn_unknown_territory(rove_replica *r, const char *code)
{
	terr_walk tw = {NULL, NULL, 0, 0};
	int rc = rove_replica_each(r, ROVE_COLL_TERRITORY, collect_terr, &tw);
	const char *near = NULL;
	bool known = false;

	for (size_t i = 0; rc == ROVE_OK && i < tw.n && !known; i++) {
		known = strcmp(tw.codes[i], code) == 0;
		if (strcasecmp(tw.codes[i], code) == 0)
			near = tw.codes[i];
	}
	if (rc == ROVE_OK && !known)
		rove_warn("no territory '%s' in this replica%s%s%s", code,
			  near != NULL ? " (codes are exact: '" : " (as of its last sync)", near != NULL ? near : "",
			  near != NULL ? "')" : "");
	free(tw.codes);
	free(tw.parents);
	return rc;
}

int rec_list_filters(rove_replica *r, rec_list_ctx *lc, const char *territory)
{
	if (lc->search != NULL) {
		size_t d = 0, len = strlen(lc->search);
		/* "ＡＣＭＥ １３８" typed in an input method's full-width
		 * mode finds ACME 138 (attack seventy-three), and "acme" what
		 * is stored in full-width forms: both sides are compared in a
		 * search's form (rove_text_fold_search: also case beyond
		 * ASCII, "émile" finds Émile), as the replica keeps its
		 * records' search text. */
		if (len > ROVE_MAX_STR)
			len = ROVE_MAX_STR;
		rove_text_fold_search(lc->search, len, lc->search_low, sizeof(lc->search_low));
		if (rove_text_fold_width(lc->search, len, lc->search_folded, sizeof(lc->search_folded)) != len)
			lc->search = lc->search_folded;
		/* Its digits are a phone's only when it is written as one (digits
		 * and a phone's marks): "Room 101" is no part of 021-5555-0101
		 * (attack seventy-eight), though the address holding it is found. */
		if (strspn(lc->search, "0123456789 +-().") == strlen(lc->search))
			for (const char *p = lc->search; *p != '\0' && d < ROVE_MAX_STR; p++)
				if (isdigit((unsigned char)*p))
					lc->search_digits[d++] = *p;
		lc->search_digits[d] = '\0';
		if (d >= 3)
			phone_digits(lc->search, lc->search_phone);
		/* a tax id's start or part, as people write it (4 or more) */
		if (rove_taxid_normalise(lc->search, strlen(lc->search), lc->search_tax, sizeof(lc->search_tax)) < 4)
			lc->search_tax[0] = '\0';
		/* the tax id's form in the kept text (kept_match) */
		for (size_t i = 0; i < sizeof(lc->search_tax_low); i++)
			if ((lc->search_tax_low[i] = (char)tolower((unsigned char)lc->search_tax[i])) == '\0')
				break;
	}
	return territory != NULL ? territory_subtree(r, territory, lc) : ROVE_OK;
}

/* Counts a record (the walk stops at the first: limit 1). */
static int count_one(rec_list_ctx *lc, const rove_record *rec, bool pending)
{
	(void)rec;
	(void)pending;
	(*(size_t *)lc->arg)++;
	return ROVE_OK;
}

int rec_customer_named(rove_replica *r, const rove_coll_def *c, bool history, const rove_uuid *id,
		       const char *idtext)
{
	rove_record *rec = malloc(sizeof(*rec));
	int rc = rec == NULL ? ROVE_ENOMEM : rove_replica_get(r, ROVE_COLL_CUSTOMER, id, rec);

	free(rec);
	if (rc == ROVE_ENOTFOUND) {
		size_t n = 0;
		rec_list_ctx probe = {
			.c = c, .parent = idtext, .history = history, .emit = count_one, .arg = &n, .limit = 1};
		rc = rec_list_walk(r, &probe);
		if (rc == ROVE_OK && n == 0) {
			rove_error("no customer '%s' in this replica" CLI_NOT_HERE, idtext);
			return ROVE_ENOTFOUND;
		}
	}
	if (rc != ROVE_OK && rc != ROVE_ENOTFOUND)
		rove_error("cannot read customer '%s': %s", idtext, rove_strerror(rc));
	return rc;
}

/* --sort FIELD[:desc] into lc (FIELD copied into sortf); false when it
 * names no field of lc's collection (said). */
static bool sort_arg(rec_list_ctx *lc, const char *arg, char sortf[ROVE_MAX_FIELD_NAME + 1])
{
	const char *colon = strchr(arg, ':');
	size_t len = colon != NULL ? (size_t)(colon - arg) : strlen(arg);
	bool ok;

	lc->desc = colon != NULL && strcmp(colon, ":desc") == 0;
	ok = len <= ROVE_MAX_FIELD_NAME && (colon == NULL || lc->desc || strcmp(colon, ":asc") == 0);
	if (ok) {
		memcpy(sortf, arg, len);
		sortf[len] = '\0';
		/* its JSON's fields: the id and the pending mark too (SPEC:
		 * --sort FIELD) */
		ok = rove_schema_field(lc->c, sortf) != NULL || strcmp(sortf, "id") == 0 || strcmp(sortf, "pending") == 0;
	}
	if (!ok)
		rove_error("--sort takes a field of %s (or id, pending), then :desc if it goes down ('%s')", lc->c->name,
			   arg);
	lc->sort = sortf;
	return ok;
}

/* --limit N into lc; false when it is not 1 to ROVE_MAX_LIST_LIMIT (said). */
static bool limit_arg(rec_list_ctx *lc, const char *arg)
{
	uint64_t n = 0;

	if (!rove_text_uint(arg, ROVE_MAX_LIST_LIMIT, &n) || n == 0) {
		rove_error("--limit takes a number of records, 1 to %u ('%s')", ROVE_MAX_LIST_LIMIT, arg);
		return false;
	}
	lc->limit = (size_t)n;
	return true;
}

/* A --search: text as stored text can be (rove_text_check: well-formed
 * UTF-8, no control characters but line feeds and tabs), which alone
 * can match; bytes that are no UTF-8 matched any stored character
 * holding them (attack seventy-eight). Said. */
static bool search_arg(const char *arg)
{
	char shown[ROVE_TEXT_QUOTE_BUF];

	if (rove_text_check(arg, strlen(arg), ROVE_TEXT_ALLOW_LINES, NULL, NULL) == ROVE_TEXT_OK)
		return true;
	rove_error("--search takes text (UTF-8, no control characters); '%s' is not",
		   rove_text_quote(arg, strlen(arg), shown));
	return false;
}

int rec_history_args(rec_list_ctx *lc, int argc, char **argv, char sortf[ROVE_MAX_FIELD_NAME + 1])
{
	static const struct option history_opts[] = {
		{"json", no_argument, NULL, OPT_JSON},
		{"search", required_argument, NULL, OPT_SEARCH},
		{"sort", required_argument, NULL, OPT_SORT},
		{"limit", required_argument, NULL, OPT_LIMIT},
		{NULL, 0, NULL, 0},
	};
	cli_opt o;
	int k;

	lc->parent = NULL;
	cli_opt_init(&o, argc, argv, 2, history_opts);
	while ((k = cli_opt_next(&o)) != CLI_OPT_END) {
		switch (k) {
		case 'h':
			return REC_ARGS_HELP;
		case OPT_JSON:
			lc->json = true;
			break;
		case OPT_SEARCH:
			if (!search_arg(o.arg))
				return REC_ARGS_USAGE;
			lc->search = o.arg;
			break;
		case OPT_SORT:
			if (!sort_arg(lc, o.arg, sortf))
				return REC_ARGS_USAGE;
			break;
		case OPT_LIMIT:
			if (!limit_arg(lc, o.arg))
				return REC_ARGS_USAGE;
			break;
		case CLI_OPT_WORD:
			if (lc->parent != NULL) {
				cli_opt_unexpected(&o, k);
				return REC_ARGS_USAGE;
			}
			lc->parent = o.arg;
			break;
		default:
			cli_opt_unexpected(&o, k); /* an unknown option, one without its value */
			return REC_ARGS_USAGE;
		}
	}
	if (lc->parent == NULL) {
		rove_error("missing ID");
		return REC_ARGS_USAGE;
	}
	return REC_ARGS_OK;
}

int rec_list(rove_cli *cli, const rove_coll_def *c, int argc, char **argv)
{
	rec_list_ctx lc = {.c = c};
	const rove_field_def *pf = rove_schema_parent_field(c);
	const char *territory = NULL;
	bool mine = false;
	rove_replica r;
	rove_uuid pid;
	char pids[ROVE_UUID_STRLEN + 1], sortf[ROVE_MAX_FIELD_NAME + 1], cmd[ROVE_MAX_NAME + 8];
	cli_opt o;
	int k, rc;

	snprintf(cmd, sizeof(cmd), "%s list", c->name);
	cli_opt_init(&o, argc, argv, 2, pf != NULL ? list_opts : list_opts + 1);
	while ((k = cli_opt_next(&o)) != CLI_OPT_END) {
		bool ok = true;
		switch (k) {
		case 'h':
			list_usage(c, stdout);
			return ROVE_EXIT_OK;
		case OPT_JSON:
			lc.json = true;
			break;
		case OPT_WIDE:
			lc.wide = true;
			break;
		case OPT_CUSTOMER:
			lc.parent = o.arg;
			break;
		case OPT_SEARCH:
			ok = search_arg(o.arg);
			lc.search = o.arg;
			break;
		case OPT_SORT:
			ok = sort_arg(&lc, o.arg, sortf);
			break;
		case OPT_LIMIT:
			ok = limit_arg(&lc, o.arg);
			break;
		case OPT_MINE:
			ok = has_field(c, "owner", "--mine");
			mine = true;
			break;
		case OPT_POOL: /* a customer's: a deal always has an owner */
			ok = has_field(c, "owner", "--pool") && has_field(c, "territory", "--pool");
			lc.pool = true;
			break;
		case OPT_OWNER:
			ok = has_field(c, "owner", "--owner") && name_value("--owner", o.arg, false, c->id);
			lc.owner = o.arg;
			break;
		case OPT_TERRITORY:
			ok = has_field(c, "territory", "--territory") && name_value("--territory", o.arg, true, c->id);
			territory = o.arg;
			break;
		case OPT_TIER:
			ok = has_field(c, "tier", "--tier") && enum_value(c, "tier", "--tier", o.arg);
			lc.tier = o.arg;
			break;
		case OPT_STAGE:
			ok = has_field(c, "stage", "--stage") && enum_value(c, "stage", "--stage", o.arg);
			lc.stage = o.arg;
			break;
		default:
			/* what is wrong, then the usage (attack 101: the first alone) */
			cli_opt_unexpected_in(&o, k, cmd);
			list_usage(c, stderr);
			return ROVE_EXIT_USAGE;
		}
		if (!ok)
			return ROVE_EXIT_USAGE;
	}
	/* Alternatives: together they printed nothing (attack sixty-one) */
	if ((mine ? 1 : 0) + (lc.pool ? 1 : 0) + (lc.owner != NULL ? 1 : 0) > 1) {
		rove_error("--mine, --pool and --owner are alternatives: give one");
		return ROVE_EXIT_USAGE;
	}
	/* Activities newest first unless sorted otherwise: a timeline. */
	if (lc.sort == NULL && c->id == ROVE_COLL_ACTIVITY) {
		lc.sort = "at";
		lc.desc = true;
	}
	if (lc.parent != NULL && !cli_id_maybe(lc.parent))
		return cli_exit(cli_id_arg(lc.parent, "customer", &pid));
	rc = cli_open(cli, &r);
	if (rc != ROVE_OK)
		return cli_exit(rc);
	if (mine)
		lc.owner = r.auth.user;
	rc = rec_list_filters(&r, &lc, territory);
	if (rc == ROVE_OK && territory != NULL)
		rc = warn_unknown_territory(&r, territory);
	if (rc != ROVE_OK) {
		rove_error("cannot read the territories: %s", rove_strerror(rc));
		rove_replica_close(&r);
		free(lc.terrs);
		return cli_exit(rc);
	}
	if (lc.parent != NULL) {
		/* An abbreviation must name a customer this replica holds. A
		 * whole id may name one it no longer holds whose records it
		 * keeps (a won deal credited to its rep after the customer
		 * moved on); one that names nothing here, neither a customer
		 * nor a record of one, is said so (exit 1), as everywhere an
		 * id is taken (attack nineteen: it printed an empty list). */
		if (rove_uuid_parse(lc.parent, &pid) != ROVE_OK) {
			rc = cli_id_find(&r, ROVE_COLL_CUSTOMER, lc.parent, "customer", &pid);
		} else {
			rove_uuid_format(&pid, pids);
			rc = rec_customer_named(&r, c, false, &pid, pids);
		}
		if (rc != ROVE_OK) {
			rove_replica_close(&r);
			free(lc.terrs);
			return cli_exit(rc);
		}
		rove_uuid_format(&pid, pids); /* as stored: lower case */
		lc.parent = pids;
	}
	return rec_list_print(&r, &lc);
}

/* Columns of the labels of `show`; a value's further lines start after. */
#define SHOW_LABEL 18

int rec_id_args(const rove_coll_def *c, int argc, char **argv, const char **id, bool *json)
{
	cli_opt o;
	int k;

	*id = NULL;
	cli_opt_init(&o, argc, argv, 2, show_opts);
	while ((k = cli_opt_next(&o)) != CLI_OPT_END) {
		if (k == 'h')
			return REC_ARGS_HELP;
		if (k == OPT_JSON)
			*json = true;
		else if (*id == NULL && k == CLI_OPT_WORD)
			*id = o.arg; /* any word but an option: an id that is not one is said so */
		else {
			cli_opt_unexpected(&o, k); /* an unknown option too */
			return REC_ARGS_USAGE;
		}
	}
	if (*id == NULL) {
		rove_error("missing the %s's %s", c->name, c->id == ROVE_COLL_TERRITORY ? "CODE or ID" : "ID");
		return REC_ARGS_USAGE;
	}
	return REC_ARGS_OK;
}

int rec_show(rove_cli *cli, const rove_coll_def *c, int argc, char **argv)
{
	rove_replica r;
	rove_record *rec;
	const char *ids = NULL;
	bool json = false;
	char usage[128];
	int rc;

	snprintf(usage, sizeof(usage), "usage: rove %s show %s [--json]\n", c->name,
		 c->id == ROVE_COLL_TERRITORY ? "CODE|ID" : "ID");
	switch (rec_id_args(c, argc, argv, &ids, &json)) {
	case REC_ARGS_HELP:
		printf("%s\nShow one %s.\n", usage, c->name);
		return ROVE_EXIT_OK;
	case REC_ARGS_USAGE:
		return cli_usage(usage, false);
	}
	rec = malloc(sizeof(*rec));
	if (rec == NULL)
		return ROVE_EXIT_FAIL;
	rc = rec_load(cli, c, ids, &r, rec);
	if (rc != ROVE_OK) {
		free(rec);
		return cli_exit(rc);
	}
	if (json) {
		out_json j;
		out_json_init(&j, stdout);
		out_record_json(&j, c, rec);
		out_json_finish(&j);
	} else {
		char id[ROVE_UUID_STRLEN + 1];
		rove_uuid_format(&rec->id, id);
		printf("%-*s %s\n", SHOW_LABEL, "id:", id);
		for (size_t i = 0; i < c->nfields; i++) {
			const rove_field_def *fd = &c->fields[i];
			const rove_field *f = rove_fields_get(&rec->fs, fd->name);
			rove_value null = rove_vnull();
			char label[ROVE_MAX_FIELD_NAME + 2];
			if (fd->flags & ROVE_FF_HIDDEN)
				continue;
			snprintf(label, sizeof(label), "%s:", fd->name);
			printf("%-*s ", SHOW_LABEL, label);
			out_show_value(stdout, fd, f ? &f->v : &null, SHOW_LABEL + 1);
			putchar('\n');
		}
	}
	rove_replica_close(&r);
	free(rec);
	return ROVE_EXIT_OK;
}
