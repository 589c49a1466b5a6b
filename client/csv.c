/* csv.c - RFC 4180 reading with line numbers and limits, and writing. */
#include "csv.h"

#include "err.h"
#include "text.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CSV_INBUF 65536

struct rove_csv {
	FILE *f;
	rove_csv_limits lim;
	unsigned char in[CSV_INBUF];
	size_t pos, end;        /* unread bytes of in */
	bool started, eof, ioerr;
	unsigned long line;     /* physical line of the next byte */
	unsigned long rec_line; /* where the last record started */
	char *text;             /* the record's cells, each NUL-terminated */
	size_t used;            /* bytes of text in use */
	size_t *start;          /* offset in text of each kept cell */
	size_t n;               /* cells seen in the record (kept: up to max_cells) */
	size_t cell_len;        /* bytes in the current cell */
	size_t rec_len;         /* bytes in all cells of the record */
	bool bad;
	char err[160];
};

int rove_csv_open(FILE *f, const rove_csv_limits *lim, rove_csv **out)
{
	rove_csv *c;

	*out = NULL;
	if (lim->max_cells == 0)
		return ROVE_EINVAL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return ROVE_ENOMEM;
	c->f = f;
	c->lim = *lim;
	c->line = 1;
	/* Room for every byte a record may keep and a NUL per cell. */
	c->text = malloc(lim->max_record + lim->max_cells);
	c->start = malloc(lim->max_cells * sizeof(c->start[0]));
	if (c->text == NULL || c->start == NULL) {
		rove_csv_close(c);
		return ROVE_ENOMEM;
	}
	*out = c;
	return ROVE_OK;
}

void rove_csv_close(rove_csv *c)
{
	if (c == NULL)
		return;
	free(c->text);
	free(c->start);
	free(c);
}

/* True if a byte is ready in c->in. */
static bool fill(rove_csv *c)
{
	if (c->pos < c->end)
		return true;
	if (c->eof || c->ioerr)
		return false;
	c->pos = 0;
	c->end = fread(c->in, 1, sizeof(c->in), c->f);
	if (c->end == 0) {
		if (ferror(c->f))
			c->ioerr = true;
		else
			c->eof = true;
		return false;
	}
	return true;
}

/* The next byte, or -1 at the end of input. */
static int get(rove_csv *c)
{
	return fill(c) ? c->in[c->pos++] : -1;
}

static int peek(rove_csv *c)
{
	return fill(c) ? c->in[c->pos] : -1;
}

static void skip_bom(rove_csv *c)
{
	static const unsigned char bom[3] = {0xef, 0xbb, 0xbf};

	/* The first fill reads the whole buffer (or the whole input). */
	if (fill(c) && c->end - c->pos >= 3 && memcmp(c->in + c->pos, bom, 3) == 0)
		c->pos += 3;
}

