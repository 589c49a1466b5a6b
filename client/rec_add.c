/*
 * rec_add.c - `rove COLLECTION add`: a new record from options named after
 * the collection's fields (`--tax-id X` sets tax_id), its help written
 * from the schema.
 */
#include "rec.h"
#include "cli_opt.h"
#include "err.h"
#include "hlc.h"
#include "log.h"
#include "rules.h"
#include "rove_assert.h"

#include <stdlib.h>
#include <string.h>

/* The option of field fd: tax_id -> tax-id. */
static void option_name(const rove_field_def *fd, char opt[ROVE_MAX_FIELD_NAME + 1])
{
	snprintf(opt, ROVE_MAX_FIELD_NAME + 1, "%s", fd->name);
	for (char *p = opt; *p; p++)
		if (*p == '_')
			*p = '-';
}

void rec_fields_help(const rove_coll_def *c, FILE *f, bool settable)
{
	for (size_t i = 0; i < c->nfields; i++) {
		const rove_field_def *fd = &c->fields[i];
		char why[ROVE_MAX_ERRMSG + 1];
		if ((fd->flags & ROVE_FF_SYSTEM) || (settable && (fd->flags & ROVE_FF_PARENT)))
			continue;
		/* what no update by anyone may set (a deal's closed_on) */
		if (settable && rove_rules_may_set(ROVE_ROLE_ADMIN, c->id, fd->name, why, sizeof(why)) == ROVE_R_FORBIDDEN &&
		    rove_rules_may_set(ROVE_ROLE_MANAGER, c->id, fd->name, why, sizeof(why)) == ROVE_R_FORBIDDEN)
			continue;
		if (fd->type == ROVE_FT_ENUM) {
			fprintf(f, "  %s: one of", fd->name);
			for (const char *const *e = fd->values; *e; e++)
				fprintf(f, " %s", *e);
			fputc('\n', f);
		} else if (fd->type == ROVE_FT_MONEY) {
			fprintf(f, "  %s: an amount in currency units, 0 to %lld, e.g. 12000.50\n", fd->name,
				ROVE_MAX_MONEY_CENTS / 100);
		} else if (fd->type == ROVE_FT_DATE) {
			fprintf(f, "  %s: a date, YYYY-MM-DD, %s to %s\n", fd->name, ROVE_DATE_MIN, ROVE_DATE_MAX);
		} else if (fd->type == ROVE_FT_TIME) {
			fprintf(f,
				"  %s: a date or a time, YYYY-MM-DD[THH:MM[:SS][Z|+HH:MM]], %s to %s,\n"
				"    in this computer's local time (a date: its midnight), in UTC ending in Z,\n"
				"    or with its offset from UTC (+08:00);\n"
				"    not later than the server's time when it arrives (up to %u minutes later\n"
				"    is taken: a laptop's clock may be that fast)\n",
				fd->name, ROVE_DATE_MIN, ROVE_DATE_MAX, ROVE_MAX_CLOCK_SKEW_MS / 60000u);
		} else if (fd->type == ROVE_FT_TAXID) {
			fprintf(f, "  %s: a 统一社会信用代码, 18 characters with its check character\n"
				   "    (spaces and hyphens are dropped, letters made capitals)\n", fd->name);
		} else if (fd->type == ROVE_FT_PHONE) {
			fprintf(f, "  %s: digits, spaces and + - ( ) . /, an extension after 转, ext or x\n"
				   "    (+86 138 0000 1111 and 13800001111 are the same phone)\n", fd->name);
		} else if (fd->type == ROVE_FT_STR) {
			fprintf(f, "  %s: text, up to %u characters%s\n", fd->name, fd->maxlen,
				(fd->flags & ROVE_FF_LINES) ? ", line breaks allowed" : "");
		} else if (fd->type == ROVE_FT_REF) {
			fprintf(f, "  %s: an id, or 6 or more characters of its start or end\n", fd->name);
		} else if (fd->type == ROVE_FT_CODE) {
			fprintf(f, "  %s: a territory's code, e.g. east.sh\n", fd->name);
		} else if (fd->type == ROVE_FT_LOGIN) {
			fprintf(f, "  %s: a user's login\n", fd->name);
		} else if (fd->type == ROVE_FT_EMAIL) {
			fprintf(f, "  %s: an e-mail address\n", fd->name);
		} else if (fd->type == ROVE_FT_MONTH) {
			fprintf(f, "  %s: a month, YYYY-MM\n", fd->name);
		} else if (fd->type == ROVE_FT_INT) {
			fprintf(f, "  %s: a whole number\n", fd->name);
		} else if (fd->type == ROVE_FT_BOOL) {
			fprintf(f, "  %s: 1 or 0\n", fd->name);
		}
	}
}

