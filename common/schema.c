#include "schema.h"

#include "err.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const tiers[] = {"prospect", "customer", "loyal", NULL};
static const char *const stages[] = {"lead", "qualified", "proposal", "negotiation", "won", "lost", NULL};
static const char *const contract_states[] = {"draft", "active", "completed", "terminated", NULL};
static const char *const activity_kinds[] = {"visit", "call", "note", NULL};
static const char *const ownership_events[] = {"create", "claim", "release", "recycle", "reassign", NULL};
static const char *const notice_kinds[] = {"recycle_warning", "recycled", NULL};

#define REQ ROVE_FF_REQUIRED
#define SYS ROVE_FF_SYSTEM
#define LST ROVE_FF_LIST
#define PAR ROVE_FF_PARENT
#define HID ROVE_FF_HIDDEN
#define NAME_LEN ROVE_MAX_NAME
#define ID_LEN ROVE_UUID_STRLEN

static const rove_field_def customer_fields[] = {
	{"name", ROVE_FT_STR, REQ | LST, 200, NULL},
	{"tax_id", ROVE_FT_STR, 0, 32, NULL},
	{"phone", ROVE_FT_STR, LST, 32, NULL},
	{"address", ROVE_FT_STR, 0, 500, NULL},
	{"tier", ROVE_FT_ENUM, LST, 16, tiers},
	{"territory", ROVE_FT_CODE, LST, NAME_LEN, NULL},
	{"owner", ROVE_FT_LOGIN, SYS | LST, NAME_LEN, NULL},
	{"dealer", ROVE_FT_REF, 0, ID_LEN, NULL},
	{"last_activity_at", ROVE_FT_TIME, SYS, 32, NULL},
	{"created_at", ROVE_FT_TIME, SYS, 32, NULL},
	{"release_reason", ROVE_FT_STR, SYS | HID, 500, NULL},
};

static const rove_field_def contact_fields[] = {
	{"customer", ROVE_FT_REF, REQ | PAR, ID_LEN, NULL},
	{"name", ROVE_FT_STR, REQ | LST, 200, NULL},
	{"phone", ROVE_FT_STR, LST, 32, NULL},
	{"email", ROVE_FT_STR, LST, 200, NULL},
	{"title", ROVE_FT_STR, LST, 100, NULL},
};

static const rove_field_def contract_fields[] = {
	{"customer", ROVE_FT_REF, REQ | PAR, ID_LEN, NULL},
	{"number", ROVE_FT_STR, REQ | LST, 64, NULL},
	{"amount", ROVE_FT_MONEY, REQ | LST, 0, NULL},
	{"signed_on", ROVE_FT_DATE, LST, 10, NULL},
	{"status", ROVE_FT_ENUM, LST, 16, contract_states},
};

static const rove_field_def opportunity_fields[] = {
	{"customer", ROVE_FT_REF, REQ | PAR, ID_LEN, NULL},
	{"title", ROVE_FT_STR, REQ | LST, 200, NULL},
	{"amount", ROVE_FT_MONEY, LST, 0, NULL},
	{"stage", ROVE_FT_ENUM, LST, 16, stages},
	{"expected_close", ROVE_FT_DATE, LST, 10, NULL},
	{"closed_on", ROVE_FT_DATE, LST, 10, NULL},
};

static const rove_field_def activity_fields[] = {
	{"customer", ROVE_FT_REF, REQ | PAR, ID_LEN, NULL},
	{"kind", ROVE_FT_ENUM, REQ | LST, 16, activity_kinds},
	{"at", ROVE_FT_TIME, LST, 32, NULL},
	{"note", ROVE_FT_STR, LST, 2000, NULL},
	{"location", ROVE_FT_STR, 0, 200, NULL},
	{"author", ROVE_FT_LOGIN, SYS | LST, NAME_LEN, NULL},
};

