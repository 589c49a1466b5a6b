/*
 * ui_server.c - `rove ui [--port N] [--open]`: the HTTP server on
 * 127.0.0.1 (common/http1.c's), and what it checks before a page is made.
 *
 * A browser is a hostile neighbour: any page it shows may send requests
 * to 127.0.0.1, and it sends its cookies for 127.0.0.1 to every port
 * there, so a program listening on another local port that the browser
 * visits learns them. So the access token (in the URL printed at start)
 * is never a cookie: it is exchanged for a session, whose credential is
 * two secrets drawn for it, a path (/s/SECRET/, every page's <base>, all
 * links relative to it: another port never sees it, another origin, to
 * which Referrer-Policy: same-origin sends no Referer) and a cookie
 * (HttpOnly, SameSite=Strict, scoped to that path); a request needs
 * both. Its Host header must be the address printed (a DNS rebinding
 * attack names another host), every change is a POST whose form carries
 * the session's CSRF token (and whose Origin, if sent, is ours), nothing
 * answers CORS, and every answer carries a Content-Security-Policy that
 * allows only this origin (no inline script, no other site).
 */
#include "ui.h"
#include "ui_sync.h"
#include "cli_opt.h"
#include "err.h"
#include "log.h"
#include "random.h"
#include "rove_assert.h"
#include "text.h"

#include "http1.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sys/resource.h>
#include <unistd.h>

extern char **environ;

static const char help[] =
	"usage: rove ui [--port N] [--open]\n"
	"\n"
	"Serve this replica to a browser on 127.0.0.1: Today, Customers and\n"
	"their cards, Deals, Reports, Sync and refused changes, in Chinese or\n"
	"English. Prints the URL, with its access token, alone on stdout; open\n"
	"it in a browser on this computer. Works offline; changes are checked\n"
	"and queued as the commands do, and sent by Sync. Stops on Ctrl-C.\n"
	"  --port N   listen on port N (default: a free port)\n"
	"  --open     open the URL in the desktop's browser (xdg-open)\n";

enum { OPT_PORT = CLI_OPT_LONG, OPT_OPEN };

static const struct option ui_opts[] = {
	{"port", required_argument, NULL, OPT_PORT},
	{"open", no_argument, NULL, OPT_OPEN},
	{NULL, 0, NULL, 0},
};

/* Room for a token in hex: 32 random bytes. */
#define UI_TOKEN_HEX 64

/* A session: what one visit of the printed URL was given. */
typedef struct ui_session {
	bool used;
	uint64_t last;                  /* when last used: the oldest goes first */
	char path[UI_TOKEN_HEX + 1];    /* the secret in its path, /s/PATH/ */
	char cookie[UI_TOKEN_HEX + 1];  /* its cookie's value */
	char csrf[UI_TOKEN_HEX + 1];    /* its forms' CSRF token */
} ui_session;

/* The server's state, read by every request after start. */
typedef struct ui_server {
	rove_cli *cli;
	pthread_mutex_t lock; /* one request at a time (ui.h) */
	char token[UI_TOKEN_HEX + 1];
	pthread_mutex_t slock; /* sessions and clock */
	ui_session sessions[ROVE_UI_MAX_SESSIONS];
	uint64_t clock;
	char host[32];        /* "127.0.0.1:PORT", the only Host taken */
	char origin[48];      /* "http://127.0.0.1:PORT" */
	char cookie[24];      /* the cookie's name: rove_ui_PORT */
	ui_sync sync;         /* the Sync button's run (ui_sync.h) */
} ui_server;

/* Whether a (len bytes) is the secret s, in time that does not depend on
 * where they differ. */
static bool secret_is(const char *a, size_t len, const char *s)
{
	unsigned char d = 0;

	if (len != strlen(s))
		return false;
	for (size_t i = 0; i < len; i++)
		d |= (unsigned char)(a[i] ^ s[i]);
	return d == 0;
}

/* ---- parsing what a request carries ---- */

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decodes src[0..n) into dst (room for n + 1), '+' as a space
 * when plus; false for a bad escape or a NUL byte. */
static bool url_decode(const char *src, size_t n, char *dst, bool plus)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		char c = src[i];
		if (c == '%') {
			int h, l;
			if (i + 2 >= n || (h = hexval(src[i + 1])) < 0 || (l = hexval(src[i + 2])) < 0)
				return false;
			c = (char)(h * 16 + l);
			i += 2;
		} else if (c == '+' && plus) {
			c = ' ';
		}
		if (c == '\0')
			return false;
		dst[k++] = c;
	}
	dst[k] = '\0';
	return true;
}

