#include "seal.h"

#include "err.h"
#include "random.h"
#include "rove_assert.h"

#include <mbedtls/gcm.h>
#include <mbedtls/md.h>
#include <stdbool.h>
#include <string.h>

/* The mark of a sealed answer: no answer (a whole message, which starts
 * with an array) starts with a zero byte. rs2: bound to what was asked
 * too (the additional data holds its SHA-256 after the request's id);
 * rs1, a roved's before 2026-12-06: to the request's id alone. */
static const uint8_t mark[4] = {0, 'r', 's', '2'};
static const uint8_t mark1[4] = {0, 'r', 's', '1'};

/* The additional data of a seal: the request's id, then (bound) the
 * SHA-256 of what was asked. Its length, or 0 on failure. */
static size_t seal_aad(const rove_uuid *request, const void *asked, size_t askedlen, bool bound,
		       uint8_t aad[16 + 32])
{
	memcpy(aad, request->b, 16);
	if (!bound)
		return 16;
	if (mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), asked, askedlen, aad + 16) != 0)
		return 0;
	return 16 + 32;
}

#define NONCE 12
#define TAG 16

/* The key of request under token: HMAC-SHA-256(token, label, id). */
static int seal_key(const char *token, const rove_uuid *request, uint8_t key[32])
{
	static const char label[] = "rove admin answer";
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	mbedtls_md_context_t c;
	int rc;

	if (md == NULL)
		return ROVE_EIO;
	mbedtls_md_init(&c);
	rc = mbedtls_md_setup(&c, md, 1);
	if (rc == 0)
		rc = mbedtls_md_hmac_starts(&c, (const unsigned char *)token, strlen(token));
	if (rc == 0)
		rc = mbedtls_md_hmac_update(&c, (const unsigned char *)label, sizeof(label) - 1);
	if (rc == 0)
		rc = mbedtls_md_hmac_update(&c, request->b, sizeof(request->b));
	if (rc == 0)
		rc = mbedtls_md_hmac_finish(&c, key);
	mbedtls_md_free(&c);
	return rc == 0 ? ROVE_OK : ROVE_EIO;
}

int rove_seal(const char *token, const rove_uuid *request, const void *asked, size_t askedlen, const void *answer,
	      size_t len, rove_buf *out)
{
	mbedtls_gcm_context g;
	uint8_t key[32], aad[16 + 32], *p;
	size_t aadlen = seal_aad(request, asked, askedlen, true, aad);
	int rc;

	rove_buf_reset(out);
	rc = aadlen != 0 ? seal_key(token, request, key) : ROVE_EIO;
	if (rc == ROVE_OK)
		rc = rove_buf_reserve(out, sizeof(mark) + NONCE + len + TAG);
	if (rc != ROVE_OK)
		return rc;
	p = (uint8_t *)out->data;
	memcpy(p, mark, sizeof(mark));
	if (rove_random_bytes(p + sizeof(mark), NONCE) != ROVE_OK)
		return ROVE_EIO;
	mbedtls_gcm_init(&g);
	rc = mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, key, 256);
	if (rc == 0)
		rc = mbedtls_gcm_crypt_and_tag(&g, MBEDTLS_GCM_ENCRYPT, len, p + sizeof(mark), NONCE, aad, aadlen,
					       answer, p + sizeof(mark) + NONCE, TAG, p + sizeof(mark) + NONCE + len);
	mbedtls_gcm_free(&g);
	memset(key, 0, sizeof(key));
	if (rc != 0)
		return ROVE_EIO;
	out->len = sizeof(mark) + NONCE + len + TAG;
	return ROVE_OK;
}

int rove_unseal(const char *token, const rove_uuid *request, const void *asked, size_t askedlen, const void *in,
		size_t len, rove_buf *out)
{
	const uint8_t *p = in;
	mbedtls_gcm_context g;
	uint8_t key[32], aad[16 + 32];
	size_t n, aadlen;
	int rc;

	rove_buf_reset(out);
	if (len < ROVE_SEAL_OVERHEAD || (memcmp(p, mark, sizeof(mark)) != 0 && memcmp(p, mark1, sizeof(mark1)) != 0))
		return ROVE_EPROTO;
	aadlen = seal_aad(request, asked, askedlen, memcmp(p, mark, sizeof(mark)) == 0, aad);
	n = len - ROVE_SEAL_OVERHEAD;
	rc = aadlen != 0 ? seal_key(token, request, key) : ROVE_EIO;
	if (rc == ROVE_OK)
		rc = rove_buf_reserve(out, n > 0 ? n : 1);
	if (rc != ROVE_OK)
		return rc;
	mbedtls_gcm_init(&g);
	rc = mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, key, 256);
	if (rc == 0)
		rc = mbedtls_gcm_auth_decrypt(&g, n, p + sizeof(mark), NONCE, aad, aadlen, p + sizeof(mark) + NONCE + n,
					      TAG, p + sizeof(mark) + NONCE, (unsigned char *)out->data);
	mbedtls_gcm_free(&g);
	memset(key, 0, sizeof(key));
	if (rc == MBEDTLS_ERR_GCM_AUTH_FAILED)
		return ROVE_EPERM;
	if (rc != 0)
		return ROVE_EIO;
	out->len = n;
	return ROVE_OK;
}
