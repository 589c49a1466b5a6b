#include "rules.h"

#include "err.h"
#include "schema.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int refuse(char *detail, size_t len, int reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int refuse(char *detail, size_t len, int reason, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, len, fmt, ap);
	va_end(ap);
	return reason;
}

static bool touches(const rove_op *op, const char *field)
{
	return rove_fields_get(&op->fs, field) != NULL;
}

bool rove_rules_role_may_own(int role)
{
	return role == ROVE_ROLE_REP || role == ROVE_ROLE_MANAGER;
}

bool rove_rules_role_writes(int role)
{
	return role != ROVE_ROLE_ANALYST;
}

int rove_rules_may_set(int role, uint8_t coll, const char *field, char *detail, size_t len)
{
	rove_op op; /* 17 KB: its arena holds one name */
	int rc;

	memset(&op, 0, offsetof(rove_op, fs));
	op.kind = ROVE_OP_UPDATE;
	op.coll = coll;
	rove_fields_init(&op.fs);
	rc = rove_fields_set(&op.fs, field, (rove_value){.type = ROVE_V_NULL}, op.st);
	if (rc != ROVE_OK)
		return refuse(detail, len, ROVE_R_INVALID, "no field '%.64s'", field);
	return rove_rules_check_op(role, &op, detail, len);
}

int rove_rules_may(int role, int act, char *detail, size_t len)
{
	bool boss = role == ROVE_ROLE_ADMIN || role == ROVE_ROLE_MANAGER;

	detail[0] = '\0';
	switch (act) {
	case ROVE_ACT_ADMINISTER:
		return role == ROVE_ROLE_ADMIN ? ROVE_R_NONE
					       : refuse(detail, len, ROVE_R_FORBIDDEN, "administration is for admins");
	case ROVE_ACT_REASSIGN:
		return boss ? ROVE_R_NONE
			    : refuse(detail, len, ROVE_R_FORBIDDEN, "reassignment is for admins and managers");
	case ROVE_ACT_CONFLICTS:
		return boss ? ROVE_R_NONE
			    : refuse(detail, len, ROVE_R_FORBIDDEN, "conflicts are for managers and admins");
	case ROVE_ACT_SEE_USERS:
		return boss ? ROVE_R_NONE
			    : refuse(detail, len, ROVE_R_FORBIDDEN, "the list of users is for admins and managers");
	default:
		return refuse(detail, len, ROVE_R_INVALID, "unknown action %d", act);
	}
}

bool rove_rules_deletes(const rove_op *op)
{
	return op->kind == ROVE_OP_DELETE || touches(op, ROVE_FIELD_DELETED);
}

/* A delete: the marker set to 1, nothing else. */
static bool plain_delete(const rove_op *op)
{
	const rove_field *f = rove_fields_get(&op->fs, ROVE_FIELD_DELETED);

	return op->fs.n == 1 && f != NULL && f->v.type == ROVE_V_INT && f->v.i == 1;
}

static int check_customer(int role, const rove_op *op, char *detail, size_t len)
{
	if (op->kind == ROVE_OP_UPDATE && touches(op, "owner"))
		return refuse(detail, len, ROVE_R_FORBIDDEN,
			      "owner changes only by create, claim, release or reassignment");
	if (op->kind == ROVE_OP_UPDATE && role == ROVE_ROLE_REP && touches(op, "territory"))
		return refuse(detail, len, ROVE_R_FORBIDDEN, "reps cannot move a customer to another territory");
	if (touches(op, "last_activity_at") || touches(op, "created_at"))
		return refuse(detail, len, ROVE_R_FORBIDDEN, "the server keeps last_activity_at and created_at");
	if (touches(op, "release_reason") && op->kind != ROVE_OP_RELEASE)
		return refuse(detail, len, ROVE_R_FORBIDDEN, "release_reason is written by a release");
	return ROVE_R_NONE;
}

