/* ident.c - a customer's identifiers: tax ids, phone numbers and the
 * uniqueness keys made of them (ident.h). */
#include "ident.h"

#include "rove_assert.h"
#include "text.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* ---- tax ids (统一社会信用代码, GB 32100-2015) ---- */

/* Its 31 characters, in the order of their values 0..30 (no I, O, S, V, Z). */
static const char taxid_alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/* Each character's value + 1 (0: not one of them): a look-up, as every
 * customer written checks its tax id's 18 characters twice. */
static const uint8_t taxid_values[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8,
	['8'] = 9, ['9'] = 10, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
	['G'] = 17, ['H'] = 18, ['J'] = 19, ['K'] = 20, ['L'] = 21, ['M'] = 22, ['N'] = 23, ['P'] = 24,
	['Q'] = 25, ['R'] = 26, ['T'] = 27, ['U'] = 28, ['W'] = 29, ['X'] = 30, ['Y'] = 31,
};

static int taxid_value(char ch)
{
	return (int)taxid_values[(unsigned char)ch] - 1;
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
		if ((unsigned char)in[i] < 0x80)
			cp = (unsigned char)in[i], k = 1; /* ASCII: most tax ids whole */
		else
			k = rove_utf8_next(in + i, len - i, &cp);
		if (cp >= 0xff01 && cp <= 0xff5e)
			cp -= 0xfee0; /* full-width ASCII, from a Chinese input method */
		if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0x3000 || cp == '-' ||
		    (cp >= 0x2010 && cp <= 0x2015) || cp == 0x2212)
			continue; /* spaces, hyphens and dashes */
		if (cp < 0x80) {
			if (w == n && w + 1 < outlen)
				out[w++] = (char)(cp >= 'a' && cp <= 'z' ? cp - ('a' - 'A') : cp);
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
	char q[ROVE_TEXT_QUOTE_BUF];
	size_t nchars = 0;

	if (rove_text_check(s, len, 0, NULL, &nchars) != ROVE_TEXT_OK) {
		rove_text_why(why, whylen, "it is not text");
		return false;
	}
	if (nchars != ROVE_TAXID_LEN) {
		rove_text_why(why, whylen, "it has %zu characters, not %u", nchars, ROVE_TAXID_LEN);
		return false;
	}
	for (size_t i = 0, k; i < len; i += k) {
		uint32_t cp;
		k = (unsigned char)s[i] < 0x80 ? 1 : rove_utf8_next(s + i, len - i, &cp);
		if (k != 1 || taxid_value(s[i]) < 0) {
			rove_text_why(why, whylen, "'%s' is not one of its characters", rove_text_quote(s + i, k, q));
			return false;
		}
	}
	if (rove_taxid_check_char(s) != s[ROVE_TAXID_LEN - 1]) {
		rove_text_why(why, whylen, "its check character does not match");
		return false;
	}
	/* GB 32100-2015's first character names the registering authority
	 * (1, 5, 9, Y, ...), never 0: 000000000000000000, whose check
	 * character matches, is a placeholder, and once one customer held
	 * it every later one was refused as its duplicate (attack
	 * sixty-eight). */
	if (s[0] == '0') {
		rove_text_why(why, whylen, "it starts with 0, no registering authority's code (leave it empty)");
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

const char *rove_phone_fault(const char *s, size_t len, char *buf, size_t buflen)
{
	char q[ROVE_TEXT_QUOTE_BUF];
	phone_scan p;

	phone_read(s, len, &p);
	if (p.bad != NULL && *p.bad == '+')
		return "a + goes only before the country code";
	if (p.bad != NULL) {
		rove_text_why(buf, buflen, "'%s' is not allowed", rove_text_quote(p.bad, p.badlen, q));
		return buf;
	}
	if (p.nmain < ROVE_PHONE_MIN_DIGITS) {
		rove_text_why(buf, buflen, "it has fewer than %d digits", ROVE_PHONE_MIN_DIGITS);
		return buf;
	}
	if (p.nmain > ROVE_PHONE_MAX_DIGITS) {
		rove_text_why(buf, buflen, "it has more than %d digits", ROVE_PHONE_MAX_DIGITS);
		return buf;
	}
	if (p.has_ext && p.next == 0)
		return "the extension has no digits";
	if (p.next > ROVE_PHONE_MAX_EXT) {
		rove_text_why(buf, buflen, "the extension has more than %d digits", ROVE_PHONE_MAX_EXT);
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
	/* snprintf(out, outlen, "%s%.*s", cc, n, d) without the format's
	 * cost: a phone is normalised for every customer written. */
	size_t cl = strlen(cc);

	if (cl > outlen - 1)
		cl = outlen - 1;
	memcpy(out, cc, cl);
	if (n > outlen - 1 - cl)
		n = outlen - 1 - cl;
	memcpy(out + cl, d, n);
	out[cl + n] = '\0';
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
	return rove_uniq_keys_memo(fs, out, NULL);
}

/* The key of field i's value (rove_uniq_key_make), from slot when it was
 * made from the same value, else made and remembered there. */
static bool uniq_key_memo(int i, const char *value, rove_uniq_key *out, rove_uniq_memo_slot *slot)
{
	size_t vlen;
	bool made;

	if (value == NULL || value[0] == '\0')
		return false;
	vlen = strnlen(value, ROVE_UNIQ_MEMO_VALUE + 1);
	if (vlen == slot->vlen && memcmp(value, slot->value, vlen) == 0) {
		if (!slot->made)
			return false;
		out->field = uniq_fields[i];
		out->len = slot->klen;
		memcpy(out->key, slot->key, slot->klen + 1);
		return true;
	}
	made = rove_uniq_key_make(uniq_fields[i], value, out);
	slot->vlen = 0;
	if (vlen <= ROVE_UNIQ_MEMO_VALUE && (!made || out->len < sizeof(slot->key))) {
		memcpy(slot->value, value, vlen);
		slot->made = made;
		slot->klen = made ? out->len : 0;
		if (made)
			memcpy(slot->key, out->key, out->len + 1);
		slot->vlen = vlen;
	}
	return made;
}

int rove_uniq_keys_memo(const rove_fields *fs, rove_uniq_key out[ROVE_UNIQ_KEYS], rove_uniq_memo *m)
{
	int n = 0;

	for (int i = 0; i < ROVE_UNIQ_KEYS; i++) {
		const char *v = rove_fields_str(fs, uniq_fields[i]);
		if (m != NULL ? uniq_key_memo(i, v, &out[n], &m->f[i]) : rove_uniq_key_make(uniq_fields[i], v, &out[n]))
			n++;
	}
	return n;
}
