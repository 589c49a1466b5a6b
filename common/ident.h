/*
 * ident.h - a customer's identifiers: its tax id (统一社会信用代码) and
 * phone numbers, and the uniqueness keys made of them (rule 3: no two
 * live customers share a tax id or a phone).
 *
 * Two spellings of one tax id or one phone are one identifier: these
 * functions put each in the form spellings share, for the schema's checks,
 * the server's index of live customers and the command line's own
 * duplicate check alike.
 */
#ifndef ROVE_IDENT_H
#define ROVE_IDENT_H

#include "record.h"
#include "rove_limits.h"

#include <stdbool.h>
#include <stddef.h>

/* A phone number in the form two spellings of one phone share (the key
 * rule 3's uniqueness compares), into out (cut to outlen - 1 bytes,
 * always terminated; nothing if outlen is 0): punctuation and spaces
 * dropped, full-width digits read as digits, every country prefix gone
 * however it is written or repeated (+86, 0086, +0086, +86 0086, 86
 * before a mobile number), and a mainland number with its country code:
 * "+86 138 0000 1111", "0086-138-0000-1111", "+0086 13800001111",
 * "86 13800001111" and "13800001111" all give "+8613800001111";
 * "021-5555-0101", "(021) 55550101" and "+86 21 5555 0101" give
 * "+862155550101". Other international numbers (+ or 00) give + and
 * their digits; anything else its digits. An extension (转, 分机, ext,
 * x or #, then digits) is left out: one switchboard, one company. Empty
 * when in has no digits. */
void rove_phone_normalise(const char *in, char *out, size_t outlen);

/* ---- rule 3: no two live customers share a tax id or a phone ---- */

/* A customer's uniqueness key: "tax:" and its tax id, or "tel:" and its
 * phone, each in the form that two spellings of one share
 * (rove_taxid_normalise, rove_phone_normalise). The server's index of
 * live customers holds these bytes (store format 3); the command line
 * compares the same keys among what its replica holds. */
#define ROVE_UNIQ_KEYS    2
#define ROVE_UNIQ_KEY_MAX (4 + ROVE_MAX_STR)
typedef struct rove_uniq_key {
	const char *field; /* the customer's field: "tax_id" or "phone" */
	size_t len;        /* of key, without its NUL */
	char key[ROVE_UNIQ_KEY_MAX + 1];
} rove_uniq_key;

/* The key of a customer's value of field ("tax_id" or "phone") into
 * *out; false if it makes none (no value, or a phone without digits). */
bool rove_uniq_key_make(const char *field, const char *value, rove_uniq_key *out);

/* The keys of a customer's fields, or of those an op sets (fs): its tax
 * id's, then its phone's, each if it makes one. Returns how many. */
int rove_uniq_keys(const rove_fields *fs, rove_uniq_key out[ROVE_UNIQ_KEYS]);

/* The key made last for each field, with the value it was made from (a
 * key is a function of the two): the server's writer makes a customer's
 * keys in its decision and again in its write, and normalising them was
 * a twentieth of its time. Values longer than ROVE_UNIQ_MEMO_VALUE are
 * not remembered. Zeroed: remembers nothing. */
typedef struct rove_uniq_memo_slot {
	size_t vlen; /* of value; 0: nothing remembered */
	char value[ROVE_UNIQ_MEMO_VALUE];
	bool made; /* whether value made a key */
	size_t klen;
	char key[4 + 3 + ROVE_UNIQ_MEMO_VALUE + 1]; /* "tel:" "+86": see rove_uniq_key_make */
} rove_uniq_memo_slot;
typedef struct rove_uniq_memo {
	rove_uniq_memo_slot f[ROVE_UNIQ_KEYS];
} rove_uniq_memo;

/* rove_uniq_keys through memo m (NULL: none), which it updates. */
int rove_uniq_keys_memo(const rove_fields *fs, rove_uniq_key out[ROVE_UNIQ_KEYS], rove_uniq_memo *m);

/* A tax id as it is stored and compared: spaces (also U+3000) and hyphens
 * dropped, letters upper-cased, full-width letters and digits read as
 * ASCII. Writes at most outlen - 1 bytes and a NUL (outlen > 0); returns
 * the normalised length, which may be more (then out was cut). Whether
 * the result is a 统一社会信用代码 is rove_taxid_valid's to say. */
size_t rove_taxid_normalise(const char *in, size_t len, char *out, size_t outlen);

/* The GB 32100-2015 check character for the first 17 characters of a
 * 统一社会信用代码, or '\0' if one is not of its alphabet. */
char rove_taxid_check_char(const char first17[ROVE_TAXID_LEN - 1]);

/* Whether s (len bytes, normalised) is a 统一社会信用代码: 18 characters of
 * 0-9 and ABCDEFGHJKLMNPQRTUWXY, the last its check character. If not,
 * why says which rule it breaks. */
bool rove_taxid_valid(const char *s, size_t len, char *why, size_t whylen);

/* Why s (len bytes) is not a phone number (in buf, or a constant
 * string), or NULL if it is one. */
const char *rove_phone_fault(const char *s, size_t len, char *buf, size_t buflen);

#endif
