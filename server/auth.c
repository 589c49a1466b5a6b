#include "auth.h"

#include "err.h"
#include "hash.h"
#include "random.h"

#include <mbedtls/sha256.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

int rove_token_new(char out[ROVE_TOKEN_HEX + 1])
{
	return rove_random_hex(out, ROVE_TOKEN_BYTES);
}

void rove_token_hash(const char *token, uint8_t out[ROVE_HASH_BYTES])
{
	mbedtls_sha256_ret((const unsigned char *)token, strlen(token), out, 0);
}

bool rove_token_check(const char *token, const uint8_t hash[ROVE_HASH_BYTES])
{
	uint8_t h[ROVE_HASH_BYTES];
	uint8_t diff = 0;

	rove_token_hash(token, h);
	for (size_t i = 0; i < ROVE_HASH_BYTES; i++)
		diff |= (uint8_t)(h[i] ^ hash[i]);
	return diff == 0;
}

/* ---- failed logins ---- */

/* Entries probed from a key's home slot; a key lives in one of them. */
#define AUTH_PROBE 8u

typedef struct auth_entry {
	bool used;
	char user[ROVE_MAX_NAME + 1];
	rove_peer peer;
	uint32_t failures;
	uint64_t since_ms; /* start of the window */
} auth_entry;

static auth_entry auth_table[ROVE_AUTH_TABLE];
static pthread_mutex_t auth_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t auth_seed; /* random: where keys land is not predictable */
static bool auth_seeded;

static uint32_t auth_home(const char *user, const rove_peer *peer)
{
	static const uint8_t apart = 0xff; /* name and address apart */
	uint64_t h;

	if (!auth_seeded) {
		auth_seed = rove_random_seed();
		auth_seeded = true;
	}
	h = rove_fnv1a(ROVE_FNV_BASIS ^ auth_seed, user, strlen(user));
	h = rove_fnv1a(h, &apart, 1);
	h = rove_fnv1a(h, peer->b, peer->len < sizeof(peer->b) ? peer->len : sizeof(peer->b));
	return (uint32_t)(h ^ (h >> 32)) % ROVE_AUTH_TABLE;
}

static bool auth_same(const auth_entry *e, const char *user, const rove_peer *peer)
{
	return e->used && e->peer.len == peer->len && memcmp(e->peer.b, peer->b, peer->len) == 0 &&
	       strcmp(e->user, user) == 0;
}

/* The entry of (user, peer), its window renewed if it ended; NULL if none
 * and !create. Called with auth_mu held. */
static auth_entry *auth_entry_of(const char *user, const rove_peer *peer, uint64_t now, bool create)
{
	uint32_t home = auth_home(user, peer);
	auth_entry *victim = NULL, *e = NULL;

	for (uint32_t i = 0; i < AUTH_PROBE && e == NULL; i++) {
		auth_entry *c = &auth_table[(home + i) % ROVE_AUTH_TABLE];
		if (auth_same(c, user, peer))
			e = c;
		else if (victim == NULL || !c->used || (victim->used && c->since_ms < victim->since_ms))
			victim = c;
	}
	if (e == NULL && !create)
		return NULL;
	if (e == NULL) {
		e = victim;
		memset(e, 0, sizeof(*e));
		e->used = true;
		snprintf(e->user, sizeof(e->user), "%s", user);
		e->peer = *peer;
		e->since_ms = now;
	}
	if (now - e->since_ms > ROVE_AUTH_WINDOW_MS) {
		e->failures = 0;
		e->since_ms = now;
	}
	return e;
}

bool rove_auth_limited(const char *user, const rove_peer *peer, uint64_t now_ms)
{
	const auth_entry *e;
	bool limited;

	pthread_mutex_lock(&auth_mu);
	e = auth_entry_of(user, peer, now_ms, false);
	limited = e != NULL && e->failures >= ROVE_AUTH_MAX_FAILURES;
	pthread_mutex_unlock(&auth_mu);
	return limited;
}

void rove_auth_failed(const char *user, const rove_peer *peer, uint64_t now_ms)
{
	pthread_mutex_lock(&auth_mu);
	auth_entry_of(user, peer, now_ms, true)->failures++;
	pthread_mutex_unlock(&auth_mu);
}
