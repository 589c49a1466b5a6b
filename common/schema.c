#include "schema.h"

#include "calendar.h"
#include "err.h"
#include "rove_assert.h"
#include "text.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
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
	for (size_t i = 0; i < c->nfields; i++)
		if (strcmp(c->fields[i].name, name) == 0)
			return &c->fields[i];
	return NULL;
}

/* ---- messages ---- */

/* A value quoted in a message: at most QUOTE_MAX bytes shown, then "...". */
#define QUOTE_MAX 40
#define QUOTE_BUF (QUOTE_MAX + 4)

/* s as a message shows it: control characters and bad bytes escaped
 * (rove_text_show), cut to QUOTE_MAX bytes. */
static const char *quote(const char *s, size_t len, char out[QUOTE_BUF])
{
	if (rove_text_show(s, len, 0, out, QUOTE_MAX + 1) > QUOTE_MAX)
		strcat(out, "...");
	return out;
}

/* Writes a message into why, cut (if it must be) between characters, so
 * that why stays UTF-8; returns ROVE_EINVAL. */
__attribute__((format(printf, 3, 4))) static int fault(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;
	size_t len;
	uint32_t cp;

	if (whylen == 0)
		return ROVE_EINVAL;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	len = strlen(why);
	/* Only a cut can leave a character unfinished, at the end. */
	for (size_t i = 0, k; i < len; i += k) {
		k = rove_utf8_next(why + i, len - i, &cp);
		if (cp == ROVE_UTF8_BAD) {
			why[i] = '\0';
			break;
		}
	}
	return ROVE_EINVAL;
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

/* ---- tax ids (统一社会信用代码, GB 32100-2015) ---- */

/* Its 31 characters, in the order of their values 0..30 (no I, O, S, V, Z). */
static const char taxid_alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

static int taxid_value(char ch)
{
	const char *p = ch != '\0' ? strchr(taxid_alphabet, ch) : NULL;

	return p != NULL ? (int)(p - taxid_alphabet) : -1;
}

char rove_taxid_check_char(const char first17[ROVE_TAXID_LEN - 1])
{
	unsigned sum = 0, weight = 1; /* position i (from 0) weighs 3^i mod 31 */

	for (int i = 0; i < ROVE_TAXID_LEN - 1; i++) {
		int v = taxid_value(first17[i]);
		if (v < 0)
			return '\0';
		sum += (unsigned)v * weight;
		weight = weight * 3 % 31;
	}
	return taxid_alphabet[(31 - sum % 31) % 31];
}

size_t rove_taxid_normalise(const char *in, size_t len, char *out, size_t outlen)
{
	size_t n = 0, w = 0; /* the normalised length; the bytes written */
	uint32_t cp;

	assert(outlen > 0);
	for (size_t i = 0, k; i < len; i += k) {
		k = rove_utf8_next(in + i, len - i, &cp);
		if (cp >= 0xff01 && cp <= 0xff5e)
			cp -= 0xfee0; /* full-width ASCII, from a Chinese input method */
		if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0x3000 || cp == '-' ||
		    (cp >= 0x2010 && cp <= 0x2015) || cp == 0x2212)
			continue; /* spaces, hyphens and dashes */
		if (cp < 0x80) {
			if (w == n && w + 1 < outlen)
				out[w++] = (char)toupper((int)cp);
			n++;
			continue;
		}
		/* Anything else is kept as it is, for the check to refuse;
		 * once something did not fit, nothing more is written. */
		if (w == n && w + k < outlen) {
			memcpy(out + w, in + i, k);
			w += k;
		}
		n += k;
	}
	out[w] = '\0';
	return n;
}

bool rove_taxid_valid(const char *s, size_t len, char *why, size_t whylen)
{
	char q[QUOTE_BUF];
	size_t nchars = 0;

	if (rove_text_check(s, len, 0, NULL, &nchars) != ROVE_TEXT_OK) {
		fault(why, whylen, "it is not text");
		return false;
	}
	if (nchars != ROVE_TAXID_LEN) {
		fault(why, whylen, "it has %zu characters, not %u", nchars, ROVE_TAXID_LEN);
		return false;
	}
	for (size_t i = 0, k; i < len; i += k) {
		uint32_t cp;
		k = rove_utf8_next(s + i, len - i, &cp);
		if (k != 1 || taxid_value(s[i]) < 0) {
			fault(why, whylen, "'%s' is not one of its characters", quote(s + i, k, q));
			return false;
		}
	}
	if (rove_taxid_check_char(s) != s[ROVE_TAXID_LEN - 1]) {
		fault(why, whylen, "its check character does not match");
		return false;
	}
	return true;
}

