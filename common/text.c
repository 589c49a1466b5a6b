#include "text.h"

#include "err.h"

#include <assert.h>
#include <stdarg.h>
#include <string.h>

size_t rove_utf8_next(const char *s, size_t len, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned char lo = 0x80, hi = 0xbf; /* the second byte's range */
	uint32_t c;
	size_t n;

	assert(len > 0);
	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	if (u[0] >= 0xc2 && u[0] <= 0xdf) {
		n = 2, c = u[0] & 0x1fu;
	} else if (u[0] >= 0xe0 && u[0] <= 0xef) {
		n = 3, c = u[0] & 0x0fu;
		if (u[0] == 0xe0)
			lo = 0xa0; /* overlong below */
		else if (u[0] == 0xed)
			hi = 0x9f; /* surrogates above */
	} else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
		n = 4, c = u[0] & 0x07u;
		if (u[0] == 0xf0)
			lo = 0x90; /* overlong below */
		else if (u[0] == 0xf4)
			hi = 0x8f; /* past U+10FFFF above */
	} else {
		*cp = ROVE_UTF8_BAD; /* a continuation byte, C0, C1 or F5..FF */
		return 1;
	}
	for (size_t i = 1; i < n; i++) {
		if (i >= len || u[i] < lo || u[i] > hi) {
			*cp = ROVE_UTF8_BAD;
			return i; /* the bytes before i began a character */
		}
		c = c << 6 | (u[i] & 0x3fu);
		lo = 0x80, hi = 0xbf;
	}
	*cp = c;
	return n;
}

/* The lower case of a letter of the scripts rove_text_fold_search folds
 * (two bytes in UTF-8, as is its lower case but İ's i), else cp. */
static uint32_t lower_2byte(uint32_t cp)
{
	if ((cp >= 0xc0 && cp <= 0xde && cp != 0xd7) || (cp >= 0x391 && cp <= 0x3ab && cp != 0x3a2) ||
	    (cp >= 0x410 && cp <= 0x42f))
		return cp + 0x20;
	if (cp >= 0x400 && cp <= 0x40f)
		return cp + 0x50;
	if (cp == 0x3c2) /* final sigma */
		return 0x3c3;
	if (cp == 0x386) /* Greek capitals with tonos */
		return 0x3ac;
	if (cp >= 0x388 && cp <= 0x38a)
		return cp + 0x25;
	if (cp == 0x38c)
		return 0x3cc;
	if (cp == 0x38e || cp == 0x38f)
		return cp + 0x3f;
	if (cp == 0x178)
		return 0xff;
	if (cp == 0x130) /* İ: i (its dot is i's) */
		return 'i';
	/* Cyrillic beyond Russian's (Ukrainian Ґ, Kazakh Қ Ң Ү, ...): pairs,
	 * the capital first, even but for one odd run; U+04C0 (palochka) */
	if ((cp >= 0x460 && cp <= 0x481) || (cp >= 0x48a && cp <= 0x4bf) || (cp >= 0x4d0 && cp <= 0x52f))
		return cp | 1u;
	if (cp >= 0x4c1 && cp <= 0x4ce)
		return (cp & 1u) ? cp + 1 : cp;
	if (cp == 0x4c0)
		return 0x4cf;
	/* Latin Extended-A: pairs, the capital first (even, or odd in two
	 * runs); U+0130, U+0131, U+0138, U+0149 and U+017F are no pair's. */
	if ((cp >= 0x100 && cp <= 0x12f) || (cp >= 0x132 && cp <= 0x137) || (cp >= 0x14a && cp <= 0x177))
		return cp | 1u;
	if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17e))
		return (cp & 1u) ? cp + 1 : cp;
	return cp;
}

