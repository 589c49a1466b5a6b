#include "item_int.h"

#include "err.h"
#include "rove_assert.h"

#include <string.h>

/* ---- ops and records --------------------------------------------------- */

void rove_item_put_op(rove_mp_writer *w, const rove_op *op)
{
	rove_mp_put_array(w, 9);
	rove_mp_put_bin(w, op->op_id.b, 16);
	rove_mp_put_u64(w, op->kind);
	rove_mp_put_u64(w, op->coll);
	rove_mp_put_bin(w, op->rid.b, 16);
	rove_mp_put_u64(w, op->st.hlc.v);
	rove_mp_put_u64(w, op->st.node);
	rove_mp_put_u64(w, op->seq);
	rove_mp_put_str(w, op->author);
	rove_mp_put_array(w, op->fs.n);
	for (uint32_t i = 0; i < op->fs.n; i++) {
		rove_mp_put_array(w, 2);
		rove_mp_put_str(w, op->fs.f[i].name);
		rove_mp_put_value(w, &op->fs.f[i].v);
	}
}

/* How a list of fields gives their stamps. */
enum field_stamps {
	STAMPS_NONE, /* [name, value]: an op's, all st */
	STAMPS_EACH, /* [name, value, hlc, node]: a record of format 1 */
	STAMPS_SOME  /* either: a record of format 2, st where none is given */
};

/* Fields of an op or a record (how: enum field_stamps). */
static int get_fields(rove_mp_reader *r, rove_fields *fs, enum field_stamps how, rove_stamp st)
{
	uint32_t n;
	int rc = rove_mp_get_array(r, ROVE_MAX_FIELDS, &n);

	if (rc != ROVE_OK)
		return rc;
	rove_fields_init(fs);
	for (uint32_t i = 0; i < n; i++) {
		char name[ROVE_MAX_FIELD_NAME + 1];
		rove_value v;
		rove_stamp fst = st;
		uint32_t elems = 0;

		if (how == STAMPS_SOME) {
			rc = rove_mp_get_array(r, 4, &elems);
			if (rc == ROVE_ETOOBIG || (rc == ROVE_OK && elems != 2 && elems != 4))
				rc = ROVE_EPROTO;
		} else {
			elems = how == STAMPS_EACH ? 4 : 2;
			rc = rove_mp_get_exact_array(r, elems);
		}
		if (rc == ROVE_OK)
			rc = rove_mp_get_cstr(r, name, ROVE_MAX_FIELD_NAME);
		if (rc == ROVE_OK && name[0] == '\0')
			rc = ROVE_EPROTO;
		if (rc == ROVE_OK)
			rc = rove_mp_get_value(r, &v);
		if (rc == ROVE_OK && elems == 4)
			rc = rove_mp_get_u64(r, &fst.hlc.v);
		if (rc == ROVE_OK && elems == 4)
			rc = rove_mp_get_u64(r, &fst.node);
		if (rc == ROVE_OK)
			rc = rove_fields_add(fs, name, v, fst);
		if (rc == ROVE_EEXIST)
			rc = ROVE_EPROTO; /* a field twice */
		if (rc != ROVE_OK)
			return rc == ROVE_EINVAL ? ROVE_EPROTO : rc;
	}
	return ROVE_OK;
}

static int get_op(rove_mp_reader *r, rove_op *op)
{
	uint64_t kind, coll;
	int rc = rove_mp_get_exact_array(r, 9);

	if (rc == ROVE_OK)
		rc = rove_mp_get_uuid(r, &op->op_id);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64_max(r, ROVE_OP_KIND_MAX, &kind);
	if (rc == ROVE_OK && kind == 0)
		rc = ROVE_EPROTO;
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64_max(r, 255, &coll);
	if (rc == ROVE_OK)
		rc = rove_mp_get_uuid(r, &op->rid);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64(r, &op->st.hlc.v);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64(r, &op->st.node);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64(r, &op->seq);
	if (rc == ROVE_OK)
		rc = rove_mp_get_cstr(r, op->author, ROVE_MAX_NAME);
	if (rc == ROVE_OK)
		rc = get_fields(r, &op->fs, STAMPS_NONE, op->st);
	if (rc != ROVE_OK)
		return rc;
	op->kind = (uint8_t)kind;
	op->coll = (uint8_t)coll;
	return ROVE_OK;
}

