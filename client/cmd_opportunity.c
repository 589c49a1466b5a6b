/*
 * cmd_opportunity.c - `rove opportunity stage ID STAGE`: a deal through the
 * funnel, a `set` of its stage and closing day; `rove opportunity history
 * ID`: who owned the deal (who is credited with it), when and by whom.
 */
#include "rec.h"
#include "err.h"
#include "cli_opt.h"
#include "hlc.h"
#include "log.h"
#include "rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char stage_help[] = "usage: rove opportunity stage ID STAGE\n"
				 "\n"
				 "Move a deal: lead -> qualified -> proposal -> negotiation -> won / lost.\n"
				 "Won and lost deals are closed today (closed_on).\n";

/* opportunity stage ID STAGE, its words without rove's own options. */
static int stage_words(rove_cli *cli, int argc, char **argv, void *coll)
{
	char *args[8];
	char stage[64], closed[40];
	rove_record *rec;
	rove_replica r;
	uint64_t now = 0;
	bool same = false;
	int n = 0, rc;

	if (argc != 4) {
		if (argc > 4)
			cli_word_unexpected(argv[4]);
		else
			rove_error(argc < 3 ? "missing the deal's ID and its STAGE" : "missing the STAGE");
		return cli_usage(stage_help, false);
	}
	/* A deal at that stage already: nothing queued (attack seventy-two:
	 * a change was, which could undo a colleague's move made meanwhile,
	 * and a won deal's closed_on moved to today). */
	rec = malloc(sizeof(*rec));
	if (rec == NULL)
		return cli_exit(ROVE_ENOMEM);
	rc = rec_load(cli, coll, argv[2], &r, rec); /* reports errors */
	if (rc == ROVE_OK) {
		const char *was = rove_fields_str(&rec->fs, "stage");
		same = was != NULL && strcmp(was, argv[3]) == 0;
		now = rove_replica_now_ms(&r); /* today, by the replica's clock */
		rove_replica_close(&r);
	}
	free(rec);
	if (rc != ROVE_OK)
		return cli_exit(rc);
	if (same) {
		rove_warn("the deal is at %s already: nothing changed", argv[3]);
		return ROVE_EXIT_OK;
	}
	snprintf(stage, sizeof(stage), "stage=%s", argv[3]);
	args[n++] = argv[0];
	args[n++] = "set";
	args[n++] = argv[2];
	args[n++] = stage;
	if (rove_rules_deal_closed(argv[3])) {
		char today[40];
		out_time(now, today, sizeof(today));
		snprintf(closed, sizeof(closed), "closed_on=%.10s", today);
	} else {
		snprintf(closed, sizeof(closed), "closed_on=");
	}
	args[n++] = closed;
	args[n] = NULL;
	return rec_change(cli, coll, n, args, false);
}

int opportunity_stage(rove_cli *cli, const rove_coll_def *c, int argc, char **argv)
{
	if (cli_opt_help(argc, argv, 2))
		return cli_usage(stage_help, true);
	return cli_on_words(cli, argc, argv, 2, stage_words, (void *)c);
}

int opportunity_history(rove_cli *cli, const rove_coll_def *c, int argc, char **argv)
{
	static const char help[] = "usage: rove opportunity history ID [--json] [--search TEXT] [--sort FIELD[:desc]] "
				   "[--limit N]\n"
				   "\n"
				   "The deal's owners (who is credited with it): its create and every\n"
				   "change of owner - a manager's, or its customer's reassignment - with\n"
				   "who, when and by whom.\n";
	rec_list_ctx lc = {.c = rove_schema_coll(ROVE_COLL_OWNERSHIP), .history = true, .sort = "at"};
	char deal[ROVE_UUID_STRLEN + 1], customer[ROVE_UUID_STRLEN + 1], sortf[ROVE_MAX_FIELD_NAME + 1];
	const char *cid;
	rove_replica r;
	rove_record *rec;
	int rc;

	/* the finding options as customer history's (SPEC: every record
	 * list); the id it reads is the deal's */
	switch (rec_history_args(&lc, argc, argv, sortf)) {
	case REC_ARGS_HELP:
		return cli_usage(help, true);
	case REC_ARGS_USAGE:
		return cli_usage(help, false);
	}
	lc.deal = lc.parent;
	lc.parent = NULL;
	(void)rec_list_filters(NULL, &lc, NULL); /* the search's forms; no territory: no replica read */
	rec = malloc(sizeof(*rec));
	if (rec == NULL)
		return ROVE_EXIT_FAIL;
	rc = rec_load(cli, c, lc.deal, &r, rec);
	if (rc == ROVE_OK) {
		rove_uuid_format(&rec->id, deal);
		cid = rove_fields_str(&rec->fs, "customer");
		snprintf(customer, sizeof(customer), "%s", cid != NULL ? cid : "");
	}
	free(rec);
	if (rc != ROVE_OK)
		return cli_exit(rc);
	lc.deal = deal;
	lc.parent = customer;
	return rec_list_print(&r, &lc);
}

