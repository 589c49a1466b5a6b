#include "schema.h"

#include "calendar.h"
#include "err.h"
#include "ident.h"
#include "rove_assert.h"
#include "text.h"
#include "uuid.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
#define LNS ROVE_FF_LINES
#define NAME_LEN ROVE_MAX_NAME
#define ID_LEN ROVE_UUID_STRLEN
#define TIME_LEN 20 /* YYYY-MM-DDTHH:MM:SSZ */
_Static_assert(TIME_LEN + 1 == ROVE_TIME_SIZE, "a stored time is the calendar's");

static const rove_field_def customer_fields[] = {
	{"name", ROVE_FT_STR, REQ | LST, ROVE_LEN_NAME, NULL},
	{"tax_id", ROVE_FT_TAXID, 0, ROVE_TAXID_LEN, NULL},
	{"phone", ROVE_FT_PHONE, LST, ROVE_LEN_PHONE, NULL},
	{"address", ROVE_FT_STR, LNS, ROVE_LEN_ADDRESS, NULL},
	{"tier", ROVE_FT_ENUM, LST, 16, tiers},
	{"territory", ROVE_FT_CODE, LST, NAME_LEN, NULL},
	{"owner", ROVE_FT_LOGIN, SYS | LST, NAME_LEN, NULL},
	{"dealer", ROVE_FT_REF, 0, ID_LEN, NULL},
	{"last_activity_at", ROVE_FT_TIME, SYS, TIME_LEN, NULL},
	{"created_at", ROVE_FT_TIME, SYS, TIME_LEN, NULL},
	{"release_reason", ROVE_FT_STR, SYS | HID, ROVE_LEN_REASON, NULL},
};

static const rove_field_def contact_fields[] = {
	{"customer", ROVE_FT_REF, REQ | PAR, ID_LEN, NULL},
	{"name", ROVE_FT_STR, REQ | LST, ROVE_LEN_NAME, NULL},
	{"phone", ROVE_FT_PHONE, LST, ROVE_LEN_PHONE, NULL},
	{"email", ROVE_FT_EMAIL, LST, ROVE_LEN_EMAIL, NULL},
	{"title", ROVE_FT_STR, LST, ROVE_LEN_TITLE, NULL},
};

static const rove_field_def contract_fields[] = {
	{"customer", ROVE_FT_REF, REQ | PAR, ID_LEN, NULL},
	{"number", ROVE_FT_STR, REQ | LST, ROVE_LEN_NUMBER, NULL},
	{"amount", ROVE_FT_MONEY, REQ | LST, 0, NULL},
	{"signed_on", ROVE_FT_DATE, LST, 10, NULL},
	{"status", ROVE_FT_ENUM, LST, 16, contract_states},
};

static const rove_field_def opportunity_fields[] = {
	{"customer", ROVE_FT_REF, REQ | PAR, ID_LEN, NULL},
	{"title", ROVE_FT_STR, REQ | LST, ROVE_LEN_NAME, NULL},
	{"amount", ROVE_FT_MONEY, LST, 0, NULL},
	{"stage", ROVE_FT_ENUM, LST, 16, stages},
	{"expected_close", ROVE_FT_DATE, LST, 10, NULL},
	{"closed_on", ROVE_FT_DATE, LST, 10, NULL},
	{"owner", ROVE_FT_LOGIN, LST, NAME_LEN, NULL}, /* the server's on create (rule 14) */
};

static const rove_field_def activity_fields[] = {
	{"customer", ROVE_FT_REF, REQ | PAR, ID_LEN, NULL},
	{"kind", ROVE_FT_ENUM, REQ | LST, 16, activity_kinds},
	{"at", ROVE_FT_TIME, LST, TIME_LEN, NULL},
	{"note", ROVE_FT_STR, LST | LNS, ROVE_LEN_NOTE, NULL},
	{"location", ROVE_FT_STR, 0, ROVE_LEN_LOCATION, NULL},
	{"author", ROVE_FT_LOGIN, SYS | LST, NAME_LEN, NULL},
};

static const rove_field_def dealer_fields[] = {
	{"name", ROVE_FT_STR, REQ | LST, ROVE_LEN_NAME, NULL},
	{"territory", ROVE_FT_CODE, REQ | LST, NAME_LEN, NULL},
	{"phone", ROVE_FT_PHONE, LST, ROVE_LEN_PHONE, NULL},
};