/* rove_text_fold_width's folding, and with lower rove_text_fold_search's. */
static size_t fold(const char *s, size_t len, char *out, size_t outlen, bool lower)
{
	size_t o = 0;

	(void)outlen; /* the check below only */
	assert(outlen > len);
	for (size_t i = 0; i < len;) {
		unsigned char b = (unsigned char)s[i];
		uint32_t cp;
		size_t n;
		if (b < 0x80) { /* ASCII, most text: no decoding */
			out[o++] = (char)(lower && b >= 'A' && b <= 'Z' ? b - 'A' + 'a' : b);
			i++;
			continue;
		}
		n = rove_utf8_next(s + i, len - i, &cp);
		if (cp >= 0xff01 && cp <= 0xff5e) {
			cp -= 0xfee0;
			out[o++] = (char)(lower && cp >= 'A' && cp <= 'Z' ? cp - 'A' + 'a' : cp);
		} else if (cp == 0x3000) {
			out[o++] = ' ';
		} else if (lower && n == 2 && cp != ROVE_UTF8_BAD) {
			cp = lower_2byte(cp); /* two bytes, or İ's i one */
			if (cp >= 0x80)
				out[o++] = (char)(0xc0 | (cp >> 6));
			out[o++] = (char)(cp >= 0x80 ? 0x80 | (cp & 0x3f) : cp);
		} else {
			memcpy(out + o, s + i, n);
			o += n;
		}
		i += n;
	}
	out[o] = '\0';
	return o;
}

size_t rove_text_fold_width(const char *s, size_t len, char *out, size_t outlen)
{
	return fold(s, len, out, outlen, false);
}

size_t rove_text_fold_search(const char *s, size_t len, char *out, size_t outlen)
{
	return fold(s, len, out, outlen, true);
}

