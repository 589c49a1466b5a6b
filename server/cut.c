#define _GNU_SOURCE /* struct ucred, SO_PEERCRED */

#include "cut.h"

#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <linux/tcp.h> /* struct tcp_info with tcpi_bytes_acked (Linux 4.1) */
#include <netinet/in.h>
#include <stddef.h>
#include <nng/nng.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* What identifies a pipe's socket. */
typedef struct target {
	nng_sockaddr loc, rem;
	uint64_t pid; /* ipc: the peer's pid */
	size_t at;    /* its pipe's place among the ids asked about */
} target;

static bool target_of(uint32_t id, target *t)
{
	nng_pipe p = NNG_PIPE_INITIALIZER;

	p.id = id;
	memset(t, 0, sizeof(*t));
	if (nng_pipe_get_addr(p, NNG_OPT_LOCADDR, &t->loc) != 0)
		return false;
	if (t->loc.s_family == NNG_AF_IPC)
		return nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_PID, &t->pid) == 0 && t->pid > 0;
	return (t->loc.s_family == NNG_AF_INET || t->loc.s_family == NNG_AF_INET6) &&
	       nng_pipe_get_addr(p, NNG_OPT_REMADDR, &t->rem) == 0 && t->rem.s_family == t->loc.s_family;
}

/* The targets of those of the pipes ids[0..n) still open (only TCP and
 * TLS ones if tcp), into ts (room for n); returns how many. */
static size_t targets_of(const uint32_t *ids, size_t n, bool tcp, target *ts)
{
	size_t nt = 0;

	for (size_t i = 0; i < n; i++) {
		if (target_of(ids[i], &ts[nt]) && !(tcp && ts[nt].loc.s_family == NNG_AF_IPC)) {
			ts[nt].at = i;
			nt++;
		}
	}
	return nt;
}

/* Whether an nng address is the same as a system one. */
static bool same_inet(const nng_sockaddr *a, const struct sockaddr_storage *b)
{
	if (a->s_family == NNG_AF_INET && b->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)b;
		return a->s_in.sa_port == in->sin_port && a->s_in.sa_addr == in->sin_addr.s_addr;
	}
	if (a->s_family == NNG_AF_INET6 && b->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)b;
		return a->s_in6.sa_port == in6->sin6_port &&
		       memcmp(a->s_in6.sa_addr, &in6->sin6_addr, 16) == 0;
	}
	return false;
}

/* Which of ts[0..nt) descriptor fd (local address loc) is the socket
 * of, or -1: its peer is asked once, whatever the count of targets (a
 * guard's walk may look for thousands among thousands). */
static long find_target(int fd, const struct sockaddr_storage *loc, const target *ts, size_t nt)
{
	if (loc->ss_family == AF_UNIX) {
		const struct sockaddr_un *un = (const struct sockaddr_un *)loc;
		struct ucred cred;
		socklen_t len = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.pid <= 0)
			return -1;
		for (size_t i = 0; i < nt; i++)
			if (ts[i].loc.s_family == NNG_AF_IPC && strcmp(un->sun_path, ts[i].loc.s_ipc.sa_path) == 0 &&
			    (uint64_t)cred.pid == ts[i].pid)
				return (long)i;
		return -1;
	}
	if (loc->ss_family == AF_INET || loc->ss_family == AF_INET6) {
		struct sockaddr_storage rem;
		socklen_t len = sizeof(rem);
		bool asked = false;
		for (size_t i = 0; i < nt; i++) {
			if (!same_inet(&ts[i].loc, loc))
				continue;
			if (!asked) {
				memset(&rem, 0, sizeof(rem));
				if (getpeername(fd, (struct sockaddr *)&rem, &len) != 0)
					return -1;
				asked = true;
			}
			if (same_inet(&ts[i].rem, &rem))
				return (long)i;
		}
	}
	return -1;
}

/* ---- this process's sockets ---- */

struct rove_cut_sock {
	uint64_t ino;
	uint64_t first_ms;
};

