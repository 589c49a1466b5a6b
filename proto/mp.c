#include "mp_int.h"

#include "err.h"
#include "rove_limits.h"

#include <string.h>

/* ---- writing --------------------------------------------------------- */

static int mp_write(void *data, const char *buf, size_t len)
{
	return rove_buf_append(data, buf, len) == ROVE_OK ? 0 : -1;
}

void rove_mp_writer_init(rove_mp_writer *e, rove_buf *out)
{
	msgpack_packer_init(&e->pk, out, mp_write);
	e->err = 0;
}

void rove_mp_put_u64(rove_mp_writer *e, uint64_t v)
{
	e->err |= msgpack_pack_uint64(&e->pk, v);
}

void rove_mp_put_i64(rove_mp_writer *e, int64_t v)
{
	e->err |= msgpack_pack_int64(&e->pk, v);
}

void rove_mp_put_bool(rove_mp_writer *e, bool v)
{
	e->err |= v ? msgpack_pack_true(&e->pk) : msgpack_pack_false(&e->pk);
}

void rove_mp_put_array(rove_mp_writer *e, uint32_t n)
{
	e->err |= msgpack_pack_array(&e->pk, n);
}

void rove_mp_put_strn(rove_mp_writer *e, const char *s, size_t len)
{
	e->err |= msgpack_pack_str(&e->pk, len);
	e->err |= msgpack_pack_str_body(&e->pk, s, len);
}

void rove_mp_put_str(rove_mp_writer *e, const char *s)
{
	rove_mp_put_strn(e, s, strlen(s));
}

void rove_mp_put_bin(rove_mp_writer *e, const void *p, size_t len)
{
	e->err |= msgpack_pack_bin(&e->pk, len);
	e->err |= msgpack_pack_bin_body(&e->pk, p, len);
}

void rove_mp_put_value(rove_mp_writer *e, const rove_value *v)
{
	switch (v->type) {
	case ROVE_V_INT:
		rove_mp_put_i64(e, v->i);
		break;
	case ROVE_V_STR:
		rove_mp_put_strn(e, v->s, v->len);
		break;
	default:
		e->err |= msgpack_pack_nil(&e->pk);
	}
}

int rove_mp_writer_done(rove_mp_writer *e, rove_buf *out, size_t start)
{
	if (e->err) {
		out->len = start; /* leave the buffer as it was */
		return ROVE_ETOOBIG;
	}
	return ROVE_OK;
}

/* ---- reading ---------------------------------------------------------
 * A reader walks the bytes; every read checks the type byte and that the
 * bytes it needs are there. Containers' counts are checked against the
 * caller's limit before anything else is read. */

static int need(rove_mp_reader *r, size_t n)
{
	return (size_t)(r->end - r->p) >= n ? ROVE_OK : ROVE_EPROTO;
}

static uint64_t be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Reads a big-endian length of n bytes after the tag byte. */
static int mp_get_len(rove_mp_reader *r, int n, uint32_t *out)
{
	if (need(r, (size_t)n + 1) != ROVE_OK)
		return ROVE_EPROTO;
	*out = (uint32_t)be(r->p + 1, n);
	r->p += 1 + n;
	return ROVE_OK;
}

int rove_mp_get_u64(rove_mp_reader *r, uint64_t *out)
{
	uint8_t t;
	int n;

	if (need(r, 1) != ROVE_OK)
		return ROVE_EPROTO;
	t = r->p[0];
	if (t <= 0x7f) {
		*out = t;
		r->p++;
		return ROVE_OK;
	}
	switch (t) {
	case 0xcc: n = 1; break;
	case 0xcd: n = 2; break;
	case 0xce: n = 4; break;
	case 0xcf: n = 8; break;
	default: return ROVE_EPROTO;
	}
	if (need(r, (size_t)n + 1) != ROVE_OK)
		return ROVE_EPROTO;
	*out = be(r->p + 1, n);
	r->p += 1 + n;
	return ROVE_OK;
}

int rove_mp_get_u64_max(rove_mp_reader *r, uint64_t max, uint64_t *out)
{
	int rc = rove_mp_get_u64(r, out);

	if (rc == ROVE_OK && *out > max)
		return ROVE_EPROTO;
	return rc;
}

static int mp_get_i64(rove_mp_reader *r, int64_t *out)
{
	uint8_t t;
	int n;
	uint64_t u;

	if (need(r, 1) != ROVE_OK)
		return ROVE_EPROTO;
	t = r->p[0];
	if (t >= 0xe0) {
		*out = (int8_t)t;
		r->p++;
		return ROVE_OK;
	}
	switch (t) {
	case 0xd0: n = 1; break;
	case 0xd1: n = 2; break;
	case 0xd2: n = 4; break;
	case 0xd3: n = 8; break;
	default:
		if (rove_mp_get_u64(r, &u) != ROVE_OK || u > INT64_MAX)
			return ROVE_EPROTO;
		*out = (int64_t)u;
		return ROVE_OK;
	}
	if (need(r, (size_t)n + 1) != ROVE_OK)
		return ROVE_EPROTO;
	u = be(r->p + 1, n);
	switch (n) {
	case 1: *out = (int8_t)u; break;
	case 2: *out = (int16_t)u; break;
	case 4: *out = (int32_t)u; break;
	default: *out = (int64_t)u; break;
	}
	r->p += 1 + n;
	return ROVE_OK;
}