/* A browser sends a textarea's line breaks as CRLF (the HTML standard's
 * form encoding): each becomes the LF that notes and addresses hold, in
 * place. A CR alone stays, and a value's check refuses it. */
static void crlf_to_lf(char *v)
{
	char *w = v;

	for (const char *r = v; *r != '\0'; r++)
		if (!(r[0] == '\r' && r[1] == '\n'))
			*w++ = *r;
	*w = '\0';
}

/* name=value&... (n bytes of s) into x->params, decoded into arena
 * (advanced; room for n + count bytes). False when malformed or too
 * many, or when a name comes twice (in the query or the form, or in
 * both): no form of ours sends one twice, and taking either value would
 * be a guess (*twice: that name). */
static bool parse_params(ui_ctx *x, const char *s, size_t n, char **arena, const char **twice)
{
	size_t i = 0;

	while (i < n) {
		size_t end = i, eq;
		char *name, *value;
		while (end < n && s[end] != '&')
			end++;
		for (eq = i; eq < end && s[eq] != '='; eq++)
			;
		if (end > i) {
			if (x->nparams >= ROVE_UI_MAX_PARAMS)
				return false;
			name = *arena;
			if (!url_decode(s + i, eq - i, name, true))
				return false;
			*arena += strlen(name) + 1;
			value = *arena;
			if (!url_decode(s + (eq < end ? eq + 1 : end), eq < end ? end - eq - 1 : 0, value, true))
				return false;
			crlf_to_lf(value);
			*arena += strlen(value) + 1;
			if (ui_param_get(x, name) != NULL) {
				*twice = name;
				return false;
			}
			x->params[x->nparams].name = name;
			x->params[x->nparams++].value = value;
		}
		i = end + 1;
	}
	return true;
}

const char *ui_param_get(const ui_ctx *x, const char *name)
{
	for (size_t i = 0; i < x->nparams; i++)
		if (strcmp(x->params[i].name, name) == 0)
			return x->params[i].value;
	return NULL;
}

/* The value of cookie name in a Cookie header into out; false if none. */
static bool cookie_get(const char *header, const char *name, char *out, size_t len)
{
	size_t nl = strlen(name);
	const char *p = header;

	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == ';')
			p++;
		if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
			const char *v = p + nl + 1;
			size_t vl = strcspn(v, ";");
			if (vl >= len)
				return false;
			memcpy(out, v, vl);
			out[vl] = '\0';
			return true;
		}
		p = strchr(p, ';');
	}
	return false;
}

/* ---- answering ---- */

static void sink(int level, const char *line, void *arg)
{
	ui_ctx *x = arg;
	size_t n = strlen(line);

	if (level > ROVE_LOG_WARN || x->nerrors + n + 2 > sizeof(x->errors))
		return;
	memcpy(x->errors + x->nerrors, line, n);
	x->nerrors += n;
	x->errors[x->nerrors++] = '\n';
	x->errors[x->nerrors] = '\0';
}

/* An answer with the headers every answer carries, then extra ("Name:
 * value\r\n" each, or ""). */
static int reply(rove_buf *out, const rove_http1_req *req, int status, const char *type, const char *extra,
		 const void *body, size_t len)
{
	char h[2048];
	int n = snprintf(h, sizeof(h),
			 "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
			 "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'\r\n"
			 "X-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\nReferrer-Policy: same-origin\r\n"
			 "Cache-Control: no-store\r\nCross-Origin-Resource-Policy: same-origin\r\n%s",
			 extra);

	if (n < 0 || (size_t)n >= sizeof(h))
		return ROVE_ETOOBIG; /* extra is ours: a URL and a cookie at most */
	return rove_http1_reply(out, req, status, type, h, body, len);
}

/* A refusal before any page: status and a line of plain text. */
static int refuse(rove_buf *out, const rove_http1_req *req, int status, const char *text)
{
	return reply(out, req, status, "text/plain; charset=utf-8", "", text, strlen(text));
}

static const char *asset_type(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (dot != NULL && strcmp(dot, ".css") == 0)
		return "text/css; charset=utf-8";
	if (dot != NULL && strcmp(dot, ".js") == 0)
		return "text/javascript; charset=utf-8";
	if (dot != NULL && strcmp(dot, ".svg") == 0)
		return "image/svg+xml";
	return "application/octet-stream";
}

