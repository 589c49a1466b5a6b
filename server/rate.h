/*
 * rate.h - how many changes one user may push in a while.
 *
 * A valid token is enough to push as fast as the server commits: one rep
 * sent 779,000 updates of one customer in 20 s (attack seventy-four), and
 * every replica in that scope then pulls them all. Each user has a bucket
 * of ROVE_USER_OPS_BURST ops that refills at ROVE_USER_OPS_PER_S a second
 * (a rep's import of tens of thousands of customers passes at once); a
 * push that finds fewer ops in the bucket than it carries is refused
 * whole (the engine answers ROVE_ERATE, its ops stay on the replica and
 * its next sync sends them), and takes nothing.
 *
 * Users are keyed by a hash of their login. The table is bounded: a user
 * whose bucket has refilled is as one never seen and is dropped to make
 * room; when none can be (more than ROVE_RATE_USERS users pushed within
 * the refill time of a whole bucket) a newcomer is let through untracked.
 * Thread-safe.
 */
#ifndef ROVE_RATE_H
#define ROVE_RATE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct rove_rate rove_rate;

/* Buckets of burst ops refilled at per_s a second (both at least 1, and
 * burst at least the ops of one push); *out is the caller's, to free
 * with rove_rate_free. ROVE_ENOMEM. */
int rove_rate_new(rove_rate **out, uint32_t burst, uint32_t per_s);
void rove_rate_free(rove_rate *r);

/* Takes n ops from user's bucket at now_ms (a monotonic clock's ms:
 * the wall clock set back would stop the refill): true if it held them;
 * else false, nothing taken, and *wait_ms says when it will hold them. */
bool rove_rate_take(rove_rate *r, uint64_t user, uint32_t n, uint64_t now_ms, uint64_t *wait_ms);
/* Charges n ops written for user (a manager's reassignment: how many is
 * known only once it is done) to the bucket, below empty if need be: the
 * debt is paid at the rate before the next take passes. */
void rove_rate_charge(rove_rate *r, uint64_t user, uint64_t n, uint64_t now_ms);
/* Gives back n ops taken from user's bucket at now_ms, up to a full one:
 * ops of a push that the server had answered before (sent again after
 * their answer was lost, they wrote nothing). */
void rove_rate_refund(rove_rate *r, uint64_t user, uint64_t n, uint64_t now_ms);
/* From now_ms on, a bucket made anew holds what it would had it been
 * emptied at now_ms (roved started anew in place: what its users had
 * taken is not known, and a client can cause such a restart). */
void rove_rate_start_empty(rove_rate *r, uint64_t now_ms);

#endif
