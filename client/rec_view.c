/*
 * rec_view.c - `rove COLLECTION list` and `show`: records as a table, as
 * labelled lines, or as JSON (out.h).
 */
#include "rec.h"
#include "cli_opt.h"
#include "err.h"
#include "log.h"

#include <ctype.h>
#include <string.h>
#include <stdlib.h>

/* Terminal columns of a field in `list` tables. */
static int column_width(const rove_field_def *fd)
{
	if (strcmp(fd->name, "name") == 0)
		return 28;
	if (fd->type == ROVE_FT_STR && fd->maxlen > 32)
		return 20;
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

static int rec_list_one(const rove_record *rec, bool pending, void *arg)
{
	rec_list_ctx *lc = arg;
	char id[ROVE_UUID_STRLEN + 1];

	if (lc->parent != NULL) {
		const rove_field_def *pf = rove_schema_parent_field(lc->c);
		const char *p = pf ? rove_fields_str(&rec->fs, pf->name) : NULL;
		if (p == NULL || strcmp(p, lc->parent) != 0)
			return ROVE_OK;
	}

	if (lc->json) {
		out_record_json_marked(&lc->j, lc->c, rec, pending);
	} else {
		rove_uuid_format(&rec->id, id);
		printf("%-36s%c", id, pending ? '*' : ' ');
		for (size_t i = 0; i < lc->c->nfields; i++) {
			const rove_field_def *fd = &lc->c->fields[i];
			const rove_field *f;
			char text[64];
			rove_value null = rove_vnull();
			if (!(fd->flags & ROVE_FF_LIST))
				continue;
			f = rove_fields_get(&rec->fs, fd->name);
			out_value_text(fd, f ? &f->v : &null, text, sizeof(text));
			fputs("  ", stdout);
			out_cell(stdout, text, column_width(fd));
		}
		putchar('\n');
	}
	lc->n++;
	return ROVE_OK;
}

static void rec_print_header(const rove_coll_def *c)
{
	printf("%-37s", "ID");
	for (size_t i = 0; i < c->nfields; i++) {
		char up[ROVE_MAX_FIELD_NAME + 1];
		size_t k;
		if (!(c->fields[i].flags & ROVE_FF_LIST))
			continue;
		for (k = 0; c->fields[i].name[k]; k++)
			up[k] = (char)toupper((unsigned char)c->fields[i].name[k]);
		up[k] = '\0';
		fputs("  ", stdout);
		out_cell(stdout, up, column_width(&c->fields[i]));
	}
	putchar('\n');
}

enum { OPT_CUSTOMER = CLI_OPT_LONG, OPT_JSON };

/* The options of `list` (its usage is in rec_list); a collection without
 * a parent field has no --customer, and `show` has only --json (both
 * list_opts + 1). */
static const struct option list_opts[] = {
	{"customer", required_argument, NULL, OPT_CUSTOMER},
	{"json", no_argument, NULL, OPT_JSON},
	{NULL, 0, NULL, 0},
};

int rec_list_print(rove_replica *r, rec_list_ctx *lc)
{
	int rc;

	if (!lc->json)
		rec_print_header(lc->c);
	rec_list_begin(lc);
	rc = rove_replica_each_marked(r, lc->c->id, rec_list_one, lc);
	rove_replica_close(r);
	rec_list_end(lc);
	return cli_exit(rc);
}

int rec_list(rove_cli *cli, const rove_coll_def *c, int argc, char **argv)
{
	rec_list_ctx lc = {.c = c};
	const rove_field_def *pf = rove_schema_parent_field(c);
	rove_replica r;
	rove_uuid pid;
	char pids[ROVE_UUID_STRLEN + 1];
	cli_opt o;
	int k, rc;

	cli_opt_init(&o, argc, argv, 2, pf != NULL ? list_opts : list_opts + 1);
	while ((k = cli_opt_next(&o)) != CLI_OPT_END) {
		switch (k) {
		case 'h':
			printf("usage: rove %s list%s [--json]\n\nList the %ss this replica holds.\n", c->name,
			       pf ? " [--customer ID]" : "", c->name);
			return ROVE_EXIT_OK;
		case OPT_JSON:
			lc.json = true;
			break;
		case OPT_CUSTOMER:
			lc.parent = o.arg;
			break;
		case CLI_OPT_NOVALUE:
			rove_error("option '%s' needs a value", o.arg);
			return ROVE_EXIT_USAGE;
		default:
			rove_error("unexpected argument '%s'", o.arg);
			return ROVE_EXIT_USAGE;
		}
	}
	if (lc.parent != NULL && !cli_id_maybe(lc.parent))
		return cli_exit(cli_id_arg(lc.parent, "customer", &pid));
	rc = cli_open(cli, &r);
	if (rc != ROVE_OK)
		return cli_exit(rc);
	if (lc.parent != NULL) {
		/* A whole id: a customer this replica does not hold (any more)
		 * has no children here, the list is empty. An abbreviation must
		 * name one it holds. */
		if (rove_uuid_parse(lc.parent, &pid) != ROVE_OK)
			rc = cli_id_find(&r, ROVE_COLL_CUSTOMER, lc.parent, "customer", &pid);
		if (rc != ROVE_OK) {
			rove_replica_close(&r);
			return cli_exit(rc);
		}
		rove_uuid_format(&pid, pids); /* as stored: lower case */
		lc.parent = pids;
	}
	return rec_list_print(&r, &lc);
}

/* Columns of the labels of `show`; a value's further lines start after. */
#define SHOW_LABEL 18

int rec_id_args(int argc, char **argv, const char **id, bool *json)
{
	cli_opt o;
	int k;

	*id = NULL;
	cli_opt_init(&o, argc, argv, 2, list_opts + 1);
	while ((k = cli_opt_next(&o)) != CLI_OPT_END) {
		if (k == 'h')
			return REC_ARGS_HELP;
		if (k == OPT_JSON)
			*json = true;
		else if (*id == NULL && k == CLI_OPT_WORD)
			*id = o.arg; /* any word but an option: an id that is not one is said so */
		else
			return REC_ARGS_USAGE; /* an unknown option too */
	}
	return *id != NULL ? REC_ARGS_OK : REC_ARGS_USAGE;
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
	switch (rec_id_args(argc, argv, &ids, &json)) {
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
