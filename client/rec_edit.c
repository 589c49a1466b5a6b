/*
 * rec_edit.c - `rove COLLECTION set` and `delete`, and loading a record to
 * change it (rec_load, rec_edit_open and _close), which the customer's
 * pool verbs use too.
 */
#include "rec.h"
#include "cli_opt.h"
#include "err.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

/* Opens the replica and loads record ID of c (a territory: its code or
 * its id); reports errors. */
int rec_load(rove_cli *cli, const rove_coll_def *c, const char *ids, rove_replica *r, rove_record *rec)
{
	bool by_code = false;
	rove_uuid id;
	int rc;

	/* A territory by its code, or else by its id or an abbreviation of
	 * one (a code that could be both is the code's first) */
	if (c->id == ROVE_COLL_TERRITORY && rove_uuid_parse(ids, &id) != ROVE_OK) {
		const rove_field_def *fd = rove_schema_field(c, "code");
		rove_value v = rove_vcstr(ids);
		char why[ROVE_MAX_ERRMSG];
		by_code = ids[0] != '\0' && rove_schema_check_value(fd, &v, why, sizeof(why)) == ROVE_OK;
		if (!by_code && !cli_id_maybe(ids)) {
			rove_error("invalid territory '%s' (a code like east.sh, or an id)", ids);
			return CLI_EUSAGE;
		}
	} else if (!cli_id_maybe(ids) && !cli_id_short(ids)) {
		return cli_id_arg(ids, c->name, &id); /* says why it is none */
	}
	rc = cli_open(cli, r);
	if (rc != ROVE_OK)
		return rc;
	if (by_code) {
		rc = rec_territory_by_code_nocase(r, ids, rec);
		by_code = rc != ROVE_ENOTFOUND || !cli_id_maybe(ids);
	}
	if (!by_code) {
		/* An id, or the start or end of one (reported if none or
		 * several) */
		rc = cli_id_find(r, c->id, ids, c->name, &id);
		if (rc != ROVE_OK) {
			rove_replica_close(r);
			return rc;
		}
		rc = rove_replica_get(r, c->id, &id, rec);
	}
	if (rc == ROVE_ENOTFOUND && !by_code) {
		/* (not "as of its last sync" for a record this replica deleted
		 * itself: attack one hundred and five) */
		enum rove_gone why = ROVE_GONE_ABSENT;
		if (rove_replica_why_gone(r, c->id, &id, &why) != ROVE_OK)
			why = ROVE_GONE_ABSENT;
		if (why == ROVE_GONE_DELETED_HERE)
			rove_error("%s '%s' is deleted in this replica, by a change not synced yet ('rove pending' "
				   "lists it)", c->name, ids);
		else if (why == ROVE_GONE_CUSTOMER_DELETED_HERE)
			rove_error("%s '%s' is gone with its customer, deleted in this replica by a change not "
				   "synced yet ('rove pending' lists it)", c->name, ids);
		else if (why == ROVE_GONE_DELETED)
			rove_error("%s '%s' is deleted", c->name, ids);
		else
			rove_error("no %s '%s' in this replica" CLI_NOT_HERE, c->name, ids);
	} else if (rc == ROVE_ENOTFOUND) {
		rove_error("no %s '%s' in this replica" CLI_NOT_HERE, c->name, ids);
	} else if (rc != ROVE_OK)
		rove_error("cannot read %s '%s': %s", c->name, ids, rove_strerror(rc));
	if (rc != ROVE_OK)
		rove_replica_close(r);
	return rc;
}

int rec_edit_open(rove_cli *cli, const rove_coll_def *c, const char *ids, rec_edit *ch)
{
	int rc;

	ch->rec = malloc(sizeof(*ch->rec));
	ch->op = malloc(sizeof(*ch->op));
	if (ch->rec == NULL || ch->op == NULL) {
		rove_error("out of memory");
		rc = ROVE_ENOMEM;
	} else {
		rc = rec_load(cli, c, ids, &ch->r, ch->rec);
		/* A replica whose user or id is damaged: said before any check
		 * that reads them (attack sixty-six: "you do not own this
		 * customer") */
		if (rc == ROVE_OK && ch->r.bad_self != NULL) {
			rc = rove_replica_writable(&ch->r);
			rove_replica_close(&ch->r);
		}
	}
	if (rc != ROVE_OK) {
		free(ch->rec);
		free(ch->op);
	}
	return rc;
}

int rec_edit_close(rec_edit *ch, int rc)
{
	if (rc == ROVE_OK)
		rc = rec_write_op(&ch->r, ch->op, ch->rec);
	rove_replica_close(&ch->r);
	free(ch->rec);
	free(ch->op);
	return cli_exit(rc);
}

/* The fields `set` takes, "name, tax_id, ..." into out. */
static void field_names(const rove_coll_def *c, char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < c->nfields; i++) {
		int k;
		if (c->fields[i].flags & (ROVE_FF_SYSTEM | ROVE_FF_HIDDEN | ROVE_FF_PARENT))
			continue;
		k = snprintf(out + n, len - n, "%s%s", n ? ", " : "", c->fields[i].name);
		if (k < 0 || (size_t)k >= len - n)
			break;
		n += (size_t)k;
	}
}

