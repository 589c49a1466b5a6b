#include "mp_int.h"

#include "err.h"
#include "rove_limits.h"

#include <string.h>

/* ---- writing --------------------------------------------------------- */

/* Each put writes its bytes straight into the buffer: room for them is
 * made once (a put is at most a 9-byte head, then its body), and the
 * smallest form of every value is chosen as msgpack-c chooses it, so the
 * bytes are the same as msgpack-c's (test_proto compares them). */

/* Room for n more bytes at the buffer's end, or NULL with the error kept
 * (or a previous one). The caller writes them and moves out->len. Most
 * puts find the room there (one check inline: a record's encoding is a
 * few dozen puts, in every op the writer applies). */
static uint8_t *room_grow(rove_mp_writer *w, size_t n)
{
	int rc;

	if (w->err != ROVE_OK)
		return NULL;
	rc = rove_buf_reserve(w->out, n);
	if (rc != ROVE_OK) {
		w->err = rc;
		return NULL;
	}
	return (uint8_t *)w->out->data + w->out->len;
}

static inline uint8_t *room(rove_mp_writer *w, size_t n)
{
	rove_buf *b = w->out;

	if (w->err == ROVE_OK && n <= b->cap - b->len && b->len + n <= ROVE_MAX_MSG_BYTES)
		return (uint8_t *)b->data + b->len;
	return room_grow(w, n);
}

static size_t put_be16(uint8_t *p, uint8_t tag, uint32_t v)
{
	p[0] = tag, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)v;
	return 3;
}

static size_t put_be32(uint8_t *p, uint8_t tag, uint32_t v)
{
	p[0] = tag, p[1] = (uint8_t)(v >> 24), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 8);
	p[4] = (uint8_t)v;
	return 5;
}

static size_t put_be64(uint8_t *p, uint8_t tag, uint64_t v)
{
	/* Spelt out, which compilers make one byte swap and store: every
	 * field of a record has a stamp's clock and node written so. */
	p[0] = tag;
	p[1] = (uint8_t)(v >> 56), p[2] = (uint8_t)(v >> 48), p[3] = (uint8_t)(v >> 40);
	p[4] = (uint8_t)(v >> 32), p[5] = (uint8_t)(v >> 24), p[6] = (uint8_t)(v >> 16);
	p[7] = (uint8_t)(v >> 8), p[8] = (uint8_t)v;
	return 9;
}

/* An unsigned integer's smallest form: positive fixint, uint 8/16/32/64. */
static size_t put_uint(uint8_t *p, uint64_t v)
{
	if (v < 0x80) {
		p[0] = (uint8_t)v;
		return 1;
	}
	if (v < 0x100) {
		p[0] = 0xcc, p[1] = (uint8_t)v;
		return 2;
	}
	if (v < 0x10000)
		return put_be16(p, 0xcd, (uint32_t)v);
	if (v < 0x100000000ull)
		return put_be32(p, 0xce, (uint32_t)v);
	return put_be64(p, 0xcf, v);
}

/* A container's or a string's head: the fix form (tag fix, up to fixmax
 * elements or bytes), else the 8-bit form (tag8, 0 if none), the 16-bit
 * one (tag8 + 1, or tag16) and the 32-bit one after it. */
static size_t put_head(uint8_t *p, size_t n, uint8_t fix, size_t fixmax, uint8_t tag8, uint8_t tag16)
{
	if (fix != 0 && n <= fixmax) {
		p[0] = (uint8_t)(fix | n);
		return 1;
	}
	if (tag8 != 0 && n < 0x100) {
		p[0] = tag8, p[1] = (uint8_t)n;
		return 2;
	}
	if (n < 0x10000)
		return put_be16(p, tag16, (uint32_t)n);
	return put_be32(p, (uint8_t)(tag16 + 1), (uint32_t)n);
}

/* A head, then len bytes of body. */
static void put_body(rove_mp_writer *w, size_t n, uint8_t fix, size_t fixmax, uint8_t tag8, uint8_t tag16,
		     const void *body, size_t len)
{
	uint8_t *p;
	size_t k;

	/* Past a message's size before any byte is written: the buffer's
	 * limit says so, and no head of a length over 32 bits is made. */
	if (len > ROVE_MAX_MSG_BYTES) {
		rove_mp_writer_fail(w, ROVE_ETOOBIG);
		return;
	}
	p = room(w, 5 + len);
	if (p == NULL)
		return;
	k = put_head(p, n, fix, fixmax, tag8, tag16);
	if (len > 0)
		memcpy(p + k, body, len);
	w->out->len += k + len;
}

