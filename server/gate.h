/*
 * gate.h - how much of the server one connection, and one address, may
 * hold.
 *
 * Anyone who reaches the port shares the server's contexts, memory and
 * descriptors, and nng 1.5.2 bounds none of them per connection: one
 * connection could park every context on replies it never reads, and
 * each connection may hold a half-received message of up to the message
 * limit. The gate keeps a bounded table of the open connections (nng
 * pipes, by id) with their peer address, the requests each has in flight
 * (received and not yet answered, or answered but still waiting to be
 * sent) and when each last made progress, says no to a connection or a
 * request over the caps of rove_limits.h, and says which connections to cut:
 * those marked (a client that does not read its replies) and those that
 * made no progress for the receive timeout. The caller acts on its
 * answers. Connections from this machine (ipc://,
 * 127.0.0.1, ::1: the operator's tools, tunnels and proxies) are counted
 * only in the total, never per address.
 *
 * Thread-safe: nng's pipe notifications, the contexts' callbacks and the
 * server's guard thread call it concurrently.
 */
#ifndef ROVE_GATE_H
#define ROVE_GATE_H

#include "auth.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rove_gate rove_gate;

/* A gate for at most max_pipes open connections; *out is the caller's,
 * to free with rove_gate_free. ROVE_ENOMEM. */
int rove_gate_new(rove_gate **out, uint32_t max_pipes);
void rove_gate_free(rove_gate *g);
/* The idle time after which rove_gate_to_cut gives a connection out:
 * ROVE_MAX_IDLE_MS unless set (before any connection), 1 ms to that. */
void rove_gate_set_idle(rove_gate *g, uint32_t idle_ms);

/* Connection pipe (an nng pipe id, never 0) opened from peer: ROVE_OK,
 * or ROVE_ETOOBIG when it would pass ROVE_MAX_PIPES_PER_ADDR from one
 * address other than this machine's, or max_pipes in all; it is then not
 * counted (the caller closes it). With max_pipes open, a newcomer takes
 * the place of the connection that has waited longest without ever
 * authenticating and has nothing in flight (the newcomer may be a rep;
 * the other, after all that time, is no client of ours): that one is
 * marked to be cut, its id in *evicted (else 0; evicted may be NULL), and
 * counts until it is gone, up to ROVE_MAX_EVICTING such at once.
 * Connections that authenticated are never taken for a newcomer. */
int rove_gate_open(rove_gate *g, uint32_t pipe, const rove_peer *peer, uint64_t now_ms, uint32_t *evicted);
/* A request on pipe authenticated as the user user (a hash of the
 * login, never 0): its connection is a user's, never cut to make room
 * for a newcomer. With it the user holds more than ROVE_MAX_USER_PIPES
 * connections that are not marked to be cut (or a quarter of
 * max_pipes, at least 2, if that is fewer): the one of them used least
 * recently is marked (returns true). Nothing if the connection is gone. */
bool rove_gate_authed(rove_gate *g, uint32_t pipe, uint64_t user);
/* Connection pipe is gone; what it had in flight no longer counts. An
 * unknown pipe (refused by rove_gate_open) is ignored. */
void rove_gate_close(rove_gate *g, uint32_t pipe);

/* A whole request arrived on pipe: ROVE_OK (it now counts as in flight
 * until rove_gate_done); ROVE_ENOTFOUND when the connection is gone or
 * being cut; ROVE_ETOOBIG when the connection already has
 * ROVE_MAX_PIPE_INFLIGHT requests in flight, or its address (other
 * than this machine's) ROVE_MAX_ADDR_INFLIGHT. The caller drops the
 * request unanswered unless ROVE_OK (it is not counted). */
int rove_gate_request(rove_gate *g, uint32_t pipe, uint64_t now_ms);
/* The reply to a request counted by rove_gate_request was sent or
 * dropped. Nothing if the connection is gone. */
void rove_gate_done(rove_gate *g, uint32_t pipe, uint64_t now_ms);

/* Marks pipe to be cut (its client does not read its replies); its
 * further requests are dropped. Nothing if the connection is gone. */
void rove_gate_doom(rove_gate *g, uint32_t pipe);

