/*
 * rove_raw - a client that nng would never be, for tests of a hostile
 * network: it speaks the SP wire protocol (the 8-byte handshake, then
 * length-prefixed messages) by hand on a plain socket, so that it can
 * stop reading, stop in the middle of a message, or break off the
 * handshake.
 *
 *   rove_raw URL flood N     sends up to N tiny requests (malformed, so
 *                            each is answered with an error) and never
 *                            reads a reply
 *   rove_raw URL hold BYTES [TOTAL]
 *                            announces a message of TOTAL bytes (default
 *                            ROVE_MAX_REQUEST_BYTES), sends BYTES of it and
 *                            waits, never reading
 *   rove_raw URL send HEX N [CONNS]
 *                            opens CONNS connections (default 1), sends on
 *                            each the request HEX (without its request
 *                            id) N times, and never reads a reply
 *   rove_raw URL abort [N]   N times (default 1): connects, closes its
 *                            sending side, then resets the connection,
 *                            before the server's handshake reaches it
 *   rove_raw URL close [N]   N times (default 1): connects and closes at
 *                            once, having sent nothing (a port scanner, a
 *                            health check that only connects)
 *
 * URL is tcp://HOST:PORT or ipc:///PATH. $ROVE_PROBE_SOURCE=A.B.C.D
 * connects from that local IPv4 address; $ROVE_PROBE_TIMEOUT_MS (default
 * 10000) is the longest it waits: for a write to make progress (flood)
 * or for the server to drop it (flood after N, hold).
 *
 * flood prints {"stalled":n} once, when no write has made progress for
 * ROVE_RAW_STALL_MS (the server stopped reading it); hold prints
 * {"held":BYTES} once the bytes are out. Both end with
 * {"sent":n,"dropped":true|false,"ms":t}: n requests (flood) or bytes
 * (hold) written, whether the server closed the connection, and the
 * milliseconds from the start (flood) or from {"held"} (hold) to the
 * drop or the timeout. send prints {"sent":n,"dropped":d,"ms":t}: the
 * requests written in all, the connections the server closed within the
 * timeout (counted from the last write). abort prints {"aborted":N}, close {"closed":N}.
 * Exit status 0, 2 for a usage error, 3 when it cannot connect.
 */
#define _GNU_SOURCE /* POLLRDHUP: the server closed while replies are unread */

#include "rove_limits.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* A flood whose writes make no progress this long has been stalled by the
 * server (it stopped reading this connection). */
#define ROVE_RAW_STALL_MS 500
/* Requests written per batch by flood. */
#define ROVE_RAW_BATCH 256
/* The SP protocol number of req0, which rep0 expects of its peers. */
#define ROVE_RAW_REQ0 0x30

static bool is_ipc;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int timeout_ms(void)
{
	const char *env = getenv("ROVE_PROBE_TIMEOUT_MS");
	int ms = env != NULL ? atoi(env) : 0;

	return ms > 0 ? ms : 10000;
}

static int bind_source(int fd)
{
	const char *src = getenv("ROVE_PROBE_SOURCE");
	struct sockaddr_in a;

	if (src == NULL || src[0] == '\0')
		return 0;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	if (inet_pton(AF_INET, src, &a.sin_addr) != 1) {
		fprintf(stderr, "rove_raw: bad ROVE_PROBE_SOURCE '%s'\n", src);
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		fprintf(stderr, "rove_raw: cannot bind to '%s': %s\n", src, strerror(errno));
		return -1;
	}
	return 0;
}

