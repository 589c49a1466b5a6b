/*
 * cmd_admin_import.c - `rove admin import territories|users FILE.csv`:
 * a company's territory tree, or its people, in one go.
 *
 * The file is checked whole here first, every bad row named by its line
 * (codes, logins and roles valid, no name twice in the file, parents
 * found, no loop of parents; what this replica holds); one bad row and
 * nothing is sent. Then the rows go to the server a few at a time (an
 * admin request carries at most ROVE_MAX_ADMIN_ARGS arguments), staged
 * there, and are committed in one transaction: the server checks them
 * again against what it holds, and writes all of them or none. A
 * refusal of the server names the row, shown here as the file's line.
 *
 * Territories go in parents-first order whatever the file's order. Users
 * get a token each, printed as CSV on stdout (login,token).
 *
 * Memory: the rows' cells are kept (strdup'd) until the command ends.
 */
#include "cli.h"
#include "cli_opt.h"
#include "csv.h"
#include "err.h"
#include "net.h"
#include "log.h"
#include "array.h"
#include "rules.h"
#include "schema.h"
#include "sync.h"
#include "text.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum { KIND_TERRITORIES = 1, KIND_USERS = 2 };

/* A row: its three cells (territories: code, name, parent; users: login,
 * role, territories joined by ';'), and the line where it starts. */
typedef struct arow {
	char *cell[ROVE_ADMIN_IMPORT_ARITY];
	unsigned long line;
	bool bad; /* reported (counted once in the import's bad rows) */
} arow;

typedef struct aimport {
	int kind;
	const char *file;
	rove_replica *r;
	int col[ROVE_ADMIN_IMPORT_ARITY]; /* the file's column of each cell; -1: none */
	arow *rows;
	size_t n, cap;
	size_t bad; /* rows */
	bool row_bad, file_bad;
	char **codes; /* the territories this replica holds */
	size_t ncodes, codes_cap;
	char **logins; /* users: the server's users, when it could be asked */
	size_t nlogins, logins_cap;
	bool nomem;
	bool dry_run; /* territories the replica lacks are bad (else the server decides) */
	/* The rows' errors, said in the file's line order once all are known
	 * (attack ninety-four read them grouped by kind): each "FILE:LINE:
	 * why", and its line (ULONG_MAX: after every row's). */
	struct row_msg {
		unsigned long line;
		size_t seq;
		char *text;
	} *msgs;
	size_t nmsgs, capmsgs;
} aimport;

static const char *const columns[3][ROVE_ADMIN_IMPORT_ARITY] = {
	{NULL, NULL, NULL},
	{"code", "name", "parent"},
	{"login", "role", "territories"},
};

/* Keeps text (said at line) for msgs_say; said at once when there is no
 * room for it. */
static void msg_keep(aimport *im, unsigned long line, const char *text)
{
	struct row_msg *m = rove_array_room(im->msgs, im->nmsgs, &im->capmsgs, sizeof(*m));
	char *copy = m != NULL ? strdup(text) : NULL;

	if (copy == NULL) {
		rove_error("%s", text);
		return;
	}
	im->msgs = m;
	im->msgs[im->nmsgs] = (struct row_msg){line, im->nmsgs, copy};
	im->nmsgs++;
}