static const rove_field_def dealer_fields[] = {
	{"name", ROVE_FT_STR, REQ | LST, 200, NULL},
	{"territory", ROVE_FT_CODE, REQ | LST, NAME_LEN, NULL},
	{"phone", ROVE_FT_STR, LST, 32, NULL},
};

static const rove_field_def target_fields[] = {
	{"user", ROVE_FT_LOGIN, REQ | LST, NAME_LEN, NULL},
	{"period", ROVE_FT_MONTH, REQ | LST, 7, NULL},
	{"amount", ROVE_FT_MONEY, REQ | LST, 0, NULL},
	{"territory", ROVE_FT_CODE, SYS | HID, NAME_LEN, NULL},
};

static const rove_field_def territory_fields[] = {
	{"code", ROVE_FT_CODE, REQ | LST, NAME_LEN, NULL},
	{"name", ROVE_FT_STR, REQ | LST, 200, NULL},
	{"parent", ROVE_FT_CODE, LST, NAME_LEN, NULL},
	/* pool policies (公海规则); absent or 0 = no such rule */
	{"pool_limit", ROVE_FT_INT, 0, 0, NULL},     /* customers a rep may hold here */
	{"claim_limit", ROVE_FT_INT, 0, 0, NULL},    /* claims per rep per day */
	{"cooldown_days", ROVE_FT_INT, 0, 0, NULL},  /* before re-claiming one released */
	{"release_reason", ROVE_FT_BOOL, 0, 0, NULL}, /* a reason is required to release */
	{"recycle_days", ROVE_FT_INT, 0, 0, NULL},   /* back to the pool after N idle days */
	{"warn_days", ROVE_FT_INT, 0, 0, NULL},      /* warn the owner this many days before */
};

static const rove_field_def ownership_fields[] = {
	{"customer", ROVE_FT_REF, REQ | PAR, ID_LEN, NULL},
	{"event", ROVE_FT_ENUM, REQ | LST, 16, ownership_events},
	{"from", ROVE_FT_LOGIN, LST, NAME_LEN, NULL},
	{"to", ROVE_FT_LOGIN, LST, NAME_LEN, NULL},
	{"by", ROVE_FT_LOGIN, LST, NAME_LEN, NULL},
	{"reason", ROVE_FT_STR, LST, 500, NULL},
	{"at", ROVE_FT_TIME, LST, 32, NULL},
};

static const rove_field_def notice_fields[] = {
	{"user", ROVE_FT_LOGIN, REQ, NAME_LEN, NULL},
	{"customer", ROVE_FT_REF, LST, ID_LEN, NULL},
	{"kind", ROVE_FT_ENUM, REQ | LST, 16, notice_kinds},
	{"text", ROVE_FT_STR, LST, 500, NULL},
	{"at", ROVE_FT_TIME, LST, 32, NULL},
};

#define COLL(id, name, flags, fields) {id, name, flags, fields, sizeof(fields) / sizeof(fields[0])}

static const rove_coll_def colls[] = {
	COLL(ROVE_COLL_CUSTOMER, "customer", 0, customer_fields),
	COLL(ROVE_COLL_CONTACT, "contact", 0, contact_fields),
	COLL(ROVE_COLL_CONTRACT, "contract", 0, contract_fields),
	COLL(ROVE_COLL_OPPORTUNITY, "opportunity", 0, opportunity_fields),
	COLL(ROVE_COLL_ACTIVITY, "activity", ROVE_CF_APPEND_ONLY, activity_fields),
	COLL(ROVE_COLL_DEALER, "dealer", 0, dealer_fields),
	COLL(ROVE_COLL_TARGET, "target", 0, target_fields),
	COLL(ROVE_COLL_TERRITORY, "territory", ROVE_CF_SERVER, territory_fields),
	COLL(ROVE_COLL_OWNERSHIP, "ownership", ROVE_CF_SERVER | ROVE_CF_APPEND_ONLY, ownership_fields),
	COLL(ROVE_COLL_NOTICE, "notice", ROVE_CF_SERVER, notice_fields),
};