/* The answer to one request that passed the checks, into out. */
static int answer(ui_server *s, const ui_session *se, const rove_http1_req *req, bool post, const char *path,
		  const char *query, size_t qlen, rove_buf *out)
{
	ui_ctx *x = calloc(1, sizeof(*x));
	char *arena = NULL, *a;
	const char *twice = NULL; /* a parameter given twice */
	const char *body = post ? req->body : "";
	size_t blen = post ? req->body_len : 0;
	const char *accept = rove_http1_header(req, "Accept-Language");
	const char *cookies = rove_http1_header(req, "Cookie");
	char lang[8];
	char base[UI_TOKEN_HEX + 8];
	char extra[ROVE_UI_MAX_URL + UI_TOKEN_HEX + 256];
	size_t ne = 0;
	int rc;

	if (x == NULL)
		return refuse(out, req, 500, "out of memory\n");
	arena = malloc(3 * qlen + 2 * blen + 2 * ROVE_UI_MAX_PARAMS + strlen(path) + 16);
	if (arena == NULL) {
		free(x);
		return refuse(out, req, 500, "out of memory\n");
	}
	a = arena;
	x->cli = s->cli;
	x->post = post;
	x->path = path;
	/* the query as it came (still encoded), for a link back to the page */
	if (qlen > 0)
		memcpy(a, query, qlen);
	a[qlen] = '\0';
	x->query = a;
	a += qlen + 1;
	x->csrf = se->csrf;
	snprintf(base, sizeof(base), "/s/%s/", se->path);
	x->base = base;
	x->lang = ui_lang_from_header(accept);
	if (cookies != NULL && cookie_get(cookies, "rove_lang", lang, sizeof(lang)))
		x->lang = strcmp(lang, "zh") == 0 ? UI_ZH : UI_EN;
	if (!parse_params(x, query, qlen, &a, &twice) || (post && !parse_params(x, body, blen, &a, &twice))) {
		char why[ROVE_TEXT_QUOTE_BUF + 64], q[ROVE_TEXT_QUOTE_BUF];
		if (twice != NULL)
			snprintf(why, sizeof(why), "parameter '%s' given twice\n", rove_text_quote(twice, strlen(twice), q));
		else
			snprintf(why, sizeof(why), "malformed parameters\n");
		rc = refuse(out, req, 400, why);
		goto out;
	}
	if (post) {
		const char *t = ui_param_get(x, "csrf");
		if (t == NULL || !secret_is(t, strlen(t), se->csrf)) {
			rc = refuse(out, req, 403, "refused: this form does not carry this server's CSRF token\n");
			goto out;
		}
	}
	x->status = 200;
	/* the Sync button's requests: not under the request lock, so no sink
	 * (the pages own it); the sync runs in a child process (ui_sync.h) */
	bool sync_req = ui_sync_unlocked(post, path);
	if (!sync_req)
		rove_log_set_sink(sink, x);
	if (sync_req && !post) {
		ui_sync_status(&s->sync, x);
	} else if (sync_req && strcmp(path, "/sync/start") == 0) {
		ui_sync_start(&s->sync, x);
	} else if (sync_req) {
		/* POST /sync, the form without script: on failure, the Sync
		 * page (a page: under the request lock) says why */
		if (!ui_sync_post(&s->sync, x)) {
			pthread_mutex_lock(&s->lock);
			rove_log_set_sink(sink, x);
			x->post = false;
			ui_route(x);
			rove_log_set_sink(NULL, NULL);
			pthread_mutex_unlock(&s->lock);
		}
	} else if (!post && strncmp(path, "/static/", 8) == 0) {
		x->status = 404;
		for (size_t i = 0; i < ui_nassets; i++)
			if (strcmp(path + 8, ui_assets[i].name) == 0) {
				x->status = 200;
				x->type = asset_type(ui_assets[i].name);
				ui_putn(&x->out, (const char *)ui_assets[i].data, ui_assets[i].len);
			}
	} else {
		if (!post && strcmp(path, "/sync") == 0 && ui_param_get(x, "warned") != NULL)
			ui_sync_warnings(&s->sync, x);
		ui_route(x);
	}
	if (!sync_req)
		rove_log_set_sink(NULL, NULL);
	if (x->out.failed) {
		rc = refuse(out, req, 500, "the page is too large or memory ran out\n");
		goto out;
	}
	extra[0] = '\0';
	if (x->location[0] != '\0') /* the pages name their paths from the root: in the session's */
		ne += (size_t)snprintf(extra + ne, sizeof(extra) - ne, "Location: /s/%s%s%s\r\n", se->path,
				       x->location[0] == '/' ? "" : "/", x->location);
	if (x->filename[0] != '\0' && ne < sizeof(extra))
		/* a name ui_reports.c made of [a-z0-9.-] alone: no quoting needed */
		ne += (size_t)snprintf(extra + ne, sizeof(extra) - ne,
				       "Content-Disposition: attachment; filename=\"%s\"\r\n", x->filename);
	if (x->lang_cookie[0] != '\0' && ne < sizeof(extra))
		ne += (size_t)snprintf(extra + ne, sizeof(extra) - ne,
				       "Set-Cookie: rove_lang=%s; Path=/; SameSite=Strict; Max-Age=31536000\r\n", x->lang_cookie);
	if (ne >= sizeof(extra)) {
		rc = refuse(out, req, 500, "an answer's headers too long\n");
		goto out;
	}
	if (x->location[0] != '\0')
		rc = reply(out, req, 303, "text/plain; charset=utf-8", extra, "see other\n", 10);
	else if (x->out.len > 0)
		rc = reply(out, req, x->status, x->type != NULL ? x->type : "text/html; charset=utf-8", extra, x->out.data,
			   x->out.len);
	else
		rc = reply(out, req, x->status, x->type != NULL ? x->type : "text/html; charset=utf-8", extra,
			   x->status == 404 ? "not found\n" : "\n", x->status == 404 ? 10 : 1);
out:
	ui_buf_free(&x->out);
	free(x);
	free(arena);
	return rc;
}