static const rove_field_def target_fields[] = {
	{"user", ROVE_FT_LOGIN, REQ | LST, NAME_LEN, NULL},
	{"period", ROVE_FT_MONTH, REQ | LST, 7, NULL},
	{"amount", ROVE_FT_MONEY, REQ | LST, 0, NULL},
	{"territory", ROVE_FT_CODE, SYS | HID, NAME_LEN, NULL},
};

static const rove_field_def territory_fields[] = {
	{"code", ROVE_FT_CODE, REQ | LST, NAME_LEN, NULL},
	{"name", ROVE_FT_STR, REQ | LST, ROVE_LEN_NAME, NULL},
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
	{"opportunity", ROVE_FT_REF, 0, ID_LEN, NULL}, /* a deal's owner, not the customer's */
	{"event", ROVE_FT_ENUM, REQ | LST, 16, ownership_events},
	{"from", ROVE_FT_LOGIN, LST, NAME_LEN, NULL},
	{"to", ROVE_FT_LOGIN, LST, NAME_LEN, NULL},
	{"by", ROVE_FT_LOGIN, LST, NAME_LEN, NULL},
	{"reason", ROVE_FT_STR, LST, ROVE_LEN_REASON, NULL},
	{"at", ROVE_FT_TIME, LST, TIME_LEN, NULL},
};

static const rove_field_def notice_fields[] = {
	{"user", ROVE_FT_LOGIN, REQ, NAME_LEN, NULL},
	{"customer", ROVE_FT_REF, LST, ID_LEN, NULL},
	{"kind", ROVE_FT_ENUM, REQ | LST, 16, notice_kinds},
	{"text", ROVE_FT_STR, LST, ROVE_LEN_REASON, NULL},
	{"at", ROVE_FT_TIME, LST, TIME_LEN, NULL},
};

/* A table, one collection a row. */
/* clang-format off */
#define COLL(id, name, flags, f, parent) {id, name, flags, f, sizeof(f) / sizeof(f[0]), parent}

/* The last column: the collection a record belongs to (SPEC.md's data
 * model), for those that follow their customer. */
static const rove_coll_def colls[] = {
	COLL(ROVE_COLL_CUSTOMER, "customer", 0, customer_fields, 0),
	COLL(ROVE_COLL_CONTACT, "contact", 0, contact_fields, ROVE_COLL_CUSTOMER),
	COLL(ROVE_COLL_CONTRACT, "contract", 0, contract_fields, ROVE_COLL_CUSTOMER),
	COLL(ROVE_COLL_OPPORTUNITY, "opportunity", 0, opportunity_fields, ROVE_COLL_CUSTOMER),
	COLL(ROVE_COLL_ACTIVITY, "activity", ROVE_CF_APPEND_ONLY, activity_fields, ROVE_COLL_CUSTOMER),
	COLL(ROVE_COLL_DEALER, "dealer", 0, dealer_fields, 0),
	COLL(ROVE_COLL_TARGET, "target", 0, target_fields, 0),
	COLL(ROVE_COLL_TERRITORY, "territory", ROVE_CF_SERVER, territory_fields, 0),
	COLL(ROVE_COLL_OWNERSHIP, "ownership", ROVE_CF_SERVER | ROVE_CF_APPEND_ONLY, ownership_fields,
	     ROVE_COLL_CUSTOMER),
	COLL(ROVE_COLL_NOTICE, "notice", ROVE_CF_SERVER, notice_fields, 0),
};
/* clang-format on */

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
	/* The first byte first: every field of every op is looked up. */
	for (size_t i = 0; i < c->nfields; i++)
		if (c->fields[i].name[0] == name[0] && strcmp(c->fields[i].name, name) == 0)
			return &c->fields[i];
	return NULL;
}

bool rove_schema_field_searched(const rove_field_def *fd)
{
	if (fd->flags & ROVE_FF_HIDDEN)
		return false;
	switch (fd->type) {
	case ROVE_FT_STR:
	case ROVE_FT_ENUM:
	case ROVE_FT_CODE:
	case ROVE_FT_LOGIN:
	case ROVE_FT_TAXID:
	case ROVE_FT_PHONE:
	case ROVE_FT_EMAIL:
		return true;
	default:
		return false;
	}
}

/* ---- dates and times ---- */

enum date_fault { DATE_OK, DATE_SHAPE, DATE_RANGE };

/* Whether the date in the first len (7 or 10) bytes of a real date or
 * time lies within ROVE_DATE_MIN..ROVE_DATE_MAX: in one shape, text
 * order is time order. */
static int date_range(const char *s, uint32_t len)
{
	if (memcmp(s, ROVE_DATE_MIN, len) < 0 || memcmp(s, ROVE_DATE_MAX, len) > 0)
		return DATE_RANGE;
	return DATE_OK;
}

