/*
 * test_names.c - every number that goes on the wire or to disk has a name
 * (and errors a message), and no two share one.
 *
 * Errors, refusal reasons, roles, op kinds, collections and message
 * types are numbered
 * explicitly in their headers and never renumbered; tests and tools
 * compare their names. A code added without a name, or a name given
 * twice, fails here.
 */
#include "check.h"
#include "err.h"
#include "proto.h"
#include "record.h"
#include "schema.h"

#include <string.h>

/* Checks that names[lo..hi] are all set, not "unknown", and distinct. */
static void distinct(const char *what, const char *const *names, int n)
{
	for (int i = 0; i < n; i++) {
		CHECK(names[i] != NULL && names[i][0] != '\0' && strcmp(names[i], "unknown") != 0);
		for (int j = 0; j < i; j++)
			if (names[i] != NULL && names[j] != NULL && strcmp(names[i], names[j]) == 0) {
				fprintf(stderr, "%s: %d and %d are both named '%s'\n", what, j, i, names[i]);
				CHECK(!"distinct names");
			}
	}
}

int main(void)
{
	const char *names[256], *msgs[256];
	int n;

	/* Errors: a name and a message each. */
	for (n = 0; n < ROVE_ERR_COUNT; n++) {
		names[n] = rove_err_name(n);
		msgs[n] = rove_strerror(n);
		CHECK(strcmp(msgs[n], "unknown error") != 0);
	}
	distinct("errors", names, n);
	distinct("error messages", msgs, n);
	CHECK(strcmp(rove_err_name(ROVE_ERR_COUNT), "unknown") == 0);
	CHECK(strcmp(rove_strerror(-1), "unknown error") == 0);
	/* A few by name, so that a renumbering shows. */
	CHECK(strcmp(rove_err_name(13), "auth") == 0);
	CHECK(strcmp(rove_err_name(17), "history") == 0);

	/* Refusal reasons: their names are the JSON contract (SPEC.md). */
	for (n = 0; n < ROVE_R_COUNT; n++)
		names[n] = rove_reason_name(n);
	distinct("reasons", names, n);
	CHECK(strcmp(rove_reason_name(ROVE_R_DUPLICATE), "duplicate") == 0);
	CHECK(strcmp(rove_reason_name(ROVE_R_COOLDOWN), "cooldown") == 0);
	CHECK(strcmp(rove_reason_name(ROVE_R_COUNT), "unknown") == 0);

	/* Roles, stored in the users table. */
	for (n = 0; n < ROVE_ROLE_ADMIN; n++) {
		names[n] = rove_role_name(ROVE_ROLE_REP + n);
		CHECK_EQ_INT(rove_role_parse(names[n]), ROVE_ROLE_REP + n);
	}
	distinct("roles", names, n);
	CHECK(strcmp(rove_role_name(0), "unknown") == 0);

	/* Op kinds, in every op. */
	for (n = 0; n < ROVE_OP_KIND_MAX; n++)
		names[n] = rove_op_kind_name(ROVE_OP_CREATE + n);
	distinct("op kinds", names, n);
	CHECK(strcmp(rove_op_kind_name(ROVE_OP_KIND_MAX + 1), "unknown") == 0);

	/* Collections, the first byte of every record key: each number in the
	 * enum has a schema entry, found again by its name. */
	n = 0;
	for (int id = 1; id < 256; id++) {
		const rove_coll_def *c = rove_schema_coll((uint8_t)id);
		if (c == NULL)
			continue;
		CHECK_EQ_INT(c->id, id);
		CHECK(rove_schema_coll_by_name(c->name) == c);
		names[n++] = c->name;
	}
	distinct("collections", names, n);
	CHECK_EQ_INT(n, ROVE_COLL_NOTICE);

	/* Message types, the second element of every message: each has a
	 * name, and each request (a type with a reply) is answered by the
	 * type after it, a reply of its own. */
	for (n = 0; n < ROVE_MSG_TYPE_MAX; n++) {
		int type = ROVE_MSG_ERROR + n, reply = rove_msg_reply(type);
		names[n] = rove_msg_name(type);
		if (reply != 0) {
			CHECK_EQ_INT(reply, type + 1);
			CHECK_EQ_INT(rove_msg_reply(reply), 0);
		}
	}
	distinct("message types", names, n);
	CHECK(strcmp(rove_msg_name(ROVE_MSG_PULL_REPLY), "PULL_REPLY") == 0);
	CHECK_EQ_INT(rove_msg_reply(ROVE_MSG_ERROR), 0);
	CHECK_EQ_INT(rove_msg_reply(ROVE_MSG_PUSH), ROVE_MSG_PUSH_REPLY);
	CHECK(strcmp(rove_msg_name(0), "unknown") == 0);
	CHECK(strcmp(rove_msg_name(ROVE_MSG_TYPE_MAX + 1), "unknown") == 0);
	CHECK(strcmp(rove_msg_name(-1), "unknown") == 0);
	return check_done("test_names");
}