/* A record: [coll, id, [[name, value, hlc, node]...]] (format 1), or
 * [coll, id, hlc, node, [[name, value(, hlc, node)]...]] (format 2): a
 * field without a stamp of its own has the record's. */
static int get_record(rove_mp_reader *r, rove_record *rec)
{
	uint64_t coll;
	rove_stamp st = {{0}, 0};
	uint32_t elems = 0;
	int rc = rove_mp_get_array(r, 5, &elems);

	if (rc == ROVE_ETOOBIG || (rc == ROVE_OK && elems != 3 && elems != 5))
		rc = ROVE_EPROTO;
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64_max(r, 255, &coll);
	if (rc == ROVE_OK)
		rc = rove_mp_get_uuid(r, &rec->id);
	if (rc == ROVE_OK && elems == 5)
		rc = rove_mp_get_u64(r, &st.hlc.v);
	if (rc == ROVE_OK && elems == 5)
		rc = rove_mp_get_u64(r, &st.node);
	if (rc == ROVE_OK)
		rc = get_fields(r, &rec->fs, elems == 5 ? STAMPS_SOME : STAMPS_EACH, st);
	if (rc != ROVE_OK)
		return rc;
	rec->coll = (uint8_t)coll;
	return ROVE_OK;
}

/* ---- results, entries and conflicts ------------------------------------ */

void rove_item_put_result(rove_mp_writer *w, const rove_push_result *r)
{
	rove_mp_put_array(w, 9);
	rove_mp_put_bin(w, r->op_id.b, 16);
	rove_mp_put_u64(w, r->status);
	rove_mp_put_bool(w, r->seen);
	rove_mp_put_u64(w, r->seq);
	rove_mp_put_u64(w, r->reason);
	rove_mp_put_str(w, r->detail);
	rove_mp_put_u64(w, r->st.hlc.v);
	rove_mp_put_u64(w, r->st.node);
	if (r->status == ROVE_PUSH_ACCEPTED && r->kept_known && r->keptlen > 0)
		rove_mp_put_raw(w, r->kept, r->keptlen); /* rove_enc_kept's */
	else if (r->status == ROVE_PUSH_ACCEPTED && r->kept_known)
		rove_mp_put_array(w, 0);
	else
		rove_mp_put_nil(w);
}

/* A result's kept: nil, or [[name, value]...] with each name once; only
 * checked here (its place is kept), read by rove_push_result_kept. */
static int get_kept(rove_mp_reader *r, rove_push_result *res)
{
	char names[ROVE_MAX_FIELDS][ROVE_MAX_FIELD_NAME + 1];
	uint32_t n;
	int rc;

	res->kept = NULL;
	res->keptlen = 0;
	res->kept_known = false;
	if (r->p < r->end && *r->p == 0xc0) {
		r->p++;
		return ROVE_OK;
	}
	res->kept = r->p;
	rc = rove_mp_get_array(r, ROVE_MAX_FIELDS, &n);
	for (uint32_t i = 0; rc == ROVE_OK && i < n; i++) {
		rove_value v;
		rc = rove_mp_get_exact_array(r, 2);
		if (rc == ROVE_OK)
			rc = rove_mp_get_cstr(r, names[i], ROVE_MAX_FIELD_NAME);
		if (rc == ROVE_OK && names[i][0] == '\0')
			rc = ROVE_EPROTO;
		for (uint32_t j = 0; rc == ROVE_OK && j < i; j++)
			if (strcmp(names[i], names[j]) == 0)
				rc = ROVE_EPROTO; /* a field twice */
		if (rc == ROVE_OK)
			rc = rove_mp_get_value(r, &v);
	}
	if (rc != ROVE_OK)
		return rc;
	res->keptlen = (uint32_t)(r->p - res->kept);
	res->kept_known = true;
	return ROVE_OK;
}

int rove_kept_apply(const void *kept, size_t len, rove_op *op, bool *changed)
{
	uint32_t set = 0;
	int rc = rove_kept_apply_named(kept, len, op, NULL, &set);

	*changed = set > 0;
	return rc;
}