/* YYYY-MM (len 7) or YYYY-MM-DD (len 10): a real date (the calendar's),
 * within the range. */
static int date_fault(const char *s, uint32_t len)
{
	int64_t day;

	return rove_cal_parse_date(s, len, &day) ? date_range(s, len) : DATE_SHAPE;
}

/* A date, or a date and time: YYYY-MM-DDTHH:MM[:SS][Z]. */
static int time_fault(const char *s, uint32_t len)
{
	int64_t ms;
	bool zoned;

	return rove_cal_parse_time(s, len, &ms, &zoned) ? date_range(s, 10) : DATE_SHAPE;
}

bool rove_schema_time_ms(const char *iso, uint64_t *ms, bool *zoned)
{
	size_t len = iso != NULL ? strnlen(iso, TIME_LEN + 1) : 0;
	int64_t t;

	/* Within the range, so after 1970. */
	if (len > TIME_LEN || time_fault(iso, (uint32_t)len) != DATE_OK || !rove_cal_parse_time(iso, len, &t, zoned))
		return false;
	*ms = (uint64_t)t;
	return true;
}

/* ---- e-mail addresses ---- */

/* Why s is not an e-mail address, or NULL. */
static const char *email_fault(const char *s, size_t len)
{
	const char *at = memchr(s, '@', len), *dom;
	size_t dlen;

	if (at == NULL)
		return "it has no @";
	if (at == s)
		return "nothing comes before the @";
	dom = at + 1;
	dlen = len - (size_t)(dom - s);
	if (memchr(dom, '@', dlen) != NULL)
		return "it has more than one @";
	if (dlen == 0 || memchr(dom, '.', dlen) == NULL || dom[0] == '.' || dom[dlen - 1] == '.')
		return "what follows the @ is not a domain";
	for (size_t i = 0; i < len; i++)
		if (s[i] == ' ' || (i + 3 <= len && memcmp(s + i, "\xe3\x80\x80", 3) == 0))
			return "it has a space";
	return NULL;
}

/* ---- values ---- */

/* Whether cp shows nothing: a space of any width, a line break, or a
 * format character that is invisible on its own (zero-width space and
 * joiners, word joiner, byte order mark). */
static bool invisible(uint32_t cp)
{
	return cp == ' ' || cp == '\t' || cp == '\n' || cp == 0xa0 || cp == 0x180e || (cp >= 0x2000 && cp <= 0x200d) ||
	       cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x2060 || cp == 0x3000 ||
	       cp == 0xfeff;
}

/* Nothing that shows: blank (a required text must show something). */
static bool blank(const char *s, size_t len);

bool rove_schema_blank(const char *s, size_t len)
{
	return blank(s, len);
}

static bool blank(const char *s, size_t len)
{
	uint32_t cp;

	for (size_t i = 0, k; i < len; i += k) {
		k = rove_utf8_next(s + i, len - i, &cp);
		if (k == 0 || !invisible(cp))
			return false;
	}
	return true;
}

/* 1 to ROVE_MAX_NAME ASCII letters, digits and characters of extra (by
 * hand: isalnum follows the locale). */
/* 1 to ROVE_MAX_NAME ASCII letters, digits and extra, beginning with a
 * letter or a digit (so that no name reads as an option, "-x", or as a
 * path, "." or ".."). */
static bool valid_chars(const char *s, size_t len, const char *extra)
{
	if (len == 0 || len > ROVE_MAX_NAME || !isalnum((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (c != '\0' && strchr(extra, c) != NULL)))
			return false;
	}
	return true;
}

bool rove_login_valid(const char *s, size_t len)
{
	return valid_chars(s, len, "._-@");
}

bool rove_code_valid(const char *s, size_t len)
{
	return valid_chars(s, len, "._-");
}

bool rove_login_reserved(const char *login)
{
	return rove_name_same(login, strlen(login), ROVE_SYSTEM_USER, strlen(ROVE_SYSTEM_USER));
}

void rove_target_id(const char *user, const char *period, rove_uuid *out)
{
	char name[sizeof("target::") + ROVE_MAX_NAME + ROVE_MAX_NAME];

	snprintf(name, sizeof(name), "target:%s:%s", user, period);
	rove_uuid_from_name(out, name);
}

bool rove_name_same(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++) {
		char x = a[i] >= 'A' && a[i] <= 'Z' ? (char)(a[i] - 'A' + 'a') : a[i];
		char y = b[i] >= 'A' && b[i] <= 'Z' ? (char)(b[i] - 'A' + 'a') : b[i];
		if (x != y)
			return false;
	}
	return true;
}

