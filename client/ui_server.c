/*
 * ui_server.c - `rove ui [--port N] [--open]`: the HTTP server on
 * 127.0.0.1 (nng's), and what it checks before a page is made.
 *
 * A browser is a hostile neighbour: any page it shows may send requests
 * to 127.0.0.1. So every request must carry the access token (in the URL
 * printed at start, once; then in a cookie, SameSite=Strict, HttpOnly),
 * its Host header must be the address printed (a DNS rebinding attack
 * names another host), every change is a POST whose form carries the
 * CSRF token (and whose Origin, if sent, is ours), nothing answers CORS,
 * and every answer carries a Content-Security-Policy that allows only
 * this origin (no inline script, no other site).
 */
#include "ui.h"
#include "ui_sync.h"
#include "cli_opt.h"
#include "err.h"
#include "log.h"

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
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

/* The server's state, read by every request after start. */
typedef struct ui_server {
	rove_cli *cli;
	pthread_mutex_t lock; /* one request at a time (ui.h) */
	char token[UI_TOKEN_HEX + 1];
	char csrf[UI_TOKEN_HEX + 1];
	char host[32];        /* "127.0.0.1:PORT", the only Host taken */
	char origin[48];      /* "http://127.0.0.1:PORT" */
	char cookie[24];      /* the cookie's name: rove_ui_PORT */
	ui_sync sync;         /* the Sync button's run (ui_sync.h) */
} ui_server;

