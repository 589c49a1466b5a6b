#include "auth.h"

#include "err.h"

#include <mbedtls/sha256.h>
#include <string.h>
#include <sys/random.h>

int rove_token_new(char out[ROVE_TOKEN_HEX + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t raw[ROVE_TOKEN_BYTES];
	size_t got = 0;

	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
		if (n < 0)
			return ROVE_EIO;
		got += (size_t)n;
	}
	for (size_t i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[ROVE_TOKEN_HEX] = '\0';
	return ROVE_OK;
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
