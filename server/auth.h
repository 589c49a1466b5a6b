/*
 * auth.h - user tokens: generation, hashing and constant-time checking.
 *
 * A token is 32 random bytes from the kernel, shown once as 64 hex
 * characters. The server keeps only its SHA-256 hash (mbedtls, which nng
 * already links) and compares hashes in constant time.
 */
#ifndef ROVE_AUTH_H
#define ROVE_AUTH_H

#include "rove_limits.h"

#include <stdbool.h>
#include <stdint.h>

#define ROVE_HASH_BYTES 32u

/* Writes a new token (64 hex chars and a NUL) into out. */
int rove_token_new(char out[ROVE_TOKEN_HEX + 1]);
void rove_token_hash(const char *token, uint8_t out[ROVE_HASH_BYTES]);
/* True if token hashes to hash; time does not depend on where they differ. */
bool rove_token_check(const char *token, const uint8_t hash[ROVE_HASH_BYTES]);

#endif