/* A 303 to loc, with the cookie setc if not NULL. */
static int see_other(rove_buf *out, const rove_http1_req *req, const char *loc, const char *setc)
{
	char extra[ROVE_UI_MAX_URL + 2 * UI_TOKEN_HEX + 160];
	int n = snprintf(extra, sizeof(extra), "Location: %s\r\n%s%s%s", loc, setc != NULL ? "Set-Cookie: " : "",
			 setc != NULL ? setc : "", setc != NULL ? "\r\n" : "");

	ROVE_ASSERT(n > 0 && (size_t)n < sizeof(extra)); /* ours: a session's path and cookie */
	return reply(out, req, 303, "text/plain; charset=utf-8", extra, "see other\n", 10);
}

/* A new session (the token was shown) into *out: a free slot, or the one
 * least recently used. */
static int session_new(ui_server *s, ui_session *out)
{
	ui_session n = {.used = true};
	ui_session *slot = NULL;

	if (rove_random_hex(n.path, UI_TOKEN_HEX / 2) != ROVE_OK ||
	    rove_random_hex(n.cookie, UI_TOKEN_HEX / 2) != ROVE_OK ||
	    rove_random_hex(n.csrf, UI_TOKEN_HEX / 2) != ROVE_OK)
		return ROVE_EIO;
	pthread_mutex_lock(&s->slock);
	for (size_t i = 0; i < ROVE_UI_MAX_SESSIONS; i++) {
		ui_session *e = &s->sessions[i];
		if (!e->used) {
			slot = e;
			break;
		}
		if (slot == NULL || e->last < slot->last)
			slot = e;
	}
	n.last = ++s->clock;
	*slot = n;
	*out = n;
	pthread_mutex_unlock(&s->slock);
	return ROVE_OK;
}

/* The session whose path secret is sec (len bytes) and whose cookie is
 * cookie, copied into *out; false if none. Every slot is compared, in
 * time that does not depend on which matched. */
static bool session_find(ui_server *s, const char *sec, size_t len, const char *cookie, ui_session *out)
{
	bool found = false;

	pthread_mutex_lock(&s->slock);
	for (size_t i = 0; i < ROVE_UI_MAX_SESSIONS; i++) {
		ui_session *e = &s->sessions[i];
		bool p = secret_is(sec, len, e->path), c = secret_is(cookie, strlen(cookie), e->cookie);
		if (e->used && p && c && !found) {
			e->last = ++s->clock;
			*out = *e;
			found = true;
		}
	}
	pthread_mutex_unlock(&s->slock);
	return found;
}

/* The page answered to a head past ROVE_UI_MAX_HEAD, in both languages
 * (its Accept-Language is not read). Cookies on 127.0.0.1 are sent to
 * every port: a page of another local server can set enough of them to
 * make every request of the browser too large, and so shut the user out
 * until the cookies are cleared; the answer clears them
 * (Clear-Site-Data: http://127.0.0.1 is a trustworthy origin). */