int rove_kept_apply_named(const void *kept, size_t len, rove_op *op, char (*names)[ROVE_MAX_FIELD_NAME + 1],
			  uint32_t *set)
{
	rove_mp_reader r;
	uint32_t n;
	int rc;

	*set = 0;
	rove_mp_reader_init(&r, kept, len);
	rc = rove_mp_get_array(&r, ROVE_MAX_FIELDS, &n);
	for (uint32_t i = 0; rc == ROVE_OK && i < n; i++) {
		char name[ROVE_MAX_FIELD_NAME + 1];
		const rove_field *f;
		rove_value v;
		rc = rove_mp_get_exact_array(&r, 2);
		if (rc == ROVE_OK)
			rc = rove_mp_get_cstr(&r, name, ROVE_MAX_FIELD_NAME);
		if (rc == ROVE_OK && name[0] == '\0')
			rc = ROVE_EPROTO;
		if (rc == ROVE_OK)
			rc = rove_mp_get_value(&r, &v);
		if (rc != ROVE_OK)
			break;
		f = rove_fields_get(&op->fs, name);
		if (f != NULL && rove_value_eq(&f->v, &v))
			continue;
		rc = rove_op_set(op, name, v);
		if (rc == ROVE_EINVAL)
			rc = ROVE_EPROTO;
		/* (n is at most ROVE_MAX_FIELDS: names has room) */
		if (names != NULL)
			memcpy(names[*set], name, sizeof(name));
		(*set)++;
	}
	if (rc == ROVE_OK && !rove_mp_reader_at_end(&r))
		rc = ROVE_EPROTO;
	return rc;
}

int rove_enc_kept(rove_buf *out, const rove_fields *pushed, const rove_fields *kept, bool *known)
{
	rove_mp_writer w;
	uint32_t n = 0, i = 0, j = 0;

	/* Both sorted by name: one walk finds what kept adds or changes, and
	 * whether it lacks one of pushed's (never, for the server's rules). */
	*known = true;
	for (i = 0, j = 0; i < kept->n; i++) {
		int c = 1;
		while (j < pushed->n && (c = strcmp(pushed->f[j].name, kept->f[i].name)) < 0) {
			*known = false;
			j++;
		}
		if (j < pushed->n && c == 0) {
			if (!rove_value_eq(&pushed->f[j].v, &kept->f[i].v))
				n++;
			j++;
		} else {
			n++;
		}
	}
	if (j < pushed->n)
		*known = false;
	if (!*known)
		return ROVE_OK;
	rove_mp_writer_init(&w, out);
	rove_mp_put_array(&w, n);
	for (i = 0, j = 0; i < kept->n; i++) {
		int c = 1;
		while (j < pushed->n && (c = strcmp(pushed->f[j].name, kept->f[i].name)) < 0)
			j++;
		if (j < pushed->n && c == 0 && rove_value_eq(&pushed->f[j++].v, &kept->f[i].v))
			continue;
		rove_mp_put_array(&w, 2);
		rove_mp_put_str(&w, kept->f[i].name);
		rove_mp_put_value(&w, &kept->f[i].v);
	}
	return rove_mp_writer_done(&w);
}

static int get_result(rove_mp_reader *r, rove_push_result *res)
{
	uint64_t status, reason;
	int rc = rove_mp_get_exact_array(r, 9);

	if (rc == ROVE_OK)
		rc = rove_mp_get_uuid(r, &res->op_id);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64_max(r, ROVE_PUSH_REJECTED, &status);
	if (rc == ROVE_OK)
		rc = rove_mp_get_bool(r, &res->seen);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64(r, &res->seq);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64_max(r, ROVE_R_COUNT - 1, &reason);
	if (rc == ROVE_OK)
		rc = rove_mp_get_cstr(r, res->detail, ROVE_MAX_DETAIL);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64(r, &res->st.hlc.v);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64(r, &res->st.node);
	if (rc == ROVE_OK)
		rc = get_kept(r, res);
	if (rc == ROVE_OK && status != ROVE_PUSH_ACCEPTED && res->kept_known)
		rc = ROVE_EPROTO; /* a refused op was kept in no way */
	if (rc != ROVE_OK)
		return rc;
	res->status = (uint8_t)status;
	res->reason = (uint8_t)reason;
	return ROVE_OK;
}

/* An op or record entry: its tag, then the item as stored. */
static int put_entry_raw(rove_buf *out, int tag, const void *item, size_t len)
{
	rove_mp_writer w;

	rove_mp_writer_init(&w, out);
	rove_mp_put_array(&w, 2);
	rove_mp_put_u64(&w, (uint64_t)tag);
	rove_mp_put_raw(&w, item, len);
	return rove_mp_writer_done(&w);
}