bool rove_cut_fds_open(rove_cut_fds *f)
{
	f->dir = opendir("/proc/self/fd");
	if (f->dir == NULL)
		rove_error("cannot list this process's descriptors: %s; each cut opens the list anew (which fails "
			   "at the descriptor limit)",
			   strerror(errno));
	return f->dir != NULL;
}

void rove_cut_fds_free(rove_cut_fds *f)
{
	if (f->dir != NULL)
		closedir(f->dir);
	f->dir = NULL;
	free(f->v);
	f->v = NULL;
	f->n = 0;
}

/* Calls fn(fd, its local address, st, arg) for each socket of this
 * process, listed through f's directory (rewound: /proc lists the
 * descriptors open now), or one opened for the walk if f has none. */
typedef void (*socket_fn)(int fd, const struct sockaddr_storage *loc, const struct stat *st, void *arg);
static void each_socket(rove_cut_fds *f, socket_fn fn, void *arg)
{
	DIR *dir = f->dir != NULL ? f->dir : opendir("/proc/self/fd");
	struct dirent *de;

	if (dir == NULL) {
		rove_error("cannot list this process's descriptors: %s", strerror(errno));
		return;
	}
	rewinddir(dir);
	while ((de = readdir(dir)) != NULL) {
		struct sockaddr_storage loc;
		socklen_t len = sizeof(loc);
		struct stat st;
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		/* Zeroed: a sun_path that fills its array is still a string
		 * (sockaddr_storage is longer than sockaddr_un). */
		memset(&loc, 0, sizeof(loc));
		if (*end != '\0' || fd < 0 || fd == dirfd(dir) || fstat((int)fd, &st) != 0 ||
		    !S_ISSOCK(st.st_mode) || getsockname((int)fd, (struct sockaddr *)&loc, &len) != 0)
			continue;
		fn((int)fd, &loc, &st, arg);
	}
	if (dir != f->dir)
		closedir(dir);
}

/* ---- the pipes the gate gives out ---- */

typedef struct cut_ctx {
	const target *ts;
	size_t nt, cut;
} cut_ctx;

static void cut_one(int fd, const struct sockaddr_storage *loc, const struct stat *st, void *arg)
{
	cut_ctx *c = arg;

	(void)st;
	if (find_target(fd, loc, c->ts, c->nt) >= 0 && shutdown(fd, SHUT_RD) == 0)
		c->cut++;
}

size_t rove_cut(rove_cut_fds *f, const uint32_t *ids, size_t n)
{
	target *ts = n > 0 ? calloc(n, sizeof(*ts)) : NULL;
	cut_ctx c = {ts, 0, 0};

	if (n == 0)
		return 0;
	if (ts == NULL) {
		rove_error("out of memory cutting %zu connection(s)", n);
		return 0;
	}
	c.nt = targets_of(ids, n, false, ts);
	if (c.nt > 0)
		each_socket(f, cut_one, &c);
	free(ts);
	return c.cut;
}

/* ---- what each pipe's peer took ---- */

typedef struct acked_ctx {
	const target *ts;
	size_t nt;
	uint64_t *acked; /* by the targets' places (target.at) */
} acked_ctx;

/* The bytes the peer of TCP socket fd acknowledged; UINT64_MAX if the
 * kernel does not say. */
static uint64_t bytes_acked(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
	    len < offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof(ti.tcpi_bytes_acked) ||
	    ti.tcpi_bytes_acked == UINT64_MAX)
		return UINT64_MAX;
	return ti.tcpi_bytes_acked;
}

static void acked_one(int fd, const struct sockaddr_storage *loc, const struct stat *st, void *arg)
{
	acked_ctx *c = arg;
	long i;

	(void)st;
	if (loc->ss_family != AF_INET && loc->ss_family != AF_INET6)
		return; /* ipc: no count; left unknown */
	i = find_target(fd, loc, c->ts, c->nt);
	if (i >= 0)
		c->acked[c->ts[i].at] = bytes_acked(fd);
}