__attribute__((format(printf, 2, 3))) static void bad(rove_csv *c, const char *fmt, ...)
{
	va_list ap;

	if (c->bad)
		return; /* the first problem is the one to fix */
	c->bad = true;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

static bool kept(const rove_csv *c)
{
	return c->n <= c->lim.max_cells;
}

static void begin_cell(rove_csv *c)
{
	c->n++;
	c->cell_len = 0;
	if (kept(c))
		c->start[c->n - 1] = c->used;
	else
		bad(c, "more than %zu cells", c->lim.max_cells);
}

static void end_cell(rove_csv *c)
{
	if (kept(c))
		c->text[c->used++] = '\0';
}

static void add(rove_csv *c, int ch)
{
	if (ch == '\0') {
		bad(c, "a NUL byte in cell %zu", c->n);
		return;
	}
	if (c->cell_len >= c->lim.max_cell) {
		bad(c, "cell %zu is longer than %zu bytes", c->n, c->lim.max_cell);
		return;
	}
	if (c->rec_len >= c->lim.max_record) {
		bad(c, "the record is longer than %zu bytes", c->lim.max_record);
		return;
	}
	c->cell_len++;
	c->rec_len++;
	if (kept(c))
		c->text[c->used++] = (char)ch;
}

static bool cell_end(int ch)
{
	return ch < 0 || ch == ',' || ch == '\r' || ch == '\n';
}

/* Reads a quoted cell after its opening quote; returns the byte after the
 * closing quote (-1 at the end of input). */
static int quoted(rove_csv *c)
{
	unsigned long opened = c->line;
	int ch;

	for (;;) {
		ch = get(c);
		if (ch < 0) {
			bad(c, "the quoted cell opened on line %lu is never closed", opened);
			return ch;
		}
		if (ch == '"') {
			if (peek(c) != '"')
				return get(c);
			ch = get(c); /* "" is one quote */
		} else if (ch == '\r') {
			if (peek(c) == '\n')
				get(c);
			ch = '\n';
		}
		if (ch == '\n')
			c->line++;
		add(c, ch);
	}
}

static bool utf8_valid(const char *s, size_t len)
{
	uint32_t cp;

	for (size_t i = 0, k; i < len; i += k) {
		k = rove_utf8_next(s + i, len - i, &cp);
		if (cp == ROVE_UTF8_BAD)
			return false;
	}
	return true;
}

int rove_csv_next(rove_csv *c)
{
	int ch;

	if (!c->started) {
		c->started = true;
		skip_bom(c);
	}
	c->n = 0;
	c->used = 0;
	c->rec_len = 0;
	c->bad = false;
	c->err[0] = '\0';
	c->rec_line = c->line;
	if (peek(c) < 0)
		return c->ioerr ? ROVE_EIO : ROVE_ENOTFOUND;
	do {
		begin_cell(c);
		ch = get(c);
		if (ch == '"') {
			ch = quoted(c);
			if (!cell_end(ch))
				bad(c, "text after the closing quote of cell %zu", c->n);
		}
		for (; !cell_end(ch); ch = get(c)) {
			if (ch == '"')
				bad(c, "a quote inside unquoted cell %zu (quote the whole cell and double the quote)",
				    c->n);
			add(c, ch);
		}
		end_cell(c);
	} while (ch == ',');
	if (ch == '\r' && peek(c) == '\n')
		get(c);
	if (ch == '\r' || ch == '\n')
		c->line++;
	if (c->ioerr)
		return ROVE_EIO;
	for (size_t i = 0; !c->bad && i < c->n; i++) {
		const char *s = c->text + c->start[i];
		if (!utf8_valid(s, strlen(s)))
			bad(c, "cell %zu is not UTF-8 text (save the file as CSV UTF-8)", i + 1);
	}
	return c->bad ? ROVE_EINVAL : ROVE_OK;
}

unsigned long rove_csv_line(const rove_csv *c)
{
	return c->rec_line;
}

size_t rove_csv_ncells(const rove_csv *c)
{
	return c->n < c->lim.max_cells ? c->n : c->lim.max_cells;
}

const char *rove_csv_cell(const rove_csv *c, size_t i)
{
	return c->text + c->start[i];
}

const char *rove_csv_error(const rove_csv *c)
{
	return c->err;
}

/* The first characters of a cell that make a spreadsheet read it as a
 * formula (or, tab and CR, hide one). */
static bool formula_start(char c)
{
	return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

/* Whether s (len bytes) is quotes (at least min of them) and then a
 * formula's first character. */
static bool guarded_form(const char *s, size_t len, size_t min)
{
	size_t q = 0;

	while (q < len && s[q] == '\'')
		q++;
	return q >= min && q < len && formula_start(s[q]);
}

const char *rove_csv_unguard(const char *cell)
{
	return guarded_form(cell, strlen(cell), 1) ? cell + 1 : cell;
}

void rove_csv_put(FILE *f, const char *s, size_t len)
{
	bool quote = len > 0 && (s[0] == ' ' || s[0] == '\t' || s[len - 1] == ' ' || s[len - 1] == '\t');
	uint32_t cp;

	for (size_t i = 0; i < len && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
	if (quote)
		fputc('"', f);
	if (guarded_form(s, len, 0))
		fputc('\'', f);
	for (size_t i = 0, k; i < len; i += k) {
		k = rove_utf8_next(s + i, len - i, &cp);
		if (cp == ROVE_UTF8_BAD || (rove_text_is_control(cp) && cp != '\n' && cp != '\t'))
			fputs("\xef\xbf\xbd", f); /* U+FFFD: what no valid record holds */
		else if (cp == '"')
			fputs("\"\"", f);
		else
			fwrite(s + i, 1, k, f);
	}
	if (quote)
		fputc('"', f);
}

int rove_csv_next_data(rove_csv *c)
{
	int rc;
	bool blank;

	do {
		rc = rove_csv_next(c);
		blank = rc == ROVE_OK;
		for (size_t j = 0; blank && j < rove_csv_ncells(c); j++)
			blank = rove_csv_cell(c, j)[0] == '\0';
	} while (blank);
	return rc;
}
