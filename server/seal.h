/*
 * seal.h - an admin request's answer, kept sealed: the server keeps each
 * answer a day so that a request sent again is answered again (store.h,
 * admreqs), and some answers hold new users' tokens. Kept as they are,
 * anyone with a copy of the database or a backup would have working
 * logins. So an answer is kept encrypted (AES-256-GCM) under a key that
 * only the requester's token gives (HMAC-SHA-256 of the request's id
 * under the token), which the server never stores, and bound to what
 * was asked: the same request sent again with the same token opens it,
 * nothing else does (not the same id for another command).
 */
#ifndef ROVE_SEAL_H
#define ROVE_SEAL_H

#include "buf.h"
#include "uuid.h"

#include <stddef.h>

/* What sealing adds: a mark (4 bytes), a nonce (12) and a tag (16). */
#define ROVE_SEAL_OVERHEAD (4 + 12 + 16)

/* The answer (len bytes) sealed for token and request, and bound to what
 * was asked (askedlen bytes: the command and its arguments), into out
 * (reset first). ROVE_EIO when no random nonce can be had. */
int rove_seal(const char *token, const rove_uuid *request, const void *asked, size_t askedlen, const void *answer,
	      size_t len, rove_buf *out);
/* The answer sealed in (len bytes) into out (reset first): ROVE_EPROTO
 * when in is not a sealed answer, ROVE_EPERM when it does not open with
 * token, request and asked (another token, another request under the
 * same id, or altered bytes). One sealed by a roved before the binding
 * opens with token and request alone. */
int rove_unseal(const char *token, const rove_uuid *request, const void *asked, size_t askedlen, const void *in,
		size_t len, rove_buf *out);

#endif