void rove_mp_writer_init(rove_mp_writer *w, rove_buf *out)
{
	w->out = out;
	w->start = out->len;
	w->err = ROVE_OK;
}

void rove_mp_writer_fail(rove_mp_writer *w, int err)
{
	if (w->err == ROVE_OK)
		w->err = err;
}

int rove_mp_writer_done(rove_mp_writer *w)
{
	if (w->err != ROVE_OK)
		w->out->len = w->start; /* leave the buffer as it was */
	return w->err;
}

void rove_mp_put_u64(rove_mp_writer *w, uint64_t v)
{
	uint8_t *p = room(w, 9);

	if (p != NULL)
		w->out->len += put_uint(p, v);
}

/* A signed integer's smallest form: a non-negative one as an unsigned
 * one, else negative fixint (from -32), int 8/16/32/64. */
void rove_mp_put_i64(rove_mp_writer *w, int64_t v)
{
	uint8_t *p = room(w, 9);
	uint64_t u = (uint64_t)v;
	size_t k;

	if (p == NULL)
		return;
	if (v >= 0)
		k = put_uint(p, u);
	else if (v >= -32)
		p[0] = (uint8_t)u, k = 1;
	else if (v >= INT8_MIN)
		p[0] = 0xd0, p[1] = (uint8_t)u, k = 2;
	else if (v >= INT16_MIN)
		k = put_be16(p, 0xd1, (uint32_t)(u & 0xffffu));
	else if (v >= INT32_MIN)
		k = put_be32(p, 0xd2, (uint32_t)(u & 0xffffffffu));
	else
		k = put_be64(p, 0xd3, u);
	w->out->len += k;
}

static void put_byte(rove_mp_writer *w, uint8_t b)
{
	uint8_t *p = room(w, 1);

	if (p != NULL) {
		p[0] = b;
		w->out->len++;
	}
}

void rove_mp_put_bool(rove_mp_writer *w, bool v)
{
	put_byte(w, v ? 0xc3 : 0xc2);
}

void rove_mp_put_nil(rove_mp_writer *w)
{
	put_byte(w, 0xc0);
}

void rove_mp_put_array(rove_mp_writer *w, uint32_t n)
{
	if (n <= 15)
		put_byte(w, (uint8_t)(0x90 | n)); /* fixarray: most of them */
	else
		put_body(w, n, 0x90, 15, 0, 0xdc, NULL, 0);
}

void rove_mp_put_strn(rove_mp_writer *w, const char *s, size_t len)
{
	uint8_t *p;

	if (len > 31) {
		put_body(w, len, 0xa0, 31, 0xd9, 0xda, s, len);
		return;
	}
	/* fixstr: field names, most values */
	p = room(w, 1 + len);
	if (p == NULL)
		return;
	p[0] = (uint8_t)(0xa0 | len);
	if (len > 0)
		memcpy(p + 1, s, len);
	w->out->len += 1 + len;
}

void rove_mp_put_str(rove_mp_writer *w, const char *s)
{
	rove_mp_put_strn(w, s, strlen(s));
}

void rove_mp_put_str_max(rove_mp_writer *w, const char *s, size_t max)
{
	rove_mp_put_strn(w, s, strnlen(s, max));
}

void rove_mp_put_bin(rove_mp_writer *w, const void *p, size_t len)
{
	put_body(w, len, 0, 0, 0xc4, 0xc5, p, len);
}

void rove_mp_put_value(rove_mp_writer *w, const rove_value *v)
{
	switch (v->type) {
	case ROVE_V_INT: rove_mp_put_i64(w, v->i); break;
	case ROVE_V_STR: rove_mp_put_strn(w, v->s, v->len); break;
	default: rove_mp_put_nil(w);
	}
}

void rove_mp_put_raw(rove_mp_writer *w, const void *p, size_t len)
{
	int rc;

	if (w->err != ROVE_OK)
		return;
	rc = rove_buf_append(w->out, p, len);
	if (rc != ROVE_OK)
		w->err = rc;
}

/* ---- reading --------------------------------------------------------- */