/* The one system field an add takes: a new customer's owner, which only
 * a create names (rule 7: a manager's or admin's choice; a rep owns what
 * he creates); after that it changes by claim, release and reassignment. */
static bool new_owner_field(const rove_coll_def *c, const rove_field_def *fd)
{
	return c->id == ROVE_COLL_CUSTOMER && strcmp(fd->name, "owner") == 0;
}

static void add_help(const rove_coll_def *c, FILE *f)
{
	fprintf(f, "usage: rove %s add", c->name);
	for (size_t i = 0; i < c->nfields; i++) {
		const rove_field_def *fd = &c->fields[i];
		char opt[ROVE_MAX_FIELD_NAME + 1];
		if ((fd->flags & ROVE_FF_SYSTEM) && !new_owner_field(c, fd))
			continue;
		option_name(fd, opt);
		fprintf(f, (fd->flags & ROVE_FF_REQUIRED) ? " --%s VALUE" : " [--%s VALUE]", opt);
	}
	fprintf(f, "\n\nCreate %s %s (offline; sent on the next sync) and print its id.\n", rove_article(c->name),
		c->name);
	rec_fields_help(c, f, false);
	if (c->id == ROVE_COLL_CUSTOMER)
		fputs("  owner: (managers, admins) a login, the rep or manager who owns it, or \"\" for\n"
		      "    the public pool; by default a manager owns what he creates, an admin's\n"
		      "    goes to the pool, and a rep owns his own\n",
		      f);
}

/* The options of `COLLECTION add`, as add_help shows them: one per field,
 * its val CLI_OPT_LONG + the field's index, written with - and with _
 * (--tax-id, --tax_id), marked CLI_OPT_REQUIRED for a required field a
 * user gives. */
typedef struct add_opts {
	struct option table[2 * ROVE_MAX_FIELDS + 1];
	char names[ROVE_MAX_FIELDS][ROVE_MAX_FIELD_NAME + 1]; /* the - forms */
} add_opts;

static void add_opts_init(add_opts *a, const rove_coll_def *c)
{
	size_t n = 0;

	ROVE_ASSERT(c->nfields <= ROVE_MAX_FIELDS);
	for (size_t i = 0; i < c->nfields; i++) {
		const rove_field_def *fd = &c->fields[i];
		int val = CLI_OPT_LONG + (int)i;
		if ((fd->flags & ROVE_FF_REQUIRED) && !(fd->flags & ROVE_FF_SYSTEM))
			val |= CLI_OPT_REQUIRED;
		option_name(fd, a->names[i]);
		a->table[n++] = (struct option){a->names[i], required_argument, NULL, val};
		if (strchr(fd->name, '_') != NULL)
			a->table[n++] = (struct option){fd->name, required_argument, NULL, val};
	}
	a->table[n] = (struct option){NULL, 0, NULL, 0};
}

static int count_territory(const rove_record *rec, void *arg)
{
	struct {
		int n;
		char code[ROVE_MAX_NAME + 1];
	} *t = arg;
	const char *code = rove_fields_str(&rec->fs, "code");

	if (code != NULL && ++t->n == 1)
		snprintf(t->code, sizeof(t->code), "%s", code);
	return ROVE_OK;
}

int rec_default_territory(rove_replica *r, rove_op *op)
{
	struct {
		int n;
		char code[ROVE_MAX_NAME + 1];
	} t = {0, ""};
	int rc = rove_replica_each(r, ROVE_COLL_TERRITORY, count_territory, &t);

	if (rc == ROVE_OK && t.n == 1)
		rc = rove_op_set(op, "territory", rove_vcstr(t.code));
	return rc;
}

/* A child record's customer must be one this replica holds. */
static int check_parent(rove_replica *r, const rove_coll_def *c, const rove_op *op)
{
	const rove_field_def *pf = rove_schema_parent_field(c);
	const char *pid = rove_fields_str(&op->fs, pf->name);
	rove_record *rec;
	rove_uuid id;
	int rc;

	if (pid == NULL || rove_uuid_parse(pid, &id) != ROVE_OK) {
		rove_error("invalid customer id '%s'", pid != NULL ? pid : "");
		return ROVE_EINVAL; /* set_field let through no other */
	}
	rec = malloc(sizeof(*rec));
	if (rec == NULL)
		return ROVE_ENOMEM;
	rc = rove_replica_get(r, ROVE_COLL_CUSTOMER, &id, rec);
	free(rec);
	if (rc == ROVE_ENOTFOUND)
		rove_error("no customer '%s' in this replica" CLI_NOT_HERE, pid);
	return rc;
}

/* Sets the owner a rep's new deal shows until the server says: its
 * customer's owner as this replica holds it (a rep writes only his own
 * customers, so that is the rep; the server sets a rep's deal's owner by
 * its rule, whatever the op says). */
