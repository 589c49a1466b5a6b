#define _GNU_SOURCE /* struct ucred, SO_PEERCRED */

#include "cut.h"

#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
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

/* Whether descriptor fd is the socket of target t. */
static bool is_target(int fd, const struct sockaddr_storage *loc, const target *t)
{
	if (loc->ss_family == AF_UNIX) {
		const struct sockaddr_un *un = (const struct sockaddr_un *)loc;
		struct ucred cred;
		socklen_t len = sizeof(cred);
		return t->loc.s_family == NNG_AF_IPC && strcmp(un->sun_path, t->loc.s_ipc.sa_path) == 0 &&
		       getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.pid > 0 &&
		       (uint64_t)cred.pid == t->pid;
	}
	if (same_inet(&t->loc, loc)) {
		struct sockaddr_storage rem;
		socklen_t len = sizeof(rem);
		return getpeername(fd, (struct sockaddr *)&rem, &len) == 0 && same_inet(&t->rem, &rem);
	}
	return false;
}

size_t rove_cut(const uint32_t *ids, size_t n)
{
	target *ts = n > 0 ? calloc(n, sizeof(*ts)) : NULL;
	size_t nt = 0, cut = 0;
	struct dirent *de;
	DIR *dir;

	if (n == 0)
		return 0;
	if (ts == NULL) {
		rove_error("out of memory cutting %zu connection(s)", n);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (target_of(ids[i], &ts[nt]))
			nt++;
	dir = nt > 0 ? opendir("/proc/self/fd") : NULL;
	if (nt > 0 && dir == NULL)
		rove_error("cannot list this process's descriptors: %s", strerror(errno));
	while (dir != NULL && (de = readdir(dir)) != NULL) {
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
		for (size_t i = 0; i < nt; i++) {
			if (is_target((int)fd, &loc, &ts[i])) {
				if (shutdown((int)fd, SHUT_RD) == 0)
					cut++;
				break;
			}
		}
	}
	if (dir != NULL)
		closedir(dir);
	free(ts);
	return cut;
}

/* ---- connections that never finish their TLS handshake ---- */

struct rove_cut_sock {
	uint64_t ino;
	uint64_t first_ms;
};

bool rove_cut_seen_open(rove_cut_seen *seen)
{
	seen->dir = opendir("/proc/self/fd");
	if (seen->dir == NULL)
		rove_error("cannot list this process's descriptors: %s; TLS handshakes that never end will not be cut",
			   strerror(errno));
	return seen->dir != NULL;
}

void rove_cut_seen_free(rove_cut_seen *seen)
{
	if (seen->dir != NULL)
		closedir(seen->dir);
	seen->dir = NULL;
	free(seen->v);
	seen->v = NULL;
	seen->n = 0;
}

static int by_ino(const void *a, const void *b)
{
	uint64_t x = ((const struct rove_cut_sock *)a)->ino, y = ((const struct rove_cut_sock *)b)->ino;

	return x < y ? -1 : x > y;
}

/* When socket ino was first seen (seen sorted by inode), or now_ms. */
static uint64_t first_seen(const rove_cut_seen *seen, uint64_t ino, uint64_t now_ms)
{
	struct rove_cut_sock key = {ino, 0}, *hit;

	hit = seen->n > 0 ? bsearch(&key, seen->v, seen->n, sizeof(*seen->v), by_ino) : NULL;
	return hit != NULL ? hit->first_ms : now_ms;
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

size_t rove_cut_setups(rove_cut_seen *seen, const nng_sockaddr *lis, const uint32_t *pipes, size_t npipes,
		       uint64_t now_ms, uint64_t after_ms)
{
	target *ts = npipes > 0 ? calloc(npipes, sizeof(*ts)) : NULL;
	struct rove_cut_sock *now = NULL;
	size_t nt = 0, nnow = 0, cap = 0, cut = 0;
	uint16_t port = nng_port(lis);
	struct dirent *de;
	DIR *dir;

	if (port == 0 || (npipes > 0 && ts == NULL)) {
		free(ts);
		return 0; /* (out of memory: tried again next time) */
	}
	for (size_t i = 0; i < npipes; i++)
		if (target_of(pipes[i], &ts[nt]))
			nt++;
	dir = seen->dir;
	if (dir == NULL) {
		free(ts);
		return 0;
	}
	rewinddir(dir); /* /proc lists the descriptors open now */
	while ((de = readdir(dir)) != NULL) {
		struct sockaddr_storage loc, rem;
		socklen_t len = sizeof(loc), rlen = sizeof(rem);
		struct stat st;
		bool pipe = false;
		uint64_t first;
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		memset(&loc, 0, sizeof(loc));
		if (*end != '\0' || fd < 0 || fd == dirfd(dir) || fstat((int)fd, &st) != 0 || !S_ISSOCK(st.st_mode) ||
		    getsockname((int)fd, (struct sockaddr *)&loc, &len) != 0 || sys_port(&loc) != port ||
		    (loc.ss_family == AF_INET) != (lis->s_family == NNG_AF_INET) ||
		    getpeername((int)fd, (struct sockaddr *)&rem, &rlen) != 0)
			continue; /* not a connection accepted on the listener */
		for (size_t i = 0; i < nt && !pipe; i++)
			pipe = same_inet(&ts[i].rem, &rem);
		if (pipe)
			continue;
		first = first_seen(seen, (uint64_t)st.st_ino, now_ms);
		if (now_ms >= first && now_ms - first >= after_ms) {
			if (shutdown((int)fd, SHUT_RDWR) == 0)
				cut++;
			continue; /* (seen anew if it is still there next time) */
		}
		if (nnow == cap) {
			size_t ncap = cap > 0 ? 2 * cap : 64;
			struct rove_cut_sock *v = realloc(now, ncap * sizeof(*v));
			if (v == NULL)
				continue; /* not kept: seen as new next time */
			now = v;
			cap = ncap;
		}
		now[nnow].ino = (uint64_t)st.st_ino;
		now[nnow].first_ms = first;
		nnow++;
	}
	free(ts);
	if (nnow > 1)
		qsort(now, nnow, sizeof(*now), by_ino);
	free(seen->v);
	seen->v = now;
	seen->n = nnow;
	return cut;
}
