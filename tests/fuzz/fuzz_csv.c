/*
 * fuzz_csv.c - libFuzzer harness for the CSV reader and writer
 * (client/csv.h), which read every `rove import` file a user hands in and
 * write every `rove export`.
 *
 * The first byte picks the mode; the others are the input.
 *
 * Mode 0 (a file from anywhere): the rest is read as a CSV file, under
 * limits taken from the next three bytes (1 to 16 cells, 1 to 64 bytes a
 * cell, 1 to 256 a record), to its end. Checked for every record:
 *   - the reader ends: at most one record per byte of input, plus one;
 *   - a good record has 1 to max_cells cells, each well-formed UTF-8
 *     (rove_text_check says so) of at most max_cell bytes,
 *     max_record bytes in all;
 *   - a bad one says why (rove_csv_error not empty);
 *   - line numbers never go back and never pass the input's line count.
 *
 * Mode 1 (what rove writes, rove reads back): the rest is cut into
 * records at 0xfe bytes and into cells at 0xff bytes. After a header
 * record (as `rove export` writes one first) every record is written with
 * rove_csv_put, cells separated by commas and records ended with
 * ROVE_CSV_EOL, and the file is read back under limits it fits in:
 *   - a record of cells that stored values may hold (rove_text_check:
 *     UTF-8, no control character but line feeds and tabs, no NUL) reads
 *     back as the same cells,
 *     once rove_csv_unguard takes the formula guard off;
 *   - any other record still reads back as a good record of as many
 *     cells (what no valid record holds is written as U+FFFD);
 *   - the file holds no more records than were written.
 *
 * A broken property aborts with a line on stderr, which libFuzzer reports
 * as a crash.
 */
