/*
 * text.h - UTF-8 text: decoding it strictly, telling what rove may store,
 * and writing any bytes safely as JSON or for a terminal.
 *
 * Why one module: the schema refuses text that is not UTF-8 or holds
 * control characters (SPEC rule 13), yet every printer must still cope
 * with bytes that got in before that rule or come from a hostile server.
 * Both sides need one idea of a character and of a control character.
 *
 * Shown text (rove_text_show, rove_text_put_shown) makes every control
 * character and every ill-formed byte visible as an escape: "\n", "\r",
 * "\t", "\xHH" for other C0 controls, DEL and each ill-formed byte,
 * "\uHHHH" for the other controls (C1, U+2028/9, bidi controls). A
 * backslash is left as it is, so showing shown text again changes nothing.
 */
#ifndef ROVE_TEXT_H
#define ROVE_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The code point rove_utf8_next gives for bytes that are not UTF-8. */
#define ROVE_UTF8_BAD 0xffffffffu

/* Decodes the character at s (len > 0 bytes) into *cp and returns its
 * length. Bytes that are not well-formed UTF-8 (Unicode 15, table 3-7: no
 * overlong forms, surrogates, code points past U+10FFFF or truncated
 * sequences) give ROVE_UTF8_BAD and the length of the maximal ill-formed
 * subpart, at least 1: each such subpart stands for one U+FFFD, as
 * Unicode recommends. */
size_t rove_utf8_next(const char *s, size_t len, uint32_t *cp);

/* s (len bytes) with the full-width forms of ASCII (U+FF01 to U+FF5E:
 * what a Chinese input method types in its full-width mode, "１３８" for
 * "138") and the ideographic space (U+3000) made their ASCII, into out
 * (outlen bytes, at least len + 1: the result is never longer); the rest
 * as it is. Returns the result's length. */
size_t rove_text_fold_width(const char *s, size_t len, char *out, size_t outlen);

/* The form of s (len bytes) a search compares, into out (outlen bytes,
 * at least len + 1: the result is never longer): rove_text_fold_width's,
 * with letters in lower case - ASCII, Latin-1 and Latin Extended-A
 * (Émile, ŁÓDŹ, İ as i), Greek (a final sigma as any other) and
 * Cyrillic (Ukrainian's, Kazakh's and the like's too) - so
 * that a search ignores case beyond ASCII too. Characters written as a
 * letter and a combining mark are not made one: é typed so is not é
 * typed as one character. Returns the result's length. */
size_t rove_text_fold_search(const char *s, size_t len, char *out, size_t outlen);

/* True for what text must not hold: C0 controls, DEL, C1 controls, the
 * line and paragraph separators and the bidirectional embedding,
 * override and isolate controls (text that reads other than it is). */
bool rove_text_is_control(uint32_t cp);

/* What stored text may hold beside printable characters. */
enum rove_text_allow {
	ROVE_TEXT_ALLOW_LINES = 1, /* line feeds and tabs: notes, addresses */
};

enum rove_text_fault {
	ROVE_TEXT_OK = 0,
	ROVE_TEXT_NOT_UTF8,   /* ill-formed bytes */
	ROVE_TEXT_CONTROL,    /* a control character (*bad: which) */
	ROVE_TEXT_LINE_BREAK, /* a line feed where lines are not allowed */
};

/* Checks len bytes of s as text to store: returns a rove_text_fault, and
 * on ROVE_TEXT_OK the number of characters in *nchars (may be NULL).
 * *bad (may be NULL) gets the offending code point, or the first
 * ill-formed byte. */
int rove_text_check(const char *s, size_t len, unsigned allow, uint32_t *bad, size_t *nchars);

/* How rove_text_show treats line feeds. */
enum rove_text_show_flag {
	ROVE_TEXT_SHOW_LINES = 1, /* keep line feeds and tabs as they are */
};

/* Writes s (len bytes) shown into out (outlen > 0 bytes), NUL-terminated,
 * cut before the first character or escape that does not fit. Returns the
 * length of the whole shown text, as snprintf does: outlen or more means
 * out was cut. */
size_t rove_text_show(const char *s, size_t len, unsigned flags, char *out, size_t outlen);

/* The same, written to f. */
void rove_text_put_shown(FILE *f, const char *s, size_t len, unsigned flags);

/* A value quoted in a message: at most ROVE_TEXT_QUOTE_MAX bytes shown
 * (rove_text_show: control characters and bad bytes escaped), then "...".
 * Returns out. */
#define ROVE_TEXT_QUOTE_MAX 40
#define ROVE_TEXT_QUOTE_BUF (ROVE_TEXT_QUOTE_MAX + 4)
const char *rove_text_quote(const char *s, size_t len, char out[ROVE_TEXT_QUOTE_BUF]);

/* Writes a message (printf's fmt) into why, cut (if it must be) between
 * characters so that it stays UTF-8; returns ROVE_EINVAL, for the
 * checks that say why a value is refused. */
__attribute__((format(printf, 3, 4))) int rove_text_why(char *why, size_t whylen, const char *fmt, ...);

/* Writes s (len bytes) to f as a JSON string, quotes included: valid JSON
 * and valid UTF-8 whatever s holds. Ill-formed bytes become U+FFFD;
 * quotes, backslashes and control characters are escaped. */
void rove_text_put_json(FILE *f, const char *s, size_t len);

/* Numbers on a command line (options, not stored values). A number is
 * decimal digits only: no sign, no space before or after it, no 0x, no
 * exponent - what strtol and strtod would take besides ('  5', '+5',
 * '1e3', 'nan') is refused, so that every option refuses the same
 * strings. Leading zeros are digits (050 is 50). */

/* s as a whole number from 0 to max into *out; false (*out untouched)
 * for anything else, a number past max (or past 64 bits) too. */
bool rove_text_uint(const char *s, uint64_t max, uint64_t *out);

/* s as seconds - digits, with a fraction after a point if need be
 * (digits on both sides: 0.25, not .25 or 5.) - into *ms milliseconds
 * (digits past the third of the fraction dropped), at most max_ms
 * (compared before anything is dropped: 3600.0000001 is past 3600);
 * false (*ms untouched) for anything else. */
bool rove_text_seconds_ms(const char *s, uint64_t max_ms, uint64_t *ms);

#endif
