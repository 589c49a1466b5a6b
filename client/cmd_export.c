/*
 * cmd_export.c - `rove export`: the records of one kind a replica holds
 * (the kinds `rove import` takes), as CSV (what `rove import` reads back)
 * or as JSON.
 */
#include "cli.h"
#include "cli_opt.h"
#include "csv.h"
#include "err.h"
#include "ident.h"
#include "import_ref.h"
#include "keyset.h"
#include "log.h"
#include "out.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

typedef struct exporter {
	const rove_coll_def *c;
	bool json;
	out_json j; /* the array, with json */
	size_t n;
	/* --portable: a child's customer named by its tax id, read through
	 * r into scratch (owned; NULL otherwise) */
	rove_replica *r;
	rove_record *scratch;
	size_t pending; /* records with changes the server has not confirmed */
	size_t by_id;   /* --portable: children named by id all the same */
	/* --portable: the tax ids held by two customers or more of this
	 * replica (its own create, which the server is to refuse as a
	 * duplicate, and another's pulled since: attack 108), whose
	 * children are named by their customer's id (counted in twins);
	 * taxes, every customer's, to find them; both as rove_uniq_key_make
	 * keys, compared normalised as the import and the server compare */
	key_set taxes, twin_taxes;
	size_t twins;
} exporter;

/* rove_replica_each_marked's fn over the customers, before a --portable
 * export of children: fills ex->taxes and ex->twin_taxes. */
static int note_tax(const rove_record *rec, bool pending, void *arg)
{
	exporter *ex = arg;
	const key_slot *dup = NULL;
	rove_uniq_key k;
	int rc;

	(void)pending;
	if (!rove_uniq_key_make("tax_id", rove_fields_str(&rec->fs, "tax_id"), &k))
		return ROVE_OK;
	rc = key_put(&ex->taxes, k.key, k.len, 0, &rec->id, &dup);
	if (rc == ROVE_OK && dup != NULL)
		rc = key_put(&ex->twin_taxes, k.key, k.len, 0, &rec->id, &dup);
	return rc;
}

/* The tax id of a child's customer (rec's parent field), or NULL when
 * this replica does not hold the customer or it has none; *rc a
 * storage error. */
static const char *parent_tax_id(exporter *ex, const rove_record *rec, int *rc)
{
	const char *ref = rove_fields_str(&rec->fs, rove_schema_parent_field(ex->c)->name), *tax;
	rove_uuid id;

	*rc = ROVE_OK;
	if (ref == NULL || rove_uuid_parse(ref, &id) != ROVE_OK)
		return NULL;
	*rc = rove_replica_get(ex->r, ex->c->parent, &id, ex->scratch);
	if (*rc == ROVE_ENOTFOUND) {
		*rc = ROVE_OK; /* (scratch still holds the last customer read: attack 109) */
		return NULL;
	}
	if (*rc != ROVE_OK)
		return NULL;
	tax = rove_fields_str(&ex->scratch->fs, "tax_id");
	return tax != NULL && tax[0] != '\0' ? tax : NULL;
}

/* A child's customer cell with --portable: REF_TAX_PREFIX and its
 * customer's tax id (the form 'rove import' reads on any server), or
 * the id as it is (counted in by_id). */
static int put_customer_ref(exporter *ex, const rove_record *rec, const rove_field *f)
{
	char cell[sizeof(REF_TAX_PREFIX) + ROVE_TAXID_LEN];
	rove_uniq_key k;
	int rc;
	const char *tax = parent_tax_id(ex, rec, &rc);

	if (rc != ROVE_OK)
		return rc;
	/* (a tax id longer than any valid one is a damaged value: the id) */
	if (tax == NULL || strlen(tax) > ROVE_TAXID_LEN) {
		ex->by_id++;
		rove_csv_put(stdout, f->v.s, f->v.len);
		return ROVE_OK;
	}
	if (rove_uniq_key_make("tax_id", tax, &k) && key_find(&ex->twin_taxes, k.key, k.len, key_hash(k.key, k.len)) != NULL) {
		ex->twins++;
		rove_csv_put(stdout, f->v.s, f->v.len);
		return ROVE_OK;
	}
	snprintf(cell, sizeof(cell), "%s%s", REF_TAX_PREFIX, tax);
	rove_csv_put(stdout, cell, strlen(cell));
	return ROVE_OK;
}