int rove_enc_entry_op_raw(rove_buf *out, const void *op, size_t len)
{
	return put_entry_raw(out, ROVE_ENTRY_OP, op, len);
}

int rove_enc_entry_record_raw(rove_buf *out, const void *rec, size_t len)
{
	return put_entry_raw(out, ROVE_ENTRY_RECORD, rec, len);
}

int rove_enc_entry_evict(rove_buf *out, uint8_t coll, const rove_uuid *id)
{
	rove_mp_writer w;

	rove_mp_writer_init(&w, out);
	rove_mp_put_array(&w, 3);
	rove_mp_put_u64(&w, ROVE_ENTRY_EVICT);
	rove_mp_put_u64(&w, coll);
	rove_mp_put_bin(&w, id->b, 16);
	return rove_mp_writer_done(&w);
}

int rove_enc_entry_mine(rove_buf *out, uint8_t coll, const rove_uuid *id, uint64_t seq, const rove_uuid *op_id)
{
	rove_mp_writer w;

	rove_mp_writer_init(&w, out);
	rove_mp_put_array(&w, 5);
	rove_mp_put_u64(&w, ROVE_ENTRY_MINE);
	rove_mp_put_u64(&w, coll);
	rove_mp_put_bin(&w, id->b, 16);
	rove_mp_put_u64(&w, seq);
	rove_mp_put_bin(&w, op_id->b, 16);
	return rove_mp_writer_done(&w);
}

static int get_entry(rove_mp_reader *r, rove_entry *e)
{
	uint32_t n;
	uint64_t tag, coll = 0;
	int rc = rove_mp_get_array(r, 5, &n);

	if (rc != ROVE_OK)
		return ROVE_EPROTO;
	if (rove_mp_get_u64_max(r, ROVE_ENTRY_MINE, &tag) != ROVE_OK)
		return ROVE_EPROTO;
	e->tag = (uint8_t)tag;
	switch (tag) {
	case ROVE_ENTRY_OP:
		if (n != 2)
			return ROVE_EPROTO;
		e->raw = r->p;
		rc = get_op(r, &e->op);
		e->rawlen = (size_t)(r->p - e->raw);
		e->coll = e->op.coll;
		e->id = e->op.rid;
		return rc;
	case ROVE_ENTRY_RECORD:
		if (n != 2)
			return ROVE_EPROTO;
		e->raw = r->p;
		rc = get_record(r, &e->rec);
		e->rawlen = (size_t)(r->p - e->raw);
		e->coll = e->rec.coll;
		e->id = e->rec.id;
		return rc;
	default:
		if (n != (tag == ROVE_ENTRY_MINE ? 5u : 3u))
			return ROVE_EPROTO;
		e->raw = NULL;
		e->rawlen = 0;
		rc = rove_mp_get_u64_max(r, 255, &coll);
		if (rc == ROVE_OK)
			rc = rove_mp_get_uuid(r, &e->id);
		if (rc == ROVE_OK)
			e->coll = (uint8_t)coll;
		if (rc == ROVE_OK && tag == ROVE_ENTRY_MINE)
			rc = rove_mp_get_u64(r, &e->seq);
		if (rc == ROVE_OK && tag == ROVE_ENTRY_MINE && e->seq == 0)
			rc = ROVE_EPROTO; /* an acknowledged op has a number */
		if (rc == ROVE_OK && tag == ROVE_ENTRY_MINE)
			rc = rove_mp_get_uuid(r, &e->op_id);
		return rc;
	}
}

int rove_enc_conflict_raw(rove_buf *out, uint64_t n, uint64_t time_ms, int reason, const char *detail,
			  uint64_t dropped, const void *op, size_t len)
{
	rove_mp_writer w;

	rove_mp_writer_init(&w, out);
	rove_mp_put_array(&w, 6);
	rove_mp_put_u64(&w, n);
	rove_mp_put_u64(&w, time_ms);
	rove_mp_put_u64(&w, reason < 0 ? 0 : (uint64_t)reason);
	rove_mp_put_str_max(&w, detail, ROVE_MAX_DETAIL);
	rove_mp_put_raw(&w, op, len);
	rove_mp_put_u64(&w, dropped);
	return rove_mp_writer_done(&w);
}