/* Money, counts and flags. */
static int check_number(const rove_field_def *fd, const rove_value *v, char *why, size_t whylen)
{
	if (v->type != ROVE_V_INT)
		return rove_text_why(why, whylen, "%s must be a number", fd->name);
	if (fd->type == ROVE_FT_BOOL && v->i != 0 && v->i != 1)
		return rove_text_why(why, whylen, "%s must be 0 or 1", fd->name);
	if (v->i < 0)
		return rove_text_why(why, whylen, "%s cannot be negative", fd->name);
	if (fd->type == ROVE_FT_INT && v->i > ROVE_MAX_COUNT)
		return rove_text_why(why, whylen, "%s is more than %d", fd->name, ROVE_MAX_COUNT);
	if (fd->type == ROVE_FT_MONEY && v->i > ROVE_MAX_MONEY_CENTS)
		return rove_text_why(why, whylen, "%s is more than %lld.%02lld", fd->name, ROVE_MAX_MONEY_CENTS / 100,
			     ROVE_MAX_MONEY_CENTS % 100);
	return ROVE_OK;
}

/* A time with its offset from UTC (ISO 8601): YYYY-MM-DDTHH:MM[:SS]
 * then +HH:MM, +HHMM or +HH (or -), the offset at most 14 hours (the
 * world's zones span -12 to +14): *ms gets the time in UTC. False for
 * anything else. */
static bool offset_time(const char *s, size_t len, int64_t *ms)
{
	size_t base = len > 19 && (s[19] == '+' || s[19] == '-') ? 19 : 16;
	const char *o = s + base;
	size_t olen = len - base;
	int64_t t;
	int oh, om = 0;
	bool zoned;

	if (len <= base || (o[0] != '+' && o[0] != '-') || (olen != 3 && olen != 5 && olen != 6))
		return false;
	for (size_t i = 1; i < olen; i++)
		if (!(olen == 6 && i == 3 ? o[i] == ':' : o[i] >= '0' && o[i] <= '9'))
			return false;
	oh = (o[1] - '0') * 10 + (o[2] - '0');
	if (olen > 3)
		om = (o[olen - 2] - '0') * 10 + (o[olen - 1] - '0');
	if (oh * 60 + om > 14 * 60 || om > 59 || !rove_cal_parse_time(s, base, &t, &zoned) || zoned)
		return false;
	*ms = t - (o[0] == '-' ? -1 : 1) * ((int64_t)oh * 60 + om) * 60000;
	return true;
}

/* A time with its offset from UTC (offset_time) in the stored form, UTC
 * with seconds, into out: DATE_OK, DATE_RANGE (out of range in UTC), or
 * DATE_SHAPE (no such time). */
static int offset_utc(const char *s, size_t len, char out[TIME_LEN + 1])
{
	int64_t ms;

	if (!offset_time(s, len, &ms))
		return DATE_SHAPE;
	if (ms < 0)
		return DATE_RANGE;
	rove_cal_time((uint64_t)ms, out);
	return time_fault(out, TIME_LEN) == DATE_OK ? DATE_OK : DATE_RANGE;
}

/* A date, time or month. */
static int check_when(const rove_field_def *fd, const rove_value *v, char *why, size_t whylen)
{
	char q[ROVE_TEXT_QUOTE_BUF];
	const char *shape = "YYYY-MM-DD", *min = ROVE_DATE_MIN, *max = ROVE_DATE_MAX;
	int f;

	if (fd->type == ROVE_FT_TIME) {
		char utc[TIME_LEN + 1];
		shape = "YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM]; Z for UTC, +HH:MM or -HH:MM its offset from "
			"UTC, else local time";
		f = time_fault(v->s, v->len);
		if (f == DATE_SHAPE)
			f = offset_utc(v->s, v->len, utc);
	} else if (fd->type == ROVE_FT_MONTH) {
		shape = "YYYY-MM";
		f = v->len == 7 ? date_fault(v->s, 7) : DATE_SHAPE;
	} else {
		f = v->len == 10 ? date_fault(v->s, 10) : DATE_SHAPE;
	}
	if (f == DATE_SHAPE)
		return rove_text_why(why, whylen, "invalid %s '%s' (expected %s)", fd->name, rove_text_quote(v->s, v->len, q), shape);
	if (f == DATE_RANGE)
		return rove_text_why(why, whylen, "%s '%s' is out of range (%.*s to %.*s)", fd->name,
			     rove_text_quote(v->s, v->len, q), fd->type == ROVE_FT_MONTH ? 7 : 10, min,
			     fd->type == ROVE_FT_MONTH ? 7 : 10, max);
	return ROVE_OK;
}