static int by_line(const void *a, const void *b)
{
	const struct row_msg *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Says the errors kept, in the file's line order, and forgets them. */
static void msgs_say(aimport *im)
{
	if (im->nmsgs == 0)
		return;
	qsort(im->msgs, im->nmsgs, sizeof(*im->msgs), by_line);
	for (size_t i = 0; i < im->nmsgs; i++) {
		rove_error("%s", im->msgs[i].text);
		free(im->msgs[i].text);
	}
	im->nmsgs = 0;
}

__attribute__((format(printf, 3, 4))) static void row_error(aimport *im, unsigned long line, const char *fmt, ...)
{
	char msg[ROVE_MAX_ERRMSG * 2], text[ROVE_MAX_ERRMSG * 3];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(text, sizeof(text), "%s:%lu: %s", im->file, line, msg);
	msg_keep(im, line, text);
	im->row_bad = true;
}

/* Row i (a kept one) counted bad, once. */
static void row_mark_bad(aimport *im, size_t i)
{
	if (!im->rows[i].bad)
		im->bad++;
	im->rows[i].bad = true;
}

static int keep_code(const rove_record *rec, void *arg)
{
	aimport *im = arg;
	const char *code = rove_fields_str(&rec->fs, "code");
	char **c;

	if (code == NULL)
		return ROVE_OK;
	c = rove_array_room(im->codes, im->ncodes, &im->codes_cap, sizeof(*c));
	if (c == NULL)
		return ROVE_ENOMEM;
	im->codes = c;
	im->codes[im->ncodes] = strdup(code);
	return im->codes[im->ncodes++] != NULL ? ROVE_OK : ROVE_ENOMEM;
}

static void keep_login(const cli_admin_user *u, void *arg)
{
	aimport *im = arg;
	char **l = rove_array_room(im->logins, im->nlogins, &im->logins_cap, sizeof(*l));

	if (l == NULL) {
		im->nomem = true;
		return;
	}
	im->logins = l;
	im->logins[im->nlogins] = strdup(u->login);
	if (im->logins[im->nlogins] == NULL)
		im->nomem = true;
	else
		im->nlogins++;
}

/* The server's user whose login is login, ignoring case; NULL if none. */
static const char *server_login(const aimport *im, const char *login)
{
	for (size_t i = 0; i < im->nlogins; i++)
		if (rove_name_same(im->logins[i], strlen(im->logins[i]), login, strlen(login)))
			return im->logins[i];
	return NULL;
}

/* The territory of this replica whose code is code, ignoring case if
 * fold; NULL if none. */
static const char *replica_code(const aimport *im, const char *code, bool fold)
{
	for (size_t i = 0; i < im->ncodes; i++) {
		const char *c = im->codes[i];
		if (fold ? rove_name_same(c, strlen(c), code, strlen(code)) : strcmp(c, code) == 0)
			return c;
	}
	return NULL;
}

static int read_header(aimport *im, const rove_csv *csv)
{
	unsigned long line = rove_csv_line(csv);

	for (int k = 0; k < (int)ROVE_ADMIN_IMPORT_ARITY; k++)
		im->col[k] = -1;
	for (size_t j = 0; j < rove_csv_ncells(csv); j++) {
		const char *cell = rove_csv_cell(csv, j);
		size_t len;
		int k;

		while (*cell == ' ' || *cell == '\t')
			cell++;
		for (len = strlen(cell); len > 0 && (cell[len - 1] == ' ' || cell[len - 1] == '\t'); len--)
			;
		for (k = 0; k < (int)ROVE_ADMIN_IMPORT_ARITY; k++)
			if (rove_name_same(columns[im->kind][k], strlen(columns[im->kind][k]), cell, len))
				break; /* "Login" is login, as import's columns */
		if (k == (int)ROVE_ADMIN_IMPORT_ARITY)
			row_error(im, line, "unknown column '%.*s' (columns: %s, %s, %s)", (int)(len > 64 ? 64 : len),
				  cell, columns[im->kind][0], columns[im->kind][1], columns[im->kind][2]);
		else if (im->col[k] >= 0)
			row_error(im, line, "column '%s' appears twice", columns[im->kind][k]);
		else
			im->col[k] = (int)j;
	}
	for (int k = 0; k < 2; k++)
		if (im->col[k] < 0)
			row_error(im, line, "missing column '%s' (it is required)", columns[im->kind][k]);
	return im->row_bad ? ROVE_EINVAL : ROVE_OK;
}

/* A cell without the spaces a spreadsheet leaves around it, copied. */
static char *trimmed(const char *s)
{
	size_t len;

	while (*s == ' ' || *s == '\t')
		s++;
	for (len = strlen(s); len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'); len--)
		;
	return strndup(s, len);
}

/* A territory row: a code, a name a territory may have, a parent code. */
static void check_territory(aimport *im, const arow *w)
{
	const rove_field_def *fd = rove_schema_field(rove_schema_coll(ROVE_COLL_TERRITORY), "name");
	const char *code = w->cell[0], *name = w->cell[1], *parent = w->cell[2];
	char why[ROVE_MAX_ERRMSG];
	rove_value v;
	const char *held;

	if (code[0] == '\0')
		row_error(im, w->line, "code is empty (it is required)");
	else if (!rove_code_valid(code, strlen(code)))
		row_error(im, w->line, "invalid territory code '%.64s' (letters, digits and . _ -, beginning with a letter or digit, at most %u)", code,
			  ROVE_MAX_NAME);
	else if ((held = replica_code(im, code, true)) != NULL)
		row_error(im, w->line, "territory '%s' already exists%s%s", code, strcmp(held, code) != 0 ? " as " : "",
			  strcmp(held, code) != 0 ? held : "");
	if (name[0] == '\0')
		row_error(im, w->line, "name is empty (it is required)");
	else if (rove_schema_parse(fd, name, &v, why, sizeof(why)) != ROVE_OK)
		row_error(im, w->line, "%s", why);
	else if (strlen(name) > ROVE_MAX_ADMIN_ARG)
		row_error(im, w->line, "name is longer than %u bytes, the most an administration request carries",
			  ROVE_MAX_ADMIN_ARG);
	if (parent[0] != '\0' && !rove_code_valid(parent, strlen(parent)))
		row_error(im, w->line, "invalid parent territory code '%.64s'", parent);
}

/* Whether list ("a;b;c") holds code. */
static bool list_has(const char *list, const char *code)
{
	size_t n = strlen(code);

	for (const char *p = list; *p != '\0';) {
		const char *end = strchr(p, ';');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (len == n && memcmp(p, code, n) == 0)
			return true;
		if (end == NULL)
			break;
		p = end + 1;
	}
	return false;
}

/* A user row: a login, a role, territory codes separated by ';' (each
 * trimmed; stored back so, a code named twice once, as the server holds
 * it). */
static int check_user(aimport *im, arow *w)
{
	const char *login = w->cell[0], *role = w->cell[1], *held;
	char *list = w->cell[2], *out;
	size_t n = 0;

	if (login[0] == '\0')
		row_error(im, w->line, "login is empty (it is required)");
	else if (!rove_login_valid(login, strlen(login)))
		row_error(im, w->line, "invalid user name '%.64s' (letters, digits and . _ - @, beginning with a letter or digit, at most %u)", login,
			  ROVE_MAX_NAME);
	else if (rove_login_reserved(login))
		row_error(im, w->line, "'%s' is the server's own name", login);
	else if ((held = server_login(im, login)) != NULL)
		row_error(im, w->line, "user '%s' already exists%s%s%s", login, strcmp(held, login) != 0 ? " as '" : "",
			  strcmp(held, login) != 0 ? held : "", strcmp(held, login) != 0 ? "'" : "");
	if (role[0] == '\0')
		row_error(im, w->line, "role is empty (it is required)");
	else if (rove_role_parse(role) == 0)
		row_error(im, w->line, "invalid role '%.64s' (rep, manager, analyst or admin)", role);
	out = malloc(strlen(list) + 1);
	if (out == NULL)
		return ROVE_ENOMEM;
	out[0] = '\0';
	for (char *p = list, *end; p != NULL; p = end != NULL ? end + 1 : NULL) {
		char *code;
		end = strchr(p, ';');
		if (end != NULL)
			*end = '\0';
		code = trimmed(p);
		if (code == NULL) {
			free(out);
			return ROVE_ENOMEM;
		}
		if (code[0] != '\0' && !rove_code_valid(code, strlen(code)))
			row_error(im, w->line, "invalid territory code '%.64s' in territories", code);
		else if (im->dry_run && code[0] != '\0' && replica_code(im, code, false) == NULL)
			row_error(im, w->line, "no territory '%s' in this replica%s%s%s", code,
				  replica_code(im, code, true) != NULL ? " (codes are exact: '"
								       : " (as of its last sync: 'rove sync' if it is new)",
				  replica_code(im, code, true) != NULL ? replica_code(im, code, true) : "",
				  replica_code(im, code, true) != NULL ? "')" : "");
		else if (code[0] != '\0' && list_has(out, code))
			; /* named twice: held once */
		else if (code[0] != '\0' && ++n > ROVE_MAX_USER_TERRITORIES) {
			if (n == ROVE_MAX_USER_TERRITORIES + 1) /* said once a row */
				row_error(im, w->line, "a user holds at most %u territories", ROVE_MAX_USER_TERRITORIES);
		} else if (code[0] != '\0')
			strcat(strcat(out, out[0] != '\0' ? ";" : ""), code);
		free(code);
	}
	free(w->cell[2]);
	w->cell[2] = out;
	/* as the server says it: analysts and admins read everything and own nothing */
	if (out[0] != '\0' && rove_role_parse(role) != 0 && !rove_rules_role_may_own(rove_role_parse(role)))
		row_error(im, w->line, "%s is %s: territories are for reps and managers", login,
			  rove_role_with_article(rove_role_parse(role)));
	if (strlen(out) > ROVE_MAX_ADMIN_ARG)
		row_error(im, w->line,
			  "territories are longer than %u bytes, the most an administration request carries: give "
			  "the user the rest with 'rove admin assign'",
			  ROVE_MAX_ADMIN_ARG);
	return ROVE_OK;
}

static int keep_row(aimport *im, const rove_csv *csv)
{
	arow *w = rove_array_room(im->rows, im->n, &im->cap, sizeof(*w));

	if (w == NULL)
		return ROVE_ENOMEM;
	im->rows = w;
	w = &im->rows[im->n];
	w->line = rove_csv_line(csv);
	w->bad = false;
	for (int k = 0; k < (int)ROVE_ADMIN_IMPORT_ARITY; k++) {
		const char *cell = im->col[k] >= 0 ? rove_csv_unguard(rove_csv_cell(csv, (size_t)im->col[k])) : "";
		w->cell[k] = trimmed(cell);
		if (w->cell[k] == NULL) {
			while (k-- > 0)
				free(w->cell[k]);
			return ROVE_ENOMEM;
		}
	}
	im->n++;
	if (im->kind == KIND_TERRITORIES) {
		check_territory(im, w);
		return ROVE_OK;
	}
	return check_user(im, w);
}

/* Reads and checks every row; ROVE_EINVAL once a bad one is reported. */
static int read_file(aimport *im, FILE *f)
{
	rove_csv_limits lim = {ROVE_MAX_IMPORT_COLUMNS, ROVE_MAX_STR, ROVE_MAX_RECORD_BYTES};
	rove_csv *csv;
	bool header = false;
	int rc = rove_csv_open(f, &lim, &csv);

	while (rc == ROVE_OK && !im->file_bad) {
		im->row_bad = false;
		rc = rove_csv_next_data(csv);
		if (rc == ROVE_ENOTFOUND) {
			rc = ROVE_OK;
			break;
		}
		if (rc == ROVE_EIO) {
			rove_error("cannot read %s: %s", im->file, strerror(errno));
			break;
		}
		if (rc == ROVE_EINVAL) {
			rc = ROVE_OK;
			row_error(im, rove_csv_line(csv), "%s", rove_csv_error(csv));
			im->file_bad = !header;
		} else if (!header) {
			header = true;
			im->file_bad = read_header(im, csv) != ROVE_OK;
		} else if (im->n >= ROVE_MAX_ADMIN_IMPORT_ROWS) {
			row_error(im, rove_csv_line(csv), "more than %u rows: split the file", ROVE_MAX_ADMIN_IMPORT_ROWS);
			im->file_bad = true;
		} else {
			size_t kept = im->n;
			rc = keep_row(im, csv);
			if (im->n > kept)
				im->rows[kept].bad = im->row_bad;
		}
		if (im->row_bad && !im->file_bad)
			im->bad++;
	}
	if (rc == ROVE_OK && !header && !im->file_bad) {
		rove_error("%s: the file is empty (it needs a header row)", im->file);
		im->file_bad = true;
	}
	if (csv != NULL)
		rove_csv_close(csv);
	if (rc == ROVE_OK && (im->bad > 0 || im->file_bad))
		rc = ROVE_EINVAL;
	return rc;
}

/* ---- across rows ---- */

/* Names (codes, logins) twice in the file, ignoring case: the later row
 * is bad. Rows are few (ROVE_MAX_ADMIN_IMPORT_ROWS): sorted copies. */
typedef struct name_ref {
	const char *name;
	size_t row;
} name_ref;

static int fold_cmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		int x = *a >= 'A' && *a <= 'Z' ? *a - 'A' + 'a' : *a;
		int y = *b >= 'A' && *b <= 'Z' ? *b - 'A' + 'a' : *b;
		if (x != y || x == 0)
			return x - y;
	}
}