/* Replies in nng's hands (ROVE_MAX_QUEUED_REPLY_BYTES): a reply of
 * bytes bytes was handed to nng on pipe (rove_gate_sent), or taken back
 * (rove_gate_unsent: its send failed); nng has written bytes of pipe's
 * replies in all (rove_gate_written: its statistics, which count a reply
 * once it is written whole). Nothing if the connection is gone; what a
 * connection had queued stops counting when it closes (nng frees it).
 * rove_gate_queued: the bytes handed and not yet written, in all; an
 * estimate that is never under, as what was written is learnt late. */
void rove_gate_sent(rove_gate *g, uint32_t pipe, uint64_t bytes, uint64_t now_ms);
void rove_gate_unsent(rove_gate *g, uint32_t pipe, uint64_t bytes);
void rove_gate_written(rove_gate *g, uint32_t pipe, uint64_t bytes, uint64_t now_ms);
uint64_t rove_gate_queued(rove_gate *g);
/* The bytes queued past which the gate sheds: ROVE_MAX_QUEUED_REPLY_BYTES
 * unless set (UINT64_MAX: never, when what nng wrote cannot be known),
 * and one user's share of it (below). */
void rove_gate_set_queue_cap(rove_gate *g, uint64_t bytes);
/* Whether the replies queued are past that cap. */
bool rove_gate_over(rove_gate *g);

/* A reply handed to nng may take long to cross a slow link (attack
 * seventy-seven: a 4 MiB reply needs 30 s at 1.1 Mbit/s), and only the
 * socket knows how it goes. rove_gate_to_probe writes up to max ids of
 * connections to sample into out and returns how many: those that were
 * sent a reply and have been idle for half the idle time, or (past the
 * cap) whose replies waited half of ROVE_MAX_QUEUED_WAIT_MS, each at
 * most every half of that time. The caller gives each one's bytes
 * acknowledged by its peer so far to rove_gate_acked (UINT64_MAX: not
 * known). A sample at least ROVE_MIN_READ_BYTES_PER_S over the one
 * before is progress; less is a peer that does not read. */
size_t rove_gate_to_probe(rove_gate *g, uint64_t now_ms, uint32_t *out, size_t max);
void rove_gate_acked(rove_gate *g, uint32_t pipe, uint64_t acked, uint64_t now_ms);

/* One user's share of that cap (ROVE_USER_QUEUED_SHARE): whether the
 * replies queued on user's connections (those rove_gate_authed gave to
 * user) pass it, and whether any user's do. Past it that user's pull
 * replies are lean, and its connections whose replies wait are cut as
 * past the cap in all, so that one token's hoard slows only itself
 * (attack seventy-seven: one rep's token kept the server past the cap
 * half the time, and everyone's bootstraps lean). */
bool rove_gate_user_over(rove_gate *g, uint64_t user);
bool rove_gate_any_user_over(rove_gate *g);

/* Writes up to max ids of connections to cut now into out and returns
 * how many: those marked by rove_gate_doom, those that have nothing
 * in flight and made no progress (connected, delivered a request, had
 * a reply sent, or its peer took enough of one: rove_gate_acked) for
 * the idle time (rove_gate_set_idle), and, while the replies queued are
 * past the cap (in all, or its user's), those whose replies have waited
 * ROVE_MAX_QUEUED_WAIT_MS with none written nor enough taken. A
 * connection that was sent a reply must also have been sampled taking
 * too little of it (or could not be), else the time is twice as long.
 * Each is returned once, and again only if it is still open the idle
 * time later. */
size_t rove_gate_to_cut(rove_gate *g, uint64_t now_ms, uint32_t *out, size_t max);

/* How many open connections were first given out to be cut (by
 * rove_gate_to_cut) at least linger_ms before now_ms. A cut connection
 * ends within seconds (cut.h); one still open long after says that nng
 * stopped releasing connections. */
size_t rove_gate_lingering(rove_gate *g, uint64_t now_ms, uint64_t linger_ms);

/* Writes up to max ids of open connections first given out to be cut at
 * least after_ms before now_ms into out, each once; returns how many. */
size_t rove_gate_to_close(rove_gate *g, uint64_t now_ms, uint64_t after_ms, uint32_t *out, size_t max);

/* Writes up to max ids of the open connections into out; returns how
 * many. */
size_t rove_gate_all(rove_gate *g, uint32_t *out, size_t max);

/* Open connections now (all of them, and from peer's address). */
void rove_gate_count(rove_gate *g, const rove_peer *peer, uint32_t *all, uint32_t *from_peer);

#endif
