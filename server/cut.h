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

#include <stddef.h>
#include <stdint.h>

/* Cuts the connections of the pipes ids[0..n) of this process; returns
 * how many sockets were shut down (pipes already gone are skipped). */
size_t rove_cut(const uint32_t *ids, size_t n);

#endif