static const char big_head_page[] =
	"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>rove: too many cookies</title></head>\n"
	"<body><h1>Too many cookies for 127.0.0.1</h1>\n"
	"<p>Your browser sent rove ui more headers than it takes, most likely cookies: cookies on 127.0.0.1 "
	"are shared by every local site and port, so another local program or page may have set them.</p>\n"
	"<p>This answer has asked the browser to clear the cookies of 127.0.0.1 (your sessions of other local "
	"sites on 127.0.0.1 too). Open the URL rove ui printed again to start a new session.</p>\n"
	"<h1 lang=\"zh\">127.0.0.1 的 Cookie 过多</h1>\n"
	"<p lang=\"zh\">浏览器发给 rove ui 的请求头超出上限，多半是 Cookie：127.0.0.1 的 Cookie 由本机所有站点和端口共享，"
	"可能是本机别的程序或网页设置的。</p>\n"
	"<p lang=\"zh\">本回答已请浏览器清除 127.0.0.1 的 Cookie（包括本机其他站点的会话）。请重新打开 rove ui 打印的网址，开始新的会话。</p>\n"
	"</body></html>\n";

/* The 403 to a session's path without its cookie (or with another):
 * a page in the user's language, since the likely cause is not the
 * user's doing. Cookies on 127.0.0.1 are shared by every local site, and
 * one that sets many makes the browser evict this session's. */
#define UI_STR(x) #x
#define UI_XSTR(x) UI_STR(x) /* a limit's digits, in a page's text */

static int no_session(ui_server *s, const rove_http1_req *req, rove_buf *out)
{
	const char *accept = rove_http1_header(req, "Accept-Language");
	const char *cookies = rove_http1_header(req, "Cookie");
	char lang[8];
	int l = ui_lang_from_header(accept);
	static const char en[] =
		"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>rove: session gone</title></head>\n"
		"<body><h1>This session's cookie is gone</h1>\n"
		"<p>Your browser did not send the cookie of this rove ui session (or sent another). Cookies on 127.0.0.1 "
		"are shared by every local site and port: another local program or page may have pushed it out. Or the URL "
		"rove ui printed was opened in " UI_XSTR(ROVE_UI_MAX_SESSIONS) " more tabs or browsers since this session was last used: "
		"each makes a session, and the least recently used one is closed to make room. Or rove ui "
		"was restarted, which ends every session.</p>\n"
		"<p>Open the URL rove ui printed again (the one with <code>?token=</code>) to start a new session.</p>\n"
		"</body></html>\n";
	static const char zh[] =
		"<!DOCTYPE html>\n<html lang=\"zh\"><head><meta charset=\"utf-8\"><title>rove：会话已失效</title></head>\n"
		"<body><h1>本会话的 Cookie 已不在</h1>\n"
		"<p>浏览器没有发送本 rove ui 会话的 Cookie（或发送了别的）。127.0.0.1 的 Cookie 由本机所有站点和端口共享，"
		"可能被本机别的程序或网页挤掉了；或者自本会话上次使用以来，rove ui 打印的网址又在 " UI_XSTR(ROVE_UI_MAX_SESSIONS)
		" 个标签页或浏览器中打开过：每次打开都建立一个会话，最久未用的会话随之关闭；或者 rove ui 已重新启动，所有会话随之结束。</p>\n"
		"<p>请重新打开 rove ui 打印的网址（带 <code>?token=</code> 的那个），开始新的会话。</p>\n"
		"</body></html>\n";

	(void)s;
	if (cookies != NULL && cookie_get(cookies, "rove_lang", lang, sizeof(lang)))
		l = strcmp(lang, "zh") == 0 ? UI_ZH : UI_EN;
	return l == UI_ZH ? reply(out, req, 403, "text/html; charset=utf-8", "", zh, strlen(zh))
			  : reply(out, req, 403, "text/html; charset=utf-8", "", en, strlen(en));
}

/* How many headers of req are called name (case-insensitive). */
static size_t header_count(const rove_http1_req *req, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			n++;
	return n;
}