/* ---- phone numbers ---- */

/* Digits a scan keeps: more than any valid number has (normalising old
 * data that is no phone number keeps what fits). */
#define PHONE_SCAN_DIGITS 64

typedef struct phone_scan {
	bool plus;                    /* a + before the first digit */
	char main[PHONE_SCAN_DIGITS]; /* the number's digits (the first ones) */
	size_t nmain;                 /* how many there were */
	bool has_ext;                 /* an extension marker came */
	char ext[PHONE_SCAN_DIGITS];  /* the extension's digits */
	size_t next;
	const char *bad; /* the first character no phone number holds, or NULL */
	size_t badlen;
} phone_scan;

static bool ascii_prefix_ci(const char *s, size_t len, const char *p)
{
	size_t n = strlen(p);

	if (len < n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (tolower((unsigned char)s[i]) != (unsigned char)p[i])
			return false;
	return true;
}

/* Bytes of an extension marker at s, or 0. */
static size_t ext_marker(const char *s, size_t len)
{
	static const char *const markers[] = {
		"\xe5\x88\x86\xe6\x9c\xba" /* 分机 */, "\xe8\xbd\xac" /* 转 */, "ext.", "ext", "x", "#",
	};

	for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++)
		if (ascii_prefix_ci(s, len, markers[i]))
			return strlen(markers[i]);
	return 0;
}

static void keep_digit(char *buf, size_t *n, char d)
{
	if (*n < PHONE_SCAN_DIGITS)
		buf[*n] = d;
	(*n)++;
}

/* Reads a phone number: digits (full-width too), a leading +, the
 * punctuation people write (spaces, - . ( ) /) and an extension. */
static void phone_read(const char *s, size_t len, phone_scan *p)
{
	memset(p, 0, sizeof(*p));
	for (size_t i = 0, k; i < len; i += k) {
		uint32_t cp;
		size_t m;

		k = rove_utf8_next(s + i, len - i, &cp);
		if (cp >= 0xff01 && cp <= 0xff5e)
			cp -= 0xfee0; /* full-width ASCII */
		else if (cp == 0x3000)
			cp = ' ';
		if (cp >= '0' && cp <= '9') {
			if (p->has_ext)
				keep_digit(p->ext, &p->next, (char)cp);
			else
				keep_digit(p->main, &p->nmain, (char)cp);
		} else if (cp == ' ' || cp == '-' || cp == '.' || cp == '(' || cp == ')' || cp == '/') {
			continue;
		} else if (cp == '+' && !p->plus && p->nmain == 0) {
			p->plus = true;
		} else if (!p->has_ext && p->nmain > 0 && (m = ext_marker(s + i, len - i)) > 0) {
			p->has_ext = true;
			k = m;
		} else if (p->bad == NULL) {
			p->bad = s + i;
			p->badlen = k;
		}
	}
}

/* Why s is not a phone number (in buf, or a constant), or NULL. */
static const char *phone_fault(const char *s, size_t len, char *buf, size_t buflen)
{
	char q[QUOTE_BUF];
	phone_scan p;

	phone_read(s, len, &p);
	if (p.bad != NULL && *p.bad == '+')
		return "a + goes only before the country code";
	if (p.bad != NULL) {
		fault(buf, buflen, "'%s' is not allowed", quote(p.bad, p.badlen, q));
		return buf;
	}
	if (p.nmain < ROVE_PHONE_MIN_DIGITS) {
		fault(buf, buflen, "it has fewer than %d digits", ROVE_PHONE_MIN_DIGITS);
		return buf;
	}
	if (p.nmain > ROVE_PHONE_MAX_DIGITS) {
		fault(buf, buflen, "it has more than %d digits", ROVE_PHONE_MAX_DIGITS);
		return buf;
	}
	if (p.has_ext && p.next == 0)
		return "the extension has no digits";
	if (p.next > ROVE_PHONE_MAX_EXT) {
		fault(buf, buflen, "the extension has more than %d digits", ROVE_PHONE_MAX_EXT);
		return buf;
	}
	return NULL;
}

/* A mainland mobile number: 11 digits, 1 then 3 to 9. */
static bool mobile(const char *d, size_t n)
{
	return n == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9';
}

static bool starts(const char *d, size_t n, const char *p)
{
	return n > 2 && d[0] == p[0] && d[1] == p[1]; /* something must follow a prefix */
}

