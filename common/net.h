/*
 * net.h - opening nng endpoints, plain or TLS, the same way on both sides.
 *
 * URLs are nng's: tcp://HOST:PORT, ipc:///path, and tls+tcp://HOST:PORT
 * for TLS (TLS 1.2 or later, through nng's mbedtls engine). The server
 * presents a certificate and key (PEM files); the client verifies it
 * against a CA file and the URL's host name.
 */
#ifndef ROVE_NET_H
#define ROVE_NET_H

#include <nng/nng.h>
#include <stdbool.h>
#include <stddef.h>

/* Largest PEM file read (certificate, key or CA chain). */
#define ROVE_MAX_PEM_BYTES (64u * 1024u)

bool rove_net_is_tls(const char *url);

/* Whether url is a server URL a client can dial: tcp://HOST:PORT or
 * tls+tcp://HOST:PORT (a host name, an IPv4 address or [IPv6], a port
 * 1-65535, nothing after it; not an unspecified address such as 0.0.0.0),
 * or ipc:///PATH (an absolute path that fits a Unix socket address), at
 * most ROVE_MAX_URL bytes. If not, why says what is wrong (lowercase,
 * without the URL). */
bool rove_net_url_valid(const char *url, char *why, size_t whylen);
/* The same for a URL a server listens on, where the host may also be
 * unspecified, "*" or empty (every address). */
bool rove_net_listen_url_valid(const char *url, char *why, size_t whylen);
/* Whether listening on url (tcp:// or tls+tcp://, valid) and on
 * host_port (HOST:PORT, valid) would take one port: the same port, on
 * the same host or with either host every address (unspecified, "*" or
 * empty). */
bool rove_net_same_port(const char *url, const char *host_port);

/* Checks what a TLS listener is given before it starts: cert_file must
 * be a readable PEM certificate (a chain after it is allowed), key_file a
 * readable PEM private key without a passphrase, and the key must be the
 * one of the certificate's public key. What is wrong is reported naming
 * the file(s): ROVE_OK, ROVE_EINVAL (a missing file name, a file that
 * holds no certificate or key, a key of another certificate), ROVE_EIO (a
 * file that cannot be read), ROVE_ETOOBIG or ROVE_ENOMEM. */
int rove_net_tls_files_check(const char *cert_file, const char *key_file);

/* Starts listening on url; cert_file/key_file are required for TLS and
 * ignored otherwise; the listener goes to *out unless out is NULL. An
 * ipc:// path where a server answers is refused without disturbing it.
 * Errors are logged; returns a rove error. */
int rove_net_listen(nng_socket sock, const char *url, const char *cert_file, const char *key_file,
		    nng_listener *out);

/* Whether url could be listened on now, found without listening (a
 * client that meets a listener takes the server for up): an ipc:// path
 * where a server answers, or a tcp:// or tls+tcp:// address another
 * socket holds, is refused (said, ROVE_EIO); ROVE_OK otherwise. What
 * only the listen itself meets (a directory that may not be written, a
 * name that does not resolve) is left to rove_net_listen. */
int rove_net_listen_check(const char *url);

/* Dials url, waiting until connected (the SP handshake, and TLS's, done)
 * or refused, but at most timeout_ms (0: as long as nng takes); ca_file
 * is required for TLS. Returns ROVE_EUNREACH when the server cannot be
 * reached, ROVE_ETIMEDOUT when it did not answer in time, ROVE_ETLS when
 * the TLS handshake failed on the server's certificate (reported with
 * the reason: not trusted by the CA file, or naming another host - found
 * by dialling once more without the host check) or when the URL's
 * scheme is not what the server speaks (a plain server dialled over TLS,
 * a TLS one over tcp://: reported with the URL to use), ROVE_EINVAL for a
 * bad URL or TLS setup (reported). On success the dialer goes to *out
 * unless out is NULL (nng dials it again whenever its connection ends,
 * first within ROVE_DIAL_RETRY_MS, then waiting twice as long each time
 * up to ROVE_REDIAL_MAX_MS, until it is closed). */
int rove_net_dial(nng_socket sock, const char *url, const char *ca_file, int timeout_ms, nng_dialer *out);

/* A bare byte stream to url (no SP protocol, no certificate check for
 * tls+tcp://: only to look at what answers), for probes. */
typedef struct rove_net_raw {
	nng_stream_dialer *d;
	nng_stream *conn;
	nng_aio *aio;
} rove_net_raw;

/* Connects raw to url within timeout_ms; an nng status (0: raw->conn
 * is open). rove_net_raw_close(raw) in every case. */
int rove_net_raw_open(rove_net_raw *raw, const char *url, int timeout_ms);
/* Sends (send true) or receives len bytes of buf over raw within
 * timeout_ms; an nng status, *done the bytes moved. */
int rove_net_raw_io(rove_net_raw *raw, bool send, void *buf, size_t len, int timeout_ms, size_t *done);
void rove_net_raw_close(rove_net_raw *raw);

/* The rove error for an nng status of a connection: ROVE_ETLS for a
 * failed TLS handshake (NNG_EPEERAUTH, NNG_ECRYPTO), ROVE_ETIMEDOUT,
 * else ROVE_EUNREACH (0: ROVE_OK). */
int rove_net_err(int nng_rv);

/* Why url may be unreachable, where the local system can tell: for an
 * ipc:// path, "; no socket at PATH" (no server made it), "; PATH is not
 * a socket", or "; the socket PATH is uid N's, mode M: uid U may not
 * connect to it" (attack forty-six: only "server unreachable"); else "".
 * Into buf, which it returns (or a constant ""). */
const char *rove_net_why_unreached(const char *url, char *buf, size_t len);

/* Makes message-sized buffers (up to ROVE_MAX_MSG_BYTES: pull chunks,
 * their nng messages) come from malloc's heap and be reused after they
 * are freed, instead of being mapped anew and faulted in page by page
 * for every chunk (glibc; elsewhere a no-op). Call once, early, before
 * any thread starts. */
void rove_net_tune_malloc(void);
/* The same for a client (rove): also one malloc arena for all threads,
 * so that the reply buffers nng's threads receive into are reused, not
 * kept once per thread. */
void rove_net_tune_malloc_client(void);

#endif