static int by_folded(const void *a, const void *b)
{
	const name_ref *x = a, *y = b;
	int c = fold_cmp(x->name, y->name);

	return c != 0 ? c : (x->row > y->row) - (x->row < y->row);
}

static int check_twice(aimport *im)
{
	name_ref *refs = malloc((im->n > 0 ? im->n : 1) * sizeof(*refs));

	if (refs == NULL)
		return ROVE_ENOMEM;
	for (size_t i = 0; i < im->n; i++)
		refs[i] = (name_ref){im->rows[i].cell[0], i};
	qsort(refs, im->n, sizeof(*refs), by_folded);
	for (size_t i = 1; i < im->n; i++) {
		const arow *w = &im->rows[refs[i].row], *first = &im->rows[refs[i - 1].row];
		if (w->cell[0][0] == '\0' || fold_cmp(refs[i].name, refs[i - 1].name) != 0)
			continue;
		im->row_bad = false;
		row_error(im, w->line, "%s '%s' is also on line %lu", columns[im->kind][0], w->cell[0], first->line);
		row_mark_bad(im, refs[i].row);
	}
	free(refs);
	return ROVE_OK;
}

static int by_exact(const void *a, const void *b)
{
	return strcmp(((const name_ref *)a)->name, ((const name_ref *)b)->name);
}