int rove_schema_check_value(const rove_field_def *fd, const rove_value *v, char *why, size_t whylen)
{
	char q[ROVE_TEXT_QUOTE_BUF], part[96];
	const char *problem;
	size_t nchars = 0;
	uint32_t bad = 0;
	bool ok = true;

	if (v->type == ROVE_V_NULL) {
		if (fd->flags & ROVE_FF_REQUIRED)
			return rove_text_why(why, whylen, "%s cannot be empty", fd->name);
		return ROVE_OK;
	}
	if (fd->type == ROVE_FT_MONEY || fd->type == ROVE_FT_INT || fd->type == ROVE_FT_BOOL)
		return check_number(fd, v, why, whylen);
	if (v->type != ROVE_V_STR)
		return rove_text_why(why, whylen, "%s must be text", fd->name);
	switch (rove_text_check(v->s, v->len, (fd->flags & ROVE_FF_LINES) ? ROVE_TEXT_ALLOW_LINES : 0, &bad,
				&nchars)) {
	case ROVE_TEXT_OK:
		break;
	case ROVE_TEXT_NOT_UTF8:
		return rove_text_why(why, whylen, "%s '%s' is not valid UTF-8 text", fd->name, rove_text_quote(v->s, v->len, q));
	case ROVE_TEXT_LINE_BREAK:
		return rove_text_why(why, whylen, "%s cannot hold a line break (only notes and addresses can)", fd->name);
	default:
		return rove_text_why(why, whylen, "%s '%s' has a control character (U+%04X)", fd->name,
			     rove_text_quote(v->s, v->len, q), (unsigned)bad);
	}
	/* Free-form values have a length; the others a shape of their own. */
	if ((fd->type == ROVE_FT_STR || fd->type == ROVE_FT_PHONE || fd->type == ROVE_FT_EMAIL ||
	     fd->type == ROVE_FT_CODE || fd->type == ROVE_FT_LOGIN) &&
	    nchars > fd->maxlen)
		return rove_text_why(why, whylen, "%s is longer than %u characters", fd->name, fd->maxlen);
	switch (fd->type) {
	case ROVE_FT_STR:
		if ((fd->flags & ROVE_FF_REQUIRED) && blank(v->s, v->len))
			return rove_text_why(why, whylen, "%s cannot be blank", fd->name);
		break;
	case ROVE_FT_ENUM:
		ok = false;
		for (const char *const *e = fd->values; *e != NULL; e++)
			if (strlen(*e) == v->len && memcmp(*e, v->s, v->len) == 0)
				ok = true;
		break;
	case ROVE_FT_DATE:
	case ROVE_FT_TIME:
	case ROVE_FT_MONTH:
		return check_when(fd, v, why, whylen);
	case ROVE_FT_REF: {
		char buf[ROVE_UUID_STRLEN + 1];
		rove_uuid u;
		ok = v->len == ROVE_UUID_STRLEN;
		if (ok) {
			memcpy(buf, v->s, v->len);
			buf[v->len] = '\0';
			ok = rove_uuid_parse(buf, &u) == ROVE_OK && !rove_uuid_is_nil(&u); /* nil: no record's */
		}
		break;
	}
	case ROVE_FT_CODE:
		ok = rove_code_valid(v->s, v->len);
		break;
	case ROVE_FT_LOGIN:
		ok = rove_login_valid(v->s, v->len);
		break;
	case ROVE_FT_TAXID:
		if (!rove_taxid_valid(v->s, v->len, part, sizeof(part)))
			return rove_text_why(why, whylen, "%s '%s' is not a 统一社会信用代码: %s", fd->name,
				     rove_text_quote(v->s, v->len, q), part);
		break;
	case ROVE_FT_PHONE:
		problem = rove_phone_fault(v->s, v->len, part, sizeof(part));
		if (problem != NULL)
			return rove_text_why(why, whylen, "%s '%s' is not a phone number: %s", fd->name,
				     rove_text_quote(v->s, v->len, q), problem);
		break;
	case ROVE_FT_EMAIL:
		problem = email_fault(v->s, v->len);
		if (problem != NULL)
			return rove_text_why(why, whylen, "%s '%s' is not an e-mail address: %s", fd->name,
				     rove_text_quote(v->s, v->len, q), problem);
		break;
	default:
		ok = false;
	}
	if (ok)
		return ROVE_OK;
	if (fd->type == ROVE_FT_ENUM) {
		char list[128] = "";
		for (const char *const *e = fd->values; *e != NULL; e++) {
			strncat(list, *e, sizeof(list) - strlen(list) - 1);
			if (e[1] != NULL)
				strncat(list, ", ", sizeof(list) - strlen(list) - 1);
		}
		return rove_text_why(why, whylen, "%s must be one of: %s", fd->name, list);
	}
	return rove_text_why(why, whylen, "invalid %s '%s'", fd->name, rove_text_quote(v->s, v->len, q));
}

