/*
 * proof.h - proofs of the server's clock (proto.h, "A proof"): a MAC,
 * HMAC-SHA-256 cut to ROVE_PROOF_MAC bytes, of a label, the server's
 * number and an hlc, under a key of ROVE_PROOF_KEY random bytes kept in
 * the server's database (engine.c makes it once). A copy or backup of the
 * database carries the key, so a restored server checks the proofs its
 * replicas got before the copy was put back; nobody without the database
 * can make one.
 */
#ifndef ROVE_PROOF_H
#define ROVE_PROOF_H

#include "proto.h"

#include <stdbool.h>
#include <stdint.h>

#define ROVE_PROOF_KEY 32

/* A new random key: ROVE_EIO when none can be had. */
int rove_proof_key_new(uint8_t key[ROVE_PROOF_KEY]);
/* Whether a stored key can be one rove_proof_key_new made: not all
 * zeros, a key anyone could know (attack forty-three). */
bool rove_proof_key_sound(const uint8_t key[ROVE_PROOF_KEY]);
/* The proof that server's clock reached hlc, into *out. ROVE_EIO if the
 * MAC cannot be computed. */
int rove_proof_make(const uint8_t key[ROVE_PROOF_KEY], uint64_t server, rove_hlc hlc, rove_proof *out);
/* Whether p is one rove_proof_make gave under key for server (compared
 * in constant time). */
bool rove_proof_valid(const uint8_t key[ROVE_PROOF_KEY], uint64_t server, const rove_proof *p);

#endif