/* The territories of user rows that this replica lacks, said as a dry run
 * says them, once another row is bad and nothing is sent (else the server
 * judges them: the replica may not have a new one yet). */
static void check_user_codes(aimport *im)
{
	for (size_t i = 0; i < im->n; i++) {
		const char *p = im->rows[i].cell[2];
		bool bad = false;
		while (*p != '\0') {
			size_t len = strcspn(p, ";");
			char code[ROVE_MAX_NAME + 1];
			if (len <= ROVE_MAX_NAME) {
				memcpy(code, p, len);
				code[len] = '\0';
				if (replica_code(im, code, false) == NULL) {
					im->row_bad = false;
					row_error(im, im->rows[i].line,
						  "no territory '%s' in this replica (as of its last sync: 'rove sync' if it "
						  "is new)",
						  code);
					bad = true;
				}
			}
			p += len + (p[len] == ';');
		}
		if (bad)
			row_mark_bad(im, i);
	}
}

/* Territories in an order where each parent comes before its children
 * (file order otherwise): order[] gets row indices, *placed how many. A
 * parent neither in the file nor in the replica, or a loop of parents,
 * makes a row bad. */
static int sort_territories(aimport *im, size_t *order, size_t *placed)
{
	size_t n = im->n > 0 ? im->n : 1;
	unsigned char *state = calloc(n, 1); /* 0 new, 1 on the walk, 2 done */
	size_t *parent = malloc(n * sizeof(*parent));
	name_ref *refs = malloc(n * sizeof(*refs));

	*placed = 0;
	if (state == NULL || parent == NULL || refs == NULL) {
		free(state);
		free(parent);
		free(refs);
		return ROVE_ENOMEM;
	}
	/* Each row's parent among the rows (SIZE_MAX: none, or the replica's). */
	for (size_t i = 0; i < im->n; i++)
		refs[i] = (name_ref){im->rows[i].cell[0], i};
	qsort(refs, im->n, sizeof(*refs), by_exact);
	for (size_t i = 0; i < im->n; i++) {
		name_ref key = {im->rows[i].cell[2], 0};
		const name_ref *hit = key.name[0] != '\0' ? bsearch(&key, refs, im->n, sizeof(*refs), by_exact) : NULL;
		parent[i] = hit != NULL ? hit->row : SIZE_MAX;
		if (key.name[0] != '\0' && hit == NULL && replica_code(im, key.name, false) == NULL) {
			im->row_bad = false;
			row_error(im, im->rows[i].line,
				  "no parent territory '%s' (neither in the file nor in this replica, as of its last sync: "
				  "'rove sync' if it is new)",
				  key.name);
			row_mark_bad(im, i);
		}
	}
	/* From each row up to a placed ancestor or the top, then placed
	 * top first. */
	for (size_t i = 0; i < im->n; i++) {
		size_t path[ROVE_MAX_TREE_DEPTH + 1], depth = 0, at = i;
		bool loop = false;

		while (state[at] != 2) {
			if (state[at] == 1 || depth > ROVE_MAX_TREE_DEPTH) {
				loop = true;
				break;
			}
			state[at] = 1;
			path[depth++] = at;
			if (parent[at] == SIZE_MAX)
				break;
			at = parent[at];
		}
		if (loop) {
			im->row_bad = false;
			row_error(im, im->rows[i].line,
				  "territory '%s' is under itself (a loop of parents) or more than %d levels deep",
				  im->rows[i].cell[0], ROVE_MAX_TREE_DEPTH);
			row_mark_bad(im, i);
		}
		while (depth > 0) {
			size_t k = path[--depth];
			state[k] = 2;
			if (!loop)
				order[(*placed)++] = k;
		}
	}
	free(state);
	free(parent);
	free(refs);
	return ROVE_OK;
}