/* Units and cents ("12000.50", "-3", "0.5") into cents; ROVE_EINVAL for
 * anything else or past int64. The sign is the value check's to refuse,
 * with a clearer message. */
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
		if (units > (INT64_MAX / 100 - 9) / 10) {
			while (isdigit((unsigned char)*p))
				p++;
			/* a number too large to hold, or no number at all */
			return *p == '\0' || (*p == '.' && isdigit((unsigned char)p[1])) ? ROVE_ETOOBIG : ROVE_EINVAL;
		}
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
	char q[ROVE_TEXT_QUOTE_BUF];
	size_t len;

	if (text[0] == '\0') {
		*v = rove_vnull();
		return rove_schema_check_value(fd, v, why, whylen);
	}
	if ((fd->type == ROVE_FT_MONEY || fd->type == ROVE_FT_INT || fd->type == ROVE_FT_BOOL) && text[0] == '-' &&
	    (isdigit((unsigned char)text[1]) || text[1] == '.')) {
		/* "-0" is no negative number, but a sign rove never writes */
		if (strspn(text + 1, "0.") == strlen(text + 1) && strchr(text + 1, '0') != NULL)
			return rove_text_why(why, whylen, "%s '%s' has a minus sign: write 0", fd->name,
					     rove_text_quote(text, strlen(text), q));
		return rove_text_why(why, whylen, "%s cannot be negative", fd->name);
	}
	if (fd->type == ROVE_FT_MONEY) {
		int64_t cents;
		int prc = parse_money(text, &cents);
		if (prc == ROVE_ETOOBIG)
			return rove_text_why(why, whylen, "%s is more than %lld.%02lld", fd->name, ROVE_MAX_MONEY_CENTS / 100,
					     ROVE_MAX_MONEY_CENTS % 100);
		if (prc != ROVE_OK)
			return rove_text_why(why, whylen, "invalid %s '%s' (write units, e.g. 12000.50)", fd->name,
				     rove_text_quote(text, strlen(text), q));
		*v = rove_vint(cents);
		return rove_schema_check_value(fd, v, why, whylen);
	}
	if (fd->type == ROVE_FT_INT || fd->type == ROVE_FT_BOOL) {
		char *end;
		long long n;
		if (!isdigit((unsigned char)text[0]) && text[0] != '-')
			return rove_text_why(why, whylen, "invalid number '%s' for %s", rove_text_quote(text, strlen(text), q),
				     fd->name);
		errno = 0;
		n = strtoll(text, &end, 10);
		if (errno != 0 || *end != '\0')
			return rove_text_why(why, whylen, "invalid number '%s' for %s", rove_text_quote(text, strlen(text), q),
				     fd->name);
		*v = rove_vint(n);
		return rove_schema_check_value(fd, v, why, whylen);
	}
	len = strlen(text);
	/* over in characters too (a character is at most 4 bytes): said as
	 * the field's own limit, as a shorter value over it is */
	if (len > ROVE_MAX_STR && fd->maxlen > 0 && len > 4u * (size_t)fd->maxlen &&
	    (fd->type == ROVE_FT_STR || fd->type == ROVE_FT_PHONE || fd->type == ROVE_FT_EMAIL ||
	     fd->type == ROVE_FT_CODE || fd->type == ROVE_FT_LOGIN))
		return rove_text_why(why, whylen, "%s is longer than %u characters", fd->name, fd->maxlen);
	if (len > ROVE_MAX_STR)
		return rove_text_why(why, whylen, "%s is longer than %u bytes", fd->name, ROVE_MAX_STR);
	*v = rove_vstr(text, (uint32_t)len);
	if (fd->type == ROVE_FT_TAXID) {
		/* Checked as rove_schema_clean_op will store it, quoted as
		 * it was typed. */
		char norm[ROVE_MAX_STR + 1], part[96];
		size_t n = rove_taxid_normalise(text, len, norm, sizeof(norm));
		rove_value nv = rove_vstr(norm, (uint32_t)n);
		int rc;

		assert(n <= len); /* normalising never lengthens */
		rc = rove_schema_check_value(fd, &nv, why, whylen);
		if (rc != ROVE_OK && rove_text_check(norm, n, 0, NULL, NULL) == ROVE_TEXT_OK &&
		    !rove_taxid_valid(norm, n, part, sizeof(part)))
			rove_text_why(why, whylen, "%s '%s' is not a 统一社会信用代码: %s", fd->name, rove_text_quote(text, len, q),
			      part);
		return rc;
	}
	return rove_schema_check_value(fd, v, why, whylen);
}

