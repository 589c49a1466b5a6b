#include "proof.h"

#include "err.h"
#include "random.h"

#include <mbedtls/md.h>
#include <string.h>

int rove_proof_key_new(uint8_t key[ROVE_PROOF_KEY])
{
	return rove_random_bytes(key, ROVE_PROOF_KEY);
}

bool rove_proof_key_sound(const uint8_t key[ROVE_PROOF_KEY])
{
	uint8_t any = 0;

	for (size_t i = 0; i < ROVE_PROOF_KEY; i++)
		any |= key[i];
	return any != 0;
}

/* HMAC-SHA-256(key, label, server, hlc), both numbers big-endian. */
static int proof_mac(const uint8_t key[ROVE_PROOF_KEY], uint64_t server, rove_hlc hlc, uint8_t out[32])
{
	static const char label[] = "rove server clock";
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	uint8_t in[sizeof(label) - 1 + 16];

	if (md == NULL)
		return ROVE_EIO;
	memcpy(in, label, sizeof(label) - 1);
	for (int i = 0; i < 8; i++) {
		in[sizeof(label) - 1 + i] = (uint8_t)(server >> (56 - 8 * i));
		in[sizeof(label) - 1 + 8 + i] = (uint8_t)(hlc.v >> (56 - 8 * i));
	}
	return mbedtls_md_hmac(md, key, ROVE_PROOF_KEY, in, sizeof(in), out) == 0 ? ROVE_OK : ROVE_EIO;
}

int rove_proof_make(const uint8_t key[ROVE_PROOF_KEY], uint64_t server, rove_hlc hlc, rove_proof *out)
{
	uint8_t mac[32];
	int rc = proof_mac(key, server, hlc, mac);

	if (rc != ROVE_OK)
		return rc;
	out->hlc = hlc;
	memcpy(out->mac, mac, ROVE_PROOF_MAC);
	return ROVE_OK;
}

bool rove_proof_valid(const uint8_t key[ROVE_PROOF_KEY], uint64_t server, const rove_proof *p)
{
	uint8_t mac[32], diff = 0;

	if (p->hlc.v == 0 || proof_mac(key, server, p->hlc, mac) != ROVE_OK)
		return false;
	for (int i = 0; i < ROVE_PROOF_MAC; i++)
		diff |= (uint8_t)(mac[i] ^ p->mac[i]);
	return diff == 0;
}