static int export_one(const rove_record *rec, bool pending, void *arg)
{
	exporter *ex = arg;
	char id[ROVE_UUID_STRLEN + 1];

	if (pending)
		ex->pending++;
	if (ex->json) {
		out_record_json(&ex->j, ex->c, rec);
	} else {
		rove_uuid_format(&rec->id, id);
		fputs(id, stdout);
		for (size_t i = 0; i < ex->c->nfields; i++) {
			const rove_field_def *fd = &ex->c->fields[i];
			const rove_field *f;

			if (fd->flags & ROVE_FF_HIDDEN)
				continue;
			putchar(',');
			f = rove_fields_get(&rec->fs, fd->name);
			if (f == NULL)
				continue;
			if (ex->scratch != NULL && (fd->flags & ROVE_FF_PARENT) && f->v.type == ROVE_V_STR) {
				int rc = put_customer_ref(ex, rec, f);
				if (rc != ROVE_OK)
					return rc;
			} else if (f->v.type == ROVE_V_INT && fd->type == ROVE_FT_MONEY) {
				/* in units, as import (and the command line) reads it */
				char units[OUT_MONEY_TEXT];
				out_money(f->v.i, units, sizeof(units));
				fputs(units, stdout);
			} else if (f->v.type == ROVE_V_INT) {
				printf("%" PRId64, f->v.i);
			}
			else if (f->v.type == ROVE_V_STR)
				rove_csv_put(stdout, f->v.s, f->v.len);
		}
		fputs(ROVE_CSV_EOL, stdout);
	}
	ex->n++;
	return ferror(stdout) ? ROVE_EIO : ROVE_OK;
}

static const char help[] =
	"usage: rove export KIND [--csv|--json] [--bom] [--portable]\n"
	"\n"
	"Write every record of one kind this replica holds to standard output.\n"
	"KIND is one of those 'rove import' takes: customers, contacts,\n"
	"opportunities, contracts, activities, dealers.\n"
	"\n"
	"  --csv   (the default) CSV as RFC 4180 has it: a header row of the JSON\n"
	"          field names, id first, then a row per record, CRLF line ends,\n"
	"          cells quoted when they hold a comma, a quote or a line break.\n"
	"          A cell holds what --json prints (ids, ISO 8601 times) but for\n"
	"          money, in units as on the command line (12000.50, where JSON\n"
	"          has integer cents), and is empty for null, so 'rove import'\n"
	"          reads the file back as it is: it ignores id, last_activity_at,\n"
	"          created_at and author, saying so (an import makes new\n"
	"          records: into a replica that still holds a row's id, that row\n"
	"          is refused as a second copy), and owner but for managers and\n"
	"          admins, whose import gives each customer or deal to the rep\n"
	"          it names (checked against the server's users). A child's\n"
	"          customer column holds its customer's id (see --portable). A\n"
	"          cell starting with = + - @ or a tab gets a single quote in\n"
	"          front, so that a spreadsheet shows it as text instead of\n"
	"          running it as a formula; import takes it off.\n"
	"  --json  the array the kind's 'list --json' prints, without its\n"
	"          \"pending\" mark (what this replica has not sent yet)\n"
	"  --bom   start the CSV with a UTF-8 byte order mark, so that Excel\n"
	"          shows Chinese text correctly\n"
	"  --portable\n"
	"          for 'rove import' on another server, where the customers\n"
	"          have new ids: a child's customer cell holds tax_id:XXXX, its\n"
	"          customer's tax id, where the customer has one (its id\n"
	"          where it has none, or shares it with another customer of\n"
	"          this replica that the server has not confirmed: their\n"
	"          count is said on stderr). Import the customers first. CSV\n"
	"          only.\n"
	"A CSV export says on stderr how many of its records have changes not\n"
	"synced yet (the server may still refuse them).\n";

static const char usage[] =
	"usage: rove export customers|contacts|opportunities|contracts|activities|dealers [--csv|--json] [--bom] [--portable]\n";

enum { OPT_JSON = CLI_OPT_LONG, OPT_CSV, OPT_BOM, OPT_PORTABLE };

static const struct option opts[] = {
	{"json", no_argument, NULL, OPT_JSON},
	{"csv", no_argument, NULL, OPT_CSV},
	{"bom", no_argument, NULL, OPT_BOM},
	{"portable", no_argument, NULL, OPT_PORTABLE},
	{NULL, 0, NULL, 0},
};