/* A connected socket to url, or -1 (reported). */
static int dial(const char *url)
{
	if (strncmp(url, "ipc://", 6) == 0) {
		struct sockaddr_un a;
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		is_ipc = true;
		memset(&a, 0, sizeof(a));
		a.sun_family = AF_UNIX;
		if (strlen(url + 6) >= sizeof(a.sun_path)) {
			fprintf(stderr, "rove_raw: path too long in '%s'\n", url);
			return -1;
		}
		memcpy(a.sun_path, url + 6, strlen(url + 6));
		if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
			fprintf(stderr, "rove_raw: cannot connect to '%s': %s\n", url, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		return fd;
	}
	if (strncmp(url, "tcp://", 6) == 0) {
		char host[256];
		const char *hp = url + 6, *colon = strrchr(hp, ':');
		struct addrinfo hints, *res = NULL;
		size_t hl;
		int fd, rv;

		if (colon == NULL || (hl = (size_t)(colon - hp)) >= sizeof(host)) {
			fprintf(stderr, "rove_raw: bad URL '%s'\n", url);
			return -1;
		}
		memcpy(host, hp, hl);
		host[hl] = '\0';
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_INET;
		hints.ai_socktype = SOCK_STREAM;
		if ((rv = getaddrinfo(host, colon + 1, &hints, &res)) != 0) {
			fprintf(stderr, "rove_raw: '%s': %s\n", url, gai_strerror(rv));
			return -1;
		}
		fd = socket(res->ai_family, SOCK_STREAM, 0);
		if (fd < 0 || bind_source(fd) != 0) {
			if (fd >= 0)
				close(fd);
			freeaddrinfo(res);
			return -1;
		}
		if (connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
			fprintf(stderr, "rove_raw: cannot connect to '%s': %s\n", url, strerror(errno));
			close(fd);
			freeaddrinfo(res);
			return -1;
		}
		freeaddrinfo(res);
		return fd;
	}
	fprintf(stderr, "rove_raw: unsupported URL '%s' (tcp:// or ipc://)\n", url);
	return -1;
}

/* The framing of one message of len bytes (request id included) into
 * out; returns its size: 8-byte length over TCP, type 1 and the length
 * over IPC. */
static size_t frame(uint8_t out[9], uint64_t len)
{
	size_t n = 0;

	if (is_ipc)
		out[n++] = 1;
	for (int i = 7; i >= 0; i--)
		out[n++] = (uint8_t)(len >> (8 * i));
	return n;
}

/* Whether the server has closed the connection (we never read, so
 * readable data proves nothing: only its end does). */
static bool peer_gone(short revents)
{
	return (revents & (POLLERR | POLLHUP | POLLRDHUP)) != 0;
}

/* Writes buf from *off to len, waiting up to wait_ms for each bit of
 * progress; *off says how far it got. Returns 0 when all is written, 1
 * when the server dropped the connection, 2 when no progress was made in
 * time (call again to go on). */
static int write_from(int fd, const uint8_t *buf, size_t len, size_t *off, int wait_ms)
{
	while (*off < len) {
		struct pollfd p = {fd, POLLOUT | POLLRDHUP, 0};
		ssize_t n;

		if (poll(&p, 1, wait_ms) == 0)
			return 2;
		if (peer_gone(p.revents))
			return 1;
		n = send(fd, buf + *off, len - *off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return 1;
		*off += (size_t)n;
	}
	return 0;
}

static int write_all(int fd, const uint8_t *buf, size_t len, int wait_ms)
{
	size_t off = 0;

	return write_from(fd, buf, len, &off, wait_ms);
}

/* Waits up to wait_ms for the server to close the connection. */
static bool wait_dropped(int fd, int wait_ms)
{
	uint64_t until = now_ms() + (uint64_t)wait_ms;

	for (;;) {
		struct pollfd p = {fd, POLLRDHUP, 0};
		uint64_t now = now_ms();

		if (now >= until)
			return false;
		if (poll(&p, 1, (int)(until - now)) > 0 && peer_gone(p.revents))
			return true;
	}
}

static const uint8_t handshake[8] = {0, 'S', 'P', 0, 0, ROVE_RAW_REQ0, 0, 0};

static int do_flood(int fd, unsigned long n)
{
	/* Each request: its framing, a request id (high bit set) and one
	 * byte that is not MessagePack, so the server answers an error. */
	uint8_t batch[ROVE_RAW_BATCH * 14];
	uint64_t start = now_ms();
	unsigned long sent = 0, k = 0;
	size_t len = 0, off = 0;
	bool stalled = false;
	int rc = write_all(fd, handshake, sizeof(handshake), timeout_ms());

	while (rc == 0 && (sent < n || off < len)) {
		if (off == len) {
			len = off = 0;
			for (k = 0; k < ROVE_RAW_BATCH && sent + k < n; k++) {
				uint32_t id = 0x80000000u | (uint32_t)(sent + k);
				len += frame(batch + len, 5);
				for (int i = 3; i >= 0; i--)
					batch[len++] = (uint8_t)(id >> (8 * i));
				batch[len++] = 0xc1;
			}
		}
		rc = write_from(fd, batch, len, &off, stalled ? timeout_ms() : ROVE_RAW_STALL_MS);
		if (rc == 2 && !stalled) {
			/* The server stopped reading us: say so once, then wait
			 * up to the whole timeout for the rest. */
			printf("{\"stalled\":%lu}\n", sent);
			fflush(stdout);
			stalled = true;
			rc = 0;
		} else if (rc == 0) {
			sent += k;
		}
	}
	if (rc == 0)
		rc = wait_dropped(fd, timeout_ms()) ? 1 : 2;
	printf("{\"sent\":%lu,\"dropped\":%s,\"ms\":%llu}\n", sent, rc == 1 ? "true" : "false",
	       (unsigned long long)(now_ms() - start));
	return 0;
}

static int do_hold(int fd, uint64_t bytes, uint64_t total)
{
	static uint8_t chunk[65536];
	uint8_t head[9];
	uint64_t sent = 0, start;
	int rc;

	if (bytes > total || total < 4) {
		fprintf(stderr, "rove_raw: hold BYTES [TOTAL]: BYTES at most TOTAL, TOTAL at least 4\n");
		return 2;
	}
	rc = write_all(fd, handshake, sizeof(handshake), timeout_ms());
	if (rc == 0)
		rc = write_all(fd, head, frame(head, total), timeout_ms());
	memset(chunk, 0, sizeof(chunk));
	chunk[0] = 0x80; /* a request id */
	while (rc == 0 && sent < bytes) {
		size_t n = bytes - sent < sizeof(chunk) ? (size_t)(bytes - sent) : sizeof(chunk);
		rc = write_all(fd, chunk, n, timeout_ms());
		if (rc == 0)
			sent += n;
		chunk[0] = 0;
	}
	start = now_ms();
	if (rc == 0) {
		printf("{\"held\":%llu}\n", (unsigned long long)sent);
		fflush(stdout);
		rc = wait_dropped(fd, timeout_ms()) ? 1 : 2;
	}
	printf("{\"sent\":%llu,\"dropped\":%s,\"ms\":%llu}\n", (unsigned long long)sent,
	       rc == 1 ? "true" : "false", (unsigned long long)(now_ms() - start));
	return 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Sends the request hex n times on each of conns connections, reading
 * nothing; then waits for the server to close them. */
static int do_send(const char *url, const char *hex, unsigned long n, unsigned long conns)
{
	size_t hl = strlen(hex), len, mlen;
	uint8_t *msg;
	int *fds;
	unsigned long sent = 0, dropped = 0;
	uint64_t start;
	int rc = 0;

	if (hl == 0 || hl % 2 != 0)
		return 2;
	len = hl / 2;
	if ((msg = malloc(9 + 4 + len)) == NULL || (fds = calloc(conns, sizeof(*fds))) == NULL) {
		fprintf(stderr, "rove_raw: out of memory\n");
		return 3;
	}
	for (size_t i = 0; i < len; i++) {
		int h = hex_value(hex[2 * i]), l = hex_value(hex[2 * i + 1]);
		if (h < 0 || l < 0) {
			fprintf(stderr, "rove_raw: send: HEX is not hexadecimal\n");
			return 2;
		}
		msg[9 + 4 + i] = (uint8_t)(h * 16 + l);
	}
	for (unsigned long c = 0; c < conns; c++) {
		if ((fds[c] = dial(url)) < 0)
			return 3;
		rc = write_all(fds[c], handshake, sizeof(handshake), timeout_ms());
		for (unsigned long k = 0; rc == 0 && k < n; k++) {
			uint8_t head[9];
			size_t hlen = frame(head, 4 + len), off = 9 - hlen;
			uint32_t id = 0x80000000u | (uint32_t)k;
			memcpy(msg + off, head, hlen);
			for (int i = 3; i >= 0; i--)
				msg[9 + 3 - i] = (uint8_t)(id >> (8 * i));
			rc = write_all(fds[c], msg + off, hlen + 4 + len, timeout_ms());
			if (rc == 0)
				sent++;
		}
		if (rc == 1)
			dropped++;
		rc = 0;
	}
	mlen = conns;
	start = now_ms();
	for (size_t c = 0; c < mlen; c++) {
		uint64_t now = now_ms(), until = start + (uint64_t)timeout_ms();
		if (wait_dropped(fds[c], now < until ? (int)(until - now) : 0))
			dropped++;
		close(fds[c]);
	}
	printf("{\"sent\":%lu,\"dropped\":%lu,\"ms\":%llu}\n", sent, dropped,
	       (unsigned long long)(now_ms() - start));
	free(fds);
	free(msg);
	return 0;
}

/* Ends the connection with a FIN, then a reset: the server, which speaks
 * first, then fails to send its handshake (EPIPE) if both arrive before
 * it does, which back-to-back connections make likely. */
static int do_abort(const char *url, unsigned long n)
{
	struct linger l = {1, 0};

	for (unsigned long i = 0; i < n; i++) {
		int fd = dial(url);
		if (fd < 0)
			return 3;
		if (shutdown(fd, SHUT_WR) != 0 || setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)) != 0) {
			fprintf(stderr, "rove_raw: abort: %s\n", strerror(errno));
			close(fd);
			return 3;
		}
		close(fd);
	}
	printf("{\"aborted\":%lu}\n", n);
	return 0;
}

/* Connects and closes at once, n times, sending nothing. */
static int do_close(const char *url, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++) {
		int fd = dial(url);
		if (fd < 0)
			return 3;
		close(fd);
	}
	printf("{\"closed\":%lu}\n", n);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: rove_raw URL flood N | hold BYTES [TOTAL] | send HEX N [CONNS] | abort [N] | "
			"close [N]\n");
	return 2;
}