int rec_change(rove_cli *cli, const rove_coll_def *c, int argc, char **argv, bool del)
{
	char set_help[160], del_help[160];
	rove_stamp st0 = {{0}, 0};
	rec_edit ch;
	int rc;

	snprintf(set_help, sizeof(set_help),
		 "usage: rove %s set ID FIELD=VALUE...\n\nChange fields (an empty VALUE clears one; each field "
		 "once). Field names as in --json.\n",
		 c->name);
	snprintf(del_help, sizeof(del_help),
		 "usage: rove %s delete ID\n\nDelete a record (managers and admins; reps delete nothing).\n", c->name);
	if (cli_opt_help(argc, argv, 2) && !del) {
		printf("usage: rove %s set ID FIELD=VALUE...\n\nChange fields (an empty VALUE clears one; each field "
		       "once). Field names as in --json:\n",
		       c->name);
		rec_fields_help(c, stdout, true);
		return ROVE_EXIT_OK;
	}
	if (cli_opt_help(argc, argv, 2))
		return cli_usage(del_help, true);
	if (argc < 3 || (del && argc != 3) || (!del && argc < 4)) {
		if (argc < 3)
			rove_error("missing the %s's ID", c->name);
		else if (del)
			cli_word_unexpected(argv[3]);
		else
			rove_error("missing FIELD=VALUE: what to change");
		return cli_usage(del ? del_help : set_help, false);
	}
	/* The command line's form first (exit 2), then the record and the
	 * values (exit 1). */
	for (int i = 3; !del && i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		if (eq == NULL) {
			rove_error("expected FIELD=VALUE, got '%s'", argv[i]);
			return ROVE_EXIT_USAGE;
		}
		if (rec_field_arg(c, argv[i], (size_t)(eq - argv[i])) == NULL) {
			char names[512];
			field_names(c, names, sizeof(names));
			rove_error("unknown %s field '%.*s' (%s fields: %s)", c->name, (int)(eq - argv[i]), argv[i],
				   c->name, names);
			return ROVE_EXIT_USAGE;
		}
		if (rec_field_repeated(c, argv, 3, i)) {
			rove_error("%.*s is given twice: give each field once", (int)(eq - argv[i]), argv[i]);
			return ROVE_EXIT_USAGE;
		}
	}
	/* A deal given to someone: whom the server knows (asked first, the
	 * replica closed meanwhile). */
	if (!del && c->id == ROVE_COLL_OPPORTUNITY) {
		int status = opportunity_owner_check(cli, c, argv[2], argc - 3, argv + 3);
		if (status != ROVE_EXIT_OK)
			return status;
	}
	rc = rec_edit_open(cli, c, argv[2], &ch);
	if (rc != ROVE_OK)
		return cli_exit(rc);
	rove_op_init(ch.op, del ? ROVE_OP_DELETE : ROVE_OP_UPDATE, c->id, &ch.rec->id, st0);
	if (del)
		rc = rove_op_set(ch.op, ROVE_FIELD_DELETED, rove_vint(1));
	for (int i = 3; !del && i < argc && rc == ROVE_OK; i++) {
		const char *eq = strchr(argv[i], '=');
		rc = rec_set_field(ch.op, rec_field_arg(c, argv[i], (size_t)(eq - argv[i])), eq + 1);
	}
	return rec_edit_close(&ch, rc);
}

static int set_words(rove_cli *cli, int argc, char **argv, void *c)
{
	const rove_coll_def *coll = c;

	/* A deal's closed_on is the server's (SPEC rule 13: the day it is
	 * won or lost): given with a stage it was accepted and replaced
	 * without a word (attack seventy-three); `opportunity stage` sets
	 * it for the replica's view, the server for good. */
	for (int i = 3; coll->id == ROVE_COLL_OPPORTUNITY && i < argc; i++)
		if (strncmp(argv[i], "closed_on=", 10) == 0) {
			rove_error("closed_on is the server's: it becomes the day a deal is won or lost, and is "
				   "cleared when it is reopened (use 'rove opportunity stage ID won'; a deal won in "
				   "the past is imported or added with its closed_on)");
			return ROVE_EXIT_FAIL;
		}
	return rec_change(cli, c, argc, argv, false);
}

static int delete_words(rove_cli *cli, int argc, char **argv, void *c)
{
	return rec_change(cli, c, argc, argv, true);
}

int rec_set(rove_cli *cli, const rove_coll_def *c, int argc, char **argv)
{
	return cli_on_words(cli, argc, argv, 2, set_words, (void *)c);
}

int rec_delete(rove_cli *cli, const rove_coll_def *c, int argc, char **argv)
{
	return cli_on_words(cli, argc, argv, 2, delete_words, (void *)c);
}