int rove_rules_check_op(int role, const rove_op *op, char *detail, size_t len)
{
	const rove_coll_def *c = rove_schema_coll(op->coll);
	const rove_field_def *pf;

	detail[0] = '\0';
	if (!rove_rules_role_writes(role))
		return refuse(detail, len, ROVE_R_FORBIDDEN, "analysts are read-only");
	if (c == NULL)
		return refuse(detail, len, ROVE_R_INVALID, "unknown collection %u", op->coll);
	if ((c->flags & ROVE_CF_SERVER) || op->kind == ROVE_OP_REASSIGN)
		return refuse(detail, len, ROVE_R_FORBIDDEN, "only the server writes %s records this way", c->name);
	if ((op->kind == ROVE_OP_CLAIM || op->kind == ROVE_OP_RELEASE) && op->coll != ROVE_COLL_CUSTOMER)
		return refuse(detail, len, ROVE_R_INVALID, "only customers are claimed and released");
	if (op->kind == ROVE_OP_CLAIM && !rove_rules_role_may_own(role))
		return refuse(detail, len, ROVE_R_FORBIDDEN, "%ss own no customers; reassign it instead",
			      rove_role_name(role));
	if (rove_rules_deletes(op)) {
		if (role == ROVE_ROLE_REP)
			return refuse(detail, len, ROVE_R_FORBIDDEN, "reps delete nothing");
		if (op->kind != ROVE_OP_DELETE)
			return refuse(detail, len, ROVE_R_INVALID, "records are deleted only by a delete");
		if (!plain_delete(op))
			return refuse(detail, len, ROVE_R_INVALID, "a delete carries the deletion marker and nothing else");
	}
	/* A claim or a release changes the owner (and says why it is
	 * released) and nothing else: another field in one would be answered
	 * "accepted" and not written. */
	for (uint32_t i = 0; (op->kind == ROVE_OP_CLAIM || op->kind == ROVE_OP_RELEASE) && i < op->fs.n; i++) {
		const char *name = op->fs.f[i].name;
		bool release = op->kind == ROVE_OP_RELEASE;
		if (strcmp(name, "owner") != 0 && !(release && strcmp(name, "release_reason") == 0))
			return refuse(detail, len, ROVE_R_INVALID,
				      "a %s carries the owner%s and nothing else: %s is changed by an update",
				      release ? "release" : "claim", release ? " and its reason" : "", name);
	}
	if (op->coll == ROVE_COLL_DEALER && role == ROVE_ROLE_REP)
		return refuse(detail, len, ROVE_R_FORBIDDEN, "dealers are kept by managers and admins");
	if (op->coll == ROVE_COLL_TARGET && role == ROVE_ROLE_REP)
		return refuse(detail, len, ROVE_R_FORBIDDEN, "targets are set by managers and admins");
	if (op->coll == ROVE_COLL_CUSTOMER)
		return check_customer(role, op, detail, len);
	pf = rove_schema_parent_field(c);
	if (pf == NULL)
		return ROVE_R_NONE;
	/* Append-only forbids changes; a delete is the deletion rule's (above:
	 * managers and admins, never reps). */
	if ((c->flags & ROVE_CF_APPEND_ONLY) && op->kind != ROVE_OP_CREATE && op->kind != ROVE_OP_DELETE)
		return refuse(detail, len, ROVE_R_FORBIDDEN, "%s records are append-only", c->name);
	if (op->kind != ROVE_OP_CREATE && touches(op, pf->name))
		return refuse(detail, len, ROVE_R_FORBIDDEN, "%s %s cannot move to another customer",
			      rove_article(c->name), c->name);
	if (op->coll == ROVE_COLL_OPPORTUNITY && op->kind == ROVE_OP_UPDATE && touches(op, "owner") &&
	    role == ROVE_ROLE_REP)
		return refuse(detail, len, ROVE_R_FORBIDDEN, "a deal's owner is changed by managers and admins");
	if (op->coll == ROVE_COLL_OPPORTUNITY && touches(op, "closed_on") && !touches(op, "stage"))
		return refuse(detail, len, ROVE_R_FORBIDDEN,
			      "the server sets closed_on when a deal is won or lost");
	return ROVE_R_NONE;
}

/* ---- times ---- */

int rove_rules_check_at(const char *at, uint64_t now_ms, char *detail, size_t len)
{
	uint64_t ms;
	bool zoned;

	if (!rove_schema_time_ms(at, &ms, &zoned))
		return refuse(detail, len, ROVE_R_INVALID, "invalid time '%.32s'", at != NULL ? at : "");
	if (ms > now_ms + (zoned ? ROVE_MAX_CLOCK_SKEW_MS : ROVE_MAX_TZ_AHEAD_MS))
		return refuse(detail, len, ROVE_R_INVALID, "the activity's time %.32s is in the future", at);
	return ROVE_R_NONE;
}

bool rove_rules_stamped_on_arrival(uint8_t kind)
{
	return kind == ROVE_OP_CLAIM || kind == ROVE_OP_RELEASE;
}

bool rove_rules_deal_closed(const char *stage)
{
	return stage != NULL && (strcmp(stage, "won") == 0 || strcmp(stage, "lost") == 0);
}

int rove_rules_check_closed_on(const char *closed_on, uint64_t now_ms, char *detail, size_t len)
{
	uint64_t ms;
	bool zoned;

	if (closed_on == NULL || strlen(closed_on) != 10 || !rove_schema_time_ms(closed_on, &ms, &zoned))
		return refuse(detail, len, ROVE_R_INVALID, "invalid closed_on '%.32s'", closed_on != NULL ? closed_on : "");
	if (ms > now_ms + ROVE_MAX_TZ_AHEAD_MS)
		return refuse(detail, len, ROVE_R_INVALID, "closed_on %.10s is in the future", closed_on);
	return ROVE_R_NONE;
}