const rove_field_def *rove_schema_parent_field(const rove_coll_def *c)
{
	for (size_t i = 0; i < c->nfields; i++)
		if (c->fields[i].flags & ROVE_FF_PARENT)
			return &c->fields[i];
	return NULL;
}

const rove_coll_def *rove_schema_coll(uint8_t id)
{
	for (size_t i = 0; i < sizeof(colls) / sizeof(colls[0]); i++)
		if (colls[i].id == id)
			return &colls[i];
	return NULL;
}

const rove_coll_def *rove_schema_coll_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(colls) / sizeof(colls[0]); i++)
		if (strcmp(colls[i].name, name) == 0)
			return &colls[i];
	return NULL;
}

const rove_field_def *rove_schema_field(const rove_coll_def *c, const char *name)
{
	for (size_t i = 0; i < c->nfields; i++)
		if (strcmp(c->fields[i].name, name) == 0)
			return &c->fields[i];
	return NULL;
}

/* YYYY-MM (len 7) or YYYY-MM-DD (len 10), digits and real dates only. */
static bool valid_date_prefix(const char *s, uint32_t len)
{
	static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y = 0, m, d = 1;

	if ((len != 7 && len != 10) || s[4] != '-' || (len == 10 && s[7] != '-'))
		return false;
	for (uint32_t i = 0; i < len; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return false;
	for (int i = 0; i < 4; i++)
		y = y * 10 + (s[i] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	if (len == 10)
		d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > days[m - 1])
		return false;
	if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return false;
	return true;
}

static bool valid_date(const char *s, uint32_t len)
{
	return len == 10 && valid_date_prefix(s, 10);
}

/* A date, or a date and time: YYYY-MM-DDTHH:MM[:SS][Z]. */
static bool valid_time(const char *s, uint32_t len)
{
	static const char shape[] = "DDDD-DD-DDTDD:DD:DDZ";

	if (len == 10)
		return valid_date(s, len);
	if (len != 16 && len != 17 && len != 19 && len != 20)
		return false;
	if (!valid_date_prefix(s, 10))
		return false;
	if (len == 17 && s[16] != 'Z')
		return false;
	for (uint32_t i = 10; i < len; i++) {
		char want = (len == 17 && i == 16) ? 'Z' : shape[i];
		if (want == 'D' ? !isdigit((unsigned char)s[i]) : s[i] != want)
			return false;
	}
	if ((s[11] - '0') * 10 + (s[12] - '0') > 23 || (s[14] - '0') * 10 + (s[15] - '0') > 59)
		return false;
	if (len >= 19 && (s[17] - '0') * 10 + (s[18] - '0') > 59)
		return false;
	return true;
}

static bool valid_chars(const char *s, uint32_t len, const char *extra)
{
	if (len == 0)
		return false;
	for (uint32_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(isalnum(c) || strchr(extra, c) != NULL) || c == '\0')
			return false;
	}
	return true;
}