void rove_cut_acked(rove_cut_fds *f, const uint32_t *ids, size_t n, uint64_t *acked)
{
	target *ts = n > 0 ? calloc(n, sizeof(*ts)) : NULL;
	acked_ctx c = {ts, 0, acked};

	for (size_t i = 0; i < n; i++)
		acked[i] = UINT64_MAX;
	if (n > 0 && ts == NULL)
		rove_error("out of memory sampling %zu connection(s)", n);
	if (ts != NULL)
		c.nt = targets_of(ids, n, true, ts);
	if (c.nt > 0)
		each_socket(f, acked_one, &c);
	free(ts);
}

/* ---- connections that never finish their TLS handshake ---- */

static int by_ino(const void *a, const void *b)
{
	uint64_t x = ((const struct rove_cut_sock *)a)->ino, y = ((const struct rove_cut_sock *)b)->ino;

	return x < y ? -1 : x > y;
}

/* The port of an nng TCP address (network order), 0 if it is none. */
static uint16_t nng_port(const nng_sockaddr *a)
{
	return a->s_family == NNG_AF_INET ? a->s_in.sa_port : a->s_family == NNG_AF_INET6 ? a->s_in6.sa_port : 0;
}

static uint16_t sys_port(const struct sockaddr_storage *a)
{
	return a->ss_family == AF_INET ? ((const struct sockaddr_in *)a)->sin_port
	       : a->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)a)->sin6_port
					  : 0;
}

typedef struct setups_ctx {
	const rove_cut_fds *f;  /* the sockets seen before, sorted by inode */
	const nng_sockaddr *lis;
	const target *ts;       /* the pipes' */
	size_t nt, cut;
	uint64_t now_ms, after_ms;
	struct rove_cut_sock *v; /* the sockets seen now */
	size_t n, cap;
} setups_ctx;

static void setup_one(int fd, const struct sockaddr_storage *loc, const struct stat *st, void *arg)
{
	setups_ctx *c = arg;
	struct rove_cut_sock key = {(uint64_t)st->st_ino, 0}, *hit;
	struct sockaddr_storage rem;
	socklen_t rlen = sizeof(rem);
	uint64_t first;

	if (sys_port(loc) != nng_port(c->lis) || (loc->ss_family == AF_INET) != (c->lis->s_family == NNG_AF_INET) ||
	    getpeername(fd, (struct sockaddr *)&rem, &rlen) != 0)
		return; /* not a connection accepted on the listener */
	for (size_t i = 0; i < c->nt; i++)
		if (same_inet(&c->ts[i].rem, &rem))
			return; /* a pipe's */
	hit = c->f->n > 0 ? bsearch(&key, c->f->v, c->f->n, sizeof(*c->f->v), by_ino) : NULL;
	first = hit != NULL ? hit->first_ms : c->now_ms;
	if (c->now_ms >= first && c->now_ms - first >= c->after_ms) {
		if (shutdown(fd, SHUT_RDWR) == 0)
			c->cut++;
		return; /* (seen anew if it is still there next time) */
	}
	if (c->n == c->cap) {
		size_t ncap = c->cap > 0 ? 2 * c->cap : 64;
		struct rove_cut_sock *v = realloc(c->v, ncap * sizeof(*v));
		if (v == NULL)
			return; /* not kept: seen as new next time */
		c->v = v;
		c->cap = ncap;
	}
	c->v[c->n].ino = key.ino;
	c->v[c->n].first_ms = first;
	c->n++;
}

size_t rove_cut_setups(rove_cut_fds *f, const nng_sockaddr *lis, const uint32_t *pipes, size_t npipes,
		       uint64_t now_ms, uint64_t after_ms)
{
	target *ts = npipes > 0 ? calloc(npipes, sizeof(*ts)) : NULL;
	setups_ctx c = {f, lis, ts, 0, 0, now_ms, after_ms, NULL, 0, 0};

	if (nng_port(lis) == 0 || (npipes > 0 && ts == NULL)) {
		free(ts);
		return 0; /* (out of memory: tried again next time) */
	}
	for (size_t i = 0; i < npipes; i++)
		if (target_of(pipes[i], &ts[c.nt]))
			c.nt++;
	each_socket(f, setup_one, &c);
	free(ts);
	if (c.n > 1)
		qsort(c.v, c.n, sizeof(*c.v), by_ino);
	free(f->v);
	f->v = c.v;
	f->n = c.n;
	return c.cut;
}