/* Whether a mobile number follows d once the country prefixes written
 * before it (86, 0086, repeated) are gone: then a bare 86 is one too. */
static bool mobile_follows(const char *d, size_t n)
{
	for (;;) {
		if (mobile(d, n))
			return true;
		if (starts(d, n, "00"))
			d += 2, n -= 2;
		else if (starts(d, n, "86"))
			d += 2, n -= 2;
		else
			return false;
	}
}

void rove_phone_normalise(const char *in, char *out, size_t outlen)
{
	const char *cc = "", *d;
	phone_scan p;
	size_t n;
	bool intl, china = false;

	if (outlen == 0)
		return;
	phone_read(in, strlen(in), &p);
	d = p.main;
	n = p.nmain < PHONE_SCAN_DIGITS ? p.nmain : PHONE_SCAN_DIGITS;
	if (n == 0) {
		out[0] = '\0';
		return;
	}
	/* Every country prefix, in any form and however often it is
	 * written (+86, 0086, +0086, +86 0086, 86 before a mobile): a
	 * prefix written twice must not make another phone (rule 3). */
	intl = p.plus;
	for (;;) {
		if (starts(d, n, "00")) {
			d += 2, n -= 2, intl = true; /* 00: the international prefix dialled from China */
		} else if (starts(d, n, "86") && (intl || mobile_follows(d + 2, n - 2))) {
			d += 2, n -= 2, intl = false, china = true;
		} else {
			break;
		}
	}
	if (china) {
		cc = "+86";
		if (n > 0 && d[0] == '0')
			d++, n--; /* "+86 (0)21 ...": the trunk 0 does not belong after +86 */
	} else if (intl) {
		cc = "+";
	} else if (mobile(d, n)) {
		cc = "+86";
	} else if (n >= 10 && n <= 12 && d[0] == '0' && d[1] != '0') {
		cc = "+86", d++, n--; /* 0, area code, number: a mainland landline */
	}
	/* The extension is left out: a switchboard's extensions are one
	 * company's number. */
	snprintf(out, outlen, "%s%.*s", cc, (int)n, d);
}

/* ---- uniqueness keys (rule 3) ---- */

/* A phone's key keeps at most this many bytes of the normalised number
 * (a "+", a country code and the digits): more than any valid phone has
 * (ROVE_PHONE_MAX_DIGITS), and what the server's index was built with. */
#define UNIQ_PHONE_MAX 63

static const char *const uniq_fields[ROVE_UNIQ_KEYS] = {"tax_id", "phone"};

bool rove_uniq_key_make(const char *field, const char *value, rove_uniq_key *out)
{
	char *v = out->key + 4;

	if (value == NULL || value[0] == '\0')
		return false;
	if (strcmp(field, "tax_id") == 0) {
		memcpy(out->key, "tax:", 4);
		rove_taxid_normalise(value, strnlen(value, ROVE_MAX_STR), v, ROVE_UNIQ_KEY_MAX - 4 + 1);
	} else {
		ROVE_ASSERT(strcmp(field, "phone") == 0);
		memcpy(out->key, "tel:", 4);
		rove_phone_normalise(value, v, UNIQ_PHONE_MAX + 1);
	}
	if (v[0] == '\0')
		return false;
	out->field = strcmp(field, "tax_id") == 0 ? uniq_fields[0] : uniq_fields[1];
	out->len = 4 + strlen(v);
	return true;
}

int rove_uniq_keys(const rove_fields *fs, rove_uniq_key out[ROVE_UNIQ_KEYS])
{
	int n = 0;

	for (int i = 0; i < ROVE_UNIQ_KEYS; i++)
		if (rove_uniq_key_make(uniq_fields[i], rove_fields_str(fs, uniq_fields[i]), &out[n]))
			n++;
	return n;
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

/* Nothing but spaces (U+3000 too) and line breaks. */
static bool blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')
			continue;
		if (i + 3 <= len && memcmp(s + i, "\xe3\x80\x80", 3) == 0) {
			i += 2;
			continue;
		}
		return false;
	}
	return true;
}

/* 1 to ROVE_MAX_NAME ASCII letters, digits and characters of extra (by
 * hand: isalnum follows the locale). */
