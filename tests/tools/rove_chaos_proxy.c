/*
 * rove_chaos_proxy - a TCP proxy on loopback that makes a bad network for
 * tests: it forwards 127.0.0.1:LISTEN to 127.0.0.1:TO, delays every chunk,
 * and cuts connections at random (a phone losing signal in a tunnel).
 *
 *   rove_chaos_proxy --listen PORT --to PORT [--delay-ms N] [--cut-percent P]
 *                    [--seed S] [--reset-first N] [--cut-replies N]
 *                    [--stall-after BYTES] [--rate BYTES_PER_S]
 *                    [--up-rate BYTES_PER_S]
 *
 * --cut-percent: chance, for each chunk forwarded, that both sides of the
 * connection are closed instead. --reset-first: the first N connections
 * are reset as soon as they are accepted, before anything is forwarded (a
 * server whose listener closed with connections still in its queue).
 * --cut-replies: the first N answers the server sends are never
 * delivered: on a connection, once the server's 8-byte SP handshake has
 * gone through, its next bytes (an answer, sent after it did what was
 * asked) are dropped and both sides closed - a connection lost after the
 * server acted but before the client heard of it. N counts down across
 * connections. --stall-after: once a connection has brought BYTES or
 * more from the server, it forwards nothing more either way and stays
 * open (a server that stops answering in the middle of a sync). --rate:
 * the server's bytes are read and forwarded at most this fast (a slow
 * mobile link; its socket's receive buffer is kept small, so what is not
 * read waits in the server's send buffer, as behind a slow link).
 * --up-rate: the same for the client's bytes (a slow uplink: a big push
 * crosses it slowly; what is not read waits in the client's send
 * buffer). Runs
 * until killed; prints its counters on SIGTERM. One thread, poll(); at
 * most MAX_CONNS connection pairs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 128
#define CHUNK 16384
/* The SP handshake each side sends first (nng's TCP transport). */
#define SP_HEADER 8
/* --rate, --up-rate: the receive buffer of the socket read slowly. */
#define RATE_RCVBUF 4096
/* --rate, --up-rate: a side is read once it may take this many
 * seconds' worth of bytes (or one byte, if that is less): a read of
 * each byte as its credit came made the proxy spin, and its few bytes
 * at a time kept the receiving end's threads as busy (t_slow_link cost
 * a minute of CPU under the sanitizers, most of it the proxy and nng
 * waking for each few bytes). */
#define RATE_QUANTUM_S 0.01

static volatile sig_atomic_t stop;
static unsigned long forwarded, cuts, accepted;
static int upstream_rcvbuf; /* set before connecting, if not 0 */

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int tcp_socket(int port, int listening)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (listening) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 64) != 0) {
			close(fd);
			return -1;
		}
	} else if ((upstream_rcvbuf > 0 &&
		    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &upstream_rcvbuf, sizeof(upstream_rcvbuf)) != 0) ||
		   connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Whether a pair that brought from_server bytes from the server is held
 * (--stall-after; stall_after < 0: never). */
static int stalled(long stall_after, size_t from_server)
{
	return stall_after >= 0 && from_server >= (size_t)stall_after;
}

/* Whether a side limited to lim bytes a second (0: not limited) with
 * credit bytes to spend is read now. */
static int may_read(long lim, double credit)
{
	double quantum = (double)lim * RATE_QUANTUM_S;

	if (lim <= 0)
		return 1;
	if (quantum > CHUNK)
		quantum = CHUNK;
	return credit >= (quantum < 1 ? 1 : quantum);
}