/* Every request: the checks, then the answer. */
static int handle(void *arg, const rove_http1_req *req, rove_buf *out)
{
	ui_server *s = arg;
	const char *method = req->method;
	const char *uri = req->target;
	const char *host = rove_http1_header(req, "Host");
	const char *origin = rove_http1_header(req, "Origin");
	const char *site = rove_http1_header(req, "Sec-Fetch-Site");
	const char *cookies = rove_http1_header(req, "Cookie");
	const char *q = strchr(uri, '?');
	size_t plen = q != NULL ? (size_t)(q - uri) : strlen(uri);
	char path[ROVE_UI_MAX_URL], got[UI_TOKEN_HEX + 2];
	char loc[ROVE_UI_MAX_URL + UI_TOKEN_HEX + 8], setc[UI_TOKEN_HEX + 160];
	bool post = strcmp(method, "POST") == 0;
	int rc;
	ui_session se;

	/* One Host (RFC 9112: more is 400) and at most one Cookie (RFC 6265:
	 * a browser sends one): with two, which one a check read would be a
	 * guess, and a proxy in front might read the other. */
	if (header_count(req, "Host") > 1 || header_count(req, "Cookie") > 1)
		return refuse(out, req, 400, "bad request: a header that must be one is repeated\n");
	/* DNS rebinding: a page of evil.example resolved to 127.0.0.1 sends
	 * Host: evil.example. Only the address printed is taken. */
	if (host == NULL || strcasecmp(host, s->host) != 0)
		return refuse(out, req, 403, "refused: unknown Host (open the URL rove ui printed)\n");
	if (!post && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return refuse(out, req, 405, "method not allowed\n");
	if (plen >= sizeof(path) || !url_decode(uri, plen, path, false) || path[0] != '/')
		return refuse(out, req, 400, "bad path\n");
	/* Another site's page posting here: its Origin is not ours. */
	if (post && ((origin != NULL && strcmp(origin, s->origin) != 0) ||
		     (site != NULL && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0)))
		return refuse(out, req, 403, "refused: a cross-site request\n");
	if (strncmp(path, "/s/", 3) == 0) {
		/* /s/SECRET/REST: a session's, with its cookie */
		const char *sec = path + 3, *rest = strchr(sec, '/');
		size_t slen = rest != NULL ? (size_t)(rest - sec) : strlen(sec);
		if (cookies == NULL || !cookie_get(cookies, s->cookie, got, sizeof(got)) ||
		    !session_find(s, sec, slen, got, &se))
			return no_session(s, req, out);
		if (rest == NULL) { /* its pages are under its path's slash */
			snprintf(loc, sizeof(loc), "/s/%s/", se.path);
			return see_other(out, req, loc, NULL);
		}
		/* the answer is made one at a time, but for the Sync button's
		 * requests (ui_sync.h), which a page must never wait for, nor
		 * they for a page */
		if (ui_sync_unlocked(post, rest))
			return answer(s, &se, req, post, rest, q != NULL ? q + 1 : "", q != NULL ? strlen(q + 1) : 0, out);
		pthread_mutex_lock(&s->lock);
		rc = answer(s, &se, req, post, rest, q != NULL ? q + 1 : "", q != NULL ? strlen(q + 1) : 0, out);
		pthread_mutex_unlock(&s->lock);
		return rc;
	}
	if (!post && q != NULL) {
		/* ?token=T: the URL printed at start, exchanged for a new
		 * session; the token leaves the address bar (a redirect) and is
		 * never a cookie. */
		const char *t = strstr(q, "token=");
		if (t != NULL && (t[-1] == '?' || t[-1] == '&') && secret_is(t + 6, strcspn(t + 6, "&"), s->token)) {
			if (session_new(s, &se) != ROVE_OK)
				return refuse(out, req, 500, "cannot draw a random session\n");
			snprintf(loc, sizeof(loc), "/s/%s/", se.path); /* its home */
			snprintf(setc, sizeof(setc), "%s=%s; Path=/s/%s/; HttpOnly; SameSite=Strict", s->cookie, se.cookie,
				 se.path);
			return see_other(out, req, loc, setc);
		}
	}
	return refuse(out, req, 403, "refused: no session (open the URL rove ui printed)\n");
}

/* The pipe SIGINT and SIGTERM write to (cmd_ui waits on it). */
static int stop_pipe[2] = {-1, -1};

static void on_stop(int sig)
{
	char b = (char)sig;
	int e = errno;

	if (write(stop_pipe[1], &b, 1) < 0) {
		/* nothing to do in a handler: the pipe is full, it was said */
	}
	errno = e;
}

/* Opens url in the desktop's browser without putting it in any argv
 * (/proc/PID/cmdline is readable by every local user, and the token in
 * it opens sessions while rove ui runs): a page that leads to it is
 * written, mode 0600, into $XDG_RUNTIME_DIR (the user's alone) or else
 * the replica's directory, and xdg-open is given that file's path, not
 * waited for. The path written into file (removed by the caller when
 * rove ui stops; "" if none); a failure is a warning. */
static void open_browser(const rove_cli *cli, const char *url, uint16_t port, char *file, size_t cap)
{
	const char *dir = getenv("XDG_RUNTIME_DIR");
	char *argv[] = {"xdg-open", file, NULL};
	FILE *f;
	pid_t pid;
	int fd, n;

	char abs[PATH_MAX];

	file[0] = '\0';
	if (dir == NULL || dir[0] != '/') {
		if (realpath(cli->dir, abs) == NULL) {
			rove_warn("cannot resolve '%s': %s; open the URL yourself", cli->dir, strerror(errno));
			return;
		}
		dir = abs;
	}
	n = snprintf(file, cap, "%s/rove-ui-%u.html", dir, (unsigned)port);
	if (n < 0 || (size_t)n >= cap) {
		file[0] = '\0';
		rove_warn("cannot write a page for the browser: its path is too long; open the URL yourself");
		return;
	}
	unlink(file); /* one left by a rove ui killed on this port */
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		rove_warn("cannot write '%s': %s; open the URL yourself", file, strerror(errno));
		if (fd >= 0)
			close(fd);
		file[0] = '\0';
		return;
	}
	fprintf(f,
		"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><meta name=\"referrer\" content=\"no-referrer\">"
		"<meta http-equiv=\"refresh\" content=\"0; url=%s\"><title>rove ui</title></head>\n"
		"<body><p><a href=\"%s\">Open rove ui</a></p></body></html>\n",
		url, url);
	if (fclose(f) != 0) {
		rove_warn("cannot write '%s': %s; open the URL yourself", file, strerror(errno));
		unlink(file);
		file[0] = '\0';
		return;
	}
	if (posix_spawnp(&pid, "xdg-open", NULL, NULL, argv, environ) != 0)
		rove_warn("cannot start xdg-open; open the URL yourself");
}

