/*
 * rules.h - the CRM rules that need nothing but the author's role and the
 * op itself: who may write which collection, which fields only the server
 * sets, who may delete and how, and how far ahead an activity's time may
 * be.
 *
 * The server's policy module (server/policy.c) applies these first and then
 * its own rules, which need the server's data (territories, owners,
 * duplicates). The command line applies them before it writes an op to the
 * outbox, so that what the server would certainly refuse is refused at
 * once, with the same reason code and the same words. Each function is
 * pure: it cannot fail, and returns a rove_reason (ROVE_R_NONE to let the
 * op through) with a detail for the user.
 */
#ifndef ROVE_RULES_H
#define ROVE_RULES_H

#include "record.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The rules on an op by a user of role (enum rove_role) that hold
 * whatever the op's record is:
 *   analysts write nothing; nobody but the server writes territories,
 *   ownership history or notices, or makes a reassignment;
 *   only customers are claimed and released, and only by reps and
 *   managers (admins and analysts own no customers);
 *   reps delete nothing, neither by a delete nor by the deletion marker
 *   in any other op; a delete carries the marker (1) and nothing else,
 *   and the marker is in no other op;
 *   reps keep no dealers and set no targets;
 *   a customer's owner changes only by create, claim, release, recycling
 *   and reassignment: no update touches it; reps never move a customer to
 *   another territory; the server keeps created_at, last_activity_at and
 *   release_reason (written only by a release);
 *   activities are append-only: never changed, though managers and
 *   admins may delete one (reps delete nothing); a child record never
 *   moves to another customer;
 *   an opportunity's closed_on is the server's: it comes only with a
 *   change of stage.
 * Returns ROVE_R_NONE or the reason, with a detail in detail. */
int rove_rules_check_op(int role, const rove_op *op, char *detail, size_t len);

/* What the admin requests (and the conflict list) do. */
enum rove_rules_act {
	ROVE_ACT_ADMINISTER = 1, /* users, territories, assignments: admins */
	ROVE_ACT_REASSIGN = 2,   /* move customers between users: admins, managers */
	ROVE_ACT_CONFLICTS = 3,  /* list refused changes kept on the server: admins, managers */
	ROVE_ACT_SEE_USERS = 4,  /* list and show users: admins (all), managers (their people) */
};

/* Whether users of role may do act at all (to what, the server's policy
 * decides). Returns ROVE_R_NONE or ROVE_R_FORBIDDEN with a detail. */
int rove_rules_may(int role, int act, char *detail, size_t len);

/* Whether users of role may own customers (reps and managers). */
bool rove_rules_role_may_own(int role);

/* Whether users of role write anything at all (all but analysts). */
bool rove_rules_role_writes(int role);

/* Whether users of role may change field of coll's records by an update
 * that touches it alone (rove_rules_check_op on such an op): what an
 * edit form offers. Returns ROVE_R_NONE or the reason, with a detail. */
int rove_rules_may_set(int role, uint8_t coll, const char *field, char *detail, size_t len);

/* Whether the server stamps an accepted op of this kind when it arrives
 * (a claim, a release: the first to reach the server decides the owner,
 * rule 5) instead of keeping its replica's stamp. Such a stamp says when
 * it arrived, not when it was made: it orders none of its replica's later
 * changes, which keep their own stamps (rule 8; attack ninety-six: a
 * rep's offline edit made after a claim, stamped anew past the claim's
 * arrival, overwrote a manager's later edit). No later op of a replica
 * writes what one of these writes but another of them. */
bool rove_rules_stamped_on_arrival(uint8_t kind);

/* Whether the deletion marker is set by op (a delete, or a marker in any
 * other op). */
bool rove_rules_deletes(const rove_op *op);

/* An activity's time may not be later than now_ms (the server's time on
 * arrival, or the replica's before it is sent) plus the allowed skew:
 * ROVE_MAX_CLOCK_SKEW_MS for a UTC time, ROVE_MAX_TZ_AHEAD_MS for a date
 * or a time without a zone (which may be local to someone east of UTC).
 * Returns ROVE_R_NONE or ROVE_R_INVALID with a detail. */
int rove_rules_check_at(const char *at, uint64_t now_ms, char *detail, size_t len);

/* Whether a deal's stage (NULL: none) closes it: won or lost (SPEC rule
 * 14: its credit is settled, its closed_on set). */
bool rove_rules_deal_closed(const char *stage);

/* A deal recorded as closed when a manager or admin creates it (a won
 * or lost deal of the past, imported; server/policy.c) keeps the closed_on it comes with, within the same
 * bound: a date not later than now_ms plus ROVE_MAX_TZ_AHEAD_MS (a date
 * is local to someone, up to UTC+14). Returns ROVE_R_NONE or
 * ROVE_R_INVALID with a detail. */
int rove_rules_check_closed_on(const char *closed_on, uint64_t now_ms, char *detail, size_t len);

#endif