int rove_schema_check_op(const rove_op *op, char *why, size_t whylen)
{
	const rove_coll_def *c = rove_schema_coll(op->coll);
	char q[ROVE_TEXT_QUOTE_BUF];

	if (c == NULL)
		return rove_text_why(why, whylen, "unknown collection %u", op->coll);
	if (op->kind < ROVE_OP_CREATE || op->kind > ROVE_OP_KIND_MAX)
		return rove_text_why(why, whylen, "unknown op kind %u", op->kind);
	if (rove_uuid_is_nil(&op->rid))
		return rove_text_why(why, whylen, "a record's id cannot be the nil UUID");
	for (uint32_t i = 0; i < op->fs.n; i++) {
		const rove_field *f = &op->fs.f[i];
		const rove_field_def *fd;
		int rc;

		if (strcmp(f->name, ROVE_FIELD_DELETED) == 0) {
			if (f->v.type != ROVE_V_INT)
				return rove_text_why(why, whylen, "%s must be a number", f->name);
			continue;
		}
		fd = rove_schema_field(c, f->name);
		if (fd == NULL)
			return rove_text_why(why, whylen, "unknown field '%s' for %s", rove_text_quote(f->name, strlen(f->name), q),
				     c->name);
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
			if (f == NULL || f->v.type == ROVE_V_NULL)
				return rove_text_why(why, whylen, "%s is required", fd->name);
		}
	}
	return ROVE_OK;
}

/* A valid schema time (time_fault says DATE_OK) in the one form it is
 * stored in, UTC with seconds (YYYY-MM-DDTHH:MM:SSZ), into out. A time
 * without a zone, or a date alone (its first minute), is local time where
 * the op is made: this process's zone (TZ). ROVE_EINVAL, with why, if
 * that falls outside ROVE_DATE_MIN..ROVE_DATE_MAX in UTC. */
