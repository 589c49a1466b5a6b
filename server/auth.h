/*
 * auth.h - user tokens: generation, hashing and constant-time checking;
 * the limit on failed logins.
 *
 * A token is 32 random bytes from the kernel, shown once as 64 hex
 * characters. The server keeps only its SHA-256 hash (mbedtls, which nng
 * already links) and compares hashes in constant time.
 *
 * Failed logins are counted per user name and peer address, in windows
 * of ROVE_AUTH_WINDOW_MS: past ROVE_AUTH_MAX_FAILURES, logins as that name
 * from that address are refused until the window ends. Someone guessing
 * from elsewhere cannot lock a rep out, and nobody sharing an address
 * (a NAT, local ipc:// clients) is locked out by another's failures under
 * another name. Guessing many names from one address gains nothing: a
 * token is 256 random bits. Counts live in a bounded table
 * (ROVE_AUTH_TABLE) keyed exactly; when it is full the entry whose window
 * began first is reused: forgetting failures only ever lets a guesser try
 * again, it never locks anybody out.
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

/* A request's peer: its IPv4 (4 bytes) or IPv6 (16) address; len 0 for
 * local transports (ipc://), which all count as one peer. */
typedef struct rove_peer {
	uint8_t len;
	uint8_t b[16];
} rove_peer;

/* Whether user has failed too often from peer lately: a wrong token is
 * then answered busy (the right one still logs in). Thread-safe. */
bool rove_auth_limited(const char *user, const rove_peer *peer, uint64_t now_ms);
/* Counts a failed login as user from peer. Thread-safe. */
void rove_auth_failed(const char *user, const rove_peer *peer, uint64_t now_ms);

#endif