/* The connection cap: ROVE_UI_MAX_CONNS, or less under a low
 * RLIMIT_NOFILE (ROVE_UI_FD_RESERVE); 0 if the limit leaves no room. */
static int conn_cap(void)
{
	struct rlimit rl;
	long open_fds = 0, left;
	DIR *d;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur >= (rlim_t)(ROVE_UI_MAX_CONNS + ROVE_UI_FD_RESERVE + 1024))
		return ROVE_UI_MAX_CONNS;
	if ((d = opendir("/proc/self/fd")) != NULL) {
		while (readdir(d) != NULL)
			open_fds++;
		closedir(d);
		open_fds -= 3; /* ".", "..", the listing's own */
	} else {
		open_fds = 16; /* no /proc: a guess on the safe side */
	}
	left = (long)rl.rlim_cur - open_fds - ROVE_UI_FD_RESERVE;
	if (left < 1)
		return 0;
	return left < ROVE_UI_MAX_CONNS ? (int)left : ROVE_UI_MAX_CONNS;
}

int cmd_ui(rove_cli *cli, int argc, char **argv)
{
	ui_server s;
	rove_replica r;
	rove_http1 *srv = NULL;
	rove_http1_cfg cfg;
	rove_buf big;
	char page[PATH_MAX] = "";
	uint16_t bound = 0;
	int lfd;
	struct sigaction act;
	char sig;
	bool open_it = false;
	uint64_t n = 0;
	long port = 0;
	int k, rc, devnull;
	cli_opt o;

	cli_opt_init(&o, argc, argv, 1, ui_opts);
	while ((k = cli_opt_next(&o)) != CLI_OPT_END) {
		switch (k) {
		case 'h':
			return cli_usage(help, true);
		case OPT_OPEN:
			open_it = true;
			break;
		case OPT_PORT:
			if (!rove_text_uint(o.arg, UINT16_MAX, &n) || n == 0) {
				rove_error("invalid --port '%s' (1 to %u)", o.arg, (unsigned)UINT16_MAX);
				return ROVE_EXIT_USAGE;
			}
			port = (long)n;
			break;
		case CLI_OPT_NOVALUE:
			rove_error("option '%s' needs a value", o.arg);
			return cli_usage(help, false);
		default:
			if (!cli_opt_said(k))
				cli_word_unexpected(o.arg);
			return cli_usage(help, false);
		}
	}
	/* The replica first: one that does not open is said so now. */
	rc = cli_open(cli, &r);
	if (rc != ROVE_OK)
		return cli_exit(rc);
	rove_replica_close(&r);

	memset(&s, 0, sizeof(s));
	s.cli = cli;
	if (rove_random_hex(s.token, UI_TOKEN_HEX / 2) != ROVE_OK) {
		rove_error("cannot draw a random access token");
		return ROVE_EXIT_FAIL;
	}
	/* SIGINT and SIGTERM, whichever thread takes them, write a byte the
	 * main thread waits for (a handler: the server's threads may unblock). */
	if (pipe(stop_pipe) != 0) {
		rove_error("cannot make a pipe: %s", strerror(errno));
		return ROVE_EXIT_FAIL;
	}
	memset(&act, 0, sizeof(act));
	act.sa_handler = on_stop;
	sigemptyset(&act.sa_mask);
	sigaction(SIGINT, &act, NULL);
	sigaction(SIGTERM, &act, NULL);
	signal(SIGPIPE, SIG_IGN);
	pthread_mutex_init(&s.lock, NULL);
	pthread_mutex_init(&s.slock, NULL);
	ui_sync_init(&s.sync, cli);

	/* Bound first, so that what the checks read is written before the
	 * first request. */
	rc = rove_http1_listen_loopback((uint16_t)port, &lfd, &bound);
	if (rc != 0) {
		rove_error("cannot serve on 127.0.0.1:%ld: %s", port, strerror(rc));
		return ROVE_EXIT_FAIL;
	}
	port = bound;
	snprintf(s.host, sizeof(s.host), "127.0.0.1:%ld", port);
	snprintf(s.origin, sizeof(s.origin), "http://127.0.0.1:%ld", port);
	snprintf(s.cookie, sizeof(s.cookie), "rove_ui_%ld", port);
	memset(&cfg, 0, sizeof(cfg));
	cfg.max_conns = conn_cap();
	if (cfg.max_conns == 0) {
		rove_error("too few file descriptors (ulimit -n) for rove ui: it needs %d past those it has open",
			   ROVE_UI_FD_RESERVE + 1);
		close(lfd);
		return ROVE_EXIT_FAIL;
	}
	cfg.request_ms = ROVE_UI_REQUEST_MS;
	cfg.reply_ms = ROVE_UI_REPLY_MS;
	cfg.max_head = ROVE_UI_MAX_HEAD;
	cfg.max_body = ROVE_UI_MAX_BODY;
	cfg.evict_idle = true; /* a browser's request comes at once: idle ones make room */
	cfg.threaded = true;   /* a sync's status answers while a page waits for the lock */
	cfg.fn = handle;
	cfg.arg = &s;
	rove_buf_init(&big);
	if (reply(&big, NULL, 431, "text/html; charset=utf-8", "Clear-Site-Data: \"cookies\"\r\n", big_head_page,
		  strlen(big_head_page)) != ROVE_OK ||
	    rove_buf_append(&big, "", 1) != ROVE_OK) {
		rove_error("cannot make a page: %s", rove_strerror(ROVE_ENOMEM));
		close(lfd);
		rove_buf_free(&big);
		return ROVE_EXIT_FAIL;
	}
	cfg.head_too_large = (const char *)big.data;
	rc = rove_http1_start(&cfg, lfd, &srv);
	if (rc != ROVE_OK) {
		rove_buf_free(&big);
		rove_error("cannot serve on 127.0.0.1:%ld: %s", port, rove_strerror(rc));
		return ROVE_EXIT_FAIL;
	}
	printf("http://%s/?token=%s\n", s.host, s.token);
	fflush(stdout);
	/* The URL alone on stdout: what the commands the pages run print
	 * (a new record's id) goes nowhere; their errors go to the page. */
	devnull = open("/dev/null", O_WRONLY);
	if (devnull >= 0) {
		dup2(devnull, STDOUT_FILENO);
		close(devnull);
	}
	if (open_it) {
		char full[160];
		snprintf(full, sizeof(full), "http://%s/?token=%s", s.host, s.token);
		open_browser(cli, full, bound, page, sizeof(page));
	}
	rove_info("serving on http://%s/", s.host);
	while (read(stop_pipe[0], &sig, 1) < 0 && errno == EINTR)
		;
	rove_info("stopping");
	rove_http1_stop(srv);
	rove_buf_free(&big);
	if (page[0] != '\0')
		unlink(page);
	ui_sync_fini(&s.sync); /* a sync under way ends first */
	pthread_mutex_destroy(&s.slock);
	pthread_mutex_destroy(&s.lock);
	close(stop_pipe[0]);
	close(stop_pipe[1]);
	return ROVE_EXIT_OK;
}