static int time_utc(const rove_field_def *fd, const rove_value *v, char out[TIME_LEN + 1], char *why, size_t whylen)
{
	char q[ROVE_TEXT_QUOTE_BUF];
	struct tm tm;
	time_t t;

	if (v->len == TIME_LEN) {
		memcpy(out, v->s, TIME_LEN);
		out[TIME_LEN] = '\0';
		return ROVE_OK;
	}
	if (v->len == 17) { /* YYYY-MM-DDTHH:MMZ */
		snprintf(out, TIME_LEN + 1, "%.16s:00Z", v->s);
		return ROVE_OK;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (v->s[0] - '0') * 1000 + (v->s[1] - '0') * 100 + (v->s[2] - '0') * 10 + (v->s[3] - '0') - 1900;
	tm.tm_mon = (v->s[5] - '0') * 10 + (v->s[6] - '0') - 1;
	tm.tm_mday = (v->s[8] - '0') * 10 + (v->s[9] - '0');
	if (v->len >= 16) {
		tm.tm_hour = (v->s[11] - '0') * 10 + (v->s[12] - '0');
		tm.tm_min = (v->s[14] - '0') * 10 + (v->s[15] - '0');
	}
	if (v->len == 19)
		tm.tm_sec = (v->s[17] - '0') * 10 + (v->s[18] - '0');
	tm.tm_isdst = -1; /* whatever the zone's rules say for that day */
	t = mktime(&tm);
	if (t != (time_t)-1 && t >= 0)
		rove_cal_time((uint64_t)t * 1000, out);
	if (t == (time_t)-1 || t < 0 || time_fault(out, TIME_LEN) != DATE_OK)
		return rove_text_why(why, whylen, "%s '%s' is out of range in UTC (%s to %s)", fd->name, rove_text_quote(v->s, v->len, q),
			     ROVE_DATE_MIN, ROVE_DATE_MAX);
	return ROVE_OK;
}

int rove_schema_clean_op(rove_op *op, char *why, size_t whylen)
{
	const rove_coll_def *c = rove_schema_coll(op->coll);

	for (uint32_t i = 0; c != NULL && i < op->fs.n; i++) {
		const rove_field_def *fd = rove_schema_field(c, op->fs.f[i].name);
		const rove_value *v = &op->fs.f[i].v;
		char norm[ROVE_MAX_STR + 1];
		size_t n;
		int rc;

		int f = fd != NULL && fd->type == ROVE_FT_TIME && v->type == ROVE_V_STR ? offset_utc(v->s, v->len, norm)
											: DATE_SHAPE;
		if (f != DATE_SHAPE) {
			/* With its offset: stored in UTC, as the rest. */
			char q[ROVE_TEXT_QUOTE_BUF];
			if (f != DATE_OK)
				return rove_text_why(why, whylen, "%s '%s' is out of range in UTC (%s to %s)", fd->name,
						     rove_text_quote(v->s, v->len, q), ROVE_DATE_MIN, ROVE_DATE_MAX);
			rc = rove_op_set(op, fd->name, rove_vstr(norm, TIME_LEN));
			if (rc != ROVE_OK) {
				rove_text_why(why, whylen, "cannot store the normalised %s: %s", fd->name, rove_strerror(rc));
				return rc;
			}
			continue;
		}
		if (fd != NULL && fd->type == ROVE_FT_TIME && v->type == ROVE_V_STR &&
		    time_fault(v->s, v->len) == DATE_OK) {
			/* Times in one form (what is no time, the check refuses). */
			rc = time_utc(fd, v, norm, why, whylen);
			if (rc == ROVE_OK && (v->len != TIME_LEN || memcmp(norm, v->s, TIME_LEN) != 0))
				rc = rove_op_set(op, fd->name, rove_vstr(norm, TIME_LEN));
			if (rc != ROVE_OK && rc != ROVE_EINVAL)
				rove_text_why(why, whylen, "cannot store the normalised %s: %s", fd->name, rove_strerror(rc));
			if (rc != ROVE_OK)
				return rc;
			continue;
		}
		if (fd != NULL && fd->type == ROVE_FT_REF && v->type == ROVE_V_STR && v->len == ROVE_UUID_STRLEN) {
			/* A record's id as ids are written everywhere, in lower
			 * case (what is no id, the check refuses): indexes read
			 * it parsed, but lists and the feed compare it as text. */
			rove_uuid id;
			memcpy(norm, v->s, v->len);
			norm[v->len] = '\0';
			if (rove_uuid_parse(norm, &id) != ROVE_OK)
				continue;
			rove_uuid_format(&id, norm);
			if (memcmp(norm, v->s, v->len) == 0)
				continue;
			rc = rove_op_set(op, fd->name, rove_vstr(norm, ROVE_UUID_STRLEN));
			if (rc != ROVE_OK) {
				rove_text_why(why, whylen, "cannot store the normalised %s: %s", fd->name, rove_strerror(rc));
				return rc;
			}
			continue;
		}
		if (fd == NULL || fd->type != ROVE_FT_TAXID || v->type != ROVE_V_STR)
			continue;
		n = rove_taxid_normalise(v->s, v->len, norm, sizeof(norm));
		assert(n <= v->len); /* normalising never lengthens */
		if (n == v->len && memcmp(norm, v->s, n) == 0)
			continue;
		/* An existing field: it keeps its place in op->fs. */
		rc = rove_op_set(op, fd->name, rove_vstr(norm, (uint32_t)n));
		if (rc != ROVE_OK) {
			rove_text_why(why, whylen, "cannot store the normalised %s: %s", fd->name, rove_strerror(rc));
			return rc;
		}
	}
	return rove_schema_check_op(op, why, whylen);
}

static const char *const role_names[] = {NULL, "rep", "manager", "analyst", "admin"};

const char *rove_role_name(int role)
{
	if (role < ROVE_ROLE_REP || role > ROVE_ROLE_ADMIN)
		return "unknown";
	return role_names[role];
}

const char *rove_role_with_article(int role)
{
	static const char *const with[] = {"a user of unknown role", "a rep", "a manager", "an analyst", "an admin"};

	return with[role < ROVE_ROLE_REP || role > ROVE_ROLE_ADMIN ? 0 : role];
}

const char *rove_article(const char *noun)
{
	return noun != NULL && noun[0] != '\0' && strchr("aeiou", noun[0]) != NULL ? "an" : "a";
}

int rove_role_parse(const char *name)
{
	for (int r = ROVE_ROLE_REP; r <= ROVE_ROLE_ADMIN; r++)
		if (strcmp(role_names[r], name) == 0)
			return r;
	return 0;
}
