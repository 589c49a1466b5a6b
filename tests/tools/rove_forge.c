/*
 * rove_forge - writes an op into a replica's outbox without any check, as
 * an older or modified rove could have: for tests of what a replica does
 * with data the current command line would refuse (bad bytes, control
 * characters, unknown fields), before and after the server refuses it.
 *
 *   rove_forge DIR KIND COLL ID [FIELD=VALUE...]
 *       KIND create|update|delete|claim|release; COLL a number; VALUE
 *       "null" for nil, "#123" for an integer, anything else a string
 *       (bash's $'...' gives any bytes but NUL). The field name is what
 *       comes before the first '='.
 *
 * Exit status 0 when the op was written, 1 when the replica refused it,
 * 2 for a usage error.
 */
#include "err.h"
#include "replica.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int kind_of(const char *s)
{
	for (int k = ROVE_OP_CREATE; k <= ROVE_OP_KIND_MAX; k++)
		if (strcmp(rove_op_kind_name(k), s) == 0)
			return k;
	return 0;
}

int main(int argc, char **argv)
{
	rove_stamp st0 = {{0}, 0};
	rove_replica r;
	rove_uuid rid;
	rove_op *op;
	int kind, rc;

	if (argc < 5 || (kind = kind_of(argv[2])) == 0 || rove_uuid_parse(argv[4], &rid) != ROVE_OK) {
		fprintf(stderr, "usage: rove_forge DIR KIND COLL ID [FIELD=VALUE...]\n");
		return 2;
	}
	op = malloc(sizeof(*op));
	if (op == NULL)
		return 1;
	rove_op_init(op, (uint8_t)kind, (uint8_t)atoi(argv[3]), &rid, st0);
	for (int i = 5; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		rove_value v;

		if (eq == NULL) {
			fprintf(stderr, "rove_forge: expected FIELD=VALUE, got '%s'\n", argv[i]);
			free(op);
			return 2;
		}
		*eq = '\0';
		if (strcmp(eq + 1, "null") == 0)
			v = rove_vnull();
		else if (eq[1] == '#')
			v = rove_vint(strtoll(eq + 2, NULL, 10));
		else
			v = rove_vcstr(eq + 1);
		rc = rove_op_set(op, argv[i], v);
		if (rc != ROVE_OK) {
			fprintf(stderr, "rove_forge: field '%s': %s\n", argv[i], rove_strerror(rc));
			free(op);
			return 2;
		}
	}
	rc = rove_replica_open(argv[1], &r);
	if (rc == ROVE_OK) {
		rc = rove_replica_write(&r, op);
		rove_replica_close(&r);
	}
	free(op);
	if (rc != ROVE_OK) {
		fprintf(stderr, "rove_forge: %s\n", rove_strerror(rc));
		return 1;
	}
	return 0;
}