int rove_schema_check_value(const rove_field_def *fd, const rove_value *v, char *why, size_t whylen)
{
	bool ok = true;

	if (v->type == ROVE_V_NULL) {
		if (fd->flags & ROVE_FF_REQUIRED) {
			snprintf(why, whylen, "%s cannot be empty", fd->name);
			return ROVE_EINVAL;
		}
		return ROVE_OK;
	}
	if (fd->type == ROVE_FT_MONEY || fd->type == ROVE_FT_INT || fd->type == ROVE_FT_BOOL) {
		if (v->type != ROVE_V_INT) {
			snprintf(why, whylen, "%s must be a number", fd->name);
			return ROVE_EINVAL;
		}
		if (fd->type == ROVE_FT_BOOL && v->i != 0 && v->i != 1) {
			snprintf(why, whylen, "%s must be 0 or 1", fd->name);
			return ROVE_EINVAL;
		}
		if (fd->type == ROVE_FT_INT && v->i < 0) {
			snprintf(why, whylen, "%s cannot be negative", fd->name);
			return ROVE_EINVAL;
		}
		return ROVE_OK;
	}
	if (v->type != ROVE_V_STR) {
		snprintf(why, whylen, "%s must be text", fd->name);
		return ROVE_EINVAL;
	}
	if (v->len > fd->maxlen) {
		snprintf(why, whylen, "%s is longer than %u bytes", fd->name, fd->maxlen);
		return ROVE_EINVAL;
	}
	switch (fd->type) {
	case ROVE_FT_STR:
		ok = v->len > 0 || !(fd->flags & ROVE_FF_REQUIRED);
		break;
	case ROVE_FT_ENUM:
		ok = false;
		for (const char *const *e = fd->values; *e != NULL; e++)
			if (strlen(*e) == v->len && memcmp(*e, v->s, v->len) == 0)
				ok = true;
		break;
	case ROVE_FT_DATE:
		ok = valid_date(v->s, v->len);
		break;
	case ROVE_FT_REF: {
		char buf[ROVE_UUID_STRLEN + 1];
		rove_uuid u;
		ok = v->len == ROVE_UUID_STRLEN;
		if (ok) {
			memcpy(buf, v->s, v->len);
			buf[v->len] = '\0';
			ok = rove_uuid_parse(buf, &u) == ROVE_OK;
		}
		break;
	}
	case ROVE_FT_CODE:
		ok = valid_chars(v->s, v->len, "._-");
		break;
	case ROVE_FT_LOGIN:
		ok = valid_chars(v->s, v->len, "._-@");
		break;
	case ROVE_FT_TIME:
		ok = valid_time(v->s, v->len);
		break;
	case ROVE_FT_MONTH:
		ok = v->len == 7 && valid_date_prefix(v->s, 7);
		break;
	default:
		ok = false;
	}
	if (!ok) {
		if (fd->type == ROVE_FT_ENUM) {
			char list[128] = "";
			for (const char *const *e = fd->values; *e != NULL; e++) {
				strncat(list, *e, sizeof(list) - strlen(list) - 1);
				if (e[1] != NULL)
					strncat(list, ", ", sizeof(list) - strlen(list) - 1);
			}
			snprintf(why, whylen, "%s must be one of: %s", fd->name, list);
		} else {
			snprintf(why, whylen, "invalid %s '%.*s'", fd->name, (int)(v->len > 64 ? 64 : v->len),
				 v->s);
		}
		return ROVE_EINVAL;
	}
	return ROVE_OK;
}

static int parse_money(const char *text, int64_t *out)
{
	const char *p = text;
	int neg = 0;
	int64_t units = 0, cents = 0;
	int digits = 0;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	if (!isdigit((unsigned char)*p))
		return ROVE_EINVAL;
	while (isdigit((unsigned char)*p)) {
		if (units > (INT64_MAX / 100 - 9) / 10)
			return ROVE_EINVAL;
		units = units * 10 + (*p++ - '0');
	}
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p) && digits < 2) {
			cents = cents * 10 + (*p++ - '0');
			digits++;
		}
		if (digits == 0)
			return ROVE_EINVAL;
		if (digits == 1)
			cents *= 10;
	}
	if (*p != '\0')
		return ROVE_EINVAL;
	*out = (units * 100 + cents) * (neg ? -1 : 1);
	return ROVE_OK;
}