/* ---- sending ---- */

/* The answer's lines: an import's id, or the users' tokens. */
typedef struct answer {
	char id[ROVE_MAX_NAME + 1];
	bool users;   /* print each line (login,token) */
	size_t lines;
	cli_secret *tokens; /* users: where they are printed */
} answer;

static void take_id(const char *s, uint32_t len, void *arg)
{
	answer *a = arg;

	if (a->lines++ == 0)
		snprintf(a->id, sizeof(a->id), "%.*s", (int)(len < ROVE_MAX_NAME ? len : ROVE_MAX_NAME), s);
}

static void take_line(const char *s, uint32_t len, void *arg)
{
	answer *a = arg;

	if (a->users && a->lines == 0) /* the header once the users are made */
		cli_secret_line(a->tokens, "login,token", (uint32_t)strlen("login,token"));
	if (a->users)
		cli_secret_line(a->tokens, s, len);
	a->lines++;
}

/* A refusal of the server naming a row ("row N: why"), as the file's
 * line; others as they are. */
static bool say_refusal(aimport *im, const size_t *order, const char *err)
{
	unsigned long row = 0;
	int used = 0;
	char text[ROVE_MAX_ERRMSG * 3];

	if (sscanf(err, "row %lu: %n", &row, &used) == 1 && used > 0 && row >= 1 && row <= im->n) {
		snprintf(text, sizeof(text), "%s:%lu: %s", im->file, im->rows[order[row - 1]].line, err + used);
		msg_keep(im, im->rows[order[row - 1]].line, text);
		return true;
	}
	msg_keep(im, ULONG_MAX, err);
	return false;
}

