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