int rove_schema_parse(const rove_field_def *fd, const char *text, rove_value *v, char *why, size_t whylen)
{
	if (text[0] == '\0') {
		*v = rove_vnull();
		return rove_schema_check_value(fd, v, why, whylen);
	}
	if (fd->type == ROVE_FT_MONEY) {
		int64_t cents;
		if (parse_money(text, &cents) != ROVE_OK) {
			snprintf(why, whylen, "invalid amount '%s' (write units, e.g. 12000.50)", text);
			return ROVE_EINVAL;
		}
		*v = rove_vint(cents);
		return ROVE_OK;
	}
	if (fd->type == ROVE_FT_INT || fd->type == ROVE_FT_BOOL) {
		char *end;
		long long n;
		if (!isdigit((unsigned char)text[0]) && text[0] != '-') {
			snprintf(why, whylen, "invalid number '%s' for %s", text, fd->name);
			return ROVE_EINVAL;
		}
		errno = 0;
		n = strtoll(text, &end, 10);
		if (errno != 0 || *end != '\0') {
			snprintf(why, whylen, "invalid number '%s' for %s", text, fd->name);
			return ROVE_EINVAL;
		}
		*v = rove_vint(n);
		return rove_schema_check_value(fd, v, why, whylen);
	}
	if (strlen(text) > ROVE_MAX_STR) {
		snprintf(why, whylen, "%s is too long", fd->name);
		return ROVE_EINVAL;
	}
	*v = rove_vcstr(text);
	return rove_schema_check_value(fd, v, why, whylen);
}

int rove_schema_check_op(const rove_op *op, char *why, size_t whylen)
{
	const rove_coll_def *c = rove_schema_coll(op->coll);

	if (c == NULL) {
		snprintf(why, whylen, "unknown collection %u", op->coll);
		return ROVE_EINVAL;
	}
	if (op->kind < ROVE_OP_CREATE || op->kind > ROVE_OP_KIND_MAX) {
		snprintf(why, whylen, "unknown op kind %u", op->kind);
		return ROVE_EINVAL;
	}
	for (uint32_t i = 0; i < op->fs.n; i++) {
		const rove_field *f = &op->fs.f[i];
		const rove_field_def *fd;
		int rc;

		if (strcmp(f->name, ROVE_FIELD_DELETED) == 0) {
			if (f->v.type != ROVE_V_INT) {
				snprintf(why, whylen, "%s must be a number", f->name);
				return ROVE_EINVAL;
			}
			continue;
		}
		fd = rove_schema_field(c, f->name);
		if (fd == NULL) {
			snprintf(why, whylen, "unknown field '%s' for %s", f->name, c->name);
			return ROVE_EINVAL;
		}
		rc = rove_schema_check_value(fd, &f->v, why, whylen);
		if (rc != ROVE_OK)
			return rc;
	}
	if (op->kind == ROVE_OP_CREATE) {
		for (size_t i = 0; i < c->nfields; i++) {
			const rove_field_def *fd = &c->fields[i];
			const rove_field *f;
			if (!(fd->flags & ROVE_FF_REQUIRED))
				continue;
			f = rove_fields_get(&op->fs, fd->name);
			if (f == NULL || f->v.type == ROVE_V_NULL) {
				snprintf(why, whylen, "%s is required", fd->name);
				return ROVE_EINVAL;
			}
		}
	}
	return ROVE_OK;
}

void rove_phone_normalise(const char *in, char *out, size_t outlen)
{
	size_t n = 0;

	if (outlen == 0)
		return;
	for (const char *p = in; *p != '\0' && n + 1 < outlen; p++) {
		if (isdigit((unsigned char)*p) || (*p == '+' && n == 0))
			out[n++] = *p;
	}
	out[n] = '\0';
}

static const char *const role_names[] = {NULL, "rep", "manager", "analyst", "admin"};

const char *rove_role_name(int role)
{
	if (role < ROVE_ROLE_REP || role > ROVE_ROLE_ADMIN)
		return "unknown";
	return role_names[role];
}

int rove_role_parse(const char *name)
{
	for (int r = ROVE_ROLE_REP; r <= ROVE_ROLE_ADMIN; r++)
		if (strcmp(role_names[r], name) == 0)
			return r;
	return 0;
}