/* import.check's answer: each line a bad row's refusal ("row N: why"),
 * said as the file's line; the last may say how many more. */
typedef struct checked {
	aimport *im;
	const size_t *order;
	uint32_t lines, rows; /* said; of them, rows named */
} checked;

static void take_check(const char *s, uint32_t len, void *arg)
{
	checked *c = arg;
	char line[ROVE_MAX_ERRMSG + 1];

	snprintf(line, sizeof(line), "%.*s", (int)(len < ROVE_MAX_ERRMSG ? len : ROVE_MAX_ERRMSG), s);
	if (say_refusal(c->im, c->order, line))
		c->rows++;
	c->lines++;
}

/* Stages the rows (in order) on the server: the import's id in a. */
static int stage_rows(aimport *im, const rove_cli *cli, const size_t *order, const char **args, answer *a,
		      char *err, size_t errlen)
{
	const uint32_t per = (ROVE_MAX_ADMIN_ARGS - 2) / ROVE_ADMIN_IMPORT_ARITY;
	char first[24];
	int rc;

	args[0] = im->kind == KIND_TERRITORIES ? "territories" : "users";
	a->id[0] = '\0';
	a->lines = 0;
	rc = rove_admin_call(im->r, cli->timeout_ms, "import.begin", args, 1, take_id, a, err, errlen);
	if (rc == ROVE_OK && a->id[0] == '\0')
		rc = ROVE_EPROTO;
	for (size_t i = 0; rc == ROVE_OK && i < im->n; i += per) {
		uint32_t n = 2;
		snprintf(first, sizeof(first), "%zu", i);
		args[0] = a->id;
		args[1] = first;
		for (size_t k = i; k < im->n && k < i + per; k++)
			for (uint32_t c = 0; c < ROVE_ADMIN_IMPORT_ARITY; c++)
				args[n++] = im->rows[order[k]].cell[c];
		rc = rove_admin_call(im->r, cli->timeout_ms, "import.rows", args, n, take_id, a, err, errlen);
	}
	return rc;
}

/* Stages the rows (in order) on the server and commits them. The server
 * keeps staged rows in memory: if it lost them before the commit (it was
 * restarted meanwhile), nothing was imported, and they are staged once
 * more. */
static int send_rows(aimport *im, const rove_cli *cli, const size_t *order)
{
	const char *args[ROVE_MAX_ADMIN_ARGS];
	char err[ROVE_MAX_ERRMSG + 1], hint[ROVE_NET_HINT_BUF];
	answer a = {"", im->kind == KIND_USERS, 0, NULL};
	cli_secret tokens;
	bool unwritten = false; /* the tokens went to stderr */
	int rc;

	for (int attempt = 0;; attempt++) {
		err[0] = '\0';
		rc = stage_rows(im, cli, order, args, &a, err, sizeof(err));
		if (rc == ROVE_OK) {
			args[0] = a.id;
			a.lines = 0;
			a.tokens = &tokens;
			cli_secret_begin(&tokens);
			/* The last step, asked again while no answer comes (the
			 * same request: done once, answered as the first time,
			 * with the new users' tokens). */
			rc = rove_admin_call_asks(im->r, cli->timeout_ms, ROVE_ADMIN_COMMIT_ASKS, "import.commit", args,
						  1, take_line, &a, err, sizeof(err));
			unwritten = cli_secret_end(&tokens, ROVE_EXIT_OK, "the new users' tokens (login,token)") !=
				    ROVE_EXIT_OK;
			if (rove_err_unreached(rc)) {
				rove_error("no answer from the server at %s (%s) to the import's last step: it may or "
					   "may not have been made; see %s",
					   im->r->server, rove_strerror(rc),
					   a.users ? "'rove admin user list' (a user made meanwhile gets a token with "
						     "'rove admin user token LOGIN')"
						   : "'rove territory list' after 'rove sync'");
				return rc;
			}
		}
		if (attempt + 1 >= ROVE_MAX_IMPORT_TRIES || rc != ROVE_ENOTFOUND ||
		    strncmp(err, "no such import", 14) != 0)
			break;
		rove_warn("the server lost the staged rows (%s): sending them again",
			  strstr(err, "started anew") != NULL ? "it started anew"
							      : "another import replaced them, or they expired");
	}
	if (rc == ROVE_OK) {
		/* The server may forget the staged rows now; if this does not
		 * arrive, it does so by itself later. */
		char ignored[ROVE_MAX_ERRMSG + 1];
		(void)rove_admin_call(im->r, cli->timeout_ms, "import.end", args, 1, take_id, &a, ignored,
				      sizeof(ignored));
		if (!a.users)
			printf("imported %zu territor%s\n", im->n, im->n == 1 ? "y" : "ies");
		return unwritten ? ROVE_EIO : ROVE_OK; /* EIO: said */
	}
	if (rove_err_unreached(rc)) {
		rove_error("cannot reach the server at %s (%s%s)", im->r->server, rove_strerror(rc),
			   rove_net_why_unreached(im->r->server, hint, sizeof(hint)));
	} else if (strncmp(err, "row ", 4) == 0) {
		/* commit names the first bad row; import.check names them all
		 * (a server without it: the first alone) */
		checked c = {im, order, 0, 0};
		char cerr[ROVE_MAX_ERRMSG + 1];
		args[0] = a.id;
		if (rove_admin_call(im->r, cli->timeout_ms, "import.check", args, 1, take_check, &c, cerr,
				    sizeof(cerr)) != ROVE_OK ||
		    c.lines == 0) {
			msgs_say(im);
			c.rows = say_refusal(im, order, err) ? 1 : 0;
		}
		msgs_say(im);
		/* (counted as the file's own checks count them: attack
		 * ninety-four read "nothing imported" alone) */
		if (c.rows > 0 && c.lines == c.rows) {
			rove_error("%s: %" PRIu32 " bad row%s; nothing imported", im->file, c.rows,
				   c.rows == 1 ? "" : "s");
			return rc;
		}
	} else {
		say_refusal(im, order, err[0] ? err : rove_strerror(rc));
	}
	msgs_say(im);
	rove_error("%s: nothing imported", im->file);
	return rc;
}

