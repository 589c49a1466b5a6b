/*
 * cmd_record.c - add, list, show, set and delete for any collection of the
 * schema, driven by its field table: `--tax-id X` sets field tax_id.
 * `rove customer ...` is this with the customer collection; record_cmds at
 * the end says which verbs each collection's command accepts.
 */
#include "cli.h"
#include "err.h"
#include "log.h"
#include "out.h"
#include "hlc.h"
#include "rules.h"
#include "text.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* "tax-id" or "tax_id" -> the field named tax_id. */
static const rove_field_def *field_arg(const rove_coll_def *c, const char *arg, size_t len)
{
	char name[ROVE_MAX_FIELD_NAME + 1];

	if (len == 0 || len > ROVE_MAX_FIELD_NAME)
		return NULL;
	for (size_t i = 0; i < len; i++)
		name[i] = arg[i] == '-' ? '_' : arg[i];
	name[len] = '\0';
	return rove_schema_field(c, name);
}

static int set_field(rove_op *op, const rove_field_def *fd, const char *text)
{
	char why[ROVE_MAX_ERRMSG];
	rove_value v;
	int rc;

	if (fd->flags & ROVE_FF_SYSTEM) {
		rove_error("%s cannot be set here (it is set by the server or by a dedicated command)",
			   fd->name);
		return ROVE_EINVAL;
	}
	if (fd->type == ROVE_FT_REF && text[0] != '\0') {
		rove_uuid id;
		rc = cli_id_arg(text, fd->name, &id);
		if (rc != ROVE_OK)
			return rc;
	}
	rc = rove_schema_parse(fd, text, &v, why, sizeof(why));
	if (rc != ROVE_OK) {
		rove_error("%s", why);
		return rc;
	}
	rc = rove_op_set(op, fd->name, v);
	if (rc != ROVE_OK)
		rove_error("%s: %s", fd->name, rove_strerror(rc));
	return rc;
}

typedef struct code_find {
	const char *code;
	rove_record *rec;
	bool found;
} code_find;

static int territory_of_code(const rove_record *rec, void *arg)
{
	code_find *f = arg;
	const char *code = rove_fields_str(&rec->fs, "code");

	if (code == NULL || strcmp(code, f->code) != 0)
		return ROVE_OK;
	f->rec->coll = rec->coll;
	f->rec->id = rec->id;
	f->found = true;
	/* Values point into their record's arena: copied, not assigned. */
	return rove_fields_copy(&f->rec->fs, &rec->fs) == ROVE_OK ? ROVE_EEXIST /* stops the walk */ : ROVE_ENOMEM;
}

/* The territory this replica holds with code; ROVE_ENOTFOUND if none. */
static int territory_by_code(rove_replica *r, const char *code, rove_record *rec)
{
	code_find f = {code, rec, false};
	int rc = rove_replica_each(r, ROVE_COLL_TERRITORY, territory_of_code, &f);

	if (f.found && rc == ROVE_EEXIST)
		return ROVE_OK;
	return rc == ROVE_OK ? ROVE_ENOTFOUND : rc;
}

/* Refuses at once what the server would certainly refuse (see below);
 * cur is the record the op changes (NULL for a create). */
static int precheck(rove_replica *r, const rove_op *op, const rove_record *cur);

/* Writes a local op: cleaned and checked as the server will (what the
 * replica cannot know, the server decides), then queued; cur is the
 * record it changes (NULL for a create). Says why not. */
static int write_op(rove_replica *r, rove_op *op, const rove_record *cur)
{
	char why[ROVE_MAX_ERRMSG];
	int rc = rove_schema_clean_op(op, why, sizeof(why));

	if (rc != ROVE_OK) {
		rove_error("%s", why);
		return rc;
	}
	rc = precheck(r, op, cur);
	if (rc != ROVE_OK)
		return rc;
	rc = rove_replica_write(r, op);
	if (rc != ROVE_OK)
		rove_error("cannot save: %s", rove_strerror(rc));
	return rc;
}

/* The option of field fd: tax_id -> tax-id. */
static void option_name(const rove_field_def *fd, char opt[ROVE_MAX_FIELD_NAME + 1])
{
	snprintf(opt, ROVE_MAX_FIELD_NAME + 1, "%s", fd->name);
	for (char *p = opt; *p; p++)
		if (*p == '_')
			*p = '-';
}

static void add_help(const rove_coll_def *c, FILE *f)
{
	fprintf(f, "usage: rove %s add", c->name);
	for (size_t i = 0; i < c->nfields; i++) {
		const rove_field_def *fd = &c->fields[i];
		char opt[ROVE_MAX_FIELD_NAME + 1];
		if (fd->flags & ROVE_FF_SYSTEM)
			continue;
		option_name(fd, opt);
		fprintf(f, (fd->flags & ROVE_FF_REQUIRED) ? " --%s VALUE" : " [--%s VALUE]", opt);
	}
	fprintf(f, "\n\nCreate a %s (offline; sent on the next sync) and print its id.\n", c->name);
	for (size_t i = 0; i < c->nfields; i++) {
		const rove_field_def *fd = &c->fields[i];
		if (fd->flags & ROVE_FF_SYSTEM)
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
			fprintf(f, "  %s: a date or a UTC time, YYYY-MM-DD[THH:MM[:SS][Z]], %s to %s\n", fd->name,
				ROVE_DATE_MIN, ROVE_DATE_MAX);
		} else if (fd->type == ROVE_FT_TAXID) {
			fprintf(f, "  %s: a 统一社会信用代码, 18 characters with its check character\n"
				   "    (spaces and hyphens are dropped, letters made capitals)\n", fd->name);
		} else if (fd->type == ROVE_FT_PHONE) {
			fprintf(f, "  %s: digits, spaces and + - ( ) . /, an extension after 转, ext or x\n"
				   "    (+86 138 0000 1111 and 13800001111 are the same phone)\n", fd->name);
		} else if (fd->type == ROVE_FT_STR) {
			fprintf(f, "  %s: text, up to %u characters%s\n", fd->name, fd->maxlen,
				(fd->flags & ROVE_FF_LINES) ? ", line breaks allowed" : "");
		}
	}
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