/* Five elements from a server that drops no refusals, six since. */
static int get_conflict(rove_mp_reader *r, rove_conflict *c)
{
	uint64_t reason = 0;
	uint32_t n = 0;
	int rc = rove_mp_get_array(r, 6, &n);

	if (rc == ROVE_ETOOBIG || (rc == ROVE_OK && n != 5 && n != 6))
		rc = ROVE_EPROTO;
	c->dropped = 0;
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64(r, &c->n);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64(r, &c->time_ms);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64_max(r, ROVE_R_COUNT - 1, &reason);
	if (rc == ROVE_OK)
		rc = rove_mp_get_cstr(r, c->detail, ROVE_MAX_DETAIL);
	if (rc == ROVE_OK)
		rc = get_op(r, &c->op);
	if (rc == ROVE_OK && n == 6)
		rc = rove_mp_get_u64(r, &c->dropped);
	c->reason = (uint8_t)reason;
	return rc;
}

/* ---- reading items by kind ----------------------------------------------
 * One reader per kind, all of the same shape, so that proto.c's table can
 * name a message's kind and the decoder read any of them. */

static int item_op(rove_mp_reader *r, void *out)
{
	return get_op(r, out);
}

static int item_result(rove_mp_reader *r, void *out)
{
	return get_result(r, out);
}

static int item_entry(rove_mp_reader *r, void *out)
{
	return get_entry(r, out);
}

static int item_conflict(rove_mp_reader *r, void *out)
{
	return get_conflict(r, out);
}

static int item_arg(rove_mp_reader *r, void *out)
{
	rove_str_item *it = out;

	return rove_mp_get_text(r, ROVE_MAX_ADMIN_ARG, &it->s, &it->len);
}

static int item_line(rove_mp_reader *r, void *out)
{
	rove_str_item *it = out;

	return rove_mp_get_text(r, ROVE_MAX_STR, &it->s, &it->len);
}

/* No message carries bare records (an entry wraps them), but the stored
 * form is read through the same shape of function. */
static int item_record(rove_mp_reader *r, void *out)
{
	return get_record(r, out);
}

static const struct item_def {
	int (*get)(rove_mp_reader *r, void *out);
	size_t size; /* of what get fills */
} items[] = {
	[ROVE_ITEM_OP] = {item_op, sizeof(rove_op)},
	[ROVE_ITEM_RESULT] = {item_result, sizeof(rove_push_result)},
	[ROVE_ITEM_ENTRY] = {item_entry, sizeof(rove_entry)},
	[ROVE_ITEM_CONFLICT] = {item_conflict, sizeof(rove_conflict)},
	[ROVE_ITEM_ARG] = {item_arg, sizeof(rove_str_item)},
	[ROVE_ITEM_LINE] = {item_line, sizeof(rove_str_item)},
};

size_t rove_item_size(int kind)
{
	ROVE_ASSERT(kind > ROVE_ITEM_NONE && kind < ROVE_ITEM_KINDS);
	return items[kind].size;
}

int rove_item_get(rove_mp_reader *r, int kind, void *out)
{
	ROVE_ASSERT(kind > ROVE_ITEM_NONE && kind < ROVE_ITEM_KINDS);
	return items[kind].get(r, out);
}

/* ---- stored forms: one op, record or refused op ---------------------- */

int rove_enc_op(rove_buf *out, const rove_op *op)
{
	rove_mp_writer w;

	rove_mp_writer_init(&w, out);
	rove_item_put_op(&w, op);
	return rove_mp_writer_done(&w);
}

static bool stamp_eq(const rove_stamp *a, const rove_stamp *b)
{
	return a->hlc.v == b->hlc.v && a->node == b->node;
}

/* The stamp most of the fields have (the first of those that tie); a
 * record without fields has a zero one. */
static rove_stamp record_stamp(const rove_fields *fs)
{
	rove_stamp best = {{0}, 0};
	uint32_t best_n = 0;

	for (uint32_t i = 0; i < fs->n && best_n * 2 <= fs->n; i++) {
		uint32_t n = 0;
		if (i > 0 && stamp_eq(&fs->f[i].st, &best))
			continue;
		for (uint32_t j = i; j < fs->n; j++)
			n += stamp_eq(&fs->f[j].st, &fs->f[i].st);
		if (n > best_n) {
			best_n = n;
			best = fs->f[i].st;
		}
	}
	return best;
}

