/*
 * rec_op.c - an op from the command line (rec.h): fields named as options
 * or FIELD=VALUE, values parsed by the schema, then cleaned, prechecked and
 * queued in the replica's outbox.
 */
#include "rec.h"
#include "err.h"
#include "log.h"

#include <string.h>

/* "tax-id" or "tax_id" -> the field named tax_id. */
const rove_field_def *rec_field_arg(const rove_coll_def *c, const char *arg, size_t len)
{
	char name[ROVE_MAX_FIELD_NAME + 1];

	if (len == 0 || len > ROVE_MAX_FIELD_NAME)
		return NULL;
	for (size_t i = 0; i < len; i++)
		name[i] = arg[i] == '-' ? '_' : arg[i];
	name[len] = '\0';
	return rove_schema_field(c, name);
}

bool rec_field_repeated(const rove_coll_def *c, char **argv, int from, int i)
{
	const char *eq = strchr(argv[i], '=');
	const rove_field_def *fd = rec_field_arg(c, argv[i], (size_t)(eq - argv[i]));

	for (int j = from; j < i; j++) {
		const char *e = strchr(argv[j], '=');
		if (e != NULL && rec_field_arg(c, argv[j], (size_t)(e - argv[j])) == fd)
			return true;
	}
	return false;
}

int rec_set_field(rove_op *op, const rove_field_def *fd, const char *text)
{
	char why[ROVE_MAX_ERRMSG];
	rove_value v;
	int rc;

	if (fd->flags & ROVE_FF_SYSTEM) {
		if (strcmp(fd->name, "owner") == 0) /* a customer's: the commands that move one */
			rove_error("owner cannot be set here: a customer's owner changes through 'rove customer "
				   "claim|release' or, by managers and admins, 'rove admin reassign --customer ID "
				   "--to USER'");
		else
			rove_error("%s cannot be set here (it is set by the server or by a dedicated command)",
				   fd->name);
		return ROVE_EINVAL;
	}
	if (fd->type == ROVE_FT_REF && text[0] != '\0') {
		rove_uuid id;
		if (rove_uuid_parse(text, &id) != ROVE_OK && cli_id_maybe(text)) {
			/* The start or end of an id: resolved against the replica
			 * before the op is written (rec_resolve_refs). */
			rc = rove_op_set(op, fd->name, rove_vcstr(text));
			if (rc != ROVE_OK)
				rove_error("%s: %s", fd->name, rove_strerror(rc));
			return rc;
		}
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

int rec_new_owner_allowed(const char *owner, int role, const char *me)
{
	if (role == ROVE_ROLE_REP && strcmp(owner, me) != 0) {
		rove_error("%s: owner: a rep owns the customers he creates; a manager or admin may name another",
			   rove_reason_name(ROVE_R_FORBIDDEN));
		return ROVE_EPERM;
	}
	return ROVE_OK;
}

int rec_set_new_owner(rove_op *op, const rove_field_def *fd, const char *text, int role, const char *me)
{
	char why[ROVE_MAX_ERRMSG];
	rove_value v;
	int rc;

	if ((rc = rec_new_owner_allowed(text, role, me)) != ROVE_OK)
		return rc;
	if ((rc = rove_schema_parse(fd, text, &v, why, sizeof(why))) != ROVE_OK)
		rove_error("%s", why);
	else if ((rc = rove_op_set(op, fd->name, v)) != ROVE_OK)
		rove_error("%s: %s", fd->name, rove_strerror(rc));
	return rc;
}

/* The collection a reference field names records of. */
static uint8_t ref_coll(const rove_field_def *fd)
{
	return strcmp(fd->name, "dealer") == 0 ? ROVE_COLL_DEALER : ROVE_COLL_CUSTOMER;
}

/* Field i of op if it is a reference holding the start or end of an id,
 * not a whole one (rec_set_field let it through); NULL otherwise. */
static const rove_field_def *abbrev_ref(const rove_coll_def *c, const rove_op *op, uint32_t i, const char **text)
{
	const rove_field_def *fd = rove_schema_field(c, op->fs.f[i].name);
	rove_uuid id;

	*text = rove_fields_str(&op->fs, op->fs.f[i].name);
	if (fd == NULL || fd->type != ROVE_FT_REF || *text == NULL || (*text)[0] == '\0' ||
	    rove_uuid_parse(*text, &id) == ROVE_OK)
		return NULL;
	return fd;
}

bool rec_has_abbrev_ref(const rove_coll_def *c, const rove_op *op)
{
	const char *text;

	for (uint32_t i = 0; i < op->fs.n; i++)
		if (abbrev_ref(c, op, i, &text) != NULL)
			return true;
	return false;
}

int rec_resolve_refs(rove_replica *r, const rove_coll_def *c, rove_op *op)
{
	int rc = ROVE_OK;

	for (uint32_t i = 0; rc == ROVE_OK && i < op->fs.n; i++) {
		const char *text;
		const rove_field_def *fd = abbrev_ref(c, op, i, &text);
		char ids[ROVE_UUID_STRLEN + 1];
		rove_uuid id;
		if (fd == NULL)
			continue;
		rc = cli_id_find(r, ref_coll(fd), text, fd->name, &id);
		if (rc == ROVE_OK) {
			rove_uuid_format(&id, ids);
			rc = rove_op_set(op, fd->name, rove_vcstr(ids));
		}
	}
	return rc;
}

/* Writes a local op: cleaned and checked as the server will (what the
 * replica cannot know, the server decides), then queued; cur is the
 * record it changes (NULL for a create). Says why not. The check and the
 * write see one state of the replica: if another process wrote it in
 * between (an import or an add of the same tax id, a sync), the op is
 * checked again (rove_replica_write_at). */
int rec_write_op(rove_replica *r, rove_op *op, const rove_record *cur)
{
	char why[ROVE_MAX_ERRMSG];
	int rc = rove_replica_writable(r); /* reported */

	if (rc == ROVE_OK)
		rc = rec_resolve_refs(r, rove_schema_coll(op->coll), op);
	if (rc != ROVE_OK)
		return rc;
	rc = rove_schema_clean_op(op, why, sizeof(why));

	if (rc != ROVE_OK) {
		rove_error("%s", why);
		return rc;
	}
	for (unsigned tries = 0;; tries++) {
		uint64_t version;

		rc = rove_replica_version(r, &version);
		if (rc != ROVE_OK)
			break;
		rc = rec_precheck(r, op, cur);
		if (rc != ROVE_OK)
			return rc; /* reported */
		rc = rove_replica_write_at(r, version, op);
		if (rc != ROVE_ECHANGED || tries == ROVE_MAX_WRITE_RECHECKS)
			break;
	}
	if (rc == ROVE_ECHANGED)
		rove_error("cannot save: the replica kept changing while it was checked (another rove writing it); "
			   "nothing was changed: try again");
	else if (rc != ROVE_OK)
		rove_error("cannot save: %s", rove_strerror(rc));
	return rc;
}