int cmd_export(rove_cli *cli, int argc, char **argv)
{
	exporter ex = {.c = NULL};
	bool bom = false, csv = false, portable = false;
	rove_replica r;
	cli_opt o;
	int k, rc;

	if (cli_opt_help(argc, argv, 1))
		return cli_usage(help, true);
	cli_opt_init(&o, argc, argv, 1, opts);
	while ((k = cli_opt_next(&o)) != CLI_OPT_END) {
		if (k == OPT_JSON) {
			ex.json = true;
		} else if (k == OPT_CSV) {
			csv = true;
		} else if (k == OPT_BOM) {
			bom = true;
		} else if (k == OPT_PORTABLE) {
			portable = true;
		} else if (k == CLI_OPT_WORD && ex.c == NULL && o.arg[0] != '-' && cli_io_coll(o.arg) != NULL) {
			ex.c = cli_io_coll(o.arg);
		} else {
			if (k == CLI_OPT_WORD && ex.c == NULL && o.arg[0] != '-')
				rove_error("no kind of record '%s' to export", o.arg);
			else if (!cli_opt_said(k))
				cli_word_unexpected(o.arg);
			return cli_usage(usage, false);
		}
	}
	if (ex.c == NULL) {
		rove_error("missing what to export");
		return cli_usage(usage, false);
	}
	if (csv && ex.json) {
		rove_error("--json and --csv cannot be used together");
		return cli_usage(usage, false);
	}
	if (bom && ex.json) {
		rove_error("--bom is for CSV");
		return cli_usage(usage, false);
	}
	if (portable && ex.json) {
		rove_error("--portable is for CSV");
		return cli_usage(usage, false);
	}
	rc = cli_open(cli, &r);
	if (rc != ROVE_OK)
		return cli_exit(rc);
	if (portable && ex.c->parent != 0) {
		ex.r = &r;
		ex.scratch = malloc(sizeof(*ex.scratch));
		rc = ex.scratch == NULL ? ROVE_ENOMEM : rove_replica_each_marked(&r, ex.c->parent, note_tax, &ex);
		if (rc != ROVE_OK) {
			rove_replica_close(&r);
			free(ex.scratch);
			key_set_free(&ex.taxes);
			key_set_free(&ex.twin_taxes);
			if (rc == ROVE_ENOMEM)
				rove_error("out of memory");
			else
				rove_error("cannot read the replica: %s", rove_strerror(rc));
			return cli_exit(rc);
		}
	}
	if (!ex.json) {
		if (bom)
			fputs("\xef\xbb\xbf", stdout);
		fputs("id", stdout);
		for (size_t i = 0; i < ex.c->nfields; i++)
			if (!(ex.c->fields[i].flags & ROVE_FF_HIDDEN))
				printf(",%s", ex.c->fields[i].name);
		fputs(ROVE_CSV_EOL, stdout);
	}
	if (ex.json) {
		out_json_begin_list(&ex.j, stdout);
	}
	rc = rove_replica_each_marked(&r, ex.c->id, export_one, &ex);
	rove_replica_close(&r);
	free(ex.scratch);
	key_set_free(&ex.taxes);
	key_set_free(&ex.twin_taxes);
	/* (a failed walk: left unclosed, as rec_list_print's) */
	if (ex.json && rc == ROVE_OK) {
		out_json_end_list(&ex.j);
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		rc = ROVE_EIO;
	/* What a file for another replica or server should say it holds
	 * (attack 108: a rep's customer the server was to refuse as a
	 * duplicate went out unmarked, its children with it). */
	if (rc == ROVE_OK && ex.pending > 0 && !ex.json) /* (JSON: the scripts' form; lists mark them) */
		rove_warn("%zu of these %zu records %s changes the server has not confirmed yet ('rove sync' first; "
			  "'rove pending' lists them)",
			  ex.pending, ex.n, ex.pending == 1 ? "has" : "have");
	if (rc == ROVE_OK && ex.by_id > 0)
		rove_warn("%zu of these %zu records name their customer by its id here (it has no tax id, or this "
			  "replica no longer holds it): another server holds no such id; give the customer a tax id, "
			  "or the rows their customer's new id",
			  ex.by_id, ex.n);
	if (rc == ROVE_OK && ex.twins > 0)
		rove_warn("%zu of these %zu records name their customer by its id here: its tax id is another "
			  "customer's too in this replica, one the server has not confirmed ('rove sync' first: the "
			  "server refuses one of the two as a duplicate)",
			  ex.twins, ex.n);
	if (rc == ROVE_EIO)
		rove_error("cannot write the export: %s", strerror(errno));
	else if (rc != ROVE_OK)
		rove_error("cannot read the replica: %s", rove_strerror(rc));
	return cli_exit(rc);
}
