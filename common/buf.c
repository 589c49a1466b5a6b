#include "buf.h"

#include "err.h"
#include "rove_limits.h"

#include <stdlib.h>
#include <string.h>

void rove_buf_init(rove_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void rove_buf_reset(rove_buf *b)
{
	b->len = 0;
}

void rove_buf_free(rove_buf *b)
{
	free(b->data);
	rove_buf_init(b);
}

int rove_buf_reserve(rove_buf *b, size_t len)
{
	if (len > ROVE_MAX_MSG_BYTES || b->len + len > ROVE_MAX_MSG_BYTES)
		return ROVE_ETOOBIG;
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;
		while (cap < b->len + len)
			cap *= 2;
		p = realloc(b->data, cap);
		if (p == NULL)
			return ROVE_ENOMEM;
		b->data = p;
		b->cap = cap;
	}
	return ROVE_OK;
}

int rove_buf_append(rove_buf *b, const void *data, size_t len)
{
	int rc = rove_buf_reserve(b, len);

	if (rc != ROVE_OK)
		return rc;
	if (len > 0)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	return ROVE_OK;
}