/* A replica that holds exactly one territory creates customers in it. */
static int default_territory(rove_replica *r, rove_op *op)
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
		rove_error("no customer '%s' in this replica", pid);
	return rc;
}

/* The customer's territory a create or update puts it in: not one this
 * replica holds, for a rep (whose replica holds exactly their
 * territories) or a manager (his subtree's), is one the server refuses.
 * An admin's replica may lack a territory added since its last sync: the
 * server decides. */
static int territory_rule(rove_replica *r, int role, const rove_op *op, rove_record *scratch, char *detail,
			  size_t len)
{
	const char *terr = rove_fields_str(&op->fs, "territory");
	int rc;

	if (op->coll != ROVE_COLL_CUSTOMER || (role != ROVE_ROLE_REP && role != ROVE_ROLE_MANAGER))
		return ROVE_R_NONE;
	if (op->kind == ROVE_OP_CREATE && terr == NULL) {
		snprintf(detail, len, "a customer needs a territory");
		return ROVE_R_NOT_IN_TERRITORY;
	}
	if (terr == NULL || (op->kind != ROVE_OP_CREATE && op->kind != ROVE_OP_UPDATE))
		return ROVE_R_NONE;
	rc = territory_by_code(r, terr, scratch);
	if (rc == ROVE_OK)
		return ROVE_R_NONE;
	if (rc != ROVE_ENOTFOUND)
		return -rc; /* a failure to read, not a refusal */
	snprintf(detail, len, role == ROVE_ROLE_REP ? "%s is not one of your territories" : "%s is outside your territories",
		 terr);
	return ROVE_R_NOT_IN_TERRITORY;
}

/* A release from a territory that requires a reason (its pool rule). */
static int release_rule(rove_replica *r, const rove_op *op, const rove_record *cur, rove_record *scratch,
			char *detail, size_t len)
{
	const char *terr = cur != NULL ? rove_fields_str(&cur->fs, "territory") : NULL;
	const char *reason = rove_fields_str(&op->fs, "release_reason");
	int64_t required = 0;
	int rc;

	if (op->kind != ROVE_OP_RELEASE || terr == NULL || (reason != NULL && reason[0] != '\0'))
		return ROVE_R_NONE;
	rc = territory_by_code(r, terr, scratch);
	if (rc == ROVE_ENOTFOUND)
		return ROVE_R_NONE;
	if (rc != ROVE_OK)
		return -rc;
	if (!rove_fields_int(&scratch->fs, "release_reason", &required) || required == 0)
		return ROVE_R_NONE;
	snprintf(detail, len, "a reason is required to release a customer in %s", terr);
	return ROVE_R_INVALID;
}

/* What a customer op's tax id and phone are compared by (normalised as
 * the server does), and the customers of the replica holding them. */
typedef struct uniq_find {
	const rove_op *op;
	rove_uniq_key mine[ROVE_UNIQ_KEYS], theirs[ROVE_UNIQ_KEYS]; /* the op's; a record's (scratch) */
	int nmine;
	rove_uuid holder[ROVE_UNIQ_KEYS];
	char name[ROVE_UNIQ_KEYS][ROVE_MAX_NAME + 1];
	bool found[ROVE_UNIQ_KEYS];
} uniq_find;

static int uniq_one(const rove_record *rec, void *arg)
{
	uniq_find *u = arg;
	int ntheirs;

	if (rove_uuid_cmp(&rec->id, &u->op->rid) == 0)
		return ROVE_OK; /* its own */
	/* Keys as the server makes them: older records may hold a tax id as
	 * it was typed. */
	ntheirs = rove_uniq_keys(&rec->fs, u->theirs);
	for (int i = 0; i < u->nmine; i++) {
		for (int j = 0; j < ntheirs && !u->found[i]; j++) {
			if (u->mine[i].len != u->theirs[j].len ||
			    memcmp(u->mine[i].key, u->theirs[j].key, u->mine[i].len) != 0)
				continue;
			u->found[i] = true;
			u->holder[i] = rec->id;
			snprintf(u->name[i], sizeof(u->name[i]), "%s",
				 rove_fields_str(&rec->fs, "name") ? rove_fields_str(&rec->fs, "name") : "");
		}
	}
	return u->found[0] ? ROVE_EEXIST : ROVE_OK; /* the first key is reported first: stop */
}

/* A tax id or phone that another live customer of this replica holds
 * (pending ones included: the server decides them first), compared by
 * their uniqueness keys (rove_uniq_keys). The server compares against all
 * customers; this replica knows those it holds. */
static int duplicate_rule(rove_replica *r, const rove_op *op, char *detail, size_t len)
{
	uniq_find *u;
	int rc, reason = ROVE_R_NONE;

	if (op->coll != ROVE_COLL_CUSTOMER || (op->kind != ROVE_OP_CREATE && op->kind != ROVE_OP_UPDATE))
		return ROVE_R_NONE;
	u = calloc(1, sizeof(*u));
	if (u == NULL)
		return -ROVE_ENOMEM;
	u->op = op;
	u->nmine = rove_uniq_keys(&op->fs, u->mine);
	rc = u->nmine > 0 ? rove_replica_each(r, ROVE_COLL_CUSTOMER, uniq_one, u) : ROVE_OK;
	if (rc != ROVE_OK && rc != ROVE_EEXIST) {
		reason = -rc;
	} else {
		for (int i = 0; i < u->nmine && reason == ROVE_R_NONE; i++) {
			char ids[ROVE_UUID_STRLEN + 1], shown[ROVE_MAX_NAME + 8];
			if (!u->found[i])
				continue;
			rove_uuid_format(&u->holder[i], ids);
			rove_text_show(u->name[i], strlen(u->name[i]), 0, shown, sizeof(shown));
			snprintf(detail, len, "%s (customer '%s' has this %s)", ids, shown, u->mine[i].field);
			reason = ROVE_R_DUPLICATE;
		}
	}
	free(u);
	return reason;
}