int main(int argc, char **argv)
{
	char *end;
	int fd, rc;

	if (argc < 3)
		return usage();
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(argv[2], "flood") == 0 && argc == 4) {
		unsigned long n = strtoul(argv[3], &end, 10);
		if (*end != '\0' || n == 0)
			return usage();
		if ((fd = dial(argv[1])) < 0)
			return 3;
		rc = do_flood(fd, n);
	} else if (strcmp(argv[2], "hold") == 0 && (argc == 4 || argc == 5)) {
		unsigned long long bytes = strtoull(argv[3], &end, 10);
		unsigned long long total = ROVE_MAX_REQUEST_BYTES;
		if (*end != '\0')
			return usage();
		if (argc == 5 && ((total = strtoull(argv[4], &end, 10)) == 0 || *end != '\0'))
			return usage();
		if ((fd = dial(argv[1])) < 0)
			return 3;
		rc = do_hold(fd, bytes, total);
	} else if (strcmp(argv[2], "send") == 0 && (argc == 5 || argc == 6)) {
		unsigned long n = strtoul(argv[4], &end, 10);
		unsigned long conns = 1;
		if (*end != '\0' || n == 0)
			return usage();
		if (argc == 6 && ((conns = strtoul(argv[5], &end, 10)) == 0 || *end != '\0'))
			return usage();
		rc = do_send(argv[1], argv[3], n, conns);
		return rc == 2 ? usage() : rc;
	} else if (strcmp(argv[2], "abort") == 0 && (argc == 3 || argc == 4)) {
		unsigned long n = argc == 4 ? strtoul(argv[3], &end, 10) : 1;
		if ((argc == 4 && *end != '\0') || n == 0)
			return usage();
		return do_abort(argv[1], n);
	} else if (strcmp(argv[2], "close") == 0 && (argc == 3 || argc == 4)) {
		unsigned long n = argc == 4 ? strtoul(argv[3], &end, 10) : 1;
		if ((argc == 4 && *end != '\0') || n == 0)
			return usage();
		return do_close(argv[1], n);
	} else {
		return usage();
	}
	close(fd);
	return rc;
}