static int deal_owner(rove_replica *r, rove_op *op)
{
	const char *pid = rove_fields_str(&op->fs, "customer"), *owner;
	rove_record *rec = malloc(sizeof(*rec));
	rove_uuid id;
	int rc = rec == NULL ? ROVE_ENOMEM : ROVE_OK;

	if (rc == ROVE_OK && pid != NULL && rove_uuid_parse(pid, &id) == ROVE_OK &&
	    rove_replica_get(r, ROVE_COLL_CUSTOMER, &id, rec) == ROVE_OK) {
		owner = rove_fields_str(&rec->fs, "owner");
		if (owner == NULL && rove_rules_role_may_own(rove_role_parse(r->role)))
			owner = r->auth.user;
		if (owner != NULL)
			rc = rove_op_set(op, "owner", rove_vcstr(owner));
	}
	free(rec);
	return rc;
}

/* The options of `add` (argv[2..]) into op: ROVE_EXIT_USAGE for an
 * unexpected argument, an unknown option, one without its value or a
 * required one left out (reported; the caller prints the usage), then
 * the values: ROVE_EXIT_FAIL for an invalid one (reported), ROVE_EXIT_USAGE
 * for an id that is not one. */
static int add_options(const rove_coll_def *c, int argc, char **argv, rove_op *op)
{
	const rove_field_def **fds = calloc((size_t)argc, sizeof(*fds));
	char cmd[ROVE_MAX_NAME + 8];
	const char **vals = calloc((size_t)argc, sizeof(*vals));
	int n = 0, rc = ROVE_OK, status = ROVE_EXIT_OK, k;
	add_opts *opts = malloc(sizeof(*opts));
	cli_opt o;

	if (fds == NULL || vals == NULL || opts == NULL) {
		free(fds);
		free(vals);
		free(opts);
		rove_error("out of memory");
		return ROVE_EXIT_FAIL;
	}
	snprintf(cmd, sizeof(cmd), "%s add", c->name);
	add_opts_init(opts, c);
	cli_opt_init(&o, argc, argv, 2, opts->table);
	while (status == ROVE_EXIT_OK && (k = cli_opt_next(&o)) != CLI_OPT_END) {
		if (k >= CLI_OPT_LONG) {
			fds[n] = &c->fields[k - CLI_OPT_LONG];
			vals[n++] = o.arg;
			continue;
		}
		/* (a field given twice was said; a required option left out
		 * is said as every command says it) */
		cli_opt_unexpected_in(&o, k, cmd);
		status = ROVE_EXIT_USAGE;
	}
	free(opts);
	/* A required option given an empty or bad value is an invalid
	 * value. */
	for (int f = 0; f < n && status == ROVE_EXIT_OK && rc == ROVE_OK; f++) {
		char why[ROVE_MAX_ERRMSG];
		rove_value v;
		if (!new_owner_field(c, fds[f])) {
			rc = rec_set_field(op, fds[f], vals[f]);
		} else if ((rc = rove_schema_parse(fds[f], vals[f], &v, why, sizeof(why))) != ROVE_OK) {
			rove_error("%s", why);
		} else if ((rc = rove_op_set(op, fds[f]->name, v)) != ROVE_OK) {
			rove_error("%s: %s", fds[f]->name, rove_strerror(rc));
		}
	}
	free(fds);
	free(vals);
	return status != ROVE_EXIT_OK ? status : rc == ROVE_OK ? ROVE_EXIT_OK : cli_exit(rc);
}