/* A record in format 2, or in format 1 (v1) for a peer that reads no
 * other. */
static void put_record(rove_mp_writer *w, const rove_record *rec, bool v1)
{
	rove_stamp st = record_stamp(&rec->fs);

	/* Format 2: the stamp most fields share, once; a field with another
	 * carries its own. */
	rove_mp_put_array(w, v1 ? 3 : 5);
	rove_mp_put_u64(w, rec->coll);
	rove_mp_put_bin(w, rec->id.b, 16);
	if (!v1) {
		rove_mp_put_u64(w, st.hlc.v);
		rove_mp_put_u64(w, st.node);
	}
	rove_mp_put_array(w, rec->fs.n);
	for (uint32_t i = 0; i < rec->fs.n; i++) {
		const rove_field *f = &rec->fs.f[i];
		bool own = v1 || !stamp_eq(&f->st, &st);
		rove_mp_put_array(w, own ? 4 : 2);
		rove_mp_put_str(w, f->name);
		rove_mp_put_value(w, &f->v);
		if (own) {
			rove_mp_put_u64(w, f->st.hlc.v);
			rove_mp_put_u64(w, f->st.node);
		}
	}
}

int rove_enc_record(rove_buf *out, const rove_record *rec)
{
	rove_mp_writer w;

	rove_mp_writer_init(&w, out);
	put_record(&w, rec, false);
	return rove_mp_writer_done(&w);
}

int rove_enc_entry_record_for(rove_buf *out, const void *rec, size_t len, int format, rove_record *scratch)
{
	rove_mp_writer w;
	int rc;

	/* Format 1's outer array has 3 elements (a fixarray: 0x93). */
	if (format >= ROVE_RECORD_FORMAT || (len > 0 && *(const uint8_t *)rec == 0x93))
		return rove_enc_entry_record_raw(out, rec, len);
	rc = rove_dec_record(rec, len, scratch);
	if (rc != ROVE_OK)
		return rc;
	rove_mp_writer_init(&w, out);
	rove_mp_put_array(&w, 2);
	rove_mp_put_u64(&w, ROVE_ENTRY_RECORD);
	put_record(&w, scratch, true);
	return rove_mp_writer_done(&w);
}

int rove_enc_rejection(rove_buf *out, uint64_t time_ms, int reason, const char *detail, const rove_op *op)
{
	rove_mp_writer w;

	if (reason < 0 || reason >= ROVE_R_COUNT)
		return ROVE_EINVAL;
	rove_mp_writer_init(&w, out);
	rove_mp_put_array(&w, 4);
	rove_mp_put_u64(&w, time_ms);
	rove_mp_put_u64(&w, (uint64_t)reason);
	rove_mp_put_str_max(&w, detail, ROVE_MAX_DETAIL);
	rove_item_put_op(&w, op);
	return rove_mp_writer_done(&w);
}

/* One item that must be all of data (trailing bytes: ROVE_EPROTO). */
static int get_whole(const void *data, size_t len, int (*get)(rove_mp_reader *r, void *out), void *out)
{
	rove_mp_reader r;
	int rc;

	rove_mp_reader_init(&r, data, len);
	rc = get(&r, out);
	if (rc == ROVE_OK && !rove_mp_reader_at_end(&r))
		rc = ROVE_EPROTO;
	return rc;
}

int rove_dec_op(const void *data, size_t len, rove_op *op)
{
	return get_whole(data, len, item_op, op);
}

int rove_dec_op_head(const void *data, size_t len, rove_op_head *op)
{
	return rove_dec_op_head_author(data, len, op, NULL);
}

int rove_dec_op_head_author(const void *data, size_t len, rove_op_head *op, char author[ROVE_MAX_NAME + 1])
{
	rove_mp_reader r;
	uint64_t kind, coll;
	char checked[ROVE_MAX_NAME + 1];
	int rc;

	if (author == NULL)
		author = checked;

	/* Up to the author, as get_op reads it; the fields are left. */
	rove_mp_reader_init(&r, data, len);
	rc = rove_mp_get_exact_array(&r, 9);
	if (rc == ROVE_OK)
		rc = rove_mp_get_uuid(&r, &op->op_id);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64_max(&r, ROVE_OP_KIND_MAX, &kind);
	if (rc == ROVE_OK && kind == 0)
		rc = ROVE_EPROTO;
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64_max(&r, 255, &coll);
	if (rc == ROVE_OK)
		rc = rove_mp_get_uuid(&r, &op->rid);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64(&r, &op->st.hlc.v);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64(&r, &op->st.node);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64(&r, &op->seq);
	if (rc == ROVE_OK)
		rc = rove_mp_get_cstr(&r, author, ROVE_MAX_NAME);
	if (rc != ROVE_OK)
		return rc == ROVE_EINVAL ? ROVE_EPROTO : rc;
	op->kind = (uint8_t)kind;
	op->coll = (uint8_t)coll;
	return ROVE_OK;
}

