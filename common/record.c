#include "record.h"

#include "err.h"
#include "rove_assert.h"

#include <string.h>

rove_value rove_vcstr(const char *s)
{
	return rove_vstr(s, (uint32_t)strlen(s));
}

void rove_fields_init(rove_fields *fs)
{
	fs->n = 0;
	fs->used = 0;
	fs->live = 0;
}

/* strcmp's order; most field names differ in their first byte, and a
 * look-up compares a few of them (every field read or set). */
static inline int name_cmp(const char *a, const char *b)
{
	if (a[0] != b[0])
		return (unsigned char)a[0] < (unsigned char)b[0] ? -1 : 1;
	return strcmp(a, b);
}

/* Index of name, or -(insertion point) - 1. */
static int fields_find(const rove_fields *fs, const char *name)
{
	int lo = 0, hi = (int)fs->n - 1;

	/* Fields usually arrive in order (decoding): past the last one? */
	if (fs->n > 0) {
		int c = name_cmp(fs->f[hi].name, name);
		if (c < 0)
			return -(int)fs->n - 1;
		if (c == 0)
			return hi;
	}

	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		int c = name_cmp(fs->f[mid].name, name);
		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -lo - 1;
}

/* Rewrites the arena keeping only live strings. */
static void fields_compact(rove_fields *fs)
{
	char tmp[ROVE_MAX_RECORD_BYTES];
	uint32_t used = 0;

	for (uint32_t i = 0; i < fs->n; i++) {
		rove_value *v = &fs->f[i].v;
		if (v->type != ROVE_V_STR)
			continue;
		memcpy(tmp + used, v->s, v->len + 1);
		v->s = fs->arena + used;
		used += v->len + 1;
	}
	memcpy(fs->arena, tmp, used);
	fs->used = used;
	fs->live = used;
}

/* rove_fields_set; with add, for a name not there yet (else ROVE_EEXIST). */
static int fields_put(rove_fields *fs, const char *name, rove_value v, rove_stamp st, bool add)
{
	size_t nlen = strlen(name);
	char tmp[ROVE_MAX_STR + 1];
	uint32_t old_bytes = 0;
	int idx;
	rove_field *f;

	if (nlen == 0 || nlen > ROVE_MAX_FIELD_NAME)
		return ROVE_EINVAL;
	idx = fields_find(fs, name);
	if (add && idx >= 0)
		return ROVE_EEXIST;
	if (idx >= 0 && fs->f[idx].v.type == ROVE_V_STR)
		old_bytes = fs->f[idx].v.len + 1;
	/* Check every limit before changing anything: a failed set leaves
	 * the fields exactly as they were. */
	if (idx < 0 && fs->n >= ROVE_MAX_FIELDS)
		return ROVE_ETOOBIG;
	if (v.type == ROVE_V_STR) {
		bool inside;
		if (v.len > ROVE_MAX_STR || (v.len > 0 && v.s == NULL))
			return ROVE_ETOOBIG;
		if (v.len > 0 && memchr(v.s, '\0', v.len) != NULL)
			return ROVE_EINVAL;
		if (fs->live - old_bytes + v.len + 1 > ROVE_MAX_RECORD_BYTES)
			return ROVE_ETOOBIG;
		/* A string from this very arena could move in a compaction:
		 * copy it aside first. */
		inside = v.len > 0 && v.s >= fs->arena && v.s < fs->arena + sizeof(fs->arena);
		if (inside) {
			memcpy(tmp, v.s, v.len);
			v.s = tmp;
		}
	}
	if (idx < 0) {
		uint32_t at = (uint32_t)(-idx - 1);
		memmove(&fs->f[at + 1], &fs->f[at], (fs->n - at) * sizeof(fs->f[0]));
		fs->n++;
		f = &fs->f[at];
		memcpy(f->name, name, nlen + 1);
	} else {
		f = &fs->f[idx];
	}
	f->v = rove_vnull();
	fs->live -= old_bytes;
	if (v.type == ROVE_V_STR) {
		const char *src = v.s;
		if (fs->used + v.len + 1 > ROVE_MAX_RECORD_BYTES)
			fields_compact(fs); /* fits after compaction: checked above */
		if (v.len > 0)
			memcpy(fs->arena + fs->used, src, v.len);
		fs->arena[fs->used + v.len] = '\0';
		v.s = fs->arena + fs->used;
		fs->used += v.len + 1;
		fs->live += v.len + 1;
	}
	f->v = v;
	f->st = st;
	return ROVE_OK;
}

int rove_fields_set(rove_fields *fs, const char *name, rove_value v, rove_stamp st)
{
	return fields_put(fs, name, v, st, false);
}

int rove_fields_add(rove_fields *fs, const char *name, rove_value v, rove_stamp st)
{
	return fields_put(fs, name, v, st, true);
}