static int random_hex(char out[UI_TOKEN_HEX + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[UI_TOKEN_HEX / 2];
	size_t got = 0;

	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ROVE_EIO;
		got += (size_t)n;
	}
	for (size_t i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[UI_TOKEN_HEX] = '\0';
	return ROVE_OK;
}

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

/* name=value&... (n bytes of s) into x->params, decoded into arena
 * (advanced; room for n + count bytes). False when malformed or too
 * many. */
static bool parse_params(ui_ctx *x, const char *s, size_t n, char **arena)
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
			*arena += strlen(value) + 1;
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

/* The headers every answer carries. */
static int common_headers(nng_http_res *res, const char *type)
{
	int rc = nng_http_res_set_header(res, "Content-Type", type);
	if (rc == 0)
		rc = nng_http_res_set_header(res, "Content-Security-Policy",
					     "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
					     "form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
	if (rc == 0)
		rc = nng_http_res_set_header(res, "X-Content-Type-Options", "nosniff");
	if (rc == 0)
		rc = nng_http_res_set_header(res, "X-Frame-Options", "DENY");
	if (rc == 0)
		rc = nng_http_res_set_header(res, "Referrer-Policy", "same-origin");
	if (rc == 0)
		rc = nng_http_res_set_header(res, "Cache-Control", "no-store");
	if (rc == 0)
		rc = nng_http_res_set_header(res, "Cross-Origin-Resource-Policy", "same-origin");
	return rc;
}

/* A refusal before any page: status and a line of plain text. */
static nng_http_res *refuse(uint16_t status, const char *text)
{
	nng_http_res *res;

	if (nng_http_res_alloc(&res) != 0)
		return NULL;
	if (nng_http_res_set_status(res, status) != 0 || common_headers(res, "text/plain; charset=utf-8") != 0 ||
	    nng_http_res_copy_data(res, text, strlen(text)) != 0) {
		nng_http_res_free(res);
		return NULL;
	}
	return res;
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

/* The answer to one request that passed the checks. */
static nng_http_res *answer(ui_server *s, nng_http_req *req, bool post, const char *path, const char *query,
			    size_t qlen)
{
	ui_ctx *x = calloc(1, sizeof(*x));
	char *arena = NULL, *a;
	void *body = NULL;
	size_t blen = 0;
	nng_http_res *res = NULL;
	const char *accept = nng_http_req_get_header(req, "Accept-Language");
	const char *cookies = nng_http_req_get_header(req, "Cookie");
	char lang[8];
	char setc[160];

	if (x == NULL)
		return refuse(500, "out of memory\n");
	if (post)
		nng_http_req_get_data(req, &body, &blen);
	arena = malloc(2 * (qlen + blen) + 2 * ROVE_UI_MAX_PARAMS + strlen(path) + 16);
	if (arena == NULL) {
		free(x);
		return refuse(500, "out of memory\n");
	}
	a = arena;
	x->cli = s->cli;
	x->post = post;
	x->path = path;
	x->csrf = s->csrf;
	x->lang = ui_lang_from_header(accept);
	if (cookies != NULL && cookie_get(cookies, "rove_lang", lang, sizeof(lang)))
		x->lang = strcmp(lang, "zh") == 0 ? UI_ZH : UI_EN;
	if (!parse_params(x, query, qlen, &a) || (post && !parse_params(x, body, blen, &a))) {
		res = refuse(400, "malformed parameters\n");
		goto out;
	}
	if (post) {
		const char *t = ui_param_get(x, "csrf");
		if (t == NULL || !secret_is(t, strlen(t), s->csrf)) {
			res = refuse(403, "refused: this form does not carry this server's CSRF token\n");
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
		ui_route(x);
	}
	if (!sync_req)
		rove_log_set_sink(NULL, NULL);
	if (x->out.failed) {
		res = refuse(500, "the page is too large or memory ran out\n");
		goto out;
	}
	if (nng_http_res_alloc(&res) != 0)
		goto out;
	if (common_headers(res, x->type != NULL ? x->type : "text/html; charset=utf-8") != 0)
		goto fail;
	if (x->location[0] != '\0') {
		/* a body, so that the length is said (nng sends none without) */
		if (nng_http_res_set_status(res, 303) != 0 || nng_http_res_set_header(res, "Location", x->location) != 0 ||
		    nng_http_res_copy_data(res, "see other\n", 10) != 0)
			goto fail;
	} else if (nng_http_res_set_status(res, (uint16_t)x->status) != 0) {
		goto fail;
	} else if (x->out.len > 0 ? nng_http_res_copy_data(res, x->out.data, x->out.len) != 0
				  /* a body, so that the length is said (nng sends none without) */
				  : nng_http_res_copy_data(res, x->status == 404 ? "not found\n" : "\n",
							   x->status == 404 ? 10 : 1) != 0) {
		goto fail;
	}
	if (x->filename[0] != '\0') {
		/* a name ui_reports.c made of [a-z0-9.-] alone: no quoting needed */
		snprintf(setc, sizeof(setc), "attachment; filename=\"%s\"", x->filename);
		if (nng_http_res_set_header(res, "Content-Disposition", setc) != 0)
			goto fail;
	}
	if (x->lang_cookie[0] != '\0') {
		snprintf(setc, sizeof(setc), "rove_lang=%s; Path=/; SameSite=Strict; Max-Age=31536000", x->lang_cookie);
		if (nng_http_res_add_header(res, "Set-Cookie", setc) != 0)
			goto fail;
	}
	goto out;
fail:
	nng_http_res_free(res);
	res = NULL;
out:
	ui_buf_free(&x->out);
	free(x);
	free(arena);
	return res;
}

/* Every request: the checks, then the answer. */
static void handle(nng_aio *aio)
{
	nng_http_req *req = nng_aio_get_input(aio, 0);
	nng_http_handler *h = nng_aio_get_input(aio, 1);
	ui_server *s = nng_http_handler_get_data(h);
	const char *method = nng_http_req_get_method(req);
	const char *uri = nng_http_req_get_uri(req);
	const char *host = nng_http_req_get_header(req, "Host");
	const char *origin = nng_http_req_get_header(req, "Origin");
	const char *site = nng_http_req_get_header(req, "Sec-Fetch-Site");
	const char *cookies = nng_http_req_get_header(req, "Cookie");
	const char *q = strchr(uri, '?');
	size_t plen = q != NULL ? (size_t)(q - uri) : strlen(uri);
	char path[ROVE_UI_MAX_URL], got[UI_TOKEN_HEX + 2];
	bool post = strcmp(method, "POST") == 0, authed = false, by_url = false;
	nng_http_res *res = NULL;

	/* DNS rebinding: a page of evil.example resolved to 127.0.0.1 sends
	 * Host: evil.example. Only the address printed is taken. */
	if (host == NULL || strcasecmp(host, s->host) != 0) {
		res = refuse(403, "refused: unknown Host (open the URL rove ui printed)\n");
		goto done;
	}
	if (!post && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		res = refuse(405, "method not allowed\n");
		goto done;
	}
	if (plen >= sizeof(path) || !url_decode(uri, plen, path, false) || path[0] != '/') {
		res = refuse(400, "bad path\n");
		goto done;
	}
	/* Another site's page posting here: its Origin is not ours. */
	if (post && ((origin != NULL && strcmp(origin, s->origin) != 0) ||
		     (site != NULL && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0))) {
		res = refuse(403, "refused: a cross-site request\n");
		goto done;
	}
	if (cookies != NULL && cookie_get(cookies, s->cookie, got, sizeof(got)))
		authed = secret_is(got, strlen(got), s->token);
	if (!authed && !post && q != NULL) {
		/* ?token=T: the URL printed at start; the cookie from then on,
		 * and the token leaves the address bar (a redirect). */
		const char *t = strstr(q, "token=");
		if (t != NULL && (t[-1] == '?' || t[-1] == '&')) {
			size_t n = strcspn(t + 6, "&");
			by_url = secret_is(t + 6, n, s->token);
		}
	}
	if (by_url) {
		nng_http_res *r;
		if (nng_http_res_alloc(&r) == 0) {
			char loc[ROVE_UI_MAX_URL + 8];
			char setc[160];
			snprintf(loc, sizeof(loc), "%s", path);
			snprintf(setc, sizeof(setc), "%s=%s; Path=/; HttpOnly; SameSite=Strict", s->cookie, s->token);
			if (common_headers(r, "text/plain; charset=utf-8") != 0 || nng_http_res_set_status(r, 303) != 0 ||
			    nng_http_res_set_header(r, "Location", loc) != 0 ||
			    nng_http_res_copy_data(r, "see other\n", 10) != 0 ||
			    nng_http_res_add_header(r, "Set-Cookie", setc) != 0) {
				nng_http_res_free(r);
				r = NULL;
			}
			res = r;
		}
		goto done;
	}
	if (!authed) {
		res = refuse(403, "refused: no access token (open the URL rove ui printed)\n");
		goto done;
	}
	/* The checks above read only what start wrote; the answer is made
	 * one at a time, but for the Sync button's requests (ui_sync.h),
	 * which a page must never wait for, nor they for a page. */
	if (ui_sync_unlocked(post, path)) {
		res = answer(s, req, post, path, q != NULL ? q + 1 : "", q != NULL ? strlen(q + 1) : 0);
	} else {
		pthread_mutex_lock(&s->lock);
		res = answer(s, req, post, path, q != NULL ? q + 1 : "", q != NULL ? strlen(q + 1) : 0);
		pthread_mutex_unlock(&s->lock);
	}
done:
	if (res == NULL) {
		nng_aio_finish(aio, NNG_ENOMEM);
		return;
	}
	nng_aio_set_output(aio, 0, res);
	nng_aio_finish(aio, 0);
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

/* xdg-open URL, not waited for; a failure is a warning. */
static void open_browser(const char *url)
{
	char *argv[] = {"xdg-open", (char *)url, NULL};
	pid_t pid;

	if (posix_spawnp(&pid, "xdg-open", NULL, NULL, argv, environ) != 0)
		rove_warn("cannot start xdg-open; open the URL yourself");
}

int cmd_ui(rove_cli *cli, int argc, char **argv)
{
	ui_server s;
	rove_replica r;
	nng_http_server *srv = NULL;
	nng_http_handler *h = NULL;
	nng_url *u = NULL;
	nng_sockaddr sa;
	struct sigaction act;
	char url[64], *end, sig;
	bool open_it = false;
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
			errno = 0;
			port = strtol(o.arg, &end, 10);
			if (errno != 0 || *end != '\0' || o.arg[0] == '\0' || port < 1 || port > 65535) {
				rove_error("invalid --port '%s' (1 to 65535)", o.arg);
				return ROVE_EXIT_USAGE;
			}
			break;
		case CLI_OPT_NOVALUE:
			rove_error("option '%s' needs a value", o.arg);
			return cli_usage(help, false);
		default:
			rove_error("unexpected argument '%s'", o.arg);
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
	if (random_hex(s.token) != ROVE_OK || random_hex(s.csrf) != ROVE_OK) {
		rove_error("cannot draw a random access token");
		return ROVE_EXIT_FAIL;
	}
	/* SIGINT and SIGTERM, whichever thread takes them, write a byte the
	 * main thread waits for (a handler: nng's threads may unblock). */
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
	ui_sync_init(&s.sync, cli);

	snprintf(url, sizeof(url), "http://127.0.0.1:%ld", port);
	rc = nng_url_parse(&u, url);
	if (rc == 0)
		rc = nng_http_server_hold(&srv, u);
	if (rc == 0)
		rc = nng_http_handler_alloc(&h, "/", handle);
	if (rc == 0)
		rc = nng_http_handler_set_tree(h);
	if (rc == 0)
		rc = nng_http_handler_set_method(h, NULL);
	if (rc == 0)
		rc = nng_http_handler_collect_body(h, true, ROVE_UI_MAX_BODY);
	if (rc == 0)
		rc = nng_http_handler_set_data(h, &s, NULL);
	if (rc == 0) {
		rc = nng_http_server_add_handler(srv, h);
		if (rc == 0)
			h = NULL; /* the server's now */
	}
	if (rc == 0)
		rc = nng_http_server_start(srv);
	if (rc == 0)
		rc = nng_http_server_get_addr(srv, &sa);
	if (rc != 0) {
		rove_error("cannot serve on 127.0.0.1:%ld: %s", port, nng_strerror(rc));
		if (h != NULL)
			nng_http_handler_free(h);
		if (srv != NULL)
			nng_http_server_release(srv);
		nng_url_free(u);
		return ROVE_EXIT_FAIL;
	}
	port = ntohs(sa.s_in.sa_port);
	snprintf(s.host, sizeof(s.host), "127.0.0.1:%ld", port);
	snprintf(s.origin, sizeof(s.origin), "http://127.0.0.1:%ld", port);
	snprintf(s.cookie, sizeof(s.cookie), "rove_ui_%ld", port);
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
		open_browser(full);
	}
	rove_info("serving on http://%s/", s.host);
	while (read(stop_pipe[0], &sig, 1) < 0 && errno == EINTR)
		;
	rove_info("stopping");
	nng_http_server_stop(srv);
	nng_http_server_release(srv);
	nng_url_free(u);
	ui_sync_fini(&s.sync); /* a sync under way ends first */
	pthread_mutex_destroy(&s.lock);
	close(stop_pipe[0]);
	close(stop_pipe[1]);
	return ROVE_EXIT_OK;
}