int rove_dec_record(const void *data, size_t len, rove_record *rec)
{
	return get_whole(data, len, item_record, rec);
}

int rove_record_raw_deleted(const void *data, size_t len, bool *deleted)
{
	uint8_t coll;
	rove_uuid id;

	return rove_record_raw_outline(data, len, &coll, &id, deleted);
}

int rove_record_raw_outline(const void *data, size_t len, uint8_t *coll, rove_uuid *id, bool *deleted)
{
	rove_mp_reader r;
	uint64_t c = 0;
	uint32_t n = 0, elems = 0, fe = 0;
	int rc;

	*deleted = false;
	rove_mp_reader_init(&r, data, len);
	rc = rove_mp_get_array(&r, 5, &elems);
	if (rc == ROVE_OK && elems != 3 && elems != 5)
		rc = ROVE_EPROTO;
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64_max(&r, 255, &c);
	*coll = (uint8_t)c;
	if (rc == ROVE_OK)
		rc = rove_mp_get_uuid(&r, id);
	for (int i = 0; rc == ROVE_OK && elems == 5 && i < 2; i++) { /* the record's stamp */
		uint64_t part;
		rc = rove_mp_get_u64(&r, &part);
	}
	if (rc == ROVE_OK)
		rc = rove_mp_get_array(&r, ROVE_MAX_FIELDS, &n);
	for (uint32_t i = 0; rc == ROVE_OK && i < n; i++) {
		const char *name;
		uint32_t nlen;
		rove_value v;
		uint64_t hlc, node;

		rc = rove_mp_get_array(&r, 4, &fe);
		if (rc == ROVE_OK && (elems == 3 ? fe != 4 : fe != 2 && fe != 4))
			rc = ROVE_EPROTO;
		if (rc == ROVE_OK)
			rc = rove_mp_get_text(&r, ROVE_MAX_FIELD_NAME, &name, &nlen);
		if (rc == ROVE_OK)
			rc = rove_mp_get_value(&r, &v);
		if (rc == ROVE_OK && fe == 4)
			rc = rove_mp_get_u64(&r, &hlc);
		if (rc == ROVE_OK && fe == 4)
			rc = rove_mp_get_u64(&r, &node);
		if (rc == ROVE_OK && nlen == sizeof(ROVE_FIELD_DELETED) - 1 &&
		    memcmp(name, ROVE_FIELD_DELETED, nlen) == 0)
			*deleted = v.type == ROVE_V_INT && v.i != 0;
	}
	if (rc == ROVE_OK && !rove_mp_reader_at_end(&r))
		rc = ROVE_EPROTO;
	return rc == ROVE_OK ? ROVE_OK : ROVE_EPROTO;
}

int rove_dec_rejection(const void *data, size_t len, rove_rejection *rj)
{
	rove_mp_reader r;
	uint64_t reason = 0;
	int rc;

	rove_mp_reader_init(&r, data, len);
	rc = rove_mp_get_exact_array(&r, 4);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64(&r, &rj->time_ms);
	if (rc == ROVE_OK)
		rc = rove_mp_get_u64_max(&r, ROVE_R_COUNT - 1, &reason);
	if (rc == ROVE_OK)
		rc = rove_mp_get_cstr(&r, rj->detail, ROVE_MAX_DETAIL);
	rj->op_raw = r.p;
	if (rc == ROVE_OK)
		rc = get_op(&r, &rj->op);
	rj->op_rawlen = (size_t)(r.p - rj->op_raw);
	if (rc == ROVE_OK && !rove_mp_reader_at_end(&r))
		rc = ROVE_EPROTO;
	rj->reason = (uint8_t)reason;
	return rc;
}
