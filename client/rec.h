/*
 * rec.h - what the record commands share: `rove COLLECTION VERB ...` for
 * the collections of the schema (customer, contact, contract,
 * opportunity, activity, dealer, target, territory).
 *
 * Why a module: every record command is the same few verbs driven by the
 * schema's field table (common/schema.h) - add, list, show, set, delete -
 * plus the verbs one collection has alone (a customer's claim, release
 * and history; a deal's stage; a target's set). cmd_record.c's table says
 * which verbs each command has; the verbs live in the files named below,
 * and every change any of them makes goes through rec_write_op.
 *
 * Ownership: a verb opens the replica and closes it before it returns;
 * records and ops are malloc'd by the verb that uses them (they are
 * large) and freed before it returns.
 */
#ifndef ROVE_REC_H
#define ROVE_REC_H

#include "cli.h"
#include "out.h"

#include <stdbool.h>
#include <stddef.h>

/* A verb of a record command: `rove COLLECTION VERB ...` runs fn with the
 * collection's schema entry; argv[0] is COLLECTION, argv[1] VERB. */
typedef struct rec_verb {
	const char *name;
	int (*fn)(rove_cli *cli, const rove_coll_def *c, int argc, char **argv);
} rec_verb;

/* ---- the verbs every collection may have ---- */

int rec_add(rove_cli *cli, const rove_coll_def *c, int argc, char **argv);    /* rec_add.c */
int rec_list(rove_cli *cli, const rove_coll_def *c, int argc, char **argv);   /* rec_view.c */
int rec_show(rove_cli *cli, const rove_coll_def *c, int argc, char **argv);   /* rec_view.c */
int rec_set(rove_cli *cli, const rove_coll_def *c, int argc, char **argv);    /* rec_edit.c */
int rec_delete(rove_cli *cli, const rove_coll_def *c, int argc, char **argv); /* rec_edit.c */
/* set (del false) or delete: argv[2] the record, argv[3..] FIELD=VALUE. */
int rec_change(rove_cli *cli, const rove_coll_def *c, int argc, char **argv, bool del);

/* ---- the verbs of one collection ---- */

int customer_claim(rove_cli *cli, const rove_coll_def *c, int argc, char **argv);    /* cmd_customer.c */
int customer_release(rove_cli *cli, const rove_coll_def *c, int argc, char **argv);  /* cmd_customer.c */
int customer_history(rove_cli *cli, const rove_coll_def *c, int argc, char **argv);  /* cmd_customer.c */
int opportunity_stage(rove_cli *cli, const rove_coll_def *c, int argc, char **argv); /* cmd_opportunity.c */
int opportunity_history(rove_cli *cli, const rove_coll_def *c, int argc, char **argv); /* cmd_opportunity.c */
int target_set(rove_cli *cli, const rove_coll_def *c, int argc, char **argv);        /* cmd_target.c */
int target_add(rove_cli *cli, const rove_coll_def *c, int argc, char **argv);        /* cmd_target.c */

/* ---- an op from the command line (rec_op.c) ---- */

/* "tax-id" or "tax_id" (len bytes of arg) -> the field named tax_id of c;
 * NULL if c has none. */
const rove_field_def *rec_field_arg(const rove_coll_def *c, const char *arg, size_t len);
/* Whether argv[i] (FIELD=VALUE, its field known) names a field that one of
 * argv[from..i-1] names already ("tax-id" and "tax_id" are one). */
bool rec_field_repeated(const rove_coll_def *c, char **argv, int from, int i);
/* Sets field fd of op to a value written on the command line; says why
 * not (a system field, an invalid value: a rove error; an id that is not
 * one: CLI_EUSAGE). */
int rec_set_field(rove_op *op, const rove_field_def *fd, const char *text);
/* Sets a new customer's owner (fd, a system field) of op to text as a
 * user of role (this replica's, login me) names it: "" for the pool; a
 * rep names only himself (else ROVE_EPERM, said). */
int rec_set_new_owner(rove_op *op, const rove_field_def *fd, const char *text, int role, const char *me);
/* Whether a user of role (login me) may name owner as a new customer's
 * owner here: a rep names only himself (else ROVE_EPERM, said). */
int rec_new_owner_allowed(const char *owner, int role, const char *me);
/* The fields of c a user gives, a line each with what a value may be, for
 * help: those of add, or those set may change (settable). */