/* The deal's customer's territory and those above it, as the replica
 * holds them (chain[0] the customer's; n 0 if not known). */
typedef struct terr_chain {
	char code[ROVE_MAX_TREE_DEPTH + 1][ROVE_MAX_NAME + 1];
	size_t n;
} terr_chain;

static const char *chain_parent(const char *code, void *arg)
{
	const terr_chain *ch = arg;

	for (size_t i = 0; i + 1 < ch->n; i++)
		if (strcmp(ch->code[i], code) == 0)
			return ch->code[i + 1];
	return NULL;
}

/* The chain of territory code (NULL: none known), as r holds it. */
static void chain_from(rove_replica *r, const char *code, rove_record *scratch, terr_chain *ch)
{
	ch->n = 0;
	if (code == NULL)
		return; /* the server's to say */
	snprintf(ch->code[ch->n++], sizeof(ch->code[0]), "%s", code);
	while (ch->n <= ROVE_MAX_TREE_DEPTH && rec_territory_by_code(r, ch->code[ch->n - 1], scratch) == ROVE_OK &&
	       (code = rove_fields_str(&scratch->fs, "parent")) != NULL && code[0] != '\0')
		snprintf(ch->code[ch->n++], sizeof(ch->code[0]), "%s", code);
}

/* The chain of customer cid's territory, as r holds it. */
static void chain_of(rove_replica *r, const char *cid, rove_record *scratch, terr_chain *ch)
{
	rove_uuid id;

	ch->n = 0;
	if (cid != NULL && rove_uuid_parse(cid, &id) == ROVE_OK &&
	    rove_replica_get(r, ROVE_COLL_CUSTOMER, &id, scratch) == ROVE_OK)
		chain_from(r, rove_fields_str(&scratch->fs, "territory"), scratch, ch);
}

/* Whether owner, named by a user of role (this replica's, whose replica
 * is closed now), is one the server would take for a customer of ch's
 * territory, or a deal (closed) of one: asked of the server
 * (rec_owner_rule). The exit status, reported. */
static int owner_verdict(rove_cli *cli, const char *owner, int role, bool deal, bool closed, const terr_chain *ch)
{
	char detail[ROVE_MAX_ERRMSG], what[ROVE_MAX_NAME + 8];
	cli_user_found *o = calloc(1, sizeof(*o));
	rec_user u;
	int reason;

	if (o == NULL) {
		rove_error("out of memory");
		return ROVE_EXIT_FAIL;
	}
	o->login = owner;
	snprintf(what, sizeof(what), "owner %s", owner);
	if (!cmd_admin_users_advice(cli, cli_user_find, o, what,
				    "the server checks it on sync, and 'rove rejected' lists a refusal")) {
		free(o);
		return ROVE_EXIT_OK;
	}
	if (!o->found) {
		snprintf(detail, sizeof(detail), "no user '%s'%s", owner, role == ROVE_ROLE_ADMIN ? "" : " in your territories");
		reason = ROVE_R_INVALID;
	} else {
		u = (rec_user){o->login, rove_role_parse(o->role), o->disabled, o->nterr, {NULL}};
		for (uint32_t i = 0; i < o->nterr; i++)
			u.terr[i] = o->terr[i];
		reason = rec_owner_rule(role, &u, deal, closed, ch->n > 0 ? ch->code[0] : NULL, chain_parent,
					(void *)ch, detail, sizeof(detail));
	}
	free(o);
	if (reason == ROVE_R_NONE)
		return ROVE_EXIT_OK;
	rove_error("%s: owner: %s", rove_reason_name(reason), detail);
	return cli_exit(ROVE_EPERM);
}

/* The check of owner for deal ids (a change; stage: the one it sets, or
 * NULL) or for the new deal op (ids NULL): what it needs read from the
 * replica, closed again before the server is asked. */