/* Refuses at once (ROVE_EPERM: exit 1) what the server would certainly
 * refuse, with its reason code and words: the rules that need only the
 * user's role and the op (common/rules.h), an activity's time in the
 * future, a dealer that this replica knows is another kind of record, and
 * what the replica knows of the rules on the server's data: a create or
 * move to a territory a rep's or manager's replica does not hold, a
 * release without the reason its territory requires, a tax id or phone
 * another customer of the replica holds. A replica that never synced does
 * not know its role (nor holds anything) yet: the server decides. */
static int precheck(rove_replica *r, const rove_op *op, const rove_record *cur)
{
	static const uint8_t not_dealers[] = {ROVE_COLL_CUSTOMER, ROVE_COLL_CONTACT, ROVE_COLL_CONTRACT,
					      ROVE_COLL_OPPORTUNITY, ROVE_COLL_ACTIVITY, ROVE_COLL_TARGET,
					      ROVE_COLL_TERRITORY};
	char detail[ROVE_MAX_ERRMSG];
	int role = rove_role_parse(r->role);
	int reason = ROVE_R_NONE;
	const char *at = rove_fields_str(&op->fs, "at");
	const char *dealer = rove_fields_str(&op->fs, "dealer");
	rove_record *rec;

	if (role == 0)
		return ROVE_OK;
	rec = malloc(sizeof(*rec));
	if (rec == NULL)
		return ROVE_ENOMEM;
	reason = rove_rules_check_op(role, op, detail, sizeof(detail));
	if (reason == ROVE_R_NONE && op->coll == ROVE_COLL_ACTIVITY && at != NULL)
		reason = rove_rules_check_at(at, rove_wall_ms(), detail, sizeof(detail));
	if (reason == ROVE_R_NONE)
		reason = territory_rule(r, role, op, rec, detail, sizeof(detail));
	if (reason == ROVE_R_NONE)
		reason = release_rule(r, op, cur, rec, detail, sizeof(detail));
	if (reason == ROVE_R_NONE && op->coll == ROVE_COLL_CUSTOMER && dealer != NULL) {
		rove_uuid id;
		for (size_t i = 0; i < sizeof(not_dealers) && rove_uuid_parse(dealer, &id) == ROVE_OK; i++) {
			if (rove_replica_get(r, not_dealers[i], &id, rec) == ROVE_OK) {
				snprintf(detail, sizeof(detail), "%s is not a dealer of %s or above", dealer,
					 rove_fields_str(&op->fs, "territory") ? rove_fields_str(&op->fs, "territory")
									       : "its territory");
				reason = ROVE_R_INVALID;
				break;
			}
		}
	}
	if (reason == ROVE_R_NONE)
		reason = duplicate_rule(r, op, detail, sizeof(detail));
	free(rec);
	if (reason < 0) {
		rove_error("cannot read the replica: %s", rove_strerror(-reason));
		return -reason;
	}
	if (reason == ROVE_R_NONE)
		return ROVE_OK;
	rove_error("%s: %s", rove_reason_name(reason), detail);
	if (reason == ROVE_R_NOT_IN_TERRITORY)
		fprintf(stderr, "rove: note: your territories as of this replica's last sync (run 'rove sync' if "
				"one was assigned to you since)\n");
	return ROVE_EPERM;
}

/* The options of `add` (argv[2..]) into op: ROVE_EXIT_USAGE for an
 * unexpected argument, an unknown option, one without its value or a
 * required one left out (reported; the caller prints the usage), then
 * the values: ROVE_EXIT_FAIL for an invalid one (reported), ROVE_EXIT_USAGE
 * for an id that is not one. */