void rec_fields_help(const rove_coll_def *c, FILE *f, bool settable);
/* Writes a local op: cleaned and checked as the server will (what the
 * replica cannot know, the server decides), then queued; cur is the
 * record it changes (NULL for a create). Says why not. */
/* Replaces each reference field of op (c's) that holds the start or end of
 * an id with the whole id of the record r holds with it (cli_id_find,
 * which reports); ROVE_OK when there is none. */
int rec_resolve_refs(rove_replica *r, const rove_coll_def *c, rove_op *op);
/* Whether a reference field of op holds the start or end of an id. */
bool rec_has_abbrev_ref(const rove_coll_def *c, const rove_op *op);
int rec_write_op(rove_replica *r, rove_op *op, const rove_record *cur);

/* ---- what the replica refuses before the server does (rec_precheck.c) ---- */

/* Refuses at once (ROVE_EPERM, reported) what the server would certainly
 * refuse; cur is the record the op changes (NULL for a create). */
int rec_precheck(rove_replica *r, const rove_op *op, const rove_record *cur);
/* The territory this replica holds with code into rec (its fields copied);
 * ROVE_ENOTFOUND if none. */
int rec_territory_by_code(rove_replica *r, const char *code, rove_record *rec);
/* The same, codes compared without case if none is the very code (two
 * codes never differ by case alone: the server refuses it). */
int rec_territory_by_code_nocase(rove_replica *r, const char *code, rove_record *rec);

/* A user as the server showed them (`rove admin user list`): whom an
 * owner names. */
typedef struct rec_user {
	const char *login;
	int role; /* rove_role */
	bool disabled;
	uint32_t nterr;
	const char *terr[ROVE_MAX_USER_TERRITORIES];
} rec_user;
/* The territory above code, or NULL at the top or if unknown. */
typedef const char *(*rec_parent_fn)(const char *code, void *arg);
/* Whether a user of role by may make u the owner of a customer of
 * territory terr, or of a deal whose customer is there (deal; closed: won
 * or lost), as the server checks it (SPEC rules 7 and 14): a user who may
 * own, enabled, holding terr (a rep) or a territory at or above it (a
 * manager; parent walks up). A closed deal's credit may go to one who
 * left since (disabled), and an admin's pick for it need only be a user
 * who may own. terr NULL: the territory is not checked. ROVE_R_NONE, or
 * a reason with detail. */
int rec_owner_rule(int by, const rec_user *u, bool deal, bool closed, const char *terr, rec_parent_fn parent,
		   void *parg, char *detail, size_t len);
/* `opportunity set ID owner=LOGIN ...` by a manager or admin: the owner
 * asked of the server (the replica holds no users) and checked by
 * rec_owner_rule against the deal's customer's territory; refused at
 * once (exit 1) if the server would refuse it. Offline, a warning, and
 * the server decides on sync. args: the FIELD=VALUE arguments. Returns
 * the exit status (reported). */
int opportunity_owner_check(rove_cli *cli, const rove_coll_def *c, const char *ids, int n, char *const *args);
/* The same for a new deal op (`opportunity add --owner LOGIN`), with its
 * customer; a customer named by the start or end of its id is made whole
 * in op. */
int opportunity_owner_check_new(rove_cli *cli, const rove_coll_def *c, rove_op *op);
/* The same for a new customer op that names its owner (`customer add
 * --owner LOGIN`, a manager's or admin's; "" the public pool), against
 * its territory (the replica's only one if it names none, which it then
 * names): a rep naming another is refused at once (he owns what he
 * creates). */
int customer_owner_check_new(rove_cli *cli, rove_op *op);
/* A replica that holds exactly one territory creates customers in it:
 * sets op's territory to it (nothing otherwise). */
int rec_default_territory(rove_replica *r, rove_op *op);

/* ---- loading and changing one record (rec_edit.c) ---- */

/* Opens the replica and loads record ID of c (a territory: its code or
 * its id); reports errors. On success the caller closes r. */
int rec_load(rove_cli *cli, const rove_coll_def *c, const char *ids, rove_replica *r, rove_record *rec);

/* A record about to change: the replica open, the record loaded, an op
 * to fill (the caller inits it). rec_edit_open says why it fails and leaves
 * nothing to free; rec_edit_close writes the op if rc is ROVE_OK, closes
 * and frees, and returns the exit status. */
typedef struct rec_edit {
	rove_replica r;
	rove_record *rec;
	rove_op *op;
} rec_edit;

