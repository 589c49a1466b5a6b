/*
 * random.h - secrets and seeds from the kernel (getrandom(2)).
 *
 * Every secret rove makes comes from here: users' tokens and the proof
 * key of the server (server/auth.c, server/proof.c), the seal's nonces
 * (server/seal.c), the local UI's path, cookie and CSRF token
 * (client/ui_server.c). The seeds of in-memory hash tables
 * (server/gate.c, server/auth.c) come from here too, without waiting.
 */
#ifndef ROVE_RANDOM_H
#define ROVE_RANDOM_H

#include <stddef.h>
#include <stdint.h>

/* Fills the len bytes at out with the kernel's random bytes, waiting for
 * its pool at boot if it must. ROVE_EIO if the kernel cannot give them. */
int rove_random_bytes(void *out, size_t len);

/* Writes 2 * nbytes lowercase hex digits of nbytes random bytes and a
 * NUL into out (2 * nbytes + 1 chars). ROVE_EIO as above. */
int rove_random_hex(char *out, size_t nbytes);

/* A seed for a hash table, without waiting: random when the kernel has
 * entropy, else a value that still makes a valid table. */
uint64_t rove_random_seed(void);

#endif