static int add_options(const rove_coll_def *c, int argc, char **argv, rove_op *op)
{
	const rove_field_def **fds = calloc((size_t)argc, sizeof(*fds));
	const char **vals = calloc((size_t)argc, sizeof(*vals));
	int n = 0, rc = ROVE_OK, status = ROVE_EXIT_OK;

	if (fds == NULL || vals == NULL) {
		free(fds);
		free(vals);
		rove_error("out of memory");
		return ROVE_EXIT_FAIL;
	}
	for (int i = 2; i < argc && status == ROVE_EXIT_OK; i++) {
		const char *a = argv[i], *eq;
		if (strncmp(a, "--", 2) != 0) {
			rove_error("unexpected argument '%s' for %s add", a, c->name);
			status = ROVE_EXIT_USAGE;
			break;
		}
		eq = strchr(a, '=');
		fds[n] = field_arg(c, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
		if (fds[n] == NULL) {
			rove_error("unknown option '%s' for %s add", a, c->name);
			status = ROVE_EXIT_USAGE;
		} else if (eq != NULL) {
			vals[n++] = eq + 1;
		} else if (i + 1 < argc) {
			vals[n++] = argv[++i];
		} else {
			rove_error("option '%s' needs a value", a);
			status = ROVE_EXIT_USAGE;
		}
	}
	/* A required option left out is a usage error; one given an empty
	 * or bad value is an invalid value. */
	for (size_t i = 0; i < c->nfields && status == ROVE_EXIT_OK; i++) {
		const rove_field_def *fd = &c->fields[i];
		char opt[ROVE_MAX_FIELD_NAME + 1];
		bool given = false;
		if (!(fd->flags & ROVE_FF_REQUIRED) || (fd->flags & ROVE_FF_SYSTEM))
			continue;
		for (int k = 0; k < n && !given; k++)
			given = fds[k] == fd;
		if (given)
			continue;
		option_name(fd, opt);
		rove_error("%s add needs --%s", c->name, opt);
		status = ROVE_EXIT_USAGE;
	}
	for (int k = 0; k < n && status == ROVE_EXIT_OK && rc == ROVE_OK; k++)
		rc = set_field(op, fds[k], vals[k]);
	free(fds);
	free(vals);
	return status != ROVE_EXIT_OK ? status : rc == ROVE_OK ? ROVE_EXIT_OK : cli_exit(rc);
}

static int rec_add(rove_cli *cli, const rove_coll_def *c, int argc, char **argv)
{
	rove_replica r;
	rove_op *op = malloc(sizeof(*op));
	rove_uuid id;
	rove_stamp st0 = {{0}, 0};
	char why[ROVE_MAX_ERRMSG], ids[ROVE_UUID_STRLEN + 1];
	int rc = ROVE_OK, status;

	for (int i = 2; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			add_help(c, stdout);
			free(op);
			return ROVE_EXIT_OK;
		}
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
	/* Checked before the replica is opened, and again with what the
	 * replica adds just before the write. */
	if (rc == ROVE_OK && rove_schema_clean_op(op, why, sizeof(why)) != ROVE_OK) {
		rove_error("%s", why);
		rc = ROVE_EINVAL;
	}
	if (rc == ROVE_OK)
		rc = cli_open(cli, &r);
	if (rc == ROVE_OK && rove_schema_parent_field(c) != NULL) {
		rc = check_parent(&r, c, op);
		if (rc != ROVE_OK)
			rove_replica_close(&r);
	}
	if (rc == ROVE_OK) {
		if (c->id == ROVE_COLL_ACTIVITY && rove_fields_get(&op->fs, "at") == NULL) {
			char now[32];
			out_time(rove_wall_ms(), now, sizeof(now));
			rc = rove_op_set(op, "at", rove_vcstr(now));
		}
		if (rc == ROVE_OK && c->id == ROVE_COLL_ACTIVITY)
			rc = rove_op_set(op, "author", rove_vcstr(r.auth.user)); /* the server decides */
		/* The server decides the owner; until then the replica shows
		 * the author's, for those who can own customers. */
		if (c->id == ROVE_COLL_CUSTOMER && rove_rules_role_may_own(rove_role_parse(r.role)))
			rc = rove_op_set(op, "owner", rove_vcstr(r.auth.user));
		if (rc == ROVE_OK && c->id == ROVE_COLL_CUSTOMER && rove_fields_get(&op->fs, "territory") == NULL)
			rc = default_territory(&r, op);
		if (rc != ROVE_OK)
			rove_error("cannot save: %s", rove_strerror(rc));
		else
			rc = write_op(&r, op, NULL);
		rove_replica_close(&r);
	}
	if (rc == ROVE_OK) {
		rove_uuid_format(&id, ids);
		printf("%s\n", ids);
	}
	free(op);
	return cli_exit(rc);
}

/* Terminal columns of a field in `list` tables. */
static int column_width(const rove_field_def *fd)
{
	if (strcmp(fd->name, "name") == 0)
		return 28;
	if (fd->type == ROVE_FT_STR && fd->maxlen > 32)
		return 20;
	return fd->type == ROVE_FT_DATE ? 10 : 14;
}

typedef struct list_ctx {
	const rove_coll_def *c;
	bool json;
	out_json j; /* the array, with json */
	size_t n;
	const char *parent; /* list only the children of this customer */
} list_ctx;

/* A list's JSON array around rove_replica_each's walk: begun before,
 * ended after (also after a failed walk, so the output stays JSON). */
static void list_begin(list_ctx *lc)
{
	if (!lc->json)
		return;
	out_json_init(&lc->j, stdout);
	out_json_begin_array(&lc->j);
}

static void list_end(list_ctx *lc)
{
	if (!lc->json)
		return;
	out_json_end_array(&lc->j);
	out_json_finish(&lc->j);
}

static int list_one(const rove_record *rec, void *arg)
{
	list_ctx *lc = arg;
	char id[ROVE_UUID_STRLEN + 1];

	if (lc->parent != NULL) {
		const rove_field_def *pf = rove_schema_parent_field(lc->c);
		const char *p = pf ? rove_fields_str(&rec->fs, pf->name) : NULL;
		if (p == NULL || strcmp(p, lc->parent) != 0)
			return ROVE_OK;
	}

	if (lc->json) {
		out_record_json(&lc->j, lc->c, rec);
	} else {
		rove_uuid_format(&rec->id, id);
		printf("%-36s", id);
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

static void print_header(const rove_coll_def *c)
{
	printf("%-36s", "ID");
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

static int rec_list(rove_cli *cli, const rove_coll_def *c, int argc, char **argv)
{
	list_ctx lc = {.c = c};
	const rove_field_def *pf = rove_schema_parent_field(c);
	rove_replica r;
	rove_uuid pid;
	char pids[ROVE_UUID_STRLEN + 1];
	int rc;

	for (int i = 2; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			printf("usage: rove %s list%s [--json]\n\nList the %ss this replica holds.\n", c->name,
			       pf ? " [--customer ID]" : "", c->name);
			return ROVE_EXIT_OK;
		}
		if (strcmp(argv[i], "--json") == 0) {
			lc.json = true;
		} else if (pf != NULL && strcmp(argv[i], "--customer") == 0 && i + 1 < argc) {
			lc.parent = argv[++i];
		} else if (pf != NULL && strncmp(argv[i], "--customer=", 11) == 0) {
			lc.parent = argv[i] + 11;
		} else if (pf != NULL && strcmp(argv[i], "--customer") == 0) {
			rove_error("option '--customer' needs a value");
			return ROVE_EXIT_USAGE;
		} else {
			rove_error("unexpected argument '%s'", argv[i]);
			return ROVE_EXIT_USAGE;
		}
	}
	if (lc.parent != NULL) {
		rc = cli_id_arg(lc.parent, "customer", &pid);
		if (rc != ROVE_OK)
			return cli_exit(rc);
		rove_uuid_format(&pid, pids); /* as stored: lower case */
		lc.parent = pids;
	}
	/* A customer this replica does not hold (any more) has no children
	 * here: the list is empty. */
	rc = cli_open(cli, &r);
	if (rc != ROVE_OK)
		return cli_exit(rc);
	if (!lc.json)
		print_header(c);
	list_begin(&lc);
	rc = rove_replica_each(&r, c->id, list_one, &lc);
	rove_replica_close(&r);
	list_end(&lc);
	return cli_exit(rc);
}

/* Opens the replica and loads record ID of c (a territory: its code or
 * its id); reports errors. */
static int load(rove_cli *cli, const rove_coll_def *c, const char *ids, rove_replica *r, rove_record *rec)
{
	bool by_code = false;
	rove_uuid id;
	int rc;

	if (c->id == ROVE_COLL_TERRITORY && rove_uuid_parse(ids, &id) != ROVE_OK) {
		const rove_field_def *fd = rove_schema_field(c, "code");
		rove_value v = rove_vcstr(ids);
		char why[ROVE_MAX_ERRMSG];
		if (ids[0] == '\0' || rove_schema_check_value(fd, &v, why, sizeof(why)) != ROVE_OK) {
			rove_error("invalid territory '%s' (a code like east.sh, or an id)", ids);
			return CLI_EUSAGE;
		}
		by_code = true;
	} else {
		rc = cli_id_arg(ids, c->name, &id);
		if (rc != ROVE_OK)
			return rc;
	}
	rc = cli_open(cli, r);
	if (rc != ROVE_OK)
		return rc;
	rc = by_code ? territory_by_code(r, ids, rec) : rove_replica_get(r, c->id, &id, rec);
	if (rc == ROVE_ENOTFOUND)
		rove_error("no %s '%s' in this replica", c->name, ids);
	else if (rc != ROVE_OK)
		rove_error("cannot read %s '%s': %s", c->name, ids, rove_strerror(rc));
	if (rc != ROVE_OK)
		rove_replica_close(r);
	return rc;
}

/* A record about to change: the replica open, the record loaded, an op
 * to fill (the caller inits it). change_open says why it fails and leaves
 * nothing to free; change_close writes the op if rc is ROVE_OK, closes
 * and frees, and returns the exit status. */
typedef struct change {
	rove_replica r;
	rove_record *rec;
	rove_op *op;
} change;

static int change_open(rove_cli *cli, const rove_coll_def *c, const char *ids, change *ch)
{
	int rc;

	ch->rec = malloc(sizeof(*ch->rec));
	ch->op = malloc(sizeof(*ch->op));
	if (ch->rec == NULL || ch->op == NULL) {
		rove_error("out of memory");
		rc = ROVE_ENOMEM;
	} else {
		rc = load(cli, c, ids, &ch->r, ch->rec);
	}
	if (rc != ROVE_OK) {
		free(ch->rec);
		free(ch->op);
	}
	return rc;
}

static int change_close(change *ch, int rc)
{
	if (rc == ROVE_OK)
		rc = write_op(&ch->r, ch->op, ch->rec);
	rove_replica_close(&ch->r);
	free(ch->rec);
	free(ch->op);
	return cli_exit(rc);
}

/* Columns of the labels of `show`; a value's further lines start after. */
#define SHOW_LABEL 18

static int rec_show(rove_cli *cli, const rove_coll_def *c, int argc, char **argv)
{
	rove_replica r;
	rove_record *rec;
	const char *ids = NULL;
	bool json = false;
	int rc;

	for (int i = 2; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			printf("usage: rove %s show %s [--json]\n\nShow one %s.\n", c->name,
			       c->id == ROVE_COLL_TERRITORY ? "CODE|ID" : "ID", c->name);
			return ROVE_EXIT_OK;
		}
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (ids == NULL)
			ids = argv[i];
		else
			return cli_usage("usage: rove RECORD show ID [--json]\n", false);
	}
	if (ids == NULL)
		return cli_usage("usage: rove RECORD show ID [--json]\n", false);
	rec = malloc(sizeof(*rec));
	if (rec == NULL)
		return ROVE_EXIT_FAIL;
	rc = load(cli, c, ids, &r, rec);
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

static int rec_change(rove_cli *cli, const rove_coll_def *c, int argc, char **argv, bool del)
{
	static const char set_help[] =
		"usage: rove RECORD set ID FIELD=VALUE...\n"
		"\n"
		"Change fields (an empty VALUE clears one). Field names as in --json.\n";
	static const char del_help[] =
		"usage: rove RECORD delete ID\n"
		"\n"
		"Delete a record (managers and admins; reps delete nothing).\n";
	rove_stamp st0 = {{0}, 0};
	change ch;
	int rc;

	for (int i = 2; i < argc; i++)
		if (cli_is_help(argv[i]))
			return cli_usage(del ? del_help : set_help, true);
	if (argc < 3 || (del && argc != 3) || (!del && argc < 4))
		return cli_usage(del ? del_help : set_help, false);
	/* The command line's form first (exit 2), then the record and the
	 * values (exit 1). */
	for (int i = 3; !del && i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		if (eq == NULL) {
			rove_error("expected FIELD=VALUE, got '%s'", argv[i]);
			return ROVE_EXIT_USAGE;
		}
		if (field_arg(c, argv[i], (size_t)(eq - argv[i])) == NULL) {
			char names[512];
			field_names(c, names, sizeof(names));
			rove_error("unknown %s field '%.*s' (%s fields: %s)", c->name, (int)(eq - argv[i]), argv[i],
				   c->name, names);
			return ROVE_EXIT_USAGE;
		}
	}
	rc = change_open(cli, c, argv[2], &ch);
	if (rc != ROVE_OK)
		return cli_exit(rc);
	rove_op_init(ch.op, del ? ROVE_OP_DELETE : ROVE_OP_UPDATE, c->id, &ch.rec->id, st0);
	if (del)
		rc = rove_op_set(ch.op, ROVE_FIELD_DELETED, rove_vint(1));
	for (int i = 3; !del && i < argc && rc == ROVE_OK; i++) {
		const char *eq = strchr(argv[i], '=');
		rc = set_field(ch.op, field_arg(c, argv[i], (size_t)(eq - argv[i])), eq + 1);
	}
	return change_close(&ch, rc);
}

/* claim / release: through the public pool (公海). */
static int customer_pool(rove_cli *cli, const rove_coll_def *c, int argc, char **argv, bool claim)
{
	static const char claim_help[] =
		"usage: rove customer claim ID\n"
		"\n"
		"Claim a customer from your territory's public pool. When several reps\n"
		"claim one customer, the first to reach the server wins.\n";
	static const char release_help[] =
		"usage: rove customer release ID [--reason TEXT]\n"
		"\n"
		"Give a customer you own back to the public pool of its territory.\n"
		"Some territories require a reason.\n";
	rove_stamp st0 = {{0}, 0};
	const char *owner, *reason = NULL;
	change ch;
	int rc;

	for (int i = 2; i < argc; i++)
		if (cli_is_help(argv[i]))
			return cli_usage(claim ? claim_help : release_help, true);
	if (!claim && argc == 5 && strcmp(argv[3], "--reason") == 0) {
		reason = argv[4];
		argc = 3;
	}
	if (argc != 3)
		return cli_usage(claim ? claim_help : release_help, false);
	if (reason != NULL && reason[0] == '\0') {
		rove_error("--reason needs a text (leave it out for no reason)");
		return ROVE_EXIT_USAGE;
	}
	rc = change_open(cli, c, argv[2], &ch);
	if (rc != ROVE_OK)
		return cli_exit(rc);
	owner = rove_fields_str(&ch.rec->fs, "owner");
	if (claim && owner != NULL) {
		rove_error("customer is already owned by %s", owner);
		rc = ROVE_EPERM;
	} else if (!claim && (owner == NULL || strcmp(owner, ch.r.auth.user) != 0) && strcmp(ch.r.role, "rep") == 0) {
		rove_error("you do not own this customer");
		rc = ROVE_EPERM;
	} else if (!claim && owner == NULL) {
		rove_error("customer is already in the pool");
		rc = ROVE_EINVAL;
	}
	if (rc == ROVE_OK) {
		rove_op_init(ch.op, claim ? ROVE_OP_CLAIM : ROVE_OP_RELEASE, c->id, &ch.rec->id, st0);
		rc = rove_op_set(ch.op, "owner", claim ? rove_vcstr(ch.r.auth.user) : rove_vnull());
		if (rc == ROVE_OK && reason != NULL)
			rc = rove_op_set(ch.op, "release_reason", rove_vcstr(reason));
		if (rc != ROVE_OK)
			rove_error("cannot save: %s", rove_strerror(rc));
	}
	return change_close(&ch, rc);
}

typedef struct hist_ctx {
	const char *customer;
	list_ctx lc;
} hist_ctx;

static int history_one(const rove_record *rec, void *arg)
{
	hist_ctx *h = arg;
	const char *cust = rove_fields_str(&rec->fs, "customer");

	if (cust == NULL || strcmp(cust, h->customer) != 0)
		return ROVE_OK;
	return list_one(rec, &h->lc);
}

static int customer_history(rove_cli *cli, const rove_coll_def *c, int argc, char **argv)
{
	static const char help[] =
		"usage: rove customer history ID [--json]\n"
		"\n"
		"The customer's ownership history: every create, claim, release,\n"
		"recycle and reassignment, with who, when and why.\n";
	const rove_coll_def *hc = rove_schema_coll(ROVE_COLL_OWNERSHIP);
	hist_ctx h = {.customer = NULL, .lc = {.c = hc}};
	rove_replica r;
	rove_record *rec;
	int rc;

	for (int i = 2; i < argc; i++) {
		if (cli_is_help(argv[i]))
			return cli_usage(help, true);
		if (strcmp(argv[i], "--json") == 0)
			h.lc.json = true;
		else if (h.customer == NULL)
			h.customer = argv[i];
		else
			return cli_usage(help, false);
	}
	if (h.customer == NULL)
		return cli_usage(help, false);
	rec = malloc(sizeof(*rec));
	if (rec == NULL)
		return ROVE_EXIT_FAIL;
	rc = load(cli, c, h.customer, &r, rec);
	free(rec);
	if (rc != ROVE_OK)
		return cli_exit(rc);
	if (!h.lc.json)
		print_header(hc);
	list_begin(&h.lc);
	rc = rove_replica_each(&r, hc->id, history_one, &h);
	rove_replica_close(&r);
	list_end(&h.lc);
	return cli_exit(rc);
}

static int opportunity_stage(rove_cli *cli, const rove_coll_def *c, int argc, char **argv)
{
	static const char help[] =
		"usage: rove opportunity stage ID STAGE\n"
		"\n"
		"Move a deal: lead -> qualified -> proposal -> negotiation -> won / lost.\n"
		"Won and lost deals are closed today (closed_on).\n";
	char *args[8];
	char stage[64], closed[40];
	int n = 0;

	for (int i = 2; i < argc; i++)
		if (cli_is_help(argv[i]))
			return cli_usage(help, true);
	if (argc != 4)
		return cli_usage(help, false);
	snprintf(stage, sizeof(stage), "stage=%s", argv[3]);
	args[n++] = argv[0];
	args[n++] = "set";
	args[n++] = argv[2];
	args[n++] = stage;
	if (strcmp(argv[3], "won") == 0 || strcmp(argv[3], "lost") == 0) {
		char today[40];
		out_time(rove_wall_ms(), today, sizeof(today));
		snprintf(closed, sizeof(closed), "closed_on=%.10s", today);
		args[n++] = closed;
	} else {
		snprintf(closed, sizeof(closed), "closed_on=");
		args[n++] = closed;
	}
	args[n] = NULL;
	return rec_change(cli, c, n, args, false);
}

static int target_set(rove_cli *cli, const rove_coll_def *c, int argc, char **argv)
{
	static const char help[] =
		"usage: rove target set USER --period YYYY-MM --amount A\n"
		"\n"
		"(managers, admins) Set a rep's target for a month; setting it again\n"
		"replaces it.\n";
	const char *user = NULL, *period = NULL, *amount = NULL;
	char name[128];
	rove_replica r;
	rove_record *rec;
	rove_op *op;
	rove_uuid id;
	rove_stamp st0 = {{0}, 0};
	int rc;

	for (int i = 2; i < argc; i++) {
		if (cli_is_help(argv[i]))
			return cli_usage(help, true);
		if (strcmp(argv[i], "--period") == 0 && i + 1 < argc)
			period = argv[++i];
		else if (strcmp(argv[i], "--amount") == 0 && i + 1 < argc)
			amount = argv[++i];
		else if (argv[i][0] != '-' && user == NULL)
			user = argv[i];
		else
			return cli_usage(help, false);
	}
	if (user == NULL || period == NULL || amount == NULL)
		return cli_usage(help, false);
	rec = malloc(sizeof(*rec));
	op = malloc(sizeof(*op));
	if (rec == NULL || op == NULL) {
		free(rec);
		free(op);
		return ROVE_EXIT_FAIL;
	}
	/* One target per user and month, the same id everywhere. */
	snprintf(name, sizeof(name), "target:%s:%s", user, period);
	rove_uuid_from_name(&id, name);
	rc = cli_open(cli, &r);
	if (rc == ROVE_OK) {
		bool exists = rove_replica_get(&r, c->id, &id, rec) == ROVE_OK;
		rove_op_init(op, exists ? ROVE_OP_UPDATE : ROVE_OP_CREATE, c->id, &id, st0);
		rc = set_field(op, rove_schema_field(c, "user"), user);
		if (rc == ROVE_OK)
			rc = set_field(op, rove_schema_field(c, "period"), period);
		if (rc == ROVE_OK)
			rc = set_field(op, rove_schema_field(c, "amount"), amount);
		if (rc == ROVE_OK)
			rc = write_op(&r, op, exists ? rec : NULL);
		rove_replica_close(&r);
	}
	free(rec);
	free(op);
	return cli_exit(rc);
}

static int rec_set(rove_cli *cli, const rove_coll_def *c, int argc, char **argv)
{
	return rec_change(cli, c, argc, argv, false);
}

static int rec_delete(rove_cli *cli, const rove_coll_def *c, int argc, char **argv)
{
	return rec_change(cli, c, argc, argv, true);
}

static int customer_claim(rove_cli *cli, const rove_coll_def *c, int argc, char **argv)
{
	return customer_pool(cli, c, argc, argv, true);
}

static int customer_release(rove_cli *cli, const rove_coll_def *c, int argc, char **argv)
{
	return customer_pool(cli, c, argc, argv, false);
}

static int activity_change(rove_cli *cli, const rove_coll_def *c, int argc, char **argv)
{
	(void)cli;
	(void)c;
	(void)argc;
	(void)argv;
	rove_error("activities are append-only: add a new one instead (managers and admins may delete one)");
	return ROVE_EXIT_FAIL;
}

static int target_add(rove_cli *cli, const rove_coll_def *c, int argc, char **argv)
{
	(void)cli;
	(void)c;
	(void)argc;
	(void)argv;
	rove_error("use 'rove target set USER --period YYYY-MM --amount A'");
	return ROVE_EXIT_USAGE;
}

/* A verb of a record command: `rove COLLECTION VERB ...` runs fn with the
 * collection's schema entry; argv[0] is COLLECTION, argv[1] VERB. */
typedef struct rec_verb {
	const char *name;
	int (*fn)(rove_cli *cli, const rove_coll_def *c, int argc, char **argv);
} rec_verb;

static const rec_verb customer_verbs[] = {
	{"add", rec_add}, {"list", rec_list}, {"show", rec_show}, {"set", rec_set},
	{"claim", customer_claim}, {"release", customer_release}, {"history", customer_history},
	{"delete", rec_delete}, {NULL, NULL},
};
static const rec_verb editable_verbs[] = {
	{"add", rec_add}, {"list", rec_list}, {"show", rec_show}, {"set", rec_set},
	{"delete", rec_delete}, {NULL, NULL},
};
static const rec_verb opportunity_verbs[] = {
	{"add", rec_add}, {"list", rec_list}, {"show", rec_show}, {"set", rec_set},
	{"delete", rec_delete}, {"stage", opportunity_stage}, {NULL, NULL},
};
static const rec_verb activity_verbs[] = {
	{"add", rec_add}, {"list", rec_list}, {"show", rec_show},
	{"set", activity_change}, {"delete", rec_delete}, {NULL, NULL},
};
static const rec_verb target_verbs[] = {
	{"set", target_set}, {"add", target_add}, {"list", rec_list}, {"show", rec_show},
	{"delete", rec_delete}, {NULL, NULL},
};
static const rec_verb read_only_verbs[] = {{"list", rec_list}, {"show", rec_show}, {NULL, NULL}};

static const char customer_help[] =
	"usage: rove customer add --name N [--tax-id X] [--phone P] [--territory CODE] [--tier T]\n"
	"       rove customer list [--json]\n"
	"       rove customer show ID [--json]\n"
	"       rove customer set ID FIELD=VALUE...\n"
	"       rove customer claim ID | release ID\n"
	"       rove customer history ID [--json]\n"
	"       rove customer delete ID\n"
	"\n"
	"Customers (客户). Changes are made offline and sent on the next sync.\n"
	"Run 'rove customer add --help' for every field.\n";

static const char contact_help[] =
	"usage: rove contact add --customer ID --name N [--phone P] [--email E] [--title T]\n"
	"       rove contact list [--customer ID] [--json]\n"
	"       rove contact show ID [--json] | set ID FIELD=VALUE... | delete ID\n"
	"\n"
	"A customer's contacts (联系人); they follow their customer's owner.\n";

static const char contract_help[] =
	"usage: rove contract add --customer ID --number N --amount A [--signed-on DATE] [--status S]\n"
	"       rove contract list [--customer ID] [--json]\n"
	"       rove contract show ID [--json] | set ID FIELD=VALUE... | delete ID\n"
	"\n"
	"A customer's contracts (合同); amounts in currency units (12000.50).\n";

static const char opportunity_help[] =
	"usage: rove opportunity add --customer ID --title T [--amount A] [--stage S] [--expected-close DATE]\n"
	"       rove opportunity stage ID STAGE\n"
	"       rove opportunity list [--customer ID] [--json]\n"
	"       rove opportunity show ID [--json] | set ID FIELD=VALUE... | delete ID\n"
	"\n"
	"Sales opportunities (商机) through the funnel: lead, qualified, proposal,\n"
	"negotiation, then won or lost.\n";

static const char activity_help[] =
	"usage: rove activity add --customer ID --kind visit|call|note [--at TIME] [--note TEXT] [--location L]\n"
	"       rove activity list [--customer ID] [--json]\n"
	"       rove activity show ID [--json]\n"
	"       rove activity delete ID\n"
	"\n"
	"Follow-up records (跟进记录): visits, calls and notes. Append-only: never\n"
	"changed, and deleted only by managers and admins (one logged by mistake);\n"
	"reps delete nothing. A visit may carry a location. --at defaults to now.\n";

static const char dealer_help[] =
	"usage: rove dealer add --name N --territory CODE [--phone P]\n"
	"       rove dealer list [--json]\n"
	"       rove dealer show ID [--json] | set ID FIELD=VALUE... | delete ID\n"
	"\n"
	"Dealers (经销商) of a territory; managers and admins maintain them.\n";

static const char target_help[] =
	"usage: rove target set USER --period YYYY-MM --amount A\n"
	"       rove target list [--json]\n"
	"       rove target show ID [--json] | delete ID\n"
	"\n"
	"Monthly sales targets per rep (目标), set by managers and admins.\n";

static const char territory_help[] =
	"usage: rove territory list [--json]\n"
	"       rove territory show CODE|ID [--json]\n"
	"\n"
	"The territories this replica holds (admins add them with\n"
	"'rove admin territory add').\n";

/* The record commands: each is named after its schema collection and
 * accepts exactly the verbs listed (collections the server alone writes
 * list no add, set or delete). */
static const struct {
	uint8_t coll;
	const char *help;
	const rec_verb *verbs;
} record_cmds[] = {
	{ROVE_COLL_CUSTOMER, customer_help, customer_verbs},
	{ROVE_COLL_CONTACT, contact_help, editable_verbs},
	{ROVE_COLL_CONTRACT, contract_help, editable_verbs},
	{ROVE_COLL_OPPORTUNITY, opportunity_help, opportunity_verbs},
	{ROVE_COLL_ACTIVITY, activity_help, activity_verbs},
	{ROVE_COLL_DEALER, dealer_help, editable_verbs},
	{ROVE_COLL_TARGET, target_help, target_verbs},
	{ROVE_COLL_TERRITORY, territory_help, read_only_verbs},
};

int cmd_record(rove_cli *cli, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	for (size_t k = 0; k < sizeof(record_cmds) / sizeof(record_cmds[0]); k++) {
		const rove_coll_def *c = rove_schema_coll(record_cmds[k].coll);
		const char *help = record_cmds[k].help;

		if (strcmp(argv[0], c->name) != 0)
			continue;
		if (sub == NULL)
			return cli_usage(help, false);
		if (cli_is_help(sub))
			return cli_usage(help, true);
		for (const rec_verb *v = record_cmds[k].verbs; v->name != NULL; v++) {
			if (strcmp(sub, v->name) == 0)
				return v->fn(cli, c, argc, argv);
		}
		rove_error("unknown %s command '%s'", c->name, sub);
		return cli_usage(help, false);
	}
	rove_error("'%s' is not a record command", argv[0]); /* main.c's table is wrong */
	return ROVE_EXIT_FAIL;
}

int cmd_notices(rove_cli *cli, int argc, char **argv)
{
	static const char help[] =
		"usage: rove notices [--json]\n"
		"\n"
		"Messages from the server to you, such as customers about to return to\n"
		"the public pool for lack of follow-up.\n";
	char *args[4] = {argv[0], "list", NULL, NULL};
	int n = 2;

	for (int i = 1; i < argc; i++) {
		if (cli_is_help(argv[i]))
			return cli_usage(help, true);
		if (strcmp(argv[i], "--json") != 0 || n > 2)
			return cli_usage(help, false);
		args[n++] = argv[i];
	}
	return rec_list(cli, rove_schema_coll(ROVE_COLL_NOTICE), n, args);
}