static bool valid_chars(const char *s, size_t len, const char *extra)
{
	if (len == 0 || len > ROVE_MAX_NAME)
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
		return fault(why, whylen, "%s must be a number", fd->name);
	if (fd->type == ROVE_FT_BOOL && v->i != 0 && v->i != 1)
		return fault(why, whylen, "%s must be 0 or 1", fd->name);
	if (v->i < 0)
		return fault(why, whylen, "%s cannot be negative", fd->name);
	if (fd->type == ROVE_FT_INT && v->i > ROVE_MAX_COUNT)
		return fault(why, whylen, "%s is more than %d", fd->name, ROVE_MAX_COUNT);
	if (fd->type == ROVE_FT_MONEY && v->i > ROVE_MAX_MONEY_CENTS)
		return fault(why, whylen, "%s is more than %lld.%02lld", fd->name, ROVE_MAX_MONEY_CENTS / 100,
			     ROVE_MAX_MONEY_CENTS % 100);
	return ROVE_OK;
}

/* A date, time or month. */
static int check_when(const rove_field_def *fd, const rove_value *v, char *why, size_t whylen)
{
	char q[QUOTE_BUF];
	const char *shape = "YYYY-MM-DD", *min = ROVE_DATE_MIN, *max = ROVE_DATE_MAX;
	int f;

	if (fd->type == ROVE_FT_TIME) {
		shape = "YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z]; Z for UTC, else local time";
		f = time_fault(v->s, v->len);
	} else if (fd->type == ROVE_FT_MONTH) {
		shape = "YYYY-MM";
		f = v->len == 7 ? date_fault(v->s, 7) : DATE_SHAPE;
	} else {
		f = v->len == 10 ? date_fault(v->s, 10) : DATE_SHAPE;
	}
	if (f == DATE_SHAPE)
		return fault(why, whylen, "invalid %s '%s' (expected %s)", fd->name, quote(v->s, v->len, q), shape);
	if (f == DATE_RANGE)
		return fault(why, whylen, "%s '%s' is out of range (%.*s to %.*s)", fd->name,
			     quote(v->s, v->len, q), fd->type == ROVE_FT_MONTH ? 7 : 10, min,
			     fd->type == ROVE_FT_MONTH ? 7 : 10, max);
	return ROVE_OK;
}

int rove_schema_check_value(const rove_field_def *fd, const rove_value *v, char *why, size_t whylen)
{
	char q[QUOTE_BUF], part[96];
	const char *problem;
	size_t nchars = 0;
	uint32_t bad = 0;
	bool ok = true;

	if (v->type == ROVE_V_NULL) {
		if (fd->flags & ROVE_FF_REQUIRED)
			return fault(why, whylen, "%s cannot be empty", fd->name);
		return ROVE_OK;
	}
	if (fd->type == ROVE_FT_MONEY || fd->type == ROVE_FT_INT || fd->type == ROVE_FT_BOOL)
		return check_number(fd, v, why, whylen);
	if (v->type != ROVE_V_STR)
		return fault(why, whylen, "%s must be text", fd->name);
	switch (rove_text_check(v->s, v->len, (fd->flags & ROVE_FF_LINES) ? ROVE_TEXT_ALLOW_LINES : 0, &bad,
				&nchars)) {
	case ROVE_TEXT_OK:
		break;
	case ROVE_TEXT_NOT_UTF8:
		return fault(why, whylen, "%s '%s' is not valid UTF-8 text", fd->name, quote(v->s, v->len, q));
	case ROVE_TEXT_LINE_BREAK:
		return fault(why, whylen, "%s cannot hold a line break (only notes and addresses can)", fd->name);
	default:
		return fault(why, whylen, "%s '%s' has a control character (U+%04X)", fd->name,
			     quote(v->s, v->len, q), (unsigned)bad);
	}
	/* Free-form values have a length; the others a shape of their own. */
	if ((fd->type == ROVE_FT_STR || fd->type == ROVE_FT_PHONE || fd->type == ROVE_FT_EMAIL ||
	     fd->type == ROVE_FT_CODE || fd->type == ROVE_FT_LOGIN) &&
	    nchars > fd->maxlen)
		return fault(why, whylen, "%s is longer than %u characters", fd->name, fd->maxlen);
	switch (fd->type) {
	case ROVE_FT_STR:
		if ((fd->flags & ROVE_FF_REQUIRED) && blank(v->s, v->len))
			return fault(why, whylen, "%s cannot be blank", fd->name);
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
			return fault(why, whylen, "%s '%s' is not a 统一社会信用代码: %s", fd->name,
				     quote(v->s, v->len, q), part);
		break;
	case ROVE_FT_PHONE:
		problem = phone_fault(v->s, v->len, part, sizeof(part));
		if (problem != NULL)
			return fault(why, whylen, "%s '%s' is not a phone number: %s", fd->name,
				     quote(v->s, v->len, q), problem);
		break;
	case ROVE_FT_EMAIL:
		problem = email_fault(v->s, v->len);
		if (problem != NULL)
			return fault(why, whylen, "%s '%s' is not an e-mail address: %s", fd->name,
				     quote(v->s, v->len, q), problem);
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
		return fault(why, whylen, "%s must be one of: %s", fd->name, list);
	}
	return fault(why, whylen, "invalid %s '%s'", fd->name, quote(v->s, v->len, q));
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
	char q[QUOTE_BUF];
	size_t len;

	if (text[0] == '\0') {
		*v = rove_vnull();
		return rove_schema_check_value(fd, v, why, whylen);
	}
	if (fd->type == ROVE_FT_MONEY) {
		int64_t cents;
		if (parse_money(text, &cents) != ROVE_OK)
			return fault(why, whylen, "invalid %s '%s' (write units, e.g. 12000.50)", fd->name,
				     quote(text, strlen(text), q));
		*v = rove_vint(cents);
		return rove_schema_check_value(fd, v, why, whylen);
	}
	if (fd->type == ROVE_FT_INT || fd->type == ROVE_FT_BOOL) {
		char *end;
		long long n;
		if (!isdigit((unsigned char)text[0]) && text[0] != '-')
			return fault(why, whylen, "invalid number '%s' for %s", quote(text, strlen(text), q),
				     fd->name);
		errno = 0;
		n = strtoll(text, &end, 10);
		if (errno != 0 || *end != '\0')
			return fault(why, whylen, "invalid number '%s' for %s", quote(text, strlen(text), q),
				     fd->name);
		*v = rove_vint(n);
		return rove_schema_check_value(fd, v, why, whylen);
	}
	len = strlen(text);
	if (len > ROVE_MAX_STR)
		return fault(why, whylen, "%s is longer than %u bytes", fd->name, ROVE_MAX_STR);
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
			fault(why, whylen, "%s '%s' is not a 统一社会信用代码: %s", fd->name, quote(text, len, q),
			      part);
		return rc;
	}
	return rove_schema_check_value(fd, v, why, whylen);
}