int rove_mp_get_bool(rove_mp_reader *r, bool *out)
{
	if (need(r, 1) != ROVE_OK || (r->p[0] != 0xc2 && r->p[0] != 0xc3))
		return ROVE_EPROTO;
	*out = r->p[0] == 0xc3;
	r->p++;
	return ROVE_OK;
}

/* An array header with exactly want elements (want < 0: up to max). */
int rove_mp_get_array(rove_mp_reader *r, uint32_t max, uint32_t *out)
{
	uint8_t t;
	uint32_t n;

	if (need(r, 1) != ROVE_OK)
		return ROVE_EPROTO;
	t = r->p[0];
	if (t >= 0x90 && t <= 0x9f) {
		n = t & 0x0f;
		r->p++;
	} else if (t == 0xdc) {
		if (mp_get_len(r, 2, &n) != ROVE_OK)
			return ROVE_EPROTO;
	} else if (t == 0xdd) {
		if (mp_get_len(r, 4, &n) != ROVE_OK)
			return ROVE_EPROTO;
	} else {
		return ROVE_EPROTO;
	}
	if (n > max)
		return ROVE_ETOOBIG;
	/* Every element takes at least one byte. */
	if (n > (size_t)(r->end - r->p))
		return ROVE_EPROTO;
	*out = n;
	return ROVE_OK;
}

int rove_mp_get_exact_array(rove_mp_reader *r, uint32_t want)
{
	uint32_t n;
	int rc = rove_mp_get_array(r, want, &n);

	if (rc != ROVE_OK)
		return rc == ROVE_ETOOBIG ? ROVE_EPROTO : rc;
	return n == want ? ROVE_OK : ROVE_EPROTO;
}

int rove_mp_get_raw(rove_mp_reader *r, bool bin, uint32_t max, const char **s, uint32_t *len)
{
	uint8_t t;
	uint32_t n;

	if (need(r, 1) != ROVE_OK)
		return ROVE_EPROTO;
	t = r->p[0];
	if (!bin && t >= 0xa0 && t <= 0xbf) {
		n = t & 0x1f;
		r->p++;
	} else if (t == (bin ? 0xc4 : 0xd9)) {
		if (mp_get_len(r, 1, &n) != ROVE_OK)
			return ROVE_EPROTO;
	} else if (t == (bin ? 0xc5 : 0xda)) {
		if (mp_get_len(r, 2, &n) != ROVE_OK)
			return ROVE_EPROTO;
	} else if (t == (bin ? 0xc6 : 0xdb)) {
		if (mp_get_len(r, 4, &n) != ROVE_OK)
			return ROVE_EPROTO;
	} else {
		return ROVE_EPROTO;
	}
	if (n > (size_t)(r->end - r->p))
		return ROVE_EPROTO;
	if (n > max)
		return ROVE_ETOOBIG;
	*s = (const char *)r->p;
	*len = n;
	r->p += n;
	return ROVE_OK;
}

/* A string into a fixed buffer: no NUL bytes inside, at most max bytes. */
int rove_mp_get_cstr(rove_mp_reader *r, char *out, uint32_t max)
{
	const char *s;
	uint32_t len;
	int rc = rove_mp_get_raw(r, false, max, &s, &len);

	if (rc != ROVE_OK)
		return rc;
	if (memchr(s, '\0', len) != NULL)
		return ROVE_EPROTO;
	memcpy(out, s, len);
	out[len] = '\0';
	return ROVE_OK;
}

int rove_mp_get_uuid(rove_mp_reader *r, rove_uuid *id)
{
	const char *s;
	uint32_t len;
	int rc = rove_mp_get_raw(r, true, 16, &s, &len);

	if (rc == ROVE_ETOOBIG || (rc == ROVE_OK && len != 16))
		return ROVE_EPROTO;
	if (rc != ROVE_OK)
		return rc;
	memcpy(id->b, s, 16);
	return ROVE_OK;
}

int rove_mp_get_value(rove_mp_reader *r, rove_value *v)
{
	if (need(r, 1) != ROVE_OK)
		return ROVE_EPROTO;
	if (r->p[0] == 0xc0) {
		r->p++;
		*v = rove_vnull();
		return ROVE_OK;
	}
	if ((r->p[0] >= 0xa0 && r->p[0] <= 0xbf) || (r->p[0] >= 0xd9 && r->p[0] <= 0xdb)) {
		const char *s;
		uint32_t len;
		int rc = rove_mp_get_raw(r, false, ROVE_MAX_STR, &s, &len);
		if (rc != ROVE_OK)
			return rc;
		*v = rove_vstr(s, len);
		return ROVE_OK;
	}
	v->type = ROVE_V_INT;
	v->s = NULL;
	v->len = 0;
	return mp_get_i64(r, &v->i);
}