#include "csv.h"
#include "err.h"
#include "text.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                 \
	do {                                                                                        \
		if (!(cond)) {                                                                      \
			fprintf(stderr, "fuzz_csv: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                    \
		}                                                                                   \
	} while (0)

#define SEP_CELL 0xffu
#define SEP_RECORD 0xfeu

/* Well-formed UTF-8, whatever characters it holds. */
static bool utf8_ok(const char *s, size_t len)
{
	return rove_text_check(s, len, ROVE_TEXT_ALLOW_LINES, NULL, NULL) != ROVE_TEXT_NOT_UTF8;
}

/* Whether a stored value may hold s (len bytes): text with no control
 * character but line feeds and tabs, which rove_csv_put writes as it is. */
static bool storable(const uint8_t *s, size_t len)
{
	return rove_text_check((const char *)s, len, ROVE_TEXT_ALLOW_LINES, NULL, NULL) == ROVE_TEXT_OK;
}

static void read_any(const uint8_t *data, size_t size)
{
	rove_csv_limits lim;
	unsigned long lines = 1, last = 0;
	size_t records = 0;
	rove_csv *c;
	FILE *f;
	int rc;

	if (size < 3)
		return;
	lim.max_cells = 1u + data[0] % 16u;
	lim.max_cell = 1u + data[1] % 64u;
	lim.max_record = 1u + data[2] % 256u;
	data += 3;
	size -= 3;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n' || (data[i] == '\r' && (i + 1 == size || data[i + 1] != '\n'));
	f = size > 0 ? fmemopen((void *)data, size, "r") : fopen("/dev/null", "r");
	CHECK(f != NULL);
	CHECK(rove_csv_open(f, &lim, &c) == ROVE_OK);
	while ((rc = rove_csv_next(c)) != ROVE_ENOTFOUND) {
		CHECK(++records <= size + 1);
		CHECK(rove_csv_line(c) >= last && rove_csv_line(c) <= lines);
		last = rove_csv_line(c);
		if (rc == ROVE_EINVAL) {
			CHECK(rove_csv_error(c)[0] != '\0');
			continue;
		}
		CHECK(rc == ROVE_OK);
		size_t n = rove_csv_ncells(c), total = 0;
		CHECK(n >= 1 && n <= lim.max_cells);
		for (size_t i = 0; i < n; i++) {
			const char *cell = rove_csv_cell(c, i);
			size_t len = strlen(cell);
			CHECK(len <= lim.max_cell);
			CHECK(utf8_ok(cell, len));
			total += len;
		}
		CHECK(total <= lim.max_record);
	}
	rove_csv_close(c);
	fclose(f);
}

/* One record of the input: cells at cell[i], len[i]. */
#define MAX_CELLS 512u
typedef struct in_record {
	size_t n;
	const uint8_t *cell[MAX_CELLS];
	size_t len[MAX_CELLS];
} in_record;

/* The record starting at data[*pos] (to the next SEP_RECORD or the end). */
static void next_record(const uint8_t *data, size_t size, size_t *pos, in_record *r)
{
	size_t i = *pos, start = i;

	r->n = 0;
	for (;; i++) {
		if (i == size || data[i] == SEP_RECORD || data[i] == SEP_CELL) {
			if (r->n < MAX_CELLS) {
				r->cell[r->n] = data + start;
				r->len[r->n] = i - start;
				r->n++;
			}
			start = i + 1;
			if (i == size || data[i] == SEP_RECORD)
				break;
		}
	}
	*pos = i + 1;
}

static in_record rec;

static void round_trip(const uint8_t *data, size_t size)
{
	rove_csv_limits lim = {MAX_CELLS + 1, 4 * size + 16, 4 * size + 16};
	char *out = NULL;
	size_t out_len = 0, pos, nrec;
	rove_csv *c;
	FILE *f = open_memstream(&out, &out_len);

	CHECK(f != NULL);
	fputs("id,name" ROVE_CSV_EOL, f);
	for (pos = 0; pos <= size;) {
		next_record(data, size, &pos, &rec);
		for (size_t i = 0; i < rec.n; i++) {
			if (i > 0)
				fputc(',', f);
			rove_csv_put(f, (const char *)rec.cell[i], rec.len[i]);
		}
		fputs(ROVE_CSV_EOL, f);
	}
	CHECK(!ferror(f));
	fclose(f);

	f = fmemopen(out, out_len, "r");
	CHECK(f != NULL);
	CHECK(rove_csv_open(f, &lim, &c) == ROVE_OK);
	CHECK(rove_csv_next(c) == ROVE_OK);
	CHECK(rove_csv_ncells(c) == 2 && strcmp(rove_csv_cell(c, 0), "id") == 0);
	for (pos = 0, nrec = 1; pos <= size; nrec++) {
		bool valid = true;

		next_record(data, size, &pos, &rec);
		for (size_t i = 0; i < rec.n; i++)
			valid = valid && memchr(rec.cell[i], '\0', rec.len[i]) == NULL && storable(rec.cell[i], rec.len[i]);
		int rc = rove_csv_next(c);
		if (rc != ROVE_OK)
			fprintf(stderr, "fuzz_csv: record %zu read back: %s\n", nrec, rove_csv_error(c));
		CHECK(rc == ROVE_OK);
		CHECK(rove_csv_ncells(c) == rec.n);
		for (size_t i = 0; valid && i < rec.n; i++) {
			const char *got = rove_csv_unguard(rove_csv_cell(c, i));
			if (strlen(got) != rec.len[i] || memcmp(got, rec.cell[i], rec.len[i]) != 0)
				fprintf(stderr, "fuzz_csv: cell %zu: wrote '%.*s', read back '%s'\n", i,
					(int)rec.len[i], (const char *)rec.cell[i], got);
			CHECK(strlen(got) == rec.len[i] && memcmp(got, rec.cell[i], rec.len[i]) == 0);
		}
	}
	CHECK(rove_csv_next(c) == ROVE_ENOTFOUND);
	rove_csv_close(c);
	fclose(f);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] % 2 == 0)
		read_any(data + 1, size - 1);
	else
		round_trip(data + 1, size - 1);
	return 0;
}