void rove_fields_remove(rove_fields *fs, uint32_t i)
{
	ROVE_ASSERT(i < fs->n);
	if (fs->f[i].v.type == ROVE_V_STR)
		fs->live -= fs->f[i].v.len + 1;
	memmove(&fs->f[i], &fs->f[i + 1], (fs->n - i - 1) * sizeof(fs->f[0]));
	fs->n--;
}

int rove_fields_copy(rove_fields *dst, const rove_fields *src)
{
	uint32_t used = 0;

	if (dst == src)
		return ROVE_OK;
	/* The fields, then their strings packed into the copy's arena (dead
	 * bytes of the source are left behind). */
	dst->n = src->n;
	memcpy(dst->f, src->f, src->n * sizeof(src->f[0]));
	for (uint32_t i = 0; i < dst->n; i++) {
		rove_value *v = &dst->f[i].v;
		if (v->type != ROVE_V_STR)
			continue;
		memcpy(dst->arena + used, v->s, v->len + 1);
		v->s = dst->arena + used;
		used += v->len + 1;
	}
	dst->used = used;
	dst->live = used;
	return ROVE_OK;
}

const rove_field *rove_fields_get(const rove_fields *fs, const char *name)
{
	int idx = fields_find(fs, name);

	return idx < 0 ? NULL : &fs->f[idx];
}

const char *rove_fields_str(const rove_fields *fs, const char *name)
{
	const rove_field *f = rove_fields_get(fs, name);

	if (f == NULL || f->v.type != ROVE_V_STR)
		return NULL;
	return f->v.s;
}

bool rove_fields_int(const rove_fields *fs, const char *name, int64_t *out)
{
	const rove_field *f = rove_fields_get(fs, name);

	if (f == NULL || f->v.type != ROVE_V_INT)
		return false;
	*out = f->v.i;
	return true;
}

bool rove_value_eq(const rove_value *a, const rove_value *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case ROVE_V_NULL:
		return true;
	case ROVE_V_INT:
		return a->i == b->i;
	case ROVE_V_STR:
		return a->len == b->len && (a->len == 0 || memcmp(a->s, b->s, a->len) == 0);
	}
	return false;
}

int rove_merge(rove_fields *dst, const rove_fields *src, bool *changed)
{
	bool any = false;

	/* Into nothing (a new record): each field is set with its stamp, as
	 * below; src's fields keep every limit a set checks. */
	if (dst->n == 0 && dst != src) {
		if (changed != NULL)
			*changed = src->n > 0;
		return rove_fields_copy(dst, src);
	}
	for (uint32_t i = 0; i < src->n; i++) {
		const rove_field *sf = &src->f[i];
		const rove_field *df = rove_fields_get(dst, sf->name);
		int rc;

		if (df != NULL && rove_stamp_cmp(&sf->st, &df->st) <= 0)
			continue;
		rc = rove_fields_set(dst, sf->name, sf->v, sf->st);
		if (rc != ROVE_OK)
			return rc;
		any = true;
	}
	if (changed != NULL)
		*changed = any;
	return ROVE_OK;
}

int rove_record_apply(rove_record *rec, const rove_op *op, bool *changed)
{
	rec->coll = op->coll;
	rec->id = op->rid;
	return rove_merge(&rec->fs, &op->fs, changed);
}

bool rove_record_deleted(const rove_record *rec)
{
	int64_t d;

	return rove_fields_int(&rec->fs, ROVE_FIELD_DELETED, &d) && d != 0;
}

void rove_op_init(rove_op *op, uint8_t kind, uint8_t coll, const rove_uuid *rid, rove_stamp st)
{
	rove_uuid id;

	rove_uuid_new(&id);
	rove_op_init_id(op, &id, kind, coll, rid, st);
}

void rove_op_init_id(rove_op *op, const rove_uuid *op_id, uint8_t kind, uint8_t coll, const rove_uuid *rid,
		     rove_stamp st)
{
	op->op_id = *op_id;
	op->kind = kind;
	op->coll = coll;
	op->rid = *rid;
	op->st = st;
	op->seq = 0;
	op->author[0] = '\0';
	rove_fields_init(&op->fs);
}

int rove_op_set(rove_op *op, const char *name, rove_value v)
{
	return rove_fields_set(&op->fs, name, v, op->st);
}

void rove_op_restamp(rove_op *op, rove_stamp st)
{
	op->st = st;
	for (uint32_t i = 0; i < op->fs.n; i++)
		op->fs.f[i].st = st;
}

const char *rove_op_kind_name(int kind)
{
	static const char *const names[] = {NULL, "create", "update", "delete", "claim", "release", "reassign"};

	if (kind < ROVE_OP_CREATE || kind > ROVE_OP_KIND_MAX)
		return "unknown";
	return names[kind];
}

void rove_record_key(uint8_t key[ROVE_RECORD_KEY], uint8_t coll, const rove_uuid *id)
{
	key[0] = coll;
	memcpy(key + 1, id->b, 16);
}