static int owner_check(rove_cli *cli, const rove_coll_def *c, const char *ids, rove_op *op, const char *owner,
		       const char *stage)
{
	rove_record *rec = malloc(sizeof(*rec));
	terr_chain *ch = malloc(sizeof(*ch));
	char cid[ROVE_UUID_STRLEN + 1] = "";
	const char *s;
	rove_replica r;
	bool ask = false, closed = false;
	int role = 0, rc = rec != NULL && ch != NULL ? ROVE_OK : ROVE_ENOMEM, status;

	if (rc == ROVE_OK)
		rc = ids != NULL ? rec_load(cli, c, ids, &r, rec) : cli_open(cli, &r); /* report */
	if (rc == ROVE_OK) {
		role = rove_role_parse(r.role);
		ask = (role == ROVE_ROLE_MANAGER || role == ROVE_ROLE_ADMIN) &&
		      !(strcmp(owner, r.auth.user) == 0 && rove_rules_role_may_own(role));
		if (ask && owner[0] == '\0') { /* a change's owner= (a rep's: the precheck's) */
			rove_error("%s: owner: a deal needs an owner", rove_reason_name(ROVE_R_INVALID));
			rc = ROVE_EPERM;
			ask = false;
		}
		/* a new deal's customer named by the start or end of its id:
		 * made whole */
		if (ask && op != NULL && rec_has_abbrev_ref(c, op))
			rc = rec_resolve_refs(&r, c, op);
		if (stage == NULL)
			stage = rove_fields_str(op != NULL ? &op->fs : &rec->fs, "stage");
		closed = rove_rules_deal_closed(stage);
		s = rove_fields_str(op != NULL ? &op->fs : &rec->fs, "customer");
		snprintf(cid, sizeof(cid), "%s", s != NULL ? s : "");
		if (ask && rc == ROVE_OK)
			chain_of(&r, cid, rec, ch);
		rove_replica_close(&r);
	}
	status = rc == ROVE_OK && ask ? owner_verdict(cli, owner, role, true, closed, ch) : cli_exit(rc);
	free(rec);
	free(ch);
	return status;
}

int opportunity_owner_check(rove_cli *cli, const rove_coll_def *c, const char *ids, int n, char *const *args)
{
	const char *owner = NULL, *stage = NULL;

	for (int i = 0; i < n; i++) {
		if (strncmp(args[i], "owner=", 6) == 0)
			owner = args[i] + 6;
		else if (strncmp(args[i], "stage=", 6) == 0)
			stage = args[i] + 6;
	}
	if (owner == NULL)
		return ROVE_EXIT_OK;
	return owner_check(cli, c, ids, NULL, owner, stage);
}

int opportunity_owner_check_new(rove_cli *cli, const rove_coll_def *c, rove_op *op)
{
	const char *given = rove_fields_str(&op->fs, "owner");
	char owner[ROVE_MAX_NAME + 1];

	if (given == NULL || given[0] == '\0')
		return ROVE_EXIT_OK; /* the precheck's */
	/* a copy: resolving the customer's reference writes op's fields */
	snprintf(owner, sizeof(owner), "%s", given);
	return owner_check(cli, c, NULL, op, owner, NULL);
}

int customer_owner_check_new(rove_cli *cli, rove_op *op)
{
	const rove_field *given = rove_fields_get(&op->fs, "owner");
	const char *s;
	char owner[ROVE_MAX_NAME + 1];
	rove_record *scratch;
	terr_chain *ch;
	rove_replica r;
	bool ask = false;
	int role = 0, rc, status;

	if (given == NULL)
		return ROVE_EXIT_OK;
	s = rove_fields_str(&op->fs, "owner");
	snprintf(owner, sizeof(owner), "%s", s != NULL ? s : ""); /* "": the pool */
	scratch = malloc(sizeof(*scratch));
	ch = malloc(sizeof(*ch));
	rc = scratch != NULL && ch != NULL ? ROVE_OK : ROVE_ENOMEM;
	if (rc == ROVE_OK)
		rc = cli_open(cli, &r); /* report */
	if (rc == ROVE_OK) {
		role = rove_role_parse(r.role);
		/* A rep's named owner is ignored, as the server ignores it (rule
		 * 2: "the server sets the owner to the rep; a client-supplied
		 * owner is ignored"); before, refused, exit 1. */
		if (role == ROVE_ROLE_REP && strcmp(owner, r.auth.user) != 0) {
			rove_warn("owner: ignored: a rep owns the customers he creates (a manager or admin may name "
				  "another)");
			snprintf(owner, sizeof(owner), "%s", r.auth.user);
			rc = rove_op_set(op, "owner", rove_vcstr(r.auth.user));
		}
		if (rc == ROVE_OK)
			rc = rec_new_owner_allowed(owner, role, r.auth.user);
		ask = rc == ROVE_OK && (role == ROVE_ROLE_MANAGER || role == ROVE_ROLE_ADMIN) && owner[0] != '\0' &&
		      !(strcmp(owner, r.auth.user) == 0 && rove_rules_role_may_own(role));
		if (ask && rove_fields_get(&op->fs, "territory") == NULL)
			rc = rec_default_territory(&r, op);
		if (ask && rc == ROVE_OK)
			chain_from(&r, rove_fields_str(&op->fs, "territory"), scratch, ch);
		rove_replica_close(&r);
	}
	status = rc == ROVE_OK && ask ? owner_verdict(cli, owner, role, false, false, ch) : cli_exit(rc);
	free(scratch);
	free(ch);
	return status;
}