void rove_mp_reader_init(rove_mp_reader *r, const void *data, size_t len)
{
	r->p = data;
	/* (an empty message may have no body at all: NULL + 0 is undefined
	 * in C, which clang's UBSan says) */
	r->end = len == 0 ? r->p : r->p + len;
}

bool rove_mp_reader_at_end(const rove_mp_reader *r)
{
	return r->p == r->end;
}

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

/* Reads the big-endian number of n bytes after the tag byte. */
static int after_tag(rove_mp_reader *r, int n, uint64_t *out)
{
	if (need(r, (size_t)n + 1) != ROVE_OK)
		return ROVE_EPROTO;
	*out = be(r->p + 1, n);
	r->p += 1 + n;
	return ROVE_OK;
}

/* A length of n bytes after the tag byte (n at most 4). */
static int get_len(rove_mp_reader *r, int n, uint32_t *out)
{
	uint64_t v = 0;
	int rc = after_tag(r, n, &v);

	*out = (uint32_t)v;
	return rc;
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
	return after_tag(r, n, out);
}

int rove_mp_get_u64_max(rove_mp_reader *r, uint64_t max, uint64_t *out)
{
	int rc = rove_mp_get_u64(r, out);

	if (rc == ROVE_OK && *out > max)
		return ROVE_EPROTO;
	return rc;
}

static int get_i64(rove_mp_reader *r, int64_t *out)
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
	if (after_tag(r, n, &u) != ROVE_OK)
		return ROVE_EPROTO;
	switch (n) {
	case 1: *out = (int8_t)u; break;
	case 2: *out = (int16_t)u; break;
	case 4: *out = (int32_t)u; break;
	default: *out = (int64_t)u; break;
	}
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
		if (get_len(r, 2, &n) != ROVE_OK)
			return ROVE_EPROTO;
	} else if (t == 0xdd) {
		if (get_len(r, 4, &n) != ROVE_OK)
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

/* A string (bin false) or a binary, in place. */
static int get_raw(rove_mp_reader *r, bool bin, uint32_t max, const char **s, uint32_t *len)
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
		if (get_len(r, 1, &n) != ROVE_OK)
			return ROVE_EPROTO;
	} else if (t == (bin ? 0xc5 : 0xda)) {
		if (get_len(r, 2, &n) != ROVE_OK)
			return ROVE_EPROTO;
	} else if (t == (bin ? 0xc6 : 0xdb)) {
		if (get_len(r, 4, &n) != ROVE_OK)
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

int rove_mp_get_str(rove_mp_reader *r, uint32_t max, const char **s, uint32_t *len)
{
	return get_raw(r, false, max, s, len);
}

int rove_mp_get_bin(rove_mp_reader *r, uint32_t max, const uint8_t **p, uint32_t *len)
{
	const char *s;
	int rc = get_raw(r, true, max, &s, len);

	if (rc == ROVE_OK)
		*p = (const uint8_t *)s;
	return rc;
}

int rove_mp_get_text(rove_mp_reader *r, uint32_t max, const char **s, uint32_t *len)
{
	int rc = get_raw(r, false, max, s, len);

	if (rc == ROVE_OK && *len > 0 && memchr(*s, '\0', *len) != NULL)
		return ROVE_EPROTO;
	return rc;
}

int rove_mp_get_cstr(rove_mp_reader *r, char *out, uint32_t max)
{
	const char *s;
	uint32_t len;
	int rc = rove_mp_get_text(r, max, &s, &len);

	if (rc != ROVE_OK)
		return rc;
	memcpy(out, s, len);
	out[len] = '\0';
	return ROVE_OK;
}

int rove_mp_get_uuid(rove_mp_reader *r, rove_uuid *id)
{
	const uint8_t *p;
	uint32_t len;
	int rc = rove_mp_get_bin(r, 16, &p, &len);

	if (rc == ROVE_ETOOBIG || (rc == ROVE_OK && len != 16))
		return ROVE_EPROTO;
	if (rc != ROVE_OK)
		return rc;
	memcpy(id->b, p, 16);
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
		int rc = rove_mp_get_str(r, ROVE_MAX_STR, &s, &len);
		if (rc != ROVE_OK)
			return rc;
		*v = rove_vstr(s, len);
		return ROVE_OK;
	}
	v->type = ROVE_V_INT;
	v->s = NULL;
	v->len = 0;
	return get_i64(r, &v->i);
}
