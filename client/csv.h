/*
 * csv.h - reading and writing CSV (RFC 4180) for `rove import` and
 * `rove export`.
 *
 * Why rove has its own: sales teams move customer lists through
 * spreadsheets, and spreadsheet CSV has quoted cells holding commas,
 * doubled quotes and line breaks, a UTF-8 byte order mark, and CRLF line
 * ends. An import must name the physical line where each bad record
 * starts, keep memory bounded whatever the file holds, and refuse text
 * that is not UTF-8 (a GBK file from an old Excel) instead of storing
 * garbage. Those are a few hundred lines; a library such as libcsv would
 * be a dependency that still leaves line numbers, limits and UTF-8 to us.
 *
 * Reading: a reader returns one record at a time as NUL-terminated cells
 * (valid UTF-8, no NUL bytes). A CRLF or a lone CR inside a quoted cell is
 * read as LF. Line ends outside quotes may be CRLF, LF or CR. A record
 * that breaks the syntax or the limits is reported with a message and
 * skipped to its end, so the caller can go on and report every bad one.
 *
 * Writing: cells are quoted when they hold a comma, a quote, CR or LF (or
 * start or end with a space, which some readers trim); records end with
 * CRLF. What no valid record holds (bytes that are not UTF-8, control
 * characters but line feeds and tabs) is written as U+FFFD, so that an
 * export is UTF-8 text whatever a replica holds.
 *
 * Formulas: a spreadsheet runs a cell that starts with = + - @ (a tab or
 * CR can hide one), and any rep can name a customer "=HYPERLINK(...)". A
 * cell that starts so - after any number of single quotes - is written
 * with one more single quote in front, which spreadsheets read as "this
 * is text" and do not show; rove_csv_unguard takes exactly that quote off
 * again, so what rove writes, rove reads back unchanged ("+86 21 ..." ->
 * "'+86 21 ..." -> "+86 21 ...", "'=x" -> "''=x" -> "'=x"), and a cell
 * that starts with a quote before anything else is left as it is.
 */
#ifndef ROVE_CSV_H
#define ROVE_CSV_H

#include <stddef.h>
#include <stdio.h>

/* The line end rove_csv writers put after each record. */
#define ROVE_CSV_EOL "\r\n"

typedef struct rove_csv rove_csv;

/* What one record may hold; past these the record is bad and its extra
 * bytes are dropped unread into memory. */
typedef struct rove_csv_limits {
	size_t max_cells;  /* cells in one record */
	size_t max_cell;   /* bytes in one cell */
	size_t max_record; /* bytes in all cells of one record */
} rove_csv_limits;

/* A reader of f (not closed by the reader); ROVE_ENOMEM. A UTF-8 byte
 * order mark at the start of f is skipped. */
int rove_csv_open(FILE *f, const rove_csv_limits *lim, rove_csv **out);
void rove_csv_close(rove_csv *c);

/* Reads the next record.
 *   ROVE_OK         a record: rove_csv_ncells, rove_csv_cell
 *   ROVE_EINVAL     a bad record, skipped; rove_csv_error says why
 *   ROVE_ENOTFOUND  end of input
 *   ROVE_EIO        the stream failed
 * rove_csv_line is the physical line (from 1) where the record starts. */
int rove_csv_next(rove_csv *c);
/* The same, skipping records whose every cell is empty (a spreadsheet's
 * blank lines). */
int rove_csv_next_data(rove_csv *c);
unsigned long rove_csv_line(const rove_csv *c);
size_t rove_csv_ncells(const rove_csv *c);
/* Cell i (< ncells) of the last record; valid until the next read. */
const char *rove_csv_cell(const rove_csv *c, size_t i);
const char *rove_csv_error(const rove_csv *c);

/* Writes one cell (no separator), quoted if it needs to be and guarded
 * against formulas (above). Write errors show in ferror(f). */
void rove_csv_put(FILE *f, const char *s, size_t len);

/* A cell as it was before rove_csv_put guarded it: past its first
 * character if that is a single quote followed (after any more quotes)
 * by = + - @, a tab or CR; else the cell itself. */
const char *rove_csv_unguard(const char *cell);

#endif