int rec_edit_open(rove_cli *cli, const rove_coll_def *c, const char *ids, rec_edit *ch);
int rec_edit_close(rec_edit *ch, int rc);

/* ---- printing lists (rec_view.c) ---- */

/* A list to print: the records of c (only the children of parent, when
 * it is not NULL) as a table, or as a JSON array with json. The caller
 * sets those three; j and n are the printer's. */
typedef struct rec_list_ctx {
	const rove_coll_def *c;
	bool json;
	const char *parent; /* the customer's id, as stored */
	/* list's filters (rec_list; NULL, false or 0: none) */
	const char *search;      /* a substring of a text field, any case */
	char search_folded[ROVE_MAX_STR + 1]; /* search, full-width forms made ASCII */
	char search_digits[ROVE_MAX_STR + 1]; /* its digits: in a phone, any format */
	char search_phone[ROVE_MAX_STR + 1];  /* the digits of its phone form
					       * (rove_phone_normalise): +86 or 0086 */
	char search_tax[ROVE_MAX_STR + 1];    /* its tax id form: "" if none */
	/* search in a search's form (rove_text_fold_search), as the
	 * replica keeps its records' text and value_match compares, and
	 * search_tax in ASCII lower case (rec_list_filters) */
	char search_low[ROVE_MAX_STR + 1], search_tax_low[ROVE_MAX_STR + 1];
	const char *owner;       /* owner is this login */
	bool pool;               /* no owner */
	const char *tier, *stage;
	char (*terrs)[ROVE_MAX_NAME + 1]; /* territory is one of these (owned) */
	size_t nterrs;
	const char *sort;        /* a field's name */
	bool desc;
	size_t limit;
	bool wide;               /* whole ids, no cell cut short */
	/* an ownership history: the customer's own (deal NULL), or the
	 * entries of one deal (its id, as stored) */
	bool history;
	const char *deal;
	size_t offset;           /* the first offset records that pass skipped (a page) */
	/* Set: each record that passes goes to emit instead of stdout (rove
	 * ui); a non-zero return stops the walk with it. arg is emit's. */
	int (*emit)(struct rec_list_ctx *lc, const rove_record *rec, bool pending);
	void *arg;
	rove_replica *r;        /* the printer's: open during the walk */
	rove_record *scratch;   /* the printer's: a customer read for its name */
	out_json j;
	size_t n;
} rec_list_ctx;

/* The filters' derived forms: lc->search's digits, phone and tax id
 * forms, and with territory (NULL: none) that territory and those under
 * it that r holds into lc->terrs (freed by rec_list_walk). A rove error,
 * not reported. */
int rec_list_filters(rove_replica *r, rec_list_ctx *lc, const char *territory);
/* The walk alone: each record of lc->c in r that passes the filters,
 * sorted if lc->sort, from lc->offset, at most lc->limit, to lc->emit
 * (or printed). r stays open; lc->terrs is freed. A rove error. */
int rec_list_walk(rove_replica *r, rec_list_ctx *lc);

/* Whether the whole customer id (text: idtext, as stored) names something
 * in r: a customer it holds, or one some record of c belongs to (a won
 * deal kept after its customer moved on; history: the customer's own
 * ownership history, as rec_list_ctx's history). ROVE_OK; else
 * ROVE_ENOTFOUND or another error, said on stderr. */
int rec_customer_named(rove_replica *r, const rove_coll_def *c, bool history, const rove_uuid *id,
		       const char *idtext);

/* The whole list: the header or the JSON array around the records of
 * lc->c in the open replica r, which it closes. The exit status. */
int rec_list_print(rove_replica *r, rec_list_ctx *lc);

/* The words after the verb of one that takes ID [--json] (show) of a
 * record of c, in order: help asked for, or an ID (and *json), or a usage
 * error, said (no ID, or another word). Any word that is no option is the
 * ID. */
enum rec_args { REC_ARGS_OK, REC_ARGS_HELP, REC_ARGS_USAGE };
int rec_id_args(const rove_coll_def *c, int argc, char **argv, const char **id, bool *json);
/* The same for `customer history ID`, which also takes --search, --sort
 * and --limit (SPEC: every record list does) into lc (a sort's field
 * copied into sortf); ID into lc->parent. */
int rec_history_args(rec_list_ctx *lc, int argc, char **argv, char sortf[ROVE_MAX_FIELD_NAME + 1]);

#endif