static const char usage[] = "usage: rove admin import territories|users FILE.csv [--dry-run]\n";

const char cmd_admin_import_help[] =
	"usage: rove admin import territories|users FILE.csv [--dry-run]\n"
	"\n"
	"(admins) Create many territories or users at once, from a CSV file\n"
	"(RFC 4180, UTF-8; FILE '-' reads standard input) whose header row\n"
	"names the columns, in any order:\n"
	"  territories  code (required), name (required), parent\n"
	"  users        login (required), role (required: rep, manager, analyst\n"
	"               or admin), territories (codes separated by ';')\n"
	"Territories may come in any order: parents are made before their\n"
	"children. A parent is on another row or exists already.\n"
	"\n"
	"All or nothing: every row is checked first, and every bad row reported\n"
	"as FILE:LINE (a code or login that is not one, or is on an earlier line\n"
	"or exists already - wang and WANG are one name -, an unknown role, a\n"
	"parent found nowhere, a loop of parents); one bad row and nothing is\n"
	"sent. The server then checks the rows again against what it holds and\n"
	"makes them all in one transaction, or none.\n"
	"\n"
	"Users: prints login,token as CSV on stdout (a header row, then a row\n"
	"per new user): give each user their token for 'rove init'.\n"
	"Territories: prints how many were made. A name or a user's list of\n"
	"territories may hold at most 256 bytes.\n"
	"\n"
	"  --dry-run   check the file against this replica (its territories as of\n"
	"              its last sync) and the server's users; import nothing\n";

static void aimport_free(aimport *im)
{
	for (size_t i = 0; i < im->n; i++)
		for (int k = 0; k < (int)ROVE_ADMIN_IMPORT_ARITY; k++)
			free(im->rows[i].cell[k]);
	for (size_t i = 0; i < im->ncodes; i++)
		free(im->codes[i]);
	for (size_t i = 0; i < im->nlogins; i++)
		free(im->logins[i]);
	for (size_t i = 0; i < im->nmsgs; i++)
		free(im->msgs[i].text);
	free(im->msgs);
	free(im->rows);
	free(im->codes);
	free(im->logins);
}

