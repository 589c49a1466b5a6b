/*
 * fuzz_http.c - libFuzzer harness for the small HTTP/1.x server
 * (common/http1.h) behind roved's metrics and rove ui.
 *
 * Two servers run on loopback for the whole process, one the way roved's
 * metrics use it (answers on the poll thread) and one the way rove ui
 * does (an answer thread per request, idle connections evicted, its own
 * answer to a head too large). Each input is sent to one of them over a
 * real TCP connection, which is then shut for writing; the harness reads
 * until the server closes.
 *
 * Input: a selector byte (bit 0: which server; bit 1: send in two parts,
 * the second a moment later, at the place the next byte gives), that
 * byte, then the bytes sent as they are.
 *
 * The handler answers 200 with what it was given. Checked, with a
 * reference worked out from the input alone (its head ends at the first
 * empty line, LF or CRLF):
 *   - the handler sees a method, a target and HTTP/1.0 or HTTP/1.1, all
 *     from the input's first line; no request whose head holds a NUL or
 *     a control; every header name without space or colon, every value
 *     without blanks at either end; at most ROVE_HTTP1_MAX_HEADERS; a
 *     body of at most the server's max_body, the input's bytes right
 *     after the head; every Content-Length given its length;
 *   - every answer is a whole HTTP/1.1 response: a status line with a
 *     known status, Content-Length equal to the body's bytes (none for
 *     HEAD), Connection: close; or the configured answer to a head too
 *     large; 200 exactly when the handler ran;
 *   - no answer only when the input was no whole request (the server
 *     waits for more and sees the connection shut).
 * The sanitizers watch the parser and the connection's buffers.
 *
 * A broken property aborts with a line on stderr (a crash to libFuzzer).
 */