bool rove_text_is_control(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x200e ||
	       cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* 0x01 in every byte of a uint64_t. */
#define ONES 0x0101010101010101ull

int rove_text_check(const char *s, size_t len, unsigned allow, uint32_t *bad, size_t *nchars)
{
	size_t chars = 0;
	uint32_t cp;

	for (size_t i = 0, k; i < len; i += k, chars++) {
		/* Printable ASCII, most of what is checked, is neither
		 * ill-formed nor a control: eight bytes at a time (none below
		 * 0x20, none at 0x7f or above; a carry between bytes can only
		 * send a chunk the slow way), else one comparison, not a
		 * decode. */
		if (len - i >= 8) {
			uint64_t x;
			memcpy(&x, s + i, 8);
			if ((((x - ONES * 0x20) & ~x) | x | (x + ONES)) & (ONES * 0x80)) {
				/* not all printable ASCII: byte by byte */
			} else {
				k = 8;
				chars += 7;
				continue;
			}
		}
		if ((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f) {
			k = 1;
			continue;
		}
		k = rove_utf8_next(s + i, len - i, &cp);
		if (cp == ROVE_UTF8_BAD) {
			if (bad != NULL)
				*bad = (unsigned char)s[i];
			return ROVE_TEXT_NOT_UTF8;
		}
		if (!rove_text_is_control(cp))
			continue;
		if ((cp == '\n' || cp == '\t') && (allow & ROVE_TEXT_ALLOW_LINES))
			continue;
		if (bad != NULL)
			*bad = cp;
		return cp == '\n' ? ROVE_TEXT_LINE_BREAK : ROVE_TEXT_CONTROL;
	}
	if (nchars != NULL)
		*nchars = chars;
	return ROVE_TEXT_OK;
}

/* The longest shown unit: three ill-formed bytes as \xHH, and a NUL. */
#define SHOWN_MAX 13

/* The shown form of one unit (a character of n bytes at s, or an
 * ill-formed subpart if cp is ROVE_UTF8_BAD) into e; its length. */
static size_t shown_unit(const char *s, size_t n, uint32_t cp, unsigned flags, char e[SHOWN_MAX])
{
	static const char hex[] = "0123456789abcdef";
	size_t k = 0;

	if (cp == ROVE_UTF8_BAD) {
		assert(n <= 3);
		for (size_t i = 0; i < n; i++) {
			unsigned char b = (unsigned char)s[i];
			e[k++] = '\\', e[k++] = 'x', e[k++] = hex[b >> 4], e[k++] = hex[b & 15];
		}
		return k;
	}
	if (!rove_text_is_control(cp)) {
		memcpy(e, s, n);
		return n;
	}
	if ((cp == '\n' || cp == '\t') && (flags & ROVE_TEXT_SHOW_LINES)) {
		e[0] = (char)cp;
		return 1;
	}
	e[k++] = '\\';
	if (cp == '\n' || cp == '\r' || cp == '\t') {
		e[k++] = cp == '\n' ? 'n' : cp == '\r' ? 'r' : 't';
	} else if (cp < 0x80) {
		e[k++] = 'x', e[k++] = hex[cp >> 4], e[k++] = hex[cp & 15];
	} else {
		e[k++] = 'u';
		for (int sh = 12; sh >= 0; sh -= 4)
			e[k++] = hex[(cp >> sh) & 15];
	}
	return k;
}

size_t rove_text_show(const char *s, size_t len, unsigned flags, char *out, size_t outlen)
{
	size_t used = 0, need = 0;
	char e[SHOWN_MAX];
	uint32_t cp;

	assert(outlen > 0);
	for (size_t i = 0, k; i < len; i += k) {
		size_t elen;
		k = rove_utf8_next(s + i, len - i, &cp);
		elen = shown_unit(s + i, k, cp, flags, e);
		if (used == need && need + elen < outlen) {
			memcpy(out + used, e, elen);
			used += elen;
		}
		need += elen;
	}
	out[used] = '\0';
	return need;
}

void rove_text_put_shown(FILE *f, const char *s, size_t len, unsigned flags)
{
	char e[SHOWN_MAX];
	uint32_t cp;

	for (size_t i = 0, k; i < len; i += k) {
		k = rove_utf8_next(s + i, len - i, &cp);
		fwrite(e, 1, shown_unit(s + i, k, cp, flags, e), f);
	}
}

void rove_text_put_json(FILE *f, const char *s, size_t len)
{
	uint32_t cp;

	fputc('"', f);
	for (size_t i = 0, k; i < len; i += k) {
		k = rove_utf8_next(s + i, len - i, &cp);
		if (cp == ROVE_UTF8_BAD)
			fputs("\xef\xbf\xbd", f); /* U+FFFD */
		else if (cp == '"')
			fputs("\\\"", f);
		else if (cp == '\\')
			fputs("\\\\", f);
		else if (cp == '\n')
			fputs("\\n", f);
		else if (cp == '\r')
			fputs("\\r", f);
		else if (cp == '\t')
			fputs("\\t", f);
		else if (rove_text_is_control(cp))
			fprintf(f, "\\u%04x", (unsigned)cp);
		else
			fwrite(s + i, 1, k, f);
	}
	fputc('"', f);
}

const char *rove_text_quote(const char *s, size_t len, char out[ROVE_TEXT_QUOTE_BUF])
{
	if (rove_text_show(s, len, 0, out, ROVE_TEXT_QUOTE_MAX + 1) > ROVE_TEXT_QUOTE_MAX)
		strcat(out, "...");
	return out;
}

int rove_text_why(char *why, size_t whylen, const char *fmt, ...)
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

/* The digits at *p, as a number no greater than max (false past it,
 * before any overflow); *p moves past them. At least one digit. */
static bool digits_upto(const char **p, uint64_t max, uint64_t *out)
{
	const char *q = *p;
	uint64_t v = 0;

	if (*q < '0' || *q > '9')
		return false;
	for (; *q >= '0' && *q <= '9'; q++) {
		unsigned d = (unsigned)(*q - '0');
		if (d > max || v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*p = q;
	*out = v;
	return true;
}

bool rove_text_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v;

	if (!digits_upto(&s, max, &v) || *s != '\0')
		return false;
	*out = v;
	return true;
}

bool rove_text_seconds_ms(const char *s, uint64_t max_ms, uint64_t *ms)
{
	uint64_t secs, frac = 0;
	unsigned place = 100;
	bool past = false; /* a digit other than 0 past milliseconds */

	if (!digits_upto(&s, max_ms / 1000, &secs))
		return false;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return false;
		for (; *s >= '0' && *s <= '9'; s++, place /= 10) {
			frac += (uint64_t)(*s - '0') * place; /* 0 from the fourth digit on */
			past = past || (place == 0 && *s != '0');
		}
	}
	/* secs * 1000 <= max_ms. What lies past milliseconds is dropped,
	 * but not before the range is checked: at the maximum, it is past
	 * it however little it is. */
	if (*s != '\0' || frac > max_ms - secs * 1000 || (past && frac == max_ms - secs * 1000))
		return false;
	*ms = secs * 1000 + frac;
	return true;
}