int main(int argc, char **argv)
{
	int lport = 0, tport = 0, delay_ms = 0, cut = 0, reset_first = 0, cut_replies = 0;
	long stall_after = -1, rate = 0, up_rate = 0;
	/* --rate, --up-rate: bytes pair i may read now from the server [1],
	 * from the client [0] */
	double credit[MAX_CONNS][2];
	struct timespec last;
	unsigned seed = (unsigned)time(NULL);
	int pairs[MAX_CONNS][2];
	size_t from_server[MAX_CONNS]; /* bytes the server sent on pair i */
	int n = 0, lfd;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--listen") == 0)
			lport = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--to") == 0)
			tport = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--delay-ms") == 0)
			delay_ms = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--cut-percent") == 0)
			cut = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--reset-first") == 0)
			reset_first = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--cut-replies") == 0)
			cut_replies = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--stall-after") == 0)
			stall_after = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--rate") == 0)
			rate = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--up-rate") == 0)
			up_rate = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--seed") == 0)
			seed = (unsigned)strtoul(argv[i + 1], NULL, 10);
	}
	if (lport <= 0 || tport <= 0) {
		fprintf(stderr, "usage: rove_chaos_proxy --listen PORT --to PORT [--delay-ms N] "
				"[--cut-percent P] [--seed S] [--reset-first N] [--cut-replies N] "
				"[--stall-after BYTES] [--rate BYTES_PER_S] [--up-rate BYTES_PER_S]\n");
		return 2;
	}
	if (rate > 0)
		upstream_rcvbuf = RATE_RCVBUF;
	srand(seed);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	signal(SIGPIPE, SIG_IGN);
	lfd = tcp_socket(lport, 1);
	if (lfd >= 0 && up_rate > 0) { /* accepted sockets inherit it */
		int small = RATE_RCVBUF;
		setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	}
	if (lfd < 0) {
		fprintf(stderr, "rove_chaos_proxy: cannot listen on %d: %s\n", lport, strerror(errno));
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &last);
	while (!stop) {
		struct pollfd p[1 + 2 * MAX_CONNS];
		int np = 1;

		if (rate > 0 || up_rate > 0) {
			struct timespec now;
			double dt;
			clock_gettime(CLOCK_MONOTONIC, &now);
			dt = (double)(now.tv_sec - last.tv_sec) + (double)(now.tv_nsec - last.tv_nsec) / 1e9;
			last = now;
			for (int i = 0; i < n; i++)
				for (int side = 0; side < 2; side++) {
					credit[i][side] += dt * (double)(side == 1 ? rate : up_rate);
					if (credit[i][side] > CHUNK)
						credit[i][side] = CHUNK;
				}
		}

		p[0].fd = lfd;
		p[0].events = POLLIN;
		for (int i = 0; i < n; i++) {
			/* A stalled pair is not read: its data waits. */
			short ev = stalled(stall_after, from_server[i]) ? 0 : POLLIN;
			p[np].fd = pairs[i][0];
			/* --up-rate, --rate: a side waits for its credit */
			p[np++].events = may_read(up_rate, credit[i][0]) ? ev : 0;
			p[np].fd = pairs[i][1];
			p[np++].events = may_read(rate, credit[i][1]) ? ev : 0;
		}
		if (poll(p, (nfds_t)np, rate > 0 || up_rate > 0 ? 10 : 200) < 0)
			continue;
		if ((p[0].revents & POLLIN) && n < MAX_CONNS) {
			int c = accept(lfd, NULL, NULL);
			int t = c >= 0 && reset_first <= 0 ? tcp_socket(tport, 0) : -1;
			if (c >= 0 && reset_first > 0) {
				struct linger l = {1, 0}; /* close sends a reset */
				setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
				close(c);
				reset_first--;
				accepted++;
				cuts++;
			} else if (c >= 0 && t >= 0) {
				credit[n][0] = credit[n][1] = 0;
				pairs[n][0] = c;
				pairs[n][1] = t;
				from_server[n] = 0;
				n++;
				accepted++;
			} else if (c >= 0) {
				close(c);
			}
		}
		for (int i = n - 1; i >= 0; i--) {
			for (int side = 0; side < 2; side++) {
				struct pollfd *q = &p[1 + 2 * i + side];
				char buf[CHUNK];
				ssize_t got;
				int drop = 0;

				if (i >= n || !(q->revents & (POLLIN | POLLHUP | POLLERR)))
					continue;
				if (stalled(stall_after, from_server[i])) {
					if (!(q->revents & (POLLHUP | POLLERR)))
						continue;
					got = 0; /* reset: dropped, not read */
				} else {
					size_t want = sizeof(buf);
					long lim = side == 1 ? rate : up_rate;
					if (lim > 0 && credit[i][side] < (double)want)
						want = credit[i][side] < 1 ? 1 : (size_t)credit[i][side];
					got = read(pairs[i][side], buf, want);
					if (lim > 0 && got > 0)
						credit[i][side] -= (double)got;
				}
				if (got <= 0)
					drop = 1;
				else if (cut > 0 && rand() % 100 < cut)
					drop = 1, cuts++;
				if (!drop && side == 1 && cut_replies > 0 && from_server[i] + (size_t)got > SP_HEADER) {
					/* the handshake's bytes go through, the answer's not */
					ssize_t head = from_server[i] < SP_HEADER ? (ssize_t)(SP_HEADER - from_server[i]) : 0;
					if (head > 0 && write(pairs[i][0], buf, (size_t)head) != head)
						head = 0;
					from_server[i] += (size_t)head;
					cut_replies--;
					drop = 1, cuts++;
				}
				if (!drop && side == 1)
					from_server[i] += (size_t)got;
				if (!drop && delay_ms > 0) {
					struct timespec ts = {delay_ms / 1000, (long)(delay_ms % 1000) * 1000000L};
					nanosleep(&ts, NULL);
				}
				if (!drop && write(pairs[i][!side], buf, (size_t)got) != got)
					drop = 1;
				if (drop) {
					close(pairs[i][0]);
					close(pairs[i][1]);
					pairs[i][0] = pairs[n - 1][0];
					pairs[i][1] = pairs[n - 1][1];
					from_server[i] = from_server[n - 1];
					credit[i][0] = credit[n - 1][0];
					credit[i][1] = credit[n - 1][1];
					n--;
					break;
				}
				forwarded += (unsigned long)got;
			}
		}
	}
	fprintf(stderr, "rove_chaos_proxy: %lu connections, %lu bytes forwarded, %lu cut\n", accepted,
		forwarded, cuts);
	return 0;
}