int rove_schema_check_op(const rove_op *op, char *why, size_t whylen)
{
	const rove_coll_def *c = rove_schema_coll(op->coll);
	char q[QUOTE_BUF];

	if (c == NULL)
		return fault(why, whylen, "unknown collection %u", op->coll);
	if (op->kind < ROVE_OP_CREATE || op->kind > ROVE_OP_KIND_MAX)
		return fault(why, whylen, "unknown op kind %u", op->kind);
	if (rove_uuid_is_nil(&op->rid))
		return fault(why, whylen, "a record's id cannot be the nil UUID");
	for (uint32_t i = 0; i < op->fs.n; i++) {
		const rove_field *f = &op->fs.f[i];
		const rove_field_def *fd;
		int rc;

		if (strcmp(f->name, ROVE_FIELD_DELETED) == 0) {
			if (f->v.type != ROVE_V_INT)
				return fault(why, whylen, "%s must be a number", f->name);
			continue;
		}
		fd = rove_schema_field(c, f->name);
		if (fd == NULL)
			return fault(why, whylen, "unknown field '%s' for %s", quote(f->name, strlen(f->name), q),
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
				return fault(why, whylen, "%s is required", fd->name);
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
	char q[QUOTE_BUF];
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
		return fault(why, whylen, "%s '%s' is out of range in UTC (%s to %s)", fd->name, quote(v->s, v->len, q),
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

		if (fd != NULL && fd->type == ROVE_FT_TIME && v->type == ROVE_V_STR &&
		    time_fault(v->s, v->len) == DATE_OK) {
			/* Times in one form (what is no time, the check refuses). */
			rc = time_utc(fd, v, norm, why, whylen);
			if (rc == ROVE_OK && (v->len != TIME_LEN || memcmp(norm, v->s, TIME_LEN) != 0))
				rc = rove_op_set(op, fd->name, rove_vstr(norm, TIME_LEN));
			if (rc != ROVE_OK && rc != ROVE_EINVAL)
				fault(why, whylen, "cannot store the normalised %s: %s", fd->name, rove_strerror(rc));
			if (rc != ROVE_OK)
				return rc;
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
			fault(why, whylen, "cannot store the normalised %s: %s", fd->name, rove_strerror(rc));
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

int rove_role_parse(const char *name)
{
	for (int r = ROVE_ROLE_REP; r <= ROVE_ROLE_ADMIN; r++)
		if (strcmp(role_names[r], name) == 0)
			return r;
	return 0;
}