int cmd_admin_import(rove_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"dry-run", no_argument, NULL, CLI_OPT_LONG},
		{NULL, 0, NULL, 0},
	};
	aimport im;
	rove_replica r;
	const char *what = NULL, *path = NULL;
	char err[ROVE_MAX_ERRMSG];
	bool dry_run = false;
	size_t *order = NULL, placed = 0;
	cli_opt o;
	FILE *f;
	int k, role, rc;

	if (cli_opt_help(argc, argv, 2))
		return cli_usage(cmd_admin_import_help, true);
	cli_opt_init(&o, argc, argv, 2, opts);
	while ((k = cli_opt_next(&o)) != CLI_OPT_END) {
		if (k == CLI_OPT_LONG) {
			dry_run = true;
		} else if (k != CLI_OPT_WORD) {
			if (!cli_opt_said(k))
				rove_error("unknown option '%s'", o.arg);
			return cli_usage(usage, false);
		} else if (what == NULL) {
			what = o.arg;
		} else if (path == NULL) {
			path = o.arg;
		} else {
			cli_word_unexpected(o.arg);
			return cli_usage(usage, false);
		}
	}
	memset(&im, 0, sizeof(im));
	if (what != NULL && strcmp(what, "territories") == 0)
		im.kind = KIND_TERRITORIES;
	else if (what != NULL && strcmp(what, "users") == 0)
		im.kind = KIND_USERS;
	if (im.kind == 0 || path == NULL) {
		if (im.kind == 0 && what != NULL)
			rove_error("cannot import '%s' (import territories or users)", what);
		else if (what == NULL)
			rove_error("missing what to import (territories or users), and the file");
		else
			rove_error("missing the file to import (FILE.csv, or - for standard input)");
		return cli_usage(usage, false);
	}
	im.file = strcmp(path, "-") == 0 ? "stdin" : path;
	im.dry_run = dry_run;
	/* (a file that cannot be opened is said before the server is
	 * asked anything) */
	f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL) {
		rove_error("cannot open %s: %s", path, strerror(errno));
		return ROVE_EXIT_FAIL;
	}
	if (im.kind == KIND_USERS) {
		/* The server's users, to name every login that clashes (the
		 * replica does not hold them); a dry run goes on without. */
		int status = cmd_admin_users(cli, NULL, keep_login, &im);
		if (im.nomem) {
			rove_error("out of memory");
			status = ROVE_EXIT_FAIL;
		}
		if (status != ROVE_EXIT_OK && !dry_run) {
			aimport_free(&im);
			if (f != stdin)
				fclose(f);
			return status;
		}
		if (status != ROVE_EXIT_OK)
			rove_warn("logins not checked against the server's users (the server could not be asked)");
	}
	rc = cli_open(cli, &r);
	if (rc != ROVE_OK) {
		if (f != stdin)
			fclose(f);
		return cli_exit(rc);
	}
	im.r = &r;
	role = rove_role_parse(r.role); /* 0 before the first sync: the server decides */
	if (role != 0 && rove_rules_may(role, ROVE_ACT_ADMINISTER, err, sizeof(err)) != ROVE_R_NONE) {
		rove_error("not allowed: %s (you are %s)", err, rove_role_with_article(role));
		rc = ROVE_EPERM;
	}
	if (rc == ROVE_OK)
		rc = rove_replica_each(&r, ROVE_COLL_TERRITORY, keep_code, &im);
	if (rc == ROVE_OK)
		rc = read_file(&im, f);
	/* (rows bad alone, and those bad across rows too: attack ninety-three
	 * was shown three of five bad rows, the rest only once those were
	 * mended) */
	if (rc == ROVE_EINVAL && !im.file_bad)
		rc = ROVE_OK;
	if (rc == ROVE_OK)
		rc = check_twice(&im);
	if (rc == ROVE_OK) {
		order = malloc((im.n > 0 ? im.n : 1) * sizeof(*order));
		rc = order != NULL ? ROVE_OK : ROVE_ENOMEM;
	}
	if (rc == ROVE_OK && im.kind == KIND_TERRITORIES) {
		rc = sort_territories(&im, order, &placed);
	} else if (rc == ROVE_OK) {
		for (size_t i = 0; i < im.n; i++)
			order[i] = i;
	}
	if (rc == ROVE_OK && im.kind == KIND_USERS && im.bad > 0 && !dry_run)
		check_user_codes(&im);
	if (rc == ROVE_OK && im.bad > 0)
		rc = ROVE_EINVAL;
	msgs_say(&im);
	if (rc == ROVE_EINVAL && im.file_bad)
		rove_error("%s: nothing imported", im.file);
	else if (rc == ROVE_EINVAL)
		rove_error("%s: %zu bad row%s; nothing imported", im.file, im.bad, im.bad == 1 ? "" : "s");
	else if (rc != ROVE_OK && rc != ROVE_EPERM && rc != ROVE_EIO)
		rove_error("cannot import %s: %s", im.file, rove_strerror(rc));
	if (rc == ROVE_OK && dry_run)
		printf("would import %zu %s\n", im.n,
		       im.kind == KIND_USERS ? (im.n == 1 ? "user" : "users") : (im.n == 1 ? "territory" : "territories"));
	else if (rc == ROVE_OK)
		rc = send_rows(&im, cli, order);
	rove_replica_close(&r);
	if (f != stdin)
		fclose(f);
	free(order);
	aimport_free(&im);
	return cli_exit(rc);
}