#define _GNU_SOURCE /* memmem */
#include "err.h"
#include "http1.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                         \
	do {                                                                                                \
		if (!(cond)) {                                                                              \
			fprintf(stderr, "fuzz_http: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                            \
		}                                                                                           \
	} while (0)

#define MAX_HEAD 1024
#define MAX_BODY 256
/* A whole answer is read within this, or the server hung. */
#define ANSWER_MS 5000

static const char too_large[] = "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n"
				"Connection: close\r\n\r\n";

typedef struct server {
	rove_http1 *h;
	uint16_t port;
} server;

static server servers[2];
/* The input being sent (the handler compares what it gets with it). */
static const uint8_t *cur;
static size_t cur_len;
static atomic_int handled;

/* Where the input's head ends (after its empty line), 0 if it does not:
 * the earlier of the first LF LF and the first LF CR LF (found otherwise
 * than the server finds it). */
static size_t ref_head_end(const uint8_t *b, size_t n)
{
	const uint8_t *lf = memmem(b, n, "\n\n", 2), *crlf = memmem(b, n, "\n\r\n", 3);
	size_t a = lf != NULL ? (size_t)(lf - b) + 2 : 0, c = crlf != NULL ? (size_t)(crlf - b) + 3 : 0;

	if (a == 0 || (c != 0 && c < a))
		return c;
	return a;
}

static bool has_blank_ends(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t');
}

static int handle(void *arg, const rove_http1_req *req, rove_buf *out)
{
	size_t hend = ref_head_end(cur, cur_len), line_len;
	const char *cl;
	char body[96];
	int n;

	(void)arg;
	CHECK(hend > 0 && hend <= MAX_HEAD);
	CHECK(memchr(cur, '\0', hend) == NULL);
	line_len = (size_t)((const uint8_t *)memchr(cur, '\n', hend) - cur);
	CHECK(req->method != NULL && req->target != NULL && req->version != NULL);
	CHECK(req->method[0] != '\0' && req->target[0] != '\0');
	CHECK(strcmp(req->version, "HTTP/1.0") == 0 || strcmp(req->version, "HTTP/1.1") == 0);
	/* method SP target SP version, the first line's */
	CHECK(strlen(req->method) + strlen(req->target) + strlen(req->version) + 2 <= line_len);
	CHECK(memcmp(cur, req->method, strlen(req->method)) == 0);
	CHECK(req->head == (strcmp(req->method, "HEAD") == 0));
	for (const char *q = req->target; *q != '\0'; q++)
		CHECK((unsigned char)*q >= 0x20 && *q != 0x7f && *q != ' ');
	CHECK(req->nheaders <= ROVE_HTTP1_MAX_HEADERS);
	for (size_t i = 0; i < req->nheaders; i++) {
		const char *name = req->headers[i].name, *value = req->headers[i].value;
		CHECK(name[0] != '\0' && strpbrk(name, " \t:") == NULL);
		CHECK(!has_blank_ends(value));
		for (const char *q = value; *q != '\0'; q++)
			CHECK(((unsigned char)*q >= 0x20 || *q == '\t') && *q != 0x7f);
	}
	CHECK(req->body_len <= MAX_BODY);
	CHECK(hend + req->body_len <= cur_len);
	CHECK(req->body_len == 0 || memcmp(req->body, cur + hend, req->body_len) == 0);
	/* Every Content-Length (two that differ would smuggle a request) */
	for (size_t i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, "Content-Length") == 0)
			CHECK(strtoull(req->headers[i].value, NULL, 10) == req->body_len);
	cl = rove_http1_header(req, "content-length");
	CHECK(cl != NULL || req->body_len == 0);
	CHECK(rove_http1_header(req, "Transfer-Encoding") == NULL);
	atomic_fetch_add(&handled, 1);
	n = snprintf(body, sizeof(body), "%.16s %zu %zu\n", req->method, req->nheaders, req->body_len);
	CHECK(n > 0 && (size_t)n < sizeof(body));
	return rove_http1_reply(out, req, 200, "text/plain", "", body, (size_t)n);
}

static void start(void)
{
	sigset_t alrm;

	for (int i = 0; i < 2; i++) {
		rove_http1_cfg cfg = {
		    .max_conns = 4,
		    .request_ms = 3000,
		    .reply_ms = 3000,
		    .max_head = MAX_HEAD,
		    .max_body = MAX_BODY,
		    .evict_idle = i == 1,
		    .threaded = i == 1,
		    .head_too_large = i == 1 ? too_large : NULL,
		    .fn = handle,
		};
		int fd;
		CHECK(rove_http1_listen_loopback(0, &fd, &servers[i].port) == 0);
		CHECK(rove_http1_start(&cfg, fd, &servers[i].h) == ROVE_OK);
	}
	/* libFuzzer's timer (SIGALRM, for -timeout) goes to the servers'
	 * threads, which take EINTR in their stride; this thread's calls
	 * would see it too (a poll cut short is no hang). */
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	CHECK(pthread_sigmask(SIG_BLOCK, &alrm, NULL) == 0);
}

static void send_all(int fd, const uint8_t *b, size_t n)
{
	while (n > 0) {
		ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return; /* the server may close early (an error answered) */
		b += k;
		n -= (size_t)k;
	}
}

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* The whole answer on fd into buf (cap bytes at most), until the server
 * closes; its length. */
static size_t read_all(int fd, char *buf, size_t cap)
{
	uint64_t deadline = now_ms() + ANSWER_MS;
	size_t got = 0;

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		uint64_t now = now_ms();
		ssize_t k;
		int r = now < deadline ? poll(&p, 1, (int)(deadline - now)) : 0;
		if (r < 0 && errno == EINTR)
			continue;
		if (r != 1) {
			/* Slow, or hung for good: said apart. */
			int late = poll(&p, 1, 4 * ANSWER_MS);
			fprintf(stderr, "fuzz_http: no answer in %d ms (%s; %zu bytes read)\n", ANSWER_MS,
				late == 1 ? "it came later" : "none later either", got);
			abort();
		}
		k = recv(fd, buf + got, cap - got, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return got;
		got += (size_t)k;
		CHECK(got < cap);
	}
}

/* The answer's checks (see the head). */
static void check_answer(const char *a, size_t n, const uint8_t *req, size_t len, bool ui, int ran)
{
	size_t hend = ref_head_end(req, len < MAX_HEAD ? len : MAX_HEAD);
	const char *end, *cl;
	int status;

	if (n == 0) {
		/* No answer: no whole request was sent. */
		CHECK(ran == 0);
		CHECK(len < MAX_HEAD + MAX_BODY);
		CHECK(hend != 0 || len < MAX_HEAD);
		return;
	}
	if (ui && n == sizeof(too_large) - 1 && memcmp(a, too_large, n) == 0) {
		CHECK(ran == 0);
		return;
	}
	CHECK(n > 17 && memcmp(a, "HTTP/1.1 ", 9) == 0);
	status = atoi(a + 9);
	CHECK(status == 200 || status == 400 || status == 405 || status == 411 || status == 413 || status == 431 ||
	      status == 500 || status == 503 || status == 505);
	CHECK((status == 200) == (ran == 1));
	CHECK(ran <= 1);
	end = memmem(a, n, "\r\n\r\n", 4);
	CHECK(end != NULL);
	CHECK(memmem(a, (size_t)(end - a) + 2, "\r\nConnection: close\r\n", 21) != NULL);
	cl = memmem(a, (size_t)(end - a), "\r\nContent-Length: ", 18);
	CHECK(cl != NULL);
	{
		size_t body = n - (size_t)(end + 4 - a), said = strtoul(cl + 18, NULL, 10);
		bool head = len >= 5 && memcmp(req, "HEAD ", 5) == 0;
		CHECK(body == said || (head && body == 0));
	}
	if (status != 200)
		return;
	CHECK(hend != 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool started;
	struct sockaddr_in sa;
	char answer[4096];
	size_t n, split;
	bool ui, two;
	int fd, one = 1;

	if (!started) {
		start();
		started = true;
	}
	if (size < 2)
		return 0;
	ui = (data[0] & 1) != 0;
	two = (data[0] & 2) != 0;
	split = (size_t)data[1] * (size - 2) / 256;
	cur = data + 2;
	cur_len = size - 2;
	atomic_store(&handled, 0);

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(servers[ui].port);
	CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	if (two) {
		send_all(fd, cur, split);
		poll(NULL, 0, 1);
		send_all(fd, cur + split, cur_len - split);
	} else {
		send_all(fd, cur, cur_len);
	}
	shutdown(fd, SHUT_WR);
	n = read_all(fd, answer, sizeof(answer));
	close(fd);
	check_answer(answer, n, cur, cur_len, ui, atomic_load(&handled));
	return 0;
}