int rec_add(rove_cli *cli, const rove_coll_def *c, int argc, char **argv)
{
	rove_replica r;
	rove_op *op = malloc(sizeof(*op));
	rove_uuid id;
	rove_stamp st0 = {{0}, 0};
	char why[ROVE_MAX_ERRMSG], ids[ROVE_UUID_STRLEN + 1];
	bool abbrev;
	int rc = ROVE_OK, status;

	if (cli_opt_help(argc, argv, 2)) {
		add_help(c, stdout);
		free(op);
		return ROVE_EXIT_OK;
	}
	if (op == NULL)
		return ROVE_EXIT_FAIL;
	rove_uuid_new(&id);
	rove_op_init(op, ROVE_OP_CREATE, c->id, &id, st0);
	/* The command line's form first (a usage error, exit 2), then the
	 * values (an invalid one: exit 1). */
	status = add_options(c, argc, argv, op);
	if (status != ROVE_EXIT_OK) {
		if (status == ROVE_EXIT_USAGE)
			add_help(c, stderr);
		free(op);
		return status;
	}
	/* A deal or customer given to someone: whom the server knows (asked
	 * first, the replica closed meanwhile). */
	if (c->id == ROVE_COLL_OPPORTUNITY || c->id == ROVE_COLL_CUSTOMER) {
		status = c->id == ROVE_COLL_OPPORTUNITY ? opportunity_owner_check_new(cli, c, op)
							: customer_owner_check_new(cli, op);
		if (status != ROVE_EXIT_OK) {
			free(op);
			return status;
		}
	}
	/* Checked before the replica is opened (unless a reference is the
	 * start or end of an id, which the replica resolves first), and
	 * again with what the replica adds just before the write. */
	abbrev = rec_has_abbrev_ref(c, op);
	if (rc == ROVE_OK && !abbrev && rove_schema_clean_op(op, why, sizeof(why)) != ROVE_OK) {
		rove_error("%s", why);
		rc = ROVE_EINVAL;
	}
	if (rc == ROVE_OK)
		rc = cli_open(cli, &r);
	if (rc == ROVE_OK && abbrev) {
		rc = rec_resolve_refs(&r, c, op);
		if (rc == ROVE_OK && rove_schema_clean_op(op, why, sizeof(why)) != ROVE_OK) {
			rove_error("%s", why);
			rc = ROVE_EINVAL;
		}
		if (rc != ROVE_OK)
			rove_replica_close(&r);
	}
	if (rc == ROVE_OK && rove_schema_parent_field(c) != NULL) {
		rc = check_parent(&r, c, op);
		if (rc != ROVE_OK)
			rove_replica_close(&r);
	}
	if (rc == ROVE_OK) {
		if (c->id == ROVE_COLL_ACTIVITY && rove_fields_get(&op->fs, "at") == NULL) {
			char now[32];
			uint64_t held = rove_replica_clock_held(&r);
			out_time(rove_replica_now_ms(&r), now, sizeof(now));
			rc = rove_op_set(op, "at", rove_vcstr(now));
			/* (attack ninety-five: a laptop's fast clock, after a
			 * restart, had every visit refused with no word here) */
			if (held > ROVE_MAX_CLOCK_SKEW_MS) {
				char span[48];
				out_span(held, span, sizeof(span));
				rove_warn("the last sync found this computer's clock %s ahead of the server's, before "
					  "it restarted: if it still is, the server refuses this visit's time (%s) as in "
					  "the future; 'rove sync' measures it again, or give --at",
					  span, now);
			}
		}
		if (rc == ROVE_OK && c->id == ROVE_COLL_ACTIVITY)
			rc = rove_op_set(op, "author", rove_vcstr(r.auth.user)); /* the server decides */
		/* The server decides the owner; until then the replica shows
		 * the author's, for those who can own customers - and before
		 * the first sync, when the replica does not know its role yet
		 * (a rep's new customer is his at once, in 'list --mine' too;
		 * an admin's goes to the pool on sync). */
		if (c->id == ROVE_COLL_CUSTOMER && rove_fields_get(&op->fs, "owner") == NULL &&
		    (rove_rules_role_may_own(rove_role_parse(r.role)) || rove_role_parse(r.role) == 0))
			rc = rove_op_set(op, "owner", rove_vcstr(r.auth.user));
		/* A deal's likewise (rule 14): its customer's owner, shown
		 * at once on a rep's replica (the server ignores a rep's). A
		 * manager's or admin's names one only when asked to: the
		 * server takes theirs as named, and the customer's owner it
		 * credits is the one it holds when the deal arrives, which
		 * this replica may not have seen yet. */
		if (rc == ROVE_OK && c->id == ROVE_COLL_OPPORTUNITY && rove_fields_get(&op->fs, "owner") != NULL &&
		    rove_role_parse(r.role) == ROVE_ROLE_REP) {
			rove_error("a deal's owner is its customer's owner; managers and admins name another");
			rc = ROVE_EPERM;
		} else if (rc == ROVE_OK && c->id == ROVE_COLL_OPPORTUNITY && rove_role_parse(r.role) == ROVE_ROLE_REP) {
			rc = deal_owner(&r, op);
		}
		if (rc == ROVE_OK && c->id == ROVE_COLL_CUSTOMER && rove_fields_get(&op->fs, "territory") == NULL)
			rc = rec_default_territory(&r, op);
		/* A new deal is a lead unless it says otherwise (SPEC: lead ->
		 * qualified -> ...), so that it shows under 'list --stage lead'
		 * as the pipeline counts it. */
		if (rc == ROVE_OK && c->id == ROVE_COLL_OPPORTUNITY && rove_fields_get(&op->fs, "stage") == NULL)
			rc = rove_op_set(op, "stage", rove_vcstr("lead"));
		if (rc != ROVE_OK && rc != ROVE_EPERM)
			rove_error("cannot save: %s", rove_strerror(rc));
		else if (rc == ROVE_OK)
			rc = rec_write_op(&r, op, NULL);
		rove_replica_close(&r);
	}
	if (rc == ROVE_OK) {
		rove_uuid_format(&id, ids);
		printf("%s\n", ids);
	}
	free(op);
	return cli_exit(rc);
}
