/*
 * cut.h - ending connections from under nng without hanging it.
 *
 * nng 1.5.2 can hang for good when it closes a pipe itself while data is
 * still arriving on it: its transports, closed while the callback of a
 * completed read is queued, go on to start the next read on an aio that
 * close has stopped, which never completes; the reaper thread then waits
 * for it forever, and no connection is ever released again (nng fixed
 * this after 1.5.2, PR 1636: "finish receive aio on close"). A flood of
 * requests makes that window nearly certain, so roved never calls
 * nng_pipe_close on a running pipe: it shuts down the reading side of the
 * pipe's socket (shutdown(2), SHUT_RD). nng reads what was already
 * queued, meets the end of the stream, and closes the pipe itself on that
 * error, when no read is left in flight; the peer's further data is
 * discarded by the kernel. The descriptor stays nng's (it is never
 * closed here, so it cannot be reused under nng's feet).
 *
 * The socket of a pipe is found among the process's descriptors by its
 * addresses (TCP and TLS: both ends), or for ipc:// by the server's path
 * and the peer's pid (every connection of that process is cut).
 */
#ifndef ROVE_CUT_H
#define ROVE_CUT_H

#include <nng/nng.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The listing of this process's descriptors the cuts read, opened once
 * at the start (rove_cut_fds_open: at the descriptor limit, which the
 * floods that need cutting reach, no directory opens; without it each
 * cut opens one for itself), and the sockets rove_cut_setups saw, by
 * inode, with when each was first seen. Zeroed to begin, freed by
 * rove_cut_fds_free; one thread at a time. */
typedef struct rove_cut_fds {
	struct rove_cut_sock *v;
	size_t n;
	void *dir; /* DIR * of /proc/self/fd, or NULL */
} rove_cut_fds;
/* Opens the listing; false (said) if it does not open. */
bool rove_cut_fds_open(rove_cut_fds *f);
void rove_cut_fds_free(rove_cut_fds *f);

/* Cuts the connections of the pipes ids[0..n) of this process; returns
 * how many sockets were shut down (pipes already gone are skipped). */
size_t rove_cut(rove_cut_fds *f, const uint32_t *ids, size_t n);

/* For each of the pipes ids[0..n) of this process, the bytes its peer
 * has acknowledged so far (TCP and TLS: the socket's count, from the
 * kernel) into acked[i]; UINT64_MAX where that is not known (ipc://, a
 * pipe gone, out of memory). */
void rove_cut_acked(rove_cut_fds *f, const uint32_t *ids, size_t n, uint64_t *acked);

/* Shuts down (both ways) the sockets of this process accepted on the
 * listening address lis (a TCP one: its family and port) that are no
 * pipe's of pipes[0..npipes) and were first seen at least after_ms
 * before now_ms (f keeps that from one call to the next): connections
 * whose TLS handshake never ended, which nng then fails and closes.
 * Returns how many were shut down. */
size_t rove_cut_setups(rove_cut_fds *f, const nng_sockaddr *lis, const uint32_t *pipes, size_t npipes,
		       uint64_t now_ms, uint64_t after_ms);

#endif
